//! `outpost-bench fuzz`: hostile input at scale for every wire decoder and the UIC parser, on
//! stable Rust.
//!
//! There is no coverage feedback (that needs nightly and `cargo fuzz`); the mutator knows instead
//! that the inputs are JSON. Each target starts from its committed corpus
//! (`bench/fuzz-corpus/<target>/`) and then mutates: bits flipped, byte ranges inserted, deleted
//! and duplicated, two inputs spliced, JSON tokens replaced with hostile values (huge and negative
//! numbers, `1e309`, deep nesting, long strings, invalid UTF-8, NUL, homoglyphs, nulls, wrong
//! types), and, when the input parses, one node of the parsed value changed (a key removed, added
//! or duplicated, a string cased or padded, a number pushed past its range, a subtree grafted
//! from another input). An input whose outcome has a shape not seen before in the run joins that
//! run's in-memory corpus; the committed corpus is never written.
//!
//! Every target has an oracle stronger than "did not panic" (see [`TARGETS`]): a decoded value
//! re-encodes and decodes to the same value, the typed decoder agrees with decoding through
//! `serde_json::Value`, `deny_unknown_fields` holds, the server's batch validation answers with
//! documented codes, valid operations merge and replay as `merge.rs` promises, a UIC that parses
//! re-parses the same, a built code parses with its own scheme, and so on. A panic or a broken
//! oracle is a failure: the input is written to `target/fuzz-failures/<target>/<hash>` and the
//! run exits non-zero after its summary.
//!
//! The RNG is an inline SplitMix64 (no dependency, and its sequence never changes under us),
//! seeded per target from `--seed`; the seed is printed so that a run can be replayed.
//! `--seconds 0` runs the corpus only: put a saved failure into a corpus directory to replay it.

use anyhow::{Context, Result, bail};
use outpost_core::merge::{self, Change, ChangeKind, FieldState, FieldWrite, MergeError, RecordState};
use outpost_core::records::{
    AgeBand, Client, ClientMerge, Commodity, CommodityCategory, Contact, DistributionLine, Gender, GroupTally,
    KeyGroup, KitTemplate, OverdoseOutcome, OverdoseReport, Referral, ReferralStatus, ReferralTarget, Service, Setting,
    SharpsReturn, Site, StockKind, StockMovement, SurveyResponse, TestKind, TestOutcome, TestResult,
};
use outpost_core::schema::{Collection, FieldError, MAX_FIELDS, Mutability, validate_fields};
use outpost_core::uic::{self, Script, Uic, UicComponent, UicError, UicScheme};
use outpost_core::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, Health, MAX_PUSH_OPS, MIN_PROTOCOL_VERSION, Op, OpKind, PROTOCOL_VERSION,
    PullResponse, PushRequest, PushResponse,
};
use outpost_core::{DeviceId, Hlc, SiteId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::{Debug, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Largest input the mutator hands to an oracle (a push of 1000 small operations fits).
const MAX_INPUT: usize = 512 * 1024;
/// Largest input kept in a run's in-memory corpus, so that mutation stays fast.
const MAX_KEPT_INPUT: usize = 64 * 1024;
/// Most inputs kept in a run's in-memory corpus per target.
const MAX_CORPUS: usize = 4096;
/// Inputs written per distinct failure; further occurrences are only counted.
const SAVED_PER_FAILURE: usize = 20;
/// Where failing inputs go, relative to the working directory (the repository root).
const FAILURES_DIR: &str = "target/fuzz-failures";

/// The protocol document: every error code a decoder or validator reports must be listed in it.
const PROTOCOL_DOC: &str = include_str!("../../docs/protocol.md");

/// What an oracle concluded about an input it found no fault with.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The decoder accepted the input; the text names the shape of what came out.
    Accepted(String),
    /// The decoder refused the input; the text names the kind of refusal.
    Rejected(String),
}

/// An oracle: `Err` is a fault in the code under test (or a broken promise), never a refusal.
type Oracle = fn(&[u8]) -> Result<Outcome, String>;

/// One fuzz target: a decoder, or a function of the UIC code, with its oracle.
pub struct Target {
    pub name: &'static str,
    /// What the oracle checks beyond "does not panic".
    pub checks: &'static str,
    oracle: Oracle,
}

/// Every target, in the order `--target all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "enroll_request",
        checks: "round trip, Value route agrees, deny_unknown_fields, the server's enrolment field checks",
        oracle: enroll_request,
    },
    Target {
        name: "enroll_response",
        checks: "round trip, Value route agrees; the received UIC scheme's length, questions, and build -> parse",
        oracle: enroll_response,
    },
    Target {
        name: "push_request",
        checks: "round trip, deny_unknown_fields, canonical stamps, the server's batch validation with documented \
                 codes, then create/update/delete merge, storage round trip and replay for every valid op",
        oracle: push_request,
    },
    Target {
        name: "push_response",
        checks: "round trip, Value route agrees, `clamped` omitted exactly when empty",
        oracle: push_response,
    },
    Target {
        name: "pull_response",
        checks: "round trip, the server's spliced page decodes to the same page, max_stamp, join idempotent, \
                 a pending local edit re-applied on top as the device does, validation of pulled fields",
        oracle: pull_response,
    },
    Target {
        name: "error_body",
        checks: "round trip, Value route agrees, `details` omitted exactly when empty",
        oracle: error_body,
    },
    Target { name: "health", checks: "round trip, Value route agrees", oracle: health },
    Target {
        name: "record_fields",
        checks: "validate_fields for every collection, create and update: documented codes, errors name real \
                 fields, create-valid implies update-valid and required fields present, control characters and \
                 too many fields always refused, a valid create reads as its typed record",
        oracle: record_fields,
    },
    Target {
        name: "hlc_stamp",
        checks: "only canonical text parses (prints back identically), FromStr and serde agree, text order equals \
                 stamp order",
        oracle: hlc_stamp,
    },
    Target {
        name: "uic_parse",
        checks: "every built-in scheme (and Cyrillic-keeping central_asia): a parsed code re-parses the same, has \
                 the scheme's length and only allowed characters; errors point at the right length or character",
        oracle: uic_parse,
    },
    Target {
        name: "uic_build",
        checks: "a built code parses with the same scheme and has its length; case and surrounding spaces of \
                 answers do not matter; each error names an answer that is really invalid",
        oracle: uic_build,
    },
    Target {
        name: "uic_normalise",
        checks: "Latin output is A-Z only, Cyrillic-keeping output letters only, both idempotent, equal on ASCII",
        oracle: uic_normalise,
    },
    Target {
        name: "uic_near_match",
        checks: "never matches itself, symmetric, implies distance <= 1 and the same year, one changed letter \
                 matches; edit_distance symmetric, zero only for equal codes, bounded by the lengths",
        oracle: uic_near_match,
    },
];

// ---------------------------------------------------------------------------------------------
// The command.

/// Runs `outpost-bench fuzz`.
pub fn run(target: &str, seconds: u64, seed: Option<u64>, corpus: &Path) -> Result<()> {
    let selected: Vec<&Target> = if target == "all" {
        TARGETS.iter().collect()
    } else {
        match TARGETS.iter().find(|t| t.name == target) {
            Some(t) => vec![t],
            None => {
                let list: Vec<String> = TARGETS.iter().map(|t| format!("  {}: {}", t.name, t.checks)).collect();
                bail!("unknown fuzz target {target:?}; use `all` or one of:\n{}", list.join("\n"))
            }
        }
    };
    let corpus = corpus_dir(corpus)?;
    let seed = seed.unwrap_or_else(clock_seed);
    let per_target = Duration::from_secs_f64(seconds as f64 / selected.len() as f64);
    println!(
        "outpost-bench fuzz: {} target(s), {seconds} s in all ({:.1} s each), seed {seed} (replay with --seed {seed}), corpus {}",
        selected.len(),
        per_target.as_secs_f64(),
        corpus.display()
    );
    install_panic_hook();
    let mutator = Mutator::new();
    let failures_dir = PathBuf::from(FAILURES_DIR);
    let mut reports = Vec::new();
    for t in selected {
        let seeds = load_corpus(&corpus.join(t.name))?;
        let mut rng = Rng::new(seed ^ fnv1a(t.name.as_bytes()));
        let budget = Budget { time: per_target, max_execs: u64::MAX };
        let report = fuzz_target(t.name, &t.oracle, seeds, &mutator, &mut rng, budget, &failures_dir);
        report.print();
        reports.push(report);
    }
    let executions: u64 = reports.iter().map(|r| r.executions).sum();
    let failures: u64 = reports.iter().map(|r| r.failure_count).sum();
    if failures > 0 {
        println!("failures:");
        for report in reports.iter().filter(|r| r.failure_count > 0) {
            for kind in &report.failures {
                println!("  {} x{}: {}", report.name, kind.count, kind.first_message);
                for path in &kind.saved {
                    println!("    {}", path.display());
                }
                if kind.count > kind.saved.len() as u64 {
                    println!("    ({} more inputs not written)", kind.count - kind.saved.len() as u64);
                }
            }
        }
    }
    println!("fuzz: {executions} executions, {failures} failures");
    if failures > 0 {
        bail!("{failures} fuzz failures; the inputs are under {FAILURES_DIR}/");
    }
    Ok(())
}

fn clock_seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    // Folded and mixed so that two runs a few nanoseconds apart still differ in every bit.
    SplitMix(nanos as u64 ^ (nanos >> 64) as u64).next()
}

