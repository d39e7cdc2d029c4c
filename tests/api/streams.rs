//! Event streams as a bounded, revocable resource (API section 6, issue 15): limits per
//! user, team and gateway with 429; places freed as soon as a client goes away; a reserve
//! of file descriptors so the API answers while every allowed stream is open; and every
//! revocation (logout, a revoked session, logout everywhere, a password change, token
//! expiry, leaving a team) ending what the token opened, tickets included.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::http::Method;
use futures_util::StreamExt as _;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{ok, spawn_app_configured, user, ProcessApp, Response, TestApp, User};

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> Response {
    app.as_user(Some(&who.bearer), method, path, &[], body.as_ref()).await
}

/// A team of `admin` with `members`; its id.
async fn team(app: &TestApp, admin: &User, members: &[&User]) -> String {
    let team = ok(&call(app, admin, Method::POST, "/api/v1/teams", Some(json!({"name": "Squad"}))).await, 201);
    let id = team["id"].as_str().unwrap().to_string();
    for m in members {
        let path = format!("/api/v1/teams/{id}/members");
        ok(&call(app, admin, Method::POST, &path, Some(json!({"user_id": m.id}))).await, 201);
    }
    id
}

/// A raw stream request: the socket (kept open by the caller) and the response head.
async fn open_raw(base: &str, path: &str, authorization: Option<&str>) -> (TcpStream, String) {
    let address = base.strip_prefix("http://").unwrap();
    let mut socket = TcpStream::connect(address).await.expect("connects");
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n{auth}\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    let read_head = async {
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                break;
            }
            head.push(byte[0]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read_head).await.expect("a response head in time");
    (socket, String::from_utf8_lossy(&head).into_owned())
}

/// Reads what `socket` has been sent so far (an open stream's greeting), so that closing
/// it is a clean FIN, as a browser tab that goes away sends, not a reset for unread data.
async fn drain(socket: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), socket.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

fn status_of(head: &str) -> u16 {
    head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {head:?}"))
}

