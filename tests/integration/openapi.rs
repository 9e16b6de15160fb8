//! The OpenAPI document served at `/api/v1/openapi.json` matches the code: every route is
//! documented and nothing else is, and the frozen wire samples and live replies of a real
//! server validate against the document's schemas.

use outpost_core::Collection;
use outpost_server::api::{OPENAPI, ROUTES};
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer};
use serde_json::{Value, json};

/// A small JSON Schema checker covering the keywords the document uses.
fn validate(doc: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.trim_start_matches("#/components/schemas/");
        match doc["components"]["schemas"].get(name) {
            Some(resolved) => validate(doc, resolved, value, path, errors),
            None => errors.push(format!("{path}: dangling $ref {target}")),
        }
        return;
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !ok {
            errors.push(format!("{path}: expected {allowed:?}, got {actual}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{path}: {value} not in enum"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_i64), value.as_i64()) {
        if n < min {
            errors.push(format!("{path}: {n} below minimum {min}"));
        }
    }
    if let Value::Object(map) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = required.as_str() {
                if !map.contains_key(name) {
                    errors.push(format!("{path}: missing required {name}"));
                }
            }
        }
        for (key, item) in map {
            let sub = format!("{path}.{key}");
            match properties.and_then(|p| p.get(key)) {
                Some(prop) => validate(doc, prop, item, &sub, errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{sub}: not documented")),
                    Some(extra @ Value::Object(_)) => validate(doc, extra, item, &sub, errors),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(doc, item_schema, item, &format!("{path}[{i}]"), errors);
        }
    }
}

fn document() -> Value {
    serde_json::from_str(OPENAPI).unwrap_or(Value::Null)
}

fn check(doc: &Value, schema_name: &str, value: &Value) {
    let mut errors = Vec::new();
    validate(doc, &json!({"$ref": format!("#/components/schemas/{schema_name}")}), value, schema_name, &mut errors);
    assert!(errors.is_empty(), "{schema_name} does not match the OpenAPI document: {errors:#?}\n{value}");
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let doc = document();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, ops)| {
            ops.as_object().into_iter().flatten().map(move |(method, _)| (method.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut routes: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    routes.sort();
    assert_eq!(documented, routes);
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

async fn live_replies_match_the_document(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let doc = document();
    let http = reqwest::Client::new();
    let served: Value = http.get(format!("{}/api/v1/openapi.json", server.url())).send().await?.json().await?;
    assert_eq!(served, doc, "the server serves the document in docs/");
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
