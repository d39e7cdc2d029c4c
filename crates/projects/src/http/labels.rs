//! Label routes: a team's labels (create, list) and one label (read, rename or recolour,
//! delete).

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{Json, Tagged};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired, StaleVersion};
use core_models::pagination::IdPagingParams;
use core_models::version::IfMatch;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};

use super::{call, Service};
use crate::labels::{Label, LabelChanges, NewLabel};
use crate::model::Team;

/// Create a label in a team (members). Names are unique in the team, ignoring case (409).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    request_body = NewLabel,
    responses(
        (status = 201, description = "Created", body = Label, headers(
            ("Location" = String, description = "URL of the label"), ("ETag" = String, description = "`\"<version>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The team has a label of this name (ignoring case)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or colour", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams/{id}/labels")]
pub(super) async fn create_label(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    body: Json<NewLabel>,
) -> AppResult<Tagged<Label>> {
    let id = id.into_inner().uuid();
    let label = call(service, move |s| s.create_label(&caller, id, body.into_inner())).await?;
    Ok(Tagged::created(format!("{API_BASE}/labels/{}", label.id), label))
}

/// A team's labels by name, ignoring case (members); keyset paged on the name.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of labels", body = Page<Label>),
        LoginRequired,
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/labels")]
pub(super) async fn list_labels(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<Label>>> {
    let id = id.into_inner().uuid();
    let paging = params.into_inner().parse("team-labels", &id)?;
    Ok(web::Json(call(service, move |s| s.labels(&caller, id, &paging)).await?))
}

/// One label, with its `ETag` (members of its team).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Label id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before: 304 while it is current")),
    responses(
        (status = 200, description = "The label", body = Label, headers(("ETag" = String, description = "`\"<version>\"`"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current version (no body)"),
        LoginRequired,
        (status = 404, description = "No such label, or not a member of its team", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/labels/{id}")]
pub(super) async fn get_label(service: Service, caller: Caller, id: web::Path<Id<Label>>) -> AppResult<Tagged<Label>> {
    let id = id.into_inner().uuid();
    Ok(Tagged::ok(call(service, move |s| s.label(&caller, id)).await?))
}

/// Rename or recolour a label (members); every task carrying it shows the change (their
/// versions move). `If-Match` makes it conditional.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Label id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen, e.g. `\"3\"`")),
    request_body = LabelChanges,
    responses(
        (status = 200, description = "The label after the change", body = Label, headers(("ETag" = String, description = "`\"<version>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such label, or not a member of its team", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The team has another label of this name (ignoring case)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid name or colour", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/labels/{id}")]
pub(super) async fn update_label(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Label>>,
    expected: IfMatch,
    body: Json<LabelChanges>,
) -> AppResult<Tagged<Label>> {
    let id = id.into_inner().uuid();
    Ok(Tagged::ok(call(service, move |s| s.update_label(&caller, id, body.into_inner(), expected)).await?))
}

/// Delete a label (members): the tasks carrying it lose it. Honours `If-Match`.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Label id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen, e.g. `\"3\"`")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 404, description = "No such label, or not a member of its team", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    ))]
#[delete("/labels/{id}")]
pub(super) async fn delete_label(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Label>>,
    expected: IfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_label(&caller, id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
