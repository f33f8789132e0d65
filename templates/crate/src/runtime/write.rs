//! The write engine: inserts, updates, upserts and deletes, nested relation writes, and the
//! reference checks that name the field at fault.
//!
//! A mutation is first *planned*: its arguments are checked (every problem collected, nothing
//! touched) and turned into a [`Create`] or [`Update`] tree. The tree is then run inside one
//! transaction, so a failure anywhere — a unique violation three levels down, a missing row to
//! connect — rolls back everything. Like reads, statements are SQL text with bound values;
//! identifiers come from the generated code only.

use std::marker::PhantomData;

use async_graphql::ID;

use crate::runtime::check::{self, Problems};
use crate::runtime::context::Ctx;
use crate::runtime::convert;
use crate::runtime::db::Conn;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::{condition, Scope, Where};
use crate::runtime::model::{JoinScope, Relation, RelationKind};
use crate::runtime::select::{Key, KeyKind, Link, Loadable, Row};
use crate::runtime::sql::{ident, in_keys, json_object, json_object_open, Bind, JsonRow, Sql};

/// What the write engine needs to know about a table.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The model's name, for messages.
    pub model: &'static str,
    pub table: &'static str,
    /// The primary key column, and how its values are named by an `ID`.
    pub key: &'static str,
    pub key_kind: KeyKind,
    /// Foreign keys, checked before writes so a missing target is reported on its field.
    pub references: &'static [Reference],
    /// Column sets declared unique: the keys `upsert` may resolve conflicts on.
    pub unique_keys: &'static [&'static [&'static str]],
    /// The manifest's model-level checks (also `CHECK` constraints in the migration).
    pub rules: &'static [Rule],
    /// The columns a write returns, as SQL (`*` for a row type that reads columns by name).
    pub returning: &'static str,
    /// Where the key is among the returned columns (for a row type that reads them by position).
    pub key_position: usize,
    /// The model's relations: a deleted row's links in scoped join tables (which no foreign key
    /// cascades from) are deleted with it.
    pub relations: &'static [Relation],
}

/// A row type the write engine returns.
pub trait Written: Loadable {
    /// The row's primary key; `target` is the table it was written to.
    fn written_key(&self, target: &Target) -> Key;
}

impl<R: Row> Written for R {
    fn written_key(&self, _: &Target) -> Key {
        self.key()
    }
}

/// What the write engine needs to know about a model beyond reading it.
pub trait Writable: Row {
    /// The model's name, for messages.
    const MODEL: &'static str;
    /// Foreign keys, checked before writes so a missing target is reported on its field.
    const REFERENCES: &'static [Reference];
    /// Column sets declared unique: the keys `upsert` may resolve conflicts on.
    const UNIQUE_KEYS: &'static [&'static [&'static str]];
    /// The manifest's model-level checks (also `CHECK` constraints in the migration).
    const RULES: &'static [Rule];
    /// All of the above, as the write engine takes it.
    const TARGET: Target = Target {
        model: Self::MODEL,
        table: Self::TABLE,
        key: Self::KEY,
        key_kind: Self::KEY_KIND,
        references: Self::REFERENCES,
        unique_keys: Self::UNIQUE_KEYS,
        rules: Self::RULES,
        returning: "*",
        key_position: 0,
        relations: &[],
    };
}

/// A model-level check: `left op right`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub left: &'static str,
    pub op: Cmp,
    pub right: Operand,
    /// Whether the columns hold decimals (exact text compared by value).
    pub decimal: bool,
    /// The input field a failure is reported on, and the message.
    pub field: &'static str,
    pub message: &'static str,
}

/// How a [`Rule`] compares its two sides: `<`, `<=`, `>`, `>=`, `=`, `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// The right side of a [`Rule`].
#[derive(Debug, Clone, Copy)]
pub enum Operand {
    Column(&'static str),
    Int(i64),
    Float(f64),
    Text(&'static str),
    Date(&'static str),
    Time(&'static str),
}

impl Rule {
    /// Whether the values satisfy the rule; like SQL, a rule over a null (or a value the
    /// database fills in) holds.
    fn holds(&self, values: &Values) -> bool {
        let Some(left) = values.get(self.left) else {
            return true;
        };
        let right = match self.right {
            Operand::Column(c) => match values.get(c) {
                Some(b) => b.clone(),
                None => return true,
            },
            Operand::Int(v) => Bind::Int(v),
            Operand::Float(v) => Bind::Float(v),
            Operand::Text(v) => Bind::Text(v.to_string()),
            Operand::Date(v) => match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) => Bind::Date(d),
                Err(_) => return true,
            },
            Operand::Time(v) => match chrono::NaiveTime::parse_from_str(v, "%H:%M:%S") {
                Ok(t) => Bind::Time(t),
                Err(_) => return true,
            },
        };
        let Some(order) = compare(left, &right, self.decimal) else {
            return true;
        };
        match self.op {
            Cmp::Lt => order.is_lt(),
            Cmp::Le => order.is_le(),
            Cmp::Gt => order.is_gt(),
            Cmp::Ge => order.is_ge(),
            Cmp::Eq => order.is_eq(),
            Cmp::Ne => order.is_ne(),
        }
    }
}

/// How two bound values order; `None` when either is null or they do not compare.
fn compare(a: &Bind, b: &Bind, decimal: bool) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Bind::Int(x), Bind::Int(y)) => Some(x.cmp(y)),
        (Bind::Float(x), Bind::Float(y)) => x.partial_cmp(y),
        (Bind::Int(x), Bind::Float(y)) => (*x as f64).partial_cmp(y),
        (Bind::Float(x), Bind::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Bind::Text(x) | Bind::Decimal(x), Bind::Text(y) | Bind::Decimal(y)) if decimal => {
            let (x, y) = (
                x.parse::<rust_decimal::Decimal>().ok()?,
                y.parse::<rust_decimal::Decimal>().ok()?,
            );
            Some(x.cmp(&y))
        }
        (Bind::Bool(x), Bind::Bool(y)) => Some(x.cmp(y)),
        (Bind::Text(x), Bind::Text(y)) => Some(x.cmp(y)),
        (Bind::Date(x), Bind::Date(y)) => Some(x.cmp(y)),
        (Bind::Time(x), Bind::Time(y)) => Some(x.cmp(y)),
        (Bind::DateTime(x), Bind::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// A foreign-key column: the input field that sets it and the row it must point at.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    pub column: &'static str,
    pub field: &'static str,
    pub table: &'static str,
    pub key: &'static str,
}

impl Key {
    /// The key as a bound value.
    pub fn bind(&self) -> Bind {
        match self {
            Key::Int(v) => Bind::Int(*v),
            Key::Text(v) => Bind::Text(v.clone()),
            Key::Uuid(v) => Bind::Uuid(v.clone()),
        }
    }
}

/// Column values of a row to insert, in input order.
#[derive(Debug, Clone, Default)]
pub struct Values(Vec<Value>);

#[derive(Debug, Clone)]
struct Value {
    column: &'static str,
    bind: Bind,
    /// Sent by the client (as opposed to a default): what an upsert overwrites by default.
    given: bool,
}

impl Values {
    /// Sets a column, replacing an earlier value.
    pub fn put(&mut self, column: &'static str, bind: Bind, given: bool) {
        match self.0.iter_mut().find(|v| v.column == column) {
            Some(v) => {
                *v = Value {
                    column,
                    bind,
                    given,
                }
            }
            None => self.0.push(Value {
                column,
                bind,
                given,
            }),
        }
    }

