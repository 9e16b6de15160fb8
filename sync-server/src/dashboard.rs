//! The coordinators' dashboard API (`/api/v1/dashboard/*`, contract in
//! `docs/dashboard-api.md`): indicators, trends, surveys, stock, devices, conflict review,
//! exports (CSV and XLSX, audited) and the audit log. Every handler starts from a
//! [`Coordinator`] or [`Admin`] session and sees only that user's sites.

use crate::AppState;
use crate::accounts::{Role, Session};
use crate::api::ApiJson;
use crate::db::sql::{SqlValue, Statement};
use crate::db::{AuditEvent, Batch, DeviceAuth, Storage};
use crate::error::ApiError;
use crate::reports::{self, Filter};
use crate::time::{date_of, format_date, now_ms, parse_date};
use crate::web::{Admin, Coordinator, forbidden};
use axum::Json;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use outpost_core::uic::UicScheme;
use outpost_core::wire::{Op, OpKind};
use outpost_core::{Hlc, OrgId, RecordId, SiteId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// Longest period a report may cover.
const MAX_REPORT_DAYS: i64 = 5 * 366;

fn invalid_query(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let raw = raw.unwrap_or("");
    if raw.len() > 8192 {
        return Err(invalid_query("the query string is too long"));
    }
    serde_urlencoded::from_str(raw).map_err(|e| invalid_query(format!("unreadable query string: {e}")))
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The user's sites asked for (all of theirs when none is named).
fn scoped_sites(session: &Session, pairs: &[(String, String)]) -> Result<Vec<String>, ApiError> {
    let mine = session.user.site_ids();
    let asked: Vec<&str> = pairs.iter().filter(|(k, _)| k == "site").map(|(_, v)| v.as_str()).collect();
    if asked.is_empty() {
        return Ok(mine);
    }
    let mut out = Vec::new();
    for site in asked {
        let canonical = uuid::Uuid::parse_str(site)
            .map_err(|_| invalid_query(format!("site: {site:?} is not a site id")))?
            .to_string();
        if !mine.contains(&canonical) {
            return Err(forbidden("you do not have access to that site"));
        }
        if !out.contains(&canonical) {
            out.push(canonical);
        }
    }
    Ok(out)
}

fn parse_filter(session: &Session, raw: Option<&str>) -> Result<Filter, ApiError> {
    let pairs = query_pairs(raw)?;
    let known = ["from", "to", "site", "suppress", "format"];
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return Err(invalid_query(format!("unknown parameter {k:?}")));
    }
    let today = parse_date(&date_of(now_ms())).ok_or_else(|| ApiError::internal("clock"))?;
    let month_start = today.replace_day(1).map_err(ApiError::internal)?;
    let date = |name: &str, default: time::Date| -> Result<time::Date, ApiError> {
        match first(&pairs, name) {
            None | Some("") => Ok(default),
            Some(text) => {
                parse_date(text).ok_or_else(|| invalid_query(format!("{name}: {text:?} is not a date (YYYY-MM-DD)")))
            }
        }
    };
    let from = date("from", month_start)?;
    let month_end = month_start
        .replace_day(time::util::days_in_month(month_start.month(), month_start.year()))
        .map_err(ApiError::internal)?;
    let to = date("to", month_end)?;
    if to < from {
        return Err(invalid_query("to: the period ends before it starts"));
    }
    let days = (to - from).whole_days() + 1;
    if days > MAX_REPORT_DAYS {
        return Err(invalid_query(format!("the period is longer than {MAX_REPORT_DAYS} days")));
    }
    let suppress = match first(&pairs, "suppress") {
        None | Some("") | Some("true") => true,
        Some("false") => false,
        Some(other) => return Err(invalid_query(format!("suppress: {other:?} is not true or false"))),
    };
    let until = to.next_day().ok_or_else(|| invalid_query("to: date out of range"))?;
    Ok(Filter {
        from: format_date(from),
        to: format_date(to),
        until: format_date(until),
        sites: scoped_sites(session, &pairs)?,
        suppress,
        days,
    })
}

async fn audit<S: Storage>(
    state: &AppState<S>,
    session: &Session,
    peer: SocketAddr,
    action: &str,
    target: String,
    detail: String,
) {
    let event = AuditEvent {
        address: Some(peer.ip().to_string()),
        ..AuditEvent::new(&format!("user:{}", session.user.username), action, target, detail)
    };
    if let Err(e) = state.storage.append_audit(event, now_ms()).await {
        tracing::error!(error = %e, action, "could not write an audit entry");
    }
}

#[derive(Serialize)]
pub struct SiteOut {
    id: String,
    name: String,
    pwid_estimate: Option<i64>,
}

pub async fn sites<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Coordinator(session): Coordinator,
) -> Result<Json<Vec<SiteOut>>, ApiError> {
    let mine = session.user.site_ids();
    let all = reports::site_estimates(&state.storage).await?;
    Ok(Json(
        all.into_iter()
            .filter(|(id, _, _)| mine.contains(id))
            .map(|(id, name, pwid_estimate)| SiteOut { id, name, pwid_estimate })
            .collect(),
    ))
}

