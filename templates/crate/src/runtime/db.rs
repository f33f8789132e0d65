//! The database connection pool: SQLite (a file, embedded) or PostgreSQL (a server), chosen by
//! the database URL. Diesel is synchronous, so every query runs on tokio's blocking pool and the
//! async runtime never waits on the database; PostgreSQL connections are Diesel connections over
//! the pure-Rust tokio-postgres driver, driven from those blocking threads.

use std::sync::Arc;

use diesel::connection::{CacheSize, Connection, SimpleConnection};
use diesel::r2d2::{ManageConnection, Pool};
use diesel::sqlite::{ProgressDecision, SqliteConnection};
use diesel::RunQueryDsl;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::runtime::error::ApiError;
use crate::runtime::metrics::{charged, charged_to, count_statements, RequestStats, METRICS};
use crate::runtime::postgres::ReadPool;
use crate::runtime::sql::{set_dialect, Dialect};
use crate::runtime::sql::{Loadable, Sql};

/// The migrations in `migrations/`, compiled into the binary and applied at start-up.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The same schema for PostgreSQL, from `migrations-postgres/`.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations-postgres");

/// SQLite virtual-machine steps between two checks of the request's budget: a few microseconds
/// of work, and a handful of rows even when each row costs an expensive function call.
const PROGRESS_STEPS: std::num::NonZeroU32 = std::num::NonZeroU32::new(250).unwrap();

pub use crate::runtime::postgres::PgConnection;

/// The connection every data-access function receives.
pub enum Conn {
    /// Both boxed: a pooled connection is moved in and out of the pool, and is large.
    Sqlite(Box<SqliteSession>),
    Postgres(Box<PgSession>),
}

/// Distinct statements a connection keeps prepared.
const PREPARED_STATEMENTS: usize = 256;

/// The statements a connection keeps prepared, by a hash of their text. A read's SQL depends on
/// the request (its filters, orderings, selections), so the texts a connection sees are counted:
/// past [`PREPARED_STATEMENTS`] distinct ones, every prepared statement is closed and preparing
/// starts over, which bounds what hostile query shapes can make the server hold.
#[derive(Default)]
pub(crate) struct Prepared(std::collections::HashSet<u64>);

impl Prepared {
    /// Notes the statement `key` identifies, about to run; true when the connection must first
    /// close every statement it holds (at the bound; a new cache drops the old one).
    pub(crate) fn note(&mut self, key: u64) -> bool {
        if self.0.contains(&key) {
            return false;
        }
        let full = self.0.len() >= PREPARED_STATEMENTS;
        if full {
            self.0.clear();
        }
        self.0.insert(key);
        full
    }

    /// [`Prepared::note`] for a synchronous connection, whose statements it closes when full.
    fn noted(&mut self, key: u64, conn: &mut impl Connection) {
        if self.note(key) {
            conn.set_prepared_statement_cache_size(CacheSize::Disabled);
            conn.set_prepared_statement_cache_size(CacheSize::Unbounded);
        }
    }

    /// What a statement's text is remembered by.
    fn key(text: &impl std::hash::Hash) -> u64 {
        use std::hash::Hasher;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        hasher.finish()
    }
}

/// A SQLite connection and the statements it keeps prepared (see [`Prepared`]): a repeated
/// statement skips SQLite's parser and planner.
pub struct SqliteSession {
    conn: SqliteConnection,
    prepared: Prepared,
}

impl SqliteSession {
    pub(crate) fn new(conn: SqliteConnection) -> SqliteSession {
        SqliteSession {
            conn,
            prepared: Prepared::default(),
        }
    }

    /// The connection, about to run the statement `text` as a prepared statement it may keep.
    pub fn preparing(&mut self, text: &str) -> &mut SqliteConnection {
        self.prepared.noted(Prepared::key(&text), &mut self.conn);
        &mut self.conn
    }

    /// How many distinct statements the connection holds prepared.
    pub fn prepared_statements(&self) -> usize {
        self.prepared.0.len()
    }
}

