//! `outpost-fuzz`: the oracles of the coverage-guided fuzz targets in `fuzz_targets/`, one per
//! wire decoder and function of the UIC code, run by `cargo +nightly fuzz run <target>`
//! (libFuzzer) and by `scripts/fuzz.sh [SECONDS]` for all of them.
//!
//! Each target is one line: it hands libFuzzer's bytes to the function of the same name here and
//! panics with its message when that returns `Err`. An `Err` is a fault in the code under test
//! or a broken promise, never a refusal: refusing hostile input is the expected answer
//! ([`Outcome::Rejected`]). Every oracle checks much more than "does not panic":
//!
//! * [`enroll_request`]: the server's `EnrollRequest` decoder. Round trip (decode, encode,
//!   decode gives the same value and the same bytes); decoding through `serde_json::Value`
//!   agrees with `from_slice`; `deny_unknown_fields` holds; the server's enrolment field checks
//!   (protocol range, text lengths, no control characters) run on what was accepted.
//! * [`enroll_response`]: the device's `EnrollResponse` decoder. Round trip and the `Value`
//!   route; the received UIC scheme's length and questions agree with its components, and the
//!   codes it builds from valid answers (and from none) parse with the same scheme.
//! * [`push_request`]: the server's `PushRequest` decoder. Round trip; `deny_unknown_fields` on
//!   the request and on every operation; stamps decode only from their canonical text; the
//!   server's batch validation (`op_seq` order, collection, scope, `validate_fields`) answers
//!   only with codes listed in `docs/protocol.md`; every valid operation merges as `merge.rs`
//!   promises (a create stores exactly its fields, an update of a missing record is refused, a
//!   delete sets its tombstone, append-only rules hold), survives the storage round trip and
//!   replays as a no-op.
//! * [`push_response`]: the device's `PushResponse` decoder. Round trip and the `Value` route;
//!   `clamped` is left out exactly when it is empty.
//! * [`pull_response`]: the device's `PullResponse` decoder. Round trip; the page the server
//!   splices from stored JSON decodes to the same page; `max_stamp` is the greatest stamp; `join`
//!   is idempotent; a later local edit re-applied on top, as the device does, changes only its
//!   field and replays as a no-op (append-only records refuse it); pulled fields validate with
//!   documented codes only.
//! * [`error_body`]: `ErrorBody`. Round trip and the `Value` route; `details` is left out exactly
//!   when it is empty.
//! * [`health`]: `Health`. Round trip and the `Value` route.
//! * [`record_fields`]: field maps through `validate_fields` for every collection, as a create
//!   and as an update. Only documented codes; every error names a field that was sent or is
//!   required; valid as a create implies valid as an update with every required field present;
//!   control characters and more than `MAX_FIELDS` fields are always refused; a valid create
//!   reads as its typed record (`records::Client`, ...).
//! * [`hlc_stamp`]: `Hlc` text. Only canonical text parses (it prints back identically);
//!   `FromStr` and serde agree; text order is stamp order; a stamp survives JSON.
//! * [`uic_parse`]: `UicScheme::parse` with every built-in scheme and `central_asia` keeping
//!   Cyrillic. A parsed code re-parses the same, has the scheme's length and only allowed
//!   characters; a length error reports the real lengths; a character error points at the first
//!   bad character.
//! * [`uic_build`]: `UicScheme::build` with fuzzed answers (a JSON object, or `a|b|c` text). A
//!   built code has the scheme's length and parses with the same scheme; the case of answers and
//!   spaces around them do not change it; each error names an answer that really is invalid.
//! * [`uic_normalise`]: `normalise_letters`. Latin output is A-Z only, Cyrillic-keeping output
//!   letters only; both idempotent; equal on ASCII input.
//! * [`uic_near_match`]: `is_near_match` and `edit_distance` on two lines of text. Never matches
//!   itself; symmetric; implies distance <= 1 and the same year; one letter changed before the
//!   year always matches; the distance is symmetric, zero only for equal codes and bounded by the
//!   lengths.
//!
//! [`TARGETS`] lists them with a one-line summary; the committed corpus is in `corpus/<target>/`.

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::dbg_macro)]

