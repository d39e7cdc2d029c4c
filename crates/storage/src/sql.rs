//! SQL fragments written by this code base, with bound values, that keep queries cacheable.
//!
//! Diesel's `dsl::sql` marks every query containing it as unsafe to cache, so a list query
//! with a raw ORDER BY or FTS filter was parsed and planned by SQLite on every request
//! (measured: a deep keyset page cost 2x the first one, most of it in preparing the longer
//! statement). [`Sql`] renders the same text but leaves the statement cache on: Diesel then
//! caches the prepared statement under its SQL text. That is only sound because the text
//! is bounded and never comes from a client: write constants of the code (column names,
//! enum ranks) into it, and pass every client value through `bind_*`.

use std::borrow::Cow;
use std::marker::PhantomData;

use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, Query, QueryId};
use diesel::sql_types::Bool;
use diesel::QueryResult;

use crate::conn::{Dialect, Engine};

#[derive(Debug, Clone)]
enum Part {
    Text(Cow<'static, str>),
    /// Text that differs per engine: (SQLite's, PostgreSQL's).
    PerEngine(Cow<'static, str>, Cow<'static, str>),
    /// A fragment rendered on one engine only.
    Only(Engine, Vec<Part>),
    Int(i64),
    Str(String),
    OptStr(Option<String>),
}

/// A boolean (or ORDER BY) SQL fragment: trusted text plus bound values.
#[derive(Debug, Clone)]
pub struct Sql {
    parts: Vec<Part>,
}

/// Starts a fragment with trusted `text` (never client input: see the module docs).
pub fn sql(text: impl Into<Cow<'static, str>>) -> Sql {
    Sql { parts: vec![Part::Text(text.into())] }
}

/// The row lock of an outbox claim: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that
/// several gateways claiming from one table at once each take rows no other is taking
/// (append it to the `SELECT` of the rows to claim, inside the claiming write). Nothing on
/// SQLite, whose one writer already makes each claim see the ones before it.
pub fn skip_locked() -> Sql {
    sql("").sql_per_engine("", " FOR UPDATE SKIP LOCKED")
}

/// `column = ?`, or `column IS NULL` for `None`: SQLite's `IS ?` in a form both engines
/// serve from an index (PostgreSQL's `IS NOT DISTINCT FROM` is never an index condition).
pub fn column_is(column: &'static str, value: Option<String>) -> Sql {
    match value {
        Some(value) => sql(column).sql(" = ").bind_text(value),
        None => sql(column).sql(" IS NULL"),
    }
}

/// `column` holds one of `ranks` (integers of the code, never of a client), written so an
/// index on `column` can serve it in order on both engines: one rank is an equality, a run
/// of neighbouring ranks a range (PostgreSQL before 17 reads an `IN` list on an index
/// column after the first in no order, so under a sort by `column` it tested the list on
/// every row of the walk instead), any other set an `IN` list. An empty set matches
/// nothing.
pub fn ranks_in(column: &str, ranks: &[i32]) -> Sql {
    let mut ranks = ranks.to_vec();
    ranks.sort_unstable();
    ranks.dedup();
    let (Some(&first), Some(&last)) = (ranks.first(), ranks.last()) else { return sql("1 = 0") };
    let run = usize::try_from(i64::from(last) - i64::from(first) + 1).is_ok_and(|n| n == ranks.len());
    sql(match ranks.len() {
        1 => format!("{column} = {first}"),
        _ if run => format!("{column} BETWEEN {first} AND {last}"),
        _ => format!("{column} IN ({})", ranks.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    })
}

impl Sql {
    /// Appends more trusted text.
    pub fn sql(mut self, text: impl Into<Cow<'static, str>>) -> Self {
        self.parts.push(Part::Text(text.into()));
        self
    }

    /// Appends trusted text that each engine spells its own way (`max(a, b)` on SQLite is
    /// `greatest(a, b)` on PostgreSQL, say).
    pub fn sql_per_engine(
        mut self,
        sqlite: impl Into<Cow<'static, str>>,
        postgres: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.parts.push(Part::PerEngine(sqlite.into(), postgres.into()));
        self
    }

    /// Appends `fragment`, rendered on `engine` only (for SQL whose text and bound values
    /// both differ per engine, such as a full-text match).
    pub fn only_on(mut self, engine: Engine, fragment: Sql) -> Self {
        self.parts.push(Part::Only(engine, fragment.parts));
        self
    }

    /// Appends `fragment` (its text and bound values).
    pub fn append(mut self, fragment: Sql) -> Self {
        self.parts.extend(fragment.parts);
        self
    }

    /// Appends SQLite's "do not use an index for this term" hint (a unary `+`; nothing on
    /// PostgreSQL, whose planner needs no such hint and has no unary `+` for text).
    pub fn sqlite_no_index(self) -> Self {
        self.sql_per_engine("+", "")
    }

    /// Appends a `?` bound to a text value.
    pub fn bind_text(mut self, value: impl Into<String>) -> Self {
        self.parts.push(Part::Str(value.into()));
        self
    }

    /// Appends a `?` bound to a text value or NULL.
    pub fn bind_opt_text(mut self, value: Option<String>) -> Self {
        self.parts.push(Part::OptStr(value));
        self
    }

    /// Appends a `?` bound to an integer.
    pub fn bind_int(mut self, value: i64) -> Self {
        self.parts.push(Part::Int(value));
        self
    }
}

impl Sql {
    /// The fragment as a whole statement returning one column of type `ST` (e.g. a
    /// `SELECT count(*) ...`), prepared once per connection like the list queries.
    pub fn query<ST>(self) -> SqlQuery<ST> {
        SqlQuery { sql: self, row: PhantomData }
    }
}

impl Sql {
    /// The fragment as a whole statement whose rows are read by column name (a
    /// `#[derive(QueryableByName)]` struct), like Diesel's `sql_query` but with the
    /// placeholders and per-engine text of [`Sql`]: the way to write SQL that runs on both
    /// engines.
    pub fn untyped(self) -> UntypedQuery {
        UntypedQuery { sql: self }
    }
}

/// A whole statement read by column name: see [`Sql::untyped`].
#[derive(Debug, Clone)]
pub struct UntypedQuery {
    sql: Sql,
}

impl QueryId for UntypedQuery {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for UntypedQuery {
    type SqlType = diesel::sql_types::Untyped;
}

impl UntypedQuery {
    fn walk<'b, DB: Dialect>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.sql.walk(out)
    }
}

crate::fragment_for_every_engine!(UntypedQuery);

impl diesel::RunQueryDsl<crate::DbConn> for UntypedQuery {}

impl Sql {
    /// The fragment as an expression of type `ST` rather than a condition: a scalar
    /// subquery with bound values in a select list, say.
    pub fn typed<ST>(self) -> TypedSql<ST> {
        TypedSql { sql: self, sql_type: PhantomData }
    }
}

/// An expression of trusted text and bound values: see [`Sql::typed`].
#[derive(Debug, Clone)]
pub struct TypedSql<ST> {
    sql: Sql,
    sql_type: PhantomData<ST>,
}

impl<ST: diesel::expression::TypedExpressionType> Expression for TypedSql<ST> {
    type SqlType = ST;
}

impl<ST, QS> AppearsOnTable<QS> for TypedSql<ST> where TypedSql<ST>: Expression {}
impl<ST, QS> SelectableExpression<QS> for TypedSql<ST> where TypedSql<ST>: Expression {}

impl<ST> ValidGrouping<()> for TypedSql<ST> {
    type IsAggregate = is_aggregate::Never;
}

impl<ST> QueryId for TypedSql<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> TypedSql<ST> {
    fn walk<'b, DB: Dialect>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.sql.walk(out)
    }
}

crate::fragment_for_every_engine!(TypedSql<ST>; ST);

/// A whole statement of trusted text and bound values: see [`Sql::query`].
#[derive(Debug, Clone)]
pub struct SqlQuery<ST> {
    sql: Sql,
    row: PhantomData<ST>,
}

impl<ST> QueryId for SqlQuery<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> SqlQuery<ST> {
    fn walk<'b, DB: Dialect>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.sql.walk(out)
    }
}

