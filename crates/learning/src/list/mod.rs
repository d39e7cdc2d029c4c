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
//! `completed=false` walks the chosen index and skips what the caller completed with
//! `NOT EXISTS` on the completions' `(user_id, challenge_id)` key. Tag rows carry copies
//! of the challenge's sort keys (kept by triggers), so a tag walk is in sort order.
//! Keyset pages compare the walked index's own columns, so a deep page seeks straight to
//! its place. `query_plans` in the tests proves every combination.

use core_models::pagination::{parse_paging, row_keys, PageRequest};
use core_models::rank::RankEnum;
use core_models::sort::{KeyKind, Sort, SortField};
use core_models::{params, text, AppError, AppResult, CursorValue, FieldError, Page, Violations};
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::query_dsl::methods::LoadQuery;
use serde::Deserialize;
use storage::keyset::{order_clause, KeyColumn, KeysetAfter};
use storage::schema::{challenge_tags, challenges, completions, learning_paths, ratings, tags, users};
use storage::sql::{ranks_in, sql, Sql};
use storage::{Backend, DbConn};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::challenges::{rating_key, viewed, with_viewer, ChallengeRow, ViewedRow};
use crate::model::{normalize_tag, Challenge, Difficulty, LearningPath, TOPIC_MAX};
use crate::paths::PathRow;

const SEARCH_MAX: usize = 500;

/// What challenge lists sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeSort {
    /// `difficulty` by rank: beginner < intermediate < advanced < expert.
    Difficulty,
    /// `rating`: the average stars; unrated challenges below every rated one.
    Rating,
    /// `popularity`: the completion count.
    Popularity,
    /// `created_at`.
    CreatedAt,
    /// `title`, ignoring ASCII case.
    Title,
}

impl SortField for ChallengeSort {
    const ALL: &'static [Self] = &[
        ChallengeSort::Difficulty,
        ChallengeSort::Rating,
        ChallengeSort::Popularity,
        ChallengeSort::CreatedAt,
        ChallengeSort::Title,
    ];
    fn name(self) -> &'static str {
        match self {
            ChallengeSort::Difficulty => "difficulty",
            ChallengeSort::Rating => "rating",
            ChallengeSort::Popularity => "popularity",
            ChallengeSort::CreatedAt => "created_at",
            ChallengeSort::Title => "title",
        }
    }
    fn key_kind(self) -> KeyKind {
        match self {
            ChallengeSort::Title => KeyKind::Text,
            _ => KeyKind::Int,
        }
    }
}

/// Newest first.
pub const DEFAULT_CHALLENGE_SORT: &str = "-created_at";

/// The query string of `GET /learning/challenges`. Unknown parameters are refused (422).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListChallengesParams {
    /// Comma list of tags, all of which must be on the challenge (case-insensitive); each
    /// 1 to 50 characters, at most 20 different ones.
    #[param(
        example = "python,lists",
        pattern = "^\\s*[^\\s,\\x00][^,\\x00]{0,49}(,\\s*[^\\s,\\x00][^,\\x00]{0,49})*$"
    )]
    pub tag: Option<String>,
    /// The topic (case-insensitive, whole value), 1 to 100 characters.
    #[param(example = "algorithms", min_length = 1, max_length = 100, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub topic: Option<String>,
    /// Comma list of difficulties: `beginner`, `intermediate`, `advanced`, `expert`.
    #[param(value_type = Option<Vec<Difficulty>>, style = Form, explode = false, min_items = 1,
            example = json!(["intermediate", "advanced"]))]
    pub difficulty: Option<String>,
    /// Full-text search over title and description (every word, as a prefix).
    pub q: Option<String>,
    /// Needs a login (401 without): `true` only challenges the caller completed, `false`
    /// only the others.
    #[param(value_type = Option<bool>)]
    pub completed: Option<String>,
    /// `difficulty`, `rating`, `popularity`, `created_at`, `title`; `-` for descending;
    /// comma-separated, each field at most once. Default `-created_at`.
    #[param(
        example = "-rating,title",
        pattern = "^(-?(difficulty|rating|popularity|created_at|title)(,-?(difficulty|rating|popularity|created_at|title))*)?$"
    )]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many challenges match the filters over all pages
    /// (exact up to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// Which challenges a browse keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeFilter {
    /// All of these tags (lower-case, distinct).
    pub tags: Vec<String>,
    /// This topic.
    pub topic: Option<String>,
    /// Any of these difficulties.
    pub difficulties: Option<Vec<Difficulty>>,
    /// Search words.
    pub search: Option<Vec<String>>,
    /// Completed (`true`) or not (`false`) by this user.
    pub completed: Option<(Uuid, bool)>,
}

