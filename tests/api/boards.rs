//! Personal boards over HTTP: with a token, notes and tasks are the caller's own; without
//! one they are on the shared anonymous board. Two users and anonymous callers each see
//! only their own notes, tasks and stats, and another board's id is a 404 to every method.

#![allow(clippy::unwrap_used)]

use actix_web::http::Method;
use gateway::NotesStore;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};

/// Ada, Bob and the anonymous board, as `Authorization` values.
async fn three_callers(app: &TestApp) -> [Option<String>; 3] {
    [Some(app.bearer_for("ada@example.com").await), Some(app.bearer_for("bob@example.com").await), None]
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// Each caller creates `per_caller` resources at `collection`; returns each caller's ids.
async fn seed(
    app: &TestApp,
    callers: &[Option<String>; 3],
    collection: &str,
    body: impl Fn(usize) -> Value,
) -> Vec<Vec<String>> {
    let mut owned = vec![Vec::new(); 3];
    for round in 0..2 {
        for (i, caller) in callers.iter().enumerate() {
            let res = app.as_user(caller.as_deref(), Method::POST, collection, &[], Some(&body(i * 10 + round))).await;
            assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
            owned[i].push(res.json()["id"].as_str().unwrap().to_string());
        }
    }
    for ids in &mut owned {
        ids.sort();
    }
    owned
}

/// Every caller lists exactly its own resources; another board's id is 404 to GET, PATCH
/// and DELETE (also with `If-Match`), and nothing about the resource changes.
async fn boards_are_private(app: &TestApp, collection: &str, owned: &[Vec<String>], change: &Value) {
    let callers = three_callers_again(app).await;
    for (i, caller) in callers.iter().enumerate() {
        let list = app.as_user(caller.as_deref(), Method::GET, collection, &[], None).await;
        assert_eq!(list.status, 200);
        assert_eq!(ids(&list.json()), owned[i], "caller {i} lists only its own");
        for (j, others) in owned.iter().enumerate().filter(|(j, _)| *j != i) {
            let path = format!("{collection}/{}", others[0]);
            let who = caller.as_deref();
            app.as_user(who, Method::GET, &path, &[], None).await.problem(404);
            app.as_user(who, Method::PATCH, &path, &[], Some(change)).await.problem(404);
            app.as_user(who, Method::PATCH, &path, &[("if-match", "\"9\"")], Some(change)).await.problem(404);
            app.as_user(who, Method::DELETE, &path, &[], None).await.problem(404);
            app.as_user(who, Method::DELETE, &path, &[("if-match", "*")], None).await.problem(404);
            let owner = callers[j].as_deref();
            let untouched = app.as_user(owner, Method::GET, &path, &[], None).await;
            assert_eq!((untouched.status, untouched.json()["version"].as_i64()), (200, Some(1)), "{path}");
        }
    }
}

/// The tokens of [`three_callers`], logged in again (a second login is a second token of
/// the same user: the board follows the user, not the token).
async fn three_callers_again(app: &TestApp) -> [Option<String>; 3] {
    let mut callers = [None, None, None];
    for (i, email) in ["ada@example.com", "bob@example.com"].into_iter().enumerate() {
        let credentials = json!({"email": email, "password": "correct horse battery"});
        let res = app.post_json("/api/v1/auth/login", &credentials).await;
        callers[i] = Some(format!("Bearer {}", res.json()["token"].as_str().unwrap()));
    }
    callers
}

async fn notes_are_per_board(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let callers = three_callers(&app).await;
    let owned = seed(&app, &callers, "/api/v1/notes", |n| json!({"content": format!("note {n} milk")})).await;
    boards_are_private(&app, "/api/v1/notes", &owned, &json!({"content": "hijacked"})).await;
    // Search stays on the board too.
    for (i, caller) in callers.iter().enumerate() {
        let found = app.as_user(caller.as_deref(), Method::GET, "/api/v1/notes?q=milk&limit=1", &[], None).await.json();
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        assert!(owned[i].contains(&found["items"][0]["id"].as_str().unwrap().to_string()));
    }
}

#[actix_rt::test]
async fn notes_are_per_board_in_memory() {
    notes_are_per_board(NotesStore::Memory).await;
}

#[actix_rt::test]
async fn notes_are_per_board_in_sqlite() {
    notes_are_per_board(NotesStore::Sqlite).await;
}

#[actix_rt::test]
async fn tasks_and_their_stats_are_per_board() {
    let app = spawn_app_with(NotesStore::Sqlite).await;
    let callers = three_callers(&app).await;
    // Ada's tasks are completed, Bob's in progress, the anonymous ones pending.
    let status = ["completed", "in_progress", "pending"];
    let owned =
        seed(&app, &callers, "/api/v1/tasks", |n| json!({"title": format!("task {n}"), "status": status[n / 10]}))
            .await;
    boards_are_private(&app, "/api/v1/tasks", &owned, &json!({"status": "completed"})).await;
    let expected = [
        json!({"pending": 0, "in_progress": 0, "completed": 2}),
        json!({"pending": 0, "in_progress": 2, "completed": 0}),
        json!({"pending": 2, "in_progress": 0, "completed": 0}),
    ];
    for (i, caller) in callers.iter().enumerate() {
        let stats = app.as_user(caller.as_deref(), Method::GET, "/api/v1/tasks/stats", &[], None).await.json();
        assert_eq!(stats["by_status"], expected[i], "caller {i}");
        let completions: u64 =
            stats["completed_per_bucket"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(completions, if i == 0 { 2 } else { 0 }, "caller {i}");
        let filtered = app.as_user(caller.as_deref(), Method::GET, "/api/v1/tasks?status=completed", &[], None).await;
        assert_eq!(filtered.json()["items"].as_array().unwrap().len(), if i == 0 { 2 } else { 0 });
    }
}

#[actix_rt::test]
async fn a_bad_token_is_refused_not_taken_for_anonymous() {
    let app = spawn_app_with(NotesStore::Sqlite).await;
    app.post_json("/api/v1/notes", &json!({"content": "anonymous"})).await;
    for path in ["/api/v1/notes", "/api/v1/tasks", "/api/v1/tasks/stats"] {
        let res = app.as_user(Some("Bearer not-a-token"), Method::GET, path, &[], None).await;
        res.problem(401);
    }
}
