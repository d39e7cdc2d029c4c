//! The outbox hook: inside every activity append, one delivery row per active webhook of
//! the team whose events match the action, in the same transaction as the entry (so no
//! delivery is lost to a crash, and none exists for an entry that rolled back). After the
//! commit it wakes the worker, which sends at once instead of at its next poll.

use std::sync::Arc;

use activity_log::{ActivityEntry, EntryHook};
use core_models::AppResult;
use storage::Tx;
use tokio::sync::Notify;

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
    fn on_append(&self, tx: &mut Tx<'_>, entry: &ActivityEntry) -> AppResult<()> {
        // A team without webhooks costs this one index probe that finds nothing.
        let webhooks = store::active_webhooks(tx, entry.team_id)?;
        if webhooks.is_empty() {
            return Ok(());
        }
        let mut targets = Vec::with_capacity(webhooks.len());
        for (webhook_id, stored) in webhooks {
            if events::matches(&store::parse_events(&stored)?, &entry.action) {
                targets.push(webhook_id);
            }
        }
        if store::enqueue(tx, entry, &targets)? > 0 {
            let wake = self.wake.clone();
            tx.after_commit(move || wake.notify_one());
        }
        Ok(())
    }
}