impl ChallengeFilter {
    /// The filter as cursors are bound to it: tags in sorted order (all must match, so
    /// their order is not part of the filter) and the topic in the case it is compared in
    /// (`COLLATE NOCASE`: ASCII letters fold).
    fn canonical(&self) -> ChallengeFilter {
        let mut tags = self.tags.clone();
        tags.sort();
        ChallengeFilter { tags, topic: self.topic.as_ref().map(|t| t.to_ascii_lowercase()), ..self.clone() }
    }
}

/// A checked challenge browse.
#[derive(Debug, Clone)]
pub struct ListChallenges {
    /// Page size and position.
    pub page: PageRequest,
    /// Order.
    pub sort: Sort<ChallengeSort>,
    /// Which challenges.
    pub filter: ChallengeFilter,
    /// Who browses: each challenge then carries their `me` (not part of the cursor: it
    /// changes no row of the list).
    pub viewer: Option<Uuid>,
}

/// The `topic` of a filter: trimmed, 1 to 100 characters.
fn topic_filter(raw: &str) -> Result<String, FieldError> {
    text::required("topic", raw, TOPIC_MAX)
}

fn search_filter(raw: Option<&str>, v: &mut Violations) -> Option<Vec<String>> {
    raw.and_then(|raw| v.check(params::search_text("q", raw, SEARCH_MAX)))
        .flatten()
        .and_then(|q| v.check(storage::search::parse_query("q", &q)))
}

impl ListChallenges {
    /// Checks every parameter of a browse by `caller` (`None`: anonymous, for whom
    /// `completed` is a 401).
    pub fn parse(params: ListChallengesParams, caller: Option<Uuid>) -> AppResult<Self> {
        let completed_by = match (&params.completed, caller) {
            (Some(_), None) => {
                return Err(AppError::Unauthorized(
                    "`completed` filters by the caller's completions: send `Authorization: Bearer <token>`".into(),
                ))
            }
            (_, caller) => caller,
        };
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            params.sort.as_deref(),
            DEFAULT_CHALLENGE_SORT,
            &mut v,
        );
        let tags = params
            .tag
            .as_deref()
            .and_then(|raw| v.check(params::comma_list("tag", raw, |t| normalize_tag("tag", t))))
            .map(|mut tags| {
                let mut seen = Vec::new();
                tags.retain(|t| {
                    let fresh = !seen.contains(t);
                    seen.push(t.clone());
                    fresh
                });
                tags
            })
            .unwrap_or_default();
        if tags.len() > crate::model::TAGS_MAX {
            v.push(FieldError::new("tag", format!("a challenge has at most {} tags", crate::model::TAGS_MAX)));
        }
        let topic = params.topic.as_deref().and_then(|raw| v.check(topic_filter(raw)));
        let difficulties =
            params.difficulty.as_deref().and_then(|raw| v.check(Difficulty::parse_list("difficulty", raw)));
        let search = search_filter(params.q.as_deref(), &mut v);
        let completed = params.completed.as_deref().and_then(|raw| v.check(params::boolean("completed", raw)));
        v.finish()?;
        let filter = ChallengeFilter {
            tags,
            topic,
            difficulties,
            search,
            completed: completed.and_then(|c| completed_by.map(|user| (user, c))),
        };
        let mut page = page;
        page.bind("list", &"challenges").bind("filter", &filter.canonical());
        let sort = sort.unwrap_or_else(|| unreachable!("checked by finish"));
        if sort.keys().iter().any(|k| k.field == ChallengeSort::Rating && !k.descending) {
            // Unrated challenges moved from first to last under `sort=rating`: a cursor
            // made before would continue at the wrong place, so it is refused (422).
            page.bind("unrated", &"last");
        }
        Ok(ListChallenges { page, sort, filter, viewer: caller })
    }

    fn keys_of(&self, row: &ChallengeRow) -> Vec<CursorValue> {
        row_keys(&self.sort, &row.id, |field| match field {
            ChallengeSort::Difficulty => CursorValue::Int(i64::from(row.difficulty)),
            ChallengeSort::Rating => {
                let ascending = self.sort.keys().iter().any(|k| k.field == ChallengeSort::Rating && !k.descending);
                match (row.rating_count, ascending) {
                    // `rating_asc_key`: unrated challenges above every rating ascending.
                    (0, true) => CursorValue::Int(UNRATED_ASC_KEY),
                    _ => CursorValue::Int(rating_key(row.rating_sum, row.rating_count)),
                }
            }
            ChallengeSort::Popularity => CursorValue::Int(row.completion_count),
            ChallengeSort::CreatedAt => CursorValue::Int(row.created_at),
            // The key as both engines compare it: SQLite's NOCASE column, PostgreSQL's
            // lower(title) (ASCII case folded on both).
            ChallengeSort::Title => CursorValue::Text(row.title.to_ascii_lowercase()),
        })
    }
}

