//! Input checks run before any write touches the database: every rule of every value is checked
//! and all problems are reported together.
//!
//! The rules come from the manifest; the same ones are `CHECK` constraints in the migrations where
//! SQL can express them, so rows written around the API are held to them too.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use async_graphql::ID;
use rust_decimal::Decimal;

use crate::runtime::error::{join_path, ApiError, ErrorCode, Problem};
use crate::runtime::select::{Key, KeyKind};
use crate::runtime::sql::Bind;

/// Most rows one mutation may write, nested writes included.
pub const MAX_WRITE_ROWS: usize = 1000;

/// Problems found so far in one mutation's arguments, and the rows it would write.
#[derive(Debug, Default)]
pub struct Problems {
    problems: Vec<Problem>,
    rows: usize,
}

impl Problems {
    pub fn add(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.to_string(),
            code,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Counts `n` more rows the mutation would create, update, link, unlink or delete.
    pub fn rows(&mut self, n: usize) {
        self.rows = self.rows.saturating_add(n);
    }

    /// `Ok` when nothing was found; `LIMIT_EXCEEDED` when the mutation would write more than
    /// [`MAX_WRITE_ROWS`] rows; else one `VALIDATION_FAILED` error listing every problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.rows > MAX_WRITE_ROWS {
            let message = format!("the mutation would write {} rows, nested writes included; at most {MAX_WRITE_ROWS} are allowed", self.rows);
            return Err(ApiError::new(ErrorCode::LimitExceeded, message));
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::rejected(self.problems))
        }
    }
}

/// The path of a field under `base`, in the form problems report (`input.title`).
pub fn path(base: &str, field: &str) -> String {
    join_path(base, field)
}

/// The path of a list element (`inputs[2]`).
pub fn item(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// Refinements of a string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Plain,
    Email,
    Url,
    Slug,
}

/// Rules of a string field.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// Not empty and not only whitespace.
    pub non_empty: bool,
    pub format: TextFormat,
    /// A regular expression the value must contain a match of (anchor it to match the whole value).
    pub pattern: Option<&'static str>,
    /// The only values allowed, when not empty.
    pub choices: &'static [&'static str],
}

impl Text {
    pub const PLAIN: Text = Text {
        min_length: None,
        max_length: None,
        non_empty: false,
        format: TextFormat::Plain,
        pattern: None,
        choices: &[],
    };
}

/// Checks a string against its rules.
pub fn text(p: &mut Problems, field: &str, value: String, rules: &Text) -> Bind {
    let length = value.chars().count();
    if let Some(max) = rules.max_length.filter(|&max| length > max) {
        p.add(
            field,
            "MAX_LENGTH",
            format!("`{field}` must be at most {max} characters (got {length})"),
        );
    }
    if let Some(min) = rules.min_length.filter(|&min| length < min) {
        p.add(
            field,
            "MIN_LENGTH",
            format!("`{field}` must be at least {min} characters (got {length})"),
        );
    }
    if rules.non_empty && value.trim().is_empty() {
        p.add(field, "EMPTY", format!("`{field}` must not be empty"));
    }
    let format_ok = match rules.format {
        TextFormat::Plain => true,
        TextFormat::Email => is_email(&value),
        TextFormat::Url => is_url(&value),
        TextFormat::Slug => is_slug(&value),
    };
    if !format_ok {
        let (code, what) = match rules.format {
            TextFormat::Email => ("EMAIL", "an email address"),
            TextFormat::Url => ("URL", "an http(s) URL"),
            _ => ("SLUG", "a slug (lowercase letters, digits, `-`, `_`)"),
        };
        p.add(field, code, format!("`{field}` must be {what}"));
    }
    if let Some(pattern) = rules.pattern {
        if !matches(pattern, &value) {
            p.add(
                field,
                "PATTERN",
                format!("`{field}` must match the pattern `{pattern}`"),
            );
        }
    }
    if !rules.choices.is_empty() && !rules.choices.contains(&value.as_str()) {
        p.add(
            field,
            "CHOICE",
            format!(
                "`{field}` must be one of {}",
                rules
                    .choices
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    Bind::Text(value)
}

/// Whether `value` contains a match of `pattern`; patterns are compiled once per process
/// (gqlauto checked that each one compiles).
fn matches(pattern: &'static str, value: &str) -> bool {
    static COMPILED: LazyLock<Mutex<HashMap<&'static str, regex_lite::Regex>>> =
        LazyLock::new(Default::default);
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match compiled.get(pattern) {
        Some(re) => re.is_match(value),
        None => match regex_lite::Regex::new(pattern) {
            Ok(re) => compiled.entry(pattern).or_insert(re).is_match(value),
            Err(_) => false,
        },
    }
}

pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

pub fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty() && !r.starts_with('/') && !s.chars().any(char::is_whitespace)
    })
}

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Inclusive bounds of a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

