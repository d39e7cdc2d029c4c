//! The tasks routes: parse and check the request, call the [`TaskService`] on the blocking
//! pool, shape the response. No business rules live here.

use std::sync::Arc;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{blocking, created, Json};
use core_models::id::Id;
use core_models::openapi::JsonBodyErrors;
use core_models::{time, AppResult, Page, Problem, API_BASE};
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

/// Create a task.
#[utoipa::path(
    tag = "tasks",
    request_body = NewTask,
    responses(
        (status = 201, description = "Created", body = Task,
            headers(("Location" = String, description = "URL of the new task"))),
        JsonBodyErrors,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tasks")]
async fn create_task(tasks: Tasks, body: Json<NewTask>) -> AppResult<HttpResponse> {
    let tasks = tasks.into_inner();
    let task = blocking(move || tasks.create(body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/tasks/{}", task.id), &task))
}

/// List tasks, newest first unless `sort` says otherwise, filtered by every given parameter.
#[utoipa::path(
    tag = "tasks",
    params(ListTasksParams),
    responses(
        (status = 200, description = "One page of tasks", body = Page<Task>),
        (status = 422, description = "A bad parameter (each one is named in `errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tasks")]
async fn list_tasks(tasks: Tasks, params: web::Query<ListTasksParams>) -> AppResult<web::Json<Page<Task>>> {
    let query = ListTasks::parse(params.into_inner())?;
    let tasks = tasks.into_inner();
    Ok(web::Json(blocking(move || tasks.list(&query)).await?))
}

/// Progress over time: tasks per status, overdue tasks, and completions per day or week.
///
/// Defaults: the 30 days up to today (UTC), daily buckets. Weekly buckets run Monday to
/// Sunday and always cover whole weeks. At most 1000 buckets.
#[utoipa::path(
    tag = "tasks",
    params(TaskStatsParams),
    responses(
        (status = 200, description = "The stats", body = TaskStats),
        (status = 422, description = "Bad date or bucket, from after to, or over 1000 buckets", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tasks/stats")]
async fn task_stats(tasks: Tasks, params: web::Query<TaskStatsParams>) -> AppResult<web::Json<TaskStats>> {
    let query = TaskStatsQuery::parse(params.into_inner(), time::now().date_naive())?;
    let tasks = tasks.into_inner();
    Ok(web::Json(blocking(move || tasks.stats(&query)).await?))
}

/// One task.
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, description = "The task", body = Task),
        (status = 404, description = "No such task", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tasks/{id}")]
async fn get_task(tasks: Tasks, id: web::Path<Id<Task>>) -> AppResult<web::Json<Task>> {
    let id = id.into_inner().uuid();
    let tasks = tasks.into_inner();
    Ok(web::Json(blocking(move || tasks.get(id)).await?))
}

/// Change any field; absent fields stay, `null` clears `description` and `due_date`.
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    request_body = TaskChanges,
    responses(
        (status = 200, description = "The task after the change", body = Task),
        JsonBodyErrors,
        (status = 404, description = "No such task", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tasks/{id}")]
async fn update_task(tasks: Tasks, id: web::Path<Id<Task>>, body: Json<TaskChanges>) -> AppResult<web::Json<Task>> {
    let id = id.into_inner().uuid();
    let tasks = tasks.into_inner();
    Ok(web::Json(blocking(move || tasks.update(id, body.into_inner())).await?))
}

/// Delete a task.
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such task", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tasks/{id}")]
async fn delete_task(tasks: Tasks, id: web::Path<Id<Task>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let tasks = tasks.into_inner();
    blocking(move || tasks.delete(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
