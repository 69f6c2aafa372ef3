#!/usr/bin/env bash
# The wallet over HTTP, measured: transfers/s with 64 connections and open-loop latency at
# 5,000/s offered, for 10,000 uniform accounts and for 10 hot accounts, every transfer
# idempotency-keyed and committed before its answer. The server (`easymo serve wallet`, release)
# runs on core 0, the load on core 1. SQLite by default; PostgreSQL with
# BENCH_DATABASE_URL=postgres://user@host:port (a fresh database is created per run).
#   bash scripts/bench-wallet.sh
set -euo pipefail
# shellcheck source=scripts/lib-bench.sh
source "$(dirname "$0")/lib-bench.sh"
bench_init
port=4811
token=$("$bin/easymo" token --aud wallet --scope wallet:transfer.write --scope wallet:accounts.write --scope wallet:admin --ttl 7200)
echo "| backend, accounts | load | transfers/s | p50 ms | p99 ms | failed |"
echo "|---|---|---|---|---|---|"
for accounts in 10000 10; do
    bench_database
    DATA_DIR=$work/$accounts PORT=$port taskset -c 0 "${db[@]}" "$bin/easymo" serve wallet --migrate >"$work/serve-$accounts.log" 2>&1 &
    server=$!
    until curl -sf "http://127.0.0.1:$port/ready" >/dev/null; do sleep 0.05; done
    taskset -c 1 "$bin/wallet-load" --url "http://127.0.0.1:$port" --token "$token" --accounts "$accounts" \
        --secs "$SECS" --label "$backend, $accounts accounts"
    kill -TERM "$server"
    wait "$server" || true
    server=
done
