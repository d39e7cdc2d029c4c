//! The OpenAPI document's shapes that generated clients rely on: actions and stream events
//! as enums, `details` as an object with properties, comma-list filters as arrays of their
//! enum (`style: form`, `explode: false`), `sort` patterns that take several keys.

#![allow(clippy::unwrap_used)]

use actix_web::http::Method;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Literal};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, user, TestApp, User};

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

/// The schema a `$ref` (or the value itself) stands for.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => schema(doc, name),
        None => value,
    }
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

fn parameter<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["in"] == "query")
        .unwrap_or_else(|| panic!("GET {path} has no `{name}`"))
}

#[actix_rt::test]
async fn actions_and_events_are_enums_and_details_an_object_with_properties() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let entry = schema(&doc, "ActivityEntry");
    let action = resolve(&doc, &entry["properties"]["action"]);
    let actions = strings(&action["enum"]);
    // API.md's minimum list.
    for required in [
        "team.created",
        "member.added",
        "member.removed",
        "member.role_changed",
        "project.created",
        "project.updated",
        "project.deleted",
        "task.created",
        "task.updated",
        "task.assigned",
        "task.status_changed",
        "task.deleted",
        "comment.created",
    ] {
        assert!(actions.contains(&required), "{required} not in {actions:?}");
    }
    let event = resolve(&doc, &schema(&doc, "TeamEvent")["properties"]["event"]);
    assert_eq!(event["enum"], action["enum"], "a stream event's `event` is its entry's action");

    let details = resolve(&doc, &entry["properties"]["details"]);
    assert_eq!(details["type"], "object");
    assert!(details.get("required").is_none(), "which keys appear depends on the action");
    let status = &details["properties"]["status"];
    let change = status["oneOf"].as_array().unwrap().iter().find(|s| s["type"] == "object").unwrap();
    assert_eq!(strings(&change["required"]), ["from", "to"]);
}

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Value) -> Value {
    let body = (!body.is_null()).then_some(body);
    let res = app.as_user(Some(&who.bearer), method, path, &[], body.as_ref()).await;
    assert!(res.status < 300, "{path}: {} {}", res.status, String::from_utf8_lossy(&res.body));
    res.json()
}

#[actix_rt::test]
async fn every_action_the_server_writes_is_in_the_documented_enum() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let documented = resolve(&doc, &schema(&doc, "ActivityEntry")["properties"]["action"])["enum"].clone();
    let ada = user(&app, "Ada").await;
    let bob = user(&app, "Bob").await;
    let team = call(&app, &ada, Method::POST, "/api/v1/teams", json!({"name": "Squad"})).await;
    let team_id = team["id"].as_str().unwrap();
    call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team_id}/members"), json!({"user_id": bob.id})).await;
    let project =
        call(&app, &ada, Method::POST, &format!("/api/v1/teams/{team_id}/projects"), json!({"name": "P"})).await;
    let tasks = format!("/api/v1/projects/{}/tasks", project["id"].as_str().unwrap());
    let task = call(&app, &ada, Method::POST, &tasks, json!({"title": "t"})).await;
    let task_path = format!("{tasks}/{}", task["id"].as_str().unwrap());
    call(&app, &ada, Method::PATCH, &task_path, json!({"status": "done"})).await;
    call(&app, &ada, Method::PATCH, &task_path, json!({"assignee_id": bob.id})).await;
    call(&app, &ada, Method::POST, &format!("{task_path}/comments"), json!({"body": "hi"})).await;
    call(&app, &ada, Method::POST, &format!("{task_path}/move"), json!({"status": "todo"})).await;
    let feed = call(&app, &ada, Method::GET, &format!("/api/v1/teams/{team_id}/activity"), Value::Null).await;
    let entries = feed["items"].as_array().unwrap();
    assert!(entries.len() >= 6);
    for entry in entries {
        assert!(documented.as_array().unwrap().contains(&entry["action"]), "{entry}");
    }
    let changed = entries.iter().find(|e| e["action"] == "task.status_changed").unwrap();
    assert_eq!(changed["details"]["status"], json!({"from": "todo", "to": "done"}));
}

#[actix_rt::test]
async fn board_moves_and_positions_are_typed() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let task = schema(&doc, "ProjectTask");
    assert_eq!(task["properties"]["position"]["type"], "string");
    assert!(strings(&task["required"]).contains(&"position"));
    let operation = &doc["paths"]["/api/v1/projects/{id}/tasks/{task_id}/move"]["post"];
    let body = &operation["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/MoveProjectTask");
    let fields = &schema(&doc, "MoveProjectTask")["properties"];
    assert_eq!(fields["after_id"]["format"], "uuid");
    let status = resolve(&doc, &fields["status"]["oneOf"][1]);
    assert_eq!(strings(&status["enum"]), ["todo", "in_progress", "done"], "{}", fields["status"]);
    for code in ["200", "404", "409", "412", "422"] {
        assert!(operation["responses"][code].is_object(), "move documents {code}");
    }
    for path in ["/api/v1/projects/{id}/tasks", "/api/v1/teams/{id}/tasks", "/api/v1/me/tasks"] {
        let pattern = regex::Regex::new(parameter(&doc, path, "sort")["schema"]["pattern"].as_str().unwrap()).unwrap();
        assert!(pattern.is_match("position") && pattern.is_match("-position,title"), "{path}");
    }
}

