#!/usr/bin/env bash
# End to end: SIPp calls through one engine, sipwarp (DPDK, TAP mode) or
# Kamailio 5.6 (dialplan over db_text, stateless forward), at a ramp of call
# rates, with the engine's CPU per SIP message and the highest sustained rate.
#
#   bench/e2e/e2e.sh ENGINE LABEL RULES_TSV DIALPLAN NUMBERS OUT_JSON
#
#   ENGINE     sipwarp | kamailio
#   LABEL      a name for the plan (r10, r1000 ...)
#   RULES_TSV  the workload table (Kamailio's dialplan is built from it)
#   DIALPLAN   the sipwarp dial plan made from it, every rule sending to
#              198.18.2.2:5060 ($target after [Deploy Patterns])
#   NUMBERS    SIPp injection file (SEQUENTIAL, number;)
#   EXPECTED   (env E2E_EXPECTED) expected.tsv of the workload: the check
#              calls must arrive with these Request-URIs
#
# Topology (only 198.18.0.0/15, only namespaces made here):
#   sipwarp:  as tests/integration/lib.sh: caller netns 198.18.1.2 -- TAP --
#             sipwarp 198.18.1.1 | 198.18.2.1 -- TAP -- callee netns 198.18.2.2
#   kamailio: caller netns 198.18.3.2 -- veth -- kamailio netns 198.18.3.1,
#             198.18.4.1 -- veth -- callee netns 198.18.4.2; Kamailio listens
#             on 198.18.3.1 only (children=2 on one socket = 2 UDP workers)
#
# Method: a check run first (E2E_CHECK_CALLS calls, every one must complete and
# arrive with the expected Request-URI), then rate steps of E2E_STEP seconds:
# E2E_START calls/s doubling until a step fails or E2E_MAX is passed, then
# E2E_BISECT bisection steps. A step passes when every call succeeds, SIPp
# saw no retransmission, and the calls went out at >= 90 % of the rate.
# CPU per SIP message in a step:
#   kamailio: delta of the CPU time of all its processes (/proc/PID/schedstat,
#             ns; utime+stime ticks recorded too) / 6 messages per call
#   sipwarp:  delta of busy_cycles / delta of busy_pkts (stats.get), in µs
#             with TSC_HZ (a poll-mode lcore always shows 100 % CPU)
# Every process started here is stopped by pid; every loop is bounded.
set -euo pipefail

ENGINE=${1:?engine}
LABEL=${2:?label}
RULES_TSV=${3:?rules.tsv}
DIALPLAN=${4:?dialplan}
NUMBERS=${5:?numbers}
OUT_JSON=${6:?out json}

E2E_STEP=${E2E_STEP:-5}
E2E_START=${E2E_START:-250}
E2E_MAX=${E2E_MAX:-32000}
E2E_BISECT=${E2E_BISECT:-3}
E2E_CHECK_CALLS=${E2E_CHECK_CALLS:-20}
E2E_EXPECTED=${E2E_EXPECTED:-}
TSC_HZ=${TSC_HZ:-0}

BENCH_E2E=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2034  # read by lib.sh
SW_NAME=e2e-$ENGINE-$LABEL
SW_READY_TIMEOUT=${SW_READY_TIMEOUT:-300}
# shellcheck source-path=SCRIPTDIR source=../../tests/integration/lib.sh
. "$BENCH_E2E/../../tests/integration/lib.sh"
SIPWARPCTL=${SIPWARPCTL:-$SW_BUILD/control/sipwarpctl}
SIPP_DIR=$BENCH_E2E/sipp

say() { # progress; with BENCH_T0 (bench/run.sh) the elapsed time first
	if [ -n "${BENCH_T0:-}" ]; then
		local t=$(($(date +%s) - BENCH_T0))
		printf '[%02d:%02d]   %s %s: %s\n' $((t / 60)) $((t % 60)) "$ENGINE" "$LABEL" "$*"
	else
		echo "    [$ENGINE $LABEL] $*"
	fi
}
now() { date +%s.%N; }

