//! Hostile traffic against the real server binary: every request an attacker (or a careless
//! client) could send gets a fast, coded GraphQL error, and the server keeps serving everyone else.
//! (This file is ours, not gqlauto's: it is not in gqlauto.stamp.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The running server; killed when dropped.
struct Server {
    child: Child,
    base: String,
    addr: String,
    agent: ureq::Agent,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Server {
        Server::with(&[])
    }

    /// Starts the server with extra environment settings.
    fn with(env: &[(&str, &str)]) -> Server {
        Server::in_dir(tempfile::tempdir().unwrap(), env)
    }

    /// Stops the server and starts it again on the same database, with `env`.
    fn restart(mut self, env: &[(&str, &str)]) -> Server {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Server::in_dir(dir, env)
    }

    fn in_dir(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_blog"));
        command.env("DATABASE_URL", dir.path().join("hostile.db")).env("PORT", "0").env("HOST", "127.0.0.1");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
        let addr = base.trim_start_matches("http://").to_string();
        let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(20))).build();
        Server { child, base, addr, agent: config.into(), dir }
    }

    fn url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// POSTs `body` as JSON; returns the status and the JSON answer.
    fn post(&self, body: &Value) -> (u16, Value) {
        let mut res = self.agent.post(self.url()).header("content-type", "application/json").send(body.to_string()).unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_json().unwrap_or(Value::Null))
    }

    fn gql(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(&json!({"query": query, "variables": variables}));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The single error a request must produce.
    fn error(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables);
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("expected an error: {body}"));
        assert_eq!(errors.len(), 1, "{body}");
        errors[0].clone()
    }

    /// The code of the single error a request must produce.
    fn code(&self, query: &str, variables: Value) -> String {
        self.error(query, variables)["extensions"]["code"].as_str().unwrap_or("<none>").to_string()
    }

    fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The server is up and answers at once.
    fn assert_alive(&self) {
        let started = Instant::now();
        let mut res = self.agent.get(format!("{}/healthz", self.base)).call().unwrap();
        assert_eq!(res.body_mut().read_to_string().unwrap(), "ok");
        assert!(started.elapsed() < Duration::from_secs(2), "healthz took {:?}", started.elapsed());
        assert_eq!(self.data("{ tags { id } }", json!({})), json!({"tags": []}));
    }

    /// Sends raw bytes on a new connection and returns what came back before the server closed
    /// it (or `timeout` passed).
    fn raw(&self, bytes: &[u8], timeout: Duration) -> (String, Duration) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(timeout)).unwrap();
        stream.write_all(bytes).unwrap();
        let started = Instant::now();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        (String::from_utf8_lossy(&out).into_owned(), started.elapsed())
    }

    fn threads(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
    }
}

fn nested_not(depth: usize) -> String {
    format!("{}{{title: {{eq: \"x\"}}}}{}", "{not: ".repeat(depth), "}".repeat(depth))
}

