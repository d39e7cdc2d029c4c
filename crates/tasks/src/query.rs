//! List requests: the raw query string of `GET /tasks`, its parsing into a checked
//! [`ListTasks`], and the sortable fields.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use core_models::pagination::{parse_paging, row_keys, PageRequest};
use core_models::rank::RankEnum;
use core_models::sort::{KeyKind, Sort, SortField};
use core_models::{params, time, AppResult, CursorValue, FieldError, Violations};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::model::{format_date, parse_date, Task, TaskStatus};

/// What tasks can be sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSort {
    /// `created_at`
    CreatedAt,
    /// `updated_at`
    UpdatedAt,
    /// `due_date`; tasks without a due date come after every dated task ascending (and
    /// first descending).
    DueDate,
    /// `status` by workflow rank: pending < in_progress < completed.
    Status,
    /// `title`, ignoring ASCII case.
    Title,
}

impl SortField for TaskSort {
    const ALL: &'static [Self] =
        &[TaskSort::CreatedAt, TaskSort::UpdatedAt, TaskSort::DueDate, TaskSort::Status, TaskSort::Title];

    fn name(self) -> &'static str {
        match self {
            TaskSort::CreatedAt => "created_at",
            TaskSort::UpdatedAt => "updated_at",
            TaskSort::DueDate => "due_date",
            TaskSort::Status => "status",
            TaskSort::Title => "title",
        }
    }

    fn key_kind(self) -> KeyKind {
        match self {
            TaskSort::CreatedAt | TaskSort::UpdatedAt | TaskSort::Status => KeyKind::Int,
            TaskSort::DueDate | TaskSort::Title => KeyKind::Text,
        }
    }
}

/// Newest first.
pub const DEFAULT_SORT: &str = "-created_at";

/// The sort key of a task without a due date: above every real date, so such tasks come
/// last ascending. Keep in step with the `coalesce` in the tasks migration.
pub(crate) const NO_DUE_DATE_KEY: &str = "9999-99-99";

/// Longest accepted `q`.
const SEARCH_MAX: usize = 500;

/// The raw query string of `GET /tasks`; every value is checked by [`ListTasks::parse`], so
/// a bad one is a 422 naming its parameter.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
// Unknown parameters are refused, so a misspelled filter is a 422, not an unfiltered list.
#[serde(deny_unknown_fields)]
pub struct ListTasksParams {
    /// Comma list of statuses to keep: `pending`, `in_progress`, `completed`.
    #[param(value_type = Option<Vec<TaskStatus>>, style = Form, explode = false, min_items = 1,
            example = json!(["pending", "in_progress"]))]
    pub status: Option<String>,
    /// Only tasks due on or after this date (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date, example = "2026-12-01")]
    pub due_from: Option<String>,
    /// Only tasks due on or before this date (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date, example = "2026-12-31")]
    pub due_to: Option<String>,
    /// `true`: only tasks due before today (UTC) and not completed; `false`: only the others.
    #[param(value_type = Option<bool>)]
    pub overdue: Option<String>,
    /// `true`: only tasks with a due date; `false`: only tasks without one.
    #[param(value_type = Option<bool>)]
    pub has_due_date: Option<String>,
    /// Created at or after: an RFC 3339 timestamp, or a date meaning that day's start (UTC).
    #[param(inline, value_type = Option<core_models::openapi::DateOrTimestamp>, example = "2026-11-01")]
    pub created_from: Option<String>,
    /// Created at or before: an RFC 3339 timestamp, or a date meaning the whole day (UTC).
    #[param(inline, value_type = Option<core_models::openapi::DateOrTimestamp>, example = "2026-11-24T18:00:00Z")]
    pub created_to: Option<String>,
    /// Full-text search over title and description: every word must match (as a word prefix).
    pub q: Option<String>,
    /// `created_at`, `updated_at`, `due_date`, `status`, `title`; `-` for descending;
    /// comma-separated, each field at most once. Default `-created_at`.
    #[param(
        example = "status,due_date",
        pattern = "^(-?(created_at|updated_at|due_date|status|title)(,-?(created_at|updated_at|due_date|status|title))*)?$"
    )]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many tasks match the filters over all pages (exact
    /// up to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

impl ListTasksParams {
    /// Parameters from `(name, value)` pairs as they come out of a query string (values
    /// already decoded); unknown names are ignored here (over HTTP they get a 422).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut params = ListTasksParams::default();
        for (name, value) in pairs {
            let slot = match name {
                "status" => &mut params.status,
                "due_from" => &mut params.due_from,
                "due_to" => &mut params.due_to,
                "overdue" => &mut params.overdue,
                "has_due_date" => &mut params.has_due_date,
                "created_from" => &mut params.created_from,
                "created_to" => &mut params.created_to,
                "q" => &mut params.q,
                "sort" => &mut params.sort,
                "limit" => &mut params.limit,
                "cursor" => &mut params.cursor,
                "count" => &mut params.count,
                _ => continue,
            };
            // The first occurrence wins, as in `find`.
            if slot.is_none() {
                *slot = Some(value.to_string());
            }
        }
        params
    }
}

