//! The revocation feed: how a logout on one gateway reaches the session cache and the open
//! event streams of every other gateway on the database within a second.
//!
//! Triggers on `tokens` (migration `2026-12-06-000093_accounts_across_gateways`) give every
//! token that is revoked, or deleted while live, a row in `session_revocations` with the
//! next number of `revocation_counter`, in the revoking write itself. The numbers commit in
//! order without gaps (one counter row: a second revocation waits for the first's commit),
//! so "the rows after N" never misses a revocation that commits later. Each gateway reads
//! the rows after the last number it applied every [`POLL_EVERY`] — one small read, which
//! costs nothing next to the reads the cache saves — and for each: forgets the session in
//! its cache ([`SessionCache::revoked`]) and ends the session's event streams
//! ([`Streams::end_sessions`], which also refuses new ones for it). Its tickets need
//! nothing: redeeming a ticket checks its token in the database.
//!
//! When the feed cannot say what was missed — the gateway fell more than the 10,000 rows
//! the triggers keep behind, or the counter went back (a database restored from a backup)
//! — the gateway forgets its whole cache and ends the streams of every session the
//! database no longer holds live, then follows from the current number.
//!
//! No clock is involved: the order is the counter's, and "within a second" is one poll
//! interval after the commit plus the read.

use std::time::Duration;

use core_models::streams::Streams;
use core_models::AppResult;
use diesel::prelude::*;
use storage::schema::{revocation_counter as counter, session_revocations as feed, tokens};
use storage::{Database, DbConn};

use crate::sessions::SessionCache;
use crate::token::TokenHash;

/// How often a gateway reads the feed: a revocation made on another gateway is honoured
/// here at most this long (plus one small read) after it committed.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// Feed rows read per query.
const BATCH: i64 = 500;

/// What a gateway holds that a revocation must reach.
pub(crate) struct Holders<'a> {
    pub sessions: &'a SessionCache,
    pub streams: &'a Streams,
}

/// Where a gateway is in the feed.
#[derive(Debug)]
pub(crate) struct Follower {
    /// The number of the last revocation applied; `None` until the feed was first read.
    applied: Option<i64>,
}

/// A feed row: the revocation's number and the token's hash.
type Revocation = (i64, Vec<u8>);

/// The number of the last revocation, and the feed's rows after `after` up to it.
fn read_feed(conn: &mut DbConn, after: i64) -> QueryResult<(i64, Vec<Revocation>)> {
    // One transaction, so the rows and the number are of one snapshot.
    conn.transaction(|c| {
        let head = counter::table.select(counter::seq).first::<i64>(c).optional()?.unwrap_or(0);
        let rows = feed::table
            .filter(feed::seq.gt(after))
            .filter(feed::seq.le(head))
            .order(feed::seq.asc())
            .limit(BATCH)
            .select((feed::seq, feed::token_hash))
            .load(c)?;
        Ok((head, rows))
    })
}

impl Follower {
    /// A follower starting at the current end of the feed: nothing revoked before now
    /// concerns a gateway that holds nothing yet. If the database cannot be read, the
    /// first catch-up checks everything held instead.
    pub fn starting_now(db: &Database) -> Self {
        let head = db.read().and_then(|mut conn| Ok(read_feed(&mut conn, i64::MAX)?.0));
        match head {
            Ok(head) => Follower { applied: Some(head) },
            Err(e) => {
                log::warn!("revocation feed not read at start ({e}); the first catch-up checks every held session");
                Follower { applied: None }
            }
        }
    }

    /// Applies every revocation committed since the last call. Returns how many sessions
    /// it forgot (for tests and logs).
    pub fn catch_up(&mut self, db: &Database, holders: &Holders<'_>) -> AppResult<usize> {
        let mut conn = db.read()?;
        let mut forgotten = 0;
        loop {
            let Some(after) = self.applied else {
                let (head, _) = read_feed(&mut conn, i64::MAX)?;
                forgotten += resync(&mut conn, holders)?;
                self.applied = Some(head);
                return Ok(forgotten);
            };
            let (head, rows) = read_feed(&mut conn, after)?;
            if head == after {
                return Ok(forgotten);
            }
            let contiguous = !rows.is_empty() && rows.iter().zip(after + 1..).all(|((seq, _), want)| *seq == want);
            if head < after || !contiguous {
                log::warn!(
                    "revocation feed: at {after}, the database is at {head} without the rows between; \
                     checking every held session"
                );
                forgotten += resync(&mut conn, holders)?;
                self.applied = Some(head);
                return Ok(forgotten);
            }
            let hashes: Vec<TokenHash> = rows.iter().filter_map(|(_, hash)| TokenHash::from_stored(hash)).collect();
            for hash in &hashes {
                holders.sessions.revoked(hash);
            }
            holders.streams.end_sessions(&hashes.iter().map(TokenHash::session_key).collect::<Vec<_>>());
            forgotten += hashes.len();
            self.applied = rows.last().map(|(seq, _)| *seq);
            if self.applied == Some(head) {
                return Ok(forgotten);
            }
        }
    }
}

