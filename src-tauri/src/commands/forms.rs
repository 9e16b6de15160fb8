//! The programme's published forms: which to offer, core's check of the answers as the worker
//! types (one evaluator for tablet, server and dashboard), and saving a survey response. A form
//! version never changes, so its compiled form is kept while the store is open.

use super::args::{Result, now_rfc3339};
use crate::error::CommandError;
use crate::state::AppState;
use outpost_core::forms::{CompiledForm, FormKind, FormState};
use outpost_core::records::PublishedForm;
use outpost_device::forms::check_on;
use serde_json::{Map, Value};
use std::sync::Arc;
use tauri::State;

/// Longest form id or language accepted from the UI.
const MAX_NAME_CHARS: usize = 64;

fn compiled(state: &AppState, form_id: &str, version: u32) -> Result<Arc<CompiledForm>> {
    if form_id.chars().count() > MAX_NAME_CHARS {
        return Err(CommandError::invalid("the form id is too long"));
    }
    let key = (form_id.to_string(), version);
    if let Some(form) = state.guard().forms.get(&key) {
        return Ok(form.clone());
    }
    let form = Arc::new(state.with_store(|s| s.compiled_form(form_id, version))?);
    state.guard().forms.insert(key, form.clone());
    Ok(form)
}

#[tauri::command(async)]
pub fn offered_forms(state: State<'_, Arc<AppState>>, kind: Option<FormKind>) -> Result<Vec<PublishedForm>> {
    state.with_store(|s| s.offered_forms(kind))
}

#[tauri::command(async)]
pub fn check_form(
    state: State<'_, Arc<AppState>>,
    form_id: String,
    version: u32,
    answers: Map<String, Value>,
    language: String,
) -> Result<FormState> {
    if language.chars().count() > MAX_NAME_CHARS {
        return Err(CommandError::invalid("the language is too long"));
    }
    let form = compiled(&state, &form_id, version)?;
    Ok(check_on(&form, &answers, &now_rfc3339(), &language))
}

#[tauri::command(async)]
pub fn save_survey(
    state: State<'_, Arc<AppState>>,
    form_id: String,
    version: u32,
    answers: Map<String, Value>,
) -> Result<()> {
    let form = compiled(&state, &form_id, version)?;
    let at = now_rfc3339();
    state.with_store(|s| s.save_form_response(&form, version, &answers, &at).map(|_| ()))
}
