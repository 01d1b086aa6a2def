#!/bin/bash
# guest-timeout: 600
# review reproducers: MSG_PEEK stall, SIGPIPE from recv, two readers
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
. "$KTLS_SRC/tests/lib/servers.sh"
client=$KTLS_BUILD/tests/keyupdate_client
cclient=$KTLS_BUILD/tests/conform_client
ctl=$KTLS_BUILD/bin/ktlsctl
serve_setup zzrev
agent_conf 60000 'alpn = http/1.1'
plan 3
grep '^TlsRxRekey' /proc/net/tls_stat
insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
agent_pid=$!
wait_for_line agent.log "ready:" 30 || echo "# the agent did not start"

cat >peek.py <<'EOF'
import re, select, socket, sys, time
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.1', 8081)); ls.listen(8)
c, _ = ls.accept()
time.sleep(1)
d = b''
while True:
    r, _, _ = select.select([c], [], [], 5)
    if not r:
        print('STALL: poll() not readable for 5 s, %d bytes peeked: %r' % (len(d), d[:60]), flush=True)
        break
    d = c.recv(65536, socket.MSG_PEEK)
    print('peek got %d' % len(d), flush=True)
    if not d: break
    i = d.find(b'\r\n\r\n')
    if i >= 0:
        cl = int(re.search(rb'Content-Length: (\d+)', d).group(1))
        if len(d) >= i + 4 + cl:
            print('complete via peek', flush=True); break
c.settimeout(5)
got = b''
try:
    while True:
        x = c.recv(65536)
        if not x: break
        got += x
        i = got.find(b'\r\n\r\n')
        if i >= 0 and len(got) >= i + 4 + int(re.search(rb'Content-Length: (\d+)', got).group(1)):
            break
except OSError as e:
    print('recv error', e, flush=True)
print('plain recv then got %d bytes' % len(got), flush=True)
c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')
c.close()
EOF

cat >pipe.py <<'EOF'
import signal, socket, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.1', 8082)); ls.listen(8)
c, _ = ls.accept()
d = b''
while b'\r\n\r\n' not in d:
    d += c.recv(4096)
c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nplain text\n')
c.shutdown(socket.SHUT_WR)
print('response sent, SHUT_WR, reading (lingering close)', flush=True)
try:
    x = c.recv(100)
    print('recv returned %r' % x, flush=True)
except OSError as e:
    print('recv error', e, flush=True)
print('server survived', flush=True)
EOF

cat >two.py <<'EOF'
import socket, sys, threading
size = int(sys.argv[1])
hdr = b"POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size
want = len(hdr) + size
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.1', 8083)); ls.listen(8)
c, _ = ls.accept()
lock = threading.Lock(); total = [0]; errs = []; done = threading.Event()
def rd(n):
    while not done.is_set():
        try:
            d = c.recv(65536)
        except OSError as e:
            with lock: errs.append(e.errno)
            print('thread %d: recv error after %d bytes: %s' % (n, total[0], e), flush=True)
            if len(errs) > 20 or e.errno not in (5, 127): done.set(); return
            continue
        if not d: done.set(); return
        with lock:
            total[0] += len(d)
            if total[0] >= want: done.set()
ts = [threading.Thread(target=rd, args=(i,)) for i in range(2)]
for t in ts: t.start()
done.wait(60)
print('total %d of %d, errors %r' % (total[0], want, errs), flush=True)
try:
    c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')
except OSError as e:
    print('send error', e, flush=True)
c.shutdown(socket.SHUT_RDWR)
sys.stdout.flush()
import os; os._exit(0)
EOF

python3 -u peek.py >peek.out 2>&1 &
peek_pid=$!
python3 -u pipe.py >pipe.out 2>&1 &
pipe_pid=$!
wait_port 8081; wait_port 8082
"$ctl" attach --port 8081; "$ctl" attach --port 8082

# 1: header record, KeyUpdate, body record; the server peeks
timeout 30 "$client" 127.0.0.1 8081 ca.pem localhost post /up 100 0 k >peek-client.out 2>&1
echo "# client rc=$?"
wait $peek_pid
sed 's/^/# peek: /' peek.out
unlike "MSG_PEEK then poll(): no stall" "$(cat peek.out)" "STALL"

# 2: SIGPIPE from recv()
timeout 30 "$cclient" 8082 ca.pem 1.3 AES-128-GCM key-update-value >pipe-client.out 2>&1
sed 's/^/# pipe-client: /' pipe-client.out
wait $pipe_pid
rc=$?
sed 's/^/# pipe: /' pipe.out
is "recv() after SHUT_WR and a bad KeyUpdate: no SIGPIPE (exit status)" "$rc" 0

# 3: two reader threads, KeyUpdates
bad=0
for i in 1 2 3 4 5 6; do
	python3 -u two.py 4194304 >two.out 2>&1 &
	two_pid=$!
	wait_port 8083
	"$ctl" attach --port 8083 >/dev/null
	timeout 90 "$client" 127.0.0.1 8083 ca.pem localhost post /up 4194304 $((i * 300000)) k400 >two-client.out 2>&1
	echo "# round $i client rc=$?"
	wait $two_pid
	sed 's/^/# two: /' two.out
	grep -q "errors \[\]" two.out && grep -q "total 419" two.out || bad=$((bad + 1))
	cat two.out >>two-all.out
done
is "two readers: every round complete, no error" "$bad" 0
grep -E "TlsRxRekey|TlsTxRekey" /proc/net/tls_stat | sed 's/^/# /'
dmesg | grep -E "WARNING|BUG|ktls" | tail -20 | sed 's/^/# dmesg: /'
