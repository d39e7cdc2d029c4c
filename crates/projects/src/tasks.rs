//! Project tasks: functions on an open connection. Every change bumps `version` (the
//! `ETag`), is checked against `If-Match` inside the write, and records one activity entry.

use activity_log::{ActivityLog, Details, NewEntry};
use chrono::NaiveDate;
use core_models::constraint::ForeignKeyField as _;
use core_models::rank::RankEnum as _;
use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Caller, Page};
use diesel::prelude::*;
use storage::schema::project_tasks;
use storage::{DbConn, Tx};
use uuid::Uuid;

use crate::access::{is_member, project_access, project_write_access, task_access, task_write_access};
use crate::labels::{self, TaskLabel};
use crate::model::{LabelEdit, NewProjectTask, ProjectTask, ProjectTaskChanges, ValidTaskChanges};
use crate::row::{find_task as find, tasks_of};

/// An assignee must be a member of the team (422 naming `field` otherwise).
pub(crate) fn check_assignee(conn: &mut DbConn, team_id: Uuid, field: &str, assignee: Option<Uuid>) -> AppResult<()> {
    match assignee {
        Some(user) if !is_member(conn, team_id, user)? => Err(AppError::invalid(field, "must be a member of the team")),
        _ => Ok(()),
    }
}

/// A [`LabelEdit`] with its labels read: each a label of the team (422 naming the field,
/// `prefix` before its name, otherwise).
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelChange {
    set: Option<Vec<TaskLabel>>,
    add: Vec<TaskLabel>,
    remove: Vec<TaskLabel>,
}

impl LabelChange {
    pub(crate) fn resolve(conn: &mut DbConn, team_id: Uuid, prefix: &str, edit: &LabelEdit) -> AppResult<Self> {
        let mut errors = Vec::new();
        let mut read =
            |field: &str, ids: &[Uuid]| match labels::resolve(conn, team_id, &format!("{prefix}{field}"), ids) {
                Ok(found) => Ok(found),
                Err(AppError::Validation(e)) => {
                    errors.extend(e);
                    Ok(Vec::new())
                }
                Err(other) => Err(other),
            };
        let set = edit.set.as_deref().map(|ids| read("label_ids", ids)).transpose()?;
        let add = read("add_label_ids", &edit.add)?;
        let remove = read("remove_label_ids", &edit.remove)?;
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(LabelChange { set, add, remove })
    }

    /// The labels a task carrying `before` carries after the change, by name.
    fn after(&self, before: &[TaskLabel]) -> Vec<TaskLabel> {
        let mut after: Vec<TaskLabel> = match &self.set {
            Some(set) => set.clone(),
            None => {
                let kept = before.iter().filter(|l| !self.remove.iter().any(|r| r.id == l.id));
                let added = self.add.iter().filter(|a| !before.iter().any(|b| b.id == a.id));
                kept.chain(added).cloned().collect()
            }
        };
        after.sort_by(|a, b| labels::name_key(&a.name).cmp(&labels::name_key(&b.name)).then(a.id.cmp(&b.id)));
        after
    }
}

/// The labels of `a` that `b` lacks.
fn missing_from(a: &[TaskLabel], b: &[TaskLabel]) -> Vec<TaskLabel> {
    a.iter().filter(|l| !b.iter().any(|o| o.id == l.id)).cloned().collect()
}