    pub fn get(&self, column: &str) -> Option<&Bind> {
        self.0.iter().find(|v| v.column == column).map(|v| &v.bind)
    }
}

/// How an update changes one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    To(Bind),
    /// `column = column + value`, computed by the database: concurrent increments never lose one.
    Add(Bind),
    /// An exact decimal increment: read, added and checked in Rust inside the write transaction
    /// (which holds SQLite's write lock, or PostgreSQL's lock on the row, so no other writer can
    /// interleave).
    AddExact {
        by: rust_decimal::Decimal,
        digits: check::Digits,
        field: &'static str,
    },
}

/// Column changes of an update.
#[derive(Debug, Clone, Default)]
pub struct Changes(Vec<(&'static str, Change)>);

impl Changes {
    pub fn put(&mut self, column: &'static str, change: Change) {
        self.0.retain(|(c, _)| *c != column);
        self.0.push((column, change));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn has_exact(&self) -> bool {
        self.0
            .iter()
            .any(|(_, c)| matches!(c, Change::AddExact { .. }))
    }

    /// Turns exact increments into plain assignments for the row with this key.
    fn resolve_exact(
        &self,
        conn: &mut Conn,
        table: &str,
        key_column: &str,
        key: &Key,
        at: &str,
    ) -> Result<Changes, ApiError> {
        let mut out = Changes::default();
        let mut p = Problems::default();
        for (column, change) in &self.0 {
            let Change::AddExact { by, digits, field } = change else {
                out.0.push((column, change.clone()));
                continue;
            };
            let mut sql = Sql::raw(format!(
                "SELECT CAST({} AS TEXT) AS gqlauto_value FROM {} WHERE {} = ",
                ident(column),
                ident(table),
                ident(key_column)
            ));
            sql.bind(key.bind());
            // PostgreSQL: the row stays locked until the sum is written (SQLite's write lock is
            // the database's).
            if let Conn::Postgres(_) = conn {
                sql.push(" FOR UPDATE");
            }
            let Some(current) = sql.load::<TextValue>(conn)?.into_iter().next() else {
                continue;
            };
            // Like SQL's `NULL + n`, an increment of null leaves it null.
            let Some(text) = current.gqlauto_value else {
                continue;
            };
            let value: rust_decimal::Decimal = text
                .parse()
                .map_err(|e| ApiError::internal(format!("stored decimal {text:?}: {e}")))?;
            let sum = value.checked_add(*by).unwrap_or(rust_decimal::Decimal::MAX);
            let bind = check::decimal(&mut p, &check::path(at, field), sum, digits);
            out.0.push((column, Change::To(bind)));
        }
        p.finish()?;
        Ok(out)
    }

    fn get(&self, column: &str) -> Option<&Bind> {
        self.0.iter().find_map(|(c, change)| match change {
            Change::To(b) if *c == column => Some(b),
            _ => None,
        })
    }
}

/// A row created first so its key can fill a foreign key (`author: {...}` inside a post).
pub trait Insert: Send {
    fn insert_key(self: Box<Self>, conn: &mut Conn) -> Result<Key, ApiError>;
    /// A copy, for a transaction run again (see `Conn::transaction`).
    fn boxed_clone(&self) -> Box<dyn Insert>;
}

impl Clone for Box<dyn Insert> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

/// Relation writes applied to a row once it exists.
pub trait Nested: Send {
    fn apply(self: Box<Self>, conn: &mut Conn, parent: &Key) -> Result<(), ApiError>;
    /// A copy, for a transaction run again (see `Conn::transaction`).
    fn boxed_clone(&self) -> Box<dyn Nested>;
}

impl Clone for Box<dyn Nested> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

/// A planned insert of one `R` row, with the rows it depends on and the relation writes after it.
pub struct Create<R> {
    /// Where the input sits in the arguments; database errors are reported under it.
    pub at: String,
    pub values: Values,
    /// Rows to create first; each key fills the named foreign-key column.
    pub parents: Vec<(&'static str, Box<dyn Insert>)>,
    pub children: Vec<Box<dyn Nested>>,
    /// A condition over `t0` the created row must satisfy (the caller's role's `check`).
    check: Option<Sql>,
    /// Foreign key columns whose referenced rows the caller sees only in part, with the condition
    /// (over `t0`) on those rows: a row it may not see is reported as missing.
    seen: Vec<(&'static str, Sql)>,
    /// For an upsert by a caller whose role reaches only some rows: which existing rows it may
    /// read and update. `None`: every row.
    existing: Option<Existing>,
    target: Target,
    row: PhantomData<fn() -> R>,
}

/// The rows an upsert may find in its way, as conditions over `t0`.
#[derive(Clone)]
pub struct Existing {
    /// Rows the caller may read; any other row with the key is as unknown to it as to a create.
    pub read: Option<Sql>,
    /// Rows the caller may update.
    pub update: Option<Sql>,
    /// What an updated row must satisfy afterwards (the role's update `check`).
    pub check: Option<Sql>,
}

impl<R: Writable> Create<R> {
    pub fn new(at: String) -> Create<R> {
        Create::on(R::TARGET, at)
    }
}

impl<R: Written> Create<R> {
    /// A planned insert into `target`, whose rows read as `R`.
    pub fn on(target: Target, at: String) -> Create<R> {
        Create {
            at,
            values: Values::default(),
            parents: Vec::new(),
            children: Vec::new(),
            check: None,
            seen: Vec::new(),
            existing: None,
            target,
            row: PhantomData,
        }
    }

    /// The plan with a condition (over `t0`) the created row must satisfy once it and its nested
    /// rows are written; otherwise the whole mutation is rolled back as `FORBIDDEN`.
    pub fn guarded(mut self, check: Option<Sql>) -> Create<R> {
        self.check = check;
        self
    }

    /// The plan with the foreign keys whose referenced rows the caller sees only in part.
    pub fn seeing(mut self, seen: Vec<(&'static str, Sql)>) -> Create<R> {
        self.seen = seen;
        self
    }

    /// The plan (of an upsert) with the existing rows the caller may read and update; without
    /// any limit, the plan as it was.
    pub fn meeting(mut self, existing: Existing) -> Create<R> {
        if existing.read.is_some() || existing.update.is_some() || existing.check.is_some() {
            self.existing = Some(existing);
        }
        self
    }

    /// Reports every model-level check the planned values break.
    pub fn check_rules(&self, p: &mut Problems) {
        for rule in self.target.rules {
            if !rule.holds(&self.values) {
                p.add(&check::path(&self.at, rule.field), "CHECK", rule.message);
            }
        }
    }

    /// Inserts the row (after its parents) and applies the relation writes; `fixed` is a
    /// foreign key set by the row this one is created under.
    pub fn insert(
        self,
        conn: &mut Conn,
        fixed: Option<(&'static str, Bind)>,
    ) -> Result<R, ApiError> {
        self.write(conn, fixed, None)
    }

    /// Inserts the row, or on a conflict over `conflict` (a unique key) updates the existing row's
    /// `update` columns (default: the columns the input gave, except the key).
    pub fn upsert(
        self,
        conn: &mut Conn,
        conflict: &[&'static str],
        update: Option<Vec<&'static str>>,
    ) -> Result<R, ApiError> {
        let mut sorted = conflict.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let declared = self.target.unique_keys.iter().any(|key| {
            let mut k = key.to_vec();
            k.sort_unstable();
            k == sorted
        });
        if !declared {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "`onConflict.fields` must be one of the unique keys of `{}`",
                    self.target.model
                ),
            )
            .on_field("onConflict.fields"));
        }
        self.write(conn, None, Some((conflict, update)))
    }

    fn write(
        mut self,
        conn: &mut Conn,
        fixed: Option<(&'static str, Bind)>,
        upsert: Option<(&[&'static str], Option<Vec<&'static str>>)>,
    ) -> Result<R, ApiError> {
        let at = std::mem::take(&mut self.at);
        // Keys of rows created in this transaction (parents, and the row this one is created
        // under) need no existence check.
        let mut known: Vec<&'static str> = Vec::new();
        for (column, parent) in std::mem::take(&mut self.parents) {
            let key = parent.insert_key(conn)?;
            self.values.put(column, key.bind(), true);
            known.push(column);
        }
        if let Some((column, value)) = fixed {
            self.values.put(column, value, true);
            known.push(column);
        }
        let target = self.target;
        check_references(
            &target,
            conn,
            |c| {
                if known.contains(&c) {
                    None
                } else {
                    self.values.get(c)
                }
            },
            &self.seen,
        )
        .map_err(|e| e.at(&at))?;
        let upsert = match (upsert, self.existing.take()) {
            (Some((conflict, update)), Some(existing)) => {
                match in_the_way(&target, conn, &self.values, conflict, &existing)? {
                    // No row has the key, or only rows the caller may not read: a plain insert, which
                    // answers exactly as a create would (a unique violation tells no more than that).
                    None | Some(Found { read: false, .. }) => None,
                    Some(Found { update: false, .. }) => {
                        return Err(ApiError::new(
                            ErrorCode::Forbidden,
                            format!(
                                "this role may not update the `{}` row with this key",
                                target.model
                            ),
                        )
                        .on_field("onConflict")
                        .at(&at));
                    }
                    Some(Found { .. }) => {
                        // The existing row is updated: it must pass the update's check, not the create's.
                        self.check = existing.check;
                        Some((conflict, update))
                    }
                }
            }
            (upsert, _) => upsert,
        };
        let sql = match upsert {
            None => insert_sql(&target, &self.values, None),
            Some((conflict, update)) => {
                let update = update.unwrap_or_else(|| {
                    self.values
                        .0
                        .iter()
                        .filter(|v| v.given && !conflict.contains(&v.column))
                        .map(|v| v.column)
                        .collect()
                });
                // An update of nothing still has to name a column, or RETURNING would skip the row.
                let update = if update.is_empty() {
                    vec![conflict[0]]
                } else {
                    update
                };
                insert_sql(&target, &self.values, Some((conflict, &update)))
            }
        };
        let row = one::<R>(conn, &sql).map_err(|e| e.at(&at))?;
        let key = row.written_key(&target);
        for child in self.children {
            child.apply(conn, &key)?;
        }
        if let Some(check) = &self.check {
            verify(&target, conn, std::slice::from_ref(&key), check)?;
        }
        Ok(row)
    }
}

/// What the caller may do with the row an upsert's key finds.
struct Found {
    read: bool,
    update: bool,
}

/// The row of `t` whose `conflict` columns hold the planned values, if any, and what the
/// caller may do with it. A key column without a value (or null) matches no row.
fn in_the_way(
    t: &Target,
    conn: &mut Conn,
    values: &Values,
    conflict: &[&'static str],
    existing: &Existing,
) -> Result<Option<Found>, ApiError> {
    let flag = |c: &Option<Sql>| -> Sql {
        let mut s = Sql::raw("CASE WHEN (");
        s.append(c.as_ref().unwrap_or(&Sql::raw("TRUE")))
            .push(") THEN 1 ELSE 0 END");
        s
    };
    let mut sql = Sql::raw(format!("SELECT {}'read', ", json_object_open()));
    sql.append(&flag(&existing.read))
        .push(", 'update', ")
        .append(&flag(&existing.update));
    sql.push(&format!(
        ") AS gqlauto_json FROM {} AS t0 WHERE ",
        ident(t.table)
    ));
    for (i, column) in conflict.iter().enumerate() {
        match values.get(column) {
            None | Some(Bind::Null) => return Ok(None),
            Some(bind) => {
                if i > 0 {
                    sql.push(" AND ");
                }
                sql.push(&format!("t0.{} = ", ident(column)))
                    .bind(bind.clone());
            }
        }
    }
    let flags = sql.load::<JsonRow>(conn)?;
    let Some(row) = flags.first() else {
        return Ok(None);
    };
    let flag = |name: &str| row.0.get(name).and_then(serde_json::Value::as_i64) == Some(1);
    Ok(Some(Found {
        read: flag("read"),
        update: flag("update"),
    }))
}

/// Refuses (as `FORBIDDEN`) unless every row of `t` with one of `keys` satisfies `check`.
fn verify(t: &Target, conn: &mut Conn, keys: &[Key], check: &Sql) -> Result<(), ApiError> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::raw(format!(
        "SELECT {} AS gqlauto_json FROM {} AS t0 WHERE ",
        json_object("'count', COUNT(*)"),
        ident(t.table)
    ));
    sql.append(&in_keys(&format!("t0.{}", ident(t.key)), keys))
        .push(" AND (")
        .append(check)
        .push(")");
    let count = sql
        .load::<JsonRow>(conn)?
        .first()
        .and_then(|row| row.0.get("count").and_then(serde_json::Value::as_u64))
        .unwrap_or(0);
    if usize::try_from(count).unwrap_or(0) < keys.len() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "the written `{}` row is not one this role may write or read",
                t.model
            ),
        ));
    }
    Ok(())
}

impl<R: Written> Insert for Create<R> {
    fn insert_key(self: Box<Self>, conn: &mut Conn) -> Result<Key, ApiError> {
        let target = self.target;
        Ok(self.insert(conn, None)?.written_key(&target))
    }

    fn boxed_clone(&self) -> Box<dyn Insert> {
        Box::new(self.clone())
    }
}

// Plans are cloned field by field: the row type `R` itself need not be `Clone`.
impl<R> Clone for Create<R> {
    fn clone(&self) -> Self {
        Create {
            at: self.at.clone(),
            values: self.values.clone(),
            parents: self.parents.clone(),
            children: self.children.clone(),
            check: self.check.clone(),
            seen: self.seen.clone(),
            existing: self.existing.clone(),
            target: self.target,
            row: PhantomData,
        }
    }
}

impl<R> Clone for Update<R> {
    fn clone(&self) -> Self {
        Update {
            at: self.at.clone(),
            changes: self.changes.clone(),
            parents: self.parents.clone(),
            children: self.children.clone(),
            only: self.only.clone(),
            check: self.check.clone(),
            seen: self.seen.clone(),
            target: self.target,
            row: PhantomData,
        }
    }
}

impl<R> Clone for ToMany<R> {
    fn clone(&self) -> Self {
        ToMany {
            at: self.at.clone(),
            target: self.target,
            link: self.link,
            nullable: self.nullable,
            create: self.create.clone(),
            connect: self.connect.clone(),
            disconnect: self.disconnect.clone(),
            set: self.set.clone(),
            update: self.update.clone(),
            delete: self.delete.clone(),
        }
    }
}

/// A planned update of `R` rows.
pub struct Update<R> {
    pub at: String,
    pub changes: Changes,
    pub parents: Vec<(&'static str, Box<dyn Insert>)>,
    pub children: Vec<Box<dyn Nested>>,
    /// The rows (a condition over `t0`) the caller's role may update; others read as missing.
    only: Option<Sql>,
    /// A condition over `t0` updated rows must satisfy (the role's `check`).
    check: Option<Sql>,
    /// As [`Create`]'s: referenced rows the caller sees only in part.
    seen: Vec<(&'static str, Sql)>,
    target: Target,
    row: PhantomData<fn() -> R>,
}

impl<R: Writable> Update<R> {
    pub fn new(at: String) -> Update<R> {
        Update::on(R::TARGET, at)
    }
}

impl<R: Written> Update<R> {
    /// A planned update of `target` rows, which read as `R`.
    pub fn on(target: Target, at: String) -> Update<R> {
        Update {
            at,
            changes: Changes::default(),
            parents: Vec::new(),
            children: Vec::new(),
            only: None,
            check: None,
            seen: Vec::new(),
            target,
            row: PhantomData,
        }
    }

    /// The plan limited to the rows `only` (over `t0`) selects, whose rows must satisfy `check`
    /// once written; otherwise the whole mutation is rolled back as `FORBIDDEN`.
    pub fn guarded(mut self, only: Option<Sql>, check: Option<Sql>) -> Update<R> {
        self.only = only;
        self.check = check;
        self
    }

    /// The plan with the foreign keys whose referenced rows the caller sees only in part.
    pub fn seeing(mut self, seen: Vec<(&'static str, Sql)>) -> Update<R> {
        self.seen = seen;
        self
    }

    /// Whether the input asked for nested writes (not available in bulk updates).
    pub fn has_nested(&self) -> bool {
        !self.parents.is_empty() || !self.children.is_empty()
    }

    fn prepare(&mut self, conn: &mut Conn, at: &str) -> Result<(), ApiError> {
        for (column, parent) in std::mem::take(&mut self.parents) {
            let key = parent.insert_key(conn)?;
            self.changes.put(column, Change::To(key.bind()));
        }
        check_references(&self.target, conn, |c| self.changes.get(c), &self.seen)
            .map_err(|e| e.at(at))
    }

    /// Updates the row with this key and applies the relation writes; `None` if there is no such row.
    pub fn apply(mut self, conn: &mut Conn, key: &Key) -> Result<Option<R>, ApiError> {
        let at = std::mem::take(&mut self.at);
        self.prepare(conn, &at)?;
        let t = self.target;
        if self.changes.has_exact() {
            self.changes = self.changes.resolve_exact(conn, t.table, t.key, key, &at)?;
        }
        let mut cond = Sql::raw(format!("{} = ", ident(t.key)));
        cond.bind(key.bind());
        if let Some(only) = self.only.take() {
            cond.push(&format!(" AND {} IN (", ident(t.key)))
                .append(&keys_where(&t, &only))
                .push(")");
        }
        let row = if self.changes.is_empty() {
            rows_where(&t, &cond).load::<R>(conn)?.into_iter().next()
        } else {
            update_sql(&t, &self.changes, &cond)
                .load::<R>(conn)
                .map_err(|e| ApiError::from(e).at(&at))?
                .into_iter()
                .next()
        };
        if row.is_some() {
            for child in self.children {
                child.apply(conn, key)?;
            }
            if let Some(check) = &self.check {
                verify(&t, conn, std::slice::from_ref(key), check)?;
            }
        }
        Ok(row)
    }

    /// Updates every row whose key the subquery `keys` selects; returns them as stored.
    pub fn apply_all(mut self, conn: &mut Conn, keys: &Sql) -> Result<Vec<R>, ApiError> {
        let check = self.check.take();
        let t = self.target;
        let rows = self.apply_each(conn, keys)?;
        if let Some(check) = check {
            verify(
                &t,
                conn,
                &rows.iter().map(|r| r.written_key(&t)).collect::<Vec<_>>(),
                &check,
            )?;
        }
        Ok(rows)
    }

    fn apply_each(mut self, conn: &mut Conn, keys: &Sql) -> Result<Vec<R>, ApiError> {
        let at = std::mem::take(&mut self.at);
        self.prepare(conn, &at)?;
        let t = self.target;
        let mut cond = Sql::raw(format!("{} IN (", ident(t.key)));
        cond.append(keys).push(")");
        if self.changes.is_empty() {
            return Ok(rows_where(&t, &cond).load::<R>(conn)?);
        }
        if !self.changes.has_exact() {
            return update_sql(&t, &self.changes, &cond)
                .load::<R>(conn)
                .map_err(|e| ApiError::from(e).at(&at));
        }
        // Exact increments are computed per row.
        let mut rows = Vec::new();
        for row in rows_where(&t, &cond).load::<R>(conn)? {
            let key = row.written_key(&t);
            let changes = self
                .changes
                .resolve_exact(conn, t.table, t.key, &key, &at)?;
            let mut one = Sql::raw(format!("{} = ", ident(t.key)));
            one.bind(key.bind());
            rows.extend(
                update_sql(&t, &changes, &one)
                    .load::<R>(conn)
                    .map_err(|e| ApiError::from(e).at(&at))?,
            );
        }
        Ok(rows)
    }
}

/// `SELECT <returned columns> FROM table WHERE cond`.
fn rows_where(t: &Target, cond: &Sql) -> Sql {
    let mut sql = Sql::raw(format!(
        "SELECT {} FROM {} WHERE ",
        t.returning,
        ident(t.table)
    ));
    sql.append(cond);
    sql
}

/// Deletes the row of `t` with this key among those `only` (a condition over `t0`) selects;
/// `None` if there is none.
pub fn delete<R: Written>(
    t: &Target,
    conn: &mut Conn,
    key: &Key,
    only: Option<&Sql>,
) -> Result<Option<R>, ApiError> {
    let mut sql = Sql::raw(format!(
        "DELETE FROM {} WHERE {} = ",
        ident(t.table),
        ident(t.key)
    ));
    sql.bind(key.bind());
    if let Some(only) = only {
        sql.push(&format!(" AND {} IN (", ident(t.key)))
            .append(&keys_where(t, only))
            .push(")");
    }
    sql.push(&format!(" RETURNING {}", t.returning));
    let row = sql.load::<R>(conn).map_err(deleting)?.into_iter().next();
    if row.is_some() {
        unlink_scoped(t, conn, std::slice::from_ref(key))?;
    }
    Ok(row)
}

/// Deletes the scoped join rows (a generic relation's, which no foreign key cascades from) that
/// link the deleted rows `keys`.
fn unlink_scoped(t: &Target, conn: &mut Conn, keys: &[Key]) -> Result<(), ApiError> {
    if keys.is_empty() {
        return Ok(());
    }
    for r in t.relations {
        let RelationKind::ManyToMany {
            join_table,
            here,
            scope: Some(scope),
            ..
        } = r.kind
        else {
            continue;
        };
        let mut sql = Sql::raw(format!(
            "DELETE FROM {} WHERE {} IN (",
            ident(join_table),
            ident(here)
        ));
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(key.bind());
        }
        sql.push(")").push(&JoinScope::condition(Some(scope), ""));
        sql.execute(conn)?;
    }
    Ok(())
}

/// Deletes every row whose key the subquery `keys` selects.
fn delete_all<R: Written>(t: &Target, conn: &mut Conn, keys: &Sql) -> Result<Vec<R>, ApiError> {
    let mut sql = Sql::raw(format!(
        "DELETE FROM {} WHERE {} IN (",
        ident(t.table),
        ident(t.key)
    ));
    sql.append(keys)
        .push(&format!(") RETURNING {}", t.returning));
    let rows = sql.load::<R>(conn).map_err(deleting)?;
    if t.relations.iter().any(|r| r.kind.scoped()) {
        let keys: Vec<Key> = rows.iter().map(|row| row.written_key(t)).collect();
        unlink_scoped(t, conn, &keys)?;
    }
    Ok(rows)
}

/// A failed delete: the only constraint a delete can break is a restricting foreign key.
fn deleting(e: diesel::result::Error) -> ApiError {
    let e = ApiError::from(e);
    if e.code == ErrorCode::Conflict {
        ApiError::new(
            ErrorCode::Conflict,
            "the row is still referenced by other rows (their relation does not allow deleting it)",
        )
    } else {
        e
    }
}

/// `SELECT t0.key FROM table AS t0 WHERE cond`: the rows a bulk write addresses.
fn keys_where(t: &Target, cond: &Sql) -> Sql {
    let mut sql = Sql::raw(format!(
        "SELECT t0.{} FROM {} AS t0 WHERE ",
        ident(t.key),
        ident(t.table)
    ));
    sql.append(cond);
    sql
}

/// Writes to the to-many relation of one row: `create`, `connect`, `disconnect`, `set`, `update`
/// and `delete` of the related `R` rows. Applied in the order set, disconnect, delete, connect,
/// create, update.
pub struct ToMany<R> {
    pub at: String,
    target: Target,
    link: Link,
    /// For a foreign-key link: whether the column may be null (rows can be disconnected).
    nullable: bool,
    pub create: Vec<Create<R>>,
    pub connect: Vec<(String, Key)>,
    pub disconnect: Vec<(String, Key)>,
    pub set: Option<Vec<(String, Key)>>,
    pub update: Vec<(String, Key, Update<R>)>,
    pub delete: Vec<(String, Key)>,
}

impl<R: Writable> ToMany<R> {
    pub fn new(at: String, link: Link, nullable: bool) -> ToMany<R> {
        ToMany::on(R::TARGET, at, link, nullable)
    }
}

impl<R: Written> ToMany<R> {
    /// Planned writes to the related rows of `target` (which read as `R`) reached through `link`.
    pub fn on(target: Target, at: String, link: Link, nullable: bool) -> ToMany<R> {
        ToMany {
            at,
            target,
            link,
            nullable,
            create: Vec::new(),
            connect: Vec::new(),
            disconnect: Vec::new(),
            set: None,
            update: Vec::new(),
            delete: Vec::new(),
        }
    }

    /// The column a nested create must leave for the parent to fill.
    pub fn fixed_column(&self) -> Option<&'static str> {
        match self.link {
            Link::Column(column) => Some(column),
            Link::Join { .. } => None,
        }
    }

    /// Plan-time checks that need no database: unlinking rows from a required relation.
    pub fn check(&self, p: &mut Problems, creating: bool) {
        if let (Link::Column(_), false) = (self.link, self.nullable) {
            for (op, given) in [
                ("disconnect", !self.disconnect.is_empty()),
                ("set", self.set.is_some()),
            ] {
                if given {
                    p.add(&check::path(&self.at, op), "REQUIRED_RELATION", format!("`{}` rows cannot exist without their parent: use `delete` (or `connect` them elsewhere) instead of `{op}`", self.target.model));
                }
            }
        }
        if creating {
            for (op, list) in [("disconnect", &self.disconnect), ("delete", &self.delete)] {
                if !list.is_empty() {
                    p.add(
                        &check::path(&self.at, op),
                        "NOTHING_LINKED",
                        format!("a new row has no related rows to {op}"),
                    );
                }
            }
            if !self.update.is_empty() {
                p.add(
                    &check::path(&self.at, "update"),
                    "NOTHING_LINKED",
                    "a new row has no related rows to update",
                );
            }
        }
    }

    fn connect_one(
        &self,
        conn: &mut Conn,
        parent: &Key,
        at: &str,
        child: &Key,
    ) -> Result<(), ApiError> {
        let found = match self.link {
            Link::Column(column) => {
                let mut sql = Sql::raw(format!(
                    "UPDATE {} SET {} = ",
                    ident(self.target.table),
                    ident(column)
                ));
                sql.bind(parent.bind())
                    .push(&format!(" WHERE {} = ", ident(self.target.key)))
                    .bind(child.bind());
                sql.execute(conn)? > 0
            }
            Link::Join {
                table,
                parent: p,
                child: c,
                scope,
            } => {
                if !exists(&self.target, conn, child)? {
                    false
                } else {
                    let mut sql = Sql::raw(format!(
                        "INSERT INTO {t} ({p}, {c}{s}) SELECT ",
                        t = ident(table),
                        p = ident(p),
                        c = ident(c),
                        s = JoinScope::column(scope)
                    ));
                    sql.bind(parent.bind())
                        .push(", ")
                        .bind(child.bind())
                        .push(&JoinScope::value(scope));
                    sql.push(&format!(
                        " WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {p} = ",
                        t = ident(table),
                        p = ident(p)
                    ));
                    sql.bind(parent.bind())
                        .push(&format!(" AND {} = ", ident(c)))
                        .bind(child.bind())
                        .push(&JoinScope::condition(scope, ""))
                        .push(")");
                    sql.execute(conn).map_err(|e| ApiError::from(e).at(at))?;
                    true
                }
            }
        };
        if found {
            Ok(())
        } else {
            Err(missing(&self.target, at, child))
        }
    }

    fn unlink_all(&self, conn: &mut Conn, parent: &Key, keep: &[&Key]) -> Result<(), ApiError> {
        // A foreign key is cleared; a join-table row is deleted. `child` names the related key.
        let (mut sql, child) = match self.link {
            Link::Column(column) => {
                let mut sql = Sql::raw(format!(
                    "UPDATE {} SET {c} = NULL WHERE {c} = ",
                    ident(self.target.table),
                    c = ident(column)
                ));
                sql.bind(parent.bind());
                (sql, self.target.key)
            }
            Link::Join {
                table,
                parent: p,
                child: c,
                scope,
            } => {
                let mut sql = Sql::raw(format!(
                    "DELETE FROM {} WHERE {} = ",
                    ident(table),
                    ident(p)
                ));
                sql.bind(parent.bind())
                    .push(&JoinScope::condition(scope, ""));
                (sql, c)
            }
        };
        if !keep.is_empty() {
            sql.push(&format!(" AND {} NOT IN (", ident(child)));
            for (i, k) in keep.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(k.bind());
            }
            sql.push(")");
        }
        sql.execute(conn)
            .map_err(|e| ApiError::from(e).at(&self.at))?;
        Ok(())
    }

    fn disconnect_one(
        &self,
        conn: &mut Conn,
        parent: &Key,
        at: &str,
        child: &Key,
    ) -> Result<(), ApiError> {
        let mut sql = match self.link {
            Link::Column(column) => {
                let mut sql = Sql::raw(format!(
                    "UPDATE {} SET {c} = NULL WHERE {c} = ",
                    ident(self.target.table),
                    c = ident(column)
                ));
                sql.bind(parent.bind())
                    .push(&format!(" AND {} = ", ident(self.target.key)));
                sql
            }
            Link::Join {
                table,
                parent: p,
                child: c,
                scope,
            } => {
                let mut sql = Sql::raw(format!(
                    "DELETE FROM {} WHERE {} = ",
                    ident(table),
                    ident(p)
                ));
                sql.bind(parent.bind()).push(&format!(
                    "{} AND {} = ",
                    JoinScope::condition(scope, ""),
                    ident(c)
                ));
                sql
            }
        };
        sql.bind(child.bind());
        if sql.execute(conn)? == 0 {
            return Err(not_linked(&self.target, at, child));
        }
        Ok(())
    }
}

impl<R: Written> Nested for ToMany<R> {
    fn boxed_clone(&self) -> Box<dyn Nested> {
        Box::new(self.clone())
    }

    fn apply(self: Box<Self>, conn: &mut Conn, parent: &Key) -> Result<(), ApiError> {
        if let Some(set) = &self.set {
            let keep: Vec<&Key> = set.iter().map(|(_, k)| k).collect();
            self.unlink_all(conn, parent, &keep)?;
            for (at, child) in set {
                self.connect_one(conn, parent, at, child)?;
            }
        }
        for (at, child) in &self.disconnect {
            self.disconnect_one(conn, parent, at, child)?;
        }
        for (at, child) in &self.delete {
            if !linked(&self.target, conn, &self.link, parent, child)? {
                return Err(not_linked(&self.target, at, child));
            }
            delete::<R>(&self.target, conn, child, None).map_err(|e| e.at(at))?;
        }
        for (at, child) in &self.connect {
            self.connect_one(conn, parent, at, child)?;
        }
        let fixed = self.fixed_column();
        let ToMany {
            target,
            link,
            create,
            update,
            ..
        } = *self;
        for plan in create {
            let row = plan.insert(conn, fixed.map(|c| (c, parent.bind())))?;
            if let Link::Join {
                table,
                parent: p,
                child: c,
                scope,
            } = link
            {
                let mut sql = Sql::raw(format!(
                    "INSERT INTO {} ({}, {}{}) VALUES (",
                    ident(table),
                    ident(p),
                    ident(c),
                    JoinScope::column(scope)
                ));
                sql.bind(parent.bind())
                    .push(", ")
                    .bind(row.written_key(&target).bind())
                    .push(&JoinScope::value(scope))
                    .push(")");
                sql.execute(conn)?;
            }
        }
        for (at, child, plan) in update {
            if !linked(&target, conn, &link, parent, &child)? {
                return Err(not_linked(&target, &at, &child));
            }
            plan.apply(conn, &child)?;
        }
        Ok(())
    }
}

/// An input that plans the insert of one `Row`: every value checked, problems collected in `p`.
/// `fixed` is the foreign-key column the parent fills when the row is created under it.
pub trait PlanCreate {
    type Row: Writable;
    fn plan(self, at: &str, p: &mut Problems, fixed: Option<&'static str>) -> Create<Self::Row>;
}

/// An input that plans an update of `Row` rows.
pub trait PlanUpdate {
    type Row: Writable;
    fn plan(self, at: &str, p: &mut Problems) -> Update<Self::Row>;
}

/// The operations of a `<Model>ToMany` input.
pub struct ToManyInput<C, U> {
    pub create: Option<Vec<C>>,
    pub connect: Option<Vec<ID>>,
    pub disconnect: Option<Vec<ID>>,
    pub set: Option<Vec<ID>>,
    pub update: Option<Vec<(ID, U)>>,
    pub delete: Option<Vec<ID>>,
}

impl<C: PlanCreate, U: PlanUpdate<Row = C::Row>> ToManyInput<C, U> {
    /// Plans the writes to the relation `link` of a row being created (`creating`) or updated.
    pub fn plan(
        self,
        at: &str,
        p: &mut Problems,
        link: Link,
        nullable: bool,
        creating: bool,
    ) -> ToMany<C::Row> {
        let mut plan = ToMany::new(at.to_string(), link, nullable);
        p.rows(
            len(&self.create)
                + len(&self.connect)
                + len(&self.disconnect)
                + len(&self.set)
                + len(&self.delete)
                + len(&self.update),
        );
        let keys = |p: &mut Problems, op: &str, ids: Option<Vec<ID>>| -> Vec<(String, Key)> {
            let base = check::path(at, op);
            ids.unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let here = check::item(&base, i);
                    let key = check::key(p, &here, id, C::Row::KEY_KIND);
                    (here, key)
                })
                .collect()
        };
        plan.connect = keys(p, "connect", self.connect);
        plan.disconnect = keys(p, "disconnect", self.disconnect);
        plan.delete = keys(p, "delete", self.delete);
        let given_set = self.set.is_some();
        let set = keys(p, "set", self.set);
        plan.set = given_set.then_some(set);
        let fixed = plan.fixed_column();
        for (i, input) in self.create.unwrap_or_default().into_iter().enumerate() {
            plan.create
                .push(input.plan(&check::item(&check::path(at, "create"), i), p, fixed));
        }
        for (i, (id, input)) in self.update.unwrap_or_default().into_iter().enumerate() {
            let here = check::item(&check::path(at, "update"), i);
            let key = check::key(p, &check::path(&here, "id"), &id, C::Row::KEY_KIND);
            let update = input.plan(&check::path(&here, "input"), p);
            plan.update.push((here, key, update));
        }
        plan.check(p, creating);
        plan
    }
}

/// The length of an optional list argument.
fn len<T>(list: &Option<Vec<T>>) -> usize {
    list.as_ref().map_or(0, Vec::len)
}

/// `{set: v}` or `{increment: n}` for an integer field.
#[derive(Debug, Clone, Copy, async_graphql::InputObject)]
pub struct IntUpdate {
    /// Stores this value.
    pub set: Option<i64>,
    /// Adds this (possibly negative) amount to the stored value, atomically.
    pub increment: Option<i64>,
}

/// `{set: v}` or `{increment: n}` for a 64-bit integer field.
#[derive(Debug, Clone, Copy, async_graphql::InputObject)]
pub struct BigIntUpdate {
    /// Stores this value.
    pub set: Option<crate::runtime::scalars::BigInt>,
    /// Adds this (possibly negative) amount to the stored value, atomically.
    pub increment: Option<crate::runtime::scalars::BigInt>,
}

/// `{set: v}` or `{increment: n}` for a decimal field.
#[derive(Debug, Clone, Copy, async_graphql::InputObject)]
pub struct DecimalUpdate {
    /// Stores this value.
    pub set: Option<rust_decimal::Decimal>,
    /// Adds this (possibly negative) amount to the stored value, atomically.
    pub increment: Option<rust_decimal::Decimal>,
}

/// `{set: v}` or `{increment: n}` for a float field.
#[derive(Debug, Clone, Copy, async_graphql::InputObject)]
pub struct FloatUpdate {
    /// Stores this value.
    pub set: Option<f64>,
    /// Adds this (possibly negative) amount to the stored value, atomically.
    pub increment: Option<f64>,
}

/// Most rows one `create<Models>` call takes.
pub const MAX_BATCH: usize = 1000;

/// Refuses batches over [`MAX_BATCH`].
fn batch_size(len: usize, argument: &str) -> Result<(), ApiError> {
    if len > MAX_BATCH {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("`{argument}` takes at most {MAX_BATCH} rows"),
        )
        .on_field(argument));
    }
    Ok(())
}

