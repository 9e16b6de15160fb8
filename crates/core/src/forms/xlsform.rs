//! XLSForm, the spreadsheet format of ODK, KoboToolbox and CommCare, turned into a [`Form`]:
//! the `survey` sheet (one question or group per row), `choices` (the choice lists) and
//! `settings`. The caller reads the workbook (the server, with `calamine`) and passes each sheet
//! as rows of cell texts; everything the format means is decided here. Every problem is reported
//! with its sheet, row and column, all at once, and a form with any problem is not imported.
//!
//! What Outpost supports and refuses is listed in `docs/guides/writing-forms.md`; in short:
//! the question types of [`QuestionKind`] (with their usual aliases), groups, `or_other`,
//! `choice_filter`, labels, hints and messages in several languages. Repeats, media, locations,
//! times, external data and questions that identify a person (phone numbers, e-mail) are refused
//! with a reason; metadata rows (`start`, `end`, `today`, `deviceid`, ...) are skipped with a
//! warning, since Outpost records when and where a response was made itself.

use super::expr;
use super::{
    Choice, CompiledForm, Form, FormError, FormKind, FormLanguage, Group, Item, OTHER, Question, QuestionKind, Text,
};
use std::collections::{BTreeMap, BTreeSet};

/// Most rows of the survey sheet.
pub const MAX_SURVEY_ROWS: usize = 2_000;
/// Most rows of the choices sheet.
pub const MAX_CHOICE_ROWS: usize = 20_000;
/// Most choices in one list.
pub const MAX_LIST_CHOICES: usize = 2_000;
/// Most characters in one cell.
pub const MAX_CELL_CHARS: usize = 10_000;
/// Most columns read in one sheet.
pub const MAX_COLUMNS: usize = 200;

/// One sheet of a workbook: its name and its rows of cell texts (empty cells are `""`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<String>>,
}

/// An imported form, with what was skipped or ignored on the way.
#[derive(Clone, Debug)]
pub struct Imported {
    pub form: CompiledForm,
    pub warnings: Vec<FormError>,
}

