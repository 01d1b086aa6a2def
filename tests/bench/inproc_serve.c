// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The benchmark's reference for handshake cost: a server that runs the
 * agent's own GnuTLS handshake code (agent/tls.c) in its own process, then
 * installs kernel TLS exactly as the agent does, answers one HTTP request
 * and closes.  It serves its file as ktls-serve serves a small one (open,
 * fstat, read, header and body in one send, close, for every request), so
 * that the difference to ktls-serve is only the handoff: no module, no
 * UNIX socket, no second process.
 * Usage: inproc_serve CONFIG PORT FILE   (one thread, one epoll loop)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktls-offload/ktls.h>

#include "config.h"
#include "session_keys.h"
#include "tls.h"

struct conn {
	int fd;
	struct tls_handshake *h;	/* NULL once kernel TLS is on */
};

static char body[16384];
static const char *file;

static void finish(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->h)
		tls_handshake_free(c->h);
	close(c->fd);
	free(c);
}

static void serve(int ep, struct conn *c)
{
	char req[4096], hdr[128];
	ssize_t n = ktls_recv(c->fd, req, sizeof(req), MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0) {
		int f = open(file, O_RDONLY | O_CLOEXEC);
		struct stat st;
		ssize_t len = f < 0 || fstat(f, &st) || st.st_size > (off_t)sizeof(body) ? -1 :
			      pread(f, body, (size_t)st.st_size, 0);
		int hl = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %zd\r\n"
				  "Connection: close\r\n\r\n", len);
		struct iovec iov[2] = { { hdr, (size_t)hl }, { body, (size_t)len } };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

		if (len >= 0 && sendmsg(c->fd, &msg, MSG_NOSIGNAL) == hl + len)
			ktls_send_close_notify(c->fd);
		if (f >= 0)
			close(f);
	}
	finish(ep, c);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct agent_config cfg;
	struct tls_runtime rt;
	const struct tls_profile *p;
	struct epoll_event ev, evs[64];
	unsigned int mask;
	char err[512];
	int l, ep, one = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: %s CONFIG PORT FILE\n", argv[0]);
		return 2;
	}
	file = argv[3];
	if (agent_probe_kernel_ciphers(&mask) || agent_config_load(argv[1], &cfg, err, sizeof(err)) ||
	    tls_runtime_load(&rt, &cfg, mask, err, sizeof(err)) || !(p = tls_runtime_profile(&rt, NULL))) {
		fprintf(stderr, "inproc_serve: %s\n", err);
		return 1;
	}
	l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1024)) {
		perror("listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			struct tls_result res;
			bool want_write;

			if (!c) {
				int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0 || !(c = calloc(1, sizeof(*c))))
					continue;
				c->fd = fd;
				c->h = tls_handshake_new(p, fd, TLS_ROLE_SERVER, NULL, NULL, &res);
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				if (!c->h || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
					finish(ep, c);
					continue;
				}
			}
			if (!c->h) {
				serve(ep, c);
				continue;
			}
			if (tls_handshake_step(c->h, &want_write, &res)) {
				ev.events = want_write ? EPOLLOUT : EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				continue;
			}
			tls_handshake_free(c->h);
			c->h = NULL;
			if (res.err) {
				finish(ep, c);
				continue;
			}
			ev.events = EPOLLIN;
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			serve(ep, c);
		}
	}
}
