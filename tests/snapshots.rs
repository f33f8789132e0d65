//! Snapshots of every file generated for every example manifest, and of the set of file names.
//! Review a change here as you would review the code it generates.

use std::path::{Path, PathBuf};

use gqlauto::api::{check_source, options_for};
use gqlauto::codegen::{generate, Owner};
use gqlauto::manifest::Format;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn examples() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(workspace().join("model-specs")).unwrap().map(|e| e.unwrap().path()).collect();
    specs.sort();
    specs
}

#[test]
fn every_generated_file_of_every_example() {
    let specs = examples();
    assert!(specs.len() >= 3, "model-specs/ should hold at least three examples");
    let mut runtime = std::collections::BTreeMap::new();
    for spec in specs {
        let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&spec).unwrap();
        let relative = Path::new("model-specs").join(spec.file_name().unwrap());
        let checked = check_source(&relative.display().to_string(), source.clone(), Format::from_path(&spec).unwrap());
        let Some(ir) = &checked.ir else { panic!("{}", checked.render(gqlauto::api::DiagFormat::Human)) };
        // Paths as they would be when generating into `generated/<stem>` from the workspace root.
        let options = options_for(&relative, &source, &Path::new("generated").join(&stem));
        let files = generate(ir, &options).expect("generation succeeds");
        let listing: String = files
            .iter()
            .map(|(path, f)| format!("{path}{}\n", if f.owner == Owner::User { "  (user-owned: written once)" } else { "" }))
            .collect();
        insta::assert_snapshot!(format!("{stem}__files"), listing);
        for (path, file) in &files {
            // The runtime is copied, not rendered: one snapshot, and the same bytes in every crate.
            if path.starts_with("src/runtime/") {
                let first = runtime.entry(path.clone()).or_insert_with(|| file.contents.clone());
                assert!(*first == file.contents, "{stem}: {path} differs from the other examples' copy");
                continue;
            }
            insta::assert_snapshot!(format!("{stem}__{}", path.replace(['/', '.'], "_")), &file.contents);
        }
    }
    assert!(runtime.len() >= 20, "the runtime's files are generated");
    for (path, contents) in &runtime {
        insta::assert_snapshot!(format!("runtime__{}", path.replace(['/', '.'], "_")), contents);
    }
}
