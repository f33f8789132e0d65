//! The PostgreSQL migrations `generate` writes, applied to a real PostgreSQL server: the initial
//! migration of every example creates and drops its schema, and each kind of change the SQLite
//! suite (`migrations.rs`) covers runs on a database holding rows — in place with `ALTER TABLE`,
//! rows kept where the change keeps them, a change the rows do not fit rolled back whole (DDL is
//! transactional), and the down step restoring the previous shape exactly.
//!
//! The server comes from `GQLAUTO_POSTGRES_URL` (`.ci/postgres start` prints one); without it the
//! tests say so and pass, except under `CI=true`, where a missing server fails them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use gqlauto::api::{check_source, options_for};
use gqlauto::codegen::{generate, FileSet, History};
use gqlauto::diff::change::Level;
use gqlauto::ir::Ir;
use gqlauto::manifest::Format;
use postgres::{Client, NoTls};

const BASE: &str = include_str!("fixtures/migrations/base.yaml");

const SEED: &str = include_str!("fixtures/migrations/seed.sql");

/// The server's URL, or `None` (outside CI) when no server was given.
fn server() -> Option<String> {
    match std::env::var("GQLAUTO_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("GQLAUTO_POSTGRES_URL is not set: CI runs these tests on PostgreSQL"),
        _ => {
            eprintln!("skipped: set GQLAUTO_POSTGRES_URL (`.ci/postgres start` prints it) to run the PostgreSQL migration tests");
            None
        }
    }
}

/// A fresh, empty database on the server, dropped when the value is.
struct Database {
    admin: String,
    name: String,
    client: Client,
}

impl Database {
    fn create(admin: &str) -> Database {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("gqlauto_mig_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let mut a = Client::connect(admin, NoTls).expect("connect to GQLAUTO_POSTGRES_URL");
        a.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        a.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("GQLAUTO_POSTGRES_URL names no database: {admin}"),
        };
        let client = Client::connect(&url, NoTls).unwrap();
        Database { admin: admin.to_string(), name, client }
    }

    /// Runs `sql` as the server's migration runner does: all of it in one transaction, or none.
    fn apply(&mut self, sql: &str) -> Result<(), String> {
        let mut tx = self.client.transaction().unwrap();
        match tx.batch_execute(sql) {
            Ok(()) => tx.commit().map_err(|e| e.to_string()),
            Err(e) => Err(e.as_db_error().map(|d| format!("{} ({})", d.message(), d.code().code())).unwrap_or_else(|| e.to_string())),
        }
    }

    fn strings(&mut self, sql: &str) -> Vec<String> {
        self.client.query(sql, &[]).unwrap().iter().map(|r| r.get::<_, Option<String>>(0).unwrap_or_else(|| "NULL".into())).collect()
    }

    fn count(&mut self, table: &str) -> i64 {
        self.client.query_one(&format!("SELECT count(*) FROM {table}"), &[]).unwrap().get(0)
    }