#[test]
fn deep_inputs_are_refused_before_they_can_overflow_the_stack() {
    let s = Server::start();
    // 300 nested `not`s (1.8 KB) used to abort the process.
    let query = format!("{{ posts(where: {}) {{ id }} }}", nested_not(300));
    assert_eq!(s.code(&query, json!({})), "LIMIT_EXCEEDED");
    // The same through a variable's default value, and over GET.
    let with_default = format!("query($w: PostWhere = {}) {{ posts(where: $w) {{ id }} }}", nested_not(300));
    assert_eq!(s.code(&with_default, json!({})), "LIMIT_EXCEEDED");
    let mut get = s.agent.get(s.url()).query("query", &query).call().unwrap();
    assert_eq!(get.body_mut().read_json::<Value>().unwrap()["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    // 5,000-deep literals crashed the parser even on an unknown argument.
    for literal in [format!("{}1{}", "[".repeat(5000), "]".repeat(5000)), format!("{}1{}", "{a: ".repeat(5000), "}".repeat(5000))] {
        assert_eq!(s.code(&format!("{{ tags(nope: {literal}) {{ id }} }}"), json!({})), "LIMIT_EXCEEDED");
    }
    // Deep variables: beyond JSON's own nesting limit, and within it but beyond ours.
    let mut deep = json!({"title": {"eq": "x"}});
    for _ in 0..100 {
        deep = json!({ "not": deep });
    }
    assert_eq!(s.code("query($w: PostWhere) { posts(where: $w) { id } }", json!({ "w": deep })), "LIMIT_EXCEEDED");
    let too_deep = format!("{{\"query\": \"{{ tags {{ id }} }}\", \"variables\": {{\"v\": {}1{}}}}}", "[".repeat(200_000), "]".repeat(200_000));
    let mut res = s.agent.post(s.url()).header("content-type", "application/json").send(too_deep).unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.body_mut().read_json().unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    // Within the limit, deep filters work.
    assert_eq!(s.data(&format!("{{ posts(where: {}) {{ id }} }}", nested_not(14)), json!({})), json!({"posts": []}));
    s.assert_alive();
}

#[test]
fn searches_and_patterns_are_bounded() {
    let s = Server::start();
    let started = Instant::now();
    let terms = "a* ".repeat(1000);
    let err = s.error("query($q: String) { posts(search: $q) { id } }", json!({ "q": terms }));
    assert_eq!(err["extensions"]["code"], "LIMIT_EXCEEDED", "{err}");
    assert_eq!(err["extensions"]["field"], "search");
    assert!(started.elapsed() < Duration::from_secs(1), "refused in {:?}", started.elapsed());
    // A NUL byte reached FTS5 as an INTERNAL error.
    let err = s.error("query($q: String) { posts(search: $q) { id } }", json!({ "q": "a\u{0}b" }));
    assert_eq!(err["extensions"]["code"], "VALIDATION_FAILED", "{err}");
    // 50 KB patterns reached SQLite's LIKE limit as INTERNAL.
    for operator in ["icontains", "iexact", "contains"] {
        let query = format!("query($v: String) {{ posts(where: {{title: {{{operator}: $v}}}}) {{ id }} }}");
        let err = s.error(&query, json!({ "v": "x".repeat(50_000) }));
        assert_eq!(err["extensions"]["code"], "LIMIT_EXCEEDED", "{operator}: {err}");
    }
    // `in` lists are bounded too.
    let ids: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
    assert_eq!(s.code("query($v: [String!]) { posts(where: {title: {in: $v}}) { id } }", json!({ "v": ids })), "LIMIT_EXCEEDED");
    s.assert_alive();
}

#[test]
fn bodies_are_bounded_and_never_echoed() {
    let s = Server::with(&[("MAX_BODY_BYTES", "100000")]);
    let huge = json!({ "query": format!("{{ tags {{ id }} }} #{}", "x".repeat(200_000)) });
    let mut res = s.agent.post(s.url()).header("content-type", "application/json").send(huge.to_string()).unwrap();
    assert_eq!(res.status(), 413);
    let text = res.body_mut().read_to_string().unwrap();
    assert!(text.len() < 300, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    // An invalid document just under the limit is answered briefly, without echoing it.
    let invalid = json!({ "query": format!("{{ tags {{ {} }}", "x".repeat(90_000)) });
    let (_, body) = s.post(&invalid);
    assert!(body.to_string().len() < 1000, "{body}");
    // Malformed JSON: 400 with a code, naming the position only.
    let mut res = s.agent.post(s.url()).header("content-type", "application/json").send("{\"query\": SECRET").unwrap();
    assert_eq!(res.status(), 400);
    let text = res.body_mut().read_to_string().unwrap();
    assert!(text.contains("BAD_REQUEST") && !text.contains("SECRET"), "{text}");
    s.assert_alive();
}

#[test]
fn cross_site_requests_cannot_run_mutations() {
    let s = Server::start();
    let mutation = json!({"query": "mutation { createTag(input: {name: \"csrf\"}) { id } }"}).to_string();
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("multipart/form-data; boundary=x"), None] {
        let request = s.agent.post(s.url()).header("origin", "https://evil.example");
        let request = match content_type {
            Some(t) => request.header("content-type", t),
            None => request,
        };
        let mut res = request.send(mutation.clone()).unwrap();
        assert_eq!(res.status(), 415, "{content_type:?}");
        assert!(res.headers().get("access-control-allow-origin").is_none());
        let body: Value = res.body_mut().read_json().unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    }
    assert_eq!(s.data("{ tags { name } }", json!({})), json!({"tags": []}), "no simple request ran the mutation");
    // No CORS grant to an origin that is not configured; a configured one gets it, with preflight.
    let res = s.agent.post(s.url()).header("origin", "https://evil.example").header("content-type", "application/json").send("{\"query\": \"{ tags { id } }\"}").unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let allowed = Server::with(&[("CORS_ALLOWED_ORIGINS", "https://app.example,https://admin.example")]);
    let preflight = allowed.agent.options(allowed.url()).header("origin", "https://app.example").header("access-control-request-method", "POST").call().unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://app.example");
    let other = allowed.agent.options(allowed.url()).header("origin", "https://evil.example").call().unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Other methods get a coded answer too.
    let mut put = s.agent.put(s.url()).header("content-type", "application/json").send("{}").unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(put.body_mut().read_json::<Value>().unwrap()["errors"][0]["extensions"]["code"], "METHOD_NOT_ALLOWED");
}

#[test]
fn slow_and_idle_connections_are_closed() {
    let s = Server::with(&[("HEADER_TIMEOUT_MS", "500"), ("REQUEST_TIMEOUT_MS", "1000")]);
    // Idle: nothing sent at all.
    let (_, waited) = s.raw(b"", Duration::from_secs(10));
    assert!(waited < Duration::from_secs(5), "idle connection kept {waited:?}");
    // Partial headers.
    let (_, waited) = s.raw(b"POST /graphql HTTP/1.1\r\nHost: x\r\n", Duration::from_secs(10));
    assert!(waited < Duration::from_secs(5), "partial headers kept {waited:?}");
    // A body that never arrives: answered TIMEOUT once the request's time is up.
    let (answer, waited) = s.raw(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":", Duration::from_secs(10));
    assert!(waited < Duration::from_secs(5), "partial body kept {waited:?}");
    assert!(answer.contains("TIMEOUT"), "{answer}");
    s.assert_alive();
}

#[test]
fn one_request_cannot_take_the_server() {
    let s = Server::start();
    // 2,400 root aliases each became a blocking task; 10,000 `__typename`s were accepted.
    let aliases: String = (0..2400).map(|i| format!("a{i}: post(id: 1) {{ id }} ")).collect();
    assert_eq!(s.code(&format!("{{ {aliases} }}"), json!({})), "LIMIT_EXCEEDED");
    let typenames = "__typename ".repeat(10_000);
    assert_eq!(s.code(&format!("{{ {typenames} }}"), json!({})), "LIMIT_EXCEEDED");
    // Within the limits, a wide request runs a few database tasks at a time.
    let before = s.threads();
    let aliases: String = (0..50).map(|i| format!("a{i}: posts(limit: 1) {{ id }} ")).collect();
    let data = s.data(&format!("{{ {aliases} }}"), json!({}));
    assert_eq!(data["a49"], json!([]));
    let after = s.threads();
    // (Four database tasks, plus the connection pool's own helper threads.)
    assert!(after <= before + 12, "threads {before} -> {after}");
    // A fragment used many times counts every time.
    let fanout = format!("{{ posts {{ ...A ...A ...A ...A ...A ...A ...A ...A ...A ...A }} }} fragment A on Post {{ {} }}", "id title ".repeat(60));
    assert_eq!(s.code(&fanout, json!({})), "LIMIT_EXCEEDED");
}

#[test]
fn nested_writes_count_towards_the_row_limit() {
    let s = Server::start();
    let author = s.data("mutation { createAuthor(input: {name: \"A\", email: \"a@example.com\"}) { id } }", json!({}))["createAuthor"]["id"].clone();
    let comments: Vec<Value> = (0..1001).map(|i| json!({"body": format!("c{i}"), "authorName": "x"})).collect();
    let input = json!({"authorId": author, "title": "T", "slug": "t", "body": "b", "comments": {"create": comments}});
    let err = s.error("mutation($input: CreatePostInput!) { createPost(input: $input) { id } }", json!({ "input": input }));
    assert_eq!(err["extensions"]["code"], "LIMIT_EXCEEDED", "{err}");
    assert_eq!(s.data("{ posts { id } }", json!({})), json!({"posts": []}));
}

#[test]
fn complexity_uses_the_configured_page_size() {
    // 100 authors × 100 posts = 10,000 > the shipped 5,000.
    let s = Server::with(&[("DEFAULT_PAGE_SIZE", "100")]);
    assert_eq!(s.code("{ authors { posts { id } } }", json!({})), "LIMIT_EXCEEDED");
    let s = Server::start();
    assert_eq!(s.data("{ authors { posts { id } } }", json!({})), json!({"authors": []}));
}

#[test]
fn graphiql_loads_the_schema_and_errors_carry_codes() {
    let s = Server::start();
    let introspection = include_str!("fixtures/introspection.graphql");
    let data = s.data(introspection, json!({}));
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    assert!(data["__schema"]["types"].as_array().unwrap().len() > 50);
    assert!(s.agent.get(format!("{}/", s.base)).call().unwrap().body_mut().read_to_string().unwrap().contains("graphiql"));

    let unknown = s.error("{ postz { id } }", json!({}));
    assert_eq!(unknown["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert!(unknown["message"].as_str().unwrap().contains("Did you mean"), "development keeps suggestions: {unknown}");
    assert_eq!(s.code("{ tags { id }", json!({})), "GRAPHQL_PARSE_FAILED");
    assert_eq!(s.code("query A { tags { id } } query B { tags { id } }", json!({})), "BAD_REQUEST");
    let coercion = s.gql("query($n: Int!) { posts(limit: $n) { id } }", json!({"n": "x"}));
    assert_eq!(coercion["errors"][0]["extensions"]["code"], "VALIDATION_FAILED", "{coercion}");
    assert!(coercion["errors"].as_array().unwrap().iter().all(|e| e["extensions"]["code"].is_string()), "{coercion}");
    let mut missing = s.agent.post(format!("{}/nope", s.base)).header("content-type", "application/json").send("{}").unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.body_mut().read_json::<Value>().unwrap()["errors"][0]["extensions"]["code"], "NOT_FOUND");
    // Refused requests have no `data`; with the GraphQL response media type they are 400s.
    let (_, body) = s.post(&json!({"query": "{ postz }"}));
    assert!(body.get("data").is_none(), "{body}");
    let mut res = s
        .agent
        .post(s.url())
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .send("{\"query\": \"{ postz }\"}")
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/graphql-response+json"));
    assert_eq!(res.body_mut().read_json::<Value>().unwrap()["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
}

#[test]
fn production_mode_hides_the_schema() {
    let s = Server::with(&[("PRODUCTION", "true")]);
    assert_eq!(s.agent.get(format!("{}/", s.base)).call().unwrap().status(), 404);
    let err = s.error("{ __schema { queryType { name } } }", json!({}));
    assert_eq!(err["extensions"]["code"], "INTROSPECTION_DISABLED", "{err}");
    let unknown = s.error("{ postz { id } }", json!({}));
    assert!(!unknown["message"].as_str().unwrap().contains("Did you mean"), "{unknown}");
    assert_eq!(s.data("{ tags { id } }", json!({})), json!({"tags": []}));
    let open = Server::with(&[("PRODUCTION", "true"), ("ALLOW_INTROSPECTION", "true")]);
    assert_eq!(open.data("{ __schema { queryType { name } } }", json!({}))["__schema"]["queryType"]["name"], "Query");
}

#[test]
fn a_slow_statement_is_interrupted_at_the_deadline_and_frees_its_connection() {
    let s = Server::with(&[("REQUEST_TIMEOUT_MS", "500"), ("DB_POOL_SIZE", "1")]);
    {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::sqlite::SqliteConnection::establish(s.dir.path().join("hostile.db").to_str().unwrap()).unwrap();
        diesel::sql_query("INSERT INTO authors (name, email, joined_at) VALUES ('A', 'a@example.com', '2024-01-01 00:00:00+00:00')").execute(&mut conn).unwrap();
        diesel::sql_query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
             INSERT INTO posts (author_id, title, slug, body) SELECT 1, 'post ' || i, 'p' || i, replace(hex(zeroblob(2500)), '0', 'a') FROM n",
        )
        .execute(&mut conn)
        .unwrap();
    }
    // A case-insensitive match of a 200-character pattern in 20,000 texts of 5,000 characters:
    // many seconds of work for SQLite, which the deadline must stop between two rows.
    let slow = "query($p: String) { postsAggregate(where: {body: {icontains: $p}}) { count } }";
    let pattern = format!("{}b", "a".repeat(199));
    let started = Instant::now();
    let body = s.gql(slow, json!({ "p": pattern }));
    let took = started.elapsed();
    if body.get("errors").is_none() {
        panic!("expected the deadline to stop the query, got {body} after {took:?}");
    }
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    // The only connection is free again at once: the statement was interrupted, not abandoned.
    let started = Instant::now();
    assert_eq!(s.data("{ tags { id } }", json!({})), json!({"tags": []}));
    assert!(started.elapsed() < Duration::from_secs(1), "the next request waited {:?}", started.elapsed());
}

#[test]
fn graphql_over_http_audit_passes() {
    // graphql-http's own server audits (the npm package's `auditServer`), from tests/oracle.
    let oracle = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/oracle");
    if !oracle.join("node_modules/graphql-http").is_dir() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "graphql-http is not installed: run `npm ci` in tests/oracle (.ci/run does)");
        eprintln!("skipped: graphql-http is not installed (run `npm ci` in tests/oracle)");
        return;
    }
    let s = Server::start();
    let out = Command::new("node").arg("http-audit.mjs").arg(s.url()).current_dir(&oracle).output().expect("run node");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "audit failed:\n{report}{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_str(report.lines().last().unwrap()).unwrap();
    assert_eq!((summary["warn"].as_u64(), summary["error"].as_u64()), (Some(0), Some(0)), "{report}");
    assert!(summary["ok"].as_u64().unwrap() >= 60, "{report}");
}

/// 64-bit FNV-1a, the unkeyed checksum cursors used to carry.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[test]
fn cursors_cannot_be_forged_and_outlive_restarts() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let s = Server::start();
    for name in ["a", "b", "c"] {
        s.data(&format!("mutation {{ createTag(input: {{name: \"{name}\"}}) {{ id }} }}"), json!({}));
    }
    let page = "query($after: String) { tagsConnection(first: 1, after: $after) { edges { cursor node { name } } } }";
    let first = s.data(page, json!({}))["tagsConnection"]["edges"][0]["cursor"].as_str().unwrap().to_string();
    assert_eq!(s.data(page, json!({"after": first}))["tagsConnection"]["edges"][0]["node"]["name"], "b");
    // Rewrite the values and recompute an unkeyed checksum, as anyone could before.
    let text = String::from_utf8(engine.decode(&first).unwrap()).unwrap();
    let (body, _) = text.rsplit_once('.').unwrap();
    let (signature, values) = body.split_once('.').unwrap();
    let forged_values = values.replace('1', "2");
    assert_ne!(forged_values, values, "{values}");
    let forged_body = format!("{signature}.{forged_values}");
    let forged = engine.encode(format!("{forged_body}.{:016x}", fnv(forged_body.as_bytes())));
    let err = s.error(page, json!({"after": forged}));
    assert_eq!(err["extensions"]["code"], "INVALID_CURSOR", "{err}");
    // The key is kept beside the database: cursors survive a restart...
    let s = s.restart(&[]);
    assert_eq!(s.data(page, json!({"after": first}))["tagsConnection"]["edges"][0]["node"]["name"], "b");
    // ...and a configured secret replaces it.
    let s = s.restart(&[("CURSOR_SECRET", "a long random text from the deployment")]);
    assert_eq!(s.error(page, json!({"after": first}))["extensions"]["code"], "INVALID_CURSOR");
}