/// Which index a browse walks (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Driver {
    /// The caller's completions (`completed=true`), sorted.
    Completed,
    /// The tag rows of this tag.
    Tag(String),
    /// The topic's indexes.
    Topic,
    /// One difficulty's indexes.
    Level(Difficulty),
    /// The full-text matches, sorted.
    Search,
    /// The plain sort indexes.
    All,
}

/// Chooses the walk: for tags, the rarest one (from the maintained tag counts). `None`
/// when a tag is on no challenge, so nothing can match.
pub(crate) fn choose_driver(conn: &mut DbConn, query: &ListChallenges) -> AppResult<Option<Driver>> {
    let filter = &query.filter;
    if !filter.tags.is_empty() && !matches!(filter.completed, Some((_, true))) {
        let counts: Vec<(String, i64)> = tags::table
            .filter(tags::tag.eq_any(&filter.tags))
            .filter(tags::challenge_count.gt(0))
            .select((tags::tag, tags::challenge_count))
            .load(conn)?;
        if counts.len() < filter.tags.len() {
            return Ok(None);
        }
        let rarest = counts.into_iter().min_by_key(|(_, n)| *n).map(|(tag, _)| tag);
        return Ok(rarest.map(Driver::Tag));
    }
    Ok(Some(static_driver(query)))
}

/// The walk when no tag is given.
pub(crate) fn static_driver(query: &ListChallenges) -> Driver {
    let filter = &query.filter;
    if matches!(filter.completed, Some((_, true))) {
        Driver::Completed
    } else if let Some(tag) = filter.tags.first() {
        Driver::Tag(tag.clone())
    } else if filter.topic.is_some() {
        Driver::Topic
    } else if let Some([one]) = filter.difficulties.as_deref() {
        Driver::Level(*one)
    } else if filter.search.is_some() {
        Driver::Search
    } else {
        Driver::All
    }
}

/// The SQL key of `field` on the walked table.
/// What `rating_asc_key` holds for a challenge nobody rated: above every rating.
const UNRATED_ASC_KEY: i64 = i64::MAX;

/// The SQL key of `field` in one direction: unrated challenges come last either way, so
/// ascending ratings sort by `rating_asc_key` (migration 2026-12-05-000050).
fn key_expr(field: ChallengeSort, on_tags: bool, descending: bool) -> &'static str {
    match (field, on_tags, descending) {
        (ChallengeSort::Rating, false, false) => "challenges.rating_asc_key",
        (ChallengeSort::Rating, true, false) => "challenge_tags.rating_asc_key",
        (field, on_tags, _) => key_expr_any(field, on_tags),
    }
}

fn key_expr_any(field: ChallengeSort, on_tags: bool) -> &'static str {
    match (field, on_tags) {
        (ChallengeSort::Difficulty, false) => "challenges.difficulty",
        (ChallengeSort::Rating, false) => "challenges.rating_key",
        (ChallengeSort::Popularity, false) => "challenges.completion_count",
        (ChallengeSort::CreatedAt, false) => "challenges.created_at",
        (ChallengeSort::Title, false) => "challenges.title_key",
        (ChallengeSort::Difficulty, true) => "challenge_tags.difficulty",
        (ChallengeSort::Rating, true) => "challenge_tags.rating_key",
        (ChallengeSort::Popularity, true) => "challenge_tags.completion_count",
        (ChallengeSort::CreatedAt, true) => "challenge_tags.created_at",
        (ChallengeSort::Title, true) => "challenge_tags.title_key",
    }
}

fn ranks<E: RankEnum>(values: &[E]) -> String {
    // Ranks come from the enum, never from the client: safe to write into the SQL.
    values.iter().map(|v| v.rank().to_string()).collect::<Vec<_>>().join(", ")
}

