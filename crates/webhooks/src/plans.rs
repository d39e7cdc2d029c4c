//! Query-plan tests of the webhook lists and the outbox: the team's webhooks (also what
//! every activity append reads), a webhook's deliveries newest first (first and continued
//! pages) and the worker's claim of due deliveries each walk an index, on SQLite and on a
//! seeded, analysed PostgreSQL database when the run has one.

use core_models::pagination::IdPaging;
use storage::plan::{plan_failure, query_plan};
use storage::DbConn;

use crate::{store, worker};

/// A page of `parse`'s list that continues after the row `id` (a real cursor of it).
fn continued(parse: fn(Option<&str>, Option<&str>) -> IdPaging, id: &str) -> IdPaging {
    let rows = vec![id.to_string(), format!("{id}0")];
    let cursor = parse(Some("1"), None).page(rows, Clone::clone).next_cursor.unwrap();
    parse(None, Some(&cursor))
}

fn oldest_first(limit: Option<&str>, cursor: Option<&str>) -> IdPaging {
    IdPaging::parse("plan", &(), limit, cursor, None).unwrap()
}

fn newest_first(limit: Option<&str>, cursor: Option<&str>) -> IdPaging {
    IdPaging::parse_newest_first("plan", &(), limit, cursor, None).unwrap()
}

/// Every plan failure of the lists of `team` / `webhook` on `conn`.
fn failures(conn: &mut DbConn, team: &str, webhook: &str, middle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let after = continued(oldest_first, middle);
    assert!(after.after().is_some());
    for paging in [IdPaging::first(50), after] {
        let plan = query_plan(conn, store::list_query(team, &paging)).unwrap();
        found.extend(plan_failure(&plan, &["webhooks"]));
    }
    let plan = query_plan(conn, store::active_query(team)).unwrap();
    found.extend(plan_failure(&plan, &["webhooks"]));
    let older = continued(newest_first, middle);
    assert!(older.after().is_some());
    for paging in [newest_first(None, None), older] {
        let plan = query_plan(conn, store::deliveries_query(webhook, &paging)).unwrap();
        found.extend(plan_failure(&plan, &["webhook_deliveries"]));
    }
    let plan = query_plan(conn, worker::due_query(1_000, 16, false).untyped()).unwrap();
    found.extend(plan_failure(&plan, &["webhook_deliveries"]));
    found
}

#[test]
fn webhook_lists_and_claims_walk_indexes_on_sqlite() {
    let db = storage::test_pool_sqlite();
    let mut conn = db.read().unwrap();
    let failures = failures(&mut conn, "t1", "w00001", "d0000100");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn webhook_lists_and_claims_walk_indexes_on_postgres() {
    // 50 teams with 10 webhooks each, 40,000 deliveries of which 1 in 100 are due.
    let seed = "
        INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at)
            VALUES ('u', 'u@x.io', 'u@x.io', 'U', 'h', 0);
        INSERT INTO teams (id, name, created_at, updated_at)
            SELECT 't' || i, 'T', 0, 0 FROM generate_series(1, 50) AS i;
        INSERT INTO webhooks (id, team_id, url, events, secret, created_by, created_at, updated_at)
            SELECT 'w' || lpad(i::text, 5, '0'), 't' || (i % 50 + 1), 'http://x', '[\"task.*\"]', 's', 'u', 0, 0
            FROM generate_series(1, 500) AS i;
        INSERT INTO webhook_deliveries (id, webhook_id, event_id, action, payload, next_attempt_at, created_at)
            SELECT 'd' || lpad(i::text, 7, '0'), 'w' || lpad((i % 500 + 1)::text, 5, '0'), 'e', 'task.created', '{}',
                   CASE WHEN i % 100 = 0 THEN i END, i
            FROM generate_series(1, 40000) AS i;
    ";
    let Some((_db, mut conn)) = storage::testing::analysed_postgres(seed) else {
        eprintln!("skipped: no PostgreSQL server (CORKBOARD_TEST_POSTGRES_URL)");
        return;
    };
    let failures = failures(&mut conn, "t1", "w00001", "d0020000");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
