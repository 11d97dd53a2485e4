#!/usr/bin/env bash
# Training stream benchmark: 1,000 WebSocket subscribers on one scripted job (plus one client
# that never reads), against references of 1 subscriber and of 1,000 without the stalled one.
# Reports publish-to-receipt latency p50/p99 and the server's peak RSS. Loopback only.
#
#   scripts/bench/ws.sh [BUILD_DIR]     (default build/dev; needs ws_test_server, ws_load_client)
#   CLIENTS=1000 EPOCHS=40 BATCHES=10 BATCH_MS=25 scripts/bench/ws.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/dev}"
server_bin="$build/tests/integration/ws_test_server"
client_bin="$build/tests/integration/ws_load_client"
clients="${CLIENTS:-1000}"
epochs="${EPOCHS:-40}"
batches="${BATCHES:-10}"
batch_ms="${BATCH_MS:-25}"

for bin in "$server_bin" "$client_bin"; do
    if [[ ! -x "$bin" ]]; then
        echo "missing $bin: cmake --build $build --target ws_test_server ws_load_client" >&2
        exit 1
    fi
done

# 1,000 sockets on each side need more than the usual 1,024 descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# run LABEL CLIENTS STALLED: one fresh server, one load run; prints one result line.
run() {
    local label="$1" n="$2" stalled="$3" out port pid idle_kb peak_kb report ticks
    out="$(mktemp)"
    "$server_bin" >"$out" 2>/dev/null &
    pid=$!
    until grep -q '^port=' "$out"; do sleep 0.05; done
    port="$(sed -n 's/^port=//p' "$out")"
    idle_kb="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"
    report="$("$client_bin" --port "$port" --job "bench-$n-$stalled" --clients "$n" \
        --stalled "$stalled" --epochs "$epochs" --batches "$batches" --batch-ms "$batch_ms")"
    peak_kb="$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")"
    ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
    stats="$(curl -s "http://127.0.0.1:$port/api/test/stats")"
    kill -TERM "$pid"
    wait "$pid" || true
    rm -f "$out"
    /usr/bin/python3 - "$label" "$idle_kb" "$peak_kb" "$report" "$stats" "$ticks" \
        "$(getconf CLK_TCK)" <<'PY'
import json, sys
label, idle_kb, peak_kb, report, stats, ticks, hz = sys.argv[1:]
r, s = json.loads(report), json.loads(stats)
cpu_us = int(ticks) / int(hz) * 1e6 / max(r["messages"], 1)
lat = r["latency_ms"]
print(f"{label:<28} p50={lat['p50']:7.2f} ms  p99={lat['p99']:7.2f} ms  max={lat['max']:7.2f} ms  "
      f"msgs/client={r['min_messages_per_client']}-{r['max_messages_per_client']}  "
      f"completed={r['completed']}/{r['clients']}  rss idle={int(idle_kb)/1024:.1f} MiB "
      f"peak={int(peak_kb)/1024:.1f} MiB  stalled_closed={r['stalled_closed_by_server']}/"
      f"{r['stalled']}  conflated={s['conflated']} overflowed={s['overflowed']}  "
      f"server cpu/msg={cpu_us:.1f} us")
print("RESULT " + json.dumps({"label": label, "p50": lat["p50"], "p99": lat["p99"],
                              "peak_kb": int(peak_kb), "idle_kb": int(idle_kb)}))
PY
}

echo "job: $epochs epochs x $batches batches, one batch every $batch_ms ms; progress throttled to ~10/s"
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (latency includes CPU contention)"
results="$(mktemp)"
run "reference: 1 subscriber" 1 0 | tee -a "$results" | grep -v "^RESULT "
run "$clients subscribers" "$clients" 0 | tee -a "$results" | grep -v "^RESULT "
run "$clients subscribers + 1 stalled" "$clients" 1 | tee -a "$results" | grep -v "^RESULT "

/usr/bin/python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line[7:]) for line in open(sys.argv[1]) if line.startswith("RESULT ")]
ref, many, stalled = rows
print(f"p99 ratio, many/reference: {many['p99'] / ref['p99']:.1f}x; "
      f"with a stalled client / without: {stalled['p99'] / many['p99']:.2f}x")
print(f"peak RSS growth for the subscribers: {(many['peak_kb'] - many['idle_kb']) / 1024:.1f} MiB "
      f"(reference {(ref['peak_kb'] - ref['idle_kb']) / 1024:.1f} MiB)")
PY
rm -f "$results"
