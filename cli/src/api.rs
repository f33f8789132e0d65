//! The library's pure entry points: a manifest's text validated into the IR with its diagnostics,
//! and the options a generation runs with. Tests, benchmarks and the commands use them; nothing
//! here touches the file system.

use std::path::Path;

use sha2::Digest;

use crate::codegen::Options;
use crate::diag::{render_report, render_short, Diagnostic};
use crate::ir::{validate, Ir};
use crate::manifest::{load_str, Format};

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
pub fn render_diagnostics(file: &str, source: &str, diags: &[Diagnostic], format: DiagFormat) -> String {
    match format {
        DiagFormat::Human => render_report(file, source, diags),
        DiagFormat::Short => render_short(file, diags),
    }
}

/// Validates manifest text.
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

/// Generation options for a manifest rendered into `out`.
pub fn options_for(manifest: &Path, source: &str, out: &Path) -> Options {
    Options {
        manifest_path: crate::writer::relative_path(manifest, out),
        manifest_sha256: format!("{:x}", sha2::Sha256::digest(source.as_bytes())),
        manifest_source: source.to_string(),
        history: None,
    }
}
