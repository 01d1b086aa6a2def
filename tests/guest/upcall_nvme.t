#!/bin/bash
# guest-timeout: 600
# guest-kernels: 6.12 newest
# ktls-agent as the kernel's handshake agent for NVMe/TCP with TLS (issue
# 20): an nvmet target on a memory-backed null_blk device listens on
# 127.0.0.1:4420 with TLS required; a retained PSK (identity "NVMe0R01
# HOSTNQN SUBNQN", SHA-256) sits in the kernel's .nvme keyring; the host
# connects through /dev/nvme-fabrics with "tls".  Both handshakes (host:
# client with the PSK's key serial; target: server, finding the PSK by the
# identity the client sends) come to the agent, running as nobody.  Blocks
# written and read back are intact; a host whose PSK differs is refused
# (on 6.12 only: see below).
set -u
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"

scale=${KTLS_TIME_SCALE:-1}
serve_setup upcall-nvme
chmod 755 "$dir"
cfs=/sys/kernel/config/nvmet
subnqn=nqn.2026-12.org.example:ktls-test
hostid=6b3c2b2e-1d43-4a9e-9a55-2b0b6f7c1d01
hostnqn=nqn.2014-08.org.nvmexpress:uuid:$hostid
identity="NVMe0R01 $hostnqn $subnqn"

conf() {	# [GLOBAL LINE]
	{
		printf '[global]\nworkers = 2\nsocket =\nmodule = no\nuser = nobody\n%s\n\n' "${1:-}"
		printf '[profile nvme]\nupcall = server, client\nupcall_ports = 4420\n'
		printf 'handshake_timeout = %s\n' $((20000 * scale))
		# (PSK handshakes use no certificate; the server role needs one by rule)
		printf 'cert = %s/server.pem\nkey = %s/server.key\nca = %s/ca.pem\n' "$dir" "$dir" "$dir"
	} >agent.conf
}
start_agent() {	# LOG
	: >"$1"
	"$agent" -c agent.conf >/dev/null 2>"$1" &
	agent_pid=$!
}
agent_ready() {	# LOG: until it says ready, or has exited
	wait_until $((60 * scale)) sh -c "grep -q ready: $1 || ! kill -0 $agent_pid" && grep -q ready: "$1"
}
nvme_dev() { grep -l "$subnqn" /sys/class/nvme/nvme*/subsysnqn 2>/dev/null | head -n 1 | cut -d/ -f5; }
# connect: writes the fabrics options, prints the result
connect() {
	timeout -s KILL $((120 * scale)) sh -c "printf '%s' 'transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn=$subnqn,hostnqn=$hostnqn,hostid=$hostid,tls,ctrl_loss_tmo=0,reconnect_delay=1' >/dev/nvme-fabrics" 2>&1
}
disconnect() {
	local c
	c=$(nvme_dev)
	[ -n "$c" ] && echo 1 >"/sys/class/nvme/$c/delete_controller"
}
cleanup_nvme() {
	disconnect
	rm -f "$cfs/ports/1/subsystems/$subnqn" 2>/dev/null
	rmdir "$cfs/ports/1" "$cfs/subsystems/$subnqn/namespaces/1" "$cfs/subsystems/$subnqn" 2>/dev/null
	serve_cleanup
}
trap cleanup_nvme EXIT

case "$(uname -r)" in 6.12.*) plan 13 ;; *) plan 11 ;; esac
ok "null_blk (memory-backed), nvmet-tcp and nvme-tcp load" \
	sh -c 'modprobe null_blk nr_devices=1 memory_backed=1 gb=1 && modprobe -a nvmet-tcp nvme-tcp'
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
nvme_ring=$(awk '$9 == ".nvme:" { print $1 }' /proc/keys)
head -c 32 /dev/urandom >psk.bin
psk_id=$(keyctl padd psk "$identity" "0x$nvme_ring" <psk.bin 2>&1)
ok "a retained PSK in the .nvme keyring (0x$nvme_ring): key $psk_id" test -n "$nvme_ring" -a "$psk_id" -gt 0
ok "an nvmet target on 127.0.0.1:4420 with TLS required" sh -c "
	mkdir $cfs/subsystems/$subnqn &&
	echo 1 >$cfs/subsystems/$subnqn/attr_allow_any_host &&
	mkdir $cfs/subsystems/$subnqn/namespaces/1 &&
	echo /dev/nullb0 >$cfs/subsystems/$subnqn/namespaces/1/device_path &&
	echo 1 >$cfs/subsystems/$subnqn/namespaces/1/enable &&
	mkdir $cfs/ports/1 &&
	echo tcp >$cfs/ports/1/addr_trtype && echo ipv4 >$cfs/ports/1/addr_adrfam &&
	echo 127.0.0.1 >$cfs/ports/1/addr_traddr && echo 4420 >$cfs/ports/1/addr_trsvcid &&
	echo tls1.3 >$cfs/ports/1/addr_tsas && echo required >$cfs/ports/1/addr_treq &&
	ln -s $cfs/subsystems/$subnqn $cfs/ports/1/subsystems/$subnqn"
