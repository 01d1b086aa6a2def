// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls_recv() against control records on a kernel TLS loopback pair (fixed
 * TLS 1.3 AES-128-GCM keys, records of any type sent with
 * TLS_SET_RECORD_TYPE): a NewSessionTicket is skipped by a read and by a
 * peek (which must not spin on it), also into a buffer shorter than the
 * record; a KeyUpdate fails with ENOTSUP, a renegotiation-like message
 * with EPROTO, close_notify reads as end of stream.  Prints TAP.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>

#include <ktls-offload/ktls.h>

#include "ktls_keys.h"
#include "loopback.h"
#include "tap.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* Sends one record of @type with @len bytes of @data. */
static int send_record(int fd, unsigned char type, const void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(unsigned char))] = { 0 };
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_TLS;
	c->cmsg_type = TLS_SET_RECORD_TYPE;
	c->cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*(unsigned char *)CMSG_DATA(c) = type;
	return sendmsg(fd, &mh, 0) == (ssize_t)len ? 0 : -1;
}

/* A handshake message: type, 24-bit length, @body_len bytes. */
static size_t message(unsigned char *out, unsigned char type, size_t body_len)
{
	out[0] = type;
	out[1] = (unsigned char)(body_len >> 16);
	out[2] = (unsigned char)(body_len >> 8);
	out[3] = (unsigned char)body_len;
	memset(out + 4, 0x5a, body_len);
	return 4 + body_len;
}

/*
 * One record error on a fresh pair: @d has kernel TLS both ways, @r reads
 * what @d sends (kernel TLS RX only: its own writes go out raw).  @raw:
 * what @r writes.  First with recvmsg() alone, to see what the kernel does
 * by itself (it sends nothing, and keeps the error on the socket, where
 * it fails the next send until SO_ERROR is read), then ktls_recv().
 */
static void record_error(const struct ktls_cipher *c, const uint8_t *key, const uint8_t *iv,
			 const unsigned char *raw, size_t raw_len, int err, int alert,
			 const char *what)
{
	for (int lib = 0; lib < 2; lib++) {
		union ktls_crypto_info ci;
		unsigned char buf[64];
		char cbuf[CMSG_SPACE(sizeof(unsigned char))];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		int d, r, len, ret, pending = 0;
		socklen_t plen = sizeof(pending);
		ssize_t got;

		if (loopback_tcp_pair(&d, &r)) {
			check(0, "loopback pair");
			return;
		}
		len = ktls_crypto_info_fill(&ci, TLS_1_3_VERSION, c, key, 16, iv, 12, 0);
		ret = len < 0 ? len : ktls_attach_ulp(d);
		if (!ret)
			ret = ktls_install(d, TLS_TX, &ci, (size_t)len);
		if (!ret)
			ret = ktls_install(d, TLS_RX, &ci, (size_t)len);
		if (!ret)
			ret = ktls_attach_ulp(r);
		if (!ret)
			ret = ktls_install(r, TLS_RX, &ci, (size_t)len);
		ktls_crypto_info_wipe(&ci);
		if (ret || send(r, raw, raw_len, 0) != (ssize_t)raw_len) {
			check(0, "kernel TLS pair");
			return;
		}
		if (lib) {
			got = ktls_recv(d, buf, sizeof(buf), 0);
			check(got < 0 && errno == err, what);
		} else {
			got = recvmsg(d, &mh, 0);
			check(got < 0 && errno == err, what);
			getsockopt(d, SOL_SOCKET, SO_ERROR, &pending, &plen);
			if (pending)
				printf("# after %s the socket still holds that error: a send "
				       "fails with it until SO_ERROR is read\n", strerror(err));
			else
				printf("# after %s the read took the error: sends work\n",
				       strerror(err));
			ktls_send_alert(d, KTLS_ALERT_FATAL, alert);
		}
		/* the first record the peer gets is the alert: the kernel sent
		 * nothing of its own before it */
		mh.msg_controllen = sizeof(cbuf);
		got = recvmsg(r, &mh, 0);
		cm = CMSG_FIRSTHDR(&mh);
		check(got == 2 && cm && *(unsigned char *)CMSG_DATA(cm) == 21 && buf[0] == 2 &&
		      buf[1] == alert, lib ? "... ktls_recv() sends the fatal alert" :
		      "... the kernel sends nothing itself; after it, kernel TLS sends our alert");
		close(d);
		close(r);
	}
}

static void record_errors(const struct ktls_cipher *c, const uint8_t *key, const uint8_t *iv)
{
	/* a record whose tag cannot match */
	static const unsigned char garbage[5 + 32] = { 23, 3, 3, 0, 32, 1, 2, 3 };
	/* a header claiming 2^14 + 32 bytes: more than 2^14 + 17 (TLS 1.3) */
	static const unsigned char huge[5] = { 23, 3, 3, 0x40, 0x20 };
	/* a record header of TLS 1.0 */
	static const unsigned char version[5 + 32] = { 23, 3, 1, 0, 32 };

	record_error(c, key, iv, garbage, sizeof(garbage), EBADMSG, KTLS_ALERT_BAD_RECORD_MAC,
		     "a damaged record: EBADMSG");
	record_error(c, key, iv, huge, sizeof(huge), EMSGSIZE, KTLS_ALERT_RECORD_OVERFLOW,
		     "a record over 2^14 bytes: EMSGSIZE");
	record_error(c, key, iv, version, sizeof(version), EINVAL, KTLS_ALERT_PROTOCOL_VERSION,
		     "a record of version 3,1: EINVAL");
}

