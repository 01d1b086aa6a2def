// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A TLS peer that misbehaves after the handshake, to check that a server
 * on kernel TLS answers as RFC 8446 / RFC 5246 require.  It completes a
 * real handshake with GnuTLS (the server's certificate verified), fetches
 * /a.txt to be sure the socket is in the server's hands (not with
 * "first" cases), then writes records it builds itself with the
 * session's write keys (gnutls_record_get_state + gnutls_aead_cipher), so
 * it can send what GnuTLS never would: damaged tags, oversized records,
 * alerts of the wrong length, stray ChangeCipherSpec, bad KeyUpdates.
 * GnuTLS still reads what the server sends.  It checks the alert that
 * comes back and that the server then closes the connection.
 *
 * Usage: conform_client PORT CA_FILE 1.2|1.3 CIPHER CASE[-first]
 * CIPHER: AES-128-GCM, AES-256-GCM or CHACHA20-POLY1305.  CASE: see the
 * table below; with "-first", the bad input goes right behind our
 * Finished, in the same TCP write, while the agent may still hold the
 * socket.  Exit 0 when the server did what the case expects; the
 * output says what happened.  Time limits: 30 s times KTLS_TIME_SCALE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "flight_io.h"

enum action {
	A_CLOSE_NOTIFY,		/* our close_notify: (theirs,) then EOF */
	A_RECORD,		/* one record: type, body */
	A_BAD_TAG,		/* a data record with its last byte flipped */
	A_OVERSIZED,		/* 2^14 + 1 bytes of plaintext, sealed */
	A_HUGE_HEADER,		/* a header claiming 2^14 + 257 bytes */
	A_BAD_VERSION,		/* a data record with version 3,1 */
	A_KEY_UPDATE,		/* gnutls_session_key_update(flags) */
	A_BAD_FINISHED,		/* our handshake Finished damaged */
};

enum expect {
	E_ALERT,		/* a fatal alert, then the connection ends */
	E_EOF,			/* no alert: the connection just ends */
	E_GOES_ON,		/* (an optional warning, then) a request works */
	E_CLOSE_NOTIFY,		/* their close_notify, then the end */
};

struct test_case {
	const char *name;
	enum action action;
	unsigned char type;	/* A_RECORD: the record's (inner) type */
	const char *body;	/* A_RECORD */
	size_t len;
	unsigned int flags;	/* A_KEY_UPDATE */
	unsigned int repeat;	/* A_RECORD: so many, in one TCP segment */
	enum expect expect;
	int alert;		/* E_ALERT: fatal; E_GOES_ON: a warning first, or -1 */
	bool tls13_ends;	/* TLS 1.3: E_EOF instead (every alert but
				 * close_notify and user_canceled is an error) */
};

