//! Signed webhooks (API section 7): team admins register endpoints that receive the
//! team's activity, signed as the Standard Webhooks specification says.
//!
//! - [`WebhookService`] is the contract of the routes ([`http::configure`]); [`DbWebhooks`]
//!   implements it over the shared database. Registering, changing, rotating and deleting
//!   are activity entries (`webhook.created`, ...), so every admin sees where the team's
//!   data goes.
//! - [`OutboxHook`], installed on the app's one [`activity_log::ActivityLog`], writes a
//!   delivery row per matching active webhook in the same transaction as each entry.
//! - [`Worker`] sends the deliveries (signed, bounded concurrency, retries with backoff,
//!   leases that survive a crash); see [`worker`].
//!
//! ```
//! use std::sync::Arc;
//! use activity_log::{ActivityLog, InProcessPublisher};
//! use webhooks::{DbWebhooks, NewWebhook, OutboxHook, WebhookService};
//!
//! let db = storage::test_pool();
//! # let ada = storage::testing::users(&db, &["Ada".into()]).remove(0);
//! let wake = Arc::new(tokio::sync::Notify::new());
//! let log = ActivityLog::new(Arc::new(InProcessPublisher::default()))
//!     .with_hook(Arc::new(OutboxHook::new(wake.clone())));
//! let teams = projects::DbProjects::new(db.database(), log.clone());
//! let team = projects::ProjectService::create_team(&teams, &ada, projects::NewTeam { name: "Ops".into(), description: None })?;
//!
//! let hooks = DbWebhooks::new(db.database(), log, true, wake);
//! let new = NewWebhook { url: "http://127.0.0.1:9/hook".into(), events: vec!["task.*".into()], description: None };
//! let created = hooks.create(&ada, team.id, new)?;
//! assert!(created.secret.starts_with("whsec_"));
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod address;
pub mod events;
mod hook;
pub mod http;
mod model;
#[cfg(test)]
mod plans;
mod service;
pub mod signing;
mod store;
pub mod testing;
pub mod worker;

pub use hook::OutboxHook;
pub use model::{CreatedWebhook, NewWebhook, Webhook, WebhookChanges, WebhookDelivery, WebhookSecret};
pub use service::{DbWebhooks, WebhookService};
pub use worker::{Worker, WorkerConfig, WorkerHandle};
