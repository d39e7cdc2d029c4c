//! What a SkillSync page needs to show the caller's own state (issue 18): ETags that move
//! with ratings and completions while `If-Match` judges only the version, the caller's
//! own rating and completion read back (and the rating withdrawn), and `me` on every
//! challenge a logged-in caller sees, lists and paths included.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, spawn_app, user, Response, TestApp, User};
use crate::learning::{call, call_with};

async fn simple(app: &TestApp, who: &User, title: &str) -> String {
    let body = json!({"title": title, "difficulty": "beginner", "topic": "basics", "tags": ["intro"]});
    ok(&call(app, Some(who), Method::POST, "/challenges", Some(body)).await, 201)["id"].as_str().unwrap().to_string()
}

async fn complete(app: &TestApp, who: &User, id: &str, solution: &str) {
    let body = json!({ "solution": solution });
    let res = call(app, Some(who), Method::PUT, &format!("/challenges/{id}/completion"), Some(body)).await;
    assert!(matches!(res.status, 200 | 201), "{}", String::from_utf8_lossy(&res.body));
}

async fn rate(app: &TestApp, who: &User, id: &str, stars: i64) {
    let res =
        call(app, Some(who), Method::PUT, &format!("/challenges/{id}/rating"), Some(json!({ "stars": stars }))).await;
    assert!(matches!(res.status, 200 | 201), "{}", String::from_utf8_lossy(&res.body));
}

/// Whether the response names `Authorization` in `Vary` (next to CORS's own entries).
fn varies_by_caller(res: &Response) -> bool {
    res.headers
        .get_all("vary")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("authorization"))
}

#[actix_rt::test]
async fn ratings_and_completions_move_the_etag_but_not_what_if_match_judges() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let id = simple(&app, &ada, "Cached").await;
    let url = format!("/challenges/{id}");
    let path = ok(
        &call(
            &app,
            Some(&ada),
            Method::POST,
            "/paths",
            Some(json!({"title": "P", "topic": "t", "challenge_ids": [id]})),
        )
        .await,
        201,
    );
    let path_url = format!("/paths/{}", path["id"].as_str().unwrap());
    // What the author's browser cached (and what an anonymous page cached).
    let read = call(&app, Some(&ada), Method::GET, &url, None).await;
    let tag = read.header("etag").unwrap();
    let anon_tag = call(&app, None, Method::GET, &url, None).await.header("etag").unwrap();
    let path_tag = call(&app, None, Method::GET, &path_url, None).await.header("etag").unwrap();
    assert_eq!(call_with(&app, None, Method::GET, &url, None, &[("if-none-match", &anon_tag)]).await.status, 304);
    // Someone completes and rates it: the version stays, the representation moves.
    complete(&app, &bob, &id, "mine").await;
    let after_completion = call(&app, None, Method::GET, &url, None).await;
    assert_ne!(after_completion.header("etag").unwrap(), anon_tag, "a completion moves the ETag");
    rate(&app, &bob, &id, 4).await;
    let res = call_with(&app, None, Method::GET, &url, None, &[("if-none-match", &anon_tag)]).await;
    let fresh = ok(&res, 200);
    assert_eq!((fresh["version"].as_i64(), fresh["completion_count"].as_i64()), (Some(1), Some(1)));
    assert_eq!(fresh["rating"], json!({"average": 4.0, "count": 1}), "the new body, not a 304");
    let new_tag = res.header("etag").unwrap();
    assert!(new_tag != anon_tag && new_tag.starts_with("\"1-"), "{new_tag}");
    assert_eq!(call_with(&app, None, Method::GET, &url, None, &[("if-none-match", &new_tag)]).await.status, 304);
    // A path shows its challenges' ratings: its ETag moves too.
    let res = call_with(&app, None, Method::GET, &path_url, None, &[("if-none-match", &path_tag)]).await;
    assert_eq!(ok(&res, 200)["challenges"][0]["rating"]["count"], 1);
    assert_ne!(res.header("etag").unwrap(), path_tag);
    // The author edits with the ETag read before the rating: accepted (the version is 1).
    let change = |title: &str| Some(json!({ "title": title }));
    let res = call_with(&app, Some(&ada), Method::PATCH, &url, change("Two"), &[("if-match", &tag)]).await;
    assert_eq!(ok(&res, 200)["version"], 2);
    // The bare "<version>" still works, a stale one (bare or read) is 412.
    let res = call_with(&app, Some(&ada), Method::PATCH, &url, change("Three"), &[("if-match", "\"2\"")]).await;
    assert_eq!(ok(&res, 200)["version"], 3);
    for stale in [tag.as_str(), "\"2\""] {
        let res = call_with(&app, Some(&ada), Method::PATCH, &url, change("Four"), &[("if-match", stale)]).await;
        assert_eq!(res.problem(412)["current_version"], 3, "{stale}");
        call_with(&app, Some(&ada), Method::DELETE, &url, None, &[("if-match", stale)]).await.problem(412);
    }
    // Withdrawing the rating moves it again.
    let before = call(&app, None, Method::GET, &url, None).await.header("etag").unwrap();
    ok(&call(&app, Some(&bob), Method::DELETE, &format!("/challenges/{id}/rating"), None).await, 204);
    let res = call_with(&app, None, Method::GET, &url, None, &[("if-none-match", &before)]).await;
    assert_eq!(ok(&res, 200)["rating"], json!({"average": null, "count": 0}));
}

