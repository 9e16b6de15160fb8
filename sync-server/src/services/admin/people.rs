//! One person, counted once: the duplicate review. Pairs of client records that are likely
//! one person (the same code, or codes one slip apart, with a gender and a year of birth that
//! agree), strongest first, with where each was seen; a merge (writing a `client_merges`
//! record, which every tablet pulls and every report follows), its undo, and "two people" for
//! a pair that is not one. Coordinators review and merge records of their own sites, admins
//! every record; each merge, undo and dismissal is audited with record ids, never codes (the
//! log must not keep what an erasure removes).

use super::{Actor, AdminError, Scope, invalid, record};
use crate::time::now_ms;
use outpost_core::uic::is_near_match;
use outpost_core::{RecordId, SiteId};
use outpost_server_store::Store;
use outpost_server_store::people::{ReviewClient, SiteVisits};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most pairs the review shows at once (the strongest); merging or dismissing brings more.
pub const MAX_PAIRS: usize = 100;
/// The most merges listed for undoing (the newest).
pub const MAX_MERGES_LISTED: usize = 50;
/// A code shared by more records than this (typically one of missing answers, such as
/// `XXXX287`) is too common to pair every record with every other: its pairs are skipped.
pub const MAX_BUCKET: usize = 40;

/// Why two records look like one person, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// The same code: the same answers given at two sites, or twice at one.
    SameCode,
    /// Codes one slip apart: a letter changed, added, dropped or two swapped, or the year one
    /// off or its digits swapped (core's near match).
    NearCode,
}

/// A client record as the review shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ReviewRecord {
    pub id: String,
    pub code: String,
    pub gender: Option<String>,
    pub birth_year: Option<i64>,
    /// Where it was registered.
    pub site: Option<String>,
    pub first_seen_at: Option<String>,
    /// Its contacts, and the sites they were at (names, most contacts first).
    pub contacts: i64,
    pub last_seen_at: Option<String>,
    pub seen_at: Vec<String>,
}

/// Two records that are likely one person.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DuplicatePair {
    /// The record suggested to keep (first seen earlier, else more contacts).
    pub keep: ReviewRecord,
    pub merge: ReviewRecord,
    pub reason: DuplicateReason,
    /// Sites where both were seen (names).
    pub shared_sites: Vec<String>,
}

/// A merge in force, for undoing.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct MergeEntry {
    pub id: String,
    pub merged: ReviewRecord,
    pub kept: ReviewRecord,
    pub merged_at_ms: i64,
}

/// The duplicate review page.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DuplicateReview {
    /// The strongest pairs, at most [`MAX_PAIRS`].
    pub pairs: Vec<DuplicatePair>,
    /// All pairs found (more than `pairs` holds when the list was cut).
    pub total_pairs: usize,
    /// The newest merges in force, at most [`MAX_MERGES_LISTED`].
    pub merges: Vec<MergeEntry>,
}

/// Two records to merge: `merge` becomes part of `keep`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub keep: String,
    pub merge: String,
}

/// Two records judged to be two people.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct DismissRequest {
    pub a: String,
    pub b: String,
}

fn parse_record(field: &str, text: &str) -> Result<RecordId, AdminError> {
    text.trim()
        .parse()
        .map_err(|_| AdminError::Invalid(vec![invalid(field, "invalid_id", format!("{text:?} is not a record id"))]))
}

/// Whether a gender and a year of birth may be the same person's: equal where both are known.
fn compatible(a: &ReviewClient, b: &ReviewClient) -> bool {
    let stated = |g: &Option<String>| g.clone().filter(|g| g != "not_stated");
    let genders = match (stated(&a.gender), stated(&b.gender)) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    let years = match (a.birth_year, b.birth_year) {
        (Some(x), Some(y)) => (x - y).abs() <= 1,
        _ => true,
    };
    genders && years
}

/// The keys a code is filed under: itself, and itself with each character left out. Two codes
/// one edit apart (a change, an insertion or deletion, two neighbours swapped) share a key, so
/// the review compares only codes that share one, not every pair.
fn keys(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = vec![code.to_string()];
    for skip in 0..chars.len() {
        out.push(chars.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| *c).collect());
    }
    out.sort();
    out.dedup();
    out
}

