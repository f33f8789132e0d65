//! End-to-end reads: filters, relation filters, ordering, cursor connections, search, aggregates
//! and the statement bound of nested relations, against the real server binary and a SQLite
//! file seeded with known rows. (This file is ours, not gqlauto's: it is not in gqlauto.stamp.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

mod common;

struct Server {
    child: Child,
    base: String,
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

const AUTHORS: usize = 100;
const POSTS_PER_AUTHOR: usize = 3;
const COMMENTS_PER_POST: usize = 2;
const STATUSES: [&str; 3] = ["draft", "published", "archived"];

impl Server {
    /// Starts the server (which creates the schema) and seeds it with SQL written around the API.
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = common::Database::new("queries");
        let mut child = Command::new(env!("CARGO_BIN_EXE_blog"))
            .env("DATABASE_URL", &db.url)
            .env("JWT_SECRET", common::JWT_SECRET)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("REPORT_SQL_STATEMENTS", "true")
            // These tests count the statements of queries they ask again: no answer cache.
            .env("RESPONSE_CACHE_BYTES", "0")
            // The nested-relation queries below select far more than the default budget allows.
            .env("MAX_COMPLEXITY", "10000000")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
        let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(20))).build();
        let server = Server { child, base, agent: config.into(), db, _dir: dir };
        server.sql(&seed_sql());
        server
    }

    fn sql(&self, sql: &str) {
        self.db.execute(sql);
    }

    fn gql(&self, query: &str, variables: Value) -> Value {
        let mut res = self.agent.post(format!("{}/graphql", self.base)).header("authorization", common::admin()).send_json(json!({"query": query, "variables": variables})).unwrap();
        assert_eq!(res.status(), 200);
        res.body_mut().read_json().unwrap()
    }

    fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}\nquery: {query}");
        body["data"].clone()
    }

    /// The SQL statements the request ran, as the server reports them.
    fn statements(&self, query: &str, variables: Value) -> u64 {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["extensions"]["sqlStatements"].as_u64().unwrap_or_else(|| panic!("no statement count: {body}"))
    }

    fn error_code(&self, query: &str, variables: Value) -> String {
        let body = self.gql(query, variables);
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("expected an error: {body}"));
        errors[0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no code: {body}")).to_string()
    }

    /// The ids of `posts(...)` for a filter/order argument list.
    fn post_ids(&self, args: &str) -> Vec<i64> {
        let data = self.data(&format!("{{ posts({args}) {{ id }} }}"), json!({}));
        ids(&data["posts"])
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().parse().unwrap()).collect()
}

/// Author `a` writes posts `a*3+1 ..= a*3+3`; post `p` has view count `p`, status cycling
/// draft/published/archived, a publication date except every fourth post, and two comments.
/// Tags 1-5; post `p` carries tag `p % 5 + 1`, and tag 1 as well when `p` is even.
fn seed_sql() -> String {
    let mut sql = String::from("BEGIN;\n");
    for t in 1..=5 {
        sql.push_str(&format!("INSERT INTO tags (id, name) VALUES ({t}, 'tag{t}');\n"));
    }
    let mut post = 0;
    let mut comment = 0;
    for a in 0..AUTHORS {
        sql.push_str(&format!(
            "INSERT INTO authors (id, name, email, joined_at) VALUES ({}, 'Author {a:03}', 'a{a}@example.com', '2024-01-01 00:00:00+00:00');\n",
            a + 1
        ));
        for _ in 0..POSTS_PER_AUTHOR {
            post += 1;
            let published = if post % 4 == 0 { "NULL".to_string() } else { format!("'2024-02-{:02} 10:00:00+00:00'", post % 28 + 1) };
            let title = match post {
                1 => "100% pure_rust".to_string(),
                2 => "100 percent rust".to_string(),
                3 => "Rustacean Weekly".to_string(),
                _ => format!("Post {post}"),
            };
            let body = if post == 5 { "a needle in the haystack" } else { "plain words" };
            sql.push_str(&format!(
                "INSERT INTO posts (id, author_id, title, slug, body, status, published_at, view_count) VALUES ({post}, {}, '{title}', 'post-{post}', '{body}', '{}', {published}, {post});\n",
                a + 1,
                STATUSES[post % 3]
            ));
            sql.push_str(&format!("INSERT INTO posts_tags (post_id, tag_id) VALUES ({post}, {});\n", post % 5 + 1));
            if post % 2 == 0 && post % 5 + 1 != 1 {
                sql.push_str(&format!("INSERT INTO posts_tags (post_id, tag_id) VALUES ({post}, 1);\n"));
            }
            for c in 0..COMMENTS_PER_POST {
                comment += 1;
                let who = if c == 0 { "reader" } else { "critic" };
                sql.push_str(&format!(
                    "INSERT INTO comments (id, post_id, author_name, body, created_at) VALUES ({comment}, {post}, '{who}', 'nice', '2024-03-01 00:00:{c:02}+00:00');\n"
                ));
            }
        }
    }
    sql.push_str("COMMIT;\n");
    sql
}

