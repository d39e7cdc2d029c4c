//! Client-caused protocol errors are warnings, and a flood of them is a few lines.
//!
//! actix-http's HTTP/1 dispatcher answers a request it cannot parse (a bad
//! `Content-Length`, `Content-Length` with `Transfer-Encoding`, a URI the `http` crate
//! refuses, a head over 128 KiB) itself, and then logs `ERROR stream error: ...` for the
//! connection; it offers no hook to change either. Every such line is the client's doing,
//! so a client could fill the log at the rate it can open connections. This `log::Log`
//! wrapper, installed around the server's logger, rewrites those records as `WARN` and
//! lets at most [`PER_SECOND`] of them through per second; the rest are counted, and the
//! next one let through is preceded by a `WARN` line saying how many were suppressed.
//! Every other record passes unchanged.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use log::{Level, Log, Metadata, Record};

/// Protocol error lines written per second at most.
pub const PER_SECOND: u32 = 10;

/// The target of the lines this rewrites (actix-http's HTTP/1 dispatcher and codec).
const PROTOCOL_TARGET: &str = "actix_http::h1";

/// Whether `record` is a per-connection error of actix-http's HTTP/1 layer: a client's
/// malformed request or vanished connection. Failures of our own response bodies
/// ("Response payload stream error") stay errors.
pub fn is_protocol_error(record: &Record<'_>) -> bool {
    record.level() == Level::Error
        && record.target().starts_with(PROTOCOL_TARGET)
        && !record.args().to_string().starts_with("Response payload")
}

/// At most `limit` admissions per one-second window, counting the rest.
#[derive(Debug)]
pub struct Limiter {
    limit: u32,
    window_start: Option<Instant>,
    admitted: u32,
    suppressed: u64,
}

/// What to do with one line.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Write it, after a summary of `suppressed` lines dropped before it (when not 0).
    Write {
        /// Lines dropped since the last one written.
        suppressed: u64,
    },
    /// Drop it (counted for the next summary).
    Drop,
}

impl Limiter {
    /// A limiter of `limit` lines per second.
    pub fn new(limit: u32) -> Self {
        Limiter { limit, window_start: None, admitted: 0, suppressed: 0 }
    }

    /// Decides about a line arriving at `now`.
    pub fn admit(&mut self, now: Instant) -> Admission {
        let fresh = match self.window_start {
            None => true,
            Some(start) => now.saturating_duration_since(start) >= Duration::from_secs(1),
        };
        if fresh {
            self.window_start = Some(now);
            self.admitted = 0;
        }
        if self.admitted < self.limit {
            self.admitted += 1;
            Admission::Write { suppressed: std::mem::take(&mut self.suppressed) }
        } else {
            self.suppressed += 1;
            Admission::Drop
        }
    }
}

/// The server's logger with protocol errors downgraded and rate-limited.
#[derive(Debug)]
pub struct ProtocolLog<L> {
    inner: L,
    limiter: Mutex<Limiter>,
}

impl<L: Log> ProtocolLog<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> Self {
        ProtocolLog { inner, limiter: Mutex::new(Limiter::new(PER_SECOND)) }
    }
}

impl<L: Log> Log for ProtocolLog<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !is_protocol_error(record) {
            self.inner.log(record);
            return;
        }
        // A poisoned lock only means another thread panicked while logging: keep counting.
        let admission = self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner).admit(Instant::now());
        let Admission::Write { suppressed } = admission else { return };
        let warn = |args: std::fmt::Arguments<'_>| {
            let record = Record::builder()
                .args(args)
                .level(Level::Warn)
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build();
            if self.inner.enabled(record.metadata()) {
                self.inner.log(&record);
            }
        };
        if suppressed > 0 {
            warn(format_args!("suppressed {suppressed} similar lines (at most {PER_SECOND} a second are written)"));
        }
        warn(*record.args());
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what reaches it as `LEVEL target] message`.
    #[derive(Debug, Default)]
    struct Capture(Mutex<Vec<String>>);

    impl Log for Capture {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.level() <= Level::Info
        }
        fn log(&self, record: &Record<'_>) {
            self.0.lock().unwrap().push(format!("{} {}] {}", record.level(), record.target(), record.args()));
        }
        fn flush(&self) {}
    }

    fn record<'a>(level: Level, target: &'a str, args: std::fmt::Arguments<'a>) -> Record<'a> {
        Record::builder().level(level).target(target).args(args).build()
    }

    #[test]
    fn only_actix_http_connection_errors_are_protocol_errors() {
        let dispatcher = "actix_http::h1::dispatcher";
        assert!(is_protocol_error(&record(Level::Error, dispatcher, format_args!("stream error: parse error"))));
        assert!(is_protocol_error(&record(Level::Error, dispatcher, format_args!("write zero; closing"))));
        assert!(!is_protocol_error(&record(
            Level::Error,
            dispatcher,
            format_args!("Response payload stream error: x")
        )));
        assert!(!is_protocol_error(&record(Level::Warn, dispatcher, format_args!("stream error: x"))));
        assert!(!is_protocol_error(&record(Level::Error, "core_models::http", format_args!("internal error"))));
    }

    #[test]
    fn the_limiter_admits_a_burst_per_second_and_counts_the_rest() {
        let start = Instant::now();
        let mut limiter = Limiter::new(3);
        let at = |ms: u64| start + Duration::from_millis(ms);
        for ms in [0, 10, 20] {
            assert_eq!(limiter.admit(at(ms)), Admission::Write { suppressed: 0 });
        }
        for ms in [30, 500, 999] {
            assert_eq!(limiter.admit(at(ms)), Admission::Drop);
        }
        assert_eq!(limiter.admit(at(1000)), Admission::Write { suppressed: 3 });
        assert_eq!(limiter.admit(at(1001)), Admission::Write { suppressed: 0 });
    }

    #[test]
    fn protocol_errors_become_rate_limited_warnings_and_the_rest_pass() {
        let log = ProtocolLog::new(Capture::default());
        log.log(&record(Level::Error, "core_models::http", format_args!("internal error: boom")));
        for _ in 0..(PER_SECOND + 5) {
            log.log(&record(Level::Error, "actix_http::h1::dispatcher", format_args!("stream error: bad")));
        }
        let lines = log.inner.0.lock().unwrap().clone();
        assert_eq!(lines[0], "ERROR core_models::http] internal error: boom");
        assert_eq!(lines.len(), 1 + PER_SECOND as usize, "{lines:#?}");
        assert!(lines[1..].iter().all(|l| l == "WARN actix_http::h1::dispatcher] stream error: bad"), "{lines:#?}");
        // The next window starts with the count of what was dropped.
        log.limiter.lock().unwrap().window_start = Some(Instant::now() - Duration::from_secs(2));
        log.log(&record(Level::Error, "actix_http::h1::dispatcher", format_args!("stream error: bad")));
        let lines = log.inner.0.lock().unwrap().clone();
        assert!(lines[lines.len() - 2].starts_with("WARN actix_http::h1::dispatcher] suppressed 5 similar lines"));
    }
}
