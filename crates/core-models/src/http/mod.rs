//! actix-web glue (feature `http`): how an [`AppError`] becomes a problem+json response,
//! how extractor failures join that shape, and how blocking service calls leave the
//! async workers.

pub mod request_id;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::{FutureExt as _, StreamExt as _};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_path_to_error::Segment;

use crate::problem::PROBLEM_CONTENT_TYPE;
use crate::rules::{top_field, BodyRules};
use crate::version::{etag, none_match, none_match_tag, representation_etag, IfMatch, Versioned};
use crate::{AppError, AppResult, Board, Caller, FieldError, MaybeCaller, Problem};

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

/// Runs a blocking service call (Diesel, argon2) on the blocking pool, never on a worker.
///
/// A panic inside `f` becomes a logged 500 instead of taking the worker down.
pub async fn blocking<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    // Log lines written on the blocking thread still name the request.
    let id = request_id::current();
    // So does the request's idempotency claim: its write marks the key as written.
    let claim = crate::idempotency::current();
    match web::block(move || request_id::sync_scope(id, || crate::idempotency::sync_scope(claim, f))).await {
        Ok(result) => result,
        Err(e) => Err(AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))),
    }
}

/// [`blocking`] for a full-text search: first waits, without holding a thread, for one of
/// as many search permits as the machine has cores (at most 10 s, then 503). Searches
/// waiting for their turn then never fill the blocking pool, so point reads and writes
/// beside a burst of expensive searches still find a thread (and the database's search
/// slots, `storage::Database::read_for_search`, a connection).
pub async fn blocking_search<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    });
    let permit = tokio::time::timeout(std::time::Duration::from_secs(10), permits.acquire()).await;
    let Ok(Ok(_permit)) = permit else {
        log::warn!("a search waited too long for its turn");
        return Err(AppError::Unavailable("too many searches at once; retry shortly".into()));
    };
    blocking(f).await
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

impl FromRequest for Board {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    /// The caller's own board with a token, the shared anonymous board without one.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticated(req).map(|caller| Board::of(caller.as_ref())))
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    /// The request's `If-Match` condition ([`IfMatch::Any`] without the header). Several
    /// headers count as one comma-separated list; a value that is not text matches nothing.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(header::IF_MATCH).peekable();
        if values.peek().is_none() {
            return std::future::ready(Ok(IfMatch::Any));
        }
        let joined: Vec<&str> = values.map(|v| v.to_str().unwrap_or("\"\"")).collect();
        std::future::ready(Ok(IfMatch::parse(&joined.join(","))))
    }
}

/// The `If-Match` condition of a resource tagged by its representation
/// ([`Tagged::by_representation`]): `"<version>-<digest>"` counts as its version, and so
/// does the bare `"<version>"` (see [`IfMatch::parse_representation`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepresentationIfMatch(pub IfMatch);

impl FromRequest for RepresentationIfMatch {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(header::IF_MATCH).peekable();
        if values.peek().is_none() {
            return std::future::ready(Ok(RepresentationIfMatch(IfMatch::Any)));
        }
        let joined: Vec<&str> = values.map(|v| v.to_str().unwrap_or("\"\"")).collect();
        std::future::ready(Ok(RepresentationIfMatch(IfMatch::parse_representation(&joined.join(",")))))
    }
}

/// A versioned resource as a response: JSON with `ETag: "<version>"` (and `Location` for
/// a creation). To a GET (HEAD runs as GET) whose `If-None-Match` names the current
/// version it is a 304 with the `ETag` and no body.
///
/// [`Tagged::by_representation`] tags the body instead (`"<version>-<digest>"`, see
/// [`representation_etag`]), for resources whose body moves without their version;
/// [`Tagged::varying_by_caller`] adds `Vary: Authorization` for bodies that differ by
/// caller.
#[derive(Debug)]
pub struct Tagged<T> {
    status: StatusCode,
    location: Option<String>,
    body: T,
    by_representation: bool,
    varies_by_caller: bool,
}

