#!/usr/bin/env bash
# The control socket against a running sipwarp (issue 7), through
# sipwarpctl and raw JSON-RPC:
#   - every method once, readable and --json (a JSON-RPC 2.0 result, exit 0)
#   - errors: unknown method (exit 1, -32601), bad params (exit 1, -32602),
#     malformed JSON sent raw (-32700, id null; the same connection and the
#     socket answer the next request), an invalid request (-32600), no
#     socket (exit 2), no method (exit 2)
#   - a bad dial plan by dialplan.reload path=BAD: refused, exit 1, every
#     error listed as file:line:col, version and sha256 unchanged
#   - a good reload of another file: version +1, sha256 changes; a reload
#     without path; a SIGHUP reload: version +1
#   - calls still complete after the reloads
#   - the socket is mode 0660
#   - core.shutdown stops sipwarp, which exits 0
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CALLS=${CALLS:-5}

sw_init
command -v jq >/dev/null || sw_skip "jq is not installed (tests/bootstrap.sh installs it)"
command -v python3 >/dev/null || sw_skip "python3 is not installed (raw JSON-RPC over the unix socket)"
[ -x "$SW_CTL" ] || sw_fail "no sipwarpctl at $SW_CTL"
sw_up

demo=$SW_SRC/examples/demo.dialplan
other=$SW_SRC/tests/data/integration/calls.dialplan
failures=0
check() {	# check WHAT CONDITION...: run the condition, count a failure
	local what=$1
	shift
	if "$@"; then
		sw_vlog "ok: $what"
	else
		echo "[$SW_NAME] FAIL: $what" >&2
		failures=$((failures + 1))
	fi
}

# ctl NAME ARGS...: sipwarpctl ARGS, output in $SW_TMP/ctl-NAME.txt; sets rc
ctl() {
	local name=$1
	shift
	rc=0
	sw_ctl "$@" >"$SW_TMP/ctl-$name.txt" 2>&1 || rc=$?
	sw_vlog "sipwarpctl $* -> exit $rc"
}
out() { cat "$SW_TMP/ctl-$1.txt"; }
has() { grep -qE -- "$2" "$SW_TMP/ctl-$1.txt"; }
json() {	# json NAME JQ-FILTER: true when the filter holds on the output
	jq -e "$2" "$SW_TMP/ctl-$1.txt" >/dev/null 2>&1
}
is_result() {	# a JSON-RPC 2.0 success answer
	json "$1" '.jsonrpc == "2.0" and has("result") and (has("error") | not) and .id != null'
}

# --- the socket itself
mode=$(stat -c %a "$SW_TMP/ctl.sock")
sw_log "control socket mode $mode"
check "control socket mode is 0660 (got $mode)" [ "$mode" = 660 ]

# --- every method, readable and --json
printf 'INVITE sip:1234@198.18.1.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-ctl-1\r\nFrom: <sip:caller@198.18.1.2>;tag=1\r\nTo: <sip:1234@198.18.1.1>\r\nCall-ID: ctl-1@198.18.1.2\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nX-Internal: secret\r\nContent-Length: 0\r\n\r\n' \
	>"$SW_TMP/invite.sip"

ctl info ruleset.info
check "ruleset.info exit 0" [ $rc = 0 ]
check "ruleset.info shows version, sha256, rules" has info '^version: 1$'
check "ruleset.info shows sha256" has info '^sha256: [0-9a-f]{64}$'
check "ruleset.info shows 3 rules" has info '^rules: 3$'
ctl info-j --json ruleset.info
check "ruleset.info --json" is_result info-j
check "ruleset.info --json: version 1, dial plan path" json info-j ".result.version == 1 and .result.dialplan == \"$demo\""
v0=$(jq -r .result.version "$SW_TMP/ctl-info-j.txt")
sha0=$(jq -r .result.sha256 "$SW_TMP/ctl-info-j.txt")

ctl dump dialplan.dump
check "dialplan.dump exit 0, shows the rules" eval '[ $rc = 0 ] && has dump "^\[Rule demo-ext\]"'
ctl dump-j --json dialplan.dump
check "dialplan.dump --json: the file's text" eval 'is_result dump-j && [ "$(jq -r .result.text "$SW_TMP/ctl-dump-j.txt")" = "$(cat "$demo")" ]'

ctl explain dialplan.explain "message=@$SW_TMP/invite.sip"
check "dialplan.explain exit 0, demo-ext wins, FORWARD" eval '[ $rc = 0 ] && has explain "demo-ext" && has explain "decision: FORWARD"'
ctl explain-j --json dialplan.explain "message=@$SW_TMP/invite.sip" src=198.18.1.2:5060
check "dialplan.explain --json with src" eval 'is_result explain-j && json explain-j ".result.explain | test(\"198.18.1.2\") and test(\"decision: FORWARD\")"'

