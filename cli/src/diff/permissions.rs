//! Changes to who may do what: roles, grants per model and operation, row rules and checks, and
//! what each role's schema lost. Loosening (a new grant, a rule removed) is dangerous: review who
//! can now see or change what; tightening (a grant or role removed, a rule added) breaks the
//! callers of that role.

use super::change::{Change, ChangeKind, Level, Scope};
use crate::codegen::crate_view::crate_view;
use crate::codegen::roles::role_sdl;
use crate::ir::rules::{conjuncts, disjuncts};
use crate::ir::{Grant, Ir, Permission};
use serde_json::Value;

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
            if api.iter().any(|a| a.kind == c.kind && a.coordinate == c.coordinate) {
                continue;
            }
            // What the role's schema gains is safe for its clients but widens what the role may
            // read or give: dangerous here.
            let gained = matches!(
                c.kind,
                ChangeKind::FieldAdded
                    | ChangeKind::TypeAdded
                    | ChangeKind::InputFieldAddedOptional
                    | ChangeKind::ArgAddedOptional
                    | ChangeKind::EnumValueAdded
            );
            let (level, reason) = match c.level() {
                Level::Safe if gained => {
                    (Level::Dangerous, format!("role `{}` may now use it: review what its callers can read or give", role.name))
                }
                Level::Safe => continue,
                level => (level, format!("for callers of role `{}`: {}", role.name, c.criticality.reason)),
            };
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
                    (Some(xs), Some(ys)) if xs != ys => {
                        let (kind, level, reason) = match compare(x.as_ref().unwrap_or(&Value::Null), y.as_ref().unwrap_or(&Value::Null)) {
                            Some(Reach::Wider) => (
                                ChangeKind::RowRuleLoosened,
                                Level::Dangerous,
                                "the role now reaches more rows: review who can see or change them",
                            ),
                            Some(Reach::Narrower) => {
                                (ChangeKind::RowRuleTightened, Level::Breaking, "rows the role reached before are now out of its reach")
                            }
                            None => (ChangeKind::RowRuleChanged, Level::Dangerous, "review which rows the role reaches now"),
                        };
                        out.push(change(kind, at, level, reason).values(Some(xs), Some(ys)));
                    }
                    _ => {}
                }
            }
        }
    }
}

/// How a condition's rows compare with another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Wider,
    Narrower,
}

/// Whether `new` provably matches more rows than `old`, or fewer, as written: a condition with a
/// conjunct (`and`, or another key of the same map) fewer or an alternative (`or`) more is wider,
/// an `in` list with more values is wider (`eq` is a list of one; `notIn` the other way round).
/// `None`: neither can be told, or the conditions are unrelated.
fn compare(old: &Value, new: &Value) -> Option<Reach> {
    let (a, b) = (conjuncts(old), conjuncts(new));
    if a.len() > 1 || b.len() > 1 {
        if a != b && b.iter().all(|c| a.contains(c)) {
            return Some(Reach::Wider);
        }
        if a != b && a.iter().all(|c| b.contains(c)) {
            return Some(Reach::Narrower);
        }
        // One conjunct changed, the others kept: the change decides.
        let (only_a, only_b): (Vec<&Value>, Vec<&Value>) =
            (a.iter().filter(|c| !b.contains(c)).collect(), b.iter().filter(|c| !a.contains(c)).collect());
        return match (only_a.as_slice(), only_b.as_slice()) {
            ([x], [y]) => compare(x, y),
            _ => None,
        };
    }
    let (a, b) = (disjuncts(old), disjuncts(new));
    if a.len() > 1 || b.len() > 1 {
        if a != b && a.iter().all(|c| b.contains(c)) {
            return Some(Reach::Wider);
        }
        if a != b && b.iter().all(|c| a.contains(c)) {
            return Some(Reach::Narrower);
        }
        return None;
    }
    values(old, new)
}

