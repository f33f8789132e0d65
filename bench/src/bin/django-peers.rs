//! The Django blog benchmark: the same SQLite database (a Django project's own tables and
//! indexes, `bench/django`) served by the server gqlauto generates from `init --from-django`, by
//! strawberry-graphql-django and by graphene-django (each under gunicorn with sync workers), and
//! the same queries driven at each with concurrent clients. Every server must answer each query
//! with the same rows in the same order (checked before measuring); the table gives requests/s,
//! the generated server's ratio to the best peer, and resident memory.
//!
//! Usage: `django-peers --server PATH --project DIR --db FILE --strawberry PYTHON --graphene PYTHON
//! [--seconds S] [--clients C] [--workers W] [--only TEXT]` (`bench/django-peers.sh` prepares
//! all of it and runs this).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::process::{Command, Stdio};
use std::time::Duration;

use gqlauto_bench::{agent, free_port, heap_mib, load, machine, post, reset_peak_rss, rss_mib, start, wait_until_up, watch_heap, Figures, Load, Server};
use serde_json::{json, Value};

struct Options {
    server: PathBuf,
    project: PathBuf,
    db: PathBuf,
    strawberry: PathBuf,
    graphene: PathBuf,
    load: Load,
    workers: u32,
    only: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        server: PathBuf::new(),
        project: PathBuf::new(),
        db: PathBuf::new(),
        strawberry: PathBuf::new(),
        graphene: PathBuf::new(),
        load: Load { seconds: 10, clients: 32 },
        workers: 2,
        only: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_else(|| panic!("{} needs a value", pair[0]));
        match pair[0].as_str() {
            "--server" => o.server = value.into(),
            "--project" => o.project = value.into(),
            "--db" => o.db = value.into(),
            "--strawberry" => o.strawberry = value.into(),
            "--graphene" => o.graphene = value.into(),
            "--seconds" => o.load.seconds = value.parse().expect("--seconds S"),
            "--clients" => o.load.clients = value.parse().expect("--clients C"),
            "--workers" => o.workers = value.parse().expect("--workers W"),
            "--only" => o.only = Some(value),
            other => panic!("unknown argument {other}"),
        }
    }
    // Absolute, since the peers run in the project's directory.
    for (flag, path) in [("--server", &mut o.server), ("--db", &mut o.db), ("--strawberry", &mut o.strawberry), ("--graphene", &mut o.graphene)] {
        assert!(path.is_file(), "{flag} must name an existing file, not {}", path.display());
        *path = std::path::absolute(&*path).expect("an absolute path");
    }
    assert!(o.project.join("manage.py").is_file(), "--project must name the Django project (bench/django)");
    o
}

/// One query as each server spells it; the answers must hold the same values in the same order.
struct Query {
    name: &'static str,
    generated: &'static str,
    strawberry: &'static str,
    graphene: &'static str,
    /// Variables of the `n`th request, in every spelling (an author's key).
    variables: fn(u64, u64) -> Value,
}

/// Resident memory of a server, in MiB: all of it, and its anonymous part.
struct Memory {
    rss: f64,
    heap: f64,
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} ({:.0})", self.rss, self.heap)
    }
}

fn no_variables(_: u64, _: u64) -> Value {
    json!({})
}

const AUTHORS: u64 = 2_000;

