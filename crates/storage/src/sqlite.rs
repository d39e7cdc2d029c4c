//! The SQLite pools and the pragmas every connection gets.
//!
//! SQLite allows one writer at a time. With a pool of writers, contending transactions
//! spin in `busy_timeout` and the tail explodes (measured here: 8 pooled writers gave a
//! 221 ms p99 and tails over 1 s). So a SQLite [`crate::Database`] has **one writer connection**, owned by a
//! writer thread that commits queued writes in groups (see [`crate::writer`]), beside a
//! pool of read-only connections that never wait for the writer thanks to WAL.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use core_models::{AppError, AppResult};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, Pool};
use diesel_migrations::MigrationHarness;

pub use crate::config::WAL_RESTART_FRAMES;
use crate::config::{DbConfig, PooledConn, MIGRATIONS_SQLITE};
use crate::conn::{DbConn, Engine, Manager};
use crate::slots::{SearchConn, Slots};
use crate::url::DatabaseUrl;
use crate::writer::Writer;

/// Sets the pragmas on every new connection (r2d2 calls this once per connection).
#[derive(Debug, Clone, Copy)]
struct Pragmas {
    busy_timeout_ms: u128,
    read_only: bool,
}

impl Pragmas {
    fn apply(&self, conn: &mut SqliteConnection) -> QueryResult<()> {
        // WAL lets readers run beside the writer; NORMAL sync in WAL mode loses nothing on
        // a process crash (kill -9), only possibly the last commits on power loss.
        let mut sql = format!(
            "PRAGMA busy_timeout = {};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -16000;
             PRAGMA temp_store = MEMORY;",
            self.busy_timeout_ms
        );
        if self.read_only {
            // A read connection that tries to write is a bug: fail loudly, never corrupt.
            sql.push_str("PRAGMA query_only = ON;");
        } else {
            // The WAL is copied back into the database by the checkpointer thread, not
            // inside the commit that crosses SQLite's threshold: there it stalled the one
            // writer and every write queued behind it (22% of a write-heavy profile).
            sql.push_str("PRAGMA wal_autocheckpoint = 0;");
        }
        conn.batch_execute(&sql)?;
        crate::budget::register(conn)?;
        crate::search::register(conn)
    }
}

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        match conn.as_sqlite() {
            Some(conn) => self.apply(conn).map_err(diesel::r2d2::Error::QueryError),
            None => Ok(()),
        }
    }
}

/// Opens one connection to `url` with `pragmas` applied.
fn establish(url: &str, pragmas: Pragmas) -> anyhow::Result<SqliteConnection> {
    let mut conn = SqliteConnection::establish(url).with_context(|| format!("opening SQLite database {url}"))?;
    pragmas.apply(&mut conn).context("setting connection pragmas")?;
    Ok(conn)
}

/// A SQLite database: one group-committing writer beside a pool of readers. Clones share both.
#[derive(Clone)]
pub(crate) struct SqliteDb {
    reader: Pool<Manager>,
    writer: Arc<Writer>,
    path: PathBuf,
    write_pragmas: Pragmas,
    read_budget: Duration,
    search_slots: Arc<Slots>,
    _checkpointer: Arc<Checkpointer>,
}

/// How often the checkpointer copies the WAL back into the database.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// A pass that copied at most this many frames is close enough: the next, gated one is short.
const GATED_PASS_FRAMES: i64 = 4096;

/// Ungated passes (each after flushing the database file) before the gated one.
const CATCH_UP_PASSES: usize = 3;

