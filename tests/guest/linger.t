#!/bin/sh
# guest-timeout: 900
# A requester that no profile allows cannot stall the agent or the
# kernel's workers with SO_LINGER: uid 65534 submits sockets whose send
# queue is full toward a peer that never reads, with SO_LINGER {1, 600},
# and closes its descriptor, on the module path and on the agent's socket
# path.  Whoever drops the last reference to such a socket would sleep in
# close() for ten minutes (the agent's worker, or the kernel worker that
# runs the module's hand-back).  Root's server must still be served at
# once, no agent thread and no kernel worker may sit in the linger wait,
# and the agent must have refused them all.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
agent=$KTLS_BUILD/bin/ktls-agent
server=$KTLS_BUILD/tests/handoff_server
requester=$KTLS_BUILD/tests/linger_requester
dir=/tmp/linger
S=${KTLS_TIME_SCALE:-1}
export KTLS_AGENT_SOCKET=$dir/run/agent.sock
rm -rf "$dir"
mkdir -p "$dir"
chmod 755 "$dir"
cd "$dir" || exit 1
make_pki "$dir"
head -c 4096 /dev/urandom >small.bin
cat >agent.conf <<EOF
[global]
workers = 2
socket = $dir/run/agent.sock
socket_group = nogroup
log_level = info

[profile default]
cert = $dir/server.pem
key = $dir/server.key
EOF

pids=""
cleanup() {
	mkdir -p "$KTLS_OUT/linger-logs"
	cp ./*.log ./*.out "$KTLS_OUT/linger-logs/" 2>/dev/null
	kill $pids "$agent_pid" 2>/dev/null
	wait 2>/dev/null
	grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
}
trap cleanup EXIT
code() {	# code PORT: the HTTP status curl got within 20 s (000: none)
	curl -sS --max-time $((20 * S)) --cacert ca.pem -o /dev/null -w '%{http_code}' \
		"https://localhost:$1/head/16" 2>>curl.err
}
# tasks sleeping in a TCP close that waits for its send queue (lingering)
lingering() {
	for t in /proc/[0-9]*/task/[0-9]*; do
		w=$(cat "$t/wchan" 2>/dev/null)
		case $w in sk_stream_wait_close|wait_woken)
			grep -q 'sk_stream_wait_close\|tcp_close' "$t/stack" 2>/dev/null &&
				echo "$(cat "$t/comm" 2>/dev/null) $w"
		esac
	done
}

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
agent_pid=$!
ok "the agent serves the module and the UNIX socket" \
	wait_for_line agent.log "handoffs from the module and $dir/run/agent.sock" $((30 * S))
"$server" 8443 http small.bin results.log >mod.out 2>&1 &
pids="$pids $!"
HANDOFF_PATH=socket "$server" 9443 http small.bin results.log >sock.out 2>&1 &
pids="$pids $!"
wait_for_line mod.out ready $((20 * S)) && wait_for_line sock.out ready $((20 * S))
is "before: root's server is served on the module path" "$(code 8443)" 200

for path in module socket; do
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$requester" "$path" 6 600 default 900 >req-$path.out 2>&1 &
	pids="$pids $!"
	ok "uid 65534 submitted 6 lingering sockets ($path path)" \
		wait_for_line req-$path.out "^collected 6" $((60 * S))
	like "each refused with EACCES" "$(grep -c 'status 13 ' req-$path.out)" "^6$"
	sleep 2
	is "root's server is still served on the module path" "$(code 8443)" 200
	is "and on the socket path" "$(code 9443)" 200
	stuck=$(lingering)
	is "no task waits in a lingering close ($path path)" "$stuck" ""
done
ok "the agent logged the refusals" grep -q "uid 65534 gid 65534 refused" agent.log
plan $_tap_n
