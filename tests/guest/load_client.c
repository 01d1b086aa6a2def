// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Load generator for tests/guest/load.t: opens N TLS connections to
 * 127.0.0.1:PORT at once and runs all their handshakes concurrently
 * (GnuTLS, non-blocking, one epoll loop), verifying the server against
 * CA for the name localhost.  With -r PATH each connection then sends
 * "GET PATH" and reads the whole response (Content-Length) over TLS.
 * Prints one line
 *   handshakes OK/N failed F responses R seconds S
 * then, with -i, "idle" and holds every connection until stdin closes,
 * and finally "alive A" (connections the server had not closed).  With -R
 * one connection is made first and its session ticket offered by all N,
 * which then resume (the line ends "resumed R"): no signature and no
 * certificate check per connection, so that many connections cost less
 * under emulation.  With -c MAX at most MAX handshakes are in flight at
 * a time, and the next connection opens as one finishes (default: all N
 * at once); every connection stays open to the end either way.
 *
 *   load_client [-r PATH] [-i] [-R] [-c MAX] [-t SECONDS] PORT N CA
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

enum state { HANDSHAKE, SEND, READ, DONE, FAILED };

struct conn {
	int fd;
	gnutls_session_t s;
	enum state st;
	size_t head_len, body_left;
	int have_len;
	char head[4096];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *path;
static int n_ok, n_failed, n_resp, n_resumed;

/* what every connection shares */
static struct sockaddr_in server = { .sin_family = AF_INET };
static gnutls_certificate_credentials_t cred;
static gnutls_datum_t ticket = { NULL, 0 };
static bool resume;
static int ep;
/* the connections, how many are opened so far, and how many not finished */
static struct conn *conns;
static int n_conns, opened, left;

static void finish(struct conn *c, enum state st)
{
	c->st = st;
	if (st == FAILED)
		n_failed++;
}

/* Reads what is there of the response: header, then Content-Length bytes. */
static void read_response(struct conn *c)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = gnutls_record_recv(c->s, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return;
		if (n <= 0) {
			finish(c, FAILED);
			return;
		}
		if (!c->have_len) {
			size_t take = (size_t)n;
			char *end, *cl;

			if (take > sizeof(c->head) - 1 - c->head_len)
				take = sizeof(c->head) - 1 - c->head_len;
			memcpy(c->head + c->head_len, buf, take);
			c->head_len += take;
			c->head[c->head_len] = '\0';
			end = strstr(c->head, "\r\n\r\n");
			if (!end) {
				if (c->head_len == sizeof(c->head) - 1)
					finish(c, FAILED);
				continue;
			}
			cl = strcasestr(c->head, "\r\nContent-Length:");
			if (strncmp(c->head, "HTTP/1.1 200 ", 13) || !cl) {
				finish(c, FAILED);
				return;
			}
			c->have_len = 1;
			c->body_left = strtoull(cl + 17, NULL, 10);
			/* body bytes in this read: after the header */
			n = (ssize_t)((size_t)n - (size_t)(end + 4 - c->head) +
				      (c->head_len - take));
			if (n < 0)
				n = 0;
		}
		if ((size_t)n > c->body_left) {
			finish(c, FAILED);
			return;
		}
		c->body_left -= (size_t)n;
		if (!c->body_left) {
			n_resp++;
			finish(c, DONE);
			return;
		}
	}
}

static void step(struct conn *c)
{
	int ret;

	if (c->st == HANDSHAKE) {
		ret = gnutls_handshake(c->s);
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			return;
		if (ret < 0) {
			fprintf(stderr, "load_client: handshake: %s\n", gnutls_strerror(ret));
			finish(c, FAILED);
			return;
		}
		n_ok++;
		n_resumed += gnutls_session_is_resumed(c->s) != 0;
		if (!path) {
			c->st = DONE;
			return;
		}
		c->st = SEND;
	}
	if (c->st == SEND) {
		char req[512];
		int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
				   path);

		/* a request this small goes out whole or not at all */
		ret = (int)gnutls_record_send(c->s, req, (size_t)len);
		if (ret == GNUTLS_E_AGAIN)
			return;
		if (ret != len) {
			finish(c, FAILED);
			return;
		}
		c->st = READ;
	}
	if (c->st == READ)
		read_response(c);
}

/* A client session on @fd that verifies the server as localhost. */
static gnutls_session_t session_new(int fd, unsigned int flags)
{
	gnutls_session_t s;

	gnutls_init(&s, flags);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	gnutls_transport_set_int(s, fd);
	return s;
}

/* One verified handshake; returns its session, with the ticket the server
 * sent after it, for the others to resume. */