# as nobody without keyrings = .nvme: the target's ACCEPT is refused
conf
start_agent agent0.log
agent_ready agent0.log
out=$(connect)
ok "without keyrings = .nvme the agent (nobody) cannot take the target's request" \
	wait_for_line agent0.log "handshake ACCEPT failed: Permission denied" $((30 * scale))
disconnect
kill "$agent_pid"; wait "$agent_pid" 2>/dev/null

conf 'keyrings = .nvme'
start_agent agent.log
ok "with keyrings = .nvme the agent (nobody) serves the handshake upcall" agent_ready agent.log
like "... having linked .nvme while root" "$(cat agent.log)" "keyrings linked: .nvme"

out=$(connect)
ok "the host connects with TLS through the agent ($out)" \
	wait_until $((30 * scale)) sh -c "test -n \"\$(ls /dev/nvme*n1 2>/dev/null)\""
dev=$(ls /dev/nvme*n1 2>/dev/null | head -n 1)
head -c 1048576 /dev/urandom >blocks.bin
dd if=blocks.bin of="$dev" bs=4096 seek=256 oflag=direct status=none
is "1 MiB written to $dev and read back intact" \
	"$(dd if="$dev" bs=4096 skip=256 count=256 iflag=direct status=none | sha256sum)" \
	"$(sha256sum <blocks.bin)"
ok "both ends of the NVMe/TCP queues run kernel TLS (TlsCurrTxSw $(tls_stat TlsCurrTxSw))" \
	test "$(tls_stat TlsCurrTxSw)" -ge 2
like "the agent logged the target's PSK handshake" "$(cat agent.log)" \
	"upcall nvme server psk peer 127.0.0.1:[0-9]*: TLS 1.3, kernel TLS on; peer authenticated"
like "... and the host's" "$(cat agent.log)" \
	"upcall nvme client psk peer 127.0.0.1:4420: TLS 1.3, kernel TLS on; peer authenticated"
disconnect

# a host whose PSK differs from the target's: its own keyring (keyring=)
# holds a key of the same identity with other bytes.  Not on the newest
# kernel: there nvmet-tcp arms its handshake timer after the upcall, and a
# handshake refused that fast leaves the timer in freed memory (a kernel
# WARNING; doc/testing.md), which is the kernel's bug, not ours.  6.12
# has the same code but has never been seen to hit it.
wrong_psk=no
case "$(uname -r)" in 6.12.*) wrong_psk=yes ;; esac
if [ $wrong_psk = yes ]; then
ring=$(keyctl newring ktls-test-host @u)
keyctl setperm "$ring" 0x3f3f001b
head -c 32 /dev/urandom >wrong.bin
wrong=$(keyctl padd psk "$identity" "$ring" <wrong.bin)
keyctl setperm "$wrong" 0x3f3f0003
out=$(timeout -s KILL $((120 * scale)) sh -c "printf '%s' 'transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn=$subnqn,hostnqn=$hostnqn,hostid=$hostid,tls,keyring=$ring,ctrl_loss_tmo=0' >/dev/nvme-fabrics" 2>&1)
ok "a host with the wrong PSK is refused (no controller: $out)" test -z "$(nvme_dev)"
like "... and the agent logged the failed handshake" "$(cat agent.log)" \
	"upcall nvme (server|client) psk peer 127.0.0.1:[0-9]*: failed"
fi
sed "s/^/# /" agent.log
