#!/bin/sh
# klog-scan finds the kernel log lines that must fail a guest run and
# lets an ordinary boot log through.
. "$KTLS_SRC/tests/lib/tap.sh"
scan=$KTLS_SRC/tests/vm/klog-scan
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
plan 15

cat >"$dir/clean" <<'LOG'
[    0.000000] Linux version 6.12.95+deb12-amd64 (debian-kernel@lists.debian.org)
[    1.204411] 9pnet: Installing 9P2000 support
[    3.100000] ktls_offload: loading out-of-tree module taints kernel.
[    3.100100] ktls_offload: module verification failed: signature and/or required key missing - tainting kernel
[    3.200000] ktls_offload: version 0.1.0 loaded
[    4.000000] clocksource: tsc: mask: 0xffffffffffffffff max_cycles: 0x1, max_idle_ns: 1 ns
LOG
ok "a normal boot log with an out-of-tree module is clean" "$scan" "$dir/clean"

n=0
for line in \
	'[   12.1] WARNING: CPU: 1 PID: 321 at net/tls/tls_main.c:123 tls_sk_proto_close+0x1/0x2 [tls]' \
	'[   12.1] BUG: kernel NULL pointer dereference, address: 0000000000000008' \
	'[   12.1] Oops: 0000 [#1] PREEMPT SMP NOPTI' \
	'[   12.1] Kernel panic - not syncing: Fatal exception' \
	'[   12.1] general protection fault, probably for non-canonical address 0xdead000000000100' \
	'[   12.1] BUG: KASAN: slab-use-after-free in ktls_req_put+0x10/0x20 [ktls_offload]' \
	'[   12.1] UBSAN: array-index-out-of-bounds in kmod/netlink.c:42:7' \
	'[   12.1] unreferenced object 0xffff888003f4c000 (size 256):' \
	'[   12.1] WARNING: possible circular locking dependency detected' \
	'[   12.1] INFO: task ktls-agent:123 blocked for more than 120 seconds.' \
	'[   12.1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [swapper/0:0]'; do
	n=$((n + 1))
	{ cat "$dir/clean"; echo "$line"; } >"$dir/bad$n"
	out=$("$scan" "$dir/bad$n"); rc=$?
	is "flags: $(echo "$line" | cut -c12-60)" "rc=$rc $(echo "$out" | cut -d: -f2)" "rc=1 7"
done

# the kernel's own boot, before the guest's /init wrote its marker, does
# not count; after the marker, and in a file without one, it does
kasan='[   11.8] BUG: KASAN: wild-memory-access in rcu_is_watching+0x20/0x50'
{ echo "$kasan"; echo '[   12.0] ktls-test: userspace begins'; cat "$dir/clean"; } >"$dir/boot"
out=$("$scan" "$dir/boot"); rc=$?
like "a report before the userspace marker is a note, not a failure" "rc=$rc $out" \
	"^rc=0 note, during the kernel's own boot, not counted: .*boot:1: .*KASAN"
{ cat "$dir/boot"; echo "$kasan"; } >"$dir/late"
is "the same report after the marker counts" "$("$scan" "$dir/late" >/dev/null; echo $?)" 1
{ echo "$kasan"; cat "$dir/clean"; } >"$dir/nomark"
is "... and in a file without the marker, even a second file after a marked one" \
	"$("$scan" "$dir/boot" "$dir/nomark" >/dev/null; echo $?)" 1
