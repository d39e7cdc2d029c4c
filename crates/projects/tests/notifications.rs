//! Mentions and notifications (API section 7) through the service, on the engine the
//! environment chooses: who is notified of what, one notification per person and action of
//! the most specific kind, never of one's own actions, only members; reading and marking.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use activity_log::{ActivityLog, Details, InProcessPublisher, NewEntry};
use common::{setup, status, task, team_with};
use core_models::version::IfMatch;
use core_models::Caller;
use projects::notifications::NotificationHook;
use projects::{
    MarkNotificationsRead, NewProjectTask, Notification, NotificationKind, NotificationQuery, ProjectService,
    ProjectTaskChanges, TaskCommentBody,
};
use uuid::Uuid;

/// All of `who`'s notifications, newest first.
fn notes(s: &dyn ProjectService, who: &Caller) -> Vec<Notification> {
    s.notifications(who, &NotificationQuery::first(who.id, 200, false)).unwrap().items
}

/// `who`'s notifications as (kind, action), newest first.
fn kinds(s: &dyn ProjectService, who: &Caller) -> Vec<(NotificationKind, String)> {
    notes(s, who).into_iter().map(|n| (n.kind, n.activity.action)).collect()
}

fn comment(s: &dyn ProjectService, who: &Caller, project: Uuid, task: Uuid, body: &str) -> projects::TaskComment {
    s.create_comment(who, project, task, TaskCommentBody { body: body.into() }).unwrap()
}

fn change(s: &dyn ProjectService, who: &Caller, project: Uuid, task: Uuid, changes: ProjectTaskChanges) {
    s.update_task(who, project, task, changes, IfMatch::Any).unwrap();
}

fn set(value: impl ToString) -> Option<Option<String>> {
    Some(Some(value.to_string()))
}

#[test]
fn assignments_status_changes_and_comments_notify_others_never_the_actor() {
    let (_db, s, people) = setup(&["Ada", "Bob", "Cy"]);
    let (ada, bob, cy) = (&people[0], &people[1], &people[2]);
    let (_, project) = team_with(s.as_ref(), ada, &[bob, cy]);
    // Assigned on create, by someone else: `assigned`. Assigning oneself: nothing.
    let new = NewProjectTask { title: "Ship".into(), assignee_id: Some(bob.id.to_string()), ..Default::default() };
    let shipped = s.create_task(ada, project, new).unwrap();
    let own = NewProjectTask { title: "Mine".into(), assignee_id: Some(ada.id.to_string()), ..Default::default() };
    s.create_task(ada, project, own).unwrap();
    assert_eq!(kinds(s.as_ref(), bob), [(NotificationKind::Assigned, "task.created".to_string())]);
    assert!(notes(s.as_ref(), ada).is_empty(), "nobody is notified of their own actions");
    // The assignee's task changes status (inside a wider PATCH too): `status_changed`.
    change(
        s.as_ref(),
        ada,
        project,
        shipped.id,
        ProjectTaskChanges { status: set("in_progress"), title: set("Ship it"), ..Default::default() },
    );
    // Bob changing his own task's status notifies nobody (Ada neither: not her kind of change).
    change(s.as_ref(), bob, project, shipped.id, ProjectTaskChanges { status: set("done"), ..Default::default() });
    assert_eq!(kinds(s.as_ref(), bob)[0], (NotificationKind::StatusChanged, "task.updated".into()));
    assert_eq!(notes(s.as_ref(), bob).len(), 2);
    assert!(notes(s.as_ref(), ada).is_empty());
    // A comment by Cy: the creator (Ada) and the assignee (Bob) are told; Cy is not.
    comment(s.as_ref(), cy, project, shipped.id, "Nice");
    assert_eq!(kinds(s.as_ref(), ada), [(NotificationKind::Commented, "comment.created".to_string())]);
    assert_eq!(kinds(s.as_ref(), bob)[0], (NotificationKind::Commented, "comment.created".into()));
    assert!(notes(s.as_ref(), cy).is_empty());
    // The notification carries the whole entry.
    let latest = &notes(s.as_ref(), ada)[0];
    assert_eq!((latest.activity.actor.id, latest.activity.task_id), (cy.id, Some(shipped.id)));
    assert_eq!(latest.read_at, None);
}

