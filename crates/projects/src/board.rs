//! The board of a project: each status is a column, each task has a position in its
//! column ([`crate::position`] keys), and `POST .../tasks/{task_id}/move` puts a task
//! between two neighbours by writing the moved task only.
//!
//! Every write that places a task (create, a status change, a move) first takes the
//! project's board lock (`lock_board`: it bumps `projects.board_seq`), so two of them
//! never pick one free key: on PostgreSQL the second waits for the first and then runs
//! again with what it committed (a serialization failure, retried by `Database::write`);
//! the unique index on `(project_id, status, position)` is the backstop. A key that
//! would grow past [`position::MAX_LEN`] rebalances the column inside the same write:
//! its keys are rewritten evenly apart, the rewritten tasks' versions move, and one
//! `tasks.rebalanced` entry records it.

use activity_log::{ActivityLog, Details, NewEntry};
use core_models::rank::RankEnum as _;
use core_models::version::IfMatch;
use core_models::{time, AppError, AppResult, Caller, FieldError, Violations};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use storage::schema::{project_tasks, projects};
use storage::{DbConn, Tx};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{ProjectTask, ProjectTaskStatus};
use crate::position;

/// The body of `POST /projects/{id}/tasks/{task_id}/move`: the column (`status`, default
/// the task's own) and the spot in it, right after `after_id` or right before `before_id`
/// (both: between those two, which must be neighbours; neither: the top).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveProjectTask {
    /// The column to move to; absent or `null`: the task's own.
    #[serde(default)]
    #[schema(value_type = Option<ProjectTaskStatus>)]
    pub status: Option<String>,
    /// A task of that column: the moved task goes right after it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub after_id: Option<String>,
    /// A task of that column: the moved task goes right before it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub before_id: Option<String>,
}

/// A checked [`MoveProjectTask`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValidMove {
    status: Option<ProjectTaskStatus>,
    after: Option<Uuid>,
    before: Option<Uuid>,
}

impl MoveProjectTask {
    pub(crate) fn validate(self) -> AppResult<ValidMove> {
        let mut v = Violations::new();
        let status = self.status.and_then(|raw| v.check(ProjectTaskStatus::parse("status", &raw)));
        let after = self.after_id.and_then(|raw| v.check(core_models::params::uuid("after_id", &raw)));
        let before = self.before_id.and_then(|raw| v.check(core_models::params::uuid("before_id", &raw)));
        if after.is_some() && after == before {
            v.push(FieldError::new("before_id", "must not be after_id: a task is not its own neighbour"));
        }
        v.finish()?;
        Ok(ValidMove { status, after, before })
    }
}

core_models::body_rules!(MoveProjectTask => MoveProjectTask::validate);

/// Where a task stands on the board, as `task.moved` details record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Place<'a> {
    status: ProjectTaskStatus,
    position: &'a str,
}

/// Takes the project's board lock for the rest of the write (see the module docs).
pub(crate) fn lock_board(tx: &mut Tx<'_>, project_id: Uuid) -> AppResult<()> {
    // A hot row (every create, move and status change of the project): a write that lost
    // on it runs again holding the board alone (`storage::Tx::claim`).
    tx.claim(&format!("board:{project_id}"))?;
    diesel::update(projects::table.filter(projects::id.eq(project_id.to_string())))
        .set(projects::board_seq.eq(projects::board_seq + 1))
        .execute(tx.conn())?;
    Ok(())
}

/// The column's tasks, `(id, position)` in board order (the unique index's order).
fn column(conn: &mut DbConn, project_id: Uuid, status: ProjectTaskStatus) -> AppResult<Vec<(String, String)>> {
    Ok(project_tasks::table
        .filter(project_tasks::project_id.eq(project_id.to_string()))
        .filter(project_tasks::status.eq(status.rank()))
        .select((project_tasks::id, project_tasks::position))
        .order(project_tasks::position.asc())
        .load(conn)?)
}

/// A boxed `SELECT position` of project tasks.
pub(crate) type PositionQuery = project_tasks::BoxedQuery<'static, storage::Backend, diesel::sql_types::Text>;

