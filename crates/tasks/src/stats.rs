//! Progress over time (`GET /tasks/stats`): the request, its checked form with the bucket
//! arithmetic, and the answer.
//!
//! Days are UTC days. Weekly buckets are whole ISO weeks, Monday to Sunday: the range is
//! widened to the Monday on or before `from` and the Sunday on or after `to`, so every
//! bucket counts a full week. Without parameters the range is the 30 days up to today in
//! daily buckets; at most [`MAX_BUCKETS`] buckets are answered.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use core_models::{time, AppError, AppResult, FieldError, Violations};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::model::parse_date;

/// Most buckets one stats request may ask for (e.g. ~2.7 years of days, ~19 years of weeks).
pub const MAX_BUCKETS: i64 = 1000;

/// Days in the default range, ending today.
pub const DEFAULT_DAYS: i64 = 30;

/// The width of one `completed_per_bucket` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatsBucket {
    /// One UTC day.
    Day,
    /// One week, Monday to Sunday (UTC).
    Week,
}

impl StatsBucket {
    fn days(self) -> i64 {
        match self {
            StatsBucket::Day => 1,
            StatsBucket::Week => 7,
        }
    }

    fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "day" => Ok(StatsBucket::Day),
            "week" => Ok(StatsBucket::Week),
            other => Err(FieldError::new("bucket", format!("unknown bucket `{other}`; allowed: day, week"))),
        }
    }

    /// The start of the bucket holding `date`.
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            StatsBucket::Day => date,
            StatsBucket::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        }
    }
}

