//! Task lists of a project or a whole team: the query string, its checked form, and the
//! SQL of one page, written so that one index always yields the order.
//!
//! Each sort has an index per scope, `(project_id | team_id, key, id, status, priority,
//! assignee_key)`, and "assigned to" lists have `(team_id, assignee_key, key, id)`. The
//! scope (and, team-wide, the assignee) is an equality on the index; every other filter is
//! kept off SQLite's indexes with a unary `+` and tested on the rows of the walk, so a
//! keyset page reads only up to its last row. PostgreSQL gets no hint (it would hide the
//! column's statistics from its planner, which then expects too few matches and sorts
//! them). `query_plans` in the tests proves SQLite's plans, `plans::postgres`
//! PostgreSQL's.

use chrono::NaiveDate;
use core_models::pagination::{parse_paging, row_keys, PageRequest};
use core_models::rank::RankEnum;
use core_models::sort::{KeyKind, Sort, SortField};
use core_models::{params, time, AppResult, CursorValue, FieldError, Violations};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::prelude::*;
use serde::Deserialize;
use storage::keyset::{key_columns, order_clause, KeysetAfter, SqlSortField};
use storage::schema::project_tasks;
use storage::search::Search;
use storage::sql::{ranks_in, sql, Sql};
use storage::{Backend, DbConn};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::model::{Priority, ProjectTask, ProjectTaskStatus};
use crate::row::TaskRow;

/// What task lists sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSort {
    /// `created_at`
    CreatedAt,
    /// `updated_at`
    UpdatedAt,
    /// `due_date`; undated tasks last in both directions.
    DueDate,
    /// `priority` by rank: low < medium < high < urgent.
    Priority,
    /// `status` by rank: todo < in_progress < done.
    Status,
    /// `title`, ignoring ASCII case.
    Title,
    /// Board order: status rank, then the position in the status column.
    Position,
}

impl SortField for TaskSort {
    const ALL: &'static [Self] = &[
        TaskSort::CreatedAt,
        TaskSort::UpdatedAt,
        TaskSort::DueDate,
        TaskSort::Priority,
        TaskSort::Status,
        TaskSort::Title,
        TaskSort::Position,
    ];
    fn name(self) -> &'static str {
        match self {
            TaskSort::CreatedAt => "created_at",
            TaskSort::UpdatedAt => "updated_at",
            TaskSort::DueDate => "due_date",
            TaskSort::Priority => "priority",
            TaskSort::Status => "status",
            TaskSort::Title => "title",
            TaskSort::Position => "position",
        }
    }
    fn key_kind(self) -> KeyKind {
        match self {
            TaskSort::CreatedAt | TaskSort::UpdatedAt | TaskSort::Priority | TaskSort::Status => KeyKind::Int,
            TaskSort::DueDate | TaskSort::Title | TaskSort::Position => KeyKind::Text,
        }
    }
}

impl SqlSortField for TaskSort {
    fn sql(self) -> (&'static str, bool) {
        match self {
            TaskSort::CreatedAt => ("project_tasks.created_at", false),
            TaskSort::UpdatedAt => ("project_tasks.updated_at", false),
            TaskSort::DueDate => ("project_tasks.due_key", false),
            TaskSort::Priority => ("project_tasks.priority", false),
            TaskSort::Status => ("project_tasks.status", false),
            TaskSort::Title => ("project_tasks.title_key", false),
            // The status rank's digit and the position: one byte-ordered key.
            TaskSort::Position => ("project_tasks.board_key", false),
        }
    }
    fn sql_in(self, descending: bool) -> (&'static str, bool) {
        match (self, descending) {
            // Undated tasks get '' (below every date): descending, they come last too.
            (TaskSort::DueDate, true) => (DUE_DESC_KEY, false),
            _ => self.sql(),
        }
    }
}

/// The descending due-date key (`coalesce(due_date, '')`).
const DUE_DESC_KEY: &str = "project_tasks.due_desc_key";
/// What the descending key holds for an undated task.
const NO_DUE_DATE_DESC_KEY: &str = "";

/// Newest first.
pub const DEFAULT_SORT: &str = "-created_at";
const NO_DUE_DATE_KEY: &str = "9999-99-99";
const SEARCH_MAX: usize = 500;

/// The most labels a `label` filter may name.
pub const LABEL_FILTER_MAX: usize = 10;

/// A label carried by fewer tasks than this is where a page of a `label` filter starts
/// (its tasks read by `task_labels_by_label`, then sorted: a few milliseconds at most); a
/// label on more tasks is tested on each row of the sort index's walk, which then finds a
/// match every few rows. Labels belong to one team, so the count is the team's.
pub const LABEL_LEAD_MAX: i64 = 1_000;

/// The `label` filter: well-formed ids (422 naming `label`), at most
/// [`LABEL_FILTER_MAX`], sorted and deduplicated (cursors are bound to the set).
fn label_list(raw: &str) -> Result<Vec<Uuid>, FieldError> {
    let mut ids = params::comma_list("label", raw, |item| params::uuid("label", item))?;
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > LABEL_FILTER_MAX {
        return Err(FieldError::new("label", format!("must name at most {LABEL_FILTER_MAX} labels")));
    }
    Ok(ids)
}

