//! Forms as data: a programme's own questionnaires (anonymous surveys, and extra questions asked
//! inside a contact), imported from XLSForm (`xlsform`), distributed to tablets as reference
//! data, rendered and checked on the tablet as the worker types, and checked again by the server
//! for every response. One definition ([`Form`]), one compiled form ([`CompiledForm`]: every
//! expression parsed, names resolved, calculations ordered) and one check ([`CompiledForm::check`])
//! serve the tablet, the server and the dashboard's preview.

pub mod expr;
pub mod xlsform;

use expr::{EvalError, Expr, Place, Scope, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// A text in each of the form's languages, keyed by [`FormLanguage::key`] (`""` for a column
/// without a language).
pub type Text = BTreeMap<String, String>;

/// What a form is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// An anonymous questionnaire, never linked to a client.
    Survey,
    /// Extra questions answered inside a contact and stored with it.
    ContactQuestions,
}

/// A language of the form, as its column headers name it (`label::Русский (ru)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormLanguage {
    /// The header's text after `label::` (`Русский (ru)`), or `""`.
    pub key: String,
    /// The language's code when the header gives one (`ru`) or its name is a known language.
    pub code: Option<String>,
}

/// A published form's definition, as distributed to tablets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Form {
    pub id: String,
    /// The form's own version (`settings` sheet), or one the server gives at publication.
    pub version: String,
    pub kind: FormKind,
    pub title: Text,
    /// The key of the language shown when the worker's is missing.
    pub default_language: String,
    pub languages: Vec<FormLanguage>,
    /// For contact questions: shown in the window quick-log too.
    #[serde(default)]
    pub in_quick_log: bool,
    pub items: Vec<Item>,
    /// Choice lists by name.
    pub choices: BTreeMap<String, Vec<Choice>>,
}

/// A question or a group of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    Question(Box<Question>),
    Group(Group),
}

/// A section of questions, shown only while its `relevant` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub name: String,
    pub label: Text,
    pub relevant: Option<String>,
    /// Questions and groups inside (a group may hold groups: the schema refers to `Item`).
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub items: Vec<Item>,
    /// The survey sheet's row it came from (for messages).
    pub row: u32,
}

/// What kind of answer a question takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Integer,
    Decimal,
    Text,
    SelectOne,
    SelectMultiple,
    /// `YYYY-MM-DD`.
    Date,
    /// A text shown to the worker; no answer.
    Note,
    /// Answered `OK` by a tap.
    Acknowledge,
    /// Computed from other answers; never shown.
    Calculate,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    pub name: String,
    pub kind: QuestionKind,
    pub label: Text,
    pub hint: Text,
    /// An expression; `true()` for `yes`.
    pub required: Option<String>,
    pub required_message: Text,
    pub relevant: Option<String>,
    pub constraint: Option<String>,
    pub constraint_message: Text,
    pub calculation: Option<String>,
    pub default: Option<String>,
    pub read_only: bool,
    /// For selects: the choice list.
    pub list: Option<String>,
    /// For selects: "other" may be chosen (`or_other`), specified in the text question `<name>_other`.
    pub other: bool,
    pub choice_filter: Option<String>,
    pub appearance: Option<String>,
    pub row: u32,
}

/// One choice of a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choice {
    pub name: String,
    pub label: Text,
    /// The other columns of the choices sheet (what a `choice_filter` reads).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
}

/// The name of the choice an `or_other` question adds, and of its companion text question's suffix.
pub const OTHER: &str = "other";

/// A problem found in a form: where, and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormError {
    pub sheet: String,
    /// 1-based row of the sheet; 0 for the sheet as a whole.
    pub row: u32,
    /// The column's header (`relevant`, `label::English (en)`), or `""`.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.row, self.column.as_str()) {
            (0, "") => write!(f, "sheet {}: {}", self.sheet, self.message),
            (0, column) => write!(f, "sheet {}, column {column}: {}", self.sheet, self.message),
            (row, "") => write!(f, "sheet {}, row {row}: {}", self.sheet, self.message),
            (row, column) => write!(f, "sheet {}, row {row}, column {column}: {}", self.sheet, self.message),
        }
    }
}

