// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdlib.h>

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
	case NLE_INVAL:		return -EINVAL;
	case NLE_BUSY:		return -EBUSY;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_PROTO_MISMATCH: return -EPROTO;
	case NLE_NOACCESS:	return -EACCES;
	default:		return -EIO;
	}
}

int ktls_genl_open(struct ktls_genl *g)
{
	int ret;

	g->family = -1;
	g->sock = nl_socket_alloc();
	if (!g->sock)
		return -ENOMEM;

	ret = genl_connect(g->sock);
	if (ret < 0)
		goto err;

	ret = genl_ctrl_resolve(g->sock, KTLS_OFFLOAD_FAMILY_NAME);
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

struct nl_msg *ktls_genl_msg(const struct ktls_genl *g, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
			 NLM_F_REQUEST | NLM_F_ACK | flags, cmd,
			 KTLS_OFFLOAD_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct call_state {
	int maxattr;
	struct nla_policy *policy;
	ktls_genl_reply_fn fn;
	void *arg;
	int err;	/* errno from the ack, or from parsing/the callback */
	int done;
};

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;
	struct nlattr *attrs[KTLS_GENL_MAX_ATTR + 1];
	int ret;

	if (st->maxattr > KTLS_GENL_MAX_ATTR) {
		st->err = -EINVAL;
		return NL_STOP;
	}
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, attrs, st->maxattr, st->policy);
	if (ret < 0) {
		st->err = -EBADMSG;
		return NL_STOP;
	}
	if (st->fn) {
		ret = st->fn(attrs, st->arg);
		if (ret < 0) {
			st->err = ret;
			return NL_STOP;
		}
	}
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct call_state *st = arg;

	(void)nla;
	st->err = err->error;
	st->done = 1;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct call_state *st = arg;

	(void)msg;
	st->done = 1;
	return NL_STOP;
}

int ktls_genl_call(struct ktls_genl *g, struct nl_msg *msg, int maxattr,
		   struct nla_policy *policy, ktls_genl_reply_fn fn, void *arg)
{
	struct call_state st = {
		.maxattr = maxattr, .policy = policy, .fn = fn, .arg = arg,
	};
	struct nl_cb *cb;
	int ret;

	ret = nl_send_auto(g->sock, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return nlerr_to_errno(ret);

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_reply, &st);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &st);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_ack, &st);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &st);

	while (!st.done && st.err == 0) {
		ret = nl_recvmsgs(g->sock, cb);
		if (ret < 0 && st.err == 0)
			st.err = nlerr_to_errno(ret);
	}
	nl_cb_put(cb);
	return st.err;
}
