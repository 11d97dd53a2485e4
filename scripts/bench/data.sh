#!/usr/bin/env bash
# Data loading benchmark on the PAD-UFES-20 images at 224 px: single-threaded decoding beside
# decode+augment through the BatchLoader with 1 and 2 workers, in one run.
# Usage: scripts/bench/data.sh [dataset dir] [image_size] [augmentation]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MEDFUSION_BENCH_BUILD:-$root/build/dev}"
data="${1:-${MEDFUSION_SHARED_DATA:-$root/../shared/data}/pad_ufes_20}"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target data_bench -j2 >/dev/null
"$build/tests/data/data_bench" "$data" "${2:-224}" "${3:-medium}"
