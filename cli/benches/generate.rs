//! `cargo bench -p gqlauto`: time of load → validate → generate, in memory, for each example
//! manifest and for a synthetic 200-model manifest. Prints figures; asserts nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use gqlauto::codegen::generate;
use gqlauto::commands::{check_source, options_for};
use gqlauto::manifest::Format;

/// A manifest of `models` models, each with a spread of field types and a foreign key to the previous.
fn synthetic(models: usize) -> String {
    let mut m = String::from("version: 1\nname: synthetic\nmodels:\n");
    for i in 0..models {
        m.push_str(&format!(
            "  Model{i}:\n    fields:\n      id: auto\n      name: {{ type: string, max_length: 80, unique: true }}\n      body: text\n      \
             amount: {{ type: decimal, max_digits: 10, decimal_places: 2 }}\n      count: {{ type: integer, default: 0 }}\n      \
             active: {{ type: boolean, default: true }}\n      created_at: {{ type: datetime, default: now }}\n      \
             kind: {{ type: enum, values: [a, b, c], default: a }}\n      data: {{ type: json, nullable: true }}\n"
        ));
        if i > 0 {
            m.push_str(&format!("      parent: {{ type: foreign_key, to: Model{}, on_delete: cascade, related_name: children }}\n", i - 1));
        }
        m.push_str("    ordering: [-created_at]\n");
    }
    m
}

fn measure(name: &str, source: &str) {
    let once = || {
        let checked = check_source("bench.yaml", source.to_string(), Format::Yaml);
        let ir = checked.ir.expect("valid manifest");
        generate(&ir, &options_for(Path::new("bench.yaml"), source, Path::new("out"))).expect("generates")
    };
    let files = once();
    let lines: usize = files.values().map(|f| f.contents.lines().count()).sum();
    let bytes: usize = files.values().map(|f| f.contents.len()).sum();
    let mut runs = Vec::new();
    let start = Instant::now();
    while runs.len() < 5 || (start.elapsed() < Duration::from_secs(3) && runs.len() < 200) {
        let t = Instant::now();
        std::hint::black_box(once());
        runs.push(t.elapsed());
    }
    runs.sort();
    let median = runs[runs.len() / 2];
    println!(
        "{name:<24} {:>4} files {lines:>7} lines {:>6} KiB   median {:>8.2} ms   min {:>8.2} ms   ({} runs)",
        files.len(),
        bytes / 1024,
        median.as_secs_f64() * 1e3,
        runs[0].as_secs_f64() * 1e3,
        runs.len()
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model-specs");
    let mut specs: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    specs.sort();
    for spec in specs {
        measure(&spec.file_name().unwrap().to_string_lossy(), &std::fs::read_to_string(&spec).unwrap());
    }
    measure("synthetic (200 models)", &synthetic(200));
}
