#!/usr/bin/env bash
# Full calls through sipwarp: SIPp UAC in netns A -> sipwarp (TAP) -> SIPp
# UAS in netns B, with the demo dial plan (rule demo-ext).
# Asserts: every call completes at the UAC (INVITE/180/200/ACK/BYE/200, the
# ACK and BYE routed back through sipwarp by its Record-Route), every check
# of the UAS on the INVITE it received holds (Request-URI and To rewritten,
# X-Sipwarp-Rule added, X-Internal removed, sipwarp's Via on top,
# Record-Route present), and sipwarp's counters agree with the traffic.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CALLS=${CALLS:-20}
RATE=${RATE:-10}

sw_init
sw_up

nums=()
for ((i = 0; i < CALLS; i++)); do
	nums+=($((1000 + i % 10)))
done
sw_numbers "$SW_TMP/numbers.csv" "${nums[@]}"

sw_uas_start uas uas_invite.xml "$CALLS"
uac_rc=0
sw_uac uac uac_invite.xml "$SW_TMP/numbers.csv" "$CALLS" "$RATE" || uac_rc=$?
sw_uas_wait 20
uas_rc=$SW_UAS_RC
sw_stop

ok_uac=$(sw_sipp_stat uac SuccessfulCall)
bad_uac=$(sw_sipp_stat uac FailedCall)
ok_uas=$(sw_sipp_stat uas SuccessfulCall)
bad_uas=$(sw_sipp_stat uas FailedCall)
sw_log "UAC: exit $uac_rc, $ok_uac successful, $bad_uac failed calls"
sw_log "UAS: exit $uas_rc, $ok_uas successful, $bad_uas failed calls"
sw_log "sipwarp: exit $SW_RC, counters:"
sw_counters_dump

[ "$uac_rc" = 0 ] || sw_fail "SIPp UAC exit $uac_rc: not every call completed"
[ "$uas_rc" = 0 ] || sw_fail "SIPp UAS exit $uas_rc: a call failed or a check on the INVITE did not hold"
[ "$ok_uac" = "$CALLS" ] || sw_fail "UAC: $ok_uac of $CALLS calls successful"
[ "$ok_uas" = "$CALLS" ] || sw_fail "UAS: $ok_uas of $CALLS calls successful"
[ "$SW_RC" = 0 ] || sw_fail "sipwarp exit code $SW_RC after SIGTERM (want 0)"

# Each call sends 3 requests (INVITE, ACK, BYE) and gets 3 responses back
# (180, 200, 200) through sipwarp; retransmissions only add to that.
fwd_req=$(sw_counter fwd_requests)
fwd_resp=$(sw_counter fwd_responses)
[ "$fwd_req" -ge $((3 * CALLS)) ] || sw_fail "fwd_requests $fwd_req < $((3 * CALLS))"
[ "$fwd_resp" -ge $((3 * CALLS)) ] || sw_fail "fwd_responses $fwd_resp < $((3 * CALLS))"
sw_expect_zero reply_nomatch reply_rule reply_parse reply_483 reply_unroutable \
	drop_ack_rejected "${SW_SIP_DROPS[@]}"
sw_log "PASS: $CALLS calls forwarded"
