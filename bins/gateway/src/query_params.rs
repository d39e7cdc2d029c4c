//! Unknown query parameters get 422 naming each of them, on every API endpoint, so a
//! misspelled filter (`stauts=pending`) is an error instead of an unfiltered answer.
//!
//! One check for all routes, including those that take no query at all (`GET /notes/{id}`):
//! the parameters each operation accepts are read from the generated OpenAPI document,
//! which documents the same structs the handlers deserialise, so what is enforced is
//! exactly what is documented. Health checks, `/docs` and `/openapi.json` are not checked
//! (probes and cache busters may add parameters there).
//!
//! The same middleware refuses, on every API path, a query whose names or values are not
//! UTF-8 once percent-decoded (`q=%ff%fe`): the standard decoder would turn those bytes into
//! U+FFFD silently, and a search for replacement characters is not what the client asked.

use std::collections::HashMap;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use core_models::{AppError, FieldError, API_BASE};
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::OpenApi;

/// The query parameters of every documented API operation, by route pattern and method.
#[derive(Debug, Default)]
pub struct KnownQueries {
    accepted: HashMap<(String, Method), Vec<String>>,
    /// The documented route patterns by their number of segments, split on `/`.
    patterns: HashMap<usize, Vec<(String, Vec<Segment>)>>,
}

/// One `/`-separated piece of a route pattern.
#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    /// `{name}`: any non-empty segment.
    Param,
}

/// What the documented patterns say about a request path.
#[derive(Debug, PartialEq)]
enum Route<'a> {
    /// Exactly one documented pattern matches.
    Pattern(&'a str),
    /// None does: not a documented operation (or a path only the router can decode).
    Unknown,
    /// Several do (`/users/me` and `/users/{id}`): only the router knows which one wins.
    Ambiguous,
}

