//! Fresh databases for tests, on the engine the environment chooses, so every test
//! suite runs on both engines from one build:
//!
//! - by default, a SQLite file in a temporary directory;
//! - with `CORKBOARD_TEST_BACKEND=postgres` and `CORKBOARD_TEST_POSTGRES_URL` naming a
//!   server (`make test-postgres` starts a throwaway one), a new PostgreSQL database per
//!   test, copied from a template database migrated once per server and migration set,
//!   and dropped when the test is done.

use std::ops::Deref;
use std::sync::Mutex;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use crate::config::{DbConfig, MIGRATIONS_POSTGRES};
use crate::database::Database;

/// The variable that chooses the engine of test databases (`sqlite` or `postgres`).
pub const BACKEND_VAR: &str = "CORKBOARD_TEST_BACKEND";
/// The variable naming the PostgreSQL server of test databases.
pub const POSTGRES_URL_VAR: &str = "CORKBOARD_TEST_POSTGRES_URL";

/// The PostgreSQL server tests run on, when the environment asks for PostgreSQL.
///
/// # Panics
/// When `CORKBOARD_TEST_BACKEND=postgres` names no server: a misconfigured test run.
pub fn postgres_server() -> Option<String> {
    let wanted = std::env::var(BACKEND_VAR).is_ok_and(|b| b.eq_ignore_ascii_case("postgres"));
    if !wanted {
        return None;
    }
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => panic!("{BACKEND_VAR}=postgres needs {POSTGRES_URL_VAR} (make test-postgres sets both)"),
    }
}

/// A fresh, migrated database for one test; its file or database goes when it is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    /// Removed with its directory when dropped.
    File(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        server: String,
        name: String,
    },
}

impl TestDatabase {
    /// A new empty, migrated database on the engine the environment chooses.
    ///
    /// # Panics
    /// When no database can be made: a broken test environment.
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        match postgres_server() {
            None => Self::sqlite(),
            Some(server) => {
                let template = template(&server);
                let name = format!("cb_test_{}", core_models::id::new_id().simple());
                let mut admin = PgConnection::establish(&server).expect("connecting to the test server");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .expect("creating a test database from the template");
                TestDatabase { url: with_database(&server, &name), place: Place::Postgres { server, name } }
            }
        }
    }

    /// A new database file, whatever the environment says (for SQLite-only tests).
    ///
    /// # Panics
    /// When no temporary directory can be made.
    #[allow(clippy::expect_used)]
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir for a test database");
        let url = dir.path().join("test.db").to_string_lossy().into_owned();
        TestDatabase { url, place: Place::File(dir) }
    }

    /// The `--database-url` of this database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Place::Postgres { server, name } = &self.place {
            // WITH (FORCE) ends the test's own pooled connections still open.
            let dropped = PgConnection::establish(server).map_err(|e| e.to_string()).and_then(|mut c| {
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).map_err(|e| e.to_string())
            });
            if let Err(e) = dropped {
                log::warn!("dropping test database {name}: {e}");
            }
        }
    }
}

/// `url` with its database name replaced by `name` (libpq URL form).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..].find('/').map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The template database of the current migrations on `server`, made when missing.
#[allow(clippy::expect_used)]
fn template(server: &str) -> String {
    static MADE: Mutex<Option<String>> = Mutex::new(None);
    let mut made = MADE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(name) = made.as_ref() {
        return name.clone();
    }
    let name = format!("cb_template_{}", migrations_fingerprint());
    let mut admin = PgConnection::establish(server).expect("connecting to the test server");
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[allow(dead_code)]
        one: i32,
    }
    let exists = diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(&name)
        .get_result::<Found>(&mut admin)
        .optional()
        .expect("looking for the template database")
        .is_some();
    if !exists {
        // Built under another name and renamed when complete: a run cut short never
        // leaves a half-migrated template behind.
        let building = format!("{name}_building_{}", std::process::id());
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building}")).expect("dropping a stale template");
        admin.batch_execute(&format!("CREATE DATABASE {building}")).expect("creating the template database");
        {
            let mut conn =
                PgConnection::establish(&with_database(server, &building)).expect("connecting to the template");
            conn.run_pending_migrations(MIGRATIONS_POSTGRES).expect("migrating the template database");
        }
        if let Err(e) = admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")) {
            // Another test process made it meanwhile.
            log::debug!("template database made elsewhere ({e})");
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building}"));
        }
    }
    *made = Some(name.clone());
    name
}

