//! Permissions over HTTP: the blog's roles (`anonymous`, `author`, `admin`) against the real
//! server binary, including the ways rows usually leak — relations, counts, aggregates, cursors,
//! filters on rows or fields a role may not see, bulk and nested writes.
//! (This file is ours, not gqlauto's: it is not in gqlauto.stamp.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

mod common;

/// The running server; killed when dropped.
struct Server {
    child: Child,
    url: String,
    agent: ureq::Agent,
    db: common::Database,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who sends a request.
#[derive(Clone, Copy)]
enum As {
    Anonymous,
    /// An author, by their `Author` id.
    Author(&'static str),
    Admin,
    /// A token whose role the blog does not declare.
    Stranger,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = common::Database::new("permissions");
        let mut child = Command::new(env!("CARGO_BIN_EXE_blog"))
            .env("DATABASE_URL", &db.url)
            .env("JWT_SECRET", common::JWT_SECRET)
            .env("REPORT_SQL_STATEMENTS", "true")
            // These tests count the statements of queries they ask again: no answer cache.
            .env("RESPONSE_CACHE_BYTES", "0")
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
        let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build();
        Server { child, url: format!("{base}/graphql"), agent: config.into(), db, _dir: dir }
    }

    /// The status and body of a request sent as `who`.
    fn send(&self, who: As, query: &str, variables: Value) -> (u16, Value) {
        let request = self.agent.post(&self.url);
        let request = match who {
            As::Anonymous => request,
            As::Author(id) => request.header("authorization", format!("Bearer {}", common::token("author", id))),
            As::Admin => request.header("authorization", common::admin()),
            As::Stranger => request.header("authorization", format!("Bearer {}", common::token("root", "1"))),
        };
        let mut res = request.send_json(json!({"query": query, "variables": variables})).unwrap();
        (res.status().as_u16(), res.body_mut().read_json().unwrap())
    }

    fn body(&self, who: As, query: &str) -> Value {
        let (status, body) = self.send(who, query, json!({}));
        assert_eq!(status, 200, "{body}");
        body
    }

    fn data(&self, who: As, query: &str) -> Value {
        let body = self.body(who, query);
        assert!(body.get("errors").is_none(), "{query}: unexpected errors: {body}");
        body["data"].clone()
    }

    /// The code of the single error a request must produce.
    fn code(&self, who: As, query: &str) -> String {
        let body = self.body(who, query);
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("{query}: expected an error: {body}"));
        errors[0]["extensions"]["code"].as_str().unwrap_or("<none>").to_string()
    }

    /// Runs `blog api-key <args>` on this server's database: its status and output.
    fn api_key(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_blog")).arg("api-key").args(args).env("DATABASE_URL", &self.db.url).output().unwrap();
        (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }

    /// The status and body of `query` sent with the API key `key`.
    fn with_key(&self, key: &str, query: &str) -> (u16, Value) {
        let mut res = self.agent.post(&self.url).header("x-api-key", key).send_json(json!({"query": query})).unwrap();
        (res.status().as_u16(), res.body_mut().read_json().unwrap())
    }

    /// Refuses `query` before running it, as the role's schema does not have what it names.
    fn refuses(&self, who: As, query: &str) {
        let body = self.body(who, query);
        let code = body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("{query}: expected an error: {body}"));
        assert!(matches!(code, "GRAPHQL_VALIDATION_FAILED" | "VALIDATION_FAILED"), "{query}: {body}");
        assert!(body["data"].is_null(), "{query}: nothing runs: {body}");
    }

    /// The titles a query's `posts` list holds, sorted.
    fn titles(&self, who: As, query: &str) -> Vec<String> {
        let data = self.data(who, query);
        let mut titles: Vec<String> = find_titles(&data);
        titles.sort();
        titles
    }
}

