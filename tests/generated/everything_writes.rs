//! Copied into the crate generated from `model-specs/everything.yaml` by `tests/build_generated.rs`:
//! a property test over every scalar type — random valid values round-trip through create and
//! read, random invalid values are refused with a validation error and never a server failure.

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
        Server(gqlauto::Server::start(gqlauto::TestDatabase::new("writes"), &vars))
    }

    fn gql(&self, query: &str, variables: &Value) -> Value {
        let (status, body) = self.0.send(Some(&admin()), query, variables.clone());
        assert_eq!(status, 200, "never a server failure");
        body
    }

    fn data(&self, query: &str, variables: &Value) -> Value {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}\nvariables: {variables}");
        body["data"].clone()
    }
}


/// A small deterministic generator (xorshift64*): every run checks the same cases, and a failing
/// case prints its number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Text mixing ASCII, quotes, backslashes, SQL wildcards, accents, CJK and emoji.
    fn text(&mut self, min: usize, max: usize) -> String {
        const POOL: &[char] = &['a', 'Z', '0', ' ', '\'', '"', '\\', '%', '_', '{', '}', 'é', 'ß', '中', '😀', '\n', '\t', ';', '-'];
        let len = min + self.below((max - min + 1) as u64) as usize;
        let mut s: String = (0..len).map(|_| *self.pick(POOL)).collect();
        if !s.is_empty() && s.trim().is_empty() {
            s.replace_range(0..1, "x");
        }
        s
    }

    fn json(&mut self, depth: u32) -> Value {
        match self.below(if depth == 0 { 4 } else { 6 }) {
            0 => Value::Null,
            1 => json!(self.coin()),
            2 => json!(self.next() as i64 >> 12),
            3 => json!(self.text(0, 8)),
            4 => Value::Array((0..self.below(3)).map(|_| self.json(depth - 1)).collect()),
            _ => Value::Object((0..self.below(3)).map(|i| (format!("k{i}"), self.json(depth - 1))).collect()),
        }
    }
}

const FIELDS: &str = "handle email homepage displayName bio age followers score balance verified birthday signedUpOn wakeUp lastSeen externalRef settings plan legacyCode";

/// Random valid values of every scalar type round-trip through create and read unchanged.
#[test]
fn random_valid_values_round_trip() {
    let s = Server::start();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let create = format!("mutation($input: CreateAccountInput!) {{ createAccount(input: $input) {{ id {FIELDS} }} }}");
    let read = format!("query($id: ID!) {{ account(id: $id) {{ {FIELDS} }} }}");
    for case in 0..150 {
        let places = rng.below(5) as u32;
        let units = (rng.next() % 10_000_000_000) as i64 - 1000;
        let fraction = if places == 0 { 0 } else { rng.below(10u64.pow(places)) };
        let balance = if places == 0 { units.to_string() } else { format!("{units}.{fraction:0width$}", width = places as usize) };
        let offset_minutes = rng.below(24 * 60) as i32 - 12 * 60;
        let seconds = 1_000_000_000 + rng.below(2_000_000_000) as i64;
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let last_seen = chrono::DateTime::from_timestamp(seconds, rng.below(1_000_000) as u32 * 1000).unwrap().with_timezone(&offset);
        let date = chrono::NaiveDate::from_num_days_from_ce_opt(690_000 + rng.below(80_000) as i32).unwrap();
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(rng.below(86_400) as u32, 0).unwrap();
        let score = f64::from_bits(rng.next() >> 2).abs();
        let score = if score.is_finite() { score } else { 0.25 };
        let input = json!({
            "handle": format!("h{case}-{}", rng.below(1000)),
            "email": format!("u{case}.{}@example.org", rng.below(1000)),
            "homepage": if rng.coin() { json!(format!("https://site{case}.io/p?q={}", rng.below(99))) } else { Value::Null },
            "displayName": rng.text(1, 80),
            "bio": if rng.coin() { json!(rng.text(0, 300)) } else { Value::Null },
            "age": if rng.coin() { json!(rng.below(151)) } else { Value::Null },
            // BigInt: accepted as a number or a string of digits.
            "followers": if rng.coin() { json!(rng.next() as i64) } else { json!((rng.next() as i64).to_string()) },
            "score": score,
            "balance": balance,
            "verified": rng.coin(),
            "birthday": date.to_string(),
            "signedUpOn": date.to_string(),
            "wakeUp": time.format("%H:%M:%S").to_string(),
            "lastSeen": last_seen.to_rfc3339(),
            "externalRef": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", rng.next() as u32, rng.below(0x10000), rng.below(0x1000), rng.below(0x1000), rng.next() & 0xffff_ffff_ffff),
            // A top-level JSON null would read as GraphQL null, i.e. "use the default".
            "settings": json!({"v": rng.json(3)}),
            "plan": rng.pick(&["FREE", "PRO", "ENTERPRISE"]),
            "legacyCode": if rng.coin() { json!(rng.pick(&["A1", "B2", "it's"])) } else { Value::Null },
        });
        let vars = json!({"input": input});
        let created = s.data(&create, &vars)["createAccount"].clone();
        let stored = s.data(&read, &json!({"id": created["id"]}))["account"].clone();
        for (key, sent) in input.as_object().unwrap() {
            let got = &stored[key];
            let same = match key.as_str() {
                // Exact decimals come back with the field's four places.
                "balance" => sent.as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap() == got.as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(),
                // Date-times come back in UTC: the same instant.
                "lastSeen" => chrono::DateTime::parse_from_rfc3339(sent.as_str().unwrap()).unwrap() == chrono::DateTime::parse_from_rfc3339(got.as_str().unwrap()).unwrap(),
                // BigInt comes back as a number inside the 32-bit range, else as a string.
                "followers" => {
                    let value = |v: &Value| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
                    let n = value(sent).unwrap();
                    value(got) == Some(n) && got.is_number() == i32::try_from(n).is_ok()
                }
                _ => sent == got,
            };
            assert!(same, "case {case}: `{key}` sent {sent}, read back {got}");
        }
        assert_eq!(created["handle"], stored["handle"]);
    }
}

