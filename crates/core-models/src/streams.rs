//! Open event streams as a bounded, revocable resource (feature `http`).
//!
//! Every long-lived stream (a team's `GET /teams/{id}/events`, later `GET /me/events`)
//! holds a socket, a file descriptor and a subscription for as long as its client wants.
//! Left unbounded, one member could open streams until the process runs out of file
//! descriptors and nobody is served any more. So a stream is admitted through [`Streams`]:
//!
//! - **Limits** ([`StreamLimits`]): at most `per_user` open streams per user (a user's team
//!   and `/me` streams share the quota), `per_team` per team and `total` per gateway. Past
//!   one of them the new stream gets 429 with `Retry-After`, naming the limit.
//! - **Revocation**: each stream remembers the session (the token) it was opened with.
//!   [`Streams::end_sessions`] ends the streams of revoked tokens at once (logout, logout
//!   everywhere, a revoked session, a password change); a stream also ends by itself when
//!   its token expires. The [`StreamPermit`] a stream holds resolves [`StreamPermit::ended`]
//!   then, and the stream closes.
//! - **Accounting**: dropping the permit (the stream's body is dropped when the client goes
//!   away or the stream ends) frees its place. The gateway makes a closed client socket drop
//!   the body promptly (it refuses HTTP half-closed connections), so a client that vanishes
//!   frees its place within a second or so, not at the next keep-alive write.
//!
//! Counts are per process: with several gateways each one enforces its own limits. A
//! revocation reaches every gateway's registry: the accounts service ends the streams at
//! once on the gateway that revoked, and on the others when they read its revocation feed
//! (within a second; [`Streams::open_sessions`] serves the check it makes when it may have
//! missed some).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use crate::sse::Shutdown;
use crate::{AppError, AppResult};

/// How many streams may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Per user, over all of the user's streams and sessions.
    pub per_user: usize,
    /// Per team (the subject of the stream).
    pub per_team: usize,
    /// In the whole gateway.
    pub total: usize,
}

/// Default of [`StreamLimits::per_user`]: a few browser tabs on a few teams.
pub const DEFAULT_STREAMS_PER_USER: usize = 16;
/// Default of [`StreamLimits::per_team`].
pub const DEFAULT_STREAMS_PER_TEAM: usize = 2_000;
/// Default of [`StreamLimits::total`] (the gateway lowers it to fit its file descriptors).
pub const DEFAULT_STREAMS_TOTAL: usize = 10_000;

/// What a refused stream is told to wait before it tries again.
pub const STREAM_RETRY_AFTER_SECS: u64 = 5;

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            per_user: DEFAULT_STREAMS_PER_USER,
            per_team: DEFAULT_STREAMS_PER_TEAM,
            total: DEFAULT_STREAMS_TOTAL,
        }
    }
}

/// The session a request was authenticated with: the SHA-256 of its bearer token (never the
/// token). Revoking the token ends what it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey(pub [u8; 32]);

/// Who opens a stream: the user, the session and when that session expires. The
/// authentication middleware leaves it in every authenticated request; as a handler
/// argument it is 401 without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOwner {
    /// The user.
    pub user: Uuid,
    /// The token the request was authenticated with (directly or through a stream ticket).
    pub session: SessionKey,
    /// When that token expires: the stream ends then.
    pub expires_at: DateTime<Utc>,
}

impl FromRequest for StreamOwner {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<StreamOwner>().cloned().ok_or_else(|| {
            AppError::Unauthorized(
                "this stream needs a login: send `Authorization: Bearer <token>` or `?ticket=`".into(),
            )
        }))
    }
}

/// One open stream as the registry knows it.
#[derive(Debug)]
struct Open {
    user: Uuid,
    team: Option<Uuid>,
    session: SessionKey,
    end: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Registry {
    users: HashMap<Uuid, usize>,
    teams: HashMap<Uuid, usize>,
    open: HashMap<u64, Open>,
    next_id: u64,
    /// Sessions revoked in the last [`REVOKED_MEMORY`]: a request authenticated just before
    /// a revocation must not open a stream just after it.
    revoked: HashMap<SessionKey, Instant>,
}

/// How long a revoked session is remembered (far longer than any request takes from its
/// authentication to its stream's admission).
const REVOKED_MEMORY: Duration = Duration::from_secs(300);

/// Decrements a count, removing the key at zero so the maps only hold what is open.
fn release(counts: &mut HashMap<Uuid, usize>, key: Uuid) {
    if let Some(count) = counts.get_mut(&key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(&key);
        }
    }
}

