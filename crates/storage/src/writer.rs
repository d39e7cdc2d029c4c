//! The single writer: one thread owns the one write connection and commits queued writes
//! in groups.
//!
//! SQLite allows one writer at a time, so writers queue anyway; the question is how
//! cheaply. Callers hand their write (a closure) to this thread and wait. The thread takes
//! every write waiting in the queue (up to [`MAX_BATCH`]), runs them in one
//! `BEGIN IMMEDIATE` transaction, each inside its own SAVEPOINT (a failing write rolls back
//! only its own changes), commits once, and only then answers each caller. One commit per
//! group instead of one per write: throughput rises with load and the queue stays FIFO, so
//! the tail stays short. A caller is answered only after COMMIT: acknowledged writes are
//! in the WAL and survive a process crash.
//!
//! Three promises beyond that:
//! - **Bounded waits.** A caller waits at most the configured write wait for its write to
//!   *start*; past it the write is withdrawn (it will never run) and the caller gets 503
//!   with `Retry-After`. A write that has started is always waited for: a 503 means the
//!   write did not happen, never "maybe".
//! - **No re-entry.** A write issued from inside another write would wait for itself; it
//!   fails at once with an internal error instead. Compose writes by passing the open
//!   connection to functions that take `&mut DbConn`.
//! - **After-commit hooks.** [`crate::Tx::after_commit`] registers work (publishing an
//!   event) that runs on the writer thread once the write's group has committed, in commit
//!   order, and never for a write that rolled back.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use core_models::{AppError, AppResult};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use crate::{DbConn, Tx};

/// Most writes committed together.
pub const MAX_BATCH: usize = 256;
/// Writes that may wait in the queue before callers block (back-pressure).
const QUEUE: usize = 4096;

/// How long a caller waits for its write to start before it gets 503 (default).
pub const DEFAULT_WRITE_WAIT: Duration = Duration::from_secs(10);

pub(crate) use crate::tx::Hook;

thread_local! {
    /// Set on the writer thread and while a PostgreSQL write runs on the calling thread: a
    /// write from there would wait for itself.
    static ON_WRITER: Cell<bool> = const { Cell::new(false) };
}

/// A write running on the calling thread (PostgreSQL's writes): while it lives the thread
/// counts as inside a write, so a nested write fails at once.
pub(crate) struct LocalWrite(());

impl LocalWrite {
    /// Enters a write on this thread; an error if the thread is inside one already.
    pub(crate) fn enter() -> AppResult<Self> {
        if ON_WRITER.get() {
            return Err(nested_write());
        }
        ON_WRITER.set(true);
        Ok(LocalWrite(()))
    }
}

impl Drop for LocalWrite {
    fn drop(&mut self) {
        ON_WRITER.set(false);
    }
}

/// Runs committed `hooks` in order; a panicking hook is logged (its write is committed).
pub(crate) fn run_hooks(hooks: Vec<Hook>) {
    for (_, hook) in hooks {
        if catch_unwind(AssertUnwindSafe(hook)).is_err() {
            log::error!("an after-commit hook panicked; the write itself is committed");
        }
    }
}

fn nested_write() -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "a write was issued from inside another write (it would wait for itself); \
         pass the open connection to the inner function instead"
    ))
}

/// Whether the current thread is inside a write.
pub fn in_write() -> bool {
    ON_WRITER.get()
}

/// A write's life: queued, then either started by the writer or withdrawn by its caller.
const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const WITHDRAWN: u8 = 2;

/// How a queued write ended, told to its caller once the group's fate is known.
type Reply = Box<dyn FnOnce(Result<(), GroupFailure>) + Send>;

/// Why a whole group failed.
#[derive(Debug, Clone)]
enum GroupFailure {
    /// Another connection held the database locked past the busy timeout.
    Locked,
    /// Anything else (a panic, a failed COMMIT).
    Other(String),
}

impl GroupFailure {
    fn of(error: &diesel::result::Error) -> Self {
        let text = error.to_string();
        if text.contains("database is locked") || text.contains("database table is locked") {
            GroupFailure::Locked
        } else {
            GroupFailure::Other(text)
        }
    }

