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
        for status in ["400", "408", "413", "415", "422"] {
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
    assert_eq!(put.header("allow").as_deref(), Some("GET, HEAD, POST"));
    let post = app.request(Method::POST, &format!("/api/v1/notes/{}", uuid::Uuid::now_v7()), &[], None).await;
    post.problem(405);
    assert_eq!(post.header("allow").as_deref(), Some("GET, HEAD, PATCH, DELETE"));
    app.request(Method::PUT, "/api/v1/nope/1", &[], None).await.problem(404);
}

#[actix_rt::test]
async fn sigterm_stops_the_server_gracefully() {
    let db = storage::TestDatabase::new();
    let mut server = ProcessApp::start(db.url());
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

fn is_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}

#[actix_rt::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    // The client's sane id comes back unchanged.
    let res = app.request(Method::GET, "/healthz", &[("x-request-id", "client-42.a:b_c")], None).await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("client-42.a:b_c"));
    // Without one, or with one that could break a log line, the server makes a fresh one.
    let first = app.get("/api/v1/notes").await.header("x-request-id").unwrap();
    let second = app.get("/api/v1/notes").await.header("x-request-id").unwrap();
    assert!(is_uuid(&first) && is_uuid(&second) && first != second, "{first} {second}");
    let long = "x".repeat(129);
    for insane in ["has space", "quote\"d", long.as_str(), "é"] {
        let res = app.request(Method::GET, "/healthz", &[("x-request-id", insane)], None).await;
        let id = res.header("x-request-id").unwrap();
        assert!(is_uuid(&id), "{insane:?} became {id}");
    }
    // Problem responses of every origin carry it too: unknown path, wrong method,
    // validation, unknown query parameter, broken body, and a created resource.
    let id = [("x-request-id", "trace-1")];
    let note = format!("/api/v1/notes/{}", uuid::Uuid::now_v7());
    for (method, path, body, status) in [
        (Method::GET, "/nope", None, 404),
        (Method::GET, note.as_str(), None, 404),
        (Method::PUT, "/api/v1/notes", None, 405),
        (Method::GET, "/api/v1/notes?limit=0", None, 422),
        (Method::GET, "/api/v1/notes?colour=red", None, 422),
        (Method::POST, "/api/v1/notes", Some(("application/json", b"{}".to_vec())), 422),
        (Method::POST, "/api/v1/notes", Some(("application/json", b"{".to_vec())), 400),
        (Method::POST, "/api/v1/notes", Some(("application/json", b"{\"content\": \"x\"}".to_vec())), 201),
    ] {
        let res = app.request(method.clone(), path, &id, body).await;
        assert_eq!(res.status, status, "{method} {path}");
        assert_eq!(res.header("x-request-id").as_deref(), Some("trace-1"), "{method} {path}");
    }
}

#[actix_rt::test]
async fn browsers_may_send_and_read_the_request_id() {
    let app = spawn_app().await;
    let preflight = app
        .request(
            Method::OPTIONS,
            "/api/v1/notes",
            &[
                ("origin", "http://localhost:5173"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "x-request-id,if-none-match"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, 200);
    let allowed = preflight.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed.contains("x-request-id") && allowed.contains("if-none-match"), "{allowed}");
    let res = app.request(Method::GET, "/api/v1/notes", &[("origin", "http://localhost:5173")], None).await;
    let exposed = res.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

/// Starts the gateway binary with its log (`RUST_LOG=info`) going to `log`.
fn start_logging(db: &std::path::Path, log: &std::path::Path) -> ProcessApp {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
        .arg(db)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap().to_string();
    ProcessApp { child, base }
}

/// The log lines naming `id`, waiting (up to 5 s) for at least one: the access line is
/// written when the response is done, which may be just after the client has it.
async fn log_lines_with(log: &std::path::Path, id: &str) -> Vec<String> {
    for _ in 0..100 {
        let text = std::fs::read_to_string(log).unwrap();
        let lines: Vec<String> = text.lines().filter(|l| l.contains(id)).map(str::to_string).collect();
        if !lines.is_empty() {
            return lines;
        }
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no log line names {id}:\n{}", std::fs::read_to_string(log).unwrap());
}

#[actix_rt::test]
async fn log_lines_name_the_request_id_and_problem_type_but_no_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    let server = start_logging(&dir.path().join("g.db"), &log);
    let send = |path: &'static str, id: &'static str| {
        let base = server.base.clone();
        async move { crate::helpers::send(&base, Method::GET, path, &[("x-request-id", id)], None).await }
    };

    assert_eq!(send("/api/v1/tasks?status=done", "log-422").await.status, 422);
    let lines = log_lines_with(&log, "log-422").await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(" 422 ") && lines[0].contains("problem=/problems/validation"), "{}", lines[0]);
    assert!(lines[0].contains("/api/v1/tasks?status=done"), "{}", lines[0]);

    assert_eq!(send("/api/v1/notes/not-an-id", "log-404").await.status, 404);
    let lines = log_lines_with(&log, "log-404").await;
    assert!(lines[0].contains("problem=/problems/not-found"), "{}", lines[0]);

    assert_eq!(send("/api/v1/notes", "log-200").await.status, 200);
    assert!(log_lines_with(&log, "log-200").await[0].contains("problem=-"));

    // A stream ticket in the query never reaches the log.
    send("/api/v1/notes?limit=1&ticket=s3cr3t-t1cket", "log-ticket").await;
    let lines = log_lines_with(&log, "log-ticket").await;
    assert!(lines[0].contains("/api/v1/notes?limit=1&ticket=<redacted>"), "{}", lines[0]);
    assert!(!std::fs::read_to_string(&log).unwrap().contains("s3cr3t"), "the ticket was logged");
}

/// A gateway whose header, body and keep-alive timeouts are all one second.
async fn spawn_impatient_app() -> (std::net::SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let settings = gateway::Settings {
        header_timeout_secs: 1,
        body_timeout_secs: 1,
        keep_alive_secs: 1,
        ..gateway::Settings::for_tests(db.to_str().unwrap())
    };
    let app = gateway::Application::build(settings).unwrap();
    let address = app.address();
    actix_rt::spawn(app.run_until_stopped());
    (address, dir)
}

/// Sends `request` over a fresh connection and reads until the server closes it (or 10 s
/// pass). Returns what was read, how long until the close, and whether it closed.
async fn exchange(address: std::net::SocketAddr, request: &[u8]) -> (String, Duration, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let started = std::time::Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match actix_rt::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed(), closed)
}

