//! Row conditions of permissions (`where` and `check`): checked against the models, and
//! rewritten with GraphQL names into the API's `where` language.

use serde_json::{Map, Value};

use super::*;
use crate::ir::rules::{EQUALITY, JSON, ORDER, TEXT};

/// What a condition's value must be.
#[derive(Clone, Copy)]
enum Literal<'m> {
    Text,
    Number,
    Boolean,
    Enum(&'m [String]),
    /// Keys, dates, times, UUIDs, decimals: written as strings (numbers accepted for keys and decimals).
    Formatted,
}

/// How a model is reached from another in a condition.
enum Path<'m> {
    /// One related row: its condition applies directly.
    One(&'m str, String),
    /// Many related rows: `some`, `every` or `none` of them.
    Many(&'m str, String),
}

impl Validator<'_> {
    pub(super) fn key_of(&self, path: &[String]) -> Option<Span> {
        let strs: Vec<&str> = path.iter().map(String::as_str).collect();
        self.key(&strs)
    }

    pub(super) fn value_of(&self, path: &[String]) -> Option<Span> {
        let strs: Vec<&str> = path.iter().map(String::as_str).collect();
        self.value(&strs)
    }

    fn bad(&mut self, path: &[String], message: String, help: impl Into<String>) {
        let span = self.value_of(path);
        self.error(Code::Permission, span, message, help);
    }

    /// A row condition on `model`, rewritten with GraphQL names; `None` after reporting errors.
    pub(super) fn condition(&mut self, path: &[String], value: &Value, model: &Model, models: &[Model]) -> Option<Value> {
        let Value::Object(entries) = value else {
            self.bad(path, format!("a condition on `{}` must be a map", model.name), "e.g. `{status: {eq: published}}` or `{and: [...]}`");
            return None;
        };
        let mut out = Map::new();
        let mut ok = true;
        for (key, v) in entries {
            let mut at = path.to_vec();
            at.push(key.clone());
            let converted = match key.as_str() {
                "and" | "or" => {
                    let items: Vec<&Value> = match v {
                        Value::Array(items) => items.iter().collect(),
                        one => vec![one],
                    };
                    let mut list = Vec::new();
                    for (i, item) in items.into_iter().enumerate() {
                        let mut item_at = at.clone();
                        item_at.push(i.to_string());
                        list.push(self.condition(&item_at, item, model, models));
                    }
                    list.into_iter().collect::<Option<Vec<Value>>>().map(Value::Array).map(|v| (key.clone(), v))
                }
                "not" => self.condition(&at, v, model, models).map(|v| (key.clone(), v)),
                name => self.condition_entry(&at, name, v, model, models),
            };
            match converted {
                Some((k, v)) => {
                    out.insert(k, v);
                }
                None => ok = false,
            }
        }
        ok.then_some(Value::Object(out))
    }

    fn condition_entry(&mut self, at: &[String], name: &str, v: &Value, model: &Model, models: &[Model]) -> Option<(String, Value)> {
        if let Some(f) = model.fields.iter().find(|f| f.name == name) {
            if let FieldKind::ForeignKey { target, .. } = &f.kind {
                return self.related(at, Path::One(target, f.graphql_name.clone()), v, models);
            }
            let literal = match &f.kind {
                FieldKind::PrimaryKey(_) => (Literal::Formatted, EQUALITY.to_vec()),
                FieldKind::Scalar(s) => match s {
                    ScalarKind::String { .. } | ScalarKind::Text => (Literal::Text, [EQUALITY, ORDER, TEXT].concat()),
                    ScalarKind::Json => (Literal::Text, JSON.to_vec()),
                    ScalarKind::Boolean => (Literal::Boolean, EQUALITY.to_vec()),
                    ScalarKind::Enum { values, .. } => (Literal::Enum(values), EQUALITY.to_vec()),
                    ScalarKind::Uuid => (Literal::Formatted, EQUALITY.to_vec()),
                    ScalarKind::Integer | ScalarKind::BigInteger | ScalarKind::Float => (Literal::Number, [EQUALITY, ORDER].concat()),
                    ScalarKind::Decimal { .. } | ScalarKind::Date | ScalarKind::DateTime | ScalarKind::Time => {
                        (Literal::Formatted, [EQUALITY, ORDER].concat())
                    }
                },
                FieldKind::ForeignKey { .. } => unreachable!("handled above"),
            };
            return self.operators(at, &f.name, literal, v).map(|ops| (f.graphql_name.clone(), ops));
        }
        if let Some(link) = model.parent.as_ref().filter(|l| l.name == name) {
            return self.related(at, Path::One(&link.target, link.graphql_name.clone()), v, models);
        }
        if let Some(rel) = model.many_to_many.iter().find(|r| r.name == name) {
            return self.related(at, Path::Many(&rel.target, rel.graphql_name.clone()), v, models);
        }
        if let Some(rev) = model.reverse.iter().find(|r| r.name == name) {
            return self.related(at, Path::Many(&rev.source_model, rev.graphql_name.clone()), v, models);
        }
        let mut known: Vec<&str> = model.fields.iter().map(|f| f.name.as_str()).collect();
        known.extend(model.many_to_many.iter().map(|r| r.name.as_str()));
        known.extend(model.reverse.iter().map(|r| r.name.as_str()));
        known.extend(["and", "or", "not"]);
        let help = did_you_mean(name, known.iter().copied())
            .unwrap_or_else(|| format!("a condition names fields and relations of `{}`: {}", model.name, known.join(", ")));
        self.bad(at, format!("model `{}` has no field or relation `{name}`", model.name), help);
        None
    }

    fn related(&mut self, at: &[String], path: Path<'_>, v: &Value, models: &[Model]) -> Option<(String, Value)> {
        let (target, name, many) = match &path {
            Path::One(target, name) => (*target, name.clone(), false),
            Path::Many(target, name) => (*target, name.clone(), true),
        };
        let target = models.iter().find(|m| m.name == target)?;
        if !many {
            return self.condition(at, v, target, models).map(|c| (name, c));
        }
        let Value::Object(parts) = v else {
            self.bad(
                at,
                format!("`{}` is a list of `{}` rows", at.last().map_or("", String::as_str), target.name),
                "give `some`, `every` or `none` with a condition on them",
            );
            return None;
        };
        let mut out = Map::new();
        let mut ok = true;
        for (quantifier, cond) in parts {
            let mut part_at = at.to_vec();
            part_at.push(quantifier.clone());
            if !matches!(quantifier.as_str(), "some" | "every" | "none") {
                self.bad(
                    &part_at,
                    format!("`{quantifier}` is not `some`, `every` or `none`"),
                    "a to-many relation is filtered by `some`, `every` or `none` of its rows",
                );
                ok = false;
                continue;
            }
            match self.condition(&part_at, cond, target, models) {
                Some(c) => {
                    out.insert(quantifier.clone(), c);
                }
                None => ok = false,
            }
        }
        ok.then_some((name, Value::Object(out)))
    }

    /// A field's operators (`{eq: published}`), checked and with enum values as GraphQL names.
    fn operators(&mut self, at: &[String], field: &str, (literal, ops): (Literal<'_>, Vec<&str>), v: &Value) -> Option<Value> {
        let Value::Object(entries) = v else {
            self.bad(at, format!("`{field}` takes operators"), format!("e.g. `{{eq: ...}}`; operators here: {}", ops.join(", ")));
            return None;
        };
        let mut out = Map::new();
        let mut ok = true;
        for (op, value) in entries {
            let mut op_at = at.to_vec();
            op_at.push(op.clone());
            if !ops.contains(&op.as_str()) {
                let help = did_you_mean(op, ops.iter().copied()).unwrap_or_else(|| format!("operators of `{field}`: {}", ops.join(", ")));
                self.bad(&op_at, format!("`{op}` is not an operator of `{field}`"), help);
                ok = false;
                continue;
            }
            let converted = match op.as_str() {
                "isNull" => match value {
                    Value::Bool(_) => Some(value.clone()),
                    _ => {
                        self.bad(&op_at, "`isNull` takes `true` or `false`".into(), "claims are not allowed here");
                        None
                    }
                },
                "hasKey" => self.operand(&op_at, Literal::Text, value),
                "in" | "notIn" => match value {
                    Value::Array(items) => {
                        items.iter().map(|item| self.operand(&op_at, literal, item)).collect::<Option<Vec<_>>>().map(Value::Array)
                    }
                    claim @ Value::Object(_) => self.operand(&op_at, literal, claim),
                    _ => {
                        self.bad(&op_at, format!("`{op}` takes a list"), "e.g. `[a, b]`, or a claim holding a list: `{claim: groups}`");
                        None
                    }
                },
                _ => self.operand(&op_at, literal, value),
            };
            match converted {
                Some(c) => {
                    out.insert(op.clone(), c);
                }
                None => ok = false,
            }
        }
        ok.then_some(Value::Object(out))
    }

    /// One operand: a literal of the field's type, or a claim (`{claim: sub}`).
    fn operand(&mut self, at: &[String], literal: Literal<'_>, value: &Value) -> Option<Value> {
        if let Value::Object(entries) = value {
            let claim = entries.get("claim").and_then(Value::as_str);
            return match claim {
                Some(name) if entries.len() == 1 && names::claim_name_ok(name) => Some(value.clone()),
                _ => {
                    self.bad(
                        at,
                        "a value here is a literal or `{claim: <name>}`".into(),
                        "e.g. `{claim: sub}`: the caller's token claim `sub`",
                    );
                    None
                }
            };
        }
        let fits = match (literal, value) {
            (Literal::Text, Value::String(_)) | (Literal::Number, Value::Number(_)) | (Literal::Boolean, Value::Bool(_)) => true,
            (Literal::Formatted, Value::String(_) | Value::Number(_)) => true,
            (Literal::Enum(values), Value::String(s)) => {
                if values.contains(s) {
                    return Some(Value::String(names::to_screaming(s)));
                }
                self.bad(at, format!("`{s}` is not one of the enum's values"), format!("values: {}", values.join(", ")));
                return None;
            }
            _ => false,
        };
        if !fits {
            let what = match literal {
                Literal::Text => "a string",
                Literal::Number => "a number",
                Literal::Boolean => "`true` or `false`",
                Literal::Enum(_) => "one of the enum's values",
                Literal::Formatted => "a string (an id, date, time, UUID or decimal)",
            };
            self.bad(at, format!("{} is not {what}", short_json(value)), "give a literal of the field's type, or `{claim: <name>}`");
            return None;
        }
        Some(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{assert_error, errors};
    use crate::diag::Code;

    /// A `reader` role reading `Post` rows under `condition`.
    fn read_where(condition: &str) -> Vec<(Code, String)> {
        errors(&format!(
            "roles: {{ reader: {{}} }}\nmodels:\n  Author: {{ fields: {{ id: auto, name: string }} }}\n  Post:\n    fields:\n      id: auto\n      title: string\n      \
             status: {{ type: enum, values: [draft, published] }}\n      author: {{ type: foreign_key, to: Author, on_delete: cascade, related_name: posts }}\n    \
             permissions:\n      reader: {{ read: {{ where: {condition} }} }}\n"
        ))
    }

    #[test]
    fn conditions_name_fields_and_their_operators() {
        assert!(read_where("{ status: { eq: published } }").is_empty());
        assert_error(&read_where("{ state: { eq: published } }"), Code::Permission, "has no field or relation `state`");
        assert_error(&read_where("{ title: published }"), Code::Permission, "`title` takes operators");
        assert_error(&read_where("{ title: { between: [a, b] } }"), Code::Permission, "`between` is not an operator of `title`");
        assert_error(&read_where("{ title: { in: x } }"), Code::Permission, "`in` takes a list");
        assert_error(&read_where("{ title: { isNull: { claim: sub } } }"), Code::Permission, "`isNull` takes `true` or `false`");
    }

    #[test]
    fn literals_fit_their_field() {
        assert_error(&read_where("{ status: { eq: gone } }"), Code::Permission, "not one of the enum's values");
        assert!(read_where("{ author: { id: { eq: { claim: sub } } } }").is_empty());
    }

    #[test]
    fn conditions_are_maps() {
        assert_error(&read_where("[published]"), Code::Permission, "must be a map");
    }
}
