#!/usr/bin/env bash
# The main job, end to end: set-up, release build, data, server, a training job streamed live,
# evaluation with an HTML report, then a clean stop.
#   scripts/demo.sh                      the built-in synthetic dataset
#   scripts/demo.sh --data DIR           a dataset folder with train.csv, val.csv (test.csv)
#   scripts/demo.sh --config FILE        another job body (default configs/demo.json)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

data_dir=""
job_file="configs/demo.json"
while (($#)); do
    case "$1" in
        --data) data_dir="$2"; shift 2 ;;
        --config) job_file="$2"; shift 2 ;;
        -h|--help) sed -n 2,6p "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

step() { printf '\n==> %s\n' "$*"; }

step "Installing packages (scripts/setup.sh)"
bash scripts/setup.sh

step "Building (release)"
cmake --preset release >/dev/null
cmake --build --preset release --target medfusion -j "$(nproc)"
bin="$root/build/release/src/app/medfusion"

work="$root/out/demo"
mkdir -p "$work"
if [[ -z "$data_dir" ]]; then
    data_dir="$work/data"
    step "Writing the built-in demo dataset to $data_dir"
    "$bin" demo-data --out "$data_dir" --cases 600 --seed 7
fi
data_dir=$(cd "$data_dir" && pwd)
[[ -f "$data_dir/train.csv" ]] || { echo "no train.csv in $data_dir" >&2; exit 2; }

step "Starting the server"
log="$work/server.log"
MEDFUSION_DATA_ROOTS="$data_dir" MEDFUSION_DATA_BASE_DIR="$data_dir" \
MEDFUSION_DATA_DIR="$work/state" MEDFUSION_OUTPUT_DIR="$work/outputs" MEDFUSION_ACCESS_LOG=false \
    "$bin" serve --port 0 >"$log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "${port:-}" ]] || { cat "$log"; echo "server did not start" >&2; exit 1; }
api="http://127.0.0.1:$port"
curl -sf "$api/api/system/health"; echo

step "Starting a training job ($job_file)"
response=$(curl -sS -X POST "$api/api/training/start" -H 'Content-Type: application/json' \
    -d @"$job_file")
echo "$response"
job_id=$(printf '%s' "$response" | sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p')
[[ -n "$job_id" ]] || exit 1

step "Following job $job_id live (medfusion watch)"
"$bin" watch "$job_id" --url "ws://127.0.0.1:$port" || true
curl -sS "$api/api/training/$job_id/status"; echo

step "Registered models"
models=$(curl -sS "$api/api/models")
echo "$models"
model_id=$(printf '%s' "$models" | sed -n 's/.*"model_id":"\([^"]*\)".*/\1/p' | head -1)
[[ -n "$model_id" ]] || { echo "training did not register a model" >&2; exit 1; }

test_csv="test.csv"
[[ -f "$data_dir/test.csv" ]] || test_csv="val.csv"
step "Evaluating $model_id on $test_csv"
evaluation=$(curl -sS -X POST "$api/api/models/$model_id/evaluate" \
    -H 'Content-Type: application/json' -d "{\"test_csv\": \"$test_csv\", \"split\": \"test\"}")
/usr/bin/python3 - "$evaluation" <<'PY'
import json, sys
result = json.loads(sys.argv[1])
if "metrics" not in result:
    sys.exit(f"evaluation failed: {result}")
m = result["metrics"]
for key in ("accuracy", "balanced_accuracy", "auc", "f1_score", "kappa", "log_loss"):
    if key in m and m[key] is not None:
        print(f"  {key:18s} {m[key]:.4f}")
ci = m.get("confidence_intervals", {})
for key, (lo, hi) in ci.items():
    print(f"  {key + ' 95% CI':18s} [{lo:.3f}, {hi:.3f}]")
print(f"\nReport: {result['report_path']}")
PY

step "Stopping the server"
kill -TERM "$server_pid"
wait "$server_pid" && echo "server exited cleanly"
trap - EXIT