/// Which tasks a list keeps. Every present condition must hold; `None` filters nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Any of these statuses (sorted, without repeats).
    pub statuses: Option<Vec<TaskStatus>>,
    /// Due on or after.
    pub due_from: Option<NaiveDate>,
    /// Due on or before.
    pub due_to: Option<NaiveDate>,
    /// `Some(true)`: due before today (UTC) and not completed; `Some(false)`: the others.
    pub overdue: Option<bool>,
    /// Whether the task has a due date.
    pub has_due_date: Option<bool>,
    /// Created at or after (inclusive).
    pub created_from: Option<DateTime<Utc>>,
    /// Created at or before (inclusive).
    pub created_to: Option<DateTime<Utc>>,
    /// Lower-cased search words; `Some(vec![])` matches nothing, `None` filters nothing.
    pub search: Option<Vec<String>>,
}

/// A checked list request.
#[derive(Debug, Clone)]
pub struct ListTasks {
    /// Page size and position.
    pub page: PageRequest,
    /// Order (the id breaks ties).
    pub sort: Sort<TaskSort>,
    /// Which tasks to keep.
    pub filter: TaskFilter,
}

impl Default for ListTasks {
    fn default() -> Self {
        ListTasks {
            page: PageRequest::default(),
            sort: Sort::parse(None, DEFAULT_SORT).unwrap_or_else(|_| unreachable!("default sort parses")),
            filter: TaskFilter::default(),
        }
    }
}

impl ListTasks {
    /// Checks every parameter, naming each bad one in a single 422.
    pub fn parse(params: ListTasksParams) -> AppResult<Self> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            params.sort.as_deref(),
            DEFAULT_SORT,
            &mut v,
        );
        let filter = TaskFilter::parse(&params, &mut v);
        v.finish()?;
        let mut page = page;
        // Cursors are bound to this list and every filter (sets sorted and deduplicated by
        // their parsers; the board is bound by the handler).
        page.bind("list", &"tasks").bind("filter", &filter);
        let sort = sort.unwrap_or_else(|| unreachable!("checked by finish"));
        if sort.keys().iter().any(|k| k.field == TaskSort::DueDate && k.descending) {
            // Undated tasks moved from first to last under `-due_date`: a cursor made
            // before would continue at the wrong place, so it is refused (422).
            page.bind("undated", &"last");
        }
        Ok(ListTasks { page, sort, filter })
    }

    /// The cursor to continue after, checked against the sort.
    pub(crate) fn after(&self) -> AppResult<Option<&[CursorValue]>> {
        Ok(self.page.after(&self.sort)?)
    }

    /// The sort key values of `task` (id last), as cursors carry them. They are the values
    /// of the SQL sort expressions, e.g. the status rank and the no-due-date key.
    pub(crate) fn keys_of(&self, task: &Task) -> Vec<CursorValue> {
        row_keys(&self.sort, task.id, |field| match field {
            TaskSort::CreatedAt => CursorValue::Int(time::to_millis(task.created_at)),
            TaskSort::UpdatedAt => CursorValue::Int(time::to_millis(task.updated_at)),
            TaskSort::DueDate => {
                // Undated tasks last either way: above every date ascending, below descending.
                let descending = self.sort.keys().iter().any(|k| k.field == TaskSort::DueDate && k.descending);
                let undated = if descending { "" } else { NO_DUE_DATE_KEY };
                CursorValue::Text(task.due_date.map_or_else(|| undated.to_string(), format_date))
            }
            TaskSort::Status => CursorValue::Int(i64::from(task.status.rank())),
            // The key as both engines compare it: SQLite's NOCASE column, PostgreSQL's
            // lower(title) (ASCII case folded on both).
            TaskSort::Title => CursorValue::Text(task.title.to_ascii_lowercase()),
        })
    }
}

