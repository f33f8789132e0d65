//! Rows of any model as data: the stored values of a [`Model`]'s fields, read without a Rust type
//! per model, and how each value becomes a GraphQL value or a bound SQL parameter.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Name, ScalarType, Value};
use diesel::deserialize::QueryableByName;
use diesel::pg::Pg;
use diesel::row::{Field as _, NamedRow};
use diesel::sqlite::{Sqlite, SqliteType};

use crate::runtime::access::{self, Op};
use crate::runtime::auth::Identity;
use crate::runtime::batch::Batcher;
use crate::runtime::convert;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::Scope;
use crate::runtime::model::{Model, RelationKind, ValueType};
use crate::runtime::scalars;
use crate::runtime::select::{Key, KeyKind};
use crate::runtime::sql::{ident, in_keys, Bind, Sql};
use crate::runtime::write::{Target, Written};

/// One stored value, as SQLite holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A row of some model: its fields' stored values, in the model's field order, and the rows of
/// the to-one relations read with it (see [`ModelKey::with`]).
#[derive(Debug, Clone)]
pub struct Record(Arc<Vec<Stored>>, Option<Arc<Joined>>);

/// The related rows read with a row, by the relation's index among its model's relations: `None`
/// where no row is related, or none the caller may read.
pub type Joined = Vec<(usize, Option<Record>)>;

impl Record {
    /// The value of the field at `index`.
    pub fn get(&self, index: usize) -> &Stored {
        self.0.get(index).unwrap_or(&Stored::Null)
    }

    /// The row of the relation at `relation` (its index among the model's relations), when it was
    /// read with this one.
    pub fn joined(&self, relation: usize) -> Option<Option<&Record>> {
        let joined = self.1.as_ref()?;
        let (_, row) = joined.iter().find(|(r, _)| *r == relation)?;
        Some(row.as_ref())
    }

    /// A row read with the rows of `relations` (to-one relations of `model`) after its own
    /// columns, each as many as its target model has fields: split into the row and theirs.
    fn split(self, model: &Model, relations: &[usize]) -> Record {
        if relations.is_empty() {
            return self;
        }
        let mut values = Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone());
        let mut rest = values.split_off(model.fields.len().min(values.len()));
        let mut joined = Vec::with_capacity(relations.len());
        for &relation in relations {
            let Some((target, _)) = to_one(model, relation) else {
                continue;
            };
            let tail = rest.split_off(target.fields.len().min(rest.len()));
            let row = std::mem::replace(&mut rest, tail);
            let present = !matches!(row.get(target.key_index()), None | Some(Stored::Null));
            joined.push((relation, present.then(|| Record(Arc::new(row), None))));
        }
        Record(Arc::new(values), Some(Arc::new(joined)))
    }

    /// This row's primary key, a row of `model`.
    pub fn key(&self, model: &Model) -> Key {
        self.key_at(model.key_index(), model.key_kind)
    }

    fn key_at(&self, index: usize, kind: KeyKind) -> Key {
        let stored = self.get(index);
        Key::stored(stored, kind).unwrap_or_else(|| Key::Text(format!("{stored:?}")))
    }
}

/// Writes return a model's fields in order, as reads do.
impl Written for Record {
    fn written_key(&self, target: &Target) -> Key {
        self.key_at(target.key_position, target.key_kind)
    }
}

/// Reads every column of the result except the runtime's own (`gqlauto_*`), in order.
impl QueryableByName<Sqlite> for Record {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> diesel::deserialize::Result<Self> {
        let count = diesel::row::Row::field_count(row);
        let mut values = Vec::with_capacity(count);
        for i in 0..count {
            let Some(field) = diesel::row::Row::get(row, i) else {
                break;
            };
            if field
                .field_name()
                .is_some_and(|name| name.starts_with("gqlauto_"))
            {
                continue;
            }
            values.push(match field.value() {
                None => Stored::Null,
                Some(mut v) => match v.value_type() {
                    Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
                        Stored::Int(v.read_long())
                    }
                    Some(SqliteType::Double | SqliteType::Float) => Stored::Float(v.read_double()),
                    Some(SqliteType::Binary) => Stored::Blob(v.read_blob().to_vec()),
                    Some(SqliteType::Text) => Stored::Text(v.read_text().to_string()),
                    None => Stored::Null,
                },
            });
        }
        Ok(Record(Arc::new(values), None))
    }
}

