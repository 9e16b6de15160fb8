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
//!   itself; symmetric; implies distance <= 2 and the same year or the same letters before it;
//!   one letter changed before the year, two adjacent letters swapped and the year's digits
//!   swapped always match; the distance is symmetric, zero only for equal codes and bounded by
//!   the lengths.
//!
//! * [`form_expression`]: the XLSForm expression parser and evaluator (forms' `relevant`,
//!   `constraint`, `calculation`...). Deterministic; refusals carry a message and a position
//!   inside the text; references are names the text holds; evaluation fails only with its
//!   documented errors.
//! * [`xlsform_sheets`]: XLSForm import of fuzzed sheets. Refusals name a sheet and say why; an
//!   imported form survives JSON and compiles again to the same questions.
//!
//! [`TARGETS`] lists them with a one-line summary; the committed corpus is in `corpus/<target>/`.

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::dbg_macro)]

mod codes;
mod forms;
mod oracle;
mod records;
mod wire;

pub use codes::{uic_build, uic_near_match, uic_normalise, uic_parse};
pub use forms::{form_expression, xlsform_sheets};
pub use oracle::{Oracle, Outcome};
pub use records::{hlc_stamp, record_fields};
pub use wire::{enroll_request, enroll_response, error_body, health, pull_response, push_request, push_response};

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
        checks: "never matches itself, symmetric, implies distance <= 2 and the same year or the same rest, one \
                 changed letter, a swap and swapped year digits match; edit_distance symmetric, zero only for \
                 equal codes, bounded by the lengths",
        oracle: uic_near_match,
    },
    Target {
        name: "form_expression",
        checks: "the XLSForm expression parser at every place: deterministic, refusals with a message and a \
                 position inside the text, references named by the text; evaluation never panics and fails \
                 only with its documented errors",
        oracle: form_expression,
    },
    Target {
        name: "xlsform_sheets",
        checks: "XLSForm import of fuzzed sheets: every refusal names a sheet and says why; an imported form's \
                 definition survives JSON, compiles again to the same questions, and checks empty answers \
                 with required as the only problem",
        oracle: xlsform_sheets,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::show;
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
