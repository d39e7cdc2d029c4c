//! Labels and bulk changes through [`ProjectService`]: names unique in a team ignoring
//! case, labels of another team refused, the `label` filter keeping tasks that carry every
//! label named, and bulk changes applied to all tasks or none, each task with its own
//! version bump and activity entries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{actions, activity, fields, first_page, setup, status, task, team_with};
use core_models::version::IfMatch;
use projects::{
    BulkTaskChanges, BulkTaskFields, LabelChanges, ListProjectTasks, ListProjectTasksParams, MyTasksParams,
    NamedChanges, NewLabel, NewProjectTask, ProjectService, ProjectTaskChanges, ProjectTaskStatus, Scope,
};
use uuid::Uuid;

fn label(service: &dyn ProjectService, caller: &core_models::Caller, team: Uuid, name: &str) -> Uuid {
    service.create_label(caller, team, NewLabel { name: name.into(), color: "#D73A4A".into() }).unwrap().id
}

fn ids(labels: &[Uuid]) -> Vec<String> {
    labels.iter().map(Uuid::to_string).collect()
}

fn relabel(labels: &[Uuid]) -> ProjectTaskChanges {
    ProjectTaskChanges { label_ids: Some(Some(ids(labels))), ..ProjectTaskChanges::default() }
}

fn bulk(tasks: &[Uuid], changes: BulkTaskFields) -> BulkTaskChanges {
    BulkTaskChanges { ids: ids(tasks), changes }
}

#[test]
fn label_names_are_unique_in_a_team_ignoring_case_and_listed_by_name() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let s = service.as_ref();
    let (team, _) = team_with(s, ada, &[bob]);
    let bug = s.create_label(bob, team, NewLabel { name: "  Bug ".into(), color: "#D73A4A".into() }).unwrap();
    assert_eq!((bug.name.as_str(), bug.color.as_str(), bug.version), ("Bug", "#d73a4a", 1));
    let again = NewLabel { name: "bUG".into(), color: "#000000".into() };
    assert_eq!(status(s.create_label(ada, team, again.clone())), 409);
    // Another team may have its own "bug".
    let (other, _) = team_with(s, bob, &[]);
    s.create_label(bob, other, again).unwrap();
    let bad = NewLabel { name: " ".into(), color: "red".into() };
    assert_eq!(fields(s.create_label(ada, team, bad)), ["name", "color"]);
    label(s, ada, team, "api");
    label(s, ada, team, "Chore");
    let names: Vec<String> = s.labels(ada, team, &first_page()).unwrap().items.into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["api", "Bug", "Chore"]);
    // A rename onto another label's name conflicts; onto its own name in another case it does not.
    let to = |name: &str| LabelChanges { name: Some(Some(name.into())), ..LabelChanges::default() };
    assert_eq!(status(s.update_label(ada, bug.id, to("CHORE"), IfMatch::Any)), 409);
    assert_eq!(s.update_label(ada, bug.id, to("BUG"), IfMatch::version(1)).unwrap().version, 2);
    assert_eq!(status(s.update_label(ada, bug.id, to("x"), IfMatch::version(1))), 412);
    // Outsiders learn nothing: an unknown team, another team's label.
    let theirs = s.labels(bob, other, &first_page()).unwrap().items[0].id;
    assert_eq!(status(s.label(ada, theirs)), 404);
    assert_eq!(status(s.delete_label(ada, theirs, IfMatch::Any)), 404);
    assert_eq!(status(s.labels(bob, Uuid::now_v7(), &first_page())), 404);
}

