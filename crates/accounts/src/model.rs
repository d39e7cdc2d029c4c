//! Users as the API shows them, the inputs that register and log in, and their rules.
//!
//! Rows (with password and token hashes) never leave `store.rs`; everything here is safe
//! to serialise. Inputs that carry a password implement `Debug` by hand so a log line can
//! never print it.

use std::fmt;

use chrono::{DateTime, Utc};
use core_models::{text, time, AppResult, FieldError, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::ValidateEmail;

use core_models::streams::StreamOwner;

use crate::token::{AccessToken, TokenHash};

/// Longest email accepted, in characters (RFC 5321's limit on a forward path).
pub const EMAIL_MAX: usize = 254;
/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 100;
/// Shortest password, in characters.
pub const PASSWORD_MIN: usize = 8;
/// Longest password, in characters: checked before hashing, so no input makes a slow hash.
pub const PASSWORD_MAX: usize = 128;

/// An account, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// The email as registered (trimmed, case kept); unique regardless of case.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// The name others see, 1 to 100 characters.
    #[schema(example = "Ada Lovelace")]
    pub display_name: String,
    /// RFC 3339 UTC, millisecond precision.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T09:30:00.123Z")]
    pub created_at: DateTime<Utc>,
}

impl core_models::id::Resource for User {
    const NAME: &'static str = "user";
}

/// What anyone may see of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicProfile {
    /// The user's id.
    pub id: Uuid,
    /// The name the user chose.
    #[schema(example = "Ada Lovelace")]
    pub display_name: String,
}

impl From<&User> for PublicProfile {
    fn from(user: &User) -> Self {
        PublicProfile { id: user.id, display_name: user.display_name.clone() }
    }
}

/// The body of `POST /auth/register`.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// A valid email address, at most 254 characters; trimmed; unique regardless of case.
    #[schema(example = "ada@example.com", format = Email, min_length = 3, max_length = 254)]
    pub email: String,
    /// Trimmed, 1 to 100 characters.
    #[schema(example = "Ada Lovelace", min_length = 1, max_length = 100, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub display_name: String,
    /// 8 to 128 characters, taken as is (not trimmed); no NUL.
    #[schema(format = Password, min_length = 8, max_length = 128, write_only, pattern = "^[^\\x00]*$", example = "correct horse battery staple")]
    pub password: String,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The body of `POST /auth/login`.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The email registered with, in any case.
    #[schema(example = "ada@example.com", min_length = 1, max_length = 254, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub email: String,
    /// The password, exactly as registered.
    #[schema(format = Password, write_only, example = "correct horse battery staple", min_length = 1, max_length = 128, pattern = "^[^\\x00]*$")]
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).field("password", &"<redacted>").finish()
    }
}

/// How the token of a [`Session`] is presented: always `Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum TokenType {
    /// `Authorization: Bearer <token>`.
    Bearer,
}

/// The answer to a successful login.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    /// The bearer token: 43 characters of base64url (256 random bits). It is shown only
    /// this once; the server keeps only its SHA-256.
    #[schema(value_type = String, example = "q3Jb0J2yM1yZ8f5kqkQy2Jp7b8mR4cK9sXw1eT6uV0A")]
    pub token: AccessToken,
    /// Always `Bearer`.
    pub token_type: TokenType,
    /// When the token stops working (RFC 3339 UTC).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-12-24T09:30:00.123Z")]
    pub expires_at: DateTime<Utc>,
    /// The user logged in.
    pub user: User,
}

/// An authenticated caller: the user and the token (by its hash) the request carried.
///
/// Handlers take it as an argument to require a login (see [`crate::extract`]); services
/// take it to know who acts. Only an [`crate::AccountService`] should make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// Who is calling.
    pub user: User,
    token: TokenHash,
    expires_at: DateTime<Utc>,
}

