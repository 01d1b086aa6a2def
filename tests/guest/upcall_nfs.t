#!/bin/bash
# guest-timeout: 900
# ktls-agent as the kernel's handshake agent for NFS (issue 20): nfsd exports
# a tmpfs over loopback and the kernel's NFS client mounts it with
# xprtsec=tls, then xprtsec=mtls; both ends' handshakes come to the agent
# (as user nobody with CAP_NET_ADMIN alone) through the kernel's
# "handshake" netlink family.  A file written and read back is intact and
# both ends run kernel TLS; an untrusted server certificate and a stopped
# agent make the mount fail with a clear error; an agent killed while a
# mount waits is replaced and the mount completes.  With handshake_netns
# the agent serves another network namespace too: a mount from there
# completes through it, and without it fails at once; a namespace that
# does not exist, or one named twice, stops the agent with a clear error.
# On 6.1, which has no such family, the agent starts and says so.
set -u
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
. "$KTLS_SRC/tests/lib/nfs.sh"

scale=${KTLS_TIME_SCALE:-1}
mib=${KTLS_UPCALL_MIB:-${KTLS_BIG_MIB:-64}}
T=$((120 * scale))
serve_setup upcall-nfs
chmod 755 "$dir"

# conf [SERVER_CA [PEERS]]: both ends' profiles (the client's CAs: ca.pem
# or another, for the servers PEERS); NETNS=LIST: handshake_netns
conf() {
	{
		printf '[global]\nworkers = 2\nsocket =\nmodule = no\nuser = nobody\n'
		[ -n "${NETNS:-}" ] && printf 'handshake_netns = %s\n' "$NETNS"
		printf '\n'
		printf '[profile nfs-server]\nupcall = server\nupcall_ports = 2049\n'
		printf 'handshake_timeout = %s\n' $((20000 * scale))
		printf 'cert = %s/server.pem\nkey = %s/server.key\n' "$dir" "$dir"
		printf 'client_cert = optional\nca = %s/ca.pem\n\n' "$dir"
		printf '[profile nfs-client]\nroles = client\nupcall = client\n'
		printf 'upcall_ports = 2049\nupcall_peers = %s\n' "${2:-127.0.0.1 10.88.0.1}"
		printf 'handshake_timeout = %s\n' $((20000 * scale))
		printf 'ca = %s\ncert = %s/client.pem\nkey = %s/client.key\n' \
			"${1:-$dir/ca.pem}" "$dir" "$dir"
	} >agent.conf
}
start_agent() {	# LOG: then agent_ready LOG
	: >"$1"
	"$agent" -c agent.conf >/dev/null 2>"$1" &
	agent_pid=$!
}
agent_ready() {	# LOG: until it says ready, or has exited
	wait_until $((60 * scale)) sh -c "grep -q ready: $1 || ! kill -0 $agent_pid" && grep -q ready: "$1"
}
stop_agent() { kill "$agent_pid" 2>/dev/null; wait "$agent_pid" 2>/dev/null; agent_pid=; }
mnt=/tmp/nfsmnt
nfs_mount() {	# XPRTSEC: a soft mount that gives up rather than retry forever
	timeout -s KILL "$T" mount -t nfs4 \
		-o "vers=4.2,xprtsec=$1,soft,timeo=$((100 * scale)),retrans=2" 127.0.0.1:/ "$mnt" 2>&1
}
nfs_umount() { umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; }
cleanup_nfs() {
	nfs_umount
	nfsd_stop
	ip netns del nfsc 2>/dev/null
	serve_cleanup
}

case $(uname -r) in
6.1.*)
	plan 2
	{
		printf '[global]\nworkers = 1\nsocket = %s/agent.sock\nmodule = no\n\n' "$dir"
		printf '[profile nfs-client]\nroles = client\nupcall = client\nca = %s/ca.pem\n' "$dir"
	} >agent.conf
	start_agent agent.log
	ok "6.1: the agent starts with an upcall profile" agent_ready agent.log
	ok "... and says the kernel has no handshake family" \
		grep -q "this kernel has no handshake netlink family" agent.log
	exit 0 ;;
