//! SQL written once for both backends: statements with `?` placeholders and bound values, a
//! builder for statements put together from parts, and the few differences between SQLite and
//! PostgreSQL (reading a field out of a record's JSON state, row locks) behind [`Dialect`].
//!
//! Values are always bound, never spliced into the text. The only text spliced in is made here
//! from constants: field names are checked to be plain identifiers. Placeholders are never
//! numbered by hand: a statement's text uses `?` in the order of its values, and the builder
//! ([`Sql`]) hands out markers that it turns into `?` in the order they appear in the text, so
//! parts can be written in any order. The PostgreSQL backend numbers them (`$1`, `$2`...).

use crate::error::DbError;
use outpost_core::merge::RecordState;
use outpost_core::{DeviceId, OrgId, RecordId, SiteId};
use uuid::Uuid;

/// The SQL flavour of a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter or a returned value.
///
/// Each variant binds as one PostgreSQL type (`bigint`, `double precision`, `text`, `uuid`,
/// `jsonb`, `boolean`; `Null` takes the type of its place in the statement); SQLite stores
/// UUIDs and JSON as text and booleans as 0 or 1. Values read back are `Int`, `Real`, `Text`
/// (UUID and JSON columns as their text), `Bool` or `Null`.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Uuid(Uuid),
    /// JSON text, stored in a `jsonb` column on PostgreSQL.
    Json(String),
    Bool(bool),
}

impl SqlValue {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SqlValue::Int(i) => Some(*i),
            SqlValue::Real(r) => Some(*r as i64),
            SqlValue::Bool(b) => Some(i64::from(*b)),
            SqlValue::Text(t) => t.parse().ok(),
            SqlValue::Null | SqlValue::Uuid(_) | SqlValue::Json(_) => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            SqlValue::Int(i) => Some(*i as f64),
            SqlValue::Real(r) => Some(*r),
            SqlValue::Text(t) => t.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(t) | SqlValue::Json(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, SqlValue::Null)
    }

    /// The value as text, numbers formatted; empty for NULL.
    pub fn to_text(&self) -> String {
        match self {
            SqlValue::Null => String::new(),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::Real(r) => r.to_string(),
            SqlValue::Text(t) | SqlValue::Json(t) => t.clone(),
            SqlValue::Uuid(u) => u.to_string(),
            SqlValue::Bool(b) => b.to_string(),
        }
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        SqlValue::Text(v.clone())
    }
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}

impl From<u64> for SqlValue {
    fn from(v: u64) -> Self {
        SqlValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u32> for SqlValue {
    fn from(v: u32) -> Self {
        SqlValue::Int(i64::from(v))
    }
}

impl From<usize> for SqlValue {
    fn from(v: usize) -> Self {
        SqlValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Bool(v)
    }
}

impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}

impl From<Uuid> for SqlValue {
    fn from(v: Uuid) -> Self {
        SqlValue::Uuid(v)
    }
}

macro_rules! id_values {
    ($($id:ty),*) => {$(
        impl From<$id> for SqlValue {
            fn from(v: $id) -> Self {
                SqlValue::Uuid(v.0)
            }
        }
        impl From<&$id> for SqlValue {
            fn from(v: &$id) -> Self {
                SqlValue::Uuid(v.0)
            }
        }
        impl FromValue for $id {
            fn from_value(value: &SqlValue) -> Result<Self, DbError> {
                Uuid::from_value(value).map(Self)
            }
        }
    )*};
}
id_values!(OrgId, SiteId, DeviceId, RecordId);

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// JSON text of a value, bound as JSON.
pub fn json(value: &impl serde::Serialize) -> Result<SqlValue, DbError> {
    Ok(SqlValue::Json(serde_json::to_string(value)?))
}

/// A value read out of a row, with a clear error when the stored data does not fit.
pub trait FromValue: Sized {
    fn from_value(value: &SqlValue) -> Result<Self, DbError>;
}

fn unexpected(value: &SqlValue, wanted: &str) -> DbError {
    DbError::Corrupt(format!("expected {wanted}, found {value:?}"))
}

impl FromValue for i64 {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        value.as_i64().ok_or_else(|| unexpected(value, "an integer"))
    }
}

