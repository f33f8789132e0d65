//! Builds the crate's view-model ([`CrateView`]) from the IR: per model, its columns, resolvers,
//! read and write views and static table; per crate, the roots and the shared lists.

use crate::ir::names::{self, to_camel, to_pascal, to_screaming};
use crate::ir::{Field, FieldKind, Ir, Model, PkKind, ReverseKind, ScalarKind};

use super::common::*;
use super::read_view::{key_of, read_view, ReadView};
use super::view::*;
use super::write_view::write_view;

/// Builds the view of the whole crate.
pub fn crate_view(ir: &Ir) -> CrateView {
    let models: Vec<ModelView> = ir.models.iter().map(|m| model_view(ir, m)).collect();
    let join_tables = ir
        .join_tables
        .iter()
        .map(|j| JoinTableView {
            table: j.table.clone(),
            source_column: j.source_column.clone(),
            source_ident: names::column_ident(&j.source_column),
            source_sql_name: sql_name(&j.source_column),
            source_diesel: model(ir, &j.source_model).pk_field().types.diesel.clone(),
            target_column: j.target_column.clone(),
            target_ident: names::column_ident(&j.target_column),
            target_sql_name: sql_name(&j.target_column),
            target_diesel: model(ir, &j.target_model).pk_field().types.diesel.clone(),
        })
        .collect();
    let mut column_fields = Vec::new();
    for m in &ir.models {
        for f in &m.fields {
            column_fields.push((m.table.clone(), f.column.clone(), input_name(f)));
        }
    }
    let all_enums = models
        .iter()
        .flat_map(|m| m.enums.iter().map(|e| EnumRef { name: e.name.clone(), path: format!("crate::graphql::{}::{}", m.snake, e.name) }))
        .collect();
    let description = ir.description.clone().unwrap_or_else(|| format!("The `{}` GraphQL API.", ir.crate_name));
    let roots = roots(&models);
    CrateView {
        name: ir.crate_name.clone(),
        lib_name: ir.crate_name.replace('-', "_"),
        description_toml: toml_string(&description),
        description_inner_doc: description.lines().map(|l| format!("//! {l}\n")).collect(),
        description_rust: format!("{description:?}"),
        description,
        api: ir.api,
        auth: ir.auth.clone(),
        storage: ir.storage,
        models,
        join_tables,
        roots,
        column_fields,
        check_failures: super::sql::check_failures(ir),
        all_enums,
    }
}

fn roots(models: &[ModelView]) -> Vec<RootView> {
    let root = |name: &'static str, description: &'static str, part: &str, resolvers: fn(&ModelView) -> &[Resolver]| RootView {
        name,
        doc: doc(Some(description)),
        description,
        parts: models
            .iter()
            .map(|m| RootPart {
                path: format!("{}::{}{part}", m.snake, m.name),
                fields: resolvers(m).iter().map(|r| format!("{:?}", r.sdl.name)).collect::<Vec<_>>().join(" | "),
            })
            .collect(),
    };
    vec![
        root("Query", "All queries.", "Query", |m| &m.query_resolvers),
        root("Mutation", "All mutations.", "Mutation", |m| &m.write.resolvers),
    ]
}

/// A TOML basic string: one line, with quotes, backslashes and control characters escaped.
fn toml_string(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("\"{}\"", one_line.replace('\\', "\\\\").replace('"', "\\\""))
}

