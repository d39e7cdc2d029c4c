//! What every client relies on beyond the domains: health, docs, errors, process life.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use actix_web::http::Method;

use crate::helpers::{spawn_app, ProcessApp};

#[actix_rt::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!((health.status, health.json()["status"].as_str()), (200, Some("ok")));
    let ready = app.get("/readyz").await;
    assert_eq!((ready.status, ready.json()["status"].as_str()), (200, Some("ready")));
}

#[actix_rt::test]
async fn openapi_describes_every_route_schema_and_error() {
    let app = spawn_app().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/healthz", &["get"][..]),
        ("/readyz", &["get"]),
        ("/api/v1/notes", &["get", "post"]),
        ("/api/v1/notes/{id}", &["get", "patch", "delete"]),
        ("/api/v1/tasks", &["get", "post"]),
        ("/api/v1/tasks/{id}", &["get", "patch", "delete"]),
        ("/api/v1/tasks/stats", &["get"]),
        ("/api/v1/auth/register", &["post"]),
        ("/api/v1/auth/login", &["post"]),
        ("/api/v1/auth/logout", &["post"]),
        ("/api/v1/users/me", &["get"]),
        ("/api/v1/users/{id}", &["get"]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path} missing from OpenAPI");
        }
    }
    for schema in ["Note", "NewNote", "NoteChanges", "Problem", "FieldError"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
    assert!(paths["/api/v1/notes"]["post"]["responses"]["201"].is_object());
    // Every endpoint that reads a JSON body documents its body errors as problem documents.
    for (path, method) in [
        ("/api/v1/notes", "post"),
        ("/api/v1/notes/{id}", "patch"),
        ("/api/v1/tasks", "post"),
        ("/api/v1/tasks/{id}", "patch"),
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
    ] {
        let responses = &paths[path][method]["responses"];
        for status in ["400", "413", "415", "422"] {
            let problem = &responses[status]["content"]["application/problem+json"]["schema"]["$ref"];
            assert_eq!(problem, "#/components/schemas/Problem", "{method} {path} {status}");
        }
    }
}

#[actix_rt::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("swagger-ui"), "{html}");
    let init = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status, 200);
    assert!(String::from_utf8_lossy(&init.body).contains("/openapi.json"));
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, 200, "assets are vendored, not fetched from a CDN");
    assert!(bundle.body.len() > 100_000);
    // The bare path redirects to the UI (the client follows the 308).
    let bare = app.get("/docs").await;
    assert_eq!(bare.status, 200);
    assert!(String::from_utf8_lossy(&bare.body).contains("swagger-ui"));
}

#[actix_rt::test]
async fn unknown_routes_and_methods_get_problem_documents() {
    let app = spawn_app().await;
    app.get("/nope").await.problem(404);
    app.get("/api/v1/unknown").await.problem(404);
    let put = app.request(Method::PUT, "/api/v1/notes", &[], None).await;
    put.problem(405);
    assert_eq!(put.header("allow").as_deref(), Some("GET, POST"));
    let post = app.request(Method::POST, &format!("/api/v1/notes/{}", uuid::Uuid::now_v7()), &[], None).await;
    post.problem(405);
    assert_eq!(post.header("allow").as_deref(), Some("GET, PATCH, DELETE"));
    app.request(Method::PUT, "/api/v1/nope/1", &[], None).await.problem(404);
}

#[actix_rt::test]
async fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ProcessApp::start(&dir.path().join("g.db"));
    let res = crate::helpers::send(&server.base, Method::GET, "/healthz", &[], None).await;
    assert_eq!(res.status, 200);
    server.signal("-TERM");
    let status = server.wait_exit(Duration::from_secs(15)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn migrate_command_creates_and_migrates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/dir/m.db");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
            .arg("migrate")
            .env("DATABASE_URL", &db)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("applied"));
    assert!(db.exists());
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
}

#[actix_rt::test]
async fn browsers_on_other_origins_may_call_the_api() {
    let app = spawn_app().await;
    let preflight = app
        .request(
            Method::OPTIONS,
            "/api/v1/notes",
            &[
                ("origin", "http://localhost:5173"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type,authorization"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, 200);
    assert!(preflight.header("access-control-allow-origin").is_some());
    assert!(preflight.header("access-control-allow-methods").unwrap().contains("POST"));
    let res = app.request(Method::GET, "/api/v1/notes", &[("origin", "http://localhost:5173")], None).await;
    assert_eq!(res.status, 200);
    assert!(res.header("access-control-allow-origin").is_some());
}

#[actix_rt::test]
async fn malformed_path_ids_are_404s_that_name_the_resource() {
    let app = spawn_app().await;
    for (path, what) in
        [("/api/v1/notes/nope", "note"), ("/api/v1/tasks/12345", "task"), ("/api/v1/users/not-a-uuid", "user")]
    {
        let res = app.get(path).await;
        let problem = res.problem(404);
        assert_eq!(problem["detail"], format!("{what} not found"), "{path}");
    }
}
