//! Index advice for tables gqlauto does not manage (`managed: false`, as every table imported
//! from Django is): such a table has only the indexes its owner made, so a filter, ordering or
//! grouping that no index starts with makes every request read the whole table. `gqlauto check
//! --queries FILE` reads the operations a client sends and names each such root field, with the
//! Django `Meta.indexes` entry that serves it. The manifest's own default orderings are checked
//! by the validator (W502); both name the index with [`Model::django_index`].
//!
//! Only root fields are read: rows reached through a relation are narrowed by the foreign key,
//! which Django indexes, before any filter or ordering of theirs applies.

use std::collections::HashMap;

use async_graphql_parser::types::{ExecutableDocument, Field, OperationType, Selection, SelectionSet};
use async_graphql_parser::{Pos, Positioned};
use async_graphql_value::Value;

use crate::diag::{Code, Diagnostic, Span};
use crate::ir::names::root_fields;
use crate::ir::names::{to_screaming, to_snake};
use crate::ir::{FieldKind, Ir, Model};

/// What a root field reads of its model: equality conditions, range conditions, the ordering
/// and the grouping, as field positions.
#[derive(Debug, Default, PartialEq)]
struct Reads {
    equal: Vec<usize>,
    range: Vec<usize>,
    order: Vec<(usize, bool)>,
    group: Vec<usize>,
    /// The model's default ordering, for a list without `orderBy`.
    default_order: Vec<(usize, bool)>,
}

impl Reads {
    /// The index that serves this read: equality columns first, then the grouping, or the
    /// ordering asked for, or a range, or the default ordering.
    fn wanted(&self) -> Vec<(usize, bool)> {
        let mut columns: Vec<(usize, bool)> = self.equal.iter().map(|&p| (p, false)).collect();
        let rest: Vec<(usize, bool)> = if !self.group.is_empty() {
            self.group.iter().map(|&p| (p, false)).collect()
        } else if !self.order.is_empty() {
            self.order.clone()
        } else if !self.range.is_empty() {
            self.range.iter().map(|&p| (p, false)).collect()
        } else {
            self.default_order.clone()
        };
        for c in rest {
            if !columns.iter().any(|(p, _)| *p == c.0) {
                columns.push(c);
            }
        }
        columns
    }
}

