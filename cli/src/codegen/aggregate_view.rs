//! Aggregates and groups of one model's rows as view data: the `<Model>Aggregate` object and its
//! number and bound parts, the measured columns, and `groupBy` with its key, group and `having`
//! types.

use super::common::{field, input, rust_field, InputDef, ObjectDef, PlainEnum, ResolverSpec};
use crate::ir::names::{to_camel, to_screaming};
use crate::ir::{Field, FieldKind, Model, ScalarKind};

/// What a model's aggregates and groups add to its read view.
pub(super) struct Aggregates {
    /// `Measure` items for the model's data module.
    pub measures: Vec<String>,
    pub objects: Vec<ObjectDef>,
    pub group_enum: Option<PlainEnum>,
}

/// The aggregate and group-by types of `m`; the inputs they take are added to `inputs`, and the
/// shared filter types those use to `filter_types`.
pub(super) fn aggregates(m: &Model, inputs: &mut Vec<InputDef>, filter_types: &mut Vec<String>) -> Aggregates {
    let name = &m.name;
    let measured: Vec<(&Field, bool, Option<u32>)> = m.fields.iter().filter_map(|f| measure(f).map(|(n, d)| (f, n, d))).collect();
    let measures = measured
        .iter()
        .map(|(f, numeric, places)| {
            format!(
                "Measure {{ field: \"{}\", column: \"{}\", numeric: {numeric}, decimal: {} }}",
                to_camel(&f.name),
                f.column,
                places.is_some()
            )
        })
        .collect();
    let mut objects = Vec::new();
    let mut aggregate_resolvers = vec![ResolverSpec::new("count", "Int!").doc("Number of rows.").build()];
    let numbers: Vec<&(&Field, bool, Option<u32>)> = measured.iter().filter(|m| m.1).collect();
    if !numbers.is_empty() {
        let type_name = format!("{name}AggregateNumbers");
        for (function, text) in [("sum", "Sums"), ("avg", "Averages")] {
            aggregate_resolvers.push(
                ResolverSpec::new(function, format!("{type_name}!"))
                    .doc(format!("{text} of the numeric fields (null when there are no rows)."))
                    .build(),
            );
        }
        let resolvers = numbers.iter().map(|(f, _, _)| ResolverSpec::new(&f.name, "Float").build()).collect();
        objects.push(ObjectDef { description: format!("Sums or averages of `{name}`'s numeric fields."), name: type_name, resolvers });
    }
    if !measured.is_empty() {
        let type_name = format!("{name}AggregateBounds");
        for (function, text) in [("min", "Smallest"), ("max", "Largest")] {
            aggregate_resolvers.push(
                ResolverSpec::new(function, format!("{type_name}!"))
                    .doc(format!("{text} values of the numeric and date fields (null when there are no rows)."))
                    .build(),
            );
        }
        let resolvers = measured.iter().map(|(f, _, _)| ResolverSpec::new(&f.name, f.types.graphql.clone()).build()).collect();
        objects.push(ObjectDef { description: format!("Smallest or largest values of `{name}`'s fields."), name: type_name, resolvers });
    }
    objects.push(ObjectDef {
        name: format!("{name}Aggregate"),
        description: format!("Aggregates over the `{name}` rows a filter matches."),
        resolvers: aggregate_resolvers,
    });

    // Group by.
    let group_fields: Vec<&Field> = m.fields.iter().filter(|f| groupable(f)).collect();
    let group_enum = (!group_fields.is_empty()).then(|| {
        let description = format!("Fields `{name}` rows can be grouped by.");
        PlainEnum {
            name: format!("{name}GroupField"),
            description,
            graphql_values: group_fields.iter().map(|f| to_screaming(&rust_field(f))).collect(),
        }
    });
    if group_enum.is_some() {
        let key_resolvers = group_fields
            .iter()
            .map(|f| {
                let gql_ty = if matches!(f.kind, FieldKind::ForeignKey { .. }) { "ID".to_string() } else { f.types.graphql.clone() };
                ResolverSpec::new(&rust_field(f), gql_ty).build()
            })
            .collect();
        objects.push(ObjectDef {
            name: format!("{name}GroupKey"),
            description: "The values a group shares; fields not grouped by are null.".into(),
            resolvers: key_resolvers,
        });
        objects.push(ObjectDef {
            name: format!("{name}Group"),
            description: format!("One group of `{name}` rows."),
            resolvers: vec![
                ResolverSpec::new("key", format!("{name}GroupKey!")).doc("The values the rows of this group share.").build(),
                ResolverSpec::new("aggregate", format!("{name}Aggregate!")).doc("Aggregates over the rows of this group.").build(),
            ],
        });
        let mut having_fields = vec![
            field("and", &format!("[{name}Having!]"), Some("Every condition in the list holds.")),
            field("or", &format!("[{name}Having!]"), Some("At least one condition in the list holds.")),
            field("not", &format!("{name}Having"), Some("The condition does not hold.")),
            field("count", "IntFilter", Some("The number of rows in the group.")),
        ];
        if !filter_types.iter().any(|t| t == "IntFilter") {
            filter_types.push("IntFilter".into());
        }
        if !numbers.is_empty() {
            for (function, text) in [("sum", "Sums"), ("avg", "Averages"), ("min", "Smallest values"), ("max", "Largest values")] {
                having_fields.push(field(function, &format!("{name}AggregateFilter"), Some(&format!("{text} in the group."))));
            }
            if !filter_types.iter().any(|t| t == "FloatFilter") {
                filter_types.push("FloatFilter".into());
            }
            inputs.push(input(
                format!("{name}AggregateFilter"),
                format!("Conditions on an aggregate of `{name}`'s numeric fields."),
                numbers.iter().map(|(f, _, _)| field(&f.graphql_name, "FloatFilter", None)).collect(),
            ));
        }
        inputs.push(input(format!("{name}Having"), format!("Conditions on groups of `{name}` rows."), having_fields));
    }
    Aggregates { measures, objects, group_enum }
}

