//! The team-projects routes: parse the request, call the [`ProjectService`] as the caller
//! on the blocking pool, shape the response. No rules live here.

use std::sync::Arc;

use activity_log::stream::{resume_point, team_stream};
use activity_log::{ActivityEntry, FeedParams, FeedQuery};
use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use core_models::http::Tagged;
use core_models::http::{blocking, blocking_search, created, Json};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired, StaleVersion};
use core_models::pagination::{IdPaging, IdPagingParams};
use core_models::sse::{Shutdown, HEARTBEAT};
use core_models::streams::{StreamOwner, Streams};
use core_models::version::IfMatch;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::list::{ListProjectTasks, ListProjectTasksParams, MyTasksParams, ProjectTaskListParams, Scope};
use crate::model::{
    Invite, Member, MemberChanges, NamedChanges, NewInvite, NewMember, NewProjectTask, NewTeam, OpenInvite, Project,
    ProjectTask, ProjectTaskChanges, TaskComment, TaskCommentBody, Team, TeamChanges, UserMarker,
};
use crate::ProjectService;

type Service = web::Data<dyn ProjectService>;

/// Mounts the routes (relative to the API base) with `service` behind them.
pub fn configure(service: Arc<dyn ProjectService>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(service))
            .service(create_team)
            .service(my_teams)
            .service(get_team)
            .service(update_team)
            .service(delete_team)
            .service(list_members)
            .service(add_member)
            .service(change_role)
            .service(remove_member)
            .service(create_invite)
            .service(list_invites)
            .service(revoke_invite)
            .service(accept_invite)
            .service(create_project)
            .service(list_projects)
            .service(team_tasks)
            .service(my_tasks)
            .service(team_activity)
            .service(team_events)
            .service(get_project)
            .service(update_project)
            .service(delete_project)
            .service(create_project_task)
            .service(list_project_tasks)
            .service(get_project_task)
            .service(update_project_task)
            .service(delete_project_task)
            .service(task_activity)
            .service(create_comment)
            .service(list_comments)
            .service(update_comment)
            .service(delete_comment);
    }
}

/// Calls the service on the blocking pool.
async fn call<T: Send + 'static>(
    service: Service,
    f: impl FnOnce(&dyn ProjectService) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let service = service.into_inner();
    blocking(move || f(service.as_ref())).await
}

/// A task list on the blocking pool; a search first waits for its turn (`blocking_search`).
async fn list_tasks(
    service: Service,
    caller: Caller,
    query: ListProjectTasks,
) -> AppResult<web::Json<Page<ProjectTask>>> {
    let service = service.into_inner();
    let searching = query.filter.search.is_some();
    let list = move || service.tasks(&caller, &query);
    Ok(web::Json(if searching { blocking_search(list).await? } else { blocking(list).await? }))
}

// ---- teams ----