impl CurrentUser {
    /// The caller `user`, authenticated by the token hashing to `token`, which expires at
    /// `expires_at`.
    pub fn new(user: User, token: TokenHash, expires_at: DateTime<Utc>) -> Self {
        CurrentUser { user, token, expires_at }
    }

    /// The caller's id.
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    /// The caller as every product's services take it.
    pub fn caller(&self) -> core_models::Caller {
        core_models::Caller::new(self.user.id, self.user.display_name.clone())
    }

    /// The hash of the token this request authenticated with (what logout revokes).
    pub fn token(&self) -> &TokenHash {
        &self.token
    }

    /// When the token expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// The caller as the owner of an event stream: revoking or expiry of this token ends it.
    pub fn stream_owner(&self) -> StreamOwner {
        StreamOwner { user: self.user.id, session: self.token.session_key(), expires_at: self.expires_at }
    }
}

/// One of the caller's live sessions (a token that is neither revoked nor expired), as
/// `GET /auth/sessions` lists them. The token itself is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionInfo {
    /// The session's id, for `DELETE /auth/sessions/{id}`.
    pub id: Uuid,
    /// When the session was created (the login).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T09:30:00.123Z")]
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (updated at most once a minute).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T10:02:00.000Z")]
    pub last_used_at: DateTime<Utc>,
    /// When it stops working.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-12-24T09:30:00.123Z")]
    pub expires_at: DateTime<Utc>,
    /// The `User-Agent` of the login (at most 256 characters), if it sent one.
    #[schema(example = "Mozilla/5.0 (X11; Linux x86_64)")]
    pub user_agent: Option<String>,
    /// The client address of the login (the TCP peer), if known.
    #[schema(example = "203.0.113.7")]
    pub address: Option<String>,
    /// Whether this is the session of the request that lists them.
    pub current: bool,
}

impl core_models::id::Resource for SessionInfo {
    const NAME: &'static str = "session";
}

/// Who logs in, as far as the server can tell: the TCP peer and the `User-Agent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The TCP peer (never a client-supplied header such as `X-Forwarded-For`).
    pub address: std::net::IpAddr,
    /// The `User-Agent` header, cut to 256 characters.
    pub user_agent: Option<String>,
}

/// Most characters of a `User-Agent` kept with a session.
pub const USER_AGENT_MAX: usize = 256;

impl ClientInfo {
    /// A client at `address` with the given `User-Agent` (cut to [`USER_AGENT_MAX`]
    /// characters; control characters dropped, blank treated as none).
    pub fn new(address: std::net::IpAddr, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(USER_AGENT_MAX).collect::<String>())
            .map(|ua| ua.trim().to_owned())
            .filter(|ua| !ua.is_empty());
        ClientInfo { address, user_agent }
    }
}

/// The body of `POST /auth/password`.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now, exactly as registered.
    #[schema(format = Password, write_only, example = "correct horse battery staple", min_length = 1, max_length = 128, pattern = "^[^\\x00]*$")]
    pub current_password: String,
    /// The new password: 8 to 128 characters, taken as is (not trimmed).
    #[schema(format = Password, min_length = 8, max_length = 128, write_only, pattern = "^[^\\x00]*$", example = "a longer horse battery staple")]
    pub new_password: String,
}

impl fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordChange")
            .field("current_password", &"<redacted>")
            .field("new_password", &"<redacted>")
            .finish()
    }
}

impl PasswordChange {
    /// Checks both fields (every bad one named): the new password by the registration
    /// rules, the current one only for what no account's password can be.
    pub(crate) fn validate(&self) -> AppResult<()> {
        let mut v = Violations::new();
        v.check(check_presented_password("current_password", &self.current_password));
        v.check(check_password("new_password", &self.new_password));
        v.finish()
    }
}

/// A registration that passed every rule.
pub(crate) struct ValidNewUser {
    pub email: String,
    pub email_normalized: String,
    pub display_name: String,
    pub password: String,
}

