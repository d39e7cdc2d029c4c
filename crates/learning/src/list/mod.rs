//! Browsing challenges and paths: the query strings, their checked form, and the SQL of
//! one page, written so that one index walk yields the order asked for.
//!
//! A challenge browse is driven by the most selective filter that has an index in the
//! sort order, and every other filter is tested on the rows of that walk:
//!
//! | filters                     | the walk                                                     |
//! |-----------------------------|--------------------------------------------------------------|
//! | `tag` (one or more)         | `challenge_tags (tag, <sort key>, challenge_id)` of the rarest tag; the other tags by `EXISTS` on its primary key |
//! | `topic`                     | `challenges (topic, <sort key>, id)`                         |
//! | one `difficulty`            | `challenges (difficulty, <sort key>, id)`                    |
//! | none of those               | `challenges (<sort key>, id)`; several difficulties are then tested per row |
//! | `q` alone                   | the full-text matches, sorted (what a selective search wants) |
//! | `completed=true`            | the caller's completions, sorted (bounded by what one user completed) |
//!
//! A tag browse sorted by popularity first walks `challenge_tag_popularity (tag,
//! completion_count, challenge_id)` instead of the tag rows, which hold no count (see
//! [`challenge_walk::Walk`]).
//!
//! `completed=false` walks the chosen index and skips what the caller completed with
//! `NOT EXISTS` on the completions' `(user_id, challenge_id)` key. Tag rows carry copies
//! of the challenge's sort keys but its completion count (kept by triggers), so a tag walk
//! is in sort order.
//! Keyset pages compare the walked index's own columns, so a deep page seeks straight to
//! its place. `query_plans` in the tests proves every combination.
//!
//! One module per part: `challenge_params` (the challenge query string and its checked
//! form), `challenge_walk` (the walk and the SQL of a page), `paths` (path lists); this
//! one holds what they share (the topic and search filters, running a page query).

use core_models::{params, text, AppError, AppResult, FieldError, Violations};
use diesel::query_builder::QueryFragment;
use diesel::query_dsl::methods::LoadQuery;
use storage::keyset::KeysetAfter;
use storage::sql::{sql, Sql};
use storage::{Backend, DbConn};

use crate::model::TOPIC_MAX;

const SEARCH_MAX: usize = 500;

/// The `topic` of a filter: trimmed, 1 to 100 characters.
fn topic_filter(raw: &str) -> Result<String, FieldError> {
    text::required("topic", raw, TOPIC_MAX)
}

fn search_filter(raw: Option<&str>, v: &mut Violations) -> Option<Vec<String>> {
    raw.and_then(|raw| v.check(params::search_text("q", raw, SEARCH_MAX)))
        .flatten()
        .and_then(|q| v.check(storage::search::parse_query("q", &q)))
}

/// `column = topic`, ignoring ASCII case: SQLite's `topic` is NOCASE, PostgreSQL's
/// indexes are on `lower(topic COLLATE "C")` (see the learning migration), so the value is
/// folded in the same way. Unless `indexed`, SQLite is told not to walk a topic index.
fn topic_is(indexed: bool, column: &'static str, topic: &str) -> Sql {
    let start = if indexed { sql("") } else { sql("").sqlite_no_index() };
    start
        .sql_per_engine(format!("{column} = "), format!("lower({column} COLLATE \"C\") = "))
        .bind_text(topic.to_ascii_lowercase())
}

/// The parts of one page's query that do not depend on the table it starts from.
struct PageSql {
    conditions: Vec<Sql>,
    after: Option<KeysetAfter>,
    order: Sql,
    limit: i64,
}

/// What to do with a browse's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    /// Read the rows of the page.
    Rows,
    /// Tell the plan the engine would use for them (for the plan tests).
    #[cfg_attr(not(test), allow(dead_code))] // asked by the plan tests
    Plan,
    /// Count the rows the filters keep over all pages (`count=true`), at most this many:
    /// the same tables and conditions, without the cursor, the order, the limit or the
    /// viewer's joins (which never add nor remove a row: see [`with_viewer!`]).
    Count(i64),
}

/// The rows of a page, the plan the engine would use for them, or the browse's count.
pub(crate) enum Output<R> {
    Rows(Vec<R>),
    #[cfg_attr(not(test), allow(dead_code))] // read by the plan tests
    Plan(Vec<String>),
    Count(i64),
}

impl<R> Output<R> {
    fn unexpected() -> AppError {
        AppError::Internal(anyhow::anyhow!("a browse query answered with something else than asked"))
    }

    fn rows(self) -> AppResult<Vec<R>> {
        match self {
            Output::Rows(rows) => Ok(rows),
            _ => Err(Self::unexpected()),
        }
    }

    fn count(self) -> AppResult<i64> {
        match self {
            Output::Count(n) => Ok(n),
            _ => Err(Self::unexpected()),
        }
    }
}

fn exec<Q, R>(conn: &mut DbConn, query: Q, run: Run) -> AppResult<Output<R>>
where
    Q: QueryFragment<Backend> + for<'a> LoadQuery<'a, DbConn, R>,
{
    match run {
        Run::Plan => Ok(Output::Plan(storage::plan::query_plan(conn, query)?)),
        Run::Rows | Run::Count(_) => Ok(Output::Rows(query.load(conn)?)),
    }
}

/// Applies a [`PageSql`] to a boxed select.
macro_rules! shaped {
    ($query:expr, $page:expr) => {{
        let page = $page;
        let mut q = $query;
        for condition in page.conditions {
            q = q.filter(condition);
        }
        if let Some(after) = page.after {
            q = q.filter(after);
        }
        q.order(page.order).limit(page.limit)
    }};
}

/// Counts, up to `$most`, the rows of a boxed select that a [`PageSql`]'s conditions keep
/// (its cursor, order and limit left out).
macro_rules! counted {
    ($conn:expr, $query:expr, $page:expr, $most:expr) => {{
        let mut q = $query;
        for condition in $page.conditions {
            q = q.filter(condition);
        }
        Ok(Output::Count(storage::count::count_up_to($conn, q, $most)?))
    }};
}

// Declared after the macros above, which a `macro_rules!` must precede to be seen.
mod challenge_params;
mod challenge_walk;
mod paths;
#[cfg(test)]
mod query_plans;
#[cfg(test)]
pub(crate) mod testing;

pub use challenge_params::{
    ChallengeFilter, ChallengeSort, ListChallenges, ListChallengesParams, DEFAULT_CHALLENGE_SORT,
};
pub use challenge_walk::challenges;
#[cfg(test)]
pub(crate) use challenge_walk::{choose_driver, run_challenges};
#[cfg(test)]
pub(crate) use paths::run_paths;
pub use paths::{paths, ListPaths, ListPathsParams, PathSort, DEFAULT_PATH_SORT};
