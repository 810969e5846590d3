#!/usr/bin/env bash
# Firewall path benchmark: traffic from work through sys-firewall
# and sys-net to the lab web host, with 10,000 firewall rules loaded in
# sys-firewall against the same path with no client rules, both states
# measured alternately in the same run. Never pass/fail: prints every run,
# the medians and the B/A ratios against the 90% target.
#
#   sudo tests/bench/firewall_path.sh [BUILD_DIR]     (from the repo root; default build)
#
# State A: work has the default list (accept), no other client rules.
# State B: work has 10 rules, the matching `accept` last (the 9 before it
#   are evaluated for every packet work sends), plus SYNTH (999) synthetic
#   clients x 10 rules loaded into sys-firewall's table in one transaction
#   by firewall_load_synthetic (ids at the top of the qube id range).
# In each state: iperf3 (server in qb-fw-lab-web, client in qb-fw-work,
# IPERF_SECONDS), qnet-connrate --tcp and --udp (CONN_SECONDS each, WORKERS
# concurrent) from qb-fw-work to 203.0.113.10 port 7 (the lab's echo).
#
# Environment: RUNS (per state, default 5), IPERF_SECONDS (3), CONN_SECONDS
# (3), WORKERS (4), SYNTH (999), SETTLE (seconds after a state change, 1).
# Runs alternate A B, B A, ... so neither state always goes first.
#
# Instance qb-fw only; everything is removed on every exit path (trap):
# iperf3 and every process started here, `qnet down --all`, and the script
# checks that `ip netns list` holds no qb-fw-* namespace. Nothing is
# created or changed in the root namespace; all traffic stays between the
# instance's namespaces. Every command has a time bound.
set -euo pipefail

BUILD=${1:-build}
RUNS=${RUNS:-5}
IPERF_SECONDS=${IPERF_SECONDS:-3}
CONN_SECONDS=${CONN_SECONDS:-3}
WORKERS=${WORKERS:-4}
SYNTH=${SYNTH:-999}
SETTLE=${SETTLE:-1}
INST=qb-fw
DST=203.0.113.10
IPERF_PORT=5201

[[ $(id -u) == 0 ]] || { echo "firewall_path.sh: needs root" >&2; exit 2; }
BIN=$(readlink -f "$BUILD/bin")
QNET=$BIN/qnet
CONNRATE=$BIN/qnet-connrate
LOADER=$BIN/firewall_load_synthetic
for f in "$QNET" "$CONNRATE" "$LOADER"; do
  [[ -x $f ]] || { echo "firewall_path.sh: no $f (build qnet qnetd qnet-agent qnet-lab qnet-connrate firewall_load_synthetic)" >&2; exit 2; }
done
for c in iperf3 jq ss; do command -v $c >/dev/null || { echo "firewall_path.sh: $c missing" >&2; exit 2; }; done
[[ -f configs/basic.toml ]] || { echo "firewall_path.sh: run from the repo root" >&2; exit 2; }
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 20 ]] || { echo "bad RUNS=$RUNS (1-20)" >&2; exit 2; }
for v in IPERF_SECONDS CONN_SECONDS; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 && ${!v} -le 30 ]] || { echo "bad $v=${!v} (1-30)" >&2; exit 2; }
done
[[ $WORKERS =~ ^[0-9]+$ && $WORKERS -ge 1 && $WORKERS -le 64 ]] || { echo "bad WORKERS" >&2; exit 2; }
[[ $SYNTH =~ ^[0-9]+$ && $SYNTH -ge 1 && $SYNTH -le 5000 ]] || { echo "bad SYNTH" >&2; exit 2; }
[[ $SETTLE =~ ^[0-9]+$ && $SETTLE -le 10 ]] || { echo "bad SETTLE (0-10)" >&2; exit 2; }

NS_WORK=$INST-work
NS_FW=/run/netns/$INST-sys-firewall
NS_WEB=$INST-lab-web
TMP=$(mktemp -d /tmp/qnet-fwpath.XXXXXX)
IPERF_PID=''
SYNTH_LOADED=0