fn find_titles(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o.iter().flat_map(|(k, v)| if k == "title" { v.as_str().map(str::to_string).into_iter().collect() } else { find_titles(v) }).collect(),
        Value::Array(items) => items.iter().flat_map(find_titles).collect(),
        _ => Vec::new(),
    }
}

const ADA: As = As::Author("1");
const BOB: As = As::Author("2");

/// Ada (1) and Bob (2), each with a published post and a draft; a tag on Ada's draft and Bob's
/// published post; a comment under each of Ada's posts and Bob's draft.
fn seeded() -> Server {
    let s = Server::start();
    s.data(
        As::Admin,
        r#"mutation {
            ada: createAuthor(input: {name: "Ada", email: "ada@example.com"}) { id }
            bob: createAuthor(input: {name: "Bob", email: "bob@example.com"}) { id }
            tag: createTag(input: {name: "rust"}) { id }
        }"#,
    );
    s.data(
        As::Admin,
        r#"mutation {
            p1: createPost(input: {authorId: 1, title: "Ada public", slug: "ada-public", body: "hello world", status: PUBLISHED}) { id }
            p2: createPost(input: {authorId: 1, title: "Ada secret draft", slug: "ada-draft", body: "the secret plan", tags: {connect: [1]}}) { id }
            p3: createPost(input: {authorId: 2, title: "Bob draft", slug: "bob-draft", body: "unfinished"}) { id }
            p4: createPost(input: {authorId: 2, title: "Bob public", slug: "bob-public", body: "hello again", status: PUBLISHED, tags: {connect: [1]}}) { id }
            c1: createComment(input: {postId: 1, authorName: "Cy", body: "nice post"}) { id }
            c2: createComment(input: {postId: 2, authorName: "Cy", body: "early note"}) { id }
            c3: createComment(input: {postId: 3, authorName: "Cy", body: "also early"}) { id }
        }"#,
    );
    s
}

const PUBLISHED: [&str; 2] = ["Ada public", "Bob public"];

