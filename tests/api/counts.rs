//! `count=true` on every list (API section 1): `total` is how many items match the list's
//! filters and the caller's visibility over all pages, the same on every page whatever the
//! cursor, `count` and `limit` may change between pages, a bad `count` is a 422 naming it,
//! without `count=true` there is no `total`, and past 10,000 the total stops there with
//! `total_capped: true`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, send, spawn_app, user, Response, TestApp, User};

async fn call(app: &TestApp, who: Option<&User>, method: Method, path: &str, body: Option<Value>) -> Response {
    let headers: Vec<(&str, &str)> = who.map(|u| ("authorization", u.bearer.as_str())).into_iter().collect();
    send(&app.base, method, path, &headers, body.map(|b| ("application/json", b.to_string().into_bytes()))).await
}

async fn post(app: &TestApp, who: Option<&User>, path: &str, body: Value) -> Value {
    let res = call(app, who, Method::POST, path, Some(body)).await;
    assert!(matches!(res.status, 200 | 201), "{path}: {}", String::from_utf8_lossy(&res.body));
    res.json()
}

async fn put(app: &TestApp, who: &User, path: &str, body: Option<Value>) -> Value {
    let res = call(app, Some(who), Method::PUT, path, body).await;
    assert!(matches!(res.status, 200 | 201), "{path}: {}", String::from_utf8_lossy(&res.body));
    res.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn with(path: &str, query: &str) -> String {
    format!("{path}{}{query}", if path.contains('?') { '&' } else { '?' })
}

async fn get(app: &TestApp, who: Option<&User>, path: &str) -> Value {
    ok(&call(app, who, Method::GET, path, None).await, 200)
}

/// The `total` of the list `path` as `who`, checked the way a client relies on it: every
/// page of a walk to the end (asking with `count=true`, without it and with
/// `count=false`, under changing limits) answers the same total when asked and none when
/// not, never `total_capped` (these lists are small), and the pages hold exactly that many
/// items.
async fn total(app: &TestApp, who: Option<&User>, path: &str) -> u64 {
    assert!(get(app, who, path).await.get("total").is_none(), "{path}: a total without count=true");
    let first = get(app, who, &with(path, "count=true&limit=2")).await;
    let total = first["total"].as_u64().unwrap_or_else(|| panic!("{path}: no total in {first}"));
    assert!(first.get("total_capped").is_none(), "{path}: {first}");
    let mut seen = first["items"].as_array().unwrap().len() as u64;
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    let asks = ["count=false&limit=1", "count=true&limit=3", "limit=2", "count=true&limit=1"];
    for ask in asks.iter().cycle() {
        let Some(at) = cursor.take() else { break };
        let page = get(app, who, &with(path, &format!("{ask}&cursor={at}"))).await;
        if ask.starts_with("count=true") {
            assert_eq!(page["total"].as_u64(), Some(total), "{path} ({ask}): the total moved with the cursor");
        } else {
            assert!(page.get("total").is_none(), "{path} ({ask}): {page}");
        }
        assert!(page.get("total_capped").is_none(), "{path} ({ask}): {page}");
        seen += page["items"].as_array().unwrap().len() as u64;
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, total, "{path}: the pages hold another number of items than the total");
    total
}

/// Asserts each `(who, list, expected total)`.
async fn totals(app: &TestApp, cases: &[(Option<&User>, String, u64)]) {
    for (who, path, expected) in cases {
        assert_eq!(total(app, *who, path).await, *expected, "{path}");
    }
}

#[actix_rt::test]
async fn notes_and_tasks_count_the_boards_matches() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    for i in 0..5 {
        let content = if i % 2 == 0 { format!("oat milk {i}") } else { format!("tea {i}") };
        post(&app, None, "/api/v1/notes", json!({"title": format!("n{i}"), "content": content})).await;
    }
    for i in 0..3 {
        post(&app, Some(&ada), "/api/v1/notes", json!({"content": format!("oat {i}")})).await;
    }
    let tasks = [
        ("Invoice ACME", "pending", Some("2020-01-10")),
        ("Call Bob", "pending", None),
        ("invoice Initech", "in_progress", Some("2999-05-01")),
        ("Design", "completed", Some("2020-02-01")),
        ("Review", "pending", Some("2021-03-03")),
        ("Ship", "in_progress", None),
    ];
    for (title, status, due) in tasks {
        post(&app, None, "/api/v1/tasks", json!({"title": title, "status": status, "due_date": due})).await;
    }
    post(&app, Some(&ada), "/api/v1/tasks", json!({"title": "Invoice Ada's client"})).await;
    let n = |p: &str| p.to_string();
    totals(
        &app,
        &[
            (None, n("/api/v1/notes"), 5),
            (None, n("/api/v1/notes?q=oat"), 3),
            (None, n("/api/v1/notes?q=oa+mi&sort=title"), 3),
            (None, n("/api/v1/notes?q=zebra"), 0),
            (Some(&ada), n("/api/v1/notes"), 3),
            (Some(&ada), n("/api/v1/notes?q=milk"), 0),
            (None, n("/api/v1/tasks"), 6),
            (None, n("/api/v1/tasks?status=pending"), 3),
            (None, n("/api/v1/tasks?status=pending,in_progress&sort=due_date"), 5),
            (None, n("/api/v1/tasks?has_due_date=false&sort=-due_date"), 2),
            (None, n("/api/v1/tasks?overdue=true"), 2),
            (None, n("/api/v1/tasks?due_from=2020-01-01&due_to=2020-12-31&sort=title"), 2),
            (None, n("/api/v1/tasks?q=invoice"), 2),
            (None, n("/api/v1/tasks?q=invoice&status=pending&sort=-title"), 1),
            (Some(&ada), n("/api/v1/tasks?q=invoice"), 1),
        ],
    )
    .await;
}

