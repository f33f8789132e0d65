//! Changes to who may do what: roles, grants per model and operation, row rules and checks, and
//! what each role's schema lost. Loosening (a new grant, a rule removed) is dangerous: review who
//! can now see or change what; tightening (a grant or role removed, a rule added) breaks the
//! callers of that role.

use super::change::{Change, ChangeKind, Level, Scope};
use crate::codegen::roles::role_sdl;
use crate::codegen::view::crate_view;
use crate::ir::{Grant, Ir, Permission};

fn change(kind: ChangeKind, at: String, level: Level, reason: &str) -> Change {
    Change::new(kind, Scope::Permissions, at, level, reason)
}

/// The permission changes from `old` to `new`; `api` are the changes already found in the full
/// schema (a role's schema repeats them, so they are not reported again per role).
pub fn diff(old: &Ir, new: &Ir, api: &[Change]) -> Vec<Change> {
    let mut out = Vec::new();
    let names = |ir: &Ir| ir.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    match (old.roles.is_empty(), new.roles.is_empty()) {
        (true, true) => return out,
        (true, false) => {
            let c = change(
                ChangeKind::AccessControlAdded,
                "roles".into(),
                Level::Breaking,
                "callers lose whatever the new grants do not give them",
            );
            out.push(c.values(None, Some(names(new).join(", "))));
            return out;
        }
        (false, true) => {
            out.push(change(
                ChangeKind::AccessControlRemoved,
                "roles".into(),
                Level::Dangerous,
                "every caller may now read and write every row",
            ));
            return out;
        }
        (false, false) => {}
    }
    for role in &old.roles {
        if !new.roles.iter().any(|r| r.name == role.name) {
            out.push(change(ChangeKind::RoleRemoved, role.name.clone(), Level::Breaking, "tokens and API keys of this role are refused"));
        }
    }
    for role in &new.roles {
        if !old.roles.iter().any(|r| r.name == role.name) {
            out.push(change(ChangeKind::RoleAdded, role.name.clone(), Level::Dangerous, "review what the new role may read and write"));
        }
    }
    let (old_view, new_view) = (crate_view(old), crate_view(new));
    for role in new.roles.iter().filter(|r| old.roles.iter().any(|o| o.name == r.name)) {
        for m in &new.models {
            let Some(before) = old.model(&m.name) else { continue };
            let none = Permission::default();
            let (a, b) = (before.permission(&role.name).unwrap_or(&none), m.permission(&role.name).unwrap_or(&none));
            for (op, x, y) in [
                ("read", &a.read, &b.read),
                ("create", &a.create, &b.create),
                ("update", &a.update, &b.update),
                ("delete", &a.delete, &b.delete),
            ] {
                grant(&mut out, &format!("{}.{}.{op}", m.name, role.name), x.as_ref(), y.as_ref());
            }
        }
        // What the role's schema lost or gained beyond the full schema's changes.
        let (Ok(before), Ok(after)) =
            (super::schema::parse(&role_sdl(old, &old_view, &role.name)), super::schema::parse(&role_sdl(new, &new_view, &role.name)))
        else {
            continue;
        };
        for c in super::api::diff(&before, &after) {
            if api.iter().any(|a| a.kind == c.kind && a.coordinate == c.coordinate) || c.level() == Level::Safe {
                continue;
            }
            let level = c.level();
            let reason = format!("for callers of role `{}`: {}", role.name, c.criticality.reason);
            out.push(
                change(ChangeKind::RoleSchemaChanged, c.coordinate.clone(), level, &reason)
                    .values(Some(c.message.clone()), Some(format!("`{}`", role.name))),
            );
        }
    }
    out
}

fn grant(out: &mut Vec<Change>, at: &str, old: Option<&Grant>, new: Option<&Grant>) {
    let text = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    match (old, new) {
        (None, None) => {}
        (Some(_), None) => {
            out.push(change(ChangeKind::GrantRemoved, at.into(), Level::Breaking, "callers of the role lose this operation"))
        }
        (None, Some(_)) => {
            out.push(change(ChangeKind::GrantAdded, at.into(), Level::Dangerous, "review which rows the role may now reach"))
        }
        (Some(a), Some(b)) => {
            for (what, x, y) in [("", &a.condition, &b.condition), (".check", &a.check, &b.check)] {
                let at = format!("{at}{what}");
                match (text(x), text(y)) {
                    (None, Some(y)) => out.push(
                        change(ChangeKind::RowRuleAdded, at, Level::Breaking, "rows the role reached before may now be out of its reach")
                            .values(None, Some(y)),
                    ),
                    (Some(x), None) => out.push(
                        change(ChangeKind::RowRuleRemoved, at, Level::Dangerous, "the role now reaches every row").values(Some(x), None),
                    ),
                    (Some(x), Some(y)) if x != y => out.push(
                        change(ChangeKind::RowRuleChanged, at, Level::Dangerous, "review which rows the role reaches now")
                            .values(Some(x), Some(y)),
                    ),
                    _ => {}
                }
            }
        }
    }
}
