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
        PkKind::Integer { big: false } => "INTEGER".into(),
        PkKind::Integer { big: true } => "BIGINT".into(),
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

/// An identifier as the migrations write it: bare when it is a plain lower-case name that no SQL
/// dialect we write reads as a keyword, else double-quoted (`"order"`, `"MyTable"`). The server
/// quotes every identifier it writes, so both name the same table and column.
pub fn ident(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && KEYWORDS.binary_search(&name).is_err() {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Identifiers quoted in DDL: every keyword SQLite knows (<https://sqlite.org/lang_keywords.html>)
/// and every PostgreSQL keyword that is not unreserved (`pg_get_keywords()` with a category
/// other than `U`, up to PostgreSQL 17), sorted for binary search.
const KEYWORDS: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "attach",
    "authorization",
    "autoincrement",
    "before",
    "begin",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "by",
    "cascade",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "commit",
    "concurrently",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "extract",
    "fail",
    "false",
    "fetch",
    "filter",
    "first",
    "float",
    "following",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "generated",
    "glob",
    "grant",
    "greatest",
    "group",
    "grouping",
    "groups",
    "having",
    "if",
    "ignore",
    "ilike",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "inout",
    "insert",
    "instead",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "key",
    "last",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "match",
    "materialized",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "no",
    "none",
    "normalize",
    "not",
    "nothing",
    "notnull",
    "null",
    "nullif",
    "nulls",
    "numeric",
    "of",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "others",
    "out",
    "outer",
    "over",
    "overlaps",
    "overlay",
    "partition",
    "placing",
    "plan",
    "position",
    "pragma",
    "preceding",
    "precision",
    "primary",
    "query",
    "raise",
    "range",
    "real",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "session_user",
    "set",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "temp",
    "temporary",
    "then",
    "ties",
    "time",
    "timestamp",
    "to",
    "trailing",
    "transaction",
    "treat",
    "trigger",
    "trim",
    "true",
    "unbounded",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "vacuum",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_a_database_would_misread_them() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]), "KEYWORDS is sorted and has no duplicates");
        assert_eq!(ident("posts"), "posts");
        assert_eq!(ident("_x1"), "_x1");
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("plan"), "\"plan\"", "SQLite's keywords too");
        assert_eq!(ident("MyTable"), "\"MyTable\"", "PostgreSQL would fold it to lower case");
        assert_eq!(ident("1st"), "\"1st\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}
