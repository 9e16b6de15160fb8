//! Unit tests of the device store: the outbox, batches, refused changes, scope checks and
//! overdose reports.

use super::*;
use serde_json::json;

#[test]
fn migrations_are_valid() {
    assert!(migrations().validate().is_ok());
}

fn enrolled() -> (DeviceStore, SiteId) {
    crate::testing::enrolled_store()
}

fn fields(v: serde_json::Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The fields of a contact in `setting` at `at`.
fn contact(setting: &str, at: &str) -> Map<String, Value> {
    fields(json!({"setting": setting, "occurred_at": at}))
}

/// Creates a contact in `setting` at `at` at the tablet's site.
fn add_contact(store: &mut DeviceStore, site: SiteId, setting: &str, at: &str) -> RecordId {
    store.create(Collection::Contacts, site, contact(setting, at)).expect("create")
}

#[test]
fn a_pending_batch_is_the_stored_wire_form_after_a_mark() {
    let (mut store, site) = enrolled();
    for minute in 0..5 {
        add_contact(&mut store, site, "window", &format!("2026-11-25T10:0{minute}:00Z"));
    }
    let first = store.pending_batch(0, 3).expect("batch");
    assert_eq!(first.op_seqs, [1, 2, 3]);
    let request: outpost_core::wire::PushRequest =
        serde_json::from_str(&first.request_body()).expect("the body is a push request");
    assert_eq!(request.ops, store.pending_ops(3).expect("outbox"), "the same operations as decoded ones");
    let rest = store.pending_batch(first.last_op_seq(), 3).expect("batch");
    assert_eq!(rest.op_seqs, [4, 5], "the next batch starts after the mark, in order");
    assert!(store.pending_batch(5, 3).expect("batch").is_empty());
    assert_eq!(OutboxBatch::default().request_body(), r#"{"ops":[]}"#);
}

#[test]
fn open_referrals_are_the_issued_ones_of_the_site_oldest_first() {
    let (mut store, site) = enrolled();
    let client =
        store.create(Collection::Clients, site, fields(json!({"uic": "MAIV287", "gender": "man"}))).expect("client");
    let referral = |store: &mut DeviceStore, target: &str, at: &str, client: Option<RecordId>| {
        let visit = store
            .create(Collection::Contacts, site, fields(json!({"setting": "window", "occurred_at": at})))
            .expect("contact");
        let mut f =
            fields(json!({"contact_id": visit.to_string(), "target": target, "status": "issued", "status_at": at}));
        if let Some(c) = client {
            f.insert("client_id".into(), json!(c.to_string()));
        }
        store.create(Collection::Referrals, site, f).expect("referral")
    };
    let newer = referral(&mut store, "hcv_treatment", "2026-11-22T09:00:00Z", Some(client));
    let older = referral(&mut store, "ost", "2026-11-01T09:00:00Z", Some(client));
    let anonymous = referral(&mut store, "legal_aid", "2026-11-10T09:00:00Z", None);
    let done = referral(&mut store, "shelter", "2026-10-01T09:00:00Z", Some(client));
    store
        .update(Collection::Referrals, done, fields(json!({"status": "attended", "status_at": "2026-11-02T09:00:00Z"})))
        .expect("outcome");
    let removed = referral(&mut store, "tb", "2026-10-02T09:00:00Z", Some(client));
    store.delete(Collection::Referrals, removed).expect("delete");

    let open = store.open_referrals(site, None, 10).expect("open");
    assert_eq!(open.iter().map(|r| r.id).collect::<Vec<_>>(), [older, anonymous, newer], "oldest first");
    assert_eq!(open[0].target, "ost");
    assert_eq!(open[0].issued_at, "2026-11-01T09:00:00Z");
    assert_eq!((open[0].client_id, open[0].client_uic.as_deref()), (Some(client), Some("MAIV287")));
    assert_eq!((open[1].client_id, open[1].client_uic.as_deref()), (None, None));
    let theirs = store.open_referrals(site, Some(client), 10).expect("open");
    assert_eq!(theirs.iter().map(|r| r.id).collect::<Vec<_>>(), [older, newer]);
    // An outcome undone (set back to issued, dated now) keeps its place: the date shown is
    // the contact's, not the last status change.
    store
        .update(
            Collection::Referrals,
            older,
            fields(json!({"status": "attended", "status_at": "2026-11-23T09:00:00Z"})),
        )
        .expect("outcome");
    store
        .update(Collection::Referrals, older, fields(json!({"status": "issued", "status_at": "2026-11-23T09:01:00Z"})))
        .expect("undo");
    let open = store.open_referrals(site, None, 10).expect("open");
    assert_eq!(open.iter().map(|r| r.id).collect::<Vec<_>>(), [older, anonymous, newer]);
    assert_eq!(open[0].issued_at, "2026-11-01T09:00:00Z");
    assert_eq!(store.open_referrals(site, None, 1).expect("open").len(), 1, "limited");
    let elsewhere = SiteId(uuid::Uuid::from_bytes([9; 16]));
    assert!(store.open_referrals(elsewhere, None, 10).expect("open").is_empty(), "only the site's");
}

#[test]
fn a_batch_is_saved_whole_or_not_at_all() {
    let (mut store, site) = enrolled();
    let result = store.write_batch(|b| {
        let visit = b.create(Collection::Contacts, site, contact("window", "2026-11-25T10:00:00Z"))?;
        b.create(
            Collection::DistributionLines,
            site,
            fields(json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10})),
        )?;
        // Invalid: the whole batch must roll back.
        b.create(
            Collection::DistributionLines,
            site,
            fields(json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": -1})),
        )
    });
    assert!(matches!(result, Err(StoreError::Invalid(_))));
    assert_eq!(store.pending_count().ok(), Some(0));
    assert!(store.snapshot().map(|s| s.is_empty()).unwrap_or(false));

    let ids = store
        .write_batch(|b| {
            let visit = b.create(Collection::Contacts, site, contact("window", "2026-11-25T10:00:00Z"))?;
            let line = b.create(
                Collection::DistributionLines,
                site,
                fields(json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10})),
            )?;
            Ok((visit, line))
        })
        .expect("valid batch");
    let ops = store.pending_ops(10).expect("outbox");
    assert_eq!(ops.iter().map(|o| o.op_seq).collect::<Vec<_>>(), vec![1, 2], "op_seq continues without gaps");
    assert_eq!((ops[0].record_id, ops[1].record_id), ids);
    assert!(ops[0].stamp < ops[1].stamp);
    let later = add_contact(&mut store, site, "street_outreach", "2026-11-25T11:00:00Z");
    assert_eq!(store.pending_ops(10).expect("outbox").last().map(|o| (o.op_seq, o.record_id)), Some((3, later)));
}

