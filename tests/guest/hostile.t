#!/bin/bash
# guest-kernels: 6.12
# guest-timeout: 900
# Hostile peers against ktls-serve and ktls-agent, on the module path
# (port 8443) and the agent's UNIX socket (9443): input that is not TLS,
# old protocol versions, truncated and cipherless ClientHellos, a client
# certificate chain far too large, 500 handshakes that trickle in, resets
# in the handshake and in a transfer, and a TLS 1.3 KeyUpdate after the
# handoff.  After each, normal clients are still served; at the end no
# descriptor is left behind in either process.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
hostile=$KTLS_SRC/tests/guest/hostile_client.py
serve_setup hostile
make_cert "$dir" client "hostile client" client
printf 'plain text\n' >www/a.txt
head -c 67108864 /dev/urandom >www/64m.bin
agent_conf 20000 "alpn = http/1.1" "" "[profile mtls]" "cert = $dir/server.pem" \
	"key = $dir/server.key" "ca = $dir/ca.pem" "client_cert = required" \
	"handshake_timeout = 20000"

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
agent_pid=$!
pids="$pids $agent_pid"
wait_for_line agent.log "ready:" || echo "# the agent did not start"
# one worker each, so that the descriptors at rest are known exactly
"$serve" -p 8443 -w 1 -v --handshake-timeout 20 "$dir/www" 2>serve.log &
serve_pid=$!
"$serve" -p 9443 -w 1 -v --handshake-timeout 20 --path socket "$dir/www" 2>serve-socket.log &
sock_pid=$!
"$serve" -p 8444 -w 1 -v --handshake-timeout 20 --profile mtls "$dir/www" 2>serve-mtls.log &
mtls_pid=$!
pids="$pids $serve_pid $sock_pid $mtls_pid"
wait_for_line serve.log "via the ktls_offload module"
wait_for_line serve-socket.log "via the agent's UNIX socket"
wait_for_line serve-mtls.log "via the ktls_offload module"

