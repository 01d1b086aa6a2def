#!/bin/sh
# Builds the module against one kernel build directory, in a private copy of
# the sources: $OUT/<kernel release>/kmod/ktls_offload.ko.  A build
# directory inside a build root of scripts/newest-kernel.sh (ROOT/usr/src/...)
# is built there, chrooted, with that root's compiler.
set -eu
kdir=$1
out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
# UTS_RELEASE is what the kernel reports as uname -r (Debian's
# kernel.release file can differ, e.g. 6.1.192 for 6.1.0-56-amd64).
krel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
	"$kdir/include/generated/utsrelease.h" 2>/dev/null)
[ -n "$krel" ] || {
	echo "build-kmod: $kdir is not a configured kernel build directory" >&2
	exit 1
}
dst=$out/$krel
mkdir -p "$dst"
# -p keeps mtimes so Kbuild rebuilds only what changed.
cp -Rp "$top/Kbuild" "$top/kmod" "$top/include" "$dst/"
root=${kdir%%/usr/src/*}
if [ "$root" != "$kdir" ] && [ -e "$root/.ktls-build-root" ]; then
	# the copy is bound on the root's /mnt for the build
	[ "$(id -u)" = 0 ] || {
		echo "build-kmod: building for $krel in $root needs root (chroot)" >&2
		exit 1
	}
	# the compiler the kernel was built with (Debian's headers name it
	# in their .config; the root has no plain "gcc")
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$kdir/.config")
	set -- env KTLS_CACHE="${root%/trixie}" "$top/scripts/newest-kernel.sh" --run \
		--bind "$(cd "$dst" && pwd)" make -s -C "/usr/src/${kdir#*/usr/src/}" M=/mnt ${cc:+CC=$cc}
else
	set -- make -s -C "$kdir" M="$(cd "$dst" && pwd)"
fi
if ! "$@" KTLS_WERROR=y modules >"$dst/build.log" 2>&1; then
	cat "$dst/build.log" >&2
	echo "build-kmod: module build failed for $krel" >&2
	exit 1
fi
grep -v '^Skipping BTF generation' "$dst/build.log" >&2 || true
for ko in ktls_offload ktls_nicsim; do
	# ktls_nicsim only where the kernel has CONFIG_TLS_DEVICE
	[ ! -e "$dst/kmod/$ko.ko" ] || echo "  KMOD    $dst/kmod/$ko.ko"
done
