//! The tablet's workflows: what a screen's one action writes, as records of the store, each in
//! one transaction. A contact with its client, lines, returns, referrals, tests and overdose
//! report; corrections within the edit window (a note, the setting, a distribution reversed by a
//! reversal line, the overdose report); referral outcomes; group tallies, surveys and stock
//! movements; and the list of changes the server refused. Every record is validated by the
//! store like any write; the app's commands only parse, call these and answer.

use crate::error::StoreError;
use crate::store::DeviceStore;
use outpost_core::merge::RecordState;
use outpost_core::records::{ReferralStatus, StockKind, TestOutcome};
use outpost_core::rules::contact_editable;
use outpost_core::schema::FieldError;
use outpost_core::wire::OpKind;
use outpost_core::{Collection, RecordId, SiteId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The client of a contact: an existing one, or a new one created with the contact.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum ContactClient {
    Existing { id: String },
    New { new: NewClient },
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
pub struct NewClient {
    pub uic: String,
    pub gender: String,
    pub birth_year: Option<u16>,
    #[serde(default)]
    pub key_groups: Vec<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    pub commodity: String,
    pub quantity: u32,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    pub target: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    pub test: String,
    pub result: String,
    #[serde(default)]
    pub linked_to_care: bool,
}

/// An overdose the worker responded to during the contact.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverdoseInput {
    pub naloxone_doses: u32,
    pub emergency_called: bool,
    pub stayed_with_person: bool,
    /// `survived`, `died` or `unknown`.
    pub outcome: String,
}

/// Everything recorded in one contact, saved in one transaction.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
pub struct ContactInput {
    pub client: Option<ContactClient>,
    pub setting: String,
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub collecting_for: u32,
    pub note: Option<String>,
    #[serde(default)]
    pub items: Vec<Quantity>,
    pub sharps_returned: Option<u32>,
    #[serde(default)]
    pub referrals: Vec<ReferralInput>,
    #[serde(default)]
    pub tests: Vec<TestInput>,
    pub overdose: Option<OverdoseInput>,
    /// Answers to the programme's contact questions, one entry per form.
    pub questions: Option<Vec<FormAnswersInput>>,
}

/// The answers to one version of a programme's form (its contact questions).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormAnswersInput {
    pub form_id: String,
    pub version: u32,
    #[cfg_attr(feature = "ts", ts(type = "Record<string, JsonValue>"))]
    pub answers: Map<String, Value>,
}

/// Most lines of each kind in one contact.
pub const MAX_CONTACT_ITEMS: usize = 64;
pub const MAX_CONTACT_REFERRALS: usize = 20;
pub const MAX_CONTACT_TESTS: usize = 20;

/// A saved contact and its client.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SavedContact {
    pub contact_id: RecordId,
    pub client_id: Option<RecordId>,
}

/// The fields of a contact that may be corrected; everything else is corrected by reversal.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
pub struct ContactEdit {
    pub note: Option<String>,
    pub setting: Option<String>,
}

/// An anonymous group tally (people by gender and age band, commodities given).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
pub struct TallyInput {
    pub setting: String,
    pub event_name: Option<String>,
    pub people: Vec<Value>,
    #[serde(default)]
    pub items: Vec<Value>,
}

/// A stock movement (received, transferred, expired, lost, counted).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
pub struct MovementInput {
    pub commodity: String,
    pub quantity: i64,
    pub kind: String,
    pub batch: Option<String>,
    pub expiry_date: Option<String>,
    pub grant_code: Option<String>,
}

/// One commodity's counted quantity in a stock count.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockCount {
    pub commodity: String,
    pub counted: i64,
}

/// Most commodities one stock count names (a catalogue is a few dozen).
pub const MAX_STOCK_COUNT_LINES: usize = 500;
/// The largest counted quantity (the tablet's largest stock movement).
pub const MAX_COUNTED: i64 = 100_000;

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn invalid(field: &str, code: &'static str, message: &str) -> StoreError {
    StoreError::Invalid(vec![FieldError { field: field.into(), code, message: message.into() }])
}

fn overdose_fields(od: &OverdoseInput) -> Map<String, Value> {
    fields(json!({"naloxone_doses": od.naloxone_doses, "emergency_called": od.emergency_called,
        "stayed_with_person": od.stayed_with_person, "outcome": od.outcome}))
}

