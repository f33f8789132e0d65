//! `where:` arguments: the shared per-type filter inputs, and the builder that turns a model's
//! filter input into one SQL condition.
//!
//! Semantics, the same for every type: a row matches when every given operator holds. `ne` and
//! `notIn` are null-safe (a row whose value is null is "not equal"); `isNull: true` matches nulls.
//! `not` matches exactly the rows its inner filter does not match.

use std::cell::Cell;

use async_graphql::{InputObject, ID};

use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::model::JoinScope;
use crate::runtime::scalars;
use crate::runtime::select::KeyKind;
use crate::runtime::sql::{decimal_value, dialect, ident, Bind, Dialect, Sql};

/// A table alias in a query being built; nested filters and orderings get fresh ones.
pub struct Scope<'a> {
    alias: String,
    counter: &'a Cell<usize>,
}

impl<'a> Scope<'a> {
    /// The outermost table of a query, `t0`.
    pub fn root(counter: &'a Cell<usize>) -> Scope<'a> {
        Scope {
            alias: "t0".into(),
            counter,
        }
    }

    /// A new alias for a subquery.
    pub fn fresh(&self) -> Scope<'a> {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        Scope {
            alias: format!("t{n}"),
            counter: self.counter,
        }
    }

    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// A column of this table, qualified.
    pub fn col(&self, column: &str) -> String {
        format!("{}.{}", self.alias, ident(column))
    }
}

/// A model's filter input (`PostWhere`).
pub trait Where {
    const TABLE: &'static str;
    const KEY: &'static str;
    /// Adds the conditions this input asks for.
    fn write(&self, conds: &mut Conds<'_, '_>) -> Result<(), ApiError>;
}

/// `some` / `every` / `none` over a to-many relation.
pub trait ListFilter {
    type Where: Where;
    fn some(&self) -> Option<&Self::Where>;
    fn every(&self) -> Option<&Self::Where>;
    fn none(&self) -> Option<&Self::Where>;
}

/// A filter on one value (`IntFilter`, `StringFilter`, an enum's filter, ...).
pub trait FieldFilter {
    /// Adds the conditions on the SQL expression `expr`.
    fn write(&self, expr: &str, out: &mut Vec<Sql>) -> Result<(), ApiError>;
}

/// A condition on another table's rows, written on the alias it is given.
pub type SubCondition<'f> = &'f dyn Fn(&Scope<'_>) -> Result<Sql, ApiError>;

/// The `some`, `every` and `none` conditions of a to-many filter, those given.
pub type Quantifiers<'f> = [Option<SubCondition<'f>>; 3];

/// A join table between this table and another (`table`, key `key`): `here` points at this
/// table's rows, `there` at the other's.
#[derive(Clone, Copy)]
pub struct Via<'a> {
    pub join_table: &'a str,
    pub here: &'a str,
    pub there: &'a str,
    /// Which of the join table's rows count, if not all.
    pub scope: Option<&'a JoinScope>,
    pub table: &'a str,
    pub key: &'a str,
}

