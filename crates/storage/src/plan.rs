//! Query plans for tests that prove a list is served by an index: SQLite's `EXPLAIN QUERY
//! PLAN` and PostgreSQL's `EXPLAIN`.
//!
//! Every list the API offers must read an index in order: no full scan of its table and no
//! sort of the matches, with or without a cursor. Domain crates run their real list
//! queries through [`query_plan`] and check [`plan_problems`] is empty. A PostgreSQL plan
//! means something only on seeded, analysed tables (a near-empty table is always scanned).

use core_models::pagination::IdPaging;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;
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

/// The steps of the plan for `query`, in order: SQLite's `detail` column, or the lines of
/// PostgreSQL's `EXPLAIN ANALYZE` (the query runs, so each node tells the rows it really
/// gave: plan tests run only queries that read).
pub fn query_plan<Q: QueryFragment<Backend>>(conn: &mut DbConn, query: Q) -> QueryResult<Vec<String>> {
    if conn.engine() == crate::Engine::Postgres {
        return postgres_plan(conn, query);
    }
    // id, parent, notused, detail.
    let rows: Vec<(i32, i32, i32, String)> =
        explain::<_, (Integer, Integer, Integer, Text)>("EXPLAIN QUERY PLAN ", query).load(conn)?;
    Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
}

/// [`query_plan`], but on PostgreSQL the plan made for the values bound (an `EXPLAIN` of
/// the statement with them), not the generic plan pooled connections run: for a list whose
/// generic plan is a known failure, named where it is used (a project's due-date range
/// under another sort, `projects::plans`); the same on SQLite.
pub fn query_plan_with_values<Q: QueryFragment<Backend>>(conn: &mut DbConn, query: Q) -> QueryResult<Vec<String>> {
    if conn.engine() == crate::Engine::Postgres {
        return explain::<_, Text>("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF) ", query).load(conn);
    }
    query_plan(conn, query)
}

/// PostgreSQL: the plan the connection's session runs `query` with.
///
/// Pooled connections plan with `plan_cache_mode = force_generic_plan` (see
/// `crate::postgres`): a statement is planned once, without the values bound, and that
/// plan serves every later execution. An `EXPLAIN` of the statement with its values shows
/// the plan made for those values instead, which may differ: a learner's browse was
/// explained as a probe of their completion per row but ran as a scan of all of them,
/// matched against every row. So the statement's text and values are taken from what
/// Diesel sends (its instrumentation, during a plain `EXPLAIN`), the text is `PREPARE`d
/// with the values' types, and `EXPLAIN ANALYZE EXECUTE` runs it with the values as
/// literals: the session's `plan_cache_mode` decides the plan, as it does for the gateway.
/// A search is explained with its values, as a search connection plans it.
fn postgres_plan<Q: QueryFragment<Backend>>(conn: &mut DbConn, query: Q) -> QueryResult<Vec<String>> {
    use diesel::connection::{InstrumentationEvent, SimpleConnection};
    use std::sync::{Arc, Mutex};
    let sent: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = sent.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            if let Ok(mut seen) = seen.lock() {
                *seen = Some(query.to_string());
            }
        }
    });
    let explained = explain::<_, Text>("EXPLAIN ", &query).load::<String>(conn);
    conn.set_instrumentation(diesel::connection::get_default_instrumentation());
    explained?;
    let sent = sent.lock().ok().and_then(|mut s| s.take()).unwrap_or_default();
    let statement = sent.strip_prefix("EXPLAIN ").unwrap_or(&sent);
    let (text, binds) = statement.rsplit_once(" -- binds: ").unwrap_or((statement, "[]"));
    if text.contains("to_tsquery(") {
        // A search: it runs on a search connection, planned with its values
        // (`Database::read_for_search`), which is what an `EXPLAIN` with them shows.
        return explain::<_, Text>("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF) ", query).load(conn);
    }
    let values = literals(binds).ok_or_else(|| {
        diesel::result::Error::QueryBuilderError(format!("plan test: cannot read the values {binds}").into())
    })?;
    let (types, literals): (Vec<String>, Vec<String>) = values.into_iter().unzip();
    let (types, args) = if types.is_empty() {
        (String::new(), String::new())
    } else {
        (format!("({})", types.join(", ")), format!("({})", literals.join(", ")))
    };
    conn.batch_execute(&format!("PREPARE cb_plan_test {types} AS {text}"))?;
    let plan = crate::sql::sql(format!("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF) EXECUTE cb_plan_test {args}"))
        .query::<Text>()
        .load::<String>(conn);
    conn.batch_execute("DEALLOCATE cb_plan_test")?;
    plan
}

