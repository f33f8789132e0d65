//! Query benchmark of the generated example (`blog`): seeds a SQLite database, starts the
//! generated server and the hand-written reference server on 127.0.0.1, drives each query with
//! concurrent keep-alive HTTP clients, and prints requests/second, latency percentiles and SQL
//! statements per request as a Markdown table.
//!
//! Usage: `gqlauto-bench --server PATH --reference PATH [--authors N] [--seconds S] [--clients C]
//! [--postgres URL] [--only TEXT] [--keep]` (`bench/queries.sh` builds both in release mode and runs this). With
//! `--postgres`, the generated server runs on a fresh database of that PostgreSQL server, seeded
//! with the same rows, and the (SQLite) reference is left out; `--postgraphile DIR` (with
//! `--postgres`; DIR is `bench/postgraphile` after `npm ci` there) then runs PostGraphile on the
//! same database and drives it with the same queries in its schema's spelling. Both connect
//! without TLS (a server on this machine).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gqlauto_bench::{agent, load, machine, post, start, Figures, Load, Server};

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use serde_json::{json, Value};

struct Options {
    server: PathBuf,
    reference: PathBuf,
    authors: u64,
    posts_per_author: u64,
    comments_per_post: u64,
    seconds: u64,
    clients: usize,
    /// A PostgreSQL server's URL: benchmark the generated server on it instead of SQLite.
    postgres: Option<String>,
    /// Run only the queries whose name contains this text.
    only: Option<String>,
    /// Keep the seeded database afterwards (and print where it is), to look into a query.
    keep: bool,
    /// Where PostGraphile is installed (`bench/postgraphile`), to measure it beside the generated
    /// server on the same PostgreSQL database.
    postgraphile: Option<PathBuf>,
}

impl Options {
    fn load(&self) -> Load {
        Load { seconds: self.seconds, clients: self.clients }
    }
}

fn options() -> Options {
    let mut o = Options {
        server: PathBuf::new(),
        reference: PathBuf::new(),
        authors: 10_000,
        posts_per_author: 10,
        comments_per_post: 5,
        seconds: 10,
        clients: 8,
        postgres: None,
        only: None,
        keep: false,
        postgraphile: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--keep" {
            o.keep = true;
            i += 1;
            continue;
        }
        let value = args.get(i + 1).cloned().unwrap_or_else(|| panic!("{} needs a value", args[i]));
        match args[i].as_str() {
            "--server" => o.server = value.into(),
            "--reference" => o.reference = value.into(),
            "--authors" => o.authors = value.parse().expect("--authors N"),
            "--seconds" => o.seconds = value.parse().expect("--seconds S"),
            "--clients" => o.clients = value.parse().expect("--clients C"),
            "--postgres" => o.postgres = Some(value),
            "--only" => o.only = Some(value),
            "--postgraphile" => o.postgraphile = Some(PathBuf::from(value).canonicalize().expect("--postgraphile DIR exists")),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    assert!(o.server.is_file() && o.reference.is_file(), "--server and --reference must name built binaries");
    assert!(o.postgraphile.is_none() || o.postgres.is_some(), "--postgraphile needs --postgres");
    o
}

fn start_generated(binary: &Path, db: &str) -> Server {
    start(
        Command::new(binary)
            .env("DATABASE_URL", db)
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("JWT_SECRET", JWT_SECRET)
            // The nested query selects 20 × 20 × 20 rows; the default budget is for public APIs.
            .env("MAX_COMPLEXITY", "1000000"),
    )
}

/// The key the generated server verifies tokens with.
const JWT_SECRET: &str = "the benchmark's secret, thirty-two bytes or more";

/// Who the load generator acts as: the blog's roles.
#[derive(Clone, Copy)]
enum As {
    /// `admin`: every row, no conditions.
    Admin,
    /// `author` 1: published posts and their own, through a row condition.
    Author,
    /// No token: published posts only, through a row condition.
    Anonymous,
}

impl As {
    fn label(self) -> &'static str {
        match self {
            As::Admin => "generated, as admin (no conditions)",
            As::Author => "generated, as an author (row conditions)",
            As::Anonymous => "generated, anonymous (row conditions)",
        }
    }

    /// The `Authorization` header value, if any.
    fn header(self) -> Option<String> {
        let role = match self {
            As::Admin => "admin",
            As::Author => "author",
            As::Anonymous => return None,
        };
        let claims = json!({"sub": "1", "role": role, "exp": 4_102_444_800u64});
        let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()).expect("a key");
        Some(format!("Bearer {}", jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("a token")))
    }
}

