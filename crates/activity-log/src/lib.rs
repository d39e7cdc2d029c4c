//! The activity log: what happened in a team, recorded in the same transaction as the
//! change, read as feeds, and pushed live to subscribers once committed.
//!
//! - [`ActivityLog::append`] takes the open write connection, so a product records the
//!   entry inside the write that makes the change: both commit or neither does. The
//!   entry's number in its team's log (`team_seq`, from a per-team counter bumped in that
//!   write, so in commit order) and its public id are assigned there; ids tell nothing
//!   about other teams ([`entry_id`]).
//! - [`ActivityLog::team_feed`] and [`ActivityLog::task_feed`] read newest first, with
//!   filters (`project_id`, `actor`, `action`, `since`) and keyset paging, each served by an
//!   index.
//! - Committed entries reach [`Publisher`] subscribers after commit, in commit order
//!   ([`publish`]); [`stream::team_stream`] serves them as Server-Sent Events with replay.
//!
//! ```
//! use std::sync::Arc;
//! use activity_log::{ActivityLog, Details, FeedQuery, InProcessPublisher, NewEntry};
//!
//! let db = storage::test_pool();
//! # let ada = storage::testing::users(&db, &["Ada".into()]).remove(0);
//! let log = ActivityLog::new(Arc::new(InProcessPublisher::default()));
//! let team = uuid::Uuid::now_v7();
//!
//! // Inside a product's write: change something, then record it on the same connection.
//! let entry = db.write({
//!     let (log, ada) = (log.clone(), ada.clone());
//!     move |tx| {
//!         let details = Details::new().changed("status", "todo", "done");
//!         log.append(tx, &ada, NewEntry::new(team, "task.status_changed").details(details))
//!     }
//! })?;
//!
//! let feed = log.team_feed(&mut *db.read()?, team, &FeedQuery::default())?;
//! assert_eq!(feed.items, vec![entry]);
//! # Ok::<(), core_models::AppError>(())
//! ```

mod model;
pub mod publish;
mod query;
pub mod relay;
mod schema;
mod store;
pub mod stream;

use std::sync::Arc;

use core_models::{AppResult, Caller, Page};
use storage::{DbConn, Tx};
use uuid::Uuid;

pub use model::{
    entry_id, entry_id_seq, fresh_entry_id, legacy_entry_id, ActivityEntry, Details, NewEntry, MAX_TEAM_SEQ,
};
pub use publish::{InProcessPublisher, Lagged, Published, Publisher, Subscription};
pub use query::{FeedFilter, FeedParams, FeedQuery};
pub use relay::{TablePublisher, Wakeup};
pub use schema::{ActivityAction, ActivityDetails, ACTIONS};
pub use store::Subject;

/// Work that belongs to every entry's write: rows another feature derives from the entry
/// (webhook deliveries, notifications), written in the same transaction so they commit
/// with the entry or not at all. Installed with [`ActivityLog::with_hook`]; the log stays
/// unaware of what the hooks write, so the features depend on the log, never the reverse.
pub trait EntryHook: Send + Sync + std::fmt::Debug {
    /// Called inside the write before the entry is inserted, so before the team's
    /// activity counter row is taken (on PostgreSQL the team's other writes wait for that
    /// row until this one commits): reads that depend only on the team and the action
    /// belong here, out of that wait. What it returns is handed to [`Self::on_append`].
    /// By default it reads nothing. An error rolls the whole write back.
    fn before_append(&self, _tx: &mut Tx<'_>, _team_id: Uuid, _action: &str) -> AppResult<Prepared> {
        Ok(None)
    }

    /// Called inside the write right after `entry` was inserted, with what
    /// [`Self::before_append`] returned; an error rolls the whole write back.
    fn on_append(&self, tx: &mut Tx<'_>, entry: &ActivityEntry, prepared: Prepared) -> AppResult<()>;
}

/// What an [`EntryHook::before_append`] read for its `on_append` (which downcasts it).
pub type Prepared = Option<Box<dyn std::any::Any + Send>>;

/// Claims `team_id`'s activity counter row for this write ([`storage::Tx::claim`]): every
/// write of a team takes that row when it appends, so one that lost to another gateway's
/// runs again holding the team alone, and none runs out of attempts. [`ActivityLog::append`]
/// claims it; a product's write may claim it as soon as it knows the team, so that a write
/// that must give way to a rerun gives way before doing its work.
pub fn claim_team(tx: &mut Tx<'_>, team_id: Uuid) -> AppResult<()> {
    tx.claim(&format!("activity:{team_id}"))
}

/// The log: appends and feeds over the `activity` table, publication through a
/// [`Publisher`]. Cheap to clone; one per app.
#[derive(Debug, Clone)]
pub struct ActivityLog {
    publisher: Arc<dyn Publisher>,
    hooks: Vec<Arc<dyn EntryHook>>,
}

impl ActivityLog {
    /// A log that publishes committed entries through `publisher`.
    pub fn new(publisher: Arc<dyn Publisher>) -> Self {
        ActivityLog { publisher, hooks: Vec::new() }
    }

