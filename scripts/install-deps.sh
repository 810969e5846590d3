#!/usr/bin/env bash
# Installs every Debian 12 package qnet needs to build, test and run the demo.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libnftnl-dev libmnl-dev libboost-dev libtomlplusplus-dev libcli11-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libc-ares-dev libpcap-dev libssl-dev
  libxen-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format-14
  nftables iproute2 iputils-ping curl tor wireguard-go iperf3 tcpdump graphviz procps psmisc
  python3-stem
  mmdebstrap
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts tor as a system service on install; qnet runs its own tor
# processes inside qubes and the lab, and never needs the host's.
if command -v systemctl >/dev/null && systemctl is-active --quiet tor 2>/dev/null; then
  systemctl stop tor || true
fi
