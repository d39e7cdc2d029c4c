//! The notes API over HTTP, run against both stores (`--notes-store memory|sqlite`).

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::Duration;

use actix_web::http::Method;
use gateway::NotesStore;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, ProcessApp, TestApp};

/// Generates one test per store for each scenario function below.
macro_rules! for_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod memory_store {
            $(#[actix_rt::test] async fn $scenario() { super::$scenario(gateway::NotesStore::Memory).await })*
        }
        mod sqlite_store {
            $(#[actix_rt::test] async fn $scenario() { super::$scenario(gateway::NotesStore::Sqlite).await })*
        }
    };
}

for_both_stores!(
    crud_round_trip,
    patch_semantics,
    validation_names_every_bad_field,
    malformed_bodies_get_problem_documents,
    bad_query_parameters_get_422,
    unknown_and_malformed_ids_get_404,
    list_is_newest_first_and_sortable,
    search_matches_words_in_title_and_content,
    concurrent_writers_all_succeed,
    keyset_paging_neither_skips_nor_repeats_while_inserting,
);

async fn create(app: &TestApp, title: Option<&str>, content: &str) -> Value {
    let res = app.post_json("/api/v1/notes", &json!({"title": title, "content": content})).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    res.json()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
}

fn is_rfc3339_utc_millis(value: &Value) -> bool {
    let s = value.as_str().unwrap_or_default();
    s.len() == 24 && s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

async fn crud_round_trip(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let res = app.post_json("/api/v1/notes", &json!({"title": "  Groceries ", "content": " milk "})).await;
    assert_eq!(res.status, 201);
    let note = res.json();
    let id = note["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/notes/{id}"));
    assert_eq!((note["title"].as_str(), note["content"].as_str()), (Some("Groceries"), Some("milk")));
    assert!(is_rfc3339_utc_millis(&note["created_at"]) && note["created_at"] == note["updated_at"]);

    let fetched = app.get(&format!("/api/v1/notes/{id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), note);

    let untitled = create(&app, None, "no title").await;
    assert_eq!(untitled["title"], Value::Null);

    let list = app.get("/api/v1/notes").await.json();
    assert_eq!(ids(&list), [untitled["id"].as_str().unwrap(), id]);
    assert_eq!(list["next_cursor"], Value::Null);

    assert_eq!(app.delete(&format!("/api/v1/notes/{id}")).await.status, 204);
    app.get(&format!("/api/v1/notes/{id}")).await.problem(404);
    app.delete(&format!("/api/v1/notes/{id}")).await.problem(404);
    assert_eq!(ids(&app.get("/api/v1/notes").await.json()).len(), 1);
}

async fn patch_semantics(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let note = create(&app, Some("Title"), "body").await;
    let path = format!("/api/v1/notes/{}", note["id"].as_str().unwrap());

    let changed = app.patch_json(&path, &json!({"content": " new body "})).await;
    assert_eq!(changed.status, 200);
    let changed = changed.json();
    assert_eq!((changed["title"].as_str(), changed["content"].as_str()), (Some("Title"), Some("new body")));
    assert!(changed["updated_at"].as_str() > note["updated_at"].as_str(), "updated_at moves");
    assert_eq!(changed["created_at"], note["created_at"]);

    let cleared = app.patch_json(&path, &json!({"title": null})).await.json();
    assert_eq!(cleared["title"], Value::Null);
    assert_eq!(cleared["content"], "new body");
    assert!(cleared["updated_at"].as_str() > changed["updated_at"].as_str());

    let fields = app.patch_json(&path, &json!({"content": null, "title": "x".repeat(201)})).await.error_fields();
    assert_eq!(fields, ["title", "content"]);
    assert_eq!(app.patch_json(&path, &json!({"content": "   "})).await.error_fields(), ["content"]);
    assert_eq!(app.patch_json(&path, &json!({"colour": "red"})).await.error_fields(), ["colour"]);

    let unchanged = app.patch_json(&path, &json!({})).await;
    assert_eq!(unchanged.status, 200);
    assert_eq!(unchanged.json(), cleared);
    assert_eq!(app.get(&path).await.json(), cleared, "rejected patches changed nothing");
}

async fn validation_names_every_bad_field(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let res = app.post_json("/api/v1/notes", &json!({"title": "t".repeat(201), "content": "  "})).await;
    assert_eq!(res.error_fields(), ["title", "content"]);
    let problem = res.json();
    assert_eq!(problem["type"], "/problems/validation");
    assert_eq!(problem["errors"][1]["message"], "must not be empty");

    let too_long = app.post_json("/api/v1/notes", &json!({"content": "é".repeat(20_001)})).await;
    assert_eq!(too_long.error_fields(), ["content"]);
    let at_limit =
        app.post_json("/api/v1/notes", &json!({"title": "é".repeat(200), "content": "é".repeat(20_000)})).await;
    assert_eq!(at_limit.status, 201, "limits count characters, not bytes");

    assert_eq!(app.post_json("/api/v1/notes", &json!({"title": "x"})).await.error_fields(), ["content"]);
    assert_eq!(app.post_json("/api/v1/notes", &json!({"content": "x", "colour": 1})).await.error_fields(), ["colour"]);
    assert_eq!(app.post_json("/api/v1/notes", &json!({"content": 5})).await.error_fields(), ["content"]);
    assert_eq!(
        app.post_json("/api/v1/notes", &json!({"content": "x", "title": ["a"]})).await.error_fields(),
        ["title"]
    );
    assert_eq!(app.post_json("/api/v1/notes", &json!(["x"])).await.error_fields(), ["body"], "arrays are not objects");
    assert!(app.get("/api/v1/notes").await.json()["items"].as_array().unwrap().len() == 1);
}

async fn malformed_bodies_get_problem_documents(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let post = |content_type: &'static str, body: Vec<u8>| {
        let app = &app;
        async move { app.request(Method::POST, "/api/v1/notes", &[], Some((content_type, body))).await }
    };
    post("application/json", b"{\"content\": ".to_vec()).await.problem(400);
    post("application/json", b"not json".to_vec()).await.problem(400);
    post("application/json", Vec::new()).await.problem(400);
    post("application/json", vec![0xff, 0xfe, 0x00]).await.problem(400);
    post("text/plain", b"{\"content\": \"x\"}".to_vec()).await.problem(415);
    post("", b"{\"content\": \"x\"}".to_vec()).await.problem(415);

    let mut big = br#"{"content": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    big.extend(br#""}"#);
    post("application/json", big).await.problem(413);

    let note = create(&app, None, "x").await;
    let path = format!("/api/v1/notes/{}", note["id"].as_str().unwrap());
    app.request(Method::PATCH, &path, &[], Some(("application/json", b"[".to_vec()))).await.problem(400);
    app.request(Method::PATCH, &path, &[], Some(("text/csv", b"a,b".to_vec()))).await.problem(415);
    assert_eq!(ids(&app.get("/api/v1/notes").await.json()).len(), 1, "nothing malformed was stored");
}

async fn bad_query_parameters_get_422(store: NotesStore) {
    let app = spawn_app_with(store).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=eyJzIjoiIiwiayI6W119", "cursor"),
        // {"s":"-created_at","k":["text",5]}: the right sort, keys of the wrong kind.
        ("cursor=eyJzIjoiLWNyZWF0ZWRfYXQiLCJrIjpbInRleHQiLDVdfQ", "cursor"),
        ("sort=colour", "sort"),
        ("sort=title,title", "sort"),
        ("sort=-", "sort"),
        ("limit=1&limit=2", "limit"),
    ] {
        let fields = app.get(&format!("/api/v1/notes?{query}")).await.error_fields();
        assert_eq!(fields, [field], "{query}");
    }
    let all = app.get("/api/v1/notes?limit=0&sort=x&cursor=y").await.error_fields();
    assert_eq!(all, ["limit", "cursor", "sort"], "every bad parameter at once");

    // A cursor made under one sort is refused under another.
    for i in 0..3 {
        create(&app, None, &format!("n{i}")).await;
    }
    let page = app.get("/api/v1/notes?limit=1&sort=title").await.json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let fields = app.get(&format!("/api/v1/notes?limit=1&sort=-created_at&cursor={cursor}")).await.error_fields();
    assert_eq!(fields, ["cursor"]);
}

