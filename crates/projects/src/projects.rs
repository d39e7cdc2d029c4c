//! A team's projects: functions on an open connection.

use activity_log::{ActivityLog, Details, NewEntry};
use core_models::pagination::IdPaging;
use core_models::{id, time, AppError, AppResult, Caller, Page};
use diesel::prelude::*;
use storage::schema::projects;
use storage::{Backend, DbConn, Tx};
use uuid::Uuid;

use crate::access::{project_access, require_admin, require_member};
use crate::model::{NamedChanges, NewTeam, Project, Role, ValidNamedChanges};

pub(crate) type ProjectRow = (String, String, String, Option<String>, bool, i64, i64);

fn columns() -> (
    projects::id,
    projects::team_id,
    projects::name,
    projects::description,
    projects::archived,
    projects::created_at,
    projects::updated_at,
) {
    (
        projects::id,
        projects::team_id,
        projects::name,
        projects::description,
        projects::archived,
        projects::created_at,
        projects::updated_at,
    )
}

fn project_of(row: ProjectRow) -> AppResult<Project> {
    Ok(Project {
        id: id::from_stored("projects.id", &row.0)?,
        team_id: id::from_stored("projects.team_id", &row.1)?,
        name: row.2,
        description: row.3,
        archived: row.4,
        created_at: time::from_millis(row.5),
        updated_at: time::from_millis(row.6),
    })
}

fn find(conn: &mut DbConn, project_id: Uuid) -> AppResult<Project> {
    project_of(projects::table.find(project_id.to_string()).select(columns()).first(conn)?)
}

/// Creates a project in a team (admins).
pub fn create(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, team_id: Uuid, new: NewTeam) -> AppResult<Project> {
    let valid = new.validate()?;
    require_admin(tx, team_id, caller)?;
    let now = time::to_millis(time::now());
    let project_id = id::new_id();
    diesel::insert_into(projects::table)
        .values((
            projects::id.eq(project_id.to_string()),
            projects::team_id.eq(team_id.to_string()),
            projects::name.eq(&valid.name),
            projects::description.eq(&valid.description),
            projects::archived.eq(false),
            projects::created_at.eq(now),
            projects::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let entry =
        NewEntry::new(team_id, "project.created").project(project_id).details(Details::new().with("name", &valid.name));
    log.append(tx, caller, entry)?;
    find(tx, project_id)
}

/// A team's projects (`archived`: only those, or only the others), in no order and before
/// the list's cursor: what its pages read and its `count=true` counts.
fn listed(team_id: Uuid, archived: Option<bool>) -> projects::BoxedQuery<'static, Backend> {
    let mut q = projects::table.filter(projects::team_id.eq(team_id.to_string())).into_boxed();
    if let Some(archived) = archived {
        // `projects_by_team_archived (team_id, archived, id)` yields them in order.
        q = q.filter(projects::archived.eq(archived));
    }
    q
}

/// The query of a page of a team's projects (see [`list`]).
pub(crate) fn list_query(
    team_id: Uuid,
    archived: Option<bool>,
    paging: &IdPaging,
) -> impl diesel::query_builder::QueryFragment<storage::Backend> + diesel::query_dsl::LoadQuery<'static, DbConn, ProjectRow>
{
    let mut q = listed(team_id, archived).select(columns());
    if let Some(after) = paging.after() {
        q = q.filter(projects::id.gt(after));
    }
    q.order(projects::id.asc()).limit(paging.fetch())
}

/// A team's projects, oldest first (members); `archived` keeps only the archived ones
/// (`Some(true)`) or the others (`Some(false)`).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    team_id: Uuid,
    archived: Option<bool>,
    paging: &IdPaging,
) -> AppResult<Page<Project>> {
    require_member(conn, team_id, caller)?;
    let rows: Vec<ProjectRow> = list_query(team_id, archived, paging).load(conn)?;
    let items = rows.into_iter().map(project_of).collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| storage::count::count_up_to(conn, listed(team_id, archived), most))?;
    Ok(paging.page(items, |p| p.id.to_string()).with_total(total))
}

/// One project (members).
pub fn get(conn: &mut DbConn, caller: &Caller, project_id: Uuid) -> AppResult<Project> {
    project_access(conn, project_id, caller)?;
    find(conn, project_id)
}

fn admin_of_project(conn: &mut DbConn, project_id: Uuid, caller: &Caller) -> AppResult<Uuid> {
    match project_access(conn, project_id, caller)? {
        (team_id, Role::Admin) => Ok(team_id),
        (_, Role::Member) => Err(AppError::Forbidden("only the team's admins manage projects".into())),
    }
}

/// Renames, describes, archives or restores a project (admins).
pub fn update(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    changes: NamedChanges,
) -> AppResult<Project> {
    let ValidNamedChanges { name, description, archived } = changes.validate()?;
    let team_id = admin_of_project(tx, project_id, caller)?;
    let before = find(tx, project_id)?;
    let mut after = Project {
        name: name.unwrap_or_else(|| before.name.clone()),
        description: description.unwrap_or_else(|| before.description.clone()),
        archived: archived.unwrap_or(before.archived),
        ..before.clone()
    };
    let details = Details::new()
        .changed("name", &before.name, &after.name)
        .changed("description", &before.description, &after.description)
        .changed("archived", before.archived, after.archived);
    if details.is_empty() {
        return Ok(before);
    }
    after.updated_at = time::now_after(before.updated_at);
    diesel::update(projects::table.find(project_id.to_string()))
        .set((
            projects::name.eq(&after.name),
            projects::description.eq(&after.description),
            projects::archived.eq(after.archived),
            projects::updated_at.eq(time::to_millis(after.updated_at)),
        ))
        .execute(tx.conn())?;
    log.append(tx, caller, NewEntry::new(team_id, "project.updated").project(project_id).details(details))?;
    Ok(after)
}

/// Deletes a project with its tasks and comments (admins).
pub fn delete(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, project_id: Uuid) -> AppResult<()> {
    let team_id = admin_of_project(tx, project_id, caller)?;
    let before = find(tx, project_id)?;
    diesel::delete(projects::table.find(project_id.to_string())).execute(tx.conn())?;
    let entry =
        NewEntry::new(team_id, "project.deleted").project(project_id).details(Details::new().with("name", before.name));
    log.append(tx, caller, entry)?;
    Ok(())
}