#[actix_rt::test]
async fn a_body_that_never_arrives_gets_408_and_the_connection_closes() {
    let (address, _dir) = spawn_impatient_app().await;
    let request = b"POST /api/v1/notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                    Content-Length: 100\r\nX-Request-Id: slow-body\r\n\r\n";
    let (response, elapsed, closed) = exchange(address, request).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    let lower = response.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/problem+json"), "{response}");
    assert!(lower.contains("x-request-id: slow-body"), "{response}");
    assert!(response.contains("/problems/request-timeout"), "{response}");
    assert!(closed, "the connection stays open after the 408");
    assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5), "{elapsed:?}");

    // Half a body is no better than none.
    let request = b"PATCH /api/v1/tasks/0193f1a2-7c4e-7b9a-9d2c-3e5f6a7b8c9d HTTP/1.1\r\nHost: localhost\r\n\
                    Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"title\": \"x";
    let (response, _, closed) = exchange(address, request).await;
    assert!(response.starts_with("HTTP/1.1 408") && closed, "{response}");
}

#[actix_rt::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let (address, _dir) = spawn_impatient_app().await;
    // Headers that never end.
    let (response, elapsed, closed) = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await;
    // (actix's own defaults would take 5 s for each of these.)
    assert!(closed && elapsed < Duration::from_secs(4), "{elapsed:?} {response}");
    assert!(response.is_empty() || response.starts_with("HTTP/1.1 408"), "{response}");
    // A kept-alive connection that goes quiet after its answer.
    let (response, elapsed, closed) = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(closed && elapsed < Duration::from_secs(4), "idle connection open after {elapsed:?}");
}

/// Every `$ref` in `value`, with where it was found.
fn refs(value: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref" {
                    out.push((inner.as_str().unwrap_or_default().to_string(), at.to_string()));
                } else {
                    refs(inner, &format!("{at}/{key}"), out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                refs(inner, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[actix_rt::test]
async fn every_ref_in_the_openapi_document_resolves() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 50, "the document uses shared schemas");
    for (target, at) in found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {target} at {at}"));
        assert!(doc.pointer(pointer).is_some(), "{target} (at {at}) resolves to nothing");
    }
    // Operation ids are unique: generators name functions after them.
    let mut ids = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op["operationId"].as_str() {
                ids.push(id.to_string());
            }
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId");
}

#[actix_rt::test]
async fn openapi_enums_are_wire_names_schemas_do_not_collide_and_responses_require_fields() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Role"]["enum"], serde_json::json!(["member", "admin"]));
    assert_eq!(schemas["TaskStatus"]["enum"], serde_json::json!(["pending", "in_progress", "completed"]));
    assert_eq!(schemas["ProjectTaskStatus"]["enum"], serde_json::json!(["todo", "in_progress", "done"]));
    // /tasks is documented with the freelancer task, not the project task.
    let ok = &doc["paths"]["/api/v1/tasks/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(ok["$ref"], "#/components/schemas/Task");
    assert!(schemas["Task"]["properties"].get("project_id").is_none());
    // Always sent, so required, even when null.
    let required = schemas["Note"]["required"].as_array().unwrap();
    assert!(required.contains(&serde_json::json!("title")), "{required:?}");
    // A request body keeps its optional fields optional.
    assert_eq!(schemas["NewNote"]["required"], serde_json::json!(["content"]));
}

/// Sends `request` as raw bytes on a fresh connection and reads until the server closes it
/// (or 5 s pass): the status and the bytes after the head. Write errors are ignored (the
/// server may close before it has read everything).
fn raw(base: &str, request: &[u8]) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let mut buf = [0_u8; 8192];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer).to_string();
    let Some((head, _)) = text.split_once("\r\n\r\n") else { return (0, text, Vec::new()) };
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer[head.len() + 4..].to_vec();
    (status, head.to_string(), body)
}

