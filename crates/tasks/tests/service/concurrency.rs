//! The task rules a single writer used to guarantee, under concurrent writes (issue 16,
//! point 4): on PostgreSQL the writes of each test are held open together
//! (`storage::Interleaving`); on SQLite they run one after the other and must end the same.

use std::sync::Arc;

use core_models::version::IfMatch;
use core_models::{AppResult, Board};
use storage::at_once;
use tasks::{DbTasks, Task, TaskService, TaskStatsParams, TaskStatsQuery};

use crate::support::{new, set_status, store, today};

type Job = Box<dyn FnOnce() -> AppResult<Task> + Send>;

fn update(tasks: &Arc<DbTasks>, id: uuid::Uuid, status: &str, expected: IfMatch) -> Job {
    let (tasks, status) = (tasks.clone(), status.to_string());
    Box::new(move || tasks.update(Board::Anonymous, id, set_status(&status), expected))
}

#[test]
fn of_two_changes_with_the_same_if_match_exactly_one_is_applied() {
    let s = store();
    let tasks = Arc::new(DbTasks::new(s.db.database()));
    let task = tasks.create(Board::Anonymous, new("contract")).unwrap();
    let results = at_once(
        &s.db,
        vec![
            update(&tasks, task.id, "in_progress", IfMatch::version(task.version)),
            update(&tasks, task.id, "completed", IfMatch::version(task.version)),
        ],
    );
    let applied: Vec<&Task> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(applied.len(), 1, "{results:?}");
    let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(refused.status_code(), 412, "{refused}");
    let now = tasks.get(Board::Anonymous, task.id).unwrap();
    assert_eq!((now.version, now.status), (2, applied[0].status), "the winner's change, and only it");
}

#[test]
fn unconditional_changes_at_once_are_both_applied_and_counted() {
    let s = store();
    let tasks = Arc::new(DbTasks::new(s.db.database()));
    let a = tasks.create(Board::Anonymous, new("a")).unwrap();
    let b = tasks.create(Board::Anonymous, new("b")).unwrap();
    // Two changes of one task: neither is lost (the version counts both).
    let results = at_once(
        &s.db,
        vec![update(&tasks, a.id, "in_progress", IfMatch::Any), update(&tasks, a.id, "completed", IfMatch::Any)],
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(tasks.get(Board::Anonymous, a.id).unwrap().version, 3);
    // Two tasks completed at once: the kept counters see both.
    let results = at_once(
        &s.db,
        vec![update(&tasks, a.id, "completed", IfMatch::Any), update(&tasks, b.id, "completed", IfMatch::Any)],
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let query = TaskStatsQuery::parse(TaskStatsParams::default(), today()).unwrap();
    let stats = tasks.stats(Board::Anonymous, &query).unwrap();
    assert_eq!(stats.by_status.completed, 2, "{stats:?}");
    assert_eq!((stats.by_status.pending, stats.by_status.in_progress), (0, 0), "{stats:?}");
}

/// A new task is one statement on PostgreSQL, outside `BEGIN`/`COMMIT`; its trigger moves
/// the board's counters. When another transaction changes that counter row first, the
/// statement waits for it and then loses (REPEATABLE READ: the row moved after its
/// snapshot); it runs again and is counted once. The test holds the row itself, so the
/// order is the same every run.
#[test]
fn a_new_task_that_waited_for_its_counter_row_runs_again_and_is_counted() {
    use diesel::connection::SimpleConnection as _;
    let s = store();
    let tasks = Arc::new(DbTasks::new(s.db.database()));
    tasks.create(Board::Anonymous, new("first")).unwrap();
    let on_postgres = storage::testing::postgres_server().is_some();
    let mut holder = s.db.database().read().unwrap();
    if on_postgres {
        holder.batch_execute("BEGIN; UPDATE task_counts SET n = n WHERE owner_key = ''").unwrap();
    }
    let second = {
        let tasks = tasks.clone();
        std::thread::spawn(move || tasks.create(Board::Anonymous, new("second")))
    };
    if on_postgres {
        let started = std::time::Instant::now();
        while !storage::testing::someone_waits_for_a_lock(&s.db.database()) {
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "the new task never waited for the row");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        holder.batch_execute("COMMIT").unwrap();
    }
    second.join().unwrap().expect("the new task ran again and was written");
    let query = TaskStatsQuery::parse(TaskStatsParams::default(), today()).unwrap();
    let stats = tasks.stats(Board::Anonymous, &query).unwrap();
    assert_eq!(stats.by_status.pending, 2, "{stats:?}");
}
