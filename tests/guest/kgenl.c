// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/ktls_offload.h>
#include <linux/tls.h>

#include "kgenl.h"

#define KG_BUF 65536

static void *kg_tail(struct kg_msg *m)
{
	return m->buf + NLMSG_ALIGN(m->len);
}

static void kg_put(struct kg_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = kg_tail(m);

	if (NLMSG_ALIGN(m->len) + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(m->buf))
		return;		/* the callers' messages are far smaller */
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->len = NLMSG_ALIGN(m->len) + NLA_HDRLEN + NLA_ALIGN(len);
	m->nlh.nlmsg_len = m->len;
}

void kg_put_u32(struct kg_msg *m, uint16_t type, uint32_t v)
{
	kg_put(m, type, &v, sizeof(v));
}

void kg_put_u64(struct kg_msg *m, uint16_t type, uint64_t v)
{
	kg_put(m, type, &v, sizeof(v));
}

void kg_put_str(struct kg_msg *m, uint16_t type, const char *s)
{
	kg_put(m, type, s, strlen(s) + 1);
}

static void kg_msg_raw(struct kg_msg *m, struct kg *g, uint16_t type, uint8_t cmd,
		       uint8_t version, uint16_t flags)
{
	struct genlmsghdr *gh;

	memset(&m->nlh, 0, sizeof(m->nlh) + GENL_HDRLEN);
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nlh.nlmsg_len = m->len;
	gh = NLMSG_DATA(&m->nlh);
	gh->cmd = cmd;
	gh->version = version;
	(void)g;
}

void kg_msg_init(struct kg_msg *m, const struct kg *g, uint8_t cmd, uint16_t flags)
{
	kg_msg_raw(m, (struct kg *)g, g->family, cmd, KTLS_OFFLOAD_FAMILY_VERSION,
		   flags ? flags : NLM_F_ACK);
}

