#!/usr/bin/env bash
# Training throughput on PAD-UFES-20 (resnet18 + attention fusion, 128 px, batch 32, all cores):
# the C++ trainer beside the same model and loading in PyTorch, in one run; prints both and
# the ratio. Each side warms up, then times a window of full batches of the first epoch.
# Usage: scripts/bench/train.sh [dataset dir]   (MEDFUSION_BENCH_BUILD: build folder)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MEDFUSION_BENCH_BUILD:-$root/build/dev}"
data="$(cd "${1:-${MEDFUSION_SHARED_DATA:-$root/../shared/data}/pad_ufes_20}" && pwd)"
warmup="${MEDFUSION_BENCH_WARMUP:-2}"
measured="${MEDFUSION_BENCH_BATCHES:-12}"
workers="${MEDFUSION_BENCH_WORKERS:-0,1,2}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target train_bench -j2 >/dev/null

# One config per loader worker count; each side is taken at its best worker count. The two
# sides alternate per worker count, so load from other processes drifts over both alike.
write_config() {
    cat >"$scratch/config$1.json" <<JSON
{"data": {"train_csv": "$data/train.csv", "val_csv": "$data/val.csv", "image_size": 128,
          "augmentation": "none", "num_workers": $1},
 "model": {"vision_backbone": "resnet18", "fusion_type": "attention"},
 "training": {"epochs": 1, "batch_size": 32, "num_threads": 0, "device": "cpu",
              "mixed_precision": "none"}}
JSON
}

cpp=0
py=0
for w in ${workers//,/ }; do
    write_config "$w"
    c="$("$build/tests/train/train_bench" "$scratch/config$w.json" "$scratch/job$w" "$warmup" \
        "$measured" | awk '/cpp_samples_per_second/ {print $2}')"
    p="$(/usr/bin/python3 "$root/scripts/bench/train_pytorch.py" "$data" --warmup "$warmup" \
        --measured "$measured" --workers "$w" | awk '/python_samples_per_second/ {print $2}')"
    echo "workers $w: C++ $c samples/s, PyTorch $p samples/s"
    cpp="$(awk -v a="$cpp" -v b="$c" 'BEGIN { print (b > a ? b : a) }')"
    py="$(awk -v a="$py" -v b="$p" 'BEGIN { print (b > a ? b : a) }')"
done
awk -v c="$cpp" -v p="$py" 'BEGIN { printf "best: C++ %.2f samples/s, PyTorch %.2f samples/s, " \
    "ratio %.2fx (target >= 1.1x)\n", c, p, c / p }'

# The other half: the API stays responsive while a job saturates the CPU.
"$root/scripts/bench/status_latency.sh" "$build"