/// The values of Diesel's `binds: [...]` (their `Debug` forms) as SQL types and literals:
/// text, integers, booleans, NULLs and arrays of them, which is what lists bind; `None`
/// for anything else.
fn literals(binds: &str) -> Option<Vec<(String, String)>> {
    let mut rest = binds.trim();
    let values = list(&mut rest)?;
    rest.trim().is_empty().then_some(values)
}

/// The values of the `[...]` list at the start of `rest`, which moves past it.
fn list(rest: &mut &str) -> Option<Vec<(String, String)>> {
    *rest = rest.trim_start().strip_prefix('[')?;
    let mut values = Vec::new();
    loop {
        *rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(']') {
            *rest = after;
            return Some(values);
        }
        values.push(value(rest)?);
        *rest = rest.trim_start();
        *rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// The value at the start of `rest` (which moves past it) as its SQL type and literal.
fn value(rest: &mut &str) -> Option<(String, String)> {
    if rest.starts_with('[') {
        let items = list(rest)?;
        let element = items.first().map_or("text", |(t, _)| t.as_str()).to_string();
        let literals: Vec<String> = items.into_iter().map(|(_, l)| l).collect();
        return Some((format!("{element}[]"), format!("ARRAY[{}]::{element}[]", literals.join(", "))));
    }
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut text = String::new();
        let mut chars = quoted.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i + 1,
                (_, '\\') => match chars.next()?.1 {
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    'r' => text.push('\r'),
                    '0' => text.push('\0'),
                    'u' => {
                        let hex: String = chars.by_ref().map(|(_, c)| c).skip(1).take_while(|c| *c != '}').collect();
                        text.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    other => text.push(other),
                },
                (_, c) => text.push(c),
            }
        };
        *rest = &quoted[end..];
        return Some(("text".into(), format!("'{}'", text.replace('\'', "''"))));
    }
    let end = rest.find([',', ']']).unwrap_or(rest.len());
    let token = rest[..end].trim();
    let typed = match token {
        "None" => ("text", "NULL".to_string()),
        "true" | "false" => ("boolean", token.to_string()),
        _ if token.parse::<i64>().is_ok() => ("bigint", token.to_string()),
        _ => return None,
    };
    *rest = &rest[end..];
    Some((typed.0.into(), typed.1))
}

/// For plan tests of a list in id order (`IdPaging`), named `list`: its first page and the
/// page after its 200th row (a cursor's keyset condition in the plan too), each described
/// by [`plan_failure`] on `tables` when bad, and a failure when the list has no 201st row
/// to plan a deep page of. `query` builds the list's query for a paging, `id_of` reads a
/// row's id.
pub fn id_list_failures<Q, R>(
    conn: &mut DbConn,
    list: &str,
    tables: &[&str],
    query: impl Fn(&IdPaging) -> Q,
    id_of: impl Fn(&R) -> String,
) -> QueryResult<Vec<String>>
where
    Q: QueryFragment<Backend> + LoadQuery<'static, DbConn, R>,
{
    let mut plans = vec![query_plan(conn, query(&IdPaging::first(50)))?];
    let long = IdPaging::parse("plan", &(), Some("200"), None, None).ok();
    let rows: Vec<R> = match &long {
        Some(long) => query(long).load(conn)?,
        None => Vec::new(),
    };
    let next = long.and_then(|long| long.page(rows, id_of).next_cursor);
    let mut failures = Vec::new();
    match next.map(|cursor| IdPaging::parse("plan", &(), None, Some(&cursor), None)) {
        Some(Ok(deep)) => plans.push(query_plan(conn, query(&deep))?),
        _ => failures.push(format!("{list}: no deep page (seed more than 200 rows)")),
    }
    failures.extend(plans.iter().filter_map(|plan| plan_failure(plan, tables)).map(|plan| format!("{list}:\n{plan}")));
    Ok(failures)
}