/// PostgreSQL's values, read by their type, become what SQLite stores for the same field, so
/// everything after the read is the same code: booleans as 0 and 1; decimals, UUIDs, JSON, dates
/// and times as the text SQLite holds.
impl QueryableByName<Pg> for Record {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        let count = diesel::row::Row::field_count(row);
        let mut values = Vec::with_capacity(count);
        for i in 0..count {
            let Some(field) = diesel::row::Row::get(row, i) else {
                break;
            };
            if field
                .field_name()
                .is_some_and(|name| name.starts_with("gqlauto_"))
            {
                continue;
            }
            values.push(match field.value() {
                None => Stored::Null,
                Some(v) => pg_value(v.get_oid().into(), v.as_bytes())?,
            });
        }
        Ok(Record(Arc::new(values), None))
    }
}

/// One PostgreSQL value in its binary form, by type OID.
fn pg_value(oid: u32, bytes: &[u8]) -> diesel::deserialize::Result<Stored> {
    fn fixed<const N: usize>(bytes: &[u8]) -> diesel::deserialize::Result<[u8; N]> {
        bytes
            .try_into()
            .map_err(|_| format!("expected {N} bytes, got {}", bytes.len()).into())
    }
    let epoch = || chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
    let text = |b: &[u8]| -> diesel::deserialize::Result<String> {
        Ok(std::str::from_utf8(b)?.to_string())
    };
    Ok(match oid {
        16 => Stored::Int(i64::from(bytes.first().copied().unwrap_or(0) != 0)),
        21 => Stored::Int(i16::from_be_bytes(fixed(bytes)?).into()),
        23 => Stored::Int(i32::from_be_bytes(fixed(bytes)?).into()),
        20 => Stored::Int(i64::from_be_bytes(fixed(bytes)?)),
        700 => Stored::Float(f32::from_be_bytes(fixed(bytes)?).into()),
        701 => Stored::Float(f64::from_be_bytes(fixed(bytes)?)),
        1700 => Stored::Text(numeric_text(bytes)?),
        2950 => Stored::Text(convert::uuid_text(uuid::Uuid::from_bytes(fixed(bytes)?))),
        // jsonb: a version byte, then the text.
        3802 => Stored::Text(text(bytes.get(1..).unwrap_or_default())?),
        1082 => {
            let days = i32::from_be_bytes(fixed(bytes)?);
            let date = epoch() + chrono::Duration::days(days.into());
            Stored::Text(date.format("%Y-%m-%d").to_string())
        }
        1083 => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            let time = chrono::NaiveTime::MIN + chrono::Duration::microseconds(micros);
            Stored::Text(time.format("%H:%M:%S%.f").to_string())
        }
        1114 | 1184 => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            let at = epoch().and_hms_opt(0, 0, 0).expect("valid time")
                + chrono::Duration::microseconds(micros);
            Stored::Text(timestamp_text(at))
        }
        17 => Stored::Blob(bytes.to_vec()),
        // text, varchar, char, name, json, unknown: the text itself.
        _ => Stored::Text(text(bytes)?),
    })
}

/// `2024-01-02 03:04:05.5+00:00`, as `%Y-%m-%d %H:%M:%S%.f+00:00` writes it, without parsing a
/// format string for every value (a list of rows has many).
fn timestamp_text(at: chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    if !(0..=9999).contains(&at.year()) {
        return at.format("%Y-%m-%d %H:%M:%S%.f+00:00").to_string();
    }
    let mut out = String::with_capacity(32);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    let nanos = at.nanosecond();
    let _ = match nanos {
        0 => Ok(()),
        n if n % 1_000_000 == 0 => write!(out, ".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => write!(out, ".{:06}", n / 1_000),
        n => write!(out, ".{n:09}"),
    };
    out.push_str("+00:00");
    out
}

/// A NUMERIC in PostgreSQL's binary form (base-10000 digits with a weight and a display scale) as
/// decimal text with exactly that scale.
fn numeric_text(bytes: &[u8]) -> diesel::deserialize::Result<String> {
    let word = |i: usize| -> diesel::deserialize::Result<i16> {
        bytes
            .get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let (count, weight, sign, scale) = (
        word(0)?.max(0) as usize,
        word(1)?,
        word(2)? as u16,
        word(3)?.max(0) as usize,
    );
    if sign == 0xC000 {
        return Err("NaN is not a number a field holds".into());
    }
    let digits: Vec<i16> = (0..count).map(|i| word(4 + i)).collect::<Result<_, _>>()?;
    let group = |i: i64| -> i16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    // Groups 0..=weight are the integer part.
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&group(0).to_string());
        for i in 1..=i64::from(weight) {
            out.push_str(&format!("{:04}", group(i)));
        }
    }
    if scale > 0 {
        out.push('.');
        let mut fraction = String::new();
        let mut i = i64::from(weight) + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        out.push_str(&fraction[..scale]);
    }
    Ok(out)
}

