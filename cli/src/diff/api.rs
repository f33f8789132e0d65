//! Comparing two schemas: one walker per GraphQL kind, each returning the changes it finds.
//!
//! Nullability follows where a value flows. Output positions (fields) may tighten: `T` → `T!` breaks
//! no client, since every value it could receive before it can still receive. Input positions
//! (arguments, input fields) may loosen: `T!` → `T` still accepts everything a client sent before.

use std::collections::{BTreeMap, BTreeSet};

use super::change::{Change, ChangeKind as K, Level, Scope};
use super::schema::{DirectiveDef, Field, InputValue, Kind, Schema, Ty, TypeDef};

/// Every change from `old` to `new`, in coordinate order per walker.
pub fn diff(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    roots(old, new, &mut out);
    for (name, o) in &old.types {
        match new.types.get(name) {
            None => out.push(change(K::TypeRemoved, name, Level::Breaking, "clients that reference it by name fail to validate")),
            Some(n) if n.kind != o.kind => out.push(
                change(K::TypeKindChanged, name, Level::Breaking, "fragments and selections written for the old kind no longer validate")
                    .values(Some(o.kind.name().into()), Some(n.kind.name().into())),
            ),
            Some(n) => type_changes(name, o, n, &mut out),
        }
    }
    for name in new.types.keys().filter(|n| !old.types.contains_key(*n)) {
        out.push(change(K::TypeAdded, name, Level::Safe, "new types break no existing request"));
    }
    for (name, o) in &old.directives {
        let at = format!("@{name}");
        match new.directives.get(name) {
            None => out.push(change(K::DirectiveRemoved, &at, Level::Breaking, "documents that use it no longer validate")),
            Some(n) => directive_changes(&at, o, n, &mut out),
        }
    }
    for name in new.directives.keys().filter(|n| !old.directives.contains_key(*n)) {
        out.push(change(K::DirectiveAdded, &format!("@{name}"), Level::Safe, "new directives break no existing request"));
    }
    out
}

fn change(kind: K, at: &str, level: Level, reason: &str) -> Change {
    Change::new(kind, Scope::Api, at.to_string(), level, reason)
}

fn roots(old: &Schema, new: &Schema, out: &mut Vec<Change>) {
    let pairs = [
        ("query", &old.roots.query, &new.roots.query),
        ("mutation", &old.roots.mutation, &new.roots.mutation),
        ("subscription", &old.roots.subscription, &new.roots.subscription),
    ];
    for (op, o, n) in pairs {
        // A root that disappears with its type is reported as the type's removal.
        let gone_with_type = o.as_ref().is_some_and(|o| !new.types.contains_key(o)) && n.is_none();
        if o != n && !gone_with_type {
            let level = if o.is_none() { Level::Safe } else { Level::Breaking };
            let reason = if o.is_none() {
                "a new operation type breaks no existing request"
            } else {
                "operations of this type resolve against a different type"
            };
            out.push(change(K::RootTypeChanged, op, level, reason).values(o.clone(), n.clone()));
        }
    }
}

