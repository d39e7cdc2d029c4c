#!/usr/bin/env bash
# Several gateways on one PostgreSQL database, on this machine (`make cluster`).
#
#   scripts/cluster.sh [GATEWAY]          start a throwaway PostgreSQL cluster and the
#                                         gateways on it, say where, and serve until Ctrl-C
#                                         (SIGINT) or SIGTERM; then stop the gateways, stop
#                                         the cluster and remove it, logs and all
#   scripts/cluster.sh --check [GATEWAY]  start the same, check that the gateways share one
#                                         database (below), stop and remove everything;
#                                         exit 0 when the check passed (`make cluster-check`)
#
# GATEWAY is the binary (default target/release/gateway; `make cluster` builds it). The
# database comes from scripts/postgres.sh (Debian's postgresql package is installed when
# initdb is missing; the server runs as the postgres user on a free loopback port, with
# fsync off: throwaway data). Gateways start one after the other with the same
# `--database-url` (the first migrates, under the migration lock), each logging to a file of
# its own.
#
# Environment:
#   CLUSTER_GATEWAYS    how many gateways (default 2, at most 9)
#   CLUSTER_PORT_BASE   gateway N listens on 127.0.0.1:(CLUSTER_PORT_BASE + N - 1)
#                       (default 8081, so 8081 and 8082, beside `make run`'s 8080); with
#                       --check the default is 0: free ports the system picks
#   CLUSTER_DIR         a new or empty directory for the database and the logs (default: a
#                       new temporary directory); removed when the cluster stops
#   CLUSTER_WORKERS     HTTP workers per gateway (`--workers`, default 2)
#   CLUSTER_SERVE_ARGS  further `gateway serve` flags for every gateway, split on spaces
#                       (e.g. "--pool-connections 8"); RUST_LOG works as for any gateway
#
# The check (--check) registers a user on gateway 1 and logs in there, reads /users/me
# through every other gateway with that token, creates a note through the last gateway and
# reads it through the first, then logs out on the last gateway and waits until the first
# refuses the token (API section 8 promises within one second; the check allows 5 s, it is
# a smoke test of this script, and tests/api/many_gateways.rs tests the promise). When
# PostgreSQL is not installed and cannot be (not root, no network), the check says
# SKIPPED and exits 0.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=gateway.sh
source "$here/gateway.sh"

say() { echo "cluster: $*" >&2; }
die() {
    say "$*"
    exit 1
}

check=false
if [[ ${1:-} == --check ]]; then
    check=true
    shift
fi
case ${1:-} in
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    -*) die "unknown option $1 (usage: $0 [--check] [GATEWAY])" ;;
esac
gateway=${1:-$root/target/release/gateway}
[[ -x $gateway ]] || die "$gateway is not an executable gateway binary (make release builds it)"

count=${CLUSTER_GATEWAYS:-2}
[[ $count =~ ^[1-9]$ ]] || die "CLUSTER_GATEWAYS must be 1 to 9, not '$count'"
if $check; then
    port_base=${CLUSTER_PORT_BASE:-0}
    ((count >= 2)) || die "--check needs at least two gateways (CLUSTER_GATEWAYS=$count)"
else
    port_base=${CLUSTER_PORT_BASE:-8081}
fi
[[ $port_base =~ ^[0-9]+$ ]] && ((port_base == 0 || (port_base >= 1024 && port_base + count - 1 <= 65535))) \
    || die "CLUSTER_PORT_BASE must be 0 (free ports) or a port from 1024 on, not '$port_base'"
workers=${CLUSTER_WORKERS:-2}
# Word splitting is the point: the variable holds several flags.
# shellcheck disable=SC2206
serve_args=(${CLUSTER_SERVE_ARGS:-})

