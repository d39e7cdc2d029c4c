# Corkboard: `make run` to serve, `make test` for the whole suite (what CI runs).
CARGO ?= cargo
DATABASE_URL ?= data/corkboard.db
BENCH_DURATION ?= 10

.PHONY: deps run migrate test test-postgres lint fmt bench bench-gateways build release ci browser contract contract-postgres client cluster cluster-check

## What the build needs from the system: the PostgreSQL client library is compiled in
## (pq-sys `bundled`), against the system's OpenSSL headers; Debian's libssl-dev when missing.
deps:
	@dpkg -s libssl-dev >/dev/null 2>&1 || pkg-config --exists openssl 2>/dev/null || { \
		echo "installing libssl-dev (OpenSSL headers for the bundled PostgreSQL client library)"; \
		DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null 2>&1; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev pkg-config >/dev/null; }

## Build (release) and serve on 127.0.0.1:8080 from ./data/corkboard.db (migrated at start).
run: deps
	$(CARGO) run --release -p gateway -- serve --database-url $(DATABASE_URL)

## Apply pending migrations to $(DATABASE_URL) and exit.
migrate: deps
	$(CARGO) run --release -p gateway -- migrate --database-url $(DATABASE_URL)

## Every test: unit, conformance, black-box HTTP and doc tests on SQLite, then the same
## suite again on PostgreSQL (a throwaway cluster; see test-postgres).
test: deps
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	$(MAKE) --no-print-directory test-postgres

## The whole suite on PostgreSQL: the same test binaries, each test on a fresh database
## of a throwaway cluster (storage::testing), plus the checks that compare the engines
## (tests/schema_match.rs). Starts the cluster (scripts/postgres.sh; installs Debian's
## postgresql package if missing) and stops and removes it afterwards, pass or fail.
test-postgres: deps
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/corkboard-pg.XXXXXX"); \
	trap 'scripts/postgres.sh stop "$$dir"' EXIT; \
	url=$$(scripts/postgres.sh start "$$dir" | tail -n 1) || exit 1; \
	CORKBOARD_TEST_POSTGRES_URL=$$url CORKBOARD_TEST_BACKEND=postgres $(CARGO) test --workspace --all-targets

## Formatting and clippy, warnings as errors.
lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

build: deps
	$(CARGO) build --workspace

release: deps
	$(CARGO) build --release -p gateway

## Load benchmarks against a release gateway (installs the oha load generator if missing).
bench: release
	@command -v oha >/dev/null 2>&1 || $(CARGO) install oha --locked
	cd bench/sse-load && $(CARGO) build --release --locked
	python3 bench/bench.py --gateway target/release/gateway --duration $(BENCH_DURATION)

## Two gateways on one throwaway PostgreSQL database: delivery across gateways to 1,000
## subscribers, CPU per request of the gateways and of PostgreSQL (bench/bench_gateways.py;
## also the `gateways` scenario of `BENCH_BACKEND=postgres make bench`).
bench-gateways: release
	@command -v oha >/dev/null 2>&1 || $(CARGO) install oha --locked
	cd bench/sse-load && $(CARGO) build --release --locked
	python3 bench/run_gateways.py --gateway target/release/gateway --duration 5

## Headless Chromium for the browser EventSource test (Debian's package; the test skips without it).
## An install cut off earlier leaves dpkg half-configured and apt refusing; finish it first.
browser:
	@command -v chromium >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null 2>&1; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## The API contract: Schemathesis (every check, operation and phase, with a token) against
## a release gateway; fails on any 5xx, schema violation or valid request refused.
contract: release
	tests/contract/run.sh target/release/gateway

## The contract check against a gateway on PostgreSQL: the same run on a throwaway cluster
## (scripts/postgres.sh), stopped and removed afterwards, pass or fail.
contract-postgres: release
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/corkboard-pg.XXXXXX"); \
	trap 'scripts/postgres.sh stop "$$dir"' EXIT; \
	url=$$(scripts/postgres.sh start "$$dir" | tail -n 1) || exit 1; \
	GATEWAY_DATABASE_URL=$$url CONTRACT_REPORT_DIR=target/contract-postgres tests/contract/run.sh target/release/gateway

## The typed client: TypeScript types generated from the OpenAPI document, the example
## client type-checked against them (strict) and run against a release gateway.
client: release
	clients/typescript/check.sh target/release/gateway

## Several gateways on one database, on this machine: a throwaway PostgreSQL cluster and two
## release gateways on 127.0.0.1:8081 and :8082 (scripts/cluster.sh; CLUSTER_GATEWAYS,
## CLUSTER_PORT_BASE, ... at its top). Prints where they are and their logs; Ctrl-C stops
## the gateways and the cluster and removes it.
cluster: release
	scripts/cluster.sh target/release/gateway

## The same started and checked (a token, a note and a logout across gateways), then
## stopped: a few seconds. Skips, saying so, when PostgreSQL cannot be installed.
cluster-check: release
	scripts/cluster.sh --check target/release/gateway

## What CI runs.
ci: test lint client contract contract-postgres cluster-check