ctl stats stats.get
check "stats.get exit 0, totals and worker 0" eval '[ $rc = 0 ] && has stats "^total:" && has stats "rx_pkts: [0-9]+" && has stats "worker: 0"'
ctl stats-j --json stats.get
check "stats.get --json: totals and one worker" json stats-j '.jsonrpc == "2.0" and (.result.total.rx_pkts | type == "number") and (.result.workers | length == 1)'

ctl gw gateway.list
check "gateway.list exit 0, count 0" eval '[ $rc = 0 ] && has gw "^count: 0$"'
ctl gw-j --json gateway.list
check "gateway.list --json" json gw-j '.result.count == 0 and .result.gateways == []'
ctl ars-j --json ars.sessions reset=true
check "ars.sessions --json: no capped pattern" json ars-j '.result.patterns == [] and .result.reset == 0'
ctl ars-bad --json ars.sessions reset=5
check "ars.sessions reset=5: -32602" eval '[ $rc = 1 ] && json ars-bad ".error.code == -32602"'

ctl log log.level level=debug
check "log.level level=debug exit 0" eval '[ $rc = 0 ] && has log "level: debug"'
ctl log-j --json log.level level=info type=user.sipwarp.dp
check "log.level --json level=info type=user.sipwarp.dp" json log-j '.result.level == "info" and .result.type == "user.sipwarp.dp"'
ctl log-r log.level level=info

# --- errors
ctl unknown no.such.method
check "unknown method: exit 1 (got $rc)" [ $rc = 1 ]
check "unknown method: readable error -32601" has unknown '-32601'
ctl unknown-j --json no.such.method
check "unknown method: exit 1 with --json" [ $rc = 1 ]
check "unknown method --json: error -32601" json unknown-j '.jsonrpc == "2.0" and .error.code == -32601 and (has("result") | not)'

ctl badp-j --json log.level level=loud
check "bad params (log.level level=loud): exit 1, -32602" eval '[ $rc = 1 ] && json badp-j ".error.code == -32602"'
ctl badp2-j --json log.level
check "missing params (log.level): exit 1, -32602" eval '[ $rc = 1 ] && json badp2-j ".error.code == -32602"'
ctl badp3-j --json dialplan.explain
check "missing params (dialplan.explain): exit 1, -32602" eval '[ $rc = 1 ] && json badp3-j ".error.code == -32602"'

rc=0
timeout -k 2 10 "$SW_CTL" -s "$SW_TMP/no-such.sock" ruleset.info >"$SW_TMP/ctl-nosock.txt" 2>&1 || rc=$?
check "no socket: exit 2 (got $rc)" [ $rc = 2 ]
rc=0
timeout -k 2 10 "$SW_CTL" -s "$SW_TMP/ctl.sock" >"$SW_TMP/ctl-usage.txt" 2>&1 || rc=$?
check "no method: exit 2 (got $rc)" [ $rc = 2 ]

# raw JSON-RPC on one connection: malformed JSON, an invalid request, then a
# good request on the same connection; the answers, one per line, in order
timeout -k 2 20 python3 - "$SW_TMP/ctl.sock" >"$SW_TMP/raw.txt" 2>&1 <<'PY' || true
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for line in (b'{"jsonrpc":"2.0","method":\n',
             b'this is not json\n',
             b'{"jsonrpc":"2.0","id":3}\n',
             b'{"jsonrpc":"2.0","method":"ruleset.info","id":4}\n'):
    f.write(line)
    f.flush()
    sys.stdout.write(f.readline().decode())
PY
sw_vlog "raw answers: $(cat "$SW_TMP/raw.txt")"
sed -n 1p "$SW_TMP/raw.txt" >"$SW_TMP/ctl-raw1.txt"
sed -n 2p "$SW_TMP/raw.txt" >"$SW_TMP/ctl-raw2.txt"
sed -n 3p "$SW_TMP/raw.txt" >"$SW_TMP/ctl-raw3.txt"
sed -n 4p "$SW_TMP/raw.txt" >"$SW_TMP/ctl-raw4.txt"
check "truncated JSON: -32700, id null" json raw1 '.error.code == -32700 and .id == null'
check "not JSON: -32700, id null" json raw2 '.error.code == -32700 and .id == null'
check "request without method: -32600, id 3" json raw3 '.error.code == -32600 and .id == 3'
check "same connection still answers after bad input (id 4)" json raw4 '.id == 4 and .result.version == 1'
ctl after-raw --json ruleset.info
check "socket answers a new connection after bad input" is_result after-raw

