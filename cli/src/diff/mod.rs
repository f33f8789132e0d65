//! `gqlauto diff`: what a schema change does to clients and to stored rows.
//!
//! Pure: both sides arrive as text or a validated IR; the command layer reads files and git.
//! [`compare`] returns every change as data; [`Policy`] filters and re-grades them; [`render_human`]
//! and [`render_json`] print them; [`exit_code`] turns them into a CI verdict.

pub mod api;
pub mod change;
pub mod data;
pub mod permissions;
pub mod schema;

use std::fmt::Write as _;

pub use change::{Change, ChangeKind, Level, Scope};
pub use schema::{parse as parse_sdl, Schema, SdlError};

use crate::codegen::crate_view::crate_view;
use crate::ir::Ir;

/// One side of a comparison.
pub enum Side {
    /// A schema read from SDL: only API changes can be known.
    Sdl(Schema),
    /// A validated manifest: API changes through its derived SDL, and database changes.
    Manifest(Box<Ir>),
}

impl Side {
    /// The side of a manifest; its SDL is derived exactly as `generate` would write it.
    pub fn manifest(ir: Ir) -> Side {
        Side::Manifest(Box::new(ir))
    }

    fn schema(&self) -> Schema {
        match self {
            Side::Sdl(s) => s.clone(),
            Side::Manifest(ir) => schema::parse(&crate::codegen::roles::full_sdl(ir, &crate_view(ir))).expect("generated SDL parses"),
        }
    }
}

/// Every change from `old` to `new`: the API's, then (when both sides are manifests) the database's.
pub fn compare(old: &Side, new: &Side) -> Vec<Change> {
    let mut changes = api::diff(&old.schema(), &new.schema());
    if let (Side::Manifest(o), Side::Manifest(n)) = (old, new) {
        changes.extend(data::diff(o, n));
        changes.extend(permissions::diff(o, n, &changes));
    }
    changes
}

/// Rules applied to the change list after comparing, in order.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Removing what the old schema deprecated is graded dangerous instead of breaking: clients had
    /// their warning.
    pub allow_deprecated_removal: bool,
    /// Changes to leave out: a kind (`FIELD_REMOVED`), a coordinate (`Query.posts`), or both
    /// (`FIELD_REMOVED:Query.posts`). A coordinate also matches everything under it (`Post` matches
    /// `Post.title`).
    pub ignore: Vec<String>,
}

impl Policy {
    pub fn apply(&self, changes: Vec<Change>) -> Vec<Change> {
        changes
            .into_iter()
            .filter(|c| !self.ignore.iter().any(|rule| ignores(rule, c)))
            .map(|mut c| {
                if self.allow_deprecated_removal && c.was_deprecated && c.level() == Level::Breaking {
                    c.criticality.level = Level::Dangerous;
                    c.criticality.reason.push_str("; allowed by policy: removing deprecated elements");
                }
                c
            })
            .collect()
    }
}

fn ignores(rule: &str, c: &Change) -> bool {
    let covers = |coord: &str| {
        c.coordinate == coord || c.coordinate.strip_prefix(coord).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('('))
    };
    match rule.split_once(':') {
        Some((kind, coord)) if kind.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_') => c.kind.code() == kind && covers(coord),
        _ if rule.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_') => c.kind.code() == rule,
        _ => covers(rule),
    }
}

/// 0 when nothing reaches `fail_on`, 1 when something does.
pub fn exit_code(changes: &[Change], fail_on: Level) -> u8 {
    u8::from(changes.iter().any(|c| c.level() >= fail_on))
}

fn counts(changes: &[Change]) -> [usize; 3] {
    let n = |l| changes.iter().filter(|c| c.level() == l).count();
    [n(Level::Breaking), n(Level::Dangerous), n(Level::Safe)]
}

/// A report grouped by criticality, breaking first.
pub fn render_human(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No changes.\n".into();
    }
    let mut out = String::new();
    for (level, title, mark) in
        [(Level::Breaking, "Breaking changes", "x"), (Level::Dangerous, "Dangerous changes", "!"), (Level::Safe, "Safe changes", "+")]
    {
        let group: Vec<&Change> = changes.iter().filter(|c| c.level() == level).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title} ({})", group.len());
        for c in group {
            let scope = match c.scope {
                Scope::Api => "",
                Scope::Database => "[database] ",
                Scope::Permissions => "[permissions] ",
            };
            let _ = writeln!(out, "  {mark} {scope}{}: {}", c.kind.code(), c.message);
            if level != Level::Safe {
                let _ = writeln!(out, "      because {}", c.criticality.reason);
            }
        }
        out.push('\n');
    }
    let [b, d, s] = counts(changes);
    let _ = writeln!(out, "{b} breaking, {d} dangerous, {s} safe");
    out
}

/// `{"changes": [...], "summary": {...}}`, stable for machines.
pub fn render_json(changes: &[Change]) -> String {
    let [breaking, dangerous, safe] = counts(changes);
    let doc = serde_json::json!({
        "changes": changes,
        "summary": {"breaking": breaking, "dangerous": dangerous, "safe": safe},
    });
    serde_json::to_string_pretty(&doc).expect("changes serialize") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdl(s: &str) -> Side {
        Side::Sdl(parse_sdl(s).unwrap())
    }

    #[test]
    fn policy_ignores_and_regrades() {
        let old = sdl("type Query { a: Int @deprecated(reason: \"use b\") b: Int c: String }");
        let new = sdl("type Query { b: Int }");
        let changes = compare(&old, &new);
        assert_eq!(
            changes.iter().map(|c| (c.coordinate.as_str(), c.level())).collect::<Vec<_>>(),
            [("Query.a", Level::Breaking), ("Query.c", Level::Breaking)]
        );
        assert!(changes[0].criticality.reason.contains("deprecated in the old schema (\"use b\")"));
        let graded = Policy { allow_deprecated_removal: true, ignore: vec![] }.apply(changes.clone());
        assert_eq!(graded.iter().map(|c| c.level()).collect::<Vec<_>>(), [Level::Dangerous, Level::Breaking]);
        assert_eq!(exit_code(&graded, Level::Breaking), 1);
        let ignored = Policy { allow_deprecated_removal: true, ignore: vec!["FIELD_REMOVED:Query.c".into()] }.apply(changes.clone());
        assert_eq!(exit_code(&ignored, Level::Breaking), 0);
        assert_eq!(exit_code(&ignored, Level::Dangerous), 1);
        assert!(Policy { allow_deprecated_removal: false, ignore: vec!["Query".into()] }.apply(changes).is_empty());
    }

    #[test]
    fn reports_group_and_count() {
        let changes = compare(&sdl("type Query { a: Int }"), &sdl("type Query { a: Int! b: Int }\nenum E { X }"));
        let text = render_human(&changes);
        assert!(text.starts_with("Safe changes (3)\n"), "{text}");
        assert!(text.ends_with("0 breaking, 0 dangerous, 3 safe\n"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&render_json(&changes)).unwrap();
        assert_eq!(json["summary"]["safe"], 3);
        assert_eq!(json["changes"][0]["kind"], "FIELD_TYPE_CHANGED");
        assert_eq!(json["changes"][0]["criticality"]["level"], "safe");
    }
}
