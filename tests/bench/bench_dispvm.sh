#!/usr/bin/env bash
# Disposable qubes: `qnet dispvm -- true` from command to exit (a new qube
# with its own user namespace, view and id range, its lockdown verified,
# linked to sys-firewall and configured, the command run, the qube and its
# files destroyed), without a netvm and with one, against a shell script
# that does the same namespaces and mounts with `unshare` and runs `true`
# (no user namespace, no idmapped mounts, no agent, no nftables: the floor
# of what a qube's view costs). Never pass/fail: prints medians and ratios
# (target: a disposable under 150 ms).
#
#   sudo tests/bench/bench_dispvm.sh [BUILD_DIR]     # default: build
# Environment: RUNS (default 20).
#
# Instance qbd-bench: brought down on every exit path; the baseline's
# namespaces die with its processes. Nothing is created in the root namespace.
set -euo pipefail

BUILD=$(readlink -f "${1:-build}")
RUNS=${RUNS:-20}
[[ $(id -u) == 0 ]] || { echo "bench_dispvm.sh: needs root" >&2; exit 2; }
[[ -f configs/basic.toml ]] || { echo "bench_dispvm.sh: run from the repo root" >&2; exit 2; }
[[ -x $BUILD/bin/qnet && -x $BUILD/bin/qnet-agent ]] || { echo "no qnet in $BUILD/bin" >&2; exit 2; }
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 1000 ]] || { echo "bad RUNS=$RUNS" >&2; exit 2; }

INST=qbd-bench
TMP=$(mktemp -d /tmp/qnet-bench-disp.XXXXXX)
qn() { QNET_INSTANCE=$INST timeout -k 5 120 "$BUILD/bin/qnet" "$@"; }
source "$(dirname "$0")/lib.sh"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  qn down --all >/dev/null 2>&1
  local q
  for q in /var/lib/qnet/"$INST"/qubes/*; do
    [[ -d $q ]] && QNET_INSTANCE=$INST "$BUILD/bin/qnet" remove "$(basename "$q")" >/dev/null
  done
  rm -rf "$TMP"
  local left
  left=$(ip netns list | awk '{print $1}' | grep -E "^$INST-" || true)
  [[ -z $left ]] || { echo "namespaces left behind: $left" >&2; rc=1; }
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# The baseline: the namespaces a qube has (mount, net, uts, ipc, pid) and
# the mounts of its view, by a shell script, then `true`.
cat >"$TMP/view.sh" <<'EOF'
set -e
mount --make-rprivate /
S=$1  # an empty directory; the tmpfs over it lives in this mount namespace only
mount -t tmpfs -o mode=0700,size=1g stage "$S"
R=$S/root
mkdir -p "$R" "$S"/{lower,upper,work}-{usr,etc}
mount -t tmpfs -o mode=0755,size=16m root "$R"
mkdir -p "$R"/{usr,etc,home/user,tmp,var/tmp,run,proc,sys,dev}
mount --bind -o ro /usr "$S/lower-usr"
mount -t overlay -o lowerdir="$S/lower-usr",upperdir="$S/upper-usr",workdir="$S/work-usr" o "$R/usr"
mount --bind -o ro /etc "$S/lower-etc"
mount -t overlay -o lowerdir="$S/lower-etc",upperdir="$S/upper-etc",workdir="$S/work-etc" o "$R/etc"
for l in bin sbin lib lib64; do [[ -L /$l ]] && ln -s "$(readlink /$l)" "$R/$l"; done
for d in tmp var/tmp run; do mount -t tmpfs -o mode=1777,size=256m t "$R/$d"; done
mount -t tmpfs -o mode=0755,size=64k dev "$R/dev"
for n in null zero full random urandom tty; do touch "$R/dev/$n"; mount --bind /dev/$n "$R/dev/$n"; done
mkdir -p "$R"/dev/{pts,shm,mqueue}
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777,size=64m shm "$R/dev/shm"
mount -t mqueue mqueue "$R/dev/mqueue"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
cd "$R"
mkdir -p .old
pivot_root . .old
umount -l /.old
exec /usr/bin/true
EOF

echo "qnet bench_dispvm: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build: $BUILD"
mkdir "$TMP/stage"
qn down --all >/dev/null 2>&1 || true
qn up configs/basic.toml >"$TMP/up.out" 2>&1 || { echo "up failed: $(cat "$TMP/up.out")" >&2; exit 1; }

declare -a BASE NONET NET
for ((r = 0; r < RUNS; r++)); do
  t0=$(now_ms)
  unshare -m -n -u -i -p -f bash "$TMP/view.sh" "$TMP/stage"
  BASE+=($(( $(now_ms) - t0 )))
  t0=$(now_ms)
  qn dispvm --netvm '' -- true
  NONET+=($(( $(now_ms) - t0 )))
  t0=$(now_ms)
  qn dispvm -- true
  NET+=($(( $(now_ms) - t0 )))
done
b=$(median "${BASE[@]}")
n0=$(median "${NONET[@]}")
n1=$(median "${NET[@]}")
printf '%-44s %8s %8s\n' "median of $RUNS runs (ms)" "ms" "ratio"
printf '%-44s %8s %8s\n' "unshare + the view's mounts + true (shell)" "$b" "1.00"
printf '%-44s %8s %8s\n' "qnet dispvm --netvm '' -- true" "$n0" "$(ratio "$n0" "$b")"
printf '%-44s %8s %8s\n' "qnet dispvm -- true (linked to sys-firewall)" "$n1" "$(ratio "$n1" "$b")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "BENCH_DISPVM base_ms=$b nonet_ms=$n0 net_ms=$n1 target_ms=150"