impl std::ops::Deref for SqliteSession {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for SqliteSession {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

/// A PostgreSQL connection and the statements it keeps prepared (see [`Prepared`]).
pub struct PgSession {
    conn: PgConnection,
    /// The runtime the connection's I/O runs on (also the wrapper's).
    runtime: crate::runtime::postgres::SharedRuntime,
    prepared: Prepared,
}

impl PgSession {
    fn new((conn, runtime): (PgConnection, crate::runtime::postgres::SharedRuntime)) -> PgSession {
        PgSession {
            conn,
            runtime,
            prepared: Default::default(),
        }
    }

    /// Reads every row of `query` (its text identified by `key`, see [`PgSession::key`]) in one
    /// turn of the connection's runtime: the synchronous wrapper's cursor enters the runtime once
    /// per row.
    pub fn load<'q, Q, R>(&mut self, key: u64, query: Q) -> diesel::QueryResult<Vec<R>>
    where
        Q: diesel_async::RunQueryDsl<AsyncPgConnection>
            + diesel_async::methods::LoadQuery<'q, AsyncPgConnection, R>
            + 'q,
        R: Send,
    {
        self.prepared.noted(key, &mut self.conn);
        let conn: &mut AsyncPgConnection = &mut self.conn;
        self.runtime
            .block_on(diesel_async::RunQueryDsl::load(query, conn))
    }

    /// The connection, about to run the statement `text` identifies as a prepared statement it
    /// may keep.
    pub fn preparing(&mut self, text: &impl std::hash::Hash) -> &mut PgConnection {
        self.prepared.noted(Self::key(text), &mut self.conn);
        &mut self.conn
    }

    /// What a statement's text is remembered by among those prepared.
    pub fn key(text: &impl std::hash::Hash) -> u64 {
        Prepared::key(text)
    }

    /// How many distinct statements the connection holds prepared.
    pub fn prepared_statements(&self) -> usize {
        self.prepared.0.len()
    }
}

impl std::ops::Deref for PgSession {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PgSession {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl Conn {
    /// Runs statements that return nothing (settings, DDL).
    pub fn batch_execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        match self {
            Conn::Sqlite(c) => c.batch_execute(sql),
            Conn::Postgres(c) => c.batch_execute(sql),
        }
    }

    /// Runs `work` in one transaction: all of it commits, or none of it. SQLite takes the write
    /// lock at once (`BEGIN IMMEDIATE`), so transactions queue instead of failing on upgrade.
    /// PostgreSQL's run READ COMMITTED, as its writers expect: increments are computed by the
    /// database on the locked row (`n = n + 1`), a value read to be rewritten is read `FOR
    /// UPDATE`, and unique constraints settle races between inserts. Two transactions can still
    /// wait on each other's row locks (PostgreSQL then aborts one: a deadlock, 40P01) or fail to
    /// serialize (40001): such a transaction is rolled back and run again, up to
    /// [`TRANSACTION_ATTEMPTS`] times in all, after a short random pause, so concurrent writers
    /// both succeed instead of one getting an error.
    pub fn transaction<T>(
        &mut self,
        mut work: impl FnMut(&mut Conn) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut attempt = 1;
        loop {
            match self.transaction_once(&mut work) {
                Err(e) if e.is_concurrent() && attempt < TRANSACTION_ATTEMPTS => {
                    METRICS.transaction_retried();
                    std::thread::sleep(retry_pause(attempt));
                    attempt += 1;
                }
                done => return done,
            }
        }
    }

    fn transaction_once<T>(
        &mut self,
        work: &mut impl FnMut(&mut Conn) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let begin = match self {
            Conn::Sqlite(_) => "BEGIN IMMEDIATE",
            Conn::Postgres(_) => "BEGIN",
        };
        self.batch_execute(begin)?;
        match work(self) {
            Ok(value) => match self.batch_execute("COMMIT") {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = self.batch_execute("ROLLBACK");
                    Err(e.into())
                }
            },
            Err(e) => {
                self.batch_execute("ROLLBACK")?;
                Err(e)
            }
        }
    }

