//! Create, get, PATCH semantics, status transitions, delete, and the input rules.

use core_models::version::IfMatch;
use core_models::Board;
use diesel::prelude::*;
use tasks::{NewTask, TaskChanges, TaskService, TaskStatus};

use crate::support::{date, new, set_status, store};

#[test]
fn create_get_delete() {
    let s = store();
    let task = s
        .tasks
        .create(
            Board::Anonymous,
            NewTask {
                title: "  Send the invoice ".into(),
                description: Some(" to ACME ".into()),
                due_date: Some("2026-12-01".into()),
                ..NewTask::default()
            },
        )
        .unwrap();
    assert_eq!(task.title, "Send the invoice");
    assert_eq!(task.description.as_deref(), Some("to ACME"));
    assert_eq!(task.status, TaskStatus::Pending, "pending by default");
    assert_eq!(task.due_date, Some(date("2026-12-01")));
    assert_eq!((task.created_at, task.completed_at), (task.updated_at, None));
    assert_eq!(task.id.get_version_num(), 7);
    assert_eq!(s.tasks.get(Board::Anonymous, task.id).unwrap(), task);

    s.tasks.delete(Board::Anonymous, task.id, IfMatch::Any).unwrap();
    assert_eq!(s.tasks.get(Board::Anonymous, task.id).unwrap_err().status_code(), 404);
    assert_eq!(s.tasks.delete(Board::Anonymous, task.id, IfMatch::Any).unwrap_err().status_code(), 404);
}

#[test]
fn a_task_created_completed_has_completed_at() {
    let s = store();
    let task =
        s.tasks.create(Board::Anonymous, NewTask { status: Some("completed".into()), ..new("Done already") }).unwrap();
    assert_eq!(task.completed_at, Some(task.created_at));
    assert_eq!(s.tasks.get(Board::Anonymous, task.id).unwrap(), task);
    let started = s.tasks.create(Board::Anonymous, NewTask { status: Some("in_progress".into()), ..new("t") }).unwrap();
    assert_eq!((started.status, started.completed_at), (TaskStatus::InProgress, None));
}

#[test]
fn input_rules_name_every_bad_field_and_store_nothing() {
    let s = store();
    let err = s
        .tasks
        .create(
            Board::Anonymous,
            NewTask {
                title: " ".into(),
                description: Some("x".repeat(20_001)),
                status: Some("done".into()),
                due_date: Some("2026-02-30".into()),
            },
        )
        .unwrap_err();
    let fields: Vec<_> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["title", "description", "status", "due_date"]);
    assert_eq!(s.tasks.create(Board::Anonymous, new(&"é".repeat(201))).unwrap_err().status_code(), 422);
    let at_limits = s
        .tasks
        .create(Board::Anonymous, NewTask { description: Some("é".repeat(20_000)), ..new(&"é".repeat(200)) })
        .unwrap();
    assert_eq!(at_limits.title.chars().count(), 200, "limits count characters");
    assert_eq!(crate::support::ids(&s.tasks, "").len(), 1);
}

#[test]
fn unknown_ids_are_not_found() {
    let s = store();
    s.tasks.create(Board::Anonymous, new("someone else")).unwrap();
    let id = uuid::Uuid::now_v7();
    assert_eq!(s.tasks.get(Board::Anonymous, id).unwrap_err().status_code(), 404);
    assert_eq!(
        s.tasks.update(Board::Anonymous, id, set_status("completed"), IfMatch::Any).unwrap_err().status_code(),
        404
    );
    assert_eq!(
        s.tasks.update(Board::Anonymous, id, TaskChanges::default(), IfMatch::Any).unwrap_err().status_code(),
        404
    );
    assert_eq!(s.tasks.delete(Board::Anonymous, id, IfMatch::Any).unwrap_err().status_code(), 404);
}

#[test]
fn completed_at_is_set_on_entering_completed_and_cleared_on_leaving() {
    let s = store();
    let task = s.tasks.create(Board::Anonymous, new("Write report")).unwrap();

    let started = s.tasks.update(Board::Anonymous, task.id, set_status("in_progress"), IfMatch::Any).unwrap();
    assert_eq!((started.status, started.completed_at), (TaskStatus::InProgress, None));
    assert!(started.updated_at > task.updated_at);

    let done = s.tasks.update(Board::Anonymous, task.id, set_status("completed"), IfMatch::Any).unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(done.completed_at, Some(done.updated_at), "completed at the moment of the change");
    assert!(done.updated_at > started.updated_at);
    assert_eq!(s.tasks.get(Board::Anonymous, task.id).unwrap(), done, "stored as returned");

    let renamed = s
        .tasks
        .update(
            Board::Anonymous,
            task.id,
            TaskChanges { title: Some(Some("Write the report".into())), ..TaskChanges::default() },
            IfMatch::Any,
        )
        .unwrap();
    assert_eq!(renamed.completed_at, done.completed_at, "a completed task keeps its completion time");
    assert!(renamed.updated_at > done.updated_at);

    let again = s.tasks.update(Board::Anonymous, task.id, set_status("completed"), IfMatch::Any).unwrap();
    assert_eq!(again, renamed, "re-sending the same status is no change");

    let reopened = s.tasks.update(Board::Anonymous, task.id, set_status("pending"), IfMatch::Any).unwrap();
    assert_eq!((reopened.status, reopened.completed_at), (TaskStatus::Pending, None));
    assert_eq!(s.tasks.get(Board::Anonymous, task.id).unwrap(), reopened);

    let skipped = s.tasks.update(Board::Anonymous, task.id, set_status("completed"), IfMatch::Any).unwrap();
    assert!(skipped.completed_at > done.completed_at, "a new completion gets a new time");
}

