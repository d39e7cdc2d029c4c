//! The stats in SQL: sums over the counters that triggers keep beside `tasks` (see the
//! tasks migration), never a load or a count of every task.

use core_models::rank::RankEnum as _;
use std::collections::HashMap;
use storage::DbConn;

use chrono::NaiveDate;
use core_models::{AppResult, Board};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use storage::sql::{sql, UntypedQuery};

use crate::model::{format_date, TaskStatus};
use crate::stats::{BucketCount, StatusCounts, TaskStats, TaskStatsQuery};

fn count(n: i64) -> u64 {
    // COUNT(*) is never negative.
    u64::try_from(n).unwrap_or(0)
}

/// One `(key, n)` row of a counter query.
#[derive(Debug, QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = BigInt)]
    key: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Milliseconds in a UTC day: `task_completions` counts per day since the epoch.
const DAY_MS: i64 = 86_400_000;

// Sums are cast: PostgreSQL's SUM of a BIGINT is a NUMERIC.

/// Tasks per status of the board `owner`.
pub(crate) fn by_status_sql(owner: &str) -> UntypedQuery {
    sql("SELECT CAST(status AS BIGINT) AS key, CAST(SUM(n) AS BIGINT) AS n FROM task_counts WHERE owner_key = ")
        .bind_text(owner)
        .sql(" GROUP BY status")
        .untyped()
}

/// Completions per bucket of `days` days from `first` to `end` (days since the epoch).
pub(crate) fn buckets_sql(owner: &str, first: i64, days: i64, end: i64) -> UntypedQuery {
    sql("SELECT (day - ")
        .bind_int(first)
        .sql(") / ")
        .bind_int(days)
        .sql(" AS key, CAST(SUM(n) AS BIGINT) AS n FROM task_completions WHERE owner_key = ")
        .bind_text(owner)
        .sql(" AND day >= ")
        .bind_int(first)
        .sql(" AND day < ")
        .bind_int(end)
        .sql(" GROUP BY 1")
        .untyped()
}

/// Open tasks of `owner` due before `date` (ranks are constants of the code, not input).
pub(crate) fn overdue_sql(owner: &str, date: String) -> UntypedQuery {
    let open: Vec<String> = TaskStatus::OPEN.iter().map(|s| s.rank().to_string()).collect();
    sql("SELECT CAST(0 AS BIGINT) AS key, CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM task_counts WHERE owner_key = ")
        .bind_text(owner)
        .sql(format!(" AND status IN ({}) AND due_key < ", open.join(", ")))
        .bind_text(date)
        .untyped()
}

/// The counters' key of `board`: `coalesce(owner_id, '')`, as the triggers write it.
pub(crate) fn owner_key(board: Board) -> String {
    board.owner_id().map_or_else(String::new, |id| id.to_string())
}