impl<T> Tagged<T> {
    /// 200 with the resource.
    pub fn ok(body: T) -> Self {
        Tagged { status: StatusCode::OK, location: None, body, by_representation: false, varies_by_caller: false }
    }

    /// 201 with the created resource and its `Location`.
    pub fn created(location: String, body: T) -> Self {
        Tagged { location: Some(location), status: StatusCode::CREATED, ..Tagged::ok(body) }
    }

    /// Tags the whole representation, not just the version: the `ETag` moves with every
    /// change of the body (aggregates included), `If-None-Match` compares it whole.
    #[must_use]
    pub fn by_representation(mut self) -> Self {
        self.by_representation = true;
        self
    }

    /// Marks the body as one that differs by caller: `Vary: Authorization`.
    #[must_use]
    pub fn varying_by_caller(mut self) -> Self {
        self.varies_by_caller = true;
        self
    }
}

impl<T: Serialize + Versioned> actix_web::Responder for Tagged<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        let version = self.body.version();
        let body = match serde_json::to_vec(&self.body) {
            Ok(body) => body,
            Err(e) => return AppError::Internal(e.into()).error_response(),
        };
        let tag = if self.by_representation { representation_etag(version, &body) } else { etag(version) };
        let is_read = matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
        let vary = self.varies_by_caller.then_some((header::VARY, "Authorization"));
        if self.status == StatusCode::OK && is_read {
            let unchanged = req.headers().get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok()).any(|v| {
                if self.by_representation {
                    none_match_tag(v, &tag)
                } else {
                    none_match(v, version)
                }
            });
            if unchanged {
                let mut response = HttpResponse::NotModified();
                response.insert_header((header::ETAG, tag));
                if let Some(vary) = vary {
                    response.append_header(vary);
                }
                return response.finish();
            }
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::ETAG, tag));
        if let Some(vary) = vary {
            response.append_header(vary);
        }
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        response.content_type("application/json").body(body)
    }
}

/// How long a request body may take to arrive once its handler starts reading it; past
/// it the request gets 408 and the connection is closed. Register with `App::app_data`;
/// without it [`DEFAULT_BODY_TIMEOUT`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout(pub Duration);

/// The body timeout when none is configured.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for BodyTimeout {
    fn default() -> Self {
        BodyTimeout(DEFAULT_BODY_TIMEOUT)
    }
}

/// A JSON request body, like `web::Json`, but with errors that help: a body of the wrong
/// shape is a 422 naming the field by its path (`tags[2]`, `content`), broken JSON a 400,
/// a body without a JSON content type or in another charset 415, one over [`BODY_LIMIT`]
/// 413 (checked while reading, so an oversize body is never buffered whole), one that does
/// not arrive within the [`BodyTimeout`] 408.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + BodyRules + 'static> FromRequest for Json<T> {
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
        if let Some(charset) = foreign_charset(req) {
            let err = AppError::UnsupportedMediaType(format!(
                "JSON bodies are UTF-8; `charset={charset}` is not supported (send UTF-8 or leave the charset out)"
            ));
            return futures_util::future::ready(Err(err.into())).boxed_local();
        }
        let read = read_body(req, payload);
        async move {
            let body = read.await?;
            Ok(Json(parse_json(&body)?))
        }
        .boxed_local()
    }
}

/// Reads a request body whole: 413 past [`BODY_LIMIT`] (checked while reading, so an
/// oversize body is never buffered whole), 408 when it does not arrive within the app's
/// [`BodyTimeout`], 400 when the connection breaks.
pub fn read_body(req: &HttpRequest, payload: &mut Payload) -> LocalBoxFuture<'static, AppResult<web::Bytes>> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let timeout = req.app_data::<BodyTimeout>().copied().unwrap_or_default().0;
    let mut payload = payload.take();
    async move {
        let too_large = || AppError::PayloadTooLarge(format!("the body exceeds the limit of {BODY_LIMIT} bytes"));
        if declared.is_some_and(|n| n > BODY_LIMIT) {
            return Err(too_large());
        }
        let read = async {
            let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(BODY_LIMIT));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the body could not be read: {e}")))?;
                if body.len() + chunk.len() > BODY_LIMIT {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body.freeze())
        };
        // A deadline for the whole body, not per chunk: a client trickling one byte at a
        // time must not hold the request open either.
        match actix_web::rt::time::timeout(timeout, read).await {
            Ok(body) => body,
            Err(_) => {
                let secs = timeout.as_secs_f64();
                Err(AppError::RequestTimeout(format!("the body did not arrive within {secs} s")))
            }
        }
    }
    .boxed_local()
}

