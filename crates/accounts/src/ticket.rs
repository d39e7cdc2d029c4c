//! Stream tickets: how a browser's `EventSource`, which cannot send an `Authorization`
//! header, opens an authenticated event stream without a bearer token in its URL.
//!
//! The page asks `POST /auth/stream-tickets` (with its bearer token, as any call) for a
//! ticket: 256 random bits, valid for [`TICKET_TTL`], good for **one** connection, and
//! tied to the user. It opens `new EventSource(".../events?ticket=...")`; the
//! authentication middleware redeems the ticket for a request that accepts
//! `text/event-stream` and forgets it at once. A ticket that leaks through a log or a
//! proxy is worthless a minute later, and after its first use immediately; the bearer
//! token itself never appears in a URL. Tickets live in process memory (they need not
//! survive a restart: the page just asks for a new one), stored only as their SHA-256.
//!
//! A ticket belongs to the session (token) that asked for it: it never outlives that
//! token's expiry, revoking the token voids its unused tickets ([`StreamTickets::void`]),
//! and the stream it opens is owned by that session, so the revocation ends the stream
//! too. `HEAD` of a stream checks a ticket without using it up ([`StreamTickets::check`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use core_models::streams::{SessionKey, StreamOwner};
use core_models::{AppError, AppResult, Caller};
use sha2::{Digest, Sha256};

/// How long a ticket stays redeemable.
pub const TICKET_TTL: Duration = Duration::from_secs(60);
/// Most unredeemed tickets held at once (each is ~100 bytes); past it, 503.
const MAX_TICKETS: usize = 100_000;

/// An issued ticket: whom it authenticates, and until when.
#[derive(Debug, Clone)]
struct Issued {
    caller: Caller,
    owner: StreamOwner,
    expires: Instant,
}

/// Issued, unredeemed stream tickets, keyed by their hash.
#[derive(Debug, Default)]
pub struct StreamTickets {
    open: Mutex<HashMap<[u8; 32], Issued>>,
}

fn hash(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

fn unusable() -> AppError {
    AppError::Unauthorized(
        "the stream ticket is unknown, used or expired; get a new one from POST /api/v1/auth/stream-tickets".into(),
    )
}

impl StreamTickets {
    /// An empty ticket office.
    pub fn new() -> Self {
        Self::default()
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Issued>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fresh ticket for `caller` in the session `owner`, valid for [`TICKET_TTL`] or
    /// until the session expires, whichever comes first.
    pub fn issue(&self, caller: Caller, owner: StreamOwner) -> AppResult<String> {
        let mut bytes = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a ticket: {e}")))?;
        let ticket = URL_SAFE_NO_PAD.encode(bytes);
        let now = Instant::now();
        let session_left = (owner.expires_at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
        let expires = now + TICKET_TTL.min(session_left);
        let mut open = self.open();
        if open.len() >= MAX_TICKETS {
            open.retain(|_, issued| issued.expires > now);
            if open.len() >= MAX_TICKETS {
                return Err(AppError::Unavailable("too many open stream tickets; retry shortly".into()));
            }
        }
        open.insert(hash(&ticket), Issued { caller, owner, expires });
        Ok(ticket)
    }

    /// The caller a ticket was issued to, and the session it belongs to; the ticket is
    /// used up. Unknown, used, voided and expired tickets are 401.
    pub fn redeem(&self, ticket: &str) -> AppResult<(Caller, StreamOwner)> {
        match self.open().remove(&hash(ticket)) {
            Some(issued) if issued.expires > Instant::now() => Ok((issued.caller, issued.owner)),
            _ => Err(unusable()),
        }
    }

    /// [`Self::redeem`] without using the ticket up (for `HEAD`, which opens no stream).
    pub fn check(&self, ticket: &str) -> AppResult<(Caller, StreamOwner)> {
        match self.open().get(&hash(ticket)) {
            Some(issued) if issued.expires > Instant::now() => Ok((issued.caller.clone(), issued.owner.clone())),
            _ => Err(unusable()),
        }
    }

    /// Voids the unused tickets of these sessions (their tokens were revoked).
    pub fn void(&self, sessions: &[SessionKey]) {
        if !sessions.is_empty() {
            self.open().retain(|_, issued| !sessions.contains(&issued.owner.session));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada(session: u8) -> (Caller, StreamOwner) {
        let id = uuid::Uuid::now_v7();
        let owner = StreamOwner {
            user: id,
            session: SessionKey([session; 32]),
            expires_at: chrono::Utc::now() + chrono::Duration::days(1),
        };
        (Caller::new(id, "Ada"), owner)
    }

    #[test]
    fn a_ticket_works_once_for_its_caller_and_a_check_does_not_use_it() {
        let office = StreamTickets::new();
        let (caller, owner) = ada(1);
        let ticket = office.issue(caller.clone(), owner.clone()).unwrap();
        assert_eq!(ticket.len(), 43);
        assert_eq!(office.check(&ticket).unwrap(), (caller.clone(), owner.clone()));
        assert_eq!(office.redeem(&ticket).unwrap(), (caller, owner));
        assert_eq!(office.redeem(&ticket).unwrap_err().status_code(), 401, "single use");
        assert_eq!(office.check(&ticket).unwrap_err().status_code(), 401);
        assert_eq!(office.redeem("made-up").unwrap_err().status_code(), 401);
    }

    #[test]
    fn expired_tickets_are_refused() {
        let office = StreamTickets::new();
        let (caller, owner) = ada(1);
        let ticket = office.issue(caller, owner).unwrap();
        office.open().values_mut().for_each(|issued| issued.expires = Instant::now());
        assert_eq!(office.redeem(&ticket).unwrap_err().status_code(), 401);
    }

    #[test]
    fn a_ticket_dies_with_its_session() {
        let office = StreamTickets::new();
        let (caller, owner) = ada(1);
        let (other_caller, other_owner) = ada(2);
        let voided = office.issue(caller.clone(), owner.clone()).unwrap();
        let kept = office.issue(other_caller, other_owner).unwrap();
        office.void(&[owner.session]);
        assert_eq!(office.redeem(&voided).unwrap_err().status_code(), 401, "revoked session");
        assert!(office.redeem(&kept).is_ok(), "another session's ticket stays");
        let expiring = StreamOwner { expires_at: chrono::Utc::now() - chrono::Duration::seconds(1), ..owner };
        let late = office.issue(caller, expiring).unwrap();
        assert_eq!(office.redeem(&late).unwrap_err().status_code(), 401, "never past the session's expiry");
    }
}