/// For plan tests: `plan` described, when it has a problem of [`plan_problems`] on one of
/// `tables` or reads no index at all.
pub fn plan_failure(plan: &[String], tables: &[&str]) -> Option<String> {
    let problems = tables.iter().any(|t| !plan_problems(plan, t).is_empty());
    (problems || !plan.iter().any(|step| step.contains("Index") || step.contains("INDEX"))).then(|| plan.join("\n"))
}

/// For plan tests: fails with every plan of `failures` (described by [`plan_failure`]).
///
/// # Panics
/// When `failures` is not empty.
pub fn assert_no_plan_failures(failures: &[String]) {
    assert!(failures.is_empty(), "{} plans without an index walk:\n{}", failures.len(), failures.join("\n"));
}

/// The most rows a PostgreSQL plan may sort, or read and throw away, for one page: a few
/// milliseconds of work (PostgreSQL reads a cached row in 1–2 µs). A plan test's boards
/// hold several times more, so a plan that sorts a board's matches, or walks across most of
/// a board for one page, is caught; a filter that no index serves in the sort's order and
/// that keeps one row in twenty is not (the walk reads ~20 rows a row of the page).
pub const POSTGRES_ROWS_MAX: f64 = 2_000.0;

/// The steps that make a list slow.
///
/// - SQLite: a full scan of `table` (a `SCAN` without an index) or a sort of the matches
///   (a temporary B-tree).
/// - PostgreSQL ([`query_plan`]'s `EXPLAIN ANALYZE`): a `Seq Scan` of `table`; a `Sort` (or
///   `Incremental Sort`) of more than [`POSTGRES_ROWS_MAX`] rows, the rows its input gave
///   (a sort of a few matches, found by an index, is how a rare word or a narrow filter is
///   best served, as on SQLite); a node that read more than [`POSTGRES_ROWS_MAX`] rows its
///   filter threw away (`Rows Removed by Filter`: an index walk that crossed most of the
///   board for one page, or matches of other boards read and dropped). PostgreSQL chooses
///   by its statistics, so these hold only on seeded, analysed tables.
pub fn plan_problems<'a>(plan: &'a [String], table: &str) -> Vec<&'a String> {
    if plan.iter().any(|step| step.contains("(cost=")) {
        return postgres_problems(plan, table);
    }
    let scan = format!("SCAN {table}");
    plan.iter()
        .filter(|step| {
            let full_scan = (step.as_str() == scan || step.starts_with(&format!("{scan} ")))
                && !step.contains("USING INDEX")
                && !step.contains("USING COVERING INDEX");
            full_scan || step.contains("USE TEMP B-TREE FOR ORDER BY")
        })
        .collect()
}

/// A plan line's node (`Sort`, `Index Scan using … on tasks`), without its indentation
/// and arrow; `None` for a detail line (`Filter: …`).
fn node_of(step: &str) -> Option<&str> {
    let trimmed = step.trim_start();
    match trimmed.strip_prefix("->  ") {
        Some(node) => Some(node),
        // The root is the only node line without an arrow.
        None => (trimmed.len() == step.len()).then_some(trimmed),
    }
}

/// The rows a node really gave (`(actual … rows=N …)`); `None` without `ANALYZE`. With
/// `TIMING OFF` the parenthesis starts `(actual rows=`.
fn actual_rows(step: &str) -> Option<f64> {
    let actual = &step[step.find("(actual ")?..];
    let rows = &actual[actual.find("rows=")? + "rows=".len()..];
    rows.split([' ', ')']).next()?.parse().ok()
}

