#!/bin/sh
# Runs inside the guest (chroot into the host's root).  Loads what kernel
# TLS needs, runs each test named in $out/plan with a time limit, and leaves
# per test NAME.tap (stdout), NAME.log (stderr) and NAME.rc in $out.
src=/run/ktls/src
out=/run/ktls/out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8
export KTLS_SRC=$src KTLS_BUILD=$src/build KTLS_OUT=$out
KTLS_KVER=$(uname -r)
export KTLS_KVER
export KTLS_MODULE=$KTLS_BUILD/kmod/$KTLS_KVER/kmod/ktls_offload.ko
export KTLS_NICSIM_MODULE=$KTLS_BUILD/kmod/$KTLS_KVER/kmod/ktls_nicsim.ko
. "$out/env"
# a debug kernel (scripts/debug-kernel.sh) brings its own /lib/modules
[ -n "${KTLS_GUEST_MODULES:-}" ] && mount --bind "$KTLS_GUEST_MODULES" /lib/modules
kmemleak=/sys/kernel/debug/kmemleak

# Setup is itself a test: a guest without kTLS must not pass quietly.
{
	n=0
	fails=0
	step() {
		n=$((n + 1))
		if "$@" >>"$out/setup.log" 2>&1; then
			echo "ok $n - $*"
		else
			echo "not ok $n - $*"
		fi
	}
	step ip link set lo up
	# tls plus the AEADs kernel TLS allocates (the guest cannot autoload
	# modules), by crypto alias where the module moved between kernels
	# (7.x made one chacha20 module of chacha_generic and chacha_x86_64)
	for m in tls gcm ccm aesni_intel crypto-rfc7539 crypto-chacha20; do
		step modprobe "$m"
	done
	# the accelerated x86 GHASH and Poly1305, what Debian's kernels pick on
	# real hardware, where they are modules (7.x builds them in, or into
	# the library functions chacha20poly1305 calls)
	for m in ghash_clmulni_intel poly1305_x86_64; do
		if modinfo -n "$m" >/dev/null 2>&1; then
			step modprobe "$m"
		fi
	done
	step test -r /proc/net/tls_stat
	# sock_diag for TCP (ktlsctl, ss); autoloaded on a normal system
	step modprobe tcp_diag
	# kmemleak (debug kernel): what boot left counts as known
	if [ -w $kmemleak ]; then
		step sh -c "echo scan >$kmemleak && echo clear >$kmemleak"
	fi
	echo "1..$n"
} >"$out/setup.tap"

for t in $(cat "$out/plan"); do
	name=$(basename "$t")
	name=${name%.*}
	echo "guest: running $name" >/dev/console
	limit=$("$src/tests/vm/test-limit" "$src/$t")
	start=$(date +%s)
	read -r up idle </proc/uptime
	echo "$up start" >"$out/$name.stamps"
	KTLS_TAP_STAMPS=$out/$name.stamps timeout -s KILL "$limit" "$src/$t" \
		>"$out/$name.tap" 2>"$out/$name.log" </dev/null
	echo $? >"$out/$name.rc"
	echo "$(( $(date +%s) - start )) $limit" >"$out/$name.time"
	# a test killed at its limit leaves its servers and the module behind:
	# clear them, so that the next test starts from a clean guest
	pkill -KILL -x 'ktls-agent|ktls-serve|nginx|valgrind.*|memcheck.*|load_client|handoff_server|handoff_client|inproc_serve' 2>/dev/null
	pkill -KILL -f 'hostile_client|soak_client|lighttpd|http\.server' 2>/dev/null
	sleep 0.5
	grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
	grep -q '^ktls_nicsim ' /proc/modules && rmmod ktls_nicsim
done

if [ -w $kmemleak ]; then
	# objects need two scans (and a little age) to count as leaked
	echo scan >$kmemleak; sleep 6; echo scan >$kmemleak
	cat $kmemleak >"$out/kmemleak.txt"
fi
dmesg >"$out/dmesg.txt"
echo ok >"$out/finished"
sync
