//! What the reports read: a period's visits and commodities (rollups for its whole months,
//! contacts folded for the days at its edges) and event counts to the day.

use super::{Visit, fold_range, next_month};
use crate::Store;
use crate::backend::Tx;
use crate::error::DbError;
use crate::sql::{Row, RowExt, Sql, Statement};
use outpost_core::SiteId;
use std::collections::BTreeMap;

/// What the people reached in a period were and did, by client record.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PeriodVisits {
    pub visits: Vec<Visit>,
    /// (client record, commodity) → net quantity over the period.
    pub items: BTreeMap<(String, String), i64>,
}

/// A span of months or of days: (first, last) months, or [from, until) dates.
type Span = (String, String);

/// The whole calendar months of `[from, until)` (dates), as (first month, last month), and
/// the day ranges at its edges that are not whole months.
fn split_period(from: &str, until: &str) -> (Option<Span>, Vec<Span>) {
    let first_start =
        if from.get(8..10) == Some("01") { from.to_string() } else { next_month(from.get(0..7).unwrap_or(from)) };
    let last_end = format!("{}-01", until.get(0..7).unwrap_or(until));
    if first_start >= last_end || first_start.ends_with('~') {
        return (None, vec![(from.to_string(), until.to_string())]);
    }
    let mut edges = Vec::new();
    if from < first_start.as_str() {
        edges.push((from.to_string(), first_start.clone()));
    }
    if last_end.as_str() < until {
        edges.push((last_end.clone(), until.to_string()));
    }
    // The last whole month starts a month before `last_end`.
    let last_month = previous_month(&last_end);
    (Some((first_start[0..7].to_string(), last_month)), edges)
}

fn previous_month(first_day: &str) -> String {
    let (y, m) = (
        first_day.get(0..4).and_then(|y| y.parse::<i32>().ok()),
        first_day.get(5..7).and_then(|m| m.parse::<u32>().ok()),
    );
    match (y, m) {
        (Some(y), Some(1)) => format!("{:04}-12", y - 1),
        (Some(y), Some(m)) => format!("{y:04}-{:02}", m - 1),
        _ => first_day.get(0..7).unwrap_or(first_day).to_string(),
    }
}

/// The statements reading the rollups of the months `first..=last` at `sites`: the visits, and
/// the commodities summed per client record.
fn whole_months(sites: &[String], first: &str, last: &str) -> [Statement; 2] {
    let months = |q: &mut Sql| {
        format!(
            "site_id IN {} AND month >= {} AND month <= {}",
            q.list(sites.iter().map(String::as_str)),
            q.bind(first),
            q.bind(last)
        )
    };
    let mut q = Sql::new();
    let scope = months(&mut q);
    let visits = q.query(&format!(
        "SELECT client_id, site_id, month, days, settings, services, tests, referrals FROM report_visits WHERE {scope}"
    ));
    let mut q = Sql::new();
    let scope = months(&mut q);
    let items = q.query(&format!(
        "SELECT client_id, commodity, CAST(SUM(quantity) AS BIGINT) FROM report_items WHERE {scope} GROUP BY client_id, commodity"
    ));
    [visits, items]
}

fn visits_of(rows: Vec<Row>) -> Result<Vec<Visit>, DbError> {
    let mut out = Vec::with_capacity(rows.len());
    for mut row in rows {
        let mut visit = Visit {
            days: row.col(3)?,
            settings: row.col(4)?,
            services: row.col(5)?,
            tests: row.col(6)?,
            referrals: row.col(7)?,
            ..Visit::default()
        };
        // The texts are moved out of the row, not copied (a year is a quarter of a million rows).
        row.truncate(3);
        let mut texts = row.into_iter().map(|v| match v {
            crate::sql::SqlValue::Text(t) => Ok(t),
            other => Err(DbError::Corrupt(format!("report_visits holds {other:?} where text belongs"))),
        });
        for slot in [&mut visit.client_id, &mut visit.site_id, &mut visit.month] {
            *slot = texts.next().transpose()?.unwrap_or_default();
        }
        out.push(visit);
    }
    Ok(out)
}

fn items_of(rows: &[Row], into: &mut BTreeMap<(String, String), i64>) -> Result<(), DbError> {
    for row in rows {
        *into.entry((row.col(0)?, row.col(1)?)).or_default() += row.col::<i64>(2)?;
    }
    Ok(())
}

