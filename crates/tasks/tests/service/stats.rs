//! Stats: counts per status, overdue, and completions per day or week with empty buckets.

use chrono::NaiveDate;
use core_models::version::IfMatch;
use core_models::Board;
use tasks::{BucketCount, StatsBucket, StatusCounts, TaskService, TaskStatsQuery};

use crate::support::{at, backdate_completed, date, days_from_today, due, new, set_status, store, today, Store};

fn completed_at(s: &Store, title: &str, when: &str) {
    let id = s.tasks.create(Board::Anonymous, due(title, None, "completed")).unwrap().id;
    backdate_completed(s, id, at(when));
}

fn buckets(pairs: &[(&str, u64)]) -> Vec<BucketCount> {
    pairs.iter().map(|(start, count)| BucketCount { start: date(start), count: *count }).collect()
}

fn stats_of(s: &Store, from: &str, to: &str, bucket: StatsBucket) -> tasks::TaskStats {
    s.tasks.stats(Board::Anonymous, &TaskStatsQuery::new(date(from), date(to), bucket).unwrap()).unwrap()
}

#[test]
fn counts_per_status_and_overdue_are_current() {
    let s = store();
    let empty =
        s.tasks.stats(Board::Anonymous, &TaskStatsQuery::new(today(), today(), StatsBucket::Day).unwrap()).unwrap();
    assert_eq!((empty.by_status, empty.overdue), (StatusCounts::default(), 0));

    s.tasks.create(Board::Anonymous, due("late", Some(days_from_today(-1)), "pending")).unwrap();
    s.tasks.create(Board::Anonymous, due("late started", Some(days_from_today(-9)), "in_progress")).unwrap();
    s.tasks.create(Board::Anonymous, due("late done", Some(days_from_today(-1)), "completed")).unwrap();
    s.tasks.create(Board::Anonymous, due("due today", Some(days_from_today(0)), "pending")).unwrap();
    s.tasks.create(Board::Anonymous, new("undated")).unwrap();
    let reopened = s.tasks.create(Board::Anonymous, due("reopened", Some(days_from_today(-5)), "completed")).unwrap();
    s.tasks.update(Board::Anonymous, reopened.id, set_status("in_progress"), IfMatch::Any).unwrap();

    let stats =
        s.tasks.stats(Board::Anonymous, &TaskStatsQuery::new(today(), today(), StatsBucket::Day).unwrap()).unwrap();
    assert_eq!(stats.by_status, StatusCounts { pending: 3, in_progress: 2, completed: 1 });
    assert_eq!(stats.overdue, 3, "late, late started, reopened");
    assert_eq!(stats.completed_per_bucket, buckets(&[(&today().to_string(), 1)]));
}

#[test]
fn completions_per_day_include_empty_days_and_respect_utc_day_edges() {
    let s = store();
    completed_at(&s, "before the range", "2026-10-31T23:59:59.999Z");
    completed_at(&s, "first moment", "2026-11-01T00:00:00.000Z");
    completed_at(&s, "same day", "2026-11-01T17:00:00.000Z");
    completed_at(&s, "third day", "2026-11-03T23:59:59.999Z");
    completed_at(&s, "last day", "2026-11-05T08:00:00.000Z");
    completed_at(&s, "after the range", "2026-11-06T00:00:00.000Z");
    // A task completed in the range and then reopened no longer counts.
    let reopened = s.tasks.create(Board::Anonymous, due("reopened", None, "completed")).unwrap().id;
    backdate_completed(&s, reopened, at("2026-11-02T10:00:00Z"));
    s.tasks.update(Board::Anonymous, reopened, set_status("pending"), IfMatch::Any).unwrap();

    let stats = stats_of(&s, "2026-11-01", "2026-11-05", StatsBucket::Day);
    assert_eq!(
        stats.completed_per_bucket,
        buckets(&[("2026-11-01", 2), ("2026-11-02", 0), ("2026-11-03", 1), ("2026-11-04", 0), ("2026-11-05", 1)])
    );
    assert_eq!(stats.by_status.completed, 6, "by_status is not limited to the range");

    let nothing = stats_of(&s, "2025-01-01", "2025-01-03", StatsBucket::Day);
    assert_eq!(nothing.completed_per_bucket, buckets(&[("2025-01-01", 0), ("2025-01-02", 0), ("2025-01-03", 0)]));
}

#[test]
fn weekly_buckets_start_on_monday() {
    let s = store();
    // 2026-11-15 is a Sunday, 2026-11-16 a Monday.
    completed_at(&s, "sunday", "2026-11-15T23:59:59.999Z");
    completed_at(&s, "monday", "2026-11-16T00:00:00.000Z");
    completed_at(&s, "wednesday", "2026-11-18T12:00:00Z");
    completed_at(&s, "next sunday", "2026-11-22T20:00:00Z");
    completed_at(&s, "three weeks on", "2026-12-02T09:00:00Z");

    // From a Wednesday to a Tuesday: whole weeks from the Monday before.
    let stats = stats_of(&s, "2026-11-11", "2026-12-01", StatsBucket::Week);
    assert_eq!(
        stats.completed_per_bucket,
        buckets(&[("2026-11-09", 1), ("2026-11-16", 3), ("2026-11-23", 0), ("2026-11-30", 1)])
    );
    assert!(stats.completed_per_bucket.iter().all(|b| b.start.format("%a").to_string() == "Mon"));
}

#[test]
fn default_range_ends_today() {
    let s = store();
    s.tasks.create(Board::Anonymous, due("done now", None, "completed")).unwrap();
    let query = TaskStatsQuery::parse(tasks::TaskStatsParams::default(), today()).unwrap();
    let stats = s.tasks.stats(Board::Anonymous, &query).unwrap();
    assert_eq!(stats.completed_per_bucket.len(), 30);
    let last = stats.completed_per_bucket.last().unwrap();
    assert_eq!((last.start, last.count), (today(), 1));
    let first: NaiveDate = stats.completed_per_bucket[0].start;
    assert_eq!(first, days_from_today(-29));
    assert_eq!(stats.completed_per_bucket.iter().map(|b| b.count).sum::<u64>(), 1);
}
