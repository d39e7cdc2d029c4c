//! Corkboard's database layer: the one [`schema`], migrations of both engines embedded in
//! the binary, and [`Database`]: SQLite (a read pool and one writer thread with group
//! commit) or PostgreSQL (one pool, SERIALIZABLE writes run again when they lose).
//!
//! Domain crates never declare tables; they import them from [`schema`] and run their
//! queries through [`Database::read`] and [`Database::write`]. What the engines spell
//! differently (the keyset predicate, full-text search, upserts) lives here too.
//!
//! ```
//! use diesel::prelude::*;
//! use storage::schema::notes;
//!
//! let db = storage::test_pool();
//! let count: i64 = db.read().unwrap().transaction(|c| notes::table.count().get_result(c)).unwrap();
//! assert_eq!(count, 0);
//! ```

pub mod budget;
mod config;
pub mod conn;
pub mod copy;
pub mod count;
mod database;
pub mod expr;
pub mod idempotency;
pub mod keyset;
pub mod names;
pub mod notify;
pub mod plan;
pub mod postgres;
pub mod schema;
pub mod search;
mod slots;
pub mod sql;
pub mod sqlite;
pub mod testing;
mod tx;
pub mod url;
pub mod writer;

pub use config::{DbConfig, PooledConn, MIGRATIONS, MIGRATIONS_POSTGRES, MIGRATIONS_SQLITE};
pub use conn::{Backend, DbConn, Engine};
pub use database::{migrate_url, Database};
pub use slots::SearchConn;
pub use testing::{
    at_once, test_pool, test_pool_sqlite, test_pool_sqlite_with, test_pool_with, Interleaving, TestDatabase, TestDb,
};
pub use tx::Tx;
pub use url::DatabaseUrl;
pub use writer::in_write;
