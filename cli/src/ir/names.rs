//! Case conversion, pluralization and reserved words: the naming rules of the generated API.

/// Rust keywords (strict and reserved, 2021 edition) that cannot name a struct field or module.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else", "enum", "extern",
    "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "union", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield",
];

/// Type names the generated crate defines or imports itself; a model may not take them.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "Ctx",
    "Conn",
    "Limits",
    "Identity",
    "AppState",
    "Config",
    "RowQuery",
    "TextFormat",
    "ErrorCode",
    "Value",
    "Router",
    "Query",
    "Mutation",
    "Subscription",
    "Int",
    "Float",
    "String",
    "Boolean",
    "ID",
    "Decimal",
    "UUID",
    "JSON",
    "DateTime",
    "NaiveDate",
    "NaiveTime",
    "Self",
    "Option",
    "Result",
    "Vec",
    "Box",
    "Json",
    "Context",
    "Error",
    "Schema",
    "Object",
    "Enum",
    "InputObject",
    "MaybeUndefined",
    "ApiError",
    "Db",
    "RequestContext",
    // The read engine's types, imported by every model module or printed in the schema.
    "Conds",
    "Where",
    "ListFilter",
    "NullsOrder",
    "OrderBy",
    "OrderDirection",
    "Picker",
    "SortAs",
    "AggregateRow",
    "Page",
    "PageArgs",
    "PageInfo",
    "Key",
    "Link",
    "Select",
    "Row",
    "Bind",
    "Change",
    "Create",
    "Update",
    "PlanCreate",
    "PlanUpdate",
    "ToMany",
    "ToManyInput",
    "Problems",
    "IntUpdate",
    "BigIntUpdate",
    "FloatUpdate",
    "DecimalUpdate",
    "BigIntFilter",
    "BigInt",
    "Date",
    "Time",
    "Email",
    "URL",
    "Url",
    "Slug",
    "DefaultSort",
    "Measure",
    "Comparable",
    "Equatable",
    "IntFilter",
    "FloatFilter",
    "DecimalFilter",
    "DateTimeFilter",
    "DateFilter",
    "TimeFilter",
    "IDFilter",
    "BooleanFilter",
    "UUIDFilter",
    "StringFilter",
    "JSONFilter",
    "JsonFilter",
];

/// Crates the generated code names by path; a table module of the same name would shadow them.
const CRATE_NAMES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "diesel",
    "diesel_migrations",
    "async_graphql",
    "async_graphql_axum",
    "axum",
    "tokio",
    "chrono",
    "uuid",
    "rust_decimal",
    "serde_json",
    "clap",
    "ureq",
    "tempfile",
];

/// Names diesel's `table!` defines inside every table module, which a column may not take.
const DIESEL_TABLE_ITEMS: &[&str] = &["table", "star", "all_columns", "columns", "dsl", "BoxedQuery", "SqlType"];

/// Why a table name cannot be used, if it cannot: it becomes a Rust module.
/// The types the generated crate defines for a model `{}`, besides the model's own.
pub const MODEL_TYPES: [&str; 22] = [
    "Create{}Input",
    "Update{}Input",
    "{}Query",
    "{}Mutation",
    "{}ToMany",
    "Update{}ById",
    "{}BulkResult",
    "{}OnConflict",
    "{}Field",
    "{}Where",
    "{}OrderBy",
    "{}ListFilter",
    "{}Connection",
    "{}Edge",
    "{}Aggregate",
    "{}AggregateNumbers",
    "{}AggregateBounds",
    "{}AggregateFilter",
    "{}Group",
    "{}GroupKey",
    "{}GroupField",
    "{}Having",
];

/// Every type name the generated crate defines for the model `model`: its own and [`MODEL_TYPES`].
pub fn model_types(model: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(model.to_string()).chain(MODEL_TYPES.iter().map(move |p| p.replace("{}", model)))
}

pub fn reserved_table_name(name: &str) -> Option<String> {
    if is_rust_keyword(name) {
        Some(format!("table `{name}` would be a Rust module named by a keyword"))
    } else if CRATE_NAMES.contains(&name) {
        Some(format!("table `{name}` would shadow the `{name}` crate in the generated code"))
    } else {
        None
    }
}

/// Why a column name cannot be used, if it cannot: it becomes an item of diesel's table module.
pub fn reserved_column_name(name: &str) -> Option<String> {
    if is_rust_keyword(name) {
        Some(format!("column `{name}` would be a Rust item named by a keyword"))
    } else if DIESEL_TABLE_ITEMS.contains(&name) {
        Some(format!("column `{name}` clashes with `{name}`, which diesel defines in every table module"))
    } else {
        None
    }
}

/// The Rust name of a column in diesel's `table!`: the column itself, or, when the column is a
/// keyword or one of diesel's own items, the column with `_` appended and the real name given by
/// `#[sql_name]`.
pub fn column_ident(column: &str) -> String {
    if reserved_column_name(column).is_some() {
        format!("{column}_")
    } else {
        column.to_string()
    }
}

/// A model's root fields of `Query` and `Mutation` with the operation each needs: `read`,
/// `create`, `update`, `delete` or `upsert`.
pub fn root_fields(m: &super::model::Model) -> Vec<(String, &'static str, &'static str)> {
    root_field_names(&m.snake, &m.plural_snake).into_iter().map(|(name, kind, op, _)| (name, kind, op)).collect()
}