/// The query-string struct of a task list: the parameters every task list takes, then
/// `$extra` (written once here, so the two lists cannot drift apart).
macro_rules! task_list_params {
    ($(#[$meta:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, Deserialize, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Comma list of statuses: `todo`, `in_progress`, `done`.
            #[param(value_type = Option<Vec<ProjectTaskStatus>>, style = Form, explode = false, min_items = 1,
                    example = json!(["todo", "in_progress"]))]
            pub status: Option<String>,
            /// Comma list of priorities: `low`, `medium`, `high`, `urgent`.
            #[param(value_type = Option<Vec<Priority>>, style = Form, explode = false, min_items = 1,
                    example = json!(["high", "urgent"]))]
            pub priority: Option<String>,
            /// `me`, `none`, or a user id.
            #[param(example = "me", pattern = "^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")]
            pub assignee: Option<String>,
            /// Due on or after (`YYYY-MM-DD`).
            #[param(value_type = Option<String>, format = Date)]
            pub due_from: Option<String>,
            /// Due on or before (`YYYY-MM-DD`).
            #[param(value_type = Option<String>, format = Date)]
            pub due_to: Option<String>,
            /// `true`: due before today (UTC) and not done; `false`: the others.
            #[param(value_type = Option<bool>)]
            pub overdue: Option<String>,
            /// Full-text search over title and description (every word, as a prefix).
            pub q: Option<String>,
            /// Comma list of label ids (at most 10): tasks carrying every one of them.
            #[param(value_type = Option<Vec<Uuid>>, style = Form, explode = false, min_items = 1, max_items = 10)]
            pub label: Option<String>,
            $($extra)*
            /// `created_at`, `updated_at`, `due_date`, `priority`, `status`, `title`, `position`
            /// (board order: by status rank, then position in the column); `-` for
            /// descending; comma-separated, each field at most once. Default `-created_at`.
            #[param(
                example = "status,-due_date",
                pattern = "^(-?(created_at|updated_at|due_date|priority|status|title|position)(,-?(created_at|updated_at|due_date|priority|status|title|position))*)?$"
            )]
            pub sort: Option<String>,
            /// Page size, 1 to 200 (default 50).
            #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
            pub limit: Option<String>,
            /// `next_cursor` of the previous page.
            pub cursor: Option<String>,
            /// `true`: also answer `total`, how many tasks match the filters over all pages
            /// (exact up to 10,000; past that 10,000 and `total_capped: true`).
            #[param(value_type = Option<bool>)]
            pub count: Option<String>,
        }
    };
}

task_list_params! {
    /// The query string of a team-wide task list. Unknown parameters are refused (422).
    ListProjectTasksParams {
        /// The tasks of one project of the team.
        #[param(value_type = Option<String>, format = Uuid)]
        pub project_id: Option<String>,
        /// `true`: also the tasks of archived projects (left out by default).
        #[param(value_type = Option<bool>)]
        pub include_archived: Option<String>,
    }
}

task_list_params! {
    /// The query string of `GET /me/tasks`: a team list's parameters plus `team_id`.
    /// Unknown parameters are refused (422).
    MyTasksParams {
        /// The tasks of one project (of one of the caller's teams).
        #[param(value_type = Option<String>, format = Uuid)]
        pub project_id: Option<String>,
        /// The tasks of one of the caller's teams.
        #[param(value_type = Option<String>, format = Uuid)]
        pub team_id: Option<String>,
        /// `true`: also the tasks of archived projects (left out by default).
        #[param(value_type = Option<bool>)]
        pub include_archived: Option<String>,
    }
}

impl MyTasksParams {
    /// The team list's parameters, and the raw `team_id`.
    fn split(self) -> (ListProjectTasksParams, Option<String>) {
        let team_id = self.team_id;
        let params = ListProjectTasksParams {
            status: self.status,
            priority: self.priority,
            assignee: self.assignee,
            due_from: self.due_from,
            due_to: self.due_to,
            overdue: self.overdue,
            q: self.q,
            label: self.label,
            project_id: self.project_id,
            include_archived: self.include_archived,
            sort: self.sort,
            limit: self.limit,
            cursor: self.cursor,
            count: self.count,
        };
        (params, team_id)
    }
}

task_list_params! {
    /// The query string of one project's task list: a team list's parameters but
    /// `project_id` (the path names the project). Unknown parameters are refused (422).
    ProjectTaskListParams {}
}

impl From<ProjectTaskListParams> for ListProjectTasksParams {
    fn from(p: ProjectTaskListParams) -> Self {
        ListProjectTasksParams {
            status: p.status,
            priority: p.priority,
            assignee: p.assignee,
            due_from: p.due_from,
            due_to: p.due_to,
            overdue: p.overdue,
            q: p.q,
            label: p.label,
            project_id: None,
            include_archived: None,
            sort: p.sort,
            limit: p.limit,
            cursor: p.cursor,
            count: p.count,
        }
    }
}