fn type_changes(name: &str, o: &TypeDef, n: &TypeDef, out: &mut Vec<Change>) {
    description(name, &o.description, &n.description, out);
    if o.specified_by != n.specified_by {
        out.push(
            change(
                K::ScalarSpecifiedByChanged,
                name,
                Level::Dangerous,
                "clients that validate values by the specification may now reject them",
            )
            .values(o.specified_by.clone(), n.specified_by.clone()),
        );
    }
    match o.kind {
        Kind::Object | Kind::Interface => {
            set_changes(name, &o.interfaces, &n.interfaces, out, |at, gone| {
                if gone {
                    change(K::InterfaceRemoved, at, Level::Breaking, "fragments on the interface no longer apply to this type")
                } else {
                    change(K::InterfaceAdded, at, Level::Dangerous, "clients matching on the interface may now see this type")
                }
            });
            for (f, of) in &o.fields {
                let at = format!("{name}.{f}");
                match n.fields.get(f) {
                    None => out.push(removed(K::FieldRemoved, &at, "requests that select it no longer validate", &of.deprecation)),
                    Some(nf) => field_changes(&at, of, nf, out),
                }
            }
            for f in n.fields.keys().filter(|f| !o.fields.contains_key(*f)) {
                out.push(change(K::FieldAdded, &format!("{name}.{f}"), Level::Safe, "new fields break no existing request"));
            }
        }
        Kind::Union => set_changes(name, &o.members, &n.members, out, |at, gone| {
            if gone {
                change(K::UnionMemberRemoved, at, Level::Breaking, "fragments on the removed member no longer validate")
            } else {
                change(K::UnionMemberAdded, at, Level::Dangerous, "clients that match every member may receive a type they do not handle")
            }
        }),
        Kind::Enum => {
            for (v, ov) in &o.values {
                let at = format!("{name}.{v}");
                match n.values.get(v) {
                    None => out.push(removed(K::EnumValueRemoved, &at, "clients that send or expect it break", &ov.deprecation)),
                    Some(nv) => {
                        description(&at, &ov.description, &nv.description, out);
                        deprecation(&at, &ov.deprecation, &nv.deprecation, out);
                    }
                }
            }
            for v in n.values.keys().filter(|v| !o.values.contains_key(*v)) {
                out.push(change(
                    K::EnumValueAdded,
                    &format!("{name}.{v}"),
                    Level::Dangerous,
                    "clients that switch over every value may receive one they do not handle",
                ));
            }
        }
        Kind::InputObject => {
            for (f, of) in &o.input_fields {
                let at = format!("{name}.{f}");
                match n.input_fields.get(f) {
                    None => out.push(removed(K::InputFieldRemoved, &at, "requests that set it no longer validate", &of.deprecation)),
                    Some(nf) => input_value_changes(&at, of, nf, InputPlace::InputField, out),
                }
            }
            for (f, nf) in n.input_fields.iter().filter(|(f, _)| !o.input_fields.contains_key(*f)) {
                let at = format!("{name}.{f}");
                out.push(if nf.is_required() {
                    change(K::InputFieldAddedRequired, &at, Level::Breaking, "requests written before do not set it")
                        .values(None, Some(nf.ty.to_string()))
                } else {
                    change(
                        K::InputFieldAddedOptional,
                        &at,
                        Level::Dangerous,
                        "requests written before leave it unset, which may now mean something",
                    )
                    .values(None, Some(nf.ty.to_string()))
                });
            }
        }
        Kind::Scalar => {}
    }
}

/// Members or interfaces added and removed; `make(coordinate, removed)` builds the change.
fn set_changes(name: &str, old: &BTreeSet<String>, new: &BTreeSet<String>, out: &mut Vec<Change>, make: impl Fn(&str, bool) -> Change) {
    for gone in old.difference(new) {
        out.push(make(name, true).values(Some(gone.clone()), None));
    }
    for added in new.difference(old) {
        out.push(make(name, false).values(None, Some(added.clone())));
    }
}

/// A removal; one of an element the old schema deprecated says so, for policies and readers.
fn removed(kind: K, at: &str, reason: &str, deprecation: &Option<String>) -> Change {
    match deprecation {
        Some(r) => {
            let reason = format!("{reason}; it was deprecated in the old schema (\"{r}\")");
            Change { was_deprecated: true, ..Change::new(kind, Scope::Api, at.to_string(), Level::Breaking, reason) }
        }
        None => change(kind, at, Level::Breaking, reason),
    }
}

