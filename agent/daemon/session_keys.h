/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * From a finished GnuTLS handshake to kernel TLS: the session's keys and
 * sequence numbers go into the socket (TCP_ULP "tls", TLS_TX, TLS_RX) and
 * every copy of the key material is wiped.  Also the one table that maps
 * GnuTLS errors to the errno reported to the requester.
 */
#ifndef KTLS_SESSION_KEYS_H
#define KTLS_SESSION_KEYS_H

#include <stdbool.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

/*
 * Installs the session's keys on @fd, attaching the tls ULP first unless
 * @ulp_attached says the caller did.  Refuses (-EPROTO) if GnuTLS holds
 * received data or unsent output that the kernel would never see.
 * Returns 0 or a negative errno; fills @tls_version and @cipher (kernel
 * TLS_* values) on success.
 */
int agent_handoff(gnutls_session_t s, int fd, bool ulp_attached, uint32_t *tls_version,
		  uint32_t *cipher);

/* The errno that stands for a GnuTLS error (see ktls-agent(8)). */
int agent_gnutls_errno(int gnutls_err, unsigned int verify_status);

/* Which ciphers the running kernel's TLS accepts, probed once: a mask of
 * bits (1 << index in the cipher table).  Negative errno if none. */
int agent_probe_kernel_ciphers(unsigned int *mask);

#endif
