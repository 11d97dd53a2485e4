#!/usr/bin/env bash
# Installs what is missing, builds the dev preset, runs every test with CTest and checks
# formatting. The one command CI runs (through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

export MEDFUSION_SHARED_DATA="${MEDFUSION_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
jobs="${MEDFUSION_BUILD_JOBS:-$(nproc)}"

cmake --preset dev
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j 2 --timeout 1200

echo "checking formatting (clang-format 14)"
git ls-files -- '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run --Werror
echo "formatting ok"
