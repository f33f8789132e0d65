//! Model-level constraints: `unique_together`, indexes, ordering, search fields and checks.

use super::*;

impl Validator<'_> {
    /// Parses `<field> <op> <field or literal>` and checks that both sides compare.
    pub(super) fn model_check(
        &mut self,
        model_name: &str,
        i: usize,
        raw: &RawCheck,
        model: &Model,
        field_names: &[String],
    ) -> Option<ModelCheck> {
        let index = i.to_string();
        let path = ["models", model_name, "checks", index.as_str(), "rule"];
        let rule = raw.rule.trim();
        let Some((op, comparison, at)) = Comparison::ALL.iter().find_map(|(op, c)| rule.find(op).map(|at| (*op, *c, at))) else {
            self.error(
                Code::FieldOption,
                self.value(&path),
                format!("check `{rule}` has no comparison"),
                "write `<field> <op> <field or literal>` with one of <, <=, >, >=, =, !=",
            );
            return None;
        };
        // `<` found inside `<=` etc. is avoided by trying the two-character operators first.
        let (left, right) = (rule[..at].trim(), rule[at + op.len()..].trim());
        let position = |f: &str| model.fields.iter().position(|x| x.name == to_snake(f) && !matches!(x.kind, FieldKind::PrimaryKey(_)));
        let Some(l) = position(left) else {
            self.unknown_field(&path, model_name, left, field_names);
            return None;
        };
        let lf = &model.fields[l];
        let class = |f: &Field| match &f.kind {
            FieldKind::Scalar(ScalarKind::Integer | ScalarKind::BigInteger | ScalarKind::Float | ScalarKind::Decimal { .. }) => "number",
            FieldKind::Scalar(ScalarKind::String { .. } | ScalarKind::Text) => "text",
            FieldKind::Scalar(ScalarKind::Date) => "date",
            FieldKind::Scalar(ScalarKind::Time) => "time",
            FieldKind::Scalar(ScalarKind::DateTime) => "datetime",
            FieldKind::Scalar(ScalarKind::Boolean) => "boolean",
            _ => "other",
        };
        let ordered = !matches!(op, "=" | "!=");
        let fail = |me: &mut Self, message: String, help: &str| {
            me.error(Code::FieldOption, me.value(&path), message, help.to_string());
            None
        };
        if class(lf) == "other" || (class(lf) == "boolean" && ordered) {
            return fail(
                self,
                format!("check `{rule}`: `{left}` cannot be compared with `{op}`"),
                "compare numbers, text, dates, times or date-times (booleans with = or != only)",
            );
        }
        let right_operand = if let Some(r) = position(right) {
            if class(&model.fields[r]) != class(lf) {
                return fail(
                    self,
                    format!("check `{rule}`: `{left}` and `{right}` are of different kinds"),
                    "compare fields of the same kind",
                );
            }
            CheckOperand::Field(r)
        } else {
            let literal = match (class(lf), right) {
                ("number", n) if n.parse::<f64>().is_ok_and(f64::is_finite) => {
                    let decimal = matches!(lf.kind, FieldKind::Scalar(ScalarKind::Decimal { .. }));
                    let integer = matches!(lf.kind, FieldKind::Scalar(ScalarKind::Integer | ScalarKind::BigInteger));
                    if integer && n.parse::<i64>().is_err() {
                        None
                    } else if decimal {
                        Some((n.to_string(), format!("Operand::Text({n:?})")))
                    } else if integer {
                        Some((n.to_string(), format!("Operand::Int({n})")))
                    } else {
                        let f = if n.contains(['.', 'e', 'E']) { n.to_string() } else { format!("{n}.0") };
                        Some((n.to_string(), format!("Operand::Float({f})")))
                    }
                }
                ("boolean", "true") => Some(("TRUE".into(), "Operand::Int(1)".into())),
                ("boolean", "false") => Some(("FALSE".into(), "Operand::Int(0)".into())),
                (kind @ ("text" | "date" | "time"), quoted) if quoted.len() >= 2 && quoted.starts_with('\'') && quoted.ends_with('\'') => {
                    let text = &quoted[1..quoted.len() - 1];
                    let ok = match kind {
                        "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
                        "time" => chrono::NaiveTime::parse_from_str(text, "%H:%M:%S").is_ok(),
                        _ => !text.contains('\''),
                    };
                    let value = match kind {
                        "date" => format!("Operand::Date({text:?})"),
                        "time" => format!("Operand::Time({text:?})"),
                        _ => format!("Operand::Text({text:?})"),
                    };
                    ok.then(|| (quoted.to_string(), value))
                }
                _ => None,
            };
            match literal {
                Some((sql, rust)) => CheckOperand::Literal { sql, rust },
                None if right.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && right.parse::<f64>().is_err()
                    && right != "true"
                    && right != "false" =>
                {
                    self.unknown_field(&path, model_name, right, field_names);
                    return None;
                }
                None => {
                    return fail(
                        self,
                        format!("check `{rule}`: `{right}` is not a field or a literal of `{left}`'s type ({})", class(lf)),
                        "numbers as written, text/dates/times in 'single quotes' (YYYY-MM-DD, HH:MM:SS), true or false; date-times compare with fields only",
                    );
                }
            }
        };
        let api = |f: &Field| f.graphql_name.clone();
        let right_text = match &right_operand {
            CheckOperand::Field(r) => format!("`{}`", api(&model.fields[*r])),
            CheckOperand::Literal { sql, .. } => sql.clone(),
        };
        let name = raw.name.clone().unwrap_or_else(|| {
            let word = match op {
                "<" => "lt",
                "<=" => "le",
                ">" => "gt",
                ">=" => "ge",
                "=" => "eq",
                _ => "ne",
            };
            let side: String = right.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
            format!("{}_{word}_{}", lf.name, side.trim_matches('_'))
        });
        let name_path = if raw.name.is_some() { ["models", model_name, "checks", index.as_str(), "name"] } else { path };
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') || name.is_empty() {
            self.error(
                Code::FieldOption,
                self.value(&name_path),
                format!("check name `{name}` is not snake_case"),
                "use lowercase letters, digits and `_`",
            );
            return None;
        }
        // Field rules are constraints named after their column: `<table>_<column>_check`.
        if model.fields.iter().any(|f| f.column == name) || model.checks.iter().any(|c| c.name == name) {
            self.error(
                Code::FieldOption,
                self.value(&name_path),
                format!("check name `{name}` is already taken in `{model_name}`"),
                "give the check another `name:`",
            );
            return None;
        }
        Some(ModelCheck {
            message: raw.message.clone().unwrap_or_else(|| format!("`{}` must be {op} {right_text}", api(lf))),
            name,
            left: l,
            op: comparison,
            right: right_operand,
        })
    }

    pub(super) fn constraints(&mut self, raw: &RawManifest, models: &mut [Model]) {
        for model in models.iter_mut() {
            let Some(rm) = raw.models.get(&model.name) else { continue };
            let name = model.name.clone();
            let column_of = |fields: &[Field], f: &str| fields.iter().find(|x| x.name == to_snake(f)).map(|x| x.column.clone());
            let field_names: Vec<String> = rm.fields.keys().cloned().collect();
            for (i, group) in rm.unique_together.iter().enumerate() {
                let mut cols = Vec::new();
                for (j, f) in group.iter().enumerate() {
                    match column_of(&model.fields, f) {
                        Some(c) => cols.push(c),
                        None => self.unknown_field(
                            &["models", &name, "unique_together", &i.to_string(), &j.to_string()],
                            &name,
                            f,
                            &field_names,
                        ),
                    }
                }
                if cols.len() == group.len() && cols.len() >= 2 {
                    model.unique_together.push(cols);
                } else if group.len() < 2 {
                    self.error(
                        Code::FieldOption,
                        self.value(&["models", &name, "unique_together", &i.to_string()]),
                        "a unique_together group needs at least two fields".into(),
                        "use `unique: true` on the field for a single column",
                    );
                }
            }
            for (i, idx) in rm.indexes.iter().enumerate() {
                let mut cols = Vec::new();
                for (j, f) in idx.fields.iter().enumerate() {
                    match column_of(&model.fields, f) {
                        Some(c) => cols.push(c),
                        None => self.unknown_field(
                            &["models", &name, "indexes", &i.to_string(), "fields", &j.to_string()],
                            &name,
                            f,
                            &field_names,
                        ),
                    }
                }
                if idx.fields.is_empty() {
                    self.error(
                        Code::FieldOption,
                        self.value(&["models", &name, "indexes", &i.to_string()]),
                        "an index needs at least one field".into(),
                        "list the indexed fields under `fields:`",
                    );
                } else if cols.len() == idx.fields.len() {
                    let iname = idx.name.clone().unwrap_or_else(|| format!("{}_{}_idx", model.table, cols.join("_")));
                    model.indexes.push(Index { name: iname, columns: cols, unique: idx.unique });
                }
            }
            for (i, entry) in rm.ordering.iter().enumerate() {
                let (desc, f) = match entry.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, entry.as_str()),
                };
                let path = ["models", name.as_str(), "ordering", &i.to_string()];
                match model.fields.iter().position(|x| x.name == to_snake(f)) {
                    Some(pos) if matches!(model.fields[pos].kind, FieldKind::Scalar(ScalarKind::Json)) => self.error(
                        Code::FieldOption,
                        self.value(&path),
                        format!("`{name}.{f}` is JSON, which has no order"),
                        "order by another field",
                    ),
                    Some(pos) => {
                        if matches!(model.fields[pos].kind, FieldKind::Scalar(ScalarKind::Decimal { .. })) {
                            self.diags.push(
                                Diagnostic::warning(
                                    Code::UnindexedOrdering,
                                    self.value(&path),
                                    format!("`{name}.{f}` is a decimal stored as text: lists sort it by numeric value, which no index can serve, so every default list reads and sorts the whole table"),
                                )
                                .with_help("order by another field, or store the amount as an integer (e.g. cents) if the table grows large"),
                            );
                        }
                        model.ordering.push((pos, desc));
                    }
                    None => self.unknown_field(&path, &name, f, &field_names),
                }
            }
            for (i, f) in rm.search.iter().enumerate() {
                let path = ["models", name.as_str(), "search", &i.to_string()];
                match model.fields.iter().position(|x| x.name == to_snake(f)) {
                    Some(pos) if model.search.contains(&pos) => self.error(
                        Code::FieldOption,
                        self.value(&path),
                        format!("`{f}` is listed twice in `search`"),
                        "list each field once",
                    ),
                    Some(_) if matches!(model.pk_field().kind, FieldKind::PrimaryKey(PkKind::Uuid)) => self.error(
                        Code::FieldOption,
                        self.value(&path),
                        format!("`{name}` has a uuid primary key; full-text search needs an integer (auto or big_auto) key"),
                        "use `id: auto` for this model, or remove `search`",
                    ),
                    Some(pos) if matches!(model.fields[pos].kind, FieldKind::Scalar(ScalarKind::String { .. } | ScalarKind::Text)) => {
                        model.search.push(pos)
                    }
                    Some(_) => self.error(
                        Code::FieldOption,
                        self.value(&path),
                        format!("`{name}.{f}` is not text, so full-text search cannot cover it"),
                        "list only string, text, email, url or slug fields in `search`",
                    ),
                    None => self.unknown_field(&path, &name, f, &field_names),
                }
            }
            for (i, check) in rm.checks.iter().enumerate() {
                if let Some(parsed) = self.model_check(&name, i, check, model, &field_names) {
                    model.checks.push(parsed);
                }
            }
            // The default ordering as index columns (`published_at DESC`, ...), ending with the key.
            let ordering_columns: Vec<(usize, String)> = model
                .ordering
                .iter()
                .map(|&(pos, desc)| (pos, format!("{}{}", model.fields[pos].column, if desc { " DESC" } else { "" })))
                .chain(
                    (!model.ordering.is_empty() && !model.ordering.iter().any(|&(pos, _)| pos == model.pk))
                        .then(|| (model.pk, model.pk_field().column.clone())),
                )
                .collect();
            // Lists sort by the default ordering, then the key: one index serves that whole ORDER BY
            // (made by gqlauto's migrations, so only on the tables it manages).
            if model.managed && model.ordering.iter().any(|&(pos, _)| pos != model.pk) {
                let columns = ordering_columns.iter().map(|(_, c)| c.clone()).collect();
                model.indexes.push(Index { name: format!("{}_ordering_idx", model.table), columns, unique: false });
            }
            // Implied indexes: `indexed: true` and every foreign key (filters, joins and relation
            // lists use them). Each carries the default ordering after the field, so "rows with this
            // value, in the default order" (a filtered list, a relation's rows per parent) reads the
            // index in order instead of sorting.
            for (fname, rf) in &rm.fields {
                let spec = rf.spec();
                let Some(fpos) = model.fields.iter().position(|x| x.name == to_snake(fname)) else { continue };
                let f = &model.fields[fpos];
                let is_fk = matches!(f.kind, FieldKind::ForeignKey { .. });
                if (spec.indexed || is_fk) && !f.unique {
                    let iname = format!("{}_{}_idx", model.table, f.column);
                    if !model.indexes.iter().any(|i| i.columns.first() == Some(&f.column)) {
                        let mut columns = vec![f.column.clone()];
                        columns.extend(ordering_columns.iter().filter(|(pos, _)| *pos != fpos).map(|(_, c)| c.clone()));
                        model.indexes.push(Index { name: iname, columns, unique: false });
                    }
                }
            }
            // A table gqlauto does not manage has only its owner's indexes (an imported Django
            // table: the key, unique fields, foreign keys, `db_index` and `Meta.indexes`).
            if let Some(&(first, desc)) = model.ordering.first() {
                let column = &model.fields[first].column;
                if !model.managed && !model.index_starts_with(column) {
                    let order = if desc { "-" } else { "" };
                    self.diags.push(
                        Diagnostic::warning(
                            Code::UnindexedForeignOrdering,
                            self.value(&["models", name.as_str(), "ordering", "0"]),
                            format!(
                                "lists of `{name}` are ordered by `{order}{}` unless they say otherwise, but no index of `{}` (a table gqlauto does not manage) starts with `{column}`: each such list reads and sorts the whole table",
                                model.fields[first].name, model.table
                            ),
                        )
                        .with_help(format!(
                            "add `{}` to the `indexes` of the Django model's `Meta` (or create that index on the table), then import again",
                            model.django_index(&model.ordering)
                        )),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{assert_error, errors};
    use crate::diag::Code;

    /// `Book` with `fields` and the model options `options`.
    fn book(fields: &str, options: &str) -> Vec<(Code, String)> {
        errors(&format!("models:\n  Book:\n    fields: {{ id: auto, {fields} }}\n{options}"))
    }

    const FIELDS: &str = "title: string, pages: integer, done: boolean, meta: { type: json, nullable: true }, at: date";

    #[test]
    fn checks_compare_two_things_of_one_kind() {
        let check = |rule: &str| book(FIELDS, &format!("    checks: [{{ rule: \"{rule}\" }}]\n"));
        assert_error(&check("pages"), Code::FieldOption, "has no comparison");
        assert_error(&check("meta = pages"), Code::FieldOption, "cannot be compared with `=`");
        assert_error(&check("done < done"), Code::FieldOption, "cannot be compared with `<`");
        assert_error(&check("pages < title"), Code::FieldOption, "are of different kinds");
        assert_error(&check("at > 'yesterday'"), Code::FieldOption, "is not a field or a literal");
        assert_error(&check("nope > 1"), Code::UnknownField, "has no field `nope`");
        assert!(check("pages > 0").is_empty() && check("at >= '2024-01-31'").is_empty());
    }

    #[test]
    fn check_names_are_snake_case_and_distinct() {
        let named = |a: &str, b: &str| {
            book(
                FIELDS,
                &format!("    checks:\n      - {{ rule: \"pages > 0\", name: {a} }}\n      - {{ rule: \"pages < 9\", name: {b} }}\n"),
            )
        };
        assert_error(&named("Positive", "small"), Code::FieldOption, "not snake_case");
        assert_error(&named("bound", "bound"), Code::FieldOption, "already taken");
    }

    #[test]
    fn groups_and_indexes_name_enough_fields() {
        assert_error(&book(FIELDS, "    unique_together: [[title]]\n"), Code::FieldOption, "at least two fields");
        assert_error(&book(FIELDS, "    indexes: [{ fields: [] }]\n"), Code::FieldOption, "at least one field");
        assert_error(&book(FIELDS, "    unique_together: [[title, nope]]\n"), Code::UnknownField, "has no field `nope`");
    }

    #[test]
    fn orderings_use_orderable_fields() {
        assert_error(&book(FIELDS, "    ordering: [meta]\n"), Code::FieldOption, "is JSON, which has no order");
    }

    #[test]
    fn search_covers_distinct_text_fields_of_an_integer_keyed_model() {
        assert_error(&book(FIELDS, "    search: [title, title]\n"), Code::FieldOption, "listed twice in `search`");
        assert_error(&book(FIELDS, "    search: [pages]\n"), Code::FieldOption, "is not text");
        let uuid = errors("models:\n  Book:\n    fields: { id: { type: uuid, primary_key: true }, title: string }\n    search: [title]\n");
        assert_error(&uuid, Code::FieldOption, "uuid primary key");
    }
}
