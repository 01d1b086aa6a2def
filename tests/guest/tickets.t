#!/bin/sh
# guest-timeout: 600
# guest-kernels: 6.12
# Session tickets across agents and key rotation, with openssl s_client
# saving and reusing its session: how many a TLS 1.3 handshake brings (two
# after a full one, one after a resumption); two agents reading the same
# ticket_key_file resume each other's tickets (TLS 1.3 and 1.2); a new key
# written in front of the old one and a reload keep old tickets valid; a
# reload with the file unchanged keeps them; once the old key is gone
# they get a full handshake.  Tickets are bound to their profile and its
# authentication settings: another profile reading the same file does not
# resume them, nor does a profile requiring client certificates after a
# reload whose CRL revokes the client that got the ticket (a reload with
# the CRL unchanged keeps them).  Over the agents' UNIX sockets (two agents
# cannot share the module's requests predictably).  On 6.12 only: tickets
# are the agent's own, in userspace; resumption into kernel TLS is
# agent.t's, on every kernel.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
agent=$KTLS_BUILD/bin/ktls-agent
server=$KTLS_BUILD/tests/handoff_server
scale=${KTLS_TIME_SCALE:-1}
dir=/tmp/tickets-test
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir" || exit 1
make_pki "$dir"
make_cert "$dir" client "test client" client
make_crl "$dir" crl.pem
head -c 4096 /dev/urandom >page.bin
(umask 077; head -c 64 /dev/urandom >k1; head -c 64 /dev/urandom >k2; cp k1 ticket.key)

conf() {	# conf NAME
	cat >"$1.conf" <<EOC
[global]
workers = 1
module = no
socket = $dir/$1.sock
log_level = debug

[profile default]
cert = $dir/server.pem
key = $dir/server.key
ticket_key_file = $dir/ticket.key

[profile other]
cert = $dir/server.pem
key = $dir/server.key
ticket_key_file = $dir/ticket.key

[profile mtls]
cert = $dir/server.pem
key = $dir/server.key
ca = $dir/ca.pem
crl = $dir/crl.pem
client_cert = required
ticket_key_file = $dir/ticket.key
EOC
}
conf a
conf b
pids=""
cleanup() {
	mkdir -p "$KTLS_OUT/tickets-logs"
	cp ./*.log ./*.out ./*.conf "$KTLS_OUT/tickets-logs/" 2>/dev/null
	kill $pids 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
"$agent" -c a.conf 2>a.log &
a_pid=$!
"$agent" -c b.conf 2>b.log &
pids="$a_pid $!"
HANDOFF_PATH=socket KTLS_AGENT_SOCKET=$dir/a.sock "$server" 8501 http page.bin results.log \
	>srv-a.out 2>&1 &
pids="$pids $!"
HANDOFF_PATH=socket KTLS_AGENT_SOCKET=$dir/b.sock "$server" 8502 http page.bin results.log \
	>srv-b.out 2>&1 &
pids="$pids $!"
HANDOFF_PATH=socket HANDOFF_PROFILE=other KTLS_AGENT_SOCKET=$dir/a.sock "$server" 8503 http \
	page.bin results.log >srv-other.out 2>&1 &
pids="$pids $!"
HANDOFF_PATH=socket HANDOFF_PROFILE=mtls KTLS_AGENT_SOCKET=$dir/a.sock "$server" 8504 http \
	page.bin results-mtls.log >srv-mtls.out 2>&1 &
pids="$pids $!"
ok "two agents start" sh -c ". $KTLS_SRC/tests/lib/pki.sh; wait_for_line a.log ready: &&
	wait_for_line b.log ready: && wait_for_line srv-a.out ready && wait_for_line srv-b.out ready &&
	wait_for_line srv-other.out ready && wait_for_line srv-mtls.out ready"

# get PORT VERSION SESSION-OPTIONS...: a GET; prints "Reused" or "New"
get() {
	_p=$1 _v=$2
	shift 2
	printf 'GET /head/100 HTTP/1.0\r\n\r\n' |
		timeout $((60 * scale)) openssl s_client -connect "127.0.0.1:$_p" -servername localhost \
		-CAfile ca.pem -"$_v" -ign_eof "$@" 2>>openssl.err |
		sed -n 's/^\(Reused\|New\),.*/\1/p' | head -n 1
}
for v in tls1_3 tls1_2; do
	rm -f "sess-$v"
	is "$v: a full handshake with agent a" "$(get 8501 $v -sess_out sess-$v)" New
	is "$v: agent b, same ticket_key_file, resumes agent a's ticket" \
		"$(get 8502 $v -sess_in sess-$v)" Reused
