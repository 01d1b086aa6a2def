/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A GnuTLS client transport for the guest tests' clients: output is held
 * until the client next reads (or flushes), so a whole flight leaves in one
 * send(), and a test can edit those bytes on their way out.
 */
#ifndef KTLS_TESTS_FLIGHT_IO_H
#define KTLS_TESTS_FLIGHT_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>

extern int flight_sock;
/* if set, called on the held bytes just before they are sent */
extern void (*flight_edit)(unsigned char *buf, size_t len);

/* Sends what is held; 0, or -1 when the socket fails. */
int flight_flush(void);
/* Bytes held, not sent yet. */
size_t flight_held(void);
/* The push function: holds @len bytes (sends what is held when full). */
ssize_t flight_push(gnutls_transport_ptr_t p, const void *buf, size_t len);
/* A TCP connection to 127.0.0.1:@port, which becomes flight_sock; -1 with errno. */
int flight_connect(const char *port);

/*
 * Runs @s's handshake as a client of "localhost", its certificate verified
 * against @cred, on this transport with @pull to read.  GnuTLS's result.
 */
int flight_handshake(gnutls_session_t s, gnutls_certificate_credentials_t cred,
		     gnutls_pull_func pull);

#endif
