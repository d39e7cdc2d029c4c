//! The tasks routes: parse and check the request, call the [`TaskService`] on the blocking
//! pool, shape the response. No business rules live here: the caller's [`Board`] and the
//! `If-Match` condition go to the service, which applies them.
//!
//! Every route works with or without a login (a token makes the tasks the caller's own).
//! Single tasks answer with `ETag: "<version>"`; `HEAD` is answered by the gateway, which
//! runs it as a `GET` and sends no body.

use std::sync::Arc;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{blocking, blocking_search, Json, Tagged};
use core_models::id::Id;
use core_models::openapi::{BadCredentials, JsonBodyErrors, StaleVersion};
use core_models::version::IfMatch;
use core_models::{time, AppResult, Board, Page, Problem, API_BASE};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::model::{NewTask, Task, TaskChanges};
use crate::query::{ListTasks, ListTasksParams};
use crate::stats::{TaskStats, TaskStatsParams, TaskStatsQuery};
use crate::TaskService;

type Tasks = web::Data<dyn TaskService>;

/// Mounts the tasks routes (relative to the API base) with `service` behind them.
pub fn configure(service: Arc<dyn TaskService>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(service))
            .service(create_task)
            .service(list_tasks)
            // Before `/tasks/{id}`, which would otherwise take `stats` for an id.
            .service(task_stats)
            .service(get_task)
            .service(update_task)
            .service(delete_task);
    }
}

/// Create a task (on the caller's board with a token, on the anonymous board without).
#[utoipa::path(
    tag = "tasks",
    request_body = NewTask,
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Task,
            headers(
                ("Location" = String, description = "URL of the new task"),
                ("ETag" = String, description = "`\"1\"`: the task's version"),
            )),
        JsonBodyErrors,
        BadCredentials,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tasks")]
async fn create_task(tasks: Tasks, board: Board, body: Json<NewTask>) -> AppResult<Tagged<Task>> {
    let tasks = tasks.into_inner();
    let task = blocking(move || tasks.create(board, body.into_inner())).await?;
    Ok(Tagged::created(format!("{API_BASE}/tasks/{}", task.id), task))
}

/// List the board's tasks, newest first unless `sort` says otherwise, filtered by every
/// given parameter. `HEAD` answers the same headers without the body.
#[utoipa::path(
    tag = "tasks",
    params(ListTasksParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of tasks", body = Page<Task>),
        BadCredentials,
        (status = 422, description = "A bad parameter (each one is named in `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tasks")]
async fn list_tasks(
    tasks: Tasks,
    board: Board,
    params: web::Query<ListTasksParams>,
) -> AppResult<web::Json<Page<Task>>> {
    let mut query = ListTasks::parse(params.into_inner())?;
    query.page.bind("board", &board);
    let searching = query.filter.search.is_some();
    let tasks = tasks.into_inner();
    let list = move || tasks.list(board, &query);
    Ok(web::Json(if searching { blocking_search(list).await? } else { blocking(list).await? }))
}

/// Progress over time on the board: tasks per status, overdue tasks, and completions per
/// day or week.
///
/// Defaults: the 30 days up to today (UTC), daily buckets. Weekly buckets run Monday to
/// Sunday and always cover whole weeks. At most 1000 buckets.
#[utoipa::path(
    tag = "tasks",
    params(TaskStatsParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The stats", body = TaskStats),
        BadCredentials,
        (status = 422, description = "Bad date or bucket, from after to, or over 1000 buckets", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tasks/stats")]
async fn task_stats(
    tasks: Tasks,
    board: Board,
    params: web::Query<TaskStatsParams>,
) -> AppResult<web::Json<TaskStats>> {
    let query = TaskStatsQuery::parse(params.into_inner(), time::now().date_naive())?;
    let tasks = tasks.into_inner();
    Ok(web::Json(blocking(move || tasks.stats(board, &query)).await?))
}

/// One task of the board; `If-None-Match` with its current `ETag` answers 304. `HEAD`
/// answers the same headers without the body.
#[utoipa::path(
    tag = "tasks",
    params(
        ("id" = String, Path, description = "Task id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before (`\"3\"`, `W/\"3\"` or `*`): 304 while it is current"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The task", body = Task,
            headers(("ETag" = String, description = "`\"<version>\"`"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current version (no body)",
            headers(("ETag" = String, description = "`\"<version>\"`"))),
        BadCredentials,
        (status = 404, description = "No such task on this board", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tasks/{id}")]
async fn get_task(tasks: Tasks, board: Board, id: web::Path<Id<Task>>) -> AppResult<Tagged<Task>> {
    let id = id.into_inner().uuid();
    let tasks = tasks.into_inner();
    Ok(Tagged::ok(blocking(move || tasks.get(board, id)).await?))
}

/// Change any field; absent fields stay, `null` clears `description` and `due_date`. A
/// real change moves `updated_at` and adds one to `version`. With `If-Match`, only while
/// the task is still at that version (else 412).
#[utoipa::path(
    tag = "tasks",
    params(
        ("id" = String, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on (`\"3\"`; `W/\"3\"` counts too; `*` is any): 412 if the task has changed since"),
    ),
    request_body = TaskChanges,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The task after the change", body = Task,
            headers(("ETag" = String, description = "`\"<version>\"` after the change"))),
        JsonBodyErrors,
        BadCredentials,
        (status = 404, description = "No such task on this board", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tasks/{id}")]
async fn update_task(
    tasks: Tasks,
    board: Board,
    id: web::Path<Id<Task>>,
    expected: IfMatch,
    body: Json<TaskChanges>,
) -> AppResult<Tagged<Task>> {
    let id = id.into_inner().uuid();
    let tasks = tasks.into_inner();
    Ok(Tagged::ok(blocking(move || tasks.update(board, id, body.into_inner(), expected)).await?))
}

/// Delete a task; with `If-Match`, only while it is still at that version (else 412).
#[utoipa::path(
    tag = "tasks",
    params(
        ("id" = String, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` last seen (`\"3\"`; `W/\"3\"` counts too; `*` is any): 412 if the task has changed since"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        BadCredentials,
        (status = 404, description = "No such task on this board", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    )
)]
#[delete("/tasks/{id}")]
async fn delete_task(
    tasks: Tasks,
    board: Board,
    id: web::Path<Id<Task>>,
    expected: IfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let tasks = tasks.into_inner();
    blocking(move || tasks.delete(board, id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
