// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Opens N TLS connections to 127.0.0.1:PORT (GnuTLS, certificate not
 * checked: a load generator), completes each handshake, prints "ready"
 * and holds them idle until stdin closes.  For the benchmark's memory per
 * idle connection.  Usage: idle_client PORT N
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	gnutls_certificate_credentials_t cred;
	struct rlimit rl = { 65536, 65536 };
	int n, ok = 0;
	char c;

	if (argc < 3)
		return 2;
	n = atoi(argv[2]);
	setrlimit(RLIMIT_NOFILE, &rl);
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gnutls_certificate_allocate_credentials(&cred);
	for (int i = 0; i < n; i++) {
		gnutls_session_t s;
		int fd = socket(AF_INET, SOCK_STREAM, 0), ret;

		if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
			break;
		gnutls_init(&s, GNUTLS_CLIENT);
		gnutls_set_default_priority(s);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
		gnutls_transport_set_int(s, fd);
		do
			ret = gnutls_handshake(s);
		while (ret < 0 && !gnutls_error_is_fatal(ret));
		if (ret < 0)
			break;
		ok++;		/* the session stays allocated: it is in use */
	}
	printf("ready %d\n", ok);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return ok == n ? 0 : 1;
}
