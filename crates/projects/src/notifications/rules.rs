//! Who an activity entry notifies, and writing those notifications inside its write.
//!
//! The rules follow the change the entry records, not its action's name, so every path
//! that appends entries (a `PATCH`, a bulk change, a board move, ones added later) notifies
//! alike:
//! - `mentioned`: the people in the entry's `new_mentions` (a comment written, or edited to
//!   mention someone it did not before);
//! - `assigned`: the `to` of an `assignee_id` change (`{from, to}`), or the `assignee_id`
//!   a task was created with;
//! - `status_changed`: the task's assignee, when `status` changed (`{from, to}`), or a move
//!   went from one status to another (`from.status` and `to.status`);
//! - `commented`: the task's creator and assignee, for a new comment.
//!
//! A person gets at most one notification per entry, of the first kind in that order; the
//! actor is never notified; only current members of the entry's team are. A member who
//! leaves (or is removed from) a team, and everyone when the team is deleted, loses the
//! team's notifications in that same write: they point at activity the user may no longer
//! read.

use std::collections::BTreeMap;

use activity_log::{ActivityEntry, EntryHook};
use core_models::{id, time, AppError, AppResult};
use diesel::prelude::*;
use serde_json::Value;
use storage::schema::{notification_counters, notifications, project_tasks};
use storage::{DbConn, Tx};
use uuid::Uuid;

use super::NotificationKind;

/// Writes the notifications of every appended entry (see the module docs). Installed on
/// the projects' activity log by [`crate::DbProjects::new`].
#[derive(Debug, Default)]
pub struct NotificationHook;

impl EntryHook for NotificationHook {
    fn on_append(&self, tx: &mut Tx<'_>, entry: &ActivityEntry, _: activity_log::Prepared) -> AppResult<()> {
        forget_on_leave(tx, entry)?;
        for (user, kind) in recipients(tx, entry)? {
            insert(tx, user, kind, entry)?;
        }
        Ok(())
    }
}

/// A user id in `value` (a JSON string), if it is one.
fn user_in(value: &Value) -> Option<Uuid> {
    value.as_str().and_then(|raw| Uuid::try_parse(raw).ok())
}

/// `{from, to}` of `details[field]`, when it is a change.
fn change<'a>(details: &'a Value, field: &str) -> Option<(&'a Value, &'a Value)> {
    let change = details.get(field)?.as_object()?;
    Some((change.get("from")?, change.get("to")?))
}

/// The task's creator and assignee.
fn task_people(conn: &mut DbConn, task: Uuid) -> AppResult<Option<(Uuid, Option<Uuid>)>> {
    let row: Option<(String, Option<String>)> = project_tasks::table
        .filter(project_tasks::id.eq(task.to_string()))
        .select((project_tasks::created_by, project_tasks::assignee_id))
        .first(conn)
        .optional()?;
    let Some((creator, assignee)) = row else { return Ok(None) };
    let creator = id::from_stored("project_tasks.created_by", &creator)?;
    let assignee = assignee.map(|a| id::from_stored("project_tasks.assignee_id", &a)).transpose()?;
    Ok(Some((creator, assignee)))
}

/// Who `entry` notifies and of what, at most one kind per person (the most specific).
pub(crate) fn recipients(conn: &mut DbConn, entry: &ActivityEntry) -> AppResult<BTreeMap<Uuid, NotificationKind>> {
    let details = &entry.details;
    let mut chosen: BTreeMap<Uuid, NotificationKind> = BTreeMap::new();
    let mut offer = |user: Option<Uuid>, kind: NotificationKind| {
        if let Some(user) = user.filter(|u| *u != entry.actor.id) {
            let best = chosen.entry(user).or_insert(kind);
            *best = (*best).min(kind);
        }
    };
    if let Some(mentioned) = details.get("new_mentions").and_then(Value::as_array) {
        for user in mentioned {
            offer(user_in(user), NotificationKind::Mentioned);
        }
    }
    match details.get("assignee_id") {
        Some(Value::Object(_)) => {
            offer(change(details, "assignee_id").and_then(|(_, to)| user_in(to)), NotificationKind::Assigned)
        }
        Some(created_with) => offer(user_in(created_with), NotificationKind::Assigned),
        None => {}
    }
    let status_changed = change(details, "status").is_some_and(|(from, to)| from != to)
        || matches!(
            (details.get("from").and_then(|f| f.get("status")), details.get("to").and_then(|t| t.get("status"))),
            (Some(from), Some(to)) if from != to
        );
    let commented = entry.action == "comment.created";
    if let (Some(task), true) = (entry.task_id, status_changed || commented) {
        if let Some((creator, assignee)) = task_people(conn, task)? {
            if status_changed {
                offer(assignee, NotificationKind::StatusChanged);
            }
            if commented {
                offer(assignee, NotificationKind::Commented);
                offer(Some(creator), NotificationKind::Commented);
            }
        }
    }
    if chosen.is_empty() {
        return Ok(chosen);
    }
    let people: Vec<Uuid> = chosen.keys().copied().collect();
    let members = crate::mentions::members_among(conn, entry.team_id, &people)?;
    chosen.retain(|user, _| members.contains(user));
    Ok(chosen)
}

