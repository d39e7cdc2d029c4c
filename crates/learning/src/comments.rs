//! A challenge's discussion: functions on an open connection. Anyone reads; the author
//! alone edits or deletes a comment (403 for others), checked against `If-Match`.

use core_models::pagination::IdPaging;
use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Caller, Page};
use diesel::prelude::*;
use storage::names::People;
use storage::schema::challenge_comments;
use storage::DbConn;
use uuid::Uuid;

use crate::challenges;
use crate::model::{Comment, CommentBody};

/// A comment row; its author's name comes from memory ([`storage::names`]).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = challenge_comments, check_for_backend(storage::Backend))]
pub(crate) struct CommentRow {
    pub(crate) id: String,
    challenge_id: String,
    author_id: String,
    #[diesel(select_expression = storage::names::VERSION, select_expression_type = storage::names::Version)]
    names_version: i64,
    body: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

/// Comments from rows, their authors named from memory or read in one statement.
fn comments_of(conn: &mut DbConn, rows: Vec<CommentRow>) -> AppResult<Vec<Comment>> {
    let people =
        People::of_rows(conn, &rows, "challenge_comments.author_id", |r| (r.names_version, r.author_id.as_str()))?;
    rows.into_iter().map(|row| comment_of(row, &people)).collect()
}

fn comment_of(row: CommentRow, people: &People) -> AppResult<Comment> {
    Ok(Comment {
        id: id::from_stored("challenge_comments.id", &row.id)?,
        challenge_id: id::from_stored("challenge_comments.challenge_id", &row.challenge_id)?,
        author: people
            .user("challenge_comments.author_id", id::from_stored("challenge_comments.author_id", &row.author_id)?)?,
        body: row.body,
        created_at: time::from_millis(row.created_at),
        updated_at: time::from_millis(row.updated_at),
        version: row.version,
    })
}

/// The comment `comment_id`, or 404.
pub fn find(conn: &mut DbConn, comment_id: Uuid) -> AppResult<Comment> {
    let row: CommentRow = challenge_comments::table
        .filter(challenge_comments::id.eq(comment_id.to_string()))
        .select(CommentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("comment"))?;
    comments_of(conn, vec![row])?.pop().ok_or_else(|| AppError::not_found("comment"))
}

/// Comments on a challenge (any user).
pub fn create(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid, body: CommentBody) -> AppResult<Comment> {
    let body = body.validate()?;
    challenges::require(conn, challenge_id)?;
    let comment_id = id::new_id();
    let now = time::to_millis(time::now());
    diesel::insert_into(challenge_comments::table)
        .values((
            challenge_comments::id.eq(comment_id.to_string()),
            challenge_comments::challenge_id.eq(challenge_id.to_string()),
            challenge_comments::author_id.eq(caller.id.to_string()),
            challenge_comments::body.eq(&body),
            challenge_comments::created_at.eq(now),
            challenge_comments::updated_at.eq(now),
            challenge_comments::version.eq(1),
        ))
        .execute(conn)?;
    Ok(Comment {
        id: comment_id,
        challenge_id,
        author: caller.user_ref(),
        body,
        created_at: time::from_millis(now),
        updated_at: time::from_millis(now),
        version: 1,
    })
}

/// A challenge's comments, before paging: what a page reads and what `count=true` counts.
fn listed(challenge_id: Uuid) -> challenge_comments::BoxedQuery<'static, storage::Backend> {
    challenge_comments::table.filter(challenge_comments::challenge_id.eq(challenge_id.to_string())).into_boxed()
}

/// The query of a page of a challenge's comments (see [`list`]):
/// `challenge_comments_by_challenge (challenge_id, id)` yields them in order.
pub(crate) fn list_query(
    challenge_id: Uuid,
    paging: &IdPaging,
) -> impl diesel::query_builder::QueryFragment<storage::Backend> + diesel::query_dsl::LoadQuery<'static, DbConn, CommentRow>
{
    let mut q = challenge_comments::table
        .filter(challenge_comments::challenge_id.eq(challenge_id.to_string()))
        .select(CommentRow::as_select())
        .into_boxed();
    if let Some(after) = paging.after() {
        q = q.filter(challenge_comments::id.gt(after));
    }
    q.order(challenge_comments::id.asc()).limit(paging.fetch())
}

/// A challenge's comments, oldest first (anyone).
pub fn list(conn: &mut DbConn, challenge_id: Uuid, paging: &IdPaging) -> AppResult<Page<Comment>> {
    challenges::require(conn, challenge_id)?;
    let rows: Vec<CommentRow> = list_query(challenge_id, paging).load(conn)?;
    let items = comments_of(conn, rows)?;
    let total = paging.total(|most| storage::count::count_up_to(conn, listed(challenge_id), most))?;
    Ok(paging.page(items, |c| c.id.to_string()).with_total(total))
}

/// The comment, if the caller wrote it: 404 for an unknown one, 403 for someone else's.
fn authored(conn: &mut DbConn, caller: &Caller, comment_id: Uuid) -> AppResult<Comment> {
    let comment = find(conn, comment_id)?;
    if comment.author.id != caller.id {
        return Err(AppError::Forbidden("only its author may change or delete a comment".into()));
    }
    Ok(comment)
}

/// Edits a comment (its author), honouring `If-Match`.
pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    comment_id: Uuid,
    body: CommentBody,
    if_match: IfMatch,
) -> AppResult<Comment> {
    let body = body.validate()?;
    let before = authored(conn, caller, comment_id)?;
    if_match.check(before.version)?;
    if before.body == body {
        return Ok(before);
    }
    let updated_at = time::now_after(before.updated_at);
    let version = before.version + 1;
    diesel::update(challenge_comments::table.filter(challenge_comments::id.eq(comment_id.to_string())))
        .set((
            challenge_comments::body.eq(&body),
            challenge_comments::updated_at.eq(time::to_millis(updated_at)),
            challenge_comments::version.eq(version),
        ))
        .execute(conn)?;
    Ok(Comment { body, updated_at, version, ..before })
}

/// Deletes a comment (its author), honouring `If-Match`.
pub fn delete(conn: &mut DbConn, caller: &Caller, comment_id: Uuid, if_match: IfMatch) -> AppResult<()> {
    let before = authored(conn, caller, comment_id)?;
    if_match.check(before.version)?;
    diesel::delete(challenge_comments::table.filter(challenge_comments::id.eq(comment_id.to_string())))
        .execute(conn)?;
    Ok(())
}
