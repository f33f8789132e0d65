//! SQL text with bound parameters, built at run time from the GraphQL arguments of a read.
//!
//! Filters, orderings, cursors and aggregates vary per request, so reads are assembled here as text
//! plus a list of [`Bind`] values and run through Diesel's `sql_query`. User input only ever
//! travels as a bound value; identifiers come from the generated code, never from a request.
//!
//! The text is written once for both databases: `?` placeholders (numbered `$1`, `$2`, … with the
//! parameter's type for PostgreSQL when the statement runs) and the few constructs that differ
//! come from [`Dialect`].

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use diesel::deserialize::QueryableByName;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    BigInt, Bool, Date, Double, Nullable, Text, Time, Timestamptz, TimestamptzSqlite, Untyped,
};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

use crate::runtime::convert;
use crate::runtime::db::{Conn, PgSession};
use crate::runtime::select::Key;

/// The SQL a database speaks, where SQLite and PostgreSQL differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

static DIALECT: OnceLock<Dialect> = OnceLock::new();

/// The dialect of the database this process serves: set once, when it opens (SQLite until then).
pub fn dialect() -> Dialect {
    DIALECT.get().copied().unwrap_or(Dialect::Sqlite)
}

/// Settles the process's dialect; one process serves one kind of database.
pub fn set_dialect(d: Dialect) -> Result<(), String> {
    match *DIALECT.get_or_init(|| d) == d {
        true => Ok(()),
        false => Err(format!(
            "this process already serves {:?}; it cannot also open a {d:?} database",
            dialect()
        )),
    }
}

/// One bound parameter. Dates and times bind through Diesel's own encoding, so comparisons see
/// exactly the text the writes stored.
#[derive(Debug, Clone)]
pub enum Bind {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    DateTime(chrono::DateTime<chrono::Utc>),
    Date(chrono::NaiveDate),
    Time(chrono::NaiveTime),
    /// SQLite stores booleans as 0 and 1.
    Bool(bool),
    /// An exact decimal written to a decimal column: SQLite stores its text, PostgreSQL a NUMERIC.
    Decimal(String),
    /// An exact decimal compared with a decimal column's value: as REAL on SQLite (see
    /// [`decimal_value`]), exactly on PostgreSQL.
    Numeric(String),
    /// A UUID in its stored spelling.
    Uuid(String),
    /// JSON text.
    Json(String),
}

// Binds are part of batched-query keys, so they need `Eq` and `Hash`; floats compare by bits.
impl PartialEq for Bind {
    fn eq(&self, other: &Bind) -> bool {
        match (self, other) {
            (Bind::Null, Bind::Null) => true,
            (Bind::Int(a), Bind::Int(b)) => a == b,
            (Bind::Float(a), Bind::Float(b)) => a.to_bits() == b.to_bits(),
            (Bind::Text(a), Bind::Text(b)) => a == b,
            (Bind::DateTime(a), Bind::DateTime(b)) => a == b,
            (Bind::Date(a), Bind::Date(b)) => a == b,
            (Bind::Time(a), Bind::Time(b)) => a == b,
            (Bind::Bool(a), Bind::Bool(b)) => a == b,
            (Bind::Decimal(a), Bind::Decimal(b)) | (Bind::Numeric(a), Bind::Numeric(b)) => a == b,
            (Bind::Uuid(a), Bind::Uuid(b)) | (Bind::Json(a), Bind::Json(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Bind {}

impl Hash for Bind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Bind::Null => {}
            Bind::Int(v) => v.hash(state),
            Bind::Float(v) => v.to_bits().hash(state),
            Bind::Text(v) => v.hash(state),
            Bind::DateTime(v) => v.hash(state),
            Bind::Date(v) => v.hash(state),
            Bind::Time(v) => v.hash(state),
            Bind::Bool(v) => v.hash(state),
            Bind::Decimal(v) | Bind::Numeric(v) | Bind::Uuid(v) | Bind::Json(v) => v.hash(state),
        }
    }
}

/// SQL text and its parameters, in placeholder order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    /// Text without parameters.
    pub fn raw(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    /// Appends text.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Bind) -> &mut Sql {
        self.text.push('?');
        self.binds.push(value);
        self
    }

    /// Appends another fragment with its parameters.
    pub fn append(&mut self, other: &Sql) -> &mut Sql {
        self.text.push_str(&other.text);
        self.binds.extend(other.binds.iter().cloned());
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn binds(&self) -> &[Bind] {
        &self.binds
    }

    /// `parts` joined by `separator`, each in parentheses; `empty` when there are none.
    pub fn join(parts: &[Sql], separator: &str, empty: &str) -> Sql {
        if parts.is_empty() {
            return Sql::raw(empty);
        }
        let mut out = Sql::default();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.push(separator);
            }
            out.push("(").append(part).push(")");
        }
        out
    }

