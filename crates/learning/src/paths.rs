//! Learning paths and enrolments: functions on an open connection. Only the author
//! changes a path or its challenge list (403 for others), checked against `If-Match`
//! inside the write; the challenge count follows the list by trigger.

use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Caller, FieldError, UserRef};
use diesel::prelude::*;
use storage::schema::{challenges, enrollments, learning_paths, path_challenges, users};
use storage::DbConn;
use uuid::Uuid;

use crate::challenges::{viewed, with_viewer, ViewedRow};
use crate::model::{Enrollment, LearningPath, NewPath, PathChallenges, PathChanges, PathDetail, Put, ValidPathChanges};

/// A path row with its author's name.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = learning_paths, check_for_backend(storage::Backend))]
pub(crate) struct PathRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub topic: String,
    pub author_id: String,
    #[diesel(select_expression = users::display_name, select_expression_type = users::display_name)]
    pub author_name: String,
    pub challenge_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

impl PathRow {
    pub(crate) fn into_path(self) -> AppResult<LearningPath> {
        Ok(LearningPath {
            id: id::from_stored("learning_paths.id", &self.id)?,
            title: self.title,
            description: self.description,
            topic: self.topic,
            author: UserRef {
                id: id::from_stored("learning_paths.author_id", &self.author_id)?,
                display_name: self.author_name,
            },
            challenge_count: self.challenge_count,
            created_at: time::from_millis(self.created_at),
            updated_at: time::from_millis(self.updated_at),
            version: self.version,
        })
    }
}

/// The path `path_id`, or 404.
pub fn find(conn: &mut DbConn, path_id: Uuid) -> AppResult<LearningPath> {
    let row: PathRow = learning_paths::table
        .inner_join(users::table.on(users::id.eq(learning_paths::author_id)))
        .filter(learning_paths::id.eq(path_id.to_string()))
        .select(PathRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("path"))?;
    row.into_path()
}

/// The path with its challenges in order (one query for the list), each with `me` for a
/// logged-in `viewer`.
pub fn detail(conn: &mut DbConn, path_id: Uuid, viewer: Option<Uuid>) -> AppResult<PathDetail> {
    let path = find(conn, path_id)?;
    let rows: Vec<ViewedRow> = with_viewer!(
        path_challenges::table
            .inner_join(challenges::table.on(challenges::id.eq(path_challenges::challenge_id)))
            .filter(path_challenges::path_id.eq(path_id.to_string()))
            .order(path_challenges::position.asc()),
        viewer,
        |q| q.load(conn)
    )?;
    let authors = crate::challenges::authors(conn, &rows)?;
    let challenges = rows.into_iter().map(|row| viewed(row, viewer, &authors)).collect::<AppResult<Vec<_>>>()?;
    Ok(PathDetail { path, challenges })
}

/// Every id of `ids` must name a challenge: 422 naming each unknown one.
fn check_challenges_exist(conn: &mut DbConn, ids: &[Uuid]) -> AppResult<()> {
    let keys: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let mut found: Vec<String> = Vec::with_capacity(keys.len());
    // Bounded chunks keep each statement's parameter count small.
    for chunk in keys.chunks(250) {
        let mut part: Vec<String> =
            challenges::table.filter(challenges::id.eq_any(chunk)).select(challenges::id).load(conn)?;
        found.append(&mut part);
    }
    let unknown: Vec<FieldError> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !found.contains(k))
        .map(|(i, k)| FieldError::new(format!("challenge_ids[{i}]"), format!("no challenge has the id `{k}`")))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(unknown))
    }
}

/// Replaces the path's list with `ids`, in order (the count follows by trigger).
fn write_list(conn: &mut DbConn, path_id: &str, ids: &[Uuid]) -> AppResult<()> {
    diesel::delete(path_challenges::table.filter(path_challenges::path_id.eq(path_id))).execute(conn)?;
    // One statement for the whole list. (Diesel's batch insert is not offered over both
    // engines, and a path holds at most `PATH_CHALLENGES_MAX` rows.)
    let Some((first, rest)) = ids.split_first() else { return Ok(()) };
    let row = |q: storage::sql::Sql, i: usize, c: &Uuid| {
        q.sql("(")
            .bind_text(path_id)
            .sql(", ")
            .bind_int(i64::try_from(i).unwrap_or(i64::MAX))
            .sql(", ")
            .bind_text(c.to_string())
            .sql(")")
    };
    let mut insert =
        row(storage::sql::sql("INSERT INTO path_challenges (path_id, position, challenge_id) VALUES "), 0, first);
    for (i, c) in rest.iter().enumerate() {
        insert = row(insert.sql(", "), i + 1, c);
    }
    insert.query::<diesel::sql_types::BigInt>().execute(conn)?;
    Ok(())
}

/// Creates a path (the caller is its author), with an optional first challenge list.
pub fn create(conn: &mut DbConn, caller: &Caller, new: NewPath) -> AppResult<PathDetail> {
    let valid = new.validate()?;
    if let Some(ids) = &valid.challenge_ids {
        check_challenges_exist(conn, ids)?;
    }
    let path_id = id::new_id();
    let key = path_id.to_string();
    let now = time::to_millis(time::now());
    diesel::insert_into(learning_paths::table)
        .values((
            learning_paths::id.eq(&key),
            learning_paths::title.eq(&valid.title),
            learning_paths::description.eq(&valid.description),
            learning_paths::topic.eq(&valid.topic),
            learning_paths::author_id.eq(caller.id.to_string()),
            learning_paths::created_at.eq(now),
            learning_paths::updated_at.eq(now),
            learning_paths::version.eq(1),
        ))
        .execute(conn)?;
    if let Some(ids) = &valid.challenge_ids {
        write_list(conn, &key, ids)?;
    }
    detail(conn, path_id, Some(caller.id))
}

