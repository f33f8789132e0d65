//! Stage one: the manifest as written, with the positions of everything in it.

pub mod load;
pub mod raw;
pub mod spans;

pub use load::{load_str, Format, Loaded};
pub use raw::RawManifest;
