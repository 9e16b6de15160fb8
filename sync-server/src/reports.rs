//! Coordinators' reports: the indicators of `domain.md`, monthly trends, survey results and
//! stock, computed in the database (SQL over the merged records, with the indexes of migration
//! 3), never by loading every record into memory.
//!
//! Person counts (people reached and everything counted in people, tests and referrals) below
//! [`SMALL_CELL`] are suppressed unless the coordinator switches suppression off; when a
//! breakdown has exactly one suppressed cell, the next smallest is suppressed too, so that no
//! cell can be worked out from the total.

use crate::db::sql::{Dialect, Row, SqlValue, Statement};
use crate::db::{DbError, Storage};
use outpost_core::records::StockKind;
use serde::Serialize;
use std::collections::BTreeMap;

/// Cells counting fewer people than this are suppressed.
pub const SMALL_CELL: i64 = 5;

/// What a report covers.
#[derive(Clone, Debug)]
pub struct Filter {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// The day after `to` (exclusive bound).
    pub until: String,
    pub sites: Vec<String>,
    pub suppress: bool,
    /// Days covered.
    pub days: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Cell {
    pub key: String,
    pub value: Option<f64>,
    pub suppressed: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Breakdown {
    pub dimension: String,
    pub rows: Vec<Cell>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Indicator {
    pub key: String,
    pub value: Option<f64>,
    pub suppressed: bool,
    pub unit: &'static str,
    pub formula: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<&'static str>,
    pub breakdowns: Vec<Breakdown>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Suppression {
    pub enabled: bool,
    pub threshold: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct IndicatorReport {
    pub from: String,
    pub to: String,
    pub sites: Vec<String>,
    pub suppression: Suppression,
    pub indicators: Vec<Indicator>,
}

impl IndicatorReport {
    pub fn get(&self, key: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.key == key)
    }
}

/// Builds SQL with numbered parameters.
struct Query {
    d: Dialect,
    params: Vec<SqlValue>,
}

impl Query {
    fn new(d: Dialect) -> Self {
        Self { d, params: Vec::new() }
    }

    fn bind(&mut self, value: impl Into<SqlValue>) -> String {
        self.params.push(value.into());
        self.d.p(self.params.len())
    }

    fn bind_uuid(&mut self, value: impl Into<SqlValue>) -> String {
        self.params.push(value.into());
        self.d.p_uuid(self.params.len())
    }

    fn site_list(&mut self, sites: &[String]) -> String {
        if sites.is_empty() {
            return "(NULL)".into();
        }
        let items: Vec<String> = sites.iter().map(|s| self.bind_uuid(s.as_str())).collect();
        format!("({})", items.join(", "))
    }

    /// `(?, ?, ...)` of text values, `(NULL)` (matching nothing) when empty.
    fn text_list(&mut self, values: &[String]) -> String {
        if values.is_empty() {
            return "(NULL)".into();
        }
        let items: Vec<String> = values.iter().map(|v| self.bind(v.as_str())).collect();
        format!("({})", items.join(", "))
    }

    /// The condition selecting live records of an event-like `collection` (aliased `alias`) at
    /// the filter's sites whose `occurred_at` falls in its period.
    fn event_scope(&mut self, alias: &str, collection: &str, filter: &Filter) -> String {
        let d = self.d;
        let sites = self.site_list(&filter.sites);
        let from = self.bind(filter.from.as_str());
        let until = self.bind(filter.until.as_str());
        let at = d.field(alias, "occurred_at");
        format!(
            "{alias}.collection = '{collection}' AND {events} AND {live} AND {alias}.site_id IN {sites}
             AND {at} >= {from} AND {at} < {until}",
            events = events(alias),
            live = d.live(alias)
        )
    }

    fn statement(self, sql: String) -> Statement {
        Statement::new(sql, self.params)
    }
}

impl Dialect {
    /// Text compared with a UUID column.
    fn as_uuid(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS uuid)"),
        }
    }

    /// Whole days from date `from` (a bound parameter) to the date starting timestamp `expr`.
    fn days_from(self, expr: &str, from: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CAST(julianday(substr({expr}, 1, 10)) - julianday({from}) AS INTEGER)"),
            Dialect::Postgres => format!("(CAST(substr({expr}, 1, 10) AS date) - CAST({from} AS date))"),
        }
    }
}

/// Brings the typed projection (`report_contacts`, `report_lines`) up to the latest server
/// sequence number: the records changed since the last report are upserted in one transaction.
/// Reports call it first, so pushes pay nothing for the projection and a report sees every
/// committed change.
pub async fn refresh_projection<S: Storage>(storage: &S) -> Result<(), DbError> {
    let d = storage.dialect();
    let rows = storage
        .query(Statement::new(
            "SELECT (SELECT last_seq FROM report_progress WHERE name = 'projection'),
                    (SELECT value FROM counters WHERE name = 'seq')",
            vec![],
        ))
        .await?;
    let (done, top) = rows.first().map_or((0, 0), |r| (int(r, 0), int(r, 1)));
    if top <= done {
        return Ok(());
    }
    let changed = |collection: &str| {
        format!(
            "FROM records r WHERE r.org_id IN (SELECT id FROM orgs) AND r.seq > {} AND r.seq <= {} AND r.collection = '{collection}'",
            d.p(1),
            d.p(2)
        )
    };
    let services = match d {
        Dialect::Sqlite => "json_extract(r.state, '$.fields.services.v')".to_string(),
        Dialect::Postgres => "r.state->'fields'->'services'->'v'".to_string(),
    };
    let contacts = format!(
        "INSERT INTO report_contacts (id, site_id, client_id, setting, occurred_at, collecting_for, services, deleted)
         SELECT {id}, {site}, {client}, {setting}, {at}, COALESCE({collecting}, 0), {services}, r.deleted {from}
         ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, client_id = excluded.client_id,
             setting = excluded.setting, occurred_at = excluded.occurred_at,
             collecting_for = excluded.collecting_for, services = excluded.services, deleted = excluded.deleted",
        id = d.text("r.id"),
        site = d.text("r.site_id"),
        client = d.field("r", "client_id"),
        setting = d.field("r", "setting"),
        at = d.field("r", "occurred_at"),
        collecting = d.field_int("r", "collecting_for"),
        from = changed("contacts"),
    );
    let lines = format!(
        "INSERT INTO report_lines (id, contact_id, commodity, quantity, deleted)
         SELECT {id}, {contact}, {commodity},
                (CASE WHEN {reverses} IS NULL THEN 1 ELSE -1 END) * COALESCE({quantity}, 0), r.deleted {from}
         ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id, commodity = excluded.commodity,
             quantity = excluded.quantity, deleted = excluded.deleted",
        id = d.text("r.id"),
        contact = d.field("r", "contact_id"),
        commodity = d.field("r", "commodity"),
        reverses = d.field("r", "reverses"),
        quantity = d.field_int("r", "quantity"),
        from = changed("distribution_lines"),
    );
    let range = || vec![SqlValue::Int(done), SqlValue::Int(top)];
    let mut statements = Vec::new();
    if d == Dialect::Postgres {
        // Instances refreshing at once take turns (the work is idempotent, the wait is short).
        statements.push(Statement::new("SELECT pg_advisory_xact_lock(7310557377093072131)", vec![]));
    }
    statements.push(Statement::new(contacts, range()));
    statements.push(Statement::new(lines, range()));
    statements.push(Statement::new(
        format!("UPDATE report_progress SET last_seq = {} WHERE name = 'projection' AND last_seq < {}", d.p(1), d.p(1)),
        vec![SqlValue::Int(top)],
    ));
    storage.execute(statements).await?;
    // After a large catch-up (first report after an upgrade or an import) the planner's
    // statistics describe empty tables; refresh them so report plans use the indexes.
    if top - done > 50_000 {
        storage
            .execute(vec![
                Statement::new("ANALYZE report_contacts", vec![]),
                Statement::new("ANALYZE report_lines", vec![]),
            ])
            .await?;
    }
    Ok(())
}

/// The contacts of the filter as a CTE named `c` (id, site, client, setting, time,
/// collecting_for, services as JSON text), read from the typed projection `report_contacts`
/// (migration 4), with its parameters bound into `q`.
fn contacts_cte(q: &mut Query, filter: &Filter) -> String {
    let d = q.d;
    let sites = q.text_list(&filter.sites);
    let from = q.bind(filter.from.as_str());
    let until = q.bind(filter.until.as_str());
    let services = match d {
        Dialect::Sqlite => "rc.services",
        Dialect::Postgres => "rc.services::text",
    };
    format!(
        "c AS MATERIALIZED (SELECT rc.id AS id, rc.site_id AS site_id, rc.client_id AS client_id, rc.setting AS setting,
                                   rc.occurred_at AS at, rc.collecting_for AS collecting_for, {services} AS services
               FROM report_contacts rc
               WHERE {live} AND rc.site_id IN {sites} AND rc.occurred_at >= {from} AND rc.occurred_at < {until})",
        live = d.live("rc"),
    )
}

