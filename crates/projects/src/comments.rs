//! Comments on tasks: functions on an open connection.

use activity_log::{ActivityLog, Details, NewEntry};
use core_models::pagination::IdPaging;
use core_models::{id, time, AppError, AppResult, Caller, Page, UserRef};
use diesel::prelude::*;
use storage::names::People;
use storage::schema::task_comments;
use storage::{DbConn, Tx};
use uuid::Uuid;

use crate::access::{task_access, task_write_access};
use crate::model::{Role, TaskComment, TaskCommentBody};

/// A comment as stored, with the version of display names it was read at (its author's
/// name comes from memory: [`storage::names`]).
pub(crate) type CommentRow = (String, String, String, i64, String, i64, i64);

fn comment_of(row: CommentRow, mentions: Vec<UserRef>, people: &People) -> AppResult<TaskComment> {
    Ok(TaskComment {
        id: id::from_stored("task_comments.id", &row.0)?,
        task_id: id::from_stored("task_comments.task_id", &row.1)?,
        author: people.user("task_comments.author_id", id::from_stored("task_comments.author_id", &row.2)?)?,
        body: row.4,
        created_at: time::from_millis(row.5),
        updated_at: time::from_millis(row.6),
        mentions,
    })
}

/// `rows` as comments, with the mentions of all of them read in one query.
fn comments_of(conn: &mut DbConn, rows: Vec<CommentRow>) -> AppResult<Vec<TaskComment>> {
    let ids = rows.iter().map(|row| id::from_stored("task_comments.id", &row.0)).collect::<AppResult<Vec<_>>>()?;
    let mut mentions = crate::mentions::of_comments(conn, &ids)?;
    let people = People::of_rows(conn, &rows, "task_comments.author_id", |row| (row.3, row.2.as_str()))?;
    rows.into_iter()
        .zip(ids)
        .map(|(row, id)| comment_of(row, mentions.remove(&id).unwrap_or_default(), &people))
        .collect()
}

type CommentColumns = (
    task_comments::id,
    task_comments::task_id,
    task_comments::author_id,
    storage::names::Version,
    task_comments::body,
    task_comments::created_at,
    task_comments::updated_at,
);

fn select() -> diesel::dsl::Select<task_comments::table, CommentColumns> {
    task_comments::table.select((
        task_comments::id,
        task_comments::task_id,
        task_comments::author_id,
        storage::names::VERSION,
        task_comments::body,
        task_comments::created_at,
        task_comments::updated_at,
    ))
}

/// The comment `comment_id` of the task, or 404.
fn find(conn: &mut DbConn, task_id: Uuid, comment_id: Uuid) -> AppResult<TaskComment> {
    let row: CommentRow = select()
        .filter(task_comments::id.eq(comment_id.to_string()))
        .filter(task_comments::task_id.eq(task_id.to_string()))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("comment"))?;
    comments_of(conn, vec![row])?.pop().ok_or_else(|| AppError::not_found("comment"))
}

/// Comments on a task (members).
pub fn create(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
    body: TaskCommentBody,
) -> AppResult<TaskComment> {
    let body = body.validate()?;
    let (team_id, _) = task_write_access(tx, project_id, task_id, caller)?;
    let comment_id = id::new_id();
    let now = time::to_millis(time::now());
    diesel::insert_into(task_comments::table)
        .values((
            task_comments::id.eq(comment_id.to_string()),
            task_comments::task_id.eq(task_id.to_string()),
            task_comments::author_id.eq(caller.id.to_string()),
            task_comments::body.eq(&body),
            task_comments::created_at.eq(now),
            task_comments::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let (mentions, new_mentions) = crate::mentions::store(tx, team_id, comment_id, &body)?;
    let details =
        Details::new().with("comment_id", comment_id).with("mentions", &mentions).with("new_mentions", &new_mentions);
    log.append(tx, caller, NewEntry::new(team_id, "comment.created").task(project_id, task_id).details(details))?;
    find(tx, task_id, comment_id)
}

/// The query of a page of a task's comments (see [`list`]): `task_comments_by_task
/// (task_id, id)` yields them in order.
pub(crate) fn list_query(
    task_id: Uuid,
    paging: &IdPaging,
) -> impl diesel::query_builder::QueryFragment<storage::Backend> + diesel::query_dsl::LoadQuery<'static, DbConn, CommentRow>
{
    let mut q = select().filter(task_comments::task_id.eq(task_id.to_string())).into_boxed();
    if let Some(after) = paging.after() {
        q = q.filter(task_comments::id.gt(after));
    }
    q.order(task_comments::id.asc()).limit(paging.fetch())
}

/// A task's comments, oldest first (members).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
    paging: &IdPaging,
) -> AppResult<Page<TaskComment>> {
    task_access(conn, project_id, task_id, caller)?;
    let rows: Vec<CommentRow> = list_query(task_id, paging).load(conn)?;
    let listed = || select().filter(task_comments::task_id.eq(task_id.to_string())).into_boxed();
    let items = comments_of(conn, rows)?;
    let total = paging.total(|most| storage::count::count_up_to(conn, listed(), most))?;
    Ok(paging.page(items, |c| c.id.to_string()).with_total(total))
}

/// Edits a comment: its author only (403 for other members).
#[allow(clippy::too_many_arguments)]
pub fn update(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
    comment_id: Uuid,
    body: TaskCommentBody,
) -> AppResult<TaskComment> {
    let body = body.validate()?;
    let (team_id, _) = task_write_access(tx, project_id, task_id, caller)?;
    let before = find(tx, task_id, comment_id)?;
    if before.author.id != caller.id {
        return Err(AppError::Forbidden("only its author may edit a comment".into()));
    }
    if before.body == body {
        return Ok(before);
    }
    let updated_at = time::now_after(before.updated_at);
    diesel::update(task_comments::table.find(comment_id.to_string()))
        .set((task_comments::body.eq(&body), task_comments::updated_at.eq(time::to_millis(updated_at))))
        .execute(tx.conn())?;
    // Only people the edit newly mentions are notified (`new_mentions`).
    let (mentions, new_mentions) = crate::mentions::store(tx, team_id, comment_id, &body)?;
    let details =
        Details::new().with("comment_id", comment_id).with("mentions", &mentions).with("new_mentions", &new_mentions);
    log.append(tx, caller, NewEntry::new(team_id, "comment.updated").task(project_id, task_id).details(details))?;
    find(tx, task_id, comment_id)
}

/// Deletes a comment: its author or an admin (403 for other members).
pub fn delete(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
    comment_id: Uuid,
) -> AppResult<()> {
    let (team_id, role) = task_write_access(tx, project_id, task_id, caller)?;
    let before = find(tx, task_id, comment_id)?;
    if before.author.id != caller.id && role != Role::Admin {
        return Err(AppError::Forbidden("only its author or an admin may delete a comment".into()));
    }
    diesel::delete(task_comments::table.find(comment_id.to_string())).execute(tx.conn())?;
    let details = Details::new().with("comment_id", comment_id);
    log.append(tx, caller, NewEntry::new(team_id, "comment.deleted").task(project_id, task_id).details(details))?;
    Ok(())
}
