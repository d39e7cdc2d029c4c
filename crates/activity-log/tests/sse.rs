//! The team stream over real HTTP: a browser-style client authenticates with a stream
//! ticket (no bearer token in the URL), gets events as they commit, and resumes with
//! `Last-Event-ID` without gaps or repeats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use accounts::{AccountService, AccountsConfig, Authentication, Credentials, DbAccounts, NewUser, StreamTickets};
use activity_log::stream::{resume_point, team_stream, Watch};
use activity_log::{ActivityLog, InProcessPublisher, NewEntry};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use core_models::sse::Shutdown;
use core_models::{AppResult, Caller};
use futures_util::StreamExt as _;
use storage::Database;
use uuid::Uuid;

#[derive(serde::Deserialize)]
struct StreamParams {
    #[allow(dead_code)]
    ticket: Option<String>,
    last_event_id: Option<String>,
}

async fn events(
    req: HttpRequest,
    _caller: Caller,
    team: web::Path<Uuid>,
    params: web::Query<StreamParams>,
    log: web::Data<ActivityLog>,
    db: web::Data<Database>,
    shutdown: web::Data<Shutdown>,
) -> AppResult<HttpResponse> {
    let team = team.into_inner();
    let live = log.subscribe(team);
    let after = match resume_point(&req, params.last_event_id.as_deref())? {
        Some((id, field)) => Some(log.resume_position(&mut *db.read()?, team, id, field)?),
        None => None,
    };
    let heartbeat = Duration::from_millis(200);
    Ok(team_stream(
        Watch::new(live, db.get_ref().clone(), team, after),
        shutdown.get_ref().clone().triggered_owned(),
        heartbeat,
        |_| false,
    ))
}

/// One parsed server-sent event.
#[derive(Debug)]
struct Event {
    id: String,
    event: String,
    data: serde_json::Value,
}

/// Reads events (skipping comments) until `n` have arrived.
async fn read_events(
    body: &mut (impl futures_util::Stream<Item = Result<web::Bytes, awc::error::PayloadError>> + Unpin),
    buf: &mut String,
    n: usize,
) -> Vec<Event> {
    let mut out = Vec::new();
    while out.len() < n {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut event = Event { id: String::new(), event: String::new(), data: serde_json::Value::Null };
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    event.id = v.into();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event.event = v.into();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    event.data = serde_json::from_str(v).unwrap();
                }
            }
            if !event.id.is_empty() {
                out.push(event);
            }
        }
        if out.len() >= n {
            break;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next()).await.expect("an event in time");
        buf.push_str(std::str::from_utf8(&chunk.expect("stream open").unwrap()).unwrap());
    }
    out
}

#[actix_rt::test]
async fn a_browser_style_client_streams_and_resumes() {
    let db = storage::test_pool();
    let accounts: Arc<dyn AccountService> =
        Arc::new(DbAccounts::new(db.database(), AccountsConfig::insecure_for_tests()));
    let ada = accounts
        .register(NewUser { email: "ada@x.io".into(), display_name: "Ada".into(), password: "correct horse".into() })
        .unwrap();
    let caller = Caller::new(ada.id, "Ada");
    // Tickets belong to a session: log in for one.
    let credentials = Credentials { email: "ada@x.io".into(), password: "correct horse".into() };
    let session = accounts.login(credentials).unwrap();
    let owner = accounts.authenticate(session.token.expose_secret()).unwrap().stream_owner();
    let tickets = Arc::new(StreamTickets::new(db.database()));
    let auth = Authentication::new(accounts.clone(), tickets.clone());
    let log = ActivityLog::new(Arc::new(InProcessPublisher::default()));
    let shutdown = Shutdown::new();
    let team = Uuid::now_v7();

    let (server_db, server_log, server_shutdown) = (db.database(), log.clone(), shutdown.clone());
    let server = HttpServer::new(move || {
        let auth = auth.clone();
        App::new()
            .app_data(web::Data::new(server_log.clone()))
            .app_data(web::Data::new(server_db.clone()))
            .app_data(web::Data::new(server_shutdown.clone()))
            .route("/teams/{team}/events", web::get().to(events))
            .wrap(from_fn(move |req, next| auth.clone().call(req, next)))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let base = format!("http://{}", server.addrs()[0]);
    let running = server.run();
    let handle = running.handle();
    actix_rt::spawn(running);

    let write = |action: &'static str| {
        let (log, caller) = (log.clone(), caller.clone());
        db.write(move |c| log.append(c, &caller, NewEntry::new(team, action))).unwrap()
    };
    let before = write("team.created");

    let client = awc::Client::default();
    let url = format!("{base}/teams/{team}/events");
    // No credentials: 401. A made-up ticket: 401. No ticket without an event-stream Accept.
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let bogus = client.get(format!("{url}?ticket=nope")).insert_header(("Accept", "text/event-stream")).send().await;
    assert_eq!(bogus.unwrap().status(), 401);
    let (ticket, _) = tickets.issue(&owner).unwrap();
    let plain = client.get(format!("{url}?ticket={ticket}")).send().await.unwrap();
    assert_eq!(plain.status(), 401, "tickets open event streams only");

    let (ticket, _) = tickets.issue(&owner).unwrap();
    let mut res = client
        .get(format!("{url}?ticket={ticket}"))
        .insert_header(("Accept", "text/event-stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/event-stream");
    let mut buf = String::new();
    let first = write("task.created");
    let second = write("task.updated");
    let got = read_events(&mut res, &mut buf, 2).await;
    assert_eq!(got.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), [first.id.to_string(), second.id.to_string()]);
    assert_eq!(got[0].event, "task.created");
    assert_eq!(got[0].data["actor"]["display_name"], "Ada");
    assert_ne!(got[0].id, before.id.to_string(), "a fresh stream starts now");
    // Idle: a keep-alive comment arrives.
    let idle = tokio::time::timeout(Duration::from_secs(5), res.next()).await.unwrap().unwrap().unwrap();
    assert!(std::str::from_utf8(&idle).unwrap().contains(": keep-alive"));
    drop(res);

    // The ticket was single-use; a reconnect needs a new one. Missed entries replay first.
    let reused =
        client.get(format!("{url}?ticket={ticket}")).insert_header(("Accept", "text/event-stream")).send().await;
    assert_eq!(reused.unwrap().status(), 401);
    let missed = [write("comment.created"), write("task.deleted")];
    let (ticket, _) = tickets.issue(&owner).unwrap();
    let mut res = client
        .get(format!("{url}?ticket={ticket}"))
        .insert_header(("Accept", "text/event-stream"))
        .insert_header(("Last-Event-ID", second.id.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let live = write("task.assigned");
    let mut buf = String::new();
    let got = read_events(&mut res, &mut buf, 3).await;
    let expected = [missed[0].id, missed[1].id, live.id].map(|id| id.to_string());
    assert_eq!(got.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), expected, "replay then live, no gap, no repeat");

    // A garbage Last-Event-ID is a 422 naming it.
    let (ticket, _) = tickets.issue(&owner).unwrap();
    let mut bad = client
        .get(format!("{url}?ticket={ticket}"))
        .insert_header(("Accept", "text/event-stream"))
        .insert_header(("Last-Event-ID", "42"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let problem: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Last-Event-ID");

    // Shutdown ends the open stream promptly.
    shutdown.trigger();
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = res.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the stream ended at shutdown");
    handle.stop(true).await;
}
