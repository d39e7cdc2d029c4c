//! Who may do what in a team, checked on the connection of the operation itself (inside
//! the write for changes), so a rule cannot race the change it guards.
//!
//! Non-members get 404 for everything of a team: they must not learn that it exists.
//! Members who may see a thing but not change it get 403.

use core_models::rank::RankEnum as _;
use core_models::{AppError, AppResult, Caller};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use storage::schema::{activity, project_tasks, projects, team_members};
use storage::sql::sql;
use storage::{DbConn, Tx};
use uuid::Uuid;

use crate::model::Role;

/// The role of `user` in `team_id`, if a member.
pub fn role_of(conn: &mut DbConn, team_id: Uuid, user: Uuid) -> AppResult<Option<Role>> {
    let rank: Option<i32> = team_members::table
        .filter(team_members::team_id.eq(team_id.to_string()))
        .filter(team_members::user_id.eq(user.to_string()))
        .select(team_members::role)
        .first(conn)
        .optional()?;
    Ok(rank.and_then(Role::from_rank))
}

/// A condition for a read's own statement that holds while `user` belongs to the team
/// (a primary-key lookup, evaluated once per statement): a page read with it that comes
/// back with rows was read by a member, in that statement's snapshot, without a separate
/// check or a transaction around the two. An empty answer does not say which it was (see
/// [`DbProjects`](crate::DbProjects)' lists, which then ask again in a snapshot).
pub fn member_gate(team_id: Uuid, user: Uuid) -> storage::sql::Sql {
    sql("EXISTS (SELECT 1 FROM team_members WHERE team_members.team_id = ")
        .bind_text(team_id.to_string())
        .sql(" AND team_members.user_id = ")
        .bind_text(user.to_string())
        .sql(")")
}

/// [`member_gate`] for the team of a project.
pub fn project_member_gate(project_id: Uuid, user: Uuid) -> storage::sql::Sql {
    sql("EXISTS (SELECT 1 FROM projects JOIN team_members ON team_members.team_id = projects.team_id \
         WHERE projects.id = ")
    .bind_text(project_id.to_string())
    .sql(" AND team_members.user_id = ")
    .bind_text(user.to_string())
    .sql(")")
}

/// The caller's role in the team; 404 "team not found" for non-members.
pub fn require_member(conn: &mut DbConn, team_id: Uuid, caller: &Caller) -> AppResult<Role> {
    role_of(conn, team_id, caller.id)?.ok_or_else(|| AppError::not_found("team"))
}

/// Passes for admins; 403 for members, 404 for non-members.
pub fn require_admin(conn: &mut DbConn, team_id: Uuid, caller: &Caller) -> AppResult<()> {
    match require_member(conn, team_id, caller)? {
        Role::Admin => Ok(()),
        Role::Member => Err(AppError::Forbidden("only the team's admins may do this".into())),
    }
}

/// The team of a project the caller belongs to, and the caller's role there; 404
/// "project not found" when the project is unknown or the caller is not a member.
pub fn project_access(conn: &mut DbConn, project_id: Uuid, caller: &Caller) -> AppResult<(Uuid, Role)> {
    let team: Option<String> = projects::table
        .filter(projects::id.eq(project_id.to_string()))
        .select(projects::team_id)
        .first(conn)
        .optional()?;
    let not_found = || AppError::not_found("project");
    let team_id = core_models::id::from_stored("projects.team_id", &team.ok_or_else(not_found)?)?;
    let role = role_of(conn, team_id, caller.id)?.ok_or_else(not_found)?;
    Ok((team_id, role))
}

/// [`project_access`] for a change under the project: 409 if it is archived. The write
/// then claims its team (`activity_log::claim_team`) before it changes anything.
pub fn project_write_access(tx: &mut Tx<'_>, project_id: Uuid, caller: &Caller) -> AppResult<(Uuid, Role)> {
    let access = write_access(tx, project_id, None, caller)?;
    activity_log::claim_team(tx, access.0)?;
    Ok(access)
}

/// [`task_access`] for a change of the task or its comments: 409 if the project is
/// archived. The write then claims its team, as [`project_write_access`].
pub fn task_write_access(tx: &mut Tx<'_>, project_id: Uuid, task_id: Uuid, caller: &Caller) -> AppResult<(Uuid, Role)> {
    let access = write_access(tx, project_id, Some(task_id), caller)?;
    activity_log::claim_team(tx, access.0)?;
    Ok(access)
}

