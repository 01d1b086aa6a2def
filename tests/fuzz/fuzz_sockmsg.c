// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the messages of ktls-agent's UNIX socket, as the
 * agent reads a SUBMIT or CANCEL and libktls a COMPLETE.  Each input is
 * sent as one SOCK_SEQPACKET datagram (longer than the agent's buffer
 * too), with 0, 1 or 2 descriptors attached, and read back with
 * sockmsg_recv(); no descriptor may leak on any path.
 *
 * Input: one byte whose low two bits give the number of descriptors,
 * then the datagram.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ktls_offload.h>

#include "sockmsg.h"

static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

static void send_with_fds(int sock, const void *buf, size_t len, int nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[2] = { -1, -1 };

	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_DONTWAIT) < 0)
		abort();
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sv[2] = { -1, -1 };
	static struct sockmsg_in *m;
	struct ktls_submit_args a;
	struct ktls_result_msg r;
	int before, ret, nfds;

	if (size < 1 || size > 16384)
		return 0;
	if (sv[0] < 0) {
		int sz = 65536;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
			abort();
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		m = malloc(sizeof(*m));
		if (!m)
			abort();
	}
	before = lowest_free_fd();
	nfds = data[0] & 3;
	if (nfds > 2)
		nfds = 2;
	send_with_fds(sv[0], data + 1, size - 1, nfds);
	ret = sockmsg_recv(sv[1], m, 1);
	if (ret != 1 && !(ret == 0 && size == 1 && !nfds))
		abort();
	if (ret == 1) {
		if (m->err && m->fd >= 0)
			abort();	/* a refused message keeps no descriptor */
		if (sockmsg_parse_submit(m, &a) == 0) {
			if (a.fd < 0 || (a.role != KTLS_OFFLOAD_ROLE_SERVER &&
					 a.role != KTLS_OFFLOAD_ROLE_CLIENT))
				abort();
			if ((a.profile && strlen(a.profile) >= 64) ||
			    (a.peername && strlen(a.peername) >= 256) ||
			    (a.alpn && strlen(a.alpn) >= 256))
				abort();
		}
		if (sockmsg_parse_complete(m, &r) == 0 &&
		    (strnlen(r.alpn, sizeof(r.alpn)) == sizeof(r.alpn)))
			abort();
		if (m->fd >= 0)
			close(m->fd);
	}
	if (lowest_free_fd() != before)
		abort();	/* a descriptor leaked */
	return 0;
}