/// The path, if the caller made it: 404 for an unknown one, 403 for someone else's.
fn authored(conn: &mut DbConn, caller: &Caller, path_id: Uuid) -> AppResult<LearningPath> {
    let path = find(conn, path_id)?;
    if path.author.id != caller.id {
        return Err(AppError::Forbidden("only its author may change or delete a path".into()));
    }
    Ok(path)
}

/// Moves the path's version and `updated_at` (after a change to it or its list).
fn bump(conn: &mut DbConn, before: &LearningPath) -> AppResult<()> {
    let updated_at = time::now_after(before.updated_at);
    diesel::update(learning_paths::table.filter(learning_paths::id.eq(before.id.to_string())))
        .set((
            learning_paths::updated_at.eq(time::to_millis(updated_at)),
            learning_paths::version.eq(before.version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Applies `changes` (the author), honouring `If-Match`.
pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    path_id: Uuid,
    changes: PathChanges,
    if_match: IfMatch,
) -> AppResult<PathDetail> {
    let ValidPathChanges { title, description, topic } = changes.validate()?;
    let before = authored(conn, caller, path_id)?;
    if_match.check(before.version)?;
    let after = LearningPath {
        title: title.unwrap_or_else(|| before.title.clone()),
        description: description.unwrap_or_else(|| before.description.clone()),
        topic: topic.unwrap_or_else(|| before.topic.clone()),
        ..before.clone()
    };
    if after != before {
        diesel::update(learning_paths::table.filter(learning_paths::id.eq(path_id.to_string())))
            .set((
                learning_paths::title.eq(&after.title),
                learning_paths::description.eq(&after.description),
                learning_paths::topic.eq(&after.topic),
            ))
            .execute(conn)?;
        bump(conn, &before)?;
    }
    detail(conn, path_id, Some(caller.id))
}

/// Sets the ordered challenge list (the author), honouring `If-Match`: each id must name
/// a challenge, none twice (422 naming each bad one).
pub fn set_challenges(
    conn: &mut DbConn,
    caller: &Caller,
    path_id: Uuid,
    list: PathChallenges,
    if_match: IfMatch,
) -> AppResult<PathDetail> {
    let ids = list.validate()?;
    let before = authored(conn, caller, path_id)?;
    if_match.check(before.version)?;
    check_challenges_exist(conn, &ids)?;
    let key = path_id.to_string();
    let current: Vec<String> = path_challenges::table
        .filter(path_challenges::path_id.eq(&key))
        .order(path_challenges::position.asc())
        .select(path_challenges::challenge_id)
        .load(conn)?;
    let wanted: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    if current != wanted {
        write_list(conn, &key, &ids)?;
        bump(conn, &before)?;
    }
    detail(conn, path_id, Some(caller.id))
}

/// Deletes a path (the author), honouring `If-Match`; enrolments go with it.
pub fn delete(conn: &mut DbConn, caller: &Caller, path_id: Uuid, if_match: IfMatch) -> AppResult<()> {
    let before = authored(conn, caller, path_id)?;
    if_match.check(before.version)?;
    diesel::delete(learning_paths::table.filter(learning_paths::id.eq(path_id.to_string()))).execute(conn)?;
    Ok(())
}

/// Whether the path exists (404 otherwise).
pub fn require(conn: &mut DbConn, path_id: Uuid) -> AppResult<()> {
    let found: Option<i64> = learning_paths::table
        .filter(learning_paths::id.eq(path_id.to_string()))
        .select(learning_paths::seq)
        .first(conn)
        .optional()?;
    found.map(drop).ok_or_else(|| AppError::not_found("path"))
}

/// Enrols the caller (idempotent: enrolling again keeps the first `enrolled_at`).
pub fn enroll(conn: &mut DbConn, caller: &Caller, path_id: Uuid) -> AppResult<Put<Enrollment>> {
    require(conn, path_id)?;
    let (user, path) = (caller.id.to_string(), path_id.to_string());
    // ON CONFLICT in SQL both engines spell alike (Diesel's DSL offers none over the two).
    let inserted = storage::sql::sql("INSERT INTO enrollments (user_id, path_id, enrolled_at) VALUES (")
        .bind_text(user.clone())
        .sql(", ")
        .bind_text(path.clone())
        .sql(", ")
        .bind_int(time::to_millis(time::now()))
        .sql(") ON CONFLICT DO NOTHING")
        .query::<diesel::sql_types::BigInt>()
        .execute(conn)?;
    let enrolled_at: i64 = enrollments::table
        .filter(enrollments::user_id.eq(&user))
        .filter(enrollments::path_id.eq(&path))
        .select(enrollments::enrolled_at)
        .first(conn)?;
    Ok(Put { value: Enrollment { path_id, enrolled_at: time::from_millis(enrolled_at) }, created: inserted > 0 })
}

/// Takes the caller out of the path (idempotent: not enrolled is fine).
pub fn leave(conn: &mut DbConn, caller: &Caller, path_id: Uuid) -> AppResult<()> {
    require(conn, path_id)?;
    diesel::delete(
        enrollments::table
            .filter(enrollments::user_id.eq(caller.id.to_string()))
            .filter(enrollments::path_id.eq(path_id.to_string())),
    )
    .execute(conn)?;
    Ok(())
}
