//! Accounts over HTTP: registration, login, logout, users, bearer tokens in every broken
//! shape, the failed-login limit, and the OpenAPI security scheme.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use gateway::{Application, Settings};
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, spawn_app_configured, Response, TestApp};

const PASSWORD: &str = "correct horse battery";

async fn register(app: &TestApp, email: &str) -> Value {
    let res = app
        .post_json("/api/v1/auth/register", &json!({"email": email, "display_name": "Ada", "password": PASSWORD}))
        .await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    res.json()
}

async fn login(base: &str, email: &str, password: &str) -> Response {
    let body = json!({"email": email, "password": password}).to_string().into_bytes();
    send(base, Method::POST, "/api/v1/auth/login", &[], Some(("application/json", body))).await
}

/// Registers `email` and logs in; returns the token.
async fn token_for(app: &TestApp, email: &str) -> String {
    register(app, email).await;
    let res = login(&app.base, email, PASSWORD).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["token"].as_str().unwrap().to_string()
}

async fn me(base: &str, authorization: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = authorization.map(|a| ("authorization", a)).into_iter().collect();
    send(base, Method::GET, "/api/v1/users/me", &headers, None).await
}

async fn logout(base: &str, authorization: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = authorization.map(|a| ("authorization", a)).into_iter().collect();
    send(base, Method::POST, "/api/v1/auth/logout", &headers, None).await
}

/// Asserts a 401 problem document with a Bearer challenge.
fn assert_unauthorized(res: &Response) {
    res.problem(401);
    let challenge = res.header("www-authenticate").expect("401 carries WWW-Authenticate");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[actix_rt::test]
async fn register_login_me_profile_logout_round_trip() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "  Ada@Example.com ", "display_name": " Ada Lovelace ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 201);
    let user = res.json();
    let id = user["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/users/{id}"));
    assert_eq!(keys(&user), ["created_at", "display_name", "email", "id"], "no hash, no password");
    assert_eq!(
        (user["email"].as_str(), user["display_name"].as_str()),
        (Some("Ada@Example.com"), Some("Ada Lovelace"))
    );
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));

    let res = login(&app.base, "ada@EXAMPLE.com", PASSWORD).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let session = res.json();
    assert_eq!(keys(&session), ["expires_at", "token", "token_type", "user"]);
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["user"], user);
    let token = session["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 bits in base64url");
    let expires_at = chrono::DateTime::parse_from_rfc3339(session["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires_at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(ttl > chrono::Duration::days(30) - chrono::Duration::minutes(1) && ttl <= chrono::Duration::days(30));

    let bearer = format!("Bearer {token}");
    let res = me(&app.base, Some(&bearer)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), user);

    let profile = app.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(profile.status, 200, "profiles need no login");
    assert_eq!(profile.json(), json!({"id": id, "display_name": "Ada Lovelace"}));

    assert_eq!(logout(&app.base, Some(&bearer)).await.status, 204);
    assert_unauthorized(&me(&app.base, Some(&bearer)).await);
    assert_unauthorized(&logout(&app.base, Some(&bearer)).await);
}

#[actix_rt::test]
async fn registration_names_every_bad_field() {
    let app = spawn_app().await;
    let post = |body: Value| {
        let app = &app;
        async move { app.post_json("/api/v1/auth/register", &body).await }
    };
    let res = post(json!({"email": "not-an-email", "display_name": "  ", "password": "short"})).await;
    assert_eq!(res.error_fields(), ["email", "display_name", "password"]);
    let long_password = post(json!({"email": "a@b.io", "display_name": "A", "password": "é".repeat(129)})).await;
    assert_eq!(long_password.error_fields(), ["password"]);
    let long_name = post(json!({"email": "a@b.io", "display_name": "n".repeat(101), "password": PASSWORD})).await;
    assert_eq!(long_name.error_fields(), ["display_name"]);
    assert_eq!(post(json!({"email": "a@b.io", "password": PASSWORD})).await.error_fields(), ["display_name"]);
    let extra = post(json!({"email": "a@b.io", "display_name": "A", "password": PASSWORD, "admin": true})).await;
    assert_eq!(extra.error_fields(), ["admin"]);
    let limits = post(json!({"email": "a@b.io", "display_name": "n".repeat(100), "password": "é".repeat(128)})).await;
    assert_eq!(limits.status, 201, "limits count characters");
}

