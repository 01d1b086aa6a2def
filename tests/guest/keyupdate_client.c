// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A TLS 1.3 client (GnuTLS) that sends KeyUpdates at chosen points, for
 * the KeyUpdate tests (keyupdate.t).
 *
 * Usage: keyupdate_client HOST PORT CAFILE SERVERNAME get PATH AT KU [REPEAT]
 *        keyupdate_client HOST PORT CAFILE SERVERNAME post PATH SIZE AT KU
 *   get:  GET PATH (HTTP/1.1, kept alive REPEAT times, default 1) and
 *         print "body SHA256 LENGTH" per response; AT is the offset in
 *         the first body at which to send the KeyUpdate, or "pre" for
 *         before the request.
 *   post: POST SIZE bytes of a fixed pseudo-random stream to PATH, the
 *         KeyUpdate after AT of them; print "sent SHA256" and the
 *         response body.
 *   KU:   "k" update_not_requested, "K" update_requested, "-" none;
 *         a number after the letter sends so many at once
 * Exit: 0 all went through; 1 TLS failed; 2 usage or HTTP error.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static gnutls_session_t s;
static int ku_flags = -1;	/* -1: none */
static long ku_count = 1;

static void die_tls(const char *what, int ret)
{
	fprintf(stderr, "keyupdate_client: %s: %s%s%s\n", what, gnutls_strerror(ret),
		ret == GNUTLS_E_FATAL_ALERT_RECEIVED ? " " : "",
		ret == GNUTLS_E_FATAL_ALERT_RECEIVED ?
		gnutls_alert_get_name(gnutls_alert_get(s)) : "");
	exit(1);
}

/*
 * A send failed: the peer may have said why before it closed (an alert
 * read before the reset); report that if so.
 */
static void die_send(const char *what, int ret)
{
	char buf[256];
	ssize_t n;

	do
		n = gnutls_record_recv(s, buf, sizeof(buf));
	while (n > 0 || n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n == GNUTLS_E_FATAL_ALERT_RECEIVED)
		die_tls("recv", (int)n);
	die_tls(what, ret);
}

static void key_update(void)
{
	int ret;

	if (ku_flags < 0)
		return;
	for (long i = 0; i < ku_count; i++) {
		do
			ret = gnutls_session_key_update(s, (unsigned int)ku_flags);
		while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
		if (ret < 0)
			die_send("gnutls_session_key_update", ret);
	}
	fprintf(stderr, "keyupdate_client: %ld KeyUpdate(s) sent%s\n", ku_count,
		ku_flags ? " (update_requested)" : "");
	ku_flags = -1;
}

static void send_all(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = gnutls_record_send(s, p, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0)
			die_send("send", (int)n);
		p += n;
		len -= (size_t)n;
	}
}

static ssize_t recv_some(char *buf, size_t len)
{
	ssize_t n;

	do
		n = gnutls_record_recv(s, buf, len);
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n < 0)
		die_tls("recv", (int)n);
	return n;
}

static char in[1 << 16];
static size_t in_have;

/* Reads a response's head; returns its Content-Length. */
static long long read_head(void)
{
	char *end, *cl;
	long long len;

	while (!(end = memmem(in, in_have, "\r\n\r\n", 4))) {
		ssize_t n;

		if (in_have == sizeof(in))
			goto bad;
		n = recv_some(in + in_have, sizeof(in) - in_have);
		if (n == 0)
			goto bad;
		in_have += (size_t)n;
	}
	*end = '\0';
	if (strncmp(in, "HTTP/1.", 7) || strncmp(in + 8, " 200", 4) ||
	    !(cl = strcasestr(in, "Content-Length:")))
		goto bad;
	len = atoll(cl + 15);
	end += 4;
	in_have -= (size_t)(end - in);
	memmove(in, end, in_have);
	return len;
bad:
	fprintf(stderr, "keyupdate_client: bad response head: %.*s\n", (int)in_have, in);
	exit(2);
}

