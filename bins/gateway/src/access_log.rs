//! The access log: one line per request with its id, status, size, time, and for an error
//! the problem type, so a 4xx line says why. Query values that are secrets (short-lived
//! stream tickets, tokens) are never written: `ticket=<redacted>`.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Logger;
use actix_web::web;
use core_models::http::ProblemType;

/// Query parameters whose values never reach the log.
const SECRET_PARAMETERS: &[&str] = &["ticket", "token", "access_token"];

/// `%a "GET /api/v1/notes?limit=2 HTTP/1.1" 200 512 1.234ms request_id=... problem=-`
pub fn logger() -> Logger {
    Logger::new("%a \"%{request}xi\" %s %b %Dms request_id=%{x-request-id}o problem=%{problem}xo")
        .custom_request_replace("request", |req: &ServiceRequest| {
            let query = req.query_string();
            let target = match query.is_empty() {
                true => req.path().to_string(),
                false => format!("{}?{}", req.path(), redact_query(query)),
            };
            format!("{} {} {:?}", req.method(), target, req.version())
        })
        .custom_response_replace("problem", |res: &ServiceResponse| {
            res.response().extensions().get::<ProblemType>().map_or_else(|| "-".to_string(), |kind| kind.0.clone())
        })
}

/// `query` with the value of every secret parameter replaced by `<redacted>`; the rest is
/// kept as sent. Names are compared decoded (`ticke%74` is `ticket` to the server too).
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let raw_name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let name = match web::Query::<Vec<(String, String)>>::from_query(raw_name) {
                Ok(web::Query(decoded)) => decoded.into_iter().next().map(|(name, _)| name),
                Err(_) => None,
            };
            let is_secret = name.as_deref().is_some_and(|n| SECRET_PARAMETERS.contains(&n))
                // Undecodable names are not worth the risk.
                || name.is_none() && !raw_name.is_empty();
            if is_secret {
                format!("{raw_name}=<redacted>")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_redacted_and_the_rest_kept() {
        assert_eq!(redact_query("limit=2&ticket=abc.def&q=milk"), "limit=2&ticket=<redacted>&q=milk");
        assert_eq!(redact_query("ticket=a&ticket=b"), "ticket=<redacted>&ticket=<redacted>");
        assert_eq!(redact_query("ticke%74=abc"), "ticke%74=<redacted>");
        assert_eq!(redact_query("token"), "token=<redacted>");
        assert_eq!(redact_query("tickets=1&x=ticket"), "tickets=1&x=ticket");
        assert_eq!(redact_query("a=1&&b"), "a=1&&b");
    }
}