esac

plan 35
trap cleanup_nfs EXIT
make_cert "$dir" client client.example client
# the server also answers on 10.88.0.1, for the namespace nfsc below
printf 'ip_address = "10.88.0.1"\n' >>server.tmpl
certtool -q --generate-certificate --load-privkey server.key --load-ca-certificate ca.pem \
	--load-ca-privkey ca.key --template server.tmpl --outfile server.pem 2>/dev/null
conf
ok "nfsd and the NFS client load" modprobe -a nfsd nfsv4
mkdir -p "$mnt"
ok "nfsd serves NFSv4 on 2049 (rpc.mountd, rpc.nfsd)" nfsd_start /tmp/nfs-export
start_agent agent.log
ok "the agent (as nobody) says it serves the handshake upcall" agent_ready agent.log
like "... from the kernel's handshake family" "$(cat agent.log)" "handoffs from the kernel's handshake upcall"

# xprtsec=tls: the client anonymous, the server by its certificate
out=$(nfs_mount tls)
ok "mount -o xprtsec=tls succeeds through the agent ($out)" grep -q " $mnt nfs4 " /proc/mounts
head -c $((mib * 1048576)) /dev/urandom >/tmp/upcall.bin
want=$(sha256sum </tmp/upcall.bin | cut -d' ' -f1)
ok "a $mib MiB file is written over it" cp /tmp/upcall.bin "$mnt/data.bin"
ok "both ends of the NFS connection run kernel TLS (TlsCurrTxSw $(tls_stat TlsCurrTxSw))" \
	test "$(tls_stat TlsCurrTxSw)" -ge 2 -a "$(tls_stat TlsCurrRxSw)" -ge 2
nfs_umount
nfs_mount tls >/dev/null
is "... and read back intact after a new mount" "$(sha256sum <"$mnt/data.bin" | cut -d' ' -f1)" \
	"$want"
nfs_umount
like "the agent logged the server's end" "$(cat agent.log)" \
	"upcall nfs server x509 peer 127.0.0.1:[0-9]*: TLS 1.3, kernel TLS on; peer not authenticated"
like "... and the client's, which checked the server's certificate against the name 127.0.0.1" \
	"$(cat agent.log)" \
	"upcall nfs client anonymous peer 127.0.0.1:2049 name 127.0.0.1: TLS 1.3, kernel TLS on; peer authenticated as CN=localhost"

# xprtsec=mtls: the client shows its certificate, which nfsd requires
out=$(nfs_mount mtls)
ok "mount -o xprtsec=mtls succeeds ($out)" grep -q " $mnt nfs4 " /proc/mounts
is "... the file reads back intact" "$(sha256sum <"$mnt/data.bin" | cut -d' ' -f1)" "$want"
nfs_umount
like "... the server saw the client's certificate and told nfsd" "$(cat agent.log)" \
	"upcall nfs server x509 peer .*peer authenticated as CN=client.example"

# the agent stopped: the kernel finds no handler
stop_agent
out=$(nfs_mount tls)
like "no agent: the mount fails at once with ESRCH" "$out" "No such process"

# a server certificate the client's profile does not trust
certtool -q --generate-privkey --key-type ecdsa --curve secp256r1 --outfile other.key 2>/dev/null
printf 'cn = other CA\nca\ncert_signing_key\nexpiration_days = 30\n' >other.tmpl
certtool -q --generate-self-signed --load-privkey other.key --template other.tmpl \
	--outfile other-ca.pem 2>/dev/null
conf "$dir/other-ca.pem"
start_agent agent2.log
agent_ready agent2.log
out=$(nfs_mount tls)
like "an untrusted server certificate: the mount is refused" "$out" "access denied"
like "... and the agent says why" "$(cat agent2.log)" \
	"upcall nfs client anonymous peer .*failed: The certificate is NOT trusted"