#[actix_rt::test]
async fn comma_list_filters_are_arrays_of_their_enum_and_sorts_take_several_keys() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    for (path, name, values) in [
        ("/api/v1/projects/{id}/tasks", "status", &["todo", "in_progress", "done"][..]),
        ("/api/v1/projects/{id}/tasks", "priority", &["low", "medium", "high", "urgent"]),
        ("/api/v1/teams/{id}/tasks", "status", &["todo", "in_progress", "done"]),
        ("/api/v1/tasks", "status", &["pending", "in_progress", "completed"]),
        ("/api/v1/learning/challenges", "difficulty", &["beginner", "intermediate", "advanced", "expert"]),
    ] {
        let param = parameter(&doc, path, name);
        assert_eq!((param["style"].as_str(), param["explode"].as_bool()), (Some("form"), Some(false)), "{path} {name}");
        assert_eq!(param["schema"]["type"], "array", "{path} {name}");
        assert_eq!(param["schema"]["minItems"], 1, "{path} {name}: `x=` is refused");
        assert_eq!(strings(&resolve(&doc, &param["schema"]["items"])["enum"]), values, "{path} {name}");
    }
    for (path, several) in [
        ("/api/v1/notes", "title,-updated_at"),
        ("/api/v1/tasks", "status,-due_date,title"),
        ("/api/v1/projects/{id}/tasks", "priority,-due_date"),
        ("/api/v1/teams/{id}/tasks", "status,title"),
        ("/api/v1/learning/challenges", "-rating,title"),
        ("/api/v1/learning/paths", "title,-created_at"),
    ] {
        let pattern = parameter(&doc, path, "sort")["schema"]["pattern"].as_str().unwrap();
        let pattern = regex::Regex::new(pattern).unwrap();
        let first = several.split(',').next().unwrap();
        for ok in [several, first, ""] {
            assert!(pattern.is_match(ok), "{path}: `{ok}` should match {pattern}");
        }
        for bad in [format!("{several},"), format!(",{several}"), "nope".to_string(), format!("{first} ")] {
            assert!(!pattern.is_match(&bad), "{path}: `{bad}` should not match {pattern}");
        }
    }
    // What the document allows, the server takes.
    let res = app.get("/api/v1/notes?sort=title,-updated_at").await;
    assert_eq!(res.status, 200);
    let res = app.get("/api/v1/tasks?status=pending,completed&sort=status,-due_date,title").await;
    assert_eq!(res.status, 200);
    // Which is why the arrays do not explode: a repeated parameter is refused.
    let res = app.get("/api/v1/tasks?status=pending&status=completed").await;
    assert_eq!(res.error_fields(), ["status"]);
}

/// Every `pattern` in the document, with where it is.
fn patterns(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("pattern", Value::String(pattern)) => found.push((at.to_string(), pattern.clone())),
                    _ => patterns(value, &format!("{at}/{key}"), found),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                patterns(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// The characters a match of `hir` can start with, and whether it can match nothing.
fn first(hir: &Hir) -> (ClassUnicode, bool) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => (ClassUnicode::empty(), true),
        HirKind::Literal(Literal(bytes)) => match std::str::from_utf8(bytes).unwrap().chars().next() {
            Some(c) => (ClassUnicode::new([ClassUnicodeRange::new(c, c)]), false),
            None => (ClassUnicode::empty(), true),
        },
        HirKind::Class(Class::Unicode(class)) => (class.clone(), false),
        HirKind::Class(Class::Bytes(_)) => panic!("byte classes are not expected in the document's patterns"),
        HirKind::Repetition(rep) => {
            let (class, nullable) = first(&rep.sub);
            (class, nullable || rep.min == 0)
        }
        HirKind::Capture(capture) => first(&capture.sub),
        HirKind::Concat(parts) => {
            let mut class = ClassUnicode::empty();
            for part in parts {
                let (start, nullable) = first(part);
                class.union(&start);
                if !nullable {
                    return (class, false);
                }
            }
            (class, true)
        }
        HirKind::Alternation(branches) => {
            let mut class = ClassUnicode::empty();
            let mut nullable = false;
            for branch in branches {
                let (start, empty) = first(branch);
                class.union(&start);
                nullable |= empty;
            }
            (class, nullable)
        }
    }
}

