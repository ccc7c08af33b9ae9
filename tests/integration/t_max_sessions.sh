#!/usr/bin/env bash
# ARS Max Sessions with real calls (issue 5): the route to the callee takes
# two calls at a time (tests/data/integration/max_sessions.ars).
#   - two held calls fill it: ars.sessions says 2
#   - a third call meanwhile gets 503 from sipwarp, the callee sees nothing
#   - the two BYEs through sipwarp free the slots: ars.sessions says 0
#   - two more calls then go through
# Counters: ars_sess_up 4, ars_sess_down 4, reply_ars_busy 1.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sw_init
command -v jq >/dev/null || sw_skip "jq is not installed (tests/bootstrap.sh installs it)"
SW_DIALPLAN=$SW_SRC/tests/data/integration/max_sessions.dialplan
sw_up -r "$SW_SRC/tests/data/integration/max_sessions.ars"

sessions() {	# calls up on the capped route, from the control socket
	sw_ctl --json ars.sessions | jq -r '.result.patterns[0].sessions'
}

sw_numbers "$SW_TMP/held.csv" 1000 1001
sw_numbers "$SW_TMP/busy.csv" 1002
sw_numbers "$SW_TMP/later.csv" 1003 1004
sw_uas_start uas uas_full_call.xml 4 -timeout 40s

# two calls that stay up 4 s
sw_uac_bg held uac_hold.xml "$SW_TMP/held.csv" 2 10 40 -d 4000
n=0
while [ "$(sessions)" != 2 ] && [ $n -lt 30 ]; do
	sleep 0.1
	n=$((n + 1))
done
up=$(sessions)
busy_rc=0
# the held calls hold port 5060 in namespace A: another local port
sw_uac busy uac_busy.xml "$SW_TMP/busy.csv" 1 1 -p 5062 || busy_rc=$?
sw_uac_bg_wait
held_rc=$SW_UAC_RC
after=$(sessions)
later_rc=0
sw_uac later uac_hold.xml "$SW_TMP/later.csv" 2 10 -d 500 || later_rc=$?
sw_uas_wait 20
uas_rc=$SW_UAS_RC
last=$(sessions)
sw_stop

sw_log "sessions: $up while two calls were up, $after after their BYEs, $last at the end"
sw_log "held calls: exit $held_rc; busy call: exit $busy_rc; later calls: exit $later_rc; UAS exit $uas_rc"
sw_counters_dump
[ "$up" = 2 ] || sw_fail "ars.sessions said $up with two calls up (want 2)"
[ "$held_rc" = 0 ] || sw_fail "the two held calls did not complete (exit $held_rc)"
[ "$busy_rc" = 0 ] || sw_fail "the third call did not get 503 (exit $busy_rc, see busy.errors.log)"
[ "$after" = 0 ] || sw_fail "ars.sessions said $after after both BYEs (want 0)"
[ "$later_rc" = 0 ] || sw_fail "the calls after the BYEs did not complete (exit $later_rc)"
[ "$uas_rc" = 0 ] || sw_fail "the callee did not get exactly the four calls (exit $uas_rc)"
[ "$last" = 0 ] || sw_fail "ars.sessions said $last at the end (want 0)"
[ "$SW_RC" = 0 ] || sw_fail "sipwarp exit code $SW_RC after SIGTERM (want 0)"
[ "$(sw_counter ars_sess_up)" = 4 ] || sw_fail "ars_sess_up $(sw_counter ars_sess_up), want 4"
[ "$(sw_counter ars_sess_down)" = 4 ] || sw_fail "ars_sess_down $(sw_counter ars_sess_down), want 4"
[ "$(sw_counter reply_ars_busy)" = 1 ] || sw_fail "reply_ars_busy $(sw_counter reply_ars_busy), want 1"
sw_expect_zero ars_sess_unknown "${SW_SIP_DROPS[@]}"
sw_log "PASS: two calls filled the route, the third got 503, the BYEs freed it for two more"
