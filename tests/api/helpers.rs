//! Starting gateways for tests and talking to them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix_web::http::Method;
use gateway::{Application, NotesStore, Settings};
use serde_json::{json, Value};

/// A gateway running inside the test process on its own fresh database (SQLite, or
/// PostgreSQL when the environment says so: see `storage::testing`).
pub struct TestApp {
    pub base: String,
    /// The gateway's `--database-url`.
    pub db_url: String,
    handle: gateway::AppHandle,
    _db: storage::TestDatabase,
}

/// A response, fully read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON (panics with the raw body if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }

    /// Asserts a problem document of `status` and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"));
        let json = self.json();
        assert_eq!(json["status"], status);
        assert!(json["type"].as_str().unwrap().starts_with("/problems/"));
        assert!(json["title"].is_string() && json["detail"].is_string());
        json
    }

    /// The `field`s of a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.problem(422)["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Asserts `res` has `status` and returns its JSON body (`null` when it has none).
pub fn ok(res: &Response, status: u16) -> Value {
    assert_eq!(res.status, status, "{}", String::from_utf8_lossy(&res.body));
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    }
}

/// Starts a gateway with the SQLite notes store.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(NotesStore::Sqlite).await
}

/// Starts a gateway with the given notes store.
pub async fn spawn_app_with(notes_store: NotesStore) -> TestApp {
    spawn_app_configured(|settings| settings.notes_store = notes_store).await
}

/// Starts a gateway with the test settings as `configure` changes them.
pub async fn spawn_app_configured(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(storage::TestDatabase::new(), configure).await
}

/// Starts a gateway on `db` (which it keeps) with the test settings as `configure`
/// changes them.
pub async fn spawn_app_on(db: storage::TestDatabase, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::for_tests(db.url());
    configure(&mut settings);
    let app = Application::build(settings).expect("gateway starts");
    let base = format!("http://{}", app.address());
    let handle = app.handle();
    actix_rt::spawn(app.run_until_stopped());
    TestApp { base, db_url: db.url().to_string(), handle, _db: db }
}

fn client() -> awc::Client {
    awc::Client::builder().timeout(Duration::from_secs(30)).finish()
}

/// Sends a request to `base + path`; `body` is sent as is with the given content type.
pub async fn send(
    base: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Response {
    let mut req = client().request(method, format!("{base}{path}"));
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    let mut res = match body {
        Some((content_type, bytes)) => {
            if !content_type.is_empty() {
                req = req.insert_header(("content-type", content_type));
            }
            req.send_body(bytes).await
        }
        None => req.send().await,
    }
    .expect("request reaches the server");
    let body = res.body().limit(16 << 20).await.expect("body").to_vec();
    Response { status: res.status().as_u16(), headers: res.headers().clone(), body }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        send(&self.base, Method::GET, path, &[], None).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        send(&self.base, Method::DELETE, path, &[], None).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        send(&self.base, Method::POST, path, &[], Some(("application/json", body.to_string().into_bytes()))).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        send(&self.base, Method::PATCH, path, &[], Some(("application/json", body.to_string().into_bytes()))).await
    }

    /// Any request, with raw headers and body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Response {
        send(&self.base, method, path, headers, body).await
    }

    /// Registers `email` and logs in: the `Authorization` value (`Bearer <token>`).
    pub async fn bearer_for(&self, email: &str) -> String {
        let user = serde_json::json!({"email": email, "display_name": email, "password": "correct horse battery"});
        let res = self.post_json("/api/v1/auth/register", &user).await;
        assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
        let credentials = serde_json::json!({"email": email, "password": "correct horse battery"});
        let res = self.post_json("/api/v1/auth/login", &credentials).await;
        assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
        format!("Bearer {}", res.json()["token"].as_str().unwrap())
    }

    /// A request as `authorization` (`None`: anonymous), with an optional JSON body and
    /// extra headers.
    pub async fn as_user(
        &self,
        authorization: Option<&str>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let mut all: Vec<(&str, &str)> = authorization.map(|a| ("authorization", a)).into_iter().collect();
        all.extend_from_slice(headers);
        let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
        send(&self.base, method, path, &all, body).await
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// A registered, logged-in user.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub bearer: String,
}

/// Registers `name` (as `<name>@example.com`) and logs in.
pub async fn user(app: &TestApp, name: &str) -> User {
    let email = format!("{}@example.com", name.to_lowercase());
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": email, "display_name": name, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let id = res.json()["id"].as_str().unwrap().to_string();
    let login =
        app.post_json("/api/v1/auth/login", &json!({"email": email, "password": "correct horse battery"})).await;
    User { id, bearer: format!("Bearer {}", login.json()["token"].as_str().unwrap()) }
}

/// A gateway running as a separate process (for kill -9 and signal tests).
pub struct ProcessApp {
    pub child: Child,
    pub base: String,
}

impl ProcessApp {
    /// Starts `gateway serve` on the database `db_url` on a free port and waits until it
    /// listens.
    pub fn start(db_url: &str) -> ProcessApp {
        Self::start_with(db_url, &[], None)
    }

    /// [`Self::start`] with extra `serve` arguments, and with at most `max_files` open
    /// file descriptors (`ulimit -n`, soft and hard) if given.
    pub fn start_with(db_url: &str, args: &[&str], max_files: Option<u32>) -> ProcessApp {
        let mut command = match max_files {
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.arg("-c").arg(format!("ulimit -n {n} && exec \"$0\" \"$@\"")).arg(env!("CARGO_BIN_EXE_gateway"));
                sh
            }
            None => Command::new(env!("CARGO_BIN_EXE_gateway")),
        };
        let mut child = command
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
            .arg(db_url)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gateway binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        ProcessApp { child, base }
    }

    /// Sends a signal (`-KILL`, `-TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(signal).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits (up to `timeout`) for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// Two gateway processes serving one fresh database, as a load-balanced deployment runs
/// them (API section 8). Only PostgreSQL takes several gateways: on a SQLite run
/// [`TwoGateways::start`] says so and gives `None`, and the test passes without running.
pub struct TwoGateways {
    pub a: ProcessApp,
    pub b: ProcessApp,
    // After the processes: they stop before their database is dropped.
    _db: storage::TestDatabase,
}

impl TwoGateways {
    /// Starts both on a new database; `None` on a SQLite run (`test` names the skipped test).
    pub fn start(test: &str) -> Option<TwoGateways> {
        let Some(crate::gateway_pair::Gateways { mut apps, db }) = crate::gateway_pair::Gateways::start(2, &[]) else {
            eprintln!("{test}: skipped");
            return None;
        };
        let (b, a) = (apps.pop()?, apps.pop()?);
        Some(TwoGateways { a, b, _db: db })
    }
}

impl Drop for ProcessApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Takes the complete server-sent events off the front of `buffer` (what a stream has sent
/// so far): each event's id, name and data; comments and a trailing partial event stay.
pub fn take_events(buffer: &mut String) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let (mut id, mut event, mut data) = (String::new(), String::new(), Value::Null);
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                id = v.into();
            } else if let Some(v) = line.strip_prefix("event: ") {
                event = v.into();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = serde_json::from_str(v).unwrap();
            }
        }
        if !id.is_empty() {
            out.push((id, event, data));
        }
    }
    out
}
