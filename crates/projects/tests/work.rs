//! Projects, tasks and comments through [`ProjectService`]: archived projects are read
//! only and left out of lists unless asked for, tasks carry versions that `If-Match`
//! names, assignees are members, and comments are edited by their authors alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use common::{fields, first_page, named, setup, status, task, team_with};
use core_models::version::IfMatch;
use projects::{
    ListProjectTasks, ListProjectTasksParams, NamedChanges, NewProjectTask, Priority, ProjectTaskChanges,
    ProjectTaskStatus, Scope, TaskCommentBody,
};
use uuid::Uuid;

fn set(value: &str) -> Option<Option<String>> {
    Some(Some(value.to_string()))
}

fn comment(body: &str) -> TaskCommentBody {
    TaskCommentBody { body: body.into() }
}

fn archive(archived: bool) -> NamedChanges {
    NamedChanges { archived: Some(archived), ..NamedChanges::default() }
}

/// The titles of a whole task list of `scope`, with `params`.
fn titles(
    service: &dyn projects::ProjectService,
    caller: &core_models::Caller,
    scope: Scope,
    params: ListProjectTasksParams,
) -> Vec<String> {
    let query =
        ListProjectTasks::parse(ListProjectTasksParams { limit: Some("200".into()), ..params }, scope, caller.id)
            .unwrap();
    let mut titles: Vec<String> = service.tasks(caller, &query).unwrap().items.into_iter().map(|t| t.title).collect();
    titles.sort();
    titles
}

#[test]
fn tasks_are_created_read_changed_and_deleted_with_versions() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (_, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let new = NewProjectTask {
        title: " Write the post ".into(),
        priority: Some("high".into()),
        due_date: Some("2026-12-01".into()),
        ..NewProjectTask::default()
    };
    let created = s.create_task(bob, project, new).unwrap();
    assert_eq!(
        (created.title.as_str(), created.status, created.priority, created.version),
        ("Write the post", ProjectTaskStatus::Todo, Priority::High, 1)
    );
    assert_eq!((created.due_date, created.assignee.as_ref()), (NaiveDate::from_ymd_opt(2026, 12, 1), None));
    assert_eq!(created.created_by.id, bob.id);
    assert_eq!(s.task(ada, project, created.id).unwrap(), created);
    // A matching If-Match changes it and moves the version.
    let changes = ProjectTaskChanges { status: set("done"), ..ProjectTaskChanges::default() };
    let done = s.update_task(ada, project, created.id, changes, IfMatch::version(1)).unwrap();
    assert_eq!((done.status, done.version), (ProjectTaskStatus::Done, 2));
    // A stale one changes nothing, for updates and deletes alike.
    let stale = ProjectTaskChanges { title: set("x"), ..ProjectTaskChanges::default() };
    assert_eq!(status(s.update_task(ada, project, created.id, stale, IfMatch::version(1))), 412);
    assert_eq!(status(s.delete_task(ada, project, created.id, IfMatch::version(1))), 412);
    let current = s.task(ada, project, created.id).unwrap();
    assert_eq!((current.title.as_str(), current.version), ("Write the post", 2));
    // `null` clears; a change that changes nothing does not move the version.
    let clear = ProjectTaskChanges { due_date: Some(None), title: set("Write the post"), ..Default::default() };
    let cleared = s.update_task(ada, project, created.id, clear, IfMatch::Any).unwrap();
    assert_eq!((cleared.due_date, cleared.version), (None, 3));
    let same = ProjectTaskChanges { title: set("Write the post"), ..Default::default() };
    assert_eq!(s.update_task(ada, project, created.id, same, IfMatch::Any).unwrap().version, 3);
    // Every bad field is named at once; nothing changes.
    let bad = ProjectTaskChanges { status: set("finished"), priority: Some(None), ..Default::default() };
    assert_eq!(fields(s.update_task(ada, project, created.id, bad, IfMatch::Any)), ["status", "priority"]);
    let bad = NewProjectTask { title: " ".into(), due_date: Some("tomorrow".into()), ..Default::default() };
    assert_eq!(fields(s.create_task(ada, project, bad)), ["title", "due_date"]);
    // Deleting with the current version; then it is gone.
    s.delete_task(bob, project, created.id, IfMatch::version(3)).unwrap();
    assert_eq!(status(s.task(ada, project, created.id)), 404);
    assert_eq!(status(s.delete_task(ada, project, created.id, IfMatch::Any)), 404);
}

