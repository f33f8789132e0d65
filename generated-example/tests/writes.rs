//! End-to-end tests of writes: nested creates and updates, bulk writes, upserts, increments,
//! validation and rollback, against the real server binary and a fresh SQLite file.
//! (This file is ours, not gqlauto's: it is not in gqlauto.stamp.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

mod common;

/// The running server; killed when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
    _db: common::Database,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = common::Database::new("writes");
        let mut child = Command::new(env!("CARGO_BIN_EXE_blog"))
            .env("DATABASE_URL", &db.url)
            .env("JWT_SECRET", common::JWT_SECRET)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        // The server prints its address once it is listening.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
        let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build();
        Server { child, base, agent: config.into(), _db: db, _dir: dir }
    }

    /// POSTs a GraphQL request and returns the JSON body.
    fn gql(&self, query: &str, variables: Value) -> Value {
        let mut res = self.agent.post(format!("{}/graphql", self.base)).header("authorization", common::admin()).send_json(json!({"query": query, "variables": variables})).unwrap();
        assert_eq!(res.status(), 200);
        res.body_mut().read_json().unwrap()
    }

    fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// How many rows a table holds, through its aggregate query.
    fn count(&self, table: &str) -> i64 {
        let out = self.data(&format!("{{ {table}Aggregate {{ count }} }}"), json!({}));
        out[format!("{table}Aggregate")]["count"].as_i64().unwrap()
    }

    /// The `extensions` of the single error a request must produce.
    fn error(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables);
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("expected an error: {body}"));
        assert_eq!(errors.len(), 1, "{body}");
        errors[0].clone()
    }
}


/// `(field, code)` of every problem an error lists.
fn problems(error: &Value) -> Vec<(String, String)> {
    error["extensions"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no problem list: {error}"))
        .iter()
        .map(|p| (p["field"].as_str().unwrap().to_string(), p["code"].as_str().unwrap().to_string()))
        .collect()
}

fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_string(), code.to_string())
}

const CREATE_AUTHOR: &str = "mutation($input: CreateAuthorInput!) { createAuthor(input: $input) { id name posts { title slug tags { name } comments { body } } } }";

