#!/usr/bin/env python3
"""Two gateways on one PostgreSQL database (issue 17 point 6): cross-gateway delivery, CPU per request.

    python3 bench/run_gateways.py --gateway target/release/gateway [--duration 5]
    python3 bench/bench.py --backend postgres --only gateways     (the same, as a bench.py scenario)

Starts a throwaway PostgreSQL cluster (bench.py's `Postgres`: scripts/postgres.sh with
`synchronous_commit` on) and two gateways on one database of it (`--events` left at its
default, `notify` on PostgreSQL, unless `--gateway-arg --events --gateway-arg poll`), then:

1. **Delivery.** A team (an admin and 9 members) with one project and 200 tasks; 1,000
   subscribers of the team's events stream, 500 on each gateway (two `bench/sse-load`
   processes, one per gateway); `--rate` task PATCHes a second for `--duration` seconds
   (at least 10), alternately through gateway 1 and gateway 2. Each write's new title is
   `bench-write <unix ms at send> via-<gateway>`; every subscriber measures receipt minus
   that time for every event (the method of the projects scenario's live part), so the
   delay includes the write's own round trip, and is split by the gateway the write went
   through: on a subscriber of the other gateway that is the cross-gateway delivery.
   Every subscriber must get every written event exactly once, in activity-id order.
2. **CPU per request.** For `GET /healthz`, a task, the team's task list and a task
   PATCH (a new title each time, so every request writes), oha drives both gateways at
   once (`--connections` each) for `--duration` seconds; the CPU time (utime + stime
   from /proc) of each gateway process and of the cluster's PostgreSQL processes
   (the postmaster, its children, and what exited children left in its cutime/cstime)
   is read before and after and divided by the responses served.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SSE_LOAD = os.path.join(HERE, "sse-load", "target", "release", "sse-load")
PASSWORD = "correct horse battery"


def api(base, method, path, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read() or b"null")


def seed(bases, tasks=200, members=9):
    """An admin with a team of `members` more members, one project and `tasks` tasks, made
    through both gateways in turn; returns (token, team, project, task ids)."""
    api(bases[0], "POST", "/api/v1/auth/register", {"email": "bench@x.io", "display_name": "Bench", "password": PASSWORD})
    token = api(bases[1], "POST", "/api/v1/auth/login", {"email": "bench@x.io", "password": PASSWORD})["token"]
    team = api(bases[0], "POST", "/api/v1/teams", {"name": "Gateways"}, token)["id"]
    for i in range(members):
        base = bases[i % 2]
        user = api(base, "POST", "/api/v1/auth/register",
                   {"email": f"member{i}@x.io", "display_name": f"Member {i}", "password": PASSWORD})
        api(base, "POST", f"/api/v1/teams/{team}/members", {"user_id": user["id"], "role": "member"}, token)
    project = api(bases[1], "POST", f"/api/v1/teams/{team}/projects", {"name": "Bench"}, token)["id"]
    ids = [api(bases[i % 2], "POST", f"/api/v1/projects/{project}/tasks", {"title": f"task {i}"}, token)["id"]
           for i in range(tasks)]
    return token, team, project, ids


def percentile(values, q):
    values = sorted(values)
    return values[min(int(len(values) * q), len(values) - 1)] if values else -1.0


def delivery(bases, pids, pg_dir, token, team, project, tasks, seconds, rate, subscribers):
    """Subscribers spread evenly over the gateways, writes alternating between them at a
    steady rate; returns the summary (also printed)."""
    path = f"/api/v1/teams/{team}/events"
    per = subscribers // len(bases)
    clients = []
    for base in bases:
        addr = urllib.parse.urlparse(base).netloc
        clients.append(subprocess.Popen([SSE_LOAD, addr, path, token, str(per), str(per)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for client in clients:
        if client.stdout.readline().strip() != "ready":
            for c in clients:
                c.kill()
            sys.exit("sse-load did not get its subscribers connected")
    time.sleep(2)
    conns = [http.client.HTTPConnection(urllib.parse.urlparse(b).netloc) for b in bases]
    gw_before = [gateway_cpu(p) for p in pids]
    pg_before = postgres_cpu(pg_dir)
    statuses = []
    write_ms = []
    start = time.time()
    for i in range(int(seconds * rate)):
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        g = i % len(bases)
        sent = time.time()
        body = json.dumps({"title": f"bench-write {sent * 1000:.3f} via-{g + 1}"})
        conns[g].request("PATCH", f"/api/v1/projects/{project}/tasks/{tasks[i % len(tasks)]}", body,
                         {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        res = conns[g].getresponse()
        res.read()
        write_ms.append((time.time() - sent) * 1000)
        statuses.append(res.status)
    elapsed = time.time() - start
    time.sleep(3)
    gw_cpu = [gateway_cpu(p) - b for p, b in zip(pids, gw_before)]
    pg_cpu = postgres_cpu(pg_dir) - pg_before
    results = [json.loads(c.communicate("", timeout=120)[0].strip().splitlines()[-1]) for c in clients]
    ok = sum(1 for s in statuses if s == 200)
    complete = sum(1 for r in results for n in r["counts"] if n == ok)
    ordered = sum(r["ordered_unique"] for r in results)
    failed = sum(r["failed"] for r in results)
    print(f"\n### Delivery across gateways: {subscribers} subscribers ({per} per gateway), "
          f"{rate} writes/s alternating for {seconds}s\n")
    print(f"- writes: {ok} answered 200 of {len(statuses)} in {elapsed:.1f}s; "
          f"write round trip p50 {percentile(write_ms, 0.5):.1f} ms, p99 {percentile(write_ms, 0.99):.1f} ms, "
          f"max {max(write_ms):.1f} ms")
    print(f"- subscribers with every event exactly once, in activity-id order: {complete} of {subscribers} "
          f"(in order, none twice: {ordered}; connections that failed: {failed})")
    print("\n| subscribers on | writes through | events received | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    rows = []
    for g, r in enumerate(results):
        for tag, s in sorted(r["by_tag"].items()):
            w = int(tag.split("-")[1])
            where = "same gateway" if w == g + 1 else "**other gateway**"
            print(f"| gateway {g + 1} | gateway {w} ({where}) | {s['samples']} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {s['max_ms']:.1f} |")
            rows.append({"subscribers_on": g + 1, "written_through": w, **s})
    cross = [row for row in rows if row["subscribers_on"] != row["written_through"]]
    print(f"\nCPU during the writes ({elapsed:.1f}s, {ok} writes each delivered to {subscribers} subscribers): "
          f"gateways {gw_cpu[0]:.2f} s and {gw_cpu[1]:.2f} s, PostgreSQL {pg_cpu:.2f} s; "
          f"per write: gateways {sum(gw_cpu) / max(ok, 1) * 1e3:.2f} ms, PostgreSQL {pg_cpu / max(ok, 1) * 1e3:.2f} ms")
    return {"writes": ok, "sent": len(statuses), "complete": complete, "subscribers": subscribers,
            "write_p50_ms": percentile(write_ms, 0.5), "write_p99_ms": percentile(write_ms, 0.99),
            "gateway_cpu_s": gw_cpu, "postgres_cpu_s": pg_cpu, "seconds": elapsed,
            "by_tag": rows, "cross_p99_ms": max((r["p99_ms"] for r in cross), default=-1.0)}


TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
    return int(fields[1]), [int(x) for x in fields[11:15]]


def gateway_cpu(pid):
    _, (utime, stime, _, _) = proc_stat(pid)
    return (utime + stime) / TICK


def postgres_cpu(pg_dir):
    """CPU seconds of the cluster: its postmaster with its exited children's share, and
    every live child (backends, the walwriter, the checkpointer...)."""
    with open(os.path.join(pg_dir, "data", "postmaster.pid")) as f:
        master = int(f.readline())
    _, (utime, stime, cutime, cstime) = proc_stat(master)
    total = utime + stime + cutime + cstime
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, (u, s, _, _) = proc_stat(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
            if ppid == master:
                total += u + s
    return total / TICK


def cpu_per_request(bases, pids, pg_dir, token, team, project, tasks, seconds, connections, oha_cmd, oha_result, tmp):
    """Each load on both gateways at once; returns rows of per-request CPU (also printed)."""
    auth = f"Authorization: Bearer {token}"
    # Every PATCH sets a title no other request sets (an unchanged PATCH writes nothing).
    bodies = os.path.join(tmp, "titles.jsonl")
    with open(bodies, "w") as f:
        for i in range(200_000):
            f.write(json.dumps({"title": f"cpu-write {i}"}) + "\n")
    loads = [
        ("GET /healthz", lambda g, b: oha_cmd(f"{b}/healthz", connections, seconds)),
        ("GET /api/v1/projects/{id}/tasks/{task_id}",
         lambda g, b: oha_cmd(f"{b}/api/v1/projects/{project}/tasks/{tasks[g]}", connections, seconds, headers=[auth])),
        ("GET /api/v1/teams/{id}/tasks?limit=50",
         lambda g, b: oha_cmd(f"{b}/api/v1/teams/{team}/tasks?limit=50", connections, seconds, headers=[auth])),
        # Each gateway's connections write one task of their own (If-Match: * as the
        # projects scenario): the two gateways never touch one row, the team's activity
        # counter excepted, which every write of a team takes.
        ("PATCH /api/v1/projects/{id}/tasks/{task_id} (title)",
         lambda g, b: patch_cmd(oha_cmd(f"{b}/api/v1/projects/{project}/tasks/{tasks[10 + g]}", connections, seconds,
                                        headers=[auth, "If-Match: *", "Content-Type: application/json"]), bodies)),
        # The same with one connection per gateway: two writers of one team seldom collide,
        # so next to no transaction is run twice (the line above shows what retries cost).
        ("same, 1 connection each",
         lambda g, b: patch_cmd(oha_cmd(f"{b}/api/v1/projects/{project}/tasks/{tasks[10 + g]}", 1, seconds,
                                        headers=[auth, "If-Match: *", "Content-Type: application/json"]), bodies)),
    ]
    # What the processes spend with nothing to serve (the events listener, the revocation
    # feed, PostgreSQL's background work), to set against the loads.
    gw_before, pg_before = [gateway_cpu(p) for p in pids], postgres_cpu(pg_dir)
    time.sleep(seconds)
    idle_gw = [(gateway_cpu(p) - b) / seconds for p, b in zip(pids, gw_before)]
    idle_pg = (postgres_cpu(pg_dir) - pg_before) / seconds
    print(f"\nidle, {seconds}s: gateways {idle_gw[0] * 1e3:.1f} and {idle_gw[1] * 1e3:.1f} ms of CPU a second, "
          f"PostgreSQL {idle_pg * 1e3:.1f} ms a second")
    print(f"\n### CPU per request: both gateways at once, {connections} connections each unless said, "
          f"{seconds}s per load\n")
    print("| load | req/s (both) | p50 ms | p99 ms | non-2xx / errors | gateway 1 µs/req | gateway 2 µs/req "
          "| gateways µs/req | PostgreSQL µs/req | PG / gateways |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name, cmd in loads:
        cmds = [cmd(g, b) for g, b in enumerate(bases)]
        gw_before = [gateway_cpu(p) for p in pids]
        pg_before = postgres_cpu(pg_dir)
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for c in cmds]
        outs = [oha_result(p.communicate()[0]) for p in procs]
        gw = [gateway_cpu(p) - b for p, b in zip(pids, gw_before)]
        pg = postgres_cpu(pg_dir) - pg_before
        served = [o["ok"] + o["failed"] for o in outs]
        total = sum(served)
        row = {
            "load": name,
            "rps": sum(o["rps"] for o in outs),
            "p50_ms": max(o["p50_ms"] for o in outs),
            "p99_ms": max(o["p99_ms"] for o in outs),
            "failed": sum(o["failed"] for o in outs),
            "statuses": [o["statuses"] for o in outs],
            "gateway_us": [c / n * 1e6 if n else 0 for c, n in zip(gw, served)],
            "gateways_us": sum(gw) / total * 1e6 if total else 0,
            "postgres_us": pg / total * 1e6 if total else 0,
            "gateway_cpu_s": gw,
            "postgres_cpu_s": pg,
            "requests": total,
        }
        rows.append(row)
        ratio = row["postgres_us"] / row["gateways_us"] if row["gateways_us"] else 0
        print(f"| `{name}` | {row['rps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['failed']} | "
              f"{row['gateway_us'][0]:.0f} | {row['gateway_us'][1]:.0f} | {row['gateways_us']:.0f} | "
              f"{row['postgres_us']:.0f} | {ratio:.2f} |", flush=True)
    print("\nµs/req: CPU time (user + system) the processes spent during the load over the responses served; "
          "'gateways' is both gateway processes together.")
    capacity(rows)
    rows.append({"load": "idle", "gateway_cpu_s_per_s": idle_gw, "postgres_cpu_s_per_s": idle_pg})
    return rows


def patch_cmd(cmd, bodies):
    """oha_cmd's line with each request's body read from `bodies`, one line per request."""
    return cmd[:-1] + ["-m", "PATCH", "-Z", bodies, cmd[-1]]


def capacity(rows):
    """Cores per 10,000 req/s, and gateways per PostgreSQL server of the same size: an
    estimate from CPU time, not a scaling run."""
    print("\nCapacity estimate (CPU time only; 2 shared cores, not a scaling run):\n")
    print("| load | gateway cores per 10k req/s | PostgreSQL cores per 10k req/s | gateways one PostgreSQL of the same size keeps busy |")
    print("|---|---|---|---|")
    for row in rows:
        if row["load"] == "GET /healthz":
            continue
        gw = row["gateways_us"] * 1e4 / 1e6
        pg = row["postgres_us"] * 1e4 / 1e6
        print(f"| `{row['load']}` | {gw:.2f} | {pg:.2f} | {gw / pg if pg else 0:.1f} |")


def run(binary, postgres, duration, start_gateway, oha_cmd, oha_result, rate=50, subscribers=1000, connections=8):
    """The scenario on a fresh database of `postgres`; returns (rows, summary)."""
    url = postgres.database("bench_gateways")
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for _ in range(2):
                procs.append(start_gateway(binary, url))
            bases = [base for _, base in procs]
            print(f"\ngateways: {', '.join(f'{b} (pid {p.pid})' for p, b in procs)} on {url}")
            started = time.time()
            token, team, project, tasks = seed(bases)
            print(f"seeded a team of 10 members with 200 tasks in {time.time() - started:.1f}s")
            pids = [p.pid for p, _ in procs]
            live = delivery(bases, pids, postgres.dir, token, team, project, tasks, max(10, duration), rate, subscribers)
            cpu = cpu_per_request(bases, pids, postgres.dir, token, team, project, tasks, duration,
                                  connections, oha_cmd, oha_result, tmp)
        finally:
            for proc, _ in procs:
                proc.terminate()
                proc.wait(timeout=15)
    return live, cpu
