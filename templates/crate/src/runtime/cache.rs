//! Answers to queries, kept in memory and served again while the database has not changed.
//!
//! Every lookup first asks the database whether anything was committed since the cached answers
//! were read, and a change empties the cache; an answer read while a change was being committed
//! is not kept. So a cached answer is never older than the database when it is served, and a
//! server answering the same question again skips the database's rows and the executor.
//!
//! - SQLite: `PRAGMA data_version` on a connection that only watches changes whenever another
//!   connection (one of this server's, or another program's, such as a Django application sharing
//!   the file) commits a write.
//! - PostgreSQL: the position of the write-ahead log (`pg_current_wal_insert_lsn()`, or the
//!   position replayed on a read replica), which every committed write moves, whichever server or
//!   program made it: two servers on one database never serve each other's stale answers. Any
//!   write to the cluster moves it (another database's, a vacuum's), so those empty the cache too;
//!   writes that skip the log (`UNLOGGED` or temporary tables of another program) are not seen.
//!   Reading it is a round trip, so requests that arrive while one reading is under way wait for
//!   the next one and share it (a reading that began before a request arrived cannot answer it),
//!   and a question is cached from its second asking: the first costs no reading, so answers
//!   nobody asks again (lookups of ever new keys) cost nothing.
//!
//! Answers are cached per caller (the role and every claim of its token), per query text,
//! operation and variables; only answers without errors. The cache is bounded in bytes and forgets
//! its oldest entries first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::runtime::budget::Budget;
use crate::runtime::db::Db;
use crate::runtime::metrics::RequestStats;
use crate::runtime::sql::{JsonRow, Sql};

/// The cache of one server.
pub struct ResponseCache {
    watch: Watch,
    entries: Mutex<Entries>,
    budget: usize,
    /// Hashes of the questions asked recently (PostgreSQL): one is kept from its second asking.
    asked: Mutex<std::collections::HashSet<u64>>,
}

/// How many recent questions are remembered (8 bytes each) before they are forgotten at once.
const RECENT_QUESTIONS: usize = 65_536;

/// How the cache learns that the database changed.
enum Watch {
    /// A connection of its own that only reads `PRAGMA data_version`.
    Sqlite(Mutex<SqliteConnection>),
    /// The pool's connections read the log position; the last reading and when it began.
    Postgres {
        db: Db,
        last: tokio::sync::Mutex<Option<(Instant, Version)>>,
    },
}

#[derive(Default)]
struct Entries {
    /// The database version the entries were read at.
    version: Option<i64>,
    answers: HashMap<Arc<str>, Bytes>,
    /// Keys, oldest first.
    order: VecDeque<Arc<str>>,
    bytes: usize,
}

impl Entries {
    fn clear(&mut self) {
        self.answers.clear();
        self.order.clear();
        self.bytes = 0;
    }
}

/// The database's version when a query began, to store its answer under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    at: i64,
    /// Whether an answer read from here on may be kept: on PostgreSQL, not while a writing
    /// transaction is running (its commit may be in the log and not yet visible).
    settled: bool,
}

/// What a lookup found.
pub enum Lookup {
    /// The answer, as it was encoded (`{"data":…}`).
    Hit(Bytes),
    /// Nothing yet: the query runs, and its answer may be stored at this version.
    Miss(Version),
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

/// The write-ahead log's position, in bytes from its start (on a replica, the position
/// replayed), and whether no transaction that writes is running in the cluster (none holds a
/// transaction id; any role may see that in `pg_stat_activity`). A commit enters the log before
/// it becomes visible, so a reading taken in between would let an answer without that commit be
/// kept under the position that includes it: answers are kept only from settled readings.
const LOG_POSITION: &str = "SELECT json_build_object('at', (CASE WHEN pg_is_in_recovery() \
     THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END - '0/0'::pg_lsn)::bigint, \
     'settled', NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_xid IS NOT NULL)) \
     AS gqlauto_json";

/// How long a reading of the log position may take before the request goes on without the cache.
const READING_TIMEOUT: Duration = Duration::from_secs(2);

impl ResponseCache {
    /// A cache of at most `budget` bytes (keys and answers) for the SQLite file at `path`.
    pub fn open(path: &str, budget: usize) -> Result<ResponseCache, String> {
        let watch = SqliteConnection::establish(path)
            .map_err(|e| format!("cannot open `{path}` to watch it for changes: {e}"))?;
        let cache = ResponseCache {
            watch: Watch::Sqlite(Mutex::new(watch)),
            entries: Mutex::default(),
            budget,
            asked: Mutex::default(),
        };
        cache
            .watched_version()
            .ok_or_else(|| format!("cannot read the data version of `{path}`"))?;
        Ok(cache)
    }