/// The corpus directory: as given, or, for the default relative path run from elsewhere, the one
/// next to this crate's manifest.
fn corpus_dir(given: &Path) -> Result<PathBuf> {
    if given.is_dir() {
        return Ok(given.to_path_buf());
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus");
    if given == Path::new("bench/fuzz-corpus") && beside.is_dir() {
        return Ok(beside);
    }
    bail!("no corpus directory at {} (run from the repository root or pass --corpus)", given.display())
}

/// The files of one target's corpus, in name order.
fn load_corpus(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the corpus {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    paths.sort();
    let inputs = paths
        .iter()
        .map(|p| std::fs::read(p).with_context(|| format!("reading {}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    if inputs.is_empty() {
        bail!("the corpus {} is empty", dir.display());
    }
    Ok(inputs)
}

// ---------------------------------------------------------------------------------------------
// The harness.

/// How long a target is fuzzed after its corpus ran: whichever limit comes first.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub time: Duration,
    pub max_execs: u64,
}

/// One kind of failure of one target (same message up to its first colon).
#[derive(Debug)]
pub struct FailureKind {
    pub signature: String,
    pub first_message: String,
    pub count: u64,
    pub saved: Vec<PathBuf>,
}

/// What fuzzing one target found.
#[derive(Debug)]
pub struct TargetReport {
    pub name: String,
    pub executions: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub failure_count: u64,
    pub failures: Vec<FailureKind>,
    pub corpus_start: usize,
    pub corpus_end: usize,
    pub shapes: usize,
    pub elapsed: Duration,
}

impl TargetReport {
    fn print(&self) {
        let rate = self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9);
        println!(
            "  {:<16} {:>9} execs {:>8.0} exec/s  ok {:>8}  rejected {:>8}  failures {:>3}  shapes {:>4}  corpus {} -> {}",
            self.name,
            self.executions,
            rate,
            self.accepted,
            self.rejected,
            self.failure_count,
            self.shapes,
            self.corpus_start,
            self.corpus_end
        );
    }

    fn record_failure(&mut self, message: String, input: &[u8], failures_dir: &Path) {
        self.failure_count += 1;
        let signature = failure_signature(&message);
        let index = match self.failures.iter().position(|k| k.signature == signature) {
            Some(i) => i,
            None => {
                self.failures.push(FailureKind {
                    signature,
                    first_message: clip_text(&message, 600),
                    count: 0,
                    saved: Vec::new(),
                });
                self.failures.len() - 1
            }
        };
        let Some(kind) = self.failures.get_mut(index) else { return };
        kind.count += 1;
        if kind.saved.len() < SAVED_PER_FAILURE {
            let dir = failures_dir.join(&self.name);
            let path = dir.join(format!("{:016x}", fnv1a(input)));
            match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input)) {
                Ok(()) => kind.saved.push(path),
                Err(e) => eprintln!("could not save a failing input to {}: {e}", path.display()),
            }
        }
    }
}

/// Failures with the same text up to the first colon are one kind (panics: the whole first line).
fn failure_signature(message: &str) -> String {
    let first_line = message.lines().next().unwrap_or("");
    if first_line.starts_with("panic") {
        clip_text(first_line, 160)
    } else {
        first_line.split(':').next().unwrap_or("").to_string()
    }
}

thread_local! {
    /// Set while an oracle runs on this thread: its panics are recorded, not printed.
    static IN_ORACLE: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records panics inside oracles with their location and
/// leaves every other panic to the previous hook.
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_ORACLE.with(Cell::get) {
                let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                let text = format!("{}{location}", payload_text(info.payload()));
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_string(),
    }
}

/// Runs an oracle on one input; a panic becomes an `Err` naming it.
pub fn execute(oracle: &dyn Fn(&[u8]) -> Result<Outcome, String>, input: &[u8]) -> Result<Outcome, String> {
    IN_ORACLE.with(|f| f.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| oracle(input)));
    IN_ORACLE.with(|f| f.set(false));
    match result {
        Ok(outcome) => outcome,
        Err(payload) => {
            let text = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| payload_text(&*payload));
            Err(format!("panic: {text}"))
        }
    }
}

/// Runs the corpus, then mutated inputs until the budget is spent.
pub fn fuzz_target(
    name: &str,
    oracle: &dyn Fn(&[u8]) -> Result<Outcome, String>,
    seeds: Vec<Vec<u8>>,
    mutator: &Mutator,
    rng: &mut Rng,
    budget: Budget,
    failures_dir: &Path,
) -> TargetReport {
    install_panic_hook();
    let started = Instant::now();
    let mut report = TargetReport {
        name: name.to_string(),
        executions: 0,
        accepted: 0,
        rejected: 0,
        failure_count: 0,
        failures: Vec::new(),
        corpus_start: seeds.len(),
        corpus_end: 0,
        shapes: 0,
        elapsed: Duration::ZERO,
    };
    let mut shapes: HashSet<String> = HashSet::new();
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut judge = |input: Vec<u8>, seed: bool, report: &mut TargetReport, corpus: &mut Vec<Vec<u8>>| {
        report.executions += 1;
        let shape = match execute(oracle, &input) {
            Ok(Outcome::Accepted(shape)) => {
                report.accepted += 1;
                format!("ok {shape}")
            }
            Ok(Outcome::Rejected(shape)) => {
                report.rejected += 1;
                format!("rejected {shape}")
            }
            Err(message) => {
                report.record_failure(message, &input, failures_dir);
                // A failing seed still seeds mutation; a failing mutant does not breed.
                if seed {
                    corpus.push(input);
                }
                return;
            }
        };
        let new_shape = shapes.insert(shape);
        if seed || (new_shape && input.len() <= MAX_KEPT_INPUT && corpus.len() < MAX_CORPUS) {
            corpus.push(input);
        }
    };
    for input in seeds {
        judge(input, true, &mut report, &mut corpus);
    }
    let deadline = Instant::now() + budget.time;
    let mut mutated = 0u64;
    while !corpus.is_empty() && mutated < budget.max_execs && Instant::now() < deadline {
        let input = mutator.mutate(rng, &corpus);
        judge(input, false, &mut report, &mut corpus);
        mutated += 1;
    }
    report.corpus_end = corpus.len();
    report.shapes = shapes.len();
    report.elapsed = started.elapsed();
    report
}

// ---------------------------------------------------------------------------------------------
// Randomness and mutation.

/// SplitMix64: small, fast, and the same sequence on every platform and version.
#[derive(Clone, Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The deterministic RNG of a fuzz run.
#[derive(Clone, Debug)]
pub struct Rng(SplitMix);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(SplitMix(seed))
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next()
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True once in `n` times.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        self.pick(items).copied().unwrap_or("")
    }

    /// A length biased towards small values: 1 to `max`.
    fn small_len(&mut self, max: usize) -> usize {
        let cap = max.clamp(1, 1 << self.below(13));
        1 + self.below(cap)
    }

    /// A finite double from random bits.
    fn finite_f64(&mut self) -> f64 {
        for _ in 0..8 {
            let f = f64::from_bits(self.next_u64());
            if f.is_finite() {
                return f;
            }
        }
        0.1
    }
}

/// Values chosen to break decoders: limits of every integer type, floats that do not fit or do
/// not round-trip naively, strings with NUL, control and bidirectional characters, homoglyphs of
/// a valid code, non-canonical UUIDs and stamps, impossible dates, odd structures.
const INTERESTING_JSON: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "-0.0",
    "1e2",
    "1E400",
    "1e309",
    "-1e309",
    "1e308",
    "2.5e-308",
    "4.9406564584124654e-324",
    "5e-324",
    "0.30000000000000004",
    "1.7976931348623157e308",
    "123456789012345678901234567890",
    "255",
    "256",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "\"\"",
    "\" \"",
    "\"\\u0000\"",
    "\"a\\u0000b\"",
    "\"\\u0007\"",
    "\"\\u001b[31m\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\ud83d\\ude00\"",
    "\"\\n\"",
    "\"\\t\"",
    "\"\\u2028\"",
    "\"\\u202e\"",
    "\"\\u200b\"",
    "\"\\ufeff\"",
    "\"MAIV287\"",
    "\"maiv287\"",
    "\"МАIV287\"",
    "\"ΜΑΙV287\"",
    "\"ＭＡＩＶ２８７\"",
    "\"MAIV2٨7\"",
    "\"XXXXXXX\"",
    "\"0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b\"",
    "\"0192F1A2-7C3D-7E4F-8A5B-6C7D8E9F0A1B\"",
    "\"{0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b}\"",
    "\"urn:uuid:0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b\"",
    "\"0192f1a27c3d7e4f8a5b6c7d8e9f0a1b\"",
    "\"00000000-0000-0000-0000-000000000000\"",
    "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"",
    "\"001764064800000-00000-0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b\"",
    "\"253402300799999-65535-ffffffff-ffff-ffff-ffff-ffffffffffff\"",
    "\"253402300800000-00000-0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b\"",
    "\"999999999999999-99999-0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b\"",
    "\"000000000000000-00000-00000000-0000-0000-0000-000000000000\"",
    "\"2026-11-25T10:00:00Z\"",
    "\"2026-11-25T10:00:00+14:00\"",
    "\"2026-11-25T10:00:00.999999999-23:59\"",
    "\"2026-12-31T23:59:60Z\"",
    "\"1999-12-31T23:59:59Z\"",
    "\"2100-12-31T23:59:59Z\"",
    "\"2101-01-01T00:00:00Z\"",
    "\"2026-02-30T10:00:00Z\"",
    "\"2026-11-25\"",
    "\"2028-02-29\"",
    "\"2027-02-29\"",
    "\"+2026-11-25\"",
    "\"-0001-01-01\"",
    "[]",
    "{}",
    "[null]",
    "[1,2,3]",
    "{\"\":null}",
    "{\"a\":{\"b\":{\"c\":[]}}}",
    "[\"kit\",\"kit\"]",
    "{\"gender\":\"man\",\"age_band\":\"20_24\",\"count\":1}",
    "{\"commodity\":\"syringe_1ml\",\"quantity\":1}",
    "{\"kind\":\"letters\",\"question\":\"mother_first_name\",\"count\":255}",
    "{\"kind\":\"birth_year\",\"question\":\"birth_year\",\"digits\":3}",
];

/// Raw bytes spliced into the text: invalid UTF-8 (a lone continuation byte, an overlong NUL, an
/// encoded surrogate, a code point past U+10FFFF), a NUL byte, a byte-order mark, and bits of
/// JSON syntax that unbalance the text.
const RAW_SNIPPETS: &[&[u8]] = &[
    b"\xff",
    b"\x80",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\\",
    b"\"",
    b"\\u",
    b"\\ud800",
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b" \t\r\n",
    b"/*",
    b"NaN",
    b"Infinity",
    b"-",
    b"e",
    b".",
];

/// Single characters that stress text handling: controls, invisible and bidirectional marks,
/// combining accents, letters without a decomposition, homoglyphs, astral characters.
const SPECIAL_CHARS: &[char] = &[
    '\u{0}', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{200b}', '\u{202e}', '\u{feff}',
    '\u{301}', '\u{308}', '\n', '\t', '"', '\\', 'Ω', 'Ø', 'Ł', 'ß', 'ẞ', 'İ', 'ı', 'ǅ', 'Ё', 'й', 'Ъ', 'Ә', 'Ԁ', 'ﬁ',
    'Ⅻ', '𝐀', '😀', '\u{fffd}', '٣', '७', 'Ａ', 'ª', 'ΐ',
];

