//! Project routes: create, list, read, update (archive, restore) and delete projects.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{created, Json};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired};
use core_models::pagination::IdPaging;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{call, Service};
use crate::model::{NamedChanges, NewTeam, Project, Team};

/// Create a project (admins).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Team id")),
    request_body = NewTeam,
    responses(
        (status = 201, description = "Created", body = Project, headers(("Location" = String, description = "URL of the project"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams/{id}/projects")]
pub(super) async fn create_project(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    body: Json<NewTeam>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let project = call(service, move |s| s.create_project(&caller, id, body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/projects/{}", project.id), &project))
}

/// The query string of `GET /teams/{id}/projects`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectListParams {
    /// `true`: only archived projects; `false`: only the others; absent: both.
    #[param(value_type = Option<bool>)]
    pub archived: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many projects match over all pages (exact up to 10,000;
    /// past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// A team's projects, oldest first (members); `archived=true|false` keeps one kind.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), ProjectListParams),
    responses(
        (status = 200, description = "One page of projects", body = Page<Project>),
        LoginRequired,
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/projects")]
pub(super) async fn list_projects(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    params: web::Query<ProjectListParams>,
) -> AppResult<web::Json<Page<Project>>> {
    let id = id.into_inner().uuid();
    let params = params.into_inner();
    let archived = params.archived.as_deref().map(|raw| core_models::params::boolean("archived", raw)).transpose();
    // Cursors are bound to the team and the filter; every bad parameter is named at once.
    let key = archived.as_ref().ok().copied().flatten();
    let (limit, cursor, count) = (params.limit.as_deref(), params.cursor.as_deref(), params.count.as_deref());
    let paging = match key {
        // Unfiltered, the binding is what it was before the filter existed: cursors keep working.
        None => IdPaging::parse("team-projects", &id, limit, cursor, count),
        Some(archived) => IdPaging::parse("team-projects", &(id, archived), limit, cursor, count),
    };
    let (archived, paging) = match (archived, paging) {
        (Ok(archived), Ok(paging)) => (archived, paging),
        (Err(bad), Ok(_)) => return Err(bad.into()),
        (Ok(_), Err(e)) => return Err(e),
        (Err(bad), Err(core_models::AppError::Validation(mut errors))) => {
            errors.insert(0, bad);
            return Err(core_models::AppError::Validation(errors));
        }
        (Err(_), Err(e)) => return Err(e),
    };
    Ok(web::Json(call(service, move |s| s.projects(&caller, id, archived, &paging)).await?))
}

/// One project (members).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project", body = Project),
        LoginRequired,
        (status = 404, description = "No such project, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/projects/{id}")]
pub(super) async fn get_project(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Project>>,
) -> AppResult<web::Json<Project>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.project(&caller, id)).await?))
}

/// Rename, describe, archive or restore a project (admins).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Project id")),
    request_body = NamedChanges,
    responses(
        (status = 200, description = "The project", body = Project),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/projects/{id}")]
pub(super) async fn update_project(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Project>>,
    body: Json<NamedChanges>,
) -> AppResult<web::Json<Project>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.update_project(&caller, id, body.into_inner())).await?))
}

/// Delete a project with its tasks (admins).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Project id")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/projects/{id}")]
pub(super) async fn delete_project(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Project>>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_project(&caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
