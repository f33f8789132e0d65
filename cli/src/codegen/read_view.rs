//! The read surface of one model as view data: filter, ordering and having inputs, connection
//! and aggregate types, and the shared runtime types they use. Every type is described once,
//! here; the Rust template and the SDL printer both read the same description.

use serde::Serialize;

use super::aggregate_view::{aggregates, Aggregates};
use super::common::{field, input, model, InputDef, ObjectDef, PlainEnum, ResolverSpec};
use crate::ir::{Field, FieldKind, Ir, Model, ScalarKind};

/// Everything the model's GraphQL module needs for reads.
#[derive(Debug, Serialize)]
pub struct ReadView {
    pub inputs: Vec<InputDef>,
    /// Whether other models filter on this one through a to-many relation (`<Model>ListFilter`).
    pub list_filter: bool,
    pub objects: Vec<ObjectDef>,
    pub group_enum: Option<PlainEnum>,
    /// `DefaultSort` items and `Measure` items for the model's data module.
    pub default_order: Vec<String>,
    pub measures: Vec<String>,
    pub search_table: String,
    /// Shared filter types this model's inputs use (`IntFilter`, ...), for the SDL.
    #[serde(skip)]
    pub filter_types: Vec<String>,
}

/// The shared filter input a field compares with.
fn value_filter(f: &Field) -> Option<String> {
    let name = match &f.kind {
        FieldKind::PrimaryKey(_) | FieldKind::ForeignKey { .. } => "IDFilter",
        FieldKind::Scalar(s) => match s {
            ScalarKind::Integer => "IntFilter",
            ScalarKind::BigInteger => "BigIntFilter",
            ScalarKind::Float => "FloatFilter",
            ScalarKind::Decimal { .. } => "DecimalFilter",
            ScalarKind::DateTime => "DateTimeFilter",
            ScalarKind::Date => "DateFilter",
            ScalarKind::Time => "TimeFilter",
            ScalarKind::Boolean => "BooleanFilter",
            ScalarKind::Uuid => "UUIDFilter",
            ScalarKind::String { .. } | ScalarKind::Text => "StringFilter",
            ScalarKind::Json => "JSONFilter",
            ScalarKind::Enum { type_name, .. } => return Some(format!("{type_name}Filter")),
        },
    };
    Some(name.to_string())
}

/// How a column sorts (`SortAs` variant), or `None` if it cannot be sorted.
fn sort_as(f: &Field) -> Option<&'static str> {
    match &f.kind {
        FieldKind::Scalar(ScalarKind::Json) => None,
        FieldKind::Scalar(ScalarKind::Float) => Some("Float"),
        FieldKind::Scalar(ScalarKind::Decimal { .. }) => Some("Decimal"),
        _ => Some("Plain"),
    }
}

/// Whether any relation lists this model (so `<Model>ListFilter` is needed).
fn listed_by_others(ir: &Ir, m: &Model) -> bool {
    ir.models.iter().any(|o| o.many_to_many.iter().any(|r| r.target == m.name) || o.reverse.iter().any(|r| r.source_model == m.name))
}

