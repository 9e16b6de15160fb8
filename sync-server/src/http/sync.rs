//! What devices call: health, enrolment, push and pull (`docs/protocol.md`).

use crate::AppState;
use crate::http::audit;
use crate::http::client::{ClientAddr, limit_key};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, Device, check_protocol};
use crate::http::openapi::DeviceRefusals;
use crate::services::forms;
use crate::services::sync::{clamp_stamps, clamp_state_stamps, validate_batch, validate_restore};
use crate::services::tokens::{hash_enrollment_code, hash_token, new_token};
use crate::time::now_ms;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use outpost_core::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, Health, MAX_PULL_LIMIT, MAX_PUSH_OPS, MAX_RESTORE_RECORDS,
    PROTOCOL_VERSION, PullResponse, PushRequest, PushResponse, RestoreRequest, RestoreResponse,
};
use outpost_server_store::DbError;
use outpost_server_store::audit::AuditEvent;
use outpost_server_store::sync::{NewDevice, Page, Pulled};
use serde::Deserialize;
use std::sync::Arc;

/// Default records per pull page.
pub const DEFAULT_PULL_LIMIT: u32 = 500;

/// Whether the server is up, and which version and protocol it speaks.
#[utoipa::path(get, path = "/healthz", tag = "sync", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into(), protocol: PROTOCOL_VERSION })
}

fn text_ok(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
}

/// Enrols a tablet with a one-time code; the reply carries its token (shown once).
#[utoipa::path(
    post, path = "/api/v1/enroll", tag = "sync", request_body = EnrollRequest,
    responses(
        (status = 200, body = EnrollResponse),
        (status = 401, description = "`enrollment_code_invalid`: unknown, used or expired code", body = ErrorBody),
        (status = 422, description = "`invalid_field`", body = ErrorBody),
        (status = 426, description = "`upgrade_required`, `server_too_old`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed enrolments from this address", body = ErrorBody),
    )
)]
pub async fn enroll(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    check_protocol(Some(request.protocol))?;
    state.enrol_failures.refuse_while_over(
        &limit_key(client),
        std::time::Instant::now(),
        "enrolments from this address",
    )?;
    let field_error = |field: &str, message: &str| ApiError::invalid_field(format!("{field}: {message}"));
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
    let enrolled = match state.store.enroll(&hash_enrollment_code(&request.code), device, now).await {
        Ok(enrolled) => enrolled,
        Err(e) => {
            if matches!(e, DbError::CodeInvalid) {
                let now = std::time::Instant::now();
                state.enrol_failures.failed(&limit_key(client), now);
                let address = client.to_string();
                let event =
                    AuditEvent::new("anonymous", "enroll.failed", address.clone(), "unknown, used or expired code")
                        .from_address(address.clone());
                audit::noted(&state, event).await;
                if state.enrol_failures.just_reached_limit(&limit_key(client), now) {
                    audit::noted(
                        &state,
                        AuditEvent::new("anonymous", "enroll.lockout", address.clone(), "address")
                            .from_address(address),
                    )
                    .await;
                }
            }
            return Err(e.into());
        }
    };
    tracing::info!(device = %enrolled.device_id, "device enrolled");
    let site = enrolled.sites.first().map(|s| s.name.clone()).unwrap_or_default();
    let event = AuditEvent::new(
        &format!("device:{}", enrolled.device_id),
        "enroll",
        enrolled.device_id.to_string(),
        format!("{name} at {site}"),
    )
    .from_address(client.to_string());
    // The enrolment is committed; a missing audit entry is logged loudly rather than undone.
    audit::noted(&state, event).await;
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

/// Merges a batch of the device's outbox; every acknowledged `op_seq` is durably stored.
#[utoipa::path(
    post, path = "/api/v1/sync/push", tag = "sync", request_body = PushRequest,
    params(("outpost-protocol" = u32, Header, description = "The protocol version the device speaks")),
    security(("device_token" = [])),
    responses(
        (status = 200, body = PushResponse),
        DeviceRefusals,
        (status = 403, description = "`invalid_batch` with an operation outside the device's scope", body = ErrorBody),
        (status = 413, description = "`too_many_ops`, `payload_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_batch` (details per operation), `invalid_body`", body = ErrorBody),
        (status = 415, description = "`unsupported_encoding`: a `Content-Encoding` other than zstd or gzip", body = ErrorBody),
        (status = 503, description = "`storage_busy`, `storage_unwritable`; `server_busy` (with `Retry-After`): more syncs than the server takes at once", body = ErrorBody),
        (status = 507, description = "`storage_full`", body = ErrorBody),
    )
)]
pub async fn push(
    State(state): State<Arc<AppState>>,
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
    let errors = validate_batch(&device, &request.ops);
    if !errors.is_empty() {
        return Err(ApiError::batch(errors));
    }
    let errors = forms::check_responses(&state.store, &state.forms, &device, &request.ops, now).await?;
    if !errors.is_empty() {
        return Err(ApiError::batch(errors));
    }
    let (clamped, skew) = clamp_stamps(&mut request.ops, now, state.settings.max_clock_ahead_ms);
    let acked = state.store.push(&device, request.ops, now).await?;
    if !clamped.is_empty() {
        tracing::warn!(device = %device.device_id, skew_ms = skew, count = clamped.len(), "clamped stamps from a device clock running ahead");
        state.store.flag_clock_skew(device.device_id, skew).await?;
    }
    Ok(Json(PushResponse { acked, clamped, server_time_ms: now }))
}

