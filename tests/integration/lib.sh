# shellcheck shell=bash
# shellcheck disable=SC2034  # SW_* results are read by the scripts that source this
# Integration helpers: sourced by tests/integration/t_*.sh and examples/demo.sh.
#
# Topology (TAP test mode, DESIGN "Modes and commands"):
#
#   netns A (caller)            sipwarp (DPDK, net_tap)           netns B (callee)
#   swa<id> 198.18.1.2/24 ---- port 0 198.18.1.1 | port 1 198.18.2.1 ---- swb<id> 198.18.2.2/24
#   SIPp UAC                                                       SIPp UAS
#
# sipwarp creates both TAPs when it starts; once it says "ready" the kernel
# side of each is moved into its namespace, addressed and brought up.
# Every name carries a per-run id, so runs can go side by side. Only
# 198.18.0.0/15 is used. The EXIT trap stops only the processes started here
# (by pid), deletes only the namespaces and files made here.
#
# Environment (meson sets the first three; defaults suit a by-hand run):
#   SIPWARP   the binary            (default $SW_BUILD/control/sipwarp)
#   SW_SRC    the source tree       (default: two levels above this file)
#   SW_BUILD  the build tree        (default $SW_SRC/build)
#   SW_KEEP=1 keep the temp directory (logs, SIPp traces) after the run
#   SW_VERBOSE=1  print each step

set -euo pipefail

SW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SW_SRC=${SW_SRC:-$(cd "$SW_LIB_DIR/../.." && pwd)}
SW_BUILD=${SW_BUILD:-$SW_SRC/build}
SIPWARP=${SIPWARP:-$SW_BUILD/control/sipwarp}
SW_SIPP_DIR=$SW_LIB_DIR/sipp

# The addresses of the topology above.
SW_A_ADDR=198.18.1.2
SW_A_GW=198.18.1.1
SW_B_ADDR=198.18.2.2
SW_B_GW=198.18.2.1
SW_SIP_PORT=5060

SW_READY_TIMEOUT=${SW_READY_TIMEOUT:-60}	# seconds for sipwarp to say ready
SW_STOP_TIMEOUT=${SW_STOP_TIMEOUT:-15}		# seconds for a SIGTERM to work

SW_PIDS=()		# every background process started here
SW_NAMESPACES=()	# every namespace created here
SW_TMP=
SW_NAME=${SW_NAME:-$(basename "$0" .sh)}
SW_PID=			# sipwarp's pid while it runs
SW_RC=			# sipwarp's exit code once stopped

sw_log() { echo "[$SW_NAME] $*"; }
sw_vlog() { [ -z "${SW_VERBOSE:-}" ] || echo "[$SW_NAME] $*"; }
sw_skip() { echo "[$SW_NAME] SKIP: $*"; exit 77; }
sw_fail() { echo "[$SW_NAME] FAIL: $*" >&2; exit 1; }

# sw_init: check we can run, pick the run id, set the trap.
sw_init() {
	[ "$(id -u)" = 0 ] || sw_skip "needs root (network namespaces, TAP devices)"
	local t
	for t in ip sipp timeout; do
		command -v "$t" >/dev/null || sw_skip "$t is not installed (tests/bootstrap.sh installs it)"
	done
	[ -x "$SIPWARP" ] || sw_fail "no sipwarp binary at $SIPWARP (build first: tests/bootstrap.sh)"
	ip netns list >/dev/null 2>&1 || sw_skip "network namespaces are not available here"
	[ -c /dev/net/tun ] || sw_skip "/dev/net/tun is missing (TAP devices unavailable)"

	# Run id: 6 hex digits from our pid and $RANDOM; interface names stay
	# at 9 characters (limit 15), and we never reuse a live namespace name.
	local tries=0
	while :; do
		SW_ID=$(printf '%04x%02x' $(($$ & 0xffff)) $((RANDOM & 0xff)))
		ip netns list | grep -q -- "-$SW_ID\b" || break
		tries=$((tries + 1))
		[ $tries -lt 20 ] || sw_fail "cannot find a free run id"
	done
	SW_NS_A=swA-$SW_ID
	SW_NS_B=swB-$SW_ID
	SW_IF_A=swa$SW_ID
	SW_IF_B=swb$SW_ID
	SW_PREFIX=sw-$SW_ID
	SW_TMP=$(mktemp -d "/tmp/sipwarp-$SW_NAME.XXXXXX")
	trap sw_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	sw_vlog "run id $SW_ID, files in $SW_TMP"
}

