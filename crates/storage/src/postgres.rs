//! PostgreSQL: a pool of connections, one SERIALIZABLE transaction per write, retried
//! when it loses to a concurrent one.
//!
//! On SQLite every rule the services check inside a write ("a team keeps one admin",
//! "a rating needs a completion", `If-Match`, the counters) holds because one thread
//! commits. On PostgreSQL many writes run at once, so each runs at the SERIALIZABLE
//! isolation level: PostgreSQL then guarantees the outcome of some one-at-a-time order,
//! and aborts a transaction whose reads a concurrent commit invalidated (SQLSTATE 40001)
//! or that deadlocked (40P01). Nothing of an aborted transaction is written, so the write
//! runs again, up to [`MAX_ATTEMPTS`] times with short, jittered pauses; after that the
//! caller gets 503 (`core_models::error::WRITE_CONFLICT`): not written, retry.
//!
//! Many writes on one hot row (a team's activity counter) would keep aborting each other,
//! each round letting one through, and the unlucky ones would run out of attempts: a
//! write loses whenever another gateway commits the row between its first read and its
//! own update. So a write names such a row before it changes it ([`Tx::claim`]: a shared
//! advisory lock, taken at once or not at all), and a write that lost runs its next
//! attempt holding the keys it claimed *alone*, over every gateway: it takes them as
//! session locks before BEGIN, so its snapshot follows every write that held them, and
//! a write that claims one meanwhile gives up at once instead of committing under it.
//! Such a rerun cannot lose on that row again (`tests/postgres.rs` counts at most two
//! attempts per write from two gateways at once; without claims some took nine). Writes
//! that lost without claiming anything run their next attempts after a jittered pause,
//! one at a time in this gateway (the `rerun` lock).
//!
//! Reads run at REPEATABLE READ (the session default of every connection), so a read
//! transaction sees one snapshot, as a SQLite read transaction does, and never fails for
//! serialization.
//!
//! Time budgets: every statement of a session may run for [`DbConfig::statement_timeout`]
//! (`statement_timeout`), a search's for [`DbConfig::read_budget`]; a write sets its own
//! with `SET LOCAL`. A statement stopped by its budget is 503.
//!
//! After-commit hooks (publishing events) run on the writing thread after its COMMIT.
//! Writes whose hooks share an order key (a team) take that key's lock around COMMIT and
//! their hooks, so a team's events are published in commit order: a later write on the
//! team's counter row cannot commit before the earlier one has (the row's lock), and
//! cannot publish before the earlier one has (the key's lock).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use core_models::{AppError, AppResult};
use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, Pool};
use diesel_migrations::MigrationHarness;

use crate::config::{DbConfig, PooledConn, MIGRATIONS_POSTGRES};
use crate::conn::{DbConn, Engine, Manager};
use crate::slots::{SearchConn, Slots};
use crate::tx::{ClaimKey, Hook, Tx};
use crate::url::DatabaseUrl;
use crate::writer::{run_hooks, LocalWrite};

/// Most runs of one write that lost to concurrent ones before the caller gets 503.
pub const MAX_ATTEMPTS: u32 = 10;

/// `plan_cache_mode` of every pooled connection (see [`Session`]).
const GENERIC_PLANS: &str = "force_generic_plan";

/// `plan_cache_mode` of a search (see [`Session`]).
const CUSTOM_PLANS: &str = "force_custom_plan";

/// `plan_cache_mode` of a write (see [`Session`]): PostgreSQL's own choice.
const CHOSEN_PLANS: &str = "auto";

/// How long a readiness check waits for a connection.
const PING_WAIT: Duration = Duration::from_secs(2);

/// Order-key locks (see the module docs); a key maps to one of these.
const ORDER_LOCKS: usize = 64;

/// Any number, the same in every gateway: the advisory lock held while migrating, so
/// gateways starting together migrate one after the other.
const MIGRATION_LOCK: i64 = 0x636f_726b_626f_6172; // "corkboar"

