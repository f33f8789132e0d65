//! The shape of one read: table, condition, full-text search and ordering, and the SQL of every
//! way it is fetched (a page, a keyset window, a batch for many parents, a count).

use std::hash::{Hash, Hasher};

use base64::Engine as _;
use diesel::backend::Backend;
use diesel::deserialize::{FromSql, QueryableByName};
use diesel::sql_types::Text;

use crate::runtime::batch::RelatedQuery;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::{condition, Scope, Where};
use crate::runtime::model::{JoinScope, Search};
use crate::runtime::order::{order_keys, DefaultSort, OrderBy, OrderKey, SortAs};
use crate::runtime::secret;
use crate::runtime::sql::{
    dialect, ident, in_keys, json_array, json_object, json_object_open, key_array, Bind, Dialect,
    Sql,
};

/// A row type the read engine can load: a model's Diesel row, or a [`crate::runtime::record::Record`].
pub trait Loadable: crate::runtime::sql::Loadable + Clone + Send + Sync {}

impl<T: crate::runtime::sql::Loadable + Clone + Send + Sync> Loadable for T {}

/// What the shared read code needs to know about a model's row type.
pub trait Row: Loadable {
    const TABLE: &'static str;
    const KEY: &'static str;
    /// How the key is stored and named by an `ID`.
    const KEY_KIND: KeyKind;
    /// The manifest's `ordering`, before the key.
    const DEFAULT_ORDER: &'static [DefaultSort];
    /// The full-text index of the model's `search` fields, if it has one.
    const SEARCH: Option<Search>;
    fn key(&self) -> Key;
}

/// A row's primary key value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Int(i64),
    Text(String),
    /// A UUID in its stored spelling (PostgreSQL compares it as `uuid`, SQLite as text).
    Uuid(String),
}

/// How a model's primary key is stored, which decides how an `ID` names a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An integer: the `ID` is its decimal digits.
    Int,
    /// A UUID stored as text: any spelling of it (`ID`s are compared in the stored form).
    Uuid,
    /// A string the client chose: the `ID` is the string itself.
    Text,
}

impl KeyKind {
    /// The key an `ID` names, if it can name one of this kind.
    pub fn parse(self, id: &str) -> Option<Key> {
        match self {
            KeyKind::Int => id.parse().ok().map(Key::Int),
            KeyKind::Uuid => uuid::Uuid::parse_str(id)
                .ok()
                .map(|u| Key::Uuid(crate::runtime::convert::uuid_text(u))),
            KeyKind::Text => Some(Key::Text(id.to_string())),
        }
    }
}

impl Key {
    /// The key as SQL's `CAST(key AS TEXT)` writes it.
    pub fn to_text(&self) -> String {
        match self {
            Key::Int(v) => v.to_string(),
            Key::Text(v) | Key::Uuid(v) => v.clone(),
        }
    }

    /// The key a stored value of a key column of `kind` holds.
    pub fn stored(stored: &crate::runtime::record::Stored, kind: KeyKind) -> Option<Key> {
        use crate::runtime::record::Stored;
        match (stored, kind) {
            (Stored::Int(v), _) => Some(Key::Int(*v)),
            (Stored::Text(v), KeyKind::Uuid) => Some(Key::Uuid(v.clone())),
            (Stored::Text(v), _) => Some(Key::Text(v.clone())),
            _ => None,
        }
    }

    /// A JSON array of keys, bound as one parameter and read with `json_each`.
    pub fn json_array(keys: &[Key]) -> String {
        let items: Vec<serde_json::Value> = keys
            .iter()
            .map(|k| match k {
                Key::Int(v) => serde_json::Value::from(*v),
                Key::Text(v) | Key::Uuid(v) => serde_json::Value::from(v.as_str()),
            })
            .collect();
        serde_json::Value::Array(items).to_string()
    }
}

impl From<i32> for Key {
    fn from(v: i32) -> Key {
        Key::Int(v.into())
    }
}

impl From<i64> for Key {
    fn from(v: i64) -> Key {
        Key::Int(v)
    }
}

impl From<&str> for Key {
    fn from(v: &str) -> Key {
        Key::Text(v.to_string())
    }
}

/// A row read together with its cursor values (a JSON array, column `gqlauto_cursor`).
#[derive(Debug, Clone)]
pub struct Fetched<R> {
    pub row: R,
    pub cursor: String,
}

