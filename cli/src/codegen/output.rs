//! What generation produces, and what it needs besides the IR: the crate's files with their
//! owners, and the options a generation runs with.

use std::collections::BTreeMap;

use crate::ir::Ir;

/// Who owns a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// gqlauto: rewritten on every generation, listed in the stamp file.
    Generator,
    /// The user: written only when missing, never overwritten.
    User,
}

/// One output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub contents: String,
    pub owner: Owner,
}

/// Output files by crate-relative path, `/`-separated. Ordered, so iteration is deterministic.
pub type FileSet = BTreeMap<String, GeneratedFile>;

/// What generation needs besides the IR.
#[derive(Debug, Clone)]
pub struct Options {
    /// The manifest path as written in headers and the regeneration command, relative to the
    /// output directory (so it is the same on every machine).
    pub manifest_path: String,
    /// Hex SHA-256 of the manifest source, recorded in the stamp file.
    pub manifest_sha256: String,
    /// The manifest source, kept in the stamp file so the next generation can migrate from it.
    pub manifest_source: String,
    /// What an earlier generation left in the output directory; `None` for a first generation.
    pub history: Option<History>,
}

/// An earlier generation: the manifest it was made from and the migrations it wrote.
#[derive(Debug, Clone)]
pub struct History {
    pub previous: Ir,
    /// Every migration file already written (`migrations/0001_initial/up.sql` → contents). They are
    /// kept as they are; a changed manifest adds a migration after them.
    pub migrations: BTreeMap<String, String>,
    /// The highest migration number in each migrations directory, including migrations the user
    /// wrote, so a new one never takes a number already used.
    pub last_number: BTreeMap<String, u32>,
}