/// The pairs of `clients` that are likely one person, by index, with why. `skip` says which
/// pairs not to offer (one person already, judged two people, outside the reviewer's sites).
pub fn likely_pairs(
    clients: &[ReviewClient],
    skip: impl Fn(&ReviewClient, &ReviewClient) -> bool,
) -> Vec<(usize, usize, DuplicateReason)> {
    let mut buckets: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, client) in clients.iter().enumerate() {
        if client.uic.is_empty() {
            continue;
        }
        for key in keys(&client.uic) {
            buckets.entry(key).or_default().push(i);
        }
        // A year one off can change both digits (89, 90): filed by what precedes the year too.
        if let Some(head) = client.uic.len().checked_sub(2).and_then(|n| client.uic.get(..n)) {
            buckets.entry(format!("{head}\u{0}year")).or_default().push(i);
        }
    }
    let mut seen: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut out = Vec::new();
    for members in buckets.values() {
        if members.len() < 2 || members.len() > MAX_BUCKET {
            continue;
        }
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                let (i, j) = if i < j { (i, j) } else { (j, i) };
                if !seen.insert((i, j)) {
                    continue;
                }
                let (a, b) = (&clients[i], &clients[j]);
                let reason = if a.uic == b.uic {
                    DuplicateReason::SameCode
                } else if is_near_match(&a.uic, &b.uic) {
                    DuplicateReason::NearCode
                } else {
                    continue;
                };
                if compatible(a, b) && !skip(a, b) {
                    out.push((i, j, reason));
                }
            }
        }
    }
    out
}

/// What the review knows of each record: its site's name and its visits.
struct Context {
    site_names: HashMap<SiteId, String>,
    visits: HashMap<RecordId, Vec<SiteVisits>>,
}

impl Context {
    fn site_name(&self, site: SiteId) -> String {
        self.site_names.get(&site).cloned().unwrap_or_else(|| site.to_string())
    }

    fn describe(&self, client: &ReviewClient) -> ReviewRecord {
        let mut visits: Vec<&SiteVisits> = self.visits.get(&client.id).map(|v| v.iter().collect()).unwrap_or_default();
        visits.sort_by(|a, b| b.contacts.cmp(&a.contacts).then_with(|| a.site_id.cmp(&b.site_id)));
        ReviewRecord {
            id: client.id.to_string(),
            code: client.uic.clone(),
            gender: client.gender.clone(),
            birth_year: client.birth_year,
            site: client.site_id.map(|s| self.site_name(s)),
            first_seen_at: client.first_seen_at.clone(),
            contacts: visits.iter().map(|v| v.contacts).sum(),
            last_seen_at: visits.iter().filter_map(|v| v.last_at.clone()).max(),
            seen_at: visits.iter().map(|v| self.site_name(v.site_id)).collect(),
        }
    }

    fn sites_of(&self, client: RecordId) -> BTreeSet<SiteId> {
        self.visits.get(&client).map(|v| v.iter().map(|s| s.site_id).collect()).unwrap_or_default()
    }
}

/// Which of two records to keep: the one first seen earlier, else the one with more contacts,
/// else the older id.
fn keep_first(a: &ReviewRecord, b: &ReviewRecord) -> bool {
    match (&a.first_seen_at, &b.first_seen_at) {
        (Some(x), Some(y)) if x != y => return x < y,
        (Some(_), None) => return true,
        (None, Some(_)) => return false,
        _ => {}
    }
    if a.contacts != b.contacts {
        return a.contacts > b.contacts;
    }
    a.id <= b.id
}

/// Whether the actor may merge records registered at `site`.
fn in_scope(actor: &Actor, site: Option<SiteId>) -> bool {
    match (&actor.scope, site) {
        (Scope::Organisation, _) => true,
        (Scope::Sites(_), Some(site)) => actor.manages(site),
        (Scope::Sites(_), None) => false,
    }
}

async fn context(store: &Store, ids: Vec<RecordId>) -> Result<Context, AdminError> {
    let site_names = store.list_sites().await?.into_iter().map(|s| (s.id, s.name)).collect();
    let mut visits: HashMap<RecordId, Vec<SiteVisits>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for v in store.site_visits(chunk).await? {
            visits.entry(v.client_id).or_default().push(v);
        }
    }
    Ok(Context { site_names, visits })
}

