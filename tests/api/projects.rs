//! Team projects over HTTP: login, membership (404 for strangers), roles (403), the last
//! admin (409), invites, tasks with ETags, comments, the activity log and live events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::http::Method;
use futures_util::StreamExt as _;
use serde_json::{json, Value};

use crate::helpers::{ok, send, spawn_app, user, Response, TestApp, User};

pub(crate) async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> Response {
    call_with(app, who, method, path, body, &[]).await
}

pub(crate) async fn call_with(
    app: &TestApp,
    who: &User,
    method: Method,
    path: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> Response {
    let mut headers = vec![("authorization", who.bearer.as_str())];
    headers.extend_from_slice(extra);
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(&app.base, method, path, &headers, body).await
}

/// A team of `admin` with `members` added as members, and one project.
pub(crate) async fn team_with(app: &TestApp, admin: &User, members: &[&User]) -> (String, String) {
    let team = ok(&call(app, admin, Method::POST, "/api/v1/teams", Some(json!({"name": "Squad"}))).await, 201);
    let team_id = team["id"].as_str().unwrap().to_string();
    assert_eq!(team["my_role"], "admin");
    for m in members {
        let path = format!("/api/v1/teams/{team_id}/members");
        ok(&call(app, admin, Method::POST, &path, Some(json!({"user_id": m.id}))).await, 201);
    }
    let path = format!("/api/v1/teams/{team_id}/projects");
    let project = ok(&call(app, admin, Method::POST, &path, Some(json!({"name": "Launch"}))).await, 201);
    (team_id, project["id"].as_str().unwrap().to_string())
}

pub(crate) async fn activity(app: &TestApp, who: &User, team: &str) -> Vec<Value> {
    let res = call(app, who, Method::GET, &format!("/api/v1/teams/{team}/activity?limit=200"), None).await;
    ok(&res, 200)["items"].as_array().unwrap().clone()
}

#[actix_rt::test]
async fn strangers_get_404_for_everything_of_a_team_and_anonymous_callers_401() {
    let app = spawn_app().await;
    let (ada, eve) = (user(&app, "Ada").await, user(&app, "Eve").await);
    let (team, project) = team_with(&app, &ada, &[]).await;
    let task = ok(
        &call(&app, &ada, Method::POST, &format!("/api/v1/projects/{project}/tasks"), Some(json!({"title": "t"})))
            .await,
        201,
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let comment_path = format!("/api/v1/projects/{project}/tasks/{task}/comments");
    let comment = ok(&call(&app, &ada, Method::POST, &comment_path, Some(json!({"body": "hi"}))).await, 201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let paths = [
        (Method::GET, format!("/api/v1/teams/{team}")),
        (Method::PATCH, format!("/api/v1/teams/{team}")),
        (Method::DELETE, format!("/api/v1/teams/{team}")),
        (Method::GET, format!("/api/v1/teams/{team}/members")),
        (Method::POST, format!("/api/v1/teams/{team}/members")),
        (Method::POST, format!("/api/v1/teams/{team}/invites")),
        (Method::GET, format!("/api/v1/teams/{team}/projects")),
        (Method::POST, format!("/api/v1/teams/{team}/projects")),
        (Method::GET, format!("/api/v1/teams/{team}/tasks")),
        (Method::GET, format!("/api/v1/teams/{team}/activity")),
        (Method::GET, format!("/api/v1/teams/{team}/events")),
        (Method::GET, format!("/api/v1/projects/{project}")),
        (Method::PATCH, format!("/api/v1/projects/{project}")),
        (Method::DELETE, format!("/api/v1/projects/{project}")),
        (Method::GET, format!("/api/v1/projects/{project}/tasks")),
        (Method::POST, format!("/api/v1/projects/{project}/tasks")),
        (Method::GET, format!("/api/v1/projects/{project}/tasks/{task}")),
        (Method::PATCH, format!("/api/v1/projects/{project}/tasks/{task}")),
        (Method::DELETE, format!("/api/v1/projects/{project}/tasks/{task}")),
        (Method::GET, format!("/api/v1/projects/{project}/tasks/{task}/activity")),
        (Method::GET, comment_path.clone()),
        (Method::POST, comment_path.clone()),
        (Method::PATCH, format!("{comment_path}/{comment}")),
        (Method::DELETE, format!("{comment_path}/{comment}")),
    ];
    for (method, path) in &paths {
        // A well-formed body for each write, so only the access rule can refuse it.
        let body = match (method.as_str(), path.as_str()) {
            ("GET" | "DELETE", _) => None,
            (_, p) if p.ends_with("/members") => Some(json!({"user_id": eve.id})),
            (_, p) if p.ends_with("/invites") => Some(json!({})),
            (_, p) if p.contains("/comments") => Some(json!({"body": "x"})),
            (_, p) if p.contains("/tasks") => Some(json!({"title": "x"})),
            _ => Some(json!({"name": "x"})),
        };
        let res = call(&app, &eve, method.clone(), path, body.clone()).await;
        res.problem(404);
        let anonymous =
            send(&app.base, method.clone(), path, &[], body.map(|b| ("application/json", b.to_string().into_bytes())))
                .await;
        assert_eq!(anonymous.status, 401, "{method} {path}");
    }
    // Nothing of that changed anything.
    assert_eq!(activity(&app, &ada, &team).await.len(), 4, "team, project, task and comment created");
    assert_eq!(ok(&call(&app, &eve, Method::GET, "/api/v1/teams", None).await, 200)["items"], json!([]));
}

#[actix_rt::test]
async fn members_read_and_work_but_only_admins_manage() {
    let app = spawn_app().await;
    let (ada, bob, cat) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cat").await);
    let (team, project) = team_with(&app, &ada, &[&bob]).await;
    // Bob, a member, reads and works...
    ok(&call(&app, &bob, Method::GET, &format!("/api/v1/teams/{team}"), None).await, 200);
    let tasks = format!("/api/v1/projects/{project}/tasks");
    ok(&call(&app, &bob, Method::POST, &tasks, Some(json!({"title": "mine"}))).await, 201);
    // ...but does not manage.
    for (method, path, body) in [
        (Method::PATCH, format!("/api/v1/teams/{team}"), Some(json!({"name": "x"}))),
        (Method::DELETE, format!("/api/v1/teams/{team}"), None),
        (Method::POST, format!("/api/v1/teams/{team}/members"), Some(json!({"user_id": cat.id}))),
        (Method::PATCH, format!("/api/v1/teams/{team}/members/{}", ada.id), Some(json!({"role": "member"}))),
        (Method::DELETE, format!("/api/v1/teams/{team}/members/{}", ada.id), None),
        (Method::POST, format!("/api/v1/teams/{team}/invites"), Some(json!({}))),
        (Method::POST, format!("/api/v1/teams/{team}/projects"), Some(json!({"name": "x"}))),
        (Method::PATCH, format!("/api/v1/projects/{project}"), Some(json!({"archived": true}))),
        (Method::DELETE, format!("/api/v1/projects/{project}"), None),
    ] {
        call(&app, &bob, method, &path, body).await.problem(403);
    }
    // Adding twice is a conflict; an unknown user or role is a 422.
    let members = format!("/api/v1/teams/{team}/members");
    call(&app, &ada, Method::POST, &members, Some(json!({"user_id": bob.id}))).await.problem(409);
    let unknown = uuid::Uuid::now_v7().to_string();
    let res = call(&app, &ada, Method::POST, &members, Some(json!({"user_id": unknown}))).await;
    assert_eq!(res.error_fields(), ["user_id"]);
    let res = call(&app, &ada, Method::POST, &members, Some(json!({"user_id": cat.id, "role": "owner"}))).await;
    assert_eq!(res.error_fields(), ["role"]);
    let listed = ok(&call(&app, &bob, Method::GET, &members, None).await, 200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

#[actix_rt::test]
async fn a_team_always_keeps_an_admin_even_when_admins_demote_each_other_at_once() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let (team, _) = team_with(&app, &ada, &[]).await;
    let me = format!("/api/v1/teams/{team}/members/{}", ada.id);
    call(&app, &ada, Method::DELETE, &me, None).await.problem(409);
    call(&app, &ada, Method::PATCH, &me, Some(json!({"role": "member"}))).await.problem(409);
    let members = format!("/api/v1/teams/{team}/members");
    ok(&call(&app, &ada, Method::POST, &members, Some(json!({"user_id": bob.id, "role": "admin"}))).await, 201);
    for round in 0..5 {
        // Both admins demote each other at the same moment: exactly one may win.
        let (demote_bob, demote_ada) = (format!("{members}/{}", bob.id), format!("{members}/{}", ada.id));
        let (a, b) = tokio::join!(
            call(&app, &ada, Method::PATCH, &demote_bob, Some(json!({"role": "member"}))),
            call(&app, &bob, Method::PATCH, &demote_ada, Some(json!({"role": "member"}))),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert!(statuses == [200, 403] || statuses == [200, 409], "round {round}: {statuses:?}");
        let list = ok(&call(&app, &ada, Method::GET, &members, None).await, 200);
        let admins: Vec<&Value> = list["items"].as_array().unwrap().iter().filter(|m| m["role"] == "admin").collect();
        assert_eq!(admins.len(), 1, "round {round}");
        // Restore two admins for the next round.
        let admin = if admins[0]["user"]["id"] == json!(ada.id) { &ada } else { &bob };
        let other = if admin.id == ada.id { &bob } else { &ada };
        let res =
            call(&app, admin, Method::PATCH, &format!("{members}/{}", other.id), Some(json!({"role": "admin"}))).await;
        ok(&res, 200);
    }
}

#[actix_rt::test]
async fn invites_let_people_join_until_revoked_and_leaving_unassigns() {
    let app = spawn_app().await;
    let (ada, bob, cat) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cat").await);
    let (team, project) = team_with(&app, &ada, &[]).await;
    let invite =
        ok(&call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team}/invites"), Some(json!({}))).await, 201);
    let code = invite["code"].as_str().unwrap();
    assert!(code.len() >= 22, "at least 128 bits");
    assert_eq!(invite["role"], "member");
    let accept = format!("/api/v1/invites/{code}/accept");
    let joined = ok(&call(&app, &bob, Method::POST, &accept, None).await, 200);
    assert_eq!((joined["id"].as_str(), joined["my_role"].as_str()), (Some(team.as_str()), Some("member")));
    ok(&call(&app, &bob, Method::POST, &accept, None).await, 200); // twice is harmless
    call(&app, &bob, Method::POST, "/api/v1/invites/not-a-code/accept", None).await.problem(404);
    ok(&call(&app, &ada, Method::DELETE, &format!("/api/v1/teams/{team}/invites/{code}"), None).await, 204);
    call(&app, &cat, Method::POST, &accept, None).await.problem(404);
    // An expired code is refused like an unknown one.
    let invite = ok(
        &call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team}/invites"), Some(json!({"expires_in_days": 1})))
            .await,
        201,
    );
    let expired = format!("/api/v1/invites/{}/accept", invite["code"].as_str().unwrap());
    let db = storage::Database::connect(&app.db_url, &storage::DbConfig::default()).unwrap();
    db.write(|c| {
        use diesel::RunQueryDsl as _;
        diesel::sql_query("UPDATE team_invites SET created_at = 0, expires_at = 1").execute(c.conn())?;
        Ok(())
    })
    .unwrap();
    call(&app, &cat, Method::POST, &expired, None).await.problem(404);
    call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team}/invites"), Some(json!({"expires_in_days": 31})))
        .await
        .problem(422);
    // JSON Schema's integer is any number without a fraction: 3.0 is 3, 2.5 is refused.
    let invites = format!("/api/v1/teams/{team}/invites");
    ok(&call(&app, &ada, Method::POST, &invites, Some(json!({"expires_in_days": 3.0}))).await, 201);
    let res = call(&app, &ada, Method::POST, &invites, Some(json!({"expires_in_days": 2.5}))).await;
    assert_eq!(res.error_fields(), ["expires_in_days"]);

    // Bob gets a task, then leaves: he is unassigned in the same change.
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let task =
        ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "t", "assignee_id": bob.id}))).await, 201);
    assert_eq!(task["assignee"]["display_name"], "Bob");
    let res = call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "t", "assignee_id": cat.id}))).await;
    assert_eq!(res.error_fields(), ["assignee_id"], "an assignee must be a member");
    ok(&call(&app, &bob, Method::DELETE, &format!("/api/v1/teams/{team}/members/{}", bob.id), None).await, 204);
    let task =
        ok(&call(&app, &ada, Method::GET, &format!("{tasks}/{}", task["id"].as_str().unwrap()), None).await, 200);
    assert_eq!(task["assignee"], Value::Null);
    assert_eq!(task["version"], 2);
    call(&app, &bob, Method::GET, &format!("/api/v1/teams/{team}"), None).await.problem(404);
    let removed = &activity(&app, &ada, &team).await[0];
    assert_eq!(removed["action"], "member.removed");
    assert_eq!(removed["details"]["unassigned_tasks"], 1);
}

