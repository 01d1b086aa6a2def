// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Test server for the agent's guest tests: accepts TCP connections, hands
 * each to ktls-agent with libktls's blocking call (through the module, or
 * the agent's UNIX socket if $HANDOFF_PATH is "socket", either if "auto";
 * profile $HANDOFF_PROFILE), logs the result,
 * then talks plaintext over the kernel TLS socket:
 *   echo  echoes until FILE's size went back or the peer's close_notify,
 *         then sends its own close_notify
 *   sink  logs "sha256 HEX" of what arrived before the peer's close_notify
 *   source sendfile()s FILE, then close_notify
 *   http  GET: sendfile() FILE (GET /head/N: its first N bytes);
 *         POST: replies with the SHA-256 of the body
 * Usage: handoff_server PORT echo|sink|source|http FILE RESULT_LOG [ALPN]
 * Writes "ready" to stdout once listening.  One process per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <linux/tls.h>

#include <ktls-offload/ktls.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#define REC_ALERT 21
#define REC_DATA 23

/* recv() that reports the record type: a non-data record is returned as
 * -2 (alert: *alert gets its description) or -3 (anything else). */
static ssize_t tls_recv(int fd, void *buf, size_t len, int *alert)
{
	char cbuf[CMSG_SPACE(sizeof(unsigned char))];
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &msg, 0);

	if (n <= 0)
		return n;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE &&
	    *(unsigned char *)CMSG_DATA(c) != REC_DATA) {
		if (*(unsigned char *)CMSG_DATA(c) == REC_ALERT && n >= 2) {
			*alert = ((unsigned char *)buf)[1];
			return -2;
		}
		return -3;
	}
	return n;
}

static void send_close_notify(int fd)
{
	ktls_send_close_notify(fd);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Echoes until @limit bytes went back or the peer's close_notify. */
static void serve_echo(int fd, long long limit)
{
	static char buf[65536];
	long long done = 0;
	int alert = -1;

	while (done < limit) {
		ssize_t n = tls_recv(fd, buf, sizeof(buf), &alert);

		if (n > 0 && write_all(fd, buf, (size_t)n) == 0) {
			done += n;
			continue;
		}
		if (n != -2 || alert != 0)
			return;
		break;
	}
	send_close_notify(fd);
}

/* Hashes what arrives until close_notify and appends "sha256 HEX" to @log. */
static void serve_sink(int fd, const char *log)
{
	static char buf[65536];
	unsigned char md[32];
	char line[80];
	gnutls_hash_hd_t h;
	int alert = -1, lfd;
	ssize_t n;

	gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
	while ((n = tls_recv(fd, buf, sizeof(buf), &alert)) > 0)
		gnutls_hash(h, buf, (size_t)n);
	gnutls_hash_deinit(h, md);
	if (n != -2 || alert != 0)
		return;		/* no close_notify: the data may be cut short */
	strcpy(line, "sha256 ");
	for (int i = 0; i < 32; i++)
		sprintf(line + 7 + 2 * i, "%02x", md[i]);
	strcat(line, "\n");
	lfd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (lfd >= 0 && write(lfd, line, strlen(line)) < 0)
		perror("log");
	if (lfd >= 0)
		close(lfd);
	send_close_notify(fd);
}

/* sendfile()s @file, then close_notify. */
static void serve_source(int fd, const char *file)
{
	int f = open(file, O_RDONLY);
	struct stat st;
	off_t off = 0;

	if (f < 0 || fstat(f, &st))
		return;
	while (off < st.st_size)
		if (sendfile(fd, f, &off, (size_t)(st.st_size - off)) <= 0)
			break;
	close(f);
	fprintf(stderr, "source: sent %lld of %lld bytes (%s)\n", (long long)off,
		(long long)st.st_size, off < st.st_size ? strerror(errno) : "ok");
	send_close_notify(fd);
}

static void serve_http(int fd, const char *file)
{
	static char buf[65536];
	char hdr[256], *end, *cl;
	size_t have = 0;
	int alert;

	for (;;) {
		ssize_t n;

		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		n = tls_recv(fd, buf + have, sizeof(buf) - 1 - have, &alert);
		if (n <= 0)
			return;
		have += (size_t)n;
	}
	end += 4;
	if (!strncmp(buf, "GET ", 4) || !strncmp(buf, "HEAD ", 5)) {
		int f = open(file, O_RDONLY);
		const char *path = strchr(buf, ' ') + 1;
		struct stat st;
		off_t off = 0;

		if (f < 0 || fstat(f, &st))
			return;
		/* GET /head/N: only the first N bytes of FILE */
		if (!strncmp(path, "/head/", 6)) {
			long long head = atoll(path + 6);

			if (head >= 0 && head < st.st_size)
				st.st_size = head;
		}
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
			 "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
			 (long long)st.st_size);
		if (write_all(fd, hdr, strlen(hdr)))
			return;
		while (buf[0] == 'G' && off < st.st_size)
			if (sendfile(fd, f, &off, (size_t)(st.st_size - off)) <= 0)
				return;
		close(f);
	} else if (!strncmp(buf, "POST ", 5) && (cl = strcasestr(buf, "Content-Length:"))) {
		long long want = atoll(cl + 15), got = (long long)(buf + have - end);
		gnutls_hash_hd_t h;
		unsigned char md[32];
		char hex[65];

		gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
		gnutls_hash(h, end, (size_t)got);
		while (got < want) {
			ssize_t n = tls_recv(fd, buf, sizeof(buf), &alert);

			if (n <= 0)
				return;
			gnutls_hash(h, buf, (size_t)n);
			got += n;
		}
		gnutls_hash_deinit(h, md);
		for (int i = 0; i < 32; i++)
			sprintf(hex + 2 * i, "%02x", md[i]);
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n"
			 "Connection: close\r\n\r\n%s\n", hex);
		if (write_all(fd, hdr, strlen(hdr)))
			return;
	}
	send_close_notify(fd);
}

