//! Limits on the request line and head, answered with problem documents.
//!
//! actix-http itself refuses, with a bodyless answer it writes on its own (see
//! docs/operations.md): a head over 128 KiB (431) and a request target of 64 KiB or more
//! (400: the `http` crate cannot hold it). Below those, these limits apply here, where a
//! problem document can be answered: a request target (path and query) over
//! [`MAX_URI_BYTES`] is 414, a head whose header lines add up to over [`MAX_HEADER_BYTES`]
//! is 431. No API request comes near either (the longest query, a 500-character search
//! of 4-byte characters percent-encoded, is 6 KB).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use core_models::http::problem_response;
use core_models::Problem;

/// Longest request target (path and query, in bytes) answered normally.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// Most bytes of header lines (names, values and separators) answered normally.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The problem of a request over a limit, if it is.
fn over_limit(uri_bytes: usize, header_bytes: usize) -> Option<Problem> {
    if uri_bytes > MAX_URI_BYTES {
        return Some(Problem::new(
            414,
            format!("the request target is {uri_bytes} bytes; at most {MAX_URI_BYTES} are accepted"),
        ));
    }
    if header_bytes > MAX_HEADER_BYTES {
        return Some(Problem::new(
            431,
            format!("the header fields are {header_bytes} bytes; at most {MAX_HEADER_BYTES} are accepted"),
        ));
    }
    None
}

/// Middleware (`middleware::from_fn`): 414 or 431 as a problem document past the limits.
pub async fn refuse_oversized(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let uri_bytes = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    // Each line is `name: value\r\n`.
    let header_bytes: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    match over_limit(uri_bytes, header_bytes) {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(problem) => Ok(req.into_response(problem_response(&problem)).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive_and_the_target_is_checked_first() {
        assert!(over_limit(MAX_URI_BYTES, MAX_HEADER_BYTES).is_none());
        let uri = over_limit(MAX_URI_BYTES + 1, MAX_HEADER_BYTES + 1).unwrap();
        assert_eq!((uri.status, uri.kind.as_str()), (414, "/problems/uri-too-long"));
        let head = over_limit(10, MAX_HEADER_BYTES + 1).unwrap();
        assert_eq!((head.status, head.kind.as_str()), (431, "/problems/headers-too-large"));
    }
}
