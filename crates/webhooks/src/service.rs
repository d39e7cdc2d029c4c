//! [`WebhookService`], the contract of the webhook routes, and [`DbWebhooks`], its
//! implementation over the shared database: each change and its activity entry are one
//! write; the address of a URL is checked (a DNS lookup) before the write, never in it.

use std::sync::Arc;

use activity_log::ActivityLog;
use core_models::pagination::IdPaging;
use core_models::version::IfMatch;
use core_models::{time, AppError, AppResult, Caller, Page};
use storage::Database;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::address::{self, Target};
use crate::model::{CreatedWebhook, NewWebhook, Webhook, WebhookChanges, WebhookDelivery, WebhookSecret};
use crate::store;

/// What the webhook routes need; every method takes the caller (team admins only: anyone
/// else gets 404).
pub trait WebhookService: Send + Sync {
    /// Registers a webhook; the answer carries its secret (shown only here).
    fn create(&self, caller: &Caller, team_id: Uuid, new: NewWebhook) -> AppResult<CreatedWebhook>;
    /// A page of the team's webhooks, oldest first.
    fn list(&self, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<Webhook>>;
    /// One webhook.
    fn get(&self, caller: &Caller, webhook_id: Uuid) -> AppResult<Webhook>;
    /// Changes a webhook (`If-Match` honoured).
    fn update(
        &self,
        caller: &Caller,
        webhook_id: Uuid,
        changes: WebhookChanges,
        expected: IfMatch,
    ) -> AppResult<Webhook>;
    /// Deletes a webhook with its deliveries (`If-Match` honoured).
    fn delete(&self, caller: &Caller, webhook_id: Uuid, expected: IfMatch) -> AppResult<()>;
    /// A new secret; the old one signs beside it for 24 hours.
    fn rotate_secret(&self, caller: &Caller, webhook_id: Uuid) -> AppResult<WebhookSecret>;
    /// Sends a `webhook.ping` now: the delivery, due at once.
    fn ping(&self, caller: &Caller, webhook_id: Uuid) -> AppResult<WebhookDelivery>;
    /// A page of the webhook's deliveries, newest first.
    fn deliveries(&self, caller: &Caller, webhook_id: Uuid, paging: &IdPaging) -> AppResult<Page<WebhookDelivery>>;
    /// Makes a delivery due now.
    fn retry(&self, caller: &Caller, webhook_id: Uuid, delivery_id: Uuid) -> AppResult<WebhookDelivery>;
}

/// [`WebhookService`] over the shared database.
#[derive(Debug, Clone)]
pub struct DbWebhooks {
    db: Database,
    log: ActivityLog,
    allow_private: bool,
    wake: Arc<Notify>,
}

impl DbWebhooks {
    /// The service over `db`, recording through `log` (the app's one log, with the
    /// [`crate::OutboxHook`] installed); `allow_private` lets URLs reach loopback and private
    /// addresses (`--webhook-allow-private`); `wake` is the worker's ([`crate::Worker::new`]).
    pub fn new(db: Database, log: ActivityLog, allow_private: bool, wake: Arc<Notify>) -> Self {
        DbWebhooks { db, log, allow_private, wake }
    }

    /// 422 on `url` unless its host resolves to allowed addresses only.
    fn check_address(&self, target: &Target) -> AppResult<()> {
        if self.allow_private {
            return Ok(());
        }
        address::check_resolved(target).map_err(|message| AppError::invalid("url", message))
    }
}

impl WebhookService for DbWebhooks {
    fn create(&self, caller: &Caller, team_id: Uuid, new: NewWebhook) -> AppResult<CreatedWebhook> {
        let valid = new.validate()?;
        store::require_admin(&mut *self.db.read()?, team_id, caller)?;
        self.check_address(&valid.target)?;
        let (log, caller) = (self.log.clone(), caller.clone());
        let (row, secret) = self.db.write(move |tx| store::create(tx, &log, &caller, team_id, &valid))?;
        let now = time::to_millis(time::now());
        Ok(CreatedWebhook { webhook: row.to_api(now)?, secret })
    }

    fn list(&self, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<Webhook>> {
        store::list(&mut *self.db.read()?, caller, team_id, paging)
    }

    fn get(&self, caller: &Caller, webhook_id: Uuid) -> AppResult<Webhook> {
        store::for_admin(&mut *self.db.read()?, webhook_id, caller)?.to_api(time::to_millis(time::now()))
    }

    fn update(
        &self,
        caller: &Caller,
        webhook_id: Uuid,
        changes: WebhookChanges,
        expected: IfMatch,
    ) -> AppResult<Webhook> {
        let changes = changes.validate()?;
        if let Some(target) = &changes.target {
            store::for_admin(&mut *self.db.read()?, webhook_id, caller)?;
            self.check_address(target)?;
        }
        let (log, caller) = (self.log.clone(), caller.clone());
        let row = self.db.write(move |tx| store::update(tx, &log, &caller, webhook_id, &changes, &expected))?;
        row.to_api(time::to_millis(time::now()))
    }

    fn delete(&self, caller: &Caller, webhook_id: Uuid, expected: IfMatch) -> AppResult<()> {
        let (log, caller) = (self.log.clone(), caller.clone());
        self.db.write(move |tx| store::delete(tx, &log, &caller, webhook_id, &expected))
    }

    fn rotate_secret(&self, caller: &Caller, webhook_id: Uuid) -> AppResult<WebhookSecret> {
        let (log, caller) = (self.log.clone(), caller.clone());
        let (_, secret) = self.db.write(move |tx| store::rotate(tx, &log, &caller, webhook_id))?;
        Ok(secret)
    }

    fn ping(&self, caller: &Caller, webhook_id: Uuid) -> AppResult<WebhookDelivery> {
        let (caller, wake) = (caller.clone(), self.wake.clone());
        self.db.write(move |tx| {
            let delivery = store::ping(tx, &caller, webhook_id)?;
            let wake = wake.clone();
            tx.after_commit(move || wake.notify_one());
            Ok(delivery)
        })
    }

    fn deliveries(&self, caller: &Caller, webhook_id: Uuid, paging: &IdPaging) -> AppResult<Page<WebhookDelivery>> {
        store::deliveries(&mut *self.db.read()?, caller, webhook_id, paging)
    }

    fn retry(&self, caller: &Caller, webhook_id: Uuid, delivery_id: Uuid) -> AppResult<WebhookDelivery> {
        let (caller, wake) = (caller.clone(), self.wake.clone());
        self.db.write(move |tx| {
            let delivery = store::retry(tx, &caller, webhook_id, delivery_id)?;
            let wake = wake.clone();
            tx.after_commit(move || wake.notify_one());
            Ok(delivery)
        })
    }
}
