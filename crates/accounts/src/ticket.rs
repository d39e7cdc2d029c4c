//! Stream tickets: how a browser's `EventSource`, which cannot send an `Authorization`
//! header, opens an authenticated event stream without a bearer token in its URL.
//!
//! The page asks `POST /auth/stream-tickets` (with its bearer token, as any call) for a
//! ticket: 256 random bits, valid for [`TICKET_TTL`], good for **one** connection, and
//! tied to the session that asked. It opens `new EventSource(".../events?ticket=...")`;
//! the authentication middleware redeems the ticket for a request that accepts
//! `text/event-stream`. A ticket that leaks through a log or a proxy is worthless a minute
//! later, and after its first use immediately; the bearer token itself never appears in a
//! URL.
//!
//! Tickets live in the database (`stream_tickets`, only their SHA-256), so a ticket minted
//! on one gateway opens a stream on any other gateway of the database, once: redeeming is
//! one conditional `UPDATE ... SET used_at ... WHERE used_at IS NULL AND expires_at > now
//! RETURNING`, which two gateways cannot both win. Expired rows are swept by the tickets
//! issued after them.
//!
//! A ticket belongs to the session (token) that asked for it: it never outlives that
//! token's expiry, it opens nothing once the token is revoked (redeeming checks the token
//! in the same transaction), and the stream it opens is owned by that session, so a
//! revocation ends the stream too. `HEAD` of a stream checks a ticket without using it up
//! ([`StreamTickets::check`]).
//!
//! Lifetimes are reckoned with the clock of the gateway at hand: one issues with its own,
//! another redeems with its own, so a difference between their clocks lengthens or shortens
//! the minute by as much (NTP keeps it to milliseconds).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use core_models::streams::{SessionKey, StreamOwner};
use core_models::{time, AppError, AppResult, Caller};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use storage::schema::{stream_tickets as tickets, tokens, users};
use storage::{Database, DbConn};

use crate::clock::{Clock, SystemClock};
use crate::token::{AccessToken, TokenHash};

/// How long a ticket stays redeemable.
pub const TICKET_TTL: Duration = Duration::from_secs(60);

/// Expired tickets deleted by each ticket issued, oldest first: the table shrinks faster
/// than it grows, and holds about the last minute's tickets.
const SWEEP: i64 = 16;

/// The ticket office: issues, checks and redeems tickets in the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StreamTickets {
    db: Database,
    clock: Arc<dyn Clock>,
}

fn unusable() -> AppError {
    AppError::Unauthorized(
        "the stream ticket is unknown, used or expired; get a new one from POST /api/v1/auth/stream-tickets".into(),
    )
}

fn dead_token() -> AppError {
    AppError::Unauthorized("the token is invalid, expired or revoked; log in again".into())
}

/// A live session of a ticket: its user, name and token expiry.
type Holder = (String, String, i64);

/// The caller and stream owner of a live session found for a ticket.
fn owner_of(session: SessionKey, (user, display_name, expires_at): Holder) -> AppResult<(Caller, StreamOwner)> {
    let id = core_models::id::from_stored("users.id", &user)?;
    let owner = StreamOwner { user: id, session, expires_at: time::from_millis(expires_at) };
    Ok((Caller::new(id, display_name), owner))
}

/// The session of `token_hash` if it is live at `now_ms`: user, name, token expiry.
fn live_session(conn: &mut DbConn, token_hash: &[u8], now_ms: i64) -> AppResult<Option<Holder>> {
    Ok(tokens::table
        .inner_join(users::table)
        .filter(tokens::token_hash.eq(token_hash))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.gt(now_ms))
        .select((users::id, users::display_name, tokens::expires_at))
        .first(conn)
        .optional()?)
}

