//! The webhook routes: parse the request, call the [`WebhookService`] as the caller on the
//! blocking pool, shape the response. No rules live here.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{blocking, Json, Tagged};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired, StaleVersion};
use core_models::pagination::{IdPaging, IdPagingParams};
use core_models::version::IfMatch;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::model::{CreatedWebhook, NewWebhook, Webhook, WebhookChanges, WebhookDelivery, WebhookSecret};
use crate::WebhookService;

type Service = web::Data<dyn WebhookService>;

/// A team, as the path names it (its routes live in the projects crate).
#[derive(Debug)]
pub struct TeamMarker;

impl core_models::id::Resource for TeamMarker {
    const NAME: &'static str = "team";
}

/// Mounts the routes (relative to the API base) with `service` behind them.
pub fn configure(service: Arc<dyn WebhookService>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(service))
            .service(create_webhook)
            .service(list_webhooks)
            .service(get_webhook)
            .service(update_webhook)
            .service(delete_webhook)
            .service(rotate_webhook_secret)
            .service(ping_webhook)
            .service(list_webhook_deliveries)
            .service(retry_webhook_delivery);
    }
}

async fn call<T: Send + 'static>(
    service: Service,
    f: impl FnOnce(&dyn WebhookService) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let service = service.into_inner();
    blocking(move || f(service.as_ref())).await
}

/// A response that carries a secret: never cached.
fn secret_bearing(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

const NOT_FOUND: &str = "No such team or webhook, or the caller is not one of the team's admins";

/// Register a webhook (team admins): the team's activity entries whose action matches
/// `events` are `POST`ed to `url`, signed (Standard Webhooks). The `secret` is shown only
/// in this response; `Idempotency-Key` is refused (422), since the response would keep it.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "The webhook, with its secret (shown only here)", body = CreatedWebhook,
            headers(("Location" = String, description = "URL of the webhook"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: a URL that is not http(s), does not resolve or resolves to a \
            forbidden address, an unknown action or pattern; or an `Idempotency-Key`", body = Problem,
            content_type = "application/problem+json"),
    ))]
#[post("/teams/{id}/webhooks")]
pub(crate) async fn create_webhook(
    service: Service,
    caller: Caller,
    id: web::Path<Id<TeamMarker>>,
    body: Json<NewWebhook>,
) -> AppResult<HttpResponse> {
    let team = id.into_inner().uuid();
    let created = call(service, move |s| s.create(&caller, team, body.into_inner())).await?;
    let location = format!("{API_BASE}/webhooks/{}", created.webhook.id);
    Ok(secret_bearing(
        HttpResponse::Created()
            .insert_header((header::LOCATION, location))
            .insert_header((header::ETAG, core_models::version::etag(created.webhook.version)))
            .json(&created),
    ))
}

/// The team's webhooks, oldest first (team admins); never their secrets.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of webhooks", body = Page<Webhook>),
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/webhooks")]
pub(crate) async fn list_webhooks(
    service: Service,
    caller: Caller,
    id: web::Path<Id<TeamMarker>>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<Webhook>>> {
    let team = id.into_inner().uuid();
    let paging = params.into_inner().parse("team-webhooks", &team)?;
    Ok(web::Json(call(service, move |s| s.list(&caller, team, &paging)).await?))
}

/// One webhook (team admins).
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook", body = Webhook, headers(("ETag" = String, description = "`\"<version>\"`"))),
        (status = 304, description = "Not modified (`If-None-Match` names the current version)"),
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/webhooks/{id}")]
pub(crate) async fn get_webhook(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Webhook>>,
) -> AppResult<Tagged<Webhook>> {
    let id = id.into_inner().uuid();
    Ok(Tagged::ok(call(service, move |s| s.get(&caller, id)).await?))
}

/// Change a webhook's `url`, `events`, `active` or `description` (team admins);
/// `If-Match` makes it conditional. Switching it back on forgives past failures.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen, e.g. `\"3\"`")),
    request_body = WebhookChanges,
    responses(
        (status = 200, description = "The webhook after the change", body = Webhook, headers(("ETag" = String, description = "`\"<version>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid fields (as at registration)", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/webhooks/{id}")]
pub(crate) async fn update_webhook(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Webhook>>,
    expected: IfMatch,
    body: Json<WebhookChanges>,
) -> AppResult<Tagged<Webhook>> {
    let id = id.into_inner().uuid();
    Ok(Tagged::ok(call(service, move |s| s.update(&caller, id, body.into_inner(), expected)).await?))
}

/// Delete a webhook and its deliveries (team admins), honouring `If-Match`.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen, e.g. `\"3\"`")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    ))]
#[delete("/webhooks/{id}")]
pub(crate) async fn delete_webhook(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Webhook>>,
    expected: IfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete(&caller, id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the signing secret (team admins): the new secret is shown only here; the old
/// one keeps signing beside it for 24 hours (two `v1,` signatures), so receivers can
/// switch without losing a delivery. `Idempotency-Key` is refused (422).
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The new secret (shown only here)", body = WebhookSecret),
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An `Idempotency-Key` was sent: this response carries a secret", body = Problem,
            content_type = "application/problem+json"),
    ))]
#[post("/webhooks/{id}/secret")]
pub(crate) async fn rotate_webhook_secret(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Webhook>>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let secret = call(service, move |s| s.rotate_secret(&caller, id)).await?;
    Ok(secret_bearing(HttpResponse::Ok().json(&secret)))
}

/// Send a `webhook.ping` now (team admins; also to an inactive webhook, to test a receiver
/// before switching it back on). 202: the delivery is queued and sent within moments;
/// its outcome shows in the deliveries list.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "The ping's delivery, queued", body = WebhookDelivery),
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/webhooks/{id}/ping")]
pub(crate) async fn ping_webhook(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Webhook>>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let delivery = call(service, move |s| s.ping(&caller, id)).await?;
    Ok(HttpResponse::Accepted().json(&delivery))
}

/// The webhook's deliveries, newest first (team admins; kept 30 days).
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of deliveries", body = Page<WebhookDelivery>),
        LoginRequired,
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/webhooks/{id}/deliveries")]
pub(crate) async fn list_webhook_deliveries(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Webhook>>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<WebhookDelivery>>> {
    let id = id.into_inner().uuid();
    let params = params.into_inner();
    let paging = IdPaging::parse_newest_first(
        "webhook-deliveries",
        &id,
        params.limit.as_deref(),
        params.cursor.as_deref(),
        params.count.as_deref(),
    )?;
    Ok(web::Json(call(service, move |s| s.deliveries(&caller, id, &paging)).await?))
}

/// Try a delivery again now (team admins): one more attempt, also after the automatic
/// ones gave up or after it was delivered (receivers dedupe by `webhook-id`, which stays
/// the same). 202: queued; 409 while an attempt of it is under way.
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "The delivery, due now", body = WebhookDelivery),
        LoginRequired,
        (status = 404, description = "No such webhook or delivery, or not a team admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An attempt of this delivery is under way", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub(crate) async fn retry_webhook_delivery(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Webhook>, Id<WebhookDelivery>)>,
) -> AppResult<HttpResponse> {
    let (webhook, delivery) = path.into_inner();
    let (webhook, delivery): (Uuid, Uuid) = (webhook.uuid(), delivery.uuid());
    let delivery = call(service, move |s| s.retry(&caller, webhook, delivery)).await?;
    Ok(HttpResponse::Accepted().json(&delivery))
}
