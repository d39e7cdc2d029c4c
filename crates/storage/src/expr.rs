//! Typed SQL expressions written by this code base (a correlated subquery in a select
//! list, say) that keep the statement cacheable, unlike Diesel's `dsl::sql` (see
//! [`crate::sql`] for why that matters and for the rule: the text is a constant of the
//! code, never client input).

use std::marker::PhantomData;

use diesel::expression::TypedExpressionType;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::QueryResult;

/// The constant SQL `text`, typed `ST`, e.g. for `#[diesel(select_expression = ..)]`:
///
/// ```
/// use diesel::sql_types::{Nullable, Text};
/// let name = storage::expr::trusted::<Nullable<Text>>(
///     "(SELECT display_name FROM users WHERE users.id = project_tasks.assignee_id)");
/// # let _ = name;
/// ```
pub const fn trusted<ST>(text: &'static str) -> Trusted<ST> {
    Trusted { text, sql_type: PhantomData }
}

/// See [`trusted`].
#[derive(Debug, Clone, Copy)]
pub struct Trusted<ST> {
    text: &'static str,
    sql_type: PhantomData<ST>,
}

impl<ST: TypedExpressionType> Expression for Trusted<ST> {
    type SqlType = ST;
}

impl<ST, QS> AppearsOnTable<QS> for Trusted<ST> where Trusted<ST>: Expression {}
impl<ST, QS> SelectableExpression<QS> for Trusted<ST> where Trusted<ST>: Expression {}

impl<ST> ValidGrouping<()> for Trusted<ST> {
    type IsAggregate = is_aggregate::Never;
}

impl<ST> QueryId for Trusted<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, DB: diesel::backend::Backend> QueryFragment<DB> for Trusted<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Deliberately no `out.unsafe_to_cache_prepared()`: the text is a constant.
        out.push_sql(self.text);
        Ok(())
    }
}

/// The larger of the integer column `column` and `value`: SQLite's two-argument `max`,
/// PostgreSQL's `greatest` (e.g. `updated_at = greater_of("updated_at", now)`, so a clock
/// that stepped back never moves a time backwards).
pub fn greater_of(column: &'static str, value: i64) -> GreaterOf {
    GreaterOf { column, value }
}

/// See [`greater_of`].
#[derive(Debug, Clone, Copy)]
pub struct GreaterOf {
    column: &'static str,
    value: i64,
}

impl Expression for GreaterOf {
    type SqlType = diesel::sql_types::BigInt;
}

impl<QS> AppearsOnTable<QS> for GreaterOf {}
impl<QS> SelectableExpression<QS> for GreaterOf {}

impl ValidGrouping<()> for GreaterOf {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for GreaterOf {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl GreaterOf {
    fn walk<'b, DB: crate::conn::Dialect>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(match DB::ENGINE {
            crate::Engine::Sqlite => "max(",
            crate::Engine::Postgres => "greatest(",
        });
        out.push_sql(self.column);
        out.push_sql(", ");
        DB::bind_int(&mut out, &self.value)?;
        out.push_sql(")");
        Ok(())
    }
}

crate::fragment_for_every_engine!(GreaterOf);

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    diesel::table! {
        items (id) {
            id -> BigInt,
        }
    }

    #[test]
    fn statements_with_it_stay_cacheable() {
        let query = items::table.select(super::trusted::<Text>("(SELECT 'x')")).into_boxed::<diesel::sqlite::Sqlite>();
        assert!(diesel::query_builder::QueryFragment::<diesel::sqlite::Sqlite>::is_safe_to_cache_prepared(
            &query,
            &diesel::sqlite::Sqlite
        )
        .unwrap());
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query("CREATE TABLE items (id BIGINT PRIMARY KEY)").execute(&mut c).unwrap();
        diesel::sql_query("INSERT INTO items VALUES (1)").execute(&mut c).unwrap();
        assert_eq!(query.load::<String>(&mut c).unwrap(), ["x"]);
    }
}
