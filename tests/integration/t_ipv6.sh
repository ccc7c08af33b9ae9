#!/usr/bin/env bash
# Full calls through sipwarp over IPv6 (issue 6): caller 2001:db8:1::2/64
# (netns A) <-> sipwarp 2001:db8:1::1 | 2001:db8:2::1 <-> callee
# 2001:db8:2::2/64 (netns B), no IPv4 address anywhere, dial plan
# tests/data/integration/ipv6.dialplan (To = sip:%1@[2001:db8:2::2]:5060).
# Neither side has a static neighbour entry: the kernels find sipwarp by
# neighbour solicitation, which sipwarp answers itself, and sipwarp finds the
# callee the same way.
# Asserts: every call completes at the UAC (INVITE, 100, 180, 200, ACK, BYE,
# 200, the ACK and BYE routed back by the double Record-Route), every check
# of the UAS on the INVITE holds (Request-URI and To rewritten to the IPv6
# callee, sipwarp's IPv6 Via on top, Record-Route for both sides), sipwarp
# answered neighbour solicitations and its counters agree with the traffic.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CALLS=${CALLS:-10}
RATE=${RATE:-5}

sw_init
SW_DIALPLAN=$SW_SRC/tests/data/integration/ipv6.dialplan
SW_ADDR_ARGS=(-a "0:$SW_A_GW6/64" -a "1:$SW_B_GW6/64")
sw_netns
sw_start_ex -l 0 --
sw_attach6

sw_numbers_from "$SW_TMP/numbers.csv" 1000 "$CALLS"

sw_uas_start_at uas uas_invite6.xml "$CALLS" "$SW_B_ADDR6" -timeout 40s
uac_rc=0
sw_uac_at uac uac_full_call.xml "$SW_TMP/numbers.csv" "$CALLS" "$RATE" \
	"$SW_A_ADDR6" "[$SW_A_GW6]:$SW_SIP_PORT" 60 || uac_rc=$?
sw_uas_wait 20
uas_rc=$SW_UAS_RC

# the neighbour entries the kernels learned for sipwarp (not static ones)
neigh_a=$(ip -n "$SW_NS_A" -6 neigh show "$SW_A_GW6" dev "$SW_IF_A" || true)
neigh_b=$(ip -n "$SW_NS_B" -6 neigh show "$SW_B_GW6" dev "$SW_IF_B" || true)
sw_stop

ok_uac=$(sw_sipp_stat uac SuccessfulCall)
ok_uas=$(sw_sipp_stat uas SuccessfulCall)
sw_log "UAC: exit $uac_rc, $ok_uac of $CALLS calls successful"
sw_log "UAS: exit $uas_rc, $ok_uas of $CALLS calls successful"
sw_log "caller's neighbour entry for sipwarp: ${neigh_a:-none}"
sw_log "callee's neighbour entry for sipwarp: ${neigh_b:-none}"
sw_log "sipwarp: exit $SW_RC, counters:"
sw_counters_dump

[ "$uac_rc" = 0 ] || sw_fail "SIPp UAC exit $uac_rc: not every IPv6 call completed"
[ "$uas_rc" = 0 ] || sw_fail "SIPp UAS exit $uas_rc: a call failed or a check on the IPv6 INVITE did not hold"
[ "$ok_uac" = "$CALLS" ] || sw_fail "UAC: $ok_uac of $CALLS calls successful"
[ "$ok_uas" = "$CALLS" ] || sw_fail "UAS: $ok_uas of $CALLS calls successful"
[ "$SW_RC" = 0 ] || sw_fail "sipwarp exit code $SW_RC after SIGTERM (want 0)"
case $neigh_a in *lladdr*) ;; *) sw_fail "the caller has no neighbour entry for $SW_A_GW6" ;; esac
case $neigh_a in *PERMANENT*) sw_fail "the caller's neighbour entry is static" ;; esac

fwd_req=$(sw_counter fwd_requests)
fwd_resp=$(sw_counter fwd_responses)
nd_adv=$(sw_counter sp_nd_adverts)
[ "$fwd_req" -ge $((3 * CALLS)) ] || sw_fail "fwd_requests $fwd_req < $((3 * CALLS))"
[ "$fwd_resp" -ge $((4 * CALLS)) ] || sw_fail "fwd_responses $fwd_resp < $((4 * CALLS)) (100, 180, 200, 200 per call)"
[ "$nd_adv" -ge 1 ] || sw_fail "sp_nd_adverts $nd_adv: sipwarp answered no neighbour solicitation"
sw_expect_zero reply_nomatch reply_rule reply_parse reply_483 reply_unroutable \
	drop_ack_rejected "${SW_SIP_DROPS[@]}"
sw_log "PASS: $CALLS IPv6 calls forwarded, neighbour discovery by sipwarp"
