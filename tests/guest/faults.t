#!/bin/bash
# Faults under ktls-serve: the agent SIGKILLed during 200 concurrent
# handshakes, rmmod with handshakes pending, a failed read of ktls-serve's
# netlink socket with handshakes in flight, the module's per-user limit
# reached, ktls-serve and the agent out of file descriptors.  Each time: every client
# gets an answer or an error within its timeout, no descriptor leaks, and
# service comes back by itself once the fault is gone.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
serve_setup faults
printf 'plain text\n' >www/a.txt
head -c 65536 /dev/urandom >www/64k.bin
agent_conf 30000

start_agent() {	# and wait for its "ready:" line
	local before
	before=$(grep -c "ready:" agent.log 2>/dev/null)
	"$agent" -c agent.conf >/dev/null 2>>agent.log &
	agent_pid=$!
	for _ in $(seq 200); do
		[ "$(grep -c "ready:" agent.log)" -gt "${before:-0}" ] && return 0
		sleep 0.1
	done
	return 1
}

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
start_agent || echo "# the agent did not start"
"$serve" -p 8443 -w 1 -v --handshake-timeout 30 "$dir/www" 2>serve.log &
serve_pid=$!
"$serve" -p 9443 -w 1 -v --handshake-timeout 30 --path socket "$dir/www" 2>serve-socket.log &
sock_pid=$!
pids="$serve_pid $sock_pid"
wait_for_line serve.log "via the ktls_offload module"
wait_for_line serve-socket.log "via the agent's UNIX socket"

