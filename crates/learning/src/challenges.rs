//! Challenges: functions on an open connection. Only the author changes or deletes one
//! (403 for others), checked against `If-Match` inside the write.

use core_models::rank::RankEnum as _;
use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Caller};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable};
use storage::names::People;
use storage::schema::challenges;
use storage::sql::{sql, TypedSql};
use storage::DbConn;
use uuid::Uuid;

use crate::model::{
    Challenge, ChallengeChanges, ChallengeMe, Difficulty, NewChallenge, RatingSummary, ValidChallengeChanges,
};

/// A challenge row; its author's name comes from memory ([`storage::names`]), not from a
/// join of `users` per row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = challenges, check_for_backend(storage::Backend))]
pub(crate) struct ChallengeRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub difficulty: i32,
    pub topic: String,
    pub tags: String,
    pub author_id: String,
    /// The version of display names the row was read at ([`storage::names::People`]).
    #[diesel(select_expression = storage::names::VERSION, select_expression_type = storage::names::Version)]
    pub names_version: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub completion_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// The rating sort key of a challenge: the average in millionths, 0 when unrated (the
/// `rating_key` generated column computes the same).
pub(crate) fn rating_key(sum: i64, count: i64) -> i64 {
    if count > 0 {
        sum * 1_000_000 / count
    } else {
        0
    }
}

/// A challenge row with the viewer's completion time and stars (`None` when not done, and
/// always for an anonymous viewer), from [`with_viewer!`].
pub(crate) type ViewedRow = (ChallengeRow, Option<i64>, Option<i32>);

/// Selects a [`ViewedRow`] from `$query` (which has `challenges` in its FROM), binds the
/// select to `$q` and evaluates `$then` (once per shape: a fixed query keeps Diesel's
/// prepared statement, boxing is up to `$then`). For a logged-in `$viewer` (an `Option<Uuid>`)
/// the caller's completion and rating of each challenge come from two scalar subqueries
/// ([`completed_at_of`], [`stars_of`]): one query for a whole page, each subquery a probe
/// of a unique key (`completions (user_id, challenge_id)`, `ratings (challenge_id,
/// user_id)`) per row returned, whatever the plan. Without a login nothing is read (the
/// two columns are a bound NULL, not a literal, which would keep Diesel from caching the
/// statement): anonymous reads, most browses, read the challenges alone.
///
/// Why not `LEFT JOIN`s: PostgreSQL plans the lists once per connection without the
/// viewer's id (generic plans, `storage::postgres`), expects a hundred completions of
/// anyone, and joined a page to all of the viewer's completions and to a sequential scan
/// of `ratings` (10 ms a page for a learner with 2,000 completions, against 1 ms).
/// Why not a query per table for the page's ids afterwards: measured on the bench's data,
/// the two `IN (...)` queries cost a logged-in page about twice what the joins do
/// (parsing and binding 50 ids twice, docs/benchmarks.md).
macro_rules! with_viewer {
    ($query:expr, $viewer:expr, |$q:ident| $then:expr) => {{
        match $viewer {
            Some(viewer) => {
                let viewer: String = viewer.to_string();
                let $q = $query.select((
                    $crate::challenges::ChallengeRow::as_select(),
                    $crate::challenges::completed_at_of(viewer.clone()),
                    $crate::challenges::stars_of(viewer),
                ));
                $then
            }
            None => {
                let $q = $query.select((
                    $crate::challenges::ChallengeRow::as_select(),
                    None::<i64>.into_sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(),
                    None::<i32>.into_sql::<diesel::sql_types::Nullable<diesel::sql_types::Integer>>(),
                ));
                $then
            }
        }
    }};
}
pub(crate) use with_viewer;

/// When `viewer` completed the row's challenge (`None`: not done): a probe of
/// `completions (user_id, challenge_id)` in the select list, see [`with_viewer!`].
pub(crate) fn completed_at_of(viewer: String) -> TypedSql<Nullable<BigInt>> {
    sql("(SELECT completions.completed_at FROM completions WHERE completions.user_id = ")
        .bind_text(viewer)
        .sql(" AND completions.challenge_id = challenges.id)")
        .typed()
}

