//! Labels of a team (`POST, GET /teams/{id}/labels`, `GET, PATCH, DELETE /labels/{id}`)
//! and the labels tasks carry: functions on an open connection.
//!
//! A label's name is unique in its team ignoring case: `name_key` is the name folded by
//! [`name_key`] (Unicode lower case, computed here so both engines agree), and the unique
//! index `(team_id, name_key)` is also the order of the team's list (keyset paged on it).
//! Renaming, recolouring or deleting a label changes the tasks that carry it, so their
//! versions (`ETag`s) move in the same write.

use std::collections::HashMap;

use activity_log::{ActivityLog, Details, NewEntry};
use chrono::{DateTime, Utc};
use core_models::pagination::IdPaging;
use core_models::version::IfMatch;
use core_models::{id, patch, text, time, AppError, AppResult, Caller, FieldError, Page, Violations};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use storage::schema::{labels, project_tasks, task_labels};
use storage::{Backend, DbConn, Tx};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::require_member;
pub(crate) use crate::model::label_id_list;
pub use crate::model::{TaskLabel, TASK_LABELS_MAX};

/// The longest label name, in characters.
pub const LABEL_NAME_MAX: usize = 50;

/// A label of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Label {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// The team it belongs to.
    pub team_id: Uuid,
    /// 1 to 50 characters, unique in the team ignoring case.
    #[schema(example = "Bug")]
    pub name: String,
    /// `#rrggbb`, lower case.
    #[schema(example = "#d73a4a", pattern = "^#[0-9a-f]{6}$")]
    pub color: String,
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
}

impl core_models::version::Versioned for Label {
    fn version(&self) -> i64 {
        self.version
    }
}

impl core_models::id::Resource for Label {
    const NAME: &'static str = "label";
}

/// The body of `POST /teams/{id}/labels`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLabel {
    /// 1 to 50 characters (trimmed), unique in the team ignoring case (409).
    #[schema(min_length = 1, max_length = 50, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub name: String,
    /// `#rrggbb` (either case; kept in lower case).
    #[schema(example = "#d73a4a", pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: String,
}

/// The body of `PATCH /labels/{id}`: absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelChanges {
    /// New name; not null, not blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 50, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub name: Option<Option<String>>,
    /// New colour `#rrggbb`; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: Option<Option<String>>,
}

/// What makes names equal in a team: Unicode lower case of the trimmed name.
pub(crate) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

fn color(field: &str, raw: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    let hex = raw.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    match hex {
        Some(hex) => Ok(format!("#{}", hex.to_ascii_lowercase())),
        None => Err(FieldError::new(field, "must be a colour `#rrggbb` (six hex digits)")),
    }
}

impl NewLabel {
    pub(crate) fn validate(self) -> AppResult<(String, String)> {
        let mut v = Violations::new();
        let name = v.check(text::required("name", &self.name, LABEL_NAME_MAX));
        let color = v.check(color("color", &self.color));
        v.finish()?;
        Ok((name.unwrap_or_default(), color.unwrap_or_default()))
    }
}

impl LabelChanges {
    pub(crate) fn validate(self) -> AppResult<(Option<String>, Option<String>)> {
        let mut v = Violations::new();
        let name = v
            .check(patch::not_null("name", self.name))
            .flatten()
            .and_then(|n| v.check(text::required("name", &n, LABEL_NAME_MAX)));
        let color = v.check(patch::not_null("color", self.color)).flatten().and_then(|c| v.check(color("color", &c)));
        v.finish()?;
        Ok((name, color))
    }
}

core_models::body_rules!(NewLabel => NewLabel::validate);
core_models::body_rules!(LabelChanges => LabelChanges::validate);

type LabelRow = (String, String, String, String, i64, i64, i64);

fn columns(
) -> (labels::id, labels::team_id, labels::name, labels::color, labels::created_at, labels::updated_at, labels::version)
{
    (labels::id, labels::team_id, labels::name, labels::color, labels::created_at, labels::updated_at, labels::version)
}

fn label_of(row: LabelRow) -> AppResult<Label> {
    Ok(Label {
        id: id::from_stored("labels.id", &row.0)?,
        team_id: id::from_stored("labels.team_id", &row.1)?,
        name: row.2,
        color: row.3,
        created_at: time::from_millis(row.4),
        updated_at: time::from_millis(row.5),
        version: row.6,
    })
}

