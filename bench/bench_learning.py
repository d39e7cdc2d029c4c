"""The learning scenario of `make bench`: 5,000 users, 50,000 challenges over 200 tags and
20 topics, 1,000 paths of 10-50 challenges, 500,000 completions and 100,000 ratings,
seeded straight into SQLite (the triggers keep the aggregates, which are then checked
against direct counts), then the browses of the issue's bars, progress, and PUT
completion by 64 users at once."""

import base64
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
import uuid

USERS = 5_000
CHALLENGES = 50_000
TAGS = 200
TOPICS = 20
PATHS = 1_000
COMPLETIONS = 500_000
RATINGS = 100_000
HEAVY_COMPLETIONS = 2_000
HEAVY_PATHS = 50
WRITERS = 16
WRITE_CONNECTIONS = 64


def uuid7(ms, rng):
    """A UUIDv7 for time `ms` (the seeded rows' ids, time-ordered like the server's)."""
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def token(rng):
    """A bearer token and the hash the tokens table keeps (see accounts::token)."""
    raw = bytes(rng.getrandbits(8) for _ in range(32))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), hashlib.sha256(raw).digest()


def api(base, path, token_=None):
    req = urllib.request.Request(base + path)
    if token_:
        req.add_header("Authorization", f"Bearer {token_}")
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read())


CONSISTENCY = """
SELECT
 (SELECT count(*) FROM challenges c WHERE c.completion_count <> (SELECT count(*) FROM completions k WHERE k.challenge_id = c.id)),
 (SELECT count(*) FROM challenges c WHERE c.rating_count <> (SELECT count(*) FROM ratings r WHERE r.challenge_id = c.id)
     OR c.rating_sum <> (SELECT coalesce(sum(stars), 0) FROM ratings r WHERE r.challenge_id = c.id)),
 (SELECT count(*) FROM learning_paths p WHERE p.challenge_count <> (SELECT count(*) FROM path_challenges x WHERE x.path_id = p.id)),
 (SELECT count(*) FROM challenge_tags x JOIN challenges c ON c.id = x.challenge_id
   WHERE x.rating_key <> c.rating_key OR x.difficulty <> c.difficulty),
 (SELECT count(*) FROM tags t WHERE t.challenge_count <> (SELECT count(*) FROM challenge_tags x WHERE x.tag = t.tag)),
 (SELECT count(*) FROM enrollments e WHERE e.completed_count <> (SELECT count(*) FROM path_challenges pc
     JOIN completions k ON k.challenge_id = pc.challenge_id WHERE pc.path_id = e.path_id AND k.user_id = e.user_id))
"""

# The tag rows' popularity keys (migration 2026-12-07-000200): one per tag row, holding
# its challenge's count.
POPULARITY = """
SELECT
 (SELECT count(*) FROM challenge_tag_popularity p JOIN challenges c ON c.id = p.challenge_id
   WHERE p.completion_count <> c.completion_count)
   + abs((SELECT count(*) FROM challenge_tag_popularity) - (SELECT count(*) FROM challenge_tags))
"""


