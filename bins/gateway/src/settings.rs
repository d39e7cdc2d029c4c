//! Settings of the server, from command-line flags or the environment (flags win).

use std::time::Duration;

use actix_web::http::KeepAlive;
use clap::{Args, ValueEnum};
use core_models::http::TrustedProxies;

/// Which store backs the notes service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotesStore {
    /// In process memory: fast, lost on restart.
    Memory,
    /// The SQLite database: durable, full-text search.
    Sqlite,
}

/// How a gateway learns of events written through other gateways on the same database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Events {
    /// `notify` on PostgreSQL, `local` on SQLite.
    Auto,
    /// PostgreSQL `LISTEN`/`NOTIFY`: a wake-up per commit, new entries read from the table.
    Notify,
    /// Read the watched teams' counters every `--events-poll-ms` (an engine without `NOTIFY`).
    Poll,
    /// Within this process only: right for one gateway alone on its database.
    Local,
}

/// A setting that is on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// Everything `gateway serve` can be told.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long = "bind", env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Where the data lives: a SQLite file (or `sqlite://PATH`), created with its folder if
    /// missing, or a PostgreSQL URL (`postgres://` or `postgresql://`, libpq form, several
    /// hosts with `target_session_attrs` allowed); anything else is refused.
    #[arg(long = "database-url", env = "DATABASE_URL", default_value = "data/corkboard.db")]
    pub database_url: String,

    /// Store behind the notes API.
    #[arg(long = "notes-store", env = "NOTES_STORE", value_enum, default_value_t = NotesStore::Sqlite)]
    pub notes_store: NotesStore,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long = "workers", env = "WORKERS")]
    pub workers: Option<usize>,

    /// Threads per HTTP worker that run database calls. Few threads that stay busy beat
    /// many that sleep and wake per request (see docs/benchmarks.md).
    #[arg(long = "blocking-threads", env = "BLOCKING_THREADS", default_value_t = 8)]
    pub blocking_threads: usize,

    /// Browser origins allowed to call the API (CORS): `*` for any, or a comma-separated
    /// list such as `https://app.example.com,http://localhost:5173`; empty for none.
    #[arg(long = "cors-origins", env = "CORS_ORIGINS", default_value = "*")]
    pub cors_origins: String,

    /// Let the origins of `--cors-origins` send credentials (cookies, TLS client
    /// certificates; `Access-Control-Allow-Credentials: true`). Needs the origins named:
    /// refused at start together with `*`.
    #[arg(long = "cors-credentials", env = "CORS_CREDENTIALS", default_value_t = false)]
    pub cors_credentials: bool,

    /// Proxies or load balancers whose `X-Forwarded-For` names the client (for failed-login
    /// limits): a comma-separated list of addresses or CIDR ranges such as
    /// `10.0.0.0/8,192.168.1.7`; empty (the default) for none, when the TCP peer counts.
    #[arg(long = "trusted-proxies", env = "TRUSTED_PROXIES", default_value = "",
          value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<TrustedProxies>()))]
    pub trusted_proxies: TrustedProxies,

    /// Days a login token stays valid (1 to 3650).
    #[arg(long = "token-ttl-days", env = "TOKEN_TTL_DAYS", default_value_t = accounts::DEFAULT_TOKEN_TTL_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub token_ttl_days: u32,

    /// SQLite: connections in the database read pool.
    #[arg(long = "read-connections", env = "READ_CONNECTIONS", default_value_t = 8)]
    pub read_connections: u32,

    /// PostgreSQL: connections in the pool (reads and writes; 1 to 1000). A request holds
    /// at most two, so twice `--blocking-threads` never waits for one.
    #[arg(long = "pool-connections", env = "POOL_CONNECTIONS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pool_connections: u32,

    /// Seconds a client has to send a request's headers once it connects or starts a
    /// request; slower clients get 408 and are disconnected (1 to 3600).
    #[arg(long = "header-timeout-secs", env = "HEADER_TIMEOUT_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,

    /// Seconds a request body has to arrive in full once the handler reads it; past that
    /// the client gets 408 and the connection closes (1 to 3600).
    #[arg(long = "body-timeout-secs", env = "BODY_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,

    /// Seconds an idle keep-alive connection stays open between requests; 0 closes every
    /// connection after its response (0 to 3600).
    #[arg(long = "keep-alive-secs", env = "KEEP_ALIVE_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub keep_alive_secs: u64,

    /// Event streams one user may hold open on this gateway, over all teams and sessions
    /// (1 to 100000); past it a new stream gets 429.
    #[arg(long = "max-streams-per-user", env = "MAX_STREAMS_PER_USER",
          default_value_t = core_models::streams::DEFAULT_STREAMS_PER_USER as u64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_streams_per_user: u64,

    /// Event streams of one team open on this gateway (1 to 1000000).
    #[arg(long = "max-streams-per-team", env = "MAX_STREAMS_PER_TEAM",
          default_value_t = core_models::streams::DEFAULT_STREAMS_PER_TEAM as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_streams_per_team: u64,

    /// Event streams open on this gateway in all (1 to 1000000); lowered at start to half
    /// the connections the file-descriptor limit leaves room for (see docs/operations.md).
    #[arg(long = "max-streams", env = "MAX_STREAMS",
          default_value_t = core_models::streams::DEFAULT_STREAMS_TOTAL as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_streams: u64,

    /// How events written through other gateways reach this one's streams: `auto` (`notify`
    /// on PostgreSQL, `local` on SQLite), `notify`, `poll` or `local`. Every gateway of a
    /// database must use the same (see docs/operations.md).
    #[arg(long = "events", env = "EVENTS", value_enum, default_value_t = Events::Auto)]
    pub events: Events,

    /// `--events poll`: milliseconds between two reads of the watched teams' counters (10
    /// to 60000).
    #[arg(long = "events-poll-ms", env = "EVENTS_POLL_MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub events_poll_ms: u64,

    /// Milliseconds before a failed webhook delivery is tried again; each further retry
    /// waits twice as long (± 25 % jitter), 8 attempts in all (10 to 3600000).
    #[arg(long = "webhook-retry-base-ms", env = "WEBHOOK_RETRY_BASE_MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_base_ms: u64,

    /// Let webhooks reach loopback, private (RFC 1918, 100.64/10, fc00::/7), link-local and
    /// other special addresses: for tests and closed networks. Without it such URLs are
    /// refused with 422, and deliveries never connect to such an address.
    #[arg(long = "webhook-allow-private", env = "WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,

    /// Whether this gateway sends webhook deliveries. `off`: it still writes them (the
    /// outbox, with every activity entry) but leaves the sending to the gateways of the
    /// same database that have it `on`; on a gateway alone (SQLite), deliveries then wait
    /// until it runs with `on` again.
    #[arg(long = "webhook-delivery", env = "WEBHOOK_DELIVERY", value_enum, default_value_t = Switch::On)]
    pub webhook_delivery: Switch,
}

