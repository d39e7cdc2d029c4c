//! Completions, ratings and peer feedback: functions on an open connection. The rules
//! that can race ("a rating needs a completion", "no feedback on one's own completion")
//! are checked inside the write that depends on them; the counters move by trigger.

use core_models::pagination::IdPaging;
use core_models::{id, time, AppError, AppResult, Caller, Page, UserRef};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use storage::schema::{challenges, completion_feedback, completions, ratings, users};
use storage::sql::sql;
use storage::DbConn;
use uuid::Uuid;

use crate::challenges::require as require_challenge;
use crate::model::{
    Completion, CompletionBody, Feedback, FeedbackBody, MyRating, OwnRating, Put, RatingBody, RatingSummary,
};

/// A completion row with its user's name.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = completions, check_for_backend(storage::Backend))]
struct CompletionRow {
    id: String,
    challenge_id: String,
    user_id: String,
    #[diesel(select_expression = users::display_name, select_expression_type = users::display_name)]
    user_name: String,
    solution: Option<String>,
    completed_at: i64,
}

fn completion_of(row: CompletionRow) -> AppResult<Completion> {
    Ok(Completion {
        id: id::from_stored("completions.id", &row.id)?,
        challenge_id: id::from_stored("completions.challenge_id", &row.challenge_id)?,
        user: UserRef { id: id::from_stored("completions.user_id", &row.user_id)?, display_name: row.user_name },
        solution: row.solution,
        completed_at: time::from_millis(row.completed_at),
    })
}

/// The caller's completion of the challenge, if any: (id, solution).
fn mine(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid) -> AppResult<Option<String>> {
    Ok(completions::table
        .filter(completions::user_id.eq(caller.id.to_string()))
        .filter(completions::challenge_id.eq(challenge_id.to_string()))
        .select(completions::id)
        .first(conn)
        .optional()?)
}

fn find(conn: &mut DbConn, completion_id: &str) -> AppResult<Completion> {
    let row: CompletionRow = completions::table
        .inner_join(users::table)
        .filter(completions::id.eq(completion_id))
        .select(CompletionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("completion"))?;
    completion_of(row)
}

/// The caller's name when the challenge exists (no row when it is unknown), in one
/// statement: what a `PUT` completion reads before it writes.
fn name_if_challenge(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid) -> AppResult<Option<String>> {
    Ok(challenges::table
        .inner_join(users::table.on(users::id.eq(caller.id.to_string())))
        .filter(challenges::id.eq(challenge_id.to_string()))
        .select(users::display_name)
        .first(conn)
        .optional()?)
}

/// A completion as its `INSERT ... RETURNING` (or the read after it) gives it back.
#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    solution: Option<String>,
    #[diesel(sql_type = BigInt)]
    completed_at: i64,
}

/// Marks the challenge completed by the caller (idempotent). On an existing completion a
/// given `solution` replaces the old one (`null` clears it); `completed_at` stays.
///
/// After one statement that reads the challenge and the caller's name, the completion's
/// `INSERT` decides by the `(user_id, challenge_id)` key whether it exists (`ON CONFLICT`:
/// with a solution, the existing one takes it; without, it is left alone and read). The
/// completions are not read first: on PostgreSQL a SERIALIZABLE read of a key that is not
/// there locks a range of that index, and other learners' completions landing in it made
/// writes fail as conflicts and run again (1.7 % of the bench's completions; 0.5 % without
/// that read). A new completion is `BEGIN`, the read, the `INSERT` and `COMMIT`.
pub fn complete(
    conn: &mut DbConn,
    caller: &Caller,
    challenge_id: Uuid,
    body: CompletionBody,
) -> AppResult<Put<Completion>> {
    let solution = body.validate()?;
    let Some(name) = name_if_challenge(conn, caller, challenge_id)? else {
        require_challenge(conn, challenge_id)?;
        return Err(AppError::Internal(anyhow::anyhow!("the caller {} has no user row", caller.id)));
    };
    let user = UserRef { id: caller.id, display_name: name };
    let new_id = id::new_id().to_string();
    let on_conflict = if solution.is_some() {
        ") ON CONFLICT (user_id, challenge_id) DO UPDATE SET solution = excluded.solution"
    } else {
        ") ON CONFLICT (user_id, challenge_id) DO NOTHING"
    };
    let returned: Vec<Stored> =
        sql("INSERT INTO completions (id, challenge_id, user_id, solution, completed_at) VALUES (")
            .bind_text(new_id.clone())
            .sql(", ")
            .bind_text(challenge_id.to_string())
            .sql(", ")
            .bind_text(caller.id.to_string())
            .sql(", ")
            .bind_opt_text(solution.flatten())
            .sql(", ")
            .bind_int(time::to_millis(time::now()))
            .sql(on_conflict)
            .sql(" RETURNING id, solution, completed_at")
            .untyped()
            .load(conn)?;
    let stored = match returned.into_iter().next() {
        Some(stored) => stored,
        // It existed and no solution was given: nothing written; it is read as it is.
        None => sql("SELECT id, solution, completed_at FROM completions WHERE user_id = ")
            .bind_text(caller.id.to_string())
            .sql(" AND challenge_id = ")
            .bind_text(challenge_id.to_string())
            .untyped()
            .get_result(conn)?,
    };
    let created = stored.id == new_id;
    let value = Completion {
        id: id::from_stored("completions.id", &stored.id)?,
        challenge_id,
        user,
        solution: stored.solution,
        completed_at: time::from_millis(stored.completed_at),
    };
    Ok(Put { value, created })
}