pub async fn indicators<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<reports::IndicatorReport>, ApiError> {
    let filter = parse_filter(&session, raw.as_deref())?;
    Ok(Json(reports::indicators(&state.storage, &filter).await?))
}

pub async fn trends<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<reports::Trends>, ApiError> {
    let filter = parse_filter(&session, raw.as_deref())?;
    Ok(Json(reports::trends(&state.storage, &filter).await?))
}

pub async fn surveys<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<reports::SurveyResults>, ApiError> {
    let filter = parse_filter(&session, raw.as_deref())?;
    Ok(Json(reports::surveys(&state.storage, &filter).await?))
}

pub async fn stock<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<reports::Stock>, ApiError> {
    let pairs = query_pairs(raw.as_deref())?;
    if let Some((k, _)) = pairs.iter().find(|(k, _)| k != "site") {
        return Err(invalid_query(format!("unknown parameter {k:?}")));
    }
    let sites = scoped_sites(&session, &pairs)?;
    let now = now_ms();
    Ok(Json(reports::stock(&state.storage, &sites, &date_of(now), now).await?))
}

#[derive(Serialize)]
pub struct DeviceOut {
    id: String,
    name: String,
    sites: Vec<String>,
    app_version: String,
    enrolled_ms: i64,
    last_seen_ms: i64,
    revoked_ms: Option<i64>,
    clock_skew_ms: i64,
    clamped_count: i64,
    token_expires_ms: i64,
}

pub async fn devices<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Coordinator(session): Coordinator,
) -> Result<Json<Vec<DeviceOut>>, ApiError> {
    let d = state.storage.dialect();
    let rows = state
        .storage
        .query(Statement::new(
            format!(
                "SELECT {}, d.name, d.app_version, d.enrolled_ms, d.last_seen_ms, d.revoked_ms, d.clock_skew_ms, d.clamped_count,
                        d.token_expires_ms, {}, s.name
                 FROM devices d LEFT JOIN device_sites ds ON ds.device_id = d.id LEFT JOIN sites s ON s.id = ds.site_id
                 WHERE d.app_version <> 'server'
                 ORDER BY d.last_seen_ms DESC, d.id",
                d.text("d.id"),
                d.text("s.id")
            ),
            vec![],
        ))
        .await?;
    let mine = session.user.site_ids();
    let mut out: Vec<DeviceOut> = Vec::new();
    for r in rows {
        let id = r[0].to_text();
        let site_id = r[9].as_str().map(str::to_string);
        let visible = session.user.role == Role::Admin || site_id.as_ref().is_some_and(|s| mine.contains(s));
        if let Some(existing) = out.iter_mut().find(|o| o.id == id) {
            match r[10].as_str() {
                Some(name) if visible => existing.sites.push(name.to_string()),
                _ => {}
            }
            continue;
        }
        if !visible {
            continue;
        }
        out.push(DeviceOut {
            id,
            name: r[1].to_text(),
            app_version: r[2].to_text(),
            enrolled_ms: r[3].as_i64().unwrap_or(0),
            last_seen_ms: r[4].as_i64().unwrap_or(0),
            revoked_ms: r[5].as_i64(),
            clock_skew_ms: r[6].as_i64().unwrap_or(0),
            clamped_count: r[7].as_i64().unwrap_or(0),
            token_expires_ms: r[8].as_i64().unwrap_or(0),
            sites: r[10].as_str().map(|s| vec![s.to_string()]).unwrap_or_default(),
        });
    }
    Ok(Json(out))
}