async fn unknown_and_malformed_ids_get_404(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/notes/{unknown}"),
        "/api/v1/notes/not-a-uuid".to_string(),
        "/api/v1/notes/%00%ff".to_string(),
        format!("/api/v1/notes/{}", "9".repeat(5000)),
    ] {
        app.get(&path).await.problem(404);
        app.delete(&path).await.problem(404);
        app.patch_json(&path, &json!({"content": "x"})).await.problem(404);
    }
}

async fn list_is_newest_first_and_sortable(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let b = create(&app, Some("banana"), "1").await;
    let none = create(&app, None, "2").await;
    let a = create(&app, Some("apple"), "3").await;
    let id = |n: &Value| n["id"].as_str().unwrap().to_string();

    assert_eq!(ids(&app.get("/api/v1/notes").await.json()), [id(&a), id(&none), id(&b)]);
    assert_eq!(ids(&app.get("/api/v1/notes?sort=created_at").await.json()), [id(&b), id(&none), id(&a)]);
    // Untitled notes last in both directions (API section 1).
    assert_eq!(ids(&app.get("/api/v1/notes?sort=title").await.json()), [id(&a), id(&b), id(&none)]);
    assert_eq!(ids(&app.get("/api/v1/notes?sort=-title").await.json()), [id(&b), id(&a), id(&none)]);

    app.patch_json(&format!("/api/v1/notes/{}", id(&b)), &json!({"content": "edited"})).await;
    assert_eq!(ids(&app.get("/api/v1/notes?sort=-updated_at").await.json())[0], id(&b));

    // Paging through a sort with a nullable key returns each note exactly once.
    for sort in ["title", "-title", "-updated_at", "updated_at,title"] {
        let mut seen = Vec::new();
        let mut url = format!("/api/v1/notes?limit=1&sort={sort}");
        loop {
            let page = app.get(&url).await.json();
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/notes?limit=1&sort={sort}&cursor={c}"),
                None => break,
            }
        }
        let full = ids(&app.get(&format!("/api/v1/notes?sort={sort}")).await.json());
        assert_eq!(seen, full, "{sort}");
    }
}

