//! Conversions between GraphQL values and stored values.

use async_graphql::{Json, ID};
use rust_decimal::Decimal;

use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::select::{Key, KeyKind};

fn invalid_id(field: &str, id: &ID) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidId,
        format!("`{}` is not a valid id", id.as_str()),
    )
    .on_field(field)
}

pub fn id_i32(field: &str, id: &ID) -> Result<i32, ApiError> {
    id.parse().map_err(|_| invalid_id(field, id))
}

pub fn id_i64(field: &str, id: &ID) -> Result<i64, ApiError> {
    id.parse().map_err(|_| invalid_id(field, id))
}

pub fn id_uuid(field: &str, id: &ID) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(id.as_str())
        .map(uuid_text)
        .map_err(|_| invalid_id(field, id))
}

/// A client-chosen string key: the id itself.
pub fn id_text(id: &ID) -> String {
    id.to_string()
}

/// A UUID as the database stores it: hyphenated, lowercase, or 32 hex digits when the manifest
/// says `database.uuid_format: simple` (as Django writes them on SQLite).
pub fn uuid_text(u: uuid::Uuid) -> String {
    if crate::settings::UUID_SIMPLE {
        u.simple().to_string()
    } else {
        u.hyphenated().to_string()
    }
}

/// A date-time as Django stores it in SQLite: UTC without an offset, with six fractional digits
/// when there is a fraction (`2024-05-01 12:00:00`, `2024-05-01 12:00:00.500000`).
pub fn django_datetime(at: &chrono::DateTime<chrono::Utc>) -> String {
    let naive = at.naive_utc();
    format!(
        "{} {}",
        naive.date().format("%Y-%m-%d"),
        django_time(&naive.time())
    )
}

/// A time as Django stores it in SQLite: `12:00:00`, or `12:00:00.500000` with a fraction.
pub fn django_time(t: &chrono::NaiveTime) -> String {
    use chrono::Timelike;
    let micros = t.nanosecond() % 1_000_000_000 / 1_000;
    let whole = t.format("%H:%M:%S");
    if micros == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{micros:06}")
    }
}

/// JSON as the database stores it: compact, or, with `settings::DJANGO_JSON`, as Python's
/// `json.dumps` writes it (`{"a": [1, 2]}`, every character outside ASCII escaped), which is the
/// text Django's exact lookups on a JSONField compare in SQLite. Keys keep the client's order.
pub fn json_text(value: &serde_json::Value) -> String {
    if !crate::settings::DJANGO_JSON {
        return value.to_string();
    }
    let mut out = String::new();
    python_json(value, &mut out);
    out
}

/// Writes `value` in the layout of Python's `json.dumps` with its defaults.
fn python_json(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => python_float(f, out),
            None => out.push_str(&n.to_string()),
        },
        Value::String(s) => python_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_string(key, out);
                out.push_str(": ");
                python_json(item, out);
            }
            out.push('}');
        }
    }
}

/// A float as Python's `repr` writes it: the shortest digits that read back the same, positional
/// between 1e-4 and 1e16 (`0.0001`, `1.0`, `1000000000000000.0`), otherwise with a signed exponent of
/// at least two digits (`1e-05`, `1.5e+16`).
fn python_float(f: f64, out: &mut String) {
    // Rust's `{:e}` gives the same shortest digits: `d[.ddd]e<exp>`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if f.is_sign_negative() {
        out.push('-');
    }
    let point = exp + 1;
    if -4 < point && point <= 16 {
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        out.push_str(&format!("e{sign}{:02}", exp.abs()));
    }
}