    /// Every column, constraint and index: what "the same shape" means.
    fn shape(&mut self) -> Vec<String> {
        let mut out = self.strings(
            "SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') \
             || coalesce(' numeric(' || numeric_precision || ',' || numeric_scale || ')', '') || ' null=' || is_nullable \
             || ' default=' || coalesce(column_default, '-') || ' identity=' || is_identity \
             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
        );
        out.extend(self.strings(
            "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE connamespace = 'public'::regnamespace ORDER BY 1",
        ));
        out.extend(self.strings("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"));
        out.extend(self.strings("SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"));
        out
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut a) = Client::connect(&self.admin, NoTls) {
            let _ = a.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn ir(source: &str) -> Ir {
    let checked = check_source("manifest.yaml", source.to_string(), Format::Yaml);
    let shown = checked.render(gqlauto::api::DiagFormat::Short);
    checked.ir.unwrap_or_else(|| panic!("{shown}"))
}

fn files(source: &str, history: Option<History>) -> FileSet {
    let options = gqlauto::codegen::Options { history, ..options_for(Path::new("manifest.yaml"), source, Path::new("out")) };
    generate(&ir(source), &options).unwrap()
}

const DIR: &str = "migrations-postgres/";

/// The initial PostgreSQL migration of `old`, and the up and down of the one `generate` adds
/// after the manifest changed to `new` (the earlier files kept as written).
fn migrations(old: &str, new: &str) -> (String, Option<(String, String)>) {
    let first = files(old, None);
    let written: BTreeMap<String, String> = first
        .iter()
        .filter(|(p, _)| p.starts_with(DIR) || p.starts_with("migrations/"))
        .map(|(p, f)| (p.clone(), f.contents.clone()))
        .collect();
    let last_number = BTreeMap::from([("migrations".to_string(), 1), ("migrations-postgres".to_string(), 1)]);
    let second = files(new, Some(History { previous: ir(old), migrations: written.clone(), last_number }));
    let initial = written[&format!("{DIR}0001_initial/up.sql")].clone();
    for (path, text) in written.iter().filter(|(p, _)| p.starts_with(DIR)) {
        assert_eq!(second.get(path).map(|f| &f.contents), Some(text), "{path} was rewritten");
    }
    let added: Vec<(&String, &String)> =
        second.iter().filter(|(p, _)| p.starts_with(DIR) && !p.contains("/0001_")).map(|(p, f)| (p, &f.contents)).collect();
    if added.is_empty() {
        return (initial, None);
    }
    assert_eq!(added.len(), 2, "one new migration, up and down: {:?}", added.iter().map(|(p, _)| p).collect::<Vec<_>>());
    let file = |name: &str| added.iter().find(|(p, _)| p.ends_with(name)).unwrap().1.clone();
    (initial, Some((file("/up.sql"), file("/down.sql"))))
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

/// What a case expects of its up step.
enum Up {
    /// It runs, every seeded row is still there, and `check` holds afterwards.
    Keeps(&'static str, &'static [&'static str]),
    /// It fails with an error containing this text, and the database is as it was.
    Fails(&'static str),
}

struct Case {
    name: &'static str,
    old: String,
    new: String,
    seed: String,
    up: Up,
}

fn case(name: &'static str, new: String, up: Up) -> Case {
    Case { name, old: BASE.to_string(), new, seed: SEED.to_string(), up }
}

fn run(url: &str, c: &Case) {
    let (initial, later) = migrations(&c.old, &c.new);
    let (up, down) = later.unwrap_or_else(|| panic!("{}: the change writes a migration", c.name));
    let mut db = Database::create(url);
    db.apply(&initial).unwrap_or_else(|e| panic!("{}: initial migration: {e}", c.name));
    db.apply(&c.seed).unwrap_or_else(|e| panic!("{}: seed: {e}", c.name));
    let base = db.shape();
    let rows = |db: &mut Database| db.count("authors");
    let seeded = rows(&mut db);
    match &c.up {
        Up::Fails(why) => {
            let err = db.apply(&up).expect_err(c.name);
            assert!(err.contains(why), "{}: expected {why:?} in {err}\n{up}", c.name);
            assert_eq!(db.shape(), base, "{}: a failed migration changes nothing", c.name);
            return;
        }
        Up::Keeps(query, expected) => {
            db.apply(&up).unwrap_or_else(|e| panic!("{}: up: {e}\n{up}", c.name));
            assert_eq!(rows(&mut db), seeded, "{}: rows kept", c.name);
            if !query.is_empty() {
                assert_eq!(db.strings(query), *expected, "{}: {query}", c.name);
            }
            assert_eq!(unordered(db.shape()), unordered(fresh_shape(url, &c.new)), "{}: migrated as created anew\nup:\n{up}", c.name);
        }
    }
    db.apply(&down).unwrap_or_else(|e| panic!("{}: down: {e}\n{down}", c.name));
    assert_eq!(db.shape(), base, "{}: down restores the shape\nup:\n{up}\ndown:\n{down}", c.name);
}

/// The shape of a fresh database created by `source`'s initial migration.
fn fresh_shape(url: &str, source: &str) -> Vec<String> {
    let mut db = Database::create(url);
    db.apply(&files(source, None)[&format!("{DIR}0001_initial/up.sql")].contents).unwrap_or_else(|e| panic!("initial migration: {e}"));
    db.shape()
}

/// A shape without the order of columns: a migration adds columns at the end of a table, where
/// the manifest (and so a fresh database) may have them anywhere.
fn unordered(mut shape: Vec<String>) -> Vec<String> {
    shape.sort();
    shape
}

#[test]
fn every_example_creates_and_drops_its_schema() {
    let Some(url) = server() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model-specs");
    for name in ["blog", "shop", "everything", "saas"] {
        let source = std::fs::read_to_string(root.join(format!("{name}.yaml"))).unwrap();
        let out = files(&source, None);
        let (up, down) = (&out[&format!("{DIR}0001_initial/up.sql")].contents, &out[&format!("{DIR}0001_initial/down.sql")].contents);
        let mut db = Database::create(&url);
        db.apply(up).unwrap_or_else(|e| panic!("{name}: {e}"));
        let created = db.shape();
        assert!(created.len() > 10, "{name}: {created:?}");
        db.apply(down).unwrap_or_else(|e| panic!("{name} down: {e}"));
        assert_eq!(db.shape(), Vec::<String>::new(), "{name}: down drops everything");
        db.apply(up).unwrap_or_else(|e| panic!("{name} again: {e}"));
        assert_eq!(db.shape(), created, "{name}");
    }
}

#[test]
fn each_kind_of_change_migrates_in_place_with_rows() {
    let Some(url) = server() else { return };
    let comment = "  Comment:\n    fields:\n      id: auto\n      post: { type: foreign_key, to: Post, on_delete: cascade, related_name: comments }\n      body: text\n";
    let with_comments = format!("{BASE}{comment}");
    let title = "      title: { type: string, max_length: 200 }\n";
    let nickname = "nickname: { type: string, max_length: 50, nullable: true }";
    let cases = vec![
        case(
            "nullable column added",
            edit("      body: text\n", "      body: text\n      summary: { type: string, max_length: 100, nullable: true }\n"),
            Up::Keeps("SELECT summary FROM posts ORDER BY id", &["NULL", "NULL", "NULL"]),
        ),
        case("required column added", edit("      body: text\n", "      body: text\n      subtitle: { type: string, max_length: 100 }\n"), Up::Fails("23502")),
        Case {
            seed: String::new(),
            ..case("required column added to empty tables", edit("      body: text\n", "      body: text\n      subtitle: { type: string, max_length: 100 }\n"), Up::Keeps("", &[]))
        },
        case("column dropped", edit("      score: { type: integer, default: 0 }\n", ""), Up::Keeps("SELECT title FROM posts WHERE to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(body, '')) @@ to_tsquery('simple', 'numbers') ORDER BY id", &["Notes on the analytical engine", "Second thoughts"])),
        case(
            "column renamed",
            edit(title, "      headline: { type: string, max_length: 200, renamed_from: title }\n").replace("search: [title, body]", "search: [headline, body]"),
            Up::Keeps("SELECT headline FROM posts ORDER BY id", &["Notes on the analytical engine", "Second thoughts", "Hello from Brian"]),
        ),
        case("column narrowed below stored values", edit("title: { type: string, max_length: 200 }", "title: { type: string, max_length: 10 }"), Up::Fails("22001")),
        case("column widened", edit("title: { type: string, max_length: 200 }", "title: text"), Up::Keeps("SELECT title FROM posts WHERE id = 2", &["Second thoughts"])),
        case(
            "integer column becomes text",
            edit("score: { type: integer, default: 0 }", "score: { type: string, max_length: 20, default: \"0\" }"),
            Up::Keeps("SELECT score FROM posts ORDER BY id", &["5", "0", "2"]),
        ),
        case("not null with a default", edit(nickname, "nickname: { type: string, max_length: 50, default: anon }"), Up::Keeps("SELECT nickname FROM authors ORDER BY id", &["countess", "anon"])),
        case("not null without a default", edit(nickname, "nickname: { type: string, max_length: 50 }"), Up::Fails("23502")),
        case("not null removed", edit("title: { type: string, max_length: 200 }", "title: { type: string, max_length: 200, nullable: true }"), Up::Keeps("", &[])),
        case("unique added", edit("name: { type: string, max_length: 50 }", "name: { type: string, max_length: 50, unique: true }"), Up::Keeps("", &[])),
        Case {
            seed: format!("{SEED}\nINSERT INTO tags (id, name) VALUES (3, 'math');"),
            ..case("unique added over duplicates", edit("name: { type: string, max_length: 50 }", "name: { type: string, max_length: 50, unique: true }"), Up::Fails("23505"))
        },
        case("check added", edit("score: { type: integer, default: 0 }", "score: { type: integer, default: 0, min: 0, max: 10 }"), Up::Keeps("", &[])),
        Case {
            seed: SEED.replace("'published', 5)", "'published', 50)"),
            ..case("check added over rows outside it", edit("score: { type: integer, default: 0 }", "score: { type: integer, default: 0, min: 0, max: 10 }"), Up::Fails("23514"))
        },
        case("enum value removed", edit("values: [draft, published, archived]", "values: [draft, published]"), Up::Keeps("", &[])),
        Case {
            seed: SEED.replace("'draft', 0)", "'archived', 0)"),
            ..case("enum value removed while rows hold it", edit("values: [draft, published, archived]", "values: [draft, published]"), Up::Fails("23514"))
        },
        case(
            "foreign key becomes one-to-one over shared targets",
            edit("author: { type: foreign_key, to: Author, on_delete: cascade, related_name: posts }", "author: { type: one_to_one, to: Author, on_delete: cascade, related_name: post }"),
            Up::Fails("23505"),
        ),
        case(
            "table added",
            format!("{BASE}  Comment:\n    fields:\n      id: auto\n      post: {{ type: foreign_key, to: Post, on_delete: cascade }}\n      body: text\n"),
            Up::Keeps("SELECT count(*)::text FROM comments", &["0"]),
        ),
        case(
            "tables dropped",
            edit("      tags: { type: many_to_many, to: Tag, related_name: posts }\n", "")
                .replace("  Tag:\n    fields:\n      id: auto\n      name: { type: string, max_length: 50 }\n", ""),
            Up::Keeps("SELECT count(*)::text FROM posts", &["3"]),
        ),
        Case {
            old: with_comments.clone(),
            new: with_comments.replace("  Post:\n", "  Article:\n    renamed_from: Post\n").replace("to: Post,", "to: Article,"),
            seed: format!("{SEED}\nINSERT INTO comments (post_id, body) VALUES (1, 'first'), (3, 'hi');"),
            ..case("model renamed", String::new(), Up::Keeps("SELECT count(*)::text FROM articles_tags", &["3"]))
        },
        case(
            "default and delete action changed",
            edit("score: { type: integer, default: 0 }", "score: { type: integer, default: 3 }")
                .replace("on_delete: cascade, related_name: posts }", "on_delete: restrict, related_name: posts }"),
            Up::Keeps("SELECT score::text FROM posts ORDER BY id", &["5", "0", "2"]),
        ),
        case("index added", edit("default: draft }", "default: draft, indexed: true }"), Up::Keeps("", &[])),
        case("key widened", edit("  Tag:\n    fields:\n      id: auto\n", "  Tag:\n    fields:\n      id: big_auto\n"), Up::Keeps("SELECT count(*)::text FROM posts_tags", &["3"])),
        case("enum becomes text", edit("status: { type: enum, values: [draft, published, archived], default: draft }", "status: { type: string, max_length: 20, default: draft }"), Up::Keeps("", &[])),
        case("text becomes json", edit("      body: text\n", "      body: text\n      meta: { type: json, nullable: true }\n"), Up::Keeps("", &[])),
        case("unique together added", edit("    search: [title, body]\n", "    search: [title, body]\n    unique_together: [[author, title]]\n"), Up::Keeps("", &[])),
        Case {
            old: BASE.replace("  Tag:\n    fields:\n      id: auto\n", "  Tag:\n    fields:\n      id: { type: string, max_length: 8, primary_key: true }\n"),
            new: BASE.replace("  Tag:\n    fields:\n      id: auto\n", "  Tag:\n    fields:\n      id: { type: string, max_length: 16, primary_key: true }\n"),
            seed: SEED.replace("VALUES (1, 'math'), (2, 'history')", "VALUES ('1', 'math'), ('2', 'history')"),
            ..case("text key widened", String::new(), Up::Keeps("", &[]))
        },
    ];
    for c in &cases {
        run(&url, c);
    }
}

#[test]
fn names_that_are_keywords_are_quoted_in_every_step() {
    let Some(url) = server() else { return };
    let old = include_str!("fixtures/migrations/reserved.yaml");
    let new = include_str!("fixtures/migrations/reserved_next.yaml");
    let (initial, later) = migrations(old, new);
    let (up, down) = later.expect("the change writes a migration");
    let mut db = Database::create(&url);
    db.apply(&initial).unwrap_or_else(|e| panic!("initial: {e}\n{initial}"));
    db.apply(include_str!("fixtures/migrations/reserved_seed.sql")).unwrap();
    let base = db.shape();
    db.apply(&up).unwrap_or_else(|e| panic!("up: {e}\n{up}"));
    assert_eq!(unordered(db.shape()), unordered(fresh_shape(&url, new)), "migrated as created anew\nup:\n{up}");
    assert_eq!(db.strings("SELECT \"user\" || ' ' || coalesce(\"where\", '-') FROM \"order\" ORDER BY id"), ["ada one", "brian -"]);
    let found = "SELECT id::text FROM \"order\" WHERE to_tsvector('simple', coalesce(\"user\", '') || ' ' || coalesce(\"desc\", '')) @@ to_tsquery('simple', 'brian')";
    assert_eq!(db.strings(found), ["2"]);
    db.apply(&down).unwrap_or_else(|e| panic!("down: {e}\n{down}"));
    assert_eq!(db.shape(), base, "down restores the shape\ndown:\n{down}");
}

/// Every PostgreSQL keyword that is not unreserved is quoted, and so is every word SQLite refuses
/// as a bare table or column name (tried on a real SQLite, against PostgreSQL's whole vocabulary).
#[test]
fn every_keyword_either_database_reserves_is_quoted() {
    use gqlauto::codegen::dialect::ident;
    let Some(url) = server() else { return };
    let mut db = Database::create(&url);
    let reserved = db.strings("SELECT word FROM pg_get_keywords() WHERE catcode <> 'U' ORDER BY 1");
    assert!(reserved.len() > 100, "{reserved:?}");
    let bare: Vec<&String> = reserved.iter().filter(|w| !ident(w).starts_with('"')).collect();
    assert!(bare.is_empty(), "PostgreSQL keywords written bare: {bare:?}");
    let sqlite = rusqlite::Connection::open_in_memory().unwrap();
    let mut refused = Vec::new();
    for word in db.strings("SELECT word FROM pg_get_keywords() ORDER BY 1") {
        let (w, x) = (ident(&word), ident(&format!("{word}_x")));
        let sql = format!("CREATE TABLE {w} ({w} INTEGER, {x} INTEGER CHECK ({w} > 0)); CREATE INDEX {x} ON {w} ({w}); DROP TABLE {w};");
        if let Err(e) = sqlite.execute_batch(&sql) {
            refused.push(format!("{word}: {e}"));
        }
    }
    assert!(refused.is_empty(), "SQLite refuses: {refused:#?}");
    // And a quoted keyword works on PostgreSQL in the same statements.
    for word in &reserved {
        let sql = format!("CREATE TABLE {w} ({w} INTEGER CHECK ({w} > 0)); CREATE INDEX ON {w} ({w}); DROP TABLE {w};", w = ident(word));
        db.apply(&sql).unwrap_or_else(|e| panic!("{word}: {e}"));
    }
}

/// `gqlauto diff` grades a type change by what each database's migration does to stored rows, and
/// says both where they differ: checked here against a real server.
#[test]
fn the_diff_grades_type_changes_by_what_postgresql_does() {
    let Some(url) = server() else { return };
    let grade = |old: &str, new: &str, at: &str| {
        let changes = gqlauto::diff::data::diff(&ir(old), &ir(new));
        let c = changes.iter().find(|c| c.coordinate == at).unwrap_or_else(|| panic!("{at}: {changes:#?}"));
        (c.criticality.level, c.criticality.reason.clone())
    };

    // Text that does not convert to a number: SQLite's rebuilt table keeps it unconverted;
    // PostgreSQL's migration fails and leaves the database as it was.
    let numbers = edit("title: { type: string, max_length: 200 }", "title: { type: big_integer, default: 0 }")
        .replace("search: [title, body]", "search: [body]");
    let (level, reason) = grade(BASE, &numbers, "posts.title");
    assert_eq!(level, Level::Breaking, "{reason}");
    assert!(
        reason.contains("SQLite: stored values are kept") && reason.contains("PostgreSQL: each stored value is converted in place"),
        "{reason}"
    );
    run(&url, &case("text becomes a number over words", numbers.clone(), Up::Fails("22P02")));
    let numeric_titles =
        SEED.replace("'Notes on the analytical engine'", "'10'").replace("'Second thoughts'", "'20'").replace("'Hello from Brian'", "'30'");
    run(
        &url,
        &Case {
            seed: numeric_titles,
            ..case(
                "text becomes a number over digits",
                numbers,
                Up::Keeps("SELECT title::text FROM posts ORDER BY id", &["10", "20", "30"]),
            )
        },
    );

    // Fewer decimal places: PostgreSQL rounds stored values without an error.
    let priced = BASE.replace(
        "      score: { type: integer, default: 0 }\n",
        "      score: { type: integer, default: 0 }\n      price: { type: decimal, max_digits: 8, decimal_places: 2, default: \"0\" }\n",
    );
    let rounded = priced.replace("decimal_places: 2", "decimal_places: 1");
    let (level, reason) = grade(&priced, &rounded, "posts.price");
    assert_eq!(level, Level::Breaking, "{reason}");
    assert!(reason.contains("PostgreSQL: stored values are rounded"), "{reason}");
    run(
        &url,
        &Case {
            old: priced,
            new: rounded,
            seed: format!("{SEED}\nUPDATE posts SET price = 1.25 WHERE id = 1;"),
            up: Up::Keeps("SELECT price::text FROM posts ORDER BY id", &["1.3", "0.0", "0.0"]),
            name: "decimal places reduced",
        },
    );
}