/// Creates a task in a project (members).
pub fn create(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    new: NewProjectTask,
) -> AppResult<ProjectTask> {
    let valid = new.validate()?;
    let (team_id, _) = project_write_access(tx, project_id, caller)?;
    check_assignee(tx, team_id, "assignee_id", valid.assignee_id)?;
    let labels = labels::resolve(tx, team_id, "label_ids", &valid.label_ids)?;
    let task_id = id::new_id();
    let position = crate::board::end_of_column(tx, log, caller, team_id, project_id, valid.status, task_id)?;
    let now = time::to_millis(time::now());
    diesel::insert_into(project_tasks::table)
        .values((
            project_tasks::id.eq(task_id.to_string()),
            project_tasks::team_id.eq(team_id.to_string()),
            project_tasks::project_id.eq(project_id.to_string()),
            project_tasks::title.eq(&valid.title),
            project_tasks::description.eq(&valid.description),
            project_tasks::status.eq(valid.status.rank()),
            project_tasks::priority.eq(valid.priority.rank()),
            project_tasks::due_date.eq(valid.due_date.map(time::format_date)),
            project_tasks::assignee_id.eq(valid.assignee_id.map(|a| a.to_string())),
            project_tasks::created_by.eq(caller.id.to_string()),
            project_tasks::created_at.eq(now),
            project_tasks::updated_at.eq(now),
            project_tasks::version.eq(1),
            project_tasks::position.eq(&position),
        ))
        .execute(tx.conn())
        .fk_field("assignee_id")?;
    labels::relabel(tx, task_id, &labels, &[])?;
    let task = find(tx, task_id)?;
    // Every field of what was created, people with their names: a live board needs no refetch.
    let details = Details::new()
        .with("title", &task.title)
        .with("description", &task.description)
        .with("status", task.status)
        .with("priority", task.priority)
        .with("due_date", task.due_date)
        .with("assignee_id", task.assignee.as_ref().map(|a| a.id))
        .with("assignee", &task.assignee)
        .with("labels", &task.labels)
        .with("created_by", &task.created_by)
        .with("version", task.version)
        .with("position", &task.position);
    log.append(tx, caller, NewEntry::new(team_id, "task.created").task(project_id, task_id).details(details))?;
    Ok(task)
}

/// One task (members).
pub fn get(conn: &mut DbConn, caller: &Caller, project_id: Uuid, task_id: Uuid) -> AppResult<ProjectTask> {
    task_access(conn, project_id, task_id, caller)?;
    find(conn, task_id)
}

