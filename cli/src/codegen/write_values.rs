//! How each input value of a write is checked and bound: the input types of scalars, their
//! rules as the runtime's `check` values, bound literals, server-computed defaults and counters.

use super::common::api_scalar;
use crate::ir::{DefaultValue, Field, FieldKind, Rules, ScalarKind, TextFormat};

/// A Rust string literal.
pub(super) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// How a scalar value arrives and is bound: `(Rust input type, GraphQL type, bind expression of v)`.
pub(super) fn scalar_input(f: &Field, s: &ScalarKind) -> (String, String, String) {
    let here = format!("&check::path(at, {})", lit(&f.graphql_name));
    let gql_ty = f.types.graphql.clone();
    let r = &f.rules;
    if let Some(wrapper) = api_scalar(s) {
        // Our scalars parse strictly; the stored value is inside.
        let bind = match s {
            ScalarKind::Date => "Bind::Date(v.0)".to_string(),
            ScalarKind::Time => "Bind::Time(v.0)".to_string(),
            ScalarKind::DateTime => "Bind::DateTime(v.0)".to_string(),
            ScalarKind::BigInteger => format!("check::int(p, {here}, v.0, &{})", range(r, |n| n.to_string())),
            _ => format!("check::text(p, {here}, v.0, &{})", text_rules(s, r)),
        };
        return (wrapper.to_string(), gql_ty, bind);
    }
    match s {
        ScalarKind::String { .. } | ScalarKind::Text => {
            ("String".into(), gql_ty, format!("check::text(p, {here}, v, &{})", text_rules(s, r)))
        }
        ScalarKind::Integer => ("i32".into(), gql_ty, integer_bind(f, "i64::from(v)")),
        ScalarKind::BigInteger => ("i64".into(), gql_ty, format!("check::int(p, {here}, v, &{})", range(r, |n| n.to_string()))),
        ScalarKind::Float => ("f64".into(), gql_ty, format!("check::float(p, {here}, v, &{})", range(r, float_lit))),
        ScalarKind::Decimal { max_digits, decimal_places } => (
            "rust_decimal::Decimal".into(),
            gql_ty,
            format!(
                "check::decimal(p, {here}, v, &check::Digits {{ max_digits: {max_digits}, places: {decimal_places}, range: {} }})",
                range(r, decimal_lit)
            ),
        ),
        ScalarKind::Boolean => ("bool".into(), gql_ty, "Bind::Int(i64::from(v))".into()),
        ScalarKind::Date => (f.types.rust.clone(), gql_ty, "Bind::Date(v)".into()),
        ScalarKind::Time => (f.types.rust.clone(), gql_ty, "Bind::Time(v)".into()),
        ScalarKind::DateTime => (f.types.rust.clone(), gql_ty, "Bind::DateTime(v)".into()),
        ScalarKind::Uuid => ("uuid::Uuid".into(), gql_ty, "Bind::Text(convert::uuid_text(v))".into()),
        ScalarKind::Json => ("async_graphql::Json<serde_json::Value>".into(), gql_ty, "Bind::Text(v.0.to_string())".into()),
        ScalarKind::Enum { type_name, .. } => (type_name.clone(), gql_ty, "Bind::Text(v.as_db().to_string())".into()),
    }
}

/// The bind of a 32-bit integer field's value `value` (an `i64` expression), checked against the
/// field's range or else the 32-bit one.
fn integer_bind(f: &Field, value: &str) -> String {
    let here = format!("&check::path(at, {})", lit(&f.graphql_name));
    let min = f.rules.min.as_deref().map_or("i32::MIN as i64".to_string(), str::to_string);
    let max = f.rules.max.as_deref().map_or("i32::MAX as i64".to_string(), str::to_string);
    format!("check::int(p, {here}, {value}, &check::Range {{ min: Some({min}), max: Some({max}) }})")
}

/// The bind of a counter's `{set: v}`: the shared update inputs carry 64-bit integers, which an
/// integer field's range check bounds; other counters take the value as a create does.
pub(super) fn counter_set_bind(f: &Field, s: &ScalarKind) -> String {
    match s {
        ScalarKind::Integer => integer_bind(f, "v"),
        _ => scalar_input(f, s).2,
    }
}

pub(super) fn float_lit(n: &str) -> String {
    if n.contains('.') || n.contains('e') || n.contains('E') {
        n.to_string()
    } else {
        format!("{n}.0")
    }
}

