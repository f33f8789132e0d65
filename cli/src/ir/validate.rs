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

mod conditions;
mod constraints;
mod fields;
mod model_names;
mod models;
mod permissions;
mod relations;

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
    pub(super) fn error(&mut self, code: Code, span: Option<Span>, message: String, help: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, message).with_help(help));
    }

    pub(super) fn key(&self, path: &[&str]) -> Option<Span> {
        self.spans.key(path)
    }

    pub(super) fn value(&self, path: &[&str]) -> Option<Span> {
        self.spans.value(path)
    }

    pub(super) fn top_level(&mut self, raw: &RawManifest) -> ApiSettings {
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

    pub(super) fn auth(&mut self, raw: &RawManifest) -> AuthSettings {
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

    pub(super) fn storage(&mut self, raw: &RawManifest) -> Storage {
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
    pub(super) fn two_way(&mut self, key: &str, value: Option<&str>, [default, other]: [&str; 2], help: &str) -> bool {
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
}

fn short_json(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!("{}…", &s[..40])
    } else {
        s
    }
}

/// The errors, as `(code, message)`, of a manifest made of a `version`/`name` header and `tail`
/// (its `models:` and anything else): what the rules' unit tests look at.
#[cfg(test)]
fn errors(tail: &str) -> Vec<(Code, String)> {
    let source = format!("version: 1\nname: t\n{tail}");
    let loaded = crate::manifest::load::load_str(&source, crate::manifest::Format::Yaml);
    let raw = loaded.raw.unwrap_or_else(|| panic!("{:?}", loaded.diagnostics));
    let (_, diags) = validate(&raw, &loaded.spans);
    diags.into_iter().filter(Diagnostic::is_error).map(|d| (d.code, d.message)).collect()
}

/// Asserts that `found` holds an error of `code` whose message contains `text`.
#[cfg(test)]
#[track_caller]
fn assert_error(found: &[(Code, String)], code: Code, text: &str) {
    assert!(found.iter().any(|(c, m)| *c == code && m.contains(text)), "no {code:?} error containing {text:?} in {found:#?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid model to put beside what a test looks at.
    const BOOK: &str = "models:\n  Book: { fields: { id: auto, title: string } }\n";

    #[test]
    fn a_valid_manifest_has_no_errors() {
        assert_eq!(errors(BOOK), []);
    }

    #[test]
    fn top_level_settings_are_checked() {
        let bad_page = errors(&format!("api: {{ default_page_size: 500, max_page_size: 100 }}\n{BOOK}"));
        assert_error(&bad_page, Code::ApiSetting, "default_page_size");
        assert_error(&errors("models: {}\n"), Code::Shape, "declares no models");
    }

    #[test]
    fn database_options_take_one_of_their_two_values() {
        let found = errors(&format!("database: {{ datetime_format: sometimes }}\n{BOOK}"));
        assert_error(&found, Code::ApiSetting, "datetime_format");
    }
}