/// Whose tasks a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One project's.
    Project(Uuid),
    /// A whole team's.
    Team(Uuid),
    /// Every team's that this user belongs to (`GET /me/tasks`).
    Mine(Uuid),
}

/// The `assignee` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    /// Unassigned tasks.
    Nobody,
    /// Tasks of this user (`me` is resolved to the caller).
    User(Uuid),
}

/// Which tasks a list keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Any of these statuses.
    pub statuses: Option<Vec<ProjectTaskStatus>>,
    /// Any of these priorities.
    pub priorities: Option<Vec<Priority>>,
    /// Assigned to.
    pub assignee: Option<Assignee>,
    /// Due on or after.
    pub due_from: Option<NaiveDate>,
    /// Due on or before.
    pub due_to: Option<NaiveDate>,
    /// Overdue or not.
    pub overdue: Option<bool>,
    /// Search words.
    pub search: Option<Vec<String>>,
    /// One project of the team.
    pub project_id: Option<Uuid>,
    /// One team of the caller's (`GET /me/tasks`).
    pub team_id: Option<Uuid>,
    /// Also the tasks of archived projects (team and `me` lists; a project's own list
    /// always shows its tasks).
    pub include_archived: bool,
}

/// A checked task list request.
#[derive(Debug, Clone)]
pub struct ListProjectTasks {
    /// Whose tasks.
    pub scope: Scope,
    /// Page size and position.
    pub page: PageRequest,
    /// Order.
    pub sort: Sort<TaskSort>,
    /// Which tasks.
    pub filter: TaskFilter,
    /// Only tasks carrying every one of these labels (sorted, none twice; empty: no such
    /// filter). Apart from [`TaskFilter`] so that cursors of lists without it, bound to the
    /// filter, keep working across the upgrade that added it.
    pub labels: Vec<Uuid>,
    /// The label of `filter.labels` the page starts from (its tasks are few: see
    /// [`LABEL_LEAD_MAX`]), decided by [`load_page`] and [`count`]; `None`: walk the sort
    /// index and test the labels on each row.
    pub(crate) label_lead: Option<Uuid>,
    /// A label of `labels` is not one of the scope's team: no task matches, and the list
    /// reads nothing (decided with `label_lead`).
    pub(crate) label_none: bool,
}

impl ListProjectTasks {
    /// Checks every parameter for a list of `scope` asked by `caller` (for `assignee=me`).
    pub fn parse(params: ListProjectTasksParams, scope: Scope, caller: Uuid) -> AppResult<Self> {
        Self::parse_with_team(params, None, scope, caller)
    }

    /// Checks every parameter of `GET /me/tasks` asked by `caller`.
    pub fn parse_mine(params: MyTasksParams, caller: Uuid) -> AppResult<Self> {
        let (params, team_id) = params.split();
        Self::parse_with_team(params, team_id, Scope::Mine(caller), caller)
    }

