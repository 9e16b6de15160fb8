//! HTTP API: routes, extractors that turn every bad request into a specific JSON error, and the
//! handlers for health, enrolment, push and pull.

use crate::AppState;
use crate::db::{AuditEvent, Batch, DeviceAuth, NewDevice, Page, Storage, TokenCheck};
use crate::error::ApiError;
use crate::time::now_ms;
use crate::tokens::{hash_enrollment_code, hash_token, new_token};
use crate::{dashboard, web};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use outpost_core::HlcClock;
use outpost_core::schema::{Mutability, validate_fields};
use outpost_core::wire::{
    EnrollRequest, EnrollResponse, ErrorDetail, Health, MAX_PULL_LIMIT, MAX_PUSH_OPS, MIN_PROTOCOL_VERSION, OpKind,
    PROTOCOL_HEADER, PROTOCOL_VERSION, PushRequest, PushResponse,
};
use outpost_core::{Collection, DeviceId};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

/// Every route, as `(method, path)`. The OpenAPI test checks this list against the document.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/enroll"),
    ("post", "/api/v1/sync/push"),
    ("get", "/api/v1/sync/pull"),
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/dashboard/sites"),
    ("get", "/api/v1/dashboard/indicators"),
    ("get", "/api/v1/dashboard/trends"),
    ("get", "/api/v1/dashboard/surveys"),
    ("get", "/api/v1/dashboard/stock"),
    ("get", "/api/v1/dashboard/devices"),
    ("get", "/api/v1/dashboard/conflicts"),
    ("post", "/api/v1/dashboard/conflicts/{id}/resolve"),
    ("get", "/api/v1/dashboard/export/{kind}"),
    ("get", "/api/v1/dashboard/audit"),
];

/// The OpenAPI document, served as written in `docs/openapi.json`.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// Default records per pull page.
pub const DEFAULT_PULL_LIMIT: u32 = 500;

/// The server's clock for clamping stamps from devices whose clock runs ahead: every clamped
/// stamp gets a distinct, increasing (wall, counter) pair.
static CLAMP_CLOCK: Mutex<Option<HlcClock>> = Mutex::new(None);

/// Builds the router over shared state.
pub fn app<S: Storage>(state: Arc<AppState<S>>) -> Router {
    let body_limit = state.settings.max_body_bytes;
    let timeout = Duration::from_secs(state.settings.request_timeout_secs);
    Router::new()
        .route("/healthz", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/enroll", post(enroll::<S>))
        .route("/api/v1/sync/push", post(push::<S>))
        .route("/api/v1/sync/pull", get(pull::<S>))
        .route("/api/v1/auth/login", post(web::login::<S>))
        .route("/api/v1/auth/me", get(web::me))
        .route("/api/v1/auth/logout", post(web::logout::<S>))
        .route("/api/v1/dashboard/sites", get(dashboard::sites::<S>))
        .route("/api/v1/dashboard/indicators", get(dashboard::indicators::<S>))
        .route("/api/v1/dashboard/trends", get(dashboard::trends::<S>))
        .route("/api/v1/dashboard/surveys", get(dashboard::surveys::<S>))
        .route("/api/v1/dashboard/stock", get(dashboard::stock::<S>))
        .route("/api/v1/dashboard/devices", get(dashboard::devices::<S>))
        .route("/api/v1/dashboard/conflicts", get(dashboard::conflicts::<S>))
        .route("/api/v1/dashboard/conflicts/{id}/resolve", post(dashboard::resolve_conflict::<S>))
        .route("/api/v1/dashboard/export/{kind}", get(dashboard::export::<S>))
        .route("/api/v1/dashboard/audit", get(dashboard::audit_log::<S>))
        .route("/", get(|| async { axum::response::Redirect::to("/dashboard/") }))
        .nest_service("/dashboard", dashboard_files(&state.settings.dashboard_dir))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        // On every response: nothing is cached (replies hold client data), sniffed, framed, or
        // leaked through the referrer.
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .with_state(state)
}

/// The dashboard's files, with a CSP that allows only its own scripts, styles and images. An
/// unknown path under it serves `index.html` (the page routes itself); `..` never leaves it.
fn dashboard_files(dir: &std::path::Path) -> Router {
    use tower_http::services::{ServeDir, ServeFile};
    let index = dir.join("index.html");
    let files = ServeDir::new(dir).fallback(ServeFile::new(index));
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        ))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint; see /api/v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not accept that method")
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into(), protocol: PROTOCOL_VERSION })
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// JSON body extractor whose every rejection is a specific [`ApiError`].
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
        });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| json_rejection(JsonRejection::BytesRejection(e)))?;
        // The fast decoder first; on failure, axum's decoder, whose message names the path of
        // the bad value ("ops[3].stamp: ...").
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(ApiJson(value)),
            Err(_) => match Json::<T>::from_bytes(&bytes) {
                Ok(Json(value)) => Ok(ApiJson(value)),
                Err(rejection) => Err(json_rejection(rejection)),
            },
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", text),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("malformed_json", text),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than the server accepts; send smaller batches",
        ),
        other => ApiError::bad_request("unreadable_body", other.body_text()),
    }
}