/// The condition of a bulk write's `where` over `t0`.
fn matching<W: Where>(filter: &W) -> Result<Sql, ApiError> {
    let counter = std::cell::Cell::new(0);
    condition(filter, &Scope::root(&counter))
}

/// Inserts one planned row and its nested writes, once `plan` (which collects every problem in
/// the arguments) found none.
pub async fn create<R: Written>(
    cx: &Ctx<'_>,
    plan: impl FnOnce(&mut Problems) -> Create<R>,
) -> Result<R, ApiError> {
    let mut p = Problems::default();
    p.rows(1);
    let plan = plan(&mut p);
    p.finish()?;
    cx.transaction(move |conn| plan.clone().insert(conn, None))
        .await
}

/// Inserts `count` planned rows: all of them, or none if any fails.
pub async fn create_all<R: Written>(
    cx: &Ctx<'_>,
    count: usize,
    plan: impl FnOnce(&mut Problems) -> Vec<Create<R>>,
) -> Result<Vec<R>, ApiError> {
    batch_size(count, "inputs")?;
    let mut p = Problems::default();
    p.rows(count);
    let plans = plan(&mut p);
    p.finish()?;
    cx.transaction(move |conn| {
        plans
            .iter()
            .map(|plan| plan.clone().insert(conn, None))
            .collect()
    })
    .await
}