static void handle(int fd, const char *mode, const char *file, const char *log,
		   const char *alpn)
{
	const char *path = getenv("HANDOFF_PATH");
	struct ktls_params p = KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER, .alpn = alpn,
						.timeout_ms = 60000,
						.profile = getenv("HANDOFF_PROFILE"));
	struct ktls_result r = KTLS_RESULT_INIT;
	struct ktls_ctx *ctx;
	char line[2048];
	int ret, lfd;

	ret = ktls_open(&ctx, !path ? KTLS_PATH_MODULE : !strcmp(path, "socket") ?
			KTLS_PATH_SOCKET : KTLS_PATH_AUTO, NULL);
	if (!ret)
		ret = ktls_handshake(ctx, fd, &p, &r);
	snprintf(line, sizeof(line), "request %u: submit/wait %d status %d version %#x "
		 "cipher %u resumed %d alpn '%s' peer '%s' path %s sni '%s' reason '%s'\n", r.id,
		 ret, r.status, r.tls_version, r.cipher, r.resumed, r.alpn, r.peer_identity,
		 ret ? "none" : ktls_get_path(ctx) == KTLS_PATH_MODULE ? "module" : "socket",
		 r.sni, r.reason);
	lfd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (lfd >= 0) {
		if (write(lfd, line, strlen(line)) < 0)
			perror("log");
		close(lfd);
	}
	if (!ret)
		ktls_close(ctx);
	if (ret || r.status)
		return;
	if (!strcmp(mode, "echo")) {
		struct stat st;

		serve_echo(fd, stat(file, &st) ? 0 : (long long)st.st_size);
	} else if (!strcmp(mode, "sink")) {
		serve_sink(fd, log);
	} else if (!strcmp(mode, "source")) {
		serve_source(fd, file);
	} else {
		serve_http(fd, file);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int l, one = 1;

	if (argc < 5) {
		fprintf(stderr, "usage: %s PORT echo|sink|source|http FILE RESULT_LOG [ALPN]\n", argv[0]);
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&sin, sizeof(sin)) || listen(l, 128)) {
		perror("listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int fd = accept(l, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(l);
			handle(fd, argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
			_exit(0);
		}
		close(fd);
	}
}
