//! Accounts and authentication: users, Argon2id password hashes, bearer tokens, and the
//! [`CurrentUser`] / [`MaybeUser`] extractors other crates use to know who is calling.
//!
//! [`AccountService`] is the contract and [`DbAccounts`] its implementation over the
//! `users` and `tokens` tables. [`http::configure`] mounts `POST /auth/register`,
//! `POST /auth/login`, `POST /auth/logout`, the session routes (`GET /auth/sessions`,
//! `DELETE /auth/sessions/{id}`, `POST /auth/logout-all`, `POST /auth/password`),
//! `POST /auth/stream-tickets`, `GET /users/me` and `GET /users/{id}`;
//! [`http::BearerSecurity`] adds the matching OpenAPI security scheme.
//!
//! - Passwords: Argon2id, a random salt each, cost in [`AccountsConfig::password_params`]
//!   (production: 19 MiB, 2 passes, 1 lane; see [`production_password_params`]).
//! - Tokens: 256 random bits as 43 base64url characters, stored only as their SHA-256,
//!   expiring after [`AccountsConfig::token_ttl`] (30 days by default), revoked by logout
//!   (one, any one of the caller's sessions, or all; a password change revokes the others).
//!   A revocation also ends the event streams the token opened ([`AccountsConfig::streams`])
//!   and voids its stream tickets, on every gateway of the database within
//!   [`REVOCATION_POLL`] ([`AccountService::follow_revocations`]).
//! - Every request: [`Authentication`], registered once for the whole app, checks any
//!   `Authorization` header (401 if it does not authenticate) and leaves the
//!   [`core_models::Caller`] for any crate's handlers; browsers' event streams use
//!   single-use [stream tickets](ticket) instead of a token in the URL, kept in the
//!   database so any gateway redeems them.
//! - Logins: failures are limited per client address and per email from one address
//!   (429 with `Retry-After`), in a way a stranger cannot lock the owner out with
//!   ([`LoginThrottleConfig`]); failures are counted in the database, over every gateway.
//!
//! The crate works as a library on its own:
//!
//! ```
//! use accounts::{AccountService, AccountsConfig, Credentials, NewUser, DbAccounts};
//!
//! let db = storage::test_pool();
//! // Cheap hashing keeps the example fast; real servers use `AccountsConfig::default()`.
//! let accounts = DbAccounts::new(db.database(), AccountsConfig::insecure_for_tests());
//! let ada = accounts.register(NewUser {
//!     email: "Ada@Example.com".into(),
//!     display_name: "Ada".into(),
//!     password: "correct horse battery".into(),
//! })?;
//!
//! let session = accounts.login(Credentials { email: "ada@example.com".into(), password: "correct horse battery".into() })?;
//! let me = accounts.authenticate(session.token.expose_secret())?;
//! assert_eq!(me.user, ada);
//!
//! accounts.logout(&me)?;
//! assert_eq!(accounts.authenticate(session.token.expose_secret()).unwrap_err().status_code(), 401);
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod auth;
mod clock;
mod config;
pub mod extract;
pub mod http;
mod model;
mod password;
mod revocations;
mod service;
mod sessions;
mod store;
mod throttle;
pub mod ticket;
mod token;

pub use auth::Authentication;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    insecure_test_password_params, production_password_params, AccountsConfig, LoginThrottleConfig, PasswordParams,
    ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_OUTPUT_LEN, ARGON2_PARALLELISM, DEFAULT_TOKEN_TTL_DAYS,
};
pub use extract::MaybeUser;
pub use http::BearerSecurity;
pub use model::{
    ClientInfo, Credentials, CurrentUser, NewUser, PasswordChange, PublicProfile, Session, SessionInfo, TokenType,
    User, DISPLAY_NAME_MAX, EMAIL_MAX, PASSWORD_MAX, PASSWORD_MIN, USER_AGENT_MAX,
};
pub use revocations::POLL_EVERY as REVOCATION_POLL;
pub use service::{AccountService, UNKNOWN_CLIENT};
pub use store::DbAccounts;
pub use ticket::{StreamTickets, TICKET_TTL};
pub use token::{AccessToken, TokenHash, TOKEN_LEN};
