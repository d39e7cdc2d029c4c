//! The webhooks' rows: registering, reading, changing and deleting webhooks, each change
//! with its activity entry in the same write; the outbox rows the [`crate::OutboxHook`]
//! writes with every entry; and the deliveries' list, retry and ping.

use activity_log::{ActivityEntry, ActivityLog, Details, NewEntry};
use chrono::{DateTime, Utc};
use core_models::pagination::IdPaging;
use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Caller, Page};
use diesel::prelude::*;
use storage::schema::{users, webhook_deliveries as deliveries, webhooks};
use storage::sql::sql;
use storage::{DbConn, Tx};
use uuid::Uuid;

use crate::model::{ValidChanges, ValidWebhook, Webhook, WebhookDelivery, WebhookSecret};
use crate::signing;

/// How long a rotated-out secret keeps signing beside the new one.
pub const PREVIOUS_SECRET_HOURS: i64 = 24;

/// A webhook row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(storage::Backend))]
pub(crate) struct WebhookRow {
    pub id: String,
    pub team_id: String,
    pub url: String,
    pub events: String,
    pub description: Option<String>,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

impl WebhookRow {
    pub(crate) fn events(&self) -> AppResult<Vec<String>> {
        parse_events(&self.events)
    }

    pub(crate) fn team(&self) -> AppResult<Uuid> {
        id::from_stored("webhooks.team_id", &self.team_id)
    }

