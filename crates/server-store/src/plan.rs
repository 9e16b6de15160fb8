//! The push planner: what a batch does to the stored records, as a pure function of the batch,
//! the device's replay mark and the records it touches. Both backends store its result the same
//! way (the `sync` module's push); the conflict revert plans its one change with it too. The merge rules
//! themselves are core's ([`outpost_core::merge`]), the same code the tablets run.

use outpost_core::merge::{self, Change, ConflictEntry, MergeError, RecordState};
use outpost_core::wire::{ErrorDetail, Op};
use outpost_core::{Collection, OrgId, RecordId, SiteId};
use std::collections::{HashMap, HashSet};

/// How far beyond the highest committed `op_seq` a device's next operation may be numbered. A
/// device numbers its operations 1, 2, 3...; gaps come only from operations the server refused.
/// A far larger number is a broken client, and accepting it would make every later operation of
/// that device look like a replay, silently dropped.
pub const MAX_OP_SEQ_JUMP: u64 = 1_000_000;

/// A stored record, as the planner needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub org_id: OrgId,
    pub site_id: Option<SiteId>,
    pub state: RecordState,
}

/// The key of a record.
pub type Key = (Collection, RecordId);

/// A record's new state, to be written with a fresh sequence number.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordWrite {
    pub collection: Collection,
    pub id: RecordId,
    pub site_id: SiteId,
    pub state: RecordState,
}

/// A value that lost, to be kept for review.
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictWrite {
    pub collection: Collection,
    pub record_id: RecordId,
    pub site_id: SiteId,
    pub entry: ConflictEntry,
}

/// What a batch does, once every operation merged.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PushPlan {
    /// Every acknowledged `op_seq`, in the order of the batch (replays included).
    pub acked: Vec<u64>,
    /// Each changed record once, with its final state, in the order it was first changed: one
    /// sequence number each.
    pub writes: Vec<RecordWrite>,
    pub conflicts: Vec<ConflictWrite>,
    /// The device's new replay mark, when it moves.
    pub max_op_seq: Option<u64>,
}

