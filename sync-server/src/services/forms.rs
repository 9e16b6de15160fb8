//! Forms uploaded by coordinators: an XLSForm workbook (`.xlsx`, or the old binary `.xls`) read
//! with `calamine` into the sheets that core's importer (`outpost_core::forms::xlsform`) reads.
//! A hostile file is refused before it costs memory: at most [`MAX_FILE_BYTES`] uploaded, and an
//! `.xlsx` (a zip archive) is first unpacked into nothing, counting, so that one unpacking to
//! more than [`MAX_UNPACKED_BYTES`] (a zip bomb) is refused before calamine reads it.
//!
//! Publishing stores the form as the next version of its id ([`publish`]); every survey
//! response a tablet pushes for a published form is checked against the version it names
//! ([`check_responses`]) with core's one check of answers.

use outpost_core::Collection;
use outpost_core::forms::xlsform::{self, Imported, Sheet};
use outpost_core::forms::{CompiledForm, FormError, FormKind, expr};
use outpost_core::wire::{ErrorDetail, Op, OpKind};
use outpost_core::{OrgId, RecordId};
use outpost_server_store::sync::DeviceAuth;
use outpost_server_store::{DbError, Store};
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::sync::Arc;

/// Largest workbook accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most bytes an `.xlsx` may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 100 * 1024 * 1024;
/// Most sheets read.
pub const MAX_SHEETS: usize = 20;

/// Why a workbook could not be read at all (problems inside a readable one are [`FormError`]s).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkbookError {
    #[error("the file is larger than {} MB", MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file unpacks to more than {} MB: it is not a form", MAX_UNPACKED_BYTES / (1024 * 1024))]
    TooLargeUnpacked,
    #[error("the file is not an Excel workbook (.xlsx or .xls)")]
    NotAWorkbook,
    #[error("the workbook has more than {MAX_SHEETS} sheets")]
    TooManySheets,
    #[error("the workbook cannot be read: {0}")]
    Unreadable(String),
}

/// What an upload gave: a form ready to publish, or every problem found in it.
#[derive(Debug)]
pub enum Checked {
    Ready(Box<Imported>),
    Refused(Vec<FormError>),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Unpacks every entry of a zip archive into nothing, refusing one that grows too large (the
/// sizes a zip declares can lie; the bytes that come out cannot).
fn check_unpacked_size(bytes: &[u8]) -> Result<(), WorkbookError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        let left = MAX_UNPACKED_BYTES - total;
        let n = std::io::copy(&mut (&mut entry).take(left + 1), &mut std::io::sink())
            .map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        total += n;
        if total > MAX_UNPACKED_BYTES {
            return Err(WorkbookError::TooLargeUnpacked);
        }
    }
    Ok(())
}

/// A cell as the text XLSForm means: whole numbers without `.0`, booleans as TRUE/FALSE, dates as
/// `YYYY-MM-DD`.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => outpost_core::forms::expr::number_text(*f),
        // As a spreadsheet shows them; `required` and `read_only` read TRUE as yes.
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => {
            // Excel counts days from 1899-12-30.
            let days = d.as_f64().floor() as i64 - 25_569;
            outpost_core::forms::expr::date_text(days)
        }
    }
}

/// Reads every sheet of a workbook as rows of cell texts (row 1 of the sheet is `rows[0]`).
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<Sheet>, WorkbookError> {
    use calamine::Reader;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(WorkbookError::TooLarge);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        check_unpacked_size(bytes)?;
    } else if !bytes.starts_with(CFB_MAGIC) {
        return Err(WorkbookError::NotAWorkbook);
    }
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
    let names = workbook.sheet_names();
    if names.len() > MAX_SHEETS {
        return Err(WorkbookError::TooManySheets);
    }
    let mut sheets = Vec::new();
    for name in names {
        let range = workbook.worksheet_range(&name).map_err(|e| WorkbookError::Unreadable(e.to_string()))?;
        let (first_row, first_column) = range.start().map_or((0, 0), |(r, c)| (r as usize, c as usize));
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); first_row];
        for row in range.rows() {
            let mut cells = vec![String::new(); first_column];
            cells.extend(row.iter().map(cell_text));
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            rows.push(cells);
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

/// Reads an uploaded workbook and imports it as a form (`file_name` names the form when its
/// settings give no id).
pub fn check_upload(bytes: &[u8], file_name: &str) -> Result<Checked, WorkbookError> {
    let sheets = read_workbook(bytes)?;
    let stem = std::path::Path::new(file_name).file_stem().and_then(|s| s.to_str()).unwrap_or("form");
    Ok(match xlsform::import(&sheets, stem) {
        Ok(imported) => Checked::Ready(Box::new(imported)),
        Err(errors) => Checked::Refused(errors),
    })
}

/// Why a form cannot be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "the form_id {0:?} cannot name a published form: use 1 to 64 lowercase letters, digits or _ (set form_id in the settings sheet)"
    )]
    BadId(String),
    #[error(transparent)]
    Store(#[from] DbError),
}

