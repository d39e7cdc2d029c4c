//! Server-Sent Events responses (feature `http`): the framing, a keep-alive comment, and an
//! end at server shutdown, for any stream of events a product wants to push.
//!
//! Each event is written as `id:`, `event:` and `data:` lines and a blank line, so a
//! browser's `EventSource` fires a listener per event name and sends the last `id` back as
//! `Last-Event-ID` when it reconnects. A comment line (`: keep-alive`) goes out every
//! [`HEARTBEAT`] while nothing else does, so proxies and load balancers keep idle streams
//! open. The stream ends when its events end or when its [`Ends`] future resolves: the
//! [`Shutdown`] fires (so a graceful shutdown is never held up by open streams; clients
//! reconnect to the next server), or the caller's session is revoked or expires.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures_util::{Stream, StreamExt as _};
use tokio::sync::watch;

/// How often an idle stream sends a comment line.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// What a client's `EventSource` waits before reconnecting (sent as `retry:`).
pub const RETRY_MS: u64 = 2_000;

/// One event of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `id:` (a client's `Last-Event-ID` after a reconnect).
    pub id: String,
    /// `event:`, the listener name on the client.
    pub event: String,
    /// `data:`, usually JSON.
    pub data: String,
}

impl SseEvent {
    /// The event as it goes on the wire. Field values never contain line breaks (they
    /// would end the field); `data` with several lines is split into several `data:` lines.
    pub fn encode(&self) -> Bytes {
        let one_line = |s: &str| s.replace(['\r', '\n'], " ");
        let mut out = format!("id: {}\nevent: {}\n", one_line(&self.id), one_line(&self.event));
        for line in self.data.split('\n') {
            out.push_str("data: ");
            out.push_str(line.strip_suffix('\r').unwrap_or(line));
            out.push('\n');
        }
        out.push('\n');
        Bytes::from(out)
    }
}

/// A signal that the server is shutting down; clones share it. The gateway fires it on
/// SIGTERM/SIGINT (and when stopped), and every open stream ends.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown { sender: std::sync::Arc::new(watch::Sender::new(false)) }
    }
}

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires the signal (once is enough; later calls change nothing).
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// [`Self::triggered`] as a future that owns the signal (for [`sse_response`]).
    pub async fn triggered_owned(self) {
        self.triggered().await;
    }

    /// Resolves once the signal has fired (at once if it already has).
    pub async fn triggered(&self) {
        let mut receiver = self.sender.subscribe();
        // `wait_for` errs only when the sender is gone, which `self` prevents.
        let _ = receiver.wait_for(|fired| *fired).await;
    }
}

/// A boxed stream of encoded events ([`SseEvent::encode`]; an event sent to many
/// streams can be encoded once and shared, `Bytes` clones are cheap).
pub type EventStream = Pin<Box<dyn Stream<Item = Bytes>>>;

/// What ends a stream early: a future that resolves when it must end (the server shuts
/// down, the caller's session is revoked or expires; see
/// [`crate::streams::StreamPermit::until_ended_or`]). It is dropped with the stream, so it
/// may hold the stream's place.
pub type Ends = Pin<Box<dyn Future<Output = ()>>>;

/// A `200 text/event-stream` response that sends `events` with a keep-alive comment every
/// `heartbeat`, ending when `events` ends or `ends` resolves.
pub fn sse_response(
    events: EventStream,
    ends: impl Future<Output = ()> + 'static,
    heartbeat: Duration,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // nginx buffers responses unless told not to; events must leave at once.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(framed(events, Box::pin(ends), heartbeat).map(Ok::<_, actix_web::Error>))
}

/// The bytes of the stream: a `retry:` line, then events and keep-alive comments, until
/// `events` end or `ends` resolves.
pub fn framed(events: EventStream, ends: Ends, heartbeat: Duration) -> impl Stream<Item = Bytes> {
    let hello = Bytes::from(format!("retry: {RETRY_MS}\n: connected\n\n"));
    let state = (events, ends, heartbeat);
    let body = futures_util::stream::unfold(Some(state), |state| async move {
        let (mut events, mut ends, heartbeat) = state?;
        tokio::select! {
            biased;
            () = &mut ends => None,
            next = events.next() => next.map(|event| (event, Some((events, ends, heartbeat)))),
            () = tokio::time::sleep(heartbeat) => {
                Some((Bytes::from_static(b": keep-alive\n\n"), Some((events, ends, heartbeat))))
            }
        }
    });
    futures_util::stream::once(async move { hello }).chain(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, data: &str) -> SseEvent {
        SseEvent { id: id.into(), event: "task.created".into(), data: data.into() }
    }

    #[test]
    fn events_are_framed_as_the_spec_says() {
        assert_eq!(event("7", "{\"a\":1}").encode(), "id: 7\nevent: task.created\ndata: {\"a\":1}\n\n");
        assert_eq!(event("7\n8", "a\r\nb").encode(), "id: 7 8\nevent: task.created\ndata: a\ndata: b\n\n");
    }

    #[actix_rt::test]
    async fn the_stream_sends_events_then_ends_with_them() {
        let events = futures_util::stream::iter([event("1", "x").encode(), event("2", "y").encode()]).boxed_local();
        let out: Vec<Bytes> = framed(events, Box::pin(Shutdown::new().triggered_owned()), HEARTBEAT).collect().await;
        let text: String = out.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
        assert!(text.starts_with("retry: 2000\n"));
        assert!(text.ends_with("id: 1\nevent: task.created\ndata: x\n\nid: 2\nevent: task.created\ndata: y\n\n"));
    }

    #[actix_rt::test]
    async fn idle_streams_get_comments_and_end_at_shutdown() {
        let shutdown = Shutdown::new();
        let never = futures_util::stream::pending::<Bytes>().boxed_local();
        let mut stream =
            Box::pin(framed(never, Box::pin(shutdown.clone().triggered_owned()), Duration::from_millis(20)));
        assert!(stream.next().await.unwrap().starts_with(b"retry:"));
        assert_eq!(stream.next().await.unwrap(), ": keep-alive\n\n");
        shutdown.trigger();
        assert!(shutdown.is_triggered());
        let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await.expect("ends promptly");
        assert_eq!(end, None);
    }
}
