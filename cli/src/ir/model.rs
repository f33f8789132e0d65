//! The IR's types: a validated manifest, its models, fields, relations, roles and permissions.

use super::types::{Comparison, FieldKind, OnDelete, Types};

/// A validated manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Ir {
    /// Crate (package) name of the generated server.
    pub crate_name: String,
    pub description: Option<String>,
    pub api: ApiSettings,
    pub storage: Storage,
    pub auth: AuthSettings,
    /// The roles callers act in; empty: no access control (everything is open).
    pub roles: Vec<Role>,
    /// Models in manifest order; explicit `through` models included.
    pub models: Vec<Model>,
    /// Join tables generated for implicit many-to-many relations.
    pub join_tables: Vec<JoinTable>,
}

impl Ir {
    /// The model called `name`.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }
}

/// How values are laid out in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Storage {
    /// UUIDs as 32 hex digits instead of the hyphenated form.
    pub uuid_simple: bool,
    /// Date-times and times in Django's SQLite forms: UTC without an offset, six fractional
    /// digits when there is a fraction (`database.datetime_format: django`).
    pub django_datetimes: bool,
    /// JSON in SQLite as Python's `json.dumps` writes it (`database.json_format: django`).
    pub django_json: bool,
    /// The tables live in PostgreSQL (`database.engine: postgres`): the server has no SQLite file
    /// to fall back on when `DATABASE_URL` is not set.
    pub postgres: bool,
}

/// How callers are identified (see the runtime's `auth.rs`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuthSettings {
    /// The JWT claim naming the user.
    pub user_claim: String,
    /// The JWT claim naming the role.
    pub role_claim: String,
    /// The role of callers without a token.
    pub anonymous_role: String,
}

/// A role callers act in (a token's role claim, or the anonymous role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub description: Option<String>,
    /// Every operation on every model without conditions.
    pub all: bool,
}

/// What one role may do with one model; an operation without a grant is denied.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Permission {
    pub role: String,
    pub read: Option<Grant>,
    pub create: Option<Grant>,
    pub update: Option<Grant>,
    pub delete: Option<Grant>,
}

impl Permission {
    /// Every operation, without limits.
    pub fn all(role: &str) -> Permission {
        let g = || Some(Grant::default());
        Permission { role: role.to_string(), read: g(), create: g(), update: g(), delete: g() }
    }
}

/// The limits of one granted operation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grant {
    /// The rows reached: a condition in the API's `where` language (GraphQL names, enum values
    /// as GraphQL names), claims as `{"claim": name}`.
    pub condition: Option<serde_json::Value>,
    /// The fields (indexes into the model's fields) the role may read or give; `None`: all.
    pub columns: Option<Vec<usize>>,
    /// Fields set from a claim on create: (field index, claim).
    pub preset: Vec<(usize, String)>,
    /// A condition written rows must satisfy afterwards (create, update).
    pub check: Option<serde_json::Value>,
}

impl Grant {
    /// Whether the grant reaches every row and every field.
    pub fn unlimited(&self) -> bool {
        self.condition.is_none() && self.columns.is_none() && self.preset.is_empty() && self.check.is_none()
    }

    /// Whether the grant covers the field at `index`.
    pub fn covers(&self, index: usize) -> bool {
        self.columns.as_ref().is_none_or(|c| c.contains(&index))
    }

    /// Whether a write under this grant may give `field` (at `index`): a hidden field only when
    /// `columns` names it or the role has `all`.
    pub fn gives(&self, field: &Field, index: usize, all: bool) -> bool {
        if field.hidden {
            all || self.columns.as_ref().is_some_and(|c| c.contains(&index))
        } else {
            self.covers(index)
        }
    }
}

/// Page sizes and query limits of the generated API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ApiSettings {
    pub default_page_size: u32,
    pub max_page_size: u32,
    pub max_depth: u32,
    pub max_complexity: u32,
}

/// One model: one table, one GraphQL object type.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// PascalCase name, as written: the GraphQL type and Rust struct name.
    pub name: String,
    /// snake_case name: module name and the single-object query name's base.
    pub snake: String,
    /// snake_case plural: the list query name's base.
    pub plural_snake: String,
    pub table: String,
    /// The model's previous name, for migrations.
    pub renamed_from: Option<String>,
    /// Whether gqlauto's migrations create and change the table (`managed: false` leaves it alone).
    pub managed: bool,
    pub description: Option<String>,
    /// Column-backed fields in manifest order (primary key, scalars, foreign keys).
    pub fields: Vec<Field>,
    /// Index into `fields` of the primary key.
    pub pk: usize,
    /// When the primary key is also a one-to-one link to another model's row.
    pub parent: Option<ParentLink>,
    /// Forward many-to-many relations declared on this model.
    pub many_to_many: Vec<ManyToMany>,
    /// Reverse sides of relations declared on other models (those with a `related_name`).
    pub reverse: Vec<Reverse>,
    /// Column groups that must be unique together.
    pub unique_together: Vec<Vec<String>>,
    /// Indexes, including those implied by `indexed: true` and by foreign keys.
    pub indexes: Vec<Index>,
    /// Default ordering: (field index, descending). The primary key is appended as tie-breaker by readers.
    pub ordering: Vec<(usize, bool)>,
    /// Indexes of the fields full-text search covers, in manifest order.
    pub search: Vec<usize>,
    /// Rules over several fields (`ends_at >= starts_at`).
    pub checks: Vec<ModelCheck>,
    /// Grants per role (empty when the manifest declares no roles).
    pub permissions: Vec<Permission>,
}