#[test]
fn nested_relations_cost_one_statement_per_level() {
    let s = Server::start();
    let query = "{ authors(limit: 100) { name posts(limit: 20) { title author { name } comments(limit: 20) { id } tags { name } } } }";
    let data = s.data(query, json!({}));
    let authors = data["authors"].as_array().unwrap();
    assert_eq!(authors.len(), AUTHORS);
    for a in authors {
        let posts = a["posts"].as_array().unwrap();
        assert_eq!(posts.len(), POSTS_PER_AUTHOR, "{a}");
        for p in posts {
            assert_eq!(p["author"]["name"], a["name"]);
            assert_eq!(p["comments"].as_array().unwrap().len(), COMMENTS_PER_POST);
            assert!(!p["tags"].as_array().unwrap().is_empty());
        }
    }
    // Root, posts, (author, comments, tags): one statement per relation.
    assert_eq!(s.statements(query, json!({})), 5);
    // Paging inside relations applies per parent, still in one statement.
    let data = s.data("{ authors(limit: 2, orderBy: [{name: ASC}]) { posts(limit: 1, orderBy: [{viewCount: DESC}]) { viewCount } } }", json!({}));
    assert_eq!(data["authors"][0]["posts"], json!([{"viewCount": 3}]));
    assert_eq!(data["authors"][1]["posts"], json!([{"viewCount": 6}]));

    // The metrics endpoint counts statements and requests.
    let mut res = s.agent.get(format!("{}/metrics", s.base)).call().unwrap();
    let text = res.body_mut().read_to_string().unwrap();
    let total: u64 = text.lines().find_map(|l| l.strip_prefix("gqlauto_sql_statements_total ")).unwrap().parse().unwrap();
    assert!(total >= 5, "{text}");
    assert!(text.contains("# TYPE gqlauto_graphql_request_duration_seconds histogram"), "{text}");
}

