//! Teams, members, projects, tasks and comments as the API shows them, and the inputs
//! that create and change them.

use chrono::{DateTime, NaiveDate, Utc};
use core_models::rank::RankEnum as _;
use core_models::{patch, text, time, AppResult, FieldError, UserRef, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

core_models::rank_enum! {
    /// A member's role in a team.
    pub enum Role as "role" {
        /// Reads everything in the team, creates and edits tasks, comments.
        Member = 0 => "member",
        /// Also manages members, roles, invites and projects.
        Admin = 1 => "admin",
    }
}

core_models::rank_enum! {
    /// Where a task stands: `todo` → `in_progress` → `done`.
    // Named apart from the freelancer tasks' status in the OpenAPI document.
    pub enum ProjectTaskStatus as "status" {
        /// Not started (the default).
        Todo = 0 => "todo",
        /// Being worked on.
        InProgress = 1 => "in_progress",
        /// Finished.
        Done = 2 => "done",
    }
}

core_models::rank_enum! {
    /// How urgent a task is; sorts `low < medium < high < urgent`.
    pub enum Priority as "priority" {
        /// Some day.
        Low = 0 => "low",
        /// The default.
        Medium = 1 => "medium",
        /// Soon.
        High = 2 => "high",
        /// Now.
        Urgent = 3 => "urgent",
    }
}

/// A team, as one of its members sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Team {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// 1 to 200 characters.
    #[schema(example = "Platform squad")]
    pub name: String,
    /// Optional, at most 20,000 characters.
    pub description: Option<String>,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// The caller's role in the team.
    pub my_role: Role,
}

impl core_models::id::Resource for Team {
    const NAME: &'static str = "team";
}

/// A member of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Member {
    /// Who.
    pub user: UserRef,
    /// `admin` or `member`.
    pub role: Role,
    /// When they joined.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: DateTime<Utc>,
}

/// A user, for path parameters (`/teams/{id}/members/{user_id}`).
#[derive(Debug)]
pub enum UserMarker {}
impl core_models::id::Resource for UserMarker {
    const NAME: &'static str = "member";
}

/// An invitation to join a team: the code is shown only here, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Invite {
    /// The invite's id: lists show it, and `DELETE /teams/{id}/invites/{invite_id}` revokes by it.
    pub id: Uuid,
    /// 128+ random bits; anyone holding it may join until it expires or is revoked.
    pub code: String,
    /// The role the invite grants.
    pub role: Role,
    /// When the code stops working.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

/// An open invite as admins list it: never the code, which is kept only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OpenInvite {
    /// Time-ordered UUIDv7 (random for invites made before ids existed).
    pub id: Uuid,
    /// The role joining grants.
    pub role: Role,
    /// When the code stops working.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    /// The admin who made it.
    pub created_by: UserRef,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

/// A project of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Project {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// The team it belongs to.
    pub team_id: Uuid,
    /// 1 to 200 characters.
    #[schema(example = "Website relaunch")]
    pub name: String,
    /// Optional, at most 20,000 characters.
    pub description: Option<String>,
    /// Archived projects stay readable.
    pub archived: bool,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Moves on every change.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl core_models::id::Resource for Project {
    const NAME: &'static str = "project";
}

/// A task of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
// Named apart from the freelancer tasks (`/tasks`) in the OpenAPI document.
pub struct ProjectTask {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// The project it belongs to.
    pub project_id: Uuid,
    /// 1 to 200 characters.
    #[schema(example = "Draft the launch post")]
    pub title: String,
    /// Optional, at most 20,000 characters.
    pub description: Option<String>,
    /// `todo`, `in_progress` or `done`.
    pub status: ProjectTaskStatus,
    /// `low`, `medium`, `high` or `urgent`.
    pub priority: Priority,
    /// Optional calendar date.
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-01")]
    pub due_date: Option<NaiveDate>,
    /// A member of the team, or `null`.
    pub assignee: Option<UserRef>,
    /// The team's labels the task carries, by name (ignoring case).
    pub labels: Vec<TaskLabel>,
    /// Who created it.
    pub created_by: UserRef,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Moves on every change.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// 1 at creation, +1 on every change; the `ETag` and what `If-Match` names.
    pub version: i64,
    /// Where the task stands in its status column on the board: an opaque key that sorts
    /// the column by its bytes (`sort=position`); `POST .../move` changes it.
    #[schema(example = "V")]
    pub position: String,
}