/// A question with its expressions parsed, in document order.
#[derive(Clone, Debug)]
struct Compiled {
    name: String,
    kind: QuestionKind,
    /// Its own `relevant` and those of its groups, outermost first.
    relevant: Vec<Expr>,
    required: Option<Expr>,
    constraint: Option<Expr>,
    calculation: Option<Expr>,
    choice_filter: Option<Expr>,
    list: Option<String>,
    /// Index in `CompiledForm::def`'s flattened questions.
    question: usize,
}

/// A form ready to be checked: every expression parsed and every name resolved.
#[derive(Clone, Debug)]
pub struct CompiledForm {
    pub def: Form,
    questions: Vec<Compiled>,
    /// Groups by name with their relevance chain.
    groups: Vec<(String, Vec<Expr>)>,
    /// Calculations in an order where each comes after those it reads.
    calculation_order: Vec<usize>,
    flat: Vec<Question>,
}

/// Every code an [`AnswerProblem`] can have.
pub const PROBLEM_CODES: &[&str] = &[
    "required",
    "constraint",
    "invalid_type",
    "unknown_choice",
    "not_relevant",
    "unknown_question",
    "not_answerable",
    "not_checkable",
];

/// One problem with an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerProblem {
    pub question: String,
    /// One of [`PROBLEM_CODES`].
    pub code: String,
    /// The form's own message for it in the reader's language, when the form has one.
    pub message: Option<String>,
}

/// What a set of answers means for the form: what is shown, what is computed, what is wrong.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormState {
    /// Questions and groups to show (relevant), by name.
    pub shown: BTreeSet<String>,
    /// The value of every calculation.
    pub calculated: BTreeMap<String, Json>,
    /// The choices each shown select offers after its `choice_filter`.
    pub choices: BTreeMap<String, Vec<String>>,
    pub problems: Vec<AnswerProblem>,
    /// The answer each question with a `default` starts with (a screen fills these in when it
    /// starts the form; the reader may change or clear them).
    #[serde(default)]
    pub defaults: BTreeMap<String, Json>,
}

/// The largest answer text, in characters.
pub const MAX_ANSWER_CHARS: usize = 2_000;

fn flatten(
    items: &[Item],
    relevant: &[(String, u32)],
    out: &mut Vec<(Question, Vec<(String, u32)>)>,
    groups: &mut Vec<(Group, Vec<(String, u32)>)>,
) {
    for item in items {
        match item {
            Item::Question(q) => out.push(((**q).clone(), relevant.to_vec())),
            Item::Group(g) => {
                let mut inner = relevant.to_vec();
                inner.extend(g.relevant.clone().map(|r| (r, g.row)));
                groups.push((g.clone(), inner.clone()));
                flatten(&g.items, &inner, out, groups);
            }
        }
    }
}

