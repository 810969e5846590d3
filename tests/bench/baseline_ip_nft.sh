#!/usr/bin/env bash
# Baseline for tests/bench/bench_up.sh: builds the same chain as qnet
# (app qubes -> sys-firewall -> sys-net -> lab) with plain `ip` and `nft`
# commands, curls through it, prints the timings and tears everything down.
#
#   tests/bench/baseline_ip_nft.sh [-n APPS] [-b BUILD_DIR] [-p PREFIX] [-t TIMEOUT_S] [-B] [-k SECS]
#
#   -n APPS    app qubes behind sys-firewall (default 1). With 1 the app is
#              called "work" (configs/basic.toml); otherwise app-1..app-APPS
#              and the curl goes from app-APPS.
#   -b DIR     qnet build dir, for bin/qnet-lab (default: build)
#   -p PREFIX  namespace prefix (default qbase-); every namespace whose name
#              starts with it is treated as this script's own and deleted.
#   -t SECS    bound on the whole run (default 120)
#   -B         batched: each qube's link, address, route and neighbour
#              commands go through one `ip -n NS -batch` (fewer processes);
#              default is one `ip` command per operation, as scripts do
#   -k SECS    keep the topology up this long after the curl (for a look
#              at it with ip/nft), then tear it down (default 0)
#
# Output (stdout, one line, milliseconds from the script's start of work):
#   BASELINE apps=N batch=0|1 lab_ms=L built_ms=B curl_ms=C
# lab_ms: the lab (router, web, dns) is up and its servers are ready;
# built_ms: every namespace, link, address, route, neighbour, sysctl and
# ruleset is in place (the analogue of `qnet up` returning);
# curl_ms: first curl from the last app qube that returned 198.51.100.2.
#
# Run as root. Never touches the root namespace's interfaces, routes or
# rules: every `ip` call goes through nsip (ip -n NS), links are created
# inside a namespace with their peer in another one.
set -euo pipefail

APPS=1
BUILD=build
PREFIX=qbase-
TIMEOUT_S=120
KEEP_S=0
BATCH=0
while getopts "n:b:p:t:k:Bh" opt; do
  case $opt in
    n) APPS=$OPTARG ;;
    b) BUILD=$OPTARG ;;
    p) PREFIX=$OPTARG ;;
    t) TIMEOUT_S=$OPTARG ;;
    k) KEEP_S=$OPTARG ;;
    B) BATCH=1 ;;
    h) sed -n '2,30p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
[[ $APPS =~ ^[0-9]+$ && $APPS -ge 1 && $APPS -le 1000 ]] || { echo "bad -n $APPS" >&2; exit 2; }
[[ $PREFIX =~ ^[a-z][a-z0-9-]*-$ ]] || { echo "bad prefix $PREFIX" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "baseline_ip_nft.sh: needs root" >&2; exit 2; }
LAB_BIN=$(readlink -f "$BUILD/bin/qnet-lab")
[[ -x $LAB_BIN ]] || { echo "no $BUILD/bin/qnet-lab" >&2; exit 2; }

TMP=$(mktemp -d /tmp/qbase.XXXXXX)
LAB_PIDS=()
WATCHDOG=""

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Every ip command runs in a named namespace, never in the root one.
nsip() { local ns=$1; shift; ip -n "$PREFIX$ns" "$@"; }
# The qubes' ip commands: run now, or queued for one `ip -batch` per qube.
qip() {
  local ns=$1; shift
  if (( BATCH )); then echo "$*" >>"$TMP/batch.$ns"; else nsip "$ns" "$@"; fi
}
flush_batches() {  # in chain order: a netvm's batch creates its clients' eth0
  (( BATCH )) || return 0
  local ns
  for ns in "$@"; do
    [[ -f $TMP/batch.$ns ]] && nsip "$ns" -batch "$TMP/batch.$ns"
  done
  return 0
}
nsexec() { local ns=$1; shift; ip netns exec "$PREFIX$ns" "$@"; }

