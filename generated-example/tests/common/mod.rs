//! What the tests of this crate share: the signing key they start servers with, and tokens for
//! the blog's roles. (This file is ours, not gqlauto's: it is not in gqlauto.stamp.)
#![allow(dead_code)]

use serde_json::json;

/// The `JWT_SECRET` every test server is started with.
pub const JWT_SECRET: &str = "the blog's test secret, thirty-two bytes or more";

/// A token for `role` whose `sub` claim is `sub`, valid for an hour.
pub fn token(role: &str, sub: &str) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
    let claims = json!({ "sub": sub, "role": role, "exp": exp });
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()).unwrap()).unwrap()
}

/// The `Authorization` header of an administrator (the `admin` role may do everything).
pub fn admin() -> String {
    format!("Bearer {}", token("admin", "0"))
}

#[path = "../gqlauto/mod.rs"]
pub mod gqlauto;

/// The database a test server runs on: a SQLite file, or — when `GQLAUTO_TEST_POSTGRES_URL` names
/// a PostgreSQL server — a fresh database on it, dropped when the value is (gqlauto's
/// `tests/gqlauto/mod.rs`). The same tests run on both (`gqlauto`'s own suite runs them with that
/// variable set).
pub struct Database(gqlauto::TestDatabase);

impl std::ops::Deref for Database {
    type Target = gqlauto::TestDatabase;

    fn deref(&self) -> &gqlauto::TestDatabase {
        &self.0
    }
}

impl Database {
    pub fn new(name: &str) -> Database {
        Database(gqlauto::TestDatabase::new(name))
    }

    /// Runs SQL written for both databases (the tests seed rows this way).
    pub fn execute(&self, sql: &str) {
        self.0.execute(sql, sql);
    }
}
