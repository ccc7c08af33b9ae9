#!/usr/bin/env bash
# Dial plan reloads under steady calls (issue 7), the real-binary
# counterpart of tests/eal/test_reload_load.c: SIPp places calls at RATE/s
# for DURATION s while a loop reloads the dial plan over the control socket
# RELOADS times, alternating plan A and plan B
# (tests/data/integration/reload_[ab].dialplan: same callee, the INVITE
# tagged X-Plan: A or B), with a bad file (reload_bad.dialplan) every
# tenth reload.
# Asserts: 0 failed calls at the UAC and the UAS, no call lost to
# retransmission limits (SIPp FailedMaxUDPRetrans 0), every INVITE routed
# wholly by one plan (the UAS checks X-Plan against the rule name), both
# plans routed calls, every good reload accepted (version +1 each), every
# bad reload refused (exit 1, version unchanged), the final version is
# 1 + the good reloads, and sipwarp exits 0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

RATE=${RATE:-20}
DURATION=${DURATION:-30}
RELOADS=${RELOADS:-200}
CALLS=$((RATE * DURATION))
data=$SW_SRC/tests/data/integration

sw_init
command -v jq >/dev/null || sw_skip "jq is not installed (tests/bootstrap.sh installs it)"
SW_DIALPLAN=$data/reload_a.dialplan
sw_up

nums=()
for ((i = 0; i < CALLS; i++)); do
	nums+=($((1000 + i % 1000)))
done
sw_numbers "$SW_TMP/numbers.csv" "${nums[@]}"

sw_uas_start uas uas_plan.xml "$CALLS" -timeout $((DURATION + 60))s
sw_uac_bg uac uac_invite.xml "$SW_TMP/numbers.csv" "$CALLS" "$RATE" $((DURATION + 60))

# spread the reloads over the calls' duration (bounded: at most DURATION s
# of pauses; a slow reload only makes the loop longer)
pause=$(awk -v d="$DURATION" -v n="$RELOADS" 'BEGIN { printf "%.3f", 0.8 * d / n }')
version=$(sw_ctl_version)
v_start=$version
good=0 bad=0 good_fail=0 bad_ok=0 vbad=0 during=0
for ((i = 1; i <= RELOADS; i++)); do
	if ((i % 10 == 0)); then
		file=$data/reload_bad.dialplan
	elif ((i % 2 == 1)); then
		file=$data/reload_b.dialplan
	else
		file=$data/reload_a.dialplan
	fi
	rc=0
	sw_ctl dialplan.reload "path=$file" >"$SW_TMP/reload.last" 2>&1 || rc=$?
	kill -0 "$SW_UAC_PID" 2>/dev/null && during=$((during + 1))
	v=$(sw_ctl_version) || v=error
	if ((i % 10 == 0)); then
		bad=$((bad + 1))
		if [ $rc != 1 ] || ! grep -q 'reload_bad.dialplan:9:[0-9]*: error' "$SW_TMP/reload.last"; then
			bad_ok=$((bad_ok + 1))
			echo "[$SW_NAME] reload $i of the bad file: exit $rc: $(head -c 300 "$SW_TMP/reload.last")" >&2
		fi
		[ "$v" = "$version" ] || { vbad=$((vbad + 1)); echo "[$SW_NAME] reload $i (bad): version $version -> $v" >&2; }
	else
		good=$((good + 1))
		if [ $rc != 0 ]; then
			good_fail=$((good_fail + 1))
			echo "[$SW_NAME] reload $i of $(basename "$file"): exit $rc: $(head -c 300 "$SW_TMP/reload.last")" >&2
		fi
		[ "$v" = $((version + 1)) ] || { vbad=$((vbad + 1)); echo "[$SW_NAME] reload $i (good): version $version -> $v" >&2; }
	fi
	[ "$v" = error ] || version=$v
	sleep "$pause"
done
sw_log "$RELOADS reloads ($during while the caller ran): $good good ($good_fail refused), $bad bad ($bad_ok not refused), $vbad version steps wrong; version $v_start -> $version"

sw_uac_bg_wait
uac_rc=$SW_UAC_RC
sw_uas_wait 30
uas_rc=$SW_UAS_RC
sw_stop

ok_uac=$(sw_sipp_stat uac SuccessfulCall)
bad_uac=$(sw_sipp_stat uac FailedCall)
retrans_fail=$(sw_sipp_stat uac FailedMaxUDPRetrans)
retrans=$(sw_sipp_stat uac Retransmissions)
ok_uas=$(sw_sipp_stat uas SuccessfulCall)
bad_uas=$(sw_sipp_stat uas FailedCall)
plan_a=$(sw_sipp_logged uas ' plan A$')
plan_b=$(sw_sipp_logged uas ' plan B$')
sw_log "UAC: exit $uac_rc, $ok_uac successful, $bad_uac failed of $CALLS calls; $retrans retransmissions, $retrans_fail calls lost to retransmission limits"
sw_log "UAS: exit $uas_rc, $ok_uas successful, $bad_uas failed; routed by plan A: $plan_a, plan B: $plan_b"
sw_log "sipwarp: exit $SW_RC, counters:"
sw_counters_dump

[ "$good_fail" = 0 ] || sw_fail "$good_fail good reloads were refused"
[ "$bad_ok" = 0 ] || sw_fail "$bad_ok bad reloads were not refused with exit 1 and file:line:col"
[ "$vbad" = 0 ] || sw_fail "$vbad reloads moved the version wrongly"
[ "$version" = $((v_start + good)) ] || sw_fail "final version $version, want $((v_start + good))"
[ "$during" -ge $((RELOADS / 2)) ] || sw_fail "only $during of $RELOADS reloads happened while calls ran"
[ "$uac_rc" = 0 ] || sw_fail "SIPp UAC exit $uac_rc: calls failed under reloads"
[ "$ok_uac" = "$CALLS" ] && [ "$bad_uac" = 0 ] || sw_fail "UAC: $ok_uac of $CALLS calls successful, $bad_uac failed"
[ "$retrans_fail" = 0 ] || sw_fail "UAC: $retrans_fail calls failed on retransmission limits"
[ "$uas_rc" = 0 ] && [ "$ok_uas" = "$CALLS" ] ||
	sw_fail "UAS: exit $uas_rc, $ok_uas of $CALLS calls successful (a failed check means an INVITE not routed wholly by one plan)"
[ "$plan_a" -gt 0 ] && [ "$plan_b" -gt 0 ] || sw_fail "calls were not routed by both plans (A $plan_a, B $plan_b): the reloads did not take"
[ "$SW_RC" = 0 ] || sw_fail "sipwarp exit code $SW_RC after SIGTERM (want 0)"
sw_expect_zero reply_nomatch reply_rule reply_parse reply_483 reply_unroutable \
	drop_ack_rejected "${SW_SIP_DROPS[@]}"
sw_log "PASS: $CALLS calls, $RELOADS reloads ($bad refused), nothing lost"
