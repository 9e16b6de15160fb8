//! Keeping the rollups: the catch-up marks where changed contacts were and are
//! (`report_dirty`), keeps child records linked to their contacts (`report_links`), and redoes
//! what is marked ([`redo_dirty`]) or everything ([`rebuild`]); an erasure marks and redoes in
//! its own transaction.

use super::{CHILD_COLLECTIONS, Folded, Visit, fold, fold_range, load, next_day, next_month};
use crate::backend::Tx;
use crate::error::DbError;
use crate::params;
use crate::sql::{Dialect, RowExt, Sql, Statement};
use std::collections::BTreeSet;

/// Rows written per INSERT statement.
const WRITE_CHUNK: usize = 300;
/// Client records whose contacts are read per statement when redoing their months.
const CLIENT_CHUNK: usize = 500;
/// Site-days read per statement when redoing them.
const DAY_CHUNK: usize = 100;
/// From this many marked contacts on, a catch-up checks whether rebuilding is cheaper.
const REBUILD_FROM: usize = 5_000;

fn insert_visits(visits: &[&Visit]) -> Vec<Statement> {
    visits
        .chunks(WRITE_CHUNK)
        .map(|chunk| {
            let mut q = Sql::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|v| {
                    format!(
                        "({}, {}, {}, {}, {}, {}, {}, {})",
                        q.bind(v.site_id.as_str()),
                        q.bind(v.month.as_str()),
                        q.bind(v.client_id.as_str()),
                        q.bind(v.days),
                        q.bind(v.settings),
                        q.bind(v.services),
                        q.bind(v.tests),
                        q.bind(v.referrals)
                    )
                })
                .collect();
            q.exec(&format!(
                "INSERT INTO report_visits (site_id, month, client_id, days, settings, services, tests, referrals) VALUES {}",
                rows.join(", ")
            ))
        })
        .collect()
}

type ItemRow<'a> = (&'a (String, String, String, String), &'a i64);

fn insert_items(items: &[ItemRow]) -> Vec<Statement> {
    items
        .chunks(WRITE_CHUNK)
        .map(|chunk| {
            let mut q = Sql::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|((client, site, month, commodity), n)| {
                    format!(
                        "({}, {}, {}, {}, {})",
                        q.bind(site.as_str()),
                        q.bind(month.as_str()),
                        q.bind(client.as_str()),
                        q.bind(commodity.as_str()),
                        q.bind(**n)
                    )
                })
                .collect();
            q.exec(&format!(
                "INSERT INTO report_items (site_id, month, client_id, commodity, quantity) VALUES {}",
                rows.join(", ")
            ))
        })
        .collect()
}

fn insert_days(rows: &[(&String, &String, &String, &String, i64)]) -> Vec<Statement> {
    rows.chunks(WRITE_CHUNK)
        .map(|chunk| {
            let mut q = Sql::new();
            let values: Vec<String> = chunk
                .iter()
                .map(|(site, day, kind, key, n)| {
                    format!(
                        "({}, {}, {}, {}, {})",
                        q.bind(site.as_str()),
                        q.bind(day.as_str()),
                        q.bind(kind.as_str()),
                        q.bind(key.as_str()),
                        q.bind(*n)
                    )
                })
                .collect();
            q.exec(&format!("INSERT INTO report_site_days (site_id, day, kind, key, n) VALUES {}", values.join(", ")))
        })
        .collect()
}

/// Statements inserting what `folded` holds for the visit keys `clients` and the site-days
/// `days` (all of it when `None`); what those keys held is deleted beforehand.
fn insert_folded(
    folded: &Folded,
    clients: Option<&BTreeSet<(String, String, String)>>,
    days: Option<&BTreeSet<(String, String)>>,
) -> Vec<Statement> {
    let mut statements = Vec::new();
    let visits: Vec<&Visit> =
        folded.visits.iter().filter(|(k, _)| clients.is_none_or(|keys| keys.contains(*k))).map(|(_, v)| v).collect();
    statements.extend(insert_visits(&visits));
    let items: Vec<ItemRow> = folded
        .items
        .iter()
        .filter(|((client, site, month, _), n)| {
            **n != 0 && clients.is_none_or(|keys| keys.contains(&(client.clone(), site.clone(), month.clone())))
        })
        .collect();
    statements.extend(insert_items(&items));
    let day_rows: Vec<(&String, &String, &String, &String, i64)> = folded
        .days
        .iter()
        .filter(|(k, _)| days.is_none_or(|keys| keys.contains(*k)))
        .flat_map(|((site, day), counts)| counts.iter().map(move |((kind, key), n)| (site, day, kind, key, *n)))
        .collect();
    statements.extend(insert_days(&day_rows));
    statements
}