fn is_form_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Publishes an imported form as the next version of its id; tablets receive it at their next
/// pull. Returns the version.
pub async fn publish(store: &Store, form: &CompiledForm, now_ms: u64) -> Result<u32, PublishError> {
    if !is_form_id(&form.def.id) {
        return Err(PublishError::BadId(form.def.id.clone()));
    }
    let at = crate::time::rfc3339(now_ms);
    let version = store.publish_form(form.def.clone(), now_ms, at, false).await?;
    version.ok_or_else(|| PublishError::Store(DbError::Corrupt("a publication gave no version".into())))
}

/// The forms every organisation starts with: XLSForm files in the repository's `forms/`, built
/// into the server (a coordinator edits a copy and publishes it as the next version).
const DEFAULT_FORMS: &[(&str, &[u8])] =
    &[("community-monitoring.xlsx", include_bytes!("../../../forms/community-monitoring.xlsx"))];

/// The shipped default forms, imported with the same code as an upload.
pub fn default_forms() -> Result<Vec<CompiledForm>, String> {
    DEFAULT_FORMS
        .iter()
        .map(|(name, bytes)| match check_upload(bytes, name) {
            Ok(Checked::Ready(imported)) => Ok(imported.form),
            Ok(Checked::Refused(errors)) => Err(format!("{name}: {}", errors[0])),
            Err(e) => Err(format!("{name}: {e}")),
        })
        .collect()
}

/// Publishes each default form the organisation has never had (a retired one is not brought
/// back). Does nothing on a server without exactly one organisation yet. Returns what it
/// published, as (form id, version).
pub async fn publish_defaults(store: &Store, now_ms: u64) -> Result<Vec<(String, u32)>, PublishError> {
    if store.the_org().await.is_err() {
        return Ok(Vec::new());
    }
    let forms = default_forms().map_err(|e| PublishError::Store(DbError::Corrupt(e)))?;
    let mut published = Vec::new();
    for form in forms {
        let id = form.def.id.clone();
        if let Some(version) = store.publish_form(form.def, now_ms, crate::time::rfc3339(now_ms), true).await? {
            published.push((id, version));
        }
    }
    Ok(published)
}

fn detail(index: usize, op: &Op, field: String, code: &str, message: String) -> ErrorDetail {
    ErrorDetail { index, op_seq: Some(op.op_seq), field: Some(field), code: code.into(), message }
}

/// Compiled form versions by record id, kept for the life of the server: a version's definition
/// never changes, so a push compiles each at most once (only the list of versions is read from
/// the database each time, without decoding definitions).
#[derive(Debug, Default)]
pub struct FormCache {
    compiled: std::sync::Mutex<HashMap<RecordId, Option<Arc<CompiledForm>>>>,
}

impl FormCache {
    /// Every version of every form of `org`, compiled (`None`: a version whose definition cannot
    /// be read or compiled).
    pub async fn versions(
        &self,
        store: &Store,
        org: OrgId,
    ) -> Result<BTreeMap<(String, u32), Option<Arc<CompiledForm>>>, DbError> {
        let mut out = BTreeMap::new();
        for (id, form_id, version) in store.form_versions(org).await? {
            let cached = self.compiled.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
            let compiled = match cached {
                Some(compiled) => compiled,
                None => {
                    let compiled = store
                        .published_form(id)
                        .await?
                        .and_then(|f| CompiledForm::compile(f.definition).ok())
                        .map(Arc::new);
                    self.compiled.lock().unwrap_or_else(|p| p.into_inner()).insert(id, compiled.clone());
                    compiled
                }
            };
            out.insert((form_id, version), compiled);
        }
        Ok(out)
    }
}

/// Answers in one operation to check against a form version.
struct Answered<'a> {
    index: usize,
    op: &'a Op,
    form_id: &'a str,
    version: u32,
    /// Borrowed from the operation (none: no answers).
    answers: Option<&'a serde_json::Map<String, serde_json::Value>>,
    /// The kind of form the answers must be to.
    kind: FormKind,
    /// The field errors name: `survey_id`/`answers` for a survey response,
    /// `form_answers.<form>` for a contact.
    id_field: String,
    answers_field: String,
}

/// A form version as a record writes it (the schema's checks have refused any other shape).
fn version_of(value: Option<&serde_json::Value>) -> Option<u32> {
    value.and_then(|v| v.as_u64()).and_then(|v| u32::try_from(v).ok())
}

/// What a batch answers to published forms: survey responses (created) and contacts (created or
/// updated) with contact questions. The schema's checks have run, so the shapes are right.
fn answered(ops: &[Op]) -> Vec<Answered<'_>> {
    let mut out = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        if op.kind == OpKind::Create && op.collection == Collection::SurveyResponses.name() {
            let (Some(form_id), Some(version)) =
                (op.fields.get("survey_id").and_then(|v| v.as_str()), version_of(op.fields.get("survey_version")))
            else {
                continue; // the schema's checks report a missing or mistyped id or version
            };
            out.push(Answered {
                index,
                op,
                form_id,
                version,
                answers: op.fields.get("answers").and_then(|a| a.as_object()),
                kind: FormKind::Survey,
                id_field: "survey_id".into(),
                answers_field: "answers".into(),
            });
        } else if op.kind != OpKind::Delete && op.collection == Collection::Contacts.name() {
            let Some(forms) = op.fields.get("form_answers").and_then(|f| f.as_object()) else { continue };
            for (form_id, entry) in forms {
                let Some(version) = version_of(entry.get("version")) else { continue };
                out.push(Answered {
                    index,
                    op,
                    form_id,
                    version,
                    answers: entry.get("answers").and_then(|a| a.as_object()),
                    kind: FormKind::ContactQuestions,
                    id_field: format!("form_answers.{form_id}"),
                    answers_field: format!("form_answers.{form_id}.answers"),
                });
            }
        }
    }
    out
}

