#!/bin/bash
# guest-timeout: 2400
# guest-kernels: 6.12
# A TLS scanner against the shipped example configuration (issue 17): Debian's
# testssl.sh, on the host (scan.host), runs the rating parts of its default
# scan (protocols, cipher categories, forward secrecy, server preferences,
# certificate and defaults, HTTP headers, vulnerabilities from Heartbleed
# to ROBOT; not the client simulation) against ktls-serve on port 443
# with dist/ktls-agent.conf as shipped (only the paths changed) and an RSA-2048 certificate from the test CA.  Nothing may
# be rated HIGH or CRITICAL; the scan must have reached the server (TLS 1.3
# offered, TLS 1.0/1.1 and SSL not, the server's cipher order) and its
# HTTP requests must have crossed kernel TLS.  On 6.12 only: the handshake
# is the agent's, in userspace, the same on every kernel, and a scan takes
# 10 to 20 minutes under emulation (which is why it runs on the host).
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
scale=${KTLS_TIME_SCALE:-1}
serve_setup scan
echo '<!DOCTYPE html><title>scan</title>' >www/index.html

# an RSA-2048 server certificate (the test PKI's own is ECDSA) as a
# public CA would issue it: a year's validity, a CRL distribution point
# (the scanner rates a certificate without CRL or OCSP URI, or one that
# expires within 30 days, HIGH: properties of the certificate, not of
# the server)
sed -e 's/^expiration_days = .*/expiration_days = 365/' server.tmpl >rsa.tmpl
echo 'crl_dist_points = "http://localhost/ca.crl"' >>rsa.tmpl
(umask 077 && certtool -q --generate-privkey --key-type rsa --bits 2048 --outfile rsa.key 2>/dev/null)
certtool -q --generate-certificate --load-privkey rsa.key --load-ca-certificate ca.pem \
	--load-ca-privkey ca.key --template rsa.tmpl --outfile rsa.pem 2>/dev/null

# the example configuration: its own paths, no `user =` (the guest has no
# ktls-agent user; privileges are agent_roles.t's subject)
sed -e "s|/etc/ktls-offload/server.pem|$dir/rsa.pem|" \
	-e "s|/etc/ktls-offload/server.key|$dir/rsa.key|" \
	-e '/^user = /d' \
	-e "/^\\[global\\]/a socket = $dir/agent.sock" \
	"$KTLS_SRC/dist/ktls-agent.conf" >agent.conf

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
agent_pid=$!
wait_for_line agent.log "ready:" $((20 * scale)) || echo "# the agent did not start"
"$serve" -p 443 --handshake-timeout 60 "$dir/www" 2>serve.log &
pids="$pids $!"
ok "ktls-serve with the example configuration on port 443" \
	wait_for_line serve.log "via the ktls_offload module" $((20 * scale))

# The scanner runs on the host (scan.host): the server's port 443 on a
# virtio NIC, reached through QEMU's user-mode network as a remote
# client reaches a server.
modprobe virtio_net
nic=
for n in /sys/class/net/*; do
	[ -e "$n/device" ] && nic=$(basename "$n") && break
done
ok "the guest has a NIC for the host's scanner" test -n "$nic"
ip addr add 10.0.2.15/24 dev "$nic" && ip link set "$nic" up
h=$KTLS_OUT/scan-host
mkdir -p "$h" && cp ca.pem "$h/"
tx0=$(tls_stat TlsTxSw)
touch "$h/ready"
rc=none secs=$((1900 * scale))
wait_until $secs test -e "$h/done" && read -r rc secs <"$h/done"
echo "# testssl.sh exited with $rc after $secs s"
cp "$h/scan.json" scan.json 2>/dev/null
ok "testssl.sh wrote its findings" test -s scan.json

# finding IDS... : their "finding" texts, one per line
finding() { python3 - "$@" <<'PY'
import json, sys
for f in json.load(open("scan.json")):
    if f.get("id") in sys.argv[1:]:
        print(f["id"], f["finding"])
PY
}
high=$(python3 - <<'PY' 2>&1
import json
for f in json.load(open("scan.json")):
    if f.get("severity") in ("HIGH", "CRITICAL"):
        print(f["severity"], f["id"], f["finding"])
PY
)
is "no finding rated HIGH or CRITICAL" "$high" ""
[ -z "$high" ] || echo "$high" | sed 's/^/# /'
like "the scan covered many points" \
	"$(python3 -c 'import json; print(len(json.load(open("scan.json"))))' 2>&1)" '^([5-9][0-9]|[1-9][0-9][0-9]+)$'
like "TLS 1.3 is offered" "$(finding TLS1_3)" "^TLS1_3 offered"
like "TLS 1.2 is offered" "$(finding TLS1_2)" "^TLS1_2 offered"
is "SSLv2, SSLv3, TLS 1.0 and 1.1 are not" \
	"$(finding SSLv2 SSLv3 TLS1 TLS1_1 | grep -c '^[^ ]* not offered')" 4
like "the server chooses the cipher order" "$(finding cipher_order)" "^cipher_order server"
like "Heartbleed and the CCS injection were tried: not vulnerable" \
	"$(finding heartbleed CCS | tr '\n' ' ')" "^heartbleed not vulnerable.* CCS not vulnerable"
ok "its HTTP requests crossed kernel TLS" test "$(tls_stat TlsTxSw)" -gt "$tx0"
plan $_tap_n