/// The W503 warnings for the operations in `text` (a file of GraphQL documents): one per root field on an unmanaged table that no index serves, the first place
/// each distinct index is wanted. A document that does not parse is an error.
pub fn for_queries(ir: &Ir, text: &str) -> Result<Vec<Diagnostic>, Diagnostic> {
    let doc = async_graphql_parser::parse_query(text).map_err(|e| {
        let pos = e.positions().next().unwrap_or(Pos { line: 1, column: 1 });
        Diagnostic::error(Code::Syntax, Some(span(pos)), format!("not a GraphQL document: {e}"))
    })?;
    let mut roots: HashMap<String, (&Model, &str)> = HashMap::new();
    for m in ir.models.iter().filter(|m| !m.managed) {
        for (name, part, _) in root_fields(m) {
            if matches!(part, "List" | "Connection" | "Aggregate" | "GroupBy") {
                roots.insert(name, (m, part));
            }
        }
    }
    let mut fields = Vec::new();
    for (_, op) in doc.operations.iter().filter(|(_, op)| op.node.ty == OperationType::Query) {
        root_selection(&doc, &op.node.selection_set.node, &mut fields);
    }
    // In the order of the file (a document's named operations come unordered).
    fields.sort_by_key(|f| (f.pos.line, f.pos.column));
    fields.dedup_by_key(|f| (f.pos.line, f.pos.column));
    // Each index wanted, with the places that want it, in order of first appearance.
    let mut wanted: Vec<Wanted> = Vec::new();
    for field in fields {
        let Some(&(model, part)) = roots.get(field.node.name.node.as_str()) else { continue };
        let reads = reads(model, part, &field.node);
        let columns = reads.wanted();
        let Some(&(first, _)) = columns.first() else { continue };
        if model.index_starts_with(&model.fields[first].column) {
            continue;
        }
        match wanted.iter_mut().find(|w| w.model.name == model.name && w.columns == columns) {
            Some(w) => w.places.push((field, reads)),
            None => wanted.push(Wanted { model, columns, places: vec![(field, reads)] }),
        }
    }
    // An index that starts with another's columns serves both: ask only for the longer one.
    let mut i = 0;
    while i < wanted.len() {
        let (model, columns) = (wanted[i].model, &wanted[i].columns);
        let longer = wanted.iter().position(|w| {
            w.model.name == model.name && w.columns.len() > columns.len() && w.columns.iter().zip(columns).all(|(a, b)| a.0 == b.0)
        });
        match longer {
            Some(j) => {
                let places = wanted.remove(i).places;
                let j = if j > i { j - 1 } else { j };
                wanted[j].places.extend(places);
                wanted[j].places.sort_by_key(|(f, _)| (f.pos.line, f.pos.column));
            }
            None => i += 1,
        }
    }
    wanted.sort_by_key(|w| (w.places[0].0.pos.line, w.places[0].0.pos.column));
    let mut out = Vec::new();
    for Wanted { model, columns, places } in wanted {
        let (field, reads) = &places[0];
        let first = &model.fields[columns[0].0].column;
        let also = match places.len() {
            1 => String::new(),
            n => format!(" (and {} more root field(s) of this file)", n - 1),
        };
        out.push(
            Diagnostic::warning(
                Code::UnindexedRead,
                Some(span(field.pos)),
                format!(
                    "`{}` {} on `{}`, a table gqlauto does not manage, and no index of it starts with `{first}`: each request reads the whole table{also}",
                    field.node.name.node,
                    describe(model, reads),
                    model.table
                ),
            )
            .with_help(format!(
                "add `{}` to the `indexes` of the Django model's `Meta`, run makemigrations and migrate, then import again",
                model.django_index(&columns)
            )),
        );
    }
    Ok(out)
}

/// One index a file's reads want, and the root fields that want it.
struct Wanted<'a> {
    model: &'a Model,
    columns: Vec<(usize, bool)>,
    places: Vec<(&'a Positioned<Field>, Reads)>,
}

fn span(pos: Pos) -> Span {
    Span { line: pos.line, col: pos.column, len: 1 }
}

/// The root fields of a selection set, through fragments.
fn root_selection<'a>(doc: &'a ExecutableDocument, set: &'a SelectionSet, out: &mut Vec<&'a Positioned<Field>>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push(f),
            Selection::InlineFragment(f) => root_selection(doc, &f.node.selection_set.node, out),
            Selection::FragmentSpread(s) => {
                if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                    root_selection(doc, &f.node.selection_set.node, out);
                }
            }
        }
    }
}

