#!/usr/bin/env bash
# WhatsApp ingestion measured: signed ~2 KB webhooks posted by 64 connections to
# `easymo serve whatsapp-webhook-worker` (release, SQLite, each message durable before the 200),
# closed loop for the peak then open loop at 10,000/s offered. Server on core 0, load on core 1.
# SQLite by default; PostgreSQL with BENCH_DATABASE_URL=postgres://user@host:port (a fresh
# database is created per run).
#   bash scripts/bench-webhook.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/easymo-target}
SECS=${BENCH_SECS:-10}
[[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release -q -p easymo -p bench
bin=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
server=
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
port=4813
export RATE_LIMIT_PER_MINUTE=1000000000 RATE_LIMIT_BURST=1000000 LOG_FORMAT=json RUST_LOG=warn \
    WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN=verify \
    WHATSAPP_WEBHOOK_WORKER_APP_SECRET=bench-app-secret
backend=SQLite
db=()
if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
    backend=PostgreSQL
    name=bench_$(date +%s%N)
    psql "${BENCH_DATABASE_URL}/postgres" -qc "CREATE DATABASE $name" >/dev/null
    db=(env "DATABASE_URL=${BENCH_DATABASE_URL}/$name")
fi
DATA_DIR=$work PORT=$port taskset -c 0 "${db[@]}" "$bin/easymo" serve whatsapp-webhook-worker --migrate >"$work/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.05; done
echo "| backend | load | webhooks/s | p50 ms | p99 ms | p99.9 ms | failed |"
echo "|---|---|---|---|---|---|---|"
taskset -c 1 "$bin/webhook-load" --url "http://127.0.0.1:$port" --secret bench-app-secret \
    --secs "$SECS" --label "$backend"
