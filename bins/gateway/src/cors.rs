//! CORS for browser front ends on other origins: which origins, request headers and
//! response headers a browser lets a page use, and a problem document (not actix-cors's
//! `text/plain` 400) when a preflight is refused.

use actix_cors::{Cors, CorsError};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::Method;
use actix_web::middleware::Next;
use core_models::http::problem_response;
use core_models::Problem;

use crate::request_id::REQUEST_ID;

/// Request headers a page may send: credentials, bodies, conditional requests,
/// idempotent creates, stream resumption and its own request id.
pub const ALLOWED_HEADERS: [HeaderName; 9] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    HeaderName::from_static("idempotency-key"),
    HeaderName::from_static("last-event-id"),
    REQUEST_ID,
    // Sent by some EventSource polyfills with `Last-Event-ID`.
    header::CACHE_CONTROL,
];

/// Response headers a page may read.
pub const EXPOSED_HEADERS: [HeaderName; 6] = [
    header::ETAG,
    header::LOCATION,
    header::RETRY_AFTER,
    header::WWW_AUTHENTICATE,
    REQUEST_ID,
    HeaderName::from_static("idempotent-replayed"),
];

/// The origins of `--cors-origins`: `*` or a comma list (empty entries skipped).
fn origins(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|o| !o.is_empty())
}

/// Refuses settings a browser would misuse: credentials for any origin (`*`) would let
/// every site on the web make credentialed calls with the user's cookies or TLS client
/// certificate, so `--cors-credentials` needs the origins named.
pub fn check(origin_list: &str, credentials: bool) -> Result<(), String> {
    if credentials && origins(origin_list).any(|o| o == "*") {
        return Err("--cors-credentials (CORS_CREDENTIALS) cannot be combined with `*` in --cors-origins \
                    (CORS_ORIGINS): name the origins that may send credentials, e.g. \
                    --cors-origins https://app.example.com"
            .into());
    }
    Ok(())
}

/// The CORS middleware for `--cors-origins` and `--cors-credentials` (checked by [`check`]
/// first). Without credentials, the API's credentials are bearer tokens in a header (never
/// cookies), so allowing any origin exposes nothing a script could not already send.
pub fn cors(origin_list: &str, credentials: bool) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(3600);
    for origin in origins(origin_list) {
        cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
    }
    if credentials {
        cors = cors.supports_credentials();
    }
    cors
}

/// Middleware (`middleware::from_fn`, wrapped around [`cors`]): a preflight that actix-cors
/// refused (its response carries the [`CorsError`]) becomes a problem document: 403 when
/// the origin, method or a header is not allowed, 400 when the preflight is malformed.
pub async fn refusals_as_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let res = next.call(req).await?;
    let refusal = if preflight { res.response().error().and_then(|e| e.as_error::<CorsError>()) } else { None };
    let Some(refusal) = refusal else { return Ok(res.map_into_left_body()) };
    let (status, detail) = match refusal {
        CorsError::OriginNotAllowed => (403, "this origin may not call the API (see --cors-origins)".to_string()),
        CorsError::MethodNotAllowed => (403, "the requested method is not allowed for cross-origin calls".to_string()),
        CorsError::HeadersNotAllowed => {
            let sent = res
                .request()
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let refused: Vec<&str> = sent
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty() && !ALLOWED_HEADERS.iter().any(|a| a.as_str() == *h))
                .collect();
            (403, format!("request headers not allowed for cross-origin calls: {}", refused.join(", ")))
        }
        other => (400, format!("malformed CORS preflight: {other}")),
    };
    let (req, old) = res.into_parts();
    let mut fresh = problem_response(&Problem::new(status, detail));
    if let Some(vary) = old.headers().get(header::VARY) {
        fresh.headers_mut().insert(header::VARY, vary.clone());
    }
    Ok(ServiceResponse::new(req, fresh).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_need_named_origins() {
        assert!(check("*", true).unwrap_err().contains("--cors-credentials"));
        assert!(check("https://a.example, *", true).is_err());
        assert!(check("*", false).is_ok());
        assert!(check("https://a.example,http://localhost:5173", true).is_ok());
        assert!(check("", true).is_ok());
    }
}
