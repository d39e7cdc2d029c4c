//! Member routes: list a team's members, add one, change a role, remove or leave.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{created, Json};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired};
use core_models::pagination::IdPaging;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{call, Service};
use crate::model::{Member, MemberChanges, NewMember, Team, UserMarker};

/// The query string of `GET /teams/{id}/members`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberListParams {
    /// Only members whose display name starts with this text, ignoring case (ASCII
    /// letters); at most 200 characters. For an assignee picker.
    #[param(example = "ada")]
    pub q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many members match over all pages (exact up to 10,000;
    /// past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// The members of a team, in user-id order (members); `q` keeps those whose display name
/// starts with it, ignoring case.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), MemberListParams),
    responses(
        (status = 200, description = "One page of members", body = Page<Member>),
        LoginRequired,
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/members")]
pub(super) async fn list_members(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    params: web::Query<MemberListParams>,
) -> AppResult<web::Json<Page<Member>>> {
    let id = id.into_inner().uuid();
    let params = params.into_inner();
    let prefix = match params.q.as_deref() {
        Some(raw) => core_models::params::search_text("q", raw, 200).map_err(core_models::AppError::from)?,
        None => None,
    };
    // The cursor is bound to the team and the search (without one, as before searches
    // existed, so cursors of the plain list keep working).
    let (limit, cursor, count) = (params.limit.as_deref(), params.cursor.as_deref(), params.count.as_deref());
    let paging = match &prefix {
        None => IdPaging::parse("team-members", &id, limit, cursor, count)?,
        Some(p) => IdPaging::parse("team-members", &(id, p.to_ascii_lowercase()), limit, cursor, count)?,
    };
    Ok(web::Json(call(service, move |s| s.members(&caller, id, prefix.as_deref(), &paging)).await?))
}

/// Add a user to the team (admins).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added", body = Member, headers(("Location" = String, description = "URL of the membership"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown user or role", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams/{id}/members")]
pub(super) async fn add_member(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    body: Json<NewMember>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let member = call(service, move |s| s.add_member(&caller, id, body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/teams/{id}/members/{}", member.user.id), &member))
}

/// Change a member's role (admins); the last admin cannot be demoted (409).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), ("user_id" = String, Path, description = "Member's user id")),
    request_body = MemberChanges,
    responses(
        (status = 200, description = "The member", body = Member),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The team would have no admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown role", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/teams/{id}/members/{user_id}")]
pub(super) async fn change_role(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Team>, Id<UserMarker>)>,
    body: Json<MemberChanges>,
) -> AppResult<web::Json<Member>> {
    let (team, user) = path.into_inner();
    let (team, user) = (team.uuid(), user.uuid());
    Ok(web::Json(call(service, move |s| s.change_role(&caller, team, user, body.into_inner())).await?))
}

/// Remove a member (admins), or leave the team (the member itself). Their tasks in the
/// team are unassigned; the last admin cannot leave (409).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), ("user_id" = String, Path, description = "Member's user id")),
    responses(
        (status = 204, description = "Removed"),
        LoginRequired,
        (status = 403, description = "Not an admin (and not oneself)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The team would have no admin", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/teams/{id}/members/{user_id}")]
pub(super) async fn remove_member(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Team>, Id<UserMarker>)>,
) -> AppResult<HttpResponse> {
    let (team, user) = path.into_inner();
    let (team, user) = (team.uuid(), user.uuid());
    call(service, move |s| s.remove_member(&caller, team, user)).await?;
    Ok(HttpResponse::NoContent().finish())
}
