#!/usr/bin/env bash
# Configures and builds qnet into build/ (Release with debug info, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache (when installed) shares objects between clones and build trees:
# paths are hashed relative to the repository's root.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQNET_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
