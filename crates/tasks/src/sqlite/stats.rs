//! The stats in SQL: three aggregate queries over indexes, never a load of every task.

use std::collections::HashMap;

use chrono::NaiveDate;
use core_models::AppResult;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use storage::schema::tasks;
use storage::sql::sql;

use super::list::DUE_KEY;
use super::unowned;
use crate::model::{format_date, TaskStatus};
use crate::stats::{BucketCount, StatusCounts, TaskStats, TaskStatsQuery};

#[derive(Debug, QueryableByName)]
struct BucketRow {
    #[diesel(sql_type = BigInt)]
    bucket: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(n: i64) -> u64 {
    // COUNT(*) is never negative.
    u64::try_from(n).unwrap_or(0)
}

/// The stats of `query`, with `today` (UTC) deciding what is overdue.
pub(crate) fn stats(conn: &mut SqliteConnection, query: &TaskStatsQuery, today: NaiveDate) -> AppResult<TaskStats> {
    // Served by a covering index that leads with (owner_id, status).
    let per_status: Vec<(i32, i64)> =
        tasks::table.filter(unowned()).group_by(tasks::status).select((tasks::status, count_star())).load(conn)?;
    let mut by_status = StatusCounts::default();
    for (rank, n) in per_status {
        match TaskStatus::from_rank(rank) {
            Some(TaskStatus::Pending) => by_status.pending = count(n),
            Some(TaskStatus::InProgress) => by_status.in_progress = count(n),
            Some(TaskStatus::Completed) => by_status.completed = count(n),
            None => {}
        }
    }

    // A range of `tasks_by_status_due` per open status.
    let open: Vec<i32> = TaskStatus::OPEN.iter().map(|s| s.rank()).collect();
    let overdue: i64 = tasks::table
        .filter(unowned())
        .filter(tasks::status.eq_any(open))
        .filter(sql(format!("{DUE_KEY} < ")).bind_text(format_date(today)))
        .count()
        .get_result(conn)?;

    // Buckets are numbered from the first one; UTC days are fixed-width in epoch
    // milliseconds, so integer division finds a completion's bucket without date functions.
    // A range of the covering partial index `tasks_by_completed`. `owner_id IS NULL` is the
    // scope of `unowned()`, spelled out because this query is plain SQL.
    let (start, end) = query.span_millis();
    let rows: Vec<BucketRow> = diesel::sql_query(
        "SELECT (completed_at - ?) / ? AS bucket, COUNT(*) AS n FROM tasks \
         WHERE owner_id IS NULL AND completed_at >= ? AND completed_at < ? GROUP BY bucket",
    )
    .bind::<BigInt, _>(start)
    .bind::<BigInt, _>(query.bucket_millis())
    .bind::<BigInt, _>(start)
    .bind::<BigInt, _>(end)
    .load(conn)?;
    let per_bucket: HashMap<i64, i64> = rows.into_iter().map(|r| (r.bucket, r.n)).collect();
    // Empty buckets are filled in here: a chart needs every bucket, SQL returns only those
    // with completions.
    let completed_per_bucket = (0_i64..)
        .zip(query.bucket_starts())
        .map(|(i, start)| BucketCount { start, count: count(per_bucket.get(&i).copied().unwrap_or(0)) })
        .collect();

    Ok(TaskStats { by_status, overdue: count(overdue), completed_per_bucket })
}
