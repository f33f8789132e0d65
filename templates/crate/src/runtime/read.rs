//! Reads shared by every model: offset pages, cursor connections, batched relations, counts and
//! aggregates. Per-model modules describe their table; the work happens here.

use std::sync::Arc;

use async_graphql::{Lookahead, SimpleObject, ID};

use crate::runtime::batch::{Aggregates, ByKey, Related, RelatedCount, RelatedQuery};
use crate::runtime::context::Ctx;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::negate;
use crate::runtime::scalars;
use crate::runtime::select::{AggregateTerm, Fetched, Key, Link, Loadable, Row, Select};
use crate::runtime::sql::{decimal_value, ident, JsonRow, Sql};

/// One page of rows by `limit`/`offset`.
pub async fn list<R: Loadable>(
    cx: &Ctx<'_>,
    select: Select,
    limit: Option<i32>,
    offset: Option<i32>,
) -> Result<Vec<R>, ApiError> {
    let (limit, offset) = cx.page(limit, offset)?;
    let sql = select.page(limit, offset);
    cx.load(sql).await
}

/// The row with this key, batched with the other lookups of the same model in this request.
pub async fn by_key<R: Row>(cx: &Ctx<'_>, key: Key) -> Result<Option<R>, ApiError> {
    cx.request.stats.load_requested();
    cx.batch.load_one(ByKey::<R>::new(key)).await
}

/// Identifies the field of the query document a resolver serves. Sibling rows resolve the same
/// field with the same arguments, so they share one relation query (see [`shared_query`]).
pub fn field_id(ctx: &async_graphql::Context<'_>) -> usize {
    std::ptr::from_ref(ctx.item) as usize
}

/// The relation query of document field `field`, built by the first sibling that asks and
/// shared by the others: they batch under one key and skip rebuilding the same SQL.
fn shared_query(
    cx: &Ctx<'_>,
    field: usize,
    build: impl FnOnce() -> Result<RelatedQuery, ApiError>,
) -> Result<Arc<RelatedQuery>, ApiError> {
    if let Some(query) = cx.request.queries.get(field) {
        return Ok(query);
    }
    let query = Arc::new(build()?);
    cx.request.queries.insert(field, query.clone());
    Ok(query)
}

/// The rows of one parent out of a batch, moved out when no one else holds them.
fn rows_of<R: Clone>(rows: Option<Arc<Vec<Fetched<R>>>>) -> Vec<Fetched<R>> {
    rows.map(|rows| Arc::try_unwrap(rows).unwrap_or_else(|shared| (*shared).clone()))
        .unwrap_or_default()
}

/// One page of the rows related to `parent`, batched with its siblings.
pub async fn related<R: Loadable>(
    cx: &Ctx<'_>,
    field: usize,
    select: impl FnOnce() -> Result<Select, ApiError>,
    link: Link,
    parent: Key,
    limit: Option<i32>,
    offset: Option<i32>,
) -> Result<Vec<R>, ApiError> {
    let query = shared_query(cx, field, || {
        let (take, skip) = cx.page(limit, offset)?;
        Ok(RelatedQuery::new(
            select()?,
            link,
            Vec::new(),
            false,
            skip,
            take,
            false,
        ))
    })?;
    cx.request.stats.load_requested();
    let rows = cx.batch.load_one(Related::<R>::new(query, parent)).await?;
    Ok(rows_of(rows).into_iter().map(|f| f.row).collect())
}

/// The first related row of `parent` (reverse one-to-one), batched with its siblings.
pub async fn related_one<R: Loadable>(
    cx: &Ctx<'_>,
    field: usize,
    select: impl FnOnce() -> Result<Select, ApiError>,
    link: Link,
    parent: Key,
) -> Result<Option<R>, ApiError> {
    let query = shared_query(cx, field, || {
        Ok(RelatedQuery::new(
            select()?,
            link,
            Vec::new(),
            false,
            0,
            1,
            false,
        ))
    })?;
    cx.request.stats.load_requested();
    let rows = cx.batch.load_one(Related::<R>::new(query, parent)).await?;
    Ok(rows_of(rows).into_iter().next().map(|f| f.row))
}

/// The paging arguments of a connection.
#[derive(Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// A connection page, before it is wrapped in the model's connection type.
pub struct Page<R> {
    pub edges: Vec<Edge<R>>,
    pub page_info: PageInfo,
    count: CountOf,
}

/// A row and its cursor.
pub struct Edge<R> {
    pub cursor: String,
    pub node: R,
}