static void on_alarm(int sig)
{
	(void)sig;
	printf("not ok %d - ktls_recv() did not return (spinning?)\n", ++tap_n);
	printf("1..%d\n", tap_n);
	_exit(1);
}

/* A loopback pair with TLS 1.3 keys: @a sends through kernel TLS, @b reads. */
static int tls_pair(int *a, int *b)
{
	const struct ktls_cipher *c = ktls_cipher_by_name("AES-128-GCM");
	union ktls_crypto_info ci;
	uint8_t key[16] = { 1 }, iv[12] = { 2 };
	int len, ret;

	if (loopback_tcp_pair(a, b)) {
		printf("Bail out! loopback pair: %s\n", strerror(errno));
		exit(1);
	}
	len = ktls_crypto_info_fill(&ci, TLS_1_3_VERSION, c, key, sizeof(key), iv, sizeof(iv), 0);
	ret = len < 0 ? len : ktls_attach_ulp(*a);
	if (!ret)
		ret = ktls_install(*a, TLS_TX, &ci, (size_t)len);
	if (!ret)
		ret = ktls_attach_ulp(*b);
	if (!ret)
		ret = ktls_install(*b, TLS_RX, &ci, (size_t)len);
	ktls_crypto_info_wipe(&ci);
	if (ret) {
		printf("Bail out! kernel TLS keys: %s\n", strerror(-ret));
		exit(1);
	}
	return 0;
}

/*
 * A KeyUpdate (@value: its one byte), each on a pair of its own: kernels
 * with TLS rekey (6.14 on) stop reading after one until new keys come.
 * (What a read after the refusal gets differs between kernels; the caller
 * has closed by then, as ktls.h says.)
 */
static void key_update(unsigned char value, bool peek, size_t len, int err, const char *what)
{
	unsigned char ku[5] = { 0x18, 0, 0, 1, value }, buf[64];
	ssize_t got;
	int a, b;

	tls_pair(&a, &b);
	send_record(a, 22, ku, sizeof(ku));
	send_record(a, 23, "data", 4);
	got = ktls_recv(b, buf, len, peek ? MSG_PEEK : 0);
	check(got < 0 && errno == err, what);
	close(a);
	close(b);
}

int main(void)
{
	const struct ktls_cipher *c = ktls_cipher_by_name("AES-128-GCM");
	uint8_t key[16] = { 1 }, iv[12] = { 2 };
	unsigned char msg[1024], buf[64];
	ssize_t got;
	int a, b;

	signal(SIGALRM, on_alarm);
	tls_pair(&a, &b);

	send_record(a, 22, msg, message(msg, 4, 200));	/* NewSessionTicket */
	send_record(a, 23, "hello", 5);
	/* 10 s, times KTLS_TIME_SCALE */
	alarm(10 * (getenv("KTLS_TIME_SCALE") && atoi(getenv("KTLS_TIME_SCALE")) > 0 ?
		    (unsigned int)atoi(getenv("KTLS_TIME_SCALE")) : 1));
	got = ktls_recv(b, buf, sizeof(buf), MSG_PEEK);
	check(got == 5 && !memcmp(buf, "hello", 5),
	      "MSG_PEEK past a NewSessionTicket: the data behind it, no spinning");
	got = ktls_recv(b, buf, sizeof(buf), 0);
	check(got == 5 && !memcmp(buf, "hello", 5), "and a read then returns that data");

	send_record(a, 22, msg, message(msg, 4, 300));
	send_record(a, 23, "world", 5);
	got = ktls_recv(b, buf, 3, 0);
	check(got == 3 && !memcmp(buf, "wor", 3),
	      "a 300-byte NewSessionTicket read into a 3-byte buffer is skipped whole");
	got = ktls_recv(b, buf, sizeof(buf), 0);
	check(got == 2 && !memcmp(buf, "ld", 2), "and the stream goes on where it was");

	send_record(a, 22, msg, message(msg, 1, 40));	/* a ClientHello */
	got = ktls_recv(b, buf, sizeof(buf), 0);
	check(got < 0 && errno == EPROTO, "another handshake message: EPROTO");

	send_record(a, 22, msg, message(msg, 4, 100));	/* a NewSessionTicket ... */
	send_record(a, 22, "\x04\x00\x00\x40", 4);	/* ... and one split in two */
	send_record(a, 22, msg, 64);
	send_record(a, 23, "after", 5);
	got = ktls_recv(b, buf, sizeof(buf), 0);
	check(got == 5 && !memcmp(buf, "after", 5),
	      "a NewSessionTicket split over two records is skipped whole");

	send_record(a, 21, "\x01\x00", 2);		/* close_notify */
	got = ktls_recv(b, buf, sizeof(buf), MSG_PEEK);
	check(got == 0, "close_notify, peeked: end of stream");
	got = ktls_recv(b, buf, 1, 0);
	check(got == 0, "read into a 1-byte buffer: end of stream");
	close(a);
	close(b);

	key_update(0, true, sizeof(buf), ENOTSUP, "a KeyUpdate, peeked: ENOTSUP");
	key_update(1, false, 2, ENOTSUP, "update_requested read into a short buffer: ENOTSUP");
	key_update(2, false, sizeof(buf), EPROTO, "a KeyUpdate with the value 2: EPROTO");

	/* The kernel's own behaviour on a record error, and the alerts */
	record_errors(c, key, iv);
	alarm(0);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
