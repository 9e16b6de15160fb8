//! `outpost-bench report`: the coordinators' indicator report over a large history.
//!
//! The server database is filled inside the database itself (SQLite's recursive CTE or
//! PostgreSQL's `generate_series`, in the stored record format) with N contacts over twelve
//! months at the two demo sites, two distribution lines each, and a client population. Then the
//! monthly and yearly indicator reports, the monthly trends and a month's contact export are
//! timed as the dashboard asks for them, after the typed projection has caught up (timed too).
//! Beside them, the raw SQLite limit: the same month's
//! core figures (distinct clients, needle-syringes) from plain typed tables with ideal indexes,
//! on the same disk, in the same run.

use anyhow::{Result, anyhow};
use outpost_core::SiteId;
use outpost_server::services::admin::Actor;
use outpost_server::services::admin::dhis2::{self, ExportFormat};
use outpost_server::services::reports::{self, Filter, export};
use outpost_server::settings::Settings;
use outpost_server_store::dhis2::SavedMapping;
use outpost_server_store::{Dialect, RowExt, Statement, Store};
use outpost_tests::{Backend, TestServer};
use std::path::Path;
use std::time::Instant;

const CLIENTS: usize = 20_000;
const STAMP: &str = "001764064800000-00000-0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b";

fn db(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{e}")
}

/// `INSERT ... SELECT` generating `n` rows numbered `i` = 1..=n, with `select` using `i`.
fn generated(d: Dialect, n: usize, select: &str) -> String {
    let (prefix, from) = d.numbered_rows(n);
    format!(
        "INSERT INTO records (collection, id, org_id, site_id, state, deleted, seq, created_ms, updated_ms)
         {prefix}{select} {from}"
    )
}

/// A field `{"v": value, "t": stamp}` in the stored state.
fn field(d: Dialect, name: &str, value: &str) -> String {
    format!("'{name}', {}", d.json_object(&format!("'v', {value}, 't', '{STAMP}'")))
}

fn state(d: Dialect, fields: &[String]) -> String {
    d.json_object(&format!("'fields', {}", d.json_object(&fields.join(", "))))
}

/// A UUID-shaped text id numbered by `number` within `group`.
fn uuid(d: Dialect, group: &str, number: &str) -> String {
    d.zero_padded(&format!("00000000-0000-7000-{group}-"), number, 12)
}

/// Contact `i`'s time: spread over the 365 days from 2025-12-01, spread over the day.
fn contact_time(d: Dialect, i: &str) -> String {
    d.timestamp_after("2025-12-01", &format!("({i}) % 365"), &format!("({i}) % 600"))
}

async fn fill(storage: &Store, contacts: usize) -> Result<()> {
    let d = storage.dialect();
    let ids =
        storage.query(Statement::query("SELECT org_id, id FROM sites ORDER BY name", vec![])).await.map_err(db)?;
    let [a, b] = ids.as_slice() else { return Err(anyhow!("the demo organisation has two sites")) };
    let (org, site_a, site_b) = (a[0].to_text(), a[1].to_text(), b[1].to_text());
    let site = |i: &str| d.id_from_text(&format!("CASE ({i}) % 2 WHEN 0 THEN '{site_a}' ELSE '{site_b}' END"));
    let org = d.id_from_text(&format!("'{org}'"));
    let services = d.json_array("'kit', 'counselling'");
    let deleted = d.bool_literal(false);
    let clients = generated(
        d,
        CLIENTS,
        &format!(
            "SELECT 'clients', {id}, {org}, {site}, {state}, {deleted}, i, 0, 0",
            id = d.id_from_text(&uuid(d, "8001", "i")),
            site = site("i"),
            state = state(
                d,
                &[
                    field(d, "uic", "'BENCH' || i"),
                    field(d, "gender", "CASE i % 3 WHEN 0 THEN 'woman' WHEN 1 THEN 'man' ELSE 'not_stated' END"),
                    field(d, "birth_year", "1960 + i % 45"),
                    field(d, "first_seen_at", &contact_time(d, "i")),
                    field(d, "key_groups", &d.json_array("'injects_drugs'")),
                ]
            ),
        ),
    );
    let contact_rows = generated(
        d,
        contacts,
        &format!(
            "SELECT 'contacts', {id}, {org}, {site}, {state}, {deleted}, {CLIENTS} + i, 0, 0",
            id = d.id_from_text(&uuid(d, "8002", "i")),
            site = site("i"),
            state = state(
                d,
                &[
                    field(d, "client_id", &uuid(d, "8001", &format!("1 + i % {CLIENTS}"))),
                    field(d, "setting", "'window'"),
                    field(d, "occurred_at", &contact_time(d, "i")),
                    field(d, "services", &services),
                ]
            ),
        ),
    );
    // Two lines per contact: line 2k-1 and 2k belong to contact k.
    let lines = generated(
        d,
        contacts * 2,
        &format!(
            "SELECT 'distribution_lines', {id}, {org}, {site}, {state}, {deleted}, {CLIENTS} + {contacts} + i, 0, 0",
            id = d.id_from_text(&uuid(d, "8003", "i")),
            site = site("(i + 1) / 2"),
            state = state(
                d,
                &[
                    field(d, "contact_id", &uuid(d, "8002", "(i + 1) / 2")),
                    field(d, "commodity", "CASE i % 2 WHEN 1 THEN 'syringe_1ml' ELSE 'condom_external' END"),
                    field(d, "quantity", "CASE i % 2 WHEN 1 THEN 10 ELSE 2 END"),
                ]
            ),
        ),
    );
    storage.execute(vec![Statement::exec(clients, vec![])]).await.map_err(db)?;
    storage.execute(vec![Statement::exec(contact_rows, vec![])]).await.map_err(db)?;
    storage.execute(vec![Statement::exec(lines, vec![])]).await.map_err(db)?;
    // As the server's own writes do, advance the sequence counter past every record.
    storage
        .execute(vec![Statement::exec(
            "UPDATE counters SET value = (SELECT MAX(seq) FROM records) WHERE name = 'seq'",
            vec![],
        )])
        .await
        .map_err(db)?;
    storage.execute(vec![Statement::exec(d.analyze("records"), vec![])]).await.map_err(db)?;
    Ok(())
}

