//! Query plans for tests that prove a list is served by an index: SQLite's `EXPLAIN QUERY
//! PLAN` and PostgreSQL's `EXPLAIN`.
//!
//! Every list the API offers must read an index in order: no full scan of its table and no
//! sort of the matches, with or without a cursor. Domain crates run their real list
//! queries through [`query_plan`] and check [`plan_problems`] is empty. A PostgreSQL plan
//! means something only on seeded, analysed tables (a near-empty table is always scanned).

use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};

use crate::{Backend, DbConn};

/// `<prefix> <query>` with the query's own bind parameters, read as rows of `ST`:
/// SQLite's `EXPLAIN QUERY PLAN` or PostgreSQL's `EXPLAIN`.
struct Explain<Q, ST> {
    prefix: &'static str,
    query: Q,
    row: std::marker::PhantomData<ST>,
}

impl<Q: QueryFragment<Backend>, ST> QueryFragment<Backend> for Explain<Q, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        out.push_sql(self.prefix);
        self.query.walk_ast(out.reborrow())
    }
}

impl<Q, ST> QueryId for Explain<Q, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, ST: diesel::sql_types::SqlType + diesel::query_builder::QueryId> Query for Explain<Q, ST> {
    type SqlType = ST;
}

impl<Q, ST> RunQueryDsl<DbConn> for Explain<Q, ST> {}

fn explain<Q, ST>(prefix: &'static str, query: Q) -> Explain<Q, ST> {
    Explain { prefix, query, row: std::marker::PhantomData }
}

/// The steps of the plan for `query`, in order: SQLite's `detail` column, or PostgreSQL's
/// plan lines.
pub fn query_plan<Q: QueryFragment<Backend>>(conn: &mut DbConn, query: Q) -> QueryResult<Vec<String>> {
    if conn.engine() == crate::Engine::Postgres {
        return explain::<_, Text>("EXPLAIN ", query).load(conn);
    }
    // id, parent, notused, detail.
    let rows: Vec<(i32, i32, i32, String)> =
        explain::<_, (Integer, Integer, Integer, Text)>("EXPLAIN QUERY PLAN ", query).load(conn)?;
    Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
}

/// The steps that make a list slow: a full scan of `table` (SQLite: a `SCAN` without an
/// index; PostgreSQL: a `Seq Scan`) or a sort of the matches (SQLite's temporary B-tree,
/// PostgreSQL's `Sort` node).
pub fn plan_problems<'a>(plan: &'a [String], table: &str) -> Vec<&'a String> {
    let postgres = plan.iter().any(|step| step.contains("(cost="));
    let scan = format!("SCAN {table}");
    let seq_scan = format!("Seq Scan on {table} ");
    plan.iter()
        .filter(|step| {
            if postgres {
                let node = step.trim_start().trim_start_matches("->  ");
                return node.starts_with(&seq_scan)
                    || node.starts_with("Sort ")
                    || node.starts_with("Incremental Sort ");
            }
            let full_scan = (step.as_str() == scan || step.starts_with(&format!("{scan} ")))
                && !step.contains("USING INDEX")
                && !step.contains("USING COVERING INDEX");
            full_scan || step.contains("USE TEMP B-TREE FOR ORDER BY")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::notes;

    #[test]
    fn finds_scans_and_sorts() {
        let db = crate::test_pool_sqlite();
        let mut c = db.read().unwrap();
        // The notes indexes lead with the board (`owner_id`), as every notes list does.
        let board = notes::table.filter(notes::owner_id.is_null());
        let indexed = query_plan(&mut c, board.select(notes::id).order(notes::created_at.desc())).unwrap();
        assert!(plan_problems(&indexed, "notes").is_empty(), "{indexed:?}");
        let unscoped = query_plan(&mut c, notes::table.select(notes::id).order(notes::created_at.desc())).unwrap();
        assert_eq!(plan_problems(&unscoped, "notes").len(), 1, "a list across boards sorts: {unscoped:?}");
        let unindexed = query_plan(&mut c, notes::table.select(notes::id).order(notes::content)).unwrap();
        assert_eq!(plan_problems(&unindexed, "notes").len(), 2, "{unindexed:?}");
    }
}