/// The distribution lines (alias `x`: commodity, signed quantity) of the contacts `c`, from the
/// projection `report_lines`.
fn lines_join(d: Dialect) -> String {
    format!("JOIN report_lines x ON x.contact_id = c.id AND {}", d.live("x"))
}

/// The condition of the partial index `records_by_contact`, repeated word for word in queries so
/// that SQLite sees the index applies.
const CHILDREN: &str = "x.collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports')";

/// The condition of the partial index `records_event_time` for records aliased `alias`.
fn events(alias: &str) -> String {
    format!("{alias}.collection IN ('group_tallies', 'stock_movements', 'survey_responses')")
}

/// Records of `collection` hanging off the contacts `c` (alias `x`).
/// (Not for distribution lines: those are read from `report_lines`, see [`lines_join`].)
fn children_join(d: Dialect, collection: &str) -> String {
    format!(
        "JOIN records x ON x.collection = '{collection}' AND {CHILDREN} AND {contact} = {id} AND {live}",
        contact = d.field("x", "contact_id"),
        id = d.bare("c.id"),
        live = d.live("x")
    )
}

/// Codes of the commodity catalogue by role in the indicators.
#[derive(Default, Debug)]
struct Catalogue {
    items: BTreeMap<String, CatalogueItem>,
}

#[derive(Debug)]
struct CatalogueItem {
    name: String,
    category: String,
    needle_syringe: bool,
    low_threshold: Option<i64>,
}

impl Catalogue {
    fn is_needle_syringe(&self, code: &str) -> bool {
        self.items.get(code).is_some_and(|i| i.needle_syringe)
    }
    fn is_condom(code: &str) -> bool {
        code.starts_with("condom")
    }
    fn is_naloxone(&self, code: &str) -> bool {
        self.items.get(code).is_some_and(|i| i.category == "naloxone")
    }
}

async fn catalogue<S: Storage>(storage: &S) -> Result<Catalogue, DbError> {
    let d = storage.dialect();
    let rows = storage
        .query(Statement::new(
            format!(
                "SELECT {}, {}, {}, {}, {} FROM records r WHERE r.collection = 'commodities' AND {}",
                d.field("r", "code"),
                d.field("r", "name"),
                d.field("r", "category"),
                d.field_int("r", "counts_as_needle_syringe"),
                d.field_int("r", "low_stock_threshold"),
                d.live("r")
            ),
            vec![],
        ))
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            let item = CatalogueItem {
                name: text(r, 1),
                category: text(r, 2),
                needle_syringe: r[3].as_i64() == Some(1),
                low_threshold: r[4].as_i64(),
            };
            (text(r, 0), item)
        })
        .collect();
    Ok(Catalogue { items })
}

fn int(row: &Row, i: usize) -> i64 {
    row.get(i).and_then(SqlValue::as_i64).unwrap_or(0)
}

fn text(row: &Row, i: usize) -> String {
    row.get(i).map(SqlValue::to_text).unwrap_or_default()
}

/// (dimension, key) → count.
type Counts = BTreeMap<(String, String), i64>;

async fn counts<S: Storage>(storage: &S, statement: Statement) -> Result<Counts, DbError> {
    let mut out = Counts::new();
    for row in storage.query(statement).await? {
        *out.entry((text(&row, 0), text(&row, 1))).or_default() += int(&row, 2);
    }
    Ok(out)
}

