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
