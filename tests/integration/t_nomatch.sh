#!/usr/bin/env bash
# A call that no rule of the demo dial plan matches: sipwarp answers it
# itself with its --no-match code (404), swallows the ACK, and the callee
# sees nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CALLS=${CALLS:-3}

sw_init
sw_up

# 5xxx: neither a 1xxx extension nor a 2# number
sw_numbers "$SW_TMP/numbers.csv" 5000 5001 5002
sw_uas_start uas uas_invite.xml 1 -timeout 20s
uac_rc=0
sw_uac uac uac_nomatch.xml "$SW_TMP/numbers.csv" "$CALLS" 5 || uac_rc=$?
# let anything that leaked reach the UAS before we look
sleep 1
sw_kill "$SW_UAS_PID"
sw_stop

ok_uac=$(sw_sipp_stat uac SuccessfulCall)
uas_got=$(sw_sipp_received uas '.')
sw_log "UAC: exit $uac_rc, $ok_uac of $CALLS calls got 404"
sw_log "UAS: received $uas_got messages"
sw_log "sipwarp: exit $SW_RC, counters:"
sw_counters_dump

[ "$uac_rc" = 0 ] || sw_fail "SIPp UAC exit $uac_rc: not every call got its 404"
[ "$ok_uac" = "$CALLS" ] || sw_fail "UAC: $ok_uac of $CALLS calls got 404"
[ "$uas_got" = 0 ] || sw_fail "the UAS received $uas_got messages; it should see none"
[ "$SW_RC" = 0 ] || sw_fail "sipwarp exit code $SW_RC after SIGTERM (want 0)"
nomatch=$(sw_counter reply_nomatch)
[ "$nomatch" -ge "$CALLS" ] || sw_fail "reply_nomatch $nomatch < $CALLS"
sw_expect_zero fwd_requests fwd_responses "${SW_SIP_DROPS[@]}"
sw_log "PASS: $CALLS unmatched calls answered 404"