#[actix_rt::test]
async fn past_a_user_s_limit_a_stream_gets_429_and_a_closed_socket_frees_its_place_at_once() {
    let app = spawn_app_configured(|s| s.max_streams_per_user = 3).await;
    let ada = user(&app, "AdaLimit").await;
    let (first, second) = (team(&app, &ada, &[]).await, team(&app, &ada, &[]).await);
    let mut open = Vec::new();
    for team in [&first, &second, &first] {
        let (socket, head) = open_raw(&app.base, &format!("/api/v1/teams/{team}/events"), Some(&ada.bearer)).await;
        assert_eq!(status_of(&head), 200, "{head}");
        open.push(socket);
    }
    // The quota is the user's, over teams: a fourth stream on either team is refused.
    let refused = call(&app, &ada, Method::GET, &format!("/api/v1/teams/{second}/events"), None).await;
    let problem = refused.problem(429);
    assert!(problem["detail"].as_str().unwrap().contains("3 event streams"), "{problem}");
    assert!(refused.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Another user is not affected.
    let bob = user(&app, "BobLimit").await;
    let bobs = team(&app, &bob, &[]).await;
    let (_bob_stream, head) = open_raw(&app.base, &format!("/api/v1/teams/{bobs}/events"), Some(&bob.bearer)).await;
    assert_eq!(status_of(&head), 200);

    // The client goes away without a word (having read everything, so the server sees a
    // FIN, not a reset): the places are free within a second or two, not at the next
    // keep-alive write (15 s).
    for socket in &mut open {
        drain(socket).await;
    }
    drop(open);
    let started = std::time::Instant::now();
    loop {
        let (_socket, head) = open_raw(&app.base, &format!("/api/v1/teams/{first}/events"), Some(&ada.bearer)).await;
        if status_of(&head) == 200 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "closed streams still hold their places: {head}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn a_team_s_limit_holds_over_its_members() {
    let app = spawn_app_configured(|s| s.max_streams_per_team = 2).await;
    let (ada, bob) = (user(&app, "AdaTeamCap").await, user(&app, "BobTeamCap").await);
    let squad = team(&app, &ada, &[&bob]).await;
    let path = format!("/api/v1/teams/{squad}/events");
    let (_a, head) = open_raw(&app.base, &path, Some(&ada.bearer)).await;
    assert_eq!(status_of(&head), 200);
    let (_b, head) = open_raw(&app.base, &path, Some(&bob.bearer)).await;
    assert_eq!(status_of(&head), 200);
    call(&app, &bob, Method::GET, &path, None).await.problem(429);
    // Bob's own team is another team.
    let own = team(&app, &bob, &[]).await;
    let (_c, head) = open_raw(&app.base, &format!("/api/v1/teams/{own}/events"), Some(&bob.bearer)).await;
    assert_eq!(status_of(&head), 200);
}

/// A stream opened with `authorization` (a bearer) or a ticket in `path`.
async fn stream(
    app: &TestApp,
    path: &str,
    authorization: Option<&str>,
) -> awc::ClientResponse<impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>> {
    stream_at(&app.base, path, authorization).await
}

/// [`stream`] on the gateway at `base`.
pub(crate) async fn stream_at(
    base: &str,
    path: &str,
    authorization: Option<&str>,
) -> awc::ClientResponse<impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>> {
    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let mut req = client.get(format!("{base}{path}")).insert_header(("accept", "text/event-stream"));
    if let Some(authorization) = authorization {
        req = req.insert_header(("authorization", authorization));
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res
}

/// Reads `res` until it ends; panics if that takes longer than `within`.
pub(crate) async fn ends_within<S>(res: &mut awc::ClientResponse<S>, within: Duration, what: &str)
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let end = tokio::time::timeout(within, async { while let Some(Ok(_)) = res.next().await {} }).await;
    assert!(end.is_ok(), "{what}: the stream is still open");
}

/// Whether `res` is still open after `wait` (it sends nothing while idle).
pub(crate) async fn still_open<S>(res: &mut awc::ClientResponse<S>, wait: Duration) -> bool
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, res.next()).await {
            Err(_) => return true,
            Ok(Some(Ok(_))) => continue,
            Ok(_) => return false,
        }
    }
}

async fn ticket(app: &TestApp, who: &User) -> String {
    let res = call(app, who, Method::POST, "/api/v1/auth/stream-tickets", None).await;
    ok(&res, 200)["ticket"].as_str().unwrap().to_string()
}

/// Logs `email` in once more: another session's `Authorization` value.
async fn login(app: &TestApp, email: &str, user_agent: &str) -> String {
    let credentials = json!({"email": email, "password": "correct horse battery"});
    let res =
        app.as_user(None, Method::POST, "/api/v1/auth/login", &[("user-agent", user_agent)], Some(&credentials)).await;
    format!("Bearer {}", ok(&res, 200)["token"].as_str().unwrap())
}

#[actix_rt::test]
async fn logout_ends_the_token_s_streams_and_voids_its_tickets_but_not_other_sessions() {
    let app = spawn_app_configured(|_| {}).await;
    let ada = user(&app, "AdaLogout").await;
    let squad = team(&app, &ada, &[]).await;
    let path = format!("/api/v1/teams/{squad}/events");
    let other = User { bearer: login(&app, "adalogout@example.com", "phone").await, ..ada.clone() };

    let mut by_bearer = stream(&app, &path, Some(&ada.bearer)).await;
    let mut by_ticket = stream(&app, &format!("{path}?ticket={}", ticket(&app, &ada).await), None).await;
    let unused = ticket(&app, &ada).await;
    let mut others = stream(&app, &path, Some(&other.bearer)).await;
    let others_ticket = ticket(&app, &other).await;

    ok(&call(&app, &ada, Method::POST, "/api/v1/auth/logout", None).await, 204);
    ends_within(&mut by_bearer, Duration::from_secs(1), "opened with the token").await;
    ends_within(&mut by_ticket, Duration::from_secs(1), "opened with the token's ticket").await;
    let res = app
        .as_user(None, Method::GET, &format!("{path}?ticket={unused}"), &[("accept", "text/event-stream")], None)
        .await;
    res.problem(401);
    // The other session of the same user goes on.
    assert!(still_open(&mut others, Duration::from_millis(300)).await, "another session's stream ended");
    stream(&app, &format!("{path}?ticket={others_ticket}"), None).await;
}

