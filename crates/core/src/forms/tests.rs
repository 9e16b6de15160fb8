//! Forms from in-memory sheets: import, refusals with their places, and checks of answers.
//! (The real XLSForm files of `../shared/fixtures/xlsform/` are read by the server's tests.)

use super::xlsform::{Sheet, column_letters, import};
use super::*;
use serde_json::json;

fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
    Sheet { name: name.into(), rows: rows.iter().map(|r| r.iter().map(|c| (*c).to_string()).collect()).collect() }
}

fn day(text: &str) -> i64 {
    expr::parse_date(text).unwrap_or(0)
}

/// A small monitoring form in two languages with skip logic, a constraint, a calculation, a
/// group, `or_other` and a cascading select.
fn monitoring() -> Vec<Sheet> {
    vec![
        sheet(
            "survey",
            &[
                &[
                    "type",
                    "name",
                    "label::English (en)",
                    "label::Русский (ru)",
                    "relevant",
                    "constraint",
                    "constraint_message::English (en)",
                    "required",
                    "calculation",
                    "choice_filter",
                ],
                &["integer", "age", "Age", "Возраст", "", ". >= 15 and . < 100", "Between 15 and 99", "yes", "", ""],
                &[
                    "select_one yes_no",
                    "injects",
                    "Injects drugs?",
                    "Употребляет инъекционно?",
                    "",
                    "",
                    "",
                    "yes",
                    "",
                    "",
                ],
                &["begin group", "injecting", "Injecting", "Инъекции", "${injects} = 'yes'", "", "", "", "", ""],
                &[
                    "select_multiple drugs or_other",
                    "drugs",
                    "Which drugs?",
                    "Какие вещества?",
                    "",
                    "",
                    "",
                    "yes",
                    "",
                    "",
                ],
                &["integer", "years", "Years injecting", "Лет употребления", "", ". <= ${age}", "", "", "", ""],
                &["end group", "", "", "", "", "", "", "", "", ""],
                &["calculate", "adult", "", "", "", "", "", "", "if(${age} >= 18, 'yes', 'no')", ""],
                &["select_one regions", "region", "Region", "Регион", "", "", "", "", "", ""],
                &["select_one cities", "city", "City", "Город", "", "", "", "", "", "region = ${region}"],
                &["note", "thanks", "Thank you, ${age}", "Спасибо", "", "", "", "", "", ""],
            ],
        ),
        sheet(
            "choices",
            &[
                &["list_name", "name", "label::English (en)", "label::Русский (ru)", "region"],
                &["yes_no", "yes", "Yes", "Да", ""],
                &["yes_no", "no", "No", "Нет", ""],
                &["drugs", "heroin", "Heroin", "Героин", ""],
                &["drugs", "methadone", "Methadone", "Метадон", ""],
                &["regions", "north", "North", "Север", ""],
                &["regions", "south", "South", "Юг", ""],
                &["cities", "a", "A-town", "А-город", "north"],
                &["cities", "b", "B-town", "Б-город", "south"],
            ],
        ),
        sheet(
            "settings",
            &[
                &["form_title", "form_id", "version", "default_language"],
                &["Monitoring", "cbm", "2026-12", "English (en)"],
            ],
        ),
    ]
}

fn answers(value: serde_json::Value) -> Map<String, Json> {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_form_imports_with_its_languages_groups_and_lists() {
    let imported = import(&monitoring(), "file").unwrap_or_else(|e| panic!("{e:?}"));
    let form = &imported.form;
    assert_eq!((form.def.id.as_str(), form.def.version.as_str()), ("cbm", "2026-12"));
    assert_eq!(form.def.default_language, "English (en)");
    let codes: Vec<_> = form.def.languages.iter().map(|l| l.code.clone().unwrap_or_default()).collect();
    assert_eq!(codes, ["en", "ru"]);
    let names: Vec<&str> = form.questions().iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["age", "injects", "drugs", "drugs_other", "years", "adult", "region", "city", "thanks"]);
    assert_eq!(form.text(&form.questions()[0].label, "ru"), Some("Возраст"));
    assert_eq!(
        form.text(&form.questions()[0].label, "uk"),
        Some("Age"),
        "a missing language falls back to the default"
    );
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    // The definition survives JSON (it travels to tablets as a reference record).
    let json = serde_json::to_string(&form.def).unwrap_or_default();
    let back: Form = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, form.def);
}