fn field_changes(at: &str, o: &Field, n: &Field, out: &mut Vec<Change>) {
    description(at, &o.description, &n.description, out);
    deprecation(at, &o.deprecation, &n.deprecation, out);
    if o.ty != n.ty {
        let (level, reason) = if safe_for_output(&o.ty, &n.ty) {
            (Level::Safe, "every value the old type allowed is still allowed")
        } else {
            (Level::Breaking, "clients may receive values of a shape they do not expect")
        };
        out.push(change(K::FieldTypeChanged, at, level, reason).values(Some(o.ty.to_string()), Some(n.ty.to_string())));
    }
    args(at, &o.args, &n.args, InputPlace::Arg, out);
}

/// Where an input value sits: the kinds of its changes differ, the rules do not.
#[derive(Clone, Copy, PartialEq)]
enum InputPlace {
    Arg,
    InputField,
    DirectiveArg,
}

fn args(owner: &str, old: &BTreeMap<String, InputValue>, new: &BTreeMap<String, InputValue>, place: InputPlace, out: &mut Vec<Change>) {
    let (removed_kind, required, optional, optional_level) = match place {
        InputPlace::DirectiveArg => (K::DirectiveArgRemoved, K::DirectiveArgAddedRequired, K::DirectiveArgAddedOptional, Level::Safe),
        _ => (K::ArgRemoved, K::ArgAddedRequired, K::ArgAddedOptional, Level::Dangerous),
    };
    for (a, oa) in old {
        let at = format!("{owner}({a}:)");
        match new.get(a) {
            None => out.push(removed(removed_kind, &at, "requests that pass it no longer validate", &oa.deprecation)),
            Some(na) => input_value_changes(&at, oa, na, place, out),
        }
    }
    for (a, na) in new.iter().filter(|(a, _)| !old.contains_key(*a)) {
        let at = format!("{owner}({a}:)");
        out.push(if na.is_required() {
            change(required, &at, Level::Breaking, "requests written before do not pass it").values(None, Some(na.ty.to_string()))
        } else {
            let reason = if optional_level == Level::Safe {
                "existing uses keep their meaning"
            } else {
                "requests written before leave it unset, which may now change the result"
            };
            change(optional, &at, optional_level, reason).values(None, Some(na.ty.to_string()))
        });
    }
}

fn input_value_changes(at: &str, o: &InputValue, n: &InputValue, place: InputPlace, out: &mut Vec<Change>) {
    let (type_kind, default_kind) = match place {
        InputPlace::Arg => (K::ArgTypeChanged, K::ArgDefaultChanged),
        InputPlace::InputField => (K::InputFieldTypeChanged, K::InputFieldDefaultChanged),
        InputPlace::DirectiveArg => (K::DirectiveArgTypeChanged, K::DirectiveArgDefaultChanged),
    };
    description(at, &o.description, &n.description, out);
    deprecation(at, &o.deprecation, &n.deprecation, out);
    if o.ty != n.ty {
        let (level, reason) = if safe_for_input(&o.ty, &n.ty) {
            (Level::Safe, "every value clients could send is still accepted")
        } else {
            (Level::Breaking, "values clients send today may no longer be accepted")
        };
        out.push(change(type_kind, at, level, reason).values(Some(o.ty.to_string()), Some(n.ty.to_string())));
    }
    // A default that appears or disappears changes what an omitted value means, like a changed one.
    if o.default != n.default {
        // graphql-js reports a changed or removed argument default, not a new one: a kind of its own keeps the mapping exact.
        let default_kind = if place == InputPlace::Arg && o.default.is_none() { K::ArgDefaultAdded } else { default_kind };
        out.push(
            change(default_kind, at, Level::Dangerous, "requests that omit it now get a different value")
                .values(o.default.clone(), n.default.clone()),
        );
    }
}