fn corrupt(what: &str, stored: &Stored) -> ApiError {
    ApiError::internal(format!("stored {what} {stored:?} cannot be read"))
}

fn text<'s>(stored: &'s Stored, what: &str) -> Result<&'s str, ApiError> {
    match stored {
        Stored::Text(s) => Ok(s),
        other => Err(corrupt(what, other)),
    }
}

fn int(stored: &Stored, what: &str) -> Result<i64, ApiError> {
    match stored {
        Stored::Int(v) => Ok(*v),
        // A whole number in a REAL column (rows written by other programs).
        Stored::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(*f as i64),
        other => Err(corrupt(what, other)),
    }
}

/// A stored value as the GraphQL value of a field of type `ty` (null stays null).
pub fn output(stored: &Stored, ty: ValueType) -> Result<Value, ApiError> {
    if *stored == Stored::Null {
        return Ok(Value::Null);
    }
    Ok(match ty {
        ValueType::Key(_) => Value::String(match stored {
            Stored::Int(v) => v.to_string(),
            other => text(other, "key")?.to_string(),
        }),
        ValueType::Int => Value::Number(int(stored, "integer")?.into()),
        ValueType::BigInt => scalars::BigInt(int(stored, "integer")?).to_value(),
        ValueType::Float => match stored {
            Stored::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            // Floats always read as floats (`55.0`), whatever SQLite computed them as.
            Stored::Int(v) => {
                serde_json::Number::from_f64(*v as f64).map_or(Value::Null, Value::Number)
            }
            other => return Err(corrupt("number", other)),
        },
        ValueType::Decimal(places) => {
            let stored_text = match stored {
                Stored::Int(v) => v.to_string(),
                Stored::Float(f) => f.to_string(),
                other => text(other, "decimal")?.to_string(),
            };
            convert::decimal_out(&stored_text, places)?.to_value()
        }
        ValueType::Boolean => Value::Boolean(int(stored, "boolean")? != 0),
        ValueType::Text => Value::String(text(stored, "text")?.to_string()),
        ValueType::DateTime => {
            scalars::DateTime(convert::stored_datetime(text(stored, "date-time")?)?).to_value()
        }
        ValueType::Date => {
            let s = text(stored, "date")?;
            let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| corrupt("date", stored))?;
            scalars::Date(d).to_value()
        }
        ValueType::Time => {
            let s = text(stored, "time")?;
            let t = chrono::NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                .map_err(|_| corrupt("time", stored))?;
            scalars::Time(t).to_value()
        }
        ValueType::Uuid => convert::uuid_out(text(stored, "uuid")?)?.to_value(),
        // As the JSON itself (an object stays an object), not as its text.
        ValueType::Json => Value::from_json(convert::json_out(text(stored, "json")?)?.0)
            .map_err(|e| ApiError::internal(format!("stored json: {e}")))?,
        ValueType::Enum(values) => {
            let s = text(stored, "enum value")?;
            let (name, _) = values.iter().find(|(_, db)| *db == s).ok_or_else(|| {
                ApiError::internal(format!("unknown enum value {s:?} in the database"))
            })?;
            Value::Enum(Name::new(name))
        }
    })
}

fn invalid(field: &str, what: &str) -> ApiError {
    ApiError::invalid(field, format!("`{field}` must be {what}"))
}

