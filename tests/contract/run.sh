#!/usr/bin/env bash
# The contract check: Schemathesis against a release gateway (`make contract`).
#
#   tests/contract/run.sh target/release/gateway
#
# Builds nothing. Starts the given gateway on a fresh SQLite file and a free loopback port,
# registers a user and logs in, then runs Schemathesis (pinned in requirements.txt, installed
# into .tools/venv) with every check (schemathesis.toml), on every operation, in every phase (examples,
# coverage, fuzzing, stateful), authenticated with that token. Any failure (a 5xx, a
# response the document does not describe, a valid request refused, an invalid one
# accepted, ...) fails the run. What is configured and why: schemathesis.toml and hooks.py.
#
# Environment:
#   CONTRACT_MAX_EXAMPLES  test cases per operation and phase (default 20)
#   CONTRACT_SEED          Hypothesis seed (default: random; the run prints it to replay)
#   CONTRACT_WORKERS       concurrent Schemathesis workers (default 2)
#   CONTRACT_PHASES        Schemathesis phases (default examples,coverage,fuzzing,stateful)
#   CONTRACT_REPORT_DIR    where the JUnit report and the gateway log go
#                          (default target/contract)
#
# When Schemathesis is not installed and PyPI cannot be reached, the check says so and
# exits 0 (skipped). Once it runs, any failure exits non-zero.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gateway=${1:?usage: tests/contract/run.sh path/to/gateway}
[[ -x $gateway ]] || { echo "contract: $gateway is not an executable gateway binary" >&2; exit 2; }
gateway=$(cd "$(dirname "$gateway")" && pwd)/$(basename "$gateway")

venv=$root/.tools/venv
requirements=$here/requirements.txt
report_dir=${CONTRACT_REPORT_DIR:-$root/target/contract}
max_examples=${CONTRACT_MAX_EXAMPLES:-20}
workers=${CONTRACT_WORKERS:-2}
phases=${CONTRACT_PHASES:-examples,coverage,fuzzing,stateful}

# --- Schemathesis, pinned, in a project-local venv --------------------------------------
# A Python whose `ast` is safe in threads: CPython before 3.11.8 and 3.12.2 can fail
# `ast.parse` run by two threads at once ("AST constructor recursion depth mismatch",
# CPython gh-106905), which Hypothesis does while describing strategies, so a run with two
# workers could stop on a runtime error of the tool. The first fixed interpreter found
# wins (on PATH, or installed by pyenv); else python3.
thread_safe_ast='import sys; v = sys.version_info[:3]; sys.exit(0 if v >= (3, 13) or (3, 12, 2) <= v < (3, 13) or (3, 11, 8) <= v < (3, 12) else 1)'
python=python3
for candidate in python3 python3.13 python3.12 "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.1[2-9]*/bin/python3; do
    if "$candidate" -c "$thread_safe_ast" >/dev/null 2>&1; then
        python=$candidate
        break
    fi
done
stamp=$venv/.requirements.sha256
want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" --version 2>&1)"
if [[ ! -x $venv/bin/schemathesis || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "contract: installing Schemathesis into .tools/venv with $("$python" --version 2>&1) (pinned by tests/contract/requirements.txt)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    probe=$(mktemp -d)
    # Reach the package index the way pip is configured to (a mirror counts).
    if ! "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
        --dest "$probe" "$(grep -E '^schemathesis==' "$requirements")" >/dev/null 2>&1; then
        rm -rf "$probe"
        echo "contract: SKIPPED: the Python package index cannot be reached, so Schemathesis" >&2
        echo "contract: cannot be installed; the API contract was NOT checked." >&2
        exit 0
    fi
    rm -rf "$probe"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
fi

# --- A gateway of our own ---------------------------------------------------------------
mkdir -p "$report_dir"
gateway_log=$report_dir/gateway.log
# shellcheck source=../../scripts/gateway.sh
source "$root/scripts/gateway.sh"
# A generous header timeout: the server answers 408 (without a body, from actix itself) when
# a connection's first request head has not arrived 5 s after the connection opened, and a
# fuzzer's client may open a connection and send on it only after Hypothesis has spent
# seconds generating the case (seen once in an otherwise clean run). The timeout itself is
# tested in tests/api/platform.rs (`a_body_that_never_arrives_gets_408_and_the_connection_closes`).
start_gateway "$gateway" "$gateway_log" --header-timeout-secs 60 --webhook-allow-private
base=$GATEWAY_URL
echo "contract: gateway $gateway on $base (log: $gateway_log)"

# --- A user and a token -----------------------------------------------------------------
export CONTRACT_BASE_URL=$base
export CONTRACT_EMAIL="contract-$(date +%s)@example.com"
export CONTRACT_PASSWORD="contract check $RANDOM$RANDOM"
post() { # path, JSON body -> response body; fails on a non-2xx status
    curl --silent --show-error --fail-with-body -X POST "$base/api/v1$1" \
        -H 'content-type: application/json' --data "$2"
}
post /auth/register "{\"email\": \"$CONTRACT_EMAIL\", \"display_name\": \"Contract check\", \"password\": \"$CONTRACT_PASSWORD\"}" >/dev/null
CONTRACT_TOKEN=$(post /auth/login "{\"email\": \"$CONTRACT_EMAIL\", \"password\": \"$CONTRACT_PASSWORD\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
export CONTRACT_TOKEN

# --- Schemathesis -----------------------------------------------------------------------
seed_args=()
[[ -n ${CONTRACT_SEED:-} ]] && seed_args=(--seed "$CONTRACT_SEED")
echo "contract: schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}'), ${max_examples} examples per operation, ${workers} workers, phases ${phases}"
started=$(date +%s)
status=0
PYTHONPATH=$here SCHEMATHESIS_HOOKS=hooks \
    "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
    --phases "$phases" \
    --max-examples "$max_examples" \
    --workers "$workers" \
    --report junit --report-junit-path "$report_dir/junit.xml" \
    "${seed_args[@]}" || status=$?
echo "contract: schemathesis finished in $(($(date +%s) - started)) s with status $status"
if ((status != 0)); then
    echo "contract: FAILED; the gateway's log is $gateway_log" >&2
    # Response times as the server measured them (event streams left out: they last), so a
    # time-limit failure shows whether the server or the client was slow.
    echo "contract: the slowest requests by the server's clock:" >&2
    grep -v '/events' "$gateway_log" | grep -oE '"[A-Z]+ [^"]*" [0-9]{3} [0-9-]+ [0-9.]+ms' |
        awk '{print $(NF), $0}' | sort -g -r | head -n 5 | cut -d' ' -f2- >&2 || true
fi
exit "$status"
