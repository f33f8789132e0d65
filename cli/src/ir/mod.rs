//! Stage two: the typed IR, the one source of truth every generator reads.
//!
//! Every name is resolved, every relation linked, and every field's Rust, Diesel, SQL and GraphQL
//! type decided here, so later stages only arrange strings.

mod defaults;
mod model;
pub mod names;
pub mod rules;
mod types;
mod validate;

pub use model::{
    ApiSettings, AuthSettings, CheckOperand, DefaultValue, Field, Grant, Index, Ir, JoinScope, JoinTable, ManyToMany, Model, ModelCheck,
    ParentLink, Permission, Reverse, ReverseKind, Role, Rules, Storage,
};
pub use types::{Comparison, FieldKind, OnDelete, PkKind, ScalarKind, TextFormat, Types};
pub use validate::validate;