done
cp sess-tls1_3 old-ticket

# how many: two tickets after a full handshake (for a second connection
# opened before this one ends), one after a resumption (to replace the
# ticket it used), as OpenSSL's servers send; GnuTLS alone sends two
nst() {
	_p=$1
	shift
	printf 'GET /head/100 HTTP/1.0\r\n\r\n' |
		timeout $((60 * scale)) openssl s_client -connect "127.0.0.1:$_p" -servername localhost \
		-CAfile ca.pem -tls1_3 -ign_eof -msg "$@" 2>>openssl.err |
		grep -c "^<<< .*NewSessionTicket"
}
rm -f count-sess
is "TLS 1.3: two tickets after a full handshake" "$(nst 8501 -sess_out count-sess)" 2
is "one after a resumption" "$(nst 8501 -sess_in count-sess)" 1

# rotation: the new key in front, the old one still accepted
cat k2 k1 >ticket.key
kill -HUP "$a_pid"
ok "agent a reloads" wait_for_line a.log "configuration reloaded"
is "after the new key went in front, a ticket under the old key resumes" \
	"$(get 8501 tls1_3 -sess_in old-ticket)" Reused
rm -f fresh
is "a full handshake now" "$(get 8501 tls1_3 -sess_out fresh)" New
cp k2 ticket.key
kill -HUP "$a_pid"
wait_until 20 sh -c '[ "$(grep -c "configuration reloaded" a.log)" -ge 2 ]'
is "a ticket under the new key resumes once the old key is gone" \
	"$(get 8501 tls1_3 -sess_in fresh)" Reused
is "a ticket under the old key does not" "$(get 8501 tls1_3 -sess_in old-ticket)" New
kill -HUP "$a_pid"
wait_until 20 sh -c '[ "$(grep -c "configuration reloaded" a.log)" -ge 3 ]'
is "a reload with the file unchanged keeps the tickets" \
	"$(get 8501 tls1_3 -sess_in fresh)" Reused

# another profile reading the same file
for v in tls1_3 tls1_2; do
	rm -f "other-$v"
	is "$v: a full handshake with profile default" "$(get 8501 $v -sess_out other-$v)" New
	is "$v: profile other, same ticket_key_file, does not resume its ticket" \
		"$(get 8503 $v -sess_in other-$v)" New
done

# client certificates: a reload whose CRL revokes the client voids its tickets
mtls="-cert client.pem -key client.key"
for v in tls1_3 tls1_2; do
	rm -f "mtls-$v"
	is "$v: client_cert = required, a full handshake with a client certificate" \
		"$(get 8504 $v $mtls -sess_out mtls-$v)" New
	is "$v: its ticket resumes" "$(get 8504 $v $mtls -sess_in mtls-$v)" Reused
done
kill -HUP "$a_pid"
wait_until $((20 * scale)) sh -c '[ "$(grep -c "configuration reloaded" a.log)" -ge 4 ]'
for v in tls1_3 tls1_2; do
	is "$v: a reload with the CRL unchanged keeps the tickets" \
		"$(get 8504 $v $mtls -sess_in mtls-$v)" Reused
done
ok "(no handshake on profile mtls failed yet)" sh -c "! grep -q 'status [1-9]' results-mtls.log"
make_crl "$dir" crl.pem client
kill -HUP "$a_pid"
wait_until $((20 * scale)) sh -c '[ "$(grep -c "configuration reloaded" a.log)" -ge 5 ]'
for v in tls1_3 tls1_2; do
	n=$(wc -l <results-mtls.log)
	unlike "$v: after a reload with a CRL revoking the client, its ticket does not resume" \
		"$(get 8504 $v $mtls -sess_in mtls-$v)" Reused
	ok "$v: the full handshake refuses the revoked certificate" wait_until $((20 * scale)) \
		sh -c "tail -n +$((n + 1)) results-mtls.log | grep -q 'status [1-9]'"
done
ok "no handoff failed" sh -c "! grep -q 'status [1-9]' results.log"
plan $_tap_n
