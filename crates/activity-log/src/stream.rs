//! A team's live stream as Server-Sent Events: replay what the client missed from the
//! table, then live entries from the publisher, with nothing skipped or repeated.
//!
//! The subscription is taken *before* the replay is read, so an entry committed while the
//! replay runs is in the subscription, and one committed before is in the table (or both:
//! live entries at or below the last replayed `team_seq` are skipped). Publication follows
//! commit order, so the live part is in `team_seq` order too. A subscriber that falls behind is
//! dropped by the publisher: the stream ends, the browser reconnects with `Last-Event-ID`
//! and the replay covers the gap.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse};
use core_models::http::blocking;
use core_models::sse::sse_response;
use core_models::{AppResult, FieldError};
use futures_util::StreamExt as _;
use storage::Database;
use uuid::Uuid;

use crate::publish::{Published, Subscription};
use crate::store;

/// Entries read from the table per replay query.
const REPLAY_BATCH: i64 = 500;

/// Where a client resumes: the `Last-Event-ID` header (sent by a reconnecting
/// `EventSource`), else the `last_event_id` query parameter (for a page that opens a new
/// `EventSource` after getting a fresh ticket): the entry id and the name of the field it
/// came in (for a 422 when the team has no such entry, see
/// [`crate::ActivityLog::resume_position`]). `None`: start with what happens next.
pub fn resume_point(req: &HttpRequest, query_value: Option<&str>) -> AppResult<Option<(Uuid, &'static str)>> {
    let header = req.headers().get("Last-Event-ID").map(|v| v.to_str().unwrap_or("\u{0}"));
    let (field, raw) = match (header, query_value) {
        (Some(h), _) => ("Last-Event-ID", h),
        (None, Some(q)) => ("last_event_id", q),
        (None, None) => return Ok(None),
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(raw)
        .map(|id| Some((id, field)))
        .map_err(|_| FieldError::new(field, "is not the id of an event of this stream").into())
}

/// Everything a team's stream reads from, for a caller already allowed to see the team:
/// the subscription (taken *before* the resume position was read), the resume position,
/// and the database to replay from. A product's service builds it after its own access
/// check, so handlers never reach into the database themselves.
pub struct Watch {
    live: Subscription,
    db: Database,
    team_id: Uuid,
    after: Option<i64>,
}

impl Watch {
    /// The stream of `team_id` from the entry number `after` (the whole replay is skipped
    /// when `None`), over `live`, which must have been subscribed before `after` was read.
    pub fn new(live: Subscription, db: Database, team_id: Uuid, after: Option<i64>) -> Self {
        Watch { live, db, team_id, after }
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").field("team_id", &self.team_id).field("after", &self.after).finish_non_exhaustive()
    }
}

/// How a stream goes on.
enum Phase {
    /// Reading the table after this `team_seq`.
    Replay(i64),
    /// Forwarding the subscription.
    Live,
}

struct State {
    db: Database,
    team_id: Uuid,
    live: Subscription,
    phase: Phase,
    last_seq: i64,
    ready: VecDeque<Arc<Published>>,
}

impl State {
    async fn next(mut self) -> Option<(Arc<Published>, State)> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                self.last_seq = entry.team_seq;
                return Some((entry, self));
            }
            match self.phase {
                Phase::Replay(after) => {
                    let (db, team_id) = (self.db.clone(), self.team_id);
                    let batch =
                        blocking(move || store::team_entries_after(&mut *db.read()?, team_id, after, REPLAY_BATCH))
                            .await;
                    let batch = match batch {
                        Ok(batch) => batch,
                        Err(e) => {
                            // The client reconnects and resumes from its last id.
                            log::warn!("activity stream of team {team_id} ends: replay failed: {e}");
                            return None;
                        }
                    };
                    self.phase = match batch.last() {
                        Some(last) if batch.len() as i64 == REPLAY_BATCH => Phase::Replay(last.team_seq),
                        _ => Phase::Live,
                    };
                    self.ready.extend(batch.into_iter().map(|entry| Arc::new(Published::new(entry))));
                }
                Phase::Live => match self.live.next().await {
                    Some(Ok(entry)) if entry.team_seq > self.last_seq => self.ready.push_back(entry),
                    Some(Ok(_)) => {} // already replayed
                    Some(Err(crate::Lagged)) | None => return None,
                },
            }
        }
    }
}

/// The entries of `team_id` after its entry number `resume_after` (if given) from the
/// table, then every entry of `live` (a subscription to the team taken *before* the
/// position was read, [`crate::ActivityLog::subscribe`]), in `team_seq` order without
/// repeats. It ends if the subscriber falls behind (resume from the last entry received)
/// or a replay read fails.
pub fn resume(watch: Watch) -> impl futures_util::Stream<Item = Arc<Published>> {
    let Watch { live, db, team_id, after: resume_after } = watch;
    let phase = resume_after.map_or(Phase::Live, Phase::Replay);
    let state = State { db, team_id, live, phase, last_seq: resume_after.unwrap_or(0), ready: VecDeque::new() };
    futures_util::stream::unfold(state, |state| async move {
        let (entry, state) = state.next().await?;
        Some((entry, state))
    })
}

/// The event stream of `team_id` for a caller already allowed to see it: [`resume`] as
/// Server-Sent Events (`id:` the entry id, `event:` its action, `data:` the entry). It
/// ends when `ends` resolves (shutdown, a revoked or expired session), and after the first
/// entry for which `last` is true (e.g. the caller's removal from the team), so access
/// checked at the start cannot outlive the membership.
pub fn team_stream(
    watch: Watch,
    ends: impl std::future::Future<Output = ()> + 'static,
    heartbeat: Duration,
    last: impl Fn(&crate::ActivityEntry) -> bool + 'static,
) -> HttpResponse {
    let entries = Box::pin(resume(watch));
    // Up to and including the entry that ends the stream; then end at once, without
    // waiting for another entry.
    let last = std::rc::Rc::new(last);
    let events = futures_util::stream::unfold(Some(entries), move |entries| {
        let last = last.clone();
        async move {
            let mut entries = entries?;
            let entry = entries.next().await?;
            let next = if last(&entry) { None } else { Some(entries) };
            Some((entry.frame(), next))
        }
    })
    .boxed_local();
    sse_response(events, ends, heartbeat)
}