/// Login input that can be checked against the database.
pub(crate) struct ValidCredentials {
    pub email_normalized: String,
    pub password: String,
}

impl fmt::Debug for ValidNewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidNewUser").field("email", &self.email).finish_non_exhaustive()
    }
}

impl fmt::Debug for ValidCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidCredentials").field("email_normalized", &self.email_normalized).finish_non_exhaustive()
    }
}

/// The form emails are compared in: lower case (Unicode), so uniqueness and logins ignore case.
pub(crate) fn normalize_email(email: &str) -> String {
    email.to_lowercase()
}

fn check_email(raw: &str) -> Result<String, FieldError> {
    let email = text::required("email", raw, EMAIL_MAX)?;
    if !email.validate_email() {
        return Err(FieldError::new("email", "must be a valid email address"));
    }
    Ok(email)
}

fn check_password(field: &str, password: &str) -> Result<(), FieldError> {
    // `nth` walks at most PASSWORD_MAX + 1 characters however long the input is.
    if password.chars().nth(PASSWORD_MAX).is_some() {
        return Err(FieldError::new(field, format!("must be at most {PASSWORD_MAX} characters")));
    }
    if password.chars().nth(PASSWORD_MIN - 1).is_none() {
        return Err(FieldError::new(field, format!("must be at least {PASSWORD_MIN} characters")));
    }
    refuse_nul(field, password)
}

/// A password presented to be checked against a stored hash (a login, the current password
/// of a change): refused before hashing when no account's password can look like it.
fn check_presented_password(field: &str, password: &str) -> Result<(), FieldError> {
    if password.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if password.chars().nth(PASSWORD_MAX).is_some() {
        return Err(FieldError::new(field, format!("must be at most {PASSWORD_MAX} characters")));
    }
    refuse_nul(field, password)
}

/// NUL is refused in passwords as in every other text field (C libraries cut strings there).
fn refuse_nul(field: &str, password: &str) -> Result<(), FieldError> {
    if password.contains('\0') {
        return Err(FieldError::new(field, "must not contain NUL characters (U+0000)"));
    }
    Ok(())
}

impl NewUser {
    /// Applies the registration rules, naming every bad field at once.
    pub(crate) fn validate(self) -> AppResult<ValidNewUser> {
        let mut v = Violations::new();
        let email = v.check(check_email(&self.email));
        let display_name = v.check(text::required("display_name", &self.display_name, DISPLAY_NAME_MAX));
        v.check(check_password("password", &self.password));
        v.finish()?;
        let email = email.unwrap_or_default();
        Ok(ValidNewUser {
            email_normalized: normalize_email(&email),
            email,
            display_name: display_name.unwrap_or_default(),
            password: self.password,
        })
    }
}