    /// Runs the query and reads every row as `R`.
    pub fn load<R: Loadable>(&self, conn: &mut Conn) -> QueryResult<Vec<R>> {
        match conn {
            Conn::Sqlite(c) => self.sqlite().load(c.preparing(&self.text)),
            Conn::Postgres(c) => {
                let statement = self.postgres();
                c.load(PgSession::key(&statement.pieces), statement)
            }
        }
    }

    /// Reads every row on a connection of PostgreSQL's read pool (see [`crate::runtime::db::Db::load`]).
    /// The future is boxed: its type names Diesel's, which the compiler cannot prove `Send`
    /// for every lifetime inside a resolver's future.
    pub fn load_async<R: Loadable>(
        self,
        session: &mut crate::runtime::postgres::ReadSession,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = QueryResult<Vec<R>>> + Send + '_>> {
        let statement = self.into_postgres();
        let conn = session.preparing(PgSession::key(&statement.pieces));
        Box::pin(diesel_async::RunQueryDsl::load(statement, conn))
    }

    /// Runs a statement that returns no rows; the number of rows it changed.
    pub fn execute(&self, conn: &mut Conn) -> QueryResult<usize> {
        match conn {
            Conn::Sqlite(c) => self.sqlite().execute(c.preparing(&self.text)),
            Conn::Postgres(c) => {
                let statement = self.postgres();
                let conn = c.preparing(&statement.pieces);
                statement.execute(conn)
            }
        }
    }

    /// The text around the `?` placeholders (a `?` inside a quoted string or name is text), one
    /// more piece than there are values.
    fn around_placeholders(&self) -> Vec<&str> {
        let mut pieces = Vec::with_capacity(self.binds.len() + 1);
        let mut start = 0;
        let mut quote: Option<char> = None;
        for (at, c) in self.text.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '?') => {
                    pieces.push(&self.text[start..at]);
                    start = at + 1;
                }
                _ => {}
            }
        }
        pieces.push(&self.text[start..]);
        debug_assert_eq!(
            pieces.len(),
            self.binds.len() + 1,
            "a value for every placeholder"
        );
        pieces
    }

    /// The statement as SQLite takes it: the text around its `?` placeholders, and its values.
    fn sqlite(&self) -> SqliteStatement<'_> {
        let pieces = self.around_placeholders();
        let numbers = self
            .binds
            .iter()
            .filter_map(|b| match b {
                Bind::Numeric(v) => Some(v.parse::<f64>().unwrap_or(f64::NAN)),
                _ => None,
            })
            .collect();
        let django_texts = if crate::settings::DJANGO_DATETIMES {
            self.binds
                .iter()
                .filter_map(|b| match b {
                    Bind::DateTime(v) => Some(convert::django_datetime(v)),
                    Bind::Time(v) => Some(convert::django_time(v)),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        SqliteStatement {
            pieces,
            binds: &self.binds,
            numbers,
            django_texts,
        }
    }

    /// The statement as PostgreSQL takes it: `$n` placeholders, typed where the type is not the
    /// bound value's own (decimals, UUIDs and JSON travel as text), and NULL written in place.
    fn postgres(&self) -> PgStatement<'_> {
        let (pieces, binds) = self.pieces();
        let binds = binds.into_iter().map(Cow::Borrowed).collect();
        PgStatement { pieces, binds }
    }

    /// [`Sql::postgres`], owning its values: a statement a future can hold across awaits.
    fn into_postgres(self) -> PgStatement<'static> {
        let (pieces, binds) = self.pieces();
        let binds = binds.into_iter().map(|b| Cow::Owned(b.clone())).collect();
        PgStatement { pieces, binds }
    }

    /// The text around PostgreSQL's parameters, one more piece than parameters (a parameter's
    /// cast opens the piece after it), and the parameters: NULL is written into the text.
    fn pieces(&self) -> (Vec<String>, Vec<&Bind>) {
        let mut around = self.around_placeholders().into_iter();
        let mut out = around.next().unwrap_or_default().to_string();
        let mut pieces = Vec::with_capacity(self.binds.len() + 1);
        let mut binds = Vec::with_capacity(self.binds.len());
        for (bind, text) in self.binds.iter().zip(around) {
            if *bind == Bind::Null {
                out.push_str("NULL");
            } else {
                binds.push(bind);
                pieces.push(std::mem::take(&mut out));
                out.push_str(match bind {
                    Bind::Decimal(_) | Bind::Numeric(_) => "::numeric",
                    Bind::Uuid(_) => "::uuid",
                    Bind::Json(_) => "::jsonb",
                    Bind::Text(_) => "::text",
                    Bind::Int(_) => "::bigint",
                    _ => "",
                });
            }
            out.push_str(text);
        }
        pieces.push(out);
        (pieces, binds)
    }
}