stop_agent

# an agent killed while a mount waits for it; its successor takes the request
conf
start_agent agent3.log
agent_ready agent3.log
kill -STOP "$agent_pid"
nfs_mount tls >mount3.out &
mpid=$!
sleep $((2 * scale))
kill -KILL "$agent_pid"
wait "$agent_pid" 2>/dev/null
start_agent agent4.log
wait "$mpid"
ok "an agent SIGKILLed during a mount: the next one completes it" \
	grep -q " $mnt nfs4 " /proc/mounts
like "... its successor served both ends" "$(cat agent4.log)" \
	"upcall nfs server x509 peer .*TLS 1.3, kernel TLS on"
unlike "... the stopped one none" "$(cat agent3.log)" "upcall nfs"
nfs_umount
stop_agent

# network namespaces: the NFS client mounts from namespace nfsc over a veth
# pair, so the kernel queues the client's request in nfsc and the server's
# in this (the agent's own) namespace
ip netns add nfsc
ok "a namespace nfsc, a veth pair from it to 10.88.0.1 here" sh -c "
	modprobe veth && ip link add nfsv0 type veth peer name nfsv1 netns nfsc &&
	ip addr add 10.88.0.1/24 dev nfsv0 && ip link set nfsv0 up &&
	ip -n nfsc addr add 10.88.0.2/24 dev nfsv1 && ip -n nfsc link set nfsv1 up &&
	ip -n nfsc link set lo up"
exportfs -o rw,fsid=0,no_root_squash,insecure,no_subtree_check 10.88.0.2:/tmp/nfs-export \
	2>/dev/null
# (ip netns exec gives the mount a mount namespace of its own: mount, read
# and unmount in one go)
ns_mount() {
	ip netns exec nfsc sh -c "timeout -s KILL $T mount -t nfs4 \
		-o vers=4.2,xprtsec=tls,soft,timeo=$((100 * scale)),retrans=2 10.88.0.1:/ $mnt 2>&1 &&
		sha256sum <$mnt/data.bin | cut -d' ' -f1; umount $mnt 2>/dev/null"
}
conf
start_agent agent5.log
agent_ready agent5.log
like "the agent serving its own namespace only: a mount from nfsc fails at once (ESRCH)" \
	"$(ns_mount)" "No such process"
stop_agent
# trust per peer in the same agent: the server 127.0.0.1 is checked
# against the other CA, 10.88.0.1 against the test CA (its own profile)
NETNS="self nfsc" conf "$dir/other-ca.pem" 127.0.0.1
printf '\n[profile nfs-client-nfsc]\nroles = client\nupcall = client\nupcall_ports = 2049\n' >>agent.conf
printf 'upcall_peers = 10.88.0.1\nca = %s/ca.pem\n' "$dir" >>agent.conf
start_agent agent6.log
ok "the agent with handshake_netns = self nfsc (as nobody after the start)" agent_ready agent6.log
is "a mount from nfsc through it: the file reads back intact" "$(ns_mount)" "$want"
like "... the client's handshake came from nfsc" "$(cat agent6.log)" \
	"upcall nfs client anonymous peer 10.88.0.1:2049 name 10.88.0.1 in netns nfsc: TLS 1.3, kernel TLS on; peer authenticated as CN=localhost"
like "... the server's from the agent's own namespace" "$(cat agent6.log)" \
	"upcall nfs server x509 peer 10.88.0.2:[0-9]*: TLS 1.3, kernel TLS on"
like "the same agent: a mount of 127.0.0.1, whose profile trusts another CA, is refused" \
	"$(nfs_mount tls)" "access denied"
like "... by that profile's CA, not by reverse DNS or the other profile" "$(cat agent6.log)" \
	"upcall nfs client anonymous peer 127.0.0.1:2049 name 127.0.0.1: failed: The certificate is NOT trusted"
