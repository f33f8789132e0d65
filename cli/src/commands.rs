//! The command layer: the only code besides [`crate::writer`] that touches the file system.

pub mod diff;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::codegen::{self, FileSet, History, Options};
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
        render_diagnostics(&self.display, &self.source, &self.diagnostics, format)
    }
}

/// Diagnostics about the text `source` of `file`, in `format`.
fn render_diagnostics(file: &str, source: &str, diags: &[Diagnostic], format: DiagFormat) -> String {
    match format {
        DiagFormat::Human => render_report(file, source, diags),
        DiagFormat::Short => render_short(file, diags),
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
        manifest_source: source.to_string(),
        history: None,
    }
}

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

fn report_usage(e: UsageError) -> u8 {
    eprintln!("error: {}", e.0);
    exit::USAGE
}

/// `gqlauto check`.
pub fn check(manifest: &Path, format: DiagFormat, queries: &[PathBuf]) -> u8 {
    match check_file(manifest) {
        Err(e) => report_usage(e),
        Ok(checked) => {
            if !checked.diagnostics.is_empty() {
                eprint!("{}", checked.render(format));
            }
            let Some(ir) = &checked.ir else { return exit::INVALID };
            println!("{}: ok ({} models)", checked.display, ir.models.len());
            let mut code = exit::OK;
            for path in queries {
                let text = match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(e) => return report_usage(UsageError(format!("cannot read {}: {e}", path.display()))),
                };
                let file = path.display().to_string();
                let (diags, ok) = match crate::advice::for_queries(ir, &text) {
                    Ok(diags) => (diags, true),
                    Err(error) => (vec![error], false),
                };
                if !diags.is_empty() {
                    eprint!("{}", render_diagnostics(&file, &text, &diags, format));
                }
                if !ok {
                    code = exit::INVALID;
                }
            }
            code
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

/// The starter manifest `init` writes.
pub const STARTER: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../templates/init/gqlauto.yaml"));

/// Where `init` reads a Django project from.
pub enum DjangoSource<'a> {
    Project(crate::django::Project<'a>),
    Dump(&'a Path),
}

/// `gqlauto init --from-django` / `--from-django-dump`: writes the imported manifest, prints every
/// lossy mapping as a warning. Nothing is written unless the manifest validates.
pub fn init_from_django(dir: &Path, source: &DjangoSource) -> u8 {
    let dump = match source {
        DjangoSource::Project(p) => crate::django::export(p),
        DjangoSource::Dump(path) => std::fs::read_to_string(path)
            .map_err(|e| crate::django::ImportError(format!("cannot read {}: {e}", path.display())))
            .and_then(|text| crate::django::parse_dump(&text, &path.display().to_string())),
    };
    let dump = match dump {
        Ok(d) => d,
        Err(e) => return report_usage(UsageError(e.0)),
    };
    // Named after the directory, which need not exist yet.
    let name = dir
        .canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| "api".into());
    let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let lowered = crate::django::lower(&dump, name.trim_matches('-'));
    for w in &lowered.warnings {
        eprintln!("warning: {}: {}", w.at, w.message);
    }
    let path = dir.join("gqlauto.yaml");
    let checked = check_source(&path.display().to_string(), lowered.yaml, Format::Yaml);
    if checked.ir.is_none() {
        eprint!("{}", checked.render(DiagFormat::Human));
        eprintln!("error: the imported manifest does not validate; nothing was written");
        return exit::INVALID;
    }
    if let Err(e) = write_new_manifest(&path, &checked.source) {
        return report_usage(e);
    }
    println!(
        "wrote {}: {} models, {} fields from Django {} ({} warnings)",
        path.display(),
        lowered.models,
        lowered.fields,
        dump.django,
        lowered.warnings.len()
    );
    exit::OK
}

/// Writes a manifest at `path`, creating its directory; refuses if the file exists.
fn write_new_manifest(path: &Path, text: &str) -> Result<(), UsageError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| UsageError(format!("cannot create {}: {e}", dir.display())))?;
    }
    // `create_new` refuses atomically if the file exists, even if it appeared a moment ago.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            UsageError(format!("{} already exists; gqlauto init never overwrites a manifest", path.display()))
        }
        _ => UsageError(format!("cannot create {}: {e}", path.display())),
    })?;
    file.write_all(text.as_bytes()).map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))
}

/// `gqlauto init`.
pub fn init(dir: &Path) -> u8 {
    let path: PathBuf = dir.join("gqlauto.yaml");
    if let Err(e) = write_new_manifest(&path, STARTER) {
        return report_usage(e);
    }
    println!("wrote {}", path.display());
    println!("next: gqlauto generate {} --out {}", path.display(), dir.join("server").display());
    exit::OK
}