/// The open streams of a gateway; see the [module documentation](self).
#[derive(Debug)]
pub struct Streams {
    limits: StreamLimits,
    registry: Mutex<Registry>,
}

impl Default for Streams {
    fn default() -> Self {
        Self::new(StreamLimits::default())
    }
}

impl Streams {
    /// A registry enforcing `limits` (each at least 1).
    pub fn new(limits: StreamLimits) -> Self {
        let limits = StreamLimits {
            per_user: limits.per_user.max(1),
            per_team: limits.per_team.max(1),
            total: limits.total.max(1),
        };
        Streams { limits, registry: Mutex::default() }
    }

    /// The limits in force.
    pub fn limits(&self) -> StreamLimits {
        self.limits
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Streams open now: in all, of `user`, of `team`.
    pub fn open_counts(&self, user: Uuid, team: Uuid) -> (usize, usize, usize) {
        let registry = self.registry();
        let user = registry.users.get(&user).copied().unwrap_or(0);
        let team = registry.teams.get(&team).copied().unwrap_or(0);
        (registry.open.len(), user, team)
    }

    /// Admits a stream of `owner` about `team` (if it is a team's), or 429 naming the limit
    /// it would pass. The place is held until the permit is dropped.
    pub fn admit(self: &Arc<Self>, owner: &StreamOwner, team: Option<Uuid>) -> AppResult<StreamPermit> {
        let mut registry = self.registry();
        if registry.revoked.contains_key(&owner.session) {
            return Err(AppError::Unauthorized("the token was revoked; log in again".into()));
        }
        let refused = |detail: String| AppError::TooManyRequests { detail, retry_after_secs: STREAM_RETRY_AFTER_SECS };
        if registry.users.get(&owner.user).copied().unwrap_or(0) >= self.limits.per_user {
            return Err(refused(format!(
                "you have {} event streams open, the most one user may; close one (or wait for a closed one to be noticed)",
                self.limits.per_user
            )));
        }
        if let Some(team) = team {
            if registry.teams.get(&team).copied().unwrap_or(0) >= self.limits.per_team {
                return Err(refused(format!(
                    "this team has {} event streams open, the most one team may",
                    self.limits.per_team
                )));
            }
        }
        if registry.open.len() >= self.limits.total {
            return Err(refused("the server has as many event streams open as it serves; retry shortly".into()));
        }
        let id = registry.next_id;
        registry.next_id += 1;
        *registry.users.entry(owner.user).or_default() += 1;
        if let Some(team) = team {
            *registry.teams.entry(team).or_default() += 1;
        }
        let (end, ended) = watch::channel(false);
        registry.open.insert(id, Open { user: owner.user, team, session: owner.session, end });
        Ok(StreamPermit { streams: self.clone(), id, ended, expires_at: owner.expires_at })
    }

    /// Ends every open stream of these sessions (their tokens were revoked), and refuses
    /// new ones for them.
    pub fn end_sessions(&self, sessions: &[SessionKey]) {
        if sessions.is_empty() {
            return;
        }
        let mut registry = self.registry();
        let now = Instant::now();
        registry.revoked.retain(|_, at| now.duration_since(*at) < REVOKED_MEMORY);
        registry.revoked.extend(sessions.iter().map(|session| (*session, now)));
        for open in registry.open.values().filter(|open| sessions.contains(&open.session)) {
            open.end.send_replace(true);
        }
    }

    /// The sessions that have streams open now, each once (for a check of which of them
    /// are still valid, when revocations may have been missed).
    pub fn open_sessions(&self) -> Vec<SessionKey> {
        let registry = self.registry();
        let sessions: std::collections::HashSet<SessionKey> = registry.open.values().map(|open| open.session).collect();
        sessions.into_iter().collect()
    }

    fn close(&self, id: u64) {
        let mut registry = self.registry();
        if let Some(open) = registry.open.remove(&id) {
            release(&mut registry.users, open.user);
            if let Some(team) = open.team {
                release(&mut registry.teams, team);
            }
        }
    }
}

/// A stream's place in [`Streams`]; dropping it frees the place.
#[derive(Debug)]
pub struct StreamPermit {
    streams: Arc<Streams>,
    id: u64,
    ended: watch::Receiver<bool>,
    expires_at: DateTime<Utc>,
}

impl StreamPermit {
    /// Resolves when the stream must end: its session was revoked or has expired.
    pub async fn ended(&mut self) {
        let left = (self.expires_at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            // Errs only if the registry entry is gone, which the permit prevents.
            _ = self.ended.wait_for(|ended| *ended) => {}
            () = tokio::time::sleep(left) => {}
        }
    }