impl core_models::version::Versioned for ProjectTask {
    fn version(&self) -> i64 {
        self.version
    }
}

impl core_models::id::Resource for ProjectTask {
    const NAME: &'static str = "task";
}

/// A comment on a task (learning has its own `Comment`; type names are unique across the workspace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TaskComment {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// The task it is on.
    pub task_id: Uuid,
    /// Who wrote it.
    pub author: UserRef,
    /// 1 to 20,000 characters.
    pub body: String,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Moves when the author edits it.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// The team members the body mentions (`<@USER_ID>`), resolved when it was written or
    /// last edited, in id order.
    pub mentions: Vec<UserRef>,
}

impl core_models::id::Resource for TaskComment {
    const NAME: &'static str = "comment";
}

// ---- inputs ----

/// The body of `POST /teams` (and, with every field optional, of `PATCH /teams/{id}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    /// Required; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub name: String,
    /// Optional; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
}

/// The body of `PATCH /projects/{id}` (and, through [`TeamChanges`], of
/// `PATCH /teams/{id}`): absent fields stay, `null` clears `description`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedChanges {
    /// New name; not null, not blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub name: Option<Option<String>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    /// Projects only: archive or restore.
    #[serde(default)]
    pub archived: Option<bool>,
}

/// The body of `PATCH /teams/{id}`: [`NamedChanges`] without `archived` (teams cannot be
/// archived), so the document and the parser agree that `archived` is unknown here.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamChanges {
    /// New name; not null, not blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub name: Option<Option<String>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
}

impl From<TeamChanges> for NamedChanges {
    fn from(changes: TeamChanges) -> Self {
        NamedChanges { name: changes.name, description: changes.description, archived: None }
    }
}

/// A name and description that passed the rules.
#[derive(Debug, Clone)]
pub(crate) struct ValidNamed {
    pub name: String,
    pub description: Option<String>,
}

impl NewTeam {
    pub(crate) fn validate(self) -> AppResult<ValidNamed> {
        let mut v = Violations::new();
        let name = v.check(text::required("name", &self.name, text::TITLE_MAX));
        let description = v.check(text::optional("description", self.description, text::BODY_MAX));
        v.finish()?;
        Ok(ValidNamed { name: name.unwrap_or_default(), description: description.flatten() })
    }
}

/// Checked [`NamedChanges`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidNamedChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub archived: Option<bool>,
}

impl NamedChanges {
    pub(crate) fn validate(self) -> AppResult<ValidNamedChanges> {
        let mut v = Violations::new();
        let name = v
            .check(patch::not_null("name", self.name))
            .flatten()
            .and_then(|n| v.check(text::required("name", &n, text::TITLE_MAX)));
        let description = self.description.and_then(|d| v.check(text::optional("description", d, text::BODY_MAX)));
        v.finish()?;
        Ok(ValidNamedChanges { name, description, archived: self.archived })
    }
}

/// The body of `POST /teams/{id}/members`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The user to add.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: String,
    /// `member` (the default) or `admin`.
    #[serde(default)]
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
}

impl NewMember {
    /// The user and the role (`member` by default), naming every bad field.
    pub(crate) fn validate(self) -> AppResult<(Uuid, Role)> {
        let mut v = Violations::new();
        let user = v.check(core_models::params::uuid("user_id", &self.user_id));
        let role = self.role.map_or(Some(Role::Member), |raw| v.check(Role::parse("role", &raw)));
        v.finish()?;
        Ok((user.unwrap_or_default(), role.unwrap_or(Role::Member)))
    }
}

/// The body of `PATCH /teams/{id}/members/{user_id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChanges {
    /// The new role.
    #[schema(value_type = Role)]
    pub role: String,
}

impl MemberChanges {
    pub(crate) fn validate(self) -> AppResult<Role> {
        Ok(Role::parse("role", &self.role)?)
    }
}

