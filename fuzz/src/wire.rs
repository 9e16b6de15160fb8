//! The oracles of the wire decoders: enrolment, push, pull, errors and health.

use crate::codes::scheme_checks;
use crate::oracle::*;
use outpost_core::Hlc;
use outpost_core::merge::{self, Change, ChangeKind, FieldState, FieldWrite, MergeError, RecordState};
use outpost_core::schema::{Collection, Mutability};
use outpost_core::uic::UicScheme;
use outpost_core::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, Health, MAX_PUSH_OPS, MIN_PROTOCOL_VERSION, Op, OpKind, PROTOCOL_VERSION,
    PullResponse, PushRequest, PushResponse,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The `enroll_request` target's oracle (see the crate documentation).
pub fn enroll_request(input: &[u8]) -> Result<Outcome, String> {
    let (request, value) = match wire::<EnrollRequest>(input, UnknownKeys::Refused)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    only_keys(&value, &["code", "device_name", "app_version", "protocol"], "EnrollRequest")?;
    // The server's checks after decoding (`api::enroll`): protocol, then each text field.
    fn text_ok(text: &str, max: usize) -> bool {
        !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
    }
    let supported = (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&request.protocol);
    let texts = [
        ("code", request.code.as_str(), 64),
        ("device_name", request.device_name.as_str(), 100),
        ("app_version", request.app_version.as_str(), 50),
    ];
    let refused: Vec<&str> =
        texts.iter().filter(|(_, text, max)| !text_ok(text, *max)).map(|(name, ..)| *name).collect();
    Ok(Outcome::Accepted(format!("protocol supported {supported}, refused fields {refused:?}")))
}

/// The `enroll_response` target's oracle (see the crate documentation).
pub fn enroll_response(input: &[u8]) -> Result<Outcome, String> {
    let (response, _) = match wire::<EnrollResponse>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let shape = scheme_checks(&response.uic_scheme)?;
    Ok(Outcome::Accepted(format!("{} site(s); {shape}", response.sites.len().min(2))))
}

pub(crate) const OP_KEYS: &[&str] =
    &["op_seq", "collection", "record_id", "site_id", "kind", "stamp", "fields", "bases"];

/// The `push_request` target's oracle (see the crate documentation).
pub fn push_request(input: &[u8]) -> Result<Outcome, String> {
    let (request, value) = match wire::<PushRequest>(input, UnknownKeys::Refused)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    only_keys(&value, &["ops"], "PushRequest")?;
    let raw_ops = value.get("ops").and_then(Value::as_array).cloned().unwrap_or_default();
    for (op, raw) in request.ops.iter().zip(&raw_ops) {
        only_keys(raw, OP_KEYS, "Op")?;
        canonical_stamp(&op.stamp, raw.get("stamp"))?;
        for (field, stamp) in &op.bases {
            canonical_stamp(stamp, raw.get("bases").and_then(|b| b.get(field)))?;
        }
    }
    if request.ops.len() > MAX_PUSH_OPS {
        return Ok(Outcome::Accepted("too_many_ops".into()));
    }
    let scheme = UicScheme::central_asia();
    let mut shape: BTreeSet<String> = BTreeSet::new();
    let mut previous = 0;
    // The server's batch validation (`api::validate_batch`) with the fixtures' device and site.
    for op in &request.ops {
        let refusal = if op.op_seq == 0 {
            Some("invalid_op_seq")
        } else if op.op_seq <= previous {
            Some("op_seq_order")
        } else {
            previous = op.op_seq;
            None
        };
        if let Some(code) = refusal {
            shape.insert(code.into());
            continue;
        }
        let Some(collection) = Collection::from_name(&op.collection) else {
            shape.insert("unknown_collection".into());
            continue;
        };
        let code = if collection.mutability() == Mutability::Reference {
            Some("read_only_collection")
        } else if op.site_id != fixture_site() {
            Some("site_not_enrolled")
        } else if op.stamp.device != fixture_device() {
            Some("stamp_device_mismatch")
        } else if op.kind == OpKind::Delete && !op.fields.is_empty() {
            Some("fields_on_delete")
        } else {
            None
        };
        if let Some(code) = code {
            shape.insert(code.into());
            continue;
        }
        if op.kind != OpKind::Delete {
            let result = checked_validation(collection, &op.fields, op.kind == OpKind::Create, &scheme)?;
            if result.is_err() {
                shape.extend(codes(&result).into_iter().map(String::from));
                continue;
            }
        }
        shape.insert(merge_checks(op, collection)?.into());
    }
    for code in &shape {
        if !code.contains(' ') && !documented(code) {
            return Err(format!("the batch validation uses an undocumented code: {code:?}"));
        }
    }
    Ok(Outcome::Accepted(shape.into_iter().collect::<Vec<_>>().join(",")))
}