impl Label {
    fn as_task_label(&self) -> TaskLabel {
        TaskLabel { id: self.id, name: self.name.clone(), color: self.color.clone() }
    }
}

/// The label, if the caller is a member of its team (404 "label" otherwise).
fn find_for(conn: &mut DbConn, caller: &Caller, label_id: Uuid) -> AppResult<Label> {
    let row: Option<LabelRow> =
        labels::table.filter(labels::id.eq(label_id.to_string())).select(columns()).first(conn).optional()?;
    let label = label_of(row.ok_or_else(|| AppError::not_found("label"))?)?;
    require_member(conn, label.team_id, caller).map_err(|_| AppError::not_found("label"))?;
    Ok(label)
}

/// 409 when another label of the team has this name (ignoring case).
fn check_name_free(conn: &mut DbConn, team_id: Uuid, name: &str, except: Option<Uuid>) -> AppResult<()> {
    let taken: Option<String> = labels::table
        .filter(labels::team_id.eq(team_id.to_string()))
        .filter(labels::name_key.eq(name_key(name)))
        .select(labels::id)
        .first(conn)
        .optional()?;
    match taken {
        Some(other) if Some(other.as_str()) != except.map(|e| e.to_string()).as_deref() => {
            Err(AppError::Conflict(format!("the team already has a label named `{name}` (names ignore case)")))
        }
        _ => Ok(()),
    }
}

/// Moves the version (and `updated_at`) of every task carrying `label_id`: their
/// representation shows the label; with `removing` (the label is being deleted) their
/// label counts go down by one too. Returns how many.
fn touch_tasks_of(tx: &mut Tx<'_>, label_id: Uuid, removing: bool) -> AppResult<usize> {
    let now = time::to_millis(time::now());
    let carrying =
        task_labels::table.filter(task_labels::label_id.eq(label_id.to_string())).select(task_labels::task_id);
    Ok(diesel::update(project_tasks::table.filter(project_tasks::id.eq_any(carrying)))
        .set((
            project_tasks::label_count.eq(project_tasks::label_count - i32::from(removing)),
            project_tasks::version.eq(project_tasks::version + 1),
            // Never backwards, as `time::now_after` keeps a single task's.
            project_tasks::updated_at.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                "CASE WHEN project_tasks.updated_at >= {now} THEN project_tasks.updated_at + 1 ELSE {now} END"
            ))),
        ))
        .execute(tx.conn())?)
}

/// Creates a label in a team (members).
pub fn create(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, team_id: Uuid, new: NewLabel) -> AppResult<Label> {
    let (name, color) = new.validate()?;
    require_member(tx, team_id, caller)?;
    check_name_free(tx, team_id, &name, None)?;
    let label_id = id::new_id();
    let now = time::to_millis(time::now());
    diesel::insert_into(labels::table)
        .values((
            labels::id.eq(label_id.to_string()),
            labels::team_id.eq(team_id.to_string()),
            labels::name.eq(&name),
            labels::name_key.eq(name_key(&name)),
            labels::color.eq(&color),
            labels::created_at.eq(now),
            labels::updated_at.eq(now),
            labels::version.eq(1),
        ))
        .execute(tx.conn())?;
    let label = find_for(tx, caller, label_id)?;
    log.append(
        tx,
        caller,
        NewEntry::new(team_id, "label.created").details(Details::new().with("label", label.as_task_label())),
    )?;
    Ok(label)
}

/// The query of a page of a team's labels in name order (ignoring case); the cursor holds
/// the last name key (unique in the team).
pub(crate) fn list_query(
    team_id: Uuid,
    paging: &IdPaging,
) -> impl diesel::query_builder::QueryFragment<Backend> + diesel::query_dsl::LoadQuery<'static, DbConn, LabelRow> {
    let mut q = labels::table.filter(labels::team_id.eq(team_id.to_string())).select(columns()).into_boxed();
    if let Some(after) = paging.after() {
        q = q.filter(labels::name_key.gt(after));
    }
    q.order(labels::name_key.asc()).limit(paging.fetch())
}