/// The stars `viewer` gave the row's challenge (`None`: no rating): a probe of `ratings
/// (challenge_id, user_id)` in the select list, see [`with_viewer!`].
pub(crate) fn stars_of(viewer: String) -> TypedSql<Nullable<Integer>> {
    sql("(SELECT ratings.stars FROM ratings WHERE ratings.challenge_id = challenges.id AND ratings.user_id = ")
        .bind_text(viewer)
        .sql(")")
        .typed()
}

/// The authors of `rows`, named from memory or read in one statement.
pub(crate) fn authors(conn: &mut DbConn, rows: &[ViewedRow]) -> AppResult<People> {
    People::of_rows(conn, rows, "challenges.author_id", |(row, _, _)| (row.names_version, row.author_id.as_str()))
}

/// The challenge of a [`ViewedRow`], with `me` for a logged-in `viewer`, its author named
/// by `authors` (from [`authors`]).
pub(crate) fn viewed(row: ViewedRow, viewer: Option<Uuid>, authors: &People) -> AppResult<Challenge> {
    let (row, completed_at, stars) = row;
    let mut challenge = row.into_challenge(authors)?;
    challenge.me =
        viewer.map(|_| ChallengeMe { completed_at: completed_at.map(time::from_millis), stars: stars.map(i64::from) });
    Ok(challenge)
}

impl ChallengeRow {
    pub(crate) fn into_challenge(self, authors: &People) -> AppResult<Challenge> {
        let tags: Vec<String> =
            serde_json::from_str(&self.tags).map_err(|_| id::corrupt("challenges.tags", &self.tags))?;
        Ok(Challenge {
            id: id::from_stored("challenges.id", &self.id)?,
            title: self.title,
            description: self.description,
            difficulty: Difficulty::from_rank(self.difficulty)
                .ok_or_else(|| id::corrupt("challenges.difficulty", &self.difficulty.to_string()))?,
            topic: self.topic,
            tags,
            author: authors.user("challenges.author_id", id::from_stored("challenges.author_id", &self.author_id)?)?,
            rating: RatingSummary::of(self.rating_sum, self.rating_count),
            completion_count: self.completion_count,
            created_at: time::from_millis(self.created_at),
            updated_at: time::from_millis(self.updated_at),
            version: self.version,
            me: None,
        })
    }
}

/// The challenge `challenge_id` as `viewer` sees it (with `me` when logged in), or 404.
pub fn find(conn: &mut DbConn, challenge_id: Uuid, viewer: Option<Uuid>) -> AppResult<Challenge> {
    let row: ViewedRow =
        with_viewer!(challenges::table.filter(challenges::id.eq(challenge_id.to_string())), viewer, |q| q
            .first(conn)
            .optional())?
        .ok_or_else(|| AppError::not_found("challenge"))?;
    let authors = authors(conn, std::slice::from_ref(&row))?;
    viewed(row, viewer, &authors)
}

/// Whether the challenge exists (404 otherwise).
pub fn require(conn: &mut DbConn, challenge_id: Uuid) -> AppResult<()> {
    let found: Option<i64> = challenges::table
        .filter(challenges::id.eq(challenge_id.to_string()))
        .select(challenges::seq)
        .first(conn)
        .optional()?;
    found.map(drop).ok_or_else(|| AppError::not_found("challenge"))
}

/// Replaces the challenge's tag rows; each copies the challenge's sort keys (kept in step
/// afterwards by the `challenge_tags_*_key` triggers), and a trigger gives each its row
/// in `challenge_tag_popularity`.
fn set_tags(conn: &mut DbConn, challenge_id: &str, tags: &[String]) -> AppResult<()> {
    sql("DELETE FROM challenge_tags WHERE challenge_id = ").bind_text(challenge_id).untyped().execute(conn)?;
    for tag in tags {
        sql("INSERT INTO challenge_tags (challenge_id, tag, difficulty, rating_key, created_at, title_key) \
             SELECT id, ")
        .bind_text(tag.clone())
        .sql(", difficulty, rating_key, created_at, title FROM challenges WHERE id = ")
        .bind_text(challenge_id)
        .untyped()
        .execute(conn)?;
    }
    Ok(())
}

