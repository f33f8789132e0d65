//! Manifest pairs, one per kind of database change: the data diff grades each, and the migration
//! `generate` writes for it is applied to a real SQLite database that already holds rows. Rows
//! survive where the change keeps them, a migration that cannot carry rows forward fails and leaves
//! the database untouched, and the down step restores the previous shape.

use std::collections::BTreeMap;
use std::path::Path;

use gqlauto::api::{check_source, options_for};
use gqlauto::codegen::{generate, FileSet, History};
use gqlauto::diff::{self, Level, Scope, Side};
use gqlauto::ir::Ir;
use gqlauto::manifest::Format;
use rusqlite::Connection;

const BASE: &str = include_str!("fixtures/migrations/base.yaml");

const SEED: &str = include_str!("fixtures/migrations/seed.sql");

fn ir(source: &str) -> Ir {
    let checked = check_source("manifest.yaml", source.to_string(), Format::Yaml);
    let shown = checked.render(gqlauto::api::DiagFormat::Short);
    checked.ir.unwrap_or_else(|| panic!("{shown}"))
}

fn files(source: &str, history: Option<History>) -> FileSet {
    let options = gqlauto::codegen::Options { history, ..options_for(Path::new("manifest.yaml"), source, Path::new("out")) };
    generate(&ir(source), &options).unwrap()
}

/// What `generate` writes after the manifest changed from `old` to `new`: the migrations by path.
fn migrations(old: &str, new: &str) -> BTreeMap<String, String> {
    let first = files(old, None);
    let written: BTreeMap<String, String> =
        first.iter().filter(|(p, _)| p.starts_with("migrations/")).map(|(p, f)| (p.clone(), f.contents.clone())).collect();
    let last_number = BTreeMap::from([("migrations".to_string(), 1)]);
    let second = files(new, Some(History { previous: ir(old), migrations: written.clone(), last_number }));
    let now: BTreeMap<String, String> =
        second.iter().filter(|(p, _)| p.starts_with("migrations/")).map(|(p, f)| (p.clone(), f.contents.clone())).collect();
    for (path, text) in &written {
        assert_eq!(now.get(path), Some(text), "{path} was rewritten");
    }
    now
}

/// `(level, kind, coordinate)` of every database change.
fn data_changes(old: &str, new: &str) -> Vec<(Level, String, String)> {
    diff::compare(&Side::manifest(ir(old)), &Side::manifest(ir(new)))
        .into_iter()
        .filter(|c| c.scope == Scope::Database)
        .map(|c| (c.level(), c.kind.code(), c.coordinate))
        .collect()
}

/// Every table's columns, indexes and triggers: what "the same shape" means.
fn shape(db: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let mut names =
        db.prepare("SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").unwrap();
    let rows: Vec<(String, String, String)> =
        names.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    for (kind, name, table) in rows {
        out.push(format!("{kind} {name} on {table}"));
        if kind == "table" {
            let mut cols = db
                .prepare(&format!("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{name}') ORDER BY cid"))
                .unwrap();
            let described = cols.query_map([], |r| {
                Ok(format!(
                    "  {name}.{} {} notnull={} default={:?} pk={}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?
                ))
            });
            out.extend(described.unwrap().map(Result::unwrap));
            let mut fks =
                db.prepare(&format!("SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{name}')")).unwrap();
            let fks = fks.query_map([], |r| {
                Ok(format!(
                    "  fk {name}.{} -> {}({}) {}",
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?
                ))
            });
            out.extend(fks.unwrap().map(Result::unwrap));
        }
    }
    out
}

/// A database migrated to the base manifest, holding the seed rows.
struct Db {
    conn: Connection,
    migrations: BTreeMap<String, String>,
    base_shape: Vec<String>,
    /// The shape a fresh database created by the new manifest has, columns in any order.
    new_shape: Vec<String>,
}

