//! `cargo bench -p gqlauto`: time of load → validate → generate, in memory, for each example
//! manifest and for a synthetic 200-model manifest; and of `diff` between two versions of the
//! synthetic manifest, as manifests (API and database) and as SDL. Prints figures; asserts nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use gqlauto::api::{check_source, options_for};
use gqlauto::codegen::generate;
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

/// The median of timed runs of `work` (at least 5, up to 3 s or 200 runs), and the run count.
fn median_of(mut work: impl FnMut()) -> (Duration, usize) {
    let mut runs = Vec::new();
    let start = Instant::now();
    while runs.len() < 5 || (start.elapsed() < Duration::from_secs(3) && runs.len() < 200) {
        let t = Instant::now();
        work();
        runs.push(t.elapsed());
    }
    runs.sort();
    (runs[runs.len() / 2], runs.len())
}

/// `diff` between the synthetic manifest and an edit of it touching every tenth model.
fn measure_diff(models: usize) {
    use gqlauto::diff::{compare, parse_sdl, Side};
    let old = synthetic(models);
    let new = old
        .replace("name: { type: string, max_length: 80, unique: true }", "name: { type: string, max_length: 60, unique: true }")
        .replacen("      data: { type: json, nullable: true }\n", "", models / 10);
    let ir = |s: &str| check_source("bench.yaml", s.to_string(), Format::Yaml).ir.expect("valid manifest");
    let sdl = |s: &str| {
        generate(&ir(s), &options_for(Path::new("bench.yaml"), s, Path::new("out"))).expect("generates")["schema.graphql"].contents.clone()
    };
    let (old_sdl, new_sdl) = (sdl(&old), sdl(&new));
    let changes = compare(&Side::manifest(ir(&old)), &Side::manifest(ir(&new))).len();
    let (manifests, runs) = median_of(|| {
        std::hint::black_box(compare(&Side::manifest(ir(&old)), &Side::manifest(ir(&new))));
    });
    println!(
        "diff manifests ({models} models, API + database, incl. validation)   {changes:>5} changes   median {:>8.2} ms   ({runs} runs)",
        manifests.as_secs_f64() * 1e3
    );
    let sdl_changes = compare(&Side::Sdl(parse_sdl(&old_sdl).unwrap()), &Side::Sdl(parse_sdl(&new_sdl).unwrap())).len();
    let (sdls, runs) = median_of(|| {
        std::hint::black_box(compare(&Side::Sdl(parse_sdl(&old_sdl).unwrap()), &Side::Sdl(parse_sdl(&new_sdl).unwrap())));
    });
    println!(
        "diff SDL ({} KiB each side, parse + compare)               {sdl_changes:>5} changes   median {:>8.2} ms   ({runs} runs)",
        old_sdl.len() / 1024,
        sdls.as_secs_f64() * 1e3
    );
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
    let (median, runs) = median_of(|| {
        std::hint::black_box(once());
    });
    println!(
        "{name:<24} {:>4} files {lines:>7} lines {:>6} KiB   median {:>8.2} ms   ({runs} runs)",
        files.len(),
        bytes / 1024,
        median.as_secs_f64() * 1e3
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
    measure_diff(200);
}