qn() { QNET_INSTANCE=$INST timeout -k 5 "${QNET_TIMEOUT:-120}" "$QNET" "$@"; }
our_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${INST}-" || true; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n $IPERF_PID ]]; then
    kill -TERM "$IPERF_PID" 2>/dev/null
    wait "$IPERF_PID" 2>/dev/null
  fi
  qn down --all >/dev/null 2>&1
  local ns pid left
  left=$(our_namespaces)
  if [[ -n $left ]]; then
    # Last resort: anything still living in our namespaces, then down again.
    for ns in $left; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    qn down --all >/dev/null 2>&1
  fi
  rm -rf "$TMP"
  left=$(our_namespaces)
  if [[ -n $left ]]; then
    echo "firewall_path.sh: namespaces left behind:" $left >&2
    rc=1
  else
    echo "cleanup: no ${INST}-* namespace left (ip netns list)" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v b="$1" -v a="$2" 'BEGIN {if (a > 0 && b != "-") printf "%.2f", b/a; else print "-"}'; }
verdict() { awk -v r="$1" 'BEGIN {if (r == "-") print "-"; else if (r >= 0.9) print "met"; else print "NOT met"}'; }

# work's 10 rules in state B: none of the first 9 matches the benchmark's
# traffic (TCP 5201 and 7, UDP 7 to 203.0.113.10), the last accepts.
WORK_RULES=(
  "accept dst4=198.18.1.0/24 proto=tcp dstports=443"
  "drop dst4=203.0.113.99 proto=tcp dstports=1-65535"
  "accept dst4=100.64.0.0/16 proto=udp dstports=1024-2047"
  "drop dst4=198.51.100.77 proto=icmp icmptype=13"
  "accept proto=icmp icmptype=8"
  "drop proto=udp dstports=5353"
  "drop dst4=203.0.113.0/24 proto=tcp dstports=22"
  "accept dst4=192.168.10.0/24"
  "drop dst4=198.19.0.0/16 proto=udp dstports=53"
)

state_a() {
  qn firewall work reset >/dev/null
  if (( SYNTH_LOADED )); then
    timeout -k 5 60 "$LOADER" --netns "$NS_FW" --count "$SYNTH" --remove >"$TMP/load.out"
    SYNTH_LOADED=0
  fi
}

state_b() {
  qn firewall work reset >/dev/null
  # On the default list, --before 0 keeps its `accept` last: 9 rules + accept.
  qn firewall work add --before 0 "${WORK_RULES[@]}" >/dev/null
  if (( ! SYNTH_LOADED )); then
    timeout -k 5 60 "$LOADER" --netns "$NS_FW" --count "$SYNTH" --add >"$TMP/load.out"
    SYNTH_LOADED=1
  fi
}

# Prints "mbits tcp_rate tcp_failed udp_rate udp_failed".
measure() {
  local out mbits tcp udp
  out=$(timeout -k 5 $((IPERF_SECONDS + 20)) ip netns exec "$NS_WORK" \
        iperf3 -c "$DST" -p "$IPERF_PORT" -t "$IPERF_SECONDS" -f m 2>&1) || { echo "iperf3 failed: $out" >&2; return 1; }
  mbits=$(awk '/receiver/ {print $(NF-2); exit}' <<<"$out")
  tcp=$(timeout -k 5 $((CONN_SECONDS + 20)) ip netns exec "$NS_WORK" "$CONNRATE" --tcp \
        --dst "$DST" --port 7 --workers "$WORKERS" --seconds "$CONN_SECONDS" --max-count 1000000 2>"$TMP/tcp.err")
  udp=$(timeout -k 5 $((CONN_SECONDS + 20)) ip netns exec "$NS_WORK" "$CONNRATE" --udp \
        --dst "$DST" --port 7 --workers "$WORKERS" --seconds "$CONN_SECONDS" --max-count 1000000 2>"$TMP/udp.err")
  field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
  echo "${mbits:-0} $(field rate "$tcp") $(field failed "$tcp") $(field rate "$udp") $(field failed "$udp")"
}

echo "qnet firewall_path: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
echo "build: $BUILD  order: A B, B A, ...  settle ${SETTLE}s  runs per state: $RUNS  iperf3 -t $IPERF_SECONDS  connrate ${CONN_SECONDS}s x $WORKERS workers  synthetic clients: $SYNTH"