/// A member who leaves or is removed loses the team's notifications; a deleted team's go
/// for everyone.
fn forget_on_leave(conn: &mut DbConn, entry: &ActivityEntry) -> AppResult<()> {
    let team = entry.team_id.to_string();
    match entry.action.as_str() {
        "member.removed" => {
            if let Some(user) = entry.details.get("user_id").and_then(user_in) {
                diesel::delete(
                    notifications::table
                        .filter(notifications::team_id.eq(&team))
                        .filter(notifications::user_id.eq(user.to_string())),
                )
                .execute(conn)?;
            }
        }
        "team.deleted" => {
            diesel::delete(notifications::table.filter(notifications::team_id.eq(&team))).execute(conn)?;
        }
        _ => {}
    }
    Ok(())
}

/// The next number of `user`'s notifications and its time (never before the previous
/// one's, nor `at_ms`), counted inside the caller's write: the counter row's lock orders a
/// user's notifications, so numbers follow commit order.
fn next_number(conn: &mut DbConn, user: Uuid, at_ms: i64) -> AppResult<(i64, i64)> {
    // An upsert written as SQL, which both engines spell alike (as the activity counters).
    let seq: i64 = storage::sql::sql("INSERT INTO notification_counters (user_id, last_seq, last_at) VALUES (")
        .bind_text(user.to_string())
        .sql(", 1, ")
        .bind_int(at_ms)
        .sql(
            ") ON CONFLICT (user_id) DO UPDATE SET last_seq = notification_counters.last_seq + 1, \
             last_at = CASE WHEN notification_counters.last_at > excluded.last_at \
             THEN notification_counters.last_at ELSE excluded.last_at END RETURNING last_seq",
        )
        .query::<diesel::sql_types::BigInt>()
        .get_result(conn)?;
    if seq > activity_log::MAX_TEAM_SEQ {
        return Err(AppError::Internal(anyhow::anyhow!("user {user} has {seq} notifications, past the most")));
    }
    let at: i64 =
        notification_counters::table.find(user.to_string()).select(notification_counters::last_at).first(conn)?;
    Ok((seq, at))
}

/// Writes `user`'s notification of `kind` about `entry`.
fn insert(conn: &mut DbConn, user: Uuid, kind: NotificationKind, entry: &ActivityEntry) -> AppResult<()> {
    let (seq, at) = next_number(conn, user, time::to_millis(entry.created_at))?;
    // Ids are unique by index; two users' ids collide only with the same millisecond,
    // number and 32 random bits, and then the insert is tried again (in a savepoint, so
    // the write goes on) with other bits.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let public_id = activity_log::fresh_entry_id(at, seq);
        let inserted = conn.transaction(|c| {
            diesel::insert_into(notifications::table)
                .values((
                    notifications::user_id.eq(user.to_string()),
                    notifications::user_seq.eq(seq),
                    notifications::public_id.eq(public_id.to_string()),
                    notifications::kind.eq(kind.as_str()),
                    notifications::activity_seq.eq(entry.seq),
                    notifications::team_id.eq(entry.team_id.to_string()),
                    notifications::created_at.eq(at),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok(()),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
                if attempt < 3 => {}
            Err(other) => return Err(other.into()),
        }
    }
}