/// The spreadsheet column letters of a 0-based index: 0 → A, 26 → AA.
pub fn column_letters(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A header cell read: the column it means and its language (`label::English (en)`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Header {
    column: String,
    language: Option<String>,
}

fn header(cell: &str, sheet: SheetKind) -> Header {
    let cell = cell.trim();
    let (base, language) = match cell.split_once("::").or_else(|| cell.split_once(':')) {
        // `bind:jr:constraintMsg`, `jr:choice-name`...: a prefix, not a language.
        Some((base, rest))
            if !matches!(base.to_lowercase().as_str(), "bind" | "jr" | "control" | "body" | "media" | "instance") =>
        {
            (base.trim().to_lowercase(), Some(rest.trim().to_string()))
        }
        _ => (cell.to_lowercase(), None),
    };
    let base = base.strip_prefix("bind:").or_else(|| base.strip_prefix("control:")).unwrap_or(&base).to_string();
    let column = match (sheet, base.as_str()) {
        (_, "caption") => "label",
        (_, "list name" | "list_name") => "list_name",
        (SheetKind::Choices, "value") => "name",
        (SheetKind::Survey, "relevance" | "relevant") => "relevant",
        (SheetKind::Survey, "readonly" | "read_only") => "read_only",
        (SheetKind::Survey, "constraint_message" | "constraining_message" | "jr:constraintmsg") => "constraint_message",
        (SheetKind::Survey, "required_message" | "requiredmsg" | "jr:requiredmsg") => "required_message",
        (SheetKind::Survey, "calculation" | "calculate") => "calculation",
        (_, other) => other,
    }
    .to_string();
    Header { column, language: language.filter(|l| !l.is_empty()) }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SheetKind {
    Survey,
    Choices,
    Settings,
}

/// The columns that may carry a language.
const TRANSLATABLE: &[&str] = &["label", "hint", "constraint_message", "required_message", "guidance_hint"];
/// Media columns: Outpost shows no pictures or sounds.
const MEDIA: &[&str] = &["image", "big-image", "audio", "video", "media::image", "media::audio", "media::video"];

/// A sheet's header row read into columns, refusing a column given twice.
struct Table<'a> {
    sheet: &'a Sheet,
    columns: BTreeMap<Header, usize>,
}

impl<'a> Table<'a> {
    fn read(
        sheet: &'a Sheet,
        kind: SheetKind,
        errors: &mut Vec<FormError>,
        warnings: &mut Vec<FormError>,
    ) -> Table<'a> {
        let mut columns = BTreeMap::new();
        let head = sheet.rows.first().map(Vec::as_slice).unwrap_or_default();
        if head.len() > MAX_COLUMNS {
            errors.push(error(
                &sheet.name,
                1,
                "",
                format!("a sheet has at most {MAX_COLUMNS} columns, this one has {}", head.len()),
            ));
        }
        let mut ignored = BTreeSet::new();
        for (i, cell) in head.iter().enumerate().take(MAX_COLUMNS) {
            if cell.trim().is_empty() {
                continue;
            }
            let h = header(cell, kind);
            if MEDIA.contains(&h.column.as_str()) {
                ignored.insert(h.column.clone());
                continue;
            }
            if let Some(&first) = columns.get(&h) {
                errors.push(error(
                    &sheet.name,
                    1,
                    &column_letters(i),
                    format!(
                        "the column {:?} is there twice (columns {} and {}): keep one",
                        cell.trim(),
                        column_letters(first),
                        column_letters(i)
                    ),
                ));
                continue;
            }
            columns.insert(h, i);
        }
        if !ignored.is_empty() {
            let list: Vec<String> = ignored.into_iter().collect();
            warnings.push(error(
                &sheet.name,
                1,
                "",
                format!("media columns are ignored (Outpost shows no media): {}", list.join(", ")),
            ));
        }
        Table { sheet, columns }
    }

    /// The cell of `column` (without a language) in `row` (0-based), trimmed.
    fn cell(&self, row: usize, column: &str) -> &'a str {
        self.columns
            .get(&Header { column: column.into(), language: None })
            .and_then(|&i| self.sheet.rows.get(row)?.get(i))
            .map_or("", |c| c.trim())
    }

    /// The cell of `column` in every language (`""` for the plain column).
    fn texts(&self, row: usize, column: &str) -> Text {
        let mut out = Text::new();
        for (h, &i) in self.columns.range(Header { column: column.into(), language: None }..) {
            if h.column != column {
                break;
            }
            let text = self.sheet.rows.get(row).and_then(|r| r.get(i)).map_or("", |c| c.trim());
            if !text.is_empty() {
                out.insert(h.language.clone().unwrap_or_default(), text.to_string());
            }
        }
        out
    }

    /// The languages of `column`'s headers.
    fn languages(&self, column: &str) -> BTreeSet<String> {
        self.columns.keys().filter(|h| h.column == column).map(|h| h.language.clone().unwrap_or_default()).collect()
    }

    /// The columns without a language other than `except` (what a choice filter may read).
    fn other_columns(&self, except: &[&str]) -> Vec<(String, usize)> {
        self.columns
            .iter()
            .filter(|(h, _)| h.language.is_none() && !except.contains(&h.column.as_str()))
            .map(|(h, &i)| (h.column.clone(), i))
            .collect()
    }
}

fn error(sheet: &str, row: usize, column: &str, message: impl Into<String>) -> FormError {
    FormError {
        sheet: sheet.into(),
        row: u32::try_from(row).unwrap_or(u32::MAX),
        column: column.into(),
        message: message.into(),
    }
}

/// The language code a header's language names: `English (en)` → `en`; `EN` → `en`; a few
/// language names of the region → their code.
fn language_code(key: &str) -> Option<String> {
    if let (Some(open), true) = (key.rfind('('), key.ends_with(')')) {
        let code = key[open + 1..key.len() - 1].trim().to_lowercase();
        if (2..=8).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            return Some(code);
        }
    }
    let lower = key.trim().to_lowercase();
    if lower.len() == 2 && lower.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(lower);
    }
    let known = [
        ("english", "en"),
        ("russian", "ru"),
        ("русский", "ru"),
        ("ukrainian", "uk"),
        ("українська", "uk"),
        ("georgian", "ka"),
        ("ქართული", "ka"),
        ("kazakh", "kk"),
        ("қазақша", "kk"),
        ("kyrgyz", "ky"),
        ("кыргызча", "ky"),
        ("romanian", "ro"),
        ("română", "ro"),
        ("serbian", "sr"),
        ("српски", "sr"),
        ("albanian", "sq"),
        ("lithuanian", "lt"),
        ("latvian", "lv"),
        ("estonian", "et"),
        ("armenian", "hy"),
        ("azerbaijani", "az"),
        ("tajik", "tg"),
        ("uzbek", "uz"),
        ("french", "fr"),
        ("chinese", "zh"),
    ];
    known.iter().find(|(name, _)| *name == lower).map(|(_, code)| (*code).to_string())
}

