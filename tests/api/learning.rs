//! The learning platform over HTTP: anonymous browsing, logins for writing (401), authors
//! only (403), versions and conditions (412, 304), tags, ratings that need a completion,
//! feedback never on one's own completion, idempotent enrolment and completion, ordered
//! path lists, deletion that leaves every path, progress, and browsing in every order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, send, spawn_app, user, Response, TestApp, User};

const BASE: &str = "/api/v1/learning";

/// A request as `who` (`None`: anonymous) to `BASE + path`.
pub(crate) async fn call(
    app: &TestApp,
    who: Option<&User>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    call_with(app, who, method, path, body, &[]).await
}

/// [`call`] with extra headers.
pub(crate) async fn call_with(
    app: &TestApp,
    who: Option<&User>,
    method: Method,
    path: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> Response {
    let mut headers: Vec<(&str, &str)> = who.map(|u| ("authorization", u.bearer.as_str())).into_iter().collect();
    headers.extend_from_slice(extra);
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(&app.base, method, &format!("{BASE}{path}"), &headers, body).await
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn challenge(app: &TestApp, who: &User, body: Value) -> Value {
    ok(&call(app, Some(who), Method::POST, "/challenges", Some(body)).await, 201)
}

async fn simple(app: &TestApp, who: &User, title: &str) -> String {
    let body = json!({"title": title, "difficulty": "beginner", "topic": "basics", "tags": ["intro"]});
    id_of(&challenge(app, who, body).await)
}

#[actix_rt::test]
async fn anyone_browses_but_writing_needs_a_login() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let made = challenge(
        &app,
        &ada,
        json!({"title": "Reverse a list", "description": "In place.", "difficulty": "intermediate",
               "topic": "Algorithms", "tags": ["python"]}),
    )
    .await;
    let id = id_of(&made);
    assert_eq!(made["author"], json!({"id": ada.id, "display_name": "Ada"}));
    assert_eq!(made["rating"], json!({"average": null, "count": 0}));
    assert_eq!((made["completion_count"].as_i64(), made["version"].as_i64()), (Some(0), Some(1)));
    let path =
        ok(&call(&app, Some(&ada), Method::POST, "/paths", Some(json!({"title": "P", "topic": "t"}))).await, 201);
    let path_id = id_of(&path);
    let comment = ok(
        &call(&app, Some(&ada), Method::POST, &format!("/challenges/{id}/comments"), Some(json!({"body": "hi"}))).await,
        201,
    );
    // Anonymous reads.
    for url in [
        "/challenges".to_string(),
        format!("/challenges/{id}"),
        format!("/challenges/{id}/comments"),
        format!("/comments/{}", id_of(&comment)),
        "/paths".to_string(),
        format!("/paths/{path_id}"),
    ] {
        assert_eq!(call(&app, None, Method::GET, &url, None).await.status, 200, "{url}");
    }
    // Anonymous writes and personal reads: 401.
    let writes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/challenges".into(), Some(json!({"title": "x", "difficulty": "beginner", "topic": "t"}))),
        (Method::PATCH, format!("/challenges/{id}"), Some(json!({"title": "y"}))),
        (Method::DELETE, format!("/challenges/{id}"), None),
        (Method::PUT, format!("/challenges/{id}/completion"), Some(json!({}))),
        (Method::DELETE, format!("/challenges/{id}/completion"), None),
        (Method::GET, format!("/challenges/{id}/completions"), None),
        (Method::PUT, format!("/challenges/{id}/rating"), Some(json!({"stars": 3}))),
        (Method::POST, format!("/challenges/{id}/comments"), Some(json!({"body": "x"}))),
        (Method::PATCH, format!("/comments/{}", id_of(&comment)), Some(json!({"body": "x"}))),
        (Method::POST, "/paths".into(), Some(json!({"title": "x", "topic": "t"}))),
        (Method::PUT, format!("/paths/{path_id}/challenges"), Some(json!({"challenge_ids": []}))),
        (Method::PUT, format!("/paths/{path_id}/enrollment"), None),
        (Method::GET, format!("/paths/{path_id}/progress"), None),
        (Method::GET, "/me/progress".into(), None),
        (Method::GET, "/challenges?completed=true".into(), None),
    ];
    for (method, url, body) in writes {
        let res = call(&app, None, method.clone(), &url, body).await;
        res.problem(401);
        assert!(res.header("www-authenticate").is_some(), "{method} {url}");
    }
    // A bad token is refused even where no login is needed.
    let res =
        send(&app.base, Method::GET, &format!("{BASE}/challenges"), &[("authorization", "Bearer nope")], None).await;
    res.problem(401);
    // Unknown and malformed ids are 404s; unknown parameters 422.
    call(&app, None, Method::GET, "/challenges/not-an-id", None).await.problem(404);
    call(&app, None, Method::GET, &format!("/paths/{}", uuid::Uuid::now_v7()), None).await.problem(404);
    let res = call(&app, None, Method::GET, "/challenges?tags=python", None).await;
    assert_eq!(res.error_fields(), ["tags"]);
}