fn model_view(ir: &Ir, m: &Model) -> ModelView {
    let pk = m.pk_field();
    let pk_kind = match pk.kind {
        FieldKind::PrimaryKey(k) => k,
        _ => PkKind::Auto,
    };
    let mut enums = Vec::new();
    let mut resolvers = Vec::new();
    for f in &m.fields {
        if let FieldKind::Scalar(ScalarKind::Enum { type_name, values }) = &f.kind {
            let description = format!("Values of `{}.{}`.", m.name, f.graphql_name);
            enums.push(EnumView {
                name: type_name.clone(),
                doc: doc(Some(&description)),
                description,
                variants: values.iter().map(|v| variant(to_pascal(v), v, &to_screaming(v))).collect(),
                graphql_values: values.iter().map(|v| to_screaming(v)).collect(),
            });
        }
        resolvers.extend(field_resolvers(ir, f));
    }
    let key = key_of(&format!("self.{}", pk.name), pk);
    if let Some(link) = &m.parent {
        let t = model(ir, &link.target);
        let description = format!("The `{}` row this one extends; they share the key.", t.name);
        resolvers.push(to_one_resolver(t, &link.name, Some(description), None, &key, false));
    }
    for rel in &m.many_to_many {
        let target = model(ir, &rel.target);
        let link =
            format!("Link::Join {{ table: \"{}\", parent: \"{}\", child: \"{}\" }}", rel.join_table, rel.source_column, rel.target_column);
        resolvers.extend(relation_lists(rel.description.clone(), &rel.name, target, &link, &key));
    }
    for r in &m.reverse {
        let source = model(ir, &r.source_model);
        match &r.kind {
            ReverseKind::OneToOne { column } => resolvers.push(ResolverSpec::new(&r.name, format!("Result<Option<crate::models::{}::{}>>", source.snake, source.name), source.name.clone()).body(format!(
                    "let cx = Ctx::of(ctx)?;\nlet select = || Select::new::<crate::models::{s}::{n}, crate::graphql::{s}::{n}Where, crate::graphql::{s}::{n}OrderBy>(None, None, None);\nOk(read::related_one(&cx, read::field_id(ctx), select, Link::Column(\"{column}\"), {key}).await?)",
                    s = source.snake,
                    n = source.name
                )).doc(format!("The `{}` that points to this one, if any.", source.name)).params(", ctx: &Context<'_>").build()),
            ReverseKind::ForeignKey { column } => resolvers.extend(relation_lists(
                Some(format!("`{}` rows that point to this one.", source.name)),
                &r.name,
                source,
                &format!("Link::Column(\"{column}\")"),
                &key,
            )),
            ReverseKind::ManyToMany { join_table, here_column, there_column } => resolvers.extend(relation_lists(
                Some(format!("`{}` rows linked to this one.", source.name)),
                &r.name,
                source,
                &format!("Link::Join {{ table: \"{join_table}\", parent: \"{here_column}\", child: \"{there_column}\" }}"),
                &key,
            )),
        }
    }
    let read = read_view(ir, m);
    let pk_parse = match pk_kind {
        PkKind::Auto => "convert::id_i32(\"id\", &id)?",
        PkKind::BigAuto => "convert::id_i64(\"id\", &id)?",
        PkKind::Uuid => "convert::id_uuid(\"id\", &id)?",
        PkKind::Text { .. } => "convert::id_text(&id)",
    };
    let id_arg = vec![("id".to_string(), "ID!".to_string())];
    let cx = "let cx = Ctx::of(ctx)?;\n";
    let query_resolvers = vec![
        ResolverSpec::new(&m.snake, format!("Result<Option<{}>>", m.name), m.name.clone())
            .body(format!("{cx}Ok(store::find(&cx, {pk_parse}).await?)"))
            .doc(format!("One `{}` by id, or null if there is none.", m.name))
            .params(", ctx: &Context<'_>, id: ID")
            .args(id_arg.clone())
            .build(),
        list_field(
            &m.plural_snake,
            Some(format!("A page of `{}` rows; ordered by `orderBy`, else by search rank, else by the default ordering.", m.name)),
            m,
            !m.search.is_empty(),
            &format!(
                "{cx}let select = {}?;\nOk(read::list(&cx, select, limit, offset).await?)",
                select_expr(m, !m.search.is_empty(), "store")
            ),
        ),
        connection_field(
            &format!("{}_connection", m.plural_snake),
            Some(format!("A page of `{}` rows with cursors.", m.name)),
            m,
            !m.search.is_empty(),
            &format!(
                "{cx}let select = {}?;\nOk({}Connection(read::connection(&cx, select, PageArgs {{ first, after, last, before }}).await?))",
                select_expr(m, !m.search.is_empty(), "store"),
                m.name
            ),
        ),
        aggregate_field(m),
    ];
    let mut query_resolvers = query_resolvers;
    query_resolvers.extend(group_by_field(m, &read));
    let write = write_view(ir, m);
    let api_names = |rs: &[Resolver]| rs.iter().map(|r| format!("`{}`", r.sdl.name)).collect::<Vec<_>>().join(", ");
    let api_queries = api_names(&query_resolvers);
    let api_mutations = api_names(&write.resolvers);
    let mut view = ModelView {
        name: m.name.clone(),
        snake: m.snake.clone(),
        table: m.table.clone(),
        doc: doc(m.description.as_deref()),
        description: m.description.clone(),
        pk_column: pk.column.clone(),
        pk_ident: names::column_ident(&pk.column),
        pk_rust: pk.types.rust.clone(),
        renamed_columns: m.fields.iter().any(|f| names::column_ident(&f.column) != f.column),
        columns: m
            .fields
            .iter()
            .map(|f| ColumnView {
                name: rust_field(f),
                column: f.column.clone(),
                ident: names::column_ident(&f.column),
                sql_name: sql_name(&f.column),
                column_attr: column_attr(f),
                diesel: if f.nullable { format!("Nullable<{}>", f.types.diesel) } else { f.types.diesel.clone() },
                rust: nullable(&f.types.rust, f.nullable),
                doc: doc(f.description.as_deref()),
            })
            .collect(),
        resolvers,
        query_resolvers,
        write,
        enums,
        read,
        api_queries,
        api_mutations,
        table_decl: String::new(),
    };
    view.table_decl = super::model_table::model_table(ir, m, &view);
    view
}