/// Plans `ops` of a device of `org` whose operations up to `applied_up_to` are committed.
/// `stored` holds the records the batch touches that exist; `purged` the keys among them whose
/// tombstones were cleaned up. Refuses the whole batch, naming every refused operation.
pub fn plan_push(
    org: OrgId,
    applied_up_to: u64,
    ops: &[Op],
    stored: &HashMap<Key, Stored>,
    purged: &HashSet<Key>,
) -> Result<PushPlan, Vec<ErrorDetail>> {
    // A change to a purged record is refused before anything else, replays included: the
    // device keeps it in its rejected list (nothing is lost: a replay was applied before the
    // deletion).
    let refused: Vec<ErrorDetail> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| Collection::from_name(&op.collection).is_some_and(|c| purged.contains(&(c, op.record_id))))
        .map(|(index, op)| detail(index, op.op_seq, "record_purged", PURGED_MESSAGE))
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }

    let mut working: HashMap<Key, Stored> = HashMap::new();
    let mut order: Vec<Key> = Vec::new();
    let mut plan = PushPlan::default();
    let mut errors = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        if op.op_seq <= applied_up_to {
            // A replay of an operation already committed.
            plan.acked.push(op.op_seq);
            continue;
        }
        if op.op_seq > applied_up_to.saturating_add(MAX_OP_SEQ_JUMP) {
            errors.push(op_seq_gap(index, op.op_seq, applied_up_to));
            continue;
        }
        let Some(collection) = Collection::from_name(&op.collection) else {
            errors.push(detail(
                index,
                op.op_seq,
                "unknown_collection",
                &format!("unknown collection {:?}", op.collection),
            ));
            continue;
        };
        let key = (collection, op.record_id);
        let current = working.get(&key).or_else(|| stored.get(&key));
        if let Some(record) = current
            && (record.org_id != org || record.site_id != Some(op.site_id))
        {
            errors.push(site_mismatch(index, op.op_seq));
            continue;
        }
        let change = Change { stamp: op.stamp, kind: op.change_kind() };
        match merge::apply(current.map(|r| &r.state), &change, collection.mutability()) {
            Err(e) => errors.push(merge_error(index, op.op_seq, &e)),
            Ok(merged) => {
                plan.conflicts.extend(merged.conflicts.into_iter().map(|entry| ConflictWrite {
                    collection,
                    record_id: op.record_id,
                    site_id: op.site_id,
                    entry,
                }));
                if merged.changed {
                    if !working.contains_key(&key) {
                        order.push(key);
                    }
                    working.insert(key, Stored { org_id: org, site_id: Some(op.site_id), state: merged.state });
                }
                plan.acked.push(op.op_seq);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    plan.writes = order
        .into_iter()
        .filter_map(|key| {
            let record = working.remove(&key)?;
            Some(RecordWrite { collection: key.0, id: key.1, site_id: record.site_id?, state: record.state })
        })
        .collect();
    plan.max_op_seq = plan.acked.iter().copied().filter(|&s| s > applied_up_to).max();
    Ok(plan)
}

const PURGED_MESSAGE: &str = "this record was deleted long ago and removed from the server; the change was set aside";

fn detail(index: usize, op_seq: u64, code: &str, message: &str) -> ErrorDetail {
    ErrorDetail { index, op_seq: Some(op_seq), field: None, code: code.into(), message: message.into() }
}

fn merge_error(index: usize, op_seq: u64, e: &MergeError) -> ErrorDetail {
    let code = match e {
        MergeError::Immutable => "immutable_record",
        MergeError::AppendOnlyDelete => "append_only_delete",
        MergeError::Reference => "read_only_collection",
        MergeError::UnknownRecord => "unknown_record",
    };
    detail(index, op_seq, code, &e.to_string())
}

fn op_seq_gap(index: usize, op_seq: u64, applied_up_to: u64) -> ErrorDetail {
    detail(
        index,
        op_seq,
        "op_seq_gap",
        &format!(
            "op_seq {op_seq} is far beyond the last one received ({applied_up_to}); operations are numbered 1, 2, 3..."
        ),
    )
}

fn site_mismatch(index: usize, op_seq: u64) -> ErrorDetail {
    detail(index, op_seq, "site_mismatch", "this record belongs to another site")
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::wire::OpKind;
    use outpost_core::{DeviceId, Hlc};
    use serde_json::json;
    use std::collections::BTreeMap;

    const ORG: OrgId = OrgId::nil();

    fn site(n: u8) -> SiteId {
        SiteId(uuid::Uuid::from_bytes([n; 16]))
    }

    fn op(op_seq: u64, collection: &str, id: u8, kind: OpKind, fields: serde_json::Value) -> Op {
        let serde_json::Value::Object(fields) = fields else { panic!("fields are an object") };
        Op {
            op_seq,
            collection: collection.into(),
            record_id: RecordId(uuid::Uuid::from_bytes([id; 16])),
            site_id: site(1),
            kind,
            stamp: Hlc::new(1_000 + op_seq, 0, DeviceId::nil()),
            fields,
            bases: BTreeMap::new(),
        }
    }

    fn client(op_seq: u64, id: u8) -> Op {
        op(op_seq, "clients", id, OpKind::Create, json!({"uic": "MAIV287", "gender": "woman"}))
    }

    fn codes(result: Result<PushPlan, Vec<ErrorDetail>>) -> Vec<(usize, String)> {
        result.err().unwrap_or_default().into_iter().map(|d| (d.index, d.code)).collect()
    }

    #[test]
    fn a_record_changed_twice_in_a_batch_is_written_once_with_its_final_state() {
        let ops = vec![client(1, 7), op(2, "clients", 7, OpKind::Update, json!({"gender": "man"})), client(3, 8)];
        let plan = plan_push(ORG, 0, &ops, &HashMap::new(), &HashSet::new()).expect("plans");
        assert_eq!(plan.acked, [1, 2, 3]);
        assert_eq!(plan.writes.len(), 2, "one write, so one sequence number, per record");
        assert_eq!(plan.writes[0].id, ops[0].record_id);
        assert_eq!(plan.writes[0].state.fields["gender"].value, json!("man"));
        assert_eq!(plan.max_op_seq, Some(3));
    }

    #[test]
    fn replays_are_acknowledged_without_writing() {
        let ops = vec![client(1, 7), client(2, 8)];
        let plan = plan_push(ORG, 2, &ops, &HashMap::new(), &HashSet::new()).expect("plans");
        assert_eq!((plan.acked, plan.writes.len(), plan.max_op_seq), (vec![1, 2], 0, None));
    }

    #[test]
    fn every_refused_operation_is_named_and_nothing_is_planned() {
        let mut stored = HashMap::new();
        let other = client(9, 9);
        stored.insert(
            (Collection::Clients, other.record_id),
            Stored { org_id: ORG, site_id: Some(site(2)), state: RecordState::default() },
        );
        let ops = vec![
            client(1, 7),
            op(2, "nonsense", 1, OpKind::Create, json!({})),
            client(3, 9),
            op(4, "distribution_lines", 3, OpKind::Update, json!({"quantity": 2})),
            client(5 + MAX_OP_SEQ_JUMP, 4),
        ];
        assert_eq!(
            codes(plan_push(ORG, 0, &ops, &stored, &HashSet::new())),
            [
                (1, "unknown_collection".to_string()),
                (2, "site_mismatch".to_string()),
                (3, "unknown_record".to_string()),
                (4, "op_seq_gap".to_string()),
            ]
        );
    }

    #[test]
    fn changes_to_purged_records_are_refused_alone_even_as_replays() {
        let ops = vec![client(1, 7), client(2, 8)];
        let purged = HashSet::from([(Collection::Clients, ops[0].record_id)]);
        assert_eq!(codes(plan_push(ORG, 5, &ops, &HashMap::new(), &purged)), [(0, "record_purged".to_string())]);
    }

    #[test]
    fn concurrent_edits_keep_the_loser_for_review() {
        let create = client(1, 7);
        let mut stored = HashMap::new();
        let base = plan_push(ORG, 0, std::slice::from_ref(&create), &HashMap::new(), &HashSet::new()).expect("plans");
        stored.insert(
            (Collection::Clients, create.record_id),
            Stored { org_id: ORG, site_id: Some(site(1)), state: base.writes[0].state.clone() },
        );
        // Another tablet's later edit, made without having seen the stored value: it wins, and
        // the value it replaced unseen is kept for review.
        let mut edit = op(2, "clients", 7, OpKind::Update, json!({"gender": "man"}));
        edit.stamp = Hlc::new(5_000, 0, DeviceId(uuid::Uuid::from_bytes([9; 16])));
        edit.bases.insert("gender".into(), Hlc::new(1, 0, DeviceId::nil()));
        let plan = plan_push(ORG, 1, &[edit], &stored, &HashSet::new()).expect("plans");
        assert_eq!(plan.conflicts.len(), 1);
        assert_eq!(plan.conflicts[0].entry.field, "gender");
    }
}
