//! Rows without a sort value come last whatever the direction (API section 1): undated
//! project and freelancer tasks, untitled notes; paging crosses the boundary between rows
//! with and without a value in both directions without skips or repeats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, send, spawn_app, user, Response, TestApp, User};

async fn call(app: &TestApp, who: Option<&User>, method: Method, path: &str, body: Option<Value>) -> Response {
    let headers: Vec<(&str, &str)> = who.map(|u| ("authorization", u.bearer.as_str())).into_iter().collect();
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(&app.base, method, path, &headers, body).await
}

/// Every page of `path` at each page size 1..=3, checked to give the same list; returns
/// the `field` of each item.
async fn paged(app: &TestApp, who: Option<&User>, path: &str, field: &str) -> Vec<Value> {
    let mut whole: Option<Vec<Value>> = None;
    for limit in 1..=3 {
        let mut out = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}&limit={limit}&cursor={c}"),
                None => format!("{path}&limit={limit}"),
            };
            let page = ok(&call(app, who, Method::GET, &url, None).await, 200);
            out.extend(page["items"].as_array().unwrap().iter().map(|i| i[field].clone()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        if let Some(whole) = &whole {
            assert_eq!(&out, whole, "{path} by {limit}");
        }
        whole = Some(out);
    }
    whole.unwrap()
}

fn s(values: &[Option<&str>]) -> Vec<Value> {
    values.iter().map(|v| v.map_or(Value::Null, |v| json!(v))).collect()
}

#[actix_rt::test]
async fn undated_project_tasks_come_last_in_both_directions() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let team = ok(&call(&app, Some(&ada), Method::POST, "/api/v1/teams", Some(json!({"name": "T"}))).await, 201);
    let team_id = team["id"].as_str().unwrap();
    let path = format!("/api/v1/teams/{team_id}/projects");
    let project = ok(&call(&app, Some(&ada), Method::POST, &path, Some(json!({"name": "P"}))).await, 201);
    let project_id = project["id"].as_str().unwrap();
    for due in [Some("2026-03-01"), None, Some("2026-01-01"), None, Some("2026-02-01")] {
        let body = json!({"title": "t", "due_date": due, "assignee_id": ada.id});
        let path = format!("/api/v1/projects/{project_id}/tasks");
        ok(&call(&app, Some(&ada), Method::POST, &path, Some(body)).await, 201);
    }
    let ascending = s(&[Some("2026-01-01"), Some("2026-02-01"), Some("2026-03-01"), None, None]);
    let descending = s(&[Some("2026-03-01"), Some("2026-02-01"), Some("2026-01-01"), None, None]);
    for list in [
        format!("/api/v1/projects/{project_id}/tasks?x=1"),
        format!("/api/v1/teams/{team_id}/tasks?x=1"),
        format!("/api/v1/teams/{team_id}/tasks?assignee=me"),
        "/api/v1/me/tasks?x=1".to_string(),
        "/api/v1/me/tasks?assignee=me".to_string(),
    ] {
        let list = list.replace("?x=1", "?status=todo");
        assert_eq!(paged(&app, Some(&ada), &format!("{list}&sort=due_date"), "due_date").await, ascending, "{list}");
        assert_eq!(paged(&app, Some(&ada), &format!("{list}&sort=-due_date"), "due_date").await, descending, "{list}");
        // Date filters never let undated tasks in, whichever direction.
        let ranged = format!("{list}&sort=-due_date&due_to=2026-02-15");
        assert_eq!(paged(&app, Some(&ada), &ranged, "due_date").await, s(&[Some("2026-02-01"), Some("2026-01-01")]));
        let overdue = format!("{list}&sort=-due_date&overdue=true");
        assert_eq!(paged(&app, Some(&ada), &overdue, "due_date").await.len(), 3, "{list}");
        // Behind another key too.
        let two = format!("{list}&sort=-priority,-due_date");
        assert_eq!(paged(&app, Some(&ada), &two, "due_date").await, descending, "{list}");
    }
}

