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
use crate::runtime::batch::Batcher;
use crate::runtime::convert;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::model::{Model, ValueType};
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

/// A row of some model: its fields' stored values, in the model's field order.
#[derive(Debug, Clone)]
pub struct Record(Arc<Vec<Stored>>);

impl Record {
    /// The value of the field at `index`.
    pub fn get(&self, index: usize) -> &Stored {
        self.0.get(index).unwrap_or(&Stored::Null)
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
        Ok(Record(Arc::new(values)))
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
        Ok(Record(Arc::new(values)))
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
}

impl PartialEq for ModelKey {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.model, other.model) && self.key == other.key
    }
}

impl Eq for ModelKey {}

impl Hash for ModelKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.model.table.hash(state);
        self.key.hash(state);
    }
}

impl Loader<ModelKey> for Batcher {
    type Value = Record;
    type Error = ApiError;

    async fn load(&self, keys: &[ModelKey]) -> Result<HashMap<ModelKey, Record>, ApiError> {
        // One statement per model among the keys (normally one).
        let mut groups: Vec<(&'static Model, Vec<Key>)> = Vec::new();
        for k in keys {
            match groups.iter_mut().find(|(m, _)| std::ptr::eq(*m, k.model)) {
                Some((_, list)) => list.push(k.key.clone()),
                None => groups.push((k.model, vec![k.key.clone()])),
            }
        }
        // Within the rows the caller may read: another row's reads as missing.
        let mut statements = Vec::with_capacity(groups.len());
        for (model, keys) in groups {
            let visible = access::rows_t0(self.identity(), model, Op::Read)?;
            let mut sql = Sql::raw(format!(
                "SELECT {} FROM {} AS t0 WHERE ",
                model.projection(),
                ident(model.table)
            ));
            sql.append(&in_keys(&format!("t0.{}", ident(model.key)), &keys));
            if let Some(visible) = visible {
                sql.push(" AND (").append(&visible).push(")");
            }
            statements.push((model, sql));
        }
        let (models, statements): (Vec<_>, Vec<_>) = statements.into_iter().unzip();
        let mut out = HashMap::new();
        for (model, records) in models
            .into_iter()
            .zip(self.read::<Record>(statements).await?)
        {
            for record in records {
                out.insert(
                    ModelKey {
                        model,
                        key: record.key(model),
                    },
                    record,
                );
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
