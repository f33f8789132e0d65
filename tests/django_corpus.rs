//! The Django import on a real stack: `tests/django/corpus` installs popular Django apps from PyPI
//! together (an e-commerce framework, a CMS, authentication and OAuth, task queues, audit, tagging,
//! trees, money, a forum's and a help desk's worth of models, Stripe, a ledger) and the whole path
//! runs on it: import -> check -> generate -> build -> Django's migrations on a real SQLite file ->
//! every model's row written by the ORM read over GraphQL -> a row written over GraphQL for every
//! model found by the ORM with equality and range lookups on every field.
//!
//! It runs on Django 5.2 and on the 4.2 LTS, each with the apps' releases pip chose for it, pinned
//! in `tests/django/corpus/requirements.txt` and `requirements-django4.2.txt`;
//! `GQLAUTO_DJANGO_CORPUS_PYTHON` and `GQLAUTO_DJANGO_CORPUS_42_PYTHON` name interpreters that
//! have them (`.ci/run` makes the virtualenvs). Without one the test is skipped, except under
//! `CI=true`, where it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gqlauto::ir::{FieldKind, Ir, Model, PkKind, ScalarKind};
use serde_json::{json, Value};

/// Models of the corpus the import knowingly leaves out, and why (each is a known gap): none.
const LEFT_OUT: &[(&str, &str)] = &[];

/// The share of models that must round-trip both ways.
const REQUIRED_SHARE: f64 = 0.95;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn python(variable: &str, requirements: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{variable} is not set: .ci/run installs the corpus into a virtualenv");
            eprintln!("skipped: set {variable} to a Python with tests/django/corpus/{requirements} installed");
            None
        }
    }
}

fn run(cmd: &mut Command) -> (String, String) {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "{shown} failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

struct Server(std::process::Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// The data, or the errors' messages.
    fn post(&self, query: &str, variables: Value) -> Result<Value, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut res = agent
            .post(format!("{}/graphql", self.1))
            .send_json(json!({ "query": query, "variables": variables }))
            .map_err(|e| e.to_string())?;
        let body: Value = res.body_mut().read_json().map_err(|e| e.to_string())?;
        match body.get("errors") {
            Some(errors) => Err(errors.to_string()),
            None => Ok(body["data"].clone()),
        }
    }
}

