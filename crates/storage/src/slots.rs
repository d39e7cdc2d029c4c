//! Search slots: full-text searches that may run at once, on either engine, so searches
//! never hold every connection and core while point reads wait.

use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use core_models::{AppError, AppResult};
use diesel::connection::SimpleConnection;

use crate::config::PooledConn;
use crate::conn::DbConn;

/// A counting semaphore: the free search slots.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
    wait: Duration,
}

impl Slots {
    /// `count` slots (at least one); a search waits at most `wait` for one.
    pub(crate) fn new(count: usize, wait: Duration) -> Self {
        Slots { free: Mutex::new(count.max(1)), freed: Condvar::new(), wait }
    }

    /// Takes a free slot, waiting for one up to the configured wait; past it, 503.
    pub(crate) fn acquire(self: &Arc<Self>) -> AppResult<Slot> {
        let deadline = std::time::Instant::now() + self.wait;
        let mut free = self.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *free == 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                log::warn!("a search waited {:?} for a search slot", self.wait);
                return Err(AppError::Unavailable("too many searches at once; retry shortly".into()));
            }
            free = self.freed.wait_timeout(free, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        *free -= 1;
        Ok(Slot(self.clone()))
    }
}

/// A search slot, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        self.0.freed.notify_one();
    }
}

/// A read connection for a full-text search, holding one of the search slots.
pub struct SearchConn {
    // Declared first: the connection goes back to the pool before the slot is freed.
    conn: PooledConn,
    /// SQL that restores the connection's session settings when the search is done.
    reset: Option<String>,
    _slot: Slot,
}

impl SearchConn {
    pub(crate) fn new(conn: PooledConn, slot: Slot, reset: Option<String>) -> Self {
        SearchConn { conn, reset, _slot: slot }
    }
}

impl Drop for SearchConn {
    fn drop(&mut self) {
        if let Some(reset) = self.reset.take() {
            if let Err(e) = self.conn.batch_execute(&reset) {
                log::warn!("restoring a search connection's settings failed: {e}");
            }
        }
    }
}

impl std::fmt::Debug for SearchConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchConn").finish_non_exhaustive()
    }
}

impl Deref for SearchConn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for SearchConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}