/// A model filter as a [`SubCondition`].
fn sub_of<W: Where>(
    filter: Option<&W>,
) -> Option<impl Fn(&Scope<'_>) -> Result<Sql, ApiError> + '_> {
    filter.map(|w| move |scope: &Scope<'_>| condition(w, scope))
}

/// The condition a filter input stands for, on the table `scope` names.
pub fn condition<W: Where>(filter: &W, scope: &Scope<'_>) -> Result<Sql, ApiError> {
    let mut conds = Conds {
        scope,
        parts: Vec::new(),
    };
    filter.write(&mut conds)?;
    Ok(conds.finish())
}

/// The condition of a `having:` input, over the groups of the outermost table.
pub fn having<W: Where>(input: &W) -> Result<Sql, ApiError> {
    let counter = Cell::new(0);
    condition(input, &Scope::root(&counter))
}

/// Conditions collected from one filter input; they all must hold.
pub struct Conds<'s, 'a> {
    scope: &'s Scope<'a>,
    parts: Vec<Sql>,
}

impl Conds<'_, '_> {
    /// A column compared by a value filter.
    pub fn field<F: FieldFilter>(
        &mut self,
        column: &str,
        filter: Option<&F>,
    ) -> Result<(), ApiError> {
        if let Some(filter) = filter {
            filter.write(&self.scope.col(column), &mut self.parts)?;
        }
        Ok(())
    }

    /// A key column compared by an `ID` filter, whose ids are keys of `kind`.
    pub fn id(
        &mut self,
        column: &str,
        filter: Option<&IdFilter>,
        kind: KeyKind,
    ) -> Result<(), ApiError> {
        if let Some(filter) = filter {
            filter.write_key(&self.scope.col(column), kind, &mut self.parts)?;
        }
        Ok(())
    }

    /// An aggregate (`SUM`, `AVG`, `MIN`, `MAX`) of a column compared by a filter (`having:`).
    pub fn aggregate<F: FieldFilter>(
        &mut self,
        function: &str,
        column: &str,
        decimal: bool,
        filter: Option<&F>,
    ) -> Result<(), ApiError> {
        if let Some(filter) = filter {
            let col = self.scope.col(column);
            let value = if decimal { decimal_value(&col) } else { col };
            filter.write(&format!("{function}({value})"), &mut self.parts)?;
        }
        Ok(())
    }

    /// The number of rows of a group compared by a filter (`having:`).
    pub fn count<F: FieldFilter>(&mut self, filter: Option<&F>) -> Result<(), ApiError> {
        if let Some(filter) = filter {
            filter.write("COUNT(*)", &mut self.parts)?;
        }
        Ok(())
    }

    /// `and: [...]`: every filter in the list holds.
    pub fn and<W: Where>(&mut self, list: Option<&[W]>) -> Result<(), ApiError> {
        for filter in list.unwrap_or_default() {
            let sub = condition(filter, self.scope)?;
            self.parts.push(sub);
        }
        Ok(())
    }

    /// `or: [...]`: at least one filter in the list holds (an empty list matches nothing).
    pub fn or<W: Where>(&mut self, list: Option<&[W]>) -> Result<(), ApiError> {
        if let Some(list) = list {
            let subs = list
                .iter()
                .map(|f| condition(f, self.scope))
                .collect::<Result<Vec<_>, _>>()?;
            self.parts.push(Sql::join(&subs, " OR ", "FALSE"));
        }
        Ok(())
    }

    /// `not: {...}`: the inner filter does not hold.
    pub fn not<W: Where>(&mut self, filter: Option<&W>) -> Result<(), ApiError> {
        if let Some(filter) = filter {
            let sub = condition(filter, self.scope)?;
            self.parts.push(negate(&sub));
        }
        Ok(())
    }

    /// A to-one relation through the foreign key `column`: the related row matches `filter`.
    pub fn to_one<W: Where>(&mut self, column: &str, filter: Option<&W>) -> Result<(), ApiError> {
        let Some(filter) = filter else { return Ok(()) };
        self.to_one_on(column, W::TABLE, W::KEY, &|inner| condition(filter, inner))
    }

    /// A to-one relation through the foreign key `column` to `table` (key `key`): the related
    /// row meets `sub`.
    pub fn to_one_on(
        &mut self,
        column: &str,
        table: &str,
        key: &str,
        sub: SubCondition<'_>,
    ) -> Result<(), ApiError> {
        let inner = self.scope.fresh();
        let cond = sub(&inner)?;
        let mut sql = Sql::raw(format!(
            "{} IN (SELECT {} FROM {} AS {} WHERE ",
            self.scope.col(column),
            inner.col(key),
            ident(table),
            inner.alias()
        ));
        sql.append(&cond).push(")");
        self.parts.push(sql);
        Ok(())
    }

    /// A to-one relation tested row by row: `EXISTS` the related row (found by its key) and it
    /// satisfies `sub`. SQLite evaluates `to_one_on`'s `IN (subquery)` once for the whole table
    /// (every published post, say), which costs far more than probing the key of each of a few
    /// rows; permission rules, applied to every small batch a relation loads, use this form.
    pub fn to_one_exists_on(
        &mut self,
        column: &str,
        table: &str,
        key: &str,
        sub: SubCondition<'_>,
    ) -> Result<(), ApiError> {
        let inner = self.scope.fresh();
        let cond = sub(&inner)?;
        let mut sql = Sql::raw(format!(
            "EXISTS (SELECT 1 FROM {} AS {} WHERE {} = {} AND (",
            ident(table),
            inner.alias(),
            inner.col(key),
            self.scope.col(column)
        ));
        sql.append(&cond).push("))");
        self.parts.push(sql);
        Ok(())
    }

    /// A to-many relation: rows of the other table whose `back_column` points at this row.
    pub fn to_many<L: ListFilter>(
        &mut self,
        key: &str,
        back_column: &str,
        filter: Option<&L>,
    ) -> Result<(), ApiError> {
        let Some(filter) = filter else { return Ok(()) };
        let (some, every, none) = (
            sub_of(filter.some()),
            sub_of(filter.every()),
            sub_of(filter.none()),
        );
        let cases: Quantifiers<'_> = [
            some.as_ref().map(|f| f as SubCondition<'_>),
            every.as_ref().map(|f| f as SubCondition<'_>),
            none.as_ref().map(|f| f as SubCondition<'_>),
        ];
        self.to_many_on(key, back_column, L::Where::TABLE, cases)
    }

    /// A to-many relation to `table`, whose `back_column` points at this row, with `some`,
    /// `every` and `none` conditions.
    pub fn to_many_on(
        &mut self,
        key: &str,
        back_column: &str,
        table: &str,
        cases: Quantifiers<'_>,
    ) -> Result<(), ApiError> {
        self.quantified(key, cases, |rows, _, cond| {
            let back = rows.col(back_column);
            let mut sql = Sql::raw(format!(
                "SELECT {back} FROM {} AS {} WHERE {back} IS NOT NULL AND (",
                ident(table),
                rows.alias()
            ));
            sql.append(cond).push(")");
            sql
        })
    }

    /// A many-to-many relation through a join table, with `some`, `every` and `none` conditions.
    pub fn via_on(
        &mut self,
        key: &str,
        via: Via<'_>,
        cases: Quantifiers<'_>,
    ) -> Result<(), ApiError> {
        self.quantified(key, cases, |rows, link, cond| {
            let mut sql = Sql::raw(format!(
                "SELECT {} FROM {} AS {} WHERE {} IN (SELECT {} FROM {} AS {} WHERE ",
                link.col(via.here),
                ident(via.join_table),
                link.alias(),
                link.col(via.there),
                rows.col(via.key),
                ident(via.table),
                rows.alias()
            ));
            sql.append(cond)
                .push(")")
                .push(&JoinScope::condition(via.scope, link.alias()));
            sql
        })
    }

    /// `some`/`every`/`none` as `key [NOT] IN (...)`. `related(rows, link, cond)` selects the keys
    /// of this table's rows that have a related row (alias `rows`, reached through the join
    /// table alias `link` if any) meeting `cond`.
    fn quantified(
        &mut self,
        key: &str,
        cases: Quantifiers<'_>,
        related: impl Fn(&Scope<'_>, &Scope<'_>, &Sql) -> Sql,
    ) -> Result<(), ApiError> {
        let key = self.scope.col(key);
        // some: a related row matches; every: no related row fails; none: no related row matches.
        let [some, every, none] = cases;
        for (sub, not_in, negated) in [
            (some, "", false),
            (every, "NOT ", true),
            (none, "NOT ", false),
        ] {
            let Some(sub) = sub else { continue };
            let rows = self.scope.fresh();
            let link = self.scope.fresh();
            let cond = sub(&rows)?;
            let cond = if negated { negate(&cond) } else { cond };
            let mut sql = Sql::raw(format!("{key} {not_in}IN ("));
            sql.append(&related(&rows, &link, &cond)).push(")");
            self.parts.push(sql);
        }
        Ok(())
    }

    /// Conditions on the table `scope` names, collected one by one.
    pub fn new<'s, 'a>(scope: &'s Scope<'a>) -> Conds<'s, 'a> {
        Conds {
            scope,
            parts: Vec::new(),
        }
    }

    /// The table the conditions are on.
    pub fn scope(&self) -> &Scope<'_> {
        self.scope
    }

    /// Adds a condition.
    pub fn push(&mut self, cond: Sql) {
        self.parts.push(cond);
    }

    /// Where a value filter adds its conditions.
    pub fn parts(&mut self) -> &mut Vec<Sql> {
        &mut self.parts
    }

    /// All collected conditions joined with AND (`1` when there are none).
    pub fn finish(self) -> Sql {
        Sql::join(&self.parts, " AND ", "TRUE")
    }
}

/// `NOT` that treats an unknown (null) result as "did not match".
pub fn negate(cond: &Sql) -> Sql {
    let mut sql = Sql::raw("NOT COALESCE((");
    sql.append(cond).push("), FALSE)");
    sql
}

/// The most values an `in` or `notIn` list may hold.
pub const MAX_LIST: usize = 1000;

/// A value that can be compared in SQL.
pub trait ToBind {
    fn to_bind(&self) -> Bind;
    /// The expression actually compared (decimals are stored as text and compare as numbers).
    fn expr(column: &str) -> String {
        column.to_string()
    }
}

impl ToBind for i64 {
    fn to_bind(&self) -> Bind {
        Bind::Int(*self)
    }
}

impl ToBind for f64 {
    fn to_bind(&self) -> Bind {
        Bind::Float(*self)
    }
}

impl ToBind for bool {
    fn to_bind(&self) -> Bind {
        Bind::Bool(*self)
    }
}

impl ToBind for rust_decimal::Decimal {
    fn to_bind(&self) -> Bind {
        Bind::Numeric(self.to_string())
    }

    fn expr(column: &str) -> String {
        decimal_value(column)
    }
}

impl ToBind for scalars::DateTime {
    fn to_bind(&self) -> Bind {
        Bind::DateTime(self.0)
    }
}

impl ToBind for scalars::Date {
    fn to_bind(&self) -> Bind {
        Bind::Date(self.0)
    }
}

impl ToBind for scalars::Time {
    fn to_bind(&self) -> Bind {
        Bind::Time(self.0)
    }
}

impl ToBind for scalars::BigInt {
    fn to_bind(&self) -> Bind {
        Bind::Int(self.0)
    }
}

impl ToBind for uuid::Uuid {
    fn to_bind(&self) -> Bind {
        Bind::Uuid(crate::runtime::convert::uuid_text(*self))
    }
}

/// The operators of every filter, with their values already converted to binds.
#[derive(Default)]
pub struct Ops {
    pub eq: Option<Bind>,
    pub ne: Option<Bind>,
    pub lt: Option<Bind>,
    pub lte: Option<Bind>,
    pub gt: Option<Bind>,
    pub gte: Option<Bind>,
    pub in_: Option<Vec<Bind>>,
    pub not_in: Option<Vec<Bind>>,
    pub is_null: Option<bool>,
}

impl Ops {
    /// Adds the conditions on the SQL expression `expr`.
    pub fn write(self, expr: &str, out: &mut Vec<Sql>) -> Result<(), ApiError> {
        for (op, value) in [
            ("=", self.eq),
            ("IS DISTINCT FROM", self.ne),
            ("<", self.lt),
            ("<=", self.lte),
            (">", self.gt),
            (">=", self.gte),
        ] {
            if let Some(value) = value {
                out.push(bound(format!("{expr} {op} "), value, ""));
            }
        }
        if let Some(values) = self.in_ {
            out.push(if values.is_empty() {
                Sql::raw("FALSE")
            } else {
                in_list(expr, "in", values)?
            });
        }
        if let Some(values) = self.not_in {
            if !values.is_empty() {
                let mut sql = Sql::raw(format!("{expr} IS NULL OR NOT "));
                sql.append(&in_list(expr, "notIn", values)?);
                out.push(sql);
            }
        }
        if let Some(is_null) = self.is_null {
            out.push(Sql::raw(format!(
                "{expr} IS {}NULL",
                if is_null { "" } else { "NOT " }
            )));
        }
        Ok(())
    }
}

/// `before`, a placeholder for `value`, then `after`.
fn bound(before: String, value: Bind, after: &str) -> Sql {
    let mut sql = Sql::raw(before);
    sql.bind(value).push(after);
    sql
}

fn in_list(expr: &str, operator: &str, values: Vec<Bind>) -> Result<Sql, ApiError> {
    if values.len() > MAX_LIST {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("`{operator}` takes at most {MAX_LIST} values"),
        )
        .on_field(operator));
    }
    let mut sql = Sql::raw(format!("{expr} IN ("));
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(value);
    }
    sql.push(")");
    Ok(sql)
}

