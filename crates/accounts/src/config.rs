//! The knobs of the accounts service: token lifetime, password hashing cost, the login
//! throttle and the clock.

use std::sync::Arc;

use chrono::Duration;

use core_models::streams::Streams;

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

/// The brute-force guard of `login` (see docs/accounts.md, "Failed-login limits"). All
/// counts are of failed logins within the sliding `window`; a refused attempt gets 429
/// with `Retry-After`.
#[derive(Debug, Clone)]
pub struct LoginThrottleConfig {
    /// The sliding window failures are counted in (default 15 minutes).
    pub window: Duration,
    /// Failed logins one client address (IPv6: one /64) may make, over all emails
    /// (default 20). Then every login from that address is refused: against password
    /// spraying and credential stuffing.
    pub max_failures_per_client: u32,
    /// Failed logins for one email from one client address (default 10). Then that
    /// address may not try that email; the owner on another address is not affected.
    pub max_failures_per_client_and_email: u32,
    /// Failed logins for one email from all addresses together (default 50). Then only
    /// addresses with no failure for that email inside the window may try it, so a
    /// distributed attack gets one guess per address and window while the owner's device
    /// keeps logging in.
    pub max_failures_per_email: u32,
    /// Most failures the database keeps (default 100,000, a few tens of MB with indexes):
    /// bounds the `login_failures` table however many addresses and emails an attacker
    /// uses. Past it the oldest failures are forgotten first; rows that left the window are
    /// swept anyway.
    pub max_tracked: usize,
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig {
            window: Duration::minutes(15),
            max_failures_per_client: 20,
            max_failures_per_client_and_email: 10,
            max_failures_per_email: 50,
            max_tracked: 100_000,
        }
    }
}

/// Everything [`crate::DbAccounts`] can be told.
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
    /// need. Each running hash owns a reusable Argon2 buffer (`m_cost` KiB, 19 MiB at the
    /// production cost) that is kept for the next one, so this also bounds hashing memory:
    /// `max_concurrent_hashes × m_cost`. A backstop for callers without the HTTP layer's
    /// `HashGate`, which queues callers first with as many turns (default one per CPU
    /// core; 0 refuses every login and registration).
    pub max_concurrent_hashes: usize,
    /// The time source (default the system clock).
    pub clock: Arc<dyn Clock>,
    /// The open event streams of this server: revoking a token ends the streams it opened,
    /// here at once, and on other gateways of the database through their
    /// [revocation feed](crate::AccountService::follow_revocations).
    pub streams: Arc<Streams>,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            token_ttl: Duration::days(i64::from(DEFAULT_TOKEN_TTL_DAYS)),
            password_params: production_password_params(),
            login_throttle: LoginThrottleConfig::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            clock: Arc::new(SystemClock),
            streams: Arc::default(),
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
