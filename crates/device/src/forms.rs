//! The programme's own forms on the tablet: which ones to offer (the newest published version of
//! each, received by pull like the catalogue), what a set of answers means while the worker
//! types (core's one check: what shows, what is calculated, what is wrong), and saving a survey
//! response only when that check finds nothing wrong. A tablet offline for weeks keeps offering
//! the version it has; the server accepts answers to any version it published.

use crate::error::StoreError;
use crate::store::DeviceStore;
use outpost_core::Collection;
use outpost_core::forms::{CompiledForm, FormKind, FormState, expr};
use outpost_core::records::{FormStatus, PublishedForm};
use outpost_core::schema::FieldError;
use outpost_core::{RecordId, SiteId};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Most answers in one response (the schema's limit on a record's answers is higher).
pub const MAX_ANSWERS: usize = 200;

impl DeviceStore {
    /// Every version of every form this tablet has received, by form id and version.
    pub fn published_forms(&self) -> Result<Vec<PublishedForm>, StoreError> {
        let mut forms = Vec::new();
        for (id, state) in self.list(Collection::Forms)? {
            let form: PublishedForm = serde_json::from_value(Value::Object(state.values()))
                .map_err(|e| StoreError::Corrupt(format!("form record {id}: {e}")))?;
            forms.push(form);
        }
        forms.sort_by(|a, b| (a.form_id.as_str(), a.version).cmp(&(b.form_id.as_str(), b.version)));
        Ok(forms)
    }

    /// The forms to offer for new answers: per form id, its newest published (not retired)
    /// version; of `kind` when given. Ordered by id.
    pub fn offered_forms(&self, kind: Option<FormKind>) -> Result<Vec<PublishedForm>, StoreError> {
        let mut newest: BTreeMap<String, PublishedForm> = BTreeMap::new();
        for form in self.published_forms()? {
            if form.status != FormStatus::Published || kind.is_some_and(|k| form.definition.kind != k) {
                continue;
            }
            newest.insert(form.form_id.clone(), form); // sorted by version: the last one wins
        }
        Ok(newest.into_values().collect())
    }

    /// One version of a form, compiled; an error when this tablet does not have it.
    pub fn compiled_form(&self, form_id: &str, version: u32) -> Result<CompiledForm, StoreError> {
        let form = self
            .published_forms()?
            .into_iter()
            .find(|f| f.form_id == form_id && f.version == version)
            .ok_or_else(|| StoreError::UnknownForm { form_id: form_id.to_string(), version })?;
        CompiledForm::compile(form.definition)
            .map_err(|errors| StoreError::Corrupt(format!("form {form_id} version {version}: {}", errors[0])))
    }

    /// Saves an anonymous response to `form` (version `version`) at the tablet's site, after the
    /// same check the server makes, on the day of `at` (RFC 3339). Answers a question does not
    /// show are refused rather than silently dropped: the screen sends only what it shows.
    pub fn save_form_response(
        &mut self,
        form: &CompiledForm,
        version: u32,
        answers: &Map<String, Value>,
        at: &str,
    ) -> Result<RecordId, StoreError> {
        if form.def.kind != FormKind::Survey {
            return Err(StoreError::Invalid(vec![FieldError {
                field: "survey_id".into(),
                code: "not_a_survey",
                message: format!("{} holds questions asked inside a contact, not a survey", form.def.id),
            }]));
        }
        if answers.len() > MAX_ANSWERS {
            return Err(StoreError::Invalid(vec![FieldError {
                field: "answers".into(),
                code: "too_many",
                message: format!("more than {MAX_ANSWERS} answers"),
            }]));
        }
        let state = check_on(form, answers, at, "");
        if !state.problems.is_empty() {
            return Err(StoreError::Answers(state.problems));
        }
        let site: SiteId = self.home_site()?;
        let mut record = Map::new();
        record.insert("survey_id".into(), json!(form.def.id));
        record.insert("survey_version".into(), json!(version));
        record.insert("occurred_at".into(), json!(at));
        record.insert("answers".into(), Value::Object(answers.clone()));
        self.create(Collection::SurveyResponses, site, record)
    }
}

impl DeviceStore {
    /// The `form_answers` field of a contact: each form must be a contact-questions form this
    /// tablet has, and its answers must pass core's check on the day of `at`; forms answered
    /// with nothing are left out.
    pub fn checked_contact_questions(
        &self,
        questions: &[crate::workflows::FormAnswersInput],
        at: &str,
    ) -> Result<Map<String, Value>, StoreError> {
        if questions.len() > outpost_core::schema::MAX_FORMS_PER_RECORD {
            return Err(StoreError::Invalid(vec![FieldError {
                field: "form_answers".into(),
                code: "too_many",
                message: "too many forms in one contact".into(),
            }]));
        }
        let mut out = Map::new();
        for entry in questions {
            let form = self.compiled_form(&entry.form_id, entry.version)?;
            if form.def.kind != FormKind::ContactQuestions {
                return Err(StoreError::Invalid(vec![FieldError {
                    field: "form_answers".into(),
                    code: "not_contact_questions",
                    message: format!("{} is a survey, not questions asked in a contact", entry.form_id),
                }]));
            }
            let state = check_on(&form, &entry.answers, at, "");
            if !state.problems.is_empty() {
                return Err(StoreError::Answers(state.problems));
            }
            if !entry.answers.is_empty() {
                out.insert(entry.form_id.clone(), json!({"version": entry.version, "answers": entry.answers}));
            }
        }
        Ok(out)
    }
}

/// Core's check of `answers` on the day of `at` (an RFC 3339 time; today's date otherwise
/// unknown to core), with messages in `language` (a form language key; `""` for the default).
pub fn check_on(form: &CompiledForm, answers: &Map<String, Value>, at: &str, language: &str) -> FormState {
    let today = at.get(..10).and_then(expr::parse_date).unwrap_or(0);
    let language = if language.is_empty() { form.def.default_language.as_str() } else { language };
    form.check(answers, today, language)
}
