//! Rendering a validated IR into the files of a crate, in memory.
//!
//! [`generate`] is a pure function: the same IR and options give byte-identical output on every
//! run and machine. Writing, `--check` and the snapshot tests all consume the [`FileSet`] it returns.

mod access_test;
mod aggregate_view;
mod common;
pub mod crate_view;
pub mod dialect;
mod imports;
pub mod migrate;
mod model_table;
mod output;
mod read_view;
mod render;
pub mod roles;
pub mod sdl;
mod smoke;
mod sql;
pub mod tables;
pub mod view;
mod write_values;
mod write_view;

pub use output::{FileSet, GeneratedFile, History, Options, Owner};
pub use render::RenderError;

use crate::ir::Ir;

/// Renders the whole crate.
pub fn generate(ir: &Ir, options: &Options) -> Result<FileSet, RenderError> {
    render::render_crate(ir, options)
}