sw_init
STEPS=$SW_TMP/steps.tsv
: >"$STEPS"

# ---- topology and engine --------------------------------------------------

KAM_PID=
start_sipwarp() {
	# lib.sh runs sipwarp with -l 0 (lcore 0 on CPU 0), where every other
	# DPDK test on a shared machine also polls; a wrapper moves our lcore to
	# E2E_CPU (default: the last CPU) so the two do not halve each other.
	local cpu=${E2E_CPU:-$(($(nproc) - 1))}
	cat >"$SW_TMP/sipwarp-on-cpu" <<EOF
#!/usr/bin/env bash
args=() prev=
for a in "\$@"; do
	if [ "\$prev" = -l ] && [ "\$a" = 0 ]; then a=$cpu; fi
	args+=("\$a")
	prev=\$a
done
exec "$SIPWARP" "\${args[@]}"
EOF
	chmod +x "$SW_TMP/sipwarp-on-cpu"
	SIPWARP=$SW_TMP/sipwarp-on-cpu
	SW_DIALPLAN=$DIALPLAN sw_up
	CALLER_NS=$SW_NS_A CALLER_ADDR=$SW_A_ADDR
	CALLEE_NS=$SW_NS_B CALLEE_ADDR=$SW_B_ADDR
	PROXY=$SW_A_GW
}

start_kamailio() {
	command -v kamailio >/dev/null || sw_skip "kamailio is not installed"
	SW_NS_K=swK-$SW_ID
	local ns ka=ka$SW_ID kk=kk$SW_ID kb=kb$SW_ID kl=kl$SW_ID
	for ns in "$SW_NS_A" "$SW_NS_B" "$SW_NS_K"; do
		ip netns add "$ns"
		SW_NAMESPACES+=("$ns")
		ip -n "$ns" link set lo up
	done
	ip link add "$ka" netns "$SW_NS_A" type veth peer name "$kk" netns "$SW_NS_K"
	ip link add "$kb" netns "$SW_NS_B" type veth peer name "$kl" netns "$SW_NS_K"
	ip -n "$SW_NS_A" addr add 198.18.3.2/24 dev "$ka"
	ip -n "$SW_NS_K" addr add 198.18.3.1/24 dev "$kk"
	ip -n "$SW_NS_K" addr add 198.18.4.1/24 dev "$kl"
	ip -n "$SW_NS_B" addr add 198.18.4.2/24 dev "$kb"
	ip -n "$SW_NS_A" link set "$ka" up
	ip -n "$SW_NS_B" link set "$kb" up
	ip -n "$SW_NS_K" link set "$kk" up
	ip -n "$SW_NS_K" link set "$kl" up
	ip -n "$SW_NS_A" route add 198.18.0.0/15 via 198.18.3.1 dev "$ka"
	ip -n "$SW_NS_B" route add 198.18.0.0/15 via 198.18.4.1 dev "$kb"
	CALLER_NS=$SW_NS_A CALLER_ADDR=198.18.3.2
	CALLEE_NS=$SW_NS_B CALLEE_ADDR=198.18.4.2
	PROXY=198.18.3.1

	python3 "$BENCH_E2E/kam_dialplan.py" "$RULES_TSV" "$SW_TMP/db" >/dev/null
	sed -e "s|@LISTEN@|$PROXY|" -e "s|@DBURL@|text://$SW_TMP/db|" \
		-e "s|@DST@|sip:$CALLEE_ADDR:5060|" "$BENCH_E2E/kamailio.cfg.in" >"$SW_TMP/kamailio.cfg"
	mkdir -p "$SW_TMP/run"
	# shm for the compiled PCRE of every rule (10k rules take ~100 MB).
	local rules shm
	rules=$(($(wc -l <"$RULES_TSV") - 1))
	shm=$((128 + rules / 50))
	ip netns exec "$SW_NS_K" kamailio -f "$SW_TMP/kamailio.cfg" -DD -E -x tlsf \
		-m "$shm" -M 64 -P "$SW_TMP/kamailio.pid" -Y "$SW_TMP/run" -w "$SW_TMP/run" \
		>"$SW_TMP/kamailio.out" 2>&1 </dev/null &
	KAM_PID=$!
	SW_PIDS+=("$KAM_PID")
	# Ready once its two UDP workers exist (the dial plan loads before the fork).
	local n=$((SW_READY_TIMEOUT * 10))
	while [ "$(kam_pids | wc -w)" -lt 4 ]; do
		kill -0 "$KAM_PID" 2>/dev/null || sw_fail "kamailio exited: $(tail -n 5 "$SW_TMP/kamailio.out")"
		n=$((n - 1))
		[ $n -gt 0 ] || sw_fail "kamailio not ready after ${SW_READY_TIMEOUT}s"
		sleep 0.1
	done
	sleep 0.5
}

