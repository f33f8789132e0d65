//! The generator's module graph: which module of `cli/src` uses which (by `crate::` and `super::`
//! paths, declarations of submodules aside, unit tests aside). Modules must import in one
//! direction: no module may use one that uses it back, directly or through others.
//!
//! `cargo test -p gqlauto --test module_graph -- --nocapture` prints the graph as
//! `module -> module` lines and each file's line count; no file may pass about 600 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module a source file defines: `codegen/mod.rs` → `codegen`, `codegen/sql.rs` →
/// `codegen::sql`, `lib.rs` → `` (the crate).
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts.join("::")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of a file without its unit tests (a `#[cfg(test)]` module, by convention last) and
/// without comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Every path that starts with `crate::` or `super::`, with `use` groups expanded
/// (`crate::{a, b::c}` → `crate::a`, `crate::b::c`).
fn paths(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &code[i..];
        let starts = (rest.starts_with("crate::") || rest.starts_with("super::"))
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':'));
        if starts {
            let (found, used) = path_at(rest);
            out.extend(found);
            i += used.max(1);
        } else {
            i += 1;
        }
    }
    out
}

/// The paths of the path (or `use` tree) at the start of `text`, and how many bytes it takes.
fn path_at(text: &str) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i > start {
            segments.push(text[start..i].to_string());
        }
        if text[i..].starts_with("::{") {
            // A group: each comma-separated tree at depth one continues the prefix.
            let open = i + 2;
            let mut depth = 0;
            let mut end = open;
            for (k, c) in text[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let inner = &text[open + 1..end];
            let mut out = Vec::new();
            let mut depth = 0;
            let mut from = 0;
            for (k, c) in inner.char_indices().chain([(inner.len(), ',')]) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let item = inner[from..k].trim();
                        from = k + 1;
                        if item.is_empty() {
                            continue;
                        }
                        let (found, _) = path_at(item);
                        for f in found {
                            out.push(segments.iter().cloned().chain(f).collect());
                        }
                        if found_is_empty(item) {
                            out.push(segments.clone());
                        }
                    }
                    _ => {}
                }
            }
            return (out, end + 1);
        }
        if text[i..].starts_with("::") {
            i += 2;
            continue;
        }
        return (vec![segments], i);
    }
}

/// The submodules a file declares (`mod x;`, `pub mod x;`).
fn children(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub(crate) ").or_else(|| l.strip_prefix("pub ")).unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_string)
        })
        .collect()
}

/// Whether `code` names an item of its submodule `child` (`child::item`, `self::child`).
fn uses_child(code: &str, child: &str) -> bool {
    let b = code.as_bytes();
    let needle = format!("{child}::");
    code.match_indices(&needle).any(|(i, _)| i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b':'))
        || code.contains(&format!("self::{child}"))
}

/// `self` or `*` inside a group names the prefix itself.
fn found_is_empty(item: &str) -> bool {
    item == "self" || item == "*"
}

/// The module a path refers to from `from`: the longest prefix of the resolved path that is a
/// module of the crate.
fn target(from: &str, path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    let mut base: Vec<String> = if from.is_empty() { Vec::new() } else { from.split("::").map(String::from).collect() };
    let mut segs = path.iter().peekable();
    match segs.peek().map(|s| s.as_str()) {
        Some("crate") => {
            base.clear();
            segs.next();
        }
        _ => {
            while segs.peek().map(|s| s.as_str()) == Some("super") {
                base.pop();
                segs.next();
            }
        }
    }
    let mut full = base;
    full.extend(segs.cloned());
    (0..=full.len()).rev().map(|n| full[..n].join("::")).find(|m| modules.contains(m))
}

struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
    lines: BTreeMap<String, usize>,
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&root, &mut all);
    let modules: BTreeSet<String> = all.iter().map(|f| module_of(&root, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for file in &all {
        let text = std::fs::read_to_string(file).unwrap();
        let from = module_of(&root, file);
        lines.insert(file.strip_prefix(&root).unwrap().to_string_lossy().into_owned(), text.lines().count());
        let code = code(&text);
        // A module's own submodules, named without `self::` (`render::render_crate` in `codegen`).
        for child in children(&code) {
            let to = if from.is_empty() { child.clone() } else { format!("{from}::{child}") };
            if modules.contains(&to) && uses_child(&code, &child) && !from.is_empty() {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
        for path in paths(&code) {
            let Some(to) = target(&from, &path, &modules) else { continue };
            // A module's use of its own items, or of its parent's (which declares it), is no edge
            // between modules; neither is the binary's use of the library.
            if to != from && !to.is_empty() && !from.is_empty() {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    Graph { edges, lines }
}

/// The cycles of the graph: each strongly connected component of more than one module.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            if m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                stack.extend(edges.get(&m).into_iter().flatten().cloned());
            }
        }
        false
    };
    let nodes: BTreeSet<&String> = edges.keys().chain(edges.values().flatten()).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if done.contains(*n) {
            continue;
        }
        let component: Vec<String> = nodes.iter().filter(|m| reaches(n, m) && reaches(m, n)).map(|m| m.to_string()).collect();
        done.extend(component.iter().cloned());
        if component.len() > 1 {
            out.push(component);
        }
    }
    out
}

#[test]
fn modules_import_in_one_direction() {
    let g = graph();
    for (from, tos) in &g.edges {
        for to in tos {
            println!("{from} -> {to}");
        }
    }
    for (file, n) in &g.lines {
        println!("{n:>6} {file}");
    }
    let found = cycles(&g.edges);
    let shown: Vec<String> = found
        .iter()
        .map(|c| {
            let inside: Vec<String> =
                c.iter().flat_map(|m| g.edges[m].iter().filter(|t| c.contains(t)).map(move |t| format!("{m} -> {t}"))).collect();
            inside.join(", ")
        })
        .collect();
    assert!(found.is_empty(), "modules that use each other:\n{}", shown.join("\n"));
}

/// No source file grows past about 600 lines (its unit tests included): a file that does is doing
/// more than one thing.
#[test]
fn source_files_stay_small() {
    const LIMIT: usize = 620;
    let g = graph();
    let long: Vec<String> = g.lines.iter().filter(|(_, n)| **n > LIMIT).map(|(f, n)| format!("{f}: {n} lines")).collect();
    assert!(long.is_empty(), "files over {LIMIT} lines: {long:?}");
}

#[test]
fn the_graph_reader_sees_groups_and_relative_paths() {
    let found = paths("use crate::{ir::{Ir, Model}, codegen::sql}; let x = super::super::a::b(); use super::*;");
    let shown: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(shown, ["crate::ir::Ir", "crate::ir::Model", "crate::codegen::sql", "super::super::a::b", "super"]);
    let modules: BTreeSet<String> = ["ir", "codegen", "codegen::sql", "a"].map(String::from).into();
    assert_eq!(target("codegen::view", &found[2], &modules).as_deref(), Some("codegen::sql"));
    assert_eq!(target("codegen::view::x", &found[3], &modules).as_deref(), Some("codegen"));
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    edges.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    edges.insert("c".to_string(), BTreeSet::from(["a".to_string(), "d".to_string()]));
    assert_eq!(cycles(&edges), [vec!["a".to_string(), "b".into(), "c".into()]]);
}
