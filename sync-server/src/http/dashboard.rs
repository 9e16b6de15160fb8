//! The coordinators' dashboard API (`/api/v1/dashboard/*`, contract in
//! `docs/dashboard-api.md`): indicators, trends, surveys, stock, devices, conflict review,
//! exports (CSV and XLSX, audited) and the audit log. Every handler starts from a
//! [`Coordinator`] or [`Admin`] session and sees only that user's sites; none holds SQL.

use crate::AppState;
use crate::http::audit;
use crate::http::client::ClientAddr;
use crate::http::error::ApiError;
use crate::http::extract::{Admin, ApiJson, Coordinator};
use crate::http::openapi::SessionRefusals;
use crate::services::accounts::Session;
use crate::services::conflicts::{self, ConflictAction, ConflictView};
use crate::services::reports::export::{self, EXPORT_KINDS, Format};
use crate::services::reports::filters::{first, only, query_pairs, scoped_sites};
use crate::services::reports::sets::{self, SetReport, SetSummary};
use crate::services::reports::{self, Filter, IndicatorReport, Stock, SurveyResults, Trends};
use crate::time::now_ms;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use outpost_core::wire::ErrorBody;
use outpost_server_store::conflicts::{Resolution, ResolveRefusal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Most audit entries the audit page shows.
const AUDIT_PAGE: u32 = 500;

/// A report viewed with small-cell suppression off is recorded first (refused if it cannot be).
pub(crate) async fn unsuppressed_view(
    state: &AppState,
    session: &Session,
    client: std::net::IpAddr,
    report: &str,
    filter: &Filter,
) -> Result<(), ApiError> {
    if filter.suppress {
        return Ok(());
    }
    let detail =
        format!("{} to {}, {} site(s), small-cell suppression OFF", filter.from, filter.to, filter.sites.len());
    audit::required(state, audit::by_user(session, client, "report.unsuppressed", report.into(), detail)).await
}

pub(crate) fn filter(session: &Session, raw: Option<&str>) -> Result<Filter, ApiError> {
    Ok(Filter::parse(&query_pairs(raw)?, &session.user.site_ids(), now_ms())?)
}

#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SiteOut {
    id: String,
    name: String,
    pwid_estimate: Option<i64>,
}

/// The sites the user may see.
#[utoipa::path(get, path = "/api/v1/dashboard/sites", tag = "dashboard", security(("session" = [])),
    responses((status = 200, body = Vec<SiteOut>), SessionRefusals))]
pub async fn sites(
    State(state): State<Arc<AppState>>,
    Coordinator(session): Coordinator,
) -> Result<Json<Vec<SiteOut>>, ApiError> {
    let mine = session.user.site_ids();
    Ok(Json(
        state
            .store
            .list_sites()
            .await?
            .into_iter()
            .filter(|s| mine.contains(&s.id))
            .map(|s| SiteOut { id: s.id.to_string(), name: s.name, pwid_estimate: s.pwid_estimate })
            .collect(),
    ))
}

/// The indicators for a period and sites. Parameters: `from`, `to` (YYYY-MM-DD, inclusive;
/// default the current month), `site` (repeated; default all of the user's), `suppress`.
#[utoipa::path(get, path = "/api/v1/dashboard/indicators", tag = "dashboard", security(("session" = [])),
    params(ReportParams),
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, body = IndicatorReport), (status = 400, description = "`invalid_query`", body = ErrorBody),
        SessionRefusals))]
pub async fn indicators(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<IndicatorReport>, ApiError> {
    let filter = filter(&session, raw.as_deref())?;
    unsuppressed_view(&state, &session, client, "indicators", &filter).await?;
    Ok(Json(reports::indicators(&state.store, &filter).await?))
}

/// The indicator sets: the programme's own and its donors', with their indicators.
#[utoipa::path(get, path = "/api/v1/dashboard/indicator-sets", tag = "dashboard", security(("session" = [])),
    responses((status = 200, body = Vec<SetSummary>), SessionRefusals))]
