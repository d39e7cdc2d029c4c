//! The freelancer tasks API over HTTP (`/api/v1/tasks`): CRUD, PATCH semantics, the status
//! workflow, every filter and sort with keyset paging, the 422s, and the stats.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use actix_web::http::Method;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const TASKS: &str = "/api/v1/tasks";

async fn create(app: &TestApp, body: Value) -> Value {
    let res = app.post_json(TASKS, &body).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    res.json()
}

fn id(task: &Value) -> String {
    task["id"].as_str().unwrap().to_string()
}

fn path(task: &Value) -> String {
    format!("{TASKS}/{}", id(task))
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(id).collect()
}

/// Every id of a list, page by page (`query` should carry a small `limit`).
async fn all_ids(app: &TestApp, query: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut url = format!("{TASKS}?{query}");
    loop {
        let res = app.get(&url).await;
        assert_eq!(res.status, 200, "{url}: {}", String::from_utf8_lossy(&res.body));
        let page = res.json();
        all.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{TASKS}?{query}&cursor={cursor}"),
            None => return all,
        }
    }
}

async fn id_set(app: &TestApp, query: &str) -> HashSet<String> {
    let listed = all_ids(app, &format!("{query}&limit=2")).await;
    let set: HashSet<String> = listed.iter().cloned().collect();
    assert_eq!(set.len(), listed.len(), "{query}: a task listed twice");
    set
}

fn set_of(tasks: &[&Value]) -> HashSet<String> {
    tasks.iter().map(|t| id(t)).collect()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

fn is_rfc3339_utc_millis(value: &Value) -> bool {
    let s = value.as_str().unwrap_or_default();
    s.len() == 24 && s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[actix_rt::test]
async fn crud_round_trip() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            TASKS,
            &json!({"title": "  Send invoice ", "description": " ACME, November ", "due_date": "2026-12-01"}),
        )
        .await;
    assert_eq!(res.status, 201);
    let task = res.json();
    let task_id = id(&task);
    assert_eq!(uuid::Uuid::parse_str(&task_id).unwrap().get_version_num(), 7);
    assert_eq!(res.header("location").unwrap(), format!("{TASKS}/{task_id}"));
    let mut keys: Vec<_> = task.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["completed_at", "created_at", "description", "due_date", "id", "status", "title", "updated_at", "version"]
    );
    assert_eq!(task["version"], 1);
    assert_eq!((task["title"].as_str(), task["description"].as_str()), (Some("Send invoice"), Some("ACME, November")));
    assert_eq!((task["status"].as_str(), task["due_date"].as_str()), (Some("pending"), Some("2026-12-01")));
    assert_eq!(task["completed_at"], Value::Null);
    assert!(is_rfc3339_utc_millis(&task["created_at"]) && task["created_at"] == task["updated_at"]);

    let fetched = app.get(&path(&task)).await;
    assert_eq!((fetched.status, fetched.json()), (200, task.clone()));

    let minimal = create(&app, json!({"title": "Call the client"})).await;
    assert_eq!((minimal["description"].clone(), minimal["due_date"].clone()), (Value::Null, Value::Null));
    let done = create(&app, json!({"title": "Already done", "status": "completed"})).await;
    assert_eq!(done["completed_at"], done["created_at"], "created completed, completed at creation");

    let list = app.get(TASKS).await.json();
    assert_eq!(ids(&list), [id(&done), id(&minimal), task_id.clone()], "newest first");
    assert_eq!(list["next_cursor"], Value::Null);

    assert_eq!(app.delete(&path(&task)).await.status, 204);
    app.get(&path(&task)).await.problem(404);
    app.delete(&path(&task)).await.problem(404);
    app.patch_json(&path(&task), &json!({"title": "x"})).await.problem(404);
    assert_eq!(ids(&app.get(TASKS).await.json()).len(), 2);
}

