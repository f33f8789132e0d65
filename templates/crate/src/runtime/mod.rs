//! Runtime shared by every model: configuration, database, errors, request context, conversions,
//! the read engine (filters, orderings, cursors, batched relations, aggregates), the write engine
//! (checks, nested writes, upserts, bulk writes), metrics and the
//! HTTP server. Written once per crate, so per-model modules stay short.

pub mod access;
pub mod api;
pub mod auth;
pub mod batch;
pub mod budget;
pub mod cache;
pub mod check;
pub mod config;
pub mod context;
pub mod convert;
pub mod db;
pub mod error;
pub mod filter;
pub mod guard;
pub mod input;
pub mod keys;
pub mod metrics;
pub mod model;
pub mod order;
pub mod paging;
pub mod plan;
pub mod postgres;
pub mod read;
pub mod record;
pub mod scalars;
pub mod secret;
pub mod select;
pub mod server;
pub mod sql;
pub mod write;