/// What PostgreSQL's planner assumes a page read out of order costs, against 1 in order
/// (its default is 4, for spinning disks): pages of an SSD or of memory, where this
/// database's lists live. With 4 the planner reads a small or medium table whole in its
/// insertion order (the primary key, which follows the heap) rather than through the
/// index that holds exactly the rows wanted: the plan tests saw one task's 400 activity
/// entries found by walking all 20,000, and a team's entries of one project and action by
/// walking the whole log instead of the team's project index.
pub const RANDOM_PAGE_COST: f64 = 1.1;

/// The session settings of every pooled connection.
///
/// Statements run with generic plans (`plan_cache_mode = force_generic_plan`): Diesel
/// prepares each statement once per connection, and PostgreSQL would otherwise plan it
/// again at every execution with the values bound (a "custom plan") for as long as the
/// generic plan looks dearer, which with a bound `LIMIT` and a key of skewed frequency is
/// for ever. A challenge page by tag spent 1.0 ms planning and 0.6 ms running, every
/// time (docs/benchmarks.md). The lists' SQL fixes the index they walk (the plan tests
/// prove each one), so the values bound do not change the right plan. Searches are the
/// exception: which plan suits depends on how often the words occur, so
/// [`PgDb::read_for_search`] plans them with their values. Writes plan as PostgreSQL
/// chooses (`SET LOCAL` in their `BEGIN`): a sweep's `DELETE … WHERE id < $1` planned
/// without its bound would guess a third of the table and read all of it.
#[derive(Debug, Clone, Copy)]
struct Session {
    statement_timeout_ms: u128,
}

impl Session {
    fn sql(&self) -> String {
        format!(
            "SET default_transaction_isolation = 'repeatable read'; SET statement_timeout = {}; \
             SET random_page_cost = {RANDOM_PAGE_COST}; SET plan_cache_mode = {GENERIC_PLANS}",
            self.statement_timeout_ms
        )
    }
}

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for Session {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&self.sql()).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A PostgreSQL database: a pool of connections. Clones share it.
#[derive(Clone)]
pub(crate) struct PgDb {
    pool: Pool<Manager>,
    /// Opens connections outside the pool (an event listener's, see [`crate::notify`]).
    manager: Manager,
    /// How the URL may be shown (password hidden).
    display: String,
    session: Session,
    /// `BEGIN ...; SET LOCAL statement_timeout = ...`, the start of every write (one round
    /// trip).
    begin_write: String,
    read_budget_ms: u128,
    search_slots: Arc<Slots>,
    order: Arc<[Mutex<()>; ORDER_LOCKS]>,
    /// Held by a write while it runs again after losing to a concurrent one.
    rerun: Arc<Mutex<()>>,
    /// Tests only: run by every write between its work and its commit
    /// (see [`crate::testing::Interleaving`]).
    before_commit: Arc<std::sync::RwLock<Option<BeforeCommit>>>,
}

/// Work a test runs in a write just before its commit.
pub type BeforeCommit = Arc<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb").field("url", &self.display).finish_non_exhaustive()
    }
}

