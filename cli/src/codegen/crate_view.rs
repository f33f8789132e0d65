//! Builds the crate's view-model ([`CrateView`]) from the IR: per model, its columns, resolvers,
//! read and write views and static table; per crate, the roots and the shared lists.

use crate::ir::names::{self, to_camel, to_screaming};
use crate::ir::{Field, FieldKind, Ir, Model, ReverseKind, ScalarKind};

use super::common::*;
use super::read_view::{read_view, ReadView};
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
    let description = ir.description.clone().unwrap_or_else(|| format!("The `{}` GraphQL API.", ir.crate_name));
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
        column_fields,
        check_failures: super::sql::check_failures(ir),
    }
}

/// A TOML basic string: one line, with quotes, backslashes and control characters escaped.
fn toml_string(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("\"{}\"", one_line.replace('\\', "\\\\").replace('"', "\\\""))
}

fn model_view(ir: &Ir, m: &Model) -> ModelView {
    let pk = m.pk_field();
    let mut enums = Vec::new();
    let mut resolvers = Vec::new();
    for f in &m.fields {
        if let FieldKind::Scalar(ScalarKind::Enum { type_name, values }) = &f.kind {
            let description = format!("Values of `{}.{}`.", m.name, f.graphql_name);
            enums.push(PlainEnum {
                name: type_name.clone(),
                description,
                graphql_values: values.iter().map(|v| to_screaming(v)).collect(),
            });
        }
        resolvers.extend(field_resolvers(ir, f));
    }
    if let Some(link) = &m.parent {
        let t = model(ir, &link.target);
        let description = format!("The `{}` row this one extends; they share the key.", t.name);
        resolvers.push(to_one_resolver(t, &link.name, Some(description), None, false));
    }
    for rel in &m.many_to_many {
        resolvers.extend(relation_lists(rel.description.clone(), &rel.name, model(ir, &rel.target)));
    }
    for r in &m.reverse {
        let source = model(ir, &r.source_model);
        match &r.kind {
            ReverseKind::OneToOne { .. } => resolvers.push(
                ResolverSpec::new(&r.name, source.name.clone())
                    .doc(format!("The `{}` that points to this one, if any.", source.name))
                    .build(),
            ),
            ReverseKind::ForeignKey { .. } => {
                resolvers.extend(relation_lists(Some(format!("`{}` rows that point to this one.", source.name)), &r.name, source))
            }
            ReverseKind::ManyToMany { .. } => {
                resolvers.extend(relation_lists(Some(format!("`{}` rows linked to this one.", source.name)), &r.name, source))
            }
        }
    }
    let read = read_view(ir, m);
    let id_arg = vec![("id".to_string(), "ID!".to_string())];
    let query_resolvers = vec![
        ResolverSpec::new(&m.snake, m.name.clone())
            .doc(format!("One `{}` by id, or null if there is none.", m.name))
            .args(id_arg.clone())
            .build(),
        list_field(
            &m.plural_snake,
            Some(format!("A page of `{}` rows; ordered by `orderBy`, else by search rank, else by the default ordering.", m.name)),
            m,
            !m.search.is_empty(),
        ),
        connection_field(
            &format!("{}_connection", m.plural_snake),
            Some(format!("A page of `{}` rows with cursors.", m.name)),
            m,
            !m.search.is_empty(),
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
        pk_ident: names::column_ident(&pk.column),
        columns: m
            .fields
            .iter()
            .map(|f| ColumnView {
                ident: names::column_ident(&f.column),
                sql_name: sql_name(&f.column),
                diesel: if f.nullable { format!("Nullable<{}>", f.types.diesel) } else { f.types.diesel.clone() },
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

/// `#[sql_name = "..."]` in `table!` for a column whose Rust name differs from it.
fn sql_name(column: &str) -> String {
    if names::column_ident(column) == column {
        String::new()
    } else {
        format!("#[sql_name = \"{column}\"]\n")
    }
}

/// The arguments of a list of `target` rows.
fn list_args(target: &Model, search: bool, paging: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut args = vec![("where".to_string(), format!("{}Where", target.name))];
    if search {
        args.push(("search".into(), "String".into()));
    }
    args.push(("orderBy".into(), format!("[{}OrderBy!]", target.name)));
    args.extend(paging.iter().map(|(name, gql)| (name.to_string(), gql.to_string())));
    args
}

const OFFSET_PAGING: &[(&str, &str)] = &[("limit", "Int"), ("offset", "Int")];

const CURSOR_PAGING: &[(&str, &str)] = &[("first", "Int"), ("after", "String"), ("last", "Int"), ("before", "String")];

/// A list field with `where`, `orderBy`, `limit`, `offset`.
fn list_field(name: &str, description: Option<String>, target: &Model, search: bool) -> Resolver {
    ResolverSpec::new(name, format!("[{}!]!", target.name)).description(description).args(list_args(target, search, OFFSET_PAGING)).build()
}

/// A connection field with `where`, `orderBy`, `first`, `after`, `last`, `before`.
fn connection_field(name: &str, description: Option<String>, target: &Model, search: bool) -> Resolver {
    ResolverSpec::new(name, format!("{}Connection!", target.name))
        .description(description)
        .args(list_args(target, search, CURSOR_PAGING))
        .build()
}

/// A relation's list field and its connection variant.
fn relation_lists(description: Option<String>, name: &str, target: &Model) -> Vec<Resolver> {
    let connection_description = Some(format!("The same rows as `{}`, as a page with cursors.", to_camel(name)));
    vec![
        list_field(name, description, target, false),
        connection_field(&format!("{name}_connection"), connection_description, target, false),
    ]
}

/// `<models>Aggregate(where, search)`.
fn aggregate_field(m: &Model) -> Resolver {
    let mut args = vec![("where".to_string(), format!("{}Where", m.name))];
    if !m.search.is_empty() {
        args.push(("search".into(), "String".into()));
    }
    ResolverSpec::new(&format!("{}_aggregate", m.plural_snake), format!("{}Aggregate!", m.name))
        .doc(format!("Count, sums, averages, minimums and maximums over the `{}` rows the filter matches.", m.name))
        .args(args)
        .build()
}

/// `<models>GroupBy(by, where, having, limit, offset)`, when the model has groupable fields.
fn group_by_field(m: &Model, read: &ReadView) -> Option<Resolver> {
    read.group_enum.as_ref()?;
    let n = &m.name;
    Some(
        ResolverSpec::new(&format!("{}_group_by", m.plural_snake), format!("[{n}Group!]!"))
            .doc(format!("`{n}` rows grouped by the `by` fields, with aggregates per group; groups are ordered by their keys."))
            .args(vec![
                ("by".into(), format!("[{n}GroupField!]!")),
                ("where".into(), format!("{n}Where")),
                ("having".into(), format!("{n}Having")),
                ("limit".into(), "Int".into()),
                ("offset".into(), "Int".into()),
            ])
            .build(),
    )
}

/// The field of the `target` row a key names: `null` when a nullable key is.
fn to_one_resolver(target: &Model, name: &str, description: Option<String>, deprecated: Option<String>, nullable: bool) -> Resolver {
    ResolverSpec::new(name, gql(&target.name, nullable)).description(description).deprecation(deprecated).build()
}

/// The fields of one column-backed field: the value, and for a relation also the related object.
fn field_resolvers(ir: &Ir, f: &Field) -> Vec<Resolver> {
    let n = f.nullable;
    match &f.kind {
        FieldKind::PrimaryKey(_) => vec![ResolverSpec::new("id", "ID!").doc("The primary key.").build()],
        FieldKind::ForeignKey { target, .. } => {
            let t = model(ir, target);
            let id = ResolverSpec::new(&format!("{}_id", f.name), gql("ID", n))
                .doc(format!("Primary key of the related `{}`.", t.name))
                .deprecation(f.deprecated.clone())
                .build();
            let object = to_one_resolver(t, &f.name, f.description.clone(), f.deprecated.clone(), n);
            vec![object, id]
        }
        FieldKind::Scalar(_) => vec![ResolverSpec::new(&f.name, gql(&f.types.graphql, n))
            .description(f.description.clone())
            .deprecation(f.deprecated.clone())
            .build()],
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
        assert_eq!(post.enums.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["PostStatus"]);
    }

    #[test]
    fn toml_strings_escape_quotes_and_fold_lines() {
        assert_eq!(toml_string("A \"quoted\"\nback\\slash"), r#""A \"quoted\" back\\slash""#);
    }
}
