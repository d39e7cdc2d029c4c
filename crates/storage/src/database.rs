//! [`Database`]: the handle every service holds, on SQLite (the embedded default, see
//! [`crate::sqlite`]) or PostgreSQL (see [`crate::postgres`]), chosen by the URL.
//!
//! Both hand out the same things: read connections ([`Database::read`]), search
//! connections that hold a search slot ([`Database::read_for_search`]) and writes
//! ([`Database::write`]): a closure run in one transaction, whose after-commit hooks run
//! once it has committed. How a write commits differs (one writer thread with group
//! commit on SQLite, a pooled SERIALIZABLE transaction retried on conflicts on
//! PostgreSQL), what a caller may rely on does not.

use std::path::Path;

use core_models::AppResult;

use crate::config::{DbConfig, PooledConn};
use crate::conn::Engine;
use crate::postgres::PgDb;
use crate::slots::SearchConn;
use crate::sqlite::{database_path, SqliteDb};
use crate::tx::Tx;
use crate::url::DatabaseUrl;

/// The database of a deployment. Clones share its pools (and SQLite's writer).
#[derive(Clone, Debug)]
pub struct Database(Backend);

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Database {
    /// Opens the database `url` names (a SQLite file, created when missing, or a
    /// `postgres://` URL, see [`DatabaseUrl`]) and applies pending migrations.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, &DbConfig::default())
    }

    /// [`Database::open`] with explicit tunables.
    pub fn open_with(url: &str, config: &DbConfig) -> anyhow::Result<Self> {
        let db = Self::connect(url, config)?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            log::info!("applied migrations: {}", applied.join(", "));
        }
        Ok(db)
    }

    /// Builds the pools without migrating (for `gateway migrate` and for `open_with`).
    pub fn connect(url: &str, config: &DbConfig) -> anyhow::Result<Self> {
        Ok(Database(match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite(SqliteDb::connect(database_path(url)?, config)?),
            DatabaseUrl::Postgres(server) => Backend::Postgres(PgDb::connect(&server, config)?),
        }))
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        match &self.0 {
            Backend::Sqlite(db) => db.migrate(),
            Backend::Postgres(db) => db.migrate(),
        }
    }

    /// The engine this database runs on.
    pub fn engine(&self) -> Engine {
        match &self.0 {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite file, for a SQLite database.
    pub fn path(&self) -> Option<&Path> {
        match &self.0 {
            Backend::Sqlite(db) => Some(db.path()),
            Backend::Postgres(_) => None,
        }
    }

    /// How the database may be named in logs: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match &self.0 {
            Backend::Sqlite(db) => db.path().display().to_string(),
            Backend::Postgres(db) => db.display().to_string(),
        }
    }

    /// A read connection. On SQLite readers never block the writer nor each other, and
    /// borrowing one starts this thread's read budget ([`crate::budget`]); on PostgreSQL
    /// its transactions run at REPEATABLE READ (one snapshot each).
    pub fn read(&self) -> AppResult<PooledConn> {
        match &self.0 {
            Backend::Sqlite(db) => db.read(),
            Backend::Postgres(db) => db.read(),
        }
    }

    /// A read connection for a full-text search: [`Self::read`] after one of the
    /// [`DbConfig::search_slots`] is free (waiting for it before taking a connection, so
    /// waiting searches hold none). Past `acquire_timeout` the caller gets 503. On
    /// PostgreSQL its statements are planned with their bound values, as a search's plan
    /// depends on how often its words occur (other reads reuse one generic plan).
    pub fn read_for_search(&self) -> AppResult<SearchConn> {
        match &self.0 {
            Backend::Sqlite(db) => db.read_for_search(),
            Backend::Postgres(db) => db.read_for_search(),
        }
    }

    /// Runs `f` in a write transaction and returns its result once committed; an error
    /// from `f` undoes all of `f`'s changes. Hooks `f` registers on its [`Tx`] with
    /// [`Tx::after_commit`] run after the commit, never for a write that rolled back.
    ///
    /// - SQLite: `f` runs on the writer thread inside a savepoint of the current group
    ///   commit (hence `Send + 'static`: move what it needs into it). Waiting for the
    ///   writer is bounded by [`DbConfig::write_wait`]; past it the write is withdrawn and
    ///   the caller gets 503.
    /// - PostgreSQL: `f` runs on the calling thread in a SERIALIZABLE transaction and may
    ///   run more than once: when it loses to a concurrent write, it is rolled back and run
    ///   again (hence `FnMut`: it must not consume what it captured).
    ///
    /// Inside `f`, call functions that take the transaction (`&mut Tx`) or the connection
    /// (`&mut DbConn`, which a `Tx` derefs to), never `write` again: a nested write fails
    /// at once.
    ///
    /// Called for a request that holds an `Idempotency-Key` (its claim is current), the
    /// write also marks the key as written, or fails when the claim was taken over.
    pub fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnMut(&mut Tx<'_>) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        // A write done for a request that holds an idempotency key marks the key as
        // written in the same transaction (see `crate::idempotency`).
        let claim = core_models::idempotency::current();
        let mut f = f;
        let f = move |tx: &mut Tx<'_>| {
            let out = f(tx)?;
            if let Some(claim) = &claim {
                crate::idempotency::mark_written(tx, claim)?;
            }
            Ok(out)
        };
        match &self.0 {
            Backend::Sqlite(db) => db.write(f),
            Backend::Postgres(db) => db.write(f),
        }
    }

    /// A write that is one statement (the `INSERT` of a new row, with what its triggers
    /// do): [`Self::write`] for a closure that runs exactly one statement and registers
    /// no hooks.
    ///
    /// - SQLite: the same as [`Self::write`] (the writer's group commit).
    /// - PostgreSQL: the statement runs on a pooled connection outside `BEGIN`/`COMMIT`,
    ///   which makes it a transaction of its own (at the session's REPEATABLE READ, within
    ///   [`DbConfig::statement_timeout`]): two round trips fewer than [`Self::write`]. It
    ///   runs again when it loses to a concurrent write, as a write does.
    ///
    /// Only for a statement whose correctness needs no rule read beforehand: with two
    /// statements, the first would commit alone. A request that holds an
    /// `Idempotency-Key` takes [`Self::write`], which marks the key in the same
    /// transaction.
    pub fn write_statement<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnMut(&mut crate::DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let mut f = f;
        match &self.0 {
            Backend::Postgres(db) if core_models::idempotency::current().is_none() => db.write_statement(f),
            _ => self.write(move |tx| f(tx.conn())),
        }
    }

    /// Tests only: on PostgreSQL, every write runs `pause` after its work and before its
    /// commit (`None` removes it), so a test can hold two transactions open at once; see
    /// [`crate::testing::Interleaving`]. Nothing on SQLite, where writes never overlap.
    #[doc(hidden)]
    pub fn pause_before_commit(&self, pause: Option<crate::postgres::BeforeCommit>) {
        if let Backend::Postgres(db) = &self.0 {
            db.set_before_commit(pause);
        }
    }

    /// PostgreSQL: a new connection outside the pool (see [`crate::notify::Listener`]).
    pub(crate) fn dedicated(&self, application_name: &str) -> AppResult<crate::DbConn> {
        match &self.0 {
            Backend::Sqlite(_) => Err(core_models::AppError::Internal(anyhow::anyhow!(
                "a connection of its own is for PostgreSQL (LISTEN)"
            ))),
            Backend::Postgres(db) => db.dedicated(application_name),
        }
    }

    /// Whether the database answers a query (for `/readyz`).
    pub fn ping(&self) -> AppResult<()> {
        match &self.0 {
            Backend::Sqlite(db) => db.ping(),
            Backend::Postgres(db) => db.ping(),
        }
    }
}

/// Applies the pending migrations of the database `url` names, SQLite or PostgreSQL, and
/// returns how it names the database (password hidden) and the versions applied.
pub fn migrate_url(url: &str) -> anyhow::Result<(String, Vec<String>)> {
    let parsed = DatabaseUrl::parse(url)?;
    let db = Database::connect(url, &DbConfig { pool_connections: 1, ..DbConfig::default() })?;
    Ok((parsed.display(), db.migrate()?))
}