#[test]
fn tasks_carry_their_teams_labels_and_changes_are_entries() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[bob]);
    let (bug, ui) = (label(s, ada, team, "bug"), label(s, ada, team, "UI"));
    let (other_team, _) = team_with(s, bob, &[]);
    let foreign = label(s, bob, other_team, "bug");
    let new = |labels: &[Uuid]| NewProjectTask {
        title: "Fix".into(),
        label_ids: Some(ids(labels)),
        ..NewProjectTask::default()
    };
    // A label of another team (which Ada cannot even see), or unknown, is 422 naming `label_ids`.
    assert_eq!(fields(s.create_task(ada, project, new(&[bug, foreign]))), ["label_ids"]);
    assert_eq!(fields(s.create_task(ada, project, new(&[Uuid::now_v7()]))), ["label_ids"]);
    // Repeats are refused, naming the element.
    assert_eq!(fields(s.create_task(ada, project, new(&[bug, bug]))), ["label_ids[1]"]);
    let created = s.create_task(ada, project, new(&[ui, bug])).unwrap();
    let names = |t: &projects::ProjectTask| t.labels.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&created), ["bug", "UI"]);

    let changed = s.update_task(bob, project, created.id, relabel(&[ui]), IfMatch::version(1)).unwrap();
    assert_eq!((names(&changed), changed.version), (vec!["UI".to_string()], 2));
    assert_eq!(names(&s.task(ada, project, created.id).unwrap()), ["UI"]);
    let newest = &activity(s, ada, team)[0];
    assert_eq!(newest.action, "task.unlabeled");
    assert_eq!(newest.details["labels"][0]["name"], "bug");
    assert_eq!(newest.details["labels"][0]["color"], "#d73a4a");
    // A title and a label in one PATCH: one version, one entry for each kind of change.
    let both = ProjectTaskChanges { title: Some(Some("Fix it".into())), ..relabel(&[ui, bug]) };
    let changed = s.update_task(ada, project, created.id, both, IfMatch::Any).unwrap();
    assert_eq!(changed.version, 3);
    assert_eq!(actions(&activity(s, ada, team)[..2]), ["task.labeled", "task.updated"]);
    // The same set again changes nothing.
    assert_eq!(s.update_task(ada, project, created.id, relabel(&[bug, ui]), IfMatch::Any).unwrap().version, 3);
    assert_eq!(fields(s.update_task(ada, project, created.id, relabel(&[foreign]), IfMatch::Any)), ["label_ids"]);

    // Renaming a label shows on its tasks and moves their versions; deleting takes it off.
    let rename = LabelChanges { name: Some(Some("Defect".into())), ..LabelChanges::default() };
    s.update_label(bob, bug, rename, IfMatch::Any).unwrap();
    let task = s.task(ada, project, created.id).unwrap();
    assert_eq!((names(&task), task.version), (vec!["Defect".to_string(), "UI".to_string()], 4));
    s.delete_label(bob, bug, IfMatch::Any).unwrap();
    let task = s.task(ada, project, created.id).unwrap();
    assert_eq!((names(&task), task.version), (vec!["UI".to_string()], 5));
    assert_eq!(status(s.label(ada, bug)), 404);
}

#[test]
fn the_label_filter_keeps_tasks_carrying_every_label_named() {
    let (_db, service, people) = setup(&["Ada"]);
    let ada = &people[0];
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[]);
    let (bug, ui, api) = (label(s, ada, team, "bug"), label(s, ada, team, "ui"), label(s, ada, team, "api"));
    for (title, labels) in [("both", vec![bug, ui]), ("bug", vec![bug]), ("ui", vec![ui]), ("all", vec![bug, ui, api])]
    {
        let t = task(s, ada, project, title);
        s.update_task(ada, project, t.id, relabel(&labels), IfMatch::Any).unwrap();
    }
    task(s, ada, project, "none");
    let list = |scope: Scope, raw: String| -> Vec<String> {
        let params = ListProjectTasksParams {
            label: Some(raw.clone()),
            sort: Some("title".into()),
            count: Some("true".into()),
            ..ListProjectTasksParams::default()
        };
        let page = if let Scope::Mine(_) = scope {
            let params = MyTasksParams { label: Some(raw), sort: Some("title".into()), ..MyTasksParams::default() };
            s.tasks(ada, &ListProjectTasks::parse_mine(params, ada.id).unwrap()).unwrap()
        } else {
            let page = s.tasks(ada, &ListProjectTasks::parse(params, scope, ada.id).unwrap()).unwrap();
            assert_eq!(page.total, Some(page.items.len() as u64), "count=true agrees");
            page
        };
        page.items.into_iter().map(|t| t.title).collect()
    };
    for scope in [Scope::Project(project), Scope::Team(team), Scope::Mine(ada.id)] {
        assert_eq!(list(scope, format!("{bug},{ui}")), ["all", "both"], "{scope:?}");
        assert_eq!(list(scope, format!("{ui}")), ["all", "both", "ui"], "{scope:?}");
        assert_eq!(list(scope, format!("{api},{bug}")), ["all"], "{scope:?}");
        assert!(list(scope, Uuid::now_v7().to_string()).is_empty(), "{scope:?}");
    }
    let bad = ListProjectTasksParams { label: Some(format!("{bug},nope")), ..ListProjectTasksParams::default() };
    assert_eq!(fields(ListProjectTasks::parse(bad, Scope::Team(team), ada.id)), ["label"]);
}