/// The duplicate review: likely pairs among the records the actor may merge, strongest first,
/// and the newest merges in force.
pub async fn review(store: &Store, actor: &Actor) -> Result<DuplicateReview, AdminError> {
    let org = store.org_settings().await?.id;
    store.refresh_projection().await?;
    let people = store.people(org).await?;
    let clients: Vec<ReviewClient> =
        store.review_clients(org).await?.into_iter().filter(|c| in_scope(actor, c.site_id)).collect();
    let dismissed: BTreeSet<(RecordId, RecordId)> = store.dismissed_pairs(org).await?.into_iter().collect();
    // Only the records kept are compared: one merged away is its person already.
    let kept: Vec<ReviewClient> = clients.iter().filter(|c| !people.is_merged_away(c.id)).cloned().collect();
    let found = likely_pairs(&kept, |a, b| {
        let pair = if a.id < b.id { (a.id, b.id) } else { (b.id, a.id) };
        dismissed.contains(&pair) || people.person_of(a.id) == people.person_of(b.id)
    });
    let by_id: BTreeMap<RecordId, &ReviewClient> = clients.iter().map(|c| (c.id, c)).collect();
    let merges = store.client_merges(org).await?;
    let active: Vec<_> = merges
        .iter()
        .filter(|m| people.active().iter().any(|a| a.id == m.record.id))
        .filter(|m| by_id.contains_key(&m.record.from_client) && by_id.contains_key(&m.record.into_client))
        .rev()
        .take(MAX_MERGES_LISTED)
        .collect();
    let mut ids: BTreeSet<RecordId> = found.iter().flat_map(|(i, j, _)| [kept[*i].id, kept[*j].id]).collect();
    ids.extend(active.iter().flat_map(|m| [m.record.from_client, m.record.into_client]));
    let ctx = context(store, ids.into_iter().collect()).await?;

    let mut pairs: Vec<(DuplicatePair, usize, Option<String>)> = found
        .iter()
        .map(|(i, j, reason)| {
            let (a, b) = (&kept[*i], &kept[*j]);
            let shared: Vec<String> =
                ctx.sites_of(a.id).intersection(&ctx.sites_of(b.id)).map(|s| ctx.site_name(*s)).collect();
            let (ra, rb) = (ctx.describe(a), ctx.describe(b));
            let (keep, merge) = if keep_first(&ra, &rb) { (ra, rb) } else { (rb, ra) };
            let recent = keep.last_seen_at.clone().max(merge.last_seen_at.clone());
            let strength = shared.len();
            (DuplicatePair { keep, merge, reason: *reason, shared_sites: shared }, strength, recent)
        })
        .collect();
    // Strongest first: the same code, then where both were seen, then the most recent.
    pairs.sort_by(|(a, sa, ra), (b, sb, rb)| {
        a.reason.cmp(&b.reason).then(sb.cmp(sa)).then(rb.cmp(ra)).then(a.keep.id.cmp(&b.keep.id))
    });
    let total_pairs = pairs.len();
    let merges = active
        .iter()
        .filter_map(|m| {
            let (from, into) = (by_id.get(&m.record.from_client)?, by_id.get(&m.record.into_client)?);
            Some(MergeEntry {
                id: m.record.id.to_string(),
                merged: ctx.describe(from),
                kept: ctx.describe(into),
                merged_at_ms: m.created_ms,
            })
        })
        .collect();
    Ok(DuplicateReview { pairs: pairs.into_iter().take(MAX_PAIRS).map(|(p, _, _)| p).collect(), total_pairs, merges })
}

/// The live client record `id` of the organisation, checked against the actor's sites.
async fn client_in_scope(
    store: &Store,
    actor: &Actor,
    org: outpost_core::OrgId,
    id: RecordId,
) -> Result<(), AdminError> {
    let clients = store.review_clients(org).await?;
    let Some(client) = clients.iter().find(|c| c.id == id) else {
        return Err(AdminError::NotFound(format!("no client record {id}")));
    };
    if !in_scope(actor, client.site_id) {
        return Err(AdminError::Forbidden(format!(
            "client record {id} was registered at a site that is not one of yours"
        )));
    }
    Ok(())
}

/// Merges record `merge` into `keep` (both of the actor's sites, or any for admins). Audited
/// before it is written; returns the merge's id.
pub async fn merge(store: &Store, actor: &Actor, request: &MergeRequest) -> Result<String, AdminError> {
    let mut problems = Vec::new();
    let keep = parse_record("keep", &request.keep).map_err(|e| problems.push(e)).ok();
    let merge = parse_record("merge", &request.merge).map_err(|e| problems.push(e)).ok();
    let (Some(keep), Some(merge)) = (keep, merge) else {
        return Err(AdminError::Invalid(
            problems.into_iter().flat_map(|e| if let AdminError::Invalid(p) = e { p } else { vec![] }).collect(),
        ));
    };
    if keep == merge {
        return Err(AdminError::Invalid(vec![invalid(
            "merge",
            "same_record",
            "a record cannot be merged into itself",
        )]));
    }
    let org = store.org_settings().await?.id;
    for id in [keep, merge] {
        client_in_scope(store, actor, org, id).await?;
    }
    let people = store.people(org).await?;
    if people.person_of(keep) == people.person_of(merge) {
        return Err(AdminError::Conflict("these two records are one person already".into()));
    }
    record(
        store,
        actor,
        "client.merge",
        format!("{merge} → {keep}"),
        "merged: the first record's history counts as the second's".into(),
    )
    .await?;
    let id = store.merge_clients(org, merge, keep, now_ms()).await?;
    tracing::info!(merge = %id, "client records merged");
    Ok(id.to_string())
}

