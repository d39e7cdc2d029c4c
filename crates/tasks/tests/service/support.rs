//! Shared helpers: a store on a fresh database, task builders, paging through a whole list,
//! and back-dating rows (the service always stamps "now").

use chrono::{DateTime, NaiveDate, Utc};
use core_models::time;
use core_models::Board;
use diesel::prelude::*;
use storage::schema::tasks as task_rows;
use tasks::{DbTasks, ListTasks, ListTasksParams, NewTask, Task, TaskChanges, TaskService};
use uuid::Uuid;

/// A store plus the temporary database it lives in.
pub struct Store {
    pub tasks: DbTasks,
    pub db: storage::TestDb,
}

pub fn store() -> Store {
    let db = storage::test_pool();
    Store { tasks: DbTasks::new(db.database()), db }
}

pub fn new(title: &str) -> NewTask {
    NewTask { title: title.to_string(), ..NewTask::default() }
}

pub fn due(title: &str, due_date: Option<NaiveDate>, status: &str) -> NewTask {
    NewTask {
        title: title.to_string(),
        due_date: due_date.map(|d| d.format("%Y-%m-%d").to_string()),
        status: Some(status.to_string()),
        ..NewTask::default()
    }
}

pub fn set_status(status: &str) -> TaskChanges {
    TaskChanges { status: Some(Some(status.to_string())), ..TaskChanges::default() }
}

pub fn today() -> NaiveDate {
    time::now().date_naive()
}

pub fn days_from_today(days: i64) -> NaiveDate {
    today() + chrono::Duration::days(days)
}

pub fn date(raw: &str) -> NaiveDate {
    time::parse_date(raw).unwrap()
}

pub fn at(raw: &str) -> DateTime<Utc> {
    time::parse(raw).unwrap()
}

/// Parses `key=value&...` the way `GET /tasks` does, values taken literally (not URL-decoded).
pub fn query(query_string: &str) -> ListTasks {
    try_query(query_string).unwrap()
}

pub fn try_query(query_string: &str) -> core_models::AppResult<ListTasks> {
    ListTasks::parse(ListTasksParams::from_pairs(query_string.split('&').filter_map(|pair| pair.split_once('='))))
}

/// Every task of the list, following `next_cursor` page by page.
pub fn all_pages(s: &dyn TaskService, mut list: ListTasks) -> Vec<Task> {
    let limit = list.page.limit;
    let mut all = Vec::new();
    loop {
        let page = s.list(Board::Anonymous, &list).unwrap();
        assert!(page.items.len() <= limit as usize);
        all.extend(page.items);
        let Some(cursor) = page.next_cursor else { break };
        list.page = list.page.continued(&cursor).unwrap();
    }
    all
}

/// The ids of every task listed for `query_string` (paged with its own limit).
pub fn ids(s: &dyn TaskService, query_string: &str) -> Vec<Uuid> {
    all_pages(s, query(query_string)).iter().map(|t| t.id).collect()
}

/// Moves a task's creation (and last change) back in time.
pub fn backdate_created(store: &Store, id: Uuid, created_at: DateTime<Utc>) {
    let ms = time::to_millis(created_at);
    store
        .db
        .write(move |c| {
            diesel::update(task_rows::table.filter(task_rows::id.eq(id.to_string())))
                .set((task_rows::created_at.eq(ms), task_rows::updated_at.eq(ms)))
                .execute(c.conn())?;
            Ok(())
        })
        .unwrap();
}

/// Moves a completed task's completion back in time.
pub fn backdate_completed(store: &Store, id: Uuid, completed_at: DateTime<Utc>) {
    let ms = time::to_millis(completed_at);
    store
        .db
        .write(move |c| {
            let n = diesel::update(task_rows::table.filter(task_rows::id.eq(id.to_string())))
                .set(task_rows::completed_at.eq(ms))
                .execute(c.conn())?;
            assert_eq!(n, 1);
            Ok(())
        })
        .unwrap();
}
