//! Your code. gqlauto writes this file once, when it first generates the crate, and never
//! touches it again: extend the schema and the router here.
use axum::Router;
use crate::graphql::ApiSchemaBuilder;
/// Adjusts the schema before it is built: add data, extensions or validation rules.
pub fn extend_schema(builder: ApiSchemaBuilder) -> ApiSchemaBuilder {
    builder
}
/// Adds routes or middleware to the HTTP server.
pub fn extend_router(router: Router) -> Router {
    router
}
