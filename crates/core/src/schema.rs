//! Collections and the validation of their fields.
//!
//! Each collection declares its fields, their kinds and limits, and whether its records may be
//! edited (last writer wins per field) or are append-only events. Fields a peer does not know
//! are accepted within size limits and preserved, so a newer app's data survives an older
//! server; a known field of the wrong type is refused with a specific error.

use crate::records::{
    AgeBand, CommodityCategory, FormStatus, Gender, KeyGroup, OverdoseOutcome, ReferralStatus, ReferralTarget, Service,
    Setting, StockKind, TestKind, TestOutcome,
};
use crate::uic::UicScheme;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// Largest number of fields in one change.
pub const MAX_FIELDS: usize = 64;
/// Largest serialised size of one field value a peer does not know about.
pub const MAX_UNKNOWN_FIELD_BYTES: usize = 4096;
/// Largest free-text note. Notes warn against names in the app.
pub const MAX_NOTE_CHARS: usize = 2000;

/// How records of a collection change over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Fields are edited in place; concurrent edits resolve per field by last writer.
    Mutable,
    /// Events: written once, corrected only by a new (reversal) record.
    AppendOnly,
    /// Reference data authored on the server; devices only read it.
    Reference,
}

macro_rules! collections {
    ($($variant:ident = $name:literal, $mutability:ident, $fields:ident;)+) => {
        /// Every synchronised collection.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Collection { $($variant),+ }

        impl Collection {
            /// Every collection, in a fixed order.
            pub const ALL: &'static [Collection] = &[$(Collection::$variant),+];

            /// The wire name.
            pub fn name(self) -> &'static str {
                match self { $(Collection::$variant => $name),+ }
            }

            /// Looks up a collection by its wire name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(Collection::$variant),)+ _ => None }
            }

            /// Whether records are editable, append-only or reference data.
            pub fn mutability(self) -> Mutability {
                match self { $(Collection::$variant => Mutability::$mutability),+ }
            }

            /// The declared fields.
            pub fn fields(self) -> &'static [FieldSpec] {
                match self { $(Collection::$variant => $fields),+ }
            }
        }
    };
}

collections! {
    Clients = "clients", Mutable, CLIENT;
    Contacts = "contacts", Mutable, CONTACT;
    DistributionLines = "distribution_lines", AppendOnly, DISTRIBUTION_LINE;
    SharpsReturns = "sharps_returns", AppendOnly, SHARPS_RETURN;
    Referrals = "referrals", Mutable, REFERRAL;
    TestResults = "test_results", Mutable, TEST_RESULT;
    OverdoseReports = "overdose_reports", Mutable, OVERDOSE_REPORT;
    GroupTallies = "group_tallies", AppendOnly, GROUP_TALLY;
    StockMovements = "stock_movements", AppendOnly, STOCK_MOVEMENT;
    SurveyResponses = "survey_responses", AppendOnly, SURVEY_RESPONSE;
    ClientMerges = "client_merges", AppendOnly, CLIENT_MERGE;
    Sites = "sites", Reference, SITE;
    Commodities = "commodities", Reference, COMMODITY;
    KitTemplates = "kit_templates", Reference, KIT_TEMPLATE;
    Forms = "forms", Reference, FORM;
}

impl Collection {
    /// Whether tablets may write records of this collection. Reference data is authored on the
    /// server; client merges are a coordinator's decision, made in the dashboard (a tablet sees
    /// one site's clients and could not judge), though tablets pull them like any record.
    pub fn written_by_devices(self) -> bool {
        self.mutability() != Mutability::Reference && self != Collection::ClientMerges
    }
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub enum FieldKind {
    /// A record id (UUID).
    Id,
    /// Free text up to a number of characters.
    Text(usize),
    /// A short machine code such as a commodity code: `[a-z0-9_]{1,64}`.
    Code,
    /// One value out of a list.
    Enum(&'static [&'static str]),
    /// A list of distinct values out of a list.
    EnumList(&'static [&'static str]),
    /// An integer in a closed range.
    Int { min: i64, max: i64 },
    /// True or false.
    Bool,
    /// An RFC 3339 date-time between 2000 and 2100.
    Timestamp,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// A client code matching the organisation's scheme.
    Uic,
    /// A list of `{gender, age_band, count}` cells.
    TallyCells,
    /// A list of `{commodity, quantity}` items.
    CommodityItems,
    /// Survey answers: question name → text, number, list of choice names, or null.
    Answers,
    /// A form's definition (`forms::Form`), which must compile.
    FormDefinition,
    /// Answers to a programme's contact questions, per form:
    /// `{"<form id>": {"version": n, "answers": Answers}}`.
    FormAnswers,
    /// A text per language: `{"ru": "...", "uk": "..."}`, each non-empty and at most this many
    /// characters, language codes as `ru`, `uk`, `sr-Latn`.
    Texts(usize),
    /// Whole numbers from 0 to a maximum, keyed by values of a list: `{"sex_work": 900}`.
    CountsBy(&'static [&'static str], i64),
    /// Whole numbers from 0 to a maximum, keyed by record id (a site's threshold).
    CountsById(i64),
}

