//! Rows that map one to one onto a table's columns, declared once with [`table_row!`]: the
//! struct, its column list, how it is read from a result row and the values it inserts come
//! from the same field list, so a column cannot be added to one and forgotten in another.

use crate::error::DbError;
use crate::sql::{SqlValue, Statement, marks};

/// A struct whose fields are, in order, the columns of one table.
pub trait TableRow: Sized {
    /// The table's name.
    const TABLE: &'static str;
    /// The columns, in field order.
    const COLUMNS: &'static [&'static str];
    /// The `ORDER BY` of a full read, so exports are stable.
    const ORDER: &'static str;

    /// Reads the row's columns in [`Self::COLUMNS`] order.
    fn from_row(row: &[SqlValue]) -> Result<Self, DbError>;

    /// The values to insert, in [`Self::COLUMNS`] order.
    fn values(&self) -> Result<Vec<SqlValue>, DbError>;

    /// Every row of the table.
    fn select_all() -> Statement {
        Statement::query(
            format!("SELECT {} FROM {} ORDER BY {}", Self::COLUMNS.join(", "), Self::TABLE, Self::ORDER),
            vec![],
        )
    }

    /// Reads every result row.
    fn read_all(rows: &[crate::Row]) -> Result<Vec<Self>, DbError> {
        rows.iter().map(|r| Self::from_row(r)).collect()
    }
}

/// Most values one insert binds (SQLite's limit is 32 766, PostgreSQL's 65 535).
const VALUES_PER_INSERT: usize = 4_000;

/// Multi-row inserts of `rows`, each with the values of `extra_columns` that `extra` gives it
/// (columns the table has beyond the struct's, such as a flag derived from a field).
pub fn inserts<T: TableRow>(
    rows: &[T],
    extra_columns: &[&str],
    extra: impl Fn(&T) -> Result<Vec<SqlValue>, DbError>,
) -> Result<Vec<Statement>, DbError> {
    let columns: Vec<&str> = T::COLUMNS.iter().chain(extra_columns).copied().collect();
    let width = columns.len();
    let tuple = format!("({})", marks(width));
    rows.chunks((VALUES_PER_INSERT / width).max(1))
        .map(|chunk| {
            let mut values = Vec::with_capacity(chunk.len() * width);
            for row in chunk {
                values.extend(row.values()?);
                values.extend(extra(row)?);
            }
            let tuples = vec![tuple.as_str(); chunk.len()].join(", ");
            Ok(Statement::exec(format!("INSERT INTO {} ({}) VALUES {tuples}", T::TABLE, columns.join(", ")), values))
        })
        .collect()
}

/// Declares a struct whose fields are a table's columns, with its [`TableRow`] impl:
/// `table_row! { #[derive(..)] pub struct SiteRow in "sites" order by "id" { pub id: SiteId, .. } }`.
/// Every field's type reads with [`crate::sql::FromValue`] and binds with [`crate::sql::ToValue`].
macro_rules! table_row {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $table:literal order by $order:literal {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty),+
        }

        impl $crate::table::TableRow for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            const ORDER: &'static str = $order;

            fn from_row(row: &[$crate::sql::SqlValue]) -> Result<Self, $crate::error::DbError> {
                let mut columns = row.iter();
                $(
                    let $field = <$ty as $crate::sql::FromValue>::from_value(columns.next().ok_or_else(|| {
                        $crate::error::DbError::Corrupt(format!("{} has no column {}", $table, stringify!($field)))
                    })?)?;
                )+
                Ok(Self { $($field),+ })
            }

            fn values(&self) -> Result<Vec<$crate::sql::SqlValue>, $crate::error::DbError> {
                Ok(vec![$($crate::sql::ToValue::to_value(&self.$field)?),+])
            }
        }
    };
}
pub(crate) use table_row;
