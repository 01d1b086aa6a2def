#!/bin/bash
# guest-timeout: 900
# ktls-agent and ktls-serve over the simulated TLS-offload NIC: the server
# in namespace B behind nsap, real clients (curl, gnutls-cli) in namespace A
# behind nsa.  With nic_offload = tls12 the agent negotiates TLS 1.2
# AES-GCM on that route and says so; kernel TLS then runs on the device
# (TlsTxDevice and TlsRxDevice move in B, TlsTxSw does not), files arrive
# intact, also with 1% loss and reordering on the server's transmit side
# (retransmissions re-encrypted by the device); a client's record damaged on
# the wire gets bad_record_mac.  With nic_offload = report
# a TLS 1.3 connection stays in software with a log line saying why; a
# device refusing the offload leaves the connection in software, intact.
set -u
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/nicsim.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"

big=${KTLS_NICSIM_SERVE_MIB:-${KTLS_BIG_MIB:-64}}
mid=$(( big / 4 > 0 ? big / 4 : 1 ))
T=$(( 240 * scale ))

serve_setup nicsim-serve
head -c $(( big * 1048576 )) /dev/urandom >www/big.bin
head -c $(( mid * 1048576 )) www/big.bin >www/mid.bin
head -c 393216 /dev/urandom | od -An -tx1 >www/text.txt
for f in big mid; do eval "${f}_sha=$(sha256sum <www/$f.bin | cut -d' ' -f1)"; done
text_sha=$(sha256sum <www/text.txt | cut -d' ' -f1)

tls_stat() { ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/tls_stat; }
snap() { for c in TlsTxSw TlsTxDevice TlsRxSw TlsRxDevice; do eval "b_$c=$(tls_stat B $c)"; done; }
grew() { [ "$(tls_stat B "$1")" -gt "$(eval echo "\$b_$1")" ]; }
same() { [ "$(tls_stat B "$1")" -eq "$(eval echo "\$b_$1")" ]; }
knob() { ip netns exec B sh -c "echo $2 >$(nicsim_knob nsap)/$1"; }
# fetch FILE [CURL ARGS]: SHA-256 of https://localhost:8443/FILE fetched from A
fetch() {
	local f=$1
	shift
	ip netns exec A curl -sS --max-time "$T" --cacert ca.pem \
		--resolve localhost:8443:10.77.0.2 "$@" "https://localhost:8443/$f" 2>>curl.err |
		sha256sum | cut -d' ' -f1
}
# start_agent NIC_OFFLOAD: (re)starts ktls-agent in B; check agent_ready
start_agent() {
	[ -n "$agent_pid" ] && { kill "$agent_pid"; wait "$agent_pid"; }
	agent_conf $((60000 * scale)) "nic_offload = $1"
	: >agent.log
	ip netns exec B "$agent" -c agent.conf >/dev/null 2>agent.log &
	agent_pid=$!
}
agent_ready() { wait_for_line agent.log "ready:" $((30 * scale)); }

plan 35

ok "the generic ctr and GHASH load" nicsim_crypto
ok "ktls_nicsim loads" insmod "$KTLS_NICSIM_MODULE"
ok "ktls_offload loads" insmod "$KTLS_MODULE"
ip netns add A && ip netns add B
ip -n A link set lo up; ip -n B link set lo up
ok "a pair: A/nsa 10.77.0.1 <-> B/nsap 10.77.0.2" sh -c "
	ip link add nsa type ktls_nicsim && ip link set nsa netns A && ip link set nsap netns B &&
	ip -n A addr add 10.77.0.1/24 dev nsa && ip -n B addr add 10.77.0.2/24 dev nsap &&
	ip -n A link set nsa up && ip -n B link set nsap up"

start_agent tls12
ok "ktls-agent in B with nic_offload = tls12" agent_ready
ip netns exec B "$serve" -v -p 8443 -w 1 --handshake-timeout $((60 * scale)) --idle-timeout $((60 * scale)) "$dir/www" \
	>/dev/null 2>serve.log &
pids="$pids $!"
ok "ktls-serve in B on the module path" \
	wait_for_line serve.log "via the ktls_offload module" $((30 * scale))

# curl (OpenSSL) offers TLS 1.3 first; the agent answers with TLS 1.2 on
# this route, AES-256-GCM by its order
snap
is "curl: $big MiB over the device, SHA-256 intact" "$(fetch big.bin)" "$big_sha"
like "the agent says it negotiated TLS 1.2 AES-GCM for nsap" "$(cat agent.log)" \
	"TLS 1.2 AES-256-GCM via nsap, which offers TLS offload \(TX and RX\).*nic_offload = tls12 negotiated it"
