//! Activity routes: the team's and a task's activity feeds, and the team's live event
//! stream (Server-Sent Events).

use activity_log::stream::{resume_point, team_stream};
use activity_log::{ActivityEntry, FeedParams, FeedQuery};
use actix_web::{get, web, HttpRequest, HttpResponse};
use core_models::id::Id;
use core_models::openapi::LoginRequired;
use core_models::sse::{Shutdown, HEARTBEAT};
use core_models::streams::{StreamOwner, Streams};
use core_models::{AppResult, Caller, Page, Problem};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{call, Service};
use crate::model::{Project, ProjectTask, Team};

/// The team's activity, newest first (members).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), FeedParams),
    responses(
        (status = 200, description = "One page of entries", body = Page<ActivityEntry>),
        LoginRequired,
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/activity")]
pub(super) async fn team_activity(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    params: web::Query<FeedParams>,
) -> AppResult<web::Json<Page<ActivityEntry>>> {
    let (id, mut query) = (id.into_inner().uuid(), FeedQuery::parse(params.into_inner())?);
    query.page.bind("team", &id);
    Ok(web::Json(call(service, move |s| s.team_activity(&caller, id, &query)).await?))
}

/// One task's activity, newest first (members); a deleted task keeps its history.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"), FeedParams),
    responses(
        (status = 200, description = "One page of entries", body = Page<ActivityEntry>),
        LoginRequired,
        (status = 404, description = "No such project, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/projects/{id}/tasks/{task_id}/activity")]
pub(super) async fn task_activity(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>)>,
    params: web::Query<FeedParams>,
) -> AppResult<web::Json<Page<ActivityEntry>>> {
    let (project, task) = path.into_inner();
    let (project, task, mut query) = (project.uuid(), task.uuid(), FeedQuery::parse(params.into_inner())?);
    query.page.bind("task", &(project, task));
    Ok(web::Json(call(service, move |s| s.task_activity(&caller, project, task, &query)).await?))
}

/// The query of the event stream.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// A stream ticket from `POST /api/v1/auth/stream-tickets`, for browsers'
    /// `EventSource` (which cannot send `Authorization`). Single use, 60 seconds.
    pub ticket: Option<String>,
    /// Resume after this event id (for a new `EventSource`; a reconnecting one sends the
    /// `Last-Event-ID` header, which wins).
    pub last_event_id: Option<String>,
}

/// One event of the team stream as an SSE parser hands it over (the schema of each event
/// of `GET /teams/{id}/events`; the stream itself is `text/event-stream`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // Documentation only: the stream writes these fields as SSE lines.
struct TeamEvent {
    /// The activity entry's id; send it back as `Last-Event-ID` to resume after it.
    #[schema(format = Uuid)]
    id: String,
    /// The entry's action, e.g. `task.updated`.
    #[schema(value_type = activity_log::ActivityAction, example = "task.updated")]
    event: String,
    /// The activity entry as JSON (an `ActivityEntry`).
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// The team's activity as Server-Sent Events, as entries commit (members).
///
/// Each event has `id:` the entry id, `event:` its action and `data:` the entry as JSON;
/// a `: keep-alive` comment goes out every 15 s. `Last-Event-ID` (or `last_event_id`)
/// replays what was missed first, with nothing skipped or repeated. The stream ends when
/// the caller leaves or is removed from the team, when the team is deleted, when the
/// token it was opened with is revoked or expires, and at server shutdown. Authenticate
/// with `Authorization: Bearer` or, from a browser, `?ticket=` (`HEAD` checks a ticket
/// without using it up).
///
/// Streams are limited per user (over all teams), per team and per server; past a limit
/// the answer is 429 with `Retry-After`. A closed connection frees its place at once.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), EventParams,
           ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = TeamEvent),
        (status = 401, description = "Not logged in, or a used/expired ticket", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A Last-Event-ID that is no event id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many open streams (of the caller, the team or the server)", body = Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before opening a stream again"))),
    ))]
#[get("/teams/{id}/events")]
#[allow(clippy::too_many_arguments)] // each is an extractor
pub(super) async fn team_events(
    req: HttpRequest,
    service: Service,
    caller: Caller,
    owner: StreamOwner,
    id: web::Path<Id<Team>>,
    params: web::Query<EventParams>,
    shutdown: web::Data<Shutdown>,
    streams: web::Data<Streams>,
) -> AppResult<HttpResponse> {
    let team = id.into_inner().uuid();
    let resume = resume_point(&req, params.last_event_id.as_deref())?;
    // A place first: refused streams cost nothing more, and the place is held (and the
    // session's revocation watched) for as long as the stream lives.
    let permit = streams.into_inner().admit(&owner, Some(team))?;
    let me = caller.id;
    let ends_my_access = move |entry: &ActivityEntry| {
        entry.action == "team.deleted"
            || (entry.action == "member.removed" && entry.details["user_id"] == serde_json::json!(me))
    };
    let watch = call(service, move |s| s.watch(&caller, team, resume)).await?;
    let ends = permit.until_ended_or(shutdown.get_ref().clone());
    Ok(team_stream(watch, ends, HEARTBEAT, ends_my_access))
}
