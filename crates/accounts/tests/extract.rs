//! The `CurrentUser` and `MaybeUser` extractors as another crate's handlers use them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use accounts::{
    AccountService, AccountsConfig, ClientInfo, Credentials, CurrentUser, DbAccounts, MaybeUser, NewUser,
    PasswordChange, PublicProfile, Session, SessionInfo, User,
};
use actix_web::http::header;
use actix_web::{test, web, App, FromRequest, HttpRequest, HttpResponse};
use core_models::pagination::IdPaging;
use core_models::{AppResult, Page};
use uuid::Uuid;

/// Counts token lookups, delegating everything to the database service.
struct Counting {
    inner: DbAccounts,
    lookups: AtomicUsize,
}

impl AccountService for Counting {
    fn register(&self, new: NewUser) -> AppResult<User> {
        self.inner.register(new)
    }
    fn login_as(&self, credentials: Credentials, client: &ClientInfo) -> AppResult<Session> {
        self.inner.login_as(credentials, client)
    }
    fn authenticate(&self, token: &str) -> AppResult<CurrentUser> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.authenticate(token)
    }
    fn logout(&self, current: &CurrentUser) -> AppResult<()> {
        self.inner.logout(current)
    }
    fn sessions(&self, current: &CurrentUser, paging: &IdPaging) -> AppResult<Page<SessionInfo>> {
        self.inner.sessions(current, paging)
    }
    fn revoke_session(&self, current: &CurrentUser, session: Uuid) -> AppResult<()> {
        self.inner.revoke_session(current, session)
    }
    fn logout_all(&self, current: &CurrentUser) -> AppResult<()> {
        self.inner.logout_all(current)
    }
    fn change_password(
        &self,
        current: &CurrentUser,
        change: PasswordChange,
        client: std::net::IpAddr,
    ) -> AppResult<()> {
        self.inner.change_password(current, change, client)
    }
    fn user(&self, id: Uuid) -> AppResult<User> {
        self.inner.user(id)
    }
    fn profile(&self, id: Uuid) -> AppResult<PublicProfile> {
        self.inner.profile(id)
    }
}

async fn greeting(caller: MaybeUser) -> String {
    match caller.user() {
        Some(me) => format!("hello {}", me.user.display_name),
        None => "hello stranger".into(),
    }
}

/// Asks for the caller twice, one after the other, as a middleware and a handler (or an
/// extractor built on `CurrentUser`) would.
async fn both(req: HttpRequest) -> AppResult<HttpResponse> {
    let me = CurrentUser::extract(&req).await?;
    let again = MaybeUser::extract(&req).await?;
    assert_eq!(again.id(), Some(me.id()));
    Ok(HttpResponse::Ok().body(me.user.email))
}

fn setup() -> (storage::TestDb, Arc<Counting>, String) {
    let db = storage::test_pool();
    let inner = DbAccounts::new(db.database(), AccountsConfig::insecure_for_tests());
    inner
        .register(NewUser { email: "ada@example.com".into(), display_name: "Ada".into(), password: "password1".into() })
        .unwrap();
    let session = inner.login(Credentials { email: "ada@example.com".into(), password: "password1".into() }).unwrap();
    let token = session.token.expose_secret().to_owned();
    (db, Arc::new(Counting { inner, lookups: AtomicUsize::new(0) }), token)
}

macro_rules! app {
    ($service:expr) => {{
        let service: Arc<dyn AccountService> = $service;
        test::init_service(
            App::new()
                .app_data(web::Data::from(service))
                .route("/greeting", web::get().to(greeting))
                .route("/both", web::get().to(both)),
        )
        .await
    }};
}

#[actix_rt::test]
async fn maybe_user_is_anonymous_without_credentials_and_401_with_bad_ones() {
    let (_db, service, token) = setup();
    let app = app!(service.clone());
    let anonymous = test::call_and_read_body(&app, test::TestRequest::get().uri("/greeting").to_request()).await;
    assert_eq!(anonymous, "hello stranger");
    let req =
        test::TestRequest::get().uri("/greeting").insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    assert_eq!(test::call_and_read_body(&app, req.to_request()).await, "hello Ada");
    for bad in ["Bearer nope", "Basic YTpi", "Bearer"] {
        let req = test::TestRequest::get().uri("/greeting").insert_header((header::AUTHORIZATION, bad));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 401, "{bad}");
        assert!(res.headers().get(header::WWW_AUTHENTICATE).unwrap().to_str().unwrap().starts_with("Bearer"));
        assert_eq!(res.headers().get(header::CONTENT_TYPE).unwrap(), "application/problem+json");
    }
}

#[actix_rt::test]
async fn asking_again_in_the_same_request_costs_no_second_lookup() {
    let (_db, service, token) = setup();
    let app = app!(service.clone());
    let req = test::TestRequest::get().uri("/both").insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    assert_eq!(test::call_and_read_body(&app, req.to_request()).await, "ada@example.com");
    assert_eq!(service.lookups.load(Ordering::SeqCst), 1);
    let res = test::call_service(&app, test::TestRequest::get().uri("/both").to_request()).await;
    assert_eq!(res.status(), 401, "CurrentUser requires a login");
    assert_eq!(service.lookups.load(Ordering::SeqCst), 1, "no header, no lookup");
}

#[actix_rt::test]
async fn a_route_mounted_without_the_service_fails_loudly_not_open() {
    let (_db, _service, token) = setup();
    let app = test::init_service(App::new().route("/both", web::get().to(both))).await;
    let req = test::TestRequest::get().uri("/both").insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), 500);
}
