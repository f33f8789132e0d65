//! The GraphQL schema as SDL, printed from the view-model in the layout async-graphql's
//! `Schema::sdl()` uses, so the generated crate can assert the two are identical.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::common::SdlField;
use super::view::CrateView;

/// Scalar types the schema may use, with the descriptions printed for them: async-graphql's
/// built-ins (`Decimal`, `JSON`, `UUID`) and the generated `runtime/scalars.rs` (doc comments).
/// The `bool`: whether the scalar has a `specifiedBy` URL (then the directive is printed).
const SCALARS: &[(&str, Option<&str>, bool)] = &[
    ("BigInt", Some("A 64-bit integer: a number when it fits GraphQL's 32-bit `Int`, else a string of digits (so\nno client rounds it). Accepted as either."), false),
    ("Date", Some("A calendar date, `YYYY-MM-DD` (ISO 8601)."), true),
    ("DateTime", Some("An instant, RFC 3339 with a time zone offset (`2024-05-01T12:00:00+02:00`); stored and returned\nin UTC (`2024-05-01T10:00:00Z`)."), true),
    ("Decimal", None, false),
    ("Email", Some("An email address (`name@example.com`)."), true),
    ("JSON", Some("A scalar that can represent any JSON value."), false),
    ("Slug", Some("A slug: lowercase letters, digits, `-` and `_`."), false),
    ("Time", Some("A time of day, `HH:MM:SS` with optional fractional seconds (ISO 8601, no time zone)."), true),
    ("URL", Some("An absolute http or https URL."), true),
    ("UUID", Some("A UUID is a unique 128-bit number, stored as 16 octets. UUIDs are parsed as\nStrings within GraphQL. UUIDs are used to assign unique identifiers to\nentities without requiring a central allocating authority.\n\n# References\n\n* [Wikipedia: Universally Unique Identifier](http://en.wikipedia.org/wiki/Universally_unique_identifier)\n* [RFC4122: A Universally Unique Identifier (UUID) URN Namespace](http://tools.ietf.org/html/rfc4122)"), false),
];

/// Directives async-graphql prints: `@deprecated` only when something is deprecated,
/// `@specifiedBy` only when a scalar has a specification URL, the rest always.
const DEPRECATED: &str = "\"\"\"\nMarks an element of a GraphQL schema as no longer supported.\n\"\"\"\ndirective @deprecated(reason: String = \"No longer supported\") on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE";
const ALWAYS: &[&str] = &[
    "\"\"\"\nDirects the executor to include this field or fragment only when the `if` argument is true.\n\"\"\"\ndirective @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT",
    "\"\"\"\nDirects the executor to skip this field or fragment when the `if` argument is true.\n\"\"\"\ndirective @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT",
];
const SPECIFIED_BY: &str = "\"\"\"\nProvides a scalar specification URL for specifying the behavior of custom scalar types.\n\"\"\"\ndirective @specifiedBy(url: String!) on SCALAR";

/// Which parts of the schema a caller sees (a role's view, or every role's together).
pub trait Visible {
    /// Whether `field` of the object or input type `ty` stays.
    fn field(&self, ty: &str, field: &str) -> bool;
    /// Whether the argument `arg` of `ty.field` stays.
    fn argument(&self, ty: &str, field: &str, arg: &str) -> bool;
    /// Whether the value `value` of the enum `ty` stays.
    fn value(&self, ty: &str, value: &str) -> bool;
}

