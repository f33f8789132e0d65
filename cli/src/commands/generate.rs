//! `gqlauto generate`: renders the crate, compares it with what is on disk, writes it (or, with
//! `--check`, shows the difference); a changed manifest adds a migration from the one recorded in
//! the crate's stamp.

use std::io::Write as _;
use std::path::Path;

use super::common::{check_file, exit, report_usage, UsageError};
use crate::api::{check_source, options_for, DiagFormat};
use crate::codegen::{self, FileSet, History, Options};
use crate::manifest::Format;
use crate::writer;

/// Validates and renders a manifest into its file set. `Err` carries the exit code to use.
pub fn generate_files(manifest: &Path, out: &Path, format: DiagFormat) -> Result<FileSet, u8> {
    let checked = check_file(manifest).map_err(report_usage)?;
    if !checked.diagnostics.is_empty() {
        eprint!("{}", checked.render(format));
    }
    let Some(ir) = checked.ir else { return Err(exit::INVALID) };
    let history = history(out, format).map_err(report_usage)?;
    let options = Options { history, ..options_for(manifest, &checked.source, out) };
    codegen::generate(&ir, &options).map_err(|e| {
        eprintln!("error: internal generator error in {e}");
        exit::USAGE
    })
}

/// What an earlier generation left in `out`: the manifest it recorded and the migrations it wrote.
/// `None` for a first generation, or a stamp from before snapshots were recorded.
fn history(out: &Path, format: DiagFormat) -> Result<Option<History>, UsageError> {
    let stamp_path = out.join(crate::stamp::FILE);
    let stamp = match std::fs::read_to_string(&stamp_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(UsageError(format!("cannot read {}: {e}", stamp_path.display()))),
    };
    let Some(snapshot) = crate::stamp::manifest_source(&stamp) else { return Ok(None) };
    let display = format!("{} (manifest_snapshot)", stamp_path.display());
    // The snapshot is the source as written, YAML or JSON; a JSON manifest is an object.
    let source_format = if snapshot.trim_start().starts_with('{') { Format::Json } else { Format::Yaml };
    let checked = check_source(&display, snapshot, source_format);
    let Some(previous) = checked.ir else {
        return Err(UsageError(format!(
            "the manifest recorded in {} does not validate, so the migration from it cannot be computed:\n{}",
            stamp_path.display(),
            checked.render(format)
        )));
    };
    let mut migrations = std::collections::BTreeMap::new();
    let dirs = crate::codegen::dialect::Dialect::ALL.map(|d| d.migrations_dir());
    for path in crate::stamp::owned_files(&stamp).into_iter().filter(|p| dirs.iter().any(|d| p.starts_with(&format!("{d}/")))) {
        match std::fs::read_to_string(out.join(&path)) {
            Ok(text) => {
                migrations.insert(path, text);
            }
            // A migration the user deleted stays deleted.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(UsageError(format!("cannot read {}: {e}", out.join(&path).display()))),
        }
    }
    // Directories named `<number>_<name>`, whoever wrote them.
    let last_number = dirs
        .iter()
        .map(|d| {
            let last = std::fs::read_dir(out.join(d))
                .map(|dir| dir.filter_map(|e| e.ok()?.file_name().to_str()?.split('_').next()?.parse::<u32>().ok()).max().unwrap_or(0))
                .unwrap_or(0);
            (d.to_string(), last)
        })
        .collect();
    Ok(Some(History { previous, migrations, last_number }))
}

/// `gqlauto generate`, with `check_only` for `--check`.
pub fn generate(manifest: &Path, out: &Path, check_only: bool, format: DiagFormat) -> u8 {
    let files = match generate_files(manifest, out, format) {
        Ok(files) => files,
        Err(code) => return code,
    };
    let plan = match writer::plan(out, &files) {
        Ok(plan) => plan,
        Err(e) => return report_usage(UsageError(e.to_string())),
    };
    if check_only {
        if plan.changes.is_empty() {
            println!("{} is up to date ({} files)", out.display(), plan.unchanged);
            return exit::OK;
        }
        let _ = std::io::stdout().write_all(writer::diff(&plan).as_bytes());
        eprintln!(
            "{} is stale: {} file(s) differ; run `gqlauto generate {} --out {}`",
            out.display(),
            plan.changes.len(),
            manifest.display(),
            out.display()
        );
        return exit::INVALID;
    }
    if let Err(e) = writer::apply(out, &plan) {
        return report_usage(UsageError(e.to_string()));
    }
    println!("generated {} in {}: {} written, {} unchanged", files.len(), out.display(), plan.changes.len(), plan.unchanged);
    for change in &plan.changes {
        if let writer::Change::Create { path, .. } = change {
            if let Some(dir) = path.strip_prefix("migrations/").and_then(|p| p.strip_suffix("/up.sql")).filter(|d| !d.ends_with("_initial"))
            {
                println!(
                    "new migration {}: review it, and run `gqlauto diff --base <revision> {}` to see what it does to stored rows",
                    out.join("migrations").join(dir).display(),
                    manifest.display()
                );
            }
        }
    }
    exit::OK
}