fn binds<T: ToBind>(values: Option<&Vec<T>>) -> Option<Vec<Bind>> {
    values.map(|vs| vs.iter().map(ToBind::to_bind).collect())
}

/// Conditions on an ordered value: every operator given must hold.
#[derive(Debug, InputObject)]
#[graphql(
    concrete(name = "IntFilter", params(i64)),
    concrete(name = "BigIntFilter", params(scalars::BigInt)),
    concrete(name = "FloatFilter", params(f64)),
    concrete(name = "DecimalFilter", params(rust_decimal::Decimal)),
    concrete(name = "DateTimeFilter", params(scalars::DateTime)),
    concrete(name = "DateFilter", params(scalars::Date)),
    concrete(name = "TimeFilter", params(scalars::Time))
)]
pub struct Comparable<T: async_graphql::InputType> {
    /// Equal to.
    pub eq: Option<T>,
    /// Not equal to; null values count as not equal.
    pub ne: Option<T>,
    /// Less than.
    pub lt: Option<T>,
    /// Less than or equal to.
    pub lte: Option<T>,
    /// Greater than.
    pub gt: Option<T>,
    /// Greater than or equal to.
    pub gte: Option<T>,
    /// Equal to one of the values.
    #[graphql(name = "in")]
    pub in_: Option<Vec<T>>,
    /// Equal to none of the values; null values count as not equal.
    pub not_in: Option<Vec<T>>,
    /// True: the value is null; false: it is not.
    pub is_null: Option<bool>,
}

