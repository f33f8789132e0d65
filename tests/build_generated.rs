//! Generated crates build and pass their own tests: the starter manifest from `init`, and every
//! example manifest besides the committed blog example (which the workspace builds itself).
//!
//! `tests/generated/<name>_*.rs`, when present, are copied into the generated crate's `tests/`
//! first, like a test its owner wrote.
//!
//! All of them share one cargo target directory, `target/generated-crates`, and the workspace's
//! Cargo.lock, so dependencies are compiled once.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn run(cmd: &mut Command) {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(out.status.success(), "{shown} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

fn gqlauto(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gqlauto"));
    c.current_dir(dir);
    c
}

/// `cargo <args>` in a generated crate, with the shared target directory and lock file.
fn cargo(krate: &Path, args: &[&str]) {
    cargo_with(krate, args, &[]);
}

/// [`cargo`] with extra environment variables.
fn cargo_with(krate: &Path, args: &[&str], vars: &[(&str, &str)]) {
    std::fs::copy(workspace().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let mut c = Command::new(env!("CARGO"));
    c.args(args).current_dir(krate).env("CARGO_TARGET_DIR", workspace().join("target/generated-crates"));
    c.envs(vars.iter().copied());
    run(&mut c);
}

/// The generated server, started on `db`; stopped when dropped.
struct Server {
    child: std::process::Child,
    base: String,
    agent: ureq::Agent,
}

impl Server {
    fn start(db: &Path) -> Server {
        use std::io::BufRead;
        let bin = workspace().join("target/generated-crates/debug/my-api");
        let mut child = Command::new(&bin)
            .env("DATABASE_URL", db)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let Some(base) = line.trim().strip_prefix("listening on ").map(str::to_string) else {
            let out = child.wait_with_output().unwrap();
            panic!("the server did not start: {line}{}", String::from_utf8_lossy(&out.stderr));
        };
        let config =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(std::time::Duration::from_secs(10))).build();
        Server { child, base, agent: config.into() }
    }

    fn data(&self, query: &str) -> serde_json::Value {
        let mut res = self.agent.post(format!("{}/graphql", self.base)).send_json(serde_json::json!({ "query": query })).unwrap();
        let body: serde_json::Value = res.body_mut().read_json().unwrap();
        assert!(body.get("errors").is_none(), "{query}: {body}");
        body["data"].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn init_generate_build_and_test_then_migrate_a_database_with_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(gqlauto(d).args(["init", "."]));
    run(gqlauto(d).args(["generate", "gqlauto.yaml", "--out", "server"]));
    cargo(&d.join("server"), &["test", "--quiet"]);

    // Rows written through the API of the first generation.
    let db = d.join("data.db");
    {
        let s = Server::start(&db);
        s.data(
            r##"mutation { createProject(input: {name: "Home", slug: "home", tasks: {create: [
            {title: "Paint the fence", notes: "white", priority: 2, labels: {create: [{name: "outside", color: "#00ff00"}]}},
            {title: "Fix the tap", estimateHours: "1.50"}]}}) { id } }"##,
        );
    }
    let manifest = d.join("gqlauto.yaml");
    let v1 = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(d.join("v1.yaml"), &v1).unwrap();
    // A rename that keeps its values, a dropped column, a new required column with a default.
    let v2 = v1
        .replace("      title: { type: string, max_length: 200 }", "      headline: { type: string, max_length: 200, renamed_from: title }")
        .replace("      - [project, title]", "      - [project, headline]")
        .replace("      notes: { type: text, nullable: true }\n", "")
        .replace(
            "      priority: { type: integer, default: 0 }",
            "      priority: { type: integer, default: 0 }\n      effort: { type: integer, default: 1, min: 1 }",
        );
    assert!(
        v2.contains("renamed_from") && !v2.contains("notes:") && v2.contains("effort"),
        "the starter manifest changed; update this edit"
    );
    std::fs::write(&manifest, &v2).unwrap();

    let diff = gqlauto(d).args(["diff", "v1.yaml", "gqlauto.yaml"]).output().unwrap();
    let report = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(1), "dropping a column breaks:\n{report}");
    for expected in [
        "[database] COLUMN_DROPPED: Column `tasks.notes`",
        "[database] COLUMN_RENAMED: Column `tasks.title` will be renamed to `tasks.headline`",
        "FIELD_REMOVED: Field `Task.title` was removed",
    ] {
        assert!(report.contains(expected), "{expected} missing from:\n{report}");
    }

    run(gqlauto(d).args(["generate", "gqlauto.yaml", "--out", "server"]));
    assert!(d.join("server/migrations/0002_alter_tasks/up.sql").exists());
    cargo(&d.join("server"), &["build", "--quiet"]);
    let s = Server::start(&db);
    let tasks = s.data("{ tasks(orderBy: [{id: ASC}]) { headline effort priority estimateHours project { name } labels { name color } } }");
    assert_eq!(
        tasks,
        serde_json::json!({"tasks": [
            {"headline": "Paint the fence", "effort": 1, "priority": 2, "estimateHours": null, "project": {"name": "Home"}, "labels": [{"name": "outside", "color": "#00ff00"}]},
            {"headline": "Fix the tap", "effort": 1, "priority": 0, "estimateHours": "1.50", "project": {"name": "Home"}, "labels": []}
        ]})
    );
    // The rebuilt table keeps its constraints: the renamed column is still unique per project.
    let mut res = s
        .agent
        .post(format!("{}/graphql", s.base))
        .send_json(serde_json::json!({"query": "mutation { createTask(input: {projectId: \"1\", headline: \"Fix the tap\"}) { id } }"}))
        .unwrap();
    let body: serde_json::Value = res.body_mut().read_json().unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNIQUE_VIOLATION", "{body}");
}

