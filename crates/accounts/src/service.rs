//! The accounts contract: registration, login and logout, token authentication, users.

use std::net::IpAddr;

use core_models::pagination::IdPaging;
use core_models::{AppResult, Page};
use uuid::Uuid;

use crate::http::HashGate;
use crate::model::{
    ClientInfo, Credentials, CurrentUser, NewUser, PasswordChange, PublicProfile, Session, SessionInfo, User,
};

/// The address logins are counted under when the caller's is unknown (`0.0.0.0`): a
/// library call through [`AccountService::login`], or an HTTP request without a peer
/// address (e.g. over a Unix socket).
pub use core_models::http::UNKNOWN_CLIENT;

/// Accounts and authentication.
///
/// Implementations enforce every rule themselves (input checks, uniqueness, throttling),
/// so a library user gets what an HTTP client gets. Calls block (Diesel, and Argon2 which
/// takes tens of milliseconds on purpose): async callers run them on a blocking pool, e.g.
/// through `core_models::http::blocking`.
pub trait AccountService: Send + Sync + 'static {
    /// Creates an account. 422 naming every bad field; 409 if the email is taken, in any case.
    fn register(&self, new: NewUser) -> AppResult<User>;

    /// Checks the credentials of a login from the client at `client` (the peer address
    /// over HTTP) and issues a new bearer token. 401 with one answer for an unknown email
    /// and a wrong password; 429 with the seconds to wait once the address, or the address
    /// for this email, has too many recent failures (see [`crate::LoginThrottleConfig`]).
    fn login_from(&self, credentials: Credentials, client: IpAddr) -> AppResult<Session> {
        self.login_as(credentials, &ClientInfo::new(client, None))
    }

    /// [`Self::login_from`] with what the server knows of the client (address and
    /// `User-Agent`), kept with the session for `GET /auth/sessions`.
    fn login_as(&self, credentials: Credentials, client: &ClientInfo) -> AppResult<Session>;

    /// [`Self::login_from`] for a caller that does not know the client's address: every
    /// such login counts as coming from [`UNKNOWN_CLIENT`], one shared address.
    fn login(&self, credentials: Credentials) -> AppResult<Session> {
        self.login_from(credentials, UNKNOWN_CLIENT)
    }

    /// The caller a presented bearer token belongs to; 401 if the token is malformed,
    /// unknown, expired or revoked.
    fn authenticate(&self, token: &str) -> AppResult<CurrentUser>;

    /// The caller of `token` when that is known without blocking (a session seen
    /// moments ago); `None` means "ask [`AccountService::authenticate`]", never "invalid".
    fn cached_session(&self, _token: &str) -> Option<CurrentUser> {
        None
    }

    /// Revokes the token `current` authenticated with; other sessions stay valid. Every
    /// revocation also ends the event streams the revoked tokens opened and voids their
    /// unused stream tickets.
    fn logout(&self, current: &CurrentUser) -> AppResult<()>;

    /// The caller's live sessions (neither revoked nor expired), in id order.
    fn sessions(&self, current: &CurrentUser, paging: &IdPaging) -> AppResult<Page<SessionInfo>>;

    /// Revokes one of the caller's live sessions; 404 if the caller has no live session
    /// with that id.
    fn revoke_session(&self, current: &CurrentUser, session: Uuid) -> AppResult<()>;

    /// Revokes every session of the caller, the current one included.
    fn logout_all(&self, current: &CurrentUser) -> AppResult<()>;

    /// Changes the caller's password after checking the current one (a wrong one is 403,
    /// and counts like a failed login from `client`: 429 past the limit), and revokes every
    /// other session of the caller.
    fn change_password(&self, current: &CurrentUser, change: PasswordChange, client: IpAddr) -> AppResult<()>;

    /// A user with email, for the user itself; 404 if unknown.
    fn user(&self, id: Uuid) -> AppResult<User>;

    /// What anyone may see of a user; 404 if unknown.
    fn profile(&self, id: Uuid) -> AppResult<PublicProfile>;

    /// Starts applying revocations made elsewhere (on other gateways of the database, or
    /// by SQL by hand) to what this service keeps in memory: its cached sessions are
    /// forgotten and their event streams end within [`crate::REVOCATION_POLL`] of the
    /// revocation's commit (`DbAccounts` reads the database's revocation feed on a
    /// thread of its own, which ends with the service). A server calls it once at start;
    /// calling it again does nothing. The default, for services that keep nothing, does
    /// nothing.
    fn follow_revocations(&self) -> std::io::Result<()> {
        Ok(())
    }

    /// The admission gate the HTTP layer queues registrations and logins at before they
    /// hash, shared by every worker; `None` (the default) lets each worker use its own.
    fn hash_gate(&self) -> Option<&HashGate> {
        None
    }
}