impl CompiledForm {
    /// Parses every expression of `form` and resolves every name, reporting every problem.
    pub fn compile(form: Form) -> Result<CompiledForm, Vec<FormError>> {
        let mut errors = Vec::new();
        let mut flat = Vec::new();
        let mut group_defs = Vec::new();
        flatten(&form.items, &[], &mut flat, &mut group_defs);
        let names: BTreeMap<&str, &Question> = flat.iter().map(|(q, _)| (q.name.as_str(), q)).collect();
        let err = |row: u32, column: &str, message: String| FormError {
            sheet: "survey".into(),
            row,
            column: column.into(),
            message,
        };
        let parse_at = |text: &Option<String>, place: Place, row: u32, column: &str, errors: &mut Vec<FormError>| {
            let text = text.as_deref()?;
            match expr::parse(text, place) {
                Ok(e) => {
                    let mut refs = Vec::new();
                    e.references(&mut refs);
                    for r in refs {
                        if !names.contains_key(r.as_str()) {
                            errors.push(err(row, column, format!("${{{r}}} is not a question of this form")));
                        }
                    }
                    Some(e)
                }
                Err(e) => {
                    errors.push(err(row, column, format!("{e}: {text}")));
                    None
                }
            }
        };
        let mut groups = Vec::new();
        for (g, chain) in &group_defs {
            let parsed: Vec<Expr> = chain
                .iter()
                .filter_map(|(r, row)| parse_at(&Some(r.clone()), Place::Plain, *row, "relevant", &mut errors))
                .collect();
            groups.push((g.name.clone(), parsed));
        }
        let mut questions = Vec::new();
        for (i, (q, chain)) in flat.iter().enumerate() {
            let mut relevant: Vec<Expr> = chain
                .iter()
                .filter_map(|(r, row)| parse_at(&Some(r.clone()), Place::Plain, *row, "relevant", &mut errors))
                .collect();
            relevant.extend(parse_at(&q.relevant, Place::Plain, q.row, "relevant", &mut errors));
            let choice_filter = parse_at(&q.choice_filter, Place::ChoiceFilter, q.row, "choice_filter", &mut errors);
            if let (Some(filter), Some(list)) = (&choice_filter, &q.list) {
                let mut columns = Vec::new();
                filter.columns(&mut columns);
                let known = |c: &str| {
                    matches!(c, "name" | "label")
                        || form.choices.get(list).is_some_and(|l| l.iter().any(|ch| ch.columns.contains_key(c)))
                };
                for c in columns.iter().filter(|c| !known(c)) {
                    errors.push(err(
                        q.row,
                        "choice_filter",
                        format!("`{c}` is not a column of list {list} in the choices sheet (write '{c}' in quotes for a text)"),
                    ));
                }
            }
            for text in q.label.values().chain(q.hint.values()) {
                for r in references_in_label(text) {
                    if !names.contains_key(r.as_str()) {
                        errors.push(err(q.row, "label", format!("${{{r}}} is not a question of this form")));
                    }
                }
            }
            if let Some(default) = &q.default
                && let Some(problem) = answer_type_problem(q, &default_json(q.kind, default), &form)
            {
                errors.push(err(q.row, "default", format!("{default:?} is not a possible answer ({problem})")));
            }
            questions.push(Compiled {
                name: q.name.clone(),
                kind: q.kind,
                relevant,
                required: parse_at(&q.required, Place::Plain, q.row, "required", &mut errors),
                constraint: parse_at(&q.constraint, Place::OwnAnswer, q.row, "constraint", &mut errors),
                calculation: parse_at(&q.calculation, Place::Plain, q.row, "calculation", &mut errors),
                choice_filter,
                list: q.list.clone(),
                question: i,
            });
        }
        let calculation_order = match calculation_order(&questions) {
            Ok(order) => order,
            Err(cycle) => {
                let row = flat.iter().find(|(q, _)| q.name == cycle[0]).map_or(0, |(q, _)| q.row);
                errors.push(err(
                    row,
                    "calculation",
                    format!("the calculations refer to each other in a circle: {}", cycle.join(" → ")),
                ));
                Vec::new()
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let flat = flat.into_iter().map(|(q, _)| q).collect();
        Ok(CompiledForm { def: form, questions, groups, calculation_order, flat })
    }

    /// The form's questions in document order (groups flattened).
    pub fn questions(&self) -> &[Question] {
        &self.flat
    }

    /// The text in `language` (a [`FormLanguage`] code or key), else in the form's default
    /// language, else the first there is.
    pub fn text<'a>(&self, text: &'a Text, language: &str) -> Option<&'a str> {
        let key = self
            .def
            .languages
            .iter()
            .find(|l| l.code.as_deref() == Some(language) || l.key == language)
            .map(|l| l.key.as_str());
        key.and_then(|k| text.get(k))
            .or_else(|| text.get(&self.def.default_language))
            .or_else(|| text.values().next())
            .map(String::as_str)
            .filter(|t| !t.is_empty())
    }

