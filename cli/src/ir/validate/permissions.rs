//! Roles and per-model permissions: names resolved, row conditions checked against the models
//! and rewritten into the API's `where` language (GraphQL names), so the runtime interprets them
//! with the same code that reads a client's `where`.

use serde_json::Value;

use super::*;
use crate::manifest::raw::{RawGrant, RawGrants};

fn grants_write(p: &Permission) -> bool {
    p.create.is_some() || p.update.is_some() || p.delete.is_some()
}

/// Makes `model`'s unique keys hold within each tenant: the tenant column (field `tenant`) joins
/// every unique value field, `unique_together` group and unique index that lacks it. Unique
/// foreign keys (one-to-one links) stay as they are: their target rows have tenants of their own.
fn per_tenant(model: &mut Model, tenant: usize) {
    let column = model.fields[tenant].column.clone();
    let scoped = |columns: &[String]| -> Vec<String> { std::iter::once(column.clone()).chain(columns.iter().cloned()).collect() };
    for i in 0..model.fields.len() {
        let f = &model.fields[i];
        if i == tenant || !f.unique || matches!(f.kind, FieldKind::PrimaryKey(_) | FieldKind::ForeignKey { .. }) {
            continue;
        }
        let group = scoped(std::slice::from_ref(&f.column));
        model.fields[i].unique = false;
        if !model.unique_together.contains(&group) {
            model.unique_together.push(group);
        }
    }
    for group in model.unique_together.iter_mut().filter(|g| !g.contains(&column)) {
        *group = scoped(group);
    }
    for index in model.indexes.iter_mut().filter(|i| i.unique && !i.columns.contains(&column)) {
        index.columns = scoped(&index.columns);
    }
}

