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
//! Every other filter is kept off SQLite's indexes with a unary `+` (SQLite's documented
//! way to do so, rendered by `storage::sql::Sql::sqlite_no_index`) or by naming the bare
//! `due_date` column, which no index holds, and is checked on the rows the walk visits.
//!
//! PostgreSQL gets one hint: its pooled connections plan each list once without the
//! values (generic plans), so a `created_at` range off the lead gets `+ 0` to keep it off
//! `tasks_by_created`. Otherwise its planner weighs each filter by the column's statistics
//! (a `+` would hide them and make it expect too few matches, then sort). What it needs is
//! conditions it can serve in order: a status set is an equality or a range (never an
//! `IN` list, which PostgreSQL before 17 reads in no order), and a `created_from` under an
//! `updated_at` sort also bounds `updated_at` (implied: `updated_at >= created_at`), so the
//! walk starts at the first task that may match. `query_plans.rs` proves the plans of both
//! engines.

use chrono::NaiveDate;
use core_models::pagination::Total;
use core_models::rank::RankEnum as _;
use core_models::{time, AppError, AppResult, Board};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::prelude::*;
use storage::count::count_up_to;
use storage::keyset::{key_columns, order_clause, KeysetAfter, SqlSortField};
use storage::schema::tasks;
use storage::sql::{ranks_in, sql, Sql};
use storage::{Backend, DbConn};

use storage::search::Search;

use super::{on_board, owner_value, TaskRow};
use crate::model::{format_date, TaskStatus};
use crate::query::{ListTasks, TaskSort, NO_DUE_DATE_KEY};

/// The due-date sort key, a generated column of the migration: tasks without a due date
/// get a key above every real date. Indexed by `tasks_by_due` and `tasks_by_status_due`.
pub(crate) const DUE_KEY: &str = "tasks.due_key";

/// A boxed `SELECT` of task rows.
pub(crate) type TaskQuery = tasks::BoxedQuery<'static, Backend, SqlTypeOf<AsSelect<TaskRow, Backend>>>;

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
    fn sql_in(self, descending: bool) -> (&'static str, bool) {
        match (self, descending) {
            // Undated tasks get '' (below every date): descending, they come last too.
            (TaskSort::DueDate, true) => (DUE_DESC_KEY, false),
            _ => self.sql(),
        }
    }
}

/// The descending due-date sort key, `coalesce(due_date, '')` (migration
/// 2026-12-05-000050): undated tasks below every date, so last under `-due_date`. Indexed
/// by `tasks_by_due_desc` and `tasks_by_status_due_desc`.
pub(crate) const DUE_DESC_KEY: &str = "tasks.due_desc_key";

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

/// `tasks.status` is one of `statuses` (see [`storage::sql::ranks_in`]): status ranks come
/// from [`TaskStatus::rank`], never from the client, so writing them into the SQL is safe.
fn status_in(statuses: &[TaskStatus]) -> Sql {
    ranks_in("tasks.status", &statuses.iter().map(|s| s.rank()).collect::<Vec<_>>())
}

/// [`status_in`] kept off SQLite's indexes (PostgreSQL weighs it by the column's
/// statistics and needs no hint).
fn status_in_off_index(statuses: &[TaskStatus]) -> Sql {
    sql("").sqlite_no_index().append(status_in(statuses))
}

/// The query of one page of `board` (`limit + 1` rows, the extra one proving there is
/// more), with `today` (UTC) deciding what is overdue, and `search` the planned search of
/// the query's words (see [`storage::search`]): a walk keeps the sort index driving, a
/// lead starts from the matches and sorts them.
pub(crate) fn list_query(
    board: Board,
    query: &ListTasks,
    today: NaiveDate,
    search: Option<&Search>,
) -> AppResult<TaskQuery> {
    let mut q = listed(board, query, today, search);
    let columns = key_columns(&query.sort, "tasks.id");
    if let Some(after) = query.after()? {
        q = q.filter(KeysetAfter::new(columns.clone(), after.to_vec()));
    }
    Ok(q.order(order_clause(&columns)).limit(i64::from(query.page.limit) + 1))
}

