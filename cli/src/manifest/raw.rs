//! The raw manifest: exactly what the user wrote, deserialized with unknown keys rejected.
//!
//! Nothing here is checked beyond its shape; `ir::validate` turns it into the typed IR. The YAML
//! manifest, the JSON manifest and (later) the Django import all lower into these types.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

/// A whole manifest file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "gqlauto manifest", description = "Describes data models once; gqlauto generates a GraphQL server crate from it.")]
pub struct RawManifest {
    /// Manifest format version. Must be 1.
    pub version: u32,
    /// Name of the generated crate (lowercase letters, digits, `-` and `_`).
    pub name: String,
    /// One-paragraph description, copied into the generated README.
    #[serde(default)]
    pub description: Option<String>,
    /// API-wide settings: page sizes and query limits.
    #[serde(default)]
    pub api: RawApi,
    /// How values are stored in the database.
    #[serde(default)]
    pub database: RawDatabase,
    /// How callers are identified: the token claims that name the user and the role.
    #[serde(default)]
    pub auth: RawAuth,
    /// Who may do what: the roles callers act in (the token's role claim; the anonymous role
    /// without a token). Once any role is declared, everything not granted is denied.
    #[serde(default)]
    pub roles: IndexMap<String, RawRole>,
    /// A shared row condition: every model with this field shows each caller (of a role without
    /// `all: true`) only the rows whose field equals the caller's claim, and sets it on create.
    pub tenant: Option<RawTenant>,
    /// The models, keyed by their PascalCase name, in the order they are generated.
    pub models: IndexMap<String, RawModel>,
}

/// Storage settings, for sharing tables another framework created.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    /// How UUIDs are stored as text: `hyphenated` (default, `67e55044-10b1-…`) or `simple`
    /// (32 hex digits, as Django stores them outside PostgreSQL).
    pub uuid_format: Option<String>,
    /// How date-times and times are stored in SQLite: `offset` (default,
    /// `2024-05-01 12:00:00.5+00:00`) or `django` (UTC without an offset, microseconds when there
    /// are any: `2024-05-01 12:00:00.500000`, as Django writes them outside PostgreSQL).
    pub datetime_format: Option<String>,
    /// How JSON is written in SQLite: `compact` (default, `{"a":[1,2]}`) or `django` (as Python's
    /// `json.dumps` writes it, `{"a": [1, 2]}` with non-ASCII escaped, as Django stores JSONField).
    pub json_format: Option<String>,
    /// Where the tables live: `sqlite` (default: a file, created when missing) or `postgres` (the
    /// server then needs `DATABASE_URL` set to a `postgres://` URL; imported PostgreSQL projects).
    pub engine: Option<String>,
}

/// Identities: which JWT claims name the user and the role, and the role of callers without a
/// token. Keys are deployment settings (`JWT_SECRET`, `JWT_JWKS_FILE`), not part of the manifest.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    /// The claim holding the user's id (default `sub`).
    pub user_claim: Option<String>,
    /// The claim holding the user's role (default `role`).
    pub role_claim: Option<String>,
    /// The role of callers without a token (default `anonymous`).
    pub anonymous_role: Option<String>,
}

/// A tenant key, declared once for every model that has the field.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    /// The field holding a row's tenant (a foreign key or a value), by its manifest name.
    pub field: String,
    /// The claim holding the caller's tenant.
    pub claim: String,
    /// `per_tenant` (the default): a unique field or group of a model with the tenant field is
    /// unique within each tenant (the tenant field joins the key); `global`: across all tenants.
    #[serde(default)]
    pub unique: TenantUnique,
}

/// Where the unique keys of tenant models hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantUnique {
    #[default]
    PerTenant,
    Global,
}

/// A role callers act in.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    /// What the role is for, copied into the docs.
    pub description: Option<String>,
    /// `true`: every operation on every model, without conditions (an administrator). Hidden
    /// fields stay hidden.
    #[serde(default)]
    pub all: bool,
}

/// What one role may do with a model: `all`, or a grant per operation.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RawGrants {
    /// `all`: every operation, without conditions.
    All(String),
    /// Grants per operation; an operation left out is denied.
    Each(Box<RawGrantSet>),
}

impl<'de> Deserialize<'de> for RawGrants {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawGrants;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`all`, or a map of operations (`read`, `create`, `update`, `delete`)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawGrants, E> {
                Ok(RawGrants::All(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawGrants, A::Error> {
                RawGrantSet::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|s| RawGrants::Each(Box::new(s)))
            }
        }
        de.deserialize_any(V)
    }
}

/// A role's grants per operation.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGrantSet {
    /// Reading rows (lookups, lists, connections, relations, aggregates, group-by, search).
    pub read: Option<RawGrant>,
    /// Creating rows.
    pub create: Option<RawGrant>,
    /// Updating rows.
    pub update: Option<RawGrant>,
    /// Deleting rows.
    pub delete: Option<RawGrant>,
}

