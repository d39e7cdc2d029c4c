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

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use core_models::{AppError, AppResult, Caller};
use sha2::{Digest, Sha256};

/// How long a ticket stays redeemable.
pub const TICKET_TTL: Duration = Duration::from_secs(60);
/// Most unredeemed tickets held at once (each is ~100 bytes); past it, 503.
const MAX_TICKETS: usize = 100_000;

/// Issued, unredeemed stream tickets, keyed by their hash.
#[derive(Debug, Default)]
pub struct StreamTickets {
    open: Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

fn hash(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

impl StreamTickets {
    /// An empty ticket office.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh ticket for `caller`, valid for [`TICKET_TTL`].
    pub fn issue(&self, caller: Caller) -> AppResult<String> {
        let mut bytes = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a ticket: {e}")))?;
        let ticket = URL_SAFE_NO_PAD.encode(bytes);
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.len() >= MAX_TICKETS {
            open.retain(|_, (_, expires)| *expires > now);
            if open.len() >= MAX_TICKETS {
                return Err(AppError::Unavailable("too many open stream tickets; retry shortly".into()));
            }
        }
        open.insert(hash(&ticket), (caller, now + TICKET_TTL));
        Ok(ticket)
    }

    /// The caller a ticket was issued to; the ticket is used up. Unknown, used and expired
    /// tickets are 401.
    pub fn redeem(&self, ticket: &str) -> AppResult<Caller> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match open.remove(&hash(ticket)) {
            Some((caller, expires)) if expires > Instant::now() => Ok(caller),
            _ => Err(AppError::Unauthorized(
                "the stream ticket is unknown, used or expired; get a new one from POST /api/v1/auth/stream-tickets"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_works_once_for_its_caller() {
        let office = StreamTickets::new();
        let ada = Caller::new(uuid::Uuid::now_v7(), "Ada");
        let ticket = office.issue(ada.clone()).unwrap();
        assert_eq!(ticket.len(), 43);
        assert_eq!(office.redeem(&ticket).unwrap(), ada);
        assert_eq!(office.redeem(&ticket).unwrap_err().status_code(), 401, "single use");
        assert_eq!(office.redeem("made-up").unwrap_err().status_code(), 401);
    }

    #[test]
    fn expired_tickets_are_refused() {
        let office = StreamTickets::new();
        let ticket = office.issue(Caller::new(uuid::Uuid::now_v7(), "Ada")).unwrap();
        office.open.lock().unwrap().values_mut().for_each(|(_, expires)| *expires = Instant::now());
        assert_eq!(office.redeem(&ticket).unwrap_err().status_code(), 401);
    }
}
