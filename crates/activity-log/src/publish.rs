//! Events after commit: committed entries handed to in-process subscribers, in commit order.
//!
//! [`crate::ActivityLog::append`] registers the publication with
//! [`storage::after_commit`], so the writer thread publishes an entry only once its
//! transaction has committed, in commit order, and never one of a write that rolled back.
//! Publishing never blocks: each team has a bounded broadcast buffer, and a subscriber
//! that falls more than that far behind is dropped ([`Lagged`]) rather than slowing the
//! writer or growing memory. A dropped subscriber reconnects and replays from the table
//! by the last id it saw (see [`crate::stream`]).
//!
//! [`Publisher`] is a trait so that several gateways on one shared database can swap in a
//! cross-process implementation (e.g. PostgreSQL `LISTEN`/`NOTIFY`) later.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::Stream;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::ActivityEntry;

/// The subscriber fell too far behind and was dropped; replay from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged;

/// A team's committed entries from the moment of subscribing, in commit order. It ends
/// after a [`Lagged`] item.
pub type Subscription = Pin<Box<dyn Stream<Item = Result<Arc<ActivityEntry>, Lagged>> + Send>>;

/// Hands committed entries to subscribers.
pub trait Publisher: Send + Sync + std::fmt::Debug + 'static {
    /// Publishes one committed entry. Called in commit order; must not block.
    fn publish(&self, entry: Arc<ActivityEntry>);
    /// Every entry of `team_id` published from now on.
    fn subscribe(&self, team_id: Uuid) -> Subscription;
}

/// Entries a subscriber may fall behind by before it is dropped (default).
pub const DEFAULT_BUFFER: usize = 1024;

/// A [`Publisher`] within one process: a bounded broadcast channel per team with
/// subscribers, created on the first subscription and gone with the last.
#[derive(Debug)]
pub struct InProcessPublisher {
    teams: Mutex<HashMap<Uuid, broadcast::Sender<Arc<ActivityEntry>>>>,
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
        InProcessPublisher { teams: Mutex::new(HashMap::new()), buffer: buffer.max(1) }
    }

    /// Teams with a channel (for tests: channels of teams nobody watches are dropped).
    pub fn open_channels(&self) -> usize {
        self.teams.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }
}

impl Publisher for InProcessPublisher {
    fn publish(&self, entry: Arc<ActivityEntry>) {
        let mut teams = self.teams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(channel) = teams.get(&entry.team_id) {
            if channel.send(entry.clone()).is_err() {
                // Nobody listens any more: forget the channel.
                teams.remove(&entry.team_id);
            }
        }
    }

    fn subscribe(&self, team_id: Uuid) -> Subscription {
        let receiver = {
            let mut teams = self.teams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            teams.entry(team_id).or_insert_with(|| broadcast::channel(self.buffer).0).subscribe()
        };
        Box::pin(futures_util::stream::unfold(Some(receiver), |receiver| async move {
            let mut receiver = receiver?;
            match receiver.recv().await {
                Ok(entry) => Some((Ok(entry), Some(receiver))),
                Err(broadcast::error::RecvError::Lagged(_)) => Some((Err(Lagged), None)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        }))
    }
}