/// Where a connection's rows are: paging, and the cursors of the first and last edge.
#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    /// More rows follow this page.
    pub has_next_page: bool,
    /// Rows precede this page.
    pub has_previous_page: bool,
    /// Cursor of the first edge.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge.
    pub end_cursor: Option<String>,
}

/// How `totalCount` is computed, only when selected.
enum CountOf {
    Root(Arc<Select>),
    Related(Arc<RelatedQuery>, Key),
}

impl<R> Page<R> {
    /// The number of rows matching the filter, ignoring paging.
    pub async fn total_count(&self, cx: &Ctx<'_>) -> Result<i64, ApiError> {
        match &self.count {
            CountOf::Root(select) => {
                let sql = select.json("'count', COUNT(*)", None, None, None);
                let rows: Vec<JsonRow> = cx.load(sql).await?;
                Ok(rows
                    .first()
                    .and_then(|r| r.0.get("count"))
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0))
            }
            CountOf::Related(query, parent) => {
                cx.request.stats.load_requested();
                Ok(cx
                    .batch
                    .load_one(RelatedCount::new(query.clone(), parent.clone()))
                    .await?
                    .unwrap_or(0))
            }
        }
    }
}

/// What a connection's arguments ask for.
struct Plan {
    /// Keyset conditions from `after` / `before`.
    extra: Vec<Sql>,
    /// Reading from the end (`last`).
    reverse: bool,
    size: i64,
    /// The condition "at or before `after`" (forward) / "at or after `before`" (backward): rows
    /// on the far side of the cursor the page starts from.
    behind: Option<Sql>,
}

fn plan(cx: &Ctx<'_>, select: &Select, args: PageArgs) -> Result<Plan, ApiError> {
    if args.first.is_some() && args.last.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "give `first` or `last`, not both",
        )
        .on_field("last"));
    }
    let reverse = args.last.is_some();
    let (field, size) = if reverse {
        ("last", args.last)
    } else {
        ("first", args.first)
    };
    let size = cx.request.limits.size(size, field)?;
    let after = args
        .after
        .as_deref()
        .map(|c| select.decode(c, "after"))
        .transpose()?;
    let before = args
        .before
        .as_deref()
        .map(|c| select.decode(c, "before"))
        .transpose()?;
    let mut extra = Vec::new();
    if let Some(after) = &after {
        extra.push(select.beyond(after, false));
    }
    if let Some(before) = &before {
        extra.push(select.beyond(before, true));
    }
    let behind = if reverse {
        before.map(|c| negate(&select.beyond(&c, true)))
    } else {
        after.map(|c| negate(&select.beyond(&c, false)))
    };
    Ok(Plan {
        extra,
        reverse,
        size,
        behind,
    })
}