#[actix_rt::test]
async fn tasks_carry_versions_and_honour_if_match() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let (_, project) = team_with(&app, &ada, &[]).await;
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let res = call(
        &app,
        &ada,
        Method::POST,
        &tasks,
        Some(json!({"title": "t", "priority": "high", "due_date": "2026-12-01"})),
    )
    .await;
    let task = ok(&res, 201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(
        (task["status"].as_str(), task["priority"].as_str(), task["version"].as_i64()),
        (Some("todo"), Some("high"), Some(1))
    );
    let path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    let res =
        call_with(&app, &ada, Method::PATCH, &path, Some(json!({"status": "done"})), &[("if-match", "\"1\"")]).await;
    assert_eq!((ok(&res, 200)["version"].as_i64(), res.header("etag").as_deref()), (Some(2), Some("\"2\"")));
    // A stale version changes nothing.
    let stale =
        call_with(&app, &ada, Method::PATCH, &path, Some(json!({"title": "x"})), &[("if-match", "\"1\"")]).await;
    assert_eq!(stale.problem(412)["current_version"], 2);
    call_with(&app, &ada, Method::DELETE, &path, None, &[("if-match", "\"1\"")]).await.problem(412);
    let current = ok(&call(&app, &ada, Method::GET, &path, None).await, 200);
    assert_eq!((current["title"].as_str(), current["version"].as_i64()), (Some("t"), Some(2)));
    // null clears; a no-op PATCH does not move the version.
    let res = call(&app, &ada, Method::PATCH, &path, Some(json!({"due_date": null, "title": "t"}))).await;
    assert_eq!((ok(&res, 200)["due_date"].clone(), res.json()["version"].as_i64()), (Value::Null, Some(3)));
    assert_eq!(ok(&call(&app, &ada, Method::PATCH, &path, Some(json!({"title": "t"}))).await, 200)["version"], 3);
    let res = call(&app, &ada, Method::PATCH, &path, Some(json!({"status": "finished", "priority": null}))).await;
    assert_eq!(res.error_fields(), ["status", "priority"]);
    ok(&call_with(&app, &ada, Method::DELETE, &path, None, &[("if-match", "\"3\"")]).await, 204);
    call(&app, &ada, Method::GET, &path, None).await.problem(404);
}