    fn count_statements(&mut self) {
        match self {
            Conn::Sqlite(c) => c.set_instrumentation(count_statements),
            Conn::Postgres(c) => c.set_instrumentation(count_statements),
        }
    }
}

/// How many times a transaction that met a concurrent one (a deadlock or serialization failure)
/// is run before its error reaches the client.
pub const TRANSACTION_ATTEMPTS: u32 = 4;

/// The pause before attempt `attempt + 1`: random, so the transactions that collided do not
/// collide again in step, and longer after each failure (up to 2, 4, 8 ms, then up to 16).
fn retry_pause(attempt: u32) -> std::time::Duration {
    let ceiling = 1u64 << attempt.min(4);
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    std::time::Duration::from_micros(500 + random % (ceiling * 1000))
}

/// Sets SQLite up, before it first opens a database, for a server whose connections are each used
/// by one thread at a time (the pool lends them out whole):
/// - no count of the memory it allocates: the count is kept under one mutex for the whole
///   process, taken on every allocation of every connection; with it, two requests that each
///   sort or group rows on their own connections ran slower together than one alone (group-by
///   over 20,000 rows: 233 requests/s with one client, 187 with two, 552 with eight once it is
///   off). Nothing here reads the count (no soft heap limit).
/// - no mutex around each call on a connection (multi-thread mode): each column of each row read
///   took and released one, 3-4 % of a nested query's time.
///
/// Called after SQLite has started, it changes nothing, which is also fine.
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` takes MEMSTATUS with one `int`, MULTITHREAD with none; a
        // connection is only ever used by the thread the pool lent it to. It must not run beside
        // other SQLite calls: it runs once, when the server opens its database, before any
        // connection exists. Once SQLite has initialized it returns SQLITE_MISUSE untouched.
        unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                std::ffi::c_int::from(0u8),
            );
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD);
        }
    });
}

/// A cheaply clonable handle to the pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    /// One permit per pooled connection: requests wait for a connection here, as tasks, instead
    /// of each holding a blocking thread (and its allocator's memory) while it waits in the pool.
    /// Reads on PostgreSQL take theirs here too: at most `pool_size` connections work at once.
    connections: Arc<tokio::sync::Semaphore>,
    /// PostgreSQL: the connections reads await on the server's runtime (see [`ReadPool`]).
    reads: Option<Arc<ReadPool>>,
}

/// How the database is opened and tuned; from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Storage {
    /// Connections in the pool.
    pub pool_size: u32,
    /// Connections kept open when idle (at most `pool_size`): each SQLite connection holds its
    /// own page cache and mapping of the file, so an idle server keeps few.
    pub min_idle: u32,
    /// Bytes of the database file SQLite maps into memory (`PRAGMA mmap_size`): reads of mapped
    /// pages are memory reads instead of `read()` calls. The pages are the OS's file cache,
    /// shared by every connection.
    pub mmap_bytes: u64,
    /// Page cache of each connection, in KiB (`PRAGMA cache_size`).
    pub cache_kib: u32,
    /// Serve a database another program owns (or a replica): no migrations, no writes.
    pub read_only: bool,
    /// PostgreSQL stops a statement that runs longer than this (a request's whole time budget).
    pub statement_timeout_ms: u64,
}

impl Default for Storage {
    fn default() -> Storage {
        Storage {
            pool_size: 8,
            min_idle: 1,
            mmap_bytes: 256 << 20,
            cache_kib: 8 << 10,
            read_only: false,
            statement_timeout_ms: 10_000,
        }
    }
}

/// Which database a URL names: PostgreSQL for `postgres://` and `postgresql://`, else a SQLite
/// file.
pub fn dialect_of(url: &str) -> Dialect {
    match url.starts_with("postgres://") || url.starts_with("postgresql://") {
        true => Dialect::Postgres,
        false => Dialect::Sqlite,
    }
}

/// Opens the pool's connections, each set up for this server: SQLite's pragmas (foreign keys,
/// waiting on locks, the storage tuning); PostgreSQL's session (UTC, the statement timeout, read
/// only when asked); both count their statements for the metrics.
#[derive(Debug)]
struct Manager {
    url: String,
    storage: Storage,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        let Storage {
            mmap_bytes,
            cache_kib,
            read_only,
            ..
        } = self.storage;
        let mut conn = match dialect_of(&self.url) {
            Dialect::Sqlite => {
                let mut c = SqliteConnection::establish(file_path(&self.url))
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                let pragmas = format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
                     PRAGMA mmap_size = {mmap_bytes}; PRAGMA cache_size = -{cache_kib}; PRAGMA query_only = {};",
                    if read_only { "ON" } else { "OFF" }
                );
                c.batch_execute(&pragmas)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                if !read_only {
                    optimize(&mut c).map_err(diesel::r2d2::Error::QueryError)?;
                }
                Conn::Sqlite(Box::new(SqliteSession::new(c)))
            }
            Dialect::Postgres => {
                let (mut c, runtime) = crate::runtime::postgres::connect(&self.url)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                c.batch_execute(&postgres_session(&self.storage))
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Conn::Postgres(Box::new(PgSession::new((c, runtime))))
            }
        };
        conn.count_statements();
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A PostgreSQL connection whose server went away, or whose transaction was left broken, is
    /// dropped when it comes back to the pool (checking each one out with a `SELECT 1` would cost
    /// every request a round trip).
    fn has_broken(&self, conn: &mut Conn) -> bool {
        match conn {
            Conn::Sqlite(_) => false,
            Conn::Postgres(c) => {
                let inner: &mut AsyncPgConnection = c;
                diesel_async::pooled_connection::PoolableConnection::is_broken(inner)
            }
        }
    }
}

/// What sets a PostgreSQL connection up for this server: UTC, the statement timeout, read only
/// when asked.
fn postgres_session(storage: &Storage) -> String {
    format!(
        "SET TIME ZONE 'UTC'; SET statement_timeout = {}; SET default_transaction_read_only = {};",
        storage.statement_timeout_ms,
        if storage.read_only { "on" } else { "off" }
    )
}

/// Refreshes the statistics SQLite's planner reads (`sqlite_stat1`) where they are missing or
/// stale, as SQLite advises for every long-lived connection it opens (pool connections are renewed
/// every half hour, so the statistics follow the data). Each index is sampled, not read whole
/// (`analysis_limit`), so this takes milliseconds on any size of database. Without statistics
/// SQLite guesses that an equality on any index picks a handful of rows: a lookup by key with a
/// permission condition (`id IN (…) AND status = ?`) then walked a third of the posts through the
/// status index instead of fetching one row by key (10× slower in the benchmark).
fn optimize(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002;")
}

/// Applies pending migrations. Changing a SQLite table means rebuilding it (create the new shape,
/// copy the rows, drop the old table, rename), which needs foreign keys off: dropping the old table
/// would otherwise cascade into the rows that point at it. Every reference is checked afterwards.
fn migrate(conn: &mut SqliteConnection) -> Result<(), String> {
    #[derive(diesel::QueryableByName)]
    struct Broken {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    conn.batch_execute("PRAGMA foreign_keys = OFF;")
        .map_err(|e| e.to_string())?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| !versions.is_empty())
        .map_err(|e| e.to_string());
    // The check reads every row that has a reference: only after migrations ran, not at every
    // start (on a large database it would read the whole file each time).
    let broken = match applied {
        Ok(true) => diesel::sql_query("SELECT count(*) AS n FROM pragma_foreign_key_check")
            .get_result::<Broken>(conn)
            .map(|b| b.n)
            .map_err(|e| e.to_string()),
        _ => Ok(0),
    };
    conn.batch_execute("PRAGMA foreign_keys = ON;")
        .map_err(|e| e.to_string())?;
    applied?;
    match broken? {
        0 => Ok(()),
        n => Err(format!(
            "{n} row(s) point at rows that do not exist; see `PRAGMA foreign_key_check`"
        )),
    }
}

/// Whether a PostgreSQL database lacks one of this server's migrations, read without writing.
fn pending_postgres(conn: &mut Conn) -> Result<bool, String> {
    use diesel::migration::MigrationSource;
    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let ours = MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
        .map_err(|e| e.to_string())?;
    let applied: Vec<String> =
        crate::runtime::sql::Sql::raw("SELECT version FROM __diesel_schema_migrations")
            .load::<Applied>(conn)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|a| a.version)
            .collect();
    Ok(ours
        .iter()
        .any(|m| !applied.contains(&m.name().version().to_string())))
}

