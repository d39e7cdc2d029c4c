//! The value a write works with: its open transaction's connection, and the work to do
//! once that transaction has committed.
//!
//! `Database::write` hands every write a [`Tx`]. Functions that only read and write rows
//! take `&mut DbConn` and get the `Tx` by deref coercion (`teams::member(tx, ...)`);
//! functions that announce what they wrote (the activity log) take the `Tx` itself and
//! register hooks on it. The hooks travel with the write: they run after its commit on
//! whatever thread commits it (the SQLite writer thread, or the PostgreSQL caller), and
//! are dropped with the write when it rolls back or runs again.

use std::ops::{Deref, DerefMut};

use core_models::{AppError, AppResult};
use diesel::RunQueryDsl as _;

use crate::{DbConn, Engine};

/// Work to do once the write has committed, with its order key (see
/// [`Tx::after_commit_ordered`]).
pub(crate) type Hook = (Option<u64>, Box<dyn FnOnce() + Send>);

/// One write's open transaction.
pub struct Tx<'a> {
    conn: &'a mut DbConn,
    hooks: &'a mut Vec<Hook>,
    claims: Vec<ClaimKey>,
    /// Keys this write holds alone already (it runs again after losing).
    held: &'a [ClaimKey],
}

/// The advisory-lock key of a claim (see [`Tx::claim`]): PostgreSQL's two-number form, the
/// first number ours so that no other advisory lock (a migration's, a test's) collides.
pub(crate) type ClaimKey = (i32, i32);

/// The first number of every claim's advisory-lock key: "Cork".
const CLAIM_SPACE: i32 = 0x436f_726b;

/// The claim key of `key`: FNV-1a, so every gateway (of any build) maps a key alike.
fn claim_key(key: &str) -> ClaimKey {
    let hash = key.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    (CLAIM_SPACE, i32::from_ne_bytes(hash.to_ne_bytes()))
}

impl<'a> Tx<'a> {
    /// A write on `conn` (inside its transaction) whose hooks go to `hooks`.
    pub(crate) fn new(conn: &'a mut DbConn, hooks: &'a mut Vec<Hook>) -> Self {
        Tx { conn, hooks, claims: Vec::new(), held: &[] }
    }

    /// This write with the keys `held` held alone already: claiming them again asks
    /// nothing of the database (which would refuse a shared claim while another rerun
    /// waits for the key, though this session holds it).
    pub(crate) fn holding(mut self, held: &'a [ClaimKey]) -> Self {
        self.held = held;
        self
    }

    /// The keys this write claimed ([`Self::claim`]).
    pub(crate) fn claims(&self) -> &[ClaimKey] {
        &self.claims
    }

    /// Says that this write is about to change a row many writes change (a team's
    /// activity counter), named by `key`. On SQLite, where one thread writes, nothing. On
    /// PostgreSQL, where a SERIALIZABLE write that changes such a row after another
    /// gateway's write committed it loses and runs again, a write that lost runs its next
    /// attempt holding its keys alone, over every gateway of the database: it waits for
    /// the writes that claimed them to finish before it starts, and a write that claims
    /// one meanwhile gives up at once (this error: nothing is written, and it runs again
    /// in its turn) rather than make it lose again. So a write that lost once wins its
    /// next attempt, however busy the row. Claim before changing the row; a write may
    /// claim several keys.
    pub fn claim(&mut self, key: &str) -> AppResult<()> {
        let key = claim_key(key);
        if self.claims.contains(&key) {
            return Ok(());
        }
        self.claims.push(key);
        if self.held.contains(&key) {
            return Ok(());
        }
        claim_shared(self.conn, key)
    }

    /// The connection, for Diesel's query methods (`.execute(tx.conn())`); functions that
    /// take `&mut DbConn` take the `Tx` itself.
    pub fn conn(&mut self) -> &mut DbConn {
        self.conn
    }

    /// Runs `hook` once this write has committed; never if it rolls back.
    pub fn after_commit(&mut self, hook: impl FnOnce() + Send + 'static) {
        self.hooks.push((None, Box::new(hook)));
    }

    /// [`Self::after_commit`] for hooks that must run in commit order among the writes
    /// that name the same `order_key` (a team's events). On SQLite every hook runs in
    /// commit order anyway (one writer thread); on PostgreSQL, where writes commit on many
    /// threads at once, writes with hooks of one key commit and run their hooks one at a
    /// time.
    pub fn after_commit_ordered(&mut self, order_key: &str, hook: impl FnOnce() + Send + 'static) {
        use std::hash::{Hash as _, Hasher as _};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        order_key.hash(&mut hasher);
        self.hooks.push((Some(hasher.finish()), Box::new(hook)));
    }
}

impl Deref for Tx<'_> {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        self.conn
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        self.conn
    }
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("hooks", &self.hooks.len()).finish_non_exhaustive()
    }
}

/// The shared side of a claim ([`Tx::claim`]), inside a write: taken at once, or the
/// write gives up (a write that lost before holds the key alone and must not lose again).
/// Nothing on SQLite.
fn claim_shared(conn: &mut DbConn, (space, key): ClaimKey) -> AppResult<()> {
    if conn.engine() != Engine::Postgres {
        return Ok(());
    }
    let lock = format!("pg_try_advisory_xact_lock_shared({space}, {key})");
    if diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&lock)).get_result::<bool>(conn)? {
        Ok(())
    } else {
        Err(AppError::Unavailable(core_models::error::WRITE_CONFLICT.into()))
    }
}