impl Settings {
    /// Defaults for a server on `database_url`, listening on a free loopback port.
    pub fn for_tests(database_url: &str) -> Self {
        Settings {
            bind: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            notes_store: NotesStore::Sqlite,
            workers: Some(2),
            blocking_threads: 8,
            cors_origins: "*".into(),
            cors_credentials: false,
            trusted_proxies: TrustedProxies::default(),
            token_ttl_days: accounts::DEFAULT_TOKEN_TTL_DAYS,
            read_connections: 4,
            pool_connections: 8,
            header_timeout_secs: 5,
            body_timeout_secs: 30,
            keep_alive_secs: 5,
            max_streams_per_user: core_models::streams::DEFAULT_STREAMS_PER_USER as u64,
            max_streams_per_team: core_models::streams::DEFAULT_STREAMS_PER_TEAM as u64,
            max_streams: core_models::streams::DEFAULT_STREAMS_TOTAL as u64,
            events: Events::Auto,
            events_poll_ms: 250,
            // Test receivers listen on loopback; retries come quickly.
            webhook_retry_base_ms: 50,
            webhook_allow_private: true,
            webhook_delivery: Switch::On,
        }
    }

    /// The deadline for a request's headers.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    /// The deadline for a request's body.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    /// HTTP workers: `--workers`, else one per core.
    pub fn worker_count(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
            .max(1)
    }

    /// The stream limits: the flags, with the gateway's total lowered to what its file
    /// descriptors leave room for.
    pub fn stream_limits(&self, budget: &crate::fd_budget::FdBudget) -> core_models::streams::StreamLimits {
        let size = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);
        core_models::streams::StreamLimits {
            per_user: size(self.max_streams_per_user),
            per_team: size(self.max_streams_per_team),
            total: size(self.max_streams).min(budget.streams),
        }
    }

    /// How the webhook worker sends (`--webhook-*`).
    pub fn webhook_worker(&self) -> webhooks::WorkerConfig {
        webhooks::WorkerConfig {
            allow_private: self.webhook_allow_private,
            retry_base: Duration::from_millis(self.webhook_retry_base_ms),
            ..webhooks::WorkerConfig::default()
        }
    }

    /// How an idle connection is kept: for this long, or not at all.
    pub fn keep_alive(&self) -> KeepAlive {
        match self.keep_alive_secs {
            0 => KeepAlive::Disabled,
            secs => KeepAlive::Timeout(Duration::from_secs(secs)),
        }
    }
}
