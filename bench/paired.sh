#!/usr/bin/env bash
# Compare two builds of sipwarp_bench on a machine whose speed drifts (a
# shared VM): run them in turn, ROUNDS times, each a median of 3
# repetitions, and print per benchmark the values of every round side by side.
#   bench/paired.sh OLD_BENCH NEW_BENCH [FILTER] [ROUNDS]
# e.g. bench/paired.sh /tmp/base/build/bench/sipwarp_bench build/bench/sipwarp_bench 'BM_parse|BM_worker/'
# Wall time only means something in pairs here; instruction counts
# (callgrind, bench/cg_breakdown.py) do not drift.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD_BENCH NEW_BENCH [FILTER] [ROUNDS]" >&2; exit 2; }
old=$1 new=$2 filter=${3:-BM_parse|BM_worker/} rounds=${4:-3}
out=$(mktemp -d /tmp/sipwarp-paired.XXXXXX)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
	for side in old new; do
		bin=$old
		[ "$side" = new ] && bin=$new
		"$bin" --benchmark_filter="$filter" --benchmark_min_time=0.5 \
			--benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null |
			awk -v s="$side" '/_median/ {
				v = $2 " " $3
				for (i = 4; i <= NF; i++)
					if ($i ~ /^(time_per_msg|ns_per_msg)=/) { split($i, a, "="); v = a[2] }
				sub(/_median$/, "", $1); print $1, s, v }' >>"$out/all"
	done
done
awk '{ k = $1; v[k, $2] = v[k, $2] "  " $3 ($4 != "" ? " " $4 : ""); if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
	END { for (i = 1; i <= n; i++) { k = order[i]; printf "%-24s old:%s\n%-24s new:%s\n", k, v[k, "old"], "", v[k, "new"] } }' "$out/all"
