//! A time budget for every read, enforced inside SQLite's statement loop.
//!
//! The workspace forbids `unsafe`, and Diesel 2.3's `SqliteConnection` exposes neither
//! `sqlite3_progress_handler` nor `sqlite3_interrupt` (nor `sqlite3_limit`, whose limits
//! bound sizes, never time; no `PRAGMA` bounds time either). What Diesel does expose safely
//! is application-defined SQL functions. So every connection gets
//! [`WITHIN_BUDGET`]`(x)`, a non-deterministic function that is true while the current
//! read is within its budget and otherwise fails the statement with an error that maps
//! to 503. Queries whose cost grows with the data (the full-text searches) call it once
//! per row they visit, in the full-text subquery and in the walk, so a statement stops
//! within a few rows of its deadline instead of holding a worker for seconds.
//!
//! What it cannot stop: work SQLite does without producing a row, such as FTS5 merging
//! the doclists of a prefix term before returning its first match, or a sort after the
//! last row. Those are bounded by the search limits of [`crate::search`] instead.
//!
//! The deadline is per thread: [`crate::Database::read`] starts it when it hands out a
//! connection, and the function runs on the thread that steps the statement, which is
//! the thread that borrowed the connection. The writer thread never starts one.

use std::cell::Cell;
use std::time::{Duration, Instant};

use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Bool};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, SqliteConnection};

/// The SQL name of the budget check: `corkboard_within_budget(<a column>)`. Pass a column
/// of the table being walked, so SQLite evaluates it per row, never once per statement.
pub const WITHIN_BUDGET: &str = "corkboard_within_budget";

/// The error message of a statement stopped by its budget (recognised by `AppError`).
pub const EXCEEDED: &str = "query stopped: it ran past its time budget";

/// The clock is read once every this many rows: a row costs well under a microsecond.
const ROWS_PER_CLOCK_READ: u32 = 64;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static ROWS: Cell<u32> = const { Cell::new(0) };
}

diesel::define_sql_function! {
    /// True while the current read is within its budget (see the module).
    fn corkboard_within_budget(row: BigInt) -> Bool;
}

/// Starts a budget of `budget` for the reads of this thread (replacing any earlier one).
pub fn start(budget: Duration) {
    DEADLINE.set(Instant::now().checked_add(budget));
    ROWS.set(0);
}

/// Ends this thread's budget: later statements run unbounded.
pub fn clear() {
    DEADLINE.set(None);
}

/// Whether this thread's current read is still within its budget.
pub(crate) fn within_budget() -> bool {
    let Some(deadline) = DEADLINE.get() else { return true };
    let rows = ROWS.get().wrapping_add(1);
    ROWS.set(rows);
    !rows.is_multiple_of(ROWS_PER_CLOCK_READ) || Instant::now() < deadline
}

/// The function's result: `true`, or an error that aborts the statement.
#[derive(Debug, Clone, Copy)]
struct Verdict(bool);

impl ToSql<Bool, Sqlite> for Verdict {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        if self.0 {
            out.set_value(1_i32);
            Ok(IsNull::No)
        } else {
            Err(EXCEEDED.into())
        }
    }
}

/// Registers [`WITHIN_BUDGET`] on `conn` (every connection gets it, so any query may use it).
pub(crate) fn register(conn: &mut SqliteConnection) -> QueryResult<()> {
    corkboard_within_budget_utils::register_nondeterministic_impl(conn, |_row: i64| Verdict(within_budget()))
}