/// One definition, before printing.
enum Def {
    Block { keyword: &'static str, desc: Option<String>, fields: Vec<SdlField> },
    Enum { desc: String, values: Vec<String> },
}

/// Prints the schema `visible` lets a caller see: what it hides is left out, then every type no
/// longer reachable from `Query` or `Mutation`, and fields whose type became empty.
pub fn print_visible(view: &CrateView, visible: &dyn Visible) -> String {
    let mut types: BTreeMap<String, Def> = BTreeMap::new();
    let mut query = Vec::new();
    let mut mutation = Vec::new();
    let block =
        |keyword: &'static str, desc: Option<&str>, fields: Vec<SdlField>| Def::Block { keyword, desc: desc.map(str::to_string), fields };
    let enum_def = |desc: &str, values: &[String]| Def::Enum { desc: desc.to_string(), values: values.to_vec() };
    for m in &view.models {
        let fields: Vec<SdlField> = m.resolvers.iter().map(|r| r.sdl.clone()).collect();
        types.insert(m.name.clone(), block("type", m.description.as_deref(), fields));
        for t in &m.write.inputs {
            let fields: Vec<SdlField> = t.fields.iter().map(|f| f.sdl.clone()).collect();
            types.insert(t.name.clone(), block("input", Some(&t.description), fields));
        }
        const UPDATES: [(&str, &str, &str); 4] = [
            ("IntUpdate", "Int", "an integer"),
            ("BigIntUpdate", "BigInt", "a 64-bit integer"),
            ("FloatUpdate", "Float", "a float"),
            ("DecimalUpdate", "Decimal", "a decimal"),
        ];
        for (name, ty, what) in UPDATES {
            let used = m.write.inputs.iter().any(|t| t.fields.iter().any(|f| f.sdl.ty == name));
            if used {
                let fields = vec![
                    sdl_field("set", ty, "Stores this value."),
                    sdl_field("increment", ty, "Adds this (possibly negative) amount to the stored value, atomically."),
                ];
                let description = format!("`{{set: v}}` or `{{increment: n}}` for {what} field.");
                types.insert(name.into(), block("input", Some(&description), fields));
            }
        }
        let bulk = format!("{}BulkResult", m.name);
        types.insert(bulk, block("type", Some("Rows a bulk mutation wrote."), m.write.bulk_result.clone()));
        if let Some(g) = &m.write.field_enum {
            types.insert(g.name.clone(), enum_def(&g.description, &g.graphql_values));
        }
        for e in &m.enums {
            types.insert(e.name.clone(), enum_def(&e.description, &e.graphql_values));
        }
        for t in &m.read.inputs {
            let fields: Vec<SdlField> = t.fields.iter().map(|f| f.sdl.clone()).collect();
            types.insert(t.name.clone(), block("input", Some(&t.description), fields));
        }
        for o in &m.read.objects {
            let fields: Vec<SdlField> = o.resolvers.iter().map(|r| r.sdl.clone()).collect();
            types.insert(o.name.clone(), block("type", Some(&o.description), fields));
        }
        if let Some(g) = &m.read.group_enum {
            types.insert(g.name.clone(), enum_def(&g.description, &g.graphql_values));
        }
        for name in &m.read.filter_types {
            if let Some(fields) = shared_filter(name) {
                types.insert(name.clone(), block("input", Some(shared_description(name)), fields));
            }
        }
        for e in &m.enums {
            let name = format!("{}Filter", e.name);
            types.insert(name, block("input", Some(EQUATABLE), equatable(&e.name)));
        }
        query.extend(m.query_resolvers.iter().map(|r| r.sdl.clone()));
        mutation.extend(m.write.resolvers.iter().map(|r| r.sdl.clone()));
    }
    types.insert("OrderDirection".into(), enum_def("Sort direction.", &["ASC".into(), "DESC".into()]));
    types.insert("NullsOrder".into(), enum_def("Where null values sort.", &["FIRST".into(), "LAST".into()]));
    types.insert("PageInfo".into(), block("type", Some(PAGE_INFO), page_info()));
    types.insert("Query".into(), block("type", Some("All queries."), query));
    types.insert("Mutation".into(), block("type", Some("All mutations."), mutation));
    hide(&mut types, visible);
    render(types)
}

/// Leaves out what `visible` hides, then what became unreachable or empty.
fn hide(types: &mut BTreeMap<String, Def>, visible: &dyn Visible) {
    for (name, def) in types.iter_mut() {
        match def {
            Def::Block { fields, .. } => {
                fields.retain(|f| visible.field(name, &f.name));
                for f in fields.iter_mut() {
                    let field = f.name.clone();
                    f.args.retain(|(arg, _)| visible.argument(name, &field, arg));
                }
            }
            Def::Enum { values, .. } => values.retain(|v| visible.value(name, v)),
        }
    }
    loop {
        // Types left without fields or values cannot be printed; neither can what uses them.
        let empty: Vec<String> = types
            .iter()
            .filter(|(name, def)| match def {
                Def::Block { fields, .. } => fields.is_empty() && name.as_str() != "Query",
                Def::Enum { values, .. } => values.is_empty(),
            })
            .map(|(name, _)| name.clone())
            .collect();
        if empty.is_empty() {
            break;
        }
        for name in &empty {
            types.remove(name);
        }
        for def in types.values_mut() {
            if let Def::Block { fields, .. } = def {
                fields.retain(|f| !empty.contains(&base_type(&f.ty)) && !f.args.iter().any(|(_, t)| empty.contains(&base_type(t))));
            }
        }
    }
    let mut reached: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut stack: Vec<String> = vec!["Query".into(), "Mutation".into()];
    while let Some(name) = stack.pop() {
        if !reached.insert(name.clone()) {
            continue;
        }
        if let Some(Def::Block { fields, .. }) = types.get(&name) {
            for f in fields {
                stack.push(base_type(&f.ty));
                stack.extend(f.args.iter().map(|(_, t)| base_type(t)));
            }
        }
    }
    types.retain(|name, _| reached.contains(name));
}

fn render(types: BTreeMap<String, Def>) -> String {
    let mut any_deprecated = false;
    let mut used_scalars: Vec<String> = Vec::new();
    // async-graphql keeps types in a BTreeMap: definitions come out sorted by name.
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for (name, def) in &types {
        let text = match def {
            Def::Block { keyword, desc, fields } => {
                any_deprecated |= fields.iter().any(|f| f.deprecation.is_some());
                for f in fields {
                    used_scalars.push(base_type(&f.ty));
                    used_scalars.extend(f.args.iter().map(|(_, t)| base_type(t)));
                }
                block_text(keyword, name, desc.as_deref(), fields)
            }
            Def::Enum { desc, values } => enum_block(name, desc, values),
        };
        texts.insert(name.clone(), text);
    }
    let mut any_specified = false;
    for (name, desc, specified) in SCALARS {
        if used_scalars.iter().any(|s| s == name) {
            any_specified |= specified;
            let mut text = desc.map(|d| description(0, d)).unwrap_or_default();
            let _ = write!(text, "scalar {name}\n\n");
            texts.insert((*name).to_string(), text);
        }
    }
    let mut sdl: String = texts.into_values().collect();
    let mut directives: Vec<&str> = ALWAYS.to_vec();
    if any_deprecated {
        directives.insert(0, DEPRECATED);
    }
    if any_specified {
        directives.push(SPECIFIED_BY);
    }
    for d in directives {
        let _ = writeln!(sdl, "{d}");
    }
    match types.contains_key("Mutation") {
        true => sdl.push_str("schema {\n\tquery: Query\n\tmutation: Mutation\n}\n"),
        false => sdl.push_str("schema {\n\tquery: Query\n}\n"),
    }
    sdl
}

fn enum_block(name: &str, desc: &str, values: &[String]) -> String {
    let mut text = description(0, desc);
    let _ = writeln!(text, "enum {name} {{");
    for v in values {
        let _ = writeln!(text, "\t{v}");
    }
    text.push_str("}\n\n");
    text
}

// The shared runtime types (`runtime/filter.rs`, `runtime/read.rs`), with their doc comments.
const COMPARABLE: &str = "Conditions on an ordered value: every operator given must hold.";
const EQUATABLE: &str = "Conditions on a value that has no order: every operator given must hold.";
const STRING_FILTER: &str = "Conditions on a text value: every operator given must hold. Matching is case-sensitive\nexcept for `icontains` and `iexact` (which fold ASCII letters only); `%` and `_` in a value\nare plain characters.";
const JSON_FILTER: &str = "Conditions on a JSON value: every operator given must hold.";
const PAGE_INFO: &str = "Where a connection's rows are: paging, and the cursors of the first and last edge.";

fn sdl_field(name: &str, ty: &str, desc: &str) -> SdlField {
    SdlField { name: name.into(), args: Vec::new(), ty: ty.into(), description: Some(desc.into()), deprecation: None }
}

fn equality_ops(ty: &str) -> Vec<SdlField> {
    vec![sdl_field("eq", ty, "Equal to."), sdl_field("ne", ty, "Not equal to; null values count as not equal.")]
}

fn membership_ops(ty: &str) -> Vec<SdlField> {
    vec![
        sdl_field("in", &format!("[{ty}!]"), "Equal to one of the values."),
        sdl_field("notIn", &format!("[{ty}!]"), "Equal to none of the values; null values count as not equal."),
        sdl_field("isNull", "Boolean", "True: the value is null; false: it is not."),
    ]
}

fn equatable(ty: &str) -> Vec<SdlField> {
    let mut fields = equality_ops(ty);
    fields.extend(membership_ops(ty));
    fields
}

fn comparable(ty: &str, words: [&str; 4]) -> Vec<SdlField> {
    let mut fields = equality_ops(ty);
    for (op, desc) in ["lt", "lte", "gt", "gte"].into_iter().zip(words) {
        fields.push(sdl_field(op, ty, desc));
    }
    fields.extend(membership_ops(ty));
    fields
}

const NUMBER_WORDS: [&str; 4] = ["Less than.", "Less than or equal to.", "Greater than.", "Greater than or equal to."];

/// The fields of a shared filter input by its GraphQL name.
fn shared_filter(name: &str) -> Option<Vec<SdlField>> {
    Some(match name {
        "IntFilter" => comparable("Int", NUMBER_WORDS),
        "FloatFilter" => comparable("Float", NUMBER_WORDS),
        "DecimalFilter" => comparable("Decimal", NUMBER_WORDS),
        "DateTimeFilter" => comparable("DateTime", NUMBER_WORDS),
        "DateFilter" => comparable("Date", NUMBER_WORDS),
        "TimeFilter" => comparable("Time", NUMBER_WORDS),
        "BigIntFilter" => comparable("BigInt", NUMBER_WORDS),
        "IDFilter" => equatable("ID"),
        "BooleanFilter" => equatable("Boolean"),
        "UUIDFilter" => equatable("UUID"),
        "StringFilter" => {
            let mut fields =
                comparable("String", ["Sorts before.", "Sorts before or equal to.", "Sorts after.", "Sorts after or equal to."]);
            fields.extend([
                sdl_field("contains", "String", "Contains the text."),
                sdl_field("icontains", "String", "Contains the text, ignoring case."),
                sdl_field("startsWith", "String", "Starts with the text."),
                sdl_field("endsWith", "String", "Ends with the text."),
                sdl_field("iexact", "String", "Equal to the text, ignoring case."),
            ]);
            fields
        }
        "JSONFilter" => vec![
            sdl_field("hasKey", "String", "The value is an object with this key."),
            sdl_field("isNull", "Boolean", "True: the value is null; false: it is not."),
        ],
        _ => return None,
    })
}

fn shared_description(name: &str) -> &'static str {
    match name {
        "StringFilter" => STRING_FILTER,
        "JSONFilter" => JSON_FILTER,
        "IDFilter" | "BooleanFilter" | "UUIDFilter" => EQUATABLE,
        _ => COMPARABLE,
    }
}

