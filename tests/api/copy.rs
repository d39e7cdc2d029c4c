//! `gateway copy --from SQLITE --to POSTGRES` (issue 16): a SQLite deployment filled
//! through the API, copied, then served from PostgreSQL: every read answers as it did,
//! the same tokens work, and new writes continue where the copy left off. Runs in
//! `make test-postgres`; without a PostgreSQL server it says so and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, send, spawn_app_on, user, Response, TestApp, User};

async fn call(app: &TestApp, who: Option<&User>, method: Method, path: &str, body: Option<Value>) -> Response {
    let headers: Vec<(&str, &str)> = who.map(|u| ("authorization", u.bearer.as_str())).into_iter().collect();
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(&app.base, method, path, &headers, body).await
}

async fn created(app: &TestApp, who: Option<&User>, path: &str, body: Value) -> String {
    let res = call(app, who, Method::POST, path, Some(body)).await;
    assert!(matches!(res.status, 200 | 201), "{path}: {}", String::from_utf8_lossy(&res.body));
    res.json()["id"].as_str().map(str::to_string).unwrap_or_default()
}

fn run_copy(from: &str, to: &str) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["copy", "--from", from, "--to", to])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the gateway runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[actix_rt::test]
async fn a_copy_to_postgresql_serves_every_read_as_sqlite_did() {
    if storage::testing::postgres_server().is_none() {
        eprintln!("skipped: no PostgreSQL server (run `make test-postgres`)");
        return;
    }
    let source = storage::TestDatabase::sqlite();
    let source_url = source.url().to_string();
    let app = spawn_app_on(source, |_| {}).await;

    // Something of every product, by two users.
    let (ada, bob) = (user(&app, "AdaCopy").await, user(&app, "BobCopy").await);
    for i in 0..5 {
        created(&app, None, "/api/v1/notes", json!({"title": format!("shared {i}"), "content": "milk"})).await;
        created(&app, Some(&ada), "/api/v1/notes", json!({"content": format!("Ada's note {i}")})).await;
        let task = json!({"title": format!("Invoice {i}"), "status": "pending", "due_date": "2026-12-24"});
        created(&app, Some(&ada), "/api/v1/tasks", task).await;
    }
    let team = created(&app, Some(&ada), "/api/v1/teams", json!({"name": "Copy crew"})).await;
    created(&app, Some(&ada), &format!("/api/v1/teams/{team}/members"), json!({"user_id": bob.id})).await;
    let project = created(&app, Some(&ada), &format!("/api/v1/teams/{team}/projects"), json!({"name": "Move"})).await;
    let mut tasks = Vec::new();
    for (i, title) in ["Plan the move", "pack boxes", "Label Boxes", "unpack"].iter().enumerate() {
        let priority = ["low", "high"][i % 2];
        let body = json!({"title": title, "priority": priority, "assignee_id": bob.id});
        tasks.push(created(&app, Some(&ada), &format!("/api/v1/projects/{project}/tasks"), body).await);
    }
    let comments = format!("/api/v1/projects/{project}/tasks/{}/comments", tasks[0]);
    created(&app, Some(&bob), &comments, json!({"body": "On it"})).await;
    let change = json!({"status": "in_progress"});
    let res =
        call(&app, Some(&bob), Method::PATCH, &format!("/api/v1/projects/{project}/tasks/{}", tasks[1]), Some(change))
            .await;
    ok(&res, 200);
    let challenge = json!({"title": "Reverse a list", "description": "in place", "difficulty": "beginner",
                           "topic": "Basics", "tags": ["lists", "Intro"]});
    let first = created(&app, Some(&ada), "/api/v1/learning/challenges", challenge).await;
    let challenge = json!({"title": "apply a graph", "description": "BFS", "difficulty": "advanced",
                           "topic": "basics", "tags": ["graphs", "intro"]});
    let second = created(&app, Some(&ada), "/api/v1/learning/challenges", challenge).await;
    let done = call(
        &app,
        Some(&bob),
        Method::PUT,
        &format!("/api/v1/learning/challenges/{first}/completion"),
        Some(json!({"solution": "reverse()"})),
    )
    .await;
    assert!(matches!(done.status, 200 | 201));
    let rated = call(
        &app,
        Some(&bob),
        Method::PUT,
        &format!("/api/v1/learning/challenges/{first}/rating"),
        Some(json!({"stars": 4})),
    )
    .await;
    assert!(matches!(rated.status, 200 | 201));
    let path = json!({"title": "Start here", "topic": "Basics", "challenge_ids": [second, first]});
    let path = created(&app, Some(&ada), "/api/v1/learning/paths", path).await;
    let enrolled =
        call(&app, Some(&bob), Method::PUT, &format!("/api/v1/learning/paths/{path}/enrollment"), None).await;
    assert!(matches!(enrolled.status, 200 | 201), "{}", String::from_utf8_lossy(&enrolled.body));

    // The reads a client makes, as each user (and anonymously), with every sort that
    // orders by something the copy must keep (titles, dates, counters, activity order).
    let reads: Vec<(Option<&User>, String)> = vec![
        (None, "/api/v1/notes?sort=title".into()),
        (None, "/api/v1/notes?q=milk".into()),
        (Some(&ada), "/api/v1/notes?sort=-created_at".into()),
        (Some(&ada), "/api/v1/tasks?sort=title".into()),
        (Some(&ada), "/api/v1/tasks/stats".into()),
        (Some(&ada), "/api/v1/users/me".into()),
        (Some(&ada), "/api/v1/teams".into()),
        (Some(&ada), format!("/api/v1/teams/{team}/members")),
        (Some(&bob), format!("/api/v1/projects/{project}/tasks?sort=title")),
        (Some(&bob), format!("/api/v1/projects/{project}/tasks?sort=-priority")),
        (Some(&bob), format!("/api/v1/projects/{project}/tasks?q=box")),
        (Some(&bob), format!("/api/v1/teams/{team}/activity")),
        (Some(&bob), comments.clone()),
        (Some(&bob), "/api/v1/me/tasks".into()),
        (None, "/api/v1/learning/challenges?sort=title".into()),
        (Some(&bob), "/api/v1/learning/challenges?sort=-rating".into()),
        (None, "/api/v1/learning/challenges?tag=intro&sort=title".into()),
        (None, "/api/v1/learning/challenges?topic=BASICS".into()),
        (Some(&bob), format!("/api/v1/learning/challenges/{first}")),
        (Some(&bob), format!("/api/v1/learning/paths/{path}")),
        (Some(&bob), "/api/v1/learning/me/progress".into()),
        (None, "/api/v1/learning/paths?topic=basics".into()),
    ];
    let mut before = Vec::new();
    for (who, path) in &reads {
        let res = call(&app, *who, Method::GET, path, None).await;
        assert_eq!(res.status, 200, "{path}: {}", String::from_utf8_lossy(&res.body));
        before.push((res.json(), res.header("etag")));
    }
    app.stop().await;

    let target = storage::TestDatabase::new();
    let (copied, output) = run_copy(&source_url, target.url());
    assert!(copied, "{output}");
    assert!(output.contains("copied ") && !output.contains("copied 0 row(s)"), "{output}");
    let (again, output) = run_copy(&source_url, target.url());
    assert!(!again && output.contains("is not empty"), "a second copy into the same database is refused: {output}");

    let copy = spawn_app_on(target, |_| {}).await;
    for ((who, path), (body, etag)) in reads.iter().zip(&before) {
        let res = call(&copy, *who, Method::GET, path, None).await;
        assert_eq!(&ok(&res, 200), body, "{path} answers as before the copy");
        assert_eq!(&res.header("etag"), etag, "{path}: same ETag");
    }
    // Writes go on where the copy left off: new ids, versions, activity after the old.
    let note = created(&copy, Some(&ada), "/api/v1/notes", json!({"content": "after the move"})).await;
    assert!(!note.is_empty());
    let res = call(
        &copy,
        Some(&bob),
        Method::PATCH,
        &format!("/api/v1/projects/{project}/tasks/{}", tasks[1]),
        Some(json!({"status": "done"})),
    )
    .await;
    assert_eq!(ok(&res, 200)["version"], 3);
    let feed = ok(&call(&copy, Some(&bob), Method::GET, &format!("/api/v1/teams/{team}/activity"), None).await, 200);
    let newest = &feed["items"][0];
    assert_eq!(newest["action"], "task.status_changed");
    assert!(newest["id"].as_str().unwrap() > before[11].0["items"][0]["id"].as_str().unwrap(), "ids keep growing");
}
