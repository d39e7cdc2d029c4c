//! Two gateway processes on one PostgreSQL database (API section 8, issue 17 point 1): a
//! token, a logout, a revoked session's stream, a stream ticket and failed logins, each
//! made on one gateway and honoured by the other. On a SQLite run each test says it was
//! skipped and passes (a SQLite file has one gateway).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, send, Response, TwoGateways};
use crate::streams::{ends_within, still_open, stream_at};

const PASSWORD: &str = "correct horse battery";

/// A request to the gateway at `base` as `bearer` (`None`: anonymous).
async fn call(base: &str, bearer: Option<&str>, method: Method, path: &str, body: Option<Value>) -> Response {
    let headers: Vec<(&str, &str)> = bearer.map(|b| ("authorization", b)).into_iter().collect();
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(base, method, path, &headers, body).await
}

/// Registers `email` on `base`.
async fn register(base: &str, email: &str) {
    let user = json!({"email": email, "display_name": email, "password": PASSWORD});
    ok(&call(base, None, Method::POST, "/api/v1/auth/register", Some(user)).await, 201);
}

/// Logs `email` in on `base` with `password`.
async fn log_in(base: &str, email: &str, password: &str) -> Response {
    call(base, None, Method::POST, "/api/v1/auth/login", Some(json!({"email": email, "password": password}))).await
}

/// A new session of `email` on `base`: its `Authorization` value.
async fn session(base: &str, email: &str) -> String {
    format!("Bearer {}", ok(&log_in(base, email, PASSWORD).await, 200)["token"].as_str().unwrap())
}

/// A team of the caller's, made on `base`: its events path.
async fn team_events(base: &str, bearer: &str) -> String {
    let team = ok(&call(base, Some(bearer), Method::POST, "/api/v1/teams", Some(json!({"name": "Squad"}))).await, 201);
    format!("/api/v1/teams/{}/events", team["id"].as_str().unwrap())
}

#[actix_rt::test]
async fn a_token_from_one_gateway_works_on_the_other() {
    let Some(gateways) = TwoGateways::start("a_token_from_one_gateway_works_on_the_other") else { return };
    let (a, b) = (&gateways.a.base, &gateways.b.base);
    register(a, "ada@example.com").await;
    let bearer = session(a, "ada@example.com").await;
    let me = ok(&call(b, Some(&bearer), Method::GET, "/api/v1/users/me", None).await, 200);
    assert_eq!(me["email"], "ada@example.com");
    // And what one gateway writes for the token, the other reads.
    let note = json!({"title": "from a", "content": "x"});
    let created = ok(&call(a, Some(&bearer), Method::POST, "/api/v1/notes", Some(note)).await, 201);
    let path = format!("/api/v1/notes/{}", created["id"].as_str().unwrap());
    assert_eq!(ok(&call(b, Some(&bearer), Method::GET, &path, None).await, 200)["title"], "from a");
}

#[actix_rt::test]
async fn a_logout_on_one_gateway_is_refused_by_the_other_within_a_second() {
    let Some(gateways) = TwoGateways::start("a_logout_on_one_gateway_is_refused_by_the_other_within_a_second") else {
        return;
    };
    let (a, b) = (&gateways.a.base, &gateways.b.base);
    register(a, "ada@example.com").await;
    let bearer = session(a, "ada@example.com").await;
    // B has seen the token: it is in B's session cache.
    ok(&call(b, Some(&bearer), Method::GET, "/api/v1/users/me", None).await, 200);
    ok(&call(b, Some(&bearer), Method::GET, "/api/v1/users/me", None).await, 200);

    ok(&call(a, Some(&bearer), Method::POST, "/api/v1/auth/logout", None).await, 204);
    let logged_out = Instant::now();
    loop {
        let res = call(b, Some(&bearer), Method::GET, "/api/v1/users/me", None).await;
        if res.status == 401 {
            break;
        }
        assert_eq!(res.status, 200);
        assert!(
            logged_out.elapsed() <= Duration::from_secs(1),
            "B still takes the token after {:?}",
            logged_out.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("a logout on A was refused by B after {:?}", logged_out.elapsed());
    assert!(logged_out.elapsed() <= Duration::from_secs(1));
    call(b, Some(&bearer), Method::GET, "/api/v1/users/me", None).await.problem(401);
}

#[actix_rt::test]
async fn revoking_a_session_on_one_gateway_ends_its_stream_on_the_other() {
    let Some(gateways) = TwoGateways::start("revoking_a_session_on_one_gateway_ends_its_stream_on_the_other") else {
        return;
    };
    let (a, b) = (&gateways.a.base, &gateways.b.base);
    register(a, "ada@example.com").await;
    let (laptop, phone) = (session(a, "ada@example.com").await, session(a, "ada@example.com").await);
    let events = team_events(a, &laptop).await;
    let mut phones = stream_at(b, &events, Some(&phone)).await;
    let mut laptops = stream_at(b, &events, Some(&laptop)).await;

    let sessions = ok(&call(a, Some(&laptop), Method::GET, "/api/v1/auth/sessions", None).await, 200);
    let phone_id = sessions["items"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&call(a, Some(&laptop), Method::DELETE, &format!("/api/v1/auth/sessions/{phone_id}"), None).await, 204);
    let revoked = Instant::now();
    ends_within(&mut phones, Duration::from_secs(1), "the revoked session's stream on B").await;
    eprintln!("a session revoked on A ended its stream on B after {:?}", revoked.elapsed());
    assert!(still_open(&mut laptops, Duration::from_millis(300)).await, "another session's stream goes on");
}

#[actix_rt::test]
async fn a_ticket_minted_on_one_gateway_opens_one_stream_on_the_other() {
    let Some(gateways) = TwoGateways::start("a_ticket_minted_on_one_gateway_opens_one_stream_on_the_other") else {
        return;
    };
    let (a, b) = (&gateways.a.base, &gateways.b.base);
    register(a, "ada@example.com").await;
    let bearer = session(a, "ada@example.com").await;
    let events = team_events(a, &bearer).await;
    let res = call(a, Some(&bearer), Method::POST, "/api/v1/auth/stream-tickets", None).await;
    let ticket = ok(&res, 200)["ticket"].as_str().unwrap().to_string();
    let path = format!("{events}?ticket={ticket}");

    let mut opened = stream_at(b, &path, None).await;
    assert!(still_open(&mut opened, Duration::from_millis(200)).await);
    let again = send(a, Method::GET, &path, &[("accept", "text/event-stream")], None).await;
    again.problem(401);
    let on_b = send(b, Method::GET, &path, &[("accept", "text/event-stream")], None).await;
    on_b.problem(401);
}

#[actix_rt::test]
async fn failed_logins_on_both_gateways_count_toward_one_limit() {
    let Some(gateways) = TwoGateways::start("failed_logins_on_both_gateways_count_toward_one_limit") else { return };
    let (a, b) = (&gateways.a.base, &gateways.b.base);
    register(a, "ada@example.com").await;
    // One gateway refuses the 11th failure for one email from one address (API section 4):
    // ten failures split over both gateways reach the same limit.
    for i in 0..10 {
        let base = if i % 2 == 0 { a } else { b };
        assert_eq!(log_in(base, "ada@example.com", "wrong password").await.status, 401, "attempt {i}");
    }
    for base in [a, b] {
        let refused = log_in(base, "ada@example.com", PASSWORD).await;
        refused.problem(429);
        assert!(refused.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    }
}
