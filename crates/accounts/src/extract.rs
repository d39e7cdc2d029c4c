//! Request extractors that authenticate the caller from `Authorization: Bearer <token>`.
//!
//! - [`CurrentUser`] as a handler argument requires a login: without a usable token the
//!   handler never runs and the client gets 401 with `WWW-Authenticate: Bearer` and a
//!   problem document.
//! - [`MaybeUser`] serves endpoints anonymous callers may use too: no `Authorization`
//!   header means anonymous, but a header that is present and wrong (another scheme, a
//!   malformed, unknown, expired or revoked token) is still 401, so a client with a stale
//!   token learns it instead of silently getting the anonymous view.
//!
//! Both look up the [`AccountService`] registered as `web::Data<dyn AccountService>`
//! (which [`crate::http::configure`] does for the scope it is mounted in), run the token
//! lookup on the blocking pool, and remember the caller in the request's extensions: a
//! middleware, or an extractor built on `CurrentUser` (`CurrentUser::extract(&req).await`),
//! that runs before the handler's own `CurrentUser` costs no second lookup. (actix-web
//! starts all of one handler's extractors at once, so two of them in one signature may
//! each look the token up; that is correct, only not free.) They only authenticate: what
//! the caller may do is for the services to decide.
//!
//! ```
//! use actix_web::{get, web};
//! use accounts::{CurrentUser, MaybeUser};
//!
//! #[get("/greeting")]
//! async fn greeting(caller: MaybeUser) -> String {
//!     match caller.user() {
//!         Some(me) => format!("hello {}", me.user.display_name),
//!         None => "hello stranger".into(),
//!     }
//! }
//!
//! #[get("/me/id")]
//! async fn my_id(me: CurrentUser) -> String {
//!     me.id().to_string()
//! }
//! ```

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use core_models::http::blocking;
use core_models::{AppError, AppResult};

use crate::model::CurrentUser;
use crate::AccountService;

/// The extractor future: boxed, since it awaits the blocking pool.
type Extracting<T> = Pin<Box<dyn Future<Output = AppResult<T>>>>;

/// The bearer credential of a request: `None` without an `Authorization` header, 401 for
/// a header that is not exactly one `Bearer <credential>`.
pub(crate) fn bearer_credential(req: &HttpRequest) -> AppResult<Option<String>> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(AppError::Unauthorized("send one Authorization header, not several".into()));
    }
    let value =
        value.to_str().map_err(|_| AppError::Unauthorized("the Authorization header is not printable ASCII".into()))?;
    let (scheme, credential) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    // Auth schemes are case-insensitive (RFC 9110 section 11.1).
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AppError::Unauthorized("use the Bearer scheme: `Authorization: Bearer <token>`".into()));
    }
    let credential = credential.trim();
    if credential.is_empty() {
        return Err(AppError::Unauthorized("the Bearer token is missing".into()));
    }
    Ok(Some(credential.to_owned()))
}

/// The caller of `req`, if it sent credentials; 401 if they do not authenticate anyone.
async fn authenticate(req: HttpRequest) -> AppResult<Option<CurrentUser>> {
    if let Some(known) = req.extensions().get::<CurrentUser>() {
        return Ok(Some(known.clone()));
    }
    let Some(credential) = bearer_credential(&req)? else { return Ok(None) };
    let service = req.app_data::<web::Data<dyn AccountService>>().map(|data| data.clone().into_inner()).ok_or_else(
        || {
            AppError::Internal(anyhow::anyhow!(
                "no web::Data<dyn AccountService> registered where this route is mounted; mount it beside accounts::http::configure"
            ))
        },
    )?;
    let user = blocking(move || service.authenticate(&credential)).await?;
    req.extensions_mut().insert(user.clone());
    Ok(Some(user))
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(req).await?.ok_or_else(|| {
                AppError::Unauthorized("this endpoint needs a login: send `Authorization: Bearer <token>`".into())
            })
        })
    }
}

/// The caller if it sent credentials, `None` if it sent none; 401 if it sent credentials
/// that do not authenticate (see the [module docs](self)).
///
/// Prefer it to `Option<CurrentUser>`, which actix-web fills with `None` on *any* error
/// and so would treat a revoked token like no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl MaybeUser {
    /// The caller, if logged in.
    pub fn user(&self) -> Option<&CurrentUser> {
        self.0.as_ref()
    }

    /// The caller's id, if logged in.
    pub fn id(&self) -> Option<uuid::Uuid> {
        self.0.as_ref().map(CurrentUser::id)
    }

    /// The caller, if logged in, by value.
    pub fn into_inner(self) -> Option<CurrentUser> {
        self.0
    }
}

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req).await.map(MaybeUser) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn credential(value: &str) -> AppResult<Option<String>> {
        bearer_credential(&TestRequest::default().insert_header((header::AUTHORIZATION, value)).to_http_request())
    }

    #[test]
    fn only_one_bearer_header_yields_a_credential() {
        assert_eq!(bearer_credential(&TestRequest::default().to_http_request()).unwrap(), None);
        assert_eq!(credential("Bearer abc").unwrap().as_deref(), Some("abc"));
        assert_eq!(credential("bearer   abc ").unwrap().as_deref(), Some("abc"));
        for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc", "abc", "Bearerabc"] {
            assert_eq!(credential(bad).unwrap_err().status_code(), 401, "{bad:?}");
        }
        let twice = TestRequest::default()
            .append_header((header::AUTHORIZATION, "Bearer a"))
            .append_header((header::AUTHORIZATION, "Bearer b"))
            .to_http_request();
        assert_eq!(bearer_credential(&twice).unwrap_err().status_code(), 401);
    }
}
