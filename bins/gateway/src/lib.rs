//! The Corkboard gateway: one actix-web server that mounts every domain crate's routes
//! over one shared [`storage::Database`] (SQLite or PostgreSQL), plus health checks,
//! `/openapi.json` and the Swagger UI at `/docs` (served from the binary, no internet
//! needed).
//!
//! Tests and embedders use [`Application`]: build it on port 0, read [`Application::port`],
//! then await [`Application::run_until_stopped`].

mod access_log;
pub mod cli;
mod cors;
mod document;
mod fallback;
mod fd_budget;
mod head;
mod health;
pub mod idempotency;
mod protocol_limits;
pub mod protocol_log;
mod query_params;
pub mod request_id;
mod routes;
#[cfg(test)]
mod schema_names;
pub mod settings;

pub use routes::{AppHandle, Application};
pub use settings::{Events, NotesStore, Settings, Switch};
