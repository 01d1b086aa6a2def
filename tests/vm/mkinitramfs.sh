#!/bin/sh
# Builds the guest's initramfs for one kernel release: static busybox, our
# /init, and the modules needed to mount the host's root over virtio-9p,
# found (with their dependencies, in load order) from the kernel package's
# own modules.dep.  Usage: mkinitramfs.sh RELEASE OUTPUT [--builtin | --root DIR]
# (--builtin: a kernel with 9p built in, as the debug kernel; no modules;
# --root DIR: the kernel's modules are in DIR/lib/modules, not the host's)
set -eu
rel=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/bin" "$work/mods" "$work/proc" "$work/sys" "$work/dev" "$work/host"
cp /bin/busybox "$work/bin/busybox"
cp "$here/init" "$work/init"
chmod +x "$work/init"

: >"$work/mods/order"
root=/
[ "${3:-}" = --root ] && root=$4
[ "${3:-}" = --builtin ] || for m in virtio_pci 9pnet_virtio 9p; do
	modprobe -d "$root" -S "$rel" --show-depends "$m" || {
		echo "mkinitramfs: $rel has no module $m" >&2
		exit 1
	}
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
	name=$(basename "$ko")
	case "$name" in
	*.xz)  xz -dc "$ko" >"$work/mods/${name%.xz}"; name=${name%.xz} ;;
	*.zst) zstd -qdc "$ko" >"$work/mods/${name%.zst}"; name=${name%.zst} ;;
	*.gz)  gzip -dc "$ko" >"$work/mods/${name%.gz}"; name=${name%.gz} ;;
	*)     cp "$ko" "$work/mods/$name" ;;
	esac
	echo "$name" >>"$work/mods/order"
done
[ -s "$work/mods/order" ] || [ "${3:-}" = --builtin ] || { echo "mkinitramfs: no 9p modules found for $rel" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