# --- a bad dial plan: refused whole, every error with file:line:col
bad=$SW_TMP/bad.dialplan
cat >"$bad" <<'DP'
[Rule broken-regex]
[Matching Patterns]
$request = ^INVITE(
[Deploy Patterns]
$action = 603

[Rule broken-variable]
[Matching Patterns]
$requets = ^INVITE
[Deploy Patterns]
$action = 603
DP
ctl bad dialplan.reload "path=$bad"
sw_log "bad reload: exit $rc: $(tr '\n' ' ' <"$SW_TMP/ctl-bad.txt")"
check "bad dial plan: exit 1 (got $rc)" [ $rc = 1 ]
check "bad dial plan: error at $bad:3:<col>" has bad "$bad:3:[0-9]+: error"
check "bad dial plan: error at $bad:9:<col>" has bad "$bad:9:[0-9]+: error"
ctl bad-j --json dialplan.reload "path=$bad"
check "bad dial plan --json: a JSON-RPC error naming file:line:col" \
	json bad-j '.error.code != null and (.error | tostring | test("bad.dialplan:3:[0-9]+"))'
ctl info-bad --json ruleset.info
check "after the bad reload: version and sha256 unchanged" \
	json info-bad ".result.version == $v0 and .result.sha256 == \"$sha0\" and .result.dialplan == \"$demo\""

# --- a good reload of another file: version +1, sha256 changes
ctl good dialplan.reload "path=$other"
check "good reload: exit 0 (got $rc)" [ $rc = 0 ]
ctl info-good --json ruleset.info
v1=$(jq -r .result.version "$SW_TMP/ctl-info-good.txt")
sha1=$(jq -r .result.sha256 "$SW_TMP/ctl-info-good.txt")
sw_log "good reload: version $v0 -> $v1, sha256 ${sha0:0:12}.. -> ${sha1:0:12}.."
check "good reload: version +1" [ "$v1" = $((v0 + 1)) ]
check "good reload: sha256 changed" [ "$sha1" != "$sha0" ]
check "good reload: the new file, 4 rules" json info-good ".result.dialplan == \"$other\" and .result.rules == 4"
ctl good-j --json dialplan.reload
check "reload without path (--json): version +1" eval 'is_result good-j && [ "$(sw_ctl_version)" = $((v1 + 1)) ]'
v2=$(sw_ctl_version)

# --- SIGHUP: version +1 (the reload happens on the control thread: poll)
kill -HUP "$SW_PID"
n=100
while [ "$(sw_ctl_version)" = "$v2" ] && [ $n -gt 0 ]; do
	sleep 0.1
	n=$((n - 1))
done
v3=$(sw_ctl_version)
sw_log "SIGHUP: version $v2 -> $v3"
check "SIGHUP reload: version +1 (got $v2 -> $v3)" [ "$v3" = $((v2 + 1)) ]
ctl info-hup --json ruleset.info
check "SIGHUP reload: same file, same sha256" json info-hup ".result.dialplan == \"$other\" and .result.sha256 == \"$sha1\""

# --- calls still complete after the reloads
sw_numbers_from "$SW_TMP/numbers.csv" 1000 "$CALLS"
sw_uas_start uas uas_invite.xml "$CALLS" -timeout 30s
uac_rc=0
sw_uac uac uac_invite.xml "$SW_TMP/numbers.csv" "$CALLS" 5 || uac_rc=$?
sw_uas_wait 20
ok_uac=$(sw_sipp_stat uac SuccessfulCall)
sw_log "calls after the reloads: UAC exit $uac_rc, $ok_uac of $CALLS; UAS exit $SW_UAS_RC"
check "calls after the reloads: all complete (UAC exit $uac_rc, $ok_uac/$CALLS)" \
	eval '[ "$uac_rc" = 0 ] && [ "$ok_uac" = "$CALLS" ] && [ "$SW_UAS_RC" = 0 ]'

# --- core.shutdown: sipwarp stops by itself and exits 0
ctl shutdown core.shutdown
check "core.shutdown: exit 0 (got $rc)" [ $rc = 0 ]
if sw_wait_pid "$SW_PID" 15; then
	wait "$SW_PID" && SW_RC=0 || SW_RC=$?
	_sw_forget "$SW_PID"
	SW_PID=
	sw_log "sipwarp exited $SW_RC after core.shutdown"
	check "sipwarp exit code 0 after core.shutdown (got $SW_RC)" [ "$SW_RC" = 0 ]
	check "the socket file is gone after core.shutdown" [ ! -e "$SW_TMP/ctl.sock" ]
else
	check "sipwarp stops within 15 s of core.shutdown" false
fi

[ $failures = 0 ] || sw_fail "$failures control-socket checks failed"
sw_log "PASS: every method, JSON-RPC errors, refused bad reload, reloads by RPC and SIGHUP, core.shutdown"
