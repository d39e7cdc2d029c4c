//! The caller's notifications: the list, marking them read, and their live stream.

use activity_log::stream::resume_point;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use core_models::http::Json;
use core_models::openapi::{JsonBodyErrors, LoginRequired};
use core_models::sse::{sse_response, Shutdown, HEARTBEAT};
use core_models::streams::{StreamOwner, Streams};
use core_models::{AppResult, Caller, Page, Problem};

use super::activity::EventParams;
use super::{call, Service};
use crate::notifications::live::events;
use crate::notifications::{MarkNotificationsRead, Notification, NotificationListParams, NotificationQuery};

/// The caller's notifications, newest first.
///
/// `unread=true` keeps the unread ones; with `count=true` the answer's `total` is the
/// badge number. Each carries the activity entry that caused it.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(NotificationListParams),
    responses(
        (status = 200, description = "One page of notifications", body = Page<Notification>),
        LoginRequired,
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/me/notifications")]
pub(super) async fn my_notifications(
    service: Service,
    caller: Caller,
    params: web::Query<NotificationListParams>,
) -> AppResult<web::Json<Page<Notification>>> {
    let query = NotificationQuery::parse(params.into_inner(), caller.id)?;
    Ok(web::Json(call(service, move |s| s.notifications(&caller, &query)).await?))
}

/// Mark notifications read: `{"ids": [...]}` or `{"all": true}`.
///
/// Ids that are not the caller's notifications (another user's, or unknown) are ignored,
/// so the answer tells nothing about other users; a notification already read keeps its
/// first `read_at`, so repeating a request changes nothing.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    request_body = MarkNotificationsRead,
    responses(
        (status = 204, description = "Marked read"),
        JsonBodyErrors,
        LoginRequired,
        (status = 422, description = "Neither or both of `ids` and `all`, `all` not true, or bad ids (each one named)",
            body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/me/notifications/read")]
pub(super) async fn mark_notifications_read(
    service: Service,
    caller: Caller,
    body: Json<MarkNotificationsRead>,
) -> AppResult<HttpResponse> {
    call(service, move |s| s.mark_notifications_read(&caller, body.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The `event:` of every event of `GET /me/events` (an enum of one value, so a generated
/// client can switch on it as on a team stream's actions).
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Documentation only.
enum NotificationEventName {
    Notification,
}

/// One event of the notification stream as an SSE parser hands it over (the schema of
/// each event of `GET /me/events`; the stream itself is `text/event-stream`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // Documentation only: the stream writes these fields as SSE lines.
struct NotificationEvent {
    /// The notification's id; send it back as `Last-Event-ID` to resume after it.
    #[schema(format = Uuid)]
    id: String,
    /// Always `notification`.
    event: NotificationEventName,
    /// The notification as JSON (a `Notification`).
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// The caller's new notifications as Server-Sent Events, as they commit.
///
/// Each event has `id:` the notification id, `event: notification` and `data:` the
/// notification as JSON; a `: keep-alive` comment goes out every 15 s. `Last-Event-ID`
/// (or `last_event_id`) replays what was missed first, with nothing skipped or repeated.
/// The stream ends when the token it was opened with is revoked or expires, and at server
/// shutdown. Authenticate with `Authorization: Bearer` or, from a browser, `?ticket=`
/// (`HEAD` checks a ticket without using it up). It counts towards the caller's stream
/// limit together with the caller's team streams; past it the answer is 429.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(EventParams,
           ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = NotificationEvent),
        (status = 401, description = "Not logged in, or a used/expired ticket", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A Last-Event-ID that is no event id of this stream", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many open streams (of the caller or the server)", body = Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before opening a stream again"))),
    ))]
#[get("/me/events")]
#[allow(clippy::too_many_arguments)] // each is an extractor
pub(super) async fn my_events(
    req: HttpRequest,
    service: Service,
    caller: Caller,
    owner: StreamOwner,
    params: web::Query<EventParams>,
    shutdown: web::Data<Shutdown>,
    streams: web::Data<Streams>,
) -> AppResult<HttpResponse> {
    let resume = resume_point(&req, params.last_event_id.as_deref())?;
    // The place first (one quota with the caller's team streams), held while it lives.
    let permit = streams.into_inner().admit(&owner, None)?;
    let watch = call(service, move |s| s.watch_notifications(&caller, resume)).await?;
    let ends = permit.until_ended_or(shutdown.get_ref().clone());
    Ok(sse_response(events(watch), ends, HEARTBEAT))
}
