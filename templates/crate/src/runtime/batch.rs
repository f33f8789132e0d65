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
use crate::runtime::select::{AggregateTerm, Child, Fetched, Key, Link, Loadable, Row, Select};
use crate::runtime::sql::{ident, in_keys, searches_outer_table, JsonRow, Sql};

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

    /// Reads the rows of each statement, counted in the request's statistics (see [`Db::load`]).
    pub async fn read<R: Loadable>(&self, statements: Vec<Sql>) -> Result<Vec<Vec<R>>, ApiError> {
        self.db.load(&self.stats, statements).await
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
        let rows: Vec<R> = self.db.load_one(&self.stats, sql).await?;
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
        let statements = groups
            .iter()
            .map(|(query, parents)| query.select.batch(parents, query))
            .collect();
        let mut out = HashMap::new();
        for ((query, parents), mut children) in groups
            .into_iter()
            .zip(self.read::<Child<R>>(statements).await?)
        {
            let index = parent_index(&parents);
            children.sort_unstable_by_key(|c| c.position);
            let mut per_parent: Vec<Vec<Fetched<R>>> = parents.iter().map(|_| Vec::new()).collect();
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
        let statements = groups
            .iter()
            .map(|(query, parents)| query.select.batch_count(query.link, parents, &[]))
            .collect();
        let mut out = HashMap::new();
        for ((query, parents), rows) in groups
            .into_iter()
            .zip(self.read::<JsonRow>(statements).await?)
        {
            let index = parent_index(&parents);
            for row in rows {
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
    }
}

/// At most this many sibling aggregates share one statement (each adds two arguments to its
/// `json_object` call, which SQLite and PostgreSQL bound).
const MERGED_AGGREGATES: usize = 16;

/// The aggregates one root `…Aggregate` field asks for. Siblings that read the same table
/// (`drafts: postsAggregate(where: …) published: postsAggregate(where: …)`) are computed in
/// one scan of it ([`Select::aggregates`]) instead of one scan each.
#[derive(Clone)]
pub struct Aggregates(Arc<AggregateQuery>);

struct AggregateQuery {
    select: Select,
    terms: Vec<AggregateTerm>,
    fingerprint: u64,
}

impl Aggregates {
    pub fn new(select: Select, terms: Vec<AggregateTerm>) -> Aggregates {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&select, &terms).hash(&mut hasher);
        Aggregates(Arc::new(AggregateQuery {
            select,
            terms,
            fingerprint: hasher.finish(),
        }))
    }
}

impl PartialEq for Aggregates {
    fn eq(&self, other: &Self) -> bool {
        self.0.fingerprint == other.0.fingerprint
            && self.0.select == other.0.select
            && self.0.terms == other.0.terms
    }
}

impl Eq for Aggregates {}

impl Hash for Aggregates {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.fingerprint.hash(state);
    }
}

/// The keys of a batch in groups that share one scan. The loader hands keys over in no set
/// order; sorted, the same siblings make the same statement text each time (prepared once, its
/// plan asked once).
fn sharing_scans(keys: &[Aggregates]) -> Vec<Vec<Aggregates>> {
    let mut keys = keys.to_vec();
    keys.sort_by_key(|k| k.0.fingerprint);
    let mut groups: Vec<Vec<Aggregates>> = Vec::new();
    for key in keys {
        match groups.iter_mut().find(|group| {
            group.len() < MERGED_AGGREGATES && group[0].0.select.shares_scan(&key.0.select)
        }) {
            Some(group) => group.push(key),
            None => groups.push(vec![key]),
        }
    }
    groups
}

/// The single row of an aggregate statement.
fn only_row(rows: Vec<JsonRow>) -> serde_json::Map<String, serde_json::Value> {
    rows.into_iter().next().map(|r| r.0).unwrap_or_default()
}

impl Loader<Aggregates> for Batcher {
    type Value = Arc<serde_json::Map<String, serde_json::Value>>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[Aggregates],
    ) -> Result<HashMap<Aggregates, Self::Value>, ApiError> {
        let groups = sharing_scans(keys);
        self.db
            .run(&self.stats, move |conn| {
                let mut out = HashMap::new();
                for group in groups {
                    if let [one] = &group[..] {
                        let columns = AggregateTerm::columns(&one.0.terms);
                        let sql = one.0.select.json(&columns, None, None, None);
                        out.insert(one.clone(), Arc::new(only_row(sql.load(conn)?)));
                        continue;
                    }
                    let reads: Vec<(&Select, &[AggregateTerm])> = group
                        .iter()
                        .map(|k| (&k.0.select, &k.0.terms[..]))
                        .collect();
                    let narrowed = Select::aggregates(&reads, true);
                    let sql =
                        if !Select::narrowable(&reads) || searches_outer_table(conn, &narrowed)? {
                            narrowed
                        } else {
                            Select::aggregates(&reads, false)
                        };
                    let mut row = only_row(sql.load(conn)?);
                    for (i, key) in group.iter().enumerate() {
                        let values = match row.remove(&i.to_string()) {
                            Some(serde_json::Value::Object(values)) => values,
                            _ => serde_json::Map::new(),
                        };
                        out.insert(key.clone(), Arc::new(values));
                    }
                }
                Ok(out)
            })
            .await
    }
}
