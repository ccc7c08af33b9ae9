#!/usr/bin/env bash
# Calls sipwarp answers itself, with the demo dial plan:
#  - a number no rule matches: sipwarp's --no-match answer, 404;
#  - a caller the rule decline-evil refuses (User-Agent: evil): 603.
# The UAC gets exactly that answer, sipwarp swallows the ACK, and the callee
# sees nothing at all.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CALLS=${CALLS:-3}

sw_init
sw_up

# 5xxx: neither a 1xxx extension nor a 2# number
sw_numbers_from "$SW_TMP/nomatch.csv" 5000 "$CALLS"
# 1000 would be routed, but the caller is declined first
sw_numbers "$SW_TMP/decline.csv" 1000

sw_uas_start uas uas_invite.xml 1 -timeout 20s
nomatch_rc=0
sw_uac nomatch uac_nomatch.xml "$SW_TMP/nomatch.csv" "$CALLS" 5 || nomatch_rc=$?
decline_rc=0
sw_uac decline uac_decline.xml "$SW_TMP/decline.csv" 1 1 || decline_rc=$?
# let anything that leaked reach the UAS before we look
sleep 1
sw_kill "$SW_UAS_PID"
sw_stop

ok_nomatch=$(sw_sipp_stat nomatch SuccessfulCall)
ok_decline=$(sw_sipp_stat decline SuccessfulCall)
uas_got=$(sw_sipp_received uas '.')
sw_log "UAC no match: exit $nomatch_rc, $ok_nomatch of $CALLS calls got 404"
sw_log "UAC declined: exit $decline_rc, $ok_decline of 1 call got 603"
sw_log "UAS: received $uas_got messages"
sw_log "sipwarp: exit $SW_RC, counters:"
sw_counters_dump

[ "$nomatch_rc" = 0 ] || sw_fail "SIPp UAC (no match) exit $nomatch_rc: not every call got its 404"
[ "$ok_nomatch" = "$CALLS" ] || sw_fail "UAC: $ok_nomatch of $CALLS calls got 404"
[ "$decline_rc" = 0 ] || sw_fail "SIPp UAC (declined) exit $decline_rc: the call did not get its 603"
[ "$ok_decline" = 1 ] || sw_fail "UAC: the declined call did not get 603"
[ "$uas_got" = 0 ] || sw_fail "the UAS received $uas_got messages; it should see none"
[ "$SW_RC" = 0 ] || sw_fail "sipwarp exit code $SW_RC after SIGTERM (want 0)"
nomatch=$(sw_counter reply_nomatch)
rule=$(sw_counter reply_rule)
[ "$nomatch" -ge "$CALLS" ] || sw_fail "reply_nomatch $nomatch < $CALLS"
[ "$rule" -ge 1 ] || sw_fail "reply_rule $rule < 1"
sw_expect_zero fwd_requests fwd_responses "${SW_SIP_DROPS[@]}"
sw_log "PASS: $CALLS unmatched calls answered 404, a declined caller 603"
