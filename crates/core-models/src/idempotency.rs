//! The `Idempotency-Key` a request holds while it runs (API section 1), visible to the
//! writes done for it.
//!
//! The gateway claims a key before the handler runs and stores the response after it. The
//! write the handler does must also mark the key as written in the same transaction
//! (`storage` does that for every write made inside [`scope`]): then a key whose request
//! died before its commit can safely be run again, and one whose write committed never is.
//! [`crate::http::blocking`] carries the claim over to the blocking pool, where services
//! write.

/// A request's hold on an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Whose key it is: the caller's user id, or `""` for the anonymous board.
    pub scope: String,
    /// The key as the client sent it.
    pub key: String,
    /// This attempt's own token: a write marks the key only while the claim is still this one.
    pub token: String,
}

#[cfg(feature = "http")]
tokio::task_local! {
    static CLAIM: Claim;
}

/// Runs `f` (a request's handler) holding `claim`.
#[cfg(feature = "http")]
pub async fn scope<F: std::future::Future>(claim: Claim, f: F) -> F::Output {
    CLAIM.scope(claim, f).await
}

/// Runs the synchronous `f` holding `claim` (if any), e.g. on a blocking thread working for
/// a request.
#[cfg(feature = "http")]
pub fn sync_scope<R>(claim: Option<Claim>, f: impl FnOnce() -> R) -> R {
    match claim {
        Some(claim) => CLAIM.sync_scope(claim, f),
        None => f(),
    }
}

/// The claim of the request this code runs for, if it holds one (never without the
/// `http` feature: no request runs then).
pub fn current() -> Option<Claim> {
    #[cfg(feature = "http")]
    return CLAIM.try_with(Clone::clone).ok();
    #[cfg(not(feature = "http"))]
    None
}

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim { scope: "u".into(), key: "k".into(), token: "t".into() }
    }

    #[actix_rt::test]
    async fn the_claim_is_visible_inside_the_scope_only() {
        assert_eq!(current(), None);
        assert_eq!(scope(claim(), async { current() }).await, Some(claim()));
        assert_eq!(sync_scope(Some(claim()), current), Some(claim()));
        assert_eq!(current(), None);
    }
}