fn page_info() -> Vec<SdlField> {
    vec![
        sdl_field("hasNextPage", "Boolean!", "More rows follow this page."),
        sdl_field("hasPreviousPage", "Boolean!", "Rows precede this page."),
        sdl_field("startCursor", "String", "Cursor of the first edge."),
        sdl_field("endCursor", "String", "Cursor of the last edge."),
    ]
}

fn base_type(ty: &str) -> String {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!').to_string()
}

fn description(level: usize, text: &str) -> String {
    let tabs = "\t".repeat(level);
    let body = text.replace('\n', &format!("\n{tabs}"));
    format!("{tabs}\"\"\"\n{tabs}{body}\n{tabs}\"\"\"\n")
}

fn block_text(keyword: &str, name: &str, desc: Option<&str>, fields: &[SdlField]) -> String {
    let mut text = desc.map(|d| description(0, d)).unwrap_or_default();
    let _ = writeln!(text, "{keyword} {name} {{");
    for f in fields {
        if let Some(d) = &f.description {
            text.push_str(&description(1, d));
        }
        let args = if f.args.is_empty() {
            String::new()
        } else {
            format!("({})", f.args.iter().map(|(n, t)| format!("{n}: {t}")).collect::<Vec<_>>().join(", "))
        };
        let _ = write!(text, "\t{}{args}: {}", f.name, f.ty);
        if let Some(reason) = &f.deprecation {
            let _ = write!(text, " @deprecated(reason: \"{}\")", reason.replace('\\', "\\\\").replace('"', "\\\""));
        }
        text.push('\n');
    }
    text.push_str("}\n\n");
    text
}