#[actix_rt::test]
async fn protocol_refusals_have_problem_bodies_where_possible_and_never_log_errors() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    let server = start_logging(&dir.path().join("g.db"), &log);
    let base = server.base.clone();
    let request = |target: &str, headers: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}\r\n").into_bytes()
    };
    let problem = |(status, head, body): (u16, String, Vec<u8>), expected: u16, kind: &str| {
        assert_eq!(status, expected, "{head}");
        assert!(head.to_lowercase().contains("content-type: application/problem+json"), "{head}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((json["status"].as_u64(), json["type"].as_str()), (Some(u64::from(expected)), Some(kind)));
    };

    // Over the gateway's limits but within what actix-http parses: problem documents.
    let long_query = format!("/api/v1/notes?q={}", "a".repeat(20 * 1024));
    problem(raw(&base, &request(&long_query, "")), 414, "/problems/uri-too-long");
    let big_header = format!("X-Big: {}\r\n", "a".repeat(40 * 1024));
    problem(raw(&base, &request("/api/v1/notes", &big_header)), 431, "/problems/headers-too-large");
    // Just below the limits, the request is served.
    let fine_query = format!("/api/v1/notes?q={}", "a".repeat(400));
    assert_eq!(raw(&base, &request(&fine_query, "")).0, 200);

    // What actix-http refuses itself: bodyless (documented in operations.md).
    let cl_and_te = b"POST /api/v1/notes HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}";
    let (status, head, body) = raw(&base, cl_and_te);
    assert_eq!((status, body.len()), (400, 0), "{head}");
    let bad_length = b"POST /api/v1/notes HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n{}";
    assert_eq!(raw(&base, bad_length).0, 400);
    let huge_target = format!("/api/v1/notes?q={}", "a".repeat(70 * 1024));
    assert_eq!(raw(&base, &request(&huge_target, "")).0, 400);
    // A head over 128 KiB: 431 if the answer arrives before the server closes the socket.
    let huge_header = format!("X-Big: {}\r\n", "a".repeat(140 * 1024));
    assert!(matches!(raw(&base, &request("/api/v1/notes", &huge_header)).0, 0 | 431));

    // A flood of malformed requests: warnings, at most 10 a second, never an ERROR.
    for _ in 0..40 {
        raw(&base, bad_length);
    }
    actix_rt::time::sleep(Duration::from_millis(1100)).await;
    raw(&base, bad_length);
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log).unwrap();
        if text.contains("suppressed") {
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!text.lines().any(|l| l.contains(" ERROR ") || l.contains("[ERROR")), "{text}");
    let protocol: Vec<&str> = text.lines().filter(|l| l.contains("actix_http::h1")).collect();
    assert!(protocol.iter().all(|l| l.contains("WARN")), "{protocol:#?}");
    assert!(protocol.iter().any(|l| l.contains("stream error")), "{text}");
    assert!(protocol.len() < 44, "{} protocol lines for 44 refusals: not limited", protocol.len());
    assert!(protocol.iter().any(|l| l.contains("suppressed") && l.contains("similar lines")), "{protocol:#?}");
}

#[test]
fn a_database_url_the_server_cannot_use_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(args)
            .current_dir(dir.path())
            .env("RUST_LOG", "off")
            .output()
            .expect("the gateway runs");
        (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for url in ["mysql://ada:hunter2@db/cb", "file:cb.db", "postgres:", ":memory:"] {
        for command in ["serve", "migrate"] {
            let args = match command {
                "serve" => vec!["serve", "--bind", "127.0.0.1:0", "--database-url", url],
                _ => vec!["migrate", "--database-url", url],
            };
            let (status, stderr) = run(&args);
            assert!(!status.success(), "{command} {url}: {stderr}");
            assert!(stderr.contains("unusable --database-url"), "{command} {url}: {stderr}");
            assert!(!stderr.contains("hunter2"), "the password stays out of the message: {stderr}");
        }
    }
    // A PostgreSQL URL is understood: a server that cannot be reached is refused at start,
    // naming it (password hidden) and libpq's reason, and no folder named `postgres:` is
    // left behind.
    for command in ["serve", "migrate"] {
        let url = "postgres://ada:hunter2@127.0.0.1:1/cb";
        let args = match command {
            "serve" => vec!["serve", "--bind", "127.0.0.1:0", "--database-url", url],
            _ => vec!["migrate", "--database-url", url],
        };
        let (status, stderr) = run(&args);
        assert!(!status.success(), "{command}: {stderr}");
        assert!(stderr.contains("connecting to postgres://ada:***@127.0.0.1:1/cb"), "{command}: {stderr}");
        assert!(stderr.contains("Connection refused") || stderr.contains("connection"), "{command}: {stderr}");
        assert!(!stderr.contains("hunter2"), "the password stays out of the message: {stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing is created for a URL that is not used: {left:?}");
}