#[test]
fn a_refused_change_is_taken_back_out_of_the_local_data() {
    let (mut store, site) = enrolled();
    // A contact created here and refused: it disappears locally, the refusal is kept.
    let visit = add_contact(&mut store, site, "window", "2026-11-25T10:00:00Z");
    store.quarantine(1, "site_not_enrolled", "refused").expect("quarantine");
    assert!(store.get(Collection::Contacts, visit).expect("get").is_none());
    assert_eq!(store.rejected_ops().expect("rejected").len(), 1);

    // A record the server sent, edited here, the edit refused: back to the server's state.
    let client = RecordId(uuid::Uuid::from_bytes([7; 16]));
    let server_stamp = Hlc::new(1_000, 0, DeviceId(uuid::Uuid::from_bytes([3; 16])));
    let mut state = RecordState::default();
    state.fields.insert("uic".into(), merge::FieldState { value: json!("MAIV287"), stamp: server_stamp });
    state.fields.insert("gender".into(), merge::FieldState { value: json!("woman"), stamp: server_stamp });
    let page = PullResponse {
        records: vec![outpost_core::wire::PulledRecord::new(1, "clients", client, Some(site), state.clone())],
        next_cursor: 1,
        has_more: false,
        remaining: 0,
        server_time_ms: 1_000,
        org: None,
        applied_through: None,
    };
    store.apply_pull(&page).expect("pull");
    store.update(Collection::Clients, client, fields(json!({"gender": "man"}))).expect("edit");
    store.update(Collection::Clients, client, fields(json!({"birth_year": 1987}))).expect("edit");
    let refused = store.pending_ops(10).expect("outbox")[0].op_seq;
    store.quarantine(refused, "invalid", "refused").expect("quarantine");
    let now = store.get(Collection::Clients, client).expect("get").expect("still there");
    assert_eq!(now.fields["gender"].value, json!("woman"), "the refused edit is gone");
    assert_eq!(now.fields["birth_year"].value, json!(1987), "the other pending edit stays");
}