our_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${PREFIX}" || true; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  kill -TERM "$WATCHDOG" 2>/dev/null; wait "$WATCHDOG" 2>/dev/null
  for pid in "${LAB_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for pid in "${LAB_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  local ns
  for ns in $(our_namespaces); do
    # Any process left inside one of our namespaces is ours: kill it by pid.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  for ns in $(our_namespaces); do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$TMP"
  local left
  left=$(our_namespaces)
  if [[ -n $left ]]; then echo "baseline: namespaces left behind: $left" >&2; rc=1; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A leftover of an aborted run with our own prefix: remove it first.
for ns in $(our_namespaces); do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns del "$ns"
done

# Bound the whole run: a watchdog that signals this script.
MAIN_PID=$$
(
  trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$TIMEOUT_S" & sp=$!
  wait "$sp" && kill -TERM "$MAIN_PID" 2>/dev/null
) &
WATCHDOG=$!

# Qubes' vmid_to_ipv4("10.137", N).
vmid_ip() {
  local n=$1
  if (( n < 255 )); then echo "10.137.$(( n >> 8 )).$(( n & 255 ))"
  else local m=$(( n - 1 )); echo "10.137.$(( m / 254 )).$(( m % 254 + 1 ))"; fi
}

# --- nft rulesets, as qnet installs them (one `nft -f` per qube) ----------
base_chains() {  # $1: capability (netvm|app)
  local cap=$1
  cat <<EOF
  counter drop-input { }
  counter drop-forward { }
  counter drop-output { }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    ip6 hoplimit 255 icmpv6 type nd-neighbor-solicit accept
    ip6 hoplimit 255 icmpv6 type nd-neighbor-advert accept
    jump $cap-input
    counter name "drop-input" drop
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    jump $cap-forward
    counter name "drop-forward" drop
  }
  chain output {
    type filter hook output priority filter; policy drop;
    oifname "lo" accept
    ip6 hoplimit 255 icmpv6 type nd-router-solicit accept
    ip6 hoplimit 255 icmpv6 type nd-neighbor-solicit accept
    ip6 hoplimit 255 icmpv6 type nd-neighbor-advert accept
    jump $cap-output
    counter name "drop-output" drop
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    jump $cap-prerouting
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    jump $cap-postrouting
  }
EOF
}

app_ruleset() {
  echo "table inet qnet {"
  cat <<EOF
  chain app-input {
    ct state established,related accept
    meta l4proto icmp accept
  }
  chain app-forward { }
  chain app-output { accept; }
  chain app-prerouting { }
  chain app-postrouting { }
EOF
  base_chains app
  echo "}"
}