impl<DB: Backend, R: QueryableByName<DB>> QueryableByName<DB> for Fetched<R>
where
    String: FromSql<Text, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Fetched {
            row: R::build(row)?,
            cursor: diesel::row::NamedRow::get::<Text, String>(row, "gqlauto_cursor")?,
        })
    }
}

/// A row of a batched relation read, tagged with the parent it belongs to.
#[derive(Debug, Clone)]
pub struct Child<R> {
    pub fetched: Fetched<R>,
    pub parent: String,
    /// Position among the parent's related rows.
    pub position: i64,
}

impl<DB: Backend, R: QueryableByName<DB>> QueryableByName<DB> for Child<R>
where
    String: FromSql<Text, DB>,
    i64: FromSql<diesel::sql_types::BigInt, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Child {
            fetched: Fetched::build(row)?,
            parent: diesel::row::NamedRow::get::<Text, String>(row, "gqlauto_parent")?,
            position: diesel::row::NamedRow::get::<diesel::sql_types::BigInt, i64>(
                row,
                "gqlauto_rn",
            )?,
        })
    }
}

/// How related rows point at their parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// A column of the related table holds the parent's key.
    Column(&'static str),
    /// A join table row links them: `parent` holds the parent's key, `child` the related row's;
    /// only the rows `scope` picks, if given.
    Join {
        table: &'static str,
        parent: &'static str,
        child: &'static str,
        scope: Option<&'static JoinScope>,
    },
}

/// The table a read starts from, and what it reads of it.
pub struct Table {
    pub name: &'static str,
    pub key: &'static str,
    /// The full-text index of the table, if it has one.
    pub search: Option<Search>,
    /// The ordering when a read names none.
    pub default_order: &'static [DefaultSort],
    /// The columns read, qualified by `t0`.
    pub columns: String,
}

/// One value an aggregate computes: `'sum.view_count', SUM(t0."view_count")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AggregateTerm {
    /// Its key in the aggregate's JSON object (`count`, `sum.<column>`, ...).
    pub name: String,
    /// `COUNT`, `SUM`, `AVG`, `MIN` or `MAX`.
    pub function: &'static str,
    /// What it is computed over; `None` counts rows (`COUNT(*)`).
    pub argument: Option<String>,
}

impl AggregateTerm {
    /// `'name', FUNCTION(argument)`: a `json_object` argument pair.
    pub fn column(&self) -> String {
        format!(
            "'{}', {}({})",
            self.name,
            self.function,
            self.argument.as_deref().unwrap_or("*")
        )
    }

    /// `terms` as `json_object` arguments, over every row read.
    pub fn columns(terms: &[AggregateTerm]) -> String {
        let pairs: Vec<String> = terms.iter().map(AggregateTerm::column).collect();
        pairs.join(", ")
    }

    /// [`AggregateTerm::column`] over the rows meeting `only`.
    fn filtered(&self, only: &Sql) -> Sql {
        let mut sql = Sql::raw(self.column());
        sql.push(" FILTER (WHERE ").append(only).push(")");
        sql
    }
}

/// Which rows one read returns, and in which order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Select {
    table: &'static str,
    key: &'static str,
    /// The columns read (`t0.*`, or a model's own list).
    columns: String,
    search: Option<Sql>,
    cond: Sql,
    order: Vec<OrderKey>,
    /// Identifies the ordering inside cursors, so a cursor is only accepted by the ordering that issued it.
    signature: u64,
}

impl Select {
    /// A read of `R`'s table narrowed by `filter`, ranked by `search`, ordered by `order_by`
    /// (or by the search rank, or the model's default ordering), always ending with the key.
    pub fn new<R: Row, W: Where, O: OrderBy>(
        filter: Option<&W>,
        order_by: Option<&[O]>,
        search: Option<&str>,
    ) -> Result<Select, ApiError> {
        let table = Table {
            name: R::TABLE,
            key: R::KEY,
            search: R::SEARCH,
            default_order: R::DEFAULT_ORDER,
            columns: "t0.*".into(),
        };
        Select::build(table, search, |scope| {
            let cond = match filter {
                Some(f) => condition(f, scope)?,
                None => Sql::raw("TRUE"),
            };
            let order = match order_by {
                Some(list) if !list.is_empty() => Some(order_keys(list, scope)?),
                _ => None,
            };
            Ok((cond, order))
        })
    }