/// One declared field.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    /// Must be present (and not null) when the record is created.
    pub required: bool,
}

const fn req(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, kind, required: true }
}
const fn opt(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, kind, required: false }
}

use FieldKind as K;

const CLIENT: &[FieldSpec] = &[
    req("uic", K::Uic),
    req("gender", K::Enum(Gender::ALL)),
    opt("birth_year", K::Int { min: 1900, max: 2100 }),
    opt("key_groups", K::EnumList(KeyGroup::ALL)),
    opt("first_seen_site", K::Id),
    opt("first_seen_at", K::Timestamp),
    opt("merged_into", K::Id),
];
const CONTACT: &[FieldSpec] = &[
    opt("client_id", K::Id),
    opt("worker_id", K::Id),
    req("setting", K::Enum(Setting::ALL)),
    req("occurred_at", K::Timestamp),
    opt("services", K::EnumList(Service::ALL)),
    opt("collecting_for", K::Int { min: 0, max: 100 }),
    opt("note", K::Text(MAX_NOTE_CHARS)),
    opt("form_answers", K::FormAnswers),
];
const DISTRIBUTION_LINE: &[FieldSpec] = &[
    req("contact_id", K::Id),
    req("commodity", K::Code),
    req("quantity", K::Int { min: 1, max: 10_000 }),
    opt("reverses", K::Id),
];
const SHARPS_RETURN: &[FieldSpec] = &[req("contact_id", K::Id), req("count", K::Int { min: 0, max: 100_000 })];
const REFERRAL: &[FieldSpec] = &[
    req("contact_id", K::Id),
    opt("client_id", K::Id),
    req("target", K::Enum(ReferralTarget::ALL)),
    req("status", K::Enum(ReferralStatus::ALL)),
    req("status_at", K::Timestamp),
];
const TEST_RESULT: &[FieldSpec] = &[
    req("contact_id", K::Id),
    opt("client_id", K::Id),
    req("test", K::Enum(TestKind::ALL)),
    req("result", K::Enum(TestOutcome::ALL)),
    opt("linked_to_care", K::Bool),
    opt("linked_at", K::Timestamp),
];
const OVERDOSE_REPORT: &[FieldSpec] = &[
    req("contact_id", K::Id),
    req("naloxone_doses", K::Int { min: 0, max: 50 }),
    req("emergency_called", K::Bool),
    req("stayed_with_person", K::Bool),
    req("outcome", K::Enum(OverdoseOutcome::ALL)),
];
const GROUP_TALLY: &[FieldSpec] = &[
    req("setting", K::Enum(Setting::ALL)),
    opt("event_name", K::Text(200)),
    req("occurred_at", K::Timestamp),
    req("people", K::TallyCells),
    opt("items", K::CommodityItems),
];
const STOCK_MOVEMENT: &[FieldSpec] = &[
    req("commodity", K::Code),
    req("quantity", K::Int { min: -1_000_000, max: 1_000_000 }),
    req("kind", K::Enum(StockKind::ALL)),
    opt("bag", K::Text(100)),
    opt("grant_code", K::Text(100)),
    opt("batch", K::Text(100)),
    opt("expiry_date", K::Date),
    req("occurred_at", K::Timestamp),
];
const SURVEY_RESPONSE: &[FieldSpec] = &[
    req("survey_id", K::Code),
    req("survey_version", K::Int { min: 1, max: 10_000 }),
    req("occurred_at", K::Timestamp),
    req("answers", K::Answers),
];
const CLIENT_MERGE: &[FieldSpec] = &[req("from_client", K::Id), req("into_client", K::Id), opt("undoes", K::Id)];
/// The largest population estimate a site may give (a denominator of coverage indicators).
pub const MAX_ESTIMATE: i64 = 10_000_000;
/// The largest stock threshold.
pub const MAX_THRESHOLD: i64 = 10_000_000;
/// The longest name of a site, commodity or kit.
pub const MAX_NAME_CHARS: usize = 200;

