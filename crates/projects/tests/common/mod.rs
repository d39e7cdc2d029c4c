//! What the projects crate's integration tests share: the service on the engine the
//! environment chooses (`CORKBOARD_TEST_BACKEND`, see `storage::testing`), users, a team
//! to work in, and short ways to read results.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;

use activity_log::{ActivityEntry, ActivityLog, FeedParams, FeedQuery, InProcessPublisher};
use core_models::pagination::IdPaging;
use core_models::{AppResult, Caller};
use projects::{DbProjects, NewMember, NewProjectTask, NewTeam, ProjectService, ProjectTask};
use storage::TestDb;
use uuid::Uuid;

/// A fresh database, the service over it (as the trait a library user holds) and users
/// named `names`.
pub fn setup(names: &[&str]) -> (TestDb, Arc<dyn ProjectService>, Vec<Caller>) {
    let db = storage::test_pool();
    let log = ActivityLog::new(Arc::new(InProcessPublisher::default()));
    let service: Arc<dyn ProjectService> = Arc::new(DbProjects::new(db.database(), log));
    let people = storage::testing::users(&db, &names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    (db, service, people)
}

/// A team made by `admin` with `members` added as members, and one project in it.
pub fn team_with(service: &dyn ProjectService, admin: &Caller, members: &[&Caller]) -> (Uuid, Uuid) {
    let team = service.create_team(admin, named("Platform")).unwrap().id;
    for member in members {
        service.add_member(admin, team, NewMember { user_id: member.id.to_string(), role: None }).unwrap();
    }
    let project = service.create_project(admin, team, named("Launch")).unwrap().id;
    (team, project)
}

/// A name without a description (the body of a new team or project).
pub fn named(name: &str) -> NewTeam {
    NewTeam { name: name.into(), description: None }
}

/// A task titled `title` in `project`, made by `caller`.
pub fn task(service: &dyn ProjectService, caller: &Caller, project: Uuid, title: &str) -> ProjectTask {
    service.create_task(caller, project, NewProjectTask { title: title.into(), ..NewProjectTask::default() }).unwrap()
}

/// The status of a failed call; panics when it succeeded.
pub fn status<T: std::fmt::Debug>(result: AppResult<T>) -> u16 {
    result.expect_err("the call must fail").status_code()
}

/// The fields a 422 names, in order; panics on anything but a 422.
pub fn fields<T: std::fmt::Debug>(result: AppResult<T>) -> Vec<String> {
    let err = result.expect_err("the call must fail");
    assert_eq!(err.status_code(), 422, "{err:?}");
    err.field_errors().iter().map(|e| e.field.clone()).collect()
}

/// A first page of up to 200 rows of an id-ordered list.
pub fn first_page() -> IdPaging {
    IdPaging::first(200)
}

/// A feed query for up to 200 entries, with `params`' filters.
pub fn feed_query(params: FeedParams) -> FeedQuery {
    FeedQuery::parse(FeedParams { limit: Some("200".into()), ..params }).unwrap()
}

/// The team's whole activity, newest first, as `caller` reads it.
pub fn activity(service: &dyn ProjectService, caller: &Caller, team: Uuid) -> Vec<ActivityEntry> {
    service.team_activity(caller, team, &feed_query(FeedParams::default())).unwrap().items
}

/// The actions of `entries`, in their order.
pub fn actions(entries: &[ActivityEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.action.as_str()).collect()
}
