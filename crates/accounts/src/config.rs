//! The knobs of the accounts service: token lifetime, password hashing cost, the login
//! throttle and the clock.

use std::sync::Arc;

use chrono::Duration;

use crate::clock::{Clock, SystemClock};

/// Argon2 cost parameters (memory in KiB, iterations, lanes, output length), re-exported
/// so callers need not depend on the `argon2` crate.
pub use argon2::Params as PasswordParams;

/// Default lifetime of a login token: 30 days.
pub const DEFAULT_TOKEN_TTL_DAYS: u32 = 30;

/// Memory cost of production hashes: 19 MiB (19,456 KiB).
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// Time cost (passes over the memory) of production hashes.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Lanes of production hashes. One lane: the server hashes many logins side by side, so
/// parallelism inside one hash would only take cores from other requests.
pub const ARGON2_PARALLELISM: u32 = 1;
/// Length of the stored hash output, in bytes.
pub const ARGON2_OUTPUT_LEN: usize = 32;

/// The production Argon2id parameters: m = 19,456 KiB, t = 2, p = 1, 32-byte output.
///
/// These are the minimum OWASP's Password Storage Cheat Sheet recommends for Argon2id;
/// one hash takes a few tens of milliseconds on one core (measured in docs/accounts.md)
/// and 19 MiB of memory, which makes GPU guessing of a stolen database expensive. Stored
/// hashes carry their parameters, and a login re-hashes a password whose stored
/// parameters differ from the configured ones, so raising the cost later is safe.
pub fn production_password_params() -> PasswordParams {
    PasswordParams::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM, Some(ARGON2_OUTPUT_LEN))
        // The constants are valid Argon2 parameters; the fallback is the crate's identical default.
        .unwrap_or(PasswordParams::DEFAULT)
}

/// Very cheap Argon2id parameters (8 KiB, one pass) for tests that create many users.
/// Never use them for real accounts: they make a stolen hash cheap to guess.
pub fn insecure_test_password_params() -> PasswordParams {
    PasswordParams::new(PasswordParams::MIN_M_COST, 1, 1, Some(ARGON2_OUTPUT_LEN)).unwrap_or(PasswordParams::DEFAULT)
}

/// The brute-force guard of `login`: after `max_failures` failed logins for one email
/// within `window`, further attempts for that email get 429 until the oldest failure
/// leaves the window.
#[derive(Debug, Clone)]
pub struct LoginThrottleConfig {
    /// Failed logins allowed per email within `window` (default 10).
    pub max_failures: u32,
    /// The sliding window failures are counted in (default 15 minutes).
    pub window: Duration,
    /// Most emails tracked at once (default 50,000): bounds the memory the counters take
    /// (about 0.5 KiB each) however many emails an attacker tries.
    pub max_tracked_emails: usize,
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig { max_failures: 10, window: Duration::minutes(15), max_tracked_emails: 50_000 }
    }
}

/// Everything [`crate::SqliteAccounts`] can be told.
///
/// ```
/// use accounts::AccountsConfig;
///
/// let config = AccountsConfig { token_ttl: chrono::Duration::days(7), ..AccountsConfig::default() };
/// assert_eq!(config.password_params.m_cost(), 19_456);
/// ```
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// How long a login token is valid (default 30 days). Negative values count as zero.
    pub token_ttl: Duration,
    /// Argon2id cost of new password hashes (default [`production_password_params`]).
    pub password_params: PasswordParams,
    /// The failed-login limit.
    pub login_throttle: LoginThrottleConfig,
    /// How many password hashes (registrations, logins) may run at once in this service;
    /// more get 503 at once instead of occupying every blocking thread that database calls
    /// need. A backstop for callers without the HTTP layer's `HashGate`, which queues
    /// callers first (default four per CPU core; 0 refuses every login and registration).
    pub max_concurrent_hashes: usize,
    /// The time source (default the system clock).
    pub clock: Arc<dyn Clock>,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            token_ttl: Duration::days(i64::from(DEFAULT_TOKEN_TTL_DAYS)),
            password_params: production_password_params(),
            login_throttle: LoginThrottleConfig::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(8, |n| n.get() * 4),
            clock: Arc::new(SystemClock),
        }
    }
}

impl AccountsConfig {
    /// The defaults with tokens living `days` days (the gateway's `--token-ttl-days`).
    pub fn with_token_ttl_days(days: u32) -> Self {
        AccountsConfig { token_ttl: Duration::days(i64::from(days)), ..Self::default() }
    }

    /// The defaults with [`insecure_test_password_params`]: for test suites that register
    /// many users. Never for real accounts.
    pub fn insecure_for_tests() -> Self {
        AccountsConfig { password_params: insecure_test_password_params(), ..Self::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_params_are_owasps_argon2id_minimum() {
        let p = production_password_params();
        assert_eq!((p.m_cost(), p.t_cost(), p.p_cost(), p.output_len()), (19_456, 2, 1, Some(32)));
        assert_eq!(AccountsConfig::default().password_params, p);
        assert_eq!(AccountsConfig::default().token_ttl, Duration::days(30));
        assert_eq!(AccountsConfig::with_token_ttl_days(7).token_ttl, Duration::days(7));
    }
}
