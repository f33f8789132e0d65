//! The write surface of one model as view data: create/update inputs and how each value is
//! checked and bound, nested relation inputs, upsert keys and the mutation resolvers. Like the
//! read view, every type is described once here for both the Rust template and the SDL printer.

use serde::Serialize;

use super::common::{field as input_field, input as input_def, InputDef, PlainEnum};
use super::common::{gql, model, rust_field, Resolver, ResolverSpec, SdlField};
use super::write_values::{counter, lit};
use crate::ir::names::to_screaming;
use crate::ir::{CheckOperand, Field, FieldKind, Ir, Model, PkKind, ReverseKind, ScalarKind};

/// Everything the model's modules need for writes.
#[derive(Debug, Serialize)]
pub struct WriteView {
    pub inputs: Vec<InputDef>,
    /// `Reference` items, unique keys (`&[..]` items) for `impl Writable`.
    pub references: Vec<String>,
    pub unique_keys: Vec<String>,
    /// `Rule` items of the model-level checks.
    pub rules: Vec<String>,
    /// The fields an upsert can name, when the model has a unique key besides its primary key.
    pub field_enum: Option<PlainEnum>,
    pub resolvers: Vec<Resolver>,
    /// SDL of `<Model>BulkResult`.
    #[serde(skip)]
    pub bulk_result: Vec<SdlField>,
}

/// A to-many relation that nested writes can reach: its field and the model it writes.
struct Nest<'a> {
    graphql_name: String,
    target: &'a Model,
}

fn nests<'a>(ir: &'a Ir, m: &Model) -> Vec<Nest<'a>> {
    let mut out = Vec::new();
    for rel in &m.many_to_many {
        out.push(Nest { graphql_name: rel.graphql_name.clone(), target: model(ir, &rel.target) });
    }
    // A reverse one-to-one is written from the other side.
    for r in m.reverse.iter().filter(|r| !matches!(r.kind, ReverseKind::OneToOne { .. })) {
        out.push(Nest { graphql_name: r.graphql_name.clone(), target: model(ir, &r.source_model) });
    }
    out
}

