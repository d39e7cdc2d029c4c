//! A project task as stored, and as the API shows it: the row every read selects and its
//! conversion (its people's names from [`storage::names`]). Reads of one task (`tasks`) and of lists
//! (`list`) share it, so neither module needs the other for it.

use std::collections::HashSet;

use core_models::rank::RankEnum as _;
use core_models::{id, time, AppError, AppResult};
use diesel::prelude::*;
use storage::names::People;
use storage::schema::project_tasks;
use storage::DbConn;
use uuid::Uuid;

use crate::model::{Priority, ProjectTask, ProjectTaskStatus};

/// A task as stored.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = project_tasks, check_for_backend(storage::Backend))]
pub(crate) struct TaskRow {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: i32,
    pub priority: i32,
    pub due_date: Option<String>,
    pub assignee_id: Option<String>,
    pub created_by: String,
    /// The version of display names the row was read at: its people's names come from
    /// memory ([`storage::names::People`]), not from a probe of `users` per row.
    #[diesel(select_expression = storage::names::VERSION, select_expression_type = storage::names::Version)]
    pub names_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    pub position: String,
    /// Labels it carries: only tasks with some have their labels read.
    pub label_count: i32,
}

/// Tasks from rows, with their labels read for all of them in one query.
pub(crate) fn tasks_of(conn: &mut DbConn, rows: Vec<TaskRow>) -> AppResult<Vec<ProjectTask>> {
    let (mut tasks, labeled) = tasks_without_labels(conn, rows)?;
    attach_labels(conn, &mut tasks, &labeled)?;
    Ok(tasks)
}

/// Gives those of `tasks` that are `labeled` their labels, read for all of them in one
/// query (none for a page of unlabeled tasks).
pub(crate) fn attach_labels(conn: &mut DbConn, tasks: &mut [ProjectTask], labeled: &HashSet<Uuid>) -> AppResult<()> {
    let ids: Vec<String> = tasks.iter().filter(|t| labeled.contains(&t.id)).map(|t| t.id.to_string()).collect();
    let mut labels = crate::labels::of_tasks(conn, &ids)?;
    for task in tasks {
        task.labels = labels.remove(&task.id.to_string()).unwrap_or_default();
    }
    Ok(())
}

/// [`attach_labels`] for tasks that an earlier statement read outside a transaction:
/// true when every labeled task still had the version the page read, so the labels are
/// those of the page's snapshot (a change of a task's labels, and a label's rename,
/// recolouring or deletion, move the version of each task carrying it); false when one
/// moved or is gone, and the page must be read again in one snapshot.
pub(crate) fn attach_labels_as_read(
    conn: &mut DbConn,
    tasks: &mut [ProjectTask],
    labeled: &HashSet<Uuid>,
) -> AppResult<bool> {
    let ids: Vec<String> = tasks.iter().filter(|t| labeled.contains(&t.id)).map(|t| t.id.to_string()).collect();
    let mut labels = crate::labels::of_tasks_with_versions(conn, &ids)?;
    for task in tasks.iter_mut().filter(|t| labeled.contains(&t.id)) {
        match labels.remove(&task.id.to_string()) {
            Some((version, of_task)) if version == task.version => task.labels = of_task,
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// Tasks from rows, their `labels` still empty (see [`attach_labels`]), and the ids of
/// those that carry labels. Their people's names are remembered or read in one statement
/// ([`storage::names::People`]).
pub(crate) fn tasks_without_labels(
    conn: &mut DbConn,
    rows: Vec<TaskRow>,
) -> AppResult<(Vec<ProjectTask>, HashSet<Uuid>)> {
    let mut ids = Vec::with_capacity(rows.len() * 2);
    for row in &rows {
        ids.push(id::from_stored("project_tasks.created_by", &row.created_by)?);
        if let Some(assignee) = &row.assignee_id {
            ids.push(id::from_stored("project_tasks.assignee_id", assignee)?);
        }
    }
    let version = rows.iter().map(|r| r.names_version).max().unwrap_or_default();
    let people = People::of(conn, version, ids)?;
    let person = |column: &str, stored: &str| people.user(column, id::from_stored(column, stored)?);
    let mut labeled = HashSet::new();
    let tasks = rows
        .into_iter()
        .map(|row| {
            let id = id::from_stored("project_tasks.id", &row.id)?;
            if row.label_count > 0 {
                labeled.insert(id);
            }
            Ok(ProjectTask {
                id,
                project_id: id::from_stored("project_tasks.project_id", &row.project_id)?,
                title: row.title,
                description: row.description,
                status: ProjectTaskStatus::from_rank(row.status)
                    .ok_or_else(|| id::corrupt("project_tasks.status", &row.status.to_string()))?,
                priority: Priority::from_rank(row.priority)
                    .ok_or_else(|| id::corrupt("project_tasks.priority", &row.priority.to_string()))?,
                due_date: row
                    .due_date
                    .map(|d| time::parse_date(&d).ok_or_else(|| id::corrupt("project_tasks.due_date", &d)))
                    .transpose()?,
                assignee: row.assignee_id.map(|a| person("project_tasks.assignee_id", &a)).transpose()?,
                labels: Vec::new(),
                created_by: person("project_tasks.created_by", &row.created_by)?,
                created_at: time::from_millis(row.created_at),
                updated_at: time::from_millis(row.updated_at),
                version: row.version,
                position: row.position,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((tasks, labeled))
}

/// One task by id, with its labels (404 `task` when there is none).
pub(crate) fn find_task(conn: &mut DbConn, task_id: Uuid) -> AppResult<ProjectTask> {
    let row: TaskRow = project_tasks::table
        .filter(project_tasks::id.eq(task_id.to_string()))
        .select(TaskRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("task"))?;
    tasks_of(conn, vec![row])?.pop().ok_or_else(|| AppError::not_found("task"))
}