/// The unbounded repetitions in `hir` that a backtracking engine cannot leave by looking
/// at the next character: one that can start another round (`[^\x00]*`) and what may
/// follow it (`[^\s\x00]`) share characters, so on a failing input the engine tries every
/// split between them: quadratic time (cubic with three such parts) in the input's length.
/// `follow` is what can come right after `hir`.
fn ambiguous_repetitions(hir: &Hir, follow: &ClassUnicode, found: &mut Vec<String>) {
    match hir.kind() {
        HirKind::Repetition(rep) => {
            let (start, _) = first(&rep.sub);
            if rep.max.is_none() {
                let mut shared = start.clone();
                shared.intersect(follow);
                if let Some(range) = shared.iter().next() {
                    found.push(format!(
                        "an unbounded repetition may be followed by a character it also matches, e.g. {:?}",
                        range.start()
                    ));
                }
            }
            let mut inner = start;
            inner.union(follow);
            ambiguous_repetitions(&rep.sub, &inner, found);
        }
        HirKind::Capture(capture) => ambiguous_repetitions(&capture.sub, follow, found),
        HirKind::Alternation(branches) => {
            for branch in branches {
                ambiguous_repetitions(branch, follow, found);
            }
        }
        HirKind::Concat(parts) => {
            let mut after = follow.clone();
            for part in parts.iter().rev() {
                ambiguous_repetitions(part, &after, found);
                let (start, nullable) = first(part);
                if !nullable {
                    after = ClassUnicode::empty();
                }
                after.union(&start);
            }
        }
        HirKind::Empty | HirKind::Look(_) | HirKind::Literal(_) | HirKind::Class(_) => {}
    }
}

fn ambiguities(pattern: &str) -> Vec<String> {
    let hir = regex_syntax::parse(pattern).unwrap_or_else(|e| panic!("`{pattern}` does not parse: {e}"));
    let mut found = Vec::new();
    ambiguous_repetitions(&hir, &ClassUnicode::empty(), &mut found);
    found
}

/// Clients validate with the document's patterns in backtracking engines (JavaScript's
/// `RegExp`, Python's `re`, Java's `Pattern`). `^[^\x00]*[^\s\x00][^\x00]*$` ("no NUL, not
/// blank") took Python 1.4 s on a 20,000-character string ending in NUL, and Schemathesis's
/// own checks stalled behind it; `^\s*[^\s\x00][^\x00]*$` says the same in linear time.
/// Whether the served patterns mean the server's rule is `core_models::text`'s test.
#[actix_rt::test]
async fn every_pattern_runs_in_linear_time_in_a_backtracking_engine() {
    // The check itself: it must catch the quadratic shapes.
    assert!(!ambiguities("^[^\\x00]*[^\\s\\x00][^\\x00]*$").is_empty());
    assert!(!ambiguities("^[^,\\x00]*[^\\s,\\x00][^,\\x00]*$").is_empty());
    assert!(!ambiguities("^(a+)+$").is_empty());
    assert!(ambiguities("^\\s*[^\\s\\x00][^\\x00]*$").is_empty());

    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let mut found = Vec::new();
    patterns(&doc, "", &mut found);
    assert!(found.len() > 40, "the document's patterns were not found: {found:?}");
    let slow: Vec<_> = found
        .iter()
        .flat_map(|(at, pattern)| ambiguities(pattern).into_iter().map(move |why| format!("{at}: {pattern}: {why}")))
        .collect();
    assert!(slow.is_empty(), "patterns with backtracking blow-ups:\n{}", slow.join("\n"));
    // `\s` differs between engines: the served patterns spell out the server's whitespace.
    let vague: Vec<_> = found.iter().filter(|(_, pattern)| pattern.contains("\\s")).collect();
    assert!(vague.is_empty(), "patterns with \\s: {vague:?}");
}

/// The tag filter's pattern says what the server takes: each tag 1 to 50 characters once
/// the whitespace around it is trimmed.
#[actix_rt::test]
async fn the_tag_filter_pattern_takes_what_the_server_takes() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await.json();
    let pattern = parameter(&doc, "/api/v1/learning/challenges", "tag")["schema"]["pattern"].as_str().unwrap();
    let pattern = regex::Regex::new(pattern).unwrap();
    let padded = format!("python{}", " ".repeat(60));
    let longest = "t".repeat(50);
    for (value, ok) in [
        ("python", true),
        (" python , sql ", true),
        (padded.as_str(), true),
        (longest.as_str(), true),
        (&format!("{longest}t"), false),
        ("python,", false),
        ("python, ,sql", false),
    ] {
        assert_eq!(pattern.is_match(value), ok, "{value:?}");
        let res = app.get(&format!("/api/v1/learning/challenges?tag={}", url_encoded(value))).await;
        assert_eq!(res.status == 200, ok, "{value:?}: {}", res.status);
    }
}

/// `value` percent-encoded for a query string (every byte but ASCII letters and digits).
fn url_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
