//! The accounts routes (`/auth/...`, `/users/...`) and the OpenAPI bearer scheme. Handlers
//! parse the request, call the [`AccountService`] on the blocking pool (Argon2 and Diesel
//! both block) and shape the response; the rules live in the service.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use core_models::http::{blocking, created, Json, TrustedProxies};
use core_models::id::Id;
use core_models::openapi::{Busy, JsonBodyErrors, LoginRequired};
use core_models::pagination::IdPagingParams;
use core_models::streams::StreamOwner;
use core_models::{AppError, AppResult, Caller, Page, Problem, API_BASE};
use tokio::sync::{Semaphore, SemaphorePermit};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::Modify;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::model::{
    ClientInfo, Credentials, CurrentUser, NewUser, PasswordChange, PublicProfile, Session, SessionInfo, User,
};
use crate::ticket::StreamTickets;
use crate::{AccountService, UNKNOWN_CLIENT};

type Accounts = web::Data<dyn AccountService>;

/// Name of the bearer security scheme in the OpenAPI document; protected operations (here
/// and in other crates) declare `security(("bearer" = []))`.
pub const BEARER_SCHEME: &str = "bearer";

/// Adds the `bearer` HTTP security scheme to an OpenAPI document, which gives Swagger UI
/// its "Authorize" button. Add it to the gateway's `#[openapi(modifiers(&BearerSecurity))]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("opaque")
            .description(Some("The `token` of `POST /api/v1/auth/login`, sent as `Authorization: Bearer <token>`."))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER_SCHEME, SecurityScheme::Http(scheme));
    }
}

/// How long a registration or login may wait for its turn to hash before it gets 503.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Admission to password hashing over HTTP. Argon2 is CPU-bound (~15 ms), so running more
/// hashes than there are cores adds no throughput; requests beyond that wait for a turn
/// here, in async code that holds no thread, instead of filling the blocking threads that
/// every database call needs. A turn not granted within the wait is a 503 with
/// `Retry-After`.
///
/// A service shares one gate between every worker through
/// [`AccountService::hash_gate`] (the gateway runs one app per worker); `DbAccounts`
/// sizes it to its `max_concurrent_hashes`, so the gate admits exactly as many hashes as
/// the service has reusable Argon2 buffers and none gets the service's own 503. A
/// service without a gate gets one per worker with [`HashGate::default_permits`] turns.
#[derive(Debug)]
pub struct HashGate {
    turns: Semaphore,
    wait: Duration,
}

impl HashGate {
    /// A gate of `permits` concurrent hashes, each caller waiting at most `wait`.
    pub fn new(permits: usize, wait: Duration) -> Self {
        HashGate { turns: Semaphore::new(permits), wait }
    }

    /// One turn per CPU core.
    pub fn default_permits() -> usize {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    }

    /// Waits for a turn to hash; 503 if none comes within the wait.
    pub async fn turn(&self) -> AppResult<SemaphorePermit<'_>> {
        match tokio::time::timeout(self.wait, self.turns.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Unavailable("too many logins and registrations at once; retry in a moment".into())),
        }
    }
}

/// Mounts the accounts routes (relative to the API base) with `service` behind them, and
/// registers `service` as `web::Data<dyn AccountService>` for the [`CurrentUser`] and
/// [`crate::MaybeUser`] extractors of every route in the same scope.
pub fn configure(service: Arc<dyn AccountService>, tickets: Arc<StreamTickets>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(service))
            .app_data(web::Data::from(tickets))
            .app_data(web::Data::new(HashGate::new(HashGate::default_permits(), HASH_QUEUE_WAIT)))
            .service(register)
            .service(login)
            .service(logout)
            .service(logout_all)
            .service(list_sessions)
            .service(revoke_session)
            .service(change_password)
            .service(issue_stream_ticket)
            // `/users/me` before `/users/{id}`: routes match in order.
            .service(get_me)
            .service(get_user);
    }
}

