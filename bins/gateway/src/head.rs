//! `HEAD` wherever `GET` works, for every route of every crate, in one place.
//!
//! actix-web's `#[get]` routes answer only `GET`. Instead of a second route per handler,
//! a middleware runs a `HEAD` request as the `GET` it mirrors, so the answer has exactly
//! the headers the `GET` would have (`ETag`, `Content-Length`, `Content-Type`, and a 304
//! for a matching `If-None-Match`). The body is never sent: actix-web's HTTP codec writes
//! no body for a request that arrived as `HEAD` and keeps the `Content-Length` of the
//! `GET`, as RFC 9110 allows. Paths that have no `GET` answer `HEAD` with 405 and `Allow`.
//!
//! The OpenAPI document lists a `head` operation beside every `get` ([`document_head`]),
//! so the unknown-parameter check and the 405 answers treat both alike.

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// Left in the request's extensions when a `HEAD` runs as `GET`, so that answers naming the
/// method (405) can name the one the client sent.
#[derive(Debug, Clone, Copy)]
pub struct RanAsGet;

/// Middleware (`middleware::from_fn`): runs `HEAD` as `GET`; the codec drops the body.
///
/// A streamed body (the team's Server-Sent Events) has no length to report and may never
/// end: a `HEAD` gets the stream's headers with an empty body, and the stream is dropped
/// at once instead of holding the connection open.
pub async fn head_as_get<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(RanAsGet);
    }
    let res = next.call(req).await?;
    if head && matches!(res.response().body().size(), BodySize::Stream) {
        return Ok(res.map_body(|_, _| EitherBody::right(BoxBody::new(()))));
    }
    Ok(res.map_into_left_body())
}

/// The method the client sent: `HEAD` for a request [`head_as_get`] runs as `GET`.
pub fn sent_method(req: &actix_web::HttpRequest) -> Method {
    if req.extensions().get::<RanAsGet>().is_some() {
        Method::HEAD
    } else {
        req.method().clone()
    }
}

/// Adds a `head` operation beside every `get` of `api`: the same parameters and
/// responses (headers included), without response bodies.
pub fn document_head(api: &mut OpenApi) {
    for item in api.paths.paths.values_mut() {
        if item.head.is_some() {
            continue;
        }
        if let Some(get) = &item.get {
            item.head = Some(head_of(get));
        }
    }
}

fn head_of(get: &Operation) -> Operation {
    let mut head = get.clone();
    head.operation_id = get.operation_id.as_ref().map(|id| format!("{id}_head"));
    head.summary = Some(format!("{} (headers only)", get.summary.as_deref().unwrap_or("GET")));
    head.description = Some(
        "`HEAD`: the status and headers the `GET` of this path would answer (`ETag`, `Content-Length`, ...), \
         without a body."
            .to_string(),
    );
    for response in head.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            response.content.clear();
        }
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::{ContentBuilder, OpenApiBuilder, PathsBuilder};

    #[test]
    fn every_get_gets_a_bodiless_head() {
        let ok = ResponseBuilder::new().description("ok").content("application/json", ContentBuilder::new().build());
        let get = OperationBuilder::new().operation_id(Some("get_note")).response("200", ok).build();
        let post = OperationBuilder::new().operation_id(Some("create_note")).build();
        let mut api = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/notes/{id}", PathItem::new(HttpMethod::Get, get))
                    .path("/notes", PathItem::new(HttpMethod::Post, post)),
            )
            .build();
        document_head(&mut api);
        let head = api.paths.paths["/notes/{id}"].head.as_ref().unwrap();
        assert_eq!(head.operation_id.as_deref(), Some("get_note_head"));
        let RefOr::T(response) = &head.responses.responses["200"] else { panic!("inline response") };
        assert!(response.content.is_empty());
        assert!(api.paths.paths["/notes"].head.is_none(), "no GET, no HEAD");
    }
}
