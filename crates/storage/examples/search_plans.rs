//! Measures the two plans of a full-text search page (see `storage::search`), to choose
//! `LEAD_MAX` and `WALK_ROWS_PER_ROW`: `N` tasks (default 100,000) on one board, words that
//! 0.01% to 90% of them hold, and for each the cost of planning (expanding the prefix and
//! counting up to `LEAD_MAX`), of a page of 50 led by the matches, and of the same page
//! walked along the sort index. Single-threaded, median of 7 runs.
//!
//! ```sh
//! cargo run --release -p storage --example search_plans [N]
//! ```

// A measurement program: any failure should stop it with its reason.
#![allow(clippy::expect_used)]

use std::time::Instant;

use diesel::prelude::*;
use storage::schema::tasks;
use storage::search::{Plan, Search};
use storage::sql::sql;

use storage::search::TASKS;

/// Median milliseconds of 7 runs of `f`, and its last result.
fn time<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..7 {
        let started = Instant::now();
        last = Some(f());
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[3], last.expect("seven runs"))
}

/// A page of 50 (plus one) task ids of the board, newest first or by title, with `search`.
fn page(conn: &mut storage::DbConn, search: &Search, order: &'static str) -> usize {
    let run = search.clone().run(conn, 51, |c, search| -> QueryResult<_> {
        let query = tasks::table
            .select(tasks::id)
            .filter(search.scope("tasks.owner_id", Some("me".into())))
            .filter(search.filter())
            .order(sql(order))
            .limit(51);
        Ok(query.load::<String>(c))
    });
    run.expect("a page").len()
}

fn main() {
    let n: i64 = std::env::args().nth(1).map_or(100_000, |s| s.parse().expect("a number of tasks"));
    let db = storage::test_pool();
    db.write(move |c| {
        // "common" in 90% of the tasks, "half" in 50%, "tenth" in 10%, and so on.
        diesel::sql_query(format!(
            "WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < {n})
             INSERT INTO tasks (id, owner_id, title, description, status, created_at, updated_at)
             SELECT printf('%08d', x), 'me', 'Task ' || (x * 7919 % {n}) ||
                    CASE WHEN x % 10 != 0 THEN ' common' ELSE '' END ||
                    CASE WHEN x % 2 = 0 THEN ' half' ELSE '' END ||
                    CASE WHEN x % 10 = 0 THEN ' tenth' ELSE '' END ||
                    CASE WHEN x % 100 = 0 THEN ' hundredth' ELSE '' END ||
                    CASE WHEN x % 1000 = 0 THEN ' thousandth' ELSE '' END ||
                    CASE WHEN x % 10000 = 0 THEN ' myriadth' ELSE '' END,
                    'number ' || x, 0, 1700000000000 + x, 1700000000000 + x FROM i"
        ))
        .execute(c.conn())?;
        Ok(())
    })
    .expect("seeding");
    // Idle, the writer tidies the full-text indexes into one segment (as a server does).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut conn = db.read().expect("a read connection");
    storage::budget::clear();
    let segments: i64 = sql("SELECT count(DISTINCT segid) FROM tasks_fts_idx")
        .query::<diesel::sql_types::BigInt>()
        .get_result(&mut conn)
        .expect("segments");
    println!("{n} tasks on one board, {segments} FTS segment(s); milliseconds, median of 7\n");
    println!(
        "| q | matches | plan chosen | planning | lead, -created_at | walk, -created_at | lead, title | walk, title |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for q in ["myriadth", "thousandth", "hundredth", "tenth", "half", "common", "comm half", "ta"] {
        let terms = storage::search::search_terms(q);
        let (plan_ms, search) = time(|| TASKS.search(&mut conn, &terms).expect("planning").expect("a match"));
        let count: i64 = sql("SELECT count(*) FROM tasks_fts WHERE tasks_fts MATCH ")
            .bind_text(storage::search::fts_match_expr(&terms).expect("words"))
            .query::<diesel::sql_types::BigInt>()
            .get_result(&mut conn)
            .expect("count");
        let mut cell = |plan: Plan, order: &'static str| {
            let forced = search.clone().with_plan(plan);
            format!("{:.2}", time(|| page(&mut conn, &forced, order)).0)
        };
        let newest = "tasks.created_at DESC, tasks.id DESC";
        let title = "tasks.title_key, tasks.id";
        let cells =
            [cell(Plan::Lead, newest), cell(Plan::Walk, newest), cell(Plan::Lead, title), cell(Plan::Walk, title)];
        println!("| `{q}` | {count} | {:?} | {plan_ms:.2} | {} |", search.plan(), cells.join(" | "));
    }
}