/// Forgets every cached session and ends the streams of sessions that are no longer live
/// (revoked or deleted; expired ones end by themselves). Returns how many streams' sessions
/// it ended.
fn resync(conn: &mut DbConn, holders: &Holders<'_>) -> AppResult<usize> {
    holders.sessions.forget_all();
    let open = holders.streams.open_sessions();
    let mut dead = Vec::new();
    for chunk in open.chunks(500) {
        let keys: Vec<Vec<u8>> = chunk.iter().map(|session| session.0.to_vec()).collect();
        let live: Vec<Vec<u8>> = tokens::table
            .filter(tokens::token_hash.eq_any(&keys))
            .filter(tokens::revoked_at.is_null())
            .select(tokens::token_hash)
            .load(conn)?;
        dead.extend(chunk.iter().filter(|session| !live.iter().any(|hash| hash.as_slice() == session.0)).copied());
    }
    holders.streams.end_sessions(&dead);
    Ok(dead.len())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use diesel::connection::SimpleConnection as _;

    use super::*;
    use crate::{AccountService, AccountsConfig, CurrentUser, DbAccounts, NewUser};

    /// A gateway's state on `db`: a cache and a stream registry, as the feed reaches them.
    struct Gateway {
        sessions: SessionCache,
        streams: Arc<Streams>,
        follower: Follower,
    }

    impl Gateway {
        fn on(db: &Database) -> Self {
            Gateway { sessions: SessionCache::new(100), streams: Arc::default(), follower: Follower::starting_now(db) }
        }

        /// Caches `user`'s session and opens a stream in it, as serving it would.
        fn hold(&self, user: &CurrentUser) -> core_models::streams::StreamPermit {
            self.sessions.store(self.sessions.epoch(), *user.token(), user.user.clone(), i64::MAX);
            self.streams.admit(&user.stream_owner(), None).unwrap()
        }

        fn holds(&self, user: &CurrentUser) -> bool {
            self.sessions.get(user.token(), 0).is_some()
        }

        fn catch_up(&mut self, db: &Database) -> usize {
            let holders = Holders { sessions: &self.sessions, streams: &self.streams };
            self.follower.catch_up(db, &holders).unwrap()
        }
    }

    fn session(accounts: &DbAccounts, email: &str) -> CurrentUser {
        let password = "correct horse battery";
        let new = NewUser { email: email.into(), display_name: "Ada".into(), password: password.into() };
        accounts.register(new).unwrap();
        let credentials = crate::Credentials { email: email.into(), password: password.into() };
        let login = accounts.login(credentials).unwrap();
        accounts.authenticate(login.token.expose_secret()).unwrap()
    }

    fn by_hand(db: &Database, sql: &'static str) {
        db.write(move |tx| Ok(tx.conn().batch_execute(sql)?)).unwrap();
    }

    async fn ends(permit: &mut core_models::streams::StreamPermit) -> bool {
        tokio::time::timeout(Duration::from_millis(100), permit.ended()).await.is_ok()
    }

    #[actix_rt::test]
    async fn revocations_made_elsewhere_reach_the_cache_and_the_streams_in_order() {
        let db = storage::test_pool();
        let accounts = DbAccounts::new(db.database(), AccountsConfig::insecure_for_tests());
        let (ada, bob) = (session(&accounts, "ada@x.io"), session(&accounts, "bob@x.io"));
        let mut other = Gateway::on(&db);
        let (mut ada_stream, mut bob_stream) = (other.hold(&ada), other.hold(&bob));
        assert_eq!(other.catch_up(&db), 0, "nothing revoked yet");

        accounts.logout(&ada).unwrap();
        assert!(other.holds(&ada), "not heard of yet");
        assert_eq!(other.catch_up(&db), 1);
        assert!(!other.holds(&ada) && other.holds(&bob));
        assert!(ends(&mut ada_stream).await && !ends(&mut bob_stream).await);
        let refused = other.streams.admit(&ada.stream_owner(), None).unwrap_err();
        assert_eq!(refused.status_code(), 401, "no new stream for the revoked session");

        // A revocation by hand (SQL) is in the feed too: the triggers write it.
        by_hand(&db, "UPDATE tokens SET revoked_at = 1 WHERE revoked_at IS NULL");
        assert_eq!(other.catch_up(&db), 1, "bob's token; ada's was revoked already");
        assert!(!other.holds(&bob) && ends(&mut bob_stream).await);
        assert_eq!(other.catch_up(&db), 0);
    }

    #[actix_rt::test]
    async fn a_gap_in_the_feed_forgets_every_session_and_ends_only_dead_sessions_streams() {
        let db = storage::test_pool();
        let accounts = DbAccounts::new(db.database(), AccountsConfig::insecure_for_tests());
        let (ada, bob) = (session(&accounts, "ada@x.io"), session(&accounts, "bob@x.io"));
        let mut other = Gateway::on(&db);
        let (mut ada_stream, mut bob_stream) = (other.hold(&ada), other.hold(&bob));
        accounts.logout(&ada).unwrap();
        // The rows this gateway has not read are gone (as if swept while it was cut off).
        by_hand(&db, "DELETE FROM session_revocations");
        other.catch_up(&db);
        assert!(!other.holds(&ada) && !other.holds(&bob), "every cached session is read again");
        assert!(ends(&mut ada_stream).await, "the revoked session's stream ends");
        assert!(!ends(&mut bob_stream).await, "a live session's stream goes on");
        // And the feed is followed from there.
        accounts.logout(&bob).unwrap();
        assert_eq!(other.catch_up(&db), 1);
        assert!(ends(&mut bob_stream).await);
    }

    #[test]
    fn the_feed_numbers_each_revoked_token_without_gaps() {
        let db = storage::test_pool();
        let accounts = DbAccounts::new(db.database(), AccountsConfig::insecure_for_tests());
        let ada = session(&accounts, "ada@x.io");
        for _ in 0..3 {
            let credentials = crate::Credentials { email: "ada@x.io".into(), password: "correct horse battery".into() };
            accounts.login(credentials).unwrap();
        }
        accounts.logout_all(&ada).unwrap();
        let (head, rows) = read_feed(&mut db.read().unwrap(), 0).unwrap();
        assert_eq!(head, 4);
        assert_eq!(rows.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert!(rows.iter().any(|(_, hash)| hash.as_slice() == ada.token().as_bytes()));
    }
}
