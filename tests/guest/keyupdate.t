#!/bin/bash
# guest-timeout: 900
# TLS 1.3 KeyUpdate after the handoff (doc/keyupdate.md).  Where kernel
# TLS takes new keys (6.14 on; found in /proc/net/tls_stat, not by
# version), the module carries KeyUpdates out for the connections it
# handed back: a GnuTLS client sends one (with and without
# update_requested) in the middle of a 64 MiB download from ktls-serve and
# of a 64 MiB upload to a libktls server, and the data arrive intact;
# openssl s_client's K and k against ktls-serve; the server's own
# KeyUpdates every 1 MiB (key_update_after), counted; a KeyUpdate to an
# unmodified python3 http.server in listener mode; a flood of KeyUpdates
# (16 in a row at most); unmodified servers that peek past a KeyUpdate,
# read after shutdown(SHUT_WR) (no SIGPIPE) and read from two threads;
# a secret for the module never reaches the server; rmmod waits for the
# connections that carry KeyUpdate state, including one freed unaccepted
# when its listener closed.  Where it cannot, a valid
# KeyUpdate ends the connection with internal_error (tests/guest/conform.t
# has the malformed ones on every kernel).
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
. "$KTLS_SRC/tests/lib/servers.sh"
client=$KTLS_BUILD/tests/keyupdate_client
hserver=$KTLS_BUILD/tests/handoff_server
ctl=$KTLS_BUILD/bin/ktlsctl
scale=${KTLS_TIME_SCALE:-1}
serve_setup keyupdate
rekey=no
modprobe tls 2>/dev/null
grep -q '^TlsRxRekeyOk' /proc/net/tls_stat && rekey=yes
# (64 MiB whatever KTLS_BIG_MIB says: only kernels that rekey move it)
big_mib=64
[ $rekey = yes ] || big_mib=1	# (only the clean end is checked)
head -c $((big_mib << 20)) /dev/urandom >www/big.bin
big_sha=$(sha256sum <www/big.bin | cut -d' ' -f1)
half=$((big_mib << 19))
printf 'plain text\n' >www/a.txt
a_sha=$(sha256sum <www/a.txt | cut -d' ' -f1)
agent_conf $((60000 * scale)) 'alpn = http/1.1' '' '[profile rekey]' \
	"cert = $dir/server.pem" "key = $dir/server.key" 'alpn = http/1.1' \
	'key_update_after = 16M'

dmesg0=$(dmesg | wc -l)
if [ $rekey = yes ]; then plan 57; else plan 6; fi
echo "# kernel TLS rekey: $rekey"

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
# (GnuTLS would write its secrets to SSLKEYLOGFILE: the agent must not)
SSLKEYLOGFILE=$dir/keylog.txt "$agent" -c agent.conf 2>agent.log &
agent_pid=$!
wait_for_line agent.log "ready:" $((30 * scale)) || echo "# the agent did not start"
"$serve" -p 8443 -w 1 --handshake-timeout $((60 * scale)) www 2>serve.log &
pids="$pids $!"
"$serve" -p 8444 -w 1 --handshake-timeout $((60 * scale)) --profile rekey www 2>serve-rekey.log &
pids="$pids $!"
"$hserver" 8445 http www/big.bin hserver-results.log >hserver.out 2>hserver.err &
pids="$pids $!"
ok "ktls-serve on the module path" wait_for_line serve.log "via the ktls_offload module" $((30 * scale))
ok "ktls-serve with the rekey profile" wait_for_line serve-rekey.log "via the ktls_offload module" $((30 * scale))
ok "the libktls test server" wait_for_line hserver.out ready $((30 * scale))

stat() { tls_stat "$1"; }
C=("$client" 127.0.0.1)
# ku NAME PORT ARGS... EXPECTED_OUTPUT RX_DELTA TX_DELTA: the client's
# output and the kernel's rekey counters (the whole guest's: nothing else
# runs TLS meanwhile)
ku() {
	local name=$1 port=$2 rx0 tx0 out
	shift 2
	local want=${*: -3:1} drx=${*: -2:1} dtx=${*: -1}
	set -- "${@:1:$(($# - 3))}"
	rx0=$(stat TlsRxRekeyOk) tx0=$(stat TlsTxRekeyOk)
	out=$("${C[@]}" "$port" ca.pem localhost "$@" 2>>client.err)
	is "$name: the data arrive intact" "$out" "$want"
	is "$name: receive keys installed" $(($(stat TlsRxRekeyOk) - rx0)) "$drx"
	is "$name: send keys installed" $(($(stat TlsTxRekeyOk) - tx0)) "$dtx"
}