#[actix_rt::test]
async fn malformed_and_oversized_bodies_never_reach_the_hasher() {
    let app = spawn_app().await;
    for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
        let post = |content_type: &'static str, body: Vec<u8>| {
            let app = &app;
            async move { app.request(Method::POST, path, &[], Some((content_type, body))).await }
        };
        post("application/json", b"{\"email\": ".to_vec()).await.problem(400);
        post("text/plain", br#"{"email": "a@b.io"}"#.to_vec()).await.problem(415);
        let mut huge = br#"{"email": "a@b.io", "display_name": "A", "password": ""#.to_vec();
        huge.extend(std::iter::repeat_n(b'p', 10 << 20));
        huge.extend(br#""}"#);
        post("application/json", huge).await.problem(413);
    }
    // Just under the body limit: refused by the length rule, before any hashing.
    let big = "p".repeat(1_000_000);
    let started = std::time::Instant::now();
    let res =
        app.post_json("/api/v1/auth/register", &json!({"email": "a@b.io", "display_name": "A", "password": big})).await;
    assert_eq!(res.error_fields(), ["password"]);
    assert_eq!(login(&app.base, "a@b.io", &big).await.error_fields(), ["password"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[actix_rt::test]
async fn emails_are_unique_regardless_of_case_even_when_racing() {
    let app = spawn_app().await;
    register(&app, "ada@example.com").await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "ADA@example.COM", "display_name": "B", "password": PASSWORD}),
        )
        .await;
    res.problem(409);

    let attempts = (0..6).map(|i| {
        let email = if i % 2 == 0 { "race@example.com" } else { "Race@Example.com" };
        let body = json!({"email": email, "display_name": "R", "password": PASSWORD}).to_string().into_bytes();
        let base = app.base.clone();
        async move { send(&base, Method::POST, "/api/v1/auth/register", &[], Some(("application/json", body))).await }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 5, "{statuses:?}");
}

#[actix_rt::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    register(&app, "ada@example.com").await;
    let wrong = login(&app.base, "ada@example.com", "not the password").await;
    let unknown = login(&app.base, "nobody@example.com", "not the password").await;
    wrong.problem(401);
    assert_eq!((wrong.status, wrong.json()), (unknown.status, unknown.json()));
    assert_eq!(login(&app.base, "", "").await.error_fields(), ["email", "password"]);
}

#[actix_rt::test]
async fn the_eleventh_failed_login_from_one_address_is_refused_with_retry_after() {
    let app = spawn_app().await;
    register(&app, "ada@example.com").await;
    for _ in 0..10 {
        login(&app.base, "ada@example.com", "not the password").await.problem(401);
    }
    let refused = login(&app.base, "ADA@example.com", PASSWORD).await;
    let problem = refused.problem(429);
    assert!(problem["detail"].as_str().unwrap().contains("retry in"));
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((14 * 60..=15 * 60).contains(&retry_after), "{retry_after}");
    // Other accounts are not affected.
    token_for(&app, "bob@example.com").await;
}

/// Logs in from the loopback address `from` (Linux routes all of 127.0.0.0/8 to `lo`), so
/// a test can be several clients.
async fn login_from(base: &str, from: [u8; 4], email: &str, password: &str) -> Response {
    login_forwarded(base, from, None, email, password).await
}

/// [`login_from`] with an `X-Forwarded-For` header, as a proxy (or a forger) sends it.
async fn login_forwarded(base: &str, from: [u8; 4], forwarded: Option<&str>, email: &str, password: &str) -> Response {
    let connector = awc::Connector::new().local_address(std::net::IpAddr::from(from));
    let client = awc::Client::builder().connector(connector).timeout(std::time::Duration::from_secs(30)).finish();
    let mut req = client.post(format!("{base}/api/v1/auth/login"));
    if let Some(forwarded) = forwarded {
        req = req.insert_header(("x-forwarded-for", forwarded));
    }
    let mut res =
        req.send_json(&json!({"email": email, "password": password})).await.expect("request reaches the server");
    let body = res.body().await.expect("body").to_vec();
    Response { status: res.status().as_u16(), headers: res.headers().clone(), body }
}