crate::fragment_for_every_engine!(SqlQuery<ST>; ST);

impl<ST: diesel::sql_types::SingleValue> Query for SqlQuery<ST> {
    type SqlType = ST;
}

impl<ST> diesel::RunQueryDsl<crate::DbConn> for SqlQuery<ST> {}

impl Expression for Sql {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for Sql {}
impl<QS> SelectableExpression<QS> for Sql {}

impl ValidGrouping<()> for Sql {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for Sql {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Sql {
    fn walk<'b, DB: Dialect>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk_parts(&self.parts, &mut out)
    }
}

fn walk_parts<'b, DB: Dialect>(parts: &'b [Part], out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
    // Deliberately no `out.unsafe_to_cache_prepared()`: see the module docs.
    for part in parts {
        match part {
            Part::Only(engine, inner) => {
                if *engine == DB::ENGINE {
                    walk_parts(inner, out)?;
                }
            }
            Part::Text(text) => out.push_sql(text),
            Part::PerEngine(sqlite, postgres) => out.push_sql(match DB::ENGINE {
                Engine::Sqlite => sqlite,
                Engine::Postgres => postgres,
            }),
            Part::Int(n) => DB::bind_int(out, n)?,
            Part::Str(s) => DB::bind_text(out, s)?,
            Part::OptStr(s) => DB::bind_opt_text(out, s)?,
        }
    }
    Ok(())
}

crate::fragment_for_every_engine!(Sql);

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;
    use diesel::sqlite::Sqlite;