#[cfg(test)]
mod tests {
    use super::super::crate_view::crate_view;
    use super::*;
    use async_graphql_parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
    use std::collections::BTreeSet;

    /// Shows everything but what `hidden` names (`Type.field`, or `Type.*` for all its fields).
    struct Hiding(&'static [&'static str]);

    impl Visible for Hiding {
        fn field(&self, ty: &str, field: &str) -> bool {
            !self.0.iter().any(|h| *h == format!("{ty}.{field}") || *h == format!("{ty}.*"))
        }
        fn argument(&self, ty: &str, field: &str, arg: &str) -> bool {
            !self.0.contains(&format!("{ty}.{field}({arg})").as_str())
        }
        fn value(&self, _: &str, _: &str) -> bool {
            true
        }
    }

    fn base(t: &Type) -> String {
        match &t.base {
            BaseType::Named(n) => n.to_string(),
            BaseType::List(inner) => base(inner),
        }
    }

    /// Every type `sdl` defines, with its field names, and every type name its fields and
    /// arguments use.
    fn read(sdl: &str) -> (BTreeMap<String, Vec<String>>, BTreeSet<String>) {
        let doc = async_graphql_parser::parse_schema(sdl).unwrap_or_else(|e| panic!("{e}\n{sdl}"));
        let (mut defined, mut used) = (BTreeMap::new(), BTreeSet::new());
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else { continue };
            let mut fields = Vec::new();
            match &t.node.kind {
                TypeKind::Object(o) => {
                    for f in &o.fields {
                        fields.push(f.node.name.node.to_string());
                        used.insert(base(&f.node.ty.node));
                        used.extend(f.node.arguments.iter().map(|a| base(&a.node.ty.node)));
                    }
                }
                TypeKind::InputObject(i) => {
                    for f in &i.fields {
                        fields.push(f.node.name.node.to_string());
                        used.insert(base(&f.node.ty.node));
                    }
                }
                _ => {}
            }
            defined.insert(t.node.name.node.to_string(), fields);
        }
        (defined, used)
    }

    fn closed(defined: &BTreeMap<String, Vec<String>>, used: &BTreeSet<String>) {
        let builtin = ["String", "Int", "Float", "Boolean", "ID"];
        for name in used {
            assert!(builtin.contains(&name.as_str()) || defined.contains_key(name), "`{name}` is used but not defined");
        }
    }

    #[test]
    fn the_whole_schema_parses_and_defines_every_type_it_uses() {
        let ir = super::super::common::blog();
        let (defined, used) = read(&print_visible(&crate_view(&ir), &Hiding(&[])));
        closed(&defined, &used);
        for field in ["post", "posts", "postsConnection", "postsAggregate", "author", "tags"] {
            assert!(defined["Query"].contains(&field.to_string()), "{field} in {:?}", defined["Query"]);
        }
        assert!(defined["Mutation"].contains(&"createPost".to_string()));
        for ty in ["Post", "PostWhere", "CreatePostInput", "UpdatePostInput", "PostStatus", "DateTime", "Decimal", "PageInfo"] {
            assert!(defined.contains_key(ty), "{ty}");
        }
        assert!(!defined.contains_key("UUID"), "scalars nothing uses are left out");
    }

    #[test]
    fn hiding_fields_drops_the_types_only_they_reached() {
        let ir = super::super::common::blog();
        let (defined, used) = read(&print_visible(&crate_view(&ir), &Hiding(&["Mutation.*"])));
        closed(&defined, &used);
        assert!(!defined.contains_key("Mutation"), "a Mutation type without fields is not printed");
        for ty in ["CreatePostInput", "UpdatePostInput"] {
            assert!(!defined.contains_key(ty), "{ty} is reached only through mutations");
        }
        assert!(defined.contains_key("PostWhere"), "queries still filter");

        let (defined, used) = read(&print_visible(&crate_view(&ir), &Hiding(&["Tag.*"])));
        closed(&defined, &used);
        assert!(!defined.contains_key("Tag"), "a type whose fields are all hidden goes");
        assert!(!defined["Post"].contains(&"tags".to_string()), "and so do the fields of its type: {:?}", defined["Post"]);
        assert!(defined["Post"].contains(&"title".to_string()));
    }
}
