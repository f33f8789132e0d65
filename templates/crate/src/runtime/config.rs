//! Server configuration: environment variables, overridden by command-line flags.

use clap::Parser;

use crate::runtime::auth::Authenticator;
use crate::runtime::cache::ResponseCache;
use crate::runtime::context::Limits;
use crate::runtime::db::{dialect_of, file_path, in_memory, Db, Storage};
use crate::runtime::guard::RequestLimits;
use crate::runtime::sql::Dialect;
use crate::settings;

/// A SQLite file beside the server, unless the manifest keeps the tables in PostgreSQL (then
/// `DATABASE_URL` must be given).
const DEFAULT_DATABASE_URL: &str = if settings::POSTGRES { "" } else { "data.db" };

/// The server's settings, from the environment and the command line.
#[derive(Debug, Clone, Parser)]
#[command(name = settings::NAME, about = settings::DESCRIPTION, long_about = None, version)]
pub struct Config {
    /// Without a command, the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Database: a SQLite file path (created if missing) or `sqlite://path`, or a PostgreSQL server
    /// (`postgres://user:password@host:port/database`; required when the manifest keeps the tables
    /// in PostgreSQL).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free one (the chosen address is printed).
    #[arg(long, env = "PORT", default_value_t = 8000)]
    pub port: u16,
    /// Database connections in the pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub pool_size: u32,
    /// Connections kept open while the server is idle; more are opened as requests need them, up
    /// to `DB_POOL_SIZE`, and closed again after ten idle minutes.
    #[arg(long, env = "DB_POOL_MIN_IDLE", default_value_t = 1)]
    pub pool_min_idle: u32,
    /// Bytes of the database file mapped into memory (SQLite `mmap_size`); 0 turns mapping off.
    #[arg(long, env = "SQLITE_MMAP_BYTES", default_value_t = 268_435_456)]
    pub sqlite_mmap_bytes: u64,
    /// Page cache of each database connection, in KiB (SQLite `cache_size`).
    #[arg(long, env = "SQLITE_CACHE_KIB", default_value_t = 8192)]
    pub sqlite_cache_kib: u32,
    /// Bytes of answers kept to serve again while the database is unchanged (any commit, by this
    /// server or another program or server, empties the cache: SQLite's `data_version`,
    /// PostgreSQL's write-ahead log position); 0 turns caching off.
    #[arg(long, env = "RESPONSE_CACHE_BYTES", default_value_t = 16_777_216)]
    pub response_cache_bytes: u64,
    /// Serve the database read-only (a replica, or a database another program owns): no
    /// migrations are applied and every write is refused.
    #[arg(long, env = "DATABASE_READ_ONLY")]
    pub database_read_only: bool,
    /// Deepest selection nesting a query may have (introspection excepted).
    #[arg(long, env = "MAX_DEPTH", default_value_t = settings::MAX_DEPTH, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_depth: u32,
    /// Largest complexity score a query may have (list fields multiply by their page size).
    #[arg(long, env = "MAX_COMPLEXITY", default_value_t = settings::MAX_COMPLEXITY, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_complexity: u32,
    /// Page size of lists queried without `limit`.
    #[arg(long, env = "DEFAULT_PAGE_SIZE", default_value_t = settings::DEFAULT_PAGE_SIZE)]
    pub default_page_size: i64,
    /// Largest `limit` a list accepts.
    #[arg(long, env = "MAX_PAGE_SIZE", default_value_t = settings::MAX_PAGE_SIZE)]
    pub max_page_size: i64,
    /// Report the SQL statements each request ran as `extensions.sqlStatements` in its response.
    #[arg(long, env = "REPORT_SQL_STATEMENTS")]
    pub report_sql_statements: bool,
    /// Production mode: no GraphiQL, no field suggestions in errors, no introspection (unless
    /// `ALLOW_INTROSPECTION`).
    #[arg(long, env = "PRODUCTION")]
    pub production: bool,
    /// Answer introspection queries in production mode (they are always answered in development).
    #[arg(long, env = "ALLOW_INTROSPECTION")]
    pub allow_introspection: bool,
    /// Largest request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1_048_576, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_body_bytes: u32,
    /// Deepest nesting of brackets in a document, and of lists and objects in variables.
    #[arg(long, env = "MAX_INPUT_DEPTH", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_input_depth: u32,
    /// Most tokens (names, values, punctuation) in one document.
    #[arg(long, env = "MAX_TOKENS", default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_tokens: u32,
    /// Most field selections one operation may run, counting aliases and every use of a fragment.
    #[arg(long, env = "MAX_FIELDS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_fields: u32,
    /// Most root fields (aliases included) in one operation.
    #[arg(long, env = "MAX_ROOT_FIELDS", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_root_fields: u32,
    /// Most directives on one field or fragment.
    #[arg(long, env = "MAX_DIRECTIVES", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_directives: u32,
    /// Longest a request may take, reading its body included, in milliseconds; its database
    /// statements are interrupted when it is over.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,
    /// Requests executed at once; the others wait their turn, within their time limit. Each
    /// holds its rows and its answer while it runs, so this bounds the server's memory under
    /// load. 0: as many as `DB_POOL_SIZE` (more would mostly wait for a connection), and on
    /// SQLite at most two per CPU core (its reads use the CPU, not the network).
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = 0)]
    pub max_concurrent_requests: u32,
    /// Database tasks one request may run at once (the others wait their turn).
    #[arg(long, env = "DB_TASKS_PER_REQUEST", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub db_tasks_per_request: u32,
    /// Longest wait for a request's headers, on a new connection or an idle kept-alive one, in
    /// milliseconds; the connection is closed after it.
    #[arg(long, env = "HEADER_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_ms: u64,
    /// Most connections served at once; further clients wait to be accepted.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// How long shutdown (SIGINT or SIGTERM) waits for requests in flight, in milliseconds.
    #[arg(long, env = "SHUTDOWN_GRACE_MS", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,
    /// The key that signs connection cursors (any long random text). Without it, a key is
    /// created once in `<database file>.key`.
    #[arg(long, env = "CURSOR_SECRET", hide_env_values = true)]
    pub cursor_secret: Option<String>,
    /// Shared secret (at least 32 bytes) that verifies HS256/HS384/HS512 tokens.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// A JWKS file with the public keys that verify asymmetric tokens (each key with `kid` and `alg`).
    #[arg(long, env = "JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<std::path::PathBuf>,
    /// The URL of a JWKS document (an identity provider's `jwks_uri`), fetched at start-up and
    /// kept current; needs the `jwks-url` feature.
    #[arg(long, env = "JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,
    /// How often the keys of `JWT_JWKS_URL` are fetched again, in seconds (a token naming an
    /// unknown `kid` fetches them at once, at most every 30 seconds or this, if shorter).
    #[arg(long, env = "JWT_JWKS_REFRESH_SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub jwt_jwks_refresh_seconds: u64,
    /// A PEM public key verifying tokens without a `kid` (with `JWT_PUBLIC_KEY_ALGORITHM`).
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<std::path::PathBuf>,
    /// The algorithm of `JWT_PUBLIC_KEY_FILE`'s key: RS256/384/512, PS256/384/512, ES256/384 or EdDSA.
    #[arg(long, env = "JWT_PUBLIC_KEY_ALGORITHM", default_value = "RS256")]
    pub jwt_public_key_algorithm: String,
    /// Tokens must carry this issuer (`iss`), when set.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Tokens must carry this audience (`aud`), when set.
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Clock leeway for `exp` and `nbf`, in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECONDS", default_value_t = 30)]
    pub jwt_leeway_seconds: u64,
    /// Origins whose web pages may call the API from a browser (CORS), comma-separated, such as
    /// `https://app.example.com`; none by default.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,
}

