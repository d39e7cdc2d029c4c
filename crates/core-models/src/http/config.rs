//! Configurations for actix's own extractors (`web::Json`, `web::Query`, `web::Path`,
//! `web::Payload`) that map their failures to the problem shape.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, HttpRequest};

use super::fields::{field_of_serde_message, strip_position};
use super::BODY_LIMIT;
use crate::{AppError, FieldError};

/// A safety net for handlers that use actix's own `web::Json` (ours use [`Json`](super::Json)):
/// `JsonConfig` with the 1 MiB limit and every failure mapped to the problem shape:
/// oversize 413, wrong or missing content type 415, broken JSON 400, JSON of the wrong
/// shape (missing or unknown field, wrong type) 422.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(BODY_LIMIT).error_handler(|err, _req: &HttpRequest| json_error(err).into())
}

/// `QueryConfig` whose failures (e.g. a repeated parameter) are 422 naming the parameter.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req: &HttpRequest| query_error(err).into())
}

/// `PathConfig` whose failures are 404: a path that does not parse names nothing. A
/// malformed [`Id<R>`](crate::id::Id) segment says which resource ("task not found").
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req: &HttpRequest| {
        log::debug!("path did not parse: {err}");
        let message = match &err {
            PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        let detail = if message.ends_with(" not found") && message.len() <= 64 {
            message
        } else {
            "no resource at this path".to_string()
        };
        AppError::NotFound(detail).into()
    })
}

/// `PayloadConfig` with the same 1 MiB limit for raw body extractors.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(BODY_LIMIT)
}

fn json_error(err: JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => {
            AppError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            AppError::PayloadTooLarge(format!("the body exceeds the limit of {BODY_LIMIT} bytes"))
        }
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("send the body as JSON with `Content-Type: application/json`".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            let message = strip_position(&e.to_string());
            AppError::Validation(vec![FieldError::new(field_of_serde_message(&message), message)])
        }
        JsonPayloadError::Deserialize(e) => AppError::BadRequest(format!("the body is not valid JSON: {e}")),
        other => AppError::BadRequest(format!("the body could not be read: {other}")),
    }
}

fn query_error(err: QueryPayloadError) -> AppError {
    let message = match &err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    AppError::Validation(vec![FieldError::new(field_of_serde_message(&message), message)])
}
