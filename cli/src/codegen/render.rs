//! The output table, the template environment, and formatting of rendered text.

use std::collections::BTreeMap;
use std::fmt;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::crate_view::crate_view;
use super::dialect::Dialect;
use super::output::{FileSet, GeneratedFile, Options, Owner};
use super::view::{CrateView, ModelView};
use crate::ir::Ir;

/// How a file's text is finished after rendering: formatting and the do-not-edit header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rust,
    Toml,
    Sql,
    Graphql,
    Markdown,
    /// The runtime: Rust copied as it is in `templates/`, not rendered, so every generated crate
    /// holds the same bytes (what varies per manifest is in the rendered `src/settings.rs`).
    Runtime,
}

/// One row of the output table: which template renders which file.
struct Output {
    /// Template name (its path under `templates/crate/`) and source.
    template: (&'static str, &'static str),
    /// Output path; `{model}` is replaced by the model's snake_case name.
    path: &'static str,
    per_model: bool,
    /// One file per declared role (`{role}` in the path).
    per_role: bool,
    kind: Kind,
    owner: Owner,
}

/// A template's name and its source, compiled into the binary.
macro_rules! template {
    ($path:literal) => {
        ($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../templates/crate/", $path)))
    };
}

const fn out(template: (&'static str, &'static str), path: &'static str, kind: Kind) -> Output {
    Output { template, path, per_model: false, per_role: false, kind, owner: Owner::Generator }
}

const fn runtime(source: (&'static str, &'static str)) -> Output {
    Output { template: source, path: source.0, per_model: false, per_role: false, kind: Kind::Runtime, owner: Owner::Generator }
}

const fn per_model(template: (&'static str, &'static str), path: &'static str) -> Output {
    Output { template, path, per_model: true, per_role: false, kind: Kind::Rust, owner: Owner::Generator }
}

/// Every file of a generated crate but the stamp, in rendering order (the stamp, which lists the
/// others, is added last).
const OUTPUTS: &[Output] = &[
    out(template!("Cargo.toml.j2"), "Cargo.toml", Kind::Toml),
    out(template!("README.md.j2"), "README.md", Kind::Markdown),
    out(template!("diesel.toml.j2"), "diesel.toml", Kind::Toml),
    out(template!("schema.graphql.j2"), "schema.graphql", Kind::Graphql),
    Output {
        template: template!("schema.graphql.j2"),
        path: "schemas/{role}.graphql",
        per_model: false,
        per_role: true,
        kind: Kind::Graphql,
        owner: Owner::Generator,
    },
    out(template!("migrations/initial/up.sql.j2"), "migrations/0001_initial/up.sql", Kind::Sql),
    out(template!("migrations/initial/down.sql.j2"), "migrations/0001_initial/down.sql", Kind::Sql),
    out(template!("src/main.rs.j2"), "src/main.rs", Kind::Rust),
    out(template!("src/lib.rs.j2"), "src/lib.rs", Kind::Rust),
    out(template!("src/schema.rs.j2"), "src/schema.rs", Kind::Rust),
    out(template!("src/settings.rs.j2"), "src/settings.rs", Kind::Rust),
    Output {
        template: template!("src/hooks.rs.j2"),
        path: "src/hooks.rs",
        per_model: false,
        per_role: false,
        kind: Kind::Rust,
        owner: Owner::User,
    },
    runtime(template!("src/runtime/access.rs")),
    runtime(template!("src/runtime/api.rs")),
    runtime(template!("src/runtime/mod.rs")),
    runtime(template!("src/runtime/auth.rs")),
    runtime(template!("src/runtime/batch.rs")),
    runtime(template!("src/runtime/budget.rs")),
    runtime(template!("src/runtime/cache.rs")),
    runtime(template!("src/runtime/check.rs")),
    runtime(template!("src/runtime/config.rs")),
    runtime(template!("src/runtime/context.rs")),
    runtime(template!("src/runtime/convert.rs")),
    runtime(template!("src/runtime/db.rs")),
    runtime(template!("src/runtime/error.rs")),
    runtime(template!("src/runtime/filter.rs")),
    runtime(template!("src/runtime/guard.rs")),
    runtime(template!("src/runtime/input.rs")),
    runtime(template!("src/runtime/keys.rs")),
    runtime(template!("src/runtime/plan.rs")),
    runtime(template!("src/runtime/metrics.rs")),
    runtime(template!("src/runtime/model.rs")),
    runtime(template!("src/runtime/order.rs")),
    runtime(template!("src/runtime/paging.rs")),
    runtime(template!("src/runtime/postgres.rs")),
    runtime(template!("src/runtime/read.rs")),
    runtime(template!("src/runtime/record.rs")),
    runtime(template!("src/runtime/scalars.rs")),
    runtime(template!("src/runtime/secret.rs")),
    runtime(template!("src/runtime/select.rs")),
    runtime(template!("src/runtime/server.rs")),
    runtime(template!("src/runtime/sql.rs")),
    runtime(template!("src/runtime/write.rs")),
    out(template!("src/models/mod.rs.j2"), "src/models/mod.rs", Kind::Rust),
    per_model(template!("src/models/table.rs.j2"), "src/models/{model}.rs"),
    out(template!("src/graphql/tables.rs.j2"), "src/graphql/mod.rs", Kind::Rust),
    out(template!("tests/schema.rs.j2"), "tests/schema.rs", Kind::Rust),
    out(template!("tests/gqlauto/mod.rs.j2"), "tests/gqlauto/mod.rs", Kind::Rust),
    out(template!("tests/smoke.rs.j2"), "tests/smoke.rs", Kind::Rust),
    out(template!("tests/permission_matrix.rs.j2"), "tests/permission_matrix.rs", Kind::Rust),
];

/// A template failed to render, or rendered Rust that does not parse.
#[derive(Debug)]
pub struct RenderError {
    pub template: String,
    pub message: String,
    /// The rendered text, when it was produced but could not be parsed.
    pub raw: Option<String>,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "template `{}`: {}", self.template, self.message)?;
        if let Some(raw) = &self.raw {
            for (i, line) in raw.lines().enumerate() {
                writeln!(f, "{:>5} | {line}", i + 1)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for RenderError {}

/// What every template can see; per-model templates also see `m`, their model.
#[derive(Serialize)]
struct TemplateContext<'a> {
    #[serde(flatten)]
    krate: &'a CrateView,
    sdl: &'a str,
    /// The declared roles' names.
    roles: &'a [String],
    /// The permission matrix test's data, as a Rust raw string literal of JSON.
    permission_matrix: &'a str,
    /// Markdown table rows: model, role and what each operation grants.
    permission_rows: &'a [String],
    /// The role the smoke test acts in (one that may do everything), when roles are declared.
    smoke_role: Option<&'a str>,
    smoke: &'a [super::smoke::SmokeStep],
    /// Models the smoke test cannot create (required foreign keys in a cycle).
    smoke_skipped: &'a [String],
    /// A Rust string literal of the SQL creating unmanaged models' tables, or empty.
    smoke_tables: &'a str,
    /// [`Self::smoke_tables`] on PostgreSQL.
    smoke_tables_postgres: &'a str,
    /// The manifest's path relative to the crate.
    manifest: &'a str,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    let syntax = minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(true).build();
    env.set_syntax(syntax.expect("the default delimiters are valid"));
    for o in OUTPUTS.iter().filter(|o| o.kind != Kind::Runtime) {
        let (name, source) = o.template;
        env.add_template(name, source).expect("embedded templates are checked by the test suite");
    }
    env
}

/// What the generated tests run to create the unmanaged models' tables before the server starts.
/// They are created before the server's own tables, so on PostgreSQL, which checks a reference
/// when it is declared, their foreign keys to each other are added once they all exist, and those
/// to the server's tables are left out (the tests only need the tables to hold rows).
fn unmanaged_tables(ir: &Ir, d: Dialect) -> Vec<String> {
    let tables = super::tables::Tables::unmanaged(ir, d).0;
    let mut created = std::collections::BTreeSet::new();
    let (mut sql, mut later) = (Vec::new(), Vec::new());
    for t in tables.values() {
        let (now, after) = t.create_before(|name| created.contains(name));
        created.insert(t.name.as_str());
        sql.extend(now);
        later.extend(after);
    }
    let among = |s: &String| tables.values().any(|t| s.contains(&format!(" REFERENCES {} (", super::dialect::ident(&t.name))));
    sql.extend(later.into_iter().filter(among));
    sql
}

pub fn render_crate(ir: &Ir, options: &Options) -> Result<FileSet, RenderError> {
    let view = crate_view(ir);
    let sdl = super::roles::full_sdl(ir, &view);
    let role_sdls: BTreeMap<String, String> =
        ir.roles.iter().map(|r| (format!("schemas/{}.graphql", r.name), super::roles::role_sdl(ir, &view, &r.name))).collect();
    let role_names: Vec<String> = ir.roles.iter().map(|r| r.name.clone()).collect();
    let (smoke, smoke_skipped) = super::smoke::plan(ir, &view);
    let unmanaged = |d: Dialect| {
        let sql = unmanaged_tables(ir, d);
        if sql.is_empty() {
            String::new()
        } else {
            raw_string(&sql.join("\n\n"))
        }
    };
    let (smoke_tables, smoke_tables_postgres) = (unmanaged(Dialect::Sqlite), unmanaged(Dialect::Postgres));
    let mut planned: Vec<(&Output, Option<&ModelView>, String)> = Vec::new();
    for o in OUTPUTS {
        if o.per_model {
            planned.extend(view.models.iter().map(|m| (o, Some(m), o.path.replace("{model}", &m.snake))));
        } else if o.per_role {
            planned.extend(ir.roles.iter().map(|r| (o, None, o.path.replace("{role}", &r.name))));
        } else {
            planned.push((o, None, o.path.to_string()));
        }
    }
    let env = environment();
    // Each dialect's migrations: the initial one for a first generation; after it, the ones on disk
    // as they are plus one for what the manifest changed. They stand where the initial migration's
    // templates stand in the output table.
    let mut migrations = BTreeMap::new();
    for d in Dialect::ALL {
        migrations.extend(migrations_of(&env, ir, options.history.as_ref(), d, &options.manifest_path)?);
    }
    planned.retain(|(o, _, _)| !o.template.0.starts_with("migrations/"));
    let mut owned: Vec<String> = planned.iter().filter(|(o, _, _)| o.owner == Owner::Generator).map(|(_, _, p)| p.clone()).collect();
    let at = owned.iter().position(|p| p.starts_with("src/")).unwrap_or(owned.len());
    // Each directory's up.sql before its down.sql.
    let mut paths: Vec<&String> = migrations.keys().collect();
    paths.sort_by_key(|p| (p.rsplit_once('/').map(|(dir, _)| dir.to_string()), !p.ends_with("/up.sql")));
    owned.splice(at..at, paths.into_iter().cloned());
    // Converted to a template value once: serializing the whole crate view per file made
    // rendering quadratic in the number of models.
    let shared = minijinja::Value::from(minijinja::value::Serde(TemplateContext {
        krate: &view,
        sdl: &sdl,
        roles: &role_names,
        smoke_role: ir.roles.iter().find(|r| r.all).map(|r| r.name.as_str()),
        permission_rows: &permission_rows(ir),
        permission_matrix: &raw_string(&super::access_test::matrix(ir, &view)),
        smoke: &smoke,
        smoke_skipped: &smoke_skipped,
        smoke_tables: &smoke_tables,
        smoke_tables_postgres: &smoke_tables_postgres,
        manifest: &options.manifest_path,
    }));
    let mut files = FileSet::new();
    for (o, m, path) in planned {
        let ctx = match (m, role_sdls.get(&path)) {
            (Some(m), _) => minijinja::context! { m => minijinja::Value::from(minijinja::value::Serde(m)), ..shared.clone() },
            (None, Some(sdl)) => minijinja::context! { sdl => sdl, ..shared.clone() },
            (None, None) => shared.clone(),
        };
        let (name, source) = o.template;
        let contents = if o.kind == Kind::Runtime {
            finish(o, source, &options.manifest_path)?
        } else {
            let failed = |message: String| RenderError { template: name.into(), message, raw: None };
            let template = env.get_template(name).map_err(|e| failed(e.to_string()))?;
            let text = template.render(ctx).map_err(|e| failed(format!("{e:#}")))?;
            finish(o, &text, &options.manifest_path)?
        };
        files.insert(path, GeneratedFile { contents, owner: o.owner });
    }
    for (path, contents) in migrations {
        files.insert(path, GeneratedFile { contents, owner: Owner::Generator });
    }
    owned.push(crate::stamp::FILE.to_string());
    let stamp = crate::stamp::Stamp {
        version: crate::VERSION,
        manifest: &options.manifest_path,
        manifest_sha256: &options.manifest_sha256,
        files: &owned,
        manifest_source: &options.manifest_source,
    };
    files.insert(crate::stamp::FILE.to_string(), GeneratedFile { contents: stamp.render(), owner: Owner::Generator });
    Ok(files)
}

/// The generated README's permission table: one row per model and role.
fn permission_rows(ir: &Ir) -> Vec<String> {
    let grant = |m: &crate::ir::Model, g: &Option<crate::ir::Grant>| -> String {
        let Some(g) = g else { return "—".into() };
        let mut parts = Vec::new();
        if let Some(c) = &g.condition {
            parts.push(format!("rows: `{c}`"));
        }
        if let Some(columns) = &g.columns {
            let names: Vec<&str> = columns.iter().map(|&i| m.fields[i].graphql_name.as_str()).collect();
            parts.push(format!("fields: {}", names.join(", ")));
        }
        if !g.preset.is_empty() {
            let presets: Vec<String> =
                g.preset.iter().map(|(i, claim)| format!("{} = claim `{claim}`", m.fields[*i].graphql_name)).collect();
            parts.push(format!("preset: {}", presets.join(", ")));
        }
        if let Some(c) = &g.check {
            parts.push(format!("check: `{c}`"));
        }
        if parts.is_empty() {
            parts.push("yes".into());
        }
        parts.join("; ").replace('|', "\\|")
    };
    let mut rows = Vec::new();
    for m in &ir.models {
        for p in &m.permissions {
            rows.push(format!(
                "| {} | {} | {} | {} | {} | {} |",
                m.name,
                p.role,
                grant(m, &p.read),
                grant(m, &p.create),
                grant(m, &p.update),
                grant(m, &p.delete)
            ));
        }
    }
    rows
}

/// One dialect's migration files. A first generation (or the first to write this dialect's
/// directory) writes the initial migration; later ones keep those already written and add one for
/// what changed since the previous generation.
fn migrations_of(
    env: &Environment,
    ir: &Ir,
    history: Option<&super::output::History>,
    d: Dialect,
    manifest: &str,
) -> Result<BTreeMap<String, String>, RenderError> {
    let root = d.migrations_dir();
    let prefix = format!("{root}/");
    let render = |dir: &str, up: &Vec<String>, down: &Vec<String>| -> Result<BTreeMap<String, String>, RenderError> {
        let mut files = BTreeMap::new();
        for (file, template, statements) in
            [("up.sql", "migrations/initial/up.sql.j2", up), ("down.sql", "migrations/initial/down.sql.j2", down)]
        {
            let output = OUTPUTS.iter().find(|o| o.template.0 == template).expect("migration templates are in the output table");
            let failed = |message: String| RenderError { template: template.into(), message, raw: None };
            let text = env
                .get_template(template)
                .and_then(|t| t.render(minijinja::context! { migration_up => statements, migration_down => statements }))
                .map_err(|e| failed(format!("{e:#}")))?;
            files.insert(format!("{dir}/{file}"), finish(output, &text, manifest)?);
        }
        Ok(files)
    };
    let written: BTreeMap<String, String> = history
        .map(|h| h.migrations.iter().filter(|(p, _)| p.starts_with(&prefix)).map(|(p, t)| (p.clone(), t.clone())).collect())
        .unwrap_or_default();
    let Some(history) = history.filter(|_| !written.is_empty()) else {
        let (up, down) = super::migrate::initial(ir, d);
        return render(&format!("{root}/0001_initial"), &up, &down);
    };
    let mut files = written;
    let (before, after) = super::tables::Tables::pair(&history.previous, ir, d);
    let Some(m) = super::migrate::between(&before, &after) else {
        return Ok(files);
    };
    // Numbered after the highest migration on disk, so a user's own migrations keep their place.
    let listed = files.keys().filter_map(|p| p.strip_prefix(&prefix)?.split('_').next()?.parse::<u32>().ok()).max();
    let last = listed.unwrap_or(0).max(history.last_number.get(root).copied().unwrap_or(0));
    files.extend(render(&format!("{root}/{:04}_{}", last + 1, m.name), &m.up, &m.down)?);
    Ok(files)
}

/// Formats rendered text and prefixes generator-owned files with the do-not-edit header.
fn finish(o: &Output, text: &str, manifest: &str) -> Result<String, RenderError> {
    let body = match o.kind {
        Kind::Rust => format_rust(o.template.0, text, o.per_model)?,
        Kind::Runtime => text.to_string(),
        _ => tidy(text),
    };
    if o.owner == Owner::User {
        return Ok(body);
    }
    let notice = [
        format!("@generated by gqlauto from {manifest}. Do not edit this file: change the manifest and run"),
        format!("`gqlauto generate {manifest} --out .` in this directory."),
    ];
    let comment = |prefix: &str| notice.iter().map(|l| format!("{prefix} {l}\n")).collect::<String>();
    Ok(match o.kind {
        Kind::Rust => format!("{}{LEAVE_TO_GQLAUTO}\n{body}", comment("//")),
        Kind::Toml | Kind::Graphql => format!("{}\n{body}", comment("#")),
        Kind::Sql => format!("{}\n{body}", comment("--")),
        Kind::Markdown => format!("<!-- {} {} -->\n\n{body}", notice[0], notice[1]),
        // Without the manifest's name: the runtime is the same bytes in every crate.
        Kind::Runtime => format!(
            "// @generated by gqlauto: the runtime, the same in every generated crate. Do not edit this\n\
             // file: it is written again by every `gqlauto generate`.\n{LEAVE_TO_GQLAUTO}\n{body}"
        ),
    })
}

/// Keeps `cargo fmt` from reformatting a generated Rust file (whatever the owner's rustfmt
/// settings), so a workspace's `cargo fmt --check` passes and `gqlauto generate --check` still
/// finds the crate as gqlauto wrote it. `cfg_attr(rustfmt, ...)` is how a skip is written as an
/// inner attribute on stable Rust: the compiler never sets `rustfmt`, and rustfmt honours it.
const LEAVE_TO_GQLAUTO: &str = "#![cfg_attr(rustfmt, rustfmt::skip)]\n";

/// Parses and pretty-prints Rust; a parse failure shows the numbered rendered text. Per-model
/// modules import only what they use (see `imports`).
fn format_rust(template: &str, text: &str, prune_imports: bool) -> Result<String, RenderError> {
    match syn::parse_file(text) {
        Ok(mut file) => {
            if prune_imports {
                super::imports::prune(&mut file);
            }
            Ok(space_items(&prettyplease::unparse(&file)))
        }
        Err(e) => {
            let at = e.span().start();
            Err(RenderError {
                template: template.into(),
                message: format!("rendered Rust does not parse at line {}, column {}: {e}", at.line, at.column + 1),
                raw: Some(text.to_string()),
            })
        }
    }
}

/// prettyplease packs items together; a blank line after the module docs, after the imports and
/// after each closing brace at item level makes the output read like hand-written code.
fn space_items(text: &str) -> String {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev: Option<&str> = None;
    for line in text.lines() {
        if let Some(p) = prev {
            let (pt, ct) = (p.trim(), line.trim());
            let after_block =
                matches!(pt, "}" | "};") && indent(p) == indent(line) && !ct.starts_with(['}', ')', ']', '.']) && !ct.starts_with("else");
            let after_docs = pt.starts_with("//!") && !ct.starts_with("//!");
            let after_uses = p.starts_with("use ") && !line.starts_with("use ") && indent(line) == 0;
            if !ct.is_empty() && (after_block || after_docs || after_uses) {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        prev = Some(line);
    }
    out
}

/// Trailing spaces removed, blank runs collapsed to one blank line, exactly one final newline.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `text` as a Rust raw string literal, with as many `#` as it needs.
fn raw_string(text: &str) -> String {
    let hashes = (0..).map(|n| "#".repeat(n)).find(|h| !text.contains(&format!("\"{h}"))).expect("some count of # is not in the text");
    format!("r{hashes}\"{text}\"{hashes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_strings_end_where_the_text_does() {
        assert_eq!(raw_string("CHECK (a IN ('x'))"), "r\"CHECK (a IN ('x'))\"");
        assert_eq!(raw_string("DEFAULT \"q\""), "r#\"DEFAULT \"q\"\"#");
        assert_eq!(raw_string("a \"# b"), "r##\"a \"# b\"##");
    }

    #[test]
    fn every_template_parses_and_every_output_path_is_unique() {
        environment();
        let mut paths: Vec<&str> = OUTPUTS.iter().map(|o| o.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), OUTPUTS.len());
    }

    #[test]
    fn every_template_file_renders_an_output() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/crate");
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let name = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                    assert!(OUTPUTS.iter().any(|o| o.template.0 == name), "templates/crate/{name} renders nothing");
                }
            }
        }
    }

    #[test]
    fn unparseable_rust_names_the_template_and_numbers_lines() {
        let err = format_rust("src/x.rs.j2", "fn main() {\n  let = ;\n}\n", false).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("template `src/x.rs.j2`: rendered Rust does not parse at line 2"), "{shown}");
        assert!(shown.contains("    2 |   let = ;"), "{shown}");
    }

    /// The runtime is written as it is in `templates/`: it must be Rust, formatted as `rustfmt`
    /// formats it with its default settings (the generated crate has no `rustfmt.toml`), so a
    /// user's `cargo fmt --check` leaves it alone.
    #[test]
    fn the_runtime_is_rust_as_rustfmt_writes_it() {
        let sources: Vec<&Output> = OUTPUTS.iter().filter(|o| o.kind == Kind::Runtime).collect();
        assert!(sources.len() >= 20);
        for o in &sources {
            if let Err(e) = syn::parse_file(o.template.1) {
                let at = e.span().start();
                panic!("templates/crate/{}:{}:{}: {e}", o.template.0, at.line, at.column + 1);
            }
        }
        let config = std::env::temp_dir().join(format!("gqlauto-rustfmt-defaults-{}", std::process::id()));
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(config.join("rustfmt.toml"), "").unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/crate");
        let run = std::process::Command::new("rustfmt")
            .args(["--edition", "2021", "--check", "--config-path"])
            .arg(config.join("rustfmt.toml"))
            .args(sources.iter().map(|o| root.join(o.template.0)))
            .output();
        let _ = std::fs::remove_dir_all(&config);
        match run {
            Ok(out) => assert!(
                out.status.success(),
                "the runtime is not as rustfmt writes it; run `rustfmt --edition 2021 --config-path <empty rustfmt.toml> templates/crate/src/runtime/*.rs`:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) if std::env::var_os("CI").is_none() => eprintln!("skipped: rustfmt did not run ({e})"),
            Err(e) => panic!("rustfmt did not run ({e}); CI needs it"),
        }
    }

    #[test]
    fn items_are_separated_by_blank_lines() {
        let spaced = space_items("//! Doc.\nuse a::b;\nuse c::d;\nstruct A {\n    x: i32,\n}\nimpl A {\n    fn f() {\n        if x {\n        } else {\n        }\n    }\n    fn g() {}\n}\n");
        assert_eq!(spaced, "//! Doc.\n\nuse a::b;\nuse c::d;\n\nstruct A {\n    x: i32,\n}\n\nimpl A {\n    fn f() {\n        if x {\n        } else {\n        }\n    }\n\n    fn g() {}\n}\n");
    }

    #[test]
    fn tidy_collapses_blank_runs() {
        assert_eq!(tidy("\n\na  \n\n\n\nb\n\n"), "a\n\nb\n");
    }
}