    fn parse_with_team(
        params: ListProjectTasksParams,
        team_id: Option<String>,
        scope: Scope,
        caller: Uuid,
    ) -> AppResult<Self> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            params.sort.as_deref(),
            DEFAULT_SORT,
            &mut v,
        );
        let statuses = params.status.as_deref().and_then(|raw| v.check(ProjectTaskStatus::parse_list("status", raw)));
        let priorities = params.priority.as_deref().and_then(|raw| v.check(Priority::parse_list("priority", raw)));
        let assignee = params.assignee.as_deref().and_then(|raw| {
            v.check(match raw.trim() {
                "me" => Ok(Assignee::User(caller)),
                "none" => Ok(Assignee::Nobody),
                other => Uuid::parse_str(other)
                    .map(Assignee::User)
                    .map_err(|_| FieldError::new("assignee", "must be `me`, `none` or a user id")),
            })
        });
        let date = |field: &str, raw: &str| {
            time::parse_date(raw)
                .ok_or_else(|| FieldError::new(field, format!("`{}` is not a date (YYYY-MM-DD)", raw.trim())))
        };
        let due_from = params.due_from.as_deref().and_then(|raw| v.check(date("due_from", raw)));
        let due_to = params.due_to.as_deref().and_then(|raw| v.check(date("due_to", raw)));
        let overdue = params.overdue.as_deref().and_then(|raw| v.check(params::boolean("overdue", raw)));
        let search = params
            .q
            .as_deref()
            .and_then(|raw| v.check(params::search_text("q", raw, SEARCH_MAX)))
            .flatten()
            .and_then(|q| v.check(storage::search::parse_query("q", &q)));
        let labels = params.label.as_deref().and_then(|raw| v.check(label_list(raw))).unwrap_or_default();
        let project_id = match (params.project_id.as_deref(), scope) {
            (None, _) => None,
            (Some(_), Scope::Project(_)) => {
                v.push(FieldError::new("project_id", "only team-wide lists filter by project"));
                None
            }
            (Some(raw), Scope::Team(_) | Scope::Mine(_)) => v.check(params::uuid("project_id", raw)),
        };
        let team_id = team_id.as_deref().and_then(|raw| v.check(params::uuid("team_id", raw)));
        let include_archived = match (params.include_archived.as_deref(), scope) {
            (None, _) => false,
            (Some(_), Scope::Project(_)) => {
                v.push(FieldError::new("include_archived", "only team and `me` lists leave archived projects out"));
                false
            }
            (Some(raw), _) => v.check(params::boolean("include_archived", raw)).unwrap_or(false),
        };
        if let (Some(from), Some(to)) = (due_from, due_to) {
            if from > to {
                v.push(FieldError::new("due_from", format!("must not be after due_to ({to})")));
            }
        }
        v.finish()?;
        let filter = TaskFilter {
            statuses,
            priorities,
            assignee,
            due_from,
            due_to,
            overdue,
            search,
            project_id,
            team_id,
            include_archived,
        };
        let mut page = page;
        // Cursors are bound to the team or project and every filter (sets sorted and
        // deduplicated by their parsers, `assignee=me` as the caller's id).
        let list = match scope {
            Scope::Team(_) => "team-tasks",
            Scope::Project(_) => "project-tasks",
            Scope::Mine(_) => "my-tasks",
        };
        page.bind("list", &list).bind("scope", &scope).bind("filter", &filter);
        let sort = sort.unwrap_or_else(|| unreachable!("checked by finish"));
        if sort.keys().iter().any(|k| k.field == TaskSort::DueDate && k.descending) {
            // Undated tasks moved from first to last under `-due_date`: a cursor made
            // before would continue at the wrong place, so it is refused (422).
            page.bind("undated", &"last");
        }
        if !labels.is_empty() {
            page.bind("labels", &labels);
        }
        Ok(ListProjectTasks { scope, page, sort, filter, labels, label_lead: None, label_none: false })
    }

    /// The order of the list in Rust, as SQL gives it (titles ignoring ASCII case, as
    /// NOCASE does), for merging the teams of a `me` list.
    pub(crate) fn merge_order(&self) -> impl Fn(&ProjectTask, &ProjectTask) -> std::cmp::Ordering + '_ {
        let mut descending: Vec<bool> = self.sort.keys().iter().map(|k| k.descending).collect();
        descending.push(self.sort.id_descending());
        move |a, b| {
            // `keys_of` folds titles as the engines compare them.
            let key = |t: &ProjectTask| self.keys_of(t);
            core_models::pagination::compare_keys(&key(a), &key(b), &descending)
        }
    }

    /// The cursor keys of a task.
    pub(crate) fn keys_of(&self, task: &ProjectTask) -> Vec<CursorValue> {
        row_keys(&self.sort, task.id, |field| match field {
            TaskSort::CreatedAt => CursorValue::Int(time::to_millis(task.created_at)),
            TaskSort::UpdatedAt => CursorValue::Int(time::to_millis(task.updated_at)),
            TaskSort::DueDate => {
                let descending = self.sort.keys().iter().any(|k| k.field == TaskSort::DueDate && k.descending);
                let undated = if descending { NO_DUE_DATE_DESC_KEY } else { NO_DUE_DATE_KEY };
                CursorValue::Text(task.due_date.map_or_else(|| undated.to_string(), time::format_date))
            }
            TaskSort::Priority => CursorValue::Int(i64::from(task.priority.rank())),
            TaskSort::Status => CursorValue::Int(i64::from(task.status.rank())),
            // The key as both engines compare it: SQLite's NOCASE column, PostgreSQL's
            // lower(title) (ASCII case folded on both).
            TaskSort::Title => CursorValue::Text(task.title.to_ascii_lowercase()),
            TaskSort::Position => CursorValue::Text(board_key(task)),
        })
    }
}

/// A task's `board_key`: its status rank's digit, then its position (as the column holds it).
pub(crate) fn board_key(task: &ProjectTask) -> String {
    format!("{}{}", task.status.rank(), task.position)
}

/// A boxed `SELECT` of task rows.
pub(crate) type TaskQuery = project_tasks::BoxedQuery<'static, Backend, SqlTypeOf<AsSelect<TaskRow, Backend>>>;

/// `project_tasks.<column>` holds one of `values`, kept off SQLite's indexes and tested on
/// the rows of the walk (PostgreSQL weighs it by the column's statistics). Ranks come from
/// the enum, never from the client: safe to write into the SQL.
fn ranks_off_index<E: RankEnum>(column: &str, values: &[E]) -> Sql {
    let ranks: Vec<i32> = values.iter().map(|v| v.rank()).collect();
    sql("").sqlite_no_index().append(ranks_in(&format!("project_tasks.{column}"), &ranks))
}

/// The query of one page (`limit + 1` rows), `today` deciding what is overdue, `search` the
/// planned search of the query's words (see [`storage::search`]).
pub(crate) fn list_query(query: &ListProjectTasks, today: NaiveDate, search: Option<&Search>) -> AppResult<TaskQuery> {
    let mut q = listed(query, today, search)?;
    let columns = key_columns(&query.sort, "project_tasks.id");
    if let Some(after) = query.page.after(&query.sort)? {
        q = q.filter(KeysetAfter::new(columns.clone(), after.to_vec()));
    }
    Ok(q.order(order_clause(&columns)).limit(i64::from(query.page.limit) + 1))
}