impl<T: async_graphql::InputType + ToBind> FieldFilter for Comparable<T> {
    fn write(&self, expr: &str, out: &mut Vec<Sql>) -> Result<(), ApiError> {
        let bind = |v: &Option<T>| v.as_ref().map(ToBind::to_bind);
        Ops {
            eq: bind(&self.eq),
            ne: bind(&self.ne),
            lt: bind(&self.lt),
            lte: bind(&self.lte),
            gt: bind(&self.gt),
            gte: bind(&self.gte),
            in_: binds(self.in_.as_ref()),
            not_in: binds(self.not_in.as_ref()),
            is_null: self.is_null,
        }
        .write(&T::expr(expr), out)
    }
}

/// Conditions on a value that has no order: every operator given must hold.
#[derive(Debug, InputObject)]
#[graphql(
    concrete(name = "IDFilter", params(ID)),
    concrete(name = "BooleanFilter", params(bool)),
    concrete(name = "UUIDFilter", params(uuid::Uuid))
)]
pub struct Equatable<T: async_graphql::InputType> {
    /// Equal to.
    pub eq: Option<T>,
    /// Not equal to; null values count as not equal.
    pub ne: Option<T>,
    /// Equal to one of the values.
    #[graphql(name = "in")]
    pub in_: Option<Vec<T>>,
    /// Equal to none of the values; null values count as not equal.
    pub not_in: Option<Vec<T>>,
    /// True: the value is null; false: it is not.
    pub is_null: Option<bool>,
}

