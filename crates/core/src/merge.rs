//! Per-field last-writer-wins merge, tombstones, append-only events and conflict records.
//!
//! A record's state is a map from field name to the value with the stamp of the write that set
//! it, plus an optional tombstone stamp. Applying a change keeps, for every field, the write
//! with the greatest stamp, so the result does not depend on the order in which changes arrive:
//! the server and every device reach the same state from the same set of changes.
//!
//! * A tombstone is sticky and empty: deleting a record clears every field, keeping only the
//!   tombstone's stamp (all that merge needs), so a deleted note is not sent on to other
//!   tablets. Edits that meet a tombstone, whichever arrives first, are not stored in the
//!   record; they are reported as a conflict (`_deleted`), which the tombstone clean-up removes
//!   with the tombstone.
//! * Append-only collections accept a record once; a replay with identical fields is a no-op,
//!   anything else is refused ([`MergeError::Immutable`]).
//! * Each field write may carry the stamp of the value it replaced (`base`). When a write
//!   replaces a value it had not seen, or loses to one, the losing value is returned as a
//!   [`ConflictEntry`] so coordinators can review it.

use crate::hlc::Hlc;
use crate::schema::Mutability;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use thiserror::Error;

/// A field's current value and the stamp of the write that set it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldState {
    #[serde(rename = "v")]
    pub value: Value,
    #[serde(rename = "t")]
    pub stamp: Hlc,
}

/// The merged state of one record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct RecordState {
    /// Read with each field named once: JSON that names a field twice is refused (readers of
    /// the same text would disagree on which one counts).
    #[serde(deserialize_with = "unique_fields")]
    pub fields: BTreeMap<String, FieldState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Hlc>,
}

/// A JSON object of fields into a map, refusing a field named twice.
fn unique_fields<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, FieldState>, D::Error> {
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = BTreeMap<String, FieldState>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of fields")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = BTreeMap::new();
            while let Some((name, field)) = map.next_entry::<String, FieldState>()? {
                if fields.contains_key(&name) {
                    return Err(serde::de::Error::custom(format!("field {name:?} is named twice")));
                }
                fields.insert(name, field);
            }
            Ok(fields)
        }
    }
    deserializer.deserialize_map(Fields)
}

impl RecordState {
    /// The plain field values, as the typed records read them.
    pub fn values(&self) -> serde_json::Map<String, Value> {
        self.fields.iter().map(|(k, f)| (k.clone(), f.value.clone())).collect()
    }

    /// The greatest stamp in the record.
    pub fn max_stamp(&self) -> Option<Hlc> {
        self.fields.values().map(|f| f.stamp).chain(self.deleted).max()
    }
}

/// One field written by a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldWrite {
    pub value: Value,
    /// The stamp of the value this write replaced on its device, if any.
    pub base: Option<Hlc>,
}

/// What a change does.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeKind {
    /// Creates the record (all required fields present).
    Create(BTreeMap<String, FieldWrite>),
    /// Sets some fields of an existing record.
    Update(BTreeMap<String, FieldWrite>),
    /// Deletes the record (a tombstone).
    Delete,
}

/// A change made on a device, with its stamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub stamp: Hlc,
    pub kind: ChangeKind,
}

/// A value that lost to a concurrent write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictEntry {
    /// The field, or `_deleted` for an edit that met a tombstone.
    pub field: String,
    pub winner: FieldState,
    pub loser: FieldState,
}

/// The outcome of applying a change.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    pub state: RecordState,
    /// Whether the state differs from before (false for replays and lost writes).
    pub changed: bool,
    pub conflicts: Vec<ConflictEntry>,
}

/// Why a change cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum MergeError {
    #[error("records of this collection are append-only: correct them with a reversal record")]
    Immutable,
    #[error("records of this collection cannot be deleted: correct them with a reversal record")]
    AppendOnlyDelete,
    #[error("this collection is reference data and is authored on the server")]
    Reference,
    #[error("this record does not exist: it must be created before it is changed")]
    UnknownRecord,
}

/// Field name used in conflict entries for an edit that met a tombstone.
pub const DELETED_FIELD: &str = "_deleted";