impl PgDb {
    /// Builds the pool for `url` (a `postgres://` URL) without migrating. Fails when the
    /// server cannot be reached, so a wrong URL is refused at start.
    pub(crate) fn connect(url: &str, config: &DbConfig) -> anyhow::Result<Self> {
        let display = DatabaseUrl::parse(url)?.display();
        let session = Session { statement_timeout_ms: config.statement_timeout.as_millis().max(1) };
        // One connection first, so an unreachable server is refused at once with libpq's
        // reason (the pool would retry until its timeout and report less).
        Manager::new(url, Engine::Postgres).establish().with_context(|| format!("connecting to {display}"))?;
        let pool = Pool::builder()
            .max_size(config.pool_connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(config.acquire_timeout)
            // No test query per checkout (a round trip per request): a connection that
            // lost its server fails its first statement, and Diesel then reports it
            // broken, so the pool drops it when it is given back.
            .test_on_check_out(false)
            .connection_customizer(Box::new(session))
            .build(Manager::new(url, Engine::Postgres))
            .with_context(|| format!("connecting to {display}"))?;
        // A write plans as PostgreSQL chooses (see [`Session`]): its range deletes (the
        // sweeps of expired rows) want a plan made for their bound, and its statements
        // are mostly by primary key, cheap to plan.
        let begin_write = format!(
            "BEGIN ISOLATION LEVEL SERIALIZABLE; SET LOCAL statement_timeout = {}; \
             SET LOCAL plan_cache_mode = {CHOSEN_PLANS}",
            config.write_budget.as_millis().max(1)
        );
        Ok(PgDb {
            pool,
            manager: Manager::new(url, Engine::Postgres),
            display,
            session,
            begin_write,
            read_budget_ms: config.read_budget.as_millis().max(1),
            search_slots: Arc::new(Slots::new(config.search_slots, config.acquire_timeout)),
            order: Arc::new(std::array::from_fn(|_| Mutex::new(()))),
            rerun: Arc::new(Mutex::new(())),
            before_commit: Arc::default(),
        })
    }

    /// How the database may be named in logs (password hidden).
    pub(crate) fn display(&self) -> &str {
        &self.display
    }

    /// Applies pending migrations under an advisory lock; returns the versions applied.
    pub(crate) fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.get().with_context(|| format!("connecting to {}", self.display))?;
        let DbConn::Postgres(pg) = &mut *conn else { anyhow::bail!("a PostgreSQL pool handed out another engine") };
        pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
        let applied =
            pg.run_pending_migrations(MIGRATIONS_POSTGRES).map(|v| v.iter().map(ToString::to_string).collect());
        let unlocked = pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
        let applied = applied.map_err(|e| anyhow::anyhow!("running migrations on {}: {e}", self.display))?;
        unlocked?;
        Ok(applied)
    }

    /// A pooled connection (reads run at REPEATABLE READ).
    pub(crate) fn read(&self) -> AppResult<PooledConn> {
        Ok(self.pool.get()?)
    }

    /// A new connection outside the pool, with the pool's session settings and
    /// `application_name` (so an operator sees what it is in `pg_stat_activity`); the
    /// caller owns it until it drops it.
    pub(crate) fn dedicated(&self, application_name: &str) -> AppResult<DbConn> {
        let mut conn = self.manager.establish().map_err(|e| {
            log::warn!("opening a connection to {}: {e}", self.display);
            AppError::Unavailable("the database is unreachable; retry shortly".into())
        })?;
        let name = application_name.replace('\'', "");
        conn.batch_execute(&format!("{}; SET application_name = '{name}'", self.session.sql()))?;
        Ok(conn)
    }

