#!/usr/bin/env bash
# ARS Max Sessions counted end to end (issue 5): SIPp UAC in netns A ->
# sipwarp (TAP) -> SIPp UAS in netns B through an ARS route with Max
# Sessions, with --no-record-route (Record-Route is forced on for such calls).
#   a. full calls: each INVITE counts +1, each BYE on our Route -1;
#   b. CANCELled calls: each 487 (non-2xx final) gives its slot back;
# at the end ars.sessions shows 0 calls up, and reset works.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${N:-5}

sw_init
command -v jq >/dev/null || sw_skip "jq is not installed (tests/bootstrap.sh installs it)"
SW_DIALPLAN=$SW_SRC/tests/data/integration/ars.dialplan
sw_up -r "$SW_SRC/tests/data/integration/ars.ars" --no-record-route

failed=()
flow() {
	local tag=$1 uac=$2 uas=$3 rc=0 ok
	sw_numbers_from "$SW_TMP/$tag.csv" 1000 "$N"
	sw_uas_start "$tag-uas" "$uas" "$N" -timeout 30s
	sw_uac "$tag-uac" "$uac" "$SW_TMP/$tag.csv" "$N" 5 || rc=$?
	sw_uas_wait 20
	ok=$(sw_sipp_stat "$tag-uac" SuccessfulCall)
	sw_log "$tag: UAC exit $rc, $ok/$N successful; UAS exit $SW_UAS_RC"
	[ "$rc" = 0 ] && [ "$ok" = "$N" ] || failed+=("$tag: UAC exit $rc, $ok of $N calls")
	[ "$SW_UAS_RC" = 0 ] || failed+=("$tag: UAS exit $SW_UAS_RC (see $tag-uas.errors.log)")
}
flow full uac_full_call.xml uas_full_call.xml
flow cancel uac_cancel.xml uas_cancel.xml

up=$(sw_ctl --json ars.sessions | jq -er '.result.patterns[0].sessions')
route=$(sw_ctl --json ars.sessions | jq -er '.result.patterns[0].route')
sw_log "ars.sessions: route $route, $up calls up"
[ "$route" = trunk ] || failed+=("ars.sessions lists route '$route', want trunk")
[ "$up" = 0 ] || failed+=("$up calls still counted after every call ended")
up_n=$(sw_ctl_total ars_sess_up)
down_n=$(sw_ctl_total ars_sess_down)
sw_log "counted: $up_n calls up, $down_n ended (BYE or a final answer)"
[ "$up_n" = $((2 * N)) ] || failed+=("ars_sess_up $up_n, want $((2 * N))")
[ "$down_n" = $((2 * N)) ] || failed+=("ars_sess_down $down_n, want $((2 * N))")
[ "$(sw_ctl_total ars_sess_unknown)" = 0 ] || failed+=("ars_sess_unknown $(sw_ctl_total ars_sess_unknown), want 0")
reset=$(sw_ctl --json ars.sessions reset=trunk | jq -er '.result.reset')
[ "$reset" = 1 ] || failed+=("ars.sessions reset=trunk reset $reset patterns, want 1")
sw_stop
[ "$SW_RC" = 0 ] || failed+=("sipwarp exit code $SW_RC after SIGTERM")
if [ ${#failed[@]} -gt 0 ]; then
	sw_counters_dump
	printf '%s\n' "${failed[@]}" >&2
	sw_fail "${#failed[@]} check(s) failed"
fi
sw_log "PASS: $((2 * N)) calls counted up and down on an ARS Max Sessions route"
