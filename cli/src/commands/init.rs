//! `gqlauto init`: a starter manifest, or one imported from a Django project.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::common::{exit, report_usage, UsageError};
use crate::api::{check_source, DiagFormat};
use crate::manifest::Format;

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
