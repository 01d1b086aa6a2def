#!/bin/sh
# The kernels the guest tests run on: the newest installed Debian kernel of
# each series below that has both an image and a build directory, and
# "newest", trixie-backports' newest kernel, kept with its own build root
# by scripts/newest-kernel.sh.
#   kernels.sh               kernel releases, one per line
#   kernels.sh --kdir [S]    their build directories (only series S if given)
#   kernels.sh --series      the series we test, one per line
#   kernels.sh --release S   the release chosen for series S (exit 1 if none)
#   kernels.sh --image S     the image the guest boots for series S
#   kernels.sh --modules S   the /lib/modules the guest uses for S, if not
#                            the host's own (prints nothing then)
set -eu
SERIES="6.12 6.1 newest"
newest_kernel=$(cd "$(dirname "$0")/../.." && pwd)/scripts/newest-kernel.sh

host_release() {
	for v in /boot/vmlinuz-"$1".*-amd64 /boot/vmlinuz-"$1"-*-amd64; do
		[ -e "$v" ] || continue
		rel=${v#/boot/vmlinuz-}
		[ -d "/lib/modules/$rel/build" ] && [ -d "/lib/modules/$rel/kernel" ] &&
			echo "$rel"
	done | sort -V | tail -n 1
}

release() {
	if [ "$1" = newest ]; then
		"$newest_kernel" --release 2>/dev/null || true
	else
		host_release "$1"
	fi
}

kdir() {
	rel=$(release "$1")
	[ -n "$rel" ] || return 0
	if [ "$1" = newest ]; then
		echo "$("$newest_kernel" --root)/usr/src/linux-headers-$rel"
	else
		echo "/lib/modules/$rel/build"
	fi
}

case "${1:-}" in
--series)
	for s in $SERIES; do echo "$s"; done ;;
--release)
	rel=$(release "$2")
	[ -n "$rel" ] || exit 1
	echo "$rel" ;;
--image)
	rel=$(release "$2")
	[ -n "$rel" ] || exit 1
	if [ "$2" = newest ]; then
		"$newest_kernel" --image "$rel"
	else
		echo "/boot/vmlinuz-$rel"
	fi ;;
--modules)
	[ "$2" != newest ] || echo "$("$newest_kernel" --root)/lib/modules" ;;
--kdir)
	for s in ${2:-$SERIES}; do kdir "$s"; done ;;
"")
	for s in $SERIES; do release "$s"; done ;;
*)
	echo "usage: $0 [--series | --release S | --image S | --modules S | --kdir [S]]" >&2
	exit 2 ;;
esac
exit 0