impl FromValue for u64 {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        i64::from_value(value).map(|v| v.max(0) as u64)
    }
}

impl FromValue for bool {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        i64::from_value(value).map(|v| v != 0)
    }
}

impl FromValue for f64 {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        value.as_f64().ok_or_else(|| unexpected(value, "a number"))
    }
}

impl FromValue for String {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        match value {
            SqlValue::Null => Err(unexpected(value, "text")),
            other => Ok(other.to_text()),
        }
    }
}

impl FromValue for Uuid {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        match value {
            SqlValue::Uuid(u) => Ok(*u),
            SqlValue::Text(t) => t.parse().map_err(|_| DbError::Corrupt(format!("unparsable id {t:?}"))),
            other => Err(unexpected(other, "an id")),
        }
    }
}

impl FromValue for RecordState {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        Ok(serde_json::from_str(value.as_str().ok_or_else(|| unexpected(value, "a record state"))?)?)
    }
}

impl FromValue for serde_json::Value {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        Ok(serde_json::from_str(value.as_str().ok_or_else(|| unexpected(value, "JSON"))?)?)
    }
}

impl FromValue for outpost_core::uic::UicScheme {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        Ok(serde_json::from_str(value.as_str().ok_or_else(|| unexpected(value, "a code scheme"))?)?)
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &SqlValue) -> Result<Self, DbError> {
        if value.is_null() { Ok(None) } else { T::from_value(value).map(Some) }
    }
}

/// A value bound as a column: plain values as themselves, structured ones as JSON text.
pub trait ToValue {
    fn to_value(&self) -> Result<SqlValue, DbError>;
}

macro_rules! plain_to_value {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Result<SqlValue, DbError> {
                Ok(SqlValue::from(self.clone()))
            }
        }
    )*};
}
plain_to_value!(i64, u64, bool, f64, String, Uuid, OrgId, SiteId, DeviceId, RecordId);

macro_rules! json_to_value {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Result<SqlValue, DbError> {
                json(self)
            }
        }
    )*};
}
json_to_value!(RecordState, serde_json::Value, outpost_core::uic::UicScheme);

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Result<SqlValue, DbError> {
        self.as_ref().map_or(Ok(SqlValue::Null), ToValue::to_value)
    }
}

/// A row of results.
pub type Row = Vec<SqlValue>;

/// Typed access to the columns of a row.
pub trait RowExt {
    /// Column `index` as `T`; a missing column or a value of the wrong kind is `Corrupt`.
    fn col<T: FromValue>(&self, index: usize) -> Result<T, DbError>;
}

impl RowExt for [SqlValue] {
    fn col<T: FromValue>(&self, index: usize) -> Result<T, DbError> {
        let value = self.get(index).ok_or_else(|| DbError::Corrupt(format!("the row has no column {index}")))?;
        T::from_value(value)
    }
}

/// A statement, its values (one per `?`, in order) and whether it returns rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
    pub returns_rows: bool,
}

impl Statement {
    /// A statement that returns rows (a `SELECT`, or a change `... RETURNING`).
    pub fn query(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self { sql: sql.into(), params, returns_rows: true }
    }

    /// A statement that changes rows; its outcome counts them.
    pub fn exec(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self { sql: sql.into(), params, returns_rows: false }
    }
}

/// What one statement did: the rows it returned and how many rows it changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub changed: u64,
}

/// Values for a statement: `params![a, b]` is `vec![SqlValue::from(a), SqlValue::from(b)]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { vec![$($crate::sql::SqlValue::from($value)),*] };
}

/// `?, ?, ?` for `n` values.
pub fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

const MARK_START: char = '\u{1}';
const MARK_END: char = '\u{2}';

/// Builds a statement from parts: [`Sql::bind`] returns a marker to put in the text wherever the
/// value belongs (several times if needed); [`Sql::query`] and [`Sql::exec`] turn the markers
/// into `?` in the order they appear and order the values to match.
#[derive(Debug, Default)]
pub struct Sql {
    values: Vec<SqlValue>,
}

