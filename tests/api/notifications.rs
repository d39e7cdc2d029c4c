//! Mentions and notifications over HTTP (API section 7): comments carry their mentions,
//! `GET /me/notifications` with `unread` and `count`, `POST /me/notifications/read`, and
//! `GET /me/events` with `Last-Event-ID` replay and tickets; and across two gateways on
//! one PostgreSQL database, a notification written through one reaches a `/me` stream on
//! the other.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::gateway_pair::{call as gw_call, member, post as gw_post, EventStream, Gateways, Member};
use crate::helpers::{ok, spawn_app, spawn_app_configured, user, Response, TestApp, User};

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> Response {
    app.as_user(Some(&who.bearer), method, path, &[], body.as_ref()).await
}

fn as_member(u: &User) -> Member {
    Member { id: u.id.clone(), bearer: u.bearer.clone() }
}

#[actix_rt::test]
async fn notifications_are_listed_marked_read_and_streamed_with_replay() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "AdaNote").await, user(&app, "BobNote").await);
    let team = ok(&call(&app, &ada, Method::POST, "/api/v1/teams", Some(json!({"name": "Squad"}))).await, 201);
    let team = team["id"].as_str().unwrap();
    let members = format!("/api/v1/teams/{team}/members");
    ok(&call(&app, &ada, Method::POST, &members, Some(json!({"user_id": bob.id}))).await, 201);
    let projects = format!("/api/v1/teams/{team}/projects");
    let project = ok(&call(&app, &ada, Method::POST, &projects, Some(json!({"name": "Launch"}))).await, 201);
    let tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());
    let body = json!({"title": "Ship", "assignee_id": bob.id});
    let task = ok(&call(&app, &ada, Method::POST, &tasks, Some(body)).await, 201);
    let task_path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    let text = format!("<@{}> please", bob.id.to_uppercase());
    let comment = call(&app, &ada, Method::POST, &format!("{task_path}/comments"), Some(json!({"body": text}))).await;
    let comment = ok(&comment, 201);
    assert_eq!(comment["mentions"], json!([{"id": bob.id, "display_name": "BobNote"}]));

    // The list: newest first, the badge number, the whole activity entry.
    let page = ok(&call(&app, &bob, Method::GET, "/api/v1/me/notifications?unread=true&count=true", None).await, 200);
    assert_eq!(page["total"], 2);
    let items = page["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["mentioned", "assigned"]);
    let mut keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["activity", "created_at", "id", "kind", "read_at"]);
    assert_eq!(items[0]["activity"]["action"], "comment.created");
    assert_eq!(items[0]["activity"]["details"]["new_mentions"], json!([bob.id]));
    assert_eq!(items[0]["read_at"], Value::Null);
    let (mentioned, assigned) = (items[0]["id"].as_str().unwrap(), items[1]["id"].as_str().unwrap());
    assert!(ok(&call(&app, &ada, Method::GET, "/api/v1/me/notifications", None).await, 200)["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // Marking read: by id (idempotent), bad shapes named, then all.
    let read = "/api/v1/me/notifications/read";
    for _ in 0..2 {
        assert_eq!(call(&app, &bob, Method::POST, read, Some(json!({"ids": [assigned]}))).await.status, 204);
    }
    assert_eq!(call(&app, &bob, Method::POST, read, Some(json!({}))).await.error_fields(), ["ids"]);
    let bad = call(&app, &bob, Method::POST, read, Some(json!({"ids": ["x"], "all": false}))).await;
    assert_eq!(bad.status, 422);
    let page = ok(&call(&app, &bob, Method::GET, "/api/v1/me/notifications?unread=true&count=true", None).await, 200);
    assert_eq!(page["total"], 1);
    assert_eq!(call(&app, &bob, Method::POST, read, Some(json!({"all": true}))).await.status, 204);
    let page = ok(&call(&app, &bob, Method::GET, "/api/v1/me/notifications?count=true", None).await, 200);
    assert_eq!(page["total"], 2);
    assert!(page["items"].as_array().unwrap().iter().all(|n| n["read_at"].is_string()));
    assert_eq!(call(&app, &bob, Method::GET, "/api/v1/me/notifications?unread=maybe", None).await.status, 422);

    // The stream: resuming after the first notification replays the second, then live.
    let mut stream = EventStream::open(&app.base, &as_member(&bob), "/api/v1/me/events", Some(assigned)).await;
    let replayed = stream.take(1, Duration::from_secs(10)).await;
    assert_eq!((replayed[0].0.as_str(), replayed[0].1.as_str()), (mentioned, "notification"));
    assert_eq!(replayed[0].2["kind"], "mentioned");
    ok(&call(&app, &ada, Method::PATCH, &task_path, Some(json!({"status": "done"}))).await, 200);
    let live = stream.take(1, Duration::from_secs(10)).await;
    assert_eq!(live[0].2["kind"], "status_changed");
    assert!(live[0].0.as_str() > mentioned, "ids increase");
    assert!(stream.take(1, Duration::from_millis(300)).await.is_empty(), "nothing twice");

    // A Last-Event-ID that is no notification id of the caller's: 422; no login: 401.
    let res =
        app.as_user(Some(&bob.bearer), Method::GET, "/api/v1/me/events", &[("last-event-id", "nope")], None).await;
    assert_eq!(res.status, 422);
    assert_eq!(app.get("/api/v1/me/events").await.status, 401);

    // A browser's ticket: HEAD checks it without using it up, the GET opens the stream.
    let ticket = ok(&call(&app, &bob, Method::POST, "/api/v1/auth/stream-tickets", None).await, 200);
    let url = format!("/api/v1/me/events?ticket={}", ticket["ticket"].as_str().unwrap());
    let sse = [("accept", "text/event-stream")];
    let head = tokio::time::timeout(Duration::from_secs(5), app.request(Method::HEAD, &url, &sse, None)).await;
    assert_eq!(head.expect("HEAD ends").status, 200);
    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let res = client.get(format!("{}{url}", app.base)).insert_header(sse[0]).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// `/me/events` counts towards the caller's stream limit with their team streams, and ends
/// when the token it was opened with is revoked.
#[actix_rt::test]
async fn the_me_stream_shares_the_user_s_quota_and_ends_at_logout() {
    let app = spawn_app_configured(|s| s.max_streams_per_user = 1).await;
    let ada = user(&app, "AdaQuota").await;
    let team = ok(&call(&app, &ada, Method::POST, "/api/v1/teams", Some(json!({"name": "Squad"}))).await, 201);
    let mut stream = EventStream::open(&app.base, &as_member(&ada), "/api/v1/me/events", None).await;
    let team_events = format!("/api/v1/teams/{}/events", team["id"].as_str().unwrap());
    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let refused = client
        .get(format!("{}{team_events}", app.base))
        .insert_header(("authorization", ada.bearer.as_str()))
        .insert_header(("accept", "text/event-stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429, "one quota for team and /me streams");
    ok(&call(&app, &ada, Method::POST, "/api/v1/auth/logout", None).await, 204);
    assert!(stream.ends_within(Duration::from_secs(5)).await, "a revoked token ends the stream");
}

/// Two gateways on one PostgreSQL database: Bob's `/me` stream on gateway 1 gets the
/// notifications of what Ada does through gateway 0, in order, each once.
#[actix_rt::test]
async fn a_notification_written_on_one_gateway_reaches_a_me_stream_on_the_other() {
    across_gateways(&[]).await;
}

/// The same with gateways that poll instead of listening for `NOTIFY`.
#[actix_rt::test]
async fn a_notification_reaches_a_me_stream_on_a_polling_gateway() {
    across_gateways(&["--events", "poll", "--events-poll-ms", "50"]).await;
}

async fn across_gateways(args: &[&str]) {
    let Some(gw) = Gateways::start(2, args) else { return };
    let (ada, bob) = (member(gw.base(0), "AdaPair").await, member(gw.base(0), "BobPair").await);
    let team = ok(&gw_post(gw.base(0), Some(&ada), "/api/v1/teams", &json!({"name": "Squad"})).await, 201);
    let team = team["id"].as_str().unwrap();
    let members = format!("/api/v1/teams/{team}/members");
    ok(&gw_post(gw.base(0), Some(&ada), &members, &json!({"user_id": bob.id})).await, 201);
    let projects = format!("/api/v1/teams/{team}/projects");
    let project = ok(&gw_post(gw.base(0), Some(&ada), &projects, &json!({"name": "Launch"})).await, 201);
    let tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());

    let mut stream = EventStream::open(gw.base(1), &bob, "/api/v1/me/events", None).await;
    for i in 0..4 {
        let body = json!({"title": format!("Task {i}"), "assignee_id": bob.id});
        ok(&gw_post(gw.base(0), Some(&ada), &tasks, &body).await, 201);
    }
    let got = stream.take(4, Duration::from_secs(15)).await;
    let page = gw_call(gw.base(1), Some(&bob), Method::GET, "/api/v1/me/notifications", None).await;
    let mut expected: Vec<String> =
        ok(&page, 200)["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
    expected.reverse();
    let ids: Vec<String> = got.iter().map(|e| e.0.clone()).collect();
    assert_eq!(ids, expected, "every notification once, in order");
    assert!(got.iter().all(|e| e.1 == "notification" && e.2["kind"] == "assigned"));
    assert!(stream.take(1, Duration::from_millis(300)).await.is_empty(), "nothing twice");
}
