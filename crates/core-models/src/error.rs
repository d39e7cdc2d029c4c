//! The error type of every service in Corkboard.
//!
//! Services return [`AppError`]; only the HTTP layer (feature `http`) knows how it becomes a
//! status code and a problem document. Use:
//! - `Validation` for input that breaks a rule, naming every bad field at once (422);
//! - `NotFound` for unknown ids *and* for things the caller must not know exist (404);
//! - `Forbidden` only when the caller may know the thing exists but may not change it (403);
//! - `Conflict` for uniqueness and state rules (409);
//! - `VersionMismatch` for a stale `If-Match` (412, with the current version);
//! - `Internal` for everything unexpected: the client gets a fixed body, the log the chain.

use std::fmt;

/// Shorthand for results of service calls.
pub type AppResult<T> = Result<T, AppError>;

/// One rule broken by one input field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field or query parameter, as the client spelled it (`title`, `limit`).
    pub field: String,
    /// What is wrong with it, in words a developer can act on.
    pub message: String,
}

impl FieldError {
    /// A field error from anything printable.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything a service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request could not be read at all (not JSON, broken syntax).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: no, malformed, expired or revoked credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: authenticated, known to exist, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: unknown, or not visible to this caller.
    #[error("not found: {0}")]
    NotFound(String),
    /// 408: the request body did not arrive in time; the connection is closed after the answer.
    #[error("request timeout: {0}")]
    RequestTimeout(String),
    /// 409: the change conflicts with the current state (a taken email, the last admin).
    #[error("conflict: {0}")]
    Conflict(String),
    /// 412: a precondition of the request does not hold (for a stale `If-Match` on a
    /// versioned resource use [`AppError::VersionMismatch`], which names the current version).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 412: `If-Match` named a version that is no longer current; the problem document
    /// carries `current_version` (see [`crate::version`]).
    #[error("precondition failed: the current version is {current_version}")]
    VersionMismatch {
        /// The resource's version now.
        current_version: i64,
    },
    /// 413: the body is larger than the limit.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// 415: a body without `Content-Type: application/json`.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed input that breaks the rules; every bad field is listed.
    #[error("validation failed: {}", display_fields(.0))]
    Validation(Vec<FieldError>),
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("too many requests: {detail}")]
    TooManyRequests {
        /// Human readable explanation.
        detail: String,
        /// Seconds until a retry may succeed (sent as `Retry-After`).
        retry_after_secs: u64,
    },
    /// 503: a dependency (the database pool) is exhausted or down; retrying may work.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure. Never shown to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The detail of the 503 for a write that lost to a concurrent one and was not written;
/// `storage` runs such a write again before it answers with this.
pub const WRITE_CONFLICT: &str = "a concurrent change got in the way and nothing was written; retry";

impl AppError {
    /// Whether this is a write that lost to a concurrent one ([`WRITE_CONFLICT`]): nothing
    /// was written, and running it again may succeed.
    pub fn is_write_conflict(&self) -> bool {
        matches!(self, AppError::Unavailable(detail) if detail == WRITE_CONFLICT)
    }
}

fn display_fields(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl AppError {
    /// A 422 for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// A 404 saying which kind of thing was not found.
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    /// The field errors of a validation failure (empty for other errors).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Validation(errors) => errors,
            _ => &[],
        }
    }

    /// The HTTP status this error maps to.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::RequestTimeout(_) => 408,
            AppError::Conflict(_) => 409,
            AppError::PreconditionFailed(_) | AppError::VersionMismatch { .. } => 412,
            AppError::PayloadTooLarge(_) => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Validation(_) => 422,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Validation(vec![error])
    }
}

/// Collects field errors so a request is answered with all of them at once.
///
/// `check` keeps the value of a passing rule and records the error of a failing one;
/// `finish` turns any recorded errors into one [`AppError::Validation`].
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `Ok` values, records `Err`s.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// Records an error directly.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` if every rule passed, else a 422 naming every failure.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

#[cfg(feature = "diesel")]
mod diesel_conversions {
    use super::AppError;
    use crate::constraint::{self, Kind};
    use diesel::result::{DatabaseErrorKind, Error};

    /// SQLite's words for "another connection holds the lock past `busy_timeout`".
    pub(crate) fn is_locked(message: &str) -> bool {
        message.contains("database is locked") || message.contains("database table is locked")
    }

    /// The words of a statement stopped by its read budget (`storage::budget`), or by
    /// PostgreSQL's `statement_timeout`.
    pub(crate) fn is_over_budget(message: &str) -> bool {
        message.contains("ran past its time budget") || message.contains("canceling statement due to statement timeout")
    }

    /// PostgreSQL's words for a transaction that lost to a concurrent one (serialization
    /// failure, deadlock): nothing of it was written, and running it again may succeed.
    pub(crate) fn is_write_conflict(message: &str) -> bool {
        message.contains("could not serialize access") || message.contains("deadlock detected")
    }

    /// The detail of the 503 for a database that cannot be reached or went away.
    pub(crate) const DATABASE_AWAY: &str = "the database cannot be reached right now; retry shortly";