fn filter(sites: &[SiteId], from: &str, to: &str, until: &str, days: i64) -> Filter {
    Filter { from: from.into(), to: to.into(), until: until.into(), sites: sites.to_vec(), suppress: true, days }
}

/// Best of three runs of `f`, in milliseconds.
async fn best_ms<F, Fut, T>(mut f: F) -> Result<(f64, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..3 {
        let started = Instant::now();
        let value = f().await?;
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        last = Some(value);
    }
    Ok((best, last.ok_or_else(|| anyhow!("no run"))?))
}

/// The raw limit: the month's distinct clients and syringes from typed tables with ideal
/// indexes, best of three, in milliseconds.
fn raw_sqlite_month_ms(dir: &Path, contacts: usize) -> Result<(f64, i64, i64)> {
    let conn = rusqlite::Connection::open(dir.join("raw-report.db"))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE contacts (id INTEGER PRIMARY KEY, site INTEGER, client INTEGER, at TEXT);
         CREATE TABLE lines (contact INTEGER, commodity TEXT, quantity INTEGER);
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {contacts})
         INSERT INTO contacts SELECT i, i % 2, 1 + i % {CLIENTS},
             strftime('%Y-%m-%dT%H:%M:%SZ', '2025-12-01', '+' || (i % 365) || ' days', '+' || (i % 600) || ' minutes') FROM g;
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {lines})
         INSERT INTO lines SELECT (i + 1) / 2, CASE i % 2 WHEN 1 THEN 'syringe_1ml' ELSE 'condom_external' END,
             CASE i % 2 WHEN 1 THEN 10 ELSE 2 END FROM g;
         CREATE INDEX contacts_site_at ON contacts (site, at);
         CREATE INDEX lines_contact ON lines (contact, commodity);
         ANALYZE;",
        lines = contacts * 2
    ))?;
    let mut best = f64::MAX;
    let mut result = (0, 0);
    for _ in 0..3 {
        let started = Instant::now();
        result = conn.query_row(
            "SELECT COUNT(DISTINCT c.client),
                    (SELECT SUM(l.quantity) FROM contacts c2 JOIN lines l ON l.contact = c2.id AND l.commodity = 'syringe_1ml'
                      WHERE c2.site IN (0, 1) AND c2.at >= '2026-10-01' AND c2.at < '2026-11-01')
             FROM contacts c WHERE c.site IN (0, 1) AND c.at >= '2026-10-01' AND c.at < '2026-11-01'",
            [],
            |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0))),
        )?;
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((best, result.0, result.1))
}

