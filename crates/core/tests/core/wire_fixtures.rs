//! Frozen samples of every version-1 message still decode and re-encode to the same JSON.
//! A failure here means the wire format changed: add a protocol version instead.

use outpost_core::wire::{EnrollRequest, EnrollResponse, ErrorBody, Health, PullResponse, PushRequest, PushResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn round_trip<T: DeserializeOwned + Serialize>(name: &str) {
    let path = format!("{}/tests/fixtures/v1/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let original: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
    let decoded: T =
        serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{name} no longer decodes: {e}"));
    let encoded = serde_json::to_value(&decoded).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(encoded, original, "{name} re-encodes differently");
}

#[test]
fn version_1_fixtures_round_trip() {
    round_trip::<Health>("health");
    round_trip::<EnrollRequest>("enroll_request");
    round_trip::<EnrollResponse>("enroll_response");
    round_trip::<PushRequest>("push_request");
    round_trip::<PushResponse>("push_response");
    round_trip::<PullResponse>("pull_response");
    round_trip::<ErrorBody>("error_body");
    round_trip::<ErrorBody>("error_body_plain");
}

#[test]
fn every_fixture_is_checked() {
    let dir = format!("{}/tests/fixtures/v1", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    assert_eq!(
        names,
        [
            "enroll_request.json",
            "enroll_response.json",
            "error_body.json",
            "error_body_plain.json",
            "health.json",
            "pull_response.json",
            "push_request.json",
            "push_response.json"
        ]
    );
}
