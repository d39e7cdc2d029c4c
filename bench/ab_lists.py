"""List reads of two gateway builds side by side, with the CPU time each request costs.

    python3 bench/ab_lists.py OLD_GATEWAY NEW_GATEWAY [--scenario projects|learning]
        [--backend postgres|sqlite] [--duration 8] [--rounds 2] [--completions]

The scenario's data is seeded once into a SQLite file (the projects scenario's through the
first gateway, `bench_projects.seed`; the learning scenario's, `bench_learning.seed`), then
moved where the builds read it: a database of a throwaway cluster (bench.py's, `gateway
copy`, `VACUUM ANALYZE`), or one copy of the file per build (`VACUUM INTO`). The builds
then take turns, the order swapped every round; each endpoint gets 2 s of warm-up and then
`oha -c 16` for `--duration` seconds. Printed: req/s, p50 and p99, and the CPU time per
request of the gateway process and of every `postgres` process (utime + stime from /proc,
which moves much less than req/s on a shared machine).

Projects: the team list filtered by status and priority by due date, `assignee=me`, and
the team's activity (logged in as the team's admin). Learning: a topic browse by rating
and the not-completed browse, logged in as a learner with 2,000 completions, and the
anonymous tag browses by difficulty and by popularity.
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import bench_learning  # noqa: E402
import bench_projects  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds():
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "postgres":
                    total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def to_postgres(postgres, name, seeded, copier, migrator=None):
    """A fresh database `name` of `postgres` holding the SQLite file `seeded` (copied by
    the gateway `copier`), migrated by `migrator` when given, and rewritten (`VACUUM FULL
    ANALYZE`) as a deployment's tables would be; returns its URL."""
    url = postgres.database(name)
    copied = subprocess.run([copier, "copy", "--from", seeded, "--to", url], capture_output=True, text=True)
    if copied.returncode != 0:
        sys.exit(f"gateway copy to {url} failed: {copied.stderr[:1500]}")
    if migrator:
        subprocess.run([migrator, "migrate", "--database-url", url], check=True, capture_output=True)
    subprocess.run(["psql", "-qX", url, "-c", "VACUUM FULL ANALYZE"], check=True, capture_output=True)
    return url


def seed(scenario, binary, path, writers=None):
    """Seeds `path`; returns the endpoints: (label, path, token or None). `writers`, a
    list, receives the learning scenario's writers' tokens and the challenge ids."""
    if scenario == "projects":
        proc, base = bench.start_gateway(binary, path)
        try:
            token, team, _, _, _ = bench_projects.seed(base, path)
        finally:
            proc.terminate()
            proc.wait()
        tasks = f"/api/v1/teams/{team}/tasks"
        return [
            ("team tasks status,priority by due date", f"{tasks}?status=todo,in_progress&priority=high,urgent"
             "&sort=due_date&limit=50", token),
            ("team tasks assignee=me", f"{tasks}?assignee=me&sort=-priority&limit=50", token),
            ("team activity", f"/api/v1/teams/{team}/activity?limit=50", token),
        ]
    proc, _ = bench.start_gateway(binary, path)  # migrates the file
    proc.terminate()
    proc.wait()
    tokens, ids = bench_learning.seed(path)
    if writers is not None:
        writers.extend([tokens[1:bench_learning.WRITERS + 1], ids])
    api = "/api/v1/learning/challenges"
    return [
        ("topic by rating (learner)", f"{api}?topic=algorithms&sort=-rating&limit=50", tokens[0]),
        ("not completed by popularity (learner)", f"{api}?completed=false&sort=-popularity&limit=50", tokens[0]),
        ("tag by difficulty (anonymous)", f"{api}?tag=python&sort=difficulty&limit=50", None),
        ("tag by popularity (anonymous)", f"{api}?tag=python&sort=-popularity&limit=50", None),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--scenario", choices=["projects", "learning"], default="projects")
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--completions", action="store_true", help="learning: also the completion PUT")
    args = parser.parse_args()
    postgres = bench.Postgres() if args.backend == "postgres" else None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            seeded = os.path.join(tmp, "seed.db")
            writers = []
            endpoints = seed(args.scenario, args.old, seeded, writers)
            builds = {"old": args.old, "new": args.new}
            where = {}
            for name in builds:
                if postgres:
                    where[name] = to_postgres(postgres, f"ab_lists_{name}", seeded, args.old, builds[name])
                else:
                    where[name] = os.path.join(tmp, f"{name}.db")
                    with sqlite3.connect(seeded) as db:
                        db.execute(f"VACUUM INTO '{where[name]}'")
            print("| endpoint | build, round | req/s | p50 ms | p99 ms | gateway µs/req | postgres µs/req | failed |")
            print("|---|---|---|---|---|---|---|---|")
            for r in range(args.rounds):
                order = list(builds.items()) if r % 2 == 0 else list(builds.items())[::-1]
                for name, binary in order:
                    proc, base = bench.start_gateway(binary, where[name])
                    try:
                        for label, path, token in endpoints:
                            headers = [f"Authorization: Bearer {token}"] if token else []
                            bench.oha(base + path, 16, 2, headers=headers)
                            gateway, server = cpu_seconds(proc.pid), postgres_cpu_seconds()
                            m = bench.oha(base + path, 16, args.duration, headers=headers)
                            n = max(1, m["ok"] + m["failed"])
                            gateway = (cpu_seconds(proc.pid) - gateway) / n * 1e6
                            server = (postgres_cpu_seconds() - server) / n * 1e6
                            print(f"| {label} | {name}, {r + 1} | {m['rps']:,.0f} | {m['p50_ms']:.2f} | "
                                  f"{m['p99_ms']:.2f} | {gateway:.0f} | {server:.0f} | {m['failed']} |", flush=True)
                        if args.completions and writers:
                            gateway, server = cpu_seconds(proc.pid), postgres_cpu_seconds()
                            m = bench_learning.many_writers(base, writers[0], writers[1], args.duration,
                                                            bench_learning.WRITE_CONNECTIONS)
                            n = max(1, m["ok"] + m["failed"])
                            gateway = (cpu_seconds(proc.pid) - gateway) / n * 1e6
                            server = (postgres_cpu_seconds() - server) / n * 1e6
                            print(f"| PUT completion (64 connections) | {name}, {r + 1} | {m['rps']:,.0f} | "
                                  f"{m['p50_ms']:.2f} | {m['p99_ms']:.2f} | {gateway:.0f} | {server:.0f} | "
                                  f"{m['failed']} |", flush=True)
                    finally:
                        proc.terminate()
                        proc.wait()
        finally:
            if postgres:
                postgres.stop()


if __name__ == "__main__":
    main()
