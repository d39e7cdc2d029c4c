//! The team-projects contract, and its implementation over the shared database (SQLite
//! or PostgreSQL).
//!
//! Every method takes the [`Caller`]; the rules (membership, roles, the last admin, the
//! assignee) are checked inside the same read or write as the data they guard, so a
//! library user gets exactly what an HTTP client gets.

use activity_log::stream::Watch;
use activity_log::{ActivityEntry, ActivityLog, FeedQuery};
use core_models::pagination::IdPaging;
use core_models::version::IfMatch;
use core_models::{time, AppResult, Caller, Page};
use diesel::Connection as _;
use storage::Database;
use storage::{DbConn, Tx};
use uuid::Uuid;

use crate::board::MoveProjectTask;
use crate::bulk::BulkTaskChanges;
use crate::labels::{Label, LabelChanges, NewLabel};
use crate::list::ListProjectTasks;
use crate::model::{
    Invite, Member, MemberChanges, NamedChanges, NewInvite, NewMember, NewProjectTask, NewTeam, OpenInvite, Project,
    ProjectTask, ProjectTaskChanges, TaskComment, TaskCommentBody, Team,
};
use crate::notifications::live::NotificationWatch;
use crate::notifications::{MarkNotificationsRead, Notification, NotificationHook, NotificationQuery};
use crate::{access, board, bulk, comments, labels, notifications, projects, tasks, teams};

