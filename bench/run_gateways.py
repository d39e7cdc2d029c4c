#!/usr/bin/env python3
"""Runs the two-gateway benchmark of bench_gateways.py on its own, with its own options.

    python3 bench/run_gateways.py --gateway target/release/gateway [--duration 5] [--rate 50]
        [--subscribers 1000] [--connections 8] [--gateway-arg --events --gateway-arg poll]

(A script of its own so that bench.py, which runs the same as its `gateways` scenario,
and bench_gateways.py do not import each other.)
"""

import argparse
import json
import os
import sys
import time

import bench
import bench_gateways

def main():

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="target/release/gateway")
    parser.add_argument("--duration", type=int, default=5, help="seconds per CPU load (the delivery runs at least 10)")
    parser.add_argument("--rate", type=int, default=50, help="writes a second during the delivery run")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=8, help="oha connections per gateway")
    parser.add_argument("--gateway-arg", action="append", default=[], help="extra argument for `gateway serve`")
    args = parser.parse_args()
    bench.EXTRA_ARGS.extend(args.gateway_arg)
    print(f"load average before: {open('/proc/loadavg').read().strip()}")
    postgres = bench.Postgres()
    try:
        live, cpu = bench_gateways.run(args.gateway, postgres, args.duration, bench.start_gateway, bench.oha_cmd, bench.oha_result,
                        args.rate, args.subscribers, args.connections)
    finally:
        postgres.stop()
    print(f"\nload average after: {open('/proc/loadavg').read().strip()}")
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    os.makedirs(bench.RESULTS_DIR, exist_ok=True)
    path = os.path.join(bench.RESULTS_DIR, f"bench-gateways-{date}.json")
    with open(path, "w") as f:
        json.dump({"date": date, "cores": os.cpu_count(), "delivery": live, "cpu": cpu}, f, indent=2)
    print(f"\nraw results: {path}")
    if live["complete"] != live["subscribers"] or live["writes"] != live["sent"]:
        sys.exit("not every subscriber got every event in order, or a write failed")


if __name__ == "__main__":
    main()