#[actix_rt::test]
async fn only_authors_edit_and_delete_and_conditions_hold() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let id = simple(&app, &ada, "Mine").await;
    let path =
        ok(&call(&app, Some(&ada), Method::POST, "/paths", Some(json!({"title": "P", "topic": "t"}))).await, 201);
    let path_id = id_of(&path);
    let comment = ok(
        &call(&app, Some(&ada), Method::POST, &format!("/challenges/{id}/comments"), Some(json!({"body": "a"}))).await,
        201,
    );
    let comment_id = id_of(&comment);
    for (url, change) in [
        (format!("/challenges/{id}"), json!({"title": "Renamed"})),
        (format!("/paths/{path_id}"), json!({"title": "Renamed"})),
        (format!("/comments/{comment_id}"), json!({"body": "edited"})),
    ] {
        // Strangers: 403 on change and delete, nothing changes.
        call(&app, Some(&bob), Method::PATCH, &url, Some(change.clone())).await.problem(403);
        call(&app, Some(&bob), Method::DELETE, &url, None).await.problem(403);
        let current = call(&app, None, Method::GET, &url, None).await;
        let tag = current.header("etag").unwrap();
        assert_eq!(current.status, 200, "{url}");
        assert!(tag.starts_with("\"1-") && tag.ends_with('"'), "{url}: {tag}");
        // If-None-Match: 304 while current (weakened too); the bare version is no match.
        let res = call_with(&app, None, Method::GET, &url, None, &[("if-none-match", &tag)]).await;
        assert_eq!((res.status, res.header("etag").as_deref()), (304, Some(tag.as_str())), "{url}");
        let weak = format!("W/{tag}");
        assert_eq!(call_with(&app, None, Method::GET, &url, None, &[("if-none-match", &weak)]).await.status, 304);
        assert_eq!(call_with(&app, None, Method::GET, &url, None, &[("if-none-match", "\"1\"")]).await.status, 200);
        // The author changes it with the ETag read; the version and ETag move; a stale
        // If-Match (the old ETag or the bare old version) is 412.
        let res = call_with(&app, Some(&ada), Method::PATCH, &url, Some(change.clone()), &[("if-match", &tag)]).await;
        let v2 = res.header("etag").unwrap();
        assert_eq!(ok(&res, 200)["version"].as_i64(), Some(2), "{url}");
        assert!(v2.starts_with("\"2-"), "{url}: {v2}");
        let res = call_with(&app, Some(&ada), Method::PATCH, &url, Some(change.clone()), &[("if-match", &tag)]).await;
        assert_eq!(res.problem(412)["current_version"], 2, "{url}");
        let res =
            call_with(&app, Some(&ada), Method::PATCH, &url, Some(change.clone()), &[("if-match", "\"1\"")]).await;
        assert_eq!(res.problem(412)["current_version"], 2, "{url}");
        call_with(&app, Some(&ada), Method::DELETE, &url, None, &[("if-match", "\"1\"")]).await.problem(412);
        let res = call_with(&app, None, Method::GET, &url, None, &[("if-none-match", &tag)]).await;
        assert_eq!(res.status, 200, "{url}: an old ETag gets the new body");
        // A tag of another digest but the current version is still the version to If-Match.
        let forged = format!("\"2-{}\"", "0".repeat(16));
        let res =
            call_with(&app, Some(&ada), Method::PATCH, &url, Some(change.clone()), &[("if-match", &forged)]).await;
        assert_eq!(res.status, 200, "{url}: If-Match judges the version only");
    }
    // The path's list: author only, conditional too.
    let put = |who: &User, tag: &'static str| {
        let (app, who, url) = (&app, who.clone(), format!("/paths/{path_id}/challenges"));
        let body = json!({"challenge_ids": [id]});
        async move { call_with(app, Some(&who), Method::PUT, &url, Some(body), &[("if-match", tag)]).await }
    };
    put(&bob, "*").await.problem(403);
    put(&ada, "\"1\"").await.problem(412);
    let res = put(&ada, "\"2\"").await;
    assert_eq!(ok(&res, 200)["version"], 3);
    // Deletions by the authors.
    ok(&call(&app, Some(&ada), Method::DELETE, &format!("/comments/{comment_id}"), None).await, 204);
    ok(&call(&app, Some(&ada), Method::DELETE, &format!("/paths/{path_id}"), None).await, 204);
    ok(&call(&app, Some(&ada), Method::DELETE, &format!("/challenges/{id}"), None).await, 204);
    call(&app, None, Method::GET, &format!("/challenges/{id}"), None).await.problem(404);
}

