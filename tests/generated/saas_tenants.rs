//! Copied into the crate generated from `model-specs/saas.yaml` by `tests/build_generated.rs`:
//! the tenant key over HTTP against the running server — members see and write only their own
//! organisation's rows, unique keys hold per organisation, and upserts neither cross tenants nor
//! reveal rows a member may not read.

mod gqlauto;

use serde_json::{json, Value};

/// The key the test server verifies tokens with.
const JWT_SECRET: &str = "the tenant test's secret, thirty-two bytes or more";

/// The server on a fresh database (SQLite, or PostgreSQL when `GQLAUTO_TEST_POSTGRES_URL` is set).
struct Server(gqlauto::Server);

/// Who a request acts as.
#[derive(Clone)]
struct Caller(Value);

fn admin() -> Caller {
    Caller(json!({"sub": "0", "role": "admin"}))
}

fn member(org: &Value, sub: &Value) -> Caller {
    Caller(json!({"sub": sub, "role": "member", "org_id": org}))
}

impl Server {
    fn start() -> Server {
        Server(gqlauto::Server::start(gqlauto::TestDatabase::new("saas"), &[("JWT_SECRET", JWT_SECRET)]))
    }

    fn gql(&self, who: &Caller, query: &str, variables: &Value) -> Value {
        let (status, body) = self.0.send(Some(&gqlauto::token(JWT_SECRET, who.0.clone())), query, variables.clone());
        assert_eq!(status, 200, "never a server failure");
        body
    }

    fn data(&self, who: &Caller, query: &str, variables: &Value) -> Value {
        let body = self.gql(who, query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}\nvariables: {variables}");
        body["data"].clone()
    }

    /// The single error a request must produce.
    fn error(&self, who: &Caller, query: &str, variables: &Value) -> Value {
        let body = self.gql(who, query, variables);
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("expected an error: {body}"));
        assert_eq!(errors.len(), 1, "{body}");
        errors[0].clone()
    }
}

fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or("")
}

const CREATE_PROJECT: &str = "mutation($slug: String!) { createProject(input: {slug: $slug, name: $slug}) { id slug org { id } } }";
const CREATE_TASK: &str = "mutation($input: CreateTaskInput!) { createTask(input: $input) { id number title } }";
const UPSERT_TASK: &str =
    "mutation($input: CreateTaskInput!) { upsertTask(input: $input, onConflict: {fields: [ORG_ID, PROJECT_ID, NUMBER]}) { id number title } }";

struct World {
    orgs: [Value; 2],
    /// Two members of the first organisation, one of the second.
    ann: Caller,
    bob: Caller,
    cat: Caller,
    ann_id: Value,
}

/// Two organisations; `ann` and `bob` in the first, `cat` in the second with Ann's email (emails
/// are unique per organisation: allowed across them, refused within one).
fn world(s: &Server) -> World {
    let orgs = s.data(&admin(), "mutation { a: createOrg(input: {name: \"Acme\"}) { id } b: createOrg(input: {name: \"Bolt\"}) { id } }", &json!({}));
    let (a, b) = (orgs["a"]["id"].clone(), orgs["b"]["id"].clone());
    let add = "mutation($org: ID!, $email: Email!, $name: String!) { createMember(input: {orgId: $org, email: $email, name: $name}) { id } }";
    let ann = s.data(&admin(), add, &json!({"org": a, "email": "ann@x.io", "name": "Ann"}))["createMember"]["id"].clone();
    let bob = s.data(&admin(), add, &json!({"org": a, "email": "bob@x.io", "name": "Bob"}))["createMember"]["id"].clone();
    let cat = s.data(&admin(), add, &json!({"org": b, "email": "ann@x.io", "name": "Cat"}))["createMember"]["id"].clone();
    let twin = s.error(&admin(), add, &json!({"org": a, "email": "ann@x.io", "name": "Ann again"}));
    assert_eq!(code(&twin), "UNIQUE_VIOLATION", "{twin}");
    World { ann: member(&a, &ann), bob: member(&a, &bob), cat: member(&b, &cat), ann_id: ann, orgs: [a, b] }
}

