#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# meson test: convert ../shared/workload/r<N> and route its 2,000 numbers.
# usage: wl_test.sh SHARED_DIR SIZE WL_CHECK CONVERTER
set -e
shared=$1 size=$2 check=$3 conv=$4
dir=$shared/workload/$size
[ -r "$dir/rules.tsv" ] || { echo "skip: $dir absent"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$conv" "$dir/rules.tsv" "$out/$size.dialplan"
"$check" "$out/$size.dialplan" "$dir/expected.tsv"
