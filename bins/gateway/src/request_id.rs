//! `X-Request-Id`: every response carries one (the client's when it sent a sane one, else a
//! fresh UUIDv7), and every log line written while serving the request names it.
//!
//! The middleware runs the rest of the request inside
//! [`core_models::http::request_id::scope`]; [`format_log_line`] (the process's log format)
//! appends `request_id=...` to any line written inside it, wherever in the code it comes
//! from (an internal error's cause chain, a pool warning on a blocking thread). The access
//! log line, written after the response, reads the id from the response header.

use std::io::Write as _;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use core_models::http::request_id;

/// The header that carries the id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client id taken over.
const MAX_LEN: usize = 128;

/// Whether a client's id is taken over: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`.
/// Anything else (spaces, quotes, control characters, very long ids) could forge or break
/// log lines, so it is replaced.
pub fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// Middleware (`middleware::from_fn`): picks the request's id, serves the request inside
/// its scope, and puts the id on the response. Everything inside (handlers, extractors,
/// CORS, the error handlers) answers errors as responses, so every response passes here.
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let sent = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| is_sane(id));
    let id: Arc<str> = match sent {
        Some(id) => Arc::from(id),
        None => Arc::from(uuid::Uuid::now_v7().to_string()),
    };
    let mut res = request_id::scope(id.clone(), next.call(req)).await?;
    // Sane ids and UUIDs are always valid header values.
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// The log line format of the server: env_logger's, plus `request_id=...` on lines written
/// while a request is served.
pub fn format_log_line(buf: &mut env_logger::fmt::Formatter, record: &log::Record<'_>) -> std::io::Result<()> {
    writeln!(buf, "[{} {}", buf.timestamp_millis(), line(record))
}

/// A log line after its timestamp.
fn line(record: &log::Record<'_>) -> String {
    match request_id::current() {
        Some(id) => format!("{:<5} {}] {} request_id={id}", record.level(), record.target(), record.args()),
        None => format!("{:<5} {}] {}", record.level(), record.target(), record.args()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_short_and_plain() {
        for id in ["a", "abc-123", "01890a5d-ac96-774b-bcce-b302099a8057", "svc.gw:42_x", &"x".repeat(128)] {
            assert!(is_sane(id), "{id}");
        }
        for id in ["", "a b", "a\"b", "id\nforged line", "é", "a/b", &"x".repeat(129)] {
            assert!(!is_sane(id), "{id:?}");
        }
    }

    #[actix_rt::test]
    async fn log_lines_inside_a_request_name_it() {
        let record = |args| {
            let line =
                line(&log::Record::builder().args(args).level(log::Level::Error).target("core_models::http").build());
            line
        };
        assert_eq!(record(format_args!("internal error: boom")), "ERROR core_models::http] internal error: boom");
        let inside =
            request_id::scope(Arc::from("req-42"), async { record(format_args!("internal error: boom")) }).await;
        assert_eq!(inside, "ERROR core_models::http] internal error: boom request_id=req-42");
    }
}
