//! What the oracles share: their verdict ([`Outcome`]), the wire round trip every decoder
//! goes through, the documented error codes, the fixtures and the checks of validation, storage
//! and typed records.

use outpost_core::merge::RecordState;
use outpost_core::records::{
    Client, ClientMerge, Commodity, Contact, DistributionLine, GroupTally, KitTemplate, OverdoseReport, PublishedForm,
    Referral, SharpsReturn, Site, StockMovement, SurveyResponse, TestResult,
};
use outpost_core::schema::{Collection, FieldError, validate_fields};
use outpost_core::uic::{self, Script, UicComponent, UicScheme};
use outpost_core::{DeviceId, SiteId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt::Debug;

/// The protocol document: every error code a decoder or validator reports must be listed in it.
pub(crate) const PROTOCOL_DOC: &str = include_str!("../../docs/protocol.md");

/// What an oracle concluded about an input it found no fault with.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The decoder accepted the input; the text names the shape of what came out.
    Accepted(String),
    /// The decoder refused the input; the text names the kind of refusal.
    Rejected(String),
}

/// An oracle: `Err` is a fault in the code under test (or a broken promise), never a refusal.
pub type Oracle = fn(&[u8]) -> Result<Outcome, String>;

pub(crate) fn clip_text(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// An input as it can be shown in a message.
pub(crate) fn show(input: &[u8]) -> String {
    format!("{:?}", clip_text(&String::from_utf8_lossy(input), 300))
}

pub(crate) fn show_debug<T: Debug>(value: &T) -> String {
    clip_text(&format!("{value:?}"), 300)
}

/// The kind of a decoder's refusal, without the parts that vary with the input.
pub(crate) fn rejection(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or("");
    let keep_name = text.starts_with("missing field") || text.starts_with("duplicate field");
    let kind: String = if keep_name {
        text.to_string()
    } else {
        text.chars().take_while(|c| !matches!(c, '`' | '"' | ',' | '0'..='9')).collect()
    };
    format!("{:?}: {}", e.classify(), clip_text(kind.trim(), 80))
}

/// The first place where two values differ, as `path: a became b`.
pub(crate) fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}.{k}: disappeared")),
                }
            }
            y.keys().find(|k| !x.contains_key(*k)).map(|k| format!("{path}.{k}: appeared"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!(
            "{}: {} became {}",
            if path.is_empty() { "$" } else { path },
            clip_text(&a.to_string(), 120),
            clip_text(&b.to_string(), 120)
        )),
    }
}

pub(crate) fn difference<T: Serialize>(a: &T, b: &T) -> String {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(x), Ok(y)) => first_difference(&x, &y, "").unwrap_or_else(|| "no visible difference".into()),
        _ => "values that do not encode".into(),
    }
}

/// Whether a message type refuses keys it does not know (`deny_unknown_fields`) or skips them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnknownKeys {
    Refused,
    Skipped,
}

/// Refusals of the `Value` decoder that a typed decoder skipping unknown keys does not make:
/// serde_json skips an unknown key's value without checking its UTF-8, surrogate pairs, depth or
/// number range (`Deserializer::ignore_value`). Harmless: the skipped content is never used.
pub(crate) const UNCHECKED_WHEN_SKIPPED: &[&str] = &[
    "invalid unicode code point",
    "lone leading surrogate in hex escape",
    "unexpected end of hex escape",
    "recursion limit exceeded",
    "number out of range",
];