#[derive(Serialize, Clone)]
pub struct ConflictOut {
    id: i64,
    collection: String,
    record_id: String,
    site_id: Option<String>,
    field: String,
    winner: Value,
    loser: Value,
    detected_ms: i64,
    resolved_ms: Option<i64>,
    resolution: Option<String>,
}

/// A stored `{"v": value, "t": stamp}` as `{"value", "device_id", "at_ms"}`.
fn side(stored: &str) -> Value {
    let parsed: Value = serde_json::from_str(stored).unwrap_or(Value::Null);
    let stamp = parsed.get("t").and_then(Value::as_str).and_then(|t| t.parse::<Hlc>().ok());
    json!({
        "value": parsed.get("v").cloned().unwrap_or(Value::Null),
        "device_id": stamp.map(|s| s.device.to_string()),
        "at_ms": stamp.map(|s| s.wall_ms),
    })
}

async fn load_conflicts<S: Storage>(
    storage: &S,
    only: Option<i64>,
    open_only: bool,
) -> Result<Vec<ConflictOut>, ApiError> {
    let d = storage.dialect();
    let mut sql = format!(
        "SELECT id, collection, {}, {}, field, {}, {}, detected_ms, resolved_ms, resolution FROM conflicts WHERE 1 = 1",
        d.text("record_id"),
        d.text("site_id"),
        d.text("winner"),
        d.text("loser")
    );
    let mut params = Vec::new();
    if let Some(id) = only {
        params.push(SqlValue::Int(id));
        sql.push_str(&format!(" AND id = {}", d.p(1)));
    }
    if open_only {
        sql.push_str(" AND resolved_ms IS NULL");
    }
    sql.push_str(" ORDER BY id DESC LIMIT 1000");
    let rows = storage.query(Statement::new(sql, params)).await?;
    Ok(rows
        .iter()
        .map(|r| ConflictOut {
            id: r[0].as_i64().unwrap_or(0),
            collection: r[1].to_text(),
            record_id: r[2].to_text(),
            site_id: r[3].as_str().map(str::to_string),
            field: r[4].to_text(),
            winner: side(&r[5].to_text()),
            loser: side(&r[6].to_text()),
            detected_ms: r[7].as_i64().unwrap_or(0),
            resolved_ms: r[8].as_i64(),
            resolution: r[9].as_str().map(str::to_string),
        })
        .collect())
}

fn visible(session: &Session, conflict: &ConflictOut) -> bool {
    session.user.role == Role::Admin || conflict.site_id.as_ref().is_some_and(|s| session.user.site_ids().contains(s))
}

