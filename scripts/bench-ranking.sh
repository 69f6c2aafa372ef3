#!/usr/bin/env bash
# The ranking over HTTP, measured (issue 5): 10,000 vendors of one tenant in 10 regions and 8
# categories, `GET /ranking/vendors` with a region and two categories, limit 20, by 64
# connections: req/s closed loop, then p50/p99 at 1,000 req/s offered (open loop). Aims: p99 <=
# 10 ms at 1,000/s and >= 5,000 req/s.
#
# Seeding is honest and fast: the 10,000 `vendor.created` events (the vendor service's payload)
# are published on a private Redis bus before `easymo serve ranking` consumes them, so the
# projection is built by ranking's own consumer and inbox (no SQL written behind its back, no
# 10,000 POST /vendors with their wallet calls). The load starts once ranking has applied all.
#
# The server (release) runs on core 0, the load on core 1. SQLite by default; PostgreSQL with
# BENCH_DATABASE_URL=postgres://user@host:port (a fresh database is created per run).
#   bash scripts/bench-ranking.sh
# Knobs: BENCH_SECS (10), BENCH_VENDORS (10000), BENCH_RATE (1000), BENCH_REDIS_PORT (6391).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/easymo-target}
SECS=${BENCH_SECS:-10}
VENDORS=${BENCH_VENDORS:-10000}
RATE=${BENCH_RATE:-1000}
redis_port=${BENCH_REDIS_PORT:-6391}
# BENCH_NO_BUILD=1 measures the binaries already built (others may be rebuilding the workspace).
[[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release -q -p easymo -p bench
bin=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
server=''
redis=''
bench_dbs=()
# shellcheck source=scripts/lib-bench.sh
source scripts/lib-bench.sh # for bench_drop_databases
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null || true
    [[ -n $redis ]] && kill "$redis" 2>/dev/null || true
    wait 2>/dev/null || true
    bench_drop_databases "${bench_dbs[@]}"
    rm -rf "$work"
}
trap cleanup EXIT
# A throwaway Redis (no persistence) on core 1, with the load generator.
taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" >"$work/redis.log" 2>&1 &
redis=$!
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done
export SERVICE_JWT_KEYS=bench-key-0123456789abcdefghijklmnopqrstuv
export RATE_LIMIT_PER_MINUTE=1000000000 RATE_LIMIT_BURST=1000000 LOG_FORMAT=json RUST_LOG=warn
export REDIS_URL=redis://127.0.0.1:$redis_port REDIS_KEY_PREFIX=bench$$
backend=SQLite
db=()
if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
    backend=PostgreSQL
    name=bench_$(date +%s%N)
    psql "${BENCH_DATABASE_URL}/postgres" -qc "CREATE DATABASE $name" >/dev/null
    bench_dbs+=("$name")
    db=(env "DATABASE_URL=${BENCH_DATABASE_URL}/$name")
fi
port=4815
token=$("$bin/easymo" token --aud ranking --scope ranking:read --ttl 7200)
DATA_DIR=$work PORT=$port taskset -c 0 "${db[@]}" "$bin/easymo" serve ranking --migrate >"$work/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
    sleep 0.05
done
echo "| backend, vendors | load | req/s | p50 ms | p99 ms | p99.9 ms | failed |"
echo "|---|---|---|---|---|---|---|"
taskset -c 1 "$bin/ranking-load" --url "http://127.0.0.1:$port" --token "$token" \
    --redis-url "$REDIS_URL" --redis-prefix "$REDIS_KEY_PREFIX" --vendors "$VENDORS" \
    --secs "$SECS" --rate "$RATE" --label "$backend, $VENDORS vendors"
kill -TERM "$server"
wait "$server" || true
server=
