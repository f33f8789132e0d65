//! The generated smoke test: one row of every model created, read, listed, updated and deleted
//! over HTTP against the real server binary. Decided here; `tests/smoke.rs.j2` only places it.

use serde::Serialize;

use super::common::input_name;
use super::view::{CrateView, ModelView};
use crate::ir::{Field, FieldKind, Ir, PkKind, ScalarKind, TextFormat};

/// One model's part of the smoke test.
#[derive(Debug, Serialize)]
pub struct SmokeStep {
    pub model: String,
    /// Root field names: one row, a page, and the three mutations.
    pub one: String,
    pub list: String,
    pub create: String,
    /// The create mutation up to its selection: `mutation($input: …) { createPost(input: $input)`,
    /// or `mutation { createMarker` for a model created without an input.
    pub create_head: String,
    /// The create mutation's variables, a `json!` literal: `{"input": <input>}`, or `{}`.
    pub variables: String,
    /// Empty for a model with nothing to update.
    pub update: String,
    pub delete: String,
    /// Selection set naming every field of the type (relations select their `id`).
    pub selection: String,
    /// A `serde_json::json!` object literal for the create input; `ids["Model"]` is the key of
    /// the row created earlier for that model.
    pub input: String,
}

/// Steps in creation order (every required foreign key's target first), and the models that
/// cannot be created because their required foreign keys form a cycle.
pub fn plan(ir: &Ir, view: &CrateView) -> (Vec<SmokeStep>, Vec<String>) {
    let mut done: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    let mut pending: Vec<&crate::ir::Model> = ir.models.iter().collect();
    // Manifest order among the models whose required targets exist: deterministic.
    while let Some(pos) = pending.iter().position(|m| required_targets(m).all(|t| done.iter().any(|d| d == t))) {
        let m = pending.remove(pos);
        let mv = view.models.iter().find(|v| v.name == m.name).expect("a view for every model");
        steps.push(step(ir, m, mv));
        done.push(m.name.clone());
    }
    (steps, pending.iter().map(|m| m.name.clone()).collect())
}

/// Targets of non-nullable foreign keys (a nullable key is left null). A required key to the
/// model itself can never be satisfied by a first row, so such a model is never ready.
fn required_targets(m: &crate::ir::Model) -> impl Iterator<Item = &String> {
    let fks = m.fields.iter().filter_map(move |f| match &f.kind {
        FieldKind::ForeignKey { target, .. } if !f.nullable => Some(target),
        _ => None,
    });
    fks.chain(m.parent.iter().map(|p| &p.target))
}

