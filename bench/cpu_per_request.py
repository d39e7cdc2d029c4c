#!/usr/bin/env python3
"""Gateway CPU per request of the learning reads, for two or more gateway builds side by side.

    python3 bench/cpu_per_request.py GATEWAY [GATEWAY ...] [--db SEEDED.db] [--rounds 6]

On a shared, noisy machine req/s and p99 move by tens of percent from run to run; the CPU
time the gateway process spends per request (utime + stime from /proc/<pid>/stat) moves
much less, above all with one connection (no lock waits, no queueing). Each gateway
serves its own copy of one seeded learning database (bench_learning's data: 50,000
challenges, 500,000 completions); the builds take turns, `--rounds` times, each turn 2,000
requests from `oha -c 1`, and the median turn is printed. `--db` reuses (or, if missing,
creates) a seeded file, so later comparisons skip the minute of seeding; its tokens and
ids are kept beside it in `<db>.json`.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_learning  # noqa: E402

API = "/api/v1/learning"


def start(binary, db):
    proc = subprocess.Popen([binary, "serve", "--bind", "127.0.0.1:0", "--database-url", db],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"},
                            text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"{binary} did not start: {line!r}")
    return proc, line[len("listening on "):]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seeded(db, binary):
    """The seeded database at `db` (seeded now through `binary`'s migrations if missing)."""
    meta_path = db + ".json"
    if not (os.path.exists(db) and os.path.exists(meta_path)):
        proc, _ = start(binary, db)
        try:
            tokens, ids = bench_learning.seed(db)
        finally:
            proc.terminate()
            proc.wait()
        with open(meta_path, "w") as f:
            json.dump({"tokens": tokens, "ids": ids[:10]}, f)
    with open(meta_path) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gateways", nargs="+")
    parser.add_argument("--db", help="seeded database to reuse (created if missing)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or os.path.join(tmp, "seed.db")
        meta = seeded(db, args.gateways[0])
        token = meta["tokens"][0]
        procs = []
        try:
            for i, binary in enumerate(args.gateways):
                copy = os.path.join(tmp, f"copy{i}.db")
                shutil.copy(db, copy)
                procs.append(start(binary, copy))
            base = procs[0][1]
            with urllib.request.urlopen(f"{base}{API}/paths?limit=1") as res:
                path = json.loads(res.read())["items"][0]["id"]
            tag = f"{API}/challenges?tag=python&sort=difficulty&limit=50"
            deep = bench_learning.deep_url(base, tag)
            reads = [
                ("GET /healthz", "/healthz", None),
                ("tag=python&sort=difficulty", tag, None),
                ("same, page 21", deep, None),
                ("topic=algorithms&sort=-rating", f"{API}/challenges?topic=algorithms&sort=-rating&limit=50", None),
                ("topic=algorithms&sort=-popularity", f"{API}/challenges?topic=algorithms&sort=-popularity&limit=50",
                 None),
                ("completed=false&sort=-popularity (login)",
                 f"{API}/challenges?completed=false&sort=-popularity&limit=50", token),
                ("tag=python&sort=difficulty (login)", tag, token),
                ("the newest path", f"{API}/paths/{path}", None),
                ("the newest path (login)", f"{API}/paths/{path}", token),
                ("one challenge", f"{API}/challenges/{meta['ids'][0]}", None),
            ]
            names = [os.path.basename(g) for g in args.gateways]
            print(f"| read | {' | '.join(names)} |")
            print(f"|---|{'---|' * len(names)}")
            for label, url, auth in reads:
                headers = ["-H", f"Authorization: Bearer {auth}"] if auth else []
                turns = [[] for _ in procs]
                for proc, base_url in procs:
                    subprocess.run(["oha", "-n", "500", "-c", "1", "--no-tui", *headers, base_url + url],
                                   check=True, capture_output=True)
                for _ in range(args.rounds):
                    for i, (proc, base_url) in enumerate(procs):
                        before = cpu_seconds(proc.pid)
                        subprocess.run(["oha", "-n", str(args.requests), "-c", "1", "--no-tui", *headers,
                                        base_url + url], check=True, capture_output=True)
                        turns[i].append((cpu_seconds(proc.pid) - before) / args.requests * 1e6)
                medians = [f"{statistics.median(t):.0f} µs" for t in turns]
                print(f"| {label} | {' | '.join(medians)} |", flush=True)
        finally:
            for proc, _ in procs:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    main()