fn directive_changes(at: &str, o: &DirectiveDef, n: &DirectiveDef, out: &mut Vec<Change>) {
    description(at, &o.description, &n.description, out);
    args(at, &o.args, &n.args, InputPlace::DirectiveArg, out);
    match (o.repeatable, n.repeatable) {
        (true, false) => {
            out.push(change(K::DirectiveRepeatableRemoved, at, Level::Breaking, "documents that repeat it no longer validate"))
        }
        (false, true) => out.push(change(K::DirectiveRepeatableAdded, at, Level::Safe, "existing single uses stay valid")),
        _ => {}
    }
    for l in o.locations.difference(&n.locations) {
        out.push(
            change(K::DirectiveLocationRemoved, at, Level::Breaking, "documents that use it there no longer validate")
                .values(Some(l.clone()), None),
        );
    }
    for l in n.locations.difference(&o.locations) {
        out.push(change(K::DirectiveLocationAdded, at, Level::Safe, "existing uses stay valid").values(None, Some(l.clone())));
    }
}

fn description(at: &str, o: &Option<String>, n: &Option<String>, out: &mut Vec<Change>) {
    if o != n {
        out.push(change(K::DescriptionChanged, at, Level::Safe, "descriptions do not affect requests").values(o.clone(), n.clone()));
    }
}

fn deprecation(at: &str, o: &Option<String>, n: &Option<String>, out: &mut Vec<Change>) {
    match (o, n) {
        (None, Some(r)) => {
            out.push(change(K::DeprecationAdded, at, Level::Safe, "deprecated elements keep working").values(None, Some(r.clone())))
        }
        (Some(r), None) => {
            out.push(change(K::DeprecationRemoved, at, Level::Safe, "the element keeps working").values(Some(r.clone()), None))
        }
        (Some(a), Some(b)) if a != b => out.push(
            change(K::DeprecationReasonChanged, at, Level::Safe, "deprecated elements keep working")
                .values(Some(a.clone()), Some(b.clone())),
        ),
        _ => {}
    }
}

/// Whether clients reading a field of type `old` can read `new`: the same shape, possibly non-null
/// where it was nullable.
pub fn safe_for_output(old: &Ty, new: &Ty) -> bool {
    match (old, new) {
        (Ty::NonNull(o), Ty::NonNull(n)) => safe_for_output(o, n),
        (Ty::NonNull(_), _) => false,
        (o, Ty::NonNull(n)) => safe_for_output(o, n),
        (Ty::List(o), Ty::List(n)) => safe_for_output(o, n),
        (Ty::Named(o), Ty::Named(n)) => o == n,
        _ => false,
    }
}

/// Whether every value clients could send for `old` is still accepted by `new`: the same shape,
/// possibly nullable where it was non-null.
pub fn safe_for_input(old: &Ty, new: &Ty) -> bool {
    match (old, new) {
        (Ty::NonNull(o), Ty::NonNull(n)) => safe_for_input(o, n),
        (Ty::NonNull(o), n) => safe_for_input(o, n),
        (_, Ty::NonNull(_)) => false,
        (Ty::List(o), Ty::List(n)) => safe_for_input(o, n),
        (Ty::Named(o), Ty::Named(n)) => o == n,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::schema::parse;

    fn ty(s: &str) -> Ty {
        let schema = parse(&format!("type Query {{ f: {s} }}")).unwrap();
        schema.types["Query"].fields["f"].ty.clone()
    }

    #[test]
    fn output_tightens_input_loosens() {
        let table = [
            ("Int", "Int!", true, false),
            ("Int!", "Int", false, true),
            ("[Int]", "[Int!]!", true, false),
            ("[Int!]", "[Int]", false, true),
            ("Int", "[Int]", false, false),
            ("[Int]", "Int", false, false),
            ("Int", "Float", false, false),
            ("[[Int]]", "[[Int!]!]!", true, false),
            ("[Int]!", "[Int]", false, true),
        ];
        for (o, n, out_safe, in_safe) in table {
            assert_eq!(safe_for_output(&ty(o), &ty(n)), out_safe, "output {o} -> {n}");
            assert_eq!(safe_for_input(&ty(o), &ty(n)), in_safe, "input {o} -> {n}");
        }
    }
}
