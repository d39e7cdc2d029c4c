//! Bounded counts of a list's rows, for `count=true` (see `core_models::pagination`).
//!
//! A list counts with the very query its pages are read with, before the cursor, the order
//! and the limit are added: its filters, its scope and its search, so the count and the
//! pages cannot disagree. [`count_up_to`] runs
//!
//! ```text
//! SELECT count(*) FROM (SELECT 1 FROM … WHERE <the list's filters> LIMIT ?) AS counted
//! ```
//!
//! on both engines, so a count never reads more than `most` matching rows whatever the
//! filters: the list asks for one row past its cap and reports a capped total when it gets
//! it. The statement has no raw SQL of a client's, so it is prepared once per connection
//! like the page queries ([`crate::sql`]).

use diesel::dsl::{Limit, Select};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::methods::{LimitDsl, SelectDsl};
use diesel::sql_types::BigInt;

use crate::sql::{sql, Sql};
use crate::{Backend, DbConn};

/// `SELECT count(*) FROM (<rows>) AS counted`, `rows` carrying its own `LIMIT` (see
/// [`count_query`]).
#[derive(Debug, Clone)]
pub struct Counted<Q> {
    rows: Q,
}

impl<Q: QueryFragment<Backend>> QueryFragment<Backend> for Counted<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        out.push_sql("SELECT count(*) FROM (");
        self.rows.walk_ast(out.reborrow())?;
        out.push_sql(") AS counted");
        Ok(())
    }
}

impl<Q> QueryId for Counted<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Counted<Q> {
    type SqlType = BigInt;
}

impl<Q> RunQueryDsl<DbConn> for Counted<Q> {}

/// What a counted row selects: nothing of its own, so an index that serves the filters
/// serves the count without reading the rows.
fn one() -> Sql {
    sql("1")
}

/// How many rows `rows` (a list's query with its filters, without cursor, order or limit;
/// its select is replaced) yields, counting at most `most`.
pub fn count_up_to<Q>(conn: &mut DbConn, rows: Q, most: i64) -> QueryResult<i64>
where
    Q: SelectDsl<Sql>,
    Select<Q, Sql>: LimitDsl,
    Limit<Select<Q, Sql>>: QueryFragment<Backend>,
{
    count_query(rows, most).get_result(conn)
}

/// The statement [`count_up_to`] runs (for plan tests: see [`crate::plan::query_plan`]).
pub fn count_query<Q>(rows: Q, most: i64) -> Counted<Limit<Select<Q, Sql>>>
where
    Q: SelectDsl<Sql>,
    Select<Q, Sql>: LimitDsl,
{
    Counted { rows: rows.select(one()).limit(most.max(0)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::notes;

    fn seeded(n: usize) -> crate::TestDb {
        let db = crate::test_pool();
        db.write(move |c| {
            for i in 0..n {
                diesel::insert_into(notes::table)
                    .values((
                        notes::id.eq(format!("n{i:03}")),
                        notes::owner_id.eq((i % 2 == 0).then(|| "even".to_string())),
                        notes::content.eq("x"),
                        notes::created_at.eq(0),
                        notes::updated_at.eq(0),
                    ))
                    .execute(c.conn())?;
            }
            Ok(())
        })
        .unwrap();
        db
    }

    /// Counts stop at `most` and honour the filters, on the engine the tests run on.
    #[test]
    fn counts_the_filtered_rows_up_to_most() {
        let db = seeded(9);
        let mut conn = db.read().unwrap();
        let all = || notes::table.into_boxed::<Backend>();
        let even = || notes::table.filter(notes::owner_id.eq("even")).into_boxed::<Backend>();
        for (most, expected_all, expected_even) in [(100, 9, 5), (9, 9, 5), (6, 6, 5), (5, 5, 5), (4, 4, 4), (0, 0, 0)]
        {
            assert_eq!(count_up_to(&mut conn, all(), most).unwrap(), expected_all, "all, most {most}");
            assert_eq!(count_up_to(&mut conn, even(), most).unwrap(), expected_even, "even, most {most}");
        }
        let joined = notes::table.filter(notes::id.gt("n004")).filter(sql("notes.content = ").bind_text("x"));
        assert_eq!(count_up_to(&mut conn, joined.into_boxed::<Backend>(), 100).unwrap(), 4);
    }

    /// The count is one cacheable statement, and it reads no column of the rows: on
    /// SQLite a filter an index serves is counted from that index alone.
    #[test]
    fn the_count_reads_only_an_index_and_stays_cacheable() {
        let query = |most| count_query(notes::table.filter(notes::owner_id.eq("even")).into_boxed::<Backend>(), most);
        let sqlite = Backend::Sqlite(diesel::sqlite::Sqlite);
        assert!(query(3).is_safe_to_cache_prepared(&sqlite).unwrap());
        let db = crate::test_pool_sqlite();
        let mut conn = db.read().unwrap();
        let plan = crate::plan::query_plan(&mut conn, query(3)).unwrap().join(" | ");
        assert!(plan.contains("USING COVERING INDEX"), "{plan}");
    }
}
