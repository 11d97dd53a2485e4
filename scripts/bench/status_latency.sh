#!/usr/bin/env bash
# Latency of GET /api/training/{id}/status while a job trains on PAD-UFES-20 (resnet18 +
# attention, 128 px, batch 32, all cores), beside the same request on the same server while
# no job runs. wrk, 4 connections, one I/O thread.
# Usage: scripts/bench/status_latency.sh [BUILD_DIR]   (default build/dev)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:-$root/build/dev}/src/app/medfusion"
data="$(cd "${MEDFUSION_SHARED_DATA:-$root/../shared/data}" && pwd)"
duration="${BENCH_DURATION:-15s}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

MEDFUSION_DATA_ROOTS="$data" MEDFUSION_DATA_BASE_DIR="$data" MEDFUSION_DATA_DIR="$work/state" \
MEDFUSION_OUTPUT_DIR="$work/out" MEDFUSION_ACCESS_LOG=false \
    "$bin" serve --port 0 --log-level warn >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/server.log")
    [[ -n "$port" ]] && break
    sleep 0.05
done
api="http://127.0.0.1:$port"

start_job() {
    curl -sS -X POST "$api/api/training/start" -H 'Content-Type: application/json' -d "{
      \"job_name\": \"$1\",
      \"config\": {\"data\": {\"train_csv\": \"pad_ufes_20/train.csv\", \"val_csv\": \"pad_ufes_20/val.csv\",
                            \"image_size\": 128, \"augmentation\": \"none\"},
                   \"model\": {\"vision_backbone\": \"resnet18\", \"fusion_type\": \"attention\"},
                   \"training\": {\"epochs\": $2, \"batch_size\": 32}}}" |
        sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p'
}

p99() {  # p99 URL -> "p50 p99 rps"
    wrk -t1 -c4 -d"$duration" --latency "$1" | awk '
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /Requests\/sec/ {rps=$2}
        END {printf "%.3f %.3f %.0f\n", p50, p99, rps}'
}

# Reference: a finished tiny job, nothing training.
idle_id=$(start_job idle 1)
while ! curl -sS "$api/api/training/$idle_id/status" | grep -q '"status":"completed"'; do sleep 1; done
read -r i50 i99 irps < <(p99 "$api/api/training/$idle_id/status")

busy_id=$(start_job busy 50)
while ! curl -sS "$api/api/training/$busy_id/status" | grep -q '"batch":[1-9]'; do sleep 0.5; done
read -r b50 b99 brps < <(p99 "$api/api/training/$busy_id/status")
curl -sS -X POST "$api/api/training/$busy_id/stop" >/dev/null

printf '\nGET /api/training/{id}/status, wrk -t1 -c4 -d%s, %s cores\n\n' "$duration" "$(nproc)"
printf '%-28s %10s %10s %12s\n' "" "p50 ms" "p99 ms" "requests/s"
printf '%-28s %10s %10s %12s\n' "no job training (reference)" "$i50" "$i99" "$irps"
printf '%-28s %10s %10s %12s\n' "job training, all cores" "$b50" "$b99" "$brps"
printf '\ntarget: p99 under 20 ms while training\n'
