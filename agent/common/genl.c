// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/ktls_offload.h>

#include "genl.h"

/* libnl folds errno values into its own codes; undo that for callers. */
static int nlerr_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:			return 0;
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_PERM:		return -EPERM;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_INTR:		return -EINTR;
	case NLE_INVAL:		return -EINVAL;
	case NLE_BUSY:		return -EBUSY;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_PROTO_MISMATCH: return -EPROTO;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_BAD_SOCK:	return -EBADF;
	default:		return -EIO;
	}
}

int ktls_genl_open(struct ktls_genl *g)
{
	return ktls_genl_open_family(g, KTLS_OFFLOAD_FAMILY_NAME, KTLS_OFFLOAD_FAMILY_VERSION);
}

int ktls_genl_open_family(struct ktls_genl *g, const char *name, int version)
{
	int ret;

	g->family = -1;
	g->name = name;
	g->version = version;
	g->event_fn = NULL;
	g->event_arg = NULL;
	g->event_policy = NULL;
	g->dropped = 0;
	g->sock = nl_socket_alloc();
	if (!g->sock)
		return -ENOMEM;

	ret = genl_connect(g->sock);
	if (ret < 0)
		goto err;
	/* One recvmsg per message: with a buffer set, libnl reads without
	 * peeking at each message's size first.  The largest message the
	 * kernel sends us is a dump's, at most 32 KiB (netlink caps the
	 * buffers it fills to that). */
	nl_socket_set_msg_buf_size(g->sock, 32 * 1024);
	/* Only the kernel may answer: a process with CAP_NET_ADMIN over the
	 * socket's network namespace (root in a container whose namespace
	 * the agent serves) could otherwise send forged replies to our port.
	 * Multicast events still arrive on a connected socket. */
	{
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

		if (connect(nl_socket_get_fd(g->sock), (struct sockaddr *)&kernel,
			    sizeof(kernel))) {
			ret = -NLE_FAILURE;
			goto err;
		}
	}
	ret = genl_ctrl_resolve(g->sock, name);
	if (ret < 0)
		goto err;
	g->family = ret;
	return 0;

err:
	nl_socket_free(g->sock);
	g->sock = NULL;
	return nlerr_to_errno(ret);
}

void ktls_genl_close(struct ktls_genl *g)
{
	if (!g || !g->sock)
		return;
	nl_socket_free(g->sock);
	g->sock = NULL;
}

int ktls_genl_set_rcvbuf(struct ktls_genl *g, int bytes)
{
	int fd = nl_socket_get_fd(g->sock);

	/* past net.core.rmem_max when privileged, else up to it */
	if (!setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) ? -errno : 0;
}

int ktls_genl_fd(const struct ktls_genl *g)
{
	return nl_socket_get_fd(g->sock);
}

int ktls_genl_join(struct ktls_genl *g, const char *group)
{
	int grp = genl_ctrl_resolve_grp(g->sock, g->name, group);

	if (grp < 0)
		return nlerr_to_errno(grp);
	return nlerr_to_errno(nl_socket_add_membership(g->sock, grp));
}

int ktls_genl_open_events(struct ktls_genl *g, const char *name, int version,
			  const char *group, ktls_genl_event_fn fn, void *arg,
			  struct nla_policy *policy)
{
	int ret = ktls_genl_open_family(g, name, version);

	if (!ret)
		ret = ktls_genl_join(g, group);
	if (ret) {
		ktls_genl_close(g);
		return ret;
	}
	g->event_fn = fn;
	g->event_arg = arg;
	g->event_policy = policy;
	nl_socket_set_nonblocking(g->sock);
	return 0;
}

struct nl_msg *ktls_genl_msg(const struct ktls_genl *g, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
			 NLM_F_REQUEST | NLM_F_ACK | flags, cmd, (uint8_t)g->version)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct call_state {
	struct ktls_genl *g;
	unsigned int seq;	/* 0: only events are expected */
	int maxattr;
	struct nla_policy *policy;
	ktls_genl_reply_fn fn;
	void *arg;
	int err;	/* errno from the ack, or from parsing/the callback */
	int done;
	bool reply_ends;	/* no ack asked for: the reply is the end */
};