static void hex(const unsigned char *md, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* Reads a body of @len, the KeyUpdate after @at bytes of it; prints its hash. */
static void read_body(long long len, long long at, bool print_body)
{
	gnutls_hash_hd_t h;
	unsigned char md[32];
	char x[65];
	long long got = 0;

	gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
	while (got < len) {
		size_t take;

		if (at >= 0 && got >= at)
			key_update();
		if (!in_have) {
			ssize_t n = recv_some(in, sizeof(in));

			if (n == 0) {
				fprintf(stderr, "keyupdate_client: EOF after %lld of %lld bytes\n",
					got, len);
				exit(2);
			}
			in_have = (size_t)n;
		}
		take = in_have;
		if ((long long)take > len - got)
			take = (size_t)(len - got);
		gnutls_hash(h, in, take);
		if (print_body)
			fwrite(in, 1, take, stdout);
		got += (long long)take;
		in_have -= take;
		memmove(in, in + take, in_have);
	}
	gnutls_hash_deinit(h, md);
	hex(md, x);
	if (!print_body)
		printf("body %s %lld\n", x, len);
	fflush(stdout);
}

/* The upload's bytes: xorshift64, the same in every run. */
static void fill(unsigned char *buf, size_t len, unsigned long long *st)
{
	for (size_t i = 0; i < len; i++) {
		*st ^= *st << 13;
		*st ^= *st >> 7;
		*st ^= *st << 17;
		buf[i] = (unsigned char)*st;
	}
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	gnutls_certificate_credentials_t cred;
	const char *mode, *at_s, *ku;
	char req[1024];
	int fd, ret;

	if (argc < 9 || (strcmp(argv[5], "get") && strcmp(argv[5], "post")) ||
	    (!strcmp(argv[5], "post") && argc < 10)) {
		fprintf(stderr, "usage: %s HOST PORT CAFILE SERVERNAME get PATH AT KU [REPEAT]\n"
			"       %s HOST PORT CAFILE SERVERNAME post PATH SIZE AT KU\n",
			argv[0], argv[0]);
		return 2;
	}
	mode = argv[5];
	at_s = argv[!strcmp(mode, "get") ? 7 : 8];
	ku = argv[!strcmp(mode, "get") ? 8 : 9];
	ku_flags = ku[0] == 'K' ? GNUTLS_KU_PEER : ku[0] == 'k' ? 0 : -1;
	if (ku_flags >= 0 && ku[1])
		ku_count = atol(ku + 1);

	if (getaddrinfo(argv[1], argv[2], &hints, &ai)) {
		fprintf(stderr, "keyupdate_client: cannot resolve %s\n", argv[1]);
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("keyupdate_client: connect");
		return 2;
	}
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_trust_file(cred, argv[3], GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "keyupdate_client: no CA in %s\n", argv[3]);
		return 2;
	}
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, argv[4], strlen(argv[4]));
	gnutls_session_set_verify_cert(s, argv[4], 0);
	gnutls_transport_set_int(s, fd);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0)
		die_tls("handshake", ret);
	fprintf(stderr, "keyupdate_client: handshake done\n");

	if (!strcmp(at_s, "pre"))
		key_update();
	if (!strcmp(mode, "get")) {
		int repeat = argc > 9 ? atoi(argv[9]) : 1;

		for (int i = 0; i < repeat; i++) {
			snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
				 argv[6], argv[4], i + 1 < repeat ? "" : "Connection: close\r\n");
			send_all(req, strlen(req));
			read_body(read_head(), i == 0 ? atoll(at_s) : -1, false);
		}
	} else {
		long long size = atoll(argv[7]), at = atoll(at_s), sent = 0;
		unsigned long long st = 0x9e3779b97f4a7c15ULL;
		static unsigned char buf[1 << 16];
		gnutls_hash_hd_t h;
		unsigned char md[32];
		char x[65];

		snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %lld\r\n"
			 "Connection: close\r\n\r\n", argv[6], argv[4], size);
		send_all(req, strlen(req));
		gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
		while (sent < size) {
			size_t n = sizeof(buf);

			if (sent >= at)
				key_update();
			if ((long long)n > size - sent)
				n = (size_t)(size - sent);
			if (sent < at && (long long)n > at - sent)
				n = (size_t)(at - sent);
			fill(buf, n, &st);
			gnutls_hash(h, buf, n);
			send_all(buf, n);
			sent += (long long)n;
		}
		gnutls_hash_deinit(h, md);
		hex(md, x);
		printf("sent %s\n", x);
		read_body(read_head(), -1, true);
	}
	if (ku_flags >= 0) {
		fprintf(stderr, "keyupdate_client: the KeyUpdate point was never reached\n");
		return 2;
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
	return 0;
}
