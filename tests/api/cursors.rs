//! Cursors are bound to the list, board and filters they were made under: anywhere else
//! they are a 422 naming `cursor`, never a silently shifted page. Filters spelled
//! differently but meaning the same (a set in another order) and another `limit` still
//! continue.

#![allow(clippy::unwrap_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, user, Response, TestApp, User};

async fn call(app: &TestApp, who: Option<&User>, method: Method, path: &str, body: Option<Value>) -> Response {
    let headers: Vec<(&str, &str)> = who.map(|u| ("authorization", u.bearer.as_str())).into_iter().collect();
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(&app.base, method, &format!("/api/v1{path}"), &headers, body).await
}

async fn get(app: &TestApp, who: Option<&User>, path: &str) -> Response {
    call(app, who, Method::GET, path, None).await
}

async fn post(app: &TestApp, who: Option<&User>, path: &str, body: Value) -> Value {
    let res = call(app, who, Method::POST, path, Some(body)).await;
    assert_eq!(res.status, 201, "{path}: {}", String::from_utf8_lossy(&res.body));
    res.json()
}

/// The `next_cursor` of `path` (which must have one).
async fn cursor_of(app: &TestApp, who: Option<&User>, path: &str) -> String {
    let res = get(app, who, path).await;
    assert_eq!(res.status, 200, "{path}: {}", String::from_utf8_lossy(&res.body));
    res.json()["next_cursor"].as_str().unwrap_or_else(|| panic!("{path}: no next page")).to_string()
}

/// `path` with `cursor` appended is refused naming the cursor, with the binding's message.
async fn refused(app: &TestApp, who: Option<&User>, path: &str, cursor: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let res = get(app, who, &format!("{path}{sep}cursor={cursor}")).await;
    assert_eq!(res.error_fields(), ["cursor"], "{path}");
    let message = res.json()["errors"][0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("another list"), "{path}: {message}");
}

/// `path` with `cursor` appended continues (200).
async fn continues(app: &TestApp, who: Option<&User>, path: &str, cursor: &str) -> Value {
    let sep = if path.contains('?') { '&' } else { '?' };
    let res = get(app, who, &format!("{path}{sep}cursor={cursor}")).await;
    assert_eq!(res.status, 200, "{path}: {}", String::from_utf8_lossy(&res.body));
    res.json()
}

#[actix_rt::test]
async fn board_cursors_are_bound_to_their_list_board_and_filters() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    for i in 0..3 {
        post(&app, None, "/notes", json!({"content": format!("milk {i}")})).await;
        post(&app, None, "/tasks", json!({"title": format!("pending {i}")})).await;
        post(&app, None, "/tasks", json!({"title": format!("done {i}"), "status": "completed"})).await;
        post(&app, None, "/tasks", json!({"title": format!("going {i}"), "status": "in_progress"})).await;
        post(&app, Some(&ada), "/tasks", json!({"title": format!("mine {i}")})).await;
    }
    // A notes cursor is not a tasks cursor, though both sort by -created_at.
    let notes = cursor_of(&app, None, "/notes?limit=1").await;
    refused(&app, None, "/tasks?limit=1", &notes).await;
    continues(&app, None, "/notes?limit=1", &notes).await;
    // Nor is it one for another board.
    refused(&app, Some(&ada), "/notes?limit=1", &notes).await;

    // Filters: another status or another `q` is another list.
    let pending = cursor_of(&app, None, "/tasks?status=pending&limit=1").await;
    refused(&app, None, "/tasks?status=completed&limit=1", &pending).await;
    refused(&app, None, "/tasks?limit=1", &pending).await;
    refused(&app, None, "/tasks?status=pending&q=pending&limit=1", &pending).await;
    refused(&app, Some(&ada), "/tasks?status=pending&limit=1", &pending).await;
    let searched = cursor_of(&app, None, "/tasks?q=pending&limit=1").await;
    refused(&app, None, "/tasks?q=done&limit=1", &searched).await;
    continues(&app, None, "/tasks?q=pending&limit=1", &searched).await;
    // The same set of statuses in another order, repeated, or with another limit continues.
    let both = cursor_of(&app, None, "/tasks?status=pending,in_progress&limit=2").await;
    let next = continues(&app, None, "/tasks?status=in_progress,pending&limit=2", &both).await;
    assert_eq!(next["items"].as_array().unwrap().len(), 2);
    continues(&app, None, "/tasks?status=pending,in_progress,pending&limit=50", &both).await;
    refused(&app, None, "/tasks?status=pending,completed&limit=2", &both).await;
}

#[actix_rt::test]
async fn cursors_of_the_format_before_bindings_are_refused() {
    let app = spawn_app().await;
    for i in 0..2 {
        post(&app, None, "/notes", json!({"content": format!("n{i}")})).await;
    }
    // base64url of {"s":"-created_at","k":[1764000000000,"0190f0e2-7f7e-7b3a-8a55-3d1c7c2a9b10"]}:
    // well-formed keys of the right kinds, only the binding is missing.
    let old =
        "eyJzIjoiLWNyZWF0ZWRfYXQiLCJrIjpbMTc2NDAwMDAwMDAwMCwiMDE5MGYwZTItN2Y3ZS03YjNhLThhNTUtM2QxYzdjMmE5YjEwIl19";
    let res = get(&app, None, &format!("/notes?limit=1&cursor={old}")).await;
    assert_eq!(res.error_fields(), ["cursor"]);
}