    /// A cache of at most `budget` bytes for the PostgreSQL database `db` serves.
    pub async fn postgres(db: Db, budget: usize) -> Result<ResponseCache, String> {
        let cache = ResponseCache {
            watch: Watch::Postgres {
                db,
                last: tokio::sync::Mutex::new(None),
            },
            entries: Mutex::default(),
            budget,
            asked: Mutex::default(),
        };
        cache.version().await.ok_or_else(|| {
            "cannot read the database's write-ahead log position (pg_current_wal_insert_lsn)"
                .to_string()
        })?;
        Ok(cache)
    }

    /// SQLite's `data_version` on the watching connection.
    fn watched_version(&self) -> Option<Version> {
        let Watch::Sqlite(watch) = &self.watch else {
            return None;
        };
        let mut watch = watch.lock().ok()?;
        let row: DataVersion = diesel::sql_query("PRAGMA data_version")
            .get_result(&mut *watch)
            .ok()?;
        // A commit and the version it makes become visible together.
        Some(Version {
            at: row.data_version,
            settled: true,
        })
    }

    /// The database's version now, read after this call began: it changes whenever anything is
    /// committed (on SQLite, by another connection).
    async fn version(&self) -> Option<Version> {
        let Watch::Postgres { db, last } = &self.watch else {
            return self.watched_version();
        };
        let asked = Instant::now();
        let mut last = last.lock().await;
        if let Some((began, position)) = *last {
            if began >= asked {
                return Some(position);
            }
        }
        let began = Instant::now();
        let stats = Arc::new(RequestStats::new(Budget::new(READING_TIMEOUT, 1)));
        let rows: Vec<JsonRow> = db.load_one(&stats, Sql::raw(LOG_POSITION)).await.ok()?;
        let row = &rows.first()?.0;
        let position = Version {
            at: row.get("at")?.as_i64()?,
            settled: row.get("settled")?.as_bool()?,
        };
        *last = Some((began, position));
        Some(position)
    }

    /// The cached answer to `key`, if the database has not changed since it was read; `None`
    /// when the answer is not to be kept (then nothing is read or stored): the database's
    /// version cannot be read, or on PostgreSQL, where reading it is a round trip, the question
    /// is new (asked for the first time since [`RECENT_QUESTIONS`] others), so answers that are
    /// never asked again cost no reading.
    pub async fn lookup(&self, key: &str) -> Option<Lookup> {
        if matches!(self.watch, Watch::Postgres { .. }) && !self.asked_before(key) {
            return None;
        }
        let now = self.version().await?;
        let mut entries = self.entries.lock().ok()?;
        if entries.version != Some(now.at) {
            entries.clear();
            entries.version = Some(now.at);
        }
        Some(match entries.answers.get(key) {
            Some(answer) => Lookup::Hit(answer.clone()),
            None => Lookup::Miss(now),
        })
    }