/// Stamps decode only from their canonical text, so that text order stays stamp order.
pub(crate) fn canonical_stamp(stamp: &Hlc, raw: Option<&Value>) -> Result<(), String> {
    match raw.and_then(Value::as_str) {
        Some(text) if text == stamp.to_string() => Ok(()),
        other => Err(format!("a stamp decoded from a non-canonical text: {other:?} became {stamp}")),
    }
}

/// What the merge promises for an operation that passed validation: a create stores exactly its
/// fields, survives the storage round trip and replays as a no-op; an update of a missing record
/// is refused, of a present one stored and replayed as a no-op; a delete sets the tombstone; the
/// append-only rules hold.
pub(crate) fn merge_checks(op: &Op, collection: Collection) -> Result<&'static str, String> {
    let mutability = collection.mutability();
    let change = Change { stamp: op.stamp, kind: op.change_kind() };
    let expected: BTreeMap<String, FieldState> =
        op.fields.iter().map(|(k, v)| (k.clone(), FieldState { value: v.clone(), stamp: op.stamp })).collect();
    let context = || format!("{} {:?} op_seq {}", op.collection, op.kind, op.op_seq);
    let empty = RecordState::default();
    match (op.kind, mutability) {
        (OpKind::Create, _) => {
            let first = merge::apply(None, &change, mutability)
                .map_err(|e| format!("the merge refused a create that passed validation: {e} ({})", context()))?;
            if !first.changed
                || !first.conflicts.is_empty()
                || first.state.fields != expected
                || first.state.deleted.is_some()
            {
                return Err(format!(
                    "a create did not store exactly its fields: {} ({})",
                    show_debug(&first),
                    context()
                ));
            }
            replay(&first.state, &change, mutability, &context)?;
            if merge::join(&first.state, &first.state) != first.state {
                return Err(format!("join is not idempotent on {}", show_debug(&first.state)));
            }
            Ok("create merged and replayed")
        }
        (OpKind::Update, Mutability::Mutable) => {
            if merge::apply(None, &change, mutability).err() != Some(MergeError::UnknownRecord) {
                return Err(format!("an update of a missing record was not refused as unknown ({})", context()));
            }
            let first = merge::apply(Some(&empty), &change, mutability)
                .map_err(|e| format!("the merge refused a valid update: {e} ({})", context()))?;
            if first.state.fields != expected {
                return Err(format!(
                    "an update did not store exactly its fields: {} ({})",
                    show_debug(&first),
                    context()
                ));
            }
            replay(&first.state, &change, mutability, &context)?;
            Ok("update merged and replayed")
        }
        (OpKind::Delete, Mutability::Mutable) => {
            let first = merge::apply(Some(&empty), &change, mutability)
                .map_err(|e| format!("the merge refused a valid delete: {e} ({})", context()))?;
            if first.state.deleted != Some(op.stamp) || !first.changed {
                return Err(format!("a delete did not set its tombstone: {} ({})", show_debug(&first), context()));
            }
            replay(&first.state, &change, mutability, &context)?;
            Ok("delete merged and replayed")
        }
        (OpKind::Update, _) => match merge::apply(Some(&empty), &change, mutability) {
            Err(MergeError::Immutable) => Ok("append-only update refused"),
            other => Err(format!("an append-only record accepted an update: {} ({})", show_debug(&other), context())),
        },
        (OpKind::Delete, _) => match merge::apply(Some(&empty), &change, mutability) {
            Err(MergeError::AppendOnlyDelete) => Ok("append-only delete refused"),
            other => Err(format!("an append-only record accepted a delete: {} ({})", show_debug(&other), context())),
        },
    }
}