#[actix_rt::test]
async fn team_lists_count_what_the_caller_may_see() {
    let app = spawn_app().await;
    let (ada, bob, cy) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cy").await);
    let team = id(&post(&app, Some(&ada), "/api/v1/teams", json!({"name": "Squad"})).await);
    let other = id(&post(&app, Some(&ada), "/api/v1/teams", json!({"name": "Other"})).await);
    for (t, who) in [(&team, &bob), (&team, &cy), (&other, &bob)] {
        post(&app, Some(&ada), &format!("/api/v1/teams/{t}/members"), json!({"user_id": who.id})).await;
    }
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(post(&app, Some(&ada), &format!("/api/v1/teams/{team}/invites"), json!({})).await["code"].clone());
    }
    let revoked = format!("/api/v1/teams/{team}/invites/{}", codes[0].as_str().unwrap());
    ok(&call(&app, Some(&ada), Method::DELETE, &revoked, None).await, 204);
    let projects = format!("/api/v1/teams/{team}/projects");
    let launch = id(&post(&app, Some(&ada), &projects, json!({"name": "Launch"})).await);
    let two = id(&post(&app, Some(&ada), &projects, json!({"name": "Two"})).await);
    let old = id(&post(&app, Some(&ada), &projects, json!({"name": "Old"})).await);
    let elsewhere = id(&post(&app, Some(&ada), &format!("/api/v1/teams/{other}/projects"), json!({"name": "X"})).await);
    let task = |title: &str, status: &str, assignee: Option<&User>| json!({"title": title, "status": status, "assignee_id": assignee.map(|u| u.id.clone())});
    let mut first_task = None;
    for (project, body) in [
        (&launch, task("Invoice the client", "todo", Some(&bob))),
        (&launch, task("Plan", "in_progress", Some(&bob))),
        (&launch, task("invoice again", "done", None)),
        (&launch, task("Ship", "todo", Some(&cy))),
        (&two, task("Other work", "todo", None)),
        (&old, task("Archived invoice", "todo", Some(&bob))),
        (&elsewhere, task("Elsewhere", "todo", Some(&bob))),
    ] {
        let made = post(&app, Some(&ada), &format!("/api/v1/projects/{project}/tasks"), body).await;
        first_task.get_or_insert_with(|| id(&made));
    }
    let archive = json!({"archived": true});
    ok(&call(&app, Some(&ada), Method::PATCH, &format!("/api/v1/projects/{old}"), Some(archive)).await, 200);
    let first_task = first_task.unwrap();
    let comments = format!("/api/v1/projects/{launch}/tasks/{first_task}/comments");
    for i in 0..3 {
        post(&app, Some(&bob), &comments, json!({"body": format!("comment {i}")})).await;
    }
    let change = Some(json!({"status": "in_progress"}));
    let task_path = format!("/api/v1/projects/{launch}/tasks/{first_task}");
    ok(&call(&app, Some(&bob), Method::PATCH, &task_path, change).await, 200);
    // The feeds' totals are what their full pages hold.
    let feed = format!("/api/v1/teams/{team}/activity");
    let entries = get(&app, Some(&ada), &with(&feed, "limit=200")).await["items"].as_array().unwrap().len() as u64;
    let task_feed = format!("/api/v1/projects/{launch}/tasks/{first_task}/activity");
    let task_entries = get(&app, Some(&ada), &task_feed).await["items"].as_array().unwrap().len() as u64;
    assert!(entries > 10 && task_entries >= 4, "{entries} {task_entries}");
    let s = |p: String| p;
    totals(
        &app,
        &[
            (Some(&ada), s("/api/v1/teams".into()), 2),
            (Some(&cy), s("/api/v1/teams".into()), 1),
            (Some(&ada), format!("/api/v1/teams/{team}/members"), 3),
            (Some(&ada), format!("/api/v1/teams/{team}/members?q=b"), 1),
            (Some(&ada), format!("/api/v1/teams/{other}/members"), 2),
            (Some(&ada), format!("/api/v1/teams/{team}/invites"), 2),
            (Some(&bob), projects.clone(), 3),
            (Some(&bob), format!("{projects}?archived=true"), 1),
            (Some(&bob), format!("{projects}?archived=false"), 2),
            (Some(&bob), format!("/api/v1/projects/{launch}/tasks"), 4),
            (Some(&bob), format!("/api/v1/projects/{launch}/tasks?status=todo,in_progress&sort=title"), 3),
            (Some(&bob), format!("/api/v1/projects/{launch}/tasks?q=invoice"), 2),
            (Some(&bob), format!("/api/v1/projects/{launch}/tasks?assignee=me&sort=-priority"), 2),
            (Some(&bob), format!("/api/v1/teams/{team}/tasks"), 5),
            (Some(&bob), format!("/api/v1/teams/{team}/tasks?include_archived=true"), 6),
            (Some(&bob), format!("/api/v1/teams/{team}/tasks?q=invoice&include_archived=true"), 3),
            (Some(&bob), format!("/api/v1/teams/{team}/tasks?project_id={two}"), 1),
            (Some(&bob), "/api/v1/me/tasks".into(), 6),
            (Some(&bob), "/api/v1/me/tasks?assignee=me".into(), 3),
            (Some(&bob), "/api/v1/me/tasks?assignee=me&q=invoice&include_archived=true".into(), 2),
            (Some(&bob), format!("/api/v1/me/tasks?team_id={other}"), 1),
            (Some(&cy), "/api/v1/me/tasks".into(), 5),
            (Some(&cy), comments.clone(), 3),
            (Some(&ada), feed.clone(), entries),
            (Some(&ada), format!("{feed}?action=task.created"), 6),
            (Some(&ada), format!("{feed}?actor={}", bob.id), 4),
            (Some(&ada), task_feed, task_entries),
        ],
    )
    .await;
    // Strangers still get 404, counted or not.
    call(&app, Some(&cy), Method::GET, &format!("/api/v1/teams/{other}/tasks?count=true"), None).await.problem(404);
}