#[test]
fn a_task_is_found_only_under_its_own_project() {
    let (_db, service, people) = setup(&["Ada"]);
    let ada = &people[0];
    let (team, project) = team_with(service.as_ref(), ada, &[]);
    let s = service.as_ref();
    let other = s.create_project(ada, team, named("Other")).unwrap().id;
    let t = task(s, ada, project, "t");
    assert_eq!(status(s.task(ada, other, t.id)), 404);
    assert_eq!(status(s.update_task(ada, other, t.id, ProjectTaskChanges::default(), IfMatch::Any)), 404);
    assert_eq!(status(s.delete_task(ada, other, t.id, IfMatch::Any)), 404);
    assert_eq!(status(s.create_comment(ada, other, t.id, comment("x"))), 404);
    assert_eq!(status(s.task(ada, project, Uuid::now_v7())), 404);
    assert_eq!(s.task(ada, project, t.id).unwrap().version, 1);
}

#[test]
fn an_assignee_must_be_a_member_and_is_unassigned_on_leaving() {
    let (_db, service, people) = setup(&["Ada", "Bob", "Cat"]);
    let (ada, bob, cat) = (&people[0], &people[1], &people[2]);
    let (team, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let to = |who: Uuid| NewProjectTask { title: "t".into(), assignee_id: Some(who.to_string()), ..Default::default() };
    let assigned = s.create_task(ada, project, to(bob.id)).unwrap();
    assert_eq!(assigned.assignee.as_ref().map(|a| (a.id, a.display_name.as_str())), Some((bob.id, "Bob")));
    assert_eq!(fields(s.create_task(ada, project, to(cat.id))), ["assignee_id"], "Cat is no member");
    assert_eq!(fields(s.create_task(ada, project, to(Uuid::now_v7()))), ["assignee_id"]);
    let reassign = ProjectTaskChanges { assignee_id: set(&cat.id.to_string()), ..Default::default() };
    assert_eq!(fields(s.update_task(ada, project, assigned.id, reassign, IfMatch::Any)), ["assignee_id"]);
    assert_eq!(s.task(ada, project, assigned.id).unwrap().version, 1, "a refused change changes nothing");
    // Bob leaves: his task is unassigned in the same change, and its version moves.
    s.remove_member(bob, team, bob.id).unwrap();
    let after = s.task(ada, project, assigned.id).unwrap();
    assert_eq!((after.assignee, after.version), (None, 2));
    // `null` unassigns.
    let mine = s.create_task(ada, project, to(ada.id)).unwrap();
    let unassign = ProjectTaskChanges { assignee_id: Some(None), ..Default::default() };
    assert_eq!(s.update_task(ada, project, mine.id, unassign, IfMatch::Any).unwrap().assignee, None);
}

#[test]
fn an_archived_project_is_read_only_until_an_admin_restores_it() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (_, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let t = task(s, bob, project, "Ship");
    let c = s.create_comment(bob, project, t.id, comment("hi")).unwrap();
    assert!(s.update_project(ada, project, archive(true)).unwrap().archived);
    let new = || NewProjectTask { title: "More".into(), ..Default::default() };
    let results: Vec<(&str, u16)> = vec![
        ("create task", status(s.create_task(bob, project, new()))),
        (
            "update task",
            status(s.update_task(
                bob,
                project,
                t.id,
                ProjectTaskChanges { status: set("done"), ..Default::default() },
                IfMatch::Any,
            )),
        ),
        ("delete task", status(s.delete_task(bob, project, t.id, IfMatch::Any))),
        ("comment", status(s.create_comment(bob, project, t.id, comment("again")))),
        ("edit comment", status(s.update_comment(bob, project, t.id, c.id, comment("edited")))),
        ("delete comment", status(s.delete_comment(bob, project, t.id, c.id))),
    ];
    for (what, code) in results {
        assert_eq!(code, 409, "{what} in an archived project");
    }
    // Reads still work; nothing changed.
    assert_eq!(s.task(bob, project, t.id).unwrap().version, 1);
    assert_eq!(s.comments(bob, project, t.id, &first_page()).unwrap().items, std::slice::from_ref(&c));
    // Members cannot restore it; admins can, and writes work again.
    assert_eq!(status(s.update_project(bob, project, archive(false))), 403);
    assert!(!s.update_project(ada, project, archive(false)).unwrap().archived);
    s.create_task(bob, project, new()).unwrap();
    s.update_comment(bob, project, t.id, c.id, comment("edited")).unwrap();
}

#[test]
fn archived_projects_are_left_out_of_lists_unless_asked_for() {
    let (_db, service, people) = setup(&["Ada"]);
    let ada = &people[0];
    let (team, live) = team_with(service.as_ref(), ada, &[]);
    let s = service.as_ref();
    let old = s.create_project(ada, team, named("Old")).unwrap().id;
    task(s, ada, live, "live task");
    task(s, ada, old, "old task");
    s.update_project(ada, old, archive(true)).unwrap();
    let names = |archived: Option<bool>| -> Vec<String> {
        s.projects(ada, team, archived, &first_page()).unwrap().items.into_iter().map(|p| p.name).collect()
    };
    assert_eq!(names(None), ["Launch", "Old"]);
    assert_eq!(names(Some(true)), ["Old"]);
    assert_eq!(names(Some(false)), ["Launch"]);
    let all = |v: &str| ListProjectTasksParams { include_archived: Some(v.into()), ..Default::default() };
    assert_eq!(titles(s, ada, Scope::Team(team), Default::default()), ["live task"]);
    assert_eq!(titles(s, ada, Scope::Team(team), all("true")), ["live task", "old task"]);
    let in_old = |include: Option<&str>| ListProjectTasksParams {
        project_id: Some(old.to_string()),
        include_archived: include.map(str::to_string),
        ..Default::default()
    };
    assert!(titles(s, ada, Scope::Team(team), in_old(None)).is_empty());
    assert_eq!(titles(s, ada, Scope::Team(team), in_old(Some("true"))), ["old task"]);
    // The caller's own list across teams leaves them out too.
    let mine = |include: Option<&str>| {
        let params = projects::MyTasksParams { include_archived: include.map(str::to_string), ..Default::default() };
        let query = ListProjectTasks::parse_mine(params, ada.id).unwrap();
        let mut titles: Vec<String> = s.tasks(ada, &query).unwrap().items.into_iter().map(|t| t.title).collect();
        titles.sort();
        titles
    };
    assert_eq!(mine(None), ["live task"]);
    assert_eq!(mine(Some("true")), ["live task", "old task"]);
    // A project's own list always shows its tasks.
    assert_eq!(titles(s, ada, Scope::Project(old), Default::default()), ["old task"]);
}

#[test]
fn comments_are_edited_by_their_authors_and_deleted_by_them_or_admins() {
    let (_db, service, people) = setup(&["Ada", "Bob", "Cat"]);
    let (ada, bob, cat) = (&people[0], &people[1], &people[2]);
    let (_, project) = team_with(service.as_ref(), ada, &[bob, cat]);
    let s = service.as_ref();
    let t = task(s, bob, project, "t");
    let one = s.create_comment(bob, project, t.id, comment(" one ")).unwrap();
    assert_eq!((one.body.as_str(), one.author.id, one.task_id), ("one", bob.id, t.id));
    let two = s.create_comment(cat, project, t.id, comment("two")).unwrap();
    // Only the author edits: not another member, not an admin.
    assert_eq!(status(s.update_comment(cat, project, t.id, one.id, comment("mine now"))), 403);
    assert_eq!(status(s.update_comment(ada, project, t.id, one.id, comment("admin edit"))), 403);
    let edited = s.update_comment(bob, project, t.id, one.id, comment(" edited ")).unwrap();
    assert_eq!(edited.body, "edited");
    assert!(edited.updated_at >= one.updated_at);
    // The author or an admin deletes; another member does not.
    assert_eq!(status(s.delete_comment(bob, project, t.id, two.id)), 403);
    s.delete_comment(ada, project, t.id, two.id).unwrap();
    let left: Vec<String> =
        s.comments(cat, project, t.id, &first_page()).unwrap().items.into_iter().map(|c| c.body).collect();
    assert_eq!(left, ["edited"]);
    s.delete_comment(bob, project, t.id, one.id).unwrap();
    assert!(s.comments(cat, project, t.id, &first_page()).unwrap().items.is_empty());
    assert_eq!(status(s.delete_comment(bob, project, t.id, one.id)), 404);
    // Blank comments are refused.
    assert_eq!(fields(s.create_comment(bob, project, t.id, comment("  "))), ["body"]);
    // A deleted task takes its comments along.
    s.create_comment(bob, project, t.id, comment("three")).unwrap();
    s.delete_task(bob, project, t.id, IfMatch::Any).unwrap();
    assert_eq!(status(s.comments(bob, project, t.id, &first_page())), 404);
}

#[test]
fn deleting_a_project_or_a_team_takes_everything_in_it() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (team, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let t = task(s, bob, project, "t");
    let second = s.create_project(ada, team, named("Second")).unwrap().id;
    s.delete_project(ada, project).unwrap();
    assert_eq!(status(s.project(ada, project)), 404);
    assert_eq!(status(s.task(ada, project, t.id)), 404);
    assert!(titles(s, ada, Scope::Team(team), Default::default()).is_empty());
    s.delete_team(ada, team).unwrap();
    assert_eq!(status(s.team(ada, team)), 404);
    assert_eq!(status(s.project(bob, second)), 404);
    assert!(s.my_teams(bob, &first_page()).unwrap().items.is_empty());
}