/// Undoes the caller's completion (idempotent). The caller's rating goes with it (a
/// rating needs a completion), and so does the feedback on it.
pub fn undo(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid) -> AppResult<()> {
    require_challenge(conn, challenge_id)?;
    let (user, challenge) = (caller.id.to_string(), challenge_id.to_string());
    diesel::delete(ratings::table.filter(ratings::challenge_id.eq(&challenge)).filter(ratings::user_id.eq(&user)))
        .execute(conn)?;
    diesel::delete(
        completions::table.filter(completions::user_id.eq(&user)).filter(completions::challenge_id.eq(&challenge)),
    )
    .execute(conn)?;
    Ok(())
}

/// The caller's own completion of the challenge with its solution: 404 for an unknown
/// challenge, and when the caller has not completed it.
pub fn own(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid) -> AppResult<Completion> {
    require_challenge(conn, challenge_id)?;
    let Some(completion_id) = mine(conn, caller, challenge_id)? else {
        return Err(AppError::NotFound("you have not completed this challenge".into()));
    };
    find(conn, &completion_id)
}

/// Other users' completions of a challenge, oldest first, for peer review.
pub fn others(
    conn: &mut DbConn,
    caller: &Caller,
    challenge_id: Uuid,
    paging: &IdPaging,
) -> AppResult<Page<Completion>> {
    require_challenge(conn, challenge_id)?;
    let listed = || {
        completions::table
            .inner_join(users::table)
            .filter(completions::challenge_id.eq(challenge_id.to_string()))
            .filter(completions::user_id.ne(caller.id.to_string()))
            .into_boxed()
    };
    let mut q = listed().select(CompletionRow::as_select());
    if let Some(after) = paging.after() {
        q = q.filter(completions::id.gt(after));
    }
    let rows: Vec<CompletionRow> = q.order(completions::id.asc()).limit(paging.fetch()).load(conn)?;
    let items = rows.into_iter().map(completion_of).collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| storage::count::count_up_to(conn, listed(), most))?;
    Ok(paging.page(items, |c| c.id.to_string()).with_total(total))
}

