#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# meson test: sipwarp-explain on a dial plan with an include, offline.
# usage: explain_test.sh SIPWARP-EXPLAIN DATA_DIR
set -e
exp=$1 data=$2
out=$("$exp" -d "$data/scanner-block.dialplan" -s 127.0.0.1 -p 5056 -l "$data/media-invite.sip")
echo "$out"
check() { echo "$out" | grep -qF -- "$1" || { echo "missing: $1"; exit 1; }; }
check 'rule 0 "block-scanners" ('
check 'User-Agent is absent'
check 'rule 1 "registers-only"'
check 'value "INVITE" does not match'
check 'reference-000-case2.dialplan:4):'
check 'MATCHES'
check 'target 1: 127.0.0.1:5052'
# a bad file: refused with file:line:col and the echoed line, exit 1
bad=$(mktemp)
trap 'rm -f "$bad"' EXIT
printf '[Rule x]\n[Matching Patterns]\n$requets = ^INVITE\n' > "$bad"
if "$exp" -d "$bad" "$data/media-invite.sip" 2> "$bad.err"; then echo "bad file accepted"; exit 1; fi
grep -q ':3:1: error: unknown variable "$requets"' "$bad.err"
grep -q '    >>> $requets = ^INVITE' "$bad.err"
rm -f "$bad.err"
echo ok