def seed(db_path):
    rng = random.Random(8)
    now = int(time.time() * 1000)
    db = sqlite3.connect(db_path, timeout=30)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA foreign_keys = ON")
    # Keep the whole working set in memory: one transaction writes every row.
    db.execute("PRAGMA cache_size = -400000")
    users = [uuid7(now - 20_000_000 + i, rng) for i in range(USERS)]
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?, 'x', ?)",
                   [(u, f"{u}@x.io", f"{u}@x.io", f"learner {i}", now) for i, u in enumerate(users)])
    # Bearer tokens for the heavy user (index 0) and the writers.
    tokens = []
    for u in users[:WRITERS + 1]:
        secret, digest = token(rng)
        db.execute("INSERT INTO tokens (token_hash, user_id, created_at, expires_at, id, last_used_at)"
                   " VALUES (?, ?, ?, ?, ?, ?)", (digest, u, now, now + 86_400_000, str(uuid.uuid4()), now))
        tokens.append(secret)
    tags = ["python"] + [f"tag{i:03d}" for i in range(1, TAGS)]
    # Popular tags are more common (python, the first, on about 5% of challenges).
    tag_weights = [1 / (1 + i) ** 0.6 for i in range(TAGS)]
    topics = ["algorithms"] + [f"topic{i:02d}" for i in range(1, TOPICS)]
    words = ["list", "tree", "graph", "string", "array", "sort", "search", "cache", "parse", "stream"]
    challenges = []
    for i in range(CHALLENGES):
        created = now - 10_000_000 + i * 100
        cid = uuid7(created, rng)
        chosen = sorted(set(rng.choices(tags, tag_weights, k=rng.randint(1, 5))))
        challenges.append((cid, f"{rng.choice(words)} {rng.choice(words)} challenge {i}",
                           f"Solve the {rng.choice(words)} problem number {i}", rng.randint(0, 3), rng.choice(topics),
                           json.dumps(chosen), rng.choice(users), created, created))
    db.executemany("INSERT INTO challenges (id, title, description, difficulty, topic, tags, author_id, created_at,"
                   " updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", challenges)
    ids = [c[0] for c in challenges]
    # Completions: the heavy user completes 2,000; the rest spread over everyone else.
    pairs = set()
    heavy = users[0]
    for cid in rng.sample(ids, HEAVY_COMPLETIONS):
        pairs.add((heavy, cid))
    while len(pairs) < COMPLETIONS:
        pairs.add((users[rng.randrange(1, USERS)], ids[rng.randrange(CHALLENGES)]))
    pairs = sorted(pairs)
    completions = [(uuid7(now - 5_000_000 + i, rng), cid, u, None, now - 5_000_000 + i) for i, (u, cid) in enumerate(pairs)]
    # Triggers move completion counts and rating sums as the rows go in; the tag rows are
    # written after, copying the final sort keys.
    db.executemany("INSERT INTO completions VALUES (?, ?, ?, ?, ?)", completions)
    rated = rng.sample(pairs, RATINGS)
    db.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?)",
                   [(cid, u, rng.choices([1, 2, 3, 4, 5], [1, 2, 4, 6, 4])[0], now) for u, cid in rated])
    # A database of a build before migration 2026-12-07-000200 (an A/B run's old build)
    # still copies the completion count onto the tag rows.
    old_tags = any(row[1] == "completion_count" for row in db.execute("PRAGMA table_info(challenge_tags)"))
    count = ", completion_count" if old_tags else ""
    db.executemany(f"INSERT INTO challenge_tags (challenge_id, tag, difficulty, rating_key, created_at, title_key{count})"
                   f" SELECT id, ?, difficulty, rating_key, created_at, title{count} FROM challenges WHERE id = ?",
                   [(t, c[0]) for c in challenges for t in json.loads(c[5])])
    paths = []
    for i in range(PATHS):
        created = now - 9_000_000 + i * 1000
        paths.append((uuid7(created, rng), f"path {i}", f"Learn {rng.choice(words)}", rng.choice(topics), rng.choice(users), created, created))
    db.executemany("INSERT INTO learning_paths (id, title, description, topic, author_id, created_at, updated_at, version)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, 1)", paths)
    rows = []
    for p in paths:
        for pos, cid in enumerate(rng.sample(ids, rng.randint(10, 50))):
            rows.append((p[0], pos, cid))
    db.executemany("INSERT INTO path_challenges VALUES (?, ?, ?)", rows)
    enrolled = {(heavy, p[0]) for p in rng.sample(paths, HEAVY_PATHS)}
    while len(enrolled) < 20_000:
        enrolled.add((rng.choice(users[1:]), rng.choice(paths)[0]))
    # An enrolment's progress counters start from the learner's completions (by trigger).
    db.executemany("INSERT INTO enrollments (user_id, path_id, enrolled_at) VALUES (?, ?, ?)", [(u, p, now) for u, p in enrolled])
    db.commit()
    bad = db.execute(CONSISTENCY).fetchone()
    if not old_tags:
        bad += db.execute(POPULARITY).fetchone()
    counts = db.execute("SELECT (SELECT count(*) FROM challenge_tags), (SELECT challenge_count FROM tags WHERE tag = 'python'),"
                        " (SELECT count(*) FROM path_challenges)").fetchone()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    if any(bad):
        raise SystemExit(f"seeded aggregates disagree with the rows: {bad}")
    print(f"aggregates agree with the seeded rows (completion counts, ratings, path and tag counts, tag sort keys and popularity keys, enrolment progress); "
          f"{counts[0]:,} tag rows, python on {counts[1]:,} challenges, {counts[2]:,} path entries")
    return tokens, ids


def deep_url(base, path, token_=None, pages=20):
    url = path
    for _ in range(pages):
        page = api(base, url, token_)
        url = f"{path}&cursor={page['next_cursor']}"
    return url