/// ASCII letters and digits (first string) and their lookalikes from other scripts (second
/// string, same position): Cyrillic, Greek, and a letter for a digit.
const HOMOGLYPHS: (&str, &str) = ("ABCEHIKMOPTXYaceopxy10", "АВСЕНІКМОРТХΥасеорхуlO");

/// Keys of every wire message and names of UIC components and scripts, used to add plausible
/// keys and values to objects (collections, field names and enum values are added from the core).
const WIRE_KEYS: &str = "code device_name app_version protocol device_id token org_id org_name sites id name \
    uic_scheme components kind question count digits script server_time_ms ops op_seq collection record_id site_id \
    stamp fields bases acked clamped records seq state v t deleted next_cursor has_more remaining message details \
    index field status version create update delete letters sex_digit birth_year birth_day latin keep_cyrillic";

/// Key names a careless decoder might treat specially.
const ODD_KEYS: &[&str] = &["", "Bad-Name", "__proto__", "uic ", "*"];

/// Marks the object that gets a duplicate key: serde_json's `Value` cannot hold one, so the
/// object is written by hand in place of this string after encoding.
const DUPLICATE_MARKER: &str = "\u{1}outpost-fuzz-duplicate-key\u{1}";
const DUPLICATE_MARKER_JSON: &str = "\"\\u0001outpost-fuzz-duplicate-key\\u0001\"";

/// The mutation engine.
pub struct Mutator {
    /// Names worth putting into inputs: wire keys, collections, field names, enum values.
    names: Vec<String>,
}

impl Default for Mutator {
    fn default() -> Self {
        Self::new()
    }
}

impl Mutator {
    pub fn new() -> Self {
        let mut names: Vec<String> =
            WIRE_KEYS.split_whitespace().chain(ODD_KEYS.iter().copied()).map(String::from).collect();
        for collection in Collection::ALL {
            names.push(collection.name().to_string());
            names.extend(collection.fields().iter().map(|spec| spec.name.to_string()));
        }
        let lists: [&[&str]; 12] = [
            Gender::ALL,
            KeyGroup::ALL,
            Setting::ALL,
            Service::ALL,
            ReferralTarget::ALL,
            ReferralStatus::ALL,
            TestKind::ALL,
            TestOutcome::ALL,
            OverdoseOutcome::ALL,
            AgeBand::ALL,
            StockKind::ALL,
            CommodityCategory::ALL,
        ];
        for list in lists {
            names.extend(list.iter().map(|s| s.to_string()));
        }
        names.push("x".repeat(65));
        names.sort();
        names.dedup();
        Self { names }
    }

    /// A mutant of a random corpus input: one to four stacked mutations.
    pub fn mutate(&self, rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
        let mut data = rng.pick(corpus).cloned().unwrap_or_default();
        for _ in 0..1 + rng.below(4) {
            self.mutate_once(rng, &mut data, corpus);
            data.truncate(MAX_INPUT);
        }
        data
    }

    fn mutate_once(&self, rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        match rng.below(14) {
            0 => {
                if !data.is_empty() {
                    let i = rng.below(data.len());
                    if let Some(b) = data.get_mut(i) {
                        *b ^= 1 << rng.below(8);
                    }
                }
            }
            1 => {
                if !data.is_empty() {
                    let i = rng.below(data.len());
                    let byte = *rng.pick(b"\x00\xff\x7f\x80\"\\{}[],:0-9eE.+ nt").unwrap_or(&0);
                    if let Some(b) = data.get_mut(i) {
                        *b = byte;
                    }
                }
            }
            2 => {
                let at = rng.below(data.len() + 1);
                let bytes: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next_u64() as u8).collect();
                data.splice(at..at, bytes);
            }
            3 => {
                if !data.is_empty() {
                    let start = rng.below(data.len());
                    let end = (start + rng.small_len(data.len() - start)).min(data.len());
                    data.drain(start..end);
                }
            }
            4 => {
                if !data.is_empty() {
                    let start = rng.below(data.len());
                    let end = (start + rng.small_len(data.len() - start)).min(data.len());
                    let copy: Vec<u8> = data.get(start..end).map(<[u8]>::to_vec).unwrap_or_default();
                    let at = rng.below(data.len() + 1);
                    data.splice(at..at, copy);
                }
            }
            5 => {
                let other = rng.pick(corpus).cloned().unwrap_or_default();
                let cut = rng.below(data.len() + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(other.get(from..).unwrap_or_default());
            }
            6 | 7 => self.replace_token(rng, data),
            8 => {
                // Raw bytes (often invalid UTF-8) inside a string literal.
                let strings: Vec<(usize, usize)> =
                    json_tokens(data).into_iter().filter(|(s, _)| data.get(*s) == Some(&b'"')).collect();
                let snippet = rng.pick(RAW_SNIPPETS).copied().unwrap_or_default();
                let at = match rng.pick(&strings) {
                    Some(&(start, end)) if end > start + 1 => start + 1 + rng.below(end - start - 1),
                    _ => rng.below(data.len() + 1),
                };
                data.splice(at..at, snippet.iter().copied());
            }
            9 => {
                let at = rng.below(data.len() + 1);
                let text = if rng.one_in(2) {
                    rng.pick(RAW_SNIPPETS).map(|s| s.to_vec()).unwrap_or_default()
                } else {
                    self.interesting_text(rng).into_bytes()
                };
                data.splice(at..at, text);
            }
            _ => {
                if !self.mutate_structure(rng, data, corpus) {
                    self.replace_token(rng, data);
                }
            }
        }
    }

    /// Replaces one JSON token (string, number, literal) with an interesting value.
    fn replace_token(&self, rng: &mut Rng, data: &mut Vec<u8>) {
        let tokens = json_tokens(data);
        let replacement = self.interesting_text(rng).into_bytes();
        match rng.pick(&tokens) {
            Some(&(start, end)) => {
                data.splice(start..end, replacement);
            }
            None => {
                let at = rng.below(data.len() + 1);
                data.splice(at..at, replacement);
            }
        }
    }

    /// A hostile JSON text: mostly from the fixed list, else generated.
    fn interesting_text(&self, rng: &mut Rng) -> String {
        match rng.below(10) {
            0..=4 => rng.pick_str(INTERESTING_JSON).to_string(),
            5 => match rng.below(5) {
                0 => rng.next_u64().to_string(),
                1 => (rng.next_u64() as i64).to_string(),
                2 => serde_json::to_string(&rng.finite_f64()).unwrap_or_else(|_| "0.1".into()),
                3 => (rng.below(70_000) as i64 - 100).to_string(),
                _ => format!("{}e{}", rng.below(1000), rng.below(700) as i64 - 350),
            },
            6 => {
                let unit = rng.pick_str(&["x", "Я", "é", "\\u0000", "MAIV287", "\\\"", "0", " "]);
                format!("\"{}\"", unit.repeat(1 << rng.below(15)))
            }
            7 => {
                let depth = 1 << rng.below(12);
                let (open, close) = if rng.one_in(2) { ("[", "]") } else { ("{\"a\":", "}") };
                let closing = if rng.one_in(3) { String::new() } else { close.repeat(depth) };
                format!("{}null{closing}", open.repeat(depth))
            }
            _ => {
                let name = rng.pick(&self.names).cloned().unwrap_or_default();
                serde_json::to_string(&name).unwrap_or_default()
            }
        }
    }

    fn interesting_value(&self, rng: &mut Rng) -> Value {
        let text = self.interesting_text(rng);
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    /// Parses the input and changes one node of it; false when the input is not JSON.
    fn mutate_structure(&self, rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>]) -> bool {
        let Ok(mut root) = serde_json::from_slice::<Value>(data) else { return false };
        // Now and then a subtree of another input replaces the chosen node.
        let graft = if rng.one_in(6) {
            rng.pick(corpus).and_then(|other| serde_json::from_slice::<Value>(other).ok()).and_then(|mut other| {
                let mut index = rng.below(count_nodes(&other));
                nth_node(&mut other, &mut index).map(std::mem::take)
            })
        } else {
            None
        };
        let mut index = rng.below(count_nodes(&root));
        let mut duplicate = None;
        if let Some(node) = nth_node(&mut root, &mut index) {
            match graft {
                Some(subtree) => *node = subtree,
                None => self.mutate_node(rng, node, &mut duplicate),
            }
        }
        let Ok(mut text) = serde_json::to_string(&root) else { return false };
        if let Some(object) = duplicate {
            text = text.replacen(DUPLICATE_MARKER_JSON, &object, 1);
        }
        *data = text.into_bytes();
        true
    }

    fn mutate_node(&self, rng: &mut Rng, node: &mut Value, duplicate: &mut Option<String>) {
        match rng.below(11) {
            0 | 1 => *node = self.interesting_value(rng),
            // Null is what a device sends to clear a field: worth more than its share.
            10 => *node = Value::Null,
            2 => {
                let depth = 1 + if rng.one_in(8) { rng.below(200) } else { rng.below(3) };
                for _ in 0..depth {
                    let inner = std::mem::take(node);
                    *node = if rng.one_in(2) { Value::Array(vec![inner]) } else { json!({ "a": inner }) };
                }
            }
            _ => match node {
                Value::String(s) => *s = self.mutate_string(rng, s),
                Value::Number(n) => *node = mutate_number(rng, n),
                Value::Bool(b) => {
                    *node = match rng.below(3) {
                        0 => Value::Bool(!*b),
                        1 => Value::String(b.to_string()),
                        _ => json!(u8::from(*b)),
                    }
                }
                Value::Null => *node = self.interesting_value(rng),
                Value::Array(items) => self.mutate_array(rng, items),
                Value::Object(map) => *duplicate = self.mutate_object(rng, map),
            },
        }
        // The object that gets a duplicate key is written by hand later, in place of the marker.
        if duplicate.is_some() {
            *node = Value::String(DUPLICATE_MARKER.to_string());
        }
    }