#[actix_rt::test]
async fn fields_are_checked_and_tags_normalised() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let made = challenge(
        &app,
        &ada,
        json!({"title": "  Tags  ", "difficulty": "expert", "topic": " Web ", "tags": [" Python ", "PYTHON", "Sql", "sql "]}),
    )
    .await;
    assert_eq!((made["title"].as_str(), made["topic"].as_str()), (Some("Tags"), Some("Web")));
    assert_eq!(made["tags"], json!(["python", "sql"]));
    let many: Vec<String> = (0..21).map(|i| format!("tag{i}")).collect();
    let res = call(
        &app,
        Some(&ada),
        Method::POST,
        "/challenges",
        Some(json!({"title": " ", "difficulty": "easy", "topic": "", "tags": many, "description": "x".repeat(20_001)})),
    )
    .await;
    assert_eq!(res.error_fields(), ["title", "description", "difficulty", "topic", "tags"]);
    let res = call(
        &app,
        Some(&ada),
        Method::POST,
        "/challenges",
        Some(json!({"title": "t", "difficulty": "beginner", "topic": "t", "tags": ["ok", "", "x".repeat(51), "a,b"]})),
    )
    .await;
    assert_eq!(res.error_fields(), ["tags[1]", "tags[2]", "tags[3]"]);
    // Twenty tags as sent are fine (repeats folded away); a 21st is refused even when it
    // repeats one (the document's `maxItems`); a 50-character tag is fine.
    let twenty: Vec<String> = (0..20).map(|i| format!("T{i}")).collect();
    let ok20 =
        challenge(&app, &ada, json!({"title": "t", "difficulty": "beginner", "topic": "t", "tags": twenty})).await;
    assert_eq!(ok20["tags"].as_array().unwrap().len(), 20);
    let repeats: Vec<String> = (0..21).map(|i| format!("T{}", i % 10)).collect();
    let body = json!({"title": "t", "difficulty": "beginner", "topic": "t", "tags": repeats});
    assert_eq!(call(&app, Some(&ada), Method::POST, "/challenges", Some(body)).await.error_fields(), ["tags"]);
    challenge(&app, &ada, json!({"title": "t", "difficulty": "beginner", "topic": "t", "tags": ["y".repeat(50)]}))
        .await;
    // PATCH replaces the tag set with the same rules; null is refused.
    let id = id_of(&made);
    let res =
        call(&app, Some(&ada), Method::PATCH, &format!("/challenges/{id}"), Some(json!({"tags": ["Rust", "rust"]})))
            .await;
    assert_eq!(ok(&res, 200)["tags"], json!(["rust"]));
    let res =
        call(&app, Some(&ada), Method::PATCH, &format!("/challenges/{id}"), Some(json!({"tags": null, "title": null})))
            .await;
    assert_eq!(res.error_fields(), ["title", "tags"]);
    // The filter folds case too, and the old tag no longer finds it.
    let found = ok(&call(&app, None, Method::GET, "/challenges?tag=RUST", None).await, 200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let gone = ok(&call(&app, None, Method::GET, "/challenges?tag=python", None).await, 200);
    assert!(gone["items"].as_array().unwrap().is_empty());
}