# sw_wait_pid PID SECONDS: wait for a child to end; 0 if it did.
sw_wait_pid() {
	local pid=$1 n=$(($2 * 10))
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	! kill -0 "$pid" 2>/dev/null
}

# _sw_forget PID: a child we have reaped is no longer ours to signal (its
# pid may be reused by then).
_sw_forget() {
	local p keep=()
	for p in "${SW_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	SW_PIDS=("${keep[@]}")
}

# sw_kill PID: SIGTERM, a bounded wait, then SIGKILL; reaps it. Only for
# children started here.
sw_kill() {
	local pid=$1
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! sw_wait_pid "$pid" "$SW_STOP_TIMEOUT"; then
			echo "[$SW_NAME] pid $pid ignored SIGTERM for ${SW_STOP_TIMEOUT}s, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	_sw_forget "$pid"
}

sw_cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	set +e
	for pid in "${SW_PIDS[@]}"; do
		sw_kill "$pid"
	done
	SW_PIDS=()
	for ns in "${SW_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "${SW_PREFIX:-}" ]; then
		rm -rf "/var/run/dpdk/$SW_PREFIX" "/run/dpdk/$SW_PREFIX"
	fi
	if [ -n "$SW_TMP" ] && [ -d "$SW_TMP" ]; then
		case $rc in
		0 | 77 | 130 | 143) ;;	# passed, skipped, interrupted
		*) sw_dump_logs >&2 ;;
		esac
		if [ -n "${SW_KEEP:-}" ]; then
			echo "[$SW_NAME] kept $SW_TMP"
		else
			rm -rf "$SW_TMP"
		fi
	fi
	exit $rc
}

