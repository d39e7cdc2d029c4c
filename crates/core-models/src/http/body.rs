//! Request bodies: the [`Json`] extractor and [`read_body`], with the size limit, the
//! content-type and charset checks and the time a body may take to arrive.

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::{FutureExt as _, StreamExt as _};
use serde::de::DeserializeOwned;
use std::time::Duration;

use super::parse_json;
use crate::rules::BodyRules;
use crate::{AppError, AppResult};

/// Largest request body accepted (1 MiB); larger bodies get 413.
pub const BODY_LIMIT: usize = 1 << 20;

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

    crate::body_rules!(Body);

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
}