/// The charset a request declares for its body when that is not UTF-8 (JSON is UTF-8 by
/// RFC 8259; a body announced as `latin1` would be read wrongly, so it is refused).
fn foreign_charset(req: &HttpRequest) -> Option<String> {
    let mime = req.mime_type().ok().flatten()?;
    let charset = mime.get_param(actix_web::mime::CHARSET)?.as_str().to_ascii_lowercase();
    // US-ASCII is a subset of UTF-8, so a body in it reads the same.
    (!matches!(charset.as_str(), "utf-8" | "utf8" | "us-ascii")).then_some(charset)
}

/// Parses a JSON body: syntax errors are 400, shape errors 422 naming every bad field
/// (see [`every_bad_field`]) and, beside them, every other field that breaks one of the
/// body's [`BodyRules`] (checked on the body with stand-ins for its bad fields), so one
/// answer names them all.
/// Every request body of the API is an object; serde would also read a struct from an
/// array of its fields in order, so anything but an object is refused up front.
pub fn parse_json<T: DeserializeOwned + BodyRules>(body: &[u8]) -> AppResult<T> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Not an object: valid JSON of another kind is a 422, anything else a 400.
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => AppError::invalid("body", "must be a JSON object"),
            Err(e) => AppError::BadRequest(format!("the body is not valid JSON: {e}")),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end().map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
            Ok(value)
        }
        Err(e) if e.inner().is_data() => {
            // serde stops at the first error; a second pass over the parsed body finds the
            // others. The body is read whole first, so broken JSON after the error is a 400.
            let first = field_error(e.path(), &e.inner().to_string());
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
            let (mut errors, repaired) = shape_errors::<T>(value);
            if errors.is_empty() {
                // Only the raw text shows some errors (a duplicate key: the parsed map keeps one).
                errors.push(first);
            }
            if let Some(repaired) = repaired {
                add_broken_rules(&mut errors, &repaired);
            }
            Err(AppError::Validation(errors))
        }
        Err(e) => Err(AppError::BadRequest(format!("the body is not valid JSON: {}", e.into_inner()))),
    }
}

/// Most field errors one body is answered with; the search for more stops there.
pub const MAX_FIELD_ERRORS: usize = 20;

/// Every field of the JSON object `body` that keeps it from deserialising as `T`: unknown
/// fields, fields of the wrong type or value, missing required fields, each once (the
/// fields sent in the order of their names, then the missing ones in `T`'s order).
///
/// serde reports one error per attempt, so this deserialises repeatedly: an unknown field
/// is reported and removed; any other bad or missing field is reported and replaced by the
/// first stand-in value (`null`, `""`, `0`, `false`, `[]`, `{}`) the parser accepts there,
/// so the next attempt reaches the fields after it. When no stand-in fits (e.g. a required
/// timestamp), the search stops with what it found.
pub fn every_bad_field<T: DeserializeOwned>(body: serde_json::Value) -> Vec<FieldError> {
    shape_errors::<T>(body).0
}

/// The rule errors of `repaired` (the body with stand-ins for its bad fields) that are
/// about fields the shape errors did not name: the stand-ins' own rule errors are noise,
/// and so are whole-body rules (which the stand-ins may have broken).
fn add_broken_rules<T: BodyRules>(errors: &mut Vec<FieldError>, repaired: &T) {
    let named: Vec<String> = errors.iter().map(|e| top_field(&e.field).to_string()).collect();
    for error in repaired.broken_rules() {
        let field = top_field(&error.field);
        let known = field == "body" || named.iter().any(|n| n == field);
        if !known && errors.len() < MAX_FIELD_ERRORS && !errors.contains(&error) {
            errors.push(error);
        }
    }
}

