//! What the screens read: clients by code, a client's history, the day's contacts and stock
//! levels, and the few writes that need a read first (a contact's overdose report). Every query
//! reads the local store only, so the app works with no network at all.
//!
//! Client records a coordinator merged are one person here too (core's rule over the
//! `client_merges` records the tablet pulled, [`DeviceStore::people`]): a record merged into
//! one this tablet holds is not offered by the lookups, its contacts and referrals show the
//! kept record's code, and a person's history is that of all their records.

use crate::error::StoreError;
use crate::store::DeviceStore;
use outpost_core::Collection;
use outpost_core::merge::RecordState;
use outpost_core::people::{MergeRecord, People};
use outpost_core::records::ClientMerge;
use outpost_core::records::stock_sign_sql;
use outpost_core::rules::contact_editable;
use outpost_core::uic::{is_near_match, near_match_keys};
use outpost_core::{RecordId, SiteId};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A client as the lookup list shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientSummary {
    pub id: RecordId,
    pub uic: String,
    pub gender: Option<String>,
    pub birth_year: Option<i64>,
    /// The site that registered the client, when it is not one of this tablet's (a client
    /// found through the organisation's client index).
    pub other_site: Option<String>,
}

/// One past contact with what was given.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContactSummary {
    pub id: RecordId,
    pub occurred_at: String,
    pub setting: Option<String>,
    pub client_id: Option<RecordId>,
    /// The client's code, so lists need not look it up (None for anonymous contacts).
    pub client_uic: Option<String>,
    pub note: Option<String>,
    /// Whether the contact may still be edited (see `CONTACT_EDIT_WINDOW_MS`).
    pub editable: bool,
    /// Commodity code → net quantity (reversals subtracted).
    pub items: BTreeMap<String, i64>,
    /// The overdose the worker responded to in this contact, if one was reported.
    pub overdose: Option<OverdoseSummary>,
}

/// A contact's overdose report, as the history shows and edits it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OverdoseSummary {
    pub id: RecordId,
    pub naloxone_doses: i64,
    pub emergency_called: bool,
    pub stayed_with_person: bool,
    /// `survived`, `died` or `unknown`.
    pub outcome: String,
}

/// One distribution line of a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineInfo {
    pub id: RecordId,
    pub commodity: String,
    pub quantity: u32,
    /// The line this one reverses, for a correction.
    pub reverses: Option<RecordId>,
}

/// Stock of one commodity at one site.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    pub commodity: String,
    pub received: i64,
    pub distributed: i64,
    pub level: i64,
    /// The site's low-stock threshold for it (the site's own, else the commodity's).
    pub threshold: Option<u32>,
    /// What the level means, by core's rule (the dashboard's too).
    pub status: outpost_core::catalogue::LevelStatus,
    /// Batches of it received here that expire soon or expired lately (core's window), soonest
    /// first; only while the level is above zero.
    pub expiring: Vec<ExpiringBatch>,
}

/// A batch received with an expiry date (see [`StockLevel::expiring`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpiringBatch {
    pub batch: Option<String>,
    /// ISO date.
    pub expiry_date: String,
    /// How many came in with it (levels are not kept per batch).
    pub quantity: i64,
}

/// A referral still waiting for its outcome (status `issued`), for the follow-up list.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenReferral {
    pub id: RecordId,
    pub target: String,
    /// When it was issued (RFC 3339): the time of the contact it was given in, so a status set
    /// back to issued keeps its place in the list.
    pub issued_at: String,
    pub client_id: Option<RecordId>,
    pub client_uic: Option<String>,
}

/// A reactive test whose person is not yet linked to care (core's
/// `TestOutcome::awaits_linkage`), for the follow-up list.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenLinkage {
    pub id: RecordId,
    /// The test kind (`hiv_rapid`, `hcv_rapid`...).
    pub test: String,
    /// When it was done (RFC 3339): the time of its contact.
    pub tested_at: String,
    pub client_id: Option<RecordId>,
    pub client_uic: Option<String>,
}

fn parse_id(text: &str) -> Result<RecordId, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("bad record id {text:?}")))
}

fn field<'a>(state: &'a RecordState, name: &str) -> Option<&'a Value> {
    state.fields.get(name).map(|f| &f.value)
}