/// Teams, members, invites, projects, tasks, comments and their activity, as `caller`.
#[allow(missing_docs)]
pub trait ProjectService: Send + Sync + 'static {
    fn create_team(&self, caller: &Caller, new: NewTeam) -> AppResult<Team>;
    fn my_teams(&self, caller: &Caller, paging: &IdPaging) -> AppResult<Page<Team>>;
    fn team(&self, caller: &Caller, team_id: Uuid) -> AppResult<Team>;
    fn update_team(&self, caller: &Caller, team_id: Uuid, changes: NamedChanges) -> AppResult<Team>;
    fn delete_team(&self, caller: &Caller, team_id: Uuid) -> AppResult<()>;

    /// The members; with `name_prefix`, those whose display name starts with it (any case).
    fn members(
        &self,
        caller: &Caller,
        team_id: Uuid,
        name_prefix: Option<&str>,
        paging: &IdPaging,
    ) -> AppResult<Page<Member>>;
    fn add_member(&self, caller: &Caller, team_id: Uuid, new: NewMember) -> AppResult<Member>;
    fn change_role(&self, caller: &Caller, team_id: Uuid, user: Uuid, changes: MemberChanges) -> AppResult<Member>;
    fn remove_member(&self, caller: &Caller, team_id: Uuid, user: Uuid) -> AppResult<()>;

    fn create_invite(&self, caller: &Caller, team_id: Uuid, new: NewInvite) -> AppResult<Invite>;
    fn invites(&self, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<OpenInvite>>;
    /// Revokes an open invite named by its id (or by its code).
    fn revoke_invite(&self, caller: &Caller, team_id: Uuid, invite: String) -> AppResult<()>;
    fn accept_invite(&self, caller: &Caller, code: String) -> AppResult<Team>;

    fn create_project(&self, caller: &Caller, team_id: Uuid, new: NewTeam) -> AppResult<Project>;
    /// The team's projects; `archived` keeps the archived ones (`true`) or the others.
    fn projects(
        &self,
        caller: &Caller,
        team_id: Uuid,
        archived: Option<bool>,
        paging: &IdPaging,
    ) -> AppResult<Page<Project>>;
    fn project(&self, caller: &Caller, project_id: Uuid) -> AppResult<Project>;
    fn update_project(&self, caller: &Caller, project_id: Uuid, changes: NamedChanges) -> AppResult<Project>;
    fn delete_project(&self, caller: &Caller, project_id: Uuid) -> AppResult<()>;

    fn create_task(&self, caller: &Caller, project_id: Uuid, new: NewProjectTask) -> AppResult<ProjectTask>;
    fn tasks(&self, caller: &Caller, query: &ListProjectTasks) -> AppResult<Page<ProjectTask>>;
    fn task(&self, caller: &Caller, project_id: Uuid, task_id: Uuid) -> AppResult<ProjectTask>;
    fn update_task(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        changes: ProjectTaskChanges,
        if_match: IfMatch,
    ) -> AppResult<ProjectTask>;
    fn delete_task(&self, caller: &Caller, project_id: Uuid, task_id: Uuid, if_match: IfMatch) -> AppResult<()>;
    /// Moves a task on its project's board (see [`MoveProjectTask`]), honouring `If-Match`.
    fn move_task(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        body: MoveProjectTask,
        if_match: IfMatch,
    ) -> AppResult<ProjectTask>;

    /// Changes up to 200 tasks of the project alike, all or none, in one write.
    fn update_tasks(&self, caller: &Caller, project_id: Uuid, changes: BulkTaskChanges) -> AppResult<Vec<ProjectTask>>;

    fn create_label(&self, caller: &Caller, team_id: Uuid, new: NewLabel) -> AppResult<Label>;
    fn labels(&self, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<Label>>;
    fn label(&self, caller: &Caller, label_id: Uuid) -> AppResult<Label>;
    fn update_label(
        &self,
        caller: &Caller,
        label_id: Uuid,
        changes: LabelChanges,
        if_match: IfMatch,
    ) -> AppResult<Label>;
    fn delete_label(&self, caller: &Caller, label_id: Uuid, if_match: IfMatch) -> AppResult<()>;

    fn create_comment(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        body: TaskCommentBody,
    ) -> AppResult<TaskComment>;
    fn comments(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        paging: &IdPaging,
    ) -> AppResult<Page<TaskComment>>;
    fn update_comment(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        comment_id: Uuid,
        body: TaskCommentBody,
    ) -> AppResult<TaskComment>;
    fn delete_comment(&self, caller: &Caller, project_id: Uuid, task_id: Uuid, comment_id: Uuid) -> AppResult<()>;

    fn team_activity(&self, caller: &Caller, team_id: Uuid, query: &FeedQuery) -> AppResult<Page<ActivityEntry>>;
    fn task_activity(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        query: &FeedQuery,
    ) -> AppResult<Page<ActivityEntry>>;
    /// `team_id`'s live stream for `caller` (404 unless a member): subscribed first, then
    /// for a client resuming after the entry `resume` (its id, and the field it came in)
    /// where in the team's log to replay from (422 naming the field if the team has no
    /// such entry). A removal that commits in between is either refused here or seen by
    /// the stream; an entry that commits in between is in the replay or the subscription.
    fn watch(&self, caller: &Caller, team_id: Uuid, resume: Option<(Uuid, &str)>) -> AppResult<Watch>;

    /// The caller's notifications, newest first (`GET /me/notifications`).
    fn notifications(&self, caller: &Caller, query: &NotificationQuery) -> AppResult<Page<Notification>>;
    /// Marks the caller's notifications read (the ids named, or all); returns how many
    /// were unread.
    fn mark_notifications_read(&self, caller: &Caller, which: MarkNotificationsRead) -> AppResult<usize>;
    /// The caller's notification stream: subscribed first, then placed after the
    /// notification `resume` names (its id, and the field it came in: 422 naming it for an
    /// id that is none of the caller's), or after the caller's last one.
    fn watch_notifications(&self, caller: &Caller, resume: Option<(Uuid, &str)>) -> AppResult<NotificationWatch>;
}

/// [`ProjectService`] over the shared database, recording through an [`ActivityLog`].
#[derive(Debug, Clone)]
pub struct DbProjects {
    db: Database,
    log: ActivityLog,
}

impl DbProjects {
    /// The service on a migrated database.
    /// The log gets the [`NotificationHook`], so every entry any path of the service
    /// appends writes its notifications in the same transaction.
    pub fn new(db: Database, log: ActivityLog) -> Self {
        core_models::constraint::register(crate::CONSTRAINTS);
        DbProjects { db, log: log.with_hook(std::sync::Arc::new(NotificationHook)) }
    }

    /// A read in one snapshot: the membership check and the data agree.
    fn read<T>(&self, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
        let mut conn = self.db.read()?;
        (*conn).transaction(f)
    }

    /// A write with the log and the caller at hand.
    fn write<T, F>(&self, caller: &Caller, f: F) -> AppResult<T>
    where
        F: FnMut(&mut Tx<'_>, &ActivityLog, &Caller) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (log, caller) = (self.log.clone(), caller.clone());
        let mut f = f;
        self.db.write(move |conn| f(conn, &log, &caller))
    }
}

impl ProjectService for DbProjects {
    fn create_team(&self, caller: &Caller, new: NewTeam) -> AppResult<Team> {
        self.write(caller, move |c, log, me| teams::create(c, log, me, new.clone()))
    }
    fn my_teams(&self, caller: &Caller, paging: &IdPaging) -> AppResult<Page<Team>> {
        self.read(|c| teams::mine(c, caller, paging))
    }
    fn team(&self, caller: &Caller, team_id: Uuid) -> AppResult<Team> {
        self.read(|c| teams::get(c, caller, team_id))
    }
    fn update_team(&self, caller: &Caller, team_id: Uuid, changes: NamedChanges) -> AppResult<Team> {
        self.write(caller, move |c, log, me| teams::update(c, log, me, team_id, changes.clone()))
    }
    fn delete_team(&self, caller: &Caller, team_id: Uuid) -> AppResult<()> {
        self.write(caller, move |c, log, me| teams::delete(c, log, me, team_id))
    }

    fn members(
        &self,
        caller: &Caller,
        team_id: Uuid,
        name_prefix: Option<&str>,
        paging: &IdPaging,
    ) -> AppResult<Page<Member>> {
        self.read(|c| teams::members(c, caller, team_id, name_prefix, paging))
    }
    fn add_member(&self, caller: &Caller, team_id: Uuid, new: NewMember) -> AppResult<Member> {
        self.write(caller, move |c, log, me| teams::add_member(c, log, me, team_id, new.clone()))
    }
    fn change_role(&self, caller: &Caller, team_id: Uuid, user: Uuid, changes: MemberChanges) -> AppResult<Member> {
        self.write(caller, move |c, log, me| teams::change_role(c, log, me, team_id, user, changes.clone()))
    }
    fn remove_member(&self, caller: &Caller, team_id: Uuid, user: Uuid) -> AppResult<()> {
        self.write(caller, move |c, log, me| teams::remove_member(c, log, me, team_id, user))
    }

    fn create_invite(&self, caller: &Caller, team_id: Uuid, new: NewInvite) -> AppResult<Invite> {
        self.write(caller, move |c, _, me| teams::invite(c, me, team_id, new.clone()))
    }
    fn invites(&self, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<OpenInvite>> {
        self.read(|c| teams::invites(c, caller, team_id, paging))
    }
    fn revoke_invite(&self, caller: &Caller, team_id: Uuid, invite: String) -> AppResult<()> {
        self.write(caller, move |c, _, me| teams::revoke_invite(c, me, team_id, &invite))
    }
    fn accept_invite(&self, caller: &Caller, code: String) -> AppResult<Team> {
        self.write(caller, move |c, log, me| teams::accept(c, log, me, &code))
    }

    fn create_project(&self, caller: &Caller, team_id: Uuid, new: NewTeam) -> AppResult<Project> {
        self.write(caller, move |c, log, me| projects::create(c, log, me, team_id, new.clone()))
    }
    fn projects(
        &self,
        caller: &Caller,
        team_id: Uuid,
        archived: Option<bool>,
        paging: &IdPaging,
    ) -> AppResult<Page<Project>> {
        self.read(|c| projects::list(c, caller, team_id, archived, paging))
    }
    fn project(&self, caller: &Caller, project_id: Uuid) -> AppResult<Project> {
        self.read(|c| projects::get(c, caller, project_id))
    }
    fn update_project(&self, caller: &Caller, project_id: Uuid, changes: NamedChanges) -> AppResult<Project> {
        self.write(caller, move |c, log, me| projects::update(c, log, me, project_id, changes.clone()))
    }
    fn delete_project(&self, caller: &Caller, project_id: Uuid) -> AppResult<()> {
        self.write(caller, move |c, log, me| projects::delete(c, log, me, project_id))
    }

    fn create_task(&self, caller: &Caller, project_id: Uuid, new: NewProjectTask) -> AppResult<ProjectTask> {
        self.write(caller, move |c, log, me| tasks::create(c, log, me, project_id, new.clone()))
    }
    fn tasks(&self, caller: &Caller, query: &ListProjectTasks) -> AppResult<Page<ProjectTask>> {
        let today = time::now().date_naive();
        let list = |c: &mut DbConn| {
            match query.scope {
                crate::list::Scope::Project(project) => {
                    access::project_access(c, project, caller)?;
                }
                crate::list::Scope::Team(team) => {
                    access::require_member(c, team, caller)?;
                }
                crate::list::Scope::Mine(_) => return tasks::list_mine(c, caller, query, today),
            }
            tasks::list(c, query, today)
        };
        if query.filter.search.is_some() {
            // A search takes one of the search slots (see `storage::Database::read_for_search`).
            let mut conn = self.db.read_for_search()?;
            return (*conn).transaction(list);
        }
        let mut conn = self.db.read()?;
        match tasks::list_as_member(&mut conn, caller, query, today)? {
            Some(page) => Ok(page),
            None => (*conn).transaction(list),
        }
    }
    fn task(&self, caller: &Caller, project_id: Uuid, task_id: Uuid) -> AppResult<ProjectTask> {
        // One statement when it can (see `tasks::get_as_member`), else in a snapshot.
        let mut conn = self.db.read()?;
        match tasks::get_as_member(&mut conn, caller, project_id, task_id)? {
            Some(task) => Ok(task),
            None => (*conn).transaction(|c| tasks::get(c, caller, project_id, task_id)),
        }
    }
    fn update_task(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        changes: ProjectTaskChanges,
        if_match: IfMatch,
    ) -> AppResult<ProjectTask> {
        self.write(caller, move |c, log, me| {
            tasks::update(c, log, me, project_id, task_id, changes.clone(), if_match.clone())
        })
    }
    fn delete_task(&self, caller: &Caller, project_id: Uuid, task_id: Uuid, if_match: IfMatch) -> AppResult<()> {
        self.write(caller, move |c, log, me| tasks::delete(c, log, me, project_id, task_id, if_match.clone()))
    }
    fn move_task(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        body: MoveProjectTask,
        if_match: IfMatch,
    ) -> AppResult<ProjectTask> {
        self.write(caller, move |c, log, me| {
            board::move_task(c, log, me, project_id, task_id, body.clone(), if_match.clone())
        })
    }

    fn update_tasks(&self, caller: &Caller, project_id: Uuid, changes: BulkTaskChanges) -> AppResult<Vec<ProjectTask>> {
        let valid = changes.validate()?;
        self.write(caller, move |c, log, me| bulk::update_many(c, log, me, project_id, valid.clone()))
    }

    fn create_label(&self, caller: &Caller, team_id: Uuid, new: NewLabel) -> AppResult<Label> {
        self.write(caller, move |c, log, me| labels::create(c, log, me, team_id, new.clone()))
    }
    fn labels(&self, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<Label>> {
        self.read(|c| labels::list(c, caller, team_id, paging))
    }
    fn label(&self, caller: &Caller, label_id: Uuid) -> AppResult<Label> {
        self.read(|c| labels::get(c, caller, label_id))
    }
    fn update_label(
        &self,
        caller: &Caller,
        label_id: Uuid,
        changes: LabelChanges,
        if_match: IfMatch,
    ) -> AppResult<Label> {
        self.write(caller, move |c, log, me| labels::update(c, log, me, label_id, changes.clone(), if_match.clone()))
    }
    fn delete_label(&self, caller: &Caller, label_id: Uuid, if_match: IfMatch) -> AppResult<()> {
        self.write(caller, move |c, log, me| labels::delete(c, log, me, label_id, if_match.clone()))
    }

    fn create_comment(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        body: TaskCommentBody,
    ) -> AppResult<TaskComment> {
        self.write(caller, move |c, log, me| comments::create(c, log, me, project_id, task_id, body.clone()))
    }
    fn comments(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        paging: &IdPaging,
    ) -> AppResult<Page<TaskComment>> {
        self.read(|c| comments::list(c, caller, project_id, task_id, paging))
    }
    fn update_comment(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        comment_id: Uuid,
        body: TaskCommentBody,
    ) -> AppResult<TaskComment> {
        self.write(caller, move |c, log, me| {
            comments::update(c, log, me, project_id, task_id, comment_id, body.clone())
        })
    }
    fn delete_comment(&self, caller: &Caller, project_id: Uuid, task_id: Uuid, comment_id: Uuid) -> AppResult<()> {
        self.write(caller, move |c, log, me| comments::delete(c, log, me, project_id, task_id, comment_id))
    }

    fn team_activity(&self, caller: &Caller, team_id: Uuid, query: &FeedQuery) -> AppResult<Page<ActivityEntry>> {
        // One statement when it can (see `tasks::list_as_member`), else in a snapshot.
        let mut conn = self.db.read()?;
        if let Some(page) =
            self.log.team_feed_gated(&mut conn, team_id, query, access::member_gate(team_id, caller.id))?
        {
            return Ok(page);
        }
        (*conn).transaction(|c| {
            access::require_member(c, team_id, caller)?;
            self.log.team_feed(c, team_id, query)
        })
    }
    fn task_activity(
        &self,
        caller: &Caller,
        project_id: Uuid,
        task_id: Uuid,
        query: &FeedQuery,
    ) -> AppResult<Page<ActivityEntry>> {
        self.read(|c| {
            access::project_access(c, project_id, caller)?;
            // A deleted task keeps its history: the project (checked above) decides who
            // may read it, and only entries of this project count. A task id the project
            // neither has nor ever recorded anything about is unknown: 404, as for comments.
            if !access::task_known(c, project_id, task_id)? {
                return Err(core_models::AppError::not_found("task"));
            }
            let mut query = query.clone();
            query.filter.project_id = Some(project_id);
            self.log.task_feed(c, task_id, &query)
        })
    }
    fn watch(&self, caller: &Caller, team_id: Uuid, resume: Option<(Uuid, &str)>) -> AppResult<Watch> {
        let live = self.log.subscribe(team_id);
        let after = self.read(|c| {
            access::require_member(c, team_id, caller)?;
            resume.map(|(id, field)| self.log.resume_position(c, team_id, id, field)).transpose()
        })?;
        Ok(Watch::new(live, self.db.clone(), team_id, after))
    }

    fn notifications(&self, caller: &Caller, query: &NotificationQuery) -> AppResult<Page<Notification>> {
        self.read(|c| notifications::list(c, &self.log, caller, query))
    }
    fn mark_notifications_read(&self, caller: &Caller, which: MarkNotificationsRead) -> AppResult<usize> {
        self.write(caller, move |c, _, me| notifications::mark_read(c, me, which.clone()))
    }
    fn watch_notifications(&self, caller: &Caller, resume: Option<(Uuid, &str)>) -> AppResult<NotificationWatch> {
        let user = caller.id;
        notifications::live::watch(&self.db, &self.log, user, |c| {
            resume.map(|(id, field)| notifications::resume_position(c, user, id, field)).transpose()
        })
    }
}
