//! Notifications: what the activity of a user's teams means to that user (assigned to a
//! task, mentioned, a comment on a task of theirs, a status change of their task).
//!
//! - [`NotificationHook`] derives them from every appended activity entry, inside the
//!   entry's write ([`activity_log::EntryHook`]), so a notification commits with its action
//!   or not at all, whichever product path appended the entry (`rules`).
//! - Each user's notifications are numbered by a counter row bumped in that write
//!   (`notification_counters`, like the activity log's per-team counters): the numbers
//!   follow commit order, and the public id (a UUIDv7 of the time and the number, see
//!   [`activity_log::entry_id`]) sorts in it too, so ids are the stream's event ids.
//! - `GET /me/notifications` ([`list`]) and `POST /me/notifications/read` ([`mark_read`]);
//!   `GET /me/events` ([`live`]).

pub mod live;
mod model;
pub(crate) mod rules;

use activity_log::ActivityLog;
use core_models::pagination::row_keys;
use core_models::{id, time, AppError, AppResult, Caller, CursorValue, Page};
use diesel::prelude::*;
use storage::schema::{notification_counters, notifications};
use storage::DbConn;
use uuid::Uuid;

pub use model::{MarkNotificationsRead, Notification, NotificationKind, NotificationListParams, NotificationQuery};
pub use rules::NotificationHook;

/// A stored notification before its activity entry is attached.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = notifications)]
#[diesel(check_for_backend(storage::Backend))]
pub(crate) struct NotificationRow {
    user_seq: i64,
    public_id: String,
    kind: String,
    activity_seq: i64,
    read_at: Option<i64>,
    created_at: i64,
}

type ListSql = diesel::dsl::IntoBoxed<
    'static,
    diesel::dsl::Select<notifications::table, diesel::dsl::AsSelect<NotificationRow, storage::Backend>>,
    storage::Backend,
>;

/// The notifications of `user` a list keeps (all, or the unread ones), in no order.
pub(crate) fn listed(user: Uuid, unread: bool) -> ListSql {
    let mut q = notifications::table
        .select(NotificationRow::as_select())
        .into_boxed()
        .filter(notifications::user_id.eq(user.to_string()));
    if unread {
        q = q.filter(notifications::read_at.is_null());
    }
    q
}

/// The query of one page (one row beyond the limit), newest first: the primary key
/// `(user_id, user_seq)` serves the whole list, `notifications_unread` the unread ones.
pub(crate) fn list_query(user: Uuid, query: &NotificationQuery) -> AppResult<ListSql> {
    let mut q = listed(user, query.unread);
    if let Some(before) = query.before_seq()? {
        q = q.filter(notifications::user_seq.lt(before));
    }
    Ok(q.order(notifications::user_seq.desc()).limit(i64::from(query.page.limit) + 1))
}

/// The query of a stream's catch-up: `user`'s notifications after number `after`, oldest
/// first.
pub(crate) fn after_query(user: Uuid, after: i64, limit: i64) -> ListSql {
    listed(user, false).filter(notifications::user_seq.gt(after)).order(notifications::user_seq.asc()).limit(limit)
}

/// `rows` with their activity entries, read in one query.
fn with_entries(conn: &mut DbConn, log: &ActivityLog, rows: Vec<NotificationRow>) -> AppResult<Vec<Notification>> {
    let seqs: Vec<i64> = rows.iter().map(|row| row.activity_seq).collect();
    let entries: std::collections::HashMap<i64, activity_log::ActivityEntry> =
        log.entries_by_seq(conn, &seqs)?.into_iter().map(|entry| (entry.seq, entry)).collect();
    rows.into_iter()
        .map(|row| {
            let activity = entries
                .get(&row.activity_seq)
                .cloned()
                .ok_or_else(|| id::corrupt("notifications.activity_seq", &row.activity_seq.to_string()))?;
            Ok(Notification {
                id: id::from_stored("notifications.public_id", &row.public_id)?,
                kind: NotificationKind::parse(&row.kind).ok_or_else(|| id::corrupt("notifications.kind", &row.kind))?,
                activity,
                read_at: row.read_at.map(time::from_millis),
                created_at: time::from_millis(row.created_at),
                seq: row.user_seq,
            })
        })
        .collect()
}

/// One page of the caller's notifications, newest first, and its total when asked for.
pub fn list(
    conn: &mut DbConn,
    log: &ActivityLog,
    caller: &Caller,
    query: &NotificationQuery,
) -> AppResult<Page<Notification>> {
    let rows: Vec<NotificationRow> = list_query(caller.id, query)?.load(conn)?;
    let items = with_entries(conn, log, rows)?;
    let total = query.page.total(|most| storage::count::count_up_to(conn, listed(caller.id, query.unread), most))?;
    let sort = query.sort();
    Ok(Page::from_overfetch(items, &query.page, sort, |n| row_keys(sort, n.id, |_| CursorValue::Int(n.seq)))
        .with_total(total))
}

/// Up to `limit` of `user`'s notifications after number `after`, oldest first (a stream).
pub(crate) fn after(
    conn: &mut DbConn,
    log: &ActivityLog,
    user: Uuid,
    after: i64,
    limit: i64,
) -> AppResult<Vec<Notification>> {
    let rows: Vec<NotificationRow> = after_query(user, after, limit).load(conn)?;
    with_entries(conn, log, rows)
}

/// The number of `user`'s last notification (0 before the first).
pub(crate) fn last_seq(conn: &mut DbConn, user: Uuid) -> AppResult<i64> {
    Ok(notification_counters::table
        .find(user.to_string())
        .select(notification_counters::last_seq)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Marks the caller's notifications read: those named (ids of other users' or unknown
/// notifications are ignored) or all. Already read ones keep their first `read_at`, so a
/// repeat changes nothing. Returns how many were marked now.
pub fn mark_read(conn: &mut DbConn, caller: &Caller, which: MarkNotificationsRead) -> AppResult<usize> {
    let ids = which.validate()?;
    let now = time::to_millis(time::now());
    let mine = notifications::table
        .filter(notifications::user_id.eq(caller.id.to_string()))
        .filter(notifications::read_at.is_null());
    let marked = match ids {
        None => diesel::update(mine).set(notifications::read_at.eq(now)).execute(conn)?,
        Some(ids) => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            diesel::update(mine.filter(notifications::public_id.eq_any(ids)))
                .set(notifications::read_at.eq(now))
                .execute(conn)?
        }
    };
    Ok(marked)
}

/// Where `user`'s stream resumes after the notification `id` (a client's
/// `Last-Event-ID`): its number, read from the id itself (so an id whose notification is
/// gone, with a team the user left, still works); 422 naming `field` for an id that is no
/// notification id of this user's.
pub(crate) fn resume_position(conn: &mut DbConn, user: Uuid, id: Uuid, field: &str) -> AppResult<i64> {
    let last = last_seq(conn, user)?;
    match activity_log::entry_id_seq(id) {
        Some(seq) if seq <= last => Ok(seq),
        _ => Err(AppError::invalid(field, "is not the id of an event of this stream")),
    }
}