/// A team's labels by name (members).
pub fn list(conn: &mut DbConn, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<Label>> {
    require_member(conn, team_id, caller)?;
    let rows: Vec<LabelRow> = list_query(team_id, paging).load(conn)?;
    let items = rows.into_iter().map(label_of).collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| {
        storage::count::count_up_to(conn, labels::table.filter(labels::team_id.eq(team_id.to_string())), most)
    })?;
    Ok(paging.page(items, |l| name_key(&l.name)).with_total(total))
}

/// One label (members of its team).
pub fn get(conn: &mut DbConn, caller: &Caller, label_id: Uuid) -> AppResult<Label> {
    find_for(conn, caller, label_id)
}

/// Renames or recolours a label (members), honouring `If-Match`.
pub fn update(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    label_id: Uuid,
    changes: LabelChanges,
    if_match: IfMatch,
) -> AppResult<Label> {
    let (name, color) = changes.validate()?;
    let before = find_for(tx, caller, label_id)?;
    if_match.check(before.version)?;
    let after = Label {
        name: name.unwrap_or_else(|| before.name.clone()),
        color: color.unwrap_or_else(|| before.color.clone()),
        ..before.clone()
    };
    let details =
        Details::new().changed("name", &before.name, &after.name).changed("color", &before.color, &after.color);
    if details.is_empty() {
        return Ok(before);
    }
    if name_key(&after.name) != name_key(&before.name) {
        check_name_free(tx, before.team_id, &after.name, Some(label_id))?;
    }
    let updated_at = time::now_after(before.updated_at);
    diesel::update(labels::table.filter(labels::id.eq(label_id.to_string())))
        .set((
            labels::name.eq(&after.name),
            labels::name_key.eq(name_key(&after.name)),
            labels::color.eq(&after.color),
            labels::updated_at.eq(time::to_millis(updated_at)),
            labels::version.eq(before.version + 1),
        ))
        .execute(tx.conn())?;
    let tasks = touch_tasks_of(tx, label_id, false)?;
    let label = find_for(tx, caller, label_id)?;
    let details = details.with("label", label.as_task_label()).with("tasks", tasks);
    log.append(tx, caller, NewEntry::new(label.team_id, "label.updated").details(details))?;
    Ok(label)
}

/// Deletes a label (members), honouring `If-Match`: its tasks lose it (their versions move).
pub fn delete(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, label_id: Uuid, if_match: IfMatch) -> AppResult<()> {
    let before = find_for(tx, caller, label_id)?;
    if_match.check(before.version)?;
    let tasks = touch_tasks_of(tx, label_id, true)?;
    // `task_labels` rows go with the label (ON DELETE CASCADE).
    diesel::delete(labels::table.filter(labels::id.eq(label_id.to_string()))).execute(tx.conn())?;
    let details = Details::new().with("label", before.as_task_label()).with("tasks", tasks);
    log.append(tx, caller, NewEntry::new(before.team_id, "label.deleted").details(details))?;
    Ok(())
}

/// The labels `ids` of the team, in the order given; 422 naming `field` when one is not a
/// label of the team (unknown, or another team's).
pub(crate) fn resolve(conn: &mut DbConn, team_id: Uuid, field: &str, ids: &[Uuid]) -> AppResult<Vec<TaskLabel>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String)> = labels::table
        .filter(labels::team_id.eq(team_id.to_string()))
        .filter(labels::id.eq_any(ids.iter().map(Uuid::to_string)))
        .select((labels::id, labels::name, labels::color))
        .load(conn)?;
    let mut found = HashMap::new();
    for (id, name, color) in rows {
        let id = id::from_stored("labels.id", &id)?;
        found.insert(id, TaskLabel { id, name, color });
    }
    let missing: Vec<String> = ids.iter().filter(|i| !found.contains_key(i)).map(Uuid::to_string).collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(field, format!("not labels of the task's team: {}", missing.join(", "))));
    }
    Ok(ids.iter().filter_map(|i| found.remove(i)).collect())
}

