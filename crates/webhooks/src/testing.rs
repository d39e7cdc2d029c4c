//! A webhook receiver for tests: an HTTP server on a loopback port that records every
//! delivery (its `webhook-*` headers and body) and answers with the statuses it is told.

#![allow(clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// One request the receiver got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// The body.
    pub body: String,
    /// The status it was answered with.
    pub status: u16,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// The body's `type`.
    pub fn action(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_string()
    }
}

#[derive(Debug, Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<u16>,
    otherwise: u16,
}

/// A running receiver; stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    /// Its URL (`http://127.0.0.1:<port>/hook`).
    pub url: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    /// Starts a receiver that answers 200.
    pub fn start() -> Receiver {
        let state = Arc::new(Mutex::new(State { otherwise: 200, ..State::default() }));
        let (sender, started) = std::sync::mpsc::channel();
        let shared = state.clone();
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new().app_data(web::Data::new(shared.clone())).default_service(web::to(receive))
                })
                .workers(1)
                .bind("127.0.0.1:0")
                .expect("a loopback port");
                let port = server.addrs()[0].port();
                let server = server.run();
                sender.send((port, server.handle())).expect("the test waits");
                let _ = server.await;
            });
        });
        let (port, server) = started.recv().expect("the receiver starts");
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), state, server }
    }

    /// Answers the next requests with `statuses`, then as before.
    pub fn answer(&self, statuses: &[u16]) {
        self.state.lock().expect("state").script.extend(statuses);
    }

    /// Answers every request (once the script is used up) with `status`.
    pub fn always(&self, status: u16) {
        self.state.lock().expect("state").otherwise = status;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("state").received.clone()
    }

    /// Waits (polling) until `done` holds for what was received, or panics after `timeout`.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(start.elapsed() < timeout, "the receiver waited {timeout:?} in vain; it got {received:#?}");
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until at least `n` requests were answered 2xx.
    pub async fn wait_for_delivered(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let all = self.wait_until(timeout, |r| r.iter().filter(|r| r.status < 300).count() >= n).await;
        all.into_iter().filter(|r| r.status < 300).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<Mutex<State>>>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut state = state.lock().expect("state");
    let status = state.script.pop_front().unwrap_or(state.otherwise);
    state.received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK))
        .body("ignored")
}