/// Decodes as the server and the device do (`serde_json::from_slice`), then demands: the value
/// re-encodes, the encoding decodes to an equal value and re-encodes identically, and decoding
/// through `serde_json::Value` (as the frozen-fixture test does) accepts it with the same result
/// (for a type that skips unknown keys, unless the refusal is about content it skipped; the
/// `Value` returned is then null). `Ok(Err(kind))` is a refusal; `Err` a fault.
pub(crate) fn wire<T>(input: &[u8], unknown: UnknownKeys) -> Result<Result<(T, Value), String>, String>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let decoded: T = match serde_json::from_slice(input) {
        Ok(v) => v,
        Err(e) => return Ok(Err(rejection(&e))),
    };
    let encoded = serde_json::to_vec(&decoded).map_err(|e| format!("a decoded value does not encode: {e}"))?;
    let again: T = serde_json::from_slice(&encoded).map_err(|e| {
        format!("a re-encoded value does not decode: {e}; input {}, encoded {}", show(input), show(&encoded))
    })?;
    if again != decoded {
        return Err(format!(
            "a round trip changed the value: at {}; input {}",
            difference(&decoded, &again),
            show(input)
        ));
    }
    let encoded_again = serde_json::to_vec(&again).map_err(|e| format!("a decoded value does not encode: {e}"))?;
    if encoded_again != encoded {
        return Err(format!("the encoding is not stable: {} then {}", show(&encoded), show(&encoded_again)));
    }
    let value: Value = match serde_json::from_slice(input) {
        Ok(value) => value,
        Err(e)
            if unknown == UnknownKeys::Skipped
                && UNCHECKED_WHEN_SKIPPED.iter().any(|m| e.to_string().starts_with(m)) =>
        {
            return Ok(Ok((decoded, Value::Null)));
        }
        Err(e) => {
            return Err(format!(
                "decoders disagree: the typed decoder accepts what the Value decoder refuses ({e}); input {}",
                show(input)
            ));
        }
    };
    let via_value: T = serde_json::from_value(value.clone()).map_err(|e| {
        format!(
            "decoders disagree: decoding through Value refuses what from_slice accepts ({e}); input {}",
            show(input)
        )
    })?;
    if via_value != decoded {
        return Err(format!(
            "decoders disagree: decoding through Value gives another value at {}; input {}",
            difference(&decoded, &via_value),
            show(input)
        ));
    }
    Ok(Ok((decoded, value)))
}

/// `deny_unknown_fields` holds: an accepted object carries only the listed keys.
pub(crate) fn only_keys(value: &Value, allowed: &[&str], what: &str) -> Result<(), String> {
    match value.as_object().and_then(|m| m.keys().find(|k| !allowed.contains(&k.as_str()))) {
        Some(key) => Err(format!("deny_unknown_fields does not hold: {what} accepted the unknown key {key:?}")),
        None => Ok(()),
    }
}

pub(crate) fn documented(code: &str) -> bool {
    PROTOCOL_DOC.contains(&format!("`{code}`"))
}

pub(crate) fn fixture_device() -> DeviceId {
    DeviceId(uuid::Uuid::from_u128(0x0192f1a27c3d7e4f8a5b6c7d8e9f0a1b))
}

pub(crate) fn fixture_site() -> SiteId {
    SiteId(uuid::Uuid::from_u128(0x0192f1a011117abc9def000000000001))
}

/// The schemes a code is checked against: the built-in ones, and the default one keeping
/// Cyrillic (a supported configuration a server may send).
pub(crate) fn schemes() -> [UicScheme; 4] {
    let keep = UicScheme {
        name: "central_asia_keep_cyrillic".into(),
        script: Script::KeepCyrillic,
        ..UicScheme::central_asia()
    };
    [UicScheme::central_asia(), UicScheme::surname_day_year(), UicScheme::gender_letters_year(), keep]
}

pub(crate) fn component_len(component: &UicComponent) -> usize {
    match component {
        UicComponent::Letters { count, .. } => usize::from(*count),
        UicComponent::SexDigit { .. } => 1,
        UicComponent::BirthYear { digits, .. } => usize::from(*digits),
        UicComponent::BirthDay { .. } => 2,
    }
}

/// The documented character classes of a code, stated independently of `uic.rs`.
pub(crate) fn allowed_in_code(component: &UicComponent, c: char, script: Script) -> bool {
    match component {
        UicComponent::Letters { .. } => {
            c == uic::MISSING
                || c.is_ascii_uppercase()
                || (script == Script::KeepCyrillic && ('\u{0400}'..='\u{04FF}').contains(&c) && c.is_uppercase())
        }
        UicComponent::SexDigit { .. } => matches!(c, '1' | '2' | '3' | 'X'),
        UicComponent::BirthYear { .. } | UicComponent::BirthDay { .. } => c.is_ascii_digit() || c == uic::MISSING,
    }
}

/// The class each position of a scheme's code must be in.
pub(crate) fn positions(scheme: &UicScheme) -> Vec<&UicComponent> {
    scheme.components.iter().flat_map(|c| std::iter::repeat_n(c, component_len(c))).collect()
}