/// Create an account.
///
/// The password is stored only as an Argon2id hash. The email must be unused regardless
/// of case.
#[utoipa::path(
    tag = "accounts",
    request_body = NewUser,
    responses(
        (status = 201, description = "Registered", body = User,
            headers(("Location" = String, description = "URL of the user's public profile"))),
        JsonBodyErrors,
        (status = 409, description = "The email is already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all named)", body = Problem, content_type = "application/problem+json"),
        Busy,
    )
)]
#[post("/auth/register")]
async fn register(accounts: Accounts, gate: web::Data<HashGate>, body: Json<NewUser>) -> AppResult<HttpResponse> {
    let accounts = accounts.into_inner();
    let service = accounts.clone();
    let _turn = accounts.hash_gate().unwrap_or(&gate).turn().await?;
    let user = blocking(move || service.register(body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/users/{}", user.id), &user))
}

/// Log in: exchange email and password for a bearer token.
///
/// An unknown email and a wrong password get the same 401. Failed logins are limited per
/// client address (20 in 15 minutes, over all emails) and per email from one address (10);
/// past 50 failures for one email from all addresses, only addresses that have not failed
/// for it may try. A refused attempt gets 429 with `Retry-After`, the seconds until it
/// would be let through. A stranger's failures never refuse the owner's own device.
#[utoipa::path(
    tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in; the token is shown only this once", body = Session),
        JsonBodyErrors,
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or impossible fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins from this address, or from this address for this email", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until an attempt is allowed again"))),
        Busy,
    )
)]
#[post("/auth/login")]
async fn login(
    req: HttpRequest,
    accounts: Accounts,
    gate: web::Data<HashGate>,
    body: Json<Credentials>,
) -> AppResult<HttpResponse> {
    let client =
        ClientInfo::new(client_address(&req), req.headers().get(header::USER_AGENT).and_then(|ua| ua.to_str().ok()));
    let accounts = accounts.into_inner();
    let service = accounts.clone();
    let _turn = accounts.hash_gate().unwrap_or(&gate).turn().await?;
    let session = blocking(move || service.login_as(body.into_inner(), &client)).await?;
    // A response carrying a credential must not be stored by any cache (RFC 6749 5.1).
    Ok(HttpResponse::Ok().insert_header(CacheControl(vec![CacheDirective::NoStore])).json(session))
}

/// The address a request comes from: the TCP peer, or the client a trusted proxy names in
/// `X-Forwarded-For` when the app has [`TrustedProxies`] (the gateway's
/// `--trusted-proxies`). Never a header any client could send: that would give an
/// attacker a fresh address per request.
fn client_address(req: &HttpRequest) -> std::net::IpAddr {
    match req.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client_address(req),
        None => req.peer_addr().map_or(UNKNOWN_CLIENT, |peer| peer.ip()),
    }
}

/// Log out: revoke the token this request carries. Other sessions stay logged in.
///
/// Event streams opened with the token (directly or through a stream ticket) end, and
/// its unused stream tickets stop working.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token is revoked"),
        (status = 401, description = "Missing, malformed, expired or revoked token", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"corkboard\"`"))),
    )
)]
#[post("/auth/logout")]
async fn logout(accounts: Accounts, me: CurrentUser) -> AppResult<HttpResponse> {
    let accounts = accounts.into_inner();
    blocking(move || accounts.logout(&me)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log out everywhere: revoke every session of the caller, this one included; their event
/// streams end and their stream tickets stop working.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session of the caller is revoked"),
        LoginRequired,
    )
)]
#[post("/auth/logout-all")]
async fn logout_all(accounts: Accounts, me: CurrentUser) -> AppResult<HttpResponse> {
    let accounts = accounts.into_inner();
    blocking(move || accounts.logout_all(&me)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's live sessions (tokens neither revoked nor expired), oldest first: when
/// each was created and last used, and the browser and address of its login. `current`
/// marks the session of this request. The tokens themselves are never shown again.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(IdPagingParams),
    responses(
        (status = 200, description = "One page of sessions", body = Page<SessionInfo>),
        LoginRequired,
        (status = 422, description = "A bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/sessions")]
async fn list_sessions(
    accounts: Accounts,
    me: CurrentUser,
    params: web::Query<IdPagingParams>,
) -> AppResult<HttpResponse> {
    let paging = params.parse("sessions", &me.id())?;
    let accounts = accounts.into_inner();
    let page = blocking(move || accounts.sessions(&me, &paging)).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "private, no-cache")).json(page))
}