    /// Whether `error` says the database went away (a restart, a failover, a killed
    /// connection): the request may succeed once it is back.
    pub(crate) fn is_database_away(error: &Error) -> bool {
        match error {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                // A host that became a standby (failover) takes no writes.
                | DatabaseErrorKind::ReadOnlyTransaction,
                _,
            )
            // A transaction whose connection died under it.
            | Error::BrokenTransactionManager => true,
            Error::DatabaseError(_, info) => is_away_message(info.message()),
            Error::RollbackErrorOnCommit { commit_error, .. } => is_database_away(commit_error),
            _ => false,
        }
    }

    /// PostgreSQL's and libpq's words for a server that is going, gone or not back yet.
    fn is_away_message(message: &str) -> bool {
        [
            "terminating connection",
            "server closed the connection",
            "no connection to the server",
            "could not receive data from server",
            "could not send data to server",
            "the database system is shutting down",
            "the database system is starting up",
            "the database system is in recovery mode",
        ]
        .iter()
        .any(|words| message.contains(words))
    }

    impl From<Error> for AppError {
        /// `NotFound` becomes 404; constraint violations resolve through
        /// [`constraint`] (409 or 422); a database locked past its busy
        /// timeout, or a read stopped by its time budget, is 503; anything else is internal.
        fn from(error: Error) -> Self {
            if is_database_away(&error) {
                log::warn!("the database went away: {error}");
                return AppError::Unavailable(DATABASE_AWAY.into());
            }
            match error {
                Error::NotFound => AppError::NotFound("not found".into()),
                Error::DatabaseError(kind, info) => {
                    let kind = match kind {
                        DatabaseErrorKind::UniqueViolation => Some(Kind::Unique),
                        DatabaseErrorKind::CheckViolation => Some(Kind::Check),
                        DatabaseErrorKind::NotNullViolation => Some(Kind::NotNull),
                        DatabaseErrorKind::ForeignKeyViolation => Some(Kind::ForeignKey),
                        _ => None,
                    };
                    match kind {
                        Some(kind) => match constraint::postgres_key(
                            kind,
                            info.table_name(),
                            info.column_name(),
                            info.constraint_name(),
                            info.details(),
                        ) {
                            Some(key) => constraint::resolve_key(kind, &key, info.message()),
                            None => constraint::resolve(kind, info.message()),
                        },
                        None if is_write_conflict(info.message()) => {
                            AppError::Unavailable(crate::error::WRITE_CONFLICT.into())
                        }
                        None if is_locked(info.message()) => {
                            log::warn!("the database stayed locked past the busy timeout: {}", info.message());
                            AppError::Unavailable("the database is busy; retry shortly".into())
                        }
                        None if is_over_budget(info.message()) => {
                            log::warn!("a read ran past its time budget and was stopped");
                            AppError::Unavailable("the query took too long and was stopped; narrow it or retry".into())
                        }
                        None => AppError::Internal(anyhow::anyhow!("{}", info.message()).context("database query")),
                    }
                }
                other => AppError::Internal(anyhow::Error::new(other).context("database query")),
            }
        }
    }

    impl From<diesel::r2d2::PoolError> for AppError {
        /// A pool that hands out no connection in time means overload: 503, retry later.
        fn from(error: diesel::r2d2::PoolError) -> Self {
            log::warn!("database pool: {error}");
            AppError::Unavailable("the database is busy; retry shortly".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_collect_every_field() {
        let mut v = Violations::new();
        assert_eq!(v.check::<u8>(Err(FieldError::new("a", "bad"))), None);
        assert_eq!(v.check::<u8>(Ok(3)), Some(3));
        v.push(FieldError::new("b", "worse"));
        let err = v.finish().unwrap_err();
        let fields: Vec<_> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "b"]);
        assert_eq!(err.status_code(), 422);
    }

    #[cfg(feature = "diesel")]
    #[test]
    fn a_database_that_went_away_is_503_not_500() {
        use diesel::result::{DatabaseErrorKind, Error};
        let away = |kind, message: &str| AppError::from(Error::DatabaseError(kind, Box::new(message.to_string())));
        for err in [
            away(DatabaseErrorKind::ClosedConnection, "server closed the connection unexpectedly"),
            away(DatabaseErrorKind::UnableToSendCommand, "no connection to the server"),
            away(DatabaseErrorKind::ReadOnlyTransaction, "cannot execute INSERT in a read-only transaction"),
            away(DatabaseErrorKind::Unknown, "FATAL: terminating connection due to administrator command"),
            away(DatabaseErrorKind::Unknown, "FATAL: the database system is shutting down"),
            AppError::from(Error::BrokenTransactionManager),
            AppError::from(Error::RollbackErrorOnCommit {
                rollback_error: Box::new(Error::BrokenTransactionManager),
                commit_error: Box::new(Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection,
                    Box::new("server closed the connection unexpectedly".to_string()),
                )),
            }),
        ] {
            assert_eq!(err.status_code(), 503, "{err:?}");
        }
        // Anything else stays what it was.
        assert_eq!(away(DatabaseErrorKind::Unknown, "syntax error at or near \"SELEC\"").status_code(), 500);
    }

    #[test]
    fn empty_violations_pass() {
        assert!(Violations::new().finish().is_ok());
    }
}
