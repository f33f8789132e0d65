//! Copied into the crate generated from `model-specs/everything.yaml` by `tests/build_generated.rs`
//! (as a user-owned test would be): filters, ordering and aggregates on every scalar type, uuid
//! keys in batched relations, self-referential many-to-many filters and search, over HTTP
//! against the running server.

mod gqlauto;

use serde_json::{json, Value};

/// The key the test server verifies tokens with.
const JWT_SECRET: &str = "the everything test's secret, thirty-two bytes or more";

/// An administrator's token: the tests below exercise the engine, not the roles.
fn admin() -> String {
    gqlauto::token(JWT_SECRET, json!({"sub": "0", "role": "admin"}))
}

/// The server on a fresh database (SQLite, or PostgreSQL when `GQLAUTO_TEST_POSTGRES_URL` is set:
/// the suite runs on both).
struct Server(gqlauto::Server);

impl Server {
    fn start() -> Server {
        let vars = [("JWT_SECRET", JWT_SECRET), ("REPORT_SQL_STATEMENTS", "true")];
        Server(gqlauto::Server::start(gqlauto::TestDatabase::new("everything"), &vars))
    }

    fn gql(&self, query: &str) -> Value {
        self.0.send(Some(&admin()), query, json!({})).1
    }

    fn data(&self, query: &str) -> Value {
        let body = self.gql(query);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}\nquery: {query}");
        body["data"].clone()
    }

    /// Handles of `accounts(...)`.
    fn handles(&self, args: &str) -> Vec<String> {
        let data = self.data(&format!("{{ accounts({args}) {{ handle }} }}"));
        data["accounts"].as_array().unwrap().iter().map(|a| a["handle"].as_str().unwrap().to_string()).collect()
    }
}

const REF: &str = "6f1c3a52-8c5e-4b7a-9a53-1d2f3e4a5b6c";

