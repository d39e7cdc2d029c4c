//! The time source of the accounts service, injectable so tests can expire tokens and
//! throttle windows without sleeping.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use core_models::time;

/// Tells the current time. Token expiry and the login throttle read it.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Now, in UTC, truncated to milliseconds (what is stored is what is compared).
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        time::now()
    }
}

/// A clock that stands still until told to move: for tests of expiry and windows.
///
/// ```
/// use accounts::{Clock, ManualClock};
///
/// let clock = ManualClock::starting_now();
/// let before = clock.now();
/// clock.advance(chrono::Duration::minutes(15));
/// assert_eq!(clock.now() - before, chrono::Duration::minutes(15));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    /// A clock showing `start` (truncated to milliseconds).
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock { millis: AtomicI64::new(time::to_millis(start)) }
    }

    /// A clock showing the current system time, then standing still.
    pub fn starting_now() -> Self {
        Self::new(time::now())
    }

    /// Moves the clock by `by` (backwards if negative).
    pub fn advance(&self, by: chrono::Duration) {
        self.millis.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        time::from_millis(self.millis.load(Ordering::SeqCst))
    }
}