#[test]
fn one_action_gives_one_notification_of_the_most_specific_kind() {
    let (_db, s, people) = setup(&["Ada", "Bob", "Cy"]);
    let (ada, bob, cy) = (&people[0], &people[1], &people[2]);
    let (_, project) = team_with(s.as_ref(), ada, &[bob, cy]);
    let new = NewProjectTask { title: "Ship".into(), assignee_id: Some(bob.id.to_string()), ..Default::default() };
    let shipped = s.create_task(ada, project, new).unwrap();
    // Bob is the assignee (commented) and mentioned: one `mentioned`.
    comment(s.as_ref(), cy, project, shipped.id, &format!("<@{}> look", bob.id));
    assert_eq!(kinds(s.as_ref(), bob)[0], (NotificationKind::Mentioned, "comment.created".into()));
    assert_eq!(notes(s.as_ref(), bob).len(), 2, "assigned, then one for the comment");
    // Reassigned to Cy while the status changes: Cy gets `assigned` only, and Bob (no
    // longer the assignee) nothing.
    change(
        s.as_ref(),
        ada,
        project,
        shipped.id,
        ProjectTaskChanges { status: set("done"), assignee_id: set(cy.id), ..Default::default() },
    );
    assert_eq!(kinds(s.as_ref(), cy), [(NotificationKind::Assigned, "task.updated".to_string())]);
    assert_eq!(notes(s.as_ref(), bob).len(), 2);
}

#[test]
fn mentions_are_members_only_stored_and_edits_notify_only_new_ones() {
    let (_db, s, people) = setup(&["Ada", "Bob", "Cy", "Dee"]);
    let (ada, bob, cy, dee) = (&people[0], &people[1], &people[2], &people[3]);
    let (_, project) = team_with(s.as_ref(), ada, &[bob, cy]);
    let t = task(s.as_ref(), ada, project, "Plan");
    // Dee is no member, the other id nobody's; Bob is named in upper case, twice.
    let body =
        format!("<@{}> <@{}> and <@{}> and <@{}>", bob.id.to_string().to_uppercase(), dee.id, Uuid::now_v7(), bob.id);
    let c = comment(s.as_ref(), cy, project, t.id, &body);
    let names: Vec<&str> = c.mentions.iter().map(|m| m.display_name.as_str()).collect();
    assert_eq!(names, ["Bob"]);
    assert_eq!(c.body, body, "the text stays as written");
    assert!(notes(s.as_ref(), dee).is_empty(), "non-members are never notified");
    assert_eq!(kinds(s.as_ref(), bob), [(NotificationKind::Mentioned, "comment.created".to_string())]);
    // The entry names the mentioned people for live clients.
    let entry = &notes(s.as_ref(), bob)[0].activity;
    assert_eq!(entry.details["new_mentions"], serde_json::json!([bob.id]));
    // An edit that adds Ada and keeps Bob notifies Ada only (mentioned beats commented).
    let edited = format!("{body} cc <@{}>", ada.id);
    let c = s.update_comment(cy, project, t.id, c.id, TaskCommentBody { body: edited.clone() }).unwrap();
    assert_eq!(c.mentions.len(), 2);
    // (Ada created the task, so the comment itself told her before.)
    assert_eq!(
        kinds(s.as_ref(), ada),
        [
            (NotificationKind::Mentioned, "comment.updated".to_string()),
            (NotificationKind::Commented, "comment.created".to_string())
        ]
    );
    assert_eq!(notes(s.as_ref(), bob).len(), 1, "Bob was mentioned already");
    // Stored, not re-parsed: the list shows them; dropping Bob and adding him back notifies
    // him again (a new mention).
    let listed = s.comments(ada, project, t.id, &common::first_page()).unwrap().items;
    assert_eq!(listed[0].mentions, c.mentions);
    s.update_comment(cy, project, t.id, c.id, TaskCommentBody { body: "nobody".into() }).unwrap();
    s.update_comment(cy, project, t.id, c.id, TaskCommentBody { body: edited }).unwrap();
    assert_eq!(notes(s.as_ref(), bob).len(), 2);
    assert_eq!(notes(s.as_ref(), ada).len(), 3);
}