    /// What `answers` mean: which questions show, what the calculations give, which choices each
    /// select offers, and every problem (reported in `language`). `today` is in days since
    /// 1970-01-01. The server refuses a response with problems; the tablet shows them at the
    /// questions and saves only a response without any.
    pub fn check(&self, answers: &Map<String, Json>, today: i64, language: &str) -> FormState {
        let mut state = FormState::default();
        for q in &self.flat {
            if let Some(default) = &q.default {
                state.defaults.insert(q.name.clone(), default_json(q.kind, default));
            }
        }
        let by_name: BTreeMap<&str, &Compiled> = self.questions.iter().map(|q| (q.name.as_str(), q)).collect();
        for name in answers.keys() {
            if !by_name.contains_key(name.as_str()) {
                state.problems.push(problem(name, "unknown_question", None));
            }
        }
        // Answers as values; a relevance that hides a question empties it, which may hide others:
        // repeat until nothing changes (bounded: each round can only change what the last changed).
        let mut hidden: BTreeSet<String> = BTreeSet::new();
        let mut values = BTreeMap::new();
        for _ in 0..=self.questions.len().min(16) {
            values = self.values(answers, &hidden, today);
            let now_hidden: BTreeSet<String> = self
                .questions
                .iter()
                .filter(|q| !self.holds_all(&q.relevant, &values, today, language))
                .map(|q| q.name.clone())
                .collect();
            if now_hidden == hidden {
                break;
            }
            hidden = now_hidden;
        }
        for (name, chain) in &self.groups {
            if self.holds_all(chain, &values, today, language) {
                state.shown.insert(name.clone());
            }
        }
        for q in &self.questions {
            let def = &self.flat[q.question];
            let shown = !hidden.contains(&q.name);
            if q.kind == QuestionKind::Calculate {
                if shown {
                    let value = values.get(&q.name).cloned().unwrap_or_else(Value::empty);
                    state.calculated.insert(q.name.clone(), calculated_json(&value));
                }
                continue;
            }
            let answer = answers.get(&q.name).filter(|a| !is_empty(a));
            if !shown {
                if answer.is_some() {
                    state.problems.push(problem(&q.name, "not_relevant", None));
                }
                continue;
            }
            state.shown.insert(q.name.clone());
            let offered = self.offered_choices(q, &values, today, language);
            if let Some(offered) = &offered {
                state.choices.insert(q.name.clone(), offered.clone());
            }
            let Some(answer) = answer else {
                let required = q.required.as_ref().is_some_and(|r| {
                    let scope = self.scope(&values, Value::empty(), today, language, None);
                    r.eval(&scope).map(|v| v.truthy()).unwrap_or(true)
                });
                if required {
                    state.problems.push(problem(&q.name, "required", self.text(&def.required_message, language)));
                }
                continue;
            };
            if matches!(q.kind, QuestionKind::Note) {
                state.problems.push(problem(&q.name, "not_answerable", None));
                continue;
            }
            if let Some(kind) = answer_type_problem(def, answer, &self.def) {
                state.problems.push(problem(&q.name, kind, None));
                continue;
            }
            if let Some(offered) = &offered {
                let picked: Vec<String> = match answer {
                    Json::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
                    other => other.as_str().map(str::to_string).into_iter().collect(),
                };
                if picked.iter().any(|p| p != OTHER && !offered.contains(p)) {
                    state.problems.push(problem(&q.name, "unknown_choice", None));
                    continue;
                }
            }
            if let Some(constraint) = &q.constraint {
                let own = answer_value(def.kind, answer);
                let scope = self.scope(&values, own, today, language, None);
                match constraint.eval(&scope) {
                    Ok(v) if v.truthy() => {}
                    Ok(_) => state.problems.push(problem(
                        &q.name,
                        "constraint",
                        self.text(&def.constraint_message, language),
                    )),
                    Err(e) => state.problems.push(problem(&q.name, "not_checkable", Some(&e.to_string()))),
                }
            }
        }
        state
    }

    /// The choices a select offers with the current values (all of its list without a filter).
    fn offered_choices(
        &self,
        q: &Compiled,
        values: &BTreeMap<String, Value>,
        today: i64,
        language: &str,
    ) -> Option<Vec<String>> {
        let list = self.def.choices.get(q.list.as_ref()?)?;
        let mut out = Vec::new();
        for choice in list {
            let keep = q.choice_filter.as_ref().is_none_or(|f| {
                let scope = self.scope(values, Value::empty(), today, language, Some(choice));
                f.eval(&scope).map(|v| v.truthy()).unwrap_or(false)
            });
            if keep && !out.contains(&choice.name) {
                out.push(choice.name.clone());
            }
        }
        Some(out)
    }