static const struct test_case cases[] = {
	{ "close-notify", A_CLOSE_NOTIFY, .expect = E_EOF },
	{ "close-notify-answered", A_CLOSE_NOTIFY, .expect = E_CLOSE_NOTIFY },
	{ "bad-tag", A_BAD_TAG, .expect = E_ALERT, .alert = GNUTLS_A_BAD_RECORD_MAC },
	{ "oversized", A_OVERSIZED, .expect = E_ALERT, .alert = GNUTLS_A_RECORD_OVERFLOW },
	{ "huge-header", A_HUGE_HEADER, .expect = E_ALERT, .alert = GNUTLS_A_RECORD_OVERFLOW },
	{ "bad-version", A_BAD_VERSION, .expect = E_ALERT, .alert = GNUTLS_A_PROTOCOL_VERSION },
	{ "alert-empty", A_RECORD, 21, "", 0, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	{ "alert-short", A_RECORD, 21, "\x02", 1, .expect = E_ALERT,
	  .alert = GNUTLS_A_DECODE_ERROR },
	{ "alert-long", A_RECORD, 21, "\x02\x28\x00", 3, .expect = E_ALERT,
	  .alert = GNUTLS_A_DECODE_ERROR },
	{ "alert-fatal", A_RECORD, 21, "\x02\x28", 2, .expect = E_EOF },
	{ "alert-warning", A_RECORD, 21, "\x01\x70", 2, .expect = E_GOES_ON, .alert = -1,
	  .tls13_ends = true },
	{ "user-canceled", A_RECORD, 21, "\x01\x5a", 2, .expect = E_GOES_ON, .alert = -1 },
	{ "ccs", A_RECORD, 20, "\x01", 1, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	{ "unknown-type", A_RECORD, 99, "xyz", 3, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	{ "handshake-empty", A_RECORD, 22, "", 0, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	{ "handshake-unknown", A_RECORD, 22, "\x63\x00\x00\x01\x00", 5, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	{ "key-update-value", A_RECORD, 22, "\x18\x00\x00\x01\x02", 5, .expect = E_ALERT,
	  .alert = GNUTLS_A_ILLEGAL_PARAMETER },
	{ "key-update-length", A_RECORD, 22, "\x18\x00\x00\x02\x00\x00", 6, .expect = E_ALERT,
	  .alert = GNUTLS_A_DECODE_ERROR },
	{ "key-update-empty", A_RECORD, 22, "\x18\x00\x00\x00", 4, .expect = E_ALERT,
	  .alert = GNUTLS_A_DECODE_ERROR },
	{ "key-update", A_KEY_UPDATE, .expect = E_ALERT, .alert = GNUTLS_A_INTERNAL_ERROR },
	{ "key-update-requested", A_KEY_UPDATE, .flags = GNUTLS_KU_PEER, .expect = E_ALERT,
	  .alert = GNUTLS_A_INTERNAL_ERROR },
	/* where the module carries out KeyUpdates (kernel TLS with rekey):
	 * a request works after them, under the new keys both ways */
	{ "key-update-works", A_KEY_UPDATE, .expect = E_GOES_ON, .alert = -1 },
	{ "key-update-requested-works", A_KEY_UPDATE, .flags = GNUTLS_KU_PEER,
	  .expect = E_GOES_ON, .alert = -1 },
	/* a KeyUpdate not at its record's end: RFC 8446 5.1 (in TLS 1.2 no
	 * KeyUpdate at all) */
	{ "key-update-unaligned", A_RECORD, 22, "\x18\x00\x00\x01\x00\x18\x00\x00\x01\x00", 10,
	  .expect = E_ALERT, .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	/* a handshake message of which only the first byte comes: refused at
	 * once (a server's event loop must not wait for the rest) */
	{ "handshake-split", A_RECORD, 22, "\x18", 1, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	/* messages only a server sends, from the client */
	{ "new-session-ticket", A_RECORD, 22, "\x04\x00\x00\x01\x00", 5, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	{ "hello-request", A_RECORD, 22, "\x00\x00\x00\x00", 4, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	/* six user_canceled alerts in a row, nothing else: five are answered
	 * (by nothing), the sixth ends the connection */
	{ "control-flood", A_RECORD, 21, "\x01\x5a", 2, .repeat = 6, .expect = E_ALERT,
	  .alert = GNUTLS_A_UNEXPECTED_MESSAGE },
	/* TLS 1.2: a ClientHello after the handshake asks to renegotiate */
	{ "renegotiate", A_RECORD, 22, "\x01\x00\x00\x02\x03\x03", 6, .expect = E_GOES_ON,
	  .alert = GNUTLS_A_NO_RENEGOTIATION },
	{ "bad-finished", A_BAD_FINISHED, .expect = E_ALERT, .alert = GNUTLS_A_BAD_RECORD_MAC },
};

static int sock, timeout_ms;
static bool tls13, corrupted, corking;
static gnutls_session_t s;
/* bad-finished: damages our Finished, the last record of the flight that
 * carries our first encrypted record (TLS 1.3) or our ChangeCipherSpec
 * (TLS 1.2; GnuTLS may send a TLS 1.3 compatibility one on its own) */
static void damage_finished(unsigned char *out, size_t out_len)
{
	bool ccs = false, final = false;

	if (corrupted)
		return;
	for (size_t o = 0; o + 5 <= out_len; o += 5 + (out[o + 3] << 8 | out[o + 4])) {
		final = out[o] == 23 || ccs;
		ccs = out[o] == 20;
	}
	if (final) {
		out[out_len - 1] ^= 0x01;
		corrupted = true;
	}
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };

	if (flight_held() && flight_flush())
		return -1;
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return recv(sock, buf, len, 0);
}

/* --- records we build ourselves ----------------------------------------- */

/* Seals one record of @type with the session's write state and sends it;
 * @damage flips the last byte of its tag. */
static int send_record(unsigned char type, const void *body, size_t len, bool damage,
		       const unsigned char version[2])
{
	static unsigned char plain[16384 + 300], rec[16384 + 400];
	gnutls_datum_t mac, iv, key;
	gnutls_aead_cipher_hd_t h;
	unsigned char seq[8], nonce[12] = { 0 }, aad[13];
	size_t plen = len, aad_len, ct_len, hdr = 5;
	uint64_t n;
	int ret;

	if (flight_flush() || gnutls_record_get_state(s, 0, &mac, &iv, &key, seq) < 0)
		return -1;
	memcpy(plain, body, len);
	if (tls13) {
		plain[plen++] = type;		/* TLSInnerPlaintext */
		memcpy(nonce, iv.data, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= seq[i];
		rec[0] = 23;
	} else {
		if (iv.size == 4) {		/* GCM: salt, then the explicit part */
			memcpy(nonce, iv.data, 4);
			memcpy(nonce + 4, seq, 8);
			memcpy(rec + 5, seq, 8);
			hdr += 8;
		} else {			/* ChaCha20-Poly1305 */
			memcpy(nonce, iv.data, 12);
			for (int i = 0; i < 8; i++)
				nonce[4 + i] ^= seq[i];
		}
		rec[0] = type;
	}
	rec[1] = version[0];
	rec[2] = version[1];
	n = hdr - 5 + plen + 16;
	rec[3] = (unsigned char)(n >> 8);
	rec[4] = (unsigned char)n;
	if (tls13) {
		memcpy(aad, rec, 5);
		aad_len = 5;
	} else {
		memcpy(aad, seq, 8);
		aad[8] = type;
		aad[9] = version[0];
		aad[10] = version[1];
		aad[11] = (unsigned char)(plen >> 8);
		aad[12] = (unsigned char)plen;
		aad_len = 13;
	}
	if (gnutls_aead_cipher_init(&h, gnutls_cipher_get(s), &key) < 0)
		return -1;
	ct_len = sizeof(rec) - hdr;
	ret = gnutls_aead_cipher_encrypt(h, nonce, 12, aad, aad_len, 16, plain, plen,
					 rec + hdr, &ct_len);
	gnutls_aead_cipher_deinit(h);
	if (ret < 0)
		return -1;
	if (damage)
		rec[hdr + ct_len - 1] ^= 0x80;
	/* the next record takes the next sequence number */
	for (int i = 7; i >= 0 && ++seq[i] == 0; i--)
		;
	if (gnutls_record_set_state(s, 0, seq) < 0)
		return -1;
	return send(sock, rec, hdr + ct_len, MSG_NOSIGNAL | (corking ? MSG_MORE : 0)) ==
	       (ssize_t)(hdr + ct_len) ? 0 : -1;
}

static const unsigned char v12[2] = { 3, 3 };

/* --- reading what the server sends --------------------------------------- */

/* A GET of /a.txt, sent by GnuTLS or (@ours) by send_record(); 0 if a 200
 * with its whole body came back.  @warning: the warning alert that may come
 * first (or -1), which *@warned then says came. */
static int fetch(bool ours, int warning, bool *warned)
{
	static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
	char buf[4096];
	size_t have = 0;

	if (ours ? send_record(23, req, sizeof(req) - 1, false, v12) :
	    gnutls_record_send(s, req, sizeof(req) - 1) < 0 || flight_flush()) {
		printf("cannot send the request\n");
		return -1;
	}
	for (;;) {
		ssize_t n = gnutls_record_recv(s, buf + have, sizeof(buf) - 1 - have);
		char *end, *cl;

		if (n == GNUTLS_E_WARNING_ALERT_RECEIVED && warned &&
		    (int)gnutls_alert_get(s) == warning) {
			printf("warning alert %s\n", gnutls_alert_get_name(gnutls_alert_get(s)));
			*warned = true;
			continue;
		}
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0) {
			printf("reading the response: %s\n", n ? gnutls_strerror((int)n) : "EOF");
			if (n == GNUTLS_E_FATAL_ALERT_RECEIVED ||
			    n == GNUTLS_E_WARNING_ALERT_RECEIVED)
				printf("alert: %s\n", gnutls_alert_get_name(gnutls_alert_get(s)));
			return -1;
		}
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		cl = strcasestr(buf, "Content-Length:");
		if (end && cl && (size_t)(end + 4 - buf) + (size_t)atol(cl + 15) <= have)
			break;
	}
	printf("response: %.*s\n", (int)strcspn(buf, "\r"), buf);
	return strncmp(buf, "HTTP/1.1 200", 12) ? -1 : 0;
}

/* After the alert (or none): the server closes, and sends nothing more. */
static int closed(void)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	char buf[256];
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0) {
		printf("the server did not close the connection\n");
		return -1;
	}
	n = recv(sock, buf, sizeof(buf), 0);
	if (n > 0) {
		printf("%zd more bytes after the end\n", n);
		return -1;
	}
	printf("then the connection ends (%s)\n", n ? strerror(errno) : "EOF");
	return 0;
}

/* Reads what comes: the fatal alert @alert (or, for -1, none), then the end. */
static int expect_end(int alert)
{
	char buf[256];
	ssize_t n;

	do
		n = gnutls_record_recv(s, buf, sizeof(buf));
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		int got = (int)gnutls_alert_get(s);

		printf("fatal alert %s (%d)\n", gnutls_alert_get_name(got), got);
		if (got != alert) {
			printf("expected %s\n", alert < 0 ? "no alert" :
			       gnutls_alert_get_name((gnutls_alert_description_t)alert));
			return -1;
		}
		return closed();
	}
	printf("no alert: %s\n", n > 0 ? "data" : n ? gnutls_strerror((int)n) :
	       "close_notify or EOF");
	if (alert >= 0)
		return -1;
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION || n == GNUTLS_E_PULL_ERROR)
		return 0;
	return -1;
}

/* Reads what comes: the server's close_notify (no data), then the end. */
static int expect_close_notify(void)
{
	char buf[256];
	ssize_t n;

	do
		n = gnutls_record_recv(s, buf, sizeof(buf));
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n) {
		printf("no close_notify: %s\n", n > 0 ? "data" : gnutls_strerror((int)n));
		return -1;
	}
	printf("close_notify\n");
	return closed();
}

static int run(const struct test_case *t)
{
	static unsigned char big[16385];
	bool warned = false;
	int ret;

	switch (t->action) {
	case A_CLOSE_NOTIFY:
		if (gnutls_bye(s, GNUTLS_SHUT_WR) < 0 || flight_flush())
			return -1;
		if (t->expect == E_CLOSE_NOTIFY)
			return expect_close_notify();
		return expect_end(-1);
	case A_RECORD:
		for (unsigned int i = 0; i < (t->repeat ? t->repeat : 1); i++) {
			corking = i + 1 < t->repeat;
			if (send_record(t->type, t->body, t->len, false, v12))
				return -1;
		}
		break;
	case A_BAD_TAG:
		if (send_record(23, "GET / HTTP/1.1\r\n\r\n", 18, true, v12))
			return -1;
		break;
	case A_OVERSIZED:
		memset(big, 'a', sizeof(big));
		if (send_record(23, big, sizeof(big), false, v12))
			return -1;
		break;
	case A_HUGE_HEADER: {
		static unsigned char rec[5 + 16384 + 257] = { 23, 3, 3, (16384 + 257) >> 8,
							     (16384 + 257) & 0xff };

		if (flight_flush() || send(sock, rec, sizeof(rec), MSG_NOSIGNAL) != (ssize_t)sizeof(rec))
			return -1;
		break;
	}
	case A_BAD_VERSION:
		if (send_record(23, "x", 1, false, (const unsigned char[2]){ 3, 1 }))
			return -1;
		break;
	case A_KEY_UPDATE:
		ret = gnutls_session_key_update(s, t->flags);
		if (ret < 0 || flight_flush()) {
			printf("key update: %s\n", gnutls_strerror(ret));
			return -1;
		}
		break;
	case A_BAD_FINISHED:
		break;		/* done in the handshake */
	}
	if (t->tls13_ends && tls13)
		return expect_end(-1);
	if (t->expect == E_GOES_ON) {
		if (fetch(true, t->alert, &warned))
			return -1;
		if (t->alert >= 0 && !warned) {
			printf("no %s warning came\n",
			       gnutls_alert_get_name((gnutls_alert_description_t)t->alert));
			return -1;
		}
		return 0;
	}
	return expect_end(t->expect == E_ALERT ? t->alert : -1);
}

int main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred;
	const struct test_case *t = NULL;
	const char *scale = getenv("KTLS_TIME_SCALE");
	char prio[256];
	bool first;
	int ret, status = 1;

	if (argc < 6) {
		fprintf(stderr, "usage: %s PORT CA_FILE 1.2|1.3 CIPHER CASE\n", argv[0]);
		return 2;
	}
	first = strlen(argv[5]) > 6 && !strcmp(argv[5] + strlen(argv[5]) - 6, "-first");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strncmp(cases[i].name, argv[5], strlen(argv[5]) - (first ? 6 : 0)) &&
		    strlen(cases[i].name) == strlen(argv[5]) - (first ? 6 : 0))
			t = &cases[i];
	if (!t) {
		fprintf(stderr, "no case %s\n", argv[5]);
		return 2;
	}
	timeout_ms = 30000 * (scale && atoi(scale) > 0 ? atoi(scale) : 1);
	tls13 = !strcmp(argv[3], "1.3");
	if (t->action == A_BAD_FINISHED)
		flight_edit = damage_finished;
	snprintf(prio, sizeof(prio), "NORMAL:-VERS-ALL:+VERS-TLS%s:-CIPHER-ALL:+%s",
		 argv[3], argv[4]);
	sock = flight_connect(argv[1]);
	if (sock < 0) {
		perror("connect");
		return 2;
	}
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_trust_file(cred, argv[2], GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "cannot load %s\n", argv[2]);
		return 2;
	}
	/* no tickets: nothing from the server between the handshake and us */
	gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_TICKETS);
	if (gnutls_priority_set_direct(s, prio, NULL) < 0) {
		fprintf(stderr, "bad priority %s\n", prio);
		return 2;
	}
	ret = flight_handshake(s, cred, pull);
	if (t->action == A_BAD_FINISHED) {
		/* TLS 1.2: the server's answer comes during our handshake;
		 * TLS 1.3: after it, our Finished being our last word */
		if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			printf("handshake: fatal alert %s\n",
			       gnutls_alert_get_name(gnutls_alert_get(s)));
			status = (int)gnutls_alert_get(s) == t->alert ? closed() : 1;
		} else if (ret == 0 && !flight_flush()) {
			status = run(t) ? 1 : 0;
		} else {
			printf("handshake: %s\n", gnutls_strerror(ret));
		}
		goto out;
	}
	if (ret < 0) {
		printf("handshake: %s\n", gnutls_strerror(ret));
		goto out;
	}
	printf("handshake: %s, %s\n", gnutls_protocol_get_name(gnutls_protocol_get_version(s)),
	       gnutls_cipher_get_name(gnutls_cipher_get(s)));
	/* "-first": the bad input right behind our Finished, while the agent
	 * may still hold the socket; else after one request, answered */
	if (!first && fetch(false, -1, NULL))
		goto out;
	status = run(t) ? 1 : 0;
out:
	printf("%s: %s\n", t->name, status ? "FAILED" : "ok");
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(sock);
	return status;
}
