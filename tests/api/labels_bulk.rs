//! Labels and bulk changes over HTTP: a team's labels (409 for a name in another case,
//! 404 for strangers, ETags), labels on tasks and the `label` filter, `PATCH
//! /projects/{id}/tasks` all or nothing, and their OpenAPI description.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, spawn_app, user};
use crate::projects::{activity, call, call_with, next_events, team_with};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn label_names(task: &Value) -> Vec<&str> {
    task["labels"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect()
}

#[actix_rt::test]
async fn labels_on_tasks_the_label_filter_and_bulk_changes() {
    let app = spawn_app().await;
    let (ada, bob, eve) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Eve").await);
    let (team, project) = team_with(&app, &ada, &[&bob]).await;
    let labels = format!("/api/v1/teams/{team}/labels");
    let res = call(&app, &bob, Method::POST, &labels, Some(json!({"name": " Bug ", "color": "#D73A4A"}))).await;
    let bug = ok(&res, 201);
    assert_eq!((bug["name"].as_str(), bug["color"].as_str()), (Some("Bug"), Some("#d73a4a")));
    let bug_path = res.header("location").unwrap();
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let res = call(&app, &ada, Method::POST, &labels, Some(json!({"name": "bug", "color": "#000000"}))).await;
    res.problem(409);
    let res = call(&app, &ada, Method::POST, &labels, Some(json!({"name": "", "color": "blue"}))).await;
    assert_eq!(res.error_fields(), ["name", "color"]);
    let ui =
        id(&ok(&call(&app, &ada, Method::POST, &labels, Some(json!({"name": "api", "color": "#00ff00"}))).await, 201));
    let names: Vec<Value> = ok(&call(&app, &ada, Method::GET, &labels, None).await, 200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    assert_eq!(names, ["api", "Bug"]);
    // Strangers: 404 for the team's labels and for one label.
    call(&app, &eve, Method::GET, &labels, None).await.problem(404);
    call(&app, &eve, Method::PATCH, &bug_path, Some(json!({"color": "#111111"}))).await.problem(404);
    let stale =
        call_with(&app, &ada, Method::PATCH, &bug_path, Some(json!({"color": "#111111"})), &[("if-match", "\"7\"")]);
    stale.await.problem(412);

    // Labels on tasks; another team's label is 422 naming `label_ids`.
    let (eves_team, _) = team_with(&app, &eve, &[]).await;
    let eves_labels = format!("/api/v1/teams/{eves_team}/labels");
    let foreign = id(&ok(
        &call(&app, &eve, Method::POST, &eves_labels, Some(json!({"name": "x", "color": "#000000"}))).await,
        201,
    ));
    let tasks = format!("/api/v1/projects/{project}/tasks");
    let res = call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "t", "label_ids": [foreign]}))).await;
    assert_eq!(res.error_fields(), ["label_ids"]);
    let mut ids = Vec::new();
    for (title, with) in [("one", vec![id(&bug)]), ("two", vec![id(&bug), ui.clone()]), ("three", vec![])] {
        let task =
            ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": title, "label_ids": with}))).await, 201);
        ids.push(id(&task));
    }
    let titles = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect()
    };
    let both = format!("{},{ui}", id(&bug));
    for path in [
        format!("{tasks}?label={both}"),
        format!("/api/v1/teams/{team}/tasks?label={both}"),
        format!("/api/v1/me/tasks?label={both}"),
    ] {
        let page = ok(&call(&app, &ada, Method::GET, &path, None).await, 200);
        assert_eq!(titles(&page), ["two"], "{path}");
        assert_eq!(label_names(&page["items"][0]), ["api", "Bug"]);
    }
    let res = call(&app, &ada, Method::GET, &format!("{tasks}?label={ui},nope"), None).await;
    assert_eq!(res.error_fields(), ["label"]);

    // Bulk: all or nothing, in the order of `ids`, each task with its own entries.
    let before = activity(&app, &ada, &team).await.len();
    let unknown = uuid::Uuid::now_v7().to_string();
    let body = json!({"ids": [ids[0], unknown, ids[2]], "changes": {"status": "done", "add_label_ids": [ui]}});
    let problem = call(&app, &bob, Method::PATCH, &tasks, Some(body)).await.problem(404);
    assert!(problem["detail"].as_str().unwrap().contains(&unknown), "{problem}");
    let bad =
        json!({"ids": [ids[0], ids[0]], "changes": {"status": "someday", "label_ids": [ui], "remove_label_ids": [ui]}});
    let fields = call(&app, &bob, Method::PATCH, &tasks, Some(bad)).await.error_fields();
    assert_eq!(fields, ["ids[1]", "changes.status", "changes.label_ids"]);
    assert_eq!(activity(&app, &ada, &team).await.len(), before);
    // A member watching the team live sees each task's entries, in commit order.
    let client = awc::Client::builder().timeout(std::time::Duration::from_secs(30)).finish();
    let events = format!("{}/api/v1/teams/{team}/events", app.base);
    let mut stream = client.get(&events).insert_header(("authorization", ada.bearer.as_str())).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let body = json!({"ids": [ids[2], ids[0]], "changes": {"status": "done", "add_label_ids": [ui]}});
    let changed = ok(&call(&app, &bob, Method::PATCH, &tasks, Some(body)).await, 200);
    let live = next_events(&mut stream, &mut String::new(), 4).await;
    let live: Vec<(&str, &str)> =
        live.iter().map(|(_, action, entry)| (action.as_str(), entry["task_id"].as_str().unwrap())).collect();
    let in_commit_order = [
        ("task.status_changed", ids[2].as_str()),
        ("task.labeled", ids[2].as_str()),
        ("task.status_changed", ids[0].as_str()),
        ("task.labeled", ids[0].as_str()),
    ];
    assert_eq!(live, in_commit_order);
    drop(stream);
    let changed = changed.as_array().unwrap();
    assert_eq!(changed.iter().map(id).collect::<Vec<_>>(), [ids[2].clone(), ids[0].clone()]);
    assert!(changed.iter().all(|t| t["status"] == "done" && t["version"] == 2));
    assert_eq!(label_names(&changed[1]), ["api", "Bug"]);
    let entries = activity(&app, &ada, &team).await;
    let new: Vec<(&str, &str)> = entries[..entries.len() - before]
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["task_id"].as_str().unwrap()))
        .collect();
    let expected = [
        ("task.labeled", ids[0].as_str()),
        ("task.status_changed", ids[0].as_str()),
        ("task.labeled", ids[2].as_str()),
        ("task.status_changed", ids[2].as_str()),
    ];
    assert_eq!(new, expected);
    assert_eq!(entries[0]["details"]["labels"][0]["name"], "api");

    // Deleting a label takes it off its tasks.
    ok(&call(&app, &ada, Method::DELETE, &bug_path, None).await, 204);
    let task = ok(&call(&app, &ada, Method::GET, &format!("{tasks}/{}", ids[1]), None).await, 200);
    assert_eq!(label_names(&task), ["api"]);
    // An archived project: 409 for bulk changes.
    ok(
        &call(&app, &ada, Method::PATCH, &format!("/api/v1/projects/{project}"), Some(json!({"archived": true}))).await,
        200,
    );
    let body = json!({"ids": [ids[0]], "changes": {"priority": "high"}});
    call(&app, &bob, Method::PATCH, &tasks, Some(body)).await.problem(409);
}