#[actix_rt::test]
async fn ratings_need_a_completion_and_completions_are_idempotent() {
    let app = spawn_app().await;
    let (ada, bob, cy) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cy").await);
    let id = simple(&app, &ada, "Rate me").await;
    let rate = |who: &User, stars: Value| {
        let (app, who, url) = (&app, who.clone(), format!("/challenges/{id}/rating"));
        async move { call(app, Some(&who), Method::PUT, &url, Some(json!({ "stars": stars }))).await }
    };
    let complete = |who: &User, body: Value| {
        let (app, who, url) = (&app, who.clone(), format!("/challenges/{id}/completion"));
        async move { call(app, Some(&who), Method::PUT, &url, Some(body)).await }
    };
    rate(&bob, json!(4)).await.problem(403);
    let first = ok(&complete(&bob, json!({"solution": "v1"})).await, 201);
    assert_eq!((first["user"]["display_name"].as_str(), first["solution"].as_str()), (Some("Bob"), Some("v1")));
    let again = ok(&complete(&bob, json!({})).await, 200);
    assert_eq!((again["id"] == first["id"], again["solution"].as_str()), (true, Some("v1")), "absent keeps");
    let again = ok(&complete(&bob, json!({"solution": "v2"})).await, 200);
    assert_eq!((again["completed_at"] == first["completed_at"], again["solution"].as_str()), (true, Some("v2")));
    complete(&bob, json!({"solution": "x".repeat(20_001)})).await.problem(422);
    let get = || async { ok(&call(&app, None, Method::GET, &format!("/challenges/{id}"), None).await, 200) };
    assert_eq!(get().await["completion_count"], 1);
    for bad in [json!(0), json!(6), json!(-1), json!(2.5), json!("five")] {
        rate(&bob, bad.clone()).await.problem(422);
    }
    assert_eq!(ok(&rate(&bob, json!(4)).await, 201)["rating"], json!({"average": 4.0, "count": 1}));
    assert_eq!(ok(&rate(&bob, json!(2)).await, 200)["rating"], json!({"average": 2.0, "count": 1}), "replaced");
    // A whole number written as a float is that number (JSON Schema's integer); 3.5 is not.
    assert_eq!(ok(&rate(&bob, json!(2.0)).await, 200)["stars"], 2);
    assert_eq!(rate(&bob, json!(3.5)).await.error_fields(), ["stars"]);
    ok(&complete(&cy, json!({})).await, 201);
    let res = ok(&rate(&cy, json!(5)).await, 201);
    assert_eq!((res["stars"].as_i64(), &res["rating"]), (Some(5), &json!({"average": 3.5, "count": 2})));
    assert_eq!((get().await["rating"]["count"].as_i64(), get().await["completion_count"].as_i64()), (Some(2), Some(2)));
    // Undoing a completion takes the rating with it; undoing twice is fine.
    let undo = format!("/challenges/{id}/completion");
    ok(&call(&app, Some(&cy), Method::DELETE, &undo, None).await, 204);
    ok(&call(&app, Some(&cy), Method::DELETE, &undo, None).await, 204);
    let now = get().await;
    assert_eq!((now["completion_count"].as_i64(), &now["rating"]), (Some(1), &json!({"average": 2.0, "count": 1})));
    rate(&cy, json!(5)).await.problem(403);
    // Unknown challenges are 404 for all of it.
    let nowhere = uuid::Uuid::now_v7();
    for (method, url) in [
        (Method::PUT, format!("/challenges/{nowhere}/completion")),
        (Method::PUT, format!("/challenges/{nowhere}/rating")),
        (Method::DELETE, format!("/challenges/{nowhere}/completion")),
        (Method::GET, format!("/challenges/{nowhere}/completions")),
    ] {
        let body = (method == Method::PUT).then(|| json!({"stars": 3}));
        let body = if url.ends_with("completion") && method == Method::PUT { Some(json!({})) } else { body };
        call(&app, Some(&bob), method, &url, body).await.problem(404);
    }
}