void kg_parse(const struct nlmsghdr *nlh, const struct nlattr **tb, int max)
{
	const struct nlattr *a = (const void *)((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int rem = (int)nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = a;
		rem -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

uint32_t kg_u32(const struct nlattr *a)
{
	uint32_t v = 0;

	if (a && a->nla_len >= NLA_HDRLEN + sizeof(v))
		memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

uint64_t kg_u64(const struct nlattr *a)
{
	uint64_t v = 0;

	if (a && a->nla_len >= NLA_HDRLEN + sizeof(v))
		memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

const char *kg_str(const struct nlattr *a)
{
	const char *s;
	size_t len;

	if (!a || a->nla_len <= NLA_HDRLEN)
		return "";
	s = (const char *)a + NLA_HDRLEN;
	len = a->nla_len - NLA_HDRLEN;
	return memchr(s, '\0', len) ? s : "";
}

static double kg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One datagram, waiting at most until @end; its length or -errno. */
static ssize_t kg_recv(struct kg *g, char *buf, double end)
{
	for (;;) {
		struct pollfd pfd = { .fd = g->fd, .events = POLLIN };
		int left = (int)((end - kg_now()) * 1000);
		ssize_t n;

		if (left < 0)
			left = 0;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ETIMEDOUT;
		n = recv(g->fd, buf, KG_BUF, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (errno == ENOBUFS) {
			g->lost = 1;
			g->lost_events = 1;
			continue;
		}
		return -errno;
	}
}

static int kg_call_raw(struct kg *g, struct kg_msg *m, kg_fn fn, void *arg,
		       kg_fn event, void *event_arg)
{
	static __thread char buf[KG_BUF] __attribute__((aligned(8)));
	const struct nlattr *tb[KG_MAX_ATTR + 1];
	uint16_t want_type = m->nlh.nlmsg_type;
	double end;
	ssize_t n;

	if (g->fd < 0)
		return -EBADF;
	if (!event) {
		event = g->on_event;
		event_arg = g->on_event_arg;
	}
	g->lost = 0;
	m->nlh.nlmsg_seq = ++g->seq ? g->seq : ++g->seq;
	do
		n = send(g->fd, m->buf, m->len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	end = kg_now() + g->timeout_ms / 1000.0;
	for (;;) {
		struct nlmsghdr *nlh;

		n = kg_recv(g, buf, end);
		if (n < 0)
			return n == -ETIMEDOUT && g->lost ? -ENOBUFS : (int)n;
		for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != m->nlh.nlmsg_seq) {
				if (event && !nlh->nlmsg_seq &&
				    nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
					kg_parse(nlh, tb, KG_MAX_ATTR);
					event(tb, nlh, event_arg);
				}
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
					memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
				return err;
			}
			if (nlh->nlmsg_type != want_type)
				continue;
			if (fn) {
				kg_parse(nlh, tb, KG_MAX_ATTR);
				fn(tb, nlh, arg);
			}
			/* a reply's ack follows it; a dump ends with DONE */
		}
	}
}

int kg_call(struct kg *g, struct kg_msg *m, kg_fn fn, void *arg, kg_fn event,
	    void *event_arg)
{
	return kg_call_raw(g, m, fn, arg, event, event_arg);
}

int kg_read_events(struct kg *g, int ms, kg_fn event, void *arg)
{
	static __thread char buf[KG_BUF] __attribute__((aligned(8)));
	const struct nlattr *tb[KG_MAX_ATTR + 1];
	double end = kg_now() + ms / 1000.0;
	int seen = 0;

	for (;;) {
		struct nlmsghdr *nlh;
		ssize_t n = kg_recv(g, buf, seen ? 0 : end);

		if (n == -ETIMEDOUT && g->lost_events) {
			/* (dropped here or during a call since the last report) */
			g->lost_events = 0;
			return -ENOBUFS;
		}
		if (n == -ETIMEDOUT)
			return seen;
		if (n < 0)
			return (int)n;
		for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			seen++;
			if (event) {
				kg_parse(nlh, tb, KG_MAX_ATTR);
				event(tb, nlh, arg);
			}
		}
	}
}

struct kg_family {
	uint16_t id;
	uint32_t grp;
};

static void kg_family_reply(const struct nlattr *const *tb, const struct nlmsghdr *nlh,
			    void *arg)
{
	struct kg_family *f = arg;
	const struct nlattr *grps = tb[CTRL_ATTR_MCAST_GROUPS], *g, *a;
	int rem, rem2;

	(void)nlh;
	if (tb[CTRL_ATTR_FAMILY_ID] && tb[CTRL_ATTR_FAMILY_ID]->nla_len >= NLA_HDRLEN + 2)
		memcpy(&f->id, (const char *)tb[CTRL_ATTR_FAMILY_ID] + NLA_HDRLEN, 2);
	if (!grps)
		return;
	/* a nest of nests of {NAME, ID} */
	g = (const void *)((const char *)grps + NLA_HDRLEN);
	rem = grps->nla_len - NLA_HDRLEN;
	for (; rem >= NLA_HDRLEN && g->nla_len >= NLA_HDRLEN && g->nla_len <= rem;
	     rem -= NLA_ALIGN(g->nla_len), g = (const void *)((const char *)g + NLA_ALIGN(g->nla_len))) {
		const char *name = NULL;
		uint32_t id = 0;

		a = (const void *)((const char *)g + NLA_HDRLEN);
		rem2 = g->nla_len - NLA_HDRLEN;
		for (; rem2 >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem2;
		     rem2 -= NLA_ALIGN(a->nla_len),
		     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
			if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_NAME)
				name = kg_str(a);
			if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_ID)
				id = kg_u32(a);
		}
		if (name && !strcmp(name, KTLS_OFFLOAD_MCGRP_AGENTS))
			f->grp = id;
	}
}

int kg_open(struct kg *g, int timeout_ms)
{
	struct kg_family f = { 0, 0 };
	struct kg_msg m;
	int ret;

	g->family = 0;
	g->agents_grp = 0;
	g->seq = 0;
	g->lost = 0;
	g->lost_events = 0;
	g->on_event = NULL;
	g->on_event_arg = NULL;
	g->timeout_ms = timeout_ms;
	g->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (g->fd < 0)
		return -errno;
	kg_msg_raw(&m, g, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK);
	kg_put_str(&m, CTRL_ATTR_FAMILY_NAME, KTLS_OFFLOAD_FAMILY_NAME);
	ret = kg_call_raw(g, &m, kg_family_reply, &f, NULL, NULL);
	if (!ret && !f.id)
		ret = -ENOENT;
	if (ret) {
		kg_close(g);
		return ret;
	}
	g->family = f.id;
	g->agents_grp = f.grp;
	return 0;
}

void kg_close(struct kg *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->family = 0;
}

int kg_join_agents(struct kg *g)
{
	if (!g->agents_grp)
		return -ENOENT;
	if (setsockopt(g->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g->agents_grp,
		       sizeof(g->agents_grp)))
		return -errno;
	return 0;
}

int kg_set_rcvbuf(struct kg *g, int bytes)
{
	if (!setsockopt(g->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		return 0;
	return setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) ? -errno : 0;
}

static void kg_get_id(const struct nlattr *const *tb, const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	/* REQUEST_ID and LISTENER_ID are both attribute 1 */
	*(uint32_t *)arg = kg_u32(tb[1]);
}

int kg_submit(struct kg *g, int fd, const char *profile, uint32_t timeout_ms,
	      uint32_t flags, uint64_t cookie, uint32_t *id)
{
	struct kg_msg m;

	*id = 0;
	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_SUBMIT, 0);
	kg_put_u32(&m, KTLS_OFFLOAD_A_REQUEST_SOCKFD, (uint32_t)fd);
	kg_put_u32(&m, KTLS_OFFLOAD_A_REQUEST_ROLE, KTLS_OFFLOAD_ROLE_SERVER);
	if (profile)
		kg_put_str(&m, KTLS_OFFLOAD_A_REQUEST_PROFILE, profile);
	if (timeout_ms)
		kg_put_u32(&m, KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS, timeout_ms);
	kg_put_u64(&m, KTLS_OFFLOAD_A_REQUEST_COOKIE, cookie);
	if (flags)
		kg_put_u32(&m, KTLS_OFFLOAD_A_REQUEST_FLAGS, flags);
	return kg_call(g, &m, kg_get_id, id, NULL, NULL);
}

static void kg_get_accepted(const struct nlattr *const *tb, const struct nlmsghdr *nlh,
			    void *arg)
{
	struct kg_accepted *a = arg;

	(void)nlh;
	if (!tb[KTLS_OFFLOAD_A_REQUEST_SOCKFD])
		return;
	a->id = kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_ID]);
	a->fd = (int)kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_SOCKFD]);
	a->role = kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_ROLE]);
	a->pid = kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_PID]);
	a->uid = kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_UID]);
	snprintf(a->profile, sizeof(a->profile), "%s", kg_str(tb[KTLS_OFFLOAD_A_REQUEST_PROFILE]));
}

