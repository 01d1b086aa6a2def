#!/bin/bash
# ktls-serve --plain on this host (its HTTP side, no TLS): a keep-alive
# client that sends a large GET and half of a second request, and reads
# the first response only after the server's sends have blocked.  Once
# the first response is out, the server must wait for the rest of the
# second request without spinning (a connection left watched for
# EPOLLOUT wakes the loop for as long as the socket stays writable), then
# answer it.  And which scheduling policy its workers run under.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"	# wait_for_line
serve=$KTLS_BUILD/bin/ktls-serve
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
mkdir www
head -c $((32 << 20)) /dev/zero >www/big.bin
echo hello >www/a.txt
plan 7
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
"$serve" --plain -w 1 -p "$port" www 2>serve.log &
pid=$!
ok "ktls-serve --plain starts" wait_for_line serve.log "plain HTTP"
out=$(python3 - "$port" "$pid" "${KTLS_TIME_SCALE:-1}" <<'EOF'
import os, socket, sys, time
port, pid, scale = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
def ticks():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(60 * scale)	# a stalled server fails the test, it does not hang it
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /a.t")
time.sleep(1 * scale)		# the server's sends block: it watches EPOLLOUT
want, got, head = 32 << 20, 0, b""
while b"\r\n\r\n" not in head:
    head += s.recv(65536)
hdr, body = head.split(b"\r\n\r\n", 1)
got = len(body)
while got < want:
    d = s.recv(1 << 20)
    if not d:
        break
    got += len(d)
print("first %d" % got)
time.sleep(0.3 * scale)		# the first response is out
t0 = ticks()
time.sleep(2 * scale)		# the second request is still half-sent
print("idle_ticks %d of %d" % (ticks() - t0, int(2 * scale * os.sysconf("SC_CLK_TCK"))))
s.sendall(b"xt HTTP/1.1\r\nHost: x\r\n\r\n")
r = b""
s.settimeout(10 * scale)
while b"hello" not in r:
    d = s.recv(4096)
    if not d:
        break
    r += d
print("second " + r.split(b"\r\n", 1)[0].decode())
EOF
)
echo "$out" | sed 's/^/# /'
is "the first response arrives whole (32 MiB)" "$(echo "$out" | sed -n 's/^first //p')" $((32 << 20))
idle=$(echo "$out" | sed -n 's/^idle_ticks \([0-9]*\) .*/\1/p')
ok "waiting for the rest of a pipelined request, the server stays idle ($idle ticks of CPU in 2 s; at most 20)" \
	test "${idle:-999}" -le 20
is "then answers it" "$(echo "$out" | sed -n 's/^second //p')" "HTTP/1.1 200 OK"

# scheduling: the workers under SCHED_BATCH by default (the main thread
# not), none with --no-sched-batch, and a policy set from outside
# (SCHED_IDLE) left alone
is "the 1 worker runs under SCHED_BATCH" "$(ps -L -o cls= -p "$pid" | grep -c B)" 1
"$serve" --plain -w 2 -p "$(free_port)" --no-sched-batch www 2>nobatch.log &
nb=$!
wait_for_line nobatch.log "plain HTTP"
is "--no-sched-batch: none of its 3 threads does" \
	"$(ps -L -o cls= -p "$nb" | grep -c B) of $(ps -L -o cls= -p "$nb" | wc -l)" "0 of 3"
kill "$nb"
chrt -i 0 "$serve" --plain -w 2 -p "$(free_port)" www 2>idle.log &
ib=$!
wait_for_line idle.log "plain HTTP"
is "started under SCHED_IDLE, all 3 threads stay there" \
	"$(ps -L -o cls= -p "$ib" | grep -c IDL)" 3
kill "$ib"
