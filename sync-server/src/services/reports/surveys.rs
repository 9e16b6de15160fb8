//! Survey results and the survey export, driven by the published definitions: per form, its
//! choice questions counted per choice (with the labels of every language of the form) and its
//! number questions summarised (how many answered, mean, smallest and largest). What is counted
//! comes from the definition, never from the answers: a value that is not a choice of the
//! question's list is not shown, and free text (`text` questions, `other` specifications) is
//! never reported or exported. A form with fewer than [`SMALL_CELL`] responses in the period
//! shows nothing; a choice counted 1–4 times is suppressed, and when it is the only one, the next
//! smallest too (so it cannot be worked out from the total).

use super::filters::Filter;
use super::indicators::SMALL_CELL;
use super::queries::{self, int, text};
use outpost_core::forms::{CompiledForm, FormLanguage, Question, QuestionKind, Text};
use outpost_core::records::PublishedForm;
use outpost_server_store::{DbError, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// One choice and how many responses chose it (`None`: suppressed).
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct ChoiceCount {
    pub name: String,
    pub label: Text,
    pub count: Option<i64>,
}

/// The answers of a number question.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct NumberSummary {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// The results of one question.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct QuestionResult {
    pub name: String,
    pub kind: QuestionKind,
    pub label: Text,
    /// Responses that answered it (`None`: suppressed with the choices it would reveal).
    pub answered: Option<i64>,
    /// For `select_one` and `select_multiple`: every choice of its list, in the form's order.
    pub choices: Vec<ChoiceCount>,
    /// For `integer` and `decimal`, when answered at least [`SMALL_CELL`] times.
    pub numbers: Option<NumberSummary>,
}

/// The results of one form over the period.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct FormResults {
    pub form_id: String,
    /// The newest version's title, languages and questions (then questions only older versions had).
    pub title: Text,
    pub languages: Vec<FormLanguage>,
    pub default_language: String,
    pub responses: i64,
    /// Fewer responses than `threshold`: no answer is shown.
    pub hidden: bool,
    pub questions: Vec<QuestionResult>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct SurveyResults {
    pub threshold: i64,
    /// Every form with responses in the period, by id.
    pub forms: Vec<FormResults>,
}

/// Whether a question's answers are reported (never free text, dates or notes).
fn reported(kind: QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::SelectOne | QuestionKind::SelectMultiple | QuestionKind::Integer | QuestionKind::Decimal
    )
}

/// A form's reportable questions across its versions: the newest version's in its order, then
/// those only older versions had; with the version each comes from.
pub(crate) struct Definition {
    pub newest: CompiledForm,
    pub questions: Vec<(Question, usize)>,
    pub versions: Vec<CompiledForm>,
}

/// Every form of the organisation (none on a server without exactly one), compiled, newest
/// version first in each.
pub(crate) async fn definitions(store: &Store) -> Result<BTreeMap<String, Definition>, DbError> {
    let mut by_form: BTreeMap<String, Vec<PublishedForm>> = BTreeMap::new();
    let Ok(org) = store.the_org().await else { return Ok(BTreeMap::new()) };
    for (_, form) in store.forms(org).await? {
        by_form.entry(form.form_id.clone()).or_default().push(form);
    }
    let mut out = BTreeMap::new();
    for (id, mut versions) in by_form {
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        let compiled: Vec<CompiledForm> =
            versions.into_iter().filter_map(|v| CompiledForm::compile(v.definition).ok()).collect();
        let Some(newest) = compiled.first().cloned() else { continue };
        let mut questions: Vec<(Question, usize)> = Vec::new();
        for (i, version) in compiled.iter().enumerate() {
            for q in version.questions() {
                if reported(q.kind) && !questions.iter().any(|(seen, _)| seen.name == q.name) {
                    questions.push((q.clone(), i));
                }
            }
        }
        out.insert(id, Definition { newest, questions, versions: compiled });
    }
    Ok(out)
}