pub fn write_view(ir: &Ir, m: &Model) -> WriteView {
    let name = &m.name;
    let mut create_fields = Vec::new();
    let mut update_fields = Vec::new();
    let mut references = Vec::new();
    for f in &m.fields {
        let api = lit(&f.graphql_name);
        match &f.kind {
            FieldKind::PrimaryKey(kind) if m.parent.is_some() => {
                // The key is the key of the row this one extends, which must exist.
                let link = m.parent.as_ref().expect("matched on it");
                let target = model(ir, &link.target);
                let description = format!(
                    "The `{}` this row extends: its id is this row's id too. Required unless the row is created under it.",
                    target.name
                );
                create_fields.push(input_field(&f.graphql_name, "ID", Some(&description)));
                references.push(format!(
                    "Reference {{ column: \"{}\", field: {api}, table: \"{}\", key: \"{}\" }}",
                    f.column, link.target_table, link.target_column
                ));
            }
            FieldKind::PrimaryKey(PkKind::Text { .. } | PkKind::Integer { .. }) => {
                // The client names the row: a bounded, non-empty string, or a number.
                let description = "The new row's key, which cannot be changed afterwards.";
                create_fields.push(input_field(&f.graphql_name, "ID!", Some(description)));
            }
            FieldKind::PrimaryKey(_) => {}
            FieldKind::Scalar(s) => {
                let gql_ty = &f.types.graphql;
                let optional = f.nullable || f.default.is_some();
                let description = match (&f.description, &f.default) {
                    (Some(d), Some(_)) => Some(format!("{d}\nOptional: the default applies when omitted.")),
                    (Some(d), None) => Some(d.clone()),
                    (None, Some(_)) => Some("Optional: the default applies when omitted.".to_string()),
                    (None, None) => None,
                };
                create_fields.push(input_field(&f.graphql_name, &gql(gql_ty, optional), description.as_deref()));
                let u_desc = if f.nullable { "Absent: unchanged; null: cleared." } else { "Absent: unchanged; null is rejected." };
                match counter(s) {
                    Some(update_gql) => {
                        let u_desc = format!("{u_desc} `{{set: v}}` stores a value, `{{increment: n}}` adds to the stored one.");
                        update_fields.push(input_field(&f.graphql_name, update_gql, Some(&u_desc)));
                    }
                    None => {
                        update_fields.push(input_field(&f.graphql_name, gql_ty, Some(u_desc)));
                    }
                }
            }
            FieldKind::ForeignKey { target, target_table, target_column, .. } => {
                let t = model(ir, target);
                let id_api = format!("{}Id", f.graphql_name);
                let nested_api = &f.graphql_name;
                references.push(format!(
                    "Reference {{ column: \"{}\", field: \"{id_api}\", table: \"{target_table}\", key: \"{target_column}\" }}",
                    f.column
                ));
                let nested_desc = format!("Creates the `{}` this row points at, in the same transaction (instead of `{id_api}`).", t.name);
                let id_desc = if f.nullable {
                    format!("The `{}` this row points at.", t.name)
                } else {
                    format!(
                        "The `{}` this row points at; required unless `{}` creates one or the row is created under it.",
                        t.name, nested_api
                    )
                };
                create_fields.push(input_field(&id_api, "ID", Some(&id_desc)));
                let nested = t.has_create_input().then(|| input_field(nested_api, &format!("Create{}Input", t.name), Some(&nested_desc)));
                create_fields.extend(nested.clone());
                update_fields.push(input_field(
                    &id_api,
                    "ID",
                    Some(if f.nullable { "Absent: unchanged; null: cleared." } else { "Absent: unchanged; null is rejected." }),
                ));
                update_fields.extend(nested);
            }
        }
    }
    for n in nests(ir, m) {
        let t = n.target;
        let gql_ty = format!("{}ToMany", t.name);
        let desc = format!("Writes to the related `{}` rows.", t.name);
        create_fields.push(input_field(&n.graphql_name, &gql_ty, Some(&desc)));
        update_fields.push(input_field(&n.graphql_name, &gql_ty, Some(&desc)));
    }
    // A reverse one-to-one (`Account.profile`) takes a nested create of the row that points here.
    for r in &m.reverse {
        let ReverseKind::OneToOne { .. } = &r.kind else { continue };
        let t = model(ir, &r.source_model);
        let gql_ty = format!("Create{}Input", t.name);
        let desc = format!("Creates the `{}` that points to this row, in the same transaction.", t.name);
        create_fields.push(input_field(&r.graphql_name, &gql_ty, Some(&desc)));
        update_fields.push(input_field(&r.graphql_name, &gql_ty, Some(&desc)));
    }

    let unique_keys = unique_keys(m);
    let upsertable = unique_keys.iter().any(|k| k != &vec![m.pk_field().column.clone()]);
    let field_enum = upsertable.then(|| field_enum(m));
    // GraphQL has no empty input objects: a model with nothing to give has no input type.
    let (creates, updates) = (m.has_create_input(), m.has_update_input());
    let mut inputs = Vec::new();
    if creates {
        let description = format!("Input of `create{name}` and of nested creates of `{name}` rows.");
        inputs.push(input_def(format!("Create{name}Input"), description, create_fields));
    }
    if updates {
        let description = format!("Input of `update{name}`: only the fields present are changed.");
        inputs.push(input_def(format!("Update{name}Input"), description, update_fields));
    }
    let nested = ir.models.iter().any(|o| nests(ir, o).iter().any(|n| n.target.name == m.name));
    if nested {
        let mut items = Vec::new();
        if creates {
            items.push(input_field("create", &format!("[Create{name}Input!]"), Some("Creates rows and links them.")));
        }
        items.extend([
            input_field("connect", "[ID!]", Some("Links existing rows.")),
            input_field("disconnect", "[ID!]", Some("Unlinks rows (they are not deleted).")),
            input_field("set", "[ID!]", Some("Links exactly these rows, unlinking all others.")),
        ]);
        if updates {
            items.push(input_field("update", &format!("[Update{name}ById!]"), Some("Updates linked rows.")));
        }
        items.push(input_field("delete", "[ID!]", Some("Deletes linked rows.")));
        let order = if creates { "set, disconnect, delete, connect, create, update" } else { "set, disconnect, delete, connect" };
        inputs.push(input_def(
            format!("{name}ToMany"),
            format!("Writes to a to-many relation of `{name}` rows, applied in the order {order}."),
            items,
        ));
        if updates {
            inputs.push(input_def(
                format!("Update{name}ById"),
                format!("An update of one related `{name}` row."),
                vec![input_field("id", "ID!", None), input_field("input", &format!("Update{name}Input!"), None)],
            ));
        }
    }
    if let Some(e) = &field_enum {
        inputs.push(input_def(
            format!("{name}OnConflict"),
            format!("What `upsert{name}` does when a row with the same unique key exists."),
            vec![
                input_field("fields", &format!("[{}!]!", e.name), Some("The unique key to match rows on.")),
                input_field("update", &format!("[{}!]", e.name), Some("The fields to overwrite in the existing row (default: the fields the input gives, except the key; `[]` keeps the row as it is).")),
            ],
        ));
    }
    let resolvers = mutations(m, creates, updates, upsertable);
    let rules: Vec<String> = m
        .checks
        .iter()
        .map(|c| {
            let left = &m.fields[c.left];
            let right = match &c.right {
                CheckOperand::Field(r) => format!("Operand::Column({})", lit(&m.fields[*r].column)),
                CheckOperand::Literal { rust, .. } => rust.clone(),
            };
            let decimal = matches!(left.kind, FieldKind::Scalar(ScalarKind::Decimal { .. }));
            format!(
                "Rule {{ left: {}, op: {}, right: {right}, decimal: {decimal}, field: {}, message: {} }}",
                lit(&left.column),
                c.op.runtime(),
                lit(&left.graphql_name),
                lit(&c.message)
            )
        })
        .collect();
    WriteView {
        rules,
        inputs,
        // The parent fills a foreign key; models without one ignore it.
        references,
        unique_keys: unique_keys.iter().map(|k| format!("&[{}]", k.iter().map(|c| lit(c)).collect::<Vec<_>>().join(", "))).collect(),
        field_enum,
        resolvers,
        bulk_result: vec![
            SdlField {
                name: "count".into(),
                args: Vec::new(),
                ty: "Int!".into(),
                description: Some("How many rows were written.".into()),
                deprecation: None,
            },
            SdlField {
                name: "rows".into(),
                args: Vec::new(),
                ty: format!("[{name}!]!"),
                description: Some("The rows as stored (deleted rows as they were).".into()),
                deprecation: None,
            },
        ],
    }
}