/// Checks the protocol version a device speaks.
fn check_protocol(version: Option<u32>) -> Result<(), ApiError> {
    match version {
        None => Err(ApiError::bad_request("missing_protocol", format!("send the {PROTOCOL_HEADER} header"))),
        Some(v) if v < MIN_PROTOCOL_VERSION => Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            format!(
                "this app speaks protocol {v}; the server needs {MIN_PROTOCOL_VERSION} or newer: please update the app"
            ),
        )),
        Some(v) if v > PROTOCOL_VERSION => Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "server_too_old",
            format!(
                "this app speaks protocol {v}; the server only knows up to {PROTOCOL_VERSION}: the server needs an update"
            ),
        )),
        Some(_) => Ok(()),
    }
}

fn header_protocol(headers: &HeaderMap) -> Result<Option<u32>, ApiError> {
    headers
        .get(PROTOCOL_HEADER)
        .map(|v| {
            v.to_str().ok().and_then(|s| s.trim().parse().ok()).ok_or_else(|| {
                ApiError::bad_request("invalid_protocol", format!("the {PROTOCOL_HEADER} header must be a number"))
            })
        })
        .transpose()
}

/// An authenticated device speaking a supported protocol.
pub struct Device(pub DeviceAuth);

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<S>>) -> Result<Self, Self::Rejection> {
        check_protocol(header_protocol(&parts.headers)?)?;
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing_token", "send the device token as Authorization: Bearer <token>")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| {
                ApiError::unauthorized("invalid_token", "the Authorization header must be Bearer <token>")
            })?;
        let check = state.storage.authenticate(&hash_token(token), now_ms(), state.settings.token_ttl_ms()).await?;
        match check {
            TokenCheck::Valid(device) => Ok(Device(device)),
            TokenCheck::Unknown => Err(ApiError::unauthorized("invalid_token", "this device token is not known")),
            TokenCheck::Expired => Err(ApiError::unauthorized(
                "token_expired",
                "this device has not synced for too long and its token expired; enrol it again",
            )),
            TokenCheck::Revoked => Err(ApiError::unauthorized(
                "device_revoked",
                "this device was revoked by a coordinator; its local data must be wiped",
            )),
        }
    }
}

fn text_ok(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
}

async fn enroll<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    check_protocol(Some(request.protocol))?;
    if let Some(wait) = state.enrol_failures.retry_after(&peer.ip(), std::time::Instant::now()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed enrolments from this address: try again in {} seconds", wait.as_secs().max(1)),
        ));
    }
    let field_error = |field: &str, message: &str| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", format!("{field}: {message}"))
    };
    if !text_ok(&request.code, 64) {
        return Err(field_error("code", "the enrolment code is missing or too long"));
    }
    if !text_ok(&request.device_name, 100) {
        return Err(field_error("device_name", "give the device a name of 1 to 100 characters"));
    }
    if !text_ok(&request.app_version, 50) {
        return Err(field_error("app_version", "1 to 50 characters"));
    }
    let token = new_token();
    let now = now_ms();
    let device = NewDevice {
        name: request.device_name.trim().to_string(),
        app_version: request.app_version,
        token_hash: hash_token(&token),
        token_expires_ms: now.saturating_add(state.settings.token_ttl_ms()),
    };
    let name = device.name.clone();
    let enrolled = match state.storage.enroll(&hash_enrollment_code(&request.code), device, now).await {
        Ok(enrolled) => enrolled,
        Err(e) => {
            if matches!(e, crate::db::DbError::CodeInvalid) {
                state.enrol_failures.failed(&peer.ip(), std::time::Instant::now());
            }
            return Err(e.into());
        }
    };
    tracing::info!(device = %enrolled.device_id, "device enrolled");
    let site = enrolled.sites.first().map(|s| s.name.clone()).unwrap_or_default();
    let event = AuditEvent {
        address: Some(peer.ip().to_string()),
        ..AuditEvent::new(
            &format!("device:{}", enrolled.device_id),
            "enroll",
            enrolled.device_id.to_string(),
            format!("{name} at {site}"),
        )
    };
    if let Err(e) = state.storage.append_audit(event, now).await {
        // The enrolment is committed; a missing audit entry is logged loudly rather than undone.
        tracing::error!(error = %e, device = %enrolled.device_id, "could not write the audit entry of an enrolment");
    }
    Ok(Json(EnrollResponse {
        device_id: enrolled.device_id,
        token,
        org_id: enrolled.org_id,
        org_name: enrolled.org_name,
        sites: enrolled.sites,
        uic_scheme: enrolled.uic_scheme,
        server_time_ms: now,
    }))
}