/// One operation's grant: `true` (every row, every column), or its limits.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RawGrant {
    /// `true`: granted without limits; `false`: denied.
    Flag(bool),
    /// Granted within these limits.
    Limited(Box<RawGrantSpec>),
}

impl<'de> Deserialize<'de> for RawGrant {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawGrant;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`true`, `false`, or a map with `where`, `columns`, `preset` or `check`")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawGrant, E> {
                Ok(RawGrant::Flag(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawGrant, A::Error> {
                RawGrantSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|s| RawGrant::Limited(Box::new(s)))
            }
        }
        de.deserialize_any(V)
    }
}

/// The limits of a grant.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGrantSpec {
    /// The rows the operation reaches, written like the API's `where` (field names as in the
    /// manifest); a value may be a claim of the caller's token: `{claim: sub}`.
    #[serde(rename = "where")]
    pub condition: Option<serde_json::Value>,
    /// The fields the role may read (read) or give (create, update); default: all.
    pub columns: Option<Vec<String>>,
    /// Fields set from the caller's claims on create (`{author: sub}`); they leave the input.
    #[serde(default)]
    pub preset: IndexMap<String, String>,
    /// A condition every row the role creates or updates must satisfy afterwards.
    pub check: Option<serde_json::Value>,
}

/// API-wide settings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    /// Page size used when a list query gives no `limit` (default 20).
    pub default_page_size: Option<u32>,
    /// Largest `limit` a list query accepts (default 100).
    pub max_page_size: Option<u32>,
    /// Deepest selection nesting a query may have (default 10).
    pub max_depth: Option<u32>,
    /// Largest complexity score a query may have (default 1000).
    pub max_complexity: Option<u32>,
}

/// One model: a table and a GraphQL object type.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// SQL table name (default: snake_case plural of the model name).
    pub table: Option<String>,
    /// The model's previous name: the next migration renames its table, keeping the rows, instead of
    /// dropping it and creating a new one. Remove it once that migration is generated.
    pub renamed_from: Option<String>,
    /// `false`: the table exists already and belongs to someone else (an imported Django project):
    /// gqlauto reads and writes it but never creates, alters or drops it in a migration.
    pub managed: Option<bool>,
    /// Description for the GraphQL type and the docs.
    pub description: Option<String>,
    /// Fields keyed by snake_case name, in column order.
    pub fields: IndexMap<String, RawField>,
    /// Groups of fields whose combined values must be unique.
    #[serde(default)]
    pub unique_together: Vec<Vec<String>>,
    /// Extra indexes.
    #[serde(default)]
    pub indexes: Vec<RawIndex>,
    /// Who may read and write the rows, per role (see `roles`).
    #[serde(default)]
    pub permissions: IndexMap<String, RawGrants>,
    /// Default ordering of lists: field names, `-` prefix for descending.
    #[serde(default)]
    pub ordering: Vec<String>,
    /// Text fields covered by full-text search (the lists' `search:` argument).
    #[serde(default)]
    pub search: Vec<String>,
    /// Rules over the model's fields, such as `ends_at >= starts_at`: checked by the API on create
    /// and by a `CHECK` constraint on every write.
    #[serde(default)]
    pub checks: Vec<RawCheck>,
}

/// A rule comparing a field with another field or a literal.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// `<field> <op> <field or literal>`; op is one of `<`, `<=`, `>`, `>=`, `=`, `!=`; literals are
    /// numbers, `'quoted text'` (also dates and times), `true` or `false`.
    pub rule: String,
    /// Names the constraint (`<table>_<name>_check`); derived from the rule when omitted.
    pub name: Option<String>,
    /// What a client is told when the rule fails.
    pub message: Option<String>,
}

/// An extra index on one or more fields.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawIndex {
    /// Fields in index order.
    pub fields: Vec<String>,
    /// Whether the index enforces uniqueness.
    #[serde(default)]
    pub unique: bool,
    /// Index name (default: `<table>_<columns>_idx`).
    pub name: Option<String>,
}

/// A field: either a bare type name (`title: string`) or a map of options.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RawField {
    /// Shorthand: the type name alone.
    Short(String),
    /// Full form with options.
    Full(Box<RawFieldSpec>),
}

impl RawField {
    /// The field as a full spec; the shorthand becomes a spec with only `type` set.
    pub fn spec(&self) -> RawFieldSpec {
        match self {
            RawField::Short(ty) => RawFieldSpec { ty: ty.clone(), ..RawFieldSpec::default() },
            RawField::Full(spec) => (**spec).clone(),
        }
    }
}

