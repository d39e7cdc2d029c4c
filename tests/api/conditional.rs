//! Conditional requests over HTTP: `version` and `ETag` on every single note and task,
//! `If-Match` on PATCH and DELETE (412 with the current version when stale, nothing
//! changed), `If-None-Match` on GET (304), and `HEAD` wherever `GET` works.

#![allow(clippy::unwrap_used)]

use actix_web::http::Method;
use gateway::NotesStore;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Response, TestApp};

/// A versioned resource kind: its collection, a creation body and a change body.
struct Kind {
    collection: &'static str,
    create: Value,
    change: fn(usize) -> Value,
    field: &'static str,
}

fn notes() -> Kind {
    Kind {
        collection: "/api/v1/notes",
        create: json!({"content": "v1"}),
        change: |n| json!({"content": format!("v{n}")}),
        field: "content",
    }
}

fn tasks() -> Kind {
    Kind {
        collection: "/api/v1/tasks",
        create: json!({"title": "v1"}),
        change: |n| json!({"title": format!("v{n}")}),
        field: "title",
    }
}

fn etag(res: &Response) -> String {
    res.header("etag").unwrap_or_else(|| panic!("{} without ETag", res.status))
}

async fn send(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Response {
    app.as_user(None, method, path, headers, body).await
}

/// The whole conditional life of one resource, anonymous or logged in.
async fn conditional_writes(app: &TestApp, kind: &Kind, authorization: Option<&str>) {
    let call = |method: Method, path: String, headers: Vec<(&'static str, &'static str)>, body: Option<Value>| async move {
        app.as_user(authorization, method, &path, &headers, body.as_ref()).await
    };
    let created = call(Method::POST, kind.collection.to_string(), vec![], Some(kind.create.clone())).await;
    assert_eq!((created.status, etag(&created).as_str()), (201, "\"1\""));
    assert_eq!(created.json()["version"], 1);
    let path = created.header("location").unwrap();

    let got = call(Method::GET, path.clone(), vec![], None).await;
    assert_eq!((got.status, etag(&got).as_str()), (200, "\"1\""));
    assert_eq!(got.json(), created.json());

    // If-None-Match: 304 with the ETag and no body while current (weak tags and lists too).
    for tag in ["\"1\"", "W/\"1\"", "\"7\", \"1\"", "*"] {
        let cached = call(Method::GET, path.clone(), vec![("if-none-match", tag)], None).await;
        assert_eq!((cached.status, etag(&cached).as_str(), cached.body.len()), (304, "\"1\"", 0), "{tag}");
    }
    assert_eq!(call(Method::GET, path.clone(), vec![("if-none-match", "\"2\"")], None).await.status, 200);

    // HEAD: GET's status and headers, no body.
    let head = call(Method::HEAD, path.clone(), vec![], None).await;
    assert_eq!((head.status, etag(&head).as_str(), head.body.len()), (200, "\"1\"", 0));
    assert_eq!(head.header("content-length"), Some(got.body.len().to_string()));
    assert_eq!(head.header("content-type"), got.header("content-type"));
    let head_cached = call(Method::HEAD, path.clone(), vec![("if-none-match", "\"1\"")], None).await;
    assert_eq!((head_cached.status, head_cached.body.len()), (304, 0));

    // A matching If-Match writes and moves the version.
    let v2 = call(Method::PATCH, path.clone(), vec![("if-match", "\"1\"")], Some((kind.change)(2))).await;
    assert_eq!((v2.status, etag(&v2).as_str()), (200, "\"2\""), "{}", String::from_utf8_lossy(&v2.body));
    assert_eq!((v2.json()["version"].as_i64(), v2.json()[kind.field].as_str()), (Some(2), Some("v2")));

    // A stale one changes nothing: 412 naming the current version, for PATCH and DELETE.
    let stale = call(Method::PATCH, path.clone(), vec![("if-match", "\"1\"")], Some((kind.change)(99))).await;
    let problem = stale.problem(412);
    assert_eq!(
        (problem["current_version"].as_i64(), problem["type"].as_str()),
        (Some(2), Some("/problems/precondition-failed"))
    );
    let stale_delete = call(Method::DELETE, path.clone(), vec![("if-match", "\"1\"")], None).await;
    assert_eq!(stale_delete.problem(412)["current_version"], 2);
    for garbage in ["\"abc\"", "3", "\"\""] {
        call(Method::PATCH, path.clone(), vec![("if-match", garbage)], Some((kind.change)(98))).await.problem(412);
    }
    let after = call(Method::GET, path.clone(), vec![], None).await;
    assert_eq!(after.json(), v2.json(), "the stale writes changed nothing");

    // W/"2" counts as version 2; `*` matches any; no If-Match is unconditional.
    let v3 = call(Method::PATCH, path.clone(), vec![("if-match", "W/\"2\"")], Some((kind.change)(3))).await;
    assert_eq!(etag(&v3), "\"3\"");
    let v4 = call(Method::PATCH, path.clone(), vec![("if-match", "*")], Some((kind.change)(4))).await;
    assert_eq!(etag(&v4), "\"4\"");
    let same = call(Method::PATCH, path.clone(), vec![("if-match", "\"4\"")], Some((kind.change)(4))).await;
    assert_eq!((same.status, etag(&same).as_str()), (200, "\"4\""), "the same values are no new version");
    let v5 = call(Method::PATCH, path.clone(), vec![], Some((kind.change)(5))).await;
    assert_eq!((v5.status, v5.json()["version"].as_i64()), (200, Some(5)));

    // DELETE with the current version; afterwards the id is unknown (404, not 412).
    assert_eq!(call(Method::DELETE, path.clone(), vec![("if-match", "\"5\"")], None).await.status, 204);
    call(Method::GET, path.clone(), vec![], None).await.problem(404);
    call(Method::DELETE, path.clone(), vec![("if-match", "*")], None).await.problem(404);
    call(Method::PATCH, path.clone(), vec![("if-match", "\"5\"")], Some((kind.change)(6))).await.problem(404);
}

#[actix_rt::test]
async fn notes_honour_if_match_and_if_none_match_in_both_stores() {
    for store in [NotesStore::Memory, NotesStore::Sqlite] {
        let app = spawn_app_with(store).await;
        conditional_writes(&app, &notes(), None).await;
        let ada = app.bearer_for("ada@example.com").await;
        conditional_writes(&app, &notes(), Some(&ada)).await;
    }
}

#[actix_rt::test]
async fn tasks_honour_if_match_and_if_none_match() {
    let app = spawn_app().await;
    conditional_writes(&app, &tasks(), None).await;
    let ada = app.bearer_for("ada@example.com").await;
    conditional_writes(&app, &tasks(), Some(&ada)).await;
}

#[actix_rt::test]
async fn concurrent_conditional_writes_have_exactly_one_winner() {
    let app = spawn_app().await;
    for kind in [notes(), tasks()] {
        let created = send(&app, Method::POST, kind.collection, &[], Some(&kind.create)).await;
        let path = created.header("location").unwrap();
        let attempts = (0..16).map(|n| {
            let (app, path, body) = (&app, path.clone(), (kind.change)(100 + n));
            async move { send(app, Method::PATCH, &path, &[("if-match", "\"1\"")], Some(&body)).await.status }
        });
        let mut statuses = futures_util::future::join_all(attempts).await;
        statuses.sort();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
        assert_eq!(send(&app, Method::GET, &path, &[], None).await.json()["version"], 2);
    }
}

#[actix_rt::test]
async fn head_works_wherever_get_does() {
    let app = spawn_app().await;
    let ada = app.bearer_for("ada@example.com").await;
    let me = app.as_user(Some(&ada), Method::GET, "/api/v1/users/me", &[], None).await.json();
    app.post_json("/api/v1/notes", &json!({"content": "x"})).await;
    app.post_json("/api/v1/tasks", &json!({"title": "x"})).await;
    let profile = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
    for path in
        ["/api/v1/notes", "/api/v1/tasks?sort=title", "/api/v1/tasks/stats", "/api/v1/users/me", &profile, "/healthz"]
    {
        let get = app.as_user(Some(&ada), Method::GET, path, &[], None).await;
        let head = app.as_user(Some(&ada), Method::HEAD, path, &[], None).await;
        assert_eq!((get.status, head.status), (200, 200), "{path}");
        assert!(head.body.is_empty(), "{path}");
        for header in ["content-type", "content-length"] {
            assert_eq!(head.header(header), get.header(header), "{path} {header}");
        }
        assert!(head.header("x-request-id").is_some());
    }
    // The anonymous board's list, and the rules of GET, hold for HEAD too.
    assert_eq!(app.request(Method::HEAD, "/api/v1/notes?limit=0", &[], None).await.status, 422);
    assert_eq!(app.request(Method::HEAD, "/api/v1/notes?colour=red", &[], None).await.status, 422);
    assert_eq!(app.request(Method::HEAD, "/api/v1/users/me", &[], None).await.status, 401);
    let missing = app.request(Method::HEAD, &format!("/api/v1/tasks/{}", uuid::Uuid::now_v7()), &[], None).await;
    assert_eq!((missing.status, missing.body.len()), (404, 0));
    // A path without GET: 405 naming HEAD, with Allow.
    let login = app.request(Method::HEAD, "/api/v1/auth/login", &[], None).await;
    assert_eq!((login.status, login.header("allow").as_deref()), (405, Some("POST")));
    let notes = app.request(Method::PUT, "/api/v1/notes", &[], None).await;
    assert!(notes.problem(405)["detail"].as_str().unwrap().starts_with("PUT "));
}

#[actix_rt::test]
async fn openapi_documents_versions_conditions_and_head() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let problem = "#/components/schemas/Problem";
    for resource in ["/api/v1/notes/{id}", "/api/v1/tasks/{id}"] {
        let item = &doc["paths"][resource];
        let param_names = |method: &str| -> Vec<String> {
            item[method]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(param_names("get").contains(&"If-None-Match".to_string()), "{resource}");
        assert!(item["get"]["responses"]["200"]["headers"]["ETag"].is_object(), "{resource}");
        assert!(item["get"]["responses"]["304"]["headers"]["ETag"].is_object(), "{resource}");
        for method in ["patch", "delete"] {
            assert!(param_names(method).contains(&"If-Match".to_string()), "{method} {resource}");
            let stale = &item[method]["responses"]["412"]["content"]["application/problem+json"];
            assert_eq!(stale["schema"]["$ref"], problem, "{method} {resource}");
        }
        assert!(item["patch"]["responses"]["200"]["headers"]["ETag"].is_object());
        let head = &item["head"];
        assert!(head["responses"]["200"].is_object() && head["responses"]["200"].get("content").is_none(), "{head}");
    }
    for collection in ["/api/v1/notes", "/api/v1/tasks", "/api/v1/tasks/stats", "/api/v1/users/me"] {
        assert!(doc["paths"][collection]["head"].is_object(), "HEAD {collection} undocumented");
    }
    assert!(doc["paths"]["/api/v1/auth/login"].get("head").is_none());
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["Problem"]["properties"]["current_version"].is_object());
    for schema in ["Note", "Task"] {
        let required: Vec<&str> =
            schemas[schema]["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert!(required.contains(&"version"), "{schema}.version is always sent");
    }
    assert!(doc["paths"]["/api/v1/notes"]["post"]["responses"]["201"]["headers"]["ETag"].is_object());
}