/// `column` holds one of `levels`, kept off SQLite's indexes (tested on the rows of the
/// walk; PostgreSQL weighs it by the column's statistics).
fn levels_off_index(column: &str, levels: &[Difficulty]) -> Sql {
    let ranks: Vec<i32> = levels.iter().map(|l| l.rank()).collect();
    sql("").sqlite_no_index().append(ranks_in(column, &ranks))
}

/// The parts of one page's query that do not depend on the table it starts from.
/// `column = topic`, ignoring ASCII case: SQLite's `topic` is NOCASE, PostgreSQL's
/// indexes are on `lower(topic COLLATE "C")` (see the learning migration), so the value is
/// folded in the same way. Unless `indexed`, SQLite is told not to walk a topic index.
fn topic_is(indexed: bool, column: &'static str, topic: &str) -> Sql {
    let start = if indexed { sql("") } else { sql("").sqlite_no_index() };
    start
        .sql_per_engine(format!("{column} = "), format!("lower({column} COLLATE \"C\") = "))
        .bind_text(topic.to_ascii_lowercase())
}

struct PageSql {
    conditions: Vec<Sql>,
    after: Option<KeysetAfter>,
    order: Sql,
    limit: i64,
}

fn page_sql(query: &ListChallenges, driver: &Driver) -> AppResult<Option<PageSql>> {
    let filter = &query.filter;
    let on_tags = matches!(driver, Driver::Tag(_));
    let id_expr = if on_tags { "challenge_tags.challenge_id" } else { "challenges.id" };
    let mut conditions = Vec::new();
    if let Driver::Tag(tag) = driver {
        conditions.push(sql("challenge_tags.tag = ").bind_text(tag.clone()));
    }
    for tag in filter.tags.iter().filter(|t| !matches!(driver, Driver::Tag(d) if d == *t)) {
        conditions.push(
            sql(format!(
                "EXISTS (SELECT 1 FROM challenge_tags AS other WHERE other.challenge_id = {id_expr} AND other.tag = "
            ))
            .bind_text(tag.clone())
            .sql(")"),
        );
    }
    if let Some(topic) = &filter.topic {
        conditions.push(topic_is(*driver == Driver::Topic, "challenges.topic", topic));
    }
    let lead = query.sort.keys().first().map_or(ChallengeSort::CreatedAt, |k| k.field);
    match (&filter.difficulties, driver) {
        (None, _) => {}
        (Some(_), Driver::Level(level)) => {
            conditions.push(sql(format!("challenges.difficulty = {}", level.rank())));
        }
        (Some(levels), Driver::Tag(_)) => {
            conditions.push(levels_off_index("challenge_tags.difficulty", levels));
        }
        (Some(levels), Driver::All) if lead == ChallengeSort::Difficulty => {
            // The sort key itself: the (difficulty, id) walk visits only these ranges.
            conditions.push(sql(format!("challenges.difficulty IN ({})", ranks(levels))));
        }
        (Some(levels), _) => {
            conditions.push(levels_off_index("challenges.difficulty", levels));
        }
    }
    if let Some(terms) = &filter.search {
        let lead = *driver == Driver::Search;
        let Some(matching) = storage::search::matching("challenges.seq", "challenges_fts", terms, lead) else {
            return Ok(None);
        };
        conditions.push(matching);
    }
    match filter.completed {
        Some((user, true)) => conditions.push(sql("completions.user_id = ").bind_text(user.to_string())),
        Some((user, false)) => conditions.push(
            sql("NOT EXISTS (SELECT 1 FROM completions AS mine WHERE mine.user_id = ")
                .bind_text(user.to_string())
                .sql(format!(" AND mine.challenge_id = {id_expr})")),
        ),
        None => {}
    }
    let mut columns: Vec<KeyColumn> = query
        .sort
        .keys()
        .iter()
        .map(|k| KeyColumn {
            expr: key_expr(k.field, on_tags, k.descending),
            descending: k.descending,
            nullable: false,
        })
        .collect();
    columns.push(KeyColumn { expr: id_expr, descending: query.sort.id_descending(), nullable: false });
    let after = query.page.after(&query.sort)?.map(|values| KeysetAfter::new(columns.clone(), values.to_vec()));
    Ok(Some(PageSql { conditions, after, order: order_clause(&columns), limit: i64::from(query.page.limit) + 1 }))
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

/// Runs (or explains) the page query of `query` walking `driver`. A logged-in viewer's
/// completion and rating come in the same query (LEFT JOINs on their unique keys, see
/// [`with_viewer!`]), so a page is one query whatever its size; an anonymous browse, and
/// one of what the caller has not completed, joins nothing.
pub(crate) fn run_challenges(
    conn: &mut DbConn,
    query: &ListChallenges,
    driver: &Driver,
    run: Run,
) -> AppResult<Output<ViewedRow>> {
    let Some(page) = page_sql(query, driver)? else {
        return Ok(if let Run::Count(_) = run { Output::Count(0) } else { Output::Rows(vec![]) });
    };
    let author = users::table.on(users::id.eq(challenges::author_id));
    // Whose completion and rating to join. `completed=false` shows only challenges the
    // caller has not completed, so no row has their completion, nor their rating (a
    // rating needs a completion: `completions::rate` refuses one without it and
    // `completions::undo` takes it along): `me` is empty on every row without a probe.
    let joined = match query.filter.completed {
        Some((_, false)) => None,
        _ => query.viewer,
    };
    match driver {
        Driver::Tag(_) => {
            let base = challenge_tags::table
                .inner_join(challenges::table.on(challenges::id.eq(challenge_tags::challenge_id)))
                .inner_join(author);
            if let Run::Count(most) = run {
                return counted!(conn, base.into_boxed(), page, most);
            }
            with_viewer!(base, joined, |base| exec(conn, shaped!(base.into_boxed(), page), run))
        }
        Driver::Completed => {
            let base = completions::table
                .inner_join(challenges::table.on(challenges::id.eq(completions::challenge_id)))
                .inner_join(author);
            if let Run::Count(most) = run {
                return counted!(conn, base.into_boxed(), page, most);
            }
            // The walked completions are the caller's own (`completed=true` needs a
            // login): only the rating is joined.
            let viewer = query.viewer.map(|v| v.to_string()).unwrap_or_default();
            let base = base
                .left_join(ratings::table.on(ratings::challenge_id.eq(challenges::id).and(ratings::user_id.eq(viewer))))
                .select((ChallengeRow::as_select(), completions::completed_at.nullable(), ratings::stars.nullable()))
                .into_boxed();
            exec(conn, shaped!(base, page), run)
        }
        Driver::Topic | Driver::Level(_) | Driver::Search | Driver::All => {
            let base = challenges::table.inner_join(author);
            if let Run::Count(most) = run {
                return counted!(conn, base.into_boxed(), page, most);
            }
            with_viewer!(base, joined, |base| exec(conn, shaped!(base.into_boxed(), page), run))
        }
    }
}

/// One page of a challenge browse, and its total when `count=true` asked for it.
pub fn challenges(conn: &mut DbConn, query: &ListChallenges) -> AppResult<Page<Challenge>> {
    let Some(driver) = choose_driver(conn, query)? else {
        return Ok(Page::empty(&query.page));
    };
    let rows = run_challenges(conn, query, &driver, Run::Rows)?.rows()?;
    let total = query.page.total(|most| run_challenges(conn, query, &driver, Run::Count(most))?.count())?;
    let page = Page::from_overfetch(rows, &query.page, &query.sort, |r: &ViewedRow| query.keys_of(&r.0));
    page.with_total(total).try_map(|row| viewed(row, query.viewer))
}

// ---- paths ----

/// What path lists sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSort {
    /// `created_at`.
    CreatedAt,
    /// `title`, ignoring ASCII case.
    Title,
}