/// Tag managers through a generic model (taggit's, on wagtail's documents and images): the tags
/// Django adds to a row are the ones the API reads (at once, though it had the row's answer
/// cached), and the links the API writes (with the row's content type) are the ones Django's
/// manager reads and its lookups find.
fn tag_managers(server: &Server, ir: &Ir, seeded: &Value, django: &dyn Fn(&[&str]) -> String, d: &Path, script: &Path) {
    let managers: Vec<(&Model, &gqlauto::ir::ManyToMany)> =
        ir.models.iter().flat_map(|m| m.many_to_many.iter().filter(|r| r.scope.is_some()).map(move |r| (m, r))).collect();
    assert!(managers.len() >= 2, "wagtail's documents and images are tagged through taggit's generic TaggedItem");
    let plan: Vec<Value> = managers
        .iter()
        .map(|(m, r)| {
            let pk = &seeded["rows"][&m.table]["pk"];
            assert!(!pk.is_null(), "{}: the ORM made no row to tag", m.table);
            json!({"table": m.table, "pk": pk, "field": r.name})
        })
        .collect();
    let tags_query = |m: &Model, r: &gqlauto::ir::ManyToMany| {
        let lookup = gqlauto::ir::names::to_camel(&m.snake);
        format!("query($id: ID!) {{ row: {lookup}(id: $id) {{ tags: {}(orderBy: [{{name: ASC}}]) {{ id name }} }} }}", r.graphql_name)
    };
    // Asked twice before Django tags the rows: the second answer is the server's cached one, which
    // Django's commit below must retire.
    for ((m, r), item) in managers.iter().zip(&plan) {
        let key = item["pk"].as_str().map_or(item["pk"].to_string(), str::to_string);
        for _ in 0..2 {
            let before = server.post(&tags_query(m, r), json!({ "id": key })).unwrap_or_else(|e| panic!("{}: {e}", m.table));
            assert_eq!(before["row"]["tags"], json!([]), "{}: no tags yet", m.table);
        }
    }
    let plan_path = d.join("tags.json");
    std::fs::write(&plan_path, Value::Array(plan.clone()).to_string()).unwrap();
    let extra_path = d.join("tags-extra.json");
    django(&[script.to_str().unwrap(), "tag", plan_path.to_str().unwrap(), extra_path.to_str().unwrap()]);
    let extra: Value = serde_json::from_str(&std::fs::read_to_string(&extra_path).unwrap()).unwrap();
    for ((m, r), item) in managers.iter().zip(&plan) {
        let key = item["pk"].as_str().map_or(item["pk"].to_string(), str::to_string);
        let read = server.post(&tags_query(m, r), json!({ "id": key })).unwrap_or_else(|e| panic!("{}: {e}", m.table));
        let tags = read["row"]["tags"].as_array().unwrap_or_else(|| panic!("{}: {read}", m.table)).clone();
        let names: Vec<&str> = tags.iter().filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(names, ["from-django-1", "from-django-2"], "{}: the tags Django added, read over the API at once", m.table);
        let update = gqlauto::ir::names::to_camel(&format!("update_{}", m.snake));
        let mutation = format!(
            "mutation($id: ID!, $add: ID!, $drop: ID!) {{ {update}(id: $id, input: {{ {}: {{ connect: [$add], disconnect: [$drop] }} }}) {{ id }} }}",
            r.graphql_name
        );
        let add = extra[&m.table].as_str().map_or(extra[&m.table].to_string(), str::to_string);
        server.post(&mutation, json!({ "id": key, "add": add, "drop": tags[0]["id"] })).unwrap_or_else(|e| panic!("{}: {e}", m.table));
    }
    let found_path = d.join("tags-found.json");
    django(&[script.to_str().unwrap(), "tagged", plan_path.to_str().unwrap(), found_path.to_str().unwrap()]);
    let found: BTreeMap<String, Vec<String>> = serde_json::from_str(&std::fs::read_to_string(&found_path).unwrap()).unwrap();
    for (table, failures) in found {
        assert!(failures.is_empty(), "{table}: {failures:?}");
    }
}

/// `# app.Model (table t)` comments of the imported manifest: table -> `app.Model`.
fn labels(manifest: &str) -> BTreeMap<String, String> {
    manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# ")?.split_once(" (table "))
        .filter_map(|(label, rest)| Some((rest.split(')').next()?.to_string(), label.to_string())))
        .filter(|(_, label)| label.contains('.') && !label.contains(' '))
        .collect()
}

/// A value as a comparable string: date-times without a UTC suffix and with `T`, fractions and
/// decimals without trailing zeros, enum values in lower case, UUIDs without hyphens.
fn canonical(kind: &FieldKind, v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => return "null".into(),
        other => other.to_string(),
    };
    let trim_fraction = |s: &str| -> String {
        match s.split_once('.') {
            Some((whole, frac)) => {
                let frac = frac.trim_end_matches('0');
                if frac.is_empty() {
                    whole.to_string()
                } else {
                    format!("{whole}.{frac}")
                }
            }
            None => s.to_string(),
        }
    };
    match kind {
        FieldKind::Scalar(ScalarKind::DateTime) => {
            let s = text.replace(' ', "T");
            let s = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00")).unwrap_or(&s);
            trim_fraction(s)
        }
        FieldKind::Scalar(ScalarKind::Time) => trim_fraction(&text),
        FieldKind::Scalar(ScalarKind::Decimal { .. }) => {
            let t = trim_fraction(&text);
            if t == "-0" {
                "0".into()
            } else {
                t
            }
        }
        FieldKind::Scalar(ScalarKind::Float) => text.parse::<f64>().map_or(text, |f| format!("{:.9e}", f)),
        FieldKind::Scalar(ScalarKind::Enum { .. }) => text.to_lowercase(),
        FieldKind::Scalar(ScalarKind::Json) => v.to_string(),
        FieldKind::Scalar(ScalarKind::Uuid) | FieldKind::PrimaryKey(PkKind::Uuid) => text.replace('-', ""),
        FieldKind::ForeignKey { target_pk: PkKind::Uuid, .. } => text.replace('-', ""),
        _ => text,
    }
}