/// [`every_bad_field`], and the body as `T` once its bad fields are removed or replaced by
/// stand-ins (`None` when the search stopped before the body parsed).
fn shape_errors<T: DeserializeOwned>(body: serde_json::Value) -> (Vec<FieldError>, Option<T>) {
    let mut body = body;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut settled: Vec<String> = Vec::new();
    let mut repaired = None;
    while errors.len() < MAX_FIELD_ERRORS {
        let err = match serde_path_to_error::deserialize::<_, T>(&body) {
            Ok(value) => {
                repaired = Some(value);
                break;
            }
            Err(err) => err,
        };
        let message = strip_position(&err.inner().to_string());
        let Some(object) = body.as_object_mut() else { break };
        // Depending on the deserialiser, the path of an unknown field is empty or the field.
        if let Some(unknown) = named_field(&message, "unknown field `") {
            if object.remove(&unknown).is_none() {
                break;
            }
            errors.push(FieldError::new(unknown, message));
            continue;
        }
        let key = match err.path().iter().next() {
            Some(Segment::Map { key }) => key.clone(),
            None => match named_field(&message, "missing field `") {
                Some(missing) => missing,
                None => {
                    errors.push(FieldError::new("body", message));
                    break;
                }
            },
            Some(_) => {
                errors.push(FieldError::new(err.path().to_string(), message));
                break;
            }
        };
        if settled.contains(&key) {
            break;
        }
        errors.push(field_error(err.path(), &message));
        settled.push(key.clone());
        let stand_ins = [
            serde_json::Value::Null,
            serde_json::Value::String(String::new()),
            serde_json::Value::from(0),
            serde_json::Value::Bool(false),
            serde_json::Value::Array(Vec::new()),
            serde_json::Value::Object(serde_json::Map::new()),
        ];
        let mut moved_on = false;
        for stand_in in stand_ins {
            if let Some(object) = body.as_object_mut() {
                object.insert(key.clone(), stand_in);
            }
            match serde_path_to_error::deserialize::<_, T>(&body) {
                Err(e) if is_about(&e, &key) => {}
                _ => {
                    moved_on = true;
                    break;
                }
            }
        }
        if !moved_on {
            break;
        }
    }
    (errors, repaired)
}

/// Whether a deserialisation error is about the top-level field `key`.
fn is_about(err: &serde_path_to_error::Error<serde_json::Error>, key: &str) -> bool {
    match err.path().iter().next() {
        Some(Segment::Map { key: first }) => first == key,
        None => named_field(&strip_position(&err.inner().to_string()), "missing field `").as_deref() == Some(key),
        Some(_) => false,
    }
}

/// A field error at `path`; at the top level serde names the field only in its message
/// ("missing field `x`").
fn field_error(path: &serde_path_to_error::Path, message: &str) -> FieldError {
    let message = strip_position(message);
    let field = match path.iter().next() {
        None => field_of_serde_message(&message),
        Some(_) => path.to_string(),
    };
    FieldError::new(field, message)
}

/// serde_json ends its messages with "at line 1 column 5": noise for a client that sent
/// the body in one line, and the field is named anyway.
fn strip_position(message: &str) -> String {
    if let Some(at) = message.rfind(" at line ") {
        let rest = &message[at + " at line ".len()..];
        let mut words = rest.split(' ');
        let is_position = matches!(
            (words.next(), words.next(), words.next(), words.next()),
            (Some(line), Some("column"), Some(column), None)
                if line.bytes().all(|b| b.is_ascii_digit()) && column.bytes().all(|b| b.is_ascii_digit())
        );
        if is_position {
            return message[..at].to_string();
        }
    }
    message.to_string()
}