    fn holds_all(&self, chain: &[Expr], values: &BTreeMap<String, Value>, today: i64, language: &str) -> bool {
        let scope = self.scope(values, Value::empty(), today, language, None);
        // A relevance that cannot be evaluated shows the question rather than hide it.
        chain.iter().all(|e| e.eval(&scope).map(|v| v.truthy()).unwrap_or(true))
    }

    /// Every question's value: answers (emptied when hidden) and calculations in order.
    fn values(&self, answers: &Map<String, Json>, hidden: &BTreeSet<String>, today: i64) -> BTreeMap<String, Value> {
        let mut values = BTreeMap::new();
        for q in &self.questions {
            if hidden.contains(&q.name) || q.kind == QuestionKind::Calculate {
                continue;
            }
            if let Some(answer) = answers.get(&q.name) {
                values.insert(q.name.clone(), answer_value(q.kind, answer));
            }
        }
        for &i in &self.calculation_order {
            let q = &self.questions[i];
            if hidden.contains(&q.name) {
                continue;
            }
            let scope = self.scope(&values, Value::empty(), today, &self.def.default_language, None);
            let value = q.calculation.as_ref().map_or(Ok(Value::empty()), |c| c.eval(&scope));
            values.insert(q.name.clone(), value.unwrap_or_else(|_: EvalError| Value::empty()));
        }
        values
    }

    fn scope<'a>(
        &'a self,
        values: &'a BTreeMap<String, Value>,
        current: Value,
        today: i64,
        language: &'a str,
        choice: Option<&'a Choice>,
    ) -> FormScope<'a> {
        FormScope { form: self, values, current, today, language, choice }
    }
}

struct FormScope<'a> {
    form: &'a CompiledForm,
    values: &'a BTreeMap<String, Value>,
    current: Value,
    today: i64,
    language: &'a str,
    choice: Option<&'a Choice>,
}

impl Scope for FormScope<'_> {
    fn value(&self, name: &str) -> Value {
        self.values.get(name).cloned().unwrap_or_else(Value::empty)
    }
    fn current(&self) -> Value {
        self.current.clone()
    }
    fn column(&self, name: &str) -> Value {
        let Some(choice) = self.choice else { return Value::empty() };
        let text = match name {
            "name" => Some(choice.name.clone()),
            "label" => self.form.text(&choice.label, self.language).map(str::to_string),
            _ => choice.columns.get(name).cloned(),
        };
        Value::Text(text.unwrap_or_default())
    }
    fn today(&self) -> i64 {
        self.today
    }
    fn choice_label(&self, question: &str, value: &str) -> Option<String> {
        let list = self.form.flat.iter().find(|q| q.name == question)?.list.as_ref()?;
        let choice = self.form.def.choices.get(list)?.iter().find(|c| c.name == value)?;
        self.form.text(&choice.label, self.language).map(str::to_string)
    }
}

fn problem(question: &str, code: &str, message: Option<&str>) -> AnswerProblem {
    AnswerProblem { question: question.into(), code: code.into(), message: message.map(str::to_string) }
}

