//! How a challenge browse runs: which index it walks ([`Driver`], see the module docs of
//! [`list`](super)) and the SQL of one page, counted or explained on request.

use core_models::rank::RankEnum;
use core_models::{AppResult, Page};
use diesel::prelude::*;
use storage::keyset::{order_clause, KeyColumn, KeysetAfter};
use storage::schema::{challenge_tag_popularity, challenge_tags, challenges, completions, tags};
use storage::sql::{ranks_in, sql, Sql};
use storage::DbConn;

use super::challenge_params::{ChallengeSort, ListChallenges};
use super::{exec, topic_is, Output, PageSql, Run};
use crate::challenges::{viewed, with_viewer, ChallengeRow, ViewedRow};
use crate::model::{Challenge, Difficulty};

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

/// Chooses the walk: for several tags, the rarest one (from the maintained tag counts);
/// `None` when one of them is on no challenge, so nothing can match. One tag is walked
/// without reading its count (a statement fewer; a tag on no challenge walks no rows).
pub(crate) fn choose_driver(conn: &mut DbConn, query: &ListChallenges) -> AppResult<Option<Driver>> {
    let filter = &query.filter;
    if filter.tags.len() > 1 && !matches!(filter.completed, Some((_, true))) {
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

/// The table a page is read from, in the order of one of its indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    /// `challenges` (its sort indexes, a search's matches, or the caller's completions).
    Challenges,
    /// The tag rows of the driver's tag.
    Tags,
    /// The driver's tag's rows in `challenge_tag_popularity`, for a tag browse led by
    /// popularity: the tag rows hold no count (migration 2026-12-07-000200_tag_popularity).
    TagPopularity,
}

/// The walk of `driver` for the sort of `query`.
pub(crate) fn walk_of(query: &ListChallenges, driver: &Driver) -> Walk {
    match driver {
        Driver::Tag(_) if query.lead() == ChallengeSort::Popularity => Walk::TagPopularity,
        Driver::Tag(_) => Walk::Tags,
        _ => Walk::Challenges,
    }
}

/// The SQL key of `field` in one direction on `walk`: unrated challenges come last either
/// way, so ascending ratings sort by `rating_asc_key` (migration 2026-12-05-000050). Keys
/// the walked table lacks are the joined challenge's.
fn key_expr(field: ChallengeSort, walk: Walk, descending: bool) -> &'static str {
    match (field, walk, descending) {
        (ChallengeSort::Popularity, Walk::TagPopularity, _) => "challenge_tag_popularity.completion_count",
        (ChallengeSort::Popularity, _, _) => "challenges.completion_count",
        (ChallengeSort::Rating, Walk::Tags, false) => "challenge_tags.rating_asc_key",
        (ChallengeSort::Rating, _, false) => "challenges.rating_asc_key",
        (ChallengeSort::Difficulty, Walk::Tags, _) => "challenge_tags.difficulty",
        (ChallengeSort::Rating, Walk::Tags, true) => "challenge_tags.rating_key",
        (ChallengeSort::CreatedAt, Walk::Tags, _) => "challenge_tags.created_at",
        (ChallengeSort::Title, Walk::Tags, _) => "challenge_tags.title_key",
        (ChallengeSort::Difficulty, _, _) => "challenges.difficulty",
        (ChallengeSort::Rating, _, true) => "challenges.rating_key",
        (ChallengeSort::CreatedAt, _, _) => "challenges.created_at",
        (ChallengeSort::Title, _, _) => "challenges.title_key",
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

fn page_sql(query: &ListChallenges, driver: &Driver, walk: Walk) -> AppResult<Option<PageSql>> {
    let filter = &query.filter;
    let id_expr = match walk {
        Walk::Challenges => "challenges.id",
        Walk::Tags => "challenge_tags.challenge_id",
        Walk::TagPopularity => "challenge_tag_popularity.challenge_id",
    };
    let mut conditions = Vec::new();
    if let Driver::Tag(tag) = driver {
        let column = if walk == Walk::Tags { "challenge_tags.tag = " } else { "challenge_tag_popularity.tag = " };
        conditions.push(sql(column).bind_text(tag.clone()));
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
    let lead = query.lead();
    match (&filter.difficulties, driver) {
        (None, _) => {}
        (Some(_), Driver::Level(level)) => {
            conditions.push(sql(format!("challenges.difficulty = {}", level.rank())));
        }
        (Some(levels), Driver::Tag(_)) if walk == Walk::Tags => {
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
        // A probe of the caller's completion per row walked. `OFFSET 0` keeps PostgreSQL
        // from turning the `NOT EXISTS` into an anti-join, which its generic plan (made
        // without the caller's id) served by matching every row against all of the
        // caller's completions (30,000 comparisons a page in the plan test); a scalar
        // subquery `IS NULL` instead was estimated to keep one row in 200, and the topic's
        // matches were sorted. SQLite probes per row as written.
        Some((user, false)) => conditions.push(
            sql("NOT EXISTS (SELECT 1 FROM completions AS mine WHERE mine.user_id = ")
                .bind_text(user.to_string())
                .sql(format!(" AND mine.challenge_id = {id_expr}"))
                .sql_per_engine(")", " OFFSET 0)"),
        ),
        None => {}
    }
    let mut columns: Vec<KeyColumn> = query
        .sort
        .keys()
        .iter()
        .map(|k| KeyColumn { expr: key_expr(k.field, walk, k.descending), descending: k.descending, nullable: false })
        .collect();
    columns.push(KeyColumn { expr: id_expr, descending: query.sort.id_descending(), nullable: false });
    let after = query.page.after(&query.sort)?.map(|values| KeysetAfter::new(columns.clone(), values.to_vec()));
    Ok(Some(PageSql { conditions, after, order: order_clause(&columns), limit: i64::from(query.page.limit) + 1 }))
}

/// Runs (or explains) the page query of `query` walking `driver`. A logged-in viewer's
/// completion and rating come in the same query (a probe of each's unique key per row, see
/// [`with_viewer!`]), so a page is one query whatever its size; an anonymous browse, and
/// one of what the caller has not completed, reads neither.
pub(crate) fn run_challenges(
    conn: &mut DbConn,
    query: &ListChallenges,
    driver: &Driver,
    run: Run,
) -> AppResult<Output<ViewedRow>> {
    let walk = walk_of(query, driver);
    let Some(page) = page_sql(query, driver, walk)? else {
        return Ok(if let Run::Count(_) = run { Output::Count(0) } else { Output::Rows(vec![]) });
    };
    // Whose completion and rating to join. `completed=false` shows only challenges the
    // caller has not completed, so no row has their completion, nor their rating (a
    // rating needs a completion: `completions::rate` refuses one without it and
    // `completions::undo` takes it along): `me` is empty on every row without a probe.
    let joined = match query.filter.completed {
        Some((_, false)) => None,
        _ => query.viewer,
    };
    if walk == Walk::TagPopularity {
        let base = challenge_tag_popularity::table
            .inner_join(challenges::table.on(challenges::id.eq(challenge_tag_popularity::challenge_id)));
        if let Run::Count(most) = run {
            return counted!(conn, base.into_boxed(), page, most);
        }
        return with_viewer!(base, joined, |base| exec(conn, shaped!(base.into_boxed(), page), run));
    }
    match driver {
        Driver::Tag(_) => {
            let base =
                challenge_tags::table.inner_join(challenges::table.on(challenges::id.eq(challenge_tags::challenge_id)));
            if let Run::Count(most) = run {
                return counted!(conn, base.into_boxed(), page, most);
            }
            with_viewer!(base, joined, |base| exec(conn, shaped!(base.into_boxed(), page), run))
        }
        Driver::Completed => {
            let base =
                completions::table.inner_join(challenges::table.on(challenges::id.eq(completions::challenge_id)));
            if let Run::Count(most) = run {
                return counted!(conn, base.into_boxed(), page, most);
            }
            // The walked completions are the caller's own (`completed=true` needs a
            // login): only the rating is joined.
            let viewer = query.viewer.map(|v| v.to_string()).unwrap_or_default();
            let base = base
                .select((
                    ChallengeRow::as_select(),
                    completions::completed_at.nullable(),
                    crate::challenges::stars_of(viewer),
                ))
                .into_boxed();
            exec(conn, shaped!(base, page), run)
        }
        Driver::Topic | Driver::Level(_) | Driver::Search | Driver::All => {
            let base = challenges::table;
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
    let authors = crate::challenges::authors(conn, &rows)?;
    let page = Page::from_overfetch(rows, &query.page, &query.sort, |r: &ViewedRow| query.keys_of(&r.0));
    page.with_total(total).try_map(|row| viewed(row, query.viewer, &authors))
}
