//! Blocking service calls (Diesel, argon2) run on the blocking pool, never on an async
//! worker; searches first wait for one of a few permits.

use actix_web::web;

use super::request_id;
use crate::{AppError, AppResult};

/// Runs a blocking service call (Diesel, argon2) on the blocking pool, never on a worker.
///
/// A panic inside `f` becomes a logged 500 instead of taking the worker down.
pub async fn blocking<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    // Log lines written on the blocking thread still name the request.
    let id = request_id::current();
    // So does the request's idempotency claim: its write marks the key as written.
    let claim = crate::idempotency::current();
    match web::block(move || request_id::sync_scope(id, || crate::idempotency::sync_scope(claim, f))).await {
        Ok(result) => result,
        Err(e) => Err(AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))),
    }
}

/// [`blocking`] for a full-text search: first waits, without holding a thread, for one of
/// as many search permits as the machine has cores (at most 10 s, then 503). Searches
/// waiting for their turn then never fill the blocking pool, so point reads and writes
/// beside a burst of expensive searches still find a thread (and the database's search
/// slots, `storage::Database::read_for_search`, a connection).
pub async fn blocking_search<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    });
    let permit = tokio::time::timeout(std::time::Duration::from_secs(10), permits.acquire()).await;
    let Ok(Ok(_permit)) = permit else {
        log::warn!("a search waited too long for its turn");
        return Err(AppError::Unavailable("too many searches at once; retry shortly".into()));
    };
    blocking(f).await
}