    fn mutate_string(&self, rng: &mut Rng, s: &str) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        match rng.below(11) {
            0 => return s.to_uppercase(),
            1 => return s.to_lowercase(),
            2 => chars.truncate(rng.below(chars.len() + 1)),
            3 => {
                let at = rng.below(chars.len() + 1);
                let c = rng.pick(SPECIAL_CHARS).copied().unwrap_or('\u{0}');
                chars.insert(at, c);
            }
            4 => {
                let target = 1 << rng.below(15);
                if chars.is_empty() {
                    chars.push('x');
                }
                let unit = chars.clone();
                while chars.len() < target {
                    chars.extend_from_slice(&unit);
                }
            }
            5 => return rng.pick(&self.names).cloned().unwrap_or_default(),
            6 => {
                // One letter swapped for a lookalike from another script.
                let lookalike = |c: char| HOMOGLYPHS.0.chars().zip(HOMOGLYPHS.1.chars()).find(|(a, _)| *a == c);
                let positions: Vec<usize> =
                    chars.iter().enumerate().filter(|(_, c)| lookalike(**c).is_some()).map(|(i, _)| i).collect();
                if let Some(&i) = rng.pick(&positions) {
                    if let Some(c) = chars.get_mut(i) {
                        if let Some((_, other)) = lookalike(*c) {
                            *c = other;
                        }
                    }
                }
            }
            7 => return format!("{}{s}{}", rng.pick_str(&[" ", "\t", "\u{a0}", ""]), rng.pick_str(&[" ", "\n", ""])),
            8 => return String::new(),
            9 => {
                let digits: Vec<usize> =
                    chars.iter().enumerate().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
                if let Some(&i) = rng.pick(&digits) {
                    if let Some(c) = chars.get_mut(i) {
                        *c = char::from(b'0' + rng.below(10) as u8);
                    }
                }
            }
            _ => {
                if !chars.is_empty() {
                    let i = rng.below(chars.len());
                    if let Some(c) = chars.get_mut(i) {
                        *c = if c.is_uppercase() {
                            c.to_lowercase().next().unwrap_or(*c)
                        } else {
                            c.to_uppercase().next().unwrap_or(*c)
                        };
                    }
                }
            }
        }
        chars.into_iter().collect()
    }

    fn mutate_array(&self, rng: &mut Rng, items: &mut Vec<Value>) {
        match rng.below(8) {
            0 if !items.is_empty() => {
                items.remove(rng.below(items.len()));
            }
            1 if !items.is_empty() => {
                let i = rng.below(items.len());
                if let Some(item) = items.get(i).cloned() {
                    items.insert(rng.below(items.len() + 1), item);
                }
            }
            2 => items.clear(),
            3 if items.len() > 1 => {
                let (a, b) = (rng.below(items.len()), rng.below(items.len()));
                items.swap(a, b);
            }
            4 if !items.is_empty() => {
                // Past the limits: tally cells (64), survey lists (50), items, pushes (1000).
                let target = rng.pick(&[51usize, 65, 101, 1001, 1100]).copied().unwrap_or(65);
                let first = items.first().cloned().unwrap_or(Value::Null);
                while items.len() < target {
                    items.push(first.clone());
                }
            }
            _ => {
                let value = self.interesting_value(rng);
                items.insert(rng.below(items.len() + 1), value);
            }
        }
    }

    /// Changes an object; returns its text with a key repeated when that is the change chosen.
    fn mutate_object(&self, rng: &mut Rng, map: &mut Map<String, Value>) -> Option<String> {
        let keys: Vec<String> = map.keys().cloned().collect();
        match rng.below(7) {
            0 if !keys.is_empty() => {
                if let Some(key) = rng.pick(&keys) {
                    map.remove(key);
                }
            }
            1 if !keys.is_empty() => {
                if let Some(key) = rng.pick(&keys) {
                    if let Some(value) = map.remove(key) {
                        map.insert(self.mutate_string(rng, key), value);
                    }
                }
            }
            2 if !keys.is_empty() => {
                if let Some(key) = rng.pick(&keys) {
                    map.insert(key.clone(), Value::Null);
                }
            }
            3 if !keys.is_empty() => {
                // The same key twice, with the same or another value, at a random place.
                let key = rng.pick(&keys).cloned()?;
                let value = if rng.one_in(2) {
                    map.get(&key).cloned().unwrap_or(Value::Null)
                } else {
                    self.interesting_value(rng)
                };
                let mut members: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{}:{}", json_text(&Value::String(k.clone())), json_text(v)))
                    .collect();
                let extra = format!("{}:{}", json_text(&Value::String(key)), json_text(&value));
                members.insert(rng.below(members.len() + 1), extra);
                return Some(format!("{{{}}}", members.join(",")));
            }
            4 => map.clear(),
            _ => {
                let mut key = rng.pick(&self.names).cloned().unwrap_or_default();
                if rng.one_in(4) {
                    key = self.mutate_string(rng, &key);
                }
                map.insert(key, self.interesting_value(rng));
            }
        }
        None
    }
}

fn mutate_number(rng: &mut Rng, n: &serde_json::Number) -> Value {
    let i = n.as_i64().unwrap_or(0);
    match rng.below(10) {
        0 => json!(i.wrapping_add(1)),
        1 => json!(i.wrapping_sub(1)),
        2 => json!(i.wrapping_neg()),
        3 => json!(i.wrapping_mul(1000)),
        4 => json!(rng.next_u64()),
        5 => json!(rng.finite_f64()),
        6 => json!(n.as_f64().unwrap_or(0.0) + 0.5),
        7 => json!(n.to_string()),
        _ => {
            let limits: [Value; 15] = [
                json!(0),
                json!(-1),
                json!(255),
                json!(256),
                json!(u16::MAX),
                json!(u32::from(u16::MAX) + 1),
                json!(u32::MAX),
                json!(u64::from(u32::MAX) + 1),
                json!(i64::MAX),
                json!(i64::MAX as u64 + 1),
                json!(u64::MAX),
                json!(i64::MIN),
                json!(9_007_199_254_740_993u64),
                json!(1e300),
                json!(0.1),
            ];
            rng.pick(&limits).cloned().unwrap_or(Value::Null)
        }
    }
}

fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`-th node in depth-first order (0 is the root).
fn nth_node<'a>(value: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
    if *n == 0 {
        return Some(value);
    }
    *n -= 1;
    match value {
        Value::Array(items) => {
            for item in items {
                if let Some(found) = nth_node(item, n) {
                    return Some(found);
                }
            }
            None
        }
        Value::Object(map) => {
            for (_, item) in map.iter_mut() {
                if let Some(found) = nth_node(item, n) {
                    return Some(found);
                }
            }
            None
        }
        _ => None,
    }
}

/// Byte ranges of the JSON tokens in `data`: string literals (with their quotes), numbers and
/// the literals `true`, `false`, `null`. Tolerates broken input: it only has to be useful.
fn json_tokens(data: &[u8]) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        let start = i;
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = data.get(i) {
                    if c == b'"' {
                        break;
                    }
                    i += if c == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(data.len());
                tokens.push((start, i));
            }
            b'-' | b'0'..=b'9' => {
                while data.get(i).is_some_and(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    i += 1;
                }
                tokens.push((start, i));
            }
            b't' | b'f' | b'n' => {
                while data.get(i).is_some_and(u8::is_ascii_alphabetic) {
                    i += 1;
                }
                tokens.push((start, i));
            }
            _ => i += 1,
        }
    }
    tokens
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

/// FNV-1a: names failing inputs and separates the per-target RNG streams.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

// ---------------------------------------------------------------------------------------------
// Oracle helpers.

fn clip_text(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// An input as it can be shown in a message.
fn show(input: &[u8]) -> String {
    format!("{:?}", clip_text(&String::from_utf8_lossy(input), 300))
}

fn show_debug<T: Debug>(value: &T) -> String {
    clip_text(&format!("{value:?}"), 300)
}

/// The kind of a decoder's refusal, without the parts that vary with the input.
fn rejection(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or("");
    let keep_name = text.starts_with("missing field") || text.starts_with("duplicate field");
    let kind: String = if keep_name {
        text.to_string()
    } else {
        text.chars().take_while(|c| !matches!(c, '`' | '"' | ',' | '0'..='9')).collect()
    };
    format!("{:?}: {}", e.classify(), clip_text(kind.trim(), 80))
}

/// The first place where two values differ, as `path: a became b`.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}.{k}: disappeared")),
                }
            }
            y.keys().find(|k| !x.contains_key(*k)).map(|k| format!("{path}.{k}: appeared"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!(
            "{}: {} became {}",
            if path.is_empty() { "$" } else { path },
            clip_text(&a.to_string(), 120),
            clip_text(&b.to_string(), 120)
        )),
    }
}

fn difference<T: Serialize>(a: &T, b: &T) -> String {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(x), Ok(y)) => first_difference(&x, &y, "").unwrap_or_else(|| "no visible difference".into()),
        _ => "values that do not encode".into(),
    }
}

/// Whether a message type refuses keys it does not know (`deny_unknown_fields`) or skips them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnknownKeys {
    Refused,
    Skipped,
}

/// Refusals of the `Value` decoder that a typed decoder skipping unknown keys does not make:
/// serde_json skips an unknown key's value without checking its UTF-8, surrogate pairs, depth or
/// number range (`Deserializer::ignore_value`). Harmless: the skipped content is never used.
const UNCHECKED_WHEN_SKIPPED: &[&str] = &[
    "invalid unicode code point",
    "lone leading surrogate in hex escape",
    "unexpected end of hex escape",
    "recursion limit exceeded",
    "number out of range",
];

/// Decodes as the server and the device do (`serde_json::from_slice`), then demands: the value
/// re-encodes, the encoding decodes to an equal value and re-encodes identically, and decoding
/// through `serde_json::Value` (as the frozen-fixture test does) accepts it with the same result
/// (for a type that skips unknown keys, unless the refusal is about content it skipped; the
/// `Value` returned is then null). `Ok(Err(kind))` is a refusal; `Err` a fault.
fn wire<T>(input: &[u8], unknown: UnknownKeys) -> Result<Result<(T, Value), String>, String>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let decoded: T = match serde_json::from_slice(input) {
        Ok(v) => v,
        Err(e) => return Ok(Err(rejection(&e))),
    };
    let encoded = serde_json::to_vec(&decoded).map_err(|e| format!("a decoded value does not encode: {e}"))?;
    let again: T = serde_json::from_slice(&encoded).map_err(|e| {
        format!("a re-encoded value does not decode: {e}; input {}, encoded {}", show(input), show(&encoded))
    })?;
    if again != decoded {
        return Err(format!(
            "a round trip changed the value: at {}; input {}",
            difference(&decoded, &again),
            show(input)
        ));
    }
    let encoded_again = serde_json::to_vec(&again).map_err(|e| format!("a decoded value does not encode: {e}"))?;
    if encoded_again != encoded {
        return Err(format!("the encoding is not stable: {} then {}", show(&encoded), show(&encoded_again)));
    }
    let value: Value = match serde_json::from_slice(input) {
        Ok(value) => value,
        Err(e)
            if unknown == UnknownKeys::Skipped
                && UNCHECKED_WHEN_SKIPPED.iter().any(|m| e.to_string().starts_with(m)) =>
        {
            return Ok(Ok((decoded, Value::Null)));
        }
        Err(e) => {
            return Err(format!(
                "decoders disagree: the typed decoder accepts what the Value decoder refuses ({e}); input {}",
                show(input)
            ));
        }
    };
    let via_value: T = serde_json::from_value(value.clone()).map_err(|e| {
        format!(
            "decoders disagree: decoding through Value refuses what from_slice accepts ({e}); input {}",
            show(input)
        )
    })?;
    if via_value != decoded {
        return Err(format!(
            "decoders disagree: decoding through Value gives another value at {}; input {}",
            difference(&decoded, &via_value),
            show(input)
        ));
    }
    Ok(Ok((decoded, value)))
}

