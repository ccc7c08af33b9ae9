#!/usr/bin/env bash
# Call flows through sipwarp (issue 6), SIPp UAC in netns A -> sipwarp (TAP)
# -> SIPp UAS in netns B, with tests/data/integration/calls.dialplan (the
# demo rules plus REGISTER to the registrar at 198.18.2.2). One sipwarp, five
# flows one after the other, each judged on its own; the test fails if any
# flow fails, and says which:
#   a. full calls: INVITE, 100, 180, 200, ACK, BYE, 200 (every provisional
#      response forwarded, ACK and BYE routed back by the Record-Route)
#   b. CANCEL while ringing: INVITE, 180, CANCEL, 200 (CANCEL), 487, ACK;
#      the CANCEL and the ACK reach the callee with the INVITE's branch
#   c. re-INVITE mid-call: INVITE/200/ACK, re-INVITE/200/ACK along the route
#      set (sipwarp pops its Route entries), BYE/200
#   d. OPTIONS to sipwarp itself: answered 200 by sipwarp, nothing forwarded
#   e. REGISTER forwarded by the dial plan to a registrar, which answers 200
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

N_FULL=${N_FULL:-5}
N_CANCEL=${N_CANCEL:-5}
N_REINV=${N_REINV:-3}
N_OPTIONS=${N_OPTIONS:-5}
N_REGISTER=${N_REGISTER:-5}

sw_init
command -v jq >/dev/null || sw_skip "jq is not installed (tests/bootstrap.sh installs it)"
SW_DIALPLAN=$SW_SRC/tests/data/integration/calls.dialplan
sw_up

failed=()
flow_fail() {
	failed+=("$1")
	echo "[$SW_NAME] FAIL ($1): $2" >&2
}


# flow TAG UAC_SCENARIO UAS_SCENARIO CALLS: one batch of calls; sets
# uac_rc, uas_rc, ok_uac, ok_uas; fails the flow on any lost call.
flow() {
	local tag=$1 uac=$2 uas=$3 calls=$4
	sw_numbers_from "$SW_TMP/$tag.csv" 1000 "$calls"
	sw_uas_start "$tag-uas" "$uas" "$calls" -timeout 30s
	uac_rc=0
	sw_uac "$tag-uac" "$uac" "$SW_TMP/$tag.csv" "$calls" 5 || uac_rc=$?
	sw_uas_wait 20
	uas_rc=$SW_UAS_RC
	ok_uac=$(sw_sipp_stat "$tag-uac" SuccessfulCall)
	ok_uas=$(sw_sipp_stat "$tag-uas" SuccessfulCall)
	sw_log "$tag: UAC exit $uac_rc, $ok_uac/$calls successful; UAS exit $uas_rc, $ok_uas/$calls successful"
	[ "$uac_rc" = 0 ] && [ "$ok_uac" = "$calls" ] ||
		flow_fail "$tag" "UAC: exit $uac_rc, $ok_uac of $calls calls completed (see $tag-uac.errors.log)"
	[ "$uas_rc" = 0 ] && [ "$ok_uas" = "$calls" ] ||
		flow_fail "$tag" "UAS: exit $uas_rc, $ok_uas of $calls calls passed its checks (see $tag-uas.errors.log)"
}

# --- a. full calls
flow full uac_full_call.xml uas_full_call.xml "$N_FULL"
for r in '^SIP/2\.0 100 ' '^SIP/2\.0 180 '; do
	got=$(sw_sipp_received full-uac "$r")
	[ "$got" -ge "$N_FULL" ] || flow_fail full "the caller got $got responses matching '$r', want $N_FULL"
done

# --- b. CANCEL
flow cancel uac_cancel.xml uas_cancel.xml "$N_CANCEL"
got=$(sw_sipp_received cancel-uas '^CANCEL ')
[ "$got" -ge "$N_CANCEL" ] || flow_fail cancel "the callee got $got CANCELs, want $N_CANCEL"
got=$(sw_sipp_received cancel-uac '^SIP/2\.0 487 ')
[ "$got" -ge "$N_CANCEL" ] || flow_fail cancel "the caller got $got 487s, want $N_CANCEL"
# the CANCEL and the ACK of the 487 must carry the INVITE's branch
same=$(sw_sipp_logged cancel-uas 'branches invite=([^ ]+) cancel=\1 ack=\1$')
logged=$(sw_sipp_logged cancel-uas 'branches invite=')
sw_log "cancel: $same of $logged calls had one branch for INVITE, CANCEL and ACK"
[ "$same" = "$N_CANCEL" ] || {
	grep 'branches' "$SW_TMP/cancel-uas.logs.log" >&2 || true
	flow_fail cancel "$same of $N_CANCEL calls had the INVITE's branch on the CANCEL and the ACK"
}

# --- c. re-INVITE
flow reinvite uac_reinvite.xml uas_reinvite.xml "$N_REINV"
got=$(sw_sipp_received reinvite-uas '^INVITE sip:callee@')
[ "$got" -ge "$N_REINV" ] || flow_fail reinvite "the callee got $got re-INVITEs, want $N_REINV"

# --- d. OPTIONS to sipwarp itself: 200 from sipwarp, nothing forwarded
fwd0=$(sw_ctl_total fwd_requests)
opt0=$(sw_ctl_total reply_options)
sw_numbers_from "$SW_TMP/options.csv" 1000 "$N_OPTIONS"
uac_rc=0
sw_uac options-uac uac_options_self.xml "$SW_TMP/options.csv" "$N_OPTIONS" 5 || uac_rc=$?
ok=$(sw_sipp_stat options-uac SuccessfulCall)
fwd1=$(sw_ctl_total fwd_requests)
opt1=$(sw_ctl_total reply_options)
sw_log "options: UAC exit $uac_rc, $ok/$N_OPTIONS answered 200; reply_options +$((opt1 - opt0)), fwd_requests +$((fwd1 - fwd0))"
[ "$uac_rc" = 0 ] && [ "$ok" = "$N_OPTIONS" ] ||
	flow_fail options "UAC: exit $uac_rc, $ok of $N_OPTIONS OPTIONS answered 200 (see options-uac.errors.log)"
[ $((opt1 - opt0)) -ge "$N_OPTIONS" ] || flow_fail options "reply_options went up by $((opt1 - opt0)), want >= $N_OPTIONS"
[ "$fwd1" = "$fwd0" ] || flow_fail options "fwd_requests went up by $((fwd1 - fwd0)): an OPTIONS to sipwarp was forwarded"

# --- e. REGISTER through the dial plan to the registrar
flow register uac_register.xml uas_registrar.xml "$N_REGISTER"

sw_stop
sw_log "sipwarp: exit $SW_RC, counters:"
sw_counters_dump
[ "$SW_RC" = 0 ] || flow_fail sipwarp "exit code $SW_RC after SIGTERM (want 0)"
bad=
for c in reply_nomatch reply_rule reply_parse reply_483 reply_unroutable drop_ack_rejected "${SW_SIP_DROPS[@]}"; do
	v=$(sw_counter "$c")
	[ "$v" = 0 ] || bad="$bad $c=$v"
done
[ -z "$bad" ] || flow_fail sipwarp "unexpected counters:$bad"

[ ${#failed[@]} = 0 ] || sw_fail "flows failed: ${failed[*]}"
sw_log "PASS: full calls, CANCEL, re-INVITE, OPTIONS to sipwarp, REGISTER"