fn detail(index: usize, op_seq: u64, field: Option<String>, code: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail { index, op_seq: Some(op_seq), field, code: code.into(), message: message.into() }
}

/// Checks every operation of a batch against the device's scope and the schema. Returns the
/// problems of all operations, so a device can set aside exactly the bad ones.
fn validate_batch(device: &DeviceAuth, request: &PushRequest) -> Vec<ErrorDetail> {
    let mut errors = Vec::new();
    let mut previous = 0;
    for (index, op) in request.ops.iter().enumerate() {
        let seq = op.op_seq;
        if seq == 0 {
            errors.push(detail(index, seq, None, "invalid_op_seq", "op_seq starts at 1"));
            continue;
        }
        if seq <= previous {
            errors.push(detail(
                index,
                seq,
                None,
                "op_seq_order",
                "operations must be sent in increasing op_seq order, each once",
            ));
            continue;
        }
        previous = seq;
        let Some(collection) = Collection::from_name(&op.collection) else {
            errors.push(detail(
                index,
                seq,
                None,
                "unknown_collection",
                format!("unknown collection {:?}", op.collection),
            ));
            continue;
        };
        if collection.mutability() == Mutability::Reference {
            errors.push(detail(
                index,
                seq,
                None,
                "read_only_collection",
                format!("{collection} is authored on the server"),
            ));
            continue;
        }
        if !device.sites.contains(&op.site_id) {
            errors.push(detail(
                index,
                seq,
                None,
                "site_not_enrolled",
                "this device is not enrolled for the record's site",
            ));
            continue;
        }
        if op.stamp.device != device.device_id {
            errors.push(detail(index, seq, None, "stamp_device_mismatch", "the stamp names another device"));
            continue;
        }
        match op.kind {
            OpKind::Delete if !op.fields.is_empty() => {
                errors.push(detail(index, seq, None, "fields_on_delete", "a delete carries no fields"));
            }
            OpKind::Delete => {}
            kind => {
                if let Err(field_errors) =
                    validate_fields(collection, &op.fields, kind == OpKind::Create, &device.uic_scheme)
                {
                    errors
                        .extend(field_errors.into_iter().map(|e| detail(index, seq, Some(e.field), e.code, e.message)));
                }
            }
        }
    }
    errors
}

/// Moves stamps that run ahead of the server clock back to it; returns the clamped `op_seq`s
/// and the largest skew seen.
fn clamp_stamps(request: &mut PushRequest, now: u64, max_ahead_ms: u64) -> (Vec<u64>, i64) {
    let mut clamped = Vec::new();
    let mut skew = 0i64;
    let limit = now.saturating_add(max_ahead_ms);
    let mut clock = CLAMP_CLOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let clock = clock.get_or_insert_with(|| HlcClock::new(DeviceId::nil()));
    for op in &mut request.ops {
        if op.stamp.wall_ms > limit {
            skew = skew.max(op.stamp.wall_ms.saturating_sub(now) as i64);
            // Moved to the limit, not to `now`: an earlier edit of the same device that was
            // within the limit keeps sorting before this one.
            let t = clock.tick(limit);
            op.stamp = op.stamp.clamped_to(t.wall_ms, t.counter);
            clamped.push(op.op_seq);
        }
    }
    (clamped, skew)
}