#[actix_rt::test]
async fn peers_review_others_solutions_but_not_their_own() {
    let app = spawn_app().await;
    let (ada, bob, cy) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cy").await);
    let id = simple(&app, &ada, "Review me").await;
    let mut completion_of = std::collections::HashMap::new();
    for who in [&bob, &cy] {
        let url = format!("/challenges/{id}/completion");
        let res = ok(
            &call(&app, Some(who), Method::PUT, &url, Some(json!({"solution": format!("by {}", who.id)}))).await,
            201,
        );
        completion_of.insert(who.id.clone(), id_of(&res));
    }
    // Others' completions, with solutions, never the caller's own.
    let seen = ok(&call(&app, Some(&bob), Method::GET, &format!("/challenges/{id}/completions"), None).await, 200);
    let users: Vec<&str> =
        seen["items"].as_array().unwrap().iter().map(|c| c["user"]["id"].as_str().unwrap()).collect();
    assert_eq!(users, [cy.id.as_str()]);
    assert_eq!(seen["items"][0]["solution"], format!("by {}", cy.id));
    let seen =
        ok(&call(&app, Some(&ada), Method::GET, &format!("/challenges/{id}/completions?limit=1"), None).await, 200);
    assert!(seen["next_cursor"].is_string());
    // Feedback: not on one's own completion.
    let bobs = &completion_of[&bob.id];
    let url = format!("/completions/{bobs}/feedback");
    call(&app, Some(&bob), Method::POST, &url, Some(json!({"body": "great"}))).await.problem(403);
    let given = ok(&call(&app, Some(&cy), Method::POST, &url, Some(json!({"body": " nice ", "stars": 4}))).await, 201);
    assert_eq!((given["body"].as_str(), given["stars"].as_i64()), (Some("nice"), Some(4)));
    assert_eq!(given["author"]["id"], json!(cy.id));
    let res = call(&app, Some(&cy), Method::POST, &url, Some(json!({"body": "", "stars": 9}))).await;
    assert_eq!(res.error_fields(), ["body", "stars"]);
    let list = ok(&call(&app, Some(&bob), Method::GET, &url, None).await, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    call(&app, None, Method::GET, &url, None).await.problem(401);
    let nowhere = format!("/completions/{}/feedback", uuid::Uuid::now_v7());
    call(&app, Some(&cy), Method::POST, &nowhere, Some(json!({"body": "x"}))).await.problem(404);
    // Undoing the completion takes its feedback along.
    ok(&call(&app, Some(&bob), Method::DELETE, &format!("/challenges/{id}/completion"), None).await, 204);
    call(&app, Some(&cy), Method::GET, &url, None).await.problem(404);
}

#[actix_rt::test]
async fn paths_keep_their_order_and_refuse_unknown_or_repeated_challenges() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let mut ids = Vec::new();
    for title in ["One", "Two", "Three"] {
        ids.push(simple(&app, &ada, title).await);
    }
    let create = json!({"title": "Path", "topic": "Basics", "challenge_ids": [ids[2], ids[0]]});
    let path = ok(&call(&app, Some(&bob), Method::POST, "/paths", Some(create)).await, 201);
    let path_id = id_of(&path);
    let order = |p: &Value| p["challenges"].as_array().unwrap().iter().map(id_of).collect::<Vec<_>>();
    assert_eq!((order(&path), path["challenge_count"].as_i64()), (vec![ids[2].clone(), ids[0].clone()], Some(2)));
    let url = format!("/paths/{path_id}/challenges");
    let set = |list: Value| {
        let (app, bob, url) = (&app, bob.clone(), url.clone());
        async move { call(app, Some(&bob), Method::PUT, &url, Some(json!({ "challenge_ids": list }))).await }
    };
    let res = ok(&set(json!([ids[1], ids[2], ids[0]])).await, 200);
    assert_eq!(
        (order(&res), res["challenge_count"].as_i64()),
        (vec![ids[1].clone(), ids[2].clone(), ids[0].clone()], Some(3))
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    let res = set(json!([ids[0], unknown, ids[1], ids[0], "junk"])).await;
    assert_eq!(res.error_fields(), ["challenge_ids[3]", "challenge_ids[4]"]);
    let res = set(json!([ids[0], unknown])).await;
    assert_eq!(res.error_fields(), ["challenge_ids[1]"]);
    let res = call(
        &app,
        Some(&bob),
        Method::POST,
        "/paths",
        Some(json!({"title": "", "topic": "t", "challenge_ids": [unknown]})),
    )
    .await;
    assert_eq!(res.error_fields(), ["title"]);
    let res = call(
        &app,
        Some(&bob),
        Method::POST,
        "/paths",
        Some(json!({"title": "x", "topic": "t", "challenge_ids": [unknown]})),
    )
    .await;
    assert_eq!(res.error_fields(), ["challenge_ids[0]"]);
    let unchanged = ok(&call(&app, None, Method::GET, &format!("/paths/{path_id}"), None).await, 200);
    assert_eq!((order(&unchanged).len(), unchanged["version"].as_i64()), (3, Some(2)), "refused lists change nothing");
    // Enrolment is an idempotent PUT with DELETE to leave.
    let enrol = format!("/paths/{path_id}/enrollment");
    let first = ok(&call(&app, Some(&ada), Method::PUT, &enrol, None).await, 201);
    let again = ok(&call(&app, Some(&ada), Method::PUT, &enrol, None).await, 200);
    assert_eq!(first, again);
    let mine = ok(&call(&app, Some(&ada), Method::GET, "/me/progress", None).await, 200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    ok(&call(&app, Some(&ada), Method::DELETE, &enrol, None).await, 204);
    ok(&call(&app, Some(&ada), Method::DELETE, &enrol, None).await, 204);
    let mine = ok(&call(&app, Some(&ada), Method::GET, "/me/progress", None).await, 200);
    assert!(mine["items"].as_array().unwrap().is_empty());
    call(&app, Some(&ada), Method::PUT, &format!("/paths/{unknown}/enrollment"), None).await.problem(404);
}

#[actix_rt::test]
async fn progress_follows_completions_and_deleted_challenges() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let mut ids = Vec::new();
    for title in ["A", "B", "C", "D"] {
        ids.push(simple(&app, &ada, title).await);
    }
    let mut paths = Vec::new();
    for (title, list) in [("First", json!([ids[0], ids[1], ids[2]])), ("Second", json!([ids[1], ids[3]]))] {
        let body = json!({"title": title, "topic": "t", "challenge_ids": list});
        let path = ok(&call(&app, Some(&ada), Method::POST, "/paths", Some(body)).await, 201);
        let path_id = id_of(&path);
        ok(&call(&app, Some(&bob), Method::PUT, &format!("/paths/{path_id}/enrollment"), None).await, 201);
        paths.push(path_id);
    }
    for c in [&ids[1], &ids[2]] {
        ok(&call(&app, Some(&bob), Method::PUT, &format!("/challenges/{c}/completion"), Some(json!({}))).await, 201);
    }
    let progress = |who: &User| {
        let (app, who) = (&app, who.clone());
        async move { ok(&call(app, Some(&who), Method::GET, "/me/progress", None).await, 200)["items"].clone() }
    };
    let by_path = |items: &Value, path: &str| {
        items.as_array().unwrap().iter().find(|i| i["path"]["id"] == json!(path)).unwrap().clone()
    };
    let items = progress(&bob).await;
    let first = by_path(&items, &paths[0]);
    assert_eq!((first["total_challenges"].as_i64(), first["completed_challenges"].as_i64()), (Some(3), Some(2)));
    assert_eq!((first["percent_complete"].as_f64(), first["path"]["title"].as_str()), (Some(66.7), Some("First")));
    assert!(first["last_completed_at"].is_string());
    let second = by_path(&items, &paths[1]);
    assert_eq!((second["completed_challenges"].as_i64(), second["percent_complete"].as_f64()), (Some(1), Some(50.0)));
    let along = ok(&call(&app, Some(&bob), Method::GET, &format!("/paths/{}/progress", paths[0]), None).await, 200);
    let flags: Vec<bool> =
        along["challenges"].as_array().unwrap().iter().map(|c| c["completed"].as_bool().unwrap()).collect();
    assert_eq!(flags, [false, true, true]);
    assert_eq!(along["challenges"][1]["challenge"]["id"], json!(ids[1]));
    // Not enrolled: progress still shows, without an enrolment time.
    let along = ok(&call(&app, Some(&ada), Method::GET, &format!("/paths/{}/progress", paths[0]), None).await, 200);
    assert_eq!((along["enrolled_at"].is_null(), along["completed_challenges"].as_i64()), (true, Some(0)));
    // Deleting challenge B takes it out of both paths, and progress follows.
    ok(&call(&app, Some(&ada), Method::DELETE, &format!("/challenges/{}", ids[1]), None).await, 204);
    let items = progress(&bob).await;
    let first = by_path(&items, &paths[0]);
    assert_eq!((first["total_challenges"].as_i64(), first["completed_challenges"].as_i64()), (Some(2), Some(1)));
    let second = by_path(&items, &paths[1]);
    assert_eq!((second["total_challenges"].as_i64(), second["completed_challenges"].as_i64()), (Some(1), Some(0)));
    for (path, left) in [(&paths[0], vec![ids[0].clone(), ids[2].clone()]), (&paths[1], vec![ids[3].clone()])] {
        let got = ok(&call(&app, None, Method::GET, &format!("/paths/{path}"), None).await, 200);
        let order: Vec<String> = got["challenges"].as_array().unwrap().iter().map(id_of).collect();
        assert_eq!(
            (order, got["challenge_count"].as_i64(), got["version"].as_i64()),
            (left.clone(), Some(left.len() as i64), Some(2))
        );
    }
}

/// Every id of a browse, page by page (`limit=4`).
async fn all_pages(app: &TestApp, who: Option<&User>, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/challenges?{query}&limit=4&cursor={c}"),
            None => format!("/challenges?{query}&limit=4"),
        };
        let page = ok(&call(app, who, Method::GET, &url, None).await, 200);
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
}

