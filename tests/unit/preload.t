#!/bin/bash
# libktls-preload.so on this host (no module, no kTLS): it exports only the
# calls it wraps (and reads, writes and closes of plain files and sockets
# through it are untouched: the servers below serve files), leaves unnamed ports alone, fails closed (a bad port list
# or KTLS_PRELOAD_PATH=module without the module: listen() fails, nothing
# is served in plaintext), falls back from the missing module to the
# agent's socket and says so when no agent answers, and keeps the server's
# view of its listener: the real address from getsockname; with no agent,
# connections wait in the backlog.  close() of such a listener frees its
# port; its AF_UNIX name is the kernel's (autobind).  A server that only
# calls accept() on a listener it inherited (socket activation) on a named
# port gets it set up as at listen(), or, when that cannot be done, a
# failed accept(): never a plaintext connection.  TLS through it is tested in
# the guest (tests/guest/preload.t).
. "$KTLS_SRC/tests/lib/tap.sh"
preload=$KTLS_BUILD/lib/libktls-preload.so
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
echo hi >a.txt
plan 19

is "it exports only the calls it wraps: listen, accept, accept4, getsockname, close, shutdown, read, recv, recvfrom" \
	"$(nm -D --defined-only "$preload" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')" \
	"accept accept4 close getsockname listen read recv recvfrom shutdown "
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
LD_PRELOAD=$preload KTLS_PRELOAD_PORTS=8x timeout 20 python3 -u -m http.server "$p" \
	--bind 127.0.0.1 >bad.log 2>&1
rc=$?
like "with a bad port list listen() fails (EINVAL): the server exits" \
	"rc=$rc $(cat bad.log)" "^rc=[1-9]|Errno 22"
like "and the library says why" "$(cat bad.log)" \
	"^ktls-preload: KTLS_PRELOAD_PORTS: bad port list '8x'.*every TCP listen\(\) fails"
fails "nothing serves plain HTTP there" curl -s --max-time 2 "http://127.0.0.1:$p/a.txt"

p=$(free_port)
LD_PRELOAD=$preload KTLS_PRELOAD_PORTS=$p KTLS_PRELOAD_PATH=module \
	timeout 20 python3 -u -m http.server "$p" --bind 127.0.0.1 >module.log 2>&1
rc=$?
like "KTLS_PRELOAD_PATH=module without the module: listen() fails, the server exits" \
	"rc=$rc $(cat module.log)" "^rc=[1-9]"
like "saying why" "$(cat module.log)" \
	"port $p: cannot attach it to the ktls_offload module: No such file or directory; refusing to serve it without TLS"
fails "and nothing serves plain HTTP there" curl -s --max-time 2 "http://127.0.0.1:$p/a.txt"

# close(): the port is free again at once (the library's copy of the real
# listener is closed too); the front's AF_UNIX name is an autobind one
p=$(free_port)
out=$(LD_PRELOAD=$preload KTLS_PRELOAD_PORTS=$p KTLS_AGENT_SOCKET=$tmp/no-agent.sock \
	timeout 20 python3 - "$p" <<'PY' 2>rebind.err
import os, socket, sys
port = int(sys.argv[1])
for round in (1, 2):
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(8)
    # the descriptor is now the AF_UNIX front, named by the kernel:
    # abstract, 5 hex digits (autobind); getsockname() shows the TCP
    # address, /proc/net/unix the front's
    ino = str(os.fstat(s.fileno()).st_ino)
    for line in open("/proc/net/unix"):
        f = line.split()
        if len(f) > 7 and f[6] == ino:
            print("round", round, "front", f[7])
    s.close()
print("rebound after close")
PY
)
like "after close() of a TLS listener its port can be bound again" "$out" "rebound after close"
like "the front's AF_UNIX name is an autobind one" "$out" "round 1 front @[0-9a-f]{5}$"


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

# an inherited listener: the parent listens without the library, the
# server under it only calls accept()
inherited=$KTLS_SRC/tests/lib/inherited.py
p=$(free_port)
python3 "$inherited" listen "$p" env LD_PRELOAD="$preload" KTLS_PRELOAD_PORTS="$p" \
	KTLS_AGENT_SOCKET="$tmp/no-agent.sock" python3 -u "$inherited" serve >inherited.log 2>&1 &
for _ in $(seq 50); do grep -q accepting inherited.log && break; sleep 0.1; done
fails "an inherited listener on a named port serves no plain HTTP (accept() only)" \
	curl -s --max-time 2 "http://127.0.0.1:$p/a.txt"
like "accept() set it up as listen() would: through the agent, which is not there" \
	"$(cat inherited.log)" "cannot reach the agent's socket: No such file or directory"
queued=$(ss -Htln "sport = :$p" | awk '{ print $2 }')
like "the connection waits in the real listener's backlog" "$queued" '^[1-9]'

p=$(free_port)
python3 "$inherited" listen "$p" env LD_PRELOAD="$preload" KTLS_PRELOAD_PORTS="$p" \
	KTLS_PRELOAD_PATH=module timeout 20 python3 -u "$inherited" serve >inherited-module.log 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q accepting inherited-module.log && break; sleep 0.1; done
curl -s --max-time 2 "http://127.0.0.1:$p/a.txt" >inherited-module.out 2>&1
wait "$pid"
like "KTLS_PRELOAD_PATH=module without the module: accept() on it fails, saying why" \
	"$(tr '\n' ' ' <inherited-module.log)" \
	"port $p: cannot attach it to the ktls_offload module: No such file or directory; refusing.*accept failed"
is "and the client got nothing" "$(cat inherited-module.out)" ""