/// Choice counts with small cells suppressed, and the next smallest when only one was.
fn choice_counts(def: &CompiledForm, q: &Question, counts: &BTreeMap<String, i64>, suppress: bool) -> Vec<ChoiceCount> {
    let mut names: Vec<(String, Text)> = q
        .list
        .as_ref()
        .and_then(|l| def.def.choices.get(l))
        .map(|list| list.iter().map(|c| (c.name.clone(), c.label.clone())).collect())
        .unwrap_or_default();
    if q.allows_other() && !names.iter().any(|(n, _)| n == outpost_core::forms::OTHER) {
        names.push((outpost_core::forms::OTHER.into(), Text::new()));
    }
    let raw: Vec<i64> = names.iter().map(|(n, _)| counts.get(n).copied().unwrap_or(0)).collect();
    let small = |n: i64| suppress && n > 0 && n < SMALL_CELL;
    let mut hidden: Vec<bool> = raw.iter().map(|&n| small(n)).collect();
    if hidden.iter().filter(|h| **h).count() == 1 {
        let next = (0..raw.len()).filter(|&i| !hidden[i] && raw[i] > 0).min_by_key(|&i| raw[i]);
        if let Some(i) = next {
            hidden[i] = true;
        }
    }
    names
        .into_iter()
        .zip(raw.iter().zip(hidden))
        .map(|((name, label), (&n, h))| ChoiceCount { name, label, count: (!h).then_some(n) })
        .collect()
}

/// Survey results per form over `filter`'s period and sites.
pub async fn surveys(store: &Store, filter: &Filter) -> Result<SurveyResults, DbError> {
    let rows = queries::survey_answers(store, filter).await?;
    let definitions = definitions(store).await?;
    // (form, question) → value → count; and responses per form.
    let mut responses: BTreeMap<String, i64> = BTreeMap::new();
    let mut values: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for r in &rows {
        let (form, key) = (text(r, 0), text(r, 1));
        if key.is_empty() {
            *responses.entry(form).or_default() += int(r, 3);
        } else {
            *values.entry((form, key)).or_default().entry(text(r, 2)).or_default() += int(r, 3);
        }
    }
    let mut forms = Vec::new();
    for (form_id, count) in responses {
        let Some(def) = definitions.get(&form_id) else { continue };
        let hidden = (filter.suppress && count < SMALL_CELL) || count == 0;
        let mut questions = Vec::new();
        if !hidden {
            let empty = BTreeMap::new();
            for (q, version) in &def.questions {
                let counts = values.get(&(form_id.clone(), q.name.clone())).unwrap_or(&empty);
                questions.push(question_result(&def.versions[*version], q, counts, filter.suppress));
            }
        }
        forms.push(FormResults {
            form_id,
            title: def.newest.def.title.clone(),
            languages: def.newest.def.languages.clone(),
            default_language: def.newest.def.default_language.clone(),
            responses: count,
            hidden,
            questions,
        });
    }
    Ok(SurveyResults { threshold: SMALL_CELL, forms })
}

fn question_result(def: &CompiledForm, q: &Question, counts: &BTreeMap<String, i64>, suppress: bool) -> QuestionResult {
    match q.kind {
        QuestionKind::SelectOne | QuestionKind::SelectMultiple => {
            let choices = choice_counts(def, q, counts, suppress);
            // A response answers a select once; its choices are counted each (several per response).
            let answered = match q.kind {
                QuestionKind::SelectOne => {
                    let any_hidden = choices.iter().any(|c| c.count.is_none());
                    let total: i64 = choices.iter().map(|c| c.count.unwrap_or(0)).sum();
                    (!any_hidden).then_some(total)
                }
                _ => None,
            };
            QuestionResult {
                name: q.name.clone(),
                kind: q.kind,
                label: q.label.clone(),
                answered,
                choices,
                numbers: None,
            }
        }
        _ => {
            let numbers: Vec<(f64, i64)> =
                counts.iter().filter_map(|(v, n)| v.trim().parse::<f64>().ok().map(|x| (x, *n))).collect();
            let answered: i64 = numbers.iter().map(|(_, n)| n).sum();
            let summary = (answered > 0 && (!suppress || answered >= SMALL_CELL)).then(|| NumberSummary {
                mean: numbers.iter().map(|(x, n)| x * *n as f64).sum::<f64>() / answered as f64,
                min: numbers.iter().map(|(x, _)| *x).fold(f64::INFINITY, f64::min),
                max: numbers.iter().map(|(x, _)| *x).fold(f64::NEG_INFINITY, f64::max),
            });
            QuestionResult {
                name: q.name.clone(),
                kind: q.kind,
                label: q.label.clone(),
                answered: Some(answered).filter(|&n| !suppress || n == 0 || n >= SMALL_CELL),
                choices: Vec::new(),
                numbers: summary,
            }
        }
    }
}