fn queries() -> Vec<Query> {
    vec![
        Query {
            name: "Q1 author by id",
            generated: "query($id: ID!) { author(id: $id) { id name email } }",
            strawberry: "query($id: ID!) { author(pk: $id) { id name email } }",
            graphene: "query($id: ID!) { author(id: $id) { id name email } }",
            variables: |n, rows| json!({"id": (n * 7919 % rows + 1).to_string()}),
        },
        Query {
            name: "Q2 20 published posts, newest first, with author",
            generated: "{ posts(where: {status: {eq: PUBLISHED}}, orderBy: [{publishedAt: DESC}, {id: ASC}], limit: 20) { id title publishedAt author { name } } }",
            strawberry: "{ posts(filters: {status: {exact: \"published\"}}, ordering: [{publishedAt: DESC}, {id: ASC}], pagination: {limit: 20}) { id title publishedAt author { name } } }",
            graphene: "{ posts(status: \"published\", newestFirst: true, limit: 20) { id title publishedAt author { name } } }",
            variables: no_variables,
        },
        Query {
            name: "Q3 20 authors → 20 posts → 20 comments + tags",
            generated: "{ authors(limit: 20) { id name posts(limit: 20) { id title publishedAt comments(limit: 20) { id body createdAt } tags(limit: 20) { id name } } } }",
            strawberry: "{ authors(pagination: {limit: 20}) { id name posts(pagination: {limit: 20}) { id title publishedAt comments(pagination: {limit: 20}) { id body createdAt } tags(pagination: {limit: 20}) { id name } } } }",
            graphene: "{ authors(limit: 20, perLevel: 20) { id name posts { id title publishedAt comments { id body createdAt } tags { id name } } } }",
            variables: no_variables,
        },
        Query {
            name: "Q4 published posts, offset 1,000, limit 20, with the total count",
            generated: "{ posts(where: {status: {eq: PUBLISHED}}, orderBy: [{publishedAt: DESC}, {id: ASC}], offset: 1000, limit: 20) { id title publishedAt } postsAggregate(where: {status: {eq: PUBLISHED}}) { count } }",
            strawberry: "{ postsPage(filters: {status: {exact: \"published\"}}, ordering: [{publishedAt: DESC}, {id: ASC}], pagination: {offset: 1000, limit: 20}) { results { id title publishedAt } totalCount } }",
            graphene: "{ postsPage(status: \"published\", newestFirst: true, offset: 1000, limit: 20) { results { id title publishedAt } totalCount } }",
            variables: no_variables,
        },
        Query {
            name: "Q5 post count by status",
            generated: "{ postsGroupBy(by: [STATUS]) { key { status } aggregate { count } } }",
            strawberry: "{ postsByStatus { status count } }",
            graphene: "{ postsByStatus { status count } }",
            variables: no_variables,
        },
        Query {
            name: "Q5b two filtered counts (draft, published)",
            generated: "{ draft: postsAggregate(where: {status: {eq: DRAFT}}) { count } published: postsAggregate(where: {status: {eq: PUBLISHED}}) { count } }",
            strawberry: "{ draft: postCount(status: \"draft\") published: postCount(status: \"published\") }",
            graphene: "{ draft: postCount(status: \"draft\") published: postCount(status: \"published\") }",
            variables: no_variables,
        },
    ]
}

/// The values of an answer in document order, with what differs only in spelling between the
/// servers made equal: enum values against Django's stored choices (`PUBLISHED` / `published`),
/// and UTC written as `Z` or `+00:00`.
fn values(answer: &Value, out: &mut Vec<String>) {
    match answer {
        Value::Object(fields) => fields.values().for_each(|v| values(v, out)),
        Value::Array(items) => items.iter().for_each(|v| values(v, out)),
        Value::String(s) => out.push(s.to_lowercase().replace("+00:00", "z")),
        other => out.push(other.to_string()),
    }
}

/// A peer under gunicorn: `workers` sync workers of the Django project, `peer` mounted at /graphql/.
fn start_peer(python: &PathBuf, peer: &str, o: &Options) -> Server {
    let port = free_port();
    let child = Command::new(python)
        .args(["-m", "gunicorn", "--workers", &o.workers.to_string(), "--bind", &format!("127.0.0.1:{port}"), "--log-level", "warning"])
        .arg("blogbench.wsgi:application")
        .current_dir(&o.project)
        .env("BENCH_PEER", peer)
        .env("BENCH_DB", &o.db)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start gunicorn with {}: {e}", python.display()));
    let base = format!("http://127.0.0.1:{port}");
    let server = Server { child, base };
    wait_until_up(&format!("{}/graphql/", server.base), Duration::from_secs(30));
    server
}