/// The same rows as [`seed`], in PostgreSQL's SQL; the key sequences continue after them.
fn seed_postgres(url: &str, o: &Options) {
    let posts = o.authors * o.posts_per_author;
    let comments = posts * o.comments_per_post;
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL");
    let two = |e: &str| format!("lpad(({e})::text, 2, '0')");
    let sql = format!(
        "BEGIN;
         INSERT INTO tags (id, name) SELECT i, 'tag' || i FROM generate_series(1, 50) i;
         INSERT INTO authors (id, name, email, bio, joined_at)
           SELECT i, 'Author ' || lpad(i::text, 6, '0'), 'author' || i || '@example.com', 'Writes about things.', '2024-01-01 00:00:00+00:00' FROM generate_series(1, {a}) i;
         INSERT INTO posts (id, author_id, title, slug, body, status, published_at, view_count)
           SELECT i, (i - 1) / {ppa} + 1, 'Post number ' || i, 'post-' || i, 'lorem ipsum dolor sit amet ' || (i % 997) || ' consectetur',
                  CASE (i + i / 13) % 3 WHEN 0 THEN 'draft' WHEN 1 THEN 'published' ELSE 'archived' END,
                  CASE WHEN i % 10 = 0 THEN NULL ELSE ('2024-' || {month} || '-' || {day} || ' 10:00:00+00:00')::timestamptz END,
                  i % 1000 FROM generate_series(1, {posts}) i;
         INSERT INTO comments (id, post_id, author_name, body, created_at)
           SELECT i, (i - 1) / {cpp} + 1, 'reader' || (i % 100), 'Nice post ' || i, ('2024-06-01 00:' || {minute} || ':' || {second} || '+00:00')::timestamptz
           FROM generate_series(1, {comments}) i;
         INSERT INTO posts_tags (post_id, tag_id) SELECT id, id % 50 + 1 FROM posts;
         INSERT INTO posts_tags (post_id, tag_id) SELECT id, (id * 7 + 3) % 50 + 1 FROM posts WHERE (id * 7 + 3) % 50 != id % 50;
         SELECT setval(pg_get_serial_sequence(t, 'id'), 1000000000) FROM unnest(ARRAY['tags', 'authors', 'posts', 'comments']) t;
         COMMIT;",
        a = o.authors,
        ppa = o.posts_per_author,
        cpp = o.comments_per_post,
        month = two("i % 12 + 1"),
        day = two("i % 28 + 1"),
        minute = two("(i / 60) % 60"),
        second = two("i % 60"),
    );
    client.batch_execute(&sql).expect("seed");
    // As autovacuum would soon: statistics, and the visibility map index-only scans rely on.
    client.batch_execute("VACUUM ANALYZE").expect("vacuum");
}

/// Fills the (migrated, empty) database with authors, posts, comments and tags.
fn seed(db: &Path, o: &Options) {
    let posts = o.authors * o.posts_per_author;
    let comments = posts * o.comments_per_post;
    let mut conn = SqliteConnection::establish(db.to_str().expect("utf-8 path")).expect("open database");
    let sql = format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN;
         INSERT INTO tags (id, name) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i, 'tag' || i FROM n;
         INSERT INTO authors (id, name, email, bio, joined_at)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {a})
           SELECT i, printf('Author %06d', i), 'author' || i || '@example.com', 'Writes about things.', '2024-01-01 00:00:00+00:00' FROM n;
         INSERT INTO posts (id, author_id, title, slug, body, status, published_at, view_count)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {posts})
           SELECT i, (i - 1) / {ppa} + 1, 'Post number ' || i, 'post-' || i, 'lorem ipsum dolor sit amet ' || (i % 997) || ' consectetur',
                  CASE (i + i / 13) % 3 WHEN 0 THEN 'draft' WHEN 1 THEN 'published' ELSE 'archived' END,
                  CASE WHEN i % 10 = 0 THEN NULL ELSE printf('2024-%02d-%02d 10:00:00+00:00', i % 12 + 1, i % 28 + 1) END,
                  i % 1000 FROM n;
         INSERT INTO comments (id, post_id, author_name, body, created_at)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {comments})
           SELECT i, (i - 1) / {cpp} + 1, 'reader' || (i % 100), 'Nice post ' || i, printf('2024-06-01 00:%02d:%02d+00:00', (i / 60) % 60, i % 60) FROM n;
         INSERT INTO posts_tags (post_id, tag_id) SELECT id, id % 50 + 1 FROM posts;
         INSERT INTO posts_tags (post_id, tag_id) SELECT id, (id * 7 + 3) % 50 + 1 FROM posts WHERE (id * 7 + 3) % 50 != id % 50;
         COMMIT;",
        a = o.authors,
        ppa = o.posts_per_author,
        cpp = o.comments_per_post,
    );
    conn.batch_execute(&sql).expect("seed");
}

