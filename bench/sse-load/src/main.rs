//! `sse-load ADDR PATH TOKEN SUBSCRIBERS PROBES`: opens SUBSCRIBERS event streams on
//! ADDR (host:port) at PATH with a bearer TOKEN, prints `ready` once every stream has
//! its first frame, and reads until its standard input closes. Then it prints one JSON
//! line: per subscriber whether its ids came in order and without repeats and how many
//! there were (-1 for a subscriber whose ids were not); and, from the first PROBES subscribers, the delay from the time written
//! in each event (`"bench-write <unix ms>"`, the writer's send time) to its receipt.
//! A word after the time (`"bench-write <unix ms> via-2"`) is a tag: the delays are also
//! given per tag under `by_tag` (the gateways benchmark tags each write with the gateway it
//! went through, so delivery on the same gateway and across gateways are told apart).

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

struct Outcome {
    events: usize,
    ordered_unique: bool,
    latencies_ms: Vec<(f64, String)>,
}

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

/// The send time a writer put in an event's data, if any, and the tag after it (empty when
/// none). The last mark counts: a change's details hold the old title before the new one.
fn written_at(data: &str) -> Option<(f64, String)> {
    let start = data.rfind("bench-write ")? + "bench-write ".len();
    let rest = &data[start..];
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let sent = rest[..end].parse().ok()?;
    let tag = rest[end..]
        .strip_prefix(' ')
        .map(|t| t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).next().unwrap_or(""))
        .unwrap_or("");
    Some((sent, tag.to_string()))
}

/// p50, p99 and max of sorted delays as JSON fields (-1 when there are none).
fn summary(sorted: &[f64]) -> String {
    let pct = |q: f64| {
        sorted.get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or(-1.0)
    };
    format!(
        "\"samples\": {}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"max_ms\": {:.2}",
        sorted.len(),
        pct(0.5),
        pct(0.99),
        sorted.last().copied().unwrap_or(-1.0)
    )
}

async fn subscribe(
    addr: String,
    path: String,
    token: String,
    probe: bool,
    ready: tokio::sync::mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<Outcome> {
    let mut stream = TcpStream::connect(&addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut outcome = Outcome { events: 0, ordered_unique: true, latencies_ms: Vec::new() };
    let mut last_id = String::new();
    let mut greeted = false;
    loop {
        let n = tokio::select! {
            n = stream.read(&mut chunk) => n?,
            _ = stop.changed() => break,
        };
        if n == 0 {
            break;
        }
        let received = now_ms();
        buf.extend_from_slice(&chunk[..n]);
        // Frames end with a blank line; HTTP chunk-size lines in between are skipped
        // because only `id:` and `data:` lines are read.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            if !greeted && text.contains("retry:") {
                greeted = true;
                let _ = ready.send(()).await;
            }
            for line in text.lines() {
                if let Some(id) = line.strip_prefix("id: ") {
                    // Event ids are UUIDv7 strings of one length: text order is id order.
                    if id <= last_id.as_str() {
                        outcome.ordered_unique = false;
                    }
                    last_id = id.to_string();
                    outcome.events += 1;
                } else if probe {
                    if let Some((sent, tag)) = line.strip_prefix("data: ").and_then(written_at) {
                        outcome.latencies_ms.push((received - sent, tag));
                    }
                }
            }
        }
    }
    Ok(outcome)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: sse-load ADDR PATH TOKEN SUBSCRIBERS PROBES");
        std::process::exit(2);
    }
    let (addr, path, token) = (args[1].clone(), args[2].clone(), args[3].clone());
    let subscribers: usize = args[4].parse().unwrap_or(1000);
    let probes: usize = args[5].parse().unwrap_or(20);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(subscribers.max(1));
    let mut tasks = Vec::with_capacity(subscribers);
    for i in 0..subscribers {
        let task = subscribe(addr.clone(), path.clone(), token.clone(), i < probes, ready_tx.clone(), stop_rx.clone());
        tasks.push(tokio::spawn(task));
    }
    drop(ready_tx);
    for _ in 0..subscribers {
        if ready_rx.recv().await.is_none() {
            break;
        }
    }
    println!("ready");
    // Until the driver closes standard input.
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    let _ = stop_tx.send(true);
    let mut counts = Vec::new();
    let mut ordered = 0;
    let mut failed = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(outcome)) => {
                // -1: ids out of order or repeated.
                let count = if outcome.ordered_unique { outcome.events as i64 } else { -1 };
                counts.push(count.to_string());
                ordered += usize::from(outcome.ordered_unique);
                latencies.extend(outcome.latencies_ms);
            }
            _ => failed += 1,
        }
    }
    let mut by_tag: std::collections::BTreeMap<String, Vec<f64>> = std::collections::BTreeMap::new();
    let mut all: Vec<f64> = Vec::with_capacity(latencies.len());
    for (ms, tag) in latencies {
        all.push(ms);
        if !tag.is_empty() {
            by_tag.entry(tag).or_default().push(ms);
        }
    }
    all.sort_by(f64::total_cmp);
    let tags: Vec<String> = by_tag
        .into_iter()
        .map(|(tag, mut ms)| {
            ms.sort_by(f64::total_cmp);
            format!("\"{tag}\": {{{}}}", summary(&ms))
        })
        .collect();
    println!(
        "{{\"counts\": [{}], \"ordered_unique\": {ordered}, \"failed\": {failed}, {}, \"by_tag\": {{{}}}}}",
        counts.join(","),
        summary(&all),
        tags.join(", ")
    );
}