/// The GraphQL name a field is read and written by.
fn api_name(f: &gqlauto::ir::Field) -> String {
    match f.kind {
        FieldKind::ForeignKey { .. } => format!("{}Id", f.graphql_name),
        _ => f.graphql_name.clone(),
    }
}

/// Fields read back: every readable column but the key (the row is found by it).
fn readable(m: &Model) -> Vec<&gqlauto::ir::Field> {
    m.fields.iter().enumerate().filter(|(i, f)| *i != m.pk && f.readable()).map(|(_, f)| f).collect()
}

/// Checks that the API reads row `a` as Django wrote it; returns what differs.
fn read_back(server: &Server, m: &Model, seeded: &Value) -> Vec<String> {
    let fields = readable(m);
    let selection: Vec<String> = fields.iter().map(|f| api_name(f)).collect();
    let lookup = gqlauto::ir::names::to_camel(&m.snake);
    let key = seeded["pk"].as_str().map_or(seeded["pk"].to_string(), str::to_string);
    let query = format!("query($id: ID!) {{ row: {lookup}(id: $id) {{ id {} }} }}", selection.join(" "));
    let row = match server.post(&query, json!({ "id": key })) {
        Ok(data) => data["row"].clone(),
        Err(e) => return vec![format!("read failed: {e}")],
    };
    if row.is_null() {
        return vec![format!("no row with id {key}")];
    }
    let mut failures = Vec::new();
    for f in fields {
        let stored = &seeded["a"][&f.column];
        let read = &row[api_name(f)];
        let (want, got) = (canonical(&f.kind, stored), canonical(&f.kind, read));
        if want != got {
            failures.push(format!("{}: Django wrote {stored}, the API reads {read}", f.name));
        }
    }
    failures
}

/// The input that writes row `b`'s values through the API (a child of multi-table inheritance is
/// created under the row it extends, which the ORM kept).
fn input_of(m: &Model, seeded: &Value) -> Value {
    let mut input = serde_json::Map::new();
    for (i, f) in m.fields.iter().enumerate() {
        let v = &seeded["b"][&f.column];
        if i == m.pk {
            // A generated key is left out, unless it is the link to the row this one extends.
            if matches!(f.kind, FieldKind::PrimaryKey(k) if k.is_generated()) && m.parent.is_none() {
                continue;
            }
            input.insert("id".into(), v.as_str().map_or(v.clone(), |s| Value::String(s.into())));
            continue;
        }
        let value = match (&f.kind, v) {
            (_, Value::Null) => Value::Null,
            (FieldKind::Scalar(ScalarKind::Enum { .. }), Value::String(s)) => Value::String(s.to_uppercase()),
            (FieldKind::ForeignKey { .. }, Value::Number(n)) => Value::String(n.to_string()),
            (FieldKind::Scalar(ScalarKind::BigInteger), Value::Number(n)) => Value::String(n.to_string()),
            (_, v) => v.clone(),
        };
        input.insert(api_name(f), value);
    }
    Value::Object(input)
}