/// A decimal bound as an exact constructor (`Decimal::from_i128_with_scale(15, 1)` for `1.5`).
pub(super) fn decimal_lit(n: &str) -> String {
    let (int, frac) = n.split_once('.').unwrap_or((n, ""));
    let digits = format!("{int}{frac}");
    let mantissa: i128 = digits.parse().unwrap_or(0);
    format!("rust_decimal::Decimal::from_i128_with_scale({mantissa}, {})", frac.len())
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

/// The bound value of a default the server computes (`now`, `uuid`). Literal defaults are left to
/// the column's SQL `DEFAULT` — except on tables gqlauto does not manage, which may not have one.
pub(super) fn computed_default(f: &Field, managed: bool) -> Option<String> {
    let value = match (f.default.as_ref()?, &f.kind) {
        (DefaultValue::Now, FieldKind::Scalar(ScalarKind::Date)) => "Bind::Date(chrono::Utc::now().date_naive())".to_string(),
        (DefaultValue::Now, FieldKind::Scalar(ScalarKind::Time)) => "Bind::Time(chrono::Utc::now().time())".to_string(),
        (DefaultValue::Now, _) => "Bind::DateTime(chrono::Utc::now())".to_string(),
        (DefaultValue::NewUuid, _) => "Bind::Text(convert::uuid_text(uuid::Uuid::new_v4()))".to_string(),
        (DefaultValue::Literal { .. }, _) if managed => return None,
        (DefaultValue::Literal { sql, .. }, _) => literal_bind(sql),
    };
    Some(value)
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

/// A SQL literal as the `Bind` that stores the same value.
pub(super) fn literal_bind(sql: &str) -> String {
    match sql_literal(sql) {
        SqlLiteral::Text(text) => format!("Bind::Text({text:?}.to_string())"),
        SqlLiteral::Int(n) => format!("Bind::Int({n})"),
        SqlLiteral::Float(n) => format!("Bind::Float({n}_f64)"),
    }
}

/// Whether updates of this field take `{set, increment}`: `(input type, GraphQL type)`.
pub(super) fn counter(s: &ScalarKind) -> Option<(&'static str, &'static str)> {
    match s {
        ScalarKind::Integer => Some(("crate::runtime::write::IntUpdate", "IntUpdate")),
        ScalarKind::BigInteger => Some(("crate::runtime::write::BigIntUpdate", "BigIntUpdate")),
        ScalarKind::Float => Some(("crate::runtime::write::FloatUpdate", "FloatUpdate")),
        ScalarKind::Decimal { .. } => Some(("crate::runtime::write::DecimalUpdate", "DecimalUpdate")),
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
        assert_eq!(decimal_lit("1.5"), "rust_decimal::Decimal::from_i128_with_scale(15, 1)");
        assert_eq!(decimal_lit("-20"), "rust_decimal::Decimal::from_i128_with_scale(-20, 0)");
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
    fn literal_defaults_bind_the_value_the_column_would_hold() {
        assert_eq!(literal_bind("'it''s'"), "Bind::Text(\"it's\".to_string())");
        assert_eq!(literal_bind("TRUE"), "Bind::Int(1)");
        assert_eq!(literal_bind("false"), "Bind::Int(0)");
        assert_eq!(literal_bind("12"), "Bind::Int(12)");
        assert_eq!(literal_bind("1.5"), "Bind::Float(1.5_f64)");
    }

    #[test]
    fn the_server_computes_now_and_uuid_defaults_and_literals_only_off_its_own_tables() {
        let field = |kind: ScalarKind, default: DefaultValue| Field {
            name: "f".into(),
            graphql_name: "f".into(),
            column: "f".into(),
            types: kind.types(),
            kind: FieldKind::Scalar(kind),
            nullable: false,
            unique: false,
            default: Some(default),
            description: None,
            deprecated: None,
            renamed_from: None,
            rules: Rules::default(),
            hidden: false,
            write_only: false,
        };
        let today = field(ScalarKind::Date, DefaultValue::Now);
        assert_eq!(computed_default(&today, true).as_deref(), Some("Bind::Date(chrono::Utc::now().date_naive())"));
        let stamp = field(ScalarKind::DateTime, DefaultValue::Now);
        assert_eq!(computed_default(&stamp, true).as_deref(), Some("Bind::DateTime(chrono::Utc::now())"));
        let literal = field(ScalarKind::Integer, DefaultValue::Literal { sql: "3".into(), rust: "3".into() });
        assert_eq!(computed_default(&literal, true), None, "the column's DEFAULT fills it");
        assert_eq!(computed_default(&literal, false).as_deref(), Some("Bind::Int(3)"), "a table gqlauto does not manage may have none");
    }

    #[test]
    fn integers_arrive_as_32_bits_and_are_set_from_64() {
        let mut f = super::super::common::blog().model("Post").unwrap().fields.iter().find(|f| f.name == "views").unwrap().clone();
        f.rules.max = Some("10".into());
        let (ty, _, bind) = scalar_input(&f, &ScalarKind::Integer);
        assert_eq!(ty, "i32");
        assert_eq!(bind, "check::int(p, &check::path(at, \"views\"), i64::from(v), &check::Range { min: Some(0), max: Some(10) })");
        assert_eq!(
            counter_set_bind(&f, &ScalarKind::Integer),
            "check::int(p, &check::path(at, \"views\"), v, &check::Range { min: Some(0), max: Some(10) })"
        );
    }

    #[test]
    fn numbers_take_increments_and_other_scalars_do_not() {
        assert_eq!(counter(&ScalarKind::Integer), Some(("crate::runtime::write::IntUpdate", "IntUpdate")));
        assert_eq!(counter(&ScalarKind::Decimal { max_digits: 5, decimal_places: 2 }).map(|c| c.1), Some("DecimalUpdate"));
        assert_eq!(counter(&ScalarKind::Text), None);
    }
}