/// A GraphQL input value of type `ty` as the parameter compared with the stored column.
/// `field` names the argument in errors.
pub fn bind(value: &Value, ty: ValueType, field: &str) -> Result<Bind, ApiError> {
    if *value == Value::Null {
        return Ok(Bind::Null);
    }
    let parsed = |r: Result<Bind, String>| r.map_err(|what| invalid(field, &what));
    match ty {
        ValueType::Key(kind) => {
            let id = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(invalid(field, "an id")),
            };
            kind.parse(&id).map(|k| k.bind()).ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidId, format!("`{id}` is not a valid id"))
                    .on_field(field)
            })
        }
        ValueType::Int => parsed(match value {
            Value::Number(n) => n
                .as_i64()
                .map(Bind::Int)
                .ok_or_else(|| "an integer".to_string()),
            _ => Err("an integer".into()),
        }),
        ValueType::BigInt => parsed(
            scalars::BigInt::parse(value.clone())
                .map(|v| Bind::Int(v.0))
                .map_err(|e| e.into_server_error(Default::default()).message),
        ),
        ValueType::Float => parsed(match value {
            Value::Number(n) => n
                .as_f64()
                .map(Bind::Float)
                .ok_or_else(|| "a number".to_string()),
            _ => Err("a number".into()),
        }),
        ValueType::Decimal(_) => {
            let d = rust_decimal::Decimal::parse(value.clone())
                .map_err(|_| invalid(field, "a decimal number"))?;
            Ok(Bind::Numeric(d.to_string()))
        }
        ValueType::Boolean => match value {
            Value::Boolean(b) => Ok(Bind::Bool(*b)),
            _ => Err(invalid(field, "true or false")),
        },
        ValueType::Text => match value {
            Value::String(s) => Ok(Bind::Text(s.clone())),
            _ => Err(invalid(field, "a string")),
        },
        ValueType::Json => match value {
            Value::String(s) => Ok(Bind::Json(s.clone())),
            _ => Err(invalid(field, "a string")),
        },
        ValueType::DateTime => parsed(
            scalars::DateTime::parse(value.clone())
                .map(|v| Bind::DateTime(v.0))
                .map_err(|e| e.into_server_error(Default::default()).message),
        ),
        ValueType::Date => parsed(
            scalars::Date::parse(value.clone())
                .map(|v| Bind::Date(v.0))
                .map_err(|e| e.into_server_error(Default::default()).message),
        ),
        ValueType::Time => parsed(
            scalars::Time::parse(value.clone())
                .map(|v| Bind::Time(v.0))
                .map_err(|e| e.into_server_error(Default::default()).message),
        ),
        ValueType::Uuid => match value {
            Value::String(s) => uuid::Uuid::parse_str(s)
                .map(|u| Bind::Uuid(convert::uuid_text(u)))
                .map_err(|_| invalid(field, "a UUID")),
            _ => Err(invalid(field, "a UUID")),
        },
        ValueType::Enum(values) => {
            let name = match value {
                Value::Enum(n) => n.as_str(),
                Value::String(s) => s.as_str(),
                _ => return Err(invalid(field, "an enum value")),
            };
            values
                .iter()
                .find(|(api, _)| *api == name)
                .map(|(_, db)| Bind::Text((*db).to_string()))
                .ok_or_else(|| invalid(field, "one of the enum's values"))
        }
    }
}

/// A row of `model` by primary key: what to-one relations and lookups by id batch on.
#[derive(Clone)]
pub struct ModelKey {
    pub model: &'static Model,
    pub key: Key,
    /// The to-one relations whose rows are read with it, in the same statement (bit `i`: the
    /// model's relation `i`): a lookup by id that selects its author costs one statement, not
    /// one for the post and another for its author.
    pub with: u64,
}

impl ModelKey {
    /// The row of `model` with key `key`, alone.
    pub fn new(model: &'static Model, key: Key) -> ModelKey {
        ModelKey {
            model,
            key,
            with: 0,
        }
    }

    /// The relations `with` names, in order.
    fn relations(&self) -> Vec<usize> {
        (0..self.model.relations.len().min(64))
            .filter(|i| self.with & (1 << i) != 0)
            .collect()
    }
}

/// The to-one relations of `model` that `selected` says the request reads (at most the first 64
/// of its relations), as [`ModelKey::with`] takes them.
pub fn to_one_selected(model: &Model, selected: impl Fn(&str) -> bool) -> u64 {
    model
        .relations
        .iter()
        .take(64)
        .enumerate()
        .filter(|(_, r)| matches!(r.kind, RelationKind::ToOne { .. }) && selected(r.name))
        .fold(0, |with, (i, _)| with | (1 << i))
}

impl PartialEq for ModelKey {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.model, other.model) && self.key == other.key && self.with == other.with
    }
}

impl Eq for ModelKey {}