#[actix_rt::test]
async fn a_changed_task_is_answered_as_a_read_shows_it() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let (team, project) = team_with(&app, &ada, &[&bob]).await;
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let task = ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "t"}))).await, 201);
    let path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    let label = ok(
        &call(
            &app,
            &ada,
            Method::POST,
            &format!("/api/v1/teams/{team}/labels"),
            Some(json!({"name": "ui", "color": "#00ff00"})),
        )
        .await,
        201,
    );
    // A plain change (answered from the row as written), a new assignee (whose name the
    // answer carries), labels, a status (a new position), and all of it at once.
    for change in [
        json!({"title": "renamed", "priority": "high", "due_date": "2026-12-24"}),
        json!({"assignee_id": bob.id}),
        json!({"label_ids": [label["id"]]}),
        json!({"status": "in_progress"}),
        json!({"title": "again", "assignee_id": null, "label_ids": [], "status": "done"}),
    ] {
        let answered = ok(&call(&app, &ada, Method::PATCH, &path, Some(change.clone())).await, 200);
        let read = ok(&call(&app, &ada, Method::GET, &path, None).await, 200);
        assert_eq!(answered, read, "after {change}");
    }
}

#[actix_rt::test]
async fn a_change_under_a_project_checks_membership_then_the_task_then_the_archive() {
    let app = spawn_app().await;
    let (ada, eve) = (user(&app, "Ada").await, user(&app, "Eve").await);
    let (_, project) = team_with(&app, &ada, &[]).await;
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let task = ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "t"}))).await, 201);
    let path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    let unknown_task = format!("{tasks}/{}", uuid::Uuid::now_v7());
    let unknown_project = format!("/api/v1/projects/{}/tasks", uuid::Uuid::now_v7());
    let change = || Some(json!({"title": "x"}));
    ok(
        &call(&app, &ada, Method::PATCH, &format!("/api/v1/projects/{project}"), Some(json!({"archived": true}))).await,
        200,
    );
    let detail = |res: Response, status: u16| res.problem(status)["detail"].as_str().unwrap().to_string();
    // A stranger learns nothing, archived or not; a member hears of the missing task
    // before the archive, and of the archive for a task that exists.
    assert_eq!(detail(call(&app, &eve, Method::PATCH, &path, change()).await, 404), "project not found");
    assert_eq!(detail(call(&app, &eve, Method::POST, &tasks, change()).await, 404), "project not found");
    assert_eq!(detail(call(&app, &ada, Method::POST, &unknown_project, change()).await, 404), "project not found");
    assert_eq!(detail(call(&app, &ada, Method::PATCH, &unknown_task, change()).await, 404), "task not found");
    call(&app, &ada, Method::PATCH, &path, change()).await.problem(409);
    call(&app, &ada, Method::POST, &tasks, change()).await.problem(409);
    call(&app, &ada, Method::POST, &format!("{path}/comments"), Some(json!({"body": "hi"}))).await.problem(409);
    ok(
        &call(&app, &ada, Method::PATCH, &format!("/api/v1/projects/{project}"), Some(json!({"archived": false})))
            .await,
        200,
    );
    assert_eq!(ok(&call(&app, &ada, Method::PATCH, &path, change()).await, 200)["title"], "x");
}

