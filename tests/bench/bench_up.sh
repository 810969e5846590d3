#!/usr/bin/env bash
# Foundation benchmarks: how fast `qnet up` gives a working chain, against a
# plain ip/nft script (tests/bench/baseline_ip_nft.sh) doing the same work in
# the same run, and how much memory an idle qube's agent takes.
# Never pass/fail: prints figures, medians and ratios.
#
#   sudo tests/bench/bench_up.sh [BUILD_DIR]        (from the repo root; default build)
#
# Environment: RUNS (basic chain runs, default 5), RUNS_BIG (100-app runs,
# default 3), APPS (app qubes in the big chain, default 100), SKIP_BIG=1.
#
# Instances qb-up and qb-100, baseline namespaces qbase-*: all removed on
# every exit path. Nothing is created or changed in the root namespace.
set -euo pipefail

BUILD=${1:-build}
RUNS=${RUNS:-5}
RUNS_BIG=${RUNS_BIG:-3}
APPS=${APPS:-100}
SKIP_BIG=${SKIP_BIG:-0}
INST_UP=qb-up
INST_BIG=qb-100
BASE_PREFIX=qbase-
HERE=$(cd "$(dirname "$0")" && pwd)
BASELINE=$HERE/baseline_ip_nft.sh

[[ $(id -u) == 0 ]] || { echo "bench_up.sh: needs root" >&2; exit 2; }
QNET=$(readlink -f "$BUILD/bin/qnet")
AGENT_BIN=$(readlink -f "$BUILD/bin/qnet-agent")
[[ -x $QNET && -x $AGENT_BIN ]] || { echo "bench_up.sh: no qnet in $BUILD/bin" >&2; exit 2; }
[[ -f configs/basic.toml ]] || { echo "bench_up.sh: run from the repo root" >&2; exit 2; }
for v in RUNS RUNS_BIG APPS; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 && ${!v} -le 1000 ]] || { echo "bad $v=${!v}" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/qnet-bench.XXXXXX)

source "$(dirname "$0")/lib.sh"
qn() { local inst=$1; shift; QNET_INSTANCE=$inst timeout -k 5 "${QNET_TIMEOUT:-120}" "$QNET" "$@"; }
down() { qn "$1" down --all >/dev/null 2>&1 || true; }
our_namespaces() {
  ip netns list | awk '{print $1}' | grep -E "^(${INST_UP}-|${INST_BIG}-|${BASE_PREFIX})" || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  down "$INST_UP"
  down "$INST_BIG"
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${BASE_PREFIX}"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$TMP"
  local left
  left=$(our_namespaces)
  if [[ -n $left ]]; then
    echo "bench_up.sh: namespaces left behind:" $left >&2
    rc=1
  else
    echo "cleanup: no ${INST_UP}-*, ${INST_BIG}-* or ${BASE_PREFIX}* namespace left (ip netns list)" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# qnet: `qnet up FILE`, then curl from QUBE until it answers sys-net's uplink
# address. Prints "up_ms curl_ms" (both from before `qnet up`).
qnet_run() {
  local inst=$1 file=$2 qube=$3
  down "$inst"
  local t0 t1 t2 got="" deadline
  t0=$(now_ms)
  qn "$inst" up "$file" >"$TMP/up.out" 2>&1 || { echo "qnet up failed: $(cat "$TMP/up.out")" >&2; return 1; }
  t1=$(now_ms)
  deadline=$(( t1 + 30000 ))
  while (( $(now_ms) < deadline )); do
    got=$(QNET_INSTANCE=$inst timeout -k 2 5 "$QNET" exec "$qube" -- curl -s --max-time 2 http://203.0.113.10/ 2>/dev/null || true)
    [[ $got == 198.51.100.2 ]] && break
    sleep 0.01
  done
  t2=$(now_ms)
  [[ $got == 198.51.100.2 ]] || { echo "qnet: curl from $qube never answered (got '$got')" >&2; return 1; }
  echo "$((t1 - t0)) $((t2 - t0))"
}

# baseline: $1 apps, $2 extra flag (-B: batched ip); prints "built_ms curl_ms".
base_run() {
  local out
  out=$(timeout -k 10 200 "$BASELINE" -n "$1" -b "$BUILD" -p "$BASE_PREFIX" -t 180 ${2:-}) || { echo "baseline failed" >&2; return 1; }
  local built curl
  built=$(sed -n 's/.*built_ms=\([0-9]*\).*/\1/p' <<<"$out")
  curl=$(sed -n 's/.*curl_ms=\([0-9]*\).*/\1/p' <<<"$out")
  echo "$built $curl"
}

# Idle agent memory of an instance: VmRSS and Pss (smaps_rollup) in kB of
# every qnet-agent process (the init, PID 1 of the qube, and the agent it
# runs) whose command line names the instance. Prints
# "qubes init_rss agent_rss init_pss agent_pss" (sums, kB).
agent_mem() {
  local inst=$1 pid exe cmd role rss pss
  local n=0 irss=0 arss=0 ipss=0 apss=0
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    exe=$(readlink "$d/exe" 2>/dev/null) || continue
    [[ $exe == "$AGENT_BIN" || $exe == "$AGENT_BIN (deleted)" ]] || continue
    cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
    [[ " $cmd " == *" --instance $inst "* ]] || continue
    role=$(awk '{print $2}' <<<"$cmd")
    rss=$(awk '/^VmRSS:/ {print $2}' "$d/status" 2>/dev/null || echo 0)
    pss=$(awk '/^Pss:/ {print $2}' "$d/smaps_rollup" 2>/dev/null || echo 0)
    case $role in
      init) n=$((n + 1)); irss=$((irss + rss)); ipss=$((ipss + pss)) ;;
      agent) arss=$((arss + rss)); apss=$((apss + pss)) ;;
    esac
  done
  echo "$n $irss $arss $ipss $apss"
}

