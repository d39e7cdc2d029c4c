//! The delivery worker: claims due deliveries from the outbox, sends them signed with a
//! bounded number of requests at once, records every attempt, and schedules retries.
//!
//! - **Claims** are one write each ([`claim`]): the due rows, soonest first, get their
//!   `next_attempt_at` pushed to the end of a lease and a `lease` token of this claim. On
//!   PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED` ([`storage::sql::skip_locked`]),
//!   so gateways claiming at once take different rows and each attempt is made by one
//!   gateway only; on SQLite the one writer serialises claims. A process that dies with
//!   claimed rows (a crash, `kill -9`) leaves them due again once the lease is over, so
//!   nothing is lost; an attempt is recorded only under the token that claimed it, so a
//!   slow attempt whose lease ran out cannot overwrite the outcome of the next one.
//!   A delivery of an activity entry stores no body: after the claim's write, one read
//!   loads the claimed deliveries' entries and builds their bodies (pings keep theirs).
//! - **Sending** runs on a thread of its own (its own event loop), so a slow or dead
//!   receiver never slows the API; writes never wait for deliveries. Each request has a
//!   10 s deadline, follows no redirect, and its response body is never read. The resolver
//!   drops forbidden addresses ([`crate::address::forbidden`]) unless private receivers
//!   are allowed, so the check applies to the address actually connected (DNS rebinding).
//! - **Retries**: a non-2xx answer, a timeout or a refused address is a failed attempt,
//!   retried after `retry_base × 2^(attempt-1)` ± 25 % jitter, up to `max_attempts` in all;
//!   a webhook whose last `disable_after` deliveries all used up their attempts is set
//!   inactive with a `webhook.disabled` entry.
//! - **Waking**: the [`crate::OutboxHook`] wakes the worker after each commit that wrote
//!   deliveries; otherwise it sleeps until the next due time (at most `poll`), which also
//!   catches deliveries written through other gateways and leases that ran out.
//! - **Retention**: deliveries older than `retention` (30 days) are deleted once a minute.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use activity_log::{ActivityLog, Details, NewEntry};
use core_models::{id, time, AppError, AppResult};
use diesel::prelude::*;
use diesel::sql_types::Text;
use futures_util::future::LocalBoxFuture;
use storage::schema::{webhook_deliveries as deliveries, webhooks};
use storage::sql::{skip_locked, sql};
use storage::Database;
use tokio::sync::Notify;

use crate::{address, events, signing, store};

/// How the worker sends.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Let receivers on loopback, private and other special addresses be reached
    /// (`--webhook-allow-private`: tests and closed networks).
    pub allow_private: bool,
    /// The delay before the first retry; each further one doubles it.
    pub retry_base: Duration,
    /// Attempts in all before a delivery is given up.
    pub max_attempts: i32,
    /// Deliveries in a row that used up their attempts before the webhook is disabled.
    pub disable_after: i32,
    /// Requests under way at once.
    pub concurrency: usize,
    /// A request's deadline (connect, send and the response's head).
    pub timeout: Duration,
    /// How long a claimed delivery is held: past it, another claim takes it again.
    pub lease: Duration,
    /// The longest sleep between two looks at the outbox.
    pub poll: Duration,
    /// How long deliveries are kept.
    pub retention: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            allow_private: false,
            retry_base: Duration::from_millis(5000),
            max_attempts: 8,
            disable_after: 20,
            concurrency: 16,
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The delivery worker of one process: [`Worker::start`] runs it on a thread of its own.
#[derive(Debug, Clone)]
pub struct Worker {
    db: Database,
    log: ActivityLog,
    config: WorkerConfig,
    wake: Arc<Notify>,
}

