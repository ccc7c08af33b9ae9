#!/usr/bin/env bash
# Bad input on the command line: sipwarp must refuse it with one error line
# on stderr that starts with "sipwarp: " and a non-zero exit code, without a
# crash (no signal: exit code < 128) and without hanging.
# Each case is the good command line with one thing wrong; the good command
# line itself runs first, so a failure is the bad input's and not the box's.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sw_init

good_dp=$SW_SRC/examples/demo.dialplan
bad_dp=$SW_TMP/bad.dialplan
cat >"$bad_dp" <<'DP'
[Rule broken]
[Matching Patterns]
$request = ^INVITE(
[Deploy Patterns]
$action = 603
DP

eal=(--no-huge -m 256 --no-pci --file-prefix "$SW_PREFIX" -l 0)
ports=(-p "net_tap0,iface=$SW_IF_A" -a "0:$SW_A_GW/24")

# sw_case NAME ARGS...: run sipwarp (bounded: a sipwarp that accepts the bad
# input and runs on is stopped after 20 s), check the contract. When
# SW_CASE_GREP is set, the error line must also mention it.
failures=0
sw_case() {
	local name=$1 rc lines getopt why=
	shift
	timeout -k 5 20 "$SIPWARP" "${eal[@]}" -- -s "$SW_TMP/ctl.sock" "$@" \
		>"$SW_TMP/$name.out" 2>"$SW_TMP/$name.err" </dev/null && rc=0 || rc=$?
	lines=$(grep -c '^sipwarp: ' "$SW_TMP/$name.err" || true)
	# getopt's own complaints ("<argv[0]>: unrecognized option ...") must not
	# come on top of sipwarp's line
	getopt=$(grep -Ei 'unrecognized option|invalid option|requires an argument' "$SW_TMP/$name.err" |
		grep -vc '^sipwarp: ' || true)
	case $rc in
	0) why=", exit 0" ;;
	124 | 137) why=", still running after 20 s" ;;
	125 | 126 | 127) why=", could not be run (exit $rc)" ;;
	*) [ $rc -lt 128 ] || why=", killed by signal $((rc - 128))" ;;
	esac
	[ "$lines" = 1 ] || why="$why, $lines lines starting 'sipwarp: ' on stderr (want 1)"
	[ "$getopt" = 0 ] || why="$why, getopt's own message on stderr"
	if [ -n "${SW_CASE_GREP:-}" ] && ! grep '^sipwarp: ' "$SW_TMP/$name.err" | grep -qF -- "$SW_CASE_GREP"; then
		why="$why, the error line does not name $SW_CASE_GREP"
	fi
	SW_CASE_GREP=
	if [ -n "$why" ]; then
		echo "[$SW_NAME] FAIL $name: ${why#, }"
		echo "    command: sipwarp ... -- $*"
		sed 's/^/    stderr: /' "$SW_TMP/$name.err" | tail -n 10
		failures=$((failures + 1))
	else
		sw_log "ok $name: exit $rc: $(grep '^sipwarp: ' "$SW_TMP/$name.err")"
	fi
}

# The good command line: ready, then a clean exit on SIGTERM.
sw_netns
sw_start
sw_stop
[ "$SW_RC" = 0 ] || sw_fail "the good command line: exit $SW_RC after SIGTERM (want 0)"
sw_log "ok good command line: ready, exit 0 on SIGTERM"

SW_CASE_GREP=/nonexistent/demo.dialplan
sw_case missing-dialplan -d /nonexistent/demo.dialplan "${ports[@]}"
sw_case no-dialplan-option "${ports[@]}"
sw_case unknown-option -d "$good_dp" "${ports[@]}" --no-such-option
sw_case unknown-short-option -d "$good_dp" "${ports[@]}" -Z
sw_case missing-argument -d "$good_dp" "${ports[@]}" --dialplan
SW_CASE_GREP=net_nosuchdrv0
sw_case bad-port -d "$good_dp" -p net_nosuchdrv0 -a "0:$SW_A_GW/24"
sw_case bad-address -d "$good_dp" "${ports[@]}" -a "0:198.18.1.300/24"
SW_CASE_GREP=$bad_dp
sw_case bad-dialplan -d "$bad_dp" "${ports[@]}"

[ $failures -eq 0 ] || sw_fail "$failures bad-input case(s) not refused properly"
sw_log "PASS: every bad input refused with one error line"
