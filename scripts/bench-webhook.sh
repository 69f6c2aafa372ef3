#!/usr/bin/env bash
# WhatsApp ingestion measured: signed ~2 KB webhooks posted by 64 connections to
# `easymo serve whatsapp-webhook-worker` (release, SQLite, each message durable before the 200),
# closed loop for the peak then open loop at 10,000/s offered, then the open loop again on a fresh
# server and database. Server on core 0, load on core 1.
# SQLite by default; PostgreSQL with BENCH_DATABASE_URL=postgres://user@host:port (a fresh
# database is created per run).
#   bash scripts/bench-webhook.sh
set -euo pipefail
# shellcheck source=scripts/lib-bench.sh
source "$(dirname "$0")/lib-bench.sh"
bench_init
export WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN=verify WHATSAPP_WEBHOOK_WORKER_APP_SECRET=bench-app-secret
port=4813
bench_database
bench_serve whatsapp-webhook-worker "$port"
echo "| backend | load | webhooks/s | p50 ms | p99 ms | p99.9 ms | failed |"
echo "|---|---|---|---|---|---|---|"
taskset -c 1 "$bin/webhook-load" --url "http://127.0.0.1:$port" --secret bench-app-secret \
    --secs "$SECS" --label "$backend"
# Routing (processing) drains the backlog the load left: messages routed per second, measured
# over BENCH_DRAIN_SECS (default 3) once ingest is idle.
routed() {
    curl -s "http://127.0.0.1:$port/metrics" |
        awk '/^whatsapp_messages_processed_total/ {s += $2} END {print s + 0}'
}
drain=${BENCH_DRAIN_SECS:-3}
before=$(routed)
sleep "$drain"
after=$(routed)
echo
echo "routing after the load: $(((after - before) / drain)) messages/s ($before -> $after routed in ${drain} s)"
fresh_server() {
    kill -TERM "$server"
    wait "$server" || true
    server=
    rm -f "$work"/*.db "$work"/*.db-wal "$work"/*.db-shm
    bench_database
    bench_serve whatsapp-webhook-worker "$port"
}
# The offered rate again on a fresh server and database: above, it inherits the closed loop's
# backlog (~15 s of routing), so it measures the tail right after a flood, not at 10,000/s alone.
fresh_server
echo
taskset -c 1 "$bin/webhook-load" --url "http://127.0.0.1:$port" --secret bench-app-secret \
    --secs "$SECS" --label "$backend, fresh server" --no-closed
# Routing while webhooks keep coming at a rate one core can both store and route
# (BENCH_ROUTED_RATE, default 3,000/s): messages routed during the load against those stored.
rate=${BENCH_ROUTED_RATE:-3000}
fresh_server
taskset -c 1 "$bin/webhook-load" --url "http://127.0.0.1:$port" --secret bench-app-secret \
    --secs "$SECS" --rate "$rate" --label "$backend, fresh server" --no-closed >/dev/null
echo
echo "routing during ${rate}/s for ${SECS} s: $(routed) of $((rate * SECS)) messages routed"
