//! Who is calling: the [`Authenticated`] marker the authentication middleware leaves on
//! every request, and the [`Caller`], [`MaybeCaller`] and [`Board`] extractors that read it.

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};

use crate::{AppError, AppResult, Board, Caller, MaybeCaller};

/// What the app-wide authentication middleware found out about a request's caller; it
/// puts one in every request's extensions (`None`: no `Authorization` header). The
/// [`Caller`] and [`MaybeCaller`] extractors read it.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Option<Caller>);

fn authenticated(req: &HttpRequest) -> AppResult<Option<Caller>> {
    match req.extensions().get::<Authenticated>() {
        Some(Authenticated(caller)) => Ok(caller.clone()),
        // A configuration bug, found by the route tests: every route sits behind the middleware.
        None => Err(AppError::Internal(anyhow::anyhow!(
            "no authentication middleware wraps {}; wrap the app in accounts::http::Authentication",
            req.path()
        ))),
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    /// The caller, or 401 (with `WWW-Authenticate: Bearer`) when the request sent no token.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticated(req).and_then(|caller| {
            caller.ok_or_else(|| {
                AppError::Unauthorized("this endpoint needs a login: send `Authorization: Bearer <token>`".into())
            })
        }))
    }
}

impl FromRequest for MaybeCaller {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    /// The caller if the request sent a token; a token that does not authenticate never
    /// reaches a handler (the middleware answers 401).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticated(req).map(MaybeCaller))
    }
}

impl FromRequest for Board {
    type Error = AppError;
    type Future = std::future::Ready<AppResult<Self>>;

    /// The caller's own board with a token, the shared anonymous board without one.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticated(req).map(|caller| Board::of(caller.as_ref())))
    }
}
