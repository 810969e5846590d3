#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: unit, netns (root,
# end to end in the lab), the unit tests again under ASan+UBSan, and short
# libFuzzer runs. With CI=true a skipped test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache (when installed) shares objects between clones and build trees:
# paths are hashed relative to the repository's root.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
bash scripts/install-deps.sh
bash scripts/build.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
echo "== format (clang-format-14)"
bash scripts/check-format.sh || status=1
run() {  # label, extra ctest args...
  local label=$1; shift
  echo "== ctest -L $label"
  (cd build && ctest -L "$label" --output-on-failure --timeout 600 "$@") 2>&1 | tee -a "$log" || status=1
}
run unit -j2
run netns -j2
# The kernel WireGuard backend's tests need the wireguard module; kernels
# without it (this project's CI machines) run that backend at the message
# level only (unit tests) and say so here.
# The probe runs in a throwaway network namespace, never the host's.
if unshare -n ip link add qnet-wgprobe type wireguard 2>/dev/null; then
  run wgmodule
else
  echo "== ctest -L wgmodule: not run, this kernel has no WireGuard module"
fi

echo "== unit tests under ASan+UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DQNET_SANITIZE=ON -DQNET_WERROR=ON \
  -DQNET_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)" --target qnet_unit_tests
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -L unit -j2 --output-on-failure) 2>&1 | tee -a "$log" || status=1

echo "== fuzz (short runs, clang libFuzzer)"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DQNET_FUZZ=ON -DQNET_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target qnet_fuzz_all
(cd build-fuzz && ctest -L fuzz --output-on-failure) 2>&1 | tee -a "$log" || status=1

if [[ "${CI:-}" == "true" ]] && grep -qE "\*\*\*Skipped|Not Run" "$log"; then
  echo "CI=true: a test was skipped (missing root, tor or wireguard-go?); failing." >&2
  grep -E "\*\*\*Skipped|Not Run" "$log" >&2
  status=1
fi
exit $status
