//! The brute-force guard of `login`, after OWASP's Authentication and Credential Stuffing
//! cheat sheets: limits per client address and per account that slow an attacker down
//! without letting a stranger lock the owner out.
//!
//! Three sliding-window counters of failed logins, each over `window`:
//!
//! - **per client address** (`max_failures_per_client`, over all emails): stops one
//!   address from guessing or spraying passwords across many accounts;
//! - **per email and client address** (`max_failures_per_client_and_email`): stops one
//!   address from guessing one account's password, and touches no one else — the owner
//!   logging in from their own address is not counted with the attacker;
//! - **per email** (`max_failures_per_email`, higher): a distributed attack on one account.
//!   Past it, only addresses with no failure for that email inside the window may still
//!   try, so the owner's right password from their own device keeps working while every
//!   attacking address gets at most one guess per window.
//!
//! IPv6 clients are counted per /64 (one host usually holds a whole /64), IPv4-mapped IPv6
//! addresses as their IPv4 address.
//!
//! The failures live in the database (`login_failures`, one row per attempt), so that every
//! gateway on one database counts the same attempts: N gateways do not allow N times the
//! guesses, and a restart forgets nothing. An attempt is checked twice: first with a read,
//! so that refused attempts (the bulk of an attack) never queue for a write, then again
//! inside the write that records it, which makes concurrent attempts on any gateways count
//! one after the other (SQLite's single writer; PostgreSQL's SERIALIZABLE writes retry the
//! one that read a count another changed). Every recorded attempt sweeps a few rows that
//! left the window, and past `max_tracked` rows the oldest go first, so the table stays
//! bounded whatever an attacker sends.
//!
//! Times are the service clock's (each gateway's own): a window is minutes long, so the
//! milliseconds by which gateways' clocks differ only move its edge by as much.

use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, Utc};
use core_models::{AppError, AppResult};
use diesel::prelude::*;
use storage::schema::login_failures as failures;
use storage::{Database, DbConn};

use crate::config::LoginThrottleConfig;

/// Rows that left the window deleted by each recorded attempt, oldest first: the table
/// shrinks faster than it grows.
const SWEEP: i64 = 16;

/// Failed (and in-flight) login attempts per client, per (email, client) and per email,
/// counted in the database.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    config: LoginThrottleConfig,
}

/// An admitted attempt, recorded as a failure until [`LoginThrottle::succeeded`] takes it
/// back.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    id: i64,
    email: String,
    client: String,
}

/// The address a client is counted under: IPv6 per /64, IPv4-mapped IPv6 as IPv4.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Whole seconds until `expires_ms`, rounded up, at least one: retrying earlier would be
/// refused again.
fn seconds_until(expires_ms: i64, now_ms: i64) -> u64 {
    u64::try_from(expires_ms - now_ms).unwrap_or(0).div_ceil(1000).max(1)
}

fn too_many(why: &str, retry_after_secs: u64) -> AppError {
    AppError::TooManyRequests { detail: format!("{why}; retry in {retry_after_secs} seconds"), retry_after_secs }
}

/// Which failures a count is over.
enum Key<'a> {
    Client(&'a str),
    Email(&'a str),
    /// Only the failures that still count for the pair (none before its last success).
    Pair(&'a str, &'a str),
}

type Failures<'a> = failures::BoxedQuery<'a, storage::Backend>;

/// The failures of `key` inside the window (made after `window_start`).
fn in_window<'a>(key: &Key<'a>, window_start: i64) -> Failures<'a> {
    let query = failures::table.filter(failures::at.gt(window_start)).into_boxed();
    match *key {
        Key::Client(client) => query.filter(failures::client.eq(client)),
        Key::Email(email) => query.filter(failures::email.eq(email)),
        Key::Pair(email, client) => query
            .filter(failures::email.eq(email))
            .filter(failures::client.eq(client))
            .filter(failures::pair_counts.eq(true)),
    }
}

/// When `key` has `limit` failures inside the window, the time of the oldest of its
/// latest `limit`: once that one leaves the window, the key is under its limit again.
fn full_since(conn: &mut DbConn, key: &Key<'_>, limit: u32, window_start: i64) -> AppResult<Option<i64>> {
    let skip = i64::from(limit.max(1)) - 1;
    Ok(in_window(key, window_start)
        .select(failures::at)
        .order(failures::at.desc())
        .offset(skip)
        .limit(1)
        .first::<i64>(conn)
        .optional()?)
}