#[test]
fn a_pulled_state_is_stored_as_sent_unless_a_local_change_goes_on_top() {
    let (mut store, site) = enrolled();
    let (client, other) = (RecordId(uuid::Uuid::from_bytes([8; 16])), RecordId(uuid::Uuid::from_bytes([9; 16])));
    let stamp = "000000000001000-00000-03030303-0303-0303-0303-030303030303";
    // Keys out of order, spaces and an escaped letter: text a server could send, not the
    // device's own way of writing a state.
    let record = |seq: u64, id: RecordId, uic: &str| {
        format!(
            r#"{{"state": {{ "fields": {{"uic": {{"v": "{uic}", "t": "{stamp}"}}, "gender": {{"t": "{stamp}", "v": "wom\u0061n"}}}} }},
               "seq": {seq}, "collection": "clients", "record_id": "{id}", "site_id": "{site}"}}"#
        )
    };
    // The other client is edited here before the page comes.
    let page_text = |records: String| {
        format!(
            r#"{{"records": [{records}], "next_cursor": 2, "has_more": false, "remaining": 0, "server_time_ms": 1000}}"#
        )
    };
    let first: PullResponse = serde_json::from_str(&page_text(record(1, other, "KOLA190"))).expect("decodes");
    store.apply_pull(&first).expect("pull");
    store.update(Collection::Clients, other, fields(json!({"gender": "man"}))).expect("edit");

    let text = page_text(format!("{},{}", record(2, client, "MAIV287"), record(3, other, "KOLA190")));
    let page: PullResponse = serde_json::from_str(&text).expect("decodes");
    assert!(page.records.iter().all(|r| r.state_json().is_some()), "the texts are kept");
    store.apply_pull(&page).expect("pull");

    let stored = |id: RecordId| -> String {
        store
            .conn
            .query_row("SELECT state FROM records WHERE collection = 'clients' AND id = ?1", [id.to_string()], |r| {
                r.get(0)
            })
            .expect("stored")
    };
    assert_eq!(Some(stored(client).as_str()), page.records[0].state_json(), "stored as sent");
    let read = store.get(Collection::Clients, client).expect("get").expect("there");
    assert_eq!(read, page.records[0].state, "and it reads as the state it is");
    assert_eq!(read.fields["gender"].value, json!("woman"));
    let found: Vec<RecordId> = store.find_clients("MAIV287", 5).expect("lookup").iter().map(|c| c.id).collect();
    assert_eq!(found, [client], "found by its code");

    let edited = store.get(Collection::Clients, other).expect("get").expect("there");
    assert_eq!(edited.fields["gender"].value, json!("man"), "the pending edit stays on top");
    assert_ne!(Some(stored(other).as_str()), page.records[1].state_json());
}

#[test]
fn writes_need_an_enrolment_and_a_site_of_the_device() {
    let mut blank = DeviceStore::open_in_memory().expect("store");
    let site = SiteId(uuid::Uuid::from_bytes([1; 16]));
    assert!(matches!(blank.create(Collection::Contacts, site, Map::new()), Err(StoreError::NotEnrolled)));
    let (mut store, _) = enrolled();
    let other = SiteId(uuid::Uuid::from_bytes([9; 16]));
    let result = store.create(Collection::Contacts, other, contact("window", "2026-11-25T10:00:00Z"));
    assert!(matches!(result, Err(StoreError::SiteNotEnrolled(s)) if s == other));
    assert!(matches!(store.create(Collection::Commodities, site, Map::new()), Err(StoreError::Merge(_))));
    let merge = serde_json::json!({"from_client": uuid::Uuid::from_bytes([2; 16]), "into_client": uuid::Uuid::from_bytes([3; 16])});
    let Value::Object(merge) = merge else { unreachable!() };
    let refused = store.create(Collection::ClientMerges, site, merge);
    assert!(matches!(refused, Err(StoreError::ServerOnly(Collection::ClientMerges))), "{refused:?}");
}

