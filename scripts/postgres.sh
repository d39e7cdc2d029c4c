#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, never the system one.
#
#   scripts/postgres.sh start [DIR]   initdb into DIR (a new temporary directory when DIR is
#                                     not given), start it on a free loopback port and print
#                                     its URL (postgres://postgres@127.0.0.1:PORT/postgres)
#                                     as the last line on stdout
#   scripts/postgres.sh stop DIR      stop that cluster (immediate shutdown) and remove DIR
#   scripts/postgres.sh halt DIR      stop that cluster's server (fast shutdown: sessions are
#                                     ended) but keep DIR: `start DIR` brings it back on the
#                                     same port (a database restart, for outage tests)
#
# Installs Debian's `postgresql` package when no `initdb` is found. The server runs as the
# `postgres` user (PostgreSQL refuses to run as root), listens on 127.0.0.1 only (never on
# 5432) with its unix socket in DIR, trusts every local connection, and trades durability
# for speed (fsync, synchronous_commit and full_page_writes off): a crash loses the
# cluster, which is what a test cluster is for. Both commands are idempotent: `start` on a
# running cluster prints its URL again, `stop` on a missing DIR does nothing. The script
# only ever stops or removes a DIR that carries its marker file, so it cannot touch a
# server it did not start.
set -euo pipefail

MARKER=.corkboard-postgres

say() { echo "postgres.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

bin_dir() {
    local dirs
    dirs=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n $dirs && -x $dirs/initdb ]] && echo "$dirs"
}

install_postgres() {
    say "initdb not found; installing Debian's postgresql package"
    [[ $(id -u) -eq 0 ]] || die "installing postgresql needs root"
    # An install cut off earlier leaves dpkg half-configured and apt refusing; finish it first.
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null 2>&1 || true
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# Runs a PostgreSQL program as the postgres user (directly when already that user).
as_postgres() {
    if [[ $(id -un) == postgres ]]; then
        "$@"
    else
        runuser -u postgres -- "$@"
    fi
}

# Refuses anything that is not a directory this script made a cluster in.
check_ours() {
    local dir=$1
    [[ -f $dir/$MARKER ]] || die "$dir holds no cluster started by this script; not touching it"
}

port_in_use() {
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port nothing listens on, away from 5432 and the ephemeral range's crowded start.
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 30000))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    die "no free loopback port found"
}

running() {
    local bin=$1 dir=$2
    [[ -f $dir/data/postmaster.pid ]] && as_postgres "$bin/pg_ctl" status -D "$dir/data" >/dev/null 2>&1
}

url_of() {
    echo "postgres://postgres@127.0.0.1:$(cat "$1/port")/postgres"
}

start() {
    local dir=${1:-}
    local bin
    bin=$(bin_dir) || true
    if [[ -z $bin ]]; then
        install_postgres
        bin=$(bin_dir) || die "initdb still missing after installing postgresql"
    fi
    id postgres >/dev/null 2>&1 || die "there is no postgres user (is the postgresql package installed?)"

    if [[ -z $dir ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/corkboard-pg.XXXXXX")
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    case $dir in
        /var/lib/postgresql | /var/lib/postgresql/*) die "refusing the system cluster's directory $dir" ;;
    esac
    if [[ -n $(ls -A "$dir") && ! -f $dir/$MARKER ]]; then
        die "$dir is not empty and holds no cluster of this script"
    fi
    touch "$dir/$MARKER"
    chown postgres: "$dir"
    chmod 0700 "$dir"
    as_postgres test -x "$dir" || die "the postgres user cannot reach $dir (a parent directory is closed to it)"

    if running "$bin" "$dir"; then
        say "already running in $dir"
        url_of "$dir"
        return 0
    fi

    if [[ ! -f $dir/data/PG_VERSION ]]; then
        rm -rf "${dir:?}/data"
        as_postgres "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
        cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/postgres.sh: a throwaway cluster for tests.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
EOF
    fi

    # The port lives in its own file so that a stopped cluster restarts on the same one
    # when it is still free; a taken port (or a lost race for a free one) picks another.
    local port
    for attempt in 1 2 3 4 5; do
        if [[ -f $dir/port ]] && ! port_in_use "$(cat "$dir/port")"; then
            port=$(cat "$dir/port")
        else
            port=$(free_port)
        fi
        echo "$port" >"$dir/port"
        if as_postgres "$bin/pg_ctl" start --wait --timeout=60 -D "$dir/data" -l "$dir/server.log" \
            -o "-p $port" >/dev/null 2>&1; then
            say "started in $dir on port $port"
            url_of "$dir"
            return 0
        fi
        say "start on port $port failed (attempt $attempt); see $dir/server.log"
        rm -f "$dir/port"
    done
    tail -n 20 "$dir/server.log" >&2 || true
    die "the cluster did not start"
}

stop() {
    local dir=${1:-}
    [[ -n $dir ]] || die "usage: $0 stop DIR"
    [[ -e $dir ]] || return 0
    check_ours "$dir"
    local bin
    bin=$(bin_dir) || true
    if [[ -n $bin && -f $dir/data/postmaster.pid ]]; then
        as_postgres "$bin/pg_ctl" stop -D "$dir/data" -m immediate --wait >/dev/null 2>&1 || true
    fi
    rm -rf "${dir:?}"
    say "stopped and removed $dir"
}

halt() {
    local dir=${1:-}
    [[ -n $dir ]] || die "usage: $0 halt DIR"
    check_ours "$dir"
    local bin
    bin=$(bin_dir) || die "no PostgreSQL installed"
    if running "$bin" "$dir"; then
        as_postgres "$bin/pg_ctl" stop -D "$dir/data" -m fast --wait >/dev/null 2>&1 || die "the server did not stop"
    fi
    say "halted the server in $dir (start $dir brings it back)"
}

case ${1:-} in
    start) start "${2:-}" ;;
    stop) stop "${2:-}" ;;
    halt) halt "${2:-}" ;;
    *)
        echo "usage: $0 start [DIR] | stop DIR | halt DIR" >&2
        exit 2
        ;;
esac