/// Person counts per client: reach, package, NSP and regular access, by gender, age and group.
async fn people<S: Storage>(storage: &S, filter: &Filter, cat: &Catalogue) -> Result<Counts, DbError> {
    let d = storage.dialect();
    let mut q = Query::new(d);
    let cte = contacts_cte(&mut q, filter);
    let ns: Vec<String> = cat.items.keys().filter(|c| cat.is_needle_syringe(c)).cloned().collect();
    let condoms: Vec<String> = cat.items.keys().filter(|c| Catalogue::is_condom(c)).cloned().collect();
    let ns_list = q.text_list(&ns);
    let condom_list = q.text_list(&condoms);
    let from = q.bind(filter.from.as_str());
    let year = q.bind(filter.to.get(0..4).and_then(|y| y.parse::<i64>().ok()).unwrap_or(0));
    // Whole 30-day parts of the period (at least one); a short tail is not a part.
    let windows = q.bind((filter.days / 30).max(1));
    let lines = lines_join(d);
    let window = d.days_from("c.at", &from);
    let has_info = match d {
        Dialect::Sqlite => {
            "EXISTS (SELECT 1 FROM json_each(c.services) WHERE value IN ('counselling', 'information'))".to_string()
        }
        Dialect::Postgres => "(c.services::jsonb ?| array['counselling', 'information'])".to_string(),
    };
    let sql = format!(
        "WITH {cte},
         net AS (SELECT c.client_id AS client_id, x.commodity AS commodity, SUM(x.quantity) AS n
                 FROM c {lines} WHERE c.client_id IS NOT NULL GROUP BY c.client_id, x.commodity),
         got AS (SELECT client_id,
                        MAX(CASE WHEN commodity IN {ns_list} AND n > 0 THEN 1 ELSE 0 END) AS ns,
                        MAX(CASE WHEN commodity IN {condom_list} AND n > 0 THEN 1 ELSE 0 END) AS condom
                 FROM net GROUP BY client_id),
         pc AS (SELECT client_id, MAX(ns) AS ns, MAX(condom) AS condom, MAX(info) AS info, COUNT(DISTINCT w) AS windows
                FROM (SELECT c.client_id AS client_id, 0 AS ns, 0 AS condom,
                             CASE WHEN {has_info} THEN 1 ELSE 0 END AS info,
                             CASE WHEN {window} / 30 < {windows} THEN {window} / 30 END AS w
                      FROM c WHERE c.client_id IS NOT NULL
                      UNION ALL SELECT client_id, ns, condom, 0, NULL FROM got) AS u
                GROUP BY client_id),
         p AS MATERIALIZED (SELECT pc.*, cl.state AS state,
                      COALESCE({gender}, 'not_stated') AS gender,
                      {year} - {birth} AS age,
                      {first_seen} AS first_seen
               FROM pc LEFT JOIN records cl ON cl.collection = 'clients' AND cl.id = {client_uuid})
         SELECT 'people_reached', '', COUNT(*) FROM p
         UNION ALL SELECT 'gender', gender, COUNT(*) FROM p GROUP BY gender
         UNION ALL SELECT 'age_band_2', CASE WHEN age IS NULL THEN 'unknown' WHEN age < 25 THEN 'under_25' ELSE '25_plus' END, COUNT(*) FROM p GROUP BY 2
         UNION ALL SELECT 'age_band', CASE WHEN age IS NULL THEN 'unknown' WHEN age < 15 THEN 'under_15' WHEN age < 20 THEN '15_19'
                                           WHEN age < 25 THEN '20_24' WHEN age < 50 THEN '25_49' ELSE '50_plus' END, COUNT(*) FROM p GROUP BY 2
         UNION ALL SELECT 'key_group', {kg_value}, COUNT(*) FROM p, {kg_each} GROUP BY 2
         UNION ALL SELECT 'new_clients', '', COUNT(*) FROM p WHERE first_seen >= {from}
         UNION ALL SELECT 'reached_with_package', '', COUNT(*) FROM p WHERE ns = 1 AND condom = 1 AND info = 1
         UNION ALL SELECT 'nsp_people', '', COUNT(*) FROM p WHERE ns = 1
         UNION ALL SELECT 'nsp_regular_access', '', COUNT(*) FROM p WHERE ns = 1 AND windows >= {windows}
         UNION ALL SELECT 'site', site_id, COUNT(DISTINCT client_id) FROM c WHERE client_id IS NOT NULL GROUP BY site_id",
        gender = d.field("cl", "gender"),
        birth = d.field_int("cl", "birth_year"),
        first_seen = d.field("cl", "first_seen_at"),
        client_uuid = d.as_uuid("pc.client_id"),
        kg_value = d.elem_text("kg"),
        kg_each = d.each("p", "key_groups", "kg"),
    );
    counts(storage, q.statement(sql)).await
}

/// Contacts by setting and site, secondary distribution, and commodities by site and code.
async fn activity<S: Storage>(storage: &S, filter: &Filter) -> Result<(Counts, Vec<(String, String, i64)>), DbError> {
    let d = storage.dialect();
    let mut q = Query::new(d);
    let cte = contacts_cte(&mut q, filter);
    let sql = format!(
        "WITH {cte}
         SELECT 'setting', setting, COUNT(*) FROM c GROUP BY setting
         UNION ALL SELECT 'site', site_id, COUNT(*) FROM c GROUP BY site_id
         UNION ALL SELECT 'secondary_distribution', '', COUNT(*) FROM c WHERE collecting_for > 0
         UNION ALL SELECT 'syringes_returned', '', CAST(COALESCE(SUM({count}), 0) AS BIGINT) FROM c {returns}
         UNION ALL SELECT 'test', {test} || '|' || {result} || '|' || CAST(COALESCE({linked}, 0) AS TEXT), COUNT(*) FROM c {tests} GROUP BY 2
         UNION ALL SELECT 'referral', {target} || '|' || {status}, COUNT(*) FROM c {referrals} GROUP BY 2
         UNION ALL SELECT 'overdose', {outcome}, COUNT(DISTINCT c.id) FROM c {overdoses} GROUP BY 2",
        count = d.field_int("x", "count"),
        returns = children_join(d, "sharps_returns"),
        test = d.field("x", "test"),
        result = d.field("x", "result"),
        linked = d.field_int("x", "linked_to_care"),
        tests = children_join(d, "test_results"),
        target = d.field("x", "target"),
        status = d.field("x", "status"),
        referrals = children_join(d, "referrals"),
        outcome = d.field("x", "outcome"),
        overdoses = children_join(d, "overdose_reports"),
    );
    let activity = counts(storage, q.statement(sql)).await?;

    let mut q = Query::new(d);
    let cte = contacts_cte(&mut q, filter);
    let sql = format!(
        "WITH {cte}
         SELECT c.site_id, x.commodity, CAST(SUM(x.quantity) AS BIGINT)
         FROM c {lines} GROUP BY c.site_id, x.commodity",
        lines = lines_join(d),
    );
    let mut items: Vec<(String, String, i64)> =
        storage.query(q.statement(sql)).await?.iter().map(|r| (text(r, 0), text(r, 1), int(r, 2))).collect();

    // Anonymous tallies: people (not distinct) and commodities.
    let mut q = Query::new(d);
    let scope = q.event_scope("t", "group_tallies", filter);
    let sql = format!(
        "SELECT 'tally_people', '', CAST(COALESCE(SUM({count}), 0) AS BIGINT) FROM records t, {people} WHERE {scope}
         UNION ALL SELECT 'tally_setting', {setting}, CAST(COALESCE(SUM({count}), 0) AS BIGINT) FROM records t, {people} WHERE {scope} GROUP BY 2
         UNION ALL SELECT 'tally_site', {site}, CAST(COALESCE(SUM({count}), 0) AS BIGINT) FROM records t, {people} WHERE {scope} GROUP BY 2
         UNION ALL SELECT 'tally_item', {site} || '|' || {code}, CAST(SUM({qty}) AS BIGINT) FROM records t, {items} WHERE {scope} GROUP BY 2",
        count = d.elem_int("pe", "count"),
        people = d.each("t", "people", "pe"),
        setting = d.field("t", "setting"),
        site = d.text("t.site_id"),
        code = d.elem_field("it", "commodity"),
        qty = d.elem_int("it", "quantity"),
        items = d.each("t", "items", "it"),
    );
    let mut activity = activity;
    for row in storage.query(q.statement(sql)).await? {
        let (dimension, key, value) = (text(&row, 0), text(&row, 1), int(&row, 2));
        if dimension == "tally_item" {
            if let Some((site, code)) = key.split_once('|') {
                items.push((site.to_string(), code.to_string(), value));
            }
        } else {
            *activity.entry((dimension, key)).or_default() += value;
        }
    }
    Ok((activity, items))
}

