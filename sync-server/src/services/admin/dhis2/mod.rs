//! Sending an indicator set to DHIS2 (issue 17): an admin sets the DHIS2 server's address and a
//! personal access token (sealed with the server key), imports a mapping per set
//! ([`mapping`]); an admin or a coordinator (for their own sites) previews a period (what would be sent, what is held back because it is
//! suppressed or cannot be computed, what the set has that the mapping does not send), exports
//! it as ADX or `dataValueSets` JSON, or sends it. A send is always a dry run first: if DHIS2
//! would refuse any value, nothing is imported. Every export and send is audited before it
//! happens; the token is never logged or returned.
//!
//! Each site is reported as its own organisation unit: the set is computed per site.
//! DHIS2 keys a value by (data element, period, org unit, category option combo, attribute
//! option combo) and overwrites it on import, so sending the same period again updates the
//! same values and never adds to them.

pub mod client;
pub mod mapping;
pub mod payload;
pub mod period;

use super::{Actor, AdminError, invalid, record};
use crate::services::reports::filters::Filter;
use crate::services::reports::sets::{self, IndicatorSet};
use crate::time::{date_of, now_ms, parse_date};
use client::ImportSummary;
use mapping::Mapping;
use outpost_server_store::dhis2::SavedMapping;
use outpost_server_store::{DbError, Store};
use payload::{HeldBack, OutValue, Unmapped};
use serde::{Deserialize, Serialize};

/// How many sites' reports are computed at once for an export or a send.
pub const SITES_AT_ONCE: usize = 4;

/// The longest DHIS2 address and token accepted.
pub const MAX_URL_CHARS: usize = 500;
pub const MAX_TOKEN_CHARS: usize = 200;

/// The connection and mappings, as the dashboard shows them (never the token).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Dhis2Settings {
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub token_set: bool,
    pub mappings: Vec<MappingInfo>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct MappingInfo {
    pub set: String,
    pub saved_by: String,
    pub saved_ms: i64,
    pub values: usize,
    pub org_units: usize,
    /// Why the saved mapping no longer fits (a site renamed, a set changed), if it does not.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The connection an admin sets; `token` absent keeps the stored one.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ConnectionForm {
    pub url: String,
    #[ts(optional)]
    #[serde(default)]
    pub token: Option<String>,
}

/// What would be sent for a period.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Dhis2Preview {
    pub set: String,
    /// DHIS2's period (`2026Q3`) and ADX's (`2026-07-01/P3M`).
    pub period: String,
    pub adx_period: String,
    pub data_set: String,
    pub suppressed: bool,
    pub values: Vec<OutValue>,
    pub held_back: Vec<HeldBack>,
    pub unmapped: Vec<Unmapped>,
    /// Sites of the report without an org unit in the mapping (nothing can be sent until each
    /// has one, or the report leaves them out).
    pub sites_without_org_unit: Vec<String>,
}

/// What a send did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SendOutcome {
    pub dry_run: bool,
    /// Whether DHIS2 imported the values (false for a dry run, and when the dry run that comes
    /// first found a value DHIS2 would refuse).
    pub sent: bool,
    pub values: usize,
    pub held_back: usize,
    pub summary: ImportSummary,
    pub message: String,
}

/// What to send: the report's parameters and whether only to try.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    pub from: String,
    pub to: String,
    /// Site ids (default: every site of the user).
    #[ts(optional)]
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    /// Hide numbers under 5 (default true); false is audited.
    #[ts(optional)]
    #[serde(default)]
    pub suppress: Option<bool>,
    #[serde(default)]
    pub dry_run: bool,
}

impl SendRequest {
    /// The request as report parameters (checked by [`Filter::parse`]).
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![("from".to_string(), self.from.clone()), ("to".to_string(), self.to.clone())];
        for site in self.sites.iter().flatten() {
            out.push(("site".into(), site.clone()));
        }
        if let Some(s) = self.suppress {
            out.push(("suppress".into(), s.to_string()));
        }
        out
    }
}

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Adx,
    Json,
}

impl ExportFormat {
    pub fn parse(text: Option<&str>) -> Option<Self> {
        match text {
            None | Some("") | Some("adx") => Some(Self::Adx),
            Some("json") => Some(Self::Json),
            _ => None,
        }
    }
}