/// A primary key that is also a one-to-one link to a row of another model (Django's multi-table
/// inheritance, or `OneToOneField(primary_key=True)`): the client gives the row's key on create,
/// and the API exposes the linked row as a relation beside `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentLink {
    /// snake_case name of the relation (the manifest's field name).
    pub name: String,
    pub graphql_name: String,
    pub target: String,
    pub target_table: String,
    pub target_column: String,
    pub on_delete: OnDelete,
    /// The reverse side's name on the target, if it has one.
    pub related_name: Option<String>,
}

/// A model-level rule: `fields[left] op right`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCheck {
    pub name: String,
    pub left: usize,
    pub op: Comparison,
    pub right: CheckOperand,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckOperand {
    Field(usize),
    /// A literal of the left field's type: its SQL text and its runtime operand expression.
    Literal {
        sql: String,
        rust: String,
    },
}

impl Model {
    /// Whether some index of the table (its key, a unique column or a declared index) starts
    /// with `column`, so a condition or ordering on it does not read the whole table.
    pub fn index_starts_with(&self, column: &str) -> bool {
        self.pk_field().column == column
            || self.fields.iter().any(|f| f.unique && f.column == column)
            || self
                .unique_together
                .iter()
                .any(|u| u.first().is_some_and(|f| self.fields.iter().any(|x| &x.name == f && x.column == column)))
            || self.indexes.iter().any(|i| i.columns.first().is_some_and(|c| c.split(' ').next() == Some(column)))
    }

    /// The Django line that declares an index over `fields` (field positions, descending
    /// when true), named within Django's 30 characters.
    pub fn django_index(&self, fields: &[(usize, bool)]) -> String {
        /// Django's limit on an index name.
        const DJANGO_NAME_LIMIT: usize = 30;
        // The key ends every ordering of the server's already; Django's index needs no more.
        let fields: Vec<(usize, bool)> = match fields.iter().filter(|(pos, _)| *pos != self.pk).copied().collect::<Vec<_>>() {
            rest if rest.is_empty() => fields.to_vec(),
            rest => rest,
        };
        let names: Vec<String> =
            fields.iter().map(|&(pos, desc)| format!("\"{}{}\"", if desc { "-" } else { "" }, self.fields[pos].name)).collect();
        let joined = fields.iter().map(|&(pos, _)| self.fields[pos].name.as_str()).collect::<Vec<_>>().join("_");
        let mut name = format!("{}_{joined}_idx", self.snake);
        if name.len() > DJANGO_NAME_LIMIT {
            // Shortened as Django shortens its own: the beginnings of the names and a hash of the whole.
            let hash = name.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
            let short = |s: &str| s.chars().take(8).collect::<String>().trim_end_matches('_').to_string();
            name = format!("{}_{}_{:06x}_idx", short(&self.snake), short(&self.fields[fields[0].0].name), hash & 0xff_ffff);
        }
        format!("models.Index(fields=[{}], name=\"{name}\")", names.join(", "))
    }

    /// The grants of `role`, when roles are declared.
    pub fn permission(&self, role: &str) -> Option<&Permission> {
        self.permissions.iter().find(|p| p.role == role)
    }

    pub fn pk_field(&self) -> &Field {
        &self.fields[self.pk]
    }

    /// Whether a column of this model points at another model's row: a foreign key, or a key
    /// linked to the row it extends.
    pub fn has_to_one(&self) -> bool {
        self.parent.is_some() || self.fields.iter().any(|f| matches!(f.kind, FieldKind::ForeignKey { .. }))
    }

    /// Whether the client gives the key on create: a string key, or a key linked to another row.
    pub fn key_from_client(&self) -> bool {
        self.parent.is_some() || matches!(self.pk_field().kind, FieldKind::PrimaryKey(k) if !k.is_generated())
    }

