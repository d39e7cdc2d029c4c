//! Teams, members, roles and invites through [`ProjectService`]: who may see a team (a
//! stranger is told nothing, not even that it exists), who may manage it, the admin a
//! team always keeps, and invite codes that work until they are revoked or expire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fields, first_page, named, setup, status, task, team_with};
use core_models::version::IfMatch;
use projects::{
    ListProjectTasks, ListProjectTasksParams, MemberChanges, NamedChanges, NewInvite, NewMember, NewProjectTask,
    ProjectTaskChanges, Role, Scope, TaskCommentBody, INVITE_DAYS,
};
use uuid::Uuid;

fn member(user: Uuid, role: Option<&str>) -> NewMember {
    NewMember { user_id: user.to_string(), role: role.map(str::to_string) }
}

fn role(role: &str) -> MemberChanges {
    MemberChanges { role: role.into() }
}

#[test]
fn creating_a_team_makes_the_creator_its_only_admin() {
    let (_db, service, people) = setup(&["Ada", "Bob"]);
    let (ada, bob) = (&people[0], &people[1]);
    let team = service.create_team(ada, named("Platform")).unwrap();
    assert_eq!((team.name.as_str(), team.my_role), ("Platform", Role::Admin));
    let members = service.members(ada, team.id, None, &first_page()).unwrap().items;
    let listed: Vec<(Uuid, Role)> = members.iter().map(|m| (m.user.id, m.role)).collect();
    assert_eq!(listed, [(ada.id, Role::Admin)]);
    assert_eq!(service.team(ada, team.id).unwrap().my_role, Role::Admin);
    let mine: Vec<Uuid> = service.my_teams(ada, &first_page()).unwrap().items.iter().map(|t| t.id).collect();
    assert_eq!(mine, [team.id]);
    assert!(service.my_teams(bob, &first_page()).unwrap().items.is_empty(), "not Bob's team");
    // The rules of the name hold at creation.
    assert_eq!(fields(service.create_team(ada, named("   "))), ["name"]);
}

#[test]
fn strangers_get_not_found_for_everything_of_a_team() {
    let (_db, service, people) = setup(&["Ada", "Bob", "Eve"]);
    let (ada, bob, eve) = (&people[0], &people[1], &people[2]);
    let (team, project) = team_with(service.as_ref(), ada, &[bob]);
    let t = task(service.as_ref(), bob, project, "t");
    let comment = service.create_comment(bob, project, t.id, TaskCommentBody { body: "hi".into() }).unwrap();
    let s = service.as_ref();
    let feed = common::feed_query(Default::default());
    let list = |scope| ListProjectTasks::parse(ListProjectTasksParams::default(), scope, eve.id).unwrap();
    let results: Vec<(&str, u16)> = vec![
        ("team", status(s.team(eve, team))),
        ("update team", status(s.update_team(eve, team, NamedChanges::default()))),
        ("delete team", status(s.delete_team(eve, team))),
        ("members", status(s.members(eve, team, None, &first_page()))),
        ("add member", status(s.add_member(eve, team, member(eve.id, None)))),
        ("change role", status(s.change_role(eve, team, bob.id, role("admin")))),
        ("remove member", status(s.remove_member(eve, team, bob.id))),
        ("leave", status(s.remove_member(eve, team, eve.id))),
        ("invite", status(s.create_invite(eve, team, NewInvite::default()))),
        ("invites", status(s.invites(eve, team, &first_page()))),
        ("create project", status(s.create_project(eve, team, named("x")))),
        ("projects", status(s.projects(eve, team, None, &first_page()))),
        ("project", status(s.project(eve, project))),
        ("update project", status(s.update_project(eve, project, NamedChanges::default()))),
        ("delete project", status(s.delete_project(eve, project))),
        (
            "create task",
            status(s.create_task(eve, project, NewProjectTask { title: "x".into(), ..Default::default() })),
        ),
        ("team tasks", status(s.tasks(eve, &list(Scope::Team(team))))),
        ("project tasks", status(s.tasks(eve, &list(Scope::Project(project))))),
        ("task", status(s.task(eve, project, t.id))),
        ("update task", status(s.update_task(eve, project, t.id, ProjectTaskChanges::default(), IfMatch::Any))),
        ("delete task", status(s.delete_task(eve, project, t.id, IfMatch::Any))),
        ("comment", status(s.create_comment(eve, project, t.id, TaskCommentBody { body: "x".into() }))),
        ("comments", status(s.comments(eve, project, t.id, &first_page()))),
        (
            "edit comment",
            status(s.update_comment(eve, project, t.id, comment.id, TaskCommentBody { body: "x".into() })),
        ),
        ("delete comment", status(s.delete_comment(eve, project, t.id, comment.id))),
        ("team activity", status(s.team_activity(eve, team, &feed))),
        ("task activity", status(s.task_activity(eve, project, t.id, &feed))),
        ("watch", status(s.watch(eve, team, None).map(|_| ()))),
    ];
    for (what, code) in results {
        assert_eq!(code, 404, "{what}: a stranger learns nothing about the team");
    }
    // Eve's own list of every team's tasks simply has none of them.
    let mine = ListProjectTasks::parse_mine(Default::default(), eve.id).unwrap();
    assert!(s.tasks(eve, &mine).unwrap().items.is_empty());
    // Nothing changed for the members.
    assert_eq!(s.members(ada, team, None, &first_page()).unwrap().items.len(), 2);
    assert_eq!(s.task(bob, project, t.id).unwrap().version, 1);
}