/// How a `type` cell reads.
enum TypeCell {
    Question(QuestionKind, Option<String>, bool),
    BeginGroup,
    EndGroup,
    /// A metadata row, skipped with this warning.
    Skipped(String),
    Refused(String),
}

fn read_type(raw: &str) -> TypeCell {
    let t: String = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let simple = |kind| TypeCell::Question(kind, None, false);
    match t.as_str() {
        "integer" | "int" => return simple(QuestionKind::Integer),
        "decimal" => return simple(QuestionKind::Decimal),
        "text" | "string" => return simple(QuestionKind::Text),
        "date" => return simple(QuestionKind::Date),
        "note" => return simple(QuestionKind::Note),
        "acknowledge" | "trigger" => return simple(QuestionKind::Acknowledge),
        "calculate" => return simple(QuestionKind::Calculate),
        "begin group" | "begin_group" => return TypeCell::BeginGroup,
        "end group" | "end_group" => return TypeCell::EndGroup,
        "start" | "end" | "today" => {
            return TypeCell::Skipped(format!("`{t}` is skipped: Outpost records when every response was made"));
        }
        "deviceid" | "uri:deviceid" | "imei" | "subscriberid" | "simserial" | "phonenumber" | "username" | "email"
        | "audit" | "start-geopoint" => {
            return TypeCell::Skipped(format!("`{t}` is skipped: Outpost never records device or person identifiers"));
        }
        _ => {}
    }
    for (prefix, kind) in [
        ("select_one_from_file ", None),
        ("select_multiple_from_file ", None),
        ("select one from file ", None),
        ("select_one_external ", None),
        ("select one external ", None),
        ("rank ", None),
        ("select_one ", Some(QuestionKind::SelectOne)),
        ("select one from ", Some(QuestionKind::SelectOne)),
        ("select one ", Some(QuestionKind::SelectOne)),
        ("select1 ", Some(QuestionKind::SelectOne)),
        ("select_multiple ", Some(QuestionKind::SelectMultiple)),
        ("select all that apply from ", Some(QuestionKind::SelectMultiple)),
        ("select all that apply ", Some(QuestionKind::SelectMultiple)),
        ("select multiple from ", Some(QuestionKind::SelectMultiple)),
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            let Some(kind) = kind else {
                return TypeCell::Refused(format!(
                    "`{}` is not supported: choices come from the form's own choices sheet",
                    prefix.trim()
                ));
            };
            let (list, other) = match rest.strip_suffix(" or_other").or_else(|| rest.strip_suffix(" or specify other"))
            {
                Some(list) => (list.trim(), true),
                None => (rest.trim(), false),
            };
            // Take the list name as written (case kept) from the raw cell.
            let raw_list = raw.split_whitespace().find(|w| w.eq_ignore_ascii_case(list)).unwrap_or(list);
            if raw_list.is_empty() || raw_list.contains(' ') {
                return TypeCell::Refused(format!("`{t}`: write the choice list's name after the type"));
            }
            return TypeCell::Question(kind, Some(raw_list.to_string()), other);
        }
    }
    let family = t.split(' ').next().unwrap_or_default();
    let why = match if family == "osm" { "osm" } else { t.as_str() } {
        "begin repeat" | "begin_repeat" | "end repeat" | "end_repeat" | "begin looped group" | "begin lgroup" => {
            "repeats are not supported: ask for a count, or record each item as its own response"
        }
        "phone number" | "phone_number" => "Outpost never stores phone numbers: they identify a person",
        "image" | "photo" | "audio" | "video" | "file" | "background-audio" => {
            "Outpost stores no pictures, sounds or files (they could identify a person)"
        }
        "geopoint" | "geotrace" | "geoshape" | "gps" | "location" | "osm" => {
            "Outpost records no locations (they could identify a person); the site is recorded with every response"
        }
        "time" | "datetime" | "date time" => "Outpost forms have dates, not times of day",
        "barcode" => "barcodes are not supported",
        "range" => "range questions are not supported: use an integer with a constraint",
        "hidden" => "hidden questions are not supported: use calculate",
        "xml-external" | "csv-external" | "entity" => "Outpost forms cannot read other data sets",
        "select_one" | "select_multiple" | "select one" | "select all that apply" => {
            "write the choice list's name after the type (select_one yes_no)"
        }
        _ => return TypeCell::Refused(format!("`{}` is not a question type Outpost knows", raw.trim())),
    };
    TypeCell::Refused(format!("`{}` is not supported: {why}", raw.trim()))
}

