#!/bin/bash
# libktls-preload.so with unmodified servers started fresh under
# LD_PRELOAD: python3 -m http.server, lighttpd, and nginx (2 workers,
# sendfile on).  First with the module loaded (the library attaches the
# listener at listen()), then with the module unloaded (the library runs
# the handshakes through the agent's UNIX socket itself).  Each way every
# server serves HTTPS to curl (verified against the test CA), a 64 MiB
# file byte-exact, with the kernel's TLS counters moving; 20 stalled
# handshakes do not hold up its event loop; a plain-HTTP client is turned
# away.  Ports not named stay plain.  Fail closed: a bad port list, or a
# server without CAP_NET_ADMIN with KTLS_PRELOAD_PATH=module, gets a
# failed listen() and serves nothing, plaintext least of all.  A server
# that inherits its listener (socket activation) and only calls accept()
# serves it with TLS, with and without the module, and no plain HTTP.
# A peer that closes, damages a record, sends a bad alert, a KeyUpdate or
# a renegotiation gets the alert the RFCs name from the library on nginx's
# behalf (conform_client), each way; where kernel TLS rekeys, a KeyUpdate
# through the module is followed and nginx goes on.
# Without the module, a master that listens as root and a worker that
# accepts as nobody (nginx's model) serve every connection.
# guest-timeout: 900
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
. "$KTLS_SRC/tests/lib/servers.sh"
ctl=$KTLS_BUILD/bin/ktlsctl
preload=$KTLS_BUILD/lib/libktls-preload.so
pre=(LD_PRELOAD="$preload")
scale=${KTLS_TIME_SCALE:-1}
inherited=$KTLS_SRC/tests/lib/inherited.py
client=$KTLS_BUILD/tests/conform_client
# The ASan build's library (run-guest -b build/asan) needs the ASan runtime
# loaded before it.  Leaks at exit would be the servers' own: not checked.
asan_rt=$(ldd "$preload" | awk '$1 ~ /^libasan/ { print $3 }')
[ -z "$asan_rt" ] || pre=(LD_PRELOAD="$asan_rt $preload" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0")
serve_setup preload
printf 'plain text\n' >www/a.txt
big_mib=${KTLS_BIG_MIB:-64}
head -c $((big_mib << 20)) /dev/urandom >www/big.bin
big_sha=$(sha256sum <www/big.bin | cut -d' ' -f1)
agent_conf 30000 'alpn = http/1.1'

plan 71

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf >/dev/null 2>agent.log &
agent_pid=$!
wait_for_line agent.log "ready:" 20 || echo "# the agent did not start"

# check NAME PORT HOW: the common checks on a server started with the
# library for PORT (6 checks, the 4th given by the caller as check_extra)
check() {
	local name=$1 port=$2 how=$3 tx0 rx0
	ok "$name serves HTTPS $how, verified by curl" https_ok "$port"
	tx0=$(tls_stat TlsTxSw); rx0=$(tls_stat TlsRxSw)
	ok "$name sends a $big_mib MiB file byte-exact ($how)" big_ok "$port"
	ok "the kernel's TLS counters show $name's connection in kTLS ($how)" \
		test "$(tls_stat TlsTxSw)" -gt "$tx0" -a "$(tls_stat TlsRxSw)" -gt "$rx0"
	check_extra "$name" "$port"
	stall "$port" 20
	ok "$name serves others while 20 handshakes stall ($how)" https_ok "$port"
	unstall
	fails "a plain-HTTP client gets no answer from $name ($how)" \
		curl -sS --max-time 20 "http://127.0.0.1:$port/a.txt"
}

servers() {	# BASE-PORT HOW: the three servers on BASE, BASE+1, BASE+2
	local base=$1 how=$2 pid
	run_env=("${pre[@]}" KTLS_PRELOAD_PORTS="$base,$((base + 1)),$((base + 2))"
		 KTLS_AGENT_SOCKET="$dir/agent.sock")
	start_python "$base"
	pid=$server_pid
	check "python3 http.server" "$base" "$how"
	stop_server "$pid" "$base"
	start_lighttpd $((base + 1))
	pid=$server_pid
	check lighttpd $((base + 1)) "$how"
	stop_server "$pid" $((base + 1))
	start_nginx $((base + 2))
	pid=$server_pid
	check "nginx (2 workers)" $((base + 2)) "$how"
	conform nginx $((base + 2)) "$how"
	stop_server "$pid" $((base + 2))
}

# conform NAME PORT HOW: a peer that misbehaves after the handshake gets
# from the library, on the server's behalf, the alert the RFCs name (as
# conform.t checks for ktls-serve), and the server goes on (10 checks); a
# handshake message cut after its first byte is refused at once (nginx's
# event loop does not wait for the rest)
conform() {
	local c ku="1.3 key-update"
	# where kernel TLS rekeys, the module follows a KeyUpdate of a
	# connection it handed back, and the server goes on (conform.t)
	[ "$3" = "with the module" ] && grep -q '^TlsRxRekeyOk' /proc/net/tls_stat &&
		ku="1.3 key-update-works"
	for c in "1.3 close-notify-answered" "1.3 bad-tag" "1.2 bad-tag" "1.3 alert-short" \
		"$ku" "1.2 renegotiate" "1.3 handshake-split" "1.3 new-session-ticket" \
		"1.2 control-flood"; do
		ok "$1 ($3), TLS ${c% *} ${c#* }: answered as RFC 8446/5246 say" \
			conform_one "$2" "${c% *}" "${c#* }"
	done
	ok "and $1 serves HTTPS after them ($3)" conform_one "$2" https
}
# conform_one PORT VERSION CASE, or PORT https: one check of conform(); if
# it fails, what the server, its library and the agent said last
conform_one() {
	if [ "$2" = https ]; then
		https_ok "$1" && return 0
		tail -n 2 curl.err
	else
		"$client" "$1" ca.pem "$2" AES-128-GCM "$3" && return 0
	fi
	echo "-- the server's error log, its stderr, the agent's log, the port's sockets:"
	tail -n 5 "nginx-$1.log" 2>/dev/null
	tail -n 5 nginx.err agent.log 2>/dev/null
	ss -tanp "( sport = :$1 )" | head -n 12
	for w in $(pgrep -P "$server_pid"); do
		echo "nginx worker $w: $(nfds "$w") descriptors, limit $(prlimit --pid "$w" --nofile --output SOFT --noheadings)"
	done
	return 1
}

# --- with the module: listener mode, attached at listen() -----------------
check_extra() {
	like "the library attached $1's listener in the module" "$("$ctl" status 2>&1)" \
		"^  [0-9]+: 127\\.0\\.0\\.1:$2 pid $server_pid "
}
servers 9080 "with the module"

# inherited PORT HOW: a parent listens on PORT without the library, the
# server under it only calls accept() (2 checks)
inherited() {
	python3 "$inherited" listen "$1" env "${pre[@]}" KTLS_PRELOAD_PORTS="$1" \
		KTLS_AGENT_SOCKET="$dir/agent.sock" python3 -u "$inherited" serve \
		>>"inherited-$1.log" 2>&1 &
	local pid=$!
	pids="$pids $pid"
	wait_for_line "inherited-$1.log" accepting 20 || echo "# the server on $1 did not start"
	ok "an inherited listener (accept() only) serves HTTPS $2" https_ok "$1"
	fails "and no plain HTTP ($2)" curl -sS --max-time 20 "http://127.0.0.1:$1/a.txt"
	kill "$pid"
	wait_closed "$1"
}
inherited 9085 "with the module"

# A server that forks a child per connection and closes its copy at once
# (socketserver.ForkingMixIn): the parent's close() must not end the
# child's stream with a close_notify; the child's own response ends with
# the connection (2 checks)
cat >forking.py <<'PY'
import functools, http.server, socketserver, sys
class Server(socketserver.ForkingMixIn, http.server.HTTPServer):
    pass
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="www")
Server(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
PY
env "${pre[@]}" KTLS_PRELOAD_PORTS=9087 KTLS_AGENT_SOCKET="$dir/agent.sock" \
	python3 -u forking.py 9087 >>forking.log 2>&1 &
_started $! 9087
ok "a forking server (a child per connection) serves a $big_mib MiB file byte-exact" big_ok 9087
ok "... and small files, ten times over" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(curl -sS --max-time 20 --cacert ca.pem https://localhost:9087/a.txt)" = "plain text" ] ||
	exit 1; done'
stop_server "$server_pid" 9087

# --- without the module: through the agent's UNIX socket ------------------
ok "rmmod" rmmod ktls_offload
# (20 s times KTLS_TIME_SCALE: 5 s was once too short for lighttpd under
# ASan on 6.1's one vCPU beside another guest; it returns at once when done)
fds_back() {	# PID N: the process holds N descriptors or fewer again
	for _ in $(seq $((200 * ${KTLS_TIME_SCALE:-1}))); do
		[ "$(nfds "$1")" -le "$2" ] && return 0
		sleep 0.1
	done
	echo "holds $(nfds "$1"), held $2 before: $(ls -l "/proc/$1/fd" | awk '{ print $NF }' | tr '\n' ' ')"
	return 1
}
# nfds_settled PID: its descriptor count once two readings 0.2 s apart
# agree (the connection of the check before may still be closing: a
# count taken in that moment held 2 more, and the check after, which
# wanted exactly that count back, failed with fewer)
nfds_settled() {
	local a b
	b=$(nfds "$1")
	for _ in $(seq $((50 * ${KTLS_TIME_SCALE:-1}))); do
		sleep 0.2
		a=$b
		b=$(nfds "$1")
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}
check_extra() {
	local before
	before=$(nfds_settled "$server_pid")
	"${C[@]}" -o /dev/null -o /dev/null "https://localhost:$2/a.txt" \
		"https://localhost:$2/a.txt" 2>>curl.err
	ok "$1 holds no more descriptors after serving ($2)" fds_back "$server_pid" "$before"
}
servers 9180 "without the module"
like "python3 http.server names its real port (getsockname)" "$(cat python-9180.log)" \
	"Serving HTTP on 127\\.0\\.0\\.1 port 9180 "
inherited 9185 "without the module"

# nginx's model: the master listens as root (the library's thread runs
# there), a forked worker drops to nobody and accepts
cat >master-worker.py <<'PY'
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
pid = os.fork()
if pid == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    print("worker", os.getuid(), os.getpid(), "accepting", flush=True)
    while True:
        c, _ = s.accept()
        try:
            c.recv(4096)
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nplain text\n")
        except OSError:
            pass
        c.close()
os.waitpid(pid, 0)
PY
env "${pre[@]}" KTLS_PRELOAD_PORTS=9186 KTLS_AGENT_SOCKET="$dir/agent.sock" \
	python3 -u master-worker.py 9186 >master-worker.log 2>&1 &
mw_pid=$!
pids="$pids $mw_pid"
ok "root's master listens, its worker accepts as nobody" \
	wait_for_line master-worker.log "worker 65534 [0-9]* accepting" 20
served=0
for _ in $(seq 10); do
	[ "$(curl -sS --max-time $((20 * scale)) --cacert ca.pem https://localhost:9186/a.txt \
		2>>curl.err)" = "plain text" ] && served=$((served + 1))
done
is "the worker serves all of 10 TLS clients" "$served" 10
kill "$mw_pid" $(awk '$1 == "worker" { print $3 }' master-worker.log)
wait_closed 9186

# --- what the library leaves alone ------------------------------------------
run_env=("${pre[@]}" KTLS_PRELOAD_PORTS=9999 KTLS_AGENT_SOCKET="$dir/agent.sock")
start_python 9280
ok "a port not named in KTLS_PRELOAD_PORTS stays plain HTTP" http_ok 9280
stop_server "$server_pid" 9280
run_env=("${pre[@]}" KTLS_PRELOAD_PORTS=94x KTLS_AGENT_SOCKET="$dir/agent.sock")
# (python3 exits when its listen() fails: wait for that, not for a port)
env "${run_env[@]}" python3 -u -m http.server 9281 --bind 127.0.0.1 --directory www \
	>>python-9281.log 2>&1 &
bad_pid=$!
pids="$pids $bad_pid"
wait_until $((30 * scale)) grep -q "Traceback\|Serving HTTP" python-9281.log
fails "with a bad port list the server serves nothing, no plain HTTP" http_ok 9281
like "... and the library says why" "$(cat python-9281.log)" \
	"^ktls-preload: KTLS_PRELOAD_PORTS: bad port list '94x'"
stop_server "$server_pid" 9281
# the module is loaded again here: a server without CAP_NET_ADMIN cannot
# attach its listener, and with KTLS_PRELOAD_PATH=module must not fall
# back to anything
insmod "$KTLS_MODULE" 2>/dev/null
setpriv --reuid 65534 --regid 65534 --clear-groups env "${pre[@]}" KTLS_PRELOAD_PORTS=9282 \
	KTLS_PRELOAD_PATH=module timeout 30 python3 -u -m http.server 9282 --bind 127.0.0.1 \
	--directory www >python-9282.log 2>&1
like "KTLS_PRELOAD_PATH=module, no privilege to attach: listen() fails, the server exits" \
	"$(cat python-9282.log)" \
	"port 9282: cannot attach it to the ktls_offload module: Operation not permitted; refusing"
fails "and nothing answers plain HTTP on its port" http_ok 9282