/// A thread that copies the WAL back into the database every [`CHECKPOINT_INTERVAL`] on a
/// connection of its own, without stalling the writer.
///
/// The WAL only starts over from its beginning when a write transaction begins while every
/// frame in it has been copied back. Under sustained writes that moment never comes by
/// itself (frames keep arriving while a pass copies): the WAL grew by 1.5 GB in a
/// 10-second write benchmark, and every commit paid for extending the file. So once the WAL
/// holds [`WAL_RESTART_FRAMES`], a round catches up on purpose: a few ungated passes, each
/// after flushing the database file (a pass that completes must fsync it, and that fsync
/// would otherwise carry every page copied since the last one: 42 to 88 ms), then one pass
/// holding the writer's [`Gate`](crate::writer::Gate). That pass copies the last few
/// frames, nothing new arrives meanwhile, and the next write starts the WAL over, reusing
/// the file. The writer waits for that one pass (10 to 45 ms measured under a saturating
/// write load, once per 512 MiB of WAL). The checkpointer stops when the last clone of its
/// [`Database`] is dropped.
#[derive(Debug)]
struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
}

/// What `PRAGMA wal_checkpoint` reports: frames in the WAL when the pass began.
#[derive(Debug, Clone, Copy, QueryableByName)]
struct Checkpointed {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
}

fn passive(conn: &mut SqliteConnection) -> QueryResult<Checkpointed> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn)
}

/// Flushes what the passes copied into the database file (any descriptor of a file
/// flushes it all), so that the sync inside the next complete pass has little left to do.
fn flush(file: &std::fs::File) {
    if let Err(e) = file.sync_data() {
        log::warn!("flushing the database file before a checkpoint failed: {e}");
    }
}

/// One round of the checkpointer (see [`Checkpointer`]).
fn catch_up(conn: &mut SqliteConnection, file: &std::fs::File, gate: &Mutex<()>, restart: i64) -> QueryResult<()> {
    let mut seen = passive(conn)?;
    if seen.log < restart {
        return Ok(());
    }
    for _ in 0..CATCH_UP_PASSES {
        flush(file);
        let now = passive(conn)?;
        if now.log < seen.log {
            return Ok(()); // the writer started the WAL over meanwhile
        }
        let copied = now.log - seen.log;
        seen = now;
        if copied <= GATED_PASS_FRAMES {
            break;
        }
    }
    flush(file);
    let _held = gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    passive(conn)?;
    Ok(())
}

