//! Stage one: the manifest as written, with the positions of everything in it.

pub mod load;
pub mod raw;
pub mod spans;

pub use load::{load_str, Format, Loaded};
pub use raw::RawManifest;

/// The JSON Schema of manifests, derived from [`RawManifest`] so it cannot drift from the loader.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawManifest);
    serde_json::to_string_pretty(&schema).expect("a schema serializes")
}