    /// A read of `table`: `narrow` gives the condition and the `orderBy` keys (if any) on the
    /// outermost table; without keys, rows are ranked by `search` or in the default ordering.
    /// The key always ends the ordering.
    pub fn build(
        table: Table,
        search: Option<&str>,
        narrow: impl FnOnce(&Scope<'_>) -> Result<(Sql, Option<Vec<OrderKey>>), ApiError>,
    ) -> Result<Select, ApiError> {
        let counter = std::cell::Cell::new(0);
        let scope = Scope::root(&counter);
        let (cond, order) = narrow(&scope)?;
        let search = match (table.search, search.map(fts_query).transpose()?.flatten()) {
            (Some(index), Some(query)) => Some(match dialect() {
                Dialect::Sqlite => {
                    let mut sql = Sql::raw(format!(
                        " JOIN (SELECT rowid AS gqlauto_rowid, bm25({t}) AS gqlauto_rank FROM {t} WHERE {t} MATCH ",
                        t = ident(index.fts)
                    ));
                    sql.bind(Bind::Text(query.fts))
                        .push(") AS s ON s.gqlauto_rowid = t0.rowid");
                    sql
                }
                // The document expression is the one the table's GIN index covers; a better
                // match ranks higher, so the rank sorts ascending as bm25's does.
                Dialect::Postgres => {
                    let key = ident(table.key);
                    let mut sql = Sql::raw(format!(
                        " JOIN (SELECT t0.{key} AS gqlauto_rowid, -ts_rank({doc}, q.query) AS gqlauto_rank FROM {} AS t0, to_tsquery('simple', ",
                        ident(table.name),
                        doc = index.document
                    ));
                    sql.bind(Bind::Text(query.tsquery)).push(&format!(
                        ") AS q(query) WHERE {} @@ q.query) AS s ON s.gqlauto_rowid = t0.{key}",
                        index.document
                    ));
                    sql
                }
            }),
            _ => None,
        };
        let mut order = match order {
            Some(keys) => keys,
            None if search.is_some() => vec![OrderKey::column(
                "rank",
                "s.gqlauto_rank",
                false,
                false,
                SortAs::Float,
            )],
            None => table.default_order.iter().map(|s| s.key(&scope)).collect(),
        };
        let key_expr = scope.col(table.key);
        if order.last().map(|k| &k.expr) != Some(&key_expr) {
            order.push(OrderKey::column(
                table.key,
                &key_expr,
                false,
                false,
                SortAs::Plain,
            ));
        }
        let mut hasher = Fnv::default();
        table.name.hash(&mut hasher);
        for key in &order {
            (&key.name, key.desc, key.nulls_first).hash(&mut hasher);
        }
        let signature = hasher.finish();
        Ok(Select {
            table: table.name,
            key: table.key,
            columns: table.columns,
            search,
            cond,
            order,
            signature,
        })
    }

    /// `FROM <table> AS t0`, with the search ranking joined in.
    fn from(&self) -> Sql {
        let mut sql = Sql::raw(format!(" FROM {} AS t0", ident(self.table)));
        if let Some(search) = &self.search {
            sql.append(search);
        }
        sql
    }

    fn order_clause(&self, reverse: bool) -> String {
        self.order
            .iter()
            .map(|k| k.term(reverse))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The ordering's values of a row as a JSON array, for its cursor. Floats travel as text with
    /// 17 significant digits, so they read back exactly.
    fn cursor_column(&self) -> String {
        let items: Vec<String> = self
            .order
            .iter()
            .map(|k| match (k.float, dialect()) {
                (false, _) => k.expr.clone(),
                (true, Dialect::Sqlite) => format!(
                    "CASE WHEN {e} IS NULL THEN NULL ELSE printf('%.17g', {e}) END",
                    e = k.expr
                ),
                // PostgreSQL writes floats with the fewest digits that read back exactly.
                (true, Dialect::Postgres) => format!("CAST({} AS TEXT)", k.expr),
            })
            .collect();
        format!("{} AS gqlauto_cursor", json_array(&items.join(", ")))
    }

    /// One page in order, by offset.
    pub fn page(&self, limit: i64, offset: i64) -> Sql {
        let mut sql = Sql::raw(format!("SELECT {}", self.columns));
        sql.append(&self.from()).push(" WHERE ").append(&self.cond);
        sql.push(&format!(" ORDER BY {} LIMIT ", self.order_clause(false)));
        sql.bind(Bind::Int(limit))
            .push(" OFFSET ")
            .bind(Bind::Int(offset));
        sql
    }

    /// Up to `limit` rows meeting `extra` as well, with cursors; `reverse` reads from the end.
    pub fn window(&self, extra: &[Sql], reverse: bool, limit: i64) -> Sql {
        let mut sql = Sql::raw(format!("SELECT {}, {}", self.columns, self.cursor_column()));
        sql.append(&self.from())
            .push(" WHERE ")
            .append(&self.with(extra));
        sql.push(&format!(" ORDER BY {} LIMIT ", self.order_clause(reverse)));
        sql.bind(Bind::Int(limit));
        sql
    }

    /// Whether any row meets `extra` as well.
    pub fn exists(&self, extra: &[Sql]) -> Sql {
        let mut sql = Sql::raw(format!(
            "SELECT {}'found', EXISTS (SELECT 1",
            json_object_open()
        ));
        sql.append(&self.from())
            .push(" WHERE ")
            .append(&self.with(extra))
            .push(")) AS gqlauto_json");
        sql
    }

    /// Whether the aggregates of `self` and `other` can be computed in one scan
    /// ([`Select::aggregates`]): the same table, neither ranked by a search.
    pub fn shares_scan(&self, other: &Select) -> bool {
        self.table == other.table && self.search.is_none() && other.search.is_none()
    }

    /// Whether the read has no condition: it wants every row of its table.
    fn reads_every_row(&self) -> bool {
        self.cond.text() == "TRUE"
    }

    /// Whether a `WHERE` could narrow the scan of [`Select::aggregates`]: not when a read wants
    /// every row.
    pub fn narrowable(reads: &[(&Select, &[AggregateTerm])]) -> bool {
        !reads.iter().any(|(read, _)| read.reads_every_row())
    }

    /// The aggregates of several reads of one table in one scan, so sibling `…Aggregate` fields
    /// read the table once: `SELECT json_object('0', json_object(<terms of the first read>),
    /// '1', …)` over the rows any read matches, each read's terms computed over its own rows
    /// (`FILTER (WHERE …)`). The reads must share a scan ([`Select::shares_scan`]).
    ///
    /// `narrow` adds `WHERE <any read's condition>`, which lets an index find the rows; where none
    /// does, the table is scanned anyway and the conditions are better left to each `FILTER`
    /// (evaluated once per row instead of twice: the Django blog's two filtered counts of 20,000
    /// posts ran at 839–877 requests/s without the `WHERE`, 606–682 with it, 586–718 as two
    /// statements).
    pub fn aggregates(reads: &[(&Select, &[AggregateTerm])], narrow: bool) -> Sql {
        let open = json_object_open();
        let mut sql = Sql::raw(format!("SELECT {open}"));
        let mut conds = Vec::with_capacity(reads.len());
        for (i, (read, terms)) in reads.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push(&format!("'{i}', {open}"));
            for (j, term) in terms.iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                if read.reads_every_row() {
                    sql.push(&term.column());
                } else {
                    sql.append(&term.filtered(&read.cond));
                }
            }
            sql.push(")");
            conds.push(read.cond.clone());
        }
        sql.push(") AS gqlauto_json");
        if let Some((first, _)) = reads.first() {
            sql.append(&first.from());
        }
        if narrow && Select::narrowable(reads) {
            sql.push(" WHERE ")
                .append(&Sql::join(&conds, " OR ", "FALSE"));
        }
        sql
    }

