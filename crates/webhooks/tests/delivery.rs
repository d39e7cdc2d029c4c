//! The outbox and the worker, on the engine the environment chooses: deliveries are
//! written with their entry, arrive signed (checked with the `standardwebhooks` crate, an
//! independent implementation of the spec), are retried until accepted and each accepted
//! once, survive a process that died holding them, and a webhook that keeps failing is
//! switched off.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use activity_log::{ActivityLog, FeedQuery, InProcessPublisher, NewEntry};
use core_models::version::IfMatch;
use core_models::{AppError, Caller};
use diesel::prelude::*;
use projects::{DbProjects, NewProjectTask, NewTeam, ProjectService, ProjectTaskChanges};
use storage::schema::webhook_deliveries;
use storage::TestDb;
use tokio::sync::Notify;
use uuid::Uuid;
use webhooks::testing::{Received, Receiver};
use webhooks::{DbWebhooks, NewWebhook, WebhookService, Worker, WorkerConfig, WorkerHandle};

const WAIT: Duration = Duration::from_secs(10);

struct World {
    db: TestDb,
    log: ActivityLog,
    wake: Arc<Notify>,
    projects: DbProjects,
    hooks: DbWebhooks,
    ada: Caller,
    team: Uuid,
    project: Uuid,
}

fn world() -> World {
    let db = storage::test_pool();
    let ada = storage::testing::users(&db, &["Ada".into()]).remove(0);
    let wake = Arc::new(Notify::new());
    let log = ActivityLog::new(Arc::new(InProcessPublisher::default()))
        .with_hook(Arc::new(webhooks::OutboxHook::new(wake.clone())));
    let projects = DbProjects::new(db.database(), log.clone());
    let team = projects.create_team(&ada, NewTeam { name: "Ops".into(), description: None }).unwrap().id;
    let project = projects.create_project(&ada, team, NewTeam { name: "Launch".into(), description: None }).unwrap().id;
    let hooks = DbWebhooks::new(db.database(), log.clone(), true, wake.clone());
    World { db, log, wake, projects, hooks, ada, team, project }
}

fn fast() -> WorkerConfig {
    WorkerConfig { allow_private: true, retry_base: Duration::from_millis(20), ..WorkerConfig::default() }
}

impl World {
    fn register(&self, url: &str, events: &[&str]) -> webhooks::CreatedWebhook {
        let new =
            NewWebhook { url: url.into(), events: events.iter().map(|e| e.to_string()).collect(), description: None };
        self.hooks.create(&self.ada, self.team, new).unwrap()
    }

    fn worker(&self, config: WorkerConfig) -> WorkerHandle {
        Worker::new(self.db.database(), self.log.clone(), config, self.wake.clone()).start().unwrap()
    }

    fn task(&self, title: &str) -> Uuid {
        let new = NewProjectTask { title: title.into(), ..NewProjectTask::default() };
        self.projects.create_task(&self.ada, self.project, new).unwrap().id
    }

    fn finish(&self, task: Uuid) {
        let changes = ProjectTaskChanges { status: Some(Some("done".into())), ..ProjectTaskChanges::default() };
        self.projects.update_task(&self.ada, self.project, task, changes, IfMatch::Any).unwrap();
    }

    fn deliveries(&self) -> i64 {
        let mut conn = self.db.database().read().unwrap();
        webhook_deliveries::table.count().get_result(&mut *conn).unwrap()
    }

