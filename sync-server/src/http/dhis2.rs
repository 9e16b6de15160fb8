//! Sending indicator sets to DHIS2 (`/api/v1/dashboard/admin/dhis2/*`): the connection and the
//! mappings (CSV) for admins; a period's preview, the ADX or `dataValueSets` file and the send
//! itself for admins and coordinators (their own sites). The rules, checks and audit entries are `services::admin::dhis2`'s.

use crate::AppState;
use crate::http::admin::actor;
use crate::http::client::ClientAddr;
use crate::http::dashboard::{ReportParams, filter, unsuppressed_view};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, ApiJson, Coordinator};
use crate::http::openapi::SessionRefusals;
use crate::services::admin::dhis2::{
    self, ConnectionForm, Dhis2Preview, Dhis2Settings, ExportFormat, SendOutcome, SendRequest,
};
use crate::services::reports::Filter;
use crate::services::reports::filters::{first, query_pairs};
use crate::time::now_ms;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use outpost_core::wire::ErrorBody;
use std::sync::Arc;

/// The DHIS2 server (address; whether a token is set, never the token) and the saved mappings.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/dhis2", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Dhis2Settings), SessionRefusals))]
pub async fn settings(
    State(state): State<Arc<AppState>>,
    Coordinator(_session): Coordinator,
) -> Result<Json<Dhis2Settings>, ApiError> {
    Ok(Json(dhis2::settings(&state.store).await?))
}

/// Sets the DHIS2 server's address and personal access token (kept sealed; absent keeps the
/// stored one). Audited, without the token.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/dhis2/connection", tag = "admin", security(("session" = []), ("csrf" = [])),
    request_body = ConnectionForm,
    responses((status = 200, body = Dhis2Settings),
        (status = 422, description = "`invalid_field`: an address that is not https:// (or http:// to this machine), holds a password or a query; a malformed token", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn set_connection(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Admin(session): Admin,
    ApiJson(form): ApiJson<ConnectionForm>,
) -> Result<Json<Dhis2Settings>, ApiError> {
    Ok(Json(dhis2::set_connection(&state.store, &actor(&session, client), &form).await?))
}

/// Imports the mapping of a set (the CSV file as the body, `text/csv`): checked row by row
/// against the set and the sites; saved only if every row is right. Audited.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/dhis2/mappings/{set}", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("set" = String, Path, description = "The indicator set's key")),
    request_body(content = String, content_type = "text/csv", description = "kind,key,cell,uid,category_option_combo,attribute_option_combo rows (docs/dhis2.md)"),
    responses((status = 200, body = Dhis2Settings),
        (status = 404, description = "`not_found`: no such set", body = ErrorBody),
        (status = 422, description = "`invalid_field`: each problem with its row (unknown indicator or cell, malformed UID, a target or source twice, an unknown site, no data set)", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn save_mapping(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Admin(session): Admin,
    Path(set): Path<String>,
    body: Bytes,
) -> Result<Json<Dhis2Settings>, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid_field("the mapping is not UTF-8 text: save the sheet as CSV UTF-8"))?;
    Ok(Json(dhis2::save_mapping(&state.store, &actor(&session, client), &set, text).await?))
}

/// What a period of the set would send: the values per org unit, those held back (suppressed
/// or not computable), the set's numbers the mapping does not send, and sites without an org
/// unit. Takes the report parameters; the period must be one DHIS2 stores and be over.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/dhis2/{set}/preview", tag = "admin", security(("session" = [])),
    params(("set" = String, Path, description = "The indicator set's key"), ReportParams),
    responses((status = 200, body = Dhis2Preview), (status = 400, body = ErrorBody),
        (status = 404, description = "`not_found`: no such set, or no mapping for it", body = ErrorBody),
        (status = 409, description = "`clash`: the saved mapping no longer fits the sites", body = ErrorBody),
        (status = 422, description = "`invalid_field`: not a DHIS2 period, or not over", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`", body = ErrorBody), SessionRefusals))]
pub async fn preview(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(set): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Dhis2Preview>, ApiError> {
    let filter = filter(&session, raw.as_deref())?;
    unsuppressed_view(&state, &session, client, &format!("dhis2 preview {set}"), &filter).await?;
    Ok(Json(dhis2::preview(&state.store, &set, &filter).await?))
}

/// The period's values as a file: ADX XML (`format=adx`, the default) or DHIS2
/// `dataValueSets` JSON (`format=json`). Audited.
#[utoipa::path(get, path = "/api/v1/dashboard/admin/dhis2/{set}/export", tag = "admin", security(("session" = [])),
    params(("set" = String, Path, description = "The indicator set's key"), ReportParams,
        ("format" = Option<String>, Query, description = "`adx` (default) or `json`")),
    responses((status = 200, description = "The file, as an attachment", content_type = "application/adx+xml"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "`invalid_field`: not a DHIS2 period, not over, a site without an org unit, nothing to send", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was done", body = ErrorBody), SessionRefusals))]
pub async fn export(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(set): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(raw.as_deref())?;
    let format = ExportFormat::parse(first(&pairs, "format")).ok_or_else(|| {
        ApiError::invalid_query(format!("format: {:?} is not adx or json", first(&pairs, "format").unwrap_or("")))
    })?;
    let filter = filter(&session, raw.as_deref())?;
    let (name, content_type, body) =
        dhis2::export(&state.store, &actor(&session, client), &set, &filter, format).await?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Sends the period to the DHIS2 server: a dry run first, then the import unless `dry_run` or
/// DHIS2 would refuse a value (nothing is imported then). Audited before sending; the import
/// summary is returned. Sending a period again updates the same values.
#[utoipa::path(post, path = "/api/v1/dashboard/admin/dhis2/{set}/send", tag = "admin", security(("session" = []), ("csrf" = [])),
    params(("set" = String, Path, description = "The indicator set's key")),
    request_body = SendRequest,
    responses((status = 200, body = SendOutcome), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`clash`: no DHIS2 server set, or the mapping no longer fits", body = ErrorBody),
        (status = 422, description = "`invalid_field`: not a DHIS2 period, not over, a site without an org unit, nothing to send", body = ErrorBody),
        (status = 502, description = "`upstream`: DHIS2 unreachable, refusing the token, or answering without an import summary", body = ErrorBody),
        (status = 503, description = "`audit_unavailable`: nothing was sent", body = ErrorBody), SessionRefusals))]
pub async fn send(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(set): Path<String>,
    ApiJson(request): ApiJson<SendRequest>,
) -> Result<Json<SendOutcome>, ApiError> {
    let filter = Filter::parse(&request.pairs(), &session.user.site_ids(), now_ms())?;
    Ok(Json(dhis2::send(&state.store, &actor(&session, client), &set, &filter, request.dry_run).await?))
}