/// Marks the site-days and client-months of the contacts a change in `(done, top]` touches, as
/// the projection holds them now: run before the projection's upserts (where they were) and
/// after (where they are; `top` is then `None`). The second mark has no upper bound: on
/// PostgreSQL each statement sees the latest commits, and a record the upserts wrote may have
/// been changed again by a push meanwhile, taking a sequence number above `top`; it must still
/// be marked where the upserts put it. Marking a few records more than needed costs only their
/// redoing.
pub(crate) fn mark_changed(d: Dialect, done: i64, top: Option<i64>) -> Statement {
    let id = d.uuid_as_text("r.id");
    let (range, bounds) = match top {
        Some(top) => ("r.seq > ? AND r.seq <= ?", params![done, top]),
        None => ("r.seq > ?", params![done]),
    };
    let params = [bounds.clone(), bounds.clone(), bounds].concat();
    Statement::exec(
        format!(
            "INSERT INTO report_dirty (site_id, day, client_id)
             SELECT DISTINCT rc.site_id, substr(rc.occurred_at, 1, 10), COALESCE(rc.client_id, '') FROM report_contacts rc
             WHERE rc.site_id IS NOT NULL AND rc.occurred_at IS NOT NULL AND rc.id IN (
                 SELECT {id} FROM records r WHERE {range} AND r.collection = 'contacts'
                 UNION SELECT l.contact_id FROM records r JOIN report_lines l ON l.id = {id}
                       WHERE {range} AND r.collection = 'distribution_lines'
                 UNION SELECT k.contact_id FROM records r JOIN report_links k ON k.id = {id}
                       WHERE {range} AND r.collection IN {CHILD_COLLECTIONS})
             ON CONFLICT DO NOTHING"
        ),
        params,
    )
}

/// Marks the site-day and client-month of contact `id` (before an erasure removes its row).
pub(crate) fn mark_contact(id: &str) -> Statement {
    Statement::exec(
        "INSERT INTO report_dirty (site_id, day, client_id)
         SELECT rc.site_id, substr(rc.occurred_at, 1, 10), COALESCE(rc.client_id, '') FROM report_contacts rc
         WHERE rc.site_id IS NOT NULL AND rc.occurred_at IS NOT NULL
           AND rc.id IN (?, (SELECT l.contact_id FROM report_lines l WHERE l.id = ?), (SELECT k.contact_id FROM report_links k WHERE k.id = ?))
         ON CONFLICT DO NOTHING",
        params![id, id, id],
    )
}

/// Keeps `report_links` (child → contact) up to date for the changes in `(done, top]`.
pub(crate) fn link_statements(d: Dialect, done: i64, top: i64) -> Vec<Statement> {
    let id = d.uuid_as_text("r.id");
    vec![
        Statement::exec(
            format!(
                "INSERT INTO report_links (id, contact_id)
                 SELECT {id}, {contact} FROM records r WHERE r.seq > ? AND r.seq <= ? AND NOT r.deleted
                   AND r.collection IN {CHILD_COLLECTIONS} AND {contact} IS NOT NULL
                 ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id",
                contact = d.field("r", "contact_id"),
            ),
            params![done, top],
        ),
        Statement::exec(
            format!(
                "DELETE FROM report_links WHERE id IN (SELECT {id} FROM records r WHERE r.seq > ? AND r.seq <= ? AND r.deleted
                   AND r.collection IN {CHILD_COLLECTIONS})"
            ),
            params![done, top],
        ),
    ]
}