/// What the binary does besides serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Manages API keys: `create --role ROLE [--name N] [--claim NAME=VALUE]`, `list`, `revoke ID`.
    #[command(subcommand)]
    ApiKey(crate::runtime::keys::KeyCommand),
}

impl Config {
    /// Requests executed at once: `MAX_CONCURRENT_REQUESTS`, or its default (see there).
    pub fn concurrent_requests(&self) -> usize {
        let pool = usize::try_from(self.pool_size).unwrap_or(usize::MAX);
        match self.max_concurrent_requests {
            0 => match crate::runtime::db::dialect_of(&self.database_url) {
                crate::runtime::sql::Dialect::Sqlite => {
                    let cores = std::thread::available_parallelism().map_or(1, usize::from);
                    pool.min(2 * cores)
                }
                crate::runtime::sql::Dialect::Postgres => pool,
            },
            n => usize::try_from(n).unwrap_or(usize::MAX),
        }
    }

    pub fn storage(&self) -> Storage {
        Storage {
            pool_size: self.pool_size,
            min_idle: self.pool_min_idle,
            mmap_bytes: self.sqlite_mmap_bytes,
            cache_kib: self.sqlite_cache_kib,
            read_only: self.database_read_only,
            statement_timeout_ms: self.request_timeout_ms,
        }
    }

