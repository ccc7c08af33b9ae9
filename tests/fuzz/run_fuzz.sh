#!/bin/sh
# Build the clang fuzz build (ASAN + UBSAN + libFuzzer) and fuzz the SIP parser
# for N seconds (default 60), starting from the seed corpus.
#   tests/fuzz/run_fuzz.sh [seconds]
# New inputs go to a scratch directory ($FUZZ_OUT, default a mktemp dir), never
# into the committed corpus; copy a crash reproducer into corpus/sip/ by hand
# once it is fixed, so fuzz-regress replays it from then on.
set -eu

secs=${1:-60}
# sip (the SIP parser, default), fastpath (its fast paths against its general
# path, from the same corpus) or rules (dial plan / ARS / gateway parsers)
what=${2:-sip}
case $what in
sip | fastpath | rules) ;;
*) echo "usage: $0 [SECONDS] [sip|fastpath|rules]" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${FUZZ_BUILD:-$src/build-fuzz}
out=${FUZZ_OUT:-$(mktemp -d /tmp/sipwarp-fuzz.XXXXXX)}

if [ ! -f "$bdir/build.ninja" ]; then
	CC=clang CXX=clang++ meson setup "$bdir" "$src" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false
fi
target=fuzz_sip_parse
corpus=sip
[ "$what" = fastpath ] && target=fuzz_sip_fastpath
[ "$what" = rules ] && target=fuzz_rules corpus=rules
ninja -C "$bdir" -j2 "tests/fuzz/$target"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$out"
"$bdir/tests/fuzz/$target" -max_total_time="$secs" -max_len=8192 -timeout=5 \
	-print_final_stats=1 -artifact_prefix="$out/" "$out" "$src/tests/fuzz/corpus/$corpus"
echo "run_fuzz: new corpus and artifacts in $out"