/// `deny_unknown_fields` holds: an accepted object carries only the listed keys.
fn only_keys(value: &Value, allowed: &[&str], what: &str) -> Result<(), String> {
    match value.as_object().and_then(|m| m.keys().find(|k| !allowed.contains(&k.as_str()))) {
        Some(key) => Err(format!("deny_unknown_fields does not hold: {what} accepted the unknown key {key:?}")),
        None => Ok(()),
    }
}

fn documented(code: &str) -> bool {
    PROTOCOL_DOC.contains(&format!("`{code}`"))
}

fn fixture_device() -> DeviceId {
    DeviceId(uuid::Uuid::from_u128(0x0192f1a27c3d7e4f8a5b6c7d8e9f0a1b))
}

fn fixture_site() -> SiteId {
    SiteId(uuid::Uuid::from_u128(0x0192f1a011117abc9def000000000001))
}

/// The schemes a code is checked against: the built-in ones, and the default one keeping
/// Cyrillic (a supported configuration a server may send).
fn schemes() -> [UicScheme; 4] {
    let keep = UicScheme {
        name: "central_asia_keep_cyrillic".into(),
        script: Script::KeepCyrillic,
        ..UicScheme::central_asia()
    };
    [UicScheme::central_asia(), UicScheme::surname_day_year(), UicScheme::gender_letters_year(), keep]
}

fn component_len(component: &UicComponent) -> usize {
    match component {
        UicComponent::Letters { count, .. } => usize::from(*count),
        UicComponent::SexDigit { .. } => 1,
        UicComponent::BirthYear { digits, .. } => usize::from(*digits),
        UicComponent::BirthDay { .. } => 2,
    }
}

/// The documented character classes of a code, stated independently of `uic.rs`.
fn allowed_in_code(component: &UicComponent, c: char, script: Script) -> bool {
    match component {
        UicComponent::Letters { .. } => {
            c == uic::MISSING
                || c.is_ascii_uppercase()
                || (script == Script::KeepCyrillic && ('\u{0400}'..='\u{04FF}').contains(&c) && c.is_uppercase())
        }
        UicComponent::SexDigit { .. } => matches!(c, '1' | '2' | '3' | 'X'),
        UicComponent::BirthYear { .. } | UicComponent::BirthDay { .. } => c.is_ascii_digit() || c == uic::MISSING,
    }
}

/// The class each position of a scheme's code must be in.
fn positions(scheme: &UicScheme) -> Vec<&UicComponent> {
    scheme.components.iter().flat_map(|c| std::iter::repeat_n(c, component_len(c))).collect()
}

/// Runs `validate_fields` and checks its answer: errors only with documented codes, a message,
/// and a field that was sent or is required (`*` only for too many fields).
fn checked_validation(
    collection: Collection,
    fields: &Map<String, Value>,
    create: bool,
    scheme: &UicScheme,
) -> Result<Result<(), Vec<FieldError>>, String> {
    let result = validate_fields(collection, fields, create, scheme);
    if let Err(errors) = &result {
        if errors.is_empty() {
            return Err(format!("validate_fields refused without saying why ({collection}, create {create})"));
        }
        for e in errors {
            if !documented(e.code) {
                return Err(format!(
                    "an undocumented validation code: {:?} for field {:?} ({collection})",
                    e.code, e.field
                ));
            }
            let required = collection.fields().iter().any(|s| s.name == e.field && s.required);
            let named = (e.field == "*" && e.code == "too_many_fields" && errors.len() == 1)
                || (e.code != "too_many_fields" && fields.contains_key(&e.field))
                || (e.code == "required" && required);
            if !named || e.message.is_empty() {
                return Err(format!(
                    "a validation error names a field that was neither sent nor required: {e:?} ({collection}, create {create})"
                ));
            }
        }
    }
    Ok(result)
}

fn codes(result: &Result<(), Vec<FieldError>>) -> BTreeSet<&'static str> {
    match result {
        Ok(()) => BTreeSet::new(),
        Err(errors) => errors.iter().map(|e| e.code).collect(),
    }
}

/// Text with a control character other than newline and tab, anywhere in keys or values.
fn has_control_characters(value: &Value) -> bool {
    let bad = |s: &str| s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    match value {
        Value::String(s) => bad(s),
        Value::Array(items) => items.iter().any(has_control_characters),
        Value::Object(map) => map.iter().any(|(k, v)| bad(k) || has_control_characters(v)),
        _ => false,
    }
}

/// A record state as the server stores it (JSON text) and reads it back.
fn stored(state: &RecordState) -> Result<RecordState, String> {
    let text = serde_json::to_string(state).map_err(|e| format!("a record state does not encode: {e}"))?;
    let back: RecordState =
        serde_json::from_str(&text).map_err(|e| format!("a stored record state does not decode: {e}; {text:?}"))?;
    if back != *state {
        return Err(format!("a stored record state changes when read back: at {}", difference(state, &back)));
    }
    Ok(back)
}

/// Reads plain field values as the collection's typed record (`DeviceStore::get_typed`).
fn typed_view(collection: Collection, fields: &Map<String, Value>) -> Result<(), String> {
    fn read<T: DeserializeOwned>(value: Value, type_name: &str) -> Result<(), String> {
        serde_json::from_value::<T>(value).map(|_| ()).map_err(|e| format!("records::{type_name}: {e}"))
    }
    let value = Value::Object(fields.clone());
    match collection {
        Collection::Clients => read::<Client>(value, "Client"),
        Collection::Contacts => read::<Contact>(value, "Contact"),
        Collection::DistributionLines => read::<DistributionLine>(value, "DistributionLine"),
        Collection::SharpsReturns => read::<SharpsReturn>(value, "SharpsReturn"),
        Collection::Referrals => read::<Referral>(value, "Referral"),
        Collection::TestResults => read::<TestResult>(value, "TestResult"),
        Collection::OverdoseReports => read::<OverdoseReport>(value, "OverdoseReport"),
        Collection::GroupTallies => read::<GroupTally>(value, "GroupTally"),
        Collection::StockMovements => read::<StockMovement>(value, "StockMovement"),
        Collection::SurveyResponses => read::<SurveyResponse>(value, "SurveyResponse"),
        Collection::ClientMerges => read::<ClientMerge>(value, "ClientMerge"),
        Collection::Sites => read::<Site>(value, "Site"),
        Collection::Commodities => read::<Commodity>(value, "Commodity"),
        Collection::KitTemplates => read::<KitTemplate>(value, "KitTemplate"),
    }
}

// ---------------------------------------------------------------------------------------------
// The oracles.

fn enroll_request(input: &[u8]) -> Result<Outcome, String> {
    let (request, value) = match wire::<EnrollRequest>(input, UnknownKeys::Refused)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    only_keys(&value, &["code", "device_name", "app_version", "protocol"], "EnrollRequest")?;
    // The server's checks after decoding (`api::enroll`): protocol, then each text field.
    fn text_ok(text: &str, max: usize) -> bool {
        !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
    }
    let supported = (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&request.protocol);
    let texts = [
        ("code", request.code.as_str(), 64),
        ("device_name", request.device_name.as_str(), 100),
        ("app_version", request.app_version.as_str(), 50),
    ];
    let refused: Vec<&str> =
        texts.iter().filter(|(_, text, max)| !text_ok(text, *max)).map(|(name, ..)| *name).collect();
    Ok(Outcome::Accepted(format!("protocol supported {supported}, refused fields {refused:?}")))
}

fn enroll_response(input: &[u8]) -> Result<Outcome, String> {
    let (response, _) = match wire::<EnrollResponse>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let shape = scheme_checks(&response.uic_scheme)?;
    Ok(Outcome::Accepted(format!("{} site(s); {shape}", response.sites.len().min(2))))
}

/// A scheme as received from a server: its length and questions agree with its components, and
/// codes it builds from valid answers (or from none) parse with it.
fn scheme_checks(scheme: &UicScheme) -> Result<String, String> {
    let expected: usize = scheme.components.iter().map(component_len).sum();
    if scheme.len() != expected || scheme.is_empty() != scheme.components.is_empty() {
        return Err(format!("a scheme's length disagrees with its components: len {} for {scheme:?}", scheme.len()));
    }
    if scheme.questions().len() != scheme.components.len() {
        return Err(format!("a scheme's questions disagree with its components: {scheme:?}"));
    }
    let questions = scheme.questions();
    let distinct = questions.iter().collect::<BTreeSet<_>>().len() == questions.len();
    let valid_digits = scheme
        .components
        .iter()
        .all(|c| !matches!(c, UicComponent::BirthYear { digits, .. } if !matches!(digits, 2 | 4)));
    let valid: BTreeMap<String, String> = scheme
        .components
        .iter()
        .map(|c| match c {
            UicComponent::Letters { question, .. } => (question.clone(), "Мария".to_string()),
            UicComponent::SexDigit { question } => (question.clone(), "2".to_string()),
            UicComponent::BirthYear { question, .. } => (question.clone(), "1987".to_string()),
            UicComponent::BirthDay { question } => (question.clone(), "7".to_string()),
        })
        .collect();
    let mut shape = format!("{:?}, {} component(s)", scheme.script, scheme.components.len().min(5));
    for answers in [valid, BTreeMap::new()] {
        match scheme.build(&answers) {
            Ok(code) => {
                built_code_parses(scheme, &answers, &code)?;
                shape.push_str(", built");
            }
            Err(UicError::Scheme(_)) if !valid_digits => shape.push_str(", invalid scheme"),
            Err(e) if !distinct => shape.push_str(&format!(", shared question {}", error_kind(&e))),
            Err(e) => {
                return Err(format!("build refused valid answers: {e} for {answers:?} with {}", show_debug(scheme)));
            }
        }
    }
    Ok(shape)
}