/// Applies `change` to `current` (None when the record is unknown here).
pub fn apply(current: Option<&RecordState>, change: &Change, mutability: Mutability) -> Result<Merged, MergeError> {
    if current.is_none() && !matches!(change.kind, ChangeKind::Create(_)) {
        return Err(MergeError::UnknownRecord);
    }
    match mutability {
        Mutability::Reference => Err(MergeError::Reference),
        Mutability::AppendOnly => apply_append_only(current, change),
        Mutability::Mutable => Ok(apply_mutable(current, change)),
    }
}

/// Applies a change authored on the server to reference data (same rules as mutable records).
pub fn apply_reference(current: Option<&RecordState>, change: &Change) -> Merged {
    apply_mutable(current, change)
}

fn apply_append_only(current: Option<&RecordState>, change: &Change) -> Result<Merged, MergeError> {
    let writes = match &change.kind {
        ChangeKind::Delete => return Err(MergeError::AppendOnlyDelete),
        ChangeKind::Update(_) => return Err(MergeError::Immutable),
        ChangeKind::Create(w) => w,
    };
    match current {
        None => {
            let mut state = RecordState::default();
            for (name, write) in writes {
                state.fields.insert(name.clone(), FieldState { value: write.value.clone(), stamp: change.stamp });
            }
            Ok(Merged { state, changed: true, conflicts: vec![] })
        }
        Some(existing) => {
            let same = existing.fields.len() == writes.len()
                && writes.iter().all(|(k, w)| existing.fields.get(k).is_some_and(|f| f.value == w.value));
            if same {
                Ok(Merged { state: existing.clone(), changed: false, conflicts: vec![] })
            } else {
                Err(MergeError::Immutable)
            }
        }
    }
}

fn apply_mutable(current: Option<&RecordState>, change: &Change) -> Merged {
    let mut state = current.cloned().unwrap_or_default();
    let mut changed = false;
    let mut conflicts = Vec::new();
    match &change.kind {
        ChangeKind::Delete => {
            // A tombstone is sticky and empty; its stamp converges to the greatest delete seen.
            let deleted = Some(state.deleted.map_or(change.stamp, |d| d.max(change.stamp)));
            changed = deleted != state.deleted || !state.fields.is_empty();
            state.deleted = deleted;
            state.fields.clear();
        }
        ChangeKind::Create(writes) | ChangeKind::Update(writes) if state.deleted.is_some() => {
            if let Some(deleted) = state.deleted
                && !writes.is_empty()
            {
                conflicts.push(ConflictEntry {
                    field: DELETED_FIELD.into(),
                    winner: FieldState { value: Value::Bool(true), stamp: deleted },
                    loser: FieldState {
                        value: Value::Object(writes.iter().map(|(k, w)| (k.clone(), w.value.clone())).collect()),
                        stamp: change.stamp,
                    },
                });
            }
        }
        ChangeKind::Create(writes) | ChangeKind::Update(writes) => {
            for (name, write) in writes {
                let incoming = FieldState { value: write.value.clone(), stamp: change.stamp };
                match state.fields.get(name) {
                    None => {
                        state.fields.insert(name.clone(), incoming);
                        changed = true;
                    }
                    Some(cur) if cur.stamp == incoming.stamp => {}
                    Some(cur) if incoming.stamp > cur.stamp => {
                        let unseen = write.base != Some(cur.stamp);
                        if unseen && cur.value != incoming.value && cur.stamp.device != incoming.stamp.device {
                            conflicts.push(ConflictEntry {
                                field: name.clone(),
                                winner: incoming.clone(),
                                loser: cur.clone(),
                            });
                        }
                        changed |= cur.value != incoming.value || cur.stamp != incoming.stamp;
                        state.fields.insert(name.clone(), incoming);
                    }
                    Some(cur) => {
                        if cur.value != incoming.value {
                            conflicts.push(ConflictEntry { field: name.clone(), winner: cur.clone(), loser: incoming });
                        }
                    }
                }
            }
        }
    }
    Merged { state, changed, conflicts }
}