impl Db {
    fn new(old: &str, new: &str, seed: &str) -> Db {
        let migrations = migrations(old, new);
        let conn = Connection::open_in_memory().unwrap();
        // As the generated server runs them: foreign keys off, each migration in a transaction.
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(&files(new, None)["migrations/0001_initial/up.sql"].contents).unwrap();
        let db = Db { conn, migrations, base_shape: Vec::new(), new_shape: unordered(shape(&fresh)) };
        db.apply("migrations/0001_initial/up.sql").unwrap();
        db.conn.execute_batch(seed).unwrap();
        Db { base_shape: shape(&db.conn), ..db }
    }

    /// The one migration generated after the initial one.
    fn second(&self, file: &str) -> String {
        let dirs: Vec<&String> = self.migrations.keys().filter(|p| !p.starts_with("migrations/0001_")).collect();
        assert_eq!(dirs.len(), 2, "one new migration (up and down): {dirs:?}");
        dirs.into_iter().find(|p| p.ends_with(file)).unwrap().clone()
    }

    fn apply(&self, path: &str) -> Result<(), String> {
        let sql = &self.migrations[path];
        self.conn.execute_batch("BEGIN;").unwrap();
        match self.conn.execute_batch(sql) {
            Ok(()) => {
                self.conn.execute_batch("COMMIT;").unwrap();
                Ok(())
            }
            Err(e) => {
                self.conn.execute_batch("ROLLBACK;").unwrap();
                Err(e.to_string())
            }
        }
    }

    /// Runs the up step; when it succeeds, the database has the shape a fresh one created by the
    /// new manifest has.
    fn up(&self) -> Result<(), String> {
        self.apply(&self.second("up.sql"))?;
        assert_eq!(unordered(shape(&self.conn)), self.new_shape, "migrated as created anew:\n{}", self.migrations[&self.second("up.sql")]);
        Ok(())
    }

    fn down(&self) -> Result<(), String> {
        self.apply(&self.second("down.sql"))
    }

    fn count(&self, table: &str) -> i64 {
        self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }

    fn strings(&self, sql: &str) -> Vec<String> {
        let mut stmt = self.conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get::<_, Option<String>>(0)).unwrap().map(|v| v.unwrap().unwrap_or_else(|| "NULL".into())).collect()
    }

    /// Every row and link of the seed is still there, and every reference resolves.
    fn seed_intact(&self) {
        assert_eq!((self.count("authors"), self.count("posts"), self.count("tags"), self.count("posts_tags")), (2, 3, 2, 3));
        assert_eq!(self.count("pragma_foreign_key_check"), 0, "dangling references");
    }

    /// The down step restores exactly the shape the base manifest created.
    fn down_restores(&self) {
        self.down().unwrap();
        assert_eq!(shape(&self.conn), self.base_shape);
        assert_eq!(self.count("pragma_foreign_key_check"), 0, "dangling references after down");
    }

    /// A failed migration changed nothing.
    fn unchanged(&self) {
        assert_eq!(shape(&self.conn), self.base_shape);
        self.seed_intact();
    }
}