/// The items of list argument `name`, which GraphQL lets a client give as one item alone.
fn listed<'a>(field: &'a Field, name: &str) -> Vec<&'a Value> {
    match field.get_argument(name).map(|v| &v.node) {
        Some(Value::List(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

/// What the arguments of root field `field` (a `part` of `model`) read; values given by
/// variables are unknown and left out.
fn reads(model: &Model, part: &str, field: &Field) -> Reads {
    let mut r = Reads::default();
    // A foreign key is filtered and ordered by its `<relation>Id` field.
    let by_graphql = |name: &str| {
        model.fields.iter().position(|f| match f.kind {
            FieldKind::ForeignKey { .. } => name.strip_suffix("Id") == Some(f.graphql_name.as_str()),
            _ => f.graphql_name == name,
        })
    };
    if let Some(Value::Object(conditions)) = field.get_argument("where").map(|v| &v.node) {
        for (name, ops) in conditions {
            let (Some(pos), Value::Object(ops)) = (by_graphql(name.as_str()), ops) else { continue };
            if ops.keys().any(|op| matches!(op.as_str(), "eq" | "in" | "isNull")) {
                r.equal.push(pos);
            } else if ops.keys().any(|op| matches!(op.as_str(), "gt" | "gte" | "lt" | "lte")) {
                r.range.push(pos);
            }
        }
    }
    for item in listed(field, "orderBy") {
        if let Value::Object(keys) = item {
            for (name, dir) in keys {
                if let (Some(pos), Value::Enum(dir)) = (by_graphql(name.as_str()), dir) {
                    r.order.push((pos, dir.as_str().starts_with("DESC")));
                }
            }
        }
    }
    if matches!(part, "List" | "Connection") {
        r.default_order = model.ordering.clone();
    }
    if part == "GroupBy" {
        for item in listed(field, "by") {
            if let Value::Enum(name) = item {
                if let Some(pos) = model.fields.iter().position(|f| to_screaming(&to_snake(&f.graphql_name)) == name.as_str()) {
                    r.group.push(pos);
                }
            }
        }
    }
    r
}

/// "filters `status` and sorts by `publishedAt`", for a message.
fn describe(model: &Model, r: &Reads) -> String {
    let names =
        |ps: &mut dyn Iterator<Item = usize>| ps.map(|p| format!("`{}`", model.fields[p].graphql_name)).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if !r.equal.is_empty() || !r.range.is_empty() {
        parts.push(format!("filters {}", names(&mut r.equal.iter().chain(&r.range).copied())));
    }
    if !r.group.is_empty() {
        parts.push(format!("groups by {}", names(&mut r.group.iter().copied())));
    } else if !r.order.is_empty() {
        parts.push(format!("sorts by {}", names(&mut r.order.iter().map(|&(p, _)| p))));
    } else if parts.is_empty() {
        parts.push(format!("sorts by {} (its default ordering)", names(&mut r.default_order.iter().map(|&(p, _)| p))));
    }
    parts.join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::check_source;
    use crate::manifest::Format;

    fn manifest(managed: bool, ordering: &str) -> String {
        format!(
            r#"version: 1
name: blog
models:
  Author:
    table: blog_author
    managed: {managed}
    fields:
      id: {{ type: big_auto }}
      email: {{ type: email, unique: true }}
  Post:
    table: blog_post
    managed: {managed}
    ordering: [{ordering}]
    fields:
      id: {{ type: big_auto }}
      author: {{ type: foreign_key, to: Author, on_delete: cascade, related_name: posts }}
      slug: {{ type: slug, indexed: true }}
      status: {{ type: enum, values: [draft, published] }}
      published_at: {{ type: datetime, nullable: true }}
      view_count: {{ type: integer, default: 0 }}
"#
        )
    }

    fn ir(managed: bool, ordering: &str) -> (Ir, Vec<Diagnostic>) {
        let checked = check_source("blog.yaml", manifest(managed, ordering), Format::Yaml);
        let errors: Vec<_> = checked.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        (checked.ir.expect("valid"), checked.diagnostics)
    }

    fn advice(managed: bool, queries: &str) -> Vec<String> {
        let (ir, _) = ir(managed, "id");
        for_queries(&ir, queries)
            .unwrap()
            .into_iter()
            .map(|d| {
                let span = d.span.unwrap();
                format!("{}:{} {} | {}", span.line, span.col, d.message, d.help.unwrap())
            })
            .collect()
    }

    #[test]
    fn a_filter_and_ordering_no_index_serves_is_reported_once_with_the_index_to_add() {
        let found = advice(
            false,
            "query A { posts(where: {status: {eq: PUBLISHED}}, orderBy: [{publishedAt: DESC}], limit: 20) { id } }\n\
             query B { postsAggregate(where: {status: {eq: PUBLISHED}}) { count } postsGroupBy(by: [STATUS]) { key { status } } }",
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with("1:11 `posts` filters `status` and sorts by `publishedAt` on `blog_post`"), "{}", found[0]);
        assert!(found[0].contains("(and 2 more root field(s) of this file)"), "{}", found[0]);
        assert!(
            found[0].ends_with(r#"add `models.Index(fields=["status", "-published_at"], name="post_status_published_at_idx")` to the `indexes` of the Django model's `Meta`, run makemigrations and migrate, then import again"#),
            "{}",
            found[0]
        );
    }

    #[test]
    fn reads_an_index_serves_are_not_reported() {
        let served = "{ posts(where: {slug: {eq: \"a\"}}) { id } \
                        b: posts(where: {authorId: {eq: 1}}, orderBy: [{viewCount: DESC}]) { id } \
                        c: posts(orderBy: [{id: DESC}]) { id } \
                        d: posts(where: $w) { id } \
                        authors(where: {email: {eq: \"x\"}}) { id posts(where: {status: {eq: DRAFT}}) { id } } }";
        assert_eq!(advice(false, served), Vec::<String>::new());
        // A table gqlauto manages gets the indexes its manifest asks for: no advice about Django.
        assert_eq!(advice(true, "{ posts(where: {status: {eq: DRAFT}}) { id } }"), Vec::<String>::new());
        // Writes are not reads.
        assert_eq!(advice(false, "mutation { deletePosts(where: {status: {eq: DRAFT}}) { count } }"), Vec::<String>::new());
    }

    #[test]
    fn root_fields_inside_fragments_and_ranges_are_read() {
        let found =
            advice(false, "query { ...Q } fragment Q on Query { postsConnection(where: {viewCount: {gte: 10}}, first: 5) { totalCount } }");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with("1:38 `postsConnection` filters `viewCount` on `blog_post`"), "{}", found[0]);
        assert!(found[0].contains(r#"fields=["view_count"]"#), "{}", found[0]);
    }

    #[test]
    fn a_document_that_does_not_parse_is_an_error_where_it_breaks() {
        let (ir, _) = ir(false, "id");
        let error = for_queries(&ir, "{ posts(where: {status: ").unwrap_err();
        assert!(error.is_error());
        assert!(error.message.starts_with("not a GraphQL document"), "{}", error.message);
        assert_eq!(error.span.map(|s| s.line), Some(1));
    }

    #[test]
    fn index_names_fit_django_and_stay_apart() {
        let (ir, _) = ir(false, "id");
        let post = ir.models.iter().find(|m| m.name == "Post").unwrap();
        let at = |name: &str| post.fields.iter().position(|f| f.name == name).unwrap();
        let long = post.django_index(&[(at("published_at"), true), (at("view_count"), false), (at("status"), false)]);
        let other = post.django_index(&[(at("published_at"), true), (at("status"), false)]);
        let name = |line: &str| line.rsplit("name=\"").next().unwrap().trim_end_matches("\")").to_string();
        assert!(name(&long).len() <= 30 && name(&other).len() <= 30, "{long} {other}");
        assert_ne!(name(&long), name(&other));
        assert!(long.starts_with(r#"models.Index(fields=["-published_at", "view_count", "status"], name="post_publishe_"#), "{long}");
    }

    #[test]
    fn a_default_ordering_of_an_unmanaged_table_without_its_index_is_a_warning() {
        let w502 = |managed, ordering| {
            ir(managed, ordering).1.into_iter().filter(|d| d.code == Code::UnindexedForeignOrdering).collect::<Vec<_>>()
        };
        let found = w502(false, "-published_at");
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .starts_with("lists of `Post` are ordered by `-published_at` unless they say otherwise, but no index of `blog_post`"),
            "{}",
            found[0].message
        );
        assert!(found[0].help.as_deref().unwrap().contains(r#"models.Index(fields=["-published_at"], name="post_published_at_idx")"#));
        assert!(found[0].span.is_some());
        // gqlauto makes the index itself; a foreign key or `indexed: true` field has one.
        assert!(w502(true, "-published_at").is_empty());
        assert!(w502(false, "author").is_empty());
        assert!(w502(false, "slug, -published_at").is_empty());
    }
}