/// The task of a change under its project and the project's team, read in one statement
/// that also checks what [`task_write_access`] checks (the caller belongs to the team, the
/// project has the task, the project is not archived). It does not claim the team: a
/// change that turns out to change nothing (a form sent back as it was) then ends without
/// that round trip, and a real one claims it as soon as it knows (`tasks::apply`). A
/// check that fails is told by [`task_write_access`] in the same transaction (so the
/// same snapshot), with its errors in its order. On PostgreSQL that is one round trip for
/// the checks and the read a change starts with.
pub fn task_for_change(
    tx: &mut Tx<'_>,
    project_id: Uuid,
    task_id: Uuid,
    caller: &Caller,
) -> AppResult<(Uuid, crate::ProjectTask)> {
    let open = sql("NOT EXISTS (SELECT 1 FROM projects WHERE projects.id = ")
        .bind_text(project_id.to_string())
        .sql_per_engine(" AND projects.archived = 1)", " AND projects.archived)");
    let found: Option<(crate::row::TaskRow, String)> = project_tasks::table
        .filter(project_tasks::id.eq(task_id.to_string()))
        .filter(project_tasks::project_id.eq(project_id.to_string()))
        .filter(project_member_gate(project_id, caller.id))
        .filter(open)
        .select((crate::row::TaskRow::as_select(), project_tasks::team_id))
        .first(tx.conn())
        .optional()?;
    let Some((row, team)) = found else {
        let (team, _) = task_write_access(tx, project_id, task_id, caller)?;
        return Ok((team, crate::row::find_task(tx, task_id)?));
    };
    let team = core_models::id::from_stored("project_tasks.team_id", &team)?;
    let task = crate::row::tasks_of(tx, vec![row])?.pop().ok_or_else(|| AppError::not_found("task"))?;
    Ok((team, task))
}

/// What a change under a project checks, read in one statement (each statement of a
/// PostgreSQL write is a round trip): the project's team, the caller's role there,
/// whether it is archived and whether it has the task.
#[derive(QueryableByName)]
struct WriteAccess {
    #[diesel(sql_type = Text)]
    team_id: String,
    #[diesel(sql_type = Bool)]
    archived: bool,
    #[diesel(sql_type = Nullable<Integer>)]
    role: Option<i32>,
    #[diesel(sql_type = Bool)]
    has_task: bool,
}

/// [`project_access`] (and with `task_id`, [`task_access`]) and the archive check in one
/// statement, with their errors in their order: 404 for the project (unknown, or the
/// caller is no member), 404 for the task, 409 when archived (read only until an admin
/// unarchives it).
fn write_access(
    conn: &mut DbConn,
    project_id: Uuid,
    task_id: Option<Uuid>,
    caller: &Caller,
) -> AppResult<(Uuid, Role)> {
    // `projects` by primary key, `team_members` by its (team_id, user_id) key, the task
    // by primary key: three probes.
    let task = match task_id {
        Some(task) => sql("EXISTS (SELECT 1 FROM project_tasks t WHERE t.id = ")
            .bind_text(task.to_string())
            .sql(" AND t.project_id = p.id)"),
        None => sql("1 = 1"),
    };
    let found: Option<WriteAccess> = sql("SELECT p.team_id AS team_id, p.archived AS archived, m.role AS role, ")
        .append(task)
        .sql(" AS has_task FROM projects p LEFT JOIN team_members m ON m.team_id = p.team_id AND m.user_id = ")
        .bind_text(caller.id.to_string())
        .sql(" WHERE p.id = ")
        .bind_text(project_id.to_string())
        .untyped()
        .get_result(conn)
        .optional()?;
    let not_found = || AppError::not_found("project");
    let found = found.ok_or_else(not_found)?;
    let role = found.role.and_then(Role::from_rank).ok_or_else(not_found)?;
    if !found.has_task {
        return Err(AppError::not_found("task"));
    }
    if found.archived {
        return Err(AppError::Conflict(
            "the project is archived and read only: an admin can unarchive it with PATCH {\"archived\": false}".into(),
        ));
    }
    Ok((core_models::id::from_stored("projects.team_id", &found.team_id)?, role))
}

/// Like [`project_access`], and the task must belong to the project (404 "task not found").
pub fn task_access(conn: &mut DbConn, project_id: Uuid, task_id: Uuid, caller: &Caller) -> AppResult<(Uuid, Role)> {
    let access = project_access(conn, project_id, caller)?;
    let exists: i64 = project_tasks::table
        .filter(project_tasks::id.eq(task_id.to_string()))
        .filter(project_tasks::project_id.eq(project_id.to_string()))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Err(AppError::not_found("task"));
    }
    Ok(access)
}

/// Whether the project has the task now or has an activity entry about it (a deleted
/// task keeps its history, so existence alone is not the test).
pub fn task_known(conn: &mut DbConn, project_id: Uuid, task_id: Uuid) -> AppResult<bool> {
    let exists = diesel::select(diesel::dsl::exists(
        project_tasks::table
            .filter(project_tasks::id.eq(task_id.to_string()))
            .filter(project_tasks::project_id.eq(project_id.to_string())),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(true);
    }
    // `activity_by_task` (task_id, seq) finds the task's entries; the project narrows them.
    Ok(diesel::select(diesel::dsl::exists(
        activity::table
            .filter(activity::task_id.eq(task_id.to_string()))
            .filter(activity::project_id.eq(project_id.to_string())),
    ))
    .get_result::<bool>(conn)?)
}

/// 404 "team not found" unless `user` is a member (for assignees: 422 is the caller's
/// business, see `tasks`).
pub fn is_member(conn: &mut DbConn, team_id: Uuid, user: Uuid) -> AppResult<bool> {
    Ok(role_of(conn, team_id, user)?.is_some())
}