/// Adds the contacts of the day ranges `edges` at `sites`, folded, to `out`.
async fn add_edges(
    tx: &mut Tx,
    sites: &[String],
    edges: &[(String, String)],
    out: &mut PeriodVisits,
) -> Result<(), DbError> {
    let mut visits: BTreeMap<(String, String, String), Visit> = std::mem::take(&mut out.visits)
        .into_iter()
        .map(|v| ((v.client_id.clone(), v.site_id.clone(), v.month.clone()), v))
        .collect();
    for (a, b) in edges {
        let folded = fold_range(tx, sites, a, b).await?;
        for (key, v) in folded.visits {
            visits.entry(key).and_modify(|old| old.merge(&v)).or_insert(v);
        }
        for ((client, _, _, commodity), n) in folded.items {
            *out.items.entry((client, commodity)).or_default() += n;
        }
    }
    out.visits = visits.into_values().collect();
    Ok(())
}

impl Store {
    /// The visits and commodities of the client records with a contact in `[from, until)`
    /// (dates) at `sites`: rollups for the whole months (visits and commodities read side by
    /// side, on two connections), the projection for the days at the edges. The projection
    /// must be current ([`Store::refresh_projection`]).
    pub async fn period_visits(&self, sites: &[SiteId], from: &str, until: &str) -> Result<PeriodVisits, DbError> {
        let sites: Vec<String> = sites.iter().map(ToString::to_string).collect();
        let (whole, edges) = split_period(from, until);
        let mut out = PeriodVisits::default();
        if let Some((first, last)) = &whole {
            let [visits, items] = whole_months(&sites, first, last);
            let (visits, items) = tokio::try_join!(self.query(visits), self.query(items))?;
            out.visits = visits_of(visits)?;
            items_of(&items, &mut out.items)?;
        }
        if !edges.is_empty() {
            out = self
                .transaction(crate::backend::TxMode::Read, move |tx| {
                    Box::pin(async move {
                        add_edges(tx, &sites, &edges, &mut out).await?;
                        Ok(out)
                    })
                })
                .await?;
        }
        out.items.retain(|_, n| *n != 0);
        Ok(out)
    }

    /// Event counts at `sites` over the days `[from, until)`: (site, month, kind, key, count),
    /// per month when `by_month` (else the month is empty).
    pub async fn site_day_counts(
        &self,
        sites: &[SiteId],
        from: &str,
        until: &str,
        by_month: bool,
    ) -> Result<Vec<(String, String, String, String, i64)>, DbError> {
        let mut q = Sql::new();
        let list = q.list(sites.iter().map(ToString::to_string));
        let (a, b) = (q.bind(from), q.bind(until));
        // PostgreSQL refuses a constant in GROUP BY: the month is grouped only when asked for.
        let (month, group) = if by_month { ("substr(day, 1, 7)", ", substr(day, 1, 7)") } else { ("''", "") };
        let rows = self
            .query(q.query(&format!(
                "SELECT site_id, {month}, kind, key, CAST(SUM(n) AS BIGINT) FROM report_site_days
                 WHERE site_id IN {list} AND day >= {a} AND day < {b} GROUP BY site_id{group}, kind, key"
            )))
            .await?;
        rows.iter().map(|r| Ok((r.col(0)?, r.col(1)?, r.col(2)?, r.col(3)?, r.col(4)?))).collect()
    }

    /// The visits of `[from, until)` read from the projection only, as if no rollup existed:
    /// for tests, which compare it with [`Store::period_visits`].
    pub async fn period_visits_from_contacts(
        &self,
        sites: &[SiteId],
        from: &str,
        until: &str,
    ) -> Result<PeriodVisits, DbError> {
        let sites: Vec<String> = sites.iter().map(ToString::to_string).collect();
        let edges = vec![(from.to_string(), until.to_string())];
        let mut out = self
            .transaction(crate::backend::TxMode::Read, move |tx| {
                Box::pin(async move {
                    let mut out = PeriodVisits::default();
                    add_edges(tx, &sites, &edges, &mut out).await?;
                    Ok(out)
                })
            })
            .await?;
        out.items.retain(|_, n| *n != 0);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::next_day;

    #[test]
    fn a_period_splits_into_whole_months_and_edge_days() {
        assert_eq!(split_period("2026-10-01", "2026-11-01"), (Some(("2026-10".into(), "2026-10".into())), vec![]));
        assert_eq!(split_period("2025-12-01", "2026-12-01"), (Some(("2025-12".into(), "2026-11".into())), vec![]));
        assert_eq!(
            split_period("2026-10-15", "2026-12-10"),
            (
                Some(("2026-11".into(), "2026-11".into())),
                vec![("2026-10-15".into(), "2026-11-01".into()), ("2026-12-01".into(), "2026-12-10".into())]
            )
        );
        assert_eq!(split_period("2026-10-15", "2026-10-20"), (None, vec![("2026-10-15".into(), "2026-10-20".into())]));
        assert_eq!(split_period("2026-10-15", "2026-11-20"), (None, vec![("2026-10-15".into(), "2026-11-20".into())]));
        assert_eq!(next_day("2026-12-31"), "2027-01-01");
        assert_eq!(next_month("2026-12"), "2027-01-01");
    }
}
