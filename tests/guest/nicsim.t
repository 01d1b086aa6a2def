#!/bin/bash
# guest-timeout: 900
# ktls_nicsim, the simulated TLS-offload NIC: a pair joining network
# namespaces A and B, TLS 1.2 AES-GCM connections offloaded on both ends
# (IPv4, IPv6, 128 and 256 bit), data checked byte for byte; drops and
# reordering (resync), a corrupted record (EBADMSG), a refused tls_dev_add
# and TLS 1.3 (software kTLS), and the device and the module going away
# under open offloaded connections.  The harness checks the kernel log.
set -u
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/nicsim.sh"

# sizes (MiB): the first transfer, the others (a quarter: under emulation
# each MiB costs the guest about a second on both ends), and the one that
# rmmod interrupts (it never runs to its end, so it costs nothing)
first=${KTLS_NICSIM_MIB:-16}
small=$(( first / 4 > 0 ? first / 4 : 1 ))
big=${KTLS_BIG_MIB:-64}
limit=$(( 180 * scale ))

# tls_stat NS NAME: a /proc/net/tls_stat counter of namespace NS
tls_stat() { ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/tls_stat; }
# the namespace each end of the pair is in
ns_of() { case $1 in nsa) echo A ;; nsap) echo B ;; esac; }
# ctr DEV NAME: a ktls_nicsim counter of DEV (ethtool -S)
ctr() { nicsim_ctr "$(ns_of "$1")" "$1" "$2"; }
# knob DEV NAME VALUE: sets DEV's knob NAME, from DEV's namespace
knob() { ip netns exec "$(ns_of "$1")" sh -c "echo $3 >$(nicsim_knob "$1")/$2"; }

make_pair() {
	ip link add nsa type ktls_nicsim &&
	ip link set nsa netns A && ip link set nsap netns B &&
	ip -n A addr add 10.77.0.1/24 dev nsa &&
	ip -n B addr add 10.77.0.2/24 dev nsap &&
	ip -n A addr add fd77::1/64 dev nsa nodad &&
	ip -n B addr add fd77::2/64 dev nsap nodad &&
	ip -n A link set nsa up && ip -n B link set nsap up
}

# run_pair ADDR VERSION BITS MIB [ARGS]: one transfer A -> B
run_pair() {
	timeout -s KILL "$limit" "$pair" A B "$@"
}

# check: VAR=NS:COUNTER pairs read before and after a transfer
snap() {
	for c in TlsTxSw TlsTxDevice TlsRxDevice TlsRxSw TlsRxDeviceResync TlsDecryptError; do
		eval "a_$c=$(tls_stat A $c) b_$c=$(tls_stat B $c)"
	done
	for c in rx_segs_decrypted rx_records_decrypted rx_tag_failures rx_resyncs \
		 tx_segs_encrypted tls_dev_add_refused; do
		eval "nsa_$c=$(ctr nsa $c) nsap_$c=$(ctr nsap $c)"
	done
}
# moved SIDE_COUNTER: by how much it grew since snap (prints the delta)
delta() {
	local before=$1 now=$2
	echo $(( now - before ))
}

plan 42

# the software fallback TX offload encrypts with, and the RX engine, need a
# synchronous gcm(aes): the generic ctr and ghash (the accelerated AEAD is
# async); nothing autoloads them in the guest
ok "the generic ctr and GHASH load" nicsim_crypto
ok "ktls_nicsim loads" insmod "$KTLS_NICSIM_MODULE"
ip netns add A && ip netns add B
ip -n A link set lo up; ip -n B link set lo up
ok "ip link add nsa type ktls_nicsim makes nsa and nsap in two namespaces" make_pair
feat=$(ip netns exec A ethtool -k nsa 2>/dev/null | grep -E '^tls-hw-(tx|rx)-offload')
like "nsa advertises TLS TX and RX offload" "$feat" 'tls-hw-rx-offload: on'

