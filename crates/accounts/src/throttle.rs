//! The brute-force guard of `login`: failed attempts per email, counted in memory over a
//! sliding window.
//!
//! In memory on purpose: counting in the database would turn an attack into a storm of
//! writes on SQLite's single writer. The price is that counters reset when the process
//! restarts and are not shared between processes, which suits a single-node server.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use core_models::{AppError, AppResult};

use crate::config::LoginThrottleConfig;

/// Failed (and in-flight) login attempts per normalized email.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    config: LoginThrottleConfig,
    /// Times of the attempts inside the window, oldest first; at most `max_failures` each.
    attempts: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl LoginThrottle {
    pub fn new(config: LoginThrottleConfig) -> Self {
        LoginThrottle { config, attempts: Mutex::new(HashMap::new()) }
    }

    fn max_failures(&self) -> usize {
        self.config.max_failures.max(1) as usize
    }

    /// Lets an attempt for `email` at `now` go ahead, or answers 429 with the seconds until
    /// the oldest failure leaves the window.
    ///
    /// An admitted attempt counts as a failure right away and only [`Self::succeeded`]
    /// takes it back: concurrent guesses cannot all slip in before any has failed.
    pub fn admit(&self, email: &str, now: DateTime<Utc>) -> AppResult<()> {
        let window_start = now - self.config.window;
        // A poisoned lock only means another thread panicked mid-update; the map is whole.
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(times) = attempts.get_mut(email) {
            while times.front().is_some_and(|t| *t <= window_start) {
                times.pop_front();
            }
            if times.len() >= self.max_failures() {
                let oldest = times.front().copied().unwrap_or(now);
                let wait_ms = u64::try_from((oldest + self.config.window - now).num_milliseconds()).unwrap_or(0);
                // Whole seconds, rounded up, at least one: retrying earlier would fail again.
                let retry_after_secs = wait_ms.div_ceil(1000).max(1);
                return Err(AppError::TooManyRequests {
                    detail: format!("too many failed logins for this email; retry in {retry_after_secs} seconds"),
                    retry_after_secs,
                });
            }
        } else if attempts.len() >= self.config.max_tracked_emails.max(1) {
            make_room(&mut attempts, window_start);
        }
        attempts.entry(email.to_owned()).or_default().push_back(now);
        Ok(())
    }

    /// A successful login: the email's count starts over.
    pub fn succeeded(&self, email: &str) {
        self.attempts.lock().unwrap_or_else(PoisonError::into_inner).remove(email);
    }

    /// Emails currently tracked (for tests of the memory bound).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.attempts.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Frees at least one slot: drops every email whose attempts all left the window, and if
/// none did, the email whose latest attempt is the oldest. Runs only when the map is full,
/// so its linear scan is paid once per `max_tracked_emails` new emails at worst.
fn make_room(attempts: &mut HashMap<String, VecDeque<DateTime<Utc>>>, window_start: DateTime<Utc>) {
    let before = attempts.len();
    attempts.retain(|_, times| times.back().is_some_and(|t| *t > window_start));
    if attempts.len() < before {
        return;
    }
    let stalest = attempts.iter().min_by_key(|(_, times)| times.back().copied()).map(|(email, _)| email.clone());
    if let Some(email) = stalest {
        attempts.remove(&email);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn throttle(max_failures: u32, max_tracked_emails: usize) -> LoginThrottle {
        LoginThrottle::new(LoginThrottleConfig { max_failures, window: Duration::minutes(15), max_tracked_emails })
    }

    fn retry_after(result: AppResult<()>) -> u64 {
        match result {
            Err(AppError::TooManyRequests { retry_after_secs, .. }) => retry_after_secs,
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn the_eleventh_attempt_within_the_window_is_refused() {
        let t = throttle(10, 100);
        let start = core_models::time::now();
        for i in 0..10 {
            t.admit("a@x.io", start + Duration::seconds(i)).unwrap();
        }
        let now = start + Duration::seconds(60);
        // The oldest failure (at `start`) leaves the window 15 minutes after it.
        assert_eq!(retry_after(t.admit("a@x.io", now)), 14 * 60);
        assert!(t.admit("b@x.io", now).is_ok(), "other emails are not affected");
    }

    #[test]
    fn the_window_slides_past_old_failures() {
        let t = throttle(3, 100);
        let start = core_models::time::now();
        for i in 0..3 {
            t.admit("a@x.io", start + Duration::minutes(i)).unwrap();
        }
        let just_before = start + Duration::minutes(15) - Duration::milliseconds(1);
        assert_eq!(retry_after(t.admit("a@x.io", just_before)), 1);
        // At 15 minutes the first failure has left: one more attempt, then refused again
        // until the second failure leaves a minute later.
        let at = start + Duration::minutes(15);
        t.admit("a@x.io", at).unwrap();
        assert_eq!(retry_after(t.admit("a@x.io", at)), 60);
    }

    #[test]
    fn a_success_starts_the_count_over() {
        let t = throttle(2, 100);
        let now = core_models::time::now();
        t.admit("a@x.io", now).unwrap();
        t.admit("a@x.io", now).unwrap();
        t.succeeded("a@x.io");
        t.admit("a@x.io", now).unwrap();
        t.admit("a@x.io", now).unwrap();
        assert!(t.admit("a@x.io", now).is_err());
    }

    #[test]
    fn memory_is_bounded_and_stale_emails_go_first() {
        let t = throttle(10, 3);
        let start = core_models::time::now();
        t.admit("old@x.io", start).unwrap();
        t.admit("b@x.io", start + Duration::minutes(1)).unwrap();
        t.admit("c@x.io", start + Duration::minutes(2)).unwrap();
        // All still inside the window: the stalest email makes room.
        t.admit("d@x.io", start + Duration::minutes(3)).unwrap();
        assert_eq!(t.tracked(), 3);
        let tracked: Vec<String> = t.attempts.lock().unwrap().keys().cloned().collect();
        assert!(!tracked.contains(&"old@x.io".to_string()));
        // Much later, every entry has expired: all are dropped at once.
        t.admit("e@x.io", start + Duration::hours(1)).unwrap();
        assert_eq!(t.tracked(), 1);
        for i in 0..1000 {
            t.admit(&format!("flood{i}@x.io"), start + Duration::hours(1)).unwrap();
        }
        assert_eq!(t.tracked(), 3);
    }
}