impl SortField for PathSort {
    const ALL: &'static [Self] = &[PathSort::CreatedAt, PathSort::Title];
    fn name(self) -> &'static str {
        match self {
            PathSort::CreatedAt => "created_at",
            PathSort::Title => "title",
        }
    }
    fn key_kind(self) -> KeyKind {
        match self {
            PathSort::CreatedAt => KeyKind::Int,
            PathSort::Title => KeyKind::Text,
        }
    }
}

/// Newest first.
pub const DEFAULT_PATH_SORT: &str = "-created_at";

/// The query string of `GET /learning/paths`. Unknown parameters are refused (422).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPathsParams {
    /// The topic (case-insensitive, whole value), 1 to 100 characters.
    #[param(min_length = 1, max_length = 100, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub topic: Option<String>,
    /// Full-text search over title and description (every word, as a prefix).
    pub q: Option<String>,
    /// `created_at` or `title`; `-` for descending; comma-separated, each field at most
    /// once. Default `-created_at`.
    #[param(example = "title", pattern = "^(-?(created_at|title)(,-?(created_at|title))*)?$")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many paths match the filters over all pages (exact
    /// up to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// A checked path list request.
#[derive(Debug, Clone)]
pub struct ListPaths {
    /// Page size and position.
    pub page: PageRequest,
    /// Order.
    pub sort: Sort<PathSort>,
    /// This topic only.
    pub topic: Option<String>,
    /// Search words.
    pub search: Option<Vec<String>>,
}

