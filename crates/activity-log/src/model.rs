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
    /// A UUIDv7, globally unique, increasing in commit order within the team and telling
    /// nothing about other teams (made from `created_at`, the team's own count and random
    /// bits); the `id:` of its server-sent event.
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
    /// The position in the whole log (internal: feeds and their cursors).
    #[serde(skip)]
    pub seq: i64,
    /// The position in the team's log, in commit order (what streams resume by).
    #[serde(skip)]
    pub team_seq: i64,
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

/// Most entries one team can record: `team_seq` has 38 bits in an id.
pub const MAX_TEAM_SEQ: i64 = (1 << 38) - 1;

/// The public id of a team's entry number `team_seq` recorded at `created_at_ms`, with 32
/// `random` bits: a UUIDv7 whose timestamp is the entry's time, then a marker bit (set:
/// old ids have it clear), then `team_seq` in 38 bits, then the random bits. Since times
/// never decrease along `team_seq`, a team's ids sort (as bytes and as text) in commit
/// order; they carry nothing of other teams but the time. Uniqueness across teams is the
/// random bits' job, and the unique index on `activity.public_id` makes it certain.
pub fn entry_id(created_at_ms: i64, team_seq: i64, random: u32) -> Uuid {
    let seq = team_seq.clamp(0, MAX_TEAM_SEQ) as u64;
    let mut bits = [0u8; 10];
    // rand_a (12 bits): the marker, 3 zero bits, then seq bits 37..30.
    bits[0] = 0x08;
    bits[1] = (seq >> 30) as u8;
    // rand_b (62 bits, after the variant): seq bits 29..0, then the random bits.
    bits[2] = ((seq >> 24) & 0x3f) as u8;
    bits[3] = (seq >> 16) as u8;
    bits[4] = (seq >> 8) as u8;
    bits[5] = seq as u8;
    bits[6..].copy_from_slice(&random.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(created_at_ms).unwrap_or(0), &bits).into_uuid()
}

/// [`entry_id`] with fresh random bits (the last four bytes of a new UUIDv7, which are
/// random).
pub fn fresh_entry_id(created_at_ms: i64, seq: i64) -> Uuid {
    let bytes = *Uuid::now_v7().as_bytes();
    entry_id(created_at_ms, seq, u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]))
}

/// The count [`entry_id`] put into `id` (a team's `team_seq`, or any other per-owner
/// count made into ids the same way, such as a user's notification numbers); `None` for an
/// id not made by [`entry_id`] (its marker bit is clear).
pub fn entry_id_seq(id: Uuid) -> Option<i64> {
    let bytes = id.as_bytes();
    // Byte 6: the version, then the marker nibble; byte 7: count bits 37..30; bytes 8..12:
    // the variant, count bits 29..0 (see `entry_id`).
    if id.get_version_num() != 7 || bytes[6] & 0x0f != 0x08 {
        return None;
    }
    let high = u64::from(bytes[7]);
    let low =
        u64::from(bytes[8] & 0x3f) << 24 | u64::from(bytes[9]) << 16 | u64::from(bytes[10]) << 8 | u64::from(bytes[11]);
    i64::try_from(high << 30 | low).ok()
}

/// The id entries recorded before per-team counters were given: the time, then the global
/// `seq`. The migration that brought the counters wrote these into `public_id`, so ids
/// clients hold keep working; new entries never get one.
pub fn legacy_entry_id(created_at_ms: i64, seq: i64) -> Uuid {
    let mut bits = [0u8; 10];
    bits[2..].copy_from_slice(&seq.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(created_at_ms).unwrap_or(0), &bits).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_s_ids_sort_in_its_order_and_carry_only_time_count_and_chance() {
        let mut previous = String::new();
        for (ms, seq, random) in [
            (1_700_000_000_000, 1, u32::MAX),
            (1_700_000_000_000, 2, 0),
            (1_700_000_000_001, 3, 7),
            (1_800_000_000_000, MAX_TEAM_SEQ, 1),
        ] {
            let id = entry_id(ms, seq, random);
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(id.as_bytes()[..6], (ms as u64).to_be_bytes()[2..], "the time leads");
            let text = id.to_string();
            assert!(text > previous, "{text} after {previous}");
            previous = text;
        }
        // Two teams' first entries in the same millisecond differ by their random bits only.
        assert_ne!(entry_id(1, 1, 1), entry_id(1, 1, 2));
        // The old scheme (global seq) sorts before the new one within a millisecond: a
        // team's first new entry comes after its last old one.
        assert!(legacy_entry_id(5, 1 << 40).to_string() < entry_id(5, 1, 0).to_string());
        assert_eq!(legacy_entry_id(1_764_060_000_123, 131).to_string(), "019aba2b-6f7b-7000-8000-000000000083");
    }

    #[test]
    fn the_count_is_read_back_from_an_id() {
        for seq in [1, 2, 1 << 30, (1 << 30) + 5, MAX_TEAM_SEQ] {
            assert_eq!(entry_id_seq(entry_id(1_700_000_000_000, seq, 0xdead_beef)), Some(seq));
        }
        assert_eq!(entry_id_seq(legacy_entry_id(5, 77)), None, "old ids have no count");
        assert_eq!(entry_id_seq(Uuid::nil()), None);
    }

    #[test]
    fn details_record_only_real_changes() {
        let d = Details::new().changed("due_date", None::<&str>, Some("2026-12-01")).changed("priority", 2, 2);
        assert_eq!(d.into_value(), serde_json::json!({"due_date": {"from": null, "to": "2026-12-01"}}));
    }
}
