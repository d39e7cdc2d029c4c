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
#   scripts/postgres.sh standby PRIMARY_DIR STANDBY_DIR [NAME]
#                                     make STANDBY_DIR a streaming standby of the running
#                                     cluster in PRIMARY_DIR (pg_basebackup -R, its
#                                     primary_conninfo carrying application_name=NAME,
#                                     default corkboard_standby), start it on a free port,
#                                     make the primary replicate to it synchronously
#                                     (synchronous_standby_names = NAME, synchronous_commit
#                                     = on), wait until pg_stat_replication shows it `sync`
#                                     and print the standby's URL as the last line on stdout
#   scripts/postgres.sh promote DIR   promote the standby in DIR to a primary (pg_ctl
#                                     promote, waiting until it takes writes) and print its
#                                     URL as the last line on stdout
#
# Installs Debian's `postgresql` package when no `initdb` is found. The server runs as the
# `postgres` user (PostgreSQL refuses to run as root), listens on 127.0.0.1 only (never on
# 5432) with its unix socket in DIR, trusts every local connection, and trades durability
# for speed (fsync, synchronous_commit and full_page_writes off): a crash loses the
# cluster, which is what a test cluster is for. A primary given a standby commits
# synchronously (see `standby`): its commits wait until the standby has the WAL, which is
# the point of a failover drill (fsync off still loses nothing unless the machine itself
# crashes); the standby itself never waits for another one. `start` and `stop` are
# idempotent: `start` on a running cluster prints its URL again, `stop` on a missing DIR
# does nothing (and removes the shared memory a server killed with `kill -9` left). The script
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

# A server killed with `kill -9` (a failover drill) leaves its small System V shared
# memory segment behind. Removes it: only the segment named in DIR's postmaster.pid, with
# that key and id both, and only when no process is attached to it any more.
release_shared_memory() {
    local dir=$1 key id
    [[ -f $dir/data/postmaster.pid ]] || return 0
    read -r key id < <(sed -n 7p "$dir/data/postmaster.pid") || return 0
    [[ $key =~ ^[0-9]+$ && $id =~ ^[0-9]+$ ]] || return 0
    command -v ipcs >/dev/null || return 0
    if ipcs -m | awk -v key="$(printf '0x%08x' "$key")" -v id="$id" \
        '$1 == key && $2 == id && $6 == 0 { found = 1 } END { exit !found }'; then
        ipcrm -m "$id" 2>/dev/null || true
    fi
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
        release_shared_memory "$dir"
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

# Runs `sql` on the cluster in DIR over its unix socket; prints the result unaligned.
psql_in() {
    local bin=$1 dir=$2 sql=$3
    as_postgres "$bin/psql" -X -q -A -t -h "$dir" -p "$(cat "$dir/port")" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -c "$sql"
}

standby() {
    local primary=${1:-} dir=${2:-} name=${3:-corkboard_standby}
    [[ -n $primary && -n $dir ]] || die "usage: $0 standby PRIMARY_DIR STANDBY_DIR [NAME]"
    [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "standby name $name: lower-case letters, digits and _ only"
    check_ours "$primary"
    local bin
    bin=$(bin_dir) || die "no PostgreSQL installed"
    running "$bin" "$primary" || die "no server runs in $primary (start it first)"
    primary=$(cd "$primary" && pwd -P)
    local port
    port=$(cat "$primary/port")

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    [[ -z $(ls -A "$dir") ]] || die "$dir is not empty; a standby starts from an empty directory"
    touch "$dir/$MARKER"
    chown postgres: "$dir"
    chmod 0700 "$dir"

    # wal_level must be replica or logical (PostgreSQL's default is replica; a restart
    # applies a change). initdb's pg_hba.conf already trusts replication from 127.0.0.1.
    if [[ $(psql_in "$bin" "$primary" "SHOW wal_level") == minimal ]]; then
        psql_in "$bin" "$primary" "ALTER SYSTEM SET wal_level = 'replica'" >/dev/null
        as_postgres "$bin/pg_ctl" restart --wait -D "$primary/data" -l "$primary/server.log" \
            -o "-p $port" >/dev/null 2>&1 || die "the primary did not restart with wal_level = replica"
    fi

    # The copy, with primary_conninfo (and standby.signal) written by -R. The conninfo
    # names the standby (application_name), which is what synchronous_standby_names
    # matches. The primary's synchronous settings are made after the copy, so that the
    # standby does not inherit them: promoted, it would wait for a standby of its own.
    as_postgres "$bin/pg_basebackup" -D "$dir/data" -R -X stream --checkpoint=fast --no-sync \
        -d "host=127.0.0.1 port=$port user=postgres application_name=$name" \
        >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
    grep -q "application_name=$name" "$dir/data/postgresql.auto.conf" \
        || die "pg_basebackup -R wrote no application_name into primary_conninfo"
    cat >>"$dir/data/postgresql.conf" <<EOF2

# scripts/postgres.sh: a standby of $primary.
unix_socket_directories = '$dir'
EOF2
    cat >>"$dir/data/postgresql.auto.conf" <<EOF2
synchronous_standby_names = ''
EOF2
    rm -f "$dir/port"
    start "$dir" >/dev/null

    psql_in "$bin" "$primary" "ALTER SYSTEM SET synchronous_standby_names = '\"$name\"'" >/dev/null
    psql_in "$bin" "$primary" "ALTER SYSTEM SET synchronous_commit = 'on'" >/dev/null
    psql_in "$bin" "$primary" "SELECT pg_reload_conf()" >/dev/null
    local state=""
    for _ in $(seq 1 300); do
        state=$(psql_in "$bin" "$primary" \
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$name'" || true)
        [[ $state == sync ]] && break
        sleep 0.1
    done
    [[ $state == sync ]] || die "the standby in $dir is not a synchronous standby after 30 s (state: ${state:-none})"
    say "standby $name of $primary runs in $dir on port $(cat "$dir/port"), replicating synchronously"
    url_of "$dir"
}

promote() {
    local dir=${1:-}
    [[ -n $dir ]] || die "usage: $0 promote DIR"
    check_ours "$dir"
    local bin
    bin=$(bin_dir) || die "no PostgreSQL installed"
    running "$bin" "$dir" || die "no server runs in $dir"
    as_postgres "$bin/pg_ctl" promote --wait --timeout=60 -D "$dir/data" >/dev/null 2>&1 \
        || die "the standby in $dir was not promoted"
    [[ $(psql_in "$bin" "$dir" "SELECT pg_is_in_recovery()") == f ]] || die "$dir is still in recovery"
    say "promoted the server in $dir: it takes writes now"
    url_of "$dir"
}

case ${1:-} in
    start) start "${2:-}" ;;
    stop) stop "${2:-}" ;;
    halt) halt "${2:-}" ;;
    standby) standby "${2:-}" "${3:-}" "${4:-}" ;;
    promote) promote "${2:-}" ;;
    *)
        echo "usage: $0 start [DIR] | stop DIR | halt DIR | standby PRIMARY_DIR STANDBY_DIR [NAME] | promote DIR" >&2
        exit 2
        ;;
esac
