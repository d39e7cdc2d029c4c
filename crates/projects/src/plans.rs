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
        IdPaging::parse("plan", &(), None, Some(&raw)).unwrap_or_else(|_| IdPaging::first(50))
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

/// PostgreSQL: the plans of every projects list on a seeded, analysed database.
mod postgres {
    use super::*;
    use crate::list::{list_query, params_of, ListProjectTasks, Scope, TaskSort};
    use crate::row::TaskRow;
    use core_models::sort::SortField as _;
    use diesel::RunQueryDsl as _;

    /// The id of the `i`th seeded row of a `kind` (a digit): valid UUIDs, in seeding order.
    fn id(kind: u8, i: u32) -> Uuid {
        Uuid::parse_str(&format!("00000000-0000-7000-8{kind}00-{i:012}")).unwrap()
    }

    /// `id` in SQL, of an integer expression `i`.
    fn sql_id(kind: u8, i: &str) -> String {
        format!("('00000000-0000-7000-8{kind}00-' || lpad(({i})::text, 12, '0'))")
    }

    const USER: u8 = 0;
    const TEAM: u8 = 1;
    const PROJECT: u8 = 2;
    const TASK: u8 = 3;

    /// 3,000 users; team 1 with users 1–2,000, 1,000 projects (a quarter archived) and 3,000
    /// invites (some revoked, some expired); 20 small teams of 150 members, 101 projects
    /// and 150 invites each, user 1 in five of them (team 1 a third to a half of each
    /// table, as one tenant among others). 20,000
    /// tasks: 80% in team 1 (half of those in project 1, the rest over projects 2–50), the
    /// rest in the small teams; every status and priority, a fifth unassigned, the others
    /// assigned to users 1–20, due dates from mid-2025 to late 2027 (a fifth undated),
    /// created an hour apart; "launch" in 90% of them, "rarely" in 0.05%, plus one of 640
    /// filler words. 3,000 comments on task 1 and one on each of the others. Board,
    /// status, priority, assignee, due date and words are unrelated to each other (`h`
    /// and `g`, two hashes of the task's number).
    fn seed() -> String {
        let (user, team, project, task) = (
            |i: &str| sql_id(USER, i),
            |i: &str| sql_id(TEAM, i),
            |i: &str| sql_id(PROJECT, i),
            |i: &str| sql_id(TASK, i),
        );
        format!(
            "INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at)
             SELECT {u}, 'u' || i || '@x.io', 'u' || i || '@x.io', (ARRAY['Ada', 'Bob', 'Cy', 'Dee'])[1 + i % 4] || ' ' || i, 'h', 0
               FROM generate_series(1, 3000) AS i;
             INSERT INTO teams (id, name, description, created_at, updated_at)
             SELECT {t}, 'Team ' || i, NULL, 0, 0 FROM generate_series(1, 21) AS i;
             INSERT INTO team_members (team_id, user_id, role, joined_at)
             SELECT {t1}, {u}, CASE WHEN i = 1 THEN 1 ELSE 0 END, i FROM generate_series(1, 2000) AS i;
             INSERT INTO team_members (team_id, user_id, role, joined_at)
             SELECT {tt}, {uu}, 0, 0 FROM generate_series(2, 21) AS t, generate_series(1, 150) AS j;
             INSERT INTO team_members (team_id, user_id, role, joined_at)
             SELECT {tt}, {u1}, 1, 0 FROM generate_series(2, 6) AS t;
             INSERT INTO projects (id, team_id, name, description, archived, created_at, updated_at)
             SELECT {p}, {t1}, 'Project ' || i, NULL, i % 4 = 0, i, i FROM generate_series(1, 1000) AS i;
             INSERT INTO projects (id, team_id, name, description, archived, created_at, updated_at)
             SELECT {pt}, {tt}, 'Project', NULL, false, 0, 0 FROM generate_series(2, 21) AS t;
             INSERT INTO projects (id, team_id, name, description, archived, created_at, updated_at)
             SELECT {pj}, {tt}, 'Project', NULL, j % 4 = 0, j, j FROM generate_series(2, 21) AS t, generate_series(1, 100) AS j;
             INSERT INTO team_invites (code_hash, team_id, role, created_by, created_at, expires_at, revoked_at, id)
             SELECT decode(md5(i::text) || md5((-i)::text), 'hex'), {t1}, 0, {u1}, i,
                    CASE WHEN i % 5 = 0 THEN i + 1 ELSE 4000000000000 END, CASE WHEN i % 7 = 0 THEN i END, {inv}
               FROM generate_series(1, 3000) AS i;
             INSERT INTO team_invites (code_hash, team_id, role, created_by, created_at, expires_at, revoked_at, id)
             SELECT decode(md5(t || '-' || j) || md5(j || '-' || t), 'hex'), {tt}, 0, {u1}, j, 4000000000000, NULL, {invj}
               FROM generate_series(2, 21) AS t, generate_series(1, 150) AS j;
             INSERT INTO project_tasks (id, team_id, project_id, title, description, status, priority, due_date,
                                        assignee_id, created_by, created_at, updated_at, version)
             SELECT {task_i},
                    CASE WHEN i % 5 < 4 THEN {t1} ELSE {t_small} END,
                    CASE WHEN i % 5 = 4 THEN {p_small} WHEN h % 2 = 0 THEN {p1} ELSE {p_other} END,
                    CASE WHEN h / 10 % 10 = 0 THEN 'Task ' ELSE 'Launch ' END || (h / 100 % 100000),
                    'f' || (g / 10 % 640) || CASE WHEN h % 2000 = 7 THEN ' rarely' ELSE '' END,
                    i % 3, g % 4,
                    CASE WHEN g / 7 % 5 = 0 THEN NULL ELSE to_char(date '2025-06-01' + (g / 35 % 900)::int, 'YYYY-MM-DD') END,
                    CASE WHEN h / 3 % 5 = 0 THEN NULL ELSE {assignee} END,
                    {u1}, 1733000000000 + i * 3600000, 1733000000000 + i * 3600000 + 1000, 1
               FROM generate_series(1::bigint, 20000) AS i,
                    LATERAL (SELECT i * 2654435761 % 4294967296 AS h, i * 2246822519 % 4294967296 AS g) AS hashes;
             INSERT INTO task_comments (id, task_id, author_id, body, created_at, updated_at)
             SELECT {c}, CASE WHEN i <= 3000 THEN {task1} ELSE {task_c} END, {u1}, 'Comment ' || i, i, i
               FROM generate_series(1, 23000) AS i",
            u = user("i"),
            u1 = user("1"),
            uu = user("(t * 37 + j) % 3000 + 1"),
            t = team("i"),
            t1 = team("1"),
            tt = team("t"),
            p = project("i"),
            pt = project("1000 + t"),
            pj = project("10000 + t * 1000 + j"),
            inv = sql_id(4, "i"),
            invj = sql_id(4, "10000 + t * 1000 + j"),
            task_i = task("i"),
            t_small = team("2 + i / 5 % 20"),
            p_small = project("1002 + i / 5 % 20"),
            p1 = project("1"),
            p_other = project("2 + h / 2 % 49"),
            assignee = user("1 + h / 15 % 20"),
            c = sql_id(5, "i"),
            task1 = task("1"),
            task_c = task("i - 3000"),
        )
    }