# offloaded transfers, both families, both key sizes
for c in "10.77.0.2 128 $first" "fd77::2 128 $small" "10.77.0.2 256 $small" "fd77::2 256 $small"; do
	set -- $c
	snap
	ok "TLS 1.2 AES-$2-GCM over $1: $3 MiB intact" run_pair "$1" 12 "$2" "$3"
	ok "$1 AES-$2: TX on the device (TlsTxDevice A +$(delta "$a_TlsTxDevice" "$(tls_stat A TlsTxDevice)"), TlsTxSw A +$(delta "$a_TlsTxSw" "$(tls_stat A TlsTxSw)"))" \
		test "$(tls_stat A TlsTxDevice)" -gt "$a_TlsTxDevice" -a "$(tls_stat A TlsTxSw)" -eq "$a_TlsTxSw"
	ok "$1 AES-$2: RX on the device (TlsRxDevice B +$(delta "$b_TlsRxDevice" "$(tls_stat B TlsRxDevice)"), segments decrypted +$(delta "$nsap_rx_segs_decrypted" "$(ctr nsap rx_segs_decrypted)"), records +$(delta "$nsap_rx_records_decrypted" "$(ctr nsap rx_records_decrypted)"))" \
		test "$(tls_stat B TlsRxDevice)" -gt "$b_TlsRxDevice" -a "$(ctr nsap rx_segs_decrypted)" -gt "$nsap_rx_segs_decrypted" -a "$(ctr nsap rx_tag_failures)" -eq "$nsap_rx_tag_failures"
done

# loss and reordering on the wire: retransmissions, resync
knob nsa drop_permille 10
knob nsa reorder_permille 10
for c in "10.77.0.2 128" "fd77::2 256"; do
	set -- $c
	snap
	ok "1% drop and 1% reorder, $1 AES-$2: $small MiB intact" run_pair "$1" 12 "$2" "$small"
	ok "the RX engine resynced (TlsRxDeviceResync B +$(delta "$b_TlsRxDeviceResync" "$(tls_stat B TlsRxDeviceResync)"), rx_resyncs +$(delta "$nsap_rx_resyncs" "$(ctr nsap rx_resyncs)"), still decrypting +$(delta "$nsap_rx_segs_decrypted" "$(ctr nsap rx_segs_decrypted)"))" \
		test "$(tls_stat B TlsRxDeviceResync)" -gt "$b_TlsRxDeviceResync" -a "$(ctr nsap rx_resyncs)" -gt "$nsap_rx_resyncs"
done
knob nsa drop_permille 0
knob nsa reorder_permille 0

# a record that does not authenticate
snap
knob nsa corrupt_next_record 1
ok "a corrupted record fails the receiver's read with EBADMSG" \
	run_pair 10.77.0.2 12 128 "$small" --expect-ebadmsg
ok "counted: tx_corrupted $(ctr nsa tx_corrupted), TlsDecryptError B +$(delta "$b_TlsDecryptError" "$(tls_stat B TlsDecryptError)")" \
	test "$(tls_stat B TlsDecryptError)" -gt "$b_TlsDecryptError"
ok "...found by the RX engine's tag check (rx_tag_failures +$(delta "$nsap_rx_tag_failures" "$(ctr nsap rx_tag_failures)"))" \
	test "$(ctr nsap rx_tag_failures)" -gt "$nsap_rx_tag_failures"

# a device that refuses: the kernel stays in software
knob nsa refuse_add 1
knob nsap refuse_add 1
snap
ok "refused tls_dev_add: $small MiB intact in software" run_pair 10.77.0.2 12 128 "$small"
ok "refused: TlsTxSw A +$(delta "$a_TlsTxSw" "$(tls_stat A TlsTxSw)"), TlsTxDevice A +$(delta "$a_TlsTxDevice" "$(tls_stat A TlsTxDevice)"), refusals +$(delta "$nsa_tls_dev_add_refused" "$(ctr nsa tls_dev_add_refused)")" \
	test "$(tls_stat A TlsTxSw)" -gt "$a_TlsTxSw" -a "$(tls_stat A TlsTxDevice)" -eq "$a_TlsTxDevice" -a "$(ctr nsa tls_dev_add_refused)" -gt "$nsa_tls_dev_add_refused"
ok "refused: RX in software too (TlsRxSw B +$(delta "$b_TlsRxSw" "$(tls_stat B TlsRxSw)"))" \
	test "$(tls_stat B TlsRxSw)" -gt "$b_TlsRxSw" -a "$(tls_stat B TlsRxDevice)" -eq "$b_TlsRxDevice"
knob nsa refuse_add 0
knob nsap refuse_add 0