/// `#[diesel(column_name = ...)]` when the Rust field and the column are named differently.
fn column_attr(f: &Field) -> String {
    let ident = names::column_ident(&f.column);
    if rust_field(f) == ident {
        String::new()
    } else {
        format!("#[diesel(column_name = {ident})]\n")
    }
}

/// `#[sql_name = "..."]` in `table!` for a column whose Rust name differs from it.
fn sql_name(column: &str) -> String {
    if names::column_ident(column) == column {
        String::new()
    } else {
        format!("#[sql_name = \"{column}\"]\n")
    }
}

/// The arguments of a list of `target` rows: Rust parameters and SDL arguments.
fn list_args(target: &Model, search: bool, paging: &[(&str, &str, &str)]) -> (String, Vec<(String, String)>) {
    let path = |suffix: &str| format!("crate::graphql::{}::{}{suffix}", target.snake, target.name);
    let mut params = format!(", ctx: &Context<'_>, #[graphql(name = \"where\")] filter: Option<{}>", path("Where"));
    let mut args = vec![("where".to_string(), format!("{}Where", target.name))];
    if search {
        params.push_str(", search: Option<String>");
        args.push(("search".into(), "String".into()));
    }
    params.push_str(&format!(", order_by: Option<Vec<{}>>", path("OrderBy")));
    args.push(("orderBy".into(), format!("[{}OrderBy!]", target.name)));
    for (name, rust, gql) in paging {
        params.push_str(&format!(", {name}: {rust}"));
        args.push((to_camel(name), (*gql).to_string()));
    }
    (params, args)
}

const OFFSET_PAGING: &[(&str, &str, &str)] = &[("limit", "Option<i32>", "Int"), ("offset", "Option<i32>", "Int")];

const CURSOR_PAGING: &[(&str, &str, &str)] = &[
    ("first", "Option<i32>", "Int"),
    ("after", "Option<String>", "String"),
    ("last", "Option<i32>", "Int"),
    ("before", "Option<String>", "String"),
];