impl<T> Range<T> {
    pub const ANY: Range<T> = Range {
        min: None,
        max: None,
    };
}

fn range<T: PartialOrd + std::fmt::Display + Copy>(
    p: &mut Problems,
    field: &str,
    value: T,
    rules: &Range<T>,
) {
    if let Some(min) = rules.min.filter(|min| value < *min) {
        p.add(
            field,
            "MIN_VALUE",
            format!("`{field}` must be at least {min}"),
        );
    }
    if let Some(max) = rules.max.filter(|max| value > *max) {
        p.add(
            field,
            "MAX_VALUE",
            format!("`{field}` must be at most {max}"),
        );
    }
}

pub fn int(p: &mut Problems, field: &str, value: i64, rules: &Range<i64>) -> Bind {
    range(p, field, value, rules);
    Bind::Int(value)
}

pub fn float(p: &mut Problems, field: &str, value: f64, rules: &Range<f64>) -> Bind {
    if !value.is_finite() {
        p.add(
            field,
            "NOT_FINITE",
            format!("`{field}` must be a finite number"),
        );
    }
    range(p, field, value, rules);
    Bind::Float(value)
}

/// Rules of a decimal field: its column's digits, and optional bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Digits {
    pub max_digits: u32,
    pub places: u32,
    pub range: Range<Decimal>,
}

/// Checks a decimal and stores it with exactly `places` fraction digits (as exact text).
pub fn decimal(p: &mut Problems, field: &str, value: Decimal, rules: &Digits) -> Bind {
    let normalized = value.normalize();
    let places = rules.places;
    if normalized.scale() > places {
        p.add(
            field,
            "DECIMAL_PLACES",
            format!("`{field}` allows at most {places} decimal places"),
        );
    }
    let integer_digits = normalized
        .trunc()
        .abs()
        .to_string()
        .trim_start_matches('0')
        .len() as u32;
    if integer_digits + places > rules.max_digits {
        p.add(
            field,
            "DECIMAL_DIGITS",
            format!(
                "`{field}` allows at most {} digits before the decimal point",
                rules.max_digits - places
            ),
        );
    }
    range(p, field, value, &rules.range);
    let mut fixed = value;
    fixed.rescale(places);
    Bind::Decimal(fixed.to_string())
}

/// A key given as an `ID`, in its stored form (see `KeyKind::parse`); `INVALID_ID` on `field` if
/// it cannot be a key of `kind`.
pub fn key(p: &mut Problems, field: &str, id: &ID, kind: KeyKind) -> Key {
    kind.parse(id.as_str()).unwrap_or_else(|| {
        p.add(
            field,
            "INVALID_ID",
            format!("`{}` is not a valid id", id.as_str()),
        );
        Key::Int(0)
    })
}

/// A required value given as null.
pub fn not_null(p: &mut Problems, field: &str) -> Bind {
    p.add(field, "REQUIRED", format!("`{field}` cannot be null"));
    Bind::Null
}

