"""PostgreSQL writes of two gateway builds side by side: new notes, task PATCHes no-op and real.

    python3 bench/ab_writes.py OLD_GATEWAY NEW_GATEWAY [--duration 8] [--rounds 2]

Each round starts each build (in turn, the order swapped every round) on a fresh database
of one throwaway cluster (bench.py's: scripts/postgres.sh with `synchronous_commit` on),
with `--webhook-delivery off`, then measures `GET /healthz` (64 connections), `POST
/api/v1/notes` (64 connections, the notes scenario's write: one new row), a no-op
`PATCH` of one task (`If-Match: *`, 64 connections: the access checks and the read of a
write, as in the projects scenario) and real `PATCH`es of one team's tasks (16
connections, each toggling its own task's priority: each writes a task, an activity entry
and the team's counter row, as in the webhooks scenario).
"""

import argparse
import subprocess
import time
import urllib.request

import bench_webhooks as hooks
from bench import Postgres, oha


def measure(binary, url, port, duration):
    proc = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--database-url", url,
                             "--webhook-delivery", "off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        hooks.api(base, "POST", "/api/v1/auth/register",
                  {"email": "a@x.io", "display_name": "A", "password": "correct horse battery"})
        token = hooks.api(base, "POST", "/api/v1/auth/login", {"email": "a@x.io", "password": "correct horse battery"})["token"]
        team = hooks.api(base, "POST", "/api/v1/teams", {"name": "T"}, token)["id"]
        project = hooks.api(base, "POST", f"/api/v1/teams/{team}/projects", {"name": "P"}, token)["id"]
        tasks = [hooks.api(base, "POST", f"/api/v1/projects/{project}/tasks", {"title": f"t{i}", "priority": "low"}, token)["id"]
                 for i in range(hooks.PROCESSES * hooks.THREADS)]
        health = oha(base + "/healthz", 64, max(2, duration // 2))
        noop = oha(f"{base}/api/v1/projects/{project}/tasks/{tasks[0]}", 64, duration, "PATCH", {"priority": "low"},
                   headers=[f"Authorization: Bearer {token}", "If-Match: *"])
        real = hooks.strip(hooks.patch_load(base, token, project, tasks, duration, ("high", "urgent")))
        notes = oha(f"{base}/api/v1/notes", 64, duration, "POST", {"title": "t", "content": "a new note"},
                    headers=[f"Authorization: Bearer {token}"])
        return health, notes, noop, real
    finally:
        proc.kill()
        proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    postgres = Postgres()
    try:
        print("| build, round | /healthz req/s | POST /notes (64) req/s | p50 | p99 ms | no-op PATCH (64) req/s | p50 "
              "| p99 ms | real PATCH (16) req/s | p50 | p99 ms | failed |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in range(args.rounds):
            order = [("old", args.old), ("new", args.new)]
            for i, (name, binary) in enumerate(order if r % 2 == 0 else order[::-1]):
                url = postgres.database(f"ab_{name}_{r}")
                health, notes, noop, real = measure(binary, url, 18200 + 2 * r + i, args.duration)
                cells = [f"{m['rps']:,.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f}" for m in (notes, noop, real)]
                failed = notes["failed"] + noop["failed"] + real["failed"]
                print(f"| {name}, {r + 1} | {health['rps']:,.0f} | {' | '.join(cells)} | {failed} |", flush=True)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
