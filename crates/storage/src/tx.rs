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

use crate::DbConn;

/// Work to do once the write has committed, with its order key (see
/// [`Tx::after_commit_ordered`]).
pub(crate) type Hook = (Option<u64>, Box<dyn FnOnce() + Send>);

/// One write's open transaction.
pub struct Tx<'a> {
    conn: &'a mut DbConn,
    hooks: &'a mut Vec<Hook>,
}

impl<'a> Tx<'a> {
    /// A write on `conn` (inside its transaction) whose hooks go to `hooks`.
    pub(crate) fn new(conn: &'a mut DbConn, hooks: &'a mut Vec<Hook>) -> Self {
        Tx { conn, hooks }
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