/// The same change applied again to the stored result changes nothing and logs no conflict.
pub(crate) fn replay(
    state: &RecordState,
    change: &Change,
    mutability: Mutability,
    context: &dyn Fn() -> String,
) -> Result<(), String> {
    let stored = stored(state)?;
    let again = merge::apply(Some(&stored), change, mutability)
        .map_err(|e| format!("replaying a change onto its stored result is refused: {e} ({})", context()))?;
    if again.changed || !again.conflicts.is_empty() || again.state != stored {
        return Err(format!(
            "replaying a change onto its stored result changed it: {} ({})",
            show_debug(&again),
            context()
        ));
    }
    Ok(())
}

/// The `push_response` target's oracle (see the crate documentation).
pub fn push_response(input: &[u8]) -> Result<Outcome, String> {
    let (response, _) = match wire::<PushResponse>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let encoded = serde_json::to_value(&response).map_err(|e| e.to_string())?;
    if encoded.get("clamped").is_some() == response.clamped.is_empty() {
        return Err(format!("`clamped` is written when empty or left out when not: {encoded}"));
    }
    Ok(Outcome::Accepted(format!("acked {}, clamped {}", response.acked.len().min(2), response.clamped.len().min(2))))
}

/// The `pull_response` target's oracle (see the crate documentation).
pub fn pull_response(input: &[u8]) -> Result<Outcome, String> {
    let (page, _) = match wire::<PullResponse>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let spliced = spliced_page(&page)?;
    let decoded: PullResponse = serde_json::from_str(&spliced)
        .map_err(|e| format!("the server's spliced page does not decode: {e}; {}", show(spliced.as_bytes())))?;
    if decoded != page {
        return Err(format!("the server's spliced page decodes differently: at {}", difference(&page, &decoded)));
    }
    let scheme = UicScheme::central_asia();
    let mut shape: BTreeSet<String> = BTreeSet::new();
    for record in &page.records {
        let state = &record.state;
        // A device stores the text a state was read from: it must read back as that state.
        if let Some(text) = record.state_json() {
            let again: RecordState =
                serde_json::from_str(text).map_err(|e| format!("a state's kept text does not decode: {e}"))?;
            if &again != state {
                return Err(format!("a state's kept text reads differently: {}", show(text.as_bytes())));
            }
        }
        let max = state.fields.values().map(|f| f.stamp).chain(state.deleted).max();
        if state.max_stamp() != max {
            return Err(format!("max_stamp is {:?}, the greatest stamp is {max:?}", state.max_stamp()));
        }
        // A tombstone keeps no field: a join empties one an older server still sent with fields.
        let normal = match state.deleted {
            Some(deleted) => RecordState { fields: Default::default(), deleted: Some(deleted) },
            None => state.clone(),
        };
        if merge::join(state, state) != normal
            || merge::join(state, &RecordState::default()) != normal
            || merge::join(&normal, &normal) != normal
        {
            return Err(format!("join is not idempotent on {}", show_debug(state)));
        }
        let Some(collection) = Collection::from_name(&record.collection) else {
            shape.insert("unknown collection".into());
            continue;
        };
        let result = checked_validation(collection, &state.values(), false, &scheme)?;
        shape.insert(format!(
            "{:?} fields {}",
            collection.mutability(),
            if result.is_ok() { "valid" } else { "invalid" }
        ));
        shape.insert(local_edit_on_top(collection, state)?.into());
    }
    Ok(Outcome::Accepted(shape.into_iter().collect::<Vec<_>>().join(",")))
}

