//! Full-text search: turns what a user typed into a safe, bounded FTS5 query, and chooses
//! how a page of matches is found.
//!
//! User text is never passed to `MATCH` as is (FTS5 syntax errors would surface as 500s
//! and operators would surprise users). Each word becomes a quoted term, and all terms
//! must match: `grocery  list!` → `"grocery"* "list"*`.
//!
//! The cost of a query is bounded before it reaches SQLite:
//!
//! - at most [`MAX_TERMS`] words: every term is one more doclist to load and intersect,
//!   and a few hundred of them cost seconds; a longer `q` is refused (422 naming `q`),
//!   never silently cut;
//! - a word shorter than [`MIN_PREFIX_CHARS`] is an exact word, not a prefix: `a*` would
//!   expand to every indexed word starting with `a` (a large share of the vocabulary), so
//!   `q=a` finds the word "a" only, while `q=gr` still finds "groceries".
//!
//! # Choosing the plan
//!
//! A page of a search can be found two ways ([`Plan`]), and which is cheap depends on how
//! many rows the words match:
//!
//! - **Lead**: collect the matches from the FTS index, read each row by its key, keep the
//!   board's and sort them. Cost grows with the matches (1.5–2 µs each): right for a rare
//!   word, ruinous for a word in 90% of 100,000 tasks (~150 ms a page).
//! - **Walk**: walk the board's sort index in order, as a list without a search does, and
//!   test each row it visits; the page is done after `limit / share of matching rows`
//!   rows. Right for a frequent word (~60 rows for a word in 90%), ruinous for a rare one
//!   (the whole board).
//!
//! [`FullText::search`] decides before the page is read, in the same read transaction:
//!
//! 1. Each prefix word is replaced by the indexed words it stands for (`invoic` →
//!    `"invoice" OR "invoices"`), read from the index's fts5vocab table, one lookup per
//!    word. FTS5 gathers every match of a *prefix* up front before returning one (so
//!    counting them, or probing one row, costs as much as all of them), while a *whole
//!    word* is read lazily. A prefix that stands for more than [`MAX_EXPANSIONS`] words,
//!    or is not ASCII (FTS5 folds accents, so which words it stands for is FTS5's to say),
//!    stays a prefix. A prefix no indexed word starts with matches nothing: no query runs.
//! 2. The matches are counted, stopping at [`LEAD_MAX`] (lazily, ~0.1 ms for whole words;
//!    with the read budget checked per match). Fewer: lead. Otherwise: walk.
//!
//! The count is over every board (the FTS index is not split by owner), so a word can be
//! frequent overall but rare on the caller's board. A walk therefore visits at most
//! [`WALK_ROWS_PER_ROW`] rows per row of the page; past that it stops and the page is read
//! again as a lead ([`Search::run`]), whose cost is bounded by the matches. The worst case
//! is then about a millisecond of walking plus the lead.
//!
//! A walk tests each row it visits on the row's own text first ([`words_match`]: the
//! words of an ASCII text are runs of letters and digits, as FTS5's tokenizer reads them;
//! about 0.5 µs a row). A row that test cannot judge (text or words outside ASCII, where
//! FTS5 folds accents) is probed in the FTS index by rowid (`EXISTS (… MATCH ? AND rowid
//! = …)`, whole words only) and counts [`PROBE_UNITS`] rows against the walk's limit;
//! when a word stayed a prefix it tests membership in the matches gathered once (`+seq
//! IN (…)`). A lead keeps the board scope off the indexes ([`Search::scope`], a unary
//! `+`), or SQLite's planner would walk the board's sort index anyway.
//!
//! The probes cost 3 µs each with the index in one segment and several times that with
//! many (every lookup seeks in every segment), so the writer tidies the indexes into one
//! segment when it is idle (`Upkeep`, run by [`crate::writer`]).
//!
//! # On PostgreSQL
//!
//! The same two plans over a `tsvector` column and its GIN index ([`postgres_match`]). The
//! GIN index cannot count a word's matches lazily (a prefix's matches are all gathered
//! first: 9 ms for a word in 90,000 rows), so [`Search::steer`] decides from a probe
//! instead: the table's 200 newest rows tested against the words, stopping at 4
//! matches. It then sets the planner's switches for the page (a walk without bitmap scans
//! or sorts, a lead without index walks), in the same statement.

use std::cell::Cell;
use std::time::{Duration, Instant};

use core_models::FieldError;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;

use crate::conn::Engine;
use crate::sql::{sql, Sql};

/// The most words one search may hold.
pub const MAX_TERMS: usize = 16;

/// The shortest word that is searched as a prefix; shorter words match whole words only.
pub const MIN_PREFIX_CHARS: usize = 2;

/// The words of a text, lower-cased: runs of letters and digits. Unbounded: this also
/// tokenises stored text (the in-memory stores); user input goes through [`parse_query`].
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The words of the search text `q` of parameter `field`, checked against [`MAX_TERMS`]:
/// a 422 naming `field` and the limit when there are more.
pub fn parse_query(field: &str, q: &str) -> Result<Vec<String>, FieldError> {
    let mut terms = search_terms(q);
    if terms.len() > MAX_TERMS {
        return Err(FieldError::new(
            field,
            format!("must have at most {MAX_TERMS} words to search for (has {})", terms.len()),
        ));
    }
    // A word given twice finds what it finds once; each copy would be one more list for
    // the index to read and intersect (PostgreSQL read "weekly" twelve times over).
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    Ok(terms)
}

/// Whether `term` is a prefix search (long enough) rather than an exact word.
pub fn is_prefix_term(term: &str) -> bool {
    term.chars().nth(MIN_PREFIX_CHARS - 1).is_some()
}

/// Whether the search term `term` matches the indexed word `word`, as the FTS5 expression
/// of [`fts_match_expr`] does (for stores that search without FTS5).
pub fn term_matches(term: &str, word: &str) -> bool {
    if is_prefix_term(term) {
        word.starts_with(term)
    } else {
        word == term
    }
}

/// The FTS5 `MATCH` expression for `terms`, or `None` when there is nothing to search for.
pub fn fts_match_expr(terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    // Terms hold only letters and digits, so quoting cannot be broken out of.
    let quoted = terms.iter().map(|t| if is_prefix_term(t) { format!("\"{t}\"*") } else { format!("\"{t}\"") });
    Some(quoted.collect::<Vec<_>>().join(" "))
}