impl TaskFilter {
    /// Parses the filter parameters, recording every bad one in `v`.
    fn parse(params: &ListTasksParams, v: &mut Violations) -> Self {
        let statuses = params.status.as_deref().and_then(|raw| v.check(TaskStatus::parse_list("status", raw)));
        let due_from = params.due_from.as_deref().and_then(|raw| v.check(parse_date("due_from", raw)));
        let due_to = params.due_to.as_deref().and_then(|raw| v.check(parse_date("due_to", raw)));
        let overdue = params.overdue.as_deref().and_then(|raw| v.check(params::boolean("overdue", raw)));
        let has_due_date = params.has_due_date.as_deref().and_then(|raw| v.check(params::boolean("has_due_date", raw)));
        let created_from =
            params.created_from.as_deref().and_then(|raw| v.check(parse_instant("created_from", raw, DayEdge::Start)));
        let created_to =
            params.created_to.as_deref().and_then(|raw| v.check(parse_instant("created_to", raw, DayEdge::End)));
        let search = params
            .q
            .as_deref()
            .and_then(|raw| v.check(params::search_text("q", raw, SEARCH_MAX)))
            .flatten()
            .and_then(|q| v.check(storage::search::parse_query("q", &q)));
        if let (Some(from), Some(to)) = (due_from, due_to) {
            if from > to {
                v.push(FieldError::new("due_from", format!("must not be after due_to ({to})")));
            }
        }
        if let (Some(from), Some(to)) = (created_from, created_to) {
            if from > to {
                v.push(FieldError::new("created_from", "must not be after created_to"));
            }
        }
        TaskFilter { statuses, due_from, due_to, overdue, has_due_date, created_from, created_to, search }
    }
}

/// Which end of a day a bare date stands for in a time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayEdge {
    /// 00:00:00.000 UTC: `created_from=2026-11-24` starts with that day.
    Start,
    /// 23:59:59.999 UTC: `created_to=2026-11-24` includes all of that day.
    End,
}

