//! One person, several client records. The same person gets a second client record when they
//! are registered again at another site, or when a code was mistyped; a coordinator merges the
//! two (`client_merges` records, made in the dashboard), and undoes a wrong merge with a second
//! record naming the first (`undoes`), since merges are append-only.
//!
//! [`People::resolve`] turns the merge records an organisation holds into who is who: each
//! client record belongs to one person, named by the client record that was kept (the `into`
//! side, followed through chains: A into B, then B into C makes A, B and C one person, C). It
//! depends only on the set of records, never on the order they arrived in, so a merge that
//! reaches a tablet or the server before the records it names means the same as one after
//! them, and every reader (the tablet's lists, the server's reports) agrees. The server keeps the
//! merges a forest (a record merged away is never merged again, see the dashboard's rules);
//! should records ever disagree (two merges of one record into two others, or a cycle), the
//! person is the smallest id among the records that were not merged away (among all, for a
//! cycle), so the answer is still one and the same everywhere.

use crate::RecordId;
use crate::merge::RecordState;
use crate::records::ClientMerge;
use std::collections::{BTreeMap, BTreeSet};

/// The fields of a client record that the organisation-wide client index (an organisation
/// setting, off unless an administrator turns it on; see docs/security.md) carries to the
/// tablets of the organisation's other sites: enough to find the person by code, nothing more.
pub const INDEX_FIELDS: &[&str] = &["uic", "gender", "birth_year"];

/// A client record as a tablet of another site receives it through the client index: the
/// [`INDEX_FIELDS`] only, with their stamps (a tombstone stays one). The server applies it;
/// tests check tablets against it.
pub fn index_state(state: &RecordState) -> RecordState {
    let mut reduced = state.clone();
    reduced.fields.retain(|name, _| INDEX_FIELDS.contains(&name.as_str()));
    reduced
}

/// A merge record as read from storage: its id and fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeRecord {
    pub id: RecordId,
    pub from_client: RecordId,
    pub into_client: RecordId,
    pub undoes: Option<RecordId>,
}

impl MergeRecord {
    /// A merge record of id `id` with fields `merge`.
    pub fn new(id: RecordId, merge: &ClientMerge) -> Self {
        Self { id, from_client: merge.from_client, into_client: merge.into_client, undoes: merge.undoes }
    }
}

/// Which client records are one person (see the module).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct People {
    /// Each client record named by an active merge → its person.
    person: BTreeMap<RecordId, RecordId>,
    /// Each person with more than one record → its records, the person's own included.
    members: BTreeMap<RecordId, BTreeSet<RecordId>>,
    /// The merges in force.
    active: Vec<MergeRecord>,
}

impl People {
    /// Who is who, given every merge record (live ones; the order does not matter).
    pub fn resolve(records: &[MergeRecord]) -> Self {
        let undone: BTreeSet<RecordId> = records.iter().filter_map(|r| r.undoes).collect();
        let mut active: Vec<MergeRecord> = records
            .iter()
            .filter(|r| r.undoes.is_none() && !undone.contains(&r.id) && r.from_client != r.into_client)
            .cloned()
            .collect();
        active.sort_by_key(|r| r.id);
        active.dedup_by_key(|r| r.id);

        // Connected groups (union-find with path halving over the ids named).
        let mut parent: BTreeMap<RecordId, RecordId> = BTreeMap::new();
        fn find(parent: &mut BTreeMap<RecordId, RecordId>, mut x: RecordId) -> RecordId {
            loop {
                let p = *parent.entry(x).or_insert(x);
                if p == x {
                    return x;
                }
                let grand = *parent.entry(p).or_insert(p);
                parent.insert(x, grand);
                x = grand;
            }
        }
        for merge in &active {
            let (a, b) = (find(&mut parent, merge.from_client), find(&mut parent, merge.into_client));
            if a != b {
                // The smaller root wins, so the grouping is the same in any order.
                let (keep, drop) = if a < b { (a, b) } else { (b, a) };
                parent.insert(drop, keep);
            }
        }
        let merged_away: BTreeSet<RecordId> = active.iter().map(|m| m.from_client).collect();
        let ids: Vec<RecordId> = parent.keys().copied().collect();
        let mut groups: BTreeMap<RecordId, BTreeSet<RecordId>> = BTreeMap::new();
        for id in ids {
            let root = find(&mut parent, id);
            groups.entry(root).or_default().insert(id);
        }
        let mut people = People { active, ..Default::default() };
        for (_, group) in groups {
            // The record kept: one never merged away (the smallest, should there be several);
            // in a cycle every record was merged away, and the smallest stands for all.
            let kept = group.iter().find(|id| !merged_away.contains(id)).or_else(|| group.first()).copied();
            let Some(kept) = kept else { continue };
            for id in &group {
                people.person.insert(*id, kept);
            }
            people.members.insert(kept, group);
        }
        people
    }

    /// The person client record `client` belongs to: the record kept when it was merged, or
    /// itself.
    pub fn person_of(&self, client: RecordId) -> RecordId {
        self.person.get(&client).copied().unwrap_or(client)
    }

    /// Whether `client` was merged into another record (and is shown as that one).
    pub fn is_merged_away(&self, client: RecordId) -> bool {
        self.person_of(client) != client
    }

    /// Every client record of the person `client` belongs to, the kept one first.
    pub fn records_of(&self, client: RecordId) -> Vec<RecordId> {
        let person = self.person_of(client);
        let mut out = vec![person];
        if let Some(group) = self.members.get(&person) {
            out.extend(group.iter().copied().filter(|id| *id != person));
        }
        out
    }

