#!/bin/bash
# guest-timeout: 300
# ktls_nicsim against a local user and against its own knobs: an
# unprivileged user in its own user and network namespaces cannot create a
# device (nor by handing its netlink socket to a privileged writer, nor,
# the module having no rtnl-link alias, get it loaded), nor
# write a knob; knobs refuse bad values, follow renames and are per device
# even where two devices share a name in different namespaces; a packet the
# reorder knob holds back pins nothing (the sender's namespace is
# dismantled at "ip netns del") and goes out alone if no packet follows it;
# a transfer with the sender's checksum offload off stays on the device.
set -u
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/nicsim.sh"
asuser() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
knobs() { nicsim_knob "$1"; }
ctr() { nicsim_ctr "$@"; }
# within SECONDS CMD...: CMD succeeds within SECONDS (scaled)
within() {
	local n=$(( $1 * 10 * scale )) i
	shift
	for i in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

plan 26

ok "the generic ctr and GHASH load" nicsim_crypto
ok "ktls_nicsim loads" insmod "$KTLS_NICSIM_MODULE"

# --- a local user in its own namespaces
out=$(asuser unshare -Urn ip link add u0 type ktls_nicsim 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
ok "uid 65534 in its own user and network namespace cannot create a ktls_nicsim pair" test "$rc" != 0
like "...and is told why" "$out" "CAP_NET_ADMIN in the initial user namespace"
alias=$(modinfo -F alias "$KTLS_NICSIM_MODULE" 2>&1)
unlike "the module has no rtnl-link alias ('ip link add ... type ktls_nicsim' loads nothing)" "$alias" "rtnl-link"

# a socket uid 65534 opened in its own namespaces, written by a privileged
# process (as a setuid program writing what it is given would): refused
d=/tmp/nicsim-deputy
rm -rf "$d"; mkdir -p "$d"; chmod 777 "$d"

cat >"$d/writer.py" <<'EOF'
# the privileged writer: receives an fd, writes bytes into it, reports the ack
import os, socket, struct, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path); os.chmod(path, 0o777); srv.listen(1)
open(path + ".ready", "w").close()
c, _ = srv.accept()
_, anc, _, _ = c.recvmsg(16, socket.CMSG_LEN(4))
fd = struct.unpack("i", anc[0][2][:4])[0]
def attr(t, data):
    l = 4 + len(data)
    return struct.pack("HH", l, t) + data + b"\0" * ((4 - l % 4) % 4)
body = struct.pack("BxHiII", 0, 0, 0, 0, 0) + attr(3, b"evil0\0") + \
       attr(18, attr(1, b"ktls_nicsim\0"))
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
hdr = struct.pack("IHHII", 16 + len(body), 16,
                  NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE, 1, 0)
os.write(fd, hdr + body)
ack = os.read(fd, 4096)
c.send(str(struct.unpack("i", ack[16:20])[0]).encode())
EOF

cat >"$d/user.py" <<'EOF'
# uid 65534, root of its own user+net namespace: opens the netlink socket,
# hands it over, then looks at its namespace
import os, socket, subprocess, sys
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
nl.bind((0, 0))
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.connect(sys.argv[1])
u.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(__import__("array").array("i", [nl.fileno()]))))])
print("ack", u.recv(32).decode())
r = subprocess.run(["ip", "-o", "link", "show", "type", "ktls_nicsim"], capture_output=True, text=True)
print("links", r.stdout.strip().replace("\n", " | "))
r = subprocess.run(["ip", "link", "set", "evil0", "up"], capture_output=True, text=True)
print("up", r.returncode)
EOF

python3 "$d/writer.py" "$d/sock" >"$d/writer.out" 2>&1 &
w=$!
for i in $(seq 100); do [ -e "$d/sock.ready" ] && break; sleep 0.1; done
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups unshare -Urn python3 "$d/user.py" "$d/sock" 2>&1)
wait "$w"
echo "$out" | sed 's/^/# /'
sed 's/^/# writer: /' "$d/writer.out"
unlike "RTM_NEWLINK on a socket uid 65534 opened in its namespaces is refused, whoever writes it" \
	"$out" "^ack 0$"
unlike "...and no ktls_nicsim pair appears in uid 65534's network namespace" "$out" "evil0"

# --- the knobs
ip link add k0 type ktls_nicsim
ok "root creates k0 and k0p; k0 has its knobs" test -w "$(knobs k0)/drop_permille"
asuser sh -c "echo 500 > $(knobs k0)/drop_permille" 2>/dev/null
is "uid 65534 cannot set a knob" "$(cat "$(knobs k0)/drop_permille")" 0
fails "drop_permille refuses 1001" sh -c "echo 1001 > $(knobs k0)/drop_permille"
fails "...and 'many'" sh -c "echo many > $(knobs k0)/drop_permille"
ok "...takes 1000" sh -c "echo 1000 > $(knobs k0)/drop_permille"
fails "refuse_add refuses 'maybe'" sh -c "echo maybe > $(knobs k0)/refuse_add"
asuser sh -c "echo 9 > $(knobs k0)/drop_next_encrypted" 2>/dev/null
is "uid 65534 cannot set drop_next_encrypted" "$(cat "$(knobs k0)/drop_next_encrypted")" 0
fails "drop_next_encrypted refuses 1001" sh -c "echo 1001 > $(knobs k0)/drop_next_encrypted"
fails "...and -1" sh -c "echo -1 > $(knobs k0)/drop_next_encrypted"
echo 0 > "$(knobs k0)/drop_permille"
echo 250 > "$(knobs k0)/reorder_permille"
ip link set k0 name k1
is "a renamed device keeps its knobs (k1's reorder_permille)" "$(cat "$(knobs k1)/reorder_permille" 2>&1)" 250
ip link del k1