fn sort_key(c: &Value, field: &str) -> (i64, String) {
    let levels = ["beginner", "intermediate", "advanced", "expert"];
    match field {
        "difficulty" => (levels.iter().position(|l| c["difficulty"] == *l).unwrap() as i64, String::new()),
        "rating" => {
            let avg = c["rating"]["average"].as_f64().unwrap_or(0.0);
            ((avg * 1_000_000.0).round() as i64, String::new())
        }
        "popularity" => (c["completion_count"].as_i64().unwrap(), String::new()),
        "created_at" => (0, c["created_at"].as_str().unwrap().to_string()),
        "title" => (0, c["title"].as_str().unwrap().to_lowercase()),
        _ => unreachable!(),
    }
}

/// Which challenges a filter keeps, decided on the JSON.
type Keep = Box<dyn Fn(&Value) -> bool>;

#[actix_rt::test]
async fn browsing_filters_and_pages_through_every_sort() {
    let app = spawn_app().await;
    let (ada, bob, cy) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cy").await);
    let levels = ["beginner", "intermediate", "advanced", "expert"];
    let topics = ["Algorithms", "web"];
    let tag_sets = [vec!["python"], vec!["python", "sql"], vec!["SQL"], vec![], vec!["python", "lists"]];
    let mut ids = Vec::new();
    for i in 0..17usize {
        let body = json!({
            "title": format!("{} challenge {i:02}", ["alpha", "Beta", "gamma"][i % 3]),
            "description": if i % 4 == 0 { "linked lists everywhere" } else { "other things" },
            "difficulty": levels[(i * 3) % 4],
            "topic": topics[i % 2],
            "tags": tag_sets[i % 5],
        });
        ids.push(id_of(&challenge(&app, &ada, body).await));
    }
    // Vary popularity and rating.
    for (i, id) in ids.iter().enumerate() {
        for (n, who) in [&bob, &cy].iter().enumerate() {
            if (i + n) % 3 == 0 {
                let url = format!("/challenges/{id}/completion");
                ok(&call(&app, Some(who), Method::PUT, &url, Some(json!({}))).await, 201);
                let url = format!("/challenges/{id}/rating");
                ok(&call(&app, Some(who), Method::PUT, &url, Some(json!({"stars": 1 + (i + n) % 5}))).await, 201);
            }
        }
    }
    let everything: HashSet<String> = ids.iter().cloned().collect();
    let filters: Vec<(&str, Keep)> = vec![
        ("", Box::new(|_| true)),
        ("tag=Python", Box::new(|c| c["tags"].as_array().unwrap().contains(&json!("python")))),
        (
            "tag=python,sql",
            Box::new(|c| {
                let tags = c["tags"].as_array().unwrap();
                tags.contains(&json!("python")) && tags.contains(&json!("sql"))
            }),
        ),
        ("topic=algorithms", Box::new(|c| c["topic"] == "Algorithms")),
        ("difficulty=advanced", Box::new(|c| c["difficulty"] == "advanced")),
        ("difficulty=beginner,expert", Box::new(|c| c["difficulty"] == "beginner" || c["difficulty"] == "expert")),
        (
            "topic=web&difficulty=intermediate,expert&tag=python",
            Box::new(|c| {
                c["topic"] == "web"
                    && (c["difficulty"] == "intermediate" || c["difficulty"] == "expert")
                    && c["tags"].as_array().unwrap().contains(&json!("python"))
            }),
        ),
        ("q=linked", Box::new(|c| c["description"] == "linked lists everywhere")),
    ];
    let all = all_pages(&app, None, "sort=title").await;
    assert_eq!(all.len(), 17);
    for (query, keep) in &filters {
        let expected: HashSet<String> = all.iter().filter(|c| keep(c)).map(id_of).collect();
        assert!(!expected.is_empty(), "{query} selects something");
        for field in ["difficulty", "rating", "popularity", "created_at", "title"] {
            for sort in [field.to_string(), format!("-{field}")] {
                let items = all_pages(&app, None, &format!("{query}&sort={sort}")).await;
                let got: Vec<String> = items.iter().map(id_of).collect();
                let unique: HashSet<String> = got.iter().cloned().collect();
                assert_eq!(got.len(), unique.len(), "{query} sort={sort}: no repeats");
                assert_eq!(unique, expected, "{query} sort={sort}: exactly the matches");
                // Unrated challenges come last in both directions (API section 1).
                let unrated_last = |c: &Value| match sort_key(c, field) {
                    (0, _) if field == "rating" && !sort.starts_with('-') => (i64::MAX, String::new()),
                    key => key,
                };
                let keys: Vec<((i64, String), String)> = items.iter().map(|c| (unrated_last(c), id_of(c))).collect();
                let ordered = keys.windows(2).all(|w| if sort.starts_with('-') { w[0] >= w[1] } else { w[0] <= w[1] });
                assert!(ordered, "{query} sort={sort}: in order {keys:?}");
            }
        }
    }
    // completed=true|false split the catalogue by the caller's completions.
    let done: HashSet<String> =
        all_pages(&app, Some(&bob), "completed=true&sort=-rating").await.iter().map(id_of).collect();
    let open: HashSet<String> =
        all_pages(&app, Some(&bob), "completed=false&sort=-rating").await.iter().map(id_of).collect();
    let expected_done: HashSet<String> =
        ids.iter().enumerate().filter(|(i, _)| i % 3 == 0).map(|(_, id)| id.clone()).collect();
    assert_eq!(done, expected_done);
    assert!(done.is_disjoint(&open));
    assert_eq!(done.union(&open).cloned().collect::<HashSet<_>>(), everything);
    let open_python: Vec<Value> = all_pages(&app, Some(&bob), "completed=false&tag=python&sort=difficulty").await;
    assert!(open_python.iter().all(|c| !done.contains(&id_of(c))));
    // Bad parameters are named together; a cursor of another sort is refused.
    let res =
        call(&app, Some(&bob), Method::GET, "/challenges?difficulty=easy&sort=stars&completed=yes&limit=0", None).await;
    assert_eq!(res.error_fields(), ["limit", "sort", "difficulty", "completed"]);
    let page = ok(&call(&app, None, Method::GET, "/challenges?sort=title&limit=2", None).await, 200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let res = call(&app, None, Method::GET, &format!("/challenges?sort=-rating&cursor={cursor}"), None).await;
    assert_eq!(res.error_fields(), ["cursor"]);
    let res = call(&app, None, Method::GET, "/challenges?tag=a,,b&topic=%20", None).await;
    assert_eq!(res.error_fields(), ["tag", "topic"]);
    // An unknown tag matches nothing.
    let none = ok(&call(&app, None, Method::GET, "/challenges?tag=python,cobol", None).await, 200);
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[actix_rt::test]
async fn path_lists_filter_by_topic_and_text() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    for (title, topic) in [("Rust basics", "Rust"), ("Advanced rust", "rust"), ("Python intro", "Python")] {
        ok(&call(&app, Some(&ada), Method::POST, "/paths", Some(json!({"title": title, "topic": topic}))).await, 201);
    }
    let titles = |v: Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_string()).collect()
    };
    let rust = ok(&call(&app, None, Method::GET, "/paths?topic=RUST&sort=title", None).await, 200);
    assert_eq!(titles(rust), ["Advanced rust", "Rust basics"]);
    let intro = ok(&call(&app, None, Method::GET, "/paths?q=intro", None).await, 200);
    assert_eq!(titles(intro), ["Python intro"]);
    let paged = ok(&call(&app, None, Method::GET, "/paths?sort=-title&limit=2", None).await, 200);
    let cursor = paged["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(titles(paged), ["Rust basics", "Python intro"]);
    let rest =
        ok(&call(&app, None, Method::GET, &format!("/paths?sort=-title&limit=2&cursor={cursor}"), None).await, 200);
    assert_eq!(titles(rest), ["Advanced rust"]);
    let res = call(&app, None, Method::GET, "/paths?tag=x", None).await;
    assert_eq!(res.error_fields(), ["tag"]);
}