pub async fn conflicts<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Coordinator(session): Coordinator,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<ConflictOut>>, ApiError> {
    let pairs = query_pairs(raw.as_deref())?;
    let open_only = match first(&pairs, "status") {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => return Err(invalid_query(format!("status: {other:?} is not open or all"))),
    };
    let all = load_conflicts(&state.storage, None, open_only).await?;
    Ok(Json(all.into_iter().filter(|c| visible(&session, c)).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    action: String,
}

/// The server's own device, which writes a reverted value back so every tablet receives it.
async fn server_device<S: Storage>(storage: &S) -> Result<(DeviceAuth, u64), ApiError> {
    let d = storage.dialect();
    let find = || {
        Statement::new(
            format!(
                "SELECT {}, {}, max_op_seq FROM devices WHERE app_version = 'server' ORDER BY enrolled_ms LIMIT 1",
                d.text("id"),
                d.text("org_id")
            ),
            vec![],
        )
    };
    let mut rows = storage.query(find()).await?;
    if rows.is_empty() {
        let orgs = storage.query(Statement::new(format!("SELECT {} FROM orgs", d.text("id")), vec![])).await?;
        let [org] = orgs.as_slice() else {
            return Err(ApiError::internal("the server device needs exactly one organisation"));
        };
        let id = uuid::Uuid::now_v7().to_string();
        // Its token hash matches no token: nobody can sync as the server.
        let now = now_ms();
        storage
            .execute(vec![Statement::new(
                format!(
                    "INSERT INTO devices (id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms)
                     VALUES ({}, {}, 'Dashboard (server)', 'server', {}, {}, {}, 0)",
                    d.p_uuid(1),
                    d.p_uuid(2),
                    d.p(3),
                    d.p(4),
                    d.p(4)
                ),
                vec![id.into(), org[0].clone(), format!("server:{}", crate::tokens::new_token()).into(), now.into()],
            )])
            .await?;
        rows = storage.query(find()).await?;
    }
    let row = rows.first().ok_or_else(|| ApiError::internal("server device missing"))?;
    let device_id = row[0].to_text().parse().map_err(ApiError::internal)?;
    let org_id: OrgId = row[1].to_text().parse().map_err(ApiError::internal)?;
    let sites = storage.query(Statement::new(format!("SELECT {} FROM sites", d.text("id")), vec![])).await?;
    let sites = sites.iter().filter_map(|r| r[0].to_text().parse::<SiteId>().ok()).collect();
    let next = row[2].as_i64().unwrap_or(0).max(0) as u64 + 1;
    let scheme = storage.query(Statement::new(format!("SELECT {} FROM orgs", d.text("uic_scheme")), vec![])).await?;
    let uic_scheme = scheme
        .first()
        .and_then(|r| serde_json::from_str::<UicScheme>(&r[0].to_text()).ok())
        .unwrap_or_else(UicScheme::central_asia);
    Ok((DeviceAuth { device_id, org_id, sites, uic_scheme }, next))
}

pub async fn resolve_conflict<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Coordinator(session): Coordinator,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<Resolve>,
) -> Result<Json<ConflictOut>, ApiError> {
    let id: i64 = id.parse().map_err(|_| invalid_query(format!("{id:?} is not a conflict number")))?;
    let resolution = match request.action.as_str() {
        "accept" => "accepted",
        "revert" => "reverted",
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("action: {other:?} is not accept or revert"),
            ));
        }
    };
    let conflict = load_conflicts(&state.storage, Some(id), false)
        .await?
        .into_iter()
        .find(|c| visible(&session, c))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such conflict"))?;
    if conflict.resolved_ms.is_some() {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", "this conflict was already resolved"));
    }
    if resolution == "reverted" {
        if conflict.field == "_deleted" {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cannot_revert",
                "an edit that met a deletion cannot be restored from here; re-enter it on a tablet",
            ));
        }
        let record_id: RecordId = conflict.record_id.parse().map_err(ApiError::internal)?;
        let current = state
            .storage
            .record(&conflict.collection, record_id)
            .await?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "the record is gone"))?;
        let field = current.fields.get(&conflict.field).ok_or_else(|| ApiError::internal("conflict field missing"))?;
        let (device, op_seq) = server_device(&state.storage).await?;
        let now = now_ms();
        let wall = now.max(field.stamp.wall_ms);
        let counter = if wall == field.stamp.wall_ms { field.stamp.counter.saturating_add(1) } else { 0 };
        let stamp = Hlc { wall_ms: wall, counter, device: device.device_id };
        let site_id: SiteId = conflict
            .site_id
            .as_deref()
            .ok_or_else(|| ApiError::internal("conflict without a site"))?
            .parse()
            .map_err(ApiError::internal)?;
        let mut fields = serde_json::Map::new();
        fields.insert(conflict.field.clone(), conflict.loser.get("value").cloned().unwrap_or(Value::Null));
        let op = Op {
            op_seq,
            collection: conflict.collection.clone(),
            record_id,
            site_id,
            kind: OpKind::Update,
            stamp,
            fields,
            bases: BTreeMap::from([(conflict.field.clone(), field.stamp)]),
        };
        state.storage.push(&device, Batch { ops: vec![op] }, now).await?;
    }
    let d = state.storage.dialect();
    let changed = state
        .storage
        .execute(vec![Statement::new(
            format!(
                "UPDATE conflicts SET resolved_ms = {}, resolution = {} WHERE id = {} AND resolved_ms IS NULL",
                d.p(1),
                d.p(2),
                d.p(3)
            ),
            vec![now_ms().into(), resolution.into(), id.into()],
        )])
        .await?;
    if changed.first().copied().unwrap_or(0) == 0 {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", "this conflict was already resolved"));
    }
    audit(
        &state,
        &session,
        peer,
        "conflict.resolve",
        id.to_string(),
        format!("{resolution} {}.{}", conflict.collection, conflict.field),
    )
    .await;
    let updated = load_conflicts(&state.storage, Some(id), false).await?;
    updated.into_iter().next().map(Json).ok_or_else(|| ApiError::internal("conflict vanished"))
}