/// Updates the row of `t` with key `id`: `NOT_FOUND` if there is none.
pub async fn update<R: Written>(
    cx: &Ctx<'_>,
    t: Target,
    id: &ID,
    plan: impl FnOnce(&mut Problems) -> Update<R>,
) -> Result<R, ApiError> {
    let key = convert::key_of(t.key_kind, "id", id)?;
    let mut p = Problems::default();
    let plan = plan(&mut p);
    p.finish()?;
    cx.transaction(move |conn| {
        plan.clone()
            .apply(conn, &key)?
            .ok_or_else(|| ApiError::not_found(t.model).on_field("id"))
    })
    .await
}

/// Updates every row of `t` that `filter` (a condition over `t0`) matches; nested writes are refused.
pub async fn update_all<R: Written>(
    cx: &Ctx<'_>,
    t: Target,
    filter: Sql,
    plan: impl FnOnce(&mut Problems) -> Update<R>,
) -> Result<Vec<R>, ApiError> {
    let mut p = Problems::default();
    let plan = plan(&mut p);
    if plan.has_nested() {
        p.add(
            "set",
            "NESTED_IN_BULK",
            format!(
                "nested writes are not available in bulk updates; use `update{}`",
                t.model
            ),
        );
    }
    p.finish()?;
    let keys = keys_where(&t, &filter);
    cx.transaction(move |conn| plan.clone().apply_all(conn, &keys))
        .await
}

