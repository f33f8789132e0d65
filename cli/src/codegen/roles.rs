//! Each role's view of the schema: the types, fields, arguments and enum values its grants let
//! it use (see `ir::Permission`). The server builds one schema per role from these, so what a
//! role may not use it cannot name: introspection and validation show only its part.

use std::collections::HashMap;

use super::common::{input_name, rust_field};
use super::sdl::{print_visible, Visible};
use super::view::CrateView;
use crate::ir::names::{self, to_screaming};
use crate::ir::{FieldKind, Grant, Ir, Model, Permission};

/// Which part of a model a type of the schema shows.
#[derive(Clone, Copy)]
enum Part {
    Object,
    Where,
    OrderBy,
    /// Types listing readable fields only (aggregates, group keys, having filters).
    Readable,
    /// Enums of field names (`PostField`, `PostGroupField`).
    FieldEnum,
    Create,
    Update,
}

/// The full schema (everything but hidden fields): what the schema of a crate without roles is.
pub fn full_sdl(ir: &Ir, view: &CrateView) -> String {
    print_visible(view, &RoleView::new(ir, None))
}

/// The schema `role` sees.
pub fn role_sdl(ir: &Ir, view: &CrateView, role: &str) -> String {
    print_visible(view, &RoleView::new(ir, Some(role)))
}

/// What a role sees (`None`: every role together, hidden fields still left out).
pub struct RoleView<'a> {
    ir: &'a Ir,
    role: Option<&'a str>,
    /// Every grant, for the full schema.
    all: Permission,
    /// Type name -> (model, part).
    types: HashMap<String, (&'a Model, Part)>,
    /// Root field name -> (model, operation).
    roots: HashMap<String, (&'a Model, &'static str)>,
}

