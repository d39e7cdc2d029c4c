//! `Idempotency-Key` (API section 1): a repeated `POST` with the same key from the same
//! caller gets the first response again and creates nothing, on every product; the key
//! covers the request, is the caller's own, survives a restart, and holds under concurrent
//! repeats. Operations whose response carries a secret refuse keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, send, spawn_app, user, ProcessApp, Response, TestApp, User};

async fn post(app: &TestApp, who: Option<&User>, path: &str, key: Option<&str>, body: &Value) -> Response {
    post_raw(&app.base, who, path, key, body.to_string()).await
}

async fn post_raw(base: &str, who: Option<&User>, path: &str, key: Option<&str>, body: String) -> Response {
    let mut headers: Vec<(&str, &str)> = who.map(|u| ("authorization", u.bearer.as_str())).into_iter().collect();
    headers.extend(key.map(|k| ("idempotency-key", k)));
    send(base, Method::POST, path, &headers, Some(("application/json", body.into_bytes()))).await
}

async fn count(app: &TestApp, who: Option<&User>, path: &str) -> usize {
    let headers: Vec<(&str, &str)> = who.map(|u| ("authorization", u.bearer.as_str())).into_iter().collect();
    let page = ok(&send(&app.base, Method::GET, path, &headers, None).await, 200);
    page["items"].as_array().unwrap().len()
}

/// The first response again, byte for byte, with the replay marked.
fn assert_replay(first: &Response, again: &Response) {
    assert_eq!(again.status, first.status, "{}", String::from_utf8_lossy(&again.body));
    assert_eq!(again.body, first.body);
    for name in ["location", "etag", "content-type"] {
        assert_eq!(again.header(name), first.header(name), "{name}");
    }
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
}

#[actix_rt::test]
async fn a_repeated_post_gets_the_first_response_and_creates_nothing_on_every_product() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let team = ok(&post(&app, Some(&ada), "/api/v1/teams", None, &json!({"name": "T"})).await, 201);
    let project = ok(
        &post(
            &app,
            Some(&ada),
            &format!("/api/v1/teams/{}/projects", team["id"].as_str().unwrap()),
            None,
            &json!({"name": "P"}),
        )
        .await,
        201,
    );
    let project_tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());
    let cases: Vec<(Option<&User>, String, Value, String)> = vec![
        (None, "/api/v1/notes".into(), json!({"title": "n", "content": "c"}), "/api/v1/notes".into()),
        (Some(&ada), "/api/v1/tasks".into(), json!({"title": "t"}), "/api/v1/tasks".into()),
        (Some(&ada), project_tasks.clone(), json!({"title": "pt"}), project_tasks.clone()),
        (
            Some(&ada),
            "/api/v1/learning/challenges".into(),
            json!({"title": "c", "difficulty": "beginner", "topic": "t"}),
            "/api/v1/learning/challenges?topic=t".into(),
        ),
    ];
    for (who, path, body, list) in cases {
        let key = format!("key-{path}");
        let first = post(&app, who, &path, Some(&key), &body).await;
        assert_eq!(first.status, 201, "{path}: {}", String::from_utf8_lossy(&first.body));
        let again = post(&app, who, &path, Some(&key), &body).await;
        assert_replay(&first, &again);
        assert_eq!(count(&app, who, &list).await, 1, "{path} created once");
        // Without a key, every POST creates.
        ok(&post(&app, who, &path, None, &body).await, 201);
        ok(&post(&app, who, &path, None, &body).await, 201);
        assert_eq!(count(&app, who, &list).await, 3, "{path}");
    }
}

#[actix_rt::test]
async fn the_key_covers_the_request_as_json_and_belongs_to_its_caller() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let first =
        post_raw(&app.base, Some(&ada), "/api/v1/tasks", Some("k"), r#"{"title":"a","status":"in_progress"}"#.into())
            .await;
    assert_eq!(first.status, 201);
    // Equal JSON, other bytes: the same request.
    let spaced = post_raw(
        &app.base,
        Some(&ada),
        "/api/v1/tasks",
        Some("k"),
        r#"{ "status": "in_progress",  "title": "a" }"#.into(),
    )
    .await;
    assert_replay(&first, &spaced);
    // Another body or path with the key: refused, naming the header.
    let other =
        post(&app, Some(&ada), "/api/v1/tasks", Some("k"), &json!({"title": "b", "status": "in_progress"})).await;
    assert_eq!(other.error_fields(), ["Idempotency-Key"]);
    let elsewhere = post(&app, Some(&ada), "/api/v1/notes", Some("k"), &json!({"content": "x"})).await;
    assert_eq!(elsewhere.error_fields(), ["Idempotency-Key"]);
    // Another caller's key of the same name is its own; so is the anonymous board's.
    ok(&post(&app, Some(&bob), "/api/v1/tasks", Some("k"), &json!({"title": "a", "status": "in_progress"})).await, 201);
    ok(&post(&app, None, "/api/v1/tasks", Some("k"), &json!({"title": "a", "status": "in_progress"})).await, 201);
    assert_eq!(count(&app, Some(&ada), "/api/v1/tasks").await, 1);
    assert_eq!(count(&app, Some(&bob), "/api/v1/tasks").await, 1);
    assert_eq!(count(&app, None, "/api/v1/tasks").await, 1);
}

