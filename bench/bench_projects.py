"""The projects scenario of `make bench`: a team of 1,000 members with 20,000 tasks (of
100,000 over 10 teams) and 500,000 activity entries, seeded straight into SQLite, then
the team-wide task lists, the activity feed, conditional PATCHes, and 1,000 live
subscribers while 50 changes a second are written."""

import json
import os
import subprocess
import sys
import random
import sqlite3
import time
import http.client
import urllib.parse
import urllib.request
import uuid


def uuid7(ms, rng):
    """A UUIDv7 for time `ms` (the seeded rows' ids, time-ordered like the server's)."""
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def entry_id(ms, seq):
    """The public id of activity entry `seq` (see activity_log::entry_id)."""
    value = (ms << 80) | (0x7 << 76) | (0b10 << 62) | seq
    return str(uuid.UUID(int=value))


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
        return json.loads(res.read() or b"null"), dict(res.headers)


def seed(base, db_path):
    rng = random.Random(7)
    me, _ = api(base, "POST", "/api/v1/auth/register", {"email": "bench@x.io", "display_name": "Bench", "password": "correct horse battery"})
    session, _ = api(base, "POST", "/api/v1/auth/login", {"email": "bench@x.io", "password": "correct horse battery"})
    token = session["token"]
    now = int(time.time() * 1000)
    db = sqlite3.connect(db_path, timeout=30)
    db.execute("PRAGMA synchronous = OFF")
    users = [me["id"]] + [uuid7(now - 10_000_000 + i, rng) for i in range(999)]
    db.executemany("INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, 'x', ?)",
                   [(u, f"{u}@x.io", f"{u}@x.io", f"user {i}", now) for i, u in enumerate(users[1:])])
    teams = [uuid7(now - 9_000_000 + i, rng) for i in range(10)]
    db.executemany("INSERT INTO teams (id, name, description, created_at, updated_at) VALUES (?, ?, NULL, ?, ?)", [(t, f"team {i}", now, now) for i, t in enumerate(teams)])
    big = teams[0]
    members = [(big, u, 1 if i == 0 else 0, now) for i, u in enumerate(users)]
    for t in teams[1:]:
        members += [(t, u, 1 if i == 0 else 0, now) for i, u in enumerate(rng.sample(users[1:], 100))]
    db.executemany("INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)", members)
    team_users = {}
    for t, u, _, _ in members:
        team_users.setdefault(t, []).append(u)
    projects = {}
    for ti, t in enumerate(teams):
        projects[t] = [uuid7(now - 8_000_000 + ti * 100 + p, rng) for p in range(20 if t == big else 10)]
        db.executemany("INSERT INTO projects (id, team_id, name, description, archived, created_at, updated_at)"
                       " VALUES (?, ?, ?, NULL, 0, ?, ?)",
                       [(p, t, f"project {i}", now, now) for i, p in enumerate(projects[t])])
    words = ["launch", "design", "review", "deploy", "invoice", "fix", "docs", "release", "meeting", "plan"]
    tasks = []
    my_tasks = []
    for ti, t in enumerate(teams):
        count = 20_000 if t == big else 80_000 // 9 + (1 if ti <= 80_000 % 9 else 0)
        for i in range(count):
            created = now - 5_000_000 + len(tasks) * 10
            tid = uuid7(created, rng)
            assignee = rng.choice(team_users[t]) if rng.random() < 0.8 else None
            if t == big and i % 16 == 0:
                assignee = me["id"]
            due = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if rng.random() < 0.7 else None
            # Board positions: unique per (project, status) because unique overall (base-10
            # digits are base-62 digits; no trailing "0" thanks to the "V").
            tasks.append((tid, t, rng.choice(projects[t]), f"{rng.choice(words)} task {i}", f"seeded {rng.choice(words)}",
                          rng.randint(0, 2), rng.randint(0, 3), due, assignee, users[0], created, created,
                          f"{len(tasks):07d}V"))
            if t == big and assignee == me["id"]:
                my_tasks.append(tid)
    db.executemany(
        "INSERT INTO project_tasks (id, team_id, project_id, title, description, status, priority, due_date, assignee_id,"
        " created_by, created_at, updated_at, position, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        tasks)
    big_tasks = [(t[0], t[2]) for t in tasks if t[1] == big]
    actions = ["task.created", "task.updated", "task.status_changed", "task.assigned", "comment.created"]
    entries = []
    counts = {}
    for seq in range(1, 500_001):
        team = big if seq % 5 != 0 else rng.choice(teams[1:])
        task, project = rng.choice(big_tasks) if team == big else (None, None)
        counts[team] = counts.get(team, 0) + 1
        # Each team numbers its own entries; ids are unique (their exact shape is the
        # server's business: the bench only reads them back).
        public_id = str(uuid.UUID(int=rng.getrandbits(128)))
        entries.append((seq, team, project, task, rng.choice(users[:50]), rng.choice(actions),
                        '{"status":{"from":"todo","to":"done"}}', now - 2_000_000 + seq * 2, counts[team], public_id))
    db.executemany("INSERT INTO activity (seq, team_id, project_id, task_id, actor_id, action, details, created_at,"
                   " team_seq, public_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
    db.executemany("INSERT INTO activity_counters (team_id, last_seq) VALUES (?, ?)", list(counts.items()))
    db.execute("INSERT OR REPLACE INTO sqlite_sequence (name, seq) VALUES ('activity', 500000)")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return token, big, projects[big], big_tasks, my_tasks


def deep_url(base, path, token, pages=20):
    url = path
    for _ in range(pages):
        page, _ = api(base, "GET", url, token=token)
        url = f"{path}&cursor={page['next_cursor']}"
    return url


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


SSE_LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sse-load", "target", "release", "sse-load")


def live(base, token, team, project, task_ids, seconds, pid, subscribers=1000, rate=50):
    """1,000 subscribers (bench/sse-load, one small Rust process: a Python client was
    itself the bottleneck at 50,000 events a second) while `rate` PATCHes a second are
    written; every subscriber must get every event, in order, none twice."""
    host, port = urllib.parse.urlparse(base).hostname, urllib.parse.urlparse(base).port
    path = f"/api/v1/teams/{team}/events"
    client = subprocess.Popen([SSE_LOAD, f"{host}:{port}", path, token, str(subscribers), "20"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if client.stdout.readline().strip() != "ready":
        client.kill()
        sys.exit("sse-load did not get its subscribers connected")
    time.sleep(2)
    rss_before = rss_mb(pid)
    written = []
    conn = http.client.HTTPConnection(host, port)
    start = time.time()
    for i in range(int(seconds * rate)):
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        task, proj = task_ids[i % len(task_ids)]
        body = json.dumps({"title": f"bench-write {time.time() * 1000:.3f}"})
        conn.request("PATCH", f"/api/v1/projects/{proj}/tasks/{task}", body,
                     {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        res = conn.getresponse()
        res.read()
        written.append(res.status)
    time.sleep(3)
    rss_peak = rss_mb(pid)
    out, _ = client.communicate("", timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    ok_writes = sum(1 for s in written if s == 200)
    complete = sum(1 for n in result["counts"] if n == ok_writes)
    print(f"\n### Live: {subscribers} subscribers, {rate} changes/s for {seconds}s\n")
    print(f"- writes: {ok_writes} ok of {len(written)}")
    print(f"- subscribers with every event, in order, none twice: {complete} of {subscribers} "
          f"(in order and none twice: {result['ordered_unique']}; connections that failed: {result['failed']})")
    print(f"- commit-to-delivery (write sent to event received, {result['samples']} samples from 20 subscribers): "
          f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms")
    print(f"- gateway RSS: {rss_before:.0f} MB with the subscribers idle, {rss_peak:.0f} MB after the writes")
    return {"writes": ok_writes, "complete": complete, "subscribers": subscribers, "p99_ms": result["p99_ms"], "rss_mb": rss_peak}


def bench_projects(base, duration, db_path, pid, oha, report, request, move=None):
    """`pid[0]` is the gateway's process id; `move`, on PostgreSQL, moves the seeded SQLite
    data there and returns the PostgreSQL gateway's base URL (bench.py's MOVE)."""
    started = time.time()
    token, team, projects, big_tasks, my_tasks = seed(base, db_path)
    print(f"\nseeded 1,000 users, 10 teams, 100,000 tasks, 500,000 activity entries in {time.time() - started:.1f}s")
    if move is not None:
        base = move()
    pid = pid[0]
    auth = [f"Authorization: Bearer {token}"]
    tasks = f"/api/v1/teams/{team}/tasks"
    filtered = f"{tasks}?status=todo,in_progress&priority=high,urgent&sort=due_date&limit=50"
    mine = f"{tasks}?assignee=me&sort=-priority&limit=50"
    feed = f"/api/v1/teams/{team}/activity?limit=50"
    deep_filtered = deep_url(base, filtered, token)
    deep_mine = deep_url(base, mine, token, pages=min(20, len(my_tasks) // 50 - 1))
    conns = 16
    rows = []
    health = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz", conns, health))
    first = oha(base + filtered, conns, duration, headers=auth)
    rows.append((f"GET {filtered}", conns, first))
    deep = oha(base + deep_filtered, conns, duration, headers=auth)
    rows.append(("same, page 21 (1,000 rows deep)", conns, deep))
    mine_first = oha(base + mine, conns, duration, headers=auth)
    rows.append((f"GET {mine}", conns, mine_first))
    mine_deep = oha(base + deep_mine, conns, duration, headers=auth)
    rows.append(("same, deepest page", conns, mine_deep))
    rows.append((f"GET {feed}", conns, oha(base + feed, conns, duration, headers=auth)))
    task, project = big_tasks[123]
    patch = oha(f"{base}/api/v1/projects/{project}/tasks/{task}", 64, duration, "PATCH", {"priority": "high"},
                headers=auth + ['If-Match: *'])
    rows.append(("PATCH /api/v1/projects/{id}/tasks/{task_id} (If-Match: *)", 64, patch))
    health_after = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz (again, after)", conns, health_after))
    baseline = (health["rps"] + health_after["rps"]) / 2
    report("Projects (team of 1,000 members, 20,000 tasks; 16 connections unless said)", rows, baseline)
    print(f"\ndeep page / first page p99: filtered {deep['p99_ms'] / first['p99_ms']:.2f}x, "
          f"assignee=me {mine_deep['p99_ms'] / mine_first['p99_ms']:.2f}x")
    live_result = live(base, token, team, projects, big_tasks[:500], max(10, duration), pid)
    rows.append(("live subscribers", 1000, {"rps": 0, "p50_ms": 0, "p99_ms": live_result["p99_ms"], "ok": live_result["writes"],
                                             "failed": live_result["subscribers"] - live_result["complete"], "statuses": {}, "errors": {}}))
    return rows, baseline
