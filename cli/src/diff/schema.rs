//! A GraphQL schema reduced to what clients can observe, read from SDL.
//!
//! Everything is keyed by name in ordered maps, so reordering definitions, fields or values is not a
//! change and comparisons walk both sides in one deterministic order. `extend` definitions are merged
//! into the type they extend. Built-in scalars and directives are implicit on both sides.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use async_graphql_parser::types::{
    BaseType, ConstDirective, DirectiveDefinition, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql_parser::{Pos, Positioned};
use async_graphql_value::ConstValue;

/// The scalars and directives every schema has without declaring them.
const BUILT_IN_SCALARS: &[&str] = &["Int", "Float", "String", "Boolean", "ID"];
const BUILT_IN_DIRECTIVES: &[&str] = &["skip", "include", "deprecated", "specifiedBy", "oneOf"];
/// The reason GraphQL gives a `@deprecated` without one.
const DEFAULT_DEPRECATION: &str = "No longer supported";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Object => "object type",
            Kind::Interface => "interface",
            Kind::Union => "union",
            Kind::Enum => "enum",
            Kind::InputObject => "input object type",
        }
    }
}

/// A type reference: `T`, `[T]`, `T!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Named(String),
    List(Box<Ty>),
    NonNull(Box<Ty>),
}

impl Ty {
    fn from_ast(t: &Type) -> Ty {
        let base = match &t.base {
            BaseType::Named(n) => Ty::Named(n.to_string()),
            BaseType::List(inner) => Ty::List(Box::new(Ty::from_ast(inner))),
        };
        if t.nullable {
            base
        } else {
            Ty::NonNull(Box::new(base))
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, Ty::NonNull(_))
    }

    /// The named type at the bottom of the wrappers.
    pub fn named(&self) -> &str {
        match self {
            Ty::Named(n) => n,
            Ty::List(t) | Ty::NonNull(t) => t.named(),
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Named(n) => f.write_str(n),
            Ty::List(t) => write!(f, "[{t}]"),
            Ty::NonNull(t) => write!(f, "{t}!"),
        }
    }
}

/// An argument, input field or directive argument.
#[derive(Debug, Clone, PartialEq)]
pub struct InputValue {
    pub description: Option<String>,
    pub ty: Ty,
    /// The default printed canonically (object fields sorted), so `{a: 1, b: 2}` equals `{b: 2, a: 1}`.
    pub default: Option<String>,
    pub deprecation: Option<String>,
}

impl InputValue {
    /// A client must pass it: non-null without a default.
    pub fn is_required(&self) -> bool {
        self.ty.is_non_null() && self.default.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub description: Option<String>,
    pub args: BTreeMap<String, InputValue>,
    pub ty: Ty,
    pub deprecation: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    pub description: Option<String>,
    pub deprecation: Option<String>,
}

/// A named type. Only the maps that belong to its kind are filled.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    pub kind: Kind,
    pub description: Option<String>,
    /// Fields of an object or interface.
    pub fields: BTreeMap<String, Field>,
    /// Fields of an input object.
    pub input_fields: BTreeMap<String, InputValue>,
    pub values: BTreeMap<String, EnumValue>,
    pub members: BTreeSet<String>,
    pub interfaces: BTreeSet<String>,
    pub specified_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DirectiveDef {
    pub description: Option<String>,
    pub args: BTreeMap<String, InputValue>,
    pub repeatable: bool,
    pub locations: BTreeSet<String>,
}

/// The root operation types.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roots {
    pub query: Option<String>,
    pub mutation: Option<String>,
    pub subscription: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub types: BTreeMap<String, TypeDef>,
    pub directives: BTreeMap<String, DirectiveDef>,
    pub roots: Roots,
}

/// SDL that does not parse or does not describe one schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SdlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl SdlError {
    fn at(pos: Pos, message: String) -> SdlError {
        SdlError { line: pos.line, column: pos.column, message }
    }
}

