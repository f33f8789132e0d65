//! `gqlauto diff`: reads both sides (SDL files, manifests, or a manifest at a git revision) and prints
//! the graded changes.

use std::path::Path;
use std::process::Command;

use super::common::exit;
use crate::api::{check_source, DiagFormat};
use crate::diff::{self, Level, Policy, Side};
use crate::manifest::Format;

/// How the change list is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Grouped by criticality, for people.
    Human,
    /// `{"changes": [...], "summary": {...}}`, for machines.
    Json,
}

/// What `gqlauto diff` was asked.
#[derive(Debug, Clone)]
pub struct DiffRequest<'a> {
    /// The old side; `None` with `base` set means "NEW at revision `base`".
    pub old: Option<&'a Path>,
    pub new: &'a Path,
    pub base: Option<&'a str>,
    pub format: ReportFormat,
    pub fail_on: Level,
    pub policy: Policy,
}

/// A side that could not be read; printed as is, exit 2.
struct SideError(String);

/// `gqlauto diff`: 0 when nothing reaches `fail_on`, 1 when something does, 2 on error.
pub fn diff(req: &DiffRequest) -> u8 {
    let sides = (|| {
        let new_text = std::fs::read_to_string(req.new).map_err(|e| SideError(format!("error: cannot read {}: {e}", req.new.display())))?;
        let (old_name, old_text) = match (req.old, req.base) {
            (Some(old), None) => (
                old.display().to_string(),
                std::fs::read_to_string(old).map_err(|e| SideError(format!("error: cannot read {}: {e}", old.display())))?,
            ),
            (None, Some(rev)) => (format!("{rev}:{}", req.new.display()), at_revision(req.new, rev)?),
            _ => return Err(SideError("error: give two files (OLD NEW), or one file and `--base REV`".into())),
        };
        let old = side(&old_name, old_text, req.new)?;
        let new = side(&req.new.display().to_string(), new_text, req.new)?;
        Ok((old, new))
    })();
    let (old, new) = match sides {
        Ok(s) => s,
        Err(SideError(message)) => {
            eprintln!("{message}");
            return exit::USAGE;
        }
    };
    let changes = req.policy.apply(diff::compare(&old, &new));
    print!(
        "{}",
        match req.format {
            ReportFormat::Human => diff::render_human(&changes),
            ReportFormat::Json => diff::render_json(&changes),
        }
    );
    diff::exit_code(&changes, req.fail_on)
}

/// Reads one side: SDL by its extension, otherwise a manifest (validated; its SDL is derived in memory).
/// `kind_of` decides the format for a side read from git, which has no path of its own.
fn side(name: &str, text: String, kind_of: &Path) -> Result<Side, SideError> {
    let path = Path::new(name.rsplit_once(':').map_or(name, |(_, p)| p));
    let ext_path = if path.extension().is_some() { path } else { kind_of };
    if matches!(ext_path.extension().and_then(|e| e.to_str()), Some("graphql" | "gql" | "graphqls")) {
        return diff::parse_sdl(&text)
            .map(Side::Sdl)
            .map_err(|e| SideError(format!("{name}:{}:{}: error: {}", e.line, e.column, e.message)));
    }
    let format = Format::from_path(ext_path)
        .ok_or_else(|| SideError(format!("error: {name}: give a GraphQL schema (.graphql, .gql) or a manifest (.yaml, .yml, .json)")))?;
    let checked = check_source(name, text, format);
    match checked.ir {
        Some(ir) => Ok(Side::manifest(ir)),
        None => Err(SideError(format!(
            "{}error: {name} is not a valid manifest; fix it or compare another revision",
            checked.render(DiagFormat::Human)
        ))),
    }
}

/// The file's contents at a git revision (`git show REV:./file`, run in the file's directory).
fn at_revision(path: &Path, rev: &str) -> Result<String, SideError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file = path.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .arg("show")
        .arg(format!("{rev}:./{file}"))
        .output()
        .map_err(|e| SideError(format!("error: cannot run git to read {} at {rev}: {e}", path.display())))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(SideError(format!("error: cannot read {} at revision `{rev}`: {}", path.display(), why.trim())));
    }
    String::from_utf8(out.stdout).map_err(|_| SideError(format!("error: {} at {rev} is not UTF-8", path.display())))
}