impl Sql {
    pub fn new() -> Self {
        Self::default()
    }

    /// The marker of a bound value.
    pub fn bind(&mut self, value: impl Into<SqlValue>) -> String {
        self.values.push(value.into());
        format!("{MARK_START}{}{MARK_END}", self.values.len() - 1)
    }

    /// `(m, m, ...)` for a list of values; `(NULL)`, which matches nothing, when it is empty.
    pub fn list<V: Into<SqlValue>>(&mut self, values: impl IntoIterator<Item = V>) -> String {
        let marks: Vec<String> = values.into_iter().map(|v| self.bind(v)).collect();
        if marks.is_empty() { "(NULL)".into() } else { format!("({})", marks.join(", ")) }
    }

    pub fn query(self, text: &str) -> Statement {
        let (sql, params) = self.resolve(text);
        Statement { sql, params, returns_rows: true }
    }

    pub fn exec(self, text: &str) -> Statement {
        let (sql, params) = self.resolve(text);
        Statement { sql, params, returns_rows: false }
    }

    fn resolve(self, text: &str) -> (String, Vec<SqlValue>) {
        let mut sql = String::with_capacity(text.len());
        let mut params = Vec::with_capacity(self.values.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != MARK_START {
                sql.push(c);
                continue;
            }
            let index: String = chars.by_ref().take_while(|&c| c != MARK_END).collect();
            match index.parse::<usize>().ok().and_then(|i| self.values.get(i)) {
                Some(value) => {
                    params.push(value.clone());
                    sql.push('?');
                }
                // A marker of another builder: left unbound, the database refuses the text.
                None => sql.push_str("<unbound>"),
            }
        }
        (sql, params)
    }
}

/// The statement's text with PostgreSQL's numbered placeholders: each `?` outside quotes and
/// comments becomes `$1`, `$2`... Errors when their number differs from the values'.
pub fn numbered(sql: &str, values: usize) -> Result<String, DbError> {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    if n != values {
        return Err(DbError::Backend(format!("the statement has {n} placeholders but {values} values: {sql}")));
    }
    Ok(out)
}

fn checked(name: &str) -> &str {
    assert!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "field names spliced into SQL are plain identifiers"
    );
    name
}

impl Dialect {
    /// Field `name` of the record aliased `alias`, as text (NULL when absent).
    pub fn field(self, alias: &str, name: &str) -> String {
        let name = checked(name);
        match self {
            Dialect::Sqlite => format!("json_extract({alias}.state, '$.fields.{name}.v')"),
            Dialect::Postgres => format!("({alias}.state->'fields'->'{name}'->>'v')"),
        }
    }

    /// Field `name` as an integer (booleans as 0/1).
    pub fn field_int(self, alias: &str, name: &str) -> String {
        let name = checked(name);
        match self {
            Dialect::Sqlite => format!("CAST(json_extract({alias}.state, '$.fields.{name}.v') AS INTEGER)"),
            Dialect::Postgres => format!(
                "(CASE jsonb_typeof({alias}.state->'fields'->'{name}'->'v') WHEN 'boolean' THEN \
                 CAST(CAST({alias}.state->'fields'->'{name}'->>'v' AS boolean) AS integer) \
                 WHEN 'number' THEN CAST({alias}.state->'fields'->'{name}'->>'v' AS bigint) END)"
            ),
        }
    }

    /// Field `name` as JSON (for storing into a JSON column).
    pub fn field_json(self, alias: &str, name: &str) -> String {
        let name = checked(name);
        match self {
            Dialect::Sqlite => format!("json_extract({alias}.state, '$.fields.{name}.v')"),
            Dialect::Postgres => format!("{alias}.state->'fields'->'{name}'->'v'"),
        }
    }

    /// The first ten characters (the date) of a timestamp field.
    pub fn field_date(self, alias: &str, name: &str) -> String {
        format!("substr({}, 1, 10)", self.field(alias, name))
    }