/// The latest failure of `key` inside the window, if any.
fn latest(conn: &mut DbConn, key: &Key<'_>, window_start: i64) -> AppResult<Option<i64>> {
    Ok(in_window(key, window_start).select(failures::at).order(failures::at.desc()).first::<i64>(conn).optional()?)
}

impl LoginThrottle {
    pub fn new(config: LoginThrottleConfig) -> Self {
        LoginThrottle { config }
    }

    /// Lets an attempt for `email` from `client` at `now` go ahead, or answers 429 with the
    /// seconds until it would be let through.
    ///
    /// An admitted attempt counts as a failure right away (its row is written before the
    /// password is checked) and only [`Self::succeeded`] takes it back: concurrent guesses,
    /// on one gateway or several, cannot all slip in before any has failed.
    pub fn admit(&self, db: &Database, email: &str, client: IpAddr, now: DateTime<Utc>) -> AppResult<Attempt> {
        let now_ms = now.timestamp_millis();
        let client = client_key(client).to_string();
        self.refusal(&mut *db.read()?, email, &client, now_ms)?;
        let (config, email) = (self.config.clone(), email.to_owned());
        db.write(move |tx| {
            let throttle = LoginThrottle { config: config.clone() };
            throttle.refusal(tx.conn(), &email, &client, now_ms)?;
            let id: i64 = diesel::insert_into(failures::table)
                .values((
                    failures::client.eq(&client),
                    failures::email.eq(&email),
                    failures::at.eq(now_ms),
                    failures::pair_counts.eq(true),
                ))
                .returning(failures::id)
                .get_result(tx.conn())?;
            throttle.sweep(tx.conn(), id, now_ms)?;
            Ok(Attempt { id, email: email.clone(), client: client.clone() })
        })
    }

    /// `Err(429)` when an attempt for `email` from `client` at `now_ms` must wait.
    fn refusal(&self, conn: &mut DbConn, email: &str, client: &str, now_ms: i64) -> AppResult<()> {
        let window_ms = self.config.window.num_milliseconds();
        let window_start = now_ms - window_ms;
        let config = &self.config;
        if let Some(oldest) = full_since(conn, &Key::Client(client), config.max_failures_per_client, window_start)? {
            return Err(too_many(
                "too many failed logins from this address",
                seconds_until(oldest + window_ms, now_ms),
            ));
        }
        let pair = Key::Pair(email, client);
        if let Some(oldest) = full_since(conn, &pair, config.max_failures_per_client_and_email, window_start)? {
            return Err(too_many(
                "too many failed logins for this email from this address",
                seconds_until(oldest + window_ms, now_ms),
            ));
        }
        if let Some(oldest) = full_since(conn, &Key::Email(email), config.max_failures_per_email, window_start)? {
            // The account is under attack: only addresses with a clean record for it may try.
            if let Some(latest) = latest(conn, &pair, window_start)? {
                let expires = (oldest + window_ms).min(latest + window_ms);
                return Err(too_many(
                    "too many failed logins for this email; only devices that have not failed may try now",
                    seconds_until(expires, now_ms),
                ));
            }
        }
        Ok(())
    }

    /// Deletes a few failures that left the window, and the oldest past `max_tracked`
    /// (counted back from `newest`, the id just written).
    fn sweep(&self, conn: &mut DbConn, newest: i64, now_ms: i64) -> AppResult<()> {
        let window_start = now_ms - self.config.window.num_milliseconds();
        storage::sql::sql("DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures WHERE at <= ")
            .bind_int(window_start)
            .sql(" ORDER BY at LIMIT ")
            .bind_int(SWEEP)
            .sql(")")
            .untyped()
            .execute(conn)?;
        let kept = i64::try_from(self.config.max_tracked.max(1)).unwrap_or(i64::MAX);
        diesel::delete(failures::table.filter(failures::id.le(newest.saturating_sub(kept)))).execute(conn)?;
        Ok(())
    }