/// Revoke one of the caller's sessions (e.g. a lost phone's): its token stops working,
/// its event streams end and its stream tickets stop working. Revoking the current
/// session is a logout.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id (from `GET /auth/sessions`)")),
    responses(
        (status = 204, description = "The session is revoked"),
        LoginRequired,
        (status = 404, description = "The caller has no live session with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/auth/sessions/{id}")]
async fn revoke_session(
    accounts: Accounts,
    me: CurrentUser,
    id: web::Path<Id<SessionInfo>>,
) -> AppResult<HttpResponse> {
    let (accounts, id) = (accounts.into_inner(), id.into_inner().uuid());
    blocking(move || accounts.revoke_session(&me, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password, giving the current one. Every other session of the caller is
/// revoked (their streams end); this one stays logged in.
///
/// A wrong `current_password` is 403 (the request is well-formed; the caller is not
/// allowed the change) and counts as a failed login (429 with `Retry-After` past the
/// limits of `POST /auth/login`), so a stolen token is no way to guess the password.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "The password is changed; every other session is revoked"),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "`current_password` is not the account's password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field that breaks the rules (each named)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until an attempt is allowed again"))),
        Busy,
    )
)]
#[post("/auth/password")]
async fn change_password(
    req: HttpRequest,
    accounts: Accounts,
    gate: web::Data<HashGate>,
    me: CurrentUser,
    body: Json<PasswordChange>,
) -> AppResult<HttpResponse> {
    let client = client_address(&req);
    let accounts = accounts.into_inner();
    let service = accounts.clone();
    let _turn = accounts.hash_gate().unwrap_or(&gate).turn().await?;
    blocking(move || service.change_password(&me, body.into_inner(), client)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A stream ticket for the caller's browser: a browser's `EventSource` cannot send an
/// `Authorization` header, so it opens an event stream with `?ticket=<ticket>` instead.
///
/// The ticket is good for one connection within 60 seconds (or until the token expires,
/// if sooner); ask for a new one for each (re)connection. The bearer token never goes
/// into a URL. Revoking the token (logout, ...) voids its unused tickets and ends the
/// streams they opened.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A single-use ticket", body = StreamTicket),
        (status = 401, description = "Missing, malformed, expired or revoked token", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"corkboard\"`"))),
    )
)]
#[post("/auth/stream-tickets")]
async fn issue_stream_ticket(
    tickets: web::Data<StreamTickets>,
    // Only for its 401 without a login; the ticket is the session's (`owner`).
    _caller: Caller,
    owner: StreamOwner,
) -> AppResult<HttpResponse> {
    let tickets = tickets.into_inner();
    let (ticket, expires_at) = blocking(move || tickets.issue(&owner)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(StreamTicket { ticket, expires_at }))
}

/// A single-use ticket that authenticates one event-stream connection.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StreamTicket {
    /// Pass as `?ticket=` when opening the stream; good once, within 60 seconds.
    pub ticket: String,
    /// When the ticket stops working.
    #[serde(with = "core_models::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The caller's own account.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "Missing, malformed, expired or revoked token", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"corkboard\"`"))),
    )
)]
#[get("/users/me")]
async fn get_me(me: CurrentUser) -> HttpResponse {
    // The extractor just read the user with the token; no second query needed.
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "private, no-cache")).json(&me.user)
}

/// A user's public profile (id and display name only); no login needed.
#[utoipa::path(
    tag = "accounts",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The profile", body = PublicProfile),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
async fn get_user(accounts: Accounts, id: web::Path<Id<User>>) -> AppResult<web::Json<PublicProfile>> {
    let id = id.into_inner().uuid();
    let accounts = accounts.into_inner();
    Ok(web::Json(blocking(move || accounts.profile(id)).await?))
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[actix_rt::test]
    async fn callers_wait_for_a_turn_and_get_503_when_none_comes() {
        let gate = Arc::new(HashGate::new(1, Duration::from_millis(300)));
        let first = gate.turn().await.unwrap();
        assert_eq!(gate.turn().await.unwrap_err().status_code(), 503, "no turn within the wait");
        // A caller already waiting gets the turn as soon as it is free.
        let waiter = {
            let gate = gate.clone();
            actix_rt::spawn(async move { gate.turn().await.map(drop) })
        };
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "the second caller waits");
        drop(first);
        assert!(waiter.await.unwrap().is_ok());
    }
}
