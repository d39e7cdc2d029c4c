//! Query-plan tests of the lists outside `list.rs`: member search, projects by archived
//! state, open invites. Each walks an index led by the team and never scans a table; only a
//! member search sorts, and only its matches. Also: the search follows renames.

use core_models::pagination::{encode_cursor, CursorValue, IdPaging};
use storage::plan::{plan_problems, query_plan};
use uuid::Uuid;

fn paging(cursor: bool) -> IdPaging {
    if cursor {
        // A continued page (the binding is not checked here: no cursor is read).
        let id = Uuid::now_v7().to_string();
        let raw = encode_cursor("id", vec![CursorValue::Text(id.clone()), CursorValue::Text(id)]);
        IdPaging::parse("plan", &(), None, Some(&raw), None).unwrap_or_else(|_| IdPaging::first(50))
    } else {
        IdPaging::first(50)
    }
}

#[test]
fn member_search_archived_projects_and_invites_walk_team_indexes() {
    let db = storage::test_pool_sqlite();
    let mut conn = db.read().unwrap();
    let team = Uuid::now_v7();
    for cursor in [false, true] {
        let page = paging(cursor);
        let plan = query_plan(&mut conn, crate::teams::members_query(team, Some("Ada"), &page)).unwrap();
        assert!(
            plan.iter().any(|s| s.contains("team_members_by_name (team_id=? AND name_key>? AND name_key<?)")),
            "{plan:#?}"
        );
        // Only the matches are put in user-id order (a prefix picks few of a team's members).
        assert!(!plan.iter().any(|s| s.starts_with("SCAN")), "{plan:#?}");
        let plan = query_plan(&mut conn, crate::teams::members_query(team, None, &page)).unwrap();
        assert!(plan_problems(&plan, "team_members").is_empty(), "{plan:#?}");
        for archived in [None, Some(true), Some(false)] {
            let plan = query_plan(&mut conn, crate::projects::list_query(team, archived, &page)).unwrap();
            assert!(plan_problems(&plan, "projects").is_empty(), "{archived:?}: {plan:#?}");
            if archived.is_some() {
                assert!(plan.iter().any(|s| s.contains("projects_by_team_archived")), "{plan:#?}");
            }
        }
        let plan = query_plan(&mut conn, crate::teams::invites_query(team, 0, &page)).unwrap();
        assert!(plan.iter().any(|s| s.contains("team_invites_by_id")), "{plan:#?}");
        assert!(plan_problems(&plan, "team_invites").is_empty(), "{plan:#?}");
    }
}

/// Member search follows renames: the `users` trigger keeps `name_key` in step.
#[test]
fn member_search_finds_a_renamed_user_by_the_new_name() {
    use crate::{NewMember, NewTeam, ProjectService, SqliteProjects};
    use activity_log::{ActivityLog, InProcessPublisher};
    use core_models::Caller;
    use diesel::RunQueryDsl;

    let db = storage::test_pool_sqlite();
    let (ada, bob) = (Caller::new(Uuid::now_v7(), "Ada"), Caller::new(Uuid::now_v7(), "Bob"));
    for who in [&ada, &bob] {
        let (id, name) = (who.id.to_string(), who.display_name.clone());
        db.write(move |c| {
            diesel::sql_query(format!("INSERT INTO users VALUES ('{id}', '{id}@x.io', '{id}@x.io', '{name}', 'h', 0)"))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
    }
    let service =
        SqliteProjects::new(db.database(), ActivityLog::new(std::sync::Arc::new(InProcessPublisher::default())));
    let team = service.create_team(&ada, NewTeam { name: "T".into(), description: None }).unwrap();
    service.add_member(&ada, team.id, NewMember { user_id: bob.id.to_string(), role: None }).unwrap();
    let names = |prefix: &str| -> Vec<String> {
        let page = service.members(&ada, team.id, Some(prefix), &IdPaging::first(50)).unwrap();
        page.items.into_iter().map(|m| m.user.display_name).collect()
    };
    assert_eq!(names("bo"), ["Bob"]);
    let id = bob.id.to_string();
    db.write(move |c| {
        diesel::sql_query(format!("UPDATE users SET display_name = 'Robert' WHERE id = '{id}'")).execute(c)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(names("ROB"), ["Robert"]);
    assert!(names("bo").is_empty());
}
