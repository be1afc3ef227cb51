# Sourced by scripts/test: a private PostgreSQL cluster for the PostgreSQL run of the job and catalog tests.
#   pg_start  -> exports PG_URL (postgres://...@127.0.0.1:PORT/dataset) or returns 1 with a reason on stderr
#   pg_stop   -> stops it and removes its folder
# It also exports PG_BIN, PG_DATA, PG_LOG, PG_OPTS, PG_OWNER: the fault test (jobs/tests/test_postgres_faults.py) stops
# and starts this server under running workers.
# PostgreSQL refuses to run as root, so the cluster runs as the unprivileged "postgres" user when we are root.
PG_DIR=""
pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }; done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}
pg_install() {
    pg_bin >/dev/null && return 0
    echo "Installing Debian's postgresql for the PostgreSQL test run"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
        || { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 \
             && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1; }
    pg_bin >/dev/null
}
pg_as() {  # run a command as the cluster's owner (from /, which it may enter, not a private checkout)
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
pg_start() {
    local bin port
    pg_install || { echo "PostgreSQL is not installed and could not be installed" >&2; return 1; }
    bin="$(pg_bin)"
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "no unprivileged 'postgres' user to run the cluster as" >&2; return 1
    fi
    PG_DIR="$(mktemp -d /tmp/dataset-pg-XXXXXX)"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pg_as "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null || return 1
    export PG_BIN="$bin" PG_DATA="$PG_DIR/data" PG_LOG="$PG_DIR/log" PG_OWNER=""
    export PG_OPTS="-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    [ "$(id -u)" -eq 0 ] && PG_OWNER=postgres
    pg_as "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -o "$PG_OPTS" start >/dev/null \
        || { cat "$PG_DIR/log" >&2; return 1; }
    pg_as "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres dataset || return 1
    export PG_URL="postgres://postgres@127.0.0.1:$port/dataset"
}
pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    pg_as "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}
