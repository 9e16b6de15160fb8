//! Stock per site and commodity, as the tablets count it: movements signed by core's rule for
//! their kind, minus what contacts gave; days left at the last 30 days' pace; the last 90
//! days' levels; the newest movements.

use super::queries::{self, int, text};
use crate::time::date_of;
use outpost_core::SiteId;
use outpost_core::catalogue::{EXPIRED_SHOWN_DAYS, EXPIRING_WITHIN_DAYS, LevelStatus};
use outpost_server_store::{DbError, Store};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct StockLevel {
    pub site_id: String,
    pub site_name: String,
    pub commodity: String,
    pub name: String,
    pub level: i64,
    pub low_threshold: Option<i64>,
    /// Needs attention: `status` is not `ok`.
    pub low: bool,
    /// `count_needed` (below zero: movements are missing, a count sets it right), `low` (out,
    /// or below the threshold) or `ok`.
    pub status: String,
    pub used_per_day: f64,
    /// Null when nothing was used in the last 30 days.
    pub days_left: Option<f64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Movement {
    pub id: String,
    pub site_id: String,
    pub commodity: String,
    pub quantity: i64,
    pub kind: String,
    pub occurred_at: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct LevelPoint {
    pub date: String,
    pub site_id: String,
    pub commodity: String,
    pub level: i64,
}

/// A batch received that expires soon (or expired lately), while the site still holds some of
/// its commodity: check the shelf, use it first or write it off.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ExpiringBatch {
    pub site_id: String,
    pub site_name: String,
    pub commodity: String,
    pub name: String,
    /// The batch as written on the delivery note, when recorded.
    pub batch: Option<String>,
    /// ISO date.
    pub expiry_date: String,
    /// How many came in that delivery (the tablets do not count per batch).
    pub quantity: i64,
    /// When it was received (RFC 3339).
    pub received_at: String,
    /// Days from today to the expiry date; negative once expired.
    pub days_left: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Stock {
    pub levels: Vec<StockLevel>,
    pub movements: Vec<Movement>,
    pub history: Vec<LevelPoint>,
    pub expiring: Vec<ExpiringBatch>,
}

/// Stock at `sites`, as of `now_ms`.
pub async fn stock(store: &Store, sites: &[SiteId], now_ms: u64) -> Result<Stock, DbError> {
    store.refresh_projection().await?;
    let rows = queries::stock_changes(store, sites).await?;
    let names: BTreeMap<String, String> =
        store.list_sites().await?.into_iter().map(|s| (s.id.to_string(), s.name)).collect();
    let cat = queries::catalogue(store).await?;
    let today = date_of(now_ms);
    // (site, commodity) → day → net change; and use in the last 30 days.
    let mut daily: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    let mut used_30: BTreeMap<(String, String), i64> = BTreeMap::new();
    let since = date_of(now_ms.saturating_sub(30 * 86_400_000));
    let history_since = date_of(now_ms.saturating_sub(90 * 86_400_000));
    for r in &rows {
        let key = (text(r, 0), text(r, 1));
        let (day, kind, n) = (text(r, 2), text(r, 3), int(r, 4));
        let delta = if kind == "used" { -n } else { n };
        *daily.entry(key.clone()).or_default().entry(day.clone()).or_default() += delta;
        if kind == "used" && day >= since && day <= today {
            *used_30.entry(key).or_default() += n;
        }
    }
    let mut levels = Vec::new();
    let mut history = Vec::new();
    for ((site, code), days) in &daily {
        let mut level = 0;
        for (day, delta) in days {
            level += delta;
            if *day >= history_since {
                history.push(LevelPoint { date: day.clone(), site_id: site.clone(), commodity: code.clone(), level });
            }
        }
        let used_per_day = used_30.get(&(site.clone(), code.clone())).copied().unwrap_or(0) as f64 / 30.0;
        let (name, threshold) =
            cat.items.get(code).map_or_else(|| (code.clone(), None), |i| (i.name.clone(), i.low_threshold));
        // Core's rule, as the tablet shows it.
        let status = LevelStatus::of(level, threshold.and_then(|t| u32::try_from(t).ok()));
        levels.push(StockLevel {
            site_id: site.clone(),
            site_name: names.get(site).cloned().unwrap_or_default(),
            commodity: code.clone(),
            name,
            level,
            low_threshold: threshold,
            low: status != LevelStatus::Ok,
            status: status.as_str().to_string(),
            used_per_day: (used_per_day * 10.0).round() / 10.0,
            days_left: (used_per_day > 0.0).then(|| ((level.max(0) as f64 / used_per_day) * 10.0).round() / 10.0),
        });
    }
    levels.sort_by(|a, b| (&a.site_name, &a.name).cmp(&(&b.site_name, &b.name)));
    let movements = queries::stock_movements(store, sites)
        .await?
        .iter()
        .map(|r| Movement {
            id: text(r, 0),
            site_id: text(r, 1),
            commodity: text(r, 2),
            quantity: int(r, 3),
            kind: text(r, 4),
            occurred_at: text(r, 5),
        })
        .collect();
    // Batches of a commodity the site no longer holds are left out: nothing is left to expire.
    let held: BTreeMap<(String, String), i64> =
        levels.iter().map(|l| ((l.site_id.clone(), l.commodity.clone()), l.level)).collect();
    let from = date_of(now_ms.saturating_sub(u64::from(EXPIRED_SHOWN_DAYS) * 86_400_000));
    let to = date_of(now_ms.saturating_add(u64::from(EXPIRING_WITHIN_DAYS) * 86_400_000));
    let today_days = days_since_epoch(&today);
    let expiring = queries::expiring_batches(store, sites, &from, &to)
        .await?
        .iter()
        .filter(|r| held.get(&(text(r, 0), text(r, 1))).is_some_and(|level| *level > 0))
        .map(|r| {
            let (site, code, expiry) = (text(r, 0), text(r, 1), text(r, 4));
            ExpiringBatch {
                site_name: names.get(&site).cloned().unwrap_or_default(),
                name: cat.items.get(&code).map_or_else(|| code.clone(), |i| i.name.clone()),
                batch: r.get(3).and_then(|v| v.as_str()).map(str::to_string),
                quantity: int(r, 2),
                received_at: text(r, 5),
                days_left: days_since_epoch(&expiry).zip(today_days).map_or(0, |(e, t)| e - t),
                expiry_date: expiry,
                site_id: site,
                commodity: code,
            }
        })
        .collect();
    Ok(Stock { levels, movements, history, expiring })
}

/// Days from 1970-01-01 to an ISO date (`2026-12-06`), or `None` for a malformed one.
fn days_since_epoch(date: &str) -> Option<i64> {
    crate::time::parse_date(date).map(|d| (d - time::OffsetDateTime::UNIX_EPOCH.date()).whole_days())
}

#[cfg(test)]
mod tests {
    use super::days_since_epoch;

    #[test]
    fn days_between_dates_count_whole_days_and_malformed_dates_are_none() {
        assert_eq!(days_since_epoch("1970-01-02"), Some(1));
        assert_eq!(days_since_epoch("2026-12-06").zip(days_since_epoch("2027-03-06")).map(|(a, b)| b - a), Some(90));
        assert_eq!(days_since_epoch("2026-02-30"), None);
        assert_eq!(days_since_epoch("soon"), None);
    }
}
