#!/bin/bash
# libktls-preload.so on this host (no module, no kTLS): it exports only the
# calls it wraps, leaves unnamed ports alone, reports a bad port list,
# falls back from the missing module to the agent's socket and says so when
# no agent answers, and keeps the server's view of its listener: the real
# address from getsockname; with no agent, connections wait in the
# backlog.  TLS through it is tested in
# the guest (tests/guest/preload.t).
. "$KTLS_SRC/tests/lib/tap.sh"
preload=$KTLS_BUILD/lib/libktls-preload.so
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
echo hi >a.txt
plan 9

is "it exports only listen, accept, accept4 and getsockname" \
	"$(nm -D --defined-only "$preload" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')" \
	"accept accept4 getsockname listen "
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
started() {	# LOG: the server printed its address
	for _ in $(seq 50); do grep -q "Serving HTTP" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

p=$(free_port)
LD_PRELOAD=$preload KTLS_PRELOAD_PORTS=1 python3 -u -m http.server "$p" --bind 127.0.0.1 >plain.log 2>&1 &
started plain.log
is "a port not named stays a plain server" "$(curl -s --max-time 5 "http://127.0.0.1:$p/a.txt")" hi

p=$(free_port)
LD_PRELOAD=$preload KTLS_PRELOAD_PORTS=8x python3 -u -m http.server "$p" --bind 127.0.0.1 >bad.log 2>&1 &
started bad.log
is "with a bad port list the server stays plain" "$(curl -s --max-time 5 "http://127.0.0.1:$p/a.txt")" hi
like "and the library says why" "$(cat bad.log)" "^ktls-preload: KTLS_PRELOAD_PORTS: bad port list '8x'"

p=$(free_port)
LD_PRELOAD=$preload KTLS_PRELOAD_PORTS=$p KTLS_PRELOAD_PATH=module \
	python3 -u -m http.server "$p" --bind 127.0.0.1 >module.log 2>&1 &
started module.log
like "KTLS_PRELOAD_PATH=module without the module: said, and served plain" \
	"$(cat module.log; curl -s --max-time 5 "http://127.0.0.1:$p/a.txt")" \
	"cannot attach to the ktls_offload module: No such file or directory; serving it without TLS"

p=$(free_port)
LD_PRELOAD=$preload KTLS_PRELOAD_PORTS=$p KTLS_AGENT_SOCKET=$tmp/no-agent.sock \
	python3 -u -m http.server "$p" --bind 127.0.0.1 >noagent.log 2>&1 &
pid=$!
started noagent.log
like "the server sees its real address through getsockname" "$(cat noagent.log)" \
	"Serving HTTP on 127\\.0\\.0\\.1 port $p "
like "no module and no agent: the library says connections wait" "$(cat noagent.log)" \
	"cannot reach the agent's socket: No such file or directory; TLS connections wait"
fails "meanwhile no connection reaches the server unencrypted" \
	curl -s --max-time 2 "http://127.0.0.1:$p/a.txt"
queued=$(ss -Htln "sport = :$p" | awk '{ print $2 }')
like "it waits in the real listener's backlog" "$queued" '^[1-9]'
