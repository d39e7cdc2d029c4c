//! Invite routes: create, list and revoke a team's invite codes, and accept one.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use core_models::http::Json;
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired};
use core_models::pagination::IdPagingParams;
use core_models::{AppResult, Caller, Page, Problem};

use super::{call, Service};
use crate::model::{Invite, NewInvite, OpenInvite, Team};

/// Create an invite code (admins): anyone holding it may join until it expires (7 days
/// by default) or is revoked. The code is shown only here.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    request_body = NewInvite,
    responses(
        (status = 201, description = "The invite", body = Invite),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad role or lifetime", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams/{id}/invites")]
pub(super) async fn create_invite(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    body: Json<NewInvite>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let invite = call(service, move |s| s.create_invite(&caller, id, body.into_inner())).await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(invite))
}

/// The team's open invites (neither expired nor revoked), oldest first (admins). The
/// codes are never shown again: revoke by id.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of open invites", body = Page<OpenInvite>),
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/invites")]
pub(super) async fn list_invites(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<OpenInvite>>> {
    let id = id.into_inner().uuid();
    let paging = params.into_inner().parse("team-invites", &id)?;
    Ok(web::Json(call(service, move |s| s.invites(&caller, id, &paging)).await?))
}

/// Revoke an open invite (admins), named by its `id` (the code, shown once at creation,
/// also still works).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"),
           ("invite_id" = String, Path, description = "The invite's id (or its code)")),
    responses(
        (status = 204, description = "Revoked"),
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or no such open invite in it", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/teams/{id}/invites/{invite_id}")]
pub(super) async fn revoke_invite(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Team>, String)>,
) -> AppResult<HttpResponse> {
    let (team, code) = path.into_inner();
    let team = team.uuid();
    call(service, move |s| s.revoke_invite(&caller, team, code)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Join a team with an invite code; accepting again changes nothing.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("code" = String, Path, description = "Invite code")),
    responses(
        (status = 200, description = "The team joined", body = Team),
        LoginRequired,
        (status = 404, description = "Unknown, expired or revoked code", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/invites/{code}/accept")]
pub(super) async fn accept_invite(
    service: Service,
    caller: Caller,
    code: web::Path<String>,
) -> AppResult<web::Json<Team>> {
    let code = code.into_inner();
    Ok(web::Json(call(service, move |s| s.accept_invite(&caller, code)).await?))
}
