// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A TLS client that sends its HTTP request in the same TCP write as its
 * handshake Finished (TLS 1.3; TLS 1.2 by False Start), the case where an
 * agent reading greedily would swallow application data that kernel TLS
 * must decrypt.  Output it buffers until it next needs to read, so the
 * final flight and the request leave in one send().
 * Usage: flight_client PORT CA_FILE 1.2|1.3 [DELAY] [close]
 * DELAY: seconds to wait between connecting and the ClientHello.  "close":
 * our close_notify and TCP FIN follow the request at once (a half-close:
 * TLS 1.3 and TCP let the server answer still), so the FIN is in before
 * the agent can have handed the socket over.
 * Prints the response's status line and body size; exit 0 if it was a
 * 200 with the whole body.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "flight_io.h"

static int sock;

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	if (flight_held() && flight_flush())
		return -1;
	return recv(sock, buf, len, 0);
}

int main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	static char buf[1 << 16];
	static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	long long total = 0, want = -1;
	char *hdr_end = NULL;
	size_t have = 0;
	int ret, status = 1, delay = 0;
	bool half_close = false;

	if (argc < 4) {
		fprintf(stderr, "usage: %s PORT CA_FILE 1.2|1.3 [DELAY] [close]\n", argv[0]);
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "close"))
			half_close = true;
		else
			delay = atoi(argv[i]);
	}
	sock = flight_connect(argv[1]);
	if (sock < 0) {
		perror("connect");
		return 2;
	}
	if (delay > 0)
		sleep((unsigned int)delay);
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_trust_file(cred, argv[2], GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "cannot load %s\n", argv[2]);
		gnutls_certificate_free_credentials(cred);
		return 2;
	}
	gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_ENABLE_FALSE_START);
	gnutls_priority_set_direct(s, strcmp(argv[3], "1.2") ?
				   "NORMAL:-VERS-ALL:+VERS-TLS1.3" :
				   "NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL);
	ret = flight_handshake(s, cred, pull);
	if (ret < 0) {
		fprintf(stderr, "handshake: %s\n", gnutls_strerror(ret));
		goto out;
	}
	if (!flight_held())
		fprintf(stderr, "warning: the Finished already left\n");
	if (gnutls_record_send(s, req, sizeof(req) - 1) < 0)
		goto out;
	/* (held too: GNUTLS_SHUT_WR sends our alert and waits for nothing) */
	if (half_close && gnutls_bye(s, GNUTLS_SHUT_WR) < 0)
		goto out;
	printf("one write of %zu bytes: Finished and request%s\n", flight_held(),
	       half_close ? " and close_notify, then FIN" : "");
	fflush(stdout);
	if (flight_flush())
		goto out;
	if (half_close && shutdown(sock, SHUT_WR))
		goto out;
	for (;;) {
		ssize_t n = gnutls_record_recv(s, buf + have, sizeof(buf) - 1 - have);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			break;
		if (!hdr_end) {
			have += (size_t)n;
			buf[have] = '\0';
			hdr_end = strstr(buf, "\r\n\r\n");
			if (hdr_end) {
				char *cl = strcasestr(buf, "Content-Length:");

				want = cl ? atoll(cl + 15) : -1;
				*strstr(buf, "\r\n") = '\0';
				printf("response: %s\n", buf);
				fflush(stdout);
				total = (long long)(buf + have - (hdr_end + 4));
			}
		} else {
			total += n;
		}
		if (want >= 0 && total >= want)
			break;
	}
	printf("body %lld of %lld bytes\n", total, want);
	status = hdr_end && total == want && !strncmp(buf, "HTTP/1.1 200", 12) ? 0 : 1;
out:
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(sock);
	return status;
}