/// [`list_query`] that also checks that `user` belongs to the scope's team, for a page read
/// in one statement (`tasks::list_as_member`); `None` for lists that need more statements
/// in the page's snapshot (a search, a label filter) and for `me` lists.
pub(crate) fn member_page_query(
    query: &ListProjectTasks,
    today: NaiveDate,
    user: Uuid,
) -> AppResult<Option<TaskQuery>> {
    if query.filter.search.is_some() || !query.labels.is_empty() {
        return Ok(None);
    }
    let gate = match query.scope {
        Scope::Team(team) => crate::access::member_gate(team, user),
        Scope::Project(project) => crate::access::project_member_gate(project, user),
        Scope::Mine(_) => return Ok(None),
    };
    Ok(Some(list_query(query, today, None)?.filter(gate)))
}

/// The tasks of the list's scope its filters keep, in no order and before its cursor: what
/// its pages read and its `count=true` counts.
fn listed(query: &ListProjectTasks, today: NaiveDate, search: Option<&Search>) -> AppResult<TaskQuery> {
    let filter = &query.filter;
    let first = query.sort.lead();
    let lead = first.map_or(TaskSort::CreatedAt, |k| k.field);
    let lead_descending = first.is_some_and(|k| k.descending);
    let mut q: TaskQuery = project_tasks::table.select(TaskRow::as_select()).into_boxed();
    // The scope, and team-wide the assignee, are the equalities the index walk starts from;
    // a search that leads with its matches keeps them off the indexes.
    // So does a label filter that starts from a rare label's tasks.
    let plus = search.map_or("", Search::unindexed);
    let start = || if query.label_lead.is_some() { sql("").sqlite_no_index() } else { sql(plus) };
    match (query.scope, filter.project_id) {
        (Scope::Project(project), _) => {
            q = q.filter(start().sql("project_tasks.project_id = ").bind_text(project.to_string()));
        }
        (Scope::Team(team), Some(project)) => {
            // The project's walk, the team tested once: a project of another team reads
            // nothing (PostgreSQL's `One-Time Filter`, SQLite's constant subquery). Its
            // tasks all carry its team (`tasks::create` takes the project's), so the rows
            // need no test of their own; one on `team_id` made PostgreSQL's generic plan
            // combine the team's index with the project's and sort the matches.
            q = q.filter(start().sql("project_tasks.project_id = ").bind_text(project.to_string())).filter(
                sql("EXISTS (SELECT 1 FROM projects WHERE projects.id = ")
                    .bind_text(project.to_string())
                    .sql(" AND projects.team_id = ")
                    .bind_text(team.to_string())
                    .sql(")"),
            );
        }
        (Scope::Team(team), None) => {
            q = q.filter(start().sql("project_tasks.team_id = ").bind_text(team.to_string()));
        }
        (Scope::Mine(_), _) => {
            return Err(core_models::AppError::Internal(anyhow::anyhow!("a `me` list is read team by team")));
        }
    }
    if let (Scope::Team(team), false) = (query.scope, filter.include_archived) {
        // `projects_by_team_archived` lists the team's archived projects; tested on the rows.
        q = q.filter(
            sql("")
                .sqlite_no_index()
                .sql("project_tasks.project_id NOT IN (SELECT projects.id FROM projects WHERE projects.team_id = ")
                .bind_text(team.to_string())
                .sql_per_engine(" AND projects.archived = 1)", " AND projects.archived)"),
        );
    }
    let assignee_drives = matches!((query.scope, filter.project_id), (Scope::Team(_), None));
    if let Some(assignee) = filter.assignee {
        let key = match assignee {
            Assignee::Nobody => String::new(),
            Assignee::User(user) => user.to_string(),
        };
        let start = if assignee_drives { start() } else { sql("").sqlite_no_index() };
        q = q.filter(start.sql("project_tasks.assignee_key = ").bind_text(key));
    }
    if let Some(statuses) = &filter.statuses {
        q = q.filter(ranks_off_index("status", statuses));
        if lead == TaskSort::Position {
            // The statuses' stretch of the board key: a range of its index (ranks are one
            // digit, from the enum).
            let ranks = statuses.iter().map(|s| s.rank());
            let (low, high) = (ranks.clone().min().unwrap_or(0), ranks.max().unwrap_or(0) + 1);
            q = q.filter(sql(format!("project_tasks.board_key >= '{low}' AND project_tasks.board_key < '{high}'")));
        }
    }
    if let Some(priorities) = &filter.priorities {
        q = q.filter(ranks_off_index("priority", priorities));
    }
    // A date range on the lead key is a range of its index; each key keeps undated tasks
    // (its sentinel) out of the range.
    let due = match (lead, lead_descending) {
        (TaskSort::DueDate, false) => "project_tasks.due_key",
        (TaskSort::DueDate, true) => DUE_DESC_KEY,
        _ => "project_tasks.due_date",
    };
    let dated = match (lead, lead_descending) {
        (TaskSort::DueDate, false) => format!("{due} < '{NO_DUE_DATE_KEY}'"),
        (TaskSort::DueDate, true) => format!("{due} > '{NO_DUE_DATE_DESC_KEY}'"),
        _ => format!("{due} IS NOT NULL"),
    };
    if let Some(from) = filter.due_from {
        q = q.filter(sql(format!("{due} >= ")).bind_text(time::format_date(from)));
        q = q.filter(sql(dated.clone()));
    }
    if let Some(to) = filter.due_to {
        q = q.filter(sql(format!("{due} <= ")).bind_text(time::format_date(to)));
        q = q.filter(sql(dated.clone()));
    }
    // Not done: a range of statuses, which a walk sorted by status serves in order (`<>`
    // is no index condition: PostgreSQL walked across every done task first).
    let not_done = ranks_off_index("status", &[ProjectTaskStatus::Todo, ProjectTaskStatus::InProgress]);
    let today = time::format_date(today);
    match filter.overdue {
        None => {}
        Some(true) => q = q.filter(sql(format!("{due} < ")).bind_text(today)).filter(sql(dated)).filter(not_done),
        Some(false) => {
            q = q.filter(sql("NOT (project_tasks.due_key < ").bind_text(today).sql(" AND ").append(not_done).sql(")"));
        }
    }
    if let Some(search) = search {
        q = q.filter(search.filter());
    }
    for label in &query.labels {
        q = q.filter(if query.label_lead == Some(*label) {
            // Leads: `task_labels_by_label` yields the label's tasks, each read by its id.
            sql("project_tasks.id IN (SELECT task_labels.task_id FROM task_labels WHERE task_labels.label_id = ")
                .bind_text(label.to_string())
                .sql(")")
        } else {
            // Tested on each row: one probe of the primary key (task_id, label_id).
            sql("EXISTS (SELECT 1 FROM task_labels WHERE task_labels.task_id = project_tasks.id AND task_labels.label_id = ")
                .bind_text(label.to_string())
                .sql(")")
        });
    }
    Ok(q)
}

