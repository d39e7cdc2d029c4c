//! File descriptors: how many connections and event streams the gateway can hold and still
//! answer everyone else.
//!
//! Every connection is a file descriptor. A process that runs out of them cannot accept
//! (the accept loop fails with `EMFILE` and the listener stalls) and cannot open database
//! files: one client holding thousands of idle streams would take `/healthz` down with it.
//! So at start the gateway raises its soft `RLIMIT_NOFILE` to the hard limit, keeps a
//! reserve for everything that is not a client connection (database files, the pool, logs),
//! caps its connections at the rest (actix stops accepting at the cap instead of failing),
//! and lets event streams take at most half of those connections, so that requests always
//! find room while every allowed stream is open.

/// Descriptors assumed when the limit is infinite.
const UNLIMITED: u64 = 1 << 20;

/// How the gateway's file descriptors are shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft limit in force (after raising it).
    pub limit: u64,
    /// Kept for everything but client connections.
    pub reserve: u64,
    /// Client connections at most, over all workers.
    pub connections: usize,
    /// Event streams at most: half the connections.
    pub streams: usize,
}

impl FdBudget {
    /// The budget for a process allowed `limit` descriptors: a reserve of an eighth of
    /// them (at least 64, at most 1,024), connections for the rest.
    pub fn for_limit(limit: u64) -> Self {
        let reserve = (limit / 8).clamp(64, 1024);
        let connections = usize::try_from(limit.saturating_sub(reserve).max(16)).unwrap_or(usize::MAX);
        FdBudget { limit, reserve, connections, streams: (connections / 2).max(1) }
    }

    /// Raises the soft limit of this process to its hard limit, then plans with it.
    pub fn of_this_process() -> Self {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut rlimit = getrlimit(Resource::Nofile);
        if rlimit.current != rlimit.maximum {
            let raised = rustix::process::Rlimit { current: rlimit.maximum, maximum: rlimit.maximum };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => rlimit = getrlimit(Resource::Nofile),
                Err(e) => log::warn!("could not raise the file-descriptor limit: {e}"),
            }
        }
        Self::for_limit(rlimit.current.unwrap_or(UNLIMITED))
    }

    /// Connections each of `workers` HTTP workers may hold (actix counts per worker).
    pub fn per_worker(&self, workers: usize) -> usize {
        (self.connections / workers.max(1)).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_leave_room_for_requests_and_a_reserve_for_the_rest() {
        let small = FdBudget::for_limit(512);
        assert_eq!((small.reserve, small.connections, small.streams), (64, 448, 224));
        let usual = FdBudget::for_limit(20_000);
        assert_eq!((usual.reserve, usual.connections, usual.streams), (1024, 18_976, 9_488));
        assert_eq!(usual.per_worker(2), 9_488);
        let tiny = FdBudget::for_limit(20);
        assert!(tiny.connections >= 16 && tiny.streams >= 1, "a tiny limit still serves something");
    }
}