#[actix_rt::test]
async fn a_strangers_failures_do_not_lock_the_owner_out_from_another_address() {
    let app = spawn_app().await;
    register(&app, "ada@example.com").await;
    let (stranger, owner) = ([127, 0, 0, 2], [127, 0, 0, 3]);
    for _ in 0..10 {
        login_from(&app.base, stranger, "ada@example.com", "not the password").await.problem(401);
    }
    for _ in 0..3 {
        let refused = login_from(&app.base, stranger, "ada@example.com", PASSWORD).await;
        refused.problem(429);
        assert!(refused.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    }
    let res = login_from(&app.base, owner, "ADA@example.com", PASSWORD).await;
    assert_eq!(res.status, 200, "the owner's address has not failed: {}", String::from_utf8_lossy(&res.body));
    assert!(res.json()["token"].is_string());
}

#[actix_rt::test]
async fn behind_a_trusted_proxy_failed_logins_count_per_forwarded_client() {
    let proxy = [127, 0, 0, 6];
    let app = spawn_app_configured(|s| s.trusted_proxies = "127.0.0.6".parse().unwrap()).await;
    register(&app, "ada@example.com").await;
    // A stranger behind the proxy fails ten times; the proxy appends its address.
    for _ in 0..10 {
        let res = login_forwarded(&app.base, proxy, Some("198.51.100.7"), "ada@example.com", "nope").await;
        res.problem(401);
    }
    login_forwarded(&app.base, proxy, Some("198.51.100.7"), "ada@example.com", PASSWORD).await.problem(429);
    // The owner, behind the same proxy, is another client: not locked out. A leftmost
    // entry the stranger forged changes nothing for the stranger either.
    let owner = login_forwarded(&app.base, proxy, Some("203.0.113.9"), "ada@example.com", PASSWORD).await;
    assert_eq!(owner.status, 200, "{}", String::from_utf8_lossy(&owner.body));
    let forged = "203.0.113.9, 198.51.100.7";
    login_forwarded(&app.base, proxy, Some(forged), "ada@example.com", PASSWORD).await.problem(429);
    // A peer that is not the proxy cannot pick its address with the header: its failures
    // count under its own address whatever it claims.
    let stranger = [127, 0, 0, 7];
    for i in 0..10 {
        let claim = format!("192.0.2.{i}");
        login_forwarded(&app.base, stranger, Some(&claim), "ada@example.com", "nope").await.problem(401);
    }
    login_forwarded(&app.base, stranger, Some("192.0.2.200"), "ada@example.com", PASSWORD).await.problem(429);
}

#[actix_rt::test]
async fn one_address_spraying_many_emails_gets_429_with_retry_after() {
    let app = spawn_app().await;
    register(&app, "ada@example.com").await;
    let sprayer = [127, 0, 0, 4];
    for i in 0..20 {
        login_from(&app.base, sprayer, &format!("user{i}@example.com"), PASSWORD).await.problem(401);
    }
    for email in ["user20@example.com", "ada@example.com"] {
        let refused = login_from(&app.base, sprayer, email, PASSWORD).await;
        let problem = refused.problem(429);
        assert!(problem["detail"].as_str().unwrap().contains("from this address"), "{problem}");
        let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((14 * 60..=15 * 60).contains(&retry_after), "{retry_after}");
    }
    // Everyone else still logs in.
    assert_eq!(login_from(&app.base, [127, 0, 0, 5], "ada@example.com", PASSWORD).await.status, 200);
}

#[actix_rt::test]
async fn every_unusable_credential_gets_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let token = token_for(&app, "ada@example.com").await;
    let first = token.chars().next().unwrap();
    let tampered = format!("{}{}", if first == 'A' { 'B' } else { 'A' }, &token[1..]);
    let unknown = "A".repeat(42) + "A";
    let cases = [
        ("a scheme other than Bearer", "Basic YWRhQGV4YW1wbGUuY29tOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==".to_string()),
        ("a bare token", token.clone()),
        ("no token", "Bearer ".to_string()),
        ("a malformed token", "Bearer not-a-token".to_string()),
        ("a truncated token", format!("Bearer {}", &token[..42])),
        ("a tampered token", format!("Bearer {tampered}")),
        ("a well-formed unknown token", format!("Bearer {unknown}")),
        ("non-ASCII", "Bearer tökén".to_string()),
    ];
    for (case, authorization) in &cases {
        let res = me(&app.base, Some(authorization)).await;
        assert_eq!(res.status, 401, "{case}");
        assert_unauthorized(&res);
        assert_unauthorized(&logout(&app.base, Some(authorization)).await);
    }
    assert_unauthorized(&me(&app.base, None).await);
    assert_unauthorized(&logout(&app.base, None).await);
    // None of that touched the real token; the scheme is case-insensitive.
    assert_eq!(me(&app.base, Some(&format!("bearer {token}"))).await.status, 200);
}

