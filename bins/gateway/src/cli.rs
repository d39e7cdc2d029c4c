//! The command line: `gateway [serve] [FLAGS]`, `gateway migrate` and `gateway openapi`.

use clap::{Parser, Subcommand};

use crate::{Application, Settings};

#[derive(Debug, Parser)]
#[command(name = "gateway", version, about = "Corkboard API server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default when no command is given).
    Serve(Settings),
    /// Apply pending database migrations and exit.
    Migrate {
        /// SQLite database file (created with its folder if missing), or a postgres:// URL.
        #[arg(long = "database-url", env = "DATABASE_URL", default_value = "data/corkboard.db")]
        database_url: String,
    },
    /// Copy a SQLite deployment's data into an empty PostgreSQL database (both migrated
    /// first) and exit. Stop the gateways on the source first: a copy is a snapshot.
    Copy {
        /// The SQLite database file to copy from.
        #[arg(long = "from")]
        from: String,
        /// The postgres:// URL of the empty database to copy into.
        #[arg(long = "to")]
        to: String,
    },
    /// Print the OpenAPI document (what `/openapi.json` serves) and exit; no server starts.
    Openapi,
}

/// Parses the command line, sets up logging and runs the command.
pub fn run() -> anyhow::Result<()> {
    let logger = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(crate::request_id::format_log_line)
        .build();
    let max_level = logger.filter();
    // Client-caused protocol errors of actix-http become rate-limited warnings.
    log::set_boxed_logger(Box::new(crate::protocol_log::ProtocolLog::new(logger)))?;
    log::set_max_level(max_level);
    let command = match Cli::parse().command {
        Some(command) => command,
        // No command: serve, still reading flags' environment variables.
        None => match Cli::parse_from(["gateway", "serve"]).command {
            Some(command) => command,
            None => anyhow::bail!("no command"),
        },
    };
    match command {
        Command::Migrate { database_url } => {
            let (database, applied) = storage::migrate_url(&database_url)?;
            if applied.is_empty() {
                println!("database {database} is up to date");
            } else {
                println!("applied {} migration(s): {}", applied.len(), applied.join(", "));
            }
            Ok(())
        }
        Command::Copy { from, to } => {
            let shown = storage::DatabaseUrl::parse(&to).map(|u| u.display()).unwrap_or_default();
            let copied = storage::copy::copy_sqlite_to_postgres(&from, &to)?;
            for (table, rows) in &copied.tables {
                log::info!("copied {rows} row(s) of {table}");
            }
            println!("copied {} row(s) in {} table(s) from {from} to {shown}", copied.rows(), copied.tables.len());
            Ok(())
        }
        Command::Openapi => {
            let document = crate::routes::openapi_document()?;
            println!("{}", document.to_pretty_json()?);
            Ok(())
        }
        Command::Serve(settings) => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings)?;
            // Tests and scripts wait for this line to learn the (possibly random) port.
            println!("listening on http://{}", app.address());
            app.run_until_stopped().await?;
            log::info!("stopped");
            Ok(())
        }),
    }
}