/// Creates a row from `b`'s values; the key the API gave it, and the values by column.
fn write(server: &Server, m: &Model, seeded: &Value) -> Result<Value, String> {
    if let Some(e) = seeded.get("b_error") {
        return Err(format!("the ORM could not make a second row: {e}"));
    }
    let input = input_of(m, seeded);
    let create = gqlauto::ir::names::to_camel(&format!("create_{}", m.snake));
    // A model of only a generated key (`wagtailadmin.Admin`) is created without an input.
    let data = match m.has_create_input() {
        true => {
            let query = format!("mutation($input: Create{}Input!) {{ row: {create}(input: $input) {{ id }} }}", m.name);
            server.post(&query, json!({ "input": input }))?
        }
        false => server.post(&format!("mutation {{ row: {create} {{ id }} }}"), json!({}))?,
    };
    let mut values = seeded["b"].clone();
    let key = data["row"]["id"].clone();
    values.as_object_mut().unwrap().remove(&m.fields[m.pk].column);
    Ok(json!({ "pk": key, "values": values }))
}

fn ir_of(manifest: &str) -> Ir {
    let checked = gqlauto::api::check_source("gqlauto.yaml", manifest.to_string(), gqlauto::manifest::Format::Yaml);
    let rendered = checked.render(gqlauto::api::DiagFormat::Short);
    checked.ir.unwrap_or_else(|| panic!("the imported manifest does not validate:\n{rendered}"))
}

#[test]
fn real_django_apps_import_build_and_round_trip_on_django_5_2() {
    if let Some(python) = python("GQLAUTO_DJANGO_CORPUS_PYTHON", "requirements.txt") {
        corpus(&python, "corpus-api");
    }
}

#[test]
fn real_django_apps_import_build_and_round_trip_on_django_4_2_lts() {
    if let Some(python) = python("GQLAUTO_DJANGO_CORPUS_42_PYTHON", "requirements-django4.2.txt") {
        corpus(&python, "corpus-api-42");
    }
}

