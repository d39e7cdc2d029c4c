# Sourced by the contract and client checks and by scripts/cluster.sh.
#
# `start_gateway BINARY LOG [SERVE ARGS...]` starts the given gateway on a fresh SQLite file
# in a temporary folder and a free loopback port (any further arguments go to `gateway
# serve`), sets GATEWAY_URL, and stops it (and removes the folder) when the calling script
# exits.
#
# `run_gateway BINARY LOG OUT [SERVE ARGS...]` is the part underneath, for scripts that run
# several gateways and stop them themselves: it starts `BINARY serve SERVE ARGS...` in the
# background (stdout to OUT, stderr to LOG), sets GATEWAY_PID at once and GATEWAY_URL once
# the gateway says where it listens, and returns non-zero (with the log on stderr) when it
# exits or stays silent for 10 s. Nothing is chosen for the caller: pass `--bind` and
# `--database-url`.

run_gateway() {
    local binary=$1 log=$2 out=$3
    shift 3
    # Created here: the background job opens its redirections only when it gets to run.
    : >"$out"
    "$binary" serve "$@" >"$out" 2>"$log" &
    GATEWAY_PID=$!
    GATEWAY_URL=
    for _ in $(seq 1 100); do
        GATEWAY_URL=$(sed -n 's/^listening on \(http:\/\/[^ ]*\)$/\1/p' "$out")
        [[ -n $GATEWAY_URL ]] && return 0
        if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
            cat "$log" >&2
            echo "the gateway did not start" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "the gateway did not say where it listens within 10 s" >&2
    return 1
}

start_gateway() {
    local binary=$1 log=$2
    shift 2
    _gateway_dir=$(mktemp -d)
    _gateway_pid=
    trap _stop_gateway EXIT
    # A fresh SQLite file, unless GATEWAY_DATABASE_URL names another database (a PostgreSQL
    # URL of a throwaway cluster).
    local status=0
    run_gateway "$binary" "$log" "$_gateway_dir/stdout" --bind 127.0.0.1:0 \
        --database-url "${GATEWAY_DATABASE_URL:-$_gateway_dir/gateway.db}" --workers 2 "$@" || status=$?
    _gateway_pid=${GATEWAY_PID:-}
    return "$status"
}

_stop_gateway() {
    if [[ -n ${_gateway_pid:-} ]]; then
        kill "$_gateway_pid" 2>/dev/null || true
        wait "$_gateway_pid" 2>/dev/null || true
    fi
    rm -rf "${_gateway_dir:-}"
}
