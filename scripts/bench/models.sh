#!/usr/bin/env bash
# Forward+backward time per batch of each backbone trunk on CPU: MedFusion's C++ modules beside
# the same torchvision models in Python, same thread count, same run; prints the ratio.
#
# Usage: scripts/bench/models.sh [BACKBONE...]
# Environment: BUILD_DIR (default build/dev), THREADS (default: all cores), BATCH (16),
#              IMAGE_SIZE (224), ITERATIONS (3, after one warm-up step).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${BUILD_DIR:-${root}/build/dev}"
threads="${THREADS:-$(nproc)}"
batch="${BATCH:-16}"
image_size="${IMAGE_SIZE:-224}"
iterations="${ITERATIONS:-3}"
backbones=("$@")
if [[ ${#backbones[@]} -eq 0 ]]; then
    backbones=(resnet18 resnet34 resnet50 resnet101 mobilenet_v2 mobilenet_v3_small
               mobilenet_v3_large efficientnet_b0 efficientnet_b1 efficientnet_b2 densenet121
               convnext_tiny convnext_small regnet_y_400mf regnet_y_800mf vit_b_16 vit_b_32 swin_t)
fi

cmake --build "${build_dir}" --target models_bench >/dev/null
bench="${build_dir}/tests/models/models_bench"

echo "batch=${batch} image_size=${image_size} threads=${threads} iterations=${iterations} (median)"
printf '%-20s %10s %10s %8s\n' backbone cpp_s python_s ratio
for name in "${backbones[@]}"; do
    cpp=$("${bench}" "${threads}" "${batch}" "${image_size}" "${iterations}" "${name}" | awk '{print $2}')
    py=$(/usr/bin/python3 "${root}/scripts/bench/models_bench.py" "${threads}" "${batch}" \
         "${image_size}" "${iterations}" "${name}" 2>/dev/null | awk '{print $2}')
    awk -v n="${name}" -v c="${cpp}" -v p="${py}" \
        'BEGIN { printf "%-20s %10.3f %10.3f %8.2f\n", n, c, p, c / p }'
done