struct Scenario {
    name: &'static str,
    query: &'static str,
    /// Variables of the `n`th request.
    variables: fn(u64, u64) -> Value,
}

fn no_variables(_: u64, _: u64) -> Value {
    json!({})
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "(a) lookup by id",
            query: "query($id: ID!) { post(id: $id) { id title body status publishedAt author { name } } }",
            variables: |n, posts| json!({"id": (n * 7919 % posts + 1).to_string()}),
        },
        Scenario {
            name: "(b) filtered page of 20 in the declared ordering",
            query: "{ posts(where: {status: {eq: PUBLISHED}, viewCount: {gte: 100}}, limit: 20) { id title publishedAt viewCount } }",
            variables: no_variables,
        },
        Scenario {
            name: "(c) authors → posts → comments, tags (20 per level)",
            query: "{ authors(limit: 20) { id name posts(limit: 20) { id title publishedAt comments(limit: 20) { id body createdAt } tags(limit: 20) { id name } } } }",
            variables: no_variables,
        },
        Scenario {
            name: "(d) connection page with totalCount",
            query: "{ postsConnection(where: {status: {eq: DRAFT}}, first: 20) { totalCount edges { cursor node { id title viewCount } } pageInfo { hasNextPage endCursor } } }",
            variables: no_variables,
        },
        Scenario {
            name: "(b') page of 20 ordered by an unindexed field",
            query: "{ posts(where: {status: {eq: PUBLISHED}}, orderBy: [{viewCount: DESC}], limit: 20) { id title viewCount } }",
            variables: no_variables,
        },
        Scenario {
            name: "(e) aggregate with groupBy",
            query: "{ postsGroupBy(by: [STATUS]) { key { status } aggregate { count sum { viewCount } avg { viewCount } max { publishedAt } } } }",
            variables: no_variables,
        },
        // Writes come last: they change the data the reads above measure.
        Scenario {
            name: "(w1) create one comment (checked, FK verified)",
            query: "mutation($p: ID!, $b: String!) { createComment(input: {postId: $p, authorName: \"bench\", body: $b}) { id createdAt } }",
            variables: |n, posts| json!({"p": (n * 7919 % posts + 1).to_string(), "b": format!("comment number {n}")}),
        },
        Scenario {
            name: "(w2) atomic increment of one hot row",
            query: "mutation { updatePost(id: \"1\", input: {viewCount: {increment: 1}}) { viewCount } }",
            variables: no_variables,
        },
        Scenario {
            name: "(w3) nested create: author + 3 posts + 6 comments + 3 tag links",
            query: "mutation($input: CreateAuthorInput!) { createAuthor(input: $input) { id posts { id comments { id } } } }",
            variables: |n, _| {
                let post = |i: u64| {
                    json!({"title": format!("Bench {n}.{i}"), "slug": format!("bench-{n}-{i}"), "body": "text", "tags": {"connect": [((n + i) % 50 + 1).to_string()]},
                           "comments": {"create": [{"authorName": "a", "body": "first"}, {"authorName": "b", "body": "second"}]}})
                };
                json!({"input": {"name": format!("Bench {n}"), "email": format!("bench{n}@example.com"), "posts": {"create": [post(1), post(2), post(3)]}}})
            },
        },
    ]
}

/// A published post's id (the seed publishes posts where `(i + i / 13) % 3 == 1`), so every
/// role reads the same row.
fn published_post(n: u64, posts: u64) -> u64 {
    let mut id = n * 7919 % posts + 1;
    while (id + id / 13) % 3 != 1 {
        id = id % posts + 1;
    }
    id
}