/// [`get`] without a transaction, as [`list_as_member`] reads a page: one statement reads
/// the task and checks the caller's membership, a second its labels if it has any (with
/// its version). `None` when that cannot answer alone (no such task in the project for
/// this caller, or labels changed in between): then [`get`] in a snapshot tells which 404.
pub fn get_as_member(
    conn: &mut DbConn,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
) -> AppResult<Option<ProjectTask>> {
    let row = project_tasks::table
        .filter(project_tasks::id.eq(task_id.to_string()))
        .filter(project_tasks::project_id.eq(project_id.to_string()))
        .filter(crate::access::project_member_gate(project_id, caller.id))
        .select(crate::row::TaskRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let (mut tasks, labeled) = crate::row::tasks_without_labels(conn, vec![row])?;
    if !crate::row::attach_labels_as_read(conn, &mut tasks, &labeled)? {
        return Ok(None);
    }
    Ok(tasks.pop())
}

/// Applies `changes` (members); `if_match` is the version the client last saw. See
/// [`apply`] for what it writes.
pub fn update(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
    changes: ProjectTaskChanges,
    if_match: IfMatch,
) -> AppResult<ProjectTask> {
    let changes = changes.validate()?;
    let (team_id, before) = crate::access::task_for_change(tx, project_id, task_id, caller)?;
    let labels = LabelChange::resolve(tx, team_id, "", &changes.labels)?;
    if let Some(assignee) = changes.assignee_id {
        check_assignee(tx, team_id, "assignee_id", assignee)?;
    }
    apply(tx, log, caller, team_id, before, changes, &labels, if_match)
}

/// Changes one task (`before`, as the write read it) whose access, assignee and labels the
/// caller checked: the code path of `PATCH .../tasks/{task_id}` and of every task of a bulk
/// change, so both follow the same rules. One version bump; entries: `task.status_changed`
/// or `task.assigned` when that is all that changed, else `task.updated`, with `{from, to}`
/// per changed field; `task.labeled` / `task.unlabeled` with the labels (names and colours)
/// added / removed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    team_id: Uuid,
    before: ProjectTask,
    changes: ValidTaskChanges,
    labels: &LabelChange,
    if_match: IfMatch,
) -> AppResult<ProjectTask> {
    let ValidTaskChanges { title, description, status, priority, due_date, assignee_id, labels: _ } = changes;
    let (task_id, project_id) = (before.id, before.project_id);
    if_match.check(before.version)?;
    let labels_after = labels.after(&before.labels);
    let (labeled, unlabeled) =
        (missing_from(&labels_after, &before.labels), missing_from(&before.labels, &labels_after));
    let assignee_before = before.assignee.as_ref().map(|a| a.id);
    let assignee_after = assignee_id.unwrap_or(assignee_before);
    let mut after = ProjectTask {
        title: title.unwrap_or_else(|| before.title.clone()),
        description: description.unwrap_or_else(|| before.description.clone()),
        status: status.unwrap_or(before.status),
        priority: priority.unwrap_or(before.priority),
        due_date: due_date.unwrap_or(before.due_date),
        ..before.clone()
    };
    let details = Details::new()
        .changed("title", &before.title, &after.title)
        .changed("description", &before.description, &after.description)
        .changed("status", before.status, after.status)
        .changed("priority", before.priority, after.priority)
        .changed("due_date", before.due_date, after.due_date)
        .changed("assignee_id", assignee_before, assignee_after);
    if details.is_empty() && labeled.is_empty() && unlabeled.is_empty() {
        return Ok(before);
    }
    // A change after all: the team's entry will follow, so its claim goes first (see
    // `access::task_for_change`).
    activity_log::claim_team(tx, team_id)?;
    let changed: Vec<&str> = details.keys().collect();
    let action = match changed.as_slice() {
        ["status"] => "task.status_changed",
        ["assignee_id"] => "task.assigned",
        _ => "task.updated",
    };
    after.updated_at = time::now_after(before.updated_at);
    after.version = before.version + 1;
    // A new status puts the task at the end of its new column.
    if after.status != before.status {
        after.position = crate::board::end_of_column(tx, log, caller, team_id, project_id, after.status, task_id)?;
    }
    diesel::update(project_tasks::table.filter(project_tasks::id.eq(task_id.to_string())))
        .set((
            project_tasks::title.eq(&after.title),
            project_tasks::description.eq(&after.description),
            project_tasks::status.eq(after.status.rank()),
            project_tasks::priority.eq(after.priority.rank()),
            project_tasks::due_date.eq(after.due_date.map(time::format_date)),
            project_tasks::assignee_id.eq(assignee_after.map(|a| a.to_string())),
            project_tasks::updated_at.eq(time::to_millis(after.updated_at)),
            project_tasks::version.eq(after.version),
            project_tasks::position.eq(&after.position),
        ))
        .execute(tx.conn())
        .fk_field("assignee_id")?;
    labels::relabel(tx, task_id, &labeled, &unlabeled)?;
    let task = if labeled.is_empty() && unlabeled.is_empty() && assignee_after == assignee_before {
        // The row as just written, its assignee and labels as read before: reading it
        // back would tell nothing new (and cost a PostgreSQL write a round trip).
        after
    } else {
        // A new assignee's name, the labels in their order: as a read shows them.
        find(tx, task_id)?
    };
    if !details.is_empty() {
        // The (un)assigned people with their names, beside their ids, and where a new
        // status put the task on the board.
        let details = details.changed("assignee", &before.assignee, &task.assignee).changed(
            "position",
            &before.position,
            &task.position,
        );
        log.append(tx, caller, NewEntry::new(team_id, action).task(project_id, task_id).details(details))?;
    }
    // Names and colours with the ids, and the task's labels after: a board needs no refetch.
    for (action, which) in [("task.labeled", &labeled), ("task.unlabeled", &unlabeled)] {
        if !which.is_empty() {
            let details =
                Details::new().with("labels", which).with("task_labels", &task.labels).with("version", task.version);
            log.append(tx, caller, NewEntry::new(team_id, action).task(project_id, task_id).details(details))?;
        }
    }
    Ok(task)
}

/// Deletes a task (members), honouring `If-Match`.
pub fn delete(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    project_id: Uuid,
    task_id: Uuid,
    if_match: IfMatch,
) -> AppResult<()> {
    let (team_id, _) = task_write_access(tx, project_id, task_id, caller)?;
    let before = find(tx, task_id)?;
    if_match.check(before.version)?;
    diesel::delete(project_tasks::table.filter(project_tasks::id.eq(task_id.to_string()))).execute(tx.conn())?;
    let details = Details::new().with("title", &before.title);
    log.append(tx, caller, NewEntry::new(team_id, "task.deleted").task(project_id, task_id).details(details))?;
    Ok(())
}