/// The body of `POST /teams/{id}/invites` (may be empty: `{}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    /// The role joining grants: `member` (default) or `admin`.
    #[serde(default)]
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
    /// Days until the code expires, 1 to 30 (default 7).
    #[serde(default, deserialize_with = "core_models::whole::optional")]
    #[schema(minimum = 1, maximum = 30)]
    pub expires_in_days: Option<i64>,
}

/// Default lifetime of an invite.
pub const INVITE_DAYS: i64 = 7;

impl NewInvite {
    pub(crate) fn validate(self) -> AppResult<(Role, i64)> {
        let mut v = Violations::new();
        let role = match self.role {
            None => Some(Role::Member),
            Some(raw) => v.check(Role::parse("role", &raw)),
        };
        let days = match self.expires_in_days {
            None => Some(INVITE_DAYS),
            Some(d) if (1..=30).contains(&d) => Some(d),
            Some(_) => {
                v.push(FieldError::new("expires_in_days", "must be from 1 to 30"));
                None
            }
        };
        v.finish()?;
        Ok((role.unwrap_or(Role::Member), days.unwrap_or(INVITE_DAYS)))
    }
}

/// The body of `POST /projects/{id}/tasks`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProjectTask {
    /// Required; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub title: String,
    /// Optional; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// `todo` (default), `in_progress`, `done`.
    #[serde(default)]
    #[schema(value_type = Option<ProjectTaskStatus>)]
    pub status: Option<String>,
    /// `low`, `medium` (default), `high`, `urgent`.
    #[serde(default)]
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<String>,
    /// Optional date `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<String>,
    /// A member of the team, or absent/`null` for nobody.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<String>,
    /// Labels of the team (at most 20, none twice); absent: none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 20)]
    pub label_ids: Option<Vec<String>>,
}

/// The body of `PATCH /projects/{id}/tasks/{task_id}`: absent fields stay; `null` clears
/// `description`, `due_date` and `assignee_id`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectTaskChanges {
    /// New title; not null, not blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub title: Option<Option<String>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    /// New status; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = ProjectTaskStatus, required = false)]
    pub status: Option<Option<String>>,
    /// New priority; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Priority, required = false)]
    pub priority: Option<Option<String>>,
    /// New due date; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Option<String>>,
    /// New assignee (a member); `null` unassigns.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<Option<String>>,
    /// The task's labels from now on (labels of the team, at most 20, none twice; `[]`
    /// removes all); not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Vec<Uuid>, required = false, max_items = 20)]
    pub label_ids: Option<Option<Vec<String>>>,
}

/// The fields of a task, checked.
#[derive(Debug, Clone)]
pub(crate) struct ValidTask {
    pub title: String,
    pub description: Option<String>,
    pub status: ProjectTaskStatus,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
    pub assignee_id: Option<Uuid>,
    pub label_ids: Vec<Uuid>,
}

fn date(field: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    time::parse_date(raw).ok_or_else(|| FieldError::new(field, format!("`{}` is not a date (YYYY-MM-DD)", raw.trim())))
}

impl NewProjectTask {
    pub(crate) fn validate(self) -> AppResult<ValidTask> {
        let mut v = Violations::new();
        let title = v.check(text::required("title", &self.title, text::TITLE_MAX));
        let description = v.check(text::optional("description", self.description, text::BODY_MAX));
        let status =
            self.status.map_or(Some(ProjectTaskStatus::Todo), |raw| v.check(ProjectTaskStatus::parse("status", &raw)));
        let priority = self.priority.map_or(Some(Priority::Medium), |raw| v.check(Priority::parse("priority", &raw)));
        let due_date = self.due_date.map_or(Some(None), |raw| v.check(date("due_date", &raw)).map(Some));
        let assignee_id = self
            .assignee_id
            .map_or(Some(None), |raw| v.check(core_models::params::uuid("assignee_id", &raw)).map(Some));
        let label_ids = self.label_ids.map_or(Some(Vec::new()), |raw| label_id_list("label_ids", &raw, &mut v));
        v.finish()?;
        Ok(ValidTask {
            title: title.unwrap_or_default(),
            description: description.flatten(),
            status: status.unwrap_or(ProjectTaskStatus::Todo),
            priority: priority.unwrap_or(Priority::Medium),
            due_date: due_date.flatten(),
            assignee_id: assignee_id.flatten(),
            label_ids: label_ids.unwrap_or_default(),
        })
    }
}