    fn into_error(self) -> AppError {
        match self {
            GroupFailure::Locked => AppError::Unavailable("the database is locked; retry shortly".into()),
            GroupFailure::Other(cause) => AppError::Internal(anyhow::anyhow!("write group failed: {cause}")),
        }
    }
}

/// A queued write.
trait Job: Send {
    /// Runs the write on the group's connection, adding its hooks to `hooks` if it
    /// succeeds; `None` if its caller has withdrawn it.
    fn run(self: Box<Self>, conn: &mut DbConn, hooks: &mut Vec<Hook>) -> Option<Reply>;
    /// Answers the caller without running the write (the group could not begin).
    fn refuse(self: Box<Self>, failure: GroupFailure);
}

struct Write<F, T> {
    f: F,
    state: Arc<AtomicU8>,
    reply_to: SyncSender<AppResult<T>>,
}

impl<F, T> Job for Write<F, T>
where
    F: FnOnce(&mut Tx<'_>) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConn, hooks: &mut Vec<Hook>) -> Option<Reply> {
        let Write { f, state, reply_to } = *self;
        if state.compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return None; // withdrawn: its caller already has its 503
        }
        let mut own = Vec::new();
        // A nested Diesel transaction is a SAVEPOINT: an error undoes only this write, and
        // what it meant to announce goes with it.
        let result = conn.transaction(|conn| f(&mut Tx::new(conn, &mut own)));
        if result.is_ok() {
            hooks.append(&mut own);
        }
        Some(Box::new(move |group: Result<(), GroupFailure>| {
            let answer = match group {
                Ok(()) => result,
                // Our own error explains more than the group's failure.
                Err(_) if result.is_err() => result,
                Err(failure) => Err(failure.into_error()),
            };
            // The caller may have gone (its request was cancelled); nothing to do then.
            let _ = reply_to.send(answer);
        }))
    }

    fn refuse(self: Box<Self>, failure: GroupFailure) {
        let _ = self.reply_to.send(Err(failure.into_error()));
    }
}

/// Opens a fresh write connection (with its pragmas).
pub type Connect = Box<dyn Fn() -> anyhow::Result<SqliteConnection> + Send>;

/// The handle callers use; the thread stops when every handle is dropped.
#[derive(Debug)]
pub struct Writer {
    queue: SyncSender<Box<dyn Job>>,
    write_wait: Duration,
    gate: Gate,
}

/// Held by the writer thread for each group, from `BEGIN` to `COMMIT`. Whoever else takes
/// it (the checkpointer's last, short pass) knows no write transaction is open meanwhile.
pub type Gate = Arc<Mutex<()>>;

impl Writer {
    /// Starts the writer thread on a connection from `connect`; callers wait at most
    /// `write_wait` for their write to start.
    pub fn start(connect: Connect, write_wait: Duration) -> anyhow::Result<Self> {
        let conn = connect()?;
        let (queue, jobs) = sync_channel::<Box<dyn Job>>(QUEUE);
        let gate = Gate::default();
        let held = gate.clone();
        std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || {
            ON_WRITER.set(true);
            run(conn, connect, jobs, &held);
        })?;
        Ok(Writer { queue, write_wait, gate })
    }

    /// The gate this writer holds while a write transaction is open.
    pub fn gate(&self) -> Gate {
        self.gate.clone()
    }

    /// Runs `f` in the next group transaction and returns its result once committed.
    pub fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut Tx<'_>) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        if ON_WRITER.get() {
            return Err(nested_write());
        }
        let state = Arc::new(AtomicU8::new(QUEUED));
        let (reply_to, reply) = sync_channel::<AppResult<T>>(1);
        let mut job: Box<dyn Job> = Box::new(Write { f, state: state.clone(), reply_to });
        let lost = || AppError::Internal(anyhow::anyhow!("the writer thread has stopped"));
        // The queue is bounded (back-pressure); waiting for room counts against the same wait.
        let deadline = std::time::Instant::now() + self.write_wait;
        loop {
            match self.queue.try_send(job) {
                Ok(()) => break,
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(lost()),
                Err(std::sync::mpsc::TrySendError::Full(back)) => {
                    if std::time::Instant::now() >= deadline {
                        log::warn!("write refused: the write queue stayed full for {:?}", self.write_wait);
                        return Err(busy());
                    }
                    job = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        match reply.recv_timeout(remaining) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Disconnected) => Err(panicked()),
            Err(RecvTimeoutError::Timeout) => {
                if state.compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    log::warn!(
                        "write withdrawn: it did not start within {:?} (database locked or overloaded)",
                        self.write_wait
                    );
                    return Err(busy());
                }
                // It has started: its outcome is coming, and the client must learn it.
                reply.recv().map_err(|_| panicked())?
            }
        }
    }
}

