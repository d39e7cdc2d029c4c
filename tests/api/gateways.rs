//! Events across gateways (API section 8, issue 17): two real gateway processes on one
//! PostgreSQL database; whatever is written through either reaches the event streams of
//! both, in the order of the activity ids, none missing and none twice, also while their
//! listener connections are being killed, and with polling instead of `NOTIFY`. Skipped on
//! a SQLite run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::http::Method;
use serde_json::json;

use crate::gateway_pair::{call, member, post, EventStream, Gateways, Member};
use crate::helpers::ok;

/// A team of `admin` made through gateway `made_on`, with a project made through the other
/// one: (team, project).
async fn team(gw: &Gateways, admin: &Member, made_on: usize) -> (String, String) {
    let team = ok(&post(gw.base(made_on), Some(admin), "/api/v1/teams", &json!({"name": "Squad"})).await, 201);
    let team = team["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/teams/{team}/projects");
    let project = ok(&post(gw.base(1 - made_on), Some(admin), &path, &json!({"name": "Launch"})).await, 201);
    (team, project["id"].as_str().unwrap().to_string())
}

/// Creates `n` tasks in `project` through `base`, one after the other.
async fn create_tasks(base: &str, who: &Member, project: &str, n: usize, tag: &str) {
    let path = format!("/api/v1/projects/{project}/tasks");
    for i in 0..n {
        ok(&post(base, Some(who), &path, &json!({"title": format!("{tag} {i}")})).await, 201);
    }
}

/// The ids of the team's newest `n` entries, oldest first, as the table has them.
async fn newest_ids(gw: &Gateways, who: &Member, team: &str, n: usize) -> Vec<String> {
    let path = format!("/api/v1/teams/{team}/activity?limit=200");
    let page = ok(&call(gw.base(0), Some(who), Method::GET, &path, None).await, 200);
    let mut ids: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().into()).collect();
    assert!(ids.len() >= n && ids.len() < 200, "the test's entries fit in one page");
    ids.truncate(n);
    ids.reverse();
    ids
}

/// Two streams of `team` on each gateway, opened before anything is written.
async fn watchers(gw: &Gateways, who: &Member, team: &str) -> Vec<(usize, EventStream)> {
    let path = format!("/api/v1/teams/{team}/events");
    let mut streams = Vec::new();
    for i in [0, 0, 1, 1] {
        streams.push((i, EventStream::open(gw.base(i), who, &path, None).await));
    }
    streams
}

/// Every stream got exactly `expected` (ids), in that order, and nothing more.
async fn assert_each_got(streams: &mut [(usize, EventStream)], expected: &[String], what: &str) {
    for (n, (gateway, stream)) in streams.iter_mut().enumerate() {
        let got: Vec<String> =
            stream.take(expected.len(), Duration::from_secs(15)).await.into_iter().map(|e| e.0).collect();
        assert_eq!(
            got.len(),
            expected.len(),
            "{what}: stream {n} on gateway {gateway} got {} of {}",
            got.len(),
            expected.len()
        );
        assert_eq!(got, expected, "{what}: stream {n} on gateway {gateway}: every entry once, in order");
        let more = stream.take(1, Duration::from_millis(300)).await;
        assert!(more.is_empty(), "{what}: stream {n} on gateway {gateway} got more: {more:?}");
    }
}

/// The listener connections of the shared database.
const LISTENERS: &str =
    "FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'corkboard-events'";

/// Waits until both gateways listen.
async fn both_listen(gw: &Gateways) {
    let started = std::time::Instant::now();
    while gw.sql_count(&format!("SELECT count(*) AS n {LISTENERS}")) < 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "both gateways listen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn writes_through_either_gateway_reach_every_stream_on_both_in_order_once() {
    let Some(gw) = Gateways::start(2, &[]) else { return };
    // Registered and logged in on one gateway; the token works on both.
    let ada = member(gw.base(0), "Ada").await;
    let (team, project) = team(&gw, &ada, 0).await;
    let mut streams = watchers(&gw, &ada, &team).await;
    // Four writers at once, two through each gateway.
    let per_writer = 20;
    futures_util::future::join_all((0..4).map(|w| {
        let (base, ada, project) = (gw.base(w % 2).to_string(), ada.clone(), project.clone());
        async move { create_tasks(&base, &ada, &project, per_writer, &format!("writer {w}")).await }
    }))
    .await;
    let expected = newest_ids(&gw, &ada, &team, 4 * per_writer).await;
    assert_each_got(&mut streams, &expected, "NOTIFY").await;
}