    pub(crate) fn to_api(&self, now: i64) -> AppResult<Webhook> {
        Ok(Webhook {
            id: id::from_stored("webhooks.id", &self.id)?,
            team_id: self.team()?,
            url: self.url.clone(),
            events: self.events()?,
            description: self.description.clone(),
            active: self.active,
            created_by: id::from_stored("webhooks.created_by", &self.created_by)?,
            created_at: time::from_millis(self.created_at),
            updated_at: time::from_millis(self.updated_at),
            previous_secret_expires_at: self
                .previous_secret_expires_at
                .filter(|until| *until > now && self.previous_secret.is_some())
                .map(time::from_millis),
            version: self.version,
        })
    }
}

pub(crate) fn parse_events(stored: &str) -> AppResult<Vec<String>> {
    serde_json::from_str(stored).map_err(|_| id::corrupt("webhooks.events", stored))
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

fn now_ms() -> i64 {
    time::to_millis(time::now())
}

/// Passes for the team's admins; 404 "team not found" for everyone else (members who are
/// not admins must not learn where the team's data goes).
pub(crate) fn require_admin(conn: &mut DbConn, team_id: Uuid, caller: &Caller) -> AppResult<()> {
    match projects::access::role_of(conn, team_id, caller.id)? {
        Some(projects::Role::Admin) => Ok(()),
        _ => Err(AppError::not_found("team")),
    }
}

/// The webhook `webhook_id` if the caller is an admin of its team; 404 otherwise.
pub(crate) fn for_admin(conn: &mut DbConn, webhook_id: Uuid, caller: &Caller) -> AppResult<WebhookRow> {
    let row: Option<WebhookRow> = webhooks::table
        .filter(webhooks::id.eq(webhook_id.to_string()))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?;
    let row = row.ok_or_else(|| AppError::not_found("webhook"))?;
    require_admin(conn, row.team()?, caller).map_err(|_| AppError::not_found("webhook"))?;
    Ok(row)
}

fn entry(row: &WebhookRow, action: &str) -> AppResult<NewEntry> {
    Ok(NewEntry::new(row.team()?, action).details(Details::new().with("webhook_id", &row.id).with("url", &row.url)))
}

/// Registers a webhook with a new secret, and its `webhook.created` entry.
pub(crate) fn create(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    team_id: Uuid,
    valid: &ValidWebhook,
) -> AppResult<(WebhookRow, String)> {
    require_admin(tx, team_id, caller)?;
    let now = now_ms();
    let secret = signing::new_secret()?;
    let row = WebhookRow {
        id: id::new_id().to_string(),
        team_id: team_id.to_string(),
        url: valid.target.url.clone(),
        events: events_json(&valid.events),
        description: valid.description.clone(),
        active: true,
        secret: secret.clone(),
        previous_secret: None,
        previous_secret_expires_at: None,
        created_by: caller.id.to_string(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(&row.id),
            webhooks::team_id.eq(&row.team_id),
            webhooks::url.eq(&row.url),
            webhooks::events.eq(&row.events),
            webhooks::description.eq(&row.description),
            webhooks::active.eq(true),
            webhooks::secret.eq(&row.secret),
            webhooks::created_by.eq(&row.created_by),
            webhooks::created_at.eq(now),
            webhooks::updated_at.eq(now),
            webhooks::version.eq(1i64),
        ))
        .execute(tx.conn())?;
    let details = Details::new().with("webhook_id", &row.id).with("url", &row.url).with("events", &valid.events);
    log.append(tx, caller, NewEntry::new(team_id, "webhook.created").details(details))?;
    Ok((row, secret))
}

/// The query of a page of a team's webhooks, oldest first.
pub(crate) fn list_query(team_id: &str, paging: &IdPaging) -> Boxed<WebhookRow> {
    // `webhooks_by_team (team_id, id)` yields the team's webhooks in order.
    let mut q =
        webhooks::table.select(WebhookRow::as_select()).filter(webhooks::team_id.eq(team_id.to_string())).into_boxed();
    if let Some(after) = paging.after() {
        q = q.filter(webhooks::id.gt(after));
    }
    q.order(webhooks::id.asc()).limit(paging.fetch())
}

/// A boxed query of webhooks read as `R`.
pub(crate) type Boxed<R> =
    webhooks::BoxedQuery<'static, storage::Backend, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<R, storage::Backend>>>;

/// A page of the team's webhooks, oldest first (admins).
pub(crate) fn list(conn: &mut DbConn, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<Webhook>> {
    require_admin(conn, team_id, caller)?;
    let rows: Vec<WebhookRow> = list_query(&team_id.to_string(), paging).load(conn)?;
    let now = now_ms();
    let items = rows.iter().map(|row| row.to_api(now)).collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| {
        storage::count::count_up_to(conn, webhooks::table.filter(webhooks::team_id.eq(team_id.to_string())), most)
    })?;
    Ok(paging.page(items, |w| w.id.to_string()).with_total(total))
}

/// Changes a webhook (admins), with a `webhook.updated` entry naming what changed
/// (`webhook.disabled` is the server's own, when deliveries keep failing).
pub(crate) fn update(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    webhook_id: Uuid,
    changes: &ValidChanges,
    expected: &IfMatch,
) -> AppResult<WebhookRow> {
    let before = for_admin(tx, webhook_id, caller)?;
    expected.check(before.version)?;
    let mut after = before.clone();
    if let Some(target) = &changes.target {
        after.url = target.url.clone();
    }
    if let Some(events) = &changes.events {
        after.events = events_json(events);
    }
    if let Some(active) = changes.active {
        after.active = active;
    }
    if let Some(description) = &changes.description {
        after.description = description.clone();
    }
    let (old_events, new_events) = (before.events()?, after.events()?);
    let details = Details::new()
        .changed("url", &before.url, &after.url)
        .changed("events", &old_events, &new_events)
        .changed("active", before.active, after.active)
        .changed("description", &before.description, &after.description);
    if details.is_empty() {
        return Ok(before);
    }
    let now = now_ms();
    after.updated_at = now;
    after.version = before.version + 1;
    // Switching a webhook back on forgives the failures that switched it off.
    let failures_kept = !after.active || before.active;
    diesel::update(webhooks::table.filter(webhooks::id.eq(&before.id)))
        .set((
            webhooks::url.eq(&after.url),
            webhooks::events.eq(&after.events),
            webhooks::active.eq(after.active),
            webhooks::description.eq(&after.description),
            webhooks::updated_at.eq(now),
            webhooks::version.eq(after.version),
        ))
        .execute(tx.conn())?;
    if !failures_kept {
        diesel::update(webhooks::table.filter(webhooks::id.eq(&before.id)))
            .set(webhooks::failed_deliveries.eq(0))
            .execute(tx.conn())?;
    }
    let details = details.with("webhook_id", &before.id);
    log.append(tx, caller, NewEntry::new(before.team()?, "webhook.updated").details(details))?;
    Ok(after)
}

/// Deletes a webhook and its deliveries (admins), with a `webhook.deleted` entry.
pub(crate) fn delete(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    webhook_id: Uuid,
    expected: &IfMatch,
) -> AppResult<()> {
    let row = for_admin(tx, webhook_id, caller)?;
    expected.check(row.version)?;
    diesel::delete(deliveries::table.filter(deliveries::webhook_id.eq(&row.id))).execute(tx.conn())?;
    diesel::delete(webhooks::table.filter(webhooks::id.eq(&row.id))).execute(tx.conn())?;
    log.append(tx, caller, entry(&row, "webhook.deleted")?)?;
    Ok(())
}

/// Gives a webhook a new secret (admins); the one it replaces signs beside it for
/// [`PREVIOUS_SECRET_HOURS`] (a secret rotated out before that is dropped at once).
pub(crate) fn rotate(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    webhook_id: Uuid,
) -> AppResult<(WebhookRow, WebhookSecret)> {
    let mut row = for_admin(tx, webhook_id, caller)?;
    let now = now_ms();
    let until = now + PREVIOUS_SECRET_HOURS * 3600 * 1000;
    let secret = signing::new_secret()?;
    row.previous_secret = Some(std::mem::replace(&mut row.secret, secret.clone()));
    row.previous_secret_expires_at = Some(until);
    row.updated_at = now;
    row.version += 1;
    diesel::update(webhooks::table.filter(webhooks::id.eq(&row.id)))
        .set((
            webhooks::secret.eq(&row.secret),
            webhooks::previous_secret.eq(&row.previous_secret),
            webhooks::previous_secret_expires_at.eq(until),
            webhooks::updated_at.eq(now),
            webhooks::version.eq(row.version),
        ))
        .execute(tx.conn())?;
    log.append(tx, caller, entry(&row, "webhook.secret_rotated")?)?;
    Ok((row, WebhookSecret { secret, previous_secret_expires_at: time::from_millis(until) }))
}

/// The body a delivery carries: `{"type": action, "timestamp": <RFC 3339>, "data": ...}`.
pub(crate) fn payload(action: &str, at: DateTime<Utc>, data: &impl serde::Serialize) -> String {
    serde_json::json!({"type": action, "timestamp": time::format(&at), "data": data}).to_string()
}

/// The active webhooks of `team_id` (id, events): what every activity append reads.
pub(crate) fn active_webhooks(conn: &mut DbConn, team_id: Uuid) -> AppResult<Vec<(String, String)>> {
    Ok(active_query(&team_id.to_string()).load(conn)?)
}

/// The query of [`active_webhooks`].
pub(crate) fn active_query(
    team_id: &str,
) -> webhooks::BoxedQuery<'static, storage::Backend, (diesel::sql_types::Text, diesel::sql_types::Text)> {
    // `webhooks_by_team (team_id, id)`: one probe, no rows for a team without webhooks.
    webhooks::table
        .select((webhooks::id, webhooks::events))
        .filter(webhooks::team_id.eq(team_id.to_string()))
        .filter(webhooks::active.eq(true))
        .into_boxed()
}

/// Writes one delivery of `entry` per webhook of `targets`, due now. Returns how many.
/// A delivery names its entry (`activity_seq`); its body is built when it is claimed
/// ([`entry_payload`]), so the write stores no body at all.
pub(crate) fn enqueue(conn: &mut DbConn, entry: &ActivityEntry, targets: &[String]) -> AppResult<usize> {
    if targets.is_empty() {
        return Ok(0);
    }
    let now = now_ms();
    // One statement for all of the entry's deliveries (Diesel's two-engine connection has
    // no multi-row insert; both engines take this SQL).
    let mut insert = sql("WITH targets (id, webhook_id) AS (VALUES ");
    for (i, webhook_id) in targets.iter().enumerate() {
        insert = insert
            .sql(if i == 0 { "(" } else { ", (" })
            .bind_text(id::new_id().to_string())
            .sql(", ")
            .bind_text(webhook_id.clone())
            .sql(")");
    }
    insert
        .sql(
            ") INSERT INTO webhook_deliveries (id, webhook_id, event_id, action, activity_seq, next_attempt_at, \
             created_at) SELECT id, webhook_id, ",
        )
        .bind_text(entry.id.to_string())
        .sql(", ")
        .bind_text(entry.action.clone())
        .sql(", ")
        .bind_int(entry.seq)
        .sql(", ")
        .bind_int(now)
        .sql(", ")
        .bind_int(now)
        .sql(" FROM targets")
        .untyped()
        .execute(conn)?;
    Ok(targets.len())
}

/// The body of a delivery of `entry`: the entry as the activity feed shows it.
pub(crate) fn entry_payload(entry: &ActivityEntry) -> String {
    payload(&entry.action, entry.created_at, entry)
}

/// A delivery row as the list shows it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = deliveries, check_for_backend(storage::Backend))]
pub(crate) struct DeliveryRow {
    id: String,
    event_id: String,
    action: String,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    next_attempt_at: Option<i64>,
    delivered_at: Option<i64>,
    created_at: i64,
}

fn delivery_api(row: DeliveryRow) -> AppResult<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: id::from_stored("webhook_deliveries.id", &row.id)?,
        event_id: id::from_stored("webhook_deliveries.event_id", &row.event_id)?,
        action: row.action,
        attempts: row.attempts,
        last_status: row.last_status,
        last_error: row.last_error,
        next_attempt_at: row.next_attempt_at.map(time::from_millis),
        delivered_at: row.delivered_at.map(time::from_millis),
        created_at: time::from_millis(row.created_at),
    })
}

