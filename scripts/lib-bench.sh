# Shared by the scripts/bench-*.sh scripts (sourced): the release build, a work directory removed
# at exit with the server in it stopped, load-friendly service settings, and the database choice.
#   bench_init            build (unless BENCH_NO_BUILD=1), set $bin, $work, $SECS; trap cleanup
#   bench_database        set $backend and $db: SQLite, or a fresh PostgreSQL database when
#                         BENCH_DATABASE_URL=postgres://user@host:port is set (prefix a command
#                         with "${db[@]}" to point it there); dropped at exit
#   bench_serve SVC PORT  start `easymo serve SVC --migrate` on core 0 and wait for /ready
# shellcheck shell=bash disable=SC2034 # the globals set here are the callers'

bench_init() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.." || return 1
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/easymo-target}
    SECS=${BENCH_SECS:-10}
    # BENCH_NO_BUILD=1 measures the binaries already built (others may be rebuilding the workspace).
    [[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release -q -p easymo -p bench
    bin=$CARGO_TARGET_DIR/release
    work=$(mktemp -d)
    server=''
    bench_dbs=()
    trap bench_cleanup EXIT
    export SERVICE_JWT_KEYS=${SERVICE_JWT_KEYS:-bench-key-0123456789abcdefghijklmnopqrstuv}
    export RATE_LIMIT_PER_MINUTE=1000000000 RATE_LIMIT_BURST=1000000 LOG_FORMAT=json RUST_LOG=warn
}

bench_cleanup() {
    if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; fi
    bench_drop_databases "${bench_dbs[@]}"
    rm -rf "$work"
}

# bench_drop_databases NAME...: a benchmark's databases hold a few hundred MB each.
bench_drop_databases() {
    local name
    for name in "$@"; do
        psql "${BENCH_DATABASE_URL}/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" \
            >/dev/null 2>&1 || true
    done
}

bench_database() {
    backend=SQLite
    db=()
    if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
        backend=PostgreSQL
        local name
        name=bench_$(date +%s%N)
        psql "${BENCH_DATABASE_URL}/postgres" -qc "CREATE DATABASE $name" >/dev/null
        bench_dbs+=("$name")
        db=(env "DATABASE_URL=${BENCH_DATABASE_URL}/$name")
    fi
}

bench_serve() {
    local svc=$1 port=$2
    DATA_DIR=$work PORT=$port taskset -c 0 "${db[@]}" "$bin/easymo" serve "$svc" --migrate \
        >"$work/serve-$svc.log" 2>&1 &
    server=$!
    until curl -sf "http://127.0.0.1:$port/ready" >/dev/null; do
        sleep 0.05
        kill -0 "$server" 2>/dev/null || { cat "$work/serve-$svc.log"; return 1; }
    done
}
