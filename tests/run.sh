#!/usr/bin/env bash
# Every test of sipwarp, as CI runs it (.ci/run calls this):
#   1. tests/bootstrap.sh --asan: missing Debian packages, build/ and build-asan/
#   2. meson test -C build: every suite (unit, eal, fuzz-regress, integration;
#      integration needs root and is skipped without it)
#   3. meson test -C build-asan --suite unit --suite eal --suite fuzz-regress:
#      those suites again under AddressSanitizer + UndefinedBehaviorSanitizer,
#      halting on the first error (the eal suite runs the real worker loop on
#      net_ring ports: every header edit, verdict and answer)
# and ends with one line "N passed, N failed" over all the runs (timeouts and
# unexpected passes count as failed, skipped tests as neither). Exit status:
# 0 when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
logdir=$(mktemp -d /tmp/sipwarp-run.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

# meson_run NAME DIR [meson test options]: run, show, and add up the summary.
meson_run() {
	local name=$1 dir=$2 rc ok fail
	shift 2
	echo "=== $name: meson test -C $dir $*"
	# bounded: the whole of run.sh stays well under 30 minutes
	timeout -k 30 900 meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$logdir/$name.log"
	rc=${PIPESTATUS[0]}
	ok=$(awk '/^(Ok|Expected Fail):/ { n += $NF } END { print n + 0 }' "$logdir/$name.log")
	fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ { n += $NF } END { print n + 0 }' "$logdir/$name.log")
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		# meson itself failed (a build error, a bad setup): count it
		echo "=== $name: meson test exited $rc without a failed test; counting it as one failure"
		fail=1
	fi
	passed=$((passed + ok))
	failed=$((failed + fail))
}

if ! tests/bootstrap.sh --asan; then
	echo "=== bootstrap failed"
	echo "0 passed, 1 failed"
	exit 1
fi

[ "$(id -u)" = 0 ] || echo "=== not root: the integration suite will be skipped (sudo ./tests/run.sh runs it)"

meson_run all build

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:print_summary=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1
meson_run asan build-asan --suite unit --suite eal --suite fuzz-regress

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