/// `Select::new::<Row, _, _>(filter, order_by, search)` for `target` (a `Result`); `module` is how
/// this file names its data module.
fn select_expr(target: &Model, search: bool, module: &str) -> String {
    let search = if search { "search.as_deref()" } else { "None" };
    format!("Select::new::<{module}::{}, _, _>(filter.as_ref(), order_by.as_deref(), {search})", target.name)
}

/// A list field with `where`, `orderBy`, `limit`, `offset`.
fn list_field(name: &str, description: Option<String>, target: &Model, search: bool, body: &str) -> Resolver {
    let (params, args) = list_args(target, search, OFFSET_PAGING);
    ResolverSpec::new(name, format!("Result<Vec<crate::models::{}::{}>>", target.snake, target.name), format!("[{}!]!", target.name))
        .body(body.to_string())
        .description(description)
        .list()
        .params(params)
        .args(args)
        .build()
}

/// A connection field with `where`, `orderBy`, `first`, `after`, `last`, `before`.
fn connection_field(name: &str, description: Option<String>, target: &Model, search: bool, body: &str) -> Resolver {
    let (params, args) = list_args(target, search, CURSOR_PAGING);
    let mut r = ResolverSpec::new(
        name,
        format!("Result<crate::graphql::{}::{}Connection>", target.snake, target.name),
        format!("{}Connection!", target.name),
    )
    .body(body.to_string())
    .description(description)
    .params(params)
    .args(args)
    .build();
    r.attr = graphql_attr(name, None, Some("first.or(last)"));
    r
}

/// A relation's list field and its connection variant; `link` says how the rows point here.
fn relation_lists(description: Option<String>, name: &str, target: &Model, link: &str, key: &str) -> Vec<Resolver> {
    let module = format!("crate::models::{}", target.snake);
    // Built lazily: sibling rows share the first one's query.
    let select = select_expr(target, false, &module);
    let connection_description = Some(format!("The same rows as `{}`, as a page with cursors.", to_camel(name)));
    vec![
        list_field(name, description, target, false, &format!("let cx = Ctx::of(ctx)?;\nlet select = || {select};\nOk(read::related(&cx, read::field_id(ctx), select, {link}, {key}, limit, offset).await?)")),
        connection_field(
            &format!("{name}_connection"),
            connection_description,
            target,
            false,
            &format!(
                "let cx = Ctx::of(ctx)?;\nlet select = || {select};\nlet args = PageArgs {{ first, after, last, before }};\nOk(crate::graphql::{}::{}Connection(read::related_connection(&cx, read::field_id(ctx), select, {link}, {key}, args).await?))",
                target.snake, target.name
            ),
        ),
    ]
}

/// `<models>Aggregate(where, search)`.
fn aggregate_field(m: &Model) -> Resolver {
    let search = !m.search.is_empty();
    let mut params = format!(", ctx: &Context<'_>, #[graphql(name = \"where\")] filter: Option<{}Where>", m.name);
    let mut args = vec![("where".to_string(), format!("{}Where", m.name))];
    if search {
        params.push_str(", search: Option<String>");
        args.push(("search".into(), "String".into()));
    }
    let search_arg = if search { "search.as_deref()" } else { "None" };
    ResolverSpec::new(&format!("{}_aggregate", m.plural_snake), format!("Result<{}Aggregate>", m.name), format!("{}Aggregate!", m.name)).body(format!(
            "let cx = Ctx::of(ctx)?;\nlet select = Select::new::<{n}, _, {n}OrderBy>(filter.as_ref(), None, {search_arg})?;\nlet measures = read::aggregate_columns(store::MEASURES, read::selected(&ctx.look_ahead()));\nOk({n}Aggregate(read::aggregate(&cx, select, measures).await?))",
            n = m.name
        )).doc(format!("Count, sums, averages, minimums and maximums over the `{}` rows the filter matches.", m.name)).params(params).args(args).build()
}