/// A required value left out.
pub fn missing(p: &mut Problems, field: &str, how: &str) {
    p.add(field, "REQUIRED", format!("`{field}` is required{how}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(f: impl FnOnce(&mut Problems)) -> Vec<(String, &'static str)> {
        let mut p = Problems::default();
        f(&mut p);
        p.problems.into_iter().map(|x| (x.field, x.code)).collect()
    }

    #[test]
    fn a_mutation_writes_at_most_max_write_rows() {
        let mut p = Problems::default();
        p.rows(MAX_WRITE_ROWS);
        assert!(p.finish().is_ok());
        let mut p = Problems::default();
        p.rows(1);
        p.rows(MAX_WRITE_ROWS);
        p.add("title", "REQUIRED", "`title` is required");
        assert_eq!(p.finish().unwrap_err().code, ErrorCode::LimitExceeded);
    }

    #[test]
    fn text_rules_report_every_failure() {
        let rules = Text {
            min_length: Some(3),
            max_length: Some(5),
            non_empty: true,
            format: TextFormat::Slug,
            pattern: Some("^a"),
            choices: &[],
        };
        assert!(problems(|p| {
            text(p, "s", "abc".into(), &rules);
        })
        .is_empty());
        let found = problems(|p| {
            text(p, "s", "   ".into(), &rules);
        });
        let codes: Vec<_> = found.iter().map(|(_, c)| *c).collect();
        assert_eq!(codes, ["EMPTY", "SLUG", "PATTERN"]);
        let found = problems(|p| {
            text(p, "s", "abcdefg".into(), &rules);
        });
        assert_eq!(found, [("s".to_string(), "MAX_LENGTH")]);
        let choices = Text {
            choices: &["red", "blue"],
            ..Text::PLAIN
        };
        assert_eq!(
            problems(|p| {
                text(p, "c", "green".into(), &choices);
            })[0]
                .1,
            "CHOICE"
        );
    }

    #[test]
    fn formats() {
        assert!(
            is_email("a@b.io") && !is_email("nope") && !is_email("a@b") && !is_email("a b@c.io")
        );
        assert!(is_url("https://x.io") && !is_url("ftp://x.io") && !is_url("https://"));
        assert!(is_slug("a-b_1") && !is_slug("A") && !is_slug(""));
    }

    #[test]
    fn numbers_respect_bounds() {
        let r = Range {
            min: Some(1),
            max: Some(10),
        };
        assert!(problems(|p| {
            int(p, "n", 5, &r);
        })
        .is_empty());
        assert_eq!(
            problems(|p| {
                int(p, "n", 0, &r);
            })[0]
                .1,
            "MIN_VALUE"
        );
        assert_eq!(
            problems(|p| {
                int(p, "n", 11, &r);
            })[0]
                .1,
            "MAX_VALUE"
        );
        assert_eq!(
            problems(|p| {
                float(p, "f", f64::NAN, &Range::ANY);
            })[0]
                .1,
            "NOT_FINITE"
        );
    }

    #[test]
    fn decimals_keep_their_scale_and_digit_budget() {
        let d = Digits {
            max_digits: 5,
            places: 2,
            range: Range {
                min: Some(Decimal::ZERO),
                max: None,
            },
        };
        let mut p = Problems::default();
        assert_eq!(
            decimal(&mut p, "p", "9.5".parse().unwrap(), &d),
            Bind::Decimal("9.50".into())
        );
        assert!(p.is_empty());
        let codes = problems(|p| {
            decimal(p, "p", "-1000.555".parse().unwrap(), &d);
        });
        let codes: Vec<_> = codes.iter().map(|(_, c)| *c).collect();
        assert_eq!(codes, ["DECIMAL_PLACES", "DECIMAL_DIGITS", "MIN_VALUE"]);
    }

    #[test]
    fn keys_parse_or_are_reported() {
        let mut p = Problems::default();
        assert_eq!(
            key(&mut p, "id", &ID::from("42"), KeyKind::Int),
            Key::Int(42)
        );
        let uuid = key(
            &mut p,
            "id",
            &ID::from("67E55044-10B1-426F-9247-BB680E5FE0C8"),
            KeyKind::Uuid,
        );
        assert_eq!(
            uuid,
            Key::Uuid(crate::runtime::convert::uuid_text(
                "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap()
            ))
        );
        assert_eq!(
            key(&mut p, "id", &ID::from("en-GB"), KeyKind::Text),
            Key::Text("en-GB".into())
        );
        assert!(p.is_empty());
        key(&mut p, "authorId", &ID::from("x"), KeyKind::Int);
        let e = p.finish().unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.problems[0].code),
            (Some("authorId"), "INVALID_ID")
        );
    }
}