    /// This log with `hook` run inside every append (after the hooks added before it).
    #[must_use]
    pub fn with_hook(mut self, hook: Arc<dyn EntryHook>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Records `entry` by `actor` in the write `tx` (`Database::write`): the entry commits
    /// with the change or not at all, and is published only after the commit (a hook on
    /// `tx`). Returns the entry as stored.
    pub fn append(&self, tx: &mut Tx<'_>, actor: &Caller, entry: NewEntry) -> AppResult<ActivityEntry> {
        claim_team(tx, entry.team_id)?;
        let mut prepared = Vec::with_capacity(self.hooks.len());
        for hook in &self.hooks {
            prepared.push(hook.before_append(tx, entry.team_id, &entry.action)?);
        }
        let announce = |team_id, team_seq| self.publisher.announcement(team_id, team_seq);
        let entry = store::insert(tx, actor, entry, &announce)?;
        for (hook, prepared) in self.hooks.iter().zip(prepared) {
            hook.on_append(tx, &entry, prepared)?;
        }
        let publisher = self.publisher.clone();
        let shared = Arc::new(Published::new(entry.clone()));
        let team = entry.team_id.to_string();
        tx.after_commit_ordered(&team, move || publisher.publish(shared));
        Ok(entry)
    }

    /// A page of a team's entries, newest first. Authorization is the caller's job: check
    /// membership on the same connection first.
    pub fn team_feed(&self, conn: &mut DbConn, team_id: Uuid, query: &FeedQuery) -> AppResult<Page<ActivityEntry>> {
        store::feed(conn, Subject::Team(team_id), query)
    }

    /// [`Self::team_feed`] read by one statement that also holds `gate`, the caller's
    /// membership (say, `projects::access::member_gate`), with no transaction around a
    /// separate check. `None` when it cannot answer alone (no rows, which may mean the gate
    /// failed; a total; a `since`): then check and read in one snapshot.
    pub fn team_feed_gated(
        &self,
        conn: &mut DbConn,
        team_id: Uuid,
        query: &FeedQuery,
        gate: storage::sql::Sql,
    ) -> AppResult<Option<Page<ActivityEntry>>> {
        store::feed_gated(conn, Subject::Team(team_id), query, gate)
    }

    /// A page of one task's entries, newest first.
    pub fn task_feed(&self, conn: &mut DbConn, task_id: Uuid, query: &FeedQuery) -> AppResult<Page<ActivityEntry>> {
        store::feed(conn, Subject::Task(task_id), query)
    }

    /// Where a stream of `team_id` resumes after the entry `id` (a client's
    /// `Last-Event-ID`): its number in the team's log; 422 naming `field` if the team has
    /// no such entry.
    pub fn resume_position(&self, conn: &mut DbConn, team_id: Uuid, id: Uuid, field: &str) -> AppResult<i64> {
        store::team_seq_of(conn, team_id, id)?
            .ok_or_else(|| core_models::FieldError::new(field, "is not the id of an event of this stream").into())
    }

    /// The entries at these positions of the whole log ([`ActivityEntry::seq`]), in that
    /// order, read in one query (per 500): for rows that point at entries, such as a page
    /// of notifications. Positions without an entry are left out.
    pub fn entries_by_seq(&self, conn: &mut DbConn, seqs: &[i64]) -> AppResult<Vec<ActivityEntry>> {
        store::entries_by_seq(conn, seqs)
    }

    /// Every entry of `team_id` committed from now on, in commit order.
    pub fn subscribe(&self, team_id: Uuid) -> Subscription {
        self.publisher.subscribe(team_id)
    }
}
