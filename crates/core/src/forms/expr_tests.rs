//! Table-driven tests of the expression language: what real forms write, XPath printing,
//! division by zero, refusals with positions, references and columns.

use super::*;
use std::collections::BTreeMap;

struct Answers(BTreeMap<&'static str, Value>, Value);

impl Scope for Answers {
    fn value(&self, name: &str) -> Value {
        self.0.get(name).cloned().unwrap_or_else(Value::empty)
    }
    fn current(&self) -> Value {
        self.1.clone()
    }
    fn column(&self, name: &str) -> Value {
        Value::Text(if name == "cf" { "washington".into() } else { String::new() })
    }
    fn today(&self) -> i64 {
        parse_date("2026-12-05").unwrap_or(0)
    }
    fn choice_label(&self, question: &str, value: &str) -> Option<String> {
        (question == "colour" && value == "red").then(|| "Red".to_string())
    }
}

fn scope() -> Answers {
    Answers(
        BTreeMap::from([
            ("age", Value::Num(34.0)),
            ("name", Value::Text("Ana".into())),
            ("drugs", Value::Text("heroin methadone".into())),
            ("colour", Value::Text("red".into())),
            ("visit", Value::Date(parse_date("2026-11-30").unwrap_or(0))),
            ("zero", Value::Num(0.0)),
        ]),
        Value::Num(7.0),
    )
}

/// `(expression, place, expected value)`.
fn check(cases: &[(&str, Place, Value)]) {
    for (text, place, expected) in cases {
        let expr = parse(text, *place).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(&expr.eval(&scope()).unwrap_or_else(|e| panic!("{text}: {e}")), expected, "{text}");
    }
}

#[test]
fn evaluates_what_real_forms_write() {
    use Place::{ChoiceFilter, OwnAnswer, Plain};
    let (t, f) = (Value::Bool(true), Value::Bool(false));
    check(&[
        ("2+2", Plain, Value::Num(4.0)),
        ("1 + 2 * 3 - 4 div 2", Plain, Value::Num(5.0)),
        ("(1 + 2) * 3", Plain, Value::Num(9.0)),
        ("7 mod 3", Plain, Value::Num(1.0)),
        ("-${age} + 1", Plain, Value::Num(-33.0)),
        ("${age} >= 18 and ${age} < 65", Plain, t.clone()),
        ("${age} > 40 or ${name} = 'Ana'", Plain, t.clone()),
        ("${age} != 34", Plain, f.clone()),
        ("${missing} = ''", Plain, t.clone()),
        ("${missing} > 3", Plain, f.clone()),
        (". < 10", OwnAnswer, t.clone()),
        (". > 10.51 and . < 18.39", OwnAnswer, f.clone()),
        ("selected(${drugs}, 'methadone')", Plain, t.clone()),
        ("not(selected(${drugs}, 'alcohol'))", Plain, t.clone()),
        ("count-selected(${drugs})", Plain, Value::Num(2.0)),
        ("string-length(${name})", Plain, Value::Num(3.0)),
        ("if(${age} > 18, 'adult', 'minor')", Plain, Value::Text("adult".into())),
        ("coalesce(${missing}, ${name})", Plain, Value::Text("Ana".into())),
        ("int(7.9)", Plain, Value::Num(7.0)),
        ("int(-7.9)", Plain, Value::Num(-7.0)),
        ("number('12') + 1", Plain, Value::Num(13.0)),
        ("regex(${name}, '^[A-Z][a-z]+$')", Plain, t.clone()),
        ("regex('abc', '[0-9]')", Plain, f.clone()),
        ("today() > ${visit}", Plain, t.clone()),
        ("${visit} >= '2026-12-01'", Plain, f.clone()),
        ("${visit} = '2026-11-30'", Plain, t.clone()),
        ("jr:choice-name(${colour}, '${colour}')", Plain, Value::Text("Red".into())),
        ("concat(${name}, ' is ', ${age})", Plain, Value::Text("Ana is 34".into())),
        ("true() = 1", Plain, t.clone()),
        ("round(2.567, 2)", Plain, Value::Num(2.57)),
        ("cf = 'washington'", ChoiceFilter, t.clone()),
        ("${name}='Ana'", Plain, t),
        (
            "if(${calculate_test_output}=${calculate_test_output}, 'success', 'error')",
            Plain,
            Value::Text("success".into()),
        ),
    ]);
}

#[test]
fn values_print_as_xpath_does() {
    assert_eq!(Value::Num(4.0).text(), "4");
    assert_eq!(Value::Num(2.5).text(), "2.5");
    assert_eq!(Value::Num(f64::NAN).text(), "NaN");
    assert_eq!(Value::Date(parse_date("2024-02-29").unwrap_or(0)).text(), "2024-02-29");
    assert!(Value::Text("abc".into()).number().is_nan());
    assert!(!Value::Text(String::new()).truthy());
}

#[test]
fn division_by_zero_is_an_error_not_infinity() {
    for text in ["1 div 0", "${age} div ${zero}", "5 mod 0"] {
        let expr = parse(text, Place::Plain).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(expr.eval(&scope()), Err(EvalError::DivisionByZero), "{text}");
    }
}

#[test]
fn refuses_at_parse_time_with_a_reason_and_a_position() {
    let refused = [
        ("because it is not an expression", Place::Plain, "`because` is not a value"),
        ("because pyxform doesn't know what to do", Place::Plain, "not closed with its quote"),
        ("${age} >", Place::Plain, "ends too early"),
        ("(1 + 2", Place::Plain, "not closed"),
        ("now() > 3", Place::Plain, "dates, not times of day"),
        ("pulldata('x', 'y', 'z', 'w')", Place::Plain, "cannot read other data sets"),
        ("frobnicate(1)", Place::Plain, "not a function Outpost knows"),
        ("if(1, 2)", Place::Plain, "takes 3 arguments, not 2"),
        (". > 3", Place::Plain, "only be used in a constraint"),
        ("/data/age > 3", Place::Plain, "paths such as /data/q"),
        ("regex(., '[a-')", Place::OwnAnswer, "not valid"),
        ("'open", Place::Plain, "not closed with its quote"),
        ("$age", Place::Plain, "${name}"),
        ("jr:choice-name(${colour}, 'colour')", Place::Plain, "in quotes: '${name}'"),
        ("1 2", Place::Plain, "operator or a comma missing"),
        ("", Place::Plain, "empty"),
        ("pastel = yes", Place::Plain, "`pastel` is not a value"),
    ];
    for (text, place, expected) in refused {
        match parse(text, place) {
            Ok(e) => panic!("{text:?} was accepted as {e:?}"),
            Err(e) => assert!(e.message.contains(expected), "{text:?}: {e}"),
        }
    }
    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert!(parse(&deep, Place::Plain).is_err_and(|e| e.message.contains("nested")));
    let long = "1 + ".repeat(2_000) + "1";
    assert!(parse(&long, Place::Plain).is_err_and(|e| e.message.contains("at most")));
    assert_eq!(parse("1 +", Place::Plain).map_err(|e| e.at), Err(3));
}

#[test]
fn references_and_columns_are_listed() {
    let expr = parse("${a} + count-selected(${b}) = jr:choice-name(${c}, '${d}')", Place::Plain);
    let mut refs = Vec::new();
    expr.as_ref().map(|e| e.references(&mut refs)).ok();
    assert_eq!(refs, ["a", "b", "c", "d"]);
    let mut columns = Vec::new();
    parse("cf = ${state} and pastel = 'yes'", Place::ChoiceFilter).map(|e| e.columns(&mut columns)).ok();
    assert_eq!(columns, ["cf", "pastel"]);
}
