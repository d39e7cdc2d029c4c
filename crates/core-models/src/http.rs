//! actix-web glue (feature `http`): how an [`AppError`] becomes a problem+json response,
//! how extractor failures join that shape, and how blocking service calls leave the
//! async workers.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::{FutureExt as _, StreamExt as _};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::problem::PROBLEM_CONTENT_TYPE;
use crate::{AppError, AppResult, Caller, FieldError, MaybeCaller, Problem};

/// Largest request body accepted (1 MiB); larger bodies get 413.
pub const BODY_LIMIT: usize = 1 << 20;

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
            _ => {}
        }
        response
    }
}

/// A response carrying `problem` with its status and the problem+json content type.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // A struct of strings always serialises.
    let body = serde_json::to_string(problem).unwrap_or_default();
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)).body(body)
}

/// 201 with a `Location` header and the created resource.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).json(body)
}

/// Runs a blocking service call (Diesel, argon2) on the blocking pool, never on a worker.
///
/// A panic inside `f` becomes a logged 500 instead of taking the worker down.
pub async fn blocking<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    match web::block(f).await {
        Ok(result) => result,
        Err(e) => Err(AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))),
    }
}

/// What the app-wide authentication middleware found out about a request's caller; it
/// puts one in every request's extensions (`None`: no `Authorization` header). The
/// [`Caller`] and [`MaybeCaller`] extractors read it.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Option<Caller>);

fn authenticated(req: &HttpRequest) -> AppResult<Option<Caller>> {
    match req.extensions().get::<Authenticated>() {
        Some(Authenticated(caller)) => Ok(caller.clone()),
        // A configuration bug, found by the route tests: every route sits behind the middleware.
        None => Err(AppError::Internal(anyhow::anyhow!(
            "no authentication middleware wraps {}; wrap the app in accounts::http::Authentication",
            req.path()
        ))),
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    /// The caller, or 401 (with `WWW-Authenticate: Bearer`) when the request sent no token.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticated(req).and_then(|caller| {
            caller.ok_or_else(|| {
                AppError::Unauthorized("this endpoint needs a login: send `Authorization: Bearer <token>`".into())
            })
        }))
    }
}

impl FromRequest for MaybeCaller {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    /// The caller if the request sent a token; a token that does not authenticate never
    /// reaches a handler (the middleware answers 401).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticated(req).map(MaybeCaller))
    }
}

/// A JSON request body, like `web::Json`, but with errors that help: a body of the wrong
/// shape is a 422 naming the field by its path (`tags[2]`, `content`), broken JSON a 400,
/// a body without a JSON content type 415, one over [`BODY_LIMIT`] 413 (checked while
/// reading, so an oversize body is never buffered whole).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = match req.mime_type() {
            Ok(Some(mime)) => mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"),
            _ => false,
        };
        if !is_json {
            let err =
                AppError::UnsupportedMediaType("send the body as JSON with `Content-Type: application/json`".into());
            return futures_util::future::ready(Err(err.into())).boxed_local();
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        async move {
            let too_large = || AppError::PayloadTooLarge(format!("the body exceeds the limit of {BODY_LIMIT} bytes"));
            if declared.is_some_and(|n| n > BODY_LIMIT) {
                return Err(too_large().into());
            }
            let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the body could not be read: {e}")))?;
                if body.len() + chunk.len() > BODY_LIMIT {
                    return Err(too_large().into());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Json(parse_json(&body)?))
        }
        .boxed_local()
    }
}

/// Parses a JSON body: syntax errors are 400, shape errors 422 naming the field's path.
/// Every request body of the API is an object; serde would also read a struct from an
/// array of its fields in order, so anything but an object is refused up front.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Not an object: valid JSON of another kind is a 422, anything else a 400.
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => AppError::invalid("body", "must be a JSON object"),
            Err(e) => AppError::BadRequest(format!("the body is not valid JSON: {e}")),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let message = inner.to_string();
            // At the top level serde names the field only in its message ("missing field `x`").
            let field = if path == "." { field_of_serde_message(&message) } else { path };
            AppError::Validation(vec![FieldError::new(field, message)])
        } else {
            AppError::BadRequest(format!("the body is not valid JSON: {inner}"))
        }
    })?;
    de.end().map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// A safety net for handlers that use actix's own `web::Json` (ours use [`Json`]):
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
            AppError::Validation(vec![FieldError::new(field_of_serde_message(&e.to_string()), e.to_string())])
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

/// Serde names the field in "missing field `x`", "unknown field `x`" and "duplicate field
/// `x`"; other messages (wrong type) only name a position, so the whole body is blamed.
fn field_of_serde_message(message: &str) -> String {
    let named = ["missing field `", "unknown field `", "duplicate field `"];
    named
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next())
        .unwrap_or("body")
        .to_string()
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn shape_errors_name_the_field_path() {
        let err = parse_json::<Body>(br#"{"title": 5}"#).unwrap_err();
        assert_eq!((err.status_code(), err.field_errors()[0].field.as_str()), (422, "title"));
        let err = parse_json::<Body>(br#"{"title": "a", "tags": ["x", 1]}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "tags[1]");
        let err = parse_json::<Body>(br#"{"tags": []}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "title");
        let err = parse_json::<Body>(br#"{"title": "a", "titel": "b"}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "titel");
    }

    #[test]
    fn only_objects_are_bodies() {
        for body in [&br#"["a", []]"#[..], b" 5", b"\"a\"", b"null", b"true"] {
            let err = parse_json::<Body>(body).unwrap_err();
            assert_eq!(err.field_errors()[0].field, "body", "{body:?}");
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in [&b"{"[..], b"", b"{\"title\": \"a\"} trailing", b"\xff", b"[", b"not json", b"nul"] {
            assert_eq!(parse_json::<Body>(body).unwrap_err().status_code(), 400, "{body:?}");
        }
    }

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(field_of_serde_message("missing field `content` at line 1 column 2"), "content");
        assert_eq!(field_of_serde_message("unknown field `titel`, expected one of"), "titel");
        assert_eq!(field_of_serde_message("invalid type: integer `5`, expected a string"), "body");
    }

    #[actix_rt::test]
    async fn unauthorized_carries_www_authenticate() {
        let response = AppError::Unauthorized("no token".into()).error_response();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(response.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_CONTENT_TYPE);
    }

    #[actix_rt::test]
    async fn too_many_requests_carries_retry_after() {
        let err = AppError::TooManyRequests { detail: "slow down".into(), retry_after_secs: 42 };
        assert_eq!(err.error_response().headers().get(header::RETRY_AFTER).unwrap(), "42");
    }
}
