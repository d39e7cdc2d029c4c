//! Notifications as the API shows them, the list's query and the body that marks them read.

use activity_log::ActivityEntry;
use chrono::{DateTime, Utc};
use core_models::pagination::{parse_paging, BySeq, PageRequest, NEWEST_FIRST};
use core_models::sort::Sort;
use core_models::{params, time, AppResult, FieldError, Violations};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Why a user is notified. When one action concerns a person in several ways, the first
/// of these that applies is the notification's kind (a person gets one per action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A comment mentions you (`<@YOUR_ID>`), newly (an edit notifies only new mentions).
    Mentioned,
    /// Someone else assigned a task to you (on create, or by any change of its assignee).
    Assigned,
    /// The status of a task you are assigned to changed (by a change or a board move).
    StatusChanged,
    /// A comment on a task you created or are assigned to.
    Commented,
}

impl NotificationKind {
    /// The stored (and serialised) name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Mentioned => "mentioned",
            NotificationKind::Assigned => "assigned",
            NotificationKind::StatusChanged => "status_changed",
            NotificationKind::Commented => "commented",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Mentioned, Self::Assigned, Self::StatusChanged, Self::Commented].into_iter().find(|k| k.as_str() == name)
    }
}

/// One of the caller's notifications.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Notification {
    /// A UUIDv7, unique, increasing in the order the caller's notifications were committed;
    /// the `id:` of its event on `GET /me/events` (send it back as `Last-Event-ID`).
    pub id: Uuid,
    /// Why the caller is notified.
    pub kind: NotificationKind,
    /// The activity entry of the action that caused it.
    pub activity: ActivityEntry,
    /// When the caller marked it read; null while unread.
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<DateTime<Utc>>,
    /// When it was written (the time of its action, never earlier than the caller's
    /// notification before it).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// The number in the caller's list (internal: cursors and stream positions).
    #[serde(skip)]
    pub seq: i64,
}

/// The query string of `GET /me/notifications`. Unknown parameters are refused (422).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationListParams {
    /// `true`: only unread notifications (with `count=true`: the badge number).
    #[param(value_type = Option<bool>)]
    pub unread: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many notifications match over all pages (exact up
    /// to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// A checked `GET /me/notifications` request.
#[derive(Debug, Clone)]
pub struct NotificationQuery {
    /// Page size and position.
    pub page: PageRequest,
    /// Only unread ones.
    pub unread: bool,
    sort: Sort<BySeq>,
}

impl NotificationQuery {
    /// Checks every parameter, naming each bad one in a single 422. The cursor is bound to
    /// `user`'s list and the `unread` filter.
    pub fn parse(params: NotificationListParams, user: Uuid) -> AppResult<Self> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            None,
            NEWEST_FIRST,
            &mut v,
        );
        let unread = params.unread.as_deref().and_then(|raw| v.check(params::boolean("unread", raw))).unwrap_or(false);
        v.finish()?;
        let mut page = page;
        page.bind("list", &"notifications").bind("user", &user).bind("unread", &unread);
        Ok(NotificationQuery { page, unread, sort: sort.unwrap_or_else(|| unreachable!("checked by finish")) })
    }

    /// A first page of up to `limit` (all notifications, or the unread ones) of `user`'s.
    pub fn first(user: Uuid, limit: u32, unread: bool) -> Self {
        let params = NotificationListParams {
            limit: Some(limit.clamp(1, 200).to_string()),
            unread: Some(unread.to_string()),
            count: Some("true".into()),
            cursor: None,
        };
        Self::parse(params, user).unwrap_or_else(|_| unreachable!("valid parameters"))
    }

    pub(crate) fn sort(&self) -> &Sort<BySeq> {
        &self.sort
    }

    /// The number the page continues below (from the cursor).
    pub(crate) fn before_seq(&self) -> AppResult<Option<i64>> {
        Ok(self.page.before_seq(&self.sort)?)
    }
}

/// Most ids one `POST /me/notifications/read` names.
pub const MAX_READ_IDS: usize = 500;

/// The body of `POST /me/notifications/read`: either `ids` (1 to 500 notification ids;
/// ids that are not the caller's are ignored) or `"all": true`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkNotificationsRead {
    /// The notifications to mark read.
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>, min_items = 1, max_items = 500)]
    pub ids: Option<Vec<String>>,
    /// `true`: mark every unread notification of the caller's read.
    #[serde(default)]
    pub all: Option<bool>,
}

impl MarkNotificationsRead {
    /// The ids to mark (`None`: all), or a 422 naming every bad field and element.
    pub fn validate(self) -> AppResult<Option<Vec<Uuid>>> {
        let mut v = Violations::new();
        let out = match (self.ids, self.all) {
            (Some(_), Some(_)) => {
                v.push(FieldError::new("all", "give either `ids` or `all`, not both"));
                None
            }
            (None, None) => {
                v.push(FieldError::new("ids", "give the `ids` to mark read, or `\"all\": true`"));
                None
            }
            (None, Some(false)) => {
                v.push(FieldError::new("all", "must be true (or give `ids` instead)"));
                None
            }
            (None, Some(true)) => None,
            (Some(ids), None) => {
                if ids.is_empty() || ids.len() > MAX_READ_IDS {
                    v.push(FieldError::new("ids", format!("must name 1 to {MAX_READ_IDS} notifications")));
                }
                let parsed: Vec<Uuid> = ids
                    .iter()
                    .enumerate()
                    .filter_map(|(i, raw)| v.check(params::uuid(&format!("ids[{i}]"), raw)))
                    .collect();
                Some(parsed)
            }
        };
        v.finish()?;
        Ok(out)
    }
}

core_models::body_rules!(MarkNotificationsRead => MarkNotificationsRead::validate);