    /// Checks the plans of a list in id order ([`storage::plan::id_list_plans`]): no
    /// problem of [`plan_problems`] on `table`, an index read, and a deep page planned.
    fn id_list_plans<Q, R>(
        conn: &mut storage::DbConn,
        list: &str,
        table: &str,
        query: impl Fn(&IdPaging) -> Q,
        id_of: impl Fn(&R) -> &String,
        failures: &mut Vec<String>,
    ) where
        Q: diesel::query_builder::QueryFragment<storage::Backend>
            + diesel::query_dsl::LoadQuery<'static, storage::DbConn, R>,
    {
        let plans = storage::plan::id_list_plans(conn, query, |r| id_of(r).clone()).unwrap();
        assert_eq!(plans.len(), 2, "{list}: more than 200 rows seeded");
        for plan in plans {
            if !plan_problems(&plan, table).is_empty() || !plan.join("\n").contains("Index") {
                failures.push(format!("{list}:\n{}", plan.join("\n")));
            }
        }
    }

    /// Members (all, and by a name prefix a quarter of them share), projects (all,
    /// archived or not), open invites of the big team, and the comments of a task with
    /// 3,000 of them: each walks an index in order (a name prefix's few matches are sorted).
    fn id_lists(conn: &mut storage::DbConn) -> Vec<String> {
        let mut failures = Vec::new();
        let team = id(TEAM, 1);
        let now = core_models::time::to_millis(core_models::time::now());
        for prefix in [None, Some("ada")] {
            let members = |p: &IdPaging| crate::teams::members_query(team, prefix, p);
            id_list_plans(conn, &format!("members {prefix:?}"), "team_members", members, |r| &r.0, &mut failures);
        }
        for archived in [None, Some(true), Some(false)] {
            let projects = |p: &IdPaging| crate::projects::list_query(team, archived, p);
            id_list_plans(conn, &format!("projects {archived:?}"), "projects", projects, |r| &r.0, &mut failures);
        }
        let invites = |p: &IdPaging| crate::teams::invites_query(team, now, p);
        id_list_plans(conn, "invites", "team_invites", invites, |r| &r.0, &mut failures);
        let comments = |p: &IdPaging| crate::comments::list_query(id(TASK, 1), p);
        id_list_plans(conn, "comments", "task_comments", comments, |r| &r.0, &mut failures);
        failures
    }

