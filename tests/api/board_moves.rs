//! Boards over HTTP (API section 7): `position` on tasks, `sort=position`, and
//! `POST /projects/{id}/tasks/{task_id}/move` with its `ETag`, `If-Match`, refusals and
//! its `task.moved` event on the team's live stream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::http::Method;
use futures_util::StreamExt as _;
use serde_json::{json, Value};

use crate::helpers::{ok, spawn_app, user, Response, TestApp, User};

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> Response {
    app.as_user(Some(&who.bearer), method, path, &[], body.as_ref()).await
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect()
}

#[actix_rt::test]
async fn tasks_move_on_the_board_and_the_team_sees_it_live() {
    let app = spawn_app().await;
    let (ada, eve) = (user(&app, "Ada").await, user(&app, "Eve").await);
    let team = ok(&call(&app, &ada, Method::POST, "/api/v1/teams", Some(json!({"name": "T"}))).await, 201);
    let team = team["id"].as_str().unwrap().to_string();
    let projects = format!("/api/v1/teams/{team}/projects");
    let project = ok(&call(&app, &ada, Method::POST, &projects, Some(json!({"name": "P"}))).await, 201);
    let project = project["id"].as_str().unwrap().to_string();
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let mut ids = Vec::new();
    for (title, status) in [("A", "todo"), ("B", "todo"), ("C", "todo"), ("D", "done")] {
        let body = json!({"title": title, "status": status});
        let created = ok(&call(&app, &ada, Method::POST, &tasks, Some(body)).await, 201);
        assert!(created["position"].as_str().is_some_and(|p| !p.is_empty()), "{created}");
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let board = format!("{tasks}?sort=position");
    assert_eq!(titles(&ok(&call(&app, &ada, Method::GET, &board, None).await, 200)), ["A", "B", "C", "D"]);

    // The team's stream, open before the move.
    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let mut stream = client
        .get(format!("{}/api/v1/teams/{team}/events", app.base))
        .insert_header(("authorization", ada.bearer.as_str()))
        .insert_header(("accept", "text/event-stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    // C between A and B, conditional on the version it was read at: 200, new version and ETag.
    let move_c = format!("{tasks}/{}/move", ids[2]);
    let body = json!({"after_id": ids[0], "before_id": ids[1]});
    let if_match = [("if-match", "\"1\"")];
    let res = app.as_user(Some(&ada.bearer), Method::POST, &move_c, &if_match, Some(&body)).await;
    let c = ok(&res, 200);
    assert_eq!((c["version"].as_i64(), res.header("etag").as_deref()), (Some(2), Some("\"2\"")));
    assert_eq!(titles(&ok(&call(&app, &ada, Method::GET, &board, None).await, 200)), ["A", "C", "B", "D"]);
    // The same ETag again is stale now: 412, nothing moves.
    let res = app.as_user(Some(&ada.bearer), Method::POST, &move_c, &if_match, Some(&json!({}))).await;
    res.problem(412);
    // Into another column, on top: the status changes with it.
    let moved = ok(&call(&app, &ada, Method::POST, &move_c, Some(json!({"status": "done"}))).await, 200);
    assert_eq!(moved["status"], "done");
    let done = format!("{tasks}?sort=position&status=done");
    assert_eq!(titles(&ok(&call(&app, &ada, Method::GET, &done, None).await, 200)), ["C", "D"]);

    // The moves reached the stream, with where from and where to.
    let mut buf = String::new();
    let mut events = Vec::new();
    while events.len() < 2 {
        events.extend(crate::helpers::take_events(&mut buf));
        if events.len() >= 2 {
            break;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("events in time");
        buf.push_str(std::str::from_utf8(&chunk.unwrap().unwrap()).unwrap());
    }
    assert_eq!((events[0].1.as_str(), events[1].1.as_str()), ("task.moved", "task.moved"));
    let details = &events[1].2["details"];
    assert_eq!((details["from"]["status"].as_str(), details["to"]["status"].as_str()), (Some("todo"), Some("done")));
    assert_eq!(details["to"]["position"], moved["position"]);

    // Refusals: a neighbour of another column (422 naming it), bad values (each named),
    // a stranger (404), an archived project (409).
    let move_a = format!("{tasks}/{}/move", ids[0]);
    let res = call(&app, &ada, Method::POST, &move_a, Some(json!({"after_id": ids[3]}))).await;
    assert_eq!(res.error_fields(), ["after_id"]);
    let res = call(&app, &ada, Method::POST, &move_a, Some(json!({"status": "doing", "before_id": 7}))).await;
    assert_eq!(res.error_fields(), ["before_id", "status"], "type errors first, then the rules");
    call(&app, &eve, Method::POST, &move_a, Some(json!({}))).await.problem(404);
    let archive = json!({"archived": true});
    ok(&call(&app, &ada, Method::PATCH, &format!("/api/v1/projects/{project}"), Some(archive)).await, 200);
    call(&app, &ada, Method::POST, &move_a, Some(json!({}))).await.problem(409);
}