    /// `SELECT json_object(<columns>)` over every row that matches; `columns` are
    /// `'name', expression` pairs, `group_by` and `having` optional.
    pub fn json(
        &self,
        columns: &str,
        group_by: Option<&str>,
        having: Option<&Sql>,
        page: Option<(i64, i64)>,
    ) -> Sql {
        let mut sql = Sql::raw(format!("SELECT {} AS gqlauto_json", json_object(columns)));
        sql.append(&self.from()).push(" WHERE ").append(&self.cond);
        if let Some(group_by) = group_by {
            sql.push(&format!(" GROUP BY {group_by}"));
            if let Some(having) = having {
                sql.push(" HAVING ").append(having);
            }
            sql.push(&format!(" ORDER BY {group_by}"));
        }
        if let Some((limit, offset)) = page {
            sql.push(" LIMIT ")
                .bind(Bind::Int(limit))
                .push(" OFFSET ")
                .bind(Bind::Int(offset));
        }
        sql
    }

    fn with(&self, extra: &[Sql]) -> Sql {
        let mut all = vec![self.cond.clone()];
        all.extend(extra.iter().cloned());
        Sql::join(&all, " AND ", "TRUE")
    }

    /// Rows related to each of `parents` through the query's link: per parent, rows
    /// `skip+1 ..= skip+take` of those meeting its keyset conditions, in order (`reverse`: from
    /// the end). One statement for all parents.
    ///
    /// The window runs over row ids only and the rows are joined afterwards, so SQLite numbers
    /// narrow records; cursors (`with_cursors`) are computed only for the rows returned.
    pub fn batch(&self, parents: &[Key], q: &RelatedQuery) -> Sql {
        let (extra, reverse, skip, take) = (&q.extra, q.reverse, q.skip, q.take);
        let (join, parent) = self.parent_expr(q.link);
        let cursor = if q.cursors {
            self.cursor_column()
        } else {
            "'' AS gqlauto_cursor".to_string()
        };
        if dialect() == Dialect::Postgres {
            return self.batch_lateral(parents, q, &join, &parent, &cursor);
        }
        // SQLite's rowid is the narrowest handle on a row.
        let row_id = "rowid";
        let mut sql = Sql::raw(format!(
            "SELECT {columns}, w.gqlauto_parent, w.gqlauto_rn, {cursor} FROM (SELECT t0.{row_id} AS gqlauto_rowid, CAST({parent} AS TEXT) AS gqlauto_parent, ROW_NUMBER() OVER (PARTITION BY {parent} ORDER BY {}) AS gqlauto_rn",
            self.order_clause(reverse),
            columns = self.columns
        ));
        sql.append(&self.from()).push(&join).push(" WHERE ");
        sql.append(&in_keys(&parent, parents))
            .push(" AND ")
            .append(&self.with(extra));
        sql.push(&format!(
            ") AS w JOIN {} AS t0 ON t0.{row_id} = w.gqlauto_rowid WHERE w.gqlauto_rn > ",
            ident(self.table)
        ))
        .bind(Bind::Int(skip));
        sql.push(" AND w.gqlauto_rn <= ")
            .bind(Bind::Int(skip.saturating_add(take)));
        sql
    }