/// Deletes the row of `t` with key `id` if `only` (a condition over `t0`) selects it: the
/// deleted row, or `None` if there was none.
pub async fn remove<R: Written>(
    cx: &Ctx<'_>,
    t: Target,
    id: &ID,
    only: Option<Sql>,
) -> Result<Option<R>, ApiError> {
    let key = convert::key_of(t.key_kind, "id", id)?;
    cx.transaction(move |conn| delete::<R>(&t, conn, &key, only.as_ref()))
        .await
}

/// Deletes every row of `t` that `filter` (a condition over `t0`) matches, or none.
pub async fn remove_all<R: Written>(
    cx: &Ctx<'_>,
    t: Target,
    filter: Sql,
) -> Result<Vec<R>, ApiError> {
    let keys = keys_where(&t, &filter);
    cx.transaction(move |conn| delete_all::<R>(&t, conn, &keys))
        .await
}

/// Inserts a planned row, or updates the row with the same `conflict` key (the `update` columns).
pub async fn upsert<R: Written>(
    cx: &Ctx<'_>,
    plan: impl FnOnce(&mut Problems) -> Create<R>,
    conflict: Vec<&'static str>,
    update: Option<Vec<&'static str>>,
) -> Result<R, ApiError> {
    let mut p = Problems::default();
    let plan = plan(&mut p);
    p.finish()?;
    cx.transaction(move |conn| plan.clone().upsert(conn, &conflict, update.clone()))
        .await
}

