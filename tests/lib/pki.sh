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
crl_signing_key
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

# wait_until SECONDS COMMAND...: until COMMAND succeeds, polled every 50 ms
# for SECONDS of wall-clock time (a command that is slow on a loaded
# machine uses up the time, not a count of tries); COMMAND runs at least
# once, and the last try ends after the time is up
wait_until() {
	_wu_clock
	_wu_end=$((_wu_now + $1 * 100))
	shift
	while ! "$@" 2>/dev/null; do
		_wu_clock
		[ "$_wu_now" -lt "$_wu_end" ] || return 1
		sleep 0.05
	done
}

# _wu_clock: _wu_now = the time since boot in hundredths of a second
# (/proc/uptime; POSIX sh, for the tests that run under dash)
_wu_clock() {
	read -r _wu_up _wu_rest </proc/uptime
	_wu_now=$((${_wu_up%.*} * 100 + 1${_wu_up#*.} - 100))
}

# wait_for_line FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN
wait_for_line() { wait_until "${3:-10}" grep -q -- "$2" "$1"; }

# wait_nonempty FILE [SECONDS]: until FILE exists and is not empty (a
# download has begun)
wait_nonempty() { wait_until "${2:-10}" test -s "$1"; }

# make_cert DIR NAME CN KIND: NAME.pem/NAME.key in DIR (after make_pki), for
# the CN (also its DNS name).  KIND: good (by the test CA), expired (by the
# test CA, validity ended in 2021), selfsigned, otherca (by a second CA the
# peers do not trust), client (a client certificate by the test CA),
# clientonly (by the test CA, with the DNS name but only the TLS client
# purpose: a server presenting it fails an EKU check).
make_cert() {
	(
	set -e
	cd "$1"
	umask 077
	{
		echo "cn = \"$3\""
		case $4 in
		client) echo tls_www_client ;;
		clientonly) echo "dns_name = \"$3\""; echo tls_www_client ;;
		*) echo "dns_name = \"$3\""; echo tls_www_server ;;
		esac
		echo signing_key
		echo encryption_key
		case $4 in
		expired) echo 'activation_date = "2020-01-01 00:00:00"'
			 echo 'expiration_date = "2021-01-01 00:00:00"' ;;
		*) echo "expiration_days = 30" ;;
		esac
	} >"$2.tmpl"
	certtool -q --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$2.key" 2>/dev/null
	case $4 in
	selfsigned)
		certtool -q --generate-self-signed --load-privkey "$2.key" --template "$2.tmpl" \
			--outfile "$2.pem" 2>/dev/null ;;
	otherca)
		if [ ! -f other-ca.pem ]; then
			printf 'cn = "untrusted CA"\nca\ncert_signing_key\nexpiration_days = 30\n' \
				>other-ca.tmpl
			certtool -q --generate-privkey --key-type ecdsa --curve secp256r1 \
				--outfile other-ca.key 2>/dev/null
			certtool -q --generate-self-signed --load-privkey other-ca.key \
				--template other-ca.tmpl --outfile other-ca.pem 2>/dev/null
		fi
		certtool -q --generate-certificate --load-privkey "$2.key" --load-ca-certificate \
			other-ca.pem --load-ca-privkey other-ca.key --template "$2.tmpl" \
			--outfile "$2.pem" 2>/dev/null ;;
	*)
		certtool -q --generate-certificate --load-privkey "$2.key" --load-ca-certificate \
			ca.pem --load-ca-privkey ca.key --template "$2.tmpl" --outfile "$2.pem" \
			2>/dev/null ;;
	esac
	chmod 600 ./*.key
	)
}

# make_crl DIR OUT [NAME...]: OUT, a PEM CRL by the test CA revoking the
# certificates NAME.pem (none: an empty CRL), valid 30 days.
make_crl() {
	(
	set -e
	cd "$1"
	out=$2
	shift 2
	printf 'crl_next_update = 30\ncrl_number = %s\n' "$(date +%s)" >crl.tmpl
	for n in "$@"; do cat "$n.pem"; done >crl-revoke.pem
	if [ -s crl-revoke.pem ]; then
		certtool -q --generate-crl --load-ca-privkey ca.key --load-ca-certificate ca.pem \
			--load-certificate crl-revoke.pem --template crl.tmpl --outfile "$out" 2>/dev/null
	else
		certtool -q --generate-crl --load-ca-privkey ca.key --load-ca-certificate ca.pem \
			--template crl.tmpl --outfile "$out" 2>/dev/null
	fi
	)
}

# make_ocsp DIR NAME [STATUS]: NAME.ocsp, a DER OCSP response by the test
# CA for NAME.pem, valid 7 days; STATUS good (default) or revoked.
make_ocsp() {
	(
	set -e
	cd "$1"
	serial=$(openssl x509 -noout -serial -in "$2.pem" | cut -d= -f2)
	subj=$(openssl x509 -noout -subject -nameopt compat -in "$2.pem" | sed 's/^subject=//')
	case ${3:-good} in
	good) printf 'V\t301231235959Z\t\t%s\tunknown\t%s\n' "$serial" "$subj" ;;
	revoked) printf 'R\t301231235959Z\t%s\t%s\tunknown\t%s\n' \
		"$(date -u +%y%m%d%H%M%SZ)" "$serial" "$subj" ;;
	esac >"$2.ocsp-index"
	openssl ocsp -issuer ca.pem -cert "$2.pem" -no_nonce -reqout "$2.ocsp-req" >/dev/null 2>&1
	openssl ocsp -index "$2.ocsp-index" -rsigner ca.pem -rkey ca.key -CA ca.pem \
		-reqin "$2.ocsp-req" -respout "$2.ocsp" -ndays 7 >/dev/null 2>&1
	)
}