/// Turns up to `size + 1` fetched rows (read backwards when `reverse`) into a page.
fn finish<R>(
    select: &Select,
    mut rows: Vec<Fetched<R>>,
    reverse: bool,
    size: i64,
    behind: bool,
    count: CountOf,
) -> Page<R> {
    let size = usize::try_from(size).unwrap_or(0);
    let more = rows.len() > size;
    rows.truncate(size);
    if reverse {
        rows.reverse();
    }
    let edges: Vec<Edge<R>> = rows
        .into_iter()
        .map(|f| Edge {
            cursor: select.encode(&f.cursor),
            node: f.row,
        })
        .collect();
    let (has_next_page, has_previous_page) = if reverse {
        (behind, more)
    } else {
        (more, behind)
    };
    let page_info = PageInfo {
        has_next_page,
        has_previous_page,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Page {
        edges,
        page_info,
        count,
    }
}

/// A cursor connection page over a whole table.
pub async fn connection<R: Loadable>(
    cx: &Ctx<'_>,
    select: Select,
    args: PageArgs,
) -> Result<Page<R>, ApiError> {
    let plan = plan(cx, &select, args)?;
    let window = select.window(&plan.extra, plan.reverse, plan.size + 1);
    let probe = plan
        .behind
        .as_ref()
        .map(|cond| select.exists(std::slice::from_ref(cond)));
    let (rows, behind) = cx
        .run(move |conn| {
            let rows = window.load::<Fetched<R>>(conn)?;
            let behind = match probe {
                Some(sql) => sql
                    .load::<JsonRow>(conn)?
                    .first()
                    .and_then(|r| r.0.get("found"))
                    .is_some_and(|v| v.as_bool() == Some(true) || v.as_i64() == Some(1)),
                None => false,
            };
            Ok((rows, behind))
        })
        .await?;
    let select = Arc::new(select);
    Ok(finish(
        &select,
        rows,
        plan.reverse,
        plan.size,
        behind,
        CountOf::Root(select.clone()),
    ))
}

/// A cursor connection page over the rows related to `parent`, batched with its siblings.
///
/// `hasPreviousPage` (forward) and `hasNextPage` (backward) report whether the page started from
/// a cursor, without probing what lies behind it, so sibling pages stay one statement.
pub async fn related_connection<R: Loadable>(
    cx: &Ctx<'_>,
    field: usize,
    select: impl FnOnce() -> Result<Select, ApiError>,
    link: Link,
    parent: Key,
    args: PageArgs,
) -> Result<Page<R>, ApiError> {
    let behind = if args.last.is_some() {
        args.before.is_some()
    } else {
        args.after.is_some()
    };
    let query = shared_query(cx, field, || {
        let select = select()?;
        let plan = plan(cx, &select, args)?;
        Ok(RelatedQuery::new(
            select,
            link,
            plan.extra,
            plan.reverse,
            0,
            plan.size + 1,
            true,
        ))
    })?;
    cx.request.stats.load_requested();
    let rows = rows_of(
        cx.batch
            .load_one(Related::<R>::new(query.clone(), parent.clone()))
            .await?,
    );
    Ok(finish(
        &query.select,
        rows,
        query.reverse,
        query.take - 1,
        behind,
        CountOf::Related(query.clone(), parent),
    ))
}

/// A numeric or ordered field that aggregates can be computed over.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    /// The field's name in the API (in `sum { viewCount }`).
    pub field: &'static str,
    /// Key in the result (the column name).
    pub column: &'static str,
    /// Sums and averages apply (numbers); otherwise only minimum and maximum.
    pub numeric: bool,
    /// Stored as decimal text: computed on its numeric value.
    pub decimal: bool,
}

impl Measure {
    fn expr(&self) -> String {
        let col = format!("t0.{}", ident(self.column));
        if self.decimal {
            decimal_value(&col)
        } else {
            col
        }
    }
}

/// The count and each sum, average, minimum and maximum that `wanted(function, field)` asks
/// for (see [`selected`]), so `{ count }` is one `COUNT(*)`.
pub fn aggregate_terms(
    measures: &[Measure],
    wanted: impl Fn(&str, &str) -> bool,
) -> Vec<AggregateTerm> {
    let mut terms = vec![AggregateTerm {
        name: "count".into(),
        function: "COUNT",
        argument: None,
    }];
    for m in measures {
        let functions: &[(&str, &'static str)] = if m.numeric {
            &[
                ("sum", "SUM"),
                ("avg", "AVG"),
                ("min", "MIN"),
                ("max", "MAX"),
            ]
        } else {
            &[("min", "MIN"), ("max", "MAX")]
        };
        for (name, function) in functions {
            if wanted(name, m.field) {
                terms.push(AggregateTerm {
                    name: format!("{name}.{}", m.column),
                    function,
                    argument: Some(m.expr()),
                });
            }
        }
    }
    terms
}

/// The `json_object` arguments computing [`aggregate_terms`].
pub fn aggregate_columns(measures: &[Measure], wanted: impl Fn(&str, &str) -> bool) -> String {
    AggregateTerm::columns(&aggregate_terms(measures, wanted))
}

/// What an aggregate object's selection (`selection`) asks for: `sum { viewCount }` wants
/// `("sum", "viewCount")`, through aliases and fragments.
pub fn selected<'a>(selection: &'a Lookahead<'a>) -> impl Fn(&str, &str) -> bool + 'a {
    move |function, field| selection.field(function).field(field).exists()
}

/// The aggregates `terms` (from [`aggregate_terms`]) over every row `select` matches. Sibling
/// aggregates of one table are computed together, in one scan ([`Aggregates`]).
pub async fn aggregate(
    cx: &Ctx<'_>,
    select: Select,
    terms: Vec<AggregateTerm>,
) -> Result<AggregateRow, ApiError> {
    cx.request.stats.load_requested();
    let values = cx
        .batch
        .load_one(Aggregates::new(select, terms))
        .await?
        .unwrap_or_default();
    Ok(AggregateRow(values))
}

/// The same aggregates per group of equal `group_by` columns, groups filtered by `having` and
/// ordered by their keys.
pub async fn group_by(
    cx: &Ctx<'_>,
    select: Select,
    group_by: &[&'static str],
    having: Option<Sql>,
    mut columns: String,
    limit: Option<i32>,
    offset: Option<i32>,
) -> Result<Vec<AggregateRow>, ApiError> {
    if group_by.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "`by` must name at least one field",
        )
        .on_field("by"));
    }
    let page = cx.page(limit, offset)?;
    let mut keys = Vec::new();
    for column in group_by {
        let col = format!("t0.{}", ident(column));
        columns.push_str(&format!(", 'key.{column}', {col}"));
        keys.push(col);
    }
    let sql = select.json(
        &columns,
        Some(&keys.join(", ")),
        having.as_ref(),
        Some(page),
    );
    let rows: Vec<JsonRow> = cx.load(sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| AggregateRow(Arc::new(r.0)))
        .collect())
}

