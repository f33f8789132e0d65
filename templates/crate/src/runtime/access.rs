//! Permissions: which rows a caller's role may read and write, as SQL conditions inside the
//! statements that read and write them (see [`Access`] in the model tables).
//!
//! A grant's row condition is a `where` value in the API's own language, interpreted by the
//! same code as a client's `where` (`runtime::input`), with the caller's claims put in place of
//! `{"claim": name}`. A condition that needs a claim the caller does not have, or whose claim
//! does not parse as the field's type, matches no row.
//! Which fields a role may name at all is settled earlier, by the schema it is served.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use async_graphql::Value;

use crate::runtime::auth::Identity;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::Scope;
use crate::runtime::input;
use crate::runtime::model::{Access, Grant, Model, RelationKind, ValueType};
use crate::runtime::sql::Sql;

/// An operation on rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Create,
    Update,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// What a role's grant says about one operation.
enum Granted {
    /// The manifest declares no roles.
    Open,
    Denied,
    Yes(&'static Grant),
}

fn granted(identity: &Identity, model: &Model, op: Op) -> Granted {
    let Access::Roles(roles) = model.access else {
        return Granted::Open;
    };
    let role = identity.role();
    let Some(grants) = roles.iter().find(|g| g.role == role) else {
        return Granted::Denied;
    };
    let grant = match op {
        Op::Read => &grants.read,
        Op::Create => &grants.create,
        Op::Update => &grants.update,
        Op::Delete => &grants.delete,
    };
    grant.as_ref().map_or(Granted::Denied, Granted::Yes)
}

fn forbidden(model: &Model, op: Op) -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        format!("this role may not {} `{}` rows", op.name(), model.name),
    )
}

/// Whether the caller may read every row of `model`.
pub fn reads_all(identity: &Identity, model: &Model) -> bool {
    match granted(identity, model, Op::Read) {
        Granted::Open => true,
        Granted::Denied => false,
        Granted::Yes(grant) => grant.rows.is_none(),
    }
}

/// The rows of `model` the caller may `op`, as a condition on the table `scope` names; `None`:
/// every row. A read that is not granted reaches no row; a write that is not granted is refused.
/// Writes reach only rows the caller may also read.
pub fn rows(
    identity: &Identity,
    model: &'static Model,
    op: Op,
    scope: &Scope<'_>,
) -> Result<Option<Sql>, ApiError> {
    let own = match granted(identity, model, op) {
        Granted::Open => return Ok(None),
        Granted::Denied if op == Op::Read => return Ok(Some(Sql::raw("FALSE"))),
        Granted::Denied => return Err(forbidden(model, op)),
        Granted::Yes(grant) => condition(identity, model, grant.rows, scope)?,
    };
    if op == Op::Read {
        return Ok(own);
    }
    let read = rows(identity, model, Op::Read, scope)?;
    Ok(both(own, read))
}

/// The rows of `model` the caller may read among the children (through the foreign key
/// `column`) of rows it may read: [`rows`], without testing again what the parents' own rule
/// already guarantees (a comment's `post: {status: published}` under published posts).
pub fn read_under(
    identity: &Identity,
    model: &'static Model,
    column: &str,
    scope: &Scope<'_>,
) -> Result<Option<Sql>, ApiError> {
    if let Granted::Yes(grant) = granted(identity, model, Op::Read) {
        if let Some((_, rule)) = grant.under.iter().find(|(c, _)| *c == column) {
            return condition(identity, model, *rule, scope);
        }
    }
    rows(identity, model, Op::Read, scope)
}

/// What rows `op` (create or update) writes must satisfy afterwards, as a condition on the table
/// `scope` names: the grant's `check`, and that the caller may read them.
pub fn check(
    identity: &Identity,
    model: &'static Model,
    op: Op,
    scope: &Scope<'_>,
) -> Result<Option<Sql>, ApiError> {
    let own = match granted(identity, model, op) {
        Granted::Open => return Ok(None),
        Granted::Denied => return Err(forbidden(model, op)),
        Granted::Yes(grant) => condition(identity, model, grant.check, scope)?,
    };
    Ok(both(own, rows(identity, model, Op::Read, scope)?))
}

