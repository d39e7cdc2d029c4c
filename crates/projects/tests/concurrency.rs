//! The team rules a single writer used to guarantee, under concurrent writes (issue 16,
//! point 4). On PostgreSQL the writes of each test are held open together
//! (`storage::Interleaving`): both read before either commits, the interleaving that
//! breaks a check-then-write rule unless the database serialises it. On SQLite the same
//! tests run one write after the other and must give the same answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use activity_log::{ActivityLog, InProcessPublisher};
use core_models::pagination::IdPaging;
use core_models::{AppResult, Caller};
use projects::{DbProjects, MemberChanges, NewMember, NewTeam, ProjectService, Role};
use storage::{at_once, TestDb};
use uuid::Uuid;

/// A team of two admins, Ada and Bob.
fn two_admins() -> (TestDb, Arc<DbProjects>, Uuid, Caller, Caller) {
    let db = storage::test_pool();
    let service = Arc::new(DbProjects::new(db.database(), ActivityLog::new(Arc::new(InProcessPublisher::default()))));
    let [ada, bob]: [Caller; 2] = storage::testing::users(&db, &["Ada".into(), "Bob".into()]).try_into().unwrap();
    let team = service.create_team(&ada, NewTeam { name: "T".into(), description: None }).unwrap().id;
    service.add_member(&ada, team, NewMember { user_id: bob.id.to_string(), role: Some("admin".into()) }).unwrap();
    (db, service, team, ada, bob)
}

fn admins(service: &DbProjects, caller: &Caller, team: Uuid) -> usize {
    let members = service.members(caller, team, None, &IdPaging::first(50)).unwrap();
    members.items.iter().filter(|m| m.role == Role::Admin).count()
}

/// Exactly one of two results is Ok; the other is the 409 of the last admin.
fn one_wins<T: std::fmt::Debug>(results: &[AppResult<T>]) -> usize {
    let winner = results.iter().position(Result::is_ok).expect("one of them wins");
    let loser = &results[1 - winner];
    assert_eq!(loser.as_ref().unwrap_err().status_code(), 409, "{results:?}");
    winner
}

#[test]
fn two_admins_demoting_themselves_at_once_leave_one_admin() {
    let (db, service, team, ada, bob) = two_admins();
    let demote = |who: &Caller| -> Box<dyn FnOnce() -> AppResult<projects::Member> + Send> {
        let (service, who) = (service.clone(), who.clone());
        Box::new(move || service.change_role(&who, team, who.id, MemberChanges { role: "member".into() }))
    };
    let results = at_once(&db, vec![demote(&ada), demote(&bob)]);
    let winner = one_wins(&results);
    let still_admin = if winner == 0 { &bob } else { &ada };
    assert_eq!(admins(&service, still_admin, team), 1);
}

#[test]
fn two_admins_leaving_at_once_leave_one_admin() {
    let (db, service, team, ada, bob) = two_admins();
    let leave = |who: &Caller| -> Box<dyn FnOnce() -> AppResult<()> + Send> {
        let (service, who) = (service.clone(), who.clone());
        Box::new(move || service.remove_member(&who, team, who.id))
    };
    let results = at_once(&db, vec![leave(&ada), leave(&bob)]);
    let winner = one_wins(&results);
    let stayed = if winner == 0 { &bob } else { &ada };
    assert_eq!(admins(&service, stayed, team), 1);
}

#[test]
fn an_admin_demoting_the_other_while_being_demoted_leaves_one_admin() {
    let (db, service, team, ada, bob) = two_admins();
    let demote = |who: &Caller, whom: Uuid| -> Box<dyn FnOnce() -> AppResult<projects::Member> + Send> {
        let (service, who) = (service.clone(), who.clone());
        Box::new(move || service.change_role(&who, team, whom, MemberChanges { role: "member".into() }))
    };
    let results = at_once(&db, vec![demote(&ada, bob.id), demote(&bob, ada.id)]);
    // The loser is no longer an admin when it runs again: 404 or 403 is as good as 409.
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let winner = if results[0].is_ok() { &ada } else { &bob };
    assert_eq!(admins(&service, winner, team), 1);
}
