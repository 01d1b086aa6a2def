#!/bin/sh
# guest-timeout: 1200
# ktls-agent beyond the basic server role: the UNIX-socket path (with and
# without the module), a client sending its request in the same flight as
# its Finished, SNI with two certificates, client certificates, the client
# role against gnutls-serv and openssl s_server with its failures, SIGHUP
# reload with a handshake in flight, and the privilege drop.  Trust: the
# purpose (EKU) of peer certificates in both roles, CRLs in both roles
# (and reloaded on SIGHUP), an OCSP response stapled.  Access
# control from the hostile side: another user (setpriv) refused by a
# profile on both paths, then admitted by allow_users or allow_groups; a
# socket on a port outside allow_local_ports refused; the client role off
# unless a profile enables it.  With KTLS_PASS=kernel (make check's passes
# after 6.12) the parts that only exercise the agent's userspace (SNI,
# client certificates, verdicts on certificates, CRL, OCSP, SIGHUP) are
# left to the full pass.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
agent=$KTLS_BUILD/bin/ktls-agent
server=$KTLS_BUILD/tests/handoff_server
client=$KTLS_BUILD/tests/handoff_client
flight=$KTLS_BUILD/tests/flight_client
dir=/tmp/agent-roles
export KTLS_AGENT_SOCKET=$dir/run/agent.sock	# libktls's socket
rm -rf "$dir"
mkdir -p "$dir"
chmod 755 "$dir"
cd "$dir" || exit 1
make_pki "$dir"
make_cert "$dir" other other.example good
make_cert "$dir" expired localhost expired
make_cert "$dir" self localhost selfsigned
make_cert "$dir" untrusted localhost otherca
make_cert "$dir" client "test client" client
make_cert "$dir" rogue "rogue client" otherca
make_cert "$dir" revoked "revoked client" client
make_cert "$dir" revoked-srv localhost good
make_cert "$dir" clientonly localhost clientonly
make_crl "$dir" crl.pem revoked revoked-srv
make_ocsp "$dir" server
head -c 8388608 /dev/urandom >big.bin
big_sha=$(sha256sum <big.bin | cut -d' ' -f1)

write_conf() {	# write_conf FILE [EXTRA-PROFILE-LINES]
	cat >"$1" <<EOF
[global]
workers = 2
socket = $dir/run/agent.sock
socket_group = nogroup
log_level = debug

[profile default]
cert = $dir/server.pem
key = $dir/server.key
ocsp_response = $dir/server.ocsp
cert = $dir/other.pem
key = $dir/other.key
ca = $dir/ca.pem
alpn = http/1.1

[profile mtls]
cert = $dir/server.pem
key = $dir/server.key
ca = $dir/ca.pem
crl = $dir/crl.pem
client_cert = required

[profile mtls-optional]
cert = $dir/server.pem
key = $dir/server.key
ca = $dir/ca.pem
client_cert = optional

[profile client]
roles = client
ca = $dir/ca.pem
crl = $dir/crl.pem
cert = $dir/client.pem
key = $dir/client.key

[profile for-nobody]
cert = $dir/server.pem
key = $dir/server.key
allow_users = nobody

[profile for-nogroup]
cert = $dir/server.pem
key = $dir/server.key
allow_groups = nogroup

[profile ports]
cert = $dir/server.pem
key = $dir/server.key
allow_local_ports = 8462, 9000-9001
$2
EOF
}
write_conf agent.conf

