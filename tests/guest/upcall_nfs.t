#!/bin/bash
# guest-timeout: 900
# ktls-agent as the kernel's handshake agent for NFS (issue 20): nfsd exports
# a tmpfs over loopback and the kernel's NFS client mounts it with
# xprtsec=tls, then xprtsec=mtls; both ends' handshakes come to the agent
# (as user nobody with CAP_NET_ADMIN alone) through the kernel's
# "handshake" netlink family.  A file written and read back is intact and
# both ends run kernel TLS; an untrusted server certificate and a stopped
# agent make the mount fail with a clear error; an agent killed while a
# mount waits is replaced and the mount completes.  On 6.1, which has no
# such family, the agent starts and says so.
set -u
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"

scale=${KTLS_TIME_SCALE:-1}
mib=${KTLS_UPCALL_MIB:-64}
T=$((120 * scale))
serve_setup upcall-nfs
chmod 755 "$dir"

# conf [SERVER_CA]: both ends' profiles (the client's CAs: ca.pem or another)
conf() {
	{
		printf '[global]\nworkers = 2\nsocket =\nmodule = no\nuser = nobody\n\n'
		printf '[profile nfs-server]\nupcall = server\nupcall_ports = 2049\n'
		printf 'handshake_timeout = %s\n' $((20000 * scale))
		printf 'cert = %s/server.pem\nkey = %s/server.key\n' "$dir" "$dir"
		printf 'client_cert = optional\nca = %s/ca.pem\n\n' "$dir"
		printf '[profile nfs-client]\nroles = client\nupcall = client\n'
		printf 'upcall_ports = 2049\nupcall_peers = 127.0.0.1\n'
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
	rpc.nfsd 0 >/dev/null 2>&1
	pkill rpc.mountd
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

plan 19
trap cleanup_nfs EXIT
make_cert "$dir" client client.example client
conf
ok "nfsd and the NFS client load" modprobe -a nfsd nfsv4
mount -t tmpfs tmpfs /var/lib/nfs && mkdir -p /var/lib/nfs/v4recovery
mount -t nfsd nfsd /proc/fs/nfsd
mount -t tmpfs tmpfs /srv && mkdir -p /srv/export "$mnt" && mount -t tmpfs tmpfs /srv/export
exportfs -o rw,fsid=0,no_root_squash,insecure,no_subtree_check 127.0.0.1:/srv/export \
	2>/dev/null
ok "nfsd serves NFSv4 on 2049 (rpc.mountd, rpc.nfsd)" \
	sh -c 'rpc.mountd -N 3 -u && rpc.nfsd -N 3 -U 4 && grep -q 2049 /proc/fs/nfsd/portlist'
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
