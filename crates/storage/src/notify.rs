//! PostgreSQL `LISTEN`/`NOTIFY`: a write announces inside its transaction that something
//! changed (`pg_notify(channel, payload)` in one of its statements: the activity log sends
//! it in the entry's insert), and a [`Listener`] on another connection (of this gateway or
//! any other on the same database) learns of it once that transaction has committed.
//!
//! PostgreSQL delivers a notification only when its transaction commits, never for one that
//! rolls back, and delivers the notifications of one channel to each listener in commit
//! order; a payload is at most 7,999 bytes. A notification sent while a listener's
//! connection is down is lost for it: whoever listens must read what it missed from the
//! tables after reconnecting. SQLite has no such thing.
//!
//! Diesel cannot wait for a notification:
//! [`PgConnection::notifications_iter`](diesel::pg::PgConnection::notifications_iter) only
//! returns what has arrived (it reads the socket without blocking). A listener therefore asks
//! ([`Listener::received`]) every few milliseconds on a thread of its own, which costs one
//! non-blocking `recv` per ask and keeps the one PostgreSQL client library (libpq: the same
//! URLs, TLS and multi-host failover as the pool) instead of adding a second.

use diesel::connection::SimpleConnection as _;

use core_models::{AppError, AppResult};

use crate::conn::DbConn;

/// The longest payload PostgreSQL accepts, in bytes.
pub const MAX_PAYLOAD: usize = 7999;

/// A connection of its own (outside the pool) that listens on one channel; it also serves
/// the listener's own reads, so following the channel never takes a pooled connection.
#[derive(Debug)]
pub struct Listener {
    conn: DbConn,
    channel: String,
}

impl Listener {
    /// Opens a connection to `db` named `application_name` and listens on `channel` (an
    /// identifier of the code: lower-case letters, digits and `_`). PostgreSQL only.
    pub fn connect(db: &crate::Database, channel: &str, application_name: &str) -> AppResult<Listener> {
        if channel.is_empty() || !channel.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(AppError::Internal(anyhow::anyhow!("{channel:?} is not a channel name")));
        }
        let mut conn = db.dedicated(application_name)?;
        conn.batch_execute(&format!("LISTEN {channel}"))?;
        Ok(Listener { conn, channel: channel.to_string() })
    }

    /// The payloads received on the channel since the last call, in commit order; empty
    /// when nothing came. An error means the connection is lost: drop the listener,
    /// connect again, and read what may have been missed meanwhile.
    pub fn received(&mut self) -> AppResult<Vec<String>> {
        let DbConn::Postgres(pg) = &mut self.conn else { return Ok(Vec::new()) };
        let mut payloads = Vec::new();
        for notification in pg.notifications_iter() {
            let notification = notification.map_err(|e| {
                log::warn!("the listener's connection is lost: {e}");
                AppError::Unavailable("the database connection is lost".into())
            })?;
            if notification.channel == self.channel {
                payloads.push(notification.payload);
            }
        }
        Ok(payloads)
    }

    /// Asks the server for an answer: an error means the connection is lost (also one that
    /// died without a word, which [`Self::received`] cannot tell from silence).
    pub fn check(&mut self) -> AppResult<()> {
        self.conn.batch_execute("SELECT 1")?;
        Ok(())
    }

    /// The listener's connection, for reading what a notification announced.
    pub fn conn(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}