/// Stops the worker's thread when stopped or dropped; attempts under way are abandoned
/// and made again once their lease is over.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WorkerHandle {
    /// Stops the worker and waits for its thread to end.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Worker {
    /// A worker over `db` that records `webhook.disabled` entries through `log` and
    /// wakes on `wake` (the one its [`crate::OutboxHook`] notifies).
    pub fn new(db: Database, log: ActivityLog, config: WorkerConfig, wake: Arc<Notify>) -> Self {
        Worker { db, log, config, wake }
    }

    /// Wakes the worker (a delivery is due now).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the worker on a thread of its own.
    pub fn start(self) -> AppResult<WorkerHandle> {
        let stop = Arc::new(AtomicBool::new(false));
        let wake = self.wake.clone();
        let thread = std::thread::Builder::new()
            .name("webhook-worker".into())
            .spawn({
                let stop = stop.clone();
                move || actix_rt::System::new().block_on(self.run(stop))
            })
            .map_err(|e| AppError::Internal(anyhow::anyhow!("starting the webhook worker: {e}")))?;
        Ok(WorkerHandle { stop, wake, thread: Some(thread) })
    }

    async fn run(self, stop: Arc<AtomicBool>) {
        let client = match client(&self.config) {
            Ok(client) => Rc::new(client),
            Err(e) => {
                log::error!("webhook deliveries are off: {e}");
                return;
            }
        };
        // Attempts under way or made and not yet recorded; and those made, to record.
        let in_flight = Rc::new(Cell::new(0usize));
        let done: Rc<RefCell<Vec<(Job, Outcome)>>> = Rc::default();
        let mut last_sweep: Option<std::time::Instant> = None;
        while !stop.load(Ordering::SeqCst) {
            if last_sweep.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                last_sweep = Some(std::time::Instant::now());
                let (db, retention) = (self.db.clone(), self.config.retention);
                if let Err(e) = blocking(move || sweep(&db, retention)).await {
                    log::warn!("webhook deliveries: the retention sweep failed: {e}");
                }
            }
            let finished = std::mem::take(&mut *done.borrow_mut());
            let recorded = finished.len();
            let free = self.config.concurrency.saturating_sub(in_flight.get() - recorded);
            let mut claimed = 0;
            if recorded > 0 || free > 0 {
                // One write records what was sent and claims what is due: under load the
                // worker adds few writes to the API's.
                let (db, log, config) = (self.db.clone(), self.log.clone(), self.config.clone());
                let result = blocking(move || cycle(&db, &log, &config, finished, free)).await;
                in_flight.set(in_flight.get() - recorded);
                match result {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            in_flight.set(in_flight.get() + 1);
                            let (worker, client, done) = (self.clone(), client.clone(), done.clone());
                            actix_rt::spawn(async move {
                                let outcome = worker.attempt(&client, &job).await;
                                done.borrow_mut().push((job, outcome));
                                worker.wake.notify_one();
                            });
                        }
                    }
                    Err(e) => log::warn!(
                        "webhook deliveries: recording {recorded} attempt(s) and claiming failed (they are made again \
                         after their lease): {e}"
                    ),
                }
            }
            if !done.borrow().is_empty() {
                continue;
            }
            let wait = if free == 0 || claimed == free {
                // At capacity (or more may be due): a finished attempt wakes the loop.
                self.config.poll
            } else {
                let db = self.db.clone();
                let next = blocking(move || next_due(&db)).await.ok().flatten();
                let now = time::to_millis(time::now());
                let until =
                    next.map_or(self.config.poll, |due| Duration::from_millis(u64::try_from(due - now).unwrap_or(0)));
                until.clamp(Duration::from_millis(10), self.config.poll)
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = actix_rt::time::sleep(wait) => {}
            }
        }
    }

    /// One attempt of `job` (none to an inactive webhook, except a ping).
    async fn attempt(&self, client: &awc::Client, job: &Job) -> Outcome {
        if job.payload.is_empty() {
            return Outcome::Failed("not sent: the activity entry this delivery carries is missing".into());
        }
        if job.webhook_active || job.action == events::PING {
            send(client, job, self.config.allow_private).await
        } else {
            Outcome::Skipped
        }
    }
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    actix_rt::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a webhook database call panicked: {e}")))?
}