/// A JSON string as Python escapes it: printable ASCII as itself, the usual short escapes, and
/// everything else as its UTF-16 units, each `\u` and four hex digits (`é` is `\u00e9`).
fn python_string(s: &str, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// An `ID` argument as a key of this kind; `INVALID_ID` on `field` if it cannot be one.
pub fn key_of(kind: KeyKind, field: &str, id: &ID) -> Result<Key, ApiError> {
    kind.parse(id.as_str()).ok_or_else(|| invalid_id(field, id))
}

/// A stored decimal at the field's scale. Rows written by other programs may hold it as a number
/// (`12.5`, `1e-05`) rather than gqlauto's text (`12.50`): the value is the same, shown as declared.
/// SQLite keeps a decimal column's values as REALs, of which only the first 15 significant digits
/// are meaningful (SQLite's own documentation; Django reads them so too): the digits after those
/// are binary noise (`2111641508354496` for a stored `2111641508354500`) and are rounded away.
pub fn decimal_out(stored: &str, places: u32) -> Result<Decimal, ApiError> {
    let mut d: Decimal = stored
        .parse()
        .or_else(|_| Decimal::from_scientific(stored))
        .map_err(|e| ApiError::internal(format!("stored decimal {stored:?}: {e}")))?;
    if crate::runtime::sql::dialect() == crate::runtime::sql::Dialect::Sqlite {
        d = d.round_sf(15).unwrap_or(d);
    }
    d.rescale(places);
    Ok(d)
}

pub fn uuid_out(stored: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(stored)
        .map_err(|e| ApiError::internal(format!("stored uuid {stored:?}: {e}")))
}

pub fn json_out(stored: &str) -> Result<Json<serde_json::Value>, ApiError> {
    serde_json::from_str(stored)
        .map(Json)
        .map_err(|e| ApiError::internal(format!("stored json: {e}")))
}

/// Reads a date-time as Diesel stores it in SQLite (`2024-05-01 12:00:00.5+00:00`).
/// Values without an offset (SQLite's `CURRENT_TIMESTAMP`, rows written by other programs) are UTC.
pub fn stored_datetime(stored: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    let stored = stored.trim();
    if let Some(at) = canonical_datetime(stored.as_bytes()) {
        return Ok(at);
    }
    chrono::DateTime::parse_from_str(stored, "%Y-%m-%d %H:%M:%S%.f%:z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(stored))
        .map(|dt| dt.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(
                &stored.replacen('T', " ", 1),
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .map(|dt| dt.and_utc())
        })
        .map_err(|e| ApiError::internal(format!("stored date-time {stored:?}: {e}")))
}

/// The form the server itself writes, `YYYY-MM-DD HH:MM:SS[.fraction][+00:00]` in UTC, read
/// without chrono's format interpreter: a page of rows reads thousands of these. Anything else
/// (another offset, a `T`, a leap second) is `None` and takes the general path.
fn canonical_datetime(b: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    fn digits(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    }

    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        nanos = digits(&fraction[..len])? * 10u32.pow(9 - len as u32);
        rest = &fraction[len..];
    }
    if !(rest.is_empty() || rest == b"+00:00" || rest == b"Z") {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let second = digits(&b[17..19])?;
    if second > 59 {
        return None;
    }
    let time = chrono::NaiveTime::from_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        second,
        nanos,
    )?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_python_writes_them() {
        // `repr(x)` in Python for each.
        for (f, python) in [
            (1e-5, "1e-05"),
            (-2.5e-5, "-2.5e-05"),
            (0.0001, "0.0001"),
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (123.456, "123.456"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e22, "1e+22"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ] {
            let mut out = String::new();
            python_float(f, &mut out);
            assert_eq!(out, python, "{f:e}");
        }
    }

    #[test]
    fn json_is_written_as_python_writes_it() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{"z": [1, 2.5, null, true], "a": {"é": "naïve 😀\n\u007f"}}"#)
                .unwrap();
        let mut out = String::new();
        python_json(&value, &mut out);
        // `json.dumps({"z": [1, 2.5, None, True], "a": {"é": "naïve 😀\n\x7f"}})`, keys in order.
        assert_eq!(
            out,
            r#"{"z": [1, 2.5, null, true], "a": {"\u00e9": "na\u00efve \ud83d\ude00\n\u007f"}}"#
        );
    }

    #[test]
    fn date_times_are_written_as_django_writes_them() {
        use chrono::TimeZone;
        let at = |nanos| {
            chrono::Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()
                + chrono::Duration::nanoseconds(nanos)
        };
        // Python's `str(datetime)`: no fraction when it is zero, else six digits; nanoseconds are
        // below what Django keeps.
        assert_eq!(django_datetime(&at(0)), "2030-01-02 03:04:05");
        assert_eq!(
            django_datetime(&at(120_000_000)),
            "2030-01-02 03:04:05.120000"
        );
        assert_eq!(django_datetime(&at(1_000)), "2030-01-02 03:04:05.000001");
        assert_eq!(django_datetime(&at(999)), "2030-01-02 03:04:05");
        let time = |h, m, s, micro| chrono::NaiveTime::from_hms_micro_opt(h, m, s, micro).unwrap();
        assert_eq!(django_time(&time(9, 30, 0, 0)), "09:30:00");
        assert_eq!(django_time(&time(23, 59, 59, 500_000)), "23:59:59.500000");
        // What the server writes, it reads back.
        assert_eq!(
            stored_datetime("2030-01-02 03:04:05.120000").ok(),
            Some(at(120_000_000))
        );
    }

    #[test]
    fn ids_parse_or_name_the_field() {
        assert_eq!(id_i32("id", &ID::from("42")), Ok(42));
        let err = id_i32("authorId", &ID::from("x")).unwrap_err();
        assert_eq!(
            (err.code, err.field.as_deref()),
            (ErrorCode::InvalidId, Some("authorId"))
        );
        assert!(id_uuid("id", &ID::from("67E55044-10B1-426F-9247-BB680E5FE0C8")).is_ok());
    }

    #[test]
    fn stored_values_read_back() {
        assert_eq!(
            decimal_out("12.30", 2).map(|d| d.to_string()),
            Ok("12.30".to_string())
        );
        assert_eq!(
            decimal_out("12.5", 2).map(|d| d.to_string()),
            Ok("12.50".to_string())
        );
        assert_eq!(
            decimal_out("1e-05", 5).map(|d| d.to_string()),
            Ok("0.00001".to_string())
        );
        // A REAL's first 15 significant digits, as Django reads them on SQLite.
        assert_eq!(
            decimal_out(&format!("{:.14e}", 1978632384361209.5f64), 3).map(|d| d.to_string()),
            Ok("1978632384361210.000".to_string())
        );
        assert_eq!(
            decimal_out("2111641508354496.0", 3).map(|d| d.to_string()),
            Ok("2111641508354500.000".to_string())
        );
        assert_eq!(
            decimal_out(&format!("{:.14e}", 12.5f64), 2).map(|d| d.to_string()),
            Ok("12.50".to_string())
        );
        assert_eq!(
            decimal_out(&format!("{:.14e}", 0.1f64 + 0.2), 2).map(|d| d.to_string()),
            Ok("0.30".to_string())
        );
        assert!(uuid_out("67e55044-10b1-426f-9247-bb680e5fe0c8").is_ok());
        assert!(stored_datetime("2024-05-01 12:00:00.5+00:00").is_ok());
        let utc = stored_datetime("2024-05-01T14:00:00+02:00").unwrap();
        assert_eq!(
            stored_datetime("2024-05-01 12:00:00").unwrap(),
            utc,
            "no offset: UTC (SQLite's CURRENT_TIMESTAMP)"
        );
        assert!(stored_datetime("yesterday").is_err());
        // The canonical form's own reader agrees with chrono's on every shape it accepts, and
        // leaves the rest to it.
        for text in [
            "2024-05-01 12:00:00+00:00",
            "2024-05-01 12:00:00.5+00:00",
            "2024-05-01 12:00:00.123456789+00:00",
            "0001-01-01 00:00:00.000001",
            "9999-12-31 23:59:59Z",
        ] {
            let general = chrono::NaiveDateTime::parse_from_str(
                text.trim_end_matches("+00:00").trim_end_matches('Z'),
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .unwrap()
            .and_utc();
            assert_eq!(canonical_datetime(text.as_bytes()), Some(general), "{text}");
        }
        for text in [
            "2024-02-30 12:00:00",
            "2024-05-01 24:00:00",
            "2024-05-01 12:00:60",
            "2024-05-01T12:00:00",
            "2024-05-01 12:00:00+02:00",
            "2024-05-01 12:00:00.",
            "2024-05-01 12:00:00.1234567891",
            "2024-05-01 1a:00:00",
        ] {
            assert_eq!(canonical_datetime(text.as_bytes()), None, "{text}");
        }
        assert_eq!(
            stored_datetime("2024-05-01 14:00:00.5+02:00").unwrap(),
            stored_datetime("2024-05-01 12:00:00.5").unwrap()
        );
    }
}