/// Create a team; the caller becomes its first admin.
#[utoipa::path(tag = "projects", security(("bearer" = [])), request_body = NewTeam,
    responses(
        (status = 201, description = "Created", body = Team, headers(("Location" = String, description = "URL of the team"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/teams")]
async fn create_team(service: Service, caller: Caller, body: Json<NewTeam>) -> AppResult<HttpResponse> {
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
async fn my_teams(
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
async fn get_team(service: Service, caller: Caller, id: web::Path<Id<Team>>) -> AppResult<web::Json<Team>> {
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
async fn update_team(
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
async fn delete_team(service: Service, caller: Caller, id: web::Path<Id<Team>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_team(&caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- members and invites ----

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
async fn list_members(
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
async fn add_member(
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
async fn change_role(
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
async fn remove_member(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Team>, Id<UserMarker>)>,
) -> AppResult<HttpResponse> {
    let (team, user) = path.into_inner();
    let (team, user) = (team.uuid(), user.uuid());
    call(service, move |s| s.remove_member(&caller, team, user)).await?;
    Ok(HttpResponse::NoContent().finish())
}

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
async fn create_invite(
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
async fn list_invites(
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
async fn revoke_invite(
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
async fn accept_invite(service: Service, caller: Caller, code: web::Path<String>) -> AppResult<web::Json<Team>> {
    let code = code.into_inner();
    Ok(web::Json(call(service, move |s| s.accept_invite(&caller, code)).await?))
}

// ---- projects ----

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
async fn create_project(
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
async fn list_projects(
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
async fn get_project(service: Service, caller: Caller, id: web::Path<Id<Project>>) -> AppResult<web::Json<Project>> {
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
async fn update_project(
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
async fn delete_project(service: Service, caller: Caller, id: web::Path<Id<Project>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_project(&caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- tasks ----

/// Create a task (members); an assignee must be a member (422).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Project id")),
    request_body = NewProjectTask,
    responses(
        (status = 201, description = "Created", body = ProjectTask, headers(
            ("Location" = String, description = "URL of the task"), ("ETag" = String, description = "`\"<version>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such project, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or an assignee who is not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/projects/{id}/tasks")]
async fn create_project_task(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Project>>,
    body: Json<NewProjectTask>,
) -> AppResult<Tagged<ProjectTask>> {
    let id = id.into_inner().uuid();
    let task = call(service, move |s| s.create_task(&caller, id, body.into_inner())).await?;
    Ok(Tagged::created(format!("{API_BASE}/projects/{id}/tasks/{}", task.id), task))
}

/// A project's tasks, filtered and sorted (members).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ProjectTaskListParams),
    responses(
        (status = 200, description = "One page of tasks", body = Page<ProjectTask>),
        LoginRequired,
        (status = 404, description = "No such project, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/projects/{id}/tasks")]
async fn list_project_tasks(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Project>>,
    params: web::Query<ProjectTaskListParams>,
) -> AppResult<web::Json<Page<ProjectTask>>> {
    let query = ListProjectTasks::parse(params.into_inner().into(), Scope::Project(id.into_inner().uuid()), caller.id)?;
    list_tasks(service, caller, query).await
}

/// Every task of the team across its projects, with the same filters plus `project_id`.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id"), ListProjectTasksParams),
    responses(
        (status = 200, description = "One page of tasks", body = Page<ProjectTask>),
        LoginRequired,
        (status = 404, description = "No such team, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/teams/{id}/tasks")]
async fn team_tasks(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Team>>,
    params: web::Query<ListProjectTasksParams>,
) -> AppResult<web::Json<Page<ProjectTask>>> {
    let query = ListProjectTasks::parse(params.into_inner(), Scope::Team(id.into_inner().uuid()), caller.id)?;
    list_tasks(service, caller, query).await
}

/// "My work": the tasks of every team the caller belongs to, with a team list's filters
/// and sorts plus `team_id`; `assignee=me` keeps the caller's own. Tasks of archived
/// projects are left out unless `include_archived=true`.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(MyTasksParams),
    responses(
        (status = 200, description = "One page of tasks", body = Page<ProjectTask>),
        LoginRequired,
        (status = 404, description = "`team_id` or `project_id` names a team the caller is not in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/me/tasks")]
async fn my_tasks(
    service: Service,
    caller: Caller,
    params: web::Query<MyTasksParams>,
) -> AppResult<web::Json<Page<ProjectTask>>> {
    let query = ListProjectTasks::parse_mine(params.into_inner(), caller.id)?;
    list_tasks(service, caller, query).await
}

/// One task, with its `ETag` (members).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before: 304 while it is current")),
    responses(
        (status = 200, description = "The task", body = ProjectTask, headers(("ETag" = String, description = "`\"<version>\"`"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current version (no body)"),
        LoginRequired,
        (status = 404, description = "No such project or task, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/projects/{id}/tasks/{task_id}")]
async fn get_project_task(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>)>,
) -> AppResult<Tagged<ProjectTask>> {
    let (project, task) = path.into_inner();
    let (project, task) = (project.uuid(), task.uuid());
    Ok(Tagged::ok(call(service, move |s| s.task(&caller, project, task)).await?))
}

/// Change a task (members). `If-Match: "<version>"` makes it conditional: 412 when the
/// task has moved on.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen, e.g. `\"3\"`")),
    request_body = ProjectTaskChanges,
    responses(
        (status = 200, description = "The task after the change", body = ProjectTask, headers(("ETag" = String, description = "`\"<version>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such project or task, or not a member", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid fields, or an assignee who is not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/projects/{id}/tasks/{task_id}")]
async fn update_project_task(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>)>,
    expected: IfMatch,
    body: Json<ProjectTaskChanges>,
) -> AppResult<Tagged<ProjectTask>> {
    let (project, task) = path.into_inner();
    let (project, task) = (project.uuid(), task.uuid());
    Ok(Tagged::ok(call(service, move |s| s.update_task(&caller, project, task, body.into_inner(), expected)).await?))
}

/// Delete a task (members), honouring `If-Match`.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen, e.g. `\"3\"`")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 404, description = "No such project or task, or not a member", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    ))]
#[delete("/projects/{id}/tasks/{task_id}")]
async fn delete_project_task(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>)>,
    expected: IfMatch,
) -> AppResult<HttpResponse> {
    let (project, task) = path.into_inner();
    let (project, task) = (project.uuid(), task.uuid());
    call(service, move |s| s.delete_task(&caller, project, task, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- comments ----

/// Comment on a task (members).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id")),
    request_body = TaskCommentBody,
    responses(
        (status = 201, description = "Created", body = TaskComment, headers(("Location" = String, description = "URL of the comment"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such project or task, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long body", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/projects/{id}/tasks/{task_id}/comments")]
async fn create_comment(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>)>,
    body: Json<TaskCommentBody>,
) -> AppResult<HttpResponse> {
    let (project, task) = path.into_inner();
    let (project, task) = (project.uuid(), task.uuid());
    let comment = call(service, move |s| s.create_comment(&caller, project, task, body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/projects/{project}/tasks/{task}/comments/{}", comment.id), &comment))
}

/// A task's comments, oldest first (members).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of comments", body = Page<TaskComment>),
        LoginRequired,
        (status = 404, description = "No such project or task, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/projects/{id}/tasks/{task_id}/comments")]
async fn list_comments(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>)>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<TaskComment>>> {
    let (project, task) = path.into_inner();
    let (project, task) = (project.uuid(), task.uuid());
    let paging = params.into_inner().parse("task-comments", &(project, task))?;
    Ok(web::Json(call(service, move |s| s.comments(&caller, project, task, &paging)).await?))
}

/// Edit a comment (its author; others get 403).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"),
           ("comment_id" = String, Path, description = "Comment id")),
    request_body = TaskCommentBody,
    responses(
        (status = 200, description = "The comment", body = TaskComment),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project, task or comment, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long body", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/projects/{id}/tasks/{task_id}/comments/{comment_id}")]
async fn update_comment(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>, Id<TaskComment>)>,
    body: Json<TaskCommentBody>,
) -> AppResult<web::Json<TaskComment>> {
    let (project, task, comment) = path.into_inner();
    let (project, task, comment) = (project.uuid(), task.uuid(), comment.uuid());
    Ok(web::Json(call(service, move |s| s.update_comment(&caller, project, task, comment, body.into_inner())).await?))
}

/// Delete a comment (its author or an admin; others get 403).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"),
           ("comment_id" = String, Path, description = "Comment id")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 403, description = "Neither the author nor an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project, task or comment, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/projects/{id}/tasks/{task_id}/comments/{comment_id}")]
async fn delete_comment(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>, Id<TaskComment>)>,
) -> AppResult<HttpResponse> {
    let (project, task, comment) = path.into_inner();
    let (project, task, comment) = (project.uuid(), task.uuid(), comment.uuid());
    call(service, move |s| s.delete_comment(&caller, project, task, comment)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- activity and events ----

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
async fn team_activity(
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
async fn task_activity(
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
    /// Resume after this entry id (for a new `EventSource`; a reconnecting one sends the
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
async fn team_events(
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
