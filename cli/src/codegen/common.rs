//! What every view builder shares: resolvers and their SDL, and the small conversions from IR
//! facts to Rust and GraphQL spellings (types, names, doc comments).

use serde::Serialize;

use crate::ir::names::to_camel;
use crate::ir::{Field, FieldKind, Ir, Model};

/// One field of a GraphQL object type, as its schema shows it.
#[derive(Debug, Serialize)]
pub struct Resolver {
    pub name: String,
    /// How the field reads in the SDL.
    #[serde(skip)]
    pub sdl: SdlField,
}

/// A field (or input field) as the SDL prints it.
#[derive(Debug, Clone, Default)]
pub struct SdlField {
    pub name: String,
    /// `(name, type)` of each argument.
    pub args: Vec<(String, String)>,
    pub ty: String,
    pub description: Option<String>,
    pub deprecation: Option<String>,
}

/// A field of an object type being described: its name and GraphQL type, then its description,
/// deprecation and arguments.
pub(super) struct ResolverSpec {
    name: String,
    gql_ty: String,
    description: Option<String>,
    deprecation: Option<String>,
    /// The GraphQL arguments, `(name, type)`.
    args: Vec<(String, String)>,
}

impl ResolverSpec {
    pub(super) fn new(name: &str, gql_ty: impl Into<String>) -> ResolverSpec {
        ResolverSpec { name: name.to_string(), gql_ty: gql_ty.into(), description: None, deprecation: None, args: Vec::new() }
    }

    pub(super) fn doc(self, text: impl Into<String>) -> ResolverSpec {
        self.description(Some(text.into()))
    }

    pub(super) fn description(mut self, description: Option<String>) -> ResolverSpec {
        self.description = description;
        self
    }

    pub(super) fn deprecation(mut self, reason: Option<String>) -> ResolverSpec {
        self.deprecation = reason;
        self
    }

    pub(super) fn args(mut self, args: Vec<(String, String)>) -> ResolverSpec {
        self.args = args;
        self
    }

    pub(super) fn build(self) -> Resolver {
        Resolver {
            sdl: SdlField {
                name: to_camel(&self.name),
                args: self.args,
                ty: self.gql_ty,
                description: self.description,
                deprecation: self.deprecation,
            },
            name: self.name,
        }
    }
}

pub(super) fn model<'a>(ir: &'a Ir, name: &str) -> &'a Model {
    ir.model(name).expect("relation targets are resolved by validation")
}

/// `///` lines for an optional description.
pub(super) fn doc(text: Option<&str>) -> String {
    text.map(|t| t.lines().map(|l| format!("/// {l}\n")).collect()).unwrap_or_default()
}

/// GraphQL type with `!` unless nullable.
pub(super) fn gql(ty: &str, nullable: bool) -> String {
    if nullable {
        ty.to_string()
    } else {
        format!("{ty}!")
    }
}

/// The API name of a written field: relations are written through their `...Id` field.
pub(super) fn input_name(f: &Field) -> String {
    if matches!(f.kind, FieldKind::ForeignKey { .. }) {
        format!("{}Id", f.graphql_name)
    } else {
        f.graphql_name.clone()
    }
}

/// Rust field name in the row, insert, changeset and input structs: a relation `author` is held
/// as `author_id` (async-graphql camelCases that into the input's `authorId`).
pub(super) fn rust_field(f: &Field) -> String {
    if matches!(f.kind, FieldKind::ForeignKey { .. }) {
        format!("{}_id", f.name)
    } else {
        f.name.clone()
    }
}

/// An input object type.
#[derive(Debug, Clone, Serialize)]
pub struct InputDef {
    pub name: String,
    pub doc: String,
    #[serde(skip)]
    pub description: String,
    pub fields: Vec<InputField>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputField {
    #[serde(skip)]
    pub sdl: SdlField,
}

/// An output object type backed by a small wrapper struct.
#[derive(Debug, Serialize)]
pub struct ObjectDef {
    pub name: String,
    pub description: String,
    pub resolvers: Vec<Resolver>,
}

/// A GraphQL enum: a stored enum field's values (`PostStatus`), or names of fields
/// (`PostGroupField`).
#[derive(Debug, Serialize)]
pub struct PlainEnum {
    pub name: String,
    pub description: String,
    /// Value names as the SDL shows them.
    pub graphql_values: Vec<String>,
}

/// An input field; its `#[graphql(name)]` is added only when async-graphql would derive another name.
pub(super) fn field(gql_name: &str, gql_ty: &str, description: Option<&str>) -> InputField {
    InputField {
        sdl: SdlField {
            name: gql_name.to_string(),
            args: Vec::new(),
            ty: gql_ty.to_string(),
            description: description.map(str::to_string),
            deprecation: None,
        },
    }
}

pub(super) fn input(name: String, description: String, fields: Vec<InputField>) -> InputDef {
    InputDef { doc: doc(Some(&description)), name, description, fields }
}

/// The IR of a small blog — authors, posts with an enum, a unique slug, a counter and a decimal,
/// tags linked many-to-many — for the view builders' unit tests.
#[cfg(test)]
pub(super) fn blog() -> Ir {
    let source = "version: 1\nname: blog\nmodels:\n  \
        Author: { fields: { id: auto, name: string } }\n  \
        Post:\n    fields:\n      id: auto\n      \
        author: { type: foreign_key, to: Author, on_delete: cascade, related_name: posts }\n      \
        title: { type: string, max_length: 200, non_empty: true }\n      \
        slug: { type: slug, max_length: 50, unique: true }\n      \
        status: { type: enum, values: [draft, published], default: draft }\n      \
        views: { type: integer, default: 0, min: 0 }\n      \
        price: { type: decimal, max_digits: 8, decimal_places: 2, nullable: true }\n      \
        published_at: { type: datetime, nullable: true }\n      \
        tags: { type: many_to_many, to: Tag, related_name: posts }\n    \
        ordering: [-published_at]\n  \
        Tag: { fields: { id: auto, name: string } }\n";
    ir_of(source)
}

/// The IR of a manifest that must validate (for unit tests).
#[cfg(test)]
pub(super) fn ir_of(source: &str) -> Ir {
    let checked = crate::api::check_source("test.yaml", source.to_string(), crate::manifest::Format::Yaml);
    let shown = checked.render(crate::api::DiagFormat::Short);
    checked.ir.unwrap_or_else(|| panic!("{shown}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_lines_cover_every_line() {
        assert_eq!(doc(Some("one\ntwo")), "/// one\n/// two\n");
        assert_eq!(doc(None), "");
    }
}
