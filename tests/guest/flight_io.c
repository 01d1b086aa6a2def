// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "flight_io.h"

int flight_sock = -1;
void (*flight_edit)(unsigned char *buf, size_t len);
static unsigned char out[1 << 16];
static size_t out_len;

int flight_flush(void)
{
	size_t off = 0;

	if (flight_edit && out_len)
		flight_edit(out, out_len);
	while (off < out_len) {
		ssize_t n = send(flight_sock, out + off, out_len - off, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	out_len = 0;
	return 0;
}

size_t flight_held(void)
{
	return out_len;
}

ssize_t flight_push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	(void)p;
	if (out_len + len > sizeof(out) && flight_flush())
		return -1;
	memcpy(out + out_len, buf, len);
	out_len += len;
	return (ssize_t)len;
}

int flight_handshake(gnutls_session_t s, gnutls_certificate_credentials_t cred,
		     gnutls_pull_func pull)
{
	int ret;

	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	gnutls_transport_set_push_function(s, flight_push);
	gnutls_transport_set_pull_function(s, pull);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	return ret;
}

int flight_connect(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_port = htons((uint16_t)atoi(port));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (void *)&sin, sizeof(sin))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	flight_sock = fd;
	return fd;
}
