//! Tasks as the API shows them, their status, and the inputs that create and change them.

use chrono::{DateTime, NaiveDate, Utc};
use core_models::rank::RankEnum;
use core_models::version::{Versioned, FIRST_VERSION};
use core_models::{patch, text, time, AppResult, FieldError, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

core_models::rank_enum! {
    /// Where a task stands in its workflow: `pending` → `in_progress` → `completed`.
    ///
    /// The database stores the [`rank`](RankEnum::rank), so sorting by status follows the
    /// workflow, never the alphabet.
    pub enum TaskStatus as "status" {
        /// Not started (the default).
        Pending = 0 => "pending",
        /// Being worked on.
        InProgress = 1 => "in_progress",
        /// Done; the task carries `completed_at`.
        Completed = 2 => "completed",
    }
}

impl TaskStatus {
    /// The statuses of unfinished tasks (the ones that can be overdue).
    pub const OPEN: [TaskStatus; 2] = [TaskStatus::Pending, TaskStatus::InProgress];
}

/// A freelancer's task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Task {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// 1 to 200 characters.
    #[schema(example = "Send the invoice to ACME")]
    pub title: String,
    /// Optional, at most 20,000 characters.
    pub description: Option<String>,
    /// `pending`, `in_progress` or `completed`.
    pub status: TaskStatus,
    /// Optional calendar date `YYYY-MM-DD`.
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-01")]
    pub due_date: Option<NaiveDate>,
    /// RFC 3339 UTC, millisecond precision.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T09:30:00.123Z")]
    pub created_at: DateTime<Utc>,
    /// Moves on every change.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T09:30:00.123Z")]
    pub updated_at: DateTime<Utc>,
    /// When the task entered `completed`; `null` while it is not completed.
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-11-25T16:00:00.000Z")]
    pub completed_at: Option<DateTime<Utc>>,
    /// 1 at creation, one more on every real change; the `ETag` is `"<version>"`, and
    /// `If-Match: "<version>"` makes a PATCH or DELETE fail with 412 once it is stale.
    #[schema(minimum = 1, example = 1)]
    pub version: i64,
}

impl core_models::id::Resource for Task {
    const NAME: &'static str = "task";
}

impl Versioned for Task {
    fn version(&self) -> i64 {
        self.version
    }
}

/// The body of `POST /tasks`.
///
/// `status` and `due_date` arrive as text and are checked by the service, so a bad value is
/// a 422 naming the field (a typed field would fail inside serde, naming nothing).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Required; trimmed, 1 to 200 characters.
    #[schema(
        example = "Send the invoice to ACME",
        min_length = 1,
        max_length = 200,
        pattern = "^\\s*[^\\s\\x00][^\\x00]*$"
    )]
    pub title: String,
    /// Optional; trimmed, blank means none, at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// `pending` (the default), `in_progress` or `completed`.
    #[serde(default)]
    #[schema(value_type = Option<TaskStatus>)]
    pub status: Option<String>,
    /// Optional date `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-01")]
    pub due_date: Option<String>,
}

/// The body of `PATCH /tasks/{id}`: absent fields stay; `null` clears `description` and
/// `due_date`; `title` and `status` cannot be null.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskChanges {
    /// New title; may not be null or blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub title: Option<Option<String>>,
    /// New description; `null` or blank clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    /// New status; entering `completed` sets `completed_at`, leaving it clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = TaskStatus, required = false)]
    pub status: Option<Option<String>>,
    /// New due date `YYYY-MM-DD`; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Option<String>>,
}

/// `YYYY-MM-DD`, as the API and the database spell dates.
pub(crate) fn format_date(date: NaiveDate) -> String {
    time::format_date(date)
}

/// Parses a due date, naming `field` when it is not a real `YYYY-MM-DD` date.
pub(crate) fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    time::parse_date(raw).ok_or_else(|| FieldError::new(field, format!("`{raw}` is not a date of the form YYYY-MM-DD")))
}

/// A task's fields after the contract's rules were applied.
#[derive(Debug, Clone)]
pub(crate) struct ValidTask {
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub due_date: Option<NaiveDate>,
}

impl NewTask {
    /// Applies the rules, naming every bad field at once.
    pub(crate) fn validate(self) -> AppResult<ValidTask> {
        let mut v = Violations::new();
        let title = v.check(text::required("title", &self.title, text::TITLE_MAX));
        let description = v.check(text::optional("description", self.description, text::BODY_MAX));
        let status = match self.status {
            None => Some(TaskStatus::Pending),
            Some(raw) => v.check(TaskStatus::parse("status", &raw)),
        };
        let due_date = match self.due_date {
            None => Some(None),
            Some(raw) => v.check(parse_date("due_date", &raw)).map(Some),
        };
        v.finish()?;
        Ok(ValidTask {
            title: title.unwrap_or_default(),
            description: description.flatten(),
            status: status.unwrap_or(TaskStatus::Pending),
            due_date: due_date.flatten(),
        })
    }
}

impl ValidTask {
    /// The task these fields make, stamped now with a fresh id; a task created completed
    /// was completed at its creation.
    pub fn into_task(self) -> Task {
        let now = time::now();
        Task {
            id: core_models::id::new_id(),
            title: self.title,
            description: self.description,
            status: self.status,
            due_date: self.due_date,
            created_at: now,
            updated_at: now,
            completed_at: (self.status == TaskStatus::Completed).then_some(now),
            version: FIRST_VERSION,
        }
    }
}

/// Changes after validation: `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<TaskStatus>,
    pub due_date: Option<Option<NaiveDate>>,
}