# the same name in two namespaces: each device its own knobs
ip netns add A; ip netns add B
ip link add d0 type ktls_nicsim && ip link set d0 netns A && ip link set d0p netns B
ip link add d0 type ktls_nicsim
ip netns exec A sh -c "echo 7 > $(knobs d0)/drop_permille"
echo 3 > "$(knobs d0)/drop_permille"
is "d0 in namespace A and d0 here: separate knobs (A's)" \
	"$(ip netns exec A cat "$(knobs d0)/drop_permille")" 7
is "...(this one's)" "$(cat "$(knobs d0)/drop_permille")" 3
ip link del d0
ip -n A link del d0
ip netns del A; ip netns del B

# --- a held packet pins nothing and goes out alone
# setup PERMILLE: A/nsa <-> B/nsap, IPv4 only (no stack-made IPv6 traffic),
# a permanent neighbour entry (no ARP)
setup() {
	ip netns add A && ip netns add B &&
	ip link add nsa type ktls_nicsim && ip link set nsa netns A && ip link set nsap netns B &&
	ip netns exec A sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip netns exec B sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip -n A link set lo up && ip -n B link set lo up &&
	ip -n A addr add 10.77.0.1/24 dev nsa && ip -n B addr add 10.77.0.2/24 dev nsap &&
	ip -n A link set nsa up && ip -n B link set nsap up &&
	ip -n A neigh replace 10.77.0.2 lladdr "$(ip netns exec B cat /sys/class/net/nsap/address)" dev nsa nud permanent &&
	ip netns exec A sh -c "echo $1 > $(knobs nsa)/reorder_permille"
}
nsap_gone() { ! ip -n B link show nsap >/dev/null 2>&1; }

ok "A/nsa <-> B/nsap, every other packet held back" setup 1000
rm -f /tmp/nicsim-udp.out
ip netns exec B timeout $(( 30 * scale )) python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.2", 9999))
open("/tmp/nicsim-udp.ready", "w").close()
sys.stdout.write(s.recv(100).decode())' >/tmp/nicsim-udp.out 2>&1 &
rcv=$!
within 20 test -e /tmp/nicsim-udp.ready
r0=$(ctr A nsa tx_reordered)
ip netns exec A bash -c 'echo alone > /dev/udp/10.77.0.2/9999'
wait "$rcv"
is "a lone datagram held back by the reorder knob still arrives" "$(cat /tmp/nicsim-udp.out)" alone
ok "...it was the one held ($(( $(ctr A nsa tx_reordered) - r0 )) held)" test "$(ctr A nsa tx_reordered)" -gt "$r0"
rm -f /tmp/nicsim-udp.ready /tmp/nicsim-udp.out

# a datagram of a process that is gone, held: "ip netns del A" dismantles A
# (and with it nsa, and its peer nsap in B)
r0=$(ctr A nsa tx_reordered)
ip netns exec A bash -c 'echo x > /dev/udp/10.77.0.2/9'
held=$(( $(ctr A nsa tx_reordered) - r0 ))
ip netns del A
ok "ip netns del A with a packet held ($held): namespace A dismantled, nsap gone from B" within 10 nsap_gone
ip netns del B

# --- the sender computing checksums itself: the segment still goes out
# encrypted on the device, and the receiving engine decrypts it
ip netns add A; ip netns add B
ip -n A link set lo up; ip -n B link set lo up
ip link add nsa type ktls_nicsim && ip link set nsa netns A && ip link set nsap netns B &&
	ip -n A addr add 10.77.0.1/24 dev nsa && ip -n B addr add 10.77.0.2/24 dev nsap &&
	ip -n A link set nsa up && ip -n B link set nsap up
ip netns exec A ethtool -K nsa tx off >/dev/null 2>&1
d0=$(ctr B nsap rx_segs_decrypted)
ok "nsa without checksum offload: 1 MiB intact over TLS 1.2" \
	timeout -s KILL $(( 120 * scale )) "$pair" A B 10.77.0.2 12 128 1
ok "...decrypted by nsap's engine ($(( $(ctr B nsap rx_segs_decrypted) - d0 )) segments), no checksum failure" \
	test "$(ctr B nsap rx_segs_decrypted)" -gt "$d0" -a "$(ctr B nsap rx_bad_csum)" = 0
ip netns del A; ip netns del B
ok "rmmod ktls_nicsim" within 10 rmmod ktls_nicsim
