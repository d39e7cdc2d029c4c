//! Events across processes: [`TablePublisher`] feeds each watched team's channel from the
//! `activity` table, so that an entry written through any gateway on one database reaches
//! the subscribers of every gateway, in `team_seq` order, none missing and none twice.
//!
//! The table is the only source: what wakes a gateway up ([`Wakeup`]) only says where to
//! look.
//!
//! - [`Wakeup::Notify`] (PostgreSQL): every append sends `pg_notify('corkboard_activity',
//!   '<team>:<team_seq>')` in its entry's insert ([`Publisher::announcement`]), so the word is
//!   delivered when the write commits, in commit order, never for one that rolls back. One
//!   thread per gateway listens on a connection of its own ([`storage::notify::Listener`])
//!   and marks a watched team *due* when a notification names an entry after the last one
//!   its channel was fed; notifications of teams nobody here watches are dropped.
//! - [`Wakeup::Poll`] (an engine without `NOTIFY`): every interval the same thread reads
//!   the teams' counters (`activity_counters`, one statement per 500 watched teams) and
//!   marks due the teams that moved on.
//!
//! A due team's new rows are read after the last `team_seq` its channel was fed, oldest
//! first, and sent. A team's numbers are given out in commit order by its counter row,
//! whose lock a later write waits for, so a read sees a team's entries without holes: the
//! channel is fed in order, and an entry at or below what was fed is never sent again.
//! Local writes take a short cut: the after-commit hook sends an entry that is exactly the
//! next one at once, and marks the team due otherwise (an entry of another gateway came
//! first); their own notifications then find nothing new.
//!
//! A lost listener connection (a database restart, `pg_terminate_backend`) is opened again
//! with a growing pause (0.1 s to 5 s); once it listens again, every watched team whose
//! counter moved past what was fed is due, so what was written meanwhile is read from the
//! table. Open streams stay open across a lost
//! connection that is opened again at once; when it cannot be (the database is away), or a
//! poll fails, every subscription ends, so streams end cleanly and their clients resume by
//! `Last-Event-ID` once the database is back. The connection is also asked for an
//! answer every few seconds, so one that died without a word is noticed. The first
//! subscription of a team reads where the team's log stands and marks it due, so an entry
//! that commits while the channel is being made is not lost either.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use core_models::AppResult;
use storage::notify::Listener;
use storage::{Database, DbConn};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::publish::{lock, subscription, Channel, Channels, Lagged, Published, Publisher, Subscription};
use crate::store;

/// The channel PostgreSQL carries the wake-ups on.
pub const CHANNEL: &str = "corkboard_activity";

/// The `application_name` of a gateway's listener connection (see `pg_stat_activity`).
pub const LISTENER_NAME: &str = "corkboard-events";

/// How often the listener looks for notifications.
const TICK: Duration = Duration::from_millis(5);

/// How often the listener looks while nobody on this gateway watches a team.
const IDLE_TICK: Duration = Duration::from_millis(100);

/// How often the listener's connection is asked for an answer.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// The pauses before opening a lost listener connection again: from the first to the last.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_LAST: Duration = Duration::from_secs(5);

/// The pause after a failed read of new entries, before trying again.
const FAILED_READ_PAUSE: Duration = Duration::from_millis(100);

/// Rows read per query when feeding a team.
const BATCH: i64 = 500;

/// What tells a gateway that a watched team has new entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// PostgreSQL `LISTEN`/`NOTIFY` (delivery within milliseconds of the commit).
    Notify,
    /// Reading the watched teams' counters every this long (any engine).
    Poll(Duration),
}

/// A [`Publisher`] for several processes on one database (see the module docs). Its
/// thread ends soon after the publisher is dropped.
#[derive(Debug)]
pub struct TablePublisher {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    channels: Channels,
    buffer: usize,
    db: Database,
    wakeup: Wakeup,
    /// Teams whose new rows are to be read, and the bell that wakes the thread for them.
    due: Mutex<HashSet<Uuid>>,
    bell: Condvar,
}

impl TablePublisher {
    /// A publisher over `db` woken by `wakeup`, whose subscribers may fall `buffer` entries
    /// behind; starts its thread. [`Wakeup::Notify`] needs PostgreSQL.
    pub fn start(db: Database, wakeup: Wakeup, buffer: usize) -> anyhow::Result<Self> {
        if wakeup == Wakeup::Notify && db.engine() != storage::Engine::Postgres {
            anyhow::bail!("events by NOTIFY need PostgreSQL");
        }
        let shared = Arc::new(Shared {
            channels: Arc::default(),
            buffer: buffer.max(1),
            db,
            wakeup,
            due: Mutex::default(),
            bell: Condvar::new(),
        });
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new().name("events".into()).spawn(move || run(&weak, wakeup))?;
        Ok(TablePublisher { shared })
    }

    /// Teams with a channel, i.e. with at least one subscriber here.
    pub fn open_channels(&self) -> usize {
        lock(&self.shared.channels).len()
    }
}