/// Reads whose rows every role of the blog may see: admin reads them without conditions, an
/// author and anonymous callers through their row conditions (`published or own`, `published`,
/// and for comments the same through their post), so the difference is what the conditions cost.
fn permission_scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "(p1) lookup of a published post by id",
            query: "query($id: ID!) { post(id: $id) { id title body status publishedAt author { name } } }",
            variables: |n, posts| json!({"id": published_post(n, posts).to_string()}),
        },
        Scenario {
            name: "(p2) authors → published posts → comments, tags (20 per level)",
            query: "{ authors(limit: 20) { id name posts(where: {status: {eq: PUBLISHED}}, limit: 20) { id title publishedAt comments(limit: 20) { id body createdAt } tags(limit: 20) { id name } } } }",
            variables: no_variables,
        },
    ]
}

/// The queries PostGraphile answers as the generated server answers (a) and (c): the same rows
/// in the same orders (PostGraphile reaches tags through the join table's rows, and sorts null
/// publication dates first where the generated server sorts them last).
fn postgraphile_scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "(a) lookup by id",
            query: "query($id: Int!) { postByRowId(rowId: $id) { rowId title body status publishedAt authorByAuthorId { name } } }",
            variables: |n, posts| json!({"id": n * 7919 % posts + 1}),
        },
        Scenario {
            name: "(c) authors → posts → comments, tags (20 per level)",
            query: "{ allAuthors(first: 20, orderBy: [NAME_ASC]) { nodes { rowId name postsByAuthorId(first: 20, orderBy: [PUBLISHED_AT_DESC, TITLE_ASC]) { nodes { rowId title publishedAt \
                    commentsByPostId(first: 20, orderBy: [CREATED_AT_ASC]) { nodes { rowId body createdAt } } \
                    postsTagsByPostId(first: 20) { nodes { tagByTagId { rowId name } } } } } } } }",
            variables: no_variables,
        },
    ]
}

/// PostGraphile (`dir` holds its `node_modules`, with the Node.js it needs) on `db`.
fn start_postgraphile(dir: &Path, db: &str) -> Server {
    let port = gqlauto_bench::free_port();
    let bin = dir.join("node_modules/.bin");
    let mut child = Command::new(bin.join("node"))
        .arg(bin.join("postgraphile"))
        .args(["-P", "postgraphile/presets/amber", "-s", "public", "-n", "127.0.0.1", "-c", db, "-p", &port.to_string()])
        .current_dir(dir)
        .env("NODE_ENV", "production")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start PostGraphile (run `npm ci` in bench/postgraphile)");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while !line.contains("Server listening") {
        line.clear();
        assert!(out.read_line(&mut line).expect("PostGraphile's output") > 0, "PostGraphile stopped before listening");
    }
    // Its further output is drained so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Server { child, base: format!("http://127.0.0.1:{port}") }
}

/// The version of the PostGraphile installed in `dir`.
fn postgraphile_version(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("node_modules/postgraphile/package.json")).expect("PostGraphile's package.json");
    serde_json::from_str::<Value>(&text).expect("JSON")["version"].as_str().unwrap_or("?").to_string()
}

/// The query (c) for the reference server, which has no `publishedAt`-typed scalars of its own.
const REFERENCE_NESTED: &str =
    "{ authors(limit: 20) { id name posts(limit: 20) { id title publishedAt comments(limit: 20) { id body createdAt } tags(limit: 20) { id name } } } }";

/// SQL statements one request runs, from the server's own counter read before and after it.
fn statements(agent: &ureq::Agent, base: &str, who: Option<&str>, counter_url: &str, parse: fn(&str) -> u64, query: &str, variables: &Value) -> u64 {
    let read = || parse(&agent.get(format!("{base}{counter_url}")).call().expect("counter").body_mut().read_to_string().expect("counter text"));
    let before = read();
    post(agent, &format!("{base}/graphql"), who, query, variables);
    read() - before
}

fn metrics_total(text: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix("gqlauto_sql_statements_total ")).and_then(|v| v.trim().parse().ok()).expect("statement counter in /metrics")
}

fn plain_number(text: &str) -> u64 {
    text.trim().parse().expect("statement count")
}