/// The survey export's rows: one row per response, one column per reported question of every
/// form (`<form>/<question>`, its choice codes, and `<form>/<question>:label`, their labels in
/// the form's default language); free text never.
pub async fn export_rows(store: &Store, filter: &Filter) -> Result<Vec<Vec<String>>, DbError> {
    let definitions = definitions(store).await?;
    let mut header: Vec<String> =
        ["response_id", "site", "occurred_at", "form", "form_version"].iter().map(|s| s.to_string()).collect();
    let mut columns: Vec<(String, String, bool)> = Vec::new(); // (form, question, has labels)
    for (form_id, def) in &definitions {
        for (q, _) in &def.questions {
            let choices = matches!(q.kind, QuestionKind::SelectOne | QuestionKind::SelectMultiple);
            header.push(format!("{form_id}/{}", q.name));
            if choices {
                header.push(format!("{form_id}/{}:label", q.name));
            }
            columns.push((form_id.clone(), q.name.clone(), choices));
        }
    }
    let mut out = vec![header];
    for row in queries::survey_responses(store, filter).await? {
        let (form_id, version, answers) = (text(&row, 3), int(&row, 4), text(&row, 5));
        let answers: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&answers).unwrap_or_default();
        let def = definitions.get(&form_id);
        let mut line = vec![text(&row, 0), text(&row, 1), text(&row, 2), form_id.clone(), version.to_string()];
        for (form, name, choices) in &columns {
            let (value, label) = match (form == &form_id, def, answers.get(name)) {
                (true, Some(def), Some(value)) => cell(def, name, value),
                _ => (String::new(), String::new()),
            };
            line.push(value);
            if *choices {
                line.push(label);
            }
        }
        out.push(line);
    }
    Ok(out)
}

/// A reported answer as its codes and their labels (space-separated for several choices, as
/// XLSForm tools write them); anything a question's definition does not allow is left empty.
fn cell(def: &Definition, name: &str, value: &serde_json::Value) -> (String, String) {
    let Some((q, version)) = def.questions.iter().find(|(q, _)| q.name == name) else {
        return (String::new(), String::new());
    };
    let form = &def.versions[*version];
    let list = q.list.as_ref().and_then(|l| form.def.choices.get(l));
    let label_of = |code: &str| {
        list.and_then(|l| l.iter().find(|c| c.name == code))
            .and_then(|c| form.text(&c.label, &form.def.default_language))
            .unwrap_or(code)
            .to_string()
    };
    let known =
        |code: &str| list.is_some_and(|l| l.iter().any(|c| c.name == code)) || (q.allows_other() && code == "other");
    match (q.kind, value) {
        (QuestionKind::SelectOne, serde_json::Value::String(code)) if known(code) => (code.clone(), label_of(code)),
        (QuestionKind::SelectMultiple, serde_json::Value::Array(items)) => {
            let codes: Vec<&str> = items.iter().filter_map(|i| i.as_str()).filter(|c| known(c)).collect();
            (codes.join(" "), codes.iter().map(|c| label_of(c)).collect::<Vec<_>>().join("; "))
        }
        (QuestionKind::Integer | QuestionKind::Decimal, serde_json::Value::Number(n)) => (n.to_string(), String::new()),
        _ => (String::new(), String::new()),
    }
}
