//! Webhooks over HTTP (API section 7): team admins register them and see their secret
//! once; a receiver on loopback gets the team's matching activity signed, each delivery
//! accepted once though it failed first; deliveries are listed, pinged and retried.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::http::Method;
use serde_json::{json, Value};
use webhooks::testing::{Received, Receiver};

use crate::helpers::{ok, spawn_app, spawn_app_configured, user, TestApp, User};

const WAIT: Duration = Duration::from_secs(10);

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> crate::helpers::Response {
    app.as_user(Some(&who.bearer), method, path, &[], body.as_ref()).await
}

/// A team of `admin` with `members`, and a project in it.
async fn team_of(app: &TestApp, admin: &User, members: &[&User]) -> (String, String) {
    let team = ok(&call(app, admin, Method::POST, "/api/v1/teams", Some(json!({"name": "Hooks"}))).await, 201);
    let team = team["id"].as_str().unwrap().to_string();
    for member in members {
        let path = format!("/api/v1/teams/{team}/members");
        ok(&call(app, admin, Method::POST, &path, Some(json!({"user_id": member.id}))).await, 201);
    }
    let path = format!("/api/v1/teams/{team}/projects");
    let project = ok(&call(app, admin, Method::POST, &path, Some(json!({"name": "Launch"}))).await, 201);
    (team, project["id"].as_str().unwrap().to_string())
}

async fn activity(app: &TestApp, who: &User, team: &str) -> Vec<Value> {
    let res = call(app, who, Method::GET, &format!("/api/v1/teams/{team}/activity?limit=200"), None).await;
    ok(&res, 200)["items"].as_array().unwrap().clone()
}

fn verified(received: &Received, secret: &str) -> bool {
    let mut headers = http::HeaderMap::new();
    headers.insert("webhook-id", received.id.parse().unwrap());
    headers.insert("webhook-timestamp", received.timestamp.parse().unwrap());
    headers.insert("webhook-signature", received.signature.parse().unwrap());
    standardwebhooks::Webhook::new(secret).unwrap().verify(received.body.as_bytes(), &headers).is_ok()
}

#[actix_rt::test]
async fn webhooks_belong_to_team_admins_and_show_their_secret_once() {
    let app = spawn_app().await;
    let (ada, bob, eve) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Eve").await);
    let (team, _) = team_of(&app, &ada, &[&bob]).await;
    let hooks = format!("/api/v1/teams/{team}/webhooks");
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["task.*", "comment.created"], "description": "CI"});

    let res = call(&app, &ada, Method::POST, &hooks, Some(body.clone())).await;
    let created = ok(&res, 201);
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    assert_eq!(created["events"], json!(["task.*", "comment.created"]));
    assert_eq!((created["active"].clone(), created["version"].clone()), (json!(true), json!(1)));
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/webhooks/{id}"));
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let keyed = app.as_user(Some(&ada.bearer), Method::POST, &hooks, &[("idempotency-key", "k1")], Some(&body)).await;
    assert_eq!(keyed.error_fields(), ["Idempotency-Key"], "a secret-bearing response is never stored");

    // Members who are not admins, and outsiders, learn nothing.
    let one = format!("/api/v1/webhooks/{id}");
    assert_eq!(call(&app, &bob, Method::POST, &hooks, Some(body.clone())).await.problem(404)["status"], 404);
    assert_eq!(call(&app, &bob, Method::GET, &hooks, None).await.status, 404);
    assert_eq!(call(&app, &eve, Method::GET, &one, None).await.status, 404);
    assert_eq!(call(&app, &bob, Method::GET, &format!("{one}/deliveries"), None).await.status, 404);

    let listed = call(&app, &ada, Method::GET, &hooks, None).await;
    assert_eq!(ok(&listed, 200)["items"].as_array().unwrap().len(), 1);
    assert!(!String::from_utf8_lossy(&listed.body).contains("secret\""), "never the secret again");
    assert!(!String::from_utf8_lossy(&call(&app, &ada, Method::GET, &one, None).await.body).contains(&secret));

    let bad = json!({"url": "ftp://example.com/x", "events": ["task.*", "task.creatd", "nope.*"], "description": 5});
    let res = call(&app, &ada, Method::POST, &hooks, Some(bad)).await;
    assert_eq!(res.error_fields(), ["description", "url", "events[1]", "events[2]"]);

    let res = call(&app, &ada, Method::PATCH, &one, Some(json!({"active": false, "events": ["comment.*"]}))).await;
    let changed = ok(&res, 200);
    assert_eq!((changed["active"].clone(), changed["version"].clone()), (json!(false), json!(2)));
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    let stale = app
        .as_user(Some(&ada.bearer), Method::PATCH, &one, &[("if-match", "\"1\"")], Some(&json!({"active": true})))
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(call(&app, &ada, Method::PATCH, &one, Some(json!({"url": null}))).await.error_fields(), ["url"]);

    let rotated = ok(&call(&app, &ada, Method::POST, &format!("{one}/secret"), None).await, 200);
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(rotated["previous_secret_expires_at"].is_string());

    assert_eq!(call(&app, &ada, Method::DELETE, &one, None).await.status, 204);
    assert_eq!(call(&app, &ada, Method::GET, &one, None).await.status, 404);
    let log = activity(&app, &ada, &team).await;
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions[..4], ["webhook.deleted", "webhook.secret_rotated", "webhook.updated", "webhook.created"]);
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(&secret[6..]) && !text.contains(&new_secret[6..]), "no secret in the activity log");
    assert_eq!(log[2]["details"]["active"], json!({"from": true, "to": false}));
}