/// Conditions on a key or reference (`ID`).
pub type IdFilter = Equatable<ID>;

impl<T: async_graphql::InputType + ToBind> FieldFilter for Equatable<T> {
    fn write(&self, expr: &str, out: &mut Vec<Sql>) -> Result<(), ApiError> {
        Ops {
            eq: self.eq.as_ref().map(ToBind::to_bind),
            ne: self.ne.as_ref().map(ToBind::to_bind),
            in_: binds(self.in_.as_ref()),
            not_in: binds(self.not_in.as_ref()),
            is_null: self.is_null,
            ..Ops::default()
        }
        .write(expr, out)
    }
}

impl Equatable<ID> {
    /// Compares a key column; an id that cannot be a key of `kind` is `INVALID_ID`.
    fn write_key(&self, expr: &str, kind: KeyKind, out: &mut Vec<Sql>) -> Result<(), ApiError> {
        let key = |id: &ID| -> Result<Bind, ApiError> {
            kind.parse(id.as_str()).map(|k| k.bind()).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidId,
                    format!("`{}` is not a valid id", id.as_str()),
                )
            })
        };
        let list = |ids: &Option<Vec<ID>>| {
            ids.as_ref()
                .map(|ids| ids.iter().map(key).collect::<Result<Vec<_>, _>>())
                .transpose()
        };
        Ops {
            eq: self.eq.as_ref().map(key).transpose()?,
            ne: self.ne.as_ref().map(key).transpose()?,
            in_: list(&self.in_)?,
            not_in: list(&self.not_in)?,
            is_null: self.is_null,
            ..Ops::default()
        }
        .write(expr, out)
    }
}

