//! Validation never panics, whatever the manifest; and whatever it accepts, generation renders.
//!
//! Every example manifest is mutated line by line — each line deleted, each value replaced by a
//! few troublesome ones — and every mutant is checked; the valid ones are generated too.

use std::path::Path;

use gqlauto::api::{check_source, options_for};
use gqlauto::codegen::generate;
use gqlauto::manifest::Format;

const REPLACEMENTS: &[&str] = &["", "0", "-1", "true", "[]", "{}", "\"\"", "x", "Post", "__x", "type", "\"a\\\"b\""];

fn mutants(source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for i in 0..lines.len() {
        let mut without = lines.clone();
        without.remove(i);
        out.push(without.join("\n"));
        if let Some((key, _)) = lines[i].split_once(": ") {
            for r in REPLACEMENTS {
                let mut replaced = lines.clone();
                let line = format!("{key}: {r}");
                replaced[i] = &line;
                out.push(replaced.join("\n"));
            }
        }
    }
    out
}

/// Checks every mutant of one manifest; returns how many were checked and how many generated.
fn check_mutants(name: &str, source: &str) -> (usize, usize) {
    let (mut checked, mut generated) = (0, 0);
    for mutant in mutants(source) {
        let result = check_source(name, mutant.clone(), Format::Yaml);
        checked += 1;
        assert!(result.ir.is_some() || result.diagnostics.iter().any(|d| d.is_error()), "rejected without an error:\n{mutant}");
        for d in &result.diagnostics {
            let span = d.span.unwrap_or_else(|| panic!("no location for {d:?} in\n{mutant}"));
            assert!(span.line >= 1 && span.line <= mutant.lines().count().max(1), "{d:?} points outside the file");
        }
        if let Some(ir) = &result.ir {
            generate(ir, &options_for(Path::new(name), &mutant, Path::new("out"))).unwrap_or_else(|e| panic!("{e}\nfor\n{mutant}"));
            generated += 1;
        }
    }
    (checked, generated)
}

#[test]
fn mutated_manifests_never_panic_and_valid_ones_generate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model-specs");
    // One thread per manifest: the mutants are independent.
    let counts: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["blog.yaml", "shop.yaml", "everything.yaml"]
            .into_iter()
            .map(|name| {
                let source = std::fs::read_to_string(root.join(name)).unwrap();
                scope.spawn(move || check_mutants(name, &source))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("no panic")).collect()
    });
    let (checked, generated) = counts.iter().fold((0, 0), |(c, g), (c2, g2)| (c + c2, g + g2));
    println!("{checked} mutants checked, {generated} valid ones generated");
    assert!(checked > 1000 && generated > 50, "{checked} checked, {generated} generated");
}