/// A table's full-text index, named as the SQL of this code base names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullText {
    /// The table's integer key the index is keyed by (its rowid), e.g. `tasks.seq`.
    pub seq: &'static str,
    /// The two text columns the index holds, e.g. `tasks.title` and `tasks.description`
    /// (a walk tests a row's own text: see [`words_match`]).
    pub columns: [&'static str; 2],
    /// The FTS5 table, e.g. `tasks_fts`.
    pub fts: &'static str,
    /// Its fts5vocab `instance` table (the indexed words), e.g. `tasks_fts_terms`.
    pub terms: &'static str,
}

impl FullText {
    /// The table the index belongs to, e.g. `tasks`.
    pub fn table(&self) -> &'static str {
        table_of(self.seq)
    }
}

/// The table of a qualified column, `tasks` of `tasks.seq`.
fn table_of(column: &'static str) -> &'static str {
    column.split_once('.').map_or(column, |(table, _)| table)
}

/// The filter "`table`'s `search` column matches every word of `terms`" on PostgreSQL,
/// the same rows FTS5 finds for [`fts_match_expr`] on SQLite: each word is folded by the
/// migrations' `search_fold` (lower case, diacritics removed, as FTS5's tokenizer does) and
/// quoted as a lexeme, so no user text is ever tsquery syntax; a word of at least
/// [`MIN_PREFIX_CHARS`] is a prefix (`'gro':*`), a shorter one an exact word. Whether a
/// page reads the matches from the GIN index of `search` or walks a sort index and tests
/// each row is [`Search::steer`]'s choice, made from a probe of the table's newest rows:
/// PostgreSQL's own estimate multiplies the shares of several words and, with a small
/// vocabulary in its statistics, takes every prefix for 2% of the rows.
pub fn postgres_match(table: &str, terms: &[String]) -> Sql {
    let mut q = sql(format!("{table}.search @@ ("));
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            q = q.sql(" && ");
        }
        let close = if is_prefix_term(term) { ")) || ':*')" } else { ")))" };
        q = q.sql("to_tsquery('simple', quote_literal(search_fold(").bind_text(term.clone()).sql(close);
    }
    q.sql(")")
}

/// The full-text index of notes (title and content).
pub const NOTES: FullText = FullText {
    seq: "notes.seq",
    columns: ["notes.title", "notes.content"],
    fts: "notes_fts",
    terms: "notes_fts_terms",
};
/// The full-text index of personal tasks (title and description).
pub const TASKS: FullText = FullText {
    seq: "tasks.seq",
    columns: ["tasks.title", "tasks.description"],
    fts: "tasks_fts",
    terms: "tasks_fts_terms",
};
/// The full-text index of team tasks (title and description).
pub const PROJECT_TASKS: FullText = FullText {
    seq: "project_tasks.seq",
    columns: ["project_tasks.title", "project_tasks.description"],
    fts: "project_tasks_fts",
    terms: "project_tasks_fts_terms",
};
/// Every full-text index of the schema.
pub const ALL: [FullText; 3] = [NOTES, TASKS, PROJECT_TASKS];

/// A search matching fewer rows than this, counted over every board, leads with the
/// full-text index and sorts its matches; one matching more walks the sort index (see the
/// module docs). Measured (`cargo run --release -p storage --example search_plans`, see
/// docs/benchmarks.md): a lead costs about 1.5–2 µs per match, so at most ~2 ms here,
/// while the count that decides stops at this many matches (~0.1 ms).
pub const LEAD_MAX: i64 = 1_000;

/// A walk spends at most this many units per row of the page; one that would spend more
/// (the board holds few of the matches) stops and the search leads instead. A row whose
/// text is ASCII is tested on its own text ([`words_match`], about 0.5 µs) for one unit;
/// any other row is probed in the full-text index (3 µs with the index in one segment,
/// 15–30 µs in several) for [`PROBE_UNITS`], so at most 4 probes per row of the page. A
/// walk that gives up has spent about a millisecond, and every walk that finishes found
/// at least one match in 48 ASCII rows. Measured with `search_plans`
/// (docs/benchmarks.md): at 100,000 rows, walking a word in 1 row of 48 costs about what
/// a lead of its matches does.
pub const WALK_ROWS_PER_ROW: i64 = 48;

/// What a row the walk must probe in the full-text index costs it, in units of an ASCII
/// row tested on its own text (see [`WALK_ROWS_PER_ROW`]).
pub const PROBE_UNITS: i64 = 12;

/// The most indexed words one prefix word may stand for in a whole-word search; a prefix
/// with more (`q=ta`) is searched as a prefix, whose matches FTS5 gathers in one go.
pub const MAX_EXPANSIONS: usize = 8;

/// How a page of a search is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Collect the matches from the full-text index, read each row by its key and sort
    /// them: cost grows with the number of matches (of every board).
    Lead,
    /// Walk the sort index in order and test each row it visits against the text: cost
    /// grows with the rows visited until the page is full.
    Walk,
}

/// A planned search of one table: the `MATCH` expression and how to find its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    text: FullText,
    /// The engine searched: on PostgreSQL the `tsvector` column `search` of the table is
    /// matched against the words, and PostgreSQL's planner chooses how (see
    /// [`postgres_match`]).
    engine: Engine,
    /// The words searched for.
    terms: Vec<String>,
    expr: String,
    /// Whether `expr` names whole words only (every prefix replaced by its indexed words),
    /// so FTS5 reads it lazily and a row can be probed on its own.
    whole_words: bool,
    plan: Plan,
    /// PostgreSQL: whether `plan` is chosen (by [`Search::steer`]'s probe, or by
    /// [`Search::with_plan`]); until then [`Search::filter`] leaves the choice to
    /// PostgreSQL's planner.
    forced: bool,
    /// PostgreSQL: the keys of every match (`{1,2,3}`), when [`Search::steer`] gathered
    /// them for a lead.
    matches: Option<String>,
}

/// The name of the walk's per-row step: `corkboard_walk_step(<key>)` is true while the read
/// is within its budget and the walk within its number of probes, else it fails the
/// statement. Pass a column of the walked table, so SQLite evaluates it per row.
pub const WALK_STEP: &str = "corkboard_walk_step";

/// The error message of a walk stopped for probing too many rows (never reaches a client:
/// [`Search::run`] answers it by leading).
const WALKED_TOO_FAR: &str = "search walk stopped: it probed more rows than a lead would cost";