int kg_accept(struct kg *g, struct kg_accepted *a)
{
	struct kg_msg m;
	int ret;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_ACCEPT, 0);
	ret = kg_call(g, &m, kg_get_accepted, a, NULL, NULL);
	if (!ret && a->fd < 0)
		ret = -EBADMSG;
	return ret;
}

int kg_done(struct kg *g, uint32_t id, uint32_t status)
{
	struct kg_msg m;

	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_DONE, 0);
	kg_put_u32(&m, KTLS_OFFLOAD_A_RESULT_ID, id);
	kg_put_u32(&m, KTLS_OFFLOAD_A_RESULT_STATUS, status);
	if (!status) {
		kg_put_u32(&m, KTLS_OFFLOAD_A_RESULT_TLS_VERSION, TLS_1_3_VERSION);
		kg_put_u32(&m, KTLS_OFFLOAD_A_RESULT_CIPHER, TLS_CIPHER_AES_GCM_128);
	}
	return kg_call(g, &m, NULL, NULL, NULL, NULL);
}

int kg_cancel(struct kg *g, uint32_t id)
{
	struct kg_msg m;

	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_CANCEL, 0);
	kg_put_u32(&m, KTLS_OFFLOAD_A_REQUEST_ID, id);
	return kg_call(g, &m, NULL, NULL, NULL, NULL);
}