#[test]
fn anonymous_readers_see_published_posts_only_through_every_read_path() {
    let s = seeded();
    let a = As::Anonymous;
    assert_eq!(s.titles(a, "{ posts { title } }"), PUBLISHED);
    assert_eq!(s.titles(a, "{ postsConnection { edges { node { title } } } }"), PUBLISHED);
    assert_eq!(s.data(a, "{ postsConnection { totalCount } }")["postsConnection"]["totalCount"], 2);
    assert_eq!(s.data(a, "{ postsAggregate { count } }")["postsAggregate"]["count"], 2);
    let groups = s.data(a, "{ postsGroupBy(by: [STATUS]) { key { status } aggregate { count } } }");
    assert_eq!(groups["postsGroupBy"], json!([{"key": {"status": "PUBLISHED"}, "aggregate": {"count": 2}}]));
    assert_eq!(s.data(a, "{ post(id: 2) { title } }")["post"], Value::Null, "a draft reads as missing");
    assert_eq!(s.data(a, r#"{ posts(search: "secret") { title } }"#)["posts"], json!([]));
    // Through relations, at any depth, as lists, pages and counts.
    assert_eq!(s.titles(a, "{ authors { posts { title } } }"), PUBLISHED);
    let ada = s.data(a, "{ author(id: 1) { postsConnection { totalCount } } }");
    assert_eq!(ada["author"]["postsConnection"]["totalCount"], 1);
    assert_eq!(s.titles(a, "{ tags { posts { title } } }"), ["Bob public"]);
    assert_eq!(s.data(a, "{ tag(id: 1) { postsConnection { totalCount } } }")["tag"]["postsConnection"]["totalCount"], 1);
    let comments = s.data(a, "{ comments { body post { title } } }");
    assert_eq!(comments["comments"], json!([{"body": "nice post", "post": {"title": "Ada public"}}]));
    assert_eq!(s.data(a, "{ comment(id: 2) { body } }")["comment"], Value::Null);
    // Filters see only what the caller may read: no oracle for drafts.
    let probe = s.data(a, r#"{ authors(where: {posts: {some: {title: {contains: "secret"}}}}) { name } }"#);
    assert_eq!(probe["authors"], json!([]));
    let none = s.data(a, "{ authors(where: {posts: {none: {status: {eq: DRAFT}}}}) { name } }");
    assert_eq!(none["authors"].as_array().unwrap().len(), 2, "{none}");
    let through = s.data(a, r#"{ tags(where: {posts: {some: {title: {eq: "Ada secret draft"}}}}) { name } }"#);
    assert_eq!(through["tags"], json!([]));
    // Cursors page through the visible rows only.
    let first = s.data(a, "{ postsConnection(first: 1) { edges { node { title } } pageInfo { endCursor hasNextPage } } }");
    let cursor = first["postsConnection"]["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    let next = s.send(a, "query($c: String) { postsConnection(first: 5, after: $c) { edges { node { title } } pageInfo { hasNextPage } } }", json!({"c": cursor})).1;
    assert_eq!(next["data"]["postsConnection"]["edges"].as_array().unwrap().len(), 1, "{next}");
    assert_eq!(next["data"]["postsConnection"]["pageInfo"]["hasNextPage"], false);
}

#[test]
fn the_permission_filter_runs_inside_the_same_statements() {
    let s = seeded();
    let body = s.body(As::Anonymous, "{ posts { title author { name } comments { body } tags { name } } }");
    assert!(body.get("errors").is_none(), "{body}");
    // One statement for the posts and one per relation level, as for an unrestricted caller.
    assert_eq!(body["extensions"]["sqlStatements"], 4, "{body}");
    assert_eq!(s.body(As::Admin, "{ posts { title author { name } comments { body } tags { name } } }")["extensions"]["sqlStatements"], 4);
}

#[test]
fn fields_a_role_may_not_read_cannot_be_selected_filtered_ordered_or_grouped() {
    let s = seeded();
    for who in [As::Anonymous, ADA] {
        for query in [
            "{ authors { email } }",
            r#"{ authors(where: {email: {eq: "ada@example.com"}}) { name } }"#,
            "{ authors(orderBy: [{email: ASC}]) { name } }",
            "{ authorsGroupBy(by: [EMAIL]) { aggregate { count } } }",
            "{ posts { author { email } } }",
        ] {
            s.refuses(who, query);
        }
    }
    let author = s.data(As::Anonymous, r#"{ __type(name: "Author") { fields { name } } }"#);
    let names: Vec<&str> = author["__type"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"name") && !names.contains(&"email"), "{names:?}");
    assert_eq!(s.data(As::Admin, "{ authors { email } }")["authors"].as_array().unwrap().len(), 2);
}

#[test]
fn anonymous_callers_write_nothing() {
    let s = seeded();
    assert_eq!(s.data(As::Anonymous, "{ __schema { mutationType { name } } }")["__schema"]["mutationType"], Value::Null);
    for query in [r#"mutation { createTag(input: {name: "x"}) { id } }"#, "mutation { deletePost(id: 1) { id } }", "mutation { deletePosts(where: {}) { count } }"] {
        s.refuses(As::Anonymous, query);
    }
    assert_eq!(s.data(As::Admin, "{ postsAggregate { count } }")["postsAggregate"]["count"], 4);
}

#[test]
fn authors_read_their_drafts_and_write_only_their_own_posts() {
    let s = seeded();
    assert_eq!(s.titles(ADA, "{ posts { title } }"), ["Ada public", "Ada secret draft", "Bob public"]);
    assert_eq!(s.titles(BOB, "{ posts { title } }"), ["Ada public", "Bob draft", "Bob public"]);
    assert_eq!(s.data(ADA, "{ post(id: 3) { title } }")["post"], Value::Null);
    // A new post is the caller's own: the author comes from the token and is not an input.
    let created = s.data(ADA, r#"mutation { createPost(input: {title: "Ada new", slug: "ada-new", body: "text"}) { title author { name } } }"#);
    assert_eq!(created["createPost"]["author"]["name"], "Ada");
    let forged = r#"mutation { createPost(input: {authorId: 2, title: "forged", slug: "forged", body: "x"}) { id } }"#;
    s.refuses(ADA, forged);
    // Another author's posts read as missing to updates and deletes, visible or not.
    for id in [3, 4] {
        assert_eq!(s.code(ADA, &format!(r#"mutation {{ updatePost(id: {id}, input: {{title: "mine now"}}) {{ id }} }}"#)), "NOT_FOUND");
        assert_eq!(s.data(ADA, &format!("mutation {{ deletePost(id: {id}) {{ id }} }}"))["deletePost"], Value::Null);
    }
    let own = s.data(ADA, r#"mutation { updatePost(id: 2, input: {title: "Ada draft, edited"}) { title } }"#);
    assert_eq!(own["updatePost"]["title"], "Ada draft, edited");
    // Bulk writes reach the caller's own rows only.
    let bulk = s.data(ADA, r#"mutation { updatePosts(where: {}, set: {body: "rewritten"}) { count } }"#);
    assert_eq!(bulk["updatePosts"]["count"], 3);
    let removed = s.data(ADA, r#"mutation { deletePosts(where: {title: {eq: "Bob public"}}) { count } }"#);
    assert_eq!(removed["deletePosts"]["count"], 0);
    let bodies = s.data(As::Admin, "{ posts(orderBy: [{id: ASC}]) { body } }");
    let bodies: Vec<&str> = bodies["posts"].as_array().unwrap().iter().map(|p| p["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["rewritten", "rewritten", "unfinished", "hello again", "rewritten"]);
    // What the role may not write is not in its inputs.
    s.refuses(ADA, "mutation { updatePost(id: 1, input: {viewCount: {set: 9}}) { id } }");
    s.refuses(ADA, "mutation { updatePost(id: 1, input: {tags: {connect: [1]}}) { id } }");
    s.refuses(ADA, "mutation { deleteTag(id: 1) { id } }");
    // Authors edit their own profile, without its email.
    assert_eq!(s.data(ADA, r#"mutation { updateAuthor(id: 1, input: {bio: "Writes."}) { bio } }"#)["updateAuthor"]["bio"], "Writes.");
    assert_eq!(s.code(ADA, r#"mutation { updateAuthor(id: 2, input: {bio: "Hacked."}) { bio } }"#), "NOT_FOUND");
    s.refuses(ADA, r#"mutation { updateAuthor(id: 1, input: {email: "x@example.com"}) { id } }"#);
}

#[test]
fn a_write_that_breaks_the_role_s_check_is_rolled_back() {
    let s = seeded();
    // Comments go on published posts only: not on a draft, even the caller's own.
    assert_eq!(s.code(ADA, r#"mutation { createComment(input: {postId: 2, authorName: "Ada", body: "on my draft"}) { id } }"#), "FORBIDDEN");
    // A post the caller cannot see is as missing as one that does not exist.
    let hidden = s.body(ADA, r#"mutation { createComment(input: {postId: 3, authorName: "Ada", body: "on Bob's draft"}) { id } }"#);
    let missing = s.body(ADA, r#"mutation { createComment(input: {postId: 999, authorName: "Ada", body: "on nothing"}) { id } }"#);
    assert_eq!(hidden["errors"][0]["extensions"]["code"], "FOREIGN_KEY_VIOLATION", "{hidden}");
    assert_eq!(hidden["errors"][0]["message"], missing["errors"][0]["message"], "{hidden} {missing}");
    let batch = r#"mutation { createComments(inputs: [{postId: 1, authorName: "Ada", body: "fine"}, {postId: 2, authorName: "Ada", body: "not fine"}]) { id } }"#;
    assert_eq!(s.code(ADA, batch), "FORBIDDEN");
    assert_eq!(s.data(As::Admin, "{ commentsAggregate { count } }")["commentsAggregate"]["count"], 3, "nothing was written");
    let ok = s.data(BOB, r#"mutation { createComment(input: {postId: 1, authorName: "Bob", body: "well said"}) { post { title } } }"#);
    assert_eq!(ok["createComment"]["post"]["title"], "Ada public");
}

#[test]
fn callers_of_undeclared_roles_are_refused() {
    let s = seeded();
    let (status, body) = s.send(As::Stranger, "{ posts { title } }", json!({}));
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(body.get("data"), None);
}

#[test]
fn api_keys_act_in_their_role_with_their_claims_until_revoked() {
    let s = seeded();
    let (ok, out) = s.api_key(&["create", "--role", "author", "--name", "Ada's publishing robot", "--claim", "sub=1"]);
    assert!(ok, "{out}");
    let key = out.lines().last().unwrap().trim().to_string();
    assert!(key.starts_with("gqa_") && key.len() > 40, "{out}");
    // The key acts as author 1: Ada's drafts, and her posts only.
    let (status, body) = s.with_key(&key, "{ posts { title } }");
    assert_eq!(status, 200, "{body}");
    let mut titles = find_titles(&body["data"]);
    titles.sort();
    assert_eq!(titles, ["Ada public", "Ada secret draft", "Bob public"]);
    let (_, created) = s.with_key(&key, r#"mutation { createPost(input: {title: "By robot", slug: "by-robot", body: "beep"}) { author { name } } }"#);
    assert_eq!(created["data"]["createPost"]["author"]["name"], "Ada", "{created}");
    // Listed without its secret; unknown roles and malformed claims are refused.
    let (ok, listed) = s.api_key(&["list"]);
    assert!(ok && listed.contains("Ada's publishing robot") && listed.contains("author") && !listed.contains(&key), "{listed}");
    let (ok, out) = s.api_key(&["create", "--role", "root"]);
    assert!(!ok && out.contains("not a role"), "{out}");
    let (ok, out) = s.api_key(&["create", "--role", "author", "--claim", "sub"]);
    assert!(!ok && out.contains("NAME=VALUE"), "{out}");
    // A wrong, or a revoked, key is refused, without echoing it.
    for bad in [format!("{key}x"), "gqa_nope".to_string(), "not a key".to_string()] {
        let (status, body) = s.with_key(&bad, "{ tags { id } }");
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(!body.to_string().contains(&bad), "{body}");
    }
    let (ok, out) = s.api_key(&["revoke", "1"]);
    assert!(ok, "{out}");
    let (status, body) = s.with_key(&key, "{ tags { id } }");
    assert_eq!(status, 401, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("revoked"), "{body}");
    let (ok, out) = s.api_key(&["revoke", "1"]);
    assert!(!ok && out.contains("no active API key 1"), "{out}");
    // One credential per request.
    let mut both = s.agent.post(&s.url).header("x-api-key", &key).header("authorization", common::admin()).send_json(json!({"query": "{ tags { id } }"})).unwrap();
    assert_eq!(both.status().as_u16(), 401);
    assert!(both.body_mut().read_to_string().unwrap().contains("not both"));
}

/// Built without the `jwks-url` feature, the server will not start with `JWT_JWKS_URL` and says
/// how to get it (`tests/generated/saas_jwks.rs` in the gqlauto repository tests the feature).
#[cfg(not(feature = "jwks-url"))]
#[test]
fn a_jwks_url_needs_the_feature_that_fetches_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blog"))
        .env("DATABASE_URL", dir.path().join("blog.db"))
        .env("JWT_JWKS_URL", "https://issuer.example.com/.well-known/jwks.json")
        .env("PORT", "0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("without the `jwks-url` feature") && err.contains("--features jwks-url"), "{err}");
}