/// The body `api::pull_body` writes: each record's stored state spliced in as text.
pub(crate) fn spliced_page(page: &PullResponse) -> Result<String, String> {
    let mut out = String::from("{\"records\":[");
    for (i, r) in page.records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let site = r.site_id.map_or_else(|| "null".to_string(), |s| format!("\"{s}\""));
        let collection = serde_json::to_string(&r.collection).map_err(|e| e.to_string())?;
        let state = serde_json::to_string(&r.state).map_err(|e| e.to_string())?;
        let _ = write!(
            out,
            "{{\"seq\":{},\"collection\":{collection},\"record_id\":\"{}\",\"site_id\":{site},\"state\":{state}}}",
            r.seq, r.record_id
        );
    }
    let _ = write!(
        out,
        "],\"next_cursor\":{},\"has_more\":{},\"remaining\":{},\"server_time_ms\":{}}}",
        page.next_cursor, page.has_more, page.remaining, page.server_time_ms
    );
    Ok(out)
}

/// A device applying a page re-applies its pending edits on top (`store::apply_page`): a later
/// local edit of a mutable or reference record sets its field and leaves every other one alone,
/// and replays as a no-op (a deleted one stores nothing and reports it); an append-only record
/// refuses it.
pub(crate) fn local_edit_on_top(collection: Collection, state: &RecordState) -> Result<&'static str, String> {
    let stamp = match state.max_stamp() {
        None => Hlc::new(1, 0, fixture_device()),
        Some(max) if max.wall_ms < outpost_core::hlc::MAX_WALL_MS => Hlc::new(max.wall_ms + 1, 0, fixture_device()),
        Some(_) => return Ok("no later stamp"),
    };
    let writes = BTreeMap::from([("note".to_string(), FieldWrite { value: json!("fuzz"), base: None })]);
    let change = Change { stamp, kind: ChangeKind::Update(writes) };
    let apply = |current: &RecordState| match collection.mutability() {
        Mutability::Reference => Ok(merge::apply_reference(Some(current), &change)),
        m => merge::apply(Some(current), &change, m),
    };
    match (collection.mutability(), apply(state)) {
        (Mutability::AppendOnly, Err(MergeError::Immutable)) => Ok("local edit refused"),
        (Mutability::AppendOnly, other) => {
            Err(format!("an append-only pulled record accepted a local edit: {}", show_debug(&other)))
        }
        (_, Ok(merged)) if state.deleted.is_some() => {
            // A tombstone stores no edit: it is reported as a conflict, the record stays as it is.
            if merged.changed
                || merged.state != *state
                || !merged.conflicts.iter().any(|c| c.field == merge::DELETED_FIELD)
            {
                return Err(format!(
                    "a local edit of a deleted record was stored or not reported: {}",
                    show_debug(&merged)
                ));
            }
            Ok("local edit of a tombstone reported")
        }
        (_, Ok(merged)) => {
            let mut expected = state.clone();
            expected.fields.insert("note".into(), FieldState { value: json!("fuzz"), stamp });
            if merged.state != expected {
                return Err(format!(
                    "a later local edit changed more than its field: at {}",
                    difference(&expected, &merged.state)
                ));
            }
            let again = apply(&merged.state).map_err(|e| format!("replaying a local edit is refused: {e}"))?;
            if again.changed || again.state != merged.state {
                return Err(format!("replaying a local edit changed the record: {}", show_debug(&again)));
            }
            Ok("local edit on top")
        }
        (_, Err(e)) => Err(format!("a later local edit of a {collection} record was refused: {e}")),
    }
}

/// The `error_body` target's oracle (see the crate documentation).
pub fn error_body(input: &[u8]) -> Result<Outcome, String> {
    let (body, _) = match wire::<ErrorBody>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let encoded = serde_json::to_value(&body).map_err(|e| e.to_string())?;
    if encoded.get("details").is_some() == body.details.is_empty() {
        return Err(format!("`details` is written when empty or left out when not: {encoded}"));
    }
    Ok(Outcome::Accepted(format!(
        "documented code {}, {} detail(s)",
        documented(&body.code),
        body.details.len().min(2)
    )))
}

/// The `health` target's oracle (see the crate documentation).
pub fn health(input: &[u8]) -> Result<Outcome, String> {
    let (health, _) = match wire::<Health>(input, UnknownKeys::Skipped)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    Ok(Outcome::Accepted(format!("protocol current {}", health.protocol == PROTOCOL_VERSION)))
}
