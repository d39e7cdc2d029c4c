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
//! In memory on purpose: counting in the database would turn an attack into a storm of
//! writes on SQLite's single writer. The price is that counters reset when the process
//! restarts and are not shared between processes, which suits a single-node server. Each
//! map holds at most `max_tracked` keys and each key at most its limit of timestamps.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use core_models::{AppError, AppResult};

use crate::config::LoginThrottleConfig;

/// Failed (and in-flight) login attempts per client, per (email, client) and per email.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    config: LoginThrottleConfig,
    counters: Mutex<Counters>,
}

#[derive(Debug)]
struct Counters {
    clients: Windows<IpAddr>,
    pairs: Windows<(String, IpAddr)>,
    emails: Windows<String>,
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

impl LoginThrottle {
    pub fn new(config: LoginThrottleConfig) -> Self {
        let max_keys = config.max_tracked.max(1);
        let limit = |n: u32| n.max(1) as usize;
        let counters = Counters {
            clients: Windows::new(limit(config.max_failures_per_client), max_keys),
            pairs: Windows::new(limit(config.max_failures_per_client_and_email), max_keys),
            emails: Windows::new(limit(config.max_failures_per_email), max_keys),
        };
        LoginThrottle { config, counters: Mutex::new(counters) }
    }

    /// Lets an attempt for `email` from `client` at `now` go ahead, or answers 429 with the
    /// seconds until it would be let through.
    ///
    /// An admitted attempt counts as a failure right away and only [`Self::succeeded`]
    /// takes it back: concurrent guesses cannot all slip in before any has failed.
    pub fn admit(&self, email: &str, client: IpAddr, now: DateTime<Utc>) -> AppResult<()> {
        let now_ms = now.timestamp_millis();
        let window_start = now_ms - self.config.window.num_milliseconds();
        let window_ms = self.config.window.num_milliseconds();
        let client = client_key(client);
        let pair = (email.to_owned(), client);
        // A poisoned lock only means another thread panicked mid-update; the maps are whole.
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let Counters { clients, pairs, emails } = &mut *counters;

        if let Some(oldest) = clients.full_since(&client, window_start) {
            return Err(too_many(
                "too many failed logins from this address",
                seconds_until(oldest + window_ms, now_ms),
            ));
        }
        if let Some(oldest) = pairs.full_since(&pair, window_start) {
            return Err(too_many(
                "too many failed logins for this email from this address",
                seconds_until(oldest + window_ms, now_ms),
            ));
        }
        if let Some(oldest) = emails.full_since(email, window_start) {
            // The account is under attack: only addresses with a clean record for it may try.
            if let Some(latest) = pairs.latest(&pair, window_start) {
                let expires = (oldest + window_ms).min(latest + window_ms);
                return Err(too_many(
                    "too many failed logins for this email; only devices that have not failed may try now",
                    seconds_until(expires, now_ms),
                ));
            }
        }
        clients.record(client, now_ms, window_start);
        pairs.record(pair, now_ms, window_start);
        emails.record(email.to_owned(), now_ms, window_start);
        Ok(())
    }

    /// A successful login admitted at `at`: the attempt is taken back from the address's
    /// and the email's counts, and the (email, address) count starts over.
    pub fn succeeded(&self, email: &str, client: IpAddr, at: DateTime<Utc>) {
        let at_ms = at.timestamp_millis();
        let client = client_key(client);
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters.clients.take_back(&client, at_ms);
        counters.emails.take_back(email, at_ms);
        counters.pairs.remove(&(email.to_owned(), client));
    }

    /// Keys currently tracked in each map: clients, pairs, emails (for tests of the bound).
    #[cfg(test)]
    fn tracked(&self) -> (usize, usize, usize) {
        let c = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        (c.clients.times.len(), c.pairs.times.len(), c.emails.times.len())
    }
}

/// Attempt times (Unix milliseconds, oldest first) per key, at most `limit` per key and
/// `max_keys` keys.
#[derive(Debug)]
struct Windows<K> {
    times: HashMap<K, VecDeque<i64>>,
    limit: usize,
    max_keys: usize,
}

impl<K: Eq + Hash + Clone> Windows<K> {
    fn new(limit: usize, max_keys: usize) -> Self {
        Windows { times: HashMap::new(), limit, max_keys }
    }

