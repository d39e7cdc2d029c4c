//! Reusable OpenAPI responses for errors many endpoints share, so every endpoint documents
//! them alike: `responses((status = 201, ...), JsonBodyErrors, (status = 422, ...))`.

use crate::Problem;

/// The 400, 408, 413 and 415 of every endpoint that reads a JSON body (see `http::Json`).
#[derive(Debug, utoipa::IntoResponses)]
pub enum JsonBodyErrors {
    /// Broken JSON, an empty body, or not UTF-8.
    #[response(status = 400, description = "Body is not JSON", content_type = "application/problem+json")]
    NotJson(Problem),
    /// The body did not arrive within the body timeout; the connection is closed.
    #[response(
        status = 408,
        description = "Body did not arrive in time (the connection closes)",
        content_type = "application/problem+json"
    )]
    TooSlow(Problem),
    /// Over the 1 MiB limit.
    #[response(status = 413, description = "Body over 1 MiB", content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Missing or non-JSON `Content-Type`, or a charset other than UTF-8.
    #[response(
        status = 415,
        description = "Content-Type is not JSON, or declares a charset other than UTF-8",
        content_type = "application/problem+json"
    )]
    NotJsonContentType(Problem),
}

/// The 412 of a `PATCH` or `DELETE` whose `If-Match` names a version that is no longer
/// current (see [`crate::version`]).
#[derive(Debug, utoipa::IntoResponses)]
pub enum StaleVersion {
    /// The problem document carries `current_version`.
    #[response(
        status = 412,
        description = "`If-Match` names a version that is no longer current; nothing was changed. \
                       `current_version` (an extension member of the problem) is the version now",
        content_type = "application/problem+json",
        example = json!({
            "type": "/problems/precondition-failed",
            "title": "Precondition failed",
            "status": 412,
            "detail": "the resource changed: it is at version 4 now; fetch it, reapply the change and send `If-Match: \"4\"`",
            "current_version": 4
        })
    )]
    Stale(Problem),
}

/// The 401 of an endpoint that works without a login: an `Authorization` header that is
/// not a valid token is refused rather than ignored.
#[derive(Debug, utoipa::IntoResponses)]
pub enum BadCredentials {
    /// Sent with `WWW-Authenticate: Bearer`.
    #[response(
        status = 401,
        description = "An `Authorization` header that is not a valid token (malformed, expired or revoked)",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
}

/// The 401 of an endpoint that needs a login: no token, or one that is not valid.
#[derive(Debug, utoipa::IntoResponses)]
pub enum LoginRequired {
    /// Sent with `WWW-Authenticate: Bearer`.
    #[response(
        status = 401,
        description = "No `Authorization: Bearer <token>`, or a token that is malformed, expired or revoked",
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"corkboard\"`")),
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
}

/// The 503 of an endpoint that may find the server too busy to take it in time (the
/// password-hashing queue of login and registration, the database writer): nothing was
/// done, and retrying after `Retry-After` is safe.
#[derive(Debug, utoipa::IntoResponses)]
pub enum Busy {
    /// Sent with `Retry-After`.
    #[response(
        status = 503,
        description = "Too busy to take the request in time; nothing was done, retry after `Retry-After`",
        headers(("Retry-After" = u64, description = "Seconds to wait before retrying")),
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// The schema of a query parameter that takes a calendar date (`YYYY-MM-DD`, meaning that
/// day in UTC) or an RFC 3339 timestamp: `#[param(inline, value_type = Option<DateOrTimestamp>)]`.
#[derive(Debug)]
pub struct DateOrTimestamp;

impl utoipa::PartialSchema for DateOrTimestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
        let string =
            |format| ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)));
        OneOfBuilder::new()
            .item(string(KnownFormat::Date))
            .item(string(KnownFormat::DateTime))
            .description(Some("A date `YYYY-MM-DD` (UTC) or an RFC 3339 timestamp"))
            .into()
    }
}

impl utoipa::ToSchema for DateOrTimestamp {}