/// Makes an invalid value for one field.
type Breaker = fn(&mut Rng) -> Value;

/// Random invalid values are refused with an error that names the problem — never a server
/// failure — and nothing is written.
#[test]
fn random_invalid_values_are_refused() {
    let s = Server::start();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let create = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { id } }";
    let count = "{ accountsAggregate { count } }";
    let breakers: &[(&str, Breaker)] = &[
        ("age", |r| json!(151 + r.below(1000) as i64)),
        ("age", |r| json!(-1 - r.below(1000) as i64)),
        ("handle", |r| json!(format!("Bad {}", r.below(9)))),
        ("handle", |_| json!("")),
        ("email", |r| json!(format!("user{}", r.below(99)))),
        ("homepage", |r| json!(format!("ftp://x{}.io", r.below(9)))),
        ("displayName", |r| json!(" ".repeat(1 + r.below(5) as usize))),
        ("displayName", |r| json!("x".repeat(81 + r.below(50) as usize))),
        ("balance", |r| json!(format!("1.{:05}", r.below(99_999) + 1))),
        ("balance", |r| json!(format!("-{}", 1001 + r.below(1_000_000)))),
        ("balance", |r| json!(format!("1{}", "0".repeat(11 + r.below(5) as usize)))),
        ("balance", |_| json!("twelve")),
        ("score", |r| json!(-1.0 - r.below(100) as f64)),
        ("legacyCode", |r| json!(format!("Z{}", r.below(9)))),
        ("birthday", |r| json!(format!("2023-02-{}", 29 + r.below(3)))),
        ("wakeUp", |r| json!(format!("{}:00:00", 24 + r.below(10)))),
        ("lastSeen", |_| json!("yesterday")),
        ("externalRef", |r| json!(format!("not-a-uuid-{}", r.below(9)))),
        ("followers", |_| json!(1e30)),
        ("plan", |_| json!("GOLD")),
    ];
    for case in 0..200 {
        let (key, make) = breakers[rng.below(breakers.len() as u64) as usize];
        let mut input = json!({"handle": format!("ok{case}"), "email": format!("ok{case}@example.org")});
        input[key] = make(&mut rng);
        let body = s.gql(create, &json!({"input": input}));
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("case {case}: `{key}` = {} was accepted: {body}", input[key]));
        let code = errors[0]["extensions"]["code"].as_str();
        // Values of the wrong shape for a built-in type are refused by GraphQL itself (no code);
        // everything else is VALIDATION_FAILED.
        match code {
            None => assert!(errors[0]["message"].as_str().unwrap().to_lowercase().contains("input"), "case {case}: {body}"),
            // Rule violations list the field; malformed scalars are refused while parsing, naming the type.
            Some("VALIDATION_FAILED") => match errors[0]["extensions"]["errors"].as_array() {
                Some(list) => assert_eq!(list[0]["field"], format!("input.{key}"), "case {case}: {body}"),
                None => assert!(errors[0]["message"].as_str().unwrap().starts_with("Failed to parse"), "case {case}: {body}"),
            },
            Some(other) => panic!("case {case}: `{key}` = {} gave {other}: {body}", input[key]),
        }
    }
    assert_eq!(s.data(count, &json!({}))["accountsAggregate"]["count"], 0);
}