/// Reads SDL into a [`Schema`].
pub fn parse(sdl: &str) -> Result<Schema, SdlError> {
    let doc = async_graphql_parser::parse_schema(sdl).map_err(|e| {
        let pos = e.positions().next().unwrap_or(Pos { line: 1, column: 1 });
        // The parser's message is a caret drawing; its `= …` line says what was expected.
        let text = e.to_string();
        let what = text.lines().find_map(|l| l.trim().strip_prefix("= ")).unwrap_or_else(|| text.lines().next().unwrap_or("syntax error"));
        // Grammar rule names (`type_`, `field_definition`) read better as words.
        SdlError::at(pos, format!("syntax error: {}", what.replace('_', " ").trim()))
    })?;
    let mut schema = Schema::default();
    let mut schema_def = None;
    // Extensions are applied after every base definition is known, whatever the order in the file.
    let mut extensions = Vec::new();
    for def in doc.definitions {
        match def {
            TypeSystemDefinition::Schema(s) => {
                let s = s.node;
                let roots = &mut schema.roots;
                if !s.extend && schema_def.is_some() {
                    return Err(SdlError::at(
                        s.query.as_ref().map_or(Pos { line: 1, column: 1 }, |q| q.pos),
                        "the schema is defined twice".into(),
                    ));
                }
                schema_def.get_or_insert(());
                if let Some(q) = s.query {
                    roots.query = Some(q.node.to_string());
                }
                if let Some(m) = s.mutation {
                    roots.mutation = Some(m.node.to_string());
                }
                if let Some(sub) = s.subscription {
                    roots.subscription = Some(sub.node.to_string());
                }
            }
            TypeSystemDefinition::Type(t) => {
                let pos = t.pos;
                let t = t.node;
                let name = t.name.node.to_string();
                if t.extend {
                    extensions.push((pos, name, t));
                    continue;
                }
                if BUILT_IN_SCALARS.contains(&name.as_str()) {
                    continue;
                }
                let def = type_def(t.description.map(|d| d.node), &t.directives, t.kind);
                if schema.types.insert(name.clone(), def).is_some() {
                    return Err(SdlError::at(pos, format!("type `{name}` is defined twice; merge the definitions or use `extend type`")));
                }
            }
            TypeSystemDefinition::Directive(d) => {
                let pos = d.pos;
                let d = d.node;
                let name = d.name.node.to_string();
                if BUILT_IN_DIRECTIVES.contains(&name.as_str()) {
                    continue;
                }
                let repeatable = declared_repeatable(sdl, &d);
                if schema.directives.insert(name.clone(), DirectiveDef { repeatable, ..directive_def(d) }).is_some() {
                    return Err(SdlError::at(pos, format!("directive `@{name}` is defined twice")));
                }
            }
        }
    }
    for (pos, name, t) in extensions {
        let Some(base) = schema.types.get_mut(&name) else {
            return Err(SdlError::at(pos, format!("`extend` of `{name}`, which is not defined; define the type first")));
        };
        let ext = type_def(None, &t.directives, t.kind);
        if ext.kind != base.kind {
            return Err(SdlError::at(pos, format!("`{name}` is a {} but is extended as a {}", base.kind.name(), ext.kind.name())));
        }
        base.fields.extend(ext.fields);
        base.input_fields.extend(ext.input_fields);
        base.values.extend(ext.values);
        base.members.extend(ext.members);
        base.interfaces.extend(ext.interfaces);
        base.specified_by = base.specified_by.take().or(ext.specified_by);
    }
    if schema_def.is_none() {
        // Without a schema definition the roots are the types named by convention.
        let by_name = |n: &str| schema.types.contains_key(n).then(|| n.to_string());
        schema.roots = Roots { query: by_name("Query"), mutation: by_name("Mutation"), subscription: by_name("Subscription") };
    }
    Ok(schema)
}

fn type_def(description: Option<String>, directives: &[Positioned<ConstDirective>], kind: TypeKind) -> TypeDef {
    let mut def = TypeDef {
        kind: Kind::Scalar,
        description,
        fields: BTreeMap::new(),
        input_fields: BTreeMap::new(),
        values: BTreeMap::new(),
        members: BTreeSet::new(),
        interfaces: BTreeSet::new(),
        specified_by: directive_arg(directives, "specifiedBy", "url").map(|v| match v {
            ConstValue::String(s) => s.clone(),
            other => other.to_string(),
        }),
    };
    let names = |list: Vec<Positioned<async_graphql_value::Name>>| list.into_iter().map(|n| n.node.to_string()).collect();
    match kind {
        TypeKind::Scalar => {}
        TypeKind::Object(o) => {
            def.kind = Kind::Object;
            def.interfaces = names(o.implements);
            def.fields = fields(o.fields);
        }
        TypeKind::Interface(i) => {
            def.kind = Kind::Interface;
            def.interfaces = names(i.implements);
            def.fields = fields(i.fields);
        }
        TypeKind::Union(u) => {
            def.kind = Kind::Union;
            def.members = names(u.members);
        }
        TypeKind::Enum(e) => {
            def.kind = Kind::Enum;
            def.values = e
                .values
                .into_iter()
                .map(|v| {
                    let v = v.node;
                    let deprecation = deprecation(&v.directives);
                    (v.value.node.to_string(), EnumValue { description: v.description.map(|d| d.node), deprecation })
                })
                .collect();
        }
        TypeKind::InputObject(i) => {
            def.kind = Kind::InputObject;
            def.input_fields = input_values(i.fields);
        }
    }
    def
}

fn fields(list: Vec<Positioned<FieldDefinition>>) -> BTreeMap<String, Field> {
    list.into_iter()
        .map(|f| {
            let f = f.node;
            let field = Field {
                description: f.description.map(|d| d.node),
                args: input_values(f.arguments),
                ty: Ty::from_ast(&f.ty.node),
                deprecation: deprecation(&f.directives),
            };
            (f.name.node.to_string(), field)
        })
        .collect()
}

