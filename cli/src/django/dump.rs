//! The dump the Django exporter writes (`format: gqlauto-django-dump`, `version: 1`): model metadata
//! read from a loaded Django project. Documented in docs/django.md; unknown keys are ignored so a
//! newer exporter's additions do not break an older reader of the same version.

use serde::Deserialize;

pub const FORMAT: &str = "gqlauto-django-dump";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Deserialize)]
pub struct Dump {
    pub django: String,
    pub settings: String,
    pub auth_user_model: Option<String>,
    pub database_vendor: Option<String>,
    pub models: Vec<Model>,
    #[serde(default)]
    pub warnings: Vec<ExportWarning>,
}

/// Something the exporter could not read; carried into the import's warnings.
#[derive(Debug, Clone, Deserialize)]
pub struct ExportWarning {
    pub model: String,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Model {
    pub app: String,
    pub name: String,
    /// `app.Model`.
    pub label: String,
    pub db_table: String,
    #[serde(default = "yes")]
    pub managed: bool,
    #[serde(default)]
    pub proxy: bool,
    /// The model that replaces this one (a swapped `auth.User`).
    pub swapped: Option<String>,
    pub doc: Option<String>,
    #[serde(default)]
    pub parents: Vec<Parent>,
    pub pk: Option<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub many_to_many: Vec<ManyToMany>,
    #[serde(default)]
    pub generic: Vec<serde_json::Value>,
    #[serde(default)]
    pub unique_together: Vec<Vec<String>>,
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    #[serde(default)]
    pub indexes: Vec<Index>,
    #[serde(default)]
    pub ordering: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct Parent {
    pub model: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    pub name: String,
    pub column: String,
    /// The field's class, dotted (`django.db.models.fields.CharField`, `taggit.managers.TaggableManager`).
    pub class: String,
    /// `get_internal_type()`: what a third-party class stores as.
    pub internal_type: String,
    #[serde(default)]
    pub primary_key: bool,
    #[serde(default)]
    pub null: bool,
    /// Django's forms accept an empty value; for text columns that means `''` is stored.
    #[serde(default)]
    pub blank: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub db_index: bool,
    pub max_length: Option<u32>,
    pub max_digits: Option<u32>,
    pub decimal_places: Option<u32>,
    /// `[value, label]` pairs.
    pub choices: Option<Vec<(serde_json::Value, Option<String>)>>,
    pub default: Default,
    #[serde(default)]
    pub auto_now: bool,
    #[serde(default)]
    pub auto_now_add: bool,
    pub help_text: Option<String>,
    #[serde(default)]
    pub validators: Vec<Validator>,
    pub relation: Option<Relation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Default {
    None,
    Value {
        value: serde_json::Value,
        /// A lazily translated string, given in the project's default language.
        #[serde(default)]
        translated: bool,
    },
    Callable {
        name: String,
    },
    Unserializable {
        repr: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Validator {
    MinLength { value: u32 },
    MaxLength { value: u32 },
    MinValue { value: serde_json::Value },
    MaxValue { value: serde_json::Value },
    Regex { pattern: Option<String>, class: String, inverse: bool },
    Email,
    Other { class: String },
}

#[derive(Debug, Clone, Deserialize)]
pub struct Relation {
    /// `app.Model`.
    pub to: String,
    pub to_field: Option<String>,
    /// `CASCADE`, `PROTECT`, `RESTRICT`, `SET_NULL`, `SET_DEFAULT`, `DO_NOTHING`, `SET`.
    pub on_delete: Option<String>,
    pub related_name: Option<String>,
    /// The reverse side's name on the target model, as Django names it when `related_name` is not
    /// given (`product_set`); absent when there is none, and in dumps of older exporters.
    #[serde(default)]
    pub accessor: Option<String>,
    #[serde(default)]
    pub one_to_one: bool,
    #[serde(default)]
    pub parent_link: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManyToMany {
    pub name: String,
    /// The field's class, dotted (`django.db.models.fields.related.ManyToManyField`).
    pub class: Option<String>,
    pub to: String,
    pub related_name: Option<String>,
    /// As [`Relation::accessor`].
    #[serde(default)]
    pub accessor: Option<String>,
    /// `app.Model` of the join model (Django's automatic one is `app.Model_field`).
    pub through: String,
    #[serde(default)]
    pub auto_created: bool,
    pub db_table: Option<String>,
    pub source_column: Option<String>,
    pub target_column: Option<String>,
    pub help_text: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Constraint {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub conditional: bool,
    #[serde(default)]
    pub expressions: bool,
    pub condition: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Index {
    pub name: Option<String>,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub expressions: bool,
}