/// The whole path with the project's apps installed for `python`; the generated crate is named
/// `name` (one name per variant, as they share a target directory).
fn corpus(python: &str, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let project = workspace().join("tests/django/corpus");
    let db = d.join("corpus.sqlite3");
    let django = |args: &[&str]| {
        let mut c = Command::new(python);
        c.args(args)
            .current_dir(&project)
            .env("CORPUS_DB", &db)
            .env("PYTHONPATH", &project)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONWARNINGS", "ignore");
        run(&mut c).0
    };

    // Import: every model with a table, in a manifest that validates.
    let (stdout, stderr) = run(Command::new(env!("CARGO_BIN_EXE_gqlauto"))
        .args(["init", name, "--from-django"])
        .arg(&project)
        .args(["--settings", "corpus.settings", "--python", python])
        .current_dir(d));
    let api = d.join(name);
    let manifest = std::fs::read_to_string(api.join("gqlauto.yaml")).unwrap();
    let ir = ir_of(&manifest);
    let labels = labels(&manifest);
    let left_out: BTreeSet<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning: ")?.split_once(": skipped: "))
        .filter(|(at, why)| at.matches('.').count() == 1 && !why.starts_with("a proxy model"))
        .map(|(at, _)| at)
        .collect();
    let expected: BTreeSet<&str> = LEFT_OUT.iter().map(|(label, _)| *label).collect();
    assert_eq!(left_out, expected, "models left out (besides proxies):\n{stderr}");
    for (label, why) in LEFT_OUT {
        assert!(stderr.contains(&format!("warning: {label}: skipped: ")) && stderr.contains(why), "{label}: {why}\n{stderr}");
    }
    assert!(ir.models.len() >= 150, "{stdout}");
    let apps: BTreeSet<&str> = labels.values().filter_map(|l| l.split('.').next()).collect();
    assert!(apps.len() >= 10, "{apps:?}");
    eprintln!("{}", stdout.trim());

    // Check, generate and build.
    run(Command::new(env!("CARGO_BIN_EXE_gqlauto")).args(["check", "gqlauto.yaml"]).current_dir(&api));
    run(Command::new(env!("CARGO_BIN_EXE_gqlauto")).args(["generate", "gqlauto.yaml", "--out", "server"]).current_dir(&api));
    let server_dir = api.join("server");
    std::fs::copy(workspace().join("Cargo.lock"), server_dir.join("Cargo.lock")).unwrap();
    let target = workspace().join("target/generated-crates");
    run(Command::new(env!("CARGO")).args(["build", "--quiet"]).current_dir(&server_dir).env("CARGO_TARGET_DIR", &target));

    // Django's migrations make the tables; the ORM writes two rows per model.
    django(&["manage.py", "migrate", "-v0"]);
    let plan = d.join("plan.json");
    std::fs::write(&plan, serde_json::to_string(&ir.models.iter().map(|m| &m.table).collect::<Vec<_>>()).unwrap()).unwrap();
    let seeded_path = d.join("seeded.json");
    let script = workspace().join("tests/django/corpus_roundtrip.py");
    django(&[script.to_str().unwrap(), "seed", plan.to_str().unwrap(), seeded_path.to_str().unwrap()]);
    let seeded: Value = serde_json::from_str(&std::fs::read_to_string(&seeded_path).unwrap()).unwrap();

    let mut child = Command::new(target.join("debug").join(name))
        .env("DATABASE_URL", &db)
        .env("PORT", "0")
        .env("MAX_COMPLEXITY", "100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("the server did not start: {line}")).to_string();
    let server = Server(child, base);

    // Every model: read what the ORM wrote; write `b`'s values.
    let mut outcome: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut no_table = Vec::new();
    let mut written = serde_json::Map::new();
    for m in &ir.models {
        let row = &seeded["rows"][&m.table];
        if row.get("no_table").is_some() {
            no_table.push(m.table.clone());
            continue;
        }
        let failures = outcome.entry(m.table.clone()).or_default();
        if let Some(e) = row.get("error") {
            failures.push(format!("the ORM could not make a row: {e}"));
            continue;
        }
        failures.extend(read_back(&server, m, row));
        match write(&server, m, row) {
            Ok(w) => {
                written.insert(m.table.clone(), w);
            }
            Err(e) => failures.push(format!("write failed: {e}")),
        }
    }
    let written_path = d.join("written.json");
    std::fs::write(&written_path, Value::Object(written).to_string()).unwrap();
    let found_path = d.join("found.json");
    django(&[script.to_str().unwrap(), "find", written_path.to_str().unwrap(), found_path.to_str().unwrap()]);
    let found: BTreeMap<String, Vec<String>> = serde_json::from_str(&std::fs::read_to_string(&found_path).unwrap()).unwrap();
    for (table, failures) in found {
        outcome.entry(table).or_default().extend(failures.into_iter().map(|f| format!("Django's lookup: {f}")));
    }

    tag_managers(&server, &ir, &seeded, &|args| django(args), d, &script);

    // The report: per app, then every failure.
    let mut per_app: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (table, failures) in &outcome {
        let app = labels.get(table).and_then(|l| l.split('.').next()).unwrap_or("?");
        let e = per_app.entry(app).or_default();
        e.0 += 1;
        e.1 += usize::from(failures.is_empty());
    }
    let mut report = String::from("app: round-tripped / models\n");
    for (app, (all, ok)) in &per_app {
        report += &format!("  {app}: {ok}/{all} ({:.0} %)\n", 100.0 * *ok as f64 / *all as f64);
    }
    for (table, failures) in outcome.iter().filter(|(_, f)| !f.is_empty()) {
        report += &format!("{} ({table}):\n", labels.get(table).map_or("?", String::as_str));
        for f in failures {
            report += &format!("    {}\n", f.chars().take(400).collect::<String>());
        }
    }
    let ok = outcome.values().filter(|f| f.is_empty()).count();
    let share = ok as f64 / outcome.len() as f64;
    report += &format!(
        "{ok} of {} models round-trip both ways ({:.1} %); {} without a table ({})\n",
        outcome.len(),
        share * 100.0,
        no_table.len(),
        no_table.join(", ")
    );
    eprintln!("{report}");
    let _ = std::fs::write(workspace().join(format!("target/{name}-report.txt")), &report);
    assert!(share >= REQUIRED_SHARE, "{report}");
}
