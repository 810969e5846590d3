#!/usr/bin/env bash
# Containment benchmarks: what qubes that contain their root (a user
# namespace, a view built from locked mounts, a sticky id range) cost, against
# the commit before that change built beside this one, in the same run:
# `qnet up` of the basic chain and of APPS app qubes (up returns, and up to
# the first working curl), and `qnet exec QUBE -- true` end to end. Never
# pass/fail: prints medians and ratios (target: new/base <= 1.25).
#
#   sudo tests/bench/bench_containment.sh NEW_BUILD BASE_BUILD
#
# BASE_BUILD: a build dir of the commit before the change, e.g.
#   git archive <commit> | tar -x -C DIR && cmake -S DIR -B DIR/build -G Ninja \
#     -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build DIR/build --target qnet qnetd qnet-agent qnet-lab
# Environment: RUNS (default 5), RUNS_BIG (default 2), APPS (default 100),
# EXECS (exec runs, default 20), SKIP_BIG=1.
#
# Instances qbc-new-*, qbc-base-*: brought down (and their qubes' storage
# removed) on every exit path. Nothing is created in the root namespace.
set -euo pipefail

NEW=$(readlink -f "${1:?usage: bench_containment.sh NEW_BUILD BASE_BUILD}")
BASE=$(readlink -f "${2:?usage: bench_containment.sh NEW_BUILD BASE_BUILD}")
RUNS=${RUNS:-5}
RUNS_BIG=${RUNS_BIG:-2}
APPS=${APPS:-100}
EXECS=${EXECS:-20}
SKIP_BIG=${SKIP_BIG:-0}
[[ $(id -u) == 0 ]] || { echo "bench_containment.sh: needs root" >&2; exit 2; }
[[ -f configs/basic.toml ]] || { echo "bench_containment.sh: run from the repo root" >&2; exit 2; }
for b in "$NEW" "$BASE"; do
  [[ -x $b/bin/qnet && -x $b/bin/qnet-agent ]] || { echo "no qnet in $b/bin" >&2; exit 2; }
done
for v in RUNS RUNS_BIG APPS EXECS; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 && ${!v} -le 1000 ]] || { echo "bad $v=${!v}" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/qnet-bench-cont.XXXXXX)
INSTANCES=(qbc-new-up qbc-base-up qbc-new-big qbc-base-big)
build_of() { [[ $1 == qbc-new-* ]] && echo "$NEW" || echo "$BASE"; }
qn() { local inst=$1; shift; QNET_INSTANCE=$inst timeout -k 5 "${QNET_TIMEOUT:-180}" "$(build_of "$inst")/bin/qnet" "$@"; }
down() { qn "$1" down --all >/dev/null 2>&1 || true; }
source "$(dirname "$0")/lib.sh"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local inst q
  for inst in "${INSTANCES[@]}"; do
    down "$inst"
    for q in /var/lib/qnet/"$inst"/qubes/*; do
      [[ -d $q ]] && QNET_INSTANCE=$inst "$NEW/bin/qnet" remove "$(basename "$q")" >/dev/null
    done
  done
  rm -rf "$TMP"
  local left
  left=$(ip netns list | awk '{print $1}' | grep -E '^qbc-' || true)
  [[ -z $left ]] || { echo "namespaces left behind: $left" >&2; rc=1; }
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# Prints "up_ms curl_ms" for one `qnet up` of file in inst, curl from qube.
up_run() {
  local inst=$1 file=$2 qube=$3 t0 t1 got="" deadline
  down "$inst"
  t0=$(now_ms)
  qn "$inst" up "$file" >"$TMP/up.out" 2>&1 || { echo "$inst: up failed: $(cat "$TMP/up.out")" >&2; return 1; }
  t1=$(now_ms)
  deadline=$(( t1 + 30000 ))
  while (( $(now_ms) < deadline )); do
    got=$(QNET_TIMEOUT=5 qn "$inst" exec "$qube" -- curl -s --max-time 2 http://203.0.113.10/ 2>/dev/null || true)
    [[ $got == 198.51.100.2 ]] && break
    sleep 0.01
  done
  [[ $got == 198.51.100.2 ]] || { echo "$inst: curl never answered" >&2; return 1; }
  echo "$((t1 - t0)) $(( $(now_ms) - t0 ))"
}

# Prints the median of EXECS runs of `qnet exec work -- true` (ms).
exec_runs() {
  local inst=$1 t0 r out=()
  for ((r = 0; r < EXECS; r++)); do
    t0=$(now_ms)
    qn "$inst" exec work -- true
    out+=($(( $(now_ms) - t0 )))
  done
  median "${out[@]}"
}

echo "qnet bench_containment: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "new: $NEW  base: $BASE"
declare -A UP CURL EX
for ((r = 1; r <= RUNS; r++)); do
  for side in new base; do
    read -r u c < <(up_run "qbc-$side-up" configs/basic.toml work) || exit 1
    UP[$side]+="$u " CURL[$side]+="$c "
    EX[$side]+="$(exec_runs "qbc-$side-up") "
    down "qbc-$side-up"
  done
  echo "basic run $r: new up ${u:-}.. | up ms new [${UP[new]}] base [${UP[base]}]"
done
if [[ $SKIP_BIG != 1 ]]; then
  big=$TMP/big.toml
  {
    printf '[chain]\nname = "bench-%s"\nipv6 = "off"\n\n[lab]\n\n' "$APPS"
    printf '[qube.sys-net]\nrole = "net"\nlabel = "red"\n\n'
    printf '[qube.sys-firewall]\nrole = "firewall"\nlabel = "green"\nnetvm = "sys-net"\n\n'
    for ((i = 1; i <= APPS; i++)); do
      printf '[qube.app-%d]\nrole = "app"\nlabel = "blue"\nnetvm = "sys-firewall"\n\n' "$i"
    done
  } >"$big"
  for ((r = 1; r <= RUNS_BIG; r++)); do
    for side in new base; do
      read -r u c < <(up_run "qbc-$side-big" "$big" "app-$APPS") || exit 1
      UP[big-$side]+="$u " CURL[big-$side]+="$c "
      down "qbc-$side-big"
    done
    echo "big run $r: up ms new [${UP[big-new]}] base [${UP[big-base]}]"
  done
fi

row() { printf '%-40s %8s %8s %6s\n' "$@"; }
cmp_row() { local n b; n=$(median $2); b=$(median $3); row "$1" "$n" "$b" "$(ratio "$n" "$b")"; }
echo
echo "medians in ms; ratio = new/base (target <= 1.25)"
row "measurement" "new" "base" "ratio"
cmp_row "basic: up returns" "${UP[new]}" "${UP[base]}"
cmp_row "basic: up to first working curl" "${CURL[new]}" "${CURL[base]}"
cmp_row "qnet exec work -- true" "${EX[new]}" "${EX[base]}"
if [[ $SKIP_BIG != 1 ]]; then
  cmp_row "$APPS apps: up returns" "${UP[big-new]}" "${UP[big-base]}"
  cmp_row "$APPS apps: up to curl from app-$APPS" "${CURL[big-new]}" "${CURL[big-base]}"
fi