/// The query of a page of a webhook's deliveries, newest first.
pub(crate) fn deliveries_query(
    webhook_id: &str,
    paging: &IdPaging,
) -> deliveries::BoxedQuery<
    'static,
    storage::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<DeliveryRow, storage::Backend>>,
> {
    // `webhook_deliveries_by_webhook (webhook_id, id)`, read backwards.
    let mut q = deliveries::table.filter(deliveries::webhook_id.eq(webhook_id.to_string())).into_boxed();
    if let Some(before) = paging.after() {
        q = q.filter(deliveries::id.lt(before));
    }
    q.select(DeliveryRow::as_select()).order(deliveries::id.desc()).limit(paging.fetch())
}

/// A page of a webhook's deliveries, newest first (admins).
pub(crate) fn deliveries(
    conn: &mut DbConn,
    caller: &Caller,
    webhook_id: Uuid,
    paging: &IdPaging,
) -> AppResult<Page<WebhookDelivery>> {
    let row = for_admin(conn, webhook_id, caller)?;
    let rows: Vec<DeliveryRow> = deliveries_query(&row.id, paging).load(conn)?;
    let items = rows.into_iter().map(delivery_api).collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| {
        storage::count::count_up_to(conn, deliveries::table.filter(deliveries::webhook_id.eq(&row.id)), most)
    })?;
    Ok(paging.page(items, |d| d.id.to_string()).with_total(total))
}

