//! The reports' SQL, written once for both backends: counts are computed in the database over
//! the typed projection of contacts and lines and the merged records (with the indexes of
//! migration 3), never by loading every record into memory. Each function returns plain counts;
//! [`super::indicators`] turns them into indicators.

use super::filters::Filter;
use outpost_core::SiteId;
use outpost_core::records::stock_sign_sql;
use outpost_server_store::{DbError, Dialect, Row, RowExt, Sql, Statement, Store};
use std::collections::{BTreeMap, BTreeSet};

/// (dimension, key) → count.
pub type Counts = BTreeMap<(String, String), i64>;

pub fn int(row: &Row, i: usize) -> i64 {
    row.get(i).and_then(|v| v.as_i64()).unwrap_or(0)
}

pub fn text(row: &Row, i: usize) -> String {
    row.get(i).map(|v| v.to_text()).unwrap_or_default()
}

/// `NOT alias.deleted` (0/1 in SQLite, a boolean in PostgreSQL: the same words serve both).
fn live(alias: &str) -> String {
    format!("NOT {alias}.deleted")
}

/// Sites as text, for the projection's text columns.
fn site_texts(q: &mut Sql, sites: &[SiteId]) -> String {
    q.list(sites.iter().map(|s| s.to_string()))
}

/// The contacts of the filter as a CTE named `c` (id, site, client, setting, time,
/// collecting_for, services as JSON), read from the typed projection `report_contacts`. The
/// client is the person: a record merged into another counts as the one kept
/// (`report_people`), so every person count counts one person once.
pub fn contacts_cte(q: &mut Sql, filter: &Filter) -> String {
    let sites = site_texts(q, &filter.sites);
    let from = q.bind(filter.from.as_str());
    let until = q.bind(filter.until.as_str());
    format!(
        "c AS MATERIALIZED (SELECT rc.id AS id, rc.site_id AS site_id, COALESCE(pp.person_id, rc.client_id) AS client_id,
                                   rc.setting AS setting, rc.occurred_at AS at, rc.collecting_for AS collecting_for,
                                   rc.services AS services
               FROM report_contacts rc LEFT JOIN report_people pp ON pp.client_id = rc.client_id
               WHERE {live} AND rc.site_id IN {sites} AND rc.occurred_at >= {from} AND rc.occurred_at < {until})",
        live = live("rc"),
    )
}

/// The distribution lines (alias `x`: commodity, signed quantity) of the contacts `c`, from the
/// projection `report_lines`.
pub fn lines_join() -> String {
    format!("JOIN report_lines x ON x.contact_id = c.id AND {}", live("x"))
}

/// The condition of the partial index `records_by_contact`, repeated word for word in queries so
/// that SQLite sees the index applies.
const CHILDREN: &str = "x.collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports')";

/// The condition of the partial index `records_event_time` for records aliased `alias`.
fn events(alias: &str) -> String {
    format!("{alias}.collection IN ('group_tallies', 'stock_movements', 'survey_responses')")
}

/// Records of `collection` hanging off the contacts `c` (alias `x`). Not for distribution
/// lines: those are read from `report_lines`, see [`lines_join`].
pub fn children_join(d: Dialect, collection: &str) -> String {
    format!(
        "JOIN records x ON x.collection = '{collection}' AND {CHILDREN} AND {contact} = {id} AND {live}",
        contact = d.field("x", "contact_id"),
        id = d.bare("c.id"),
        live = live("x")
    )
}

/// The condition selecting live records of an event-like `collection` (aliased `alias`) at the
/// filter's sites whose `occurred_at` falls in its period.
pub fn event_scope(q: &mut Sql, d: Dialect, alias: &str, collection: &str, filter: &Filter) -> String {
    let sites = q.list(filter.sites.iter().copied());
    let from = q.bind(filter.from.as_str());
    let until = q.bind(filter.until.as_str());
    let at = d.field(alias, "occurred_at");
    format!(
        "{alias}.collection = '{collection}' AND {events} AND {live} AND {alias}.site_id IN {sites}
         AND {at} >= {from} AND {at} < {until}",
        events = events(alias),
        live = live(alias)
    )
}

/// The commodity catalogue, by what each item counts as in the indicators.
#[derive(Default, Debug)]
pub struct Catalogue {
    pub items: BTreeMap<String, CatalogueItem>,
}

#[derive(Debug)]
pub struct CatalogueItem {
    pub name: String,
    pub category: String,
    pub needle_syringe: bool,
    pub low_threshold: Option<i64>,
}

