//! Settings of the server, from command-line flags or the environment (flags win).

use clap::{Args, ValueEnum};

/// Which store backs the notes service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotesStore {
    /// In process memory: fast, lost on restart.
    Memory,
    /// The SQLite database: durable, full-text search.
    Sqlite,
}

/// Everything `gateway serve` can be told.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long = "bind", env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// SQLite database file, created with its folder if missing.
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

    /// Days a login token stays valid (1 to 3650).
    #[arg(long = "token-ttl-days", env = "TOKEN_TTL_DAYS", default_value_t = accounts::DEFAULT_TOKEN_TTL_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub token_ttl_days: u32,

    /// Connections in the database read pool.
    #[arg(long = "read-connections", env = "READ_CONNECTIONS", default_value_t = 8)]
    pub read_connections: u32,
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
            token_ttl_days: accounts::DEFAULT_TOKEN_TTL_DAYS,
            read_connections: 4,
        }
    }
}