pub async fn indicator_sets(Coordinator(_session): Coordinator) -> Json<Vec<SetSummary>> {
    Json(sets::summaries())
}

/// One indicator set computed for a period and sites, in the donor's shape: each indicator with
/// its tables of disaggregations (every cell listed), suppressed like the other reports. Takes
/// the report parameters; a period that starts in the future is refused.
#[utoipa::path(get, path = "/api/v1/dashboard/indicator-sets/{set}", tag = "dashboard", security(("session" = [])),
    params(("set" = String, Path, description = "The set's key, from `/api/v1/dashboard/indicator-sets`"), ReportParams),
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, body = SetReport), (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 404, description = "no such set", body = ErrorBody), SessionRefusals))]
pub async fn indicator_set(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SetReport>, ApiError> {
    let set = sets::find(&key).ok_or_else(|| {
        let known: Vec<&str> = sets::registry().iter().map(|s| s.key.as_str()).collect();
        ApiError::not_found(format!("no indicator set named {key:?}; use one of {}", known.join(", ")))
    })?;
    let filter = filter(&session, raw.as_deref())?;
    if filter.from > crate::time::date_of(now_ms()) {
        return Err(ApiError::invalid_query(format!("from: the period starts in the future ({})", filter.from)));
    }
    unsuppressed_view(&state, &session, client, &format!("indicator set {key}"), &filter).await?;
    Ok(Json(sets::report(&state.store, set, &filter).await?))
}

/// The parameters every report takes.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParams {
    /// First day, YYYY-MM-DD (default: the first of the current month).
    from: Option<String>,
    /// Last day, inclusive (default: the end of the current month).
    to: Option<String>,
    /// A site id; repeat for several (default: all of the user's sites).
    site: Option<Vec<String>>,
    /// `false` shows cells under 5 people (audited in exports).
    suppress: Option<bool>,
}

/// Monthly trends and the split by site.
#[utoipa::path(get, path = "/api/v1/dashboard/trends", tag = "dashboard", security(("session" = [])), params(ReportParams),
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, body = Trends), (status = 400, body = ErrorBody), SessionRefusals))]
pub async fn trends(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<Trends>, ApiError> {
    let filter = filter(&session, raw.as_deref())?;
    unsuppressed_view(&state, &session, client, "trends", &filter).await?;
    Ok(Json(reports::trends(&state.store, &filter).await?))
}

/// Survey answers per question (hidden under 5 responses; free text never sent).
#[utoipa::path(get, path = "/api/v1/dashboard/surveys", tag = "dashboard", security(("session" = [])), params(ReportParams),
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, body = SurveyResults), (status = 400, body = ErrorBody), SessionRefusals))]
pub async fn surveys(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<SurveyResults>, ApiError> {
    let filter = filter(&session, raw.as_deref())?;
    unsuppressed_view(&state, &session, client, "surveys", &filter).await?;
    Ok(Json(reports::surveys(&state.store, &filter).await?))
}

/// Stock per site and commodity with days left, movements and the last 90 days' levels.
#[utoipa::path(get, path = "/api/v1/dashboard/stock", tag = "dashboard", security(("session" = [])),
    params(("site" = Option<Vec<String>>, Query, description = "A site id; repeat for several")),
    responses((status = 200, body = Stock), (status = 400, body = ErrorBody), SessionRefusals))]
pub async fn stock(
    State(state): State<Arc<AppState>>,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<Stock>, ApiError> {
    let pairs = query_pairs(raw.as_deref())?;
    only(&pairs, &["site"])?;
    let sites = scoped_sites(&session.user.site_ids(), &pairs)?;
    Ok(Json(reports::stock(&state.store, &sites, now_ms()).await?))
}

#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeviceOut {
    id: String,
    name: String,
    /// Names of the sites it is enrolled for (those the user may see).
    sites: Vec<String>,
    app_version: String,
    enrolled_ms: i64,
    last_seen_ms: i64,
    revoked_ms: Option<i64>,
    clock_skew_ms: i64,
    clamped_count: i64,
    token_expires_ms: i64,
    /// The worker it was enrolled for.
    worker: Option<String>,
    /// Whether the user may revoke and rename it (every one of its sites is theirs).
    manageable: bool,
    /// Changes it holds unsent, as it reported with its last pull.
    unsent_ops: i64,
}