thread_local! {
    /// The probes this thread's walk may still make; `None` outside a walk.
    static PROBES_LEFT: Cell<Option<i64>> = const { Cell::new(None) };
}

diesel::define_sql_function! {
    /// True while the walk may probe another row (see [`WALK_STEP`]).
    fn corkboard_walk_step(row: BigInt) -> Bool;
}

/// The walk step's result: true, or an error that aborts the statement.
#[derive(Debug, Clone, Copy)]
struct Step(Result<(), &'static str>);

impl ToSql<Bool, Sqlite> for Step {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        match self.0 {
            Ok(()) => {
                out.set_value(1_i32);
                Ok(IsNull::No)
            }
            Err(message) => Err(message.into()),
        }
    }
}

fn step(_row: i64) -> Step {
    if !crate::budget::within_budget() {
        return Step(Err(crate::budget::EXCEEDED));
    }
    match PROBES_LEFT.get() {
        Some(0) => Step(Err(WALKED_TOO_FAR)),
        Some(left) => {
            PROBES_LEFT.set(Some(left - 1));
            Step(Ok(()))
        }
        None => Step(Ok(())),
    }
}

/// The name of the walk's row test: `corkboard_words_match(<text>, <text>, <words>)` is
/// [`words_match`] of the two texts, NULL when it cannot tell (the walk then probes the
/// full-text index, and the probe is charged to the walk: [`PROBE_UNITS`]).
pub const WORDS_MATCH: &str = "corkboard_words_match";

diesel::define_sql_function! {
    /// [`words_match`] of a row's two texts (see [`WORDS_MATCH`]).
    fn corkboard_words_match(first: Nullable<Text>, second: Nullable<Text>, words: Text) -> Nullable<Bool>;
}

/// The words of a search as [`words_match`] reads them: each term, a prefix marked by a
/// trailing `*` (`"invoic* a"`).
fn words_spec(terms: &[String]) -> String {
    let marked = terms.iter().map(|t| if is_prefix_term(t) { format!("{t}*") } else { t.clone() });
    marked.collect::<Vec<_>>().join(" ")
}

/// Whether `texts` together hold every word of `words` (a `words_spec`), as FTS5's
/// `unicode61` tokenizer would find them, read from the texts themselves instead of the
/// index: `Some` when every text and every word is ASCII, `None` otherwise.
///
/// For ASCII text `unicode61` makes a word of each run of ASCII letters and digits and
/// folds it to lower case; every other ASCII character separates words. Outside ASCII it
/// folds accents and has its own idea of what a letter is (a combining accent continues
/// a word), so those rows are left to the index (`None`), as is a non-ASCII search word.
pub fn words_match(texts: &[&str], words: &str) -> Option<bool> {
    if !words.is_ascii() || !texts.iter().all(|t| t.is_ascii()) {
        return None;
    }
    let tokens = || texts.iter().flat_map(|t| t.split(|c: char| !c.is_ascii_alphanumeric())).filter(|w| !w.is_empty());
    Some(words.split(' ').filter(|w| !w.is_empty()).all(|word| match word.strip_suffix('*') {
        Some(prefix) => tokens().any(|t| t.len() >= prefix.len() && t[..prefix.len()].eq_ignore_ascii_case(prefix)),
        None => tokens().any(|t| t.eq_ignore_ascii_case(word)),
    }))
}

/// The SQL function of [`WORDS_MATCH`]: charges the walk for the probe that a `None` will
/// make it run.
fn words_match_of_row(first: Option<String>, second: Option<String>, words: String) -> Option<bool> {
    let texts = [first.as_deref().unwrap_or(""), second.as_deref().unwrap_or("")];
    let found = words_match(&texts, &words);
    if found.is_none() {
        if let Some(left) = PROBES_LEFT.get() {
            // The step charged one unit already.
            PROBES_LEFT.set(Some((left - (PROBE_UNITS - 1)).max(0)));
        }
    }
    found
}

/// Registers [`WALK_STEP`] and [`WORDS_MATCH`] on `conn` (every connection gets them).
pub(crate) fn register(conn: &mut SqliteConnection) -> QueryResult<()> {
    corkboard_walk_step_utils::register_nondeterministic_impl(conn, step)?;
    corkboard_words_match_utils::register_nondeterministic_impl(conn, words_match_of_row)
}

/// Whether `error` is a walk stopped by [`WALK_ROWS_PER_ROW`].
fn walked_too_far(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().contains(WALKED_TOO_FAR))
}

/// How long the writer must have been idle before it tidies the full-text indexes.
const UPKEEP_IDLE: Duration = Duration::from_millis(250);

/// The writer spends at most one part in this many of its time tidying the indexes: after
/// a slice of tidying that took `t`, the next waits at least `t` times this.
const UPKEEP_PACE: u32 = 20;

/// The longest one slice of tidying holds the writer (a write arriving meanwhile waits
/// for the slice to end, not for the whole index).
const UPKEEP_SLICE: Duration = Duration::from_millis(20);

/// Pages one FTS5 `merge` step writes; a slice runs steps until [`UPKEEP_SLICE`].
const MERGE_PAGES: u32 = 64;

/// Keeps each full-text index in few segments, run by the writer thread when it is idle.
///
/// FTS5 writes every commit's words as a new segment and merges segments only when a few
/// of the same size pile up, so a busy index holds several (8 after 100,000 tasks were
/// created through the API). Every lookup seeks in each one: a walk's probe cost 5–25x
/// more with 4–8 segments than with one (see docs/benchmarks.md). Once the writer has
/// been idle for [`UPKEEP_IDLE`] after a write, it merges segments with FTS5's
/// incremental `merge` command (a negative page count: across levels, so the index ends
/// in one segment), in slices of at most about [`UPKEEP_SLICE`], paced by
/// [`UPKEEP_PACE`], until no index has anything left to merge. Unlike `optimize`, which
/// rewrites a whole index at once (150–250 ms per 100,000 tasks, growing with the index),
/// a slice holds back a write that arrives meanwhile by one slice at most.
#[derive(Debug)]
pub(crate) struct Upkeep {
    /// Whether an index may have segments to merge (a write committed since, or the last
    /// slice ended with work left).
    dirty: bool,
    /// The earliest time of the next slice.
    not_before: Instant,
}

