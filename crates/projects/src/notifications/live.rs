//! `GET /me/events`: the caller's new notifications as Server-Sent Events, with replay.
//!
//! The `notifications` table is the only source: the stream reads the caller's rows after
//! the last number it sent (oldest first), so it sends each once, in the caller's commit
//! order (numbers come from a counter row locked by each notifying write, so a read never
//! sees a later number without the earlier ones).
//!
//! What tells the stream to read is the activity of the caller's teams: a notification is
//! written inside the write of the activity entry that causes it, and every committed entry
//! reaches the team's subscribers ([`activity_log::ActivityLog::subscribe`]) after its
//! commit, through whichever publisher the gateway runs (`--events`): in process, or the
//! table relay woken by PostgreSQL `NOTIFY` (or a poll) that carries entries written
//! through any gateway. So the stream rides on the relay's wake-ups, its reconnects and its
//! catch-up without a second listener, and a notification written on gateway A wakes the
//! caller's stream on gateway B when its entry does. Wake-ups that arrive together are
//! read with one query. Every few seconds ([`REFRESH`]) the stream also reads the table
//! anyway and follows teams the caller joined since it opened (or whose subscription ended
//! because it fell behind), so nothing depends on a wake-up arriving.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use activity_log::{ActivityLog, Subscription};
use actix_web::web::Bytes;
use core_models::http::blocking;
use core_models::sse::{EventStream, SseEvent};
use core_models::{id, AppResult};
use diesel::prelude::*;
use futures_util::stream::SelectAll;
use futures_util::{FutureExt as _, StreamExt as _};
use storage::schema::team_members;
use storage::{Database, DbConn};
use uuid::Uuid;

use super::Notification;

/// How often a stream reads the table and the caller's teams without a wake-up.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Notifications read per query.
const BATCH: i64 = 200;

/// The `event:` of every event of the stream.
pub const EVENT: &str = "notification";

/// A caller's stream, ready to run: subscribed to the caller's teams' activity first, then
/// placed after the notification number it resumes from.
pub struct NotificationWatch {
    db: Database,
    log: ActivityLog,
    user: Uuid,
    after: i64,
    teams: BTreeSet<Uuid>,
    wake: SelectAll<Subscription>,
}

impl std::fmt::Debug for NotificationWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationWatch")
            .field("user", &self.user)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// The teams `user` belongs to.
fn teams_of(conn: &mut DbConn, user: Uuid) -> AppResult<BTreeSet<Uuid>> {
    let rows: Vec<String> = team_members::table
        .filter(team_members::user_id.eq(user.to_string()))
        .select(team_members::team_id)
        .load(conn)?;
    rows.iter().map(|raw| id::from_stored("team_members.team_id", raw)).collect()
}

/// Subscriptions to the activity of `teams`, as one stream of wake-ups.
fn subscribe(log: &ActivityLog, teams: &BTreeSet<Uuid>) -> SelectAll<Subscription> {
    futures_util::stream::select_all(teams.iter().map(|team| log.subscribe(*team)))
}

/// `user`'s stream over `db` (blocking: call it on the blocking pool): subscribed to the
/// activity of the user's teams, then placed after the notification number `resume`
/// gives, or after the user's last one.
pub(crate) fn watch(
    db: &Database,
    log: &ActivityLog,
    user: Uuid,
    resume: impl FnOnce(&mut DbConn) -> AppResult<Option<i64>>,
) -> AppResult<NotificationWatch> {
    let teams = teams_of(&mut *db.read()?, user)?;
    let wake = subscribe(log, &teams);
    // Read after subscribing: what commits from here on wakes the stream, what committed
    // before is in the table past `after`.
    let mut conn = db.read()?;
    let after = match resume(&mut conn)? {
        Some(after) => after,
        None => super::last_seq(&mut conn, user)?,
    };
    Ok(NotificationWatch { db: db.clone(), log: log.clone(), user, after, teams, wake })
}

/// One notification as an event: `id:` its id, `event: notification`, `data:` it as JSON.
pub fn frame(notification: &Notification) -> Bytes {
    SseEvent {
        id: notification.id.to_string(),
        event: EVENT.into(),
        // A notification of plain values always serialises.
        data: serde_json::to_string(notification).unwrap_or_default(),
    }
    .encode()
}

struct State {
    watch: NotificationWatch,
    ready: VecDeque<Notification>,
    /// Whether the table may hold rows not sent yet.
    due: bool,
    refresh_at: tokio::time::Instant,
}

impl State {
    /// Reads the rows after the last one sent; `false` when the read failed.
    async fn read(&mut self) -> bool {
        let (db, log, user, after) = (self.watch.db.clone(), self.watch.log.clone(), self.watch.user, self.watch.after);
        match blocking(move || super::after(&mut *db.read()?, &log, user, after, BATCH)).await {
            Ok(batch) => {
                self.due = batch.len() as i64 == BATCH;
                self.ready.extend(batch);
                true
            }
            Err(e) => {
                // The client reconnects and resumes from its last id.
                log::warn!("notification stream of user {user} ends: reading failed: {e}");
                false
            }
        }
    }

    /// Follows the caller's teams as they are now (teams joined since, subscriptions that
    /// ended), subscribing anew only when something changed.
    async fn refresh(&mut self) {
        let (db, log, user) = (self.watch.db.clone(), self.watch.log.clone(), self.watch.user);
        let (known, open) = (self.watch.teams.clone(), self.watch.wake.len());
        let fresh = blocking(move || {
            let teams = teams_of(&mut *db.read()?, user)?;
            Ok(if teams != known || open != known.len() { Some((subscribe(&log, &teams), teams)) } else { None })
        })
        .await;
        if let Ok(Some((wake, teams))) = fresh {
            (self.watch.wake, self.watch.teams) = (wake, teams);
        }
    }

    async fn next(mut self) -> Option<(Bytes, State)> {
        loop {
            if let Some(notification) = self.ready.pop_front() {
                self.watch.after = notification.seq;
                return Some((frame(&notification), self));
            }
            if self.due {
                if !self.read().await {
                    return None;
                }
                continue;
            }
            let listening = !self.watch.wake.is_empty();
            tokio::select! {
                woke = self.watch.wake.next(), if listening => {
                    if woke.is_some() {
                        self.due = true;
                        // Entries that came together wake one read.
                        while let Some(Some(_)) = self.watch.wake.next().now_or_never() {}
                    }
                }
                () = tokio::time::sleep_until(self.refresh_at) => {
                    self.due = true;
                    self.refresh().await;
                    self.refresh_at = tokio::time::Instant::now() + REFRESH;
                }
            }
        }
    }
}

/// The stream's events: the notifications after the watch's position, then each new one
/// as it commits, in order, none twice. Ends when a read fails (the client resumes by
/// `Last-Event-ID`).
pub fn events(watch: NotificationWatch) -> EventStream {
    let state = State { watch, ready: VecDeque::new(), due: true, refresh_at: tokio::time::Instant::now() + REFRESH };
    futures_util::stream::unfold(state, State::next).boxed_local()
}
