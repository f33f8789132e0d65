//! `docs/manifest.schema.json` is the schema derived from the manifest types, and every example
//! manifest validates against it.

use std::path::Path;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("docs/manifest.schema.json")).unwrap()).unwrap()
}

#[test]
fn committed_schema_matches_the_manifest_types() {
    let committed = std::fs::read_to_string(root().join("docs/manifest.schema.json")).unwrap();
    assert_eq!(
        committed.trim_end(),
        gqlauto::manifest::json_schema(),
        "docs/manifest.schema.json is stale; run `cargo run -p gqlauto -- json-schema > docs/manifest.schema.json`"
    );
}

#[test]
fn examples_and_the_starter_validate_against_the_schema() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema is valid JSON Schema");
    let mut manifests: Vec<(String, String)> = std::fs::read_dir(root().join("model-specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    manifests.push(("starter".into(), gqlauto::commands::STARTER.to_string()));
    assert!(manifests.len() >= 4);
    for (name, text) in manifests {
        let value: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    for bad in [
        serde_json::json!({"version": 1, "name": "x", "models": {}, "modles": {}}),
        serde_json::json!({"name": "x", "models": {}}),
        serde_json::json!({"version": 1, "name": "x", "models": {"A": {"fields": {"id": {"type": "auto", "nulable": true}}}}}),
        serde_json::json!({"version": 1, "name": "x", "models": {"A": {"fields": {"n": {"type": "string", "max_length": "long"}}}}}),
    ] {
        assert!(!validator.is_valid(&bad), "schema accepted {bad}");
    }
}