fn version(python: &PathBuf, package: &str) -> String {
    let out = Command::new(python)
        .args(["-c", &format!("import importlib.metadata as m; print(m.version({package:?}))")])
        .output()
        .expect("run python");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn main() {
    let o = options();
    let generated = start(
        Command::new(&o.server)
            .env("DATABASE_URL", &o.db)
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            // The nested query selects 20 × 20 × 20 rows; the default budget is for public APIs.
            .env("MAX_COMPLEXITY", "1000000"),
    );
    let strawberry = start_peer(&o.strawberry, "strawberry", &o);
    let graphene = start_peer(&o.graphene, "graphene", &o);
    let servers = [
        ("generated", format!("{}/graphql", generated.base), &generated),
        ("strawberry", format!("{}/graphql/", strawberry.base), &strawberry),
        ("graphene", format!("{}/graphql/", graphene.base), &graphene),
    ];
    let idle: Vec<Memory> = servers.iter().map(|(_, _, s)| Memory { rss: rss_mib(s.child.id()).0, heap: heap_mib(s.child.id()) }).collect();

    println!("Machine: {}.", machine());
    println!(
        "Peers: strawberry-graphql-django {} and graphene-django {} on Django {}, each under gunicorn with {} sync workers.",
        version(&o.strawberry, "strawberry-graphql-django"),
        version(&o.graphene, "graphene-django"),
        version(&o.strawberry, "django"),
        o.workers
    );
    println!("{} concurrent clients, {} s per query after a 2 s warm-up; one SQLite file for all.\n", o.load.clients, o.load.seconds);
    println!("| query | generated req/s | strawberry-django req/s | graphene-django req/s | generated / best peer | generated p50 ms | generated peak MiB | strawberry-django peak MiB | graphene-django peak MiB |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let agent = agent();
    for q in queries().into_iter().filter(|q| o.only.as_ref().is_none_or(|only| q.name.contains(only.as_str()))) {
        let spellings = [q.generated, q.strawberry, q.graphene];
        let mut expected = None;
        let mut figures: Vec<(Figures, Memory)> = Vec::new();
        for ((label, url, server), query) in servers.iter().zip(spellings) {
            let mut seen = Vec::new();
            values(&post(&agent, url, None, query, &(q.variables)(1, AUTHORS))["data"], &mut seen);
            match &expected {
                None => expected = Some(seen),
                Some(want) => assert!(*want == seen, "{label} answers {} differently:\n{seen:?}\nnot\n{want:?}", q.name),
            }
            reset_peak_rss(server.child.id());
            let stop = Arc::new(AtomicBool::new(false));
            let heap = watch_heap(server.child.id(), stop.clone());
            let f = load(url, None, query, q.variables, AUTHORS, &o.load);
            stop.store(true, Ordering::Relaxed);
            eprintln!("  {} / {label}: {} requests", q.name, f.requests);
            figures.push((f, Memory { rss: rss_mib(server.child.id()).1, heap: heap.join().expect("memory watcher") }));
        }
        let best_peer = figures[1].0.rps.max(figures[2].0.rps);
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.2}× | {:.2} | {} | {} | {} |",
            q.name,
            figures[0].0.rps,
            figures[1].0.rps,
            figures[2].0.rps,
            figures[0].0.rps / best_peer,
            figures[0].0.p50.as_secs_f64() * 1e3,
            figures[0].1,
            figures[1].1,
            figures[2].1
        );
    }
    println!("\nIdle MiB (after start-up): generated {}, strawberry-django {}, graphene-django {}.", idle[0], idle[1], idle[2]);
    println!(
        "Memory is resident set size, then in brackets its anonymous part (the heap; the rest is the program's and the \
         database file's mapped pages, which the kernel shares and can reclaim), summed over a peer's gunicorn processes."
    );
}
