//! Liveness and readiness.

use actix_web::{get, web, HttpResponse};
use core_models::http::blocking;
use core_models::{AppResult, Problem};
use storage::Database;

/// Health answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    status: &'static str,
}

/// Liveness: the process answers HTTP. Constant, touches nothing.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers a query.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(db: web::Data<Database>) -> AppResult<HttpResponse> {
    let db = db.into_inner();
    blocking(move || db.ping()).await.map_err(|e| {
        log::warn!("readiness check failed: {e}");
        core_models::AppError::Unavailable("the database is not reachable".into())
    })?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
