//! Every invalid manifest under `tests/fixtures/invalid/` gets exactly the diagnostics pinned in
//! its snapshot, in both renderings; none panics and none produces an IR.

use std::path::Path;

use gqlauto::api::{check_source, DiagFormat};
use gqlauto::manifest::Format;

fn fixtures() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/invalid");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("fixture dir").map(|e| e.expect("entry").path()).collect();
    // Sorted so the test walks the fixtures in the same order everywhere.
    paths.sort();
    paths
}

#[test]
fn invalid_manifests_have_pinned_diagnostics() {
    let paths = fixtures();
    assert!(paths.len() >= 25, "expected at least 25 invalid fixtures, found {}", paths.len());
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let display = format!("tests/fixtures/invalid/{name}");
        let format = Format::from_path(&path).expect("fixture extension");
        let checked = check_source(&display, std::fs::read_to_string(&path).unwrap(), format);
        assert!(checked.ir.is_none(), "{name} validated but should not");
        assert!(checked.diagnostics.iter().any(|d| d.is_error()), "{name} has no error");
        for d in &checked.diagnostics {
            assert!(d.span.is_some(), "{name}: diagnostic without a location: {d:?}");
            assert!(d.help.is_some(), "{name}: diagnostic without help: {d:?}");
        }
        let shown = format!("{}\n--- short ---\n{}", checked.render(DiagFormat::Human), checked.render(DiagFormat::Short));
        insta::assert_snapshot!(name.replace('.', "_"), shown);
    }
}

#[test]
fn example_manifests_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model-specs");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let checked = check_source(&path.display().to_string(), std::fs::read_to_string(&path).unwrap(), Format::from_path(&path).unwrap());
        assert!(checked.ir.is_some() && checked.diagnostics.is_empty(), "{}", checked.render(DiagFormat::Human));
    }
}

#[test]
fn the_starter_manifest_is_valid() {
    let checked = check_source("gqlauto.yaml", gqlauto::commands::STARTER.to_string(), Format::Yaml);
    assert!(checked.ir.is_some() && checked.diagnostics.is_empty(), "{}", checked.render(DiagFormat::Human));
}
