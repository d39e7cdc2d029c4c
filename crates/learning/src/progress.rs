//! Progress along paths, computed in SQL: one statement for all of the caller's enrolled
//! paths (grouped while walking the enrolments' primary key, each path challenge probed
//! against the completions' `(user_id, challenge_id)` key), one for a path's challenges.

use core_models::pagination::IdPaging;
use core_models::rank::RankEnum as _;
use core_models::{id, time, AppResult, Caller, Page};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use storage::schema::enrollments;
use uuid::Uuid;

use crate::model::{percent, ChallengeProgress, ChallengeRef, Difficulty, PathProgress, PathProgressSummary, PathRef};
use crate::paths;

/// Every enrolled path of a user with its counts, in path-id order after a cursor.
const MY_PROGRESS: &str = "\
SELECT p.id AS id, p.title AS title, e.enrolled_at AS enrolled_at, p.challenge_count AS total,
       count(k.challenge_id) AS completed, max(k.completed_at) AS last_completed_at
  FROM enrollments AS e
  JOIN learning_paths AS p ON p.id = e.path_id
  LEFT JOIN path_challenges AS pc ON pc.path_id = e.path_id
  LEFT JOIN completions AS k ON k.user_id = e.user_id AND k.challenge_id = pc.challenge_id
 WHERE e.user_id = ? AND e.path_id > ?
 GROUP BY e.path_id
 ORDER BY e.path_id
 LIMIT ?";

/// A path's challenges in order with the user's completion time of each.
const PATH_PROGRESS: &str = "\
SELECT c.id AS id, c.title AS title, c.difficulty AS difficulty, k.completed_at AS completed_at
  FROM path_challenges AS pc
  JOIN challenges AS c ON c.id = pc.challenge_id
  LEFT JOIN completions AS k ON k.user_id = ? AND k.challenge_id = pc.challenge_id
 WHERE pc.path_id = ?
 ORDER BY pc.position";

#[derive(Debug, QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    enrolled_at: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    completed: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_completed_at: Option<i64>,
}

#[derive(Debug, QueryableByName)]
struct StepRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Integer)]
    difficulty: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    completed_at: Option<i64>,
}

pub(crate) fn my_progress_query(
    user: Uuid,
    paging: &IdPaging,
) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::sqlite::Sqlite, diesel::query_builder::SqlQuery> {
    diesel::sql_query(MY_PROGRESS)
        .into_boxed()
        .bind::<Text, _>(user.to_string())
        .bind::<Text, _>(paging.after().unwrap_or_default())
        .bind::<BigInt, _>(paging.fetch())
}

pub(crate) fn path_progress_query(
    user: Uuid,
    path_id: Uuid,
) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::sqlite::Sqlite, diesel::query_builder::SqlQuery> {
    diesel::sql_query(PATH_PROGRESS).into_boxed().bind::<Text, _>(user.to_string()).bind::<Text, _>(path_id.to_string())
}

/// The caller's progress along every enrolled path, in path-id order.
pub fn mine(conn: &mut SqliteConnection, caller: &Caller, paging: &IdPaging) -> AppResult<Page<PathProgressSummary>> {
    let rows: Vec<SummaryRow> = my_progress_query(caller.id, paging).load(conn)?;
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(PathProgressSummary {
                path: PathRef { id: id::from_stored("learning_paths.id", &row.id)?, title: row.title },
                enrolled_at: time::from_millis(row.enrolled_at),
                total_challenges: row.total,
                completed_challenges: row.completed,
                percent_complete: percent(row.completed, row.total),
                last_completed_at: row.last_completed_at.map(time::from_millis),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(paging.page(items, |p| p.path.id.to_string()))
}

/// The caller's progress along one path (enrolled or not).
pub fn along(conn: &mut SqliteConnection, caller: &Caller, path_id: Uuid) -> AppResult<PathProgress> {
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
        .map(|row| {
            Ok(ChallengeProgress {
                challenge: ChallengeRef {
                    id: id::from_stored("challenges.id", &row.id)?,
                    title: row.title,
                    difficulty: Difficulty::from_rank(row.difficulty)
                        .ok_or_else(|| id::corrupt("challenges.difficulty", &row.difficulty.to_string()))?,
                },
                completed: row.completed_at.is_some(),
                completed_at: row.completed_at.map(time::from_millis),
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
        let db = storage::test_pool();
        let mut conn = db.read().unwrap();
        let user = Uuid::now_v7();
        for plan in [
            query_plan(&mut conn, my_progress_query(user, &IdPaging::first(50))).unwrap(),
            query_plan(&mut conn, path_progress_query(user, Uuid::now_v7())).unwrap(),
        ] {
            assert!(plan.iter().all(|s| !s.starts_with("SCAN") && !s.contains("TEMP B-TREE")), "{plan:#?}");
            assert!(
                plan.iter().any(|s| s.contains("completions") && s.contains("user_id=? AND challenge_id=?")),
                "each path challenge probes the completions key: {plan:#?}"
            );
        }
    }
}