#[test]
fn nested_creates_run_in_one_transaction() {
    let s = Server::start();
    let tag = s.data("mutation { createTag(input: {name: \"rust\"}) { id } }", json!({}))["createTag"]["id"].clone();
    // A parent with children, grandchildren, a new and an existing many-to-many link, in one mutation.
    let input = json!({"name": "Ada", "email": "ada@example.com", "posts": {"create": [
        {"title": "One", "slug": "one", "body": "b", "tags": {"connect": [tag], "create": [{"name": "new tag"}]},
         "comments": {"create": [{"authorName": "R", "body": "first!"}, {"authorName": "S", "body": "second"}]}},
        {"title": "Two", "slug": "two", "body": "b"}
    ]}});
    let author = s.data(CREATE_AUTHOR, json!({"input": input}))["createAuthor"].clone();
    let posts = author["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2, "{author}");
    let one = posts.iter().find(|p| p["slug"] == "one").unwrap();
    let mut tags: Vec<&str> = one["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    tags.sort();
    assert_eq!(tags, ["new tag", "rust"]);
    assert_eq!(one["comments"].as_array().unwrap().len(), 2);

    // A failure deep inside (a duplicate slug in the second post, a bad comment in the first)
    // rolls everything back: no author, post, tag or comment is left behind.
    let before: Vec<i64> = ["authors", "posts", "tags", "comments"].iter().map(|t| s.count(t)).collect();
    let bad = json!({"name": "Bob", "email": "bob@example.com", "posts": {"create": [
        {"title": "Three", "slug": "three", "body": "b", "tags": {"create": [{"name": "other"}]}, "comments": {"create": [{"authorName": "R", "body": "ok"}]}},
        {"title": "Dup", "slug": "one", "body": "b"}
    ]}});
    let err = s.error(CREATE_AUTHOR, json!({"input": bad}));
    assert_eq!(err["extensions"]["code"], "UNIQUE_VIOLATION", "{err}");
    assert_eq!(err["extensions"]["field"], "input.posts.create[1].slug");
    let after: Vec<i64> = ["authors", "posts", "tags", "comments"].iter().map(|t| s.count(t)).collect();
    assert_eq!(before, after, "nothing of the failed mutation was written");

    // Every invalid value is reported at once, with its path, before the database is touched.
    let invalid = json!({"name": "  ", "email": "eve@example.com", "posts": {"create": [
        {"title": "", "slug": "ok", "body": "b", "viewCount": -1, "comments": {"create": [{"authorName": "R", "body": "x", "postId": "1"}]}},
        {"title": "x".repeat(201), "slug": "ok-2", "body": "b", "authorId": "1"}
    ]}});
    let err = s.error(CREATE_AUTHOR, json!({"input": invalid}));
    assert_eq!(err["extensions"]["code"], "VALIDATION_FAILED");
    assert_eq!(
        problems(&err),
        [
            pair("input.name", "EMPTY"),
            pair("input.posts.create[0].title", "EMPTY"),
            pair("input.posts.create[0].viewCount", "MIN_VALUE"),
            pair("input.posts.create[0].comments.create[0].postId", "SET_BY_PARENT"),
            pair("input.posts.create[0].comments.create[0].body", "MIN_LENGTH"),
            pair("input.posts.create[1].authorId", "SET_BY_PARENT"),
            pair("input.posts.create[1].title", "MAX_LENGTH"),
        ]
    );
    // Malformed values of the API's scalars are refused while GraphQL parses them, with the same code.
    let malformed = s.error(CREATE_AUTHOR, json!({"input": {"name": "Eve", "email": "nope", "website": "ftp://x"}}));
    assert_eq!(malformed["extensions"]["code"], "VALIDATION_FAILED");
    assert!(malformed["message"].as_str().unwrap().contains("expected an email address"), "{malformed}");
    assert!(!err["message"].as_str().unwrap().contains("CHECK"), "{err}");

    // A foreign key set by nested create of the row it points at.
    let post = s.data(
        "mutation { createPost(input: {title: \"Solo\", slug: \"solo\", body: \"b\", author: {name: \"Cy\", email: \"cy@example.com\"}}) { author { name } } }",
        json!({}),
    );
    assert_eq!(post["createPost"]["author"]["name"], "Cy");
    let neither = s.error("mutation { createPost(input: {title: \"x\", slug: \"x\", body: \"b\"}) { id } }", json!({}));
    assert_eq!(problems(&neither), [pair("input.authorId", "REQUIRED")]);
    let missing = s.error("mutation { createPost(input: {title: \"x\", slug: \"x\", body: \"b\", authorId: \"999\"}) { id } }", json!({}));
    assert_eq!((missing["extensions"]["code"].as_str(), missing["extensions"]["field"].as_str()), (Some("FOREIGN_KEY_VIOLATION"), Some("input.authorId")));
    let pattern = s.error("mutation { createTag(input: {name: \"Upper\"}) { id } }", json!({}));
    assert_eq!(problems(&pattern), [pair("input.name", "PATTERN")]);
}

#[test]
fn bulk_upsert_update_and_delete() {
    let s = Server::start();
    let author = s.data("mutation { createAuthor(input: {name: \"Ada\", email: \"ada@example.com\"}) { id } }", json!({}))["createAuthor"]["id"].clone();
    let create_posts = "mutation($inputs: [CreatePostInput!]!) { createPosts(inputs: $inputs) { id slug } }";
    let inputs: Vec<Value> = (0..5).map(|i| json!({"authorId": author, "title": format!("P{i}"), "slug": format!("p{i}"), "body": "b", "status": if i < 3 { "DRAFT" } else { "PUBLISHED" }})).collect();
    let created = s.data(create_posts, json!({"inputs": inputs}))["createPosts"].clone();
    assert_eq!(created.as_array().unwrap().len(), 5);

    // All or nothing: one bad row out of three writes none.
    let mixed = json!([{"authorId": author, "title": "A", "slug": "a", "body": "b"}, {"authorId": author, "title": "B", "slug": "p0", "body": "b"}, {"authorId": author, "title": "C", "slug": "c", "body": "b"}]);
    let err = s.error(create_posts, json!({"inputs": mixed}));
    assert_eq!(err["extensions"]["field"], "inputs[1].slug");
    assert_eq!(s.count("posts"), 5);

    // Bulk update with a filter returns the count and the rows.
    let bulk = s.data(
        "mutation { updatePosts(where: {status: {eq: DRAFT}}, set: {status: ARCHIVED, viewCount: {increment: 10}}) { count rows { slug status viewCount } } }",
        json!({}),
    )["updatePosts"]
        .clone();
    assert_eq!(bulk["count"], 3);
    assert!(bulk["rows"].as_array().unwrap().iter().all(|r| r["status"] == "ARCHIVED" && r["viewCount"] == 10));
    let nested = s.error("mutation { updatePosts(where: {}, set: {tags: {set: []}}) { count } }", json!({}));
    assert_eq!(problems(&nested), [pair("set", "NESTED_IN_BULK")]);

    // Upsert on the declared unique key: insert, then update the same row.
    let upsert = "mutation($input: CreatePostInput!, $on: PostOnConflict!) { upsertPost(input: $input, onConflict: $on) { id title body } }";
    let first = s.data(upsert, json!({"input": {"authorId": author, "title": "U", "slug": "u", "body": "v1"}, "on": {"fields": ["SLUG"]}}))["upsertPost"].clone();
    let again = s.data(upsert, json!({"input": {"authorId": author, "title": "U2", "slug": "u", "body": "v2"}, "on": {"fields": ["SLUG"], "update": ["BODY"]}}))["upsertPost"].clone();
    assert_eq!(first["id"], again["id"]);
    assert_eq!((again["title"].as_str(), again["body"].as_str()), (Some("U"), Some("v2")), "only `update` fields change");
    let kept = s.data(upsert, json!({"input": {"authorId": author, "title": "U3", "slug": "u", "body": "v3"}, "on": {"fields": ["SLUG"], "update": []}}))["upsertPost"].clone();
    assert_eq!(kept["body"], "v2");
    let not_unique = s.error(upsert, json!({"input": {"authorId": author, "title": "U", "slug": "u", "body": "v"}, "on": {"fields": ["TITLE"]}}));
    assert_eq!(not_unique["extensions"]["code"], "INVALID_ARGUMENT");

    // Bulk delete.
    let deleted = s.data("mutation { deletePosts(where: {status: {eq: ARCHIVED}}) { count rows { slug } } }", json!({}))["deletePosts"].clone();
    assert_eq!(deleted["count"], 3);
    assert_eq!(s.count("posts"), 3);
}

#[test]
fn nested_updates_links_and_increments() {
    let s = Server::start();
    let ids = s.data(
        "mutation { a: createTag(input: {name: \"a\"}) { id } b: createTag(input: {name: \"b\"}) { id } c: createTag(input: {name: \"c\"}) { id } }",
        json!({}),
    );
    let (a, b, c) = (ids["a"]["id"].clone(), ids["b"]["id"].clone(), ids["c"]["id"].clone());
    let author = s.data(
        "mutation($a: ID!) { createAuthor(input: {name: \"Ada\", email: \"ada@example.com\", posts: {create: [{title: \"T\", slug: \"t\", body: \"b\", tags: {connect: [$a]}, comments: {create: [{authorName: \"R\", body: \"hello\"}]}}]}}) { id posts { id comments { id } } } }",
        json!({"a": a}),
    )["createAuthor"]
        .clone();
    let post = author["posts"][0]["id"].clone();
    let comment = author["posts"][0]["comments"][0]["id"].clone();
    let upd = "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { title viewCount tags { name } comments { body } } }";
    let tag_names = |v: &Value| {
        let mut n: Vec<String> = v["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    let r = s.data(upd, json!({"id": post, "input": {"tags": {"connect": [b, c], "disconnect": [a]}}}))["updatePost"].clone();
    assert_eq!(tag_names(&r), ["b", "c"]);
    let r = s.data(upd, json!({"id": post, "input": {"tags": {"set": [a]}}}))["updatePost"].clone();
    assert_eq!(tag_names(&r), ["a"]);
    let r = s.data(upd, json!({"id": post, "input": {"comments": {"update": [{"id": comment, "input": {"body": "edited"}}]}}}))["updatePost"].clone();
    assert_eq!(r["comments"][0]["body"], "edited");

    // Unlinking from a required relation is refused up front; a foreign row cannot be touched.
    let err = s.error(upd, json!({"id": post, "input": {"comments": {"disconnect": [comment]}}}));
    assert_eq!(problems(&err), [pair("input.comments.disconnect", "REQUIRED_RELATION")]);
    let err = s.error(upd, json!({"id": post, "input": {"tags": {"disconnect": [b]}}}));
    assert_eq!((err["extensions"]["code"].as_str(), err["extensions"]["field"].as_str()), (Some("NOT_FOUND"), Some("input.tags.disconnect[0]")));
    let err = s.error(upd, json!({"id": post, "input": {"title": "changed", "tags": {"connect": ["999"]}}}));
    assert_eq!(err["extensions"]["code"], "NOT_FOUND");
    let r = s.data(upd, json!({"id": post, "input": {}}))["updatePost"].clone();
    assert_eq!(r["title"], "T", "the failed update rolled back its other changes");
    let r = s.data(upd, json!({"id": post, "input": {"comments": {"delete": [comment]}}}))["updatePost"].clone();
    assert!(r["comments"].as_array().unwrap().is_empty());

    // Increments: concurrent requests never lose one.
    let inc = "mutation($id: ID!) { updatePost(id: $id, input: {viewCount: {increment: 1}}) { viewCount } }";
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..10 {
                    s.data(inc, json!({"id": post}));
                }
            });
        }
    });
    let r = s.data(upd, json!({"id": post, "input": {}}))["updatePost"].clone();
    assert_eq!(r["viewCount"], 80);
    let both = s.error(upd, json!({"id": post, "input": {"viewCount": {"set": 1, "increment": 1}}}));
    assert_eq!(problems(&both), [pair("input.viewCount", "ONE_OF")]);
    // The database holds the manifest's rules too: an increment below `min: 0` is refused by its CHECK.
    let below = s.error(upd, json!({"id": post, "input": {"viewCount": {"increment": -1000}}}));
    assert_eq!((below["extensions"]["code"].as_str(), below["extensions"]["field"].as_str()), (Some("VALIDATION_FAILED"), Some("input.viewCount")));

    // Deleting a row others point at with `cascade` removes them; a missing row answers null.
    let gone = s.data("mutation($id: ID!) { deleteAuthor(id: $id) { name } }", json!({"id": author["id"]}));
    assert_eq!(gone["deleteAuthor"]["name"], "Ada");
    assert_eq!(s.count("posts"), 0);
    let none = s.data("mutation { deleteAuthor(id: \"12345\") { name } }", json!({}));
    assert!(none["deleteAuthor"].is_null());
    let bad_id = s.error("mutation { deleteAuthor(id: \"x\") { name } }", json!({}));
    assert_eq!(bad_id["extensions"]["code"], "INVALID_ID");
}