#[actix_rt::test]
async fn sessions_are_listed_and_revoking_one_or_all_ends_their_streams() {
    let app = spawn_app_configured(|_| {}).await;
    let ada = user(&app, "AdaSessions").await;
    let squad = team(&app, &ada, &[]).await;
    let path = format!("/api/v1/teams/{squad}/events");
    let phone = login(&app, "adasessions@example.com", "Phone/1.0").await;
    let laptop = login(&app, "adasessions@example.com", "Laptop/2.0").await;

    let listed = ok(&app.as_user(Some(&laptop), Method::GET, "/api/v1/auth/sessions", &[], None).await, 200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{listed}");
    let current: Vec<_> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Laptop/2.0");
    assert_eq!(current[0]["address"], "127.0.0.1");
    for field in ["id", "created_at", "last_used_at", "expires_at"] {
        assert!(current[0][field].is_string(), "{field} in {}", current[0]);
    }
    assert!(items.iter().all(|s| s.get("token").is_none() && s.get("token_hash").is_none()));
    let phone_id = items.iter().find(|s| s["user_agent"] == "Phone/1.0").unwrap()["id"].as_str().unwrap().to_string();

    // Revoking the phone's session: its token stops working and its stream ends.
    let mut phones = stream(&app, &path, Some(&phone)).await;
    let mut laptops = stream(&app, &path, Some(&laptop)).await;
    let revoke = format!("/api/v1/auth/sessions/{phone_id}");
    ok(&app.as_user(Some(&laptop), Method::DELETE, &revoke, &[], None).await, 204);
    ends_within(&mut phones, Duration::from_secs(1), "the revoked session's").await;
    app.as_user(Some(&phone), Method::GET, "/api/v1/users/me", &[], None).await.problem(401);
    assert!(still_open(&mut laptops, Duration::from_millis(300)).await);
    // Gone (or another user's) sessions are 404, malformed ids too.
    app.as_user(Some(&laptop), Method::DELETE, &revoke, &[], None).await.problem(404);
    let bob = user(&app, "BobSessions").await;
    let bobs = ok(&app.as_user(Some(&bob.bearer), Method::GET, "/api/v1/auth/sessions", &[], None).await, 200);
    let bobs_id = bobs["items"][0]["id"].as_str().unwrap();
    let path_of_bobs = format!("/api/v1/auth/sessions/{bobs_id}");
    app.as_user(Some(&laptop), Method::DELETE, &path_of_bobs, &[], None).await.problem(404);
    app.as_user(Some(&bob.bearer), Method::GET, "/api/v1/users/me", &[], None).await;
    app.as_user(Some(&laptop), Method::DELETE, "/api/v1/auth/sessions/nope", &[], None).await.problem(404);

    // Everywhere: every session, this one included.
    ok(&app.as_user(Some(&laptop), Method::POST, "/api/v1/auth/logout-all", &[], None).await, 204);
    ends_within(&mut laptops, Duration::from_secs(1), "logout everywhere").await;
    for bearer in [&ada.bearer, &laptop] {
        app.as_user(Some(bearer), Method::GET, "/api/v1/users/me", &[], None).await.problem(401);
    }
    ok(&app.as_user(Some(&bob.bearer), Method::GET, "/api/v1/users/me", &[], None).await, 200);
}

#[actix_rt::test]
async fn a_password_change_revokes_every_other_session_and_checks_the_current_password() {
    let app = spawn_app_configured(|_| {}).await;
    let ada = user(&app, "AdaPassword").await;
    let squad = team(&app, &ada, &[]).await;
    let path = format!("/api/v1/teams/{squad}/events");
    let other = login(&app, "adapassword@example.com", "other").await;
    let mut others = stream(&app, &path, Some(&other)).await;
    let others_ticket = ticket(&app, &User { bearer: other.clone(), ..ada.clone() }).await;
    let mut mine = stream(&app, &path, Some(&ada.bearer)).await;

    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let res =
        call(&app, &ada, Method::POST, "/api/v1/auth/password", Some(change("wrong password", "a new password"))).await;
    assert!(res.problem(403)["detail"].as_str().unwrap().contains("current_password"), "a wrong current password");
    let res = call(&app, &ada, Method::POST, "/api/v1/auth/password", Some(change("", "short"))).await;
    assert_eq!(res.error_fields(), ["current_password", "new_password"]);
    let res = call(
        &app,
        &ada,
        Method::POST,
        "/api/v1/auth/password",
        Some(change("correct horse battery", "a new password")),
    )
    .await;
    ok(&res, 204);

    ends_within(&mut others, Duration::from_secs(1), "another session's").await;
    app.as_user(Some(&other), Method::GET, "/api/v1/users/me", &[], None).await.problem(401);
    let res = app
        .as_user(None, Method::GET, &format!("{path}?ticket={others_ticket}"), &[("accept", "text/event-stream")], None)
        .await;
    res.problem(401);
    assert!(still_open(&mut mine, Duration::from_millis(300)).await, "the session that changed it stays");
    ok(&call(&app, &ada, Method::GET, "/api/v1/users/me", None).await, 200);
    let login = |password: &str| json!({"email": "adapassword@example.com", "password": password});
    app.post_json("/api/v1/auth/login", &login("correct horse battery")).await.problem(401);
    ok(&app.post_json("/api/v1/auth/login", &login("a new password")).await, 200);
}

#[actix_rt::test]
async fn a_stream_ends_when_its_token_expires_and_when_its_member_leaves_or_is_removed() {
    let app = spawn_app_configured(|_| {}).await;
    let (ada, bob) = (user(&app, "AdaExpiry").await, user(&app, "BobExpiry").await);
    let squad = team(&app, &ada, &[&bob]).await;
    let path = format!("/api/v1/teams/{squad}/events");

    // Bob's token expires in a moment (set in the database before its first use).
    {
        use diesel::RunQueryDsl as _;
        let db = storage::Database::connect(&app.db_url, &storage::DbConfig::default()).unwrap();
        let soon = chrono::Utc::now().timestamp_millis() + 3_000;
        let bob_id = bob.id.clone();
        db.write(move |c| {
            storage::sql::sql("UPDATE tokens SET expires_at = ")
                .bind_int(soon)
                .sql(" WHERE user_id = ")
                .bind_text(bob_id.clone())
                .untyped()
                .execute(c)?;
            Ok(())
        })
        .unwrap();
    }
    let mut expiring = stream(&app, &path, Some(&bob.bearer)).await;
    ends_within(&mut expiring, Duration::from_secs(5), "an expired token's").await;

    // Leaving the team ends the member's stream.
    let carol = user(&app, "CarolLeaves").await;
    ok(
        &call(&app, &ada, Method::POST, &format!("/api/v1/teams/{squad}/members"), Some(json!({"user_id": carol.id})))
            .await,
        201,
    );
    let mut carols = stream(&app, &path, Some(&carol.bearer)).await;
    ok(&call(&app, &carol, Method::DELETE, &format!("/api/v1/teams/{squad}/members/{}", carol.id), None).await, 204);
    ends_within(&mut carols, Duration::from_secs(1), "a member who left").await;

    // Being removed by an admin ends it too, within a second.
    let dave = user(&app, "DaveRemoved").await;
    let members = format!("/api/v1/teams/{squad}/members");
    ok(&call(&app, &ada, Method::POST, &members, Some(json!({"user_id": dave.id}))).await, 201);
    let mut daves = stream(&app, &path, Some(&dave.bearer)).await;
    ok(&call(&app, &ada, Method::DELETE, &format!("{members}/{}", dave.id), None).await, 204);
    ends_within(&mut daves, Duration::from_secs(1), "a removed member").await;
}

#[actix_rt::test]
async fn head_checks_a_ticket_without_using_it_up() {
    let app = spawn_app_configured(|_| {}).await;
    let ada = user(&app, "AdaHeadTicket").await;
    let squad = team(&app, &ada, &[]).await;
    let path = format!("/api/v1/teams/{squad}/events?ticket={}", ticket(&app, &ada).await);
    let accept = [("accept", "text/event-stream")];
    let head = tokio::time::timeout(Duration::from_secs(5), app.as_user(None, Method::HEAD, &path, &accept, None))
        .await
        .expect("HEAD answers at once");
    assert_eq!(head.status, 200);
    // The same ticket still opens the stream, once.
    stream(&app, &path, None).await;
    app.as_user(None, Method::GET, &path, &accept, None).await.problem(401);
}

#[actix_rt::test]
async fn under_a_low_descriptor_limit_streams_at_their_cap_leave_the_api_answering() {
    let db = storage::TestDatabase::new();
    // 512 descriptors: 64 kept in reserve, 448 connections, at most 224 streams. The
    // attacker may hold every one of them (a per-user limit above the gateway's).
    let server = ProcessApp::start_with(db.url(), &["--max-streams-per-user", "100000"], Some(512));
    let base = server.base.clone();
    let post = |path: &'static str, body: Value, auth: Option<String>| {
        let base = base.clone();
        async move {
            let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
            headers.extend(auth.map(|a| ("authorization".to_string(), a)));
            let client = awc::Client::builder().timeout(Duration::from_secs(10)).finish();
            let mut req = client.post(format!("{base}{path}"));
            for (name, value) in &headers {
                req = req.insert_header((name.as_str(), value.as_str()));
            }
            let mut res = req.send_body(body.to_string()).await.unwrap();
            let body: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap_or(Value::Null);
            (res.status().as_u16(), body)
        }
    };
    let registration =
        json!({"email": "mallory@example.com", "display_name": "Mallory", "password": "correct horse battery"});
    assert_eq!(post("/api/v1/auth/register", registration, None).await.0, 201);
    let login = json!({"email": "mallory@example.com", "password": "correct horse battery"});
    let bearer = format!("Bearer {}", post("/api/v1/auth/login", login, None).await.1["token"].as_str().unwrap());
    let (status, squad) = post("/api/v1/teams", json!({"name": "Flood"}), Some(bearer.clone())).await;
    assert_eq!(status, 201);
    let path = format!("/api/v1/teams/{}/events", squad["id"].as_str().unwrap());

    let mut held = Vec::new();
    let refused = loop {
        assert!(held.len() < 600, "600 streams accepted under a 512-descriptor limit");
        let (socket, head) = open_raw(&base, &path, Some(&bearer)).await;
        match status_of(&head) {
            200 => held.push(socket),
            status => break (status, head),
        }
    };
    assert_eq!(refused.0, 429, "{}", refused.1);
    assert!(held.len() >= 100, "the cap lets a fair number of streams in: {}", held.len());

    // Everyone else is still served, quickly: a liveness probe and a write.
    let client = awc::Client::builder().timeout(Duration::from_secs(2)).finish();
    for _ in 0..5 {
        let mut res = client.get(format!("{base}/healthz")).send().await.expect("/healthz answers within 2 s");
        assert_eq!(res.status(), 200);
        res.body().await.unwrap();
        let res = client
            .post(format!("{base}/api/v1/notes"))
            .insert_header(("content-type", "application/json"))
            .send_body(json!({"content": "still writing"}).to_string())
            .await
            .expect("a write answers within 2 s");
        assert_eq!(res.status(), 201);
    }
    drop(held);
}
