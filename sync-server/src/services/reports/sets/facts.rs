//! Per-person facts for the indicator sets: for every person (canonical client: merged records
//! count as the one kept) with a contact in the period at the report's sites, who they are
//! (gender, age at the period's year, key groups, new or returning) and what they received, did
//! and were in the period (sites, months, services, settings, commodities net of reversals, tests,
//! referrals, regular needle-syringe access, a reactive HIV test before the period). Read from
//! the projection's rollups (`outpost_server_store::rollup`: a month is one row per client
//! record and site), written once for both backends; the event counts and items of
//! [`super::super::queries`] are read beside them for the indicators that count contacts, items
//! or events.

use super::super::filters::Filter;
use super::super::queries::{self, Catalogue, Counts, Items};
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

/// Client records read per statement.
const CLIENT_CHUNK: usize = 500;

/// Gender, birth year, key groups (JSON) and first visit of a client record.
type ClientFields = (Option<String>, Option<i64>, Option<String>, Option<String>);

/// What each person reached in the period was and did (the projection must be current): the
/// period's visits and commodities from the rollups ([`Store::period_visits`]), each client
/// record counted as its person, with who the person is from their client record.
pub async fn person_facts(store: &Store, filter: &Filter) -> Result<Vec<Person>, DbError> {
    let d = store.dialect();
    let started = std::time::Instant::now();
    let period = store.period_visits(&filter.sites, &filter.from, &filter.until).await?;
    let read_ms = started.elapsed().as_millis() as u64;
    let merged = queries::people_map(store).await?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let from = time::Date::parse(&filter.from, format).ok();
    let parts = windows(filter);
    // People by id; each visit adds to its person (a year is a quarter of a million visits).
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut people: Vec<(&str, Person, BTreeSet<i64>)> = Vec::new();
    for visit in &period.visits {
        let person_id = queries::person_of(&merged, &visit.client_id);
        let at = *index.entry(person_id).or_insert_with(|| {
            people.push((person_id, Person::default(), BTreeSet::new()));
            people.len() - 1
        });
        let (_, person, parts_seen) = &mut people[at];
        if !person.sites.contains(&visit.site_id) {
            person.sites.insert(visit.site_id.clone());
        }
        if !person.months.contains(&visit.month) {
            person.months.insert(visit.month.clone());
        }
        person.settings.extend(visit.settings());
        person.services.extend(visit.services());
        person.tests.extend(visit.tests());
        person.referrals.extend(visit.referrals());
        // The 30-day parts of the period with a contact: days since the period began.
        let month_start =
            visit.month.get(0..4).and_then(|y| y.parse::<i32>().ok()).zip(
                visit.month.get(5..7).and_then(|m| m.parse::<u8>().ok()).and_then(|m| time::Month::try_from(m).ok()),
            );
        let first = month_start.and_then(|(y, m)| time::Date::from_calendar_date(y, m, 1).ok());
        if let (Some(from), Some(first)) = (from, first) {
            let base = (first - from).whole_days();
            for day in visit.days() {
                let offset = base + i64::from(day) - 1;
                if offset >= 0 && offset / 30 < parts {
                    parts_seen.insert(offset / 30);
                }
            }
        }
    }
    let mut people: BTreeMap<String, Person> = people
        .into_iter()
        .map(|(id, mut person, parts_seen)| {
            person.windows = parts_seen.len() as i64;
            (id.to_string(), person)
        })
        .collect();
    let mut net: BTreeMap<(String, String), i64> = BTreeMap::new();
    for ((client, commodity), n) in &period.items {
        *net.entry((queries::person_of(&merged, client).to_string(), commodity.clone())).or_default() += n;
    }
    for ((person, commodity), n) in net {
        if let (true, Some(p)) = (n > 0, people.get_mut(&person)) {
            p.commodities.insert(commodity);
        }
    }

    let folded_ms = started.elapsed().as_millis() as u64;
    // Who each person is: their (kept) client record.
    let year = filter.to.get(0..4).and_then(|y| y.parse::<i64>().ok()).unwrap_or(0);
    // Bound as ids, so the primary key serves the lookup on both backends.
    let ids: Vec<outpost_core::RecordId> = people.keys().filter_map(|id| id.parse().ok()).collect();
    let statements = ids
        .chunks(CLIENT_CHUNK)
        .map(|chunk| {
            let mut q = Sql::new();
            let list = q.list(chunk.iter().copied());
            q.query(&format!(
                "SELECT {id}, {gender}, {birth}, {groups}, {first_seen} FROM records cl
                 WHERE cl.collection = 'clients' AND cl.id IN {list}",
                id = d.uuid_as_text("cl.id"),
                gender = d.field("cl", "gender"),
                birth = d.field_int("cl", "birth_year"),
                groups = d.json_text(&d.field_json("cl", "key_groups")),
                first_seen = d.field("cl", "first_seen_at"),
            ))
        })
        .collect();
    let mut known: BTreeMap<String, ClientFields> = BTreeMap::new();
    for rows in store.query_all(statements).await? {
        for row in rows {
            known.insert(row.col(0)?, (row.col(1)?, row.col(2)?, row.col(3)?, row.col(4)?));
        }
    }
    for (id, person) in people.iter_mut() {
        let (gender, birth, groups, own_first) = known.remove(id).unwrap_or_default();
        let groups: Vec<String> = groups.and_then(|g| serde_json::from_str(&g).ok()).unwrap_or_default();
        person.gender = gender.as_deref().and_then(parse);
        person.age = birth.map(|b| year - b);
        person.key_groups = groups.iter().filter_map(|g| parse(g)).collect();
        let first_seen = merged.get(id.as_str()).and_then(|(_, first)| first.clone()).or(own_first);
        person.new_client = first_seen.is_some_and(|f| f.as_str() >= filter.from.as_str());
    }

    let clients_ms = started.elapsed().as_millis() as u64;
    // A reactive HIV test before the period, at the report's sites.
    let mut q = Sql::new();
    let before = q.bind(filter.from.as_str());
    let prior_sites = q.list(filter.sites.iter().map(|s| s.to_string()));
    let sql = format!(
        "SELECT DISTINCT rc.client_id FROM records x JOIN report_contacts rc ON rc.id = {test_contact} AND NOT rc.deleted
         WHERE x.collection = 'test_results' AND NOT x.deleted AND {test} = 'hiv_rapid' AND {result} = 'reactive'
           AND rc.site_id IN {prior_sites} AND rc.occurred_at < {before} AND rc.client_id IS NOT NULL",
        test = d.field("x", "test"),
        result = d.field("x", "result"),
        test_contact = d.field("x", "contact_id"),
    );
    for row in store.query(q.query(&sql)).await? {
        let client: String = row.col(0)?;
        if let Some(person) = people.get_mut(queries::person_of(&merged, &client)) {
            person.known_positive = true;
        }
    }
    tracing::debug!(
        visits = period.visits.len(),
        people = people.len(),
        read_ms,
        folded_ms,
        clients_ms,
        total_ms = started.elapsed().as_millis() as u64,
        "person facts"
    );
    Ok(people.into_values().collect())
}
