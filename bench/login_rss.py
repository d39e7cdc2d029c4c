#!/usr/bin/env python3
"""Memory after a burst of failed logins (issue 10, "Login abuse").

Starts a release gateway on a fresh SQLite file, registers one user, sends 1,000
wrong-password logins from 64 threads, and prints the gateway's resident memory (VmRSS
from /proc/<pid>/status) before and after. Each failed login runs one Argon2id
verification with the production cost (19 MiB): by default each login names a different
unknown email (which costs the same dummy verification as a wrong password) and every
thread uses its own loopback address (127.0.1.N; Linux routes 127.0.0.0/8 to lo), so the
login limits refuse none of the burst and all 1,000 hash. The answers are counted and
printed (all 401 means every login hashed). Stdlib only.

    python3 bench/login_rss.py [--gateway target/release/gateway] [--logins 1000] [--clients 64]
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def post(port, path, body, source=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=source)
    try:
        conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
        res = conn.getresponse()
        res.read()
        return res.status
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gateway", default="target/release/gateway")
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument(
        "--same-email",
        action="store_true",
        help="every login names the registered user (the login limits then refuse most before they hash)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "corkboard.db")
        proc = subprocess.Popen(
            [args.gateway, "serve", "--bind", "127.0.0.1:0", "--database-url", db],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "warn"},
            text=True,
        )
        try:
            line = proc.stdout.readline().strip()
            if not line.startswith("listening on "):
                sys.exit(f"gateway did not start: {line!r}")
            port = int(line.rsplit(":", 1)[1])
            user = {"email": "ada@example.com", "display_name": "Ada", "password": "correct horse battery"}
            assert post(port, "/api/v1/auth/register", user) == 201
            time.sleep(0.5)
            before = vm_rss_kib(proc.pid)

            statuses = Counter()
            lock = threading.Lock()
            per_client = [args.logins // args.clients + (i < args.logins % args.clients) for i in range(args.clients)]

            def client(i):
                source = (f"127.0.1.{i + 1}", 0)
                for k in range(per_client[i]):
                    email = user["email"] if args.same_email else f"user{i}.{k}@example.com"
                    status = post(port, "/api/v1/auth/login", {"email": email, "password": "wrong password"}, source)
                    with lock:
                        statuses[status] += 1

            started = time.monotonic()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
            time.sleep(1.0)
            after = vm_rss_kib(proc.pid)
            print(f"gateway: {args.gateway}")
            print(f"{args.logins} failed logins from {args.clients} clients in {elapsed:.1f} s; answers: {dict(statuses)}")
            print(f"VmRSS before: {before / 1024:.1f} MiB")
            print(f"VmRSS after:  {after / 1024:.1f} MiB")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
