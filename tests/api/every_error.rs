//! One answer names every bad field of a body: fields of the wrong JSON type (which the
//! parser refuses) beside fields that break a rule (checked after parsing).

#![allow(clippy::unwrap_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, user, Response, TestApp, User};

async fn post(app: &TestApp, who: Option<&User>, path: &str, body: Value) -> Response {
    app.as_user(who.map(|u| u.bearer.as_str()), Method::POST, path, &[], Some(&body)).await
}

fn messages(res: &Response) -> Vec<String> {
    res.json()["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().to_string()).collect()
}

#[actix_rt::test]
async fn a_project_task_create_names_type_errors_and_broken_rules_together() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let team = post(&app, Some(&ada), "/api/v1/teams", json!({"name": "Squad"})).await.json();
    let path = format!("/api/v1/teams/{}/projects", team["id"].as_str().unwrap());
    let project = post(&app, Some(&ada), &path, json!({"name": "Launch"})).await.json();
    let tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());

    let res = post(&app, Some(&ada), &tasks, json!({"title": 42, "priority": "x"})).await;
    assert_eq!(res.error_fields(), ["title", "priority"]);
    let messages = messages(&res);
    assert_eq!(messages[0], "invalid type: integer `42`, expected a string");
    assert!(messages[1].contains("urgent"), "today's rule message: {messages:?}");

    // Several of each kind, unknown fields included.
    let bad = json!({"title": [], "status": 3, "priority": "x", "due_date": "2026-02-30", "colour": "red"});
    let res = post(&app, Some(&ada), &tasks, bad).await;
    assert_eq!(res.error_fields(), ["colour", "status", "title", "priority", "due_date"]);

    // A PATCH too, on a real task.
    let task = post(&app, Some(&ada), &tasks, json!({"title": "t"})).await.json();
    let path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    let res =
        app.as_user(Some(&ada.bearer), Method::PATCH, &path, &[], Some(&json!({"title": 7, "priority": "x"}))).await;
    assert_eq!(res.error_fields(), ["title", "priority"]);
    let list = app.as_user(Some(&ada.bearer), Method::GET, &tasks, &[], None).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "nothing invalid was stored");
}

#[actix_rt::test]
async fn a_note_create_names_type_errors_and_broken_rules_together() {
    let app = spawn_app().await;
    let res = post(&app, None, "/api/v1/notes", json!({"title": 42, "content": "   "})).await;
    assert_eq!(res.error_fields(), ["title", "content"]);
    assert_eq!(messages(&res)[1], "must not be empty");
    let res = post(&app, None, "/api/v1/notes", json!({"title": "t".repeat(201), "content": false})).await;
    assert_eq!(res.error_fields(), ["content", "title"]);
    assert_eq!(app.get("/api/v1/notes").await.json()["items"].as_array().unwrap().len(), 0);
}