# On failure: the tail of every log, so that meson's testlog says why.
sw_dump_logs() {
	local f
	for f in "$SW_TMP"/*.out "$SW_TMP"/*.err "$SW_TMP"/*errors.log "$SW_TMP"/*screen.log; do
		[ -s "$f" ] || continue
		echo "----- $(basename "$f") (last 40 lines)"
		tail -n 40 "$f"
	done
}

# sw_netns: namespaces A and B, loopback up.
sw_netns() {
	local ns
	for ns in "$SW_NS_A" "$SW_NS_B"; do
		ip netns add "$ns"
		SW_NAMESPACES+=("$ns")
		ip -n "$ns" link set lo up
	done
}

# _sw_launch: run SW_CMD in the background and wait (bounded) for "sipwarp: ready".
_sw_launch() {
	sw_vlog "start: ${SW_CMD[*]}"
	"${SW_CMD[@]}" >"$SW_TMP/sipwarp.out" 2>"$SW_TMP/sipwarp.err" </dev/null &
	SW_PID=$!
	SW_PIDS+=("$SW_PID")
	local n=$((SW_READY_TIMEOUT * 10))
	while ! grep -q 'sipwarp: ready' "$SW_TMP/sipwarp.out" 2>/dev/null; do
		if ! kill -0 "$SW_PID" 2>/dev/null; then
			wait "$SW_PID" && SW_RC=0 || SW_RC=$?
			_sw_forget "$SW_PID"
			sw_fail "sipwarp exited ($SW_RC) before it was ready: $(tail -n 5 "$SW_TMP/sipwarp.err")"
		fi
		n=$((n - 1))
		[ $n -gt 0 ] || sw_fail "sipwarp not ready after ${SW_READY_TIMEOUT}s"
		sleep 0.1
	done
	sw_vlog "sipwarp ready (pid $SW_PID)"
}

# sw_start [sipwarp options]: start sipwarp on the two TAPs in the
# background (stdout/stderr in $SW_TMP/sipwarp.{out,err}) and wait for it to
# say ready. Default options: the demo dial plan; more may be given.
# SW_DIALPLAN overrides the dial plan.
sw_start() {
	local dialplan=${SW_DIALPLAN:-$SW_SRC/examples/demo.dialplan}
	SW_CMD=("$SIPWARP" --no-huge -m 256 --no-pci --file-prefix "$SW_PREFIX" -l 0 --
		-d "$dialplan"
		-p "net_tap0,iface=$SW_IF_A" -p "net_tap1,iface=$SW_IF_B"
		-a "0:$SW_A_GW/24" -a "1:$SW_B_GW/24"
		-s "$SW_TMP/ctl.sock" "$@")
	_sw_launch
}

# sw_attach: move each TAP into its namespace, address it, bring it up.
sw_attach() {
	_sw_attach "$SW_IF_A" "$SW_NS_A" "$SW_A_ADDR" "$SW_A_GW"
	_sw_attach "$SW_IF_B" "$SW_NS_B" "$SW_B_ADDR" "$SW_B_GW"
}

_sw_attach() {
	local ifc=$1 ns=$2 addr=$3 gw=$4
	ip link show "$ifc" >/dev/null 2>&1 || sw_fail "sipwarp said ready but there is no interface $ifc"
	ip link set "$ifc" netns "$ns"
	ip -n "$ns" addr add "$addr/24" dev "$ifc"
	ip -n "$ns" link set "$ifc" up
	# the rest of the benchmarking range goes through sipwarp too
	ip -n "$ns" route add 198.18.0.0/15 via "$gw" dev "$ifc"
	sw_vlog "$ifc in $ns: $addr/24 via $gw"
}

# sw_up [sipwarp options]: namespaces, sipwarp, TAPs attached.
sw_up() {
	sw_netns
	sw_start "$@"
	sw_attach
}

# sw_stop: SIGTERM sipwarp and wait for its final counters. Sets SW_RC.
sw_stop() {
	[ -n "$SW_PID" ] || return 0
	kill -TERM "$SW_PID" 2>/dev/null || true
	if ! sw_wait_pid "$SW_PID" "$SW_STOP_TIMEOUT"; then
		kill -KILL "$SW_PID" 2>/dev/null || true
		wait "$SW_PID" 2>/dev/null || true
		_sw_forget "$SW_PID"
		SW_PID=
		sw_fail "sipwarp did not exit within ${SW_STOP_TIMEOUT}s of SIGTERM"
	fi
	wait "$SW_PID" && SW_RC=0 || SW_RC=$?
	_sw_forget "$SW_PID"
	SW_PID=
	sw_vlog "sipwarp exited $SW_RC"
}

# sw_counter NAME: a counter from sipwarp's final summary (lines "name value";
# the last such line wins); 0 when absent. Call after sw_stop.
sw_counter() {
	awk -v n="$1" '$1 == n && NF == 2 && $2 ~ /^[0-9]+$/ { v = $2 } END { print v + 0 }' \
		"$SW_TMP/sipwarp.out"
}

# sw_counters_dump: the counter summary, non-zero ones only.
sw_counters_dump() {
	awk 'NF == 2 && $1 ~ /^[a-z][a-z0-9_]*$/ && $2 ~ /^[0-9]+$/ && $2 != 0 { printf "  %-22s %s\n", $1, $2 }' \
		"$SW_TMP/sipwarp.out"
}

# sw_numbers FILE NUMBER...: a SIPp injection file, one called user per call.
sw_numbers() {
	local f=$1
	shift
	{
		echo SEQUENTIAL
		printf '%s;\n' "$@"
	} >"$f"
}

# sw_numbers_from FILE FIRST COUNT: the same with COUNT numbers from FIRST up.
sw_numbers_from() {
	local f=$1 first=$2 n=$3 i nums=()
	for ((i = 0; i < n; i++)); do
		nums+=($((first + i)))
	done
	sw_numbers "$f" "${nums[@]}"
}

# Common SIPp options: bounded, no terminal, every trace in $SW_TMP/<tag>.*
_sw_sipp_opts() {
	local tag=$1
	echo -nostdin -trace_err -error_file "$SW_TMP/$tag.errors.log" \
		-trace_logs -log_file "$SW_TMP/$tag.logs.log" \
		-trace_stat -stf "$SW_TMP/$tag.stat.csv" -fd 1 \
		-trace_screen -screen_file "$SW_TMP/$tag.screen.log" \
		-trace_msg -message_file "$SW_TMP/$tag.msg.log"
}

# sw_uas_start TAG SCENARIO CALLS [sipp options]: SIPp UAS in namespace B on
# 198.18.2.2:5060, in the background; it ends by itself after CALLS calls
# or after its -timeout (default 60 s). Sets SW_UAS_PID.
sw_uas_start() {
	local tag=$1 scen=$2 calls=$3
	shift 3
	sw_uas_start_at "$tag" "$scen" "$calls" "$SW_B_ADDR" "$@"
}

# sw_uas_wait [SECONDS]: wait (bounded) for the UAS to finish by itself;
# sets SW_UAS_RC to its exit code (0: every call successful).
sw_uas_wait() {
	if ! sw_wait_pid "$SW_UAS_PID" "${1:-30}"; then
		kill -TERM "$SW_UAS_PID" 2>/dev/null || true
		sw_wait_pid "$SW_UAS_PID" 5 || kill -KILL "$SW_UAS_PID" 2>/dev/null || true
	fi
	wait "$SW_UAS_PID" 2>/dev/null && SW_UAS_RC=0 || SW_UAS_RC=$?
	_sw_forget "$SW_UAS_PID"
}

# sw_uac TAG SCENARIO NUMBERS_FILE CALLS RATE [sipp options]: SIPp UAC in
# namespace A towards sipwarp (198.18.1.1:5060), at most CALLS calls at RATE
# per second, -timeout 30 s (and killed after 60 s whatever happens). Returns
# SIPp's exit code (0: every call successful). It runs in the background and
# we wait for it, so that a Ctrl-C reaches our trap at once.
sw_uac() {
	local tag=$1 scen=$2 inf=$3 calls=$4 rate=$5 pid rc
	shift 5
	# shellcheck disable=SC2046
	timeout -k 5 60 ip netns exec "$SW_NS_A" sipp -sf "$SW_SIPP_DIR/$scen" \
		-inf "$inf" -i "$SW_A_ADDR" -p "$SW_SIP_PORT" \
		-m "$calls" -r "$rate" -l "$rate" -recv_timeout 10s \
		-timeout 30s -timeout_error $(_sw_sipp_opts "$tag") "$@" \
		"$SW_A_GW:$SW_SIP_PORT" >"$SW_TMP/$tag.out" 2>&1 </dev/null &
	pid=$!
	SW_PIDS+=("$pid")
	wait "$pid" && rc=0 || rc=$?
	_sw_forget "$pid"
	return $rc
}

# sw_sipp_stat TAG NAME: a cumulative figure from SIPp's final stats CSV
# (e.g. SuccessfulCall, FailedCall, OutgoingCall, IncomingCall).
sw_sipp_stat() {
	local f="$SW_TMP/$1.stat.csv"
	[ -s "$f" ] || { echo 0; return; }
	awk -F';' -v n="$2(C)" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next }
		c { v = $c } END { print v + 0 }' "$f"
}

# sw_sipp_received TAG REGEX: how many messages SIPp received whose first
# line matches REGEX (from its -trace_msg file).
sw_sipp_received() {
	local f="$SW_TMP/$1.msg.log"
	[ -s "$f" ] || { echo 0; return; }
	awk -v re="$2" '
		/message received/ { want = 1; next }
		want && NF { if ($0 ~ re) n++; want = 0 }
		END { print n + 0 }' "$f"
}

# sw_expect_zero NAME...: fail if any of these sipwarp counters is not 0.
sw_expect_zero() {
	local c v bad=
	for c in "$@"; do
		v=$(sw_counter "$c")
		[ "$v" = 0 ] || bad="$bad $c=$v"
	done
	[ -z "$bad" ] || sw_fail "unexpected sipwarp counters:$bad"
}

# Drop counters that must stay 0 when every call of a test is a good one.
# (Drops of stray kernel traffic on the TAPs, e.g. IPv6 router solicitations,
# are allowed: drop_not_ip, drop_not_local, drop_not_sip_port,
# drop_slowpath_other.)
SW_SIP_DROPS=(drop_bad_l3 drop_fragment drop_bad_l4 drop_sip_malformed drop_resp_not_ours
	drop_resp_no_via drop_blocked drop_no_ruleset drop_no_route drop_rewrite drop_no_mbuf
	drop_tx_full drop_slowpath_full drop_neigh_failed)

# ---------------------------------------------------------------------------
# Helpers for the call-flow, IPv6, worker, control and capture scenarios
# (t_call_flows, t_ipv6, t_two_workers, t_control, t_reload_under_load,
# t_capture). They only add to what is above.

SW_CTL=${SW_CTL:-$SW_BUILD/control/sipwarpctl}

# IPv6 addresses of the same topology (t_ipv6).
SW_A_ADDR6=2001:db8:1::2
SW_A_GW6=2001:db8:1::1
SW_B_ADDR6=2001:db8:2::2
SW_B_GW6=2001:db8:2::1

# sw_start_ex [EAL options] -- [sipwarp options]: sw_start with our own EAL
# options instead of "-l 0" (e.g. --lcores 0@0,1@0,2@1 for two workers on
# two cores). The file prefix, the TAPs and the control socket are as in
# sw_start; the local addresses are SW_ADDR_ARGS when set (an array of
# sipwarp options), else the IPv4 ones of sw_start; the memory options are
# SW_EAL_MEM when set (an array, e.g. (-m 128 --huge-dir DIR) for
# hugepages, which secondary processes such as dpdk-dumpcap need), else
# "--no-huge -m 256" as in sw_start.
sw_start_ex() {
	local dialplan=${SW_DIALPLAN:-$SW_SRC/examples/demo.dialplan} eal=() mem=(--no-huge -m 256)
	if [ -n "${SW_EAL_MEM+x}" ]; then
		mem=("${SW_EAL_MEM[@]}")
	fi
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		eal+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	[ ${#eal[@]} -gt 0 ] || eal=(-l 0)
	local addrs=(-a "0:$SW_A_GW/24" -a "1:$SW_B_GW/24")
	if [ -n "${SW_ADDR_ARGS+x}" ]; then
		addrs=("${SW_ADDR_ARGS[@]}")
	fi
	SW_CMD=("$SIPWARP" "${mem[@]}" --no-pci --file-prefix "$SW_PREFIX" "${eal[@]}" --
		-d "$dialplan"
		-p "net_tap0,iface=$SW_IF_A" -p "net_tap1,iface=$SW_IF_B"
		"${addrs[@]}" -s "$SW_TMP/ctl.sock" "$@")
	_sw_launch
}

# sw_attach6: like sw_attach, IPv6 only: each TAP into its namespace with
# its 2001:db8:N::2/64 (no duplicate address detection, so the address is
# usable at once), a route to 2001:db8::/32 through sipwarp. No static
# neighbour: the kernel must resolve sipwarp by neighbour solicitation.
sw_attach6() {
	_sw_attach6 "$SW_IF_A" "$SW_NS_A" "$SW_A_ADDR6" "$SW_A_GW6"
	_sw_attach6 "$SW_IF_B" "$SW_NS_B" "$SW_B_ADDR6" "$SW_B_GW6"
}

_sw_attach6() {
	local ifc=$1 ns=$2 addr=$3 gw=$4
	ip link show "$ifc" >/dev/null 2>&1 || sw_fail "sipwarp said ready but there is no interface $ifc"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.dad_transmits=0 \
		net.ipv6.conf.default.dad_transmits=0 >/dev/null
	ip link set "$ifc" netns "$ns"
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_dad=0" \
		"net.ipv6.conf.$ifc.dad_transmits=0" >/dev/null
	ip -n "$ns" -6 addr add "$addr/64" dev "$ifc" nodad
	ip -n "$ns" link set "$ifc" up
	ip -n "$ns" -6 route add 2001:db8::/32 via "$gw" dev "$ifc"
	sw_vlog "$ifc in $ns: $addr/64 via $gw"
}

# sw_uas_start_at TAG SCENARIO CALLS ADDR [sipp options]: sw_uas_start on
# another local address of namespace B (e.g. $SW_B_ADDR6). Sets SW_UAS_PID.
sw_uas_start_at() {
	local tag=$1 scen=$2 calls=$3 addr=$4
	shift 4
	# shellcheck disable=SC2046
	ip netns exec "$SW_NS_B" sipp -sf "$SW_SIPP_DIR/$scen" \
		-i "$addr" -p "$SW_SIP_PORT" -m "$calls" \
		-timeout 60s -timeout_error $(_sw_sipp_opts "$tag") "$@" \
		>"$SW_TMP/$tag.out" 2>&1 </dev/null &
	SW_UAS_PID=$!
	SW_PIDS+=("$SW_UAS_PID")
	# SIPp binds before it reads anything; give it a moment, bounded.
	local n=50
	while ! ip netns exec "$SW_NS_B" ss -Hlun "sport = :$SW_SIP_PORT" 2>/dev/null | grep -q .; do
		kill -0 "$SW_UAS_PID" 2>/dev/null || sw_fail "SIPp UAS ($tag) exited at start: $(tail -n 5 "$SW_TMP/$tag.out")"
		n=$((n - 1))
		[ $n -gt 0 ] || sw_fail "SIPp UAS ($tag) is not listening after 5 s"
		sleep 0.1
	done
}

# sw_uac_at TAG SCENARIO NUMBERS_FILE CALLS RATE LOCAL REMOTE LIMIT
# [sipp options]: sw_uac from another local address of namespace A (LOCAL)
# to REMOTE (host:port, IPv6 in brackets), killed after LIMIT seconds
# whatever happens. Returns SIPp's exit code.
sw_uac_at() {
	local tag=$1 scen=$2 inf=$3 calls=$4 rate=$5 local=$6 remote=$7 limit=$8 pid rc
	shift 8
	# shellcheck disable=SC2046
	timeout -k 5 "$limit" ip netns exec "$SW_NS_A" sipp -sf "$SW_SIPP_DIR/$scen" \
		-inf "$inf" -i "$local" -p "$SW_SIP_PORT" \
		-m "$calls" -r "$rate" -l "$rate" -recv_timeout 10s \
		-timeout "$((limit - 10))s" -timeout_error $(_sw_sipp_opts "$tag") "$@" \
		"$remote" >"$SW_TMP/$tag.out" 2>&1 </dev/null &
	pid=$!
	SW_PIDS+=("$pid")
	wait "$pid" && rc=0 || rc=$?
	_sw_forget "$pid"
	return $rc
}

# sw_ctl [sipwarpctl arguments]: sipwarpctl on this run's control socket
# (bounded: 20 s). Returns sipwarpctl's exit code.
sw_ctl() {
	timeout -k 2 20 "$SW_CTL" -s "$SW_TMP/ctl.sock" "$@"
}

# sw_ctl_total NAME: a total counter from stats.get (while sipwarp runs).
sw_ctl_total() {
	sw_ctl --json stats.get | jq -er --arg n "$1" '.result.total[$n]'
}

# sw_ctl_version: the running ruleset's version (ruleset.info).
sw_ctl_version() {
	sw_ctl --json ruleset.info | jq -er '.result.version'
}

# sw_sipp_logged TAG REGEX: how many lines of SIPp's -trace_logs file
# (the <log> actions of the scenario) match REGEX.
sw_sipp_logged() {
	local f="$SW_TMP/$1.logs.log"
	[ -s "$f" ] || { echo 0; return; }
	grep -cE -- "$2" "$f" || true
}

# sw_uac_bg TAG SCENARIO NUMBERS_FILE CALLS RATE LIMIT [sipp options]: the
# sw_uac caller (198.18.1.2 -> 198.18.1.1:5060), started in the background
# so that the test can act while the calls run; killed after LIMIT seconds
# whatever happens. Sets SW_UAC_PID; sw_uac_bg_wait collects it.
sw_uac_bg() {
	local tag=$1 scen=$2 inf=$3 calls=$4 rate=$5 limit=$6
	shift 6
	# shellcheck disable=SC2046
	timeout -k 5 "$limit" ip netns exec "$SW_NS_A" sipp -sf "$SW_SIPP_DIR/$scen" \
		-inf "$inf" -i "$SW_A_ADDR" -p "$SW_SIP_PORT" \
		-m "$calls" -r "$rate" -l "$rate" -recv_timeout 10s \
		-timeout "$((limit - 10))s" -timeout_error $(_sw_sipp_opts "$tag") "$@" \
		"$SW_A_GW:$SW_SIP_PORT" >"$SW_TMP/$tag.out" 2>&1 </dev/null &
	SW_UAC_PID=$!
	SW_PIDS+=("$SW_UAC_PID")
}

# sw_uac_bg_wait: wait for the sw_uac_bg caller; sets SW_UAC_RC (SIPp's exit
# code; 124 when the time limit killed it).
sw_uac_bg_wait() {
	wait "$SW_UAC_PID" && SW_UAC_RC=0 || SW_UAC_RC=$?
	_sw_forget "$SW_UAC_PID"
}
