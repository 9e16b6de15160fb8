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
use outpost_core::forms::{CompiledForm, FormKind, FormLanguage, Question, QuestionKind, Text};
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
        let Some(def) = definitions.get(&form_id).filter(|d| d.newest.def.kind == FormKind::Survey) else { continue };
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

/// The export columns of every reported question of the forms of one kind: `<form>/<question>`
/// (codes) and, for choices, `<form>/<question>:label` (labels in the form's default language).
pub(crate) struct AnswerColumns {
    /// (form, question, has a label column)
    columns: Vec<(String, String, bool)>,
}

impl AnswerColumns {
    pub(crate) fn new(definitions: &BTreeMap<String, Definition>, kind: FormKind) -> Self {
        let mut columns = Vec::new();
        for (form_id, def) in definitions.iter().filter(|(_, d)| d.newest.def.kind == kind) {
            for (q, _) in &def.questions {
                let choices = matches!(q.kind, QuestionKind::SelectOne | QuestionKind::SelectMultiple);
                columns.push((form_id.clone(), q.name.clone(), choices));
            }
        }
        Self { columns }
    }

    pub(crate) fn header(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (form, name, choices) in &self.columns {
            out.push(format!("{form}/{name}"));
            if *choices {
                out.push(format!("{form}/{name}:label"));
            }
        }
        out
    }

    /// The cells of one record, whose answers to form `f` are `answers(f)`.
    pub(crate) fn cells<'a>(
        &self,
        definitions: &BTreeMap<String, Definition>,
        answers: impl Fn(&str) -> Option<&'a serde_json::Map<String, serde_json::Value>>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for (form, name, choices) in &self.columns {
            let given = answers(form).and_then(|a| a.get(name));
            let (value, label) = match (definitions.get(form), given) {
                (Some(def), Some(value)) => cell(def, name, value),
                _ => (String::new(), String::new()),
            };
            out.push(value);
            if *choices {
                out.push(label);
            }
        }
        out
    }
}

/// The survey export's rows: one row per response, one column per reported question of every
/// survey (see [`AnswerColumns`]); free text never.
pub async fn export_rows(store: &Store, filter: &Filter) -> Result<Vec<Vec<String>>, DbError> {
    let definitions = definitions(store).await?;
    let columns = AnswerColumns::new(&definitions, FormKind::Survey);
    let mut header: Vec<String> =
        ["response_id", "site", "occurred_at", "form", "form_version"].iter().map(|s| s.to_string()).collect();
    header.extend(columns.header());
    let mut out = vec![header];
    for row in queries::survey_responses(store, filter).await? {
        let (form_id, version, answers) = (text(&row, 3), int(&row, 4), text(&row, 5));
        let answers: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&answers).unwrap_or_default();
        let mut line = vec![text(&row, 0), text(&row, 1), text(&row, 2), form_id.clone(), version.to_string()];
        line.extend(columns.cells(&definitions, |f| (f == form_id).then_some(&answers)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::forms::xlsform::{Sheet, import};

    fn form() -> CompiledForm {
        let rows = |rows: &[&[&str]]| rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        let sheets = vec![
            Sheet {
                name: "survey".into(),
                rows: rows(&[
                    &["type", "name", "label"],
                    &["select_one yn", "ok", "OK?"],
                    &["integer", "age", "Age"],
                    &["text", "why", "Why?"],
                ]),
            },
            Sheet {
                name: "choices".into(),
                rows: rows(&[
                    &["list_name", "name", "label"],
                    &["yn", "yes", "Yes"],
                    &["yn", "no", "No"],
                    &["yn", "dk", "?"],
                ]),
            },
        ];
        import(&sheets, "t").map(|i| i.form).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn choices_are_the_lists_with_small_cells_and_their_complement_hidden() {
        let form = form();
        let q = &form.questions()[0];
        // One small cell (3) is hidden with the next smallest (6), else 3 = total − the others.
        let result = question_result(&form, q, &counts(&[("yes", 20), ("no", 6), ("dk", 3), ("free text", 9)]), true);
        let shown: Vec<(&str, Option<i64>)> = result.choices.iter().map(|c| (c.name.as_str(), c.count)).collect();
        assert_eq!(shown, [("yes", Some(20)), ("no", None), ("dk", None)], "a value not in the list is never shown");
        assert_eq!(result.answered, None, "the total would reveal the hidden cells");
        let open = question_result(&form, q, &counts(&[("yes", 20), ("no", 6), ("dk", 3)]), false);
        assert_eq!(open.answered, Some(29));
        let zero = question_result(&form, q, &counts(&[("yes", 20), ("no", 6)]), true);
        assert!(zero.choices.iter().all(|c| c.count.is_some()), "zero is not a small cell");
    }

    #[test]
    fn numbers_are_summarised_only_from_enough_answers() {
        let form = form();
        let q = &form.questions()[1];
        let result = question_result(&form, q, &counts(&[("20", 2), ("30", 2), ("40.5", 1), ("old", 4)]), true);
        let numbers = result.numbers.unwrap_or_else(|| panic!("5 answers are summarised"));
        assert_eq!((numbers.min, numbers.max, result.answered), (20.0, 40.5, Some(5)));
        assert!((numbers.mean - 28.1).abs() < 1e-9, "{}", numbers.mean);
        let few = question_result(&form, q, &counts(&[("20", 2), ("30", 2)]), true);
        assert_eq!((few.numbers, few.answered), (None, None), "4 answers are too few");
    }

    #[test]
    fn free_text_is_not_a_reported_kind() {
        let form = form();
        let kinds: Vec<bool> = form.questions().iter().map(|q| reported(q.kind)).collect();
        assert_eq!(kinds, [true, true, false]);
    }
}