#[test]
fn bulk_changes_apply_to_all_tasks_or_none_each_with_its_own_entries() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[bob]);
    let (bug, ui) = (label(s, ada, team, "bug"), label(s, ada, team, "ui"));
    let tasks: Vec<Uuid> = ["a", "b", "c"].iter().map(|t| task(s, ada, project, t).id).collect();
    s.update_task(ada, project, tasks[1], relabel(&[ui]), IfMatch::Any).unwrap();
    let snapshot = |s: &dyn ProjectService| -> Vec<(i64, ProjectTaskStatus, usize)> {
        tasks.iter().map(|t| s.task(ada, project, *t).unwrap()).map(|t| (t.version, t.status, t.labels.len())).collect()
    };
    let unchanged = snapshot(s);

    let changes = || BulkTaskFields {
        status: Some(Some("in_progress".into())),
        assignee_id: Some(Some(bob.id.to_string())),
        add_label_ids: Some(ids(&[bug])),
        remove_label_ids: Some(ids(&[ui])),
        ..BulkTaskFields::default()
    };
    // A failure in the middle of the batch (an unknown task, a task of another project)
    // leaves every task as it was and writes no entry.
    let (_, elsewhere) = team_with(s, ada, &[]);
    let stranger = task(s, ada, elsewhere, "elsewhere").id;
    let before = activity(s, ada, team).len();
    for odd in [Uuid::now_v7(), stranger] {
        let err = s.update_tasks(bob, project, bulk(&[tasks[0], tasks[1], odd, tasks[2]], changes())).unwrap_err();
        assert_eq!(err.status_code(), 404);
        assert!(err.to_string().contains(&odd.to_string()), "names the id: {err}");
    }
    // So does a bad value: every one is named.
    let bad = BulkTaskFields { status: Some(Some("later".into())), label_ids: Some(Some(vec![])), ..changes() };
    let named_fields = fields(s.update_tasks(bob, project, bulk(&tasks, bad)));
    assert_eq!(named_fields, ["changes.status", "changes.label_ids"]);
    let repeated = BulkTaskChanges { ids: vec![tasks[0].to_string(), tasks[0].to_string()], changes: changes() };
    assert_eq!(fields(s.update_tasks(bob, project, repeated)), ["ids[1]"]);
    let (other, _) = team_with(s, bob, &[]);
    let foreign = label(s, bob, other, "bug");
    let foreign_label = BulkTaskFields { add_label_ids: Some(ids(&[foreign])), ..changes() };
    assert_eq!(fields(s.update_tasks(bob, project, bulk(&tasks, foreign_label))), ["changes.add_label_ids"]);
    assert_eq!(snapshot(s), unchanged);
    assert_eq!(activity(s, ada, team).len(), before);

    // The order of `ids` is the order of the answer.
    let order = [tasks[2], tasks[0], tasks[1]];
    let changed = s.update_tasks(bob, project, bulk(&order, changes())).unwrap();
    assert_eq!(changed.iter().map(|t| t.id).collect::<Vec<_>>(), order);
    for t in &changed {
        assert_eq!((t.status, t.assignee.as_ref().map(|a| a.id)), (ProjectTaskStatus::InProgress, Some(bob.id)));
        assert_eq!(t.labels.iter().map(|l| l.id).collect::<Vec<_>>(), [bug]);
    }
    assert_eq!(changed.iter().map(|t| t.version).collect::<Vec<_>>(), [2, 2, 3]);
    // Per task, as a PATCH would write them: the fields' entry, then labeled (and
    // unlabeled for the task that had `ui`).
    let entries = activity(s, ada, team);
    let new = &entries[..entries.len() - before];
    let of = |task: Uuid| new.iter().filter(|e| e.task_id == Some(task)).map(|e| e.action.as_str()).collect::<Vec<_>>();
    assert_eq!(of(tasks[0]), ["task.labeled", "task.updated"]);
    assert_eq!(of(tasks[1]), ["task.unlabeled", "task.labeled", "task.updated"]);
    assert_eq!(new.len(), 7);

    // `label_ids` replaces; combining it with add/remove is refused.
    let replace = BulkTaskFields { label_ids: Some(Some(ids(&[ui]))), ..BulkTaskFields::default() };
    let changed = s.update_tasks(ada, project, bulk(&tasks, replace)).unwrap();
    assert!(changed.iter().all(|t| t.labels.iter().map(|l| l.id).eq([ui])));
    let both = BulkTaskFields { label_ids: Some(Some(vec![])), add_label_ids: Some(ids(&[bug])), ..Default::default() };
    assert_eq!(fields(s.update_tasks(ada, project, bulk(&tasks, both))), ["changes.label_ids"]);
    assert_eq!(fields(s.update_tasks(ada, project, bulk(&tasks, BulkTaskFields::default()))), ["changes"]);

    // An archived project is read only: 409 for bulk changes and for labels on its tasks.
    let archive = NamedChanges { archived: Some(true), ..NamedChanges::default() };
    s.update_project(ada, project, archive).unwrap();
    let status_only = BulkTaskFields { status: Some(Some("done".into())), ..BulkTaskFields::default() };
    assert_eq!(status(s.update_tasks(ada, project, bulk(&tasks, status_only))), 409);
    assert_eq!(status(s.update_task(ada, project, tasks[0], relabel(&[]), IfMatch::Any)), 409);
    // An unknown project: 404.
    assert_eq!(status(s.update_tasks(bob, Uuid::now_v7(), bulk(&tasks, changes()))), 404);
}