static int prime(gnutls_datum_t *data)
{
	gnutls_session_t s;
	char b;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ret = -1;

	if (fd < 0 || connect(fd, (const struct sockaddr *)&server, sizeof(server))) {
		perror("load_client: connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	s = session_new(fd, GNUTLS_CLIENT);
	gnutls_handshake_set_timeout(s, 60000);
	if (gnutls_handshake(s) < 0) {
		fprintf(stderr, "load_client: priming handshake failed\n");
		goto out;
	}
	/* the ticket comes after the handshake: read until it is there, up to
	 * 60 s (the emulated guest can be slow on a loaded machine) */
	gnutls_record_set_timeout(s, 200);
	for (int i = 0; i < 300 && !(gnutls_session_get_flags(s) & GNUTLS_SFLAGS_SESSION_TICKET); i++) {
		ret = gnutls_record_recv(s, &b, 1);
		if (ret < 0 && ret != GNUTLS_E_TIMEDOUT && ret != GNUTLS_E_AGAIN &&
		    ret != GNUTLS_E_INTERRUPTED) {
			fprintf(stderr, "load_client: waiting for the session ticket: %s\n",
				gnutls_strerror(ret));
			break;
		}
	}
	ret = -1;
	if (!(gnutls_session_get_flags(s) & GNUTLS_SFLAGS_SESSION_TICKET) &&
	    gnutls_protocol_get_version(s) == GNUTLS_TLS1_3) {
		fprintf(stderr, "load_client: the server sent no session ticket\n");
		goto out;
	}
	ret = gnutls_session_get_data2(s, data) ? -1 : 0;
	if (!ret) {
		/* One request, read to the server's close, before closing: a
		 * close with the server's records unread would reset the
		 * connection, possibly while the agent still works on it. */
		static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n"
					  "Connection: close\r\n\r\n";
		char buf[4096];
		int n;

		gnutls_record_set_timeout(s, 60000);
		if (gnutls_record_send(s, req, sizeof(req) - 1) > 0)
			do
				n = gnutls_record_recv(s, buf, sizeof(buf));
			while (n > 0 || n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	}
out:
	gnutls_deinit(s);
	close(fd);
	return ret;
}

/* Starts @c's connection and handshake: 0, or -1 (counted as failed). */
static int conn_open(struct conn *c)
{
	/* level-triggered: GnuTLS may return GNUTLS_E_AGAIN after a session
	 * ticket with more records still in the socket */
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&server, sizeof(server)) &&
			  errno != EINPROGRESS)) {
		perror("load_client: connect");
		finish(c, FAILED);
		return -1;
	}
	c->s = session_new(c->fd, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (resume)
		gnutls_session_set_data(c->s, ticket.data, ticket.size);
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	return 0;
}

/* Opens the next connection not opened yet; those that fail to open are
 * finished at once, and the next is tried. */
static void open_next(void)
{
	while (opened < n_conns)
		if (conn_open(&conns[opened++]))
			left--;
		else
			return;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 65536, 65536 };
	int opt, idle = 0, alive = 0, max_inflight = 0;
	double start, limit = 240;

	while ((opt = getopt(argc, argv, "r:iRc:t:")) != -1) {
		switch (opt) {
		case 'r': path = optarg; break;
		case 'i': idle = 1; break;
		case 'R': resume = true; break;
		case 'c': max_inflight = atoi(optarg); break;
		case 't': limit = atof(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: load_client [-r PATH] [-i] [-R] [-c MAX] [-t SECONDS] PORT N CA\n");
		return 2;
	}
	n_conns = atoi(argv[optind + 1]);
	if (max_inflight <= 0)
		max_inflight = n_conns;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("load_client: setrlimit");
	/* a connection the server gave up on is a failure to count, not a
	 * silent death of the whole client (GnuTLS sessions made without
	 * GNUTLS_NO_SIGNAL can raise SIGPIPE) */
	signal(SIGPIPE, SIG_IGN);
	server.sin_port = htons((uint16_t)atoi(argv[optind]));
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_trust_file(cred, argv[optind + 2], GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "load_client: cannot read %s\n", argv[optind + 2]);
		return 2;
	}
	if (resume && prime(&ticket))
		return 1;
	conns = calloc((size_t)n_conns, sizeof(*conns));
	ep = epoll_create1(0);
	if (!conns || ep < 0)
		return 1;
	start = now();
	left = n_conns;
	for (int i = 0; i < max_inflight; i++)
		open_next();
	while (left > 0 && now() - start < limit) {
		struct epoll_event evs[256];
		int k = epoll_wait(ep, evs, 256, 1000);

		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->st == DONE || c->st == FAILED)
				continue;
			if (evs[i].events & EPOLLOUT) {
				/* connected: from now on, wait for input */
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
			step(c);
			if (c->st == DONE || c->st == FAILED) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				left--;
				open_next();
			}
		}
	}
	n_failed += left;	/* unfinished or never opened at the time limit */
	printf("handshakes %d/%d failed %d responses %d seconds %.1f", n_ok, n_conns, n_failed,
	       n_resp, now() - start);
	if (resume)
		printf(" resumed %d", n_resumed);
	printf("\n");
	fflush(stdout);
	if (idle) {
		char ch;

		printf("idle\n");
		fflush(stdout);
		while (read(0, &ch, 1) > 0)
			;
		/* which connections did the server keep? */
		for (int i = 0; i < n_conns; i++) {
			struct pollfd p = { .fd = conns[i].fd, .events = POLLIN };
			char b;

			if (conns[i].st != DONE)
				continue;
			/* open: nothing to read, or data (a session ticket);
			 * closed: end of stream or a reset */
			if (poll(&p, 1, 0) == 0 ||
			    recv(conns[i].fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
				alive++;
		}
		printf("alive %d\n", alive);
	}
	return n_failed ? 1 : 0;
}