#[actix_rt::test]
async fn every_change_leaves_exactly_one_entry_and_a_failed_one_none() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let (team, project) = team_with(&app, &ada, &[&bob]).await;
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let task = ok(&call(&app, &bob, Method::POST, &tasks, Some(json!({"title": "t"}))).await, 201);
    let path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    let before = activity(&app, &ada, &team).await.len();
    // Failures leave nothing.
    call(&app, &bob, Method::PATCH, &path, Some(json!({"assignee_id": uuid::Uuid::now_v7().to_string()})))
        .await
        .problem(422);
    call_with(&app, &bob, Method::PATCH, &path, Some(json!({"title": "x"})), &[("if-match", "\"9\"")])
        .await
        .problem(412);
    assert_eq!(activity(&app, &ada, &team).await.len(), before);
    // Each change leaves one entry, named by what changed, with from/to.
    ok(&call(&app, &bob, Method::PATCH, &path, Some(json!({"status": "in_progress"}))).await, 200);
    ok(&call(&app, &bob, Method::PATCH, &path, Some(json!({"assignee_id": ada.id}))).await, 200);
    ok(&call(&app, &bob, Method::PATCH, &path, Some(json!({"title": "u", "priority": "urgent"}))).await, 200);
    ok(&call(&app, &ada, Method::POST, &format!("{path}/comments"), Some(json!({"body": "nice"}))).await, 201);
    let entries = activity(&app, &ada, &team).await;
    assert_eq!(entries.len(), before + 4);
    let actions: Vec<&str> = entries[..4].iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["comment.created", "task.updated", "task.assigned", "task.status_changed"]);
    assert_eq!(entries[3]["details"], json!({"status": {"from": "todo", "to": "in_progress"}}));
    assert_eq!(entries[2]["details"]["assignee_id"], json!({"from": null, "to": ada.id}));
    assert_eq!(entries[1]["details"]["priority"], json!({"from": "medium", "to": "urgent"}));
    assert_eq!(entries[1]["actor"]["display_name"], "Bob");
    assert_eq!(entries[1]["task_id"], task["id"]);
    // Feeds filter; the task's own feed has its history.
    let feed = format!("/api/v1/teams/{team}/activity?actor={}&action=task.updated", bob.id);
    assert_eq!(ok(&call(&app, &ada, Method::GET, &feed, None).await, 200)["items"].as_array().unwrap().len(), 1);
    let history = ok(&call(&app, &ada, Method::GET, &format!("{path}/activity"), None).await, 200);
    assert_eq!(history["items"].as_array().unwrap().len(), 5, "created, 3 changes, a comment");
    let res = call(&app, &ada, Method::GET, &format!("/api/v1/teams/{team}/activity?actor=bob&since=x"), None).await;
    assert_eq!(res.error_fields(), ["actor", "since"]);
}

