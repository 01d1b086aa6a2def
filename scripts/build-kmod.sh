#!/bin/sh
# Builds the module against one kernel build directory, in a private copy of
# the sources: $OUT/<kernel release>/kmod/ktls_offload.ko
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
if ! make -s -C "$kdir" M="$(cd "$dst" && pwd)" KTLS_WERROR=y modules >"$dst/build.log" 2>&1; then
	cat "$dst/build.log" >&2
	echo "build-kmod: module build failed for $krel" >&2
	exit 1
fi
grep -v '^Skipping BTF generation' "$dst/build.log" >&2 || true
for ko in ktls_offload ktls_nicsim; do
	# ktls_nicsim only where the kernel has CONFIG_TLS_DEVICE
	[ ! -e "$dst/kmod/$ko.ko" ] || echo "  KMOD    $dst/kmod/$ko.ko"
done
