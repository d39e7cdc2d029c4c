//! What frontend teams hit on team projects (issue 18): invites by id, member search,
//! archived projects, `GET /me/tasks`, complete `task.created` details with names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{ok, send, spawn_app, user, Response, TestApp, User};

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> Response {
    let headers = vec![("authorization", who.bearer.as_str())];
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(&app.base, method, path, &headers, body).await
}

fn problem_fields(res: &Response) -> Vec<String> {
    res.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

/// A team of `admin` with `members` added, and its project `project`.
async fn team(app: &TestApp, admin: &User, name: &str, members: &[&User]) -> (String, String) {
    let team = ok(&call(app, admin, Method::POST, "/api/v1/teams", Some(json!({"name": name}))).await, 201);
    let team_id = team["id"].as_str().unwrap().to_string();
    for m in members {
        let path = format!("/api/v1/teams/{team_id}/members");
        ok(&call(app, admin, Method::POST, &path, Some(json!({"user_id": m.id}))).await, 201);
    }
    let project = project(app, admin, &team_id, "Launch").await;
    (team_id, project)
}

async fn project(app: &TestApp, admin: &User, team: &str, name: &str) -> String {
    let path = format!("/api/v1/teams/{team}/projects");
    let project = ok(&call(app, admin, Method::POST, &path, Some(json!({"name": name}))).await, 201);
    project["id"].as_str().unwrap().to_string()
}

async fn task(app: &TestApp, who: &User, project: &str, body: Value) -> Value {
    ok(&call(app, who, Method::POST, &format!("/api/v1/projects/{project}/tasks"), Some(body)).await, 201)
}

fn titles(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect()
}

async fn all_titles(app: &TestApp, who: &User, path: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
            None => format!("{path}{sep}limit=2"),
        };
        let page = ok(&call(app, who, Method::GET, &url, None).await, 200);
        out.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[actix_rt::test]
async fn invites_carry_an_id_are_listed_without_their_code_and_revoked_by_id() {
    let app = spawn_app().await;
    let (admin, member, stranger) = (user(&app, "Ada").await, user(&app, "Grace").await, user(&app, "Eve").await);
    let (team_id, _) = team(&app, &admin, "Squad", &[&member]).await;
    let (other_team, _) = team(&app, &stranger, "Other", &[]).await;
    let path = format!("/api/v1/teams/{team_id}/invites");
    let first = ok(&call(&app, &admin, Method::POST, &path, Some(json!({}))).await, 201);
    let second = ok(&call(&app, &admin, Method::POST, &path, Some(json!({"role": "admin"}))).await, 201);
    let (first_id, second_id) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    assert!(first["code"].is_string() && first_id != second_id);

    let listed = ok(&call(&app, &admin, Method::GET, &path, None).await, 200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], first_id);
    assert_eq!(items[0]["created_by"], json!({"id": admin.id, "display_name": "Ada"}));
    assert_eq!(items[1]["role"], "admin");
    for item in items {
        assert!(item["expires_at"].is_string() && item["created_at"].is_string(), "{item}");
        assert!(item.get("code").is_none(), "never the code: {item}");
    }
    // Admins only; strangers do not learn the team exists.
    assert_eq!(call(&app, &member, Method::GET, &path, None).await.status, 403);
    assert_eq!(call(&app, &stranger, Method::GET, &path, None).await.status, 404);

    // Revoke by id: 404 for another team's invite, an unknown id, or twice.
    let other_path = format!("/api/v1/teams/{other_team}/invites");
    let other = ok(&call(&app, &stranger, Method::POST, &other_path, Some(json!({}))).await, 201);
    let foreign = format!("{path}/{}", other["id"].as_str().unwrap());
    assert_eq!(call(&app, &admin, Method::DELETE, &foreign, None).await.status, 404);
    let unknown = format!("{path}/0190f0e2-7f7e-7b3a-8a55-3d1c7c2a9b10");
    assert_eq!(call(&app, &admin, Method::DELETE, &unknown, None).await.status, 404);
    assert_eq!(call(&app, &member, Method::DELETE, &format!("{path}/{first_id}"), None).await.status, 403);
    ok(&call(&app, &admin, Method::DELETE, &format!("{path}/{first_id}"), None).await, 204);
    assert_eq!(call(&app, &admin, Method::DELETE, &format!("{path}/{first_id}"), None).await.status, 404);
    let listed = ok(&call(&app, &admin, Method::GET, &path, None).await, 200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], second_id);
    // The revoked code no longer joins.
    let accept = format!("/api/v1/invites/{}/accept", first["code"].as_str().unwrap());
    assert_eq!(call(&app, &stranger, Method::POST, &accept, None).await.status, 404);
    // The other team's invite still works.
    let accept = format!("/api/v1/invites/{}/accept", other["code"].as_str().unwrap());
    ok(&call(&app, &admin, Method::POST, &accept, None).await, 200);
}

