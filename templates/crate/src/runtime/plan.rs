//! Mutation inputs of any model, planned from the model tables ([`Model`]): every value of a
//! `Create<Model>Input`, `Update<Model>Input` or `<Model>ToMany` checked (all problems collected,
//! nothing touched) and turned into the write engine's [`Create`], [`Update`] and [`ToMany`] plans.

use async_graphql::{InputType, Value, ID};

use crate::runtime::check::{self, Problems};
use crate::runtime::convert;
use crate::runtime::model::{Absent, Check, Field, Model, RelationKind, ValueType, Write};
use crate::runtime::record::Record;
use crate::runtime::scalars;
use crate::runtime::select::{Key, Link};
use crate::runtime::sql::Bind;
use crate::runtime::write::{Change, Changes, Create, Nested, ToMany, Update};

/// An input field as given: `None` when left out (a null counts as given).
fn given<'v>(input: &'v Value, name: &str) -> Option<&'v Value> {
    match input {
        Value::Object(fields) => fields.get(name),
        _ => None,
    }
}

/// An input field with a value (left out and null are alike, as for optional create fields).
fn present<'v>(input: &'v Value, name: &str) -> Option<&'v Value> {
    given(input, name).filter(|v| **v != Value::Null)
}

fn list(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::List(items)) => items,
        // A single value where a list is expected counts as a list of one (GraphQL input coercion).
        Some(Value::Null) | None => &[],
        Some(other) => std::slice::from_ref(other),
    }
}

fn id(value: &Value) -> ID {
    match value {
        Value::String(s) => ID(s.clone()),
        other => ID(other.to_string()),
    }
}

/// A value the schema let through but that is not of the field's type.
fn invalid(p: &mut Problems, here: &str, what: &str) -> Bind {
    p.add(here, "INVALID_VALUE", format!("`{here}` must be {what}"));
    Bind::Null
}