fn is_empty(answer: &Json) -> bool {
    match answer {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// An answer as a value of the expression language.
fn answer_value(kind: QuestionKind, answer: &Json) -> Value {
    match answer {
        Json::Null => Value::empty(),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Num(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) if kind == QuestionKind::Date => expr::parse_date(s).map_or_else(Value::empty, Value::Date),
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => Value::Text(items.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(" ")),
        Json::Object(_) => Value::empty(),
    }
}

fn calculated_json(value: &Value) -> Json {
    match value {
        Value::Num(n) if n.is_finite() => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Value::Num(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        other => Json::String(other.text()),
    }
}

/// A `default` cell as the answer it stands for.
fn default_json(kind: QuestionKind, text: &str) -> Json {
    match kind {
        QuestionKind::Integer | QuestionKind::Decimal => {
            text.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(
                Json::String(text.into()),
                |n| {
                    if kind == QuestionKind::Integer && n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                        Json::from(n.as_f64().unwrap_or(0.0) as i64)
                    } else {
                        Json::Number(n)
                    }
                },
            )
        }
        QuestionKind::SelectMultiple => Json::Array(text.split_whitespace().map(|s| Json::String(s.into())).collect()),
        _ => Json::String(text.into()),
    }
}

/// Why `answer` cannot be an answer of `q` (its type, its length, a choice not in its list).
fn answer_type_problem(q: &Question, answer: &Json, form: &Form) -> Option<&'static str> {
    let list = q.list.as_ref().and_then(|l| form.choices.get(l));
    let in_list = |s: &str| (s == OTHER && q.allows_other()) || list.is_some_and(|l| l.iter().any(|c| c.name == s));
    let ok = match (q.kind, answer) {
        (QuestionKind::Integer, Json::Number(n)) => n.as_i64().is_some_and(|i| i.abs() < 1_000_000_000_000),
        (QuestionKind::Decimal, Json::Number(n)) => n.as_f64().is_some_and(|f| f.is_finite() && f.abs() < 1e15),
        (QuestionKind::Text, Json::String(s)) => {
            s.chars().count() <= MAX_ANSWER_CHARS && !s.chars().any(|c| c.is_control() && c != '\n')
        }
        (QuestionKind::Date, Json::String(s)) => expr::parse_date(s).is_some() && s.len() == 10,
        (QuestionKind::Acknowledge, Json::String(s)) => s == "OK",
        (QuestionKind::SelectOne, Json::String(s)) => return (!in_list(s)).then_some("unknown_choice"),
        (QuestionKind::SelectMultiple, Json::Array(items)) => {
            let names: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
            if names.len() != items.len() || names.iter().collect::<BTreeSet<_>>().len() != names.len() {
                false
            } else {
                return (!names.iter().all(|n| in_list(n))).then_some("unknown_choice");
            }
        }
        (QuestionKind::Calculate, _) => true,
        _ => false,
    };
    (!ok).then_some("invalid_type")
}

impl Question {
    /// Whether "other" is a possible answer (an `or_other` select).
    pub fn allows_other(&self) -> bool {
        self.list.is_some() && self.other
    }
}

/// Kahn's order over the calculations that read other calculations, or one circle of names.
fn calculation_order(questions: &[Compiled]) -> Result<Vec<usize>, Vec<String>> {
    let calcs: Vec<usize> = (0..questions.len()).filter(|&i| questions[i].kind == QuestionKind::Calculate).collect();
    let index: BTreeMap<&str, usize> = calcs.iter().map(|&i| (questions[i].name.as_str(), i)).collect();
    let mut reads: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in &calcs {
        let mut refs = Vec::new();
        if let Some(c) = &questions[i].calculation {
            c.references(&mut refs);
        }
        reads.insert(i, refs.iter().filter_map(|r| index.get(r.as_str()).copied()).collect());
    }
    let mut done: Vec<usize> = Vec::new();
    let mut left: Vec<usize> = calcs.clone();
    while !left.is_empty() {
        let ready: Vec<usize> = left.iter().copied().filter(|i| reads[i].iter().all(|r| done.contains(r))).collect();
        if ready.is_empty() {
            // Walk from any remaining calculation along unresolved reads until a name repeats.
            let mut path = vec![left[0]];
            loop {
                let last = path[path.len() - 1];
                let Some(&next) = reads[&last].iter().find(|r| left.contains(r)) else { break };
                if let Some(start) = path.iter().position(|&p| p == next) {
                    let mut names: Vec<String> = path[start..].iter().map(|&p| questions[p].name.clone()).collect();
                    names.push(questions[next].name.clone());
                    return Err(names);
                }
                path.push(next);
            }
            return Err(path.iter().map(|&p| questions[p].name.clone()).collect());
        }
        left.retain(|i| !ready.contains(i));
        done.extend(ready);
    }
    Ok(done)
}

/// The `${name}` references in a label or hint (shown with the answer in their place).
pub fn references_in_label(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(after[..end].trim().to_string());
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests;