#[test]
fn patch_leaves_absent_fields_and_null_clears_optional_ones() {
    let s = store();
    let task = s
        .tasks
        .create(
            Board::Anonymous,
            NewTask { description: Some("details".into()), due_date: Some("2026-12-01".into()), ..new("Title") },
        )
        .unwrap();

    let moved: TaskChanges = serde_json::from_str(r#"{"due_date": "2026-12-24"}"#).unwrap();
    let moved = s.tasks.update(Board::Anonymous, task.id, moved, IfMatch::Any).unwrap();
    assert_eq!(moved.due_date, Some(date("2026-12-24")));
    assert_eq!((moved.title.as_str(), moved.description.as_deref()), ("Title", Some("details")));
    assert_eq!((moved.status, moved.created_at), (task.status, task.created_at));

    let cleared: TaskChanges = serde_json::from_str(r#"{"due_date": null}"#).unwrap();
    let cleared = s.tasks.update(Board::Anonymous, task.id, cleared, IfMatch::Any).unwrap();
    assert_eq!(cleared.due_date, None);
    assert_eq!(cleared.description.as_deref(), Some("details"), "absent stays");
    assert!(cleared.updated_at > moved.updated_at);

    let no_description: TaskChanges = serde_json::from_str(r#"{"description": null}"#).unwrap();
    let no_description = s.tasks.update(Board::Anonymous, task.id, no_description, IfMatch::Any).unwrap();
    assert_eq!(no_description.description, None);
    assert_eq!(s.tasks.get(Board::Anonymous, task.id).unwrap(), no_description);

    for body in [r#"{"title": null}"#, r#"{"status": null}"#, r#"{"title": "  "}"#, r#"{"due_date": "2026-02-30"}"#] {
        let changes: TaskChanges = serde_json::from_str(body).unwrap();
        assert_eq!(
            s.tasks.update(Board::Anonymous, task.id, changes, IfMatch::Any).unwrap_err().status_code(),
            422,
            "{body}"
        );
    }
    let both: TaskChanges = serde_json::from_str(r#"{"title": null, "status": "later", "due_date": "soon"}"#).unwrap();
    let fields: Vec<_> = s
        .tasks
        .update(Board::Anonymous, task.id, both, IfMatch::Any)
        .unwrap_err()
        .field_errors()
        .iter()
        .map(|e| e.field.clone())
        .collect();
    assert_eq!(fields, ["title", "status", "due_date"]);
    assert_eq!(s.tasks.get(Board::Anonymous, task.id).unwrap(), no_description, "rejected changes changed nothing");

    let empty = s.tasks.update(Board::Anonymous, task.id, TaskChanges::default(), IfMatch::Any).unwrap();
    assert_eq!(empty, no_description, "an empty PATCH changes nothing, not even updated_at");
}

#[test]
fn updated_at_moves_on_every_change_even_within_one_millisecond() {
    let s = store();
    let task = s.tasks.create(Board::Anonymous, new("t0")).unwrap();
    let mut last = task.updated_at;
    for i in 1..=20 {
        let changed = s
            .tasks
            .update(
                Board::Anonymous,
                task.id,
                TaskChanges { title: Some(Some(format!("t{i}"))), ..TaskChanges::default() },
                IfMatch::Any,
            )
            .unwrap();
        assert!(changed.updated_at > last, "change {i}");
        last = changed.updated_at;
    }
}

#[test]
fn the_database_refuses_rows_the_rules_forbid() {
    use storage::schema::tasks;
    let s = store();
    let insert = |status: i32, due: Option<&str>, completed_at: Option<i64>| {
        let due = due.map(str::to_string);
        s.db.write(move |c| {
            Ok(diesel::insert_into(tasks::table)
                .values((
                    tasks::id.eq(uuid::Uuid::now_v7().to_string()),
                    tasks::title.eq("t"),
                    tasks::status.eq(status),
                    tasks::due_date.eq(due.clone()),
                    tasks::created_at.eq(1_i64),
                    tasks::updated_at.eq(1_i64),
                    tasks::completed_at.eq(completed_at),
                ))
                .execute(c.conn())?)
        })
    };
    assert!(insert(0, Some("2026-02-28"), None).is_ok());
    assert!(insert(0, Some("2026-02-30"), None).is_err(), "impossible date");
    assert!(insert(0, Some("2026-2-28"), None).is_err(), "not YYYY-MM-DD");
    assert!(insert(3, None, None).is_err(), "unknown status rank");
    assert!(insert(2, None, None).is_err(), "completed without completed_at");
    assert!(insert(1, None, Some(5)).is_err(), "completed_at without completed");
    assert!(insert(2, None, Some(5)).is_ok());
}