impl ListPaths {
    /// Checks every parameter.
    pub fn parse(params: ListPathsParams) -> AppResult<Self> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            params.sort.as_deref(),
            DEFAULT_PATH_SORT,
            &mut v,
        );
        let topic = params.topic.as_deref().and_then(|raw| v.check(topic_filter(raw)));
        let search = search_filter(params.q.as_deref(), &mut v);
        v.finish()?;
        let mut page = page;
        // Bound like challenges: the topic in the case it is compared in (NOCASE).
        page.bind("list", &"paths").bind("topic", &topic.as_ref().map(|t| t.to_ascii_lowercase())).bind("q", &search);
        Ok(ListPaths { page, sort: sort.unwrap_or_else(|| unreachable!("checked by finish")), topic, search })
    }
}

/// Runs (or explains, or counts) one page of paths.
pub(crate) fn run_paths(conn: &mut DbConn, query: &ListPaths, run: Run) -> AppResult<Output<PathRow>> {
    let mut conditions = Vec::new();
    if let Some(topic) = &query.topic {
        conditions.push(topic_is(true, "learning_paths.topic", topic));
    }
    if let Some(terms) = &query.search {
        // Alone, the matches lead (and are sorted); with a topic, its index walks.
        let lead = query.topic.is_none();
        let Some(matching) = storage::search::matching("learning_paths.seq", "learning_paths_fts", terms, lead) else {
            return Ok(if let Run::Count(_) = run { Output::Count(0) } else { Output::Rows(vec![]) });
        };
        conditions.push(matching);
    }
    let mut columns: Vec<KeyColumn> = query
        .sort
        .keys()
        .iter()
        .map(|k| KeyColumn {
            expr: match k.field {
                PathSort::CreatedAt => "learning_paths.created_at",
                PathSort::Title => "learning_paths.title_key",
            },
            descending: k.descending,
            nullable: false,
        })
        .collect();
    columns.push(KeyColumn { expr: "learning_paths.id", descending: query.sort.id_descending(), nullable: false });
    let after = query.page.after(&query.sort)?.map(|values| KeysetAfter::new(columns.clone(), values.to_vec()));
    let page = PageSql { conditions, after, order: order_clause(&columns), limit: i64::from(query.page.limit) + 1 };
    let base = learning_paths::table.inner_join(users::table.on(users::id.eq(learning_paths::author_id)));
    if let Run::Count(most) = run {
        return counted!(conn, base.into_boxed(), page, most);
    }
    exec(conn, shaped!(base.select(PathRow::as_select()).into_boxed(), page), run)
}

/// One page of paths, and their total when `count=true` asked for it.
pub fn paths(conn: &mut DbConn, query: &ListPaths) -> AppResult<Page<LearningPath>> {
    let rows = run_paths(conn, query, Run::Rows)?.rows()?;
    let total = query.page.total(|most| run_paths(conn, query, Run::Count(most))?.count())?;
    let page = Page::from_overfetch(rows, &query.page, &query.sort, |row: &PathRow| {
        row_keys(&query.sort, &row.id, |field| match field {
            PathSort::CreatedAt => CursorValue::Int(row.created_at),
            // The key as both engines compare it: SQLite's NOCASE column, PostgreSQL's
            // lower(title) (ASCII case folded on both).
            PathSort::Title => CursorValue::Text(row.title.to_ascii_lowercase()),
        })
    });
    page.with_total(total).try_map(PathRow::into_path)
}

/// What the plan tests of both engines browse.
#[cfg(test)]
pub(crate) mod testing {
    use super::ListChallengesParams;

    /// The query string of a browse by `pairs`, sorted by `sort`.
    pub(crate) fn params(pairs: &[(&str, &str)], sort: &str) -> ListChallengesParams {
        let mut p = ListChallengesParams { sort: Some(sort.to_string()), ..ListChallengesParams::default() };
        for (k, val) in pairs {
            let val = Some(val.to_string());
            match *k {
                "tag" => p.tag = val,
                "topic" => p.topic = val,
                "difficulty" => p.difficulty = val,
                "q" => p.q = val,
                "completed" => p.completed = val,
                _ => unreachable!("{k}"),
            }
        }
        p
    }