impl Credentials {
    /// Checks only the shape: a wrongly spelled email is simply unknown (401), but a
    /// password no account can have is refused before it is hashed.
    pub(crate) fn validate(self) -> AppResult<ValidCredentials> {
        let mut v = Violations::new();
        let email = v.check(text::required("email", &self.email, EMAIL_MAX));
        v.check(check_presented_password("password", &self.password));
        v.finish()?;
        Ok(ValidCredentials { email_normalized: normalize_email(&email.unwrap_or_default()), password: self.password })
    }
}

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(NewUser => NewUser::validate);
core_models::body_rules!(Credentials => Credentials::validate);
core_models::body_rules!(PasswordChange => |change: PasswordChange| change.validate());

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(email: &str, display_name: &str, password: &str) -> NewUser {
        NewUser { email: email.into(), display_name: display_name.into(), password: password.into() }
    }

    fn fields(err: core_models::AppError) -> Vec<String> {
        err.field_errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn registration_trims_and_normalizes() {
        let valid = new_user("  Ada@Example.COM ", "  Ada  ", " pass word ").validate().unwrap();
        assert_eq!(valid.email, "Ada@Example.COM");
        assert_eq!(valid.email_normalized, "ada@example.com");
        assert_eq!(valid.display_name, "Ada");
        assert_eq!(valid.password, " pass word ", "passwords are not trimmed");
    }

    #[test]
    fn passwords_refuse_nul_on_registration_and_login() {
        let err = new_user("a@b.io", "Ada", "pass\0word").validate().unwrap_err();
        assert_eq!(fields(err), ["password"]);
        let change = PasswordChange { current_password: "pass\0word".into(), new_password: "new\0password".into() };
        assert_eq!(fields(change.validate().unwrap_err()), ["current_password", "new_password"]);
        let login = Credentials { email: "a@b.io".into(), password: "pass\0word".into() };
        let err = login.validate().unwrap_err();
        assert_eq!(fields(err), ["password"]);
        assert!(err_message_mentions_nul(new_user("a@b.io", "Ada", "\0\0\0\0\0\0\0\0").validate().unwrap_err()));
    }

    fn err_message_mentions_nul(err: core_models::AppError) -> bool {
        err.field_errors()[0].message.contains("NUL")
    }

    #[test]
    fn registration_names_every_bad_field() {
        let err = new_user("not-an-email", "   ", "short").validate().unwrap_err();
        assert_eq!(fields(err), ["email", "display_name", "password"]);
    }

    #[test]
    fn email_rules() {
        for bad in ["", "  ", "ada", "ada@", "@example.com", "a b@example.com", "ada@exa mple.com"] {
            let err = new_user(bad, "Ada", "password1").validate().unwrap_err();
            assert_eq!(fields(err), ["email"], "{bad:?}");
        }
        let label = "b".repeat(60);
        let longest = format!("{}@{label}.{label}.{label}.abcdef", "a".repeat(64));
        assert_eq!(longest.chars().count(), EMAIL_MAX);
        assert!(new_user(&longest, "Ada", "password1").validate().is_ok());
        let err = new_user(&format!("{longest}g"), "Ada", "password1").validate().unwrap_err();
        assert_eq!(err.field_errors()[0].message, "must be at most 254 characters");
        assert!(new_user("ada+tag@sub.example.co.uk", "Ada", "password1").validate().is_ok());
    }

    #[test]
    fn password_and_display_name_limits_count_characters() {
        assert!(new_user("a@b.io", "Ada", &"é".repeat(8)).validate().is_ok());
        assert!(new_user("a@b.io", "Ada", &"é".repeat(7)).validate().is_err());
        assert!(new_user("a@b.io", "Ada", &"é".repeat(128)).validate().is_ok());
        let err = new_user("a@b.io", "Ada", &"é".repeat(129)).validate().unwrap_err();
        assert_eq!(err.field_errors()[0].message, "must be at most 128 characters");
        assert!(new_user("a@b.io", &"n".repeat(100), "password").validate().is_ok());
        assert!(new_user("a@b.io", &"n".repeat(101), "password").validate().is_err());
        assert!(new_user("a@b.io", "Ada", "        ").validate().is_ok(), "spaces count, untrimmed");
    }

    #[test]
    fn login_checks_only_the_shape() {
        let valid = Credentials { email: " ADA@x.io ".into(), password: "x".into() }.validate().unwrap();
        assert_eq!(valid.email_normalized, "ada@x.io");
        let err = Credentials { email: "".into(), password: "".into() }.validate().unwrap_err();
        assert_eq!(fields(err), ["email", "password"]);
        let err = Credentials { email: "a@x.io".into(), password: "p".repeat(10_000) }.validate().unwrap_err();
        assert_eq!(fields(err), ["password"]);
    }

    #[test]
    fn debug_never_prints_passwords() {
        let printed = format!(
            "{:?} {:?}",
            new_user("a@b.io", "Ada", "hunter2hunter2"),
            Credentials { email: "a@b.io".into(), password: "hunter2hunter2".into() }
        );
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }
}