/// A claimed delivery with what sending it takes.
#[derive(Debug, Clone)]
pub struct Job {
    /// The delivery's id (`webhook-id`).
    pub id: String,
    /// The claim's token.
    pub lease: String,
    /// The action delivered.
    pub action: String,
    /// The body (empty only if the activity entry it is built from is missing).
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The webhook.
    pub webhook_id: String,
    /// Its URL.
    pub url: String,
    /// Whether it is active.
    pub webhook_active: bool,
    /// The secrets that sign now (one, or two after a rotation).
    pub secrets: Vec<String>,
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Claims up to `most` due deliveries for `lease` (one write, then one read for their
/// bodies): see the module docs.
pub fn claim(db: &Database, log: &ActivityLog, most: usize, lease: Duration) -> AppResult<Vec<Job>> {
    let claimed = db.write(move |tx| claim_in(tx, most, lease))?;
    with_bodies(db, log, claimed)
}

/// One write of the worker: records the attempts of `finished`, then claims up to `most`
/// due deliveries for the configured lease.
fn cycle(
    db: &Database,
    log: &ActivityLog,
    config: &WorkerConfig,
    finished: Vec<(Job, Outcome)>,
    most: usize,
) -> AppResult<Vec<Job>> {
    let (writer_log, config, finished) = (log.clone(), config.clone(), Arc::new(finished));
    let claimed = db.write(move |tx| {
        for (job, outcome) in finished.iter() {
            record_in(tx, &writer_log, &config, job, outcome)?;
        }
        claim_in(tx, most, config.lease)
    })?;
    with_bodies(db, log, claimed)
}

/// A claimed delivery whose body is still to be built from the activity entry it names.
#[derive(Debug)]
struct Claimed {
    job: Job,
    activity_seq: Option<i64>,
}

/// The jobs of `claimed` with their bodies: a stored one (pings), or one built from the
/// delivery's activity entry, all read in one query on a read connection, so building
/// bodies costs the one writer nothing. A delivery whose entry is missing (entries are
/// never deleted, so only a damaged database has one) gets no body and fails its
/// attempts with a message saying so.
fn with_bodies(db: &Database, log: &ActivityLog, claimed: Vec<Claimed>) -> AppResult<Vec<Job>> {
    let mut seqs: Vec<i64> =
        claimed.iter().filter(|c| c.job.payload.is_empty()).filter_map(|c| c.activity_seq).collect();
    if seqs.is_empty() {
        return Ok(claimed.into_iter().map(|c| c.job).collect());
    }
    seqs.sort_unstable();
    seqs.dedup();
    let entries = {
        let mut conn = db.read()?;
        log.entries_by_seq(&mut conn, &seqs)?
    };
    let bodies: std::collections::HashMap<i64, String> =
        entries.iter().map(|entry| (entry.seq, store::entry_payload(entry))).collect();
    Ok(claimed
        .into_iter()
        .map(|Claimed { mut job, activity_seq }| {
            if job.payload.is_empty() {
                match activity_seq.and_then(|seq| bodies.get(&seq)) {
                    Some(body) => job.payload.clone_from(body),
                    None => log::error!(
                        "webhook delivery {} names activity entry {activity_seq:?}, which is missing",
                        job.id
                    ),
                }
            }
            job
        })
        .collect())
}

/// [`claim`] inside the write `tx`: the claimed jobs, bodies still to build.
fn claim_in(tx: &mut storage::Tx<'_>, most: usize, lease: Duration) -> AppResult<Vec<Claimed>> {
    let most = i64::try_from(most).unwrap_or(i64::MAX);
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    if most == 0 {
        return Ok(Vec::new());
    }
    let now = time::to_millis(time::now());
    let token = id::new_id().to_string();
    let claimed: Vec<ClaimedId> = sql("UPDATE webhook_deliveries SET next_attempt_at = ")
        .bind_int(now.saturating_add(lease_ms))
        .sql(", lease = ")
        .bind_text(token.clone())
        .sql(" WHERE id IN (")
        .append(due_query(now, most, true))
        .sql(") RETURNING id")
        .untyped()
        .load(tx.conn())?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = claimed.into_iter().map(|c| c.id).collect();
    type Row =
        (String, String, Option<String>, Option<i64>, i32, String, String, bool, String, Option<String>, Option<i64>);
    let rows: Vec<Row> = deliveries::table
        .inner_join(webhooks::table)
        .filter(deliveries::id.eq_any(&ids))
        .select((
            deliveries::id,
            deliveries::action,
            deliveries::payload,
            deliveries::activity_seq,
            deliveries::attempts,
            webhooks::id,
            webhooks::url,
            webhooks::active,
            webhooks::secret,
            webhooks::previous_secret,
            webhooks::previous_secret_expires_at,
        ))
        .load(tx.conn())?;
    Ok(rows
        .into_iter()
        .map(|(id, action, payload, activity_seq, attempts, webhook_id, url, active, secret, previous, until)| {
            let mut secrets = vec![secret];
            if let (Some(previous), Some(until)) = (previous, until) {
                if until > now {
                    secrets.push(previous);
                }
            }
            let job = Job {
                id,
                lease: token.clone(),
                action,
                payload: payload.unwrap_or_default(),
                attempts,
                webhook_id,
                url,
                webhook_active: active,
                secrets,
            };
            Claimed { job, activity_seq }
        })
        .collect())
}

/// The ids of up to `most` deliveries due at `now`, soonest first; `lock`: each row locked
/// unless another claim holds it, then skipped (PostgreSQL; see [`skip_locked`]). Served by
/// `webhook_deliveries_due (next_attempt_at) WHERE next_attempt_at IS NOT NULL`.
pub(crate) fn due_query(now: i64, most: i64, lock: bool) -> storage::sql::Sql {
    let query = sql("SELECT id FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ")
        .bind_int(now)
        .sql(" ORDER BY next_attempt_at LIMIT ")
        .bind_int(most);
    if lock {
        query.append(skip_locked())
    } else {
        query
    }
}

/// When the next delivery is due (or a lease ends), if any.
fn next_due(db: &Database) -> AppResult<Option<i64>> {
    let mut conn = db.read()?;
    Ok(deliveries::table
        .filter(deliveries::next_attempt_at.is_not_null())
        .select(diesel::dsl::min(deliveries::next_attempt_at))
        .first::<Option<i64>>(&mut *conn)?)
}

/// Deletes deliveries older than `retention`.
fn sweep(db: &Database, retention: Duration) -> AppResult<usize> {
    let cutoff = time::to_millis(time::now()) - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
    // Delivery ids are UUIDv7s of their creation time, so the primary key's order is
    // their age: the smallest id of the cutoff's millisecond bounds the old ones.
    let oldest_kept = oldest_id_of(cutoff);
    db.write(
        move |tx| Ok(diesel::delete(deliveries::table.filter(deliveries::id.lt(&oldest_kept))).execute(tx.conn())?),
    )
}

/// The smallest UUIDv7 (as stored: lower-case, hyphenated) of millisecond `ms`.
fn oldest_id_of(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0) & 0xffff_ffff_ffff;
    format!("{:08x}-{:04x}-7000-0000-000000000000", ms >> 16, ms & 0xffff)
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered(u16),
    /// Another answer.
    Refused(u16),
    /// No answer: the error says why.
    Failed(String),
    /// Not sent: the webhook is inactive.
    Skipped,
}

/// Sends `job` once (signed now).
pub async fn send(client: &awc::Client, job: &Job, allow_private: bool) -> Outcome {
    let target = match address::parse(&job.url) {
        Ok(target) => target,
        Err(why) => return Outcome::Failed(format!("the URL {why}")),
    };
    if !allow_private {
        if let Some(why) = target.ip().and_then(address::forbidden) {
            return Outcome::Failed(format!("refused: {} is {why}", target.host));
        }
    }
    let timestamp = chrono::Utc::now().timestamp();
    let signature =
        match signing::signature_header(job.secrets.iter().map(String::as_str), &job.id, timestamp, &job.payload) {
            Ok(signature) => signature,
            Err(e) => return Outcome::Failed(format!("signing failed: {e}")),
        };
    let request = client
        .post(target.url.as_str())
        .insert_header(("content-type", "application/json"))
        .insert_header(("user-agent", "Corkboard-Webhooks/1"))
        .insert_header(("webhook-id", job.id.as_str()))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header(("webhook-signature", signature));
    match request.send_body(job.payload.clone()).await {
        // The body is never read: its size and content are the receiver's business.
        Ok(response) if response.status().is_success() => Outcome::Delivered(response.status().as_u16()),
        Ok(response) => Outcome::Refused(response.status().as_u16()),
        Err(e) => Outcome::Failed(failure_text(&e)),
    }
}

fn failure_text(error: &awc::error::SendRequestError) -> String {
    let text = match error {
        awc::error::SendRequestError::Timeout => "no response within the deadline (10 s)".to_string(),
        other => other.to_string(),
    };
    text.chars().take(500).collect()
}

/// The delay before retry number `attempts` (1 after the first attempt): `base × 2^(n-1)`
/// with ± 25 % jitter.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let delay = base.saturating_mul(2u32.saturating_pow(exponent));
    let jitter = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
    delay.mul_f64(0.75 + jitter / 2.0)
}

