# Helpers the qube start-up benchmarks share (sourced, never run).

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# The median of integer samples ("-" for none).
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else printf "%d\n", (a[NR/2]+a[NR/2+1])/2}'; }
# n / base with two decimals ("-" when either is missing or base is 0).
ratio() { awk -v n="$1" -v b="$2" 'BEGIN {if (b > 0 && n != "-") printf "%.2f", n/b; else print "-"}'; }