/// A yes/no cell (`required`, `read_only`): yes, true, true(), 1.
fn yes(cell: &str) -> Option<bool> {
    match cell.trim().to_lowercase().as_str() {
        "" => Some(false),
        "yes" | "true" | "true()" | "1" | "y" => Some(true),
        "no" | "false" | "false()" | "0" | "n" => Some(false),
        _ => None,
    }
}

fn find_sheet<'a>(sheets: &'a [Sheet], name: &str) -> Option<&'a Sheet> {
    sheets.iter().find(|s| s.name.trim().eq_ignore_ascii_case(name))
}

fn non_empty(row: &[String]) -> bool {
    row.iter().any(|c| !c.trim().is_empty())
}

/// Reads a workbook as XLSForm. `fallback_id` names the form when its settings give no id (the
/// file's name). Every problem is returned at once; warnings say what was skipped.
pub fn import(sheets: &[Sheet], fallback_id: &str) -> Result<Imported, Vec<FormError>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for sheet in sheets {
        for (r, row) in sheet.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if cell.chars().count() > MAX_CELL_CHARS {
                    errors.push(error(
                        &sheet.name,
                        r + 1,
                        &column_letters(c),
                        format!("a cell holds at most {MAX_CELL_CHARS} characters"),
                    ));
                }
            }
        }
    }
    // The reference converter reads the first sheet as the survey when none is named so.
    let Some(survey) = find_sheet(sheets, "survey").or_else(|| sheets.first()) else {
        return Err(vec![error("survey", 0, "", "the workbook has no survey sheet")]);
    };
    if !survey.name.trim().eq_ignore_ascii_case("survey") {
        warnings.push(error(&survey.name, 0, "", "no sheet is named survey: this first sheet is read as the survey"));
    }
    let choices_sheet = find_sheet(sheets, "choices");
    let settings_sheet = find_sheet(sheets, "settings");
    for sheet in sheets {
        let known = [Some(survey), choices_sheet, settings_sheet].iter().flatten().any(|s| std::ptr::eq(*s, sheet));
        if !known && sheet.rows.iter().any(|r| non_empty(r)) {
            warnings.push(error(
                &sheet.name,
                0,
                "",
                "this sheet is ignored (Outpost reads survey, choices and settings)",
            ));
        }
    }
    let survey_rows = survey.rows.iter().filter(|r| non_empty(r)).count();
    if survey_rows > MAX_SURVEY_ROWS + 1 {
        return Err(vec![error(
            &survey.name,
            0,
            "",
            format!("a form has at most {MAX_SURVEY_ROWS} rows in its survey sheet, this one has {}", survey_rows - 1),
        )]);
    }
    if let Some(sheet) = choices_sheet {
        let n = sheet.rows.iter().filter(|r| non_empty(r)).count();
        if n > MAX_CHOICE_ROWS + 1 {
            return Err(vec![error(
                &sheet.name,
                0,
                "",
                format!("a form has at most {MAX_CHOICE_ROWS} choices, this one has {}", n - 1),
            )]);
        }
    }

    // Settings.
    let mut settings: BTreeMap<String, String> = BTreeMap::new();
    if let Some(sheet) = settings_sheet {
        let table = Table::read(sheet, SheetKind::Settings, &mut errors, &mut warnings);
        for (h, &i) in &table.columns {
            if let Some(value) = sheet.rows.get(1).and_then(|r| r.get(i)).map(|c| c.trim()).filter(|c| !c.is_empty()) {
                let key = match &h.language {
                    Some(l) => format!("{}::{l}", h.column),
                    None => h.column.clone(),
                };
                settings.insert(key, value.to_string());
            }
        }
    }
    let setting = |key: &str| settings.get(key).map(String::as_str).unwrap_or("");
    let id = match setting("form_id") {
        "" => fallback_id.trim().to_string(),
        id => id.to_string(),
    };
    if id.is_empty() || id.chars().count() > 100 || id.chars().any(char::is_control) {
        errors.push(error(
            settings_sheet.map_or("settings", |s| &s.name),
            2,
            "form_id",
            "give the form an id of 1 to 100 characters",
        ));
    }
    let kind = match setting("outpost_kind") {
        "" | "survey" => FormKind::Survey,
        "contact_questions" => FormKind::ContactQuestions,
        other => {
            errors.push(error("settings", 2, "outpost_kind", format!("{other:?} is not survey or contact_questions")));
            FormKind::Survey
        }
    };
    let in_quick_log = match yes(setting("outpost_quick_log")) {
        Some(v) => v,
        None => {
            errors.push(error("settings", 2, "outpost_quick_log", "write yes or no"));
            false
        }
    };
    let allow_duplicates = yes(setting("allow_choice_duplicates")).unwrap_or(false);

    // Choices.
    let mut lists: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    let mut languages: BTreeSet<String> = BTreeSet::new();
    if let Some(sheet) = choices_sheet {
        let table = Table::read(sheet, SheetKind::Choices, &mut errors, &mut warnings);
        if !sheet.rows.iter().skip(1).any(|r| non_empty(r)) {
            // An empty choices sheet is fine for a form without selects.
        } else {
            for required in ["list_name", "name"] {
                if !table.columns.contains_key(&Header { column: required.into(), language: None }) {
                    errors.push(error(&sheet.name, 1, "", format!("the choices sheet needs a {required} column")));
                }
            }
        }
        languages.extend(table.languages("label"));
        let extra = table.other_columns(&["list_name", "name", "label", "order"]);
        for (r, row) in sheet.rows.iter().enumerate().skip(1) {
            if !non_empty(row) {
                continue;
            }
            let list = table.cell(r, "list_name");
            let name = table.cell(r, "name");
            if list.is_empty() {
                errors.push(error(&sheet.name, r + 1, "list_name", "a choice needs the name of its list"));
                continue;
            }
            if name.is_empty() {
                errors.push(error(&sheet.name, r + 1, "name", format!("a choice of list {list} needs a name")));
                continue;
            }
            let entry = lists.entry(list.to_string()).or_default();
            if entry.iter().any(|c| c.name == name) && !allow_duplicates {
                errors.push(error(&sheet.name, r + 1, "name", format!("list {list} has the choice {name:?} twice")));
                continue;
            }
            if entry.len() == MAX_LIST_CHOICES {
                errors.push(error(
                    &sheet.name,
                    r + 1,
                    "",
                    format!("list {list} has more than {MAX_LIST_CHOICES} choices"),
                ));
            }
            let columns = extra
                .iter()
                .filter_map(|(c, i)| Some((c.clone(), row.get(*i)?.trim().to_string())).filter(|(_, v)| !v.is_empty()))
                .collect();
            entry.push(Choice { name: name.to_string(), label: table.texts(r, "label"), columns });
        }
    }

    // Survey.
    let table = Table::read(survey, SheetKind::Survey, &mut errors, &mut warnings);
    for required in ["type", "name"] {
        if !table.columns.contains_key(&Header { column: required.into(), language: None }) {
            errors.push(error(&survey.name, 1, "", format!("the survey sheet needs a {required} column")));
        }
    }
    for column in TRANSLATABLE {
        languages.extend(table.languages(column));
    }
    let mut stack: Vec<(Group, usize)> = Vec::new();
    let mut top: Vec<Item> = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut selects_multiple: BTreeSet<String> = BTreeSet::new();
    for (r, row) in survey.rows.iter().enumerate().skip(1) {
        if !non_empty(row) {
            continue;
        }
        let line = r + 1;
        let raw_type = table.cell(r, "type");
        if raw_type.is_empty() {
            errors.push(error(&survey.name, line, "type", "every row needs a type"));
            continue;
        }
        let name = table.cell(r, "name").to_string();
        let item_kind = read_type(raw_type);
        if !matches!(item_kind, TypeCell::EndGroup | TypeCell::Skipped(_) | TypeCell::Refused(_)) {
            if name.is_empty() {
                errors.push(error(&survey.name, line, "name", "every question and group needs a name"));
                continue;
            }
            if !expr::valid_name(&name) {
                errors.push(error(
                    &survey.name,
                    line,
                    "name",
                    format!("{name:?} is not a valid name: start with a letter, then letters, digits, _ - or ."),
                ));
                continue;
            }
            if let Some(first) = names.insert(name.clone(), line) {
                errors.push(error(
                    &survey.name,
                    line,
                    "name",
                    format!("the name {name} is used twice (rows {first} and {line})"),
                ));
                continue;
            }
        }
        let relevant = Some(table.cell(r, "relevant").to_string()).filter(|s| !s.is_empty());
        let push = |item: Item, stack: &mut Vec<(Group, usize)>, top: &mut Vec<Item>| match stack.last_mut() {
            Some((group, _)) => group.items.push(item),
            None => top.push(item),
        };
        match item_kind {
            TypeCell::Refused(why) => errors.push(error(&survey.name, line, "type", why)),
            TypeCell::Skipped(why) => warnings.push(error(&survey.name, line, "type", why)),
            TypeCell::BeginGroup => {
                let group =
                    Group { name, label: table.texts(r, "label"), relevant, items: Vec::new(), row: line as u32 };
                stack.push((group, line));
            }
            TypeCell::EndGroup => match stack.pop() {
                Some((group, _)) => push(Item::Group(group), &mut stack, &mut top),
                None => errors.push(error(&survey.name, line, "type", "end group without a begin group")),
            },
            TypeCell::Question(kind, list, other) => {
                if let Some(list) = &list {
                    match lists.get(list) {
                        None => errors.push(error(
                            &survey.name,
                            line,
                            "type",
                            format!("the choice list {list} is not in the choices sheet"),
                        )),
                        Some(choices) if kind == QuestionKind::SelectMultiple => {
                            selects_multiple.insert(list.clone());
                            if let Some(c) = choices.iter().find(|c| c.name.contains(char::is_whitespace)) {
                                errors.push(error(&survey.name, line, "type", format!("list {list} has the choice {:?} with a space, which a select_multiple cannot hold", c.name)));
                            }
                        }
                        Some(_) => {}
                    }
                }
                let required = match table.cell(r, "required") {
                    "" => None,
                    cell => match yes(cell) {
                        Some(true) => Some("true()".to_string()),
                        Some(false) => None,
                        None => Some(cell.to_string()),
                    },
                };
                let read_only = match yes(table.cell(r, "read_only")) {
                    Some(v) => v,
                    None => {
                        errors.push(error(&survey.name, line, "read_only", "write yes or no"));
                        false
                    }
                };
                let calculation = Some(table.cell(r, "calculation").to_string()).filter(|s| !s.is_empty());
                if kind == QuestionKind::Calculate && calculation.is_none() {
                    errors.push(error(&survey.name, line, "calculation", "a calculate row needs a calculation"));
                }
                let label = table.texts(r, "label");
                if label.is_empty() && !matches!(kind, QuestionKind::Calculate | QuestionKind::Note) {
                    warnings.push(error(
                        &survey.name,
                        line,
                        "label",
                        format!("{name} has no label: the worker sees its name"),
                    ));
                }
                let question = Question {
                    name: name.clone(),
                    kind,
                    label,
                    hint: table.texts(r, "hint"),
                    required,
                    required_message: table.texts(r, "required_message"),
                    relevant,
                    constraint: Some(table.cell(r, "constraint").to_string()).filter(|s| !s.is_empty()),
                    constraint_message: table.texts(r, "constraint_message"),
                    calculation,
                    default: Some(table.cell(r, "default").to_string()).filter(|s| !s.is_empty()),
                    read_only,
                    list: list.clone(),
                    other,
                    choice_filter: Some(table.cell(r, "choice_filter").to_string()).filter(|s| !s.is_empty()),
                    appearance: Some(table.cell(r, "appearance").to_string()).filter(|s| !s.is_empty()),
                    row: line as u32,
                };
                push(Item::Question(Box::new(question)), &mut stack, &mut top);
                if other {
                    // As the reference converter does: a text question for what "other" is.
                    let other_name = format!("{name}_{OTHER}");
                    if let Some(first) = names.insert(other_name.clone(), line) {
                        errors.push(error(
                            &survey.name,
                            line,
                            "name",
                            format!("or_other adds {other_name}, a name row {first} already uses"),
                        ));
                    }
                    let mut label = Text::new();
                    label.insert(String::new(), "Specify other.".into());
                    push(
                        Item::Question(Box::new(Question {
                            name: other_name,
                            kind: QuestionKind::Text,
                            label,
                            hint: Text::new(),
                            required: None,
                            required_message: Text::new(),
                            relevant: Some(format!("selected(${{{name}}}, '{OTHER}')")),
                            constraint: None,
                            constraint_message: Text::new(),
                            calculation: None,
                            default: None,
                            read_only: false,
                            list: None,
                            other: false,
                            choice_filter: None,
                            appearance: None,
                            row: line as u32,
                        })),
                        &mut stack,
                        &mut top,
                    );
                }
            }
        }
    }
    for (group, line) in stack.iter().rev() {
        errors.push(error(
            &survey.name,
            *line,
            "type",
            format!("the group {} is not closed with end group", group.name),
        ));
    }
    if top.is_empty() && errors.is_empty() {
        errors.push(error(&survey.name, 0, "", "the survey sheet has no questions"));
    }
    let mut unused: Vec<&String> = lists.keys().filter(|l| !selects_multiple.contains(*l)).collect();
    unused.retain(|l| !survey_uses_list(&top, l));
    for list in unused {
        warnings.push(error(
            choices_sheet.map_or("choices", |s| &s.name),
            0,
            "",
            format!("list {list} is not used by any question"),
        ));
    }

    // Languages: the default is the settings' default_language, else the plain column, else the first.
    let languages: Vec<FormLanguage> =
        languages.into_iter().map(|key| FormLanguage { code: language_code(&key), key }).collect();
    let default_language = match setting("default_language") {
        "" => languages
            .iter()
            .find(|l| l.key.is_empty())
            .or_else(|| languages.first())
            .map(|l| l.key.clone())
            .unwrap_or_default(),
        wanted => match languages
            .iter()
            .find(|l| l.key.eq_ignore_ascii_case(wanted) || l.code.as_deref() == Some(&wanted.to_lowercase()))
        {
            Some(l) => l.key.clone(),
            None => {
                warnings.push(error(
                    "settings",
                    2,
                    "default_language",
                    format!("{wanted:?} is not a language of the form's labels"),
                ));
                languages.first().map(|l| l.key.clone()).unwrap_or_default()
            }
        },
    };
    let mut title = Text::new();
    for (key, value) in &settings {
        if let Some(language) = key.strip_prefix("form_title::") {
            title.insert(language.to_string(), value.clone());
        }
    }
    if let Some(t) = settings.get("form_title") {
        title.insert(default_language.clone(), t.clone());
    }
    if title.is_empty() {
        title.insert(default_language.clone(), id.clone());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let form = Form {
        id,
        version: setting("version").to_string(),
        kind,
        title,
        default_language,
        languages,
        in_quick_log,
        items: top,
        choices: lists,
    };
    match CompiledForm::compile(form) {
        Ok(form) => Ok(Imported { form, warnings }),
        Err(mut found) => {
            for e in &mut found {
                e.sheet = survey.name.clone();
            }
            Err(found)
        }
    }
}

fn survey_uses_list(items: &[Item], list: &str) -> bool {
    items.iter().any(|item| match item {
        Item::Question(q) => q.list.as_deref() == Some(list),
        Item::Group(g) => survey_uses_list(&g.items, list),
    })
}