/// Nested writes over uuid keys, a reverse one-to-one, a through model and self-relations.
#[test]
fn nested_writes_across_key_kinds_and_join_models() {
    let s = Server::start();
    let created = s.data(
        "mutation { createAccount(input: {handle: \"ada\", email: \"ada@x.io\", profile: {headline: \"Hi\"}, groups: {create: [{name: \"g1\", parent: {name: \"root\"}}]}, notes: {create: [{body: \"first\"}]}}) { id profile { headline } groups { name parent { name } } notes { body } } }",
        &json!({}),
    )["createAccount"]
        .clone();
    assert_eq!(created["profile"]["headline"], "Hi");
    assert_eq!(created["groups"], json!([{"name": "g1", "parent": {"name": "root"}}]));
    assert_eq!(created["notes"], json!([{"body": "first"}]));
    // The through model's other fields took their defaults.
    let members = s.data("{ memberships { role joinedAt account { handle } group { name } } }", &json!({}))["memberships"].clone();
    assert_eq!(members[0]["role"], "MEMBER", "{members}");
    assert!(members[0]["joinedAt"].as_str().unwrap().ends_with('Z'), "{members}");

    // Self-referential many-to-many, connected by id, then replaced with `set`.
    let id = created["id"].clone();
    let notes = s.data(
        "mutation($a: ID!) { x: createNote(input: {authorId: $a, body: \"x\"}) { id } y: createNote(input: {authorId: $a, body: \"y\"}) { id } }",
        &json!({"a": id}),
    );
    let (x, y) = (notes["x"]["id"].clone(), notes["y"]["id"].clone());
    let upd = "mutation($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { related { body } relatedTo { body } } }";
    let linked = s.data(upd, &json!({"id": x, "input": {"related": {"connect": [y]}}}))["updateNote"].clone();
    assert_eq!(linked["related"], json!([{"body": "y"}]));
    let other = s.data(upd, &json!({"id": y, "input": {}}))["updateNote"].clone();
    assert_eq!(other["relatedTo"], json!([{"body": "x"}]));
    let cleared = s.data(upd, &json!({"id": x, "input": {"related": {"set": []}}}))["updateNote"].clone();
    assert_eq!(cleared["related"], json!([]));

    // A second profile for the same account breaks the one-to-one: UNIQUE_VIOLATION on its path.
    let twice = s.gql("mutation($id: ID!) { updateAccount(id: $id, input: {profile: {headline: \"again\"}}) { id } }", &json!({"id": id}));
    assert_eq!(twice["errors"][0]["extensions"]["code"], "UNIQUE_VIOLATION", "{twice}");
    assert_eq!(twice["errors"][0]["extensions"]["field"], "input.profile.accountId", "{twice}");
    // `protect`: an account with notes cannot be deleted.
    let protected = s.gql("mutation($id: ID!) { deleteAccount(id: $id) { id } }", &json!({"id": id}));
    assert_eq!(protected["errors"][0]["extensions"]["code"], "CONFLICT", "{protected}");
}

/// A key the client gives as a number: it names the row on create (as a string or a number), is
/// checked against its range, is unique, and finds the row afterwards.
#[test]
fn client_given_integer_keys() {
    let s = Server::start();
    let create = "mutation($id: ID!, $name: String!) { createRegion(input: {id: $id, name: $name}) { id name } }";
    let made = s.data(create, &json!({"id": "7", "name": "North"}))["createRegion"].clone();
    assert_eq!(made, json!({"id": "7", "name": "North"}));
    let made = s.data(create, &json!({"id": 9, "name": "South"}))["createRegion"].clone();
    assert_eq!(made["id"], "9", "a number is an ID too");
    let read = s.data("{ region(id: 7) { name } regions(orderBy: [{id: DESC}]) { id } }", &json!({}));
    assert_eq!(read["region"]["name"], "North");
    assert_eq!(read["regions"], json!([{"id": "9"}, {"id": "7"}]));
    let error = |vars: Value| {
        let body = s.gql(create, &vars);
        (body["errors"][0]["extensions"]["code"].clone(), body["errors"][0]["extensions"]["field"].clone())
    };
    assert_eq!(error(json!({"id": "0", "name": "x"})), (json!("VALIDATION_FAILED"), json!("input.id")), "below `min: 1`");
    assert_eq!(error(json!({"id": "3000000000", "name": "x"})), (json!("VALIDATION_FAILED"), json!("input.id")), "past 32 bits");
    assert_eq!(error(json!({"id": "seven", "name": "x"})).0, json!("VALIDATION_FAILED"), "not a number");
    assert_eq!(error(json!({"id": "7", "name": "again"})).0, json!("UNIQUE_VIOLATION"));
    let renamed = s.data("mutation { updateRegion(id: 7, input: {name: \"Up north\"}) { id name } }", &json!({}));
    assert_eq!(renamed["updateRegion"], json!({"id": "7", "name": "Up north"}));
}

