//! CORS: what a browser page on another origin may send and read, credentials only for
//! named origins, and refused preflights as problem documents.

#![allow(clippy::unwrap_used)]

use actix_web::http::Method;

use crate::helpers::{spawn_app, spawn_app_configured, Response, TestApp};

const FRONT_END: &str = "http://localhost:5173";

async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> Response {
    let mut sent = vec![("origin", origin), ("access-control-request-method", method)];
    if !headers.is_empty() {
        sent.push(("access-control-request-headers", headers));
    }
    app.request(Method::OPTIONS, "/api/v1/notes", &sent, None).await
}

fn allowed_headers(res: &Response) -> Vec<String> {
    let allowed = res.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    allowed.split(',').map(|h| h.trim().to_string()).collect()
}

#[actix_rt::test]
async fn preflights_allow_every_header_the_api_reads() {
    let app = spawn_app().await;
    // An EventSource polyfill resuming a stream, and an idempotent create.
    for headers in ["last-event-id", "idempotency-key,content-type", "authorization,if-match,x-request-id"] {
        let res = preflight(&app, FRONT_END, "POST", headers).await;
        assert_eq!(res.status, 200, "{headers}: {}", String::from_utf8_lossy(&res.body));
        let allowed = allowed_headers(&res);
        for header in headers.split(',') {
            assert!(allowed.iter().any(|a| a == header), "{header} not in {allowed:?}");
        }
    }
    let allowed = allowed_headers(&preflight(&app, FRONT_END, "GET", "if-none-match").await);
    for header in [
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "idempotency-key",
        "last-event-id",
        "x-request-id",
    ] {
        assert!(allowed.iter().any(|a| a == header), "{header} not in {allowed:?}");
    }
}

#[actix_rt::test]
async fn responses_expose_the_headers_clients_read() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/v1/notes", &[("origin", FRONT_END)], None).await;
    assert_eq!(res.status, 200);
    let exposed = res.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    let exposed: Vec<&str> = exposed.split(',').map(str::trim).collect();
    for header in ["etag", "location", "retry-after", "x-request-id", "idempotent-replayed"] {
        assert!(exposed.contains(&header), "{header} not in {exposed:?}");
    }
}

#[actix_rt::test]
async fn credentials_are_off_unless_asked_for() {
    let app = spawn_app().await;
    let res = preflight(&app, FRONT_END, "GET", "authorization").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-credentials"), None);

    let app = spawn_app_configured(|s| {
        s.cors_origins = format!("{FRONT_END},https://app.example.com");
        s.cors_credentials = true;
    })
    .await;
    let res = preflight(&app, "https://app.example.com", "PATCH", "authorization,if-match").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-credentials").as_deref(), Some("true"));
    assert_eq!(res.header("access-control-allow-origin").as_deref(), Some("https://app.example.com"));
    let res = app.request(Method::GET, "/api/v1/notes", &[("origin", FRONT_END)], None).await;
    assert_eq!(res.header("access-control-allow-credentials").as_deref(), Some("true"));
    assert_eq!(res.header("access-control-allow-origin").as_deref(), Some(FRONT_END));
    // Another origin is not allowed (without `Access-Control-Allow-Origin` a browser
    // hands the page nothing, credentials or not).
    let res = app.request(Method::GET, "/api/v1/notes", &[("origin", "https://evil.example")], None).await;
    assert_eq!(res.header("access-control-allow-origin"), None);
}

#[actix_rt::test]
async fn credentials_for_any_origin_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("corkboard.db");
    let mut settings = gateway::Settings::for_tests(db.to_str().unwrap());
    settings.cors_credentials = true;
    let err = gateway::Application::build(settings).unwrap_err().to_string();
    assert!(err.contains("--cors-credentials") && err.contains('*'), "{err}");

    // The binary says so and exits non-zero, whether told by flag or environment.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["serve", "--bind", "127.0.0.1:0", "--cors-origins", "*", "--cors-credentials", "--database-url"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cors-credentials"), "{out:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
        .arg(&db)
        .env("CORS_ORIGINS", "*")
        .env("CORS_CREDENTIALS", "true")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cors-credentials"), "{out:?}");
}

#[actix_rt::test]
async fn refused_preflights_are_problem_documents() {
    let app = spawn_app_configured(|s| s.cors_origins = FRONT_END.into()).await;
    let res = preflight(&app, "https://evil.example", "GET", "").await;
    let problem = res.problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("origin"), "{problem}");
    assert!(res.header("x-request-id").is_some());

    let res = preflight(&app, FRONT_END, "GET", "x-secret-thing,authorization").await;
    let problem = res.problem(403);
    assert!(problem["detail"].as_str().unwrap().ends_with(": x-secret-thing"), "{problem}");

    let res = preflight(&app, FRONT_END, "TRACE", "").await;
    res.problem(403);
    // The allowed origin still passes.
    assert_eq!(preflight(&app, FRONT_END, "DELETE", "authorization").await.status, 200);
}