/// The raw query string of `GET /tasks/stats`; checked by [`TaskStatsQuery::parse`].
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
// Unknown parameters are refused, so a misspelled filter is a 422, not an unfiltered list.
#[serde(deny_unknown_fields)]
pub struct TaskStatsParams {
    /// First day (`YYYY-MM-DD`, inclusive); default 29 days before `to`.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-01")]
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`, inclusive); default today (UTC).
    #[param(value_type = Option<String>, format = Date, example = "2026-11-30")]
    pub to: Option<String>,
    /// `day` (default) or `week` (Monday to Sunday).
    #[param(inline, value_type = Option<StatsBucket>)]
    pub bucket: Option<String>,
}

/// A checked stats request: `from <= to` and at most [`MAX_BUCKETS`] buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskStatsQuery {
    from: NaiveDate,
    to: NaiveDate,
    bucket: StatsBucket,
}

impl TaskStatsQuery {
    /// Checks a range; the error names `from` when the range is reversed or too long.
    pub fn new(from: NaiveDate, to: NaiveDate, bucket: StatsBucket) -> AppResult<Self> {
        if from > to {
            return Err(AppError::invalid("from", format!("must not be after to ({to})")));
        }
        let query = TaskStatsQuery { from, to, bucket };
        let buckets = query.bucket_count();
        if buckets > MAX_BUCKETS {
            let unit = match bucket {
                StatsBucket::Day => "day",
                StatsBucket::Week => "week",
            };
            return Err(AppError::invalid(
                "from",
                format!("the range holds {buckets} {unit} buckets, more than {MAX_BUCKETS}; narrow it or use a wider bucket"),
            ));
        }
        Ok(query)
    }

    /// Parses the parameters with `today` (UTC) for the defaults, naming every bad one.
    pub fn parse(params: TaskStatsParams, today: NaiveDate) -> AppResult<Self> {
        let mut v = Violations::new();
        let from = params.from.as_deref().and_then(|raw| v.check(parse_date("from", raw)));
        let to = params.to.as_deref().and_then(|raw| v.check(parse_date("to", raw)));
        let bucket = params.bucket.as_deref().and_then(|raw| v.check(StatsBucket::parse(raw)));
        v.finish()?;
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        Self::new(from, to, bucket.unwrap_or(StatsBucket::Day))
    }

    /// First day asked for.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// Last day asked for.
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Bucket width.
    pub fn bucket(&self) -> StatsBucket {
        self.bucket
    }

    /// The start of the first bucket (for weeks, the Monday on or before `from`).
    pub fn first_start(&self) -> NaiveDate {
        self.bucket.start_of(self.from)
    }

    fn bucket_count(&self) -> i64 {
        let last = self.bucket.start_of(self.to);
        (last - self.first_start()).num_days() / self.bucket.days() + 1
    }

    /// The start date of every bucket, in order (empty ones included).
    pub fn bucket_starts(&self) -> Vec<NaiveDate> {
        let first = self.first_start();
        (0..self.bucket_count()).map(|i| first + Duration::days(i * self.bucket.days())).collect()
    }

    /// The counted time span in epoch milliseconds, `[start, end)`: whole buckets, UTC.
    pub(crate) fn span_millis(&self) -> (i64, i64) {
        let start = millis_at_midnight(self.first_start());
        (start, start + self.bucket_count() * self.bucket_millis())
    }

    /// One bucket's width in milliseconds (UTC days have no DST: always 86,400,000 ms).
    pub(crate) fn bucket_millis(&self) -> i64 {
        self.bucket.days() * 86_400_000
    }
}

fn millis_at_midnight(date: NaiveDate) -> i64 {
    time::to_millis(date.and_time(NaiveTime::MIN).and_utc())
}

/// How many tasks are in each status now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusCounts {
    /// Tasks not started.
    pub pending: u64,
    /// Tasks in progress.
    pub in_progress: u64,
    /// Tasks done.
    pub completed: u64,
}

/// Completions in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct BucketCount {
    /// First day of the bucket (a Monday for weekly buckets).
    #[schema(value_type = String, format = Date, example = "2026-11-23")]
    pub start: chrono::NaiveDate,
    /// Tasks whose `completed_at` falls in the bucket (and are still completed).
    pub count: u64,
}

/// The answer of `GET /tasks/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TaskStats {
    /// Current number of tasks per status (all tasks, not only the range).
    pub by_status: StatusCounts,
    /// Current number of tasks due before today (UTC) and not completed.
    pub overdue: u64,
    /// Completions per bucket over the range, oldest first, empty buckets included.
    pub completed_per_bucket: Vec<BucketCount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> NaiveDate {
        time::parse_date(raw).unwrap()
    }

    fn parse(pairs: &[(&str, &str)], today: &str) -> AppResult<TaskStatsQuery> {
        let get = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        TaskStatsQuery::parse(TaskStatsParams { from: get("from"), to: get("to"), bucket: get("bucket") }, date(today))
    }

    fn fields(err: AppError) -> Vec<String> {
        err.field_errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn defaults_are_the_last_thirty_days_by_day() {
        let q = parse(&[], "2026-11-25").unwrap();
        assert_eq!((q.from(), q.to(), q.bucket()), (date("2026-10-27"), date("2026-11-25"), StatsBucket::Day));
        let starts = q.bucket_starts();
        assert_eq!(starts.len(), 30);
        assert_eq!((starts[0], starts[29]), (date("2026-10-27"), date("2026-11-25")));
        let only_to = parse(&[("to", "2026-03-01")], "2026-11-25").unwrap();
        assert_eq!(only_to.from(), date("2026-01-31"));
    }

    #[test]
    fn weeks_start_on_monday_and_cover_whole_weeks() {
        // 2026-11-25 is a Wednesday, 2026-12-06 a Sunday.
        let q = parse(&[("from", "2026-11-25"), ("to", "2026-12-06"), ("bucket", "week")], "2026-11-25").unwrap();
        assert_eq!(q.bucket_starts(), [date("2026-11-23"), date("2026-11-30")]);
        let (start, end) = q.span_millis();
        assert_eq!(time::format(&time::from_millis(start)), "2026-11-23T00:00:00.000Z");
        assert_eq!(time::format(&time::from_millis(end)), "2026-12-07T00:00:00.000Z");
        let monday = parse(&[("from", "2026-11-30"), ("to", "2026-11-30"), ("bucket", "week")], "2026-11-25").unwrap();
        assert_eq!(monday.bucket_starts(), [date("2026-11-30")]);
    }

    #[test]
    fn one_day_range_is_one_bucket_of_that_day() {
        let q = parse(&[("from", "2026-11-24"), ("to", "2026-11-24")], "2026-11-25").unwrap();
        assert_eq!(q.bucket_starts(), [date("2026-11-24")]);
        let (start, end) = q.span_millis();
        assert_eq!(end - start, 86_400_000);
    }

    #[test]
    fn bad_values_are_named() {
        assert_eq!(
            fields(parse(&[("from", "2026-02-30"), ("to", "x"), ("bucket", "month")], "2026-11-25").unwrap_err()),
            ["from", "to", "bucket"]
        );
        assert_eq!(fields(parse(&[("from", "2026-11-26"), ("to", "2026-11-25")], "2026-11-25").unwrap_err()), ["from"]);
        assert_eq!(
            fields(parse(&[("from", "2026-12-01")], "2026-11-25").unwrap_err()),
            ["from"],
            "from after the default to"
        );
    }

    #[test]
    fn bucket_count_is_capped() {
        // 1000 days ending 2026-11-25 start on 2024-03-01.
        assert!(parse(&[("from", "2024-03-01"), ("to", "2026-11-25")], "2026-11-25").is_ok());
        let err = parse(&[("from", "2024-02-29"), ("to", "2026-11-25")], "2026-11-25").unwrap_err();
        assert!(err.field_errors()[0].message.contains("1001 day buckets"));
        assert!(parse(&[("from", "2024-02-29"), ("to", "2026-11-25"), ("bucket", "week")], "2026-11-25").is_ok());
        assert_eq!(
            fields(
                parse(&[("from", "0000-01-01"), ("to", "9999-12-31"), ("bucket", "week")], "2026-11-25").unwrap_err()
            ),
            ["from"]
        );
    }
}