/// A PostgreSQL URL without its password, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) => format!(
            "{scheme}://{}@{host}",
            user.split(':').next().unwrap_or(user)
        ),
        None => url.to_string(),
    }
}

/// The SQLite file of a database URL: a path, `sqlite://path` or `sqlite:path`.
pub fn file_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Whether the database lives in memory only (and so has no file beside it).
pub fn in_memory(url: &str) -> bool {
    let path = file_path(url);
    path.is_empty() || path == ":memory:" || path.contains("mode=memory")
}

/// Why the database could not be opened.
#[derive(Debug)]
pub struct OpenError(pub String);

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpenError {}

impl Db {
    /// Opens the database at `url` and applies pending migrations. SQLite: a path, or
    /// `sqlite://path`, created if missing and switched to WAL mode. PostgreSQL: `postgres://…`,
    /// with libpq's TLS options (see `postgres.rs`). Read-only, it only checks that no migration is
    /// pending.
    pub fn open(url: &str, storage: Storage) -> Result<Db, OpenError> {
        let dialect = dialect_of(url);
        set_dialect(dialect).map_err(OpenError)?;
        if dialect == Dialect::Sqlite {
            configure_sqlite();
        }
        let shown = match dialect {
            Dialect::Sqlite => file_path(url).to_string(),
            Dialect::Postgres => redacted(url),
        };
        if dialect == Dialect::Postgres {
            crate::runtime::postgres::check(url)
                .map_err(|e| OpenError(format!("cannot open database `{shown}`: {e}")))?;
        }
        let pool = Pool::builder()
            .max_size(storage.pool_size)
            .min_idle(Some(storage.min_idle.min(storage.pool_size)))
            // Requests wait for a connection only as long as their budget allows (see `run`);
            // this bounds the wait at start-up for a server that does not answer.
            .connection_timeout(std::time::Duration::from_secs(10))
            // A local SQLite connection does not go stale; a broken PostgreSQL one is dropped when
            // it comes back (`has_broken`).
            .test_on_check_out(false)
            .build(Manager {
                url: url.to_string(),
                storage,
            })
            .map_err(|e| OpenError(format!("cannot open database `{shown}`: {e}")))?;
        let mut conn = pool
            .get()
            .map_err(|e| OpenError(format!("cannot connect to `{shown}`: {e}")))?;
        let migrations = match dialect {
            Dialect::Sqlite => MIGRATIONS,
            Dialect::Postgres => POSTGRES_MIGRATIONS,
        };
        if storage.read_only {
            let pending = match &mut *conn {
                Conn::Sqlite(c) => c
                    .has_pending_migration(migrations)
                    .map_err(|e| e.to_string()),
                // Diesel's check would create its bookkeeping table, which a read-only session
                // may not: the applied versions are read instead.
                Conn::Postgres(_) => pending_postgres(&mut conn),
            };
            let pending = pending
                .map_err(|e| OpenError(format!("cannot read the migrations of `{shown}`: {e}")))?;
            if pending {
                return Err(OpenError(format!("`{shown}` lacks migrations this server needs; apply them by starting it once without DATABASE_READ_ONLY")));
            }
            return Ok(Db::with(pool, url, storage));
        }
        match &mut *conn {
            Conn::Sqlite(c) => {
                c.batch_execute("PRAGMA journal_mode = WAL;")
                    .map_err(|e| OpenError(format!("cannot enable WAL on `{shown}`: {e}")))?;
                migrate(c)
                    .map_err(|e| OpenError(format!("migrations failed on `{shown}`: {e}")))?;
                optimize(c).map_err(|e| {
                    OpenError(format!("cannot gather the statistics of `{shown}`: {e}"))
                })?;
            }
            // Each migration runs in its own transaction: a failing one leaves the database as the
            // one before it left it.
            Conn::Postgres(c) => {
                let conn: &mut PgConnection = c;
                conn.run_pending_migrations(migrations)
                    .map_err(|e| OpenError(format!("migrations failed on `{shown}`: {e}")))?;
            }
        }
        crate::runtime::keys::ensure_table(&mut conn).map_err(OpenError)?;
        Ok(Db::with(pool, url, storage))
    }

