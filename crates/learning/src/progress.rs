//! Progress along paths, computed in SQL: one statement for all of the caller's enrolled
//! paths (a walk of the enrolments' primary key, each enrolment carrying its completed
//! count and latest completion, kept by the triggers of migration
//! `2026-11-26-000012_learning_progress`), one for a path's challenges (each probed
//! against the completions' `(user_id, challenge_id)` key). Both are Diesel queries, so
//! their prepared statements are cached.

use core_models::pagination::IdPaging;
use core_models::rank::RankEnum as _;
use core_models::{id, time, AppResult, Caller, Page};
use diesel::prelude::*;
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;
use storage::schema::{challenges, enrollments, learning_paths, path_challenges};
use storage::{Backend, DbConn};
use uuid::Uuid;

use crate::model::{percent, ChallengeProgress, ChallengeRef, Difficulty, PathProgress, PathProgressSummary, PathRef};
use crate::paths;

/// Path id, title, enrolled at, challenges, completed, latest completion.
type SummaryRow = (String, String, i64, i64, i64, Option<i64>);
/// Challenge id, title, difficulty rank, the user's completion time.
type StepRow = (String, String, i32, Option<i64>);

/// A query loading rows of `R`, whose plan and cacheability the tests inspect.
pub(crate) trait RowsQuery<R>:
    RunQueryDsl<DbConn> + LoadQuery<'static, DbConn, R> + QueryFragment<Backend> + QueryId
{
}
impl<R, Q> RowsQuery<R> for Q where
    Q: RunQueryDsl<DbConn> + LoadQuery<'static, DbConn, R> + QueryFragment<Backend> + QueryId
{
}

/// A boxed select of enrollments with their paths.
type EnrolledQuery = diesel::dsl::IntoBoxed<
    'static,
    diesel::dsl::InnerJoinOn<
        enrollments::table,
        learning_paths::table,
        diesel::dsl::Eq<learning_paths::id, enrollments::path_id>,
    >,
    Backend,
>;

/// Every path a user is enrolled in, in no order and before the list's cursor: what the
/// list's pages read and its `count=true` counts.
fn enrolled(user: Uuid) -> EnrolledQuery {
    let q: EnrolledQuery = enrollments::table
        .inner_join(learning_paths::table.on(learning_paths::id.eq(enrollments::path_id)))
        .into_boxed();
    q.filter(enrollments::user_id.eq(user.to_string()))
}

/// Every enrolled path of a user with its counts, in path-id order after a cursor.
pub(crate) fn my_progress_query(user: Uuid, paging: &IdPaging) -> impl RowsQuery<SummaryRow> {
    enrolled(user)
        .filter(enrollments::path_id.gt(paging.after().unwrap_or_default()))
        .order(enrollments::path_id.asc())
        .limit(paging.fetch())
        .select((
            learning_paths::id,
            learning_paths::title,
            enrollments::enrolled_at,
            learning_paths::challenge_count,
            enrollments::completed_count,
            enrollments::last_completed_at,
        ))
}

/// A path's challenges in order with the user's completion time of each.
pub(crate) fn path_progress_query(user: Uuid, path_id: Uuid) -> impl RowsQuery<StepRow> {
    path_challenges::table
        .inner_join(challenges::table.on(challenges::id.eq(path_challenges::challenge_id)))
        .filter(path_challenges::path_id.eq(path_id.to_string()))
        .order(path_challenges::position.asc())
        // A probe of the user's completion per step, whatever the plan (see `with_viewer!`).
        .select((
            challenges::id,
            challenges::title,
            challenges::difficulty,
            crate::challenges::completed_at_of(user.to_string()),
        ))
}

