#!/bin/sh
# The third test kernel: the newest linux-image-amd64 of Debian's
# trixie-backports.  Its headers want trixie's gcc-14, and installing that
# into a bookworm host would bring trixie's C library along, so the kernel
# lives in a trixie build root made with debootstrap and cached outside the
# checkout, in $KTLS_CACHE (default /var/cache/ktls-offload)/trixie:
#   ROOT/lib/modules/RELEASE/vmlinuz     booted by the guest
#   ROOT/lib/modules/RELEASE             its modules (bound over the guest's)
#   ROOT/usr/src/linux-headers-RELEASE   KDIR; scripts/build-kmod.sh builds
#                                        there inside the root (chroot)
#
#   newest-kernel.sh --install   (root) make the root if missing, then install
#                                trixie-backports' newest kernel if the root
#                                has none or its check is a day old
#   newest-kernel.sh --root      print ROOT if a kernel is installed there
#   newest-kernel.sh --release   print that kernel's release
#   newest-kernel.sh --image REL print the path of that release's image
#   newest-kernel.sh --run [--bind DIR] CMD...
#                                (root) run CMD in the root, DIR on /mnt
set -eu
cache=${KTLS_CACHE:-/var/cache/ktls-offload}
root=$cache/trixie
MIRROR=http://deb.debian.org/debian
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# a release's kernel image: in /lib/modules since trixie-backports' 7.x
# packages (whose /boot link only an install hook would make)
image() {
	for v in "$root/lib/modules/$1/vmlinuz" "$root/boot/vmlinuz-$1"; do
		[ -e "$v" ] && { echo "$v"; return 0; }
	done
	return 1
}

# the newest release in the root with an image, modules and headers
installed() {
	for d in "$root"/lib/modules/*; do
		rel=${d##*/}
		image "$rel" >/dev/null && [ -d "$d/kernel" ] &&
			[ -e "$root/usr/src/linux-headers-$rel/Makefile" ] && echo "$rel"
	done | sort -V | tail -n 1
}

# CMD... inside the root, with /proc (objtool, apt) and, if BIND is not
# empty, the host's directory BIND on /mnt; the mounts end with the
# namespace
in_root_bind() {
	unshare -m sh -c 'mount -t proc proc "$0/proc" &&
		{ [ -z "$1" ] || mount --bind "$1" "$0/mnt"; } && shift && exec chroot "$0" "$@"' \
		"$root" "$@"
}
in_root() { in_root_bind "" "$@"; }

case "${1:-}" in
--root)
	[ -n "$(installed)" ] || exit 1
	echo "$root"; exit 0 ;;
--release)
	rel=$(installed)
	[ -n "$rel" ] || exit 1
	echo "$rel"; exit 0 ;;
--image)
	image "$2"; exit ;;
--run)
	[ -e "$root/.ktls-build-root" ] || { echo "newest-kernel: no build root in $root" >&2; exit 1; }
	shift
	bind=
	[ "${1:-}" = --bind ] && { bind=$2; shift 2; }
	in_root_bind "$bind" "$@"; exit ;;
--install) ;;
*)
	echo "usage: $0 --install | --root | --release | --image REL | --run [--bind DIR] CMD..." >&2
	exit 2 ;;
esac

have=$(installed)
if [ -n "$have" ] && [ -n "$(find "$root/.checked" -mmin -1440 2>/dev/null)" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	[ -n "$have" ] && exit 0
	echo "newest-kernel: no trixie-backports kernel in $root (run 'make deps' as root)" >&2
	exit 1
fi
log=$cache/trixie.log
mkdir -p "$cache"

if [ ! -e "$root/.ktls-build-root" ]; then
	echo "newest-kernel: making a trixie build root in $root (a few minutes, first run only)" >&2
	rm -rf "$root.tmp"
	# the packages a module build needs (the kernel's headers pull in gcc-14)
	if ! debootstrap --variant=minbase --keyring="$KEYRING" \
		--include=make,binutils,libelf-dev,bc,bison,flex,libssl-dev,kmod,ca-certificates \
		trixie "$root.tmp" "$MIRROR" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		echo "newest-kernel: debootstrap failed (log: $log)" >&2
		exit 1
	fi
	cat >"$root.tmp/etc/apt/sources.list" <<EOF
deb $MIRROR trixie main
deb $MIRROR trixie-backports main
EOF
	touch "$root.tmp/.ktls-build-root"
	rm -rf "$root"
	mv "$root.tmp" "$root"
fi

export DEBIAN_FRONTEND=noninteractive
if ! in_root apt-get -q update >"$log" 2>&1; then
	tail -n 5 "$log" >&2
	if [ -n "$have" ]; then
		echo "newest-kernel: cannot reach the archive; keeping $have" >&2
		exit 0
	fi
	echo "newest-kernel: apt-get update failed in $root (log: $log)" >&2
	exit 1
fi
# linux-image-amd64 of trixie-backports depends on linux-image-RELEASE
ver=$(in_root apt-cache madison linux-image-amd64 |
	awk -F'|' '/trixie-backports/ { gsub(/ /, "", $2); print $2; exit }')
rel=
[ -z "$ver" ] || rel=$(in_root apt-cache show "linux-image-amd64=$ver" |
	sed -n 's/^Depends:.*linux-image-\([^ ,]*-amd64\).*/\1/p' | head -n 1)
if [ -z "$rel" ]; then
	echo "newest-kernel: no linux-image-amd64 in trixie-backports" >&2
	[ -n "$have" ] && exit 0
	exit 1
fi
if [ "$rel" != "$have" ]; then
	echo "newest-kernel: installing Linux $rel from trixie-backports into $root" >&2
	# linux-image-RELEASE itself would only add an initramfs generator
	pkgs="linux-headers-$rel linux-binary-$rel linux-modules-$rel"
	in_root apt-cache show "linux-binary-$rel" >/dev/null 2>&1 ||
		pkgs="linux-headers-$rel linux-image-$rel-unsigned"
	# shellcheck disable=SC2086
	if ! INITRD=No in_root apt-get install -y -q --no-install-recommends \
		-o Dpkg::Use-Pty=0 $pkgs >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		echo "newest-kernel: installing $pkgs failed (log: $log)" >&2
		exit 1
	fi
	[ "$(installed)" = "$rel" ] || {
		echo "newest-kernel: $rel is not complete in $root after its install" >&2
		exit 1
	}
	if [ -n "$have" ]; then
		# the kernel it replaces (its headers, kbuild, binary, modules)
		old=$(in_root dpkg-query -W -f '${Package}\n' |
			grep -F -e "-$have" -e "-${have%-amd64}" | grep '^linux-') || true
		# shellcheck disable=SC2086
		[ -z "$old" ] || in_root apt-get purge -y -q $old >>"$log" 2>&1 || true
	fi
fi
touch "$root/.checked"