#[actix_rt::test]
async fn logout_revokes_only_the_token_in_use() {
    let app = spawn_app().await;
    let phone = token_for(&app, "ada@example.com").await;
    let laptop = login(&app.base, "ada@example.com", PASSWORD).await.json()["token"].as_str().unwrap().to_string();
    assert_eq!(logout(&app.base, Some(&format!("Bearer {phone}"))).await.status, 204);
    assert_unauthorized(&me(&app.base, Some(&format!("Bearer {phone}"))).await);
    assert_eq!(me(&app.base, Some(&format!("Bearer {laptop}"))).await.status, 200);
}

#[actix_rt::test]
async fn expired_tokens_get_401() {
    // With a lifetime of zero days every token is born expired (the CLI refuses 0; only
    // tests build settings by hand).
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { token_ttl_days: 0, ..Settings::for_tests(dir.path().join("c.db").to_str().unwrap()) };
    let app = Application::build(settings).unwrap();
    let base = format!("http://{}", app.address());
    let handle = app.handle();
    actix_rt::spawn(app.run_until_stopped());

    let body = json!({"email": "ada@example.com", "display_name": "Ada", "password": PASSWORD}).to_string();
    let res =
        send(&base, Method::POST, "/api/v1/auth/register", &[], Some(("application/json", body.into_bytes()))).await;
    assert_eq!(res.status, 201);
    let session = login(&base, "ada@example.com", PASSWORD).await.json();
    let res = me(&base, Some(&format!("Bearer {}", session["token"].as_str().unwrap()))).await;
    assert_unauthorized(&res);
    assert_eq!(res.json()["detail"], "the token is invalid, expired or revoked; log in again");
    handle.stop(true).await;
}

#[actix_rt::test]
async fn profiles_of_unknown_or_malformed_ids_are_not_found() {
    let app = spawn_app().await;
    app.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7())).await.problem(404);
    app.get("/api/v1/users/not-a-uuid").await.problem(404);
    app.get("/api/v1/users/").await.problem(404);
}

#[actix_rt::test]
async fn openapi_declares_the_bearer_scheme_and_protected_operations() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!((scheme["type"].as_str(), scheme["scheme"].as_str()), (Some("http"), Some("bearer")));
    let paths = &doc["paths"];
    for (path, method) in [("/api/v1/auth/logout", "post"), ("/api/v1/users/me", "get")] {
        let operation = &paths[path][method];
        assert_eq!(operation["security"], json!([{"bearer": []}]), "{method} {path}");
        assert!(operation["responses"]["401"]["content"]["application/problem+json"].is_object());
    }
    for (path, method) in
        [("/api/v1/auth/register", "post"), ("/api/v1/auth/login", "post"), ("/api/v1/users/{id}", "get")]
    {
        assert!(paths[path][method].is_object(), "{method} {path}");
        assert!(paths[path][method].get("security").is_none(), "{method} {path} needs no login");
    }
    assert!(paths["/api/v1/auth/login"]["post"]["responses"]["429"]["headers"]["Retry-After"].is_object());
    assert!(paths["/api/v1/auth/register"]["post"]["responses"]["409"].is_object());
    for schema in ["User", "PublicProfile", "NewUser", "Credentials", "Session"] {
        let schema = &doc["components"]["schemas"][schema];
        assert!(schema.is_object());
        assert!(
            schema["properties"].get("password_hash").is_none() && schema["properties"].get("token_hash").is_none()
        );
    }
}

