#!/usr/bin/env bash
# Installs every Debian package MedFusion needs to build, run, test and benchmark.
# Idempotent: packages already present are skipped, so re-running costs a few seconds.
set -euo pipefail

readonly PACKAGES=(
    # toolchain
    build-essential cmake ninja-build ccache pkg-config clang-format-14 git curl bc
    # libraries
    libboost-dev libboost-system-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
    libyaml-cpp-dev libgtest-dev libgmock-dev libopencv-dev libgdcm-dev
    libsqlitecpp-dev libsqlite3-dev libcli11-dev libtorch-dev
    # benchmarks and test references
    wrk python3-torch python3-torchvision python3-sklearn python3-websockets
    python3-numpy python3-yaml chromium
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "setup: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
