// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/ktls_offload.h>
#include <ktls-offload/agent-socket.h>

#include "sockmsg.h"

int sockmsg_send_fd(int sock, const void *buf, size_t len, int fd, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int send_msg(int sock, struct nl_msg *msg, int fd, int flags)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int ret = sockmsg_send_fd(sock, nlh, nlh->nlmsg_len, fd, flags);

	nlmsg_free(msg);
	return ret;
}

static struct nl_msg *new_msg(int cmd, uint32_t seq)
{
	struct nl_msg *msg = nlmsg_alloc_size(KTLS_AGENT_SOCKET_MSG_MAX);

	if (msg && !nlmsg_put(msg, 0, seq, cmd, 0, 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int sockmsg_send_submit(int sock, uint32_t seq, const struct ktls_submit_args *a, int fd)
{
	struct nl_msg *msg = new_msg(KTLS_OFFLOAD_CMD_SUBMIT, seq);

	if (!msg)
		return -ENOMEM;
	if (ktls_request_put(msg, a)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return send_msg(sock, msg, fd, 0);
}

int sockmsg_send_cancel(int sock, uint32_t seq)
{
	struct nl_msg *msg = new_msg(KTLS_OFFLOAD_CMD_CANCEL, seq);

	return msg ? send_msg(sock, msg, -1, 0) : -ENOMEM;
}

int sockmsg_send_complete(int sock, uint32_t seq, const struct ktls_result_msg *r,
			  int nonblock)
{
	struct nl_msg *msg = new_msg(KTLS_OFFLOAD_CMD_COMPLETE, seq);

	if (!msg)
		return -ENOMEM;
	/* the module adds the cookie to its COMPLETE itself; here the agent does */
	if (ktls_result_put(msg, r) || ktls_result_put_detail(msg, r) ||
	    nla_put_u64(msg, KTLS_OFFLOAD_A_RESULT_COOKIE, r->cookie)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return send_msg(sock, msg, -1, nonblock ? MSG_DONTWAIT : 0);
}

int sockmsg_recv(int sock, struct sockmsg_in *m, int nonblock)
{
	/* room for a few descriptors, so that extra ones are seen and closed */
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { m->buf, sizeof(m->buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	struct cmsghdr *c;
	int n_fds = 0;
	ssize_t n;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0 && !(mh.msg_flags & MSG_TRUNC) && !mh.msg_controllen)
		return 0;
	m->fd = -1;
	m->err = 0;
	m->cmd = 0;
	m->seq = 0;
	m->len = (size_t)n;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		int fds[8];
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			m->err = EBADF;
			continue;
		}
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (n_fds++ == 0)
				m->fd = fds[i];
			else
				sockmsg_close_foreign(fds[i]);
		}
	}
	if (n_fds > 1 || (mh.msg_flags & MSG_CTRUNC))
		m->err = EBADF;
	if (mh.msg_flags & MSG_TRUNC)
		m->err = EMSGSIZE;
	if (m->len >= sizeof(*nlh)) {
		/* the seq is wanted even for a bad message, to answer it */
		m->cmd = nlh->nlmsg_type;
		m->seq = nlh->nlmsg_seq;
		if (!m->err && (nlh->nlmsg_len != m->len || nlh->nlmsg_flags || nlh->nlmsg_pid))
			m->err = EBADMSG;
	} else if (!m->err) {
		m->err = EBADMSG;
	}
	if (m->err && m->fd >= 0) {
		sockmsg_close_foreign(m->fd);
		m->fd = -1;
	}
	return 1;
}

void sockmsg_close_foreign(int fd)
{
	struct linger off = { 0 };

	/* ENOTSOCK for what is not a socket: nothing to do then */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
	close(fd);
}

/* Longest string each SUBMIT attribute may hold, NUL included; 0: a number. */
static const struct {
	unsigned short len;	/* exact length of a number */
	unsigned short max;	/* a string's size limit, NUL included */
} submit_attrs[KTLS_OFFLOAD_A_REQUEST_MAX + 1] = {
	[KTLS_OFFLOAD_A_REQUEST_ROLE]	    = { .len = 4 },
	[KTLS_OFFLOAD_A_REQUEST_PROFILE]    = { .max = 64 },
	[KTLS_OFFLOAD_A_REQUEST_PEERNAME]   = { .max = 256 },
	[KTLS_OFFLOAD_A_REQUEST_ALPN]	    = { .max = 256 },
	[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS] = { .len = 4 },
	[KTLS_OFFLOAD_A_REQUEST_COOKIE]	    = { .len = 8 },
};

int sockmsg_parse_submit(struct sockmsg_in *m, struct ktls_submit_args *a)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	struct nlattr *tb[KTLS_OFFLOAD_A_REQUEST_MAX + 1] = { 0 };
	struct nlattr *nla;
	int rem;

	memset(a, 0, sizeof(*a));
	a->fd = m->fd;
	if (m->err)
		return m->err;
	/* The module's policy, attribute by attribute: unknown, repeated or
	 * malformed attributes are EINVAL. */
	nlmsg_for_each_attr(nla, nlh, 0, rem) {
		int t = nla_type(nla);
		int len = nla_len(nla);
		const char *s = nla_data(nla);

		if (t <= 0 || t > KTLS_OFFLOAD_A_REQUEST_MAX || tb[t] ||
		    (!submit_attrs[t].len && !submit_attrs[t].max))
			return EINVAL;
		if (submit_attrs[t].len && len != submit_attrs[t].len)
			return EINVAL;
		if (submit_attrs[t].max &&
		    (len < 1 || len > submit_attrs[t].max || s[len - 1] ||
		     strlen(s) != (size_t)len - 1))
			return EINVAL;
		tb[t] = nla;
	}
	if (rem != 0)
		return EINVAL;
	if (m->fd < 0)
		return EBADF;
	if (!tb[KTLS_OFFLOAD_A_REQUEST_ROLE])
		return EINVAL;
	a->role = nla_get_u32(tb[KTLS_OFFLOAD_A_REQUEST_ROLE]);
	if (a->role != KTLS_OFFLOAD_ROLE_SERVER && a->role != KTLS_OFFLOAD_ROLE_CLIENT)
		return ERANGE;
	a->timeout_ms = KTLS_AGENT_SOCKET_TIMEOUT_MS;
	if (tb[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS]) {
		a->timeout_ms = nla_get_u32(tb[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS]);
		if (a->timeout_ms < 1 || a->timeout_ms > 300000)
			return ERANGE;
	}
	if (tb[KTLS_OFFLOAD_A_REQUEST_COOKIE])
		a->cookie = nla_get_u64(tb[KTLS_OFFLOAD_A_REQUEST_COOKIE]);
	if (tb[KTLS_OFFLOAD_A_REQUEST_PROFILE])
		a->profile = nla_data(tb[KTLS_OFFLOAD_A_REQUEST_PROFILE]);
	if (tb[KTLS_OFFLOAD_A_REQUEST_PEERNAME])
		a->peername = nla_data(tb[KTLS_OFFLOAD_A_REQUEST_PEERNAME]);
	if (tb[KTLS_OFFLOAD_A_REQUEST_ALPN])
		a->alpn = nla_data(tb[KTLS_OFFLOAD_A_REQUEST_ALPN]);
	if (a->role == KTLS_OFFLOAD_ROLE_CLIENT && !a->peername)
		return EINVAL;
	return 0;
}

int sockmsg_parse_complete(struct sockmsg_in *m, struct ktls_result_msg *r)
{
	struct nlattr *tb[KTLS_OFFLOAD_A_RESULT_MAX + 1];

	if (m->err || m->cmd != KTLS_OFFLOAD_CMD_COMPLETE ||
	    nlmsg_parse((struct nlmsghdr *)m->buf, 0, tb, KTLS_OFFLOAD_A_RESULT_MAX,
			ktls_result_policy) < 0)
		return -EBADMSG;
	return ktls_result_parse(tb, r);
}
