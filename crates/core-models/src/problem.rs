//! The RFC 9457 problem document every error response carries.

use crate::{AppError, FieldError};

/// `Content-Type` of every error response.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation",
    "title": "Validation failed",
    "status": 422,
    "detail": "1 field is invalid",
    "errors": [{"field": "title", "message": "must not be empty"}]
}))]
pub struct Problem {
    /// A stable identifier of the kind of problem (a relative URI such as `/problems/not-found`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary that is the same for every occurrence of the kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// For validation failures: every bad field, each with its message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For 412 on a versioned resource (a stale `If-Match`): the resource's current
    /// version, which is also its `ETag` (`"4"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1, example = 4)]
    pub current_version: Option<i64>,
}

impl Problem {
    /// A problem of the given status with the standard type and title for it.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        let (slug, title) = kind_of(status);
        Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_string(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            current_version: None,
        }
    }
}

/// The type slug and title of each status the API uses.
fn kind_of(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("bad-request", "Malformed request"),
        401 => ("unauthorized", "Authentication required"),
        403 => ("forbidden", "Not allowed"),
        404 => ("not-found", "Not found"),
        405 => ("method-not-allowed", "Method not allowed"),
        408 => ("request-timeout", "Request timeout"),
        409 => ("conflict", "Conflict"),
        412 => ("precondition-failed", "Precondition failed"),
        413 => ("payload-too-large", "Payload too large"),
        414 => ("uri-too-long", "URI too long"),
        415 => ("unsupported-media-type", "Unsupported media type"),
        422 => ("validation", "Validation failed"),
        429 => ("too-many-requests", "Too many requests"),
        431 => ("headers-too-large", "Request header fields too large"),
        503 => ("unavailable", "Service unavailable"),
        500..=599 => ("internal", "Internal server error"),
        _ => ("http-error", "Request failed"),
    }
}

/// The fixed detail of every 500: the cause goes to the log, never to the client.
pub const INTERNAL_DETAIL: &str = "an unexpected error occurred; it has been logged";

impl From<&AppError> for Problem {
    fn from(error: &AppError) -> Self {
        let status = error.status_code();
        match error {
            AppError::Validation(errors) => {
                let detail = match errors.len() {
                    1 => format!("{}: {}", errors[0].field, errors[0].message),
                    n => format!("{n} fields are invalid"),
                };
                Problem { errors: errors.clone(), ..Problem::new(status, detail) }
            }
            AppError::Internal(_) => Problem::new(status, INTERNAL_DETAIL),
            AppError::VersionMismatch { current_version } => Problem {
                current_version: Some(*current_version),
                ..Problem::new(
                    status,
                    format!(
                        "the resource changed: it is at version {current_version} now; fetch it, reapply \
                         the change and send `If-Match: \"{current_version}\"`"
                    ),
                )
            },
            AppError::TooManyRequests { detail, .. } => Problem::new(status, detail.clone()),
            AppError::BadRequest(d)
            | AppError::Unauthorized(d)
            | AppError::Forbidden(d)
            | AppError::NotFound(d)
            | AppError::RequestTimeout(d)
            | AppError::Conflict(d)
            | AppError::PreconditionFailed(d)
            | AppError::PayloadTooLarge(d)
            | AppError::UnsupportedMediaType(d)
            | AppError::Unavailable(d) => Problem::new(status, d.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("disk /var/secret is full"));
        let problem = Problem::from(&err);
        assert_eq!(problem.status, 500);
        assert_eq!(problem.detail, INTERNAL_DETAIL);
        assert!(!serde_json::to_string(&problem).unwrap().contains("secret"));
    }

    #[test]
    fn validation_problem_lists_fields_and_serialises_type() {
        let err = AppError::Validation(vec![
            FieldError::new("title", "must not be empty"),
            FieldError::new("content", "too long"),
        ]);
        let json = serde_json::to_value(Problem::from(&err)).unwrap();
        assert_eq!(json["type"], "/problems/validation");
        assert_eq!(json["status"], 422);
        assert_eq!(json["errors"][1]["field"], "content");
    }

    #[test]
    fn a_version_mismatch_carries_the_current_version() {
        let json = serde_json::to_value(Problem::from(&AppError::VersionMismatch { current_version: 4 })).unwrap();
        assert_eq!((json["status"].as_u64(), json["current_version"].as_i64()), (Some(412), Some(4)));
        assert_eq!(json["type"], "/problems/precondition-failed");
        let other = serde_json::to_value(Problem::from(&AppError::not_found("note"))).unwrap();
        assert!(other.get("current_version").is_none());
    }

    #[test]
    fn non_validation_problem_omits_errors() {
        let json = serde_json::to_value(Problem::from(&AppError::not_found("note"))).unwrap();
        assert_eq!(json["detail"], "note not found");
        assert!(json.get("errors").is_none());
    }
}
