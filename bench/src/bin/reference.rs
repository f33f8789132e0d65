//! The reference to beat: a hand-written async-graphql + Diesel server for the benchmark's nested
//! query (authors → posts → comments and tags), written the way an engineer would write it by
//! hand: typed Diesel queries, one DataLoader per relation, per-parent limits applied in Rust.
//!
//! Usage: `reference DATABASE_PATH` — prints `listening on http://ADDR`, serves `POST /graphql`
//! and `GET /statements` (SQL statements executed so far).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::routing::{get, post};
use axum::{Extension, Router};
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};

diesel::table! {
    authors(id) { id -> Integer, name -> Text, email -> Text, }
}
diesel::table! {
    posts(id) { id -> Integer, author_id -> Integer, title -> Text, published_at -> Nullable<Text>, }
}
diesel::table! {
    comments(id) { id -> Integer, post_id -> Integer, body -> Text, created_at -> Text, }
}
diesel::table! {
    tags(id) { id -> Integer, name -> Text, }
}
diesel::table! {
    posts_tags(post_id, tag_id) { post_id -> Integer, tag_id -> Integer, }
}
diesel::joinable!(posts_tags -> tags(tag_id));
diesel::allow_tables_to_appear_in_same_query!(authors, posts, comments, tags, posts_tags);

static STATEMENTS: AtomicU64 = AtomicU64::new(0);

type DbPool = Pool<ConnectionManager<SqliteConnection>>;

#[derive(Debug)]
struct Setup;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Setup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("PRAGMA busy_timeout = 5000;").map_err(diesel::r2d2::Error::QueryError)?;
        conn.set_instrumentation(Counter);
        Ok(())
    }
}

struct Counter;

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn blocking<T: Send + 'static>(pool: &DbPool, work: impl FnOnce(&mut SqliteConnection) -> QueryResult<T> + Send + 'static) -> async_graphql::Result<T> {
    let pool = pool.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        work(&mut conn).map_err(|e| e.to_string())
    })
    .await?;
    result.map_err(async_graphql::Error::new)
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = authors)]
struct Author {
    id: i32,
    name: String,
    email: String,
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
struct Post {
    id: i32,
    author_id: i32,
    title: String,
    published_at: Option<String>,
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
struct Comment {
    id: i32,
    post_id: i32,
    body: String,
    created_at: String,
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = tags)]
struct Tag {
    id: i32,
    name: String,
}

struct Loaders {
    pool: DbPool,
}

struct PostsOf(i32);
struct CommentsOf(i32);
struct TagsOf(i32);

macro_rules! key {
    ($t:ident) => {
        impl Clone for $t {
            fn clone(&self) -> Self {
                $t(self.0)
            }
        }
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.0 == other.0
            }
        }
        impl Eq for $t {}
        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state)
            }
        }
    };
}
key!(PostsOf);
key!(CommentsOf);
key!(TagsOf);

fn group<K: std::hash::Hash + Eq, T>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

impl Loader<PostsOf> for Loaders {
    type Value = Vec<Post>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PostsOf]) -> Result<HashMap<PostsOf, Vec<Post>>, Self::Error> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows = blocking(&self.pool, move |c| {
            posts::table
                .filter(posts::author_id.eq_any(ids))
                .order((posts::published_at.desc(), posts::title.asc(), posts::id.asc()))
                .select(Post::as_select())
                .load(c)
        })
        .await?;
        Ok(group(rows, |p| PostsOf(p.author_id)))
    }
}

impl Loader<CommentsOf> for Loaders {
    type Value = Vec<Comment>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CommentsOf]) -> Result<HashMap<CommentsOf, Vec<Comment>>, Self::Error> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows = blocking(&self.pool, move |c| {
            comments::table
                .filter(comments::post_id.eq_any(ids))
                .order((comments::created_at.asc(), comments::id.asc()))
                .select(Comment::as_select())
                .load(c)
        })
        .await?;
        Ok(group(rows, |c| CommentsOf(c.post_id)))
    }
}

