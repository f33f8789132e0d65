//! Batched relation reads: the resolvers of sibling rows ask for their related rows one by one,
//! and async-graphql's `DataLoader` hands all those keys to the loaders here at once, so each
//! relation level of a request costs one statement however many parent rows it has.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::runtime::auth::Identity;
use crate::runtime::db::Db;
use crate::runtime::error::ApiError;
use crate::runtime::metrics::RequestStats;
use crate::runtime::select::{Child, Fetched, Key, Link, Loadable, Row, Select};
use crate::runtime::sql::{ident, in_keys, JsonRow, Sql};

/// The loader behind one request's `DataLoader`.
pub struct Batcher {
    db: Db,
    stats: Arc<RequestStats>,
    /// Who is asking: rows are read within what their role may see.
    identity: Identity,
}

impl Batcher {
    pub fn new(db: Db, stats: Arc<RequestStats>, identity: Identity) -> Batcher {
        Batcher {
            db,
            stats,
            identity,
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Runs a batch's statements on a pooled connection, counted in the request's statistics.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::runtime::db::Conn) -> Result<T, ApiError> + Send + 'static,
    {
        self.db.run(&self.stats, work).await
    }
}

/// A row of `R` by primary key (to-one relations).
pub struct ByKey<R> {
    key: Key,
    row: PhantomData<fn() -> R>,
}

impl<R> ByKey<R> {
    pub fn new(key: Key) -> ByKey<R> {
        ByKey {
            key,
            row: PhantomData,
        }
    }
}

// Manual impls: derives would require `R` itself to be `Clone`/`Eq`/`Hash`.
impl<R> Clone for ByKey<R> {
    fn clone(&self) -> Self {
        ByKey::new(self.key.clone())
    }
}

impl<R> PartialEq for ByKey<R> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<R> Eq for ByKey<R> {}

impl<R> Hash for ByKey<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl<R: Row> Loader<ByKey<R>> for Batcher {
    type Value = R;
    type Error = ApiError;

    async fn load(&self, keys: &[ByKey<R>]) -> Result<HashMap<ByKey<R>, R>, ApiError> {
        let keys: Vec<Key> = keys.iter().map(|k| k.key.clone()).collect();
        let mut sql = Sql::raw(format!("SELECT t0.* FROM {} AS t0 WHERE ", ident(R::TABLE)));
        sql.append(&in_keys(&format!("t0.{}", ident(R::KEY)), &keys));
        let rows: Vec<R> = self
            .db
            .run(&self.stats, move |conn| Ok(sql.load(conn)?))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (ByKey::new(row.key()), row))
            .collect())
    }
}

/// The part of a relation read that sibling parents share.
#[derive(Debug, PartialEq, Eq)]
pub struct RelatedQuery {
    pub select: Select,
    pub link: Link,
    /// Keyset conditions of a connection page.
    pub extra: Vec<Sql>,
    pub reverse: bool,
    pub skip: i64,
    pub take: i64,
    /// Whether rows need their cursors (connections do, lists do not).
    pub cursors: bool,
    /// A hash of all the above, computed once: the loader hashes keys many times per row.
    fingerprint: u64,
}

impl RelatedQuery {
    pub fn new(
        select: Select,
        link: Link,
        extra: Vec<Sql>,
        reverse: bool,
        skip: i64,
        take: i64,
        cursors: bool,
    ) -> RelatedQuery {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&select, &link, &extra, reverse, skip, take, cursors).hash(&mut hasher);
        RelatedQuery {
            select,
            link,
            extra,
            reverse,
            skip,
            take,
            cursors,
            fingerprint: hasher.finish(),
        }
    }
}

impl Hash for RelatedQuery {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.fingerprint.hash(state);
    }
}

/// The related rows of one parent.
pub struct Related<R> {
    query: Arc<RelatedQuery>,
    parent: Key,
    row: PhantomData<fn() -> R>,
}

impl<R> Related<R> {
    pub fn new(query: Arc<RelatedQuery>, parent: Key) -> Related<R> {
        Related {
            query,
            parent,
            row: PhantomData,
        }
    }
}

