#!/usr/bin/env bash
# HTTP throughput and latency: wrk against MedFusion's /api/system/health and /api/system/info
# (one I/O thread), beside a bare Beast coroutine server answering the same JSON, in one run.
# Usage: scripts/bench/http.sh [BUILD_DIR]   (default build/release, else build/dev)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-}"
if [[ -z "$build" ]]; then
    for candidate in build/release build/dev; do
        [[ -x "$candidate/src/app/medfusion" ]] && build="$candidate" && break
    done
fi
bin="$build/src/app/medfusion"
ref="$build/tests/server/http_reference_server"
[[ -x "$bin" ]] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
[[ -x "$ref" ]] || ref="build/dev/tests/server/http_reference_server"
command -v wrk >/dev/null || { echo "wrk missing: run scripts/setup.sh" >&2; exit 2; }

duration="${BENCH_DURATION:-10s}"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

start() {  # start LOG CMD... ; prints the port
    local log="$1"; shift
    "$@" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do
        port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
        [[ -n "$port" ]] && { echo "$port"; return; }
        sleep 0.05
    done
    cat "$log" >&2; exit 1
}

measure() {  # measure URL -> "rps p50_ms p99_ms"
    wrk -t1 -c50 -d"$duration" --latency "$1" >"$work/wrk.txt"
    awk '/Requests\/sec/ {rps=$2}
         /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
         function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
         END {printf "%.0f %.3f %.3f\n", rps, ms(p50), ms(p99)}' "$work/wrk.txt"
}

ours=$(MEDFUSION_DATA_DIR="$work/state" MEDFUSION_OUTPUT_DIR="$work/out" MEDFUSION_ACCESS_LOG=false \
       start "$work/server.log" "$bin" serve --port 0 --log-level warn)
theirs=$(start "$work/ref.log" "$ref")

read -r h_rps h_p50 h_p99 < <(measure "http://127.0.0.1:$ours/api/system/health")
read -r i_rps i_p50 i_p99 < <(measure "http://127.0.0.1:$ours/api/system/info")
read -r r_rps r_p50 r_p99 < <(measure "http://127.0.0.1:$theirs/")
ours_log=$(MEDFUSION_DATA_DIR="$work/state2" MEDFUSION_OUTPUT_DIR="$work/out2" \
           start "$work/server2.log" "$bin" serve --port 0 --log-level warn)
read -r a_rps a_p50 a_p99 < <(measure "http://127.0.0.1:$ours_log/api/system/health")

printf '\nwrk -t1 -c50 -d%s, one I/O thread, %s cores\n\n' "$duration" "$(nproc)"
printf '%-40s %12s %10s %10s %14s\n' "endpoint" "requests/s" "p50 ms" "p99 ms" "vs bare Beast"
row() { printf '%-40s %12s %10s %10s %13.2fx\n' "$1" "$2" "$3" "$4" "$(echo "$2 / $r_rps" | bc -l)"; }
row "bare Beast reference (fixed JSON)" "$r_rps" "$r_p50" "$r_p99"
row "medfusion /api/system/health" "$h_rps" "$h_p50" "$h_p99"
row "medfusion /api/system/health +access log" "$a_rps" "$a_p50" "$a_p99"
row "medfusion /api/system/info" "$i_rps" "$i_p50" "$i_p99"
printf '\ntarget: health >= 50000 requests/s, p99 < 5 ms\n'