#[actix_rt::test]
async fn create_validation_names_every_bad_field() {
    let app = spawn_app().await;
    let bad = json!({"title": " ", "description": "d".repeat(20_001), "status": "done", "due_date": "2026-02-30"});
    let res = app.post_json(TASKS, &bad).await;
    assert_eq!(res.error_fields(), ["title", "description", "status", "due_date"]);
    assert!(res.json()["errors"][2]["message"].as_str().unwrap().contains("in_progress"));
    assert_eq!(app.post_json(TASKS, &json!({"title": "t".repeat(201)})).await.error_fields(), ["title"]);
    assert_eq!(app.post_json(TASKS, &json!({"description": "no title"})).await.error_fields(), ["title"]);
    assert_eq!(app.post_json(TASKS, &json!({"title": "t", "priority": "high"})).await.error_fields(), ["priority"]);
    assert_eq!(
        app.post_json(TASKS, &json!({"title": "t", "due_date": "12/01/2026"})).await.error_fields(),
        ["due_date"]
    );
    // Values of the wrong JSON type are named by their field too.
    assert_eq!(app.post_json(TASKS, &json!({"title": 5})).await.error_fields(), ["title"]);
    assert_eq!(app.post_json(TASKS, &json!({"title": null})).await.error_fields(), ["title"]);
    assert_eq!(app.post_json(TASKS, &json!({"title": "t", "status": 2})).await.error_fields(), ["status"]);
    assert_eq!(app.post_json(TASKS, &json!({"title": "t", "due_date": 20261201})).await.error_fields(), ["due_date"]);
    let at_limits = app.post_json(TASKS, &json!({"title": "é".repeat(200), "description": "é".repeat(20_000)})).await;
    assert_eq!(at_limits.status, 201, "limits count characters, not bytes");

    app.request(Method::POST, TASKS, &[], Some(("application/json", b"{\"title\": ".to_vec()))).await.problem(400);
    app.request(Method::POST, TASKS, &[], Some(("text/plain", b"{\"title\": \"x\"}".to_vec()))).await.problem(415);
    let mut big = br#"{"title": "t", "description": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    big.extend(br#""}"#);
    app.request(Method::POST, TASKS, &[], Some(("application/json", big))).await.problem(413);
    assert_eq!(ids(&app.get(TASKS).await.json()).len(), 1, "nothing invalid was stored");
}

#[actix_rt::test]
async fn unknown_and_malformed_ids_get_404() {
    let app = spawn_app().await;
    create(&app, json!({"title": "exists"})).await;
    let unknown = uuid::Uuid::now_v7();
    for p in [
        format!("{TASKS}/{unknown}"),
        format!("{TASKS}/not-a-uuid"),
        format!("{TASKS}/%00%ff"),
        format!("{TASKS}/{}", "9".repeat(5000)),
    ] {
        app.get(&p).await.problem(404);
        app.delete(&p).await.problem(404);
        app.patch_json(&p, &json!({"title": "x"})).await.problem(404);
    }
}

#[actix_rt::test]
async fn patch_changes_only_what_is_sent_and_null_clears() {
    let app = spawn_app().await;
    let task = create(&app, json!({"title": "Logo", "description": "v1", "due_date": "2026-12-01"})).await;
    let p = path(&task);

    let moved = app.patch_json(&p, &json!({"due_date": "2026-12-24"})).await;
    assert_eq!(moved.status, 200);
    let moved = moved.json();
    assert_eq!(moved["due_date"], "2026-12-24");
    for field in ["title", "description", "status", "created_at", "completed_at", "id"] {
        assert_eq!(moved[field], task[field], "{field} untouched");
    }
    assert!(moved["updated_at"].as_str() > task["updated_at"].as_str(), "updated_at moves");

    let cleared = app.patch_json(&p, &json!({"due_date": null})).await.json();
    assert_eq!((cleared["due_date"].clone(), cleared["description"].as_str()), (Value::Null, Some("v1")));
    assert!(cleared["updated_at"].as_str() > moved["updated_at"].as_str());
    let no_description = app.patch_json(&p, &json!({"description": null})).await.json();
    assert_eq!(no_description["description"], Value::Null);

    assert_eq!(app.patch_json(&p, &json!({"title": null})).await.error_fields(), ["title"]);
    assert_eq!(app.patch_json(&p, &json!({"status": null})).await.error_fields(), ["status"]);
    assert_eq!(
        app.patch_json(&p, &json!({"title": "  ", "status": "done", "due_date": "2026-02-30"})).await.error_fields(),
        ["title", "status", "due_date"]
    );
    assert_eq!(app.patch_json(&p, &json!({"colour": "red"})).await.error_fields(), ["colour"]);
    assert_eq!(app.patch_json(&p, &json!({"description": ["x"]})).await.error_fields(), ["description"]);
    app.request(Method::PATCH, &p, &[], Some(("application/json", b"[".to_vec()))).await.problem(400);
    app.request(Method::PATCH, &p, &[], Some(("text/csv", b"a,b".to_vec()))).await.problem(415);
    assert_eq!(app.get(&p).await.json(), no_description, "rejected patches changed nothing");

    let same = app.patch_json(&p, &json!({"title": "Logo", "status": "pending"})).await;
    assert_eq!((same.status, same.json()), (200, no_description.clone()), "no real change, no new updated_at");
    assert_eq!(app.patch_json(&p, &json!({})).await.json(), no_description);
}

