//! What the server checks before it merges a batch: every operation against the device's scope
//! and the schema (all problems reported, so a device can set aside exactly the bad ones), and
//! stamps from a clock running ahead, moved back to the server's. The same for the states a
//! device sends back to a restored server.

use outpost_core::schema::{Mutability, validate_fields};
use outpost_core::wire::{ErrorDetail, Op, OpKind, RestoreRecord};
use outpost_core::{Collection, DeviceId, HlcClock};
use outpost_server_store::sync::DeviceAuth;
use std::sync::Mutex;

/// Codes of problems with the device's scope rather than with the data (answered 403).
pub const SCOPE_CODES: &[&str] = &["site_not_enrolled", "stamp_device_mismatch"];

fn detail(index: usize, op_seq: u64, field: Option<String>, code: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail { index, op_seq: Some(op_seq), field, code: code.into(), message: message.into() }
}

/// Why a device may not write records of `collection`.
fn authored_on_server(collection: Collection) -> String {
    if collection.mutability() == Mutability::Reference {
        format!("{collection} is authored on the server")
    } else {
        format!("{collection} are made by a coordinator in the dashboard, not by tablets")
    }
}

/// Checks every operation of a batch against the device's scope and the schema. Returns the
/// problems of all operations.
pub fn validate_batch(device: &DeviceAuth, ops: &[Op]) -> Vec<ErrorDetail> {
    let mut errors = Vec::new();
    let mut previous = 0;
    for (index, op) in ops.iter().enumerate() {
        let seq = op.op_seq;
        if seq == 0 {
            errors.push(detail(index, seq, None, "invalid_op_seq", "op_seq starts at 1"));
            continue;
        }
        if seq <= previous {
            errors.push(detail(
                index,
                seq,
                None,
                "op_seq_order",
                "operations must be sent in increasing op_seq order, each once",
            ));
            continue;
        }
        previous = seq;
        let Some(collection) = Collection::from_name(&op.collection) else {
            errors.push(detail(
                index,
                seq,
                None,
                "unknown_collection",
                format!("unknown collection {:?}", op.collection),
            ));
            continue;
        };
        if !collection.written_by_devices() {
            errors.push(detail(index, seq, None, "read_only_collection", authored_on_server(collection)));
            continue;
        }
        if !device.sites.contains(&op.site_id) {
            errors.push(detail(
                index,
                seq,
                None,
                "site_not_enrolled",
                "this device is not enrolled for the record's site",
            ));
            continue;
        }
        if op.stamp.device != device.device_id {
            errors.push(detail(index, seq, None, "stamp_device_mismatch", "the stamp names another device"));
            continue;
        }
        match op.kind {
            OpKind::Delete if !op.fields.is_empty() => {
                errors.push(detail(index, seq, None, "fields_on_delete", "a delete carries no fields"));
            }
            OpKind::Delete => {}
            kind => {
                if let Err(field_errors) =
                    validate_fields(collection, &op.fields, kind == OpKind::Create, &device.uic_scheme)
                {
                    errors
                        .extend(field_errors.into_iter().map(|e| detail(index, seq, Some(e.field), e.code, e.message)));
                }
            }
        }
    }
    errors
}

fn record_detail(index: usize, field: Option<String>, code: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail { index, op_seq: None, field, code: code.into(), message: message.into() }
}

/// Checks every record a device sends back to a restored server against its scope and the
/// schema, as a push is checked: a collection devices write, one of the device's sites, fields
/// a create would accept (a tombstone has none). Returns the problems of all records. Stamps
/// ahead of the server's clock are clamped, as a push's are ([`clamp_state_stamps`]).
pub fn validate_restore(device: &DeviceAuth, records: &[RestoreRecord]) -> Vec<ErrorDetail> {
    let mut errors = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let Some(collection) = Collection::from_name(&record.collection) else {
            errors.push(record_detail(
                index,
                None,
                "unknown_collection",
                format!("unknown collection {:?}", record.collection),
            ));
            continue;
        };
        if !collection.written_by_devices() {
            errors.push(record_detail(index, None, "read_only_collection", authored_on_server(collection)));
            continue;
        }
        if !device.sites.contains(&record.site_id) {
            errors.push(record_detail(
                index,
                None,
                "site_not_enrolled",
                "this device is not enrolled for the record's site",
            ));
            continue;
        }
        if record.state.deleted.is_some() {
            if !record.state.fields.is_empty() {
                errors.push(record_detail(index, None, "fields_on_delete", "a deleted record keeps no fields"));
            }
        } else if let Err(field_errors) = validate_fields(collection, &record.state.values(), true, &device.uic_scheme)
        {
            errors.extend(field_errors.into_iter().map(|e| record_detail(index, Some(e.field), e.code, e.message)));
        }
    }
    errors
}

/// The server's clock for clamping stamps from devices whose clock runs ahead: every clamped
/// stamp gets a distinct, increasing (wall, counter) pair.
static CLAMP_CLOCK: Mutex<Option<HlcClock>> = Mutex::new(None);

/// Moves the stamps of `state` that run ahead of the server clock (`now` plus `max_ahead_ms`)
/// back to that limit, as [`clamp_stamps`] does for a push; returns whether any moved.
pub fn clamp_state_stamps(state: &mut outpost_core::merge::RecordState, now: u64, max_ahead_ms: u64) -> bool {
    let limit = now.saturating_add(max_ahead_ms);
    if state.max_stamp().is_none_or(|stamp| stamp.wall_ms <= limit) {
        return false;
    }
    let mut clock = CLAMP_CLOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let clock = clock.get_or_insert_with(|| HlcClock::new(DeviceId::nil()));
    let stamps = state.fields.values_mut().map(|f| &mut f.stamp).chain(state.deleted.as_mut());
    for stamp in stamps {
        if stamp.wall_ms > limit {
            let t = clock.tick(limit);
            *stamp = stamp.clamped_to(t.wall_ms, t.counter);
        }
    }
    true
}

/// Moves stamps that run ahead of the server clock (`now` plus `max_ahead_ms`) back to that
/// limit; returns the clamped `op_seq`s and the largest skew seen.
pub fn clamp_stamps(ops: &mut [Op], now: u64, max_ahead_ms: u64) -> (Vec<u64>, i64) {
    let mut clamped = Vec::new();
    let mut skew = 0i64;
    let limit = now.saturating_add(max_ahead_ms);
    let mut clock = CLAMP_CLOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let clock = clock.get_or_insert_with(|| HlcClock::new(DeviceId::nil()));
    for op in ops {
        if op.stamp.wall_ms > limit {
            skew = skew.max(op.stamp.wall_ms.saturating_sub(now) as i64);
            // Moved to the limit, not to `now`: an earlier edit of the same device that was
            // within the limit keeps sorting before this one.
            let t = clock.tick(limit);
            op.stamp = op.stamp.clamped_to(t.wall_ms, t.counter);
            clamped.push(op.op_seq);
        }
    }
    (clamped, skew)
}