/// The tablets of the user's sites (every tablet for admins), most recently seen first.
#[utoipa::path(get, path = "/api/v1/dashboard/devices", tag = "dashboard", security(("session" = [])),
    responses((status = 200, body = Vec<DeviceOut>), SessionRefusals))]
pub async fn devices(
    State(state): State<Arc<AppState>>,
    Coordinator(session): Coordinator,
) -> Result<Json<Vec<DeviceOut>>, ApiError> {
    let mut out: Vec<DeviceOut> = state
        .store
        .list_devices()
        .await?
        .into_iter()
        .filter(|d| !d.is_server())
        .filter_map(|d| {
            let sites: Vec<String> =
                d.sites.iter().filter(|s| session.user.sees(Some(s.id))).map(|s| s.name.clone()).collect();
            let admin = session.user.role == crate::services::accounts::Role::Admin;
            let visible = admin || !sites.is_empty();
            let manageable = admin || d.sites.iter().all(|s| session.user.sees(Some(s.id)));
            visible.then(|| DeviceOut {
                id: d.id.to_string(),
                name: d.name,
                sites,
                app_version: d.app_version,
                enrolled_ms: d.enrolled_ms,
                last_seen_ms: d.last_seen_ms,
                revoked_ms: d.revoked_ms,
                clock_skew_ms: d.clock_skew_ms,
                clamped_count: d.clamped_count,
                token_expires_ms: d.token_expires_ms,
                worker: d.worker,
                manageable,
                unsent_ops: d.unsent_ops,
            })
        })
        .collect();
    out.sort_by(|a, b| b.last_seen_ms.cmp(&a.last_seen_ms).then_with(|| a.id.cmp(&b.id)));
    Ok(Json(out))
}

/// Values that lost a concurrent edit at the user's sites, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/dashboard/conflicts", tag = "dashboard", security(("session" = [])),
    params(("status" = Option<String>, Query, description = "`open` (default) or `all`"),
        ("site" = Option<Vec<String>>, Query, description = "A site id; repeat for several (default: all of the user's)"),
        ("before" = Option<i64>, Query, description = "Only conflicts numbered below this (the next page: the last `id` of the previous one)")),
    responses((status = 200, body = Vec<ConflictView>), (status = 400, body = ErrorBody), SessionRefusals))]
pub async fn list_conflicts(
    State(state): State<Arc<AppState>>,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<ConflictView>>, ApiError> {
    let pairs = query_pairs(raw.as_deref())?;
    let open_only = match first(&pairs, "status") {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => return Err(ApiError::invalid_query(format!("status: {other:?} is not open or all"))),
    };
    only(&pairs, &["status", "before", "site"])?;
    let before = match first(&pairs, "before") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::invalid_query(format!("before: {text:?} is not a conflict number")))?,
        ),
    };
    // `site=` narrows to some of the user's sites; an admin without it also sees the
    // organisation's own records' conflicts.
    let sites = match first(&pairs, "site") {
        Some(_) => Some(scoped_sites(&session.user.site_ids(), &pairs)?),
        None => None,
    };
    Ok(Json(conflicts::list(&state.store, &session.user, open_only, before, sites).await?))
}

#[derive(Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// `accept` keeps the winner; `revert` writes the losing value back (every tablet gets it).
    action: ConflictAction,
}