fn delivery(conn: &mut DbConn, delivery_id: &str) -> AppResult<WebhookDelivery> {
    let row: DeliveryRow =
        deliveries::table.filter(deliveries::id.eq(delivery_id)).select(DeliveryRow::as_select()).first(conn)?;
    delivery_api(row)
}

/// Makes a delivery due now (admins): one more attempt, also after the automatic ones
/// gave up or after it was delivered. 409 while an attempt is under way.
pub(crate) fn retry(
    tx: &mut Tx<'_>,
    caller: &Caller,
    webhook_id: Uuid,
    delivery_id: Uuid,
) -> AppResult<WebhookDelivery> {
    let row = for_admin(tx, webhook_id, caller)?;
    let now = now_ms();
    let found: Option<(Option<String>, Option<i64>)> = deliveries::table
        .filter(deliveries::id.eq(delivery_id.to_string()))
        .filter(deliveries::webhook_id.eq(&row.id))
        .select((deliveries::lease, deliveries::next_attempt_at))
        .first(tx.conn())
        .optional()?;
    let Some((lease, next)) = found else { return Err(AppError::not_found("delivery")) };
    if lease.is_some() && next.is_some_and(|due| due > now) {
        return Err(AppError::Conflict("an attempt of this delivery is under way; retry once it is recorded".into()));
    }
    diesel::update(deliveries::table.filter(deliveries::id.eq(delivery_id.to_string())))
        .set((deliveries::next_attempt_at.eq(Some(now)), deliveries::lease.eq(None::<String>)))
        .execute(tx.conn())?;
    delivery(tx, &delivery_id.to_string())
}

/// Writes a `webhook.ping` delivery to the webhook (admins), due now.
pub(crate) fn ping(tx: &mut Tx<'_>, caller: &Caller, webhook_id: Uuid) -> AppResult<WebhookDelivery> {
    let row = for_admin(tx, webhook_id, caller)?;
    let now = time::now();
    let event_id = id::new_id().to_string();
    let data = serde_json::json!({"webhook_id": row.id, "team_id": row.team_id, "actor": {"id": caller.id, "display_name": caller.display_name}});
    let delivery_id = id::new_id().to_string();
    diesel::insert_into(deliveries::table)
        .values((
            deliveries::id.eq(&delivery_id),
            deliveries::webhook_id.eq(&row.id),
            deliveries::event_id.eq(&event_id),
            deliveries::action.eq(crate::events::PING),
            deliveries::payload.eq(Some(payload(crate::events::PING, now, &data))),
            deliveries::next_attempt_at.eq(Some(time::to_millis(now))),
            deliveries::created_at.eq(time::to_millis(now)),
        ))
        .execute(tx.conn())?;
    delivery(tx, &delivery_id)
}

/// The user a `webhook.disabled` entry names as its actor: the webhook's creator (the
/// server acts on the settings they made).
pub(crate) fn creator(conn: &mut DbConn, user_id: &str) -> AppResult<Caller> {
    let name: String = users::table.filter(users::id.eq(user_id)).select(users::display_name).first(conn)?;
    Ok(Caller::new(id::from_stored("webhooks.created_by", user_id)?, name))
}
