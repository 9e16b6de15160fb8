//! The oracles of forms: the XLSForm expression parser and evaluator, and the importer of
//! XLSForm sheets, both of which read what a coordinator uploads.

use crate::oracle::Outcome;
use outpost_core::forms::expr::{self, EvalError, Place, Scope, Value};
use outpost_core::forms::xlsform::{self, Sheet};
use outpost_core::forms::{CompiledForm, Form};

/// A scope with a few answers, `.` = 7, and a choice column.
struct Fixed;

impl Scope for Fixed {
    fn value(&self, name: &str) -> Value {
        match name {
            "age" => Value::Num(34.0),
            "drugs" => Value::Text("heroin methadone".into()),
            "visit" => Value::Date(20_000),
            _ => Value::empty(),
        }
    }
    fn current(&self) -> Value {
        Value::Num(7.0)
    }
    fn column(&self, name: &str) -> Value {
        Value::Text(name.to_string())
    }
    fn today(&self) -> i64 {
        20_427
    }
    fn choice_label(&self, _: &str, value: &str) -> Option<String> {
        Some(value.to_uppercase())
    }
}

/// The `form_expression` target's oracle (see the crate documentation).
pub fn form_expression(input: &[u8]) -> Result<Outcome, String> {
    let Ok(text) = std::str::from_utf8(input) else { return Ok(Outcome::Rejected("not UTF-8".into())) };
    let mut parsed = 0;
    for place in [Place::Plain, Place::OwnAnswer, Place::ChoiceFilter] {
        let first = expr::parse(text, place);
        if first != expr::parse(text, place) {
            return Err(format!("parsing {text:?} twice gave two answers"));
        }
        match first {
            Err(e) => {
                if e.message.is_empty() || e.at > text.chars().count() {
                    return Err(format!("{text:?}: a refusal without a message or outside the text: {e:?}"));
                }
            }
            Ok(e) => {
                parsed += 1;
                let mut refs = Vec::new();
                e.references(&mut refs);
                if let Some(r) = refs.iter().find(|r| !text.contains(r.as_str())) {
                    return Err(format!("{text:?}: refers to {r}, which the text does not name"));
                }
                match e.eval(&Fixed) {
                    Ok(v) => {
                        if v.text().chars().count() > expr::MAX_TEXT_CHARS {
                            return Err(format!("{text:?}: a text longer than the limit"));
                        }
                    }
                    Err(EvalError::DivisionByZero | EvalError::BadRegex(_) | EvalError::TooLong) => {}
                }
            }
        }
    }
    Ok(if parsed > 0 { Outcome::Accepted("parsed".into()) } else { Outcome::Rejected("refused".into()) })
}

/// Fuzzed bytes as a workbook: sheets split by `\x1e` (the first line is the name), rows by
/// newlines, cells by tabs.
fn sheets(text: &str) -> Vec<Sheet> {
    text.split('\u{1e}')
        .map(|sheet| {
            let mut lines = sheet.split('\n');
            let name = lines.next().unwrap_or_default().to_string();
            Sheet { name, rows: lines.map(|l| l.split('\t').map(str::to_string).collect()).collect() }
        })
        .collect()
}

/// The `xlsform_sheets` target's oracle (see the crate documentation).
pub fn xlsform_sheets(input: &[u8]) -> Result<Outcome, String> {
    let Ok(text) = std::str::from_utf8(input) else { return Ok(Outcome::Rejected("not UTF-8".into())) };
    let sheets = sheets(text);
    match xlsform::import(&sheets, "fuzzed") {
        Err(errors) => {
            if errors.is_empty() {
                return Err("refused without saying why".into());
            }
            for e in &errors {
                let known = e.sheet == "settings"
                    || e.sheet == "choices"
                    || e.sheet == "survey"
                    || sheets.iter().any(|s| s.name == e.sheet);
                if e.message.is_empty() || !known {
                    return Err(format!("a refusal that names no sheet of the workbook or says nothing: {e:?}"));
                }
            }
            Ok(Outcome::Rejected(format!("{} problems", errors.len())))
        }
        Ok(imported) => {
            let def = &imported.form.def;
            let json = serde_json::to_string(def).map_err(|e| format!("the definition does not encode: {e}"))?;
            let back: Form = serde_json::from_str(&json).map_err(|e| format!("the definition does not decode: {e}"))?;
            if &back != def {
                return Err("the definition changes through JSON".into());
            }
            let again =
                CompiledForm::compile(back).map_err(|e| format!("an imported form does not compile again: {e:?}"))?;
            if again.questions().len() != imported.form.questions().len() {
                return Err("compiling again changed the questions".into());
            }
            let state = again.check(&serde_json::Map::new(), 20_427, "en");
            if state.problems.iter().any(|p| p.code != "required") {
                return Err(format!("no answers gave other problems than required: {:?}", state.problems));
            }
            Ok(Outcome::Accepted(format!("{} questions", again.questions().len())))
        }
    }
}