    /// Every kind of filter, alone and together: tags (a frequent one, several, a rare
    /// one), topic (in another case too), one or several difficulties (neighbouring or
    /// not), `completed` either way, words (frequent, frequent together, rare, with a topic).
    pub(crate) fn challenge_filters() -> Vec<Vec<(&'static str, &'static str)>> {
        vec![
            vec![],
            vec![("tag", "python")],
            vec![("tag", "python,sql,lists")],
            vec![("tag", "tag7")],
            vec![("tag", "python"), ("topic", "algorithms"), ("difficulty", "beginner,expert")],
            vec![("topic", "algorithms")],
            vec![("topic", "Algorithms"), ("difficulty", "advanced")],
            vec![("difficulty", "advanced")],
            vec![("difficulty", "beginner,intermediate")],
            vec![("difficulty", "beginner,advanced")],
            vec![("completed", "false")],
            vec![("tag", "python"), ("completed", "false")],
            vec![("topic", "algorithms"), ("completed", "false")],
            vec![("q", "list")],
            vec![("q", "linked list")],
            vec![("q", "rarely")],
            vec![("q", "linked"), ("topic", "algorithms")],
            vec![("completed", "true")],
            vec![("completed", "true"), ("tag", "python")],
        ]
    }
}

#[cfg(test)]
mod query_plans {
    use super::*;
    use storage::plan::plan_problems;

    use super::testing::{challenge_filters, params};

    /// A cursor of the right shape for `query`, to plan the deep pages too.
    fn cursor_for(query: &ListChallenges) -> String {
        let keys = row_keys(&query.sort, Uuid::now_v7(), |f| match f {
            ChallengeSort::Title => CursorValue::Text("m".into()),
            _ => CursorValue::Int(2),
        });
        query.page.cursor_for(&query.sort.canonical(), keys)
    }

