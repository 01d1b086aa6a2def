#!/bin/bash
# `make check-packages`: the Debian packages of build/deb/ installed as a
# user would, then used.  A bookworm root made with debootstrap (cached
# under /var/cache/ktls-offload/, keyed by a hash of what makes it), apt
# installs ./*.deb there with the 6.12 kernel's headers from
# bookworm-backports, DKMS builds ktls_offload.ko for that kernel; then the
# 6.12 guest boots and tests/guest/packages.t loads that DKMS-built module
# and serves a file with the packaged ktls-agent and ktls-serve (run inside
# the package root) over kernel TLS.  Needs root.
#   scripts/check-packages.sh BUILD_DIR
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
debs=$build/deb
cache=/var/cache/ktls-offload
# The root is outside the build tree (whose *.d files the Makefile reads:
# the root's /etc/rc2.d would be one), one per checkout.
work=$cache/check-packages-$(printf '%s' "$top" | sha256sum | cut -c1-12)
root=$work/root
mirror=http://deb.debian.org/debian
suite=bookworm
t0=$(date +%s)

fail() { echo "check-packages: FAIL: $*" >&2; exit 1; }
step() { echo "== check-packages: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, apt in the chroot)"
ls "$debs"/*.deb >/dev/null 2>&1 || fail "no packages in $debs (run 'make deb')"
rel=$("$top/tests/vm/kernels.sh" --release 6.12) ||
	fail "no 6.12 test kernel installed (run 'make deps')"

# --- the base root, cached --------------------------------------------------
# What makes the base: the suite, the mirror, its apt sources and the extra
# packages; a change to any of them makes a new one.
BASE_INCLUDE="ca-certificates"
sources="Types: deb
URIs: $mirror
Suites: $suite $suite-updates $suite-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
key=$(printf '%s\n' "$suite" "$mirror" "$BASE_INCLUDE" "$sources" | sha256sum | cut -c1-12)
base=$cache/bookworm-root-$key

umount_all() {
	local m
	# deepest first
	for m in $(awk -v r="$root" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
}
trap umount_all EXIT

if [ ! -e "$base/.complete" ]; then
	step "debootstrap $suite into $base (first run only)"
	rm -rf "$base"
	mkdir -p "$cache"
	log=$cache/bookworm-root-$key.log
	debootstrap --variant=minbase --include="$BASE_INCLUDE" "$suite" "$base" "$mirror" \
		>"$log" 2>&1 || { tail -n 30 "$log" >&2; fail "debootstrap failed (log: $log)"; }
	rm -f "$base/etc/apt/sources.list"
	printf '%s\n' "$sources" >"$base/etc/apt/sources.list.d/debian.sources"
	touch "$base/.complete"
fi

# --- a fresh root from it; apt install ./*.deb and the headers ---------------
step "a fresh root in $root from $base"
umount_all
rm -rf "$root"
mkdir -p "$work"
cp -a "$base" "$root" || fail "cannot copy $base"
rm -f "$root/.complete"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# no service starts in the chroot
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
# The headers pull the kernel image, whose initramfs (made twice, 5 min
# each on our 2-core machine) the guest never uses: update-initramfs does
# nothing here, as in live-build's chroots.
chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs ||
	fail "cannot divert update-initramfs in $root"
printf '#!/bin/sh\necho "update-initramfs: skipped in the package test root"\n' \
	>"$root/usr/sbin/update-initramfs"
chmod 755 "$root/usr/sbin/update-initramfs"
mount -t proc proc "$root/proc" || fail "cannot mount proc in $root"
mount --bind /dev "$root/dev" || fail "cannot bind /dev in $root"
mount --bind /sys "$root/sys" || fail "cannot bind /sys in $root"
# downloaded archives are kept between runs
mkdir -p "$cache/apt-archives/partial"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
mkdir -p "$root/root/debs"
# the packages a user installs (not the -dbgsym ones)
for d in "$debs"/*.deb; do
	case $d in *-dbgsym_*) ;; *) cp "$d" "$root/root/debs/" ;; esac
done
echo "  packages: $(cd "$root/root/debs" && ls | tr '\n' ' ')"

log=$work/apt.log
step "apt install ./*.deb linux-headers-$rel in the root"
chroot "$root" sh -c "apt-get -q update" >"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; fail "apt-get update in the root failed (log: $log)"; }
# as a user would: apt, the local packages by path, the kernel's headers
# shellcheck disable=SC2016
chroot "$root" sh -c 'cd /root/debs && DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q -o Dpkg::Use-Pty=0 ./*.deb "linux-headers-$1"' sh "$rel" >>"$log" 2>&1 ||
	{ tail -n 40 "$log" >&2; fail "apt install of the packages failed (log: $log)"; }
grep -E '^Setting up (ktls|libktls|dkms|linux-headers-[0-9])|^Building |Installing to' "$log" | sed 's/^ *- */  /; s/^/  /'

# --- DKMS built the module for the guest's kernel ---------------------------
ko=$root/lib/modules/$rel/updates/dkms/ktls_offload.ko
for k in "$ko" "$ko.xz" "$ko.zst" "$ko.gz"; do [ -e "$k" ] && ko=$k && break; done
version=$(dpkg-deb -f "$(ls "$debs"/ktls-offload-dkms_*.deb | head -n 1)" Version)
[ -e "$ko" ] || { chroot "$root" dkms status >&2; fail "DKMS left no ktls_offload.ko for $rel in $root/lib/modules/$rel/updates/dkms"; }
status=$(chroot "$root" dkms status ktls-offload 2>/dev/null)
echo "$status" | sed 's/^/  dkms status: /'
echo "$status" | grep -q "/$version, $rel, .*: installed" ||
	fail "dkms status does not say installed for $rel: $status"
vm=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
[ "$vm" = "$rel" ] || fail "the DKMS module's vermagic is $vm, not $rel"
echo "  module: ${ko#$root} (vermagic $vm)"

umount_all
rm -f "$root/usr/sbin/policy-rc.d"
chmod -R a+rX "$root/etc/ktls-offload" 2>/dev/null

# --- the guest: the packages at work -----------------------------------------
step "boot $rel: tests/guest/packages.t with the package root"
KTLS_PKGROOT=$root "$top/tests/vm/run-guest" -k 6.12 -o "$build/results/packages" packages
rc=$?
t=$(( $(date +%s) - t0 ))
echo "== check-packages took $((t / 60)) min $((t % 60)) s"
[ $rc = 0 ] || fail "the guest test failed (results in $build/results/packages)"
echo "check-packages: ok"