/// The query of the position next to `key` in a column (the one above it with `above`),
/// or without `key` of the column's first (last with `above`) task, leaving out
/// `except`: one step of the `(project_id, status, position)` index either way.
pub(crate) fn neighbour_query(
    project_id: Uuid,
    status: ProjectTaskStatus,
    key: Option<&str>,
    above: bool,
    except: Uuid,
) -> PositionQuery {
    let mut q = project_tasks::table
        .filter(project_tasks::project_id.eq(project_id.to_string()))
        .filter(project_tasks::status.eq(status.rank()))
        .filter(project_tasks::id.ne(except.to_string()))
        .select(project_tasks::position)
        .into_boxed();
    match (key, above) {
        (Some(key), true) => q = q.filter(project_tasks::position.lt(key.to_string())),
        (Some(key), false) => q = q.filter(project_tasks::position.gt(key.to_string())),
        (None, _) => {}
    }
    let q = if above { q.order(project_tasks::position.desc()) } else { q.order(project_tasks::position.asc()) };
    q.limit(1)
}

/// The position of the last (`last`) or first task of a column, leaving out `except`.
fn column_end(
    conn: &mut DbConn,
    project_id: Uuid,
    status: ProjectTaskStatus,
    last: bool,
    except: Uuid,
) -> AppResult<Option<String>> {
    Ok(neighbour_query(project_id, status, None, last, except).first(conn).optional()?)
}

/// The position next to `key` in a column (above it with `above`), leaving out `except`.
fn next_to(
    conn: &mut DbConn,
    project_id: Uuid,
    status: ProjectTaskStatus,
    key: &str,
    above: bool,
    except: Uuid,
) -> AppResult<Option<String>> {
    Ok(neighbour_query(project_id, status, Some(key), above, except).first(conn).optional()?)
}

/// Rewrites the keys of a column evenly apart, `moving` (a task joining or moving in the
/// column) placed right after the task at `after` (`None`: at the top); returns the
/// moving task's new key. The other tasks' versions move; one `tasks.rebalanced` entry.
#[allow(clippy::too_many_arguments)]
fn rebalance(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    team_id: Uuid,
    project_id: Uuid,
    status: ProjectTaskStatus,
    moving: Uuid,
    after: Option<&str>,
) -> AppResult<String> {
    let moving = moving.to_string();
    let mut ids: Vec<String> = Vec::new();
    let mut placed = after.is_none();
    if placed {
        ids.push(moving.clone());
    }
    for (id, key) in column(tx, project_id, status)? {
        if id == moving {
            continue;
        }
        ids.push(id);
        if !placed && after == Some(key.as_str()) {
            ids.push(moving.clone());
            placed = true;
        }
    }
    if !placed {
        ids.push(moving.clone());
    }
    let keys = position::spread(ids.len());
    let scope = || {
        project_tasks::table
            .filter(project_tasks::project_id.eq(project_id.to_string()))
            .filter(project_tasks::status.eq(status.rank()))
    };
    // First out of the way (no base-62 key starts with '~'), then each to its new key, so
    // the unique index never sees two tasks on one key in between. The moving task's
    // version is set by its own change.
    diesel::update(scope())
        .set((
            project_tasks::position.eq(diesel::dsl::sql::<diesel::sql_types::Text>("'~' || id")),
            project_tasks::version.eq(project_tasks::version + 1),
        ))
        .execute(tx.conn())?;
    let mut mine = String::new();
    for (id, key) in ids.iter().zip(keys) {
        if *id == moving {
            mine = key;
            continue;
        }
        diesel::update(project_tasks::table.filter(project_tasks::id.eq(id)))
            .set(project_tasks::position.eq(&key))
            .execute(tx.conn())?;
    }
    let details = Details::new().with("status", status).with("tasks", ids.len() - 1);
    log.append(tx, caller, NewEntry::new(team_id, "tasks.rebalanced").project(project_id).details(details))?;
    Ok(mine)
}