#[actix_rt::test]
async fn member_search_matches_display_name_prefixes_ignoring_case() {
    let app = spawn_app().await;
    let admin = user(&app, "Zed").await;
    let ada = user(&app, "Ada").await;
    let adam = user(&app, "ADAM").await;
    let bob = user(&app, "Bob").await;
    let outsider = user(&app, "Adalbert").await;
    let (team_id, _) = team(&app, &admin, "Squad", &[&ada, &adam, &bob]).await;
    let _ = outsider;
    let search = |q: &str| format!("/api/v1/teams/{team_id}/members?q={q}");
    let names = |page: &Value| -> Vec<String> {
        let mut names: Vec<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["user"]["display_name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let found = ok(&call(&app, &bob, Method::GET, &search("ada"), None).await, 200);
    assert_eq!(names(&found), ["ADAM", "Ada"], "people outside the team never show");
    let found = ok(&call(&app, &bob, Method::GET, &search("aDaM"), None).await, 200);
    assert_eq!(names(&found), ["ADAM"]);
    let found = ok(&call(&app, &bob, Method::GET, &search("dam"), None).await, 200);
    assert_eq!(names(&found), Vec::<String>::new(), "starts with, not contains");
    let all = ok(&call(&app, &bob, Method::GET, &search("%20"), None).await, 200);
    assert_eq!(names(&all).len(), 4, "blank text: every member");

    // Paging stays within the search, and a cursor of the search is refused elsewhere.
    let first = ok(&call(&app, &bob, Method::GET, &format!("{}&limit=1", search("ad")), None).await, 200);
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = ok(&call(&app, &bob, Method::GET, &format!("{}&cursor={cursor}", search("ad")), None).await, 200);
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert!(next["next_cursor"].is_null());
    let elsewhere = call(&app, &bob, Method::GET, &format!("{}&cursor={cursor}", search("b")), None).await;
    assert_eq!(elsewhere.status, 422);

    let too_long = call(&app, &bob, Method::GET, &search(&"a".repeat(201)), None).await;
    assert_eq!((too_long.status, problem_fields(&too_long)), (422, vec!["q".to_string()]));
    let stranger = call(&app, &outsider, Method::GET, &search("a"), None).await;
    assert_eq!(stranger.status, 404);
}

#[actix_rt::test]
async fn an_archived_project_is_read_only_until_unarchived() {
    let app = spawn_app().await;
    let (admin, member) = (user(&app, "Ada").await, user(&app, "Grace").await);
    let (_, project) = team(&app, &admin, "Squad", &[&member]).await;
    let t = task(&app, &member, &project, json!({"title": "Ship"})).await;
    let task_path = format!("/api/v1/projects/{project}/tasks/{}", t["id"].as_str().unwrap());
    let comment = ok(
        &call(&app, &member, Method::POST, &format!("{task_path}/comments"), Some(json!({"body": "hi"}))).await,
        201,
    );
    let comment_path = format!("{task_path}/comments/{}", comment["id"].as_str().unwrap());
    let project_path = format!("/api/v1/projects/{project}");
    let archived = ok(&call(&app, &admin, Method::PATCH, &project_path, Some(json!({"archived": true}))).await, 200);
    assert_eq!(archived["archived"], true);

    let writes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, format!("/api/v1/projects/{project}/tasks"), Some(json!({"title": "More"}))),
        (Method::PATCH, task_path.clone(), Some(json!({"status": "done"}))),
        (Method::DELETE, task_path.clone(), None),
        (Method::POST, format!("{task_path}/comments"), Some(json!({"body": "again"}))),
        (Method::PATCH, comment_path.clone(), Some(json!({"body": "edited"}))),
        (Method::DELETE, comment_path.clone(), None),
    ];
    for (method, path, body) in &writes {
        let res = call(&app, &member, method.clone(), path, body.clone()).await;
        assert_eq!(res.status, 409, "{method} {path}: {}", String::from_utf8_lossy(&res.body));
        assert_eq!(res.header("content-type").unwrap(), "application/problem+json");
        assert!(res.json()["detail"].as_str().unwrap().contains("archived"), "{}", res.json());
    }
    // Reads still work.
    ok(&call(&app, &member, Method::GET, &task_path, None).await, 200);
    ok(&call(&app, &member, Method::GET, &format!("{task_path}/comments"), None).await, 200);
    // Members cannot unarchive; admins can, and writes work again.
    let res = call(&app, &member, Method::PATCH, &project_path, Some(json!({"archived": false}))).await;
    assert_eq!(res.status, 403);
    ok(&call(&app, &admin, Method::PATCH, &project_path, Some(json!({"archived": false}))).await, 200);
    for i in [0, 1, 3, 4, 5, 2] {
        let (method, path, body) = writes[i].clone();
        let res = call(&app, &member, method.clone(), &path, body).await;
        assert!(res.status < 300, "{method} {path}: {}", String::from_utf8_lossy(&res.body));
    }
}

