//! The bearer-token check, registered once for the whole app.
//!
//! [`Authentication`] wraps the app (the gateway does `.wrap(Authentication::new(..))`).
//! For every request it reads `Authorization`:
//! - absent: the request is anonymous;
//! - `Bearer <token>` of a live token: the request's caller is that user;
//! - anything else (another scheme, several headers, a malformed, unknown, expired or
//!   revoked token): 401 with `WWW-Authenticate: Bearer`, whatever the endpoint, so a
//!   client with a stale token learns it instead of silently getting the anonymous view.
//!
//! A request that accepts `text/event-stream` and carries `?ticket=` (and no
//! `Authorization`) is authenticated by redeeming that [stream ticket](crate::ticket);
//! a `HEAD` request only checks the ticket, so it stays usable for the stream.
//!
//! It leaves [`Authenticated`] in the request, which the [`core_models::Caller`] and
//! [`core_models::MaybeCaller`] extractors of every crate read, and the
//! [`StreamOwner`] (the session, for event streams to end when it is revoked); with a
//! bearer token, also the [`CurrentUser`](crate::model::CurrentUser) (for logout). What the
//! caller may do is for the services to decide.

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError};
use core_models::http::{blocking, Authenticated};
use core_models::streams::StreamOwner;
use core_models::{AppResult, Caller};

use crate::extract::bearer_credential;
use crate::ticket::StreamTickets;
use crate::AccountService;

/// Who may authenticate requests: the account service (bearer tokens) and the stream
/// ticket office. Cheap to clone; one per app, shared by every worker.
#[derive(Clone)]
pub struct Authentication {
    accounts: Arc<dyn AccountService>,
    tickets: Arc<StreamTickets>,
}

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authentication").finish_non_exhaustive()
    }
}

impl Authentication {
    /// Authentication through `accounts` and `tickets`.
    pub fn new(accounts: Arc<dyn AccountService>, tickets: Arc<StreamTickets>) -> Self {
        Authentication { accounts, tickets }
    }

    /// The ticket office (for the route that issues tickets).
    pub fn tickets(&self) -> &Arc<StreamTickets> {
        &self.tickets
    }

    /// The middleware body, for `actix_web::middleware::from_fn`:
    /// `App::new().wrap(from_fn(move |req, next| auth.clone().call(req, next)))`.
    pub async fn call<B: MessageBody + 'static>(
        self,
        req: ServiceRequest,
        next: Next<B>,
    ) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
        match self.caller_of(&req).await {
            Ok(found) => {
                if let Some((caller, owner, user)) = found {
                    if let Some(user) = user {
                        req.extensions_mut().insert(user);
                    }
                    req.extensions_mut().insert(owner);
                    req.extensions_mut().insert(Authenticated(Some(caller)));
                } else {
                    req.extensions_mut().insert(Authenticated(None));
                }
                Ok(next.call(req).await?.map_into_left_body())
            }
            Err(refused) => {
                log::debug!("{} {}: {refused}", req.method(), req.path());
                Ok(req.into_response(refused.error_response()).map_into_right_body())
            }
        }
    }

    /// The caller of `req`, its session, and for bearer tokens the [`crate::CurrentUser`].
    async fn caller_of(
        &self,
        req: &ServiceRequest,
    ) -> AppResult<Option<(Caller, StreamOwner, Option<crate::CurrentUser>)>> {
        if let Some(credential) = bearer_credential(req.request())? {
            let user = match self.accounts.cached_session(&credential) {
                Some(user) => user,
                None => {
                    let accounts = self.accounts.clone();
                    blocking(move || accounts.authenticate(&credential)).await?
                }
            };
            return Ok(Some((user.caller(), user.stream_owner(), Some(user))));
        }
        if let Some(ticket) = stream_ticket(req) {
            // HEAD opens no stream: it must not use the ticket up.
            let head = req.method() == actix_web::http::Method::HEAD;
            let tickets = self.tickets.clone();
            let (caller, owner) = blocking(move || match head {
                true => tickets.check(&ticket),
                false => tickets.redeem(&ticket),
            })
            .await?;
            return Ok(Some((caller, owner, None)));
        }
        Ok(None)
    }
}

/// The `ticket` query parameter of a request for an event stream, if any.
fn stream_ticket(req: &ServiceRequest) -> Option<String> {
    let wants_stream =
        req.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).any(|v| v.contains("text/event-stream"));
    if !wants_stream {
        return None;
    }
    let query = web_query_pairs(req.query_string());
    query.into_iter().find(|(name, _)| name == "ticket").map(|(_, value)| value)
}

fn web_query_pairs(query: &str) -> Vec<(String, String)> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(query).map(|q| q.into_inner()).unwrap_or_default()
}