/// Records an attempt of `job`, if its claim is still the delivery's: see the module docs.
fn record_in(
    tx: &mut storage::Tx<'_>,
    log: &ActivityLog,
    config: &WorkerConfig,
    job: &Job,
    outcome: &Outcome,
) -> AppResult<()> {
    let now = time::to_millis(time::now());
    let mine = deliveries::table.filter(deliveries::id.eq(&job.id)).filter(deliveries::lease.eq(&job.lease));
    let attempts = job.attempts + 1;
    let (status, error) = match outcome {
        Outcome::Delivered(status) => (Some(i32::from(*status)), None),
        Outcome::Refused(status) => (Some(i32::from(*status)), Some(format!("the receiver answered {status}"))),
        Outcome::Failed(error) => (None, Some(error.clone())),
        Outcome::Skipped => {
            diesel::update(mine)
                .set((
                    deliveries::last_error.eq(Some("not sent: the webhook is not active")),
                    deliveries::next_attempt_at.eq(None::<i64>),
                    deliveries::lease.eq(None::<String>),
                ))
                .execute(tx.conn())?;
            return Ok(());
        }
    };
    if let Outcome::Delivered(_) = outcome {
        let done = diesel::update(mine)
            .set((
                deliveries::attempts.eq(attempts),
                deliveries::last_status.eq(status),
                deliveries::last_error.eq(None::<String>),
                deliveries::delivered_at.eq(Some(now)),
                deliveries::next_attempt_at.eq(None::<i64>),
                deliveries::lease.eq(None::<String>),
            ))
            .execute(tx.conn())?;
        if done > 0 {
            diesel::update(webhooks::table.filter(webhooks::id.eq(&job.webhook_id)))
                .filter(webhooks::failed_deliveries.ne(0))
                .set(webhooks::failed_deliveries.eq(0))
                .execute(tx.conn())?;
        }
        return Ok(());
    }
    let gave_up = attempts >= config.max_attempts;
    let next = (!gave_up).then(|| {
        now.saturating_add(i64::try_from(backoff(config.retry_base, attempts).as_millis()).unwrap_or(i64::MAX / 2))
    });
    let done = diesel::update(mine)
        .set((
            deliveries::attempts.eq(attempts),
            deliveries::last_status.eq(status),
            deliveries::last_error.eq(error),
            deliveries::next_attempt_at.eq(next),
            deliveries::lease.eq(None::<String>),
        ))
        .execute(tx.conn())?;
    if done > 0 && gave_up && job.action != events::PING {
        given_up(tx, log, config, &job.webhook_id)?;
    }
    Ok(())
}

