//! Stage three: view-models. Every decision about the generated code is made in Rust, as ready
//! strings; templates only place them. These are the views the templates see; `crate_view`
//! builds them.

use serde::Serialize;

use super::common::{PlainEnum, Resolver};
use super::read_view::ReadView;
use super::write_view::WriteView;

/// Everything the crate-level templates see.
#[derive(Debug, Serialize)]
pub struct CrateView {
    pub name: String,
    /// The crate name as a Rust path segment (`-` → `_`).
    pub lib_name: String,
    pub description: String,
    /// The description as a TOML string literal, and as `//!` doc lines.
    pub description_toml: String,
    pub description_inner_doc: String,
    /// The description as a Rust string literal.
    pub description_rust: String,
    pub api: crate::ir::ApiSettings,
    pub storage: crate::ir::Storage,
    pub auth: crate::ir::AuthSettings,
    pub models: Vec<ModelView>,
    pub join_tables: Vec<JoinTableView>,
    /// `(table, column, graphqlField)`: how database errors name the offending input field.
    pub column_fields: Vec<(String, String, String)>,
    /// `(constraint name, API field, message literal)` of every `CHECK` constraint.
    pub check_failures: Vec<(String, String, String)>,
}

#[derive(Debug, Serialize)]
pub struct JoinTableView {
    pub table: String,
    pub source_column: String,
    pub source_ident: String,
    /// `#[sql_name = ..]` when the Rust name differs from the column, else empty; likewise `target_sql_name`.
    pub source_sql_name: String,
    pub source_diesel: String,
    pub target_column: String,
    pub target_ident: String,
    pub target_sql_name: String,
    pub target_diesel: String,
}

/// One model, as its two modules and its part of the SQL and SDL need it.
#[derive(Debug, Serialize)]
pub struct ModelView {
    pub name: String,
    pub snake: String,
    pub table: String,
    pub doc: String,
    #[serde(skip)]
    pub description: Option<String>,
    /// The primary key column's name in diesel's `table!`.
    pub pk_ident: String,
    pub columns: Vec<ColumnView>,
    /// Fields of the insert struct, with the expression computing each from the create input.
    /// Resolvers of the object type, root queries and root mutations.
    pub resolvers: Vec<Resolver>,
    pub query_resolvers: Vec<Resolver>,
    pub write: WriteView,
    pub enums: Vec<PlainEnum>,
    /// Filters, orderings, connections and aggregates.
    pub read: ReadView,
    /// The model's static table for the data-driven engine (`runtime::model::Model`).
    pub table_decl: String,
    /// Root field names for the README, e.g. "`post`, `posts`".
    pub api_queries: String,
    pub api_mutations: String,
}

#[derive(Debug, Serialize)]
pub struct ColumnView {
    /// The column's name in diesel's `table!`, with its `#[sql_name]` when that differs.
    pub ident: String,
    pub sql_name: String,
    pub diesel: String,
    pub doc: String,
}