/// [`rows`] on the outermost table of a statement of its own (`t0`).
pub fn rows_t0(
    identity: &Identity,
    model: &'static Model,
    op: Op,
) -> Result<Option<Sql>, ApiError> {
    let counter = std::cell::Cell::new(0);
    rows(identity, model, op, &Scope::root(&counter))
}

/// [`check`] on the outermost table of a statement of its own (`t0`).
pub fn check_t0(
    identity: &Identity,
    model: &'static Model,
    op: Op,
) -> Result<Option<Sql>, ApiError> {
    let counter = std::cell::Cell::new(0);
    check(identity, model, op, &Scope::root(&counter))
}

/// The foreign keys of `model` whose referenced rows the caller may read only in part, with the
/// condition (over `t0`) on those rows: writes treat a row it may not read as missing.
pub fn seen(
    identity: &Identity,
    model: &'static Model,
) -> Result<Vec<(&'static str, Sql)>, ApiError> {
    let mut seen = Vec::new();
    for relation in model.relations {
        if let RelationKind::ToOne { column, .. } = relation.kind {
            if !reads_all(identity, relation.target) {
                if let Some(visible) = rows_t0(identity, relation.target, Op::Read)? {
                    seen.push((column, visible));
                }
            }
        }
    }
    Ok(seen)
}

/// The input fields a create sets from the caller's claims, as GraphQL values of their fields.
pub fn presets(
    identity: &Identity,
    model: &'static Model,
) -> Result<Vec<(&'static str, Value)>, ApiError> {
    let grant = match granted(identity, model, Op::Create) {
        Granted::Open => return Ok(Vec::new()),
        Granted::Denied => return Err(forbidden(model, Op::Create)),
        Granted::Yes(grant) => grant,
    };
    grant
        .preset
        .iter()
        .map(|(field, claim)| {
            let ty = model.field(field).map_or(ValueType::Text, |(_, f)| f.value);
            claim_value(identity, claim, ty)
                .map(|v| (*field, v))
                .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, format!("the caller's token has no `{claim}` claim, which creating `{}` rows needs", model.name)))
        })
        .collect()
}

/// Both conditions (either alone when the other is absent).
pub fn both(a: Option<Sql>, b: Option<Sql>) -> Option<Sql> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Sql::join(&[a, b], " AND ", "TRUE")),
        (a, b) => a.or(b),
    }
}

/// Rule texts parsed once per process.
static PARSED: LazyLock<RwLock<HashMap<usize, Arc<serde_json::Value>>>> =
    LazyLock::new(Default::default);

fn parsed(text: &'static str) -> Arc<serde_json::Value> {
    let key = text.as_ptr() as usize;
    if let Some(v) = PARSED.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return v.clone();
    }
    // Generated from a validated manifest: the text is JSON.
    let value = Arc::new(serde_json::from_str(text).unwrap_or(serde_json::Value::Bool(false)));
    PARSED
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, value.clone());
    value
}

/// A rule text as a condition; `None` when there is no rule.
fn condition(
    identity: &Identity,
    model: &'static Model,
    text: Option<&'static str>,
    scope: &Scope<'_>,
) -> Result<Option<Sql>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    match with_claims(identity, model, &parsed(text)) {
        // The rule's own values were checked when the crate was generated: a value that does not
        // parse is a claim of the wrong kind (`sub: "1"` against a UUID key), which no row matches.
        Some(value) => Ok(Some(
            input::condition(model, &value, scope, None).unwrap_or_else(|_| Sql::raw("FALSE")),
        )),
        // A claim the rule needs is missing: no row matches.
        None => Ok(Some(Sql::raw("FALSE"))),
    }
}

