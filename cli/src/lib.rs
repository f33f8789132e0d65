//! gqlauto: compile a data-model manifest into a GraphQL server crate.
//!
//! The pipeline is load → validate → view-models → templates → writer:
//! [`manifest`] reads the file with spans, [`ir`] validates it into the typed IR, [`codegen`]
//! renders the whole crate into memory, and [`writer`] puts it on disk. Only [`commands`] and
//! [`writer`] touch the file system.

pub mod advice;
pub mod api;
pub mod codegen;
pub mod commands;
pub mod diag;
pub mod diff;
pub mod django;
pub mod formats;
pub mod ir;
pub mod manifest;
pub mod stamp;
pub mod synth;
pub mod writer;

/// This generator's version, recorded in the stamp file of every generated crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