    /// Drops `key`'s times that left the window; if `limit` remain, the oldest of them
    /// (whose expiry frees a place).
    fn full_since<Q>(&mut self, key: &Q, window_start: i64) -> Option<i64>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let times = self.times.get_mut(key)?;
        while times.front().is_some_and(|t| *t <= window_start) {
            times.pop_front();
        }
        (times.len() >= self.limit).then(|| times.front().copied()).flatten()
    }

    /// The latest time of `key` inside the window, if any.
    fn latest<Q>(&self, key: &Q, window_start: i64) -> Option<i64>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.times.get(key)?.back().copied().filter(|t| *t > window_start)
    }

    /// Adds an attempt, keeping only the latest `limit` times of the key: the oldest kept
    /// is the one whose expiry takes the key under its limit again.
    fn record(&mut self, key: K, now: i64, window_start: i64) {
        if !self.times.contains_key(&key) && self.times.len() >= self.max_keys {
            self.make_room(window_start);
        }
        let times = self.times.entry(key).or_default();
        times.push_back(now);
        while times.len() > self.limit {
            times.pop_front();
        }
    }

    /// Removes one attempt made at `at` (a login that succeeded).
    fn take_back<Q>(&mut self, key: &Q, at: i64)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Some(times) = self.times.get_mut(key) {
            if let Some(i) = times.iter().rposition(|t| *t == at) {
                times.remove(i);
            }
            if times.is_empty() {
                self.times.remove(key);
            }
        }
    }

    fn remove(&mut self, key: &K) {
        self.times.remove(key);
    }

    /// Frees at least one slot: drops every key whose attempts all left the window, and if
    /// none did, the key whose latest attempt is the oldest. Runs only when the map is full,
    /// so its linear scan is paid once per `max_keys` new keys at worst.
    fn make_room(&mut self, window_start: i64) {
        let before = self.times.len();
        self.times.retain(|_, times| times.back().is_some_and(|t| *t > window_start));
        if self.times.len() < before {
            return;
        }
        let stalest = self.times.iter().min_by_key(|(_, times)| times.back().copied()).map(|(k, _)| k.clone());
        if let Some(key) = stalest {
            self.times.remove(&key);
        }
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

    fn throttle(per_client: u32, per_pair: u32, per_email: u32) -> LoginThrottle {
        LoginThrottle::new(config(per_client, per_pair, per_email, 100))
    }

    fn attacker(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, n))
    }

    fn retry_after(result: AppResult<()>) -> u64 {
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
        t.admit("a@x.io", OWNER, now).unwrap();
        t.succeeded("a@x.io", OWNER, now);
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
        t.admit("a@x.io", OWNER, now).unwrap();
        t.succeeded("a@x.io", OWNER, now);
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
    }

    #[test]
    fn memory_is_bounded_and_stale_keys_go_first() {
        let t = LoginThrottle::new(config(1000, 10, 100, 3));
        let start = core_models::time::now();
        t.admit("old@x.io", ATTACKER, start).unwrap();
        t.admit("b@x.io", ATTACKER, start + Duration::minutes(1)).unwrap();
        t.admit("c@x.io", ATTACKER, start + Duration::minutes(2)).unwrap();
        // All still inside the window: the stalest email makes room.
        t.admit("d@x.io", ATTACKER, start + Duration::minutes(3)).unwrap();
        assert_eq!(t.tracked(), (1, 3, 3));
        let tracked: Vec<String> = t.counters.lock().unwrap().emails.times.keys().cloned().collect();
        assert!(!tracked.contains(&"old@x.io".to_string()));
        // Much later, every entry has expired: all are dropped at once.
        t.admit("e@x.io", ATTACKER, start + Duration::hours(1)).unwrap();
        assert_eq!(t.tracked(), (1, 1, 1));
        for i in 0..250u8 {
            t.admit(&format!("flood{i}@x.io"), attacker(i), start + Duration::hours(1)).unwrap();
        }
        assert_eq!(t.tracked(), (3, 3, 3));
        // And each key keeps at most its limit of timestamps.
        for _ in 0..50 {
            let _ = t.admit("z@x.io", OWNER, start + Duration::hours(1));
        }
        assert!(t.counters.lock().unwrap().pairs.times.values().all(|times| times.len() <= 10));
    }
}
