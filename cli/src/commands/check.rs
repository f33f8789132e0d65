//! `gqlauto check`: validates a manifest, and with `--queries` advises on the indexes clients'
//! operations need.

use std::path::{Path, PathBuf};

use super::common::{check_file, exit, report_usage, UsageError};
use crate::api::{render_diagnostics, DiagFormat};

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