/// A model of only its key: created without an input (one row at a time), never updated, linked
/// by a foreign key and a many-to-many, filtered, counted and deleted.
#[test]
fn a_model_of_only_its_key() {
    let s = Server::start();
    let mutations = s.data("{ __type(name: \"Mutation\") { fields { name } } }", &json!({}))["__type"]["fields"].clone();
    let names: Vec<&str> = mutations.as_array().unwrap().iter().filter_map(|f| f["name"].as_str()).filter(|n| n.contains("Marker")).collect();
    assert_eq!(names, ["createMarker", "deleteMarker", "deleteMarkers"]);
    let made = s.data("mutation { a: createMarker { id } b: createMarker { id } }", &json!({}));
    let (a, b) = (made["a"]["id"].clone(), made["b"]["id"].clone());
    assert_ne!(a, b, "each create numbers a new row");
    let author = s.data("mutation { createAccount(input: {handle: \"keys\", email: \"keys@x.io\"}) { id } }", &json!({}))["createAccount"]["id"].clone();
    let note = s.data(
        "mutation($author: ID!, $a: ID!, $b: ID!) { createNote(input: {authorId: $author, body: \"n\", markerId: $a, markers: {connect: [$a, $b]}}) { id marker { id } markers(orderBy: [{id: ASC}]) { id } } }",
        &json!({"author": author, "a": a, "b": b}),
    )["createNote"].clone();
    assert_eq!(note["marker"]["id"], a);
    assert_eq!(note["markers"], json!([{"id": a}, {"id": b}]));
    let read = s.data("query($a: ID!) { marker(id: $a) { id } markers(where: {id: {eq: $a}}) { id } markersAggregate { count } }", &json!({"a": a}));
    assert_eq!(read["marker"]["id"], a);
    assert_eq!(read["markers"], json!([{"id": a}]));
    assert_eq!(read["markersAggregate"]["count"], 2);
    // `set_null`: deleting the marker clears the note's link; the join rows go with it.
    let deleted = s.data("mutation($a: ID!) { deleteMarker(id: $a) { id } }", &json!({"a": a}));
    assert_eq!(deleted["deleteMarker"]["id"], a);
    let after = s.data("query($n: ID!) { note(id: $n) { marker { id } markers { id } } }", &json!({"n": note["id"]}))["note"].clone();
    assert_eq!(after, json!({"marker": null, "markers": [{"id": b}]}));
    let bulk = s.data("mutation { deleteMarkers(where: {}) { count } }", &json!({}));
    assert_eq!(bulk["deleteMarkers"]["count"], 1);
}