impl Checkpointer {
    fn start(mut conn: SqliteConnection, path: &Path, gate: crate::writer::Gate, restart: i64) -> anyhow::Result<Self> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {} for the checkpointer", path.display()))?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
            let (stopped, wake) = &*signal;
            let mut guard = stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            loop {
                guard =
                    wake.wait_timeout(guard, CHECKPOINT_INTERVAL).unwrap_or_else(std::sync::PoisonError::into_inner).0;
                if *guard {
                    return;
                }
                if let Err(e) = catch_up(&mut conn, &file, &gate, restart) {
                    log::warn!("WAL checkpoint failed (retried in {CHECKPOINT_INTERVAL:?}): {e}");
                }
            }
        })?;
        Ok(Checkpointer { stop })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        wake.notify_all();
    }
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteDb {
    /// Builds the pools without migrating (for `gateway migrate` and for `open_with`).
    pub(crate) fn connect(path: PathBuf, config: &DbConfig) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let url = path.to_string_lossy().into_owned();
        let busy_timeout_ms = config.busy_timeout.as_millis();
        let write_pragmas = Pragmas { busy_timeout_ms, read_only: false };
        // The writer first: it creates the file and switches it to WAL.
        let writer_url = url.clone();
        let writer = Writer::start(Box::new(move || establish(&writer_url, write_pragmas)), config.write_wait)?;
        let reader = Pool::builder()
            .max_size(config.read_connections.max(1))
            .min_idle(Some(1))
            // r2d2 would run `SELECT 1` on every checkout; a local SQLite file does not
            // drop connections, and the extra query cost ~10% of a point read.
            .test_on_check_out(false)
            .connection_timeout(config.acquire_timeout)
            .connection_customizer(Box::new(Pragmas { busy_timeout_ms, read_only: true }))
            .build(Manager::new(url.clone(), Engine::Sqlite))
            .with_context(|| format!("opening SQLite database {url}"))?;
        let search_slots = Arc::new(Slots::new(config.search_slots, config.acquire_timeout));
        let checkpointer = Arc::new(Checkpointer::start(
            establish(&url, write_pragmas)?,
            &path,
            writer.gate(),
            config.wal_restart_frames,
        )?);
        Ok(SqliteDb {
            reader,
            writer: Arc::new(writer),
            path,
            write_pragmas,
            read_budget: config.read_budget,
            search_slots,
            _checkpointer: checkpointer,
        })
    }

    /// Applies pending migrations; returns the versions applied.
    pub(crate) fn migrate(&self) -> anyhow::Result<Vec<String>> {
        // A connection of its own: migrations are DDL outside the writer's group commits.
        let mut conn = establish(&self.path.to_string_lossy(), self.write_pragmas)?;
        let applied =
            conn.run_pending_migrations(MIGRATIONS_SQLITE).map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// The file this database lives in.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A read-only connection. Readers never block the writer nor each other. Borrowing it
    /// starts this thread's read budget ([`DbConfig::read_budget`], see [`crate::budget`]).
    pub(crate) fn read(&self) -> AppResult<PooledConn> {
        let conn = self.reader.get()?;
        crate::budget::start(self.read_budget);
        Ok(conn)
    }

    /// A read connection for a full-text search: [`Self::read`] after one of the
    /// [`DbConfig::search_slots`] is free (waiting for it before taking a connection, so
    /// waiting searches hold none). Past `acquire_timeout` the caller gets 503.
    pub(crate) fn read_for_search(&self) -> AppResult<SearchConn> {
        let slot = self.search_slots.acquire()?;
        Ok(SearchConn::new(self.read()?, slot, None))
    }

    /// Runs `f` on the writer connection inside a transaction (a savepoint of the current
    /// group commit) and returns its result once the group is committed. An error from `f`
    /// undoes `f`'s changes only. `f` runs on the writer thread, hence `Send + 'static`:
    /// move what it needs into it.
    ///
    /// Inside `f`, call functions that take the connection (`&mut DbConn`), never
    /// `write` again: a nested write fails at once (see [`crate::writer`]). Waiting for the
    /// writer is bounded by [`DbConfig::write_wait`]; past it the write is withdrawn and the
    /// caller gets 503.
    pub(crate) fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut crate::Tx<'_>) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.write(f)
    }

    /// Whether the database answers a query (for `/readyz`).
    pub(crate) fn ping(&self) -> AppResult<()> {
        let mut conn = self.read()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).map(|_| ()).map_err(AppError::from)
    }
}