/// Rates a challenge the caller completed (403 otherwise); rating again replaces the
/// stars. The challenge's sum and count move by trigger in the same write.
pub fn rate(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid, body: RatingBody) -> AppResult<Put<MyRating>> {
    let stars = body.validate()?;
    require_challenge(conn, challenge_id)?;
    if mine(conn, caller, challenge_id)?.is_none() {
        return Err(AppError::Forbidden("only users who completed a challenge may rate it".into()));
    }
    let (user, challenge) = (caller.id.to_string(), challenge_id.to_string());
    let before: Option<i32> = ratings::table
        .filter(ratings::challenge_id.eq(&challenge))
        .filter(ratings::user_id.eq(&user))
        .select(ratings::stars)
        .first(conn)
        .optional()?;
    let now = time::to_millis(time::now());
    let stars = i32::try_from(stars).map_err(|e| AppError::Internal(e.into()))?;
    match before {
        None => {
            diesel::insert_into(ratings::table)
                .values((
                    ratings::challenge_id.eq(&challenge),
                    ratings::user_id.eq(&user),
                    ratings::stars.eq(stars),
                    ratings::rated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Some(_) => {
            diesel::update(
                ratings::table.filter(ratings::challenge_id.eq(&challenge)).filter(ratings::user_id.eq(&user)),
            )
            .set((ratings::stars.eq(stars), ratings::rated_at.eq(now)))
            .execute(conn)?;
        }
    }
    let (sum, count): (i64, i64) = challenges::table
        .filter(challenges::id.eq(&challenge))
        .select((challenges::rating_sum, challenges::rating_count))
        .first(conn)?;
    Ok(Put {
        value: MyRating {
            challenge_id,
            stars: i64::from(stars),
            rated_at: time::from_millis(now),
            rating: RatingSummary::of(sum, count),
        },
        created: before.is_none(),
    })
}

/// The caller's own rating of the challenge: 404 for an unknown challenge, and when the
/// caller has not rated it.
pub fn own_rating(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid) -> AppResult<OwnRating> {
    require_challenge(conn, challenge_id)?;
    let found: Option<(i32, i64)> = ratings::table
        .filter(ratings::challenge_id.eq(challenge_id.to_string()))
        .filter(ratings::user_id.eq(caller.id.to_string()))
        .select((ratings::stars, ratings::rated_at))
        .first(conn)
        .optional()?;
    let (stars, rated_at) = found.ok_or_else(|| AppError::NotFound("you have not rated this challenge".into()))?;
    Ok(OwnRating { stars: i64::from(stars), rated_at: time::from_millis(rated_at) })
}

/// Withdraws the caller's rating (the completion stays): 404 for an unknown challenge,
/// and when there is no rating to withdraw. The challenge's sum and count move back by
/// trigger (`ratings_delete`) in the same write.
pub fn withdraw_rating(conn: &mut DbConn, caller: &Caller, challenge_id: Uuid) -> AppResult<()> {
    require_challenge(conn, challenge_id)?;
    let deleted = diesel::delete(
        ratings::table
            .filter(ratings::challenge_id.eq(challenge_id.to_string()))
            .filter(ratings::user_id.eq(caller.id.to_string())),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Err(AppError::NotFound("you have not rated this challenge".into()));
    }
    Ok(())
}

type FeedbackRow = (String, String, String, String, String, Option<i32>, i64);

fn feedback_of(row: FeedbackRow) -> AppResult<Feedback> {
    Ok(Feedback {
        id: id::from_stored("completion_feedback.id", &row.0)?,
        completion_id: id::from_stored("completion_feedback.completion_id", &row.1)?,
        author: UserRef { id: id::from_stored("completion_feedback.author_id", &row.2)?, display_name: row.3 },
        body: row.4,
        stars: row.5.map(i64::from),
        created_at: time::from_millis(row.6),
    })
}

/// Gives feedback on someone else's completion (403 on one's own).
pub fn give_feedback(
    conn: &mut DbConn,
    caller: &Caller,
    completion_id: Uuid,
    body: FeedbackBody,
) -> AppResult<Feedback> {
    let (body, stars) = body.validate()?;
    let completion = find(conn, &completion_id.to_string())?;
    if completion.user.id == caller.id {
        return Err(AppError::Forbidden("feedback is for other users' solutions, not one's own".into()));
    }
    let feedback_id = id::new_id();
    let now = time::now();
    let stars = stars.map(i32::try_from).transpose().map_err(|e| AppError::Internal(e.into()))?;
    diesel::insert_into(completion_feedback::table)
        .values((
            completion_feedback::id.eq(feedback_id.to_string()),
            completion_feedback::completion_id.eq(completion_id.to_string()),
            completion_feedback::author_id.eq(caller.id.to_string()),
            completion_feedback::body.eq(&body),
            completion_feedback::stars.eq(stars),
            completion_feedback::created_at.eq(time::to_millis(now)),
        ))
        .execute(conn)?;
    Ok(Feedback {
        id: feedback_id,
        completion_id,
        author: caller.user_ref(),
        body,
        stars: stars.map(i64::from),
        created_at: time::from_millis(time::to_millis(now)),
    })
}

/// The feedback on a completion, oldest first.
pub fn feedback(conn: &mut DbConn, completion_id: Uuid, paging: &IdPaging) -> AppResult<Page<Feedback>> {
    find(conn, &completion_id.to_string())?;
    let listed = || {
        completion_feedback::table
            .inner_join(users::table)
            .filter(completion_feedback::completion_id.eq(completion_id.to_string()))
            .into_boxed()
    };
    let mut q = listed().select((
        completion_feedback::id,
        completion_feedback::completion_id,
        completion_feedback::author_id,
        users::display_name,
        completion_feedback::body,
        completion_feedback::stars,
        completion_feedback::created_at,
    ));
    if let Some(after) = paging.after() {
        q = q.filter(completion_feedback::id.gt(after));
    }
    let rows: Vec<FeedbackRow> = q.order(completion_feedback::id.asc()).limit(paging.fetch()).load(conn)?;
    let items = rows.into_iter().map(feedback_of).collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| storage::count::count_up_to(conn, listed(), most))?;
    Ok(paging.page(items, |f| f.id.to_string()).with_total(total))
}