#[actix_rt::test]
async fn me_differs_by_caller_and_so_does_the_etag() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let first = simple(&app, &ada, "First").await;
    let second = simple(&app, &ada, "Second").await;
    complete(&app, &bob, &first, "done").await;
    rate(&app, &bob, &first, 5).await;
    complete(&app, &bob, &second, "done too").await;
    let url = format!("/challenges/{first}");
    // One challenge: each caller sees their own `me`; anonymous callers none.
    let (as_ada, as_bob, anon) = (
        call(&app, Some(&ada), Method::GET, &url, None).await,
        call(&app, Some(&bob), Method::GET, &url, None).await,
        call(&app, None, Method::GET, &url, None).await,
    );
    for res in [&as_ada, &as_bob, &anon] {
        assert!(varies_by_caller(res), "{:?}", res.header("vary"));
    }
    let (ada_body, bob_body, anon_body) = (ok(&as_ada, 200), ok(&as_bob, 200), ok(&anon, 200));
    assert_eq!(ada_body["me"], json!({"completed_at": null, "stars": null}));
    assert_eq!(bob_body["me"]["stars"], 5);
    assert!(bob_body["me"]["completed_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(anon_body.get("me"), Some(&Value::Null), "`me` is null without a login: {anon_body}");
    let tags = [as_ada.header("etag").unwrap(), as_bob.header("etag").unwrap(), anon.header("etag").unwrap()];
    assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2], "{tags:?}");
    // Bob's tag is no 304 for Ada (her `me` differs); her own is.
    let res = call_with(&app, Some(&ada), Method::GET, &url, None, &[("if-none-match", &tags[1])]).await;
    assert_eq!(ok(&res, 200)["me"]["stars"], Value::Null);
    let res = call_with(&app, Some(&ada), Method::GET, &url, None, &[("if-none-match", &tags[0])]).await;
    assert!(res.status == 304 && varies_by_caller(&res), "{} {:?}", res.status, res.header("vary"));
    // Lists: every item carries the caller's `me` (in one query per page), on every page.
    let mut seen = Vec::new();
    let mut query = "/challenges?limit=1&sort=title".to_string();
    loop {
        let page = ok(&call(&app, Some(&bob), Method::GET, &query, None).await, 200);
        seen.extend(page["items"].as_array().unwrap().iter().map(|c| (c["title"].clone(), c["me"]["stars"].clone())));
        assert!(page["items"].as_array().unwrap().iter().all(|c| c["me"]["completed_at"].is_string()));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("/challenges?limit=1&sort=title&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [(json!("First"), json!(5)), (json!("Second"), Value::Null)]);
    let theirs = ok(&call(&app, Some(&ada), Method::GET, "/challenges", None).await, 200);
    assert!(theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["me"] == json!({"completed_at": null, "stars": null})));
    let anon_list = call(&app, None, Method::GET, "/challenges", None).await;
    assert!(varies_by_caller(&anon_list), "a list's `me` differs by caller too");
    let anon_list = ok(&anon_list, 200);
    assert!(anon_list["items"].as_array().unwrap().iter().all(|c| c.get("me") == Some(&Value::Null)));
    // Filtered walks carry it too: the caller's completions, and a tag walk.
    for filter in ["completed=true", "tag=intro", "completed=true&tag=intro", "topic=basics&sort=-rating"] {
        let page = ok(&call(&app, Some(&bob), Method::GET, &format!("/challenges?{filter}"), None).await, 200);
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{filter}");
        let first_me = items.iter().find(|c| c["id"] == json!(first)).unwrap()["me"].clone();
        assert_eq!(first_me["stars"], 5, "{filter}");
    }
    // A path's challenges carry it as well.
    let body = json!({"title": "P", "topic": "t", "challenge_ids": [second, first]});
    let path = ok(&call(&app, Some(&ada), Method::POST, "/paths", Some(body)).await, 201);
    let path_url = format!("/paths/{}", path["id"].as_str().unwrap());
    let as_bob = call(&app, Some(&bob), Method::GET, &path_url, None).await;
    assert!(varies_by_caller(&as_bob));
    let stars: Vec<Value> =
        ok(&as_bob, 200)["challenges"].as_array().unwrap().iter().map(|c| c["me"]["stars"].clone()).collect();
    assert_eq!(stars, [Value::Null, json!(5)]);
    let anon_path = ok(&call(&app, None, Method::GET, &path_url, None).await, 200);
    assert!(anon_path["challenges"].as_array().unwrap().iter().all(|c| c.get("me") == Some(&Value::Null)));
}

