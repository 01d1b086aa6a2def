#!/bin/bash
# guest-timeout: 600
# The route the agent's nic_offload and ktlsctl sockets look up must be the
# one the kernel offloads on: B has a veth pair d0/d0p (created first) and
# nsap, and a client in A reaches ktls-serve at nsap's IPv6 link-local
# address.  Unscoped, "fe80::a from fe80::b" would leave through d0; the
# socket is bound to nsap (the link-local scope), and so is the lookup: the
# agent (nic_offload = tls12) negotiates TLS 1.2 and logs nsap, and ktlsctl
# sockets names nsap for the connection on the device.  (A review found the
# lookup unscoped.)
set -u
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/nicsim.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"

T=$(( 120 * scale ))
serve_setup nicsim-route
head -c 4194304 /dev/urandom >www/f.bin
sha=$(sha256sum <www/f.bin | cut -d' ' -f1)
tls_stat() { ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/tls_stat; }

plan 6
ok "the generic ctr and GHASH load" nicsim_crypto
ok "ktls_nicsim and ktls_offload load" sh -c "insmod $KTLS_NICSIM_MODULE && insmod $KTLS_MODULE"
ip netns add A && ip netns add B
ip -n A link set lo up; ip -n B link set lo up
modprobe veth
ip -n B link add d0 type veth peer name d0p
ip -n B link set d0 up; ip -n B link set d0p up
ip link add nsa type ktls_nicsim && ip link set nsa netns A && ip link set nsap netns B
ip -n A addr add fe80::a/64 dev nsa nodad
ip -n B addr add fe80::b/64 dev nsap nodad
ip -n A link set nsa up; ip -n B link set nsap up
sleep 1
echo "# B: ip -6 route get fe80::a from fe80::b: $(ip -n B -6 route get fe80::a from fe80::b 2>&1)"
echo "# B: ip -6 route get fe80::a oif nsap: $(ip -n B -6 route get fe80::a oif nsap 2>&1)"

{
	printf '[global]\nworkers = 2\nsocket = %s/agent.sock\nlog_level = debug\n\n' "$dir"
	printf '[profile default]\ncert = %s/server.pem\nkey = %s/server.key\n' "$dir" "$dir"
	printf 'handshake_timeout = 60000\nnic_offload = tls12\n'
} >agent.conf
ip netns exec B "$agent" -c agent.conf >/dev/null 2>agent.log &
agent_pid=$!
wait_for_line agent.log "ready:" $((30 * scale))
ip netns exec B "$serve" -v -p 8443 -w 1 "$dir/www" >/dev/null 2>serve.log &
pids="$pids $!"
wait_for_line serve.log "via the ktls_offload module" $((30 * scale))

# curl offers TLS 1.3 and 1.2; the route to it leaves through nsap
b_dev=$(tls_stat B TlsTxDevice)
got=$(ip netns exec A curl -sS -k -v --max-time "$T" "https://[fe80::b%25nsa]:8443/f.bin" 2>curl1.err |
	sha256sum | cut -d' ' -f1)
is "curl over nsa/nsap link-local: 4 MiB intact" "$got" "$sha"
sed -n '/request [0-9]* from/p' agent.log | sed 's/^/# agent: /'
like "nic_offload = tls12: the agent finds nsap (where the connection runs) and negotiates TLS 1.2" \
	"$(grep -h 'SSL connection using' curl1.err)" "TLSv1\.2"

# TLS 1.2 forced by the client: kTLS runs on nsap (hw); ktlsctl names the device
ip netns exec A curl -sS -k --tls-max 1.2 --limit-rate 512K --max-time "$T" \
	"https://[fe80::b%25nsa]:8443/f.bin" -o /dev/null 2>curl2.err &
slow=$!
socks() {
	ip netns exec B "$KTLS_BUILD/bin/ktlsctl" sockets >socks.txt 2>&1
	grep -Eq ':8443 .* 1\.2 .* hw .*hw' socks.txt
}
wait_until $((30 * scale)) socks
sed 's/^/# /' socks.txt
like "ktlsctl sockets: the hw connection's DEVICE is nsap" "$(grep ':8443 ' socks.txt)" "hw +nsap$"
like "the agent logs it via nsap" "$(grep 'request' agent.log | tail -n 1)" "via nsap"
echo "# TlsTxDevice +$(( $(tls_stat B TlsTxDevice) - b_dev ))"
wait "$slow"
kill $pids "$agent_pid" 2>/dev/null
wait 2>/dev/null
pids= agent_pid=
ip netns del A; ip netns del B
