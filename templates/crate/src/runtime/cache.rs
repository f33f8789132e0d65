//! Answers to queries, kept in memory and served again while the database has not changed.
//!
//! SQLite tells whether any connection has committed since it last looked: `PRAGMA data_version`
//! on a connection that only watches changes whenever another connection (one of this server's,
//! or another program's, such as a Django application sharing the file) commits a write. Every
//! lookup asks first, and a change empties the cache; an answer read while a change was being
//! committed is not kept. So a cached answer is never older than the database when it is served,
//! and a server answering the same question again skips the database and the executor.
//!
//! Answers are cached per caller (the role and every claim of its token), per query text,
//! operation and variables; only answers without errors. The cache is bounded in bytes and forgets
//! its oldest entries first. PostgreSQL has no such cheap signal across servers sharing a
//! database, so there the server caches nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

/// The cache of one server.
pub struct ResponseCache {
    watch: Mutex<SqliteConnection>,
    entries: Mutex<Entries>,
    budget: usize,
}

#[derive(Default)]
struct Entries {
    /// The `data_version` the entries were read at.
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
pub struct Version(i64);

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

impl ResponseCache {
    /// A cache of at most `budget` bytes (keys and answers) for the SQLite file at `path`.
    pub fn open(path: &str, budget: usize) -> Result<ResponseCache, String> {
        let watch = SqliteConnection::establish(path)
            .map_err(|e| format!("cannot open `{path}` to watch it for changes: {e}"))?;
        let cache = ResponseCache {
            watch: Mutex::new(watch),
            entries: Mutex::default(),
            budget,
        };
        cache
            .version()
            .ok_or_else(|| format!("cannot read the data version of `{path}`"))?;
        Ok(cache)
    }

    /// The database's version now: it changes whenever another connection commits.
    fn version(&self) -> Option<i64> {
        let mut watch = self.watch.lock().ok()?;
        let row: DataVersion = diesel::sql_query("PRAGMA data_version")
            .get_result(&mut *watch)
            .ok()?;
        Some(row.data_version)
    }

    /// The cached answer to `key`, if the database has not changed since it was read; `None`
    /// when the database's version cannot be read (then nothing is cached).
    pub fn lookup(&self, key: &str) -> Option<Lookup> {
        let now = self.version()?;
        let mut entries = self.entries.lock().ok()?;
        if entries.version != Some(now) {
            entries.clear();
            entries.version = Some(now);
        }
        Some(match entries.answers.get(key) {
            Some(answer) => Lookup::Hit(answer.clone()),
            None => Lookup::Miss(Version(now)),
        })
    }

    /// Keeps `answer` to `key`, read at version `at`, unless the database changed meanwhile or the
    /// answer is larger than an eighth of the budget. The oldest entries make room.
    pub fn store(&self, key: String, answer: Bytes, at: Version) {
        let size = key.len() + answer.len();
        if size > self.budget / 8 || self.version() != Some(at.0) {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.version != Some(at.0) {
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

    fn hit(c: &ResponseCache, key: &str) -> Option<Bytes> {
        match c.lookup(key).unwrap() {
            Lookup::Hit(answer) => Some(answer),
            Lookup::Miss(_) => None,
        }
    }

    fn miss(c: &ResponseCache, key: &str) -> Version {
        match c.lookup(key).unwrap() {
            Lookup::Hit(_) => panic!("{key} is cached"),
            Lookup::Miss(v) => v,
        }
    }

    #[test]
    fn answers_are_served_until_any_connection_commits() {
        let dir = tempfile::tempdir().unwrap();
        let (c, mut writer) = cache(&dir, 1 << 20);
        let v = miss(&c, "q");
        c.store("q".into(), Bytes::from_static(b"{\"data\":1}"), v);
        assert_eq!(hit(&c, "q").as_deref(), Some(&b"{\"data\":1}"[..]));
        assert!(hit(&c, "other").is_none());
        diesel::sql_query("INSERT INTO t VALUES (1)")
            .execute(&mut writer)
            .unwrap();
        assert!(
            hit(&c, "q").is_none(),
            "a commit elsewhere empties the cache"
        );
    }

    #[test]
    fn an_answer_read_across_a_commit_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (c, mut writer) = cache(&dir, 1 << 20);
        let v = miss(&c, "q");
        diesel::sql_query("INSERT INTO t VALUES (1)")
            .execute(&mut writer)
            .unwrap();
        c.store("q".into(), Bytes::from_static(b"{\"data\":1}"), v);
        assert!(hit(&c, "q").is_none());
    }

    #[test]
    fn the_oldest_answers_make_room_and_large_ones_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (c, _writer) = cache(&dir, 800);
        let answer = Bytes::from(vec![b'x'; 90]);
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            let v = miss(&c, key);
            c.store(key.into(), answer.clone(), v);
        }
        // Nine answers of 91 bytes in 800: the first made room for the ninth.
        assert!(hit(&c, "a").is_none(), "the oldest went");
        assert!(["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .all(|k| hit(&c, k).is_some()));
        let v = miss(&c, "big");
        c.store("big".into(), Bytes::from(vec![b'x'; 120]), v);
        assert!(hit(&c, "big").is_none(), "over an eighth of the budget");
    }

    #[test]
    fn served_answers_report_no_statements() {
        assert_eq!(
            with_no_statements(b"{\"data\":{\"a\":1}}"),
            b"{\"data\":{\"a\":1},\"extensions\":{\"sqlStatements\":0}}"
        );
    }
}
