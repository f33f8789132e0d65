//! One field's declaration: its type, the options that type takes, its rules, default and target.

use super::*;

/// Type names accepted in `type:`.
pub(super) const TYPE_NAMES: &[&str] = &[
    "auto",
    "big_auto",
    "integer",
    "big_integer",
    "float",
    "decimal",
    "boolean",
    "string",
    "text",
    "email",
    "url",
    "slug",
    "date",
    "datetime",
    "time",
    "uuid",
    "json",
    "enum",
    "foreign_key",
    "one_to_one",
    "many_to_many",
];

/// The length of a `string` field that gives none.
pub(super) const DEFAULT_MAX_LENGTH: u32 = 255;

impl Validator<'_> {
    /// Options that do not belong to the field's type, and required options that are missing.
    pub(super) fn check_options(&mut self, path: &[&str; 4], spec: &RawFieldSpec) {
        let ty = spec.ty.as_str();
        let is_string = matches!(ty, "string" | "email" | "url" | "slug");
        let is_rel = matches!(ty, "foreign_key" | "one_to_one" | "many_to_many");
        let is_text = is_string || ty == "text";
        let is_number = matches!(ty, "integer" | "big_integer" | "float" | "decimal");
        let allowed: [(&str, bool, bool); 16] = [
            ("min_length", spec.min_length.is_some(), is_text),
            ("non_empty", spec.non_empty, is_text),
            ("pattern", spec.pattern.is_some(), is_text),
            ("choices", spec.choices.is_some(), is_text),
            ("min", spec.min.is_some(), is_number),
            ("max", spec.max.is_some(), is_number),
            ("max_length", spec.max_length.is_some(), is_string),
            ("max_digits", spec.max_digits.is_some(), ty == "decimal"),
            ("decimal_places", spec.decimal_places.is_some(), ty == "decimal"),
            ("values", spec.values.is_some(), ty == "enum"),
            ("to", spec.to.is_some(), is_rel),
            ("on_delete", spec.on_delete.is_some(), matches!(ty, "foreign_key" | "one_to_one")),
            ("related_name", spec.related_name.is_some(), is_rel),
            ("through", spec.through.is_some(), ty == "many_to_many"),
            ("through_fields", spec.through_fields.is_some(), ty == "many_to_many"),
            ("through_where", spec.through_where.is_some(), ty == "many_to_many"),
        ];
        for (key, present, ok) in allowed {
            if present && !ok {
                self.error(
                    Code::FieldOption,
                    self.key(&[path[0], path[1], path[2], path[3], key]),
                    format!("option `{key}` does not apply to type `{ty}`"),
                    "remove it; docs/manifest.md lists the options of each type",
                );
            }
        }
        if ty == "many_to_many" {
            for (key, present) in [
                ("nullable", spec.nullable),
                ("unique", spec.unique),
                ("indexed", spec.indexed),
                ("default", spec.default.is_some()),
                ("column", spec.column.is_some()),
            ] {
                if present {
                    self.error(
                        Code::FieldOption,
                        self.key(&[path[0], path[1], path[2], path[3], key]),
                        format!("option `{key}` does not apply to `many_to_many`"),
                        "remove it: a many-to-many relation has no column of its own",
                    );
                }
            }
        }
        if ty == "decimal" && (spec.max_digits.is_none() || spec.decimal_places.is_none()) {
            self.error(
                Code::FieldOption,
                self.key(path),
                format!("decimal field `{}` needs `max_digits` and `decimal_places`", path[3]),
                "e.g. `{ type: decimal, max_digits: 10, decimal_places: 2 }`",
            );
        }
        if let (Some(d), Some(p)) = (spec.max_digits, spec.decimal_places) {
            if d == 0 || d > 28 || p > d {
                self.error(
                    Code::FieldOption,
                    self.value(&[path[0], path[1], path[2], path[3], "max_digits"]),
                    format!("decimal `{}` has max_digits {d} and decimal_places {p}", path[3]),
                    "max_digits must be 1 to 28 and at least decimal_places",
                );
            }
        }
        if spec.max_length == Some(0) {
            self.error(
                Code::FieldOption,
                self.value(&[path[0], path[1], path[2], path[3], "max_length"]),
                "`max_length` must be at least 1".into(),
                "give a positive length",
            );
        }
        self.check_rules(path, spec);
        if is_rel && spec.to.is_none() {
            self.error(
                Code::FieldOption,
                self.key(path),
                format!("relation `{}` needs `to:`, the target model", path[3]),
                "add `to: ModelName`",
            );
        }
        if matches!(ty, "foreign_key" | "one_to_one") && spec.on_delete.is_none() {
            self.error(
                Code::FieldOption,
                self.key(path),
                format!("relation `{}` needs `on_delete:`", path[3]),
                format!("add `on_delete:` with one of {}", OnDelete::NAMES.join(", ")),
            );
        }
    }

    /// Validators that contradict themselves or the field's type.
    pub(super) fn check_rules(&mut self, path: &[&str; 4], spec: &RawFieldSpec) {
        let at = |key: &'static str| [path[0], path[1], path[2], path[3], key];
        if let Some(pattern) = &spec.pattern {
            if let Err(e) = regex_lite::Regex::new(pattern) {
                let first = e.to_string().lines().last().unwrap_or("").trim().to_string();
                self.error(
                    Code::FieldOption,
                    self.value(&at("pattern")),
                    format!("`pattern` of `{}` is not a valid regular expression: {first}", path[3]),
                    "use the syntax of the `regex` crate (no look-around or back-references)",
                );
            }
        }
        if let (Some(min), Some(max)) = (spec.min_length, spec.max_length) {
            if min > max {
                self.error(
                    Code::FieldOption,
                    self.value(&at("min_length")),
                    format!("`min_length` {min} of `{}` is above its `max_length` {max}", path[3]),
                    "lower `min_length` or raise `max_length`",
                );
            }
        }
        let number = |n: &Option<serde_json::Number>| n.as_ref().map(|n| n.as_f64().unwrap_or(f64::NAN));
        for key in ["min", "max"] {
            let value = if key == "min" { &spec.min } else { &spec.max };
            let Some(n) = value else { continue };
            let whole = n.is_i64() || n.is_u64();
            let problem = match spec.ty.as_str() {
                "integer" if !whole || n.as_i64().and_then(|v| i32::try_from(v).ok()).is_none() => {
                    Some("a whole number in the 32-bit range")
                }
                "big_integer" if n.as_i64().is_none() => Some("a whole number in the 64-bit range"),
                "decimal" => {
                    let text = n.to_string();
                    let places = text.split_once('.').map_or(0, |(_, f)| f.len()) as u32;
                    (text.contains(['e', 'E']) || places > spec.decimal_places.unwrap_or(0))
                        .then_some("a plain number with no more decimal places than the field has")
                }
                _ => None,
            };
            if let Some(what) = problem {
                self.error(
                    Code::FieldOption,
                    self.value(&at(key)),
                    format!("`{key}` of `{}` must be {what}", path[3]),
                    format!("`{}` is of type `{}`", path[3], spec.ty),
                );
            }
        }
        if let (Some(min), Some(max)) = (number(&spec.min), number(&spec.max)) {
            if min > max {
                self.error(
                    Code::FieldOption,
                    self.value(&at("min")),
                    format!("`min` {min} of `{}` is above its `max` {max}", path[3]),
                    "swap them or fix one",
                );
            }
        }
        if let Some(choices) = &spec.choices {
            let mut seen = BTreeSet::new();
            let duplicate = choices.iter().find(|c| !seen.insert(c.as_str()));
            if choices.is_empty() || duplicate.is_some() {
                self.error(
                    Code::FieldOption,
                    self.value(&at("choices")),
                    match duplicate {
                        Some(d) => format!("`choices` of `{}` lists `{d}` twice", path[3]),
                        None => format!("`choices` of `{}` is empty", path[3]),
                    },
                    "list each allowed value once",
                );
            }
        }
    }

    pub(super) fn target(&mut self, path: &[&str; 4], spec: &RawFieldSpec, models: &BTreeMap<String, ModelMeta>) -> Option<String> {
        let to = spec.to.as_ref()?;
        if models.contains_key(to) {
            return Some(to.clone());
        }
        let help = did_you_mean(to, models.keys().map(String::as_str))
            .unwrap_or_else(|| format!("declared models: {}", models.keys().cloned().collect::<Vec<_>>().join(", ")));
        self.error(
            Code::UnknownModel,
            self.value(&[path[0], path[1], path[2], path[3], "to"]),
            format!("relation `{}` points to unknown model `{to}`", path[3]),
            help,
        );
        None
    }

    pub(super) fn on_delete(&mut self, path: &[&str; 4], spec: &RawFieldSpec) -> OnDelete {
        let Some(raw) = &spec.on_delete else { return OnDelete::Restrict };
        OnDelete::parse(raw).unwrap_or_else(|| {
            let help = did_you_mean(raw, OnDelete::NAMES).unwrap_or_else(|| format!("use one of {}", OnDelete::NAMES.join(", ")));
            self.error(
                Code::Relation,
                self.value(&[path[0], path[1], path[2], path[3], "on_delete"]),
                format!("unknown on_delete action `{raw}`"),
                help,
            );
            OnDelete::Restrict
        })
    }

    pub(super) fn scalar(&mut self, model: &str, path: &[&str; 4], fsnake: &str, spec: &RawFieldSpec) -> Option<ScalarKind> {
        let max_length = spec.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
        Some(match spec.ty.as_str() {
            "integer" => ScalarKind::Integer,
            "big_integer" => ScalarKind::BigInteger,
            "float" => ScalarKind::Float,
            "decimal" => {
                ScalarKind::Decimal { max_digits: spec.max_digits.unwrap_or(10), decimal_places: spec.decimal_places.unwrap_or(2) }
            }
            "boolean" => ScalarKind::Boolean,
            "string" => ScalarKind::String { max_length, format: TextFormat::Plain },
            "email" => ScalarKind::String { max_length, format: TextFormat::Email },
            "url" => ScalarKind::String { max_length, format: TextFormat::Url },
            "slug" => ScalarKind::String { max_length, format: TextFormat::Slug },
            "text" => ScalarKind::Text,
            "date" => ScalarKind::Date,
            "datetime" => ScalarKind::DateTime,
            "time" => ScalarKind::Time,
            "uuid" => ScalarKind::Uuid,
            "json" => ScalarKind::Json,
            "enum" => {
                let values = self.enum_values(path, spec)?;
                ScalarKind::Enum { type_name: format!("{model}{}", to_pascal(fsnake)), values }
            }
            _ => return None,
        })
    }

    pub(super) fn enum_values(&mut self, path: &[&str; 4], spec: &RawFieldSpec) -> Option<Vec<String>> {
        let vpath = [path[0], path[1], path[2], path[3], "values"];
        let values = spec.values.clone().unwrap_or_default();
        if values.is_empty() {
            let span = if spec.values.is_some() { self.value(&vpath) } else { self.key(path) };
            self.error(
                Code::EnumValues,
                span,
                format!("enum `{}` has no values", path[3]),
                "list its values, e.g. `values: [draft, published]`",
            );
            return None;
        }
        let mut seen = BTreeSet::new();
        let mut ok = true;
        for (i, value) in values.iter().enumerate() {
            let idx = i.to_string();
            let span = self.value(&[vpath[0], vpath[1], vpath[2], vpath[3], vpath[4], &idx]);
            if !names::is_sql_ident(value) || value.starts_with('_') {
                ok = false;
                let fixed: String =
                    to_snake(value).chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
                self.error(
                    Code::EnumValues,
                    span,
                    format!("enum value `{value}` is not lowercase snake_case"),
                    format!("write it as `{fixed}`; the API shows it as `{}`", fixed.to_uppercase()),
                );
            } else if !seen.insert(value.clone()) {
                ok = false;
                self.error(Code::EnumValues, span, format!("enum value `{value}` is listed twice"), "remove the duplicate");
            }
        }
        ok.then_some(values)
    }

    pub(super) fn default(&mut self, path: &[&str; 4], spec: &RawFieldSpec, kind: &FieldKind) -> Option<DefaultValue> {
        let value = spec.default.as_ref()?;
        let span = self.value(&[path[0], path[1], path[2], path[3], "default"]);
        match crate::ir::defaults::check(kind, value) {
            Ok(d) => Some(d),
            Err(why) => {
                self.error(
                    Code::BadDefault,
                    span,
                    format!("default {} does not fit field `{}`: {why}", short_json(value), path[3]),
                    "give a literal of the field's type, `now` for date/datetime/time, or `uuid` for uuid",
                );
                None
            }
        }
    }

    pub(super) fn unknown_field(&mut self, path: &[&str], model: &str, field: &str, known: &[String]) {
        let help =
            did_you_mean(field, known.iter().map(String::as_str)).unwrap_or_else(|| format!("fields of `{model}`: {}", known.join(", ")));
        self.error(Code::UnknownField, self.value(path), format!("model `{model}` has no field `{field}`"), help);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{assert_error, errors};
    use crate::diag::Code;

    /// `Book` with `fields` beside a valid `Author`.
    fn book(fields: &str) -> Vec<(Code, String)> {
        errors(&format!("models:\n  Author: {{ fields: {{ id: auto, name: string }} }}\n  Book: {{ fields: {{ id: auto, {fields} }} }}\n"))
    }

    #[test]
    fn options_belong_to_their_type() {
        assert_error(
            &book("title: { type: integer, max_length: 3 }"),
            Code::FieldOption,
            "option `max_length` does not apply to type `integer`",
        );
        assert_error(
            &book("authors: { type: many_to_many, to: Author, nullable: true }"),
            Code::FieldOption,
            "does not apply to `many_to_many`",
        );
    }

    #[test]
    fn required_options_are_given() {
        assert_error(&book("price: decimal"), Code::FieldOption, "needs `max_digits` and `decimal_places`");
        assert_error(
            &book("price: { type: decimal, max_digits: 4, decimal_places: 6 }"),
            Code::FieldOption,
            "max_digits 4 and decimal_places 6",
        );
        assert_error(&book("author: { type: foreign_key, on_delete: cascade }"), Code::FieldOption, "needs `to:`");
        assert_error(&book("author: { type: foreign_key, to: Author }"), Code::FieldOption, "needs `on_delete:`");
    }

    #[test]
    fn validation_rules_are_consistent() {
        assert_error(&book("title: { type: string, pattern: '(' }"), Code::FieldOption, "not a valid regular expression");
        assert_error(&book("title: { type: string, max_length: 5, min_length: 9 }"), Code::FieldOption, "above its `max_length`");
        assert_error(&book("pages: { type: integer, min: 10, max: 1 }"), Code::FieldOption, "`min` 10 of `pages` is above its `max` 1");
        assert_error(&book("title: { type: string, choices: [a, a] }"), Code::FieldOption, "lists `a` twice");
        assert_error(&book("title: { type: string, choices: [] }"), Code::FieldOption, "is empty");
    }

    #[test]
    fn relations_point_at_declared_models_with_known_actions() {
        assert_error(&book("author: { type: foreign_key, to: Autor, on_delete: cascade }"), Code::UnknownModel, "unknown model `Autor`");
        assert_error(
            &book("author: { type: foreign_key, to: Author, on_delete: explode }"),
            Code::Relation,
            "unknown on_delete action `explode`",
        );
    }

    #[test]
    fn enum_values_are_distinct_snake_case_and_present() {
        assert_error(&book("state: { type: enum, values: [] }"), Code::EnumValues, "has no values");
        assert_error(&book("state: { type: enum, values: [Draft] }"), Code::EnumValues, "not lowercase snake_case");
        assert_error(&book("state: { type: enum, values: [a, a] }"), Code::EnumValues, "listed twice");
    }

    #[test]
    fn defaults_fit_their_field() {
        assert_error(&book("pages: { type: integer, default: many }"), Code::BadDefault, "does not fit field `pages`");
        assert_error(&book("title: { type: string, max_length: 2, default: long }"), Code::BadDefault, "does not fit field `title`");
    }
}
