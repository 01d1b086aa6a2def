// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "session_keys.h"
#include "ktls_keys.h"
#include "loopback.h"

static uint64_t seq_from_bytes(const unsigned char seq[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | seq[i];
	return v;
}

/* One direction: read = 1 for RX, 0 for TX. */
static int install_direction(gnutls_session_t s, int fd, int read,
			     uint16_t version, const struct ktls_cipher *c)
{
	gnutls_datum_t mac = { 0 }, iv = { 0 }, key = { 0 };
	unsigned char seq[8];
	union ktls_crypto_info ci;
	int len, ret;

	ret = gnutls_record_get_state(s, read, &mac, &iv, &key, seq);
	if (ret < 0)
		return -EPROTO;
	/* The datums point into GnuTLS's own state, which it wipes at deinit. */
	len = ktls_crypto_info_fill(&ci, version, c, key.data, key.size,
				    iv.data, iv.size, seq_from_bytes(seq));
	ret = len < 0 ? len : ktls_install(fd, read ? TLS_RX : TLS_TX, &ci, len);
	ktls_crypto_info_wipe(&ci);
	explicit_bzero(seq, sizeof(seq));
	return ret;
}

int agent_handoff(gnutls_session_t s, int fd, bool ulp_attached, uint32_t *tls_version,
		  uint32_t *cipher)
{
	const struct ktls_cipher *c;
	uint16_t version;
	int ret;

	switch (gnutls_protocol_get_version(s)) {
	case GNUTLS_TLS1_3:
		version = TLS_1_3_VERSION;
		break;
	case GNUTLS_TLS1_2:
		version = TLS_1_2_VERSION;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	c = ktls_cipher_by_name(gnutls_cipher_get_name(gnutls_cipher_get(s)));
	if (!c)
		return -EPROTONOSUPPORT;

	/* Bytes GnuTLS already holds would never reach the kernel. */
	if (gnutls_record_check_pending(s) > 0)
		return -EPROTO;

	ret = ulp_attached ? 0 : ktls_attach_ulp(fd);
	if (!ret)
		ret = install_direction(s, fd, 0, version, c);
	if (!ret)
		ret = install_direction(s, fd, 1, version, c);
	if (ret)
		return ret;
	*tls_version = version;
	*cipher = c->kernel_type;
	return 0;
}

/*
 * GnuTLS error -> errno reported to the requester.  Documented in
 * ktls-agent(8); keep the two in step.
 */
static const struct {
	int gnutls;
	int err;
} errno_map[] = {
	{ GNUTLS_E_MEMORY_ERROR,			ENOMEM },
	{ GNUTLS_E_PREMATURE_TERMINATION,		ECONNRESET },
	{ GNUTLS_E_PULL_ERROR,				ECONNRESET },
	{ GNUTLS_E_PUSH_ERROR,				ECONNRESET },
	{ GNUTLS_E_FATAL_ALERT_RECEIVED,		ECONNREFUSED },
	{ GNUTLS_E_NO_CIPHER_SUITES,			EPROTONOSUPPORT },
	{ GNUTLS_E_UNKNOWN_CIPHER_SUITE,		EPROTONOSUPPORT },
	{ GNUTLS_E_UNSUPPORTED_VERSION_PACKET,		EPROTONOSUPPORT },
	{ GNUTLS_E_INSUFFICIENT_CREDENTIALS,		EPROTONOSUPPORT },
	{ GNUTLS_E_NO_COMMON_KEY_SHARE,			EPROTONOSUPPORT },
	{ GNUTLS_E_UNKNOWN_PK_ALGORITHM,		EPROTONOSUPPORT },
	{ GNUTLS_E_NO_APPLICATION_PROTOCOL,		ENOPROTOOPT },
	{ GNUTLS_E_NO_CERTIFICATE_FOUND,		ENOKEY },
	{ GNUTLS_E_CERTIFICATE_REQUIRED,		ENOKEY },
	{ GNUTLS_E_CERTIFICATE_ERROR,			EKEYREJECTED },
	{ GNUTLS_E_UNEXPECTED_PACKET,			EBADMSG },
	{ GNUTLS_E_UNEXPECTED_PACKET_LENGTH,		EBADMSG },
	{ GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET,		EBADMSG },
	{ GNUTLS_E_DECRYPTION_FAILED,			EBADMSG },
	{ GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER,		EBADMSG },
	{ GNUTLS_E_RECEIVED_DISALLOWED_NAME,		EBADMSG },
	{ GNUTLS_E_ILLEGAL_PARAMETER,			EBADMSG },
	{ GNUTLS_E_RECORD_OVERFLOW,			EMSGSIZE },
	{ GNUTLS_E_HANDSHAKE_TOO_LARGE,			EMSGSIZE },
	{ GNUTLS_E_TIMEDOUT,				ETIMEDOUT },
};

int agent_gnutls_errno(int gnutls_err, unsigned int verify_status)
{
	if (gnutls_err == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		if (verify_status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
			return EKEYEXPIRED;
		if (verify_status & GNUTLS_CERT_REVOKED)
			return EKEYREVOKED;
		return EKEYREJECTED;	/* untrusted, self-signed, wrong name, ... */
	}
	for (size_t i = 0; i < sizeof(errno_map) / sizeof(errno_map[0]); i++)
		if (errno_map[i].gnutls == gnutls_err)
			return errno_map[i].err;
	return EPROTO;
}

/* Can this kernel carry @c in both directions?  Tried on a loopback pair. */
static int probe_one(const struct ktls_cipher *c)
{
	static const uint8_t zero[32];
	union ktls_crypto_info ci;
	int a, b, len, ret;

	ret = loopback_tcp_pair(&a, &b);
	if (ret)
		return ret;
	len = ktls_crypto_info_fill(&ci, TLS_1_3_VERSION, c, zero, c->key_len,
				    zero, 12, 0);
	ret = len < 0 ? len : ktls_attach_ulp(a);
	if (!ret)
		ret = ktls_install(a, TLS_TX, &ci, len);
	if (!ret)
		ret = ktls_install(a, TLS_RX, &ci, len);
	close(a);
	close(b);
	return ret;
}

int agent_probe_kernel_ciphers(unsigned int *mask)
{
	const struct ktls_cipher *c;
	int first_err = 0;

	*mask = 0;
	for (unsigned int i = 0; (c = ktls_cipher_at(i)); i++) {
		int ret = probe_one(c);

		if (!ret)
			*mask |= 1u << i;
		else if (!first_err)
			first_err = ret;
	}
	return *mask ? 0 : (first_err ? first_err : -EOPNOTSUPP);
}