    /// [`Self::batch`] on PostgreSQL: for each parent key, a lateral subquery reads its first
    /// `skip + take` rows in order, an index range scan that stops there, where a window over
    /// every parent's rows numbers all of them first. The rows are read whole inside it: joining
    /// them again by key afterwards cost a third more of the database's time.
    fn batch_lateral(
        &self,
        parents: &[Key],
        q: &RelatedQuery,
        join: &str,
        parent: &str,
        cursor: &str,
    ) -> Sql {
        let (skip, take) = (q.skip, q.take);
        let order = self.order_clause(q.reverse);
        let mut sql = Sql::raw("SELECT w.* FROM (SELECT DISTINCT k FROM unnest(");
        sql.append(&key_array(parents))
            .push(") AS u(k)) AS p CROSS JOIN LATERAL (");
        sql.push(&format!(
            "SELECT {columns}, CAST(p.k AS TEXT) AS gqlauto_parent, ROW_NUMBER() OVER (ORDER BY {order}) AS gqlauto_rn, {cursor}",
            columns = self.columns
        ));
        sql.append(&self.from())
            .push(join)
            .push(&format!(" WHERE {parent} = p.k AND "))
            .append(&self.with(&q.extra));
        sql.push(&format!(" ORDER BY {order} LIMIT "))
            .bind(Bind::Int(skip.saturating_add(take)));
        sql.push(") AS w WHERE w.gqlauto_rn > ")
            .bind(Bind::Int(skip));
        sql
    }

    /// The number of related rows meeting `extra`, per parent.
    pub fn batch_count(&self, link: Link, parents: &[Key], extra: &[Sql]) -> Sql {
        let (join, parent) = self.parent_expr(link);
        let mut sql = Sql::raw(format!(
            "SELECT {} AS gqlauto_json",
            json_object(&format!(
                "'parent', CAST({parent} AS TEXT), 'count', COUNT(*)"
            ))
        ));
        sql.append(&self.from()).push(&join).push(" WHERE ");
        sql.append(&in_keys(&parent, parents))
            .push(" AND ")
            .append(&self.with(extra));
        sql.push(&format!(" GROUP BY {parent}"));
        sql
    }