impl DeviceStore {
    /// The tablet's own site (the first it is enrolled for).
    pub fn home_site(&self) -> Result<SiteId, StoreError> {
        self.identity().and_then(|i| i.sites.first()).map(|s| s.id).ok_or(StoreError::NotEnrolled)
    }

    /// A live contact that may still be corrected: `NotFound` for an unknown or deleted one,
    /// `Locked` once its edit window has passed (the window counts from when it was recorded).
    pub fn editable_contact(&self, contact: RecordId) -> Result<RecordState, StoreError> {
        let state = self
            .get(Collection::Contacts, contact)?
            .filter(|v| v.deleted.is_none())
            .ok_or(StoreError::NotFound { collection: Collection::Contacts, id: contact })?;
        if !contact_editable(&state, self.now_ms()) {
            return Err(StoreError::Locked);
        }
        Ok(state)
    }

    /// Saves a contact with everything recorded in it, in one transaction, at the tablet's
    /// site: a new client if there is one, the contact (by `worker`, at `at` unless the input
    /// says when), its distribution lines, returned syringes, referrals, tests and overdose
    /// report.
    pub fn save_contact(
        &mut self,
        contact: &ContactInput,
        worker: Option<&str>,
        at: &str,
    ) -> Result<SavedContact, StoreError> {
        if contact.items.len() > MAX_CONTACT_ITEMS
            || contact.referrals.len() > MAX_CONTACT_REFERRALS
            || contact.tests.len() > MAX_CONTACT_TESTS
        {
            return Err(invalid("contact", "too_many", "too many lines in one contact"));
        }
        let at = contact.occurred_at.clone().unwrap_or_else(|| at.to_string());
        let form_answers = self.checked_contact_questions(contact.questions.as_deref().unwrap_or_default(), &at)?;
        let site = self.home_site()?;
        self.write_batch(|b| {
            let client_id = match &contact.client {
                None => None,
                Some(ContactClient::Existing { id }) => {
                    Some(id.parse().map_err(|_| invalid("client", "invalid_uuid", "not a client id"))?)
                }
                Some(ContactClient::New { new }) => Some(b.create(
                    Collection::Clients,
                    site,
                    fields(json!({
                        "uic": new.uic, "gender": new.gender, "birth_year": new.birth_year, "key_groups": new.key_groups,
                        "first_seen_site": site.to_string(), "first_seen_at": at,
                    }))
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .collect(),
                )?),
            };
            let mut record = fields(json!({
                "setting": contact.setting, "occurred_at": at, "services": contact.services,
                "collecting_for": contact.collecting_for,
            }));
            if let Some(client) = client_id {
                record.insert("client_id".into(), json!(client.to_string()));
            }
            if let Some(worker) = worker {
                record.insert("worker_id".into(), json!(worker));
            }
            if let Some(note) = contact.note.as_ref().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                record.insert("note".into(), json!(note));
            }
            if !form_answers.is_empty() {
                record.insert("form_answers".into(), Value::Object(form_answers));
            }
            let contact_id = b.create(Collection::Contacts, site, record)?;
            let cid = contact_id.to_string();
            for item in contact.items.iter().filter(|i| i.quantity > 0) {
                b.create(
                    Collection::DistributionLines,
                    site,
                    fields(json!({"contact_id": cid, "commodity": item.commodity, "quantity": item.quantity})),
                )?;
            }
            if let Some(count) = contact.sharps_returned.filter(|c| *c > 0) {
                b.create(Collection::SharpsReturns, site, fields(json!({"contact_id": cid, "count": count})))?;
            }
            for referral in &contact.referrals {
                let mut r = fields(json!({"contact_id": cid, "target": referral.target,
                    "status": ReferralStatus::Issued.as_str(), "status_at": at}));
                if let Some(client) = client_id {
                    r.insert("client_id".into(), json!(client.to_string()));
                }
                b.create(Collection::Referrals, site, r)?;
            }
            for test in &contact.tests {
                let mut t = fields(json!({"contact_id": cid, "test": test.test, "result": test.result,
                    "linked_to_care": test.linked_to_care}));
                if test.linked_to_care {
                    t.insert("linked_at".into(), json!(at));
                }
                if let Some(client) = client_id {
                    t.insert("client_id".into(), json!(client.to_string()));
                }
                b.create(Collection::TestResults, site, t)?;
            }
            if let Some(od) = &contact.overdose {
                let mut report = overdose_fields(od);
                report.insert("contact_id".into(), json!(cid));
                b.create(Collection::OverdoseReports, site, report)?;
            }
            Ok(SavedContact { contact_id, client_id })
        })
    }

    /// Corrects a contact's note or setting within its edit window (an empty note clears it).
    pub fn update_contact(&mut self, id: RecordId, edit: &ContactEdit) -> Result<(), StoreError> {
        self.editable_contact(id)?;
        let mut change = Map::new();
        if let Some(note) = &edit.note {
            change.insert("note".into(), if note.trim().is_empty() { Value::Null } else { json!(note.trim()) });
        }
        if let Some(setting) = &edit.setting {
            change.insert("setting".into(), json!(setting));
        }
        self.update(Collection::Contacts, id, change)
    }

    /// Takes back `quantity` of `commodity` given in a contact still in its edit window: a
    /// reversal line pointing at the original, at the contact's site. At most the net quantity
    /// given can be reversed.
    pub fn reverse_line(&mut self, contact: RecordId, commodity: &str, quantity: u32) -> Result<(), StoreError> {
        self.editable_contact(contact)?;
        let site = self.record_site(Collection::Contacts, contact)?;
        let given: Vec<_> = self.contact_lines(contact)?.into_iter().filter(|l| l.commodity == commodity).collect();
        let net: i64 = given
            .iter()
            .map(|l| if l.reverses.is_some() { -i64::from(l.quantity) } else { i64::from(l.quantity) })
            .sum();
        let original = given.iter().find(|l| l.reverses.is_none()).map(|l| l.id);
        let Some(original) = original.filter(|_| quantity > 0 && i64::from(quantity) <= net) else {
            return Err(invalid(
                "quantity",
                "out_of_range",
                &format!("at most {net} {commodity} can be reversed in this contact"),
            ));
        };
        self.create(
            Collection::DistributionLines,
            site,
            fields(json!({"contact_id": contact.to_string(), "commodity": commodity, "quantity": quantity,
                "reverses": original.to_string()})),
        )?;
        Ok(())
    }

    /// Sets, changes or (with `None`) removes the overdose report of a contact still in its
    /// edit window.
    pub fn update_overdose(&mut self, contact: RecordId, overdose: Option<&OverdoseInput>) -> Result<(), StoreError> {
        self.editable_contact(contact)?;
        self.set_overdose(contact, overdose.map(overdose_fields))
    }

    /// Records a referral's outcome, dated `at`. Field-level merge keeps the latest outcome if
    /// two tablets follow the same referral up.
    pub fn update_referral(&mut self, id: RecordId, status: ReferralStatus, at: &str) -> Result<(), StoreError> {
        let current = self.get(Collection::Referrals, id)?;
        if current.as_ref().is_none_or(|c| c.deleted.is_some()) {
            return Err(StoreError::NotFound { collection: Collection::Referrals, id });
        }
        self.update(Collection::Referrals, id, fields(json!({"status": status.as_str(), "status_at": at})))
    }

    /// Records that the person of reactive test `id` was linked to care at `at` (a follow-up,
    /// like a referral's outcome: allowed after the contact's edit window). Refused for a test
    /// that is not reactive (core's `TestOutcome::awaits_linkage`) and for one linked already.
    pub fn record_linkage(&mut self, id: RecordId, at: &str) -> Result<(), StoreError> {
        let Some(current) = self.get(Collection::TestResults, id)?.filter(|c| c.deleted.is_none()) else {
            return Err(StoreError::NotFound { collection: Collection::TestResults, id });
        };
        let values = current.values();
        let result: Option<TestOutcome> = values.get("result").cloned().and_then(|v| serde_json::from_value(v).ok());
        if !result.is_some_and(TestOutcome::awaits_linkage) {
            return Err(invalid("test", "not_reactive", "only a reactive test waits for linkage to care"));
        }
        if values.get("linked_to_care").and_then(Value::as_bool) == Some(true) {
            return Err(invalid("test", "already_linked", "this person was linked to care already"));
        }
        self.update(Collection::TestResults, id, fields(json!({"linked_to_care": true, "linked_at": at})))
    }

    /// Saves a group tally at the tablet's site; cells and items counting nothing are left out.
    pub fn save_group_tally(&mut self, tally: &TallyInput, at: &str) -> Result<RecordId, StoreError> {
        let counted = |cells: &[Value], key: &str| -> Vec<Value> {
            cells.iter().filter(|c| c.get(key).and_then(Value::as_u64).unwrap_or(0) > 0).cloned().collect()
        };
        let mut record = fields(json!({"setting": tally.setting, "occurred_at": at,
            "people": counted(&tally.people, "count"), "items": counted(&tally.items, "quantity")}));
        if let Some(name) = tally.event_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            record.insert("event_name".into(), json!(name));
        }
        let site = self.home_site()?;
        self.create(Collection::GroupTallies, site, record)
    }

    /// Records a stock movement at the tablet's site; empty optional texts are left out.
    pub fn record_stock_movement(&mut self, movement: &MovementInput, at: &str) -> Result<RecordId, StoreError> {
        let mut record = fields(json!({"commodity": movement.commodity, "quantity": movement.quantity,
            "kind": movement.kind, "occurred_at": at}));
        for (key, value) in
            [("batch", &movement.batch), ("expiry_date", &movement.expiry_date), ("grant_code", &movement.grant_code)]
        {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                record.insert(key.into(), json!(v));
            }
        }
        let site = self.home_site()?;
        self.create(Collection::StockMovements, site, record)
    }

    /// Records a stock count (the opening balance of a new site or tablet, or a full stocktake):
    /// for each commodity counted, a count correction by the difference between the count and
    /// the level the tablet holds, all in one transaction; a commodity whose count matches needs
    /// none. Returns how many corrections were written. Refused whole, nothing written, when a
    /// count is negative or too large, a commodity is named twice or there are too many.
    pub fn record_stock_count(&mut self, counts: &[StockCount], at: &str) -> Result<usize, StoreError> {
        let mut problems = Vec::new();
        if counts.len() > MAX_STOCK_COUNT_LINES {
            problems.push(FieldError {
                field: "counts".into(),
                code: "too_many",
                message: format!("at most {MAX_STOCK_COUNT_LINES} commodities in one count, got {}", counts.len()),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, count) in counts.iter().enumerate() {
            if !(0..=MAX_COUNTED).contains(&count.counted) {
                problems.push(FieldError {
                    field: format!("counts[{i}].counted"),
                    code: "out_of_range",
                    message: format!("a count is 0 to {MAX_COUNTED}, got {}", count.counted),
                });
            }
            if !seen.insert(count.commodity.as_str()) {
                problems.push(FieldError {
                    field: format!("counts[{i}].commodity"),
                    code: "duplicate",
                    message: format!("{} is counted twice", count.commodity),
                });
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Invalid(problems));
        }
        let site = self.home_site()?;
        let levels: BTreeMap<String, i64> =
            self.stock_levels(site)?.into_iter().map(|l| (l.commodity, l.level)).collect();
        self.write_batch(|b| {
            let mut written = 0;
            for count in counts {
                let change = count.counted - levels.get(&count.commodity).copied().unwrap_or(0);
                if change != 0 {
                    let record = fields(json!({"commodity": count.commodity, "quantity": change,
                        "kind": StockKind::CountCorrection.as_str(), "occurred_at": at}));
                    b.create(Collection::StockMovements, site, record)?;
                    written += 1;
                }
            }
            Ok(written)
        })
    }

    /// Every change the server refused, newest first, summarised for the Sync screen.
    pub fn rejected_changes(&self) -> Result<Vec<RejectedChange>, StoreError> {
        let mut changes: Vec<RejectedChange> = self
            .rejected_ops()?
            .into_iter()
            .map(|r| RejectedChange {
                op_seq: r.op.op_seq,
                summary: change_summary(&r.op.fields),
                collection: r.op.collection,
                record_id: r.op.record_id,
                kind: r.op.kind,
                at_ms: r.op.stamp.wall_ms,
                code: r.code,
                message: shorten(&r.message, MESSAGE_CHARS),
            })
            .collect();
        changes.sort_by_key(|c| std::cmp::Reverse(c.op_seq));
        Ok(changes)
    }
}

/// A change the server refused, as the Sync screen lists it: kept on the tablet for the
/// coordinator, never sent again.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RejectedChange {
    pub op_seq: u64,
    pub collection: String,
    pub record_id: RecordId,
    /// `create`, `update` or `delete`.
    pub kind: OpKind,
    /// When the change was made on the tablet (its stamp's wall clock).
    pub at_ms: u64,
    /// The server's code (`record_purged`, `out_of_range`, `site_mismatch`, ...).
    pub code: String,
    /// The server's sentence, cut to [`MESSAGE_CHARS`].
    pub message: String,
    /// What the change set, in a few words: see [`change_summary`].
    pub summary: String,
}

