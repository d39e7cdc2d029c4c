//! Input the contract refuses wherever it arrives: NUL characters, text that shows nothing,
//! bodies in other charsets, dates outside years 1 to 9999, bodies with several shape
//! errors, and unknown query parameters.

#![allow(clippy::unwrap_used)]

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[actix_rt::test]
async fn nul_characters_in_text_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let res = app.post_json("/api/v1/notes", &json!({"title": "a\u{0}b", "content": "x\u{0}"})).await;
    assert_eq!(res.error_fields(), ["title", "content"]);
    assert!(res.json()["errors"][0]["message"].as_str().unwrap().contains("NUL"));
    let res = app.post_json("/api/v1/tasks", &json!({"title": "ok", "description": "\u{0}"})).await;
    assert_eq!(res.error_fields(), ["description"]);
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "a@example.com", "display_name": "A\u{0}", "password": "long enough password"}),
        )
        .await;
    assert_eq!(res.error_fields(), ["display_name"]);
    let task = app.post_json("/api/v1/tasks", &json!({"title": "ok"})).await.json();
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    assert_eq!(app.patch_json(&path, &json!({"title": "\u{0}"})).await.error_fields(), ["title"]);
}

#[actix_rt::test]
async fn titles_of_only_invisible_characters_are_empty() {
    let app = spawn_app().await;
    for title in ["\u{200B}", "\u{FEFF}", " \u{200B}\u{2060} ", "\u{200E}\u{00AD}"] {
        let res = app.post_json("/api/v1/tasks", &json!({"title": title})).await;
        assert_eq!(res.error_fields(), ["title"], "{title:?}");
        assert_eq!(res.json()["errors"][0]["message"], "must not be empty");
        let res = app.post_json("/api/v1/notes", &json!({"content": title})).await;
        assert_eq!(res.error_fields(), ["content"], "{title:?}");
    }
    // An optional title of invisible characters is no title.
    let note = app.post_json("/api/v1/notes", &json!({"title": "\u{200B}", "content": "x"})).await;
    assert_eq!((note.status, &note.json()["title"]), (201, &serde_json::Value::Null));
}

/// The document's `maxLength` counts the value as sent, and so does the server: a title
/// that is too long is refused even when trimming its spaces would make it fit.
#[actix_rt::test]
async fn text_limits_count_the_surrounding_whitespace_as_sent() {
    let app = spawn_app().await;
    let fits = "t".repeat(200);
    let res = app.post_json("/api/v1/tasks", &json!({"title": format!("{fits} ")})).await;
    assert_eq!(res.error_fields(), ["title"]);
    assert_eq!(res.json()["errors"][0]["message"], "must be at most 200 characters");
    let res = app.post_json("/api/v1/notes", &json!({"title": format!(" {fits}"), "content": "x"})).await;
    assert_eq!(res.error_fields(), ["title"]);
    // At the limit as sent, surrounding whitespace is still trimmed away.
    let task = app.post_json("/api/v1/tasks", &json!({"title": format!(" {}", &fits[1..])})).await;
    assert_eq!((task.status, task.json()["title"].as_str().map(str::len)), (201, Some(199)));
    // Query filters too: a topic of 100 characters and a space.
    let topic = format!("%20{}", "0".repeat(100));
    let res = app.get(&format!("/api/v1/learning/paths?topic={topic}")).await;
    assert_eq!(res.error_fields(), ["topic"]);
    let res = app.get(&format!("/api/v1/learning/challenges?topic={}", &topic[..topic.len() - 1])).await;
    assert_eq!(res.status, 200);
}

#[actix_rt::test]
async fn bodies_declared_in_other_charsets_get_415() {
    let app = spawn_app().await;
    for content_type in ["application/json; charset=latin1", "application/json; charset=ISO-8859-1"] {
        let body = br#"{"content": "caf\xe9"}"#.to_vec();
        app.request(Method::POST, "/api/v1/notes", &[], Some((content_type, body))).await.problem(415);
    }
    let utf8 = app
        .request(
            Method::POST,
            "/api/v1/notes",
            &[],
            Some(("application/json; charset=utf-8", "{\"content\": \"café\"}".as_bytes().to_vec())),
        )
        .await;
    assert_eq!(utf8.status, 201);
}

#[actix_rt::test]
async fn dates_outside_years_1_to_9999_get_422() {
    let app = spawn_app().await;
    for due in ["0000-01-01", "-001-01-01", "10000-01-01"] {
        let res = app.post_json("/api/v1/tasks", &json!({"title": "t", "due_date": due})).await;
        assert_eq!(res.error_fields(), ["due_date"], "{due}");
    }
    assert_eq!(app.post_json("/api/v1/tasks", &json!({"title": "t", "due_date": "9999-12-31"})).await.status, 201);
    for (query, field) in [
        ("due_from=0000-12-31", "due_from"),
        ("created_from=0000-01-01T00:00:00Z", "created_from"),
        ("created_to=9999-12-31T23:00:00-05:00", "created_to"),
        ("created_to=0001-01-01T00:00:00%2B01:00", "created_to"),
    ] {
        assert_eq!(app.get(&format!("/api/v1/tasks?{query}")).await.error_fields(), [field], "{query}");
    }
    assert_eq!(app.get("/api/v1/tasks/stats?from=0000-01-01&to=0001-01-01").await.error_fields(), ["from"]);
}