/// What a device holds, sent back after the server was restored from a backup older than the
/// device's last sync (the pull reply's `applied_through` was below what the device had
/// acknowledged): each state is joined into the server's record, and the device's replay mark
/// moves up to `acked_through`. Stamps ahead of the server's clock are clamped, as a push's
/// are. Idempotent; audited.
#[utoipa::path(
    post, path = "/api/v1/sync/restore", tag = "sync", request_body = RestoreRequest,
    params(("outpost-protocol" = u32, Header, description = "The protocol version the device speaks")),
    security(("device_token" = [])),
    responses(
        (status = 200, body = RestoreResponse),
        DeviceRefusals,
        (status = 403, description = "`invalid_batch` with a record outside the device's scope", body = ErrorBody),
        (status = 413, description = "`too_many_records`, `payload_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_batch` (details per record), `invalid_body`", body = ErrorBody),
        (status = 415, description = "`unsupported_encoding`: a `Content-Encoding` other than zstd or gzip", body = ErrorBody),
        (status = 503, description = "`storage_busy`, `storage_unwritable`; `server_busy` (with `Retry-After`): more syncs than the server takes at once", body = ErrorBody),
    )
)]
pub async fn restore(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    ApiJson(request): ApiJson<RestoreRequest>,
) -> Result<Json<RestoreResponse>, ApiError> {
    let now = now_ms();
    if request.records.len() > MAX_RESTORE_RECORDS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_records",
            format!("a restore carries at most {MAX_RESTORE_RECORDS} records, got {}", request.records.len()),
        ));
    }
    let errors = validate_restore(&device, &request.records);
    if !errors.is_empty() {
        return Err(ApiError::batch(errors));
    }
    let max_ahead = state.settings.max_clock_ahead_ms;
    let records = request
        .records
        .into_iter()
        .filter_map(|r| {
            let mut held = r.state;
            clamp_state_stamps(&mut held, now, max_ahead);
            Some(outpost_server_store::restore::HeldRecord {
                collection: outpost_core::Collection::from_name(&r.collection)?,
                id: r.record_id,
                site_id: r.site_id,
                state: held,
            })
        })
        .collect();
    let done = state.store.restore(&device, records, request.acked_through, now).await?;
    if done.restored > 0 || done.skipped > 0 {
        tracing::warn!(device = %device.device_id, restored = done.restored, skipped = done.skipped, "a device sent back records the server had lost (restored from an older backup?)");
        let event = AuditEvent::new(
            &format!("device:{}", device.device_id),
            "sync.restore",
            device.device_id.to_string(),
            format!("{} record(s) restored, {} skipped (cleaned-up deletions)", done.restored, done.skipped),
        );
        audit::noted(&state, event).await;
    }
    Ok(Json(RestoreResponse { restored: done.restored, skipped: done.skipped, applied_through: done.applied_through }))
}