fn tags_json(tags: &[String]) -> AppResult<String> {
    serde_json::to_string(tags).map_err(|e| AppError::Internal(e.into()))
}

/// Creates a challenge; the caller is its author.
pub fn create(conn: &mut DbConn, caller: &Caller, new: NewChallenge) -> AppResult<Challenge> {
    let valid = new.validate()?;
    let challenge_id = id::new_id().to_string();
    let now = time::to_millis(time::now());
    diesel::insert_into(challenges::table)
        .values((
            challenges::id.eq(&challenge_id),
            challenges::title.eq(&valid.title),
            challenges::description.eq(&valid.description),
            challenges::difficulty.eq(valid.difficulty.rank()),
            challenges::topic.eq(&valid.topic),
            challenges::tags.eq(tags_json(&valid.tags)?),
            challenges::author_id.eq(caller.id.to_string()),
            challenges::created_at.eq(now),
            challenges::updated_at.eq(now),
            challenges::version.eq(1),
        ))
        .execute(conn)?;
    set_tags(conn, &challenge_id, &valid.tags)?;
    find(conn, id::from_stored("challenges.id", &challenge_id)?, Some(caller.id))
}

/// The challenge, if the caller wrote it: 404 for an unknown one, 403 for someone else's.
fn authored(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid) -> AppResult<Challenge> {
    let challenge = find(conn, challenge_id, Some(caller.id))?;
    if challenge.author.id != caller.id {
        return Err(AppError::Forbidden("only its author may change or delete a challenge".into()));
    }
    Ok(challenge)
}

/// Applies `changes` (the author), honouring `If-Match`. A change that changes nothing
/// keeps the version.
pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    challenge_id: Uuid,
    changes: ChallengeChanges,
    if_match: IfMatch,
) -> AppResult<Challenge> {
    let ValidChallengeChanges { title, description, difficulty, topic, tags } = changes.validate()?;
    let before = authored(conn, caller, challenge_id)?;
    if_match.check(before.version)?;
    let after = Challenge {
        title: title.unwrap_or_else(|| before.title.clone()),
        description: description.unwrap_or_else(|| before.description.clone()),
        difficulty: difficulty.unwrap_or(before.difficulty),
        topic: topic.unwrap_or_else(|| before.topic.clone()),
        tags: tags.unwrap_or_else(|| before.tags.clone()),
        ..before.clone()
    };
    if after == before {
        return Ok(before);
    }
    let updated_at = time::now_after(before.updated_at);
    let key = challenge_id.to_string();
    diesel::update(challenges::table.filter(challenges::id.eq(&key)))
        .set((
            challenges::title.eq(&after.title),
            challenges::description.eq(&after.description),
            challenges::difficulty.eq(after.difficulty.rank()),
            challenges::topic.eq(&after.topic),
            challenges::tags.eq(tags_json(&after.tags)?),
            challenges::updated_at.eq(time::to_millis(updated_at)),
            challenges::version.eq(before.version + 1),
        ))
        .execute(conn)?;
    if after.tags != before.tags {
        set_tags(conn, &key, &after.tags)?;
    }
    find(conn, challenge_id, Some(caller.id))
}

/// Deletes a challenge (the author), honouring `If-Match`. It leaves every path that held
/// it (their counts, versions and `updated_at` move), and its completions, ratings,
/// comments and feedback go with it.
pub fn delete(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid, if_match: IfMatch) -> AppResult<()> {
    let before = authored(conn, caller, challenge_id)?;
    if_match.check(before.version)?;
    let key = challenge_id.to_string();
    let now = time::to_millis(time::now());
    sql("UPDATE learning_paths SET version = version + 1, updated_at = ")
        .sql_per_engine("max", "greatest")
        .sql("(updated_at + 1, ")
        .bind_int(now)
        .sql(") WHERE id IN (SELECT path_id FROM path_challenges WHERE challenge_id = ")
        .bind_text(key.clone())
        .sql(")")
        .untyped()
        .execute(conn)?;
    // Foreign keys cascade to path_challenges, tags, completions (and their feedback),
    // ratings and comments; the triggers move the path counts.
    diesel::delete(challenges::table.filter(challenges::id.eq(&key))).execute(conn)?;
    Ok(())
}