const SITE: &[FieldSpec] = &[
    req("name", K::Text(MAX_NAME_CHARS)),
    opt("pwid_estimate", K::Int { min: 0, max: MAX_ESTIMATE }),
    opt("population_estimates", K::CountsBy(KeyGroup::ALL, MAX_ESTIMATE)),
    opt("retired", K::Bool),
];
const COMMODITY: &[FieldSpec] = &[
    req("code", K::Code),
    req("name", K::Text(200)),
    req("category", K::Enum(CommodityCategory::ALL)),
    req("unit", K::Text(50)),
    req("units_per_pack", K::Int { min: 1, max: 100_000 }),
    req("counts_as_needle_syringe", K::Bool),
    opt("low_stock_threshold", K::Int { min: 0, max: MAX_THRESHOLD }),
    opt("names", K::Texts(MAX_NAME_CHARS)),
    opt("site_thresholds", K::CountsById(MAX_THRESHOLD)),
    opt("order", K::Int { min: 0, max: 1_000_000 }),
    opt("retired", K::Bool),
];
const KIT_TEMPLATE: &[FieldSpec] = &[
    req("code", K::Code),
    req("name", K::Text(MAX_NAME_CHARS)),
    req("items", K::CommodityItems),
    opt("names", K::Texts(MAX_NAME_CHARS)),
    opt("key_groups", K::EnumList(KeyGroup::ALL)),
    opt("settings", K::EnumList(Setting::ALL)),
    opt("order", K::Int { min: 0, max: 1_000_000 }),
    opt("retired", K::Bool),
];
const FORM: &[FieldSpec] = &[
    req("form_id", K::Code),
    req("version", K::Int { min: 1, max: 10_000 }),
    req("definition", K::FormDefinition),
    req("status", K::Enum(FormStatus::ALL)),
    req("published_at", K::Timestamp),
    opt("source_version", K::Text(100)),
];