/// `create<Model>(input)`: checks every value, then inserts the row and its nested writes.
pub async fn create_one<I: PlanCreate>(cx: &Ctx<'_>, input: I) -> Result<I::Row, ApiError> {
    create(cx, |p| input.plan("input", p, None)).await
}

/// `create<Models>(inputs)`: all rows, or none if any fails.
pub async fn create_many<I: PlanCreate>(
    cx: &Ctx<'_>,
    inputs: Vec<I>,
) -> Result<Vec<I::Row>, ApiError> {
    let count = inputs.len();
    create_all(cx, count, |p| {
        inputs
            .into_iter()
            .enumerate()
            .map(|(i, input)| input.plan(&check::item("inputs", i), p, None))
            .collect()
    })
    .await
}

/// `update<Model>(id, input)`: `NOT_FOUND` if there is no such row.
pub async fn update_one<I: PlanUpdate>(
    cx: &Ctx<'_>,
    id: &ID,
    input: I,
) -> Result<I::Row, ApiError> {
    update(cx, I::Row::TARGET, id, |p| input.plan("input", p)).await
}

/// `update<Models>(where, set)`: every matching row; nested writes are refused.
pub async fn update_many<I: PlanUpdate, W: Where>(
    cx: &Ctx<'_>,
    filter: &W,
    set: I,
) -> Result<Vec<I::Row>, ApiError> {
    update_all(cx, I::Row::TARGET, matching(filter)?, |p| {
        set.plan("set", p)
    })
    .await
}