#[actix_rt::test]
async fn lists_leave_archived_projects_out_unless_asked() {
    let app = spawn_app().await;
    let admin = user(&app, "Ada").await;
    let (team_id, live) = team(&app, &admin, "Squad", &[]).await;
    let old = project(&app, &admin, &team_id, "Old").await;
    task(&app, &admin, &live, json!({"title": "live task"})).await;
    task(&app, &admin, &old, json!({"title": "old task"})).await;
    ok(
        &call(&app, &admin, Method::PATCH, &format!("/api/v1/projects/{old}"), Some(json!({"archived": true}))).await,
        200,
    );

    let projects = |q: &str| format!("/api/v1/teams/{team_id}/projects{q}");
    let names = |page: Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(ok(&call(&app, &admin, Method::GET, &projects(""), None).await, 200)), ["Launch", "Old"]);
    assert_eq!(names(ok(&call(&app, &admin, Method::GET, &projects("?archived=true"), None).await, 200)), ["Old"]);
    assert_eq!(names(ok(&call(&app, &admin, Method::GET, &projects("?archived=false"), None).await, 200)), ["Launch"]);
    let bad = call(&app, &admin, Method::GET, &projects("?archived=maybe&limit=0"), None).await;
    assert_eq!((bad.status, problem_fields(&bad)), (422, vec!["archived".to_string(), "limit".to_string()]));
    // A cursor of one filter is refused under another.
    let page = ok(&call(&app, &admin, Method::GET, &projects("?archived=false&limit=1"), None).await, 200);
    assert!(page["next_cursor"].is_null());
    let page = ok(&call(&app, &admin, Method::GET, &projects("?limit=1"), None).await, 200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let res = call(&app, &admin, Method::GET, &projects(&format!("?archived=true&cursor={cursor}")), None).await;
    assert_eq!(res.status, 422);

    let team_tasks = format!("/api/v1/teams/{team_id}/tasks");
    assert_eq!(all_titles(&app, &admin, &team_tasks).await, ["live task"]);
    assert_eq!(
        all_titles(&app, &admin, &format!("{team_tasks}?include_archived=true")).await,
        ["old task", "live task"]
    );
    let by_project = format!("{team_tasks}?project_id={old}");
    assert_eq!(all_titles(&app, &admin, &by_project).await, Vec::<String>::new());
    assert_eq!(all_titles(&app, &admin, &format!("{by_project}&include_archived=true")).await, ["old task"]);
    assert_eq!(all_titles(&app, &admin, "/api/v1/me/tasks").await, ["live task"]);
    assert_eq!(all_titles(&app, &admin, "/api/v1/me/tasks?include_archived=true").await, ["old task", "live task"]);
    // The project's own list shows its tasks; the flag means nothing there.
    assert_eq!(all_titles(&app, &admin, &format!("/api/v1/projects/{old}/tasks")).await, ["old task"]);
    let res =
        call(&app, &admin, Method::GET, &format!("/api/v1/projects/{old}/tasks?include_archived=true"), None).await;
    assert_eq!(res.status, 422);
    let res = call(&app, &admin, Method::GET, &format!("{team_tasks}?include_archived=yes"), None).await;
    assert_eq!((res.status, problem_fields(&res)), (422, vec!["include_archived".to_string()]));
}