impl<R> Clone for Related<R> {
    fn clone(&self) -> Self {
        Related::new(self.query.clone(), self.parent.clone())
    }
}

impl<R> PartialEq for Related<R> {
    fn eq(&self, other: &Self) -> bool {
        self.parent == other.parent && self.query == other.query
    }
}

impl<R> Eq for Related<R> {}

impl<R> Hash for Related<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.query.hash(state);
        self.parent.hash(state);
    }
}

/// The keys of a batch grouped by the query they share (siblings normally share one).
fn by_query<'k>(
    keys: impl Iterator<Item = (&'k Arc<RelatedQuery>, &'k Key)>,
) -> Vec<(Arc<RelatedQuery>, Vec<Key>)> {
    let mut groups: Vec<(Arc<RelatedQuery>, Vec<Key>)> = Vec::new();
    for (query, parent) in keys {
        match groups.iter_mut().find(|(q, _)| q == query) {
            Some((_, parents)) => parents.push(parent.clone()),
            None => groups.push((query.clone(), vec![parent.clone()])),
        }
    }
    groups
}

/// Positions of the parents by their key as SQL returns it (text).
fn parent_index(parents: &[Key]) -> HashMap<String, usize> {
    parents
        .iter()
        .enumerate()
        .map(|(i, key)| (key.to_text(), i))
        .collect()
}

impl<R: Loadable> Loader<Related<R>> for Batcher {
    type Value = Arc<Vec<Fetched<R>>>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[Related<R>],
    ) -> Result<HashMap<Related<R>, Arc<Vec<Fetched<R>>>>, ApiError> {
        let groups = by_query(keys.iter().map(|k| (&k.query, &k.parent)));
        self.db
            .run(&self.stats, move |conn| {
                let mut out = HashMap::new();
                for (query, parents) in groups {
                    let index = parent_index(&parents);
                    let sql = query.select.batch(&parents, &query);
                    let mut children = sql.load::<Child<R>>(conn)?;
                    children.sort_unstable_by_key(|c| c.position);
                    let mut per_parent: Vec<Vec<Fetched<R>>> =
                        parents.iter().map(|_| Vec::new()).collect();
                    for child in children {
                        if let Some(&i) = index.get(&child.parent) {
                            per_parent[i].push(child.fetched);
                        }
                    }
                    for (parent, rows) in parents.into_iter().zip(per_parent) {
                        out.insert(Related::new(query.clone(), parent), Arc::new(rows));
                    }
                }
                Ok(out)
            })
            .await
    }
}

/// The number of related rows of one parent (a relation connection's `totalCount`).
pub struct RelatedCount(pub Related<()>);

impl Clone for RelatedCount {
    fn clone(&self) -> Self {
        RelatedCount(self.0.clone())
    }
}

impl PartialEq for RelatedCount {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for RelatedCount {}

impl Hash for RelatedCount {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl RelatedCount {
    pub fn new(query: Arc<RelatedQuery>, parent: Key) -> RelatedCount {
        RelatedCount(Related::new(query, parent))
    }
}

impl Loader<RelatedCount> for Batcher {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[RelatedCount]) -> Result<HashMap<RelatedCount, i64>, ApiError> {
        let groups = by_query(keys.iter().map(|k| (&k.0.query, &k.0.parent)));
        self.db
            .run(&self.stats, move |conn| {
                let mut out = HashMap::new();
                for (query, parents) in groups {
                    let index = parent_index(&parents);
                    let sql = query.select.batch_count(query.link, &parents, &[]);
                    for row in sql.load::<JsonRow>(conn)? {
                        let parent = row
                            .0
                            .get("parent")
                            .and_then(|v| v.as_str())
                            .and_then(|p| index.get(p));
                        let count = row
                            .0
                            .get("count")
                            .and_then(serde_json::Value::as_i64)
                            .unwrap_or(0);
                        if let Some(&i) = parent {
                            out.insert(RelatedCount::new(query.clone(), parents[i].clone()), count);
                        }
                    }
                }
                Ok(out)
            })
            .await
    }
}