/// Relations through one model shared by two (as a Django tag manager's generic through model,
/// whose rows name the model they link by a content type): each relation reads, filters, writes
/// and unlinks only the join rows of its own kind, and deleting a row deletes its links.
#[test]
fn relations_through_a_shared_model_keep_to_their_kind() {
    let s = Server::start();
    let kinds = s.data(
        "mutation { n: createKind(input: {appLabel: \"everything\", model: \"note\"}) { id } g: createKind(input: {appLabel: \"everything\", model: \"group\"}) { id } }",
        &json!({}),
    );
    let group_kind = kinds["g"]["id"].clone();
    let labels = s.data(
        "mutation { x: createLabel(input: {name: \"x\"}) { id } y: createLabel(input: {name: \"y\"}) { id } z: createLabel(input: {name: \"z\"}) { id } }",
        &json!({}),
    );
    let (x, y, z) = (labels["x"]["id"].clone(), labels["y"]["id"].clone(), labels["z"]["id"].clone());
    let author = s.data("mutation { createAccount(input: {handle: \"labels\", email: \"labels@x.io\"}) { id } }", &json!({}))["createAccount"]["id"].clone();
    let note = s.data(
        "mutation($author: ID!, $x: ID!, $y: ID!) { createNote(input: {authorId: $author, body: \"n\", labels: {connect: [$x, $y], create: [{name: \"w\"}]}}) { id labels(orderBy: [{name: ASC}]) { name } } }",
        &json!({"author": author, "x": x, "y": y}),
    )["createNote"].clone();
    assert_eq!(note["labels"], json!([{"name": "w"}, {"name": "x"}, {"name": "y"}]));
    let group = s.data("mutation($x: ID!) { createGroup(input: {name: \"g\", labels: {connect: [$x]}}) { id labels { name } } }", &json!({"x": x}))
        ["createGroup"]
        .clone();
    assert_eq!(group["labels"], json!([{"name": "x"}]));
    // A group's link that carries the note's number: not one of the note's.
    let number: i64 = note["id"].as_str().map_or_else(|| note["id"].as_i64().unwrap(), |t| t.parse().unwrap());
    s.data(
        "mutation($z: ID!, $kind: ID!, $n: Int!) { createLabelLink(input: {labelId: $z, kindId: $kind, objectId: $n}) { id } }",
        &json!({"z": z, "kind": group_kind, "n": number}),
    );
    let links = |model: &str| -> i64 {
        let q = "query($m: String!) { labelLinksAggregate(where: {kind: {model: {eq: $m}}}) { count } }";
        s.data(q, &json!({"m": model}))["labelLinksAggregate"]["count"].as_i64().unwrap()
    };
    assert_eq!((links("note"), links("group")), (3, 2), "every link is written with its relation's kind");
    let read = s.data(
        "query($n: ID!, $x: ID!) { note(id: $n) { labels(orderBy: [{name: ASC}]) { name } labelsConnection { totalCount } } label(id: $x) { notes { id } groups { name } } }",
        &json!({"n": note["id"], "x": x}),
    );
    assert_eq!(read["note"]["labels"], json!([{"name": "w"}, {"name": "x"}, {"name": "y"}]), "the group's link is not the note's");
    assert_eq!(read["note"]["labelsConnection"]["totalCount"], 3);
    assert_eq!(read["label"], json!({"notes": [{"id": note["id"]}], "groups": [{"name": "g"}]}));
    let filtered = s.data(
        "{ z: notes(where: {labels: {some: {name: {eq: \"z\"}}}}) { id } y: notes(where: {labels: {some: {name: {eq: \"y\"}}}}) { id } }",
        &json!({}),
    );
    assert_eq!(filtered["z"], json!([]), "a filter follows the note's links only");
    assert_eq!(filtered["y"], json!([{"id": note["id"]}]));
    // `set` replaces the note's links and leaves the group's alone; `disconnect` likewise.
    let set = s.data("mutation($n: ID!, $z: ID!) { updateNote(id: $n, input: {labels: {set: [$z]}}) { labels { name } } }", &json!({"n": note["id"], "z": z}));
    assert_eq!(set["updateNote"]["labels"], json!([{"name": "z"}]));
    assert_eq!((links("note"), links("group")), (1, 2));
    let refused = s.gql("mutation($n: ID!, $x: ID!) { updateNote(id: $n, input: {labels: {disconnect: [$x]}}) { id } }", &json!({"n": note["id"], "x": x}));
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
    s.data("mutation($n: ID!, $z: ID!) { updateNote(id: $n, input: {labels: {disconnect: [$z]}}) { id } }", &json!({"n": note["id"], "z": z}));
    assert_eq!((links("note"), links("group")), (0, 2));
    s.data("mutation($n: ID!, $x: ID!) { updateNote(id: $n, input: {labels: {connect: [$x]}}) { id } }", &json!({"n": note["id"], "x": x}));
    // Deleting the note deletes its links (no foreign key cascades from a scoped join row).
    s.data("mutation($n: ID!) { deleteNote(id: $n) { id } }", &json!({"n": note["id"]}));
    assert_eq!((links("note"), links("group")), (0, 2));
    // A bulk delete too; the group-kind link with the note's number is the group's own when the
    // two rows were numbered alike (each table numbers its own rows), else it links no group.
    let same_number = group["id"] == note["id"];
    s.data("mutation { deleteGroups(where: {}) { count } }", &json!({}));
    assert_eq!((links("note"), links("group")), (0, if same_number { 0 } else { 1 }));
}
