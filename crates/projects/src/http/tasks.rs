//! Project task routes: create, list (per project, per team, the caller's own), read,
//! update, move and delete tasks.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::Tagged;
use core_models::http::{blocking, blocking_search, Json};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired, StaleVersion};
use core_models::version::IfMatch;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};

use super::{call, Service};
use crate::board::MoveProjectTask;
use crate::bulk::BulkTaskChanges;
use crate::list::{ListProjectTasks, ListProjectTasksParams, MyTasksParams, ProjectTaskListParams, Scope};
use crate::model::{NewProjectTask, Project, ProjectTask, ProjectTaskChanges, Team};

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

/// Create a task (members); an assignee must be a member (422).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = String, Path, description = "Project id")),
    request_body = NewProjectTask,
    responses(
        (status = 201, description = "Created", body = ProjectTask, headers(
            ("Location" = String, description = "URL of the task"), ("ETag" = String, description = "`\"<version>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such project, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an assignee who is not a member, or a label not of the team", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/projects/{id}/tasks")]
pub(super) async fn create_project_task(
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
pub(super) async fn list_project_tasks(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Project>>,
    params: web::Query<ProjectTaskListParams>,
) -> AppResult<web::Json<Page<ProjectTask>>> {
    let query = ListProjectTasks::parse(params.into_inner().into(), Scope::Project(id.into_inner().uuid()), caller.id)?;
    list_tasks(service, caller, query).await
}

/// Change up to 200 tasks of a project alike, all or none (members): each task gets its
/// own version bump and activity entries, as if changed one by one.
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    request_body = BulkTaskChanges,
    responses(
        (status = 200, description = "The tasks after the change, in the order of `ids`", body = Vec<ProjectTask>),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such project, or not a member; or an id that is not a task of the project (named)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The project is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid ids or changes (each one named): a label of another team, an assignee who is not a member", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/projects/{id}/tasks")]
pub(super) async fn update_project_tasks(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Project>>,
    body: Json<BulkTaskChanges>,
) -> AppResult<web::Json<Vec<ProjectTask>>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.update_tasks(&caller, id, body.into_inner())).await?))
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
pub(super) async fn team_tasks(
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
pub(super) async fn my_tasks(
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
pub(super) async fn get_project_task(
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
        (status = 409, description = "The project is archived", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid fields, an assignee who is not a member, or a label not of the team", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/projects/{id}/tasks/{task_id}")]
pub(super) async fn update_project_task(
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
        (status = 409, description = "The project is archived", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    ))]
#[delete("/projects/{id}/tasks/{task_id}")]
pub(super) async fn delete_project_task(
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

/// Move a task on the project's board (members): into the column of `status` (default:
/// its own), right after `after_id` or right before `before_id` (both: between those two
/// neighbours; neither: the top). Only the moved task is written; its `version` moves and
/// a `task.moved` entry records `{from: {status, position}, to: {status, position}}`.
/// `If-Match: "<version>"` makes it conditional (412 when the task has changed).
#[utoipa::path(tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("task_id" = String, Path, description = "Task id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen, e.g. `\"3\"`")),
    request_body = MoveProjectTask,
    responses(
        (status = 200, description = "The task in its new place", body = ProjectTask, headers(("ETag" = String, description = "`\"<version>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such project or task, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The project is archived (read only)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "A bad field, or a neighbour that is not in the target column of the project, is the task itself, or (`after_id` with `before_id`) is not next to the other", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/projects/{id}/tasks/{task_id}/move")]
pub(super) async fn move_project_task(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>)>,
    expected: IfMatch,
    body: Json<MoveProjectTask>,
) -> AppResult<Tagged<ProjectTask>> {
    let (project, task) = path.into_inner();
    let (project, task) = (project.uuid(), task.uuid());
    Ok(Tagged::ok(call(service, move |s| s.move_task(&caller, project, task, body.into_inner(), expected)).await?))
}