/// A client's value of a field, checked and in stored form.
fn value(p: &mut Problems, here: &str, field: &Field, rule: Check, value: &Value) -> Bind {
    let text = |p: &mut Problems, s: String| match rule {
        Check::Text(rules) => check::text(p, here, s, &rules),
        _ => check::text(p, here, s, &check::Text::PLAIN),
    };
    let range = match rule {
        Check::Int(r) => r,
        _ => check::Range::ANY,
    };
    match (field.value, value) {
        (ValueType::Key(_), v) if matches!(rule, Check::Text(_)) => text(p, id(v).0),
        // A number the client gives as a row's key is checked against its range too.
        (ValueType::Key(kind), v) => match (check::key(p, here, &id(v), kind), rule) {
            (Key::Int(n), Check::Int(r)) => check::int(p, here, n, &r),
            (key, _) => key.bind(),
        },
        (ValueType::Int, Value::Number(n)) => match n.as_i64() {
            Some(n) => check::int(p, here, n, &range),
            None => invalid(p, here, "an integer"),
        },
        (ValueType::BigInt, v) => match scalars::BigInt::parse(Some(v.clone())) {
            Ok(n) => check::int(p, here, n.0, &range),
            Err(_) => invalid(p, here, "a 64-bit integer"),
        },
        (ValueType::Float, Value::Number(n)) => {
            let rules = match rule {
                Check::Float(r) => r,
                _ => check::Range::ANY,
            };
            check::float(p, here, n.as_f64().unwrap_or(f64::NAN), &rules)
        }
        (ValueType::Decimal(places), v) => {
            match (rust_decimal::Decimal::parse(Some(v.clone())), rule) {
                (Ok(d), Check::Decimal(digits)) => check::decimal(p, here, d, &digits),
                (Ok(d), _) => check::decimal(
                    p,
                    here,
                    d,
                    &check::Digits {
                        max_digits: 28,
                        places,
                        range: check::Range::ANY,
                    },
                ),
                (Err(_), _) => invalid(p, here, "a decimal number"),
            }
        }
        (ValueType::Boolean, Value::Boolean(b)) => Bind::Bool(*b),
        (ValueType::Text, Value::String(s)) => {
            // Format scalars refuse a malformed value the way GraphQL coercion does, naming the field.
            fn refusal<T: InputType>(value: &Value) -> Option<String> {
                T::parse(Some(value.clone()))
                    .err()
                    .map(|e| e.into_server_error(Default::default()).message)
            }
            let refused = match rule {
                Check::Text(check::Text {
                    format: check::TextFormat::Email,
                    ..
                }) => refusal::<scalars::Email>(value),
                Check::Text(check::Text {
                    format: check::TextFormat::Url,
                    ..
                }) => refusal::<scalars::Url>(value),
                Check::Text(check::Text {
                    format: check::TextFormat::Slug,
                    ..
                }) => refusal::<scalars::Slug>(value),
                _ => None,
            };
            match refused {
                Some(message) => {
                    p.add(
                        here,
                        "INVALID_VALUE",
                        format!("Invalid value for argument \"{here}\", {message}"),
                    );
                    Bind::Null
                }
                None => text(p, s.clone()),
            }
        }
        (ValueType::Date, v) => match scalars::Date::parse(Some(v.clone())) {
            Ok(d) => Bind::Date(d.0),
            Err(_) => invalid(p, here, "a date"),
        },
        (ValueType::Time, v) => match scalars::Time::parse(Some(v.clone())) {
            Ok(t) => Bind::Time(t.0),
            Err(_) => invalid(p, here, "a time"),
        },
        (ValueType::DateTime, v) => match scalars::DateTime::parse(Some(v.clone())) {
            Ok(t) => Bind::DateTime(t.0),
            Err(_) => invalid(p, here, "a date-time"),
        },
        (ValueType::Uuid, Value::String(s)) => match uuid::Uuid::parse_str(s) {
            Ok(u) => Bind::Uuid(convert::uuid_text(u)),
            Err(_) => invalid(p, here, "a UUID"),
        },
        (ValueType::Json, v) => match v.clone().into_json() {
            Ok(json) => Bind::Json(convert::json_text(&json)),
            Err(_) => invalid(p, here, "JSON"),
        },
        (ValueType::Enum(values), Value::Enum(_) | Value::String(_)) => {
            let name = match value {
                Value::Enum(n) => n.as_str(),
                Value::String(s) => s.as_str(),
                _ => "",
            };
            match values.iter().find(|(api, _)| *api == name) {
                Some((_, db)) => Bind::Text((*db).to_string()),
                None => invalid(p, here, "one of the enum's values"),
            }
        }
        _ => invalid(p, here, "a value of the field's type"),
    }
}

/// The value an omitted field gets on create, if the server fills it in.
fn default(field: &Field, absent: Absent) -> Option<Bind> {
    Some(match absent {
        Absent::Required | Absent::Default => return None,
        Absent::Null => Bind::Null,
        Absent::Now => match field.value {
            ValueType::Date => Bind::Date(chrono::Utc::now().date_naive()),
            ValueType::Time => Bind::Time(chrono::Utc::now().time()),
            _ => Bind::DateTime(chrono::Utc::now()),
        },
        Absent::NewUuid => Bind::Uuid(convert::uuid_text(uuid::Uuid::new_v4())),
        Absent::Text(s) => stored_text(field.value, s),
        Absent::Int(n) if field.value == ValueType::Boolean => Bind::Bool(n != 0),
        Absent::Int(n) => Bind::Int(n),
        Absent::Float(f) => Bind::Float(f),
    })
}

