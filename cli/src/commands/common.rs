//! What the commands share: exit codes, usage errors and reading a manifest file.

use std::path::Path;

use crate::api::{check_source, Checked};
use crate::manifest::Format;

/// Process exit codes.
pub mod exit {
    pub const OK: u8 = 0;
    /// Validation errors, or `--check` found the crate stale.
    pub const INVALID: u8 = 1;
    /// Bad usage or an I/O failure.
    pub const USAGE: u8 = 2;
}

/// An error that ends a command with exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

/// Reads and validates a manifest file.
pub fn check_file(path: &Path) -> Result<Checked, UsageError> {
    let format = Format::from_path(path).ok_or_else(|| UsageError(format!("{}: manifests end in .yaml, .yml or .json", path.display())))?;
    let source = std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    Ok(check_source(&path.display().to_string(), source, format))
}

/// Prints a usage error and gives its exit code.
pub fn report_usage(e: UsageError) -> u8 {
    eprintln!("error: {}", e.0);
    exit::USAGE
}
