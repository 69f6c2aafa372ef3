#!/usr/bin/env bash
# The purchase saga end to end, measured (issue 5): settled purchases/s with 64 purchases in
# flight, each intent -> quote -> purchase -> accepted (the buyer's saga: pending wallet transfer,
# then acceptance at the vendor) -> vendor and buyer confirm -> settled (transfer posted).
#
# The services run as they do at scale: one `easymo serve` process each (wallet, vendor, buyer;
# ranking too with BENCH_RANKING=1, consuming the same events), release builds, all on core 0,
# talking HTTP to each other and events over a private Redis bus (the buyer's
# `buyer.intent.created` must reach the vendor before it accepts a quote). The load and Redis run
# on core 1. SQLite by default (one file per service); PostgreSQL with
# BENCH_DATABASE_URL=postgres://user@host:port (a fresh database per service and run, dropped at
# exit).
#   bash scripts/bench-saga.sh
# BENCH_UP=1 runs every service in one `easymo up` process instead (SQLite, in-process bus, the
# embedded default), on core 0, on the default ports.
# Knobs: BENCH_SECS (20), BENCH_CLIENTS (64), BENCH_REDIS_PORT (6392), and the services' own
# variables, e.g. BUYER_SAGA_CONCURRENCY (4).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib-bench.sh
source scripts/lib-bench.sh # for bench_drop_databases
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/easymo-target}
SECS=${BENCH_SECS:-20}
CLIENTS=${BENCH_CLIENTS:-64}
redis_port=${BENCH_REDIS_PORT:-6392}
# BENCH_NO_BUILD=1 measures the binaries already built (others may be rebuilding the workspace).
[[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release -q -p easymo -p bench
bin=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
pids=()
bench_dbs=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    bench_drop_databases "${bench_dbs[@]}"
    rm -rf "$work"
}
trap cleanup EXIT
taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done
export SERVICE_JWT_KEYS=bench-key-0123456789abcdefghijklmnopqrstuv
export RATE_LIMIT_PER_MINUTE=1000000000 RATE_LIMIT_BURST=1000000 LOG_FORMAT=json RUST_LOG=warn
export REDIS_URL=redis://127.0.0.1:$redis_port REDIS_KEY_PREFIX=bench$$
declare -A pid=()
declare -A port=([wallet]=4821 [vendor]=4822 [buyer]=4823 [ranking]=4824)
export VENDOR_WALLET_URL=http://127.0.0.1:${port[wallet]}
export BUYER_WALLET_URL=http://127.0.0.1:${port[wallet]} BUYER_VENDOR_URL=http://127.0.0.1:${port[vendor]}
backend=SQLite
[[ -n ${BENCH_DATABASE_URL:-} ]] && backend=PostgreSQL
services=(wallet vendor buyer)
[[ -n ${BENCH_RANKING:-} ]] && services+=(ranking)
if [[ -n ${BENCH_UP:-} ]]; then
    port=([wallet]=4400 [vendor]=4600 [buyer]=4700 [ranking]=4500)
    backend="easymo up (SQLite, in-process bus)"
    DATA_DIR=$work taskset -c 0 env -u REDIS_URL -u VENDOR_WALLET_URL -u BUYER_WALLET_URL -u BUYER_VENDOR_URL \
        "$bin/easymo" up >"$work/up.log" 2>&1 &
    pids+=($!)
    for svc in "${services[@]}"; do pid[$svc]=$!; done
    services_to_start=()
else
    services_to_start=("${services[@]}")
fi
for svc in "${services_to_start[@]}"; do
    db=()
    if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
        name=bench_${svc}_$(date +%s%N)
        psql "${BENCH_DATABASE_URL}/postgres" -qc "CREATE DATABASE $name" >/dev/null
        bench_dbs+=("$name")
        db=(env "DATABASE_URL=${BENCH_DATABASE_URL}/$name")
    fi
    mkdir -p "$work/$svc"
    DATA_DIR=$work/$svc PORT=${port[$svc]} taskset -c 0 "${db[@]}" "$bin/easymo" serve "$svc" --migrate \
        >"$work/$svc.log" 2>&1 &
    pids+=($!)
    pid[$svc]=$!
done
for svc in "${services[@]}"; do
    until curl -sf "http://127.0.0.1:${port[$svc]}/ready" >/dev/null; do
        sleep 0.05
        if ! kill -0 "${pid[$svc]}" 2>/dev/null; then
            cat "$work"/*.log
            exit 1
        fi
    done
done
tok() { "$bin/easymo" token --ttl 7200 "$@"; }
buyer_token=$(tok --aud buyer --scope buyer:read --scope buyer:write)
vendor_token=$(tok --aud vendor --scope vendor:read --scope vendor:write --scope vendor:quote.write --scope vendor:admin)
wallet_token=$(tok --aud wallet --scope wallet:admin --scope wallet:transfer.write --scope wallet:accounts.write)
echo "| backend | load | settled/s | p50 ms | p99 ms | mean ms: intent / quote / purchase / until accepted / confirm+settle | failed |"
echo "|---|---|---|---|---|---|---|"
taskset -c 1 "$bin/saga-load" --buyer-url "http://127.0.0.1:${port[buyer]}" \
    --vendor-url "http://127.0.0.1:${port[vendor]}" --wallet-url "http://127.0.0.1:${port[wallet]}" \
    --buyer-token "$buyer_token" --vendor-token "$vendor_token" --wallet-token "$wallet_token" \
    --clients "$CLIENTS" --secs "$SECS" --label "$backend, ${services[*]}"
if [[ -n ${BENCH_KEEP_LOGS:-} ]]; then cp "$work"/*.log "${BENCH_KEEP_LOGS}/"; fi