#[actix_rt::test]
async fn undated_freelancer_tasks_come_last_in_both_directions() {
    let app = spawn_app().await;
    for due in [None, Some("2026-03-01"), None, Some("2026-01-01"), Some("2026-02-01")] {
        ok(&call(&app, None, Method::POST, "/api/v1/tasks", Some(json!({"title": "t", "due_date": due}))).await, 201);
    }
    let ascending = s(&[Some("2026-01-01"), Some("2026-02-01"), Some("2026-03-01"), None, None]);
    let descending = s(&[Some("2026-03-01"), Some("2026-02-01"), Some("2026-01-01"), None, None]);
    assert_eq!(paged(&app, None, "/api/v1/tasks?sort=due_date", "due_date").await, ascending);
    assert_eq!(paged(&app, None, "/api/v1/tasks?sort=-due_date", "due_date").await, descending);
    assert_eq!(paged(&app, None, "/api/v1/tasks?sort=status,-due_date", "due_date").await, descending);
    let undated = paged(&app, None, "/api/v1/tasks?sort=-due_date&has_due_date=false", "due_date").await;
    assert_eq!(undated, s(&[None, None]));
    let ranged = paged(&app, None, "/api/v1/tasks?sort=-due_date&due_to=2026-02-15", "due_date").await;
    assert_eq!(ranged, s(&[Some("2026-02-01"), Some("2026-01-01")]));
}

#[actix_rt::test]
async fn untitled_notes_come_last_in_both_directions() {
    let app = spawn_app().await;
    for title in [Some("b"), None, Some("a"), None, Some("c")] {
        let body = json!({"title": title, "content": "x"});
        ok(&call(&app, None, Method::POST, "/api/v1/notes", Some(body)).await, 201);
    }
    let ascending = s(&[Some("a"), Some("b"), Some("c"), None, None]);
    let descending = s(&[Some("c"), Some("b"), Some("a"), None, None]);
    assert_eq!(paged(&app, None, "/api/v1/notes?sort=title", "title").await, ascending);
    assert_eq!(paged(&app, None, "/api/v1/notes?sort=-title", "title").await, descending);
}

#[actix_rt::test]
async fn unrated_challenges_come_last_in_both_directions() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let base = "/api/v1/learning";
    for (title, stars) in [("none-1", None), ("three", Some(3)), ("none-2", None), ("five", Some(5)), ("one", Some(1))]
    {
        let body = json!({"title": title, "difficulty": "beginner", "topic": "rust", "tags": ["x"]});
        let c = ok(&call(&app, Some(&ada), Method::POST, &format!("{base}/challenges"), Some(body)).await, 201);
        if let Some(stars) = stars {
            let id = c["id"].as_str().unwrap();
            let (done, rated) =
                (format!("{base}/challenges/{id}/completion"), format!("{base}/challenges/{id}/rating"));
            assert!(call(&app, Some(&bob), Method::PUT, &done, Some(json!({}))).await.status < 300);
            assert!(call(&app, Some(&bob), Method::PUT, &rated, Some(json!({"stars": stars}))).await.status < 300);
        }
    }
    let titles = |v: Vec<Value>| v.into_iter().map(|t| t.as_str().unwrap().to_string()).collect::<Vec<_>>();
    for filter in ["", "&topic=rust", "&difficulty=beginner", "&tag=x"] {
        let up = titles(paged(&app, Some(&ada), &format!("{base}/challenges?sort=rating{filter}"), "title").await);
        assert_eq!(&up[..3], ["one", "three", "five"], "{filter}: {up:?}");
        let down = titles(paged(&app, Some(&ada), &format!("{base}/challenges?sort=-rating{filter}"), "title").await);
        assert_eq!(&down[..3], ["five", "three", "one"], "{filter}: {down:?}");
        assert!(up[3..].iter().chain(&down[3..]).all(|t| t.starts_with("none")), "{up:?} {down:?}");
    }
}