/// A lookup by id reads the rows of its selected to-one relations in its own statement (one
/// statement where it took one for the row and one per relation); a to-one relation of those
/// rows is a level of its own again.
#[test]
fn a_lookup_reads_its_to_one_relations_in_the_same_statement() {
    let s = Server::start();
    let post = "query($id: ID!) { post(id: $id) { title author { id name } } }";
    // Post 5 is the second post of the second author.
    let data = s.data(post, json!({"id": "5"}));
    assert_eq!(data["post"]["author"], json!({"id": "2", "name": "Author 001"}));
    assert_eq!(s.statements(post, json!({"id": "5"})), 1);
    assert_eq!(s.statements("query($id: ID!) { post(id: $id) { title } }", json!({"id": "5"})), 1);
    // A missing row stays missing, with or without its relations.
    assert_eq!(s.data(post, json!({"id": "999999"}))["post"], Value::Null);
    // Aliases and fragments: both lookups in one statement, each with its own author.
    let two = "{ a: post(id: \"1\") { author { name } } b: post(id: \"4\") { ...P } } fragment P on Post { writer: author { name } }";
    let data = s.data(two, json!({}));
    assert_eq!(data["a"]["author"]["name"], "Author 000");
    assert_eq!(data["b"]["writer"]["name"], "Author 001");
    assert_eq!(s.statements(two, json!({})), 1);
    // A comment with its post (joined), and the post's author (the next level).
    let comment = "query($id: ID!) { comment(id: $id) { body post { id title author { name } } } }";
    let data = s.data(comment, json!({"id": "9"}));
    let alone = s.data("query($id: ID!) { post(id: $id) { id title author { name } } }", json!({"id": data["comment"]["post"]["id"]}));
    assert_eq!(data["comment"]["post"], alone["post"]);
    assert_eq!(s.statements(comment, json!({"id": "9"})), 2);
}

#[test]
fn scalar_filters() {
    let s = Server::start();
    assert_eq!(s.post_ids("where: {viewCount: {eq: 7}}"), [7]);
    assert_eq!(s.post_ids("where: {viewCount: {lt: 3}}, orderBy: [{id: ASC}]"), [1, 2]);
    assert_eq!(s.post_ids("where: {viewCount: {gte: 299}}, orderBy: [{id: ASC}]"), [299, 300]);
    assert_eq!(s.post_ids("where: {viewCount: {gt: 10, lte: 12}}, orderBy: [{id: ASC}]"), [11, 12]);
    assert_eq!(s.post_ids("where: {id: {in: [\"4\", \"9\"]}}, orderBy: [{id: ASC}]"), [4, 9]);
    assert_eq!(s.post_ids("where: {id: {in: []}}"), Vec::<i64>::new());
    assert_eq!(s.post_ids("where: {viewCount: {lte: 5, notIn: [2, 3]}}, orderBy: [{id: ASC}]"), [1, 4, 5]);
    assert_eq!(s.post_ids("where: {viewCount: {lte: 5, ne: 2}}, orderBy: [{id: ASC}]"), [1, 3, 4, 5]);
    // Nullable columns: isNull, and null-safe `ne`.
    assert_eq!(s.post_ids("where: {publishedAt: {isNull: true}, viewCount: {lte: 12}}, orderBy: [{id: ASC}]"), [4, 8, 12]);
    assert_eq!(s.post_ids("where: {publishedAt: {ne: \"2024-02-02T10:00:00Z\"}, viewCount: {lte: 4}}, orderBy: [{id: ASC}]"), [2, 3, 4]);
    assert_eq!(s.post_ids("where: {publishedAt: {gte: \"2024-02-27T00:00:00Z\"}, viewCount: {lte: 30}}, orderBy: [{id: ASC}]"), [26, 27]);
    // Enums.
    let archived = s.post_ids("where: {status: {eq: ARCHIVED}, viewCount: {lte: 9}}, orderBy: [{id: ASC}]");
    assert_eq!(archived, [2, 5, 8]);
    assert_eq!(s.post_ids("where: {status: {in: [DRAFT, PUBLISHED]}, viewCount: {lte: 4}}, orderBy: [{id: ASC}]"), [1, 3, 4]);
    // Strings: `%` and `_` are literal characters.
    assert_eq!(s.post_ids("where: {title: {contains: \"0% pure_\"}}"), [1]);
    assert_eq!(s.post_ids("where: {title: {contains: \"_\"}}"), [1]);
    assert_eq!(s.post_ids("where: {title: {icontains: \"RUST\"}}, orderBy: [{id: ASC}]"), [1, 2, 3]);
    assert_eq!(s.post_ids("where: {title: {contains: \"RUST\"}}"), Vec::<i64>::new());
    assert_eq!(s.post_ids("where: {title: {startsWith: \"100\"}}, orderBy: [{id: ASC}]"), [1, 2]);
    assert_eq!(s.post_ids("where: {title: {endsWith: \"rust\"}}, orderBy: [{id: ASC}]"), [1, 2]);
    assert_eq!(s.post_ids("where: {title: {iexact: \"rustacean weekly\"}}"), [3]);
    assert_eq!(s.post_ids("where: {title: {iexact: \"rustacean%\"}}"), Vec::<i64>::new());
    // Combinators at depth.
    assert_eq!(
        s.post_ids("where: {or: [{viewCount: {eq: 1}}, {and: [{viewCount: {gt: 10}}, {viewCount: {lt: 13}}]}], not: {viewCount: {eq: 12}}}, orderBy: [{id: ASC}]"),
        [1, 11]
    );
    assert_eq!(s.post_ids("where: {or: []}"), Vec::<i64>::new());
    assert_eq!(s.post_ids("where: {not: {publishedAt: {gt: \"2000-01-01T00:00:00Z\"}}, viewCount: {lte: 8}}, orderBy: [{id: ASC}]"), [4, 8]);
    // Invalid ids and oversized lists are refused with codes.
    assert_eq!(s.error_code("{ posts(where: {id: {eq: \"x\"}}) { id } }", json!({})), "INVALID_ID");
    let many: Vec<i64> = (0..1001).collect();
    assert_eq!(s.error_code("query($v: [Int!]) { posts(where: {viewCount: {in: $v}}) { id } }", json!({"v": many})), "LIMIT_EXCEEDED");
}