#[actix_rt::test]
async fn team_cursors_are_bound_to_their_team_project_and_filters() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let mut teams = Vec::new();
    for name in ["A", "B"] {
        let team = post(&app, Some(&ada), "/teams", json!({"name": name})).await["id"].as_str().unwrap().to_string();
        post(&app, Some(&ada), &format!("/teams/{team}/members"), json!({"user_id": bob.id})).await;
        let mut projects = Vec::new();
        for p in ["one", "two"] {
            let project = post(&app, Some(&ada), &format!("/teams/{team}/projects"), json!({"name": p})).await;
            let project = project["id"].as_str().unwrap().to_string();
            for t in 0..3 {
                let body = json!({"title": format!("task {t}"), "priority": if t == 0 { "high" } else { "low" }});
                post(&app, Some(&ada), &format!("/projects/{project}/tasks"), body).await;
            }
            projects.push(project);
        }
        teams.push((team, projects));
    }
    let (a, a_projects) = &teams[0];
    let (b, _) = &teams[1];
    let (p1, p2) = (&a_projects[0], &a_projects[1]);
    let me = Some(&ada);

    // Team-wide tasks: bound to the team and the filters.
    let team_tasks = cursor_of(&app, me, &format!("/teams/{a}/tasks?limit=1&status=todo")).await;
    continues(&app, me, &format!("/teams/{a}/tasks?limit=2&status=todo"), &team_tasks).await;
    refused(&app, me, &format!("/teams/{b}/tasks?limit=1&status=todo"), &team_tasks).await;
    refused(&app, me, &format!("/teams/{a}/tasks?limit=1&status=done"), &team_tasks).await;
    refused(&app, me, &format!("/teams/{a}/tasks?limit=1&status=todo&project_id={p1}"), &team_tasks).await;
    refused(&app, me, &format!("/projects/{p1}/tasks?limit=1&status=todo"), &team_tasks).await;
    // Project tasks: bound to the project; a priority set in any order is the same filter.
    let project_tasks = cursor_of(&app, me, &format!("/projects/{p1}/tasks?limit=1&priority=low,high")).await;
    continues(&app, me, &format!("/projects/{p1}/tasks?limit=1&priority=high,low"), &project_tasks).await;
    refused(&app, me, &format!("/projects/{p2}/tasks?limit=1&priority=low,high"), &project_tasks).await;
    refused(&app, me, &format!("/projects/{p1}/tasks?limit=1&priority=low"), &project_tasks).await;
    let unassigned = cursor_of(&app, me, &format!("/projects/{p1}/tasks?limit=1&assignee=none")).await;
    refused(&app, me, &format!("/projects/{p1}/tasks?limit=1&assignee=me"), &unassigned).await;

    // Lists in creation order: bound to the list and its team.
    let projects = cursor_of(&app, me, &format!("/teams/{a}/projects?limit=1")).await;
    continues(&app, me, &format!("/teams/{a}/projects?limit=1"), &projects).await;
    refused(&app, me, &format!("/teams/{b}/projects?limit=1"), &projects).await;
    refused(&app, me, &format!("/teams/{a}/members?limit=1"), &projects).await;
    let members = cursor_of(&app, me, &format!("/teams/{a}/members?limit=1")).await;
    refused(&app, me, &format!("/teams/{b}/members?limit=1"), &members).await;
    let my_teams = cursor_of(&app, me, "/teams?limit=1").await;
    continues(&app, me, "/teams?limit=1", &my_teams).await;
    refused(&app, Some(&bob), "/teams?limit=1", &my_teams).await;

    // Activity feeds: bound to the team or task and the filters.
    let feed = cursor_of(&app, me, &format!("/teams/{a}/activity?limit=1&action=task.created")).await;
    continues(&app, me, &format!("/teams/{a}/activity?limit=1&action=task.created"), &feed).await;
    refused(&app, me, &format!("/teams/{b}/activity?limit=1&action=task.created"), &feed).await;
    refused(&app, me, &format!("/teams/{a}/activity?limit=1&action=project.created"), &feed).await;
    refused(&app, me, &format!("/teams/{a}/activity?limit=1"), &feed).await;
}

#[actix_rt::test]
async fn learning_cursors_are_bound_to_their_list_and_filters() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    for i in 0..3 {
        let body =
            json!({"title": format!("c{i}"), "difficulty": "beginner", "topic": "Basics", "tags": ["intro", "sql"]});
        post(&app, Some(&ada), "/learning/challenges", body).await;
        post(&app, Some(&ada), "/learning/paths", json!({"title": format!("p{i}"), "topic": "Basics"})).await;
    }
    let tagged = cursor_of(&app, None, "/learning/challenges?limit=1&tag=intro,sql").await;
    continues(&app, None, "/learning/challenges?limit=1&tag=sql,intro", &tagged).await;
    refused(&app, None, "/learning/challenges?limit=1&tag=intro", &tagged).await;
    refused(&app, None, "/learning/challenges?limit=1&tag=intro,sql&topic=basics", &tagged).await;
    // Topics compare without ASCII case, and so do their cursors.
    let topic = cursor_of(&app, None, "/learning/paths?limit=1&topic=Basics").await;
    continues(&app, None, "/learning/paths?limit=1&topic=BASICS", &topic).await;
    refused(&app, None, "/learning/paths?limit=1&topic=Other", &topic).await;
    refused(&app, None, "/learning/challenges?limit=1&topic=Basics", &topic).await;
}