impl Loader<TagsOf> for Loaders {
    type Value = Vec<Tag>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[TagsOf]) -> Result<HashMap<TagsOf, Vec<Tag>>, Self::Error> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows: Vec<(i32, Tag)> = blocking(&self.pool, move |c| {
            posts_tags::table
                .inner_join(tags::table)
                .filter(posts_tags::post_id.eq_any(ids))
                .order(tags::id.asc())
                .select((posts_tags::post_id, Tag::as_select()))
                .load(c)
        })
        .await?;
        let grouped = group(rows, |(post, _)| TagsOf(*post));
        Ok(grouped.into_iter().map(|(k, v)| (k, v.into_iter().map(|(_, t)| t).collect())).collect())
    }
}

fn page<T>(mut rows: Vec<T>, limit: Option<i32>) -> Vec<T> {
    rows.truncate(usize::try_from(limit.unwrap_or(20)).unwrap_or(0));
    rows
}

struct Query;

#[Object]
impl Query {
    async fn authors(&self, ctx: &Context<'_>, limit: Option<i32>) -> async_graphql::Result<Vec<Author>> {
        let pool = ctx.data::<DbPool>()?;
        let limit = i64::from(limit.unwrap_or(20));
        blocking(pool, move |c| authors::table.order((authors::name.asc(), authors::id.asc())).limit(limit).select(Author::as_select()).load(c)).await
    }
}

#[Object]
impl Author {
    async fn id(&self) -> i32 {
        self.id
    }
    async fn name(&self) -> &str {
        &self.name
    }
    async fn email(&self) -> &str {
        &self.email
    }
    async fn posts(&self, ctx: &Context<'_>, limit: Option<i32>) -> async_graphql::Result<Vec<Post>> {
        let rows = ctx.data::<DataLoader<Loaders>>()?.load_one(PostsOf(self.id)).await?;
        Ok(page(rows.unwrap_or_default(), limit))
    }
}

#[Object]
impl Post {
    async fn id(&self) -> i32 {
        self.id
    }
    async fn title(&self) -> &str {
        &self.title
    }
    async fn published_at(&self) -> Option<&str> {
        self.published_at.as_deref()
    }
    async fn comments(&self, ctx: &Context<'_>, limit: Option<i32>) -> async_graphql::Result<Vec<Comment>> {
        let rows = ctx.data::<DataLoader<Loaders>>()?.load_one(CommentsOf(self.id)).await?;
        Ok(page(rows.unwrap_or_default(), limit))
    }
    async fn tags(&self, ctx: &Context<'_>, limit: Option<i32>) -> async_graphql::Result<Vec<Tag>> {
        let rows = ctx.data::<DataLoader<Loaders>>()?.load_one(TagsOf(self.id)).await?;
        Ok(page(rows.unwrap_or_default(), limit))
    }
}

#[Object]
impl Comment {
    async fn id(&self) -> i32 {
        self.id
    }
    async fn body(&self) -> &str {
        &self.body
    }
    async fn created_at(&self) -> &str {
        &self.created_at
    }
}

#[Object]
impl Tag {
    async fn id(&self) -> i32 {
        self.id
    }
    async fn name(&self) -> &str {
        &self.name
    }
}

type ApiSchema = Schema<Query, EmptyMutation, EmptySubscription>;

async fn graphql(Extension(schema): Extension<ApiSchema>, Extension(pool): Extension<DbPool>, request: GraphQLRequest) -> GraphQLResponse {
    let loader = DataLoader::new(Loaders { pool: pool.clone() }, tokio::spawn);
    schema.execute(request.into_inner().data(pool).data(loader)).await.into()
}

async fn statements() -> String {
    STATEMENTS.load(Ordering::Relaxed).to_string()
}

#[tokio::main]
async fn main() {
    let path = std::env::args().nth(1).expect("usage: reference DATABASE_PATH");
    let pool = Pool::builder()
        .max_size(8)
        .test_on_check_out(false)
        .connection_customizer(Box::new(Setup))
        .build(ConnectionManager::<SqliteConnection>::new(path))
        .expect("open the database");
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription).finish();
    let app = Router::new().route("/graphql", post(graphql)).route("/statements", get(statements)).layer(Extension(schema)).layer(Extension(pool));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("listening on http://{}", listener.local_addr().expect("address"));
    axum::serve(listener, app).await.expect("serve");
}
