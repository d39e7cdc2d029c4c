//! The tasks contract every store implements.

use core_models::{AppResult, Page};
use uuid::Uuid;

use crate::model::{NewTask, Task, TaskChanges};
use crate::query::ListTasks;
use crate::stats::{TaskStats, TaskStatsQuery};

/// Create, read, update, delete, list and summarise a freelancer's tasks.
///
/// Implementations validate their input (trimming, lengths, statuses, dates) themselves, so
/// a library user gets the same rules as an HTTP client. Calls block (Diesel is
/// synchronous): async callers run them on a blocking pool.
pub trait TaskService: Send + Sync + 'static {
    /// Stores a new task; `created_at` = `updated_at` = now (and `completed_at` too when it
    /// is created completed).
    fn create(&self, new: NewTask) -> AppResult<Task>;
    /// One page of tasks matching the filter, in the requested order.
    fn list(&self, query: &ListTasks) -> AppResult<Page<Task>>;
    /// One task, or 404.
    fn get(&self, id: Uuid) -> AppResult<Task>;
    /// Applies the present fields. `updated_at` moves on every real change; `completed_at`
    /// is set on entering `completed` and cleared on leaving it. 404 if unknown.
    fn update(&self, id: Uuid, changes: TaskChanges) -> AppResult<Task>;
    /// Deletes a task, or 404.
    fn delete(&self, id: Uuid) -> AppResult<()>;
    /// Counts per status, overdue tasks, and completions per bucket over the range.
    fn stats(&self, query: &TaskStatsQuery) -> AppResult<TaskStats>;
}