/// A literal default given as text, bound as the field's type (PostgreSQL stores decimals, UUIDs,
/// JSON, dates and times in types of their own; the text is what SQLite stores).
fn stored_text(ty: ValueType, s: &str) -> Bind {
    match ty {
        ValueType::Decimal(_) => Bind::Decimal(s.to_string()),
        ValueType::Uuid => Bind::Uuid(s.to_string()),
        ValueType::Json => Bind::Json(s.to_string()),
        ValueType::Date => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_or_else(|_| Bind::Text(s.to_string()), Bind::Date),
        ValueType::Time => chrono::NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
            .map_or_else(|_| Bind::Text(s.to_string()), Bind::Time),
        ValueType::DateTime => {
            convert::stored_datetime(s).map_or_else(|_| Bind::Text(s.to_string()), Bind::DateTime)
        }
        _ => Bind::Text(s.to_string()),
    }
}

/// The to-one relation over a foreign-key column: the input that creates the row it points at.
fn to_one(model: &'static Model, column: &str) -> Option<(&'static str, &'static Model)> {
    model.relations.iter().find_map(|r| match r.kind {
        RelationKind::ToOne { column: c, .. } if c == column && c != model.key => {
            Some((r.name, r.target))
        }
        _ => None,
    })
}

/// Plans the insert of one `model` row from a `Create<Model>Input` value at `at`. `fixed` is the
/// foreign-key column the parent fills when the row is created under it.
pub fn create(
    model: &'static Model,
    input: &Value,
    at: &str,
    p: &mut Problems,
    fixed: Option<&'static str>,
) -> Create<Record> {
    let mut plan = Create::on(model.target(), at.to_string());
    for field in model.fields {
        let here = check::path(at, field.name);
        let v = present(input, field.name);
        let column = field.column;
        match field.write {
            Write::Auto => {}
            Write::NewUuid => plan.values.put(
                column,
                Bind::Uuid(convert::uuid_text(uuid::Uuid::new_v4())),
                false,
            ),
            Write::Named(rule) => match v {
                Some(v) => {
                    let b = value(p, &here, field, rule, v);
                    plan.values.put(column, b, true);
                }
                None => check::missing(p, &here, ""),
            },
            Write::Value {
                check: rule,
                absent,
            } => match v {
                Some(v) => {
                    let b = value(p, &here, field, rule, v);
                    plan.values.put(column, b, true);
                }
                None => match default(field, absent) {
                    Some(b) => plan.values.put(column, b, false),
                    None if matches!(absent, Absent::Required) => check::missing(p, &here, ""),
                    None => {}
                },
            },
            Write::Extends => match (v, fixed == Some(column)) {
                (Some(_), true) => p.add(
                    &here,
                    "SET_BY_PARENT",
                    format!(
                        "`{}` is set by the row this one is created under; leave it out",
                        field.name
                    ),
                ),
                (Some(v), false) => {
                    let b = value(p, &here, field, Check::None, v);
                    plan.values.put(column, b, true);
                }
                (None, true) => {}
                (None, false) => check::missing(p, &here, ""),
            },
            Write::Reference => {
                let nested = to_one(model, column)
                    .and_then(|(name, target)| Some((name, target, present(input, name)?)));
                if fixed == Some(column) && (v.is_some() || nested.is_some()) {
                    p.add(
                        &here,
                        "SET_BY_PARENT",
                        format!(
                            "`{}` is set by the row this one is created under; leave it out",
                            field.name
                        ),
                    );
                }
                match (v, nested) {
                    (Some(v), None) => {
                        let b = value(p, &here, field, Check::None, v);
                        plan.values.put(column, b, true);
                    }
                    (None, Some((name, target, v))) => {
                        let parent = create(target, v, &check::path(at, name), p, None);
                        plan.parents.push((column, Box::new(parent)));
                    }
                    (Some(_), Some((name, _, _))) => {
                        p.add(
                            &check::path(at, name),
                            "ONE_OF",
                            format!("give `{}` or `{name}`, not both", field.name),
                        );
                    }
                    (None, None) if field.nullable => plan.values.put(column, Bind::Null, false),
                    (None, None) => {
                        if fixed != Some(column) {
                            let how = match to_one(model, column) {
                                Some((name, _)) => format!(
                                    ": give `{}`, or create the row with `{name}`",
                                    field.name
                                ),
                                None => String::new(),
                            };
                            check::missing(p, &here, &how);
                        }
                    }
                }
            }
        }
    }
    plan.children
        .extend(relation_writes(model, input, at, p, true));
    plan.check_rules(p);
    plan
}