#[actix_rt::test]
async fn completed_at_follows_the_status() {
    let app = spawn_app().await;
    let task = create(&app, json!({"title": "Ship it"})).await;
    let p = path(&task);
    let started = app.patch_json(&p, &json!({"status": "in_progress"})).await.json();
    assert_eq!((started["status"].as_str(), started["completed_at"].clone()), (Some("in_progress"), Value::Null));
    let done = app.patch_json(&p, &json!({"status": "completed"})).await.json();
    assert!(is_rfc3339_utc_millis(&done["completed_at"]));
    assert_eq!(done["completed_at"], done["updated_at"]);
    let renamed = app.patch_json(&p, &json!({"title": "Shipped"})).await.json();
    assert_eq!(renamed["completed_at"], done["completed_at"], "staying completed keeps completed_at");
    let reopened = app.patch_json(&p, &json!({"status": "pending"})).await.json();
    assert_eq!(reopened["completed_at"], Value::Null);
    assert!(reopened["updated_at"].as_str() > renamed["updated_at"].as_str());
    assert_eq!(app.get(&p).await.json(), reopened);
}

#[actix_rt::test]
async fn every_filter_works_alone_and_combined() {
    let app = spawn_app().await;
    let late =
        create(&app, json!({"title": "Late invoice", "description": "ACME retainer", "due_date": day(-2)})).await;
    let late_started = create(&app, json!({"title": "Late logo", "status": "in_progress", "due_date": day(-1)})).await;
    let late_done = create(&app, json!({"title": "Done report", "status": "completed", "due_date": day(-3)})).await;
    actix_rt::time::sleep(std::time::Duration::from_millis(3)).await;
    let due_today = create(&app, json!({"title": "Call ACME", "due_date": day(0)})).await;
    actix_rt::time::sleep(std::time::Duration::from_millis(3)).await;
    let next_week = create(&app, json!({"title": "Workshop", "status": "in_progress", "due_date": day(7)})).await;
    let undated = create(&app, json!({"title": "Someday: new website"})).await;
    let all = [&late, &late_started, &late_done, &due_today, &next_week, &undated];

    for sort in ["-created_at", "due_date", "-due_date", "status", "title", "-updated_at"] {
        let check = |query: String, expected: HashSet<String>| {
            let app = &app;
            async move { assert_eq!(id_set(app, &format!("{query}&sort={sort}")).await, expected, "{query} sort={sort}") }
        };
        check("status=pending".into(), set_of(&[&late, &due_today, &undated])).await;
        check("status=in_progress,completed".into(), set_of(&[&late_started, &late_done, &next_week])).await;
        check(format!("due_from={}&due_to={}", day(-2), day(0)), set_of(&[&late, &late_started, &due_today])).await;
        check(format!("due_from={}", day(0)), set_of(&[&due_today, &next_week])).await;
        check(format!("due_to={}", day(-3)), set_of(&[&late_done])).await;
        check("overdue=true".into(), set_of(&[&late, &late_started])).await;
        check("overdue=false".into(), set_of(&[&late_done, &due_today, &next_week, &undated])).await;
        check("has_due_date=false".into(), set_of(&[&undated])).await;
        check("has_due_date=true".into(), set_of(&all[..5])).await;
        check("q=acme".into(), set_of(&[&late, &due_today])).await;
        check("q=ret%20acm".into(), set_of(&[&late])).await;
        check("q=%22%20OR%20*%20NEAR(".into(), HashSet::new()).await;
        check("overdue=true&status=in_progress&q=logo".into(), set_of(&[&late_started])).await;
        check(format!("created_from={}&created_to={}", day(0), day(0)), set_of(&all)).await;
        check(format!("created_to={}", day(-1)), HashSet::new()).await;
        check(format!("created_from={}", day(1)), HashSet::new()).await;
    }

    // Timestamps bound exactly (inclusive); `+` offsets must be URL-encoded. Tasks created
    // within the same millisecond share the bound, hence expectations from created_at.
    let from = due_today["created_at"].as_str().unwrap().to_string();
    let created = |keep: fn(&str, &str) -> bool| -> HashSet<String> {
        all.iter().filter(|t| keep(t["created_at"].as_str().unwrap(), &from)).map(|t| id(t)).collect()
    };
    let (at_or_after, at_or_before) = (created(|c, f| c >= f), created(|c, f| c <= f));
    assert!(at_or_after.len() < all.len() && at_or_before.len() < all.len(), "the bound splits the tasks");
    assert_eq!(id_set(&app, &format!("created_from={from}")).await, at_or_after);
    assert_eq!(id_set(&app, &format!("created_to={from}")).await, at_or_before);
    let shifted = chrono::DateTime::parse_from_rfc3339(&from)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
        .replace('+', "%2B");
    assert_eq!(id_set(&app, &format!("created_to={shifted}")).await, at_or_before);
}

