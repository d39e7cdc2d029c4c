"""The search scenario of `make bench` (issue 10, point 3): 100,000 tasks and 100,000
notes on the anonymous board, seeded through the API, with a word in 90% of them
("weekly"), one in 10% ("monthly") and one in 0.05% ("urgent"), plus one of 640 filler
words that share 16 two-letter prefixes (40 words each: more than a prefix is expanded to).

1. Honest searches at 16 connections: a frequent word newest first (the plan walks the
   sort index), by title, a word in 10%, and a rare word (the plan leads with the matches).
2. Attackers: 16 connections sending the worst searches they can, while 4 connections
   read one note (`GET /notes/{id}`) or `/healthz` at the same time; the same reads
   without attackers for comparison.
"""

import time

PREFIXES = ["al", "be", "co", "de", "ex", "fi", "ga", "ho", "in", "ju", "ke", "lo", "mi", "no", "op", "pr"]
FILLER = [f"{p}v{j}" for p in PREFIXES for j in range(40)]


def words(rng, i):
    """The words of seeded item `i`: 'weekly' in 90%, 'monthly' in 10%, 'urgent' in 0.05%."""
    found = ["weekly" if i % 10 else "monthly", rng.choice(FILLER)]
    if i % 2000 == 0:
        found.append("urgent")
    return " " + " ".join(found)


def bench_search(base, duration, db_path, seed, seed_tasks, oha, oha_together, report, request, settle):
    count = 100_000
    started = time.time()
    seed_tasks(base, count, words=words)
    note_ids = seed(base, "/api/v1/notes", count,
                    lambda rng, i: {"title": f"note {i}", "content": f"seeded note number {i}{words(rng, i)}"})
    print(f"\nseeded {count} tasks and {count} notes in {time.time() - started:.1f}s")
    settle()
    # The writer tidies the full-text indexes once idle (storage::search::Upkeep).
    time.sleep(3)
    conns = 16
    rows = []
    health = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz", conns, health))
    checks = {}
    for product, sorts in (("tasks", ("-created_at", "title")), ("notes", ("-created_at", "title"))):
        api = f"{base}/api/v1/{product}"
        for q, sort in [("weekly", sorts[0]), ("weekly", sorts[1]), ("monthly", sorts[0]), ("urgent", sorts[0])]:
            url = f"{api}?q={q}&sort={sort}&limit=50"
            page = request("GET", url)
            checks[f"{product} q={q} sort={sort}"] = len(page["items"])
            rows.append((f"GET /api/v1/{product}?q={q}&sort={sort}&limit=50", conns, oha(url, conns, duration)))
    health_after = oha(f"{base}/healthz", conns, duration)
    rows.append(("GET /healthz (again, after)", conns, health_after))
    baseline = (health["rps"] + health_after["rps"]) / 2
    report(f"Search ({count} tasks, {count} notes, 16 connections)", rows, baseline)
    print("\npage sizes:", checks)

    # Attackers beside a reader of one note and of /healthz, 4 connections each.
    note = f"{base}/api/v1/notes/{note_ids[count // 2]}"
    notes = f"{base}/api/v1/notes"
    attacks = [
        ("16 two-letter prefixes (each stands for 40 words)", f"{notes}?q={'+'.join(PREFIXES)}&limit=50"),
        ("16 frequent words, two never together", f"{notes}?q=weekly+monthly+seeded+note+number" + "+weekly" * 11 + "&limit=50"),
        ("frequent prefix + rare word, by title", f"{notes}?q=we+ur&sort=title&limit=50"),
        ("240 one-letter words (422)", f"{notes}?q={'+'.join(['a'] * 240)}&limit=50"),
    ]
    victims = 4
    attack_rows = []
    quiet_note = oha(note, victims, duration)
    quiet_health = oha(f"{base}/healthz", victims, duration)
    attack_rows.append(("GET /notes/{id}, no attack", victims, quiet_note))
    attack_rows.append(("GET /healthz, no attack", victims, quiet_health))
    for name, url in attacks:
        status = None
        try:
            request("GET", url)
            status = 200
        except Exception as e:  # urllib raises on 4xx/5xx
            status = getattr(e, "code", repr(e))
        attacker, victim = oha_together([(url, conns, duration), (note, victims, duration)])
        attacker2, health_victim = oha_together([(url, conns, duration), (f"{base}/healthz", victims, duration)])
        attacker["failed"] = 0 if status == 422 else attacker["failed"]
        attack_rows.append((f"attack: {name} [{status}]", conns, attacker))
        attack_rows.append(("  beside it: GET /notes/{id}", victims, victim))
        attack_rows.append(("  beside it (next run): GET /healthz", victims, health_victim))
    report("Attackers (16 connections) beside readers (4 connections)", attack_rows, quiet_health["rps"])
    print("\n(the ratio column is against /healthz at 4 connections without an attack; attackers'")
    print(" answers are counted as failed unless 2xx, except the 422 attack whose answers are all 422)")
    return rows + attack_rows, baseline