async fn search_matches_words_in_title_and_content(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let shopping = create(&app, Some("Shopping"), "Milk, eggs and COFFEE").await;
    let work = create(&app, Some("Work"), "ship the coffee machine").await;
    create(&app, None, "nothing to see").await;
    let id = |n: &Value| n["id"].as_str().unwrap().to_string();
    let search = |q: &str| {
        let app = &app;
        let url = format!("/api/v1/notes?q={q}");
        async move { ids(&app.get(&url).await.json()) }
    };
    assert_eq!(search("coffee").await, [id(&work), id(&shopping)]);
    assert_eq!(search("shopping").await, [id(&shopping)], "title is searched");
    assert_eq!(search("cof%20mach").await, [id(&work)], "every word must match, as a prefix");
    assert_eq!(search("EGGS").await, [id(&shopping)], "case-insensitive");
    assert!(search("tea").await.is_empty());
    assert!(search("%22%20OR%20*%20NEAR(").await.is_empty(), "FTS syntax is inert");
    assert_eq!(search("%20").await.len(), 3, "blank q filters nothing");
    let page = app.get("/api/v1/notes?q=coffee&limit=1").await.json();
    assert_eq!(ids(&page), [id(&work)]);
    let next = page["next_cursor"].as_str().unwrap();
    assert_eq!(ids(&app.get(&format!("/api/v1/notes?q=coffee&limit=1&cursor={next}")).await.json()), [id(&shopping)]);
    app.get(&format!("/api/v1/notes?q={}", "x".repeat(501))).await.problem(422);
    assert_eq!(search("a%20coffee").await, Vec::<String>::new(), "a one-letter word is a whole word, not a prefix");
    // The worst search of the cost report: 240 one-letter terms, refused before SQLite.
    let started = std::time::Instant::now();
    let worst = app.get(&format!("/api/v1/notes?q={}", vec!["a"; 240].join("%20"))).await.problem(422);
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    assert_eq!(worst["errors"][0]["field"], "q");
    assert!(worst["errors"][0]["message"].as_str().unwrap().contains("at most 16 words"), "{worst}");
    assert_eq!(search(&vec!["co"; 16].join("%20")).await, [id(&work), id(&shopping)], "16 words are fine");
}

