//! How a team's lists are read: in one statement that also checks membership, without a
//! transaction (on PostgreSQL a `BEGIN`, a separate check and a `COMMIT` are three round
//! trips of five), and still as one snapshot would show them. Every statement the test's
//! thread sends is recorded through Diesel's instrumentation, and a change can be made to
//! land between two statements of a read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use activity_log::FeedParams;
use common::{feed_query, setup, status, task, team_with};
use core_models::version::IfMatch;
use core_models::Caller;
use projects::{
    Label, LabelChanges, ListProjectTasks, ListProjectTasksParams, NewLabel, NewProjectTask, ProjectService,
    ProjectTask, ProjectTaskChanges, Scope,
};
use storage::testing::{is_transaction_control, record_statements, statements_of};
use uuid::Uuid;

fn team_list(team: Uuid, caller: &Caller, status: Option<&str>) -> ListProjectTasks {
    let params = ListProjectTasksParams { status: status.map(Into::into), ..ListProjectTasksParams::default() };
    ListProjectTasks::parse(params, Scope::Team(team), caller.id).unwrap()
}

/// A label "bug" in `team`, put on `task`: the label and the task as changed.
fn label_bug(s: &dyn ProjectService, ada: &Caller, team: Uuid, project: Uuid, task: Uuid) -> (Label, ProjectTask) {
    let bug = s.create_label(ada, team, NewLabel { name: "bug".into(), color: "#d73a4a".into() }).unwrap();
    let relabel = ProjectTaskChanges { label_ids: Some(Some(vec![bug.id.to_string()])), ..Default::default() };
    let task = s.update_task(ada, project, task, relabel, IfMatch::Any).unwrap();
    (bug, task)
}

/// A change to land between two statements of a read: `label` renamed to "defect".
fn rename_to_defect(service: &Arc<dyn ProjectService>, ada: &Caller, label: Uuid) -> Box<dyn FnOnce()> {
    let (service, ada) = (service.clone(), ada.clone());
    Box::new(move || {
        let to = LabelChanges { name: Some(Some("defect".into())), ..LabelChanges::default() };
        service.update_label(&ada, label, to, IfMatch::Any).unwrap();
    })
}

/// Every task of `page` as a read of it alone shows it (version and labels).
fn assert_each_as_alone(s: &dyn ProjectService, bob: &Caller, project: Uuid, page: &[ProjectTask]) {
    for shown in page {
        let alone = s.task(bob, project, shown.id).unwrap();
        assert_eq!((shown.version, &shown.labels), (alone.version, &alone.labels), "{}", shown.title);
    }
}

#[test]
fn a_members_page_is_one_statement_and_strangers_and_empty_pages_are_told_apart() {
    record_statements();
    let (_db, service, people) = setup(&["Ada", "Bob", "Eve"]);
    let (ada, bob, eve) = (&people[0], &people[1], &people[2]);
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[bob]);
    for title in ["one", "two", "three"] {
        task(s, ada, project, title);
    }

    let (page, sent) = statements_of(None, || s.tasks(bob, &team_list(team, bob, None)).unwrap());
    assert_eq!(page.items.len(), 3);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].contains("team_members"), "the page's statement checks membership: {sent:#?}");

    let (page, sent) = statements_of(None, || s.team_activity(bob, team, &feed_query(FeedParams::default())).unwrap());
    assert!(!page.items.is_empty());
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].contains("team_members"), "{sent:#?}");

    // No rows: a stranger gets 404 (not an empty page), a member an empty page.
    assert_eq!(status(s.tasks(eve, &team_list(team, eve, None))), 404);
    assert_eq!(status(s.team_activity(eve, team, &feed_query(FeedParams::default()))), 404);
    assert_eq!(status(s.tasks(eve, &team_list(Uuid::now_v7(), eve, None))), 404);
    let (empty, sent) = statements_of(None, || s.tasks(bob, &team_list(team, bob, Some("done"))).unwrap());
    assert!(empty.items.is_empty());
    assert!(sent.iter().any(|q| is_transaction_control(q)), "an empty page is read again in a snapshot: {sent:#?}");

    // A member removed is a stranger from the next read on.
    s.remove_member(ada, team, bob.id).unwrap();
    assert_eq!(status(s.tasks(bob, &team_list(team, bob, None))), 404);
    assert_eq!(status(s.team_activity(bob, team, &feed_query(FeedParams::default()))), 404);
}

