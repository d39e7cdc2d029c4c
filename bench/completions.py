"""The learning completion `PUT` on PostgreSQL, alone: throughput, latency, CPU per request
and how many transactions lost to concurrent ones.

    python3 bench/completions.py GATEWAY [--pgbench] [--rounds 2] [--duration 8] [-- GATEWAY_ARGS...]
        e.g. python3 bench/completions.py target/release/gateway -- --pool-connections 4

The learning scenario's data (`bench_learning.seed`: 50,000 challenges, 500,000
completions) is seeded once into a SQLite file and, for each round, moved into a fresh
database of a throwaway cluster (bench.py's: `gateway copy`, `VACUUM FULL ANALYZE`). Then
`bench_learning.many_writers` drives the `PUT` as bench.py does (16 learners x 4
connections over 2,000 challenges). Printed per round: req/s, p50, p99, the CPU time per
request of the gateway and of every `postgres` process, and the database's commits and
rollbacks (`pg_stat_database`; a rollback is a write that lost and ran again).

`--pgbench` also runs the completion's own transaction (`bench/pgbench/completion.sql`:
the read and the `INSERT ... ON CONFLICT` of a `PUT`, SERIALIZABLE) with `pgbench -M
prepared -c 2 -j 2` on a copy of the seeded database: what PostgreSQL alone can do on
this machine, with no gateway and no HTTP.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ab_lists  # noqa: E402
import bench  # noqa: E402
import bench_learning  # noqa: E402

PGBENCH_SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgbench", "completion.sql")
# Numbered learners and challenges for pgbench's random picks.
PGBENCH_SETUP = [
    "CREATE TABLE pb_users AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM users",
    "CREATE UNIQUE INDEX ON pb_users (n)",
    "CREATE TABLE pb_challenges AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM challenges",
    "CREATE UNIQUE INDEX ON pb_challenges (n)",
    "VACUUM ANALYZE",
]


def query(url, sql):
    return subprocess.run(["psql", "-qXAt", url, "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


def transactions(url, name):
    out = query(url, f"SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = '{name}'")
    return tuple(map(int, out.split("|")))


def pgbench(postgres, gateway, seeded, duration, rounds):
    url = ab_lists.to_postgres(postgres, "completions_pgbench", seeded, gateway)
    for sql in PGBENCH_SETUP:
        query(url, sql)
    port = url.rsplit(":", 1)[1].split("/")[0]
    for r in range(rounds):
        cmd = ["pgbench", "-n", "-M", "prepared", "-c", "2", "-j", "2", "-T", str(duration), "-f", PGBENCH_SQL,
               "-h", "127.0.0.1", "-p", port, "-U", "postgres", "completions_pgbench"]
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        tps = next((line for line in out.splitlines() if line.startswith("tps")), out[-300:])
        failed = next((line for line in out.splitlines() if "failed" in line), "")
        print(f"pgbench round {r + 1}: {tps.split('(')[0].strip()}; {failed.strip()}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gateway")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--pgbench", action="store_true", help="also the transaction alone, with pgbench")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    gateway_args = argv[split + 1:]  # after `--`: added to `gateway serve`
    postgres = bench.Postgres()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            seeded = os.path.join(tmp, "seed.db")
            writers = []
            ab_lists.seed("learning", args.gateway, seeded, writers)
            if args.pgbench:
                pgbench(postgres, args.gateway, seeded, args.duration, args.rounds)
            for r in range(args.rounds):
                name = f"completions_{r}"
                url = ab_lists.to_postgres(postgres, name, seeded, args.gateway)
                proc, base = bench.start_gateway(args.gateway, url, gateway_args)
                try:
                    before = transactions(url, name)
                    gateway, server = ab_lists.cpu_seconds(proc.pid), ab_lists.postgres_cpu_seconds()
                    m = bench_learning.many_writers(base, writers[0], writers[1], args.duration,
                                                    bench_learning.WRITE_CONNECTIONS)
                    n = max(1, m["ok"] + m["failed"])
                    gateway = (ab_lists.cpu_seconds(proc.pid) - gateway) / n * 1e6
                    server = (ab_lists.postgres_cpu_seconds() - server) / n * 1e6
                finally:
                    proc.terminate()
                    proc.wait()
                # A backend reports its counts when it ends (or idle, within seconds): read
                # them once the gateway's connections have closed.
                time.sleep(1)
                after = transactions(url, name)
                print(f"round {r + 1}: {m['rps']:,.0f} req/s, p50 {m['p50_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms, "
                      f"{m['failed']} failed; CPU per request: gateway {gateway:.0f} µs, PostgreSQL {server:.0f} µs; "
                      f"{after[0] - before[0]:,} commits, {after[1] - before[1]:,} rollbacks", flush=True)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
