//! The id of the request being served, readable by any code that runs for it, so every
//! log line of a request can carry the id the client sees in `X-Request-Id`.
//!
//! The gateway's request id middleware runs the rest of the request inside [`scope`];
//! [`blocking`](super::blocking) carries the id over to the blocking pool; the log format
//! asks [`current`].

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// Runs `f` (the rest of a request) with `id` as the current request id.
pub async fn scope<F: Future>(id: Arc<str>, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}

/// Runs the synchronous `f` with `id` (if any) as the current request id, e.g. on a
/// blocking thread working for a request.
pub fn sync_scope<R>(id: Option<Arc<str>>, f: impl FnOnce() -> R) -> R {
    match id {
        Some(id) => REQUEST_ID.sync_scope(id, f),
        None => f(),
    }
}

/// The id of the request this code runs for, if it runs for one.
pub fn current() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn the_id_is_visible_inside_the_scope_only() {
        assert_eq!(current(), None);
        let seen = scope(Arc::from("abc"), async { current() }).await;
        assert_eq!(seen.as_deref(), Some("abc"));
        assert_eq!(current(), None);
    }

    #[actix_rt::test]
    async fn blocking_calls_keep_the_id() {
        let seen = scope(Arc::from("req-7"), super::super::blocking(|| Ok(current()))).await.unwrap();
        assert_eq!(seen.as_deref(), Some("req-7"));
        assert_eq!(super::super::blocking(|| Ok(current())).await.unwrap(), None);
    }
}