impl Validator<'_> {
    /// The declared roles.
    pub(super) fn roles(&mut self, raw: &RawManifest, _auth: &AuthSettings) -> Vec<Role> {
        let mut roles = Vec::new();
        for (name, role) in &raw.roles {
            if !names::claim_name_ok(name) {
                self.error(
                    Code::Permission,
                    self.key(&["roles", name]),
                    format!("`{name}` is not a role name"),
                    "use letters, digits, `_`, `-`, `.`, `:` or `/` (up to 100 characters)",
                );
            }
            roles.push(Role { name: name.clone(), description: role.description.clone(), all: role.all });
        }
        roles
    }

    /// Each model's grants per role; an error for every name that does not resolve.
    pub(super) fn permissions(&mut self, raw: &RawManifest, roles: &[Role], built: &mut [Model]) {
        let models: Vec<Model> = built.to_vec();
        for model in built.iter_mut() {
            let Some(raw_model) = raw.models.get(&model.name) else { continue };
            let name = model.name.clone();
            if roles.is_empty() {
                if !raw_model.permissions.is_empty() {
                    self.error(
                        Code::Permission,
                        self.key(&["models", &name, "permissions"]),
                        format!("model `{name}` has permissions but the manifest declares no roles"),
                        "declare the roles under the top-level `roles:` (e.g. `roles: {anonymous: {}, admin: {all: true}}`)",
                    );
                }
                continue;
            }
            let mut permissions = Vec::new();
            for (role, grants) in &raw_model.permissions {
                let path = ["models", name.as_str(), "permissions", role.as_str()];
                if !roles.iter().any(|r| &r.name == role) {
                    let known: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
                    let help = did_you_mean(role, known.iter().copied()).unwrap_or_else(|| format!("declared roles: {}", known.join(", ")));
                    self.error(Code::Permission, self.key(&path), format!("`{role}` is not a declared role"), help);
                    continue;
                }
                let permission = match grants {
                    RawGrants::All(word) if word == "all" => Permission::all(role),
                    RawGrants::All(word) => {
                        self.error(
                            Code::Permission,
                            self.value(&path),
                            format!("`{word}` is not a grant"),
                            "write `all`, or a map of operations: `read`, `create`, `update`, `delete`",
                        );
                        continue;
                    }
                    RawGrants::Each(set) => Permission {
                        role: role.clone(),
                        read: self.grant(&path, "read", set.read.as_ref(), model, &models),
                        create: self.grant(&path, "create", set.create.as_ref(), model, &models),
                        update: self.grant(&path, "update", set.update.as_ref(), model, &models),
                        delete: self.grant(&path, "delete", set.delete.as_ref(), model, &models),
                    },
                };
                if grants_write(&permission) && permission.read.is_none() {
                    self.error(
                        Code::Permission,
                        self.key(&path),
                        format!("role `{role}` may write `{name}` but not read it"),
                        "grant `read` too: a role reads the rows it writes (mutations return them)",
                    );
                }
                permissions.push(permission);
            }
            for role in roles.iter().filter(|r| r.all) {
                if !permissions.iter().any(|p| p.role == role.name) {
                    permissions.push(Permission::all(&role.name));
                }
            }
            // Declared order, so the generated tables do not depend on the manifest's key order.
            permissions.sort_by_key(|p| roles.iter().position(|r| r.name == p.role));
            model.permissions = permissions;
        }
        if let Some(tenant) = &raw.tenant {
            self.tenant(tenant, roles, built);
        }
        self.creatable(roles, built);
        for role in roles {
            if !built.iter().any(|m| m.permission(&role.name).is_some_and(|p| p.read.is_some())) {
                self.error(
                    Code::Permission,
                    self.key(&["roles", &role.name]),
                    format!("role `{}` may read no model", role.name),
                    "grant it `read` on at least one model, or remove the role (callers of an undeclared role are refused)",
                );
            }
        }
    }

    /// Refuses a `create` grant that cannot give a field every row needs (not nullable, no
    /// default, not numbered by the database, not preset): each create of that role would fail.
    fn creatable(&mut self, roles: &[Role], built: &[Model]) {
        for model in built {
            for p in &model.permissions {
                let Some(grant) = &p.create else { continue };
                let all = roles.iter().any(|r| r.name == p.role && r.all);
                for (i, f) in model.fields.iter().enumerate() {
                    if model.needed_on_create(f) && !grant.gives(f, i, all) && !grant.preset.iter().any(|(x, _)| *x == i) {
                        let why = if f.hidden && grant.columns.is_none() {
                            " (hidden fields are given only where `columns` names them)"
                        } else {
                            ""
                        };
                        self.error(
                            Code::Permission,
                            self.key(&["models", &model.name, "permissions", &p.role, "create"]),
                            format!(
                                "role `{}` may create `{}` rows but may not give `{}`, which every row needs{why}",
                                p.role, model.name, f.name
                            ),
                            format!("add `{}` to the create `columns`, preset it from a claim, or give the field a default", f.name),
                        );
                    }
                }
            }
        }
    }

    /// Applies the tenant key to every model that has the field, for every role without `all`.
    fn tenant(&mut self, tenant: &crate::manifest::raw::RawTenant, roles: &[Role], built: &mut [Model]) {
        if roles.is_empty() {
            self.error(
                Code::Permission,
                self.key(&["tenant"]),
                "`tenant` needs roles: it limits what each role sees".into(),
                "declare the roles under the top-level `roles:`",
            );
            return;
        }
        if !names::claim_name_ok(&tenant.claim) {
            self.error(
                Code::Permission,
                self.value(&["tenant", "claim"]),
                format!("`{}` is not a claim name", tenant.claim),
                "use letters, digits, `_`, `-`, `.`, `:` or `/` (up to 100 characters)",
            );
        }
        let claim = serde_json::json!({ "claim": tenant.claim });
        let mut found = false;
        for model in built.iter_mut() {
            let Some(index) = model.fields.iter().position(|f| f.name == tenant.field) else { continue };
            found = true;
            if tenant.unique == crate::manifest::raw::TenantUnique::PerTenant {
                per_tenant(model, index);
            }
            let f = &model.fields[index];
            let cond = match &f.kind {
                FieldKind::ForeignKey { .. } => serde_json::json!({ f.graphql_name.clone(): { "id": { "eq": claim } } }),
                _ => serde_json::json!({ f.graphql_name.clone(): { "eq": claim } }),
            };
            let and = |existing: &Option<Value>| -> Option<Value> {
                Some(match existing {
                    Some(c) => serde_json::json!({ "and": [c, cond] }),
                    None => cond.clone(),
                })
            };
            for p in model.permissions.iter_mut() {
                if roles.iter().any(|r| r.name == p.role && r.all) {
                    continue;
                }
                for g in [&mut p.read, &mut p.update, &mut p.delete].into_iter().flatten() {
                    g.condition = and(&g.condition);
                }
                if let Some(g) = &mut p.update {
                    // Rows stay in the caller's tenant.
                    g.check = and(&g.check);
                    if let Some(columns) = &mut g.columns {
                        columns.retain(|&c| c != index);
                    }
                }
                if let Some(g) = &mut p.create {
                    if !g.preset.iter().any(|(i, _)| *i == index) {
                        g.preset.push((index, tenant.claim.clone()));
                    }
                    if let Some(columns) = &mut g.columns {
                        columns.retain(|&c| c != index);
                    }
                }
            }
        }
        if !found {
            self.error(
                Code::Permission,
                self.value(&["tenant", "field"]),
                format!("no model has a field `{}`", tenant.field),
                "name the field (a foreign key or a value) that holds each row's tenant",
            );
        }
    }

    fn grant(&mut self, path: &[&str; 4], op: &str, raw: Option<&RawGrant>, model: &Model, models: &[Model]) -> Option<Grant> {
        let spec = match raw? {
            RawGrant::Flag(false) => return None,
            RawGrant::Flag(true) => return Some(Grant::default()),
            RawGrant::Limited(spec) => spec,
        };
        let at =
            |key: &'static str| -> Vec<String> { path.iter().map(|s| s.to_string()).chain([op.to_string(), key.to_string()]).collect() };
        let mut grant = Grant::default();
        if let Some(cond) = &spec.condition {
            if op == "create" {
                self.error(
                    Code::Permission,
                    self.key_of(&at("where")),
                    format!("`create` of `{}` has no `where`: a new row is not there yet", model.name),
                    "use `check` for a condition created rows must satisfy",
                );
            } else {
                grant.condition = self.condition(&at("where"), cond, model, models);
            }
        }
        if let Some(check) = &spec.check {
            if matches!(op, "create" | "update") {
                grant.check = self.condition(&at("check"), check, model, models);
            } else {
                self.error(
                    Code::Permission,
                    self.key_of(&at("check")),
                    format!("`{op}` takes no `check`"),
                    "`check` applies to the rows `create` and `update` write; use `where` to limit the rows",
                );
            }
        }
        if let Some(columns) = &spec.columns {
            let mut indexes = Vec::new();
            for (i, column) in columns.iter().enumerate() {
                let mut item = at("columns");
                item.push(i.to_string());
                match model.fields.iter().position(|f| &f.name == column) {
                    Some(index) if op == "read" && !model.fields[index].readable() => self.error(
                        Code::Permission,
                        self.value_of(&item),
                        format!(
                            "field `{column}` of `{}` is {}: no role reads it",
                            model.name,
                            if model.fields[index].hidden { "hidden" } else { "write-only" }
                        ),
                        "remove it from the read columns, or remove the flag from the field",
                    ),
                    Some(index) => indexes.push(index),
                    None => {
                        let known: Vec<String> = model.fields.iter().map(|f| f.name.clone()).collect();
                        let strs: Vec<&str> = item.iter().map(String::as_str).collect();
                        self.unknown_field(&strs, &model.name, column, &known);
                    }
                }
            }
            if op == "delete" {
                self.error(
                    Code::Permission,
                    self.key_of(&at("columns")),
                    "`delete` takes no `columns`: it removes whole rows".into(),
                    "remove `columns` here",
                );
            }
            // The key identifies the rows the role reads (lookups, relations, cursors): always readable.
            if op == "read" && !indexes.contains(&model.pk) {
                indexes.insert(0, model.pk);
            }
            grant.columns = Some(indexes);
        }
        for (field, claim) in &spec.preset {
            let mut item = at("preset");
            item.push(field.clone());
            if op != "create" {
                self.error(
                    Code::Permission,
                    self.key_of(&item),
                    format!("`{op}` takes no `preset`"),
                    "presets set fields of rows being created; use `check` to limit what an update may write",
                );
                continue;
            }
            if !names::claim_name_ok(claim) {
                self.error(
                    Code::Permission,
                    self.value_of(&item),
                    format!("`{claim}` is not a claim name"),
                    "use letters, digits, `_`, `-`, `.`, `:` or `/` (up to 100 characters)",
                );
            }
            match model.fields.iter().position(|f| &f.name == field) {
                Some(index) if matches!(model.fields[index].kind, FieldKind::PrimaryKey(k) if k.is_generated()) => self.error(
                    Code::Permission,
                    self.key_of(&item),
                    format!("`{field}` is numbered by the database; it cannot be preset"),
                    "preset a foreign key or a value field",
                ),
                Some(index) => {
                    if grant.columns.as_ref().is_some_and(|c| c.contains(&index)) {
                        self.error(
                            Code::Permission,
                            self.key_of(&item),
                            format!("`{field}` is both preset and in `columns`"),
                            "a preset field leaves the role's input; remove it from `columns`",
                        );
                    }
                    grant.preset.push((index, claim.clone()));
                }
                None => {
                    let known: Vec<String> = model.fields.iter().map(|f| f.name.clone()).collect();
                    let strs: Vec<&str> = item.iter().map(String::as_str).collect();
                    self.unknown_field(&strs, &model.name, field, &known);
                }
            }
        }
        Some(grant)
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{check_source, DiagFormat};
    use crate::manifest::Format;

    const TENANTS: &str = r#"
version: 1
name: crm
roles:
  member: {}
  admin: { all: true }
tenant: { field: org, claim: org_id }
models:
  Org:
    fields: { id: auto, name: string }
    permissions:
      member: { read: { where: { id: { eq: { claim: org_id } } } } }
  Contact:
    fields:
      id: auto
      org: { type: foreign_key, to: Org, on_delete: cascade }
      name: string
    permissions:
      member:
        read: { where: { name: { ne: "" } } }
        create: { columns: [org, name] }
        update: true
        delete: true
"#;

    #[test]
    fn a_tenant_key_limits_every_grant_of_every_model_with_the_field() {
        let checked = check_source("crm.yaml", TENANTS.to_string(), Format::Yaml);
        let shown = checked.render(DiagFormat::Short);
        let ir = checked.ir.unwrap_or_else(|| panic!("{shown}"));
        let contact = ir.model("Contact").unwrap();
        let member = contact.permission("member").unwrap();
        let tenant = serde_json::json!({"org": {"id": {"eq": {"claim": "org_id"}}}});
        let read = member.read.as_ref().unwrap().condition.clone().unwrap();
        assert_eq!(read, serde_json::json!({"and": [{"name": {"ne": ""}}, tenant]}));
        for g in [&member.update, &member.delete] {
            assert_eq!(g.as_ref().unwrap().condition.as_ref(), Some(&tenant));
        }
        assert_eq!(member.update.as_ref().unwrap().check.as_ref(), Some(&tenant), "updated rows stay in the tenant");
        let create = member.create.as_ref().unwrap();
        assert_eq!(create.preset, [(1, "org_id".to_string())]);
        assert_eq!(create.columns, Some(vec![2]), "the tenant key leaves the input");
        // Roles with `all` and models without the field are untouched.
        assert!(contact.permission("admin").unwrap().read.as_ref().unwrap().condition.is_none());
        assert_eq!(
            ir.model("Org").unwrap().permission("member").unwrap().read.as_ref().unwrap().condition,
            Some(serde_json::json!({"id": {"eq": {"claim": "org_id"}}}))
        );
    }

    #[test]
    fn unique_keys_of_tenant_models_hold_per_tenant_unless_declared_global() {
        let text = TENANTS.replace(
            "      name: string\n    permissions:\n      member:\n        read:",
            "      name: string\n      email: { type: email, unique: true, nullable: true }\n      code: { type: string, nullable: true }\n      rank: { type: integer, nullable: true }\n    unique_together: [[code, rank]]\n    indexes: [{ fields: [rank], unique: true }]\n    permissions:\n      member:\n        read:",
        );
        assert_ne!(text, TENANTS);
        let checked = check_source("crm.yaml", text.clone(), Format::Yaml);
        let shown = checked.render(DiagFormat::Short);
        let ir = checked.ir.unwrap_or_else(|| panic!("{shown}"));
        let contact = ir.model("Contact").unwrap();
        let email = contact.fields.iter().find(|f| f.name == "email").unwrap();
        assert!(!email.unique, "a unique field becomes a group with the tenant");
        let strings = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(contact.unique_together, [strings(&["org_id", "code", "rank"]), strings(&["org_id", "email"])]);
        assert_eq!(contact.indexes.iter().find(|i| i.unique).unwrap().columns, strings(&["org_id", "rank"]));
        // Models without the field, and the tenant's own keys, are untouched.
        assert!(ir.model("Org").unwrap().unique_together.is_empty());

        let global = text.replace("tenant: { field: org, claim: org_id }", "tenant: { field: org, claim: org_id, unique: global }");
        let checked = check_source("crm.yaml", global, Format::Yaml);
        let shown = checked.render(DiagFormat::Short);
        let ir = checked.ir.unwrap_or_else(|| panic!("{shown}"));
        let contact = ir.model("Contact").unwrap();
        assert!(contact.fields.iter().find(|f| f.name == "email").unwrap().unique);
        assert_eq!(contact.unique_together, [strings(&["code", "rank"])]);
    }

    #[test]
    fn hidden_fields_are_given_only_where_named_and_required_ones_must_be() {
        let text = TENANTS.replace(
            "      name: string\n    permissions:\n      member:\n        read:",
            "      name: string\n      pin: { type: string, hidden: true }\n    permissions:\n      member:\n        read:",
        );
        let shown = check_source("crm.yaml", text.clone(), Format::Yaml).render(DiagFormat::Short);
        assert!(shown.contains("E601") && shown.contains("role `member` may create `Contact` rows but may not give `pin`"), "{shown}");
        let named = text.replace("create: { columns: [org, name] }", "create: { columns: [name, pin] }");
        let checked = check_source("crm.yaml", named.clone(), Format::Yaml);
        assert!(checked.ir.is_some(), "{}", checked.render(DiagFormat::Short));
        let write_only = text.replace("hidden: true", "write_only: true").replace("create: { columns: [org, name] }", "create: true");
        let checked = check_source("crm.yaml", write_only, Format::Yaml);
        assert!(checked.ir.is_some(), "a write-only field is given wherever a grant covers it: {}", checked.render(DiagFormat::Short));
        let both = named.replace("hidden: true", "hidden: true, write_only: true");
        let shown = check_source("crm.yaml", both, Format::Yaml).render(DiagFormat::Short);
        assert!(shown.contains("is both `hidden` and `write_only`"), "{shown}");
        let key = TENANTS.replace("fields: { id: auto, name: string }", "fields: { id: { type: auto, hidden: true }, name: string }");
        let shown = check_source("crm.yaml", key, Format::Yaml).render(DiagFormat::Short);
        assert!(shown.contains("the primary key `id` cannot be `hidden`"), "{shown}");
    }

    #[test]
    fn a_tenant_key_must_name_a_field_and_needs_roles() {
        let text = TENANTS.replace("field: org,", "field: organisation,");
        let shown = check_source("crm.yaml", text, Format::Yaml).render(DiagFormat::Short);
        assert!(shown.contains("E601") && shown.contains("no model has a field `organisation`"), "{shown}");
    }
}