/// Resolves a conflict: accepted or reverted, once.
#[utoipa::path(post, path = "/api/v1/dashboard/conflicts/{id}/resolve", tag = "dashboard", security(("session" = []), ("csrf" = [])),
    params(("id" = i64, Path, description = "The conflict's number")), request_body = Resolve,
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, body = ConflictView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden`, `csrf_failed`", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`conflict`: already resolved", body = ErrorBody),
        (status = 422, description = "`invalid_body` (an action other than accept or revert), `cannot_revert`", body = ErrorBody)))]
pub async fn resolve_conflict(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<Resolve>,
) -> Result<Json<ConflictView>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::invalid_query(format!("{id:?} is not a conflict number")))?;
    // Recorded before it is done: nothing changes that the audit log does not hold.
    let resolution = Resolution::from(request.action).as_str();
    audit::required(&state, audit::by_user(&session, client, "conflict.resolve", id.to_string(), resolution.into()))
        .await?;
    let resolved = match conflicts::resolve(&state.store, &session.user, id, request.action, now_ms()).await? {
        Ok(view) => view,
        Err(refusal @ (ResolveRefusal::NotFound | ResolveRefusal::RecordGone)) => {
            return Err(ApiError::not_found(refusal.to_string()));
        }
        Err(refusal @ ResolveRefusal::AlreadyResolved) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "conflict", refusal.to_string()));
        }
        Err(refusal @ ResolveRefusal::Deletion) => {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "cannot_revert", refusal.to_string()));
        }
    };
    Ok(Json(resolved))
}

/// A CSV or XLSX file of records or of the indicators for a period and sites (audited).
#[utoipa::path(get, path = "/api/v1/dashboard/export/{kind}", tag = "dashboard", security(("session" = [])),
    params(("kind" = String, Path, description = "contacts, distributions, referrals, tests, stock, tallies, surveys or indicators"),
        ReportParams, ("format" = Option<String>, Query, description = "`csv` (default) or `xlsx`")),
    responses((status = 503, description = "`audit_unavailable`: the audit entry cannot be written, nothing was done", body = ErrorBody), (status = 200, description = "The file, as an attachment", content_type = "text/csv"),
        (status = 400, body = ErrorBody), SessionRefusals, (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Coordinator(session): Coordinator,
    Path(kind): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found(format!("no export named {kind:?}; use one of {}", EXPORT_KINDS.join(", ")));
    if !EXPORT_KINDS.contains(&kind.as_str()) {
        return Err(unknown());
    }
    let pairs = query_pairs(raw.as_deref())?;
    let format = Format::parse(first(&pairs, "format")).ok_or_else(|| {
        ApiError::invalid_query(format!("format: {:?} is not csv or xlsx", first(&pairs, "format").unwrap_or("")))
    })?;
    let filter = filter(&session, raw.as_deref())?;
    let rows = export::rows(&state.store, &kind, &filter).await?.ok_or_else(unknown)?;
    let detail = format!(
        "{}, {} to {}, {} site(s), {} rows{}",
        format.extension(),
        filter.from,
        filter.to,
        filter.sites.len(),
        rows.len().saturating_sub(1),
        if filter.suppress { "" } else { ", small-cell suppression OFF" }
    );
    audit::required(&state, audit::by_user(&session, client, "export", kind.clone(), detail)).await?;
    let name = format!("outpost-{kind}-{}-{}.{}", filter.from, filter.to, format.extension());
    let body = match format {
        Format::Csv => export::csv(&rows).into_bytes(),
        Format::Xlsx => export::xlsx(&kind, &rows).map_err(ApiError::internal)?,
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AuditOut {
    id: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target: String,
    detail: String,
    address: Option<String>,
}

/// The newest entries of the audit log (admins).
#[utoipa::path(get, path = "/api/v1/dashboard/audit", tag = "dashboard", security(("session" = [])),
    responses((status = 200, body = Vec<AuditOut>), SessionRefusals))]
pub async fn audit_log(State(state): State<Arc<AppState>>, Admin(_): Admin) -> Result<Json<Vec<AuditOut>>, ApiError> {
    Ok(Json(
        state
            .store
            .recent_audit(AUDIT_PAGE)
            .await?
            .into_iter()
            .map(|r| AuditOut {
                id: r.id,
                at_ms: r.at_ms,
                actor: r.actor,
                action: r.action,
                target: r.target,
                detail: r.detail,
                address: r.address,
            })
            .collect(),
    ))
}