fn live_site(conn: &rusqlite::Connection, collection: Collection, id: RecordId) -> Result<SiteId, StoreError> {
    let site: Option<Option<String>> = conn
        .prepare_cached("SELECT site_id FROM records WHERE collection = ?1 AND id = ?2 AND deleted = 0")?
        .query_row(params![collection.name(), id.to_string()], |r| r.get(0))
        .optional()?;
    site.flatten()
        .ok_or(StoreError::NotFound { collection, id })?
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("bad site id of {collection} {id}")))
}

/// The live overdose reports of a contact, smallest id (oldest) first.
fn overdose_ids(conn: &rusqlite::Connection, contact: RecordId) -> Result<Vec<RecordId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM records WHERE collection = 'overdose_reports' AND deleted = 0 AND contact_id = ?1 ORDER BY id",
    )?;
    let ids = stmt.query_map([contact.to_string()], |r| r.get::<_, String>(0))?;
    ids.map(|id| parse_id(&id?)).collect()
}

/// The live overdose report of a contact: the one with the smallest id, should two tablets each
/// have added one (see [`DeviceStore::set_overdose`]).
fn overdose_of(conn: &rusqlite::Connection, contact: RecordId) -> Result<Option<OverdoseSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, state FROM records WHERE collection = 'overdose_reports' AND deleted = 0 AND contact_id = ?1
         ORDER BY id LIMIT 1",
    )?;
    let Some((id, state)) =
        stmt.query_row([contact.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).optional()?
    else {
        return Ok(None);
    };
    let state: RecordState = serde_json::from_str(&state)?;
    let flag = |name| field(&state, name).and_then(Value::as_bool).unwrap_or(false);
    Ok(Some(OverdoseSummary {
        id: parse_id(&id)?,
        naloxone_doses: field(&state, "naloxone_doses").and_then(Value::as_i64).unwrap_or(0),
        emergency_called: flag("emergency_called"),
        stayed_with_person: flag("stayed_with_person"),
        outcome: field(&state, "outcome").and_then(Value::as_str).unwrap_or("unknown").to_string(),
    }))
}

fn client_summary(id: &str, state: &str) -> Result<ClientSummary, StoreError> {
    let state: RecordState = serde_json::from_str(state)?;
    Ok(ClientSummary {
        id: parse_id(id)?,
        uic: field(&state, "uic").and_then(Value::as_str).unwrap_or_default().to_string(),
        gender: field(&state, "gender").and_then(Value::as_str).map(str::to_string),
        birth_year: field(&state, "birth_year").and_then(Value::as_i64),
        other_site: None,
    })
}