impl KnownQueries {
    /// The operations of `api` under the API base path and the query parameters of each.
    pub fn from_openapi(api: &OpenApi) -> Self {
        let mut known = HashMap::new();
        for (path, item) in &api.paths.paths {
            if !path.starts_with(API_BASE) {
                continue;
            }
            let shared = item.parameters.as_deref().unwrap_or_default();
            let operations = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
                (Method::HEAD, &item.head),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    known.insert((path.clone(), method), query_names(shared, operation));
                }
            }
        }
        let mut patterns: HashMap<usize, Vec<(String, Vec<Segment>)>> = HashMap::new();
        for (path, _) in known.keys() {
            let segments: Vec<Segment> =
                path.split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.into())
                        }
                    })
                    .collect();
            let same_length = patterns.entry(segments.len()).or_default();
            if !same_length.iter().any(|(p, _)| p == path) {
                same_length.push((path.clone(), segments));
            }
        }
        KnownQueries { accepted: known, patterns }
    }

    /// The documented pattern `path` matches, found by comparing segments: the router's
    /// own lookup (`HttpRequest::match_pattern`) runs a regular expression per route and
    /// was a tenth of the CPU time of a list request, so it is left for the rare paths
    /// this cannot settle alone.
    fn route<'a>(&'a self, path: &str) -> Route<'a> {
        let parts: Vec<&str> = path.split('/').collect();
        let Some(candidates) = self.patterns.get(&parts.len()) else { return Route::Unknown };
        let mut found = Route::Unknown;
        for (pattern, segments) in candidates {
            let matches = segments.iter().zip(&parts).all(|(segment, part)| match segment {
                Segment::Literal(literal) => literal == part,
                Segment::Param => !part.is_empty(),
            });
            if matches {
                if found != Route::Unknown {
                    return Route::Ambiguous;
                }
                found = Route::Pattern(pattern);
            }
        }
        found
    }

    /// The parameters `method` on `pattern` accepts; `None` for routes not checked here.
    fn accepted(&self, pattern: &str, method: &Method) -> Option<&[String]> {
        let found = self.accepted.get(&(pattern.to_string(), method.clone()));
        // HEAD answers like GET where it is not documented on its own.
        let found = match found {
            None if method == Method::HEAD => self.accepted.get(&(pattern.to_string(), Method::GET)),
            other => other,
        };
        found.map(Vec::as_slice)
    }

    /// A 422 naming every parameter of `query` that the operation does not accept.
    pub fn check(&self, pattern: &str, method: &Method, query: &str) -> Result<(), AppError> {
        let Some(accepted) = self.accepted(pattern, method) else { return Ok(()) };
        if query.is_empty() {
            return Ok(());
        }
        // A query string that does not decode is left to the handler's own extractor.
        let Ok(web::Query(pairs)) = web::Query::<Vec<(String, String)>>::from_query(query) else { return Ok(()) };
        let mut unknown: Vec<String> = Vec::new();
        for (name, _) in pairs {
            if !accepted.contains(&name) && !unknown.contains(&name) {
                unknown.push(name);
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        let message = if accepted.is_empty() {
            "unknown query parameter; this endpoint takes none".to_string()
        } else {
            format!("unknown query parameter; this endpoint takes: {}", accepted.join(", "))
        };
        Err(AppError::Validation(unknown.into_iter().map(|name| FieldError::new(name, message.clone())).collect()))
    }
}

/// Percent-decodes one `application/x-www-form-urlencoded` name or value (`+` is a space;
/// a `%` not followed by two hex digits stays as it is, as the standard decoder does).
fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                    (Some(high), Some(low)) => {
                        // Two hex digits make one byte (high * 16 + low <= 255).
                        out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A 422 naming every query parameter whose name or value is not UTF-8 once decoded.
pub fn check_utf8(query: &str) -> Result<(), AppError> {
    let mut bad: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name);
        let valid = std::str::from_utf8(&name).is_ok() && std::str::from_utf8(&percent_decode(value)).is_ok();
        let name = String::from_utf8_lossy(&name).into_owned();
        if !valid && !bad.contains(&name) {
            bad.push(name);
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let message = "is not UTF-8 once percent-decoded";
    Err(AppError::Validation(bad.into_iter().map(|name| FieldError::new(name, message)).collect()))
}

fn query_names(shared: &[Parameter], operation: &Operation) -> Vec<String> {
    let own = operation.parameters.as_deref().unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for parameter in shared.iter().chain(own) {
        if parameter.parameter_in == ParameterIn::Query && !names.contains(&parameter.name) {
            names.push(parameter.name.clone());
        }
    }
    names
}

/// Middleware (`middleware::from_fn`): answers 422 before any handler runs when the query
/// names a parameter the matched operation does not take. Needs `Data<KnownQueries>`.
pub async fn refuse_unknown_parameters(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = match req.app_data::<web::Data<KnownQueries>>() {
        Some(known) if !req.query_string().is_empty() && req.path().starts_with(API_BASE) => {
            check_utf8(req.query_string()).and_then(|()| match known.route(req.path()) {
                Route::Pattern(pattern) => known.check(pattern, req.method(), req.query_string()),
                // A percent-encoded path may still name a documented route once decoded.
                Route::Unknown if !req.path().contains('%') => Ok(()),
                Route::Unknown | Route::Ambiguous => match req.match_pattern() {
                    Some(pattern) => known.check(&pattern, req.method(), req.query_string()),
                    None => Ok(()),
                },
            })
        }
        _ => Ok(()),
    };
    match verdict {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(err) => Ok(req.into_response(err.error_response()).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownQueries {
        let mut api = OpenApi::default();
        for (path, names) in
            [("/api/v1/tasks", &["status", "limit"][..]), ("/api/v1/tasks/{id}", &[]), ("/api/v1/tasks/stats", &[])]
        {
            let mut operation = Operation::default();
            operation.parameters = Some(
                names
                    .iter()
                    .map(|n| {
                        utoipa::openapi::path::ParameterBuilder::new().name(*n).parameter_in(ParameterIn::Query).build()
                    })
                    .collect(),
            );
            let item = utoipa::openapi::PathItem::new(utoipa::openapi::HttpMethod::Get, operation);
            api.paths.paths.insert(path.to_string(), item);
        }
        KnownQueries::from_openapi(&api)
    }

    #[test]
    fn paths_find_their_pattern_without_the_router() {
        let known = known();
        assert_eq!(known.route("/api/v1/tasks"), Route::Pattern("/api/v1/tasks"));
        assert_eq!(known.route("/api/v1/tasks/0190"), Route::Pattern("/api/v1/tasks/{id}"));
        // `stats` is both a literal route and a possible `{id}`: the router decides.
        assert_eq!(known.route("/api/v1/tasks/stats"), Route::Ambiguous);
        assert_eq!(known.route("/api/v1/tasks/"), Route::Unknown);
        assert_eq!(known.route("/api/v1/tasks/1/x"), Route::Unknown);
        assert_eq!(known.route("/api/v1/notes"), Route::Unknown);
    }

    fn fields(err: AppError) -> Vec<String> {
        err.field_errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn accepted_parameters_pass() {
        let known = known();
        assert!(known.check("/api/v1/tasks", &Method::GET, "status=pending&limit=2").is_ok());
        assert!(known.check("/api/v1/tasks", &Method::GET, "").is_ok());
        assert!(known.check("/api/v1/tasks", &Method::HEAD, "limit=2").is_ok());
        // Routes that are not API operations are not checked.
        assert!(known.check("/healthz", &Method::GET, "x=1").is_ok());
        assert!(known.check("/api/v1/tasks", &Method::POST, "x=1").is_ok());
    }

    #[test]
    fn every_unknown_parameter_is_named_once() {
        let known = known();
        let err = known.check("/api/v1/tasks", &Method::GET, "stauts=pending&limit=2&x=1&stauts=done").unwrap_err();
        assert_eq!(fields(err), ["stauts", "x"]);
        let err = known.check("/api/v1/tasks/{id}", &Method::GET, "x=1").unwrap_err();
        assert_eq!(err.field_errors()[0].message, "unknown query parameter; this endpoint takes none");
        let err = known.check("/api/v1/tasks/{id}", &Method::HEAD, "a%20b=1").unwrap_err();
        assert_eq!(fields(err), ["a b"]);
    }

    #[test]
    fn values_and_names_must_be_utf8_once_decoded() {
        assert!(check_utf8("q=caf%C3%A9&tag=a+b&x=%zz&y=100%&z").is_ok());
        let err = check_utf8("q=%ff%fe&tag=%FF&limit=5&topic=%c3&q=%80").unwrap_err();
        assert_eq!(fields(err), ["q", "tag", "topic"]);
        let err = check_utf8("%ff=1").unwrap_err();
        assert_eq!(fields(err), ["\u{fffd}"]);
        assert_eq!(percent_decode("a+%41%4a%e2%82%ac%"), "a AJ\u{20ac}%".as_bytes());
    }
}
