#!/usr/bin/env python3
"""Load benchmarks of a release gateway with the oha HTTP load generator.

Starts the gateway on a fresh SQLite file, seeds data, then drives each endpoint for
`--duration` seconds and prints requests/s, p50, p99, errors and the ratio to `/healthz`
measured in the same run (absolute numbers drift on a shared machine; ratios hold).

    python3 bench/bench.py --gateway target/release/gateway [--duration 10] [--only notes]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

EXTRA_ARGS = []
RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def start_gateway(binary, db_path):
    proc = subprocess.Popen(
        [binary, "serve", "--bind", "127.0.0.1:0", "--database-url", db_path] + EXTRA_ARGS,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"},
        text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"gateway did not start: {line!r}")
    return proc, line[len("listening on "):]


def request(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read() or b"null")


def oha(url, connections, duration, method="GET", body=None):
    cmd = ["oha", "-z", f"{duration}s", "-c", str(connections), "--no-tui", "--output-format", "json"]
    if body is not None:
        cmd += ["-m", method, "-T", "application/json", "-d", json.dumps(body)]
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    data = json.loads(out)
    statuses = data.get("statusCodeDistribution", {})
    ok = sum(n for code, n in statuses.items() if code.startswith("2"))
    bad_status = sum(n for code, n in statuses.items() if not code.startswith("2"))
    # oha cuts requests still in flight when the duration ends; those are not failures.
    errors = {k: v for k, v in data.get("errorDistribution", {}).items() if "deadline" not in k}
    pct = data["latencyPercentiles"]
    return {
        "rps": ok / data["summary"]["total"],
        "p50_ms": (pct["p50"] or 0) * 1000,
        "p99_ms": (pct["p99"] or 0) * 1000,
        "ok": ok,
        "failed": bad_status + sum(errors.values()),
        "statuses": statuses,
        "errors": errors,
    }


def report(title, rows, baseline_rps):
    print(f"\n### {title}\n")
    print("| endpoint | conns | req/s | p50 ms | p99 ms | failed | vs /healthz |")
    print("|---|---|---|---|---|---|---|")
    for name, conns, r in rows:
        ratio = r["rps"] / baseline_rps if baseline_rps else 0
        print(f"| `{name}` | {conns} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['failed']} | {ratio:.0%} |")


def bench_notes(base, duration):
    api = f"{base}/api/v1/notes"
    ids = [request("POST", api, {"title": f"seed {i}", "content": f"seeded note number {i} for the benchmark"})["id"] for i in range(200)]
    conns = 64
    rows = []
    health = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz", conns, health))
    rows.append((f"GET /api/v1/notes/{{id}}", conns, oha(f"{api}/{ids[100]}", conns, duration)))
    rows.append(("GET /api/v1/notes?limit=50", conns, oha(f"{api}?limit=50", conns, duration)))
    rows.append(("POST /api/v1/notes", conns, oha(api, conns, duration, "POST", {"title": "bench", "content": "a note written under load"})))
    health_after = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz (again, after)", conns, health_after))
    baseline = (health["rps"] + health_after["rps"]) / 2
    report("Notes (64 connections)", rows, baseline)
    return rows, baseline


SCENARIOS = {"notes": bench_notes}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="target/release/gateway")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--gateway-arg", action="append", default=[], help="extra argument for `gateway serve`")
    args = parser.parse_args()
    EXTRA_ARGS.extend(args.gateway_arg)
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(), "scenarios": {}}
    failed = 0
    for name in args.only or list(SCENARIOS):
        with tempfile.TemporaryDirectory() as tmp:
            proc, base = start_gateway(args.gateway, os.path.join(tmp, "bench.db"))
            try:
                rows, baseline = SCENARIOS[name](base, args.duration)
            finally:
                proc.terminate()
                proc.wait(timeout=15)
        results["scenarios"][name] = {"healthz_rps": baseline, "rows": [{"endpoint": n, "connections": c, **r} for n, c, r in rows]}
        failed += sum(r["failed"] for _, _, r in rows)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"bench-{results['date']}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nraw results: {path}")
    if failed:
        sys.exit(f"{failed} failed requests")


if __name__ == "__main__":
    main()
