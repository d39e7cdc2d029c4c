//! The team-projects routes: parse the request, call the [`ProjectService`] as the caller
//! on the blocking pool, shape the response. No rules live here.
//!
//! One module per resource (`teams`, `members`, `invites`, `projects`, `tasks`,
//! `comments`, `activity`: feeds and the event stream, `notifications`: the caller's
//! notifications and their stream); this one mounts them all.

mod activity;
mod comments;
mod invites;
mod labels;
mod members;
mod notifications;
mod projects;
mod tasks;
mod teams;

use std::sync::Arc;

use actix_web::web;
use core_models::http::blocking;
use core_models::AppResult;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::ProjectService;

pub use activity::EventParams;
pub use members::MemberListParams;
pub use projects::ProjectListParams;

type Service = web::Data<dyn ProjectService>;

/// Mounts the routes (relative to the API base) with `service` behind them.
pub fn configure(service: Arc<dyn ProjectService>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(service))
            .service(teams::create_team)
            .service(teams::my_teams)
            .service(teams::get_team)
            .service(teams::update_team)
            .service(teams::delete_team)
            .service(members::list_members)
            .service(members::add_member)
            .service(members::change_role)
            .service(members::remove_member)
            .service(invites::create_invite)
            .service(invites::list_invites)
            .service(invites::revoke_invite)
            .service(invites::accept_invite)
            .service(projects::create_project)
            .service(projects::list_projects)
            .service(labels::create_label)
            .service(labels::list_labels)
            .service(labels::get_label)
            .service(labels::update_label)
            .service(labels::delete_label)
            .service(tasks::team_tasks)
            .service(tasks::my_tasks)
            .service(notifications::my_notifications)
            .service(notifications::mark_notifications_read)
            .service(notifications::my_events)
            .service(activity::team_activity)
            .service(activity::team_events)
            .service(projects::get_project)
            .service(projects::update_project)
            .service(projects::delete_project)
            .service(tasks::create_project_task)
            .service(tasks::list_project_tasks)
            .service(tasks::update_project_tasks)
            .service(tasks::get_project_task)
            .service(tasks::update_project_task)
            .service(tasks::delete_project_task)
            .service(tasks::move_project_task)
            .service(activity::task_activity)
            .service(comments::create_comment)
            .service(comments::list_comments)
            .service(comments::update_comment)
            .service(comments::delete_comment);
    }
}

/// Calls the service on the blocking pool.
async fn call<T: Send + 'static>(
    service: Service,
    f: impl FnOnce(&dyn ProjectService) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let service = service.into_inner();
    blocking(move || f(service.as_ref())).await
}