/// Aggregate values by key (`count`, `sum.<column>`, `key.<column>`, ...).
#[derive(Debug, Clone)]
pub struct AggregateRow(pub Arc<serde_json::Map<String, serde_json::Value>>);

impl AggregateRow {
    fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn count(&self) -> i64 {
        self.get("count")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
    }

    pub fn float(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(serde_json::Value::as_f64)
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    }

    /// SQLite's JSON holds booleans as 0 and 1, PostgreSQL's as `true` and `false`.
    pub fn boolean(&self, key: &str) -> Option<bool> {
        self.get(key)
            .and_then(|v| v.as_bool().or_else(|| v.as_i64().map(|i| i != 0)))
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    pub fn id(&self, key: &str) -> Option<ID> {
        self.text(key).map(ID)
    }

    pub fn decimal(
        &self,
        key: &str,
        places: u32,
    ) -> Result<Option<rust_decimal::Decimal>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|e| ApiError::internal(format!("stored decimal {s:?}: {e}"))),
            Some(v) => {
                let f = v.as_f64().ok_or_else(|| {
                    ApiError::internal(format!("aggregate {key} is not a number"))
                })?;
                let d = rust_decimal::Decimal::from_f64_retain(f).ok_or_else(|| {
                    ApiError::internal(format!("aggregate {key} is out of range"))
                })?;
                Ok(Some(d.round_dp(places).normalize()))
            }
        }
    }

    pub fn big_int(&self, key: &str) -> Option<scalars::BigInt> {
        self.get(key)
            .and_then(serde_json::Value::as_i64)
            .map(scalars::BigInt)
    }

    pub fn datetime(&self, key: &str) -> Result<Option<scalars::DateTime>, ApiError> {
        self.text(key)
            .map(|s| crate::runtime::convert::stored_datetime(&s).map(scalars::DateTime))
            .transpose()
    }

    pub fn date(&self, key: &str) -> Result<Option<scalars::Date>, ApiError> {
        self.text(key)
            .map(|s| {
                chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map(scalars::Date)
                    .map_err(|e| ApiError::internal(format!("stored date {s:?}: {e}")))
            })
            .transpose()
    }

    pub fn time(&self, key: &str) -> Result<Option<scalars::Time>, ApiError> {
        self.text(key)
            .map(|s| {
                chrono::NaiveTime::parse_from_str(&s, "%H:%M:%S%.f")
                    .map(scalars::Time)
                    .map_err(|e| ApiError::internal(format!("stored time {s:?}: {e}")))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_compute_only_what_is_selected() {
        const MEASURES: &[Measure] = &[
            Measure {
                field: "viewCount",
                column: "view_count",
                numeric: true,
                decimal: false,
            },
            Measure {
                field: "publishedAt",
                column: "published_at",
                numeric: false,
                decimal: false,
            },
        ];
        assert_eq!(
            aggregate_columns(MEASURES, |_, _| false),
            "'count', COUNT(*)"
        );
        let some = aggregate_columns(MEASURES, |function, field| {
            (function, field) == ("sum", "viewCount") || (function, field) == ("max", "publishedAt")
        });
        assert_eq!(some, "'count', COUNT(*), 'sum.view_count', SUM(t0.\"view_count\"), 'max.published_at', MAX(t0.\"published_at\")");
        // Dates have no sum or average.
        let all = aggregate_columns(MEASURES, |_, _| true);
        assert!(
            all.contains("AVG(t0.\"view_count\")") && !all.contains("SUM(t0.\"published_at\")"),
            "{all}"
        );
    }
}
