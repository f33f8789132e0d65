//! Checking a field's `default:` against its type and rendering it as SQL and Rust.

use super::{DefaultValue, FieldKind, ScalarKind, TextFormat};
use crate::formats;
use serde_json::Value;

/// Checks `value` as a default for `kind`; the error says why it does not fit.
pub fn check(kind: &FieldKind, value: &Value) -> Result<DefaultValue, String> {
    let scalar = match kind {
        FieldKind::Scalar(s) => s,
        FieldKind::PrimaryKey(_) => return Err("primary keys get their values from the database".into()),
        FieldKind::ForeignKey { .. } => return Err("relations cannot have defaults".into()),
    };
    let text = value.as_str();
    let literal = |sql: String, rust: String| Ok(DefaultValue::Literal { sql, rust });
    match scalar {
        ScalarKind::Integer | ScalarKind::BigInteger => {
            let n = value.as_i64().ok_or("expected a whole number")?;
            if matches!(scalar, ScalarKind::Integer) && i32::try_from(n).is_err() {
                return Err("out of range for a 32-bit integer; use `big_integer`".into());
            }
            literal(n.to_string(), n.to_string())
        }
        ScalarKind::Float => {
            let f = value.as_f64().ok_or("expected a number")?;
            literal(format!("{f:?}"), format!("{f:?}_f64"))
        }
        ScalarKind::Decimal { max_digits, decimal_places } => {
            let raw = match value {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err("expected a decimal number, e.g. \"9.99\"".into()),
            };
            let norm = formats::normalize_decimal(&raw, *max_digits, *decimal_places)?;
            literal(sql_string(&norm), format!("{norm:?}.to_string()"))
        }
        ScalarKind::Boolean => {
            let b = value.as_bool().ok_or("expected true or false")?;
            literal(if b { "TRUE" } else { "FALSE" }.into(), b.to_string())
        }
        ScalarKind::String { max_length, format } => {
            let s = text.ok_or("expected a string")?;
            if s.chars().count() > *max_length as usize {
                return Err(format!("longer than max_length {max_length}"));
            }
            let ok = match format {
                TextFormat::Plain => true,
                TextFormat::Email => formats::is_email(s),
                TextFormat::Url => formats::is_url(s),
                TextFormat::Slug => formats::is_slug(s),
            };
            if !ok {
                return Err(format!("not a valid {}", format!("{format:?}").to_lowercase()));
            }
            literal(sql_string(s), format!("{s:?}.to_string()"))
        }
        ScalarKind::Text => {
            let s = text.ok_or("expected a string")?;
            literal(sql_string(s), format!("{s:?}.to_string()"))
        }
        ScalarKind::Date | ScalarKind::DateTime | ScalarKind::Time => {
            let s = text.ok_or("expected a string or `now`")?;
            if s == "now" {
                return Ok(DefaultValue::Now);
            }
            let (ok, ty, example) = match scalar {
                ScalarKind::Date => (s.parse::<chrono::NaiveDate>().is_ok(), "chrono::NaiveDate", "2024-01-31"),
                ScalarKind::Time => (s.parse::<chrono::NaiveTime>().is_ok(), "chrono::NaiveTime", "09:30:00"),
                _ => (chrono::DateTime::parse_from_rfc3339(s).is_ok(), "chrono::DateTime<chrono::Utc>", "2024-01-31T09:30:00Z"),
            };
            if !ok {
                return Err(format!("expected `now` or a value like \"{example}\""));
            }
            literal(sql_string(s), format!("{s:?}.parse::<{ty}>().expect(\"default checked by gqlauto\")"))
        }
        ScalarKind::Uuid => {
            let s = text.ok_or("expected a UUID string or `uuid`")?;
            if s == "uuid" {
                return Ok(DefaultValue::NewUuid);
            }
            if !formats::is_uuid(s) {
                return Err("expected `uuid` or a UUID like \"67e55044-10b1-426f-9247-bb680e5fe0c8\"".into());
            }
            let lower = s.to_ascii_lowercase();
            literal(sql_string(&lower), format!("{lower:?}.to_string()"))
        }
        ScalarKind::Json => {
            let s = value.to_string();
            literal(sql_string(&s), format!("{s:?}.to_string()"))
        }
        ScalarKind::Enum { values, .. } => {
            let s = text.ok_or("expected one of the enum's values")?;
            if !values.iter().any(|v| v == s) {
                return Err(format!("`{s}` is not one of {}", values.join(", ")));
            }
            literal(sql_string(s), format!("{s:?}.to_string()"))
        }
    }
}

/// A SQL string literal.
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scalar(s: ScalarKind) -> FieldKind {
        FieldKind::Scalar(s)
    }

    #[test]
    fn defaults_are_checked_per_type() {
        assert!(check(&scalar(ScalarKind::Integer), &json!("x")).is_err());
        assert!(check(&scalar(ScalarKind::Integer), &json!(5_000_000_000_i64)).is_err());
        assert_eq!(check(&scalar(ScalarKind::Boolean), &json!(true)), Ok(DefaultValue::Literal { sql: "TRUE".into(), rust: "true".into() }));
        assert_eq!(check(&scalar(ScalarKind::DateTime), &json!("now")), Ok(DefaultValue::Now));
        assert!(check(&scalar(ScalarKind::Date), &json!("2024-02-30")).is_err());
        let dec = scalar(ScalarKind::Decimal { max_digits: 5, decimal_places: 2 });
        assert_eq!(check(&dec, &json!("1.5")), Ok(DefaultValue::Literal { sql: "'1.50'".into(), rust: "\"1.50\".to_string()".into() }));
        assert!(check(&dec, &json!("12345.6")).is_err());
        let en = scalar(ScalarKind::Enum { type_name: "S".into(), values: vec!["a".into()] });
        assert!(check(&en, &json!("b")).is_err());
        let text = scalar(ScalarKind::Text);
        assert_eq!(check(&text, &json!("it's")), Ok(DefaultValue::Literal { sql: "'it''s'".into(), rust: "\"it's\".to_string()".into() }));
    }
}