    /// The join (if any) and the expression holding the parent key of a related row.
    fn parent_expr(&self, link: Link) -> (String, String) {
        match link {
            Link::Column(column) => (String::new(), format!("t0.{}", ident(column))),
            Link::Join {
                table,
                parent,
                child,
                scope,
            } => (
                format!(
                    " JOIN {} AS j ON j.{} = t0.{}{}",
                    ident(table),
                    ident(child),
                    ident(self.key),
                    JoinScope::condition(scope, "j")
                ),
                format!("j.{}", ident(parent)),
            ),
        }
    }

    /// The condition "strictly after the cursor" (`backward`: strictly before) in this ordering.
    pub fn beyond(&self, cursor: &Cursor, backward: bool) -> Sql {
        let mut alternatives = Vec::new();
        for (i, key) in self.order.iter().enumerate() {
            let Some(step) = step(key, &cursor.values[i], backward) else {
                continue;
            };
            let mut parts: Vec<Sql> = self.order[..i]
                .iter()
                .zip(&cursor.values)
                .map(|(k, v)| {
                    let mut s = Sql::raw(format!("{} IS NOT DISTINCT FROM ", k.expr));
                    s.bind(v.clone());
                    s
                })
                .collect();
            parts.push(step);
            alternatives.push(Sql::join(&parts, " AND ", "TRUE"));
        }
        Sql::join(&alternatives, " OR ", "FALSE")
    }

    /// Reads a cursor issued by this ordering.
    pub fn decode(&self, cursor: &str, argument: &str) -> Result<Cursor, ApiError> {
        let invalid = |why: &str| {
            ApiError::new(
                ErrorCode::InvalidCursor,
                format!("`{argument}` is not a valid cursor: {why}"),
            )
            .on_field(argument)
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| invalid("it is not one this API issued"))?;
        let text =
            String::from_utf8(bytes).map_err(|_| invalid("it is not one this API issued"))?;
        let (body, tag) = text
            .rsplit_once('.')
            .ok_or_else(|| invalid("it is not one this API issued"))?;
        if !secret::verify(body.as_bytes(), tag) {
            return Err(invalid("it was altered, or issued by another server"));
        }
        let (signature, values) = body
            .split_once('.')
            .ok_or_else(|| invalid("it is not one this API issued"))?;
        if signature != format!("{:016x}", self.signature) {
            return Err(invalid("it belongs to a different `orderBy` or `search`; use cursors from a query with the same ordering"));
        }
        let values: Vec<serde_json::Value> =
            serde_json::from_str(values).map_err(|_| invalid("it was altered or damaged"))?;
        if values.len() != self.order.len() {
            return Err(invalid("it was altered or damaged"));
        }
        let values = values
            .into_iter()
            .zip(&self.order)
            .map(|(v, key)| {
                to_bind(v, key.float).ok_or_else(|| invalid("it was altered or damaged"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cursor { values })
    }

    /// The opaque cursor of a row, from its `gqlauto_cursor` values.
    pub fn encode(&self, values: &str) -> String {
        let body = format!("{:016x}.{values}", self.signature);
        let text = format!("{body}.{}", secret::tag(body.as_bytes()));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }
}

/// A decoded cursor: one value per ordering key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    values: Vec<Bind>,
}

fn to_bind(value: serde_json::Value, float: bool) -> Option<Bind> {
    Some(match value {
        serde_json::Value::Null => Bind::Null,
        serde_json::Value::String(s) if float => Bind::Float(s.parse().ok()?),
        serde_json::Value::String(s) => Bind::Text(s),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Bind::Int(i),
            None => Bind::Float(n.as_f64()?),
        },
        serde_json::Value::Bool(b) => Bind::Int(i64::from(b)),
        _ => return None,
    })
}

/// "Strictly beyond `value`" on one key, or `None` when no value can be (after a trailing null).
fn step(key: &OrderKey, value: &Bind, backward: bool) -> Option<Sql> {
    let desc = key.desc != backward;
    let nulls_first = key.nulls_first != backward;
    let e = &key.expr;
    if *value == Bind::Null {
        return nulls_first.then(|| Sql::raw(format!("{e} IS NOT NULL")));
    }
    let op = if desc { "<" } else { ">" };
    let mut sql = Sql::raw(format!("{e} {op} "));
    sql.bind(value.clone());
    if key.nullable && !nulls_first {
        sql.push(&format!(" OR {e} IS NULL"));
    }
    Some(sql)
}

/// Longest `search` text, in characters.
pub const MAX_SEARCH_LENGTH: usize = 256;

/// Most words in one `search` text (each word makes the full-text match costlier).
pub const MAX_SEARCH_TERMS: usize = 16;

/// A search text as each database's full-text query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// SQLite FTS5's `MATCH` syntax.
    pub fts: String,
    /// PostgreSQL's `to_tsquery` syntax.
    pub tsquery: String,
}