/// `query` with its label plan decided: nothing matches when a label of its filter is not
/// one of the scope's team (another team's, or unknown); else the label carried by the
/// fewest tasks leads when fewer than [`LABEL_LEAD_MAX`] carry it (each label counted up
/// to that, by `task_labels_by_label`).
pub(crate) fn plan_labels(conn: &mut DbConn, query: &ListProjectTasks) -> AppResult<ListProjectTasks> {
    use storage::schema::{labels, projects, task_labels};
    let mut planned = query.clone();
    planned.label_lead = None;
    planned.label_none = false;
    if query.labels.is_empty() {
        return Ok(planned);
    }
    let team = match query.scope {
        Scope::Team(team) => Some(team.to_string()),
        Scope::Project(project) => projects::table
            .filter(projects::id.eq(project.to_string()))
            .select(projects::team_id)
            .first(conn)
            .optional()?,
        // Read team by team (`tasks::list_mine`), each list planned on its own.
        Scope::Mine(_) => return Ok(planned),
    };
    let of_team: i64 = labels::table
        .filter(labels::id.eq_any(query.labels.iter().map(Uuid::to_string)))
        .filter(labels::team_id.eq(team.unwrap_or_default()))
        .count()
        .get_result(conn)?;
    if usize::try_from(of_team).ok() != Some(query.labels.len()) {
        planned.label_none = true;
        return Ok(planned);
    }
    let mut rarest: Option<(i64, Uuid)> = None;
    for label in &query.labels {
        let carrying = task_labels::table.filter(task_labels::label_id.eq(label.to_string()));
        let n = storage::count::count_up_to(conn, carrying, LABEL_LEAD_MAX)?;
        if n < LABEL_LEAD_MAX && rarest.is_none_or(|(fewest, _)| n < fewest) {
            rarest = Some((n, *label));
        }
    }
    planned.label_lead = rarest.map(|(_, label)| label);
    Ok(planned)
}

/// The rows of one page, the search (if any) planned in the same transaction as the page.
pub(crate) fn load_page(conn: &mut DbConn, query: &ListProjectTasks, today: NaiveDate) -> AppResult<Vec<TaskRow>> {
    let query = &plan_labels(conn, query)?;
    if query.label_none {
        return Ok(vec![]);
    }
    let Some(terms) = &query.filter.search else {
        return Ok(list_query(query, today, None)?.load(conn)?);
    };
    let Some(search) = storage::search::PROJECT_TASKS.search(conn, terms)? else { return Ok(vec![]) };
    let rows = i64::from(query.page.limit) + 1;
    let page: Vec<TaskRow> =
        search.run(conn, rows, |c, search| -> AppResult<_> { Ok(list_query(query, today, Some(search))?.load(c)) })?;
    // The page's labels, names and total follow in the same transaction.
    storage::search::unsteer(conn)?;
    Ok(page)
}