ok "TX on the device: TlsTxDevice +$(( $(tls_stat B TlsTxDevice) - b_TlsTxDevice )), TlsTxSw +$(( $(tls_stat B TlsTxSw) - b_TlsTxSw ))" \
	sh -c "[ $(tls_stat B TlsTxDevice) -gt $b_TlsTxDevice ] && [ $(tls_stat B TlsTxSw) -eq $b_TlsTxSw ]"
ok "RX on the device: TlsRxDevice +$(( $(tls_stat B TlsRxDevice) - b_TlsRxDevice ))" grew TlsRxDevice
ok "nsap encrypted the segments ($(nicsim_ctr B nsap tx_segs_encrypted))" \
	test "$(nicsim_ctr B nsap tx_segs_encrypted)" -gt 0

snap
is "curl, AES-128-GCM asked for: $big MiB intact" \
	"$(fetch big.bin --ciphers ECDHE-ECDSA-AES128-GCM-SHA256)" "$big_sha"
like "...logged as TLS 1.2 AES-128-GCM on nsap" "$(cat agent.log)" "TLS 1.2 AES-128-GCM via nsap"
ok "...on the device (TlsTxDevice)" grew TlsTxDevice

# gnutls-cli: stdin stays open until the server closes (Connection: close)
snap
rm -f in.fifo; mkfifo in.fifo
ip netns exec A timeout "$T" gnutls-cli --logfile=gnutls-cli.log --x509cafile ca.pem \
	-p 8443 --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM' \
	10.77.0.2 --sni-hostname localhost --verify-hostname localhost <in.fifo 2>>gnutls-cli.err |
	python3 -c 'import sys, hashlib; d = sys.stdin.buffer.read(); print(hashlib.sha256(d.split(b"\r\n\r\n", 1)[-1]).hexdigest())' >gnutls.sha &
cli=$!
exec 3>in.fifo
printf 'GET /text.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
wait "$cli"
exec 3>&-
is "gnutls-cli, TLS 1.2 AES-128-GCM: the body intact" "$(cat gnutls.sha)" "$text_sha"
ok "...on the device" grew TlsTxDevice

# a damaged record from the client, on the wire (nsa flips two bytes of the
# next TCP segment, keeping its checksum): nsap's engine finds the bad tag,
# the kernel fails the read, and ktls-serve answers bad_record_mac
rm -f bad.fifo; mkfifo bad.fifo
n0=$(grep -c "via nsap" agent.log)
t0=$(nicsim_ctr B nsap rx_tag_failures)
ip netns exec A timeout "$T" gnutls-cli --x509cafile ca.pem -p 8443 \
	--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM' \
	10.77.0.2 --sni-hostname localhost --verify-hostname localhost <bad.fifo >gnutls-bad.out 2>&1 &
cli=$!
exec 4>bad.fifo
ok "gnutls-cli's handshake done, over nsap" \
	wait_until $((60 * scale)) sh -c "[ \$(grep -c 'via nsap' agent.log) -gt $n0 ]"
ip netns exec A sh -c "echo 1 > $(nicsim_knob nsa)/corrupt_next_segment"
printf 'GET /text.txt HTTP/1.1\r\nHost: localhost\r\n\r\n' >&4
wait "$cli"
exec 4>&-
like "the damaged request gets bad_record_mac" "$(cat gnutls-bad.out)" "[Bb]ad record MAC"
ok "...found by nsap's tag check (rx_tag_failures +$(( $(nicsim_ctr B nsap rx_tag_failures) - t0 )))" \
	test "$(nicsim_ctr B nsap rx_tag_failures)" -gt "$t0"

# --zerocopy-sendfile: ktlsctl sockets, during a slow transfer, shows both
# directions on nsap and TLS_TX_ZEROCOPY_RO set; the file arrives intact
ip netns exec B "$serve" -v -p 8444 -w 1 --handshake-timeout $((60 * scale)) --idle-timeout $((60 * scale)) \
	--zerocopy-sendfile "$dir/www" >/dev/null 2>serve-zc.log &
pids="$pids $!"
ok "ktls-serve --zerocopy-sendfile on port 8444" \
	wait_for_line serve-zc.log "via the ktls_offload module" $((30 * scale))
