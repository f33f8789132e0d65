//! Generated crates build and pass their own tests: the starter manifest from `init`, and every
//! example manifest besides the committed blog example (which the workspace builds itself).
//!
//! `tests/generated/<name>_*.rs`, when present, are copied into the generated crate's `tests/`
//! first, like a test its owner wrote.
//!
//! All of them share one cargo target directory, `target/generated-crates`, and the workspace's
//! Cargo.lock, so dependencies are compiled once.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn run(cmd: &mut Command) {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(out.status.success(), "{shown} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

fn gqlauto(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gqlauto"));
    c.current_dir(dir);
    c
}

/// `cargo <args>` in a generated crate, with the shared target directory and lock file.
fn cargo(krate: &Path, args: &[&str]) {
    std::fs::copy(workspace().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let mut c = Command::new(env!("CARGO"));
    c.args(args).current_dir(krate).env("CARGO_TARGET_DIR", workspace().join("target/generated-crates"));
    run(&mut c);
}

#[test]
fn init_generate_build_and_test() {
    let dir = tempfile::tempdir().unwrap();
    run(gqlauto(dir.path()).args(["init", "."]));
    run(gqlauto(dir.path()).args(["generate", "gqlauto.yaml", "--out", "server"]));
    cargo(&dir.path().join("server"), &["test", "--quiet"]);
}

#[test]
fn every_example_builds_passes_its_tests_and_clippy() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["shop", "everything"] {
        let manifest = workspace().join(format!("model-specs/{name}.yaml"));
        let out = dir.path().join(name);
        run(gqlauto(dir.path()).arg("generate").arg(&manifest).arg("--out").arg(&out));
        // Extra end-to-end tests, placed in the crate the way its owner would add them.
        for extra in std::fs::read_dir(workspace().join("tests/generated")).unwrap() {
            let path = extra.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            if file.starts_with(&format!("{name}_")) {
                std::fs::copy(&path, out.join("tests").join(&file)).unwrap();
            }
        }
        cargo(&out, &["test", "--quiet"]);
    }
    cargo(&dir.path().join("everything"), &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"]);
}
