# Sourced by the contract and client checks: `start_gateway BINARY LOG [SERVE ARGS...]`
# starts the given gateway on a fresh SQLite file in a temporary folder and a free loopback
# port (any further arguments go to `gateway serve`), sets GATEWAY_URL, and stops it (and
# removes the folder) when the calling script exits.

start_gateway() {
    local binary=$1 log=$2
    shift 2
    _gateway_dir=$(mktemp -d)
    _gateway_pid=
    trap _stop_gateway EXIT
    # Created here: the background job opens its redirections only when it gets to run.
    : >"$_gateway_dir/stdout"
    # A fresh SQLite file, unless GATEWAY_DATABASE_URL names another database (a PostgreSQL
    # URL of a throwaway cluster).
    "$binary" serve --bind 127.0.0.1:0 --database-url "${GATEWAY_DATABASE_URL:-$_gateway_dir/gateway.db}" --workers 2 "$@" \
        >"$_gateway_dir/stdout" 2>"$log" &
    _gateway_pid=$!
    GATEWAY_URL=
    for _ in $(seq 1 100); do
        GATEWAY_URL=$(sed -n 's/^listening on \(http:\/\/[^ ]*\)$/\1/p' "$_gateway_dir/stdout")
        [[ -n $GATEWAY_URL ]] && return 0
        if ! kill -0 "$_gateway_pid" 2>/dev/null; then
            cat "$log" >&2
            echo "the gateway did not start" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "the gateway did not say where it listens within 10 s" >&2
    return 1
}

_stop_gateway() {
    if [[ -n ${_gateway_pid:-} ]]; then
        kill "$_gateway_pid" 2>/dev/null || true
        wait "$_gateway_pid" 2>/dev/null || true
    fi
    rm -rf "${_gateway_dir:-}"
}