/// Checked [`ProjectTaskChanges`]: `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidTaskChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<ProjectTaskStatus>,
    pub priority: Option<Priority>,
    pub due_date: Option<Option<NaiveDate>>,
    pub assignee_id: Option<Option<Uuid>>,
    pub labels: LabelEdit,
}

/// How a change treats the task's labels: `set` replaces them (`label_ids`), else `add`
/// and `remove` edit them (bulk changes' `add_label_ids`, `remove_label_ids`).
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelEdit {
    pub set: Option<Vec<Uuid>>,
    pub add: Vec<Uuid>,
    pub remove: Vec<Uuid>,
}

impl ProjectTaskChanges {
    pub(crate) fn validate(self) -> AppResult<ValidTaskChanges> {
        let mut v = Violations::new();
        let title = v
            .check(patch::not_null("title", self.title))
            .flatten()
            .and_then(|t| v.check(text::required("title", &t, text::TITLE_MAX)));
        let description = self.description.and_then(|d| v.check(text::optional("description", d, text::BODY_MAX)));
        let status = v
            .check(patch::not_null("status", self.status))
            .flatten()
            .and_then(|s| v.check(ProjectTaskStatus::parse("status", &s)));
        let priority = v
            .check(patch::not_null("priority", self.priority))
            .flatten()
            .and_then(|p| v.check(Priority::parse("priority", &p)));
        let due_date = match self.due_date {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => v.check(date("due_date", &raw)).map(Some),
        };
        let assignee_id = match self.assignee_id {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => v.check(core_models::params::uuid("assignee_id", &raw)).map(Some),
        };
        let set = v
            .check(patch::not_null("label_ids", self.label_ids))
            .flatten()
            .and_then(|raw| label_id_list("label_ids", &raw, &mut v));
        v.finish()?;
        let labels = LabelEdit { set, ..LabelEdit::default() };
        Ok(ValidTaskChanges { title, description, status, priority, due_date, assignee_id, labels })
    }
}

/// The body of `POST .../comments` and `PATCH .../comments/{comment_id}`
/// (`TaskCommentBody` in the OpenAPI document).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskCommentBody {
    /// 1 to 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub body: String,
}

impl TaskCommentBody {
    pub(crate) fn validate(self) -> AppResult<String> {
        Ok(text::required("body", &self.body, text::BODY_MAX)?)
    }
}

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(NewTeam => NewTeam::validate);
core_models::body_rules!(TeamChanges => |changes: TeamChanges| NamedChanges::from(changes).validate());
core_models::body_rules!(NamedChanges => NamedChanges::validate);
core_models::body_rules!(NewMember => NewMember::validate);
core_models::body_rules!(MemberChanges => MemberChanges::validate);
core_models::body_rules!(NewInvite => NewInvite::validate);
core_models::body_rules!(NewProjectTask => NewProjectTask::validate);
core_models::body_rules!(ProjectTaskChanges => ProjectTaskChanges::validate);
core_models::body_rules!(TaskCommentBody => TaskCommentBody::validate);

/// The most labels one task may carry.
pub const TASK_LABELS_MAX: usize = 20;

/// A label as a task carries it (and as `task.labeled` / `task.unlabeled` entries name it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TaskLabel {
    /// The label's id.
    pub id: Uuid,
    /// Its name.
    #[schema(example = "Bug")]
    pub name: String,
    /// Its colour, `#rrggbb`.
    #[schema(example = "#d73a4a", pattern = "^#[0-9a-f]{6}$")]
    pub color: String,
}

/// Parses the label ids of a body field `field` (`label_ids`, ...): well formed, none twice
/// (422 naming `field[i]`), at most [`TASK_LABELS_MAX`]. Whether they are labels of the
/// task's team is checked by the write (`labels::resolve`).
pub(crate) fn label_id_list(field: &str, raw: &[String], v: &mut Violations) -> Option<Vec<Uuid>> {
    if raw.len() > TASK_LABELS_MAX {
        v.push(FieldError::new(field, format!("must hold at most {TASK_LABELS_MAX} labels")));
        return None;
    }
    core_models::params::id_list(field, raw, v)
}