echo "qnet bench_up: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
echo "build: $BUILD  runs: basic $RUNS, big $RUNS_BIG ($APPS apps)"
echo

# --- a + b: configs/basic.toml against the baseline -----------------------------
Q_UP=() Q_CURL=() B_UP=() B_CURL=() BB1_UP=() BB1_CURL=()
for ((r = 1; r <= RUNS; r++)); do
  u='' c=''; read -r u c < <(qnet_run "$INST_UP" configs/basic.toml work)
  [[ -n ${c:-} ]] || exit 1
  Q_UP+=("$u"); Q_CURL+=("$c")
  down "$INST_UP"
  bu='' bc=''; read -r bu bc < <(base_run 1)
  [[ -n ${bc:-} ]] || exit 1
  B_UP+=("$bu"); B_CURL+=("$bc")
  xu='' xc=''; read -r xu xc < <(base_run 1 -B)
  [[ -n ${xc:-} ]] || exit 1
  BB1_UP+=("$xu"); BB1_CURL+=("$xc")
  echo "basic run $r: qnet up ${u} ms, curl ${c} ms | script built ${bu} ms, curl ${bc} ms | batched script built ${xu} ms, curl ${xc} ms"
done

# --- c + d: 100 app qubes behind one firewall ---------------------------------
QB_UP=() QB_CURL=() BB_UP=() BB_CURL=() XB_UP=() XB_CURL=() M_QUBES=() M_QUBE_RSS=() M_PROC_RSS=() M_INIT_RSS=() M_AGENT_RSS=() M_QUBE_PSS=()
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
    u='' c=''; read -r u c < <(qnet_run "$INST_BIG" "$big" "app-$APPS")
    [[ -n ${c:-} ]] || exit 1
    QB_UP+=("$u"); QB_CURL+=("$c")
    sleep 2  # idle
    read -r n irss arss ipss apss < <(agent_mem "$INST_BIG")
    M_QUBES+=("$n")
    if (( n > 0 )); then
      M_QUBE_RSS+=($(( (irss + arss) / n ))); M_INIT_RSS+=($(( irss / n ))); M_AGENT_RSS+=($(( arss / n )))
      M_PROC_RSS+=($(( (irss + arss) / (2 * n) ))); M_QUBE_PSS+=($(( (ipss + apss) / n )))
    fi
    down "$INST_BIG"
    bu='' bc=''; read -r bu bc < <(base_run "$APPS")
    [[ -n ${bc:-} ]] || exit 1
    BB_UP+=("$bu"); BB_CURL+=("$bc")
    xu='' xc=''; read -r xu xc < <(base_run "$APPS" -B)
    [[ -n ${xc:-} ]] || exit 1
    XB_UP+=("$xu"); XB_CURL+=("$xc")
    echo "big run $r: qnet up ${u} ms, curl ${c} ms, agents: ${n} qubes, init ${irss} kB + agent ${arss} kB RSS, Pss $((ipss + apss)) kB | script built ${bu} ms, curl ${bc} ms | batched script built ${xu} ms, curl ${xc} ms"
  done
