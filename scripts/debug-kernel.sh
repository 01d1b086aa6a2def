#!/bin/sh
# Builds the debug kernel of the module's guest tests once, from Debian's
# linux-source-6.12 with tests/vm/debug-kernel.config (KASAN, kmemleak,
# lockdep, DEBUG_OBJECTS, UBSAN), and caches it outside the checkout in
# $KTLS_CACHE (default /var/cache/ktls-offload)/debug-kernel-KEY, KEY
# being a hash of the config and the source package's version.  Prints
# that directory: bzImage, release, src/ (the build tree, KDIR for the
# module) and root/lib/modules/RELEASE (modules.builtin and the like).
#   scripts/debug-kernel.sh [--dir]   (--dir: print the directory only if built)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/tests/vm/debug-kernel.config
cache=${KTLS_CACHE:-/var/cache/ktls-offload}

need_pkgs="linux-source-6.12 bison flex libelf-dev bc libssl-dev"
missing=
for p in $need_pkgs; do
	dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "${1:-}" = --dir ] && exit 1
	[ "$(id -u)" = 0 ] || { echo "debug-kernel: missing packages:$missing (run as root)" >&2; exit 1; }
	echo "debug-kernel: installing$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
fi
ver=$(dpkg-query -W -f '${Version}' linux-source-6.12)
key=$( { cat "$frag"; echo "$ver"; } | sha256sum | cut -c1-12)
dir=$cache/debug-kernel-$key
if [ -e "$dir/done" ]; then
	echo "$dir"
	exit 0
fi
[ "${1:-}" = --dir ] && exit 1

start=$(date +%s)
if [ -e "$dir/configured" ]; then
	# an interrupted build resumes where make left off
	echo "debug-kernel: resuming the build in $dir" >&2
	cd "$dir/src"
else
tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n 1)
rm -rf "$dir"
mkdir -p "$dir/src"
echo "debug-kernel: building in $dir (the first build takes a while)" >&2
tar -xf "$tarball" -C "$dir/src" --strip-components=1
cd "$dir/src"
{
	make -s x86_64_defconfig
	make -s kvm_guest.config
	{ cat "$frag"; echo "CONFIG_LOCALVERSION=\"-ktls-debug-$key\""; } >ktls-debug.config
	scripts/kconfig/merge_config.sh -m .config ktls-debug.config >/dev/null
	make -s olddefconfig
} >"$dir/config.log" 2>&1
# every option asked for must have survived olddefconfig
bad=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while IFS= read -r line; do
	grep -qx -- "$line" .config || { [ "${line#*=}" = n ] &&
		! grep -q "^${line%%=*}=" .config; } || echo "$line"
done)
[ -z "$bad" ] || { echo "debug-kernel: options not taken by the kernel config:" $bad >&2; exit 1; }
touch "$dir/configured"
fi
nice make -j"$(nproc)" bzImage modules >"$dir/build.log" 2>&1 || {
	tail -n 30 "$dir/build.log" >&2
	echo "debug-kernel: build failed, log in $dir/build.log" >&2
	exit 1
}
make -s modules_install INSTALL_MOD_PATH="$dir/root" >>"$dir/build.log" 2>&1
make -s modules_prepare >>"$dir/build.log" 2>&1
cp arch/x86/boot/bzImage "$dir/bzImage"
make -s kernelrelease >"$dir/release"
echo $(( $(date +%s) - start )) >"$dir/build-seconds"
touch "$dir/done"
echo "debug-kernel: built $(cat "$dir/release") in $(cat "$dir/build-seconds") s" >&2
echo "$dir"