    /// Whether `key` is cached or was asked recently; notes it as asked.
    fn asked_before(&self, key: &str) -> bool {
        if self
            .entries
            .lock()
            .is_ok_and(|entries| entries.answers.contains_key(key))
        {
            return true;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(key, &mut hasher);
        let question = std::hash::Hasher::finish(&hasher);
        let Ok(mut asked) = self.asked.lock() else {
            return false;
        };
        if asked.len() >= RECENT_QUESTIONS {
            asked.clear();
        }
        !asked.insert(question)
    }

    /// Keeps `answer` to `key`, read at version `at`, unless the database changed meanwhile or the
    /// answer is larger than an eighth of the budget. The oldest entries make room.
    pub async fn store(&self, key: String, answer: Bytes, at: Version) {
        let size = key.len() + answer.len();
        if size > self.budget / 8
            || !at.settled
            || self.version().await.map(|now| now.at) != Some(at.at)
        {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.version != Some(at.at) {
            return;
        }
        let key: Arc<str> = key.into();
        if entries.answers.contains_key(&key) {
            return;
        }
        while entries.bytes + size > self.budget {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(gone) = entries.answers.remove(&oldest) {
                entries.bytes -= oldest.len() + gone.len();
            }
        }
        entries.bytes += size;
        entries.order.push_back(key.clone());
        entries.answers.insert(key, answer);
    }
}

/// A cached answer (`{"data":…}`) with `extensions.sqlStatements` of 0 added: a served answer
/// ran no statement.
pub fn with_no_statements(answer: &[u8]) -> Vec<u8> {
    let mut out = answer.to_vec();
    if out.last() == Some(&b'}') {
        out.pop();
        out.extend_from_slice(b",\"extensions\":{\"sqlStatements\":0}}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &tempfile::TempDir, budget: usize) -> (ResponseCache, SqliteConnection) {
        let path = dir.path().join("cache.db");
        let path = path.to_str().unwrap();
        let mut writer = SqliteConnection::establish(path).unwrap();
        diesel::sql_query("CREATE TABLE t (x INTEGER)")
            .execute(&mut writer)
            .unwrap();
        (ResponseCache::open(path, budget).unwrap(), writer)
    }

    async fn hit(c: &ResponseCache, key: &str) -> Option<Bytes> {
        match c.lookup(key).await.unwrap() {
            Lookup::Hit(answer) => Some(answer),
            Lookup::Miss(_) => None,
        }
    }

    async fn miss(c: &ResponseCache, key: &str) -> Version {
        match c.lookup(key).await.unwrap() {
            Lookup::Hit(_) => panic!("{key} is cached"),
            Lookup::Miss(v) => v,
        }
    }

    #[tokio::test]
    async fn answers_are_served_until_any_connection_commits() {
        let dir = tempfile::tempdir().unwrap();
        let (c, mut writer) = cache(&dir, 1 << 20);
        let v = miss(&c, "q").await;
        c.store("q".into(), Bytes::from_static(b"{\"data\":1}"), v)
            .await;
        assert_eq!(hit(&c, "q").await.as_deref(), Some(&b"{\"data\":1}"[..]));
        assert!(hit(&c, "other").await.is_none());
        diesel::sql_query("INSERT INTO t VALUES (1)")
            .execute(&mut writer)
            .unwrap();
        assert!(
            hit(&c, "q").await.is_none(),
            "a commit elsewhere empties the cache"
        );
    }

    #[tokio::test]
    async fn an_answer_read_across_a_commit_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (c, mut writer) = cache(&dir, 1 << 20);
        let v = miss(&c, "q").await;
        diesel::sql_query("INSERT INTO t VALUES (1)")
            .execute(&mut writer)
            .unwrap();
        c.store("q".into(), Bytes::from_static(b"{\"data\":1}"), v)
            .await;
        assert!(hit(&c, "q").await.is_none());
    }

    #[tokio::test]
    async fn the_oldest_answers_make_room_and_large_ones_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (c, _writer) = cache(&dir, 800);
        let answer = Bytes::from(vec![b'x'; 90]);
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            let v = miss(&c, key).await;
            c.store(key.into(), answer.clone(), v).await;
        }
        // Nine answers of 91 bytes in 800: the first made room for the ninth.
        assert!(hit(&c, "a").await.is_none(), "the oldest went");
        for key in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            assert!(hit(&c, key).await.is_some(), "{key} stays");
        }
        let v = miss(&c, "big").await;
        c.store("big".into(), Bytes::from(vec![b'x'; 120]), v).await;
        assert!(
            hit(&c, "big").await.is_none(),
            "over an eighth of the budget"
        );
    }

    /// On PostgreSQL a question is cached from its second asking (the check itself is the same
    /// on both databases).
    #[tokio::test]
    async fn questions_are_known_from_their_second_asking() {
        let dir = tempfile::tempdir().unwrap();
        let (c, _writer) = cache(&dir, 1 << 20);
        assert!(!c.asked_before("q"), "new");
        assert!(c.asked_before("q"), "asked before");
        let v = miss(&c, "cached").await;
        c.store("cached".into(), Bytes::from_static(b"{}"), v).await;
        assert!(c.asked_before("cached"), "a cached question is known");
        for n in 0..RECENT_QUESTIONS {
            c.asked_before(&n.to_string());
        }
        assert!(!c.asked_before("q"), "forgotten after as many others");
    }

    #[test]
    fn served_answers_report_no_statements() {
        assert_eq!(
            with_no_statements(b"{\"data\":{\"a\":1}}"),
            b"{\"data\":{\"a\":1},\"extensions\":{\"sqlStatements\":0}}"
        );
    }
}