impl TaskChanges {
    /// Applies the rules, naming every bad field at once.
    pub(crate) fn validate(self) -> AppResult<ValidChanges> {
        let mut v = Violations::new();
        let title = v
            .check(patch::not_null("title", self.title))
            .flatten()
            .and_then(|t| v.check(text::required("title", &t, text::TITLE_MAX)));
        let description = match self.description {
            None => None,
            Some(d) => v.check(text::optional("description", d, text::BODY_MAX)),
        };
        let status = v
            .check(patch::not_null("status", self.status))
            .flatten()
            .and_then(|s| v.check(TaskStatus::parse("status", &s)));
        let due_date = match self.due_date {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => v.check(parse_date("due_date", &raw)).map(Some),
        };
        v.finish()?;
        Ok(ValidChanges { title, description, status, due_date })
    }
}

impl ValidChanges {
    /// `task` with the changes applied and its version one up, or `None` when they change
    /// nothing (so `updated_at` and `version` only move on a real change).
    ///
    /// `updated_at` moves strictly forward; entering `completed` stamps `completed_at` with
    /// the same instant, staying completed keeps it, leaving clears it.
    pub fn apply_to(self, task: &Task) -> Option<Task> {
        let title = self.title.unwrap_or_else(|| task.title.clone());
        let description = self.description.unwrap_or_else(|| task.description.clone());
        let status = self.status.unwrap_or(task.status);
        let due_date = self.due_date.unwrap_or(task.due_date);
        if title == task.title && description == task.description && status == task.status && due_date == task.due_date
        {
            return None;
        }
        let updated_at = time::now_after(task.updated_at);
        let completed_at = match (task.status, status) {
            (TaskStatus::Completed, TaskStatus::Completed) => task.completed_at,
            (_, TaskStatus::Completed) => Some(updated_at),
            _ => None,
        };
        let version = task.version + 1;
        Some(Task { title, description, status, due_date, updated_at, completed_at, version, ..task.clone() })
    }
}

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(NewTask => NewTask::validate);
core_models::body_rules!(TaskChanges => TaskChanges::validate);

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: &core_models::AppError) -> Vec<&str> {
        err.field_errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn status_names_and_ranks_round_trip() {
        for &status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse("status", status.name()).unwrap(), status);
            assert_eq!(TaskStatus::from_rank(status.rank()), Some(status));
        }
        assert!(TaskStatus::Pending.rank() < TaskStatus::InProgress.rank());
        assert!(TaskStatus::InProgress.rank() < TaskStatus::Completed.rank());
        assert_eq!(TaskStatus::from_rank(3), None);
        let err = TaskStatus::parse("status", "done").unwrap_err();
        assert!(err.message.contains("`done`") && err.message.contains("in_progress"));
        assert_eq!(serde_json::to_value(TaskStatus::InProgress).unwrap(), "in_progress");
    }

    #[test]
    fn new_task_rules_name_every_bad_field() {
        let bad = NewTask {
            title: "  ".into(),
            description: Some("d".repeat(20_001)),
            status: Some("done".into()),
            due_date: Some("2026-02-30".into()),
        };
        assert_eq!(fields(&bad.validate().unwrap_err()), ["title", "description", "status", "due_date"]);
        let ok = NewTask { title: " Invoice ".into(), description: Some("   ".into()), ..NewTask::default() }
            .validate()
            .unwrap();
        assert_eq!(
            (ok.title.as_str(), ok.description, ok.status, ok.due_date),
            ("Invoice", None, TaskStatus::Pending, None)
        );
    }

    #[test]
    fn a_task_created_completed_is_completed_at_creation() {
        let task = NewTask { title: "t".into(), status: Some("completed".into()), ..NewTask::default() }
            .validate()
            .unwrap()
            .into_task();
        assert_eq!(task.completed_at, Some(task.created_at));
    }

    #[test]
    fn changes_reject_null_title_and_status_but_clear_the_rest() {
        let changes: TaskChanges = serde_json::from_str(r#"{"title": null, "status": null}"#).unwrap();
        let err = changes.validate().unwrap_err();
        assert_eq!(fields(&err), ["title", "status"]);
        assert_eq!(err.field_errors()[0].message, "must not be null");
        let changes: TaskChanges = serde_json::from_str(r#"{"description": null, "due_date": null}"#).unwrap();
        let valid = changes.validate().unwrap();
        assert_eq!((valid.description, valid.due_date), (Some(None), Some(None)));
        let absent = serde_json::from_str::<TaskChanges>("{}").unwrap().validate().unwrap();
        assert_eq!((absent.description, absent.due_date), (None, None));
        assert!(serde_json::from_str::<TaskChanges>(r#"{"colour": "red"}"#).is_err());
    }

    #[test]
    fn completed_at_follows_status_transitions() {
        let task = NewTask { title: "t".into(), ..NewTask::default() }.validate().unwrap().into_task();
        let to = |status: TaskStatus| ValidChanges { status: Some(status), ..ValidChanges::default() };

        let done = to(TaskStatus::Completed).apply_to(&task).unwrap();
        assert_eq!(done.completed_at, Some(done.updated_at));
        assert!(done.updated_at > task.updated_at);
        assert_eq!((task.version, done.version), (1, 2));

        assert!(to(TaskStatus::Completed).apply_to(&done).is_none(), "same status is no change");
        let retitled = ValidChanges { title: Some("t2".into()), ..ValidChanges::default() }.apply_to(&done).unwrap();
        assert_eq!(retitled.completed_at, done.completed_at, "staying completed keeps completed_at");

        let reopened = to(TaskStatus::InProgress).apply_to(&retitled).unwrap();
        assert_eq!(reopened.completed_at, None);
        assert!(reopened.updated_at > retitled.updated_at);
    }
}