/// Applies small-cell suppression to a person count.
fn person_cell(key: &str, value: i64, suppress: bool) -> Cell {
    let hidden = suppress && value > 0 && value < SMALL_CELL;
    Cell { key: key.to_string(), value: if hidden { None } else { Some(value as f64) }, suppressed: hidden }
}

fn plain_cell(key: &str, value: f64) -> Cell {
    Cell { key: key.to_string(), value: Some(value), suppressed: false }
}

/// Secondary suppression: a lone suppressed cell could be worked out from the total, so the
/// smallest other non-zero cell is hidden too.
fn protect(rows: &mut [Cell], raw: &[i64]) {
    if rows.iter().filter(|c| c.suppressed).count() != 1 {
        return;
    }
    let candidate = rows
        .iter()
        .enumerate()
        .filter(|(i, c)| !c.suppressed && raw[*i] > 0)
        .min_by_key(|(i, _)| raw[*i])
        .map(|(i, _)| i);
    if let Some(i) = candidate {
        rows[i].value = None;
        rows[i].suppressed = true;
    }
}

fn person_breakdown(dimension: &str, entries: Vec<(String, i64)>, suppress: bool) -> Breakdown {
    let raw: Vec<i64> = entries.iter().map(|(_, v)| *v).collect();
    let mut rows: Vec<Cell> = entries.iter().map(|(k, v)| person_cell(k, *v, suppress)).collect();
    if suppress {
        protect(&mut rows, &raw);
    }
    Breakdown { dimension: dimension.to_string(), rows }
}

fn plain_breakdown(dimension: &str, entries: Vec<(String, i64)>) -> Breakdown {
    Breakdown {
        dimension: dimension.to_string(),
        rows: entries.into_iter().map(|(k, v)| plain_cell(&k, v as f64)).collect(),
    }
}

fn dimension(counts: &Counts, name: &str) -> Vec<(String, i64)> {
    counts.iter().filter(|((d, _), _)| d == name).map(|((_, k), v)| (k.clone(), *v)).collect()
}

fn total(counts: &Counts, name: &str) -> i64 {
    dimension(counts, name).iter().map(|(_, v)| v).sum()
}

struct Builder {
    suppress: bool,
    out: Vec<Indicator>,
}

impl Builder {
    fn people(&mut self, key: &str, value: i64, formula: &'static str, breakdowns: Vec<Breakdown>) {
        self.person_count(key, "people", value, formula, breakdowns);
    }

    /// A count of events that each concern one person (tests, referrals): suppressed like people.
    fn person_count(
        &mut self,
        key: &str,
        unit: &'static str,
        value: i64,
        formula: &'static str,
        breakdowns: Vec<Breakdown>,
    ) {
        let cell = person_cell(key, value, self.suppress);
        self.out.push(Indicator {
            key: key.into(),
            value: cell.value,
            suppressed: cell.suppressed,
            unit,
            formula,
            coverage: None,
            breakdowns,
        });
    }

    /// [`Self::person_count`] of the sum of `map`, broken down by its keys.
    fn person_counts(
        &mut self,
        key: &str,
        unit: &'static str,
        dimension: &str,
        map: BTreeMap<String, i64>,
        formula: &'static str,
    ) {
        let sum = map.values().sum();
        let breakdown = person_breakdown(dimension, map.into_iter().collect(), self.suppress);
        self.person_count(key, unit, sum, formula, vec![breakdown]);
    }

    fn count(&mut self, key: &str, unit: &'static str, value: f64, formula: &'static str, breakdowns: Vec<Breakdown>) {
        self.out.push(Indicator {
            key: key.into(),
            value: Some(value),
            suppressed: false,
            unit,
            formula,
            coverage: None,
            breakdowns,
        });
    }
}

/// Sites and their PWID estimates.
pub async fn site_estimates<S: Storage>(storage: &S) -> Result<Vec<(String, String, Option<i64>)>, DbError> {
    let d = storage.dialect();
    let rows = storage
        .query(Statement::new(
            format!(
                "SELECT {}, s.name, {} FROM sites s LEFT JOIN records r ON r.collection = 'sites' AND r.id = s.id ORDER BY s.name",
                d.text("s.id"),
                d.field_int("r", "pwid_estimate")
            ),
            vec![],
        ))
        .await?;
    Ok(rows.iter().map(|r| (text(r, 0), text(r, 1), r[2].as_i64())).collect())
}