/// Joins two states of the same record: per field the greater stamp, and the tombstone (with no
/// fields) if either has one. Commutative, associative and idempotent.
pub fn join(a: &RecordState, b: &RecordState) -> RecordState {
    let mut out = a.clone();
    for (name, field) in &b.fields {
        match out.fields.get(name) {
            Some(cur) if cur.stamp >= field.stamp => {}
            _ => {
                out.fields.insert(name.clone(), field.clone());
            }
        }
    }
    out.deleted = match (a.deleted, b.deleted) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
    if out.deleted.is_some() {
        out.fields.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DeviceId;
    use serde_json::json;

    fn dev(n: u8) -> DeviceId {
        DeviceId(uuid::Uuid::from_bytes([n; 16]))
    }
    fn t(wall: u64, device: u8) -> Hlc {
        Hlc::new(wall, 0, dev(device))
    }
    fn writes(pairs: &[(&str, Value)], base: Option<Hlc>) -> BTreeMap<String, FieldWrite> {
        pairs.iter().map(|(k, v)| (k.to_string(), FieldWrite { value: v.clone(), base })).collect()
    }
    fn update(stamp: Hlc, pairs: &[(&str, Value)], base: Option<Hlc>) -> Change {
        Change { stamp, kind: ChangeKind::Update(writes(pairs, base)) }
    }
    fn create(stamp: Hlc, pairs: &[(&str, Value)]) -> Change {
        Change { stamp, kind: ChangeKind::Create(writes(pairs, None)) }
    }

    #[test]
    fn a_state_naming_a_field_twice_is_refused() {
        let stamp = t(1_000, 3).to_string();
        let once = format!(r#"{{"fields": {{"quantity": {{"v": 5, "t": "{stamp}"}}}}}}"#);
        let state: RecordState = serde_json::from_str(&once).expect("one of each");
        assert_eq!(state.fields["quantity"].value, json!(5));
        let twice = format!(
            r#"{{"fields": {{"quantity": {{"v": 5, "t": "{stamp}"}}, "quantity": {{"v": -500, "t": "{stamp}"}}}}}}"#
        );
        let refused = serde_json::from_str::<RecordState>(&twice).expect_err("named twice");
        assert!(refused.to_string().contains("\"quantity\" is named twice"), "{refused}");
        let from_value = serde_json::from_value::<RecordState>(json!({"fields": {"a": {"v": 1, "t": stamp}}}));
        assert!(from_value.is_ok(), "a decoded value reads too");
    }

    fn run(changes: &[Change], mutability: Mutability) -> (Result<RecordState, MergeError>, Vec<String>) {
        let mut state: Option<RecordState> = None;
        let mut conflicts = Vec::new();
        for change in changes {
            match apply(state.as_ref(), change, mutability) {
                Ok(m) => {
                    conflicts.extend(
                        m.conflicts.iter().map(|c| format!("{}:{}>{}", c.field, c.winner.value, c.loser.value)),
                    );
                    state = Some(m.state);
                }
                Err(e) => return (Err(e), conflicts),
            }
        }
        (Ok(state.unwrap_or_default()), conflicts)
    }

    fn value(state: &RecordState, field: &str) -> Value {
        state.fields.get(field).map(|f| f.value.clone()).unwrap_or(Value::Null)
    }

    #[test]
    fn last_writer_wins_per_field_in_any_order() {
        let c = create(t(1, 1), &[("gender", json!("man")), ("birth_year", json!(1980))]);
        let a = update(t(5, 1), &[("gender", json!("woman"))], Some(t(1, 1)));
        let b = update(t(6, 2), &[("birth_year", json!(1981))], Some(t(1, 1)));
        // Updates from two devices, in either order after the create (a record is always
        // created before anyone can edit it).
        for order in [[&c, &a, &b], [&c, &b, &a]] {
            let changes: Vec<Change> = order.iter().map(|x| (*x).clone()).collect();
            let (state, conflicts) = run(&changes, Mutability::Mutable);
            let state = state.expect("mutable merge never fails");
            assert_eq!(value(&state, "gender"), json!("woman"));
            assert_eq!(value(&state, "birth_year"), json!(1981));
            assert!(conflicts.is_empty(), "different fields never collide: {conflicts:?}");
        }
    }

    #[test]
    fn concurrent_edits_same_winner_and_loser_logged_either_order() {
        let c = create(t(1, 1), &[("gender", json!("man"))]);
        let a = update(t(5, 1), &[("gender", json!("woman"))], Some(t(1, 1)));
        let b = update(t(5, 2), &[("gender", json!("non_binary"))], Some(t(1, 1)));
        for changes in [vec![c.clone(), a.clone(), b.clone()], vec![c, b, a]] {
            let (state, conflicts) = run(&changes, Mutability::Mutable);
            // Same wall time and counter: the greater device id wins.
            assert_eq!(value(&state.expect("merge"), "gender"), json!("non_binary"));
            assert_eq!(conflicts, vec!["gender:\"non_binary\">\"woman\"".to_string()]);
        }
    }

    #[test]
    fn sequential_edit_after_seeing_the_value_is_not_a_conflict() {
        let c = create(t(1, 1), &[("gender", json!("man"))]);
        let b = update(t(9, 2), &[("gender", json!("woman"))], Some(t(1, 1)));
        let (_, conflicts) = run(&[c, b], Mutability::Mutable);
        assert!(conflicts.is_empty());
    }

    #[test]
    fn replay_is_a_no_op() {
        let c = create(t(1, 1), &[("gender", json!("man"))]);
        let first = apply(None, &c, Mutability::Mutable).expect("create");
        let again = apply(Some(&first.state), &c, Mutability::Mutable).expect("replay");
        assert!(!again.changed);
        assert_eq!(again.state, first.state);
        assert!(again.conflicts.is_empty());
    }

    #[test]
    fn delete_is_sticky_and_clears_the_record_whatever_the_order() {
        let c = create(t(1, 1), &[("gender", json!("man")), ("note", json!("private words"))]);
        let d = Change { stamp: t(3, 1), kind: ChangeKind::Delete };
        let e = update(t(7, 2), &[("gender", json!("woman"))], Some(t(1, 1)));
        let mut states = Vec::new();
        for changes in [vec![c.clone(), d.clone(), e.clone()], vec![c.clone(), e.clone(), d.clone()]] {
            let (state, _) = run(&changes, Mutability::Mutable);
            let state = state.expect("merge");
            assert_eq!(state.deleted, Some(t(3, 1)));
            assert!(state.fields.is_empty(), "a tombstone keeps no field: {state:?}");
            states.push(state);
        }
        assert_eq!(states[0], states[1]);
        // The edit that met the tombstone is reported, with what it wrote.
        let deleted =
            apply(Some(&apply(None, &c, Mutability::Mutable).expect("create").state), &d, Mutability::Mutable)
                .expect("delete");
        assert!(deleted.changed);
        let late = apply(Some(&deleted.state), &e, Mutability::Mutable).expect("late edit");
        assert!(!late.changed, "nothing is stored in a tombstone");
        assert_eq!(late.conflicts.len(), 1);
        assert_eq!(late.conflicts[0].field, DELETED_FIELD);
        assert_eq!(late.conflicts[0].loser.value, json!({"gender": "woman"}));
        // Deleting again changes nothing.
        assert!(!apply(Some(&deleted.state), &d, Mutability::Mutable).expect("again").changed);
    }

    #[test]
    fn append_only_rules() {
        let c = create(t(1, 1), &[("quantity", json!(10))]);
        let (state, _) = run(&[c.clone(), c.clone()], Mutability::AppendOnly);
        assert_eq!(value(&state.expect("replay accepted"), "quantity"), json!(10));
        let other = create(t(2, 1), &[("quantity", json!(11))]);
        assert_eq!(run(&[c.clone(), other], Mutability::AppendOnly).0, Err(MergeError::Immutable));
        let del = Change { stamp: t(3, 1), kind: ChangeKind::Delete };
        assert_eq!(run(&[c.clone(), del], Mutability::AppendOnly).0, Err(MergeError::AppendOnlyDelete));
        let edit = update(t(4, 1), &[("quantity", json!(10))], None);
        assert_eq!(run(&[c.clone(), edit.clone()], Mutability::AppendOnly).0, Err(MergeError::Immutable));
        assert_eq!(run(&[edit], Mutability::Mutable).0, Err(MergeError::UnknownRecord), "no partial records");
        assert_eq!(run(&[c], Mutability::Reference).0, Err(MergeError::Reference));
    }

    #[test]
    fn join_is_commutative_and_idempotent() {
        let a =
            apply(None, &create(t(1, 1), &[("x", json!(1)), ("y", json!(1))]), Mutability::Mutable).expect("a").state;
        let b = apply(Some(&a), &update(t(2, 2), &[("y", json!(2))], None), Mutability::Mutable).expect("b").state;
        let c = apply(Some(&a), &Change { stamp: t(3, 3), kind: ChangeKind::Delete }, Mutability::Mutable)
            .expect("c")
            .state;
        assert_eq!(join(&a, &b), join(&b, &a));
        assert_eq!(join(&join(&a, &b), &c), join(&a, &join(&b, &c)));
        assert_eq!(join(&b, &b), b);
        assert!(join(&b, &c).fields.is_empty(), "a join with a tombstone keeps no field");
    }
}
