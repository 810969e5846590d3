#!/usr/bin/env bash
# The main job: install, build, bring up configs/basic.toml in the lab, show
# the qubes, fetch http://web.lab/ from the workstation, print what the web
# server saw, and bring everything down again (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null

export QNET_INSTANCE=demo
qnet=build/bin/qnet
trap '$qnet down --all >/dev/null 2>&1 || true' EXIT

echo "== qnet up configs/basic.toml"
start=$(date +%s.%N)
$qnet up configs/basic.toml
echo
echo "== qnet ls"
$qnet ls
echo
echo "== qnet exec work -- curl -s http://web.lab/"
seen=$($qnet exec work -- curl -s --max-time 10 http://web.lab/)
end=$(date +%s.%N)
echo "web.lab saw the request come from: $seen"
echo "(198.51.100.2 is sys-net's uplink: work -> sys-firewall -> sys-net -> lab)"
awk -v a="$start" -v b="$end" 'BEGIN { printf "qnet up to the answer: %.2f s\n", b - a }'
echo
echo "== the lab DNS log (every query with its source)"
cat /run/qnet/demo/lab/dns.log
echo
echo "== qnet graph"
$qnet graph
echo "== qnet down --all"
$qnet down --all
trap - EXIT
