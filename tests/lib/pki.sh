# Test PKI with GnuTLS's certtool (ECDSA P-256: quick even in the emulated
# guest).  make_pki DIR creates there:
#   ca.pem/ca.key          the test CA
#   server.pem/server.key  CN=localhost, DNS localhost, IP 127.0.0.1, by ca
# All keys mode 0600.
make_pki() {
	(
	set -e
	cd "$1"
	umask 077
	cat >ca.tmpl <<T
cn = "ktls-offload test CA"
ca
cert_signing_key
expiration_days = 30
T
	cat >server.tmpl <<T
cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
encryption_key
expiration_days = 30
T
	certtool -q --generate-privkey --key-type ecdsa --curve secp256r1 --outfile ca.key 2>/dev/null
	certtool -q --generate-self-signed --load-privkey ca.key --template ca.tmpl \
		--outfile ca.pem 2>/dev/null
	certtool -q --generate-privkey --key-type ecdsa --curve secp256r1 --outfile server.key 2>/dev/null
	certtool -q --generate-certificate --load-privkey server.key --load-ca-certificate ca.pem \
		--load-ca-privkey ca.key --template server.tmpl --outfile server.pem 2>/dev/null
	chmod 600 ./*.key
	)
}

# tls_stat NAME: a counter of /proc/net/tls_stat
tls_stat() {
	awk -v n="$1" '$1 == n { print $2 }' /proc/net/tls_stat
}

# wait_for_line FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN
wait_for_line() {
	_i=0
	while [ $_i -lt $((${3:-10} * 20)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}