fn seed(s: &Server) -> Vec<String> {
    let accounts = [
        format!(
            "{{handle: \"ada\", email: \"ada@x.io\", age: 30, followers: 5000000000, score: 1.5, balance: \"9.5\", verified: true, birthday: \"1990-05-01\", wakeUp: \"06:00:00\", lastSeen: \"2024-05-01T12:00:00Z\", externalRef: \"{REF}\", settings: {{theme: \"light\", beta: true}}, plan: PRO}}"
        ),
        "{handle: \"bob\", email: \"bob@x.io\", followers: 3, score: 0.25, balance: \"10.25\", birthday: \"1985-01-01\", wakeUp: \"08:30:00\", plan: FREE}".to_string(),
        "{handle: \"cy\", email: \"cy@x.io\", balance: \"100\", plan: ENTERPRISE}".to_string(),
    ];
    accounts
        .iter()
        .map(|input| s.data(&format!("mutation {{ createAccount(input: {input}) {{ id }} }}"))["createAccount"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_scalar_type_filters_orders_and_aggregates() {
    let s = Server::start();
    seed(&s);
    let by_handle = "orderBy: [{handle: ASC}]";
    // Decimals compare and sort by value, not as text ("10.25" > "9.6").
    assert_eq!(s.handles(&format!("where: {{balance: {{gt: \"9.6\"}}}}, {by_handle}")), ["bob", "cy"]);
    assert_eq!(s.handles("orderBy: [{balance: DESC}]"), ["cy", "bob", "ada"]);
    assert_eq!(s.handles("where: {birthday: {lt: \"1988-01-01\"}}"), ["bob"]);
    assert_eq!(s.handles("where: {birthday: {isNull: true}}"), ["cy"]);
    assert_eq!(s.handles("where: {wakeUp: {lte: \"07:00:00\"}}"), ["ada"]);
    assert_eq!(s.handles("where: {lastSeen: {gte: \"2024-01-01T00:00:00Z\"}}"), ["ada"]);
    assert_eq!(s.handles("where: {followers: {gt: 4294967296}}"), ["ada"]);
    assert_eq!(s.handles(&format!("where: {{score: {{lt: 1}}}}, {by_handle}")), ["bob", "cy"]);
    assert_eq!(s.handles(&format!("where: {{externalRef: {{eq: \"{REF}\"}}}}")), ["ada"]);
    assert_eq!(s.handles(&format!("where: {{externalRef: {{ne: \"{REF}\"}}}}, {by_handle}")), ["bob", "cy"]);
    assert_eq!(s.handles("where: {settings: {hasKey: \"beta\"}}"), ["ada"]);
    assert_eq!(s.handles(&format!("where: {{verified: {{eq: false}}}}, {by_handle}")), ["bob", "cy"]);
    assert_eq!(s.handles(&format!("where: {{plan: {{in: [PRO, ENTERPRISE]}}}}, {by_handle}")), ["ada", "cy"]);
    assert_eq!(s.handles("where: {handle: {startsWith: \"b\"}}"), ["bob"]);
    assert_eq!(s.handles("where: {age: {isNull: false}}"), ["ada"]);

    let data = s.data("{ accountsAggregate { count sum { balance followers } min { balance birthday wakeUp } max { balance wakeUp lastSeen } } }");
    let a = &data["accountsAggregate"];
    assert_eq!(a["count"], 3);
    assert_eq!(a["sum"]["balance"], 119.75);
    assert_eq!(a["sum"]["followers"], 5000000003.0);
    assert_eq!(a["min"], json!({"balance": "9.5", "birthday": "1985-01-01", "wakeUp": "06:00:00"}));
    assert_eq!(a["max"], json!({"balance": "100", "wakeUp": "08:30:00", "lastSeen": "2024-05-01T12:00:00Z"}));
    let groups = s.data("{ accountsGroupBy(by: [PLAN, VERIFIED]) { key { plan verified } aggregate { count max { balance } } } }");
    assert_eq!(
        groups["accountsGroupBy"],
        json!([
            {"key": {"plan": "ENTERPRISE", "verified": false}, "aggregate": {"count": 1, "max": {"balance": "100"}}},
            {"key": {"plan": "FREE", "verified": false}, "aggregate": {"count": 1, "max": {"balance": "10.25"}}},
            {"key": {"plan": "PRO", "verified": true}, "aggregate": {"count": 1, "max": {"balance": "9.5"}}},
        ])
    );
    let having = s.data("{ accountsGroupBy(by: [VERIFIED], having: {sum: {balance: {gt: 50}}}) { key { verified } } }");
    assert_eq!(having["accountsGroupBy"], json!([{"key": {"verified": false}}]));
}

#[test]
fn uuid_keys_relations_and_search() {
    let s = Server::start();
    let ids = seed(&s);
    let (ada, bob) = (&ids[0], &ids[1]);
    let note = |author: &str, body: &str| {
        s.data(&format!("mutation {{ createNote(input: {{authorId: \"{author}\", body: \"{body}\"}}) {{ id }} }}"))["createNote"]["id"].as_str().unwrap().to_string()
    };
    let n1 = note(ada, "a needle in a haystack");
    let n2 = note(ada, "plain words");
    let n3 = note(bob, "more plain words");
    s.data(&format!("mutation {{ createProfile(input: {{accountId: \"{ada}\", headline: \"Hello\"}}) {{ id }} }}"));
    let group = s.data("mutation { createGroup(input: {name: \"core\"}) { id } }")["createGroup"]["id"].as_str().unwrap().to_string();
    s.data(&format!("mutation {{ createMembership(input: {{groupId: \"{group}\", accountId: \"{bob}\", role: ADMIN}}) {{ id }} }}"));
    let links = format!("INSERT INTO notes_related (from_note_id, to_note_id) VALUES ({n1}, {n2}), ({n1}, {n3});");
    s.0.db.execute(&links, &links);

    // Batched relations over uuid keys, both directions, one statement per level.
    let query = "{ accounts(orderBy: [{handle: ASC}]) { handle profile { headline } notes(orderBy: [{id: ASC}]) { body author { handle } related { id } } groups { name } notesConnection(first: 1) { totalCount } } }";
    let body = s.gql(query);
    assert!(body.get("errors").is_none(), "{body}");
    let accounts = &body["data"]["accounts"];
    assert_eq!(accounts[0]["profile"], json!({"headline": "Hello"}));
    assert_eq!(accounts[1]["profile"], Value::Null);
    assert_eq!(accounts[0]["notes"][0]["author"]["handle"], "ada");
    assert_eq!(accounts[0]["notes"][0]["related"].as_array().unwrap().len(), 2);
    assert_eq!(accounts[1]["groups"], json!([{"name": "core"}]));
    assert_eq!(accounts[0]["notesConnection"]["totalCount"], 2);
    // Root, then profile, notes, groups, notes page, counts; then author and related of the notes:
    // 8 statements when every relation level is one batch. The shared loaders of the data-driven
    // runtime split some levels when several relations of one row are selected together (each
    // relation alone is one statement, as the queries below and the example's tests pin): 11 today.
    let statements = body["extensions"]["sqlStatements"].as_i64().unwrap();
    assert!((8..=11).contains(&statements), "{statements} statements");

    // Filters through uuid-keyed relations and the self-referential many-to-many.
    assert_eq!(s.handles("where: {groups: {some: {name: {eq: \"core\"}}}}"), ["bob"]);
    assert_eq!(s.handles("where: {notes: {some: {body: {contains: \"needle\"}}}}"), ["ada"]);
    assert_eq!(s.handles("where: {profile: {none: {}}}, orderBy: [{handle: ASC}]"), ["bob", "cy"]);
    let related = s.data(&format!("{{ notes(where: {{relatedTo: {{some: {{id: {{eq: \"{n1}\"}}}}}}}}, orderBy: [{{id: ASC}}]) {{ id }} }}"));
    assert_eq!(related["notes"], json!([{"id": n2}, {"id": n3}]));
    let by_author = s.data("{ notes(where: {author: {handle: {eq: \"bob\"}}}) { id } }");
    assert_eq!(by_author["notes"], json!([{"id": n3}]));

    // Full-text search on a model whose rows point at uuid keys.
    let found = s.data("{ notes(search: \"needle\") { id } notesAggregate(search: \"plain\") { count } }");
    assert_eq!(found["notes"], json!([{"id": n1}]));
    assert_eq!(found["notesAggregate"]["count"], 2);
}

/// Answers are served again while the database is unchanged: per caller, renewed after a write
/// through the API and after a write by another program on the same database.
#[test]
fn answers_are_cached_per_caller_until_the_database_changes() {
    let s = Server::start();
    let ids = seed(&s);
    s.data("mutation { en: createLanguage(input: {id: \"en\", name: \"English\"}) { id } fr: createLanguage(input: {id: \"fr\", name: \"French\"}) { id } }");
    for (body, language) in [("a", "en"), ("b", "fr")] {
        s.data(&format!("mutation {{ createNote(input: {{authorId: \"{}\", body: \"{body}\", languageId: \"{language}\"}}) {{ id }} }}", ids[0]));
    }
    let query = "{ notes(orderBy: [{body: ASC}]) { body } }";
    let anonymous = || s.0.send(None, query, json!({})).1;
    let statements = |answer: &Value| answer["extensions"]["sqlStatements"].as_i64().unwrap_or_else(|| panic!("{answer}"));
    let bodies = |answer: &Value| answer["data"]["notes"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let first = s.gql(query);
    assert_eq!(bodies(&first), ["a", "b"]);
    assert!(statements(&first) > 0);
    // On PostgreSQL any write to the cluster (the other tests' databases too) empties the cache,
    // so the answer is asked again until two askings meet no write between them.
    let served_again = |ask: &dyn Fn() -> Value| {
        for _ in 0..100 {
            let answer = ask();
            if statements(&answer) == 0 {
                return answer;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("never served from the cache");
    };
    let again = served_again(&|| s.gql(query));
    assert_eq!(again["data"], first["data"]);
    // Another caller sees the rows its role may read, never the administrator's answer.
    let seen = anonymous();
    assert_eq!(bodies(&seen), ["a"], "anonymous callers read English notes only");
    assert!(statements(&seen) > 0);
    assert_eq!(bodies(&served_again(&anonymous)), ["a"]);
    // A write through the API, then one by another program on the same database.
    s.data(&format!("mutation {{ createNote(input: {{authorId: \"{}\", body: \"c\", languageId: \"en\"}}) {{ id }} }}", ids[1]));
    let written = s.gql(query);
    assert_eq!(bodies(&written), ["a", "b", "c"]);
    assert!(statements(&written) > 0);
    assert_eq!(bodies(&anonymous()), ["a", "c"]);
    let outside = "UPDATE notes SET body = 'd' WHERE body = 'c'";
    s.0.db.execute(outside, outside);
    assert_eq!(bodies(&s.gql(query)), ["a", "b", "d"], "a commit by another program is seen at once");
    assert_eq!(bodies(&anonymous()), ["a", "d"]);
    let mut metrics = s.0.agent.get(format!("{}/metrics", s.0.base)).call().expect("metrics");
    let text = metrics.body_mut().read_to_string().unwrap();
    let hits: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("gqlauto_response_cache_hits_total "))
        .unwrap_or_else(|| panic!("{text}"))
        .parse()
        .unwrap();
    match s.0.db.is_postgres() {
        true => assert!(hits >= 2, "{text}"),
        false => assert_eq!(hits, 2, "{text}"),
    }
}
