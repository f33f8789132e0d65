//! The generated permission matrix test (`tests/permission_matrix.rs`): for every role, the root fields
//! and object fields its schema must have, and every model it reads, so the test can check over
//! HTTP that the server serves each caller its role's schema and that every read path (lists,
//! lookups, pages, counts, aggregates, relations) agrees on which rows the role sees. Decided here;
//! the template only places it.

use serde::Serialize;
use serde_json::{json, Value};

use super::roles::RoleView;
use super::sdl::Visible;
use super::view::CrateView;
use crate::ir::names::root_fields;
use crate::ir::Ir;

/// One role's expectations.
#[derive(Debug, Serialize)]
struct RoleCase {
    role: String,
    /// Whether the role is reached with a token (every role but the anonymous one).
    token: bool,
    query: Vec<String>,
    mutation: Vec<String>,
    /// Readable models: their object fields and the root fields that read them.
    reads: Vec<Value>,
}

/// The test's data as JSON: `{"roles": [...], "anonymous_served": bool}`.
pub fn matrix(ir: &Ir, view: &CrateView) -> String {
    let roles: Vec<Option<&str>> = if ir.roles.is_empty() { vec![None] } else { ir.roles.iter().map(|r| Some(r.name.as_str())).collect() };
    let models: Vec<&str> = ir.models.iter().map(|m| m.name.as_str()).collect();
    let mut cases = Vec::new();
    for role in roles {
        let visible = RoleView::new(ir, role);
        let (mut query, mut mutation) = (Vec::new(), Vec::new());
        let mut reads = Vec::new();
        for m in &ir.models {
            let mv = view.models.iter().find(|v| v.name == m.name).expect("a view for every model");
            let names = root_fields(m);
            let root = |kind: &str| names.iter().find(|(_, k, _)| *k == kind).map(|(n, _, _)| n.clone());
            for r in &mv.query_resolvers {
                if visible.field("Query", &r.sdl.name) {
                    query.push(r.sdl.name.clone());
                }
            }
            for r in &mv.write.resolvers {
                if visible.field("Mutation", &r.sdl.name) {
                    mutation.push(r.sdl.name.clone());
                }
            }
            let Some(list) = root("List").filter(|l| query.contains(l)) else { continue };
            let fields: Vec<&super::common::Resolver> = mv.resolvers.iter().filter(|r| visible.field(&m.name, &r.sdl.name)).collect();
            // Relation fields the role may follow: their target and whether they are lists.
            let relations: Vec<Value> = fields
                .iter()
                .filter_map(|r| {
                    let base = r.sdl.ty.trim_matches(|c| c == '[' || c == ']' || c == '!');
                    models.contains(&base).then(
                        || json!({"field": r.sdl.name, "target": base, "list": r.sdl.ty.starts_with('['), "args": !r.sdl.args.is_empty()}),
                    )
                })
                .collect();
            reads.push(json!({
                "model": m.name,
                "fields": fields.iter().map(|r| r.sdl.name.clone()).collect::<Vec<_>>(),
                "one": root("One").filter(|n| query.contains(n)),
                "list": list,
                "connection": root("Connection").filter(|n| query.contains(n)),
                "aggregate": root("Aggregate").filter(|n| query.contains(n)),
                "relations": relations,
            }));
        }
        query.sort();
        mutation.sort();
        let name = role.unwrap_or(&ir.auth.anonymous_role).to_string();
        let token = name != ir.auth.anonymous_role;
        cases.push(RoleCase { role: name, token, query, mutation, reads });
    }
    let anonymous_served = ir.roles.is_empty() || ir.roles.iter().any(|r| r.name == ir.auth.anonymous_role);
    serde_json::to_string_pretty(&json!({ "roles": cases, "anonymous_served": anonymous_served })).expect("JSON values serialize")
}

#[cfg(test)]
mod tests {
    use super::super::crate_view::crate_view;
    use super::*;

    fn cases(source: &str) -> Value {
        let ir = super::super::common::ir_of(source);
        serde_json::from_str(&matrix(&ir, &crate_view(&ir))).expect("the matrix is JSON")
    }

    fn role<'a>(m: &'a Value, name: &str) -> &'a Value {
        m["roles"].as_array().unwrap().iter().find(|r| r["role"] == name).unwrap_or_else(|| panic!("role {name}"))
    }

    #[test]
    fn each_role_expects_only_what_its_grants_name() {
        let m = cases(
            "version: 1\nname: shop\nroles:\n  anonymous: {}\n  admin: { all: true }\nmodels:\n  \
             Item:\n    fields: { id: auto, name: string, cost: { type: integer, default: 0 } }\n    \
             permissions:\n      anonymous: { read: { columns: [id, name] } }\n  \
             Note:\n    fields: { id: auto, body: text }\n",
        );
        assert_eq!(m["anonymous_served"], true);
        let anonymous = role(&m, "anonymous");
        assert_eq!(anonymous["token"], false);
        assert_eq!(anonymous["mutation"], json!([]));
        let query: Vec<&str> = anonymous["query"].as_array().unwrap().iter().map(|q| q.as_str().unwrap()).collect();
        assert!(query.contains(&"items") && query.contains(&"item"), "{query:?}");
        assert!(!query.iter().any(|q| q.starts_with("note")), "no grant on notes: {query:?}");
        let reads = anonymous["reads"].as_array().unwrap();
        assert_eq!(reads.len(), 1, "{reads:?}");
        assert_eq!(reads[0]["model"], "Item");
        assert_eq!(reads[0]["fields"], json!(["id", "name"]));

        let admin = role(&m, "admin");
        assert_eq!(admin["token"], true);
        let mutations = admin["mutation"].as_array().unwrap();
        assert!(mutations.contains(&json!("createNote")) && mutations.contains(&json!("deleteItems")), "{mutations:?}");
        assert_eq!(admin["reads"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn relations_a_role_may_follow_are_listed_with_their_target() {
        let ir = super::super::common::blog();
        let m: Value = serde_json::from_str(&matrix(&ir, &crate_view(&ir))).unwrap();
        assert_eq!(m["roles"].as_array().unwrap().len(), 1, "no roles: one case, every caller");
        let post = m["roles"][0]["reads"].as_array().unwrap().iter().find(|r| r["model"] == "Post").unwrap();
        let relations = post["relations"].as_array().unwrap();
        assert!(relations.contains(&json!({"field": "author", "target": "Author", "list": false, "args": false})), "{relations:?}");
        assert!(relations.iter().any(|r| r["field"] == "tags" && r["target"] == "Tag" && r["list"] == true), "{relations:?}");
        assert_eq!(post["connection"], "postsConnection");
    }
}