/// Counts a delivery that used up its attempts; disables the webhook at `disable_after`.
fn given_up(tx: &mut storage::Tx<'_>, log: &ActivityLog, config: &WorkerConfig, webhook_id: &str) -> AppResult<()> {
    diesel::update(webhooks::table.filter(webhooks::id.eq(webhook_id)))
        .set(webhooks::failed_deliveries.eq(webhooks::failed_deliveries + 1))
        .execute(tx.conn())?;
    let row: Option<store::WebhookRow> = webhooks::table
        .filter(webhooks::id.eq(webhook_id))
        .select(<store::WebhookRow as diesel::SelectableHelper<storage::Backend>>::as_select())
        .first(tx.conn())
        .optional()?;
    let Some(row) = row else { return Ok(()) };
    let failed: i32 =
        webhooks::table.filter(webhooks::id.eq(webhook_id)).select(webhooks::failed_deliveries).first(tx.conn())?;
    if !row.active || failed < config.disable_after {
        return Ok(());
    }
    diesel::update(webhooks::table.filter(webhooks::id.eq(webhook_id)))
        .set((
            webhooks::active.eq(false),
            webhooks::updated_at.eq(time::to_millis(time::now())),
            webhooks::version.eq(row.version + 1),
        ))
        .execute(tx.conn())?;
    log::warn!("webhook {webhook_id} disabled: its last {failed} deliveries all failed");
    let actor = store::creator(tx, &row.created_by)?;
    let details = Details::new()
        .with("webhook_id", &row.id)
        .with("url", &row.url)
        .changed("active", true, false)
        .with("reason", format!("the last {failed} deliveries all failed"));
    log.append(tx, &actor, NewEntry::new(row.team()?, "webhook.disabled").details(details))?;
    Ok(())
}