    diesel::table! {
        items (id) {
            id -> BigInt,
            label -> Text,
        }
    }

    #[test]
    fn renders_text_and_binds_and_stays_cacheable() {
        let query = items::table
            .into_boxed::<Sqlite>()
            .filter(sql("items.label = ").bind_text("x").sql(" AND items.id > ").bind_int(3))
            .order(sql("items.id DESC"));
        let rendered = diesel::debug_query::<Sqlite, _>(&query).to_string();
        assert!(rendered.contains("items.label = ? AND items.id > ?"), "{rendered}");
        assert!(rendered.contains("ORDER BY items.id DESC"), "{rendered}");
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&query, &Sqlite).unwrap());
        let literal = items::table.into_boxed::<Sqlite>().filter(diesel::dsl::sql::<Bool>("1"));
        assert!(!QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&literal, &Sqlite).unwrap(), "what this avoids");
    }

    #[test]
    fn outbox_claims_skip_locked_rows_on_postgres_only() {
        use diesel::pg::Pg;
        let query = items::table.select(items::id).filter(sql("items.id > ").bind_int(0).append(skip_locked()));
        let sqlite = diesel::debug_query::<Sqlite, _>(&query).to_string();
        let postgres = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(!sqlite.contains("SKIP LOCKED"), "{sqlite}");
        assert!(postgres.contains("items.id > $1 FOR UPDATE SKIP LOCKED"), "{postgres}");
    }

    #[test]
    fn rank_sets_are_an_equality_a_range_or_a_list() {
        let text =
            |ranks: &[i32]| diesel::debug_query::<Sqlite, _>(&items::table.filter(ranks_in("r", ranks))).to_string();
        assert!(text(&[2]).contains("WHERE r = 2"), "{}", text(&[2]));
        assert!(text(&[1, 0, 1]).contains("WHERE r BETWEEN 0 AND 1"), "{}", text(&[1, 0, 1]));
        assert!(text(&[2, 0]).contains("WHERE r IN (0, 2)"), "{}", text(&[2, 0]));
        assert!(text(&[]).contains("WHERE 1 = 0"), "{}", text(&[]));
    }

    #[test]
    fn binds_reach_sqlite() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query("CREATE TABLE items (id BIGINT PRIMARY KEY, label TEXT NOT NULL)").execute(&mut c).unwrap();
        diesel::sql_query("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'b')").execute(&mut c).unwrap();
        let ids: Vec<i64> = items::table
            .select(items::id)
            .filter(sql("items.label = ").bind_text("b").sql(" AND items.id < ").bind_int(3))
            .load(&mut c)
            .unwrap();
        assert_eq!(ids, [2]);
    }
}