impl Hash for ModelKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.model.table.hash(state);
        self.key.hash(state);
        self.with.hash(state);
    }
}

impl Loader<ModelKey> for Batcher {
    type Value = Record;
    type Error = ApiError;

    async fn load(&self, keys: &[ModelKey]) -> Result<HashMap<ModelKey, Record>, ApiError> {
        // One statement per model and relations read with it among the keys (normally one).
        let mut groups: Vec<(&ModelKey, Vec<Key>)> = Vec::new();
        for k in keys {
            let same = |g: &ModelKey| std::ptr::eq(g.model, k.model) && g.with == k.with;
            match groups.iter_mut().find(|(g, _)| same(g)) {
                Some((_, list)) => list.push(k.key.clone()),
                None => groups.push((k, vec![k.key.clone()])),
            }
        }
        let mut statements = Vec::with_capacity(groups.len());
        let mut shapes = Vec::with_capacity(groups.len());
        for (group, keys) in groups {
            let relations = group.relations();
            statements.push(by_keys(self.identity(), group.model, &relations, &keys)?);
            shapes.push((group.model, group.with, relations));
        }
        let mut out = HashMap::new();
        for ((model, with, relations), records) in shapes
            .into_iter()
            .zip(self.read::<Record>(statements).await?)
        {
            for record in records {
                let record = record.split(model, &relations);
                let key = record.key(model);
                out.insert(ModelKey { model, key, with }, record);
            }
        }
        Ok(out)
    }
}

/// The model and foreign key column of `model`'s relation `relation`, if it is to-one: what
/// [`by_keys`] joins and [`Record::split`] takes apart, in the same order.
fn to_one(model: &Model, relation: usize) -> Option<(&'static Model, &'static str)> {
    let relation = model.relations.get(relation)?;
    match relation.kind {
        RelationKind::ToOne { column, .. } => Some((relation.target, column)),
        _ => None,
    }
}

