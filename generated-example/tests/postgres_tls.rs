//! TLS to PostgreSQL, as managed databases offer it: the server connects with each `sslmode` libpq
//! knows, encrypts unless told not to, checks the certificate when asked, and says what to do
//! when it is not trusted. (This file is ours, not gqlauto's: it is not in gqlauto.stamp.)
//!
//! Runs in the PostgreSQL run of the suites (`GQLAUTO_TEST_POSTGRES_URL`), against a server with
//! a certificate for `localhost` from an authority of its own, which `GQLAUTO_TEST_POSTGRES_CA`
//! names (`.ci/postgres ca` prints it). On SQLite there is nothing to test.

use std::process::Child;

use diesel::{Connection, RunQueryDsl};

mod common;

/// The server started on `url`: its process once it listens, or what it printed when it refused
/// to start.
fn serve(url: &str) -> Result<Child, String> {
    common::gqlauto::spawn(url, &[("JWT_SECRET", common::JWT_SECRET)]).map(|(child, _)| child)
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Sessions {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    encrypted: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    plain: i64,
}

/// The other sessions on the test database, encrypted and not.
fn sessions(url: &str) -> Sessions {
    let mut conn = diesel_async::async_connection_wrapper::AsyncConnectionWrapper::<diesel_async::AsyncPgConnection>::establish(&format!(
        "{url}?sslmode=disable"
    ))
    .unwrap();
    diesel::sql_query(
        "SELECT count(*) FILTER (WHERE s.ssl) AS encrypted, count(*) FILTER (WHERE NOT s.ssl) AS plain \
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
    )
    .get_result(&mut conn)
    .unwrap()
}

#[test]
fn every_sslmode_connects_as_libpq_would_and_untrusted_certificates_are_explained() {
    let db = common::Database::new("tls");
    if !db.is_postgres() {
        return;
    }
    let Some(ca) = std::env::var("GQLAUTO_TEST_POSTGRES_CA").ok().filter(|ca| !ca.is_empty()) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "GQLAUTO_TEST_POSTGRES_CA is not set: `.ci/postgres ca` prints it");
        eprintln!("skipped: set GQLAUTO_TEST_POSTGRES_CA to the authority of the server's certificate");
        return;
    };
    let by_name = db.url.replacen("@127.0.0.1:", "@localhost:", 1);
    assert_ne!(by_name, db.url, "the test server listens on 127.0.0.1");

    // Encrypted: by default (prefer), when required, and checked against the authority.
    for (url, why) in [
        (db.url.clone(), "prefer, the default"),
        (format!("{}?sslmode=require", db.url), "require"),
        (format!("{}?sslmode=verify-ca&sslrootcert={ca}", db.url), "verify-ca by address: the chain, not the name"),
        (format!("{by_name}?sslmode=verify-full&sslrootcert={ca}"), "verify-full by the certificate's name"),
    ] {
        let mut server = serve(&url).unwrap_or_else(|e| panic!("{why}: the server did not start: {e}"));
        let seen = sessions(&db.url);
        let _ = server.kill();
        let _ = server.wait();
        assert!(seen.encrypted >= 1 && seen.plain == 0, "{why}: {seen:?}");
    }

    // Not encrypted when told so.
    let mut server = serve(&format!("{}?sslmode=disable", db.url)).unwrap();
    let seen = sessions(&db.url);
    let _ = server.kill();
    let _ = server.wait();
    assert!(seen.plain >= 1 && seen.encrypted == 0, "disable: {seen:?}");

    // Refused, each with what to do.
    let err = serve(&format!("{}?sslmode=verify-full&sslrootcert={ca}", db.url)).expect_err("the certificate names localhost, not the address");
    assert!(err.contains("does not name this host"), "{err}");
    let err = serve(&format!("{by_name}?sslmode=verify-full")).expect_err("the authority is not one browsers trust");
    assert!(err.contains("sslrootcert=/path/to/ca.pem"), "{err}");
    let err = serve(&format!("{by_name}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")).expect_err("no such file");
    assert!(err.contains("cannot read sslrootcert `/nonexistent/ca.pem`"), "{err}");
    let err = serve(&format!("{by_name}?sslmode=verify-full&sslcert=client.pem")).expect_err("client certificates are not built in");
    assert!(err.contains("`sslcert` is not supported"), "{err}");
    assert!(!err.contains("password"), "{err}");
}