#[actix_rt::test]
async fn comments_are_edited_by_their_authors_and_deleted_by_them_or_admins() {
    let app = spawn_app().await;
    let (ada, bob, cat) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cat").await);
    let (_, project) = team_with(&app, &ada, &[&bob, &cat]).await;
    let task = ok(
        &call(&app, &bob, Method::POST, &format!("/api/v1/projects/{project}/tasks"), Some(json!({"title": "t"})))
            .await,
        201,
    );
    let comments = format!("/api/v1/projects/{project}/tasks/{}/comments", task["id"].as_str().unwrap());
    let first = ok(&call(&app, &bob, Method::POST, &comments, Some(json!({"body": "one"}))).await, 201);
    let second = ok(&call(&app, &cat, Method::POST, &comments, Some(json!({"body": "two"}))).await, 201);
    let one = format!("{comments}/{}", first["id"].as_str().unwrap());
    let two = format!("{comments}/{}", second["id"].as_str().unwrap());
    call(&app, &cat, Method::PATCH, &one, Some(json!({"body": "mine now"}))).await.problem(403);
    call(&app, &ada, Method::PATCH, &one, Some(json!({"body": "admin edit"}))).await.problem(403);
    assert_eq!(
        ok(&call(&app, &bob, Method::PATCH, &one, Some(json!({"body": " edited "}))).await, 200)["body"],
        "edited"
    );
    call(&app, &bob, Method::DELETE, &two, None).await.problem(403);
    ok(&call(&app, &ada, Method::DELETE, &two, None).await, 204);
    let list = ok(&call(&app, &cat, Method::GET, &comments, None).await, 200);
    let bodies: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["edited"]);
    call(&app, &bob, Method::POST, &comments, Some(json!({"body": "  "}))).await.problem(422);
}