if [ $rekey = no ]; then
	"${C[@]}" 8443 ca.pem localhost get /a.txt pre k >/dev/null 2>>client.err
	is "a valid KeyUpdate ends the connection (this kernel cannot rekey)" $? 1
	like "with internal_error" "$(cat client.err)" "Internal error"
	like "and ktls-serve says why" "$(cat serve.log)" \
		"sent a TLS 1.3 KeyUpdate, which this kernel's TLS cannot follow"
	exit 0
fi
two="body $big_sha $((big_mib << 20))
body $big_sha $((big_mib << 20))"
# --- a download from ktls-serve, the KeyUpdate half-way through it -----------
ku "download, KeyUpdate" 8443 get /big.bin $half k 2 "$two" 1 0
ku "download, KeyUpdate with update_requested" 8443 get /big.bin $half K 2 "$two" 1 1
ku "a KeyUpdate before the first request" 8443 get /a.txt pre K "body $a_sha 11" 1 1

# --- an upload to a libktls server (ktls_recv()) -----------------------------
sent_sha=$("${C[@]}" 8445 ca.pem localhost post /up $((big_mib << 20)) 0 - 2>>client.err |
	sed -n 's/^sent //p')
ku "upload, KeyUpdate" 8445 post /up $((big_mib << 20)) $half k "sent $sent_sha
$sent_sha" 1 0
ku "upload, KeyUpdate with update_requested" 8445 post /up $((big_mib << 20)) $half K \
	"sent $sent_sha
$sent_sha" 1 1

# --- openssl s_client's K and k -----------------------------------------------
# sclient KEY: a line KEY (a KeyUpdate), then a request, stdin open until the
# answer came
sclient() {
	( printf '%s\n' "$1"; sleep $((2 * scale))
	  printf 'GET /a.txt HTTP/1.1\nHost: localhost\nConnection: close\n\n'
	  sleep $((4 * scale)) ) |
		timeout $((30 * scale)) openssl s_client -connect localhost:8443 -tls1_3 \
			-CAfile ca.pem -servername localhost -crlf 2>&1
}
for key in K k; do
	rx0=$(stat TlsRxRekeyOk) tx0=$(stat TlsTxRekeyOk)
	out=$(sclient $key)
	like "openssl s_client $key: it sent the KeyUpdate" "$out" "KEYUPDATE"
	like "openssl s_client $key: the answer came after it" "$out" "plain text"
	is "openssl s_client $key: one receive key installed" $(($(stat TlsRxRekeyOk) - rx0)) 1
	is "openssl s_client $key: our own KeyUpdate only when asked" \
		$(($(stat TlsTxRekeyOk) - tx0)) $([ $key = K ] && echo 1 || echo 0)
done

# --- the server's own KeyUpdates (key_update_after = 16M) ---------------------
# (GnuTLS clients refuse more than 8 KeyUpdates a second: a limit of 1M
# would break them on a fast link)
rx0=$(stat TlsRxRekeyOk) tx0=$(stat TlsTxRekeyOk)
out=$("${C[@]}" 8444 ca.pem localhost get /big.bin none - 2>>client.err)
is "key_update_after = 16M: a 64 MiB download arrives intact" "$out" \
	"body $big_sha $((big_mib << 20))"
n=$(($(stat TlsTxRekeyOk) - tx0))
want=$(((big_mib - 1) / 16))
ok "and the server rekeyed every 16 MiB ($n times, $want expected)" \
	test "$n" -ge "$want" -a "$n" -le $((want + 1))
is "the client never rekeyed" $(($(stat TlsRxRekeyOk) - rx0)) 0
ku "an upload to the default profile: no KeyUpdate of the server's own" 8445 post /up \
	$((big_mib << 20)) 0 - "sent $sent_sha
$sent_sha" 0 0

# --- a flood of KeyUpdates ------------------------------------------------------
ku "16 KeyUpdates with update_requested, then a request: one KeyUpdate answers all" \
	8443 get /a.txt pre K16 "body $a_sha 11" 16 1
# 100 in a row, all in before the server reads (a python3 server in
# listener mode that reads 2 s after accepting)
python3 -u "$KTLS_SRC/tests/guest/ku_servers.py" late 8084 >late.out 2>&1 &
late_pid=$!
wait_port 8084
"$ctl" attach --port 8084 >/dev/null
timeout $((60 * scale)) "${C[@]}" 8084 ca.pem localhost get /a.txt pre K100 >/dev/null 2>flood.err
is "100 KeyUpdates in a row, nothing else: refused" $? 1
like "with unexpected_message (16 in a row at most)" "$(cat flood.err)" "Unexpected message"
wait $late_pid
like "and the server's read failed with EBADMSG" "$(cat late.out)" "Bad message"

# --- listener mode: an unmodified python3 http.server ----------------------------
# HTTP/1.1, so that it reads (and meets the KeyUpdate) after a response;
# one that closes after its response without reading resets the
# connection, KeyUpdate or not
python3 -u -m http.server 8080 --bind 127.0.0.1 --directory www --protocol HTTP/1.1 \
	>python.log 2>&1 &