/// Plans an update of `model` rows from an `Update<Model>Input` value at `at`.
pub fn update(model: &'static Model, input: &Value, at: &str, p: &mut Problems) -> Update<Record> {
    let mut plan = Update::on(model.target(), at.to_string());
    for field in model.fields {
        let here = check::path(at, field.name);
        let v = given(input, field.name);
        let column = field.column;
        let null = |p: &mut Problems, changes: &mut Changes| {
            if field.nullable {
                changes.put(column, Change::To(Bind::Null));
            } else {
                check::not_null(p, &here);
            }
        };
        match field.write {
            Write::Auto | Write::NewUuid | Write::Named(_) | Write::Extends => {}
            Write::Value { check: rule, .. } => match v {
                None => {}
                Some(Value::Null) => null(p, &mut plan.changes),
                Some(v) if counts(field.value) => {
                    let change = counter(p, &here, field, rule, v);
                    if let Some(change) = change {
                        plan.changes.put(column, change);
                    }
                }
                Some(v) => {
                    let b = value(p, &here, field, rule, v);
                    plan.changes.put(column, Change::To(b));
                }
            },
            Write::Reference => {
                let nested = to_one(model, column)
                    .and_then(|(name, target)| Some((name, target, present(input, name)?)));
                match (v, nested) {
                    (None, None) => {}
                    (Some(Value::Null), None) => null(p, &mut plan.changes),
                    (Some(v), None) => {
                        let b = value(p, &here, field, Check::None, v);
                        plan.changes.put(column, Change::To(b));
                    }
                    (None, Some((name, target, v))) => {
                        let parent = create(target, v, &check::path(at, name), p, None);
                        plan.parents.push((column, Box::new(parent)));
                    }
                    (Some(_), Some((name, _, _))) => {
                        p.add(
                            &check::path(at, name),
                            "ONE_OF",
                            format!("give `{}` or `{name}`, not both", field.name),
                        );
                    }
                }
            }
        }
    }
    plan.children
        .extend(relation_writes(model, input, at, p, false));
    plan
}

/// Whether updates of a value of this type take `{set: v}` or `{increment: n}`.
fn counts(ty: ValueType) -> bool {
    matches!(
        ty,
        ValueType::Int | ValueType::BigInt | ValueType::Float | ValueType::Decimal(_)
    )
}

/// The change an `IntUpdate`-like value (`{set}` or `{increment}`) asks for.
fn counter(
    p: &mut Problems,
    here: &str,
    field: &'static Field,
    rule: Check,
    v: &Value,
) -> Option<Change> {
    match (present(v, "set"), present(v, "increment")) {
        (Some(set), None) => Some(Change::To(value(p, here, field, rule, set))),
        (None, Some(by)) => match (field.value, rule) {
            (ValueType::Decimal(places), rule) => {
                let digits = match rule {
                    Check::Decimal(d) => d,
                    _ => check::Digits {
                        max_digits: 28,
                        places,
                        range: check::Range::ANY,
                    },
                };
                match rust_decimal::Decimal::parse(Some(by.clone())) {
                    Ok(by) => Some(Change::AddExact {
                        by,
                        digits,
                        field: field.name,
                    }),
                    Err(_) => {
                        invalid(p, here, "a decimal number");
                        None
                    }
                }
            }
            (ValueType::Float, _) => match by {
                Value::Number(n) => Some(Change::Add(Bind::Float(n.as_f64().unwrap_or(f64::NAN)))),
                _ => {
                    invalid(p, here, "a number");
                    None
                }
            },
            _ => match scalars::BigInt::parse(Some(by.clone())) {
                Ok(n) => Some(Change::Add(Bind::Int(n.0))),
                Err(_) => {
                    invalid(p, here, "an integer");
                    None
                }
            },
        },
        _ => {
            p.add(
                here,
                "ONE_OF",
                format!(
                    "`{}` takes exactly one of `set` and `increment`",
                    field.name
                ),
            );
            None
        }
    }
}

