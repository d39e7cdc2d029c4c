//! Conditional requests: the `If-Match` extractors and [`Tagged`], the response that
//! carries an `ETag` and answers a matching `If-None-Match` with 304.

use actix_web::body::BoxBody;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::version::{etag, none_match, none_match_tag, representation_etag, IfMatch, Versioned};
use crate::{AppError, AppResult};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
