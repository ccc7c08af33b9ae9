#!/usr/bin/env bash
# Two workers (issue 6): sipwarp with EAL --lcores 0@0,1@0,2@1 -w 1-2 (the
# main lcore sleeps on core 0 with worker 0; worker 1 has core 1), so each
# worker owns one RX/TX queue pair on each TAP. SIPp places CALLS calls at
# RATE/s with one UDP socket per call (-t un), so the calls come from many
# source ports and the kernel's TAP queue selection (by flow hash) can spread
# them over both queues.
# Asserts: every call completes (UAC and UAS), stats.get --json lists both
# workers with their counters, the workers' counters add up to the totals,
# and sipwarp exits 0. How the packets split between the workers is only
# reported: the kernel picks the queue, and putting every flow on one queue
# would not be a sipwarp fault.
# Two workers keep each one's packets in order, not the two together (a
# stateless proxy never orders across workers). The TAP's queue for a flow
# follows the queue sipwarp last wrote that flow on, so a call's 180 and
# 200 can come in on different queues, and a busy machine can then deliver
# the 200 first. A UA ignores a provisional response after the final one,
# so the UAC runs without SIPp's abort on an unexpected message
# (-default_behaviors all,-abortunexp); a late 180 is then ignored.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CALLS=${CALLS:-200}
RATE=${RATE:-20}

sw_init
command -v jq >/dev/null || sw_skip "jq is not installed (tests/bootstrap.sh installs it)"
[ "$(nproc)" -ge 2 ] || sw_skip "needs 2 CPUs for two workers, have $(nproc)"
sw_netns
sw_start_ex --lcores 0@0,1@0,2@1 -- -w 1-2
sw_attach
grep '^SW_DP: worker' "$SW_TMP/sipwarp.err" | sed "s/^/[$SW_NAME] /" || true

nums=()
for ((i = 0; i < CALLS; i++)); do
	nums+=($((1000 + i % 100)))
done
sw_numbers "$SW_TMP/numbers.csv" "${nums[@]}"

sw_uas_start uas uas_invite.xml "$CALLS" -timeout 60s
uac_rc=0
sw_uac uac uac_invite.xml "$SW_TMP/numbers.csv" "$CALLS" "$RATE" -t un -max_socket 512 \
	-default_behaviors all,-abortunexp || uac_rc=$?
sw_uas_wait 20
uas_rc=$SW_UAS_RC

sw_ctl --json stats.get >"$SW_TMP/stats.json" || sw_fail "stats.get failed: $(cat "$SW_TMP/stats.json")"
sw_stop

ok_uac=$(sw_sipp_stat uac SuccessfulCall)
bad_uac=$(sw_sipp_stat uac FailedCall)
ok_uas=$(sw_sipp_stat uas SuccessfulCall)
retr=$(sw_sipp_stat uac Retransmissions)
sw_log "UAC: exit $uac_rc, $ok_uac successful, $bad_uac failed calls of $CALLS, $retr retransmissions"
sw_log "UAS: exit $uas_rc, $ok_uas successful calls"
nw=$(jq '.result.workers | length' "$SW_TMP/stats.json")
jq -r '.result.workers[] | "worker \(.worker): rx_pkts \(.counters.rx_pkts), tx_pkts \(.counters.tx_pkts), fwd_requests \(.counters.fwd_requests), fwd_responses \(.counters.fwd_responses)"' \
	"$SW_TMP/stats.json" | sed "s/^/[$SW_NAME] /"
mapfile -t rx < <(jq '.result.workers[].counters.rx_pkts' "$SW_TMP/stats.json")
total_rx=$(jq '.result.total.rx_pkts' "$SW_TMP/stats.json")
sum_rx=0
idle=0
for v in "${rx[@]}"; do
	sum_rx=$((sum_rx + v))
	[ "$v" != 0 ] || idle=$((idle + 1))
done
if [ "$idle" -gt 0 ]; then
	sw_log "NOTE: $idle worker(s) received nothing: the kernel put every flow on one TAP queue"
else
	sw_log "both workers received traffic (total rx_pkts $total_rx)"
fi
sw_log "sipwarp: exit $SW_RC, counters:"
sw_counters_dump

[ "$uac_rc" = 0 ] || sw_fail "SIPp UAC exit $uac_rc: calls were lost with two workers"
[ "$ok_uac" = "$CALLS" ] || sw_fail "UAC: $ok_uac of $CALLS calls successful"
[ "$uas_rc" = 0 ] || sw_fail "SIPp UAS exit $uas_rc: a call failed at the callee"
[ "$ok_uas" = "$CALLS" ] || sw_fail "UAS: $ok_uas of $CALLS calls successful"
[ "$nw" = 2 ] || sw_fail "stats.get lists $nw workers, want 2"
for w in 0 1; do
	jq -e --argjson w $w '[.result.workers[] | select(.worker == $w) | .counters.rx_pkts | numbers] | length == 1' \
		"$SW_TMP/stats.json" >/dev/null || sw_fail "stats.get has no counters for worker $w"
done
[ "$sum_rx" = "$total_rx" ] || sw_fail "the workers' rx_pkts add up to $sum_rx, the total says $total_rx"
[ "$SW_RC" = 0 ] || sw_fail "sipwarp exit code $SW_RC after SIGTERM (want 0)"
fwd_req=$(sw_counter fwd_requests)
[ "$fwd_req" -ge $((3 * CALLS)) ] || sw_fail "fwd_requests $fwd_req < $((3 * CALLS))"
sw_expect_zero reply_nomatch reply_rule reply_parse reply_483 reply_unroutable \
	drop_ack_rejected "${SW_SIP_DROPS[@]}"
sw_log "PASS: $CALLS calls with two workers"
