// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One TLS 1.2/1.3 connection across a ktls_nicsim pair: the server listens
 * in network namespace B, the client connects from A, both get fixed keys
 * with the agent's key installer (both directions), the client sends MiB
 * MiB of a known pattern and the server checks every byte, then answers
 * "ok" so the reverse direction is used too.  Exit 0 on success; with
 * --expect-ebadmsg, 0 if the server's read fails with EBADMSG instead.
 * With --hold, the connection stays open after the transfer until stdin
 * closes (so the device or module can go away under it), then more data
 * is sent, all errors ignored, and the sockets closed.
 *
 * Usage: nicsim_pair NS_A NS_B SERVER_ADDR 12|13 128|256 MIB
 *                    [--expect-ebadmsg] [--hold]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ktls_keys.h"

#define CHUNK 65536

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((off * 7) ^ (off >> 9) ^ (off >> 17));
}

static int enter_ns(const char *name)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

static int install(int fd, uint16_t version, const struct ktls_cipher *c,
		   int dir, uint8_t tag)
{
	union ktls_crypto_info ci;
	uint8_t key[32], iv[12];
	int len, err;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(tag * 31 + i * 7 + 1);
	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (uint8_t)(tag * 17 + i * 3 + 5);
	len = ktls_crypto_info_fill(&ci, version, c, key, c->key_len, iv,
				    version == TLS_1_3_VERSION ? 12 : c->salt_len, 7);
	if (len < 0)
		return len;
	err = ktls_install(fd, dir, &ci, (size_t)len);
	ktls_crypto_info_wipe(&ci);
	return err;
}

struct sender {
	int fd;
	uint64_t total;
	int err;
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	static uint8_t buf[CHUNK];
	uint64_t off = 0;

	while (off < s->total) {
		size_t n = s->total - off < CHUNK ? s->total - off : CHUNK;
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		w = write(s->fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->err = -errno;
			return NULL;
		}
		off += (uint64_t)w;
	}
	return NULL;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "nicsim_pair: %s: %s\n", what, strerror(-err));
	return 1;
}

int main(int argc, char **argv)
{
	int expect_ebadmsg = 0, hold = 0, lfd, cfd, sfd, err, v6;
	struct sockaddr_storage ss = {0};
	socklen_t sslen;
	const struct ktls_cipher *c;
	uint16_t version;
	struct sender snd = {0};
	pthread_t th;
	static uint8_t buf[CHUNK];
	uint64_t got = 0;
	char ack[2];

	if (argc < 7)
		return fprintf(stderr, "usage: nicsim_pair NS_A NS_B ADDR 12|13 128|256 MIB [--expect-ebadmsg] [--hold]\n"), 2;
	for (int i = 7; i < argc; i++) {
		if (!strcmp(argv[i], "--expect-ebadmsg"))
			expect_ebadmsg = 1;
		else if (!strcmp(argv[i], "--hold"))
			hold = 1;
		else
			return fprintf(stderr, "nicsim_pair: unknown %s\n", argv[i]), 2;
	}
	/* the sender may still be writing when a failed read ends the test */
	signal(SIGPIPE, SIG_IGN);
	version = !strcmp(argv[4], "13") ? TLS_1_3_VERSION : TLS_1_2_VERSION;
	c = ktls_cipher_by_name(!strcmp(argv[5], "256") ? "AES-256-GCM" : "AES-128-GCM");
	snd.total = strtoull(argv[6], NULL, 10) << 20;
	v6 = strchr(argv[3], ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, argv[3], &a->sin6_addr) != 1)
			return fail("address", -EINVAL);
		sslen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[3], &a->sin_addr) != 1)
			return fail("address", -EINVAL);
		sslen = sizeof(*a);
	}

	if ((err = enter_ns(argv[2])))
		return fail("setns B", err);
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, sslen) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&ss, &sslen))
		return fail("listen", -errno);
	if ((err = enter_ns(argv[1])))
		return fail("setns A", err);
	cfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&ss, sslen))
		return fail("connect", -errno);
	sfd = accept(lfd, NULL, NULL);
	if (sfd < 0)
		return fail("accept", -errno);
	close(lfd);

	if ((err = ktls_attach_ulp(cfd)) || (err = ktls_attach_ulp(sfd)) ||
	    (err = install(cfd, version, c, TLS_TX, 1)) ||
	    (err = install(sfd, version, c, TLS_RX, 1)) ||
	    (err = install(sfd, version, c, TLS_TX, 2)) ||
	    (err = install(cfd, version, c, TLS_RX, 2)))
		return fail("install keys", err);

	snd.fd = cfd;
	if (pthread_create(&th, NULL, send_all, &snd))
		return fail("thread", -EAGAIN);
	while (got < snd.total) {
		ssize_t n = read(sfd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			if (expect_ebadmsg && err == -EBADMSG) {
				fprintf(stderr, "nicsim_pair: read failed with EBADMSG after %llu bytes, as expected\n",
					(unsigned long long)got);
				shutdown(sfd, SHUT_RDWR);
				shutdown(cfd, SHUT_RDWR);
				pthread_join(th, NULL);
				return 0;
			}
			return fail("read", err);
		}
		if (n == 0)
			return fail("read", -EPIPE);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(got + (uint64_t)i)) {
				fprintf(stderr, "nicsim_pair: byte %llu differs\n",
					(unsigned long long)(got + (uint64_t)i));
				return 1;
			}
		got += (uint64_t)n;
	}
	pthread_join(th, NULL);
	if (snd.err)
		return fail("write", snd.err);
	if (expect_ebadmsg)
		return fprintf(stderr, "nicsim_pair: all %llu bytes arrived, no EBADMSG\n",
			       (unsigned long long)got), 1;
	if (write(sfd, "ok", 2) != 2)
		return fail("write ack", -errno);
	if (read(cfd, ack, 2) != 2 || memcmp(ack, "ok", 2))
		return fail("read ack", -EPROTO);
	fprintf(stderr, "nicsim_pair: %llu bytes intact, ack back\n",
		(unsigned long long)got);
	if (hold) {
		printf("holding\n");
		fflush(stdout);
		while (read(0, ack, 1) > 0)
			;
		/* the path is gone (the device deleted under it): what fits in
		 * the send buffers goes there, and nothing may block on it */
		memset(buf, 'x', sizeof(buf));
		(void)!send(cfd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)!send(sfd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(cfd);
	close(sfd);
	return 0;
}
