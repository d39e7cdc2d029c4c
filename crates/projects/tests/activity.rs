//! The activity log through [`ProjectService`]: every change leaves exactly one entry,
//! named by what changed and with its from/to, in the same write; a refused change leaves
//! none; the team's feed filters and pages, and a task's feed keeps its history.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use activity_log::FeedParams;
use common::{actions, activity, feed_query, named, setup, status, task};
use core_models::version::IfMatch;
use projects::{MemberChanges, NamedChanges, NewInvite, NewMember, ProjectTaskChanges, TaskCommentBody};
use serde_json::json;

fn set(value: &str) -> Option<Option<String>> {
    Some(Some(value.to_string()))
}

#[test]
fn every_change_leaves_one_entry_and_a_refused_one_none() {
    let (_db, service, people) = setup(&["Ada", "Bob", "Cat"]);
    let (ada, bob, cat) = (&people[0], &people[1], &people[2]);
    let s = service.as_ref();
    let team = s.create_team(ada, named("Platform")).unwrap().id;
    let mut expected = vec!["team.created"];
    let check = |expected: &[&str], step: &str| {
        let mut newest_first = expected.to_vec();
        newest_first.reverse();
        assert_eq!(actions(&activity(s, ada, team)), newest_first, "after {step}");
    };
    check(&expected, "creating the team");

    s.add_member(ada, team, NewMember { user_id: bob.id.to_string(), role: None }).unwrap();
    expected.push("member.added");
    s.update_team(ada, team, NamedChanges { name: set("Core"), ..Default::default() }).unwrap();
    expected.push("team.updated");
    let project = s.create_project(ada, team, named("Launch")).unwrap().id;
    expected.push("project.created");
    let t = task(s, bob, project, "t");
    expected.push("task.created");
    check(&expected, "the setup");

    // Refused changes leave nothing.
    let stranger = ProjectTaskChanges { assignee_id: set(&cat.id.to_string()), ..Default::default() };
    assert_eq!(status(s.update_task(bob, project, t.id, stranger, IfMatch::Any)), 422);
    let stale = ProjectTaskChanges { title: set("x"), ..Default::default() };
    assert_eq!(status(s.update_task(bob, project, t.id, stale, IfMatch::version(9))), 412);
    assert_eq!(status(s.create_project(bob, team, named("x"))), 403);
    assert_eq!(status(s.change_role(ada, team, ada.id, MemberChanges { role: "member".into() })), 409);
    // Nor does a change that changes nothing, nor an invite (codes stay out of the log).
    s.update_task(bob, project, t.id, ProjectTaskChanges { title: set("t"), ..Default::default() }, IfMatch::Any)
        .unwrap();
    s.create_invite(ada, team, NewInvite::default()).unwrap();
    check(&expected, "refused and empty changes");

    // Each change is named by what changed.
    let steps = [
        ("task.status_changed", ProjectTaskChanges { status: set("in_progress"), ..Default::default() }),
        ("task.assigned", ProjectTaskChanges { assignee_id: set(&ada.id.to_string()), ..Default::default() }),
        ("task.updated", ProjectTaskChanges { title: set("u"), priority: set("urgent"), ..Default::default() }),
    ];
    for (action, changes) in steps {
        s.update_task(bob, project, t.id, changes, IfMatch::Any).unwrap();
        expected.push(action);
        check(&expected, action);
    }
    let entries = activity(s, ada, team);
    assert_eq!(entries[2].details, json!({"status": {"from": "todo", "to": "in_progress"}}));
    assert_eq!(entries[1].details["assignee_id"], json!({"from": null, "to": ada.id}));
    assert_eq!(entries[0].details["priority"], json!({"from": "medium", "to": "urgent"}));
    assert_eq!(entries[0].details["title"], json!({"from": "t", "to": "u"}));
    assert_eq!((entries[0].actor.id, entries[0].task_id, entries[0].project_id), (bob.id, Some(t.id), Some(project)));

    let c = s.create_comment(ada, project, t.id, TaskCommentBody { body: "nice".into() }).unwrap();
    expected.push("comment.created");
    s.update_comment(ada, project, t.id, c.id, TaskCommentBody { body: "nicer".into() }).unwrap();
    expected.push("comment.updated");
    s.delete_comment(ada, project, t.id, c.id).unwrap();
    expected.push("comment.deleted");
    s.update_project(ada, project, NamedChanges { archived: Some(true), ..Default::default() }).unwrap();
    expected.push("project.updated");
    s.update_project(ada, project, NamedChanges { archived: Some(false), ..Default::default() }).unwrap();
    expected.push("project.updated");
    s.delete_task(bob, project, t.id, IfMatch::Any).unwrap();
    expected.push("task.deleted");
    s.change_role(ada, team, bob.id, MemberChanges { role: "admin".into() }).unwrap();
    expected.push("member.role_changed");
    s.remove_member(bob, team, bob.id).unwrap();
    expected.push("member.removed");
    s.delete_project(ada, project).unwrap();
    expected.push("project.deleted");
    check(&expected, "comments, archiving and leaving");
    let entries = activity(s, ada, team);
    assert_eq!(entries[1].details["left"], json!(true));
    assert_eq!(entries[2].details["role"], json!({"from": "member", "to": "admin"}));
}

#[test]
fn feeds_filter_and_a_deleted_task_keeps_its_history() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (team, project) = common::team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let t = task(s, bob, project, "t");
    let other = task(s, ada, project, "other");
    for status in ["in_progress", "done"] {
        let c = ProjectTaskChanges { status: set(status), ..Default::default() };
        s.update_task(bob, project, t.id, c, IfMatch::Any).unwrap();
    }
    s.update_task(ada, project, other.id, ProjectTaskChanges { title: set("o"), ..Default::default() }, IfMatch::Any)
        .unwrap();
    s.create_comment(ada, project, t.id, TaskCommentBody { body: "done?".into() }).unwrap();
    // By actor and action.
    let by_bob = FeedParams {
        actor: Some(bob.id.to_string()),
        action: Some("task.status_changed".into()),
        ..Default::default()
    };
    let entries = s.team_activity(ada, team, &feed_query(by_bob)).unwrap().items;
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.actor.id == bob.id && e.task_id == Some(t.id)));
    assert_eq!(entries[0].details["status"]["to"], json!("done"), "newest first");
    // A task's own feed: its creation, its changes and its comments.
    let history = |s: &dyn projects::ProjectService| {
        actions(&s.task_activity(bob, project, t.id, &feed_query(FeedParams::default())).unwrap().items)
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(history(s), ["comment.created", "task.status_changed", "task.status_changed", "task.created"]);
    s.delete_task(bob, project, t.id, IfMatch::Any).unwrap();
    assert_eq!(history(s)[0], "task.deleted", "the history outlives the task");
    assert_eq!(history(s).len(), 5);
    // Pages of two through the team feed: every entry once, newest first.
    let all = activity(s, ada, team);
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let params = FeedParams { limit: Some("2".into()), cursor, ..Default::default() };
        let page = s.team_activity(ada, team, &activity_log::FeedQuery::parse(params).unwrap()).unwrap();
        seen.extend(page.items.iter().map(|e| e.id));
        assert!(seen.len() <= 1000, "the pages never end");
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, all.iter().map(|e| e.id).collect::<Vec<_>>());
}
