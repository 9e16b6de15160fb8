//! Per-person facts for the indicator sets: for every person (canonical client: merged records
//! count as the one kept) with a contact in the period at the report's sites, who they are
//! (gender, age at the period's year, key groups, new or returning) and what they received, did
//! and were in the period (sites, months, services, settings, commodities net of reversals, tests,
//! referrals, regular needle-syringe access, a reactive HIV test before the period). Two queries,
//! written once for both backends; the event counts and items of [`super::super::queries`] are
//! read beside them for the indicators that count contacts, items or events.

use super::super::filters::Filter;
use super::super::queries::{self, Catalogue, Counts, Items, contacts_cte, int, lines_join, text};
use outpost_core::records::{
    Gender, KeyGroup, ReferralStatus, ReferralTarget, Service, Setting, TestKind, TestOutcome,
};
use outpost_server_store::records::SiteInfo;
use outpost_server_store::{DbError, RowExt, Sql, Store};
use std::collections::{BTreeMap, BTreeSet};

/// What one person was and did in the period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Person {
    pub gender: Option<Gender>,
    /// Age at the period's year; `None` when no birth year is recorded.
    pub age: Option<i64>,
    pub key_groups: BTreeSet<KeyGroup>,
    pub new_client: bool,
    /// Contacts in this many of the period's whole 30-day parts.
    pub windows: i64,
    pub sites: BTreeSet<String>,
    /// Months (`YYYY-MM`) with a contact.
    pub months: BTreeSet<String>,
    pub services: BTreeSet<Service>,
    pub settings: BTreeSet<Setting>,
    /// Commodity codes given (net of reversals, more than zero).
    pub commodities: BTreeSet<String>,
    pub tests: BTreeSet<(TestKind, TestOutcome)>,
    pub referrals: BTreeSet<(ReferralTarget, ReferralStatus)>,
    /// An HIV rapid test was reactive before the period.
    pub known_positive: bool,
}

/// Everything a set is computed from.
pub struct Facts {
    pub people: Vec<Person>,
    /// Whole 30-day parts of the period (at least one).
    pub windows: i64,
    pub catalogue: Catalogue,
    /// Event counts of the programme's report (contacts, tests, referrals, ...).
    pub activity: Counts,
    pub items: Items,
    /// The report's sites with their estimates.
    pub sites: Vec<SiteInfo>,
    /// The service packages in force (the programme's, and the defaults of the others).
    pub packages: Vec<super::packages::ServicePackage>,
}

/// The programme's packages in force: its own where it wrote them, the shipped ones elsewhere.
pub async fn packages(store: &Store) -> Result<Vec<super::packages::ServicePackage>, DbError> {
    let own: Vec<super::packages::ServicePackage> = match store.service_packages().await? {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    };
    Ok(super::packages::effective(&own))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
}

/// Reads the facts of the filter's period and sites.
pub async fn facts(store: &Store, filter: &Filter) -> Result<Facts, DbError> {
    store.refresh_projection().await?;
    let catalogue = queries::catalogue(store).await?;
    let (activity, items) = queries::activity(store, filter).await?;
    let sites = store.list_sites().await?.into_iter().filter(|s| filter.sites.contains(&s.id)).collect();
    let people = person_facts(store, filter).await?;
    let packages = packages(store).await?;
    Ok(Facts { people, windows: windows(filter), catalogue, activity, items, sites, packages })
}

/// Whole 30-day parts of the filter's period (at least one).
pub fn windows(filter: &Filter) -> i64 {
    (filter.days / 30).max(1)
}