/// Pages through `path` (a task list) with `limit=3`, returning the ids in order.
async fn all_pages(app: &TestApp, who: &User, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=3&cursor={c}"),
            None => format!("{path}{sep}limit=3"),
        };
        let page = ok(&call(app, who, Method::GET, &url, None).await, 200);
        ids.extend(page["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
}

#[actix_rt::test]
async fn task_lists_filter_and_page_in_every_order() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let (team, project) = team_with(&app, &ada, &[&bob]).await;
    let other = ok(
        &call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team}/projects"), Some(json!({"name": "Two"}))).await,
        201,
    );
    let other = other["id"].as_str().unwrap().to_string();
    let statuses = ["todo", "in_progress", "done"];
    let priorities = ["low", "medium", "high", "urgent"];
    let mut all: Vec<Value> = Vec::new();
    for i in 0..14usize {
        let mut body = json!({"title": format!("Task {:02}", (i * 5) % 14), "status": statuses[i % 3], "priority": priorities[i % 4]});
        if i % 2 == 0 {
            body["due_date"] = json!(format!("2026-12-{:02}", 1 + (i * 7) % 20));
        }
        if i % 3 == 0 {
            body["assignee_id"] = json!(bob.id);
        }
        let p = if i % 4 == 0 { &other } else { &project };
        all.push(ok(&call(&app, &ada, Method::POST, &format!("/api/v1/projects/{p}/tasks"), Some(body)).await, 201));
    }
    let team_tasks = format!("/api/v1/teams/{team}/tasks");
    for sort in ["created_at", "updated_at", "due_date", "priority", "status", "title"] {
        for spelled in [sort.to_string(), format!("-{sort}")] {
            let ids = all_pages(&app, &ada, &format!("{team_tasks}?sort={spelled}")).await;
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!((ids.len(), unique.len()), (14, 14), "sort={spelled}: every task exactly once");
        }
    }
    let rank = |v: &Value, names: &[&str]| names.iter().position(|n| v == n).unwrap();
    let urgent_first = all_pages(&app, &ada, &format!("{team_tasks}?sort=-priority")).await;
    let by_id = |id: &String| all.iter().find(|t| t["id"] == json!(id)).unwrap().clone();
    let ranks: Vec<usize> = urgent_first.iter().map(|id| rank(&by_id(id)["priority"], &priorities)).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "priority by rank, not alphabet: {ranks:?}");
    // Filters.
    let filtered =
        all_pages(&app, &ada, &format!("{team_tasks}?status=todo,in_progress&priority=high,urgent&sort=due_date"))
            .await;
    let expected: Vec<&Value> = all
        .iter()
        .filter(|t| t["status"] != "done" && (t["priority"] == "high" || t["priority"] == "urgent"))
        .collect();
    assert_eq!(filtered.len(), expected.len());
    let mine = all_pages(&app, &bob, &format!("{team_tasks}?assignee=me&sort=-priority")).await;
    assert_eq!(mine.len(), all.iter().filter(|t| t["assignee"]["id"] == json!(bob.id)).count());
    let nobody = all_pages(&app, &ada, &format!("{team_tasks}?assignee=none")).await;
    assert_eq!(nobody.len() + mine.len(), 14);
    let in_other = all_pages(&app, &ada, &format!("{team_tasks}?project_id={other}")).await;
    assert_eq!(in_other.len(), all.iter().filter(|t| t["project_id"] == json!(other)).count());
    let in_project = all_pages(&app, &ada, &format!("/api/v1/projects/{project}/tasks?sort=title")).await;
    assert_eq!(in_project.len() + in_other.len(), 14);
    let found = all_pages(&app, &ada, &format!("{team_tasks}?q=task%2003")).await;
    assert!(!found.is_empty());
    let res =
        call(&app, &ada, Method::GET, &format!("{team_tasks}?status=open&priority=High&assignee=him&sort=rank"), None)
            .await;
    assert_eq!(res.error_fields(), ["sort", "status", "priority", "assignee"]);
    // Only the team list filters by project; a project's own list does not take it.
    let res =
        call(&app, &ada, Method::GET, &format!("/api/v1/projects/{project}/tasks?project_id={other}"), None).await;
    assert_eq!(res.error_fields(), ["project_id"]);
}

