//! The rules that can race (API section 8: a team keeps one admin, rating needs a
//! completion, `If-Match`; and idempotent `PUT`s, the learning and the task counters) hold when
//! the two racing requests go to two gateway processes of one PostgreSQL database. Each
//! round sends both requests at once, one to each gateway; the rounds repeat so that the
//! two transactions overlap in most of them. (The deterministic interleavings of the same
//! rules, in one process, are the crates' `concurrency` tests.) On a SQLite run each test
//! says it was skipped and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::gateway_pair::{call, member, post, Gateways, Member};
use crate::helpers::{ok, send, Response};

const ROUNDS: usize = 8;

/// `PATCH path` with `body` as `who`, conditional on `etag` when given.
async fn patch(base: &str, who: &Member, path: &str, body: &Value, etag: Option<&str>) -> Response {
    let mut headers = vec![("authorization", who.bearer.as_str())];
    if let Some(etag) = etag {
        headers.push(("if-match", etag));
    }
    send(base, Method::PATCH, path, &headers, Some(("application/json", body.to_string().into_bytes()))).await
}

#[actix_rt::test]
async fn two_admins_demoting_themselves_on_two_gateways_leave_the_team_one_admin() {
    let Some(gateways) = Gateways::start(2, &[]) else { return };
    let (a, b) = (gateways.base(0), gateways.base(1));
    let ada = member(a, "Ada").await;
    let bob = member(b, "Bob").await;
    for round in 0..ROUNDS {
        let team = ok(&post(a, Some(&ada), "/api/v1/teams", &json!({"name": format!("Round {round}")})).await, 201);
        let team = team["id"].as_str().unwrap().to_string();
        let members = format!("/api/v1/teams/{team}/members");
        ok(&post(a, Some(&ada), &members, &json!({"user_id": bob.id, "role": "admin"})).await, 201);

        let demote = json!({"role": "member"});
        let (ada_path, bob_path) = (format!("{members}/{}", ada.id), format!("{members}/{}", bob.id));
        let (by_ada, by_bob) =
            tokio::join!(patch(a, &ada, &ada_path, &demote, None), patch(b, &bob, &bob_path, &demote, None));
        let mut statuses = [by_ada.status, by_bob.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}: one demotion wins, the other is the last admin's 409");

        // Whoever is still admin reads the team: exactly one admin.
        let admin = if by_ada.status == 409 { &ada } else { &bob };
        let listed = ok(&call(b, Some(admin), Method::GET, &members, None).await, 200);
        let admins = listed["items"].as_array().unwrap().iter().filter(|m| m["role"] == "admin").count();
        assert_eq!(admins, 1, "round {round}: {listed}");
    }
}

#[actix_rt::test]
async fn one_if_match_wins_when_two_gateways_change_the_same_task() {
    let Some(gateways) = Gateways::start(2, &[]) else { return };
    let (a, b) = (gateways.base(0), gateways.base(1));
    let ada = member(a, "Ada").await;
    let team = ok(&post(a, Some(&ada), "/api/v1/teams", &json!({"name": "Racers"})).await, 201);
    let projects = format!("/api/v1/teams/{}/projects", team["id"].as_str().unwrap());
    let project = ok(&post(a, Some(&ada), &projects, &json!({"name": "Track"})).await, 201);
    let tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());
    let task = ok(&post(a, Some(&ada), &tasks, &json!({"title": "Lap 0"})).await, 201);
    let path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    for round in 1..=ROUNDS {
        let read = call(b, Some(&ada), Method::GET, &path, None).await;
        let etag = read.header("etag").expect("a task has an ETag");
        let before = ok(&read, 200)["version"].as_i64().unwrap();
        let (by_a, by_b) =
            (json!({"title": format!("Lap {round} by A")}), json!({"title": format!("Lap {round} by B")}));
        let (on_a, on_b) =
            tokio::join!(patch(a, &ada, &path, &by_a, Some(&etag)), patch(b, &ada, &path, &by_b, Some(&etag)));
        let mut statuses = [on_a.status, on_b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: the same If-Match wins once");

        // The task holds the winner's change, one version on.
        let winner = if on_a.status == 200 { on_a.json() } else { on_b.json() };
        let now = ok(&call(a, Some(&ada), Method::GET, &path, None).await, 200);
        assert_eq!((&now["title"], now["version"].as_i64()), (&winner["title"], Some(before + 1)), "round {round}");
    }
}