#[actix_rt::test]
async fn learning_and_session_lists_count_their_items() {
    let app = spawn_app().await;
    let (ada, bob, cy) = (user(&app, "Ada").await, user(&app, "Bob").await, user(&app, "Cy").await);
    let base = "/api/v1/learning";
    let mut challenges = Vec::new();
    for (title, difficulty, topic, tags) in [
        ("Reverse a list", "beginner", "basics", vec!["python", "lists"]),
        ("Walk a graph", "advanced", "graphs", vec!["python"]),
        ("Sort words", "beginner", "basics", vec!["lists"]),
        ("Graph colouring", "expert", "graphs", vec!["math"]),
        ("Hello", "beginner", "basics", vec![]),
    ] {
        let body = json!({"title": title, "difficulty": difficulty, "topic": topic, "tags": tags});
        challenges.push(id(&post(&app, Some(&ada), &format!("{base}/challenges"), body).await));
    }
    let first = &challenges[0];
    let mut completions = Vec::new();
    for who in [&bob, &cy] {
        let done =
            put(&app, who, &format!("{base}/challenges/{first}/completion"), Some(json!({"solution": "x"}))).await;
        completions.push(id(&done));
    }
    put(&app, &bob, &format!("{base}/challenges/{}/completion", challenges[1]), Some(json!({"solution": "y"}))).await;
    let feedback = format!("{base}/completions/{}/feedback", completions[0]);
    for who in [&ada, &cy] {
        post(&app, Some(who), &feedback, json!({"body": "nice"})).await;
    }
    for i in 0..3 {
        post(&app, Some(&cy), &format!("{base}/challenges/{first}/comments"), json!({"body": format!("c{i}")})).await;
    }
    let mut paths = Vec::new();
    for (title, topic) in [("Start", "basics"), ("Deeper", "graphs"), ("More basics", "Basics")] {
        paths
            .push(id(&post(&app, Some(&ada), &format!("{base}/paths"), json!({"title": title, "topic": topic})).await));
    }
    for path in &paths[..2] {
        put(&app, &bob, &format!("{base}/paths/{path}/enrollment"), None).await;
    }
    // Two more sessions of Ada's.
    for _ in 0..2 {
        let login = json!({"email": "ada@example.com", "password": "correct horse battery"});
        post(&app, None, "/api/v1/auth/login", login).await;
    }
    let l = |p: &str| format!("{base}{p}");
    totals(
        &app,
        &[
            (None, l("/challenges"), 5),
            (None, l("/challenges?difficulty=beginner"), 3),
            (None, l("/challenges?difficulty=beginner,expert&sort=-rating"), 4),
            (None, l("/challenges?tag=python"), 2),
            (None, l("/challenges?tag=python,lists"), 1),
            (None, l("/challenges?topic=Graphs&sort=title"), 2),
            (None, l("/challenges?q=graph"), 2),
            (None, l("/challenges?q=graph&topic=graphs&sort=-popularity"), 2),
            (None, l("/challenges?tag=nothing"), 0),
            (Some(&bob), l("/challenges?completed=true"), 2),
            (Some(&bob), l("/challenges?completed=false&difficulty=beginner"), 2),
            (None, l("/paths"), 3),
            (None, l("/paths?topic=basics"), 2),
            (None, l("/paths?q=deeper"), 1),
            (None, l(&format!("/challenges/{first}/comments")), 3),
            (Some(&ada), l(&format!("/challenges/{first}/completions")), 2),
            (Some(&bob), l(&format!("/challenges/{first}/completions")), 1),
            (Some(&bob), feedback.clone(), 2),
            (Some(&bob), l("/me/progress"), 2),
            (Some(&cy), l("/me/progress"), 0),
            (Some(&ada), "/api/v1/auth/sessions".into(), 3),
            (Some(&bob), "/api/v1/auth/sessions".into(), 1),
        ],
    )
    .await;
}

