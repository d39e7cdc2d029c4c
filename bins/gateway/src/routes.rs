//! Startup: open the database, build every domain service once, and mount the routes of
//! each domain crate under `/api/v1` on every worker.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use accounts::BearerSecurity;
use accounts::StreamTickets;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest};
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpRequest, HttpServer};
use anyhow::Context as _;
use core_models::http::{json_config, path_config, payload_config, problem_for_bare_errors, query_config, BodyTimeout};
use core_models::sse::Shutdown;
use core_models::streams::{StreamLimits, Streams};
use core_models::API_BASE;
use storage::{Database, DbConfig};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;

use crate::fallback::KnownPaths;
use crate::fd_budget::FdBudget;
use crate::query_params::{refuse_unknown_parameters, KnownQueries};
use crate::settings::{Events, NotesStore, Settings, Switch};
use crate::{access_log, cors, document, head, health, request_id};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Corkboard API",
        description = "Sticky notes, freelancer tasks, learning and projects behind one API. \
                       Errors are RFC 9457 problem documents (`application/problem+json`)."
    ),
    components(schemas(core_models::Problem, core_models::FieldError)),
    modifiers(&BearerSecurity),
    tags(
        (name = "notes", description = "Sticky notes: login optional (a token makes them the caller's own)"),
        (name = "tasks", description = "Freelancer task tracker: login optional (a token makes them the caller's own)"),
        (name = "accounts", description = "Registration, login and logout (bearer tokens), users"),
        (name = "learning", description = "SkillSync learning platform: challenges, paths, enrolments, completions, ratings, comments, peer feedback, progress (browsing needs no login)"),
        (name = "projects", description = "Team projects: teams, members, invites, projects, tasks, comments, activity and live events (login required)"),
        (name = "webhooks", description = "Signed webhooks: team admins register endpoints that receive the team's activity (Standard Webhooks signatures, retries, delivery log)"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

/// The services every worker shares; built once at startup.
#[derive(Clone)]
struct Services {
    db: Database,
    notes: Arc<dyn notes::NoteService>,
    tasks: Arc<dyn tasks::TaskService>,
    // One instance for all workers: it holds the session cache and the hashing gate.
    accounts: Arc<dyn accounts::AccountService>,
    // Checks every request's credentials and redeems stream tickets.
    authentication: accounts::Authentication,
    // Fired at shutdown: open event streams end so they do not hold the shutdown up.
    shutdown: Shutdown,
    // The open event streams: limits, and revocation reaching them.
    streams: Arc<Streams>,
    projects: Arc<dyn projects::ProjectService>,
    learning: Arc<dyn learning::LearningService>,
    webhooks: Arc<dyn webhooks::WebhookService>,
    // The delivery worker, not yet started (`Application::build` starts it).
    webhook_worker: webhooks::Worker,
}

impl Services {
    fn build(settings: &Settings, db: Database, stream_limits: StreamLimits) -> anyhow::Result<Self> {
        let notes: Arc<dyn notes::NoteService> = match settings.notes_store {
            NotesStore::Memory => Arc::new(notes::InMemoryNotes::new()),
            NotesStore::Sqlite => Arc::new(notes::DbNotes::new(db.clone())),
        };
        let tasks = Arc::new(tasks::DbTasks::new(db.clone()));
        // The ticket office (tickets live in the database) for authentication, which redeems
        // them, and the route that issues them; one stream registry, shared by the routes
        // (which open streams) and the account service (whose revocations end streams).
        let tickets = Arc::new(StreamTickets::new(db.clone()));
        let streams = Arc::new(Streams::new(stream_limits));
        let accounts_config = accounts::AccountsConfig {
            streams: streams.clone(),
            ..accounts::AccountsConfig::with_token_ttl_days(settings.token_ttl_days)
        };
        let accounts: Arc<dyn accounts::AccountService> =
            Arc::new(accounts::DbAccounts::new(db.clone(), accounts_config));
        let authentication = accounts::Authentication::new(accounts.clone(), tickets);
        // One publisher for the app: every worker's streams subscribe to it.
        // Every entry's write also writes its webhook deliveries (the outbox), and wakes the
        // delivery worker after the commit.
        let wake = Arc::new(tokio::sync::Notify::new());
        let activity = activity_log::ActivityLog::new(publisher(settings, &db)?)
            .with_hook(Arc::new(webhooks::OutboxHook::new(wake.clone())));
        let webhooks: Arc<dyn webhooks::WebhookService> = Arc::new(webhooks::DbWebhooks::new(
            db.clone(),
            activity.clone(),
            settings.webhook_allow_private,
            wake.clone(),
        ));
        let webhook_worker = webhooks::Worker::new(db.clone(), activity.clone(), settings.webhook_worker(), wake);
        let projects: Arc<dyn projects::ProjectService> = Arc::new(projects::DbProjects::new(db.clone(), activity));
        let learning: Arc<dyn learning::LearningService> = Arc::new(learning::DbLearning::new(db.clone()));
        Ok(Services {
            db,
            notes,
            tasks,
            accounts,
            authentication,
            shutdown: Shutdown::new(),
            streams,
            projects,
            learning,
            webhooks,
            webhook_worker,
        })
    }
}

/// The events publisher `--events` asks for on `db`.
fn publisher(settings: &Settings, db: &Database) -> anyhow::Result<Arc<dyn activity_log::Publisher>> {
    use activity_log::{InProcessPublisher, TablePublisher, Wakeup};
    use storage::Engine;
    let buffer = activity_log::publish::DEFAULT_BUFFER;
    let poll = Wakeup::Poll(std::time::Duration::from_millis(settings.events_poll_ms));
    Ok(match (settings.events, db.engine()) {
        (Events::Local, _) | (Events::Auto, Engine::Sqlite) => Arc::new(InProcessPublisher::new(buffer)),
        (Events::Notify, Engine::Sqlite) => anyhow::bail!("--events notify needs a PostgreSQL database"),
        (Events::Notify, Engine::Postgres) | (Events::Auto, Engine::Postgres) => {
            Arc::new(TablePublisher::start(db.clone(), Wakeup::Notify, buffer)?)
        }
        (Events::Poll, _) => Arc::new(TablePublisher::start(db.clone(), poll, buffer)?),
    })
}

/// A domain crate's routes, to mount under [`API_BASE`].
type Domain = Box<dyn FnOnce(&mut ServiceConfig)>;

/// Every domain crate's routes, each with the crate's name.
fn domains(services: &Services) -> Vec<(&'static str, Domain)> {
    vec![
        ("notes", Box::new(notes::http::configure(services.notes.clone()))),
        (
            "accounts",
            Box::new(accounts::http::configure(services.accounts.clone(), services.authentication.tickets().clone())),
        ),
        ("tasks", Box::new(tasks::http::configure(services.tasks.clone()))),
        ("projects", Box::new(projects::http::configure(services.projects.clone()))),
        ("learning", Box::new(learning::http::configure(services.learning.clone()))),
        ("webhooks", Box::new(webhooks::http::configure(services.webhooks.clone()))),
    ]
}

/// Mounts every route (health, and each domain crate under [`API_BASE`]) with the data
/// they share; the OpenAPI document grows with the routes.
fn mount<T>(app: UtoipaApp<T>, services: &Services) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    mount_domains(app, services, domains(services))
}

/// [`mount`] with only the given domains.
fn mount_domains<T>(app: UtoipaApp<T>, services: &Services, domains: Vec<(&'static str, Domain)>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let api = domains.into_iter().fold(scope::scope(API_BASE), |api, (_, domain)| api.configure(domain));
    app.openapi(ApiDoc::openapi())
        .app_data(web::Data::new(services.db.clone()))
        .app_data(web::Data::new(services.shutdown.clone()))
        .app_data(web::Data::from(services.streams.clone()))
        .service(health::healthz)
        .service(health::readyz)
        .service(api)
}

/// The OpenAPI document the server publishes at `/openapi.json`, without serving: the
/// routes are mounted over a throwaway database in a temporary folder (`gateway openapi`).
pub fn openapi_document() -> anyhow::Result<utoipa::openapi::OpenApi> {
    let dir = tempfile::tempdir().context("creating a temporary folder")?;
    let path = dir.path().join("openapi.db");
    let settings = Settings::for_tests(&path.to_string_lossy());
    let services = Services::build(&settings, Database::open(&settings.database_url)?, StreamLimits::default())?;
    let (_, openapi) = mount(App::new().into_utoipa_app(), &services).split_for_parts();
    document::complete(openapi)
}

/// A bound, not yet running server.
pub struct Application {
    address: SocketAddr,
    server: Server,
    shutdown: Shutdown,
    worker: SharedWorker,
}

/// The webhook worker's handle, stopped with the server.
type SharedWorker = Arc<std::sync::Mutex<Option<webhooks::WorkerHandle>>>;

fn stop_worker(worker: &SharedWorker) {
    let handle = worker.lock().map(|mut slot| slot.take()).unwrap_or(None);
    if let Some(mut handle) = handle {
        handle.stop();
    }
}

/// Stops a running [`Application`]: fires the shutdown signal (open event streams end),
/// then stops the server.
#[derive(Debug, Clone)]
pub struct AppHandle {
    server: ServerHandle,
    shutdown: Shutdown,
    worker: SharedWorker,
}

impl AppHandle {
    /// Stops the server; `graceful` lets in-flight requests finish.
    pub async fn stop(&self, graceful: bool) {
        self.shutdown.trigger();
        self.server.stop(graceful).await;
        stop_worker(&self.worker);
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("address", &self.address).finish_non_exhaustive()
    }
}

impl Application {
    /// Opens (and migrates) the database, binds the address and prepares the server.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::cors::check(&settings.cors_origins, settings.cors_credentials).map_err(anyhow::Error::msg)?;
        let db_config = DbConfig {
            read_connections: settings.read_connections,
            pool_connections: settings.pool_connections,
            ..DbConfig::default()
        };
        // Named with its password hidden; an unusable URL's own error names it.
        let shown =
            storage::DatabaseUrl::parse(&settings.database_url).map_or_else(|_| String::new(), |url| url.display());
        let db = Database::open_with(&settings.database_url, &db_config)
            .with_context(|| format!("opening database {shown}"))?;
        let budget = FdBudget::of_this_process();
        let limits = settings.stream_limits(&budget);
        log::info!(
            "file descriptors: limit {}, {} kept in reserve; at most {} connections, {} event streams ({} per user, {} per team)",
            budget.limit,
            budget.reserve,
            budget.connections,
            limits.total,
            limits.per_user,
            limits.per_team
        );
        let services = Services::build(&settings, db, limits)?;
        // Logouts made on other gateways of the database reach this one's cache and streams.
        services.accounts.follow_revocations().context("starting the revocation feed")?;
        let shutdown = services.shutdown.clone();
        // Deliveries start with the server: those left over from before (a restart, a
        // crash) are sent first.
        // With `--webhook-delivery off` this gateway only writes them (the outbox).
        let handle = match settings.webhook_delivery {
            Switch::On => Some(services.webhook_worker.clone().start().context("starting the webhook worker")?),
            Switch::Off => {
                log::info!("webhook deliveries are written but not sent by this gateway (--webhook-delivery off)");
                None
            }
        };
        let worker: SharedWorker = Arc::new(std::sync::Mutex::new(handle));
        let (cors_origins, cors_credentials) = (settings.cors_origins.clone(), settings.cors_credentials);
        let body_timeout = BodyTimeout(settings.body_timeout());
        let listener = TcpListener::bind(&settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        // The document once, from the same mounting every worker does.
        let openapi = document::complete(mount(App::new().into_utoipa_app(), &services).split_for_parts().1)?;
        let known = Arc::new(KnownPaths::from_openapi(&openapi));
        let queries = web::Data::new(KnownQueries::from_openapi(&openapi));
        let login_free = web::Data::new(crate::idempotency::LoginFree::from_openapi(&openapi));
        let trusted_proxies = web::Data::new(settings.trusted_proxies.clone());
        let mut server = HttpServer::new(move || {
            let (app, _) = mount(App::new().into_utoipa_app(), &services)
                .app_data(json_config())
                .app_data(query_config())
                .app_data(path_config())
                .app_data(payload_config())
                .app_data(body_timeout)
                .split_for_parts();
            let known = known.clone();
            app.app_data(queries.clone())
                .app_data(login_free.clone())
                .app_data(trusted_proxies.clone())
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
                // Swagger UI lives under `/docs/`; the bare path people type redirects there.
                .route("/docs", web::get().to(|| async { web::Redirect::to("/docs/").permanent() }))
                .default_service(web::to(move |req: HttpRequest| {
                    let known = known.clone();
                    async move { known.answer(&req) }
                }))
                .wrap(from_fn(head::head_as_get))
                .wrap(from_fn(refuse_unknown_parameters))
                // Inside authentication: keys are the caller's.
                .wrap(from_fn(crate::idempotency::guard))
                // Inside everything that shapes or logs responses: every route and the
                // fallback see the caller (or a 401 for a bad credential).
                .wrap(from_fn({
                    let auth = services.authentication.clone();
                    move |req, next| auth.clone().call(req, next)
                }))
                .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
                // Before any other work on a request: 414/431 past the documented limits.
                .wrap(from_fn(crate::protocol_limits::refuse_oversized))
                .wrap(cors::cors(&cors_origins, cors_credentials))
                .wrap(from_fn(cors::refusals_as_problems))
                .wrap(from_fn(request_id::assign))
                .wrap(access_log::logger())
        })
        .client_request_timeout(settings.header_timeout())
        .keep_alive(settings.keep_alive())
        // A client that closes its side is gone: its response (an event stream above all)
        // ends at once instead of at the next write, and frees its stream's place.
        .h1_allow_half_closed(false)
        // Stop accepting at the budget rather than fail with EMFILE (see fd_budget).
        .max_connections(budget.per_worker(settings.worker_count()))
        .shutdown_timeout(10)
        .worker_max_blocking_threads(settings.blocking_threads.max(1))
        .listen(listener)?;
        server = server.workers(settings.worker_count());
        Ok(Application { address, server: server.run(), shutdown, worker })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// A handle to stop the server from elsewhere.
    pub fn handle(&self) -> AppHandle {
        AppHandle { server: self.server.handle(), shutdown: self.shutdown.clone(), worker: self.worker.clone() }
    }

    /// Serves until SIGINT/SIGTERM (graceful: in-flight requests finish, open event
    /// streams end at once) or `handle().stop()`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // actix-web stops on the signals itself; this fires our signal beside it, so that
        // streams end instead of holding the graceful shutdown up for its whole timeout.
        let shutdown = self.shutdown.clone();
        let watcher = actix_web::rt::spawn(async move {
            wait_for_stop_signal().await;
            shutdown.trigger();
        });
        let result = self.server.await;
        self.shutdown.trigger();
        stop_worker(&self.worker);
        watcher.abort();
        result
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No two Rust types register one schema name (utoipa would keep the last silently),
    /// and no response refers to a schema that the document gives another crate's shape.
    #[test]
    fn every_schema_name_means_one_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openapi.db");
        let settings = Settings::for_tests(&path.to_string_lossy());
        let services =
            Services::build(&settings, Database::open(&settings.database_url).unwrap(), StreamLimits::default())
                .unwrap();
        let document = |domains| {
            let (_, openapi) = mount_domains(App::new().into_utoipa_app(), &services, domains).split_for_parts();
            serde_json::to_value(openapi).unwrap()
        };
        let merged = document(domains(&services));
        let names: Vec<&str> = domains(&services).into_iter().map(|(name, _)| name).collect();
        let each: Vec<(&str, serde_json::Value)> =
            domains(&services).into_iter().zip(&names).map(|(domain, name)| (*name, document(vec![domain]))).collect();
        let problems = crate::schema_names::clashes(&merged, &each);
        assert!(problems.is_empty(), "schema name clashes:\n{}", problems.join("\n"));
    }
}