/// Conditions on a text value: every operator given must hold. Matching is case-sensitive
/// except for `icontains` and `iexact` (which fold ASCII letters only); `%` and `_` in a value
/// are plain characters.
#[derive(Debug, Default, InputObject)]
pub struct StringFilter {
    /// Equal to.
    pub eq: Option<String>,
    /// Not equal to; null values count as not equal.
    pub ne: Option<String>,
    /// Sorts before.
    pub lt: Option<String>,
    /// Sorts before or equal to.
    pub lte: Option<String>,
    /// Sorts after.
    pub gt: Option<String>,
    /// Sorts after or equal to.
    pub gte: Option<String>,
    /// Equal to one of the values.
    #[graphql(name = "in")]
    pub in_: Option<Vec<String>>,
    /// Equal to none of the values; null values count as not equal.
    pub not_in: Option<Vec<String>>,
    /// True: the value is null; false: it is not.
    pub is_null: Option<bool>,
    /// Contains the text.
    pub contains: Option<String>,
    /// Contains the text, ignoring case.
    pub icontains: Option<String>,
    /// Starts with the text.
    pub starts_with: Option<String>,
    /// Ends with the text.
    pub ends_with: Option<String>,
    /// Equal to the text, ignoring case.
    pub iexact: Option<String>,
}

/// Longest text the matching operators (`contains`, `startsWith`, ...) take, in characters.
pub const MAX_PATTERN_LENGTH: usize = 1000;

/// `text` as a LIKE pattern that matches it literally (escape character `\`).
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl FieldFilter for StringFilter {
    fn write(&self, expr: &str, out: &mut Vec<Sql>) -> Result<(), ApiError> {
        let text = |v: &Option<String>| v.clone().map(Bind::Text);
        let list =
            |v: &Option<Vec<String>>| v.clone().map(|vs| vs.into_iter().map(Bind::Text).collect());
        Ops {
            eq: text(&self.eq),
            ne: text(&self.ne),
            lt: text(&self.lt),
            lte: text(&self.lte),
            gt: text(&self.gt),
            gte: text(&self.gte),
            in_: list(&self.in_),
            not_in: list(&self.not_in),
            is_null: self.is_null,
        }
        .write(expr, out)?;
        let patterns = [
            ("contains", &self.contains),
            ("icontains", &self.icontains),
            ("startsWith", &self.starts_with),
            ("endsWith", &self.ends_with),
            ("iexact", &self.iexact),
        ];
        for (operator, value) in patterns {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_PATTERN_LENGTH)
            {
                return Err(ApiError::new(
                    ErrorCode::LimitExceeded,
                    format!("`{operator}` takes at most {MAX_PATTERN_LENGTH} characters"),
                )
                .on_field(operator));
            }
        }
        let text = |v: &str| Bind::Text(v.to_string());
        // SQLite's `instr` and PostgreSQL's `strpos` find the text as it is (no pattern); `LIKE`
        // ignores ASCII case on SQLite, `ILIKE` ignores case on PostgreSQL.
        let (find, like) = match dialect() {
            Dialect::Sqlite => ("instr", "LIKE"),
            Dialect::Postgres => ("strpos", "ILIKE"),
        };
        if let Some(v) = &self.contains {
            out.push(bound(format!("{find}({expr}, "), text(v), ") > 0"));
        }
        if let Some(v) = &self.starts_with {
            out.push(bound(format!("{find}({expr}, "), text(v), ") = 1"));
        }
        if let Some(v) = &self.ends_with {
            if v.is_empty() {
                out.push(Sql::raw(format!("{expr} IS NOT NULL")));
            } else {
                let tail = match dialect() {
                    Dialect::Sqlite => format!("substr({expr}, -length("),
                    Dialect::Postgres => format!("right({expr}, length("),
                };
                let mut sql = bound(tail, text(v), ")) = ");
                sql.bind(text(v));
                out.push(sql);
            }
        }
        if let Some(v) = &self.icontains {
            out.push(bound(
                format!("{expr} {like} "),
                Bind::Text(format!("%{}%", like_literal(v))),
                " ESCAPE '\\'",
            ));
        }
        if let Some(v) = &self.iexact {
            out.push(bound(
                format!("{expr} {like} "),
                Bind::Text(like_literal(v)),
                " ESCAPE '\\'",
            ));
        }
        Ok(())
    }
}

