//! Freelancer task tracker: tasks with a status workflow, due dates, filters, search and
//! progress stats, no login yet (the schema is owner-ready; see `docs/tasks.md`).
//!
//! [`TaskService`] is the contract and [`SqliteTasks`] its implementation over the shared
//! [`storage::Database`]. [`http::configure`] mounts the routes under the API base
//! (`/api/v1/tasks`). The crate works as a library on its own:
//!
//! ```
//! use tasks::{ListTasks, NewTask, SqliteTasks, TaskChanges, TaskFilter, TaskService, TaskStatus};
//!
//! let db = storage::test_pool();
//! let tasks = SqliteTasks::new(db.database());
//! let invoice = tasks.create(NewTask {
//!     title: "Send the invoice".into(),
//!     due_date: Some("2026-12-01".into()),
//!     ..NewTask::default()
//! })?;
//! assert_eq!((invoice.status, invoice.completed_at), (TaskStatus::Pending, None));
//!
//! let done = tasks.update(invoice.id, TaskChanges {
//!     status: Some(Some("completed".into())),
//!     ..TaskChanges::default()
//! })?;
//! assert_eq!(done.completed_at, Some(done.updated_at));
//!
//! let open = ListTasks {
//!     filter: TaskFilter { statuses: Some(TaskStatus::OPEN.to_vec()), ..TaskFilter::default() },
//!     ..ListTasks::default()
//! };
//! assert!(tasks.list(&open)?.items.is_empty());
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod http;
mod model;
mod query;
mod service;
mod sqlite;
mod stats;

pub use model::{NewTask, Task, TaskChanges, TaskStatus};
pub use query::{ListTasks, ListTasksParams, TaskFilter, TaskSort, DEFAULT_SORT};
pub use service::TaskService;
pub use sqlite::SqliteTasks;
pub use stats::{
    BucketCount, StatsBucket, StatusCounts, TaskStats, TaskStatsParams, TaskStatsQuery, DEFAULT_DAYS, MAX_BUCKETS,
};