#[actix_rt::test]
async fn final_answers_are_replayed_and_a_conflict_is_not_kept() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    // A 422 is the first completed response: a repeat gets it again (nothing was written).
    let bad = post(&app, Some(&ada), "/api/v1/tasks", Some("v"), &json!({"title": ""})).await;
    bad.problem(422);
    assert_replay(&bad, &post(&app, Some(&ada), "/api/v1/tasks", Some("v"), &json!({"title": ""})).await);
    // A 409 is not kept: the key is free again, so another request may use it.
    let taken = json!({"email": "ada@example.com", "display_name": "A", "password": "correct horse battery"});
    post(&app, None, "/api/v1/auth/register", Some("r"), &taken).await.problem(409);
    let fresh = json!({"email": "eve@example.com", "display_name": "E", "password": "correct horse battery"});
    let created = post(&app, None, "/api/v1/auth/register", Some("r"), &fresh).await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    assert_replay(&created, &post(&app, None, "/api/v1/auth/register", Some("r"), &fresh).await);
}

#[actix_rt::test]
async fn bad_keys_and_secret_bearing_operations_are_refused() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let long = "k".repeat(256);
    for key in [long.as_str(), "two words", ""] {
        let res = post(&app, Some(&ada), "/api/v1/tasks", Some(key), &json!({"title": "t"})).await;
        assert_eq!(res.error_fields(), ["Idempotency-Key"], "{key:?}");
    }
    assert_eq!(count(&app, Some(&ada), "/api/v1/tasks").await, 0);
    // Without a login, an operation that needs one is a 401 first, whatever the key.
    ok(&post(&app, None, "/api/v1/notes", Some("anon"), &json!({"content": "x"})).await, 201);
    for key in ["anon", "two words"] {
        let res = post(&app, None, "/api/v1/teams", Some(key), &json!({"name": "T"})).await;
        res.problem(401);
    }
    let team = ok(&post(&app, Some(&ada), "/api/v1/teams", None, &json!({"name": "T"})).await, 201);
    let invites = format!("/api/v1/teams/{}/invites", team["id"].as_str().unwrap());
    let login = json!({"email": "ada@example.com", "password": "correct horse battery"});
    for (path, body) in
        [("/api/v1/auth/login", login), ("/api/v1/auth/stream-tickets", json!({})), (invites.as_str(), json!({}))]
    {
        let res = post(&app, Some(&ada), path, Some("s"), &body).await;
        assert_eq!(res.error_fields(), ["Idempotency-Key"], "{path}");
    }
}

#[actix_rt::test]
async fn concurrent_repeats_create_once() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let body = json!({"title": "once"});
    let repeats = (0..8).map(|_| post(&app, Some(&ada), "/api/v1/tasks", Some("race"), &body));
    let answers = futures_util::future::join_all(repeats).await;
    let mut created = 0;
    for res in &answers {
        match (res.status, res.header("idempotent-replayed")) {
            (201, None) => created += 1,
            (201, Some(_)) => {}
            (409, _) => {
                res.problem(409);
            }
            (status, _) => panic!("unexpected {status}: {}", String::from_utf8_lossy(&res.body)),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(count(&app, Some(&ada), "/api/v1/tasks").await, 1);
    // Once answered, every repeat is the replay.
    let again = post(&app, Some(&ada), "/api/v1/tasks", Some("race"), &body).await;
    assert_eq!((again.status, again.header("idempotent-replayed").as_deref()), (201, Some("true")));
}

#[actix_rt::test]
async fn keys_survive_a_crash_of_the_server() {
    let db = storage::TestDatabase::new();
    let mut server = ProcessApp::start(db.url());
    let body = r#"{"title":"kept"}"#;
    let first = post_raw(&server.base, None, "/api/v1/tasks", Some("crash"), body.into()).await;
    assert_eq!(first.status, 201);
    server.signal("-KILL");
    server.wait_exit(std::time::Duration::from_secs(10)).expect("killed");
    let server = ProcessApp::start(db.url());
    let again = post_raw(&server.base, None, "/api/v1/tasks", Some("crash"), body.into()).await;
    assert_replay(&first, &again);
    let list = send(&server.base, Method::GET, "/api/v1/tasks", &[], None).await;
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
}