#[actix_rt::test]
async fn my_tasks_span_every_team_of_the_caller() {
    let app = spawn_app().await;
    let (ada, grace, eve) = (user(&app, "Ada").await, user(&app, "Grace").await, user(&app, "Eve").await);
    let (team_a, project_a) = team(&app, &ada, "A", &[&grace]).await;
    let (team_b, project_b) = team(&app, &grace, "B", &[&ada]).await;
    let (_, project_c) = team(&app, &eve, "C", &[]).await;
    let mut expected = vec![];
    for (i, (who, project)) in
        [(&ada, &project_a), (&grace, &project_b), (&ada, &project_b), (&grace, &project_a), (&ada, &project_a)]
            .into_iter()
            .enumerate()
    {
        let assignee = if i % 2 == 0 { json!(ada.id) } else { json!(grace.id) };
        let (title, priority) = (format!("t{i}"), ["low", "high"][i % 2]);
        task(&app, who, project, json!({"title": title, "assignee_id": assignee, "priority": priority})).await;
        expected.push(title);
    }
    task(&app, &eve, &project_c, json!({"title": "not mine"})).await;

    // Newest first across teams, paged two at a time without repeats or gaps.
    let newest_first: Vec<String> = expected.iter().rev().cloned().collect();
    assert_eq!(all_titles(&app, &ada, "/api/v1/me/tasks").await, newest_first);
    assert_eq!(all_titles(&app, &ada, "/api/v1/me/tasks?sort=title").await, expected);
    assert_eq!(all_titles(&app, &ada, "/api/v1/me/tasks?assignee=me&sort=created_at").await, ["t0", "t2", "t4"]);
    assert_eq!(all_titles(&app, &grace, "/api/v1/me/tasks?assignee=me&sort=created_at").await, ["t1", "t3"]);
    assert_eq!(all_titles(&app, &ada, "/api/v1/me/tasks?sort=-priority,title").await, ["t1", "t3", "t0", "t2", "t4"]);
    assert_eq!(
        all_titles(&app, &ada, &format!("/api/v1/me/tasks?team_id={team_b}&sort=created_at")).await,
        ["t1", "t2"]
    );
    assert_eq!(
        all_titles(&app, &ada, &format!("/api/v1/me/tasks?project_id={project_a}&sort=created_at")).await,
        ["t0", "t3", "t4"]
    );
    assert_eq!(all_titles(&app, &eve, "/api/v1/me/tasks").await, ["not mine"]);
    assert_eq!(all_titles(&app, &ada, "/api/v1/me/tasks?q=t2").await, ["t2"]);
    let _ = team_a;

    // Another team's id or project is a 404; bad values are named at once.
    let res = call(&app, &eve, Method::GET, &format!("/api/v1/me/tasks?team_id={team_b}"), None).await;
    assert_eq!(res.status, 404);
    let res = call(&app, &eve, Method::GET, &format!("/api/v1/me/tasks?project_id={project_a}"), None).await;
    assert_eq!(res.status, 404);
    let res = call(&app, &ada, Method::GET, "/api/v1/me/tasks?team_id=x&status=nope&sort=colour&team=1", None).await;
    assert_eq!(res.status, 422);
    let res = call(&app, &ada, Method::GET, "/api/v1/me/tasks?team_id=x&status=nope&sort=colour", None).await;
    let mut fields = problem_fields(&res);
    fields.sort();
    assert_eq!((res.status, fields), (422, vec!["sort".to_string(), "status".to_string(), "team_id".to_string()]));
    // A cursor is bound to the list and its filters.
    let page = ok(&call(&app, &ada, Method::GET, "/api/v1/me/tasks?limit=1", None).await, 200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let res = call(&app, &ada, Method::GET, &format!("/api/v1/me/tasks?assignee=me&cursor={cursor}"), None).await;
    assert_eq!(res.status, 422);
    let res = call(&app, &ada, Method::GET, &format!("/api/v1/teams/{team_b}/tasks?cursor={cursor}"), None).await;
    assert_eq!(res.status, 422);
    // Login required.
    let res = send(&app.base, Method::GET, "/api/v1/me/tasks", &[], None).await;
    assert_eq!(res.status, 401);
}

#[actix_rt::test]
async fn activity_details_hold_every_created_field_and_names_people() {
    let app = spawn_app().await;
    let (ada, grace) = (user(&app, "Ada").await, user(&app, "Grace").await);
    let (team_id, project) = team(&app, &ada, "Squad", &[&grace]).await;
    let t = task(
        &app,
        &ada,
        &project,
        json!({"title": "Ship", "description": "Soon", "priority": "high", "due_date": "2026-12-24", "assignee_id": grace.id}),
    )
    .await;
    let feed = |app: &TestApp| {
        let path = format!("/api/v1/teams/{team_id}/activity?limit=200");
        let who = ada.clone();
        let app_base = app.base.clone();
        async move {
            let res = send(&app_base, Method::GET, &path, &[("authorization", who.bearer.as_str())], None).await;
            ok(&res, 200)["items"].as_array().unwrap().clone()
        }
    };
    let entries = feed(&app).await;
    let created = entries.iter().find(|e| e["action"] == "task.created").unwrap();
    let grace_ref = json!({"id": grace.id, "display_name": "Grace"});
    assert_eq!(
        created["details"],
        json!({
            "title": "Ship", "description": "Soon", "status": "todo", "priority": "high",
            "due_date": "2026-12-24", "assignee_id": grace.id, "assignee": grace_ref, "labels": [],
            "created_by": {"id": ada.id, "display_name": "Ada"}, "version": 1,
            "position": t["position"],
        })
    );
    let added = entries.iter().find(|e| e["action"] == "member.added").unwrap();
    assert_eq!(added["details"]["user"], grace_ref);

    let path = format!("/api/v1/projects/{project}/tasks/{}", t["id"].as_str().unwrap());
    ok(&call(&app, &ada, Method::PATCH, &path, Some(json!({"assignee_id": ada.id}))).await, 200);
    let entries = feed(&app).await;
    let assigned = entries.iter().find(|e| e["action"] == "task.assigned").unwrap();
    assert_eq!(
        assigned["details"]["assignee"],
        json!({"from": grace_ref, "to": {"id": ada.id, "display_name": "Ada"}})
    );
    assert_eq!(assigned["details"]["assignee_id"], json!({"from": grace.id, "to": ada.id}));
    let path = format!("/api/v1/teams/{team_id}/members/{}", grace.id);
    ok(&call(&app, &ada, Method::DELETE, &path, None).await, 204);
    let entries = feed(&app).await;
    let removed = entries.iter().find(|e| e["action"] == "member.removed").unwrap();
    assert_eq!(removed["details"]["user"], grace_ref);
}
