//! Webhooks and their deliveries as the API shows them, and the bodies clients send.

use chrono::{DateTime, Utc};
use core_models::{patch, text, time, AppResult, FieldError, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::address::{self, Target};
use crate::events;

/// A team's webhook: where its activity is sent. The secret is never shown here.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Webhook {
    /// The webhook's id.
    pub id: Uuid,
    /// The team whose activity it receives.
    pub team_id: Uuid,
    /// Where deliveries are `POST`ed (`http` or `https`).
    #[schema(example = "https://hooks.example.com/corkboard")]
    pub url: String,
    /// The actions it receives: actions and `prefix.*` patterns.
    #[schema(example = json!(["task.*", "comment.created"]))]
    pub events: Vec<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether deliveries are made (`false`: switched off by an admin, or by the server
    /// after 20 deliveries in a row failed).
    pub active: bool,
    /// Who registered it.
    pub created_by: Uuid,
    /// When it was registered.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// Until when the secret replaced by the last rotation still signs beside the new
    /// one (null: only one secret signs).
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Moves with every change (`ETag`, `If-Match`).
    pub version: i64,
}

impl core_models::id::Resource for Webhook {
    const NAME: &'static str = "webhook";
}

impl core_models::version::Versioned for Webhook {
    fn version(&self) -> i64 {
        self.version
    }
}

/// A webhook just registered, with its signing secret: shown in this response only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_` and base64): keep it, it is never shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// A new secret after a rotation: shown in this response only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookSecret {
    /// The new signing secret.
    pub secret: String,
    /// Until when the secret it replaces keeps signing beside it (24 hours).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// One event's delivery to a webhook, with the outcome of its last attempt.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// The delivery's id: also its `webhook-id` header, the same on every attempt.
    pub id: Uuid,
    /// The activity entry delivered (for a ping, an id of its own).
    pub event_id: Uuid,
    /// The entry's action (`webhook.ping` for a ping).
    #[schema(example = "task.status_changed")]
    pub action: String,
    /// Attempts made so far (at most 8 automatic ones).
    pub attempts: i32,
    /// The HTTP status of the last attempt (null: none made, or no response).
    pub last_status: Option<i32>,
    /// Why the last attempt failed (null: it succeeded, or none was made).
    pub last_error: Option<String>,
    /// When the next attempt is due (null: delivered, or given up).
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When a receiver accepted it (a 2xx), if one did.
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was written (with its activity entry).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl core_models::id::Resource for WebhookDelivery {
    const NAME: &'static str = "delivery";
}

/// The body of `POST /teams/{id}/webhooks`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to send (`http` or `https`; the host must resolve to public addresses).
    #[schema(example = "https://hooks.example.com/corkboard", max_length = 2000)]
    pub url: String,
    /// Actions and `prefix.*` patterns, e.g. `["task.*", "comment.created"]`.
    #[schema(example = json!(["task.*", "comment.created"]))]
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
}

/// The body of `PATCH /webhooks/{id}`: absent fields are left as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChanges {
    /// New URL; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, max_length = 2000)]
    pub url: Option<Option<String>>,
    /// New events; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Vec<String>, required = false)]
    pub events: Option<Option<Vec<String>>>,
    /// `false` stops deliveries, `true` resumes them (and forgives past failures); not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = bool, required = false)]
    pub active: Option<Option<bool>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
}

/// A [`NewWebhook`] that passed the rules (the address check comes later, off the request
/// thread: it resolves the host).
#[derive(Debug, Clone)]
pub(crate) struct ValidWebhook {
    pub target: Target,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// [`WebhookChanges`] that passed the rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidChanges {
    pub target: Option<Target>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub description: Option<Option<String>>,
}

fn check_url(v: &mut Violations, url: &str) -> Option<Target> {
    v.check(address::parse(url).map_err(|message| FieldError::new("url", message)))
}

fn check_events(v: &mut Violations, list: &[String]) -> Option<Vec<String>> {
    match events::parse("events", list) {
        Ok(events) => Some(events),
        Err(errors) => {
            errors.into_iter().for_each(|e| v.push(e));
            None
        }
    }
}

impl NewWebhook {
    pub(crate) fn validate(self) -> AppResult<ValidWebhook> {
        let mut v = Violations::new();
        let target = check_url(&mut v, &self.url);
        let events = check_events(&mut v, &self.events);
        let description = v.check(text::optional("description", self.description, text::BODY_MAX));
        v.finish()?;
        Ok(ValidWebhook {
            target: target.unwrap_or_else(|| unreachable!("checked by finish")),
            events: events.unwrap_or_default(),
            description: description.flatten(),
        })
    }
}

impl WebhookChanges {
    pub(crate) fn validate(self) -> AppResult<ValidChanges> {
        let mut v = Violations::new();
        let url = v.check(patch::not_null("url", self.url)).flatten();
        let target = url.and_then(|url| check_url(&mut v, &url));
        let events = v.check(patch::not_null("events", self.events)).flatten();
        let events = events.and_then(|list| check_events(&mut v, &list));
        let active = v.check(patch::not_null("active", self.active)).flatten();
        let description = match self.description {
            Some(value) => v.check(text::optional("description", value, text::BODY_MAX)).map(Some),
            None => None,
        };
        v.finish()?;
        Ok(ValidChanges { target, events, active, description: description.flatten() })
    }
}

core_models::body_rules!(NewWebhook => NewWebhook::validate);
core_models::body_rules!(WebhookChanges => WebhookChanges::validate);