#[test]
fn members_read_and_work_but_only_admins_manage() {
    let (_db, service, people) = setup(&["Ada", "Bob", "Cat"]);
    let (ada, bob, cat) = (&people[0], &people[1], &people[2]);
    let (team, project) = team_with(service.as_ref(), ada, &[bob]);
    let s = service.as_ref();
    // Bob, a member, reads and works...
    assert_eq!(s.team(bob, team).unwrap().my_role, Role::Member);
    assert_eq!(s.members(bob, team, None, &first_page()).unwrap().items.len(), 2);
    assert_eq!(s.projects(bob, team, None, &first_page()).unwrap().items.len(), 1);
    task(s, bob, project, "mine");
    // ...but does not manage.
    let invite = s.create_invite(ada, team, NewInvite::default()).unwrap();
    let results: Vec<(&str, u16)> = vec![
        (
            "update team",
            status(s.update_team(bob, team, NamedChanges { name: Some(Some("x".into())), ..Default::default() })),
        ),
        ("delete team", status(s.delete_team(bob, team))),
        ("add member", status(s.add_member(bob, team, member(cat.id, None)))),
        ("promote self", status(s.change_role(bob, team, bob.id, role("admin")))),
        ("demote admin", status(s.change_role(bob, team, ada.id, role("member")))),
        ("remove admin", status(s.remove_member(bob, team, ada.id))),
        ("invite", status(s.create_invite(bob, team, NewInvite::default()))),
        ("invites", status(s.invites(bob, team, &first_page()))),
        ("revoke", status(s.revoke_invite(bob, team, invite.id.to_string()))),
        ("create project", status(s.create_project(bob, team, named("x")))),
        (
            "archive",
            status(s.update_project(bob, project, NamedChanges { archived: Some(true), ..Default::default() })),
        ),
        ("delete project", status(s.delete_project(bob, project))),
    ];
    for (what, code) in results {
        assert_eq!(code, 403, "{what}: a member is not an admin");
    }
    assert_eq!(s.team(ada, team).unwrap().name, "Platform");
    assert_eq!(s.members(ada, team, None, &first_page()).unwrap().items.len(), 2);
    assert!(!s.project(ada, project).unwrap().archived);
    assert_eq!(s.invites(ada, team, &first_page()).unwrap().items.len(), 1, "the invite is still open");
    // A member may leave on their own.
    s.remove_member(bob, team, bob.id).unwrap();
    assert_eq!(status(s.team(bob, team)), 404);
}

#[test]
fn roles_change_but_a_team_keeps_an_admin() {
    let (_db, service, people) = setup(&["Ada", "Bob", "Cat"]);
    let (ada, bob, cat) = (&people[0], &people[1], &people[2]);
    let (team, _) = team_with(service.as_ref(), ada, &[]);
    let s = service.as_ref();
    // The only admin can neither step down nor leave.
    assert_eq!(status(s.change_role(ada, team, ada.id, role("member"))), 409);
    assert_eq!(status(s.remove_member(ada, team, ada.id)), 409);
    // Adding: once, a known user, a known role.
    let added = s.add_member(ada, team, member(bob.id, Some("admin"))).unwrap();
    assert_eq!((added.user.id, added.role, added.user.display_name.as_str()), (bob.id, Role::Admin, "Bob"));
    assert_eq!(status(s.add_member(ada, team, member(bob.id, None))), 409);
    assert_eq!(fields(s.add_member(ada, team, member(Uuid::now_v7(), None))), ["user_id"]);
    assert_eq!(fields(s.add_member(ada, team, member(cat.id, Some("owner")))), ["role"]);
    assert_eq!(fields(s.change_role(ada, team, bob.id, role("owner"))), ["role"]);
    assert_eq!(status(s.change_role(ada, team, cat.id, role("admin"))), 404, "Cat is no member");
    // With a second admin, Bob demotes Ada, who then manages nothing.
    assert_eq!(s.change_role(bob, team, ada.id, role("member")).unwrap().role, Role::Member);
    assert_eq!(s.team(ada, team).unwrap().my_role, Role::Member);
    assert_eq!(status(s.add_member(ada, team, member(cat.id, None))), 403);
    // Bob is now the last admin: he cannot demote himself or leave.
    assert_eq!(status(s.change_role(bob, team, bob.id, role("member"))), 409);
    assert_eq!(status(s.remove_member(bob, team, bob.id)), 409);
    let admins: Vec<Uuid> = s
        .members(bob, team, None, &first_page())
        .unwrap()
        .items
        .iter()
        .filter(|m| m.role == Role::Admin)
        .map(|m| m.user.id)
        .collect();
    assert_eq!(admins, [bob.id]);
    // An admin removes a member, who then is a stranger.
    s.remove_member(bob, team, ada.id).unwrap();
    assert_eq!(status(s.team(ada, team)), 404);
    assert_eq!(status(s.remove_member(bob, team, ada.id)), 404, "removed once");
}

