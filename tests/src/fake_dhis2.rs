//! A stand-in for a DHIS2 server's aggregate data import, for tests (a real DHIS2 instance
//! cannot run here): `POST /api/dataValueSets` as DHIS2 2.38 and later answers it, an import
//! summary wrapped in a web message. It keeps each value under DHIS2's key (data element,
//! period, org unit, category option combo, attribute option combo), so a value sent again is
//! updated (or ignored when unchanged), never added twice; honours `dryRun`; knows only the data
//! elements it is given (others are conflicts, HTTP 409, and the rest of the batch is still
//! imported, as DHIS2 does without an atomic mode); and takes one token (`Authorization:
//! ApiToken …`), answering 401 to any other and 403 to the one without the right to write.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// The token the fake accepts.
pub const GOOD_TOKEN: &str = "d2pat_fakeGoodToken0123456789abcdef";
/// A token the fake knows but that may not write data.
pub const READ_ONLY_TOKEN: &str = "d2pat_fakeReadOnly0123456789abcdef";

/// (data element, period, org unit, category option combo, attribute option combo).
pub type Key = (String, String, String, String, String);

#[derive(Default)]
pub struct Inner {
    pub values: BTreeMap<Key, String>,
    /// Every request's `dryRun` flag and body, in order.
    pub requests: Vec<(bool, Value)>,
    pub known_elements: BTreeSet<String>,
}

/// A running fake on a loopback port.
pub struct FakeDhis2 {
    pub url: String,
    pub inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDhis2 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeDhis2 {
    /// Starts a fake that knows `elements` (data element UIDs).
    pub async fn start(elements: &[&str]) -> anyhow::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            known_elements: elements.iter().map(|e| e.to_string()).collect(),
            ..Inner::default()
        }));
        let app = axum::Router::new().route("/api/dataValueSets", post(import)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, inner, task })
    }

    /// The values stored.
    pub fn values(&self) -> BTreeMap<Key, String> {
        self.inner.lock().map(|i| i.values.clone()).unwrap_or_default()
    }

    /// How many requests arrived, and how many of them were dry runs.
    pub fn requests(&self) -> (usize, usize) {
        self.inner.lock().map(|i| (i.requests.len(), i.requests.iter().filter(|(d, _)| *d).count())).unwrap_or_default()
    }
}

fn text(v: &Value, name: &str) -> String {
    v.get(name).and_then(|x| x.as_str()).unwrap_or_default().to_string()
}

async fn import(
    State(inner): State<Arc<Mutex<Inner>>>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth == format!("ApiToken {READ_ONLY_TOKEN}") {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"httpStatus": "Forbidden", "httpStatusCode": 403, "status": "ERROR",
                        "message": "User is not allowed to write data values"})),
        );
    }
    if auth != format!("ApiToken {GOOD_TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"httpStatus": "Unauthorized", "httpStatusCode": 401, "status": "ERROR",
                        "message": "Unauthorized"})),
        );
    }
    let dry_run = params.get("dryRun").is_some_and(|v| v == "true");
    let Ok(mut state) = inner.lock() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"status": "ERROR"})));
    };
    state.requests.push((dry_run, body.clone()));
    let (mut imported, mut updated, mut ignored) = (0, 0, 0);
    let mut conflicts = Vec::new();
    let top_period = text(&body, "period");
    let top_org_unit = text(&body, "orgUnit");
    for v in body.get("dataValues").and_then(|d| d.as_array()).into_iter().flatten() {
        let element = text(v, "dataElement");
        if !state.known_elements.contains(&element) {
            conflicts.push(json!({"object": element, "value": "Data element not found or not accessible"}));
            ignored += 1;
            continue;
        }
        let period = Some(text(v, "period")).filter(|p| !p.is_empty()).unwrap_or_else(|| top_period.clone());
        let org_unit = Some(text(v, "orgUnit")).filter(|p| !p.is_empty()).unwrap_or_else(|| top_org_unit.clone());
        let key = (element, period, org_unit, text(v, "categoryOptionCombo"), text(v, "attributeOptionCombo"));
        let value = text(v, "value");
        match state.values.get(&key) {
            None => imported += 1,
            Some(old) if *old == value => ignored += 1,
            Some(_) => updated += 1,
        }
        if !dry_run {
            state.values.insert(key, value);
        }
    }
    let status = if conflicts.is_empty() { "SUCCESS" } else { "WARNING" };
    let code = if conflicts.is_empty() { StatusCode::OK } else { StatusCode::CONFLICT };
    (
        code,
        Json(json!({
            "httpStatus": if conflicts.is_empty() { "OK" } else { "Conflict" },
            "httpStatusCode": code.as_u16(),
            "status": if conflicts.is_empty() { "OK" } else { "WARNING" },
            "message": if conflicts.is_empty() { "Import was successful." } else { "One more conflicts encountered, please check import summary." },
            "response": {
                "responseType": "ImportSummary",
                "status": status,
                "importOptions": {"dryRun": dry_run, "importStrategy": params.get("importStrategy")},
                "importCount": {"imported": imported, "updated": updated, "ignored": ignored, "deleted": 0},
                "conflicts": conflicts,
            }
        })),
    )
}