async fn push<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Device(device): Device,
    ApiJson(mut request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let now = now_ms();
    if request.ops.len() > MAX_PUSH_OPS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_ops",
            format!("a push carries at most {MAX_PUSH_OPS} operations, got {}", request.ops.len()),
        ));
    }
    let errors = validate_batch(&device, &request);
    if !errors.is_empty() {
        let scope = errors.iter().any(|e| e.code == "site_not_enrolled" || e.code == "stamp_device_mismatch");
        let status = if scope { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY };
        return Err(ApiError::batch(status, errors));
    }
    let purged = crate::purge::refuse_purged(&state.storage, device.org_id, &request.ops).await?;
    if !purged.is_empty() {
        return Err(ApiError::batch(StatusCode::UNPROCESSABLE_ENTITY, purged));
    }
    let (clamped, skew) = clamp_stamps(&mut request, now, state.settings.max_clock_ahead_ms);
    let acked = state.storage.push(&device, Batch { ops: request.ops }, now).await?;
    if !clamped.is_empty() {
        tracing::warn!(device = %device.device_id, skew_ms = skew, count = clamped.len(), "clamped stamps from a device clock running ahead");
        state.storage.flag_clock_skew(device.device_id, skew, now).await?;
    }
    Ok(Json(PushResponse { acked, clamped, server_time_ms: now }))
}

/// Query of `GET /api/v1/sync/pull`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullParams {
    /// Return changes with a sequence number above this cursor.
    #[serde(default)]
    pub after: u64,
    pub limit: Option<u32>,
}

async fn pull<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Device(device): Device,
    query: Result<Query<PullParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let limit = params.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    if !(1..=MAX_PULL_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", format!("limit must be between 1 and {MAX_PULL_LIMIT}")));
    }
    if params.after > 0 && params.after < crate::purge::horizon(&state.storage, device.org_id).await? {
        return Err(ApiError::new(
            StatusCode::GONE,
            "resync_required",
            "deletions this device has not seen were cleaned up on the server; pull everything again from cursor 0",
        ));
    }
    let page = state.storage.pull(&device, params.after, limit).await?;
    let body = pull_body(&page, params.after, now_ms()).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Writes a [`PullResponse`] with each record's stored state spliced in as it is, instead of
/// decoding and re-encoding every state (the bulk of a page).
fn pull_body(page: &Page, after: u64, server_time_ms: u64) -> Result<String, serde_json::Error> {
    use std::fmt::Write;
    let size: usize = page.records.iter().map(|r| r.state_json.len() + 160).sum();
    let mut out = String::with_capacity(size + 128);
    out.push_str("{\"records\":[");
    for (i, r) in page.records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let site = r.site_id.map_or_else(|| "null".to_string(), |s| format!("\"{s}\""));
        let collection = serde_json::to_string(&r.collection)?;
        let _ = write!(
            out,
            "{{\"seq\":{},\"collection\":{collection},\"record_id\":\"{}\",\"site_id\":{site},\"state\":{}}}",
            r.seq, r.record_id, r.state_json
        );
    }
    let next_cursor = page.records.last().map_or(after, |r| r.seq);
    let _ = write!(
        out,
        "],\"next_cursor\":{next_cursor},\"has_more\":{},\"remaining\":{},\"server_time_ms\":{server_time_ms}}}",
        page.remaining > 0,
        page.remaining
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::RawRecord;
    use outpost_core::RecordId;
    use outpost_core::wire::PullResponse;

    #[test]
    fn spliced_pull_body_decodes_as_a_pull_response() {
        let state = r#"{"fields":{"name":{"v":"A \"quoted\" name","t":"000000000000001-00000-00000000-0000-0000-0000-000000000000"}}}"#;
        let page = Page {
            records: vec![
                RawRecord {
                    seq: 7,
                    collection: "sites".into(),
                    record_id: RecordId::nil(),
                    site_id: None,
                    state_json: state.into(),
                },
                RawRecord {
                    seq: 9,
                    collection: "clients".into(),
                    record_id: RecordId::nil(),
                    site_id: Some(outpost_core::SiteId::nil()),
                    state_json: state.into(),
                },
            ],
            remaining: 3,
        };
        let body = pull_body(&page, 5, 42).expect("serialises");
        let decoded: PullResponse = serde_json::from_str(&body).expect("decodes");
        assert_eq!(
            (decoded.next_cursor, decoded.has_more, decoded.remaining, decoded.server_time_ms),
            (9, true, 3, 42)
        );
        assert_eq!(decoded.records.len(), 2);
        assert_eq!(decoded.records[1].site_id, Some(outpost_core::SiteId::nil()));
        let empty = pull_body(&Page { records: vec![], remaining: 0 }, 5, 1).expect("serialises");
        let decoded: PullResponse = serde_json::from_str(&empty).expect("decodes");
        assert_eq!((decoded.next_cursor, decoded.has_more), (5, false));
    }
}