fn set_of(key: &str) -> Result<&'static IndicatorSet, AdminError> {
    sets::find(key).ok_or_else(|| {
        let known: Vec<&str> = sets::registry().iter().map(|s| s.key.as_str()).collect();
        AdminError::NotFound(format!("no indicator set named {key:?}; use one of {}", known.join(", ")))
    })
}

async fn sites(store: &Store) -> Result<Vec<(outpost_core::SiteId, String)>, AdminError> {
    Ok(store.list_sites().await?.into_iter().map(|s| (s.id, s.name)).collect())
}

/// The connection and every saved mapping (each re-checked against the set and the sites).
/// Coordinators read it too (they send their sites' reports); the token is never in it.
pub async fn settings(store: &Store) -> Result<Dhis2Settings, AdminError> {
    let connection = store.dhis2_connection().await?;
    let sites = sites(store).await?;
    let mut mappings = Vec::new();
    for (set, saved) in store.dhis2_mappings().await? {
        let checked = sets::find(&set).ok_or_else(|| format!("the set {set:?} is no longer shipped")).and_then(|s| {
            mapping::parse(s, &sites, &saved.csv)
                .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        });
        let (values, org_units, problem) = match &checked {
            Ok(m) => (m.targets.len(), m.org_units.len(), None),
            Err(why) => (0, 0, Some(why.clone())),
        };
        mappings.push(MappingInfo {
            set,
            saved_by: saved.saved_by,
            saved_ms: saved.saved_ms,
            values,
            org_units,
            problem,
        });
    }
    Ok(Dhis2Settings {
        url: connection.as_ref().map(|c| c.url.clone()),
        token_set: connection.is_some_and(|c| c.token_set),
        mappings,
    })
}