impl<'a> RoleView<'a> {
    pub fn new(ir: &'a Ir, role: Option<&'a str>) -> RoleView<'a> {
        let mut types = HashMap::new();
        let mut roots = HashMap::new();
        for m in &ir.models {
            let n = &m.name;
            for (name, part) in [
                (n.clone(), Part::Object),
                (format!("{n}Where"), Part::Where),
                (format!("{n}OrderBy"), Part::OrderBy),
                (format!("{n}GroupKey"), Part::Readable),
                (format!("{n}AggregateNumbers"), Part::Readable),
                (format!("{n}AggregateBounds"), Part::Readable),
                (format!("{n}AggregateFilter"), Part::Readable),
                (format!("{n}Field"), Part::FieldEnum),
                (format!("{n}GroupField"), Part::FieldEnum),
                (format!("Create{n}Input"), Part::Create),
                (format!("Update{n}Input"), Part::Update),
            ] {
                types.insert(name, (m, part));
            }
            for (name, _, op) in names::root_fields(m) {
                roots.insert(name, (m, op));
            }
        }
        RoleView { ir, role, all: Permission::all("*"), types, roots }
    }

    fn permission(&self, m: &Model) -> Option<&Permission> {
        match self.role {
            None => Some(&self.all),
            Some(role) => self.ir.model(&m.name)?.permission(role),
        }
    }

    fn model(&self, name: &str) -> Option<&'a Model> {
        self.ir.model(name)
    }

    fn reads(&self, m: &Model) -> Option<&Grant> {
        self.permission(m)?.read.as_ref()
    }

    /// Whether the role reads the field at `index` of `m`.
    fn readable(&self, m: &Model, index: usize) -> bool {
        m.fields[index].readable() && self.reads(m).is_some_and(|g| g.covers(index))
    }

    /// Whether the role may write `target` rows in nested inputs: every write, without limits.
    fn nests(&self, target: &str) -> bool {
        let Some(p) = self.model(target).and_then(|m| self.permission(m)) else { return false };
        [&p.read, &p.create, &p.update, &p.delete].iter().all(|g| g.as_ref().is_some_and(Grant::unlimited))
    }

    /// The model a relation field `name` of `m` leads to.
    fn related(&self, m: &'a Model, name: &str) -> Option<&'a str> {
        let name = name.strip_suffix("Connection").filter(|_| !m.fields.iter().any(|f| f.graphql_name == name)).unwrap_or(name);
        if let Some(f) = m.fields.iter().find(|f| f.graphql_name == name) {
            if let FieldKind::ForeignKey { target, .. } = &f.kind {
                return Some(target);
            }
        }
        if let Some(link) = m.parent.as_ref().filter(|l| l.graphql_name == name) {
            return Some(&link.target);
        }
        if let Some(r) = m.many_to_many.iter().find(|r| r.graphql_name == name) {
            return Some(&r.target);
        }
        m.reverse.iter().find(|r| r.graphql_name == name).map(|r| r.source_model.as_str())
    }

    /// A field of a read-side type: a readable column, or a relation to a readable model.
    fn read_field(&self, m: &'a Model, name: &str) -> bool {
        if let Some(i) =
            m.fields.iter().position(|f| input_name(f) == name || f.graphql_name == name && !matches!(f.kind, FieldKind::ForeignKey { .. }))
        {
            return self.readable(m, i);
        }
        match self.related(m, name) {
            Some(target) => self.model(target).is_some_and(|t| self.reads(t).is_some()),
            // `and`, `or`, `not`, `nulls`: structure, not data.
            None => true,
        }
    }

    /// Whether the role reads every row of the model the relation `field` of `m` leads to.
    fn reads_every_row(&self, m: &'a Model, field: &str) -> bool {
        let Some(target) = self.related(m, field).and_then(|t| self.model(t)) else { return true };
        self.reads(target).is_some_and(|g| g.condition.is_none())
    }

    /// Whether `grant` lets the role give the field at `index` of `m`: a hidden field only when
    /// the grant's `columns` name it or the role has `all`.
    fn gives(&self, m: &Model, grant: &Grant, index: usize) -> bool {
        let all = self.role.is_none_or(|role| self.ir.roles.iter().any(|r| r.name == role && r.all));
        grant.gives(&m.fields[index], index, all)
    }

    /// A field of a create or update input under `grant`.
    fn write_field(&self, m: &'a Model, grant: Option<&Grant>, name: &str) -> bool {
        let Some(grant) = grant else { return false };
        let preset = |i: usize| grant.preset.iter().any(|(p, _)| *p == i);
        if let Some(i) = m.fields.iter().position(|f| input_name(f) == name) {
            return self.gives(m, grant, i) && !preset(i);
        }
        if let Some(i) = m.fields.iter().position(|f| f.graphql_name == name && matches!(f.kind, FieldKind::ForeignKey { .. })) {
            let FieldKind::ForeignKey { target, .. } = &m.fields[i].kind else { return false };
            return self.gives(m, grant, i) && !preset(i) && self.nests(target);
        }
        match self.related(m, name) {
            Some(target) => grant.columns.is_none() && self.nests(target),
            None => true,
        }
    }
}