/// A statement as PostgreSQL runs it. Unlike Diesel's `sql_query`, the connection may keep it
/// prepared, keyed by its text (and its parameters' types): a repeated read is one round trip
/// with a plan already made, instead of a parse, a plan and two round trips each time.
struct PgStatement<'a> {
    /// The text around the parameters (Diesel writes each `$n`); they identify the statement.
    pieces: Vec<String>,
    binds: Vec<Cow<'a, Bind>>,
}

impl QueryId for PgStatement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for PgStatement<'_> {
    type SqlType = Untyped;
}

impl<C> RunQueryDsl<C> for PgStatement<'_> {}

impl<C> diesel_async::RunQueryDsl<C> for PgStatement<'_> {}

impl QueryFragment<Pg> for PgStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut pieces = self.pieces.iter();
        out.push_sql(pieces.next().map_or("", String::as_str));
        for (value, piece) in self.binds.iter().zip(pieces) {
            match value.as_ref() {
                Bind::Null => unreachable!("NULL is written into the text"),
                Bind::Int(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Bind::Float(v) => out.push_bind_param::<Double, _>(v)?,
                Bind::Text(v)
                | Bind::Decimal(v)
                | Bind::Numeric(v)
                | Bind::Uuid(v)
                | Bind::Json(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::DateTime(v) => out.push_bind_param::<Timestamptz, _>(v)?,
                Bind::Date(v) => out.push_bind_param::<Date, _>(v)?,
                Bind::Time(v) => out.push_bind_param::<Time, _>(v)?,
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

/// A statement as SQLite runs it. Unlike Diesel's `sql_query`, the connection may keep it
/// prepared, keyed by its text: a repeated statement is not parsed and planned again.
struct SqliteStatement<'a> {
    /// The text around the `?` placeholders, one more piece than values.
    pieces: Vec<&'a str>,
    binds: &'a [Bind],
    /// The `Numeric` values, in order, as the numbers SQLite compares them as.
    numbers: Vec<f64>,
    /// With `settings::DJANGO_DATETIMES`, the `DateTime` and `Time` values, in order, as the text
    /// Django stores them as.
    django_texts: Vec<String>,
}

impl QueryId for SqliteStatement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for SqliteStatement<'_> {
    type SqlType = Untyped;
}

impl<C> RunQueryDsl<C> for SqliteStatement<'_> {}

impl QueryFragment<Sqlite> for SqliteStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        const NULL: Option<i64> = None;
        let mut pieces = self.pieces.iter();
        let mut numbers = self.numbers.iter();
        let mut django_texts = self.django_texts.iter();
        out.push_sql(pieces.next().copied().unwrap_or(""));
        for (value, piece) in self.binds.iter().zip(pieces) {
            match value {
                Bind::Null => out.push_bind_param::<Nullable<BigInt>, _>(&NULL)?,
                Bind::Int(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Bind::Float(v) => out.push_bind_param::<Double, _>(v)?,
                Bind::Numeric(_) => {
                    let number = numbers.next().expect("a number for every Numeric value");
                    out.push_bind_param::<Double, _>(number)?
                }
                Bind::Text(v) | Bind::Decimal(v) | Bind::Uuid(v) | Bind::Json(v) => {
                    out.push_bind_param::<Text, _>(v)?
                }
                Bind::DateTime(_) | Bind::Time(_) if crate::settings::DJANGO_DATETIMES => {
                    let text = django_texts
                        .next()
                        .expect("a text for every date-time and time");
                    out.push_bind_param::<Text, _>(text)?
                }
                Bind::DateTime(v) => out.push_bind_param::<TimestamptzSqlite, _>(v)?,
                Bind::Date(v) => out.push_bind_param::<Date, _>(v)?,
                Bind::Time(v) => out.push_bind_param::<Time, _>(v)?,
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

/// A row type both databases can read.
pub trait Loadable: QueryableByName<Sqlite> + QueryableByName<Pg> + Send + 'static {}

impl<T: QueryableByName<Sqlite> + QueryableByName<Pg> + Send + 'static> Loadable for T {}

/// `expr IN <the keys>`: one parameter however many keys (a JSON array on SQLite, an array on
/// PostgreSQL), so the statement text, and its cached plan, is the same for any number of them.
pub fn in_keys(expr: &str, keys: &[Key]) -> Sql {
    let mut sql = Sql::raw(expr);
    match dialect() {
        Dialect::Sqlite => {
            sql.push(" IN (SELECT value FROM json_each(")
                .bind(Bind::Text(Key::json_array(keys)))
                .push("))");
        }
        // One key (a lookup by id): a parameter of its own. A prepared statement's generic plan
        // then expects one row, as its first plans did, and PostgreSQL keeps it; over an array it
        // expects ten, and once a relation is joined that generic plan looks dearer than the plans
        // made for each execution, so every lookup was planned again (0.1-0.25 ms of the
        // database's CPU each, more than running it).
        Dialect::Postgres if keys.len() == 1 => {
            sql.push(" = ").bind(match &keys[0] {
                Key::Int(id) => Bind::Int(*id),
                Key::Text(text) => Bind::Text(text.clone()),
                Key::Uuid(uuid) => Bind::Uuid(uuid.clone()),
            });
        }
        Dialect::Postgres => {
            // `= ANY(array)`, not a join against the unnested list: the planner sees how many keys
            // there are and probes the index for each, where a set-returning function is guessed
            // at 100 rows and a small table is read whole into a hash join instead.
            sql.push(" = ANY(").append(&key_array(keys)).push(")");
        }
    }
    sql
}

/// The keys as one PostgreSQL array parameter of their type (`$1::text::bigint[]`).
pub fn key_array(keys: &[Key]) -> Sql {
    let element = match keys.first() {
        Some(Key::Int(_)) => "bigint",
        Some(Key::Uuid(_)) => "uuid",
        Some(Key::Text(_)) | None => "text",
    };
    let mut sql = Sql::default();
    sql.bind(Bind::Text(pg_array(keys)))
        .push(&format!("::{element}[]"));
    sql
}

/// Keys as a PostgreSQL array literal, `{1,2}` or `{"a","b \"c\""}`.
fn pg_array(keys: &[Key]) -> String {
    let items: Vec<String> = keys
        .iter()
        .map(|k| match k {
            Key::Int(v) => v.to_string(),
            Key::Text(v) | Key::Uuid(v) => {
                format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
            }
        })
        .collect();
    ["{", &items.join(","), "}"].concat()
}

/// The dialect's JSON object constructor, opened: `json_object(` or `json_build_object(`.
pub fn json_object_open() -> &'static str {
    match dialect() {
        Dialect::Sqlite => "json_object(",
        Dialect::Postgres => "json_build_object(",
    }
}

/// `json_object(<arguments>)` in the dialect.
pub fn json_object(arguments: &str) -> String {
    format!("{}{arguments})", json_object_open())
}

/// `json_array(…)`.
pub fn json_array(items: &str) -> String {
    match dialect() {
        Dialect::Sqlite => format!("json_array({items})"),
        Dialect::Postgres => format!("json_build_array({items})"),
    }
}

/// A quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A decimal column as the number it holds, for comparing, sorting and aggregating by value:
/// SQLite stores exact text and compares it as REAL; PostgreSQL's NUMERIC is the number itself.
pub fn decimal_value(expr: &str) -> String {
    match dialect() {
        Dialect::Sqlite => format!("CAST({expr} AS REAL)"),
        Dialect::Postgres => expr.to_string(),
    }
}

/// Whether the plan SQLite makes for `sql` finds the rows of its outer table (`t0`) through an
/// index instead of scanning the table. Asked once per statement text (`EXPLAIN QUERY PLAN`,
/// with the same values) and remembered for the process; PostgreSQL is not asked (`true`).
pub fn searches_outer_table(conn: &mut Conn, sql: &Sql) -> QueryResult<bool> {
    static KNOWN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> =
        std::sync::LazyLock::new(Default::default);
    const REMEMBERED: usize = 1024;
    if matches!(conn, Conn::Postgres(_)) {
        return Ok(true);
    }
    let known = || {
        KNOWN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(&searches) = known().get(sql.text()) {
        return Ok(searches);
    }
    let mut explain = Sql::raw("EXPLAIN QUERY PLAN ");
    explain.append(sql);
    let steps: Vec<PlanStep> = explain.load(conn)?;
    let searches = !steps
        .iter()
        .any(|s| s.0 == "SCAN t0" || s.0.starts_with("SCAN t0 "));
    let mut known = known();
    if known.len() >= REMEMBERED {
        known.clear();
    }
    known.insert(sql.text().to_string(), searches);
    Ok(searches)
}

/// A line of SQLite's `EXPLAIN QUERY PLAN`.
struct PlanStep(String);

impl<DB: diesel::backend::Backend> QueryableByName<DB> for PlanStep
where
    String: diesel::deserialize::FromSql<Text, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(PlanStep(diesel::row::NamedRow::get::<Text, String>(
            row, "detail",
        )?))
    }
}

/// A row of one JSON text column, `gqlauto_json`: how aggregates of any shape come back.
#[derive(Debug, Clone)]
pub struct JsonRow(pub serde_json::Map<String, serde_json::Value>);

impl<DB: diesel::backend::Backend> QueryableByName<DB> for JsonRow
where
    String: diesel::deserialize::FromSql<Text, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        let text: String = diesel::row::NamedRow::get::<Text, String>(row, "gqlauto_json")?;
        match serde_json::from_str(&text)? {
            serde_json::Value::Object(map) => Ok(JsonRow(map)),
            other => Err(format!("expected a JSON object, got {other}").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_postgres_array_literals() {
        assert_eq!(pg_array(&[Key::Int(1), Key::Int(-2)]), "{1,-2}");
        assert_eq!(
            pg_array(&[Key::Text("a\"b".into()), Key::Text("c\\d,{e}".into())]),
            r#"{"a\"b","c\\d,{e}"}"#
        );
        assert_eq!(pg_array(&[]), "{}");
    }

    #[test]
    fn binds_follow_placeholders_and_join_parenthesises() {
        let mut a = Sql::raw("x = ");
        a.bind(Bind::Int(1));
        let mut b = Sql::raw("y = ");
        b.bind(Bind::Text("a'b".into()));
        let joined = Sql::join(&[a, b], " AND ", "TRUE");
        assert_eq!(joined.text(), "(x = ?) AND (y = ?)");
        assert_eq!(joined.binds(), &[Bind::Int(1), Bind::Text("a'b".into())]);
        assert_eq!(Sql::join(&[], " OR ", "FALSE").text(), "FALSE");
    }

    #[test]
    fn postgres_numbers_placeholders_outside_quotes_and_writes_null_in_place() {
        let mut sql = Sql::raw("SELECT '?' AS \"a?\" WHERE x = ");
        sql.bind(Bind::Int(1))
            .push(" AND y IS ")
            .bind(Bind::Null)
            .push(" AND z = ")
            .bind(Bind::Uuid("u".into()));
        sql.push(" AND d > ").bind(Bind::Numeric("1.5".into()));
        // `?` numbered outside quoted strings and identifiers: Diesel writes each `$n` between the
        // pieces when it runs the statement.
        let statement = sql.postgres();
        let shown = diesel::debug_query::<Pg, _>(&statement).to_string();
        let text = "SELECT '?' AS \"a?\" WHERE x = $1::bigint AND y IS NULL AND z = $2::uuid AND d > $3::numeric";
        assert_eq!(shown.split(" -- binds: ").next(), Some(text));
        let binds = [
            &Bind::Int(1),
            &Bind::Uuid("u".into()),
            &Bind::Numeric("1.5".into()),
        ];
        let borrowed: Vec<&Bind> = statement.binds.iter().map(|b| b.as_ref()).collect();
        assert_eq!(borrowed, binds);
        // The owned form, which reads send from the request's task, is the same statement.
        let owned = sql.clone().into_postgres();
        assert_eq!(diesel::debug_query::<Pg, _>(&owned).to_string(), shown);
        assert!(owned.binds.iter().all(|b| matches!(b, Cow::Owned(_))));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn float_binds_hash_by_bits() {
        use std::collections::HashSet;
        let set: HashSet<Bind> = [Bind::Float(0.5), Bind::Float(0.5), Bind::Float(f64::NAN)]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 2);
    }
}