/// The position for `task` joining the end of the `status` column of `project_id` (a new
/// task, or a status change by `PATCH` or a bulk change): takes the board lock, and
/// rebalances the column in the rare case its last key is too long to step past.
pub fn end_of_column(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    team_id: Uuid,
    project_id: Uuid,
    status: ProjectTaskStatus,
    task: Uuid,
) -> AppResult<String> {
    lock_board(tx, project_id)?;
    let last = column_end(tx, project_id, status, true, task)?;
    match position::between(last.as_deref(), None) {
        Some(key) if key.len() <= position::MAX_LEN => Ok(key),
        _ => rebalance(tx, log, caller, team_id, project_id, status, task, last.as_deref()),
    }
}

/// A neighbour named by a move: in the project and in the target column (422 naming
/// `field` otherwise, also for a task the caller cannot see: it is no neighbour).
fn neighbour(
    conn: &mut DbConn,
    project_id: Uuid,
    status: ProjectTaskStatus,
    field: &str,
    id: Uuid,
) -> AppResult<String> {
    let found: Option<(String, i32, String)> = project_tasks::table
        .filter(project_tasks::id.eq(id.to_string()))
        .select((project_tasks::project_id, project_tasks::status, project_tasks::position))
        .first(conn)
        .optional()?;
    match found {
        Some((project, rank, key)) if project == project_id.to_string() && rank == status.rank() => Ok(key),
        Some((project, _, _)) if project == project_id.to_string() => {
            Err(AppError::invalid(field, format!("must be a task of the `{}` column the task moves to", status.name())))
        }
        _ => Err(AppError::invalid(field, "must be a task of the same project")),
    }
}

/// Moves a task on its project's board (members), honouring `If-Match`: see
/// [`MoveProjectTask`]. One `task.moved` entry `{from: {status, position}, to: {...}}`;
/// the task's version moves.
pub(crate) fn move_task(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
    body: MoveProjectTask,
    if_match: IfMatch,
) -> AppResult<ProjectTask> {
    let ValidMove { status, after, before } = body.validate()?;
    let (team_id, _) = crate::access::task_write_access(tx, project_id, task_id, caller)?;
    lock_board(tx, project_id)?;
    let task = crate::row::find_task(tx, task_id)?;
    if_match.check(task.version)?;
    let status = status.unwrap_or(task.status);
    let mut v = Violations::new();
    for (field, other) in [("after_id", after), ("before_id", before)] {
        if other == Some(task_id) {
            v.push(FieldError::new(field, "must not be the moved task itself"));
        }
    }
    v.finish()?;
    let lo = after.map(|id| neighbour(tx, project_id, status, "after_id", id)).transpose()?;
    let hi = before.map(|id| neighbour(tx, project_id, status, "before_id", id)).transpose()?;
    let (lo, hi) = match (lo, hi) {
        (Some(lo), Some(hi)) => {
            if next_to(tx, project_id, status, &lo, false, task_id)?.as_deref() != Some(hi.as_str()) {
                return Err(AppError::invalid("before_id", "must be the task right after after_id in the column"));
            }
            (Some(lo), Some(hi))
        }
        (Some(lo), None) => {
            let hi = next_to(tx, project_id, status, &lo, false, task_id)?;
            (Some(lo), hi)
        }
        (None, Some(hi)) => (next_to(tx, project_id, status, &hi, true, task_id)?, Some(hi)),
        (None, None) => (None, column_end(tx, project_id, status, false, task_id)?),
    };
    let key = match position::between(lo.as_deref(), hi.as_deref()) {
        Some(key) if key.len() <= position::MAX_LEN => key,
        _ => rebalance(tx, log, caller, team_id, project_id, status, task_id, lo.as_deref())?,
    };
    let updated_at = time::now_after(task.updated_at);
    diesel::update(project_tasks::table.filter(project_tasks::id.eq(task_id.to_string())))
        .set((
            project_tasks::status.eq(status.rank()),
            project_tasks::position.eq(&key),
            project_tasks::updated_at.eq(time::to_millis(updated_at)),
            project_tasks::version.eq(task.version + 1),
        ))
        .execute(tx.conn())?;
    let moved = crate::row::find_task(tx, task_id)?;
    let details = Details::new()
        .with("from", Place { status: task.status, position: &task.position })
        .with("to", Place { status: moved.status, position: &moved.position })
        .with("version", moved.version);
    log.append(tx, caller, NewEntry::new(team_id, "task.moved").task(project_id, task_id).details(details))?;
    Ok(moved)
}