/// What each person reached in the period was and did (the projection must be current).
pub async fn person_facts(store: &Store, filter: &Filter) -> Result<Vec<Person>, DbError> {
    let windows = windows(filter);
    let d = store.dialect();
    // Who each person is, and in how many 30-day parts they came.
    let mut q = Sql::new();
    let cte = contacts_cte(&mut q, filter);
    let from = q.bind(filter.from.as_str());
    let year = q.bind(filter.to.get(0..4).and_then(|y| y.parse::<i64>().ok()).unwrap_or(0));
    let parts = q.bind(windows);
    let window = d.days_from("c.at", &from);
    let sql = format!(
        "WITH {cte},
         pc AS (SELECT c.client_id AS client_id,
                       COUNT(DISTINCT CASE WHEN {window} / 30 < {parts} THEN {window} / 30 END) AS windows
                FROM c WHERE c.client_id IS NOT NULL GROUP BY c.client_id)
         SELECT pc.client_id, {gender}, {year} - {birth}, {groups},
                CASE WHEN COALESCE(pp.first_seen_at, {first_seen}) >= {from} THEN 1 ELSE 0 END, pc.windows
         FROM pc LEFT JOIN records cl ON cl.collection = 'clients' AND cl.id = {client_uuid}
                 LEFT JOIN report_people pp ON pp.client_id = pc.client_id",
        gender = d.field("cl", "gender"),
        birth = d.field_int("cl", "birth_year"),
        groups = d.json_text(&d.field_json("cl", "key_groups")),
        first_seen = d.field("cl", "first_seen_at"),
        client_uuid = d.text_as_uuid("pc.client_id"),
    );
    let mut people: BTreeMap<String, Person> = BTreeMap::new();
    for row in store.query(q.query(&sql)).await? {
        let groups: Vec<String> = serde_json::from_str(&text(&row, 3)).unwrap_or_default();
        let person = Person {
            gender: parse(&text(&row, 1)),
            age: row.col::<Option<i64>>(2).ok().flatten(),
            key_groups: groups.iter().filter_map(|g| parse(g)).collect(),
            new_client: int(&row, 4) == 1,
            windows: int(&row, 5),
            ..Person::default()
        };
        people.insert(text(&row, 0), person);
    }

    // What each did and received: (person, kind, value) rows.
    let mut q = Sql::new();
    let cte = contacts_cte(&mut q, filter);
    let before = q.bind(filter.from.as_str());
    let prior_sites = q.list(filter.sites.iter().map(|s| s.to_string()));
    let sql = format!(
        "WITH {cte},
         net AS (SELECT c.client_id AS client_id, x.commodity AS commodity, SUM(x.quantity) AS n
                 FROM c {lines} WHERE c.client_id IS NOT NULL GROUP BY c.client_id, x.commodity)
         SELECT client_id, 'got', commodity FROM net WHERE n > 0
         UNION ALL SELECT DISTINCT client_id, 'site', site_id FROM c WHERE client_id IS NOT NULL
         UNION ALL SELECT DISTINCT client_id, 'setting', setting FROM c WHERE client_id IS NOT NULL
         UNION ALL SELECT DISTINCT client_id, 'month', substr(at, 1, 7) FROM c WHERE client_id IS NOT NULL
         UNION ALL SELECT DISTINCT s.client_id, 'service', {service}
                   FROM (SELECT DISTINCT client_id, services FROM c WHERE client_id IS NOT NULL) s, {services}
         UNION ALL SELECT DISTINCT c.client_id, 'test', {test} || '|' || {result} FROM c {tests} WHERE c.client_id IS NOT NULL
         UNION ALL SELECT DISTINCT c.client_id, 'referral', {target} || '|' || {status} FROM c {referrals} WHERE c.client_id IS NOT NULL
         UNION ALL SELECT DISTINCT COALESCE(pp.person_id, rc.client_id), 'known_positive', ''
                   FROM records x JOIN report_contacts rc ON rc.id = {test_contact} AND NOT rc.deleted
                   LEFT JOIN report_people pp ON pp.client_id = rc.client_id
                   WHERE x.collection = 'test_results' AND NOT x.deleted AND {test} = 'hiv_rapid' AND {result} = 'reactive'
                     AND rc.site_id IN {prior_sites} AND rc.occurred_at < {before}
                     AND COALESCE(pp.person_id, rc.client_id) IN (SELECT client_id FROM c)",
        lines = lines_join(),
        service = d.elem_text("sv"),
        // Each person's distinct service lists first: people come back for the same services,
        // so the lists are read once each, not once per contact.
        services = d.each_of_column("s.services", "sv"),
        test = d.field("x", "test"),
        result = d.field("x", "result"),
        tests = queries::children_join(d, "test_results"),
        target = d.field("x", "target"),
        status = d.field("x", "status"),
        referrals = queries::children_join(d, "referrals"),
        test_contact = d.field("x", "contact_id"),
    );
    for row in store.query(q.query(&sql)).await? {
        let Some(person) = people.get_mut(&text(&row, 0)) else { continue };
        let value = text(&row, 2);
        match text(&row, 1).as_str() {
            "got" => {
                person.commodities.insert(value);
            }
            "site" => {
                person.sites.insert(value);
            }
            "month" => {
                person.months.insert(value);
            }
            "setting" => person.settings.extend(parse::<Setting>(&value)),
            "service" => person.services.extend(parse::<Service>(&value)),
            "test" => {
                if let Some((kind, result)) = value.split_once('|') {
                    person.tests.extend(parse::<TestKind>(kind).zip(parse::<TestOutcome>(result)));
                }
            }
            "referral" => {
                if let Some((target, status)) = value.split_once('|') {
                    person.referrals.extend(parse::<ReferralTarget>(target).zip(parse::<ReferralStatus>(status)));
                }
            }
            "known_positive" => person.known_positive = true,
            _ => {}
        }
    }
    Ok(people.into_values().collect())
}