/// Every indicator of `domain.md` for the filter.
pub async fn indicators<S: Storage>(storage: &S, filter: &Filter) -> Result<IndicatorReport, DbError> {
    refresh_projection(storage).await?;
    let cat = catalogue(storage).await?;
    let people = people(storage, filter, &cat).await?;
    let (activity, items) = activity(storage, filter).await?;
    let s = filter.suppress;
    let mut b = Builder { suppress: s, out: Vec::new() };

    let reached = total(&people, "people_reached");
    let new = total(&people, "new_clients");
    b.people(
        "people_reached",
        reached,
        "Distinct client codes with at least one contact in the period (anonymous tallies not included).",
        vec![
            person_breakdown("gender", dimension(&people, "gender"), s),
            person_breakdown("age_band_2", dimension(&people, "age_band_2"), s),
            person_breakdown("age_band", dimension(&people, "age_band"), s),
            person_breakdown("key_group", dimension(&people, "key_group"), s),
            person_breakdown("site", dimension(&people, "site"), s),
        ],
    );
    b.people("new_clients", new, "People reached whose client code was first recorded in the period.", vec![]);
    b.people("returning_clients", reached - new, "People reached minus new clients.", vec![]);
    b.people(
        "reached_with_package",
        total(&people, "reached_with_package"),
        "Distinct clients who in the period received needle-syringes, condoms, and counselling or information.",
        vec![],
    );

    let tally_people = total(&activity, "tally_people");
    let mut settings: BTreeMap<String, i64> = dimension(&activity, "setting").into_iter().collect();
    for (setting, n) in dimension(&activity, "tally_setting") {
        *settings.entry(setting).or_default() += n;
    }
    let contacts = total(&activity, "setting") + tally_people;
    let mut by_site: BTreeMap<String, i64> = dimension(&activity, "site").into_iter().collect();
    for (site, n) in dimension(&activity, "tally_site") {
        *by_site.entry(site).or_default() += n;
    }
    b.count(
        "contacts",
        "contacts",
        contacts as f64,
        "Individual contacts in the period, plus every person counted in anonymous group tallies.",
        vec![
            plain_breakdown("setting", settings.into_iter().collect()),
            plain_breakdown("site", by_site.into_iter().collect()),
        ],
    );
    b.people("tally_people", tally_people, "People counted in anonymous group tallies (not distinct people).", vec![]);
    b.count(
        "secondary_distribution",
        "contacts",
        total(&activity, "secondary_distribution") as f64,
        "Contacts where the client collected supplies for other people.",
        vec![],
    );

    let sum_items =
        |pred: &dyn Fn(&str) -> bool| -> i64 { items.iter().filter(|(_, c, _)| pred(c)).map(|(_, _, q)| q).sum() };
    let ns_total = sum_items(&|c| cat.is_needle_syringe(c));
    let mut ns_by_site: BTreeMap<String, i64> = BTreeMap::new();
    for (site, code, q) in &items {
        if cat.is_needle_syringe(code) {
            *ns_by_site.entry(site.clone()).or_default() += q;
        }
    }
    b.count(
        "needle_syringes_distributed",
        "items",
        ns_total as f64,
        "Needles and syringes given (catalogue items that count as needle-syringes), reversals subtracted, tallies included.",
        vec![plain_breakdown("site", ns_by_site.clone().into_iter().collect())],
    );
    let returned = total(&activity, "syringes_returned");
    b.count("syringes_returned", "items", returned as f64, "Used syringes returned at contacts in the period.", vec![]);
    let rate = if ns_total > 0 { (returned as f64 * 1000.0 / ns_total as f64).round() / 10.0 } else { 0.0 };
    b.count("return_rate", "percent", rate, "Used syringes returned ÷ needle-syringes distributed × 100.", vec![]);

    // Syringes per PWID per year: only sites with an estimate count, on both sides.
    let estimates = site_estimates(storage).await?;
    let mut pwid = 0;
    let mut ns_estimated = 0;
    for (id, _, estimate) in &estimates {
        if let (true, Some(e)) = (filter.sites.contains(id), estimate) {
            pwid += e;
            ns_estimated += ns_by_site.get(id).copied().unwrap_or(0);
        }
    }
    let per_year = if pwid > 0 && filter.days > 0 {
        Some(((ns_estimated as f64 / pwid as f64) * (365.0 / filter.days as f64) * 10.0).round() / 10.0)
    } else {
        None
    };
    b.out.push(Indicator {
        key: "syringes_per_pwid_per_year".into(),
        value: per_year,
        suppressed: false,
        unit: "per_pwid_year",
        formula: "Needle-syringes distributed at sites with a PWID estimate ÷ the sum of their estimates, scaled to 365 days. Coverage: low under 100, medium 100–200, high over 200 (target 200).",
        coverage: per_year.map(|v| if v < 100.0 { "low" } else if v <= 200.0 { "medium" } else { "high" }),
        breakdowns: vec![],
    });
    b.people(
        "nsp_people",
        total(&people, "nsp_people"),
        "Distinct clients given needle-syringes in the period.",
        vec![],
    );
    b.people(
        "nsp_regular_access",
        total(&people, "nsp_regular_access"),
        "Of the clients given needle-syringes, those with at least one contact in every 30-day part of the period.",
        vec![],
    );
    b.count(
        "condoms_distributed",
        "items",
        sum_items(&Catalogue::is_condom) as f64,
        "Condoms (external and internal) given, reversals subtracted, tallies included.",
        vec![],
    );
    b.count(
        "naloxone_distributed",
        "items",
        sum_items(&|c| cat.is_naloxone(c)) as f64,
        "Naloxone kits given, reversals subtracted, tallies included.",
        vec![],
    );
    let overdoses = dimension(&activity, "overdose");
    let survived = overdoses.iter().filter(|(k, _)| k == "survived").map(|(_, v)| v).sum();
    b.people(
        "overdose_reversals",
        survived,
        "Contacts in the period with an overdose response where the person survived (one per contact, however many tablets reported it).",
        vec![],
    );

    // Tests: "kind|result|linked".
    let tests = dimension(&activity, "test");
    let mut done: BTreeMap<String, i64> = BTreeMap::new();
    let mut reactive: BTreeMap<String, i64> = BTreeMap::new();
    let mut linked = 0;
    for (key, n) in &tests {
        let mut parts = key.split('|');
        let (kind, result, care) =
            (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or("0"));
        *done.entry(kind.to_string()).or_default() += n;
        if result == "reactive" {
            *reactive.entry(kind.to_string()).or_default() += n;
            if care == "1" {
                linked += n;
            }
        }
    }
    b.person_counts("tests_done", "tests", "test", done, "Tests recorded at contacts in the period, by test.");
    b.person_counts("tests_reactive", "tests", "test", reactive, "Tests with a reactive result, by test.");
    b.people("linked_to_care", linked, "Reactive tests where the person was linked to care.", vec![]);

    let referrals = dimension(&activity, "referral");
    let mut issued: BTreeMap<String, i64> = BTreeMap::new();
    let mut completed: BTreeMap<String, i64> = BTreeMap::new();
    for (key, n) in &referrals {
        let (target, status) = key.split_once('|').unwrap_or((key, ""));
        *issued.entry(target.to_string()).or_default() += n;
        if status == "attended" {
            *completed.entry(target.to_string()).or_default() += n;
        }
    }
    let ost = issued.get("ost").copied().unwrap_or(0);
    b.person_counts(
        "referrals_issued",
        "referrals",
        "target",
        issued,
        "Referrals made at contacts in the period, by service.",
    );
    b.person_counts(
        "referrals_completed",
        "referrals",
        "target",
        completed,
        "Referrals made in the period that the client attended, by service.",
    );
    b.person_count(
        "ost_referrals",
        "referrals",
        ost,
        "Referrals to opioid substitution treatment made in the period.",
        vec![],
    );

    Ok(IndicatorReport {
        from: filter.from.clone(),
        to: filter.to.clone(),
        sites: filter.sites.clone(),
        suppression: Suppression { enabled: s, threshold: SMALL_CELL },
        indicators: b.out,
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct MonthRow {
    pub month: String,
    pub people_reached: Option<i64>,
    pub contacts: i64,
    pub needle_syringes: i64,
    pub syringes_returned: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SiteRow {
    pub site_id: String,
    pub site_name: String,
    pub people_reached: Option<i64>,
    pub contacts: i64,
    pub needle_syringes: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Trends {
    pub months: Vec<MonthRow>,
    pub by_site: Vec<SiteRow>,
}

/// Monthly trends and the split by site.
pub async fn trends<S: Storage>(storage: &S, filter: &Filter) -> Result<Trends, DbError> {
    refresh_projection(storage).await?;
    let d = storage.dialect();
    let cat = catalogue(storage).await?;
    let ns: Vec<String> = cat.items.keys().filter(|c| cat.is_needle_syringe(c)).cloned().collect();
    let mut q = Query::new(d);
    let cte = contacts_cte(&mut q, filter);
    let ns_list = q.text_list(&ns);
    let sql = format!(
        "WITH {cte}
         SELECT 'm_people', substr(c.at, 1, 7), COUNT(DISTINCT c.client_id) FROM c GROUP BY 2
         UNION ALL SELECT 'm_contacts', substr(c.at, 1, 7), COUNT(*) FROM c GROUP BY 2
         UNION ALL SELECT 'm_ns', substr(c.at, 1, 7), CAST(SUM(x.quantity) AS BIGINT)
                   FROM c {lines} WHERE x.commodity IN {ns_list} GROUP BY 2
         UNION ALL SELECT 's_ns', c.site_id, CAST(SUM(x.quantity) AS BIGINT)
                   FROM c {lines} WHERE x.commodity IN {ns_list} GROUP BY 2
         UNION ALL SELECT 'm_returned', substr(c.at, 1, 7), CAST(SUM({count}) AS BIGINT) FROM c {returns} GROUP BY 2
         UNION ALL SELECT 's_people', c.site_id, COUNT(DISTINCT c.client_id) FROM c GROUP BY 2
         UNION ALL SELECT 's_contacts', c.site_id, COUNT(*) FROM c GROUP BY 2",
        lines = lines_join(d),
        count = d.field_int("x", "count"),
        returns = children_join(d, "sharps_returns"),
    );
    let mut counts = counts(storage, q.statement(sql)).await?;
    // Needle-syringes given at anonymous tallies count too, as in the indicators.
    let mut q = Query::new(d);
    let scope = q.event_scope("t", "group_tallies", filter);
    let ns_list = q.text_list(&ns);
    let sql = format!(
        "SELECT {site}, substr({at}, 1, 7), CAST(SUM({qty}) AS BIGINT) FROM records t, {items}
         WHERE {scope} AND {code} IN {ns_list} GROUP BY 1, 2",
        site = d.text("t.site_id"),
        at = d.field("t", "occurred_at"),
        qty = d.elem_int("it", "quantity"),
        items = d.each("t", "items", "it"),
        code = d.elem_field("it", "commodity"),
    );
    for row in storage.query(q.statement(sql)).await? {
        let n = int(&row, 2);
        *counts.entry(("s_ns".into(), text(&row, 0))).or_default() += n;
        *counts.entry(("m_ns".into(), text(&row, 1))).or_default() += n;
    }
    let suppress = |v: i64| if filter.suppress && v > 0 && v < SMALL_CELL { None } else { Some(v) };
    let get = |dim: &str, key: &str| counts.get(&(dim.to_string(), key.to_string())).copied().unwrap_or(0);
    let mut months: Vec<String> = counts.keys().filter(|(d, _)| d.starts_with("m_")).map(|(_, k)| k.clone()).collect();
    months.sort();
    months.dedup();
    let months = months
        .into_iter()
        .map(|m| MonthRow {
            people_reached: suppress(get("m_people", &m)),
            contacts: get("m_contacts", &m),
            needle_syringes: get("m_ns", &m),
            syringes_returned: get("m_returned", &m),
            month: m,
        })
        .collect();
    let names = site_estimates(storage).await?;
    let by_site = names
        .into_iter()
        .filter(|(id, _, _)| filter.sites.contains(id))
        .map(|(id, name, _)| SiteRow {
            people_reached: suppress(get("s_people", &id)),
            contacts: get("s_contacts", &id),
            needle_syringes: get("s_ns", &id),
            site_id: id,
            site_name: name,
        })
        .collect();
    Ok(Trends { months, by_site })
}

#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub value: String,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Question {
    pub id: String,
    pub answers: Vec<Answer>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SurveyResults {
    pub responses: i64,
    pub hidden: bool,
    pub threshold: i64,
    pub questions: Vec<Question>,
}

/// Answer counts per question; hidden under [`SMALL_CELL`] responses; free text never sent.
pub async fn surveys<S: Storage>(storage: &S, filter: &Filter) -> Result<SurveyResults, DbError> {
    let d = storage.dialect();
    let mut q = Query::new(d);
    let scope = q.event_scope("r", "survey_responses", filter);
    // Answers are a string or a list of strings (multiple choice); free text is question 8.
    let (value_expr, each_values) = match d {
        Dialect::Sqlite => (
            "CASE WHEN a.type = 'array' THEN v.value ELSE a.value END".to_string(),
            "LEFT JOIN json_each(CASE WHEN a.type = 'array' THEN a.value ELSE '[]' END) AS v ON 1 = 1".to_string(),
        ),
        Dialect::Postgres => (
            "CASE WHEN jsonb_typeof(a.value) = 'array' THEN v.value #>> '{}' ELSE a.value #>> '{}' END".to_string(),
            "LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(a.value) = 'array' THEN a.value ELSE '[]'::jsonb END) AS v(value) ON true"
                .to_string(),
        ),
    };
    let sql = format!(
        "SELECT 'responses', '', COUNT(*) FROM records r WHERE {scope}
         UNION ALL SELECT a.key, {value_expr}, COUNT(*) FROM records r CROSS JOIN {entries} {each_values}
                   WHERE {scope} AND a.key NOT IN ('q8', 'comment', 'other_text') GROUP BY 1, 2",
        entries = d.each_entry("r", "answers", "a"),
    );
    let rows = storage.query(q.statement(sql)).await?;
    let responses = rows.iter().find(|r| text(r, 0) == "responses").map_or(0, |r| int(r, 2));
    let hidden = responses < SMALL_CELL;
    let mut questions: BTreeMap<String, Vec<Answer>> = BTreeMap::new();
    if !hidden {
        for r in rows.iter().filter(|r| text(r, 0) != "responses") {
            let value = text(r, 1);
            // Free text has no place in aggregate results: only short codes are counted.
            if value.is_empty() || value.len() > 40 || value.contains(' ') {
                continue;
            }
            questions.entry(text(r, 0)).or_default().push(Answer { value, count: int(r, 2) });
        }
    }
    Ok(SurveyResults {
        responses,
        hidden,
        threshold: SMALL_CELL,
        questions: questions.into_iter().map(|(id, answers)| Question { id, answers }).collect(),
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct StockLevel {
    pub site_id: String,
    pub site_name: String,
    pub commodity: String,
    pub name: String,
    pub level: i64,
    pub low_threshold: Option<i64>,
    pub low: bool,
    pub used_per_day: f64,
    pub days_left: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Movement {
    pub id: String,
    pub site_id: String,
    pub commodity: String,
    pub quantity: i64,
    pub kind: String,
    pub occurred_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LevelPoint {
    pub date: String,
    pub site_id: String,
    pub commodity: String,
    pub level: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Stock {
    pub levels: Vec<StockLevel>,
    pub movements: Vec<Movement>,
    pub history: Vec<LevelPoint>,
}

/// Stock per site and commodity: movements in, distributions out (as the devices count it).
pub async fn stock<S: Storage>(storage: &S, sites: &[String], today: &str, now_ms: u64) -> Result<Stock, DbError> {
    refresh_projection(storage).await?;
    let d = storage.dialect();
    // Daily net change per site, commodity and day: movements plus, negated, distributions.
    let mut q = Query::new(d);
    let site_list = q.site_list(sites);
    let site_texts = q.text_list(sites);
    let sql = format!(
        "SELECT {site}, {commodity}, substr({at}, 1, 10), 'movement',
                CAST(SUM(CASE WHEN {kind} IN ({outflow}) THEN -{quantity} ELSE {quantity} END) AS BIGINT)
           FROM records m WHERE m.collection = 'stock_movements' AND {live} AND m.site_id IN {site_list} GROUP BY 1, 2, 3
         UNION ALL
         SELECT c.site_id, x.commodity, substr(c.occurred_at, 1, 10), 'used', CAST(SUM(x.quantity) AS BIGINT)
           FROM report_contacts c {lines}
          WHERE {clive} AND c.site_id IN {site_texts} GROUP BY 1, 2, 3",
        site = d.text("m.site_id"),
        commodity = d.field("m", "commodity"),
        at = d.field("m", "occurred_at"),
        quantity = d.field_int("m", "quantity"),
        // As on the tablets: quantities are positive and the kind gives the direction, except
        // a count correction, which carries its own sign.
        kind = d.field("m", "kind"),
        outflow = [StockKind::TransferOut, StockKind::ExpiredDamaged, StockKind::Lost]
            .map(|k| format!("'{}'", k.as_str()))
            .join(", "),
        live = d.live("m"),
        lines = lines_join(d),
        clive = d.live("c"),
    );
    let rows = storage.query(q.statement(sql)).await?;
    let names: BTreeMap<String, String> =
        site_estimates(storage).await?.into_iter().map(|(id, n, _)| (id, n)).collect();
    let cat = catalogue(storage).await?;
    // (site, commodity) → day → net change; and use in the last 30 days.
    let mut daily: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    let mut used_30: BTreeMap<(String, String), i64> = BTreeMap::new();
    let since = crate::time::date_of(now_ms.saturating_sub(30 * 86_400_000));
    let history_since = crate::time::date_of(now_ms.saturating_sub(90 * 86_400_000));
    for r in &rows {
        let key = (text(r, 0), text(r, 1));
        let (day, kind, n) = (text(r, 2), text(r, 3), int(r, 4));
        let delta = if kind == "used" { -n } else { n };
        *daily.entry(key.clone()).or_default().entry(day.clone()).or_default() += delta;
        if kind == "used" && day >= since && day.as_str() <= today {
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
        levels.push(StockLevel {
            site_id: site.clone(),
            site_name: names.get(site).cloned().unwrap_or_default(),
            commodity: code.clone(),
            name,
            level,
            low_threshold: threshold,
            low: threshold.is_some_and(|t| level < t) || level <= 0,
            used_per_day: (used_per_day * 10.0).round() / 10.0,
            days_left: (used_per_day > 0.0).then(|| ((level.max(0) as f64 / used_per_day) * 10.0).round() / 10.0),
        });
    }
    levels.sort_by(|a, b| (&a.site_name, &a.name).cmp(&(&b.site_name, &b.name)));

    let mut q = Query::new(d);
    let site_list = q.site_list(sites);
    let sql = format!(
        "SELECT {id}, {site}, {commodity}, {quantity}, {kind}, {at} FROM records m
         WHERE m.collection = 'stock_movements' AND {live} AND m.site_id IN {site_list}
         ORDER BY {at} DESC LIMIT 200",
        id = d.text("m.id"),
        site = d.text("m.site_id"),
        commodity = d.field("m", "commodity"),
        quantity = d.field_int("m", "quantity"),
        kind = d.field("m", "kind"),
        at = d.field("m", "occurred_at"),
        live = d.live("m"),
    );
    let movements = storage
        .query(q.statement(sql))
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
    Ok(Stock { levels, movements, history })
}

/// The rows of a record export: a header and one row per record, in time order.
pub async fn export_rows<S: Storage>(storage: &S, kind: &str, filter: &Filter) -> Result<Vec<Vec<String>>, DbError> {
    refresh_projection(storage).await?;
    let d = storage.dialect();
    let mut q = Query::new(d);
    let (header, sql): (Vec<&str>, String) = match kind {
        "contacts" => {
            let cte = contacts_cte(&mut q, filter);
            (
                vec!["contact_id", "site", "occurred_at", "setting", "client_code", "services", "collecting_for"],
                format!(
                    "WITH {cte} SELECT c.id, s.name, c.at, c.setting, {uic}, c.services, c.collecting_for
                     FROM c JOIN sites s ON {sid} = c.site_id
                     LEFT JOIN records cl ON cl.collection = 'clients' AND cl.id = {client}
                     ORDER BY c.at, c.id",
                    uic = d.field("cl", "uic"),
                    sid = d.text("s.id"),
                    client = d.as_uuid("c.client_id"),
                ),
            )
        }
        "distributions" | "referrals" | "tests" => {
            let cte = contacts_cte(&mut q, filter);
            let (collection, columns, header) = match kind {
                "distributions" => (
                    "distribution_lines",
                    vec!["commodity", "quantity", "reverses"],
                    vec!["line_id", "contact_id", "site", "occurred_at", "commodity", "quantity", "reverses"],
                ),
                "referrals" => (
                    "referrals",
                    vec!["target", "status", "status_at"],
                    vec!["referral_id", "contact_id", "site", "occurred_at", "target", "status", "status_at"],
                ),
                _ => (
                    "test_results",
                    vec!["test", "result", "linked_to_care"],
                    vec!["test_id", "contact_id", "site", "occurred_at", "test", "result", "linked_to_care"],
                ),
            };
            let cols: Vec<String> = columns.iter().map(|c| d.field("x", c)).collect();
            (
                header,
                format!(
                    "WITH {cte} SELECT {xid}, c.id, s.name, c.at, {cols} FROM c {join} JOIN sites s ON {sid} = c.site_id
                     ORDER BY c.at, 1",
                    xid = d.text("x.id"),
                    cols = cols.join(", "),
                    join = if collection == "distribution_lines" {
                        // Lines by their typed projection, then their stored fields by key.
                        format!(
                            "JOIN report_lines rl ON rl.contact_id = c.id AND {live}
                             JOIN records x ON x.collection = 'distribution_lines' AND x.id = {id}",
                            live = d.live("rl"),
                            id = d.as_uuid("rl.id")
                        )
                    } else {
                        children_join(d, collection)
                    },
                    sid = d.text("s.id"),
                ),
            )
        }
        "stock" | "tallies" | "surveys" => {
            let collection = match kind {
                "stock" => "stock_movements",
                "tallies" => "group_tallies",
                _ => "survey_responses",
            };
            let scope = q.event_scope("r", collection, filter);
            let at = d.field("r", "occurred_at");
            let (header, cols) = match kind {
                "stock" => (
                    vec!["movement_id", "site", "occurred_at", "commodity", "quantity", "kind", "batch", "expiry_date"],
                    ["commodity", "quantity", "kind", "batch", "expiry_date"]
                        .iter()
                        .map(|c| d.field("r", c))
                        .collect::<Vec<_>>(),
                ),
                "tallies" => (
                    vec!["tally_id", "site", "occurred_at", "setting", "event_name", "people", "items"],
                    vec![
                        d.field("r", "setting"),
                        d.field("r", "event_name"),
                        json_field(d, "people"),
                        json_field(d, "items"),
                    ],
                ),
                _ => (
                    vec!["response_id", "site", "occurred_at", "survey_id", "answers"],
                    vec![d.field("r", "survey_id"), json_field(d, "answers")],
                ),
            };
            (
                header,
                format!(
                    "SELECT {rid}, s.name, {at}, {cols} FROM records r JOIN sites s ON s.id = r.site_id
                     WHERE {scope}
                     ORDER BY {at}, 1",
                    rid = d.text("r.id"),
                    cols = cols.join(", "),
                ),
            )
        }
        other => return Err(DbError::NotFound(format!("no export named {other:?}"))),
    };
    let mut out = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for row in storage.query(q.statement(sql)).await? {
        out.push(row.iter().map(SqlValue::to_text).collect());
    }
    Ok(out)
}

fn json_field(d: Dialect, name: &str) -> String {
    match d {
        Dialect::Sqlite => format!("json_extract(r.state, '$.fields.{name}.v')"),
        Dialect::Postgres => format!("(r.state->'fields'->'{name}'->'v')::text"),
    }
}

/// The indicator report as rows (indicator, breakdown, key, value), suppressed cells as `<5`.
pub fn indicator_rows(report: &IndicatorReport) -> Vec<Vec<String>> {
    let show = |value: Option<f64>, suppressed: bool| {
        if suppressed {
            format!("<{SMALL_CELL}")
        } else {
            value.map(|v| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }).unwrap_or_default()
        }
    };
    let mut rows = vec![vec![
        "indicator".to_string(),
        "breakdown".into(),
        "key".into(),
        "value".into(),
        "how it is computed".into(),
    ]];
    for i in &report.indicators {
        rows.push(vec![
            i.key.clone(),
            String::new(),
            String::new(),
            show(i.value, i.suppressed),
            i.formula.to_string(),
        ]);
        for b in &i.breakdowns {
            for c in &b.rows {
                rows.push(vec![
                    i.key.clone(),
                    b.dimension.clone(),
                    c.key.clone(),
                    show(c.value, c.suppressed),
                    String::new(),
                ]);
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_hidden_and_a_lone_one_protected() {
        let b =
            person_breakdown("gender", vec![("man".into(), 20), ("woman".into(), 3), ("non_binary".into(), 6)], true);
        let hidden: Vec<bool> = b.rows.iter().map(|c| c.suppressed).collect();
        assert_eq!(hidden, vec![false, true, true], "the next smallest cell is hidden too");
        let b = person_breakdown("gender", vec![("man".into(), 20), ("woman".into(), 0)], true);
        assert!(b.rows.iter().all(|c| !c.suppressed), "zero is not a small cell");
        let b = person_breakdown("gender", vec![("man".into(), 2), ("woman".into(), 3)], false);
        assert!(b.rows.iter().all(|c| !c.suppressed), "suppression can be switched off");
    }
}