impl Upkeep {
    pub(crate) fn new() -> Self {
        Upkeep { dirty: false, not_before: Instant::now() }
    }

    /// A group of writes has committed.
    pub(crate) fn wrote(&mut self) {
        self.dirty = true;
    }

    /// How long to wait for the next write before tidying up; `None`: nothing to tidy.
    pub(crate) fn idle_wait(&self) -> Option<Duration> {
        self.dirty.then(|| UPKEEP_IDLE.max(self.not_before.saturating_duration_since(Instant::now())))
    }

    /// One slice of tidying (the writer has been idle).
    pub(crate) fn run(&mut self, conn: &mut SqliteConnection) {
        let started = Instant::now();
        let mut work_left = false;
        for text in ALL {
            match merge_steps(conn, text.fts, started) {
                Ok(left) => work_left |= left,
                Err(e) => log::warn!(
                    "tidying the full-text index {} failed (searches stay correct, maybe slower): {e}",
                    text.fts
                ),
            }
            if started.elapsed() >= UPKEEP_SLICE {
                work_left = true;
                break;
            }
        }
        let took = started.elapsed();
        log::debug!("full-text indexes tidied for {took:?}, work left: {work_left}");
        self.dirty = work_left;
        self.not_before = Instant::now() + took * UPKEEP_PACE;
    }
}

/// Runs `merge` steps on `fts` until it has nothing to merge (`Ok(false)`) or the slice
/// that began at `started` is used up (`Ok(true)`). FTS5 reports work done as a change
/// count of two or more.
fn merge_steps(conn: &mut SqliteConnection, fts: &str, started: Instant) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Changes {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let total = |conn: &mut SqliteConnection| -> QueryResult<i64> {
        Ok(diesel::sql_query("SELECT total_changes() AS n").get_result::<Changes>(conn)?.n)
    };
    loop {
        let before = total(conn)?;
        diesel::sql_query(format!("INSERT INTO {fts} ({fts}, rank) VALUES ('merge', -{MERGE_PAGES})")).execute(conn)?;
        if total(conn)? - before < 2 {
            return Ok(false);
        }
        if started.elapsed() >= UPKEEP_SLICE {
            return Ok(true);
        }
    }
}

impl FullText {
    /// Plans the search for `terms` (from [`parse_query`]) on this table, or `None` when no
    /// row can match (no word at all, a prefix no indexed word starts with, no match on any
    /// board). Take the connection from [`crate::Database::read_for_search`]. Reads the
    /// index's words and counts matches up to [`LEAD_MAX`]; run it in the same read
    /// transaction as the page, so both see the same rows.
    pub fn search(&self, conn: &mut crate::DbConn, terms: &[String]) -> QueryResult<Option<Search>> {
        let Some(prefix_expr) = fts_match_expr(terms) else { return Ok(None) };
        if conn.engine() == Engine::Postgres {
            return Ok(Some(Search {
                text: *self,
                engine: Engine::Postgres,
                terms: terms.to_vec(),
                expr: prefix_expr,
                whole_words: false,
                plan: Plan::Lead,
                forced: false,
                matches: None,
            }));
        }
        let mut words = Some(Vec::with_capacity(terms.len()));
        for term in terms {
            let group = if !is_prefix_term(term) {
                Some(format!("\"{term}\""))
            } else if !term.is_ascii() {
                // FTS5 folds accents (é → e) before it stores a word; which words a
                // non-ASCII prefix stands for is FTS5's to say, so it stays a prefix.
                None
            } else {
                match self.expand(conn, term)? {
                    Some(found) if found.is_empty() => return Ok(None),
                    Some(found) => {
                        Some(format!("({})", found.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" OR ")))
                    }
                    None => None,
                }
            };
            match (&mut words, group) {
                (Some(words), Some(group)) => words.push(group),
                _ => words = None,
            }
        }
        let whole_words = words.is_some();
        let expr = words.map_or(prefix_expr, |w| w.join(" AND "));
        let budget = crate::budget::WITHIN_BUDGET;
        let fts = self.fts;
        let matches: i64 = crate::sql::sql(format!("SELECT count(*) FROM (SELECT rowid FROM {fts} WHERE {fts} MATCH "))
            .bind_text(expr.clone())
            .sql(format!(" AND {budget}(rowid) LIMIT {LEAD_MAX})"))
            .query::<BigInt>()
            .get_result(conn)?;
        if matches == 0 {
            return Ok(None);
        }
        let plan = if matches < LEAD_MAX { Plan::Lead } else { Plan::Walk };
        Ok(Some(Search {
            text: *self,
            engine: Engine::Sqlite,
            terms: terms.to_vec(),
            expr,
            whole_words,
            plan,
            forced: true,
            matches: None,
        }))
    }

    /// The indexed words starting with the ASCII `prefix`, or `None` past
    /// [`MAX_EXPANSIONS`]. One index lookup per word: the next word is the first one at or
    /// after the last word followed by U+0001, which sorts below every word character.
    fn expand(&self, conn: &mut crate::DbConn, prefix: &str) -> QueryResult<Option<Vec<String>>> {
        let mut found: Vec<String> = Vec::new();
        let mut from = prefix.to_string();
        loop {
            let next: Option<String> = crate::sql::sql(format!("SELECT term FROM {} WHERE term >= ", self.terms))
                .bind_text(from)
                .sql(" LIMIT 1")
                .query::<Text>()
                .get_result(conn)
                .optional()?;
            match next {
                Some(word) if word.starts_with(prefix) => {
                    if found.len() == MAX_EXPANSIONS {
                        return Ok(None);
                    }
                    from = format!("{word}\u{1}");
                    found.push(word);
                }
                _ => return Ok(Some(found)),
            }
        }
    }
}

impl Search {
    /// The plan chosen.
    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// The same search with `plan` forced (to compare plans, e.g. in tests).
    pub fn with_plan(mut self, plan: Plan) -> Self {
        self.plan = plan;
        self.forced = true;
        self.matches = None;
        self
    }

    /// The board scope `column IS ?` (`owner` NULL for the anonymous board). A walk lets it
    /// narrow the sort index; a lead keeps it off the indexes (a unary `+`), or SQLite
    /// would walk the board's sort index anyway and test each row against the whole match
    /// list.
    pub fn scope(&self, column: &'static str, owner: Option<String>) -> crate::sql::Sql {
        match self.engine {
            Engine::Sqlite => crate::sql::sql(format!("{}{column} IS ", self.unindexed())).bind_opt_text(owner),
            Engine::Postgres => crate::sql::column_is(column, owner),
        }
    }