/// The records of `ids` as a JSON array, for `IN (SELECT value FROM json_each(?))`.
fn id_list(ids: &[RecordId]) -> String {
    serde_json::Value::from(ids.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
}

impl DeviceStore {
    /// Who is who on this tablet: core's rule over the merge records it pulled (kept until the
    /// next pulled page).
    pub fn people(&self) -> Result<std::sync::Arc<People>, StoreError> {
        if let Some(known) = self.people.lock().ok().and_then(|p| p.clone()) {
            return Ok(known);
        }
        let people = std::sync::Arc::new(self.read_people()?);
        if let Ok(mut cache) = self.people.lock() {
            *cache = Some(people.clone());
        }
        Ok(people)
    }

    fn read_people(&self) -> Result<People, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, state FROM records WHERE collection = 'client_merges' AND deleted = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut merges = Vec::new();
        for row in rows {
            let (id, state) = row?;
            let state: RecordState = serde_json::from_str(&state)?;
            let merge: ClientMerge = serde_json::from_value(Value::Object(state.values()))?;
            merges.push(MergeRecord::new(parse_id(&id)?, &merge));
        }
        Ok(People::resolve(&merges))
    }

    /// `client` with the name of the site that registered it, when that is not one of this
    /// tablet's sites.
    fn located(&self, mut client: ClientSummary, site: Option<&str>) -> Result<ClientSummary, StoreError> {
        let Some(site) = site else { return Ok(client) };
        let ours = self.identity().is_some_and(|me| me.sites.iter().any(|s| s.id.to_string() == site));
        if !ours {
            let name: Option<String> = self
                .conn
                .prepare_cached(
                    "SELECT json_extract(state, '$.fields.name.v') FROM records WHERE collection = 'sites' AND id = ?1",
                )?
                .query_row([site], |r| r.get(0))
                .optional()?
                .flatten();
            client.other_site = Some(name.unwrap_or_else(|| site.to_string()));
        }
        Ok(client)
    }

    /// The code of live client record `id`, when this tablet holds it.
    fn live_uic(&self, id: RecordId) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT uic FROM records WHERE collection = 'clients' AND id = ?1 AND deleted = 0")?
            .query_row([id.to_string()], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// The record `client` is shown as, with its code: the record it was merged into, when this
    /// tablet holds that one; else `None` (shown as itself).
    fn shown_as(&self, people: &People, client: RecordId) -> Result<Option<(RecordId, String)>, StoreError> {
        let person = people.person_of(client);
        if person == client {
            return Ok(None);
        }
        Ok(self.live_uic(person)?.map(|uic| (person, uic)))
    }

    /// `clients` without the records shown as another one, at most `limit`.
    fn without_merged(
        &self,
        people: &People,
        clients: Vec<ClientSummary>,
        limit: usize,
    ) -> Result<Vec<ClientSummary>, StoreError> {
        let mut out = Vec::with_capacity(clients.len().min(limit));
        for client in clients {
            if out.len() == limit {
                break;
            }
            if self.shown_as(people, client.id)?.is_none() {
                out.push(client);
            }
        }
        Ok(out)
    }

    /// Live clients whose code starts with `prefix` (case-insensitive: codes are upper case), at
    /// most `limit`. A range over the code index (named: without statistics SQLite would rather
    /// walk every client), so a lookup reads only the codes it returns, however many clients
    /// the tablet holds.
    pub fn find_clients(&self, prefix: &str, limit: usize) -> Result<Vec<ClientSummary>, StoreError> {
        let (from, to) = prefix_range(&prefix.to_uppercase());
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, state, site_id FROM records INDEXED BY records_uic
             WHERE collection = 'clients' AND deleted = 0 AND uic >= ?1 AND uic < ?2 ORDER BY uic LIMIT ?3",
        )?;
        // Records merged into others are left out afterwards: ask for as many more.
        let people = self.people()?;
        let asked = limit.saturating_add(people.active().len());
        let rows = stmt.query_map(params![from, to, asked as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
        })?;
        let found = rows
            .map(|row| {
                let (id, state, site) = row?;
                self.located(client_summary(&id, &state)?, site.as_deref())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.without_merged(&people, found, limit)
    }

    /// Live clients whose code is a likely slip or collision of `uic` (core's
    /// [`is_near_match`]: a letter changed, added, dropped or swapped with the same birth year,
    /// or the year one off or its digits swapped): shown when a new code is created, since codes
    /// collide and get mistyped.
    pub fn near_matches(&self, uic: &str) -> Result<Vec<ClientSummary>, StoreError> {
        // Named indexes: without statistics SQLite would rather walk every client by its primary
        // key (70 ms over 100 000 clients, against well under a millisecond).
        // The candidates' codes first, from the indexes alone (core's keys: the same last two
        // characters, or the same part before the year); then the few near ones in full.
        let keys = near_match_keys(uic);
        let mut codes = std::collections::BTreeSet::new();
        let mut by_end = self.conn.prepare_cached(
            "SELECT uic FROM records INDEXED BY records_uic_end WHERE collection = 'clients' AND substr(uic, -2) = ?1",
        )?;
        for code in by_end.query_map([&keys.last_two], |r| r.get::<_, String>(0))? {
            codes.insert(code?);
        }
        if let Some(head) = &keys.head {
            let (from, to) = prefix_range(head);
            let mut by_head =
                self.conn.prepare_cached(
                "SELECT uic FROM records INDEXED BY records_uic WHERE collection = 'clients' AND uic >= ?1 AND uic < ?2",
            )?;
            for code in by_head.query_map([from, to], |r| r.get::<_, String>(0))? {
                codes.insert(code?);
            }
        }
        let mut full = self.conn.prepare_cached(
            "SELECT id, state, site_id FROM records INDEXED BY records_uic
             WHERE collection = 'clients' AND deleted = 0 AND uic = ?1",
        )?;
        let mut out = Vec::new();
        for code in codes.iter().filter(|code| is_near_match(uic, code)) {
            let rows = full.query_map([code], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
            })?;
            for row in rows {
                let (id, state, site) = row?;
                out.push(self.located(client_summary(&id, &state)?, site.as_deref())?);
            }
        }
        let people = self.people()?;
        self.without_merged(&people, out, usize::MAX)
    }

    /// A client's contacts, newest first, with what was given in each: those of every record
    /// of the person.
    pub fn client_history(&self, client: RecordId, limit: usize) -> Result<Vec<ContactSummary>, StoreError> {
        let records = self.people()?.records_of(client);
        let condition = "client_id IN (SELECT value FROM json_each(?1))";
        self.contacts_where("records_client", condition, params![id_list(&records), limit as i64])
    }

    /// Contacts whose `occurred_at` lies in `[from, to)` (RFC 3339 texts in UTC), newest first.
    pub fn contacts_between(&self, from: &str, to: &str, limit: usize) -> Result<Vec<ContactSummary>, StoreError> {
        self.contacts_where(
            "records_occurred",
            "occurred_at >= ?1 AND occurred_at < ?3",
            params![from, limit as i64, to],
        )
    }

    /// Live contacts matching `condition`, newest first, found through `index`: named, because
    /// SQLite without statistics on the tablet's tables otherwise reads every contact by the
    /// primary key to find one client's few (and with `INDEXED BY` it refuses rather than scans).
    fn contacts_where(
        &self,
        index: &str,
        condition: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ContactSummary>, StoreError> {
        let sql = format!(
            "SELECT id, state FROM records INDEXED BY {index} WHERE collection = 'contacts' AND deleted = 0 AND {condition}
             ORDER BY occurred_at DESC LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut contacts = Vec::new();
        for row in rows {
            let (id, state) = row?;
            let state: RecordState = serde_json::from_str(&state)?;
            contacts.push(ContactSummary {
                id: parse_id(&id)?,
                occurred_at: field(&state, "occurred_at").and_then(Value::as_str).unwrap_or_default().to_string(),
                setting: field(&state, "setting").and_then(Value::as_str).map(str::to_string),
                client_id: field(&state, "client_id").and_then(Value::as_str).and_then(|s| s.parse().ok()),
                client_uic: None,
                note: field(&state, "note").and_then(Value::as_str).map(str::to_string),
                editable: contact_editable(&state, self.now_ms()),
                items: BTreeMap::new(),
                overdose: None,
            });
        }
        let people = self.people()?;
        let mut uic = self.conn.prepare_cached("SELECT uic FROM records WHERE collection = 'clients' AND id = ?1")?;
        for contact in &mut contacts {
            if let Some(client) = contact.client_id {
                if let Some((person, code)) = self.shown_as(&people, client)? {
                    contact.client_id = Some(person);
                    contact.client_uic = Some(code);
                } else {
                    contact.client_uic = uic.query_row([client.to_string()], |r| r.get(0)).optional()?;
                }
            }
        }
        let mut lines = self.conn.prepare_cached(
            "SELECT json_extract(state, '$.fields.commodity.v'), json_extract(state, '$.fields.quantity.v'),
                    json_extract(state, '$.fields.reverses.v') IS NOT NULL
             FROM records WHERE collection = 'distribution_lines' AND contact_id = ?1",
        )?;
        for contact in &mut contacts {
            let rows = lines.query_map([contact.id.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?))
            })?;
            for row in rows {
                let (commodity, quantity, reversal) = row?;
                *contact.items.entry(commodity).or_default() += if reversal { -quantity } else { quantity };
            }
        }
        for contact in &mut contacts {
            contact.overdose = overdose_of(&self.conn, contact.id)?;
        }
        Ok(contacts)
    }

    /// The site a live record belongs to (`NotFound` for an unknown or deleted one): what is
    /// added to a contact later belongs to the contact's site, not the tablet's first.
    pub fn record_site(&self, collection: Collection, id: RecordId) -> Result<SiteId, StoreError> {
        live_site(&self.conn, collection, id)
    }

    /// Sets the overdose report of `contact` in one transaction: creates it at the contact's
    /// site when the contact has none, updates it when it has one, deletes it when `report` is
    /// `None` (recorded by mistake). `report` holds the report's fields without `contact_id`;
    /// they are validated like any write. Should two tablets each have added a report to the
    /// same contact, the one with the smallest id (the oldest, give or take a millisecond; the same
    /// on every tablet) is kept and the others are deleted, so one overdose is one report again. The caller decides whether the contact is still editable.
    pub fn set_overdose(
        &mut self,
        contact: RecordId,
        report: Option<serde_json::Map<String, Value>>,
    ) -> Result<(), StoreError> {
        self.write_batch(|batch| {
            let site = live_site(batch.conn(), Collection::Contacts, contact)?;
            let mut existing = overdose_ids(batch.conn(), contact)?.into_iter();
            let keep = if report.is_some() { existing.next() } else { None };
            for extra in existing {
                batch.delete(Collection::OverdoseReports, extra)?;
            }
            match (keep, report) {
                (Some(current), Some(fields)) => batch.update(Collection::OverdoseReports, current, fields),
                (None, Some(mut fields)) => {
                    fields.insert("contact_id".into(), Value::String(contact.to_string()));
                    batch.create(Collection::OverdoseReports, site, fields).map(|_| ())
                }
                _ => Ok(()),
            }
        })
    }

    /// Referrals of `site` still marked issued, oldest contact first (the longest waiting need the
    /// follow-up most), at most `limit`; `client` narrows them to one client.
    pub fn open_referrals(
        &self,
        site: SiteId,
        client: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<OpenReferral>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.state, r.client_id, c.uic,
                    coalesce(v.occurred_at, json_extract(r.state, '$.fields.status_at.v')) AS issued_at
             FROM records r
             LEFT JOIN records c ON c.collection = 'clients' AND c.id = r.client_id
             LEFT JOIN records v ON v.collection = 'contacts' AND v.id = r.contact_id
             WHERE r.collection = 'referrals' AND r.deleted = 0 AND r.site_id = ?1
               AND json_extract(r.state, '$.fields.status.v') = 'issued'
               AND (?2 IS NULL OR r.client_id IN (SELECT value FROM json_each(?2)))
             ORDER BY issued_at, r.id LIMIT ?3",
        )?;
        let people = self.people()?;
        let records = client.map(|c| id_list(&people.records_of(c)));
        let rows = stmt.query_map(params![site.to_string(), records, limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (id, state, client_id, client_uic, issued_at) = row?;
            let state: RecordState = serde_json::from_str(&state)?;
            let client_id = client_id.map(|c| parse_id(&c)).transpose()?;
            let shown = client_id.map(|c| self.shown_as(&people, c)).transpose()?.flatten();
            let (client_id, client_uic) = match shown {
                Some((person, code)) => (Some(person), Some(code)),
                None => (client_id, client_uic),
            };
            Ok(OpenReferral {
                id: parse_id(&id)?,
                target: field(&state, "target").and_then(Value::as_str).unwrap_or_default().to_string(),
                issued_at: issued_at.unwrap_or_default(),
                client_id,
                client_uic,
            })
        })
        .collect()
    }

    /// Reactive tests done at `site` whose person is not yet linked to care, oldest first, at
    /// most `limit`: what the follow-up list asks about.
    pub fn open_linkages(&self, site: SiteId, limit: usize) -> Result<Vec<OpenLinkage>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.state, r.client_id, v.occurred_at
             FROM records r LEFT JOIN records v ON v.collection = 'contacts' AND v.id = r.contact_id
             WHERE r.collection = 'test_results' AND r.deleted = 0 AND r.site_id = ?1
               AND json_extract(r.state, '$.fields.result.v') = 'reactive'
               AND coalesce(json_extract(r.state, '$.fields.linked_to_care.v'), 0) = 0
             ORDER BY v.occurred_at, r.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![site.to_string(), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let people = self.people()?;
        let mut out = Vec::new();
        for row in rows {
            let (id, state, client_id, tested_at) = row?;
            let state: RecordState = serde_json::from_str(&state)?;
            let client_id = client_id.map(|c| parse_id(&c)).transpose()?;
            let (client_id, client_uic) = match client_id {
                None => (None, None),
                Some(client) => match self.shown_as(&people, client)? {
                    Some((person, code)) => (Some(person), Some(code)),
                    None => (Some(client), self.live_uic(client)?),
                },
            };
            out.push(OpenLinkage {
                id: parse_id(&id)?,
                test: field(&state, "test").and_then(Value::as_str).unwrap_or_default().to_string(),
                tested_at: tested_at.unwrap_or_default(),
                client_id,
                client_uic,
            });
        }
        Ok(out)
    }

    /// The distribution lines of a contact, corrections included, oldest first.
    pub fn contact_lines(&self, contact: RecordId) -> Result<Vec<LineInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, state FROM records WHERE collection = 'distribution_lines' AND contact_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([contact.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (id, state) = row?;
            let state: RecordState = serde_json::from_str(&state)?;
            Ok(LineInfo {
                id: parse_id(&id)?,
                commodity: field(&state, "commodity").and_then(Value::as_str).unwrap_or_default().to_string(),
                quantity: field(&state, "quantity").and_then(Value::as_u64).unwrap_or(0) as u32,
                reverses: field(&state, "reverses").and_then(Value::as_str).and_then(|s| s.parse().ok()),
            })
        })
        .collect()
    }

    /// Stock per commodity at `site`: movements in and out, minus what was distributed (net of
    /// reversals) on contacts that were not deleted, as the dashboard counts it. Computed in SQL
    /// from the append-only records, so it is exact under any sync order. Records the server
    /// erased are tombstones without fields and count for nothing (the erasure's count
    /// correction stands for what they took).
    pub fn stock_levels(&self, site: SiteId) -> Result<Vec<StockLevel>, StoreError> {
        // Signed by core's rule for each kind, as the dashboard's stock is.
        let sign = stock_sign_sql("kind");
        let sql = format!(
            "WITH moves AS (
               SELECT json_extract(state, '$.fields.commodity.v') AS commodity,
                      json_extract(state, '$.fields.kind.v') AS kind,
                      json_extract(state, '$.fields.quantity.v') AS quantity
               FROM records WHERE collection = 'stock_movements' AND site_id = ?1 AND deleted = 0
             ), given AS (
               SELECT json_extract(state, '$.fields.commodity.v') AS commodity,
                      sum(CASE WHEN json_extract(state, '$.fields.reverses.v') IS NULL
                               THEN json_extract(state, '$.fields.quantity.v')
                               ELSE -json_extract(state, '$.fields.quantity.v') END) AS quantity
               FROM records l WHERE collection = 'distribution_lines' AND site_id = ?1 AND deleted = 0
                 AND NOT EXISTS (SELECT 1 FROM records c WHERE c.collection = 'contacts' AND c.id = l.contact_id AND c.deleted = 1)
               GROUP BY 1
             ), net AS (
               SELECT commodity,
                      sum({sign} * quantity) AS moved
               FROM moves GROUP BY commodity
             )
             SELECT commodity, coalesce(moved, 0), coalesce((SELECT quantity FROM given g WHERE g.commodity = n.commodity), 0)
             FROM (SELECT commodity FROM net UNION SELECT commodity FROM given) AS n
             LEFT JOIN net USING (commodity)
             WHERE commodity IS NOT NULL
             ORDER BY commodity"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([site.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?;
        let rows: Vec<(String, i64, i64)> = rows.collect::<Result<_, _>>()?;
        let thresholds: BTreeMap<String, Option<u32>> =
            self.commodities()?.into_iter().map(|c| (c.code.clone(), c.threshold_at(site))).collect();
        let mut expiring = self.expiring_batches(site)?;
        Ok(rows
            .into_iter()
            .map(|(commodity, received, distributed)| {
                let level = received - distributed;
                let threshold = thresholds.get(&commodity).copied().flatten();
                let status = outpost_core::catalogue::LevelStatus::of(level, threshold);
                let expiring = if level > 0 { expiring.remove(&commodity).unwrap_or_default() } else { Vec::new() };
                StockLevel { commodity, received, distributed, level, threshold, status, expiring }
            })
            .collect())
    }

    /// Commodity → batches received at `site` (deliveries, transfers in) whose expiry date lies
    /// in core's window around today (this tablet's clock), soonest first.
    fn expiring_batches(&self, site: SiteId) -> Result<BTreeMap<String, Vec<ExpiringBatch>>, StoreError> {
        use outpost_core::catalogue::{EXPIRED_SHOWN_DAYS, EXPIRING_WITHIN_DAYS};
        let sql = format!(
            "SELECT commodity, batch, expiry, quantity FROM (
               SELECT json_extract(state, '$.fields.commodity.v') AS commodity,
                      json_extract(state, '$.fields.batch.v') AS batch,
                      json_extract(state, '$.fields.expiry_date.v') AS expiry,
                      json_extract(state, '$.fields.quantity.v') AS quantity,
                      json_extract(state, '$.fields.kind.v') AS kind
               FROM records WHERE collection = 'stock_movements' AND site_id = ?1 AND deleted = 0)
             WHERE kind IN ('received', 'transfer_in') AND typeof(expiry) = 'text'
               AND expiry BETWEEN date(?2, 'unixepoch', '-{EXPIRED_SHOWN_DAYS} days')
                              AND date(?2, 'unixepoch', '+{EXPIRING_WITHIN_DAYS} days')
             ORDER BY expiry, commodity"
        );
        let now_s = i64::try_from(self.now_ms() / 1000).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![site.to_string(), now_s], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })?;
        let mut out: BTreeMap<String, Vec<ExpiringBatch>> = BTreeMap::new();
        for row in rows {
            let (commodity, batch, expiry_date, quantity) = row?;
            out.entry(commodity).or_default().push(ExpiringBatch { batch, expiry_date, quantity });
        }
        Ok(out)
    }

    /// Ids and states of every live record of a collection (reference data, tests).
    pub fn list(&self, collection: outpost_core::Collection) -> Result<Vec<(RecordId, RecordState)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, state FROM records WHERE collection = ?1 AND deleted = 0 ORDER BY id")?;
        let rows = stmt.query_map([collection.name()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (id, state) = row?;
            Ok((parse_id(&id)?, serde_json::from_str(&state)?))
        })
        .collect()
    }

    /// Every record with its full state, deleted ones included, keyed by collection and id:
    /// what convergence tests compare between devices and the server.
    pub fn snapshot(&self) -> Result<BTreeMap<(String, RecordId), RecordState>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT collection, id, state FROM records")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        rows.map(|row| {
            let (collection, id, state) = row?;
            Ok(((collection, parse_id(&id)?), serde_json::from_str(&state)?))
        })
        .collect()
    }
}