    /// A future for [`crate::sse::sse_response`]: resolves at `shutdown` or when the
    /// stream must end, and holds the place until then (and until it is dropped).
    pub async fn until_ended_or(mut self, shutdown: Shutdown) {
        tokio::select! {
            () = shutdown.triggered() => {}
            () = self.ended() => {}
        }
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.streams.close(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(user: Uuid, session: u8) -> StreamOwner {
        StreamOwner { user, session: SessionKey([session; 32]), expires_at: Utc::now() + chrono::Duration::days(1) }
    }

    #[test]
    fn each_limit_refuses_with_429_and_a_dropped_permit_frees_its_place() {
        let streams = Arc::new(Streams::new(StreamLimits { per_user: 2, per_team: 3, total: 4 }));
        let (ada, bob, eve) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (team, other) = (Uuid::now_v7(), Uuid::now_v7());
        let a1 = streams.admit(&owner(ada, 1), Some(team)).unwrap();
        let _a2 = streams.admit(&owner(ada, 2), Some(other)).unwrap();
        let refused = streams.admit(&owner(ada, 1), Some(other)).unwrap_err();
        assert_eq!(refused.status_code(), 429, "per user, over teams and sessions");
        assert!(refused.to_string().contains("2 event streams"), "{refused}");
        let _b1 = streams.admit(&owner(bob, 3), Some(team)).unwrap();
        let _b2 = streams.admit(&owner(bob, 3), Some(team)).unwrap();
        assert_eq!(streams.admit(&owner(eve, 4), Some(team)).unwrap_err().status_code(), 429, "per team");
        assert_eq!(streams.open_counts(ada, team), (4, 2, 3));
        assert_eq!(streams.admit(&owner(eve, 4), None).unwrap_err().status_code(), 429, "per gateway");
        drop(a1);
        assert_eq!(streams.open_counts(ada, team), (3, 1, 2));
        let _e = streams.admit(&owner(eve, 4), Some(team)).expect("the freed place is taken");
    }

    #[actix_rt::test]
    async fn revoking_a_session_ends_only_its_streams() {
        let streams = Arc::new(Streams::default());
        let ada = Uuid::now_v7();
        let mut revoked = streams.admit(&owner(ada, 1), None).unwrap();
        let mut kept = streams.admit(&owner(ada, 2), None).unwrap();
        streams.end_sessions(&[SessionKey([1; 32])]);
        tokio::time::timeout(Duration::from_secs(1), revoked.ended()).await.expect("ends at once");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), kept.ended()).await.is_err(),
            "the other session's stays"
        );
        let late = streams.admit(&owner(ada, 1), None).unwrap_err();
        assert_eq!(late.status_code(), 401, "a request authenticated before the revocation opens nothing after it");
    }

    #[test]
    fn open_sessions_names_each_session_with_a_stream_once() {
        let streams = Arc::new(Streams::default());
        let ada = Uuid::now_v7();
        let _a = streams.admit(&owner(ada, 1), None).unwrap();
        let _b = streams.admit(&owner(ada, 1), Some(Uuid::now_v7())).unwrap();
        let c = streams.admit(&owner(ada, 2), None).unwrap();
        let mut open = streams.open_sessions();
        open.sort_by_key(|s| s.0);
        assert_eq!(open, vec![SessionKey([1; 32]), SessionKey([2; 32])]);
        drop(c);
        assert_eq!(streams.open_sessions(), vec![SessionKey([1; 32])]);
    }

    #[actix_rt::test]
    async fn a_stream_ends_when_its_session_expires() {
        let streams = Arc::new(Streams::default());
        let soon =
            StreamOwner { expires_at: Utc::now() + chrono::Duration::milliseconds(100), ..owner(Uuid::now_v7(), 1) };
        let mut expiring = streams.admit(&soon, None).unwrap();
        tokio::time::timeout(Duration::from_secs(1), expiring.ended()).await.expect("ends at expiry");
    }
}