fn input_values(list: Vec<Positioned<InputValueDefinition>>) -> BTreeMap<String, InputValue> {
    list.into_iter()
        .map(|v| {
            let v = v.node;
            let value = InputValue {
                description: v.description.map(|d| d.node),
                ty: Ty::from_ast(&v.ty.node),
                default: v.default_value.map(|d| canonical(&d.node)),
                deprecation: deprecation(&v.directives),
            };
            (v.name.node.to_string(), value)
        })
        .collect()
}

/// Whether the definition says `repeatable`. Read from the source: the parser's grammar makes the
/// keyword optional inside its own rule, so the rule always matches and every directive comes back
/// repeatable. The keyword is the last word before `on`, which precedes the first location.
fn declared_repeatable(sdl: &str, d: &DirectiveDefinition) -> bool {
    let Some(first) = d.locations.first() else { return false };
    let Some(end) = offset(sdl, first.pos) else { return false };
    let before = sdl[..end].trim_end().trim_end_matches('|').trim_end();
    let Some(before_on) = before.strip_suffix("on") else { return false };
    let head = before_on.trim_end();
    head.strip_suffix("repeatable").is_some_and(|rest| !rest.ends_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The byte offset of a 1-based line and (character) column.
fn offset(text: &str, pos: Pos) -> Option<usize> {
    let line_start = if pos.line <= 1 { 0 } else { text.match_indices('\n').nth(pos.line - 2)?.0 + 1 };
    let line = &text[line_start..];
    let col = line.char_indices().nth(pos.column.saturating_sub(1)).map_or(line.len(), |(i, _)| i);
    Some(line_start + col)
}

fn directive_def(d: DirectiveDefinition) -> DirectiveDef {
    DirectiveDef {
        description: d.description.map(|d| d.node),
        args: input_values(d.arguments),
        repeatable: d.is_repeatable,
        locations: d.locations.into_iter().map(|l| location_name(&l.node)).collect(),
    }
}

/// The location as SDL spells it (`FIELD_DEFINITION`).
fn location_name(l: &async_graphql_parser::types::DirectiveLocation) -> String {
    let debug = format!("{l:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn directive_arg<'a>(directives: &'a [Positioned<ConstDirective>], directive: &str, arg: &str) -> Option<&'a ConstValue> {
    let d = directives.iter().find(|d| d.node.name.node.as_str() == directive)?;
    d.node.arguments.iter().find(|(n, _)| n.node.as_str() == arg).map(|(_, v)| &v.node)
}

fn deprecation(directives: &[Positioned<ConstDirective>]) -> Option<String> {
    directives.iter().any(|d| d.node.name.node.as_str() == "deprecated").then(|| match directive_arg(directives, "deprecated", "reason") {
        Some(ConstValue::String(s)) => s.clone(),
        _ => DEFAULT_DEPRECATION.to_string(),
    })
}

/// A value printed as GraphQL with object fields in name order.
fn canonical(v: &ConstValue) -> String {
    match v {
        ConstValue::List(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(", ")),
        ConstValue::Object(fields) => {
            let mut parts: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), canonical(v))).collect();
            parts.sort();
            format!("{{{}}}", parts.into_iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_merge_and_order_does_not_matter() {
        let a = parse("type Query { b: Int a(x: In = {q: 1, p: [2]}): String }\ninput In { p: [Int] q: Int }").unwrap();
        let b =
            parse("extend type Query { a(x: In = {p: [2], q: 1}): String }\ninput In { q: Int p: [Int] }\ntype Query { b: Int }").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.roots.query.as_deref(), Some("Query"));
    }

    #[test]
    fn deprecation_types_and_locations() {
        let s = parse("type Query { a: [Int!]! @deprecated b: Int @deprecated(reason: \"use a\") }\ndirective @d repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION").unwrap();
        let q = &s.types["Query"];
        assert_eq!(q.fields["a"].ty.to_string(), "[Int!]!");
        assert_eq!(q.fields["a"].deprecation.as_deref(), Some(DEFAULT_DEPRECATION));
        assert_eq!(q.fields["b"].deprecation.as_deref(), Some("use a"));
        let d = &s.directives["d"];
        assert!(d.repeatable);
        let s =
            parse("type Query { a: Int }\ndirective @e(x: String = \"repeatable\") on\n  | FIELD\ndirective @f\n  repeatable\n  on FIELD")
                .unwrap();
        assert!(!s.directives["e"].repeatable);
        assert!(s.directives["f"].repeatable);
        assert_eq!(d.locations.iter().cloned().collect::<Vec<_>>(), ["FIELD_DEFINITION", "INPUT_FIELD_DEFINITION"]);
    }

    #[test]
    fn errors_are_located() {
        let e = parse("type Query {\n  a: \n}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 1), "{e:?}");
        let e = parse("type Query { a: Int }\ntype Query { b: Int }").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("defined twice"));
        let e = parse("extend type Nope { a: Int }").unwrap_err();
        assert!(e.message.contains("not defined"), "{}", e.message);
    }
}
