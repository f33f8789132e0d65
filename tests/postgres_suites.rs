//! Every test of the example crate — reads, writes, permissions, the attack suite, the server's own
//! behaviour, the generated smoke and permission-matrix tests — runs again against PostgreSQL: the
//! same tests, each server on a fresh database of the server `GQLAUTO_POSTGRES_URL` names
//! (`.ci/postgres start` prints one). Its tests pick the database through the generated
//! `tests/gqlauto/mod.rs` (`GQLAUTO_TEST_POSTGRES_URL`).
//!
//! Without a server the test says so and passes, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

#[test]
fn the_example_suites_pass_on_postgres() {
    let url = match std::env::var("GQLAUTO_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("GQLAUTO_POSTGRES_URL is not set: CI runs the example's suites on PostgreSQL")
        }
        _ => {
            eprintln!("skipped: set GQLAUTO_POSTGRES_URL (`.ci/postgres start` prints it) to run the example's suites on PostgreSQL");
            return;
        }
    };
    // The generated crates' target directory: this workspace's is locked by the run that started
    // this test.
    let out = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "-p", "blog", "--tests"])
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", workspace().join("target/generated-crates"))
        .env("GQLAUTO_TEST_POSTGRES_URL", &url)
        // The authority of the server's TLS certificate (`.ci/postgres ca`), for the TLS test.
        .env("GQLAUTO_TEST_POSTGRES_CA", std::env::var("GQLAUTO_POSTGRES_CA").unwrap_or_default())
        .output()
        .expect("run cargo");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the example's suites failed on PostgreSQL:\n{stdout}\n{stderr}");
    let passed: usize = stdout.lines().filter_map(|l| l.strip_prefix("test result: ok. ")?.split(' ').next()?.parse::<usize>().ok()).sum();
    assert!(passed >= 90, "expected the suites' tests to run, {passed} passed:\n{stdout}");
}