/// Reads server-sent events from `res` until `n` have arrived (comments skipped).
pub(crate) async fn next_events(
    res: &mut awc::ClientResponse<
        impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
    >,
    buf: &mut String,
    n: usize,
) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(crate::helpers::take_events(buf));
        if out.len() >= n {
            break;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.next()).await.expect("event in time");
        match chunk {
            Some(Ok(bytes)) => buf.push_str(std::str::from_utf8(&bytes).unwrap()),
            _ => break,
        }
    }
    out
}

#[actix_rt::test]
async fn members_watch_the_team_live_and_a_removed_member_s_stream_ends() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let (team, project) = team_with(&app, &ada, &[&bob]).await;
    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    // Bob's browser: a ticket, then the stream (no bearer token in the URL).
    let ticket = ok(&call(&app, &bob, Method::POST, "/api/v1/auth/stream-tickets", None).await, 200);
    let url = format!("{}/api/v1/teams/{team}/events?ticket={}", app.base, ticket["ticket"].as_str().unwrap());
    let mut stream = client.get(&url).insert_header(("accept", "text/event-stream")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let created = ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "live"}))).await, 201);
    let mut buf = String::new();
    let got = next_events(&mut stream, &mut buf, 1).await;
    assert_eq!(got[0].1, "task.created");
    assert_eq!(got[0].2["task_id"], created["id"]);
    let first_id = got[0].0.clone();

    // Missed while away: Last-Event-ID replays, then live, no gaps, no repeats.
    drop(stream);
    let path = format!("{tasks}/{}", created["id"].as_str().unwrap());
    ok(&call(&app, &ada, Method::PATCH, &path, Some(json!({"status": "done"}))).await, 200);
    let url = format!("{}/api/v1/teams/{team}/events", app.base);
    let mut stream = client
        .get(&url)
        .insert_header(("authorization", bob.bearer.as_str()))
        .insert_header(("last-event-id", first_id.as_str()))
        .send()
        .await
        .unwrap();
    ok(&call(&app, &ada, Method::PATCH, &path, Some(json!({"priority": "low"}))).await, 200);
    let mut buf = String::new();
    let got = next_events(&mut stream, &mut buf, 2).await;
    let actions: Vec<&str> = got.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(actions, ["task.status_changed", "task.updated"]);
    assert!(got[0].0 > first_id && got[1].0 > got[0].0, "ids increase");

    // Removing Bob ends his stream after telling him.
    ok(&call(&app, &ada, Method::DELETE, &format!("/api/v1/teams/{team}/members/{}", bob.id), None).await, 204);
    let got = next_events(&mut stream, &mut buf, 1).await;
    assert_eq!(got[0].1, "member.removed");
    let end =
        tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = stream.next().await {} }).await;
    assert!(end.is_ok(), "the removed member's stream ended");
    // And he cannot open a new one.
    let res = client.get(&url).insert_header(("authorization", bob.bearer.as_str())).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[actix_rt::test]