    /// A table of the elements of array field `name` of `alias`, named `elem`, for a FROM clause.
    pub fn each(self, alias: &str, name: &str, elem: &str) -> String {
        let name = checked(name);
        match self {
            Dialect::Sqlite => format!("json_each(json_extract({alias}.state, '$.fields.{name}.v')) AS {elem}"),
            Dialect::Postgres => format!(
                "jsonb_array_elements(CASE jsonb_typeof({alias}.state->'fields'->'{name}'->'v') WHEN 'array' \
                 THEN {alias}.state->'fields'->'{name}'->'v' ELSE '[]'::jsonb END) AS {elem}(value)"
            ),
        }
    }

    /// The keys and values of object field `name` of `alias`, named `elem` (`key`, `value`).
    pub fn each_entry(self, alias: &str, name: &str, elem: &str) -> String {
        let name = checked(name);
        match self {
            Dialect::Sqlite => format!("json_each(json_extract({alias}.state, '$.fields.{name}.v')) AS {elem}"),
            Dialect::Postgres => format!(
                "jsonb_each(CASE jsonb_typeof({alias}.state->'fields'->'{name}'->'v') WHEN 'object' \
                 THEN {alias}.state->'fields'->'{name}'->'v' ELSE '{{}}'::jsonb END) AS {elem}(key, value)"
            ),
        }
    }