# Kamailio's main process and its children (all forked by the main one).
kam_pids() {
	local p
	echo "$KAM_PID"
	for p in /proc/[0-9]*; do
		[ -r "$p/stat" ] || continue
		awk -v pp="$KAM_PID" '{ sub(/^.*\) /, ""); if ($2 == pp) { split(FILENAME, a, "/"); print a[3] } }' \
			"$p/stat" 2>/dev/null || true
	done
}

# ---- CPU counters ---------------------------------------------------------

# cpu_snapshot: "A B C" — kamailio: ns on CPU, ticks, 0;
# sipwarp: busy_cycles, busy_pkts, fwd_requests+fwd_responses.
cpu_snapshot() {
	if [ "$ENGINE" = kamailio ]; then
		local p ns=0 ticks=0 a b
		for p in $KAM_PIDS; do
			if read -r a _ <"/proc/$p/schedstat" 2>/dev/null; then
				ns=$((ns + a))
			fi
			b=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
			ticks=$((ticks + b))
		done
		echo "$ns $ticks 0"
	else
		"$SIPWARPCTL" -s "$SW_TMP/ctl.sock" --json stats.get | python3 -c '
import json, sys
t = json.load(sys.stdin)["result"]["total"]
print(t["busy_cycles"], t["busy_pkts"], t["fwd_requests"] + t["fwd_responses"])'
	fi
}

# settle: wait (at most 30 s) until the engine is idle, so that the backlog
# of an overloaded step (queued datagrams, retransmissions) is not billed to
# the next one: Kamailio under 5 % of a CPU, sipwarp with no new packets.
settle() {
	local a b n=60
	sleep 1
	while [ $n -gt 0 ]; do
		if [ "$ENGINE" = kamailio ]; then # ns on CPU
			read -r a _ <<<"$(cpu_snapshot)"
			sleep 0.5
			read -r b _ <<<"$(cpu_snapshot)"
			[ $((b - a)) -lt 25000000 ] && return 0
		else # busy_pkts
			read -r _ a _ <<<"$(cpu_snapshot)"
			sleep 0.5
			read -r _ b _ <<<"$(cpu_snapshot)"
			[ "$b" = "$a" ] && return 0
		fi
		n=$((n - 1))
	done
	say "still busy after 30 s; measuring anyway"
}

# ---- SIPp -----------------------------------------------------------------

UAS_PID=
uas_start() { # TAG [sipp options]
	local tag=$1
	shift
	ip netns exec "$CALLEE_NS" sipp -sf "$SIPP_DIR/uas.xml" -i "$CALLEE_ADDR" -p 5060 \
		-nostdin -recv_timeout 10s -timeout 3600s -default_behaviors all,-abortunexp \
		-trace_err -error_file "$SW_TMP/$tag.errors.log" "$@" \
		>"$SW_TMP/$tag.out" 2>&1 </dev/null &
	UAS_PID=$!
	SW_PIDS+=("$UAS_PID")
	local n=50
	while ! ip netns exec "$CALLEE_NS" ss -Hlun "sport = :5060" 2>/dev/null | grep -q .; do
		kill -0 "$UAS_PID" 2>/dev/null || sw_fail "SIPp UAS exited at start: $(tail -n 5 "$SW_TMP/$tag.out")"
		n=$((n - 1))
		[ $n -gt 0 ] || sw_fail "SIPp UAS not listening after 5 s"
		sleep 0.1
	done
}

