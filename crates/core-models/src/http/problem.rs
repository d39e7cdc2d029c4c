//! Error responses: how an [`AppError`] becomes an RFC 9457 problem+json response, and
//! how the error responses actix produces itself get the same shape.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::problem::PROBLEM_CONTENT_TYPE;
use crate::{AppError, Problem};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(AppError::status_code(self)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            // `{:#}` prints the whole context chain; the client sees only a fixed text.
            log::error!("internal error: {cause:#}");
        }
        let mut response = problem_response(&Problem::from(self));
        let headers = response.headers_mut();
        match self {
            AppError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"corkboard\""));
            }
            AppError::TooManyRequests { retry_after_secs, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            AppError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            AppError::RequestTimeout(_) => {
                // The rest of the body may still arrive: the connection cannot be reused.
                response.head_mut().set_connection_type(ConnectionType::Close);
            }
            _ => {}
        }
        response
    }
}

/// A response carrying `problem` with its status and the problem+json content type.
///
/// The problem's `type` also goes into the response's extensions as [`ProblemType`], so
/// the access log can say why a request failed without reading the body.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // A struct of strings always serialises.
    let body = serde_json::to_string(problem).unwrap_or_default();
    let mut response =
        HttpResponse::build(status).insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)).body(body);
    response.extensions_mut().insert(ProblemType(problem.kind.clone()));
    response
}

/// The `type` of the problem document a response carries (`/problems/validation`), as a
/// response extension set by [`problem_response`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemType(pub String);

/// 201 with a `Location` header and the created resource.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).json(body)
}

/// For `middleware::ErrorHandlers::default_handler`: gives error responses that actix
/// produced itself (unknown route 404, wrong method 405, ...) the problem+json shape.
pub fn problem_for_bare_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = match status {
        StatusCode::NOT_FOUND => "no resource at this path".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "this resource does not support the method".to_string(),
        s => s.canonical_reason().unwrap_or("request failed").to_string(),
    };
    let (req, old) = res.into_parts();
    let mut fresh = problem_response(&Problem::new(status.as_u16(), detail));
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(value) = old.headers().get(&name) {
            fresh.headers_mut().insert(name, value.clone());
        }
    }
    let fresh: HttpResponse<BoxBody> = fresh;
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, fresh).map_body(|_, body| EitherBody::right(body))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn unauthorized_carries_www_authenticate() {
        let response = AppError::Unauthorized("no token".into()).error_response();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(response.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_CONTENT_TYPE);
    }

    #[actix_rt::test]
    async fn problem_responses_carry_their_type_for_the_log() {
        let response = AppError::invalid("title", "must not be empty").error_response();
        let kind = response.extensions().get::<ProblemType>().cloned();
        assert_eq!(kind, Some(ProblemType("/problems/validation".into())));
    }

    #[actix_rt::test]
    async fn too_many_requests_carries_retry_after() {
        let err = AppError::TooManyRequests { detail: "slow down".into(), retry_after_secs: 42 };
        assert_eq!(err.error_response().headers().get(header::RETRY_AFTER).unwrap(), "42");
    }
}
