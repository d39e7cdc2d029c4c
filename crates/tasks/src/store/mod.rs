//! Tasks in the shared database (SQLite or PostgreSQL): durable, full-text searchable,
//! listed by keyset over one index per sort.

mod list;
#[cfg(test)]
mod query_plans;
mod stats;

use core_models::rank::RankEnum as _;
use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Board, Page};
use diesel::prelude::*;
use storage::schema::tasks;
use storage::Database;
use storage::DbConn;
use uuid::Uuid;

use crate::model::{format_date, NewTask, Task, TaskChanges, TaskStatus};
use crate::query::ListTasks;
use crate::stats::{TaskStats, TaskStatsQuery};
use crate::TaskService;

/// A [`TaskService`] over the `tasks` table.
#[derive(Debug, Clone)]
pub struct DbTasks {
    db: Database,
}

impl DbTasks {
    /// A store on a migrated database.
    pub fn new(db: Database) -> Self {
        DbTasks { db }
    }
}

/// A task as stored: status as its rank, dates as text, times as epoch milliseconds.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(storage::Backend))]
pub(crate) struct TaskRow {
    id: String,
    title: String,
    description: Option<String>,
    status: i32,
    due_date: Option<String>,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
    version: i64,
}

impl TryFrom<TaskRow> for Task {
    type Error = AppError;
    fn try_from(row: TaskRow) -> AppResult<Task> {
        let id = id::from_stored("tasks.id", &row.id)?;
        let status = TaskStatus::from_rank(row.status).ok_or_else(|| corrupt("status", &row.status.to_string()))?;
        let due_date = match &row.due_date {
            None => None,
            Some(raw) => Some(time::parse_date(raw).ok_or_else(|| corrupt("due_date", raw))?),
        };
        Ok(Task {
            id,
            title: row.title,
            description: row.description,
            status,
            due_date,
            created_at: time::from_millis(row.created_at),
            updated_at: time::from_millis(row.updated_at),
            completed_at: row.completed_at.map(time::from_millis),
            version: row.version,
        })
    }
}

/// A stored value the schema's checks should have kept out: a bug, never the client's fault.
fn corrupt(column: &str, raw: &str) -> AppError {
    id::corrupt(&format!("tasks.{column}"), raw)
}

/// The tasks of `board`: `owner_id = ?` with the owner's id, or `owner_id IS NULL` for
/// the anonymous board. Every tasks index leads with `owner_id`, and both are equalities
/// there, so the scope narrows every index walk instead of filtering rows: a user's lists
/// and stats cost what they would on a database of their own.
pub(crate) fn on_board(board: Board) -> storage::sql::Sql {
    storage::sql::column_is("tasks.owner_id", owner_value(board))
}

/// `tasks.owner_id` of the rows of `board`.
pub(crate) fn owner_value(board: Board) -> Option<String> {
    board.owner_id().map(|id| id.to_string())
}

/// The task `id` of `board`; a task of another board is as unknown as no task.
fn find(conn: &mut DbConn, board: Board, id: Uuid) -> AppResult<Task> {
    tasks::table
        .filter(tasks::id.eq(id.to_string()))
        .filter(on_board(board))
        .select(TaskRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("task"))?
        .try_into()
}

impl TaskService for DbTasks {
    fn create(&self, board: Board, new: NewTask) -> AppResult<Task> {
        let task = new.validate()?.into_task();
        // One statement (its trigger moves the board's counters within it): on PostgreSQL
        // a transaction of its own, two round trips fewer.
        self.db.write_statement(move |c| {
            diesel::insert_into(tasks::table)
                .values((
                    tasks::id.eq(task.id.to_string()),
                    tasks::owner_id.eq(owner_value(board)),
                    tasks::title.eq(&task.title),
                    tasks::description.eq(&task.description),
                    tasks::status.eq(task.status.rank()),
                    tasks::due_date.eq(task.due_date.map(format_date)),
                    tasks::created_at.eq(time::to_millis(task.created_at)),
                    tasks::updated_at.eq(time::to_millis(task.updated_at)),
                    tasks::completed_at.eq(task.completed_at.map(time::to_millis)),
                    tasks::version.eq(task.version),
                ))
                .execute(c)?;
            Ok(task.clone())
        })
    }

    fn list(&self, board: Board, query: &ListTasks) -> AppResult<Page<Task>> {
        let today = time::now().date_naive();
        let (rows, total) = if query.filter.search.is_some() {
            list::load_page(&mut *self.db.read_for_search()?, board, query, today)?
        } else {
            list::load_page(&mut *self.db.read()?, board, query, today)?
        };
        let tasks = rows.into_iter().map(Task::try_from).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(tasks, &query.page, &query.sort, |t| query.keys_of(t)).with_total(total))
    }

    fn get(&self, board: Board, id: Uuid) -> AppResult<Task> {
        let mut conn = self.db.read()?;
        find(&mut conn, board, id)
    }

    fn update(&self, board: Board, id: Uuid, changes: TaskChanges, expected: IfMatch) -> AppResult<Task> {
        let changes = changes.validate()?;
        // Found, checked and changed in one write: no other change can come in between.
        self.db.write(move |c| {
            let current = find(c, board, id)?;
            expected.check(current.version)?;
            let Some(updated) = changes.clone().apply_to(&current) else {
                return Ok(current);
            };
            diesel::update(tasks::table.filter(tasks::id.eq(id.to_string())))
                .set((
                    tasks::title.eq(&updated.title),
                    tasks::description.eq(&updated.description),
                    tasks::status.eq(updated.status.rank()),
                    tasks::due_date.eq(updated.due_date.map(format_date)),
                    tasks::updated_at.eq(time::to_millis(updated.updated_at)),
                    tasks::completed_at.eq(updated.completed_at.map(time::to_millis)),
                    tasks::version.eq(updated.version),
                ))
                .execute(c.conn())?;
            Ok(updated)
        })
    }

    fn delete(&self, board: Board, id: Uuid, expected: IfMatch) -> AppResult<()> {
        self.db.write(move |c| {
            let current = find(c, board, id)?;
            expected.check(current.version)?;
            diesel::delete(tasks::table.filter(tasks::id.eq(id.to_string()))).execute(c.conn())?;
            Ok(())
        })
    }

    fn stats(&self, board: Board, query: &TaskStatsQuery) -> AppResult<TaskStats> {
        let today = time::now().date_naive();
        let query = *query;
        // One read transaction: the three counts describe the same moment.
        self.db.read()?.transaction(|c| stats::stats(c, board, &query, today))
    }
}