/// The SQLite connection inside the writer's `DbConn`.
fn sqlite(conn: &mut DbConn) -> &mut SqliteConnection {
    match conn {
        DbConn::Sqlite(c) => c,
        DbConn::Postgres(_) => unreachable!("the writer thread only runs on SQLite"),
    }
}

fn panicked() -> AppError {
    AppError::Internal(anyhow::anyhow!("the write was lost (a write in its group panicked)"))
}

fn busy() -> AppError {
    AppError::Unavailable("the database is busy; retry shortly".into())
}

fn run(conn: SqliteConnection, connect: Connect, jobs: Receiver<Box<dyn Job>>, gate: &Mutex<()>) {
    // Jobs see the connection as the `DbConn` every domain function takes; the group's
    // BEGIN IMMEDIATE, COMMIT and the index upkeep use the SQLite connection inside.
    let mut conn = DbConn::Sqlite(conn);
    let mut upkeep = crate::search::Upkeep::new();
    loop {
        // Idle after a write: tidy the full-text indexes (see `search::Upkeep`).
        let first = match upkeep.idle_wait() {
            None => jobs.recv().ok(),
            Some(wait) => match jobs.recv_timeout(wait) {
                Ok(job) => Some(job),
                Err(RecvTimeoutError::Timeout) => {
                    upkeep.run(sqlite(&mut conn));
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => None,
            },
        };
        let Some(first) = first else { return };
        let mut group = vec![first];
        while group.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Uncontended, except during the checkpointer's gated pass (10 to 45 ms, once per
        // `WAL_RESTART_FRAMES` of WAL under writes that never pause).
        let open = gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = AnsiTransactionManager::begin_transaction_sql(sqlite(&mut conn), "BEGIN IMMEDIATE") {
            let failure = GroupFailure::of(&e);
            match &failure {
                GroupFailure::Locked => {
                    log::warn!("{} write(s) refused: the database stayed locked past the busy timeout", group.len());
                }
                GroupFailure::Other(cause) => log::error!("cannot begin a write transaction: {cause}"),
            }
            for job in group {
                job.refuse(failure.clone());
            }
            continue;
        }
        let mut replies: Vec<Reply> = Vec::with_capacity(group.len());
        let mut hooks: Vec<Hook> = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for job in group.drain(..) {
                replies.extend(job.run(&mut conn, &mut hooks));
            }
            AnsiTransactionManager::commit_transaction(sqlite(&mut conn))
        }));
        drop(open);
        let result = match outcome {
            Ok(Ok(())) => {
                upkeep.wrote();
                // Committed: announce, in commit order, before answering anyone.
                run_hooks(hooks);
                Ok(())
            }
            Ok(Err(e)) => {
                log::error!("write group of {} failed at commit: {e}", replies.len());
                let _ = AnsiTransactionManager::rollback_transaction(sqlite(&mut conn));
                Err(GroupFailure::of(&e))
            }
            Err(_) => {
                // A write panicked mid-group: the transaction state is unknown, so drop the
                // connection (closing rolls back) and open a fresh one. Callers whose write
                // never got to reply get an error from their dropped channel.
                log::error!("a write panicked; the group is rolled back and the connection renewed");
                match connect() {
                    Ok(fresh) => conn = DbConn::Sqlite(fresh),
                    Err(e) => {
                        log::error!("cannot reopen the write connection: {e:#}");
                        return;
                    }
                }
                Err(GroupFailure::Other("a write in the same group panicked".to_string()))
            }
        };
        for reply in replies {
            reply(result.clone());
        }
    }
}