fn built_code_parses(scheme: &UicScheme, answers: &BTreeMap<String, String>, code: &Uic) -> Result<(), String> {
    if code.as_str().chars().count() != scheme.len() {
        return Err(format!("build made a code of the wrong length: {code} for scheme {}", scheme.name));
    }
    match scheme.parse(code.as_str()) {
        Ok(parsed) if parsed == *code => Ok(()),
        other => Err(format!(
            "build made a code its own scheme refuses: scheme {} ({:?}), answers {}, code {:?}, parse gives {other:?}",
            scheme.name,
            scheme.script,
            show_debug(answers),
            code.as_str()
        )),
    }
}

fn error_kind(e: &UicError) -> &'static str {
    match e {
        UicError::Sex(_) => "sex",
        UicError::Scheme(_) => "scheme",
        UicError::Year(_) => "year",
        UicError::Day(_) => "day",
        UicError::Length { .. } => "length",
        UicError::Character { .. } => "character",
    }
}

const OP_KEYS: &[&str] = &["op_seq", "collection", "record_id", "site_id", "kind", "stamp", "fields", "bases"];

fn push_request(input: &[u8]) -> Result<Outcome, String> {
    let (request, value) = match wire::<PushRequest>(input, UnknownKeys::Refused)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    only_keys(&value, &["ops"], "PushRequest")?;
    let raw_ops = value.get("ops").and_then(Value::as_array).cloned().unwrap_or_default();
    for (op, raw) in request.ops.iter().zip(&raw_ops) {
        only_keys(raw, OP_KEYS, "Op")?;
        canonical_stamp(&op.stamp, raw.get("stamp"))?;
        for (field, stamp) in &op.bases {
            canonical_stamp(stamp, raw.get("bases").and_then(|b| b.get(field)))?;
        }
    }
    if request.ops.len() > MAX_PUSH_OPS {
        return Ok(Outcome::Accepted("too_many_ops".into()));
    }
    let scheme = UicScheme::central_asia();
    let mut shape: BTreeSet<String> = BTreeSet::new();
    let mut previous = 0;
    // The server's batch validation (`api::validate_batch`) with the fixtures' device and site.
    for op in &request.ops {
        let refusal = if op.op_seq == 0 {
            Some("invalid_op_seq")
        } else if op.op_seq <= previous {
            Some("op_seq_order")
        } else {
            previous = op.op_seq;
            None
        };
        if let Some(code) = refusal {
            shape.insert(code.into());
            continue;
        }
        let Some(collection) = Collection::from_name(&op.collection) else {
            shape.insert("unknown_collection".into());
            continue;
        };
        let code = if collection.mutability() == Mutability::Reference {
            Some("read_only_collection")
        } else if op.site_id != fixture_site() {
            Some("site_not_enrolled")
        } else if op.stamp.device != fixture_device() {
            Some("stamp_device_mismatch")
        } else if op.kind == OpKind::Delete && !op.fields.is_empty() {
            Some("fields_on_delete")
        } else {
            None
        };
        if let Some(code) = code {
            shape.insert(code.into());
            continue;
        }
        if op.kind != OpKind::Delete {
            let result = checked_validation(collection, &op.fields, op.kind == OpKind::Create, &scheme)?;
            if result.is_err() {
                shape.extend(codes(&result).into_iter().map(String::from));
                continue;
            }
        }
        shape.insert(merge_checks(op, collection)?.into());
    }
    for code in &shape {
        if !code.contains(' ') && !documented(code) {
            return Err(format!("the batch validation uses an undocumented code: {code:?}"));
        }
    }
    Ok(Outcome::Accepted(shape.into_iter().collect::<Vec<_>>().join(",")))
}

/// Stamps decode only from their canonical text, so that text order stays stamp order.
fn canonical_stamp(stamp: &Hlc, raw: Option<&Value>) -> Result<(), String> {
    match raw.and_then(Value::as_str) {
        Some(text) if text == stamp.to_string() => Ok(()),
        other => Err(format!("a stamp decoded from a non-canonical text: {other:?} became {stamp}")),
    }
}

/// What the merge promises for an operation that passed validation: a create stores exactly its
/// fields, survives the storage round trip and replays as a no-op; an update of a missing record
/// is refused, of a present one stored and replayed as a no-op; a delete sets the tombstone; the
/// append-only rules hold.
fn merge_checks(op: &Op, collection: Collection) -> Result<&'static str, String> {
    let mutability = collection.mutability();
    let change = Change { stamp: op.stamp, kind: op.change_kind() };
    let expected: BTreeMap<String, FieldState> =
        op.fields.iter().map(|(k, v)| (k.clone(), FieldState { value: v.clone(), stamp: op.stamp })).collect();
    let context = || format!("{} {:?} op_seq {}", op.collection, op.kind, op.op_seq);
    let empty = RecordState::default();
    match (op.kind, mutability) {
        (OpKind::Create, _) => {
            let first = merge::apply(None, &change, mutability)
                .map_err(|e| format!("the merge refused a create that passed validation: {e} ({})", context()))?;
            if !first.changed
                || !first.conflicts.is_empty()
                || first.state.fields != expected
                || first.state.deleted.is_some()
            {
                return Err(format!(
                    "a create did not store exactly its fields: {} ({})",
                    show_debug(&first),
                    context()
                ));
            }
            replay(&first.state, &change, mutability, &context)?;
            if merge::join(&first.state, &first.state) != first.state {
                return Err(format!("join is not idempotent on {}", show_debug(&first.state)));
            }
            Ok("create merged and replayed")
        }
        (OpKind::Update, Mutability::Mutable) => {
            if merge::apply(None, &change, mutability).err() != Some(MergeError::UnknownRecord) {
                return Err(format!("an update of a missing record was not refused as unknown ({})", context()));
            }
            let first = merge::apply(Some(&empty), &change, mutability)
                .map_err(|e| format!("the merge refused a valid update: {e} ({})", context()))?;
            if first.state.fields != expected {
                return Err(format!(
                    "an update did not store exactly its fields: {} ({})",
                    show_debug(&first),
                    context()
                ));
            }
            replay(&first.state, &change, mutability, &context)?;
            Ok("update merged and replayed")
        }
        (OpKind::Delete, Mutability::Mutable) => {
            let first = merge::apply(Some(&empty), &change, mutability)
                .map_err(|e| format!("the merge refused a valid delete: {e} ({})", context()))?;
            if first.state.deleted != Some(op.stamp) || !first.changed {
                return Err(format!("a delete did not set its tombstone: {} ({})", show_debug(&first), context()));
            }
            replay(&first.state, &change, mutability, &context)?;
            Ok("delete merged and replayed")
        }
        (OpKind::Update, _) => match merge::apply(Some(&empty), &change, mutability) {
            Err(MergeError::Immutable) => Ok("append-only update refused"),
            other => Err(format!("an append-only record accepted an update: {} ({})", show_debug(&other), context())),
        },
        (OpKind::Delete, _) => match merge::apply(Some(&empty), &change, mutability) {
            Err(MergeError::AppendOnlyDelete) => Ok("append-only delete refused"),
            other => Err(format!("an append-only record accepted a delete: {} ({})", show_debug(&other), context())),
        },
    }
}

/// The same change applied again to the stored result changes nothing and logs no conflict.
fn replay(
    state: &RecordState,
    change: &Change,
    mutability: Mutability,
    context: &dyn Fn() -> String,
) -> Result<(), String> {
    let stored = stored(state)?;
    let again = merge::apply(Some(&stored), change, mutability)
        .map_err(|e| format!("replaying a change onto its stored result is refused: {e} ({})", context()))?;
    if again.changed || !again.conflicts.is_empty() || again.state != stored {
        return Err(format!(
            "replaying a change onto its stored result changed it: {} ({})",
            show_debug(&again),
            context()
        ));
    }
    Ok(())
}

fn push_response(input: &[u8]) -> Result<Outcome, String> {
    let (response, _) = match wire::<PushResponse>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let encoded = serde_json::to_value(&response).map_err(|e| e.to_string())?;
    if encoded.get("clamped").is_some() == response.clamped.is_empty() {
        return Err(format!("`clamped` is written when empty or left out when not: {encoded}"));
    }
    Ok(Outcome::Accepted(format!("acked {}, clamped {}", response.acked.len().min(2), response.clamped.len().min(2))))
}

fn pull_response(input: &[u8]) -> Result<Outcome, String> {
    let (page, _) = match wire::<PullResponse>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let spliced = spliced_page(&page)?;
    let decoded: PullResponse = serde_json::from_str(&spliced)
        .map_err(|e| format!("the server's spliced page does not decode: {e}; {}", show(spliced.as_bytes())))?;
    if decoded != page {
        return Err(format!("the server's spliced page decodes differently: at {}", difference(&page, &decoded)));
    }
    let scheme = UicScheme::central_asia();
    let mut shape: BTreeSet<String> = BTreeSet::new();
    for record in &page.records {
        let state = &record.state;
        let max = state.fields.values().map(|f| f.stamp).chain(state.deleted).max();
        if state.max_stamp() != max {
            return Err(format!("max_stamp is {:?}, the greatest stamp is {max:?}", state.max_stamp()));
        }
        if merge::join(state, state) != *state || merge::join(state, &RecordState::default()) != *state {
            return Err(format!("join is not idempotent on {}", show_debug(state)));
        }
        let Some(collection) = Collection::from_name(&record.collection) else {
            shape.insert("unknown collection".into());
            continue;
        };
        let result = checked_validation(collection, &state.values(), false, &scheme)?;
        shape.insert(format!(
            "{:?} fields {}",
            collection.mutability(),
            if result.is_ok() { "valid" } else { "invalid" }
        ));
        shape.insert(local_edit_on_top(collection, state)?.into());
    }
    Ok(Outcome::Accepted(shape.into_iter().collect::<Vec<_>>().join(",")))
}

/// The body `api::pull_body` writes: each record's stored state spliced in as text.
fn spliced_page(page: &PullResponse) -> Result<String, String> {
    let mut out = String::from("{\"records\":[");
    for (i, r) in page.records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let site = r.site_id.map_or_else(|| "null".to_string(), |s| format!("\"{s}\""));
        let collection = serde_json::to_string(&r.collection).map_err(|e| e.to_string())?;
        let state = serde_json::to_string(&r.state).map_err(|e| e.to_string())?;
        let _ = write!(
            out,
            "{{\"seq\":{},\"collection\":{collection},\"record_id\":\"{}\",\"site_id\":{site},\"state\":{state}}}",
            r.seq, r.record_id
        );
    }
    let _ = write!(
        out,
        "],\"next_cursor\":{},\"has_more\":{},\"remaining\":{},\"server_time_ms\":{}}}",
        page.next_cursor, page.has_more, page.remaining, page.server_time_ms
    );
    Ok(out)
}