/// At most this many fields are named in a summary; the rest are counted.
const SUMMARY_FIELDS: usize = 8;
/// Texts (a note, an event name) are cut to this many characters: the summary only reminds.
const SUMMARY_TEXT_CHARS: usize = 24;
/// At most this many values of a list of plain values are shown.
const SUMMARY_LIST_VALUES: usize = 4;
/// The fields named in a summary take at most this many characters.
pub const SUMMARY_CHARS: usize = 240;
/// The server's message is at most this long.
pub const MESSAGE_CHARS: usize = 300;

/// `text` on one line (runs of white space and control characters become one space), cut to
/// `max` characters with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    let line = text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>();
    let line = line.join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// One value of a summary: plain values as they are (texts cut, record ids to their first
/// eight characters), a cleared value as `—`, lists of plain values in brackets, and records
/// within the record (lines of a tally, survey answers) only counted, as `(n)`.
fn summary_value(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() == 36 && s.parse::<RecordId>().is_ok() => {
            format!("{}…", s.chars().take(8).collect::<String>())
        }
        Value::String(s) => shorten(s, SUMMARY_TEXT_CHARS),
        Value::Array(list) if list.iter().all(|v| !v.is_array() && !v.is_object()) => {
            let mut shown: Vec<String> = list.iter().take(SUMMARY_LIST_VALUES).map(summary_value).collect();
            if list.len() > SUMMARY_LIST_VALUES {
                shown.push("…".into());
            }
            format!("[{}]", shown.join(", "))
        }
        Value::Array(list) => format!("({})", list.len()),
        Value::Object(map) => format!("({})", map.len()),
    }
}

