//! The stamp file every generated crate carries: which generator and manifest produced it, which
//! files gqlauto owns there (it may rewrite or delete those; everything else is the user's), and
//! the manifest source itself, from which the next generation computes its migration.
//!
//! Its format lives here only: [`Stamp::render`] writes it, [`owned_files`] and
//! [`manifest_source`] read it back. It is TOML, written and read by hand to keep its layout fixed.

use std::collections::BTreeSet;

/// The stamp's path in a generated crate.
pub const FILE: &str = "gqlauto.stamp";

/// What a stamp records.
pub struct Stamp<'a> {
    /// The generator's version.
    pub version: &'a str,
    /// The manifest's path relative to the crate.
    pub manifest: &'a str,
    /// Hex SHA-256 of the manifest source.
    pub manifest_sha256: &'a str,
    /// The crate-relative paths of the files gqlauto owns, in generation order.
    pub files: &'a [String],
    /// The manifest source, verbatim.
    pub manifest_source: &'a str,
}

const FILES_START: &str = "files = [";

const SNAPSHOT_START: &str = "manifest_snapshot = \"\"\"\n";

impl Stamp<'_> {
    /// The stamp file's text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Written by gqlauto on every generation. It records what produced this crate, and which files\n\
             # gqlauto owns (it may rewrite or delete those; everything else here is yours).\n",
        );
        out.push_str(&format!("generator = \"gqlauto {}\"\n", self.version));
        out.push_str(&format!("manifest = \"{}\"\n", self.manifest));
        out.push_str(&format!("manifest_sha256 = \"{}\"\n", self.manifest_sha256));
        out.push_str(FILES_START);
        out.push('\n');
        for f in self.files {
            out.push_str(&format!("    \"{f}\",\n"));
        }
        out.push_str("]\n");
        out.push_str(
            "# The manifest this crate was generated from. The next generation compares the manifest with it\n\
             # and writes a migration for what changed in the database.\n",
        );
        out.push_str(SNAPSHOT_START);
        out.push_str(&snapshot_body(self.manifest_source));
        out.push_str("\"\"\"\n");
        out
    }
}

/// The files a stamp lists as gqlauto's (its `files = [ … ]` block).
pub fn owned_files(stamp: &str) -> BTreeSet<String> {
    stamp
        .lines()
        .skip_while(|l| !l.starts_with(FILES_START))
        .take_while(|l| !l.starts_with(']'))
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"').and_then(|l| l.strip_suffix("\",")))
        .map(str::to_string)
        .collect()
}

/// The manifest source as the body of the stamp's TOML multi-line string: `\\`, `"` and carriage
/// returns escaped, so the text holds no `"""` and no line of it can be mistaken for a stamp key.
fn snapshot_body(source: &str) -> String {
    source.replace('\\', "\\\\").replace('"', "\\\"").replace('\r', "\\r")
}

/// The manifest source a stamp recorded, if it recorded one.
pub fn manifest_source(stamp: &str) -> Option<String> {
    let start = stamp.find(SNAPSHOT_START)? + SNAPSHOT_START.len();
    let body = &stamp[start..];
    let body = &body[..body.find("\"\"\"")?];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => {}
            },
            (c, false) => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_what_it_recorded() {
        for source in ["plain: yes\n", "quotes: \"\"\" and \\\" \\n\r\nend", "", "trailing \\"] {
            let files = ["a".to_string(), "src/b.rs".to_string()];
            let text =
                Stamp { version: "1.2.3", manifest: "../m.yaml", manifest_sha256: "00ff", files: &files, manifest_source: source }.render();
            assert_eq!(manifest_source(&text).as_deref(), Some(source));
            assert_eq!(owned_files(&text).into_iter().collect::<Vec<_>>(), ["a", "src/b.rs"]);
            assert!(text.contains("generator = \"gqlauto 1.2.3\"\nmanifest = \"../m.yaml\"\nmanifest_sha256 = \"00ff\"\n"), "{text}");
        }
    }

    #[test]
    fn a_stamp_without_a_manifest_records_none() {
        assert_eq!(manifest_source("generator = \"gqlauto 0.0.1\"\nfiles = [\n]\n"), None);
        assert!(owned_files("generator = \"x\"\n").is_empty());
    }
}