impl Catalogue {
    pub fn is_needle_syringe(&self, code: &str) -> bool {
        self.items.get(code).is_some_and(|i| i.needle_syringe)
    }
    pub fn is_condom(code: &str) -> bool {
        code.starts_with("condom")
    }
    pub fn is_naloxone(&self, code: &str) -> bool {
        self.items.get(code).is_some_and(|i| i.category == "naloxone")
    }
    pub fn needle_syringes(&self) -> Vec<String> {
        self.items.keys().filter(|c| self.is_needle_syringe(c)).cloned().collect()
    }
}

pub async fn catalogue(store: &Store) -> Result<Catalogue, DbError> {
    let d = store.dialect();
    let rows = store
        .query(Statement::query(
            format!(
                "SELECT {}, {}, {}, {}, {} FROM records r WHERE r.collection = 'commodities' AND {}",
                d.field("r", "code"),
                d.field("r", "name"),
                d.field("r", "category"),
                d.field_int("r", "counts_as_needle_syringe"),
                d.field_int("r", "low_stock_threshold"),
                live("r")
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
                needle_syringe: r.col::<Option<i64>>(3).ok().flatten() == Some(1),
                low_threshold: r.col::<Option<i64>>(4).ok().flatten(),
            };
            (text(r, 0), item)
        })
        .collect();
    Ok(Catalogue { items })
}

pub async fn counts(store: &Store, statement: Statement) -> Result<Counts, DbError> {
    let mut out = Counts::new();
    for row in store.query(statement).await? {
        *out.entry((text(&row, 0), text(&row, 1))).or_default() += int(&row, 2);
    }
    Ok(out)
}

/// Who is who: each client record a merge names → (its person, the person's first visit).
pub async fn people_map(store: &Store) -> Result<BTreeMap<String, (String, Option<String>)>, DbError> {
    let rows =
        store.query(Statement::query("SELECT client_id, person_id, first_seen_at FROM report_people", vec![])).await?;
    rows.iter().map(|r| Ok((r.col(0)?, (r.col(1)?, r.col(2)?)))).collect()
}

/// The person a client record counts as.
pub fn person_of<'a>(people: &'a BTreeMap<String, (String, Option<String>)>, client: &'a str) -> &'a str {
    people.get(client).map_or(client, |(person, _)| person.as_str())
}

/// Commodities given, by site and code (reversals subtracted, tallies included).
pub type Items = Vec<(String, String, i64)>;