/// How many tasks the list's filters keep over all its pages (see [`listed`]), counting at
/// most `most`; a search counts leading with its matches ([`Search::counting`]).
pub(crate) fn count(conn: &mut DbConn, query: &ListProjectTasks, today: NaiveDate, most: i64) -> AppResult<i64> {
    let query = &plan_labels(conn, query)?;
    if query.label_none {
        return Ok(0);
    }
    let Some(terms) = &query.filter.search else {
        return Ok(storage::count::count_up_to(conn, listed(query, today, None)?, most)?);
    };
    let Some(search) = storage::search::PROJECT_TASKS.search(conn, terms)? else { return Ok(0) };
    search
        .counting()
        .steered(conn, |c, counted| Ok(storage::count::count_up_to(c, listed(query, today, Some(counted))?, most)?))
}

/// The query string `sort` and `pairs` (for tests).
#[cfg(test)]
pub(crate) fn params_of(sort: &str, pairs: &[(&str, &str)]) -> ListProjectTasksParams {
    let mut params = ListProjectTasksParams { sort: Some(sort.to_string()), ..ListProjectTasksParams::default() };
    for (k, val) in pairs {
        let val = Some(val.to_string());
        match *k {
            "status" => params.status = val,
            "priority" => params.priority = val,
            "assignee" => params.assignee = val,
            "due_from" => params.due_from = val,
            "due_to" => params.due_to = val,
            "overdue" => params.overdue = val,
            "q" => params.q = val,
            "label" => params.label = val,
            "project_id" => params.project_id = val,
            "include_archived" => params.include_archived = val,
            _ => unreachable!("{k}"),
        }
    }
    params
}

/// Query-string pairs of a list's filters (for tests).
#[cfg(test)]
pub(crate) type Pairs<'a> = [(&'a str, &'a str)];

/// Every sort (both directions) of every scope with every filter in `filters`, but the
/// team-only filters on a project's list (for tests).
#[cfg(test)]
pub(crate) fn task_list_cases<'a>(
    scopes: &[Scope],
    filters: &'a [Vec<(&'a str, &'a str)>],
) -> Vec<(Scope, String, &'a Pairs<'a>)> {
    let team_only = |(k, _): &(&str, &str)| *k == "project_id" || *k == "include_archived";
    let mut cases = Vec::new();
    for &scope in scopes {
        for field in TaskSort::ALL {
            for sort in [field.name().to_string(), format!("-{}", field.name())] {
                for pairs in filters {
                    if !(matches!(scope, Scope::Project(_)) && pairs.iter().any(team_only)) {
                        cases.push((scope, sort.clone(), pairs.as_slice()));
                    }
                }
            }
        }
    }
    cases
}

#[cfg(test)]
mod query_plans {
    use super::*;
    use diesel::connection::SimpleConnection as _;
    use storage::plan::{plan_problems, query_plan};