#[actix_rt::test]
async fn count_is_true_or_false_on_every_list() {
    let app = spawn_app().await;
    let ada = user(&app, "Ada").await;
    let team = id(&post(&app, Some(&ada), "/api/v1/teams", json!({"name": "Squad"})).await);
    let project = id(&post(&app, Some(&ada), &format!("/api/v1/teams/{team}/projects"), json!({"name": "P"})).await);
    let task = id(&post(&app, Some(&ada), &format!("/api/v1/projects/{project}/tasks"), json!({"title": "t"})).await);
    let challenge = json!({"title": "C", "difficulty": "beginner", "topic": "t"});
    let challenge = id(&post(&app, Some(&ada), "/api/v1/learning/challenges", challenge).await);
    let completion =
        put(&app, &ada, &format!("/api/v1/learning/challenges/{challenge}/completion"), Some(json!({"solution": "s"})))
            .await;
    let webhook = json!({"url": "http://127.0.0.1:9/hook", "events": ["task.*"]});
    let webhook = id(&post(&app, Some(&ada), &format!("/api/v1/teams/{team}/webhooks"), webhook).await);
    let lists = [
        "/api/v1/notes".to_string(),
        "/api/v1/tasks".into(),
        "/api/v1/auth/sessions".into(),
        "/api/v1/teams".into(),
        format!("/api/v1/teams/{team}/members"),
        format!("/api/v1/teams/{team}/invites"),
        format!("/api/v1/teams/{team}/projects"),
        format!("/api/v1/teams/{team}/labels"),
        format!("/api/v1/teams/{team}/tasks"),
        format!("/api/v1/teams/{team}/activity"),
        format!("/api/v1/projects/{project}/tasks"),
        format!("/api/v1/projects/{project}/tasks/{task}/comments"),
        format!("/api/v1/projects/{project}/tasks/{task}/activity"),
        "/api/v1/me/tasks".into(),
        "/api/v1/me/notifications".into(),
        "/api/v1/learning/challenges".into(),
        "/api/v1/learning/paths".into(),
        format!("/api/v1/learning/challenges/{challenge}/comments"),
        format!("/api/v1/learning/challenges/{challenge}/completions"),
        format!("/api/v1/learning/completions/{}/feedback", id(&completion)),
        "/api/v1/learning/me/progress".into(),
        format!("/api/v1/teams/{team}/webhooks"),
        format!("/api/v1/webhooks/{webhook}/deliveries"),
    ];
    // The document lists the same lists: every `Page_*` answer takes `count`.
    let doc = get(&app, None, "/openapi.json").await;
    let paged: Vec<&String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| item["get"]["responses"]["200"].to_string().contains("#/components/schemas/Page_"))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(paged.len(), lists.len(), "{paged:?}");
    for path in &lists {
        for bad in ["yes", "1", "", "TRUE"] {
            let res = call(&app, Some(&ada), Method::GET, &with(path, &format!("count={bad}")), None).await;
            assert_eq!(res.error_fields(), ["count"], "{path}?count={bad}");
        }
        // Named beside every other bad parameter, at once.
        let res = call(&app, Some(&ada), Method::GET, &with(path, "count=maybe&limit=0"), None).await;
        let mut fields = res.error_fields();
        fields.sort();
        assert_eq!(fields, ["count", "limit"], "{path}");
        for good in ["true", "false"] {
            ok(&call(&app, Some(&ada), Method::GET, &with(path, &format!("count={good}")), None).await, 200);
        }
    }
    for (path, operation) in doc["paths"].as_object().unwrap().iter().filter(|(p, _)| paged.contains(p)) {
        let names: Vec<&str> = operation["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"count"), "{path} documents no `count`: {names:?}");
    }
    let page = &doc["components"]["schemas"]["Page_Note"];
    assert_eq!(page["properties"]["total"]["type"], "integer");
    assert_eq!(page["properties"]["total_capped"]["type"], "boolean");
    let required: Vec<&str> = page["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(required, ["items", "next_cursor"], "total and total_capped are optional");
}

/// The public cap: 10,000 notes are counted exactly, one more is `10000` and capped.
#[actix_rt::test]
async fn totals_stop_at_10000_and_say_so() {
    let app = spawn_app().await;
    // 9,999 notes through the database (10,000 requests would take most of a minute), one
    // through the API.
    let db = storage::Database::connect(&app.db_url, &storage::DbConfig::default()).unwrap();
    db.write(|c| {
        use diesel::RunQueryDsl as _;
        diesel::sql_query(
            "WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < 9999)
             INSERT INTO notes (id, title, content, created_at, updated_at)
             SELECT '00000000-0000-7000-8000-' || (100000000000 + x), NULL, 'seeded cap', x, x FROM i",
        )
        .execute(c.conn())?;
        Ok(())
    })
    .unwrap();
    post(&app, None, "/api/v1/notes", json!({"content": "cap 10000"})).await;
    let page = get(&app, None, "/api/v1/notes?count=true&limit=1").await;
    assert_eq!((page["total"].as_u64(), page.get("total_capped")), (Some(10_000), None), "exactly the cap");
    assert_eq!(get(&app, None, "/api/v1/notes?count=true&q=cap").await["total"], 10_000);
    post(&app, None, "/api/v1/notes", json!({"content": "cap 10001"})).await;
    for path in ["/api/v1/notes?count=true&limit=1", "/api/v1/notes?count=true&q=cap&sort=title"] {
        let page = get(&app, None, path).await;
        assert_eq!((page["total"].as_u64(), page["total_capped"].as_bool()), (Some(10_000), Some(true)), "{path}");
        // A deeper page says the same.
        let next = page["next_cursor"].as_str().unwrap();
        let deeper = get(&app, None, &format!("{path}&cursor={next}")).await;
        assert_eq!((deeper["total"].as_u64(), deeper["total_capped"].as_bool()), (Some(10_000), Some(true)), "{path}");
    }
    // Exact again under the cap, and on another board.
    assert_eq!(get(&app, None, "/api/v1/notes?count=true&q=10001").await["total"], 1);
    let ada = user(&app, "Ada").await;
    let mine = ok(&call(&app, Some(&ada), Method::GET, "/api/v1/notes?count=true", None).await, 200);
    assert_eq!(mine, json!({"items": [], "next_cursor": null, "total": 0}));
}