impl DeviceStore {
    /// The catalogue as this tablet shows it: every commodity (retired ones too, for history;
    /// screens offer only the others for new entries) in display order, each with the low-stock
    /// threshold of this tablet's site. A record that does not read as a commodity is skipped
    /// (a newer server's shape), never an error that empties the list.
    pub fn commodities(&self) -> Result<Vec<outpost_core::records::Commodity>, StoreError> {
        let site = self.home_site().ok();
        let mut items: Vec<outpost_core::records::Commodity> = self
            .list(outpost_core::Collection::Commodities)?
            .into_iter()
            .filter_map(|(_, state)| serde_json::from_value(serde_json::Value::Object(state.values())).ok())
            .collect();
        for item in &mut items {
            item.low_stock_threshold = match site {
                Some(site) => item.threshold_at(site),
                None => item.low_stock_threshold,
            };
            item.site_thresholds.clear();
        }
        outpost_core::catalogue::sort_commodities(&mut items);
        Ok(items)
    }

    /// The kit templates in display order, retired ones included (see [`Self::commodities`]).
    pub fn kit_templates(&self) -> Result<Vec<outpost_core::records::KitTemplate>, StoreError> {
        let mut kits: Vec<outpost_core::records::KitTemplate> = self
            .list(outpost_core::Collection::KitTemplates)?
            .into_iter()
            .filter_map(|(_, state)| serde_json::from_value(serde_json::Value::Object(state.values())).ok())
            .collect();
        outpost_core::catalogue::sort_kits(&mut kits);
        Ok(kits)
    }
}

/// The bounds of the codes that start with `prefix`, for a range over a text index:
/// `prefix <= code < prefix + U+10FFFF` (the highest character, so every longer code sorts
/// before the upper bound).
fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_string(), format!("{prefix}\u{10FFFF}"))
}
