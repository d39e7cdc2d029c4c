//! Events across processes: two [`TablePublisher`]s on one database stand for two gateways.
//! Whatever is written through either reaches the subscribers of both, in `team_seq` order,
//! none missing and none twice: by `NOTIFY` (PostgreSQL) and by polling (both engines), also
//! while the listener's connection is being killed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use activity_log::{ActivityLog, NewEntry, Subscription, TablePublisher, Wakeup};
use common::user;
use core_models::Caller;
use diesel::RunQueryDsl;
use futures_util::StreamExt as _;
use storage::{Database, Engine};
use uuid::Uuid;

/// Two "gateways" on `db`: two logs, each over a publisher of its own.
fn gateways(db: &Database, wakeup: Wakeup) -> [ActivityLog; 2] {
    [0, 1].map(|_| ActivityLog::new(Arc::new(TablePublisher::start(db.clone(), wakeup, 4096).unwrap())))
}

/// The ways to wake up the engine of the test run offers.
fn wakeups(db: &Database) -> Vec<Wakeup> {
    let mut all = vec![Wakeup::Poll(Duration::from_millis(20))];
    if db.engine() == Engine::Postgres {
        all.push(Wakeup::Notify);
    }
    all
}

/// Writes `n` entries of `team` through `log`, one write each, on a thread of its own.
fn writer(db: &Database, log: &ActivityLog, actor: &Caller, team: Uuid, n: usize) -> std::thread::JoinHandle<()> {
    let (db, log, actor) = (db.clone(), log.clone(), actor.clone());
    std::thread::spawn(move || {
        for _ in 0..n {
            let (log, actor) = (log.clone(), actor.clone());
            db.write(move |tx| log.append(tx, &actor, NewEntry::new(team, "task.updated"))).unwrap();
        }
    })
}

/// The `team_seq`s of the first `n` events of `live`, failing after a while.
async fn numbers(live: Subscription, n: usize) -> Vec<i64> {
    let events = tokio::time::timeout(Duration::from_secs(60), live.take(n).collect::<Vec<_>>())
        .await
        .expect("every event arrives in time");
    events.into_iter().map(|event| event.expect("never dropped").team_seq).collect()
}

#[actix_rt::test]
async fn writes_through_either_gateway_reach_the_subscribers_of_both_in_order_once() {
    let db = storage::test_pool();
    let ada = user(&db, "Ada");
    for wakeup in wakeups(&db) {
        let [a, b] = gateways(&db, wakeup);
        let (team, other) = (Uuid::now_v7(), Uuid::now_v7());
        let subscribers = [a.subscribe(team), a.subscribe(team), b.subscribe(team), b.subscribe(team)];
        let elsewhere = b.subscribe(other);
        let per_writer = 40;
        let writers = [
            writer(&db, &a, &ada, team, per_writer),
            writer(&db, &a, &ada, team, per_writer),
            writer(&db, &b, &ada, team, per_writer),
            writer(&db, &b, &ada, team, per_writer),
            writer(&db, &a, &ada, other, 5),
        ];
        let total = per_writer * 4;
        let expected: Vec<i64> = (1..=total as i64).collect();
        let received = futures_util::future::join_all(subscribers.map(|live| numbers(live, total))).await;
        for (i, got) in received.iter().enumerate() {
            assert_eq!(got, &expected, "{wakeup:?}: subscriber {i} got every entry once, in order");
        }
        assert_eq!(numbers(elsewhere, 5).await, [1, 2, 3, 4, 5], "{wakeup:?}: the other team's own entries");
        for w in writers {
            w.join().unwrap();
        }
    }
}

#[actix_rt::test]
async fn a_subscriber_of_a_quiet_team_gets_what_another_gateway_writes_next() {
    let db = storage::test_pool();
    let ada = user(&db, "Ada");
    for wakeup in wakeups(&db) {
        let [a, b] = gateways(&db, wakeup);
        let team = Uuid::now_v7();
        // History from before anyone here watched: not sent again.
        writer(&db, &b, &ada, team, 3).join().unwrap();
        let live = a.subscribe(team);
        writer(&db, &b, &ada, team, 2).join().unwrap();
        assert_eq!(numbers(live, 2).await, [4, 5], "{wakeup:?}");
    }
}

/// `count(<what>)` over the listener connections of this test's database (both
/// gateways'): `*` counts them, `pg_terminate_backend(pid)` ends them.
fn over_listeners(db: &Database, what: &str) -> usize {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query(format!(
        "SELECT count({what}) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = '{}'",
        activity_log::relay::LISTENER_NAME
    ))
    .get_result(&mut *db.read().unwrap())
    .unwrap();
    usize::try_from(count.n).unwrap()
}

fn kill_listeners(db: &Database) -> usize {
    over_listeners(db, "pg_terminate_backend(pid)")
}

/// A fresh database on PostgreSQL; `None` (with a message) on a SQLite run.
fn postgres_db() -> Option<storage::TestDb> {
    let db = storage::test_pool();
    if db.engine() == Engine::Postgres {
        return Some(db);
    }
    eprintln!("skipped: LISTEN/NOTIFY needs PostgreSQL");
    None
}

/// Waits until both gateways listen.
async fn both_listen(db: &Database) {
    let started = std::time::Instant::now();
    while over_listeners(db, "*") < 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "the listeners connect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[actix_rt::test]
async fn entries_written_while_the_listener_is_away_arrive_after_it_reconnects() {
    let Some(db) = postgres_db() else { return };
    let ada = user(&db, "Ada");
    let [a, b] = gateways(&db, Wakeup::Notify);
    let team = Uuid::now_v7();
    let (on_a, on_b) = (a.subscribe(team), b.subscribe(team));
    // Both listen, so the first kill has something to kill.
    both_listen(&db).await;
    let (rounds, per_round) = (8, 10);
    let mut killed = 0;
    for round in 0..rounds {
        // Killed, then written at once: some of these writes' notifications go to no
        // listener; order and completeness must hold all the same (that the re-read after a
        // reconnect alone delivers is the next test).
        killed += kill_listeners(&db);
        let log = if round % 2 == 0 { &a } else { &b };
        writer(&db, log, &ada, team, per_round).join().unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(killed >= rounds, "the listeners were killed ({killed} times)");
    let expected: Vec<i64> = (1..=(rounds * per_round) as i64).collect();
    assert_eq!(numbers(on_a, expected.len()).await, expected);
    assert_eq!(numbers(on_b, expected.len()).await, expected);
}

#[actix_rt::test]
async fn a_reconnected_listener_reads_what_no_wake_up_announced() {
    let Some(db) = postgres_db() else { return };
    let ada = user(&db, "Ada");
    let [a, _b] = gateways(&db, Wakeup::Notify);
    // Writes that send no NOTIFY: like those made while the listener was away, whose
    // wake-ups nobody got.
    let silent = ActivityLog::new(Arc::new(
        TablePublisher::start(db.clone(), Wakeup::Poll(Duration::from_secs(60)), 16).unwrap(),
    ));
    let team = Uuid::now_v7();
    let mut live = a.subscribe(team);
    both_listen(&db).await;
    writer(&db, &silent, &ada, team, 3).join().unwrap();
    let early = tokio::time::timeout(Duration::from_millis(300), live.next()).await;
    assert!(early.is_err(), "without a wake-up nothing arrives: {early:?}");
    assert_eq!(kill_listeners(&db), 2);
    // Only the reconnect's read of the table can deliver these.
    assert_eq!(numbers(live, 3).await, [1, 2, 3]);
}