/// The stats of `board` for `query`, with `today` (UTC) deciding what is overdue. They sum
/// the trigger-kept counters (`task_counts`, `task_completions`): a few hundred rows of
/// the board's own, whatever the number of tasks (each counter's key leads with the owner).
pub(crate) fn stats(conn: &mut DbConn, board: Board, query: &TaskStatsQuery, today: NaiveDate) -> AppResult<TaskStats> {
    let owner = owner_key(board);
    let per_status: Vec<KeyCount> = by_status_sql(&owner).load(conn)?;
    let mut by_status = StatusCounts::default();
    for KeyCount { key: rank, n } in per_status {
        match i32::try_from(rank).ok().and_then(TaskStatus::from_rank) {
            Some(TaskStatus::Pending) => by_status.pending = count(n),
            Some(TaskStatus::InProgress) => by_status.in_progress = count(n),
            Some(TaskStatus::Completed) => by_status.completed = count(n),
            None => {}
        }
    }

    // Open tasks due before today; undated tasks have the stand-in key above every date.
    let overdue: Vec<KeyCount> = overdue_sql(&owner, format_date(today)).load(conn)?;
    let overdue = overdue.first().map_or(0, |row| row.n);

    // Buckets are numbered from the first one: a day's bucket is (day - first) / days per
    // bucket. Empty buckets are filled in below: a chart needs every bucket.
    let (start, end) = query.span_millis();
    let rows: Vec<KeyCount> =
        buckets_sql(&owner, start / DAY_MS, query.bucket_millis() / DAY_MS, end / DAY_MS).load(conn)?;
    let per_bucket: HashMap<i64, i64> = rows.into_iter().map(|r| (r.key, r.n)).collect();
    let completed_per_bucket = (0_i64..)
        .zip(query.bucket_starts())
        .map(|(i, start)| BucketCount { start, count: count(per_bucket.get(&i).copied().unwrap_or(0)) })
        .collect();

    Ok(TaskStats { by_status, overdue: count(overdue), completed_per_bucket })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewTask, TaskChanges};
    use crate::{DbTasks, TaskService};
    use core_models::version::IfMatch;
    use diesel::sql_types::Text;

    #[derive(Debug, PartialEq, Eq, QueryableByName)]
    struct Group {
        #[diesel(sql_type = Text)]
        owner_key: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        status: i32,
        #[diesel(sql_type = Text)]
        due_key: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    #[derive(Debug, PartialEq, Eq, QueryableByName)]
    struct Day {
        #[diesel(sql_type = Text)]
        owner_key: String,
        #[diesel(sql_type = BigInt)]
        day: i64,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// The triggers' counters equal a direct count of `tasks`, per owner (two users and
    /// the anonymous board, interleaved), after every kind of change.
    #[test]
    fn counters_follow_every_change() {
        let db = storage::test_pool();
        let tasks = DbTasks::new(db.database());
        let changes = |status: Option<&str>, due: Option<Option<&str>>| TaskChanges {
            status: status.map(|s| Some(s.to_string())),
            due_date: due.map(|d| d.map(str::to_string)),
            ..TaskChanges::default()
        };
        let boards = [Board::Anonymous, Board::User(uuid::Uuid::now_v7()), Board::User(uuid::Uuid::now_v7())];
        let mut ids = Vec::new();
        for i in 0..45 {
            let status = ["pending", "in_progress", "completed"][i % 3];
            let due_date = (i % 4 != 0).then(|| format!("2026-0{}-1{}", 1 + i % 9, i % 10));
            let new = NewTask { title: format!("t{i}"), status: Some(status.into()), due_date, ..NewTask::default() };
            let board = boards[i % 5 % 3];
            ids.push((board, tasks.create(board, new).unwrap().id));
        }
        for (i, (board, id)) in ids.iter().enumerate() {
            let (board, id) = (*board, *id);
            let update = |c: TaskChanges| tasks.update(board, id, c, IfMatch::Any).map(drop);
            match i % 6 {
                0 => update(changes(Some("completed"), None)).unwrap(),
                1 => update(changes(Some("pending"), Some(None))).unwrap(),
                2 => update(changes(None, Some(Some("2027-01-01")))).unwrap(),
                3 => tasks.delete(board, id, IfMatch::Any).unwrap(),
                4 => update(changes(Some("in_progress"), Some(Some("2026-12-31")))).unwrap(),
                _ => {}
            }
        }
        let mut conn = db.read().unwrap();
        let counted: Vec<Group> = diesel::sql_query(
            "SELECT coalesce(owner_id, '') AS owner_key, status, due_key, COUNT(*) AS n FROM tasks \
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )
        .load(&mut conn)
        .unwrap();
        let kept: Vec<Group> =
            diesel::sql_query("SELECT owner_key, status, due_key, n FROM task_counts WHERE n > 0 ORDER BY 1, 2, 3")
                .load(&mut conn)
                .unwrap();
        assert_eq!(kept, counted);
        let owners: std::collections::HashSet<_> = counted.iter().map(|g| g.owner_key.as_str()).collect();
        assert_eq!(owners.len(), 3, "every board has counted tasks");
        let completions: Vec<Day> = diesel::sql_query(
            "SELECT coalesce(owner_id, '') AS owner_key, completed_at / 86400000 AS day, COUNT(*) AS n FROM tasks \
             WHERE completed_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .load(&mut conn)
        .unwrap();
        let kept_days: Vec<Day> =
            diesel::sql_query("SELECT owner_key, day, n FROM task_completions WHERE n > 0 ORDER BY 1, 2")
                .load(&mut conn)
                .unwrap();
        assert_eq!(kept_days, completions);
        let negative: Vec<Day> = diesel::sql_query(
            "SELECT '' AS owner_key, CAST(0 AS BIGINT) AS day, COUNT(*) AS n FROM task_counts WHERE n < 0 \
             UNION ALL SELECT '', CAST(1 AS BIGINT), COUNT(*) FROM task_completions WHERE n < 0",
        )
        .load(&mut conn)
        .unwrap();
        assert!(negative.iter().all(|d| d.n == 0), "{negative:?}");
    }
}