uas_stop() {
	[ -n "$UAS_PID" ] && sw_kill "$UAS_PID"
	UAS_PID=
}

# uac TAG CALLS RATE [sipp options]: returns SIPp's exit code.
uac() {
	local tag=$1 calls=$2 rate=$3 pid rc lim=$(($3 * 2 > 100 ? $3 * 2 : 100))
	shift 3
	timeout -k 5 $((calls / rate + 60)) ip netns exec "$CALLER_NS" sipp -sf "$SIPP_DIR/uac.xml" \
		-inf "$NUMBERS" -i "$CALLER_ADDR" -p 5060 -m "$calls" -r "$rate" -l "$lim" \
		-recv_timeout 3s -timeout $((calls / rate + 30))s -nostdin -default_behaviors all,-abortunexp \
		-trace_err -error_file "$SW_TMP/$tag.errors.log" \
		-trace_stat -stf "$SW_TMP/$tag.stat.csv" -fd 1 "$@" \
		"$PROXY:5060" >"$SW_TMP/$tag.out" 2>&1 </dev/null &
	pid=$!
	SW_PIDS+=("$pid")
	wait "$pid" && rc=0 || rc=$?
	_sw_forget "$pid"
	return $rc
}

# sipp_stat TAG: "successful failed retransmissions elapsed_s" from the last CSV line.
sipp_stat() {
	local f="$SW_TMP/$1.stat.csv"
	[ -s "$f" ] || { echo "0 0 0 0"; return; }
	awk -F';' '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		{ last = $0 }
		END {
			n = split(last, v, ";")
			# "date<TAB>time<TAB>epoch": elapsed = now - start, to the µs
			split(v[col["StartTime"]], t0, "\t")
			split(v[col["CurrentTime"]], t1, "\t")
			el = t1[3] - t0[3]
			printf "%d %d %d %.3f\n", v[col["SuccessfulCall(C)"]], v[col["FailedCall(C)"]],
				v[col["Retransmissions(C)"]], el
		}' "$f"
}

# ---- run ------------------------------------------------------------------

t_start=$(now)
case $ENGINE in
sipwarp) start_sipwarp ;;
kamailio) start_kamailio ;;
*) sw_fail "unknown engine $ENGINE" ;;
esac
load_s=$(echo "$(now) - $t_start" | bc)
[ "$ENGINE" = kamailio ] && KAM_PIDS=$(kam_pids | tr '\n' ' ')
say "up in ${load_s}s"

# Check run: calls complete, and arrive with the workload's Request-URI.
uas_start check -trace_msg -message_file "$SW_TMP/check.msg.log"
check_rc=0
uac check "$E2E_CHECK_CALLS" 20 || check_rc=$?
read -r c_ok c_fail _ _ <<<"$(sipp_stat check)"
uas_stop
check_match=$(python3 - "$SW_TMP/check.msg.log" "$NUMBERS" "${E2E_EXPECTED:-/dev/null}" "$E2E_CHECK_CALLS" <<'EOF'
import re, sys
log, numbers, expected, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
nums = [l.split(';')[0] for l in open(numbers) if ';' in l][:n]
exp = {}
for l in open(expected):
    f = l.rstrip('\n').split('\t')
    if len(f) >= 4 and f[0] != 'number':
        exp[f[0]] = f[3]
got = re.findall(r'^INVITE (\S+) SIP/2\.0', open(log, errors='replace').read(), re.M)
want = [exp.get(x) for x in nums]
if not exp:
    print('%d/%d (no expected.tsv: not compared)' % (len(got), n))
else:
    ok = sum(1 for g in got if g in want)
    print('%d/%d' % (ok, n))
EOF
)
say "check: $c_ok/$E2E_CHECK_CALLS calls completed, Request-URI as expected: $check_match"
first_ruri=$(grep -m1 -o '^INVITE [^ ]* SIP/2.0' "$SW_TMP/check.msg.log" || true)
if [ "$check_rc" != 0 ] || [ "$c_ok" != "$E2E_CHECK_CALLS" ]; then
	sw_fail "check calls did not all complete (SIPp exit $check_rc, $c_ok ok, $c_fail failed)"
