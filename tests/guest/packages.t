#!/bin/sh
# guest-kernels: none (make check-packages runs it by name, with KTLS_PKGROOT)
# guest-timeout: 300
# The Debian packages at work: KTLS_PKGROOT is a bookworm root into which
# scripts/check-packages.sh apt-installed the packages of `make deb` and
# the headers of this kernel, DKMS building ktls_offload.ko there.  The
# module DKMS built is loaded (modprobe inside that root, as the packaged
# unit does), and the packaged ktls-agent (with its packaged configuration
# and user) and ktls-serve run inside that root; curl, outside it, fetches
# a file over kernel TLS, checked by SHA-256.  The root is read-only (the
# host's 9p share): tmpfs over /tmp, /run, /srv and /etc/ktls-offload,
# where the test's certificate goes.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
root=${KTLS_PKGROOT:-}
if [ -z "$root" ] || [ ! -x "$root/usr/sbin/ktls-agent" ]; then
	echo "1..0 # SKIP no package root: run make check-packages"
	exit 0
fi
rel=$(uname -r)
dir=/tmp/packages-test
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir" || exit 1
# the programs' logs go straight to the results, where they survive a
# test killed at its time limit
logs=$KTLS_OUT/packages-logs
mkdir -p "$logs"
in_root() { chroot "$root" "$@"; }
# log_says SECONDS FILE PATTERN: until FILE has a line matching PATTERN, by
# the clock (a loaded emulated guest forks slowly); else shows FILE
log_says() {
	timeout "$1" sh -c 'until grep -q -- "$2" "$1"; do sleep 0.2; done' sh "$2" "$3" ||
		{ cat "$2"; return 1; }
}
pids=""
cleanup() {
	kill $pids 2>/dev/null
	wait 2>/dev/null
	for m in $(awk -v r="$root" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m"
	done
	grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
}
trap cleanup EXIT

# the root's mounts: what a booted system would have
mount -t proc proc "$root/proc" && mount --bind /dev "$root/dev" &&
	mount --bind /sys "$root/sys" && mount -t tmpfs tmpfs "$root/tmp" &&
	mount -t tmpfs tmpfs "$root/run" && mount -t tmpfs tmpfs "$root/srv" ||
	{ echo "Bail out! cannot mount proc, dev, sys and tmpfs in $root"; exit 1; }
# the packaged configuration, unchanged, and the test's certificate and key
# where it looks for them, owned by the packaged agent user
cp -a "$root/etc/ktls-offload" "$dir/etc-ktls"
mount -t tmpfs -o mode=0755 tmpfs "$root/etc/ktls-offload" &&
	cp -a "$dir/etc-ktls/." "$root/etc/ktls-offload/" ||
	{ echo "Bail out! cannot put a tmpfs over $root/etc/ktls-offload"; exit 1; }
make_pki "$dir"
cp ca.pem server.pem server.key "$root/etc/ktls-offload/"
chmod 0644 "$root/etc/ktls-offload/ca.pem" "$root/etc/ktls-offload/server.pem"

ok "the package root has the ktls-agent user (ktls-agent's postinst)" in_root getent passwd ktls-agent
in_root chown ktls-agent:ktls-agent /etc/ktls-offload/server.key
in_root chmod 0600 /etc/ktls-offload/server.key
ok "the packaged configuration is a conffile of ktls-agent" \
	grep -qx /etc/ktls-offload/ktls-agent.conf "$root/var/lib/dpkg/info/ktls-agent.conffiles"
like "the packaged unit runs /usr/sbin/ktls-agent" \
	"$(grep '^ExecStart=' "$root/lib/systemd/system/ktls-agent.service")" \
	"^ExecStart=/usr/sbin/ktls-agent -c /etc/ktls-offload/ktls-agent.conf$"

# --- the module DKMS built ----------------------------------------------------
ko=$(ls "$root/lib/modules/$rel/updates/dkms/"ktls_offload.ko* 2>/dev/null | head -n 1)
ok "DKMS built ktls_offload.ko for $rel in the package root" test -n "$ko"
is "its vermagic is this kernel's" "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" "$rel"
is "its version is the packages'" "$(modinfo -F version "$ko")" \
	"$(in_root dpkg-query -W -f '${Version}' ktls-offload-dkms)"
# as the unit's ExecStartPre does (tls is loaded already: the root has no
# kernel image of its own, only the module DKMS installed)
ok "modprobe ktls_offload in the package root loads it" in_root modprobe ktls_offload
ok "the loaded module is the DKMS one (its srcversion)" \
	test "$(cat /sys/module/ktls_offload/srcversion)" = "$(modinfo -F srcversion "$ko")"
like "the packaged ktlsctl reports the module" "$(in_root ktlsctl version 2>&1)" "module"

# --- the packaged agent and ktls-serve ----------------------------------------
head -c 16777216 /dev/urandom >"$root/srv/file.bin"
sha=$(sha256sum <"$root/srv/file.bin" | cut -d' ' -f1)
# started as root, as by hand: it creates /run/ktls-offload itself and
# becomes its user (under the packaged unit systemd does both)
in_root /usr/sbin/ktls-agent -c /etc/ktls-offload/ktls-agent.conf 2>"$logs/agent.log" &
pids="$pids $!"
ok "the packaged ktls-agent starts with the packaged configuration" \
	log_says 60 "$logs/agent.log" "ready:"
is "and runs as its own user (the root's ktls-agent)" "$(ps -o uid= -C ktls-agent | sort -u | tr -d ' ')" \
	"$(in_root id -u ktls-agent)"
in_root ktls-serve -p 443 -w 2 --path module /srv 2>"$logs/serve.log" &
pids="$pids $!"
ok "the packaged ktls-serve starts on the module path" \
	log_says 60 "$logs/serve.log" "via the ktls_offload module"
tx0=$(tls_stat TlsTxSw)
rx0=$(tls_stat TlsRxSw)
got=$(curl -sS --max-time 120 --cacert ca.pem https://localhost/file.bin 2>"$logs/curl.err" |
	sha256sum | cut -d' ' -f1)
is "curl fetches 16 MiB from ktls-serve, SHA-256 intact" "$got" "$sha"
ok "kernel TLS sent it (TlsTxSw moved)" test "$(tls_stat TlsTxSw)" -gt "$tx0"
ok "and received the request (TlsRxSw moved)" test "$(tls_stat TlsRxSw)" -gt "$rx0"
plan $_tap_n
