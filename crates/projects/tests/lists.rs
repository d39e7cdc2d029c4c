//! Task lists through [`ProjectService`]: in every sort, both ways, with filters, a list
//! read in small keyset pages holds exactly the tasks the filters keep, each once, in the
//! order one big page has them; cursors are bound to their list.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{fields, named, setup, status, team_with};
use core_models::version::IfMatch;
use core_models::Caller;
use projects::{
    ListProjectTasks, ListProjectTasksParams, NewProjectTask, Priority, ProjectService, ProjectTask,
    ProjectTaskChanges, ProjectTaskStatus, Scope,
};
use uuid::Uuid;

const STATUSES: [&str; 3] = ["todo", "in_progress", "done"];
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];

/// 14 tasks over two projects with every status and priority, half of them dated (with
/// equal dates), a third assigned to `assignee`, titles repeating; some changed after.
fn seed(s: &dyn ProjectService, admin: &Caller, assignee: &Caller, projects: [Uuid; 2]) -> Vec<ProjectTask> {
    let mut tasks = Vec::new();
    for i in 0..14usize {
        let new = NewProjectTask {
            title: format!("Task {:02}", (i * 5) % 7),
            status: Some(STATUSES[i % 3].into()),
            priority: Some(PRIORITIES[i % 4].into()),
            due_date: (i % 2 == 0).then(|| format!("2026-12-{:02}", 1 + (i * 7) % 5)),
            assignee_id: (i % 3 == 0).then(|| assignee.id.to_string()),
            description: Some(if i % 5 == 0 { "needle in it".into() } else { "hay".into() }),
            label_ids: None,
        };
        tasks.push(s.create_task(admin, projects[usize::from(i % 4 == 0)], new).unwrap());
    }
    for t in tasks.iter_mut().step_by(4) {
        let c = ProjectTaskChanges { description: Some(Some("changed".into())), ..Default::default() };
        *t = s.update_task(admin, t.project_id, t.id, c, IfMatch::Any).unwrap();
    }
    tasks
}

/// Every page of a list with `limit`, in order, and the ids of each page.
fn pages(
    s: &dyn ProjectService,
    caller: &Caller,
    scope: Scope,
    params: &ListProjectTasksParams,
    limit: u32,
) -> Vec<Vec<Uuid>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params =
            ListProjectTasksParams { limit: Some(limit.to_string()), cursor: cursor.clone(), ..params.clone() };
        let page = s.tasks(caller, &ListProjectTasks::parse(params, scope, caller.id).unwrap()).unwrap();
        assert!(page.items.len() <= limit as usize);
        pages.push(page.items.iter().map(|t| t.id).collect());
        assert!(pages.len() <= 100, "the pages never end");
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
    }
}

fn filters(project: Uuid, assignee: Uuid) -> Vec<ListProjectTasksParams> {
    let p = ListProjectTasksParams::default;
    vec![
        p(),
        ListProjectTasksParams { status: Some("todo,in_progress".into()), priority: Some("high,urgent".into()), ..p() },
        ListProjectTasksParams { assignee: Some(assignee.to_string()), ..p() },
        ListProjectTasksParams { assignee: Some("none".into()), ..p() },
        ListProjectTasksParams { due_from: Some("2026-12-02".into()), due_to: Some("2026-12-04".into()), ..p() },
        ListProjectTasksParams { project_id: Some(project.to_string()), status: Some("done".into()), ..p() },
        ListProjectTasksParams { q: Some("needle".into()), ..p() },
    ]
}

/// Whether `task` passes the filters of `params` (of the kinds [`filters`] uses).
fn keeps(task: &ProjectTask, params: &ListProjectTasksParams) -> bool {
    let listed = |raw: &Option<String>, value: &str| raw.as_ref().is_none_or(|r| r.split(',').any(|v| v == value));
    let status = STATUSES[match task.status {
        ProjectTaskStatus::Todo => 0,
        ProjectTaskStatus::InProgress => 1,
        ProjectTaskStatus::Done => 2,
    }];
    let priority = PRIORITIES[match task.priority {
        Priority::Low => 0,
        Priority::Medium => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    }];
    let assignee = match params.assignee.as_deref() {
        None => true,
        Some("none") => task.assignee.is_none(),
        Some(id) => task.assignee.as_ref().is_some_and(|a| a.id.to_string() == id),
    };
    let due = |bound: &Option<String>, after: bool| {
        bound.as_ref().is_none_or(|b| {
            let b = chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").unwrap();
            task.due_date.is_some_and(|d| if after { d >= b } else { d <= b })
        })
    };
    let text = params.q.as_ref().is_none_or(|q| task.description.as_deref().is_some_and(|d| d.contains(q.as_str())));
    listed(&params.status, status)
        && listed(&params.priority, priority)
        && assignee
        && due(&params.due_from, true)
        && due(&params.due_to, false)
        && params.project_id.as_ref().is_none_or(|p| task.project_id.to_string() == *p)
        && text
}