fi

uas_start uas
step=0
run_step() { # RATE -> sets PASS
	local rate=$1 calls=$(($1 * E2E_STEP)) rc=0 s0 s1 ok fail retr el ach
	step=$((step + 1))
	settle
	s0=$(cpu_snapshot)
	uac "step$step" "$calls" "$rate" || rc=$?
	s1=$(cpu_snapshot)
	read -r ok fail retr el <<<"$(sipp_stat "step$step")"
	ach=$(python3 -c "print('%.0f' % ($ok / max($el, 0.001)))")
	PASS=0 LAST_FAIL=$fail LAST_RETR=$retr LAST_CALLS=$calls LAST_RC=$rc
	if [ "$rc" = 0 ] && [ "$ok" = "$calls" ] && [ "$fail" = 0 ] && [ "$retr" = 0 ] &&
		python3 -c "import sys; sys.exit(0 if $ach >= 0.9 * $rate else 1)"; then
		PASS=1
	fi
	local a0 b0 c0 a1 b1 c1
	read -r a0 b0 c0 <<<"$s0"
	read -r a1 b1 c1 <<<"$s1"
	local cost
	cost=$(python3 -c "
e, ok = '$ENGINE', $ok
da, db, dc = $a1 - $a0, $b1 - $b0, $c1 - $c0
msgs = 6 * ok
if e == 'kamailio':
    print('%.3f %d %.3f' % (da / 1e3 / max(msgs, 1), msgs, da / 1e9))
else:
    hz = float('$TSC_HZ') or 1
    print('%.3f %d %.1f' % (da / max(db, 1) / hz * 1e6, db, da / max(db, 1)))")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "$calls" "$ok" "$fail" "$retr" \
		"$el" "$ach" "$PASS" "$a1" "$a0" "$b1" "$b0" "$c1 $c0" "$cost" >>"$STEPS"
	local v
	read -r v _ <<<"$cost"
	say "$(printf '%6d calls/s: %s  (%d ok, %d failed, %d retrans, %s calls/s achieved; %s us/msg)' \
		"$rate" "$([ $PASS = 1 ] && echo pass || echo FAIL)" "$ok" "$fail" "$retr" "$ach" "$v")"
}

# A step that failed by a hair (no failed call, at most one retransmission
# or under 0.1 % of its calls) is run once more: on a shared machine one
# late packet is noise. It passes only if the second run is clean.
try_rate() {
	run_step "$1"
	if [ "$PASS" = 0 ] && [ "$LAST_FAIL" = 0 ] && [ "$LAST_RC" = 0 ] &&
		{ [ "$LAST_RETR" -le 1 ] || [ $((LAST_RETR * 1000)) -le "$LAST_CALLS" ]; }; then
		say "one more run at $1 calls/s (a near miss)"
		run_step "$1"
	fi
}

good=0 bad=0 rate=$E2E_START
try_rate "$rate"
# Down first while even the start rate is too much (large plans on Kamailio).
while [ "$PASS" = 0 ] && [ "$rate" -gt 25 ]; do
	bad=$rate
	rate=$((rate / 2))
	try_rate "$rate"
done
[ "$PASS" = 1 ] && good=$rate
# Up by doubling while it passes (not past a rate that already failed).
while [ "$PASS" = 1 ] && [ $((rate * 2)) -le "$E2E_MAX" ] &&
	{ [ "$bad" = 0 ] || [ $((rate * 2)) -lt "$bad" ]; }; do
	rate=$((rate * 2))
	try_rate "$rate"
	if [ "$PASS" = 1 ]; then good=$rate; else bad=$rate; fi
done
# Then bisect between the last pass and the first failure.
if [ "$bad" -gt 0 ] && [ "$good" -gt 0 ]; then
	for ((i = 0; i < E2E_BISECT; i++)); do
		step_by=$(( (bad - good) >= 200 ? 50 : 10 ))
		rate=$(((good + bad) / 2 / step_by * step_by))
		if [ "$rate" -le "$good" ] || [ "$rate" -ge "$bad" ]; then break; fi
		try_rate "$rate"
		if [ "$PASS" = 1 ]; then good=$rate; else bad=$rate; fi
	done
fi
uas_stop

# The engine's own view, then stop it.
extra=
if [ "$ENGINE" = sipwarp ]; then
	"$SIPWARPCTL" -s "$SW_TMP/ctl.sock" --json stats.get >"$SW_TMP/stats.json" 2>/dev/null || true
	sw_stop
else
	sw_kill "$KAM_PID"
	KAM_PID=
fi
[ "$ENGINE" = sipwarp ] && extra=$SW_TMP/stats.json

# Keep what explains a failed step (bounded in size) next to the results.
if [ -n "${E2E_LOGDIR:-}" ]; then
	mkdir -p "$E2E_LOGDIR"
	for f in "$SW_TMP"/*.stat.csv "$SW_TMP"/*.out "$SW_TMP"/*.err "$SW_TMP"/*errors.log "$SW_TMP"/steps.tsv; do
		[ -s "$f" ] && head -c 200000 "$f" >"$E2E_LOGDIR/$(basename "$f")"
	done
fi

python3 - "$STEPS" "$OUT_JSON" "$ENGINE" "$LABEL" "$RULES_TSV" "$good" "$bad" "$load_s" \
	"$c_ok" "$E2E_CHECK_CALLS" "$check_match" "$first_ruri" "$E2E_STEP" "$TSC_HZ" "$extra" <<'EOF'
import json, sys
(steps_f, out, engine, label, rules_tsv, good, bad, load_s, c_ok, c_n, match, ruri, step_s,
 hz, extra) = sys.argv[1:]
rules = sum(1 for l in open(rules_tsv) if l.strip() and not l.startswith('pr\t'))
steps = []
for l in open(steps_f):
    f = l.rstrip('\n').split('\t')
    rate, calls, ok, fail, retr, el, ach, ok_step = f[:8]
    cost = f[13].split()
    s = {'rate': int(rate), 'calls': int(calls), 'successful': int(ok), 'failed': int(fail),
         'retransmissions': int(retr), 'elapsed_s': float(el), 'achieved_cps': int(ach),
         'pass': ok_step == '1', 'us_per_msg': float(cost[0])}
    if engine == 'kamailio':
        s.update({'sip_msgs': int(cost[1]), 'cpu_s': float(cost[2]),
                  'cpu_ticks': int(f[10]) - int(f[11])})
    else:
        s.update({'busy_pkts': int(cost[1]), 'cycles_per_msg': float(cost[2]),
                  'busy_cycles': int(f[8]) - int(f[9])})
    steps.append(s)
passing = [s for s in steps if s['pass']]
best = max(passing, key=lambda s: s['rate']) if passing else None
res = {
    'engine': engine, 'label': label, 'rules': rules, 'load_s': float(load_s),
    'check': {'calls': int(c_n), 'completed': int(c_ok), 'ruri_as_expected': match,
              'first_ruri': ruri},
    'step_s': int(step_s), 'tsc_hz': float(hz),
    'max_sustained_cps': int(good), 'first_failing_cps': int(bad) or None,
    'us_per_msg': best['us_per_msg'] if best else None,
    'us_per_msg_at_cps': best['rate'] if best else None,
    'steps': steps,
}
if best and engine == 'sipwarp':
    res['cycles_per_msg'] = best['cycles_per_msg']
if extra:
    try:
        t = json.load(open(extra))['result']['total']
        res['sipwarp_counters'] = {k: v for k, v in t.items() if v}
    except Exception:
        pass
json.dump(res, open(out, 'w'), indent=1)
EOF
say "max sustained $good calls/s; json in $OUT_JSON"
