"""The webhooks scenario of `make bench` (issue 19, point 6): what webhooks cost a write,
how fast deliveries arrive, and that a receiver that fails for a while then recovers gets
every delivery accepted exactly once.

1. The write cost: task PATCHes (each a real change: every connection toggles its own
   task's priority, so every request writes a `task.updated` entry) with 0 webhooks on
   the team, then with 3 (`task.*`, to a receiver on loopback), in turns (ROUNDS of each,
   the webhooks switched off and on between them, so drift falls on both alike), on a gateway started with
   `--webhook-delivery off`: it writes every delivery (the outbox rows, in the write's
   transaction) and sends none, so what is measured is what webhooks add to a write, not
   the sending, signing and receiving that share this machine's two cores. Throughput and
   latency saturated (2 processes x 8 keep-alive connections of this script: oha cannot
   vary a body) and at a steady 50 changes a second; the goal is within 10 %. `/healthz`
   by oha, as in every scenario, for the ratio that survives a noisy machine.
2. The backlog: the gateway restarts on the same database with delivery on and sends
   every delivery the first run wrote (deliveries a second; nothing lost to the restart).
3. Writing and sending at once: the saturating load again, now with the worker sending
   on the same cores; then the delivery latency (an entry's `created_at`, taken inside the
   write, to the delivery's arrival at the receiver; p50, p99, max) of that run (a
   backlog when deliveries are made slower than the writes come) and at a steady 50
   changes a second (250 changes, 750 deliveries), with that PATCH latency.
4. Recovery: the receiver answers 500 for 3 s while 50 changes a second are written, then
   200; once the retries are over, every delivery (by `webhook-id`) was accepted exactly
   once, and the server's deliveries lists say delivered for each.

The gateway runs with `--webhook-allow-private` (the receiver is on loopback) and
`--webhook-retry-base-ms 200` (bench.py's EXTRA_ARGS).
"""

import http.client
import http.server
import json
import multiprocessing
import threading
import time
import urllib.parse
from datetime import datetime

PROCESSES = 2
THREADS = 8
# Turns of 0 and of 3 webhooks in the write-cost run.
ROUNDS = 3


class Receiver:
    """A webhook receiver on a loopback port: records (webhook-id, arrival, body type,
    entry time, status) and answers 500 until `fail_until`, 200 after."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []
        self.fail_until = 0.0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                now = time.time()
                status = 500 if now < owner.fail_until else 200
                payload = json.loads(body)
                created = payload.get("data", {}).get("created_at")
                with owner.lock:
                    owner.got.append((self.headers.get("webhook-id"), now, payload.get("type"), created, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self):
        with self.lock:
            return list(self.got)

    def stop(self):
        self.server.shutdown()


def api(base, method, path, body=None, token=None):
    host = urllib.parse.urlparse(base).netloc
    conn = http.client.HTTPConnection(host)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    if res.status >= 300:
        raise RuntimeError(f"{method} {path}: {res.status} {data[:200]!r}")
    return json.loads(data or b"null")


def _patch_worker(args):
    """One process: THREADS connections, each toggling its own task for `seconds`."""
    base, token, project, tasks, seconds, values = args
    host = urllib.parse.urlparse(base).netloc
    latencies, failed = [], [0]
    lock = threading.Lock()
    deadline = time.time() + seconds

    def loop(task):
        conn = http.client.HTTPConnection(host)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        mine, turn = [], 0
        while time.time() < deadline:
            priority = values[turn % 2]
            turn += 1
            start = time.perf_counter()
            conn.request("PATCH", f"/api/v1/projects/{project}/tasks/{task}", json.dumps({"priority": priority}), headers)
            res = conn.getresponse()
            res.read()
            if res.status == 200:
                mine.append(time.perf_counter() - start)
            else:
                with lock:
                    failed[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=(task,)) for task in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failed[0]


def patch_load(base, token, project, tasks, seconds, values):
    """PATCHes from PROCESSES x THREADS connections, each on its own task, alternating
    its priority between the two `values` (none of them the task's priority before the
    run, so that every request is a change)."""
    chunks = [tasks[i * THREADS:(i + 1) * THREADS] for i in range(PROCESSES)]
    with multiprocessing.Pool(PROCESSES) as pool:
        results = pool.map(_patch_worker, [(base, token, project, chunk, seconds, values) for chunk in chunks])
    latencies = sorted(l for lats, _ in results for l in lats)
    failed = sum(f for _, f in results)
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
    return {"rps": len(latencies) / seconds, "p50_ms": pct(0.50), "p99_ms": pct(0.99), "ok": len(latencies),
            "failed": failed, "statuses": {}, "errors": {}, "seconds": seconds, "latencies": latencies}


def combined(runs):
    """The runs of one kind taken together (requests/s over their time, percentiles over
    all their requests)."""
    latencies = sorted(l for r in runs for l in r["latencies"])
    seconds = sum(r["seconds"] for r in runs)
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
    return {"rps": len(latencies) / seconds, "p50_ms": pct(0.50), "p99_ms": pct(0.99), "ok": len(latencies),
            "failed": sum(r["failed"] for r in runs), "statuses": {}, "errors": {}}


def strip(run):
    return {k: v for k, v in run.items() if k not in ("latencies", "seconds")}


def paced_writes(base, token, project, tasks, count, rate, prefix):
    """`count` task PATCHes (each a new title: a change) at `rate` a second on one
    connection; returns how many succeeded and their latencies (seconds, sorted)."""
    conn = http.client.HTTPConnection(urllib.parse.urlparse(base).netloc)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    start, written, took = time.time(), 0, []
    for i in range(count):
        time.sleep(max(0.0, start + i / rate - time.time()))
        body = json.dumps({"title": f"{prefix} {i}"})
        sent = time.perf_counter()
        conn.request("PATCH", f"/api/v1/projects/{project}/tasks/{tasks[i % len(tasks)]}", body, headers)
        res = conn.getresponse()
        res.read()
        took.append(time.perf_counter() - sent)
        written += res.status == 200
    conn.close()
    return written, sorted(took)


def latencies(received, kind):
    """Arrival minus the entry's created_at of the accepted deliveries of `kind`, sorted."""
    return sorted(at - millis(created) for _, at, what, created, status in received if status == 200 and what == kind)