impl StreamTickets {
    /// The ticket office of the database `db`, on the system clock.
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, Arc::new(SystemClock))
    }

    /// [`Self::new`] on another clock (tests that expire tickets without sleeping).
    pub fn with_clock(db: Database, clock: Arc<dyn Clock>) -> Self {
        StreamTickets { db, clock }
    }

    fn now_ms(&self) -> i64 {
        time::to_millis(self.clock.now())
    }

    /// A fresh ticket for the session `owner`, valid for [`TICKET_TTL`] or until the
    /// session expires, whichever comes first; and when it stops working.
    pub fn issue(&self, owner: &StreamOwner) -> AppResult<(String, DateTime<Utc>)> {
        let ticket = AccessToken::generate()?;
        let now_ms = self.now_ms();
        let ttl_ms = i64::try_from(TICKET_TTL.as_millis()).unwrap_or(i64::MAX);
        let expires_ms = now_ms.saturating_add(ttl_ms).min(time::to_millis(owner.expires_at));
        if expires_ms <= now_ms {
            return Err(dead_token());
        }
        let (key, session) = (ticket.hash().as_bytes().to_vec(), owner.session.0.to_vec());
        self.db.write(move |tx| {
            // The session may have been revoked since this request authenticated (on another
            // gateway, whose revocation this one's cache has not heard of yet).
            if live_session(tx.conn(), &session, now_ms)?.is_none() {
                return Err(dead_token());
            }
            let row = (
                tickets::ticket_hash.eq(&key),
                tickets::token_hash.eq(&session),
                tickets::created_at.eq(now_ms),
                tickets::expires_at.eq(expires_ms),
            );
            match diesel::insert_into(tickets::table).values(row).execute(tx.conn()) {
                Ok(_) => {}
                // The session's token is gone (deleted since this request authenticated).
                Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => return Err(dead_token()),
                Err(other) => return Err(other.into()),
            }
            storage::sql::sql(
                "DELETE FROM stream_tickets WHERE ticket_hash IN \
                 (SELECT ticket_hash FROM stream_tickets WHERE expires_at <= ",
            )
            .bind_int(now_ms)
            .sql(" ORDER BY expires_at LIMIT ")
            .bind_int(SWEEP)
            .sql(")")
            .untyped()
            .execute(tx.conn())?;
            Ok(())
        })?;
        Ok((ticket.expose_secret().to_owned(), time::from_millis(expires_ms)))
    }

    /// The caller a ticket was issued to, and the session it belongs to; the ticket is
    /// used up, on whichever gateway it was issued. Unknown, used, expired tickets and
    /// tickets of a revoked or expired session are 401.
    pub fn redeem(&self, ticket: &str) -> AppResult<(Caller, StreamOwner)> {
        let hash = TokenHash::of_presented(ticket).ok_or_else(unusable)?;
        let now_ms = self.now_ms();
        let key = hash.as_bytes().to_vec();
        self.db.write(move |tx| {
            let session: Vec<u8> = diesel::update(tickets::table.find(&key))
                .filter(tickets::used_at.is_null())
                .filter(tickets::expires_at.gt(now_ms))
                .set(tickets::used_at.eq(now_ms))
                .returning(tickets::token_hash)
                .get_result(tx.conn())
                .optional()?
                .ok_or_else(unusable)?;
            // A ticket of a dead session opens nothing (and the error undoes its use).
            let holder = live_session(tx.conn(), &session, now_ms)?.ok_or_else(unusable)?;
            let session = TokenHash::from_stored(&session).ok_or_else(unusable)?.session_key();
            owner_of(session, holder)
        })
    }

    /// [`Self::redeem`] without using the ticket up (for `HEAD`, which opens no stream).
    pub fn check(&self, ticket: &str) -> AppResult<(Caller, StreamOwner)> {
        let hash = TokenHash::of_presented(ticket).ok_or_else(unusable)?;
        let now_ms = self.now_ms();
        let mut conn = self.db.read()?;
        let session: Vec<u8> = tickets::table
            .find(hash.as_bytes().as_slice())
            .filter(tickets::used_at.is_null())
            .filter(tickets::expires_at.gt(now_ms))
            .select(tickets::token_hash)
            .first(&mut *conn)
            .optional()?
            .ok_or_else(unusable)?;
        let holder = live_session(&mut conn, &session, now_ms)?.ok_or_else(unusable)?;
        owner_of(TokenHash::from_stored(&session).ok_or_else(unusable)?.session_key(), holder)
    }
}
