//! A real browser's `EventSource` against the event streams (a team's, and the caller's
//! own notifications at `/me/events`), authenticated with a stream ticket. Needs Chromium
//! (`make browser` installs it); without it each test says so and passes without running.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::Method;
use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::json;

use crate::helpers::{ok, send, spawn_app, user, TestApp, User};

/// The Chromium to run `test` with; without one, says that `test` is skipped.
fn chromium(test: &str) -> Option<String> {
    let candidates =
        [std::env::var("CHROMIUM").ok(), Some("/usr/bin/chromium".into()), Some("/usr/bin/chromium-browser".into())];
    let found = candidates.into_iter().flatten().find(|path| std::path::Path::new(path).exists());
    if found.is_none() {
        eprintln!("SKIPPED {test}: no Chromium here (run `make browser`)");
    }
    found
}

/// Notes on the anonymous board whose title is `title`.
async fn notes_titled(base: &str, title: &str) -> Vec<String> {
    let res = send(base, Method::GET, "/api/v1/notes?limit=200", &[], None).await;
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["title"] == title)
        .map(|n| n["content"].as_str().unwrap().to_string())
        .collect()
}

/// The contents of the notes titled `title` once there are any (up to 30 s), or none.
async fn wait_for(base: &str, title: &str) -> Vec<String> {
    for _ in 0..300 {
        let found = notes_titled(base, title).await;
        if !found.is_empty() {
            return found;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}

/// A page whose script opens `stream` (a path under the API with its ticket) in an
/// `EventSource` and reports what it sees by creating notes on the anonymous board:
/// "open" when the stream opens, "seen" with the last event id and `report(data)` for
/// the first event named `event`, "error" with the ready state on an error.
fn page(base: &str, stream: &str, event: &str, report: &str) -> String {
    format!(
        r#"<!doctype html><script>
const api = "{base}/api/v1";
const note = (title, content) => fetch(api + "/notes", {{method: "POST",
  headers: {{"content-type": "application/json"}}, body: JSON.stringify({{title, content}})}});
const source = new EventSource(api + "{stream}");
source.onopen = () => note("open", "open");
source.addEventListener("{event}", (e) => {{
  note("seen", e.lastEventId + " " + ({report})(JSON.parse(e.data)));
  source.close();
}});
source.onerror = () => note("error", String(source.readyState));
</script>"#
    )
}

/// Chromium showing `html`, served from another origin than the API (CORS as a real
/// front end has it).
struct Browser {
    chrome: Child,
    page_server: ServerHandle,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn open(browser: &str, html: String) -> Self {
        let server = HttpServer::new(move || {
            let html = html.clone();
            App::new().route(
                "/",
                web::get().to(move || {
                    let html = html.clone();
                    async move { HttpResponse::Ok().content_type("text/html").body(html) }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let page_url = format!("http://{}/", server.addrs()[0]);
        let page_server = server.run();
        let handle = page_server.handle();
        actix_rt::spawn(page_server);
        let profile = tempfile::tempdir().unwrap();
        let chrome = Command::new(browser)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(&page_url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        Browser { chrome, page_server: handle, _profile: profile }
    }

    async fn close(mut self) {
        let _ = self.chrome.kill();
        let _ = self.chrome.wait();
        self.page_server.stop(true).await;
    }
}

/// Opens `html` in the browser, waits for its stream to open, runs `act`, and returns
/// what the page reported seeing with `act`'s result; an error when the stream never
/// opened.
async fn watch<T, F: std::future::Future<Output = T>>(
    browser: &str,
    base: &str,
    html: String,
    act: impl FnOnce() -> F,
) -> Result<(Vec<String>, T), String> {
    let browser = Browser::open(browser, html);
    let result = if wait_for(base, "open").await.is_empty() {
        Err(format!("the page never opened the stream (errors: {:?})", notes_titled(base, "error").await))
    } else {
        let acted = act().await;
        Ok((wait_for(base, "seen").await, acted))
    };
    browser.close().await;
    result
}

/// `who`'s request, which must answer `status`; its body.
async fn call(
    app: &TestApp,
    who: &User,
    (method, path, status): (Method, &str, u16),
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    ok(&app.as_user(Some(&who.bearer), method, path, &[], body.as_ref()).await, status)
}

#[actix_rt::test]
async fn a_browser_event_source_receives_team_events_with_a_ticket() {
    let Some(browser) = chromium("a_browser_event_source_receives_team_events_with_a_ticket") else { return };
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let team = call(&app, &ada, (Method::POST, "/api/v1/teams", 201), Some(json!({"name": "Squad"}))).await;
    let team = team["id"].as_str().unwrap().to_string();
    let ticket = call(&app, &ada, (Method::POST, "/api/v1/auth/stream-tickets", 200), None).await;
    let stream = format!("/teams/{team}/events?ticket={}", ticket["ticket"].as_str().unwrap());
    let html = page(&app.base, &stream, "project.created", "(data) => data.details.name");
    let (seen, entry_id) = watch(&browser, &app.base, html, || async {
        call(
            &app,
            &ada,
            (Method::POST, &format!("/api/v1/teams/{team}/projects"), 201),
            Some(json!({"name": "Launch"})),
        )
        .await;
        let feed = call(&app, &ada, (Method::GET, &format!("/api/v1/teams/{team}/activity"), 200), None).await;
        feed["items"][0]["id"].as_str().unwrap().to_string()
    })
    .await
    .unwrap();
    assert_eq!(seen, vec![format!("{entry_id} Launch")], "the browser got the event with its id");
}

/// `/me/events` in a browser: a teammate assigns the caller a task, and the page's
/// `EventSource` gets the `notification` event, its id the notification's.
#[actix_rt::test]
async fn a_browser_event_source_receives_its_notifications_with_a_ticket() {
    let Some(browser) = chromium("a_browser_event_source_receives_its_notifications_with_a_ticket") else { return };
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "AdaBrowser").await, user(&app, "BobBrowser").await);
    let team = call(&app, &ada, (Method::POST, "/api/v1/teams", 201), Some(json!({"name": "Squad"}))).await;
    let team = team["id"].as_str().unwrap().to_string();
    call(&app, &ada, (Method::POST, &format!("/api/v1/teams/{team}/members"), 201), Some(json!({"user_id": bob.id})))
        .await;
    let project = call(
        &app,
        &ada,
        (Method::POST, &format!("/api/v1/teams/{team}/projects"), 201),
        Some(json!({"name": "Launch"})),
    )
    .await;
    let tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());
    let ticket = call(&app, &ada, (Method::POST, "/api/v1/auth/stream-tickets", 200), None).await;
    let stream = format!("/me/events?ticket={}", ticket["ticket"].as_str().unwrap());
    let html = page(&app.base, &stream, "notification", "(data) => data.kind + ' ' + data.activity.action");
    let (seen, notification_id) = watch(&browser, &app.base, html, || async {
        call(&app, &bob, (Method::POST, &tasks, 201), Some(json!({"title": "Ship", "assignee_id": ada.id}))).await;
        let mine = call(&app, &ada, (Method::GET, "/api/v1/me/notifications", 200), None).await;
        mine["items"][0]["id"].as_str().unwrap().to_string()
    })
    .await
    .unwrap();
    assert_eq!(seen, vec![format!("{notification_id} assigned task.created")], "the browser got it with its id");
}
