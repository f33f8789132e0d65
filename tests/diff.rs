//! `gqlauto diff` on SDL: every pair under `tests/fixtures/diff/<case>/{old,new}.graphql` gets exactly
//! the changes its `expected` file lists (`level KIND coordinate` per line), graphql-js agrees with
//! the breaking/dangerous verdicts, and the command's exit codes and JSON are what CI relies on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gqlauto::diff::{self, ChangeKind, Level, Side};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/diff")
}

/// Case name → its directory, sorted by name.
fn cases() -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect()
}

fn changes(dir: &Path) -> Vec<diff::Change> {
    let side = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        Side::Sdl(diff::parse_sdl(&text).unwrap_or_else(|e| panic!("{}/{name}:{}:{}: {}", dir.display(), e.line, e.column, e.message)))
    };
    diff::compare(&side("old.graphql"), &side("new.graphql"))
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Safe => "safe",
        Level::Dangerous => "dangerous",
        Level::Breaking => "breaking",
    }
}

#[test]
fn sdl_pairs_have_exactly_the_expected_changes() {
    let cases = cases();
    assert!(cases.len() >= 40, "expected at least 40 SDL pairs, found {}", cases.len());
    let mut seen = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for (name, dir) in &cases {
        let found = changes(dir);
        let mut got: Vec<String> = found.iter().map(|c| format!("{} {} {}", level_name(c.level()), c.kind.code(), c.coordinate)).collect();
        let mut want: Vec<String> = std::fs::read_to_string(dir.join("expected")).unwrap().lines().map(str::to_string).collect();
        got.sort();
        want.sort();
        if got != want {
            failures.push(format!("{name}:\n  expected {want:#?}\n  got {got:#?}"));
        }
        for c in &found {
            assert!(!c.message.is_empty() && !c.criticality.reason.is_empty(), "{name}: {c:?}");
            seen.insert(c.kind);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every API change kind has a pair of its own (database kinds are covered by the migration tests).
    let api_kinds: Vec<ChangeKind> = ChangeKind::ALL.iter().copied().filter(|k| k < &ChangeKind::TableAdded).collect();
    let missing: Vec<String> = api_kinds.iter().filter(|k| !seen.contains(k)).map(|k| k.code()).collect();
    assert!(missing.is_empty(), "API change kinds without an SDL pair: {missing:?}");
}

/// graphql-js counts the built-in scalars as types of a schema only while something uses them, so the
/// last use of `Int` going away is also reported as "Int was removed". gqlauto reports the use that
/// went away; these are the only differences.
const BUILT_IN_SCALARS: &[&str] = &["Int", "Float", "String", "Boolean", "ID"];

#[test]
fn graphql_js_agrees_on_breaking_and_dangerous_verdicts() {
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/oracle");
    if !oracle.join("node_modules/graphql").exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "graphql-js is not installed: run `npm ci` in tests/oracle (.ci/run does)");
        eprintln!("skipped: graphql-js is not installed (npm ci in tests/oracle)");
        return;
    }
    let out = Command::new("node").arg("verdicts.mjs").arg(cases_dir()).current_dir(&oracle).output().expect("run node");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verdicts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = cases();
    let (mut agree, mut scalar_only) = (0, 0);
    let mut disagreements = Vec::new();
    for (name, dir) in &cases {
        let v = &verdicts[name];
        assert!(v.get("error").is_none(), "graphql-js cannot build {name}: {}", v["error"]);
        let js = |key: &str| -> Vec<(String, String)> {
            let mut list: Vec<(String, String)> = v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["type"].as_str().unwrap().to_string(), c["description"].as_str().unwrap().to_string()))
                .collect();
            list.sort();
            list
        };
        let (js_breaking, js_dangerous) = (js("breaking"), js("dangerous"));
        let is_scalar_removal = |(t, d): &(String, String)| {
            t == "TYPE_REMOVED" && BUILT_IN_SCALARS.iter().any(|s| d.starts_with(&format!("Standard scalar {s} was removed")))
        };
        let kinds =
            |list: &[(String, String)]| -> Vec<String> { list.iter().filter(|c| !is_scalar_removal(c)).map(|(t, _)| t.clone()).collect() };
        let ours = |level: Level| -> Vec<String> {
            let mut k: Vec<String> =
                changes(dir).iter().filter(|c| c.level() == level).filter_map(|c| c.kind.graphql_js()).map(str::to_string).collect();
            k.sort();
            k
        };
        let (b, d) = (ours(Level::Breaking), ours(Level::Dangerous));
        if b == kinds(&js_breaking) && d == kinds(&js_dangerous) {
            agree += 1;
            if js_breaking.iter().any(is_scalar_removal) {
                scalar_only += 1;
            }
        } else {
            disagreements.push(format!("{name}: graphql-js {js_breaking:?} / {js_dangerous:?}, gqlauto {b:?} / {d:?}"));
        }
    }
    eprintln!("graphql-js agrees on {agree} of {} pairs ({scalar_only} differ only by built-in scalar removals)", cases.len());
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