#[test]
fn a_contacts_overdose_report_is_shown_and_can_be_added_changed_and_removed() {
    let (mut store, site) = enrolled();
    let visit = add_contact(&mut store, site, "street_outreach", "2026-11-25T21:00:00Z");
    let shown = |store: &DeviceStore| {
        let day = store.contacts_between("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", 10).expect("contacts");
        assert_eq!(day.len(), 1);
        day[0].overdose.clone()
    };
    assert_eq!(shown(&store), None);
    store.set_overdose(visit, None).expect("removing nothing is nothing");
    assert_eq!(store.pending_count().expect("outbox"), 1, "no change recorded");

    let report = |doses: u32, outcome: &str| {
        Some(fields(json!({"naloxone_doses": doses, "emergency_called": true,
            "stayed_with_person": false, "outcome": outcome})))
    };
    store.set_overdose(visit, report(2, "unknown")).expect("added");
    let added = shown(&store).expect("the report is shown");
    assert_eq!((added.naloxone_doses, added.emergency_called, added.outcome.as_str()), (2, true, "unknown"));
    store.set_overdose(visit, report(3, "survived")).expect("changed");
    let changed = shown(&store).expect("still shown");
    assert_eq!(changed.id, added.id, "the same report is changed, not a second one added");
    assert_eq!((changed.naloxone_doses, changed.outcome.as_str()), (3, "survived"));
    let refused = store.set_overdose(visit, report(51, "survived"));
    assert!(matches!(refused, Err(StoreError::Invalid(ref e)) if e[0].field == "naloxone_doses"), "{refused:?}");
    let refused = store.set_overdose(visit, report(1, "asleep"));
    assert!(matches!(refused, Err(StoreError::Invalid(ref e)) if e[0].field == "outcome"), "{refused:?}");
    assert_eq!(shown(&store).map(|o| o.naloxone_doses), Some(3), "a refused change leaves the report as it was");

    store.set_overdose(visit, None).expect("removed");
    assert_eq!(shown(&store), None);
    let history = store.get(Collection::OverdoseReports, added.id).expect("read").expect("tombstone kept");
    assert!(history.deleted.is_some(), "removal is a tombstone that syncs");
    assert_eq!(store.pending_count().expect("outbox"), 4, "contact, add, change, delete");

    let unknown = RecordId(uuid::Uuid::from_bytes([9; 16]));
    assert!(matches!(store.set_overdose(unknown, report(1, "survived")), Err(StoreError::NotFound { .. })));

    // Two tablets each added a report to the same contact: a change keeps the oldest and
    // deletes the other, so one overdose is one report again; a removal removes both.
    let twice = |store: &mut DeviceStore, doses: u32| {
        let mut f = report(doses, "unknown").unwrap_or_default();
        f.insert("contact_id".into(), json!(visit.to_string()));
        store.create(Collection::OverdoseReports, site, f).expect("report")
    };
    let one = twice(&mut store, 1);
    let other = twice(&mut store, 2);
    // Every tablet keeps the same one: the smallest id (the oldest, give or take a millisecond).
    let by_id = |a: RecordId, b: RecordId| if a.to_string() < b.to_string() { (a, b) } else { (b, a) };
    let (keeper, extra) = by_id(one, other);
    assert_eq!(shown(&store).map(|o| o.id), Some(keeper), "the one kept is the one shown");
    store.set_overdose(visit, report(4, "survived")).expect("changed");
    assert_eq!(shown(&store).map(|o| (o.id, o.naloxone_doses)), Some((keeper, 4)));
    let gone = store.get(Collection::OverdoseReports, extra).expect("read").expect("tombstone");
    assert!(gone.deleted.is_some(), "the other report is deleted");
    let third = twice(&mut store, 3);
    store.set_overdose(visit, None).expect("removed");
    assert_eq!(shown(&store), None, "no report is left to appear after the removal");
    for id in [keeper, third] {
        assert!(store.get(Collection::OverdoseReports, id).expect("read").is_some_and(|r| r.deleted.is_some()));
    }
}

#[test]
fn near_matches_catch_swapped_letters_and_a_year_off_by_one() {
    let (mut store, site) = enrolled();
    for code in ["MIAV287", "MAIV288", "MAIV278", "MAIV287", "MAIV285", "OLPE287", "MAIW288"] {
        store.create(Collection::Clients, site, fields(json!({"uic": code, "gender": "woman"}))).expect("create");
    }
    let mut found: Vec<String> = store.near_matches("MAIV287").expect("near").into_iter().map(|c| c.uic).collect();
    found.sort();
    assert_eq!(found, ["MAIV278", "MAIV288", "MIAV287"], "the same code, two years off and two slips are not near");
}
