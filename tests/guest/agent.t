#!/bin/sh
# guest-timeout: 600
# ktls-agent on the module path against real clients: curl (HTTP GET and
# POST, 4 MiB for each of TLS 1.3 and 1.2 with AES-128-GCM, AES-256-GCM and
# ChaCha20-Poly1305, then 64 MiB each way), openssl s_client (16 MiB
# echoed) and gnutls-cli (4 MiB up, 512 KiB down); resumption; kernel TLS counters;
# configuration errors; clean shutdown.  (Sizes are what the emulated guest
# moves in seconds: 4 MiB is 256 full records, enough to cross every
# record and sendfile chunk boundary.)
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
agent=$KTLS_BUILD/bin/ktls-agent
server=$KTLS_BUILD/tests/handoff_server
dir=/tmp/agent-test
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir" || exit 1
make_pki "$dir"
# sizes: 64, 16 and 4 MiB; KTLS_BIG_MIB scales them down for the debug
# kernel, where KASAN makes every byte slow
big_mib=${KTLS_BIG_MIB:-64}
big=$((big_mib << 20)) mid=$((big_mib << 18)) small=$((big_mib << 16))
MiB() { awk -v b="$1" 'BEGIN { printf "%g MiB", b / 1048576 }'; }
# client time limits: 120 s, times KTLS_TIME_SCALE on the debug kernel
T=$((120 * ${KTLS_TIME_SCALE:-1}))
head -c $big /dev/urandom >big.bin
big_sha=$(sha256sum <big.bin | cut -d' ' -f1)
head -c $mid big.bin >mid.bin
mid_sha=$(sha256sum <mid.bin | cut -d' ' -f1)
head -c $small big.bin >small.bin
small_sha=$(sha256sum <small.bin | cut -d' ' -f1)
head -c $((small / 8)) big.bin >down.bin
down_sha=$(sha256sum <down.bin | cut -d' ' -f1)

cat >agent.conf <<EOF
[global]
workers = 2
socket =
log_level = debug