#[test]
fn keyset_pages_hold_every_filtered_task_once_in_every_order() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (team, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let other = s.create_project(ada, team, named("Two")).unwrap().id;
    let tasks = seed(s, ada, bob, [project, other]);
    for params in filters(other, bob.id) {
        let expected: BTreeSet<Uuid> = tasks.iter().filter(|t| keeps(t, &params)).map(|t| t.id).collect();
        assert!(!expected.is_empty() || params.q.is_some(), "{params:?} keeps something");
        for field in ["created_at", "updated_at", "due_date", "priority", "status", "title"] {
            for sort in [field.to_string(), format!("-{field}")] {
                let params = ListProjectTasksParams { sort: Some(sort.clone()), ..params.clone() };
                let whole: Vec<Uuid> = pages(s, ada, Scope::Team(team), &params, 200).concat();
                let paged = pages(s, ada, Scope::Team(team), &params, 3);
                let flat: Vec<Uuid> = paged.concat();
                assert_eq!(flat, whole, "sort={sort} {params:?}: pages of 3 read as one page");
                let unique: BTreeSet<Uuid> = flat.iter().copied().collect();
                assert_eq!(unique.len(), flat.len(), "sort={sort} {params:?}: no task twice");
                assert_eq!(unique, expected, "sort={sort} {params:?}: exactly the filtered tasks");
                assert!(
                    paged.len() == 1 || paged.iter().rev().skip(1).all(|p| p.len() == 3),
                    "only the last page is short"
                );
            }
        }
    }
}

#[test]
fn sorts_follow_ranks_dates_and_the_id_as_a_tiebreak() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (team, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let other = s.create_project(ada, team, named("Two")).unwrap().id;
    let tasks = seed(s, ada, bob, [project, other]);
    let read = |sort: &str| -> Vec<ProjectTask> {
        let params =
            ListProjectTasksParams { sort: Some(sort.into()), limit: Some("200".into()), ..Default::default() };
        s.tasks(ada, &ListProjectTasks::parse(params, Scope::Team(team), ada.id).unwrap()).unwrap().items
    };
    // Priority by rank (urgent > high > medium > low), not by name; ties newest first
    // under a descending sort, by id.
    let urgent_first = read("-priority");
    let ranks: Vec<Priority> = urgent_first.iter().map(|t| t.priority).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
    for pair in urgent_first.windows(2).filter(|w| w[0].priority == w[1].priority) {
        assert!(pair[0].id > pair[1].id, "ties by id, in the sort's direction");
    }
    // Dated tasks by date; undated ones last either way.
    for sort in ["due_date", "-due_date"] {
        let list = read(sort);
        let dated = list.iter().take_while(|t| t.due_date.is_some()).count();
        assert_eq!(dated, tasks.iter().filter(|t| t.due_date.is_some()).count(), "{sort}: undated last");
        let dates: Vec<_> = list[..dated].iter().map(|t| t.due_date.unwrap()).collect();
        let ascending = sort == "due_date";
        assert!(dates.windows(2).all(|w| if ascending { w[0] <= w[1] } else { w[0] >= w[1] }), "{sort}: {dates:?}");
    }
    // Newest first by default.
    let newest: Vec<Uuid> = read("-created_at").iter().map(|t| t.id).collect();
    let params = ListProjectTasksParams { limit: Some("200".into()), ..Default::default() };
    let default: Vec<Uuid> = s
        .tasks(ada, &ListProjectTasks::parse(params, Scope::Team(team), ada.id).unwrap())
        .unwrap()
        .items
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(default, newest);
    let mut by_creation: Vec<Uuid> = tasks.iter().map(|t| t.id).collect();
    by_creation.reverse();
    assert_eq!(newest, by_creation);
}

#[test]
fn cursors_and_filters_are_checked() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let (team, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    let other = s.create_project(ada, team, named("Two")).unwrap().id;
    seed(s, ada, bob, [project, other]);
    let params = |status: &str, cursor: Option<String>| ListProjectTasksParams {
        status: Some(status.into()),
        limit: Some("2".into()),
        cursor,
        ..Default::default()
    };
    let first =
        s.tasks(ada, &ListProjectTasks::parse(params("todo", None), Scope::Team(team), ada.id).unwrap()).unwrap();
    let cursor = first.next_cursor.expect("more than one page");
    // A cursor continues its own list only: not under another filter, nor another scope.
    assert_eq!(
        fields(
            ListProjectTasks::parse(params("done", Some(cursor.clone())), Scope::Team(team), ada.id)
                .and_then(|q| s.tasks(ada, &q))
        ),
        ["cursor"]
    );
    let elsewhere = ListProjectTasks::parse(params("todo", Some(cursor.clone())), Scope::Project(project), ada.id);
    assert_eq!(status(elsewhere.and_then(|q| s.tasks(ada, &q))), 422);
    // `assignee=me` is the caller; every bad parameter is named at once.
    let me = ListProjectTasksParams { assignee: Some("me".into()), limit: Some("200".into()), ..Default::default() };
    let mine = s.tasks(bob, &ListProjectTasks::parse(me, Scope::Team(team), bob.id).unwrap()).unwrap().items;
    assert!(!mine.is_empty() && mine.iter().all(|t| t.assignee.as_ref().is_some_and(|a| a.id == bob.id)));
    let bad = ListProjectTasksParams {
        status: Some("open".into()),
        priority: Some("High".into()),
        assignee: Some("him".into()),
        sort: Some("rank".into()),
        ..Default::default()
    };
    assert_eq!(
        fields(ListProjectTasks::parse(bad, Scope::Team(team), ada.id)),
        ["sort", "status", "priority", "assignee"]
    );
    // `count=true` answers how many match over all pages.
    let counted = ListProjectTasksParams { count: Some("true".into()), ..params("todo", None) };
    let page = s.tasks(ada, &ListProjectTasks::parse(counted, Scope::Team(team), ada.id).unwrap()).unwrap();
    assert_eq!(page.total, Some(5), "{page:?}");
}
