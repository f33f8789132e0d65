//! The API's own scalars. Each parses strictly — a bad literal or variable is refused with a
//! message naming the value and the expected form — and prints one canonical form.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::runtime::check;

fn expected<T: async_graphql::InputType>(what: &str, value: &Value) -> InputValueError<T> {
    InputValueError::custom(format!("expected {what}, got {value}"))
}

/// Text of a string value, or the error naming what was expected.
fn text<'a, T: async_graphql::InputType>(
    value: &'a Value,
    what: &str,
) -> Result<&'a str, InputValueError<T>> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(expected(what, other)),
    }
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub chrono::NaiveDate);

/// A calendar date, `YYYY-MM-DD` (ISO 8601).
#[Scalar(
    name = "Date",
    specified_by_url = "https://en.wikipedia.org/wiki/ISO_8601#Calendar_dates"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        const WHAT: &str = "a date as YYYY-MM-DD";
        let s = text(&value, WHAT)?;
        let shaped = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if shaped => Ok(Date(d)),
            _ => Err(expected(WHAT, &value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub chrono::NaiveTime);

/// A time of day, `HH:MM:SS` with optional fractional seconds (ISO 8601, no time zone).
#[Scalar(
    name = "Time",
    specified_by_url = "https://en.wikipedia.org/wiki/ISO_8601#Times"
)]
impl ScalarType for Time {
    fn parse(value: Value) -> InputValueResult<Self> {
        const WHAT: &str = "a time as HH:MM:SS[.fraction]";
        let s = text(&value, WHAT)?;
        let b = s.as_bytes();
        let shaped = b.len() >= 8
            && b[2] == b':'
            && b[5] == b':'
            && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
            && (b.len() == 8
                || (b[8] == b'.'
                    && b.len() > 9
                    && b.len() <= 18
                    && b[9..].iter().all(u8::is_ascii_digit)));
        match chrono::NaiveTime::parse_from_str(s, "%H:%M:%S%.f") {
            Ok(t) if shaped => Ok(Time(t)),
            _ => Err(expected(WHAT, &value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%H:%M:%S%.f").to_string())
    }
}

/// An instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub chrono::DateTime<chrono::Utc>);

/// An instant, RFC 3339 with a time zone offset (`2024-05-01T12:00:00+02:00`); stored and returned
/// in UTC (`2024-05-01T10:00:00Z`).
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        const WHAT: &str = "an RFC 3339 date-time with an offset, such as 2024-05-01T12:00:00Z";
        let s = text(&value, WHAT)?;
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| DateTime(d.with_timezone(&chrono::Utc)))
            .map_err(|_| expected(WHAT, &value))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

/// A 64-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BigInt(pub i64);

/// A 64-bit integer: a number when it fits GraphQL's 32-bit `Int`, else a string of digits (so
/// no client rounds it). Accepted as either.
#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        const WHAT: &str = "a 64-bit integer (a number, or a string of digits)";
        let parsed = match &value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) if !s.starts_with('+') => s.parse::<i64>().ok(),
            _ => None,
        };
        parsed.map(BigInt).ok_or_else(|| expected(WHAT, &value))
    }

    fn to_value(&self) -> Value {
        if i32::try_from(self.0).is_ok() {
            Value::Number(self.0.into())
        } else {
            Value::String(self.0.to_string())
        }
    }
}

macro_rules! text_scalar {
    ($name:ident, $graphql:literal, $check:path, $what:literal, $doc:literal, $($url:literal)?) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub String);

        #[doc = $doc]
        #[Scalar(name = $graphql $(, specified_by_url = $url)?)]
        impl ScalarType for $name {
            fn parse(value: Value) -> InputValueResult<Self> {
                let s = text(&value, $what)?;
                if $check(s) {
                    Ok($name(s.to_string()))
                } else {
                    Err(expected($what, &value))
                }
            }

            fn to_value(&self) -> Value {
                Value::String(self.0.clone())
            }
        }
    };
}

text_scalar!(
    Email,
    "Email",
    check::is_email,
    "an email address",
    "An email address (`name@example.com`).",
    "https://datatracker.ietf.org/doc/html/rfc5322#section-3.4.1"
);
text_scalar!(
    Url,
    "URL",
    check::is_url,
    "an http(s) URL",
    "An absolute http or https URL.",
    "https://url.spec.whatwg.org/"
);
text_scalar!(
    Slug,
    "Slug",
    check::is_slug,
    "a slug (lowercase letters, digits, `-`, `_`)",
    "A slug: lowercase letters, digits, `-` and `_`.",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    #[test]
    fn dates_and_times_parse_strictly() {
        assert!(Date::parse(s("2024-02-29")).is_ok());
        for bad in [
            "2023-02-29",
            "2024-2-9",
            "2024-02-29T00:00:00",
            " 2024-02-29",
            "+2024-02-29",
        ] {
            assert!(Date::parse(s(bad)).is_err(), "{bad}");
        }
        assert!(Time::parse(s("23:59:59.25")).is_ok());
        for bad in ["24:00:00", "9:00:00", "09:00", "09:00:00Z", "09:00:00."] {
            assert!(Time::parse(s(bad)).is_err(), "{bad}");
        }
        let dt = DateTime::parse(s("2024-05-01T12:00:00+02:00")).unwrap();
        assert_eq!(dt.to_value(), s("2024-05-01T10:00:00Z"));
        for bad in ["2024-05-01T12:00:00", "2024-05-01", "yesterday"] {
            assert!(DateTime::parse(s(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn big_ints_leave_the_int_range_as_strings() {
        assert_eq!(BigInt(5).to_value(), Value::Number(5.into()));
        assert_eq!(BigInt(5_000_000_000).to_value(), s("5000000000"));
        assert_eq!(
            BigInt::parse(s("-9223372036854775808")).unwrap(),
            BigInt(i64::MIN)
        );
        assert_eq!(BigInt::parse(Value::Number(7.into())).unwrap(), BigInt(7));
        assert!(BigInt::parse(s("9223372036854775808")).is_err());
        assert!(BigInt::parse(s("1.5")).is_err());
    }

    #[test]
    fn text_scalars_check_their_format() {
        assert!(Email::parse(s("a@b.io")).is_ok() && Email::parse(s("nope")).is_err());
        assert!(Url::parse(s("https://x.io")).is_ok() && Url::parse(s("x.io")).is_err());
        assert!(Slug::parse(s("a-b")).is_ok() && Slug::parse(s("A b")).is_err());
    }
}