/// Checks what a batch answers to forms (survey responses, and contacts' answers to contact
/// questions): the form must be one the organisation published, of the right kind; the version
/// one of its published (or retired) versions; and the answers must pass that version's check
/// (types, choices, constraints, required-when-relevant, nothing answered that is hidden),
/// evaluated on the day the record says it happened.
pub async fn check_responses(
    store: &Store,
    cache: &FormCache,
    device: &DeviceAuth,
    ops: &[Op],
    now_ms: u64,
) -> Result<Vec<ErrorDetail>, DbError> {
    let answered = answered(ops);
    if answered.is_empty() {
        return Ok(Vec::new());
    }
    let versions = cache.versions(store, device.org_id).await?;
    let today = expr::parse_date(&crate::time::date_of(now_ms)).unwrap_or(0);
    let mut errors = Vec::new();
    for a in answered {
        let (index, op, id) = (a.index, a.op, a.form_id);
        if !versions.keys().any(|(f, _)| f == id) {
            let message = format!("no form {id} was ever published in this organisation");
            errors.push(detail(index, op, a.id_field, "unknown_form", message));
            continue;
        }
        let Some(form) = versions.get(&(id.to_string(), a.version)) else {
            let published: Vec<String> = versions.keys().filter(|(f, _)| f == id).map(|(_, v)| v.to_string()).collect();
            let field = if a.kind == FormKind::Survey { "survey_version".to_string() } else { a.id_field };
            let message = format!("form {id} has no version {} (published: {})", a.version, published.join(", "));
            errors.push(detail(index, op, field, "unknown_form_version", message));
            continue;
        };
        let Some(form) = form else {
            let message = format!("form {id} version {} cannot be read", a.version);
            errors.push(detail(index, op, a.id_field, "invalid_form", message));
            continue;
        };
        if form.def.kind != a.kind {
            let message = match a.kind {
                FormKind::Survey => format!("{id} holds questions asked in a contact, not a survey"),
                FormKind::ContactQuestions => format!("{id} is a survey, not questions asked in a contact"),
            };
            errors.push(detail(index, op, a.id_field, "wrong_form_kind", message));
            continue;
        }
        let day = op
            .fields
            .get("occurred_at")
            .and_then(|v| v.as_str())
            .and_then(|t| t.get(..10))
            .and_then(expr::parse_date)
            .unwrap_or(today);
        let none = serde_json::Map::new();
        for problem in form.check(a.answers.unwrap_or(&none), day, &form.def.default_language).problems {
            let message = match &problem.message {
                Some(m) => format!("{}: {m}", problem.question),
                None => format!("{}: {}", problem.question, problem.code.replace('_', " ")),
            };
            let field = format!("{}.{}", a.answers_field, problem.question);
            errors.push(detail(index, op, field, &problem.code, message));
        }
    }
    Ok(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in entries {
                zip.start_file(*name, options).expect("entry");
                zip.write_all(data).expect("write");
            }
            zip.finish().expect("finish");
        }
        out.into_inner()
    }

    #[test]
    fn hostile_files_are_refused_before_they_are_read() {
        assert_eq!(read_workbook(&vec![0u8; MAX_FILE_BYTES + 1]).err(), Some(WorkbookError::TooLarge));
        assert_eq!(read_workbook(b"type,name,label\ntext,a,A\n").err(), Some(WorkbookError::NotAWorkbook));
        // 200 MB of zeros packs into a few hundred kilobytes.
        let zeros = vec![0u8; 1024 * 1024];
        let entries: Vec<(String, &[u8])> =
            (0..200).map(|i| (format!("xl/worksheets/sheet{i}.xml"), zeros.as_slice())).collect();
        let entries: Vec<(&str, &[u8])> = entries.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let bomb = zip_of(&entries);
        assert!(bomb.len() < MAX_FILE_BYTES, "{} bytes", bomb.len());
        assert_eq!(read_workbook(&bomb).err(), Some(WorkbookError::TooLargeUnpacked));
        // A zip that is not a workbook.
        let not_xlsx = zip_of(&[("hello.txt", b"hello")]);
        assert!(matches!(read_workbook(&not_xlsx), Err(WorkbookError::Unreadable(_))));
        let mut truncated = zip_of(&[("hello.txt", b"hello")]);
        truncated.truncate(20);
        assert!(matches!(read_workbook(&truncated), Err(WorkbookError::Unreadable(_))));
    }
}