/// The rule `rule` on `model` with the caller's claims in place, as a GraphQL value; `None` if
/// a claim is missing.
fn with_claims(
    identity: &Identity,
    model: &'static Model,
    rule: &serde_json::Value,
) -> Option<Value> {
    let serde_json::Value::Object(entries) = rule else {
        return Some(Value::from_json(rule.clone()).unwrap_or(Value::Null));
    };
    let mut out = async_graphql::indexmap::IndexMap::new();
    for (key, v) in entries {
        let value = match key.as_str() {
            "and" | "or" => match v {
                serde_json::Value::Array(items) => Value::List(
                    items
                        .iter()
                        .map(|item| with_claims(identity, model, item))
                        .collect::<Option<Vec<_>>>()?,
                ),
                one => with_claims(identity, model, one)?,
            },
            "not" => with_claims(identity, model, v)?,
            name => {
                if let Some((_, field)) = model.field(name) {
                    operators(identity, v, field.value)?
                } else if let Some(relation) = model.relation(name) {
                    match (relation.kind, v) {
                        (RelationKind::ToOne { .. }, _) => {
                            with_claims(identity, relation.target, v)?
                        }
                        (_, serde_json::Value::Object(parts)) => {
                            let mut quantified = async_graphql::indexmap::IndexMap::new();
                            for (q, cond) in parts {
                                quantified.insert(
                                    async_graphql::Name::new(q),
                                    with_claims(identity, relation.target, cond)?,
                                );
                            }
                            Value::Object(quantified)
                        }
                        _ => Value::Null,
                    }
                } else {
                    Value::Null
                }
            }
        };
        out.insert(async_graphql::Name::new(key), value);
    }
    Some(Value::Object(out))
}

/// A field's operators with claims in place.
fn operators(identity: &Identity, ops: &serde_json::Value, ty: ValueType) -> Option<Value> {
    let serde_json::Value::Object(entries) = ops else {
        return Value::from_json(ops.clone()).ok();
    };
    let mut out = async_graphql::indexmap::IndexMap::new();
    for (op, v) in entries {
        let value = match claim_name(v) {
            Some(claim) if matches!(op.as_str(), "in" | "notIn") => match identity.claim(claim)? {
                serde_json::Value::Array(items) => Value::List(
                    items
                        .iter()
                        .map(|item| typed(item, ty))
                        .collect::<Option<Vec<_>>>()?,
                ),
                one => Value::List(vec![typed(one, ty)?]),
            },
            Some(claim) => claim_value(identity, claim, ty)?,
            None => Value::from_json(v.clone()).ok()?,
        };
        out.insert(async_graphql::Name::new(op), value);
    }
    Some(Value::Object(out))
}

fn claim_name(v: &serde_json::Value) -> Option<&str> {
    match v {
        serde_json::Value::Object(o) if o.len() == 1 => o.get("claim")?.as_str(),
        _ => None,
    }
}

fn claim_value(identity: &Identity, claim: &str, ty: ValueType) -> Option<Value> {
    typed(identity.claim(claim)?, ty)
}

/// A claim's JSON value as a value of a field of type `ty` (tokens often carry ids as strings).
fn typed(value: &serde_json::Value, ty: ValueType) -> Option<Value> {
    use serde_json::Value as J;
    match (ty, value) {
        (_, J::Null) => None,
        (ValueType::Int | ValueType::BigInt | ValueType::Float, J::String(s)) => {
            s.parse::<i64>().ok().map(Value::from).or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .and_then(|f| Value::from_json(J::from(f)).ok())
            })
        }
        (ValueType::Boolean, J::Bool(b)) => Some(Value::Boolean(*b)),
        (ValueType::Int | ValueType::BigInt | ValueType::Float | ValueType::Json, v) => {
            Value::from_json(v.clone()).ok()
        }
        (_, J::String(s)) => Some(Value::String(s.clone())),
        (_, J::Number(n)) => Some(Value::String(n.to_string())),
        _ => None,
    }
}
