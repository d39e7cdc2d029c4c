//! Team projects: remote teams plan and track work together.
//!
//! Users belong to many teams; admins manage members, roles, invites and projects;
//! members read everything in the team, create and edit tasks, and comment. Every key
//! action lands in the activity log in the same transaction as the change, and reaches
//! the team's live event stream once committed.
//!
//! [`ProjectService`] is the contract, every method taking the [`core_models::Caller`];
//! [`DbProjects`] implements it over the shared database. The functions behind it
//! take the open connection, so the checks, the change and its entry are one write.
//!
//! ```
//! use std::sync::Arc;
//! use activity_log::{ActivityLog, InProcessPublisher};
//! use projects::{NewProjectTask, NewTeam, ProjectService, DbProjects};
//!
//! let db = storage::test_pool();
//! # let ada = storage::testing::users(&db, &["Ada".into()]).remove(0);
//! let service = DbProjects::new(db.database(), ActivityLog::new(Arc::new(InProcessPublisher::default())));
//! let team = service.create_team(&ada, NewTeam { name: "Platform".into(), description: None })?;
//! let project = service.create_project(&ada, team.id, NewTeam { name: "Launch".into(), description: None })?;
//! let task = service.create_task(&ada, project.id, NewProjectTask { title: "Write the post".into(), ..NewProjectTask::default() })?;
//! assert_eq!((task.version, task.created_by.display_name.as_str()), (1, "Ada"));
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod access;
pub mod board;
mod bulk;
mod comments;
#[cfg(test)]
mod documented;
pub mod http;
mod labels;
pub mod list;
mod mentions;
mod model;
pub mod notifications;
#[cfg(test)]
mod plans;
pub mod position;
mod projects;
mod row;
mod service;
mod tasks;
mod teams;

use core_models::constraint::Constraint;

pub use board::MoveProjectTask;
pub use bulk::{BulkTaskChanges, BulkTaskFields, BULK_MAX};
pub use labels::{Label, LabelChanges, NewLabel, TaskLabel, LABEL_NAME_MAX, TASK_LABELS_MAX};
pub use list::{
    Assignee, ListProjectTasks, ListProjectTasksParams, MyTasksParams, ProjectTaskListParams, Scope, TaskFilter,
    TaskSort,
};
pub use model::{
    Invite, Member, MemberChanges, NamedChanges, NewInvite, NewMember, NewProjectTask, NewTeam, OpenInvite, Priority,
    Project, ProjectTask, ProjectTaskChanges, ProjectTaskStatus, Role, TaskComment, TaskCommentBody, Team, TeamChanges,
    INVITE_DAYS,
};
pub use notifications::{
    MarkNotificationsRead, Notification, NotificationKind, NotificationListParams, NotificationQuery,
};
pub use service::{DbProjects, ProjectService};

/// What the projects tables' constraints mean to a client.
pub static CONSTRAINTS: &[Constraint] = &[
    Constraint::unique("team_members.team_id, team_members.user_id", "the user is already a member of the team"),
    Constraint::unique(
        "labels.team_id, labels.name_key",
        "the team already has a label of this name (names ignore case)",
    ),
    Constraint::check("team_members_role", "role", "must be member or admin"),
    Constraint::check("project_tasks_status", "status", "must be todo, in_progress or done"),
    Constraint::check("project_tasks_priority", "priority", "must be low, medium, high or urgent"),
];