/// Resolves names and drops forbidden addresses (unless private receivers are allowed):
/// awc connects only to what this returns.
#[derive(Debug, Clone, Copy)]
struct GuardedResolver {
    allow_private: bool,
}

impl actix_tls::connect::Resolve for GuardedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn std::error::Error>>> {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            if self.allow_private {
                return Ok(found);
            }
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|a| address::forbidden(a.ip()).is_none());
            match (allowed.is_empty(), refused.first()) {
                (true, Some(first)) => Err(format!(
                    "refused: {host} resolves to {} ({first})",
                    address::forbidden(first.ip()).unwrap_or("a forbidden address")
                )
                .into()),
                _ => Ok(allowed),
            }
        })
    }
}

/// The HTTP client: our resolver, rustls with Mozilla's roots, no redirects, deadlines.
fn client(config: &WorkerConfig) -> anyhow::Result<awc::Client> {
    // ring rather than aws-lc-rs (rustls' default, which needs cmake and a C build):
    // classic key exchange only, which every receiver speaks.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let resolver = actix_tls::connect::Resolver::custom(GuardedResolver { allow_private: config.allow_private });
    let connector = awc::Connector::new()
        .connector(actix_tls::connect::Connector::new(resolver).service())
        .rustls_0_23(Arc::new(tls))
        .timeout(config.timeout)
        .limit(config.concurrency);
    Ok(awc::Client::builder().connector(connector).disable_redirects().timeout(config.timeout).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_id_of_a_millisecond_sorts_before_every_id_made_then_and_after_every_earlier_one() {
        for _ in 0..100 {
            let id = id::new_id();
            let ms = i64::try_from(id.get_timestamp().unwrap().to_unix().0).unwrap() * 1000
                + i64::from(id.get_timestamp().unwrap().to_unix().1 / 1_000_000);
            let id = id.to_string();
            assert!(oldest_id_of(ms) <= id, "{} vs {id}", oldest_id_of(ms));
            assert!(oldest_id_of(ms + 1) > id, "{} vs {id}", oldest_id_of(ms + 1));
        }
    }

    #[test]
    fn delays_grow_with_jitter() {
        let base = Duration::from_millis(1000);
        for attempts in 1..8 {
            let delay = backoff(base, attempts);
            let plain = 1000.0 * f64::from(2u32.pow(u32::try_from(attempts - 1).unwrap()));
            let ms = delay.as_millis() as f64;
            assert!(ms >= plain * 0.75 - 1.0 && ms <= plain * 1.25 + 1.0, "attempt {attempts}: {ms} vs {plain}");
        }
        let samples: std::collections::BTreeSet<u128> = (0..20).map(|_| backoff(base, 3).as_millis()).collect();
        assert!(samples.len() > 1, "jitter varies the delay");
    }
}