async fn head_of_the_event_stream_answers_its_headers_and_ends() {
    let app = spawn_app().await;
    let ada = user(&app, "AdaHead").await;
    let (team, _) = team_with(&app, &ada, &[]).await;
    let path = format!("/api/v1/teams/{team}/events");
    // The GET streams until the caller leaves; a HEAD must not hold the connection.
    let res = actix_rt::time::timeout(Duration::from_secs(5), call(&app, &ada, Method::HEAD, &path, None))
        .await
        .expect("HEAD of the stream answers at once");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type").as_deref(), Some("text/event-stream"));
    assert!(res.body.is_empty());
}

#[actix_rt::test]
async fn the_activity_of_an_unknown_task_is_404_and_a_deleted_task_keeps_its_history() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let (_, project) = team_with(&app, &ada, &[]).await;
    let (_, other_project) = team_with(&app, &ada, &[]).await;
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let task = ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "t"}))).await, 201);
    let path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    // Unknown everywhere, like its comments.
    let unknown = format!("{tasks}/{}", uuid::Uuid::now_v7());
    call(&app, &ada, Method::GET, &format!("{unknown}/activity"), None).await.problem(404);
    call(&app, &ada, Method::GET, &format!("{unknown}/comments"), None).await.problem(404);
    // A task of this project is unknown under another project of the caller's.
    let elsewhere = format!("/api/v1/projects/{other_project}/tasks/{}/activity", task["id"].as_str().unwrap());
    call(&app, &ada, Method::GET, &elsewhere, None).await.problem(404);
    // Deleted: the comments are gone, the history stays.
    ok(&call(&app, &ada, Method::DELETE, &path, None).await, 204);
    call(&app, &ada, Method::GET, &format!("{path}/comments"), None).await.problem(404);
    let history = ok(&call(&app, &ada, Method::GET, &format!("{path}/activity"), None).await, 200);
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["task.deleted", "task.created"]);
}