/// `delete<Model>(id)`: the deleted row, or `None` if there was none.
pub async fn delete_one<R: Writable>(cx: &Ctx<'_>, id: &ID) -> Result<Option<R>, ApiError> {
    remove(cx, R::TARGET, id, None).await
}

/// `delete<Models>(where)`: every matching row, or none.
pub async fn delete_many<R: Writable, W: Where>(
    cx: &Ctx<'_>,
    filter: &W,
) -> Result<Vec<R>, ApiError> {
    remove_all(cx, R::TARGET, matching(filter)?).await
}

/// `upsert<Model>(input, onConflict)`: `conflict` and `update` are the columns the client named.
pub async fn upsert_one<I: PlanCreate>(
    cx: &Ctx<'_>,
    input: I,
    conflict: Vec<&'static str>,
    update: Option<Vec<&'static str>>,
) -> Result<I::Row, ApiError> {
    upsert(cx, |p| input.plan("input", p, None), conflict, update).await
}

/// Whether `child` (a row of `t`) is related to `parent` through `link`.
fn linked(
    t: &Target,
    conn: &mut Conn,
    link: &Link,
    parent: &Key,
    child: &Key,
) -> Result<bool, ApiError> {
    let mut sql = match *link {
        Link::Column(column) => {
            let mut sql = Sql::raw(format!(
                "SELECT 1 AS gqlauto_one FROM {} WHERE {} = ",
                ident(t.table),
                ident(t.key)
            ));
            sql.bind(child.bind())
                .push(&format!(" AND {} = ", ident(column)))
                .bind(parent.bind());
            sql
        }
        Link::Join {
            table,
            parent: p,
            child: c,
            scope,
        } => {
            let mut sql = Sql::raw(format!(
                "SELECT 1 AS gqlauto_one FROM {} WHERE {} = ",
                ident(table),
                ident(p)
            ));
            sql.bind(parent.bind())
                .push(&format!(" AND {} = ", ident(c)))
                .bind(child.bind())
                .push(&JoinScope::condition(scope, ""));
            sql
        }
    };
    sql.push(" LIMIT 1");
    Ok(!sql.load::<One>(conn)?.is_empty())
}

fn missing(t: &Target, at: &str, key: &Key) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("there is no `{}` with id `{}`", t.model, key.to_text()),
    )
    .on_field(at)
}

fn not_linked(t: &Target, at: &str, key: &Key) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "`{}` `{}` is not linked to this row",
            t.model,
            key.to_text()
        ),
    )
    .on_field(at)
}

/// A row of `SELECT <column> AS gqlauto_value`.
#[derive(diesel::QueryableByName)]
struct TextValue {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    gqlauto_value: Option<String>,
}

/// A row of `SELECT 1 AS gqlauto_one`.
#[derive(diesel::QueryableByName)]
struct One {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    gqlauto_one: i32,
}