#[actix_rt::test]
async fn receivers_on_private_addresses_are_refused_without_the_flag() {
    let app = spawn_app_configured(|settings| settings.webhook_allow_private = false).await;
    let ada = user(&app, "Ada").await;
    let (team, _) = team_of(&app, &ada, &[]).await;
    let hooks = format!("/api/v1/teams/{team}/webhooks");
    for url in [
        "http://127.0.0.1/hook",
        "http://localhost:8080/x",
        "http://[::1]/",
        "http://169.254.169.254/latest",
        "http://10.0.0.7/",
    ] {
        let res = call(&app, &ada, Method::POST, &hooks, Some(json!({"url": url, "events": ["task.*"]}))).await;
        assert_eq!(res.error_fields(), ["url"], "{url}");
    }
}

#[actix_rt::test]
async fn team_activity_arrives_signed_and_deliveries_are_listed_pinged_and_retried() {
    let app = spawn_app().await;
    let receiver = Receiver::start();
    let ada = user(&app, "Ada").await;
    let (team, project) = team_of(&app, &ada, &[]).await;
    let body = json!({"url": receiver.url, "events": ["task.*", "comment.created"]});
    let created = ok(&call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team}/webhooks"), Some(body)).await, 201);
    let (id, secret) = (created["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string());
    receiver.answer(&[500]);

    let tasks = format!("/api/v1/projects/{project}/tasks");
    let task = ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": "Ship"}))).await, 201);
    let task = format!("{tasks}/{}", task["id"].as_str().unwrap());
    ok(&call(&app, &ada, Method::PATCH, &task, Some(json!({"status": "done"}))).await, 200);
    ok(&call(&app, &ada, Method::POST, &format!("{task}/comments"), Some(json!({"body": "Shipped"}))).await, 201);
    ok(
        &call(&app, &ada, Method::PATCH, &format!("/api/v1/projects/{project}"), Some(json!({"name": "Launched"})))
            .await,
        200,
    );

    let delivered = receiver.wait_for_delivered(3, WAIT).await;
    let mut types: Vec<String> = delivered.iter().map(Received::action).collect();
    types.sort_unstable();
    assert_eq!(types, ["comment.created", "task.created", "task.status_changed"], "matching actions only");
    let entries = activity(&app, &ada, &team).await;
    for got in &delivered {
        assert!(verified(got, &secret), "signed with the webhook's secret: {got:?}");
        let entry = entries.iter().find(|e| e["id"] == got.json()["data"]["id"]).expect("an entry of the team");
        assert_eq!(got.json()["data"], *entry, "the body's data is the activity entry");
    }
    let all = receiver.received();
    assert_eq!(all[0].status, 500);
    assert_eq!(delivered.iter().filter(|r| r.id == all[0].id).count(), 1, "the failed one accepted once, on retry");

    // A ping, signed with both secrets after a rotation.
    let rotated = ok(&call(&app, &ada, Method::POST, &format!("/api/v1/webhooks/{id}/secret"), None).await, 200);
    let ping = ok(&call(&app, &ada, Method::POST, &format!("/api/v1/webhooks/{id}/ping"), None).await, 202);
    assert_eq!(ping["action"], "webhook.ping");
    let got = receiver.wait_until(WAIT, |r| r.iter().any(|r| r.id == ping["id"] && r.status == 200)).await;
    let pinged = got.iter().find(|r| r.id == ping["id"]).unwrap();
    assert_eq!(pinged.signature.split(' ').count(), 2);
    assert!(verified(pinged, &secret) && verified(pinged, rotated["secret"].as_str().unwrap()));

    // Newest first; the first delivery took two attempts.
    let deliveries = format!("/api/v1/webhooks/{id}/deliveries");
    let list = ok(&call(&app, &ada, Method::GET, &format!("{deliveries}?count=true"), None).await, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!((items.len(), list["total"].clone()), (4, json!(4)));
    assert_eq!(items[0]["id"], ping["id"]);
    let first = &items[3];
    assert_eq!(first["id"], all[0].id.as_str());
    assert_eq!((first["attempts"].clone(), first["last_status"].clone()), (json!(2), json!(200)));
    assert!(first["delivered_at"].is_string() && first["next_attempt_at"].is_null() && first["last_error"].is_null());
    let page = ok(&call(&app, &ada, Method::GET, &format!("{deliveries}?limit=3"), None).await, 200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = ok(&call(&app, &ada, Method::GET, &format!("{deliveries}?limit=3&cursor={cursor}"), None).await, 200);
    assert_eq!(rest["items"][0]["id"], first["id"]);

    // A retry sends the same delivery again, with the same webhook-id.
    let retry = format!("{deliveries}/{}/retry", all[0].id);
    assert_eq!(ok(&call(&app, &ada, Method::POST, &retry, None).await, 202)["id"], all[0].id.as_str());
    receiver.wait_until(WAIT, |r| r.iter().filter(|r| r.id == all[0].id && r.status == 200).count() == 2).await;
    let unknown = format!("{deliveries}/{}/retry", uuid::Uuid::now_v7());
    assert_eq!(call(&app, &ada, Method::POST, &unknown, None).await.status, 404);
}

/// A gateway with `--webhook-delivery off` writes every delivery and sends none; once a
/// gateway with delivery on runs on the same database (here: after a restart), each is
/// sent, once.
#[actix_rt::test]
async fn a_gateway_without_delivery_writes_the_outbox_and_one_with_it_sends_it() {
    let app = spawn_app_configured(|settings| settings.webhook_delivery = gateway::Switch::Off).await;
    let receiver = Receiver::start();
    let ada = user(&app, "Ada").await;
    let (team, project) = team_of(&app, &ada, &[]).await;
    let body = json!({"url": receiver.url, "events": ["task.*"]});
    let created = ok(&call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team}/webhooks"), Some(body)).await, 201);
    let id = created["id"].as_str().unwrap().to_string();
    let tasks = format!("/api/v1/projects/{project}/tasks");
    for title in ["One", "Two"] {
        ok(&call(&app, &ada, Method::POST, &tasks, Some(json!({"title": title}))).await, 201);
    }
    let deliveries = format!("/api/v1/webhooks/{id}/deliveries");
    let listed = ok(&call(&app, &ada, Method::GET, &deliveries, None).await, 200)["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "written with the entries");
    // The test settings retry after 50 ms: a gateway that sent would have by now.
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty(), "nothing sent");
    let listed = ok(&call(&app, &ada, Method::GET, &deliveries, None).await, 200)["items"].as_array().unwrap().clone();
    assert!(listed.iter().all(|d| d["attempts"] == 0 && d["next_attempt_at"].is_string()), "{listed:?}");
    app.stop().await;

    let mut settings = gateway::Settings::for_tests(&app.db_url);
    settings.webhook_delivery = gateway::Switch::On;
    let sender = gateway::Application::build(settings).expect("gateway starts");
    let handle = sender.handle();
    actix_rt::spawn(sender.run_until_stopped());
    let delivered = receiver.wait_for_delivered(2, WAIT).await;
    let mut ids: Vec<&str> = delivered.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let mut written: Vec<&str> = listed.iter().map(|d| d["id"].as_str().unwrap()).collect();
    written.sort_unstable();
    assert_eq!(ids, written, "each written delivery sent once");
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2, "and only once");
    handle.stop(true).await;
}
