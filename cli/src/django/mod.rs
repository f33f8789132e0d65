//! Importing a Django project: the exporter (Python, shipped in the binary) reads the project's
//! models into a versioned dump; [`lower`] turns the dump into a manifest.

pub mod dump;
mod fields;
pub mod lower;
mod models;

use std::path::Path;
use std::process::Command;

pub use lower::{lower, Lowered, Warning};

/// The exporter, a single Python file that needs only Django.
pub const EXPORTER: &str = include_str!("exporter.py");

/// Why a dump could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError(pub String);

/// Reads a dump: the exporter's JSON output, checked for its format and version.
pub fn parse_dump(text: &str, origin: &str) -> Result<dump::Dump, ImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ImportError(format!("{origin}:{}:{}: not JSON: {e}", e.line(), e.column())))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(dump::FORMAT) {
        return Err(ImportError(format!("{origin} is not a gqlauto Django dump (its `format` is not `{}`)", dump::FORMAT)));
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(dump::VERSION) => {}
        other => {
            return Err(ImportError(format!(
                "{origin} is dump version {}; this gqlauto reads version {}: export again with the exporter of this gqlauto",
                other.map_or("?".to_string(), |v| v.to_string()),
                dump::VERSION
            )))
        }
    }
    if let Some(err) = value.get("error") {
        let kind = err.get("kind").and_then(|k| k.as_str()).unwrap_or("error");
        let message = err.get("message").and_then(|m| m.as_str()).unwrap_or("the exporter failed");
        return Err(ImportError(format!("the Django project could not be exported ({kind}): {message}")));
    }
    serde_json::from_value(value).map_err(|e| ImportError(format!("{origin}: not a valid dump: {e}")))
}

/// What to export from a project.
#[derive(Debug, Clone)]
pub struct Project<'a> {
    pub dir: &'a Path,
    pub settings: &'a str,
    /// The interpreter: the project's virtualenv python, or `python3`.
    pub python: &'a str,
    pub apps: Option<&'a str>,
    pub exclude_apps: Option<&'a str>,
}

/// Runs the exporter with the project's interpreter and reads its dump.
pub fn export(project: &Project) -> Result<dump::Dump, ImportError> {
    let script = std::env::temp_dir().join(format!("gqlauto-django-exporter-{}.py", std::process::id()));
    std::fs::write(&script, EXPORTER).map_err(|e| ImportError(format!("cannot write the exporter to {}: {e}", script.display())))?;
    let mut cmd = Command::new(project.python);
    cmd.arg(&script).arg("--project-dir").arg(project.dir).arg("--settings").arg(project.settings);
    if let Some(apps) = project.apps {
        cmd.arg("--apps").arg(apps);
    }
    if let Some(apps) = project.exclude_apps {
        cmd.arg("--exclude-apps").arg(apps);
    }
    let out = cmd.output();
    let _ = std::fs::remove_file(&script);
    let out = out.map_err(|e| {
        ImportError(format!("cannot run the Python interpreter `{}`: {e}; pass the project's own with --python", project.python))
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout.trim().is_empty() {
        // Python itself failed before the exporter could report: show the last line it printed.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(ImportError(format!("the exporter did not run under `{}`: {}", project.python, last.trim())));
    }
    parse_dump(&stdout, "the exporter's output")
}