# TLS 1.3: not offloadable on these kernels
snap
ok "TLS 1.3 AES-128-GCM: $small MiB intact" run_pair 10.77.0.2 13 128 "$small"
ok "TLS 1.3 stays in software (TlsTxSw A +$(delta "$a_TlsTxSw" "$(tls_stat A TlsTxSw)"), TlsTxDevice A +$(delta "$a_TlsTxDevice" "$(tls_stat A TlsTxDevice)"))" \
	test "$(tls_stat A TlsTxSw)" -gt "$a_TlsTxSw" -a "$(tls_stat A TlsTxDevice)" -eq "$a_TlsTxDevice" -a "$(tls_stat B TlsRxDevice)" -eq "$b_TlsRxDevice"

# ethtool -K turns offload off for new connections
ip netns exec A ethtool -K nsa tls-hw-tx-offload off >/dev/null 2>&1
snap
ok "TX offload off by ethtool: $small MiB intact" run_pair 10.77.0.2 12 256 "$small"
ok "...TX in software, RX still on the device" \
	test "$(tls_stat A TlsTxSw)" -gt "$a_TlsTxSw" -a "$(tls_stat B TlsRxDevice)" -gt "$b_TlsRxDevice"
ip netns exec A ethtool -K nsa tls-hw-tx-offload on >/dev/null 2>&1

ok "ethtool -S shows the counters" sh -c "ip netns exec B ethtool -S nsap | grep -q 'rx_records_decrypted: [1-9]'"

# hold_pair ADDR: an offloaded connection left open; release_hold ends it
hold_pair() {
	rm -f /tmp/nicsim.hold /tmp/nicsim.out
	mkfifo /tmp/nicsim.hold
	timeout -s KILL "$limit" "$pair" A B "$1" 12 128 1 --hold \
		</tmp/nicsim.hold >/tmp/nicsim.out 2>&1 &
	held=$!
	exec 7>/tmp/nicsim.hold
	for _ in $(seq $(( 600 * scale ))); do
		grep -q holding /tmp/nicsim.out && return 0
		kill -0 "$held" 2>/dev/null || break
		sleep 0.1
	done
	cat /tmp/nicsim.out
	return 1
}
release_hold() {
	exec 7>&-
	wait "$held"
	rc=$?
	rm -f /tmp/nicsim.hold
	# the program itself must end, killed by nothing
	[ "$rc" -lt 128 ]
}

# (not under "ok": its command substitution would end the job with it)
hold_pair 10.77.0.2; rc=$?
active=$(ctr nsap rx_ctx_active)
ok "an offloaded connection open across nsa ($active RX context(s) on nsap)" test "$rc" = 0 -a "$active" -gt 0
ok "ip link del nsa with it open" ip -n A link del nsa
gone_both() { ! ip -n A link show nsa 2>/dev/null && ! ip -n B link show nsap 2>/dev/null; }
ok "both ends of the pair are gone" gone_both
release_hold; rc=$?
ok "the connection ends cleanly afterwards" test "$rc" = 0

ok "a new pair" make_pair
hold_pair fd77::2; rc=$?
ok "an offloaded connection open over IPv6" test "$rc" = 0 -a "$(ctr nsap rx_ctx_active)" -gt 0
ok "rmmod ktls_nicsim with it open" rmmod ktls_nicsim
release_hold; rc=$?
ok "the connection ends cleanly after rmmod" test "$rc" = 0

# the device going away while records are in flight both ways: the kernel
# takes the contexts back (tls_device_down) with decrypted and encrypted
# segments queued; the connection itself is dead afterwards (no route)
reload_pair() { insmod "$KTLS_NICSIM_MODULE" && make_pair; }
ok "ktls_nicsim loads again, a new pair" reload_pair
before=$(ctr nsap rx_segs_decrypted)
timeout -s KILL "$limit" "$pair" A B 10.77.0.2 12 256 "$big" >/dev/null 2>&1 &
busy=$!
for _ in $(seq $(( 600 * scale ))); do
	[ "$(ctr nsap rx_segs_decrypted)" -gt $(( before + 200 )) ] && break
	kill -0 "$busy" 2>/dev/null || break
	sleep 0.1
done
ok "a transfer under way on the device ($(( $(ctr nsap rx_segs_decrypted) - before )) segments decrypted)" kill -0 "$busy"
ok "rmmod ktls_nicsim in the middle of it" rmmod ktls_nicsim
kill "$busy" 2>/dev/null
wait "$busy"

ip netns del A 2>/dev/null
ip netns del B 2>/dev/null