/// A short summary of the fields a change set, by field name: `commodity: syringe_1ml,
/// quantity: 10`. Never the whole of a long text; at most [`SUMMARY_FIELDS`] fields in about
/// [`SUMMARY_CHARS`] characters, the others counted (`+3`); empty for a deletion.
pub fn change_summary(fields: &Map<String, Value>) -> String {
    let mut names: Vec<&String> = fields.keys().collect();
    names.sort();
    let mut parts: Vec<String> = Vec::new();
    let mut length = 0;
    for (shown, name) in names.iter().enumerate() {
        let part = format!("{}: {}", shorten(name, SUMMARY_TEXT_CHARS), summary_value(&fields[name.as_str()]));
        length += part.chars().count() + 2;
        if shown == SUMMARY_FIELDS || length > SUMMARY_CHARS {
            parts.push(format!("+{}", names.len() - shown));
            break;
        }
        parts.push(part);
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::enrolled_store;
    use outpost_core::rules::CONTACT_EDIT_WINDOW_MS;

    #[test]
    fn a_summary_names_the_fields_with_their_small_values() {
        let summary = change_summary(&fields(json!({
            "quantity": 10, "commodity": "syringe_1ml", "linked_to_care": false, "birth_year": null,
        })));
        assert_eq!(summary, "birth_year: —, commodity: syringe_1ml, linked_to_care: false, quantity: 10");
        assert_eq!(change_summary(&Map::new()), "", "a deletion sets nothing");
        assert_eq!(change_summary(&fields(json!({"uic": "MAIV287"}))), "uic: MAIV287", "client codes are shown");
    }

    #[test]
    fn a_summary_never_dumps_long_text_or_structures() {
        let note = "Met at the station.\nSaid the new supply is very strong; gave naloxone and explained twice.";
        let summary = change_summary(&fields(json!({
            "note": note,
            "contact_id": "01936a1e-6f0b-7c3a-9d4e-0123456789ab",
            "services": ["kit", "counselling", "information", "testing", "referral"],
            "key_groups": ["sex_work"],
            "items": [{"commodity": "foil", "quantity": 5}, {"commodity": "condom_external", "quantity": 2}],
            "answers": {"q1": "yes", "q2": 3},
        })));
        assert_eq!(
            summary,
            "answers: (2), contact_id: 01936a1e…, items: (2), key_groups: [sex_work], \
             note: Met at the station. Sai…, services: [kit, counselling, information, testing, …]"
        );
        assert!(!summary.contains("naloxone") && !summary.contains('\n'));
    }

    #[test]
    fn a_summary_is_short_however_many_fields_were_set() {
        let many: Map<String, Value> = (0..30).map(|i| (format!("field_{i:02}"), json!("x".repeat(200)))).collect();
        let summary = change_summary(&many);
        assert!(summary.chars().count() <= SUMMARY_CHARS + ", +99".len(), "{summary}");
        assert!(summary.starts_with("field_00: xxxxxxxxxxxxxxxxxxxxxxx…, field_01: "), "{summary}");
        assert!(summary.ends_with("field_05: xxxxxxxxxxxxxxxxxxxxxxx…, +24"), "the rest is counted: {summary}");
        let short: Map<String, Value> = (0..12).map(|i| (format!("f{i:02}"), json!(i))).collect();
        assert_eq!(change_summary(&short), "f00: 0, f01: 1, f02: 2, f03: 3, f04: 4, f05: 5, f06: 6, f07: 7, +4");
        assert_eq!(shorten("  a\tb\u{7}  c ", 10), "a b c");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn corrections_are_allowed_for_72_hours_and_only_on_live_contacts() {
        let (mut store, site) = enrolled_store();
        let contact = store
            .create(
                Collection::Contacts,
                site,
                fields(json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"})),
            )
            .expect("contact");
        assert!(store.editable_contact(contact).is_ok());
        store.set_clock_offset_ms(CONTACT_EDIT_WINDOW_MS as i64 - 60_000);
        assert!(store.editable_contact(contact).is_ok(), "still open a minute before the end");
        store.set_clock_offset_ms(CONTACT_EDIT_WINDOW_MS as i64 + 60_000);
        let locked = store.editable_contact(contact);
        assert!(
            matches!(&locked, Err(e @ StoreError::Locked) if e.to_string() == "this contact is locked: it was recorded more than 72 hours ago"),
            "{locked:?}"
        );
        for refused in [
            store.update_contact(contact, &ContactEdit { note: Some("late".into()), setting: None }),
            store.reverse_line(contact, "syringe_1ml", 1),
            store.update_overdose(contact, None),
        ] {
            assert!(matches!(refused, Err(StoreError::Locked)), "{refused:?}");
        }
        store.set_clock_offset_ms(0);
        store.delete(Collection::Contacts, contact).expect("delete");
        assert!(matches!(store.editable_contact(contact), Err(StoreError::NotFound { .. })));
        let unknown = RecordId::from_parts(1, [7; 10]);
        assert!(matches!(store.editable_contact(unknown), Err(StoreError::NotFound { .. })));
    }

    #[test]
    fn refused_changes_are_listed_newest_first_with_their_reason() {
        let (mut store, site) = enrolled_store();
        let contact = store
            .create(
                Collection::Contacts,
                site,
                fields(json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z", "note": "x".repeat(500)})),
            )
            .expect("contact");
        store
            .create(
                Collection::DistributionLines,
                site,
                fields(json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 10})),
            )
            .expect("line");
        store
            .create(
                Collection::Contacts,
                site,
                fields(json!({"setting": "window", "occurred_at": "2026-11-25T11:00:00Z"})),
            )
            .expect("kept");
        let ops = store.pending_ops(10).expect("outbox");
        assert_eq!(ops.len(), 3);
        store.quarantine(ops[0].op_seq, "record_purged", "the record was deleted and cleaned up").expect("set aside");
        store
            .quarantine(ops[1].op_seq, "out_of_range", &format!("quantity: {}", "too many ".repeat(100)))
            .expect("set aside");

        let changes = store.rejected_changes().expect("list");
        assert_eq!(changes.len(), 2, "only the refused ones");
        assert_eq!(
            changes.iter().map(|c| c.op_seq).collect::<Vec<_>>(),
            [ops[1].op_seq, ops[0].op_seq],
            "newest first"
        );
        let (line, visit) = (&changes[0], &changes[1]);
        assert_eq!(
            (line.collection.as_str(), line.kind, line.code.as_str()),
            ("distribution_lines", OpKind::Create, "out_of_range")
        );
        assert_eq!(line.at_ms, ops[1].stamp.wall_ms);
        assert!(
            line.summary.contains("commodity: syringe_1ml") && line.summary.contains("quantity: 10"),
            "{}",
            line.summary
        );
        assert!(line.message.chars().count() <= MESSAGE_CHARS);
        assert_eq!((visit.record_id, visit.code.as_str()), (contact, "record_purged"));
        assert!(visit.summary.contains("note: xxx") && visit.summary.chars().count() < 120, "{}", visit.summary);

        let json = serde_json::to_value(line).expect("json");
        assert_eq!(json["kind"], "create");
        assert_eq!(json["record_id"], ops[1].record_id.to_string());
        let mut keys = json.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        keys.sort();
        assert_eq!(keys, ["at_ms", "code", "collection", "kind", "message", "op_seq", "record_id", "summary"]);
    }
}