    /// The webhook's deliveries once none is still waiting for its outcome to be written.
    async fn recorded(&self, webhook: Uuid) -> Vec<webhooks::WebhookDelivery> {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let listed = self.hooks.deliveries(&self.ada, webhook, &first_page()).unwrap().items;
            if listed.iter().all(|d| d.delivered_at.is_some()) || std::time::Instant::now() > deadline {
                return listed;
            }
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn entries(&self) -> Vec<activity_log::ActivityEntry> {
        self.projects.team_activity(&self.ada, self.team, &FeedQuery::default()).unwrap().items
    }
}

/// Verifies `received` with `secret` the way a receiver using the reference library would.
fn verified(received: &Received, secret: &str) -> bool {
    let mut headers = http::HeaderMap::new();
    headers.insert("webhook-id", received.id.parse().unwrap());
    headers.insert("webhook-timestamp", received.timestamp.parse().unwrap());
    headers.insert("webhook-signature", received.signature.parse().unwrap());
    standardwebhooks::Webhook::new(secret).unwrap().verify(received.body.as_bytes(), &headers).is_ok()
}

#[actix_rt::test]
async fn a_matching_entry_arrives_signed_with_the_entry_as_its_body() {
    let w = world();
    let receiver = Receiver::start();
    let created = w.register(&receiver.url, &["task.status_changed"]);
    let _worker = w.worker(fast());
    let task = w.task("Ship it");
    w.finish(task);

    let got = receiver.wait_for_delivered(1, WAIT).await;
    assert_eq!(got.len(), 1, "task.created and webhook.created do not match: {got:#?}");
    let delivery = &got[0];
    assert!(verified(delivery, &created.secret), "the signature verifies: {delivery:?}");
    assert!(!verified(delivery, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "and only with the webhook's secret");
    let body = delivery.json();
    let entry = w.entries().into_iter().find(|e| e.action == "task.status_changed").unwrap();
    assert_eq!(body["type"], "task.status_changed");
    assert_eq!(body["timestamp"], serde_json::to_value(&entry).unwrap()["created_at"]);
    assert_eq!(body["data"], serde_json::to_value(&entry).unwrap(), "the data is the activity entry");
    assert_eq!(body["data"]["details"]["status"]["to"], "done");

    // The receiver sees the request before the worker records its answer: wait for that.
    let listed = w.recorded(created.webhook.id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.to_string(), delivery.id, "webhook-id is the delivery's id");
    assert_eq!(listed[0].event_id, entry.id);
    assert_eq!((listed[0].attempts, listed[0].last_status), (1, Some(200)));
    assert!(listed[0].delivered_at.is_some() && listed[0].next_attempt_at.is_none());
}

fn first_page() -> core_models::pagination::IdPaging {
    core_models::pagination::IdPaging::parse_newest_first("test", &0, Some("200"), None, None).unwrap()
}

#[actix_rt::test]
async fn deliveries_are_written_with_their_entry_or_not_at_all() {
    let w = world();
    w.task("Before any webhook");
    assert_eq!(w.deliveries(), 0, "no webhook, no delivery");
    w.register("http://127.0.0.1:9/hook", &["task.*"]);
    let before = w.deliveries();
    let (log, ada, team) = (w.log.clone(), w.ada.clone(), w.team);
    let failed = w.db.database().write(move |tx| {
        log.append(tx, &ada, NewEntry::new(team, "task.created"))?;
        Err::<(), _>(AppError::Conflict("rolled back".into()))
    });
    assert!(failed.is_err());
    assert_eq!(w.deliveries(), before, "the rolled-back entry left no delivery");
    w.task("After");
    assert_eq!(w.deliveries(), before + 1, "a committed entry has its delivery");
}

#[actix_rt::test]
async fn a_delivery_names_its_entry_and_its_body_is_built_when_sent() {
    let w = world();
    let receiver = Receiver::start();
    let created = w.register(&receiver.url, &["task.created"]);
    let second = w.register(&receiver.url, &["task.*"]);
    w.task("Named, not copied");
    let entry = w.entries().into_iter().find(|e| e.action == "task.created").unwrap();
    // The change's write stored no body: each delivery names the entry.
    let stored: Vec<(Option<String>, Option<i64>)> = {
        let mut conn = w.db.database().read().unwrap();
        webhook_deliveries::table
            .filter(webhook_deliveries::event_id.eq(entry.id.to_string()))
            .select((webhook_deliveries::payload, webhook_deliveries::activity_seq))
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(stored, vec![(None, Some(entry.seq)); 2], "two deliveries, no body stored");

    // A ping has no entry: its body is stored. A delivery written before bodies were
    // built at send time (a stored body, no entry named) is sent with its stored body.
    w.hooks.ping(&w.ada, created.webhook.id).unwrap();
    let legacy = r#"{"type":"task.created","timestamp":"2026-12-01T00:00:00.000Z","data":{"old":true}}"#;
    let hook = created.webhook.id.to_string();
    w.db.database()
        .write(move |tx| {
            Ok(diesel::insert_into(webhook_deliveries::table)
                .values((
                    webhook_deliveries::id.eq(core_models::id::new_id().to_string()),
                    webhook_deliveries::webhook_id.eq(&hook),
                    webhook_deliveries::event_id.eq(core_models::id::new_id().to_string()),
                    webhook_deliveries::action.eq("task.created"),
                    webhook_deliveries::payload.eq(Some(legacy)),
                    webhook_deliveries::next_attempt_at.eq(Some(0_i64)),
                    webhook_deliveries::created_at.eq(0_i64),
                ))
                .execute(tx.conn())?)
        })
        .unwrap();
    let _worker = w.worker(fast());
    let got = receiver.wait_for_delivered(4, WAIT).await;
    let bodies: Vec<serde_json::Value> = got.iter().map(Received::json).collect();
    let of_entry: Vec<&serde_json::Value> = bodies.iter().filter(|b| b["data"]["id"] == entry.id.to_string()).collect();
    assert_eq!(of_entry.len(), 2, "{bodies:#?}");
    for body in of_entry {
        assert_eq!(body["data"], serde_json::to_value(&entry).unwrap(), "the body is the entry as the feed shows it");
    }
    assert!(bodies.iter().any(|b| b["type"] == "webhook.ping"), "{bodies:#?}");
    assert!(got.iter().any(|r| r.body == legacy), "the stored body, byte for byte: {bodies:#?}");
    assert!(got.iter().all(|r| verified(r, &created.secret) || verified(r, &second.secret)), "each signed");
}

#[actix_rt::test]
async fn a_receiver_that_fails_then_recovers_gets_every_delivery_accepted_once() {
    let w = world();
    let receiver = Receiver::start();
    receiver.answer(&[500, 503, 500, 500]);
    w.register(&receiver.url, &["task.*"]);
    let _worker = w.worker(fast());
    for title in ["one", "two", "three"] {
        w.task(title);
    }
    let delivered = receiver.wait_for_delivered(3, WAIT).await;
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    let all = receiver.received();
    assert!(all.iter().any(|r| r.status >= 500), "the failures happened");
    let mut accepted: Vec<&str> = all.iter().filter(|r| r.status == 200).map(|r| r.id.as_str()).collect();
    accepted.sort_unstable();
    let count = accepted.len();
    accepted.dedup();
    assert_eq!((count, accepted.len(), delivered.len()), (3, 3, 3), "each delivery accepted exactly once: {all:#?}");
    // A retried delivery keeps its webhook-id and body.
    let failed = all.iter().find(|r| r.status >= 500).unwrap();
    let retried = all.iter().find(|r| r.status == 200 && r.id == failed.id).unwrap();
    assert_eq!(retried.body, failed.body);
}

#[actix_rt::test]
async fn a_delivery_claimed_by_a_process_that_died_is_sent_after_its_lease() {
    let w = world();
    let receiver = Receiver::start();
    w.register(&receiver.url, &["task.created"]);
    w.task("Claimed, then the process died");
    // A process claims the delivery and dies before recording anything (kill -9).
    let lease = Duration::from_millis(600);
    // Leases are in wall-clock milliseconds: a little slack for the rounding.
    let slack = Duration::from_millis(50);
    // Before the claim: the lease ends no earlier than about `started + lease`.
    let started = std::time::Instant::now();
    let claimed = webhooks::worker::claim(&w.db.database(), &w.log, 10, lease).unwrap();
    assert_eq!(claimed.len(), 1);
    let _worker = w.worker(WorkerConfig { lease, ..fast() });
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    let (received, looked) = (receiver.received(), started.elapsed());
    // A machine slow enough to reach the lease's end before looking proves nothing here.
    assert!(looked + slack >= lease || received.is_empty(), "held by the dead process's lease");
    let got = receiver.wait_for_delivered(1, WAIT).await;
    assert!(started.elapsed() + slack >= lease);
    assert_eq!(got[0].id, claimed[0].id, "the same delivery, with the same webhook-id");
}

#[actix_rt::test]
async fn claims_at_once_never_take_the_same_delivery() {
    let w = world();
    w.register("http://127.0.0.1:9/hook", &["task.*"]);
    for i in 0..12 {
        w.task(&format!("task {i}"));
    }
    let db = w.db.database();
    let claimers: Vec<_> = (0..3)
        .map(|_| {
            let (db, log) = (db.clone(), w.log.clone());
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for _ in 0..6 {
                    mine.extend(
                        webhooks::worker::claim(&db, &log, 2, Duration::from_secs(60))
                            .unwrap()
                            .into_iter()
                            .map(|j| j.id),
                    );
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<String> = claimers.into_iter().flat_map(|c| c.join().unwrap()).collect();
    let claimed = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(claimed, all.len(), "no delivery claimed twice");
    assert_eq!(all.len(), 12, "every due delivery claimed");
}

#[actix_rt::test]
async fn a_rotated_secret_signs_beside_the_new_one() {
    let w = world();
    let receiver = Receiver::start();
    let created = w.register(&receiver.url, &["task.created"]);
    let rotated = w.hooks.rotate_secret(&w.ada, created.webhook.id).unwrap();
    assert_ne!(rotated.secret, created.secret);
    let _worker = w.worker(fast());
    w.task("Signed twice");
    let got = receiver.wait_for_delivered(1, WAIT).await;
    let signatures: Vec<&str> = got[0].signature.split(' ').collect();
    assert_eq!(signatures.len(), 2, "{:?}", got[0].signature);
    assert!(signatures.iter().all(|s| s.starts_with("v1,")));
    assert!(verified(&got[0], &rotated.secret), "the new secret verifies");
    assert!(verified(&got[0], &created.secret), "and so does the old one, for 24 hours");
    let shown = w.hooks.get(&w.ada, created.webhook.id).unwrap();
    assert!(shown.previous_secret_expires_at.is_some());
    let rotations = w.entries().into_iter().filter(|e| e.action == "webhook.secret_rotated").count();
    assert_eq!(rotations, 1);
    assert!(!serde_json::to_string(&w.entries()).unwrap().contains(&rotated.secret[6..]), "no secret in the log");
}

#[actix_rt::test]
async fn twenty_failed_deliveries_in_a_row_switch_the_webhook_off() {
    let w = world();
    let receiver = Receiver::start();
    receiver.always(500);
    let created = w.register(&receiver.url, &["task.created"]);
    let _worker = w.worker(WorkerConfig { max_attempts: 1, ..fast() });
    for i in 0..20 {
        w.task(&format!("failing {i}"));
    }
    let start = std::time::Instant::now();
    while w.hooks.get(&w.ada, created.webhook.id).unwrap().active {
        assert!(start.elapsed() < WAIT, "the webhook stays active after {} requests", receiver.received().len());
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.received().len(), 20);
    let disabled = w.entries().into_iter().find(|e| e.action == "webhook.disabled").expect("an entry says so");
    assert_eq!(disabled.details["webhook_id"], created.webhook.id.to_string());
    let before = w.deliveries();
    w.task("after");
    assert_eq!(w.deliveries(), before, "an inactive webhook gets no deliveries");
}

#[actix_rt::test]
async fn forbidden_addresses_are_refused_at_delivery_time_too() {
    // Registered while private receivers were allowed (or a name that resolved to a public
    // address then, and to loopback now: DNS rebinding); the worker refuses to connect.
    let w = world();
    let receiver = Receiver::start();
    let by_ip = w.register(&receiver.url, &["task.created"]);
    let by_name = w.register(&receiver.url.replace("127.0.0.1", "localhost"), &["task.created"]);
    let _worker = w.worker(WorkerConfig { allow_private: false, max_attempts: 1, ..fast() });
    w.task("Must not leave the server");
    let start = std::time::Instant::now();
    for hook in [&by_ip, &by_name] {
        loop {
            let listed = w.hooks.deliveries(&w.ada, hook.webhook.id, &first_page()).unwrap().items;
            if let Some(error) = listed.first().and_then(|d| d.last_error.clone()) {
                assert!(error.contains("refused") && error.contains("loopback"), "{error}");
                assert_eq!((listed[0].attempts, listed[0].last_status, listed[0].delivered_at), (1, None, None));
                break;
            }
            assert!(start.elapsed() < WAIT, "no attempt was recorded");
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(receiver.received().is_empty(), "nothing reached the loopback receiver");
}
