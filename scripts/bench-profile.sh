#!/usr/bin/env bash
# The profile service over HTTP, measured: cached GET and updates with 64 connections, open-loop
# latency at a fixed offered rate, bare axum as the baseline, start-to-ready time, and the idle
# RSS of `easymo up`. The server is pinned to core 0 and the load to core 1.
#   bash scripts/bench-profile.sh            (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/easymo-target}
SECS=${BENCH_SECS:-10}
cargo build --release -q -p easymo -p bench
bin=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

wait_ready() { # url -> prints milliseconds until 200
    local t0 now
    t0=$(date +%s%N)
    until [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null) == 200 ]]; do sleep 0.005; done
    now=$(date +%s%N)
    echo $(((now - t0) / 1000000))
}

export SERVICE_JWT_KEYS=bench-key-0123456789abcdefghijklmnopqrstuv
export RATE_LIMIT_PER_MINUTE=100000000 RATE_LIMIT_BURST=1000000 LOG_FORMAT=json RUST_LOG=warn
port=4801
t0=$(date +%s%N)
DATA_DIR=$work/serve PORT=$port taskset -c 0 "$bin/easymo" serve profile --migrate >"$work/serve.log" 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null; do sleep 0.002; done
ready_ms=$((($(date +%s%N) - t0) / 1000000))
token=$("$bin/easymo" token --aud profile --scope profile:read --scope profile:write)
id=$(curl -s "http://127.0.0.1:$port/api/v1/profiles" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"whatsappE164":"+250781234567","name":"Bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
url="http://127.0.0.1:$port/api/v1/profiles/$id"

echo "## profile service benchmark ($(nproc) cores; server on core 0, load on core 1)"
echo "start to /ready 200 (serve, SQLite, migrations included): ${ready_ms} ms"
echo
echo "### cached GET, wrk -c64 -d${SECS}s"
taskset -c 1 wrk -t1 -c64 -d"${SECS}s" --latency -H "authorization: Bearer $token" "$url" |
    grep -E 'Requests/sec|  50%|  99%'
cat >"$work/patch.lua" <<LUA
wrk.method = "PATCH"
wrk.body = '{"displayName":"Bench Updated"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $token"
LUA
echo
echo "### update (PATCH, one durable commit each), wrk -c64 -d${SECS}s"
taskset -c 1 wrk -t1 -c64 -d"${SECS}s" --latency -s "$work/patch.lua" "$url" |
    grep -E 'Requests/sec|  50%|  99%|Non-2xx'
echo
echo "### cached GET at 5,000 req/s offered (open loop, 64 connections)"
taskset -c 1 "$bin/loadgen" --url "$url" --rate 5000 --secs "$SECS" --header "authorization: Bearer $token"
echo
taskset -c 0 "$bin/bare-axum" 4802 &
pids+=($!)
until curl -sf http://127.0.0.1:4802/profile >/dev/null; do sleep 0.01; done
echo "### bare axum JSON route (baseline), wrk -c64 -d${SECS}s"
taskset -c 1 wrk -t1 -c64 -d"${SECS}s" --latency http://127.0.0.1:4802/profile | grep -E 'Requests/sec|  50%|  99%'
echo
echo "### resident memory"
echo "easymo serve profile after the runs: $(grep VmRSS /proc/"${pids[0]}"/status | awk '{print $2/1024 " MB"}')"
DATA_DIR=$work/up "$bin/easymo" up >"$work/up.log" 2>&1 &
up=$!
pids+=($up)
up_ms=$(wait_ready http://127.0.0.1:4001/ready)
sleep 2
echo "easymo up: ready in ~${up_ms} ms; idle RSS $(grep VmRSS /proc/$up/status | awk '{print $2/1024 " MB"}')"
