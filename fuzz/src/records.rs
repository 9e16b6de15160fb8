//! The oracles of record fields (`validate_fields` for every collection) and HLC stamps.

use crate::oracle::*;
use outpost_core::schema::{Collection, MAX_FIELDS};
use outpost_core::uic::UicScheme;
use outpost_core::{DeviceId, Hlc};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The `record_fields` target's oracle (see the crate documentation).
pub fn record_fields(input: &[u8]) -> Result<Outcome, String> {
    let (fields, _) = match wire::<Map<String, Value>>(input, UnknownKeys::Refused)? {
        Ok(decoded) => decoded,
        Err(kind) => return Ok(Outcome::Rejected(kind)),
    };
    let control = has_control_characters(&Value::Object(fields.clone()));
    let mut valid_creates = 0;
    let mut all_codes: BTreeSet<&'static str> = BTreeSet::new();
    for &collection in Collection::ALL {
        let scheme_list: Vec<UicScheme> = if collection == Collection::Clients {
            schemes().into_iter().collect()
        } else {
            vec![UicScheme::central_asia()]
        };
        for scheme in &scheme_list {
            let create = checked_validation(collection, &fields, true, scheme)?;
            let update = checked_validation(collection, &fields, false, scheme)?;
            all_codes.extend(codes(&create));
            all_codes.extend(codes(&update));
            if create.is_ok() && update.is_err() {
                return Err(format!(
                    "validation passes a create but not the same fields as an update: {update:?} ({collection}); input {}",
                    show(input)
                ));
            }
            if control && update.is_ok() {
                return Err(format!("validation accepted control characters ({collection}); input {}", show(input)));
            }
            if fields.len() > MAX_FIELDS && codes(&update) != BTreeSet::from(["too_many_fields"]) {
                return Err(format!(
                    "validation of {} fields did not answer too_many_fields alone ({collection})",
                    fields.len()
                ));
            }
            if create.is_ok() {
                if let Some(spec) =
                    collection.fields().iter().find(|s| s.required && fields.get(s.name).is_none_or(Value::is_null))
                {
                    return Err(format!("a create without the required field {:?} passed ({collection})", spec.name));
                }
                typed_view(collection, &fields).map_err(|e| {
                    format!(
                        "a create that passes validation cannot be read as its typed record: {e} ({collection}); input {}",
                        show(input)
                    )
                })?;
                valid_creates += 1;
            }
        }
    }
    Ok(Outcome::Accepted(format!("{valid_creates} valid creates; codes {all_codes:?}")))
}

/// Stamps of different walls, counters and devices to compare a parsed stamp with.
pub(crate) fn reference_stamps() -> Vec<Hlc> {
    let device = |n: u8| DeviceId(uuid::Uuid::from_bytes([n; 16]));
    vec![
        Hlc::new(0, 0, device(0)),
        Hlc::new(1_764_064_800_000, 0, fixture_device()),
        Hlc::new(1_764_064_800_000, 1, device(0x01)),
        Hlc::new(1_764_064_800_000, 65_535, device(0xff)),
        Hlc::new(outpost_core::hlc::MAX_WALL_MS, 65_535, device(0xff)),
        Hlc::new(99_999, 7, device(0x7f)),
    ]
}

/// The `hlc_stamp` target's oracle (see the crate documentation).
pub fn hlc_stamp(input: &[u8]) -> Result<Outcome, String> {
    let Ok(text) = std::str::from_utf8(input) else { return Ok(Outcome::Rejected("not UTF-8".into())) };
    let parsed = text.parse::<Hlc>();
    let via_serde = serde_json::from_value::<Hlc>(Value::String(text.to_string()));
    if parsed.as_ref().ok() != via_serde.as_ref().ok() {
        return Err(format!("decoders disagree: FromStr gives {parsed:?}, serde {via_serde:?} for {text:?}"));
    }
    let stamp = match parsed {
        Ok(stamp) => stamp,
        Err(e) => return Ok(Outcome::Rejected(format!("{e:?}"))),
    };
    if stamp.to_string() != text {
        return Err(format!("a stamp parsed from a non-canonical text: {text:?} prints as {stamp}"));
    }
    if stamp.wall_ms > outpost_core::hlc::MAX_WALL_MS {
        return Err(format!("a stamp past the largest wall time parsed: {text:?}"));
    }
    for reference in reference_stamps() {
        if stamp.cmp(&reference) != text.cmp(reference.to_string().as_str()) {
            return Err(format!("stamp order differs from text order: {text:?} against {reference}"));
        }
    }
    let json = serde_json::to_string(&stamp).map_err(|e| e.to_string())?;
    if serde_json::from_str::<Hlc>(&json).ok() != Some(stamp) {
        return Err(format!("a stamp does not survive JSON: {json}"));
    }
    Ok(Outcome::Accepted(format!(
        "counter max {}, nil device {}",
        stamp.counter == u16::MAX,
        stamp.device == DeviceId::nil()
    )))
}