pids=""
start() {	# start NAME COMMAND...: in the background, output in NAME.out
	_n=$1
	shift
	"$@" >"$_n.out" 2>&1 &
	pids="$pids $!"
}
cleanup() {
	mkdir -p "$KTLS_OUT/agent-roles-logs"
	cp ./*.log ./*.out ./*.conf "$KTLS_OUT/agent-roles-logs/" 2>/dev/null
	kill $pids "$agent_pid" 2>/dev/null
	wait 2>/dev/null
	grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
}
trap cleanup EXIT
last_result() { tail -n 1 results.log; }

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
SSLKEYLOGFILE=$dir/keylog.txt "$agent" -c agent.conf 2>agent.log &
agent_pid=$!
ok "the agent serves the module and the UNIX socket" \
	wait_for_line agent.log "handoffs from the module and $dir/run/agent.sock"
is "the socket is mode 0660" "$(stat -c %a run/agent.sock)" 660
start mod-http "$server" 8443 http big.bin results.log http/1.1
HANDOFF_PATH=socket start sock-http "$server" 9443 http big.bin results.log http/1.1
HANDOFF_PATH=socket HANDOFF_PROFILE=mtls start sock-mtls "$server" 9444 http big.bin results.log
HANDOFF_PROFILE=mtls-optional start mod-mtlsopt "$server" 8445 http big.bin results.log
HANDOFF_PROFILE=late start mod-late "$server" 8446 http big.bin results.log
for s in mod-http sock-http sock-mtls mod-mtlsopt mod-late; do
	wait_for_line $s.out ready || echo "# $s did not start"
done

# --- the UNIX-socket path --------------------------------------------------
tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)
for v in 1.3 1.2; do
	got=$(curl -sS --max-time 120 --cacert ca.pem --tlsv$v --tls-max $v \
		https://localhost:9443/big.bin 2>>curl.err | sha256sum | cut -d' ' -f1)
	is "UNIX socket, TLS $v: curl GET 8 MiB, SHA-256 matches" "$got" "$big_sha"
	like "the handoff went over the socket" "$(last_result)" "status 0 version 0x30.* path socket"
done
like "the result names the ALPN, and the SNI curl sent" "$(last_result)" \
	"status 0 .*alpn 'http/1.1' .*path socket sni 'localhost' reason ''$"
got=$(curl -sS --max-time 120 --cacert ca.pem --data-binary @big.bin \
	https://localhost:9443/up 2>>curl.err)
is "UNIX socket: curl POST 8 MiB, the server's SHA-256 matches" "$got" "$big_sha"
tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
is "kernel TLS carried the three socket-path connections" \
	"$((tx1 - tx0)) $((rx1 - rx0))" "3 3"
fails "SSLKEYLOGFILE in the agent's environment: no key log written" test -e keylog.txt

# --- request in the same flight as the Finished -----------------------------
for port in 8443 9443; do
	for v in 1.3 1.2; do
		out=$(timeout 60 "$flight" $port ca.pem $v 2>&1 | tr '\n' ' ')
		like "port $port, TLS $v: Finished and GET in one write get the whole file" \
			"$out" "one write of .*response: HTTP/1.1 200 OK.*body 8388608 of 8388608"
		# the peer's FIN is in before the agent is done: the kernel
		# refuses tls on a socket past ESTABLISHED, so the agent must
		# have put it on before; the server still answers
		out=$(timeout 60 "$flight" $port ca.pem $v close 2>&1 | tr '\n' ' ')
		like "port $port, TLS $v: Finished, GET, close_notify and FIN at once get the whole file" \
			"$out" "one write of .* then FIN response: HTTP/1.1 200 OK.*body 8388608 of 8388608"
	done
done

# --- SNI: two certificates in one profile -----------------------------------
# (this section and the next, the agent's own checks, in full passes only:
# tap.sh's full_pass)
if full_pass; then
	subject() {	# subject [SERVERNAME]: the certificate the agent presents
		timeout 30 openssl s_client -connect 127.0.0.1:8443 ${1:+-servername $1} </dev/null \
			2>/dev/null | openssl x509 -noout -subject 2>/dev/null
	}
	like "SNI other.example gets the other.example certificate" "$(subject other.example)" \
		"CN *= *other.example"
	like "SNI localhost gets the localhost certificate" "$(subject localhost)" "CN *= *localhost"
	got=$(curl -sS --max-time 60 --cacert ca.pem --resolve other.example:8443:127.0.0.1 \
		-o /dev/null -w '%{http_code}' https://other.example:8443/head/1024 2>>curl.err)
	is "curl verifies other.example through SNI" "$got" 200

	# --- client certificates (server role) --------------------------------------
	got=$(curl -sS --max-time 60 --cacert ca.pem --cert client.pem --key client.key \
		-o /dev/null -w '%{http_code}' https://localhost:9444/head/1024 2>>curl.err)
	is "client_cert = required: a client certificate by the CA is accepted" "$got" 200
	like "the result names the peer" "$(last_result)" "status 0 .*peer 'CN=test client'"
	fails "client_cert = required: no client certificate is refused" \
		curl -sS --max-time 60 --cacert ca.pem -o /dev/null https://localhost:9444/head/1024
	like "the requester gets an error status" "$(last_result)" "submit/wait 0 status [1-9]"
	fails "client_cert = required: a certificate by another CA is refused" \
		curl -sS --max-time 60 --cacert ca.pem --cert rogue.pem --key rogue.key \
		-o /dev/null https://localhost:9444/head/1024
	like "with status EKEYREJECTED" "$(last_result)" "status 129 "
	like "and the reason in words, GnuTLS's verdict on the certificate" "$(last_result)" \
		"status 129 .*path socket sni 'localhost' reason 'The certificate is NOT trusted"
	got=$(curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
		https://localhost:8445/head/1024 2>>curl.err)
	is "client_cert = optional: no client certificate is fine" "$got" 200
	like "and no peer identity is reported" "$(last_result)" "status 0 .*peer ''"
fi

# --- client role ------------------------------------------------------------
serve_gnutls() {	# serve_gnutls PORT CERT [OPTIONS]
	_p=$1 _c=$2
	shift 2
	start gnutls-$_p gnutls-serv --http --port "$_p" --x509certfile "$_c.pem" \
		--x509keyfile "$_c.key" "$@"
}
serve_gnutls 9500 server
serve_gnutls 9501 expired
serve_gnutls 9502 self
serve_gnutls 9503 untrusted
serve_gnutls 9504 server --require-client-cert --verify-client-cert --x509cafile ca.pem
start openssl-9510 openssl s_server -accept 9510 -cert server.pem -key server.key -www -quiet
start openssl-9511 openssl s_server -accept 9511 -cert server.pem -key server.key -www -quiet \
	-tls1_2
for p in 9500 9501 9502 9503 9504 9510 9511; do
	i=0
	while ! ss -Hltn "sport = :$p" | grep -q . && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
done

out=$(timeout 60 "$client" 127.0.0.1 9500 localhost client 2>&1 | tr '\n' ' ')
like "client role vs gnutls-serv: verified, TLS 1.3, a response over kernel TLS" "$out" \
	"status 0 \(ok\) version 0x304 .*peer 'CN=localhost'.*response: HTTP/1.0 200 OK"
like "the module relays the SNI sent" "$out" "status 0 .*sni 'localhost' reason '' "
out=$(HANDOFF_PATH=socket timeout 60 "$client" 127.0.0.1 9500 localhost client 2>&1 | tr '\n' ' ')
like "the same through the UNIX socket" "$out" "status 0 \(ok\) version 0x304 .*response: HTTP/1.0 200"
like "its result names the SNI sent and the server's certificate" "$out" \
	"status 0 .*peer 'CN=localhost' sni 'localhost' reason '' "
out=$(HANDOFF_PATH=socket timeout 60 "$client" 127.0.0.1 9500 127.0.0.1 client 2>&1 | tr '\n' ' ')
like "to an IP address no SNI is sent, and none is reported" "$out" "status 0 .*sni '' reason '' "
out=$(timeout 60 "$client" 127.0.0.1 9500 127.0.0.1 client 2>&1 | tr '\n' ' ')
like "the peer name may be an IP address (IP SAN)" "$out" "status 0 \(ok\)"
out=$(timeout 60 "$client" 127.0.0.1 9510 localhost client 2>&1 | tr '\n' ' ')
like "client role vs openssl s_server TLS 1.3" "$out" "status 0 \(ok\) version 0x304 .*response: HTTP/1.0 200"
out=$(timeout 60 "$client" 127.0.0.1 9511 localhost client 2>&1 | tr '\n' ' ')
like "client role vs openssl s_server TLS 1.2" "$out" "status 0 \(ok\) version 0x303 .*response: HTTP/1.0 200"
out=$(timeout 60 "$client" 127.0.0.1 9504 localhost client 2>&1 | tr '\n' ' ')
like "client role with the profile's client certificate, server requires one" "$out" \
	"status 0 \(ok\)"
# the agent's verdicts on bad server certificates (full passes only)
if full_pass; then
	out=$(timeout 60 "$client" 127.0.0.1 9501 localhost client 2>&1 | tr '\n' ' ')
	like "an expired server certificate: EKEYEXPIRED" "$out" "status 127 "
	out=$(timeout 60 "$client" 127.0.0.1 9500 wrong.example client 2>&1 | tr '\n' ' ')
	like "a certificate for another name: EKEYREJECTED" "$out" "status 129 "
	out=$(timeout 60 "$client" 127.0.0.1 9503 localhost client 2>&1 | tr '\n' ' ')
	like "a certificate by an untrusted CA: EKEYREJECTED" "$out" "status 129 "
	out=$(HANDOFF_PATH=socket timeout 60 "$client" 127.0.0.1 9502 localhost client 2>&1 | tr '\n' ' ')
	like "a self-signed certificate (UNIX socket path): EKEYREJECTED" "$out" "status 129 "
	like "with the reason in words" "$out" "status 129 .*sni 'localhost' reason '.*NOT trusted"
	ok "the agent logs why, with the peer address" \
		grep -q "handshake with 127.0.0.1:9502 failed: .*" agent.log
fi

# --- trust: EKU, CRL, OCSP -------------------------------------------------------
# (the agent's own checks: full passes only)
if full_pass; then
	got=$(curl -sS --max-time 60 --cacert ca.pem --cert other.pem --key other.key \
		-o /dev/null -w '%{http_code}' https://localhost:9444/head/1024 2>>curl.err)
	is "client_cert = required: a certificate for TLS servers only (EKU) is refused" "$got" 000
	like "with EKEYREJECTED" "$(last_result)" "status 129 "
	got=$(curl -sS --max-time 60 --cacert ca.pem --cert other.pem --key other.key \
		-o /dev/null -w '%{http_code}' https://localhost:8445/head/1024 2>>curl.err)
	is "client_cert = optional: the same certificate is refused too" "$got" 000
	got=$(curl -sS --max-time 60 --cacert ca.pem --cert revoked.pem --key revoked.key \
		-o /dev/null -w '%{http_code}' https://localhost:9444/head/1024 2>>curl.err)
	is "a client certificate the CRL revokes is refused" "$got" 000
	like "with EKEYREVOKED" "$(last_result)" "status 128 "
	serve_gnutls 9505 clientonly
	serve_gnutls 9506 revoked-srv
	for p in 9505 9506; do
		wait_until 10 sh -c "ss -Hltn 'sport = :$p' | grep -q ." || echo "# nothing listens on $p"
	done
	out=$(timeout 60 "$client" 127.0.0.1 9505 localhost client 2>&1 | tr '\n' ' ')
	like "client role: a server certificate for TLS clients only (EKU) is refused" "$out" \
		"status 129 "
	ok "the agent logs the purpose mismatch" grep -q "handshake with 127.0.0.1:9505 failed: .*purpose" \
		agent.log
	out=$(timeout 60 "$client" 127.0.0.1 9506 localhost client 2>&1 | tr '\n' ' ')
	like "client role: a server certificate the CRL revokes is refused (EKEYREVOKED)" "$out" \
		"status 128 "
	for v in 1_3 1_2; do
		out=$(timeout 30 openssl s_client -status -tls$v -connect 127.0.0.1:8443 \
			-servername localhost </dev/null 2>&1)
		like "TLS ${v%_*}.${v#*_}: the OCSP response is stapled (openssl s_client -status)" \
			"$out" "OCSP Response Status: successful"
		like "TLS ${v%_*}.${v#*_}: and says good" "$out" "Cert Status: good"
	done
	make_crl "$dir" crl.pem revoked revoked-srv client
	kill -HUP "$agent_pid"
	wait_until 20 sh -c '[ "$(grep -c "configuration reloaded" agent.log)" -ge 1 ]'
	got=$(curl -sS --max-time 60 --cacert ca.pem --cert client.pem --key client.key \
		-o /dev/null -w '%{http_code}' https://localhost:9444/head/1024 2>>curl.err)
	is "SIGHUP rereads the CRL: the client certificate it now revokes is refused" "$got" 000
	make_crl "$dir" crl.pem revoked revoked-srv
	kill -HUP "$agent_pid"
	wait_until 20 sh -c '[ "$(grep -c "configuration reloaded" agent.log)" -ge 2 ]'
	got=$(curl -sS --max-time 60 --cacert ca.pem --cert client.pem --key client.key \
		-o /dev/null -w '%{http_code}' https://localhost:9444/head/1024 2>>curl.err)
	is "and, revoked no more after the next SIGHUP, accepted again" "$got" 200
fi

# --- access control -----------------------------------------------------------
# Servers run as another user: uid 65534 (nobody) or 4242, group nogroup.
: >results-other.log
chmod 666 results-other.log
other_server() {	# other_server UID PORT [PATH [PROFILE]]
	HANDOFF_PATH=${3:-module} HANDOFF_PROFILE=${4:-} start other-$2 \
		setpriv --reuid "$1" --regid 65534 --clear-groups \
		"$server" "$2" http big.bin results-other.log
	wait_for_line other-$2.out ready || echo "# the server on $2 did not start"
}
code() {	# code PORT: the HTTP status curl got (000: none)
	curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
		"https://localhost:$1/head/1024" 2>>curl.err
}
other_server 65534 8460
other_server 65534 9460 socket
other_server 65534 8461 module for-nobody
other_server 65534 9461 socket for-nobody
other_server 4242 8464 module for-nogroup
other_server 65534 8465 module no-such-profile
is "nobody, module path, profile default: no TLS" "$(code 8460)" 000
like "the requester gets EACCES" "$(tail -n 1 results-other.log)" "status 13 "
ok "the agent logs the refusal with the requester" wait_for_line agent.log \
	"refused, server role, peer 127.0.0.1:[0-9]*: profile 'default' does not allow uid 65534 gid 65534"
like "naming its pid and command" "$(grep 'refused, server role' agent.log | tail -n 1)" \
	"from pid [0-9]+ \(handoff_server\) uid 65534 gid 65534 refused"
is "nobody, agent socket, profile default: no TLS" "$(code 9460)" 000
like "the requester gets EACCES" "$(tail -n 1 results-other.log)" "status 13 .*path socket"
ok "the agent logs that refusal too" wait_for_line agent.log \
	"uid 65534 gid 65534 via the agent socket refused"
is "nobody asking for a profile that does not exist: no TLS" "$(code 8465)" 000
like "and EACCES, as for one that exists: no oracle of profile names" \
	"$(tail -n 1 results-other.log)" "status 13 "
# A flood of refusals does not flood the log: each worker logs 20, then
# one every 2 s, which says how many it left out.
# (linger_requester: 200 loopback sockets submitted at once over the
# agent's socket; linger 0, so nothing waits on their close)
before=$(grep -c 'refused, server role' agent.log)
t0=$(date +%s)
setpriv --reuid 65534 --regid 65534 --clear-groups \
	"$KTLS_BUILD/tests/linger_requester" socket 200 0 default 0 >flood.out 2>&1
t1=$(date +%s)
logged=$(( $(grep -c 'refused, server role' agent.log) - before ))
bound=$(( 2 * (20 + (t1 - t0) / 2 + 1) ))
like "uid 65534 floods the agent's socket with 200 requests" "$(grep -c 'status 13 ' flood.out)" "^200$"
ok "refused in $((t1 - t0)) s with $logged log lines, at most $bound" \
	test "$logged" -ge 10 -a "$logged" -le "$bound" -a "$logged" -lt 200
# The worker that left lines out says so with its next line, once its
# budget has refilled; a new connection may reach either worker.
for i in $(seq 20); do
	sleep 2.5
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$KTLS_BUILD/tests/linger_requester" socket 1 0 default 0 >/dev/null 2>&1
	grep -q "refused, server role.*(and [0-9]* more like it not logged)" agent.log && break
done
ok "the next line after a pause counts those left out" grep -q \
	"refused, server role.*(and [0-9]* more like it not logged)" agent.log
# Ports (allow_local_ports) are vouched for in the agent's own network
# namespace only: uid 65534 in a namespace of its own (unshare -Urn, where
# it may bind any port), on the socket path, is refused with EXDEV.
: >results-netns.log
chmod 666 results-netns.log
mkdir -m 777 ns
setpriv --reuid 65534 --regid 65534 --clear-groups unshare -Urn sh -c "
	ip link set lo up
	HANDOFF_PATH=socket HANDOFF_PROFILE=for-nobody '$server' 9467 http big.bin \
		'$dir/results-netns.log' >'$dir/ns/srv.out' 2>&1 &
	i=0
	while ! grep -q ready '$dir/ns/srv.out' && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i+1)); done
	curl -s --max-time 60 -k -o /dev/null https://127.0.0.1:9467/head/16
	kill \$!" >netns.out 2>&1
like "a socket of another network namespace is refused on the socket path: EXDEV" \
	"$(tail -n 1 results-netns.log)" "status 18 "
is "allow_users = nobody admits it on the module path" "$(code 8461)" 200
is "and on the socket path" "$(code 9461)" 200
is "allow_groups = nogroup admits uid 4242 with group nogroup" "$(code 8464)" 200
like "over kernel TLS" "$(tail -n 1 results-other.log)" "status 0 version 0x30"
HANDOFF_PROFILE=ports start ports-8462 "$server" 8462 http big.bin results.log
HANDOFF_PROFILE=ports start ports-8463 "$server" 8463 http big.bin results.log
wait_for_line ports-8462.out ready && wait_for_line ports-8463.out ready
is "allow_local_ports = 8462: a socket on port 8463 is refused, even for root" \
	"$(code 8463)" 000
like "with EACCES" "$(last_result)" "status 13 "
ok "the log says why" grep -q "profile 'ports' may not serve local port 8463" agent.log
is "a socket on port 8462 is served" "$(code 8462)" 200
out=$(timeout 60 "$client" 127.0.0.1 9500 localhost default 2>&1 | tr '\n' ' ')
like "the client role with a profile that does not enable it: EACCES" "$out" "status 13 "
ok "logged as such" grep -q "profile 'default' is not enabled for the client role" agent.log
out=$(HANDOFF_PATH=socket timeout 60 "$client" 127.0.0.1 9500 localhost default 2>&1 | tr '\n' ' ')
like "the same on the socket path" "$out" "status 13 "
# Listener mode (the preload library attaching in the module): the
# requester is the server that attached its listener, here python3 as
# nobody with CAP_NET_ADMIN, not a kernel thread
echo "for the listener" >pub.txt
chmod 644 pub.txt
# (the ASan build's library needs the ASan runtime loaded before it)
preload=$KTLS_BUILD/lib/libktls-preload.so
asan_rt=$(ldd "$preload" | awk '$1 ~ /^libasan/ { print $3 }')
listener_as_nobody() {	# PORT PROFILE
	KTLS_PRELOAD_PORTS=$1 KTLS_PRELOAD_PATH=module KTLS_PRELOAD_PROFILE=$2 \
		LD_PRELOAD="${asan_rt:+$asan_rt }$preload" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" start py-$1 \
		setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps +net_admin \
		--ambient-caps +net_admin python3 -u -m http.server "$1" --bind 127.0.0.1
	wait_until 10 sh -c "ss -Hltn 'sport = :$1' | grep -q ." || echo "# py-$1 did not listen"
}
listener_as_nobody 8470 default
listener_as_nobody 8471 for-nobody
got=$(curl -sS --max-time 60 --cacert ca.pem https://localhost:8470/pub.txt 2>>curl.err)
is "a listener attached by nobody, profile default: no TLS" "$got" ""
ok "refused as nobody's request, naming python3" wait_for_line agent.log \
	"(python3) uid 65534 gid 65534 refused, server role"
got=$(curl -sS --max-time 60 --cacert ca.pem https://localhost:8471/pub.txt 2>>curl.err)
is "a listener attached by nobody, profile for-nobody: served" "$got" "for the listener"
out=$(timeout 60 "$client" 127.0.0.1 9500 localhost \
	"$(printf 'bad\nname')" 2>&1 | tr '\n' ' ')
like "a profile name with a newline: ENOENT" "$out" "status 2 "
ok "escaped in the log" grep -q "no profile 'bad\\\\x0aname'" agent.log

# --- SIGHUP -----------------------------------------------------------------
# (the agent's own reloads: full passes only)
if full_pass; then
	timeout 60 curl -sS --cacert ca.pem -o /dev/null https://localhost:8446/head/1024 2>/dev/null
	like "before the reload, profile 'late' does not exist: ENOENT" "$(last_result)" "status 2 "
	timeout 60 "$flight" 8443 ca.pem 1.3 3 >inflight.out 2>&1 &
	inflight=$!
	sleep 1
	write_conf agent.conf "
	[profile late]
	cert = $dir/server.pem
	key = $dir/server.key"
	kill -HUP "$agent_pid"
	ok "SIGHUP: the agent reloads" \
		wait_until 20 sh -c '[ "$(grep -c "configuration reloaded" agent.log)" -ge 3 ]'
	got=$(curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
		https://localhost:8446/head/1024 2>>curl.err)
	is "the new profile serves" "$got" 200
	wait $inflight
	ok "a handshake in flight across the reload completes" grep -q "body 8388608 of 8388608" inflight.out
	# (three reloads so far, none changing a [global] key)
	ok "reloads that change no [global] key warn of none" sh -c '! grep "takes a restart" agent.log'
	printf '[global]\nworkers = many\n' >agent.conf
	kill -HUP "$agent_pid"
	ok "a broken configuration on SIGHUP is refused, the old one kept" \
		wait_for_line agent.log "reload failed, keeping the old configuration: agent.conf:2: workers"
	got=$(curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
		https://localhost:8443/head/1024 2>>curl.err)
	is "and it still serves" "$got" 200
	write_conf agent.conf
	sed -i 's/^workers = 2/workers = 3/; s/^log_level = debug/log_level = notice/' agent.conf
	kill -HUP "$agent_pid"
	ok "SIGHUP with a new workers: the log says it takes a restart" \
		wait_for_line agent.log "\[global\] workers changed: this takes a restart"
	n0=$(grep -c "from 127.0.0.1:[0-9]*: TLS 1" agent.log)
	got=$(curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
		https://localhost:8443/head/1024 2>>curl.err)
	is "a new log_level applies at once: no debug line for the next handshake" \
		"$got $(grep -c "from 127.0.0.1:[0-9]*: TLS 1" agent.log)" "200 $n0"
	write_conf agent.conf
fi

# --- one socket, one agent ------------------------------------------------
"$agent" -c agent.conf 2>second.log
like "a second agent on the same socket refuses to start" "$(cat second.log)" \
	"another agent is listening there"
kill -TERM "$agent_pid"
wait "$agent_pid"
ok "SIGTERM removes the socket" test ! -e run/agent.sock
is "the socket's directory is root's, mode 0755" "$(stat -c '%U %a' run)" "root 755"
mkdir -m 1777 pub
sed "s|^socket = .*|socket = $dir/pub/agent.sock|" agent.conf >pub.conf
out=$(timeout 20 "$agent" -c pub.conf 2>&1)
like "as root, the agent refuses a socket directory others can write to" "$out" \
	"the directory $dir/pub of the agent's socket must belong to root and be writable by root only"

# --- privilege drop -----------------------------------------------------------
rm -rf run	# the agent creates it, root's
# (the agent's own user may not be a requester: for-nobody's allow_users goes)
sed -i "s|^log_level = debug|log_level = debug\nuser = nobody|; /^allow_users = nobody$/d" agent.conf
"$agent" -c agent.conf 2>agent-nobody.log &
agent_pid=$!
ok "user = nobody: the agent starts" wait_for_line agent-nobody.log "ready:"
like "it runs as nobody" "$(grep '^Uid:' /proc/$agent_pid/status)" "Uid:.65534.65534.65534.65534"
like "keeping only CAP_NET_ADMIN, also in its bounding set" \
	"$(grep -E '^Cap(Eff|Prm|Bnd)' /proc/$agent_pid/status | tr '\n' ' ')" \
	"CapPrm:.0000000000001000 CapEff:.0000000000001000 CapBnd:.0000000000001000"
like "with no new privileges" "$(grep '^NoNewPrivs' /proc/$agent_pid/status)" "NoNewPrivs:.1"
like "no core files (RLIMIT_CORE 0)" "$(grep '^Max core file size' /proc/$agent_pid/limits)" \
	"Max core file size +0 +0 "
is "and not dumpable: its /proc files are root's" "$(stat -c %u /proc/$agent_pid/status)" 0
ok "it logs whether its memory is locked" grep -q "memory not locked: RLIMIT_MEMLOCK\|memory locked" \
	agent-nobody.log
got=$(curl -sS --max-time 60 --cacert ca.pem https://localhost:8443/big.bin 2>>curl.err |
	sha256sum | cut -d' ' -f1)
is "as nobody, the module path serves" "$got" "$big_sha"
got=$(curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
	https://localhost:9443/head/1024 2>>curl.err)
is "as nobody, the socket path serves" "$got" 200
is "the socket belongs to nobody" "$(stat -c '%U %a' run/agent.sock)" "nobody 660"
# (make_pki's files are all 0600: the certificates, CAs, CRL and OCSP
# response go to nobody too)
chown nobody ./*.key ./*.pem ./*.ocsp
kill -HUP "$agent_pid"
ok "as nobody, SIGHUP rereads keys that belong to nobody" \
	wait_for_line agent-nobody.log "configuration reloaded"
grep "reload failed" agent-nobody.log | sed 's/^/# /'
chown root ./*.key ./*.pem ./*.ocsp
kill -TERM "$agent_pid"
wait "$agent_pid"
sed "s|^user = nobody|user = root|" agent.conf >root.conf
out=$(timeout 20 "$agent" -c root.conf 2>&1)
like "user = root is refused" "$out" "user = root is root: name the agent's own unprivileged user"
ok "as nobody, the agent cannot remove its socket from root's directory, and says so" \
	grep -q "cannot remove $dir/run/agent.sock: Permission denied (the next start replaces it)" \
	agent-nobody.log

# --- no module ----------------------------------------------------------------
kill $pids 2>/dev/null
wait $pids 2>/dev/null
pids=""
# AUTO with the module loaded but no agent registered with it: the socket
sed 's|^log_level = debug|log_level = debug\nmodule = no|' agent.conf >nomodule.conf
"$agent" -c nomodule.conf 2>agent-nomodule.log &
agent_pid=$!
ok "module = no: the agent serves the socket alone, the module loaded" \
	wait_for_line agent-nomodule.log "handoffs from $dir/run/agent.sock"
HANDOFF_PATH=auto start auto-noagent "$server" 8448 http big.bin results.log http/1.1
wait_for_line auto-noagent.out ready
got=$(curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
	https://localhost:8448/head/1024 2>>curl.err)
is "libktls AUTO, the module loaded but without an agent: served" "$got" 200
like "through the agent's socket" "$(last_result)" "status 0 .*path socket"
kill "$agent_pid" $pids 2>/dev/null
wait "$agent_pid" $pids 2>/dev/null
pids=""
rmmod ktls_offload
"$agent" -c agent.conf 2>agent-nomod.log &
agent_pid=$!
ok "without the module the agent serves the socket alone" \
	wait_for_line agent-nomod.log "handoffs from $dir/run/agent.sock"
HANDOFF_PATH=auto start auto-http "$server" 8447 http big.bin results.log http/1.1
wait_for_line auto-http.out ready
got=$(curl -sS --max-time 120 --cacert ca.pem https://localhost:8447/big.bin 2>>curl.err |
	sha256sum | cut -d' ' -f1)
is "libktls falls back to the socket: curl GET 8 MiB intact" "$got" "$big_sha"
like "the handoff took the socket" "$(last_result)" "status 0 .*path socket"
kill -KILL "$agent_pid"
wait "$agent_pid" 2>/dev/null
"$agent" -c agent.conf 2>agent-restart.log &
agent_pid=$!
ok "after SIGKILL, a new agent replaces the stale socket" \
	wait_for_line agent-restart.log "ready:"
got=$(curl -sS --max-time 60 --cacert ca.pem -o /dev/null -w '%{http_code}' \
	https://localhost:8447/head/1024 2>>curl.err)
is "and serves" "$got" 200
sed -i 's|^socket = .*|socket =|' agent.conf
out=$("$agent" -c agent.conf 2>&1 | tr '\n' ' ')
like "no module and no socket: a clear refusal" "$out" \
	"the ktls_offload module is not loaded, no socket is configured and no profile serves the handshake upcall"
plan $_tap_n