async fn concurrent_writers_all_succeed(store: NotesStore) {
    let app = spawn_app_with(store).await;
    const WRITERS: usize = 16;
    const EACH: usize = 20;
    let writers = (0..WRITERS).map(|w| {
        let base = app.base.clone();
        async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let body = json!({"content": format!("writer {w} note {i}")}).to_string().into_bytes();
                let res =
                    crate::helpers::send(&base, Method::POST, "/api/v1/notes", &[], Some(("application/json", body)))
                        .await;
                assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
                ids.push(res.json()["id"].as_str().unwrap().to_string());
            }
            ids
        }
    });
    let created: Vec<String> = futures_util::future::join_all(writers).await.into_iter().flatten().collect();
    assert_eq!(created.len(), WRITERS * EACH);
    for id in &created {
        assert_eq!(app.get(&format!("/api/v1/notes/{id}")).await.status, 200);
    }
    let listed: HashSet<String> = ids(&app.get("/api/v1/notes?limit=200").await.json())
        .into_iter()
        .chain(ids(&app.get("/api/v1/notes?limit=200&sort=created_at").await.json()))
        .collect();
    assert_eq!(listed, created.into_iter().collect::<HashSet<_>>());
}

async fn keyset_paging_neither_skips_nor_repeats_while_inserting(store: NotesStore) {
    let app = spawn_app_with(store).await;
    let mut originals = Vec::new();
    for i in 0..23 {
        originals.push(
            create(&app, Some(&format!("t{}", i % 5)), &format!("n{i}")).await["id"].as_str().unwrap().to_string(),
        );
    }
    for sort in ["-created_at", "created_at", "title", "-title,created_at"] {
        let mut seen = Vec::new();
        let mut url = format!("/api/v1/notes?limit=4&sort={sort}");
        let mut inserted = Vec::new();
        loop {
            let page = app.get(&url).await.json();
            seen.extend(ids(&page));
            // Rows arriving mid-walk, including ones that sort before and after the cursor.
            for t in ["a", "z"] {
                inserted.push(create(&app, Some(t), "late").await["id"].as_str().unwrap().to_string());
            }
            match page["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/notes?limit=4&sort={sort}&cursor={c}"),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: no note twice");
        for id in &originals {
            assert!(seen.contains(id), "{sort}: note {id} skipped");
        }
        originals.extend(inserted);
    }
}

#[actix_rt::test]
async fn acknowledged_notes_survive_sigkill() {
    let db = storage::TestDatabase::new();
    let mut server = ProcessApp::start(db.url());
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let body = json!({"title": format!("n{i}"), "content": "must survive"}).to_string().into_bytes();
        let res =
            crate::helpers::send(&server.base, Method::POST, "/api/v1/notes", &[], Some(("application/json", body)))
                .await;
        assert_eq!(res.status, 201);
        acknowledged.push(res.json()["id"].as_str().unwrap().to_string());
    }
    server.signal("-KILL");
    assert!(server.wait_exit(Duration::from_secs(5)).is_some());

    let restarted = ProcessApp::start(db.url());
    for id in &acknowledged {
        let res = crate::helpers::send(&restarted.base, Method::GET, &format!("/api/v1/notes/{id}"), &[], None).await;
        assert_eq!(res.status, 200, "note {id} lost after kill -9");
    }
}

#[actix_rt::test]
async fn memory_store_is_selected_by_flag_and_loses_notes_on_restart() {
    let memory = spawn_app_with(NotesStore::Memory).await;
    create(&memory, None, "ephemeral").await;
    memory.stop().await;
    // The database store has no notes: they lived in memory.
    let sqlite = crate::helpers::spawn_app_with(NotesStore::Sqlite).await;
    assert!(ids(&sqlite.get("/api/v1/notes").await.json()).is_empty());
}
