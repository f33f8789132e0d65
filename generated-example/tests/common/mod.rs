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

/// The database a test server runs on: a SQLite file in the test's directory, or — when
/// `GQLAUTO_TEST_POSTGRES_URL` names a PostgreSQL server — a fresh database on it, dropped when the
/// value is. The same tests run on both (`gqlauto`'s own suite runs them with that variable set).
pub struct Database {
    /// The `DATABASE_URL` the server is started with.
    pub url: String,
    /// The server's administrative URL and the database's name, on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl Database {
    pub fn new(dir: &std::path::Path, name: &str) -> Database {
        use diesel::connection::SimpleConnection;
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let Some(admin) = std::env::var("GQLAUTO_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
            return Database { url: dir.join(format!("{name}.db")).to_string_lossy().into_owned(), postgres: None };
        };
        let db = format!("blog_{name}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let mut conn = postgres(&admin);
        conn.batch_execute(&format!("CREATE DATABASE {db}")).expect("create a test database");
        let (server, _) = admin.rsplit_once('/').expect("GQLAUTO_TEST_POSTGRES_URL ends with a database name");
        Database { url: format!("{server}/{db}"), postgres: Some((admin, db)) }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Runs SQL written for both databases (the tests seed rows this way). On PostgreSQL, rows
    /// inserted with explicit keys move the key sequences past them, as SQLite's keys move.
    pub fn execute(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        if self.postgres.is_none() {
            let mut conn = diesel::SqliteConnection::establish(&self.url).expect("open the database");
            conn.batch_execute("PRAGMA busy_timeout = 5000;").unwrap();
            conn.batch_execute(sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
            return;
        }
        let mut conn = postgres(&self.url);
        conn.batch_execute(sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
        conn.batch_execute(
            "DO $$ DECLARE r record; BEGIN \
             FOR r IN SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES' LOOP \
             EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), coalesce((SELECT max(%I) FROM %I), 0) + 1, false)', r.table_name, r.column_name, r.column_name, r.table_name); \
             END LOOP; END $$;",
        )
        .unwrap();
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        if let Some((admin, db)) = &self.postgres {
            let _ = postgres(admin).batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

fn postgres(url: &str) -> diesel_async::async_connection_wrapper::AsyncConnectionWrapper<diesel_async::AsyncPgConnection> {
    use diesel::Connection;
    diesel_async::async_connection_wrapper::AsyncConnectionWrapper::establish(url).unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}