/// A page of tasks for a list query (members of the scope's team).
pub fn list(
    conn: &mut DbConn,
    query: &crate::list::ListProjectTasks,
    today: NaiveDate,
) -> AppResult<Page<ProjectTask>> {
    let rows = crate::list::load_page(conn, query, today)?;
    let tasks = tasks_of(conn, rows)?;
    let total = query.page.total(|most| crate::list::count(conn, query, today, most))?;
    Ok(Page::from_overfetch(tasks, &query.page, &query.sort, |t| query.keys_of(t)).with_total(total))
}

/// A page of a team's or a project's list read without a transaction: one statement reads
/// the page and checks the caller's membership ([`crate::access::member_gate`]), and the
/// labels of the page's labeled tasks, if any, come from a second one that checks their
/// versions ([`crate::row::attach_labels_as_read`]). On PostgreSQL that spares three of
/// the five round trips of a read in a snapshot (`BEGIN`, the check, `COMMIT`).
///
/// `None` when it cannot answer alone, and the caller reads in a snapshot ([`list`] after
/// the access check): no rows (a stranger's list, or an empty page: the check tells
/// which), a labeled task that changed in between, or a list whose other statements must
/// share the page's snapshot (a total, a search, a label filter), and `me` lists.
pub fn list_as_member(
    conn: &mut DbConn,
    caller: &Caller,
    query: &crate::list::ListProjectTasks,
    today: NaiveDate,
) -> AppResult<Option<Page<ProjectTask>>> {
    if query.page.count {
        return Ok(None);
    }
    let Some(page) = crate::list::member_page_query(query, today, caller.id)? else { return Ok(None) };
    let rows = page.load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let (mut tasks, labeled) = crate::row::tasks_without_labels(conn, rows)?;
    if !crate::row::attach_labels_as_read(conn, &mut tasks, &labeled)? {
        return Ok(None);
    }
    Ok(Some(Page::from_overfetch(tasks, &query.page, &query.sort, |t| query.keys_of(t))))
}

/// A page of `GET /me/tasks`: each of the caller's teams (or the one named) yields its
/// first `limit + 1` tasks after the cursor from its own index walk (the team list's
/// query, plan-tested), and the page is the first `limit + 1` of their merge. A page costs
/// one indexed query per team of the caller, never a scan or a sort of all their tasks.
pub fn list_mine(
    conn: &mut DbConn,
    caller: &Caller,
    query: &crate::list::ListProjectTasks,
    today: NaiveDate,
) -> AppResult<Page<ProjectTask>> {
    use crate::list::Scope;
    use storage::schema::team_members;
    let mut teams: Vec<String> = team_members::table
        .filter(team_members::user_id.eq(caller.id.to_string()))
        .select(team_members::team_id)
        .order(team_members::team_id.asc())
        .load(conn)?;
    if let Some(project) = query.filter.project_id {
        let (team, _) = project_access(conn, project, caller)?;
        teams.retain(|t| *t == team.to_string());
    }
    if let Some(team) = query.filter.team_id {
        if !teams.contains(&team.to_string()) {
            return Err(AppError::not_found("team"));
        }
        teams.retain(|t| *t == team.to_string());
    }
    let mut lists = Vec::new();
    for team in teams {
        let team = id::from_stored("team_members.team_id", &team)?;
        lists.push(crate::list::ListProjectTasks { scope: Scope::Team(team), ..query.clone() });
    }
    let mut rows = Vec::new();
    for one in &lists {
        rows.extend(crate::list::load_page(conn, one, today)?);
    }
    // The names of every team's rows at once.
    let (mut tasks, labeled) = crate::row::tasks_without_labels(conn, rows)?;
    let order = query.merge_order();
    tasks.sort_by(|a, b| order(a, b));
    tasks.truncate(usize::try_from(query.page.limit).unwrap_or(usize::MAX).saturating_add(1));
    // The labels of the merged page, in one query.
    crate::row::attach_labels(conn, &mut tasks, &labeled)?;
    // Team by team, each counting at most what the teams before it left of `most`.
    let total = query.page.total(|most| {
        let mut counted = 0;
        for one in &lists {
            if counted >= most {
                break;
            }
            counted += crate::list::count(conn, one, today, most - counted)?;
        }
        Ok::<_, AppError>(counted)
    })?;
    Ok(Page::from_overfetch(tasks, &query.page, &query.sort, |t| query.keys_of(t)).with_total(total))
}
