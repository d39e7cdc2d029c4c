//! Bulk changes (`PATCH /projects/{id}/tasks`): up to [`BULK_MAX`] tasks of one project
//! changed alike, all or none, in one write.
//!
//! Every task goes through [`crate::tasks::apply`], the code path of a single task's
//! `PATCH`, so each gets its own version bump and activity entries exactly as if changed
//! one by one, and rules added there hold for bulk changes too. The checks that do not
//! depend on the task (access, the archived project, the assignee, the labels, every id
//! being a task of the project) run once, before the first change; any failure rolls the
//! whole write back.

use std::collections::HashSet;

use activity_log::ActivityLog;
use core_models::version::IfMatch;
use core_models::{patch, AppError, AppResult, Caller, FieldError, Violations};
use diesel::prelude::*;
use serde::Deserialize;
use storage::schema::project_tasks;
use storage::Tx;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::project_write_access;
use crate::labels::label_id_list;
use crate::model::{ProjectTask, ProjectTaskChanges, ValidTaskChanges};
use crate::tasks::{apply, check_assignee, LabelChange};

/// The most tasks one bulk change may name.
pub const BULK_MAX: usize = 200;

/// The body of `PATCH /projects/{id}/tasks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkTaskChanges {
    /// The tasks of the project to change: 1 to 200, none twice. The response lists them
    /// in this order.
    #[schema(value_type = Vec<Uuid>, min_items = 1, max_items = 200)]
    pub ids: Vec<String>,
    /// What to change on every one of them.
    pub changes: BulkTaskFields,
}

/// The `changes` of a bulk change: absent fields stay; `null` clears `due_date` and
/// `assignee_id`. `label_ids` replaces each task's labels and cannot be combined with
/// `add_label_ids` / `remove_label_ids`, which edit them. At least one field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkTaskFields {
    /// New status; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = crate::ProjectTaskStatus, required = false)]
    pub status: Option<Option<String>>,
    /// New priority; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = crate::Priority, required = false)]
    pub priority: Option<Option<String>>,
    /// New assignee (a member); `null` unassigns.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<Option<String>>,
    /// New due date `YYYY-MM-DD`; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Option<String>>,
    /// Every task's labels from now on (labels of the team; `[]` removes all); not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Vec<Uuid>, required = false, max_items = 20)]
    pub label_ids: Option<Option<Vec<String>>>,
    /// Labels of the team to add to every task (a task that has one keeps it).
    #[serde(default)]
    #[schema(value_type = Vec<Uuid>, required = false, max_items = 20)]
    pub add_label_ids: Option<Vec<String>>,
    /// Labels to take off every task (a task without one is left as it is).
    #[serde(default)]
    #[schema(value_type = Vec<Uuid>, required = false, max_items = 20)]
    pub remove_label_ids: Option<Vec<String>>,
}

/// A checked bulk change.
#[derive(Debug, Clone)]
pub(crate) struct ValidBulk {
    pub ids: Vec<Uuid>,
    pub changes: ValidTaskChanges,
}

/// `changes.` before each field error's name.
fn within_changes(error: AppError, v: &mut Violations) {
    match error {
        AppError::Validation(errors) => {
            for e in errors {
                v.push(FieldError::new(format!("changes.{}", e.field), e.message));
            }
        }
        other => v.push(FieldError::new("changes", other.to_string())),
    }
}

impl BulkTaskChanges {
    pub(crate) fn validate(self) -> AppResult<ValidBulk> {
        let mut v = Violations::new();
        let ids = task_id_list(&self.ids, &mut v);
        let fields = self.changes;
        let given = [
            fields.status.is_some(),
            fields.priority.is_some(),
            fields.assignee_id.is_some(),
            fields.due_date.is_some(),
            fields.label_ids.is_some(),
            fields.add_label_ids.is_some(),
            fields.remove_label_ids.is_some(),
        ];
        if !given.contains(&true) {
            v.push(FieldError::new("changes", "must name at least one field to change"));
        }
        let replacing = fields.label_ids.is_some();
        let one_task = ProjectTaskChanges {
            status: fields.status,
            priority: fields.priority,
            assignee_id: fields.assignee_id,
            due_date: fields.due_date,
            label_ids: fields.label_ids,
            ..ProjectTaskChanges::default()
        };
        let changes = one_task.validate().map_err(|e| within_changes(e, &mut v)).ok();
        let add = fields.add_label_ids.map(|raw| label_id_list("changes.add_label_ids", &raw, &mut v));
        let remove = fields.remove_label_ids.map(|raw| label_id_list("changes.remove_label_ids", &raw, &mut v));
        let editing = add.is_some() || remove.is_some();
        if replacing && editing {
            v.push(FieldError::new(
                "changes.label_ids",
                "replaces the labels: it cannot be combined with add_label_ids or remove_label_ids",
            ));
        }
        let (add, remove) = (add.flatten().unwrap_or_default(), remove.flatten().unwrap_or_default());
        if let Some(both) = add.iter().find(|a| remove.contains(a)) {
            v.push(FieldError::new("changes.remove_label_ids", format!("`{both}` is also in add_label_ids")));
        }
        v.finish()?;
        let mut changes = changes.unwrap_or_default();
        changes.labels.add = add;
        changes.labels.remove = remove;
        Ok(ValidBulk { ids: ids.unwrap_or_default(), changes })
    }
}

/// Task ids: 1 to [`BULK_MAX`], well formed, none twice (422 naming `ids` or `ids[i]`).
fn task_id_list(raw: &[String], v: &mut Violations) -> Option<Vec<Uuid>> {
    if raw.is_empty() || raw.len() > BULK_MAX {
        v.push(FieldError::new("ids", format!("must hold 1 to {BULK_MAX} task ids")));
        return None;
    }
    core_models::params::id_list("ids", raw, v)
}

core_models::body_rules!(BulkTaskChanges => BulkTaskChanges::validate);

/// Changes every task of `bulk` alike (members), all or none; the tasks after, in the
/// order of `ids`.
pub fn update_many(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    bulk: ValidBulk,
) -> AppResult<Vec<ProjectTask>> {
    let (team_id, _) = project_write_access(tx, project_id, caller)?;
    // One query: which of the ids are tasks of this project.
    let known: HashSet<String> = project_tasks::table
        .filter(project_tasks::project_id.eq(project_id.to_string()))
        .filter(project_tasks::id.eq_any(bulk.ids.iter().map(Uuid::to_string)))
        .select(project_tasks::id)
        .load::<String>(tx.conn())?
        .into_iter()
        .collect();
    let unknown: Vec<String> = bulk
        .ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(&id.to_string()))
        .map(|(i, id)| format!("`{id}` (ids[{i}])"))
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::NotFound(format!("no such task in the project: {}", unknown.join(", "))));
    }
    let labels = LabelChange::resolve(tx, team_id, "changes.", &bulk.changes.labels)?;
    if let Some(assignee) = bulk.changes.assignee_id {
        check_assignee(tx, team_id, "changes.assignee_id", assignee)?;
    }
    let mut tasks = Vec::with_capacity(bulk.ids.len());
    for task_id in bulk.ids {
        let before = crate::row::find_task(tx, task_id)?;
        tasks.push(apply(tx, log, caller, team_id, before, bulk.changes.clone(), &labels, IfMatch::Any)?);
    }
    Ok(tasks)
}
