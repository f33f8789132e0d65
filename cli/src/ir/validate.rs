//! Raw manifest → IR. Collects every diagnostic in one run and never panics.
//!
//! Passes run in order — top level, model names, fields, relations, constraints — each made of
//! small rule functions. A pass always runs on what the previous ones could resolve, so one typo
//! does not hide the next; the IR is returned only when no error was found.

use std::collections::{BTreeMap, BTreeSet};

use super::model::*;
use super::names::{self, to_camel, to_pascal, to_snake};
use super::types::*;
use crate::diag::{did_you_mean, Code, Diagnostic, Span};
use crate::manifest::raw::{Deprecated, RawCheck, RawFieldSpec, RawManifest, RawModel};
use crate::manifest::spans::SpanIndex;

/// Type names accepted in `type:`.
const TYPE_NAMES: &[&str] = &[
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

mod permissions;

const DEFAULT_MAX_LENGTH: u32 = 255;

/// Validates `raw` into the IR. `spans` locates every diagnostic.
pub fn validate(raw: &RawManifest, spans: &SpanIndex) -> (Option<Ir>, Vec<Diagnostic>) {
    let mut v = Validator { spans, diags: Vec::new() };
    let api = v.top_level(raw);
    let storage = v.storage(raw);
    let auth = v.auth(raw);
    let models = v.model_names(raw);
    let mut built: Vec<Model> =
        raw.models.iter().filter_map(|(name, m)| models.get(name.as_str()).map(|meta| v.model(name, m, meta, &models))).collect();
    v.type_names(&built);
    let join_tables = v.relations(raw, &mut built, &models);
    v.constraints(raw, &mut built);
    let roles = v.roles(raw, &auth);
    v.permissions(raw, &roles, &mut built);
    if v.diags.iter().any(Diagnostic::is_error) {
        return (None, v.diags);
    }
    let ir =
        Ir { crate_name: raw.name.clone(), description: raw.description.clone(), api, storage, auth, roles, models: built, join_tables };
    (Some(ir), v.diags)
}

/// What other passes need to know about a model before its fields are validated.
struct ModelMeta {
    table: String,
    /// The key column and its kind.
    pk: Option<(String, PkKind)>,
    /// The model a `one_to_one` primary key points at (the key is of that model's kind), and the
    /// key's column.
    pk_link: Option<(String, String)>,
}

struct Validator<'a> {
    spans: &'a SpanIndex,
    diags: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn error(&mut self, code: Code, span: Option<Span>, message: String, help: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, message).with_help(help));
    }

    fn key(&self, path: &[&str]) -> Option<Span> {
        self.spans.key(path)
    }

    fn value(&self, path: &[&str]) -> Option<Span> {
        self.spans.value(path)
    }

    // ---- pass 1: top level -------------------------------------------------------------------

    fn top_level(&mut self, raw: &RawManifest) -> ApiSettings {
        if raw.version != 1 {
            self.error(
                Code::Version,
                self.value(&["version"]),
                format!("unsupported manifest version {}", raw.version),
                "this gqlauto reads `version: 1`",
            );
        }
        let crate_ok = raw.name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && raw.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        let lib_name = raw.name.replace('-', "_");
        if crate_ok && (names::is_rust_keyword(&lib_name) || ["std", "core", "alloc", "proc_macro", "test"].contains(&lib_name.as_str())) {
            self.error(
                Code::ReservedName,
                self.value(&["name"]),
                format!("`{}` cannot name a crate: Cargo reserves it", raw.name),
                format!("choose another name, e.g. `{}-api`", raw.name),
            );
        }
        if !crate_ok {
            self.error(
                Code::InvalidName,
                self.value(&["name"]),
                format!("`{}` is not a valid crate name", raw.name),
                "use lowercase letters, digits, `-` and `_`, starting with a letter, e.g. `blog-api`",
            );
        }
        if raw.models.is_empty() {
            self.error(
                Code::Shape,
                self.key(&["models"]),
                "the manifest declares no models".into(),
                "add at least one model under `models:`",
            );
        }
        let a = &raw.api;
        let api = ApiSettings {
            default_page_size: a.default_page_size.unwrap_or(20),
            max_page_size: a.max_page_size.unwrap_or(100),
            max_depth: a.max_depth.unwrap_or(10),
            max_complexity: a.max_complexity.unwrap_or(1000),
        };
        for (key, value) in [
            ("default_page_size", api.default_page_size),
            ("max_page_size", api.max_page_size),
            ("max_depth", api.max_depth),
            ("max_complexity", api.max_complexity),
        ] {
            if value == 0 {
                self.error(
                    Code::ApiSetting,
                    self.value(&["api", key]),
                    format!("`api.{key}` must be at least 1"),
                    "remove the key to use the default, or give a positive number",
                );
            }
        }
        if api.default_page_size > api.max_page_size {
            self.error(
                Code::ApiSetting,
                self.value(&["api", "default_page_size"]),
                format!("`api.default_page_size` ({}) is larger than `api.max_page_size` ({})", api.default_page_size, api.max_page_size),
                "make the default page size at most the maximum",
            );
        }
        api
    }

    fn auth(&mut self, raw: &RawManifest) -> AuthSettings {
        let a = &raw.auth;
        let mut setting = |key: &str, value: &Option<String>, default: &str| -> String {
            let value = value.clone().unwrap_or_else(|| default.to_string());
            if !names::claim_name_ok(&value) {
                self.error(
                    Code::ApiSetting,
                    self.value(&["auth", key]),
                    format!("`auth.{key}` `{value}` is not a claim or role name"),
                    format!("use letters, digits, `_`, `-`, `.`, `:` or `/` (up to 100), e.g. `{default}`"),
                );
            }
            value
        };
        AuthSettings {
            user_claim: setting("user_claim", &a.user_claim, "sub"),
            role_claim: setting("role_claim", &a.role_claim, "role"),
            anonymous_role: setting("anonymous_role", &a.anonymous_role, "anonymous"),
        }
    }

    fn storage(&mut self, raw: &RawManifest) -> Storage {
        let d = &raw.database;
        Storage {
            uuid_simple: self.two_way(
                "uuid_format",
                d.uuid_format.as_deref(),
                ["hyphenated", "simple"],
                "use `hyphenated` (the default) or `simple` (32 hex digits, as Django stores UUIDs in SQLite)",
            ),
            django_datetimes: self.two_way(
                "datetime_format",
                d.datetime_format.as_deref(),
                ["offset", "django"],
                "use `offset` (the default: `2024-05-01 12:00:00.5+00:00`) or `django` (`2024-05-01 12:00:00.500000`, as Django stores date-times in SQLite)",
            ),
            django_json: self.two_way(
                "json_format",
                d.json_format.as_deref(),
                ["compact", "django"],
                "use `compact` (the default) or `django` (as Python's `json.dumps` writes it, as Django stores JSON in SQLite)",
            ),
            postgres: self.two_way(
                "engine",
                d.engine.as_deref(),
                ["sqlite", "postgres"],
                "use `sqlite` (the default: a file beside the server) or `postgres` (tables in a PostgreSQL database)",
            ),
        }
    }

    /// A `database` setting with a default and one alternative: whether the alternative is chosen.
    fn two_way(&mut self, key: &str, value: Option<&str>, [default, other]: [&str; 2], help: &str) -> bool {
        match value {
            None => false,
            Some(v) if v == default => false,
            Some(v) if v == other => true,
            Some(v) => {
                self.error(Code::ApiSetting, self.value(&["database", key]), format!("unknown `database.{key}` `{v}`"), help);
                false
            }
        }
    }

    // ---- pass 2: model names and tables ------------------------------------------------------

    fn model_names(&mut self, raw: &RawManifest) -> BTreeMap<String, ModelMeta> {
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

    // ---- pass 3: fields -----------------------------------------------------------------------

    fn model(&mut self, name: &str, raw: &RawModel, meta: &ModelMeta, models: &BTreeMap<String, ModelMeta>) -> Model {
        if let Some(old) = raw.renamed_from.as_ref().filter(|old| models.contains_key(old.as_str())) {
            self.error(
                Code::FieldOption,
                self.value(&["models", name, "renamed_from"]),
                format!("`{name}` is `renamed_from: {old}`, but `{old}` is still a model"),
                "a model can only take over the table of a model that no longer exists; remove `renamed_from` or the old model",
            );
        }
        let snake = to_snake(name);
        let mut fields = Vec::new();
        let mut many_to_many = Vec::new();
        let mut seen_snake: BTreeMap<String, String> = BTreeMap::new();
        let mut pks: Vec<String> = Vec::new();
        let mut parent = None;
        for (fname, rf) in &raw.fields {
            let path = ["models", name, "fields", fname.as_str()];
            let spec = rf.spec();
            let span = self.key(&path);
            if !names::is_field_ident(fname) {
                self.error(
                    Code::InvalidName,
                    span,
                    format!("field name `{fname}` is not a valid identifier"),
                    "use letters, digits and `_`, e.g. `published_at`",
                );
                continue;
            }
            let fsnake = to_snake(fname);
            if let Some(why) = names::reserved_field_name(&fsnake).or_else(|| names::reserved_field_name(fname)) {
                let suggestion =
                    if fsnake.starts_with("__") { fsnake.trim_start_matches('_').to_string() } else { format!("{fsnake}_value") };
                self.error(
                    Code::ReservedName,
                    span,
                    format!("field name `{fname}` is reserved"),
                    format!("{why}; rename the field, e.g. `{suggestion}`"),
                );
                continue;
            }
            if let Some(other) = seen_snake.get(&fsnake) {
                self.error(
                    Code::NameClash,
                    span,
                    format!("field `{fname}` clashes with field `{other}`: both become `{fsnake}` / `{}`", to_camel(&fsnake)),
                    "rename one of them",
                );
                continue;
            }
            seen_snake.insert(fsnake.clone(), fname.clone());
            let type_span = if matches!(rf, crate::manifest::raw::RawField::Short(_)) {
                self.value(&path)
            } else {
                self.value(&[path[0], path[1], path[2], path[3], "type"])
            };
            if !TYPE_NAMES.contains(&spec.ty.as_str()) {
                let help =
                    did_you_mean(&spec.ty, TYPE_NAMES.iter().copied()).unwrap_or_else(|| format!("known types: {}", TYPE_NAMES.join(", ")));
                self.error(Code::UnknownType, type_span, format!("unknown field type `{}`", spec.ty), help);
                continue;
            }
            self.check_options(&path, &spec);
            if let Some(old) = &spec.renamed_from {
                if spec.ty == "many_to_many" {
                    self.error(
                        Code::FieldOption,
                        self.value(&[path[0], path[1], path[2], path[3], "renamed_from"]),
                        format!("`renamed_from` does not apply to the many_to_many field `{fname}`"),
                        "a many-to-many field has no column; its join table is named after the models",
                    );
                } else if raw.fields.keys().any(|f| to_snake(f) == to_snake(old)) {
                    self.error(
                        Code::FieldOption,
                        self.value(&[path[0], path[1], path[2], path[3], "renamed_from"]),
                        format!("`{fname}` is `renamed_from: {old}`, but `{old}` is still a field of `{name}`"),
                        "a field can only take over the column of a field that no longer exists; remove `renamed_from` or the old field",
                    );
                }
            }
            let deprecated = match &spec.deprecated {
                None | Some(Deprecated::Flag(false)) => None,
                Some(Deprecated::Flag(true)) => Some("No longer supported".to_string()),
                Some(Deprecated::Reason(r)) => Some(r.clone()),
            };
            if spec.ty == "many_to_many" {
                if let Some(target) = self.target(&path, &spec, models) {
                    let graphql_name = to_camel(&fsnake);
                    let join_table = spec.join_table.clone().unwrap_or_else(|| format!("{}_{}", meta.table, fsnake));
                    let (mut source_column, mut target_column) = if target == name {
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
                            self.value(&[path[0], path[1], path[2], path[3], "join_columns"]),
                            format!("`join_columns` of `{fname}` must name two different columns"),
                            "give this model's key column first, then the target's: `join_columns: [post_id, tag_id]`",
                        ),
                    }
                    many_to_many.push(ManyToMany {
                        name: fsnake.clone(),
                        graphql_name,
                        target,
                        join_table,
                        source_column,
                        target_column,
                        through: spec.through.clone(),
                        related_name: spec.related_name.as_deref().map(to_snake),
                        description: spec.description.clone(),
                    });
                }
                continue;
            }
            let kind = match spec.ty.as_str() {
                "auto" => FieldKind::PrimaryKey(PkKind::Auto),
                "big_auto" => FieldKind::PrimaryKey(PkKind::BigAuto),
                "uuid" if spec.primary_key => FieldKind::PrimaryKey(PkKind::Uuid),
                "one_to_one" if spec.primary_key => {
                    let Some(target) = self.target(&path, &spec, models) else { continue };
                    let on_delete = self.on_delete(&path, &spec);
                    let Some((target_column, target_pk)) = models.get(&target).and_then(|m| m.pk.clone()) else {
                        self.error(
                            Code::PrimaryKey,
                            self.value(&[path[0], path[1], path[2], path[3], "to"]),
                            format!("`{fname}` links the key to `{target}`, whose key is itself such a link, in a cycle"),
                            "one model in the chain needs a key of its own (`auto`, `big_auto`, `uuid` or `string`)",
                        );
                        continue;
                    };
                    parent = Some(ParentLink {
                        name: fsnake.clone(),
                        graphql_name: to_camel(&fsnake),
                        target_table: models[&target].table.clone(),
                        target,
                        target_column,
                        on_delete,
                        related_name: spec.related_name.as_deref().map(to_snake),
                    });
                    FieldKind::PrimaryKey(target_pk)
                }
                "string" if spec.primary_key => match self.scalar(name, &path, &fsnake, &spec) {
                    Some(ScalarKind::String { max_length, .. }) => FieldKind::PrimaryKey(PkKind::Text { max_length }),
                    _ => continue,
                },
                "foreign_key" | "one_to_one" => {
                    let Some(target) = self.target(&path, &spec, models) else { continue };
                    let on_delete = self.on_delete(&path, &spec);
                    let Some((target_column, target_pk)) = models.get(&target).and_then(|m| m.pk.clone()) else { continue };
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
                _ => match self.scalar(name, &path, &fsnake, &spec) {
                    Some(s) => FieldKind::Scalar(s),
                    None => continue,
                },
            };
            if spec.primary_key && !matches!(kind, FieldKind::PrimaryKey(_)) {
                self.error(
                    Code::PrimaryKey,
                    self.value(&[path[0], path[1], path[2], path[3], "primary_key"]),
                    format!("`{fname}` cannot be the primary key: type `{}`", spec.ty),
                    "primary keys are `auto`, `big_auto`, or `uuid`, `string` or `one_to_one` with `primary_key: true`",
                );
            }
            let is_pk = matches!(kind, FieldKind::PrimaryKey(_));
            if is_pk {
                pks.push(fname.clone());
                if spec.nullable {
                    self.error(Code::PrimaryKey, span, format!("primary key `{fname}` cannot be nullable"), "remove `nullable: true`");
                }
            }
            // Relation columns, a linked primary key among them, are `<name>_id`.
            let is_fk = matches!(spec.ty.as_str(), "foreign_key" | "one_to_one");
            let column = spec.column.clone().unwrap_or_else(|| if is_fk { format!("{fsnake}_id") } else { fsnake.clone() });
            if !names::is_sql_ident(&column) {
                self.error(
                    Code::InvalidName,
                    self.value(&[path[0], path[1], path[2], path[3], "column"]),
                    format!("column name `{column}` is not a lowercase SQL identifier"),
                    "use lowercase letters, digits and `_`",
                );
            }
            let default = self.default(&path, &spec, &kind);
            if let (FieldKind::ForeignKey { on_delete: OnDelete::SetNull, .. }, false) = (&kind, spec.nullable) {
                self.error(
                    Code::Relation,
                    self.value(&[path[0], path[1], path[2], path[3], "on_delete"]),
                    format!("`{fname}` uses `on_delete: set_null` but is not nullable"),
                    "add `nullable: true`, or choose `cascade`, `restrict` or `protect`",
                );
            }
            for (flag, set) in [("hidden", spec.hidden), ("write_only", spec.write_only)] {
                if set && is_pk {
                    self.error(
                        Code::FieldOption,
                        self.key(&[path[0], path[1], path[2], path[3], flag]),
                        format!("the primary key `{fname}` cannot be `{flag}`: callers identify rows by it"),
                        format!("remove `{flag}: true`"),
                    );
                }
            }
            if spec.hidden && spec.write_only {
                self.error(
                    Code::FieldOption,
                    self.key(&[path[0], path[1], path[2], path[3], "write_only"]),
                    format!("`{fname}` is both `hidden` and `write_only`"),
                    "keep `hidden` (written only where a grant names it) or `write_only` (written wherever a grant covers it)",
                );
            }
            let types = kind.types();
            let one_to_one = matches!(kind, FieldKind::ForeignKey { one_to_one: true, .. });
            fields.push(Field {
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
            });
        }
        let model_span = self.key(&["models", name]);
        let declares_pk = |spec: &RawFieldSpec| matches!(spec.ty.as_str(), "auto" | "big_auto") || spec.primary_key;
        let pk_declared = raw.fields.values().any(|f| declares_pk(&f.spec()));
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
        if raw.fields.values().all(|f| declares_pk(&f.spec())) && !raw.fields.is_empty() {
            self.error(
                Code::FieldOption,
                model_span,
                format!("model `{name}` has no fields besides its primary key"),
                "add at least one field: its create and update inputs would be empty",
            );
        }
        let pk = fields.iter().position(|f| matches!(f.kind, FieldKind::PrimaryKey(_))).unwrap_or(0);
        // The primary key is exposed as `id`; another field may not take that GraphQL name.
        for f in &fields {
            if f.graphql_name == "id" && !matches!(f.kind, FieldKind::PrimaryKey(_)) && !pks.is_empty() {
                self.error(
                    Code::NameClash,
                    self.key(&["models", name, "fields", &f.name]),
                    format!("field `{}` clashes with the primary key, which the API exposes as `id`", f.name),
                    "rename the field",
                );
            }
        }
        let mut columns: BTreeMap<&str, &str> = BTreeMap::new();
        let graphql: BTreeSet<&str> = fields.iter().map(|f| f.graphql_name.as_str()).collect();
        // A keyword column is `<column>_` in Rust, which must not be another column's name.
        let mut idents: BTreeMap<String, &str> = BTreeMap::new();
        for f in &fields {
            if let Some(other) = columns.insert(&f.column, &f.name) {
                self.error(
                    Code::TableClash,
                    self.key(&["models", name, "fields", &f.name]),
                    format!("fields `{other}` and `{}` both use column `{}`", f.name, f.column),
                    "rename one, or set `column:` on it",
                );
            } else if let Some(other) = idents.insert(names::column_ident(&f.column), &f.column).filter(|o| *o != f.column) {
                self.error(
                    Code::TableClash,
                    self.key(&["models", name, "fields", &f.name]),
                    format!("columns `{other}` and `{}` have the same name in the generated Rust code", f.column),
                    {
                        let keyword = if names::column_ident(other) != other { other } else { f.column.as_str() };
                        format!("`{keyword}` is written `{keyword}_` in Rust; set `column:` on one of them")
                    },
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
        for m in &many_to_many {
            if columns.values().any(|n| *n == m.name) {
                self.error(
                    Code::NameClash,
                    self.key(&["models", name, "fields", &m.name]),
                    format!("relation `{}` clashes with a field of the same name", m.name),
                    "rename one of them",
                );
            }
        }
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

    /// Options that do not belong to the field's type, and required options that are missing.
    fn check_options(&mut self, path: &[&str; 4], spec: &RawFieldSpec) {
        let ty = spec.ty.as_str();
        let is_string = matches!(ty, "string" | "email" | "url" | "slug");
        let is_rel = matches!(ty, "foreign_key" | "one_to_one" | "many_to_many");
        let is_text = is_string || ty == "text";
        let is_number = matches!(ty, "integer" | "big_integer" | "float" | "decimal");
        let allowed: [(&str, bool, bool); 14] = [
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
    fn check_rules(&mut self, path: &[&str; 4], spec: &RawFieldSpec) {
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

    fn target(&mut self, path: &[&str; 4], spec: &RawFieldSpec, models: &BTreeMap<String, ModelMeta>) -> Option<String> {
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

    fn on_delete(&mut self, path: &[&str; 4], spec: &RawFieldSpec) -> OnDelete {
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

    fn scalar(&mut self, model: &str, path: &[&str; 4], fsnake: &str, spec: &RawFieldSpec) -> Option<ScalarKind> {
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

    fn enum_values(&mut self, path: &[&str; 4], spec: &RawFieldSpec) -> Option<Vec<String>> {
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

    fn default(&mut self, path: &[&str; 4], spec: &RawFieldSpec, kind: &FieldKind) -> Option<DefaultValue> {
        let value = spec.default.as_ref()?;
        let span = self.value(&[path[0], path[1], path[2], path[3], "default"]);
        match super::defaults::check(kind, value) {
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

    /// Every Rust and GraphQL type the generated crate defines per model must be unique: a model
    /// `PostStatus` and the enum of `Post.status` would both be `PostStatus`.
    fn type_names(&mut self, models: &[Model]) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for m in models {
            let n = &m.name;
            let mut defined: Vec<(String, String, Vec<&str>)> =
                names::model_types(n).map(|ty| (ty, format!("model `{n}`"), vec!["models", n.as_str()])).collect();
            // Root fields live in one namespace too: `posts` lists `Post`, so no model may be `Posts`.
            for field in [
                m.snake.clone(),
                m.plural_snake.clone(),
                format!("create_{}", m.snake),
                format!("update_{}", m.snake),
                format!("delete_{}", m.snake),
                format!("create_{}", m.plural_snake),
                format!("update_{}", m.plural_snake),
                format!("delete_{}", m.plural_snake),
                format!("upsert_{}", m.snake),
                format!("{}_connection", m.plural_snake),
                format!("{}_aggregate", m.plural_snake),
                format!("{}_group_by", m.plural_snake),
            ] {
                defined.push((format!("root field `{}`", to_camel(&field)), format!("model `{n}`"), vec!["models", n.as_str()]));
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

    // ---- pass 4: relations ----------------------------------------------------------------------

    fn relations(&mut self, raw: &RawManifest, models: &mut [Model], metas: &BTreeMap<String, ModelMeta>) -> Vec<JoinTable> {
        let mut join_tables = Vec::new();
        let mut reverses: Vec<(String, Reverse, Vec<String>)> = Vec::new();
        for model in models.iter_mut() {
            for f in &model.fields {
                if let FieldKind::ForeignKey { target, related_name: Some(rn), one_to_one, .. } = &f.kind {
                    let kind = if *one_to_one {
                        ReverseKind::OneToOne { column: f.column.clone() }
                    } else {
                        ReverseKind::ForeignKey { column: f.column.clone() }
                    };
                    let path = vec!["models".into(), model.name.clone(), "fields".into(), f.name.clone(), "related_name".into()];
                    reverses.push((
                        target.clone(),
                        Reverse { name: rn.clone(), graphql_name: to_camel(rn), source_model: model.name.clone(), kind },
                        path,
                    ));
                }
            }
            if let Some(link @ ParentLink { related_name: Some(rn), .. }) = &model.parent {
                let path = vec!["models".into(), model.name.clone(), "fields".into(), link.name.clone(), "related_name".into()];
                let kind = ReverseKind::OneToOne { column: model.pk_field().column.clone() };
                reverses.push((
                    link.target.clone(),
                    Reverse { name: rn.clone(), graphql_name: to_camel(rn), source_model: model.name.clone(), kind },
                    path,
                ));
            }
            for m in model.many_to_many.iter_mut() {
                let fpath = ["models", model.name.as_str(), "fields", m.name.as_str()];
                if let Some(through) = m.through.clone() {
                    match self.through(&fpath, &model.name, &m.target, &through, raw, metas) {
                        Some((table, source_column, target_column)) => {
                            m.join_table = table;
                            m.source_column = source_column;
                            m.target_column = target_column;
                        }
                        None => continue,
                    }
                } else {
                    join_tables.push(JoinTable {
                        table: m.join_table.clone(),
                        source_model: model.name.clone(),
                        source_column: m.source_column.clone(),
                        target_model: m.target.clone(),
                        target_column: m.target_column.clone(),
                    });
                }
                if let Some(rn) = &m.related_name {
                    let kind = ReverseKind::ManyToMany {
                        join_table: m.join_table.clone(),
                        here_column: m.target_column.clone(),
                        there_column: m.source_column.clone(),
                    };
                    let path = vec!["models".into(), model.name.clone(), "fields".into(), m.name.clone(), "related_name".into()];
                    reverses.push((
                        m.target.clone(),
                        Reverse { name: rn.clone(), graphql_name: to_camel(rn), source_model: model.name.clone(), kind },
                        path,
                    ));
                }
            }
        }
        for (target, reverse, path) in reverses {
            let Some(model) = models.iter_mut().find(|m| m.name == target) else { continue };
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let taken = model.fields.iter().any(|f| f.name == reverse.name || f.graphql_name == reverse.graphql_name)
                || model.many_to_many.iter().any(|m| m.name == reverse.name)
                || model.reverse.iter().any(|r| r.name == reverse.name);
            if !names::is_field_ident(&reverse.name) || names::reserved_field_name(&reverse.name).is_some() {
                self.error(
                    Code::InvalidName,
                    self.value(&path),
                    format!("related name `{}` is not a usable field name", reverse.name),
                    "use a snake_case name such as `posts`",
                );
            } else if taken {
                self.error(
                    Code::NameClash,
                    self.value(&path),
                    format!("related name `{}` clashes with a field already on `{target}`", reverse.name),
                    format!("choose another `related_name`, e.g. `{}_{}`", to_snake(&reverse.source_model), reverse.name),
                );
            } else {
                model.reverse.push(reverse);
            }
        }
        join_tables
    }

    /// Checks an explicit through model: it must exist and hold foreign keys to both sides.
    fn through(
        &mut self,
        fpath: &[&str; 4],
        source: &str,
        target: &str,
        through: &str,
        raw: &RawManifest,
        metas: &BTreeMap<String, ModelMeta>,
    ) -> Option<(String, String, String)> {
        let span = self.value(&[fpath[0], fpath[1], fpath[2], fpath[3], "through"]);
        let Some(tm) = raw.models.get(through) else {
            let help = did_you_mean(through, raw.models.keys().map(String::as_str))
                .unwrap_or_else(|| "declare the through model, or remove `through:` to let gqlauto create the join table".into());
            self.error(Code::UnknownModel, span, format!("through model `{through}` does not exist"), help);
            return None;
        };
        let fk_to = |model: &str| {
            tm.fields.iter().find_map(|(n, f)| {
                let s = f.spec();
                (matches!(s.ty.as_str(), "foreign_key" | "one_to_one") && s.to.as_deref() == Some(model))
                    .then(|| s.column.clone().unwrap_or_else(|| format!("{}_id", to_snake(n))))
            })
        };
        let (src, dst) = (fk_to(source), fk_to(target));
        let mut missing = Vec::new();
        if src.is_none() {
            missing.push(source);
        }
        if dst.is_none() && target != source {
            missing.push(target);
        }
        if !missing.is_empty() {
            self.error(
                Code::Relation,
                span,
                format!(
                    "through model `{through}` has no foreign key to {}",
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ")
                ),
                format!(
                    "add to `{through}` a field like `{}: {{ type: foreign_key, to: {}, on_delete: cascade }}`",
                    to_snake(missing[0]),
                    missing[0]
                ),
            );
            return None;
        }
        let table = metas.get(through).map(|m| m.table.clone())?;
        Some((table, src?, dst.or_else(|| fk_to(target))?))
    }

    // ---- pass 5: constraints, indexes, ordering --------------------------------------------------

    /// Parses `<field> <op> <field or literal>` and checks that both sides compare.
    fn model_check(&mut self, model_name: &str, i: usize, raw: &RawCheck, model: &Model, field_names: &[String]) -> Option<ModelCheck> {
        let index = i.to_string();
        let path = ["models", model_name, "checks", index.as_str(), "rule"];
        let rule = raw.rule.trim();
        let Some((op, at)) = ["<=", ">=", "!=", "=", "<", ">"].iter().find_map(|op| rule.find(op).map(|at| (*op, at))) else {
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
            op: op.to_string(),
            right: right_operand,
        })
    }

    fn constraints(&mut self, raw: &RawManifest, models: &mut [Model]) {
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

    fn unknown_field(&mut self, path: &[&str], model: &str, field: &str, known: &[String]) {
        let help =
            did_you_mean(field, known.iter().map(String::as_str)).unwrap_or_else(|| format!("fields of `{model}`: {}", known.join(", ")));
        self.error(Code::UnknownField, self.value(path), format!("model `{model}` has no field `{field}`"), help);
    }
}

fn short_json(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!("{}…", &s[..40])
    } else {
        s
    }
}
