//! Freelancer task tracker: tasks with a status workflow, due dates, filters, search and
//! progress stats, with or without a login: every call names a
//! [`Board`](core_models::Board), the shared anonymous board or one user's own, and sees
//! only that board's tasks. Tasks carry a `version`; writes take an
//! [`IfMatch`](core_models::version::IfMatch) condition checked inside the write.
//!
//! [`TaskService`] is the contract and [`DbTasks`] its implementation over the shared
//! [`storage::Database`]. [`http::configure`] mounts the routes under the API base
//! (`/api/v1/tasks`). The crate works as a library on its own:
//!
//! ```
//! use core_models::version::IfMatch;
//! use core_models::Board;
//! use tasks::{ListTasks, NewTask, DbTasks, TaskChanges, TaskFilter, TaskService, TaskStatus};
//!
//! let db = storage::test_pool();
//! let tasks = DbTasks::new(db.database());
//! let me = Board::User(uuid::Uuid::now_v7());
//! let invoice = tasks.create(me, NewTask {
//!     title: "Send the invoice".into(),
//!     due_date: Some("2026-12-01".into()),
//!     ..NewTask::default()
//! })?;
//! assert_eq!((invoice.status, invoice.completed_at, invoice.version), (TaskStatus::Pending, None, 1));
//! assert_eq!(tasks.get(Board::Anonymous, invoice.id).unwrap_err().status_code(), 404, "my tasks are mine");
//!
//! let done = tasks.update(me, invoice.id, TaskChanges {
//!     status: Some(Some("completed".into())),
//!     ..TaskChanges::default()
//! }, IfMatch::version(1))?;
//! assert_eq!((done.completed_at, done.version), (Some(done.updated_at), 2));
//!
//! let open = ListTasks {
//!     filter: TaskFilter { statuses: Some(TaskStatus::OPEN.to_vec()), ..TaskFilter::default() },
//!     ..ListTasks::default()
//! };
//! assert!(tasks.list(me, &open)?.items.is_empty());
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod http;
mod model;
mod query;
mod service;
mod stats;
mod store;

pub use model::{NewTask, Task, TaskChanges, TaskStatus};
pub use query::{ListTasks, ListTasksParams, TaskFilter, TaskSort, DEFAULT_SORT};
pub use service::TaskService;
pub use stats::{
    BucketCount, StatsBucket, StatusCounts, TaskStats, TaskStatsParams, TaskStatsQuery, DEFAULT_DAYS, MAX_BUCKETS,
};
pub use store::DbTasks;
