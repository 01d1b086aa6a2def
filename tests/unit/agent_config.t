#!/bin/bash
# ktls-agent --check on the host: the configuration rules that keep trust
# explicit (client_cert and the client role need a CA; a CRL needs its CA
# and must be signed by it; an OCSP response must belong to its
# certificate), with the test PKI of tests/lib/pki.sh.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
agent=$KTLS_BUILD/bin/ktls-agent
dir=$(mktemp -d /tmp/agent_config.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
make_pki "$dir"
make_cert "$dir" other other.example good
make_cert "$dir" untrusted localhost otherca
make_crl "$dir" crl.pem other
make_ocsp "$dir" server
make_ocsp "$dir" other

# check NAME EXTRA-LINES...: ktls-agent -t on a profile with the server key
check() {
	_n=$1
	shift
	{
		printf '[profile p]\ncert = %s/server.pem\nkey = %s/server.key\n' "$dir" "$dir"
		printf '%s\n' "$@"
	} >"$_n.conf"
	out=$("$agent" -t -c "$_n.conf" 2>&1)
	echo "rc=$? $out"
}

like "[global] sched_batch = maybe: refused" "$(check sb1 '[global]' 'sched_batch = maybe')" \
	"^rc=1 .*sched_batch must be yes or no, not 'maybe'"
like "sched_batch = no: accepted" "$(check sb2 '[global]' 'sched_batch = no')" "^rc=0 "
like "client_cert = required without ca: refused" "$(check a 'client_cert = required')" \
	"^rc=1 .*profile 'p': client_cert needs ca = FILE"
like "client_cert = optional without ca: refused" "$(check b 'client_cert = optional')" \
	"^rc=1 .*client_cert needs ca = FILE"
like "client_cert with ca = system: refused, saying why" \
	"$(check c 'client_cert = required' 'ca = system')" "^rc=1 .*ca = system would accept"
like "client_cert with ca = FILE: accepted" \
	"$(check d 'client_cert = required' "ca = $dir/ca.pem")" "^rc=0 "
like "the client role without ca: refused" "$(check e 'roles = client')" \
	"^rc=1 .*the client role needs ca = FILE"
like "the client role with ca = system: accepted" \
	"$(check f 'roles = server, client' 'ca = system')" "^rc=0 "
like "crl without ca: refused" "$(check g "crl = $dir/crl.pem")" "^rc=1 .*crl needs ca"
like "crl with its CA: accepted" "$(check h "ca = $dir/ca.pem" "crl = $dir/crl.pem")" "^rc=0 "
like "a CRL the CA did not sign: refused" \
	"$(check i "ca = $dir/other-ca.pem" "crl = $dir/crl.pem")" "^rc=1 .*CRL $dir/crl.pem"
like "a CRL file that is not one: refused" \
	"$(check j "ca = $dir/ca.pem" "crl = $dir/ca.pem")" "^rc=1 .*CRL $dir/ca.pem"
like "ocsp_response for its certificate: accepted" \
	"$(check k "ocsp_response = $dir/server.ocsp")" "^rc=0 "
like "ocsp_response of another certificate: refused" \
	"$(check l "ocsp_response = $dir/other.ocsp")" "^rc=1 .*OCSP response $dir/other.ocsp for"
like "ocsp_response before any cert: refused" \
	"$(printf '[profile p]\nocsp_response = x\n' >m.conf; "$agent" -t -c m.conf 2>&1; echo "rc=$?")" \
	"must follow the cert and key lines"

# Priority strings (more in unit_tls): the default follows the system's
# policy (@SYSTEM, GNUTLS_SYSTEM_PRIORITY_FILE here), and what leaves
# nothing kernel TLS can carry is refused, naming why.
printf '[priorities]\nSYSTEM = NORMAL:-CIPHER-ALL:+AES-256-CBC\n' >system-cbc.cfg
like "the default priority is the system's: a CBC-only policy leaves nothing, and says so" \
	"$(GNUTLS_SYSTEM_PRIORITY_FILE=$dir/system-cbc.cfg check n)" \
	"^rc=1 .*priority '\(default\)' leaves no cipher that this kernel's TLS carries"
printf '[priorities]\nSYSTEM = NORMAL:-VERS-TLS1.3\n' >system-12.cfg
like "a system policy the kernel can carry is accepted" \
	"$(GNUTLS_SYSTEM_PRIORITY_FILE=$dir/system-12.cfg check o)" "^rc=0 "
like "priority = NORMAL:-VERS-ALL:+VERS-TLS1.1: refused, naming the versions left" \
	"$(check p 'priority = NORMAL:-VERS-ALL:+VERS-TLS1.1')" \
	"^rc=1 .*leaves no TLS version that kernel TLS carries \(TLS1.2, TLS1.3\); it allows only: TLS1.1"
like "a priority string that does not parse: refused, naming where" \
	"$(check q 'priority = NORMAL:+BOGUS')" "^rc=1 .*not valid near '\+BOGUS'"

# Long lines (inih's own limit is 200 bytes): a long priority string is one
# line, not two; a line over the limit is refused, not split.
long="NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305"
long="$long:+AES-128-GCM:-SIGN-ALL:+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SECP384R1-SHA384"
long="$long:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-PSS-RSAE-SHA384:+SIGN-RSA-PSS-RSAE-SHA512"
long="$long:+SIGN-EdDSA-Ed25519:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"
long="$long:-RSA:%SERVER_PRECEDENCE"
like "a priority line of ${#long} bytes is read whole" "$(check r "priority = $long")" "^rc=0 "
like "and its end counts: the same ending in -VERS-ALL is refused" \
	"$(check r2 "priority = $long:-VERS-ALL")" "^rc=1 .*leaves no TLS version"
huge="NORMAL$(head -c 17000 /dev/zero | tr '\0' ' ')"
like "a line of more than 16 KiB is refused with its line number" \
	"$(check s "priority = $huge")" "^rc=1 .*s.conf:4: line longer than 16381 bytes"

# The agent's own user can read the key files: it is never a requester.
agent_user() {
	printf '[global]\nuser = nobody\n[profile p]\ncert = %s/server.pem\nkey = %s/server.key\n%s\n' \
		"$dir" "$dir" "$2" >"$1.conf"
	out=$("$agent" -t -c "$1.conf" 2>&1)
	echo "rc=$? $out"
}
like "allow_users naming the agent's own user (user = nobody): refused" \
	"$(agent_user t 'allow_users = daemon, nobody')" \
	"^rc=1 .*profile 'p': allow_users names the agent's own user"
like "allow_users of other users with user = nobody: accepted" \
	"$(agent_user u 'allow_users = daemon')" "^rc=0 "

# What inih would take quietly: an indented line continuing the previous
# value, a section given twice (merged), a single-value key given twice.
like "an indented line is a line of its own, not alpn's continuation" \
	"$(check v 'alpn = http/1.1' '    bogus_key = 443')" "^rc=1 .*unknown key 'bogus_key'"
like "a section given twice: refused" \
	"$(check w 'client_cert = none' '[profile q]' "cert = $dir/server.pem" "key = $dir/server.key" \
	   '[profile p]')" "^rc=1 .*w.conf:8: section \[profile p\] given twice"
like "a single-value key given twice: refused" \
	"$(check x "ca = $dir/ca.pem" 'client_cert = required' 'client_cert = none')" \
	"^rc=1 .*'client_cert' given twice in \[profile p\]"
like "list keys add up" "$(check y 'allow_users = daemon' 'allow_users = bin')" "^rc=0 "

# nic_offload: tls12 needs a priority with TLS 1.2 and AES-GCM left in it
like "nic_offload = tls12: accepted" "$(check n1 'nic_offload = tls12')" "^rc=0 "
like "nic_offload = report with a TLS 1.3-only priority: accepted" \
	"$(check n2 'nic_offload = report' 'priority = NORMAL:-VERS-ALL:+VERS-TLS1.3')" "^rc=0 "
like "nic_offload = tls12 with a TLS 1.3-only priority: refused, saying why" \
	"$(check n3 'nic_offload = tls12' 'priority = NORMAL:-VERS-ALL:+VERS-TLS1.3')" \
	"^rc=1 .*profile p: nic_offload = tls12, but its priority allows no TLS 1.2 with AES-GCM"
like "nic_offload = tls12 with ChaCha20 only: refused" \
	"$(check n4 'nic_offload = tls12' 'priority = NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305')" \
	"^rc=1 .*allows no TLS 1.2 with AES-GCM"
like "nic_offload = sometimes: refused, naming the choices" \
	"$(check n5 'nic_offload = sometimes')" "^rc=1 .*nic_offload must be off, report or tls12, not 'sometimes'"
# the kernel's handshake upcall (issue 20): profile keys and tlshd.conf
like "upcall = server with ports and peers: accepted" \
	"$(check u1 'upcall = server' 'upcall_ports = 2049, 20049-20050' 'upcall_peers = 10.0.0.1')" "^rc=0 "
like "upcall = sometimes: refused, naming the choices" "$(check u2 'upcall = sometimes')" \
	"^rc=1 .*upcall: 'sometimes' is not server, client or none"
like "upcall_ports = 70000: refused" "$(check u3 'upcall = server' 'upcall_ports = 70000')" \
	"^rc=1 .*upcall_ports: '70000' is not a port"
like "upcall = client without ca: refused" "$(check u4 'upcall = client')" \
	"^rc=1 .*the client role needs ca = FILE"
like "upcall with a TLS 1.2-only priority: refused (the kernel's consumers speak TLS 1.3)" \
	"$(check u5 'upcall = server' 'priority = NORMAL:-VERS-ALL:+VERS-TLS1.2')" \
	"^rc=1 .*upcall, but its priority allows no TLS 1.3"
run_conf() { out=$("$agent" -t -c "$1" 2>&1); echo "rc=$? $out"; }
printf '[profile q]\nupcall = server\n' >u6.conf
like "upcall = server without a certificate: refused" "$(run_conf u6.conf)" \
	"^rc=1 .*upcall = server needs cert and key"
# tlshd.conf as tlshd reads it: spaces after '=', comments, both sides
cat >tlshd.conf <<T
[debug]
loglevel=0

[authenticate]
#keyrings= <keyring>

[authenticate.client]
x509.truststore= $dir/ca.pem
x509.certificate= $dir/other.pem
x509.private_key= $dir/other.key

[authenticate.server]
x509.truststore= $dir/ca.pem
x509.certificate= $dir/server.pem
x509.private_key= $dir/server.key
T
printf '[global]\nsocket =\ntlshd_config = %s/tlshd.conf\n' "$dir" >u7.conf
like "tlshd_config: tlshd.conf becomes profiles tlshd-client and tlshd-server" \
	"$(run_conf u7.conf)" "^rc=0 .*OK \(2 profiles\)"
sed -i '/^x509.private_key= .*server.key/d' tlshd.conf
like "tlshd.conf with a certificate and no key: refused, naming the section" \
	"$(run_conf u7.conf)" \
	"^rc=1 .*\[authenticate.server\] needs both x509.certificate and x509.private_key"
printf '[global]\ntlshd_config = %s/missing.conf\n[profile p]\ncert = %s/server.pem\nkey = %s/server.key\n' \
	"$dir" "$dir" "$dir" >u8.conf
like "tlshd_config naming a missing file: refused" "$(run_conf u8.conf)" \
	"^rc=1 .*tlshd_config $dir/missing.conf: No such file or directory"
like "handshake_upcall = maybe: refused" "$(check u9 '[global]' 'handshake_upcall = maybe')" \
	"^rc=1 .*handshake_upcall must be auto, yes or no"
like "handshake_netns = self, a name and a path: accepted" \
	"$(check n1 'upcall = server' '[global]' 'handshake_netns = self nfs1, /proc/1/ns/net')" "^rc=0 "
like "handshake_netns = a/b: refused (a name from ip netns has no slash)" \
	"$(check n2 '[global]' 'handshake_netns = self a/b')" \
	"^rc=1 .*handshake_netns: 'a/b' is not self, a name from ip netns or an absolute path"
like "handshake_netns = ..: refused" "$(check n3 '[global]' 'handshake_netns = ..')" \
	"^rc=1 .*handshake_netns: '\.\.' is not self"
like "handshake_netns given twice: refused" \
	"$(check n4 '[global]' 'handshake_netns = self' 'handshake_netns = nfs1')" \
	"^rc=1 .*handshake_netns"
like "key_update_after = 64M: accepted" "$(check k1 'key_update_after = 64M')" "^rc=0 "
like "key_update_after = 0 (the cipher's limit): accepted" "$(check k2 'key_update_after = 0')" "^rc=0 "
like "key_update_after = 512K: refused (under 1M)" "$(check k3 'key_update_after = 512K')" \
	"^rc=1 .*key_update_after must be 0 or a size of at least 1M"
like "key_update_after = 1X: refused" "$(check k4 'key_update_after = 1X')" \
	"^rc=1 .*key_update_after must be"
like "key_update_after = 99999999T: refused (overflow)" "$(check k5 'key_update_after = 99999999T')" \
	"^rc=1 .*key_update_after must be"
like "key_update_after = -1: refused" "$(check k6 'key_update_after = -1')" \
	"^rc=1 .*key_update_after must be"
plan $_tap_n