    /// `"+"` for a lead, `""` for a walk: put it before a column that an index could be
    /// walked by (a scope, an equality the index starts with), as [`Self::scope`] does.
    pub fn unindexed(&self) -> &'static str {
        match (self.engine, self.plan) {
            (Engine::Sqlite, Plan::Lead) => "+",
            _ => "",
        }
    }

    /// The filter "this row matches", with the read budget checked on every row visited.
    ///
    /// - lead: `seq IN (<matches>)`, so SQLite starts from the matches;
    /// - walk: the row's own text tested by [`WORDS_MATCH`]; where it cannot tell, over
    ///   whole words a probe, `EXISTS (… MATCH ? AND rowid = <this row>)`, which FTS5
    ///   answers by seeking in each word's list, and with a prefix `+seq IN (<matches>)`,
    ///   the matches gathered once into a lookup list (FTS5 would gather a prefix's
    ///   matches again for every probe).
    ///
    /// On PostgreSQL, once [`Search::steer`] has chosen the plan: a lead is `seq =
    /// ANY(<the matches it gathered>)` (or, forced by [`Search::with_plan`], `seq =
    /// ANY(ARRAY(<the matches, from the GIN index>))`), a walk the row's `search` column
    /// tested by [`postgres_match`] (the settings [`Search::steer`] made keep the GIN
    /// index out of the walk); before that, [`postgres_match`] for the planner to serve.
    pub fn filter(&self) -> crate::sql::Sql {
        if self.engine == Engine::Postgres {
            let table = self.text.table();
            return match (self.forced, self.plan, &self.matches) {
                (true, Plan::Lead, Some(matches)) => {
                    sql(format!("{} = ANY(CAST(", self.text.seq)).bind_text(matches.clone()).sql(" AS bigint[]))")
                }
                (true, Plan::Lead, None) => {
                    sql(format!("{} = ANY(ARRAY(SELECT matched.seq FROM {table} AS matched WHERE ", self.text.seq))
                        .append(postgres_match("matched", &self.terms))
                        .sql("))")
                }
                _ => postgres_match(table, &self.terms),
            };
        }
        let FullText { seq, fts, columns: [first, second], .. } = self.text;
        let budget = crate::budget::WITHIN_BUDGET;
        // A walk tests each row on its own text first; only a row that test cannot judge
        // (not ASCII) goes to the index.
        let own_text = || {
            crate::sql::sql(format!("coalesce({WORDS_MATCH}({first}, {second}, ")).bind_text(words_spec(&self.terms))
        };
        match (self.plan, self.whole_words) {
            // The step is the CASE's condition, so it runs exactly once per visited row
            // (inside the subquery SQLite may evaluate `rowid = …` again per match).
            (Plan::Walk, true) => crate::sql::sql(format!("CASE WHEN {WALK_STEP}({seq}) THEN "))
                .append(own_text())
                .sql(format!("), EXISTS (SELECT 1 FROM {fts} WHERE {fts} MATCH "))
                .bind_text(self.expr.clone())
                .sql(format!(" AND rowid = {seq})) END")),
            (Plan::Walk, false) => crate::sql::sql("(")
                .append(own_text())
                .sql(format!("), +{seq} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH "))
                .bind_text(self.expr.clone())
                .sql(format!(" AND {budget}(rowid))) AND {budget}({seq}))")),
            (Plan::Lead, _) => crate::sql::sql(format!("({seq} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH "))
                .bind_text(self.expr.clone())
                .sql(format!(" AND {budget}(rowid)) AND {budget}({seq}))")),
        }
    }

    /// The search a list counts its matches with (`count=true`, see [`crate::count`]): one
    /// that leads with the matches, read once from the full-text index, whatever the
    /// page's plan. A walk would probe the index once per row of the board it visits
    /// (15–30 µs each), a lead reads each match by its key (1.5–2 µs), and a count visits
    /// every matching row up to its limit, however frequent the words.
    ///
    /// On PostgreSQL the count is planned as the page is (its matches are not read lazily
    /// either way, and a lead of a word in 90% of the rows would gather all of them): run
    /// it with [`Search::steered`], whose probe picks a walk, which stops at the count's
    /// limit, for frequent words and a lead for rare ones. Without it, PostgreSQL's own
    /// estimate could walk a whole board for words never found together.
    pub fn counting(&self) -> Search {
        match self.engine {
            Engine::Sqlite => self.clone().with_plan(Plan::Lead),
            Engine::Postgres => self.clone(),
        }
    }

    /// Runs `page` (which builds the page's query from this search, with [`Self::scope`]
    /// and [`Self::filter`], and loads it) for a page of `rows` rows. A walk that probes
    /// more than [`WALK_ROWS_PER_ROW`] rows per row stops and the page is read again as a
    /// lead: the board holds too few of the many matches for a walk to pay. On PostgreSQL
    /// the page runs [`Search::steered`] (so a caller that reads more after the page in
    /// the same transaction calls [`unsteer`] first).
    pub fn run<T, E>(
        mut self,
        conn: &mut crate::DbConn,
        rows: i64,
        mut page: impl FnMut(&mut crate::DbConn, &Search) -> Result<QueryResult<T>, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        if self.engine == Engine::Postgres {
            return self.steered(conn, |c, search| Ok(page(c, search)??));
        }
        let capped = self.plan == Plan::Walk && self.whole_words;
        PROBES_LEFT.set(capped.then(|| rows.saturating_mul(WALK_ROWS_PER_ROW)));
        let first = page(conn, &self);
        PROBES_LEFT.set(None);
        match first? {
            Err(e) if walked_too_far(&e) => {
                self.plan = Plan::Lead;
                Ok(page(conn, &self)??)
            }
            result => Ok(result?),
        }
    }
}

/// PostgreSQL: how many of a table's newest rows [`Search::steer`] tests against the words
/// to choose a page's plan.
pub const PROBE_ROWS: i64 = 200;