impl Visible for RoleView<'_> {
    fn field(&self, ty: &str, field: &str) -> bool {
        if ty == "Query" || ty == "Mutation" {
            let Some((m, op)) = self.roots.get(field) else { return true };
            let Some(p) = self.permission(m) else { return false };
            return match *op {
                "read" => p.read.is_some(),
                "create" => p.create.is_some(),
                "update" => p.update.is_some(),
                "delete" => p.delete.is_some(),
                // An upsert may overwrite any field it names (`onConflict.update`): only for roles
                // that may update every field. Which rows it may update is checked when it runs.
                _ => p.create.is_some() && p.update.as_ref().is_some_and(|u| u.columns.is_none()),
            };
        }
        let Some((m, part)) = self.types.get(ty) else { return true };
        let p = self.permission(m);
        match part {
            // Ordering by a related row's field sorts by rows the role may not read when a
            // condition hides some of them: only through relations it reads without conditions.
            Part::OrderBy if self.related(m, field).is_some() => self.read_field(m, field) && self.reads_every_row(m, field),
            Part::Object | Part::Where | Part::OrderBy | Part::Readable => self.read_field(m, field),
            Part::FieldEnum => true,
            Part::Create => self.write_field(m, p.and_then(|p| p.create.as_ref()), field),
            Part::Update => self.write_field(m, p.and_then(|p| p.update.as_ref()), field),
        }
    }

    fn argument(&self, ty: &str, field: &str, arg: &str) -> bool {
        if arg != "search" || ty != "Query" {
            return true;
        }
        // Searching a field the role may not read would tell it what the field holds.
        let Some((m, _)) = self.roots.get(field) else { return true };
        m.search.iter().all(|&i| self.readable(m, i))
    }

    fn value(&self, ty: &str, value: &str) -> bool {
        match self.types.get(ty) {
            Some((m, Part::FieldEnum)) => match m.fields.iter().position(|f| to_screaming(&rust_field(f)) == value) {
                Some(i) => self.readable(m, i),
                None => true,
            },
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::crate_view::crate_view;
    use super::*;

    fn shop() -> Ir {
        let source = "version: 1\nname: shop\nroles:\n  reader: {}\n  admin: { all: true }\nmodels:\n  \
            Item:\n    fields: { id: auto, name: string, cost: { type: integer, default: 0 }, secret: { type: string, hidden: true, nullable: true } }\n    \
            permissions:\n      reader: { read: { columns: [id, name] } }\n  \
            Note:\n    fields: { id: auto, body: text }\n";
        let checked = crate::api::check_source("shop.yaml", source.to_string(), crate::manifest::Format::Yaml);
        let shown = checked.render(crate::api::DiagFormat::Short);
        checked.ir.unwrap_or_else(|| panic!("{shown}"))
    }

    /// The names of the fields of the object or input type `type_name` in `sdl`, as a GraphQL
    /// parser reads them (none when there is no such type).
    fn fields_of(sdl: &str, type_name: &str) -> Vec<String> {
        use async_graphql_parser::types::{TypeKind, TypeSystemDefinition};
        let doc = async_graphql_parser::parse_schema(sdl).expect("the SDL parses");
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else { continue };
            if t.node.name.node.as_str() != type_name {
                continue;
            }
            return match &t.node.kind {
                TypeKind::Object(o) => o.fields.iter().map(|f| f.node.name.node.to_string()).collect(),
                TypeKind::InputObject(i) => i.fields.iter().map(|f| f.node.name.node.to_string()).collect(),
                _ => Vec::new(),
            };
        }
        Vec::new()
    }

    #[test]
    fn a_role_sees_only_what_its_grants_name() {
        let ir = shop();
        let view = crate_view(&ir);
        let reader = role_sdl(&ir, &view, "reader");
        assert_eq!(fields_of(&reader, "Item"), ["id", "name"]);
        assert!(fields_of(&reader, "Note").is_empty(), "no grant on notes: the type is not in the reader's schema");
        let query = fields_of(&reader, "Query");
        assert!(query.contains(&"items".to_string()) && !query.iter().any(|f| f.starts_with("note")), "{query:?}");
        assert!(fields_of(&reader, "Mutation").is_empty(), "a reader writes nothing: {reader}");
        let admin = role_sdl(&ir, &view, "admin");
        assert_eq!(fields_of(&admin, "Item"), ["id", "name", "cost"], "hidden fields stay hidden from every role");
        assert!(fields_of(&admin, "CreateItemInput").contains(&"secret".to_string()), "a role with `all` writes hidden fields");
        assert!(!fields_of(&reader, "ItemWhere").contains(&"cost".to_string()), "a reader filters on what it reads only");
        assert!(fields_of(&admin, "Mutation").contains(&"createNote".to_string()));
    }

    #[test]
    fn the_full_schema_leaves_hidden_fields_out() {
        let ir = shop();
        let full = full_sdl(&ir, &crate_view(&ir));
        assert_eq!(fields_of(&full, "Item"), ["id", "name", "cost"]);
        assert!(fields_of(&full, "Query").contains(&"notes".to_string()));
    }
}