static void dispatch_event(struct call_state *st, struct nlmsghdr *nlh)
{
	struct nlattr *attrs[KTLS_OFFLOAD_A_RESULT_MAX + 1];
	struct genlmsghdr *gnlh = nlmsg_data(nlh);

	if (!st->g->event_fn || !st->g->event_policy || nlh->nlmsg_type != st->g->family)
		return;
	if (genlmsg_parse(nlh, 0, attrs, KTLS_OFFLOAD_A_RESULT_MAX, st->g->event_policy) < 0)
		return;
	st->g->event_fn(gnlh->cmd, attrs, st->g->event_arg);
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *attrs[KTLS_GENL_MAX_ATTR + 1];
	int ret;

	if (!st->seq || nlh->nlmsg_seq != st->seq) {
		dispatch_event(st, nlh);
		return NL_OK;
	}
	if (st->maxattr > KTLS_GENL_MAX_ATTR)
		st->err = -EINVAL;
	else if (genlmsg_parse(nlh, 0, attrs, st->maxattr, st->policy) < 0)
		st->err = -EBADMSG;	/* (the reply still ends a call without ack) */
	if (st->fn && !st->err) {
		ret = st->fn(attrs, nlh, st->arg);
		if (ret < 0)
			st->err = ret;
	}
	if (st->reply_ends) {
		st->done = 1;
		return NL_STOP;
	}
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct call_state *st = arg;

	(void)nla;
	if (!st->seq || err->msg.nlmsg_seq != st->seq)
		return NL_SKIP;
	if (!st->err)
		st->err = err->error;
	st->done = 1;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;

	if (!st->seq || nlmsg_hdr(msg)->nlmsg_seq != st->seq)
		return NL_OK;
	st->done = 1;
	return NL_STOP;
}

/* Whatever does not come from the kernel (port 0) is dropped unread. */
static int from_kernel(struct nl_msg *msg, void *arg)
{
	(void)arg;
	return nlmsg_get_src(msg)->nl_pid ? NL_SKIP : NL_OK;
}

/* Replies are matched by sequence in the handlers, so libnl must not drop
 * notifications (sequence 0) as mismatches. */
static int accept_any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static struct nl_cb *make_cb(struct call_state *st)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_set(cb, NL_CB_MSG_IN, NL_CB_CUSTOM, from_kernel, NULL);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, accept_any_seq, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, st);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, st);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_ack, st);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, st);
	return cb;
}

/* O_NONBLOCK on or off; returns the old setting, or -1. */
static int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
		return -1;
	return (fl & O_NONBLOCK) != 0;
}

int ktls_genl_call(struct ktls_genl *g, struct nl_msg *msg, int maxattr,
		   struct nla_policy *policy, ktls_genl_reply_fn fn, void *arg)
{
	struct call_state st = {
		.g = g, .maxattr = maxattr, .policy = policy, .fn = fn, .arg = arg,
	};
	int fd = nl_socket_get_fd(g->sock), was_nonblock = -1;
	bool overrun = false;
	struct nl_cb *cb;
	int ret;

	/* A command that answers with a message answers errors with an
	 * NLMSG_ERROR: its reply, or that error, ends the call, and an ack
	 * after the reply would only cost another read.  Dumps end with
	 * NLMSG_DONE; commands without a reply need their ack. */
	nl_complete_msg(g->sock, msg);
	if (fn && !(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP)) {
		nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
		st.reply_ends = true;
	}
	ret = nl_send(g->sock, msg);
	st.seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0)
		return nlerr_to_errno(ret);

	cb = make_cb(&st);
	if (!cb)
		return -ENOMEM;
	while (!st.done) {
		ret = nl_recvmsgs(g->sock, cb);
		if (ret == -NLE_NOMEM) {
			/* ENOBUFS: messages were dropped, maybe our reply.  The
			 * kernel answers a request while it is sent, so what is
			 * not queued now never comes: stop waiting once the
			 * socket is empty. */
			g->dropped = 1;
			if (!overrun)
				was_nonblock = set_nonblock(fd, 1);
			overrun = true;
			continue;
		}
		if (ret < 0 && !st.done) {
			st.err = overrun && ret == -NLE_AGAIN ? -ENOBUFS : nlerr_to_errno(ret);
			break;
		}
	}
	if (was_nonblock == 0)
		set_nonblock(fd, 0);
	nl_cb_put(cb);
	return st.err;
}

int ktls_genl_read_events(struct ktls_genl *g)
{
	struct call_state st = { .g = g };
	struct nl_cb *cb = make_cb(&st);
	int ret;

	if (!cb)
		return -ENOMEM;
	ret = nl_recvmsgs(g->sock, cb);
	nl_cb_put(cb);
	/* libnl reports a receive buffer overflow (ENOBUFS: notifications
	 * were dropped) as NLE_NOMEM; say what it almost always is */
	if (ret == -NLE_NOMEM || g->dropped) {
		g->dropped = 0;
		return -ENOBUFS;
	}
	return ret < 0 ? nlerr_to_errno(ret) : 0;
}