/// Every export, by name.
pub const EXPORT_KINDS: &[&str] =
    &["contacts", "distributions", "referrals", "tests", "stock", "tallies", "surveys", "indicators"];

pub async fn export<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Coordinator(session): Coordinator,
    Path(kind): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if !EXPORT_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no export named {kind:?}; use one of {}", EXPORT_KINDS.join(", ")),
        ));
    }
    let pairs = query_pairs(raw.as_deref())?;
    let format = match first(&pairs, "format") {
        None | Some("csv") => "csv",
        Some("xlsx") => "xlsx",
        Some(other) => return Err(invalid_query(format!("format: {other:?} is not csv or xlsx"))),
    };
    let filter = parse_filter(&session, raw.as_deref())?;
    let rows = if kind == "indicators" {
        reports::indicator_rows(&reports::indicators(&state.storage, &filter).await?)
    } else {
        reports::export_rows(&state.storage, &kind, &filter).await?
    };
    let detail = format!(
        "{format}, {} to {}, {} site(s), {} rows{}",
        filter.from,
        filter.to,
        filter.sites.len(),
        rows.len().saturating_sub(1),
        if filter.suppress { "" } else { ", small-cell suppression OFF" }
    );
    audit(&state, &session, peer, "export", kind.clone(), detail).await;
    let name = format!("outpost-{kind}-{}-{}.{format}", filter.from, filter.to);
    let (content_type, body) = match format {
        "csv" => ("text/csv; charset=utf-8", csv(&rows).into_bytes()),
        _ => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx(&kind, &rows)?),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| {
                let cell = if cell.starts_with(['=', '+', '-', '@']) && cell.parse::<f64>().is_err() {
                    format!("'{cell}")
                } else {
                    cell.clone()
                };
                if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn xlsx(kind: &str, rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(kind).map_err(ApiError::internal)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            let written = if r == 0 {
                sheet.write_string_with_format(r, c, cell, &bold).map(|_| ())
            } else if let Ok(n) = cell.parse::<f64>().map(|n| n.is_finite().then_some(n)) {
                match n {
                    Some(n) if !cell.starts_with('+') => sheet.write_number(r, c, n).map(|_| ()),
                    _ => sheet.write_string(r, c, cell).map(|_| ()),
                }
            } else {
                sheet.write_string(r, c, cell).map(|_| ())
            };
            written.map_err(ApiError::internal)?;
        }
    }
    book.save_to_buffer().map_err(ApiError::internal)
}

#[derive(Serialize)]
pub struct AuditOut {
    id: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target: String,
    detail: String,
    address: Option<String>,
}

pub async fn audit_log<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Admin(_): Admin,
) -> Result<Json<Vec<AuditOut>>, ApiError> {
    let rows = state
        .storage
        .query(Statement::new(
            "SELECT id, at_ms, actor, action, target, detail, address FROM audit_log ORDER BY id DESC LIMIT 500",
            vec![],
        ))
        .await?;
    Ok(Json(
        rows.iter()
            .map(|r| AuditOut {
                id: r[0].as_i64().unwrap_or(0),
                at_ms: r[1].as_i64().unwrap_or(0),
                actor: r[2].to_text(),
                action: r[3].to_text(),
                target: r[4].to_text(),
                detail: r[5].to_text(),
                address: r[6].as_str().map(str::to_string),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let rows = vec![vec!["a,b".to_string(), "say \"hi\"".into(), "=HYPERLINK(\"x\")".into(), "-5".into()]];
        assert_eq!(csv(&rows), "\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",-5\r\n");
    }
}
