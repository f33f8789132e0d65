//! `gqlauto init --from-django` on the sample project under `tests/django/project`, with real Django:
//! the imported manifest and its warnings are pinned; the generated server, started on the database
//! Django's own migrations created, reads the rows the Django ORM wrote, and the Django ORM reads
//! the rows the server wrote.
//!
//! Django comes from PyPI: `GQLAUTO_DJANGO_PYTHON` names an interpreter that has it (`.ci/run` makes
//! a virtualenv). Without one the test is skipped, except under `CI=true`, where it fails.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn python() -> Option<String> {
    match std::env::var("GQLAUTO_DJANGO_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "GQLAUTO_DJANGO_PYTHON is not set: .ci/run installs Django into a virtualenv"
            );
            eprintln!("skipped: set GQLAUTO_DJANGO_PYTHON to a Python with Django installed");
            None
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(out.status.success(), "{shown} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copies the sample project so its database and caches stay out of the repository.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "__pycache__" || name.to_string_lossy().ends_with(".db") {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

struct Server(std::process::Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn gql(server: &Server, query: &str) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut res = agent.post(format!("{}/graphql", server.1)).send_json(serde_json::json!({ "query": query })).unwrap();
    let body: serde_json::Value = res.body_mut().read_json().unwrap();
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// The database the sample project and the generated server share in one run.
enum Store {
    Sqlite(PathBuf),
    /// A fresh database on the PostgreSQL server whose administrative URL is `admin`; dropped after.
    Postgres {
        admin: String,
        url: String,
        name: String,
    },
}

impl Store {
    fn postgres(admin: &str) -> Store {
        let name = format!("django_sample_{}", std::process::id());
        let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap_or_else(|e| panic!("connect to {admin}: {e}"));
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (server, _) = admin.rsplit_once('/').unwrap();
        Store::Postgres { admin: admin.to_string(), url: format!("{server}/{name}"), name }
    }

    /// The server's `DATABASE_URL`.
    fn url(&self) -> String {
        match self {
            Store::Sqlite(path) => path.to_str().unwrap().to_string(),
            Store::Postgres { url, .. } => url.clone(),
        }
    }

    /// The sample project's setting naming it.
    fn setting(&self) -> (&'static str, String) {
        match self {
            Store::Sqlite(_) => ("SAMPLE_DB", self.url()),
            Store::Postgres { .. } => ("SAMPLE_POSTGRES", self.url()),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Store::Postgres { admin, name, .. } = self {
            if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// The body of a committed snapshot.
fn snapshot(name: &str) -> String {
    let text = std::fs::read_to_string(workspace().join(format!("tests/snapshots/django_import__{name}.snap"))).unwrap();
    text.splitn(3, "---\n").nth(2).unwrap().to_string()
}

/// On SQLite (the imported manifest and its warnings are pinned), then on PostgreSQL, where Django
/// keeps its native types (uuid, jsonb, numeric, timestamptz, date, time, boolean): the manifest
/// differs only in saying so.
#[test]
fn a_django_project_and_its_generated_server_share_one_database() {
    let Some(python) = python() else { return };
    round_trip(&python, |d| Store::Sqlite(d.join("shared.sqlite3")));
    match std::env::var("GQLAUTO_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => round_trip(&python, |_| Store::postgres(&admin)),
        _ => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "GQLAUTO_POSTGRES_URL is not set: `.ci/postgres start` prints one");
            eprintln!("skipped the PostgreSQL round trip: GQLAUTO_POSTGRES_URL is not set");
        }
    }
}

fn round_trip(python: &str, store: impl FnOnce(&Path) -> Store) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let project = d.join("project");
    copy_dir(&workspace().join("tests/django/project"), &project);
    let store = store(d);
    let db = store.url();
    let django = |args: &[&str]| {
        let mut c = Command::new(python);
        let (setting, value) = store.setting();
        c.args(args).current_dir(&project).env(setting, value).env("PYTHONPATH", &project).env("PYTHONDONTWRITEBYTECODE", "1");
        run(&mut c)
    };

    // Import.
    let (setting, value) = store.setting();
    let out = Command::new(env!("CARGO_BIN_EXE_gqlauto"))
        .args(["init", "api", "--from-django", "project", "--settings", "sample.settings", "--python", python])
        .current_dir(d)
        .env(setting, value)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let manifest = std::fs::read_to_string(d.join("api/gqlauto.yaml")).unwrap();
    match store {
        Store::Sqlite(_) => {
            insta::assert_snapshot!("django_sample_manifest", manifest);
            insta::assert_snapshot!("django_sample_warnings", stderr);
        }
        Store::Postgres { .. } => {
            let engine = "  engine: postgres # the project's tables are in PostgreSQL, in its native types\n";
            assert!(manifest.contains(engine), "{manifest}");
            let sqlite_storage = concat!(
                "  uuid_format: simple # Django's char(32) UUIDs\n",
                "  datetime_format: django # Django's date-times: UTC, no offset\n",
                "  json_format: django # Django's JSON text, as json.dumps writes it\n",
            );
            assert_eq!(manifest.replace(engine, sqlite_storage), snapshot("django_sample_manifest"), "only the database settings differ");
            assert_eq!(format!("{}\n", stderr.trim_end()), snapshot("django_sample_warnings"));
        }
    }

    // Django's own migrations create the tables; the ORM writes rows.
    django(&["manage.py", "migrate", "-v0"]);
    let seeded: serde_json::Value =
        serde_json::from_str(&django(&[workspace().join("tests/django/roundtrip.py").to_str().unwrap(), "seed"])).unwrap();
    let (product_code, order_number) = (seeded["product_code"].as_str().unwrap(), seeded["order"].as_str().unwrap());

    // The generated server, on the same file.
    let status = Command::new(env!("CARGO_BIN_EXE_gqlauto"))
        .args(["generate", "gqlauto.yaml", "--out", "server"])
        .current_dir(d.join("api"))
        .status()
        .unwrap();
    assert!(status.success());
    let server_dir = d.join("api/server");
    std::fs::copy(workspace().join("Cargo.lock"), server_dir.join("Cargo.lock")).unwrap();
    // Builds the server and runs the crate's own smoke test, which creates the (unmanaged) tables on
    // a fresh database and exercises every model.
    let mut smoke = Command::new(env!("CARGO"));
    smoke
        .args(["test", "--quiet", "--test", "smoke"])
        .current_dir(&server_dir)
        .env("CARGO_TARGET_DIR", workspace().join("target/generated-crates"));
    if let Store::Postgres { admin, .. } = &store {
        smoke.env("GQLAUTO_TEST_POSTGRES_URL", admin);
    }
    run(&mut smoke);
    if let Store::Postgres { .. } = &store {
        // The tables are in PostgreSQL: without DATABASE_URL the server says so instead of serving
        // an empty SQLite file.
        let out = Command::new(workspace().join("target/generated-crates/debug/api"))
            .env_remove("DATABASE_URL")
            .env("PORT", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains("DATABASE_URL is not set: this API's tables live in PostgreSQL"), "{stderr}");
    }
    let mut child = Command::new(workspace().join("target/generated-crates/debug/api"))
        .env("DATABASE_URL", &db)
        .env("PORT", "0")
        .env("MAX_COMPLEXITY", "100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("the server did not start: {line}")).to_string();
    let server = Server(child, base);

    // Rows the Django ORM wrote, read through GraphQL.
    let read = gql(
        &server,
        r#"{ products(where: {sku: {eq: "HAM-1"}}) { sku name price status releasedOn opensAt stock metadata category { name } tags { name } } orders { note customer { username } lines { quantity product { sku } } } }"#,
    );
    assert_eq!(
        read,
        serde_json::json!({
            "products": [{"sku": "HAM-1", "name": "Hammer", "price": "12.50", "status": "LIVE", "releasedOn": "2024-05-01", "opensAt": "09:30:00", "stock": 7,
                          "metadata": {"weight": [1, 2]}, "category": {"name": "Tools"}, "tags": [{"name": "sale"}]}],
            "orders": [{"note": "first", "customer": {"username": "ada"}, "lines": [{"quantity": 2, "product": {"sku": "HAM-1"}}]}]
        })
    );

    // Keys and lookups in Django's stored forms: a string primary key, UUIDs (Django keeps 32 hex
    // digits; the API takes and shows them hyphenated), columns named by Rust keywords.
    let read = gql(
        &server,
        &format!(
            r#"{{ suppliers {{ id name }} supplies {{ cost supplier {{ id }} product {{ sku }} }} products(where: {{code: {{eq: "{product_code}"}}}}) {{ sku code suppliers {{ id }} }}
                 order(id: "{order_number}") {{ note }} catalogQueries {{ typeValue matchValue hidden }}
                 nodes {{ name price priceCurrency zone region parent {{ name }} labels {{ name }} }}
                 digitalProducts {{ downloadUrl productPtr {{ sku price }} }} users {{ username profile {{ bio user {{ username }} }} }} }}"#
        ),
    );
    assert_eq!(
        read,
        serde_json::json!({
            "suppliers": [{"id": "ACME", "name": "Acme"}],
            "supplies": [{"cost": "4.10", "supplier": {"id": "ACME"}, "product": {"sku": "HAM-1"}}],
            "products": [{"sku": "HAM-1", "code": product_code, "suppliers": [{"id": "ACME"}]}],
            "order": {"note": "first"},
            "catalogQueries": [{"typeValue": "x-y", "matchValue": true, "hidden": 3}],
            "digitalProducts": [{"downloadUrl": "https://example.com/ebook", "productPtr": {"sku": "EBOOK-1", "price": "3.00"}}],
            "users": [{"username": "ada", "profile": {"bio": "from the ORM", "user": {"username": "ada"}}}],
            "nodes": [
                {"name": "root", "price": "2.50", "priceCurrency": "USD", "zone": "utc", "region": "R119", "parent": null, "labels": []},
                {"name": "leaf", "price": "0.00", "priceCurrency": "EUR", "zone": "zone_000", "region": "R0", "parent": {"name": "root"}, "labels": [{"name": "sale"}]}
            ]
        })
    );

    // Rows written through GraphQL, read by the Django ORM.
    gql(&server, r#"mutation { createCatalogTag(input: {name: "tools"}) { id } }"#);
    gql(&server, r#"mutation { createSupplier(input: {id: "BOLT", name: "Bolt & Co"}) { id } }"#);
    gql(&server, r#"mutation { createSupply(input: {productId: "1", supplierId: "BOLT", cost: "1.25"}) { id } }"#);
    gql(&server, r#"mutation { createCatalogQuery(input: {typeValue: "a", matchValue: false}) { id } }"#);
    let order =
        gql(&server, r#"mutation { createOrder(input: {customerId: "1", note: "second", lines: {create: [{quantity: 5}]}}) { id } }"#);
    let order_id = order["createOrder"]["id"].as_str().unwrap().to_string();
    gql(
        &server,
        r#"mutation { createNode(input: {name: "twig", parentId: "2", price: "7.1", zone: "UTC", region: R5, labels: {connect: ["1", "2"]}}) { id } }"#,
    );
    gql(
        &server,
        r#"mutation { createProduct(input: {sku: "SAW-2", name: "Saw", price: "30.00", categoryId: "1", status: RETIRED, stock: 3, releasedOn: "2025-01-31", metadata: {teeth: 24}, tags: {connect: ["1"]}}) { id } }"#,
    );
    // Multi-table inheritance: the child row takes the key of a product; a one-to-one key is created
    // under the row it extends.
    let saw_id = gql(&server, r#"{ products(where: {sku: {eq: "SAW-2"}}) { id } }"#)["products"][0]["id"].as_str().unwrap().to_string();
    gql(
        &server,
        &format!(r#"mutation {{ createDigitalProduct(input: {{id: "{saw_id}", downloadUrl: "https://example.com/saw"}}) {{ id }} }}"#),
    );
    // A model that exists because a setting turned it on.
    gql(&server, r#"mutation { createAuditEntry(input: {message: "written by GraphQL"}) { id at } }"#);
    gql(&server, r#"mutation { createUser(input: {username: "bob", password: "!", profile: {bio: "from GraphQL"}}) { id } }"#);
    let back: serde_json::Value =
        serde_json::from_str(&django(&[workspace().join("tests/django/roundtrip.py").to_str().unwrap(), "read"])).unwrap();
    assert_eq!(back["tags"], serde_json::json!(["sale", "tools"]));
    assert_eq!(back["found_by_code"], serde_json::json!([1, 1, 1]), "Django finds every product by its UUID");
    assert_eq!(back["audit"], serde_json::json!(["written by GraphQL"]));
    assert_eq!(back["profiles"], serde_json::json!({"ada": "from the ORM", "bob": "from GraphQL"}));
    assert_eq!(back["digital"], serde_json::json!({"EBOOK-1": "https://example.com/ebook", "SAW-2": "https://example.com/saw"}));
    assert_eq!(
        back["orders"],
        serde_json::json!([
            {"number": order_number.replace('-', ""), "note": "first", "customer": "ada", "lines": [2]},
            {"number": order_id.replace('-', ""), "note": "second", "customer": "ada", "lines": [5]}
        ])
    );
    assert_eq!(back["order_by_pk"], serde_json::json!({"first": "first", "second": "second"}));
    assert_eq!(
        back["suppliers"],
        serde_json::json!({"ACME": {"name": "Acme", "costs": ["4.10"]}, "BOLT": {"name": "Bolt & Co", "costs": ["1.25"]}})
    );
    assert_eq!(back["queries"], serde_json::json!([["a", false, 0], ["x-y", true, 3]]));
    assert_eq!(
        back["nodes"][2],
        serde_json::json!({"name": "twig", "parent": "leaf", "price": "7.10", "currency": "EUR", "zone": "UTC", "region": "r5", "labels": ["sale", "tools"], "title": "Untitled"})
    );
    let mut saw = back["products"][2].clone();
    // Server-filled defaults: a UTC date-time and a UUID the ORM parses.
    let created = saw.as_object_mut().unwrap().remove("created").unwrap();
    assert!(created.as_str().is_some_and(|c| c.ends_with("+00:00") && c.len() >= 25), "{created}");
    let code = saw.as_object_mut().unwrap().remove("code").unwrap();
    assert_eq!(code.as_str().map(str::len), Some(36), "{code}");
    assert_eq!(
        saw,
        serde_json::json!({"sku": "SAW-2", "name": "Saw", "price": "30.00", "status": "retired", "released_on": "2025-01-31", "stock": 3, "metadata": {"teeth": 24}, "tags": ["sale"], "category": "Tools"})
    );
}

fn init(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gqlauto")).arg("init").arg("api").args(args).current_dir(dir).output().unwrap();
    assert!(!dir.join("api/gqlauto.yaml").exists(), "a failed import wrote a manifest");
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_inputs_name_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let project = workspace().join("tests/django/project");
    let project = project.to_str().unwrap();
    let (code, err) = init(d, &["--from-django", project, "--settings", "sample.settings", "--python", "/nonexistent/python3"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot run the Python interpreter `/nonexistent/python3`") && err.contains("--python"), "{err}");

    std::fs::write(d.join("old.json"), r#"{"format": "gqlauto-django-dump", "version": 99, "models": []}"#).unwrap();
    let (code, err) = init(d, &["--from-django-dump", "old.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("old.json is dump version 99; this gqlauto reads version 1"), "{err}");
    std::fs::write(d.join("other.json"), r#"{"models": []}"#).unwrap();
    let (_, err) = init(d, &["--from-django-dump", "other.json"]);
    assert!(err.contains("is not a gqlauto Django dump"), "{err}");
    std::fs::write(d.join("broken.json"), "{\n  \"format\": ").unwrap();
    let (_, err) = init(d, &["--from-django-dump", "broken.json"]);
    assert!(err.contains("broken.json:2:"), "{err}");

    let Some(python) = python() else { return };
    let (code, err) = init(d, &["--from-django", project, "--settings", "nowhere.settings", "--python", &python]);
    assert_eq!(code, 2);
    assert!(
        err.contains("Django could not load the project with settings `nowhere.settings`: ModuleNotFoundError: No module named 'nowhere'"),
        "{err}"
    );
    assert!(!err.contains("Traceback"), "{err}");
    let (code, err) = init(d, &["--from-django", project, "--settings", "sample.settings", "--python", &python, "--apps", "catalog,shop"]);
    assert_eq!(code, 2);
    assert!(err.contains("no installed app is labelled `shop`"), "{err}");
}

/// The manifest (and so the generated crate) is named after the directory it is written to,
/// also when `init` creates that directory.
#[test]
fn the_manifest_is_named_after_a_new_directory() {
    let dir = tempfile::tempdir().unwrap();
    let dump = serde_json::json!({
        "format": "gqlauto-django-dump", "version": 1, "django": "5.2", "settings": "shop.settings",
        "auth_user_model": null, "database_vendor": "sqlite",
        "models": [{
            "app": "shop", "name": "Item", "label": "shop.Item", "db_table": "shop_item", "pk": "id",
            "fields": [
                {"name": "id", "column": "id", "class": "django.db.models.fields.BigAutoField", "internal_type": "BigAutoField",
                 "primary_key": true, "default": {"kind": "none"}},
                {"name": "title", "column": "title", "class": "django.db.models.fields.CharField", "internal_type": "CharField",
                 "max_length": 80, "default": {"kind": "none"}}
            ]
        }]
    });
    std::fs::write(dir.path().join("dump.json"), dump.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gqlauto"))
        .args(["init", "Shop_API", "--from-django-dump", "dump.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest = std::fs::read_to_string(dir.path().join("Shop_API/gqlauto.yaml")).unwrap();
    assert!(manifest.contains("\nname: \"shop-api\"\n"), "{manifest}");
}
