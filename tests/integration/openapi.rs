//! The OpenAPI document is generated from the handlers, so it cannot list a route the router
//! lacks or miss one it has: every documented operation is served by a real server (none falls
//! through to "no such endpoint"), the document in `docs/` is the generated one, the served one
//! too, and the frozen wire samples and live replies validate against its schemas (checked by
//! the `jsonschema` crate).

use outpost_core::Collection;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer};
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(&outpost_server::http::openapi::json()).unwrap_or(Value::Null)
}

/// Errors of `value` against the document's schema named `schema_name`.
fn check(doc: &Value, schema_name: &str, value: &Value) {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "$ref": format!("#/components/schemas/{schema_name}"),
    });
    let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema {schema_name}: {e}"));
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{schema_name} does not match the OpenAPI document: {errors:#?}\n{value}");
}

#[test]
fn the_document_in_docs_is_the_generated_one() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json")).unwrap_or_default();
    let committed: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    assert!(
        committed == document(),
        "docs/openapi.json is out of date: run `cargo run -p outpost-server -- openapi > docs/openapi.json`"
    );
}

#[test]
fn documented_collections_match_the_core() {
    let doc = document();
    let documented: Vec<&str> = doc["components"]["schemas"]["Op"]["properties"]["collection"]["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let writable: Vec<&str> = Collection::ALL
        .iter()
        .filter(|c| c.mutability() != outpost_core::Mutability::Reference)
        .map(|c| c.name())
        .collect();
    assert_eq!(documented, writable);
}

#[test]
fn frozen_wire_samples_match_the_document() {
    let doc = document();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/core/tests/fixtures/v1");
    for (file, schema) in [
        ("health", "Health"),
        ("enroll_request", "EnrollRequest"),
        ("enroll_response", "EnrollResponse"),
        ("push_request", "PushRequest"),
        ("push_response", "PushResponse"),
        ("pull_response", "PullResponse"),
        ("error_body", "ErrorBody"),
        ("error_body_plain", "ErrorBody"),
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{file}.json")).unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        check(&doc, schema, &value);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let http = reqwest::Client::new();
    let routes = outpost_server::http::routes();
    assert!(routes.len() >= 18, "{routes:?}");
    for (method, path) in &routes {
        let path = path.replace("{id}", "1").replace("{kind}", "contacts");
        let method: reqwest::Method = method.to_uppercase().parse()?;
        let reply = http.request(method.clone(), format!("{}{path}", server.url())).send().await?;
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.unwrap_or(Value::Null);
        assert!(
            !(status == 404 && body["message"] == "no such endpoint; see /api/v1/openapi.json") && status != 405,
            "{method} {path} is documented but not served: {status} {body}"
        );
    }
    // And the other way round: an undocumented API path is not served.
    let reply = http.get(format!("{}/api/v1/dashboard/secrets", server.url())).send().await?;
    assert_eq!(reply.status().as_u16(), 404);
    server.stop().await
}

async fn live_replies_match_the_document(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let doc = document();
    let http = reqwest::Client::new();
    let served: Value = http.get(format!("{}/api/v1/openapi.json", server.url())).send().await?.json().await?;
    assert_eq!(served, doc, "the server serves the generated document");
    check(&doc, "Health", &http.get(format!("{}/healthz", server.url())).send().await?.json().await?);

    let code = server.enrollment_code(SITE_A).await?;
    let body = json!({"code": code, "device_name": "t", "app_version": "1", "protocol": 1});
    let enrolled: Value = http.post(format!("{}/api/v1/enroll", server.url())).json(&body).send().await?.json().await?;
    check(&doc, "EnrollResponse", &enrolled);
    let token = enrolled["token"].as_str().unwrap_or_default().to_string();

    let device = SimDevice::enroll(&server, SITE_A).await?;
    device.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}))?;
    let ops = device.with(|s| s.pending_ops(10))?;
    let push_body = json!({ "ops": ops });
    check(&doc, "PushRequest", &push_body);
    let device_token = device.with(|s| s.identity().map(|i| i.token.clone())).unwrap_or_default();
    let reply: Value = http
        .post(format!("{}/api/v1/sync/push", server.url()))
        .bearer_auth(&device_token)
        .header("outpost-protocol", "1")
        .json(&push_body)
        .send()
        .await?
        .json()
        .await?;
    check(&doc, "PushResponse", &reply);

    let page: Value = http
        .get(format!("{}/api/v1/sync/pull?limit=50", server.url()))
        .bearer_auth(&token)
        .header("outpost-protocol", "1")
        .send()
        .await?
        .json()
        .await?;
    check(&doc, "PullResponse", &page);
    assert!(!page["records"].as_array().map(Vec::is_empty).unwrap_or(true));

    let refused: Value = http
        .post(format!("{}/api/v1/sync/push", server.url()))
        .bearer_auth(&token)
        .header("outpost-protocol", "1")
        .json(&json!({"ops": [{"op_seq": 1, "collection": "nope", "record_id": uuid::Uuid::nil(), "site_id": uuid::Uuid::nil(), "kind": "delete", "stamp": format!("000000000000001-00000-{}", uuid::Uuid::nil())}]}))
        .send()
        .await?
        .json()
        .await?;
    check(&doc, "ErrorBody", &refused);
    assert!(refused["details"].as_array().is_some_and(|d| !d.is_empty()));
    server.stop().await
}

on_both_backends!(live_replies_match_the_document);
