#!/usr/bin/env bash
# whatsapp-pricing's POST /v1/quotes over HTTP: quotes/s, p50 and p99 with 64 connections
# (closed loop), each quote priced for the four insurers and stored before its answer, with an
# Idempotency-Key and then without. `easymo serve whatsapp-pricing` (release) runs on core 0 with
# the conversation off, the load on core 1. SQLite by default; PostgreSQL with
# BENCH_DATABASE_URL=postgres://user@host:port (a fresh database per run).
#   bash scripts/bench-pricing.sh
set -euo pipefail
# shellcheck source=scripts/lib-bench.sh
source "$(dirname "$0")/lib-bench.sh"
bench_init
CLIENTS=${BENCH_CLIENTS:-64}
export WHATSAPP_PRICING_CONVERSATION=false
port=4921
bench_database
bench_serve whatsapp-pricing "$port"
echo "$backend"
echo "| load (connections) | Idempotency-Key | quotes/s | p50 ms | p99 ms | requests | failed |"
echo "|---|---|---|---|---|---|---|"
taskset -c 1 "$bin/pricing-load" --url "http://127.0.0.1:$port" --secs "$SECS" --clients "$CLIENTS"
taskset -c 1 "$bin/pricing-load" --url "http://127.0.0.1:$port" --secs "$SECS" --clients "$CLIENTS" --rate 0 --no-key
kill -TERM "$server"
wait "$server" || true
server=
