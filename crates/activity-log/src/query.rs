//! Feed requests: the query string of an activity feed and its checked form.

use chrono::{DateTime, Utc};
use core_models::pagination::{parse_paging, row_keys, BySeq, PageRequest, NEWEST_FIRST};
use core_models::sort::Sort;
use core_models::{params, time, AppResult, CursorValue, FieldError, Page, Violations};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::ActivityEntry;

/// The query string of an activity feed. Unknown parameters are refused (422).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Only entries about this project.
    #[param(value_type = Option<String>, format = Uuid)]
    pub project_id: Option<String>,
    /// Only entries by this user (a user id).
    #[param(value_type = Option<String>, format = Uuid)]
    pub actor: Option<String>,
    /// Only entries of this action: a name such as `task.status_changed` (lower-case
    /// words of letters and `_`, joined by dots; at most 64 characters).
    #[param(
        example = "task.status_changed",
        min_length = 3,
        max_length = 64,
        pattern = "^[a-z][a-z_]*(\\.[a-z][a-z_]*)+$"
    )]
    pub action: Option<String>,
    /// Only entries recorded at or after this time: an RFC 3339 timestamp, or a date
    /// meaning that day's start (UTC).
    #[param(inline, value_type = Option<core_models::openapi::DateOrTimestamp>, example = "2026-11-24T00:00:00Z")]
    pub since: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many entries match the filters over all pages
    /// (exact up to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// Which entries a feed keeps. Every present condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// About this project.
    pub project_id: Option<Uuid>,
    /// By this user.
    pub actor: Option<Uuid>,
    /// Of this action.
    pub action: Option<String>,
    /// Recorded at or after.
    pub since: Option<DateTime<Utc>>,
}

/// A checked feed request.
#[derive(Debug, Clone)]
pub struct FeedQuery {
    /// Page size and position.
    pub page: PageRequest,
    /// Which entries.
    pub filter: FeedFilter,
    sort: Sort<BySeq>,
}

impl Default for FeedQuery {
    fn default() -> Self {
        FeedQuery {
            page: PageRequest::default(),
            filter: FeedFilter::default(),
            sort: Sort::parse(None, NEWEST_FIRST).unwrap_or_else(|_| unreachable!("the feed order parses")),
        }
    }
}

/// What the document's pattern for `action` says: `^[a-z][a-z_]*(\.[a-z][a-z_]*)+$`, at
/// most 64 characters.
fn is_action_name(name: &str) -> bool {
    let word = |w: &str| {
        w.starts_with(|c: char| c.is_ascii_lowercase()) && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    };
    name.len() <= 64 && name.contains('.') && name.split('.').all(word)
}

impl FeedQuery {
    /// Checks every parameter, naming each bad one in a single 422.
    pub fn parse(params: FeedParams) -> AppResult<Self> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            None,
            NEWEST_FIRST,
            &mut v,
        );
        let project_id = params.project_id.as_deref().and_then(|raw| v.check(params::uuid("project_id", raw)));
        let actor = params.actor.as_deref().and_then(|raw| v.check(params::uuid("actor", raw)));
        let action = match params.action.as_deref() {
            None => None,
            Some(a) if !is_action_name(a) => {
                v.push(FieldError::new(
                    "action",
                    "must be an action name such as task.created (lower-case words joined by dots, at most 64 characters)",
                ));
                None
            }
            Some(a) => Some(a.to_string()),
        };
        let since = params.since.as_deref().and_then(|raw| v.check(parse_since(raw)));
        v.finish()?;
        let filter = FeedFilter { project_id, actor, action, since };
        let mut page = page;
        // Cursors are bound to feeds and these filters; the caller binds whose feed it is
        // (a team's, a task's) before reading it.
        page.bind("list", &"activity").bind("filter", &filter);
        Ok(FeedQuery { page, filter, sort: sort.unwrap_or_else(|| unreachable!("checked by finish")) })
    }

    /// The `seq` the page continues below (from the cursor).
    pub(crate) fn before_seq(&self) -> AppResult<Option<i64>> {
        Ok(self.page.before_seq(&self.sort)?)
    }

    /// The page of `rows` (fetched one beyond the limit).
    pub(crate) fn page_of(&self, rows: Vec<ActivityEntry>) -> Page<ActivityEntry> {
        Page::from_overfetch(rows, &self.page, &self.sort, |e| row_keys(&self.sort, e.id, |_| CursorValue::Int(e.seq)))
    }
}

fn parse_since(raw: &str) -> Result<DateTime<Utc>, FieldError> {
    if let Some(date) = time::parse_date(raw) {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    time::parse(raw).ok_or_else(|| {
        FieldError::new("since", format!("`{}` is neither a date nor an RFC 3339 timestamp", raw.trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_parameter_is_named() {
        let params = FeedParams {
            project_id: Some("x".into()),
            actor: Some("y".into()),
            action: Some(" ".into()),
            since: Some("yesterday".into()),
            limit: Some("0".into()),
            cursor: Some("zz".into()),
            count: Some("yes".into()),
        };
        let err = FeedQuery::parse(params).unwrap_err();
        let fields: Vec<_> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor", "count", "project_id", "actor", "action", "since"]);
    }

    #[test]
    fn action_names_are_checked_as_the_document_says() {
        for good in ["task.created", "member.role_changed", "a.b.c"] {
            assert!(is_action_name(good), "{good}");
        }
        for bad in
            ["", " ", "task", ".created", "task.", "task..created", "Task.created", " task.created", "task.9", "_x.y"]
        {
            assert!(!is_action_name(bad), "{bad:?}");
        }
        assert!(!is_action_name(&format!("task.{}", "x".repeat(60))));
    }

    #[test]
    fn since_takes_dates_and_timestamps() {
        assert_eq!(time::format(&parse_since("2026-11-24").unwrap()), "2026-11-24T00:00:00.000Z");
        assert_eq!(time::format(&parse_since("2026-11-24T10:00:00+01:00").unwrap()), "2026-11-24T09:00:00.000Z");
    }
}