impl<'de> Deserialize<'de> for RawField {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a type name such as `string`, or a map with `type` and options")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawField, E> {
                Ok(RawField::Short(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawField, A::Error> {
                RawFieldSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|s| RawField::Full(Box::new(s)))
            }
        }
        de.deserialize_any(V)
    }
}

/// All options a field may carry; which of them apply depends on `type`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFieldSpec {
    /// The field type: `auto`, `big_auto`, `integer`, `big_integer`, `float`, `decimal`,
    /// `boolean`, `string`, `text`, `email`, `url`, `slug`, `date`, `datetime`, `time`, `uuid`,
    /// `json`, `enum`, `foreign_key`, `one_to_one` or `many_to_many`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Makes this field the primary key (`auto` and `big_auto` are primary keys already).
    #[serde(default)]
    pub primary_key: bool,
    /// Allows NULL.
    #[serde(default)]
    pub nullable: bool,
    /// Adds a UNIQUE constraint.
    #[serde(default)]
    pub unique: bool,
    /// Adds an index.
    #[serde(default)]
    pub indexed: bool,
    /// Default value: a literal of the field's type, `now` (date, datetime, time) or `uuid`.
    pub default: Option<serde_json::Value>,
    /// Description for the GraphQL field.
    pub description: Option<String>,
    /// Never readable through the API, by any role (password hashes, secrets); written only by
    /// roles with `all` and grants whose `columns` name it.
    #[serde(default)]
    pub hidden: bool,
    /// Never readable through the API, by any role; written like any other field (in every
    /// create and update input its grant covers): a PIN or an initial secret clients set.
    #[serde(default)]
    pub write_only: bool,
    /// Marks the field deprecated in GraphQL: `true`, or the reason as a string.
    pub deprecated: Option<Deprecated>,
    /// Maximum length in characters (string, email, url, slug).
    pub max_length: Option<u32>,
    /// Total number of digits (decimal).
    pub max_digits: Option<u32>,
    /// Digits after the decimal point (decimal).
    pub decimal_places: Option<u32>,
    /// Allowed values (enum), lowercase snake_case.
    pub values: Option<Vec<String>>,
    /// Target model (foreign_key, one_to_one, many_to_many).
    pub to: Option<String>,
    /// What deleting the target does: `cascade`, `restrict`, `set_null` or `protect`.
    pub on_delete: Option<String>,
    /// Name of the reverse field on the target model.
    pub related_name: Option<String>,
    /// Explicit join model for many_to_many; it must have foreign keys to both models.
    pub through: Option<String>,
    /// many_to_many with `through`: the through model's two fields that point at this model's row
    /// and at the target's, in that order (default: its foreign keys to each). The first may be a
    /// plain integer or string field that holds this model's key, as a generic relation's object
    /// id does.
    pub through_fields: Option<Vec<String>>,
    /// many_to_many with `through`: which of the through model's rows belong to this relation.
    /// Each foreign key of the through model named here must point at the row of its target whose
    /// fields have the values given (a unique key of that model), as a generic relation's content
    /// type does: `{ content_type: { app_label: shop, model: photo } }`. Rows the relation links
    /// get those values too.
    pub through_where: Option<IndexMap<String, IndexMap<String, serde_json::Value>>>,
    /// Column name (default: the field name, `<name>_id` for relations).
    pub column: Option<String>,
    /// many_to_many: the join table's name (default: `<table>_<field>`), for existing databases.
    pub join_table: Option<String>,
    /// many_to_many: the join table's two columns, this model's key first (default:
    /// `<model>_id`, `<target>_id`), for existing databases.
    pub join_columns: Option<Vec<String>>,
    /// The field's previous name: the next migration renames its column, keeping the values,
    /// instead of dropping it and adding a new one. Remove it once that migration is generated.
    pub renamed_from: Option<String>,
    /// Minimum length in characters (string, email, url, slug, text).
    pub min_length: Option<u32>,
    /// Rejects empty and whitespace-only values (string, email, url, slug, text).
    #[serde(default)]
    pub non_empty: bool,
    /// Smallest allowed value, inclusive (integer, big_integer, float, decimal).
    pub min: Option<serde_json::Number>,
    /// Largest allowed value, inclusive (integer, big_integer, float, decimal).
    pub max: Option<serde_json::Number>,
    /// A regular expression the value must contain a match of; anchor it with `^...$` to match
    /// the whole value (string, email, url, slug, text). Checked by the API only.
    pub pattern: Option<String>,
    /// The only values allowed (string, email, url, slug, text); use `enum` for a GraphQL enum.
    pub choices: Option<Vec<String>>,
}

/// `deprecated: true` or `deprecated: "reason"`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Deprecated {
    /// Deprecated without a reason.
    Flag(bool),
    /// Deprecated with a reason.
    Reason(String),
}
