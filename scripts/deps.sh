#!/bin/sh
# Installs what building and testing ktls-offload needs, from Debian's
# packages: build and test tools, and the three test kernels with their
# headers (6.12 from bookworm-backports, bookworm's own 6.1, and the newest
# of trixie-backports in a trixie build root: scripts/newest-kernel.sh).
# Quiet and quick when everything is there already; needs root otherwise.
#   scripts/deps.sh [--build]   (--build: only what `make` and `make
#                                install` need: compiler and libraries)
#   scripts/deps.sh --packaging (what `make deb` needs: the build packages,
#                                debhelper, dh-dkms, lintian; and for `make
#                                check-packages`, dkms and debootstrap)
set -eu

BUILD_PACKAGES="make gcc libc6-dev pkg-config libgnutls28-dev libnl-3-dev
libnl-genl-3-dev libinih-dev libcap-dev libkeyutils-dev"
PACKAGES="$BUILD_PACKAGES gnutls-bin openssl curl wget iproute2 ethtool perl
qemu-system-x86 busybox-static cpio xz-utils zstd kmod python3 python3-yaml strace
nginx lighttpd wrk gnuplot-nox clang libclang-rt-14-dev valgrind systemd testssl.sh
nfs-kernel-server keyutils tcpdump
abigail-tools debootstrap"
PACKAGING_PACKAGES="$BUILD_PACKAGES dpkg-dev debhelper dh-dkms dkms lintian
debootstrap fakeroot"
build_only=0
case "${1:-}" in
--build)
	build_only=1
	PACKAGES=$BUILD_PACKAGES ;;
--packaging)
	build_only=1
	PACKAGES=$PACKAGING_PACKAGES ;;
esac
# one run at a time: `make -j` starts deps and deps-build side by side,
# and two apt-get runs would fight over apt's lock
if [ -z "${KTLS_DEPS_LOCKED:-}" ] && command -v flock >/dev/null; then
	KTLS_DEPS_LOCKED=1 exec flock /tmp/.ktls-offload-deps.lock "$0" "$@"
fi
BACKPORTS=/etc/apt/sources.list.d/ktls-offload-bookworm-backports.sources
here=$(cd "$(dirname "$0")" && pwd)
kernels=$here/../tests/vm/kernels.sh

missing_packages() {
	# shellcheck disable=SC2086
	dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' $PACKAGES 2>/dev/null |
		awk '$2 == "ii" { ok[$1] = 1 } END { for (p in ok) print p }' >/tmp/.ktls-deps.$$
	for p in $PACKAGES; do
		grep -qx "$p" /tmp/.ktls-deps.$$ || echo "$p"
	done
	rm -f /tmp/.ktls-deps.$$
}

missing_kernels() {
	[ $build_only = 1 ] && return 0
	for s in $("$kernels" --series); do
		[ "$s" = newest ] && continue
		"$kernels" --release "$s" >/dev/null || echo "$s"
	done
}

# trixie-backports' newest kernel: installed, or checked for a newer
# one once a day, by its own script
newest_kernel() {
	[ $build_only = 1 ] || "$here/newest-kernel.sh" --install
}

pkgs=$(missing_packages)
kers=$(missing_kernels)
if [ -z "$pkgs$kers" ]; then
	newest_kernel
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: $(echo $pkgs) ${kers:+kernels: $(echo $kers)}" >&2
	echo "deps: run 'make deps' (or, to build only, scripts/deps.sh --build) as root to install them" >&2
	exit 1
fi

echo "deps: installing $(echo $pkgs) ${kers:+and test kernels $(echo $kers)} (first run only)"
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends"

if ! grep -rqs '^Suites:.*bookworm-backports\|^deb .* bookworm-backports' \
	/etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat >"$BACKPORTS" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get -q update >/dev/null

log=/tmp/ktls-offload-deps.log
# shellcheck disable=SC2086
# nginx and lighttpd are run by hand in the guest: no service of theirs
# is started on this machine (policy-rc.d, only for this install).
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=/usr/sbin/policy-rc.d
fi
[ -z "$pkgs" ] || $APT install $pkgs >"$log" 2>&1 || { cat "$log" >&2; rm -f $policy; exit 1; }
rm -f $policy

# The release behind the linux-headers-amd64 meta package of a suite.
kernel_release() {
	if [ "$1" = 6.12 ]; then
		v=$(apt-cache madison linux-headers-amd64 | awk -F'|' '/bookworm-backports/ { gsub(/ /, "", $2); print $2; exit }')
	else
		v=$(apt-cache madison linux-headers-amd64 | awk -F'|' '!/backports/ { gsub(/ /, "", $2); print $2; exit }')
	fi
	[ -n "$v" ] || return 1
	apt-cache show "linux-headers-amd64=$v" |
		sed -n 's/^Depends:.*linux-headers-\([^ ,]*-amd64\).*/\1/p' | head -n 1
}

for s in $kers; do
	rel=$(kernel_release "$s") || rel=
	if [ -z "$rel" ]; then
		echo "deps: no $s kernel found in the apt sources" >&2
		exit 1
	fi
	echo "deps: installing kernel $rel and its headers"
	# The guest boots with its own initramfs, so skip generating Debian's.
	INITRD=No $APT install "linux-image-$rel-unsigned" "linux-headers-$rel" \
		>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
done

kers=$(missing_kernels)
if [ -n "$kers" ]; then
	echo "deps: kernels still missing after install: $kers" >&2
	exit 1
fi
newest_kernel
