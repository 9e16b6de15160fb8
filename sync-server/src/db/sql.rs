//! Plain SQL shared by both backends: accounts, sessions and reports are written once, with
//! the few differences between SQLite and PostgreSQL (placeholders, UUID columns, reading a
//! field out of a record's JSON state) behind [`Dialect`].
//!
//! Parameters are always bound, never spliced into the text; the only text spliced in is made
//! here from constants (field names are checked to be plain identifiers).

/// The SQL flavour of a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter or a returned value.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl SqlValue {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SqlValue::Int(i) => Some(*i),
            SqlValue::Real(r) => Some(*r as i64),
            SqlValue::Text(t) => t.parse().ok(),
            SqlValue::Null => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            SqlValue::Int(i) => Some(*i as f64),
            SqlValue::Real(r) => Some(*r),
            SqlValue::Text(t) => t.parse().ok(),
            SqlValue::Null => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The value as text, numbers formatted; empty for NULL.
    pub fn to_text(&self) -> String {
        match self {
            SqlValue::Null => String::new(),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::Real(r) => r.to_string(),
            SqlValue::Text(t) => t.clone(),
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

impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Int(i64::from(v))
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// A statement and its parameters.
#[derive(Clone, Debug)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Statement {
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self { sql: sql.into(), params }
    }
}

/// Logs a warning when a report query takes longer than [`SlowQuery::THRESHOLD`] (dropped at
/// the end of the query), naming the query by its first lines.
pub struct SlowQuery<'a> {
    sql: &'a str,
    started: std::time::Instant,
}

impl<'a> SlowQuery<'a> {
    pub const THRESHOLD: std::time::Duration = std::time::Duration::from_secs(1);

    pub fn new(sql: &'a str) -> Self {
        Self { sql, started: std::time::Instant::now() }
    }
}

impl Drop for SlowQuery<'_> {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        if elapsed >= Self::THRESHOLD {
            let head: String = self.sql.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect();
            tracing::warn!(ms = elapsed.as_millis() as u64, sql = %head, "slow query");
            tracing::debug!(sql = %self.sql, "slow query in full");
        }
    }
}

/// A row of results.
pub type Row = Vec<SqlValue>;

fn checked(name: &str) -> &str {
    assert!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "field names spliced into SQL are plain identifiers"
    );
    name
}

impl Dialect {
    /// Parameter `n` (1-based).
    pub fn p(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// Parameter `n` compared with or stored in a UUID column.
    pub fn p_uuid(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}::uuid"),
        }
    }

    /// A UUID (or JSON) column read back as text.
    pub fn text(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_string(),
            Dialect::Postgres => format!("{column}::text"),
        }
    }

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
        let value = checked(value);
        match self {
            Dialect::Sqlite => {
                format!(
                    "EXISTS (SELECT 1 FROM json_each(json_extract({alias}.state, '$.fields.{name}.v')) WHERE value = '{value}')"
                )
            }
            Dialect::Postgres => {
                format!("(({alias}.state->'fields'->'{}'->'v') @> '[\"{value}\"]'::jsonb)", checked(name))
            }
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

    /// `deleted` is false.
    pub fn live(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{alias}.deleted = 0"),
            Dialect::Postgres => format!("NOT {alias}.deleted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_fields_per_dialect() {
        assert_eq!(Dialect::Sqlite.p(2), "?2");
        assert_eq!(Dialect::Postgres.p_uuid(1), "$1::uuid");
        assert_eq!(Dialect::Sqlite.field("c", "client_id"), "json_extract(c.state, '$.fields.client_id.v')");
        assert_eq!(Dialect::Postgres.field("c", "client_id"), "(c.state->'fields'->'client_id'->>'v')");
    }

    #[test]
    #[should_panic(expected = "plain identifiers")]
    fn field_names_cannot_carry_sql() {
        let _ = Dialect::Sqlite.field("c", "x') OR 1=1 --");
    }
}