/// A date (`YYYY-MM-DD`, standing for one edge of that UTC day) or an RFC 3339 timestamp,
/// as an inclusive bound in whole milliseconds (what the database stores).
fn parse_instant(field: &str, raw: &str, edge: DayEdge) -> Result<DateTime<Utc>, FieldError> {
    if let Some(date) = time::parse_date(raw) {
        let start = date.and_time(NaiveTime::MIN).and_utc();
        return Ok(match edge {
            DayEdge::Start => start,
            DayEdge::End => start + chrono::Duration::days(1) - chrono::Duration::milliseconds(1),
        });
    }
    let Some(t) = time::parse(raw) else {
        return Err(FieldError::new(
            field,
            format!("`{}` is neither a date (YYYY-MM-DD) nor an RFC 3339 timestamp", raw.trim()),
        ));
    };
    // Stored times are whole milliseconds: a lower bound rounds up, an upper bound down, so
    // neither lets in a task outside the requested instant.
    let floor = time::from_millis(time::to_millis(t));
    Ok(match edge {
        DayEdge::Start if floor < t => floor + chrono::Duration::milliseconds(1),
        _ => floor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListTasksParams {
        ListTasksParams::from_pairs(pairs.iter().copied())
    }

    fn bad_fields(pairs: &[(&str, &str)]) -> Vec<String> {
        ListTasks::parse(params(pairs)).unwrap_err().field_errors().iter().map(|e| e.field.clone()).collect()
    }

    fn filter(pairs: &[(&str, &str)]) -> TaskFilter {
        ListTasks::parse(params(pairs)).unwrap().filter
    }

    fn date(raw: &str) -> NaiveDate {
        time::parse_date(raw).unwrap()
    }

    /// A cursor made before undated tasks came last under `-due_date` (the same binding
    /// without the marker) is refused there, and still read ascending.
    #[test]
    fn a_cursor_from_before_undated_tasks_came_last_is_refused_descending_only() {
        for (sort, refused) in [("-due_date", true), ("status,-due_date", true), ("due_date", false)] {
            let query = ListTasks::parse(params(&[("sort", sort)])).unwrap();
            let mut old = PageRequest::default();
            old.bind("list", &"tasks").bind("filter", &query.filter);
            let mut keys: Vec<CursorValue> = query
                .sort
                .keys()
                .iter()
                .map(|k| match k.field {
                    TaskSort::DueDate => CursorValue::Text(NO_DUE_DATE_KEY.into()),
                    _ => CursorValue::Int(1),
                })
                .collect();
            keys.push(CursorValue::Text(uuid::Uuid::now_v7().to_string()));
            let cursor = old.cursor_for(&query.sort.canonical(), keys);
            let query = ListTasks::parse(params(&[("sort", sort), ("cursor", &cursor)])).unwrap();
            assert_eq!(query.after().is_err(), refused, "{sort}");
        }
    }

    #[test]
    fn no_parameters_mean_no_filter_and_newest_first() {
        let query = ListTasks::parse(params(&[])).unwrap();
        assert_eq!(query.filter, TaskFilter::default());
        assert_eq!(query.sort.canonical(), "-created_at");
        assert_eq!(query.page.limit, 50);
    }

    #[test]
    fn statuses_are_a_deduplicated_comma_list() {
        let statuses = filter(&[("status", " in_progress,pending ,in_progress")]).statuses;
        assert_eq!(statuses, Some(vec![TaskStatus::Pending, TaskStatus::InProgress]));
        for bad in ["done", "pending,", "", "Pending", "pending;completed"] {
            assert_eq!(bad_fields(&[("status", bad)]), ["status"], "{bad:?}");
        }
    }

    #[test]
    fn due_dates_must_be_real_and_ordered() {
        let f = filter(&[("due_from", "2026-02-01"), ("due_to", "2026-02-28")]);
        assert_eq!((f.due_from, f.due_to), (Some(date("2026-02-01")), Some(date("2026-02-28"))));
        assert_eq!(filter(&[("due_from", "2026-03-01"), ("due_to", "2026-03-01")]).due_to, Some(date("2026-03-01")));
        assert_eq!(bad_fields(&[("due_from", "2026-02-30")]), ["due_from"]);
        assert_eq!(bad_fields(&[("due_to", "tomorrow")]), ["due_to"]);
        assert_eq!(bad_fields(&[("due_to", "2026-1-5")]), ["due_to"]);
        assert_eq!(bad_fields(&[("due_from", "2026-03-02"), ("due_to", "2026-03-01")]), ["due_from"]);
    }

    #[test]
    fn booleans_are_true_or_false_only() {
        let f = filter(&[("overdue", "true"), ("has_due_date", "false")]);
        assert_eq!((f.overdue, f.has_due_date), (Some(true), Some(false)));
        for bad in ["1", "yes", "", "TRUE"] {
            assert_eq!(bad_fields(&[("overdue", bad), ("has_due_date", bad)]), ["overdue", "has_due_date"], "{bad:?}");
        }
    }

    #[test]
    fn created_bounds_take_dates_as_whole_days_or_timestamps() {
        let f = filter(&[("created_from", "2026-11-24"), ("created_to", "2026-11-24")]);
        assert_eq!(time::format(&f.created_from.unwrap()), "2026-11-24T00:00:00.000Z");
        assert_eq!(time::format(&f.created_to.unwrap()), "2026-11-24T23:59:59.999Z");
        let f =
            filter(&[("created_from", "2026-11-24T10:30:00.1234+01:00"), ("created_to", "2026-11-24T09:31:00.9999Z")]);
        assert_eq!(time::format(&f.created_from.unwrap()), "2026-11-24T09:30:00.124Z", "lower bound rounds up");
        assert_eq!(time::format(&f.created_to.unwrap()), "2026-11-24T09:31:00.999Z", "upper bound rounds down");
        assert_eq!(bad_fields(&[("created_from", "2026-02-30")]), ["created_from"]);
        assert_eq!(bad_fields(&[("created_to", "yesterday")]), ["created_to"]);
        assert_eq!(bad_fields(&[("created_from", "2026-11-25"), ("created_to", "2026-11-24")]), ["created_from"]);
    }

    #[test]
    fn search_is_split_into_words() {
        assert_eq!(filter(&[("q", "  ")]).search, None);
        assert_eq!(filter(&[("q", "ACME invoice!")]).search, Some(vec!["acme".into(), "invoice".into()]));
        assert_eq!(filter(&[("q", "?!")]).search, Some(vec![]));
        assert_eq!(bad_fields(&[("q", &"x".repeat(501))]), ["q"]);
    }

    #[test]
    fn every_sort_field_parses_and_unknown_ones_are_refused() {
        for field in ["created_at", "updated_at", "due_date", "status", "title"] {
            for spelled in [field.to_string(), format!("-{field}")] {
                assert_eq!(ListTasks::parse(params(&[("sort", &spelled)])).unwrap().sort.canonical(), spelled);
            }
        }
        assert_eq!(bad_fields(&[("sort", "priority")]), ["sort"]);
    }

    #[test]
    fn unknown_parameters_do_not_deserialise() {
        use actix_web::web::Query;
        assert!(Query::<ListTasksParams>::from_query("status=pending&limit=2").is_ok());
        let err = Query::<ListTasksParams>::from_query("stauts=pending").unwrap_err();
        assert!(err.to_string().contains("unknown field `stauts`"), "{err}");
        assert!(Query::<crate::stats::TaskStatsParams>::from_query("buckett=week").is_err());
    }

    #[test]
    fn every_bad_parameter_is_named_at_once() {
        let fields = bad_fields(&[
            ("limit", "0"),
            ("cursor", "zz"),
            ("sort", "colour"),
            ("status", "done"),
            ("due_from", "2026-02-30"),
            ("due_to", "x"),
            ("overdue", "maybe"),
            ("has_due_date", "1"),
            ("created_from", "x"),
            ("created_to", "y"),
            ("q", &"q".repeat(501)),
        ]);
        assert_eq!(
            fields,
            [
                "limit",
                "cursor",
                "sort",
                "status",
                "due_from",
                "due_to",
                "overdue",
                "has_due_date",
                "created_from",
                "created_to",
                "q"
            ]
        );
    }
}
