//! How each input value of a write arrives and is checked: the input types of scalars, their
//! rules as the runtime's `check` values, literal defaults and counters.

use crate::ir::{Rules, ScalarKind, TextFormat};

/// A Rust string literal.
pub(super) fn lit(s: &str) -> String {
    format!("{s:?}")
}

pub(super) fn float_lit(n: &str) -> String {
    if n.contains('.') || n.contains('e') || n.contains('E') {
        n.to_string()
    } else {
        format!("{n}.0")
    }
}

pub(super) fn range(r: &Rules, value: impl Fn(&str) -> String) -> String {
    if r.min.is_none() && r.max.is_none() {
        return "check::Range::ANY".into();
    }
    let bound = |b: &Option<String>| b.as_deref().map_or("None".to_string(), |n| format!("Some({})", value(n)));
    format!("check::Range {{ min: {}, max: {} }}", bound(&r.min), bound(&r.max))
}

pub(super) fn text_rules(s: &ScalarKind, r: &Rules) -> String {
    let mut parts = Vec::new();
    if let ScalarKind::String { max_length, format } = s {
        parts.push(format!("max_length: Some({max_length})"));
        let format = match format {
            TextFormat::Plain => None,
            TextFormat::Email => Some("Email"),
            TextFormat::Url => Some("Url"),
            TextFormat::Slug => Some("Slug"),
        };
        if let Some(format) = format {
            parts.push(format!("format: check::TextFormat::{format}"));
        }
    }
    if let Some(n) = r.min_length {
        parts.push(format!("min_length: Some({n})"));
    }
    if r.non_empty {
        parts.push("non_empty: true".into());
    }
    if let Some(pattern) = &r.pattern {
        parts.push(format!("pattern: Some({})", lit(pattern)));
    }
    if !r.choices.is_empty() {
        parts.push(format!("choices: &[{}]", r.choices.iter().map(|c| lit(c)).collect::<Vec<_>>().join(", ")));
    }
    if parts.is_empty() {
        "check::Text::PLAIN".into()
    } else {
        format!("check::Text {{ {}, ..check::Text::PLAIN }}", parts.join(", "))
    }
}

/// The value a SQL literal default (`'it''s'`, `TRUE`, `12`, `1.5`) stores.
#[derive(Debug, PartialEq)]
pub(super) enum SqlLiteral {
    Text(String),
    /// An integer, booleans as 0 and 1, as written.
    Int(String),
    /// Any other number, as written.
    Float(String),
}

pub(super) fn sql_literal(sql: &str) -> SqlLiteral {
    if let Some(text) = sql.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        SqlLiteral::Text(text.replace("''", "'"))
    } else if sql.eq_ignore_ascii_case("true") {
        SqlLiteral::Int("1".into())
    } else if sql.eq_ignore_ascii_case("false") {
        SqlLiteral::Int("0".into())
    } else if sql.parse::<i64>().is_ok() {
        SqlLiteral::Int(sql.into())
    } else {
        SqlLiteral::Float(sql.into())
    }
}

/// The update input of a field that takes `{set, increment}`, if it does.
pub(super) fn counter(s: &ScalarKind) -> Option<&'static str> {
    match s {
        ScalarKind::Integer => Some("IntUpdate"),
        ScalarKind::BigInteger => Some("BigIntUpdate"),
        ScalarKind::Float => Some("FloatUpdate"),
        ScalarKind::Decimal { .. } => Some("DecimalUpdate"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_written_as_exact_literals() {
        assert_eq!(float_lit("3"), "3.0");
        assert_eq!(float_lit("2.5"), "2.5");
        assert_eq!(float_lit("1e3"), "1e3");
        let rules =
            |min: Option<&str>, max: Option<&str>| Rules { min: min.map(String::from), max: max.map(String::from), ..Rules::default() };
        assert_eq!(range(&rules(None, None), |n| n.to_string()), "check::Range::ANY");
        assert_eq!(range(&rules(Some("0"), None), float_lit), "check::Range { min: Some(0.0), max: None }");
        assert_eq!(range(&rules(Some("1"), Some("9")), |n| n.to_string()), "check::Range { min: Some(1), max: Some(9) }");
    }

    #[test]
    fn text_rules_name_only_what_applies() {
        assert_eq!(text_rules(&ScalarKind::Text, &Rules::default()), "check::Text::PLAIN");
        let email = ScalarKind::String { max_length: 254, format: TextFormat::Email };
        let rules =
            Rules { non_empty: true, pattern: Some("^a".into()), choices: vec!["x".into()], min_length: Some(2), ..Rules::default() };
        assert_eq!(
            text_rules(&email, &rules),
            "check::Text { max_length: Some(254), format: check::TextFormat::Email, min_length: Some(2), non_empty: true, \
             pattern: Some(\"^a\"), choices: &[\"x\"], ..check::Text::PLAIN }"
        );
    }

    #[test]
    fn literal_defaults_read_as_the_value_the_column_would_hold() {
        assert_eq!(sql_literal("'it''s'"), SqlLiteral::Text("it's".into()));
        assert_eq!(sql_literal("TRUE"), SqlLiteral::Int("1".into()));
        assert_eq!(sql_literal("false"), SqlLiteral::Int("0".into()));
        assert_eq!(sql_literal("12"), SqlLiteral::Int("12".into()));
        assert_eq!(sql_literal("1.5"), SqlLiteral::Float("1.5".into()));
    }

    #[test]
    fn numbers_take_increments_and_other_scalars_do_not() {
        assert_eq!(counter(&ScalarKind::Integer), Some("IntUpdate"));
        assert_eq!(counter(&ScalarKind::Decimal { max_digits: 5, decimal_places: 2 }), Some("DecimalUpdate"));
        assert_eq!(counter(&ScalarKind::Text), None);
    }
}