pub fn read_view(ir: &Ir, m: &Model) -> ReadView {
    let name = &m.name;
    let mut filter_types = Vec::new();
    let mut where_fields = vec![
        field("and", &format!("[{name}Where!]"), Some("Every filter in the list holds.")),
        field("or", &format!("[{name}Where!]"), Some("At least one filter in the list holds.")),
        field("not", &format!("{name}Where"), Some("The filter does not hold.")),
    ];
    let mut order_fields = Vec::new();
    for f in &m.fields {
        let api = super::common::input_name(f);
        if let FieldKind::ForeignKey { target, .. } = &f.kind {
            let t = model(ir, target);
            where_fields.push(field(&f.graphql_name, &format!("{}Where", t.name), None));
            order_fields.push(field(&f.graphql_name, &format!("{}OrderBy", t.name), None));
        }
        if let Some(gql_name) = value_filter(f) {
            where_fields.push(field(&api, &gql_name, None));
            if !filter_types.contains(&gql_name) {
                filter_types.push(gql_name.clone());
            }
        }
        if sort_as(f).is_some() {
            order_fields.push(field(&api, "OrderDirection", None));
        }
    }
    // To-many relations: reverse foreign keys and many-to-many, both directions.
    for rel in &m.many_to_many {
        let t = model(ir, &rel.target);
        where_fields.push(field(&rel.graphql_name, &format!("{}ListFilter", t.name), None));
    }
    for r in &m.reverse {
        let s = model(ir, &r.source_model);
        where_fields.push(field(&r.graphql_name, &format!("{}ListFilter", s.name), None));
    }
    order_fields.push(field("nulls", "NullsOrder", Some("Where nulls sort (default: last).")));
    let mut inputs = vec![
        input(format!("{name}Where"), format!("Conditions on `{name}` rows; every field given must hold."), where_fields),
        input(format!("{name}OrderBy"), format!("One sort key of `{name}` rows: name exactly one field."), order_fields),
    ];
    let list_filter = listed_by_others(ir, m);
    if list_filter {
        let wt = format!("{name}Where");
        inputs.push(input(
            format!("{name}ListFilter"),
            format!("Conditions on the related `{name}` rows of a to-many relation."),
            vec![
                field("some", &wt, Some("At least one related row matches.")),
                field("every", &wt, Some("Every related row matches (true when there are none).")),
                field("none", &wt, Some("No related row matches.")),
            ],
        ));
    }

    let Aggregates { measures, mut objects, group_enum } = aggregates(m, &mut inputs, &mut filter_types);
    objects.extend(connection_objects(name));
    let default_order = m
        .ordering
        .iter()
        .map(|(i, desc)| {
            let f = &m.fields[*i];
            format!(
                "DefaultSort {{ name: \"{}\", column: \"{}\", desc: {desc}, nullable: {}, sort_as: SortAs::{} }}",
                super::common::input_name(f),
                f.column,
                f.nullable,
                sort_as(f).unwrap_or("Plain")
            )
        })
        .collect();
    let search_table = if m.search.is_empty() {
        "None".to_string()
    } else {
        use super::dialect::Dialect;
        let columns: Vec<&str> = m.search.iter().map(|&i| m.fields[i].column.as_str()).collect();
        format!(
            "Some(Search {{ fts: {:?}, document: {:?} }})",
            super::sql::fts_table(m, Dialect::Sqlite),
            super::sql::search_document(&columns, Some("t0"))
        )
    };
    ReadView { inputs, list_filter, objects, group_enum, default_order, measures, search_table, filter_types }
}

/// The `<Model>Connection` and `<Model>Edge` objects of connection pages.
fn connection_objects(name: &str) -> Vec<ObjectDef> {
    let mut objects = Vec::new();
    objects.push(ObjectDef {
        name: format!("{name}Connection"),
        description: format!("A page of `{name}` rows with cursors."),
        resolvers: vec![
            ResolverSpec::new("edges", format!("[{name}Edge!]!")).doc("The rows of this page, each with its cursor.").build(),
            ResolverSpec::new("page_info", "PageInfo!").doc("Where this page lies.").build(),
            ResolverSpec::new("total_count", "Int!")
                .doc("The number of rows the filter matches, ignoring paging (counted only when selected).")
                .build(),
        ],
    });
    objects.push(ObjectDef {
        name: format!("{name}Edge"),
        description: format!("A `{name}` and its cursor."),
        resolvers: vec![
            ResolverSpec::new("cursor", "String!").doc("Opaque position of this row, for `after` / `before`.").build(),
            ResolverSpec::new("node", format!("{name}!")).doc("The row.").build(),
        ],
    });
    objects
}

#[cfg(test)]
mod tests {
    use super::super::aggregate_view::{groupable, measure};
    use super::*;
    use crate::ir::TextFormat;

    fn scalar(kind: ScalarKind, nullable: bool) -> Field {
        Field {
            name: "f".into(),
            graphql_name: "f".into(),
            column: "f".into(),
            types: kind.types(),
            kind: FieldKind::Scalar(kind),
            nullable,
            unique: false,
            default: None,
            description: None,
            deprecated: None,
            renamed_from: None,
            rules: Default::default(),
            hidden: false,
            write_only: false,
        }
    }