#[test]
fn members_see_and_write_only_their_organisation() {
    let s = Server::start();
    let w = world(&s);
    let none = json!({});

    // Each organisation may have a project `web`; the tenant comes from the token, not the input.
    let acme_web = s.data(&w.ann, CREATE_PROJECT, &json!({"slug": "web"}))["createProject"].clone();
    assert_eq!(acme_web["org"]["id"], w.orgs[0]);
    let bolt_web = s.data(&w.cat, CREATE_PROJECT, &json!({"slug": "web"}))["createProject"].clone();
    assert_eq!(bolt_web["org"]["id"], w.orgs[1]);
    let again = s.error(&w.bob, CREATE_PROJECT, &json!({"slug": "web"}));
    assert_eq!(code(&again), "UNIQUE_VIOLATION", "unique within the organisation: {again}");
    s.data(&w.cat, CREATE_PROJECT, &json!({"slug": "api"}));

    // Lists, counts, aggregates, lookups and relations stop at the organisation.
    let q = "{ projects { slug } projectsConnection { totalCount } projectsAggregate { count } members { name } orgs { name projects { slug } } }";
    let acme = s.data(&w.ann, q, &none);
    assert_eq!(acme["projects"], json!([{"slug": "web"}]));
    assert_eq!(acme["projectsConnection"]["totalCount"], 1);
    assert_eq!(acme["projectsAggregate"]["count"], 1);
    assert_eq!(acme["members"], json!([{"name": "Ann"}, {"name": "Bob"}]));
    assert_eq!(acme["orgs"], json!([{"name": "Acme", "projects": [{"slug": "web"}]}]));
    let everyone = s.data(&admin(), "{ projectsConnection { totalCount } members { name } }", &none);
    assert_eq!(everyone["projectsConnection"]["totalCount"], 3);
    assert_eq!(everyone["members"].as_array().unwrap().len(), 3);
    let other = s.data(&w.ann, "query($id: ID!) { project(id: $id) { slug } }", &json!({"id": bolt_web["id"]}));
    assert_eq!(other["project"], Value::Null, "another organisation's row reads as missing");
    let filtered = s.data(&w.ann, "{ tasks(where: {project: {org: {name: {eq: \"Bolt\"}}}}) { id } }", &none);
    assert_eq!(filtered["tasks"], json!([]));

    // Writes reach only the caller's organisation, and rows cannot be moved out of it.
    let upd = "mutation($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { name } }";
    let foreign = s.error(&w.ann, upd, &json!({"id": bolt_web["id"], "input": {"name": "mine"}}));
    assert_eq!(code(&foreign), "NOT_FOUND", "{foreign}");
    let moved = s.error(&w.ann, upd, &json!({"id": acme_web["id"], "input": {"orgId": w.orgs[1]}}));
    assert_eq!(code(&moved), "FOREIGN_KEY_VIOLATION", "an organisation the member cannot read is no organisation: {moved}");
    let bulk = s.data(&w.ann, "mutation { updateProjects(where: {}, set: {archived: true}) { count } }", &none);
    assert_eq!(bulk["updateProjects"]["count"], 1);
    let gone = s.data(&w.ann, "mutation { deleteProjects(where: {}) { count } }", &none);
    assert_eq!(gone["deleteProjects"]["count"], 1);
    assert_eq!(s.data(&w.cat, "{ projectsConnection { totalCount } }", &none)["projectsConnection"]["totalCount"], 2, "Bolt's projects are untouched");

    // A reference to another organisation's row is a reference to no row.
    let bolt_task = s.error(&w.ann, CREATE_TASK, &json!({"input": {"projectId": bolt_web["id"], "number": 1, "title": "sneak"}}));
    assert_eq!(code(&bolt_task), "FOREIGN_KEY_VIOLATION", "{bolt_task}");

    // Without the tenant claim a member sees no tenant rows at all.
    let lost = Caller(json!({"sub": w.ann_id, "role": "member"}));
    assert_eq!(s.data(&lost, "{ members { id } projects { id } }", &none), json!({"members": [], "projects": []}));
    // Hidden fields are in no member schema; write-only fields are given but never read.
    let hidden = s.gql(&w.ann, "{ members { passwordHash } }", &none);
    assert_eq!(hidden["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{hidden}");
    let secret = "mutation { createProject(input: {slug: \"hooks\", name: \"Hooks\", webhookSecret: \"s3cr3t\"}) { slug } }";
    assert_eq!(s.data(&w.ann, secret, &none)["createProject"]["slug"], "hooks");
    for who in [&w.ann, &admin()] {
        let read = s.gql(who, "{ projects { webhookSecret } }", &none);
        assert_eq!(read["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{read}");
        let filter = s.gql(who, "{ projects(where: {webhookSecret: {eq: \"s3cr3t\"}}) { id } }", &none);
        let message = filter["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains("unknown field \"webhookSecret\""), "no oracle through filters: {filter}");
    }
    // A hidden field is written only by roles with `all` or grants that name it: members may
    // create and update projects, but not give `deployKeyHash`.
    let set_hash = "mutation { createProject(input: {slug: \"keys\", name: \"Keys\", deployKeyHash: \"x\"}) { slug } }";
    let refused = s.gql(&w.ann, set_hash, &none);
    let message = refused["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("unknown field \"deployKeyHash\""), "{refused}");
    let admin_input = "mutation($org: ID!) { createProject(input: {orgId: $org, slug: \"keys\", name: \"Keys\", deployKeyHash: \"x\"}) { slug } }";
    s.data(&admin(), admin_input, &json!({"org": w.orgs[0]}));
}

