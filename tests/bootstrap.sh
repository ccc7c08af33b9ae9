#!/usr/bin/env bash
# Install what sipwarp needs on Debian 12 (only what is missing) and build it.
#
#   tests/bootstrap.sh            packages + build/ (meson, ninja)
#   tests/bootstrap.sh --asan     the same, plus build-asan/ (ASAN + UBSAN)
#   tests/bootstrap.sh --no-build packages only
#
# Idempotent: a second run installs nothing and rebuilds only what changed.
# Installing needs root; with everything present it does not.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

asan=0
build=1
for a in "$@"; do
	case $a in
	--asan) asan=1 ;;
	--no-build) build=0 ;;
	-h | --help)
		sed -n '2,9s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "bootstrap: unknown option $a (try --help)" >&2
		exit 2
		;;
	esac
done

PKGS=(meson ninja-build pkg-config gcc g++ clang
	libdpdk-dev dpdk libhyperscan-dev liburcu-dev libpcre2-dev libjansson-dev
	libcmocka-dev libbenchmark-dev libclang-rt-14-dev
	sip-tester iproute2 python3)

missing=()
for p in "${PKGS[@]}"; do
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bootstrap: installing ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		echo "bootstrap: installing packages needs root: sudo $0 $*" >&2
		exit 1
	fi
	if ! command -v apt-get >/dev/null; then
		echo "bootstrap: no apt-get: install ${missing[*]} by hand (Debian 12 names)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y "${missing[@]}"
else
	echo "bootstrap: all ${#PKGS[@]} packages present"
fi

[ $build -eq 1 ] || exit 0

jobs=${SW_JOBS:-$(nproc)}

# setup_dir DIR [meson options]: configure DIR once, then let ninja keep it
# up to date (it re-runs meson by itself when a meson.build changes).
setup_dir() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		if [ -d "$dir/meson-private" ]; then
			meson setup --wipe "$dir" "$@"
		else
			meson setup "$dir" "$@"
		fi
	fi
	echo "bootstrap: building $dir"
	ninja -C "$dir" -j "$jobs"
}

setup_dir build
if [ $asan -eq 1 ]; then
	setup_dir build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=disabled
fi