    /// Every sort and filter of a team's, a project's and (team by team, as
    /// `list_mine` reads it) the caller's task lists, first page and after the 200th
    /// match: an index walk in order, or the full-text index for a rare word; no
    /// sequential scan, no sort of many rows, no walk across most of the team. The other
    /// lists of the crate too ([`id_lists`]), on the same database.
    #[test]
    fn every_list_walks_an_index_on_postgresql() {
        let Some((_db, mut conn)) = storage::testing::analysed_postgres(&seed()) else {
            eprintln!("skipped: not a PostgreSQL run");
            return;
        };
        let mut failures = id_lists(&mut conn);
        let me = id(USER, 1);
        let project_1 = id(PROJECT, 1).to_string();
        let filters: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![("status", "todo")],
            vec![("status", "todo,in_progress"), ("priority", "high,urgent")],
            vec![("priority", "urgent")],
            vec![("assignee", "me")],
            vec![("assignee", "none"), ("status", "todo")],
            vec![("due_from", "2026-01-01"), ("due_to", "2026-12-31")],
            vec![("overdue", "true")],
            vec![("overdue", "false"), ("status", "done")],
            vec![("q", "launch")],
            vec![("q", "laun"), ("status", "todo")],
            vec![("q", "rarely")],
            vec![("project_id", &project_1), ("assignee", "me")],
            vec![("project_id", &project_1)],
            vec![("include_archived", "true"), ("status", "done")],
            vec![("due_to", "2026-12-31"), ("overdue", "true")],
        ];
        let today = core_models::time::now().date_naive();
        let mut deep_pages = 0;
        for scope in [Scope::Team(id(TEAM, 1)), Scope::Project(id(PROJECT, 1)), Scope::Mine(me)] {
            for field in TaskSort::ALL {
                for sort in [field.name().to_string(), format!("-{}", field.name())] {
                    for pairs in &filters {
                        let team_only = |k: &str| k == "project_id" || k == "include_archived";
                        if matches!(scope, Scope::Project(_)) && pairs.iter().any(|(k, _)| team_only(k)) {
                            continue;
                        }
                        let params = params_of(&sort, pairs);
                        let parsed = match scope {
                            Scope::Mine(_) => {
                                let mine = crate::list::MyTasksParams {
                                    status: params.status.clone(),
                                    priority: params.priority.clone(),
                                    assignee: params.assignee.clone(),
                                    due_from: params.due_from.clone(),
                                    due_to: params.due_to.clone(),
                                    overdue: params.overdue.clone(),
                                    q: params.q.clone(),
                                    project_id: params.project_id.clone(),
                                    team_id: None,
                                    include_archived: params.include_archived.clone(),
                                    sort: params.sort.clone(),
                                    limit: None,
                                    cursor: None,
                                };
                                ListProjectTasks::parse_mine(mine, me).unwrap()
                            }
                            _ => ListProjectTasks::parse(params, scope, me).unwrap(),
                        };
                        // `list_mine` reads the caller's teams one by one with the team query:
                        // team 1's is planned above, here a small team of the caller's.
                        let first = match scope {
                            Scope::Mine(_) => ListProjectTasks { scope: Scope::Team(id(TEAM, 2)), ..parsed },
                            _ => parsed,
                        };
                        {
                            let search =
                                |conn: &mut storage::DbConn, query: &ListProjectTasks| {
                                    query.filter.search.as_ref().map(|terms| {
                                        storage::search::PROJECT_TASKS.search(conn, terms).unwrap().unwrap()
                                    })
                                };
                            let mut long = first.clone();
                            long.page.limit = 200;
                            let s = search(&mut conn, &long);
                            let rows: Vec<TaskRow> =
                                list_query(&long, today, s.as_ref()).unwrap().load(&mut *conn).unwrap();
                            let deep = crate::row::tasks_of(rows).unwrap().into_iter().nth(199).map(|last| {
                                let mut next = first.clone();
                                let cursor = first.page.cursor_for(&first.sort.canonical(), first.keys_of(&last));
                                next.page = first.page.continued(&cursor).unwrap();
                                next
                            });
                            deep_pages += usize::from(deep.is_some());
                            for (page, query) in [("first page", Some(first)), ("deep page", deep)] {
                                let Some(query) = query else { continue };
                                let s = search(&mut conn, &query);
                                let plan =
                                    query_plan(&mut conn, list_query(&query, today, s.as_ref()).unwrap()).unwrap();
                                let joined = plan.join("\n");
                                // In team 1 a rare word is found by the full-text index.
                                let rare = pairs.contains(&("q", "rarely")) && !matches!(scope, Scope::Mine(_));
                                let ok = plan_problems(&plan, "project_tasks").is_empty()
                                    && joined.contains("Index Scan")
                                    && (!rare || joined.contains("Bitmap Index Scan on project_tasks_search"));
                                if !ok {
                                    let team = query.scope;
                                    failures.push(format!(
                                        "{scope:?} ({team:?}) sort={sort} {pairs:?} ({page}):\n{joined}"
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(deep_pages > 300, "most lists have a deep page ({deep_pages})");
        assert!(
            failures.is_empty(),
            "{} plans without an ordered index walk:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