    /// The answer cache this configuration asks for on the database `db` serves, or why there is
    /// none.
    pub async fn response_cache(&self, db: &Db) -> Result<Option<ResponseCache>, String> {
        let url = &self.database_url;
        if self.response_cache_bytes == 0 || in_memory(url) {
            return Ok(None);
        }
        let budget = usize::try_from(self.response_cache_bytes).unwrap_or(usize::MAX);
        match dialect_of(url) {
            Dialect::Sqlite => ResponseCache::open(file_path(url), budget).map(Some),
            // A database that does not let its role read the log position (some managed
            // services) is served without the cache rather than not at all.
            Dialect::Postgres => match ResponseCache::postgres(db.clone(), budget).await {
                Ok(cache) => Ok(Some(cache)),
                Err(e) => {
                    eprintln!("{e}; answers are not cached");
                    Ok(None)
                }
            },
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            default_page_size: self.default_page_size,
            max_page_size: self.max_page_size,
        }
    }

    pub fn request_limits(&self) -> RequestLimits {
        let n = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
        RequestLimits {
            max_input_depth: n(self.max_input_depth),
            max_tokens: n(self.max_tokens),
            max_depth: n(self.max_depth),
            max_fields: n(self.max_fields),
            max_root_fields: n(self.max_root_fields),
            max_directives: n(self.max_directives),
            max_complexity: n(self.max_complexity),
            introspection: self.introspection(),
        }
    }

    /// The token verifier for these settings.
    pub fn authenticator(&self) -> Result<Authenticator, String> {
        let jwks = match &self.jwt_jwks_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read JWT_JWKS_FILE `{}`: {e}", path.display()))?,
            ),
            None => None,
        };
        let mut authenticator = Authenticator::new(
            self.jwt_secret.as_deref(),
            jwks.as_deref(),
            self.jwt_leeway_seconds,
            self.jwt_issuer.clone(),
            self.jwt_audience.clone(),
        )?;
        if let Some(url) = &self.jwt_jwks_url {
            authenticator = authenticator.with_jwks_url(
                url,
                std::time::Duration::from_secs(self.jwt_jwks_refresh_seconds),
            )?;
        }
        match &self.jwt_public_key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(path).map_err(|e| {
                    format!("cannot read JWT_PUBLIC_KEY_FILE `{}`: {e}", path.display())
                })?;
                authenticator.with_public_key(&pem, &self.jwt_public_key_algorithm)
            }
            None => Ok(authenticator),
        }
    }

    /// Whether introspection queries are answered.
    pub fn introspection(&self) -> bool {
        !self.production || self.allow_introspection
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests run at once with `MAX_CONCURRENT_REQUESTS=max`, `DB_POOL_SIZE=pool` on `url`.
    fn concurrency(max: &str, pool: &str, url: &str) -> usize {
        let args = [
            "server",
            "--max-concurrent-requests",
            max,
            "--pool-size",
            pool,
            "--database-url",
            url,
        ];
        Config::try_parse_from(args).unwrap().concurrent_requests()
    }

    /// SQLite's reads use the CPU: by default no more requests run at once than two per core,
    /// which bounds the memory they hold; PostgreSQL's wait on the network, so as many as the
    /// pool serves. A value given is kept.
    #[test]
    fn requests_run_at_once_by_pool_and_cores() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(concurrency("0", "1000", "data.db"), 2 * cores);
        assert_eq!(concurrency("0", "1000", "postgres://u@localhost/db"), 1000);
        assert_eq!(concurrency("0", "1", "data.db"), 1);
        assert_eq!(concurrency("3", "8", "data.db"), 3);
    }
}