#[actix_rt::test]
async fn openapi_documents_every_learning_operation() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/api/v1/learning")) {
        for (method, op) in item.as_object().unwrap().iter().filter(|(m, _)| *m != "head") {
            operations += 1;
            assert_eq!(op["tags"], json!(["learning"]), "{method} {path}");
            assert!(op["security"].is_array(), "{method} {path} states its security");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("401"), "{method} {path} documents 401");
            for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('4')) {
                let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/Problem", "{method} {path} {status}");
            }
        }
    }
    assert_eq!(operations, 29);
    for schema in
        ["Challenge", "LearningPath", "PathDetail", "Completion", "Feedback", "PathProgressSummary", "Difficulty"]
    {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
}

/// Browses sorted by popularity follow the counts and the challenge: a challenge whose
/// topic, difficulty and tags change is found under the new ones in its place by
/// completions, no longer under the old ones, and moves down when completions are undone
/// (a tag browse by popularity walks `challenge_tag_popularity`, migration
/// 2026-12-07-000200, which triggers keep).
#[actix_web::test]
async fn popularity_browses_follow_a_challenge_that_moves() {
    let app = spawn_app().await;
    let (ada, bob, cy) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cy").await);
    let body = json!({"title": "a", "difficulty": "beginner", "topic": "Graphs", "tags": ["old", "kept"]});
    let a = id_of(&challenge(&app, &ada, body).await);
    let body = json!({"title": "b", "difficulty": "expert", "topic": "web", "tags": ["new", "kept"]});
    let b = id_of(&challenge(&app, &ada, body).await);
    for (who, id) in [(&bob, &a), (&cy, &a), (&bob, &b)] {
        ok(&call(&app, Some(who), Method::PUT, &format!("/challenges/{id}/completion"), Some(json!({}))).await, 201);
    }
    let change = json!({"topic": "WEB", "difficulty": "expert", "tags": ["New", "kept"]});
    ok(&call(&app, Some(&ada), Method::PATCH, &format!("/challenges/{a}"), Some(change)).await, 200);
    let order = |items: Vec<Value>| -> Vec<(String, i64)> {
        items.iter().map(|c| (id_of(c), c["completion_count"].as_i64().unwrap())).collect()
    };
    let moved = ["", "topic=web&", "topic=Web&", "difficulty=expert&", "tag=new&", "tag=kept&", "tag=new,kept&"];
    for filter in moved {
        let items = all_pages(&app, None, &format!("{filter}sort=-popularity")).await;
        assert_eq!(order(items), [(a.clone(), 2), (b.clone(), 1)], "{filter}");
    }
    for filter in ["topic=graphs&", "difficulty=beginner&", "tag=old&"] {
        assert!(all_pages(&app, None, &format!("{filter}sort=popularity")).await.is_empty(), "{filter}");
    }
    for who in [&bob, &cy] {
        ok(&call(&app, Some(who), Method::DELETE, &format!("/challenges/{a}/completion"), None).await, 204);
    }
    for filter in moved {
        let items = all_pages(&app, None, &format!("{filter}sort=-popularity")).await;
        assert_eq!(order(items), [(b.clone(), 1), (a.clone(), 0)], "{filter}");
    }
}