/// The tasks of `board` the list's filters keep, in no order and before its cursor: what
/// its pages read and its `count=true` counts. Which filter may use an index depends on
/// the sort (see the module docs), never which tasks it keeps.
pub(crate) fn listed(board: Board, query: &ListTasks, today: NaiveDate, search: Option<&Search>) -> TaskQuery {
    let filter = &query.filter;
    let lead = query.sort.lead().map_or(TaskSort::CreatedAt, |k| k.field);
    let mut q: TaskQuery = tasks::table.select(TaskRow::as_select()).into_boxed();
    q = match search {
        Some(search) => q.filter(search.scope("tasks.owner_id", owner_value(board))).filter(search.filter()),
        None => q.filter(on_board(board)),
    };

    if let Some(statuses) = &filter.statuses {
        q = if status_drives(lead, statuses) {
            q.filter(status_in(statuses))
        } else {
            q.filter(status_in_off_index(statuses))
        };
    }

    // Under a due-date sort the due filters are ranges of the indexed key; otherwise they
    // name the bare column, which no index holds. A date range must leave out undated
    // tasks: the bare column is NULL there (no comparison holds), but the key's stand-in
    // sorts above every date, so a lower bound on the key needs an upper one too.
    // Descending, the key is `due_desc_key`, whose stand-in ('') sorts below every date.
    let lead_descending = query.sort.lead().is_some_and(|k| k.descending);
    let (due, dated, undated) = match (lead, lead_descending) {
        (TaskSort::DueDate, false) => {
            (DUE_KEY, format!("{DUE_KEY} < '{NO_DUE_DATE_KEY}'"), format!("{DUE_KEY} >= '{NO_DUE_DATE_KEY}'"))
        }
        (TaskSort::DueDate, true) => (DUE_DESC_KEY, format!("{DUE_DESC_KEY} > ''"), format!("{DUE_DESC_KEY} <= ''")),
        _ => ("tasks.due_date", "tasks.due_date IS NOT NULL".to_string(), "tasks.due_date IS NULL".to_string()),
    };
    if let Some(from) = filter.due_from {
        q = q.filter(sql(format!("{due} >= ")).bind_text(format_date(from)));
        q = q.filter(sql(dated.clone()));
    }
    if let Some(to) = filter.due_to {
        q = q.filter(sql(format!("{due} <= ")).bind_text(format_date(to)));
        q = q.filter(sql(dated.clone()));
    }
    match filter.has_due_date {
        None => {}
        Some(true) => q = q.filter(sql(dated.clone())),
        // A range, not `=`: SQLite keeps the index order after a range of an expression
        // key, but sorts again after an equality on it. Nothing sorts beyond the stand-in.
        Some(false) => q = q.filter(sql(undated)),
    }
    let open = status_in_off_index(&TaskStatus::OPEN);
    match filter.overdue {
        None => {}
        Some(true) => {
            q = q
                .filter(sql(format!("{due} < ")).bind_text(format_date(today)))
                .filter(sql(dated))
                .filter(open.clone());
        }
        // Inside NOT no index applies; the key form keeps undated tasks "not overdue".
        Some(false) => {
            q = q.filter(
                sql(format!("NOT ({DUE_KEY} < ")).bind_text(format_date(today)).sql(" AND ").append(open).sql(")"),
            );
        }
    }

    let created_drives = lead == TaskSort::CreatedAt;
    // Tested on the rows of the walk when `created_at` does not lead: SQLite's unary `+`,
    // and on PostgreSQL `+ 0`, without which its generic plan (made without the bounds)
    // takes any range for a sliver of the board and reads it from `tasks_by_created`,
    // then sorts it (3,000 rows a page in the plan test).
    let created_off_index = || sql("").sqlite_no_index().sql("tasks.created_at").sql_per_engine("", " + 0");
    if let Some(from) = filter.created_from {
        let ms = time::to_millis(from);
        q = if created_drives {
            q.filter(tasks::created_at.ge(ms))
        } else {
            q.filter(created_off_index().sql(" >= ").bind_int(ms))
        };
        if lead == TaskSort::UpdatedAt {
            // Implied (the schema checks `updated_at >= created_at`) and a range of the
            // walked index: the walk starts where the tasks may match instead of crossing
            // every older one (creation and update times go together).
            q = q.filter(tasks::updated_at.ge(ms));
        }
    }
    if let Some(to) = filter.created_to {
        let ms = time::to_millis(to);
        q = if created_drives {
            q.filter(tasks::created_at.le(ms))
        } else {
            q.filter(created_off_index().sql(" <= ").bind_int(ms))
        };
    }
    q
}

