//! Team routes: create, list the caller's teams, read, update and delete a team.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{created, Json};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired};
use core_models::pagination::IdPagingParams;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};

use super::{call, Service};
use crate::model::{NewTeam, Team, TeamChanges};

/// Create a team; the caller becomes its first admin.
#[utoipa::path(tag = "projects", security(("bearer" = [])), request_body = NewTeam,
    responses(
        (status = 201, description = "Created", body = Team, headers(("Location" = String, description = "URL of the team"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams")]
pub(super) async fn create_team(service: Service, caller: Caller, body: Json<NewTeam>) -> AppResult<HttpResponse> {
    let team = call(service, move |s| s.create_team(&caller, body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/teams/{}", team.id), &team))
}

/// The caller's teams, oldest first.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(IdPagingParams),
    responses(
        (status = 200, description = "One page of teams", body = Page<Team>),
        LoginRequired,
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams")]
pub(super) async fn my_teams(
    service: Service,
    caller: Caller,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<Team>>> {
    let paging = params.into_inner().parse("my-teams", &caller.id)?;
    Ok(web::Json(call(service, move |s| s.my_teams(&caller, &paging)).await?))
}

/// One team (members; others get 404).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "The team", body = Team),
        LoginRequired,
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}")]
pub(super) async fn get_team(service: Service, caller: Caller, id: web::Path<Id<Team>>) -> AppResult<web::Json<Team>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.team(&caller, id)).await?))
}

/// Rename or describe a team (admins).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    request_body = TeamChanges,
    responses(
        (status = 200, description = "The team", body = Team),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/teams/{id}")]
pub(super) async fn update_team(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    body: Json<TeamChanges>,
) -> AppResult<web::Json<Team>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.update_team(&caller, id, body.into_inner().into())).await?))
}

/// Delete a team with everything in it (admins).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/teams/{id}")]
pub(super) async fn delete_team(service: Service, caller: Caller, id: web::Path<Id<Team>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_team(&caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