    fn index_of(field: ChallengeSort) -> &'static str {
        match field {
            ChallengeSort::Difficulty => "difficulty",
            ChallengeSort::Rating => "rating",
            ChallengeSort::Popularity => "popularity",
            ChallengeSort::CreatedAt => "created",
            ChallengeSort::Title => "title",
        }
    }

    #[test]
    fn every_filter_and_sort_walks_an_index() {
        let db = storage::test_pool_sqlite();
        let mut conn = db.read().unwrap();
        let me = Uuid::now_v7();
        let filters = challenge_filters();
        for field in ChallengeSort::ALL {
            for sort in [field.name().to_string(), format!("-{}", field.name())] {
                for pairs in &filters {
                    // `completed` needs a login; every other filter is planned for an
                    // anonymous browse too.
                    let viewers: &[Option<Uuid>] =
                        if pairs.iter().any(|(k, _)| *k == "completed") { &[Some(me)] } else { &[Some(me), None] };
                    for (deep, &viewer) in [false, true].into_iter().flat_map(|d| viewers.iter().map(move |v| (d, v))) {
                        let mut query = ListChallenges::parse(params(pairs, &sort), viewer).unwrap();
                        if deep {
                            let cursor = cursor_for(&query);
                            let mut p = params(pairs, &sort);
                            p.cursor = Some(cursor);
                            query = ListChallenges::parse(p, viewer).unwrap();
                        }
                        let driver = static_driver(&query);
                        let Output::Plan(plan) = run_challenges(&mut conn, &query, &driver, Run::Plan).unwrap() else {
                            panic!("no plan")
                        };
                        let context = format!(
                            "sort={sort} {pairs:?} deep={deep} {driver:?} logged in={}: {plan:#?}",
                            viewer.is_some()
                        );
                        for table in ["challenges", "challenge_tags", "completions"] {
                            let scans: Vec<&String> = plan_problems(&plan, table)
                                .into_iter()
                                .filter(|s| !s.contains("TEMP B-TREE"))
                                .collect();
                            assert!(scans.is_empty(), "full scan of {table}: {context}");
                        }
                        let sorts = plan.iter().any(|s| s.contains("USE TEMP B-TREE FOR ORDER BY"));
                        // Only the bounded drivers may sort: one user's completions, or
                        // the matches of a search.
                        let may_sort = matches!(driver, Driver::Completed | Driver::Search);
                        assert!(may_sort || !sorts, "sorts all matches: {context}");
                        let index = match &driver {
                            Driver::Tag(_) => Some(format!("challenge_tags_{}", index_of(*field))),
                            Driver::Topic => Some(format!("challenges_topic_{}", index_of(*field))),
                            Driver::Level(_) if *field == ChallengeSort::Difficulty => {
                                Some("challenges_by_difficulty".to_string())
                            }
                            Driver::Level(_) => Some(format!("challenges_level_{}", index_of(*field))),
                            Driver::All => Some(format!("challenges_by_{}", index_of(*field))),
                            Driver::Completed | Driver::Search => None,
                        };
                        if let Some(index) = index {
                            assert!(plan.iter().any(|s| s.contains(&index)), "walks {index}: {context}");
                        }
                        let not_completed = pairs.iter().any(|(k, v)| *k == "completed" && *v == "false");
                        if viewer.is_none() || not_completed {
                            // Anonymous: nobody's completion or rating is read. Not
                            // completed: none of the caller's can be on a shown row, so
                            // only the walk's `NOT EXISTS` probe reads completions.
                            assert!(!plan.iter().any(|s| s.contains("ratings")), "no rating is joined: {context}");
                            assert!(
                                !plan
                                    .iter()
                                    .any(|s| s.contains("SEARCH completions") || s.contains("SCAN completions")),
                                "no completion is joined: {context}"
                            );
                        }
                        if viewer.is_none() {
                            continue;
                        }
                        if not_completed {
                            assert!(
                                plan.iter().any(|s| s.starts_with("SEARCH mine")
                                    && s.contains("completions")
                                    && s.contains("user_id=? AND challenge_id=?")),
                                "completed=false probes the completions key: {context}"
                            );
                            continue;
                        }
                        // The viewer's rating: a probe of its primary key per row.
                        assert!(
                            plan.iter().any(|s| s.contains("ratings") && s.contains("challenge_id=? AND user_id=?")),
                            "the viewer's rating is joined by its key: {context}"
                        );
                        // The viewer's completion: walked (completed=true) or probed by key.
                        assert!(
                            driver == Driver::Completed
                                || plan
                                    .iter()
                                    .any(|s| s.contains("SEARCH completions")
                                        && s.contains("user_id=? AND challenge_id=?")),
                            "the viewer's completion is joined by its key: {context}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn path_lists_walk_an_index() {
        let db = storage::test_pool_sqlite();
        let mut conn = db.read().unwrap();
        for sort in ["created_at", "-created_at", "title", "-title"] {
            for (topic, q) in [(None, None), (Some("rust"), None), (Some("rust"), Some("intro")), (None, Some("intro"))]
            {
                let params = ListPathsParams {
                    topic: topic.map(str::to_string),
                    q: q.map(str::to_string),
                    sort: Some(sort.to_string()),
                    ..ListPathsParams::default()
                };
                let query = ListPaths::parse(params).unwrap();
                let Output::Plan(plan) = run_paths(&mut conn, &query, Run::Plan).unwrap() else { panic!("no plan") };
                let problems = plan_problems(&plan, "learning_paths");
                let search_alone = topic.is_none() && q.is_some();
                let scans = problems.iter().filter(|s| !s.contains("TEMP B-TREE")).count();
                assert_eq!(scans, 0, "sort={sort} topic={topic:?} q={q:?}: {plan:#?}");
                assert!(search_alone || problems.is_empty(), "sort={sort} topic={topic:?} q={q:?}: {plan:#?}");
            }
        }
    }
}

#[cfg(test)]
mod cursor_versions {
    use super::*;

    /// A cursor made before unrated challenges came last under `sort=rating` (the same
    /// binding without the marker) is refused there, and still read descending.
    #[test]
    fn a_cursor_from_before_unrated_challenges_came_last_is_refused_ascending_only() {
        for (sort, refused) in [("rating", true), ("difficulty,rating", true), ("-rating", false)] {
            let params = |cursor: Option<String>| ListChallengesParams {
                sort: Some(sort.to_string()),
                cursor,
                ..ListChallengesParams::default()
            };
            let query = ListChallenges::parse(params(None), None).unwrap();
            let mut old = PageRequest::default();
            old.bind("list", &"challenges").bind("filter", &query.filter.canonical());
            let keys = row_keys(&query.sort, Uuid::now_v7(), |_| CursorValue::Int(0));
            let cursor = old.cursor_for(&query.sort.canonical(), keys);
            let query = ListChallenges::parse(params(Some(cursor)), None).unwrap();
            assert_eq!(query.page.after(&query.sort).is_err(), refused, "{sort}");
        }
    }
}