py_pid=$!
pids="$pids $py_pid"
wait_port 8080
out=$("$ctl" attach --port 8080 2>&1)
like "ktlsctl attach --port 8080" "$out" "^attached listener"
ku "python3 http.server: a KeyUpdate before the request" 8080 get /a.txt pre K \
	"body $a_sha 11" 1 1
ku "python3 http.server: a KeyUpdate without update_requested" 8080 get /a.txt pre k \
	"body $a_sha 11" 1 0
ku "python3 http.server: 64 MiB twice, update_requested half-way through the first" 8080 \
	get /big.bin $half K 2 "$two" 1 1
unlike "python3 http.server met no error" "$(cat python.log)" "Traceback|code [45]"
# --- servers that peek, read after shutdown(SHUT_WR), read from two threads ---
# (tests/guest/ku_servers.py, attached in listener mode; one connection each)
srv=$KTLS_SRC/tests/guest/ku_servers.py
python3 -u "$srv" peek 8081 >peek.out 2>&1 &
peek_pid=$!
python3 -u "$srv" pipe 8082 >pipe.out 2>&1 &
pipe_pid=$!
wait_port 8081
wait_port 8082
"$ctl" attach --port 8081 >/dev/null
"$ctl" attach --port 8082 >/dev/null
# a head record, a KeyUpdate, a body record: the server peeks at all of it
timeout $((60 * scale)) "${C[@]}" 8081 ca.pem localhost post /up 100 0 k >/dev/null 2>>client.err
wait $peek_pid
like "a server that peeks past a KeyUpdate is still told the socket is readable" \
	"$(cat peek.out)" "^peeked 1[0-9][0-9], read 1[0-9][0-9]"
# a malformed KeyUpdate, met by recv() after shutdown(SHUT_WR)
timeout $((60 * scale)) "$KTLS_BUILD/tests/conform_client" 8082 ca.pem 1.3 AES-128-GCM \
	key-update-value >pipe-client.out 2>&1
wait $pipe_pid
is "a bad KeyUpdate met by recv() after SHUT_WR: no SIGPIPE for the reader" "$?" 0
bad=0
for i in 1 2 3; do
	python3 -u "$srv" two 8083 4194304 >two.out 2>&1 &
	two_pid=$!
	wait_port 8083
	"$ctl" attach --port 8083 >/dev/null
	timeout $((120 * scale)) "${C[@]}" 8083 ca.pem localhost post /up 4194304 \
		$((i * 1000000)) k8 >/dev/null 2>>client.err
	wait $two_pid
	grep -q "^total \([0-9]*\) of \1, errors \[\]" two.out || bad=$((bad + 1))
	cat two.out >>two-all.out
done
is "two threads reading while 8 KeyUpdates come: all data, no error (3 rounds)" "$bad" 0

# --- the secrets stay in the kernel ----------------------------------------------
unlike "the agent logs no secret" "$(cat agent.log)" "SECRET"
ok "SSLKEYLOGFILE in the agent's environment gets nothing" test ! -s keylog.txt

# --- rmmod and the connections that carry KeyUpdate state -------------------------
"${C[@]}" 8443 ca.pem localhost get /big.bin none - 2>/dev/null >/dev/null &
slow=$!
sleep 1
kill $pids $agent_pid 2>/dev/null
pids= agent_pid=
wait $slow 2>/dev/null
# the python server is still attached: detach, then stop it
"$ctl" detach --port 8080 >/dev/null 2>&1
kill "$py_pid" 2>/dev/null
wait "$py_pid" 2>/dev/null
# a connection whose handshake is done, queued on a listener that never
# accepts it and then closes: freed without a close (sk_destruct)
python3 -c 'import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8090))
s.listen(8)
time.sleep(600)' &
lazy=$!
wait_port 8090
"$agent" -c agent.conf 2>agent2.log &
agent_pid=$!
wait_for_line agent2.log "ready:" $((30 * scale)) || echo "# the agent did not start again"
"$ctl" attach --port 8090 >/dev/null 2>&1
"${C[@]}" 8090 ca.pem localhost get /a.txt 0 - >/dev/null 2>queued.err &
queued=$!
ok "a connection to a listener that does not accept: handshake done, queued" \
	wait_for_line queued.err "handshake done" $((30 * scale))
kill $lazy $agent_pid
wait $lazy $queued $agent_pid 2>/dev/null
agent_pid=
ok "rmmod works once those connections are closed (or freed unaccepted)" rmmod ktls_offload
is "kernel log: no warning" "$(dmesg | tail -n +$((dmesg0 + 1)) | grep -cE 'WARNING|BUG')" 0