/// Column sets declared unique: the key, unique fields, `unique_together`, unique indexes.
fn unique_keys(m: &Model) -> Vec<Vec<String>> {
    let mut keys = vec![vec![m.pk_field().column.clone()]];
    keys.extend(m.fields.iter().filter(|f| f.unique && !matches!(f.kind, FieldKind::PrimaryKey(_))).map(|f| vec![f.column.clone()]));
    for group in &m.unique_together {
        keys.push(group.iter().map(|name| m.fields.iter().find(|f| &f.name == name).map_or(name.clone(), |f| f.column.clone())).collect());
    }
    keys.extend(m.indexes.iter().filter(|i| i.unique).map(|i| i.columns.clone()));
    keys.dedup();
    keys
}

/// `<Model>Field`: every stored field except the key, for upserts.
fn field_enum(m: &Model) -> PlainEnum {
    let fields: Vec<&Field> = m.fields.iter().filter(|f| !matches!(f.kind, FieldKind::PrimaryKey(_))).collect();
    let description = format!("A stored field of `{}`.", m.name);
    PlainEnum {
        name: format!("{}Field", m.name),
        description,
        graphql_values: fields.iter().map(|f| to_screaming(&rust_field(f))).collect(),
    }
}

/// The model's mutations: a model with nothing to give is created without an input (one row at a
/// time) and has no updates.
fn mutations(m: &Model, creates: bool, updates: bool, upsertable: bool) -> Vec<Resolver> {
    let n = &m.name;
    let arg = |name: &str, ty: String| (name.to_string(), ty);
    let mut out = Vec::new();
    if creates {
        out.extend([
            ResolverSpec::new(&format!("create_{}", m.snake), format!("{n}!"))
                .doc(format!("Creates a `{n}` (and the related rows the input nests) and returns it."))
                .args(vec![arg("input", format!("Create{n}Input!"))])
                .build(),
            ResolverSpec::new(&format!("create_{}", m.plural_snake), format!("[{n}!]!"))
                .doc(format!("Creates several `{n}` rows: all of them, or none if any fails."))
                .args(vec![arg("inputs", format!("[Create{n}Input!]!"))])
                .build(),
        ]);
    } else {
        out.push(
            ResolverSpec::new(&format!("create_{}", m.snake), format!("{n}!"))
                .doc(format!("Creates a `{n}`, which has no fields to give, and returns it with its new key."))
                .build(),
        );
    }
    if updates {
        out.extend([
            ResolverSpec::new(&format!("update_{}", m.snake), format!("{n}!"))
                .doc("Changes the fields given in `input` and applies its nested writes; fails with `NOT_FOUND` if there is no such row.")
                .args(vec![arg("id", "ID!".into()), arg("input", format!("Update{n}Input!"))])
                .build(),
            ResolverSpec::new(&format!("update_{}", m.plural_snake), format!("{n}BulkResult!"))
                .doc(format!("Changes every `{n}` the filter matches (`where: {{}}` matches all); nested writes are not available here."))
                .args(vec![arg("where", format!("{n}Where!")), arg("set", format!("Update{n}Input!"))])
                .build(),
        ]);
    }
    out.extend([
        ResolverSpec::new(&format!("delete_{}", m.snake), n.clone())
            .doc(format!("Deletes a `{n}` and returns it, or null if there was none; `CONFLICT` if rows that forbid it still point at it."))
            .args(vec![arg("id", "ID!".into())])
            .build(),
        ResolverSpec::new(&format!("delete_{}", m.plural_snake), format!("{n}BulkResult!"))
            .doc(format!("Deletes every `{n}` the filter matches (`where: {{}}` matches all), all or none."))
            .args(vec![arg("where", format!("{n}Where!"))])
            .build(),
    ]);
    if upsertable {
        out.push(
            ResolverSpec::new(&format!("upsert_{}", m.snake), format!("{n}!"))
                .doc(format!("Creates a `{n}`, or updates the one with the same `onConflict.fields` (a unique key)."))
                .args(vec![arg("input", format!("Create{n}Input!")), arg("onConflict", format!("{n}OnConflict!"))])
                .build(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_models_writes_check_every_value_and_name_their_keys() {
        let ir = super::super::common::blog();
        let view = write_view(&ir, ir.model("Post").unwrap());
        let inputs: Vec<&str> = view.inputs.iter().map(|i| i.name.as_str()).collect();
        for name in ["CreatePostInput", "UpdatePostInput"] {
            assert!(inputs.contains(&name), "{name} in {inputs:?}");
        }
        let create = view.inputs.iter().find(|i| i.name == "CreatePostInput").unwrap();
        let sdl: Vec<(&str, &str)> = create.fields.iter().map(|f| (f.sdl.name.as_str(), f.sdl.ty.as_str())).collect();
        for field in
            [("title", "String!"), ("slug", "Slug!"), ("status", "PostStatus"), ("views", "Int"), ("price", "Decimal"), ("authorId", "ID")]
        {
            assert!(sdl.contains(&field), "{field:?} in {sdl:?}");
        }
        let update = view.inputs.iter().find(|i| i.name == "UpdatePostInput").unwrap();
        let views = update.fields.iter().find(|f| f.sdl.name == "views").unwrap();
        assert_eq!(views.sdl.ty, "IntUpdate", "counters take `{{set, increment}}`");
        assert!(view.unique_keys.iter().any(|k| k.contains("\"slug\"")), "{:?}", view.unique_keys);
        let upsert_fields = view.field_enum.expect("a unique key besides the primary key").graphql_values;
        assert!(upsert_fields.contains(&"SLUG".to_string()), "{upsert_fields:?}");
        let resolvers: Vec<&str> = view.resolvers.iter().map(|r| r.name.as_str()).collect();
        for name in ["create_post", "create_posts", "update_post", "update_posts", "delete_post", "delete_posts", "upsert_post"] {
            assert!(resolvers.contains(&name), "{name} in {resolvers:?}");
        }
        assert!(view.references.iter().any(|r| r.contains("author_id")), "{:?}", view.references);
    }

    #[test]
    fn a_model_without_another_unique_key_has_no_upsert_fields() {
        let ir = super::super::common::blog();
        let view = write_view(&ir, ir.model("Author").unwrap());
        assert!(view.field_enum.is_none());
        assert!(!view.resolvers.iter().any(|r| r.name == "upsert_author"));
        assert!(view.inputs.iter().any(|i| i.fields.iter().any(|f| f.sdl.name == "posts")), "an author's create input writes its posts");
    }

    #[test]
    fn a_model_of_only_its_key_is_created_without_an_input_and_never_updated() {
        let ir = super::super::common::ir_of(
            "version: 1\nname: t\nmodels:\n  \
            Marker: { fields: { id: auto } }\n  \
            Badge: { fields: { code: { type: string, primary_key: true, max_length: 8 } } }\n  \
            Note:\n    fields:\n      id: auto\n      \
            marker: { type: foreign_key, to: Marker, on_delete: cascade }\n      \
            markers: { type: many_to_many, to: Marker }\n",
        );
        let names = |v: &WriteView| -> (Vec<String>, Vec<String>) {
            (v.inputs.iter().map(|i| i.name.clone()).collect(), v.resolvers.iter().map(|r| r.sdl.name.clone()).collect())
        };
        let marker = write_view(&ir, ir.model("Marker").unwrap());
        let (inputs, resolvers) = names(&marker);
        // Nothing to give: no input types (GraphQL has no empty ones); one row at a time.
        assert_eq!(inputs, ["MarkerToMany"]);
        assert_eq!(resolvers, ["createMarker", "deleteMarker", "deleteMarkers"]);
        assert!(marker.resolvers[0].sdl.args.is_empty());
        let to_many: Vec<&str> = marker.inputs[0].fields.iter().map(|f| f.sdl.name.as_str()).collect();
        assert_eq!(to_many, ["connect", "disconnect", "set", "delete"]);
        let m = ir.model("Marker").unwrap();
        assert!(!m.has_create_input() && !m.has_update_input());
        // The input types the views make are the ones the IR says exist (nested creates rely on it).
        let blog = super::super::common::blog();
        for (ir, m) in ir.models.iter().map(|m| (&ir, m)).chain(blog.models.iter().map(|m| (&blog, m))) {
            let view = write_view(ir, m);
            let has = |name: String| view.inputs.iter().any(|i| i.name == name);
            assert_eq!(has(format!("Create{}Input", m.name)), m.has_create_input(), "{}", m.name);
            assert_eq!(has(format!("Update{}Input", m.name)), m.has_update_input(), "{}", m.name);
        }
        // A key the client gives is an input; there is still nothing to update.
        let (inputs, resolvers) = names(&write_view(&ir, ir.model("Badge").unwrap()));
        assert_eq!(inputs, ["CreateBadgeInput"]);
        assert_eq!(resolvers, ["createBadge", "createBadges", "deleteBadge", "deleteBadges"]);
        // A foreign key to it is given by key only: there is no nested create to offer.
        let note = write_view(&ir, ir.model("Note").unwrap());
        let create = note.inputs.iter().find(|i| i.name == "CreateNoteInput").unwrap();
        let fields: Vec<&str> = create.fields.iter().map(|f| f.sdl.name.as_str()).collect();
        assert_eq!(fields, ["markerId", "markers"]);
    }
}
