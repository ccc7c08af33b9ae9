#!/usr/bin/env bash
# The whole benchmark suite in one run, sipwarp and Kamailio side by side:
#
#   sudo bench/run.sh            full run (8-10 minutes on 2 vCPUs; under 30)
#   sudo bench/run.sh --short    everyday run (about 3 minutes)
#
# 1. micro: build/bench/sipwarp_bench (Google Benchmark) -> micro.json
# 2. net_ring: build/bench/sipwarp-bench-ring at 10, 1k, 10k and 100k rules,
#    rings kept full (throughput, cycles per message; full mode: the best
#    of three runs, all three listed) and one message in flight at a time
#    (latency) -> ring-rN-{tput,lat}.json
# 3. SIPp calls through sipwarp (TAP) and through Kamailio 5.6 (dialplan,
#    stateless forward) at the same sizes: CPU per SIP message and the
#    highest sustained calls/s -> e2e-{sipwarp,kamailio}-rN.json
# 4. bench/results/<timestamp>/report.md and chart.png (bench/report.py)
#
# Installs what is missing (Debian packages: kamailio, sip-tester,
# libbenchmark-dev, python3-matplotlib, bc), builds build/, and prints one
# line per step with the elapsed time. Needs root (network namespaces, TAP).
# Uses only loopback and namespaces of its own in 198.18.0.0/15, and stops
# what it starts by pid. Timings are only meaningful on a quiet machine: the
# load average is recorded in the report.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
WORKLOAD=${WORKLOAD:-$SRC/../shared/workload}
MODE=full
SIZES=(10 1000 10000 100000)
ENGINES=(sipwarp kamailio)

while [ $# -gt 0 ]; do
	case $1 in
	--short) MODE=short ;;
	--sizes) IFS=, read -ra SIZES <<<"$2"; shift ;;
	--engines) IFS=, read -ra ENGINES <<<"$2"; shift ;;
	-h | --help)
		sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
		echo "options: --short, --sizes 10,1000,... , --engines sipwarp,kamailio"
		exit 0 ;;
	*) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

# RING_REPS: net_ring throughput runs per size; the report takes the best
# (on a shared VM other tenants only ever add time) and lists them all
if [ "$MODE" = short ]; then
	MICRO_MIN_TIME=0.1 RING_S=2 RING_REPS=1
	export E2E_STEP=2 E2E_START=500 E2E_MAX=4000 E2E_BISECT=0
else
	MICRO_MIN_TIME=1 RING_S=5 RING_REPS=3
	export E2E_STEP=5 E2E_START=500 E2E_MAX=16000 E2E_BISECT=2
fi

# Debian's python3 (matplotlib from apt), not a pyenv shim in front of it.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=$SRC/bench/results/$STAMP
WORK=$OUT/work
mkdir -p "$WORK"
T0=$(date +%s)