#[test]
fn relation_filters() {
    let s = Server::start();
    // To-one: posts whose author has a given name.
    assert_eq!(s.post_ids("where: {author: {name: {eq: \"Author 002\"}}}, orderBy: [{id: ASC}]"), [7, 8, 9]);
    // To-many from the author side: some / none / every.
    let some = s.data("{ authors(where: {posts: {some: {viewCount: {eq: 5}}}}) { name } }", json!({}));
    assert_eq!(some["authors"], json!([{"name": "Author 001"}]));
    let none = s.data("{ authors(where: {posts: {none: {viewCount: {gt: 6}}}}, orderBy: [{name: ASC}]) { name } }", json!({}));
    assert_eq!(none["authors"], json!([{"name": "Author 000"}, {"name": "Author 001"}]));
    let every = s.data("{ authors(where: {posts: {every: {viewCount: {gt: 294}}}}, orderBy: [{name: ASC}]) { name } }", json!({}));
    assert_eq!(every["authors"], json!([{"name": "Author 098"}, {"name": "Author 099"}]));
    // Two levels: authors with a post that has a comment by a critic and is archived.
    let deep = s.data(
        "{ authors(where: {posts: {some: {status: {eq: ARCHIVED}, comments: {some: {authorName: {eq: \"critic\"}}}, viewCount: {lt: 4}}}}) { name } }",
        json!({}),
    );
    assert_eq!(deep["authors"], json!([{"name": "Author 000"}]));
    // Many-to-many: posts tagged tag3 among the first ten.
    assert_eq!(s.post_ids("where: {tags: {some: {name: {eq: \"tag3\"}}}, viewCount: {lte: 10}}, orderBy: [{id: ASC}]"), [2, 7]);
    // Every tag of the post is tag1: the posts whose own tag is tag1.
    assert_eq!(s.post_ids("where: {tags: {every: {name: {eq: \"tag1\"}}}, viewCount: {lte: 20}}, orderBy: [{id: ASC}]"), [5, 10, 15, 20]);
    // Reverse many-to-many from the tag side.
    let tags = s.data("{ tags(where: {posts: {some: {id: {eq: \"10\"}}}}, orderBy: [{name: ASC}]) { name } }", json!({}));
    assert_eq!(tags["tags"], json!([{"name": "tag1"}]));
}