/// Checks a DHIS2 address: `https://`, or `http://` to this machine only; no user name or
/// password in it, no query.
pub fn check_url(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    if text.chars().count() > MAX_URL_CHARS {
        return Err(format!("at most {MAX_URL_CHARS} characters"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not an address: {e}"))?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err("use an https:// address (http:// only for a server on this machine)".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put no user name or password in the address: the token authenticates".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the address is the server's base (e.g. https://dhis2.example.org/dhis), without ? or #".into());
    }
    Ok(text.to_string())
}

/// Sets the DHIS2 server's address and, if given, a new token. Audited (never the token).
pub async fn set_connection(store: &Store, actor: &Actor, form: &ConnectionForm) -> Result<Dhis2Settings, AdminError> {
    actor.organisation_wide("DHIS2")?;
    let mut errors = Vec::new();
    let url = check_url(&form.url).map_err(|why| errors.push(invalid("url", "invalid_url", why))).ok();
    let token = form.token.as_deref().map(str::trim);
    let bad_token = |t: &str| {
        t.is_empty() || t.chars().count() > MAX_TOKEN_CHARS || t.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if token.is_some_and(bad_token) {
        errors.push(invalid(
            "token",
            "invalid_token",
            format!("a personal access token is 1 to {MAX_TOKEN_CHARS} characters without spaces"),
        ));
    }
    let Some(url) = url.filter(|_| errors.is_empty()) else { return Err(AdminError::Invalid(errors)) };
    let before = store.dhis2_connection().await?;
    let detail = format!(
        "url: {} → {url}; token {}",
        before.as_ref().map_or("none".to_string(), |c| c.url.clone()),
        if token.is_some() { "replaced" } else { "kept" }
    );
    record(store, actor, "dhis2.connection", url.clone(), detail).await?;
    store.set_dhis2_connection(&url, token).await?;
    settings(store).await
}

/// Checks and saves the mapping of `set` (every problem reported, nothing saved if any). Audited.
pub async fn save_mapping(store: &Store, actor: &Actor, key: &str, csv: &str) -> Result<Dhis2Settings, AdminError> {
    actor.organisation_wide("DHIS2")?;
    let set = set_of(key)?;
    let checked = mapping::parse(set, &sites(store).await?, csv).map_err(AdminError::Invalid)?;
    let detail = format!(
        "{} values, {} org units, data set {}",
        checked.targets.len(),
        checked.org_units.len(),
        checked.data_set
    );
    record(store, actor, "dhis2.mapping", key.to_string(), detail).await?;
    store
        .set_dhis2_mapping(
            key,
            SavedMapping { csv: csv.to_string(), saved_by: actor.name.clone(), saved_ms: now_ms() as i64 },
        )
        .await?;
    settings(store).await
}

/// A period checked for DHIS2 (one it stores, and over) and the set's mapping. Coordinators
/// may preview, export and send their own sites (the filter holds only those); the connection
/// and the mappings are the admins'.
async fn prepare(store: &Store, key: &str, filter: &Filter) -> Result<(Dhis2Preview, Mapping), AdminError> {
    let set = set_of(key)?;
    let (from, to) = (parse_date(&filter.from), parse_date(&filter.to));
    let (Some(from), Some(to)) = (from, to) else {
        return Err(AdminError::Invalid(vec![invalid("from", "invalid_date", "the period's dates cannot be read")]));
    };
    let period = period::period(from, to)
        .map_err(|why| AdminError::Invalid(vec![invalid("period", "not_a_dhis2_period", why)]))?;
    if filter.to >= date_of(now_ms()) {
        return Err(AdminError::Invalid(vec![invalid(
            "to",
            "period_not_over",
            format!("the period has not ended yet (it ends {}): send it once it is over", filter.to),
        )]));
    }
    let all_sites = sites(store).await?;
    let saved = store
        .dhis2_mappings()
        .await?
        .remove(key)
        .ok_or_else(|| AdminError::NotFound(format!("no mapping for {}: an admin imports one first", set.name)))?;
    let mapping = mapping::parse(set, &all_sites, &saved.csv).map_err(|errors| {
        AdminError::Conflict(format!(
            "the saved mapping for {} no longer fits (import it again): {}",
            set.name,
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        ))
    })?;
    // Each site is its own report; they are computed side by side (a few at a time, each on
    // its own connection of the read pool), then put back in the filter's order.
    let mut tasks = tokio::task::JoinSet::new();
    let mut reports: Vec<Option<sets::SetReport>> = vec![None; filter.sites.len()];
    let failed = |e: tokio::task::JoinError| AdminError::Db(DbError::Corrupt(e.to_string()));
    for (i, site) in filter.sites.iter().enumerate() {
        if tasks.len() >= SITES_AT_ONCE
            && let Some(done) = tasks.join_next().await
        {
            let (j, report) = done.map_err(failed)??;
            reports[j] = Some(report);
        }
        let (store, one) = (store.clone(), Filter { sites: vec![*site], ..filter.clone() });
        tasks.spawn(async move { sets::report(&store, set, &one).await.map(|r| (i, r)) });
    }
    while let Some(done) = tasks.join_next().await {
        let (j, report) = done.map_err(failed)??;
        reports[j] = Some(report);
    }
    let mut per_site = Vec::new();
    let mut without = Vec::new();
    let mut whole = None;
    for (site, report) in filter.sites.iter().zip(reports) {
        let Some(report) = report else { continue };
        let name =
            all_sites.iter().find(|(id, _)| id == site).map(|(_, n)| n.clone()).unwrap_or_else(|| site.to_string());
        whole.get_or_insert_with(|| report.clone());
        match mapping.org_units.get(site) {
            Some(org_unit) => per_site.push((name, org_unit.clone(), report)),
            None => without.push(name),
        }
    }
    let (values, held_back) = payload::place(&mapping, &per_site);
    let unmapped = whole.map(|r| payload::unmapped(&mapping, &r)).unwrap_or_default();
    let preview = Dhis2Preview {
        set: key.to_string(),
        period: period.dhis2,
        adx_period: period.adx,
        data_set: mapping.data_set.clone(),
        suppressed: filter.suppress,
        values,
        held_back,
        unmapped,
        sites_without_org_unit: without,
    };
    Ok((preview, mapping))
}

/// What would be sent for the period, and what would not.
pub async fn preview(store: &Store, key: &str, filter: &Filter) -> Result<Dhis2Preview, AdminError> {
    Ok(prepare(store, key, filter).await?.0)
}

/// Refuses to send or export while a site has no org unit, or when there is nothing to send.
fn ready(preview: &Dhis2Preview) -> Result<(), AdminError> {
    if !preview.sites_without_org_unit.is_empty() {
        return Err(AdminError::Invalid(vec![invalid(
            "site",
            "site_without_org_unit",
            format!(
                "{} {} no org unit in the mapping: add an org_unit row, or leave the site out of the report",
                preview.sites_without_org_unit.join(", "),
                if preview.sites_without_org_unit.len() == 1 { "has" } else { "have" }
            ),
        )]));
    }
    if preview.values.is_empty() {
        return Err(AdminError::Invalid(vec![invalid(
            "values",
            "nothing_to_send",
            format!(
                "nothing to send: {} mapped numbers are held back (suppressed or not computable)",
                preview.held_back.len()
            ),
        )]));
    }
    Ok(())
}

/// A file of the period's values: (file name, content type, body). Audited.
pub async fn export(
    store: &Store,
    actor: &Actor,
    key: &str,
    filter: &Filter,
    format: ExportFormat,
) -> Result<(String, &'static str, String), AdminError> {
    let (preview, mapping) = prepare(store, key, filter).await?;
    ready(&preview)?;
    let period = period::Period { dhis2: preview.period.clone(), adx: preview.adx_period.clone() };
    let (extension, content_type, body) = match format {
        ExportFormat::Adx => {
            let exported = crate::time::rfc3339(now_ms());
            ("adx.xml", "application/adx+xml", payload::adx(&mapping, &period, &preview.values, &exported))
        }
        ExportFormat::Json => {
            let json = payload::data_value_set(&mapping, &period, &preview.values);
            ("json", "application/json", serde_json::to_string_pretty(&json).unwrap_or_default())
        }
    };
    let detail = format!(
        "{extension}, {}, {} values, {} held back{}",
        preview.period,
        preview.values.len(),
        preview.held_back.len(),
        if filter.suppress { "" } else { ", small-cell suppression OFF" }
    );
    record(store, actor, "dhis2.export", key.to_string(), detail).await?;
    Ok((format!("outpost-{key}-{}.{extension}", preview.period), content_type, body))
}

/// Sends the period's values to the DHIS2 server: always a dry run first, then (unless only a
/// dry run was asked for, or DHIS2 would refuse a value) the import. Audited before sending.
pub async fn send(
    store: &Store,
    actor: &Actor,
    key: &str,
    filter: &Filter,
    dry_run: bool,
) -> Result<SendOutcome, AdminError> {
    let (preview, mapping) = prepare(store, key, filter).await?;
    ready(&preview)?;
    let connection = store.dhis2_connection().await?.filter(|c| c.token_set);
    let token = store.dhis2_token().await?;
    let (Some(connection), Some(token)) = (connection, token) else {
        return Err(AdminError::Conflict("no DHIS2 server is set: an admin sets its address and token first".into()));
    };
    let period = period::Period { dhis2: preview.period.clone(), adx: preview.adx_period.clone() };
    let payload = payload::data_value_set(&mapping, &period, &preview.values);
    let detail = format!(
        "{} values of {} to {}{}, {} held back{}",
        preview.values.len(),
        preview.period,
        connection.url,
        if dry_run { " (dry run)" } else { "" },
        preview.held_back.len(),
        if filter.suppress { "" } else { ", small-cell suppression OFF" }
    );
    record(store, actor, if dry_run { "dhis2.dry_run" } else { "dhis2.send" }, key.to_string(), detail).await?;
    let upstream = |e: client::SendError| AdminError::Upstream(e.to_string());
    let tried = client::send(&connection.url, &token, &payload, true).await.map_err(upstream)?;
    let (sent, summary, message) = if !tried.clean() {
        (false, tried, "DHIS2 would refuse some values: nothing was imported. Fix the mapping (or DHIS2's metadata) and send again.".to_string())
    } else if dry_run {
        (false, tried, "Dry run: DHIS2 would take every value; nothing was imported.".to_string())
    } else {
        let done = client::send(&connection.url, &token, &payload, false).await.map_err(upstream)?;
        let message = if done.clean() {
            "Sent: DHIS2 imported the values (a value sent again is updated, never added twice).".to_string()
        } else {
            "DHIS2 refused some values on import although the dry run took them; see its conflicts.".to_string()
        };
        (done.clean(), done, message)
    };
    let result = format!(
        "{}: imported {}, updated {}, ignored {}, {} conflicts{}",
        summary.status,
        summary.imported,
        summary.updated,
        summary.ignored,
        summary.conflicts.len(),
        if sent { "" } else { ", nothing imported" }
    );
    if let Err(e) = record(store, actor, "dhis2.result", key.to_string(), result).await {
        tracing::error!(error = %e, "could not record DHIS2's answer in the audit log (the send itself was recorded)");
    }
    Ok(SendOutcome {
        dry_run,
        sent,
        values: preview.values.len(),
        held_back: preview.held_back.len(),
        summary,
        message,
    })
}