fi

# --- the table ------------------------------------------------------------------
row() { printf '%-42s %7s %8s %6s %8s %6s  %s\n' "$@"; }
timing_row() {  # label, target, qnet runs / script runs / batched runs as "a b c"
  local q b x
  q=$(median $3); b=$(median $4); x=$(median $5)
  row "$1" "$q" "$b" "$(ratio "$b" "$q")" "$x" "$(ratio "$x" "$q")" "$2"
}
echo
echo "medians in ms (memory in kB); script = baseline_ip_nft.sh, batched = baseline_ip_nft.sh -B"
echo "ratio = baseline/qnet: > 1 means qnet is faster"
row "measurement" "qnet" "script" "ratio" "batched" "ratio" "target"
timing_row "basic: up returns / script built" "-" "${Q_UP[*]}" "${B_UP[*]}" "${BB1_UP[*]}"
timing_row "basic: up to first working curl" "< 1000 ms, ratio > 1" "${Q_CURL[*]}" "${B_CURL[*]}" "${BB1_CURL[*]}"
if [[ $SKIP_BIG != 1 ]]; then
  timing_row "$APPS apps: up returns / script built" "< 10000 ms, ratio > 1" "${QB_UP[*]}" "${BB_UP[*]}" "${XB_UP[*]}"
  timing_row "$APPS apps: up to curl from app-$APPS" "< 10000 ms, ratio > 1" "${QB_CURL[*]}" "${BB_CURL[*]}" "${XB_CURL[*]}"
  if (( ${#M_QUBE_RSS[@]} )); then
    row "idle agent VmRSS per qube (init+agent)" "$(median "${M_QUBE_RSS[@]}")" "-" "-" "-" "-" "< 5120 kB"
    row "  of which init" "$(median "${M_INIT_RSS[@]}")" "-" "-" "-" "-" ""
    row "  of which agent" "$(median "${M_AGENT_RSS[@]}")" "-" "-" "-" "-" ""
    row "idle agent VmRSS per process" "$(median "${M_PROC_RSS[@]}")" "-" "-" "-" "-" "< 5120 kB"
    row "idle agent Pss per qube (init+agent)" "$(median "${M_QUBE_PSS[@]}")" "-" "-" "-" "-" "(info)"
    row "qubes counted (init processes)" "$(median "${M_QUBES[@]}")" "-" "-" "-" "-" "$((APPS + 2))"
  fi
fi
echo
echo "runs, basic curl ms: qnet ${Q_CURL[*]} | script ${B_CURL[*]} | batched ${BB1_CURL[*]}"
[[ $SKIP_BIG == 1 ]] || echo "runs, $APPS apps up/built ms: qnet ${QB_UP[*]} | script ${BB_UP[*]} | batched ${XB_UP[*]}"
[[ $SKIP_BIG == 1 ]] || echo "runs, $APPS apps curl ms: qnet ${QB_CURL[*]} | script ${BB_CURL[*]} | batched ${XB_CURL[*]}"