#[test]
fn ordering_and_offset_pages() {
    let s = Server::start();
    assert_eq!(s.post_ids("orderBy: [{viewCount: DESC}], limit: 3"), [300, 299, 298]);
    // Nulls last by default, first on request; the key breaks ties.
    let nulls_first = s.post_ids("where: {viewCount: {lte: 8}}, orderBy: [{publishedAt: ASC, nulls: FIRST}]");
    assert_eq!(&nulls_first[..2], [4, 8]);
    let nulls_last = s.post_ids("where: {viewCount: {lte: 8}}, orderBy: [{publishedAt: DESC}]");
    assert_eq!(&nulls_last[6..], [4, 8]);
    // Several keys, one of them through a to-one relation.
    let by_author = s.post_ids("orderBy: [{author: {name: DESC}}, {viewCount: ASC}], limit: 4");
    assert_eq!(by_author, [298, 299, 300, 295]);
    // The default ordering (-published_at, title), then the key: stable pages.
    let all: Vec<i64> = (0..3).flat_map(|p| s.post_ids(&format!("limit: 100, offset: {}", p * 100))).collect();
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 300, "pages overlap or skip rows");
    assert_eq!(s.error_code("{ posts(orderBy: [{title: ASC, viewCount: DESC}]) { id } }", json!({})), "INVALID_ARGUMENT");
    assert_eq!(s.error_code("{ posts(limit: 1000) { id } }", json!({})), "LIMIT_EXCEEDED");
}