/// The nested writes an input asks for through `model`'s to-many and reverse one-to-one relations.
fn relation_writes(
    model: &'static Model,
    input: &Value,
    at: &str,
    p: &mut Problems,
    creating: bool,
) -> Vec<Box<dyn Nested>> {
    let mut out: Vec<Box<dyn Nested>> = Vec::new();
    for r in model.relations {
        let Some(v) = present(input, r.name) else {
            continue;
        };
        let here = check::path(at, r.name);
        let (link, nullable) = match r.kind {
            RelationKind::ToOne { .. } => continue,
            RelationKind::Reverse { column } => {
                let mut nested = ToMany::<Record>::on(
                    r.target.target(),
                    here.clone(),
                    Link::Column(column),
                    false,
                );
                nested
                    .create
                    .push(create(r.target, v, &here, p, Some(column)));
                out.push(Box::new(nested));
                continue;
            }
            RelationKind::ToMany { column } => (
                Link::Column(column),
                r.target
                    .fields
                    .iter()
                    .any(|f| f.column == column && f.nullable),
            ),
            RelationKind::ManyToMany {
                join_table,
                here: parent,
                there,
                scope,
            } => (
                Link::Join {
                    table: join_table,
                    parent,
                    child: there,
                    scope,
                },
                true,
            ),
        };
        out.push(Box::new(to_many(
            r.target, v, &here, p, link, nullable, creating,
        )));
    }
    out
}

/// Plans the writes of a `<Model>ToMany` value to the relation `link` of a row being created
/// (`creating`) or updated.
fn to_many(
    target: &'static Model,
    input: &Value,
    at: &str,
    p: &mut Problems,
    link: Link,
    nullable: bool,
    creating: bool,
) -> ToMany<Record> {
    let mut plan = ToMany::<Record>::on(target.target(), at.to_string(), link, nullable);
    let ops = ["create", "connect", "disconnect", "set", "update", "delete"];
    p.rows(ops.iter().map(|op| list(present(input, op)).len()).sum());
    let keys = |p: &mut Problems, op: &str| -> Vec<(String, Key)> {
        let base = check::path(at, op);
        list(present(input, op))
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let here = check::item(&base, i);
                let key = check::key(p, &here, &id(v), target.key_kind);
                (here, key)
            })
            .collect()
    };
    plan.connect = keys(p, "connect");
    plan.disconnect = keys(p, "disconnect");
    plan.delete = keys(p, "delete");
    let set = keys(p, "set");
    plan.set = present(input, "set").is_some().then_some(set);
    let fixed = plan.fixed_column();
    for (i, item) in list(present(input, "create")).iter().enumerate() {
        plan.create.push(create(
            target,
            item,
            &check::item(&check::path(at, "create"), i),
            p,
            fixed,
        ));
    }
    for (i, item) in list(present(input, "update")).iter().enumerate() {
        let here = check::item(&check::path(at, "update"), i);
        let key = check::key(
            p,
            &check::path(&here, "id"),
            &id(given(item, "id").unwrap_or(&Value::Null)),
            target.key_kind,
        );
        let update = update(
            target,
            given(item, "input").unwrap_or(&Value::Null),
            &check::path(&here, "input"),
            p,
        );
        plan.update.push((here, key, update));
    }
    plan.check(p, creating);
    plan
}
