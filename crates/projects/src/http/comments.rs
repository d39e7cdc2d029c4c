//! Comment routes: comment on a task, list, edit and delete comments.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{created, Json};
use core_models::id::Id;
use core_models::openapi::{JsonBodyErrors, LoginRequired};
use core_models::pagination::IdPagingParams;
use core_models::{AppResult, Caller, Page, Problem, API_BASE};

use super::{call, Service};
use crate::model::{Project, ProjectTask, TaskComment, TaskCommentBody};

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
pub(super) async fn create_comment(
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
pub(super) async fn list_comments(
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
pub(super) async fn update_comment(
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
pub(super) async fn delete_comment(
    service: Service,
    caller: Caller,
    path: web::Path<(Id<Project>, Id<ProjectTask>, Id<TaskComment>)>,
) -> AppResult<HttpResponse> {
    let (project, task, comment) = path.into_inner();
    let (project, task, comment) = (project.uuid(), task.uuid(), comment.uuid());
    call(service, move |s| s.delete_comment(&caller, project, task, comment)).await?;
    Ok(HttpResponse::NoContent().finish())
}