/// Whether a field can be a `groupBy` key.
pub(super) fn groupable(f: &Field) -> bool {
    !matches!(f.kind, FieldKind::PrimaryKey(_) | FieldKind::Scalar(ScalarKind::Text | ScalarKind::Json))
}

/// `(numeric, decimal places)` for fields aggregates cover.
pub(super) fn measure(f: &Field) -> Option<(bool, Option<u32>)> {
    match &f.kind {
        FieldKind::Scalar(ScalarKind::Integer | ScalarKind::BigInteger | ScalarKind::Float) => Some((true, None)),
        FieldKind::Scalar(ScalarKind::Decimal { decimal_places, .. }) => Some((true, Some(*decimal_places))),
        FieldKind::Scalar(ScalarKind::Date | ScalarKind::DateTime | ScalarKind::Time) => Some((false, None)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post_aggregates() -> (Aggregates, Vec<InputDef>, Vec<String>) {
        let ir = super::super::common::blog();
        let (mut inputs, mut filter_types) = (Vec::new(), Vec::new());
        let a = aggregates(ir.model("Post").unwrap(), &mut inputs, &mut filter_types);
        (a, inputs, filter_types)
    }

    #[test]
    fn numbers_are_summed_and_numbers_and_dates_bounded() {
        let (a, _, _) = post_aggregates();
        let objects: Vec<&str> = a.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(objects[..3], ["PostAggregateNumbers", "PostAggregateBounds", "PostAggregate"]);
        let summed: Vec<&str> = a.objects[0].resolvers.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(summed, ["views", "price"]);
        let bounded: Vec<&str> = a.objects[1].resolvers.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(bounded, ["views", "price", "published_at"]);
        assert!(a.measures[1].contains("column: \"price\", numeric: true, decimal: true"), "{:?}", a.measures);
    }

    #[test]
    fn groups_key_on_every_groupable_field_and_filter_on_aggregates() {
        let (a, inputs, filter_types) = post_aggregates();
        let group = a.group_enum.expect("Post has groupable fields");
        assert_eq!(group.graphql_values, ["AUTHOR_ID", "TITLE", "SLUG", "STATUS", "VIEWS", "PRICE", "PUBLISHED_AT"]);
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["PostAggregateFilter", "PostHaving"]);
        assert_eq!(filter_types, ["IntFilter", "FloatFilter"]);
        let having: Vec<&str> = inputs[1].fields.iter().map(|f| f.sdl.name.as_str()).collect();
        assert_eq!(having, ["and", "or", "not", "count", "sum", "avg", "min", "max"]);
        let filtered: Vec<&str> = inputs[0].fields.iter().map(|f| f.sdl.name.as_str()).collect();
        assert_eq!(filtered, ["views", "price"], "aggregates filter on the numeric fields");
    }

    #[test]
    fn a_model_without_numbers_counts_and_groups_only() {
        let ir = super::super::common::blog();
        let (mut inputs, mut filter_types) = (Vec::new(), Vec::new());
        let a = aggregates(ir.model("Tag").unwrap(), &mut inputs, &mut filter_types);
        let objects: Vec<&str> = a.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(objects, ["TagAggregate", "TagGroupKey", "TagGroup"]);
        assert_eq!(inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["TagHaving"]);
        let having: Vec<&str> = inputs[0].fields.iter().map(|f| f.sdl.name.as_str()).collect();
        assert_eq!(having, ["and", "or", "not", "count"], "no sums to filter on");
    }
}