/// `<models>GroupBy(by, where, having, limit, offset)`, when the model has groupable fields.
fn group_by_field(m: &Model, read: &ReadView) -> Option<Resolver> {
    read.group_enum.as_ref()?;
    let n = &m.name;
    Some(ResolverSpec::new(&format!("{}_group_by", m.plural_snake), format!("Result<Vec<{n}Group>>"), format!("[{n}Group!]!")).body(format!(
            "let cx = Ctx::of(ctx)?;\nlet select = Select::new::<{n}, _, {n}OrderBy>(filter.as_ref(), None, None)?;\nlet columns: Vec<&'static str> = by.iter().map(|f| f.column()).collect();\nlet having = having.as_ref().map(filter::having).transpose()?;\nlet measures = read::aggregate_columns(store::MEASURES, read::selected(&ctx.look_ahead().field(\"aggregate\")));\nlet groups = read::group_by(&cx, select, &columns, having, measures, limit, offset).await?;\nOk(groups.into_iter().map({n}Group).collect())"
        )).doc(format!("`{n}` rows grouped by the `by` fields, with aggregates per group; groups are ordered by their keys.")).list().params(format!(", ctx: &Context<'_>, by: Vec<{n}GroupField>, #[graphql(name = \"where\")] filter: Option<{n}Where>, having: Option<{n}Having>, limit: Option<i32>, offset: Option<i32>")).args(vec![
            ("by".into(), format!("[{n}GroupField!]!")),
            ("where".into(), format!("{n}Where")),
            ("having".into(), format!("{n}Having")),
            ("limit".into(), "Int".into()),
            ("offset".into(), "Int".into()),
        ]).build())
}

/// The resolver of the `target` row a key expression names: `null` when a nullable key is, and
/// `NOT_FOUND` when a required one names no row.
fn to_one_resolver(
    target: &Model,
    name: &str,
    description: Option<String>,
    deprecated: Option<String>,
    key: &str,
    nullable: bool,
) -> Resolver {
    let row = format!("crate::models::{}::{}", target.snake, target.name);
    let (ret, body) = if nullable {
        (
            format!("Result<Option<{row}>>"),
            format!("let Some(key) = {key} else {{ return Ok(None) }};\nlet cx = Ctx::of(ctx)?;\nOk(read::by_key(&cx, key).await?)"),
        )
    } else {
        (
            format!("Result<{row}>"),
            format!(
                "let cx = Ctx::of(ctx)?;\nOk(read::by_key(&cx, {key}).await?.ok_or_else(|| ApiError::not_found(\"{}\"))?)",
                target.name
            ),
        )
    };
    ResolverSpec::new(name, ret, gql(&target.name, nullable))
        .body(body)
        .description(description)
        .deprecation(deprecated)
        .params(", ctx: &Context<'_>")
        .build()
}

