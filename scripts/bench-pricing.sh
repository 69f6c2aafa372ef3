#!/usr/bin/env bash
# whatsapp-pricing's POST /v1/quotes over HTTP: quotes/s, p50 and p99 with 64 connections
# (closed loop), each quote priced for the four insurers and stored before its answer, with an
# Idempotency-Key and then without. `easymo serve whatsapp-pricing` (release) runs on core 0 with
# the conversation off, the load on core 1. SQLite by default; PostgreSQL with
# BENCH_DATABASE_URL=postgres://user@host:port (a fresh database per run).
#   bash scripts/bench-pricing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/easymo-target}
SECS=${BENCH_SECS:-10}
CLIENTS=${BENCH_CLIENTS:-64}
[[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release -q -p easymo -p bench
bin=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
server=
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export SERVICE_JWT_KEYS=bench-key-0123456789abcdefghijklmnopqrstuv
export RATE_LIMIT_PER_MINUTE=1000000000 RATE_LIMIT_BURST=1000000 LOG_FORMAT=json RUST_LOG=warn
export WHATSAPP_PRICING_CONVERSATION=false
backend=SQLite
db=()
if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
    backend=PostgreSQL
    name=bench_$(date +%s%N)
    psql "${BENCH_DATABASE_URL}/postgres" -qc "CREATE DATABASE $name" >/dev/null
    db=(env "DATABASE_URL=${BENCH_DATABASE_URL}/$name")
fi
port=4921
DATA_DIR=$work PORT=$port taskset -c 0 "${db[@]}" "$bin/easymo" serve whatsapp-pricing --migrate >"$work/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null; do sleep 0.05; done
echo "$backend"
echo "| connections | Idempotency-Key | quotes/s | p50 ms | p99 ms | requests | failed |"
echo "|---|---|---|---|---|---|---|"
taskset -c 1 "$bin/pricing-load" --url "http://127.0.0.1:$port" --secs "$SECS" --clients "$CLIENTS"
taskset -c 1 "$bin/pricing-load" --url "http://127.0.0.1:$port" --secs "$SECS" --clients "$CLIENTS" --no-key
kill -TERM "$server"
wait "$server" || true
server=