/// Takes merge `id` back (the actor must manage both records' sites). Audited.
pub async fn undo(store: &Store, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let id = parse_record("id", id).map_err(|_| AdminError::NotFound(format!("no client merge {id:?}")))?;
    let org = store.org_settings().await?.id;
    let merges = store.client_merges(org).await?;
    let Some(found) = merges.iter().find(|m| m.record.id == id) else {
        return Err(AdminError::NotFound(format!("no client merge {id}")));
    };
    for client in [found.record.from_client, found.record.into_client] {
        client_in_scope(store, actor, org, client).await?;
    }
    record(
        store,
        actor,
        "client.unmerge",
        id.to_string(),
        format!("{} is again apart from {}", found.record.from_client, found.record.into_client),
    )
    .await?;
    store.undo_merge(org, id, now_ms()).await?;
    Ok(())
}

/// Notes that two records are two people, so the review stops offering the pair. Audited.
pub async fn dismiss(store: &Store, actor: &Actor, request: &DismissRequest) -> Result<(), AdminError> {
    let a = parse_record("a", &request.a)?;
    let b = parse_record("b", &request.b)?;
    if a == b {
        return Err(AdminError::Invalid(vec![invalid("b", "same_record", "name two different records")]));
    }
    let org = store.org_settings().await?.id;
    for id in [a, b] {
        client_in_scope(store, actor, org, id).await?;
    }
    record(
        store,
        actor,
        "client.not_duplicate",
        format!("{a}, {b}"),
        "two people: not offered for merging again".into(),
    )
    .await?;
    store.dismiss_pair(org, a, b, &actor.name, now_ms()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(n: u128, uic: &str, gender: &str, year: Option<i64>) -> ReviewClient {
        ReviewClient {
            id: RecordId(uuid::Uuid::from_u128(n)),
            site_id: None,
            uic: uic.into(),
            gender: Some(gender.into()),
            birth_year: year,
            first_seen_at: None,
        }
    }

    fn found(clients: &[ReviewClient]) -> Vec<(u128, u128, DuplicateReason)> {
        let mut out: Vec<_> = likely_pairs(clients, |_, _| false)
            .into_iter()
            .map(|(i, j, r)| (clients[i].id.0.as_u128(), clients[j].id.0.as_u128(), r))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn pairs_are_the_same_code_or_one_slip_apart_with_agreeing_gender_and_year() {
        use DuplicateReason::*;
        let clients = [
            client(1, "MAIV287", "woman", Some(1987)),
            client(2, "MAIV287", "woman", Some(1987)), // the same code at another site
            client(3, "MIAV287", "woman", Some(1987)), // two letters swapped
            client(4, "MAIV288", "woman", None),       // the year one off, no year given
            client(5, "MAIV287", "man", Some(1987)),   // the same code, another gender
            client(6, "OLPE190", "man", Some(1990)),
            client(7, "OLPE189", "man", Some(1989)), // 89 and 90: both digits differ
            client(8, "MAIV287", "woman", Some(1960)), // the same code, years far apart
            client(9, "ZZZZ111", "woman", Some(2011)),
        ];
        assert_eq!(
            found(&clients),
            vec![
                (1, 2, SameCode),
                (1, 3, NearCode),
                (1, 4, NearCode),
                (2, 3, NearCode),
                (2, 4, NearCode),
                (4, 8, NearCode), // 8's year is far from 1's, but 4 gave none
                (6, 7, NearCode),
            ]
        );
        // "not stated" agrees with any gender.
        let clients = [client(1, "MAIV287", "woman", None), client(2, "MAIV287", "not_stated", None)];
        assert_eq!(found(&clients), vec![(1, 2, SameCode)]);
    }

    #[test]
    fn skipped_pairs_and_crowded_codes_are_not_offered() {
        let clients = [client(1, "MAIV287", "woman", None), client(2, "MAIV287", "woman", None)];
        assert!(likely_pairs(&clients, |_, _| true).is_empty());
        let crowd: Vec<ReviewClient> = (0..=MAX_BUCKET as u128).map(|n| client(n, "XXXX287", "woman", None)).collect();
        assert!(found(&crowd).is_empty(), "a code held by more than MAX_BUCKET records pairs nothing");
    }

    #[test]
    fn the_record_first_seen_earlier_is_kept() {
        let record = |id: &str, first: Option<&str>, contacts| ReviewRecord {
            id: id.into(),
            code: "MAIV287".into(),
            gender: None,
            birth_year: None,
            site: None,
            first_seen_at: first.map(str::to_string),
            contacts,
            last_seen_at: None,
            seen_at: vec![],
        };
        assert!(keep_first(&record("b", Some("2026-01-01"), 1), &record("a", Some("2026-02-01"), 9)));
        assert!(!keep_first(&record("a", None, 9), &record("b", Some("2026-02-01"), 1)));
        assert!(keep_first(&record("b", None, 3), &record("a", None, 1)));
        assert!(keep_first(&record("a", None, 1), &record("b", None, 1)));
    }
}