    /// A connection for a full-text search, holding a search slot, whose statements run
    /// within the read budget and are planned with the values bound (the words: see
    /// [`Session`]) until it is dropped.
    pub(crate) fn read_for_search(&self) -> AppResult<SearchConn> {
        let slot = self.search_slots.acquire()?;
        let mut conn = self.read()?;
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET plan_cache_mode = {CUSTOM_PLANS}",
            self.read_budget_ms
        ))?;
        Ok(SearchConn::new(conn, slot, Some(self.session.sql())))
    }

    /// Runs `f` in a SERIALIZABLE transaction on a pooled connection and commits; runs it
    /// again when it lost to a concurrent write (see the module docs).
    pub(crate) fn write<T, F>(&self, mut f: F) -> AppResult<T>
    where
        F: FnMut(&mut Tx<'_>) -> AppResult<T>,
    {
        let _inside = LocalWrite::enter()?;
        let mut conn = self.pool.get()?;
        let mut attempt = 1;
        let mut rerunning = None;
        // Whether the last attempt got past its BEGIN; connections replaced because they
        // had lost their server before it.
        let (mut began, mut replaced) = (false, 0);
        // What the last attempt claimed: the next one holds these keys alone.
        let mut claims: Vec<ClaimKey> = Vec::new();
        loop {
            let result = if claims.is_empty() {
                self.attempt(&mut conn, &mut f, &[], &mut claims, &mut began)
            } else {
                let held = std::mem::take(&mut claims);
                if let Err(e) = hold_alone(&mut conn, &held) {
                    // Some keys may have been taken before the wait failed.
                    release(&mut conn, &held);
                    return Err(e);
                }
                // A panic in the attempt leaves its transaction open: the pool then
                // closes the connection (Diesel reports it broken), and its session locks
                // go with it. (After-commit hooks catch their own panics.)
                let result = self.attempt(&mut conn, &mut f, &held, &mut claims, &mut began);
                release(&mut conn, &held);
                result
            };
            match result {
                // The connection had lost its server (a restart, a failover) while it sat
                // in the pool: nothing of this write ran, so it runs on another one (the
                // lost one is closed as it goes back). The pool's other idle connections
                // may be lost too: each is tried in turn, then a new one is opened.
                Err(e) if !began && replaced < self.pool.max_size() && crate::conn::broken(&mut conn) => {
                    log::debug!("a pooled connection had lost its server; the write takes another: {e}");
                    // Given back first: with every connection in use, the pool's next
                    // one may be the one this write holds.
                    drop(conn);
                    conn = self.pool.get()?;
                    replaced += 1;
                }
                Err(e) if e.is_write_conflict() && attempt < MAX_ATTEMPTS => {
                    log::debug!("write attempt {attempt} lost to a concurrent write; running it again");
                    if claims.is_empty() {
                        // Nothing claimed: run again after a pause, one such write at a
                        // time in this gateway.
                        std::thread::sleep(pause(attempt));
                        if rerunning.is_none() {
                            rerunning = Some(self.rerun.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                        }
                    }
                    attempt += 1;
                }
                Err(e) if e.is_write_conflict() => {
                    log::warn!("a write lost to concurrent writes {MAX_ATTEMPTS} times; answering 503");
                    return Err(e);
                }
                other => return other,
            }
        }
    }

    /// Runs `f`, one statement, on a pooled connection in no transaction block (see
    /// [`crate::Database::write_statement`]); again when it lost to a concurrent write.
    /// A connection that lost its server fails it with 503: unlike a `BEGIN`, the
    /// statement may have reached the server and committed, so it does not run again.
    pub(crate) fn write_statement<T, F>(&self, mut f: F) -> AppResult<T>
    where
        F: FnMut(&mut DbConn) -> AppResult<T>,
    {
        let _inside = LocalWrite::enter()?;
        let mut conn = self.pool.get()?;
        let mut attempt = 1;
        loop {
            match f(&mut conn) {
                Err(e) if e.is_write_conflict() && attempt < MAX_ATTEMPTS => {
                    log::debug!("write attempt {attempt} lost to a concurrent write; running it again");
                    std::thread::sleep(pause(attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One run of a write: BEGIN, `f`, COMMIT (with its hooks' order locks held), hooks.
    /// It holds the keys `held` alone already; the keys it claimed are left in `claims`,
    /// whatever the outcome.
    fn attempt<T>(
        &self,
        conn: &mut DbConn,
        f: &mut impl FnMut(&mut Tx<'_>) -> AppResult<T>,
        held: &[ClaimKey],
        claims: &mut Vec<ClaimKey>,
        began: &mut bool,
    ) -> AppResult<T> {
        type Tm = <DbConn as Connection>::TransactionManager;
        *began = false;
        let DbConn::Postgres(pg) = &mut *conn else {
            return Err(AppError::Internal(anyhow::anyhow!("a PostgreSQL pool handed out another engine")));
        };
        if let Err(e) = diesel::connection::AnsiTransactionManager::begin_transaction_sql(pg, &self.begin_write) {
            // The BEGIN may have opened a block that the SET then aborted: close it, so
            // the connection does not go back to the pool inside it (outside a block,
            // ROLLBACK only warns).
            let _ = pg.batch_execute("ROLLBACK");
            return Err(e.into());
        }
        *began = true;
        // This attempt's hooks: dropped with it if it fails or runs again.
        let mut hooks: Vec<Hook> = Vec::new();
        let body = {
            let mut tx = Tx::new(conn, &mut hooks).holding(held);
            let body = f(&mut tx);
            claims.extend_from_slice(tx.claims());
            body
        };
        let value = match body {
            Ok(value) => value,
            Err(e) => {
                if let Err(rollback) = Tm::rollback_transaction(conn) {
                    log::warn!("rolling back a failed write failed: {rollback}");
                }
                return Err(e);
            }
        };
        let pause = self.before_commit.read().ok().and_then(|pause| pause.clone());
        if let Some(pause) = pause {
            pause();
        }
        let held = self.order_locks(&hooks);
        Tm::commit_transaction(conn)?;
        run_hooks(hooks);
        drop(held);
        Ok(value)
    }

    /// The order locks of `hooks`' keys, taken in index order (no deadlock between writes).
    fn order_locks(&self, hooks: &[Hook]) -> Vec<MutexGuard<'_, ()>> {
        let mut slots: Vec<usize> = hooks
            .iter()
            .filter_map(|(key, _)| *key)
            .map(|key| usize::try_from(key % ORDER_LOCKS as u64).unwrap_or(0))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        slots.into_iter().map(|i| self.order[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner)).collect()
    }

    /// Tests only: sets (or with `None` removes) what every write runs before its commit.
    pub(crate) fn set_before_commit(&self, pause: Option<BeforeCommit>) {
        if let Ok(mut slot) = self.before_commit.write() {
            *slot = pause;
        }
    }

    /// Whether the database answers a query.
    pub(crate) fn ping(&self) -> AppResult<()> {
        // Not the requests' whole wait: while the server is away a health check answers
        // 503 in a moment instead of after `acquire_timeout`.
        let mut conn = self.pool.get_timeout(PING_WAIT)?;
        diesel::sql_query("SELECT 1").execute(&mut *conn).map(|_| ()).map_err(AppError::from)
    }
}

/// Before a write runs again: `keys` held alone (session advisory locks, in key order, so
/// two such writes never wait for each other crosswise), once every write that claimed
/// them has ended.
fn hold_alone(conn: &mut DbConn, keys: &[ClaimKey]) -> AppResult<()> {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    let locks: Vec<String> = keys.iter().map(|(space, key)| format!("pg_advisory_lock({space}, {key})")).collect();
    conn.batch_execute(&format!("SELECT {}", locks.join(", "))).map_err(AppError::from)
}

/// Gives back what [`hold_alone`] took. A connection that cannot is broken, and its
/// session's locks went with it.
fn release(conn: &mut DbConn, keys: &[ClaimKey]) {
    let unlocks: Vec<String> = keys.iter().map(|(space, key)| format!("pg_advisory_unlock({space}, {key})")).collect();
    if let Err(e) = conn.batch_execute(&format!("SELECT {}", unlocks.join(", "))) {
        log::warn!("releasing a rerun's claims failed: {e}");
    }
}

/// The pause before run `attempt + 1` of a write: doubling from 1 ms, with jitter, so
/// writes that collided do not collide again in step.
fn pause(attempt: u32) -> Duration {
    let base = 1u64 << attempt.min(7);
    let jitter = u64::from(core_models::id::new_id().as_bytes()[15]) % base.max(1);
    Duration::from_millis(base + jitter)
}