/// A device applying a page re-applies its pending edits on top (`store::apply_page`): a later
/// local edit of a mutable or reference record sets its field and leaves every other one alone,
/// and replays as a no-op; an append-only record refuses it.
fn local_edit_on_top(collection: Collection, state: &RecordState) -> Result<&'static str, String> {
    let stamp = match state.max_stamp() {
        None => Hlc::new(1, 0, fixture_device()),
        Some(max) if max.wall_ms < outpost_core::hlc::MAX_WALL_MS => Hlc::new(max.wall_ms + 1, 0, fixture_device()),
        Some(_) => return Ok("no later stamp"),
    };
    let writes = BTreeMap::from([("note".to_string(), FieldWrite { value: json!("fuzz"), base: None })]);
    let change = Change { stamp, kind: ChangeKind::Update(writes) };
    let apply = |current: &RecordState| match collection.mutability() {
        Mutability::Reference => Ok(merge::apply_reference(Some(current), &change)),
        m => merge::apply(Some(current), &change, m),
    };
    match (collection.mutability(), apply(state)) {
        (Mutability::AppendOnly, Err(MergeError::Immutable)) => Ok("local edit refused"),
        (Mutability::AppendOnly, other) => {
            Err(format!("an append-only pulled record accepted a local edit: {}", show_debug(&other)))
        }
        (_, Ok(merged)) => {
            let mut expected = state.clone();
            expected.fields.insert("note".into(), FieldState { value: json!("fuzz"), stamp });
            if merged.state != expected {
                return Err(format!(
                    "a later local edit changed more than its field: at {}",
                    difference(&expected, &merged.state)
                ));
            }
            let again = apply(&merged.state).map_err(|e| format!("replaying a local edit is refused: {e}"))?;
            if again.changed || again.state != merged.state {
                return Err(format!("replaying a local edit changed the record: {}", show_debug(&again)));
            }
            Ok("local edit on top")
        }
        (_, Err(e)) => Err(format!("a later local edit of a {collection} record was refused: {e}")),
    }
}

fn error_body(input: &[u8]) -> Result<Outcome, String> {
    let (body, _) = match wire::<ErrorBody>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let encoded = serde_json::to_value(&body).map_err(|e| e.to_string())?;
    if encoded.get("details").is_some() == body.details.is_empty() {
        return Err(format!("`details` is written when empty or left out when not: {encoded}"));
    }
    Ok(Outcome::Accepted(format!(
        "documented code {}, {} detail(s)",
        documented(&body.code),
        body.details.len().min(2)
    )))
}

fn health(input: &[u8]) -> Result<Outcome, String> {
    let (health, _) = match wire::<Health>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    Ok(Outcome::Accepted(format!("protocol current {}", health.protocol == PROTOCOL_VERSION)))
}

fn record_fields(input: &[u8]) -> Result<Outcome, String> {
    let (fields, _) = match wire::<Map<String, Value>>(input, UnknownKeys::Refused)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let control = has_control_characters(&Value::Object(fields.clone()));
    let mut valid_creates = 0;
    let mut all_codes: BTreeSet<&'static str> = BTreeSet::new();
    for &collection in Collection::ALL {
        let scheme_list: Vec<UicScheme> = if collection == Collection::Clients {
            schemes().into_iter().collect()
        } else {
            vec![UicScheme::central_asia()]
        };
        for scheme in &scheme_list {
            let create = checked_validation(collection, &fields, true, scheme)?;
            let update = checked_validation(collection, &fields, false, scheme)?;
            all_codes.extend(codes(&create));
            all_codes.extend(codes(&update));
            if create.is_ok() && update.is_err() {
                return Err(format!(
                    "validation passes a create but not the same fields as an update: {update:?} ({collection}); input {}",
                    show(input)
                ));
            }
            if control && update.is_ok() {
                return Err(format!("validation accepted control characters ({collection}); input {}", show(input)));
            }
            if fields.len() > MAX_FIELDS && codes(&update) != BTreeSet::from(["too_many_fields"]) {
                return Err(format!(
                    "validation of {} fields did not answer too_many_fields alone ({collection})",
                    fields.len()
                ));
            }
            if create.is_ok() {
                if let Some(spec) =
                    collection.fields().iter().find(|s| s.required && fields.get(s.name).is_none_or(Value::is_null))
                {
                    return Err(format!("a create without the required field {:?} passed ({collection})", spec.name));
                }
                typed_view(collection, &fields).map_err(|e| {
                    format!(
                        "a create that passes validation cannot be read as its typed record: {e} ({collection}); input {}",
                        show(input)
                    )
                })?;
                valid_creates += 1;
            }
        }
    }
    Ok(Outcome::Accepted(format!("{valid_creates} valid creates; codes {all_codes:?}")))
}

/// Stamps of different walls, counters and devices to compare a parsed stamp with.
fn reference_stamps() -> Vec<Hlc> {
    let device = |n: u8| DeviceId(uuid::Uuid::from_bytes([n; 16]));
    vec![
        Hlc::new(0, 0, device(0)),
        Hlc::new(1_764_064_800_000, 0, fixture_device()),
        Hlc::new(1_764_064_800_000, 1, device(0x01)),
        Hlc::new(1_764_064_800_000, 65_535, device(0xff)),
        Hlc::new(outpost_core::hlc::MAX_WALL_MS, 65_535, device(0xff)),
        Hlc::new(99_999, 7, device(0x7f)),
    ]
}

fn hlc_stamp(input: &[u8]) -> Result<Outcome, String> {
    let Ok(text) = std::str::from_utf8(input) else { return Ok(Outcome::Rejected("not UTF-8".into())) };
    let parsed = text.parse::<Hlc>();
    let via_serde = serde_json::from_value::<Hlc>(Value::String(text.to_string()));
    if parsed.as_ref().ok() != via_serde.as_ref().ok() {
        return Err(format!("decoders disagree: FromStr gives {parsed:?}, serde {via_serde:?} for {text:?}"));
    }
    let stamp = match parsed {
        Ok(stamp) => stamp,
        Err(e) => return Ok(Outcome::Rejected(format!("{e:?}"))),
    };
    if stamp.to_string() != text {
        return Err(format!("a stamp parsed from a non-canonical text: {text:?} prints as {stamp}"));
    }
    if stamp.wall_ms > outpost_core::hlc::MAX_WALL_MS {
        return Err(format!("a stamp past the largest wall time parsed: {text:?}"));
    }
    for reference in reference_stamps() {
        if stamp.cmp(&reference) != text.cmp(reference.to_string().as_str()) {
            return Err(format!("stamp order differs from text order: {text:?} against {reference}"));
        }
    }
    let json = serde_json::to_string(&stamp).map_err(|e| e.to_string())?;
    if serde_json::from_str::<Hlc>(&json).ok() != Some(stamp) {
        return Err(format!("a stamp does not survive JSON: {json}"));
    }
    Ok(Outcome::Accepted(format!(
        "counter max {}, nil device {}",
        stamp.counter == u16::MAX,
        stamp.device == DeviceId::nil()
    )))
}

fn uic_parse(input: &[u8]) -> Result<Outcome, String> {
    let text = String::from_utf8_lossy(input);
    let count = text.chars().count();
    let chars: Vec<char> = text.chars().collect();
    let mut shape = String::new();
    for scheme in schemes() {
        let classes = positions(&scheme);
        match scheme.parse(&text) {
            Ok(code) => {
                if code.as_str() != text {
                    return Err(format!("parse changed the code: {text:?} became {code:?} ({})", scheme.name));
                }
                if count != scheme.len() {
                    return Err(format!(
                        "parse accepted {count} characters for a {}-character scheme {}: {text:?}",
                        scheme.len(),
                        scheme.name
                    ));
                }
                for (i, (c, class)) in chars.iter().zip(&classes).enumerate() {
                    if !allowed_in_code(class, *c, scheme.script) {
                        return Err(format!(
                            "parse accepted {c:?} at position {} of {text:?} ({})",
                            i + 1,
                            scheme.name
                        ));
                    }
                }
                if scheme.parse(code.as_str()) != Ok(code.clone()) {
                    return Err(format!("a parsed code does not re-parse the same: {text:?} ({})", scheme.name));
                }
                shape.push('O');
            }
            Err(UicError::Length { expected, got, .. }) => {
                if expected != scheme.len() || got != count || count == scheme.len() {
                    return Err(format!(
                        "a wrong length error for {text:?}: expected {expected}, got {got} ({})",
                        scheme.name
                    ));
                }
                shape.push('L');
            }
            Err(UicError::Character { position, got, .. }) => {
                let at = position.checked_sub(1).and_then(|i| chars.get(i).zip(classes.get(i)));
                let earlier_ok = chars
                    .iter()
                    .zip(&classes)
                    .take(position.saturating_sub(1))
                    .all(|(c, k)| allowed_in_code(k, *c, scheme.script));
                let right = count == scheme.len()
                    && earlier_ok
                    && at.is_some_and(|(c, k)| *c == got && !allowed_in_code(k, *c, scheme.script));
                if !right {
                    return Err(format!(
                        "a character error points at the wrong place: position {position}, {got:?} in {text:?} ({})",
                        scheme.name
                    ));
                }
                shape.push('C');
            }
            Err(e) => {
                return Err(format!("parse answered an error it never should: {e:?} for {text:?} ({})", scheme.name));
            }
        }
    }
    Ok(if shape.contains('O') { Outcome::Accepted(shape) } else { Outcome::Rejected(shape) })
}

fn component_kind(component: &UicComponent) -> &'static str {
    match component {
        UicComponent::Letters { .. } => "letters",
        UicComponent::SexDigit { .. } => "sex",
        UicComponent::BirthYear { .. } => "year",
        UicComponent::BirthDay { .. } => "day",
    }
}

fn question_of(component: &UicComponent) -> &str {
    match component {
        UicComponent::Letters { question, .. }
        | UicComponent::SexDigit { question }
        | UicComponent::BirthYear { question, .. }
        | UicComponent::BirthDay { question } => question,
    }
}

/// The questions of every built-in scheme, for answers given as `a|b|c` text.
const QUESTIONS: &[&str] =
    &["mother_first_name", "father_first_name", "sex", "birth_year", "surname", "birth_day", "birth_place"];

