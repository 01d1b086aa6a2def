// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The kernel's AES-256-GCM speed, for the benchmark's crypto floor: seals
 * 16 KiB buffers (one full TLS record each) through AF_ALG "gcm(aes)" for
 * SECONDS and prints "MB/s CPU-seconds-per-GiB" from the process's own CPU
 * accounting (the kernel's work is this process's system time).
 * Usage: aead_speed [SECONDS]
 */
#include <linux/if_alg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG, .salg_type = "aead",
				   .salg_name = "gcm(aes)" };
	static unsigned char key[32], in[16384 + 13], out[16384 + 13 + 16];
	char cbuf[CMSG_SPACE(4) + CMSG_SPACE(sizeof(struct af_alg_iv) + 12) + CMSG_SPACE(4)];
	double secs = argc > 1 ? atof(argv[1]) : 2, t0, c0, t;
	long long bytes = 0;
	int tfm, op;

	tfm = socket(AF_ALG, SOCK_SEQPACKET, 0);
	if (tfm < 0 || bind(tfm, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(tfm, SOL_ALG, ALG_SET_KEY, key, sizeof(key)) ||
	    setsockopt(tfm, SOL_ALG, ALG_SET_AEAD_AUTHSIZE, NULL, 16) ||
	    (op = accept(tfm, NULL, 0)) < 0) {
		perror("AF_ALG gcm(aes)");
		return 1;
	}
	t0 = now();
	c0 = cpu();
	do {
		struct iovec iov = { in, sizeof(in) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		struct af_alg_iv *iv;

		memset(cbuf, 0, sizeof(cbuf));
		c->cmsg_level = SOL_ALG;
		c->cmsg_type = ALG_SET_OP;
		c->cmsg_len = CMSG_LEN(4);
		*(unsigned int *)CMSG_DATA(c) = ALG_OP_ENCRYPT;
		c = CMSG_NXTHDR(&mh, c);
		c->cmsg_level = SOL_ALG;
		c->cmsg_type = ALG_SET_IV;
		c->cmsg_len = CMSG_LEN(sizeof(*iv) + 12);
		iv = (struct af_alg_iv *)CMSG_DATA(c);
		iv->ivlen = 12;
		c = CMSG_NXTHDR(&mh, c);
		c->cmsg_level = SOL_ALG;
		c->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
		c->cmsg_len = CMSG_LEN(4);
		*(unsigned int *)CMSG_DATA(c) = 13;	/* a TLS record header's worth */
		if (sendmsg(op, &mh, 0) != (ssize_t)sizeof(in) ||
		    read(op, out, sizeof(out)) != (ssize_t)sizeof(out)) {
			perror("AF_ALG encrypt");
			return 1;
		}
		bytes += 16384;
		t = now();
	} while (t - t0 < secs);
	printf("%.1f %.3f\n", bytes / (t - t0) / 1e6, (cpu() - c0) / (bytes / 1073741824.0));
	return 0;
}