#[test]
fn every_example_builds_passes_its_tests_and_clippy() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["shop", "everything", "saas"] {
        let manifest = workspace().join(format!("model-specs/{name}.yaml"));
        let out = dir.path().join(name);
        run(gqlauto(dir.path()).arg("generate").arg(&manifest).arg("--out").arg(&out));
        // Extra end-to-end tests, placed in the crate the way its owner would add them.
        for extra in std::fs::read_dir(workspace().join("tests/generated")).unwrap() {
            let path = extra.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            if file.starts_with(&format!("{name}_")) {
                std::fs::copy(&path, out.join("tests").join(&file)).unwrap();
            }
        }
        // The multi-tenant example also fetches token keys from a URL (an optional feature).
        let features: &[&str] = if name == "saas" { &["--features", "jwks-url"] } else { &[] };
        cargo(&out, &[&["test", "--quiet"], features].concat());
        // Every end-to-end test again on PostgreSQL (the runtime's unit tests need no database):
        // decimals, uuid keys, JSON, dates and times, booleans and search in its native types,
        // tenants, upserts, checks and the permission matrix.
        match std::env::var("GQLAUTO_POSTGRES_URL") {
            Ok(url) => cargo_with(&out, &[&["test", "--quiet", "--tests"], features].concat(), &[("GQLAUTO_TEST_POSTGRES_URL", &url)]),
            Err(_) => postgres_missing(),
        }
    }
    cargo(&dir.path().join("everything"), &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"]);
}

/// Without a PostgreSQL server the PostgreSQL runs are skipped, except under `CI=true`.
fn postgres_missing() {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "GQLAUTO_POSTGRES_URL is not set: start a server with `.ci/postgres start`");
    eprintln!("skipped the PostgreSQL run: GQLAUTO_POSTGRES_URL is not set");
}

/// Generates `manifest` into `dir/name` and returns the crate's directory.
fn generate_synthetic(dir: &Path, name: &str, manifest: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, manifest).unwrap();
    let out = dir.join(name);
    run(gqlauto(dir).arg("generate").arg(&path).arg("--out").arg(&out));
    out
}

/// A schema the size of a real application, of every field, key and relation shape (tables that
/// point at each other, self-references, cycles, several relations between two models, join
/// models), builds with the compiler's default limits and passes its smoke test: a row of every
/// model created, read, listed, updated and deleted over HTTP, and the committed SDL equal to the
/// running schema. Its three roles' grants (conditions through relations and claims, column
/// lists, writes limited by rows) pass the permission matrix: every role's schema as decided, and
/// every read path agreeing on the rows each role sees. Both run on SQLite and on PostgreSQL.
#[test]
fn a_200_model_schema_of_every_shape_builds_and_passes_its_smoke_test() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = gqlauto::synth::manifest(200, 1);
    assert!(manifest.contains("type: one_to_one") && manifest.contains("type: many_to_many") && manifest.contains("primary_key: true"));
    let out = generate_synthetic(dir.path(), "large", &manifest);
    // The runtime's own unit tests run in the other example crates.
    cargo(&out, &["test", "--quiet", "--test", "smoke", "--test", "schema", "--test", "permission_matrix"]);
    // Every shape again on PostgreSQL: its migrations, keys, relations and grants.
    match std::env::var("GQLAUTO_POSTGRES_URL") {
        Ok(url) => {
            cargo_with(&out, &["test", "--quiet", "--test", "smoke", "--test", "permission_matrix"], &[("GQLAUTO_TEST_POSTGRES_URL", &url)])
        }
        Err(_) => postgres_missing(),
    }
}

/// Randomized manifests: whatever shapes a seed draws, the crate compiles without a warning.
#[test]
fn randomized_manifests_compile_warning_free() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [2, 3, 4] {
        let out = generate_synthetic(dir.path(), &format!("seed{seed}"), &gqlauto::synth::manifest(100, seed));
        cargo(&out, &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"]);
    }
}

/// 500 models of every shape build and serve the schema committed for them (per-model code is a
/// static table, so this takes seconds; `bench/compile-time.sh` measures the curve).
#[test]
fn a_500_model_schema_builds_and_serves_its_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = generate_synthetic(dir.path(), "huge", &gqlauto::synth::manifest(500, 1));
    cargo(&out, &["test", "--quiet", "--test", "schema"]);
}