qn down --all >/dev/null 2>&1 || true
qn up configs/basic.toml >"$TMP/up.out" 2>&1 || { echo "qnet up failed: $(cat "$TMP/up.out")" >&2; exit 1; }
# iperf3 server in the lab web host, bounded as a whole.
timeout -k 5 1800 ip netns exec "$NS_WEB" iperf3 -s -B "$DST" -p "$IPERF_PORT" >"$TMP/iperf3-server.log" 2>&1 &
IPERF_PID=$!
# Ready: the echo answers from work, and the iperf3 server listens.
ready=0
for _ in $(seq 1 100); do
  if ip netns exec "$NS_WORK" "$CONNRATE" --tcp --dst "$DST" --port 7 --workers 1 --seconds 1 --max-count 1 2>/dev/null | grep -q ' ok=1 ' &&
     ip netns exec "$NS_WEB" ss -Hltn "sport = :$IPERF_PORT" | grep -q LISTEN; then
    ready=1; break
  fi
  sleep 0.1
done
(( ready )) || { echo "firewall_path.sh: chain or iperf3 server not ready after 10 s" >&2; exit 1; }

A_MB=() A_TCP=() A_UDP=() B_MB=() B_TCP=() B_UDP=() FAILS=0
for ((r = 1; r <= RUNS; r++)); do
  # A B, then B A: neither state always goes first; SETTLE seconds after a
  # state change let the kernel finish freeing what the change removed.
  order="A B"; (( r % 2 )) || order="B A"
  for st in $order; do
    "state_${st,,}"
    sleep "$SETTLE"
    read -r mb tcp tf udp uf < <(measure)
    [[ -n ${uf:-} ]] || { echo "firewall_path.sh: measurement failed" >&2; exit 1; }
    FAILS=$((FAILS + ${tf%.*} + ${uf%.*}))
    if [[ $st == A ]]; then A_MB+=("$mb"); A_TCP+=("$tcp"); A_UDP+=("$udp"); else B_MB+=("$mb"); B_TCP+=("$tcp"); B_UDP+=("$udp"); fi
    extra=''
    [[ $st == B && $r == 1 ]] && extra=" [$(cat "$TMP/load.out")]"
    [[ $st == B ]] && qn firewall work list >"$TMP/work-list.txt"
    echo "run $r $st: iperf3 $mb Mbit/s | tcp $tcp conn/s ($tf failed) | udp $udp flows/s ($uf failed)$extra"
  done
done
# What state B looked like in sys-firewall (last run): its rules, and the hit
# count of work's final accept (the traffic went through work's 10 rules).
state_b
fw_rules=$(ip netns exec "$INST-sys-firewall" nft -j list table inet qnet | jq '[.nftables[] | select(.rule)] | length')
echo "state B: sys-firewall's table holds $fw_rules rules (work's 10 + ${SYNTH}x10 synthetic, each client's final drop, shared and base rules)"
echo "state B: work's rules with hit counts from the last B run (\`qnet firewall work list\`):"
sed 's/^/  /' "$TMP/work-list.txt"

row() { printf '%-28s %10s %10s %7s  %s\n' "$@"; }
echo
echo "medians; ratio = B/A (B: 10,000 rules loaded; A: no client rules); target: ratio >= 0.90"
row "measurement" "A" "B" "B/A" "target"
for m in "iperf3 Mbit/s:A_MB:B_MB" "TCP new conn/s:A_TCP:B_TCP" "UDP new flows/s:A_UDP:B_UDP"; do
  IFS=: read -r label an bn <<<"$m"
  declare -n av=$an bv=$bn
  a=$(median "${av[@]}"); b=$(median "${bv[@]}"); q=$(ratio "$b" "$a")
  row "$label" "$a" "$b" "$q" ">= 0.90: $(verdict "$q")"
  unset -n av bv
done
echo
echo "runs, iperf3 Mbit/s: A ${A_MB[*]} | B ${B_MB[*]}"
echo "runs, TCP conn/s:    A ${A_TCP[*]} | B ${B_TCP[*]}"
echo "runs, UDP flows/s:   A ${A_UDP[*]} | B ${B_UDP[*]}"
echo "failed attempts over all runs: $FAILS"
state_a  # leave the loaded clients out before teardown (checks --remove)