/// The rows of `model` with these keys, and the rows of its to-one `relations` (indexes among
/// its relations) after each row's own columns, all within what the caller may read: a row it
/// may not read is missing, a related row it may not read reads as no row.
fn by_keys(
    identity: &Identity,
    model: &'static Model,
    relations: &[usize],
    keys: &[Key],
) -> Result<Sql, ApiError> {
    let counter = std::cell::Cell::new(0);
    let root = Scope::root(&counter);
    let visible = access::rows(identity, model, Op::Read, &root)?;
    let mut columns = model.projection();
    let mut joins = Sql::default();
    for &relation in relations {
        let Some((target, column)) = to_one(model, relation) else {
            continue;
        };
        let scope = root.fresh();
        columns.push_str(", ");
        columns.push_str(&target.projection_in(scope.alias()));
        joins.push(&format!(
            " LEFT JOIN {} AS {} ON {} = {}",
            ident(target.table),
            scope.alias(),
            scope.col(target.key),
            root.col(column)
        ));
        if let Some(rule) = access::rows(identity, target, Op::Read, &scope)? {
            joins.push(" AND (").append(&rule).push(")");
        }
    }
    let mut sql = Sql::raw(format!(
        "SELECT {columns} FROM {} AS t0",
        ident(model.table)
    ));
    sql.append(&joins).push(" WHERE ");
    sql.append(&in_keys(&root.col(model.key), keys));
    if let Some(visible) = visible {
        sql.push(" AND (").append(&visible).push(")");
    }
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    mod joined {
        use super::*;
        use crate::runtime::db::{Conn, SqliteSession};
        use crate::runtime::model::{Access, Field, Grant, Grants, Relation, Write};
        use diesel::Connection;

        const fn field(name: &'static str, value: ValueType, write: Write) -> Field {
            Field {
                name,
                column: name,
                value,
                nullable: false,
                write,
            }
        }

        /// Anonymous callers read only the authors named `shown`.
        static AUTHOR: Model = Model {
            name: "Author",
            table: "authors",
            key: "id",
            key_kind: KeyKind::Int,
            fields: &[
                field("id", ValueType::Key(KeyKind::Int), Write::Auto),
                field("name", ValueType::Text, Write::Auto),
            ],
            relations: &[],
            default_order: &[],
            search: None,
            measures: &[],
            roots: &[],
            references: &[],
            unique_keys: &[],
            rules: &[],
            columns: "",
            access: Access::Roles(&[Grants {
                role: "anonymous",
                read: Some(Grant {
                    rows: Some(r#"{"name": {"eq": "shown"}}"#),
                    check: None,
                    preset: &[],
                    under: &[],
                }),
                create: None,
                update: None,
                delete: None,
            }]),
        };

        /// Every post may be read; its author only as above.
        static POST: Model = Model {
            name: "Post",
            table: "posts",
            key: "id",
            key_kind: KeyKind::Int,
            fields: &[
                field("id", ValueType::Key(KeyKind::Int), Write::Auto),
                field("author_id", ValueType::Key(KeyKind::Int), Write::Reference),
                field("title", ValueType::Text, Write::Auto),
            ],
            relations: &[Relation {
                name: "author",
                connection: None,
                target: &AUTHOR,
                kind: RelationKind::ToOne {
                    column: "author_id",
                    nullable: false,
                },
            }],
            default_order: &[],
            search: None,
            measures: &[],
            roots: &[],
            references: &[],
            unique_keys: &[],
            rules: &[],
            columns: "",
            access: Access::Open,
        };

        /// A post read with its author is one statement; the author's rule holds on the joined
        /// row (one the caller may not read is no row, its post still read); a row read alone
        /// has nothing joined.
        #[test]
        fn to_one_rows_are_read_with_their_row_within_their_own_rule() {
            let mut conn = Conn::Sqlite(Box::new(SqliteSession::new(
                diesel::SqliteConnection::establish(":memory:").unwrap(),
            )));
            conn.batch_execute(
                "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                 CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL);
                 INSERT INTO authors VALUES (1, 'shown'), (2, 'hidden');
                 INSERT INTO posts VALUES (10, 1, 'a'), (20, 2, 'b');",
            )
            .unwrap();
            let with = to_one_selected(&POST, |name| name == "author");
            assert_eq!(with, 1);
            assert_eq!(to_one_selected(&POST, |_| false), 0);
            let key = ModelKey {
                model: &POST,
                key: Key::Int(10),
                with,
            };
            let keys = [Key::Int(10), Key::Int(20)];
            let sql = by_keys(&Identity::Anonymous, &POST, &key.relations(), &keys).unwrap();
            assert!(
                sql.text()
                    .contains(r#"LEFT JOIN "authors" AS t1 ON t1."id" = t0."author_id" AND ("#),
                "{}",
                sql.text()
            );
            let mut rows: Vec<Record> = sql
                .load::<Record>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|r| r.split(&POST, &[0]))
                .collect();
            rows.sort_by_key(|r| match r.get(0) {
                Stored::Int(id) => *id,
                _ => 0,
            });
            assert_eq!(rows.len(), 2, "both posts are read");
            assert_eq!(rows[0].get(2), &Stored::Text("a".into()));
            let author = rows[0].joined(0).expect("joined").expect("readable");
            assert_eq!(author.key(&AUTHOR), Key::Int(1));
            assert_eq!(author.get(1), &Stored::Text("shown".into()));
            assert!(
                matches!(rows[1].joined(0), Some(None)),
                "an author it may not read is no row"
            );
            // Read alone: its own columns only, nothing joined.
            let alone = by_keys(&Identity::Anonymous, &POST, &[], &keys[..1]).unwrap();
            let rows = alone.load::<Record>(&mut conn).unwrap();
            assert_eq!(rows[0].0.len(), POST.fields.len());
            assert!(rows[0].joined(0).is_none());
        }
    }

    #[test]
    fn timestamps_are_written_as_the_format_string_would() {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        for (h, m, sec, nanos) in [
            (3, 4, 5, 0),
            (23, 59, 59, 500_000_000),
            (0, 0, 0, 123_456_000),
            (12, 30, 1, 7),
            (1, 2, 3, 1_000),
        ] {
            let at = day.and_hms_nano_opt(h, m, sec, nanos).unwrap();
            assert_eq!(
                timestamp_text(at),
                at.format("%Y-%m-%d %H:%M:%S%.f+00:00").to_string()
            );
        }
        let far = chrono::NaiveDate::from_ymd_opt(12345, 6, 7)
            .unwrap()
            .and_hms_opt(8, 9, 10)
            .unwrap();
        assert_eq!(
            timestamp_text(far),
            far.format("%Y-%m-%d %H:%M:%S%.f+00:00").to_string()
        );
    }
}