static void kg_get_status(const struct nlattr *const *tb, const struct nlmsghdr *nlh,
			  void *arg)
{
	(void)nlh;
	*(uint32_t *)arg = kg_u32(tb[KTLS_OFFLOAD_A_RESULT_STATUS]);
}

int kg_wait(struct kg *g, uint32_t id, uint32_t *status)
{
	struct kg_msg m;

	*status = 0;
	/* version 2: COLLECT, which never waits (EAGAIN while live) */
	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_COLLECT, 0);
	kg_put_u32(&m, KTLS_OFFLOAD_A_RESULT_ID, id);
	return kg_call(g, &m, kg_get_status, status, NULL, NULL);
}

int kg_attach(struct kg *g, int fd, const char *profile, uint32_t max_inflight,
	      uint32_t timeout_ms, uint32_t *id)
{
	struct kg_msg m;

	*id = 0;
	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_ATTACH, 0);
	kg_put_u32(&m, KTLS_OFFLOAD_A_LISTENER_SOCKFD, (uint32_t)fd);
	if (profile)
		kg_put_str(&m, KTLS_OFFLOAD_A_LISTENER_PROFILE, profile);
	if (max_inflight)
		kg_put_u32(&m, KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT, max_inflight);
	if (timeout_ms)
		kg_put_u32(&m, KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS, timeout_ms);
	return kg_call(g, &m, kg_get_id, id, NULL, NULL);
}

int kg_detach(struct kg *g, int fd, uint32_t id)
{
	struct kg_msg m;

	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_DETACH, 0);
	if (fd >= 0)
		kg_put_u32(&m, KTLS_OFFLOAD_A_LISTENER_SOCKFD, (uint32_t)fd);
	else
		kg_put_u32(&m, KTLS_OFFLOAD_A_LISTENER_ID, id);
	return kg_call(g, &m, NULL, NULL, NULL, NULL);
}

int kg_listeners(struct kg *g, kg_fn fn, void *arg)
{
	struct kg_msg m;

	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_GET_LISTENER, NLM_F_DUMP);
	return kg_call(g, &m, fn, arg, NULL, NULL);
}

int kg_requests(struct kg *g, kg_fn fn, void *arg)
{
	struct kg_msg m;

	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_GET_REQUEST, NLM_F_DUMP);
	return kg_call(g, &m, fn, arg, NULL, NULL);
}

int kg_stats(struct kg *g, kg_fn fn, void *arg)
{
	struct kg_msg m;

	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_GET_STATS, 0);
	return kg_call(g, &m, fn, arg, NULL, NULL);
}

int kg_version(struct kg *g)
{
	struct kg_msg m;

	kg_msg_init(&m, g, KTLS_OFFLOAD_CMD_GET_VERSION, 0);
	return kg_call(g, &m, NULL, NULL, NULL, NULL);
}

int kg_complete(const struct nlmsghdr *nlh, uint32_t *id, uint32_t *status)
{
	const struct genlmsghdr *gh = NLMSG_DATA(nlh);
	const struct nlattr *tb[KG_MAX_ATTR + 1];

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN || gh->cmd != KTLS_OFFLOAD_CMD_COMPLETE)
		return -EINVAL;
	kg_parse(nlh, tb, KG_MAX_ATTR);
	if (!tb[KTLS_OFFLOAD_A_RESULT_ID] || !tb[KTLS_OFFLOAD_A_RESULT_STATUS])
		return -EBADMSG;
	*id = kg_u32(tb[KTLS_OFFLOAD_A_RESULT_ID]);
	*status = kg_u32(tb[KTLS_OFFLOAD_A_RESULT_STATUS]);
	return 0;
}

int kg_insmod(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params ? params : "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

int kg_rmmod(void)
{
	return syscall(SYS_delete_module, "ktls_offload", O_NONBLOCK) ? -errno : 0;
}

int kg_module_loaded(void)
{
	char line[256];
	FILE *f = fopen("/proc/modules", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "ktls_offload ", 13);
	fclose(f);
	return found;
}