fn exists(t: &Target, conn: &mut Conn, key: &Key) -> Result<bool, ApiError> {
    let mut sql = Sql::raw(format!(
        "SELECT 1 AS gqlauto_one FROM {} WHERE {} = ",
        ident(t.table),
        ident(t.key)
    ));
    sql.bind(key.bind());
    Ok(!sql.load::<One>(conn)?.is_empty())
}

/// Fails with `FOREIGN_KEY_VIOLATION` on the first reference whose value points at no row.
/// SQLite's own foreign-key error does not say which column failed, so writes check first.
fn check_references<'a>(
    t: &Target,
    conn: &mut Conn,
    value: impl Fn(&'static str) -> Option<&'a Bind>,
    seen: &[(&'static str, Sql)],
) -> Result<(), ApiError> {
    for r in t.references {
        let Some(bind) = value(r.column) else {
            continue;
        };
        if *bind == Bind::Null {
            continue;
        }
        let mut sql = Sql::raw(format!(
            "SELECT 1 AS gqlauto_one FROM {} AS t0 WHERE t0.{} = ",
            ident(r.table),
            ident(r.key)
        ));
        sql.bind(bind.clone());
        // A row the caller may not read is as missing as one that does not exist.
        if let Some((_, visible)) = seen.iter().find(|(column, _)| *column == r.column) {
            sql.push(" AND (").append(visible).push(")");
        }
        if sql.load::<One>(conn)?.is_empty() {
            return Err(ApiError::new(
                ErrorCode::ForeignKeyViolation,
                format!("`{}` does not refer to an existing row", r.field),
            )
            .on_field(r.field));
        }
    }
    Ok(())
}

fn one<R: Loadable>(conn: &mut Conn, sql: &Sql) -> Result<R, ApiError> {
    sql.load::<R>(conn)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("a write returned no row"))
}

/// `INSERT INTO table (...) VALUES (...) [ON CONFLICT (...) DO UPDATE SET ...] RETURNING ...`.
fn insert_sql(
    t: &Target,
    values: &Values,
    upsert: Option<(&[&'static str], &[&'static str])>,
) -> Sql {
    let table = t.table;
    let columns: Vec<String> = values.0.iter().map(|v| ident(v.column)).collect();
    let mut sql = if columns.is_empty() {
        Sql::raw(format!("INSERT INTO {} DEFAULT VALUES", ident(table)))
    } else {
        let mut sql = Sql::raw(format!(
            "INSERT INTO {} ({}) VALUES (",
            ident(table),
            columns.join(", ")
        ));
        for (i, v) in values.0.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(v.bind.clone());
        }
        sql.push(")");
        sql
    };
    if let Some((conflict, update)) = upsert {
        let target: Vec<String> = conflict.iter().map(|c| ident(c)).collect();
        let sets: Vec<String> = update
            .iter()
            .map(|c| format!("{c} = excluded.{c}", c = ident(c)))
            .collect();
        sql.push(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            target.join(", "),
            sets.join(", ")
        ));
    }
    sql.push(&format!(" RETURNING {}", t.returning));
    sql
}

/// `UPDATE table SET ... WHERE cond RETURNING ...`.
fn update_sql(t: &Target, changes: &Changes, cond: &Sql) -> Sql {
    let mut sql = Sql::raw(format!("UPDATE {} SET ", ident(t.table)));
    for (i, (column, change)) in changes.0.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        let c = ident(column);
        match change {
            Change::To(b) => sql.push(&format!("{c} = ")).bind(b.clone()),
            Change::Add(b) => sql.push(&format!("{c} = {c} + ")).bind(b.clone()),
            // Resolved to `To` before any statement is built.
            Change::AddExact { .. } => sql.push(&format!("{c} = {c}")),
        };
    }
    sql.push(" WHERE ")
        .append(cond)
        .push(&format!(" RETURNING {}", t.returning));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTS: Target = Target {
        model: "Post",
        table: "posts",
        key: "id",
        key_kind: KeyKind::Int,
        references: &[],
        unique_keys: &[&["id"]],
        rules: &[],
        returning: "*",
        key_position: 0,
        relations: &[],
    };

    #[test]
    fn inserts_bind_every_value_and_upserts_name_their_key() {
        let mut v = Values::default();
        v.put("title", Bind::Text("a".into()), true);
        v.put("views", Bind::Int(0), false);
        v.put("title", Bind::Text("b".into()), true);
        let sql = insert_sql(&POSTS, &v, None);
        assert_eq!(
            sql.text(),
            "INSERT INTO \"posts\" (\"title\", \"views\") VALUES (?, ?) RETURNING *"
        );
        assert_eq!(sql.binds(), &[Bind::Text("b".into()), Bind::Int(0)]);
        let sql = insert_sql(&POSTS, &v, Some((&["slug"], &["title"])));
        assert!(
            sql.text().ends_with(
                "ON CONFLICT (\"slug\") DO UPDATE SET \"title\" = excluded.\"title\" RETURNING *"
            ),
            "{}",
            sql.text()
        );
        let columns = Target {
            table: "t",
            returning: "\"id\", \"name\"",
            ..POSTS
        };
        assert_eq!(
            insert_sql(&columns, &Values::default(), None).text(),
            "INSERT INTO \"t\" DEFAULT VALUES RETURNING \"id\", \"name\""
        );
    }

    #[test]
    fn rules_compare_like_sql() {
        let mut v = Values::default();
        v.put(
            "starts",
            Bind::Date(chrono::NaiveDate::from_ymd_opt(2024, 5, 2).unwrap()),
            true,
        );
        v.put(
            "ends",
            Bind::Date(chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap()),
            true,
        );
        v.put("price", Bind::Text("10.50".into()), true);
        v.put("empty", Bind::Null, true);
        let rule = |left, op, right, decimal| Rule {
            left,
            op,
            right,
            decimal,
            field: "x",
            message: "m",
        };
        assert!(!rule("ends", Cmp::Ge, Operand::Column("starts"), false).holds(&v));
        assert!(rule("ends", Cmp::Lt, Operand::Column("starts"), false).holds(&v));
        assert!(rule("ends", Cmp::Gt, Operand::Date("2024-04-30"), false).holds(&v));
        assert!(!rule("ends", Cmp::Eq, Operand::Column("starts"), false).holds(&v));
        assert!(rule("ends", Cmp::Ne, Operand::Column("starts"), false).holds(&v));
        assert!(rule("ends", Cmp::Le, Operand::Column("starts"), false).holds(&v));
        assert!(
            rule("price", Cmp::Gt, Operand::Text("9.99"), true).holds(&v),
            "decimals compare by value, not as text"
        );
        assert!(
            rule("empty", Cmp::Eq, Operand::Int(1), false).holds(&v),
            "a null passes, as in SQL"
        );
        assert!(rule("missing", Cmp::Eq, Operand::Int(1), false).holds(&v));
    }

    #[test]
    fn increments_are_computed_by_the_database() {
        let mut c = Changes::default();
        c.put("title", Change::To(Bind::Text("x".into())));
        c.put("views", Change::Add(Bind::Int(2)));
        let mut cond = Sql::raw("\"id\" = ");
        cond.bind(Bind::Int(7));
        let sql = update_sql(&POSTS, &c, &cond);
        assert_eq!(sql.text(), "UPDATE \"posts\" SET \"title\" = ?, \"views\" = \"views\" + ? WHERE \"id\" = ? RETURNING *");
        assert_eq!(c.get("title"), Some(&Bind::Text("x".into())));
        assert_eq!(c.get("views"), None);
    }
}
