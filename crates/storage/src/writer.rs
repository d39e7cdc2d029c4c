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

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use core_models::{AppError, AppResult};
use diesel::prelude::*;

/// Most writes committed together.
pub const MAX_BATCH: usize = 256;
/// Writes that may wait in the queue before callers block (back-pressure).
const QUEUE: usize = 4096;

/// Tells a caller how its write ended once the group's fate is known.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued write: runs on the writer's connection and returns how to answer its caller.
type Job = Box<dyn FnOnce(&mut SqliteConnection) -> Reply + Send>;

/// Opens a fresh write connection (with its pragmas).
pub type Connect = Box<dyn Fn() -> anyhow::Result<SqliteConnection> + Send>;

/// The handle callers use; the thread stops when every handle is dropped.
#[derive(Debug)]
pub struct Writer {
    queue: SyncSender<Job>,
}

impl Writer {
    /// Starts the writer thread on a connection from `connect`.
    pub fn start(connect: Connect) -> anyhow::Result<Self> {
        let conn = connect()?;
        let (queue, jobs) = sync_channel::<Job>(QUEUE);
        std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || run(conn, connect, jobs))?;
        Ok(Writer { queue })
    }

    /// Runs `f` in the next group transaction and returns its result once committed.
    pub fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut SqliteConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply_to, reply) = sync_channel::<AppResult<T>>(1);
        let job: Job = Box::new(move |conn| {
            // A nested Diesel transaction is a SAVEPOINT: an error undoes only this write.
            let result = conn.transaction(f);
            Box::new(move |group: Result<(), String>| {
                let answer = match group {
                    Ok(()) => result,
                    // Our own error explains more than the group's failure.
                    Err(_) if result.is_err() => result,
                    Err(cause) => Err(AppError::Internal(anyhow::anyhow!("write group failed: {cause}"))),
                };
                // The caller may have gone (its request was cancelled); nothing to do then.
                let _ = reply_to.send(answer);
            })
        });
        self.queue.send(job).map_err(|_| AppError::Internal(anyhow::anyhow!("the writer thread has stopped")))?;
        reply.recv().map_err(|_| AppError::Internal(anyhow::anyhow!("the write was lost (writer panicked)")))?
    }
}

fn run(mut conn: SqliteConnection, connect: Connect, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut replies: Vec<Reply> = Vec::with_capacity(group.len());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            conn.immediate_transaction(|c| {
                for job in group.drain(..) {
                    replies.push(job(c));
                }
                Ok::<(), diesel::result::Error>(())
            })
        }));
        let result = match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                log::error!("write group of {} failed: {e}", replies.len());
                Err(e.to_string())
            }
            Err(_) => {
                // A write panicked mid-group: the transaction state is unknown, so drop the
                // connection (closing rolls back) and open a fresh one. Callers whose write
                // never got to reply get an error from their dropped channel.
                log::error!("a write panicked; the group is rolled back and the connection renewed");
                match connect() {
                    Ok(fresh) => conn = fresh,
                    Err(e) => {
                        log::error!("cannot reopen the write connection: {e:#}");
                        return;
                    }
                }
                Err("a write in the same group panicked".to_string())
            }
        };
        for reply in replies {
            reply(result.clone());
        }
    }
}
