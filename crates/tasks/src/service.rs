//! The tasks contract every store implements.

use core_models::version::IfMatch;
use core_models::{AppResult, Board, Page};
use uuid::Uuid;

use crate::model::{NewTask, Task, TaskChanges};
use crate::query::ListTasks;
use crate::stats::{TaskStats, TaskStatsQuery};

/// Create, read, update, delete, list and summarise a freelancer's tasks, each call on
/// one [`Board`].
///
/// A call sees only the tasks of its board: the shared anonymous board, or one user's own
/// (lists, reads, writes and stats alike). A task of another board is reported as unknown
/// (404), never as forbidden, so nobody learns it exists. Writes take the `If-Match`
/// condition and check it in the same step as the change (a stale one is a 412 naming the
/// current version, see [`core_models::version`]).
///
/// Implementations validate their input (trimming, lengths, statuses, dates) themselves, so
/// a library user gets the same rules as an HTTP client. Calls block (Diesel is
/// synchronous): async callers run them on a blocking pool.
pub trait TaskService: Send + Sync + 'static {
    /// Stores a new task on `board`; `created_at` = `updated_at` = now (and `completed_at`
    /// too when it is created completed), `version` 1.
    fn create(&self, board: Board, new: NewTask) -> AppResult<Task>;
    /// One page of the board's tasks matching the filter, in the requested order.
    fn list(&self, board: Board, query: &ListTasks) -> AppResult<Page<Task>>;
    /// One task of the board, or 404.
    fn get(&self, board: Board, id: Uuid) -> AppResult<Task>;
    /// Applies the present fields if the task's version passes `expected`. `updated_at`
    /// moves and `version` goes one up on every real change; `completed_at` is set on
    /// entering `completed` and cleared on leaving it. 404 if the board has no such task,
    /// 412 if `expected` is stale.
    fn update(&self, board: Board, id: Uuid, changes: TaskChanges, expected: IfMatch) -> AppResult<Task>;
    /// Deletes a task of the board if its version passes `expected`; 404 or 412 as `update`.
    fn delete(&self, board: Board, id: Uuid, expected: IfMatch) -> AppResult<()>;
    /// The board's counts per status, overdue tasks, and completions per bucket over the range.
    fn stats(&self, board: Board, query: &TaskStatsQuery) -> AppResult<TaskStats>;
}