/// Names the current set of PostgreSQL migrations (their versions, and the text of their
/// files when the source tree is at hand), so a template made before a new migration, or
/// before an edit of one not yet released, is never used.
fn migrations_fingerprint() -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    if let Ok(migrations) = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS_POSTGRES) {
        for m in migrations {
            m.name().to_string().hash(&mut hasher);
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|dir| std::fs::read_dir(dir.path()).into_iter().flatten().flatten().map(|f| f.path()))
        .collect();
    files.sort();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// A migrated database for one test and its handle.
#[derive(Debug)]
pub struct TestDb {
    db: Database,
    // Declared after `db`: the pools close before the database is dropped.
    _place: TestDatabase,
}

impl Deref for TestDb {
    type Target = Database;
    fn deref(&self) -> &Database {
        &self.db
    }
}

impl TestDb {
    /// Opens (and migrates) the database at `place`, which lives as long as the handle.
    #[allow(clippy::expect_used)]
    fn open(place: TestDatabase, config: &DbConfig) -> Self {
        let db = Database::open_with(place.url(), config).expect("open test database");
        TestDb { db, _place: place }
    }

    /// A clone of the database handle (the database lives as long as `self`).
    pub fn database(&self) -> Database {
        self.db.clone()
    }

    /// The database's URL (or SQLite path), for a second handle of its own: what another
    /// gateway on the same database opens.
    pub fn url(&self) -> &str {
        self._place.url()
    }
}

/// A fresh, migrated database for one test, on the engine the environment chooses.
pub fn test_pool() -> TestDb {
    test_pool_with(&test_config())
}

/// [`test_pool`] with explicit tunables (short waits for failure tests).
///
/// # Panics
/// When the database cannot be opened: a broken test environment.
pub fn test_pool_with(config: &DbConfig) -> TestDb {
    TestDb::open(TestDatabase::new(), config)
}

/// A fresh SQLite database whatever the environment says (for tests of SQLite itself).
pub fn test_pool_sqlite() -> TestDb {
    test_pool_sqlite_with(&test_config())
}

/// [`test_pool_sqlite`] with explicit tunables.
///
/// # Panics
/// When the database cannot be opened.
pub fn test_pool_sqlite_with(config: &DbConfig) -> TestDb {
    TestDb::open(TestDatabase::sqlite(), config)
}

/// The id of the `i`th row of a `kind` (a digit) seeded by a plan test: a valid UUID, in
/// seeding order, so that rows are read back as the services read them.
pub fn seeded_id(kind: u8, i: u32) -> String {
    format!("00000000-0000-7000-8{kind}00-{i:012}")
}

/// [`seeded_id`] in SQL, of the integer expression `i`.
pub fn seeded_id_sql(kind: u8, i: &str) -> String {
    format!("('00000000-0000-7000-8{kind}00-' || lpad(({i})::text, 12, '0'))")
}

/// A `FROM` item of a seed over `generate_series(…) AS i` (a `bigint`): `h` and `g`, two
/// multiplicative hashes of `i` below 2^32, so that the columns a seed derives from them
/// (board, status, words, dates) are unrelated to each other and to the row's order.
pub const SEED_HASHES: &str =
    "LATERAL (SELECT i * 2654435761 % 4294967296 AS h, i * 2246822519 % 4294967296 AS g) AS hashes";

/// A PostgreSQL database for a query-plan test: `seed` (SQL statements) run, then
/// `VACUUM ANALYZE` (statistics, and the full-text indexes' pending entries merged, as
/// autovacuum leaves a live database), with a connection to it. `None` when the run is on
/// SQLite, whose plans the SQLite plan tests check on their own databases. PostgreSQL's
/// plans mean something only on seeded, analysed tables: a near-empty table is always
/// read whole.
///
/// # Panics
/// When the seed fails: a broken test.
#[allow(clippy::expect_used)]
pub fn analysed_postgres(seed: &str) -> Option<(TestDb, crate::PooledConn)> {
    postgres_server()?;
    let db = test_pool();
    let mut conn = db.read().expect("a connection to the test database");
    // Seeding takes seconds, longer on a loaded machine: past the session's statement
    // budget, which is the requests' and not this seed's.
    conn.batch_execute("SET statement_timeout = 0").expect("lifting the statement budget");
    conn.batch_execute(seed).expect("seeding the plan test");
    conn.batch_execute("VACUUM ANALYZE").expect("analysing the seeded tables");
    let timeout = test_config().statement_timeout.as_millis();
    conn.batch_execute(&format!("SET statement_timeout = {timeout}")).expect("the usual timeout again");
    Some((db, conn))
}

fn test_config() -> DbConfig {
    DbConfig { read_connections: 4, pool_connections: 4, ..DbConfig::default() }
}

/// Holds concurrent PostgreSQL writes open so that they overlap, for tests of the rules a
/// single writer used to guarantee (issue 16, point 4): while installed, a write of `db`
/// that has done its work waits before its commit until `writers` writes have done theirs,
/// or until another write of the database waits for a lock (it needs what this one holds:
/// waiting longer would deadlock; the database decides between them at the commit). So
/// every write has read what it checks before any commits: the interleaving that breaks a
/// rule under weaker isolation, made deterministic instead of left to chance.
///
/// Nothing on SQLite, where one thread commits every write.
#[derive(Debug)]
pub struct Interleaving {
    db: Database,
    writers: usize,
    arrived: Mutex<usize>,
}

impl Interleaving {
    /// Installs the pause on `db` for `writers` overlapping writes; removed on drop.
    pub fn install(db: &Database, writers: usize) -> std::sync::Arc<Self> {
        let this = std::sync::Arc::new(Interleaving { db: db.clone(), writers, arrived: Mutex::new(0) });
        let pausing = std::sync::Arc::downgrade(&this);
        db.pause_before_commit(Some(std::sync::Arc::new(move || {
            if let Some(this) = pausing.upgrade() {
                this.pause();
            }
        })));
        this
    }

    /// How many writes have reached their commit so far (retries included).
    pub fn arrivals(&self) -> usize {
        self.arrived.lock().map_or(0, |n| *n)
    }

    fn pause(&self) {
        if let Ok(mut n) = self.arrived.lock() {
            *n += 1;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.arrivals() < self.writers && !someone_waits_for_a_lock(&self.db) {
            assert!(std::time::Instant::now() < deadline, "the interleaved writes never met");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

/// Whether a session of `db`'s database is waiting for a lock right now (PostgreSQL's
/// `pg_stat_activity`; false when it cannot tell, and on SQLite): how a test knows that
/// a write it let go has reached a row the test holds.
pub fn someone_waits_for_a_lock(db: &Database) -> bool {
    let Ok(mut conn) = db.read() else { return false };
    crate::sql::sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .query::<diesel::sql_types::BigInt>()
    .get_result::<i64>(&mut *conn)
    .is_ok_and(|n| n > 0)
}

/// Users named `names` in the `users` table (for services' tests; no password works), as
/// callers.
///
/// # Panics
/// When the rows cannot be written: a broken test database.
pub fn users(db: &Database, names: &[String]) -> Vec<core_models::Caller> {
    let callers: Vec<core_models::Caller> =
        names.iter().map(|n| core_models::Caller::new(uuid::Uuid::now_v7(), n.clone())).collect();
    let rows = callers.clone();
    db.write(move |c| {
        for u in &rows {
            crate::sql::sql("INSERT INTO users VALUES (")
                .bind_text(u.id.to_string())
                .sql(", ")
                .bind_text(format!("{}@x.io", u.id))
                .sql(", ")
                .bind_text(format!("{}@x.io", u.id))
                .sql(", ")
                .bind_text(u.display_name.clone())
                .sql(", 'h', 0)")
                .untyped()
                .execute(c)?;
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("test users: {e}"));
    callers
}

/// Renames the user `id` by SQL, as an operator could: no service is told, so a read that
/// shows the new name found it in the database.
///
/// # Panics
/// When the row cannot be written: a broken test database.
pub fn rename_user(db: &Database, id: uuid::Uuid, name: &str) {
    let (id, name) = (id.to_string(), name.to_string());
    db.write(move |c| {
        crate::sql::sql("UPDATE users SET display_name = ")
            .bind_text(name.clone())
            .sql(" WHERE id = ")
            .bind_text(id.clone())
            .untyped()
            .execute(c)?;
        Ok(())
    })
    .unwrap_or_else(|e| panic!("renaming a test user: {e}"));
}

/// Runs `jobs` (each one write through a service) on threads of their own at once, their
/// writes [`Interleaving`] on PostgreSQL, and returns their results in order.
pub fn at_once<T: Send + 'static>(db: &Database, jobs: Vec<Box<dyn FnOnce() -> T + Send>>) -> Vec<T> {
    let _interleaving = Interleaving::install(db, jobs.len());
    let threads: Vec<_> = jobs.into_iter().map(std::thread::spawn).collect();
    threads.into_iter().map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
}

impl Drop for Interleaving {
    fn drop(&mut self) {
        self.db.pause_before_commit(None);
    }
}

/// What the current thread records (see [`statements_of`]).
#[derive(Default)]
struct Recording {
    statements: Vec<String>,
    before: Option<(usize, Box<dyn FnOnce()>)>,
}

thread_local! {
    static RECORDING: std::cell::RefCell<Option<Recording>> = const { std::cell::RefCell::new(None) };
}

fn record(event: diesel::connection::InstrumentationEvent<'_>) {
    let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = event else { return };
    let due = RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let recording = r.as_mut()?;
        recording.statements.push(query.to_string());
        let position = recording.statements.len();
        match recording.before.take() {
            Some((at, change)) if at == position => Some(change),
            other => {
                recording.before = other;
                None
            }
        }
    });
    if let Some(change) = due {
        // The change's own statements (on this thread, on PostgreSQL) are not the read's.
        let paused = RECORDING.with(|r| r.borrow_mut().take());
        change();
        RECORDING.with(|r| *r.borrow_mut() = paused);
    }
}

fn recorder() -> Option<Box<dyn diesel::connection::Instrumentation>> {
    Some(Box::new(record))
}

/// Records statements through Diesel's instrumentation from here on: connections opened
/// after this call (make the test's pool after it) report every statement they send. Call
/// once per test process (the first call installs it; later ones do nothing).
///
/// # Panics
/// When Diesel's default instrumentation cannot be set.
#[allow(clippy::expect_used)]
pub fn record_statements() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| diesel::connection::set_default_instrumentation(recorder).expect("instrumentation"));
}

/// The statements `read` sends from this thread (reads run on the caller's thread; a
/// write's statements may run on another and are not seen), making `change` (if any) just
/// before the statement at its position (from 1) is sent: the way to land a change
/// between two statements of a read, every time. Needs [`record_statements`] before the
/// pool was made.
///
/// # Panics
/// When `change` was not made (the read sent fewer statements).
#[allow(clippy::expect_used)]
pub fn statements_of<T>(change: Option<(usize, Box<dyn FnOnce()>)>, read: impl FnOnce() -> T) -> (T, Vec<String>) {
    RECORDING.with(|r| *r.borrow_mut() = Some(Recording { statements: Vec::new(), before: change }));
    let out = read();
    let recording = RECORDING.with(|r| r.borrow_mut().take()).expect("recording");
    assert!(recording.before.is_none(), "the change was not made: {:?}", recording.statements);
    (out, recording.statements)
}

/// Whether `statement` opens, ends or marks a transaction (`BEGIN`, `COMMIT`, `SAVEPOINT`...).
pub fn is_transaction_control(statement: &str) -> bool {
    let s = statement.trim_start().to_ascii_uppercase();
    ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"].iter().any(|k| s.starts_with(k))
}