/// One problem with one field, with a machine-readable code and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), code, message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Checks the fields of a create or an update against the collection's declaration.
///
/// `create` demands every required field. Unknown fields are accepted when their name is a
/// plain identifier and their value small. All problems are reported, not only the first.
pub fn validate_fields(
    collection: Collection,
    fields: &Map<String, Value>,
    create: bool,
    scheme: &UicScheme,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if fields.len() > MAX_FIELDS {
        errors.push(FieldError::new(
            "*",
            "too_many_fields",
            format!("a change may carry at most {MAX_FIELDS} fields, got {}", fields.len()),
        ));
        return Err(errors);
    }
    let specs = collection.fields();
    if create {
        for spec in specs.iter().filter(|s| s.required) {
            if fields.get(spec.name).is_none_or(Value::is_null) {
                errors.push(FieldError::new(spec.name, "required", "this field is required"));
            }
        }
    }
    for (name, value) in fields {
        if has_control_characters(value) {
            errors.push(FieldError::new(name, "control_characters", "text may not contain control characters"));
            continue;
        }
        match specs.iter().find(|s| s.name == name) {
            Some(spec) => {
                if value.is_null() {
                    if spec.required {
                        errors.push(FieldError::new(name, "required", "this field cannot be cleared"));
                    }
                } else if let Err(e) = check_value(name, spec.kind, value, scheme) {
                    errors.push(e);
                }
            }
            None => {
                if !is_identifier(name) {
                    errors.push(FieldError::new(
                        name,
                        "bad_field_name",
                        "field names are lower-case letters, digits and underscores, at most 64",
                    ));
                } else if value.to_string().len() > MAX_UNKNOWN_FIELD_BYTES {
                    errors.push(FieldError::new(
                        name,
                        "too_large",
                        format!("an unknown field may hold at most {MAX_UNKNOWN_FIELD_BYTES} bytes"),
                    ));
                }
            }
        }
    }
    if create && errors.is_empty() && collection == Collection::StockMovements {
        check_movement_sign(fields, &mut errors);
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// A stock movement's quantity says how much moved, its kind which way: every kind but a count
/// correction carries a positive quantity (a negative "lost" would add stock), and a count
/// correction a non-zero difference.
fn check_movement_sign(fields: &Map<String, Value>, errors: &mut Vec<FieldError>) {
    let kind = fields.get("kind").and_then(Value::as_str);
    let Some(quantity) = fields.get("quantity").and_then(Value::as_i64) else { return };
    if kind == Some(StockKind::CountCorrection.as_str()) {
        if quantity == 0 {
            errors.push(FieldError::new(
                "quantity",
                "out_of_range",
                "a count correction is the non-zero difference found",
            ));
        }
    } else if quantity < 1 {
        errors.push(FieldError::new(
            "quantity",
            "out_of_range",
            format!("a {} movement moves a positive quantity; the kind gives the direction", kind.unwrap_or("stock")),
        ));
    }
}

/// Whether any text inside the value holds a control character other than newline and tab
/// (NUL cannot even be stored by PostgreSQL's `jsonb`).
fn has_control_characters(value: &Value) -> bool {
    match value {
        Value::String(s) => s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
        Value::Array(items) => items.iter().any(has_control_characters),
        Value::Object(map) => map.iter().any(|(k, v)| k.chars().any(char::is_control) || has_control_characters(v)),
        _ => false,
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Most answers in one survey response.
pub const MAX_ANSWERS: usize = 500;

fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn type_error(name: &str, expected: &str) -> FieldError {
    FieldError::new(name, "wrong_type", format!("expected {expected}"))
}

fn check_value(name: &str, kind: FieldKind, value: &Value, scheme: &UicScheme) -> Result<(), FieldError> {
    match kind {
        K::Id => {
            let text = value.as_str().ok_or_else(|| type_error(name, "a UUID string"))?;
            // Only the canonical lower-case hyphenated form: ids are compared as text.
            match uuid::Uuid::parse_str(text) {
                Ok(id) if id.hyphenated().to_string() == text => Ok(()),
                _ => {
                    Err(FieldError::new(name, "invalid_uuid", format!("{text:?} is not a lower-case hyphenated UUID")))
                }
            }
        }
        K::Text(max) => {
            let text = value.as_str().ok_or_else(|| type_error(name, "text"))?;
            let len = text.chars().count();
            if len > max {
                return Err(FieldError::new(name, "too_long", format!("at most {max} characters, got {len}")));
            }
            if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err(FieldError::new(name, "control_characters", "text may not contain control characters"));
            }
            Ok(())
        }
        K::Code => {
            let text = value.as_str().ok_or_else(|| type_error(name, "a code"))?;
            if is_code(text) {
                Ok(())
            } else {
                Err(FieldError::new(name, "invalid_code", "codes are 1-64 lower-case letters, digits or underscores"))
            }
        }
        K::Enum(allowed) => {
            let text = value.as_str().ok_or_else(|| type_error(name, "text"))?;
            check_member(name, text, allowed)
        }
        K::EnumList(allowed) => {
            let items = value.as_array().ok_or_else(|| type_error(name, "a list"))?;
            let mut seen = Vec::new();
            for item in items {
                let text = item.as_str().ok_or_else(|| type_error(name, "a list of texts"))?;
                check_member(name, text, allowed)?;
                if seen.contains(&text) {
                    return Err(FieldError::new(name, "duplicate", format!("{text:?} is listed twice")));
                }
                seen.push(text);
            }
            Ok(())
        }
        K::Int { min, max } => check_int(name, value, min, max),
        K::Bool => value.as_bool().map(|_| ()).ok_or_else(|| type_error(name, "true or false")),
        K::Timestamp => {
            let text = value.as_str().ok_or_else(|| type_error(name, "an RFC 3339 date-time"))?;
            let at =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
                    FieldError::new(name, "invalid_timestamp", format!("{text:?} is not an RFC 3339 date-time"))
                })?;
            if !(2000..=2100).contains(&at.year()) {
                return Err(FieldError::new(name, "out_of_range", "the date must be between 2000 and 2100"));
            }
            Ok(())
        }
        K::Date => {
            let text = value.as_str().ok_or_else(|| type_error(name, "a date YYYY-MM-DD"))?;
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(text, format)
                .map(|_| ())
                .map_err(|_| FieldError::new(name, "invalid_date", format!("{text:?} is not a date YYYY-MM-DD")))
        }
        K::Uic => {
            let text = value.as_str().ok_or_else(|| type_error(name, "a client code"))?;
            scheme.parse(text).map(|_| ()).map_err(|e| FieldError::new(name, "invalid_uic", e.to_string()))
        }
        K::TallyCells => {
            let cells = value.as_array().ok_or_else(|| type_error(name, "a list of cells"))?;
            if cells.is_empty() || cells.len() > 64 {
                return Err(FieldError::new(name, "out_of_range", "a tally has 1 to 64 cells"));
            }
            for cell in cells {
                let cell = cell.as_object().ok_or_else(|| type_error(name, "cells {gender, age_band, count}"))?;
                check_keys(name, cell, &["gender", "age_band", "count"])?;
                check_member(name, cell.get("gender").and_then(Value::as_str).unwrap_or(""), Gender::ALL)?;
                check_member(name, cell.get("age_band").and_then(Value::as_str).unwrap_or(""), AgeBand::ALL)?;
                check_int(name, cell.get("count").unwrap_or(&Value::Null), 1, 100_000)?;
            }
            Ok(())
        }
        K::CommodityItems => {
            let items = value.as_array().ok_or_else(|| type_error(name, "a list of items"))?;
            if items.len() > 64 {
                return Err(FieldError::new(name, "out_of_range", "at most 64 items"));
            }
            for item in items {
                let item = item.as_object().ok_or_else(|| type_error(name, "items {commodity, quantity}"))?;
                check_keys(name, item, &["commodity", "quantity"])?;
                if !item.get("commodity").and_then(Value::as_str).is_some_and(is_code) {
                    return Err(FieldError::new(name, "invalid_code", "each item needs a commodity code"));
                }
                check_int(name, item.get("quantity").unwrap_or(&Value::Null), 1, 100_000)?;
            }
            Ok(())
        }
        K::FormDefinition => {
            let form: crate::forms::Form = serde_json::from_value(value.clone())
                .map_err(|e| FieldError::new(name, "invalid_form", format!("not a form definition: {e}")))?;
            crate::forms::CompiledForm::compile(form).map(|_| ()).map_err(|errors| {
                let first = errors.first().map_or_else(String::new, ToString::to_string);
                FieldError::new(
                    name,
                    "invalid_form",
                    format!("the form has {} problem(s), the first: {first}", errors.len()),
                )
            })
        }
        K::Answers => check_answers(name, value),
        K::Texts(max) => {
            let texts = value.as_object().ok_or_else(|| type_error(name, "an object of texts by language"))?;
            if texts.len() > MAX_LANGUAGES {
                return Err(FieldError::new(name, "out_of_range", format!("at most {MAX_LANGUAGES} languages")));
            }
            for (language, text) in texts {
                if !is_language(language) {
                    return Err(FieldError::new(
                        name,
                        "invalid_language",
                        format!("{language:?} is not a language code such as ru, uk or sr-Latn"),
                    ));
                }
                let text = text.as_str().ok_or_else(|| type_error(name, "texts"))?;
                let len = text.chars().count();
                if text.trim().is_empty() || len > max {
                    return Err(FieldError::new(
                        name,
                        "out_of_range",
                        format!("the {language} text must have 1 to {max} characters, got {len}"),
                    ));
                }
            }
            Ok(())
        }
        K::CountsBy(keys, max) => {
            let counts = value.as_object().ok_or_else(|| type_error(name, "an object of whole numbers"))?;
            for (key, count) in counts {
                check_member(name, key, keys)?;
                check_int(&format!("{name}.{key}"), count, 0, max)?;
            }
            Ok(())
        }
        K::CountsById(max) => {
            let counts = value.as_object().ok_or_else(|| type_error(name, "an object of whole numbers by id"))?;
            if counts.len() > 10_000 {
                return Err(FieldError::new(name, "out_of_range", "at most 10000 entries"));
            }
            for (key, count) in counts {
                check_value(name, K::Id, &Value::String(key.clone()), scheme)?;
                check_int(&format!("{name}.{key}"), count, 0, max)?;
            }
            Ok(())
        }
        K::FormAnswers => {
            let forms = value.as_object().ok_or_else(|| type_error(name, "an object of answers per form"))?;
            if forms.len() > MAX_FORMS_PER_RECORD {
                return Err(FieldError::new(name, "out_of_range", format!("at most {MAX_FORMS_PER_RECORD} forms")));
            }
            for (form, entry) in forms {
                if !is_code(form) {
                    return Err(FieldError::new(name, "invalid_code", format!("{form:?} is not a form id")));
                }
                let entry = entry
                    .as_object()
                    .ok_or_else(|| type_error(name, "{\"version\": n, \"answers\": {...}} per form"))?;
                if let Some(extra) = entry.keys().find(|k| *k != "version" && *k != "answers") {
                    return Err(FieldError::new(name, "unknown_key", format!("{form}: unknown key {extra:?}")));
                }
                let version = entry.get("version").unwrap_or(&Value::Null);
                check_int(&format!("{name}.{form}.version"), version, 1, 1_000_000)?;
                check_answers(&format!("{name}.{form}.answers"), entry.get("answers").unwrap_or(&Value::Null))?;
            }
            Ok(())
        }
    }
}

/// Most languages a translated name carries.
pub const MAX_LANGUAGES: usize = 20;

/// A language code: two or three lower-case letters, optionally a script or region (`sr-Latn`,
/// `pt-BR`).
pub fn is_language(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && code.len() <= 16
}

/// Most forms whose answers one record carries.
pub const MAX_FORMS_PER_RECORD: usize = 10;

/// Answers to a form: question name → text, number, list of choice names, or null.
fn check_answers(name: &str, value: &Value) -> Result<(), FieldError> {
    let answers = value.as_object().ok_or_else(|| type_error(name, "an object of answers"))?;
    if answers.len() > MAX_ANSWERS {
        return Err(FieldError::new(name, "out_of_range", format!("at most {MAX_ANSWERS} answers")));
    }
    for (question, answer) in answers {
        if !crate::forms::expr::valid_name(question) {
            return Err(FieldError::new(name, "invalid_code", format!("{question:?} is not a question name")));
        }
        let choice = |c: &str| {
            !c.is_empty() && c.chars().count() <= 64 && !c.chars().any(|ch| ch.is_whitespace() || ch.is_control())
        };
        let ok = match answer {
            Value::Null | Value::Number(_) => true,
            Value::String(s) => s.chars().count() <= MAX_NOTE_CHARS,
            Value::Array(items) => items.len() <= 200 && items.iter().all(|i| i.as_str().is_some_and(choice)),
            _ => false,
        };
        if !ok {
            return Err(FieldError::new(
                name,
                "wrong_type",
                format!("answer to {question:?} must be text, a number, a list of codes or null"),
            ));
        }
    }
    Ok(())
}

fn check_member(name: &str, text: &str, allowed: &[&str]) -> Result<(), FieldError> {
    if allowed.contains(&text) {
        Ok(())
    } else {
        Err(FieldError::new(name, "not_allowed", format!("{text:?} is not one of {}", allowed.join(", "))))
    }
}

fn check_int(name: &str, value: &Value, min: i64, max: i64) -> Result<(), FieldError> {
    let n = value.as_i64().ok_or_else(|| type_error(name, "a whole number"))?;
    if n < min || n > max {
        return Err(FieldError::new(name, "out_of_range", format!("must be between {min} and {max}, got {n}")));
    }
    Ok(())
}

fn check_keys(name: &str, object: &Map<String, Value>, allowed: &[&str]) -> Result<(), FieldError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(extra) => Err(FieldError::new(name, "unknown_key", format!("unexpected key {extra:?}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(collection: Collection, fields: Value, create: bool) -> Result<(), Vec<(String, &'static str)>> {
        let map = fields.as_object().cloned().unwrap_or_default();
        validate_fields(collection, &map, create, &UicScheme::central_asia())
            .map_err(|errors| errors.into_iter().map(|e| (e.field, e.code)).collect())
    }

    fn err(field: &str, code: &'static str) -> Result<(), Vec<(String, &'static str)>> {
        Err(vec![(field.to_string(), code)])
    }

    const CONTACT_ID: &str = "0190a0b0-0000-7000-8000-000000000001";

    #[test]
    fn validation_table() {
        use Collection as C;
        let ok = Ok(());
        let cases = vec![
            (C::Clients, json!({"uic": "MAIV287", "gender": "woman", "birth_year": 1987}), true, ok.clone()),
            (C::Clients, json!({"uic": "maiv287", "gender": "woman"}), true, err("uic", "invalid_uic")),
            (C::Clients, json!({"gender": "woman"}), true, err("uic", "required")),
            (C::Clients, json!({"gender": "woman"}), false, ok.clone()),
            (C::Clients, json!({"uic": null}), false, err("uic", "required")),
            (C::Clients, json!({"gender": "robot"}), false, err("gender", "not_allowed")),
            (C::Clients, json!({"birth_year": "1987"}), false, err("birth_year", "wrong_type")),
            (C::Clients, json!({"birth_year": 1850}), false, err("birth_year", "out_of_range")),
            (C::Clients, json!({"key_groups": ["msm", "msm"]}), false, err("key_groups", "duplicate")),
            (C::Clients, json!({"first_seen_site": "not-a-uuid"}), false, err("first_seen_site", "invalid_uuid")),
            (C::Clients, json!({"future_field": {"a": 1}}), false, ok.clone()),
            (C::Clients, json!({"Bad-Name": 1}), false, err("Bad-Name", "bad_field_name")),
            (C::Clients, json!({"big": "x".repeat(5000)}), false, err("big", "too_large")),
            (
                C::Contacts,
                json!({"setting": "street_outreach", "occurred_at": "2026-11-25T10:00:00Z"}),
                true,
                ok.clone(),
            ),
            (
                C::Contacts,
                json!({"setting": "street_outreach", "occurred_at": "yesterday"}),
                true,
                err("occurred_at", "invalid_timestamp"),
            ),
            (C::Contacts, json!({"occurred_at": "3026-11-25T10:00:00Z"}), false, err("occurred_at", "out_of_range")),
            (C::Contacts, json!({"note": "a\u{0007}b"}), false, err("note", "control_characters")),
            (C::SurveyResponses, json!({"answers": {"q8": "a\u{0000}b"}}), false, err("answers", "control_characters")),
            (C::Clients, json!({"future": ["x\u{0000}"]}), false, err("future", "control_characters")),
            (
                C::Clients,
                json!({"first_seen_site": "0190A0B0-0000-7000-8000-000000000001"}),
                false,
                err("first_seen_site", "invalid_uuid"),
            ),
            (C::Contacts, json!({"note": "x".repeat(MAX_NOTE_CHARS + 1)}), false, err("note", "too_long")),
            (
                C::DistributionLines,
                json!({"contact_id": CONTACT_ID, "commodity": "syringe_1ml", "quantity": 10}),
                true,
                ok.clone(),
            ),
            (
                C::DistributionLines,
                json!({"contact_id": CONTACT_ID, "commodity": "syringe_1ml", "quantity": -3}),
                true,
                err("quantity", "out_of_range"),
            ),
            (
                C::DistributionLines,
                json!({"contact_id": CONTACT_ID, "commodity": "syringe_1ml", "quantity": 1e9}),
                true,
                err("quantity", "wrong_type"),
            ),
            (
                C::DistributionLines,
                json!({"contact_id": CONTACT_ID, "commodity": "Syringe 1ml", "quantity": 1}),
                true,
                err("commodity", "invalid_code"),
            ),
            (
                C::GroupTallies,
                json!({"setting": "nightlife", "occurred_at": "2026-07-01T22:00:00+02:00", "people": [{"gender": "man", "age_band": "20_24", "count": 14}]}),
                true,
                ok.clone(),
            ),
            (
                C::GroupTallies,
                json!({"setting": "nightlife", "occurred_at": "2026-07-01T22:00:00Z", "people": []}),
                true,
                err("people", "out_of_range"),
            ),
            (
                C::GroupTallies,
                json!({"people": [{"gender": "man", "age_band": "20_24", "count": 1, "uic": "MAIV287"}]}),
                false,
                err("people", "unknown_key"),
            ),
            (
                C::StockMovements,
                json!({"commodity": "naloxone_nasal", "quantity": 50, "kind": "received", "occurred_at": "2026-11-01T09:00:00Z", "expiry_date": "2028-02-30"}),
                true,
                err("expiry_date", "invalid_date"),
            ),
            (
                C::StockMovements,
                json!({"commodity": "syringe_1ml", "quantity": 100, "kind": "transfer_out", "occurred_at": "2026-11-01T09:00:00Z"}),
                true,
                ok.clone(),
            ),
            (
                C::StockMovements,
                json!({"commodity": "syringe_1ml", "quantity": -100, "kind": "lost", "occurred_at": "2026-11-01T09:00:00Z"}),
                true,
                err("quantity", "out_of_range"),
            ),
            (
                C::StockMovements,
                json!({"commodity": "syringe_1ml", "quantity": 0, "kind": "received", "occurred_at": "2026-11-01T09:00:00Z"}),
                true,
                err("quantity", "out_of_range"),
            ),
            (
                C::StockMovements,
                json!({"commodity": "syringe_1ml", "quantity": -3, "kind": "count_correction", "occurred_at": "2026-11-01T09:00:00Z"}),
                true,
                ok.clone(),
            ),
            (
                C::StockMovements,
                json!({"commodity": "syringe_1ml", "quantity": 0, "kind": "count_correction", "occurred_at": "2026-11-01T09:00:00Z"}),
                true,
                err("quantity", "out_of_range"),
            ),
            (
                C::SurveyResponses,
                json!({"survey_id": "cbm", "survey_version": 1, "occurred_at": "2026-11-01T09:00:00Z", "answers": {"q1": 5, "q2": ["hcv_treatment"], "q8": null}}),
                true,
                ok.clone(),
            ),
            (C::SurveyResponses, json!({"answers": {"q1": {"nested": true}}}), false, err("answers", "wrong_type")),
            // Contacts carry answers to contact questions, per form and version.
            (
                C::Contacts,
                json!({"form_answers": {"drug_use": {"version": 1, "answers": {"where_used": "street"}}}}),
                false,
                ok.clone(),
            ),
            (C::Contacts, json!({"form_answers": []}), false, err("form_answers", "wrong_type")),
            (
                C::Contacts,
                json!({"form_answers": {"Drug Use": {"version": 1, "answers": {}}}}),
                false,
                err("form_answers", "invalid_code"),
            ),
            (
                C::Contacts,
                json!({"form_answers": {"drug_use": {"version": 0, "answers": {}}}}),
                false,
                err("form_answers.drug_use.version", "out_of_range"),
            ),
            (
                C::Contacts,
                json!({"form_answers": {"drug_use": {"answers": {}}}}),
                false,
                err("form_answers.drug_use.version", "wrong_type"),
            ),
            (
                C::Contacts,
                json!({"form_answers": {"drug_use": {"version": 1, "answers": {}, "x": 1}}}),
                false,
                err("form_answers", "unknown_key"),
            ),
            (
                C::Contacts,
                json!({"form_answers": {"drug_use": {"version": 1, "answers": {"a": {"b": 1}}}}}),
                false,
                err("form_answers.drug_use.answers", "wrong_type"),
            ),
            (
                C::Contacts,
                json!({"form_answers": (0..11).map(|i| (format!("f{i}"), json!({"version": 1, "answers": {}}))).collect::<serde_json::Map<_, _>>()}),
                false,
                err("form_answers", "out_of_range"),
            ),
        ];
        for (collection, fields, create, expect) in cases {
            assert_eq!(check(collection, fields.clone(), create), expect, "{collection} {fields}");
        }
    }

    #[test]
    fn all_errors_are_reported() {
        let result = check(Collection::Clients, json!({"gender": 1, "birth_year": 3000}), true);
        assert_eq!(result.map_err(|e| e.len()), Err(3));
    }

    #[test]
    fn too_many_fields() {
        let fields: Map<String, Value> = (0..=MAX_FIELDS).map(|i| (format!("f{i}"), json!(i))).collect();
        assert_eq!(check(Collection::Clients, Value::Object(fields), false), err("*", "too_many_fields"));
    }

    #[test]
    fn collection_names_round_trip() {
        for c in Collection::ALL {
            assert_eq!(Collection::from_name(c.name()), Some(*c));
        }
        assert_eq!(Collection::from_name("people"), None);
    }
}