/// Each task's stored label count (which decides whether a page reads labels at all)
/// follows its labels through creation with labels, a relabel, bulk add, remove and
/// replace, and the deletion of a label; every list shows each task's labels.
#[test]
fn label_counts_follow_every_way_labels_come_and_go() {
    use diesel::prelude::*;
    use storage::schema::{project_tasks, task_labels};
    let (db, service, people) = setup(&["Ada"]);
    let ada = &people[0];
    let s = service.as_ref();
    let (team, project) = team_with(s, ada, &[]);
    let (bug, ui, docs) = (label(s, ada, team, "bug"), label(s, ada, team, "ui"), label(s, ada, team, "docs"));
    let new = NewProjectTask { title: "one".into(), label_ids: Some(ids(&[bug, ui])), ..NewProjectTask::default() };
    let one = s.create_task(ada, project, new).unwrap().id;
    let two = task(s, ada, project, "two").id;
    let three = task(s, ada, project, "three").id;
    let four = task(s, ada, project, "four").id;
    s.update_task(ada, project, two, relabel(&[docs, ui]), IfMatch::Any).unwrap();
    let add_remove =
        BulkTaskFields { add_label_ids: Some(ids(&[bug])), remove_label_ids: Some(ids(&[docs])), ..Default::default() };
    s.update_tasks(ada, project, bulk(&[two, three], add_remove)).unwrap();
    let replace = BulkTaskFields { label_ids: Some(Some(ids(&[docs]))), ..BulkTaskFields::default() };
    s.update_tasks(ada, project, bulk(&[four], replace)).unwrap();
    s.delete_label(ada, ui, IfMatch::Any).unwrap();

    let mut conn = db.database().read().unwrap();
    let stored: Vec<(String, i32)> =
        project_tasks::table.select((project_tasks::id, project_tasks::label_count)).load(&mut *conn).unwrap();
    for (task_id, count) in &stored {
        let rows: i64 =
            task_labels::table.filter(task_labels::task_id.eq(task_id)).count().get_result(&mut *conn).unwrap();
        assert_eq!(i64::from(*count), rows, "task {task_id}");
    }
    let expected = [(one, vec![bug]), (two, vec![bug]), (three, vec![bug]), (four, vec![docs])];
    let params = || ListProjectTasksParams { sort: Some("title".into()), ..ListProjectTasksParams::default() };
    for scope in [Scope::Project(project), Scope::Team(team)] {
        let page = s.tasks(ada, &ListProjectTasks::parse(params(), scope, ada.id).unwrap()).unwrap();
        for (task_id, labels) in &expected {
            let listed = page.items.iter().find(|t| t.id == *task_id).unwrap();
            assert_eq!(listed.labels.iter().map(|l| l.id).collect::<Vec<_>>(), *labels, "{scope:?}");
        }
    }
    let mine = s.tasks(ada, &ListProjectTasks::parse_mine(MyTasksParams::default(), ada.id).unwrap()).unwrap();
    for (task_id, labels) in &expected {
        let listed = mine.items.iter().find(|t| t.id == *task_id).unwrap();
        assert_eq!(listed.labels.iter().map(|l| l.id).collect::<Vec<_>>(), *labels, "mine");
    }
}