/// The rows of one page (`limit + 1`) and, with `count=true`, the list's total: the search
/// (if any) planned and run in the same read transaction, so the plan's count, the page
/// and the total see the same tasks.
pub(crate) fn load_page(
    conn: &mut DbConn,
    board: Board,
    query: &ListTasks,
    today: NaiveDate,
) -> AppResult<(Vec<TaskRow>, Option<Total>)> {
    // One statement (a page without its total, no search) needs no transaction of its own.
    let several = query.page.count || query.filter.search.is_some();
    storage::conn::snapshot(conn, several, |c| {
        let Some(terms) = &query.filter.search else {
            let rows = list_query(board, query, today, None)?.load(c)?;
            let total = query.page.total(|most| count_up_to(c, listed(board, query, today, None), most))?;
            return Ok((rows, total));
        };
        let Some(search) = storage::search::TASKS.search(c, terms)? else {
            return Ok((vec![], query.page.total(|_| Ok::<_, AppError>(0))?));
        };
        let total = query.page.total(|most| {
            search.counting().steered(c, |c, counted| count_up_to(c, listed(board, query, today, Some(counted)), most))
        })?;
        let rows = i64::from(query.page.limit) + 1;
        let rows: Vec<TaskRow> = search
            .run(c, rows, |c, search| -> AppResult<_> { Ok(list_query(board, query, today, Some(search))?.load(c)) })?;
        Ok((rows, total))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewTask, Task};
    use crate::query::ListTasksParams;
    use crate::TaskService as _;
    use core_models::Page;
    use storage::search::Plan;
    use uuid::Uuid;

    /// Every sort, paged 7 at a time to the end, on two boards: a walk, a lead and the
    /// chosen plan give the same tasks in the same order, and exactly the tasks holding
    /// every word. Half the tasks have a title outside ASCII ("Tâche"), so a walk tests
    /// some rows on their own text and probes the index for the others. A walk over a
    /// sparse word visits too many rows and is read again as a lead: that path gives the
    /// same pages too.
    #[test]
    fn both_plans_give_the_same_pages() {
        let db = storage::test_pool_sqlite();
        let service = super::super::DbTasks::new(db.database());
        let user = Board::User(Uuid::now_v7());
        let words = |i: usize| {
            let mut w = vec![if i.is_multiple_of(3) { "Gamma" } else { "gamut" }];
            if i % 3 != 1 {
                w.push("alpha");
            }
            if i % 10 == 4 {
                w.push("BETA");
            }
            w
        };
        for i in 0..150_usize {
            let board = if i.is_multiple_of(5) { user } else { Board::Anonymous };
            let (title, description) = match words(i) {
                w if i % 2 == 0 => (format!("{} {i}", w.join(" ")), None),
                w => (format!("Tâche {}", 150 - i), Some(w.join(", "))),
            };
            let new = NewTask {
                title,
                description,
                status: Some(["pending", "in_progress", "completed"][i % 3].into()),
                due_date: (i % 4 != 0).then(|| format!("2026-0{}-1{}", 1 + i % 9, i % 10)),
            };
            service.create(board, new).unwrap();
        }
        let mut conn = db.read().unwrap();
        storage::budget::clear();
        let today = time::now().date_naive();
        let mut fell_back = false;
        for sort in
            ["created_at", "-created_at", "updated_at", "due_date", "-due_date", "status", "-status", "title", "-title"]
        {
            for (q, holds) in [
                ("alpha", &(|i: usize| i % 3 != 1) as &dyn Fn(usize) -> bool),
                ("beta", &|i| i % 10 == 4),
                ("gam", &|_| true),
                ("gamm alpha", &|i| i % 3 == 0),
                ("alpha beta gamu", &|i| i % 10 == 4 && i % 3 == 2),
                ("delta", &|_| false),
            ] {
                for board in [Board::Anonymous, user] {
                    let on_board = |i: usize| i.is_multiple_of(5) == (board == user);
                    let expected = (0..150).filter(|&i| on_board(i) && holds(i)).count();
                    let mut pages = Vec::new();
                    for force in [None, Some(Plan::Walk), Some(Plan::Lead)] {
                        let mut ids: Vec<Uuid> = Vec::new();
                        let mut cursor: Option<String> = None;
                        loop {
                            let mut pairs = vec![("sort", sort), ("q", q), ("limit", "7")];
                            if let Some(c) = &cursor {
                                pairs.push(("cursor", c));
                            }
                            let query = ListTasks::parse(ListTasksParams::from_pairs(pairs)).unwrap();
                            let rows: Vec<TaskRow> = conn
                                .transaction(|c| -> AppResult<Vec<TaskRow>> {
                                    let terms = query.filter.search.as_ref().unwrap();
                                    let Some(search) = storage::search::TASKS.search(c, terms)? else {
                                        return Ok(vec![]);
                                    };
                                    let search = match force {
                                        Some(plan) => search.with_plan(plan),
                                        None => search,
                                    };
                                    search.run(c, 8, |c, s| {
                                        fell_back |= force == Some(Plan::Walk) && s.plan() == Plan::Lead;
                                        Ok(list_query(board, &query, today, Some(s))?.load(c))
                                    })
                                })
                                .unwrap();
                            let tasks = rows.into_iter().map(Task::try_from).collect::<AppResult<Vec<_>>>().unwrap();
                            let page = Page::from_overfetch(tasks, &query.page, &query.sort, |t| query.keys_of(t));
                            ids.extend(page.items.iter().map(|t| t.id));
                            match page.next_cursor {
                                Some(next) => cursor = Some(next),
                                None => break,
                            }
                        }
                        assert_eq!(ids.len(), expected, "sort={sort} q={q} {board:?} {force:?}");
                        pages.push(ids);
                    }
                    // The count (a lead, whatever the page's plan) finds the same tasks, and
                    // stops where it is told to.
                    for most in [1_000, 3] {
                        let counted = conn
                            .transaction(|c| -> AppResult<i64> {
                                let query = ListTasks::parse(ListTasksParams::from_pairs([("sort", sort), ("q", q)]))?;
                                let terms = query.filter.search.as_ref().unwrap();
                                let Some(search) = storage::search::TASKS.search(c, terms)? else { return Ok(0) };
                                search.counting().steered(c, |c, counted| {
                                    Ok(count_up_to(c, listed(board, &query, today, Some(counted)), most)?)
                                })
                            })
                            .unwrap();
                        let wanted = i64::try_from(expected).unwrap().min(most);
                        assert_eq!(counted, wanted, "sort={sort} q={q} {board:?}: counted up to {most}");
                    }
                    assert_eq!(pages[0], pages[1], "sort={sort} q={q} {board:?}: chosen vs walk");
                    assert_eq!(pages[1], pages[2], "sort={sort} q={q} {board:?}: walk vs lead");
                }
            }
        }
        assert!(fell_back, "a walk over a sparse word gives up for a lead");
    }

    #[test]
    fn due_key_uses_the_no_due_date_stand_in() {
        let migration = include_str!("../../../../migrations/sqlite/2026-11-25-000002_tasks/up.sql");
        assert!(migration
            .contains(&format!("due_key      TEXT GENERATED ALWAYS AS (coalesce(due_date, '{NO_DUE_DATE_KEY}'))")));
        assert!(NO_DUE_DATE_KEY > "9999-12-31", "above every real date");
    }
}
