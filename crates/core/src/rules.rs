//! Rules the tablet and the server both apply to stored records, written once: when a contact
//! may still be corrected.

use crate::merge::RecordState;

/// How long after it was recorded a contact may still be edited; after that it is locked and
/// distributions are corrected only by reversal lines.
pub const CONTACT_EDIT_WINDOW_MS: u64 = 72 * 3600 * 1000;

/// When a contact was first recorded: its earliest field stamp (the edit window counts from
/// there, on the tablet that recorded it and on every other).
pub fn contact_recorded_ms(state: &RecordState) -> u64 {
    state.fields.values().map(|f| f.stamp.wall_ms).min().unwrap_or(0)
}

/// Whether a contact may still be corrected at `now_ms`: not deleted, and within
/// [`CONTACT_EDIT_WINDOW_MS`] of when it was recorded.
pub fn contact_editable(state: &RecordState, now_ms: u64) -> bool {
    state.deleted.is_none() && now_ms.saturating_sub(contact_recorded_ms(state)) <= CONTACT_EDIT_WINDOW_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_is_editable_for_72_hours_from_its_first_stamp() {
        use crate::hlc::Hlc;
        use crate::merge::FieldState;
        let mut state = RecordState::default();
        let at = |ms| FieldState { value: serde_json::json!("window"), stamp: Hlc::new(ms, 0, crate::DeviceId::nil()) };
        state.fields.insert("setting".into(), at(1_000));
        // A later edit does not move the window.
        state.fields.insert("note".into(), at(1_000 + CONTACT_EDIT_WINDOW_MS));
        assert_eq!(contact_recorded_ms(&state), 1_000);
        assert!(contact_editable(&state, 1_000 + CONTACT_EDIT_WINDOW_MS));
        assert!(!contact_editable(&state, 1_001 + CONTACT_EDIT_WINDOW_MS));
        state.deleted = Some(Hlc::new(2_000, 0, crate::DeviceId::nil()));
        assert!(!contact_editable(&state, 2_000), "a deleted contact is never editable");
    }
}
