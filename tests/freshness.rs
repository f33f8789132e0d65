//! `generated-example/` must be exactly what gqlauto generates today from `model-specs/blog.yaml`.

use std::path::Path;

use gqlauto::api::{check_source, options_for};
use gqlauto::codegen::generate;
use gqlauto::manifest::Format;
use gqlauto::writer;

#[test]
fn generated_example_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = Path::new("model-specs/blog.yaml");
    let out = Path::new("generated-example");
    let source = std::fs::read_to_string(root.join(manifest)).unwrap();
    let ir = check_source("model-specs/blog.yaml", source.clone(), Format::Yaml).ir.expect("blog.yaml is valid");
    let files = generate(&ir, &options_for(manifest, &source, out)).unwrap();
    let plan = writer::plan(&root.join(out), &files).unwrap();
    assert!(
        plan.changes.is_empty(),
        "generated-example/ is stale; run `cargo run -p gqlauto -- generate model-specs/blog.yaml --out generated-example`\n{}",
        writer::diff(&plan)
    );
}

#[test]
fn generation_is_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in ["blog", "shop", "everything", "saas"] {
        let manifest = Path::new("model-specs").join(format!("{name}.yaml"));
        let source = std::fs::read_to_string(root.join(&manifest)).unwrap();
        let run = || {
            let ir = check_source("m", source.clone(), Format::Yaml).ir.unwrap();
            generate(&ir, &options_for(&manifest, &source, Path::new("out"))).unwrap()
        };
        assert_eq!(run(), run(), "{name}: two generations differ");
    }
}