fn named_field(message: &str, prefix: &str) -> Option<String> {
    message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_string)
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

/// Serde names the field in "missing field `x`", "unknown field `x`" and "duplicate field
/// `x`"; other messages (wrong type) only name a position, so the whole body is blamed.
fn field_of_serde_message(message: &str) -> String {
    let named = ["missing field `", "unknown field `", "duplicate field `"];
    named.iter().find_map(|prefix| named_field(message, prefix)).unwrap_or_else(|| "body".to_string())
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Pair {
        name: String,
        count: u32,
        #[serde(default, with = "crate::time::rfc3339_option")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    }

    crate::body_rules!(Body);
    crate::body_rules!(Pair);

    /// A body with rules beyond its shape, like the API's: `priority` is a string checked
    /// after parsing, `title` must not be blank.
    #[derive(Debug, Clone, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ruled {
        title: String,
        #[serde(default)]
        priority: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
    }

    impl Ruled {
        fn validate(self) -> AppResult<()> {
            let mut v = crate::Violations::new();
            if self.title.trim().is_empty() {
                v.push(FieldError::new("title", "must not be empty"));
            }
            if self.priority.as_deref().is_some_and(|p| !["low", "high"].contains(&p)) {
                v.push(FieldError::new("priority", "must be one of `low`, `high`"));
            }
            if self.tags.iter().any(|t| t.is_empty()) {
                v.push(FieldError::new("tags", "must not hold empty tags"));
            }
            if self.tags.len() > 2 {
                v.push(FieldError::new("body", "too many tags"));
            }
            v.finish()
        }
    }

    crate::body_rules!(Ruled => Ruled::validate);

    #[test]
    fn type_errors_and_broken_rules_are_named_together() {
        // serde stops at `title`; the rule on `priority` is still checked.
        let err = parse_json::<Ruled>(br#"{"title": 42, "priority": "x"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title", "priority"]);
        assert_eq!(err.field_errors()[0].message, "invalid type: integer `42`, expected a string");
        assert_eq!(err.field_errors()[1].message, "must be one of `low`, `high`");
        // Order of the body does not matter; unknown and missing fields too.
        let err = parse_json::<Ruled>(br#"{"priority": "x", "colour": 1}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["colour", "title", "priority"]);
        // A field with a wrong type is named once, not again for its stand-in ("" is blank).
        let err = parse_json::<Ruled>(br#"{"title": [], "tags": [""]}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title", "tags"]);
        let err = parse_json::<Ruled>(br#"{"title": "t", "tags": ["", 5]}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["tags[1]"], "the stand-in's rule error on `tags` is not added");
        // Whole-body rules are left to the service (a stand-in may be what broke them).
        let err = parse_json::<Ruled>(br#"{"title": 1, "tags": ["a", "b", "c"]}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title"]);
        // A body of the right shape is left to the service's own validation.
        assert!(parse_json::<Ruled>(br#"{"title": " ", "priority": "x"}"#).is_ok());
    }

    #[test]
    fn broken_rules_stop_at_the_error_cap() {
        let body: String = (0..MAX_FIELD_ERRORS).map(|i| format!("\"f{i}\": 1,")).collect();
        let body = format!("{{{body} \"title\": 1, \"priority\": \"x\"}}");
        let err = parse_json::<Ruled>(body.as_bytes()).unwrap_err();
        assert_eq!(err.field_errors().len(), MAX_FIELD_ERRORS);
    }

    fn fields_of(err: &AppError) -> Vec<&str> {
        err.field_errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        // A wrong type and an unknown field.
        let err = parse_json::<Body>(br#"{"title": 5, "titel": "b"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["titel", "title"]);
        // An unknown field and a missing one.
        let err = parse_json::<Body>(br#"{"tagz": 1}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["tagz", "title"]);
        // Three kinds at once, nested paths kept.
        let err = parse_json::<Body>(br#"{"tags": ["a", 2], "extra": 1, "more": 2, "title": false}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["extra", "more", "tags[1]", "title"]);
        // Several missing fields, and a bad value behind a custom deserialiser.
        let err = parse_json::<Pair>(br#"{"at": "0000-01-01T00:00:00Z"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["at", "name", "count"]);
        let err = parse_json::<Pair>(br#"{"name": "x", "count": -1, "zzz": null}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["count", "zzz"]);
    }

    #[test]
    fn field_messages_carry_no_line_and_column() {
        let err = parse_json::<Body>(br#"{"title": 5, "tags": 7}"#).unwrap_err();
        for e in err.field_errors() {
            assert!(!e.message.contains("line"), "{e}");
        }
        assert_eq!(err.field_errors()[1].message, "invalid type: integer `5`, expected a string");
        assert_eq!(strip_position("missing field `x` at line 1 column 2"), "missing field `x`");
        assert_eq!(strip_position("at line 3 of the poem"), "at line 3 of the poem");
    }

    #[test]
    fn a_flood_of_unknown_fields_is_cut_short() {
        let body: String = (0..500).map(|i| format!("\"f{i}\": 1,")).collect();
        let body = format!("{{{body} \"title\": \"t\"}}");
        let err = parse_json::<Body>(body.as_bytes()).unwrap_err();
        assert_eq!(err.field_errors().len(), MAX_FIELD_ERRORS);
    }

    #[test]
    fn duplicate_fields_are_still_named() {
        let err = parse_json::<Body>(br#"{"title": "a", "title": "b"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title"]);
        assert!(err.field_errors()[0].message.starts_with("duplicate field"));
    }

    #[actix_rt::test]
    async fn a_body_that_does_not_arrive_in_time_is_a_408_that_closes() {
        use actix_web::test::TestRequest;
        let (req, _) = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((header::CONTENT_LENGTH, "100"))
            .app_data(BodyTimeout(Duration::from_millis(50)))
            .to_http_parts();
        // A payload whose sender never sends and never finishes.
        let mut payload: Payload = Payload::Stream { payload: Box::pin(futures_util::stream::pending()) };
        let started = std::time::Instant::now();
        let err = Json::<Body>::from_request(&req, &mut payload).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        let response = err.error_response();
        assert_eq!(response.status(), 408);
        assert!(!response.head().keep_alive(), "the connection closes after a 408");
    }

    #[actix_rt::test]
    async fn declared_charsets_other_than_utf8_are_unsupported() {
        use actix_web::test::TestRequest;
        for (content_type, status) in [
            ("application/json; charset=latin1", Some(415)),
            ("application/json; charset=ISO-8859-1", Some(415)),
            ("application/json; charset=utf-16", Some(415)),
            ("application/json; charset=UTF-8", None),
            ("application/json; charset=utf8", None),
            ("application/json", None),
        ] {
            let (req, mut payload) = TestRequest::post()
                .insert_header((header::CONTENT_TYPE, content_type))
                .set_payload(r#"{"title": "a"}"#)
                .to_http_parts();
            let result = Json::<Body>::from_request(&req, &mut payload).await;
            assert_eq!(result.err().map(|e| e.as_response_error().status_code().as_u16()), status, "{content_type}");
        }
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
    async fn problem_responses_carry_their_type_for_the_log() {
        let response = AppError::invalid("title", "must not be empty").error_response();
        let kind = response.extensions().get::<ProblemType>().cloned();
        assert_eq!(kind, Some(ProblemType("/problems/validation".into())));
    }

    #[derive(serde::Serialize)]
    struct Thing(i64);

    impl Versioned for Thing {
        fn version(&self) -> i64 {
            self.0
        }
    }

    #[actix_rt::test]
    async fn tagged_responses_carry_the_etag_and_answer_304_to_reads_only() {
        use actix_web::test::TestRequest;
        use actix_web::Responder as _;
        let etag_of = |r: &HttpResponse| r.headers().get(header::ETAG).map(|v| v.to_str().unwrap().to_string());
        let plain = Tagged::ok(Thing(3)).respond_to(&TestRequest::get().to_http_request());
        assert_eq!((plain.status(), etag_of(&plain).as_deref()), (StatusCode::OK, Some("\"3\"")));
        let cached = TestRequest::get().insert_header((header::IF_NONE_MATCH, "W/\"3\"")).to_http_request();
        let cached = Tagged::ok(Thing(3)).respond_to(&cached);
        assert_eq!((cached.status(), etag_of(&cached).as_deref()), (StatusCode::NOT_MODIFIED, Some("\"3\"")));
        let patch = TestRequest::patch().insert_header((header::IF_NONE_MATCH, "\"3\"")).to_http_request();
        assert_eq!(Tagged::ok(Thing(3)).respond_to(&patch).status(), StatusCode::OK, "304 is for reads");
        let created = Tagged::created("/things/1".into(), Thing(1)).respond_to(&TestRequest::post().to_http_request());
        assert_eq!(created.status(), StatusCode::CREATED);
        assert_eq!(created.headers().get(header::LOCATION).unwrap(), "/things/1");
    }

    #[actix_rt::test]
    async fn representation_tags_cover_the_body_and_vary_by_caller() {
        use actix_web::test::TestRequest;
        use actix_web::Responder as _;
        #[derive(serde::Serialize)]
        struct Counted(i64, i64);
        impl Versioned for Counted {
            fn version(&self) -> i64 {
                self.0
            }
        }
        let get = TestRequest::get().to_http_request();
        let first = Tagged::ok(Counted(3, 1)).by_representation().varying_by_caller().respond_to(&get);
        let tag = first.headers().get(header::ETAG).unwrap().to_str().unwrap().to_string();
        assert!(tag.starts_with("\"3-"), "{tag}");
        assert_eq!(first.headers().get(header::VARY).unwrap(), "Authorization");
        let moved = Tagged::ok(Counted(3, 2)).by_representation().respond_to(&get);
        assert_ne!(moved.headers().get(header::ETAG).unwrap().to_str().unwrap(), tag, "the count moved the tag");
        assert!(moved.headers().get(header::VARY).is_none());
        let revalidate = TestRequest::get().insert_header((header::IF_NONE_MATCH, tag.as_str())).to_http_request();
        let cached = Tagged::ok(Counted(3, 1)).by_representation().varying_by_caller().respond_to(&revalidate);
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(cached.headers().get(header::VARY).unwrap(), "Authorization");
        let stale = Tagged::ok(Counted(3, 2)).by_representation().respond_to(&revalidate);
        assert_eq!(stale.status(), StatusCode::OK, "an old tag gets the new body");
        let bare = TestRequest::get().insert_header((header::IF_NONE_MATCH, "\"3\"")).to_http_request();
        assert_eq!(Tagged::ok(Counted(3, 1)).by_representation().respond_to(&bare).status(), StatusCode::OK);
        let edit = TestRequest::patch().insert_header((header::IF_MATCH, tag.as_str())).to_http_request();
        assert_eq!(RepresentationIfMatch::extract(&edit).await.unwrap(), RepresentationIfMatch(IfMatch::version(3)));
    }

    #[actix_rt::test]
    async fn if_match_joins_every_header_and_defaults_to_any() {
        use actix_web::test::TestRequest;
        let none = TestRequest::patch().to_http_request();
        assert_eq!(IfMatch::extract(&none).await.unwrap(), IfMatch::Any);
        let two = TestRequest::patch()
            .append_header((header::IF_MATCH, "\"1\""))
            .append_header((header::IF_MATCH, "W/\"2\""))
            .to_http_request();
        assert_eq!(IfMatch::extract(&two).await.unwrap(), IfMatch::Versions(vec![1, 2]));
    }

    #[actix_rt::test]
    async fn too_many_requests_carries_retry_after() {
        let err = AppError::TooManyRequests { detail: "slow down".into(), retry_after_secs: 42 };
        assert_eq!(err.error_response().headers().get(header::RETRY_AFTER).unwrap(), "42");
    }
}