#[actix_rt::test]
async fn the_callers_own_rating_and_completion_read_back_and_the_rating_withdraws() {
    let app = spawn_app().await;
    let (ada, bob, cy) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cy").await);
    let id = simple(&app, &ada, "Mine").await;
    let (rating, completion) = (format!("/challenges/{id}/rating"), format!("/challenges/{id}/completion"));
    // Login required; nothing yet is 404 (also for an unknown or malformed challenge).
    for url in [&rating, &completion] {
        call(&app, None, Method::GET, url, None).await.problem(401);
        call(&app, Some(&bob), Method::GET, url, None).await.problem(404);
    }
    call(&app, None, Method::DELETE, &rating, None).await.problem(401);
    call(&app, Some(&bob), Method::DELETE, &rating, None).await.problem(404);
    let nowhere = uuid::Uuid::now_v7();
    for url in [
        format!("/challenges/{nowhere}/rating"),
        format!("/challenges/{nowhere}/completion"),
        "/challenges/x/rating".into(),
    ] {
        call(&app, Some(&bob), Method::GET, &url, None).await.problem(404);
    }
    call(&app, Some(&bob), Method::DELETE, &format!("/challenges/{nowhere}/rating"), None).await.problem(404);
    // Bob completes: his completion with its solution comes back; Cy still has none.
    complete(&app, &bob, &id, "fn main() {}").await;
    let mine = ok(&call(&app, Some(&bob), Method::GET, &completion, None).await, 200);
    assert_eq!((mine["solution"].as_str(), mine["user"]["display_name"].as_str()), (Some("fn main() {}"), Some("Bob")));
    assert_eq!(mine["challenge_id"], json!(id));
    call(&app, Some(&cy), Method::GET, &completion, None).await.problem(404);
    call(&app, Some(&bob), Method::GET, &rating, None).await.problem(404);
    // Both rate; each reads back their own.
    complete(&app, &cy, &id, "cy's").await;
    rate(&app, &bob, &id, 2).await;
    rate(&app, &cy, &id, 5).await;
    let own = ok(&call(&app, Some(&bob), Method::GET, &rating, None).await, 200);
    assert_eq!(own.as_object().unwrap().len(), 2, "{own}");
    assert_eq!(own["stars"], 2);
    assert!(own["rated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(ok(&call(&app, Some(&cy), Method::GET, &rating, None).await, 200)["stars"], 5);
    let challenge =
        || async { ok(&call(&app, Some(&bob), Method::GET, &format!("/challenges/{id}"), None).await, 200) };
    assert_eq!(challenge().await["rating"], json!({"average": 3.5, "count": 2}));
    // Bob withdraws: 204, then his rating is gone (404, also to withdraw again), the
    // aggregates follow, his completion stays.
    ok(&call(&app, Some(&bob), Method::DELETE, &rating, None).await, 204);
    call(&app, Some(&bob), Method::GET, &rating, None).await.problem(404);
    call(&app, Some(&bob), Method::DELETE, &rating, None).await.problem(404);
    let now = challenge().await;
    assert_eq!((&now["rating"], now["completion_count"].as_i64()), (&json!({"average": 5.0, "count": 1}), Some(2)));
    assert_eq!(now["me"]["stars"], Value::Null);
    assert!(now["me"]["completed_at"].is_string());
    ok(&call(&app, Some(&bob), Method::GET, &completion, None).await, 200);
    // He may rate again; the sort by rating follows the aggregate.
    rate(&app, &bob, &id, 1).await;
    assert_eq!(challenge().await["rating"], json!({"average": 3.0, "count": 2}));
    // Undoing the completion: no completion (404) and no rating either.
    ok(&call(&app, Some(&bob), Method::DELETE, &completion, None).await, 204);
    call(&app, Some(&bob), Method::GET, &completion, None).await.problem(404);
    call(&app, Some(&bob), Method::GET, &rating, None).await.problem(404);
    assert_eq!(challenge().await["me"], json!({"completed_at": null, "stars": null}));
}

#[actix_rt::test]
async fn openapi_documents_own_items_and_me() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let rating = &doc["paths"]["/api/v1/learning/challenges/{id}/rating"];
    let completion = &doc["paths"]["/api/v1/learning/challenges/{id}/completion"];
    for (op, ok_status) in [(&rating["get"], "200"), (&rating["delete"], "204"), (&completion["get"], "200")] {
        let responses = op["responses"].as_object().unwrap();
        for status in [ok_status, "401", "404"] {
            assert!(responses.contains_key(status), "{status} in {op}");
        }
    }
    assert_eq!(
        rating["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/OwnRating"
    );
    assert_eq!(
        completion["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Completion"
    );
    let schemas = &doc["components"]["schemas"];
    let me = &schemas["Challenge"]["properties"]["me"];
    let me_ref =
        me["$ref"].as_str().or_else(|| me["oneOf"][1]["$ref"].as_str()).or_else(|| me["oneOf"][0]["$ref"].as_str());
    assert_eq!(me_ref, Some("#/components/schemas/ChallengeMe"), "{me}");
    let required: Vec<&str> =
        schemas["Challenge"]["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"me"), "always present");
    let nullable = me["oneOf"].as_array().is_some_and(|alts| alts.iter().any(|a| a["type"] == "null"));
    assert!(nullable, "null without a login: {me}");
    let props = schemas["ChallengeMe"]["properties"].as_object().unwrap();
    assert_eq!(props.keys().collect::<Vec<_>>(), ["completed_at", "stars"]);
    assert_eq!(schemas["OwnRating"]["required"], json!(["rated_at", "stars"]));
}

#[actix_rt::test]
async fn a_put_completion_answers_what_a_get_then_shows() {
    let app = spawn_app().await;
    let (ada, bob) = (user(&app, "Ada").await, user(&app, "Bob").await);
    let id = simple(&app, &ada, "Answered").await;
    let url = format!("/challenges/{id}/completion");
    // New (201), then again without a solution (kept), with a new one, with null.
    for (body, status, solution) in [
        (json!({"solution": "first"}), 201, json!("first")),
        (json!({}), 200, json!("first")),
        (json!({"solution": "second"}), 200, json!("second")),
        (json!({"solution": null}), 200, Value::Null),
    ] {
        let put = ok(&call(&app, Some(&bob), Method::PUT, &url, Some(body.clone())).await, status);
        let get = ok(&call(&app, Some(&bob), Method::GET, &url, None).await, 200);
        assert_eq!(put, get, "{body}");
        assert_eq!((&put["solution"], &put["user"]["display_name"]), (&solution, &json!("Bob")), "{body}");
        assert_eq!(put["challenge_id"], json!(id));
    }
    // An unknown challenge is 404, with or without a completion anywhere.
    let nowhere = format!("/challenges/{}/completion", uuid::Uuid::now_v7());
    call(&app, Some(&bob), Method::PUT, &nowhere, Some(json!({}))).await.problem(404);
}