/// PostgreSQL: a search whose words match at least this many of the [`PROBE_ROWS`] newest
/// rows (2%) walks; one matching fewer leads, unless it has more than [`LEAD_MAX`] matches
/// in all (then they are in older rows, and it walks). A walk costs about `rows / share`
/// rows tested (1 µs each), a lead about `share × table` matches read (1–2 µs each): at
/// 100,000 rows and pages of 51 rows they cost the same near a share of 2%.
pub const PROBE_WALK_MATCHES: i64 = 4;

/// The planner settings of a walk on PostgreSQL (see [`Search::steer`]).
const WALK_SETTINGS: &str = "SET LOCAL jit = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
     SET LOCAL enable_sort = off; SET LOCAL enable_indexscan = on";

/// The planner settings of a lead on PostgreSQL (see [`Search::steer`]).
const LEAD_SETTINGS: &str = "SET LOCAL jit = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; \
     SET LOCAL enable_bitmapscan = on; SET LOCAL enable_sort = on";

/// Puts back the planner settings that [`Search::steer`] changed (see [`unsteer`]).
const PLANNER_DEFAULTS: &str = "SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_indexscan TO DEFAULT; \
     SET LOCAL enable_bitmapscan TO DEFAULT; SET LOCAL enable_sort TO DEFAULT; SET LOCAL jit TO DEFAULT";

/// Puts back the planner settings a search steered ([`Search::steer`]) for the rest of the
/// transaction, before statements of another kind; nothing on SQLite. One round trip, so
/// a search whose page ends its transaction does without (the settings end with it).
pub fn unsteer(conn: &mut crate::DbConn) -> QueryResult<()> {
    match conn.engine() {
        Engine::Sqlite => Ok(()),
        Engine::Postgres => conn.batch_execute(PLANNER_DEFAULTS),
    }
}

impl Search {
    /// Runs `statement` (a page or a count, built from the search it is given) on
    /// PostgreSQL with the planner steered to this search's plan ([`Search::steer`]); on
    /// SQLite it just runs it. Call it inside a transaction. The planner's settings stay
    /// steered for the rest of the transaction: a caller that runs other statements
    /// after it calls [`unsteer`] first (a page or a count before another search needs
    /// nothing: every steer makes all its settings).
    pub fn steered<T, E>(
        self,
        conn: &mut crate::DbConn,
        statement: impl FnOnce(&mut crate::DbConn, &Search) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        if self.engine == Engine::Sqlite {
            return statement(conn, &self);
        }
        let steered = self.steer(conn)?;
        statement(conn, &steered)
    }

    /// PostgreSQL: chooses the page's plan and makes the planner follow it for the rest of
    /// the transaction ([`Search::run`] and [`Search::steered`] call it before their
    /// statement; [`unsteer`] ends it). Call it inside a transaction.
    ///
    /// Unless the plan was forced ([`Search::with_plan`]):
    ///
    /// 1. The table's [`PROBE_ROWS`] newest rows (by `seq`, walking the primary key) are
    ///    tested against the words, stopping at [`PROBE_WALK_MATCHES`] matches: a frequent
    ///    word stops after a few rows, a rare one costs about 0.2 ms. At that
    ///    many matches the page walks.
    /// 2. With fewer, the matches are gathered from the GIN index, at most [`LEAD_MAX`] of
    ///    them (the bitmap of every match is built, at about 0.1 µs each, but only these
    ///    rows are read). Up to [`LEAD_MAX`] the page leads with them (`seq = ANY(<the
    ///    matches>)`); past it the words are frequent in older rows and the page walks.
    ///
    /// The settings: a walk without bitmap scans or sorts, so the GIN index stays out and
    /// a sort index is walked; a lead (and the gathering) without index walks, so the
    /// matches come from the GIN index and are read by key. Sequential scans and JIT
    /// compilation are off either way (a path the settings disable costs 10^10 and would
    /// otherwise be compiled). The first step makes its settings in the same statement
    /// (`set_config(…, true)` in its select list): a frequent word costs one round trip.
    ///
    /// PostgreSQL's own estimates cannot make this choice: it multiplies the shares of
    /// several words as if they were independent (two frequent words never found together
    /// walked the whole board) and, with a small vocabulary in its statistics, takes every
    /// prefix for 2% of the rows (a word in 0.05% walked the whole board, two words in 90%
    /// and 100% led with 90,000 matches: 68 ms).
    ///
    /// The probe and the gathering cover the whole table: a word frequent on other
    /// boards but rare on the searched one still walks that board (docs/benchmarks.md,
    /// "Search on PostgreSQL").
    pub fn steer(mut self, conn: &mut crate::DbConn) -> QueryResult<Search> {
        if self.forced {
            conn.batch_execute(if self.plan == Plan::Walk { WALK_SETTINGS } else { LEAD_SETTINGS })?;
            return Ok(self);
        }
        self.forced = true;
        let table = self.text.table();
        let key = self.text.seq.rsplit('.').next().unwrap_or("seq");
        // A setting's value for a walk and for a lead (every one is set, so nothing of an
        // earlier search's steering is left: see `Search::steered`).
        let set = |name: &str, walk: &str, lead: &str| {
            format!("set_config('{name}', CASE WHEN n >= {PROBE_WALK_MATCHES} THEN '{walk}' ELSE '{lead}' END, true)")
        };
        let settings = [
            set("jit", "off", "off"),
            set("enable_seqscan", "off", "off"),
            set("enable_bitmapscan", "off", "on"),
            set("enable_sort", "off", "on"),
            set("enable_indexscan", "on", "off"),
        ];
        // `0 * length(…)`: every setting is made (a function's arguments are all
        // evaluated), and the statement returns the count alone.
        let probed: i64 = sql(format!(
            "SELECT n + 0 * length({}) FROM (SELECT count(*) AS n FROM (SELECT 1 FROM (SELECT probed.search \
             FROM {table} AS probed ORDER BY probed.{key} DESC LIMIT {PROBE_ROWS}) AS probed WHERE ",
            settings.join(" || ")
        ))
        .append(postgres_match("probed", &self.terms))
        .sql(format!(" LIMIT {PROBE_WALK_MATCHES}) AS found) AS counted"))
        .query::<BigInt>()
        .get_result(conn)?;
        if probed >= PROBE_WALK_MATCHES {
            self.plan = Plan::Walk;
            return Ok(self);
        }
        let found: String =
            sql(format!("SELECT array_to_string(ARRAY(SELECT matched.{key} FROM {table} AS matched WHERE "))
                .append(postgres_match("matched", &self.terms))
                .sql(format!(" LIMIT {}), ',')", LEAD_MAX + 1))
                .query::<Text>()
                .get_result(conn)?;
        let matches = if found.is_empty() { 0 } else { found.split(',').count() };
        if i64::try_from(matches).unwrap_or(i64::MAX) > LEAD_MAX {
            conn.batch_execute(WALK_SETTINGS)?;
            self.plan = Plan::Walk;
        } else {
            self.plan = Plan::Lead;
            self.matches = Some(format!("{{{found}}}"));
        }
        Ok(self)
    }
}