const CONNECTION: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  postsConnection(where: {viewCount: {lte: 10}}, orderBy: [{viewCount: DESC}], first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { viewCount } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

fn page(s: &Server, vars: Value) -> (Vec<i64>, Value, Vec<String>) {
    let data = s.data(CONNECTION, vars);
    let c = &data["postsConnection"];
    let counts = c["edges"].as_array().unwrap().iter().map(|e| e["node"]["viewCount"].as_i64().unwrap()).collect();
    let cursors = c["edges"].as_array().unwrap().iter().map(|e| e["cursor"].as_str().unwrap().to_string()).collect();
    (counts, c["pageInfo"].clone(), cursors)
}

#[test]
fn cursor_connections() {
    let s = Server::start();
    let (first, info, cursors) = page(&s, json!({"first": 4}));
    assert_eq!(first, [10, 9, 8, 7]);
    assert_eq!(info["hasNextPage"], true);
    assert_eq!(info["hasPreviousPage"], false);
    assert_eq!(info["endCursor"], cursors[3]);
    let (second, info, _) = page(&s, json!({"first": 4, "after": cursors[3]}));
    assert_eq!(second, [6, 5, 4, 3]);
    assert_eq!(info["hasPreviousPage"], true);
    let (last_page, info, _) = page(&s, json!({"first": 4, "after": info["endCursor"]}));
    assert_eq!(last_page, [2, 1]);
    assert_eq!(info["hasNextPage"], false);
    // Backwards from the end, and between two cursors.
    let (tail, info, _) = page(&s, json!({"last": 3}));
    assert_eq!(tail, [3, 2, 1]);
    assert_eq!(info["hasPreviousPage"], true);
    assert_eq!(info["hasNextPage"], false);
    let (between, _, _) = page(&s, json!({"after": cursors[0], "before": cursors[3]}));
    assert_eq!(between, [9, 8]);
    let (before, info, _) = page(&s, json!({"last": 2, "before": cursors[3]}));
    assert_eq!(before, [9, 8]);
    assert_eq!(info["hasNextPage"], true);
    assert_eq!(info["hasPreviousPage"], true);
    // totalCount ignores paging.
    let data = s.data(CONNECTION, json!({"first": 1}));
    assert_eq!(data["postsConnection"]["totalCount"], 10);
    // Keyset cursors: rows inserted before the cursor, and the cursor row deleted, do not shift the next page.
    s.sql("INSERT INTO posts (id, author_id, title, slug, body, status, view_count) VALUES (1000, 1, 't', 'new-1000', 'b', 'draft', 10);");
    s.sql("DELETE FROM posts WHERE id = 7;");
    let (after_changes, _, _) = page(&s, json!({"first": 3, "after": cursors[3]}));
    assert_eq!(after_changes, [6, 5, 4]);
    // Empty results.
    let empty = s.data("{ postsConnection(where: {viewCount: {gt: 100000}}) { totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }", json!({}));
    assert_eq!(empty["postsConnection"], json!({"totalCount": 0, "edges": [], "pageInfo": {"hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null}}));
    // Bad cursors: altered, foreign to the ordering, or garbage.
    let mut altered = cursors[1].clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(s.error_code(CONNECTION, json!({"first": 2, "after": altered})), "INVALID_CURSOR");
    assert_eq!(s.error_code(CONNECTION, json!({"first": 2, "after": "not a cursor"})), "INVALID_CURSOR");
    let other = s.data("{ postsConnection(first: 1) { edges { cursor } } }", json!({}));
    let foreign = other["postsConnection"]["edges"][0]["cursor"].clone();
    assert_eq!(s.error_code(CONNECTION, json!({"first": 2, "after": foreign})), "INVALID_CURSOR");
    assert_eq!(s.error_code(CONNECTION, json!({"first": 2, "last": 2})), "INVALID_ARGUMENT");
}

#[test]
fn relation_connections_are_batched() {
    let s = Server::start();
    let query = "{ authors(limit: 50, orderBy: [{name: ASC}]) { postsConnection(first: 2, orderBy: [{viewCount: DESC}]) { totalCount edges { node { viewCount } } pageInfo { hasNextPage endCursor } } } }";
    let data = s.data(query, json!({}));
    let first = &data["authors"][0]["postsConnection"];
    assert_eq!(first["totalCount"], 3);
    assert_eq!(first["edges"], json!([{"node": {"viewCount": 3}}, {"node": {"viewCount": 2}}]));
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    // Root, the pages of all 50 authors, and all their counts.
    assert_eq!(s.statements(query, json!({})), 3);
    let cursor = first["pageInfo"]["endCursor"].as_str().unwrap();
    let next = s.data(
        "query($c: String) { author(id: \"1\") { postsConnection(first: 2, after: $c, orderBy: [{viewCount: DESC}]) { edges { node { viewCount } } pageInfo { hasNextPage hasPreviousPage } } } }",
        json!({"c": cursor}),
    );
    assert_eq!(next["author"]["postsConnection"]["edges"], json!([{"node": {"viewCount": 1}}]));
    assert_eq!(next["author"]["postsConnection"]["pageInfo"], json!({"hasNextPage": false, "hasPreviousPage": true}));
}

#[test]
fn full_text_search() {
    let s = Server::start();
    assert_eq!(s.post_ids("search: \"needle\""), [5]);
    assert_eq!(s.post_ids("search: \"hay*\""), [5]);
    // Ranked: a title match on both words ranks first.
    let ranked = s.post_ids("search: \"rust\", limit: 5");
    assert_eq!(ranked.len(), 2, "{ranked:?}");
    // FTS syntax in user text is plain words, never an error.
    assert_eq!(s.post_ids("search: \"\\\"unbalanced AND OR ( *\""), Vec::<i64>::new());
    // Writes through the API keep the index in step.
    s.data("mutation { updatePost(id: \"5\", input: {body: \"nothing here\"}) { id } }", json!({}));
    assert_eq!(s.post_ids("search: \"needle\""), Vec::<i64>::new());
    // Search combines with filters, connections and aggregates.
    let data = s.data("{ postsConnection(search: \"rust\", where: {viewCount: {eq: 2}}) { totalCount edges { node { id } } } postsAggregate(search: \"rust\") { count } }", json!({}));
    assert_eq!(data["postsConnection"]["totalCount"], 1);
    assert_eq!(data["postsAggregate"]["count"], 2);
}

#[test]
fn aggregates_and_groups() {
    let s = Server::start();
    let data = s.data(
        "{ postsAggregate(where: {viewCount: {lte: 10}}) { count sum { viewCount } avg { viewCount } min { viewCount publishedAt } max { viewCount publishedAt } } }",
        json!({}),
    );
    let a = &data["postsAggregate"];
    assert_eq!(a["count"], 10);
    assert_eq!(a["sum"]["viewCount"], 55.0);
    assert_eq!(a["avg"]["viewCount"], 5.5);
    assert_eq!(a["min"]["viewCount"], 1);
    assert_eq!(a["max"]["viewCount"], 10);
    assert_eq!(a["min"]["publishedAt"], "2024-02-02T10:00:00Z");
    assert_eq!(a["max"]["publishedAt"], "2024-02-11T10:00:00Z");
    // Only what is selected is computed; aliases and fragments still count as selections.
    let shaped = s.data(
        "{ postsAggregate(where: {viewCount: {lte: 10}}) { total: sum { v: viewCount } ...Top } } fragment Top on PostAggregate { max { ... on PostAggregateBounds { viewCount } } }",
        json!({}),
    );
    assert_eq!(shaped["postsAggregate"], json!({"total": {"v": 55.0}, "max": {"viewCount": 10}}));
    let empty = s.data("{ postsAggregate(where: {viewCount: {gt: 1000}}) { count sum { viewCount } max { publishedAt } } }", json!({}));
    assert_eq!(empty["postsAggregate"], json!({"count": 0, "sum": {"viewCount": null}, "max": {"publishedAt": null}}));
    // Sibling aggregates of one table are computed in one scan, each over its own rows.
    let siblings = "{ drafts: postsAggregate(where: {status: {eq: DRAFT}}) { count sum { viewCount } } \
        published: postsAggregate(where: {status: {eq: PUBLISHED}, viewCount: {lte: 200}}) { count max { viewCount publishedAt } } \
        none: postsAggregate(where: {viewCount: {gt: 1000}}) { count min { viewCount } } \
        all: postsAggregate { count } commentsAggregate { count } }";
    let data = s.data(siblings, json!({}));
    assert_eq!(data["drafts"], json!({"count": 100, "sum": {"viewCount": 15150.0}}));
    assert_eq!(data["none"], json!({"count": 0, "min": {"viewCount": null}}));
    assert_eq!(data["all"]["count"], 300);
    assert_eq!(data["commentsAggregate"]["count"], 600);
    let alone = s.data("{ postsAggregate(where: {status: {eq: PUBLISHED}, viewCount: {lte: 200}}) { count max { viewCount publishedAt } } }", json!({}));
    assert_eq!(data["published"], alone["postsAggregate"]);
    assert!(alone["postsAggregate"]["count"].as_i64().unwrap() > 0, "{alone}");
    // Posts in one statement (a search ranks its own read), comments in another.
    assert_eq!(s.statements(siblings, json!({})), 2);
    let searched = "{ a: postsAggregate(search: \"rust\") { count } b: postsAggregate { count } }";
    assert_eq!(s.statements(searched, json!({})), 2);

    let groups = s.data("{ postsGroupBy(by: [STATUS]) { key { status authorId } aggregate { count sum { viewCount } } } }", json!({}));
    assert_eq!(
        groups["postsGroupBy"],
        json!([
            {"key": {"status": "ARCHIVED", "authorId": null}, "aggregate": {"count": 100, "sum": {"viewCount": 15050.0}}},
            {"key": {"status": "DRAFT", "authorId": null}, "aggregate": {"count": 100, "sum": {"viewCount": 15150.0}}},
            {"key": {"status": "PUBLISHED", "authorId": null}, "aggregate": {"count": 100, "sum": {"viewCount": 14950.0}}},
        ])
    );
    // Several keys, a filter, and `having` on aggregates.
    let having = s.data(
        "{ postsGroupBy(by: [AUTHOR_ID, STATUS], where: {viewCount: {lte: 6}}, having: {sum: {viewCount: {gte: 5}}}) { key { authorId status } aggregate { count } } }",
        json!({}),
    );
    assert_eq!(
        having["postsGroupBy"],
        json!([
            {"key": {"authorId": "2", "status": "ARCHIVED"}, "aggregate": {"count": 1}},
            {"key": {"authorId": "2", "status": "DRAFT"}, "aggregate": {"count": 1}},
        ])
    );
    let counted = s.data("{ commentsGroupBy(by: [AUTHOR_NAME], having: {count: {gt: 1}}, limit: 1) { key { authorName } aggregate { count } } }", json!({}));
    assert_eq!(counted["commentsGroupBy"], json!([{"key": {"authorName": "critic"}, "aggregate": {"count": 300}}]));
    assert_eq!(s.error_code("{ postsGroupBy(by: []) { aggregate { count } } }", json!({})), "INVALID_ARGUMENT");
}

/// Lists, connections and relations read only the columns their selection needs (and the key);
/// every field selected, however it is selected, still answers its stored value.
#[test]
fn reads_answer_every_selected_field_whatever_else_is_selected() {
    let s = Server::start();
    let whole = s.data(
        "{ posts(limit: 4, orderBy: [{id: ASC}]) { id title slug body status publishedAt viewCount authorId author { name } } }",
        json!({}),
    );
    // The same fields through aliases, a named fragment and an inline fragment.
    let parts = s.data(
        "query { posts(limit: 4, orderBy: [{id: ASC}]) { t: title ...Rest ... on Post { author { name } } } } \
         fragment Rest on Post { slug body status publishedAt viewCount authorId }",
        json!({}),
    );
    for (w, p) in whole["posts"].as_array().unwrap().iter().zip(parts["posts"].as_array().unwrap()) {
        assert_eq!(p["t"], w["title"]);
        for field in ["slug", "body", "status", "publishedAt", "viewCount", "authorId", "author"] {
            assert_eq!(p[field], w[field], "{field} of {w}");
        }
    }
    // A to-one relation without its foreign key selected; a to-many one without the key selected.
    let data = s.data("{ posts(limit: 1, orderBy: [{id: ASC}]) { author { name } comments(limit: 1) { body } } }", json!({}));
    assert_eq!(data["posts"][0]["author"], whole["posts"][0]["author"]);
    assert_eq!(data["posts"][0]["comments"].as_array().unwrap().len(), 1);
    // A lookup in the same request as a list that read little of the same row reads it whole.
    let data = s.data("{ posts(limit: 1, orderBy: [{id: ASC}]) { id } post(id: 1) { body slug author { name } } }", json!({}));
    assert_eq!(data["post"]["body"], whole["posts"][0]["body"]);
    assert_eq!(data["post"]["slug"], whole["posts"][0]["slug"]);
    // Connections (root and relation) and batched relation lists.
    let data = s.data(
        "{ postsConnection(first: 1, orderBy: [{id: ASC}]) { edges { node { author { name } body } } } \
           authors(limit: 1, orderBy: [{name: ASC}]) { name postsConnection(first: 1, orderBy: [{id: ASC}]) { edges { node { title author { name } } } } \
           posts(limit: 1, orderBy: [{id: ASC}]) { publishedAt author { name } tags { name } } } }",
        json!({}),
    );
    assert_eq!(data["postsConnection"]["edges"][0]["node"]["body"], whole["posts"][0]["body"]);
    assert_eq!(data["postsConnection"]["edges"][0]["node"]["author"], whole["posts"][0]["author"]);
    let author = &data["authors"][0];
    assert_eq!(author["postsConnection"]["edges"][0]["node"]["author"]["name"], author["name"]);
    assert!(author["postsConnection"]["edges"][0]["node"]["title"].is_string());
    assert_eq!(author["posts"][0]["author"]["name"], author["name"]);
    assert!(!author["posts"][0]["tags"].as_array().unwrap().is_empty());
}
