//! `where:` and `orderBy:` arguments of any model, read from the GraphQL value against the
//! model's table ([`Model`]) and written as SQL by the shared filter and ordering builders.

use async_graphql::Value;

use crate::runtime::access::{self, Op};
use crate::runtime::auth::Identity;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::{
    negate, Conds, FieldFilter, JsonFilter, Ops, Quantifiers, Scope, StringFilter, SubCondition,
    Via,
};
use crate::runtime::model::{Model, RelationKind, ValueType};
use crate::runtime::order::{NullsOrder, OrderDirection, OrderKey, Picker, SortAs};
use crate::runtime::record::bind;
use crate::runtime::sql::{decimal_value, Bind, Sql};

type Object = async_graphql::indexmap::IndexMap<async_graphql::Name, Value>;

fn object<'v>(value: &'v Value, field: &str) -> Result<&'v Object, ApiError> {
    match value {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("`{field}` must be an input object"),
        )
        .on_field(field)),
    }
}

fn list(value: &Value) -> &[Value] {
    match value {
        Value::List(items) => items,
        Value::Null => &[],
        // A single value where a list is expected counts as a list of one (GraphQL input coercion).
        other => std::slice::from_ref(other),
    }
}

/// The condition a model's `where:` value stands for, on the table `scope` names. A client's
/// `where` comes with the caller's `identity`: its relation filters see only related rows the
/// caller may read. (A permission rule comes without one: rules see every row.)
pub fn condition(
    model: &'static Model,
    value: &Value,
    scope: &Scope<'_>,
    identity: Option<&Identity>,
) -> Result<Sql, ApiError> {
    let mut conds = Conds::new(scope);
    for (name, v) in object(value, "where")? {
        if *v == Value::Null {
            continue;
        }
        match name.as_str() {
            "and" => {
                for item in list(v) {
                    conds.push(condition(model, item, scope, identity)?);
                }
            }
            "or" => {
                let subs = list(v)
                    .iter()
                    .map(|item| condition(model, item, scope, identity))
                    .collect::<Result<Vec<_>, _>>()?;
                conds.push(Sql::join(&subs, " OR ", "FALSE"));
            }
            "not" => conds.push(negate(&condition(model, v, scope, identity)?)),
            other => {
                if let Some((_, field)) = model.field(other) {
                    let expr = scope.col(field.column);
                    value_filter(field.value, object(v, other)?, &expr, conds.parts())?;
                } else if let Some(relation) = model.relation(other) {
                    related(
                        &mut conds,
                        model,
                        relation.target,
                        relation.kind,
                        v,
                        identity,
                    )?;
                } else {
                    return Err(ApiError::new(
                        ErrorCode::InvalidArgument,
                        format!("`{other}` is not a filter of `{}`", model.name),
                    )
                    .on_field(other));
                }
            }
        }
    }
    Ok(conds.finish())
}