fn main() {
    let o = options();
    let dir = std::env::temp_dir().join(format!("gqlauto-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bench.db");
    // On PostgreSQL, a database of its own, dropped at the end.
    let name = format!("gqlauto_bench_{}", std::process::id());
    let postgres = o.postgres.as_ref().map(|admin| {
        let mut client = postgres::Client::connect(admin, postgres::NoTls).expect("connect to PostgreSQL");
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).expect("drop");
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create");
        let (server, _) = admin.rsplit_once('/').expect("a URL ending with a database name");
        (admin.clone(), format!("{server}/{name}?sslmode=disable"))
    });
    let db = match &postgres {
        Some((_, url)) => url.clone(),
        None => file.to_string_lossy().into_owned(),
    };
    // The server applies its migrations on start; then seed around it.
    drop(start_generated(&o.server, &db));
    let t = Instant::now();
    match &postgres {
        Some((_, url)) => seed_postgres(url, &o),
        None => seed(&file, &o),
    }
    let posts = o.authors * o.posts_per_author;
    eprintln!(
        "seeded {} authors, {posts} posts, {} comments in {:.1} s",
        o.authors,
        posts * o.comments_per_post,
        t.elapsed().as_secs_f64()
    );

    let database = if postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("Machine: {}. Database: {database}. {} concurrent clients, {} s per query after a 2 s warm-up.", machine(), o.clients, o.seconds);
    println!("Data: {} authors, {posts} posts, {} comments, 50 tags (2 per post).\n", o.authors, posts * o.comments_per_post);
    println!("| query | server | requests/s | p50 ms | p95 ms | p99 ms | SQL statements / request |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    // Statements per request as the server counts them (none: a peer that does not count).
    let row = |name: &str, server: &str, f: &Figures, statements: Option<u64>| {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let statements = statements.map_or("—".to_string(), |n| n.to_string());
        println!("| {name} | {server} | {:.0} | {:.2} | {:.2} | {:.2} | {statements} |", f.rps, ms(f.p50), ms(f.p95), ms(f.p99));
        eprintln!("  {name} / {server}: {} requests", f.requests);
    };
    let agent = agent();
    {
        let server = start_generated(&o.server, &db);
        let admin = As::Admin.header();
        // What permissions cost: the same rows read by every role, with and without conditions.
        let chosen = |name: &str| o.only.as_ref().is_none_or(|only| name.contains(only.as_str()));
        for s in permission_scenarios().into_iter().filter(|s| chosen(s.name)) {
            for who in [As::Admin, As::Author, As::Anonymous] {
                let header = who.header();
                let count = statements(&agent, &server.base, header.as_deref(), "/metrics", metrics_total, s.query, &(s.variables)(1, posts));
                let figures = load(&format!("{}/graphql", server.base), header, s.query, s.variables, posts, &o.load());
                row(s.name, who.label(), &figures, Some(count));
            }
        }
        for s in scenarios().into_iter().filter(|s| chosen(s.name)) {
            let count = statements(&agent, &server.base, admin.as_deref(), "/metrics", metrics_total, s.query, &(s.variables)(1, posts));
            let figures = load(&format!("{}/graphql", server.base), admin.clone(), s.query, s.variables, posts, &o.load());
            row(s.name, "generated", &figures, Some(count));
        }
    }
    if let (Some(dir), Some((_, url))) = (&o.postgraphile, &postgres) {
        let server = start_postgraphile(dir, url);
        let label = format!("PostGraphile {}", postgraphile_version(dir));
        let chosen = |name: &str| o.only.as_ref().is_none_or(|only| name.contains(only.as_str()));
        for s in postgraphile_scenarios().into_iter().filter(|s| chosen(s.name)) {
            let url = format!("{}/graphql", server.base);
            post(&agent, &url, None, s.query, &(s.variables)(1, posts));
            let figures = load(&url, None, s.query, s.variables, posts, &o.load());
            row(s.name, &label, &figures, None);
        }
    }
    // The hand-written reference serves SQLite only, and answers (c) only.
    let nested = "(c) authors → posts → comments, tags (20 per level)";
    if postgres.is_none() && o.only.as_ref().is_none_or(|only| nested.contains(only.as_str())) {
        let reference = start(Command::new(&o.reference).arg(&file));
        let count = statements(&agent, &reference.base, None, "/statements", plain_number, REFERENCE_NESTED, &json!({}));
        let figures = load(&format!("{}/graphql", reference.base), None, REFERENCE_NESTED, no_variables, posts, &o.load());
        row(nested, "hand-written reference", &figures, Some(count));
        drop(reference);
    }
    if o.keep {
        eprintln!("kept the database: {db}");
        return;
    }
    if let Some((admin, _)) = &postgres {
        let mut client = postgres::Client::connect(admin, postgres::NoTls).expect("connect to PostgreSQL");
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
