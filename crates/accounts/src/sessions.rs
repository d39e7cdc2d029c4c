//! Recently authenticated bearer tokens, kept in memory so that a request with a token
//! seen moments ago is authenticated without a database read (and without a hop to the
//! blocking pool): on a list request that was a tenth of the server's time.
//!
//! A revocation must reach this cache wherever it was made. Revocations made by this
//! service call [`SessionCache::revoked`] after their write commits; every revocation in
//! the database (made by any gateway, or by SQL by hand) also reaches every gateway's cache
//! within [`crate::revocations::POLL_EVERY`] through the revocation feed
//! ([`crate::AccountService::follow_revocations`]). Beyond that:
//!
//! - expiry is checked on every hit;
//! - an entry lives at most [`SESSION_CACHE_TTL`], the backstop should the feed itself be
//!   cut off (a service that does not follow it);
//! - a lookup that raced with a revocation cannot put the revoked token back: an entry is
//!   only stored when no revocation reached the cache between the database read and the
//!   store (a revocation counter, read before and after). A revocation that commits after
//!   the read but reaches the cache only after the store removes the entry when it arrives.
//!
//! Only the token's SHA-256 is kept, as in the database, never the token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use crate::model::User;
use crate::token::TokenHash;

/// How long a session is trusted without looking at the database again.
pub const SESSION_CACHE_TTL: Duration = Duration::from_secs(30);

/// How many sessions are kept; the least recently used go first.
pub const SESSION_CACHE_SIZE: usize = 10_000;

#[derive(Clone)]
struct Session {
    user: User,
    /// The token's own expiry, in the service clock's milliseconds.
    expires_at_ms: i64,
    /// When this entry stops being trusted.
    checked_until: Instant,
}

/// The cache of sessions; see the module documentation.
pub struct SessionCache {
    sessions: Cache<TokenHash, Session>,
    revocations: AtomicU64,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache").field("len", &self.sessions.len()).finish_non_exhaustive()
    }
}

/// Taken before a database read of a session; [`SessionCache::store`] needs it.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl Default for SessionCache {
    fn default() -> Self {
        Self::new(SESSION_CACHE_SIZE)
    }
}

impl SessionCache {
    /// A cache of at most `capacity` sessions.
    pub fn new(capacity: usize) -> Self {
        SessionCache { sessions: Cache::new(capacity.max(1)), revocations: AtomicU64::new(0) }
    }

    /// The user of a cached, unexpired session for `hash` at `now_ms`, and when the
    /// session expires (milliseconds).
    pub fn get(&self, hash: &TokenHash, now_ms: i64) -> Option<(User, i64)> {
        let session = self.sessions.get(hash)?;
        if session.expires_at_ms > now_ms && session.checked_until > Instant::now() {
            Some((session.user, session.expires_at_ms))
        } else {
            self.sessions.remove(hash);
            None
        }
    }

    /// To take before reading a session from the database.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.revocations.load(Ordering::SeqCst))
    }

    /// Keeps a session read from the database since `epoch`, unless a token was revoked
    /// meanwhile (it might be this one).
    pub fn store(&self, epoch: Epoch, hash: TokenHash, user: User, expires_at_ms: i64) {
        let session = Session { user, expires_at_ms, checked_until: Instant::now() + SESSION_CACHE_TTL };
        if self.revocations.load(Ordering::SeqCst) == epoch.0 {
            self.sessions.insert(hash, session);
            // A revocation that slipped in between the check and the insert removes it.
            if self.revocations.load(Ordering::SeqCst) != epoch.0 {
                self.sessions.remove(&hash);
            }
        }
    }

    /// Forgets the session of `hash`, after its revocation has committed.
    pub fn revoked(&self, hash: &TokenHash) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        self.sessions.remove(hash);
    }

    /// Forgets every session (revocations may have been missed: each is read again).
    pub fn forget_all(&self) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        self.sessions.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: uuid::Uuid::now_v7(),
            email: "a@x.io".into(),
            display_name: "A".into(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_stored_session_is_served_until_the_token_expires() {
        let cache = SessionCache::new(10);
        let hash = TokenHash::of_presented(&"A".repeat(crate::token::TOKEN_LEN)).expect("a token");
        let epoch = cache.epoch();
        cache.store(epoch, hash, user(), 1_000);
        assert!(cache.get(&hash, 999).is_some());
        assert!(cache.get(&hash, 1_000).is_none(), "expired tokens are not served");
        assert!(cache.get(&hash, 0).is_none(), "and the entry is gone");
    }

    #[test]
    fn a_revocation_during_the_read_keeps_the_session_out() {
        let cache = SessionCache::new(10);
        let hash = TokenHash::of_presented(&"E".repeat(crate::token::TOKEN_LEN)).expect("a token");
        let epoch = cache.epoch();
        // The database said "valid", then a logout committed before the store.
        cache.revoked(&hash);
        cache.store(epoch, hash, user(), i64::MAX);
        assert!(cache.get(&hash, 0).is_none());
        // A later read stores it (a new token would have a new hash anyway).
        let epoch = cache.epoch();
        cache.store(epoch, hash, user(), i64::MAX);
        assert!(cache.get(&hash, 0).is_some());
        cache.revoked(&hash);
        assert!(cache.get(&hash, 0).is_none(), "logout forgets it at once");
    }

    #[test]
    fn forgetting_all_empties_the_cache_and_keeps_racing_reads_out() {
        let cache = SessionCache::new(10);
        let (a, b) = (
            TokenHash::of_presented(&"A".repeat(crate::token::TOKEN_LEN)).expect("a token"),
            TokenHash::of_presented(&"Q".repeat(crate::token::TOKEN_LEN)).expect("a token"),
        );
        cache.store(cache.epoch(), a, user(), i64::MAX);
        let epoch = cache.epoch();
        cache.forget_all();
        cache.store(epoch, b, user(), i64::MAX);
        assert!(cache.get(&a, 0).is_none() && cache.get(&b, 0).is_none());
    }
}