[profile default]
cert = $dir/server.pem
key = $dir/server.key
ca = $dir/ca.pem
alpn = http/1.1
EOF

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
agent_pid=$!
"$server" 8443 http big.bin results.log http/1.1 >http.out 2>&1 &
http_pid=$!
"$server" 8444 echo mid.bin results.log >echo.out 2>&1 &
echo_pid=$!
"$server" 8445 sink small.bin results.log >sink.out 2>&1 &
sink_pid=$!
"$server" 8446 source down.bin results.log >source.out 2>&1 &
source_pid=$!
cleanup() {
	mkdir -p "$KTLS_OUT/agent-logs"
	cp ./*.log ./*.out ./*.err ./*.conf "$KTLS_OUT/agent-logs/" 2>/dev/null
	kill "$http_pid" "$echo_pid" "$sink_pid" "$source_pid" 2>/dev/null
	kill "$agent_pid" 2>/dev/null
	wait 2>/dev/null
	grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
}
trap cleanup EXIT

ok "ktls-agent starts and reports ready" wait_for_line agent.log "ready:"
# its two workers run under SCHED_BATCH (the default), its main thread not;
# sched_batch = no leaves them all under SCHED_OTHER, and a policy set from
# outside (SCHED_IDLE here) is left alone
is "the two workers run under SCHED_BATCH" "$(ps -L -o cls= -p "$agent_pid" | grep -c B)" 2
# (module = no: the module's requests stay with the first agent)
{ printf '[global]\nworkers = 2\nmodule = no\nsocket = %s/nb.sock\nsched_batch = no\n' "$dir"
  sed -n '/^\[profile default\]/,$p' agent.conf; } >nobatch.conf
"$agent" -c nobatch.conf 2>nobatch.log &
nb=$!
wait_for_line nobatch.log "ready:"
is "sched_batch = no: none does" "$(ps -L -o cls= -p "$nb" | grep -c B)" 0
kill "$nb"
wait "$nb"
{ printf '[global]\nworkers = 2\nmodule = no\nsocket = %s/idle.sock\n' "$dir"
  sed -n '/^\[profile default\]/,$p' agent.conf; } >idle.conf
chrt -i 0 "$agent" -c idle.conf 2>idle.log &
ib=$!
wait_for_line idle.log "ready:"
is "started under SCHED_IDLE, the workers stay there" \
	"$(ps -L -o cls= -p "$ib" | grep -c IDL)" "$(ps -L -o cls= -p "$ib" | wc -l)"
kill "$ib"
wait "$ib"
ok "the HTTP test server listens" wait_for_line http.out ready

# A READY wakes one worker, not both: of 20 handshakes one after another
# (each finds both workers waiting), fewer than 5 have both run (a READY
# multicast to a socket per worker woke both every time)
switches() {	# the voluntary context switches of each worker, on one line
	for t in $(ps -L -o tid=,cls= -p "$agent_pid" | awk '$2 == "B" { print $1 }'); do
		awk '$1 == "voluntary_ctxt_switches:" { printf "%s ", $2 }' \
			"/proc/$agent_pid/task/$t/status"
	done
}
both=0 fetched=0
for _ in $(seq 20); do
	set -- $(switches)
	[ "$(curl -sS --max-time $T --cacert ca.pem https://localhost:8443/head/16 2>>curl.err |
	     wc -c)" = 16 ] && fetched=$((fetched + 1))
	a=$1 b=$2
	set -- $(switches)
	[ "$1" -gt "$a" ] && [ "$2" -gt "$b" ] && both=$((both + 1))
done
is "20 handshakes one after another" "$fetched" 20
ok "... and fewer than 5 of them woke both workers ($both did)" test "$both" -lt 5
# ... but a burst is shared: 8 requests that queue while the agent is
# stopped wait behind one READY; with two vCPUs the worker it wakes wakes
# the other, and each takes some of them (the first step of each
# handshake, its crypto, runs as it is taken); with one (the 6.1 pass) it
# does not, and takes all 8: nothing would run sooner
mark=$(wc -l <agent.log)
kill -STOP "$agent_pid"
curls=
for _ in $(seq 8); do
	curl -sS --max-time $T --cacert ca.pem -o /dev/null https://localhost:8443/head/16 \
		2>>curl.err &
	curls="$curls $!"
done
queued() { "$KTLS_BUILD/bin/ktlsctl" status | grep -q "^requests: *8 alive"; }
ok "8 requests wait in the module while the agent is stopped" wait_until $((T / 12)) queued
kill -CONT "$agent_pid"
served=0
for p in $curls; do wait "$p" && served=$((served + 1)); done
is "... all 8 are served once it goes on" "$served" 8
by_worker=$(tail -n +$((mark + 1)) agent.log |
	sed -n 's/.*worker \([0-9]\): request .* TLS 1\.3.*/\1/p' | sort | uniq -c | awk '{ printf "%s ", $1 }')
if [ "$(nproc)" -gt 1 ]; then
	like "... by both workers (handshakes of each: $by_worker)" "$by_worker" "^[0-9]+ [0-9]+ $"
else
	like "... by one worker on one vCPU (handshakes of each: $by_worker)" "$by_worker" "^8 $"
fi
ok "the echo test server listens" wait_for_line echo.out ready
ok "the sink and source test servers listen" \
	sh -c ". $KTLS_SRC/tests/lib/pki.sh; wait_for_line sink.out ready && wait_for_line source.out ready"

# result_is VERSION CIPHER: the newest handoff in results.log succeeded with them
result_is() {
	tail -n 1 results.log | grep -q "status 0 version $1 cipher $2 "
}

# curl TLSVERSION CIPHER-OPTIONS... : GET and POST 4 MiB, both verified
n=0
for combo in \
	"0x304 51 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256" \
	"0x304 52 --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384" \
	"0x304 54 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256" \
	"0x303 51 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256" \
	"0x303 52 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384" \
	"0x303 54 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-CHACHA20-POLY1305"; do
	set -- $combo
	ver=$1 cipher=$2
	shift 2
	name="TLS $([ "$ver" = 0x304 ] && echo 1.3 || echo 1.2) cipher $cipher"
	tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)
	got=$(curl -sS --max-time $T --cacert ca.pem "$@" https://localhost:8443/head/$small 2>>curl.err | sha256sum | cut -d' ' -f1)
	is "curl GET $(MiB $small) over $name: SHA-256 matches" "$got" "$small_sha"
	ok "the agent negotiated $name" result_is "$ver" "$cipher"
	got=$(curl -sS --max-time $T --cacert ca.pem "$@" --data-binary @small.bin https://localhost:8443/up 2>>curl.err)
	is "curl POST $(MiB $small) over $name: the server's SHA-256 matches" "$got" "$small_sha"
	tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
	is "kernel TLS carried both connections ($name): TlsTxSw and TlsRxSw +2" \
		"$((tx1 - tx0)) $((rx1 - rx0))" "2 2"
	n=$((n + 1))
done

got=$(curl -sS --max-time $T --cacert ca.pem --http1.1 https://localhost:8443/big.bin 2>>curl.err | sha256sum | cut -d' ' -f1)
is "curl GET $(MiB $big): SHA-256 matches" "$got" "$big_sha"
ok "ALPN http/1.1 negotiated with curl" sh -c "tail -n 1 results.log | grep -q \"alpn 'http/1.1'\""
like "the module relays the SNI curl sent, and no reason" "$(tail -n 1 results.log)" \
	"status 0 .*path module sni 'localhost' reason ''$"
got=$(curl -sS --max-time $T --cacert ca.pem --data-binary @big.bin https://localhost:8443/up 2>>curl.err)
is "curl POST $(MiB $big): the server's SHA-256 matches" "$got" "$big_sha"

# gnutls-cli: 4 MiB up (the server hashes it), then 512 KiB down (32 full
# records).  (A bulk echo would deadlock: gnutls-cli blocks in send while
# the server sends.  gnutls-cli reads slowly, whoever sends: 4 MiB from
# openssl s_server took it 10 s on the host itself, 15 s in the guest.)
gnutls_up() {
	timeout $T gnutls-cli --logfile=gnutls-cli.log --x509cafile ca.pem -p 8445 --priority "$1" \
		localhost <small.bin >/dev/null 2>>gnutls-cli.err
	wait_for_line results.log "^sha256 $small_sha" $((T / 4))
}
gnutls_down() {
	rm -f in.fifo
	mkfifo in.fifo
	timeout $T gnutls-cli --logfile=gnutls-cli.log --x509cafile ca.pem -p 8446 --priority "$1" \
		localhost <in.fifo 2>>gnutls-cli.err | sha256sum | cut -d' ' -f1 >down.sha &
	exec 3>in.fifo		# stdin stays open until the server closes
	wait $!
	exec 3>&-
	cat down.sha
}
p13='NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM'
p12='NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM'
: >results.log
ok "gnutls-cli TLS 1.3 AES-128-GCM: $(MiB $small) up arrive intact" gnutls_up "$p13"
ok "the agent negotiated TLS 1.3 AES-128-GCM with gnutls-cli" grep -q "status 0 version 0x304 cipher 51 " results.log
is "gnutls-cli TLS 1.3 AES-128-GCM: $(MiB $((small / 8))) down arrive intact" "$(gnutls_down "$p13")" "$down_sha"
: >results.log
ok "gnutls-cli TLS 1.2 AES-256-GCM: $(MiB $small) up arrive intact" gnutls_up "$p12"
ok "the agent negotiated TLS 1.2 AES-256-GCM with gnutls-cli" grep -q "status 0 version 0x303 cipher 52 " results.log
is "gnutls-cli TLS 1.2 AES-256-GCM: $(MiB $((small / 8))) down arrive intact" "$(gnutls_down "$p12")" "$down_sha"

# Resumption: gnutls-cli -r connects twice; the second must resume, which
# for TLS 1.3 needs the ticket sent before the socket went to the kernel.
for v in 1.3 1.2; do
	: >results.log
	timeout 60 gnutls-cli --logfile=resume.log --x509cafile ca.pem -p 8445 -r \
		--priority "NORMAL:-VERS-ALL:+VERS-TLS$v" localhost </dev/null >/dev/null 2>>gnutls-cli.err
	# (the server logs a result after the client has gone: wait for it)
	ok "TLS $v: two handshakes with gnutls-cli -r" \
		wait_until $((20 * ${KTLS_TIME_SCALE:-1})) sh -c '[ "$(grep -c "status 0" results.log)" -eq 2 ]'
	ok "TLS $v: the second one resumed a session" grep -q 'status 0 .* resumed 1 ' results.log
done

# openssl s_client: 16 MiB echoed both ways at once.
got=$(timeout $T openssl s_client -quiet -verify_return_error -CAfile ca.pem -verify_hostname localhost \
	-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -connect localhost:8444 \
	<mid.bin 2>openssl.err | sha256sum | cut -d' ' -f1)
is "openssl s_client TLS 1.3 ChaCha20-Poly1305: $(MiB $mid) echoed intact" "$got" "$mid_sha"
ok "the agent negotiated TLS 1.3 ChaCha20-Poly1305 with openssl" result_is 0x304 54
got=$(timeout $T openssl s_client -quiet -verify_return_error -CAfile ca.pem -verify_hostname localhost \
	-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -connect localhost:8444 \
	<mid.bin 2>>openssl.err | sha256sum | cut -d' ' -f1)
is "openssl s_client TLS 1.2 AES-128-GCM: $(MiB $mid) echoed intact" "$got" "$mid_sha"
ok "the agent negotiated TLS 1.2 AES-128-GCM with openssl" result_is 0x303 51

# A client that does not trust the server's CA fails; the agent logs it.
fails "curl without the test CA fails verification" \
	curl -sS -o /dev/null https://localhost:8443/head/1
ok "the agent logs one line for the failed handshake, with the peer address" \
	wait_for_line agent.log "handshake with 127.0.0.1:[0-9]* failed"
ok "the requester's result says why, through the module" \
	wait_for_line results.log "status [1-9][0-9]* .*path module sni 'localhost' reason '[^']"
fails "no key material in the agent's log" grep -qi 'BEGIN\|PRIVATE' agent.log

# Configuration errors name the file and the line.
printf '[global]\nworkers = 2\n[profile x]\nclient_cert = sometimes\n' >bad1.conf
out=$("$agent" -t -c bad1.conf 2>&1); rc=$?
like "a bad value: exit 1, file:line and what is wrong" "rc=$rc $out" \
	"^rc=1 ktls-agent: bad1.conf:4: client_cert must be none, optional or required"
printf '[global]\nwrokers = 2\n' >bad2.conf
out=$("$agent" -t -c bad2.conf 2>&1); rc=$?
like "an unknown key is named" "rc=$rc $out" "^rc=1 ktls-agent: bad2.conf:2: unknown key 'wrokers' in \[global\]"
printf '[profile a]\ncert = x.pem\n' >bad3.conf
out=$("$agent" -t -c bad3.conf 2>&1); rc=$?
like "a cert without its key" "rc=$rc $out" "^rc=1 ktls-agent: bad3.conf: profile 'a': cert 'x.pem' has no key line"
out=$("$agent" -t -c /nonexistent.conf 2>&1); rc=$?
like "a missing file" "rc=$rc $out" "^rc=1 ktls-agent: /nonexistent.conf: No such file or directory"
cp server.key loose.key
chmod 644 loose.key
sed "s|key = $dir/server.key|key = $dir/loose.key|" agent.conf >loose.conf
out=$("$agent" -t -c loose.conf 2>&1); rc=$?
like "a private key readable by others is refused, naming the file" "rc=$rc $out" \
	"^rc=1 ktls-agent: private key $dir/loose.key is readable or writable by group or others \(mode 0644\)"
out=$("$agent" -t -c agent.conf 2>&1); rc=$?
like "--check accepts the good configuration" "rc=$rc $out" "^rc=0 agent.conf: OK \(1 profiles\)"

# SIGTERM: clean exit.
kill -TERM "$agent_pid"
i=0
while kill -0 "$agent_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
wait "$agent_pid"
rc=$?
is "SIGTERM: the agent exits with status 0" "$rc" 0
ok "and says so in its log" grep -q "shutting down on signal 15" agent.log
plan $_tap_n
