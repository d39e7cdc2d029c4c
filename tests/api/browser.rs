//! A real browser's `EventSource` against the team event stream, authenticated with a
//! stream ticket. Needs Chromium (`make browser` installs it); without it the test says
//! so and passes without running.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::json;

use crate::helpers::{send, spawn_app};

fn chromium() -> Option<String> {
    let candidates =
        [std::env::var("CHROMIUM").ok(), Some("/usr/bin/chromium".into()), Some("/usr/bin/chromium-browser".into())];
    candidates.into_iter().flatten().find(|path| std::path::Path::new(path).exists())
}

/// Notes on the anonymous board whose title is `title`.
async fn notes_titled(base: &str, title: &str) -> Vec<String> {
    let res = send(base, actix_web::http::Method::GET, "/api/v1/notes?limit=200", &[], None).await;
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["title"] == title)
        .map(|n| n["content"].as_str().unwrap().to_string())
        .collect()
}

#[actix_rt::test]
async fn a_browser_event_source_receives_team_events_with_a_ticket() {
    let Some(browser) = chromium() else {
        eprintln!(
            "SKIPPED a_browser_event_source_receives_team_events_with_a_ticket: no Chromium here (run `make browser`)"
        );
        return;
    };
    let app = spawn_app().await;
    let base = app.base.clone();
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "ada@x.io", "display_name": "Ada", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status, 201);
    let login =
        app.post_json("/api/v1/auth/login", &json!({"email": "ada@x.io", "password": "correct horse battery"})).await;
    let bearer = format!("Bearer {}", login.json()["token"].as_str().unwrap());
    let auth = [("authorization", bearer.as_str())];
    let post = |path: String, body: serde_json::Value| {
        let (base, bearer) = (base.clone(), bearer.clone());
        async move {
            let body = Some(("application/json", body.to_string().into_bytes()));
            send(&base, actix_web::http::Method::POST, &path, &[("authorization", bearer.as_str())], body).await
        }
    };
    let team = post("/api/v1/teams".into(), json!({"name": "Squad"})).await.json()["id"].as_str().unwrap().to_string();
    let ticket_res = send(&base, actix_web::http::Method::POST, "/api/v1/auth/stream-tickets", &auth, None).await;
    let ticket = ticket_res.json()["ticket"].as_str().unwrap().to_string();

    // The page, served from another origin (CORS as a real front end has it). It reports
    // what it sees by creating notes on the anonymous board.
    let page = format!(
        r#"<!doctype html><script>
const api = "{base}/api/v1";
const note = (title, content) => fetch(api + "/notes", {{method: "POST",
  headers: {{"content-type": "application/json"}}, body: JSON.stringify({{title, content}})}});
const source = new EventSource(api + "/teams/{team}/events?ticket={ticket}");
source.onopen = () => note("open", "open");
source.addEventListener("project.created", (e) => {{
  note("seen", e.lastEventId + " " + JSON.parse(e.data).details.name);
  source.close();
}});
source.onerror = () => note("error", String(source.readyState));
</script>"#
    );
    let server = HttpServer::new(move || {
        let page = page.clone();
        App::new().route(
            "/",
            web::get().to(move || {
                let page = page.clone();
                async move { HttpResponse::Ok().content_type("text/html").body(page) }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let page_url = format!("http://{}/", server.addrs()[0]);
    let page_server = server.run();
    let page_handle = page_server.handle();
    actix_rt::spawn(page_server);

    let profile = tempfile::tempdir().unwrap();
    let mut chrome = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&page_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");

    let wait_for = |title: &'static str| {
        let base = base.clone();
        async move {
            for _ in 0..300 {
                let found = notes_titled(&base, title).await;
                if !found.is_empty() {
                    return found;
                }
                actix_rt::time::sleep(Duration::from_millis(100)).await;
            }
            Vec::new()
        }
    };
    let opened = wait_for("open").await;
    let result = if opened.is_empty() {
        Err(format!("the page never opened the stream (errors: {:?})", notes_titled(&base, "error").await))
    } else {
        let created = post(format!("/api/v1/teams/{team}/projects"), json!({"name": "Launch"})).await;
        assert_eq!(created.status, 201);
        let seen = wait_for("seen").await;
        let feed =
            send(&base, actix_web::http::Method::GET, &format!("/api/v1/teams/{team}/activity"), &auth, None).await;
        let entry_id = feed.json()["items"][0]["id"].as_str().unwrap().to_string();
        Ok((seen, entry_id))
    };
    let _ = chrome.kill();
    let _ = chrome.wait();
    page_handle.stop(true).await;
    let (seen, entry_id) = result.unwrap();
    assert_eq!(seen, vec![format!("{entry_id} Launch")], "the browser got the event with its id");
}