/// A filter through a relation: the related row (to-one) or `some` / `every` / `none` of them.
fn related(
    conds: &mut Conds<'_, '_>,
    model: &'static Model,
    target: &'static Model,
    kind: RelationKind,
    value: &Value,
    identity: Option<&Identity>,
) -> Result<(), ApiError> {
    let sub = |v| on(target, v, identity);
    if let RelationKind::ToOne { column, .. } = kind {
        // `author: {id: {eq: 7}}` is `author_id = 7`: the foreign key holds the related key (when
        // every related row counts: a rule's own condition, or a caller who reads them all).
        if let Some((key_type, ops)) = key_only(target, value)
            .filter(|_| identity.is_none_or(|who| access::reads_all(who, target)))
        {
            let fk = conds.scope().col(column);
            return value_filter(key_type, ops, &fk, conds.parts());
        }
        // A rule (no identity) is applied to every batch of related rows: probed row by row.
        return match identity {
            None => conds.to_one_exists_on(column, target.table, target.key, &sub(value)),
            Some(_) => conds.to_one_on(column, target.table, target.key, &sub(value)),
        };
    }
    let parts = object(value, "where")?;
    let part = |name: &str| parts.get(name).filter(|v| **v != Value::Null).map(sub);
    let (some, every, none) = (part("some"), part("every"), part("none"));
    let cases: Quantifiers<'_> = [
        some.as_ref().map(|f| f as SubCondition<'_>),
        every.as_ref().map(|f| f as SubCondition<'_>),
        none.as_ref().map(|f| f as SubCondition<'_>),
    ];
    match kind {
        RelationKind::ToOne { .. } => Ok(()),
        RelationKind::Reverse { column } | RelationKind::ToMany { column } => {
            conds.to_many_on(model.key, column, target.table, cases)
        }
        RelationKind::ManyToMany {
            join_table,
            here,
            there,
            scope,
        } => conds.via_on(
            model.key,
            Via {
                join_table,
                here,
                there,
                scope,
                table: target.table,
                key: target.key,
            },
            cases,
        ),
    }
}

/// The key operators of a to-one filter that compares only the related row's key by equality
/// (`{id: {eq: 7}}`, `{id: {in: [...]}}`), with the key's type.
fn key_only<'v>(target: &'static Model, value: &'v Value) -> Option<(ValueType, &'v Object)> {
    let Value::Object(parts) = value else {
        return None;
    };
    let mut entries = parts.iter().filter(|(_, v)| **v != Value::Null);
    let (name, ops) = entries.next()?;
    if entries.next().is_some() {
        return None;
    }
    let (_, field) = target.field(name).filter(|(_, f)| f.column == target.key)?;
    let Value::Object(ops) = ops else { return None };
    ops.iter()
        .all(|(op, v)| *v == Value::Null || matches!(op.as_str(), "eq" | "ne" | "in" | "notIn"))
        .then_some((field.value, ops))
}

/// A model's `where:` value as a condition on the alias it is given, limited to the rows the
/// caller may read.
fn on<'v>(
    model: &'static Model,
    value: &'v Value,
    identity: Option<&'v Identity>,
) -> impl Fn(&Scope<'_>) -> Result<Sql, ApiError> + 'v {
    move |scope: &Scope<'_>| {
        let cond = condition(model, value, scope, identity)?;
        let visible = identity
            .map(|who| access::rows(who, model, Op::Read, scope))
            .transpose()?
            .flatten();
        Ok(access::both(Some(cond), visible).unwrap_or_else(|| Sql::raw("TRUE")))
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn texts(value: Option<&Value>) -> Option<Vec<String>> {
    value
        .filter(|v| **v != Value::Null)
        .map(|v| list(v).iter().filter_map(|s| text(Some(s))).collect())
}

/// The operators of one value filter (`IntFilter`, `StringFilter`, ...) on the expression `expr`.
pub fn value_filter(
    ty: ValueType,
    ops: &Object,
    expr: &str,
    out: &mut Vec<Sql>,
) -> Result<(), ApiError> {
    let get = |name: &str| ops.get(name).filter(|v| **v != Value::Null);
    let is_null = match get("isNull") {
        Some(Value::Boolean(b)) => Some(*b),
        _ => None,
    };
    match ty {
        ValueType::Text => StringFilter {
            eq: text(get("eq")),
            ne: text(get("ne")),
            lt: text(get("lt")),
            lte: text(get("lte")),
            gt: text(get("gt")),
            gte: text(get("gte")),
            in_: texts(get("in")),
            not_in: texts(get("notIn")),
            is_null,
            contains: text(get("contains")),
            icontains: text(get("icontains")),
            starts_with: text(get("startsWith")),
            ends_with: text(get("endsWith")),
            iexact: text(get("iexact")),
        }
        .write(expr, out),
        ValueType::Json => JsonFilter {
            has_key: text(get("hasKey")),
            is_null,
        }
        .write(expr, out),
        _ => {
            let one = |name: &str| get(name).map(|v| bind(v, ty, name)).transpose();
            let many = |name: &str| {
                get(name)
                    .map(|v| {
                        list(v)
                            .iter()
                            .map(|item| bind(item, ty, name))
                            .collect::<Result<Vec<Bind>, _>>()
                    })
                    .transpose()
            };
            let expr = if matches!(ty, ValueType::Decimal(_)) {
                decimal_value(expr)
            } else {
                expr.to_string()
            };
            Ops {
                eq: one("eq")?,
                ne: one("ne")?,
                lt: one("lt")?,
                lte: one("lte")?,
                gt: one("gt")?,
                gte: one("gte")?,
                in_: many("in")?,
                not_in: many("notIn")?,
                is_null,
            }
            .write(&expr, out)
        }
    }
}

/// How a field of this type sorts.
pub fn sort_as(ty: ValueType) -> SortAs {
    match ty {
        ValueType::Float => SortAs::Float,
        ValueType::Decimal(_) => SortAs::Decimal,
        _ => SortAs::Plain,
    }
}

fn direction(value: &Value) -> Option<OrderDirection> {
    match value {
        Value::Enum(n) if n.as_str() == "DESC" => Some(OrderDirection::Desc),
        Value::Enum(n) if n.as_str() == "ASC" => Some(OrderDirection::Asc),
        _ => None,
    }
}

/// The keys of a model's `orderBy:` list, on the table `scope` names; `None` when it names none.
pub fn order_keys(
    model: &'static Model,
    value: Option<&Value>,
    scope: &Scope<'_>,
) -> Result<Option<Vec<OrderKey>>, ApiError> {
    let elements = value.map(list).unwrap_or_default();
    if elements.is_empty() {
        return Ok(None);
    }
    elements
        .iter()
        .map(|element| order_key(model, element, scope))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The key one `orderBy` element names.
fn order_key(
    model: &'static Model,
    element: &Value,
    scope: &Scope<'_>,
) -> Result<OrderKey, ApiError> {
    let mut picker = Picker::new(scope);
    for (name, v) in object(element, "orderBy")? {
        if *v == Value::Null {
            continue;
        }
        if name.as_str() == "nulls" {
            picker.nulls(match v {
                Value::Enum(n) if n.as_str() == "FIRST" => Some(NullsOrder::First),
                Value::Enum(n) if n.as_str() == "LAST" => Some(NullsOrder::Last),
                _ => None,
            });
        } else if let Some((_, field)) = model.field(name) {
            picker.column(
                field.name,
                field.column,
                direction(v),
                field.nullable,
                sort_as(field.value),
            );
        } else if let Some(relation) = model.relation(name) {
            if let RelationKind::ToOne { column, nullable } = relation.kind {
                let target = relation.target;
                picker.relation_on(
                    relation.name,
                    column,
                    nullable,
                    target.table,
                    target.key,
                    |inner| order_key(target, v, inner),
                )?;
            }
        }
    }
    picker.finish()
}

/// The condition of a model's `having:` value, over the groups of the outermost table.
pub fn having(model: &'static Model, value: &Value) -> Result<Sql, ApiError> {
    let counter = std::cell::Cell::new(0);
    let scope = Scope::root(&counter);
    group_condition(model, value, &scope)
}

fn group_condition(
    model: &'static Model,
    value: &Value,
    scope: &Scope<'_>,
) -> Result<Sql, ApiError> {
    let mut conds = Conds::new(scope);
    for (name, v) in object(value, "having")? {
        if *v == Value::Null {
            continue;
        }
        match name.as_str() {
            "and" => {
                for item in list(v) {
                    conds.push(group_condition(model, item, scope)?);
                }
            }
            "or" => {
                let subs = list(v)
                    .iter()
                    .map(|item| group_condition(model, item, scope))
                    .collect::<Result<Vec<_>, _>>()?;
                conds.push(Sql::join(&subs, " OR ", "FALSE"));
            }
            "not" => conds.push(negate(&group_condition(model, v, scope)?)),
            "count" => value_filter(
                ValueType::Int,
                object(v, "count")?,
                "COUNT(*)",
                conds.parts(),
            )?,
            function @ ("sum" | "avg" | "min" | "max") => {
                for (field, ops) in object(v, function)? {
                    if *ops == Value::Null {
                        continue;
                    }
                    let Some(measure) = model.measures.iter().find(|m| m.field == field.as_str())
                    else {
                        return Err(ApiError::new(
                            ErrorCode::InvalidArgument,
                            format!("`{field}` is not a measure of `{}`", model.name),
                        )
                        .on_field(field.as_str()));
                    };
                    let col = scope.col(measure.column);
                    let value = if measure.decimal {
                        decimal_value(&col)
                    } else {
                        col
                    };
                    let expr = format!("{}({value})", function.to_ascii_uppercase());
                    value_filter(
                        ValueType::Float,
                        object(ops, field.as_str())?,
                        &expr,
                        conds.parts(),
                    )?;
                }
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("`{other}` is not a condition on groups"),
                )
                .on_field(other))
            }
        }
    }
    Ok(conds.finish())
}