/// A shape without the order of columns: `ADD COLUMN` appends, where the manifest (and so a fresh
/// database) may have the column anywhere.
fn unordered(mut shape: Vec<String>) -> Vec<String> {
    shape.sort();
    shape
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

fn has(changes: &[(Level, String, String)], level: Level, kind: &str, at: &str) {
    assert!(changes.iter().any(|(l, k, c)| *l == level && k == kind && c == at), "no {level:?} {kind} at {at} in {changes:#?}");
}

#[test]
fn nothing_changed_means_no_migration() {
    let m = migrations(BASE, &edit("  Tag:\n", "  # tags are lowercase words\n  Tag:\n"));
    assert_eq!(m.keys().collect::<Vec<_>>(), ["migrations/0001_initial/down.sql", "migrations/0001_initial/up.sql"]);
    assert!(data_changes(BASE, BASE).is_empty());
}

#[test]
fn column_added_nullable_keeps_rows() {
    let new = edit("      body: text\n", "      body: text\n      summary: { type: text, nullable: true }\n");
    has(&data_changes(BASE, &new), Level::Safe, "COLUMN_ADDED", "posts.summary");
    let db = Db::new(BASE, &new, SEED);
    assert!(db.second("up.sql").starts_with("migrations/0002_alter_posts/"));
    assert!(db.migrations[&db.second("up.sql")].contains("ALTER TABLE posts ADD COLUMN summary TEXT;"));
    db.up().unwrap();
    db.seed_intact();
    assert_eq!(db.strings("SELECT summary FROM posts"), ["NULL", "NULL", "NULL"]);
    db.down_restores();
    db.seed_intact();
    // A column with a rule of its own is a table constraint, which only a rebuild can add.
    let checked = edit("      body: text\n", "      body: text\n      summary: { type: string, max_length: 100, nullable: true }\n");
    let db = Db::new(BASE, &checked, SEED);
    assert!(db.migrations[&db.second("up.sql")].contains("CREATE TABLE posts__rebuild"));
    db.up().unwrap();
    db.seed_intact();
    db.down_restores();
}

#[test]
fn column_added_required_fails_on_rows_and_works_on_an_empty_table() {
    let new = edit("      body: text\n", "      body: text\n      subtitle: { type: string, max_length: 100 }\n");
    has(&data_changes(BASE, &new), Level::Breaking, "COLUMN_ADDED_REQUIRED", "posts.subtitle");
    let db = Db::new(BASE, &new, SEED);
    let err = db.up().unwrap_err();
    assert!(err.contains("NOT NULL"), "{err}");
    db.unchanged();
    let empty = Db::new(BASE, &new, "");
    empty.up().unwrap();
    empty.down_restores();
}

#[test]
fn column_dropped_loses_only_that_column() {
    let new = edit("      score: { type: integer, default: 0 }\n", "");
    has(&data_changes(BASE, &new), Level::Breaking, "COLUMN_DROPPED", "posts.score");
    let db = Db::new(BASE, &new, SEED);
    db.up().unwrap();
    db.seed_intact();
    assert!(!shape(&db.conn).iter().any(|l| l.trim_start().starts_with("score ")));
    // The search index was rebuilt with the table and still finds rows.
    assert_eq!(db.strings("SELECT CAST(rowid AS TEXT) FROM posts_fts WHERE posts_fts MATCH 'numbers' ORDER BY rowid"), ["1", "2"]);
    db.down_restores();
    db.seed_intact();
    assert_eq!(db.strings("SELECT CAST(score AS TEXT) FROM posts"), ["0", "0", "0"], "the column comes back with its default");
}

#[test]
fn renamed_from_renames_and_keeps_values() {
    let new = edit(
        "      title: { type: string, max_length: 200 }\n",
        "      headline: { type: string, max_length: 200, renamed_from: title }\n",
    )
    .replace("search: [title, body]", "search: [headline, body]");
    let changes = data_changes(BASE, &new);
    has(&changes, Level::Safe, "COLUMN_RENAMED", "posts.headline");
    assert!(!changes.iter().any(|(_, k, _)| k == "COLUMN_DROPPED" || k == "COLUMN_ADDED_REQUIRED"), "{changes:?}");
    let db = Db::new(BASE, &new, SEED);
    db.up().unwrap();
    db.seed_intact();
    assert_eq!(
        db.strings("SELECT headline FROM posts ORDER BY id"),
        ["Notes on the analytical engine", "Second thoughts", "Hello from Brian"]
    );
    assert_eq!(db.strings("SELECT CAST(rowid AS TEXT) FROM posts_fts WHERE posts_fts MATCH 'analytical'"), ["1"]);
    // The triggers follow the new column: a new row is searchable.
    db.conn.execute_batch("INSERT INTO posts (author_id, headline, body) VALUES (2, 'Quaternions', 'rotations')").unwrap();
    assert_eq!(db.strings("SELECT CAST(rowid AS TEXT) FROM posts_fts WHERE posts_fts MATCH 'quaternions'"), ["4"]);
    db.conn.execute_batch("DELETE FROM posts WHERE id = 4").unwrap();
    db.down_restores();
    assert_eq!(
        db.strings("SELECT title FROM posts ORDER BY id"),
        ["Notes on the analytical engine", "Second thoughts", "Hello from Brian"]
    );
    // A `renamed_from` left in the manifest after its migration changes nothing later.
    let later = new.replace("      body: text\n", "      body: text\n      lead: { type: text, nullable: true }\n");
    assert_eq!(data_changes(&new, &later), [(Level::Safe, "COLUMN_ADDED".to_string(), "posts.lead".to_string())]);
    let m = migrations(&new, &later);
    let up = m.iter().find(|(p, _)| p.ends_with("/up.sql") && !p.contains("0001")).unwrap().1;
    assert!(up.contains("ALTER TABLE posts ADD COLUMN lead TEXT;") && !up.contains("__rebuild"), "{up}");
}

#[test]
fn narrowed_column_fails_on_long_values_and_widened_one_keeps_them() {
    let narrow = edit("title: { type: string, max_length: 200 }", "title: { type: string, max_length: 10 }");
    has(&data_changes(BASE, &narrow), Level::Dangerous, "COLUMN_TYPE_NARROWED", "posts.title");
    let db = Db::new(BASE, &narrow, SEED);
    let err = db.up().unwrap_err();
    assert!(err.contains("CHECK"), "{err}");
    db.unchanged();
    let wide = edit("title: { type: string, max_length: 200 }", "title: text");
    has(&data_changes(BASE, &wide), Level::Safe, "COLUMN_TYPE_CHANGED", "posts.title");
    let db = Db::new(BASE, &wide, SEED);
    db.up().unwrap();
    db.seed_intact();
    db.down_restores();
}

#[test]
fn incompatible_type_change_keeps_stored_values() {
    let new = edit("score: { type: integer, default: 0 }", "score: { type: string, max_length: 20, default: \"0\" }");
    has(&data_changes(BASE, &new), Level::Breaking, "COLUMN_TYPE_CHANGED", "posts.score");
    let db = Db::new(BASE, &new, SEED);
    db.up().unwrap();
    assert_eq!(db.strings("SELECT score FROM posts ORDER BY id"), ["5", "0", "2"]);
    db.down_restores();
    db.seed_intact();
}

#[test]
fn not_null_with_default_fills_nulls_and_without_default_fails() {
    let with_default =
        edit("nickname: { type: string, max_length: 50, nullable: true }", "nickname: { type: string, max_length: 50, default: anon }");
    has(&data_changes(BASE, &with_default), Level::Dangerous, "NOT_NULL_ADDED", "authors.nickname");
    let db = Db::new(BASE, &with_default, SEED);
    db.up().unwrap();
    db.seed_intact();
    assert_eq!(db.strings("SELECT nickname FROM authors ORDER BY id"), ["countess", "anon"]);
    db.down_restores();

    let without = edit("nickname: { type: string, max_length: 50, nullable: true }", "nickname: { type: string, max_length: 50 }");
    has(&data_changes(BASE, &without), Level::Breaking, "NOT_NULL_ADDED", "authors.nickname");
    let db = Db::new(BASE, &without, SEED);
    assert!(db.up().unwrap_err().contains("NOT NULL"));
    db.unchanged();

    let loosened = edit("title: { type: string, max_length: 200 }", "title: { type: string, max_length: 200, nullable: true }");
    has(&data_changes(BASE, &loosened), Level::Safe, "NOT_NULL_REMOVED", "posts.title");
    let db = Db::new(BASE, &loosened, SEED);
    db.up().unwrap();
    db.seed_intact();
    db.down_restores();
}

#[test]
fn unique_added_fails_on_duplicates_only() {
    let new = edit("name: { type: string, max_length: 50 }", "name: { type: string, max_length: 50, unique: true }");
    has(&data_changes(BASE, &new), Level::Dangerous, "UNIQUE_ADDED", "tags.name");
    has(&data_changes(&new, BASE), Level::Safe, "UNIQUE_REMOVED", "tags.name");
    let db = Db::new(BASE, &new, SEED);
    db.up().unwrap();
    db.seed_intact();
    assert!(db.conn.execute_batch("INSERT INTO tags (name) VALUES ('math')").unwrap_err().to_string().contains("UNIQUE"));
    db.down_restores();
    let dup = Db::new(BASE, &new, &format!("{SEED}\nINSERT INTO tags (name) VALUES ('math');"));
    assert!(dup.up().unwrap_err().contains("UNIQUE"));
    assert_eq!(dup.count("tags"), 3);
}

#[test]
fn check_added_and_removed() {
    let new = edit("score: { type: integer, default: 0 }", "score: { type: integer, default: 0, min: 0, max: 10 }");
    has(&data_changes(BASE, &new), Level::Dangerous, "CHECK_ADDED", "posts");
    let db = Db::new(BASE, &new, SEED);
    db.up().unwrap();
    db.seed_intact();
    assert!(db.conn.execute_batch("UPDATE posts SET score = 11 WHERE id = 1").is_err());
    db.down_restores();
    let failing = Db::new(BASE, &new, &SEED.replace("'published', 5)", "'published', 50)"));
    assert!(failing.up().unwrap_err().contains("CHECK"));
    let without = BASE.replace("      score: { type: integer, default: 0 }\n", "      score: { type: float, default: 0 }\n");
    let with_min = without.replace("score: { type: float, default: 0 }", "score: { type: float, default: 0, min: 0 }");
    has(&data_changes(&with_min, &without), Level::Safe, "CHECK_REMOVED", "posts");
}

#[test]
fn enum_value_removed_fails_only_when_rows_hold_it() {
    let new = edit("values: [draft, published, archived]", "values: [draft, published]");
    has(&data_changes(BASE, &new), Level::Breaking, "STORED_ENUM_VALUE_REMOVED", "posts.status");
    let db = Db::new(BASE, &new, SEED);
    db.up().unwrap();
    db.seed_intact();
    db.down_restores();
    let holding = Db::new(BASE, &new, &SEED.replace("'draft', 0)", "'archived', 0)"));
    assert!(holding.up().unwrap_err().contains("CHECK"));
    holding.unchanged();
}

#[test]
fn relation_cardinality_changes() {
    let one = edit(
        "author: { type: foreign_key, to: Author, on_delete: cascade, related_name: posts }",
        "author: { type: one_to_one, to: Author, on_delete: cascade, related_name: post }",
    );
    let changes = data_changes(BASE, &one);
    has(&changes, Level::Dangerous, "RELATION_CARDINALITY_CHANGED", "posts.author");
    // Ada wrote two posts: a one-to-one cannot hold them.
    let db = Db::new(BASE, &one, SEED);
    assert!(db.up().unwrap_err().contains("UNIQUE"));
    db.unchanged();
    let single = Db::new(
        BASE,
        &one,
        &SEED
            .replace("(2, 1, 'Second", "(2, 2, 'Second")
            .replace("(3, 2, 'Hello", "(3, 3, 'Hello")
            .replace("(2, 'Brian', NULL);", "(2, 'Brian', NULL), (3, 'Cy', NULL);"),
    );
    single.up().unwrap();
    single.down_restores();
    let many = edit("      tags: { type: many_to_many, to: Tag, related_name: posts }\n", "");
    let many = many.replace(
        "      name: { type: string, max_length: 50 }\n",
        "      name: { type: string, max_length: 50 }\n      posts: { type: many_to_many, to: Post, related_name: tags }\n",
    );
    has(&data_changes(BASE, &many), Level::Breaking, "TABLE_DROPPED", "posts_tags");
    has(&data_changes(BASE, &many), Level::Safe, "TABLE_ADDED", "tags_posts");
}

#[test]
fn tables_added_and_dropped() {
    let added = format!("{BASE}  Comment:\n    fields:\n      id: auto\n      post: {{ type: foreign_key, to: Post, on_delete: cascade }}\n      body: text\n");
    has(&data_changes(BASE, &added), Level::Safe, "TABLE_ADDED", "comments");
    let db = Db::new(BASE, &added, SEED);
    assert!(db.second("up.sql").starts_with("migrations/0002_create_comments/"));
    db.up().unwrap();
    db.seed_intact();
    db.conn.execute_batch("INSERT INTO comments (post_id, body) VALUES (1, 'nice')").unwrap();
    db.down_restores();

    let dropped = edit("      tags: { type: many_to_many, to: Tag, related_name: posts }\n", "")
        .replace("  Tag:\n    fields:\n      id: auto\n      name: { type: string, max_length: 50 }\n", "");
    let changes = data_changes(BASE, &dropped);
    has(&changes, Level::Breaking, "TABLE_DROPPED", "tags");
    has(&changes, Level::Breaking, "TABLE_DROPPED", "posts_tags");
    let db = Db::new(BASE, &dropped, SEED);
    db.up().unwrap();
    assert_eq!((db.count("posts"), db.count("pragma_foreign_key_check")), (3, 0));
    db.down_restores();
    assert_eq!(db.count("tags"), 0, "dropped rows do not come back");
}

#[test]
fn renamed_model_keeps_its_rows_links_references_and_search() {
    let comment = "  Comment:\n    fields:\n      id: auto\n      post: { type: foreign_key, to: Post, on_delete: cascade, related_name: comments }\n      body: text\n";
    let old = format!("{BASE}{comment}");
    let new = old.replace("  Post:\n", "  Article:\n    renamed_from: Post\n").replace("to: Post,", "to: Article,");
    let changes = data_changes(&old, &new);
    has(&changes, Level::Safe, "TABLE_RENAMED", "articles");
    has(&changes, Level::Safe, "TABLE_RENAMED", "articles_tags");
    has(&changes, Level::Safe, "COLUMN_RENAMED", "articles_tags.article_id");
    let lossy: Vec<_> = changes.iter().filter(|(l, _, _)| *l != Level::Safe).collect();
    assert!(lossy.is_empty(), "a rename loses nothing: {lossy:#?}");
    let db = Db::new(&old, &new, &format!("{SEED}\nINSERT INTO comments (post_id, body) VALUES (1, 'first'), (3, 'hi');"));
    assert!(db.second("up.sql").starts_with("migrations/0002_rename_posts_"), "{}", db.second("up.sql"));
    db.up().unwrap();
    assert_eq!((db.count("articles"), db.count("articles_tags"), db.count("comments"), db.count("tags")), (3, 3, 2, 2));
    assert_eq!(db.count("pragma_foreign_key_check"), 0);
    assert_eq!(db.strings("SELECT CAST(rowid AS TEXT) FROM articles_fts WHERE articles_fts MATCH 'numbers' ORDER BY rowid"), ["1", "2"]);
    // The comments' foreign key follows the table: deleting an article cascades to its comments.
    db.conn.execute_batch("PRAGMA foreign_keys = ON; DELETE FROM articles WHERE id = 3; PRAGMA foreign_keys = OFF;").unwrap();
    assert_eq!((db.count("comments"), db.count("articles_tags")), (1, 2));
    db.conn.execute_batch("INSERT INTO articles (id, author_id, title, body, status, score) VALUES (3, 2, 'Hello from Brian', 'greetings', 'published', 2); INSERT INTO articles_tags VALUES (3, 2); INSERT INTO comments (post_id, body) VALUES (3, 'hi');").unwrap();
    db.down_restores();
    assert_eq!((db.count("posts"), db.count("posts_tags"), db.count("comments")), (3, 3, 2));
}

#[test]
fn default_and_delete_action_changes() {
    let new = edit("score: { type: integer, default: 0 }", "score: { type: integer, default: 3 }")
        .replace("on_delete: cascade, related_name: posts }", "on_delete: restrict, related_name: posts }");
    let changes = data_changes(BASE, &new);
    has(&changes, Level::Safe, "COLUMN_DEFAULT_CHANGED", "posts.score");
    has(&changes, Level::Dangerous, "FOREIGN_KEY_ACTION_CHANGED", "posts.author_id");
    let db = Db::new(BASE, &new, SEED);
    db.up().unwrap();
    db.seed_intact();
    assert_eq!(db.strings("SELECT CAST(score AS TEXT) FROM posts ORDER BY id"), ["5", "0", "2"], "stored values stay");
    db.conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    assert!(db.conn.execute_batch("DELETE FROM authors WHERE id = 1").is_err(), "restrict now holds");
    db.conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
    db.down_restores();
}

#[test]
fn index_added_and_removed() {
    let new = edit("default: draft }", "default: draft, indexed: true }");
    has(&data_changes(BASE, &new), Level::Safe, "INDEX_ADDED", "posts");
    has(&data_changes(&new, BASE), Level::Safe, "INDEX_REMOVED", "posts");
    let db = Db::new(BASE, &new, SEED);
    let up = &db.migrations[&db.second("up.sql")];
    assert!(up.contains("CREATE INDEX") && !up.contains("__rebuild"), "an index alone needs no rebuild:\n{up}");
    db.up().unwrap();
    db.seed_intact();
    db.down_restores();
}

#[test]
fn names_that_are_keywords_are_quoted_in_every_step() {
    let old = include_str!("fixtures/migrations/reserved.yaml");
    let new = include_str!("fixtures/migrations/reserved_next.yaml");
    let db = Db::new(old, new, include_str!("fixtures/migrations/reserved_seed.sql"));
    let up = &db.migrations[&db.second("up.sql")];
    assert!(up.contains("__rebuild"), "the changes rebuild tables:\n{up}");
    db.up().unwrap();
    assert_eq!(db.strings("SELECT \"user\" || ' ' || coalesce(\"where\", '-') FROM \"order\" ORDER BY id"), ["ada one", "brian -"]);
    assert_eq!((db.count("\"grant\""), db.count("order_tags")), (2, 3));
    assert_eq!(db.strings("SELECT CAST(rowid AS TEXT) FROM order_fts WHERE order_fts MATCH 'brian'"), ["2"]);
    assert_eq!(db.count("pragma_foreign_key_check"), 0);
    db.down_restores();
    assert_eq!(db.strings("SELECT \"select\" FROM \"order\" WHERE id = 1"), ["one"]);
}

/// Changes of keys, types and table constraints: each migrated database has the shape a fresh one
/// created from the new manifest has (`Db::up` checks it), and keeps its rows.
#[test]
fn key_type_and_constraint_changes_migrate_to_the_fresh_shape() {
    let tag = "  Tag:\n    fields:\n      id: auto\n";
    // SQLite's INTEGER keys are 64-bit already: a wider key changes nothing there.
    let wider = edit(tag, "  Tag:\n    fields:\n      id: big_auto\n");
    assert_eq!(migrations(BASE, &wider).len(), 2, "only the initial migration");
    let cases = [
        edit(
            "status: { type: enum, values: [draft, published, archived], default: draft }",
            "status: { type: string, max_length: 20, default: draft }",
        ),
        edit("      body: text\n", "      body: text\n      meta: { type: json, nullable: true }\n"),
        edit("    search: [title, body]\n", "    search: [title, body]\n    unique_together: [[author, title]]\n"),
    ];
    for new in &cases {
        let db = Db::new(BASE, new, SEED);
        db.up().unwrap();
        db.seed_intact();
        db.down_restores();
    }
    let text_key =
        |n: u32| BASE.replace(tag, &format!("  Tag:\n    fields:\n      id: {{ type: string, max_length: {n}, primary_key: true }}\n"));
    let seed = SEED.replace("VALUES (1, 'math'), (2, 'history')", "VALUES ('1', 'math'), ('2', 'history')");
    let db = Db::new(&text_key(8), &text_key(16), &seed);
    db.up().unwrap();
    db.conn.execute_batch("INSERT INTO tags (id, name) VALUES ('twelve chars', 'x')").unwrap();
    assert!(db.conn.execute_batch("INSERT INTO tags (id, name) VALUES ('', 'empty')").is_err(), "an empty key is still refused");
}

#[test]
fn generate_writes_the_next_migration_and_keeps_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("gqlauto.yaml");
    let out = dir.path().join("server");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_gqlauto")).args(args).current_dir(dir.path()).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    std::fs::write(&manifest, BASE).unwrap();
    run(&["generate", "gqlauto.yaml", "--out", "server"]);
    let initial = std::fs::read_to_string(out.join("migrations/0001_initial/up.sql")).unwrap();
    std::fs::write(&manifest, edit("      body: text\n", "      body: text\n      summary: { type: text, nullable: true }\n")).unwrap();
    let said = run(&["generate", "gqlauto.yaml", "--out", "server"]);
    assert!(said.contains("new migration server/migrations/0002_alter_posts: review it"), "{said}");
    // A migration of the user's own keeps its number; the next generated one comes after it.
    std::fs::create_dir(out.join("migrations/0003_backfill")).unwrap();
    std::fs::write(out.join("migrations/0003_backfill/up.sql"), "UPDATE posts SET summary = body;\n").unwrap();
    std::fs::write(out.join("migrations/0003_backfill/down.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(
        &manifest,
        edit(
            "      body: text\n",
            "      body: text\n      summary: { type: text, nullable: true }\n      lead: { type: text, nullable: true }\n",
        ),
    )
    .unwrap();
    run(&["generate", "gqlauto.yaml", "--out", "server"]);
    run(&["generate", "gqlauto.yaml", "--out", "server", "--check"]);
    let mut dirs: Vec<String> =
        std::fs::read_dir(out.join("migrations")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    dirs.sort();
    assert_eq!(dirs, ["0001_initial", "0002_alter_posts", "0003_backfill", "0004_alter_posts"]);
    assert_eq!(std::fs::read_to_string(out.join("migrations/0003_backfill/up.sql")).unwrap(), "UPDATE posts SET summary = body;\n");
    assert_eq!(std::fs::read_to_string(out.join("migrations/0001_initial/up.sql")).unwrap(), initial);
    assert!(std::fs::read_to_string(out.join("migrations/0004_alter_posts/up.sql")).unwrap().contains("ADD COLUMN lead TEXT"));
    let stamp = std::fs::read_to_string(out.join("gqlauto.stamp")).unwrap();
    assert!(stamp.contains("\"migrations/0004_alter_posts/up.sql\","), "{stamp}");
    assert!(!stamp.contains("backfill"), "the user's migration is not the generator's");
    assert!(stamp.contains("      lead: { type: text, nullable: true }\n"), "the stamp records the manifest");
}

#[test]
fn every_database_change_kind_has_a_case_here() {
    let source = include_str!("migrations.rs");
    let missing: Vec<String> = gqlauto::diff::ChangeKind::ALL
        .iter()
        .filter(|k| **k >= gqlauto::diff::ChangeKind::TableAdded && **k < gqlauto::diff::ChangeKind::AccessControlAdded)
        .map(|k| k.code())
        .filter(|code| {
            !source.contains(&format!("Level::Safe, \"{code}\""))
                && !source.contains(&format!("Level::Dangerous, \"{code}\""))
                && !source.contains(&format!("Level::Breaking, \"{code}\""))
        })
        .collect();
    assert!(missing.is_empty(), "database change kinds without a migration case: {missing:?}");
}