/// Query of `GET /api/v1/sync/pull`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// Return changes with a sequence number above this cursor.
    #[serde(default)]
    pub after: u64,
    /// Records per page, 1 to 1000 (500 when absent).
    pub limit: Option<u32>,
    /// True while the device is pulling everything again after `resync_required`: cleaned-up
    /// deletions beyond `after` are then no reason to refuse the page.
    #[serde(default)]
    pub resync: bool,
}

/// A page of the merged records of the device's sites (and reference data) after its cursor.
#[utoipa::path(
    get, path = "/api/v1/sync/pull", tag = "sync", params(PullParams, ("outpost-protocol" = u32, Header)),
    security(("device_token" = [])),
    responses(
        (status = 200, body = PullResponse),
        (status = 400, description = "`invalid_query`, `invalid_limit`", body = ErrorBody),
        DeviceRefusals,
        (status = 410, description = "`resync_required`: pull everything again from cursor 0", body = ErrorBody),
        (status = 503, description = "`server_busy` (with `Retry-After`): more syncs than the server takes at once", body = ErrorBody),
    )
)]
pub async fn pull(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    query: Result<Query<PullParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::invalid_query(e.body_text()))?;
    let limit = params.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    if !(1..=MAX_PULL_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", format!("limit must be between 1 and {MAX_PULL_LIMIT}")));
    }
    let page = match state.store.pull(&device, params.after, limit, params.resync).await? {
        Pulled::Page(page) => page,
        Pulled::ResyncRequired => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "resync_required",
                "deletions this device has not seen were cleaned up on the server; pull everything again from cursor 0",
            ));
        }
    };
    let body = pull_body(&page, params.after, now_ms(), &device.org_info()).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Writes a [`PullResponse`] with each record's stored state spliced in as it is, instead of
/// decoding and re-encoding every state (the bulk of a page).
fn pull_body(
    page: &Page,
    after: u64,
    server_time_ms: u64,
    org: &outpost_core::wire::OrgInfo,
) -> Result<String, serde_json::Error> {
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
    let next_cursor = page.next_cursor.max(after);
    let _ = write!(
        out,
        "],\"next_cursor\":{next_cursor},\"has_more\":{},\"remaining\":{},\"server_time_ms\":{server_time_ms},\"applied_through\":{},\"org\":{}}}",
        page.remaining > 0,
        page.remaining,
        page.applied_through,
        serde_json::to_string(org)?
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::RecordId;
    use outpost_server_store::sync::RawRecord;

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
            next_cursor: 9,
            applied_through: 4,
        };
        let org = outpost_core::wire::OrgInfo {
            name: "Harm \"reduction\" NGO".into(),
            default_language: "ru".into(),
            uic_scheme: outpost_core::uic::UicScheme::surname_day_year(),
            client_index: true,
        };
        let body = pull_body(&page, 5, 42, &org).expect("serialises");
        let decoded: PullResponse = serde_json::from_str(&body).expect("decodes");
        assert_eq!(
            (decoded.next_cursor, decoded.has_more, decoded.remaining, decoded.server_time_ms),
            (9, true, 3, 42)
        );
        assert_eq!(decoded.records.len(), 2);
        assert_eq!(decoded.records[1].site_id, Some(outpost_core::SiteId::nil()));
        assert_eq!(decoded.org, Some(org.clone()), "the organisation travels with the page");
        assert_eq!(decoded.applied_through, Some(4), "and the device's replay mark");
        let empty = pull_body(&Page { records: vec![], remaining: 0, next_cursor: 0, applied_through: 0 }, 5, 1, &org)
            .expect("serialises");
        let decoded: PullResponse = serde_json::from_str(&empty).expect("decodes");
        assert_eq!((decoded.next_cursor, decoded.has_more), (5, false));
    }
}
