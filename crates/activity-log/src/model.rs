//! Activity entries as the API shows them, what a change hands in to record one, and the
//! public id scheme.

use chrono::{DateTime, Utc};
use core_models::{time, UserRef};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ActivityEntry {
    /// A UUIDv7 that increases in commit order (made from `created_at` and the entry's
    /// sequence number); the `id:` of its server-sent event.
    pub id: Uuid,
    /// The team the action happened in.
    pub team_id: Uuid,
    /// The project, when the action concerns one.
    pub project_id: Option<Uuid>,
    /// The task, when the action concerns one.
    pub task_id: Option<Uuid>,
    /// Who did it.
    pub actor: UserRef,
    /// What happened: `task.status_changed`, `member.added`, ...
    #[schema(value_type = crate::ActivityAction, example = "task.status_changed")]
    pub action: String,
    /// What changed: `{"field": {"from": old, "to": new}}` per changed field, plus any
    /// context the action records (e.g. `{"title": "..."}` for a created task).
    #[schema(value_type = crate::ActivityDetails, example = json!({"status": {"from": "todo", "to": "done"}}))]
    pub details: Value,
    /// When it was recorded (never earlier than the entry before it).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T09:30:00.123Z")]
    pub created_at: DateTime<Utc>,
    /// The position in commit order (what `id` encodes).
    #[serde(skip)]
    pub seq: i64,
}

/// What a change records: where it happened, the action and its details. The actor and
/// time are added by [`crate::ActivityLog::append`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// The team the action happened in.
    pub team_id: Uuid,
    /// The project, if any.
    pub project_id: Option<Uuid>,
    /// The task, if any.
    pub task_id: Option<Uuid>,
    /// The action name (1 to 64 characters).
    pub action: String,
    /// What changed.
    pub details: Details,
}

impl NewEntry {
    /// An entry for `action` in `team_id` with no details yet.
    pub fn new(team_id: Uuid, action: impl Into<String>) -> Self {
        NewEntry { team_id, project_id: None, task_id: None, action: action.into(), details: Details::new() }
    }

    /// Concerning a project.
    pub fn project(mut self, project_id: Uuid) -> Self {
        self.project_id = Some(project_id);
        self
    }

    /// Concerning a task (of a project).
    pub fn task(mut self, project_id: Uuid, task_id: Uuid) -> Self {
        self.project_id = Some(project_id);
        self.task_id = Some(task_id);
        self
    }

    /// With these details.
    pub fn details(mut self, details: Details) -> Self {
        self.details = details;
        self
    }
}

/// The `details` object of an entry, built field by field.
///
/// ```
/// use activity_log::Details;
///
/// let d = Details::new().changed("status", "todo", "done").changed("title", "a", "a").with("title", "a");
/// assert_eq!(d.into_value(), serde_json::json!({"status": {"from": "todo", "to": "done"}, "title": "a"}));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details(Map<String, Value>);

fn json<T: Serialize>(value: T) -> Value {
    // Our own plain values (strings, numbers, enums, dates) always serialise.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Details {
    /// No details.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `{"from": from, "to": to}` under `field`, if the two differ.
    pub fn changed<T: Serialize>(mut self, field: &str, from: T, to: T) -> Self {
        let (from, to) = (json(from), json(to));
        if from != to {
            let mut change = Map::new();
            change.insert("from".into(), from);
            change.insert("to".into(), to);
            self.0.insert(field.into(), Value::Object(change));
        }
        self
    }

    /// Records `value` under `key` (context such as the title of a created task).
    pub fn with<T: Serialize>(mut self, key: &str, value: T) -> Self {
        self.0.insert(key.into(), json(value));
        self
    }

    /// The fields recorded so far.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The JSON object.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// The public id of the entry with sequence number `seq` recorded at `created_at_ms`: a
/// UUIDv7 whose timestamp is the entry's time and whose random bits hold `seq`. Since
/// times never decrease along `seq`, ids sort (as bytes and as text) like `seq`.
pub fn entry_id(created_at_ms: i64, seq: i64) -> Uuid {
    let mut bits = [0u8; 10];
    bits[2..].copy_from_slice(&seq.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(created_at_ms).unwrap_or(0), &bits).into_uuid()
}

/// The sequence number inside an entry id; `None` for a UUID that is not an entry id.
pub fn seq_of(id: Uuid) -> Option<i64> {
    let bytes = id.as_bytes();
    let ours = id.get_version_num() == 7 && bytes[6] & 0x0f == 0 && bytes[7] == 0;
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&bytes[8..]);
    seq[0] &= 0x3f; // the variant bits
    let seq = i64::from_be_bytes(seq);
    (ours && seq > 0).then_some(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_carry_their_seq_and_sort_like_it() {
        let mut previous = String::new();
        for (ms, seq) in
            [(1_700_000_000_000, 1), (1_700_000_000_000, 2), (1_700_000_000_001, 3), (1_800_000_000_000, 1 << 40)]
        {
            let id = entry_id(ms, seq);
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(seq_of(id), Some(seq));
            let text = id.to_string();
            assert!(text > previous, "{text} after {previous}");
            previous = text;
        }
        assert_eq!(seq_of(Uuid::now_v7()).filter(|_| false), None);
        assert_eq!(seq_of(Uuid::nil()), None);
    }

    #[test]
    fn details_record_only_real_changes() {
        let d = Details::new().changed("due_date", None::<&str>, Some("2026-12-01")).changed("priority", 2, 2);
        assert_eq!(d.into_value(), serde_json::json!({"due_date": {"from": null, "to": "2026-12-01"}}));
    }
}
