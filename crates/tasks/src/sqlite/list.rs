//! The SQL of one page of a task list, written so that an index always yields the order.
//!
//! Without table statistics SQLite's planner prefers an index that narrows a filter and
//! then sorts every match in a temporary B-tree, so each page would cost a sort of all
//! matching tasks. Here the index of the leading sort key always drives the walk: a keyset
//! page then reads only up to its last row, whatever its position. A filter is written so
//! it can use an index only where it narrows that same walk:
//!
//! - `created_from`/`created_to` under a `created_at` sort (a range of `tasks_by_created`);
//! - `due_from`, `due_to`, `overdue`, `has_due_date` under a `due_date` sort (ranges of
//!   the due-date key in `tasks_by_due`);
//! - `status` under a `status` sort, and a single status under a `due_date` or
//!   `created_at` sort (the `tasks_by_status_*` composite indexes).
//!
//! Every other filter is kept off the indexes with a unary `+` (SQLite's documented way to
//! do so) or by naming the bare `due_date` column, which no index holds, and is checked on
//! the rows the walk visits. `query_plans.rs` proves the resulting plans.

use chrono::NaiveDate;
use core_models::rank::RankEnum as _;
use core_models::{time, AppResult, Board};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use storage::keyset::{key_columns, order_clause, KeysetAfter, SqlSortField};
use storage::schema::tasks;
use storage::sql::sql;

use super::{on_board, TaskRow};
use crate::model::{format_date, TaskStatus};
use crate::query::{ListTasks, TaskSort, NO_DUE_DATE_KEY};

/// The due-date sort key, a generated column of the migration: tasks without a due date
/// get a key above every real date. Indexed by `tasks_by_due` and `tasks_by_status_due`.
pub(crate) const DUE_KEY: &str = "tasks.due_key";

/// A boxed `SELECT` of task rows.
pub(crate) type TaskQuery = tasks::BoxedQuery<'static, Sqlite, SqlTypeOf<AsSelect<TaskRow, Sqlite>>>;

impl SqlSortField for TaskSort {
    fn sql(self) -> (&'static str, bool) {
        match self {
            TaskSort::CreatedAt => ("tasks.created_at", false),
            TaskSort::UpdatedAt => ("tasks.updated_at", false),
            TaskSort::DueDate => (DUE_KEY, false),
            TaskSort::Status => ("tasks.status", false),
            TaskSort::Title => ("tasks.title_key", false),
        }
    }
}

/// Whether the status filter may narrow the index walk of a list led by `lead`.
fn status_drives(lead: TaskSort, statuses: &[TaskStatus]) -> bool {
    match lead {
        // `tasks_by_status (owner_id, status, id)` yields each listed status in order.
        TaskSort::Status => true,
        // The composite indexes hold one status per range; several would need a merge.
        TaskSort::DueDate | TaskSort::CreatedAt => statuses.len() == 1,
        TaskSort::UpdatedAt | TaskSort::Title => false,
    }
}

/// `+tasks.status IN (…)`: status ranks come from [`TaskStatus::rank`], never from the
/// client, so writing them into the SQL is safe.
fn status_in_off_index(statuses: &[TaskStatus]) -> String {
    let ranks: Vec<String> = statuses.iter().map(|s| s.rank().to_string()).collect();
    format!("+tasks.status IN ({})", ranks.join(", "))
}

