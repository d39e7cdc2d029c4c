//! The outbox hook: inside every activity append, one delivery row per active webhook of
//! the team whose events match the action, in the same transaction as the entry (so no
//! delivery is lost to a crash, and none exists for an entry that rolled back). After the
//! commit it wakes the worker, which sends at once instead of at its next poll.

use std::sync::Arc;

use activity_log::{ActivityEntry, EntryHook, Prepared};
use core_models::AppResult;
use storage::Tx;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{events, store};

/// The [`EntryHook`] that writes webhook deliveries: install it on the app's one
/// [`activity_log::ActivityLog`] with `with_hook` before the log is handed to the services.
#[derive(Debug, Clone)]
pub struct OutboxHook {
    wake: Arc<Notify>,
}

impl OutboxHook {
    /// A hook that wakes the worker listening on `wake` after each commit that wrote
    /// deliveries ([`crate::Worker::wake`]).
    pub fn new(wake: Arc<Notify>) -> Self {
        OutboxHook { wake }
    }
}

impl EntryHook for OutboxHook {
    /// The team's active webhooks whose events match the action, read before the entry's
    /// insert (out of the team's counter-row wait); nothing when there are none.
    fn before_append(&self, tx: &mut Tx<'_>, team_id: Uuid, action: &str) -> AppResult<Prepared> {
        // A team without webhooks costs this one index probe that finds nothing.
        let webhooks = store::active_webhooks(tx, team_id)?;
        let mut targets = Vec::with_capacity(webhooks.len());
        for (webhook_id, stored) in webhooks {
            if events::matches(&store::parse_events(&stored)?, action) {
                targets.push(webhook_id);
            }
        }
        Ok((!targets.is_empty()).then(|| Box::new(Targets(targets)) as Box<dyn std::any::Any + Send>))
    }

    fn on_append(&self, tx: &mut Tx<'_>, entry: &ActivityEntry, prepared: Prepared) -> AppResult<()> {
        let Some(Targets(targets)) = prepared.and_then(|p| p.downcast::<Targets>().ok()).map(|t| *t) else {
            return Ok(());
        };
        if store::enqueue(tx, entry, &targets)? > 0 {
            let wake = self.wake.clone();
            tx.after_commit(move || wake.notify_one());
        }
        Ok(())
    }
}

/// The webhooks an entry goes to (ids), as [`OutboxHook::before_append`] found them.
struct Targets(Vec<String>);