C=(curl -sS --max-time 60 --cacert ca.pem)
served() { [ "$("${C[@]}" "https://localhost:$1/a.txt" 2>>curl.err)" = "plain text" ]; }
# served_soon PORT: the same, giving up after 10 s (for retry loops)
served_soon() {
	[ "$(curl -sS --max-time 10 --cacert ca.pem "https://localhost:$1/a.txt" 2>>curl.err)" = "plain text" ]
}
nfds() { ls "/proc/$1/fd" | wc -l; }
# until CMD succeeds, for at most S seconds
eventually() {
	local end=$(( $(date +%s) + $1 ))
	shift
	while [ "$(date +%s)" -lt "$end" ]; do "$@" && return 0; sleep 0.25; done
	"$@"
}
fds_back() { [ "$(nfds "$1")" = "$2" ]; }
# (the socket path may hold fewer: its link to the lost agent is closed
# until the next connection reopens it)
fds_at_most() { [ "$(nfds "$1")" -le "$2" ]; }
# stall N [PORT]: N connections to PORT (default 8443) that send the start
# of a ClientHello, then nothing; their descriptors in the array "stalled"
stall() {
	stalled=()
	for _ in $(seq "$1"); do
		exec {fd}<>"/dev/tcp/127.0.0.1/${2:-8443}"
		printf '\026\003\001\002\000\001' >&$fd
		stalled+=("$fd")
	done
}
unstall() { for fd in "${stalled[@]}"; do exec {fd}>&-; done; }

served 8443 && served 9443
serve_fds=$(nfds $serve_pid)
sock_fds=$(nfds $sock_pid)

# --- SIGKILL the agent during 200 concurrent handshakes ---------------------
for i in $(seq 100); do
	echo "url = \"https://localhost:8443/64k.bin?m=$i\""; echo 'output = "/dev/null"'
	echo "url = \"https://localhost:9443/64k.bin?s=$i\""; echo 'output = "/dev/null"'
done >p200.cfg
start=$(date +%s)
"${C[@]}" --parallel --parallel-max 200 --parallel-immediate -K p200.cfg \
	-w '%{http_code} %{size_download}\n' >p200.out 2>>curl.err &
curl_pid=$!
sleep 2
kill -KILL $agent_pid
wait $agent_pid 2>/dev/null
wait $curl_pid
secs=$(( $(date +%s) - start ))
is "all 200 clients got an answer or an error" "$(wc -l <p200.out)" 200
ok "within their 30 s handshake timeout and 60 s curl limit (${secs}s)" test "$secs" -lt 60
is "those answered got the whole file" "$(grep -c '^200 ' p200.out)" "$(grep -c '^200 65536$' p200.out)"
echo "# $(grep -c '^200 ' p200.out) of 200 were served before the agent died"
ok "ktls-serve (module path) holds its descriptors at rest again" \
	eventually 40 fds_back $serve_pid "$serve_fds"
ok "ktls-serve (socket path) holds no more than at rest" eventually 40 fds_at_most $sock_pid "$sock_fds"
fails "without an agent, a new handshake fails" served 8443
# (started here, not inside ok's command substitution, which would wait
# for the agent to close its stdout)
start_agent
is "a restarted agent starts (logs a new ready: line)" "$?" 0
ok "and the module path serves again" eventually 20 served_soon 8443
ok "the socket path reconnects and serves again" eventually 20 served_soon 9443
ok "ktls-serve said it lost the agent and reconnected" \
	grep -q "connected to the agent again" serve-socket.log

# --- rmmod with handshakes pending -------------------------------------------
served 8443
serve_fds=$(nfds $serve_pid)
stall 10
sleep 2
ok "rmmod with 10 handshakes pending succeeds" rmmod ktls_offload
t0=$(date +%s)
for fd in "${stalled[@]}"; do
	r=$(timeout 10 cat <&$fd | wc -c)
	[ "$r" = 0 ] || echo "# a stalled connection got $r bytes"
done
echo "# the 10 stalled connections saw their end within $(($(date +%s) - t0)) s"
ok "the pending connections were closed by ktls-serve" \
	sh -c "ss -Htn state established '( sport = :8443 )' | wc -l | grep -qx 0"
unstall
ok "ktls-serve is still running" kill -0 $serve_pid
ok "and frees every descriptor of those connections" \
	eventually 20 fds_back $serve_pid "$serve_fds"
insmod "$KTLS_MODULE"
kill $agent_pid 2>/dev/null
wait $agent_pid 2>/dev/null
start_agent
is "after insmod, a new agent starts" "$?" 0
ok "and ktls-serve serves over the module again" eventually 30 served_soon 8443

# --- a failed read of the module's socket, with handshakes in flight ---------
# ktls-serve then closes its libktls context, which cancels the handshakes
# in flight: their connections must close too, not stay open (and count
# against --max-connections) for as long as ktls-serve runs.  The read
# error comes from tests/guest/fault_netlink.c: the next recvmsg() on a
# netlink socket fails with EIO once the file $nlfault exists.
nlfault=$dir/nlfault
LD_PRELOAD="$KTLS_BUILD/tests/fault_netlink.so" KTLS_FAULT_NETLINK="$nlfault" \
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$serve" -p 6443 -w 1 -v --handshake-timeout 60 "$dir/www" 2>serve-nlfault.log &
nlfault_pid=$!
pids="$pids $nlfault_pid"
wait_for_line serve-nlfault.log "via the ktls_offload module"
served 6443
nlfault_fds=$(nfds $nlfault_pid)
stall 5 6443
wait_until 20 sh -c "[ \$(ss -Htn state established '( sport = :6443 )' | wc -l) -ge 5 ]"
sleep 1		# (the agent takes them)
: >"$nlfault"
# the first stalled client goes: the agent's handshake fails, and
# ktls-serve's read of that result fails
exec {stalled[0]}>&-
ok "the injected read error reached ktls-serve" eventually 20 test ! -e "$nlfault"
ok "ktls-serve dropped its libktls context" \
	eventually 20 grep -q "lost the agent" serve-nlfault.log
# (4, or 5 if the first one's result was lost with the read)
ok "and closed the connections whose handshake was in flight" \
	eventually 20 grep -Eq "closed [45] connections whose handshake was in flight" serve-nlfault.log
ok "... and their sockets" eventually 20 \
	sh -c "ss -Htn state established '( sport = :6443 )' | wc -l | grep -qx 0"
unstall 2>/dev/null
ok "ktls-serve serves again through a new context" eventually 20 served_soon 6443
ok "and holds its descriptors at rest again, none of those connections'" \
	eventually 20 fds_back $nlfault_pid "$nlfault_fds"
kill $nlfault_pid 2>/dev/null
wait $nlfault_pid 2>/dev/null

# --- the module's per-user limit ----------------------------------------------
echo 8 >/sys/module/ktls_offload/parameters/max_pending_per_uid
stall 20
sleep 3
open=$(ss -Htn state established '( sport = :8443 )' | wc -l)
ok "with a limit of 8, the handshakes beyond it are refused at once, not queued ($open open of 20)" \
	test "$open" -le 16
ok "ktls-serve logs why" grep -q "Resource temporarily unavailable\|cannot hand a connection" serve.log
unstall
ok "once they are gone, new handshakes are served" eventually 20 served_soon 8443
echo 1024 >/sys/module/ktls_offload/parameters/max_pending_per_uid

# --- ktls-serve out of file descriptors ---------------------------------------
"$serve" -p 7443 -w 1 -v --handshake-timeout 30 --idle-timeout 600 "$dir/www" 2>serve-emfile.log &
emfile_pid=$!
pids="$pids $emfile_pid"
wait_for_line serve-emfile.log "via the ktls_offload module"
prlimit --pid $emfile_pid --nofile=48:48
idle=()
for i in $(seq 60); do
	exec {fd}<>/dev/tcp/127.0.0.1/7443
	idle+=("$fd")
done
sleep 2
ok "ktls-serve, out of descriptors, pauses accepting" grep -q "pausing accepts" serve-emfile.log
ok "and keeps running" kill -0 $emfile_pid
for fd in "${idle[@]}"; do exec {fd}>&-; done
ok "once descriptors are free again, it serves" eventually 30 served_soon 7443

# --- the agent out of file descriptors -----------------------------------------
# An ACCEPT that finds no free descriptor puts its request back in the
# module, which sends no READY for it: the agent must look again itself
# once a descriptor is free, not wait for the next request.
agent_nofile=$(prlimit --pid $agent_pid --nofile --output SOFT,HARD --noheadings | awk '{ print $1 ":" $2 }')
prlimit --pid $agent_pid --nofile=$(($(nfds $agent_pid) + 3)):$(($(nfds $agent_pid) + 3))
stall 5
ok "the agent, out of descriptors, says so" \
	eventually 20 grep -q "ACCEPT failed: Too many open files; trying again" agent.log
# submitted while the agent has no descriptor to take it with (and
# without the stalled connections, which it would otherwise inherit)
(unstall; exec "${C[@]}" -o emfile.out "https://localhost:8443/a.txt" 2>>curl.err) &
curl_pid=$!
sleep 1
t0=$(date +%s)
unstall		# the stalled handshakes end, and free the agent's descriptors
wait $curl_pid
took=$(($(date +%s) - t0))
is "a client that came meanwhile is served once they are free" "$(cat emfile.out 2>/dev/null)" \
	"plain text"
ok "... at once, not after the handshake timeout ($took s; limit $((10 * ${KTLS_TIME_SCALE:-1})) s)" \
	test "$took" -lt $((10 * ${KTLS_TIME_SCALE:-1}))
n=$(grep -c "ACCEPT failed: Too many open files" agent.log)
ok "the agent logged the shortage once per worker, not per retry ($n lines)" test "$n" -le 2
prlimit --pid $agent_pid --nofile="$agent_nofile"

# --- descriptors sent with CANCEL ---------------------------------------------
# A requester's CANCEL carries no descriptor; one that does is a broken
# peer, disconnected, and the descriptor closed, not kept.
before=$(nfds $agent_pid)
python3 - "$dir/agent.sock" >cancel-fds.out 2>&1 <<'PY'
import array, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
fd = os.open("/dev/null", os.O_RDONLY)
sent = 0
try:
    for i in range(300):	# nlmsghdr: length 16, KTLS_OFFLOAD_CMD_CANCEL (8)
        s.sendmsg([struct.pack("=IHHII", 16, 8, 0, 1000 + i, 0)],
                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        sent += 1
except OSError:
    pass
s.settimeout(10)
try:
    gone = s.recv(4096) == b""
except OSError:
    gone = True
print("sent", sent, "disconnected" if gone else "still connected")
PY
ok "a CANCEL with a descriptor gets its requester disconnected ($(cat cancel-fds.out))" \
	grep -q "disconnected" cancel-fds.out
ok "and the agent keeps none of those descriptors" eventually 10 fds_at_most $agent_pid "$before"

# --- the agent lost while a connection waits in ktls-serve's backlog ----------
# On the socket path the submit meets the hung-up socket before the report
# of its pollfd, which comes later in the same batch of events: stopped,
# ktls-serve sees both at once.
kill -STOP $sock_pid
exec {cfd}<>/dev/tcp/127.0.0.1/9443
sleep 0.5
kill -9 $agent_pid
wait $agent_pid 2>/dev/null
sleep 0.5
kill -CONT $sock_pid
sleep 2
ok "ktls-serve survives losing the agent while a connection waits to be handed over" \
	kill -0 $sock_pid
exec {cfd}>&-
start_agent
ok "and serves again once an agent is back" eventually 30 served_soon 9443
plan $_tap_n