    /// The elements of a JSON array column `column`, named `elem`, for a FROM clause.
    pub fn each_of_column(self, column: &str, elem: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({column}) AS {elem}"),
            Dialect::Postgres => format!(
                "jsonb_array_elements(CASE jsonb_typeof({column}) WHEN 'array' THEN {column} ELSE '[]'::jsonb END) AS {elem}(value)"
            ),
        }
    }

    /// An array element that is a string, as text.
    pub fn elem_text(self, elem: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{elem}.value"),
            Dialect::Postgres => format!("({elem}.value #>> '{{}}')"),
        }
    }

    /// Member `key` of an array element that is an object, as text.
    pub fn elem_field(self, elem: &str, key: &str) -> String {
        let key = checked(key);
        match self {
            Dialect::Sqlite => format!("json_extract({elem}.value, '$.{key}')"),
            Dialect::Postgres => format!("({elem}.value->>'{key}')"),
        }
    }

    /// Member `key` of an array element as an integer.
    pub fn elem_int(self, elem: &str, key: &str) -> String {
        format!("CAST({} AS BIGINT)", self.elem_field(elem, key))
    }

    /// Whether a JSON array field contains the string `value` (a constant identifier).
    pub fn array_has(self, alias: &str, name: &str, value: &str) -> String {
        let (name, value) = (checked(name), checked(value));
        match self {
            Dialect::Sqlite => format!(
                "EXISTS (SELECT 1 FROM json_each(json_extract({alias}.state, '$.fields.{name}.v')) WHERE value = '{value}')"
            ),
            Dialect::Postgres => format!("(({alias}.state->'fields'->'{name}'->'v') @> '[\"{value}\"]'::jsonb)"),
        }
    }

    /// `expr` without its column affinity. SQLite applies a TEXT column's affinity to the other
    /// side of a comparison, which then no longer matches an index on a JSON expression; the
    /// unary `+` drops the affinity so such an index serves joins against record ids.
    pub fn bare(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("+{expr}"),
            Dialect::Postgres => expr.to_string(),
        }
    }

    /// Record keys bound as one JSON parameter `param` (`[["clients", "<id>"], ...]`), as a table
    /// `(c, i)` for a FROM clause. One parameter however many keys: a list of `VALUES` takes two
    /// parameters a key, which PostgreSQL parses and plans afresh for each statement.
    pub fn keys_table(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => {
                format!(
                    "(SELECT json_extract(value, '$[0]') AS c, json_extract(value, '$[1]') AS i FROM json_each({param}))"
                )
            }
            Dialect::Postgres => {
                format!("(SELECT e->>0 AS c, CAST(e->>1 AS uuid) AS i FROM jsonb_array_elements({param}) AS e)")
            }
        }
    }

    /// A UUID column compared with text (a record id held in JSON or in a text column).
    pub fn uuid_as_text(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_string(),
            Dialect::Postgres => format!("CAST({column} AS text)"),
        }
    }

    /// Text compared with a UUID column (a record id held in JSON or in a text column).
    pub fn text_as_uuid(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS uuid)"),
        }
    }

    /// A JSON value (column or expression) as its JSON text.
    pub fn json_text(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS text)"),
        }
    }

    /// Whether the JSON array `expr` holds any of the strings `values` (constant identifiers).
    pub fn json_array_has_any(self, expr: &str, values: &[&str]) -> String {
        let list: Vec<String> = values.iter().map(|v| format!("'{}'", checked(v))).collect();
        match self {
            Dialect::Sqlite => format!("EXISTS (SELECT 1 FROM json_each({expr}) WHERE value IN ({}))", list.join(", ")),
            Dialect::Postgres => format!("jsonb_exists_any({expr}, array[{}])", list.join(", ")),
        }
    }

    /// The values of an entry `entry` of [`Dialect::each_entry`] that is a string or a list of
    /// strings: (the value expression, the join that lists a list's elements as `v`).
    pub fn entry_values(self, entry: &str) -> (String, String) {
        match self {
            Dialect::Sqlite => (
                format!("CASE WHEN {entry}.type = 'array' THEN v.value ELSE {entry}.value END"),
                format!(
                    "LEFT JOIN json_each(CASE WHEN {entry}.type = 'array' THEN {entry}.value ELSE '[]' END) AS v ON 1 = 1"
                ),
            ),
            Dialect::Postgres => (
                format!(
                    "CASE WHEN jsonb_typeof({entry}.value) = 'array' THEN v.value #>> '{{}}' ELSE {entry}.value #>> '{{}}' END"
                ),
                format!(
                    "LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof({entry}.value) = 'array' THEN {entry}.value \
                     ELSE '[]'::jsonb END) AS v(value) ON true"
                ),
            ),
        }
    }

    /// Locks the rows of `alias` that a joined `SELECT` reads (PostgreSQL; see
    /// [`Dialect::for_update`]).
    pub fn for_update_of(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// Whole days from the date `from` (a marker or `?`) to the date that starts timestamp `expr`.
    pub fn days_from(self, expr: &str, from: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CAST(julianday(substr({expr}, 1, 10)) - julianday({from}) AS INTEGER)"),
            Dialect::Postgres => format!("(CAST(substr({expr}, 1, 10) AS date) - CAST({from} AS date))"),
        }
    }

    /// Locks the rows a `SELECT` reads until the transaction ends (PostgreSQL; a SQLite write
    /// transaction holds the whole database already).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// A statement that serialises transactions taking the same `key` (PostgreSQL; SQLite's
    /// write transactions are serialised already).
    pub fn advisory_lock(self, key: i64) -> Option<Statement> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(Statement::query("SELECT pg_advisory_xact_lock(?)", vec![SqlValue::Int(key)])),
        }
    }

    // Values built inside the database, for statements that generate many rows at once (the
    // report benchmark's year of data): what each dialect calls the same thing.

    /// A JSON object from `key, value` expressions (`'a', 1, 'b', x`).
    pub fn json_object(self, pairs: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_object({pairs})"),
            Dialect::Postgres => format!("jsonb_build_object({pairs})"),
        }
    }

    /// A JSON array of the given expressions.
    pub fn json_array(self, items: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_array({items})"),
            Dialect::Postgres => format!("jsonb_build_array({items})"),
        }
    }

    /// A boolean column's value.
    pub fn bool_literal(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Sqlite, false) => "0",
            (Dialect::Sqlite, true) => "1",
            (Dialect::Postgres, false) => "false",
            (Dialect::Postgres, true) => "true",
        }
    }

    /// A text expression as an id column's value.
    pub fn id_from_text(self, text: &str) -> String {
        match self {
            Dialect::Sqlite => text.to_string(),
            Dialect::Postgres => format!("CAST({text} AS uuid)"),
        }
    }

    /// `prefix` followed by the integer expression `number` padded with zeros to `width` digits.
    pub fn zero_padded(self, prefix: &str, number: &str, width: usize) -> String {
        match self {
            Dialect::Sqlite => format!("printf('{prefix}%0{width}d', {number})"),
            Dialect::Postgres => format!("('{prefix}' || lpad(CAST({number} AS text), {width}, '0'))"),
        }
    }

    /// A `YYYY-MM-DDTHH:MM:SSZ` text: the day `date` plus the integer expressions `days` and
    /// `minutes`.
    pub fn timestamp_after(self, date: &str, days: &str, minutes: &str) -> String {
        match self {
            Dialect::Sqlite => {
                format!(
                    "strftime('%Y-%m-%dT%H:%M:%SZ', '{date}', '+' || ({days}) || ' days', '+' || ({minutes}) || ' minutes')"
                )
            }
            Dialect::Postgres => format!(
                "to_char(timestamp '{date}' + ({days}) * interval '1 day' + ({minutes}) * interval '1 minute', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            ),
        }
    }

    /// A source of `n` rows numbered `i` from 1, put before a `SELECT ... {FROM}` that uses `i`:
    /// `(prefix, from)`.
    pub fn numbered_rows(self, n: usize) -> (String, String) {
        match self {
            Dialect::Sqlite => (
                format!("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) "),
                "FROM g".into(),
            ),
            Dialect::Postgres => (String::new(), format!("FROM generate_series(1, {n}) AS g(i)")),
        }
    }

    /// Refreshes the planner's statistics of `table`.
    pub fn analyze(self, table: &str) -> String {
        match self {
            Dialect::Sqlite => "ANALYZE".into(),
            Dialect::Postgres => format!("ANALYZE {}", checked(table)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_placeholders_in_the_order_of_the_text() {
        let mut q = Sql::new();
        let a = q.bind(1i64);
        let b = q.bind("two");
        let list = q.list(["x", "y"]);
        let statement = q.query(&format!("SELECT {b}, {a} WHERE z IN {list} AND w = {a}"));
        assert_eq!(statement.sql, "SELECT ?, ? WHERE z IN (?, ?) AND w = ?");
        assert_eq!(statement.params, params!["two", 1i64, "x", "y", 1i64]);
        assert_eq!(Sql::new().list(Vec::<i64>::new()), "(NULL)");
    }

    #[test]
    fn placeholders_are_numbered_outside_quotes_and_comments() {
        let sql = "SELECT '?', \"a?\" FROM t -- what?\nWHERE a = ? AND b = ?";
        assert_eq!(
            numbered(sql, 2).ok().as_deref(),
            Some("SELECT '?', \"a?\" FROM t -- what?\nWHERE a = $1 AND b = $2")
        );
        assert!(numbered("SELECT ?", 2).is_err(), "a count that does not match is refused");
    }

    #[test]
    fn fields_per_dialect() {
        assert_eq!(Dialect::Sqlite.field("c", "client_id"), "json_extract(c.state, '$.fields.client_id.v')");
        assert_eq!(Dialect::Postgres.field("c", "client_id"), "(c.state->'fields'->'client_id'->>'v')");
    }

    #[test]
    #[should_panic(expected = "plain identifiers")]
    fn field_names_cannot_carry_sql() {
        let _ = Dialect::Sqlite.field("c", "x') OR 1=1 --");
    }

    #[test]
    fn typed_columns() {
        let row: Row =
            vec![SqlValue::Int(3), SqlValue::Null, SqlValue::Text("0190a1b2-0000-7000-8000-000000000001".into())];
        assert_eq!(row.col::<i64>(0).ok(), Some(3));
        assert_eq!(row.col::<Option<String>>(1).ok(), Some(None));
        assert!(row.col::<String>(1).is_err());
        assert!(row.col::<SiteId>(2).is_ok());
        assert!(row.col::<i64>(7).is_err());
    }
}