fn gqlauto(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gqlauto")).args(args).current_dir(cases_dir()).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn exit_codes_gate_ci() {
    let (code, out, _) = gqlauto(&["diff", "field_removed/old.graphql", "field_removed/new.graphql"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Breaking changes (1)\n  x FIELD_REMOVED: Field `Query.b` was removed\n"), "{out}");
    let (code, out, _) = gqlauto(&["diff", "enum_value_added/old.graphql", "enum_value_added/new.graphql"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = gqlauto(&["diff", "enum_value_added/old.graphql", "enum_value_added/new.graphql", "--fail-on", "dangerous"]);
    assert_eq!(code, 1);
    let (code, out, _) = gqlauto(&["diff", "noop_reordered/old.graphql", "noop_reordered/new.graphql", "--fail-on", "safe"]);
    assert_eq!((code, out.as_str()), (0, "No changes.\n"));
    let (code, _, _) =
        gqlauto(&["diff", "field_removed_deprecated/old.graphql", "field_removed_deprecated/new.graphql", "--allow-deprecated-removal"]);
    assert_eq!(code, 0);
    let (code, _, _) = gqlauto(&["diff", "field_removed/old.graphql", "field_removed/new.graphql", "--ignore", "FIELD_REMOVED:Query.b"]);
    assert_eq!(code, 0);
}

#[test]
fn json_output_is_data() {
    let (code, out, _) = gqlauto(&["diff", "many_changes_at_once/old.graphql", "many_changes_at_once/new.graphql", "--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"], serde_json::json!({"breaking": 4, "dangerous": 1, "safe": 1}));
    let arg = doc["changes"].as_array().unwrap().iter().find(|c| c["kind"] == "ARG_ADDED_REQUIRED").unwrap();
    assert_eq!(arg["coordinate"], "Query.b(y:)");
    assert_eq!(arg["scope"], "api");
    assert_eq!(arg["criticality"]["level"], "breaking");
    assert_eq!(arg["new"], "Int!");
    assert_eq!(arg["message"], "Required argument `Query.b(y:)` was added");
}

#[test]
fn unreadable_sides_exit_2_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.graphql"), "type Query {\n  a: Int\n  b:\n}\n").unwrap();
    std::fs::write(dir.path().join("dup.graphql"), "type Query { a: Int }\n\ntype Query { b: Int }\n").unwrap();
    std::fs::write(dir.path().join("ok.graphql"), "type Query { a: Int }\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gqlauto")).args(args).current_dir(dir.path()).output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&["diff", "ok.graphql", "bad.graphql"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("bad.graphql:4:1: error: syntax error: expected"), "{err}");
    let (code, err) = run(&["diff", "dup.graphql", "ok.graphql"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("dup.graphql:3:1: error: type `Query` is defined twice"), "{err}");
    let (code, err) = run(&["diff", "ok.graphql", "missing.graphql"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read missing.graphql"), "{err}");
    let (code, err) = run(&["diff", "ok.graphql"]);
    assert_eq!(code, 2);
    assert!(err.contains("--base"), "{err}");
}

#[test]
fn base_revision_compares_manifests_in_git_with_their_databases() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| {
        let out =
            Command::new("git").args(["-c", "user.name=t", "-c", "user.email=t@example.com"]).args(args).current_dir(d).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let v1 = "version: 1\nname: shop\nmodels:\n  Product:\n    fields:\n      id: auto\n      name: { type: string, max_length: 100 }\n      price: { type: decimal, max_digits: 8, decimal_places: 2 }\n";
    std::fs::create_dir(d.join("api")).unwrap();
    std::fs::write(d.join("api/gqlauto.yaml"), v1).unwrap();
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "v1"]);
    let v2 = v1.replace(
        "      price: { type: decimal, max_digits: 8, decimal_places: 2 }\n",
        "      sku: { type: string, max_length: 20, unique: true }\n",
    );
    std::fs::write(d.join("api/gqlauto.yaml"), v2).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gqlauto"))
        .args(["diff", "--base", "HEAD", "api/gqlauto.yaml", "--format", "json"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String, String)> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["scope"].as_str().unwrap().into(), c["kind"].as_str().unwrap().into(), c["coordinate"].as_str().unwrap().into()))
        .collect();
    for (scope, kind, at) in [
        ("api", "FIELD_REMOVED", "Product.price"),
        ("api", "FIELD_ADDED", "Product.sku"),
        ("api", "INPUT_FIELD_ADDED_REQUIRED", "CreateProductInput.sku"),
        ("database", "COLUMN_DROPPED", "products.price"),
        ("database", "COLUMN_ADDED_REQUIRED", "products.sku"),
    ] {
        assert!(
            found.iter().any(|f| f == &(scope.to_string(), kind.to_string(), at.to_string())),
            "{scope} {kind} {at} missing: {found:#?}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_gqlauto"))
        .args(["diff", "--base", "no-such-branch", "api/gqlauto.yaml"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read api/gqlauto.yaml at revision `no-such-branch`"));
}

/// Permission changes between two manifests: every kind, graded loosened = dangerous, tightened =
/// breaking for the callers of the role.
#[test]
fn permission_changes_are_graded_by_who_gains_and_who_loses() {
    let blog = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../model-specs/blog.yaml")).unwrap();
    let ir = |text: &str| {
        let checked = gqlauto::api::check_source("blog.yaml", text.to_string(), gqlauto::manifest::Format::Yaml);
        let shown = checked.render(gqlauto::api::DiagFormat::Short);
        Side::manifest(checked.ir.unwrap_or_else(|| panic!("{shown}")))
    };
    let permissions = |old: &str, new: &str| -> Vec<String> {
        let mut found: Vec<String> = diff::compare(&ir(old), &ir(new))
            .into_iter()
            .filter(|c| c.scope == diff::Scope::Permissions)
            .map(|c| format!("{} {} {}", level_name(c.level()), c.kind.code(), c.coordinate))
            .collect();
        found.sort();
        found
    };
    let edit = |pairs: &[(&str, &str)]| {
        let mut text = blog.clone();
        for (from, to) in pairs {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        text
    };
    let open = {
        let start = blog.find("roles:").unwrap();
        let end = blog.find("models:").unwrap();
        let mut text = format!("{}{}", &blog[..start], &blog[end..]);
        while let Some(at) = text.find("    permissions:") {
            let rest = &text[at..];
            let stop = rest[1..].find("\n  ").map(|i| {
                // The block ends at the next line indented two spaces (the next model) or at the end.
                let mut i = i + 1;
                while rest[i + 1..].starts_with("    ") {
                    i += rest[i + 1..].find('\n').unwrap() + 1;
                }
                i
            });
            let stop = stop.unwrap_or(rest.len());
            text = format!("{}{}", &text[..at], &text[at + stop..].trim_start_matches('\n'));
        }
        text
    };
    assert_eq!(permissions(&open, &blog), ["breaking ACCESS_CONTROL_ADDED roles"]);
    assert_eq!(permissions(&blog, &open), ["dangerous ACCESS_CONTROL_REMOVED roles"]);
    let more_roles = edit(&[(
        "  admin: { description: Runs the blog., all: true }",
        "  admin: { description: Runs the blog., all: true }\n  editor: { all: true }",
    )]);
    assert_eq!(permissions(&blog, &more_roles), ["dangerous ROLE_ADDED editor"]);
    assert_eq!(permissions(&more_roles, &blog), ["breaking ROLE_REMOVED editor"]);
    let tag_writer = edit(&[("      author: { read: true }", "      author: { read: true, create: true }")]);
    let found = permissions(&blog, &tag_writer);
    assert!(found.contains(&"dangerous GRANT_ADDED Tag.author.create".to_string()), "{found:?}");
    let found = permissions(&tag_writer, &blog);
    assert!(found.contains(&"breaking GRANT_REMOVED Tag.author.create".to_string()), "{found:?}");
    assert!(found.iter().any(|c| c.starts_with("breaking ROLE_SCHEMA_CHANGED Mutation.createTag")), "{found:?}");
    let everything_public = edit(&[("        read: { where: { status: { eq: published } } }", "        read: true")]);
    // With every post readable, anonymous callers may also order comments by their post.
    assert_eq!(
        permissions(&blog, &everything_public),
        ["dangerous ROLE_SCHEMA_CHANGED CommentOrderBy.post", "dangerous ROW_RULE_REMOVED Post.anonymous.read"]
    );
    assert_eq!(
        permissions(&everything_public, &blog),
        ["breaking ROLE_SCHEMA_CHANGED CommentOrderBy.post", "breaking ROW_RULE_ADDED Post.anonymous.read"]
    );
    let archived_too = edit(&[(
        "        read: { where: { status: { eq: published } } }",
        "        read: { where: { status: { in: [published, archived] } } }",
    )]);
    assert_eq!(permissions(&blog, &archived_too), ["dangerous ROW_RULE_LOOSENED Post.anonymous.read"]);
    assert_eq!(permissions(&archived_too, &blog), ["breaking ROW_RULE_TIGHTENED Post.anonymous.read"]);
    let archived_only =
        edit(&[("        read: { where: { status: { eq: published } } }", "        read: { where: { status: { eq: archived } } }")]);
    assert_eq!(permissions(&blog, &archived_only), ["dangerous ROW_RULE_CHANGED Post.anonymous.read"]);
    // A field only the role's schema gains (the full schema had it all along) widens what it reads.
    let emails = edit(&[(
        "      anonymous:\n        read: { columns: [id, name, bio, website, joined_at] }",
        "      anonymous:\n        read: { columns: [id, name, email, bio, website, joined_at] }",
    )]);
    let found = permissions(&blog, &emails);
    assert!(found.contains(&"dangerous ROLE_SCHEMA_CHANGED Author.email".to_string()), "{found:?}");
    assert!(permissions(&emails, &blog).contains(&"breaking ROLE_SCHEMA_CHANGED Author.email".to_string()));
    let seen: std::collections::BTreeSet<String> = [
        permissions(&open, &blog),
        permissions(&blog, &open),
        permissions(&blog, &more_roles),
        permissions(&more_roles, &blog),
        permissions(&blog, &tag_writer),
        permissions(&tag_writer, &blog),
        permissions(&blog, &everything_public),
        permissions(&everything_public, &blog),
        permissions(&blog, &archived_too),
        permissions(&archived_too, &blog),
        permissions(&blog, &archived_only),
    ]
    .concat()
    .iter()
    .map(|line| line.split(' ').nth(1).unwrap().to_string())
    .collect();
    let missing: Vec<String> = ChangeKind::ALL
        .iter()
        .filter(|k| **k >= ChangeKind::AccessControlAdded)
        .map(|k| k.code())
        .filter(|code| !seen.contains(code))
        .collect();
    assert!(missing.is_empty(), "permission change kinds without a case: {missing:?}");
}