fn postgres_problems<'a>(plan: &'a [String], table: &str) -> Vec<&'a String> {
    let seq_scan = format!("Seq Scan on {table} ");
    let mut problems = Vec::new();
    for (i, step) in plan.iter().enumerate() {
        let trimmed = step.trim_start();
        let removed = trimmed
            .strip_prefix("Rows Removed by Filter: ")
            .or_else(|| trimmed.strip_prefix("Rows Removed by Join Filter: "));
        if let Some(removed) = removed {
            if removed.trim().parse::<f64>().is_ok_and(|n| n > POSTGRES_ROWS_MAX) {
                problems.push(step);
            }
            continue;
        }
        let Some(node) = node_of(step) else { continue };
        if node.starts_with(&seq_scan) {
            problems.push(step);
        } else if node.starts_with("Sort ") || node.starts_with("Incremental Sort ") {
            // The first node line after a sort's is its input.
            let input = plan[i + 1..].iter().find(|s| node_of(s).is_some()).and_then(|s| actual_rows(s));
            if input.is_none_or(|rows| rows > POSTGRES_ROWS_MAX) {
                problems.push(step);
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::notes;

    #[test]
    fn binds_become_typed_literals() {
        let values = literals(r#"["it's", "a\"b\\c", "\u{10ffff}z", 51, -3, None, true, ["x", "y"], []]"#).unwrap();
        let shown: Vec<(&str, &str)> = values.iter().map(|(t, l)| (t.as_str(), l.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("text", "'it''s'"),
                ("text", "'a\"b\\c'"),
                ("text", "'\u{10ffff}z'"),
                ("bigint", "51"),
                ("bigint", "-3"),
                ("text", "NULL"),
                ("boolean", "true"),
                ("text[]", "ARRAY['x', 'y']::text[]"),
                ("text[]", "ARRAY[]::text[]"),
            ]
        );
        assert!(literals("[1.5]").is_none(), "an unknown value is refused, not guessed");
        assert!(literals("[\"open").is_none());
    }

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

    /// PostgreSQL's plans, as `EXPLAIN ANALYZE` prints them.
    #[test]
    fn finds_postgresql_scans_big_sorts_and_long_walks() {
        let lines = |text: &str| -> Vec<String> { text.lines().map(str::to_string).collect() };
        let walk = lines(
            "Limit  (cost=0.29..5.51 rows=51 width=102) (actual rows=51 loops=1)
  ->  Index Scan Backward using tasks_by_created on tasks  (cost=0.29..512.00 rows=5000 width=102) (actual rows=51 loops=1)
        Index Cond: (owner_id = 'u'::text)
        Filter: (status = 0)
        Rows Removed by Filter: 1500",
        );
        assert!(plan_problems(&walk, "tasks").is_empty());
        let few_sorted = lines(
            "Limit  (cost=198.78..198.90 rows=47 width=45) (actual rows=47 loops=1)
  ->  Sort  (cost=198.78..198.90 rows=47 width=45) (actual rows=47 loops=1)
        Sort Key: created_at DESC
        Sort Method: quicksort  Memory: 28kB
        ->  Bitmap Heap Scan on tasks  (cost=24.36..197.47 rows=47 width=45) (actual rows=47 loops=1)
              Recheck Cond: (search @@ 'urgent:*'::tsquery)
              ->  Bitmap Index Scan on tasks_search  (cost=0.00..24.35 rows=47 width=0) (actual rows=50 loops=1)",
        );
        assert!(plan_problems(&few_sorted, "tasks").is_empty(), "a few matches may be sorted");
        let many_sorted = lines(
            "Limit  (cost=875.87..875.93 rows=25 width=102) (actual rows=51 loops=1)
  ->  Sort  (cost=875.87..875.93 rows=25 width=102) (actual rows=51 loops=1)
        Sort Key: updated_at, id
        Sort Method: top-N heapsort  Memory: 25kB
        ->  Bitmap Heap Scan on tasks  (cost=197.29..875.29 rows=25 width=102) (actual rows=2667 loops=1)
              Recheck Cond: (owner_id IS NULL)
              ->  Bitmap Index Scan on tasks_anonymous_by_due  (cost=0.00..197.28 rows=5000 width=0) (actual rows=5000 loops=1)",
        );
        assert_eq!(plan_problems(&many_sorted, "tasks"), [&many_sorted[1]], "the sort's input counts, not its output");
        let scanned = lines(
            "Limit  (cost=953.58..953.64 rows=25 width=102) (actual rows=0 loops=1)
  ->  Seq Scan on tasks  (cost=0.00..953.00 rows=25 width=102) (actual rows=0 loops=1)
        Filter: (owner_id = 'u'::text)
        Rows Removed by Filter: 20000",
        );
        assert_eq!(plan_problems(&scanned, "tasks"), [&scanned[1], &scanned[3]]);
        assert_eq!(plan_problems(&scanned, "notes"), [&scanned[3]], "only the named table's scans count");
        let unanalysed = lines(
            "Sort  (cost=8.41..8.42 rows=1 width=102)
  ->  Index Scan using t on tasks  (cost=0.41..8.40 rows=1 width=102)",
        );
        assert_eq!(plan_problems(&unanalysed, "tasks").len(), 1, "without ANALYZE every sort counts");
    }
}
