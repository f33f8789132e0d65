//! The command layer: the only code besides [`crate::writer`] that touches the file system. One
//! module per command; what they share is in `common`.

mod check;
mod common;
pub mod diff;
mod generate;
mod init;

pub use check::check;
pub use common::{check_file, exit, UsageError};
pub use generate::{generate, generate_files};
pub use init::{init, init_from_django, DjangoSource, STARTER};
