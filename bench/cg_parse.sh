#!/usr/bin/env bash
# Instructions per parsed message (callgrind), the figure that does not drift
# with the machine's speed: the k_parse kernel (bench/k_parse.c) over the
# INVITE, the 200 OK, the ACK and the 49 torture messages, N times minus 0
# times, so start-up costs cancel out (the torture set: every rfc4475-*
# message of the fuzz corpus, per message).
#   bench/cg_parse.sh [BUILD_DIR]       (default build; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
bdir=${1:-build}
tmp=$(mktemp -d /tmp/sipwarp-cgparse.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ninja -C "$bdir" dataplane/libsw_sip.a >/dev/null
cat >"$tmp/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "bench/kernels.h"
int
main(int argc, char **argv)
{
	const struct k_corpus *c = k_parse_corpus(atoi(argv[1]), argv[3]);
	long n = atol(argv[2]);
	unsigned long s = 0;

	for (long i = 0; i < n; i++)
		s += k_parse(c);
	/* the messages a pass, for the script; s keeps the loop alive */
	printf("%zu %lu\n", c->n, s);
	return 0;
}
C
cc -O2 -I. -I"$bdir" "$tmp/main.c" bench/k_parse.c "$bdir/dataplane/libsw_sip.a" -o "$tmp/drv"
refs() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tmp/drv" "$1" "$2" \
		tests/fuzz/corpus/sip 2>&1 | awk '/refs/ { gsub(",", "", $4); print $4 }'
}
msgs() {
	"$tmp/drv" "$1" 0 tests/fuzz/corpus/sip | cut -d' ' -f1
}
for set in 0 1 2 3; do
	n=1000
	[ $set = 3 ] && n=20
	a=$(refs $set $n)
	b=$(refs $set 0)
	msgs=$(msgs $set)
	printf '%-8s %6d instructions per message\n' \
		"$(echo invite 200ok ack torture | cut -d' ' -f$((set + 1)))" $(((a - b) / n / msgs))
done