    /// Every sort and filter walks an index in order, the scope's equality first, including
    /// a search for a word in more tasks than a lead takes ("launch"); a rare word
    /// ("rarely") starts from its matches instead and sorts them.
    #[test]
    fn every_sort_and_filter_walks_an_index() {
        let db = storage::test_pool_sqlite();
        let frequent = storage::search::LEAD_MAX + 100;
        db.write(move |c| {
            c.batch_execute(&format!(
                "INSERT INTO users VALUES ('u', 'u@example.com', 'u@example.com', 'U', 'x', 0);
                 INSERT INTO teams VALUES ('t', 'T', NULL, 0, 0);
                 INSERT INTO projects VALUES ('p', 't', 'P', NULL, 0, 0, 0, 0);
                 WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < {frequent})
                 INSERT INTO project_tasks (id, team_id, project_id, title, description, status, priority,
                                            created_by, created_at, updated_at, version, position)
                 SELECT 'seed-' || x, 't', 'p', 'Launch ' || x, CASE WHEN x < 3 THEN 'rarely' END, 0, 0,
                        'u', x, x, 1, x || 'V' FROM i"
            ))?;
            Ok(())
        })
        .unwrap();
        let mut conn = db.read().unwrap();
        storage::budget::clear();
        let me = Uuid::now_v7();
        let filters: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![("status", "todo,in_progress"), ("priority", "high,urgent")],
            vec![("assignee", "me")],
            vec![("assignee", "none"), ("status", "todo")],
            vec![("due_from", "2026-01-01"), ("due_to", "2026-12-31")],
            vec![("overdue", "true")],
            vec![("q", "launch")],
            vec![("q", "laun"), ("status", "todo")],
            vec![("q", "rarely")],
            vec![("project_id", "0190f0e2-7f7e-7b3a-8a55-3d1c7c2a9b10"), ("assignee", "me")],
            // Archived projects' tasks kept in (by default they are left out, every case above).
            vec![("include_archived", "true"), ("status", "done")],
            vec![("due_to", "2026-12-31"), ("overdue", "true")],
        ];
        let scopes = [Scope::Team(Uuid::now_v7()), Scope::Project(Uuid::now_v7())];
        for (scope, sort, pairs) in task_list_cases(&scopes, &filters) {
            let params = params_of(&sort, pairs);
            let first = ListProjectTasks::parse(params.clone(), scope, me).unwrap();
            // Deep pages too: a cursor after a dated task, and after an undated one
            // (the boundary of a `due_date` order in either direction).
            let cursor = |due: Option<&str>| {
                let keys = row_keys(&first.sort, Uuid::now_v7(), |f| match f {
                    TaskSort::DueDate => CursorValue::Text(due.map_or_else(
                        || {
                            let descending = first.sort.keys().iter().any(|k| k.descending);
                            if descending { NO_DUE_DATE_DESC_KEY } else { NO_DUE_DATE_KEY }.to_string()
                        },
                        str::to_string,
                    )),
                    TaskSort::Title | TaskSort::Position => CursorValue::Text("m".into()),
                    _ => CursorValue::Int(1),
                });
                first.page.cursor_for(&first.sort.canonical(), keys)
            };
            let deep = |due: Option<&str>| {
                let params = ListProjectTasksParams { cursor: Some(cursor(due)), ..params.clone() };
                ListProjectTasks::parse(params, scope, me).unwrap()
            };
            for query in [first.clone(), deep(Some("2026-06-30")), deep(None)] {
                let today = time::now().date_naive();
                let search = query.filter.search.as_ref().map(|terms| {
                    storage::search::PROJECT_TASKS.search(&mut conn, terms).unwrap().expect("words of the seeded tasks")
                });
                let sql = list_query(&query, today, search.as_ref()).unwrap();
                // Prepared once per connection, not parsed and planned per request.
                let cacheable = diesel::query_builder::QueryFragment::<Backend>::is_safe_to_cache_prepared(
                    &sql,
                    &Backend::Sqlite(diesel::sqlite::Sqlite),
                );
                assert!(cacheable.unwrap(), "{scope:?} sort={sort} {pairs:?}: not cacheable");
                let plan = query_plan(&mut conn, sql).unwrap();
                let problems = plan_problems(&plan, "project_tasks");
                if search.as_ref().is_some_and(|s| s.plan() == storage::search::Plan::Lead) {
                    assert!(pairs.contains(&("q", "rarely")), "{pairs:?} leads");
                    assert!(
                        plan[0].starts_with("SEARCH project_tasks USING INTEGER PRIMARY KEY (rowid=?)"),
                        "{scope:?} sort={sort} {pairs:?}: {plan:#?}"
                    );
                } else {
                    assert!(problems.is_empty(), "{scope:?} sort={sort} {pairs:?}: {plan:#?}");
                    assert!(!pairs.contains(&("q", "rarely")), "{pairs:?} walks");
                }
                // A member's page in one statement (`tasks::list_as_member`): the same walk.
                if let Some(gated) = member_page_query(&query, today, me).unwrap() {
                    let gated = query_plan(&mut conn, gated).unwrap();
                    let problems = plan_problems(&gated, "project_tasks");
                    assert!(problems.is_empty(), "{scope:?} sort={sort} {pairs:?} gated: {gated:#?}");
                    assert_eq!(
                        gated.iter().filter(|l| l.contains("project_tasks")).count(),
                        plan.iter().filter(|l| l.contains("project_tasks")).count(),
                        "{gated:#?} against {plan:#?}"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod cursor_versions {
    use super::*;

    /// A cursor as the lists made them before undated tasks came last under `-due_date`
    /// (the same binding without the marker).
    fn old_cursor(sort: &str, scope: Scope, caller: Uuid) -> (ListProjectTasks, String) {
        let params = ListProjectTasksParams { sort: Some(sort.into()), ..ListProjectTasksParams::default() };
        let query = ListProjectTasks::parse(params, scope, caller).unwrap();
        let mut old = PageRequest::default();
        old.bind("list", &"team-tasks").bind("scope", &scope).bind("filter", &query.filter);
        let mut keys: Vec<CursorValue> = query
            .sort
            .keys()
            .iter()
            .map(|k| match k.field {
                TaskSort::DueDate => CursorValue::Text(NO_DUE_DATE_KEY.into()),
                _ => CursorValue::Int(1),
            })
            .collect();
        keys.push(CursorValue::Text(Uuid::now_v7().to_string()));
        (query, old.cursor_for(&query_sort(sort), keys))
    }

    fn query_sort(sort: &str) -> String {
        Sort::<TaskSort>::parse(Some(sort), DEFAULT_SORT).unwrap().canonical()
    }

    #[test]
    fn a_cursor_from_before_undated_tasks_came_last_is_refused_descending_only() {
        let (team, me) = (Scope::Team(Uuid::now_v7()), Uuid::now_v7());
        for (sort, refused) in [("-due_date", true), ("priority,-due_date", true), ("due_date", false)] {
            let (_, cursor) = old_cursor(sort, team, me);
            let params = ListProjectTasksParams {
                sort: Some(sort.into()),
                cursor: Some(cursor),
                ..ListProjectTasksParams::default()
            };
            let query = ListProjectTasks::parse(params, team, me).unwrap();
            let read = query.page.after(&query.sort);
            assert_eq!(read.is_err(), refused, "{sort}: {read:?}");
            if let Err(e) = read {
                assert_eq!(e.field, "cursor");
            }
        }
    }
}
