//! Several real gateway processes on one PostgreSQL database (issue 17), for the tests of
//! what a load-balanced deployment may rely on (API section 8).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::http::Method;
use futures_util::StreamExt as _;
use serde_json::{json, Value};

use crate::helpers::{send, take_events, ProcessApp, Response};

/// Gateway processes sharing one fresh database; the database goes after them.
pub struct Gateways {
    // Declared first: the processes stop before their database is dropped.
    pub apps: Vec<ProcessApp>,
    pub db: storage::TestDatabase,
}

impl Gateways {
    /// `n` gateways started with the extra `serve` arguments `args` on one fresh
    /// PostgreSQL database; `None` (with a message) on a SQLite run, where one process
    /// owns the database.
    pub fn start(n: usize, args: &[&str]) -> Option<Gateways> {
        if storage::testing::postgres_server().is_none() {
            eprintln!("skipped: several gateways share a PostgreSQL database only (CORKBOARD_TEST_BACKEND=postgres)");
            return None;
        }
        let db = storage::TestDatabase::new();
        let apps = (0..n).map(|_| ProcessApp::start_with(db.url(), args, None)).collect();
        Some(Gateways { apps, db })
    }

    /// The base URL of gateway `i`.
    pub fn base(&self, i: usize) -> &str {
        &self.apps[i].base
    }

    /// Runs `sql` on the shared database over a connection of the test's own (for
    /// `pg_terminate_backend` and the like); returns the first column of the first row as
    /// a number, if any.
    pub fn sql_count(&self, sql: &str) -> i64 {
        use diesel::{Connection as _, RunQueryDsl as _};
        #[derive(diesel::QueryableByName)]
        struct One {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = diesel::PgConnection::establish(self.db.url()).expect("connecting to the test database");
        diesel::sql_query(sql).get_result::<One>(&mut conn).expect("the query runs").n
    }
}

/// A user registered and logged in through the gateway at `base`.
#[derive(Clone, Debug)]
pub struct Member {
    pub id: String,
    pub bearer: String,
}

/// Registers `name` through `base` and logs in there.
pub async fn member(base: &str, name: &str) -> Member {
    let email = format!("{}@example.com", name.to_lowercase());
    let body = json!({"email": email, "display_name": name, "password": "correct horse battery"});
    let registered = post(base, None, "/api/v1/auth/register", &body).await;
    assert_eq!(registered.status, 201, "{}", String::from_utf8_lossy(&registered.body));
    let login =
        post(base, None, "/api/v1/auth/login", &json!({"email": email, "password": "correct horse battery"})).await;
    assert_eq!(login.status, 200, "{}", String::from_utf8_lossy(&login.body));
    Member {
        id: registered.json()["id"].as_str().unwrap().to_string(),
        bearer: format!("Bearer {}", login.json()["token"].as_str().unwrap()),
    }
}

/// A request as `who` (anonymous without one) with an optional JSON body.
pub async fn call(base: &str, who: Option<&Member>, method: Method, path: &str, body: Option<&Value>) -> Response {
    let auth: Vec<(&str, &str)> = who.map(|m| ("authorization", m.bearer.as_str())).into_iter().collect();
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    send(base, method, path, &auth, body).await
}

/// `POST` of a JSON body.
pub async fn post(base: &str, who: Option<&Member>, path: &str, body: &Value) -> Response {
    call(base, who, Method::POST, path, Some(body)).await
}

/// One server-sent event: its id, its name and its data.
pub type Event = (String, String, Value);

/// An open event stream.
pub struct EventStream {
    response: futures_util::stream::LocalBoxStream<'static, Result<actix_web::web::Bytes, awc::error::PayloadError>>,
    buffer: String,
}

impl EventStream {
    /// Opens `path` on `base` as `who`, resuming after `last_event_id` if given.
    pub async fn open(base: &str, who: &Member, path: &str, last_event_id: Option<&str>) -> EventStream {
        let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
        let mut req = client
            .get(format!("{base}{path}"))
            .insert_header(("accept", "text/event-stream"))
            .insert_header(("authorization", who.bearer.as_str()));
        if let Some(id) = last_event_id {
            req = req.insert_header(("last-event-id", id));
        }
        let res = req.send().await.expect("the stream opens");
        assert_eq!(res.status(), 200, "opening {path}");
        EventStream { response: res.boxed_local(), buffer: String::new() }
    }

    /// The next `n` events; fewer if the stream ends or nothing comes for `quiet`.
    pub async fn take(&mut self, n: usize, quiet: Duration) -> Vec<Event> {
        let mut out = Vec::new();
        loop {
            out.extend(take_events(&mut self.buffer));
            if out.len() >= n {
                return out;
            }
            match tokio::time::timeout(quiet, self.response.next()).await {
                Ok(Some(Ok(bytes))) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                _ => return out,
            }
        }
    }

    /// Whether the stream has ended within `wait` (reading and dropping what comes).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, async { while let Some(Ok(_)) = self.response.next().await {} }).await.is_ok()
    }
}