#[actix_rt::test]
async fn entries_written_while_listeners_are_killed_still_arrive_in_order() {
    let Some(gw) = Gateways::start(2, &[]) else { return };
    let ada = member(gw.base(0), "Ada").await;
    let (team, project) = team(&gw, &ada, 1).await;
    let mut streams = watchers(&gw, &ada, &team).await;
    both_listen(&gw).await;
    let (rounds, per_gateway) = (6usize, 3usize);
    let mut killed = 0;
    for round in 0..rounds {
        // Killed, then written at once through both gateways: some of these writes'
        // wake-ups go to no listener; order and completeness must hold all the same (that
        // the re-read after a reconnect alone delivers is the next test).
        killed += gw.sql_count(&format!("SELECT count(pg_terminate_backend(pid)) AS n {LISTENERS}"));
        futures_util::future::join(
            create_tasks(gw.base(0), &ada, &project, per_gateway, &format!("a{round}")),
            create_tasks(gw.base(1), &ada, &project, per_gateway, &format!("b{round}")),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(killed >= rounds as i64, "listeners were killed {killed} times");
    let expected = newest_ids(&gw, &ada, &team, rounds * 2 * per_gateway).await;
    assert_each_got(&mut streams, &expected, "after pg_terminate_backend").await;
    // And both listen again.
    assert_eq!(gw.sql_count(&format!("SELECT count(*) AS n {LISTENERS}")), 2);
}

#[actix_rt::test]
async fn a_reconnected_listener_delivers_writes_no_wake_up_announced() {
    let Some(gw) = Gateways::start(2, &[]) else { return };
    // A third gateway that polls sends no NOTIFY: its writes are like those made while the
    // other two's listeners were away.
    let silent = crate::helpers::ProcessApp::start_with(gw.db.url(), &["--events", "poll"], None);
    let ada = member(gw.base(0), "Ada").await;
    let (team, project) = team(&gw, &ada, 0).await;
    let mut streams = watchers(&gw, &ada, &team).await;
    both_listen(&gw).await;
    create_tasks(&silent.base, &ada, &project, 3, "unannounced").await;
    for (gateway, stream) in &mut streams {
        let early = stream.take(1, Duration::from_millis(300)).await;
        assert!(early.is_empty(), "gateway {gateway} heard of a write nobody announced: {early:?}");
    }
    assert_eq!(gw.sql_count(&format!("SELECT count(pg_terminate_backend(pid)) AS n {LISTENERS}")), 2);
    // Only the re-read after reconnecting can deliver them.
    let expected = newest_ids(&gw, &ada, &team, 3).await;
    assert_each_got(&mut streams, &expected, "after the listeners reconnected").await;
}

#[actix_rt::test]
async fn polling_gateways_deliver_across_gateways_too() {
    let Some(gw) = Gateways::start(2, &["--events", "poll", "--events-poll-ms", "50"]) else { return };
    let ada = member(gw.base(1), "Ada").await;
    let (team, project) = team(&gw, &ada, 0).await;
    let mut streams = watchers(&gw, &ada, &team).await;
    futures_util::future::join(
        create_tasks(gw.base(0), &ada, &project, 10, "a"),
        create_tasks(gw.base(1), &ada, &project, 10, "b"),
    )
    .await;
    let expected = newest_ids(&gw, &ada, &team, 20).await;
    assert_each_got(&mut streams, &expected, "polling").await;
    assert_eq!(gw.sql_count(&format!("SELECT count(*) AS n {LISTENERS}")), 0, "polling gateways do not listen");
}

#[actix_rt::test]
async fn a_stream_resumes_on_one_gateway_after_an_event_seen_on_the_other() {
    let Some(gw) = Gateways::start(2, &[]) else { return };
    let ada = member(gw.base(0), "Ada").await;
    let (team, project) = team(&gw, &ada, 0).await;
    let path = format!("/api/v1/teams/{team}/events");
    let mut on_a = EventStream::open(gw.base(0), &ada, &path, None).await;
    create_tasks(gw.base(1), &ada, &project, 1, "first").await;
    let first = on_a.take(1, Duration::from_secs(15)).await;
    assert_eq!(first.len(), 1, "gateway A got B's write");
    drop(on_a);
    // Missed while away, through both gateways; then the client reconnects to the other.
    create_tasks(gw.base(0), &ada, &project, 2, "missed a").await;
    create_tasks(gw.base(1), &ada, &project, 2, "missed b").await;
    let mut on_b = EventStream::open(gw.base(1), &ada, &path, Some(&first[0].0)).await;
    create_tasks(gw.base(0), &ada, &project, 2, "live").await;
    let expected = newest_ids(&gw, &ada, &team, 6).await;
    let got: Vec<String> = on_b.take(6, Duration::from_secs(15)).await.into_iter().map(|e| e.0).collect();
    assert_eq!(got, expected, "replay, then live, without gaps or repeats");
}
