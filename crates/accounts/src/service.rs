//! The accounts contract: registration, login and logout, token authentication, users.

use core_models::AppResult;
use uuid::Uuid;

use crate::model::{Credentials, CurrentUser, NewUser, PublicProfile, Session, User};

/// Accounts and authentication.
///
/// Implementations enforce every rule themselves (input checks, uniqueness, throttling),
/// so a library user gets what an HTTP client gets. Calls block (Diesel, and Argon2 which
/// takes tens of milliseconds on purpose): async callers run them on a blocking pool, e.g.
/// through `core_models::http::blocking`.
pub trait AccountService: Send + Sync + 'static {
    /// Creates an account. 422 naming every bad field; 409 if the email is taken, in any case.
    fn register(&self, new: NewUser) -> AppResult<User>;

    /// Checks the credentials and issues a new bearer token. 401 with one answer for an
    /// unknown email and a wrong password; 429 once an email has too many recent failures.
    fn login(&self, credentials: Credentials) -> AppResult<Session>;

    /// The caller a presented bearer token belongs to; 401 if the token is malformed,
    /// unknown, expired or revoked.
    fn authenticate(&self, token: &str) -> AppResult<CurrentUser>;

    /// Revokes the token `current` authenticated with; other sessions stay valid.
    fn logout(&self, current: &CurrentUser) -> AppResult<()>;

    /// A user with email, for the user itself; 404 if unknown.
    fn user(&self, id: Uuid) -> AppResult<User>;

    /// What anyone may see of a user; 404 if unknown.
    fn profile(&self, id: Uuid) -> AppResult<PublicProfile>;
}