/// A page names its people from memory (`storage::names`): one statement while their
/// names are remembered, and a rename by SQL shows on the next page, which reads the names
/// again.
#[test]
fn a_page_names_its_people_from_memory_and_a_rename_shows_on_the_next_page() {
    record_statements();
    let (db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[bob]);
    let assigned =
        NewProjectTask { title: "review".into(), assignee_id: Some(bob.id.to_string()), ..NewProjectTask::default() };
    let review = s.create_task(ada, project, assigned).unwrap();
    // Bob's own change: an activity entry with Bob as its actor.
    let urgent = ProjectTaskChanges { priority: Some(Some("urgent".into())), ..Default::default() };
    s.update_task(bob, project, review.id, urgent, IfMatch::Any).unwrap();
    let people_of = |page: &[ProjectTask]| -> Vec<(String, Option<String>)> {
        let name = |u: &core_models::UserRef| u.display_name.clone();
        page.iter().map(|t| (name(&t.created_by), t.assignee.as_ref().map(name))).collect()
    };

    let (page, sent) = statements_of(None, || s.tasks(bob, &team_list(team, bob, None)).unwrap());
    assert_eq!(people_of(&page.items), [("Ada".to_string(), Some("Bob".to_string()))]);
    assert_eq!(sent.len(), 1, "the names were read when the task was made: {sent:#?}");
    let reads_users = |q: &String| ["FROM users", "FROM \"users\"", "FROM `users`"].iter().any(|t| q.contains(t));
    assert!(!reads_users(&sent[0]), "no name is read with the rows: {sent:#?}");

    storage::testing::rename_user(&db, bob.id, "Robert");
    let (page, sent) = statements_of(None, || s.tasks(bob, &team_list(team, bob, None)).unwrap());
    assert_eq!(people_of(&page.items), [("Ada".to_string(), Some("Robert".to_string()))]);
    assert_eq!(sent.len(), 2, "the page, then its people's names: {sent:#?}");
    assert!(reads_users(&sent[1]), "{sent:#?}");
    let one = s.task(ada, project, page.items[0].id).unwrap();
    assert_eq!(one.assignee.unwrap().display_name, "Robert");
    let feed = s.team_activity(ada, team, &feed_query(FeedParams::default())).unwrap();
    let actors: Vec<&str> = feed.items.iter().map(|e| e.actor.display_name.as_str()).collect();
    assert_eq!(actors.first(), Some(&"Robert"), "the newest entry is Bob's change, under his new name: {actors:?}");

    let (_, sent) = statements_of(None, || s.tasks(bob, &team_list(team, bob, None)).unwrap());
    assert_eq!(sent.len(), 1, "remembered again: {sent:#?}");
}

#[test]
fn labels_read_after_the_page_are_the_pages_or_the_page_is_read_again() {
    record_statements();
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[bob]);
    let labeled = task(s, ada, project, "labeled");
    task(s, ada, project, "plain");
    let (bug, labeled) = label_bug(s, ada, team, project, labeled.id);

    // Undisturbed: the page, then its labels; no transaction.
    let (page, sent) = statements_of(None, || s.tasks(bob, &team_list(team, bob, None)).unwrap());
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(!sent.iter().any(|q| is_transaction_control(q)), "{sent:#?}");
    let shown = page.items.iter().find(|t| t.id == labeled.id).unwrap();
    assert_eq!(shown.labels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["bug"]);

    // The label renamed between the page and its labels: the page read in its first
    // statement is not answered with the labels of a later moment; it is read again, and
    // every task is answered as a read of it alone shows it.
    let rename = rename_to_defect(&service, ada, bug.id);
    let (page, sent) = statements_of(Some((2, rename)), || s.tasks(bob, &team_list(team, bob, None)).unwrap());
    assert!(sent.iter().any(|q| is_transaction_control(q)), "read again in a snapshot: {sent:#?}");
    assert_each_as_alone(s, bob, project, &page.items);
    let shown = page.items.iter().find(|t| t.id == labeled.id).unwrap();
    assert_eq!(shown.labels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["defect"]);

    // The task's labels taken off in between: the same.
    let (service2, ada2) = (service.clone(), ada.clone());
    let unlabel: Box<dyn FnOnce()> = Box::new(move || {
        let none = ProjectTaskChanges { label_ids: Some(Some(vec![])), ..Default::default() };
        service2.update_task(&ada2, project, labeled.id, none, IfMatch::Any).unwrap();
    });
    let (page, _) = statements_of(Some((2, unlabel)), || s.tasks(bob, &team_list(team, bob, None)).unwrap());
    assert_each_as_alone(s, bob, project, &page.items);
}

#[test]
fn a_members_task_is_one_statement_and_others_get_their_404() {
    record_statements();
    let (_db, service, people) = setup(&["Ada", "Bob", "Eve"]);
    let (ada, bob, eve) = (&people[0], &people[1], &people[2]);
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[bob]);
    let plain = task(s, ada, project, "plain");
    let labeled = task(s, ada, project, "labeled");
    let (bug, labeled) = label_bug(s, ada, team, project, labeled.id);

    let (got, sent) = statements_of(None, || s.task(bob, project, plain.id).unwrap());
    assert_eq!((got.id, got.version), (plain.id, plain.version));
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let (got, sent) = statements_of(None, || s.task(bob, project, labeled.id).unwrap());
    assert_eq!(got, labeled);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(!sent.iter().any(|q| is_transaction_control(q)), "{sent:#?}");

    // Renamed between the task and its labels: read again, as a snapshot shows it.
    let rename = rename_to_defect(&service, ada, bug.id);
    let (got, sent) = statements_of(Some((2, rename)), || s.task(bob, project, labeled.id).unwrap());
    assert!(sent.iter().any(|q| is_transaction_control(q)), "{sent:#?}");
    assert_eq!((got.version, got.labels[0].name.as_str()), (labeled.version + 1, "defect"));

    // A stranger: 404 for the project; a member: 404 for a task the project lacks.
    let err = s.task(eve, project, plain.id).unwrap_err();
    assert_eq!((err.status_code(), err.to_string().contains("project")), (404, true), "{err}");
    let err = s.task(bob, project, Uuid::now_v7()).unwrap_err();
    assert_eq!((err.status_code(), err.to_string().contains("task")), (404, true), "{err}");
}