/// `{field: {in: [...]}}` against the same field's list (an `eq` is a list of one).
fn values(old: &Value, new: &Value) -> Option<Reach> {
    fn list(v: &Value) -> Option<(&String, bool, Vec<&Value>)> {
        let Value::Object(map) = v else { return None };
        let (field, ops) = map.iter().next().filter(|_| map.len() == 1)?;
        let Value::Object(ops) = ops else {
            // A to-one path: `{author: {id: {eq: ..}}}`.
            return None;
        };
        let (op, x) = ops.iter().next().filter(|_| ops.len() == 1)?;
        match (op.as_str(), x) {
            ("eq", x) => Some((field, true, vec![x])),
            ("in", Value::Array(xs)) => Some((field, true, xs.iter().collect())),
            ("ne", x) => Some((field, false, vec![x])),
            ("notIn", Value::Array(xs)) => Some((field, false, xs.iter().collect())),
            _ => None,
        }
    }
    match (list(old), list(new)) {
        (Some((f, pa, a)), Some((g, pb, b))) if f == g && pa == pb && a != b => {
            let (grew, shrank) = (a.iter().all(|x| b.contains(x)), b.iter().all(|x| a.contains(x)));
            match (grew, shrank, pa) {
                (true, false, true) | (false, true, false) => Some(Reach::Wider),
                (false, true, true) | (true, false, false) => Some(Reach::Narrower),
                _ => None,
            }
        }
        // The same path one relation further: compare what is inside.
        _ => match (old, new) {
            (Value::Object(a), Value::Object(b)) if a.len() == 1 && b.len() == 1 => {
                let ((ka, va), (kb, vb)) = (a.iter().next()?, b.iter().next()?);
                // `not` and `none` turn the inner condition around.
                (ka == kb && ka != "not" && ka != "none").then(|| compare(va, vb)).flatten()
            }
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{compare, Reach};
    use serde_json::json;

    #[test]
    fn conditions_that_provably_widen_or_narrow_are_told_apart() {
        let published = json!({"status": {"eq": "published"}});
        let own = json!({"author": {"id": {"eq": {"claim": "sub"}}}});
        let either = json!({"or": [published, own]});
        let both = json!({"and": [published, own]});
        assert_eq!(compare(&published, &either), Some(Reach::Wider), "an alternative more");
        assert_eq!(compare(&either, &published), Some(Reach::Narrower));
        assert_eq!(compare(&published, &both), Some(Reach::Narrower), "a conjunct more");
        assert_eq!(compare(&both, &own), Some(Reach::Wider));
        let map = json!({"status": {"eq": "published"}, "deleted": {"eq": false}});
        assert_eq!(compare(&map, &published), Some(Reach::Wider), "keys of one map are conjuncts");
        let two_ops = json!({"rank": {"gt": 1, "lt": 9}});
        assert_eq!(compare(&json!({"rank": {"gt": 1}}), &two_ops), Some(Reach::Narrower));
        let listed = json!({"status": {"in": ["published", "archived"]}});
        assert_eq!(compare(&published, &listed), Some(Reach::Wider), "an `in` list with more values");
        assert_eq!(compare(&listed, &published), Some(Reach::Narrower));
        let hidden = json!({"status": {"notIn": ["draft", "archived"]}});
        assert_eq!(compare(&json!({"status": {"ne": "draft"}}), &hidden), Some(Reach::Narrower), "`notIn` the other way");
        // Inside a relation, and one changed conjunct among kept ones.
        assert_eq!(compare(&json!({"post": published}), &json!({"post": listed})), Some(Reach::Wider));
        let and_listed = json!({"and": [listed, own]});
        assert_eq!(compare(&both, &and_listed), Some(Reach::Wider));
        // Unrelated or undecidable changes stay unknown.
        assert_eq!(compare(&published, &json!({"status": {"eq": "draft"}})), None);
        assert_eq!(compare(&json!({"rank": {"gt": 1}}), &json!({"rank": {"gt": 2}})), None);
        assert_eq!(compare(&json!({"not": published}), &json!({"not": listed})), None);
        assert_eq!(compare(&json!({"comments": {"none": published}}), &json!({"comments": {"none": listed}})), None);
        assert_eq!(compare(&json!({"comments": {"some": published}}), &json!({"comments": {"some": listed}})), Some(Reach::Wider));
    }
}
