//! Events after commit: committed entries handed to in-process subscribers, in commit order.
//!
//! [`crate::ActivityLog::append`] registers the publication on the write's transaction
//! ([`storage::Tx::after_commit_ordered`]), so an entry is published only once its
//! transaction has committed, in commit order, and never one of a write that rolled back.
//! Publishing never blocks: each team has a bounded broadcast buffer, and a subscriber
//! that falls more than that far behind is dropped ([`Lagged`]) rather than slowing the
//! writer or growing memory. A dropped subscriber reconnects and replays from the table
//! by the last id it saw (see [`crate::stream`]).
//!
//! [`Publisher`] is a trait so that several gateways on one shared database use
//! [`crate::relay::TablePublisher`] instead, which feeds the same kind of channels from the
//! table, woken by PostgreSQL `NOTIFY` or a poll.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::web::Bytes;
use core_models::sse::SseEvent;
use futures_util::Stream;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::ActivityEntry;

/// A committed entry as subscribers get it: shared by all of them, with its
/// Server-Sent Events frame encoded once (by the first stream that sends it) instead of
/// once per subscriber: with a thousand subscribers that was most of the cost of an event.
#[derive(Debug)]
pub struct Published {
    entry: ActivityEntry,
    frame: OnceLock<Bytes>,
}

impl Published {
    /// `entry`, not yet encoded.
    pub fn new(entry: ActivityEntry) -> Self {
        Published { entry, frame: OnceLock::new() }
    }

    /// The entry.
    pub fn entry(&self) -> &ActivityEntry {
        &self.entry
    }

    /// The entry as one SSE event: `id:` the entry id, `event:` its action, `data:` the
    /// entry as JSON.
    pub fn frame(&self) -> Bytes {
        self.frame.get_or_init(|| sse_event(&self.entry).encode()).clone()
    }
}

impl std::ops::Deref for Published {
    type Target = ActivityEntry;
    fn deref(&self) -> &ActivityEntry {
        &self.entry
    }
}

fn sse_event(entry: &ActivityEntry) -> SseEvent {
    SseEvent {
        id: entry.id.to_string(),
        event: entry.action.clone(),
        // An entry of plain values always serialises.
        data: serde_json::to_string(entry).unwrap_or_default(),
    }
}

/// The subscriber fell too far behind and was dropped; replay from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged;

/// A team's committed entries from the moment of subscribing, in commit order. It ends
/// after a [`Lagged`] item.
pub type Subscription = Pin<Box<dyn Stream<Item = Result<Arc<Published>, Lagged>> + Send>>;

/// Hands committed entries to subscribers.
pub trait Publisher: Send + Sync + std::fmt::Debug + 'static {
    /// What a publisher that tells other processes sends for the entry numbered
    /// `team_seq` of `team_id`: a PostgreSQL `NOTIFY` on a channel, as `(channel,
    /// payload)`. The log sends it in the entry's own `INSERT` statement (on PostgreSQL;
    /// nothing on SQLite), so the word leaves with the commit, never for a write that rolls
    /// back, and costs no round trip of its own while the team's counter row is held.
    /// `None` (the default) for publishers that tell no one.
    fn announcement(&self, _team_id: Uuid, _team_seq: i64) -> Option<(&'static str, String)> {
        None
    }
    /// Publishes one committed entry. Called in commit order; must not block.
    fn publish(&self, entry: Arc<Published>);
    /// Every entry of `team_id` published from now on.
    fn subscribe(&self, team_id: Uuid) -> Subscription;
}

/// Entries a subscriber may fall behind by before it is dropped (default).
pub const DEFAULT_BUFFER: usize = 1024;

/// The channel of a team someone watches.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) sender: broadcast::Sender<Arc<Published>>,
    /// The `team_seq` of the last entry sent on it (kept by [`crate::relay`]).
    pub(crate) fed: i64,
}

/// The channels of the teams someone watches.
pub(crate) type Channels = Arc<Mutex<HashMap<Uuid, Channel>>>;

/// The channels, locked (a panic elsewhere leaves them usable: every change is one step).
pub(crate) fn lock(channels: &Channels) -> std::sync::MutexGuard<'_, HashMap<Uuid, Channel>> {
    channels.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A receiver of `team_id`'s channel in `channels` as a [`Subscription`]; the team's last
/// subscription to go removes its channel.
pub(crate) fn subscription(
    channels: Channels,
    team_id: Uuid,
    receiver: broadcast::Receiver<Arc<Published>>,
) -> Subscription {
    let state = Receiver { receiver: Some(receiver), team_id, teams: channels };
    Box::pin(futures_util::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        let receiver = state.receiver.as_mut()?;
        match receiver.recv().await {
            Ok(entry) => Some((Ok(entry), Some(state))),
            Err(broadcast::error::RecvError::Lagged(_)) => Some((Err(Lagged), None)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }))
}

/// A [`Publisher`] within one process: a bounded broadcast channel per team with
/// subscribers, created on the first subscription and removed with the last, so the
/// memory follows the watched teams, not every team ever asked for.
#[derive(Debug)]
pub struct InProcessPublisher {
    teams: Channels,
    buffer: usize,
}

impl Default for InProcessPublisher {
    fn default() -> Self {
        Self::new(DEFAULT_BUFFER)
    }
}

impl InProcessPublisher {
    /// A publisher whose subscribers may fall `buffer` entries behind.
    pub fn new(buffer: usize) -> Self {
        InProcessPublisher { teams: Arc::default(), buffer: buffer.max(1) }
    }

    /// Teams with a channel, i.e. with at least one subscriber.
    pub fn open_channels(&self) -> usize {
        lock(&self.teams).len()
    }
}

/// One subscriber's receiver; the last one of a team to go removes the team's channel.
struct Receiver {
    receiver: Option<broadcast::Receiver<Arc<Published>>>,
    team_id: Uuid,
    teams: Channels,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut teams = lock(&self.teams);
        if teams.get(&self.team_id).is_some_and(|channel| channel.sender.receiver_count() == 0) {
            teams.remove(&self.team_id);
        }
    }
}

impl Publisher for InProcessPublisher {
    fn publish(&self, entry: Arc<Published>) {
        let teams = lock(&self.teams);
        if let Some(channel) = teams.get(&entry.team_id) {
            // Fails only without receivers, whose last one removes the channel anyway.
            let _ = channel.sender.send(entry.clone());
        }
    }

    fn subscribe(&self, team_id: Uuid) -> Subscription {
        let receiver = lock(&self.teams)
            .entry(team_id)
            .or_insert_with(|| Channel { sender: broadcast::channel(self.buffer).0, fed: 0 })
            .sender
            .subscribe();
        subscription(self.teams.clone(), team_id, receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_live_only_while_someone_watches() {
        let publisher = InProcessPublisher::default();
        let team = Uuid::now_v7();
        let first = publisher.subscribe(team);
        let second = publisher.subscribe(team);
        let elsewhere = publisher.subscribe(Uuid::now_v7());
        assert_eq!(publisher.open_channels(), 2);
        drop(first);
        assert_eq!(publisher.open_channels(), 2, "one watcher of the team is left");
        drop(second);
        drop(elsewhere);
        assert_eq!(publisher.open_channels(), 0, "asking for many teams leaves nothing behind");
    }
}