step() { # a progress line: [mm:ss] text
	local t=$(($(date +%s) - T0))
	printf '[%02d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*"
}
die() { step "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, TAP devices); run it with sudo"

step "sipwarp bench, $MODE mode, results in ${OUT#"$SRC"/}"
{
	echo "mode=$MODE"
	echo "start_utc=$(date -u +%FT%TZ)"
	echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/env.txt"

# ---- 1. what is missing ---------------------------------------------------
need=()
command -v kamailio >/dev/null || need+=(kamailio)
command -v sipp >/dev/null || need+=(sip-tester)
command -v bc >/dev/null || need+=(bc)
pkg-config --exists benchmark 2>/dev/null || need+=(libbenchmark-dev)
$PY -c 'import matplotlib' 2>/dev/null || need+=(python3-matplotlib)
if [ ${#need[@]} -gt 0 ]; then
	step "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" \
		>"$OUT/apt.log" 2>&1 || {
		apt-get update >>"$OUT/apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" \
			>>"$OUT/apt.log" 2>&1
	} || die "apt-get install failed (see $OUT/apt.log)"
fi

# ---- 2. build ---------------------------------------------------------------
step "building $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "$SRC" -Dbench=enabled >"$OUT/build.log" 2>&1 || die "meson setup failed ($OUT/build.log)"
fi
ninja -C "$BUILD" -j2 >>"$OUT/build.log" 2>&1 || die "build failed ($OUT/build.log)"
[ -x "$BUILD/bench/sipwarp_bench" ] || die "no $BUILD/bench/sipwarp_bench (is libbenchmark-dev found by meson?)"

# ---- 3. workloads ---------------------------------------------------------
step "workloads: ${SIZES[*]} rules"
for n in "${SIZES[@]}"; do
	d=$WORK/r$n
	mkdir -p "$d"
	if [ -r "$WORKLOAD/r$n/rules.tsv" ]; then
		cp "$WORKLOAD/r$n/rules.tsv" "$WORKLOAD/r$n/numbers.csv" "$d/"
		[ -r "$WORKLOAD/r$n/expected.tsv" ] && cp "$WORKLOAD/r$n/expected.tsv" "$d/"
		echo "../shared/workload/r$n" >"$d/source"
	else
		python3 "$SRC/rules/tools/gen_workload.py" "$n" 2000 "$d" 1 >/dev/null
		echo "rules/tools/gen_workload.py $n 2000 (seed 1)" >"$d/source"
	fi
	python3 "$SRC/rules/tools/wl2dialplan.py" "$d/rules.tsv" "$d/dialplan"
	# every call to the SIPp UAS: a $target after each [Deploy Patterns]
	# shellcheck disable=SC2016  # $target is dial-plan syntax, not shell
	sed -i '/^\[Deploy Patterns\]$/a $target = 198.18.2.2:5060' "$d/dialplan"
done

# ---- 4. micro-benchmarks --------------------------------------------------
step "micro: sipwarp_bench (min_time ${MICRO_MIN_TIME}s per benchmark)"
(cd "$SRC" && "$BUILD/bench/sipwarp_bench" --benchmark_min_time="$MICRO_MIN_TIME" \
	--benchmark_out="$OUT/micro.json" --benchmark_out_format=json \
	--benchmark_counters_tabular=false >"$OUT/micro.txt" 2>&1) || die "sipwarp_bench failed ($OUT/micro.txt)"
grep -E '^BM_' "$OUT/micro.txt" | awk '{ printf "          %-36s %s %s\n", $1, $2, $3 }' || true

# ---- 5. net_ring end to end -----------------------------------------------
TSC_HZ=0
for n in "${SIZES[@]}"; do
	for kind in tput lat; do
		q=0
		[ $kind = lat ] && q=1
		reps=1
		[ $kind = tput ] && reps=$RING_REPS
		step "net_ring r$n $([ $kind = tput ] && echo "throughput (rings full), $reps run(s)" || echo 'latency (1 in flight)'), ${RING_S}s"
		for k in $(seq "$reps"); do
			"$BUILD/bench/sipwarp-bench-ring" --no-huge -m 1024 --no-pci --file-prefix "swring-$$" \
				-l 0,1 --log-level=error -- -d "$WORK/r$n/dialplan" -n "$WORK/r$n/numbers.csv" \
				-t "$RING_S" -q $q -o "$WORK/ring-r$n-$kind-$k.json" >"$WORK/ring-r$n-$kind-$k.txt" 2>&1 ||
				die "sipwarp-bench-ring failed ($WORK/ring-r$n-$kind-$k.txt)"
			rm -rf "/var/run/dpdk/swring-$$"
		done
		# the fastest run, with every run's figures in "runs"
		python3 - "$OUT/ring-r$n-$kind.json" "$WORK"/ring-r$n-$kind-*.json <<'EOF'
import json, sys
runs = [json.load(open(f)) for f in sys.argv[2:]]
d = dict(min(runs, key=lambda r: r['cycles_per_msg']))
d['runs'] = [{'msgs_per_sec': r['msgs_per_sec'], 'cycles_per_msg': r['cycles_per_msg']} for r in runs]
json.dump(d, open(sys.argv[1], 'w'), indent=1)
l = d['latency_us']
print('          %.0f msg/s, %.0f cycles/msg busy (%.2f us), %.2f us CPU/msg, worker got %.0f %% of its core; '
      'latency p50 %.1f p99 %.1f us' % (d['msgs_per_sec'], d['cycles_per_msg'], d['busy_us_per_msg'],
      d['cpu_us_per_msg'], 100 * d['worker_cpu_share'], l['p50'], l['p99']))
if len(runs) > 1:
    print('          all runs: ' + ', '.join('%.0f msg/s (%.0f cycles/msg)' % (r['msgs_per_sec'], r['cycles_per_msg'])
                                       for r in runs))
EOF
		TSC_HZ=$(python3 -c "import json; print(int(json.load(open('$OUT/ring-r$n-$kind.json'))['tsc_hz']))")
	done
done
export TSC_HZ

# ---- 6. SIPp through sipwarp and Kamailio ---------------------------------
for n in "${SIZES[@]}"; do
	for e in "${ENGINES[@]}"; do
		step "e2e $e r$n: check calls, then rate steps of ${E2E_STEP}s from $E2E_START calls/s"
		exp=
		[ -r "$WORK/r$n/expected.tsv" ] && exp=$WORK/r$n/expected.tsv
		BENCH_T0=$T0 E2E_EXPECTED=$exp E2E_LOGDIR=$WORK/e2e-$e-r$n SW_BUILD=$BUILD "$SRC/bench/e2e/e2e.sh" "$e" "r$n" "$WORK/r$n/rules.tsv" \
			"$WORK/r$n/dialplan" "$WORK/r$n/numbers.csv" "$OUT/e2e-$e-r$n.json" \
			2>&1 | tee "$WORK/e2e-$e-r$n.txt" || true
		[ -s "$OUT/e2e-$e-r$n.json" ] || step "e2e $e r$n gave no result (see $WORK/e2e-$e-r$n.txt)"
	done
done

# ---- 7. report ------------------------------------------------------------
{
	echo "end_utc=$(date -u +%FT%TZ)"
	echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "elapsed_s=$(($(date +%s) - T0))"
	echo "cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "cpus=$(nproc)"
	echo "kernel=$(uname -r)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "git=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" diff --quiet 2>/dev/null || echo ' (modified)')"
	echo "kamailio=$(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p' | head -1)"
	echo "sipp=$(sipp -v 2>/dev/null | grep -o 'SIPp v[^ ]*' | head -1)"
	echo "dpdk=$(pkg-config --modversion libdpdk 2>/dev/null)"
	echo "tsc_hz=$TSC_HZ"
} >>"$OUT/env.txt"
step "report"
"$PY" "$SRC/bench/report.py" "$OUT" || die "report.py failed"
step "done: ${OUT#"$SRC"/}/report.md, chart.png, *.json"
