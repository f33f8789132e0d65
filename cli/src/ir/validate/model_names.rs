//! What models are called: their names, snake_case forms and tables, distinct from each other,
//! and the type names the generated code derives from them.

use super::fields::DEFAULT_MAX_LENGTH;
use super::*;

impl Validator<'_> {
    pub(super) fn model_names(&mut self, raw: &RawManifest) -> BTreeMap<String, ModelMeta> {
        let mut metas = BTreeMap::new();
        let mut by_snake: BTreeMap<String, String> = BTreeMap::new();
        let mut by_table: BTreeMap<String, String> = BTreeMap::new();
        for (name, model) in &raw.models {
            let span = self.key(&["models", name]);
            if !names::is_pascal_ident(name) {
                let fixed = to_pascal(&to_snake(name));
                self.error(
                    Code::InvalidName,
                    span,
                    format!("model name `{name}` is not PascalCase"),
                    format!("model names are PascalCase letters and digits, e.g. `{fixed}`"),
                );
                continue;
            }
            if let Some(why) = names::reserved_type_name(name) {
                self.error(
                    Code::ReservedName,
                    span,
                    format!("model name `{name}` is reserved"),
                    format!("{why}; choose another name, e.g. `{name}Record`"),
                );
                continue;
            }
            let snake = to_snake(name);
            if let Some(other) = by_snake.get(&snake) {
                self.error(
                    Code::NameClash,
                    span,
                    format!("model `{name}` clashes with model `{other}`: both become `{snake}`"),
                    "rename one of them so their snake_case forms differ",
                );
                continue;
            }
            by_snake.insert(snake.clone(), name.clone());
            let table = match &model.table {
                Some(t) => {
                    if !names::is_sql_ident(t) {
                        self.error(
                            Code::InvalidName,
                            self.value(&["models", name, "table"]),
                            format!("table name `{t}` is not a lowercase SQL identifier"),
                            "use lowercase letters, digits and `_`",
                        );
                    }
                    t.clone()
                }
                None => names::pluralize(&snake),
            };
            if let Some(why) = names::reserved_table_name(&table) {
                let span = self.value(&["models", name, "table"]).or(span);
                self.error(
                    Code::ReservedName,
                    span,
                    format!("model `{name}` cannot use table `{table}`"),
                    format!("{why}; set another `table:`"),
                );
            }
            if let Some(other) = by_table.get(&table) {
                let span = self.value(&["models", name, "table"]).or(span);
                self.error(
                    Code::TableClash,
                    span,
                    format!("models `{other}` and `{name}` both use table `{table}`"),
                    format!("give `{name}` its own `table:`"),
                );
            }
            by_table.insert(table.clone(), name.clone());
            let pk = model.fields.iter().find_map(|(fname, f)| {
                let spec = f.spec();
                match spec.ty.as_str() {
                    "auto" => Some((to_snake(fname), PkKind::Auto)),
                    "big_auto" => Some((to_snake(fname), PkKind::BigAuto)),
                    "uuid" if spec.primary_key => Some((to_snake(fname), PkKind::Uuid)),
                    "integer" | "big_integer" if spec.primary_key => {
                        Some((to_snake(fname), PkKind::Integer { big: spec.ty == "big_integer" }))
                    }
                    "string" if spec.primary_key => {
                        Some((to_snake(fname), PkKind::Text { max_length: spec.max_length.unwrap_or(DEFAULT_MAX_LENGTH) }))
                    }
                    _ => None,
                }
            });
            let pk_link = model.fields.iter().find_map(|(fname, f)| {
                let spec = f.spec();
                let column = spec.column.clone().unwrap_or_else(|| format!("{}_id", to_snake(fname)));
                (spec.ty == "one_to_one" && spec.primary_key).then_some((spec.to?, column))
            });
            metas.insert(name.clone(), ModelMeta { table, pk, pk_link });
        }
        // A key that is a link to another model's row takes that model's key kind, through chains
        // of such links (a grandchild of multi-table inheritance).
        for _ in 0..metas.len() {
            let resolved: Vec<(String, (String, PkKind))> = metas
                .iter()
                .filter(|(_, m)| m.pk.is_none())
                .filter_map(|(name, m)| {
                    let (target, column) = m.pk_link.as_ref()?;
                    let (_, kind) = metas.get(target)?.pk.clone()?;
                    Some((name.clone(), (column.clone(), kind)))
                })
                .collect();
            if resolved.is_empty() {
                break;
            }
            for (name, pk) in resolved {
                metas.get_mut(&name).expect("resolved from the map").pk = Some(pk);
            }
        }
        metas
    }

    pub(super) fn type_names(&mut self, models: &[Model]) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for m in models {
            let n = &m.name;
            let mut defined: Vec<(String, String, Vec<&str>)> =
                names::model_types(n).map(|ty| (ty, format!("model `{n}`"), vec!["models", n.as_str()])).collect();
            // Root fields live in one namespace too: `posts` lists `Post`, so no model may be `Posts`.
            for (field, ..) in names::root_field_names(&m.snake, &m.plural_snake) {
                defined.push((format!("root field `{field}`"), format!("model `{n}`"), vec!["models", n.as_str()]));
            }
            for f in &m.fields {
                if let FieldKind::Scalar(ScalarKind::Enum { type_name, .. }) = &f.kind {
                    for ty in [type_name.clone(), format!("{type_name}Filter")] {
                        defined.push((ty, format!("the enum of `{n}.{}`", f.name), vec!["models", n.as_str(), "fields", f.name.as_str()]));
                    }
                }
            }
            for (ty, owner, path) in defined {
                match seen.get(&ty) {
                    Some(first) => self.error(
                        Code::NameClash,
                        self.key(&path),
                        format!(
                            "{owner} defines {}, which {first} defines too",
                            if ty.starts_with("root field") { ty.clone() } else { format!("the type `{ty}`") }
                        ),
                        "rename the model or the field",
                    ),
                    None => {
                        seen.insert(ty, owner);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{assert_error, errors};
    use crate::diag::Code;

    const FIELDS: &str = "{ fields: { id: auto, name: string } }";

    #[test]
    fn model_names_are_pascal_case_unreserved_and_distinct() {
        assert_error(&errors(&format!("models:\n  book_shelf: {FIELDS}\n")), Code::InvalidName, "not PascalCase");
        assert_error(&errors(&format!("models:\n  Query: {FIELDS}\n")), Code::ReservedName, "model name `Query` is reserved");
        assert_error(&errors(&format!("models:\n  HTTPServer: {FIELDS}\n  HttpServer: {FIELDS}\n")), Code::NameClash, "both become");
    }

    #[test]
    fn tables_are_usable_and_distinct() {
        let table = |t: &str| errors(&format!("models:\n  Book: {{ table: {t}, fields: {{ id: auto, name: string }} }}\n"));
        assert_error(&table("Books"), Code::InvalidName, "not a lowercase SQL identifier");
        assert_error(&table("diesel"), Code::ReservedName, "cannot use table `diesel`");
        let shared = errors("models:\n  Book: { table: items, fields: { id: auto, name: string } }\n  Disc: { table: items, fields: { id: auto, name: string } }\n");
        assert_error(&shared, Code::TableClash, "both use table `items`");
    }

    #[test]
    fn generated_type_names_do_not_collide() {
        // `Book`'s list filter type is `BookWhere`, which a model of that name would define too.
        assert_error(&errors(&format!("models:\n  Book: {FIELDS}\n  BookWhere: {FIELDS}\n")), Code::NameClash, "defines too");
    }
}