/// Contacts by setting and site, secondary distribution, tests, referrals, overdoses and
/// anonymous tallies; and commodities by site and code. The counts of contacts and what hangs
/// off them come from the projection's per-site, per-day rollup (exact for any period).
pub async fn activity(store: &Store, filter: &Filter) -> Result<(Counts, Items), DbError> {
    let d = store.dialect();
    let mut activity = Counts::new();
    let mut items: Items = Vec::new();
    for (site, _, kind, key, n) in store.site_day_counts(&filter.sites, &filter.from, &filter.until, false).await? {
        match kind.as_str() {
            "item" => items.push((site, key, n)),
            "setting" => {
                *activity.entry(("setting".into(), key)).or_default() += n;
                *activity.entry(("site".into(), site)).or_default() += n;
            }
            _ => *activity.entry((kind, key)).or_default() += n,
        }
    }
    for kind in ["secondary_distribution", "syringes_returned"] {
        activity.entry((kind.into(), String::new())).or_default();
    }

    // Linkage to care counts when it happened: at the test, or later as a follow-up
    // (`linked_at`), whatever period the test itself was in.
    let mut q = Sql::new();
    let link_sites = site_texts(&mut q, &filter.sites);
    let (link_from, link_until) = (q.bind(filter.from.as_str()), q.bind(filter.until.as_str()));
    let linked_when = format!("COALESCE({}, rc.occurred_at)", d.field("x", "linked_at"));
    let sql = format!(
        "SELECT 'linked', '', COUNT(*) FROM records x
             JOIN report_contacts rc ON rc.id = {test_contact} AND {rc_live}
             WHERE x.collection = 'test_results' AND NOT x.deleted AND {result} = 'reactive' AND {linked} = 1
               AND rc.site_id IN {link_sites} AND {linked_when} >= {link_from} AND {linked_when} < {link_until}",
        test_contact = d.field("x", "contact_id"),
        rc_live = live("rc"),
        result = d.field("x", "result"),
        linked = d.field_int("x", "linked_to_care"),
    );
    for (key, n) in counts(store, q.query(&sql)).await? {
        *activity.entry(key).or_default() += n;
    }

    // Anonymous tallies: people (not distinct) and commodities.
    let mut q = Sql::new();
    let scope = event_scope(&mut q, d, "t", "group_tallies", filter);
    let sql = format!(
        "SELECT 'tally_people', '', CAST(COALESCE(SUM({count}), 0) AS BIGINT) FROM records t, {people} WHERE {scope}
         UNION ALL SELECT 'tally_setting', {setting}, CAST(COALESCE(SUM({count}), 0) AS BIGINT) FROM records t, {people} WHERE {scope} GROUP BY 2
         UNION ALL SELECT 'tally_site', {site}, CAST(COALESCE(SUM({count}), 0) AS BIGINT) FROM records t, {people} WHERE {scope} GROUP BY 2
         UNION ALL SELECT 'tally_item', {site} || '|' || {code}, CAST(SUM({qty}) AS BIGINT) FROM records t, {items} WHERE {scope} GROUP BY 2",
        count = d.elem_int("pe", "count"),
        people = d.each("t", "people", "pe"),
        setting = d.field("t", "setting"),
        site = d.uuid_as_text("t.site_id"),
        code = d.elem_field("it", "commodity"),
        qty = d.elem_int("it", "quantity"),
        items = d.each("t", "items", "it"),
    );
    for row in store.query(q.query(&sql)).await? {
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

/// Monthly (`m_*`, keyed by `YYYY-MM`) and per-site (`s_*`, keyed by site id) counts of people,
/// contacts, needle-syringes and returns: people from the period's visits (each client record
/// counted as its person), the rest from the per-site, per-day rollup.
pub async fn trend_counts(store: &Store, filter: &Filter, cat: &Catalogue) -> Result<Counts, DbError> {
    let d = store.dialect();
    let ns = cat.needle_syringes();
    let mut counts = Counts::new();
    let period = store.period_visits(&filter.sites, &filter.from, &filter.until).await?;
    let merged = people_map(store).await?;
    let mut month_people: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut site_people: BTreeSet<(&str, &str)> = BTreeSet::new();
    for visit in &period.visits {
        let person = person_of(&merged, &visit.client_id);
        month_people.insert((visit.month.as_str(), person));
        site_people.insert((visit.site_id.as_str(), person));
    }
    for (month, _) in month_people {
        *counts.entry(("m_people".into(), month.to_string())).or_default() += 1;
    }
    for (site, _) in site_people {
        *counts.entry(("s_people".into(), site.to_string())).or_default() += 1;
    }
    for (site, month, kind, key, n) in store.site_day_counts(&filter.sites, &filter.from, &filter.until, true).await? {
        let mut add =
            |dimension: &str, at: &str| *counts.entry((dimension.to_string(), at.to_string())).or_default() += n;
        match kind.as_str() {
            "setting" => {
                add("m_contacts", &month);
                add("s_contacts", &site);
            }
            "item" if ns.contains(&key) => {
                add("m_ns", &month);
                add("s_ns", &site);
            }
            "syringes_returned" => add("m_returned", &month),
            _ => {}
        }
    }
    // Needle-syringes given at anonymous tallies count too, as in the indicators.
    let mut q = Sql::new();
    let scope = event_scope(&mut q, d, "t", "group_tallies", filter);
    let ns_list = q.list(ns);
    let sql = format!(
        "SELECT {site}, substr({at}, 1, 7), CAST(SUM({qty}) AS BIGINT) FROM records t, {items}
         WHERE {scope} AND {code} IN {ns_list} GROUP BY 1, 2",
        site = d.uuid_as_text("t.site_id"),
        at = d.field("t", "occurred_at"),
        qty = d.elem_int("it", "quantity"),
        items = d.each("t", "items", "it"),
        code = d.elem_field("it", "commodity"),
    );
    for row in store.query(q.query(&sql)).await? {
        let n = int(&row, 2);
        *counts.entry(("s_ns".into(), text(&row, 0))).or_default() += n;
        *counts.entry(("m_ns".into(), text(&row, 1))).or_default() += n;
    }
    Ok(counts)
}

/// Survey answers per form: (form, '', '', responses) and (form, question, answer, n) rows, an
/// answer being a choice of a list or a number as text. Which of them are reported is decided by
/// the form's definition (`surveys.rs`), never here.
pub async fn survey_answers(store: &Store, filter: &Filter) -> Result<Vec<Row>, DbError> {
    let d = store.dialect();
    let mut q = Sql::new();
    let scope = event_scope(&mut q, d, "r", "survey_responses", filter);
    // Answers are a value or a list of values (multiple choice).
    let (value_expr, each_values) = d.entry_values("a");
    let sql = format!(
        "SELECT {form}, '', '', COUNT(*) FROM records r WHERE {scope} GROUP BY 1
         UNION ALL SELECT {form}, a.key, CAST({value_expr} AS TEXT), COUNT(*) FROM records r CROSS JOIN {entries} {each_values}
                   WHERE {scope} GROUP BY 1, 2, 3",
        form = d.field("r", "survey_id"),
        entries = d.each_entry("r", "answers", "a"),
    );
    store.query(q.query(&sql)).await
}

/// Survey responses in the period: (id, site name, occurred_at, form, version, answers JSON),
/// oldest first, for the export (which keeps only what the form's definition reports).
pub async fn survey_responses(store: &Store, filter: &Filter) -> Result<Vec<Row>, DbError> {
    let d = store.dialect();
    let mut q = Sql::new();
    let scope = event_scope(&mut q, d, "r", "survey_responses", filter);
    let at = d.field("r", "occurred_at");
    let sql = format!(
        "SELECT {id}, s.name, {at}, {form}, {version}, {answers} FROM records r JOIN sites s ON s.id = r.site_id
          WHERE {scope} ORDER BY {at}, 1",
        id = d.uuid_as_text("r.id"),
        form = d.field("r", "survey_id"),
        version = d.field_int("r", "survey_version"),
        answers = json_text(d, "answers"),
    );
    store.query(q.query(&sql)).await
}

/// Daily net stock change per site, commodity and day: (site, commodity, day, `movement` or
/// `used`, quantity). Movements are signed by core's rule for their kind; `used` is what
/// contacts gave (positive).
pub async fn stock_changes(store: &Store, sites: &[SiteId]) -> Result<Vec<Row>, DbError> {
    let d = store.dialect();
    let mut q = Sql::new();
    let site_list = q.list(sites.iter().copied());
    let texts = site_texts(&mut q, sites);
    let sql = format!(
        "SELECT {site}, {commodity}, substr({at}, 1, 10), 'movement', CAST(SUM({sign} * {quantity}) AS BIGINT)
           FROM records m WHERE m.collection = 'stock_movements' AND {live} AND m.site_id IN {site_list} GROUP BY 1, 2, 3
         UNION ALL
         SELECT c.site_id, x.commodity, substr(c.occurred_at, 1, 10), 'used', CAST(SUM(x.quantity) AS BIGINT)
           FROM report_contacts c {lines}
          WHERE {clive} AND c.site_id IN {texts} GROUP BY 1, 2, 3",
        site = d.uuid_as_text("m.site_id"),
        commodity = d.field("m", "commodity"),
        at = d.field("m", "occurred_at"),
        quantity = d.field_int("m", "quantity"),
        sign = stock_sign_sql(&d.field("m", "kind")),
        live = live("m"),
        lines = lines_join(),
        clive = live("c"),
    );
    store.query(q.query(&sql)).await
}

/// The newest 200 stock movements at `sites`: id, site, commodity, quantity, kind, time.
pub async fn stock_movements(store: &Store, sites: &[SiteId]) -> Result<Vec<Row>, DbError> {
    let d = store.dialect();
    let mut q = Sql::new();
    let site_list = q.list(sites.iter().copied());
    let sql = format!(
        "SELECT m.id, m.site_id, {commodity}, {quantity}, {kind}, {at} FROM records m
         WHERE m.collection = 'stock_movements' AND {live} AND m.site_id IN {site_list}
         ORDER BY {at} DESC LIMIT 200",
        commodity = d.field("m", "commodity"),
        quantity = d.field_int("m", "quantity"),
        kind = d.field("m", "kind"),
        at = d.field("m", "occurred_at"),
        live = live("m"),
    );
    store.query(q.query(&sql)).await
}

/// Deliveries and transfers in at `sites` whose batch expires between `from` and `to`
/// (ISO dates, inclusive), soonest first: site, commodity, quantity, batch, expiry date, when
/// received.
pub async fn expiring_batches(store: &Store, sites: &[SiteId], from: &str, to: &str) -> Result<Vec<Row>, DbError> {
    let d = store.dialect();
    let mut q = Sql::new();
    let site_list = q.list(sites.iter().copied());
    let (from, to) = (q.bind(from.to_string()), q.bind(to.to_string()));
    let expiry = d.field("m", "expiry_date");
    let sql = format!(
        "SELECT m.site_id, {commodity}, {quantity}, {batch}, {expiry}, {at} FROM records m
         WHERE m.collection = 'stock_movements' AND {live} AND m.site_id IN {site_list}
           AND {kind} IN ('received', 'transfer_in') AND {expiry} >= {from} AND {expiry} <= {to}
         ORDER BY {expiry}, {at} LIMIT 200",
        commodity = d.field("m", "commodity"),
        quantity = d.field_int("m", "quantity"),
        batch = d.field("m", "batch"),
        kind = d.field("m", "kind"),
        at = d.field("m", "occurred_at"),
        live = live("m"),
    );
    store.query(q.query(&sql)).await
}

/// A JSON field of the record aliased `r`, as JSON text.
fn json_text(d: Dialect, name: &str) -> String {
    d.json_text(&d.field_json("r", name))
}

/// The header and rows of a record export, in time order; `None` for an unknown kind.
pub async fn export_records(
    store: &Store,
    kind: &str,
    filter: &Filter,
) -> Result<Option<(Vec<&'static str>, Vec<Row>)>, DbError> {
    let d = store.dialect();
    let mut q = Sql::new();
    let (header, sql): (Vec<&'static str>, String) = match kind {
        "contacts" => {
            let cte = contacts_cte(&mut q, filter);
            (
                // `form_answers` (JSON) is replaced by one column per contact question (export.rs).
                vec![
                    "contact_id",
                    "site",
                    "occurred_at",
                    "setting",
                    "client_code",
                    "services",
                    "collecting_for",
                    "form_answers",
                ],
                format!(
                    "WITH {cte} SELECT c.id, s.name, c.at, c.setting, {uic}, {services}, c.collecting_for, {answers}
                     FROM c JOIN sites s ON {sid} = c.site_id
                     LEFT JOIN records cl ON cl.collection = 'clients' AND cl.id = {client}
                     LEFT JOIN records r ON r.collection = 'contacts' AND r.id = {contact}
                     ORDER BY c.at, c.id",
                    answers = json_text(d, "form_answers"),
                    contact = d.text_as_uuid("c.id"),
                    uic = d.field("cl", "uic"),
                    services = d.json_text("c.services"),
                    sid = d.uuid_as_text("s.id"),
                    client = d.text_as_uuid("c.client_id"),
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
            let join = if collection == "distribution_lines" {
                // Lines by their typed projection, then their stored fields by key.
                format!(
                    "JOIN report_lines rl ON rl.contact_id = c.id AND {live}
                     JOIN records x ON x.collection = 'distribution_lines' AND x.id = {id}",
                    live = live("rl"),
                    id = d.text_as_uuid("rl.id")
                )
            } else {
                children_join(d, collection)
            };
            (
                header,
                format!(
                    "WITH {cte} SELECT {xid}, c.id, s.name, c.at, {cols} FROM c {join} JOIN sites s ON {sid} = c.site_id
                     ORDER BY c.at, 1",
                    xid = d.uuid_as_text("x.id"),
                    cols = cols.join(", "),
                    sid = d.uuid_as_text("s.id"),
                ),
            )
        }
        "stock" | "tallies" => {
            let collection = if kind == "stock" { "stock_movements" } else { "group_tallies" };
            let scope = event_scope(&mut q, d, "r", collection, filter);
            let at = d.field("r", "occurred_at");
            let (header, cols) = match kind {
                "stock" => (
                    vec!["movement_id", "site", "occurred_at", "commodity", "quantity", "kind", "batch", "expiry_date"],
                    ["commodity", "quantity", "kind", "batch", "expiry_date"]
                        .iter()
                        .map(|c| d.field("r", c))
                        .collect::<Vec<_>>(),
                ),
                _ => (
                    vec!["tally_id", "site", "occurred_at", "setting", "event_name", "people", "items"],
                    vec![
                        d.field("r", "setting"),
                        d.field("r", "event_name"),
                        json_text(d, "people"),
                        json_text(d, "items"),
                    ],
                ),
            };
            (
                header,
                format!(
                    "SELECT r.id, s.name, {at}, {cols} FROM records r JOIN sites s ON s.id = r.site_id
                     WHERE {scope}
                     ORDER BY {at}, 1",
                    cols = cols.join(", "),
                ),
            )
        }
        _ => return Ok(None),
    };
    Ok(Some((header, store.query(q.query(&sql)).await?)))
}