#[test]
fn members_who_leave_are_no_longer_notified_and_lose_the_team_s_notifications() {
    let (_db, s, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (team, project) = team_with(s.as_ref(), ada, &[bob]);
    let bobs = task(s.as_ref(), bob, project, "Bob's");
    comment(s.as_ref(), ada, project, bobs.id, "first");
    assert_eq!(notes(s.as_ref(), bob).len(), 1);
    s.remove_member(bob, team, bob.id).unwrap();
    assert!(notes(s.as_ref(), bob).is_empty(), "the team's notifications went with the membership");
    comment(s.as_ref(), ada, project, bobs.id, &format!("second <@{}>", bob.id));
    assert!(notes(s.as_ref(), bob).is_empty(), "a former member is not notified");
}

#[test]
fn unread_count_and_marking_read() {
    let (_db, s, people) = setup(&["Ada", "Bob", "Cy"]);
    let (ada, bob, cy) = (&people[0], &people[1], &people[2]);
    let (_, project) = team_with(s.as_ref(), ada, &[bob, cy]);
    let bobs = task(s.as_ref(), bob, project, "Bob's");
    for i in 0..3 {
        comment(s.as_ref(), ada, project, bobs.id, &format!("note {i}"));
    }
    let all = notes(s.as_ref(), bob);
    assert_eq!(all.len(), 3);
    // Newest first, ids increasing in commit order.
    assert!(all.windows(2).all(|w| w[0].id.to_string() > w[1].id.to_string()), "{all:?}");
    let unread = |who: &Caller| {
        let page = s.notifications(who, &NotificationQuery::first(who.id, 1, true)).unwrap();
        page.total.unwrap()
    };
    assert_eq!(unread(bob), 3);
    // Someone else's ids are ignored; marking is idempotent and keeps the first time.
    let cy_marks = MarkNotificationsRead { ids: Some(vec![all[0].id.to_string()]), all: None };
    assert_eq!(s.mark_notifications_read(cy, cy_marks).unwrap(), 0);
    assert_eq!(unread(bob), 3);
    let mark = MarkNotificationsRead { ids: Some(vec![all[0].id.to_string(), Uuid::now_v7().to_string()]), all: None };
    assert_eq!(s.mark_notifications_read(bob, mark.clone()).unwrap(), 1);
    assert_eq!(s.mark_notifications_read(bob, mark).unwrap(), 0);
    let read_at = notes(s.as_ref(), bob)[0].read_at.expect("read");
    assert_eq!(unread(bob), 2);
    let only_unread = s.notifications(bob, &NotificationQuery::first(bob.id, 50, true)).unwrap().items;
    assert_eq!(only_unread.iter().map(|n| n.id).collect::<Vec<_>>(), [all[1].id, all[2].id]);
    assert_eq!(s.mark_notifications_read(bob, MarkNotificationsRead { ids: None, all: Some(true) }).unwrap(), 2);
    assert_eq!(unread(bob), 0);
    assert_eq!(notes(s.as_ref(), bob)[0].read_at, Some(read_at));
    // Bad shapes: neither, both, `all: false`, bad ids (each named).
    let bad = |ids: Option<Vec<&str>>, all: Option<bool>| {
        let which = MarkNotificationsRead { ids: ids.map(|ids| ids.into_iter().map(String::from).collect()), all };
        common::fields(s.mark_notifications_read(bob, which))
    };
    assert_eq!(bad(None, None), ["ids"]);
    assert_eq!(bad(Some(vec![]), Some(true)), ["all"]);
    assert_eq!(bad(None, Some(false)), ["all"]);
    assert_eq!(bad(Some(vec!["x", "y"]), None), ["ids[0]", "ids[1]"]);
    assert_eq!(bad(Some(vec![]), None), ["ids"]);
}

#[test]
fn pages_of_notifications_follow_the_cursor() {
    let (_db, s, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (_, project) = team_with(s.as_ref(), ada, &[bob]);
    let bobs = task(s.as_ref(), bob, project, "Bob's");
    for i in 0..5 {
        comment(s.as_ref(), ada, project, bobs.id, &format!("note {i}"));
    }
    let all: Vec<Uuid> = notes(s.as_ref(), bob).into_iter().map(|n| n.id).collect();
    let first = NotificationQuery::first(bob.id, 2, false);
    let mut query = first.clone();
    let mut seen = Vec::new();
    loop {
        let page = s.notifications(bob, &query).unwrap();
        seen.extend(page.items.iter().map(|n| n.id));
        let Some(cursor) = page.next_cursor else { break };
        query.page = first.page.continued(&cursor).unwrap();
    }
    assert_eq!(seen, all);
    // A cursor of Bob's list is refused on Ada's.
    let page = s.notifications(bob, &first).unwrap();
    let mut theirs = NotificationQuery::first(ada.id, 2, false);
    theirs.page = theirs.page.continued(&page.next_cursor.unwrap()).unwrap();
    assert_eq!(status(s.notifications(ada, &theirs)), 422);
}

/// The rules read the change, not the action's name: a board move between columns (as the
/// boards feature records it) notifies the assignee, one within a column nobody.
#[test]
fn a_move_to_another_status_notifies_the_assignee() {
    let (db, s, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (team, project) = team_with(s.as_ref(), ada, &[bob]);
    let new = NewProjectTask { title: "Ship".into(), assignee_id: Some(bob.id.to_string()), ..Default::default() };
    let t = s.create_task(ada, project, new).unwrap();
    let log = ActivityLog::new(Arc::new(InProcessPublisher::default())).with_hook(Arc::new(NotificationHook));
    for (from, to) in [("todo", "done"), ("done", "done")] {
        let (log, ada) = (log.clone(), ada.clone());
        db.write(move |tx| {
            let details = Details::new()
                .with("from", serde_json::json!({"status": from, "position": "a"}))
                .with("to", serde_json::json!({"status": to, "position": "b"}));
            log.append(tx, &ada, NewEntry::new(team, "task.moved").task(project, t.id).details(details))
        })
        .unwrap();
    }
    let got = kinds(s.as_ref(), bob);
    assert_eq!(got[0], (NotificationKind::StatusChanged, "task.moved".to_string()));
    assert_eq!(got.len(), 2, "assigned, then one move: {got:?}");
}

/// Concurrent writes notifying one user (PostgreSQL: on several connections at once) give
/// numbers without holes and ids that increase with them, so a stream resuming after any
/// id never skips one that committed later.
#[test]
fn concurrent_writes_number_a_user_s_notifications_without_holes() {
    let (_db, s, people) = setup(&["Ada", "Bob", "Cy"]);
    let (ada, bob, cy) = (people[0].clone(), people[1].clone(), people[2].clone());
    let (_, project) = team_with(s.as_ref(), &ada, &[&bob, &cy]);
    let bobs = task(s.as_ref(), &bob, project, "Bob's");
    let writers: Vec<_> = [ada, cy]
        .into_iter()
        .map(|who| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    comment(s.as_ref(), &who, project, bobs.id, &format!("{} {i}", who.display_name));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let mut got = notes(s.as_ref(), &bob);
    got.reverse();
    assert_eq!(got.iter().map(|n| n.seq).collect::<Vec<_>>(), (1..=10).collect::<Vec<i64>>());
    assert!(got.windows(2).all(|w| w[0].id.to_string() < w[1].id.to_string()), "ids follow the numbers");
    assert!(got.windows(2).all(|w| w[0].created_at <= w[1].created_at), "times never go back");
}