/// Fills a server database on `backend` and times the reports a coordinator opens.
pub async fn report_bench(dir: &Path, backend: Backend, url: &str, contacts: usize) -> Result<()> {
    let server = TestServer::start_at(backend, Settings::default(), Some(url), Some(dir)).await?;
    let started = Instant::now();
    fill(&server.storage, contacts).await?;
    let load_s = started.elapsed().as_secs_f64();
    let sites: Vec<SiteId> = server
        .storage
        .query(Statement::query("SELECT id FROM sites", vec![]))
        .await
        .map_err(db)?
        .iter()
        .map(|row| row.col(0))
        .collect::<Result<_, _>>()
        .map_err(db)?;
    println!("  {backend:?}: {contacts} contacts, {} lines, {CLIENTS} clients loaded in {load_s:.1} s", contacts * 2);
    let started = Instant::now();
    server.storage.refresh_projection().await.map_err(db)?;
    println!(
        "    projection catch-up over all {} records (once; later reports take only new changes): {:.1} s",
        contacts * 3 + CLIENTS,
        started.elapsed().as_secs_f64()
    );
    let month = filter(&sites, "2026-10-01", "2026-10-31", "2026-11-01", 31);
    let year = filter(&sites, "2025-12-01", "2026-11-30", "2026-12-01", 365);
    let storage = &server.storage;
    let (month_ms, report) = best_ms(|| async { reports::indicators(storage, &month).await.map_err(db) }).await?;
    let people = report.get("people_reached").and_then(|i| i.value).unwrap_or(0.0);
    let syringes = report.get("needle_syringes_distributed").and_then(|i| i.value).unwrap_or(0.0);
    let (year_ms, _) = best_ms(|| async { reports::indicators(storage, &year).await.map_err(db) }).await?;
    let (trends_ms, _) = best_ms(|| async { reports::trends(storage, &year).await.map_err(db) }).await?;
    let (export_ms, rows) = best_ms(|| async { export::rows(storage, "contacts", &month).await.map_err(db) }).await?;
    println!(
        "    monthly indicator report (all indicators):  {month_ms:>9.0} ms  (people reached {people}, needle-syringes {syringes})"
    );
    println!("    yearly indicator report:                    {year_ms:>9.0} ms");
    // Each indicator set (the donor reports), over the same month.
    for set in reports::sets::registry() {
        let (set_ms, out) = best_ms(|| async { reports::sets::report(storage, set, &month).await.map_err(db) }).await?;
        let first = out.indicators.first().map(|i| format!("{} {}", i.key, i.value.unwrap_or(0.0))).unwrap_or_default();
        println!("    monthly set {:<16}{:>24.0} ms  ({first})", set.key, set_ms);
    }
    // A month of PEPFAR KP_PREV as DHIS2 receives it: computed per site, every cell mapped,
    // written as ADX (what "Download ADX" and a send do before the network).
    let mut csv =
        String::from("kind,key,cell,uid,category_option_combo,attribute_option_combo\ndata_set,,,aBenchSet01,,\n");
    for (i, site) in storage.list_sites().await.map_err(db)?.iter().enumerate() {
        csv.push_str(&format!("org_unit,{},,aOrgUnit{i:03},,\n", site.id));
    }
    csv.push_str("value,kp_prev,,aKpPrev0001,,\n");
    for (i, kp) in ["pwid", "tg", "fsw", "msm"].iter().enumerate() {
        csv.push_str(&format!("value,kp_prev,kp_type={kp},aKpType{i:04},,\n"));
        for (j, status) in ["known_positive", "newly_tested_or_referred", "declined"].iter().enumerate() {
            csv.push_str(&format!("value,kp_prev,kp_type={kp};testing_status={status},aKpTest{i}{j:03},,\n"));
        }
    }
    let saved = SavedMapping { csv, saved_by: "bench".into(), saved_ms: 0 };
    storage.set_dhis2_mapping("pepfar_kp_prev", saved).await.map_err(db)?;
    let actor = Actor::cli();
    let (adx_ms, (_, _, adx)) = best_ms(|| async {
        dhis2::export(storage, &actor, "pepfar_kp_prev", &month, ExportFormat::Adx).await.map_err(|e| anyhow!("{e}"))
    })
    .await?;
    println!(
        "    a month of KP_PREV as ADX for DHIS2 ({} values): {adx_ms:>9.0} ms",
        adx.matches("<dataValue ").count()
    );
    println!("    monthly trends over the year:               {trends_ms:>9.0} ms");
    println!(
        "    a month's contact export ({:>6} rows):      {export_ms:>9.0} ms",
        rows.map_or(0, |r| r.len().saturating_sub(1))
    );
    server.stop().await
}

/// The raw line printed before the backends.
pub fn raw_line(dir: &Path, contacts: usize) -> Result<()> {
    let (raw_ms, people, syringes) = raw_sqlite_month_ms(dir, contacts)?;
    println!(
        "  raw SQLite limit (typed tables, ideal indexes): month's distinct clients + syringes {raw_ms:>6.0} ms (people {people}, syringes {syringes})"
    );
    Ok(())
}