/// Every documented operation, with `{...}` path parameters filled with a fresh id.
async fn every_operation(app: &TestApp) -> Vec<(Method, String)> {
    let doc = app.get("/openapi.json").await.json();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete: String = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { segment.into() })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            operations.push((Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), concrete.clone()));
        }
    }
    assert!(operations.len() > 15, "the document lists the operations");
    operations
}

#[actix_rt::test]
async fn a_bad_credential_is_401_on_every_endpoint_even_those_that_need_no_login() {
    let app = spawn_app().await;
    let token = token_for(&app, "ada@example.com").await;
    let mut operations = every_operation(&app).await;
    // Beyond the documented routes: the docs, a path nobody serves, a wrong method.
    operations.extend([
        (Method::GET, "/docs/".to_string()),
        (Method::GET, "/api/v1/nowhere".to_string()),
        (Method::PUT, "/api/v1/notes".to_string()),
    ]);
    for bad in ["Bearer not-a-token", "Basic YWRhOnB3", &format!("Bearer {}", "A".repeat(43))] {
        for (method, path) in &operations {
            let body = Some(("application/json", b"{}".to_vec()));
            let res = app.request(method.clone(), path, &[("authorization", bad)], body).await;
            assert_eq!(res.status, 401, "{method} {path} with {bad:?}: {}", String::from_utf8_lossy(&res.body));
            if method == Method::HEAD {
                // The headers of the GET's 401, without its body.
                assert!(res.header("www-authenticate").is_some_and(|c| c.starts_with("Bearer")) && res.body.is_empty());
            } else {
                assert_unauthorized(&res);
            }
        }
    }
    // The same requests with the right token or none are not refused for their credentials.
    for authorization in [Some(format!("Bearer {token}")), None] {
        let headers: Vec<(&str, &str)> = authorization.iter().map(|a| ("authorization", a.as_str())).collect();
        // Logout (and logout everywhere) would end the session the other requests use, and
        // the caller's own event stream (`GET /me/events`, no id to make up) never ends.
        let skipped = |method: &Method, path: &str| {
            path.contains("/logout") || (method == Method::GET && path.ends_with("/me/events"))
        };
        for (method, path) in operations.iter().filter(|(method, path)| !skipped(method, path)) {
            let res = app.request(method.clone(), path, &headers, Some(("application/json", b"{}".to_vec()))).await;
            let needs_login = res.status == 401;
            assert!(
                !needs_login || authorization.is_none(),
                "{method} {path} refused a good token: {}",
                String::from_utf8_lossy(&res.body)
            );
            assert!(res.status < 500, "{method} {path}: {}", res.status);
        }
    }
}

#[actix_rt::test]
async fn stream_tickets_need_a_login_and_are_never_the_token() {
    let app = spawn_app().await;
    let token = token_for(&app, "ada@example.com").await;
    assert_unauthorized(&app.request(Method::POST, "/api/v1/auth/stream-tickets", &[], None).await);
    let bearer = format!("Bearer {token}");
    let res = app.request(Method::POST, "/api/v1/auth/stream-tickets", &[("authorization", &bearer)], None).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let body = res.json();
    let ticket = body["ticket"].as_str().unwrap();
    assert_eq!(ticket.len(), 43);
    assert_ne!(ticket, token);
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    // A ticket is no bearer token.
    assert_unauthorized(&me(&app.base, Some(&format!("Bearer {ticket}"))).await);
}