/// The search text as a full-text query: each word quoted (so operators in user text are plain
/// words), a trailing `*` kept as a prefix search, all words required. `None` if blank.
/// Text over [`MAX_SEARCH_LENGTH`] or [`MAX_SEARCH_TERMS`] is refused, and so are control
/// characters, which FTS5 cannot take inside a quoted word.
pub fn fts_query(text: &str) -> Result<Option<SearchQuery>, ApiError> {
    if text.chars().count() > MAX_SEARCH_LENGTH {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("`search` takes at most {MAX_SEARCH_LENGTH} characters"),
        )
        .on_field("search"));
    }
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(ApiError::invalid(
            "search",
            "`search` must not contain control characters",
        ));
    }
    let words: Vec<(&str, bool)> = text
        .split_whitespace()
        .filter_map(|word| {
            let (word, prefix) = match word.strip_suffix('*') {
                Some(w) => (w, true),
                None => (word, false),
            };
            (!word.is_empty()).then_some((word, prefix))
        })
        .collect();
    if words.len() > MAX_SEARCH_TERMS {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("`search` takes at most {MAX_SEARCH_TERMS} words"),
        )
        .on_field("search"));
    }
    if words.is_empty() {
        return Ok(None);
    }
    let fts = words
        .iter()
        .map(|(w, prefix)| {
            format!(
                "\"{}\"{}",
                w.replace('"', "\"\""),
                if *prefix { "*" } else { "" }
            )
        })
        .collect::<Vec<_>>();
    // Each word a quoted lexeme (`'rust'`, `'web':*`), all required.
    let tsquery = words
        .iter()
        .map(|(w, prefix)| {
            format!(
                "'{}'{}",
                w.replace('\\', "\\\\").replace('\'', "''"),
                if *prefix { ":*" } else { "" }
            )
        })
        .collect::<Vec<_>>();
    Ok(Some(SearchQuery {
        fts: fts.join(" "),
        tsquery: tsquery.join(" & "),
    }))
}

