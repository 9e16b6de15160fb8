//! Files generated from the Rust code and committed for the UI: the TypeScript declarations of
//! the app's and the dashboard's types, and the real commands' recorded answers the tablet's fake
//! backend replays. One way to write them and one check that they are current, so a change on
//! the Rust side fails the tests until the file is regenerated (and the UI type-checks against
//! it). `OUTPOST_UPDATE_GENERATED=1` rewrites instead of comparing.

use std::fmt::Write as _;
use std::path::Path;
use ts_rs::{Config, TS};

/// The `ts-rs` settings of every generated file: 64-bit integers become `number` (the values
/// the UI sees, milliseconds and counts, stay far below 2^53).
pub fn ts_config() -> Config {
    Config::new().with_large_int("number")
}

/// The first lines of a generated TypeScript file: where it comes from and how to rewrite it.
pub fn ts_header(source: &str, update: &str) -> String {
    format!(
        "// Generated from the Rust types by {source}: do not edit.\n// OUTPOST_UPDATE_GENERATED=1 {update} rewrites it.\n\n"
    )
}

/// `export type ...` for one Rust type.
pub fn ts_decl<T: TS>(cfg: &Config) -> String {
    format!("export {}\n", T::decl(cfg))
}

/// `export const NAME = [...] as const satisfies readonly TYPE[];`: the accepted values of a
/// string enumeration, checked by the compiler against the generated type.
/// The declarations of core's form types (definitions, published versions, the check's answer),
/// which the tablet's and the dashboard's generated types both need.
pub fn ts_form_decls(cfg: &Config) -> Vec<String> {
    use outpost_core::forms::{
        AnswerProblem, Choice, Form, FormKind, FormLanguage, FormState, Group, Item, Question, QuestionKind,
    };
    use outpost_core::records::{FormStatus, PublishedForm};
    vec![
        ts_decl::<FormKind>(cfg),
        ts_decl::<FormLanguage>(cfg),
        ts_decl::<QuestionKind>(cfg),
        ts_decl::<Question>(cfg),
        ts_decl::<Group>(cfg),
        ts_decl::<Item>(cfg),
        ts_decl::<Choice>(cfg),
        ts_decl::<Form>(cfg),
        ts_decl::<FormStatus>(cfg),
        ts_decl::<PublishedForm>(cfg),
        ts_decl::<AnswerProblem>(cfg),
        ts_decl::<FormState>(cfg),
    ]
}

pub fn ts_values(name: &str, ty: &str, all: &[&str]) -> String {
    let list: Vec<String> = all.iter().map(|v| format!("'{v}'")).collect();
    format!("export const {name} = [{}] as const satisfies readonly {ty}[];\n", list.join(", "))
}

/// [`ts_values`] of a Rust enumeration, each value as serde writes it (so the list cannot
/// differ from what the server sends).
pub fn ts_enum_values<T: serde::Serialize>(name: &str, ty: &str, all: &[T]) -> String {
    let names: Vec<String> = all
        .iter()
        .map(|v| match serde_json::to_value(v) {
            Ok(serde_json::Value::String(s)) => s,
            other => panic!("{name}: {other:?} is not written as a string"),
        })
        .collect();
    ts_values(name, ty, &names.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `export const NAME = value;` for each limit the UI must apply as the Rust side does.
pub fn ts_consts(values: &[(&str, u64)]) -> String {
    let mut out = String::new();
    for (name, value) in values {
        let _ = writeln!(out, "export const {name} = {value};");
    }
    out
}

/// `export const NAME = 'value';` for each text constant.
pub fn ts_text_consts(values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in values {
        let _ = writeln!(out, "export const {name} = {};", serde_json::Value::String(value.to_string()));
    }
    out
}

/// Fails when `file` differs from `fresh`, naming the command that rewrites it; rewrites it
/// instead when `OUTPOST_UPDATE_GENERATED` is set.
pub fn check_current(file: &Path, fresh: &str, update: &str) {
    if std::env::var_os("OUTPOST_UPDATE_GENERATED").is_some() {
        if let Err(e) = std::fs::write(file, fresh) {
            panic!("cannot write {}: {e}", file.display());
        }
        return;
    }
    let committed = std::fs::read_to_string(file).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is out of date with the Rust code: run OUTPOST_UPDATE_GENERATED=1 {update}",
        file.display()
    );
}