#[actix_rt::test]
async fn the_openapi_document_types_labels_and_bulk_changes() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["ProjectTask"]["properties"]["labels"]["items"]["$ref"], "#/components/schemas/TaskLabel");
    assert!(schemas["ProjectTask"]["required"].as_array().unwrap().contains(&json!("labels")));
    for name in ["Label", "NewLabel", "LabelChanges", "BulkTaskChanges", "BulkTaskFields"] {
        assert!(schemas[name].is_object(), "{name}");
    }
    assert_eq!(schemas["BulkTaskChanges"]["properties"]["ids"]["maxItems"], 200);
    let bulk = &doc["paths"]["/api/v1/projects/{id}/tasks"]["patch"];
    for status in ["200", "404", "409", "422"] {
        assert!(bulk["responses"][status].is_object(), "{status}");
    }
    let label = doc["paths"]["/api/v1/teams/{id}/tasks"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "label")
        .unwrap()
        .clone();
    assert_eq!((label["style"].as_str(), label["explode"].as_bool()), (Some("form"), Some(false)));
    assert_eq!(label["schema"]["items"]["format"], "uuid");
    for path in ["/api/v1/teams/{id}/labels", "/api/v1/labels/{id}"] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    let actions = &schemas["ActivityAction"]["enum"];
    for action in ["task.labeled", "task.unlabeled", "label.created", "label.updated", "label.deleted"] {
        assert!(actions.as_array().unwrap().contains(&json!(action)), "{action}");
    }
}