#[actix_rt::test]
async fn bad_query_parameters_get_422_naming_each() {
    let app = spawn_app().await;
    for (query, field) in [
        ("status=done", "status"),
        ("status=pending,", "status"),
        ("status=", "status"),
        ("due_from=2026-02-30", "due_from"),
        ("due_to=tomorrow", "due_to"),
        ("due_from=2026-12-02&due_to=2026-12-01", "due_from"),
        ("overdue=yes", "overdue"),
        ("has_due_date=1", "has_due_date"),
        ("created_from=2026-13-01", "created_from"),
        ("created_to=noon", "created_to"),
        ("created_from=2026-11-25&created_to=2026-11-24", "created_from"),
        ("sort=priority", "sort"),
        ("sort=-", "sort"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=garbage", "cursor"),
        ("status=pending&status=completed", "status"),
    ] {
        assert_eq!(app.get(&format!("{TASKS}?{query}")).await.error_fields(), [field], "{query}");
    }
    app.get(&format!("{TASKS}?q={}", "x".repeat(501))).await.problem(422);
    let worst = app.get(&format!("{TASKS}?q={}", vec!["a"; 240].join("%20"))).await;
    assert_eq!(worst.error_fields(), ["q"], "more than 16 search words are refused, not cut");
    assert_eq!(app.get(&format!("{TASKS}?q={}", vec!["ab"; 16].join("%20"))).await.status, 200);
    let all = app
        .get(&format!("{TASKS}?limit=0&sort=x&status=done&due_from=2026-02-30&due_to=x&overdue=2&has_due_date=x&created_from=x&created_to=y"))
        .await
        .error_fields();
    assert_eq!(
        all,
        ["limit", "sort", "status", "due_from", "due_to", "overdue", "has_due_date", "created_from", "created_to"],
        "every bad parameter at once"
    );

    for i in 0..3 {
        create(&app, json!({"title": format!("t{i}")})).await;
    }
    let page = app.get(&format!("{TASKS}?limit=1&sort=due_date")).await.json();
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(app.get(&format!("{TASKS}?limit=1&sort=title&cursor={cursor}")).await.error_fields(), ["cursor"]);
}

#[actix_rt::test]
async fn every_sort_pages_without_skips_or_repeats() {
    let app = spawn_app().await;
    let rows = [
        ("banana", Some(day(3)), "pending"),
        ("Apple", None, "completed"),
        ("cherry", Some(day(-1)), "in_progress"),
        ("apple", Some(day(3)), "pending"),
        ("date", None, "pending"),
        ("Elder", Some(day(30)), "completed"),
        ("fig", Some(day(3)), "in_progress"),
    ];
    let mut created = Vec::new();
    for (title, due, status) in rows {
        created.push(create(&app, json!({"title": title, "due_date": due, "status": status})).await);
    }
    // Apart from the creations: changes within one millisecond tie on updated_at.
    actix_rt::time::sleep(std::time::Duration::from_millis(3)).await;
    app.patch_json(&path(&created[1]), &json!({"description": "edited"})).await;
    let everything: HashSet<String> = created.iter().map(id).collect();

    for sort in [
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "due_date",
        "-due_date",
        "status",
        "-status",
        "title",
        "-title",
        "status,due_date",
        "-due_date,title",
    ] {
        let whole = ids(&app.get(&format!("{TASKS}?sort={sort}&limit=200")).await.json());
        assert_eq!(whole.iter().cloned().collect::<HashSet<_>>(), everything, "{sort}");
        for limit in [1, 3] {
            assert_eq!(all_ids(&app, &format!("sort={sort}&limit={limit}")).await, whole, "{sort} by {limit}");
        }
    }

    let field_of = |list: Value, field: &str| -> Vec<Value> {
        list["items"].as_array().unwrap().iter().map(|t| t[field].clone()).collect()
    };
    let by_due = field_of(app.get(&format!("{TASKS}?sort=due_date")).await.json(), "due_date");
    assert_eq!(by_due[..5].iter().filter(|d| d.is_string()).count(), 5);
    assert_eq!(by_due[5..], [Value::Null, Value::Null], "tasks without a due date come last");
    let by_status = field_of(app.get(&format!("{TASKS}?sort=status")).await.json(), "status");
    let expected: Vec<Value> =
        ["pending", "pending", "pending", "in_progress", "in_progress", "completed", "completed"]
            .map(Value::from)
            .to_vec();
    assert_eq!(by_status, expected, "workflow rank, not alphabet");
    let by_title = field_of(app.get(&format!("{TASKS}?sort=-title")).await.json(), "title");
    assert_eq!(by_title.first().unwrap(), "fig", "titles ignore case");
    assert_eq!(ids(&app.get(&format!("{TASKS}?sort=-updated_at&limit=1")).await.json()), [id(&created[1])]);
}

#[actix_rt::test]
async fn paging_survives_inserts_between_pages() {
    let app = spawn_app().await;
    let mut originals = Vec::new();
    for i in 0..9 {
        let due = (i % 3 != 0).then(|| day(i));
        originals.push(id(&create(&app, json!({"title": format!("t{i}"), "due_date": due})).await));
    }
    for sort in ["-created_at", "due_date", "-due_date", "title"] {
        let mut seen = Vec::new();
        let mut url = format!("{TASKS}?limit=2&sort={sort}");
        loop {
            let page = app.get(&url).await.json();
            seen.extend(ids(&page));
            create(&app, json!({"title": "aaa", "due_date": "2000-01-01"})).await;
            create(&app, json!({"title": "zzz"})).await;
            match page["next_cursor"].as_str() {
                Some(c) => url = format!("{TASKS}?limit=2&sort={sort}&cursor={c}"),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a task listed twice");
        assert!(originals.iter().all(|o| seen.contains(o)), "{sort}: a task was skipped");
    }
}

#[actix_rt::test]
async fn stats_count_statuses_overdue_and_completions_per_bucket() {
    let app = spawn_app().await;
    let res = app.get(&format!("{TASKS}/stats")).await;
    assert_eq!(res.status, 200, "/tasks/stats is not taken for a task id");
    let empty = res.json();
    assert_eq!(empty["by_status"], json!({"pending": 0, "in_progress": 0, "completed": 0}));
    assert_eq!(empty["overdue"], 0);
    let buckets = empty["completed_per_bucket"].as_array().unwrap();
    assert_eq!(buckets.len(), 30, "default: the last 30 days");
    assert_eq!(buckets[29], json!({"start": today().to_string(), "count": 0}));
    assert_eq!(buckets[0]["start"], day(-29));

    create(&app, json!({"title": "late", "due_date": day(-1)})).await;
    create(&app, json!({"title": "late started", "status": "in_progress", "due_date": day(-4)})).await;
    create(&app, json!({"title": "late but done", "status": "completed", "due_date": day(-1)})).await;
    let finished = create(&app, json!({"title": "finished later", "status": "in_progress"})).await;
    app.patch_json(&path(&finished), &json!({"status": "completed"})).await;
    create(&app, json!({"title": "upcoming", "due_date": day(2)})).await;

    let stats = app.get(&format!("{TASKS}/stats")).await.json();
    assert_eq!(stats["by_status"], json!({"pending": 2, "in_progress": 1, "completed": 2}));
    assert_eq!(stats["overdue"], 2);
    let buckets = stats["completed_per_bucket"].as_array().unwrap();
    assert_eq!(buckets[29], json!({"start": today().to_string(), "count": 2}));
    assert!(buckets[..29].iter().all(|b| b["count"] == 0), "empty days are listed with 0");

    let range = app.get(&format!("{TASKS}/stats?from={}&to={}", day(-2), day(1))).await.json();
    let counts: Vec<_> = range["completed_per_bucket"].as_array().unwrap().iter().map(|b| b["count"].clone()).collect();
    assert_eq!(counts, [json!(0), json!(0), json!(2), json!(0)]);

    let weekly = app.get(&format!("{TASKS}/stats?bucket=week&from={}&to={}", day(-20), day(0))).await.json();
    let weeks = weekly["completed_per_bucket"].as_array().unwrap();
    let starts: Vec<NaiveDate> = weeks.iter().map(|b| b["start"].as_str().unwrap().parse().unwrap()).collect();
    assert!(starts.iter().all(|d| d.weekday() == chrono::Weekday::Mon), "{starts:?}");
    assert!(starts.windows(2).all(|w| w[1] - w[0] == Duration::days(7)));
    assert!(starts[0] <= today() - Duration::days(20) && *starts.last().unwrap() + Duration::days(7) > today());
    assert_eq!(weeks.last().unwrap()["count"], 2);
    assert_eq!(weeks.iter().map(|b| b["count"].as_u64().unwrap()).sum::<u64>(), 2);
}

#[actix_rt::test]
async fn stats_parameters_are_checked() {
    let app = spawn_app().await;
    for (query, field) in [
        ("from=2026-02-30", "from"),
        ("to=soon", "to"),
        ("bucket=month", "bucket"),
        ("from=2026-11-25&to=2026-11-24", "from"),
        ("from=2020-01-01&to=2026-01-01", "from"),
        ("from=0000-01-01&to=9999-12-31&bucket=week", "from"),
    ] {
        assert_eq!(app.get(&format!("{TASKS}/stats?{query}")).await.error_fields(), [field], "{query}");
    }
    let fields = app.get(&format!("{TASKS}/stats?from=x&to=y&bucket=z")).await.error_fields();
    assert_eq!(fields, ["from", "to", "bucket"]);
    let weekly = app.get(&format!("{TASKS}/stats?from=2020-01-01&to=2026-01-01&bucket=week")).await;
    assert_eq!(weekly.status, 200, "six years fit in weekly buckets");
    // Other methods on the stats path are no task id either: 404, never 5xx.
    app.delete(&format!("{TASKS}/stats")).await.problem(404);
    app.patch_json(&format!("{TASKS}/stats"), &json!({"title": "x"})).await.problem(404);
}

#[actix_rt::test]
async fn openapi_documents_the_tasks_api() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    for (p, methods) in [
        ("/api/v1/tasks", &["get", "post"][..]),
        ("/api/v1/tasks/stats", &["get"]),
        ("/api/v1/tasks/{id}", &["get", "patch", "delete"]),
    ] {
        for method in methods {
            assert!(paths[p][method].is_object(), "{method} {p} missing from OpenAPI");
        }
    }
    for schema in ["Task", "NewTask", "TaskChanges", "TaskStatus", "TaskStats", "StatusCounts", "BucketCount"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
    let list_params: Vec<&str> = paths["/api/v1/tasks"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "status",
        "due_from",
        "due_to",
        "overdue",
        "has_due_date",
        "created_from",
        "created_to",
        "q",
        "sort",
        "limit",
        "cursor",
    ] {
        assert!(list_params.contains(&name), "list parameter {name} undocumented");
    }
    let patch = &paths["/api/v1/tasks/{id}"]["patch"]["responses"];
    for status in ["200", "400", "404", "415", "422"] {
        assert!(patch[status].is_object(), "PATCH /tasks/{{id}} does not document {status}");
    }
    assert!(patch["422"]["content"]["application/problem+json"].is_object());
}
