//! The command layer: the only code besides [`crate::writer`] that touches the file system.

pub mod diff;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::codegen::{self, FileSet, Options};
use crate::diag::{render_report, render_short, Diagnostic};
use crate::ir::{validate, Ir};
use crate::manifest::{load_str, Format};
use crate::writer;

/// Process exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    /// Validation errors, or `--check` found the crate stale.
    pub const INVALID: u8 = 1;
    /// Bad usage or an I/O failure.
    pub const USAGE: u8 = 2;
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagFormat {
    /// A readable report quoting the source line.
    Human,
    /// One `file:line:col: CODE: message` line each.
    Short,
}

/// A manifest read and validated.
pub struct Checked {
    /// The path as the user gave it, for messages.
    pub display: String,
    pub source: String,
    pub ir: Option<Ir>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn render(&self, format: DiagFormat) -> String {
        match format {
            DiagFormat::Human => render_report(&self.display, &self.source, &self.diagnostics),
            DiagFormat::Short => render_short(&self.display, &self.diagnostics),
        }
    }
}

/// An error that ends a command with exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

/// Validates manifest text. Pure: used by `check_file` and by tests.
pub fn check_source(display: &str, source: String, format: Format) -> Checked {
    let loaded = load_str(&source, format);
    let mut diagnostics = loaded.diagnostics;
    let ir = loaded.raw.and_then(|raw| {
        let (ir, diags) = validate(&raw, &loaded.spans);
        diagnostics.extend(diags);
        ir
    });
    diagnostics.sort_by_key(|d| d.span.map(|s| (s.line, s.col)));
    Checked { display: display.to_string(), source, ir, diagnostics }
}

/// Reads and validates a manifest file.
pub fn check_file(path: &Path) -> Result<Checked, UsageError> {
    let format = Format::from_path(path).ok_or_else(|| UsageError(format!("{}: manifests end in .yaml, .yml or .json", path.display())))?;
    let source = std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    Ok(check_source(&path.display().to_string(), source, format))
}

/// Generation options for a manifest rendered into `out`.
pub fn options_for(manifest: &Path, source: &str, out: &Path) -> Options {
    Options {
        manifest_path: writer::relative_path(manifest, out),
        manifest_sha256: format!("{:x}", sha2::Sha256::digest(source.as_bytes())),
    }
}

/// Validates and renders a manifest into its file set. `Err` carries the exit code to use.
pub fn generate_files(manifest: &Path, out: &Path, format: DiagFormat) -> Result<FileSet, u8> {
    let checked = check_file(manifest).map_err(report_usage)?;
    if !checked.diagnostics.is_empty() {
        eprint!("{}", checked.render(format));
    }
    let Some(ir) = checked.ir else { return Err(exit::INVALID) };
    codegen::generate(&ir, &options_for(manifest, &checked.source, out)).map_err(|e| {
        eprintln!("error: internal generator error in {e}");
        exit::USAGE
    })
}

fn report_usage(e: UsageError) -> u8 {
    eprintln!("error: {}", e.0);
    exit::USAGE
}

/// `gqlauto check`.
pub fn check(manifest: &Path, format: DiagFormat) -> u8 {
    match check_file(manifest) {
        Err(e) => report_usage(e),
        Ok(checked) => {
            if !checked.diagnostics.is_empty() {
                eprint!("{}", checked.render(format));
            }
            match &checked.ir {
                Some(ir) => {
                    println!("{}: ok ({} models)", checked.display, ir.models.len());
                    exit::OK
                }
                None => exit::INVALID,
            }
        }
    }
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
    exit::OK
}

/// The starter manifest `init` writes.
pub const STARTER: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../templates/init/gqlauto.yaml"));

/// `gqlauto init`.
pub fn init(dir: &Path) -> u8 {
    let path: PathBuf = dir.join("gqlauto.yaml");
    if let Err(e) = std::fs::create_dir_all(dir) {
        return report_usage(UsageError(format!("cannot create {}: {e}", dir.display())));
    }
    // `create_new` refuses atomically if the file exists, even if it appeared a moment ago.
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path);
    match file {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            report_usage(UsageError(format!("{} already exists; gqlauto init never overwrites a manifest", path.display())))
        }
        Err(e) => report_usage(UsageError(format!("cannot create {}: {e}", path.display()))),
        Ok(mut f) => match f.write_all(STARTER.as_bytes()) {
            Err(e) => report_usage(UsageError(format!("cannot write {}: {e}", path.display()))),
            Ok(()) => {
                println!("wrote {}", path.display());
                println!("next: gqlauto generate {} --out {}", path.display(), dir.join("server").display());
                exit::OK
            }
        },
    }
}