#[test]
fn answers_are_checked_as_the_form_says() {
    let form = import(&monitoring(), "file").unwrap_or_else(|e| panic!("{e:?}")).form;
    let today = day("2026-12-05");
    // Skip logic: the injecting group shows only after "yes"; its required question then counts.
    let state = form.check(&answers(json!({"age": 30, "injects": "no"})), today, "en");
    assert!(!state.shown.contains("injecting") && !state.shown.contains("drugs"));
    assert!(state.problems.is_empty(), "{:?}", state.problems);
    assert_eq!(state.calculated["adult"], json!("yes"));
    let state = form.check(&answers(json!({"age": 30, "injects": "yes"})), today, "en");
    assert!(state.shown.contains("injecting") && state.shown.contains("drugs"));
    assert_eq!(state.problems, [problem("drugs", "required", None)]);
    // A constraint with its message in the reader's language (or the default one).
    let state = form.check(&answers(json!({"age": 12, "injects": "no"})), today, "ru");
    assert_eq!(state.problems, [problem("age", "constraint", Some("Between 15 and 99"))]);
    // `.` and a reference in one constraint.
    let state =
        form.check(&answers(json!({"age": 20, "injects": "yes", "drugs": ["heroin"], "years": 25})), today, "en");
    assert_eq!(state.problems, [problem("years", "constraint", None)]);
    // or_other: "other" is a choice, and its text question shows.
    let state = form.check(
        &answers(json!({"age": 20, "injects": "yes", "drugs": ["other"], "drugs_other": "spice"})),
        today,
        "en",
    );
    assert!(state.problems.is_empty() && state.shown.contains("drugs_other"), "{:?}", state.problems);
    // Answers to hidden questions, unknown questions, wrong types and unknown choices are refused.
    let state =
        form.check(&answers(json!({"age": "thirty", "injects": "maybe", "years": 3, "shoe_size": 44})), today, "en");
    let mut codes: Vec<(String, String)> =
        state.problems.iter().map(|p| (p.question.clone(), p.code.clone())).collect();
    codes.sort();
    let expected = [
        ("age", "invalid_type"),
        ("injects", "unknown_choice"),
        ("shoe_size", "unknown_question"),
        ("years", "not_relevant"),
    ];
    assert_eq!(codes, expected.map(|(q, c)| (q.to_string(), c.to_string())));
    // A cascading select offers only what its filter keeps, and refuses the rest.
    let state = form.check(&answers(json!({"age": 40, "injects": "no", "region": "north", "city": "b"})), today, "en");
    assert_eq!(state.choices["city"], ["a"]);
    assert_eq!(state.problems, [problem("city", "unknown_choice", None)]);
    // A note takes no answer.
    let state = form.check(&answers(json!({"age": 40, "injects": "no", "thanks": "ok"})), today, "en");
    assert_eq!(state.problems, [problem("thanks", "not_answerable", None)]);
}

#[test]
fn a_hidden_answer_hides_what_depends_on_it() {
    let sheets = vec![sheet(
        "survey",
        &[
            &["type", "name", "label", "relevant"],
            &["integer", "a", "A", ""],
            &["integer", "b", "B", "${a} > 1"],
            &["integer", "c", "C", "${b} > 1"],
        ],
    )];
    let form = import(&sheets, "chain").unwrap_or_else(|e| panic!("{e:?}")).form;
    let state = form.check(&answers(json!({"a": 0, "b": 5})), 0, "");
    assert!(!state.shown.contains("b") && !state.shown.contains("c"), "c hides once b is hidden: {:?}", state.shown);
    assert_eq!(state.problems, [problem("b", "not_relevant", None)]);
}