/// Runs `validate_fields` and checks its answer: errors only with documented codes, a message,
/// and a field that was sent or is required (`*` only for too many fields).
pub(crate) fn checked_validation(
    collection: Collection,
    fields: &Map<String, Value>,
    create: bool,
    scheme: &UicScheme,
) -> Result<Result<(), Vec<FieldError>>, String> {
    let result = validate_fields(collection, fields, create, scheme);
    if let Err(errors) = &result {
        if errors.is_empty() {
            return Err(format!("validate_fields refused without saying why ({collection}, create {create})"));
        }
        for e in errors {
            if !documented(e.code) {
                return Err(format!(
                    "an undocumented validation code: {:?} for field {:?} ({collection})",
                    e.code, e.field
                ));
            }
            let required = collection.fields().iter().any(|s| s.name == e.field && s.required);
            let named = (e.field == "*" && e.code == "too_many_fields" && errors.len() == 1)
                || (e.code != "too_many_fields" && fields.contains_key(&e.field))
                || (e.code == "required" && required);
            if !named || e.message.is_empty() {
                return Err(format!(
                    "a validation error names a field that was neither sent nor required: {e:?} ({collection}, create {create})"
                ));
            }
        }
    }
    Ok(result)
}

pub(crate) fn codes(result: &Result<(), Vec<FieldError>>) -> BTreeSet<&'static str> {
    match result {
        Ok(()) => BTreeSet::new(),
        Err(errors) => errors.iter().map(|e| e.code).collect(),
    }
}

/// Text with a control character other than newline and tab, anywhere in keys or values.
pub(crate) fn has_control_characters(value: &Value) -> bool {
    let bad = |s: &str| s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    match value {
        Value::String(s) => bad(s),
        Value::Array(items) => items.iter().any(has_control_characters),
        Value::Object(map) => map.iter().any(|(k, v)| bad(k) || has_control_characters(v)),
        _ => false,
    }
}

/// A record state as the server stores it (JSON text) and reads it back.
pub(crate) fn stored(state: &RecordState) -> Result<RecordState, String> {
    let text = serde_json::to_string(state).map_err(|e| format!("a record state does not encode: {e}"))?;
    let back: RecordState =
        serde_json::from_str(&text).map_err(|e| format!("a stored record state does not decode: {e}; {text:?}"))?;
    if back != *state {
        return Err(format!("a stored record state changes when read back: at {}", difference(state, &back)));
    }
    Ok(back)
}

/// Reads plain field values as the collection's typed record (`DeviceStore::get_typed`).
pub(crate) fn typed_view(collection: Collection, fields: &Map<String, Value>) -> Result<(), String> {
    fn read<T: DeserializeOwned>(value: Value, type_name: &str) -> Result<(), String> {
        serde_json::from_value::<T>(value).map(|_| ()).map_err(|e| format!("records::{type_name}: {e}"))
    }
    let value = Value::Object(fields.clone());
    match collection {
        Collection::Clients => read::<Client>(value, "Client"),
        Collection::Contacts => read::<Contact>(value, "Contact"),
        Collection::DistributionLines => read::<DistributionLine>(value, "DistributionLine"),
        Collection::SharpsReturns => read::<SharpsReturn>(value, "SharpsReturn"),
        Collection::Referrals => read::<Referral>(value, "Referral"),
        Collection::TestResults => read::<TestResult>(value, "TestResult"),
        Collection::OverdoseReports => read::<OverdoseReport>(value, "OverdoseReport"),
        Collection::GroupTallies => read::<GroupTally>(value, "GroupTally"),
        Collection::StockMovements => read::<StockMovement>(value, "StockMovement"),
        Collection::SurveyResponses => read::<SurveyResponse>(value, "SurveyResponse"),
        Collection::ClientMerges => read::<ClientMerge>(value, "ClientMerge"),
        Collection::Sites => read::<Site>(value, "Site"),
        Collection::Commodities => read::<Commodity>(value, "Commodity"),
        Collection::KitTemplates => read::<KitTemplate>(value, "KitTemplate"),
        Collection::Forms => read::<PublishedForm>(value, "PublishedForm"),
    }
}
