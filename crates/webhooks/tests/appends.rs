//! What a write holds while it holds its team's activity counter row: on PostgreSQL the
//! team's other writes wait for that row until this one commits, so only the entry's
//! insert (with its `NOTIFY`), the deliveries it makes and `COMMIT` come after the
//! counter's update; the hooks' reads of the team's webhooks come before it. Statements
//! are recorded through Diesel's instrumentation (`storage::testing::statements_of`); a
//! PostgreSQL write runs on the caller's thread, a SQLite one on the writer thread (not
//! seen: SQLite has one writer, and nothing waits on a row).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use activity_log::{ActivityLog, TablePublisher, Wakeup};
use core_models::version::IfMatch;
use projects::{DbProjects, NewProjectTask, NewTeam, ProjectService, ProjectTaskChanges};
use storage::testing::{record_statements, statements_of};
use tokio::sync::Notify;
use webhooks::{DbWebhooks, NewWebhook, WebhookService};

/// The statements from the counter's update on, each named by the table it inserts into
/// (and `+pg_notify` when it also notifies), or by its first word.
fn after_the_counter(sent: &[String]) -> Vec<String> {
    let at = sent.iter().position(|q| q.contains("activity_counters")).expect("the counter's update");
    sent[at + 1..]
        .iter()
        .map(|q| {
            let q = q.replace('"', "");
            let name = match q.find("INSERT INTO ") {
                Some(i) => q[i..].split_whitespace().take(3).collect::<Vec<_>>().join(" "),
                None => q.split_whitespace().next().unwrap_or("").to_string(),
            };
            if q.contains("pg_notify") {
                format!("{name} +pg_notify")
            } else {
                name
            }
        })
        .collect()
}

#[test]
fn only_the_entry_its_deliveries_and_commit_wait_on_the_teams_counter() {
    record_statements();
    let db = storage::test_pool();
    if storage::testing::postgres_server().is_none() {
        eprintln!("skipped: a PostgreSQL run (SQLite's writes run on its writer thread)");
        return;
    }
    let ada = storage::testing::users(&db, &["Ada".into()]).remove(0);
    let wake = Arc::new(Notify::new());
    let publisher = TablePublisher::start(db.database(), Wakeup::Notify, 64).unwrap();
    let log = ActivityLog::new(Arc::new(publisher)).with_hook(Arc::new(webhooks::OutboxHook::new(wake.clone())));
    let projects = DbProjects::new(db.database(), log.clone());
    let team = projects.create_team(&ada, NewTeam { name: "Ops".into(), description: None }).unwrap().id;
    let project = projects.create_project(&ada, team, NewTeam { name: "Launch".into(), description: None }).unwrap().id;
    let task = projects.create_task(&ada, project, NewProjectTask { title: "t".into(), ..Default::default() }).unwrap();
    let change = |title: &str| {
        let changes = ProjectTaskChanges { title: Some(Some(title.into())), ..Default::default() };
        statements_of(None, || projects.update_task(&ada, project, task.id, changes, IfMatch::Any).unwrap()).1
    };

    let sent = change("no webhooks");
    let webhooks_read = sent.iter().position(|q| q.contains("FROM webhooks") || q.contains("FROM \"webhooks\""));
    let counter = sent.iter().position(|q| q.contains("activity_counters"));
    assert!(webhooks_read < counter && webhooks_read.is_some(), "the webhooks are read first: {sent:#?}");
    assert_eq!(after_the_counter(&sent), ["INSERT INTO activity +pg_notify", "COMMIT"], "{sent:#?}");
    // The whole change: BEGIN; the task read with every access check; the team's claim;
    // the UPDATE; the webhooks; the counter; the entry; COMMIT.
    assert_eq!(sent.len(), 8, "{sent:#?}");
    assert!(sent[2].contains("advisory"), "the claim comes before the task's UPDATE: {sent:#?}");
    // The same title again changes nothing: the read, and no claim of the team.
    let sent = change("no webhooks");
    let kinds: Vec<String> = sent.iter().map(|q| q.split_whitespace().next().unwrap_or("").to_uppercase()).collect();
    assert_eq!(kinds, ["BEGIN", "SELECT", "COMMIT"], "{sent:#?}");

    let hooks = DbWebhooks::new(db.database(), log, true, wake);
    let new = NewWebhook { url: "http://127.0.0.1:9/".into(), events: vec!["task.*".into()], description: None };
    hooks.create(&ada, team, new).unwrap();
    let sent = change("one webhook");
    assert_eq!(
        after_the_counter(&sent),
        ["INSERT INTO activity +pg_notify", "INSERT INTO webhook_deliveries", "COMMIT"],
        "{sent:#?}"
    );
}
