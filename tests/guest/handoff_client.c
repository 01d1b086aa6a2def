// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Test client for the agent's client role: connects to HOST PORT, hands the
 * socket to ktls-agent with libktls (role client, PEERNAME to verify and
 * send as SNI; $HANDOFF_PATH "socket" for the UNIX socket), prints the
 * result, then over kernel TLS sends "GET / HTTP/1.0" and prints the
 * response's first line and its size.
 * Usage: handoff_client HOST PORT PEERNAME [PROFILE]
 * Exit: 0 handshake and response fine; 1 handshake failed; 2 other errors.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ktls-offload/ktls.h>

int main(int argc, char **argv)
{
	const char *path = getenv("HANDOFF_PATH");
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct ktls_params p = KTLS_PARAMS_INIT(.role = KTLS_ROLE_CLIENT, .timeout_ms = 30000);
	struct ktls_result r = KTLS_RESULT_INIT;
	struct ktls_ctx *ctx;
	static char buf[1 << 16];
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	long long total = 0;
	ssize_t n;
	int fd, ret;

	if (argc < 4) {
		fprintf(stderr, "usage: %s HOST PORT PEERNAME [PROFILE]\n", argv[0]);
		return 2;
	}
	p.peername = argv[3];
	p.profile = argc > 4 ? argv[4] : NULL;
	if (getaddrinfo(argv[1], argv[2], &hints, &ai)) {
		fprintf(stderr, "cannot resolve %s\n", argv[1]);
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("connect");
		return 2;
	}
	freeaddrinfo(ai);
	ret = ktls_open(&ctx, path && !strcmp(path, "socket") ? KTLS_PATH_SOCKET :
			KTLS_PATH_MODULE, NULL);
	if (!ret)
		ret = ktls_handshake(ctx, fd, &p, &r);
	if (ret) {
		fprintf(stderr, "handoff: %s\n", strerror(-ret));
		return 2;
	}
	printf("status %d (%s) version %#x cipher %s resumed %d peer '%s' sni '%s' reason '%s'\n",
	       r.status, r.status ? strerror(r.status) : "ok", r.tls_version,
	       ktls_cipher_name(r.cipher), r.resumed, r.peer_identity, r.sni, r.reason);
	ktls_close(ctx);
	if (r.status)
		return 1;
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		perror("write");
		return 2;
	}
	/* Until the server's close_notify or end of stream. */
	while ((n = ktls_recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		if (!total) {
			buf[n] = '\0';
			buf[strcspn(buf, "\r\n")] = '\0';
			printf("response: %s\n", buf);
		}
		total += n;
	}
	printf("bytes %lld\n", total);
	return total > 0 ? 0 : 2;
}