/// The file a SQLite `url` names.
pub(crate) fn database_path(url: &str) -> anyhow::Result<PathBuf> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => anyhow::bail!("{} is no SQLite database", DatabaseUrl::parse(url)?.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{test_pool_sqlite as test_pool, test_pool_sqlite_with as test_pool_with, Database, TestDb};

    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }

    fn rows_in_t(db: &Database) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut reader = db.read().unwrap();
        diesel::sql_query("SELECT COUNT(*) AS n FROM t").get_result::<Count>(&mut reader).unwrap().n
    }

    fn pragma(conn: &mut DbConn, name: &str) -> String {
        // The table-valued pragma names its column after itself, except busy_timeout.
        let column = if name == "busy_timeout" { "timeout" } else { name };
        diesel::sql_query(format!("SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}"))
            .get_result::<Value>(conn)
            .unwrap()
            .value
    }

    #[test]
    fn every_connection_gets_the_pragmas() {
        let db = test_pool();
        let mut reader = db.read().unwrap();
        assert_eq!(pragma(&mut reader, "journal_mode"), "wal");
        assert_eq!(pragma(&mut reader, "foreign_keys"), "1");
        assert_eq!(pragma(&mut reader, "synchronous"), "1"); // NORMAL
        assert_eq!(pragma(&mut reader, "busy_timeout"), "5000");
        db.write(|c| {
            assert_eq!(pragma(c, "foreign_keys"), "1");
            assert_eq!(pragma(c, "query_only"), "0");
            #[derive(QueryableByName)]
            struct Autocheckpoint {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                wal_autocheckpoint: i64,
            }
            let auto: Autocheckpoint = diesel::sql_query("PRAGMA wal_autocheckpoint").get_result(c.conn()).unwrap();
            assert_eq!(auto.wal_autocheckpoint, 0, "the checkpointer thread does it");
            Ok(())
        })
        .unwrap();
    }

    /// A database with a table `t (id, body)` for the checkpointer tests, and its WAL's path.
    fn wal_test_db(config: &DbConfig) -> (TestDb, PathBuf) {
        let db = test_pool_with(config);
        db.write(|c| {
            diesel::sql_query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)").execute(c.conn())?;
            Ok(())
        })
        .unwrap();
        let wal = PathBuf::from(format!("{}-wal", db.path().unwrap().display()));
        (db, wal)
    }

    #[test]
    fn the_checkpointer_keeps_the_wal_from_growing() {
        let (db, wal) = wal_test_db(&DbConfig { read_connections: 4, ..DbConfig::default() });
        let write_round = || {
            for _ in 0..300 {
                db.write(|c| {
                    diesel::sql_query("INSERT INTO t (body) VALUES (printf('%.4000c', 'x'))").execute(c.conn())?;
                    Ok(())
                })
                .unwrap();
            }
        };
        // Without checkpoints every round would add as much WAL again. With them the WAL
        // restarts from its start after each caught-up checkpoint and stays one round long.
        write_round();
        let one_round = std::fs::metadata(&wal).unwrap().len();
        for _ in 0..3 {
            std::thread::sleep(CHECKPOINT_INTERVAL * 3);
            write_round();
        }
        let size = std::fs::metadata(&wal).unwrap().len();
        assert!(size < one_round * 2, "WAL of {size} bytes after four rounds of {one_round}");
    }

    #[test]
    fn under_sustained_writes_the_wal_starts_over_at_its_limit() {
        // A small limit (2,000 frames, 8 MiB) and writers that never let the queue drain.
        // Left to PASSIVE alone the WAL never starts over (the restart needs a moment with
        // nothing left to copy, and frames keep arriving): it held every frame written,
        // 1.15 GB in 6 s here. The gated pass makes it start over, round after round.
        // Each start writes a new WAL header with the next checkpoint sequence number
        // (bytes 12..16), which is what this test counts.
        let limit = 2_000;
        let (db, wal) = wal_test_db(&DbConfig { wal_restart_frames: limit, ..DbConfig::default() });
        let sequence = || -> Option<u32> {
            use std::io::Read as _;
            let mut header = [0u8; 16];
            std::fs::File::open(&wal).ok()?.read_exact(&mut header).ok()?;
            Some(u32::from_be_bytes([header[12], header[13], header[14], header[15]]))
        };
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..6)
            .map(|_| {
                let (db, stop) = (db.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        db.write(|c| {
                            diesel::sql_query("INSERT INTO t (body) VALUES (printf('%.3000c', 'x'))")
                                .execute(c.conn())?;
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        // Three restarts while the writers go on; a slow machine gets up to 30 s.
        let mut seen = std::collections::BTreeSet::new();
        let started = std::time::Instant::now();
        while seen.len() < 4 && started.elapsed() < Duration::from_secs(30) {
            seen.extend(sequence());
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for writer in writers {
            writer.join().unwrap();
        }
        assert!(
            seen.len() >= 4,
            "the WAL started over {} time(s) in {:?} of writes that never paused",
            seen.len().saturating_sub(1),
            started.elapsed()
        );
    }

    #[test]
    fn searches_beyond_their_slots_wait_then_get_503_while_point_reads_go_on() {
        let config = DbConfig { search_slots: 1, acquire_timeout: Duration::from_millis(100), ..DbConfig::default() };
        let db = test_pool_with(&config);
        let held = db.read_for_search().unwrap();
        let err = db.read_for_search().unwrap_err();
        assert_eq!(err.status_code(), 503);
        let mut point = db.read().unwrap();
        let one: Value = diesel::sql_query("SELECT 'one' AS value").get_result(&mut *point).unwrap();
        assert_eq!(one.value, "one");
        drop(held);
        assert!(db.read_for_search().is_ok(), "a freed slot is taken again");
    }

    #[test]
    fn readers_cannot_write() {
        let db = test_pool();
        let mut reader = db.read().unwrap();
        let err = diesel::sql_query("CREATE TABLE t (x)").execute(&mut reader);
        assert!(err.is_err());
    }

    #[test]
    fn failed_write_rolls_back() {
        let db = test_pool();
        let result: AppResult<()> = db.write(|c| {
            diesel::sql_query("CREATE TABLE t (x)").execute(c.conn())?;
            Err(AppError::Conflict("no".into()))
        });
        assert!(result.is_err());
        let mut reader = db.read().unwrap();
        assert!(diesel::sql_query("SELECT x FROM t").execute(&mut reader).is_err());
    }

    #[test]
    fn a_failing_write_does_not_undo_its_group() {
        let db = test_pool();
        db.write(|c| Ok(diesel::sql_query("CREATE TABLE t (x INTEGER UNIQUE)").execute(c.conn())?)).unwrap();
        // Many writers at once, so groups really hold several writes; every third conflicts.
        let threads: Vec<_> = (0..30)
            .map(|i| {
                let db = db.database();
                std::thread::spawn(move || {
                    let x = if i % 3 == 0 { 0 } else { i };
                    db.write(move |c| Ok(diesel::sql_query(format!("INSERT INTO t VALUES ({x})")).execute(c.conn())?))
                        .map(|_| ())
                })
            })
            .collect();
        let results: Vec<AppResult<()>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let failed = results.iter().filter(|r| r.is_err()).count();
        assert_eq!(failed, 9, "all but one of the ten writes of x=0 conflict");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.status_code() == 409));
        assert_eq!(rows_in_t(&db), 21);
    }

    #[test]
    fn a_panicking_write_fails_alone_and_the_writer_survives() {
        let db = test_pool();
        let panicked: AppResult<()> = db.write(|_| panic!("bug in a write"));
        assert_eq!(panicked.unwrap_err().status_code(), 500);
        db.write(|c| Ok(diesel::sql_query("CREATE TABLE t (x)").execute(c.conn())?)).unwrap();
    }

    #[test]
    fn concurrent_writers_queue_instead_of_failing() {
        let db = test_pool();
        db.write(|c| Ok(diesel::sql_query("CREATE TABLE t (x INTEGER)").execute(c.conn())?)).unwrap();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let db = db.database();
                std::thread::spawn(move || {
                    for j in 0..50 {
                        db.write(move |c| {
                            Ok(diesel::sql_query(format!("INSERT INTO t VALUES ({})", i * 100 + j))
                                .execute(c.conn())?)
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(rows_in_t(&db), 800);
    }

    /// Runs `f` on a thread and fails the test if it does not finish in time (a deadlock).
    fn finishes<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(f()));
        rx.recv_timeout(Duration::from_secs(20)).expect("finished in time, no deadlock")
    }

    #[test]
    fn a_write_inside_a_write_fails_at_once() {
        let db = test_pool();
        let inner = db.database();
        let outer = finishes(move || {
            inner.clone().write(move |_| {
                let nested = inner.write(|_| Ok(()));
                let err = nested.expect_err("nested write refused");
                assert_eq!(err.status_code(), 500);
                assert!(format!("{err:#}").contains("inside another write"), "{err:#}");
                Err::<(), _>(err)
            })
        });
        assert_eq!(outer.unwrap_err().status_code(), 500);
        db.write(|_| Ok(())).expect("the writer still serves");
    }

    #[test]
    fn a_database_locked_past_the_busy_timeout_is_503_and_nothing_is_written() {
        let config = DbConfig {
            busy_timeout: Duration::from_millis(100),
            write_wait: Duration::from_secs(5),
            ..DbConfig::default()
        };
        let db = test_pool_with(&config);
        db.write(|c| Ok(diesel::sql_query("CREATE TABLE t (x INTEGER)").execute(c.conn())?)).unwrap();
        // Another process (here: connection) holds the write lock.
        let mut other = SqliteConnection::establish(&db.path().unwrap().to_string_lossy()).unwrap();
        other.batch_execute("BEGIN IMMEDIATE").unwrap();
        let handle = db.database();
        let err =
            finishes(move || handle.write(|c| Ok(diesel::sql_query("INSERT INTO t VALUES (1)").execute(c.conn())?)))
                .unwrap_err();
        assert_eq!(err.status_code(), 503, "{err}");
        other.batch_execute("COMMIT").unwrap();
        db.write(|c| Ok(diesel::sql_query("INSERT INTO t VALUES (2)").execute(c.conn())?)).unwrap();
        assert_eq!(rows_in_t(&db), 1, "the refused write never ran");
    }

    #[test]
    fn a_write_that_cannot_start_in_time_is_withdrawn() {
        let config = DbConfig { write_wait: Duration::from_millis(200), ..DbConfig::default() };
        let db = test_pool_with(&config);
        db.write(|c| Ok(diesel::sql_query("CREATE TABLE t (x INTEGER)").execute(c.conn())?)).unwrap();
        let slow = db.database();
        let hog = std::thread::spawn(move || {
            slow.write(|c| {
                std::thread::sleep(Duration::from_millis(800));
                Ok(diesel::sql_query("INSERT INTO t VALUES (1)").execute(c.conn())?)
            })
        });
        std::thread::sleep(Duration::from_millis(50));
        let late = db.write(|c| Ok(diesel::sql_query("INSERT INTO t VALUES (2)").execute(c.conn())?));
        assert_eq!(late.unwrap_err().status_code(), 503);
        assert_eq!(hog.join().unwrap().unwrap(), 1, "a started write is always waited for");
        db.write(|_| Ok(())).unwrap();
        assert_eq!(rows_in_t(&db), 1, "the withdrawn write never ran");
    }

    #[test]
    fn after_commit_hooks_run_in_commit_order_and_only_for_committed_writes() {
        use std::sync::{Arc, Mutex};
        let db = test_pool();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..24)
            .map(|i| {
                let db = db.database();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    db.write(move |tx| {
                        let mine = seen.clone();
                        tx.after_commit(move || mine.lock().unwrap().push(i));
                        assert!(crate::in_write());
                        if i % 4 == 0 {
                            return Err(AppError::Conflict("rolled back".into()));
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        let committed: Vec<i32> = threads.into_iter().filter_map(|t| t.join().unwrap().ok()).collect();
        let mut announced = seen.lock().unwrap().clone();
        assert!(announced.iter().all(|i| i % 4 != 0), "no hook of a rolled-back write: {announced:?}");
        announced.sort_unstable();
        let mut expected = committed.clone();
        expected.sort_unstable();
        assert_eq!(announced, expected, "every committed write announced exactly once");
    }

    #[test]
    fn constraint_violations_are_client_errors() {
        let db = test_pool();
        db.write(|c| {
            c.batch_execute(
                "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
                 CREATE TABLE child (id INTEGER PRIMARY KEY,
                                     parent_id INTEGER REFERENCES parent (id),
                                     stars INTEGER NOT NULL CONSTRAINT child_stars CHECK (stars BETWEEN 1 AND 5));
                 INSERT INTO parent VALUES (1, 'a');",
            )?;
            Ok(())
        })
        .unwrap();
        let exec = |sql: &'static str| db.write(move |c| Ok(diesel::sql_query(sql).execute(c.conn())?)).unwrap_err();
        let fk = exec("INSERT INTO child (parent_id, stars) VALUES (99, 3)");
        assert_eq!(fk.status_code(), 422, "{fk}");
        let check = exec("INSERT INTO child (parent_id, stars) VALUES (1, 9)");
        assert_eq!(check.status_code(), 422, "{check}");
        let unique = exec("INSERT INTO parent VALUES (2, 'a')");
        assert_eq!(unique.status_code(), 409, "{unique}");
        let null = exec("INSERT INTO child (parent_id, stars) VALUES (1, NULL)");
        assert_eq!((null.status_code(), null.field_errors()[0].field.as_str()), (422, "stars"));
        use core_models::constraint::ForeignKeyField as _;
        let named = db
            .write(|c| {
                diesel::sql_query("INSERT INTO child (parent_id, stars) VALUES (7, 2)")
                    .execute(c.conn())
                    .fk_field("parent_id")
            })
            .unwrap_err();
        assert_eq!(named.field_errors()[0].field, "parent_id");
    }

    #[test]
    fn a_read_past_its_budget_is_stopped_inside_sqlite_with_503() {
        let config = DbConfig { read_budget: Duration::from_millis(100), ..DbConfig::default() };
        let db = test_pool_with(&config);
        // Without the budget this statement would count forever.
        let endless = format!(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) \
             SELECT x AS value FROM n WHERE {}(x) AND x < 0",
            crate::budget::WITHIN_BUDGET
        );
        let started = std::time::Instant::now();
        let mut reader = db.read().unwrap();
        let err = diesel::sql_query(&endless).execute(&mut reader).unwrap_err();
        assert!(err.to_string().contains(crate::budget::EXCEEDED), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2), "stopped near its deadline");
        assert_eq!(AppError::from(err).status_code(), 503);
        // The next borrow gets a fresh budget; the connection is still good.
        drop(reader);
        let mut reader = db.read().unwrap();
        let within = format!(
            "SELECT CAST(count(*) AS TEXT) AS value FROM (SELECT 1 AS x) WHERE {}(x)",
            crate::budget::WITHIN_BUDGET
        );
        assert_eq!(diesel::sql_query(within).get_result::<Value>(&mut reader).unwrap().value, "1");
        // The writer never has a budget, and knows the function too.
        crate::budget::clear();
        db.write(|c| Ok(diesel::sql_query(format!("SELECT {}(1)", crate::budget::WITHIN_BUDGET)).execute(c.conn())?))
            .unwrap();
    }

    #[test]
    fn in_memory_urls_are_refused() {
        assert!(Database::open(":memory:").is_err());
        assert!(database_path("sqlite://data/x.db").unwrap().ends_with("data/x.db"));
    }

    #[test]
    fn schema_matches_migrations() {
        use crate::schema::{
            activity, idempotency_keys, notes, project_tasks, projects, task_comments, task_completions, task_counts,
            tasks, team_invites, team_members, teams, tokens, users,
        };
        let db = test_pool();
        let mut c = db.read().unwrap();
        // Preparing a SELECT of every declared column fails if a table or column is missing.
        notes::table.select(notes::all_columns).execute(&mut c).unwrap();
        tasks::table.select(tasks::all_columns).execute(&mut c).unwrap();
        task_counts::table.select(task_counts::all_columns).execute(&mut c).unwrap();
        task_completions::table.select(task_completions::all_columns).execute(&mut c).unwrap();
        users::table.select(users::all_columns).execute(&mut c).unwrap();
        tokens::table.select(tokens::all_columns).execute(&mut c).unwrap();
        activity::table.select(activity::all_columns).execute(&mut c).unwrap();
        teams::table.select(teams::all_columns).execute(&mut c).unwrap();
        team_members::table.select(team_members::all_columns).execute(&mut c).unwrap();
        team_invites::table.select(team_invites::all_columns).execute(&mut c).unwrap();
        projects::table.select(projects::all_columns).execute(&mut c).unwrap();
        project_tasks::table.select(project_tasks::all_columns).execute(&mut c).unwrap();
        task_comments::table.select(task_comments::all_columns).execute(&mut c).unwrap();
        idempotency_keys::table.select(idempotency_keys::all_columns).execute(&mut c).unwrap();
    }
}