#[test]
fn members_filter_by_name_prefix_and_page_without_gaps() {
    let (_db, service, people) = setup(&["Ada", "Adam", "Bob", "adele", "Cat"]);
    let s = service.as_ref();
    let admin = &people[4];
    let team = s.create_team(admin, named("T")).unwrap().id;
    for p in &people[..4] {
        s.add_member(admin, team, member(p.id, None)).unwrap();
    }
    let mut names: Vec<String> = s
        .members(admin, team, Some("ad"), &first_page())
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.user.display_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Ada", "Adam", "adele"], "any case");
    // Pages of two: every member once, in user-id order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let paging =
            core_models::pagination::IdPaging::parse("team-members", &team, Some("2"), cursor.as_deref(), None)
                .unwrap();
        let page = s.members(admin, team, None, &paging).unwrap();
        seen.extend(page.items.iter().map(|m| m.user.id));
        assert!(seen.len() <= 100, "the pages never end");
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn invites_let_people_join_once_until_revoked_or_expired() {
    let (db, service, people) = setup(&["Ada", "Bob", "Cat", "Dan"]);
    let (ada, bob, cat, dan) = (&people[0], &people[1], &people[2], &people[3]);
    let (team, _) = team_with(service.as_ref(), ada, &[]);
    let s = service.as_ref();
    let invite = s.create_invite(ada, team, NewInvite::default()).unwrap();
    assert_eq!(invite.role, Role::Member);
    assert!(invite.code.len() >= 22, "at least 128 bits");
    let days = (invite.expires_at - chrono::Utc::now()).num_hours();
    assert!((INVITE_DAYS * 24 - 1..=INVITE_DAYS * 24).contains(&days), "expires in {INVITE_DAYS} days: {days} h");
    // Bob joins as a member; accepting again changes nothing.
    let joined = s.accept_invite(bob, invite.code.clone()).unwrap();
    assert_eq!((joined.id, joined.my_role), (team, Role::Member));
    let before = common::activity(s, ada, team).len();
    assert_eq!(s.accept_invite(bob, invite.code.clone()).unwrap().my_role, Role::Member);
    assert_eq!(common::activity(s, ada, team).len(), before, "no second member.added");
    // An admin accepting a member invite stays admin.
    assert_eq!(s.accept_invite(ada, invite.code.clone()).unwrap().my_role, Role::Admin);
    assert_eq!(s.members(ada, team, None, &first_page()).unwrap().items.len(), 2);
    // Unknown codes are refused.
    assert_eq!(status(s.accept_invite(cat, "not-a-code".into())), 404);
    // Revoked: refused; revoking again is 404; the list no longer shows it.
    let open: Vec<Uuid> = s.invites(ada, team, &first_page()).unwrap().items.iter().map(|i| i.id).collect();
    assert_eq!(open, [invite.id]);
    s.revoke_invite(ada, team, invite.id.to_string()).unwrap();
    assert_eq!(status(s.accept_invite(cat, invite.code.clone())), 404);
    assert_eq!(status(s.revoke_invite(ada, team, invite.id.to_string())), 404);
    assert!(s.invites(ada, team, &first_page()).unwrap().items.is_empty());
    // Revoking by the code (as before invites had ids) works too.
    let by_code = s.create_invite(ada, team, NewInvite::default()).unwrap();
    s.revoke_invite(ada, team, by_code.code.clone()).unwrap();
    assert_eq!(status(s.accept_invite(cat, by_code.code)), 404);
    // Expired: refused like an unknown code, and left out of the list.
    let admin_invite =
        s.create_invite(ada, team, NewInvite { role: Some("admin".into()), expires_in_days: Some(1) }).unwrap();
    let expiring = s.create_invite(ada, team, NewInvite { role: None, expires_in_days: Some(1) }).unwrap();
    let expiring_id = expiring.id.to_string();
    db.write(move |tx| {
        use diesel::RunQueryDsl as _;
        storage::sql::sql("UPDATE team_invites SET created_at = 0, expires_at = 1 WHERE id = ")
            .bind_text(expiring_id.clone())
            .untyped()
            .execute(tx.conn())?;
        Ok(())
    })
    .unwrap();
    assert_eq!(status(s.accept_invite(cat, expiring.code)), 404);
    let open: Vec<Uuid> = s.invites(ada, team, &first_page()).unwrap().items.iter().map(|i| i.id).collect();
    assert_eq!(open, [admin_invite.id]);
    // The role an invite grants is the one it was made with.
    assert_eq!(s.accept_invite(dan, admin_invite.code).unwrap().my_role, Role::Admin);
    assert_eq!(status(s.team(cat, team)), 404, "Cat never got in");
    // Lifetimes are 1 to 30 days; roles are known ones.
    let bad = NewInvite { role: Some("owner".into()), expires_in_days: Some(31) };
    assert_eq!(fields(s.create_invite(ada, team, bad)), ["role", "expires_in_days"]);
}