fn step(ir: &Ir, m: &crate::ir::Model, mv: &ModelView) -> SmokeStep {
    let models: Vec<&str> = ir.models.iter().map(|m| m.name.as_str()).collect();
    // Hidden and write-only fields are in no output type.
    let hidden: Vec<String> = m.fields.iter().filter(|f| !f.readable()).flat_map(|f| [f.graphql_name.clone(), input_name(f)]).collect();
    let selection = mv
        .resolvers
        .iter()
        .filter(|r| !hidden.contains(&r.sdl.name))
        .map(|r| {
            let base = r.sdl.ty.trim_matches(|c| c == '[' || c == ']' || c == '!');
            if base.strip_suffix("Connection").is_some_and(|n| models.contains(&n)) {
                return format!("{}(first: 1) {{ totalCount edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage }} }}", r.sdl.name);
            }
            match (models.contains(&base), r.sdl.args.is_empty()) {
                (false, _) => r.sdl.name.clone(),
                (true, true) => format!("{} {{ id }}", r.sdl.name),
                (true, false) => format!("{}(limit: 1) {{ id }}", r.sdl.name),
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let input = m
        .fields
        .iter()
        .filter(|f| m.needed_on_create(f))
        .filter_map(|f| {
            let value = match (&f.kind, &m.parent) {
                // A key linked to another model's row is the key of the row created for that model.
                (FieldKind::PrimaryKey(_), Some(link)) => Some(format!("ids[{:?}]", link.target)),
                _ => sample(f),
            };
            value.map(|v| format!("{:?}: {v}", input_name(f)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let field =
        |prefix: &str| mv.write.resolvers.iter().find(|r| r.sdl.name.starts_with(prefix)).map(|r| r.sdl.name.clone()).unwrap_or_default();
    let create = field("create");
    let input = format!("{{{input}}}");
    let (create_head, variables) = match m.has_create_input() {
        true => (format!("mutation($input: Create{}Input!) {{ {create}(input: $input)", m.name), format!("{{\"input\": {input}}}")),
        false => (format!("mutation {{ {create}"), "{}".to_string()),
    };
    SmokeStep {
        create_head,
        model: m.name.clone(),
        one: mv.query_resolvers[0].sdl.name.clone(),
        list: mv.query_resolvers[1].sdl.name.clone(),
        create,
        update: field("update"),
        delete: field("delete"),
        selection,
        input,
        variables,
    }
}

/// A valid input value for a required field, as a `json!` value expression.
fn sample(f: &Field) -> Option<String> {
    let r = &f.rules;
    if let Some(first) = r.choices.first() {
        return Some(format!("{first:?}"));
    }
    Some(match &f.kind {
        // Only keys the client gives reach here; a linked one is handled by the caller.
        FieldKind::PrimaryKey(PkKind::Integer { .. }) => r.min.clone().unwrap_or_else(|| "1".into()),
        FieldKind::PrimaryKey(_) => format!("{:?}", text_sample(r, "ab")),
        FieldKind::ForeignKey { target, .. } => format!("ids[{target:?}]"),
        FieldKind::Scalar(s) => match s {
            ScalarKind::Integer | ScalarKind::BigInteger => r.min.clone().unwrap_or_else(|| "1".into()),
            ScalarKind::Float => r.min.clone().unwrap_or_else(|| "1.5".into()),
            ScalarKind::Decimal { .. } => format!("{:?}", r.min.clone().unwrap_or_else(|| "0".into())),
            ScalarKind::Boolean => "true".into(),
            ScalarKind::String { format, .. } => format!(
                "{:?}",
                text_sample(
                    r,
                    match format {
                        TextFormat::Plain => "s",
                        TextFormat::Email => "a@b.io",
                        TextFormat::Url => "http://a.io",
                        TextFormat::Slug => "s",
                    }
                )
            ),
            ScalarKind::Text => format!("{:?}", text_sample(r, "sample text")),
            ScalarKind::Date => "\"2024-01-31\"".into(),
            ScalarKind::DateTime => "\"2024-01-31T10:00:00+00:00\"".into(),
            ScalarKind::Time => "\"10:00:00\"".into(),
            ScalarKind::Uuid => "\"67e55044-10b1-426f-9247-bb680e5fe0c8\"".into(),
            ScalarKind::Json => "{\"k\": [1, 2]}".into(),
            ScalarKind::Enum { values, .. } => format!("{:?}", values[0].to_uppercase()),
        },
    })
}

/// A text value that satisfies the field's length and pattern rules, when a simple one does.
fn text_sample(r: &crate::ir::Rules, plain: &str) -> String {
    let pad = |s: &str| {
        let mut s = s.to_string();
        while s.chars().count() < r.min_length.unwrap_or(0) as usize {
            s.push('s');
        }
        s
    };
    let Some(pattern) = r.pattern.as_deref().and_then(|p| regex_lite::Regex::new(p).ok()) else { return pad(plain) };
    [plain, "s", "sample", "a1", "S", "1", "a-b", "A1"].iter().map(|c| pad(c)).find(|c| pattern.is_match(c)).unwrap_or_else(|| pad(plain))
}

#[cfg(test)]
mod tests {
    use super::super::{common::blog, crate_view::crate_view};
    use super::*;

    #[test]
    fn the_smoke_test_creates_targets_first_and_fills_required_fields_only() {
        let ir = blog();
        let view = crate_view(&ir);
        let (steps, skipped) = plan(&ir, &view);
        assert!(skipped.is_empty());
        let order: Vec<&str> = steps.iter().map(|s| s.model.as_str()).collect();
        assert!(order.iter().position(|m| *m == "Author") < order.iter().position(|m| *m == "Post"), "{order:?}");
        let post = steps.iter().find(|s| s.model == "Post").unwrap();
        assert_eq!(post.input, "{\"authorId\": ids[\"Author\"], \"title\": \"s\", \"slug\": \"s\"}");
        assert_eq!((post.one.as_str(), post.create.as_str(), post.delete.as_str()), ("post", "createPost", "deletePost"));
        assert!(post.selection.contains("tagsConnection(first: 1) { totalCount"), "{}", post.selection);
    }
}