def summary(delays):
    pct = lambda p: delays[min(len(delays) - 1, int(p * len(delays)))] * 1000
    return {"samples": len(delays), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": delays[-1] * 1000}


def millis(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def wait_for(check, timeout, what):
    start = time.time()
    while not check():
        if time.time() - start > timeout:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def accepted_count(receiver, since=0):
    return sum(1 for r in receiver.received()[since:] if r[4] == 200)


def bench_webhooks(base, duration, db_path, oha, report, request, restart):
    api(base, "POST", "/api/v1/auth/register", {"email": "hooks@x.io", "display_name": "Hooks", "password": "correct horse battery"})
    token = api(base, "POST", "/api/v1/auth/login", {"email": "hooks@x.io", "password": "correct horse battery"})["token"]
    team = api(base, "POST", "/api/v1/teams", {"name": "Hooks"}, token)["id"]
    project = api(base, "POST", f"/api/v1/teams/{team}/projects", {"name": "Bench"}, token)["id"]
    tasks = [api(base, "POST", f"/api/v1/projects/{project}/tasks", {"title": f"task {i}"}, token)["id"]
             for i in range(PROCESSES * THREADS)]
    receiver = Receiver()
    conns = PROCESSES * THREADS
    rows = []
    try:
        # 1. The write cost alone: a gateway that writes deliveries (the outbox) and sends
        # none (`--webhook-delivery off`, as an API-only gateway of several would), so the
        # sending, the signing and the receiver do not take the two cores from the writes.
        base = restart(["--webhook-delivery", "off"])
        health = oha(f"{base}/healthz", conns, duration)
        rows.append(("GET /healthz", conns, health))
        # 0 and 3 webhooks in turns (ROUNDS each, the webhooks switched on and off between
        # them), so that the database's growth and the machine's drift during the run fall
        # on both alike. Rounds toggle between high and low, then between urgent and
        # medium, and so on, so each request is a change.
        hooks = [api(base, "POST", f"/api/v1/teams/{team}/webhooks",
                     {"url": f"{receiver.url}/{name}", "events": ["task.*"]}, token)["id"] for name in "abc"]
        switch = lambda active: [api(base, "PATCH", f"/api/v1/webhooks/{hook}", {"active": active}, token) for hook in hooks]
        turn = max(2, duration // 2)
        zeros, threes = [], []
        for _ in range(ROUNDS):
            switch(False)
            zeros.append(patch_load(base, token, project, tasks, turn, ("high", "low")))
            switch(True)
            threes.append(patch_load(base, token, project, tasks, turn, ("urgent", "medium")))
        zero, three = combined(zeros), combined(threes)
        print(f"\nturns of {turn} s, requests/s: 0 webhooks {[round(r['rps']) for r in zeros]}, "
              f"3 webhooks {[round(r['rps']) for r in threes]}")
        rows.append(("PATCH a task, 0 webhooks", conns, zero))
        rows.append(("PATCH a task, 3 webhooks (written, not sent)", conns, three))
        switch(False)
        _, steady_zero = paced_writes(base, token, project, tasks, 250, 50, "steady without webhooks")
        switch(True)
        written, steady_outbox = paced_writes(base, token, project, tasks, 250, 50, "steady outbox")
        print(f"\nwrite cost of 3 webhooks (deliveries written, sent later): {three['rps'] / zero['rps']:.0%} of the "
              f"throughput with 0, p50 {three['p50_ms'] / zero['p50_ms']:.2f}x, p99 {three['p99_ms'] / zero['p99_ms']:.2f}x")
        if accepted_count(receiver):
            raise RuntimeError("a gateway with --webhook-delivery off sent deliveries")

        # 2. The backlog: the same database under a gateway that sends (as after a restart).
        backlog = 3 * (three["ok"] + written)
        base = restart()
        began = time.time()
        wait_for(lambda: accepted_count(receiver) >= backlog, 300, f"{backlog} deliveries of the backlog")
        drained = time.time() - began
        print(f"backlog of {backlog} deliveries sent after the restart in {drained:.1f} s: {backlog / drained:.0f} a second "
              f"(worker, signing and the Python receiver on the same two cores)")
        rows.append(("backlog sent after a restart, deliveries/s", 1, {"rps": backlog / drained, "p50_ms": 0, "p99_ms": 0,
                     "ok": backlog, "failed": 0, "statuses": {}, "errors": {}}))

        # 3. Writing and sending on the same two cores at once.
        before = len(receiver.received())
        both = strip(patch_load(base, token, project, tasks, duration, ("high", "low")))
        rows.append(("PATCH a task, 3 webhooks, sent meanwhile", conns, both))
        expected = 3 * both["ok"]
        wait_for(lambda: accepted_count(receiver, before) >= expected, 120, f"{expected} deliveries")
        health_after = oha(f"{base}/healthz", conns, duration)
        rows.append(("GET /healthz (again, after)", conns, health_after))
        baseline = (health["rps"] + health_after["rps"]) / 2
        report(f"Webhooks: task PATCHes ({PROCESSES} processes x {THREADS} connections, each toggling its own task)",
               rows, baseline)
        print(f"\nwriting and sending at once: {both['rps'] / zero['rps']:.0%} of the throughput with 0 webhooks, "
              f"p99 {both['p99_ms'] / zero['p99_ms']:.2f}x")
        loaded = summary(latencies(receiver.received()[before:], "task.updated"))
        print(f"delivery latency under that load (entry created_at to arrival, {loaded['samples']} deliveries; "
              f"a backlog when deliveries are made slower than the writes come): p50 {loaded['p50_ms']:.1f} ms, "
              f"p99 {loaded['p99_ms']:.1f} ms, max {loaded['max_ms']:.1f} ms")

        # Delivery latency at a steady 50 changes a second (150 deliveries a second).
        before = len(receiver.received())
        writes, steady_three = paced_writes(base, token, project, tasks, 250, 50, "steady")
        wait_for(lambda: sum(1 for r in receiver.received()[before:] if r[4] == 200) >= 3 * writes, 60, "steady deliveries")
        steady = summary(sorted(at - millis(created) for _, at, kind, created, status in receiver.received()[before:]
                                if status == 200))
        print(f"delivery latency at 50 changes/s x 3 webhooks ({steady['samples']} deliveries): p50 {steady['p50_ms']:.1f} ms, "
              f"p99 {steady['p99_ms']:.1f} ms, max {steady['max_ms']:.1f} ms")
        for label, took in (("0 webhooks", steady_zero), ("3 webhooks, written, not sent", steady_outbox),
                            ("3 webhooks, sent meanwhile", steady_three)):
            write = summary(took)
            print(f"PATCH latency at a steady 50 changes/s, {label}: p50 {write['p50_ms']:.2f} ms, "
                  f"p99 {write['p99_ms']:.2f} ms, max {write['max_ms']:.2f} ms")
            rows.append((f"PATCH at 50/s, {label}", 1, {"rps": 50, "p50_ms": write["p50_ms"], "p99_ms": write["p99_ms"],
                         "ok": write["samples"], "failed": 0, "statuses": {}, "errors": {}}))
        rows.append(("delivery latency, 50 changes/s x 3 webhooks", 1, {"rps": 0, "p50_ms": steady["p50_ms"],
                     "p99_ms": steady["p99_ms"], "ok": steady["samples"], "failed": 0, "statuses": {}, "errors": {}}))

        # Recovery: 500 for 3 s while 50 changes a second are written, then 200.
        before = len(receiver.received())
        receiver.fail_until = time.time() + 3
        writes, _ = paced_writes(base, token, project, tasks, 200, 50, "recovery")
        expected = 3 * writes

        def accepted():
            return [r for r in receiver.received()[before:] if r[4] == 200]

        wait_for(lambda: len({r[0] for r in accepted()}) >= expected, 120, "recovery")
        time.sleep(2)
        ids = [r[0] for r in accepted()]
        failures = sum(1 for r in receiver.received()[before:] if r[4] == 500)
        once = len(ids) == len(set(ids)) == expected
        listed = 0
        for hook in hooks:
            page = api(base, "GET", f"/api/v1/webhooks/{hook}/deliveries?limit=200&count=true", None, token)
            listed += page["total"]
        print(f"recovery: {writes} changes x 3 webhooks = {expected} deliveries; {failures} attempts answered 500; "
              f"{len(set(ids))} webhook-ids accepted, each exactly once: {once}; deliveries the server lists "
              f"(both runs): {listed}")
        rows.append(("recovery: deliveries accepted once", 1, {"rps": 0, "p50_ms": 0, "p99_ms": 0, "ok": len(set(ids)),
                                                               "failed": 0 if once else 1, "statuses": {}, "errors": {}}))
    finally:
        receiver.stop()
    return rows, baseline
