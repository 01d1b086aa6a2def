#!/bin/sh
# The kernels the guest tests run on: the newest installed Debian kernel of
# each series below that has both an image and a build directory.
#   kernels.sh               kernel releases, one per line
#   kernels.sh --kdir [S]    their build directories (only series S if given)
#   kernels.sh --series      the series we test, one per line
#   kernels.sh --release S   the release chosen for series S (exit 1 if none)
set -eu
SERIES="6.12 6.1"

newest() {
	for v in /boot/vmlinuz-"$1".*-amd64 /boot/vmlinuz-"$1"-*-amd64; do
		[ -e "$v" ] || continue
		rel=${v#/boot/vmlinuz-}
		[ -d "/lib/modules/$rel/build" ] && [ -d "/lib/modules/$rel/kernel" ] &&
			echo "$rel"
	done | sort -V | tail -n 1
}

case "${1:-}" in
--series)
	for s in $SERIES; do echo "$s"; done ;;
--release)
	rel=$(newest "$2")
	[ -n "$rel" ] || exit 1
	echo "$rel" ;;
--kdir)
	for s in ${2:-$SERIES}; do
		rel=$(newest "$s")
		[ -n "$rel" ] && echo "/lib/modules/$rel/build"
	done ;;
"")
	for s in $SERIES; do
		rel=$(newest "$s")
		[ -n "$rel" ] && echo "$rel"
	done ;;
*)
	echo "usage: $0 [--series | --release SERIES | --kdir [SERIES]]" >&2
	exit 2 ;;
esac
exit 0