port_in_use() {
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if ((port_base > 0)); then
    for ((n = 1; n <= count; n++)); do
        port=$((port_base + n - 1))
        if port_in_use "$port"; then
            die "port $port is taken; set CLUSTER_PORT_BASE to another first port (or 0 for free ones)"
        fi
    done
fi

# --- The directory, and everything that is stopped and removed on the way out ----------
if [[ -n ${CLUSTER_DIR:-} ]]; then
    mkdir -p "$CLUSTER_DIR"
    dir=$(cd "$CLUSTER_DIR" && pwd -P)
    [[ -z $(ls -A "$dir") ]] || die "CLUSTER_DIR $dir is not empty; give a new or empty directory"
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/corkboard-cluster.XXXXXX")
fi
# The postgres user must reach the database directory inside it.
chmod 0711 "$dir"
pg_dir=$dir/postgres
pids=()

stop_all() {
    local status=$?
    trap - EXIT INT TERM
    if ((${#pids[@]} > 0)); then
        say "stopping ${#pids[@]} gateway(s)"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        for pid in "${pids[@]}"; do
            wait "$pid" 2>/dev/null || true
        done
    fi
    # On a failure (not on Ctrl-C or TERM) the gateways' last words, before they are removed.
    if ((status != 0 && status != 130 && status != 143)); then
        for log in "$dir"/gateway-*.log; do
            [[ -s $log ]] || continue
            say "last lines of $log:"
            tail -n 15 "$log" >&2
        done
    fi
    "$here/postgres.sh" stop "$pg_dir" 2>/dev/null || true
    rm -rf "${dir:?}"
    say "stopped; removed $dir"
    exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL ----------------------------------------------------------------------------
have_postgres() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

installed_before=true
have_postgres || installed_before=false
if ! url=$("$here/postgres.sh" start "$pg_dir" | tail -n 1) || [[ $url != postgres://* ]]; then
    if $check && ! $installed_before; then
        say "SKIPPED: PostgreSQL is not installed and could not be installed (see above);"
        say "SKIPPED: the cluster was NOT checked."
        exit 0
    fi
    die "the PostgreSQL cluster did not start"
fi

# --- The gateways --------------------------------------------------------------------------
urls=()
for ((n = 1; n <= count; n++)); do
    port=0
    ((port_base == 0)) || port=$((port_base + n - 1))
    if ! run_gateway "$gateway" "$dir/gateway-$n.log" "$dir/gateway-$n.out" \
        --bind "127.0.0.1:$port" --database-url "$url" --workers "$workers" "${serve_args[@]}"; then
        [[ -n ${GATEWAY_PID:-} ]] && pids+=("$GATEWAY_PID")
        die "gateway $n did not start"
    fi
    pids+=("$GATEWAY_PID")
    urls+=("$GATEWAY_URL")
done

# Where everything is, on stdout (the rest of what this script says goes to stderr).
echo "PostgreSQL: $url  (data and server.log in $pg_dir)"
for ((n = 1; n <= count; n++)); do
    echo "gateway $n: ${urls[n - 1]}  (pid ${pids[n - 1]}, log $dir/gateway-$n.log)"
done

# --- The check -----------------------------------------------------------------------------
# One request: prints the body, then the status on a line of its own.
request() {
    local method=$1 url=$2 token=${3:-} body=${4:-}
    local args=(-sS -X "$method" -w '\n%{http_code}' --max-time 10 -H 'Accept: application/json')
    [[ -n $token ]] && args+=(-H "Authorization: Bearer $token")
    [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data "$body")
    curl "${args[@]}" "$url"
}

# `expect STATUS METHOD URL [TOKEN [BODY]]`: the request's body on stdout, or a failure
# (the exit of the command substitution it runs in fails the assignment, and so the check).
expect() {
    local want=$1 out status
    shift
    out=$(request "$@") || die "$1 $2: no answer"
    status=${out##*$'\n'}
    [[ $status == "$want" ]] || die "$1 $2 answered $status, not $want: ${out%$'\n'*}"
    printf '%s' "${out%$'\n'*}"
}

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

field() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

run_check() {
    local first=${urls[0]} last=${urls[count - 1]} n email token me id note content
    for ((n = 1; n <= count; n++)); do
        expect 200 GET "${urls[n - 1]}/readyz" >/dev/null
    done
    email="cluster-$$-$RANDOM@example.com"
    expect 201 POST "$first/api/v1/auth/register" "" \
        "{\"email\":\"$email\",\"display_name\":\"Cluster check\",\"password\":\"cluster-check-password\"}" >/dev/null
    token=$(expect 200 POST "$first/api/v1/auth/login" "" \
        "{\"email\":\"$email\",\"password\":\"cluster-check-password\"}" | field token)
    id=$(expect 200 GET "$first/api/v1/users/me" "$token" | field id)
    for ((n = 2; n <= count; n++)); do
        me=$(expect 200 GET "${urls[n - 1]}/api/v1/users/me" "$token" | field id)
        [[ $me == "$id" ]] || die "gateway $n says the token is user $me, gateway 1 says $id"
    done
    local others="gateway 2"
    ((count == 2)) || others="gateways 2 to $count"
    say "check: a token from gateway 1 works on $others"

    note=$(expect 201 POST "$last/api/v1/notes" "$token" '{"title":"cluster","content":"written through the last gateway"}' | field id)
    content=$(expect 200 GET "$first/api/v1/notes/$note" "$token" | field content)
    [[ $content == "written through the last gateway" ]] || die "gateway 1 reads note $note as '$content'"
    say "check: a note written through gateway $count reads back through gateway 1"

    expect 204 POST "$last/api/v1/auth/logout" "$token" >/dev/null
    local start out
    start=$(now_ms)
    while :; do
        out=$(request GET "$first/api/v1/users/me" "$token") || true
        [[ ${out##*$'\n'} == 401 ]] && break
        (($(now_ms) - start < 5000)) || die "gateway 1 still accepts a token logged out on gateway $count after 5 s"
        sleep 0.05
    done
    say "check: a logout on gateway $count is refused by gateway 1 after $(($(now_ms) - start)) ms"
    say "check: passed"
}

if $check; then
    run_check
    exit 0
fi

say "try: curl ${urls[0]}/readyz; put a load balancer in front (docs/operations.md)"
say "Ctrl-C stops the gateways and PostgreSQL and removes $dir"
# Serve until a signal (the traps above), or until a gateway exits by itself.
while :; do
    for ((n = 1; n <= count; n++)); do
        if ! kill -0 "${pids[n - 1]}" 2>/dev/null; then
            die "gateway $n (pid ${pids[n - 1]}) exited by itself"
        fi
    done
    # `sleep` in the background and `wait` for it, so that a signal is handled at once.
    sleep 1 &
    wait $! || true
done