#[test]
fn upserts_update_only_rows_the_member_may_update_and_reveal_no_other() {
    let s = Server::start();
    let w = world(&s);
    let project = s.data(&w.ann, CREATE_PROJECT, &json!({"slug": "app"}))["createProject"]["id"].clone();
    let task = |number: i64, title: &str, assignee: &Value, private: bool| {
        json!({"input": {"projectId": project, "number": number, "title": title, "assigneeId": assignee, "private": private}})
    };
    let bob_id = w.bob.0["sub"].clone();

    // Ann's own task: created, then updated in place by the same key.
    let first = s.data(&w.ann, UPSERT_TASK, &task(1, "draft", &w.ann_id, false))["upsertTask"].clone();
    let second = s.data(&w.ann, UPSERT_TASK, &task(1, "final", &w.ann_id, false))["upsertTask"].clone();
    assert_eq!((second["id"].clone(), second["title"].clone()), (first["id"].clone(), json!("final")));

    // Bob reads Ann's task but may not update it: refused, and the row is unchanged.
    let refused = s.error(&w.bob, UPSERT_TASK, &task(1, "bob's", &bob_id, false));
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let title = s.data(&w.ann, "query($id: ID!) { task(id: $id) { title } }", &json!({"id": first["id"]}));
    assert_eq!(title["task"]["title"], "final");

    // Ann's private task is invisible to Bob: his upsert answers exactly as a create would.
    s.data(&w.ann, UPSERT_TASK, &task(2, "secret", &w.ann_id, true));
    let upserted = s.error(&w.bob, UPSERT_TASK, &task(2, "probe", &bob_id, false));
    let created = s.error(&w.bob, CREATE_TASK, &task(2, "probe", &bob_id, false));
    assert_eq!(code(&upserted), "UNIQUE_VIOLATION", "{upserted}");
    assert_eq!(upserted, created, "an upsert tells no more than a create");

    // On the update path too, a member of another organisation is no member.
    let cat_id = w.cat.0["sub"].clone();
    let foreign = s.error(&w.ann, UPSERT_TASK, &task(1, "final", &cat_id, false));
    assert_eq!(code(&foreign), "FOREIGN_KEY_VIOLATION", "{foreign}");

    // The same key in another organisation is another row.
    let bolt_project = s.data(&w.cat, CREATE_PROJECT, &json!({"slug": "app"}))["createProject"]["id"].clone();
    let bolt = s.data(&w.cat, UPSERT_TASK, &json!({"input": {"projectId": bolt_project, "number": 1, "title": "bolt's"}}))["upsertTask"].clone();
    assert_ne!(bolt["id"], first["id"]);
    assert_eq!(s.data(&admin(), "{ tasksAggregate { count } }", &json!({}))["tasksAggregate"]["count"], 3);
}