    /// A successful login (or password check) of `attempt`, inside the write that acts on
    /// it: the attempt is taken back from the address's and the email's counts, and the
    /// (email, address) count starts over.
    pub fn succeeded(conn: &mut DbConn, attempt: &Attempt) -> AppResult<()> {
        diesel::delete(failures::table.find(attempt.id)).execute(conn)?;
        diesel::update(
            failures::table
                .filter(failures::email.eq(&attempt.email))
                .filter(failures::client.eq(&attempt.client))
                .filter(failures::pair_counts.eq(true)),
        )
        .set(failures::pair_counts.eq(false))
        .execute(conn)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use std::net::Ipv4Addr;

    const OWNER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));

    fn config(per_client: u32, per_pair: u32, per_email: u32, max_tracked: usize) -> LoginThrottleConfig {
        LoginThrottleConfig {
            window: Duration::minutes(15),
            max_failures_per_client: per_client,
            max_failures_per_client_and_email: per_pair,
            max_failures_per_email: per_email,
            max_tracked,
        }
    }

    /// A throttle over a fresh database (SQLite, or PostgreSQL when the environment says).
    struct Throttle {
        db: storage::TestDb,
        throttle: LoginThrottle,
    }

    impl Throttle {
        fn admit(&self, email: &str, client: IpAddr, now: DateTime<Utc>) -> AppResult<Attempt> {
            self.throttle.admit(&self.db, email, client, now)
        }

        fn succeeded(&self, attempt: Attempt) {
            self.db.write(move |tx| LoginThrottle::succeeded(tx.conn(), &attempt)).unwrap();
        }

        fn rows(&self) -> Vec<(String, String, i64)> {
            failures::table
                .select((failures::client, failures::email, failures::at))
                .order(failures::id)
                .load(&mut self.db.read().unwrap())
                .unwrap()
        }
    }

    fn throttle_with(config: LoginThrottleConfig) -> Throttle {
        Throttle { db: storage::test_pool(), throttle: LoginThrottle::new(config) }
    }

    fn throttle(per_client: u32, per_pair: u32, per_email: u32) -> Throttle {
        throttle_with(config(per_client, per_pair, per_email, 100_000))
    }

    fn attacker(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, n))
    }

    fn retry_after(result: AppResult<Attempt>) -> u64 {
        match result {
            Err(AppError::TooManyRequests { retry_after_secs, .. }) => retry_after_secs,
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn a_stranger_failing_for_an_email_does_not_lock_its_owner_out() {
        let t = throttle(20, 10, 100);
        let start = core_models::time::now();
        for i in 0..10 {
            t.admit("a@x.io", ATTACKER, start + Duration::seconds(i)).unwrap();
        }
        let now = start + Duration::seconds(60);
        // The attacker's oldest failure (at `start`) leaves the window 15 minutes after it.
        assert_eq!(retry_after(t.admit("a@x.io", ATTACKER, now)), 14 * 60);
        t.admit("a@x.io", OWNER, now).expect("the owner's device has not failed");
        t.admit("b@x.io", ATTACKER, now).expect("other emails stay open to the attacker, up to the address limit");
    }

    #[test]
    fn one_address_spraying_many_emails_is_stopped_by_the_address_limit() {
        let t = throttle(20, 10, 100);
        let start = core_models::time::now();
        for i in 0..20 {
            t.admit(&format!("user{i}@x.io"), ATTACKER, start + Duration::seconds(i64::from(i))).unwrap();
        }
        let now = start + Duration::seconds(30);
        assert_eq!(retry_after(t.admit("fresh@x.io", ATTACKER, now)), 15 * 60 - 30);
        t.admit("fresh@x.io", OWNER, now).expect("other addresses are not affected");
    }

    #[test]
    fn past_the_email_limit_only_addresses_without_failures_for_it_may_try() {
        let t = throttle(20, 10, 5);
        let start = core_models::time::now();
        for n in 0..5 {
            t.admit("a@x.io", attacker(n), start).unwrap();
        }
        let now = start + Duration::minutes(5);
        // A failed address must wait until its own failure leaves the window.
        assert_eq!(retry_after(t.admit("a@x.io", attacker(0), now)), 10 * 60);
        // A new address gets one try (this one fails and is counted)...
        t.admit("a@x.io", attacker(9), now).unwrap();
        assert!(t.admit("a@x.io", attacker(9), now).is_err());
        // ...and so does the owner, however many strangers failed.
        let owner = t.admit("a@x.io", OWNER, now).unwrap();
        t.succeeded(owner);
        t.admit("a@x.io", OWNER, now).expect("a success keeps the owner's record clean");
    }

    #[test]
    fn the_window_slides_past_old_failures() {
        let t = throttle(20, 3, 100);
        let start = core_models::time::now();
        for i in 0..3 {
            t.admit("a@x.io", ATTACKER, start + Duration::minutes(i)).unwrap();
        }
        let just_before = start + Duration::minutes(15) - Duration::milliseconds(1);
        assert_eq!(retry_after(t.admit("a@x.io", ATTACKER, just_before)), 1);
        // At 15 minutes the first failure has left: one more attempt, then refused again
        // until the second failure leaves a minute later.
        let at = start + Duration::minutes(15);
        t.admit("a@x.io", ATTACKER, at).unwrap();
        assert_eq!(retry_after(t.admit("a@x.io", ATTACKER, at)), 60);
    }

    #[test]
    fn a_success_starts_the_pair_over_and_takes_back_only_its_own_attempt() {
        let t = throttle(3, 2, 100);
        let now = core_models::time::now();
        t.admit("a@x.io", OWNER, now).unwrap();
        let right = t.admit("a@x.io", OWNER, now).unwrap();
        t.succeeded(right);
        // The pair starts over; the address keeps its one earlier failure.
        t.admit("a@x.io", OWNER, now).unwrap();
        t.admit("b@x.io", OWNER, now).unwrap();
        assert!(t.admit("c@x.io", OWNER, now).is_err(), "three failures from this address");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), OWNER);
        let t = throttle(2, 10, 100);
        let now = core_models::time::now();
        t.admit("a@x.io", a, now).unwrap();
        t.admit("b@x.io", b, now).unwrap();
        assert!(t.admit("c@x.io", a, now).is_err(), "one /64 is one client");
        t.admit("c@x.io", other, now).unwrap();
        assert_eq!(t.rows()[0].0, "2001:db8:1:2::", "stored as the /64's prefix address");
    }

    #[test]
    fn two_throttles_on_one_database_count_the_same_attempts() {
        // Two gateways: each its own throttle, one database.
        let t = throttle(20, 4, 100);
        let other = LoginThrottle::new(config(20, 4, 100, 100_000));
        let now = core_models::time::now();
        for i in 0..4 {
            match i % 2 {
                0 => t.admit("a@x.io", ATTACKER, now).map(drop).unwrap(),
                _ => other.admit(&t.db, "a@x.io", ATTACKER, now).map(drop).unwrap(),
            }
        }
        assert_eq!(retry_after(other.admit(&t.db, "a@x.io", ATTACKER, now)), 15 * 60);
        assert_eq!(retry_after(t.admit("a@x.io", ATTACKER, now)), 15 * 60);
    }

    #[test]
    fn concurrent_attempts_never_pass_the_limit_together() {
        let t = std::sync::Arc::new(throttle(20, 5, 100));
        let now = core_models::time::now();
        let admitted: usize = std::thread::scope(|s| {
            let runs: Vec<_> = (0..12)
                .map(|_| {
                    let t = t.clone();
                    s.spawn(move || t.admit("a@x.io", ATTACKER, now).is_ok())
                })
                .collect();
            runs.into_iter().map(|run| usize::from(run.join().unwrap())).sum()
        });
        assert_eq!(admitted, 5, "exactly the limit, however the attempts interleave");
    }

    #[test]
    fn a_burst_from_one_address_gets_the_limit_and_429s_never_a_503() {
        // One address (e.g. a proxy in front) trying many emails at once: every attempt
        // reads and extends the same count, the worst case for SERIALIZABLE conflicts.
        let t = std::sync::Arc::new(throttle(20, 10, 100));
        let now = core_models::time::now();
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..16)
                .map(|i| {
                    let t = t.clone();
                    s.spawn(move || {
                        (0..5)
                            .map(|j| match t.admit(&format!("user{i}-{j}@x.io"), ATTACKER, now) {
                                Ok(_) => 200,
                                Err(e) => e.status_code(),
                            })
                            .collect::<Vec<u16>>()
                    })
                })
                .collect();
            runs.into_iter().flat_map(|run| run.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    }

    #[test]
    fn rows_that_left_the_window_are_swept_and_the_table_is_bounded() {
        let t = throttle_with(config(1000, 1000, 1000, 6));
        let start = core_models::time::now();
        for i in 0..4 {
            t.admit(&format!("old{i}@x.io"), attacker(i), start).unwrap();
        }
        // Much later, every earlier row has left the window: the next attempt sweeps them.
        let later = start + Duration::hours(1);
        t.admit("new@x.io", ATTACKER, later).unwrap();
        assert_eq!(t.rows(), vec![(ATTACKER.to_string(), "new@x.io".to_string(), later.timestamp_millis())]);
        // Inside the window, past `max_tracked` rows, the oldest go first.
        for i in 0..10 {
            t.admit(&format!("flood{i}@x.io"), attacker(i), later + Duration::seconds(i64::from(i))).unwrap();
        }
        let rows = t.rows();
        assert!(rows.len() <= 6, "{} rows", rows.len());
        assert_eq!(rows.last().unwrap().1, "flood9@x.io");
        assert!(rows.iter().all(|row| row.1 != "new@x.io"), "the oldest went first");
    }
}