/// The caller's progress along every enrolled path, in path-id order.
pub fn mine(conn: &mut DbConn, caller: &Caller, paging: &IdPaging) -> AppResult<Page<PathProgressSummary>> {
    let rows: Vec<SummaryRow> = my_progress_query(caller.id, paging).load(conn)?;
    let items = rows
        .into_iter()
        .map(|(path_id, title, enrolled_at, total, completed, last_completed_at)| {
            Ok(PathProgressSummary {
                path: PathRef { id: id::from_stored("learning_paths.id", &path_id)?, title },
                enrolled_at: time::from_millis(enrolled_at),
                total_challenges: total,
                completed_challenges: completed,
                percent_complete: percent(completed, total),
                last_completed_at: last_completed_at.map(time::from_millis),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| storage::count::count_up_to(conn, enrolled(caller.id), most))?;
    Ok(paging.page(items, |p| p.path.id.to_string()).with_total(total))
}

/// The caller's progress along one path (enrolled or not).
pub fn along(conn: &mut DbConn, caller: &Caller, path_id: Uuid) -> AppResult<PathProgress> {
    let path = paths::find(conn, path_id)?;
    let enrolled_at: Option<i64> = enrollments::table
        .filter(enrollments::user_id.eq(caller.id.to_string()))
        .filter(enrollments::path_id.eq(path_id.to_string()))
        .select(enrollments::enrolled_at)
        .first(conn)
        .optional()?;
    let rows: Vec<StepRow> = path_progress_query(caller.id, path_id).load(conn)?;
    let challenges = rows
        .into_iter()
        .map(|(challenge_id, title, difficulty, completed_at)| {
            Ok(ChallengeProgress {
                challenge: ChallengeRef {
                    id: id::from_stored("challenges.id", &challenge_id)?,
                    title,
                    difficulty: Difficulty::from_rank(difficulty)
                        .ok_or_else(|| id::corrupt("challenges.difficulty", &difficulty.to_string()))?,
                },
                completed: completed_at.is_some(),
                completed_at: completed_at.map(time::from_millis),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let total = i64::try_from(challenges.len()).unwrap_or(i64::MAX);
    let completed = i64::try_from(challenges.iter().filter(|c| c.completed).count()).unwrap_or(i64::MAX);
    Ok(PathProgress {
        path: PathRef { id: path.id, title: path.title },
        enrolled_at: enrolled_at.map(time::from_millis),
        total_challenges: total,
        completed_challenges: completed,
        percent_complete: percent(completed, total),
        challenges,
    })
}

#[cfg(test)]
mod query_plans {
    use super::*;
    use storage::plan::query_plan;

    #[test]
    fn progress_walks_keys_without_sorting_or_scanning() {
        let db = storage::test_pool_sqlite();
        let mut conn = db.read().unwrap();
        let user = Uuid::now_v7();
        let mine = my_progress_query(user, &IdPaging::first(50));
        assert!(QueryFragment::<Backend>::is_safe_to_cache_prepared(&mine, &Backend::Sqlite(diesel::sqlite::Sqlite))
            .unwrap());
        let plan = query_plan(&mut conn, mine).unwrap();
        assert!(plan.iter().all(|s| !s.starts_with("SCAN") && !s.contains("TEMP B-TREE")), "{plan:#?}");
        assert!(
            !plan.iter().any(|s| s.contains("completions") || s.contains("path_challenges")),
            "the enrolment rows carry the counts: {plan:#?}"
        );
        let along = path_progress_query(user, Uuid::now_v7());
        assert!(QueryFragment::<Backend>::is_safe_to_cache_prepared(&along, &Backend::Sqlite(diesel::sqlite::Sqlite))
            .unwrap());
        let plan = query_plan(&mut conn, along).unwrap();
        assert!(plan.iter().all(|s| !s.starts_with("SCAN") && !s.contains("TEMP B-TREE")), "{plan:#?}");
        assert!(
            plan.iter().any(|s| s.contains("completions") && s.contains("user_id=? AND challenge_id=?")),
            "each path challenge probes the completions key: {plan:#?}"
        );
    }
}
