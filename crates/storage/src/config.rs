//! What the engines and [`crate::Database`] share: the embedded migrations, the pooled
//! connection type and the tunables ([`DbConfig`]). A module of its own so that the
//! engines (`sqlite`, `postgres`) and the handle that chooses between them (`database`)
//! all depend on it and not on each other.

use std::time::Duration;

use diesel::r2d2::PooledConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use crate::conn::Manager;

/// The SQLite migrations (`migrations/sqlite/`), compiled into every binary that links
/// this crate.
pub const MIGRATIONS_SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// The PostgreSQL migrations (`migrations/postgres/`): one folder per SQLite migration,
/// same names (Diesel records the version, the name's prefix), producing the same tables,
/// columns and constraints; `tests/schema_match.rs` compares the two.
pub const MIGRATIONS_POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The SQLite migrations, under their older name.
pub const MIGRATIONS: EmbeddedMigrations = MIGRATIONS_SQLITE;

/// A connection borrowed from a pool.
pub type PooledConn = PooledConnection<Manager>;

/// Tunables of [`Database`](crate::Database); the defaults suit a small server.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// SQLite: connections in the read pool.
    pub read_connections: u32,
    /// PostgreSQL: connections in the pool (reads and writes).
    pub pool_connections: u32,
    /// SQLite: how long a connection waits for SQLite's lock (e.g. while `gateway
    /// migrate` runs).
    pub busy_timeout: Duration,
    /// How long a request waits for a pooled connection before it gets a 503.
    pub acquire_timeout: Duration,
    /// SQLite: how long a write waits for its turn on the writer before it gets a 503
    /// (and is withdrawn, so it never runs later).
    pub write_wait: Duration,
    /// How long a search's statements may run before they are stopped and the caller gets
    /// a 503 (SQLite: [`crate::budget`], PostgreSQL: `statement_timeout`).
    pub read_budget: Duration,
    /// PostgreSQL: how long any other statement may run (`statement_timeout`).
    pub statement_timeout: Duration,
    /// PostgreSQL: how long each statement of a write may run (`SET LOCAL
    /// statement_timeout`).
    pub write_budget: Duration,
    /// Full-text searches that may run at once
    /// ([`Database::read_for_search`](crate::Database::read_for_search)); more wait (up to
    /// `acquire_timeout`, then 503), so searches never hold every connection and core while
    /// point reads wait. Default: the number of cores.
    pub search_slots: usize,
    /// SQLite: WAL size (in 4 KiB frames) past which the checkpointer makes the WAL start
    /// over, holding the writer back for one short pass (see [`WAL_RESTART_FRAMES`]).
    pub wal_restart_frames: i64,
}

impl Default for DbConfig {
    fn default() -> Self {
        DbConfig {
            read_connections: 8,
            pool_connections: 16,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            write_wait: crate::writer::DEFAULT_WRITE_WAIT,
            read_budget: Duration::from_millis(500),
            statement_timeout: Duration::from_secs(5),
            write_budget: Duration::from_secs(5),
            search_slots: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            wal_restart_frames: WAL_RESTART_FRAMES,
        }
    }
}

/// Past this many frames (4 KiB pages: 512 MiB) the WAL is made to start over, holding the
/// writer back for one short pass. Below it, the WAL starts over by itself whenever writes
/// pause long enough for a pass to catch up, which is nearly always.
pub const WAL_RESTART_FRAMES: i64 = 131_072;