/// The root fields of the model whose name in snake case is `snake` (`plural` its plural): each
/// field's name, its kind, the operation it needs and whether it is named by the singular.
pub fn root_field_names(snake: &str, plural: &str) -> Vec<(String, &'static str, &'static str, bool)> {
    vec![
        (to_camel(snake), "One", "read", true),
        (to_camel(plural), "List", "read", false),
        (to_camel(&format!("{plural}_connection")), "Connection", "read", false),
        (to_camel(&format!("{plural}_aggregate")), "Aggregate", "read", false),
        (to_camel(&format!("{plural}_group_by")), "GroupBy", "read", false),
        (to_camel(&format!("create_{snake}")), "Create", "create", true),
        (to_camel(&format!("create_{plural}")), "CreateMany", "create", false),
        (to_camel(&format!("update_{snake}")), "Update", "update", true),
        (to_camel(&format!("update_{plural}")), "UpdateMany", "update", false),
        (to_camel(&format!("delete_{snake}")), "Delete", "delete", true),
        (to_camel(&format!("delete_{plural}")), "DeleteMany", "delete", false),
        (to_camel(&format!("upsert_{snake}")), "Upsert", "upsert", true),
    ]
}

/// Whether `name` can name a claim or a role (as in `auth`, `roles`, `preset` and `{claim: ...}`).
pub fn claim_name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'))
}

/// Field names the generated structs use for their own purposes.
const RESERVED_FIELD_NAMES: &[&str] = &["id_value", "ctx"];

pub fn is_rust_keyword(name: &str) -> bool {
    RUST_KEYWORDS.contains(&name)
}

/// Why a model name cannot be used, if it cannot.
pub fn reserved_type_name(name: &str) -> Option<String> {
    RESERVED_TYPE_NAMES.contains(&name).then(|| format!("`{name}` is a name the generated GraphQL schema or Rust code already uses"))
}

/// Why a field name cannot be used, if it cannot.
pub fn reserved_field_name(name: &str) -> Option<String> {
    if name.starts_with("__") {
        Some(format!("`{name}` starts with `__`, which GraphQL reserves for introspection"))
    } else if is_rust_keyword(name) {
        Some(format!("`{name}` is a Rust keyword"))
    } else if RESERVED_FIELD_NAMES.contains(&name) {
        Some(format!("`{name}` is used by the generated code"))
    } else {
        None
    }
}

/// `PascalCase` identifier, as models must be named.
pub fn is_pascal_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('A'..='Z')) && chars.all(|c| c.is_ascii_alphanumeric())
}

/// A field name: ASCII letters, digits and underscores, not starting with a digit.
pub fn is_field_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | 'A'..='Z' | '_')) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A lowercase SQL identifier: table and column names.
pub fn is_sql_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_')) && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `BlogPost` → `blog_post`, `userId` → `user_id`, `HTTPServer` → `http_server`.
pub fn to_snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `blog_post` → `blogPost`.
pub fn to_camel(snake: &str) -> String {
    let pascal = to_pascal(snake);
    let mut chars = pascal.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `blog_post` → `BlogPost`.
pub fn to_pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// `draft` → `DRAFT`, `on_hold` → `ON_HOLD`: GraphQL enum value names.
pub fn to_screaming(snake: &str) -> String {
    snake.to_ascii_uppercase()
}

/// English plural of a snake_case word sequence, enough for table and list names.
pub fn pluralize(snake: &str) -> String {
    let (head, last) = match snake.rfind('_') {
        Some(i) => (&snake[..=i], &snake[i + 1..]),
        None => ("", snake),
    };
    let plural = if last.ends_with('y') && !last.ends_with("ay") && !last.ends_with("ey") && !last.ends_with("oy") && !last.ends_with("uy")
    {
        format!("{}ies", &last[..last.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|s| last.ends_with(s)) {
        format!("{last}es")
    } else {
        format!("{last}s")
    };
    format!("{head}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversion_table() {
        for (input, snake, camel) in [
            ("BlogPost", "blog_post", "blogPost"),
            ("userId", "user_id", "userId"),
            ("user_id", "user_id", "userId"),
            ("HTTPServer", "http_server", "httpServer"),
            ("OrderLine2", "order_line2", "orderLine2"),
            ("already_snake_case", "already_snake_case", "alreadySnakeCase"),
        ] {
            assert_eq!(to_snake(input), snake, "{input}");
            assert_eq!(to_camel(&to_snake(input)), camel, "{input}");
        }
    }

    #[test]
    fn plurals() {
        for (s, p) in [
            ("post", "posts"),
            ("category", "categories"),
            ("order_line", "order_lines"),
            ("address", "addresses"),
            ("day", "days"),
            ("box", "boxes"),
        ] {
            assert_eq!(pluralize(s), p);
        }
    }

    #[test]
    fn reserved_names() {
        assert!(reserved_field_name("type").is_some());
        assert!(reserved_field_name("__x").is_some());
        assert!(reserved_field_name("title").is_none());
        assert!(reserved_type_name("Query").is_some());
        assert!(is_pascal_ident("BlogPost") && !is_pascal_ident("blogPost") && !is_pascal_ident("Blog_Post"));
    }
}