use outpost_core::merge::{self, Change, ChangeKind, FieldState, FieldWrite, MergeError, RecordState};
use outpost_core::records::{
    Client, ClientMerge, Commodity, Contact, DistributionLine, GroupTally, KitTemplate, OverdoseReport, Referral,
    SharpsReturn, Site, StockMovement, SurveyResponse, TestResult,
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
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Debug, Write as _};

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
pub type Oracle = fn(&[u8]) -> Result<Outcome, String>;

/// One fuzz target: a decoder, or a function of the UIC code, with its oracle.
pub struct Target {
    pub name: &'static str,
    /// What the oracle checks beyond "does not panic".
    pub checks: &'static str,
    pub oracle: Oracle,
}

/// Every target, in the order `scripts/fuzz.sh` runs them; each has `fuzz_targets/<name>.rs`.
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

/// The `enroll_request` target's oracle (see the crate documentation).
pub fn enroll_request(input: &[u8]) -> Result<Outcome, String> {
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

/// The `enroll_response` target's oracle (see the crate documentation).
pub fn enroll_response(input: &[u8]) -> Result<Outcome, String> {
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

/// The `push_request` target's oracle (see the crate documentation).
pub fn push_request(input: &[u8]) -> Result<Outcome, String> {
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

/// The `push_response` target's oracle (see the crate documentation).
pub fn push_response(input: &[u8]) -> Result<Outcome, String> {
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

/// The `pull_response` target's oracle (see the crate documentation).
pub fn pull_response(input: &[u8]) -> Result<Outcome, String> {
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

/// The `error_body` target's oracle (see the crate documentation).
pub fn error_body(input: &[u8]) -> Result<Outcome, String> {
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

/// The `health` target's oracle (see the crate documentation).
pub fn health(input: &[u8]) -> Result<Outcome, String> {
    let (health, _) = match wire::<Health>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    Ok(Outcome::Accepted(format!("protocol current {}", health.protocol == PROTOCOL_VERSION)))
}

/// The `record_fields` target's oracle (see the crate documentation).
pub fn record_fields(input: &[u8]) -> Result<Outcome, String> {
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

/// The `hlc_stamp` target's oracle (see the crate documentation).
pub fn hlc_stamp(input: &[u8]) -> Result<Outcome, String> {
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

/// The `uic_parse` target's oracle (see the crate documentation).
pub fn uic_parse(input: &[u8]) -> Result<Outcome, String> {
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

/// The `uic_build` target's oracle (see the crate documentation).
pub fn uic_build(input: &[u8]) -> Result<Outcome, String> {
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

/// The `uic_normalise` target's oracle (see the crate documentation).
pub fn uic_normalise(input: &[u8]) -> Result<Outcome, String> {
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

/// The `uic_near_match` target's oracle (see the crate documentation).
pub fn uic_near_match(input: &[u8]) -> Result<Outcome, String> {
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
    use std::path::Path;

    fn committed(name: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(name);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).collect()
    }

    #[test]
    fn every_target_accepts_its_committed_corpus() {
        for target in TARGETS {
            let inputs = committed(target.name);
            assert!(inputs.len() >= 3, "{}: only {} corpus inputs", target.name, inputs.len());
            let mut accepted = 0;
            for input in &inputs {
                match (target.oracle)(input) {
                    Ok(Outcome::Accepted(_)) => accepted += 1,
                    Ok(Outcome::Rejected(_)) => {}
                    Err(message) => panic!("{}: corpus input {} fails: {message}", target.name, show(input)),
                }
            }
            assert!(accepted > 0, "{}: no corpus input is accepted", target.name);
        }
    }

    #[test]
    fn every_target_has_its_fuzz_target_and_nothing_else_does() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz_targets");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("fuzz_targets")
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".rs").map(String::from))
            .collect();
        files.sort();
        let mut names: Vec<String> = TARGETS.iter().map(|t| t.name.to_string()).collect();
        names.sort();
        assert_eq!(files, names);
        let manifest = include_str!("../Cargo.toml");
        for name in &names {
            assert!(manifest.contains(&format!("name = \"{name}\"")), "{name} is not a [[bin]] of Cargo.toml");
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
            assert!(committed(target).contains(&text), "{fixture}.json is not in corpus/{target}/");
        }
    }
}