# $1 uplink ifname, $2 DNS upstream, $3.. "vifN.0 . 10.137.x.y" elements
netvm_ruleset() {
  local uplink=$1 dns=$2; shift 2
  local elements=""
  if (( $# )); then elements="elements = { $(IFS=,; echo "$*") }"; fi
  echo "table inet qnet {"
  cat <<EOF
  set netvm-clients4 { type ifname . ipv4_addr; $elements }
  set netvm-clients6 { type ifname . ipv6_addr; }
  chain netvm-input {
    iifname "vif*" iifname . ip saddr != @netvm-clients4 counter drop
    ct state established,related accept
    iifname "vif*" meta l4proto icmp accept
    iifname "vif*" udp dport 53 accept
    iifname "vif*" tcp dport 53 accept
  }
  chain netvm-forward {
    iifname "vif*" iifname . ip saddr != @netvm-clients4 counter drop
    meta nfproto ipv6 counter drop
    iifname "vif*" oifname "vif*" counter drop
    ct state established,related accept
    ct state invalid drop
    iifname "vif*" oifname "$uplink" accept
  }
  chain netvm-output { accept; }
  chain netvm-prerouting {
    iifname "vif*" ip daddr 10.139.1.1 udp dport 53 dnat ip to ${dns%% *}
    iifname "vif*" ip daddr 10.139.1.1 tcp dport 53 dnat ip to ${dns%% *}
    iifname "vif*" ip daddr 10.139.1.2 udp dport 53 dnat ip to ${dns##* }
    iifname "vif*" ip daddr 10.139.1.2 tcp dport 53 dnat ip to ${dns##* }
  }
  chain netvm-postrouting {
    oifname "$uplink" masquerade
  }
EOF
  base_chains netvm
  echo "}"
}

# --- the lab ----------------------------------------------------------------
lab_host() {  # $1 name, $2 address, $3.. qnet-lab args
  local name=$1 addr=$2; shift 2
  local ns=lab-$name
  ip netns add "$PREFIX$ns"
  nsexec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  nsip lab-router link add "${name}0" type veth peer name eth0 netns "$PREFIX$ns"
  nsip lab-router link set "${name}0" master lab0 up
  nsip "$ns" link set lo up
  nsip "$ns" link set eth0 up
  nsip "$ns" addr add "$addr/24" dev eth0
  nsip "$ns" route add default via 203.0.113.1 dev eth0
  local fifo=$TMP/$name.ready
  mkfifo "$fifo"
  ip netns exec "$PREFIX$ns" "$LAB_BIN" "$@" --ready-fd 3 3>"$fifo" </dev/null >/dev/null 2>"$TMP/$name.err" &
  LAB_PIDS+=("$!")
  local line=""
  read -r -t 10 line <"$fifo" || true
  [[ $line == ready* ]] || { echo "baseline: lab $name not ready: $(cat "$TMP/$name.err")" >&2; exit 1; }
}

T0=$(now_ms)

ip netns add "${PREFIX}lab-router"
nsexec lab-router sysctl -qw net.ipv4.ip_forward=1 \
  net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
nsip lab-router link set lo up
nsip lab-router link add lab0 type bridge
nsip lab-router addr add 203.0.113.1/24 dev lab0
nsip lab-router link set lab0 up

printf 'web.lab A 203.0.113.10 60\nweb.lab AAAA 2001:db8:2::10 60\ndns.lab A 203.0.113.53 60\ndns.lab AAAA 2001:db8:2::53 60\nvpn.lab A 203.0.113.20 60\n' >"$TMP/records"
: >"$TMP/dns.log"
lab_host web 203.0.113.10 web
lab_host dns 203.0.113.53 dns --records "$TMP/records" --log "$TMP/dns.log"
T_LAB=$(now_ms)

# --- the qubes ----------------------------------------------------------------
# Lockdown first, as qnet does: each qube gets its IPv6 off and its whole
# table before any of its links comes up.
new_qube() {  # $1 name, $2 forward (0|1)
  ip netns add "$PREFIX$1"
  nsexec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 "net.ipv4.ip_forward=$2"
  qip "$1" link set lo up
}

# A client qube behind a netvm: vifN.0 in the netvm, eth0 in the client.
# $1 netvm, $2 netvm id, $3 client, $4 client id
link_client() {
  local nv=$1 nvid=$2 cl=$3 clid=$4
  local nvip clip vif=vif$4.0
  nvip=$(vmid_ip "$nvid"); clip=$(vmid_ip "$clid")
  qip "$nv" link add "$vif" address fe:ff:ff:ff:ff:ff type veth peer name eth0 netns "$PREFIX$cl"
  qip "$cl" addr add "$clip/32" dev eth0
  qip "$cl" link set eth0 up
  qip "$cl" neigh replace "$nvip" lladdr fe:ff:ff:ff:ff:ff dev eth0 nud permanent
  qip "$cl" route add "$nvip/32" dev eth0 scope link
  qip "$cl" route add default via "$nvip" dev eth0
  qip "$nv" addr add "$nvip/32" dev "$vif"
  qip "$nv" link set "$vif" up
  qip "$nv" route add "$clip/32" dev "$vif" scope link src "$nvip"
}

if (( APPS == 1 )); then APP_NAMES=(work); else APP_NAMES=(); for ((i = 1; i <= APPS; i++)); do APP_NAMES+=("app-$i"); done; fi

# sys-net (id 1), uplink to the lab router.
new_qube sys-net 1
netvm_ruleset uplink0 "203.0.113.53 203.0.113.53" "\"vif2.0\" . $(vmid_ip 2)" | nsexec sys-net nft -f -
nsip lab-router link add sysnet0 type veth peer name uplink0 netns "${PREFIX}sys-net"
nsip lab-router addr add 198.51.100.1/24 dev sysnet0
nsip lab-router link set sysnet0 up
qip sys-net addr add 198.51.100.2/24 dev uplink0
qip sys-net link set uplink0 up
qip sys-net route add default via 198.51.100.1 dev uplink0

# sys-firewall (id 2) behind sys-net.
new_qube sys-firewall 1
elements=()
for ((i = 0; i < APPS; i++)); do elements+=("\"vif$((i + 3)).0\" . $(vmid_ip $((i + 3)))"); done
netvm_ruleset eth0 "10.139.1.1 10.139.1.2" "${elements[@]}" | nsexec sys-firewall nft -f -
link_client sys-net 1 sys-firewall 2

# The app qubes (ids 3..) behind sys-firewall.
proxy=()
for ((i = 0; i < APPS; i++)); do
  name=${APP_NAMES[$i]} id=$((i + 3))
  new_qube "$name" 0
  app_ruleset | nsexec "$name" nft -f -
  link_client sys-firewall 2 "$name" "$id"
  proxy+=("net.ipv4.conf.vif$id/0.proxy_arp=1")
done
flush_batches sys-net sys-firewall "${APP_NAMES[@]}"
nsexec sys-net sysctl -qw net.ipv4.conf.vif2/0.proxy_arp=1
nsexec sys-firewall sysctl -qw "${proxy[@]}"

T_BUILT=$(now_ms)

# --- first working curl from the last app qube --------------------------------
LAST=${APP_NAMES[$((APPS - 1))]}
deadline=$(( $(now_ms) + 30000 ))
got=""
while (( $(now_ms) < deadline )); do
  got=$(nsexec "$LAST" curl -s --max-time 2 http://203.0.113.10/ || true)
  [[ $got == 198.51.100.2 ]] && break
  sleep 0.01
done
T_CURL=$(now_ms)
[[ $got == 198.51.100.2 ]] || { echo "baseline: curl from $LAST never answered 198.51.100.2 (got '$got')" >&2; exit 1; }

echo "BASELINE apps=$APPS batch=$BATCH lab_ms=$((T_LAB - T0)) built_ms=$((T_BUILT - T0)) curl_ms=$((T_CURL - T0))"
[[ $KEEP_S =~ ^[0-9]+$ ]] && (( KEEP_S > 0 )) && sleep "$KEEP_S"
exit 0