/// The filter "this row's text matches `expr`" with a plan fixed by the caller, for
/// tables without a [`FullText`] of their own (the learning crate's challenges and paths,
/// whose browses pick their driving index themselves). The read budget is checked per
/// row both while collecting the matches and while walking the table. With `lead` the
/// match set may drive the plan (the matches are then sorted); without it the `seq` test
/// is kept off the indexes (a unary `+`), so the sort index drives and each row it
/// visits is probed against the matches.
///
/// On PostgreSQL the filter is [`postgres_match`], whatever `lead` says. `None` when
/// `terms` holds no word.
pub fn matching(seq: &'static str, fts: &'static str, terms: &[String], lead: bool) -> Option<Sql> {
    let expr = fts_match_expr(terms)?;
    let budget = crate::budget::WITHIN_BUDGET;
    let plus = if lead { "" } else { "+" };
    let sqlite = sql(format!("({plus}{seq} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH "))
        .bind_text(expr)
        .sql(format!(" AND {budget}(rowid)) AND {budget}({seq}))"));
    Some(sql("").only_on(Engine::Sqlite, sqlite).only_on(Engine::Postgres, postgres_match(table_of(seq), terms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_steps_leave_one_segment_in_bounded_slices() {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let segments = |c: &mut SqliteConnection| {
            diesel::sql_query("SELECT count(DISTINCT segid) AS n FROM t_idx").get_result::<Count>(c).unwrap().n
        };
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query("CREATE VIRTUAL TABLE t USING fts5(x)").execute(&mut c).unwrap();
        for i in 0..40 {
            // One transaction each: one new segment each, as the writer's commits make.
            diesel::sql_query(format!("INSERT INTO t (x) VALUES ('word{i} shared text')")).execute(&mut c).unwrap();
        }
        assert!(segments(&mut c) > 1, "the test needs several segments");
        let mut slices = 0;
        while merge_steps(&mut c, "t", Instant::now()).unwrap() {
            slices += 1;
            assert!(slices < 1_000, "merging ends");
        }
        assert_eq!(segments(&mut c), 1);
        assert!(!merge_steps(&mut c, "t", Instant::now()).unwrap(), "nothing left: no more work reported");
        let hits = diesel::sql_query("SELECT count(*) AS n FROM t WHERE t MATCH 'shared'").get_result::<Count>(&mut c);
        assert_eq!(hits.unwrap().n, 40, "the merged index still finds every row");
    }

    #[test]
    fn terms_drop_operators_and_punctuation() {
        assert_eq!(search_terms("Grocery  list! \"NEAR\" OR *"), ["grocery", "list", "near", "or"]);
        assert!(search_terms(" ?! ").is_empty());
    }

    #[test]
    fn match_expression_quotes_every_term() {
        let terms = search_terms("milk eggs");
        assert_eq!(fts_match_expr(&terms).unwrap(), "\"milk\"* \"eggs\"*");
        assert_eq!(fts_match_expr(&[]), None);
    }

    #[test]
    fn one_letter_words_are_exact_terms() {
        let terms = search_terms("a gr É");
        assert_eq!(fts_match_expr(&terms).unwrap(), "\"a\" \"gr\"* \"é\"");
        assert!(term_matches("a", "a") && !term_matches("a", "apple"));
        assert!(term_matches("gr", "groceries") && !term_matches("gr", "g"));
    }

    #[test]
    fn queries_are_capped_in_words_not_truncated() {
        let most: Vec<String> = (0..MAX_TERMS).map(|i| format!("w{i}")).collect();
        assert_eq!(parse_query("q", &most.join(" ")).unwrap().len(), MAX_TERMS);
        let repeated = parse_query("q", "Weekly monthly weekly WEEKLY note").unwrap();
        assert_eq!(repeated, ["weekly", "monthly", "note"], "each word once, in order");
        let worst = vec!["a"; 240].join(" ");
        let err = parse_query("q", &worst).unwrap_err();
        assert_eq!(err.field, "q");
        assert!(err.message.contains("at most 16 words"), "{}", err.message);
    }

    fn notes_with(texts: &[&str]) -> crate::TestDb {
        let db = crate::test_pool_sqlite();
        let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        db.write(move |c| {
            for (i, text) in texts.iter().enumerate() {
                diesel::sql_query("INSERT INTO notes (id, content, created_at, updated_at) VALUES (?, ?, 0, 0)")
                    .bind::<Text, _>(format!("n{i}"))
                    .bind::<Text, _>(text)
                    .execute(c.conn())?;
            }
            Ok(())
        })
        .unwrap();
        db
    }

    #[test]
    fn a_prefix_becomes_the_indexed_words_it_stands_for() {
        let many: Vec<String> = (0..=MAX_EXPANSIONS).map(|i| format!("word{i}")).collect();
        let db = notes_with(&[
            "Invoices, invoice: a list",
            "INVOICED inventory café",
            &format!("invoice {}", many.join(" ")),
        ]);
        let mut c = db.read().unwrap();
        let search = |c: &mut crate::DbConn, q: &str| NOTES.search(c, &search_terms(q)).unwrap();
        let invoices = search(&mut c, "invoic a").unwrap();
        assert_eq!(invoices.expr, "(\"invoice\" OR \"invoiced\" OR \"invoices\") AND \"a\"");
        assert!(invoices.whole_words);
        assert_eq!(
            search(&mut c, "inv").unwrap().expr,
            "(\"inventory\" OR \"invoice\" OR \"invoiced\" OR \"invoices\")"
        );
        // A prefix no word starts with, or words no note holds together, match nothing: no
        // page query needs to run.
        assert_eq!(search(&mut c, "invoice zebra"), None);
        assert_eq!(search(&mut c, "inventory list"), None);
        assert_eq!(search(&mut c, "?!"), None);
        // More words than are expanded, or a non-ASCII prefix FTS5 folds: searched as prefixes.
        let wide = search(&mut c, "wo inv").unwrap();
        assert_eq!((wide.expr.as_str(), wide.whole_words), ("\"wo\"* \"inv\"*", false));
        let folded = search(&mut c, "café").unwrap();
        assert_eq!((folded.expr.as_str(), folded.whole_words), ("\"café\"*", false));
    }

    #[test]
    fn few_matches_lead_and_many_walk() {
        let mut texts = vec!["milk"; usize::try_from(LEAD_MAX).unwrap() - 1];
        texts.push("milk and honey");
        let db = notes_with(&texts);
        let mut c = db.read().unwrap();
        let plan = |c: &mut crate::DbConn, q: &str| NOTES.search(c, &search_terms(q)).unwrap().unwrap().plan();
        assert_eq!(plan(&mut c, "honey"), Plan::Lead);
        assert_eq!(plan(&mut c, "mil"), Plan::Walk, "LEAD_MAX matches walk");
        assert_eq!(plan(&mut c, "milk hon"), Plan::Lead);
    }

    #[test]
    fn a_row_is_judged_on_its_own_text_as_the_index_judges_it() {
        let texts: [(&str, Option<&str>); 12] = [
            ("Invoice #42 for ACME_corp", Some("due 2026-12-31")),
            ("re-invoice; INVOICES", None),
            ("don't stop", Some("v2.0 release")),
            ("tab\tseparated", Some("new\nlines, (parens) [x] {y} a+b=c")),
            ("", Some("")),
            ("Milk", Some("milky way 42x")),
            ("café au lait", Some("invoice")),
            ("naïve invoice", None),
            ("e\u{301}clair", None),
            ("Straße", None),
            ("ｆｕｌｌ width", None),
            ("plain words only", Some("x")),
        ];
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query("CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize = 'unicode61 remove_diacritics 2')")
            .execute(&mut c)
            .unwrap();
        for (i, (a, b)) in texts.iter().enumerate() {
            diesel::sql_query("INSERT INTO t (rowid, a, b) VALUES (?, ?, ?)")
                .bind::<BigInt, _>(i64::try_from(i).unwrap())
                .bind::<Text, _>(*a)
                .bind::<Nullable<Text>, _>(*b)
                .execute(&mut c)
                .unwrap();
        }
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            rowid: i64,
        }
        let queries = concat!(
            "invoice|invoic|invoices|acme|corp|acme corp|42|4|2026|12|don|t|v2|0|release v|",
            "tab|separated|lines|parens|a|b|c|x|y|milk|milky 42|cafe|caf|au|lait invoice|",
            "naive|eclair|clair|strasse|stra|full|width|words only plain|nothing",
        );
        let mut judged = 0;
        for q in queries.split('|') {
            let terms = search_terms(q);
            let found: Vec<i64> = diesel::sql_query(format!(
                "SELECT rowid FROM t WHERE t MATCH '{}' ORDER BY rowid",
                fts_match_expr(&terms).unwrap()
            ))
            .load::<Row>(&mut c)
            .unwrap()
            .into_iter()
            .map(|r| r.rowid)
            .collect();
            for (i, (a, b)) in texts.iter().enumerate() {
                let row = i64::try_from(i).unwrap();
                match words_match(&[a, b.unwrap_or("")], &words_spec(&terms)) {
                    Some(matched) => {
                        judged += 1;
                        assert_eq!(matched, found.contains(&row), "q={q:?} on {a:?} / {b:?}");
                    }
                    None => assert!(!a.is_ascii() || !q.is_ascii(), "q={q:?} on {a:?}: ASCII is judged"),
                }
            }
        }
        assert!(judged > 200, "most rows are judged on their text ({judged})");
        assert_eq!(words_match(&["Café"], "cafe"), None, "accents are the index's to fold");
        assert_eq!(words_match(&["cafe"], "café"), None);
        assert_eq!(words_spec(&search_terms("invoic a 42")), "invoic* a 42*");
    }

    /// The ids of a page of `rows` notes matching `q` found by a forced walk, newest first,
    /// and the plans it ran.
    fn walked_page(c: &mut crate::DbConn, q: &str, rows: i64) -> (Vec<String>, Vec<Plan>) {
        let walk = NOTES.search(c, &search_terms(q)).unwrap().unwrap().with_plan(Plan::Walk);
        let mut plans = Vec::new();
        let found: Vec<String> = walk
            .run(c, rows, |c, search| -> QueryResult<_> {
                plans.push(search.plan());
                let query = crate::schema::notes::table
                    .select(crate::schema::notes::id)
                    .filter(search.scope("notes.owner_id", None))
                    .filter(search.filter())
                    .order(crate::schema::notes::seq.desc())
                    .limit(rows);
                Ok(query.load(c))
            })
            .unwrap();
        (found, plans)
    }

    #[test]
    fn a_walk_that_visits_too_many_rows_is_read_again_as_a_lead() {
        // The only match is the oldest of 100 ASCII rows, the last one a walk visits.
        let mut texts = vec!["milk"];
        texts.extend(std::iter::repeat_n("tea", 99));
        let db = notes_with(&texts);
        let mut c = db.read().unwrap();
        let milk = vec!["n0".to_string()];
        // Two rows wanted: 96 rows walked at most, so the walk gives up and leads.
        assert_eq!(walked_page(&mut c, "milk", 2), (milk.clone(), vec![Plan::Walk, Plan::Lead]));
        // Three: 144 rows reach it.
        assert_eq!(walked_page(&mut c, "milk", 3), (milk, vec![Plan::Walk]));
    }

    #[test]
    fn a_walk_that_probes_too_many_rows_is_read_again_as_a_lead() {
        // Rows outside ASCII are probed in the index, and a probe counts PROBE_UNITS rows.
        let db = notes_with(&["milk", "thé", "thé", "thé", "thé", "thé", "thé", "thé", "thé", "thé"]);
        let mut c = db.read().unwrap();
        let milk = vec!["n0".to_string()];
        // Two rows wanted: at most 8 probes, the only match is the 10th row walked.
        assert_eq!(walked_page(&mut c, "milk", 2), (milk.clone(), vec![Plan::Walk, Plan::Lead]));
        // Three: 12 probes reach it.
        assert_eq!(walked_page(&mut c, "milk", 3), (milk, vec![Plan::Walk]));
    }
}