/// 64-bit FNV-1a: a stable hash for ordering signatures.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_quoted_words() {
        let q = fts_query("rust  \"async\" web* it's").unwrap().unwrap();
        assert_eq!(q.fts, "\"rust\" \"\"\"async\"\"\" \"web\"* \"it's\"");
        assert_eq!(q.tsquery, "'rust' & '\"async\"' & 'web':* & 'it''s'");
        assert_eq!(fts_query("  "), Ok(None));
        assert_eq!(fts_query("*"), Ok(None));
    }

    #[test]
    fn search_text_is_bounded() {
        assert_eq!(
            fts_query(&"a* ".repeat(MAX_SEARCH_TERMS)).map(|q| q.is_some()),
            Ok(true)
        );
        assert_eq!(
            fts_query(&"a* ".repeat(MAX_SEARCH_TERMS + 1))
                .unwrap_err()
                .code,
            ErrorCode::LimitExceeded
        );
        assert_eq!(
            fts_query(&"x".repeat(MAX_SEARCH_LENGTH + 1))
                .unwrap_err()
                .code,
            ErrorCode::LimitExceeded
        );
        let nul = fts_query("a\0b").unwrap_err();
        assert_eq!(
            (nul.code, nul.field.as_deref()),
            (ErrorCode::ValidationFailed, Some("search"))
        );
    }

    #[test]
    fn null_steps_follow_null_placement() {
        let key = OrderKey {
            name: "p".into(),
            expr: "p".into(),
            desc: true,
            nulls_first: false,
            nullable: true,
            float: false,
        };
        assert!(step(&key, &Bind::Null, false).is_none());
        assert_eq!(
            step(&key, &Bind::Null, true).unwrap().text(),
            "p IS NOT NULL"
        );
        assert_eq!(
            step(&key, &Bind::Int(3), false).unwrap().text(),
            "p < ? OR p IS NULL"
        );
        assert_eq!(step(&key, &Bind::Int(3), true).unwrap().text(), "p > ?");
    }

    /// Sibling aggregates of one table share a scan: each computes over its own rows, and the
    /// rows any of them wants narrow the scan only when an index finds them.
    #[test]
    fn sibling_aggregates_share_one_scan() {
        use crate::runtime::db::{Conn, SqliteSession};
        use crate::runtime::sql::{searches_outer_table, JsonRow};
        use diesel::Connection as _;
        let mut conn = Conn::Sqlite(Box::new(SqliteSession::new(
            diesel::SqliteConnection::establish(":memory:").unwrap(),
        )));
        conn.batch_execute(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, status TEXT, author INTEGER, views INTEGER);
             CREATE INDEX posts_author ON posts (author);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
             INSERT INTO posts SELECT i, CASE i % 3 WHEN 0 THEN 'draft' ELSE 'published' END, i % 30, i FROM n;",
        )
        .unwrap();
        let table = || Table {
            name: "posts",
            key: "id",
            search: None,
            default_order: &[],
            columns: "t0.*".into(),
        };
        let read = |column: &'static str, value: Bind| {
            Select::build(table(), None, |scope| {
                let mut cond = Sql::raw(format!("{} = ", scope.col(column)));
                cond.bind(value);
                Ok((cond, None))
            })
            .unwrap()
        };
        let count = AggregateTerm {
            name: "count".into(),
            function: "COUNT",
            argument: None,
        };
        let sum = AggregateTerm {
            name: "sum.views".into(),
            function: "SUM",
            argument: Some("t0.\"views\"".into()),
        };
        let run = |conn: &mut Conn, sql: &Sql| {
            let rows: Vec<JsonRow> = sql.load(conn).unwrap();
            serde_json::Value::Object(rows.into_iter().next().unwrap().0)
        };
        let drafts = read("status", Bind::Text("draft".into()));
        let published = read("status", Bind::Text("published".into()));
        let terms = [count.clone(), sum.clone()];
        let reads = [(&drafts, &terms[..]), (&published, &terms[..1])];
        let expected = serde_json::json!({
            "0": {"count": 100, "sum.views": 15150},
            "1": {"count": 200},
        });
        let narrowed = Select::aggregates(&reads, true);
        assert!(narrowed.text().contains(" WHERE "), "{}", narrowed.text());
        assert_eq!(run(&mut conn, &narrowed), expected);
        let scanned = Select::aggregates(&reads, false);
        assert!(!scanned.text().contains(" WHERE "), "{}", scanned.text());
        assert_eq!(run(&mut conn, &scanned), expected);
        // No index on `status`: narrowing would scan anyway.
        assert!(!searches_outer_table(&mut conn, &narrowed).unwrap());
        // An index on `author` finds each read's rows.
        let (one, two) = (read("author", Bind::Int(1)), read("author", Bind::Int(2)));
        let by_author = Select::aggregates(&[(&one, &terms[..]), (&two, &terms[..])], true);
        assert!(searches_outer_table(&mut conn, &by_author).unwrap());
        assert_eq!(
            run(&mut conn, &by_author),
            serde_json::json!({
                "0": {"count": 10, "sum.views": 1360},
                "1": {"count": 10, "sum.views": 1370},
            })
        );
        // A read of every row scans: no `WHERE`, and its terms need no `FILTER`.
        let every = Select::build(table(), None, |_| Ok((Sql::raw("TRUE"), None))).unwrap();
        let with_every = Select::aggregates(&[(&one, &terms[..1]), (&every, &terms[..1])], true);
        assert!(
            !with_every.text().contains(" WHERE "),
            "{}",
            with_every.text()
        );
        assert_eq!(
            run(&mut conn, &with_every),
            serde_json::json!({"0": {"count": 10}, "1": {"count": 300}})
        );
        assert!(
            drafts.shares_scan(&published)
                && !drafts.shares_scan(&Select {
                    table: "comments",
                    ..drafts.clone()
                })
        );
    }

    #[test]
    fn keys_serialise_for_json_each() {
        assert_eq!(
            Key::json_array(&[Key::Int(1), Key::Text("a\"b".into())]),
            "[1,\"a\\\"b\"]"
        );
    }
}
