//! Models: their names and tables, their fields, keys and columns, and the type names the
//! generated code derives from them.

use super::fields::TYPE_NAMES;
use super::*;
use crate::manifest::raw::RawField;

/// Where a field is declared, and what about its model the field's rules need.
struct FieldAt<'a> {
    model: &'a str,
    /// The model's snake_case name.
    snake: &'a str,
    table: &'a str,
    raw: &'a RawModel,
    field: &'a str,
}

impl FieldAt<'_> {
    /// The field's key path in the manifest.
    fn path(&self) -> [&str; 4] {
        ["models", self.model, "fields", self.field]
    }

    /// The key path of one of the field's options.
    fn option<'a>(&'a self, option: &'a str) -> [&'a str; 5] {
        ["models", self.model, "fields", self.field, option]
    }
}

/// What a field declaration becomes.
enum Declared {
    /// A column, with the link of a key that is another model's key.
    Column(Box<Field>, Option<ParentLink>),
    ManyToMany(ManyToMany),
}

/// Whether the declaration makes the field the model's key (`auto`, `big_auto`, `primary_key`).
fn declares_key(spec: &RawFieldSpec) -> bool {
    matches!(spec.ty.as_str(), "auto" | "big_auto") || spec.primary_key
}

impl Validator<'_> {
    /// Builds one model from its declaration: each field in turn ([`Self::field`]), then the
    /// rules that look at the model's fields together.
    pub(super) fn model(&mut self, name: &str, raw: &RawModel, meta: &ModelMeta, models: &BTreeMap<String, ModelMeta>) -> Model {
        self.renamed_model_gone(name, raw, models);
        let snake = to_snake(name);
        let mut fields = Vec::new();
        let mut many_to_many = Vec::new();
        let mut seen_snake: BTreeMap<String, String> = BTreeMap::new();
        let mut parent = None;
        for (fname, rf) in &raw.fields {
            let at = FieldAt { model: name, snake: &snake, table: &meta.table, raw, field: fname };
            match self.field(&at, rf, models, &mut seen_snake) {
                Some(Declared::Column(f, link)) => {
                    parent = parent.or(link);
                    fields.push(*f);
                }
                Some(Declared::ManyToMany(m)) => many_to_many.push(m),
                None => {}
            }
        }
        let pks: Vec<&str> = fields.iter().filter(|f| matches!(f.kind, FieldKind::PrimaryKey(_))).map(|f| f.name.as_str()).collect();
        let pks: Vec<String> = raw.fields.keys().filter(|k| pks.contains(&to_snake(k).as_str())).cloned().collect();
        self.one_primary_key(name, raw, &pks);
        self.id_is_the_key(name, &fields, !pks.is_empty());
        self.distinct_columns(name, &fields, &many_to_many);
        let pk = fields.iter().position(|f| matches!(f.kind, FieldKind::PrimaryKey(_))).unwrap_or(0);
        Model {
            name: name.to_string(),
            plural_snake: names::pluralize(&snake),
            snake,
            table: meta.table.clone(),
            renamed_from: raw.renamed_from.clone(),
            managed: raw.managed.unwrap_or(true),
            description: raw.description.clone(),
            fields,
            pk,
            parent,
            many_to_many,
            reverse: Vec::new(),
            unique_together: Vec::new(),
            indexes: Vec::new(),
            ordering: Vec::new(),
            search: Vec::new(),
            checks: Vec::new(),
            permissions: Vec::new(),
        }
    }

    /// A model `renamed_from` another takes over a table no model has any more.
    fn renamed_model_gone(&mut self, name: &str, raw: &RawModel, models: &BTreeMap<String, ModelMeta>) {
        if let Some(old) = raw.renamed_from.as_ref().filter(|old| models.contains_key(old.as_str())) {
            self.error(
                Code::FieldOption,
                self.value(&["models", name, "renamed_from"]),
                format!("`{name}` is `renamed_from: {old}`, but `{old}` is still a model"),
                "a model can only take over the table of a model that no longer exists; remove `renamed_from` or the old model",
            );
        }
    }

    /// One field declaration: a column (with the link of a key that is another model's key), a
    /// many-to-many relation, or nothing when it is in error.
    fn field(
        &mut self,
        at: &FieldAt<'_>,
        rf: &RawField,
        models: &BTreeMap<String, ModelMeta>,
        seen: &mut BTreeMap<String, String>,
    ) -> Option<Declared> {
        let fname = at.field;
        let path = at.path();
        let spec = rf.spec();
        let fsnake = self.field_name(at, seen)?;
        self.known_type(at, rf, &spec)?;
        self.check_options(&path, &spec);
        self.renamed_field_gone(at, &spec);
        if spec.ty == "many_to_many" {
            return self.many_to_many(at, &spec, &fsnake, models).map(Declared::ManyToMany);
        }
        let (kind, parent) = self.field_kind(at, &spec, &fsnake, models)?;
        let is_pk = matches!(kind, FieldKind::PrimaryKey(_));
        self.key_rules(at, &spec, is_pk);
        // Relation columns, a linked primary key among them, are `<name>_id`.
        let is_fk = matches!(spec.ty.as_str(), "foreign_key" | "one_to_one");
        let column = spec.column.clone().unwrap_or_else(|| if is_fk { format!("{fsnake}_id") } else { fsnake.clone() });
        if !names::is_sql_ident(&column) {
            self.error(
                Code::InvalidName,
                self.value(&at.option("column")),
                format!("column name `{column}` is not a lowercase SQL identifier"),
                "use lowercase letters, digits and `_`",
            );
        }
        let default = self.default(&path, &spec, &kind);
        if let (FieldKind::ForeignKey { on_delete: OnDelete::SetNull, .. }, false) = (&kind, spec.nullable) {
            self.error(
                Code::Relation,
                self.value(&at.option("on_delete")),
                format!("`{fname}` uses `on_delete: set_null` but is not nullable"),
                "add `nullable: true`, or choose `cascade`, `restrict` or `protect`",
            );
        }
        self.visibility(at, &spec, is_pk);
        let deprecated = match &spec.deprecated {
            None | Some(Deprecated::Flag(false)) => None,
            Some(Deprecated::Flag(true)) => Some("No longer supported".to_string()),
            Some(Deprecated::Reason(r)) => Some(r.clone()),
        };
        let types = kind.types();
        let one_to_one = matches!(kind, FieldKind::ForeignKey { one_to_one: true, .. });
        let field = Field {
            graphql_name: if is_pk { "id".to_string() } else { to_camel(&fsnake) },
            name: fsnake,
            column,
            types,
            nullable: spec.nullable,
            unique: spec.unique || is_pk || one_to_one,
            default,
            description: spec.description.clone(),
            deprecated,
            renamed_from: spec.renamed_from.as_deref().map(to_snake),
            rules: Rules {
                min_length: spec.min_length,
                non_empty: spec.non_empty,
                min: spec.min.as_ref().map(ToString::to_string),
                max: spec.max.as_ref().map(ToString::to_string),
                pattern: spec.pattern.clone(),
                choices: spec.choices.clone().unwrap_or_default(),
            },
            hidden: spec.hidden,
            write_only: spec.write_only,
            kind,
        };
        Some(Declared::Column(Box::new(field), parent))
    }

    /// The field's snake_case name, when its name is a usable identifier, not reserved, and not
    /// the same as another field's once converted.
    fn field_name(&mut self, at: &FieldAt<'_>, seen: &mut BTreeMap<String, String>) -> Option<String> {
        let fname = at.field;
        let span = self.key(&at.path());
        if !names::is_field_ident(fname) {
            self.error(
                Code::InvalidName,
                span,
                format!("field name `{fname}` is not a valid identifier"),
                "use letters, digits and `_`, e.g. `published_at`",
            );
            return None;
        }
        let fsnake = to_snake(fname);
        if let Some(why) = names::reserved_field_name(&fsnake).or_else(|| names::reserved_field_name(fname)) {
            let suggestion = if fsnake.starts_with("__") { fsnake.trim_start_matches('_').to_string() } else { format!("{fsnake}_value") };
            self.error(
                Code::ReservedName,
                span,
                format!("field name `{fname}` is reserved"),
                format!("{why}; rename the field, e.g. `{suggestion}`"),
            );
            return None;
        }
        if let Some(other) = seen.get(&fsnake) {
            self.error(
                Code::NameClash,
                span,
                format!("field `{fname}` clashes with field `{other}`: both become `{fsnake}` / `{}`", to_camel(&fsnake)),
                "rename one of them",
            );
            return None;
        }
        seen.insert(fsnake.clone(), fname.to_string());
        Some(fsnake)
    }

    /// The field's `type` is one gqlauto knows.
    fn known_type(&mut self, at: &FieldAt<'_>, rf: &RawField, spec: &RawFieldSpec) -> Option<()> {
        if TYPE_NAMES.contains(&spec.ty.as_str()) {
            return Some(());
        }
        let span = match rf {
            RawField::Short(_) => self.value(&at.path()),
            RawField::Full(_) => self.value(&at.option("type")),
        };
        let help = did_you_mean(&spec.ty, TYPE_NAMES.iter().copied()).unwrap_or_else(|| format!("known types: {}", TYPE_NAMES.join(", ")));
        self.error(Code::UnknownType, span, format!("unknown field type `{}`", spec.ty), help);
        None
    }

    /// A field `renamed_from` another takes over a column no field has any more; a many-to-many
    /// field has no column to take over.
    fn renamed_field_gone(&mut self, at: &FieldAt<'_>, spec: &RawFieldSpec) {
        let Some(old) = &spec.renamed_from else { return };
        let (fname, name) = (at.field, at.model);
        if spec.ty == "many_to_many" {
            self.error(
                Code::FieldOption,
                self.value(&at.option("renamed_from")),
                format!("`renamed_from` does not apply to the many_to_many field `{fname}`"),
                "a many-to-many field has no column; its join table is named after the models",
            );
        } else if at.raw.fields.keys().any(|f| to_snake(f) == to_snake(old)) {
            self.error(
                Code::FieldOption,
                self.value(&at.option("renamed_from")),
                format!("`{fname}` is `renamed_from: {old}`, but `{old}` is still a field of `{name}`"),
                "a field can only take over the column of a field that no longer exists; remove `renamed_from` or the old field",
            );
        }
    }

    /// A many-to-many field: its target, and the join table and columns that link the two.
    fn many_to_many(
        &mut self,
        at: &FieldAt<'_>,
        spec: &RawFieldSpec,
        fsnake: &str,
        models: &BTreeMap<String, ModelMeta>,
    ) -> Option<ManyToMany> {
        let target = self.target(&at.path(), spec, models)?;
        let snake = at.snake;
        let join_table = spec.join_table.clone().unwrap_or_else(|| format!("{}_{}", at.table, fsnake));
        let (mut source_column, mut target_column) = if target == at.model {
            (format!("from_{snake}_id"), format!("to_{snake}_id"))
        } else {
            (format!("{snake}_id"), format!("{}_id", to_snake(&target)))
        };
        match spec.join_columns.as_deref() {
            None => {}
            Some([source, target]) if source != target => {
                source_column = source.clone();
                target_column = target.clone();
            }
            Some(_) => self.error(
                Code::FieldOption,
                self.value(&at.option("join_columns")),
                format!("`join_columns` of `{}` must name two different columns", at.field),
                "give this model's key column first, then the target's: `join_columns: [post_id, tag_id]`",
            ),
        }
        Some(ManyToMany {
            name: fsnake.to_string(),
            graphql_name: to_camel(fsnake),
            target,
            join_table,
            source_column,
            target_column,
            through: spec.through.clone(),
            scope: None,
            related_name: spec.related_name.as_deref().map(to_snake),
            description: spec.description.clone(),
        })
    }

    /// What the field stores: a key (with the link when the key is another model's), a foreign
    /// key, or a scalar.
    fn field_kind(
        &mut self,
        at: &FieldAt<'_>,
        spec: &RawFieldSpec,
        fsnake: &str,
        models: &BTreeMap<String, ModelMeta>,
    ) -> Option<(FieldKind, Option<ParentLink>)> {
        let path = at.path();
        let (name, fname) = (at.model, at.field);
        let kind = match spec.ty.as_str() {
            "auto" => FieldKind::PrimaryKey(PkKind::Auto),
            "big_auto" => FieldKind::PrimaryKey(PkKind::BigAuto),
            "uuid" if spec.primary_key => FieldKind::PrimaryKey(PkKind::Uuid),
            "integer" | "big_integer" if spec.primary_key => FieldKind::PrimaryKey(PkKind::Integer { big: spec.ty == "big_integer" }),
            "one_to_one" if spec.primary_key => {
                let target = self.target(&path, spec, models)?;
                let on_delete = self.on_delete(&path, spec);
                let Some((target_column, target_pk)) = models.get(&target).and_then(|m| m.pk.clone()) else {
                    self.error(
                        Code::PrimaryKey,
                        self.value(&at.option("to")),
                        format!("`{fname}` links the key to `{target}`, whose key is itself such a link, in a cycle"),
                        "one model in the chain needs a key of its own (`auto`, `big_auto`, `uuid` or `string`)",
                    );
                    return None;
                };
                let parent = ParentLink {
                    name: fsnake.to_string(),
                    graphql_name: to_camel(fsnake),
                    target_table: models[&target].table.clone(),
                    target,
                    target_column,
                    on_delete,
                    related_name: spec.related_name.as_deref().map(to_snake),
                };
                return Some((FieldKind::PrimaryKey(target_pk), Some(parent)));
            }
            "string" if spec.primary_key => match self.scalar(name, &path, fsnake, spec)? {
                ScalarKind::String { max_length, .. } => FieldKind::PrimaryKey(PkKind::Text { max_length }),
                _ => return None,
            },
            "foreign_key" | "one_to_one" => {
                let target = self.target(&path, spec, models)?;
                let on_delete = self.on_delete(&path, spec);
                let (target_column, target_pk) = models.get(&target).and_then(|m| m.pk.clone())?;
                FieldKind::ForeignKey {
                    target_table: models[&target].table.clone(),
                    target,
                    target_column,
                    target_pk,
                    on_delete,
                    one_to_one: spec.ty == "one_to_one",
                    related_name: spec.related_name.as_deref().map(to_snake),
                }
            }
            _ => FieldKind::Scalar(self.scalar(name, &path, fsnake, spec)?),
        };
        Some((kind, None))
    }

    /// `primary_key: true` only on a type that can be one; a key is never nullable.
    fn key_rules(&mut self, at: &FieldAt<'_>, spec: &RawFieldSpec, is_pk: bool) {
        let fname = at.field;
        if spec.primary_key && !is_pk {
            self.error(
                Code::PrimaryKey,
                self.value(&at.option("primary_key")),
                format!("`{fname}` cannot be the primary key: type `{}`", spec.ty),
                "primary keys are `auto`, `big_auto`, or `uuid`, `string`, `integer`, `big_integer` or `one_to_one` with `primary_key: true`",
            );
        }
        if is_pk && spec.nullable {
            self.error(
                Code::PrimaryKey,
                self.key(&at.path()),
                format!("primary key `{fname}` cannot be nullable"),
                "remove `nullable: true`",
            );
        }
    }

    /// `hidden` and `write_only` exclude each other, and neither applies to the key.
    fn visibility(&mut self, at: &FieldAt<'_>, spec: &RawFieldSpec, is_pk: bool) {
        let fname = at.field;
        for (flag, set) in [("hidden", spec.hidden), ("write_only", spec.write_only)] {
            if set && is_pk {
                self.error(
                    Code::FieldOption,
                    self.key(&at.option(flag)),
                    format!("the primary key `{fname}` cannot be `{flag}`: callers identify rows by it"),
                    format!("remove `{flag}: true`"),
                );
            }
        }
        if spec.hidden && spec.write_only {
            self.error(
                Code::FieldOption,
                self.key(&at.option("write_only")),
                format!("`{fname}` is both `hidden` and `write_only`"),
                "keep `hidden` (written only where a grant names it) or `write_only` (written wherever a grant covers it)",
            );
        }
    }

    /// Exactly one primary key (a model whose only key declaration failed has already been told).
    fn one_primary_key(&mut self, name: &str, raw: &RawModel, pks: &[String]) {
        let model_span = self.key(&["models", name]);
        let pk_declared = raw.fields.values().any(|f| declares_key(&f.spec()));
        match pks.len() {
            0 if pk_declared => {}
            0 => self.error(
                Code::PrimaryKey,
                model_span,
                format!("model `{name}` has no primary key"),
                "add `id: auto` (or `big_auto`, or a `uuid` or `string` field with `primary_key: true`)",
            ),
            1 => {}
            _ => self.error(
                Code::PrimaryKey,
                model_span,
                format!("model `{name}` has {} primary keys: {}", pks.len(), pks.join(", ")),
                "keep one; use `unique_together` for composite uniqueness",
            ),
        }
    }

    /// The primary key is exposed as `id`; another field may not take that GraphQL name.
    fn id_is_the_key(&mut self, name: &str, fields: &[Field], has_key: bool) {
        for f in fields {
            if f.graphql_name == "id" && !matches!(f.kind, FieldKind::PrimaryKey(_)) && has_key {
                self.error(
                    Code::NameClash,
                    self.key(&["models", name, "fields", &f.name]),
                    format!("field `{}` clashes with the primary key, which the API exposes as `id`", f.name),
                    "rename the field",
                );
            }
        }
    }

    /// Every field has a column of its own, under a Rust name of its own; a relation's `…Id`
    /// field and a many-to-many field do not take another field's name.
    fn distinct_columns(&mut self, name: &str, fields: &[Field], many_to_many: &[ManyToMany]) {
        let mut columns: BTreeMap<&str, &str> = BTreeMap::new();
        let graphql: BTreeSet<&str> = fields.iter().map(|f| f.graphql_name.as_str()).collect();
        // A keyword column is `<column>_` in Rust, which must not be another column's name.
        let mut idents: BTreeMap<String, &str> = BTreeMap::new();
        for f in fields {
            if let Some(other) = columns.insert(&f.column, &f.name) {
                self.error(
                    Code::TableClash,
                    self.key(&["models", name, "fields", &f.name]),
                    format!("fields `{other}` and `{}` both use column `{}`", f.name, f.column),
                    "rename one, or set `column:` on it",
                );
            } else if let Some(other) = idents.insert(names::column_ident(&f.column), &f.column).filter(|o| *o != f.column) {
                let keyword = if names::column_ident(other) != other { other } else { f.column.as_str() };
                self.error(
                    Code::TableClash,
                    self.key(&["models", name, "fields", &f.name]),
                    format!("columns `{other}` and `{}` have the same name in the generated Rust code", f.column),
                    format!("`{keyword}` is written `{keyword}_` in Rust; set `column:` on one of them"),
                );
            }
            // A foreign key `author` is also exposed as `authorId`.
            let id_name = format!("{}Id", f.graphql_name);
            if matches!(f.kind, FieldKind::ForeignKey { .. }) && graphql.contains(id_name.as_str()) {
                self.error(
                    Code::NameClash,
                    self.key(&["models", name, "fields", &f.name]),
                    format!("relation `{}` exposes `{id_name}`, which another field already uses", f.name),
                    "rename one of them",
                );
            }
        }
        for m in many_to_many {
            if columns.values().any(|n| *n == m.name) {
                self.error(
                    Code::NameClash,
                    self.key(&["models", name, "fields", &m.name]),
                    format!("relation `{}` clashes with a field of the same name", m.name),
                    "rename one of them",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{assert_error, errors};
    use crate::diag::Code;

    /// The manifest `models:` block with `Book`'s fields set to `fields` (one YAML flow mapping
    /// body) beside a valid `Author`.
    fn book(fields: &str) -> Vec<(Code, String)> {
        errors(&format!("models:\n  Author: {{ fields: {{ id: auto, name: string }} }}\n  Book: {{ fields: {{ {fields} }} }}\n"))
    }

    #[test]
    fn a_renamed_model_takes_over_only_a_table_no_model_has() {
        let found = errors("models:\n  Author: { fields: { id: auto, name: string } }\n  Writer: { renamed_from: Author, fields: { id: auto, name: string } }\n");
        assert_error(&found, Code::FieldOption, "`Author` is still a model");
    }

    #[test]
    fn field_names_are_identifiers_not_reserved_and_distinct() {
        assert_error(&book("id: auto, 2nd: string"), Code::InvalidName, "not a valid identifier");
        assert_error(&book("id: auto, type: string"), Code::ReservedName, "`type` is reserved");
        assert_error(&book("id: auto, __x: string"), Code::ReservedName, "`__x` is reserved");
        assert_error(&book("id: auto, pageCount: integer, page_count: integer"), Code::NameClash, "both become `page_count`");
    }

    #[test]
    fn a_type_must_be_known() {
        assert_error(&book("id: auto, title: strng"), Code::UnknownType, "unknown field type `strng`");
    }

    #[test]
    fn a_renamed_field_takes_over_only_a_column_no_field_has() {
        assert_error(&book("id: auto, title: string, name: { type: string, renamed_from: title }"), Code::FieldOption, "still a field");
        let m2m = "id: auto, title: string, authors: { type: many_to_many, to: Author, renamed_from: writers }";
        assert_error(&book(m2m), Code::FieldOption, "does not apply to the many_to_many field");
    }

    #[test]
    fn join_columns_are_two_different_columns() {
        let found = book("id: auto, title: string, authors: { type: many_to_many, to: Author, join_columns: [x, x] }");
        assert_error(&found, Code::FieldOption, "must name two different columns");
    }

    #[test]
    fn a_key_linked_to_another_model_needs_a_chain_that_ends() {
        let found = errors(
            "models:\n  A1: { fields: { a: { type: one_to_one, to: B1, primary_key: true, on_delete: cascade }, n: string } }\n  \
             B1: { fields: { b: { type: one_to_one, to: A1, primary_key: true, on_delete: cascade }, n: string } }\n",
        );
        assert!(found.iter().any(|(c, _)| *c == Code::PrimaryKey), "{found:#?}");
    }

    #[test]
    fn keys_have_a_key_type_and_are_never_null() {
        assert_error(
            &book("id: auto, title: { type: text, primary_key: true }"),
            Code::PrimaryKey,
            "cannot be the primary key: type `text`",
        );
        assert_error(&book("id: { type: auto, nullable: true }, title: string"), Code::PrimaryKey, "cannot be nullable");
    }

    #[test]
    fn columns_are_lowercase_sql_identifiers() {
        assert_error(&book("id: auto, title: { type: string, column: Title }"), Code::InvalidName, "not a lowercase SQL identifier");
    }

    #[test]
    fn set_null_needs_a_nullable_column() {
        assert_error(&book("id: auto, author: { type: foreign_key, to: Author, on_delete: set_null }"), Code::Relation, "not nullable");
    }

    #[test]
    fn hidden_and_write_only_exclude_each_other_and_the_key() {
        assert_error(&book("id: { type: auto, hidden: true }, title: string"), Code::FieldOption, "cannot be `hidden`");
        assert_error(
            &book("id: auto, title: { type: string, hidden: true, write_only: true }"),
            Code::FieldOption,
            "both `hidden` and `write_only`",
        );
    }

    #[test]
    fn a_model_has_exactly_one_key() {
        assert_error(&book("title: string"), Code::PrimaryKey, "has no primary key");
        assert_error(
            &book("id: auto, code: { type: uuid, primary_key: true }, title: string"),
            Code::PrimaryKey,
            "has 2 primary keys: id, code",
        );
    }

    #[test]
    fn only_the_key_is_called_id() {
        assert_error(&book("code: { type: uuid, primary_key: true }, id: string"), Code::NameClash, "exposes as `id`");
    }

    #[test]
    fn columns_and_their_rust_and_api_names_are_distinct() {
        assert_error(&book("id: auto, title: string, name: { type: string, column: title }"), Code::TableClash, "both use column `title`");
        assert_error(
            &book("id: auto, kind: { type: string, column: type_ }, sort: { type: string, column: type }"),
            Code::TableClash,
            "same name in the generated Rust code",
        );
        assert_error(
            &book("id: auto, author: { type: foreign_key, to: Author, on_delete: cascade }, authorId: integer"),
            Code::NameClash,
            "exposes `authorId`",
        );
    }
}