#[actix_rt::test]
async fn a_rating_never_outlives_a_completion_undone_on_the_other_gateway() {
    let Some(gateways) = Gateways::start(2, &[]) else { return };
    let (a, b) = (gateways.base(0), gateways.base(1));
    let ada = member(a, "Ada").await;
    let bob = member(b, "Bob").await;
    let challenge = json!({"title": "Race", "description": "d", "difficulty": "beginner", "topic": "races"});
    let challenge = ok(&post(a, Some(&ada), "/api/v1/learning/challenges", &challenge).await, 201);
    let base = format!("/api/v1/learning/challenges/{}", challenge["id"].as_str().unwrap());
    let (completion, rating) = (format!("{base}/completion"), format!("{base}/rating"));
    for round in 0..ROUNDS {
        ok(&call(a, Some(&bob), Method::PUT, &completion, Some(&json!({}))).await, 201);
        let stars = json!({"stars": 5});
        let (rated, undone) = tokio::join!(
            call(a, Some(&bob), Method::PUT, &rating, Some(&stars)),
            call(b, Some(&bob), Method::DELETE, &completion, None),
        );
        assert_eq!(undone.status, 204, "round {round}: undoing always succeeds");
        assert!(
            matches!(rated.status, 200 | 201 | 403),
            "round {round}: {} {}",
            rated.status,
            String::from_utf8_lossy(&rated.body)
        );
        // Whichever came first, no rating is left without its completion.
        let now = ok(&call(a, Some(&bob), Method::GET, &base, None).await, 200);
        assert_eq!((&now["rating"]["count"], &now["completion_count"]), (&json!(0), &json!(0)), "round {round}: {now}");
        assert_eq!(call(b, Some(&bob), Method::GET, &rating, None).await.status, 404, "round {round}");
    }
}

#[actix_rt::test]
async fn puts_and_counters_hold_when_two_gateways_write_one_challenge_at_once() {
    let Some(gateways) = Gateways::start(2, &[]) else { return };
    let (a, b) = (gateways.base(0), gateways.base(1));
    let ada = member(a, "Ada").await;
    let (bob, eve) = (member(a, "Bob").await, member(b, "Eve").await);
    let challenge = json!({"title": "Counters", "description": "d", "difficulty": "beginner", "topic": "races"});
    let challenge = ok(&post(a, Some(&ada), "/api/v1/learning/challenges", &challenge).await, 201);
    let base = format!("/api/v1/learning/challenges/{}", challenge["id"].as_str().unwrap());
    let completion = format!("{base}/completion");
    let (rating, empty, stars) = (format!("{base}/rating"), json!({}), json!({"stars": 4}));
    for round in 0..ROUNDS {
        // The same idempotent PUT through both gateways at once: made once (201 + 200).
        let (on_a, on_b) = tokio::join!(
            call(a, Some(&bob), Method::PUT, &completion, Some(&empty)),
            call(b, Some(&bob), Method::PUT, &completion, Some(&empty)),
        );
        let mut statuses = [on_a.status, on_b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 201], "round {round}: one PUT creates, the other finds it");
        // Two learners complete and rate at once, one through each gateway: both counted.
        let (by_eve, _) = tokio::join!(
            call(b, Some(&eve), Method::PUT, &completion, Some(&empty)),
            call(a, Some(&bob), Method::PUT, &rating, Some(&stars)),
        );
        assert_eq!(by_eve.status, 201, "round {round}");
        ok(&call(b, Some(&eve), Method::PUT, &rating, Some(&stars)).await, 201);
        let now = ok(&call(a, Some(&ada), Method::GET, &base, None).await, 200);
        assert_eq!((&now["completion_count"], &now["rating"]["count"]), (&json!(2), &json!(2)), "round {round}: {now}");
        // Undone through the other gateway, ready for the next round.
        for who in [&bob, &eve] {
            assert_eq!(call(b, Some(who), Method::DELETE, &completion, None).await.status, 204);
        }
    }
}

/// A freelancer task on `who`'s board, created through `base`.
async fn new_task(base: &str, who: &Member, title: String) -> Value {
    ok(&post(base, Some(who), "/api/v1/tasks", &json!({ "title": title })).await, 201)
}

#[actix_rt::test]
async fn a_boards_task_counters_count_every_change_made_through_two_gateways_at_once() {
    let Some(gateways) = Gateways::start(2, &[]) else { return };
    let (a, b) = (gateways.base(0), gateways.base(1));
    let ada = member(a, "Ada").await;
    let per_gateway = 6;
    let created = futures_util::future::join_all(
        (0..per_gateway)
            .map(|i| new_task(a, &ada, format!("a{i}")))
            .chain((0..per_gateway).map(|i| new_task(b, &ada, format!("b{i}")))),
    )
    .await;
    // Half of them completed at once, alternately through each gateway.
    let done = json!({"status": "completed"});
    futures_util::future::join_all(created.iter().step_by(2).enumerate().map(|(i, task)| {
        let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
        let (base, ada, done) = (if i % 2 == 0 { a } else { b }, &ada, &done);
        async move { ok(&call(base, Some(ada), Method::PATCH, &path, Some(done)).await, 200) }
    }))
    .await;
    let stats = ok(&call(b, Some(&ada), Method::GET, "/api/v1/tasks/stats", None).await, 200);
    assert_eq!(stats["by_status"], json!({"pending": per_gateway, "in_progress": 0, "completed": per_gateway}));
}