    fn with(pool: Pool<Manager>, url: &str, storage: Storage) -> Db {
        let size = pool.max_size().try_into().unwrap_or(usize::MAX);
        let connections = Arc::new(tokio::sync::Semaphore::new(size));
        let reads = (dialect_of(url) == Dialect::Postgres)
            .then(|| Arc::new(ReadPool::new(url, postgres_session(&storage), size)));
        Db {
            pool,
            connections,
            reads,
        }
    }

    /// Runs `work` on a pooled connection, on this thread (for commands, not requests).
    pub fn with_conn<T>(&self, work: impl FnOnce(&mut Conn) -> T) -> Result<T, String> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        Ok(work(&mut conn))
    }

    /// Runs `work` with a pooled connection on the blocking thread pool; its statements are
    /// charged to `stats`, and stopped when the request's budget is spent. A request runs at most
    /// its budget's number of tasks at once, however many fields it selects.
    pub async fn run<T, F>(&self, stats: &Arc<RequestStats>, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let _task = stats.budget.task().await?;
        let connection = self.permit(stats).await?;
        let wait = stats.budget.remaining()?;
        let pool = self.pool.clone();
        let stats = stats.clone();
        tokio::task::spawn_blocking(move || {
            let _connection = connection;
            charged_to(&stats, || {
                let mut conn = pool
                    .get_timeout(wait)
                    .map_err(|e| match stats.budget.spent() {
                        true => ApiError::timeout(),
                        false => ApiError::unavailable(e),
                    })?;
                // SQLite checks the budget as it runs; PostgreSQL has its statement timeout.
                if let Conn::Sqlite(c) = &mut *conn {
                    let watched = stats.clone();
                    c.on_progress(PROGRESS_STEPS, move || match watched.budget.spent() {
                        true => ProgressDecision::Interrupt,
                        false => ProgressDecision::Continue,
                    });
                }
                let result = work(&mut conn);
                // The pooled connection must not keep this request alive, nor stop the next one.
                if let Conn::Sqlite(c) = &mut *conn {
                    c.remove_progress_handler();
                }
                result.map_err(|e| {
                    if stats.budget.spent() {
                        ApiError::timeout()
                    } else {
                        e
                    }
                })
            })
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// A permit to use one connection, waited for within the request's budget.
    async fn permit(
        &self,
        stats: &RequestStats,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(
            stats.budget.remaining()?,
            self.connections.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(ApiError::internal(closed)),
            Err(_) => Err(ApiError::timeout()),
        }
    }

    /// Reads the rows of each statement, in order, on one connection, charged to `stats` and
    /// bounded by the request's budget. On SQLite this is [`Db::run`]; on PostgreSQL the
    /// statements are sent from this task on a connection of the [`ReadPool`], with no blocking
    /// thread between the request and the database.
    pub async fn load<R: Loadable>(
        &self,
        stats: &Arc<RequestStats>,
        statements: Vec<Sql>,
    ) -> Result<Vec<Vec<R>>, ApiError> {
        let Some(reads) = &self.reads else {
            return self
                .run(stats, move |conn| {
                    let mut out = Vec::with_capacity(statements.len());
                    for sql in &statements {
                        out.push(sql.load(conn)?);
                    }
                    Ok(out)
                })
                .await;
        };
        let _task = stats.budget.task().await?;
        let _connection = self.permit(stats).await?;
        let work = async {
            let mut session = reads.get().await.map_err(ApiError::unavailable)?;
            let mut out = Vec::with_capacity(statements.len());
            let mut failed = None;
            for sql in statements {
                match sql.load_async(&mut session).await {
                    Ok(rows) => out.push(rows),
                    Err(e) => {
                        failed = Some(ApiError::from(e));
                        break;
                    }
                }
            }
            // Kept unless broken: a failed statement outside a transaction leaves it usable.
            reads.put(session);
            failed.map_or(Ok(out), Err)
        };
        // Cancelled (out of time, or the request went away), the connection is dropped with the
        // statement it was running, never lent again mid-answer.
        match tokio::time::timeout(stats.budget.remaining()?, charged(stats, work)).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) if !stats.budget.spent() => Err(e),
            _ => Err(ApiError::timeout()),
        }
    }

    /// [`Db::load`] of one statement.
    pub async fn load_one<R: Loadable>(
        &self,
        stats: &Arc<RequestStats>,
        sql: Sql,
    ) -> Result<Vec<R>, ApiError> {
        Ok(self.load(stats, vec![sql]).await?.pop().unwrap_or_default())
    }

    /// Runs `work` inside one transaction: all of it commits, or none of it (see
    /// [`Conn::transaction`]: `work` may run more than once).
    pub async fn transaction<T, F>(&self, stats: &Arc<RequestStats>, work: F) -> Result<T, ApiError>
    where
        F: FnMut(&mut Conn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(stats, move |conn| conn.transaction(work)).await
    }

    /// `SELECT 1`: is the database answering?
    pub async fn ping(&self) -> Result<(), ApiError> {
        let stats = Arc::new(RequestStats::default());
        self.run(&stats, |conn| {
            conn.batch_execute("SELECT 1").map_err(ApiError::from)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Step {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }

    fn plan(conn: &mut SqliteConnection) -> String {
        let query = "EXPLAIN QUERY PLAN SELECT id FROM posts WHERE id IN (SELECT value FROM json_each('[17]')) AND status = 'published'";
        let steps: Vec<Step> = diesel::sql_query(query).load(conn).unwrap();
        steps
            .into_iter()
            .map(|s| s.detail)
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn json(conn: &mut Conn, sql: &crate::runtime::sql::Sql) -> serde_json::Value {
        let rows: Vec<crate::runtime::sql::JsonRow> = sql.load(conn).unwrap();
        serde_json::Value::Object(rows.into_iter().next().unwrap().0)
    }

    #[test]
    fn retry_pauses_are_short_random_and_grow() {
        for attempt in 1..8 {
            let ceiling = std::time::Duration::from_micros(500 + (1000 << attempt.min(4)));
            let pauses: Vec<_> = (0..50).map(|_| retry_pause(attempt)).collect();
            assert!(pauses
                .iter()
                .all(|p| *p >= std::time::Duration::from_micros(500) && *p < ceiling));
            assert!(pauses.windows(2).any(|w| w[0] != w[1]), "random");
        }
    }

    /// SQLite keeps statements prepared by their text, bounded like PostgreSQL's, and a `?` in
    /// a string is text, not a parameter.
    #[test]
    fn sqlite_statements_stay_prepared_up_to_the_bound() {
        use crate::runtime::sql::{Bind, Sql};
        let mut conn = Conn::Sqlite(Box::new(SqliteSession::new(
            SqliteConnection::establish(":memory:").unwrap(),
        )));
        let prepared = |conn: &Conn| match conn {
            Conn::Sqlite(c) => c.prepared_statements(),
            Conn::Postgres(c) => c.prepared_statements(),
        };
        for n in 0..3 {
            let mut sql = Sql::raw("SELECT json_object('mark', '?', 'n', ");
            sql.bind(Bind::Int(n))
                .push(", 'flag', ")
                .bind(Bind::Bool(true))
                .push(", 'null', ")
                .bind(Bind::Null)
                .push(", 'number', ")
                .bind(Bind::Numeric("2.5".into()))
                .push(") AS gqlauto_json");
            assert_eq!(
                json(&mut conn, &sql),
                serde_json::json!({"mark": "?", "n": n, "flag": 1, "null": null, "number": 2.5})
            );
        }
        assert_eq!(prepared(&conn), 1, "one text, prepared once");
        for n in 0..PREPARED_STATEMENTS + 10 {
            let sql = Sql::raw(format!("SELECT json_object('n', {n}) AS gqlauto_json"));
            assert_eq!(json(&mut conn, &sql), serde_json::json!({ "n": n }));
        }
        assert_eq!(prepared(&conn), 11, "the cache started over at the bound");
    }

    fn threads() -> usize {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Threads:"))
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Requests queue for a busy connection as tasks, not as blocking threads, and give up when
    /// their time is spent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_wait_for_a_connection_without_a_thread_each() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("wait.db").to_string_lossy().into_owned();
        let storage = Storage {
            pool_size: 1,
            ..Storage::default()
        };
        let db = tokio::task::spawn_blocking(move || Db::open(&url, storage))
            .await
            .unwrap()
            .unwrap();
        let (held, release) = std::sync::mpsc::channel::<()>();
        let holder = {
            let db = db.clone();
            tokio::spawn(async move {
                let stats = Arc::new(RequestStats::default());
                db.run(&stats, move |_| {
                    release.recv().ok();
                    Ok(())
                })
                .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let before = threads();
        let waiting: Vec<_> = (0..32)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    let budget = crate::runtime::budget::Budget::new(
                        std::time::Duration::from_millis(200),
                        1,
                    );
                    let stats = Arc::new(RequestStats::new(budget));
                    db.run(&stats, |_| Ok(())).await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let during = threads();
        for w in waiting {
            let err = w.await.unwrap().unwrap_err();
            assert_eq!(err.code, crate::runtime::error::ErrorCode::Timeout);
        }
        held.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert!(
            during <= before + 1,
            "32 waiting requests started {} threads",
            during - before
        );
    }

    /// References are checked after migrations ran (they rebuild tables with foreign keys off),
    /// and only then: a start with nothing to apply does not read every row.
    #[test]
    fn references_are_checked_after_migrations_only() {
        let dangling = "PRAGMA foreign_keys = OFF;
             CREATE TABLE gqlauto_test_parent (id INTEGER PRIMARY KEY);
             CREATE TABLE gqlauto_test_child (parent_id INTEGER REFERENCES gqlauto_test_parent (id));
             INSERT INTO gqlauto_test_child VALUES (5);";
        let mut fresh = SqliteConnection::establish(":memory:").unwrap();
        fresh.batch_execute(dangling).unwrap();
        let refused = migrate(&mut fresh).unwrap_err();
        assert!(
            refused.contains("1 row(s) point at rows that do not exist"),
            "{refused}"
        );
        let mut current = SqliteConnection::establish(":memory:").unwrap();
        migrate(&mut current).unwrap();
        current.batch_execute(dangling).unwrap();
        migrate(&mut current).expect("nothing to apply, nothing checked");
    }

    #[test]
    fn statistics_let_a_key_lookup_with_a_condition_use_the_key() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, status TEXT NOT NULL);
             CREATE INDEX posts_status_idx ON posts (status);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO posts SELECT i, CASE i % 3 WHEN 0 THEN 'draft' WHEN 1 THEN 'published' ELSE 'archived' END FROM n;",
        )
        .unwrap();
        // Without statistics the planner takes the status index: a third of the table.
        assert!(
            plan(&mut conn).contains("posts_status_idx"),
            "{}",
            plan(&mut conn)
        );
        optimize(&mut conn).unwrap();
        assert!(
            plan(&mut conn).contains("INTEGER PRIMARY KEY"),
            "{}",
            plan(&mut conn)
        );
    }
}