/// The query of one page of `board` (`limit + 1` rows, the extra one proving there is
/// more), with `today` (UTC) deciding what is overdue. `None` when it can match nothing (a search
/// without any word), so no query needs to run.
pub(crate) fn list_query(board: Board, query: &ListTasks, today: NaiveDate) -> AppResult<Option<TaskQuery>> {
    let filter = &query.filter;
    let lead = query.sort.keys().first().map_or(TaskSort::CreatedAt, |k| k.field);
    let mut q: TaskQuery = tasks::table.select(TaskRow::as_select()).into_boxed().filter(on_board(board));

    if let Some(statuses) = &filter.statuses {
        q = if status_drives(lead, statuses) {
            q.filter(tasks::status.eq_any(statuses.iter().map(|s| s.rank()).collect::<Vec<_>>()))
        } else {
            q.filter(sql(status_in_off_index(statuses)))
        };
    }

    // Under a due-date sort the due filters are ranges of the indexed key; otherwise they
    // name the bare column, which no index holds. A date range must leave out undated
    // tasks: the bare column is NULL there (no comparison holds), but the key's stand-in
    // sorts above every date, so a lower bound on the key needs an upper one too.
    let due = if lead == TaskSort::DueDate { DUE_KEY } else { "tasks.due_date" };
    if let Some(from) = filter.due_from {
        q = q.filter(sql(format!("{due} >= ")).bind_text(format_date(from)));
        if lead == TaskSort::DueDate {
            q = q.filter(sql(format!("{DUE_KEY} < '{NO_DUE_DATE_KEY}'")));
        }
    }
    if let Some(to) = filter.due_to {
        q = q.filter(sql(format!("{due} <= ")).bind_text(format_date(to)));
    }
    match filter.has_due_date {
        None => {}
        Some(true) => q = q.filter(sql(format!("{due} < '{NO_DUE_DATE_KEY}'"))),
        // A range, not `=`: SQLite keeps the index order after a range of an expression
        // key, but sorts again after an equality on it. Nothing sorts above the stand-in.
        Some(false) if lead == TaskSort::DueDate => q = q.filter(sql(format!("{DUE_KEY} >= '{NO_DUE_DATE_KEY}'"))),
        Some(false) => q = q.filter(tasks::due_date.is_null()),
    }
    let open = status_in_off_index(&TaskStatus::OPEN);
    match filter.overdue {
        None => {}
        Some(true) => {
            q = q.filter(sql(format!("{due} < ")).bind_text(format_date(today))).filter(sql(open.clone()));
        }
        // Inside NOT no index applies; the key form keeps undated tasks "not overdue".
        Some(false) => {
            q = q.filter(sql(format!("NOT ({DUE_KEY} < ")).bind_text(format_date(today)).sql(format!(" AND {open})")));
        }
    }

    let created_drives = lead == TaskSort::CreatedAt;
    if let Some(from) = filter.created_from {
        let ms = time::to_millis(from);
        q = if created_drives {
            q.filter(tasks::created_at.ge(ms))
        } else {
            q.filter(sql("+tasks.created_at >= ").bind_int(ms))
        };
    }
    if let Some(to) = filter.created_to {
        let ms = time::to_millis(to);
        q = if created_drives {
            q.filter(tasks::created_at.le(ms))
        } else {
            q.filter(sql("+tasks.created_at <= ").bind_int(ms))
        };
    }

    if let Some(terms) = &filter.search {
        let Some(expr) = storage::search::fts_match_expr(terms) else {
            return Ok(None);
        };
        // The matches are collected once into a lookup list; the walk probes it per row.
        q = q.filter(storage::search::matching("tasks.seq", "tasks_fts", expr, false));
    }

    let columns = key_columns(&query.sort, "tasks.id");
    if let Some(after) = query.after()? {
        q = q.filter(KeysetAfter::new(columns.clone(), after.to_vec()));
    }
    Ok(Some(q.order(sql(order_clause(&columns))).limit(i64::from(query.page.limit) + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_key_uses_the_no_due_date_stand_in() {
        let migration = include_str!("../../../../migrations/2026-11-25-000002_tasks/up.sql");
        assert!(migration
            .contains(&format!("due_key      TEXT GENERATED ALWAYS AS (coalesce(due_date, '{NO_DUE_DATE_KEY}'))")));
        assert!(NO_DUE_DATE_KEY > "9999-12-31", "above every real date");
    }
}
