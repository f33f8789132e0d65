//! The per-request context: who is asking and within which limits, plus the database handle.
//!
//! Every data-access function takes a [`Ctx`], so permissions, caching, change events, audit and
//! statement counting each hook in at one place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::DataLoader;

pub use crate::runtime::auth::Identity;
use crate::runtime::batch::{Batcher, RelatedQuery};
use crate::runtime::db::{Conn, Db};
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::metrics::RequestStats;
use crate::runtime::sql::{Loadable, Sql};

/// Page-size limits applied to every list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub default_page_size: i64,
    pub max_page_size: i64,
}

impl Limits {
    /// Resolves `limit`/`offset` arguments into a checked `(limit, offset)` pair.
    pub fn page(&self, limit: Option<i32>, offset: Option<i32>) -> Result<(i64, i64), ApiError> {
        let limit = self.size(limit, "limit")?;
        let offset = offset.map_or(0, i64::from);
        if offset < 0 {
            return Err(
                ApiError::new(ErrorCode::LimitExceeded, "`offset` must not be negative")
                    .on_field("offset"),
            );
        }
        Ok((limit, offset))
    }

    /// A page size argument (`limit`, `first`, `last`, named by `field`): the default when absent,
    /// otherwise checked against the maximum.
    pub fn size(&self, size: Option<i32>, field: &str) -> Result<i64, ApiError> {
        let size = size.map_or(self.default_page_size, i64::from);
        if !(0..=self.max_page_size).contains(&size) {
            return Err(ApiError::new(
                ErrorCode::LimitExceeded,
                format!("`{field}` must be between 0 and {}", self.max_page_size),
            )
            .on_field(field));
        }
        Ok(size)
    }
}

/// Facts about one request, built by the HTTP layer.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub identity: Identity,
    pub limits: Limits,
    /// The SQL statements this request has run so far.
    pub stats: Arc<RequestStats>,
    /// Relation queries shared by sibling rows.
    pub queries: QueryCache,
}

/// Relation queries of one request by document field (see `read::shared_query`).
#[derive(Debug, Clone, Default)]
pub struct QueryCache(Arc<Mutex<HashMap<usize, Arc<RelatedQuery>>>>);

impl QueryCache {
    pub fn get(&self, field: usize) -> Option<Arc<RelatedQuery>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&field)
            .cloned()
    }

    pub fn insert(&self, field: usize, query: Arc<RelatedQuery>) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(field, query);
    }
}

/// What a data-access function needs: the database, the request it serves, and the request's
/// batch loader (which gathers the relation reads of sibling rows into one statement).
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub request: &'a RequestContext,
    pub batch: &'a DataLoader<Batcher>,
}

impl<'a> Ctx<'a> {
    /// Borrows the context the server attached to this GraphQL request.
    pub fn of(ctx: &'a async_graphql::Context<'_>) -> async_graphql::Result<Ctx<'a>> {
        Ok(Ctx {
            db: ctx.data::<Db>()?,
            request: ctx.data::<RequestContext>()?,
            batch: ctx.data::<DataLoader<Batcher>>()?,
        })
    }

    /// Runs `work` on a pooled connection, charging its statements to this request.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.db.run(&self.request.stats, work).await
    }

    /// Reads the rows of `sql`, charging its statement to this request (see [`Db::load`]).
    pub async fn load<R: Loadable>(&self, sql: Sql) -> Result<Vec<R>, ApiError> {
        self.db.load_one(&self.request.stats, sql).await
    }

    /// Runs `work` in one transaction, charging its statements to this request; `work` runs
    /// again if the transaction meets a concurrent one it cannot be ordered with.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnMut(&mut Conn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.db.transaction(&self.request.stats, work).await
    }

    /// Checked `(limit, offset)` for a list under this request's limits.
    pub fn page(&self, limit: Option<i32>, offset: Option<i32>) -> Result<(i64, i64), ApiError> {
        self.request.limits.page(limit, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_applies_defaults_and_bounds() {
        let limits = Limits {
            default_page_size: 20,
            max_page_size: 100,
        };
        assert_eq!(limits.page(None, None), Ok((20, 0)));
        assert_eq!(limits.page(Some(5), Some(10)), Ok((5, 10)));
        assert_eq!(
            limits.page(Some(101), None).unwrap_err().code,
            ErrorCode::LimitExceeded
        );
        assert_eq!(
            limits.page(Some(-1), None).unwrap_err().code,
            ErrorCode::LimitExceeded
        );
        assert_eq!(
            limits.page(None, Some(-3)).unwrap_err().field.as_deref(),
            Some("offset")
        );
    }
}
