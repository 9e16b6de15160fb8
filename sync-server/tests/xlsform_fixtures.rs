//! Every real XLSForm file of `../shared/fixtures/xlsform/` (from the XLSForm reference
//! converter's own tests) either imports with the meaning the XLSForm spec gives it, or is
//! refused with a specific message naming the sheet, row and column. Read as an upload is:
//! bytes → `calamine` → core's importer.

use outpost_core::forms::expr::parse_date;
use outpost_core::forms::{FormKind, QuestionKind};
use outpost_server::services::forms::{Checked, check_upload};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/xlsform")
}

fn upload(name: &str) -> Checked {
    let bytes = std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    check_upload(&bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ready(name: &str) -> outpost_core::forms::xlsform::Imported {
    match upload(name) {
        Checked::Ready(imported) => *imported,
        Checked::Refused(errors) => panic!("{name} was refused: {errors:#?}"),
    }
}

/// Asserts `name` is refused with an error at `(row, column)` whose message holds `words`.
fn refused(name: &str, expected: &[(u32, &str, &str)]) {
    let Checked::Refused(errors) = upload(name) else { panic!("{name} was accepted") };
    for (row, column, words) in expected {
        assert!(
            errors.iter().any(|e| e.row == *row && e.column == *column && e.message.contains(words)),
            "{name}: no error at row {row}, column {column} saying {words:?} in {errors:#?}"
        );
    }
}

fn names(imported: &outpost_core::forms::xlsform::Imported) -> Vec<String> {
    imported.form.questions().iter().map(|q| q.name.clone()).collect()
}

fn answers(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn the_smallest_forms_import() {
    let form = ready("text_and_integer.xlsx");
    assert_eq!(names(&form), ["your_name", "your_age"]);
    let kinds: Vec<QuestionKind> = form.form.questions().iter().map(|q| q.kind).collect();
    assert_eq!(kinds, [QuestionKind::Text, QuestionKind::Integer]);
    assert_eq!((form.form.def.id.as_str(), form.form.def.kind), ("text_and_integer", FormKind::Survey));
    assert_eq!(form.form.text(&form.form.questions()[1].label, "en"), Some("How many years old are you?"));

    let form = ready("yes_or_no_question.xlsx");
    let q = &form.form.questions()[0];
    assert_eq!((q.kind, q.list.as_deref()), (QuestionKind::SelectOne, Some("yes_or_no")));
    let state = form.form.check(&answers(json!({"good_day": "maybe"})), 0, "en");
    assert_eq!(state.problems[0].code, "unknown_choice");
}

#[test]
fn groups_and_other_sheet_names_import() {
    let form = ready("field-list.xlsx");
    assert_eq!(names(&form), ["table_list_question"]);
    assert!(matches!(&form.form.def.items[0], outpost_core::forms::Item::Group(g) if g.name == "name"));
    let languages: Vec<&str> = form.form.def.languages.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(languages, ["", "chinese", "english"]);
    let yes = &form.form.def.choices["yes_no"][0];
    assert_eq!(form.form.text(&yes.label, "zh"), Some("是"), "chinese is known by its name");
    assert!(form.warnings.iter().any(|w| w.message.contains("media columns are ignored")), "{:?}", form.warnings);

    let form = ready("survey_no_name.xlsx");
    assert_eq!(names(&form), ["state"]);
    assert!(form.warnings.iter().any(|w| w.sheet == "Sheet1" && w.message.contains("read as the survey")));

    let form = ready("extra_columns.xlsx");
    assert_eq!(names(&form), ["a"]);
}

#[test]
fn calculations_from_an_old_xls_file_compute() {
    let form = ready("calculate.xls");
    assert_eq!(
        names(&form),
        ["calculate_test", "calculate_test_output", "calculate_test_2", "calculate_test_2_output"]
    );
    let state = form.form.check(&Map::new(), parse_date("2026-12-05").unwrap_or(0), "");
    assert_eq!(state.calculated["calculate_test"], json!(4.0));
    assert_eq!(state.calculated["calculate_test_2"], json!("success"));
    assert!(state.problems.is_empty(), "{:?}", state.problems);
}

#[test]
fn or_other_and_specify_other_add_the_other_choice() {
    let form = ready("specify_other.xlsx");
    assert_eq!(names(&form), ["sex", "sex_other"]);
    let state = form.form.check(&answers(json!({"sex": "other", "sex_other": "prefer to describe"})), 0, "English");
    assert!(state.problems.is_empty() && state.shown.contains("sex_other"), "{state:?}");
    let state = form.form.check(&answers(json!({"sex": "female", "sex_other": "x"})), 0, "English");
    assert_eq!(state.problems[0].code, "not_relevant", "the text of other is hidden unless other is chosen");

    // `pastel=yes` compares the column pastel with a column called yes, which the choices
    // sheet does not have (the text would be 'yes'): refused rather than offering nothing.
    refused("or_other.xlsx", &[(3, "choice_filter", "`yes` is not a column of list colors")]);
}

#[test]
fn cascading_selects_offer_what_their_filter_keeps() {
    let form = ready("choice_filter_test.xlsx");
    assert_eq!(names(&form), ["state", "county", "city"]);
    let state = form.form.check(&answers(json!({"state": "texas", "county": "king", "city": "dumont"})), 0, "");
    assert_eq!(state.choices["county"], ["king", "cameron"]);
    assert_eq!(state.choices["city"], ["dumont", "finney", "seattle", "redmond"]);
    assert!(state.problems.is_empty(), "{:?}", state.problems);
    let state = form.form.check(&answers(json!({"state": "washington", "county": "cameron"})), 0, "");
    assert_eq!(state.problems[0].code, "unknown_choice");
}

#[test]
fn what_outpost_cannot_or_must_not_do_is_refused_by_row() {
    refused("bad_calc.xlsx", &[(2, "calculation", "not closed with its quote")]);
    refused("duplicate_columns.xlsx", &[(1, "E", "\"label\" is there twice (columns D and E)")]);
    refused("group.xlsx", &[(4, "type", "never stores phone numbers")]);
    refused("hidden.xls", &[(2, "type", "hidden questions are not supported")]);
    refused(
        "case_insensitivity.xlsx",
        &[(3, "type", "`select_one_external` is not supported"), (4, "type", "records no locations")],
    );
    refused(
        "widgets.xls",
        &[
            (6, "type", "dates, not times of day"),
            (11, "type", "records no locations"),
            (12, "type", "barcodes are not supported"),
            (13, "type", "no pictures, sounds or files"),
        ],
    );
    refused(
        "flat_xlsform_test.xlsx",
        &[(32, "type", "dates, not times of day"), (36, "type", "no pictures, sounds or files")],
    );
}
