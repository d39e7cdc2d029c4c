//! A database that goes away (API section 8, issue 17 point 3): while PostgreSQL is down
//! requests get 503 with `Retry-After`, never another 5xx, `/readyz` answers 503, open event
//! streams end cleanly, and the gateway serves again by itself once the database is back.
//! The test runs its own throwaway cluster (`scripts/postgres.sh`), never the shared one;
//! skipped on a SQLite run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use serde_json::json;

use crate::gateway_pair::{call, member, post, EventStream};
use crate::helpers::{ok, ProcessApp};

/// A PostgreSQL cluster of this test alone, removed when dropped.
struct Cluster {
    dir: String,
    url: String,
}

/// Runs `scripts/postgres.sh` with `args`, which must succeed; the last line it printed.
pub(crate) fn script(args: &[&str]) -> String {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh"))
        .args(args)
        .output()
        .expect("scripts/postgres.sh runs");
    assert!(out.status.success(), "postgres.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string()
}

impl Cluster {
    fn start() -> Cluster {
        let dir = format!("/tmp/cb-outage-{}", uuid::Uuid::now_v7().simple());
        let url = script(&["start", &dir]);
        assert!(url.starts_with("postgres://"), "{url}");
        Cluster { dir, url }
    }
    fn halt(&self) {
        script(&["halt", &self.dir]);
    }
    fn resume(&self) {
        assert_eq!(script(&["start", &self.dir]), self.url, "back on the same port");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh"))
            .args(["stop", &self.dir])
            .output();
    }
}

/// What the load saw: (status, whether a 503 carried `Retry-After`, when).
type Seen = Arc<Mutex<Vec<(u16, bool, Instant)>>>;

#[actix_rt::test]
async fn while_the_database_is_down_requests_get_503_and_the_gateway_recovers_by_itself() {
    if storage::testing::postgres_server().is_none() {
        eprintln!(
            "skipped: the outage test restarts a PostgreSQL cluster of its own (CORKBOARD_TEST_BACKEND=postgres)"
        );
        return;
    }
    let cluster = Cluster::start();
    let gateway = ProcessApp::start(&cluster.url);
    let base = gateway.base.clone();
    let ada = member(&base, "Ada").await;
    let team = ok(&post(&base, Some(&ada), "/api/v1/teams", &json!({"name": "Squad"})).await, 201);
    let team = team["id"].as_str().unwrap().to_string();
    let project =
        ok(&post(&base, Some(&ada), &format!("/api/v1/teams/{team}/projects"), &json!({"name": "P"})).await, 201);
    let tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());
    let events = format!("/api/v1/teams/{team}/events");
    let mut stream = EventStream::open(&base, &ada, &events, None).await;
    ok(&post(&base, Some(&ada), &tasks, &json!({"title": "before"})).await, 201);
    let before = stream.take(1, Duration::from_secs(10)).await;
    assert_eq!(before.len(), 1, "the stream works before the outage");

    // A small load: writes (four lanes), reads (two) and readiness checks (one), each lane
    // one request after the other, so that requests are under way when the server stops.
    let (seen, stop): (Seen, Arc<AtomicBool>) = (Arc::default(), Arc::default());
    let lanes: Vec<_> = (0..7)
        .map(|lane| {
            let (seen, stop, base, ada, tasks) = (seen.clone(), stop.clone(), base.clone(), ada.clone(), tasks.clone());
            actix_rt::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let res = match lane {
                        0..=3 => post(&base, Some(&ada), &tasks, &json!({"title": format!("load {lane} {i}")})).await,
                        4 | 5 => call(&base, Some(&ada), Method::GET, &format!("{tasks}?limit=5"), None).await,
                        _ => call(&base, None, Method::GET, "/readyz", None).await,
                    };
                    let retry_after = res.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok());
                    seen.lock().unwrap().push((res.status, retry_after, Instant::now()));
                    i += 1;
                    if lane == 6 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.halt();
    let halted = Instant::now();
    assert!(stream.ends_within(Duration::from_secs(10)).await, "the open stream ends while the database is down");
    let ready = call(&base, None, Method::GET, "/readyz", None).await;
    ready.problem(503);
    assert!(ready.header("retry-after").is_some(), "a 503 says when to retry");
    assert!(halted.elapsed() < Duration::from_secs(8), "/readyz answered 503 without waiting long");
    tokio::time::sleep(Duration::from_secs(2)).await;

    cluster.resume();
    let resumed = Instant::now();
    // Recovers by itself: a write succeeds again within a bound, the gateway untouched.
    loop {
        let res = post(&base, Some(&ada), &tasks, &json!({"title": "after"})).await;
        if res.status == 201 {
            break;
        }
        assert_eq!(res.status, 503, "{}", String::from_utf8_lossy(&res.body));
        assert!(resumed.elapsed() < Duration::from_secs(30), "the gateway serves again after the restart");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered_after = resumed.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for lane in lanes {
        lane.await.unwrap();
    }

    let seen: Vec<_> = seen.lock().unwrap().clone();
    let other_5xx: Vec<u16> = seen.iter().map(|s| s.0).filter(|s| *s >= 500 && *s != 503).collect();
    assert!(other_5xx.is_empty(), "5xx other than 503 while the database was away: {other_5xx:?}");
    let unavailable: Vec<_> = seen.iter().filter(|s| s.0 == 503).collect();
    assert!(!unavailable.is_empty(), "the load met the outage");
    assert!(unavailable.iter().all(|s| s.1), "every 503 carries Retry-After");
    assert!(seen.iter().all(|s| matches!(s.0, 200 | 201 | 503)), "{:?}", seen.iter().map(|s| s.0).collect::<Vec<_>>());
    assert!(seen.iter().any(|s| s.0 < 300 && s.2 > resumed), "requests succeed after the restart");
    eprintln!(
        "outage: {} requests, {} of them 503; a write succeeded {recovered_after:?} after the restart",
        seen.len(),
        unavailable.len()
    );

    // The client resumes its stream where it was: what was written meanwhile is replayed.
    let mut resumed_stream = EventStream::open(&base, &ada, &events, Some(&before[0].0)).await;
    let replayed = resumed_stream.take(1, Duration::from_secs(10)).await;
    assert_eq!(replayed.len(), 1, "the resumed stream replays what was missed");
}