snap
ip netns exec A curl -sS --max-time "$T" --cacert ca.pem --limit-rate 2M \
	--resolve localhost:8444:10.77.0.2 https://localhost:8444/mid.bin 2>>curl.err |
	sha256sum | cut -d' ' -f1 >zc.sha &
slow=$!
socks_zc() {
	ip netns exec B "$KTLS_BUILD/bin/ktlsctl" sockets >socks.txt 2>&1
	grep -Eq ':8444 .* 1\.2 +AES-[0-9]+-GCM +hw,zc +hw +nsap$' socks.txt
}
ok "ktlsctl sockets: the connection's TX on nsap with zero-copy, RX on nsap" \
	wait_until $((20 * scale)) socks_zc
sed 's/^/# /' socks.txt
wait "$slow"
is "...and $mid MiB arrive intact" "$(cat zc.sha)" "$mid_sha"
ok "...on the device" grew TlsTxDevice

# loss and reordering on the server's transmit side: 1% at random, and
# for certain the first 4 segments the device encrypts (a transfer can
# be short enough to see no random loss)
knob drop_permille 10
knob reorder_permille 10
knob drop_next_encrypted 4
snap
d0=$(nicsim_ctr B nsap tx_dropped)
is "1% drop, 1% reorder: $mid MiB intact (retransmissions re-encrypted on the device)" \
	"$(fetch mid.bin)" "$mid_sha"
ok "...packets were dropped ($(( $(nicsim_ctr B nsap tx_dropped) - d0 )), at least the 4 asked for), TX still on the device" \
	sh -c "[ $(nicsim_ctr B nsap tx_dropped) -ge $(( d0 + 4 )) ] && [ $(ip netns exec B cat $(nicsim_knob nsap)/drop_next_encrypted) -eq 0 ] &&
	       [ $(tls_stat B TlsTxDevice) -gt $b_TlsTxDevice ]"
knob drop_permille 0
knob reorder_permille 0
knob drop_next_encrypted 0

# a device that refuses: software kTLS, intact
knob refuse_add 1
snap
is "nsap refusing tls_dev_add: $mid MiB intact" "$(fetch mid.bin)" "$mid_sha"
ok "...in software (TlsTxSw grew, TlsTxDevice did not)" sh -c \
	"[ $(tls_stat B TlsTxSw) -gt $b_TlsTxSw ] && [ $(tls_stat B TlsTxDevice) -eq $b_TlsTxDevice ]"
knob refuse_add 0

# nic_offload = report: TLS 1.3 stays in software, and the log says why
start_agent report
ok "ktls-agent restarted with nic_offload = report" agent_ready
snap
is "curl, TLS 1.3: $mid MiB intact" "$(fetch mid.bin --tlsv1.3)" "$mid_sha"
like "the agent says TLS 1.3 stays in software on nsap" "$(cat agent.log)" \
	"TLS 1.3 AES-[0-9]+-GCM via nsap, which offers TLS offload: stays in software kTLS"
ok "...TlsTxSw grew, TlsTxDevice did not" sh -c \
	"[ $(tls_stat B TlsTxSw) -gt $b_TlsTxSw ] && [ $(tls_stat B TlsTxDevice) -eq $b_TlsTxDevice ]"

# the device removed in the middle of a transfer on it: the connection
# dies (no route), ktls-serve and the agent go on, serving in software
n0=$(grep -c "via nsap" agent.log)
ip netns exec A curl -sS --max-time $((60 * scale)) --cacert ca.pem --limit-rate 1M \
	--resolve localhost:8443:10.77.0.2 https://localhost:8443/mid.bin -o /dev/null 2>cut.err &
slow=$!
ok "a slow transfer on nsap under way" \
	wait_until $((60 * scale)) sh -c "[ \$(grep -c 'via nsap' agent.log) -gt $n0 ]"
ok "ip link del nsap in the middle of it" ip -n B link del nsap
# (nothing tells the client in A: it would sit out its time limit)
kill "$slow" 2>/dev/null
wait "$slow"
ok "ktls-serve and the agent are still there" kill -0 "$agent_pid" $pids
is "...and serve $mid MiB in software over B's loopback, intact" \
	"$(ip netns exec B curl -sS --max-time "$T" --cacert ca.pem https://localhost:8443/mid.bin 2>>curl.err |
	   sha256sum | cut -d' ' -f1)" "$mid_sha"

kill $pids "$agent_pid" 2>/dev/null
wait 2>/dev/null
pids= agent_pid=
ip netns del A; ip netns del B
rmmod ktls_offload
rmmod ktls_nicsim