/// The query of [`of_tasks`]: the primary key `(task_id, label_id)` finds each task's
/// rows, `labels` its key; only the page's labels are sorted.
pub(crate) fn labels_of_query(
    task_ids: Vec<String>,
) -> impl diesel::query_builder::QueryFragment<Backend>
       + diesel::query_dsl::LoadQuery<'static, DbConn, (String, String, String, String)> {
    task_labels::table
        .inner_join(labels::table.on(labels::id.eq(task_labels::label_id)))
        .filter(task_labels::task_id.eq_any(task_ids))
        .select((task_labels::task_id, labels::id, labels::name, labels::color))
        .order((labels::name_key.asc(), labels::id.asc()))
}

/// The query of [`of_tasks_with_versions`]: [`labels_of_query`] and each task by its
/// primary key.
pub(crate) fn labels_with_versions_query(
    task_ids: Vec<String>,
) -> impl diesel::query_builder::QueryFragment<Backend>
       + diesel::query_dsl::LoadQuery<'static, DbConn, (String, i64, String, String, String)> {
    task_labels::table
        .inner_join(labels::table.on(labels::id.eq(task_labels::label_id)))
        .inner_join(project_tasks::table.on(project_tasks::id.eq(task_labels::task_id)))
        .filter(task_labels::task_id.eq_any(task_ids))
        .select((task_labels::task_id, project_tasks::version, labels::id, labels::name, labels::color))
        .order((labels::name_key.asc(), labels::id.asc()))
}

/// The labels of each of `task_ids` as [`of_tasks`] reads them, each row with its task's
/// version: for a page read by an earlier statement, outside a transaction (see
/// [`crate::row::attach_labels_as_read`]).
pub(crate) fn of_tasks_with_versions(
    conn: &mut DbConn,
    task_ids: &[String],
) -> AppResult<HashMap<String, (i64, Vec<TaskLabel>)>> {
    let mut by_task: HashMap<String, (i64, Vec<TaskLabel>)> = HashMap::new();
    if task_ids.is_empty() {
        return Ok(by_task);
    }
    let rows: Vec<(String, i64, String, String, String)> = labels_with_versions_query(task_ids.to_vec()).load(conn)?;
    for (task, version, id, name, color) in rows {
        let id = id::from_stored("labels.id", &id)?;
        by_task.entry(task).or_insert_with(|| (version, Vec::new())).1.push(TaskLabel { id, name, color });
    }
    Ok(by_task)
}

/// The labels of each of `task_ids`, by name: one query for a whole page.
pub(crate) fn of_tasks(conn: &mut DbConn, task_ids: &[String]) -> AppResult<HashMap<String, Vec<TaskLabel>>> {
    let mut by_task: HashMap<String, Vec<TaskLabel>> = HashMap::new();
    if task_ids.is_empty() {
        return Ok(by_task);
    }
    let rows: Vec<(String, String, String, String)> = labels_of_query(task_ids.to_vec()).load(conn)?;
    for (task, id, name, color) in rows {
        let id = id::from_stored("labels.id", &id)?;
        by_task.entry(task).or_default().push(TaskLabel { id, name, color });
    }
    Ok(by_task)
}

/// Gives `task_id` the labels `add` and takes `remove` away (rows of `task_labels`).
pub(crate) fn relabel(tx: &mut Tx<'_>, task_id: Uuid, add: &[TaskLabel], remove: &[TaskLabel]) -> AppResult<()> {
    let mut removed = 0;
    if !remove.is_empty() {
        removed = diesel::delete(
            task_labels::table
                .filter(task_labels::task_id.eq(task_id.to_string()))
                .filter(task_labels::label_id.eq_any(remove.iter().map(|l| l.id.to_string()))),
        )
        .execute(tx.conn())?;
    }
    // At most `TASK_LABELS_MAX` rows, one statement each (prepared once per connection).
    for label in add {
        diesel::insert_into(task_labels::table)
            .values((task_labels::task_id.eq(task_id.to_string()), task_labels::label_id.eq(label.id.to_string())))
            .execute(tx.conn())?;
    }
    let change = i32::try_from(add.len()).unwrap_or(i32::MAX) - i32::try_from(removed).unwrap_or(i32::MAX);
    if change != 0 {
        diesel::update(project_tasks::table.filter(project_tasks::id.eq(task_id.to_string())))
            .set(project_tasks::label_count.eq(project_tasks::label_count + change))
            .execute(tx.conn())?;
    }
    Ok(())
}