is "one process served every handshake: no child of the agent" "$(pgrep -c -P "$agent_pid")" 0
stop_agent
NETNS="self nosuch" conf
out=$(timeout $((60 * scale)) "$agent" -c agent.conf 2>&1)
rc=$?
is "a namespace that does not exist: the agent does not start" "$rc" 1
like "... and says which" "$out" "handshake_netns: cannot open /run/netns/nosuch: No such file or directory"
NETNS="nfsc /run/netns/nfsc" conf
like "one namespace named twice: refused" "$(timeout $((60 * scale)) "$agent" -c agent.conf 2>&1)" \
	"handshake_netns: /run/netns/nfsc is a namespace named before"

# upcall_max_inflight: one worker taking at most 2 requests at once.  Four
# mounts of four addresses whose port 20490 answers the RPC-with-TLS probe
# and then nothing (a listener that notes each connection and each
# ClientHello):
# two ClientHellos come, the other two requests wait in the kernel until
# the first two time out (the profile's 6 s), then they come too
cat >stall.py <<'PY'
import socket, struct, sys, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 20490))
s.listen(64)
log = open(sys.argv[1], "a", buffering=1)
held = []
def serve(c, peer):
    # RPC-with-TLS (RFC 9289): a NULL call with AUTH_TLS first, answered
    # with the STARTTLS verifier; then the client's ClientHello
    held.append(c)
    mark = c.recv(4, socket.MSG_WAITALL)
    if len(mark) < 4:
        return
    call = c.recv(struct.unpack(">I", mark)[0] & 0x7fffffff, socket.MSG_WAITALL)
    reply = call[:4] + struct.pack(">IIII", 1, 0, 0, 8) + b"STARTTLS" + struct.pack(">I", 0)
    c.sendall(struct.pack(">I", 0x80000000 | len(reply)) + reply)
    if c.recv(1) == b"\x16":
        log.write("hello %s\n" % peer)
while True:
    c, a = s.accept()
    log.write("conn %s:%d\n" % a)
    threading.Thread(target=serve, args=(c, "%s:%d" % a), daemon=True).start()
PY
: >stall.log
python3 stall.py stall.log &
stall_pid=$!
{
	printf '[global]\nworkers = 1\nsocket =\nmodule = no\nuser = nobody\n'
	printf 'upcall_max_inflight = 2\n\n'
	printf '[profile stalled]\nroles = client\nupcall = client\nupcall_ports = 20490\n'
	printf 'handshake_timeout = 6000\nca = %s/ca.pem\n' "$dir"
} >agent.conf
start_agent agent8.log
agent_ready agent8.log
mpids=
for i in 2 3 4 5; do
	mkdir -p /tmp/mi$i
	timeout -s KILL $((60 * scale)) mount -t nfs4 \
		-o vers=4.2,xprtsec=tls,port=20490,soft,timeo=600,retrans=0 127.0.0.$i:/ /tmp/mi$i \
		>/dev/null 2>&1 &
	mpids="$mpids $!"
done
hellos() { grep -c '^hello' stall.log; }
conns() { grep -c '^conn' stall.log; }
ok "two ClientHellos, from the two requests the worker took" \
	wait_until $((30 * scale)) sh -c "[ \$(grep -c '^hello' stall.log) -ge 2 ]"
wait_until $((30 * scale)) sh -c "[ \$(grep -c '^conn' stall.log) -ge 4 ]"
is "... while $(conns) connections wait for one: not more than upcall_max_inflight = 2" \
	"$(hellos)" 2
ok "... the two waiting in the kernel are taken when the first two time out" \
	wait_until $((60 * scale)) sh -c "[ \$(grep -c '^hello' stall.log) -ge 4 ]"
like "... which the agent logged" "$(cat agent8.log)" \
	"upcall kernel client anonymous peer 127.0.0.[2-5]:20490 name 127.0.0.[2-5]: failed: handshake timed out"
kill $mpids 2>/dev/null
kill "$stall_pid"
stop_agent
wait 2>/dev/null
sed 's/^/# /' stall.log