#[test]
fn every_problem_is_reported_with_its_sheet_row_and_column() {
    let sheets = vec![
        sheet(
            "survey",
            &[
                &["type", "name", "label", "relevant", "calculation", "label"],
                &["integer", "age", "Age", "${agee} > 3", "", ""],
                &["select_one colours", "colour", "Colour", "", "", ""],
                &["calculate", "x", "", "", "${y} + 1", ""],
                &["calculate", "y", "", "", "${x} + 1", ""],
                &["integer", "age", "Again", "", "", ""],
                &["geopoint", "where", "Where", "", "", ""],
                &["begin repeat", "kids", "Kids", "", "", ""],
                &["phone number", "phone", "Phone", "", "", ""],
                &["text", "2bad", "Bad name", "", "", ""],
                &["calculate", "bad", "", "", "because it is not an expression", ""],
                &["begin group", "open", "Open", "", "", ""],
            ],
        ),
        sheet(
            "choices",
            &[&["list_name", "name", "label"], &["yes_no", "yes", "Yes"], &["yes_no", "yes", "Yes again"]],
        ),
    ];
    let errors = import(&sheets, "bad").err().unwrap_or_default();
    let found: Vec<(u32, String)> = errors.iter().map(|e| (e.row, e.column.clone())).collect();
    let expect = |row: u32, column: &str, words: &str| {
        assert!(
            errors.iter().any(|e| e.row == row && e.column == column && e.message.contains(words)),
            "row {row} {column} {words:?} not in {errors:#?}"
        );
    };
    expect(1, "F", "is there twice");
    expect(3, "name", "list yes_no has the choice \"yes\" twice");
    expect(3, "type", "choice list colours is not in the choices sheet");
    expect(6, "name", "used twice");
    expect(7, "type", "records no locations");
    expect(8, "type", "repeats are not supported");
    expect(9, "type", "never stores phone numbers");
    expect(10, "name", "not a valid name");
    expect(12, "type", "not closed with end group");
    assert!(found.len() >= 9, "{found:?}");
    // Expressions are checked once the structure is right: names, syntax and circles.
    let sheets = vec![sheet(
        "survey",
        &[
            &["type", "name", "label", "relevant", "calculation"],
            &["integer", "age", "Age", "${agee} > 3", ""],
            &["calculate", "x", "", "", "${y} + 1"],
            &["calculate", "y", "", "", "${x} + 1"],
            &["calculate", "bad", "", "", "because it is not an expression"],
        ],
    )];
    let errors = import(&sheets, "bad").err().unwrap_or_default();
    let has = |row: u32, column: &str, words: &str| {
        errors.iter().any(|e| e.row == row && e.column == column && e.message.contains(words))
    };
    assert!(has(2, "relevant", "${agee} is not a question"), "{errors:#?}");
    assert!(has(5, "calculation", "`because` is not a value"), "{errors:#?}");
    assert!(has(3, "calculation", "circle: x → y → x") || has(4, "calculation", "circle"), "{errors:#?}");
    assert!(errors.iter().all(|e| e.sheet == "survey"));
}

#[test]
fn limits_are_refused_by_name() {
    let mut rows: Vec<Vec<String>> = vec![vec!["type".into(), "name".into(), "label".into()]];
    rows.extend((0..2_100).map(|i| vec!["integer".into(), format!("q{i}"), "Q".into()]));
    let big = vec![Sheet { name: "survey".into(), rows }];
    let errors = import(&big, "big").err().unwrap_or_default();
    assert!(errors[0].message.contains("at most 2000 rows"), "{errors:?}");
    let huge_cell = vec![sheet("survey", &[&["type", "name", "label"], &["text", "a", &"x".repeat(20_000)]])];
    let errors = import(&huge_cell, "cell").err().unwrap_or_default();
    assert!(
        errors.iter().any(|e| e.row == 2 && e.column == "C" && e.message.contains("at most 10000 characters")),
        "{errors:?}"
    );
    assert!(import(&[], "none").is_err_and(|e| e[0].message.contains("no survey sheet")));
    assert_eq!(
        (column_letters(0), column_letters(25), column_letters(26), column_letters(701)),
        ("A".into(), "Z".into(), "AA".into(), "ZZ".into())
    );
}

#[test]
fn metadata_rows_are_skipped_with_a_warning() {
    let sheets = vec![sheet(
        "survey",
        &[&["type", "name", "label"], &["start", "start", ""], &["deviceid", "deviceid", ""], &["text", "q", "Q"]],
    )];
    let imported = import(&sheets, "meta").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(imported.form.questions().len(), 1);
    assert_eq!(imported.warnings.iter().map(|w| w.row).collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn defaults_are_the_answers_a_form_starts_with() {
    let sheets = vec![
        sheet(
            "survey",
            &[
                &["type", "name", "label", "default"],
                &["integer", "visits", "Visits", "1"],
                &["select_multiple things", "kit", "Kit", "syringes swabs"],
                &["text", "where", "Where", ""],
            ],
        ),
        sheet(
            "choices",
            &[&["list_name", "name", "label"], &["things", "syringes", "Syringes"], &["things", "swabs", "Swabs"]],
        ),
    ];
    let form = import(&sheets, "defaults").map(|i| i.form).unwrap_or_else(|e| panic!("{e:?}"));
    let state = form.check(&Map::new(), day("2026-12-01"), "");
    assert_eq!(
        state.defaults,
        [("kit".to_string(), json!(["syringes", "swabs"])), ("visits".to_string(), json!(1))].into_iter().collect()
    );
    let answers = state.defaults.clone().into_iter().collect::<Map<_, _>>();
    assert!(form.check(&answers, day("2026-12-01"), "").problems.is_empty(), "the defaults are valid answers");
}