#[actix_rt::test]
async fn a_body_with_several_shape_errors_names_them_all() {
    let app = spawn_app().await;
    let res = app.post_json("/api/v1/tasks", &json!({"title": 5, "descripton": "x", "due_date": []})).await;
    assert_eq!(res.error_fields(), ["descripton", "due_date", "title"]);
    for error in res.json()["errors"].as_array().unwrap() {
        assert!(!error["message"].as_str().unwrap().contains("line"), "{error}");
    }
    let res = app.post_json("/api/v1/notes", &json!({"titel": "x"})).await;
    assert_eq!(res.error_fields(), ["titel", "content"]);
}

#[actix_rt::test]
async fn unknown_query_parameters_get_422_naming_them() {
    let app = spawn_app().await;
    app.post_json("/api/v1/tasks", &json!({"title": "t", "status": "completed"})).await;
    let res = app.get("/api/v1/tasks?stauts=pending").await;
    assert_eq!(res.error_fields(), ["stauts"]);
    assert!(res.json()["errors"][0]["message"].as_str().unwrap().contains("status"), "lists what is accepted");
    assert_eq!(app.get("/api/v1/tasks?stauts=pending&limit=5&colour=red").await.error_fields(), ["stauts", "colour"]);
    assert_eq!(app.get("/api/v1/tasks/stats?buckett=week").await.error_fields(), ["buckett"]);
    assert_eq!(app.get("/api/v1/notes?qq=milk").await.error_fields(), ["qq"]);

    // Endpoints without any query parameter refuse them too, whatever the method.
    let note = app.post_json("/api/v1/notes", &json!({"content": "x"})).await.json();
    let path = format!("/api/v1/notes/{}", note["id"].as_str().unwrap());
    assert_eq!(app.get(&format!("{path}?x=1")).await.error_fields(), ["x"]);
    assert_eq!(
        app.patch_json(&format!("{path}?dry_run=1"), &json!({"content": "y"})).await.error_fields(),
        ["dry_run"]
    );
    assert_eq!(app.get(&path).await.json()["content"], "x", "the refused PATCH changed nothing");
    assert_eq!(app.request(Method::DELETE, &format!("{path}?force"), &[], None).await.error_fields(), ["force"]);
    assert_eq!(app.post_json("/api/v1/tasks?x=1", &json!({"title": "t"})).await.error_fields(), ["x"]);
    assert_eq!(app.get("/api/v1/users/me?x=1").await.error_fields(), ["x"]);

    // Known parameters still work, and so do the pages outside the API.
    assert_eq!(app.get("/api/v1/tasks?status=pending&limit=5").await.status, 200);
    assert_eq!(app.get(&path).await.status, 200);
    assert_eq!(app.get("/healthz").await.status, 200);
    assert_eq!(app.get("/healthz?probe=1").await.status, 200);
    assert_eq!(app.get("/openapi.json").await.status, 200);
    assert_eq!(app.get("/docs/?url=x").await.status, 200);
    assert_eq!(app.get("/docs").await.status, 200);
}

#[actix_rt::test]
async fn query_values_that_are_not_utf8_get_422_naming_them() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/notes?q=%ff%fe").await.error_fields(), ["q"]);
    assert_eq!(app.get("/api/v1/tasks?q=%C3").await.error_fields(), ["q"]);
    assert_eq!(app.get("/api/v1/learning/challenges?tag=%ff&topic=%ff&limit=5").await.error_fields(), ["tag", "topic"]);
    assert_eq!(app.get("/api/v1/learning/paths?q=ok&tag=%80").await.error_fields(), ["tag"]);
    // Even where the parameter would be unknown anyway: the encoding is the first problem.
    assert_eq!(app.get("/api/v1/users/me?x=%ff").await.error_fields(), ["x"]);
    // UTF-8 (`café`, `€`) and a stray `%` are fine.
    assert_eq!(app.get("/api/v1/notes?q=caf%C3%A9").await.status, 200);
    assert_eq!(app.get("/api/v1/notes?q=%E2%82%AC+100%").await.status, 200);
}

#[actix_rt::test]
async fn limits_are_plain_digits() {
    let app = spawn_app().await;
    for limit in ["%205", "+5", "5%20", "05", "%2B5", "5.0", "%D9%A1"] {
        let res = app.get(&format!("/api/v1/notes?limit={limit}")).await;
        assert_eq!(res.error_fields(), ["limit"], "{limit}");
    }
    let bearer = app.bearer_for("ada@example.com").await;
    for path in ["/api/v1/tasks", "/api/v1/learning/challenges", "/api/v1/teams", "/api/v1/learning/me/progress"] {
        let res = app.as_user(Some(&bearer), Method::GET, &format!("{path}?limit=%205"), &[], None).await;
        assert_eq!(res.error_fields(), ["limit"], "{path}");
    }
    assert_eq!(app.get("/api/v1/notes?limit=5").await.status, 200);
    assert_eq!(app.get("/api/v1/notes?limit=200").await.status, 200);
}

#[actix_rt::test]
async fn nul_characters_in_passwords_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "a@example.com", "display_name": "A", "password": "long enough\u{0}password"}),
        )
        .await;
    assert_eq!(res.error_fields(), ["password"]);
    assert!(res.json()["errors"][0]["message"].as_str().unwrap().contains("NUL"));
    let res =
        app.post_json("/api/v1/auth/login", &json!({"email": "a@example.com", "password": "pass\u{0}word"})).await;
    assert_eq!(res.error_fields(), ["password"]);
}