    #[test]
    fn each_scalar_type_has_its_filter_sort_and_aggregates() {
        let text = ScalarKind::String { max_length: 10, format: TextFormat::Plain };
        let decimal = ScalarKind::Decimal { max_digits: 8, decimal_places: 2 };
        // (type, filter input, sort, groupable, aggregates)
        type Case = (ScalarKind, &'static str, Option<&'static str>, bool, Option<(bool, Option<u32>)>);
        let cases: Vec<Case> = vec![
            (ScalarKind::Integer, "IntFilter", Some("Plain"), true, Some((true, None))),
            (ScalarKind::BigInteger, "BigIntFilter", Some("Plain"), true, Some((true, None))),
            (ScalarKind::Float, "FloatFilter", Some("Float"), true, Some((true, None))),
            (decimal, "DecimalFilter", Some("Decimal"), true, Some((true, Some(2)))),
            (ScalarKind::Boolean, "BooleanFilter", Some("Plain"), true, None),
            (text, "StringFilter", Some("Plain"), true, None),
            (ScalarKind::Text, "StringFilter", Some("Plain"), false, None),
            (ScalarKind::Date, "DateFilter", Some("Plain"), true, Some((false, None))),
            (ScalarKind::DateTime, "DateTimeFilter", Some("Plain"), true, Some((false, None))),
            (ScalarKind::Time, "TimeFilter", Some("Plain"), true, Some((false, None))),
            (ScalarKind::Uuid, "UUIDFilter", Some("Plain"), true, None),
            (ScalarKind::Json, "JSONFilter", None, false, None),
        ];
        for (kind, filter, sort, group, aggregate) in cases {
            let f = scalar(kind.clone(), true);
            assert_eq!(value_filter(&f).as_deref(), Some(filter), "{kind:?}");
            assert_eq!(sort_as(&f), sort, "{kind:?}");
            assert_eq!(groupable(&f), group, "{kind:?}");
            assert_eq!(measure(&f), aggregate, "{kind:?}");
        }
    }

    #[test]
    fn a_models_filters_and_orderings_cover_its_fields_and_relations() {
        let ir = super::super::common::blog();
        let view = read_view(&ir, ir.model("Post").unwrap());
        let names: Vec<&str> = view.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names[..2], ["PostWhere", "PostOrderBy"]);
        let where_fields: Vec<&str> = view.inputs[0].fields.iter().map(|f| f.sdl.name.as_str()).collect();
        for f in ["and", "or", "not", "author", "id", "title", "status", "views", "publishedAt", "tags"] {
            assert!(where_fields.contains(&f), "{f} in {where_fields:?}");
        }
        let sdl_type = |input: usize, field: &str| view.inputs[input].fields.iter().find(|f| f.sdl.name == field).map(|f| f.sdl.ty.clone());
        assert_eq!(sdl_type(0, "author").as_deref(), Some("AuthorWhere"), "a to-one relation filters on its row");
        assert_eq!(sdl_type(0, "tags").as_deref(), Some("TagListFilter"), "a to-many relation filters with some/every/none");
        assert_eq!(sdl_type(0, "authorId").as_deref(), Some("IDFilter"));
        assert_eq!(sdl_type(1, "author").as_deref(), Some("AuthorOrderBy"), "rows sort by a related row's fields");
        assert_eq!(sdl_type(1, "price").as_deref(), Some("OrderDirection"));
        assert_eq!(sdl_type(1, "tags"), None, "a to-many relation is no sort key");
        assert!(view.filter_types.iter().any(|t| t == "PostStatusFilter"), "{:?}", view.filter_types);
        assert_eq!(view.default_order.len(), 1);
        assert!(view.default_order[0].contains("column: \"published_at\", desc: true, nullable: true"));
        assert!(view.list_filter, "`Author.posts` filters on the posts it lists");
    }

    #[test]
    fn models_other_models_list_get_a_list_filter() {
        let ir = super::super::common::blog();
        let tag = read_view(&ir, ir.model("Tag").unwrap());
        assert!(tag.list_filter);
        assert!(tag.inputs.iter().any(|i| i.name == "TagListFilter"));
        let names: Vec<&str> = tag.objects.iter().map(|o| o.name.as_str()).collect();
        assert!(names.contains(&"TagConnection") && names.contains(&"TagEdge"), "{names:?}");
    }
}