    /// Each client record named by a merge in force, with its person (itself for the kept one).
    pub fn assignments(&self) -> impl Iterator<Item = (RecordId, RecordId)> + '_ {
        self.person.iter().map(|(client, person)| (*client, *person))
    }

    /// The merges in force (not undone), in id order (the order they were made).
    pub fn active(&self) -> &[MergeRecord] {
        &self.active
    }

    /// Whether no merge is in force.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_carries_the_code_gender_and_year_only() {
        use crate::merge::FieldState;
        use crate::{DeviceId, Hlc};
        let stamp = Hlc::new(5, 0, DeviceId::nil());
        let field = |v: serde_json::Value| FieldState { value: v, stamp };
        let mut state = RecordState::default();
        for (name, value) in [
            ("uic", serde_json::json!("MAIV287")),
            ("gender", serde_json::json!("woman")),
            ("birth_year", serde_json::json!(1987)),
            ("key_groups", serde_json::json!(["sex_work"])),
            ("first_seen_site", serde_json::json!("00000000-0000-0000-0000-000000000001")),
            ("note_from_a_newer_app", serde_json::json!("x")),
        ] {
            state.fields.insert(name.into(), field(value));
        }
        let reduced = index_state(&state);
        assert_eq!(reduced.fields.keys().collect::<Vec<_>>(), vec!["birth_year", "gender", "uic"]);
        assert_eq!(reduced.fields["uic"], state.fields["uic"], "stamps kept");
        let deleted = RecordState { fields: BTreeMap::new(), deleted: Some(stamp) };
        assert_eq!(index_state(&deleted), deleted);
    }

    fn id(n: u128) -> RecordId {
        RecordId(uuid::Uuid::from_u128(n))
    }

    fn merge(n: u128, from: u128, into: u128) -> MergeRecord {
        MergeRecord { id: id(n), from_client: id(from), into_client: id(into), undoes: None }
    }

    fn undo(n: u128, of: u128, from: u128, into: u128) -> MergeRecord {
        MergeRecord { undoes: Some(id(of)), ..merge(n, from, into) }
    }

    fn all_orders(records: &[MergeRecord]) -> Vec<Vec<MergeRecord>> {
        // Every rotation and its reverse: enough to catch an order-dependent answer.
        let mut out = Vec::new();
        for shift in 0..records.len().max(1) {
            let mut rotated = records.to_vec();
            rotated.rotate_left(shift.min(records.len().saturating_sub(1)));
            out.push(rotated.clone());
            rotated.reverse();
            out.push(rotated);
        }
        out
    }

    #[test]
    fn a_merge_makes_one_person_of_two_records() {
        let people = People::resolve(&[merge(100, 1, 2)]);
        assert_eq!(people.person_of(id(1)), id(2));
        assert_eq!(people.person_of(id(2)), id(2));
        assert_eq!(people.person_of(id(3)), id(3), "a record no merge names is its own person");
        assert!(people.is_merged_away(id(1)));
        assert!(!people.is_merged_away(id(2)));
        assert_eq!(people.records_of(id(1)), vec![id(2), id(1)]);
        assert_eq!(people.records_of(id(3)), vec![id(3)]);
        assert_eq!(people.assignments().collect::<Vec<_>>(), vec![(id(1), id(2)), (id(2), id(2))]);
    }

    #[test]
    fn chains_follow_to_the_record_kept_in_any_order() {
        let records = [merge(100, 1, 2), merge(101, 2, 3), merge(102, 4, 3)];
        for order in all_orders(&records) {
            let people = People::resolve(&order);
            for client in 1..=4 {
                assert_eq!(people.person_of(id(client)), id(3), "{order:?}");
            }
            assert_eq!(people.records_of(id(1)), vec![id(3), id(1), id(2), id(4)]);
        }
    }

    #[test]
    fn an_undo_takes_a_merge_back_whenever_it_arrives() {
        let records = [merge(100, 1, 2), undo(101, 100, 1, 2)];
        for order in all_orders(&records) {
            let people = People::resolve(&order);
            assert_eq!(people.person_of(id(1)), id(1));
            assert!(people.is_empty());
        }
        // Merged again after the undo: the new merge holds.
        let people = People::resolve(&[merge(100, 1, 2), undo(101, 100, 1, 2), merge(102, 1, 2)]);
        assert_eq!(people.person_of(id(1)), id(2));
        assert_eq!(people.active().len(), 1);
        // Undoing the middle of a chain splits it.
        let people = People::resolve(&[merge(100, 1, 2), merge(101, 2, 3), undo(102, 101, 2, 3)]);
        assert_eq!((people.person_of(id(1)), people.person_of(id(3))), (id(2), id(3)));
    }

    #[test]
    fn disagreeing_records_still_give_one_answer() {
        // One record merged into two others: the smaller kept record stands for all three.
        for order in all_orders(&[merge(100, 1, 3), merge(101, 1, 2)]) {
            let people = People::resolve(&order);
            assert_eq!([1, 2, 3].map(|c| people.person_of(id(c))), [id(2); 3], "{order:?}");
        }
        // A cycle: the smallest id.
        for order in all_orders(&[merge(100, 5, 6), merge(101, 6, 7), merge(102, 7, 5)]) {
            let people = People::resolve(&order);
            assert_eq!([5, 6, 7].map(|c| people.person_of(id(c))), [id(5); 3], "{order:?}");
        }
        // A record merged into itself and a replayed merge change nothing.
        let people = People::resolve(&[merge(100, 1, 1), merge(101, 2, 3), merge(101, 2, 3)]);
        assert_eq!(people.person_of(id(1)), id(1));
        assert_eq!(people.active().len(), 1);
    }
}