/// Redoes the rollups of what `report_dirty` names, then empties it. When it names more than a
/// tenth of all contacts (an import, a first catch-up after an upgrade), everything is rebuilt
/// instead: redoing key by key would cost more.
pub(crate) async fn redo_dirty(tx: &mut Tx) -> Result<(), DbError> {
    let rows = tx.query(Statement::query("SELECT site_id, day, client_id FROM report_dirty", vec![])).await?;
    if rows.is_empty() {
        return Ok(());
    }
    if rows.len() > REBUILD_FROM {
        let total = tx.query(Statement::query("SELECT COUNT(*) FROM report_contacts", vec![])).await?;
        let total: i64 = total.first().map_or(Ok(0), |r| r.col(0))?;
        if rows.len() as i64 > total / 10 {
            return rebuild(tx).await;
        }
    }
    // What the named keys held goes first, in three statements.
    tx.run(vec![
        Statement::exec(
            "DELETE FROM report_visits WHERE (site_id, month, client_id) IN
                 (SELECT site_id, substr(day, 1, 7), client_id FROM report_dirty)",
            vec![],
        ),
        Statement::exec(
            "DELETE FROM report_items WHERE (site_id, month, client_id) IN
                 (SELECT site_id, substr(day, 1, 7), client_id FROM report_dirty)",
            vec![],
        ),
        Statement::exec(
            "DELETE FROM report_site_days WHERE (site_id, day) IN (SELECT site_id, day FROM report_dirty)",
            vec![],
        ),
    ])
    .await?;
    let mut client_months: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut site_days: BTreeSet<(String, String)> = BTreeSet::new();
    for row in &rows {
        let (site, day, client): (String, String, String) = (row.col(0)?, row.col(1)?, row.col(2)?);
        if !client.is_empty() {
            client_months.insert((client, site.clone(), day.get(0..7).unwrap_or(&day).to_string()));
        }
        site_days.insert((site, day));
    }
    // Every contact of the clients named (a few dozen a year each), kept for the months named.
    let clients: Vec<&String> = client_months.iter().map(|(c, _, _)| c).collect::<BTreeSet<_>>().into_iter().collect();
    for chunk in clients.chunks(CLIENT_CHUNK) {
        let contacts =
            load(tx, &|q: &mut Sql| format!("rc.client_id IN {}", q.list(chunk.iter().map(|c| c.as_str())))).await?;
        let folded = fold(&contacts);
        let keys: BTreeSet<(String, String, String)> =
            client_months.iter().filter(|(c, _, _)| chunk.binary_search(&c).is_ok()).cloned().collect();
        tx.run(insert_folded(&folded, Some(&keys), Some(&BTreeSet::new()))).await?;
    }
    let days: Vec<&(String, String)> = site_days.iter().collect();
    for chunk in days.chunks(DAY_CHUNK) {
        let contacts = load(tx, &|q: &mut Sql| {
            let parts: Vec<String> = chunk
                .iter()
                .map(|(site, day)| {
                    format!(
                        "(rc.site_id = {} AND rc.occurred_at >= {} AND rc.occurred_at < {})",
                        q.bind(site.as_str()),
                        q.bind(day.as_str()),
                        q.bind(next_day(day))
                    )
                })
                .collect();
            format!("({})", parts.join(" OR "))
        })
        .await?;
        let folded = fold(&contacts);
        let keys: BTreeSet<(String, String)> = chunk.iter().map(|k| (*k).clone()).collect();
        tx.run(insert_folded(&folded, Some(&BTreeSet::new()), Some(&keys))).await?;
    }
    tx.run(vec![Statement::exec("DELETE FROM report_dirty", vec![])]).await?;
    Ok(())
}

/// Rebuilds every rollup from the projection, a site and a month at a time.
pub(crate) async fn rebuild(tx: &mut Tx) -> Result<(), DbError> {
    tx.run(
        ["report_visits", "report_items", "report_site_days", "report_dirty"]
            .iter()
            .map(|t| Statement::exec(format!("DELETE FROM {t}"), vec![]))
            .collect(),
    )
    .await?;
    // Which contact each child record belongs to, from scratch: records from before the
    // rollups existed (an upgrade) get their links too, so deleting one later redoes its place.
    let d = tx.dialect();
    tx.run(vec![
        Statement::exec("DELETE FROM report_links", vec![]),
        Statement::exec(
            format!(
                "INSERT INTO report_links (id, contact_id)
                 SELECT {id}, {contact} FROM records r WHERE NOT r.deleted
                   AND r.collection IN {CHILD_COLLECTIONS} AND {contact} IS NOT NULL",
                id = d.uuid_as_text("r.id"),
                contact = d.field("r", "contact_id"),
            ),
            vec![],
        ),
    ])
    .await?;
    // The projection was just filled in this transaction: without statistics the planner may
    // walk every line for each site-month instead of the contacts' lines.
    tx.run(vec![Statement::exec("ANALYZE report_contacts", vec![]), Statement::exec("ANALYZE report_lines", vec![])])
        .await?;
    let spans = tx
        .query(Statement::query(
            "SELECT site_id, MIN(occurred_at), MAX(occurred_at) FROM report_contacts
             WHERE NOT deleted AND site_id IS NOT NULL AND occurred_at IS NOT NULL GROUP BY site_id",
            vec![],
        ))
        .await?;
    for span in &spans {
        let (site, first, last): (String, String, String) = (span.col(0)?, span.col(1)?, span.col(2)?);
        let mut month = first.get(0..7).unwrap_or(&first).to_string();
        let last_month = last.get(0..7).unwrap_or(&last).to_string();
        while month <= last_month {
            let until = next_month(&month);
            let started = std::time::Instant::now();
            let folded = fold_range(tx, std::slice::from_ref(&site), &month, &until).await?;
            let read_ms = started.elapsed().as_millis() as u64;
            tx.run(insert_folded(&folded, None, None)).await?;
            tracing::debug!(%site, %month, read_ms, total_ms = started.elapsed().as_millis() as u64, "rollups rebuilt");
            month = until.get(0..7).unwrap_or(&until).to_string();
            if until.ends_with('~') {
                break;
            }
        }
    }
    Ok(())
}