fn uic_build(input: &[u8]) -> Result<Outcome, String> {
    let answers: BTreeMap<String, String> = match serde_json::from_slice(input) {
        Ok(answers) => answers,
        Err(_) => {
            let text = String::from_utf8_lossy(input);
            QUESTIONS.iter().zip(text.split('|')).map(|(q, a)| (q.to_string(), a.to_string())).collect()
        }
    };
    let mut shape = Vec::new();
    for scheme in schemes() {
        let answer = |question: &str| answers.get(question).map(|a| a.trim()).filter(|a| !a.is_empty());
        let built = scheme.build(&answers);
        match &built {
            Ok(code) => {
                built_code_parses(&scheme, &answers, code)?;
                let upper: BTreeMap<String, String> =
                    answers.iter().map(|(k, v)| (k.clone(), v.to_uppercase())).collect();
                if scheme.build(&upper) != built {
                    return Err(format!(
                        "the letter case of answers changes the code: {} gives {built:?}, upper-cased {:?} ({})",
                        show_debug(&answers),
                        scheme.build(&upper),
                        scheme.name
                    ));
                }
                let padded: BTreeMap<String, String> =
                    answers.iter().map(|(k, v)| (k.clone(), format!("  {v}\t"))).collect();
                if scheme.build(&padded) != built {
                    return Err(format!(
                        "spaces around answers change the code: {} gives {built:?}, padded {:?} ({})",
                        show_debug(&answers),
                        scheme.build(&padded),
                        scheme.name
                    ));
                }
                shape.push("ok");
            }
            Err(e) => {
                // The trimmed answers given to components of one kind.
                let given = |kind: &str| -> Vec<&str> {
                    scheme
                        .components
                        .iter()
                        .filter(|c| component_kind(c) == kind)
                        .filter_map(|c| answer(question_of(c)))
                        .collect()
                };
                let justified = match e {
                    UicError::Sex(s) => given("sex").iter().any(|a| a == s && !matches!(*a, "1" | "2" | "3")),
                    UicError::Year(y) => given("year").iter().any(|a| {
                        a == y
                            && !(a.len() == 4 && a.bytes().all(|b| b.is_ascii_digit()) && ("1900"..="2100").contains(a))
                    }),
                    UicError::Day(d) => given("day").iter().any(|a| a == d && !matches!(a.parse::<u8>(), Ok(1..=31))),
                    UicError::Scheme(_) | UicError::Length { .. } | UicError::Character { .. } => false,
                };
                if !justified {
                    return Err(format!(
                        "build refused answers for a reason they do not have: {e:?} for {} ({})",
                        show_debug(&answers),
                        scheme.name
                    ));
                }
                shape.push(error_kind(e));
            }
        }
    }
    Ok(if shape.contains(&"ok") { Outcome::Accepted(shape.join(",")) } else { Outcome::Rejected(shape.join(",")) })
}

fn uic_normalise(input: &[u8]) -> Result<Outcome, String> {
    let text = String::from_utf8_lossy(input);
    let latin = uic::normalise_letters(&text, Script::Latin);
    if let Some(c) = latin.chars().find(|c| !c.is_ascii_uppercase()) {
        return Err(format!("Latin normalising produced {c:?}, not A-Z, from {}", show(input)));
    }
    if uic::normalise_letters(&latin, Script::Latin) != latin {
        return Err(format!("Latin normalising is not idempotent on {latin:?}"));
    }
    let keep = uic::normalise_letters(&text, Script::KeepCyrillic);
    if let Some(c) = keep.chars().find(|c| !c.is_alphabetic()) {
        return Err(format!("Cyrillic-keeping normalising produced the non-letter {c:?} from {}", show(input)));
    }
    let again = uic::normalise_letters(&keep, Script::KeepCyrillic);
    if again != keep {
        return Err(format!(
            "Cyrillic-keeping normalising is not idempotent: {keep:?} became {again:?}; input {}",
            show(input)
        ));
    }
    if text.is_ascii() && latin != keep {
        return Err(format!("the scripts disagree on ASCII input {text:?}: {latin:?} and {keep:?}"));
    }
    Ok(Outcome::Accepted(format!(
        "latin {}, missing letters {}, non-ASCII kept {}",
        if latin.is_empty() { "empty" } else { "letters" },
        latin.contains(uic::MISSING),
        !keep.is_ascii()
    )))
}

/// Codes compared for near matches are short; longer text is cut so that the quadratic edit
/// distance does not dominate the run.
const NEAR_MATCH_CHARS: usize = 64;

fn uic_near_match(input: &[u8]) -> Result<Outcome, String> {
    let text = String::from_utf8_lossy(input);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    let a: String = a.chars().take(NEAR_MATCH_CHARS).collect();
    let b: String = b.chars().take(NEAR_MATCH_CHARS).collect();
    let (la, lb) = (a.chars().count(), b.chars().count());
    let d = uic::edit_distance(&a, &b);
    if d != uic::edit_distance(&b, &a) {
        return Err(format!("edit_distance is not symmetric for {a:?} and {b:?}"));
    }
    if (d == 0) != (a == b) || d < la.abs_diff(lb) || d > la.max(lb) {
        return Err(format!("edit_distance({a:?}, {b:?}) = {d} is out of its bounds"));
    }
    let near = uic::is_near_match(&a, &b);
    if near != uic::is_near_match(&b, &a) {
        return Err(format!("is_near_match is not symmetric for {a:?} and {b:?}"));
    }
    if uic::is_near_match(&a, &a) {
        return Err(format!("a code is a near match of itself: {a:?}"));
    }
    let year = |s: &str| s.chars().rev().take(2).collect::<String>();
    if near && (d > 1 || a == b || year(&a) != year(&b)) {
        return Err(format!("{a:?} and {b:?} near-match with distance {d} and years {:?}, {:?}", year(&a), year(&b)));
    }
    // One letter changed before the year is always a near match.
    let mut changed: Vec<char> = a.chars().collect();
    if changed.len() >= 3 {
        if let Some(first) = changed.first_mut() {
            *first = if *first == 'Z' { 'Y' } else { 'Z' };
        }
        let changed: String = changed.into_iter().collect();
        if !uic::is_near_match(&a, &changed) {
            return Err(format!("{a:?} and {changed:?} differ in the first letter only but do not near-match"));
        }
    }
    Ok(Outcome::Accepted(format!("near {near}, distance {}", d.min(3))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(name: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus").join(name);
        load_corpus(&dir).unwrap_or_else(|e| panic!("{name}: {e:#}"))
    }

    #[test]
    fn mutator_is_deterministic_for_a_seed() {
        let corpus = committed("push_request");
        let mutator = Mutator::new();
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..300).map(|_| mutator.mutate(&mut rng, &corpus)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn every_target_accepts_its_committed_corpus() {
        install_panic_hook();
        for target in TARGETS {
            let inputs = committed(target.name);
            assert!(inputs.len() >= 3, "{}: only {} corpus inputs", target.name, inputs.len());
            let mut accepted = 0;
            for input in &inputs {
                match execute(&target.oracle, input) {
                    Ok(Outcome::Accepted(_)) => accepted += 1,
                    Ok(Outcome::Rejected(_)) => {}
                    Err(message) => panic!("{}: corpus input {} fails: {message}", target.name, show(input)),
                }
            }
            assert!(accepted > 0, "{}: no corpus input is accepted", target.name);
        }
    }

    #[test]
    fn the_frozen_fixtures_are_in_the_corpus() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/core/tests/fixtures/v1");
        for (fixture, target) in [
            ("enroll_request", "enroll_request"),
            ("enroll_response", "enroll_response"),
            ("push_request", "push_request"),
            ("push_response", "push_response"),
            ("pull_response", "pull_response"),
            ("error_body", "error_body"),
            ("error_body_plain", "error_body"),
            ("health", "health"),
        ] {
            let text = std::fs::read(fixtures.join(format!("{fixture}.json"))).expect("fixture");
            assert!(committed(target).contains(&text), "{fixture}.json is not in fuzz-corpus/{target}/");
        }
    }

    #[test]
    fn a_broken_oracle_is_recorded_as_a_failure() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let oracle = |input: &[u8]| -> Result<Outcome, String> {
            if input.contains(&b'!') {
                panic!("deliberate panic");
            }
            if input.contains(&b'?') {
                return Err("deliberately broken: a question mark".into());
            }
            Ok(Outcome::Accepted(String::new()))
        };
        let seeds = vec![b"fine".to_vec(), b"boom!".to_vec(), b"what?".to_vec()];
        let budget = Budget { time: Duration::from_secs(10), max_execs: 200 };
        let report = fuzz_target("broken", &oracle, seeds, &Mutator::new(), &mut Rng::new(1), budget, dir.path());
        assert_eq!(report.executions, 203);
        assert!(report.failure_count >= 2, "{report:?}");
        let signatures: Vec<&str> = report.failures.iter().map(|k| k.signature.as_str()).collect();
        assert!(signatures.iter().any(|s| s.starts_with("panic: deliberate panic at ")), "{signatures:?}");
        assert!(signatures.contains(&"deliberately broken"), "{signatures:?}");
        let saved = std::fs::read_dir(dir.path().join("broken")).expect("failures written").count();
        assert!(saved >= 2);
        assert!(report.failures.iter().all(|k| k.saved.iter().all(|p| p.exists())));
        // The run did not stop at the first failure, and a panic left the harness usable.
        assert_eq!(execute(&oracle, b"fine"), Ok(Outcome::Accepted(String::new())));
    }

    #[test]
    fn structure_aware_mutants_are_often_still_json_and_sometimes_repeat_a_key() {
        let corpus = committed("enroll_request");
        let mutator = Mutator::new();
        let mut rng = Rng::new(42);
        let (mut json, mut duplicate) = (0, 0);
        for _ in 0..2000 {
            let mutant = mutator.mutate(&mut rng, &corpus);
            json += usize::from(serde_json::from_slice::<Value>(&mutant).is_ok());
            let refused = serde_json::from_slice::<EnrollRequest>(&mutant).err().map(|e| e.to_string());
            duplicate += usize::from(refused.is_some_and(|e| e.starts_with("duplicate field")));
        }
        assert!(json > 400, "only {json} of 2000 mutants parse as JSON");
        assert!(duplicate > 0, "no mutant repeated a key");
    }

    #[test]
    fn tokens_cover_strings_numbers_and_literals() {
        let text = br#"{"a": [1.5e3, -2, true, null, "x\"y"]}"#;
        let tokens: Vec<&[u8]> = json_tokens(text).into_iter().filter_map(|(s, e)| text.get(s..e)).collect();
        let expected: Vec<&[u8]> = vec![b"\"a\"", b"1.5e3", b"-2", b"true", b"null", br#""x\"y""#];
        assert_eq!(tokens, expected);
    }
}