/// Conditions on a JSON value: every operator given must hold.
#[derive(Debug, InputObject)]
#[graphql(name = "JSONFilter")]
pub struct JsonFilter {
    /// The value is an object with this key.
    pub has_key: Option<String>,
    /// True: the value is null; false: it is not.
    pub is_null: Option<bool>,
}

impl FieldFilter for JsonFilter {
    fn write(&self, expr: &str, out: &mut Vec<Sql>) -> Result<(), ApiError> {
        if let Some(key) = &self.has_key {
            let mut sql = match dialect() {
                Dialect::Sqlite => Sql::raw(format!("json_type({expr}) = 'object' AND EXISTS (SELECT 1 FROM json_each({expr}) WHERE key = ")),
                // `jsonb_exists` is the function behind the `?` operator, whose name would read as a placeholder.
                Dialect::Postgres => Sql::raw(format!("jsonb_typeof({expr}) = 'object' AND jsonb_exists({expr}, ")),
            };
            sql.bind(Bind::Text(key.clone())).push(")");
            out.push(sql);
        }
        Ops {
            is_null: self.is_null,
            ..Ops::default()
        }
        .write(expr, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_literal("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn operators_become_bound_conditions() {
        let filter = Comparable::<i64> {
            eq: None,
            ne: Some(3),
            lt: None,
            lte: None,
            gt: Some(1),
            gte: None,
            in_: Some(vec![]),
            not_in: Some(vec![4, 5]),
            is_null: None,
        };
        let mut out = Vec::new();
        filter.write("t0.\"n\"", &mut out).unwrap();
        let texts: Vec<&str> = out.iter().map(Sql::text).collect();
        assert_eq!(
            texts,
            [
                "t0.\"n\" IS DISTINCT FROM ?",
                "t0.\"n\" > ?",
                "FALSE",
                "t0.\"n\" IS NULL OR NOT t0.\"n\" IN (?, ?)"
            ]
        );
    }

    #[test]
    fn long_lists_are_refused() {
        let filter = Comparable::<i64> {
            eq: None,
            ne: None,
            lt: None,
            lte: None,
            gt: None,
            gte: None,
            in_: Some(vec![1; MAX_LIST + 1]),
            not_in: None,
            is_null: None,
        };
        let err = filter.write("x", &mut Vec::new()).unwrap_err();
        assert_eq!(err.code, ErrorCode::LimitExceeded);
    }

    #[test]
    fn long_patterns_are_refused() {
        let filter = StringFilter {
            icontains: Some("x".repeat(MAX_PATTERN_LENGTH + 1)),
            ..StringFilter::default()
        };
        let e = filter.write("t0.title", &mut Vec::new()).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::LimitExceeded, Some("icontains"))
        );
    }

    #[test]
    fn string_operators_bind_their_text() {
        let filter = StringFilter {
            contains: Some("a%".into()),
            ends_with: Some("z".into()),
            ..StringFilter::default()
        };
        let mut out = Vec::new();
        filter.write("c", &mut out).unwrap();
        assert_eq!(out[0].text(), "instr(c, ?) > 0");
        assert_eq!(out[0].binds(), &[Bind::Text("a%".into())]);
        assert_eq!(out[1].text(), "substr(c, -length(?)) = ?");
        assert_eq!(out[1].binds().len(), 2);
    }
}