impl Publisher for TablePublisher {
    fn announcement(&self, team_id: Uuid, team_seq: i64) -> Option<(&'static str, String)> {
        match self.shared.wakeup {
            Wakeup::Notify => Some((CHANNEL, format!("{team_id}:{team_seq}"))),
            Wakeup::Poll(_) => None,
        }
    }

    fn publish(&self, entry: Arc<Published>) {
        let mut channels = lock(&self.shared.channels);
        let Some(channel) = channels.get_mut(&entry.team_id) else { return };
        if entry.team_seq == channel.fed + 1 {
            channel.fed = entry.team_seq;
            let _ = channel.sender.send(entry);
        } else if entry.team_seq > channel.fed + 1 {
            // Entries of another gateway came first: the table has them all, in order.
            drop(channels);
            self.shared.mark_due([entry.team_id]);
        }
    }

    fn subscribe(&self, team_id: Uuid) -> Subscription {
        let shared = &self.shared;
        let existing = lock(&shared.channels).get(&team_id).map(|channel| channel.sender.subscribe());
        let receiver = match existing {
            Some(receiver) => receiver,
            None => {
                // Where the team's log stands: entries after it are fed from now on.
                let last = shared.db.read().and_then(|mut conn| store::last_team_seq(&mut conn, team_id));
                let last = match last {
                    Ok(last) => last,
                    Err(e) => {
                        log::warn!("cannot follow team {team_id}'s events: {e}");
                        return Box::pin(futures_util::stream::iter([Err(Lagged)]));
                    }
                };
                let receiver = lock(&shared.channels)
                    .entry(team_id)
                    .or_insert_with(|| Channel { sender: broadcast::channel(shared.buffer).0, fed: last })
                    .sender
                    .subscribe();
                // What committed since `last` was read may have been announced before the
                // channel existed, and dropped.
                shared.mark_due([team_id]);
                receiver
            }
        };
        subscription(shared.channels.clone(), team_id, receiver)
    }
}

impl Shared {
    /// Marks `teams` due and rings the bell.
    fn mark_due(&self, teams: impl IntoIterator<Item = Uuid>) {
        let mut due = self.due.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        due.extend(teams);
        if !due.is_empty() {
            self.bell.notify_one();
        }
    }

    /// Ends every subscription here (the database is away): each channel closes after
    /// what it holds, so streams end cleanly, and a team's next subscriber starts afresh.
    fn end_all(&self) {
        let ended = std::mem::take(&mut *lock(&self.channels));
        if !ended.is_empty() {
            log::warn!("events: ending the streams of {} team(s) until the database is back", ended.len());
        }
    }

    /// Marks due the watched teams that `payloads` (`<team>:<team_seq>`) name past what
    /// their channels were fed.
    fn heard(&self, payloads: &[String]) {
        if payloads.is_empty() {
            return;
        }
        let channels = lock(&self.channels);
        let moved: Vec<Uuid> = payloads
            .iter()
            .filter_map(|payload| {
                let (team, seq) = payload.split_once(':')?;
                let (team, seq) = (Uuid::parse_str(team).ok()?, seq.parse::<i64>().ok()?);
                channels.get(&team).is_some_and(|channel| seq > channel.fed).then_some(team)
            })
            .collect();
        drop(channels);
        self.mark_due(moved);
    }

    /// Marks due the watched teams whose counters moved past what was fed.
    fn poll(&self, conn: &mut DbConn) -> AppResult<()> {
        let teams: Vec<Uuid> = lock(&self.channels).keys().copied().collect();
        if teams.is_empty() {
            return Ok(());
        }
        let counters = store::last_team_seqs(conn, &teams)?;
        let channels = lock(&self.channels);
        let moved: Vec<Uuid> = counters
            .into_iter()
            .filter(|(team, last)| channels.get(team).is_some_and(|channel| *last > channel.fed))
            .map(|(team, _)| team)
            .collect();
        drop(channels);
        self.mark_due(moved);
        Ok(())
    }