/// Resolvers for one column-backed field: the value, and for a relation also the related object.
fn field_resolvers(ir: &Ir, f: &Field) -> Vec<Resolver> {
    let this = format!("self.{}", rust_field(f));
    let n = f.nullable;
    match &f.kind {
        FieldKind::PrimaryKey(_) => {
            vec![ResolverSpec::new("id", "ID", "ID!").body(format!("ID::from(&{this})")).doc("The primary key.").build()]
        }
        FieldKind::ForeignKey { target, .. } => {
            let t = model(ir, target);
            let id_body = if n { format!("{this}.as_ref().map(ID::from)") } else { format!("ID::from(&{this})") };
            let id = ResolverSpec::new(&format!("{}_id", f.name), nullable("ID", n), gql("ID", n))
                .body(id_body)
                .doc(format!("Primary key of the related `{}`.", t.name))
                .deprecation(f.deprecated.clone())
                .build();
            let object = to_one_resolver(t, &f.name, f.description.clone(), f.deprecated.clone(), &key_of(&this, f), n);
            vec![object, id]
        }
        FieldKind::Scalar(s) => {
            let wrapped = api_scalar(s).map(|wrapper| {
                let owned = if f.types.copy { this.clone() } else { format!("{this}.clone()") };
                if n {
                    (format!("Option<{wrapper}>"), format!("{owned}.map({wrapper})"))
                } else {
                    (wrapper.to_string(), format!("{wrapper}({owned})"))
                }
            });
            let (ret, body) = if let Some(wrapped) = wrapped {
                wrapped
            } else {
                match s {
                    ScalarKind::Integer | ScalarKind::Float | ScalarKind::Boolean => (nullable(&f.types.rust, n), this),
                    ScalarKind::String { .. } | ScalarKind::Text => {
                        if n {
                            ("Option<&str>".into(), format!("{this}.as_deref()"))
                        } else {
                            ("&str".into(), format!("&{this}"))
                        }
                    }
                    ScalarKind::Decimal { decimal_places, .. } => {
                        if n {
                            (
                                "Result<Option<rust_decimal::Decimal>>".into(),
                                format!("Ok({this}.as_deref().map(|s| convert::decimal_out(s, {decimal_places})).transpose()?)"),
                            )
                        } else {
                            ("Result<rust_decimal::Decimal>".into(), format!("Ok(convert::decimal_out(&{this}, {decimal_places})?)"))
                        }
                    }
                    ScalarKind::Uuid => fallible(n, "uuid::Uuid", "convert::uuid_out", &this),
                    ScalarKind::Json => fallible(n, "async_graphql::Json<serde_json::Value>", "convert::json_out", &this),
                    ScalarKind::Enum { type_name, .. } => fallible(n, type_name, &format!("{type_name}::from_db"), &this),
                    // Wrapped in the API's own scalars above.
                    ScalarKind::Date | ScalarKind::Time | ScalarKind::DateTime | ScalarKind::BigInteger => {
                        (nullable(&f.types.rust, n), this)
                    }
                }
            };
            vec![ResolverSpec::new(&f.name, ret, gql(&f.types.graphql, n))
                .body(body)
                .description(f.description.clone())
                .deprecation(f.deprecated.clone())
                .build()]
        }
    }
}

/// A resolver whose stored text must be parsed: returns `Result<T>` (or `Result<Option<T>>`).
fn fallible(nullable: bool, ty: &str, func: &str, this: &str) -> (String, String) {
    if nullable {
        (format!("Result<Option<{ty}>>"), format!("Ok({this}.as_deref().map({func}).transpose()?)"))
    } else {
        (format!("Result<{ty}>"), format!("Ok({func}(&{this})?)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_view_puts_every_model_in_the_roots_and_names_every_column() {
        let ir = super::super::common::blog();
        let view = crate_view(&ir);
        assert_eq!(view.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["Author", "Post", "Tag"]);
        let query: Vec<&str> = view.roots.iter().find(|r| r.name == "Query").unwrap().parts.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(query, ["author::AuthorQuery", "post::PostQuery", "tag::TagQuery"]);
        assert!(view.column_fields.contains(&("posts".into(), "published_at".into(), "publishedAt".into())), "{:?}", view.column_fields);
        assert!(view.check_failures.iter().any(|(name, field, _)| name == "posts_views_check" && field == "views"));
        assert_eq!(view.join_tables.len(), 1);
        assert_eq!(view.join_tables[0].table, "posts_tags");
        let post = &view.models[1];
        assert_eq!(post.api_queries, "`post`, `posts`, `postsConnection`, `postsAggregate`, `postsGroupBy`");
        let resolvers: Vec<&str> = post.resolvers.iter().map(|r| r.name.as_str()).collect();
        for name in ["author", "tags", "tags_connection"] {
            assert!(resolvers.contains(&name), "{name} in {resolvers:?}");
        }
        assert!(post.table_decl.starts_with("pub static POST: Model = Model {"), "{}", post.table_decl);
        assert_eq!(view.all_enums.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["PostStatus"]);
    }

    #[test]
    fn toml_strings_escape_quotes_and_fold_lines() {
        assert_eq!(toml_string("A \"quoted\"\nback\\slash"), r#""A \"quoted\" back\\slash""#);
    }
}
