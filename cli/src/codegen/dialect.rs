//! The SQL dialects a generated crate's migrations are written in. The IR holds logical types
//! only; this is the one place that decides how each is stored on each database.

use crate::ir::{FieldKind, PkKind, ScalarKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// The embedded default: decimals, UUIDs and JSON as text, booleans as integers.
    Sqlite,
    /// PostgreSQL 14 or newer, with its native types.
    Postgres,
}

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::Sqlite, Dialect::Postgres];

    /// The generated crate's directory of this dialect's migrations (diesel_cli's layout).
    pub fn migrations_dir(self) -> &'static str {
        match self {
            Dialect::Sqlite => "migrations",
            Dialect::Postgres => "migrations-postgres",
        }
    }

    /// The column type that stores a field of `kind` (a foreign key: its target's key type).
    pub fn column_type(self, kind: &FieldKind) -> String {
        match self {
            Dialect::Sqlite => match kind {
                FieldKind::PrimaryKey(PkKind::Uuid) => "TEXT".into(),
                FieldKind::PrimaryKey(PkKind::Text { max_length }) => format!("VARCHAR({max_length})"),
                FieldKind::PrimaryKey(_) => "INTEGER".into(),
                other => other.types().sql,
            },
            Dialect::Postgres => match kind {
                FieldKind::PrimaryKey(pk) | FieldKind::ForeignKey { target_pk: pk, .. } => pg_key(*pk),
                FieldKind::Scalar(s) => pg_scalar(s),
            },
        }
    }

    /// The column type of a key of kind `pk` (join tables' columns).
    pub fn key_type(self, pk: PkKind) -> String {
        match self {
            Dialect::Sqlite => pk.types().sql,
            Dialect::Postgres => pg_key(pk),
        }
    }

    /// The expression a decimal column compares and aggregates by: SQLite stores decimals as
    /// exact text and compares them as REAL; PostgreSQL's NUMERIC compares exactly.
    pub fn decimal_value(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CAST({column} AS REAL)"),
            Dialect::Postgres => column.to_string(),
        }
    }
}

fn pg_key(pk: PkKind) -> String {
    match pk {
        PkKind::Auto => "INTEGER".into(),
        PkKind::BigAuto => "BIGINT".into(),
        PkKind::Uuid => "UUID".into(),
        PkKind::Text { max_length } => format!("VARCHAR({max_length})"),
    }
}

fn pg_scalar(s: &ScalarKind) -> String {
    match s {
        ScalarKind::Integer => "INTEGER".into(),
        ScalarKind::BigInteger => "BIGINT".into(),
        ScalarKind::Float => "DOUBLE PRECISION".into(),
        ScalarKind::Decimal { max_digits, decimal_places } => format!("NUMERIC({max_digits}, {decimal_places})"),
        ScalarKind::Boolean => "BOOLEAN".into(),
        ScalarKind::String { max_length, .. } => format!("VARCHAR({max_length})"),
        ScalarKind::Text | ScalarKind::Enum { .. } => "TEXT".into(),
        ScalarKind::Date => "DATE".into(),
        ScalarKind::DateTime => "TIMESTAMPTZ".into(),
        ScalarKind::Time => "TIME".into(),
        ScalarKind::Uuid => "UUID".into(),
        ScalarKind::Json => "JSONB".into(),
    }
}

/// PostgreSQL's names of the constraints a column declares, so later migrations can drop them.
pub fn unique_constraint(table: &str, columns: &[String]) -> String {
    format!("{table}_{}_key", columns.join("_"))
}

pub fn foreign_key_constraint(table: &str, column: &str) -> String {
    format!("{table}_{column}_fkey")
}

pub fn allowed_constraint(table: &str, column: &str) -> String {
    format!("{table}_{column}_allowed")
}