    /// Waits up to `wait` for a team to become due; takes the due teams.
    fn take_due(&self, wait: Duration) -> HashSet<Uuid> {
        let due = self.due.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut due, _) = self
            .bell
            .wait_timeout_while(due, wait, |due| due.is_empty())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *due)
    }

    /// Reads the new rows of each of `teams` on `conn` and sends them; the teams not done
    /// when a read fails are due again.
    fn feed(&self, conn: &mut DbConn, teams: HashSet<Uuid>) -> AppResult<()> {
        let mut left: Vec<Uuid> = teams.into_iter().collect();
        while let Some(team) = left.pop() {
            if let Err(e) = self.feed_team(conn, team) {
                left.push(team);
                self.mark_due(left);
                return Err(e);
            }
        }
        Ok(())
    }

    fn feed_team(&self, conn: &mut DbConn, team: Uuid) -> AppResult<()> {
        loop {
            let Some(fed) = lock(&self.channels).get(&team).map(|channel| channel.fed) else { return Ok(()) };
            let rows = store::team_entries_after(conn, team, fed, BATCH)?;
            let full = rows.len() as i64 == BATCH;
            let mut channels = lock(&self.channels);
            let Some(channel) = channels.get_mut(&team) else { return Ok(()) };
            for entry in rows {
                // Entries sent meanwhile (by a local write) are not sent again; numbers
                // missing from one read are gone for good (a read sees no holes of
                // uncommitted entries), so the next one that is there follows.
                if entry.team_seq > channel.fed {
                    channel.fed = entry.team_seq;
                    let _ = channel.sender.send(Arc::new(Published::new(entry)));
                }
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// The publisher's thread: listens (or polls) and feeds due teams until the publisher is
/// gone.
fn run(shared: &Weak<Shared>, wakeup: Wakeup) {
    let mut listener: Option<Listener> = None;
    let mut reconnect_at = Instant::now();
    let mut pause = RECONNECT_FIRST;
    let mut checked = Instant::now();
    let mut polled: Option<Instant> = None;
    let mut outage_logged = false;
    loop {
        let Some(shared) = shared.upgrade() else { return };
        match wakeup {
            Wakeup::Notify => {
                if listener.is_none() && Instant::now() >= reconnect_at {
                    match Listener::connect(&shared.db, CHANNEL, LISTENER_NAME) {
                        Ok(mut connected) => {
                            // Listening first, then reading: nothing falls in between. The
                            // counters say which watched teams moved on meanwhile (one
                            // statement per 500 teams, not one per team).
                            match shared.poll(connected.conn()) {
                                Ok(()) => {
                                    if outage_logged {
                                        log::warn!("events: listening again; reading what was missed");
                                    }
                                    listener = Some(connected);
                                    (pause, checked, outage_logged) = (RECONNECT_FIRST, Instant::now(), false);
                                }
                                Err(e) => {
                                    log::warn!("events: reading where the watched teams stand failed: {e}");
                                    reconnect_at = Instant::now() + pause;
                                }
                            }
                        }
                        Err(e) => {
                            if !outage_logged {
                                log::warn!(
                                    "events: cannot listen ({e}); trying again, every {RECONNECT_LAST:?} at most"
                                );
                                outage_logged = true;
                            }
                            // The database is away, not just this connection: open streams end
                            // cleanly and their clients resume by `Last-Event-ID` once it is back.
                            shared.end_all();
                            reconnect_at = Instant::now() + pause;
                            pause = (pause * 2).min(RECONNECT_LAST);
                        }
                    }
                }
                if let Some(connected) = listener.as_mut() {
                    let heard = connected.received().and_then(|payloads| {
                        if checked.elapsed() >= CHECK_EVERY {
                            connected.check()?;
                            checked = Instant::now();
                        }
                        Ok(payloads)
                    });
                    match heard {
                        Ok(payloads) => shared.heard(&payloads),
                        Err(e) => {
                            log::warn!("events: the listener's connection is lost ({e}); opening another");
                            listener = None;
                            outage_logged = true;
                            reconnect_at = Instant::now();
                        }
                    }
                }
            }
            Wakeup::Poll(interval) => {
                let watched = !lock(&shared.channels).is_empty();
                if watched && polled.is_none_or(|at| at.elapsed() >= interval) {
                    polled = Some(Instant::now());
                    let result = shared.db.read().and_then(|mut conn| shared.poll(&mut conn));
                    if let Err(e) = result {
                        log::warn!("events: polling the teams' counters failed: {e}");
                        shared.end_all();
                    }
                }
            }
        }
        let wait = match wakeup {
            // Nobody watching: only draining the channel, which can wait (a first
            // subscriber rings the bell).
            Wakeup::Notify if lock(&shared.channels).is_empty() => IDLE_TICK,
            Wakeup::Notify => TICK,
            // Until the next poll is due, and often enough to notice the publisher is gone.
            Wakeup::Poll(interval) => {
                let next = polled.map_or(Duration::ZERO, |at| interval.saturating_sub(at.elapsed()));
                next.clamp(Duration::from_millis(1), Duration::from_millis(100))
            }
        };
        let due = shared.take_due(wait);
        if due.is_empty() {
            continue;
        }
        let fed = match (wakeup, listener.as_mut()) {
            (Wakeup::Notify, Some(connected)) => shared.feed(connected.conn(), due),
            // Without a listener: reconnecting reads the counters and marks these due again.
            (Wakeup::Notify, None) => Ok(()),
            (Wakeup::Poll(_), _) => shared.db.read().and_then(|mut conn| shared.feed(&mut conn, due)),
        };
        if let Err(e) = fed {
            // The teams are due again; a lost connection is noticed by the next look.
            log::warn!("events: reading new entries failed: {e}");
            std::thread::sleep(FAILED_READ_PAUSE);
        }
    }
}