def many_writers(base, tokens, ids, duration, conns):
    """PUT completion by `len(tokens)` users at once (one oha per user: a token per process),
    `conns` connections in all, each over 2,000 challenges; p50/p99 over every request of
    all of them (each oha records its requests in SQLite). Not one oha per connection: 64
    load generators on two cores measure the generators."""
    rng = random.Random(9)
    targets = rng.sample(ids, 2_000)
    # `[.]`, not `\.`: oha's URL generator does not take the escape as a literal dot.
    pattern = f"{base}/api/v1/learning/challenges/({'|'.join(targets)})/completion".replace(".", "[.]")
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        per = max(1, conns // len(tokens))
        for i, secret in enumerate(tokens):
            db = os.path.join(tmp, f"w{i}.db")
            cmd = ["oha", "-z", f"{duration}s", "-c", str(per), "--no-tui", "--output-format", "json", "--rand-regex-url",
                   "-m", "PUT", "-T", "application/json", "-d", json.dumps({"solution": "print('done')"}),
                   "-H", f"Authorization: Bearer {secret}", "--db-url", db, pattern]
            procs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True), db))
        ok = failed = 0
        durations = []
        total = 0.0
        for proc, db in procs:
            out, _ = proc.communicate()
            data = json.loads(out)
            statuses = data.get("statusCodeDistribution", {})
            ok += sum(n for code, n in statuses.items() if code.startswith("2"))
            failed += sum(n for code, n in statuses.items() if not code.startswith("2"))
            failed += sum(v for k, v in data.get("errorDistribution", {}).items() if "deadline" not in k)
            total = max(total, data["summary"]["total"])
            con = sqlite3.connect(db)
            durations += [row[0] for row in con.execute("SELECT duration FROM oha")]
            con.close()
    durations.sort()
    pick = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))] * 1000 if durations else float("nan")
    return {"rps": ok / total if total else 0, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "ok": ok, "failed": failed,
            "statuses": {}, "errors": {}}


def bench_learning(base, duration, db_path, oha, report, move=None):
    """`move`, on PostgreSQL, moves the seeded SQLite data there and returns the
    PostgreSQL gateway's base URL (bench.py's MOVE)."""
    started = time.time()
    tokens, ids = seed(db_path)
    print(f"\nseeded {USERS:,} users, {CHALLENGES:,} challenges ({TAGS} tags, {TOPICS} topics), {PATHS:,} paths, "
          f"{COMPLETIONS:,} completions, {RATINGS:,} ratings in {time.time() - started:.1f}s")
    if move is not None:
        base = move()
    heavy = tokens[0]
    auth = [f"Authorization: Bearer {heavy}"]
    api_base = "/api/v1/learning"
    tag = f"{api_base}/challenges?tag=python&sort=difficulty&limit=50"
    deep_tag = deep_url(base, tag)
    rating = f"{api_base}/challenges?topic=algorithms&sort=-rating&limit=50"
    popular = f"{api_base}/challenges?topic=algorithms&sort=-popularity&limit=50"
    not_done = f"{api_base}/challenges?completed=false&sort=-popularity&limit=50"
    progress = f"{api_base}/me/progress"
    enrolled = len(api(base, progress, heavy)["items"])
    conns = 16
    rows = []
    health = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz", conns, health))
    first = oha(base + tag, conns, duration)
    rows.append((f"GET {tag}", conns, first))
    deep = oha(base + deep_tag, conns, duration)
    rows.append(("same, page 21 (1,000 rows deep)", conns, deep))
    rows.append((f"GET {rating}", conns, oha(base + rating, conns, duration)))
    rows.append((f"GET {popular}", conns, oha(base + popular, conns, duration)))
    rows.append((f"GET {not_done} (a user with {HEAVY_COMPLETIONS:,} completions)", conns,
                 oha(base + not_done, conns, duration, headers=auth)))
    rows.append((f"GET {progress} (enrolled in {enrolled} paths)", conns, oha(base + progress, conns, duration, headers=auth)))
    writes = many_writers(base, tokens[1:WRITERS + 1], ids, duration, WRITE_CONNECTIONS)
    per = WRITE_CONNECTIONS // WRITERS
    rows.append((f"PUT {api_base}/challenges/{{id}}/completion ({WRITERS} users x {per} connections)", WRITE_CONNECTIONS, writes))
    health_after = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz (again, after)", conns, health_after))
    baseline = (health["rps"] + health_after["rps"]) / 2
    report("Learning (50,000 challenges, 500,000 completions; 16 connections unless said)", rows, baseline)
    print(f"\ndeep page / first page p99: tag=python&sort=difficulty {deep['p99_ms'] / first['p99_ms']:.2f}x")
    return rows, baseline