C=(curl -sS --max-time 60 --cacert ca.pem)
served() { [ "$("${C[@]}" "https://localhost:$1/a.txt" 2>>curl.err)" = "plain text" ]; }
nfds() { ls "/proc/$1/fd" | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# seconds from "closed after S s"; 999 when the connection stayed open
closed_in() { case $1 in "closed after "*) s=${1#closed after }; echo "${s% s}" ;; *) echo 999 ;; esac; }
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

for port in 8443 9443 8444; do served $port; done	# each worker's libktls is open now
served 8443 && served 9443
agent_fds=$(nfds $agent_pid)
serve_fds=$(nfds $serve_pid)
sock_fds=$(nfds $sock_pid)
tx0=$(tls_stat TlsTxSw)

# --- input that is not TLS --------------------------------------------------
for port in 8443 9443; do
	# 50 times: about one random start in five frames an SSLv2 hello that
	# claims more bytes than follow, which is refused at once too
	r=$(python3 "$hostile" 127.0.0.1 $port random 4096 50)
	ok "port $port: 4 KiB of random bytes, 50 times, are refused at once (slowest $r)" \
		within "$(closed_in "$r")" 10
	r=$(python3 "$hostile" 127.0.0.1 $port sslv2)
	ok "port $port: an SSLv2 CLIENT-HELLO is refused at once ($r)" within "$(closed_in "$r")" 10
	r=$(python3 "$hostile" 127.0.0.1 $port truncated)
	ok "port $port: half a ClientHello, then EOF, is refused at once ($r)" within "$(closed_in "$r")" 10
done
for v in tls1 tls1_1; do
	out=$(timeout 60 openssl s_client -$v -cipher 'DEFAULT:@SECLEVEL=0' -connect 127.0.0.1:8443 \
		</dev/null 2>&1)
	like "a $v-only client gets a protocol_version alert" "$out" "alert protocol version"
done
out=$(timeout 60 openssl s_client -tls1_3 -ciphersuites TLS_AES_128_CCM_8_SHA256 \
	-connect 127.0.0.1:8443 </dev/null 2>&1)
like "TLS 1.3 with no common cipher suite: handshake_failure" "$out" "alert handshake failure"
out=$(timeout 60 openssl s_client -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 \
	-connect 127.0.0.1:9443 </dev/null 2>&1)
like "TLS 1.2 with only RSA suites against an ECDSA key: handshake_failure" "$out" \
	"alert handshake failure"
is "none of these became a kernel TLS socket" "$(($(tls_stat TlsTxSw) - tx0))" 0
ok "port 8443 still serves" served 8443
ok "port 9443 still serves" served 9443

# --- a client certificate chain far too large -------------------------------
# 600 copies of the CA (about 250 KiB, past GnuTLS's 128 KiB limit on a
# handshake message) after the client's certificate
cp client.pem big-chain.pem
ca_text=$(cat ca.pem)	# (600 cat processes took 40 to 90 s under emulation)
for i in $(seq 600); do printf '%s\n' "$ca_text"; done >>big-chain.pem
rss0=$(rss_kb $agent_pid)
t0=$SECONDS
out=$( (printf 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 15) |
	timeout 90 openssl s_client -quiet -cert client.pem -key client.key \
	-cert_chain big-chain.pem -CAfile ca.pem -connect 127.0.0.1:8444 2>&1)
unlike "a 250 KiB client certificate chain gets no response" "$out" "^plain text"
echo "# (openssl s_client with that chain ended after $((SECONDS - t0)) s)"
is "mTLS still works with a normal client certificate" \
	"$("${C[@]}" --cert client.pem --key client.key https://localhost:8444/a.txt 2>>curl.err)" "plain text"
rss1=$(rss_kb $agent_pid)
ok "the agent's RSS grew by less than 32 MiB (${rss0} -> ${rss1} KiB)" \
	test $((rss1 - rss0)) -lt 32768

# --- resets -----------------------------------------------------------------
for port in 8443 9443; do python3 "$hostile" 127.0.0.1 $port reset-handshake 10; done \
	>reset.out 2>>reset.err
is "20 clients reset in the middle of their handshake" "$(grep -c '^reset$' reset.out)" 20
r=$(python3 "$hostile" 127.0.0.1 8443 reset-transfer ca.pem /64m.bin 2>&1)
like "a client resets in the middle of a 64 MiB transfer" "$r" "^read [0-9]+ bytes, then reset"
r=$(python3 "$hostile" 127.0.0.1 9443 reset-transfer ca.pem /64m.bin 2>&1)
like "and on the UNIX-socket path" "$r" "^read [0-9]+ bytes, then reset"
ok "port 8443 still serves" served 8443
ok "port 9443 still serves" served 9443

# --- TLS 1.3 KeyUpdate after the handoff -------------------------------------
# Neither test kernel (6.1, 6.12) can take new keys on a kTLS socket, so
# the documented behaviour is a clean close (SECURITY.md), never a hang.
# (s_client reads from a FIFO, so that its own exit is what is timed)
mkfifo ku.fifo
(printf 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 8; echo k; sleep 40) >ku.fifo &
feeder=$!
start=$(date +%s)
out=$(timeout 60 openssl s_client -tls1_3 -CAfile ca.pem -connect 127.0.0.1:8443 <ku.fifo 2>&1)
secs=$(( $(date +%s) - start ))
kill $feeder 2>/dev/null
like "KeyUpdate: the request before it was answered" "$out" "^plain text"
like "s_client sent its KeyUpdate" "$out" "KEYUPDATE"
ok "then the server closed the connection at once, not at the client's 48 s (${secs}s)" \
	test "$secs" -lt 30
ok "and serves the next client" served 8443

# --- 500 handshakes that trickle in ------------------------------------------
# one byte every 2 s: none can finish before the 20 s handshake timeout
python3 "$hostile" 127.0.0.1 8443 trickle 500 2 >trickle.out 2>trickle.err &
trickle_pid=$!
sleep 5
# normal requests, one after another, until the trickling client has seen
# all of its connections closed: they meet the 500 open handshakes and
# then the agent ending them (a request arriving while the agent sent its
# DONEs once waited in the module's queue until its own timeout)
slowest=0
failed=0
i=0
while [ $i -lt 20 ] || kill -0 $trickle_pid 2>/dev/null; do
	i=$((i + 1))
	port=$((i % 2 ? 8443 : 9443))
	r=$("${C[@]}" -o /dev/null -w '%{http_code} %{time_total}' \
		"https://localhost:$port/a.txt" 2>>curl.err)
	[ "${r% *}" = 200 ] || failed=$((failed + 1))
	awk -v t="${r#* }" 'BEGIN { exit !(t >= 5) }' &&
		echo "# slow: request $i to port $port: $r (at $(date +%T))"
	slowest=$(awk -v a="$slowest" -v b="${r#* }" 'BEGIN { print (b > a) ? b : a }')
	[ $i -lt 200 ] || break
done
is "with 500 trickling handshakes open, then timing out, $i normal requests are served" \
	"$failed" 0
ok "each within 5 s (slowest ${slowest}s)" within "$slowest" 5
wait $trickle_pid
r=$(cat trickle.out)
like "every trickling connection is closed by the server ($r)" "$r" "^closed 500 of 500"
first=$(echo "$r" | sed -n 's/.*first \([0-9.]*\) s.*/\1/p')
last=$(echo "$r" | sed -n 's/.*last \([0-9.]*\) s.*/\1/p')
ok "none before its 20 s timeout (first ${first}s)" within 18 "${first:-0}"
ok "all within 90 s (last ${last}s)" within "${last:-999}" 90

# --- nothing left behind -----------------------------------------------------
sleep 3
served 8443 && served 9443
is "ktls-serve (module path) holds the descriptors it held at rest" "$(nfds $serve_pid)" "$serve_fds"
is "ktls-serve (socket path) too" "$(nfds $sock_pid)" "$sock_fds"
is "and the agent too" "$(nfds $agent_pid)" "$agent_fds"
ok "the agent is alive" kill -0 $agent_pid
plan $_tap_n