    /// Whether every new row needs a value for `f` from its creator: not nullable, no default,
    /// not a key the database numbers.
    pub fn needed_on_create(&self, f: &Field) -> bool {
        !f.nullable && f.default.is_none() && (!matches!(f.kind, FieldKind::PrimaryKey(_)) || self.key_from_client())
    }

    /// Whether an update has anything to change: a field besides the key, or a relation written
    /// through this model (a many-to-many, or a reverse side).
    pub fn has_update_input(&self) -> bool {
        self.fields.iter().any(|f| !matches!(f.kind, FieldKind::PrimaryKey(_))) || !self.many_to_many.is_empty() || !self.reverse.is_empty()
    }

    /// Whether a create takes an input: the client gives the key, or there is anything an update
    /// could change. A model of only a key the database or the server makes (a key-only Django
    /// model that exists for its permissions) is created without one.
    pub fn has_create_input(&self) -> bool {
        self.key_from_client() || self.has_update_input()
    }
}

/// A column-backed field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// snake_case name: the Rust field name.
    pub name: String,
    /// camelCase GraphQL name (`id` for the primary key).
    pub graphql_name: String,
    pub column: String,
    pub kind: FieldKind,
    pub types: Types,
    pub nullable: bool,
    pub unique: bool,
    pub default: Option<DefaultValue>,
    pub description: Option<String>,
    /// `Some(reason)` when deprecated.
    pub deprecated: Option<String>,
    /// The field's previous name (snake_case), for migrations.
    pub renamed_from: Option<String>,
    /// Validation rules beyond the type's own (`max_length`, decimal digits, enum values).
    pub rules: Rules,
    /// Never readable through the API; written only where a grant names it (or by roles with `all`).
    pub hidden: bool,
    /// Never readable through the API; written wherever a grant covers it.
    pub write_only: bool,
}

impl Field {
    /// Whether any role may read the field (neither `hidden` nor `write_only`).
    pub fn readable(&self) -> bool {
        !self.hidden && !self.write_only
    }
}

/// Field validators from the manifest: checked by the API before every write, and as `CHECK`
/// constraints where SQL can express them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rules {
    pub min_length: Option<u32>,
    /// Not empty and not only whitespace.
    pub non_empty: bool,
    /// Inclusive bounds of a number, as the manifest wrote them (already checked to parse).
    pub min: Option<String>,
    pub max: Option<String>,
    /// A regular expression the value must contain a match of.
    pub pattern: Option<String>,
    /// The only values allowed.
    pub choices: Vec<String>,
}

/// A field default, already checked against the field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A literal, rendered as SQL and as a Rust expression of the row type.
    Literal { sql: String, rust: String },
    /// The current date, time or timestamp at insert.
    Now,
    /// A fresh random UUID at insert.
    NewUuid,
}

/// A many-to-many relation, through a generated join table or an explicit model.
#[derive(Debug, Clone, PartialEq)]
pub struct ManyToMany {
    /// snake_case field name on the declaring model.
    pub name: String,
    pub graphql_name: String,
    pub target: String,
    pub join_table: String,
    /// Join-table column pointing at the declaring model.
    pub source_column: String,
    /// Join-table column pointing at the target model.
    pub target_column: String,
    /// The explicit through model, if any.
    pub through: Option<String>,
    /// Which of the through model's rows belong to this relation, if not all.
    pub scope: Option<JoinScope>,
    pub related_name: Option<String>,
    pub description: Option<String>,
}

/// The rows of a through table that belong to one many-to-many relation (a generic relation's,
/// whose through rows name the model they link by a content type): `column` holds the key
/// (`key`) of the one row of `table` whose columns have the given values. Rows the relation
/// links are written with it.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinScope {
    pub column: String,
    pub table: String,
    pub key: String,
    /// `(column, value)`: strings and integers, a unique key of `table`.
    pub values: Vec<(String, serde_json::Value)>,
}

/// A join table gqlauto creates for an implicit many-to-many relation.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinTable {
    pub table: String,
    pub source_model: String,
    pub source_column: String,
    pub target_model: String,
    pub target_column: String,
}

/// The reverse side of a relation, shown on the target model.
#[derive(Debug, Clone, PartialEq)]
pub struct Reverse {
    /// snake_case name (the `related_name`).
    pub name: String,
    pub graphql_name: String,
    /// The model that declared the relation.
    pub source_model: String,
    pub kind: ReverseKind,
}

/// What a reverse relation returns.
#[derive(Debug, Clone, PartialEq)]
pub enum ReverseKind {
    /// Rows of the source model whose foreign key column points here.
    ForeignKey { column: String },
    /// The one row of the source model whose one-to-one column points here.
    OneToOne { column: String },
    /// Rows of the source model linked through a join table.
    ManyToMany { join_table: String, here_column: String, there_column: String, scope: Option<JoinScope> },
}

/// A database index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}
