#!/usr/bin/env bash
# sipwarp demo: a few SIP calls through sipwarp in TAP mode.
#
#   sudo ./examples/demo.sh
#
# Installs what is missing (Debian 12 packages) and builds build/ through
# tests/bootstrap.sh, then:
#
#   netns A (caller)          sipwarp                       netns B (callee)
#   SIPp UAC 198.18.1.2 -- 198.18.1.1 [port 0 | port 1] 198.18.2.1 -- 198.18.2.2 SIPp UAS
#
# with the dial plan examples/demo.dialplan, places calls that each rule
# handles (extensions 1xxx, 2# prefix dialing, a declined caller, a number no
# rule knows), and prints where each call went and what sipwarp counted.
# Everything it starts is stopped by pid, its namespaces deleted, also on
# Ctrl-C. SW_KEEP=1 keeps the logs and SIPp traces.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces, TAP devices, packages): sudo $0" >&2
	exit 1
fi

tests/bootstrap.sh

# shellcheck disable=SC2034  # read by lib.sh
SW_NAME=demo
# shellcheck disable=SC2034
SW_SRC=$top
# shellcheck disable=SC2034
SW_BUILD=$top/build
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
sw_init

cat <<TXT

== Topology (run id $SW_ID)
  netns $SW_NS_A: $SW_IF_A $SW_A_ADDR/24   SIPp caller
  sipwarp: port 0 $SW_A_GW/24 (TAP $SW_IF_A), port 1 $SW_B_GW/24 (TAP $SW_IF_B), SIP on UDP $SW_SIP_PORT
  netns $SW_NS_B: $SW_IF_B $SW_B_ADDR/24   SIPp callee
  dial plan: examples/demo.dialplan

TXT
sw_up
sw_log "sipwarp is up (pid $SW_PID): ${SW_CMD[*]}"

ext=(1000 1001 1002 1003 1004 1005 1006 1007 1008 1009)
pfx=('2#5550100' '2#5550101' '2#0312345678')
sw_numbers "$SW_TMP/ext.csv" "${ext[@]}" "${pfx[@]}"
sw_numbers "$SW_TMP/nomatch.csv" 5000
sw_numbers "$SW_TMP/decline.csv" 1000
routed=$((${#ext[@]} + ${#pfx[@]}))

sw_uas_start callee uas_invite.xml "$routed"
bad=0
sw_log "placing $routed calls that the dial plan routes to the callee (2 per second)"
sw_uac calls uac_invite.xml "$SW_TMP/ext.csv" "$routed" 2 || bad=$((bad + 1))
sw_log "placing a call to 5000, which no rule matches"
sw_uac nomatch uac_nomatch.xml "$SW_TMP/nomatch.csv" 1 1 || bad=$((bad + 1))
sw_log "placing a call from User-Agent 'evil'"
sw_uac decline uac_decline.xml "$SW_TMP/decline.csv" 1 1 || bad=$((bad + 1))
sw_uas_wait 15
[ "$SW_UAS_RC" = 0 ] || bad=$((bad + 1))
sw_stop

# One line per call: the caller's log (what was dialled, the final answer)
# joined by Call-ID with the callee's (where it arrived, which rule).
echo
echo "== Calls"
awk '
	FILENAME ~ /callee/ && $1 == "call" { to[$2] = $4; rule[$2] = $6; next }
	$1 == "call" {
		res = $0; sub(/.* result /, "", res)
		if ($2 in to)
			printf "  %s %s → %s (rule %s): %s\n", $3, $4, to[$2], rule[$2], res
		else
			printf "  %s %s → answered by sipwarp: %s\n", $3, $4, res
		n++
	}
	END { if (!n) print "  (no call completed)" }' \
	"$SW_TMP/callee.logs.log" "$SW_TMP/calls.logs.log" "$SW_TMP/nomatch.logs.log" \
	"$SW_TMP/decline.logs.log" 2>/dev/null || true

echo
echo "== SIPp"
for t in calls nomatch decline callee; do
	printf '  %-8s %s successful, %s failed calls\n' "$t" \
		"$(sw_sipp_stat "$t" SuccessfulCall)" "$(sw_sipp_stat "$t" FailedCall)"
done

echo
echo "== sipwarp counters (non-zero; exit code $SW_RC)"
sw_counters_dump

echo
if [ $bad -eq 0 ] && [ "$SW_RC" = 0 ]; then
	echo "demo: every call went where the dial plan says."
else
	echo "demo: something went wrong; the logs follow." >&2
	sw_dump_logs >&2
	exit 1
fi
