// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "ktls_offload": policies, command handlers and
 * notifications.  The protocol is documented in
 * include/uapi/linux/ktls_offload.h and specified in include/ktls_offload.yaml.
 * One file of about 900 lines (over the tree's 600): the policies, checked
 * against the YAML spec by tests/unit/uapi_spec.t, sit beside the handlers
 * that rely on them.
 */

#include <linux/build_bug.h>
#include <linux/file.h>
#include <linux/kernel.h>
#include <linux/pid_namespace.h>
#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <linux/tls.h>

#include <linux/ktls_offload.h>
#include <ktls-offload/version.h>

#include "compat.h"
#include "listen.h"
#include "netlink.h"
#include "request.h"
#include "sock.h"

#define KTLS_PROFILE_MAX	63
#define KTLS_NAME_MAX		255
#define KTLS_IDENTITY_MAX	1023
#define KTLS_REASON_MAX		255
#define KTLS_TIMEOUT_MAX_MS	300000

/* The UAPI documents statuses 0..133. */
static_assert(KTLS_ERRNO_MAX == 134);

static const struct nla_policy ktls_version_policy[KTLS_OFFLOAD_A_VERSION_MAX + 1] = {
};

/* Not const: 6.1's nla_policy points at it without const. */
static struct netlink_range_validation ktls_timeout_range = {
	.min = 1,
	.max = KTLS_TIMEOUT_MAX_MS,
};

/* (NLA_POLICY_RANGE holds only s16 bounds) */
static struct netlink_range_validation ktls_inflight_range = {
	.min = 1,
	.max = 65535,
};

static const struct nla_policy ktls_request_policy[KTLS_OFFLOAD_A_REQUEST_MAX + 1] = {
	[KTLS_OFFLOAD_A_REQUEST_ID]	    = NLA_POLICY_MIN(NLA_U32, 1),
	[KTLS_OFFLOAD_A_REQUEST_SOCKFD]	    = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_ROLE]	    = NLA_POLICY_RANGE(NLA_U32,
						KTLS_OFFLOAD_ROLE_SERVER,
						KTLS_OFFLOAD_ROLE_CLIENT),
	[KTLS_OFFLOAD_A_REQUEST_PROFILE]    = { .type = NLA_NUL_STRING,
						.len = KTLS_PROFILE_MAX },
	[KTLS_OFFLOAD_A_REQUEST_PEERNAME]   = { .type = NLA_NUL_STRING,
						.len = KTLS_NAME_MAX },
	[KTLS_OFFLOAD_A_REQUEST_ALPN]	    = { .type = NLA_NUL_STRING,
						.len = KTLS_NAME_MAX },
	[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&ktls_timeout_range),
	[KTLS_OFFLOAD_A_REQUEST_COOKIE]	    = { .type = NLA_U64 },
	/* reserved: no flag is defined */
	[KTLS_OFFLOAD_A_REQUEST_FLAGS]	    = NLA_POLICY_MASK(NLA_U32, 0),
};

static const struct nla_policy ktls_result_policy[KTLS_OFFLOAD_A_RESULT_MAX + 1] = {
	[KTLS_OFFLOAD_A_RESULT_ID]	      = NLA_POLICY_MIN(NLA_U32, 1),
	[KTLS_OFFLOAD_A_RESULT_STATUS]	      = NLA_POLICY_MAX(NLA_U32,
						KTLS_ERRNO_MAX - 1),
	[KTLS_OFFLOAD_A_RESULT_TLS_VERSION]   = NLA_POLICY_RANGE(NLA_U32,
						0x0303, 0x0304),
	[KTLS_OFFLOAD_A_RESULT_CIPHER]	      = NLA_POLICY_RANGE(NLA_U32, 51, 58),
	[KTLS_OFFLOAD_A_RESULT_ALPN]	      = { .type = NLA_NUL_STRING,
						  .len = KTLS_NAME_MAX },
	[KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY] = { .type = NLA_NUL_STRING,
						  .len = KTLS_IDENTITY_MAX },
	[KTLS_OFFLOAD_A_RESULT_RESUMED]	      = { .type = NLA_FLAG },
	[KTLS_OFFLOAD_A_RESULT_SNI]	      = { .type = NLA_NUL_STRING,
						  .len = KTLS_NAME_MAX },
	[KTLS_OFFLOAD_A_RESULT_REASON]	      = { .type = NLA_NUL_STRING,
						  .len = KTLS_REASON_MAX },
	[KTLS_OFFLOAD_A_RESULT_TX_SECRET]     = NLA_POLICY_RANGE(NLA_BINARY, 32,
						KTLS_SECRET_MAX),
	[KTLS_OFFLOAD_A_RESULT_RX_SECRET]     = NLA_POLICY_RANGE(NLA_BINARY, 32,
						KTLS_SECRET_MAX),
	[KTLS_OFFLOAD_A_RESULT_KEY_UPDATE_AFTER] = { .type = NLA_U64 },
};

static const struct nla_policy ktls_listener_policy[KTLS_OFFLOAD_A_LISTENER_MAX + 1] = {
	[KTLS_OFFLOAD_A_LISTENER_ID]	       = NLA_POLICY_MIN(NLA_U32, 1),
	[KTLS_OFFLOAD_A_LISTENER_SOCKFD]       = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_PROFILE]      = { .type = NLA_NUL_STRING,
						   .len = KTLS_PROFILE_MAX },
	[KTLS_OFFLOAD_A_LISTENER_ALPN]	       = { .type = NLA_NUL_STRING,
						   .len = KTLS_NAME_MAX },
	[KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT] = NLA_POLICY_FULL_RANGE(NLA_U32,
						   &ktls_inflight_range),
	[KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS]   = NLA_POLICY_FULL_RANGE(NLA_U32,
						   &ktls_timeout_range),
};

static struct genl_family ktls_genl_family;

enum ktls_mcgrp {
	KTLS_MCGRP_AGENTS,
};

static const struct genl_multicast_group ktls_mcgrps[] = {
	[KTLS_MCGRP_AGENTS] = {
		.name = KTLS_OFFLOAD_MCGRP_AGENTS,
		.flags = KTLS_MCGRP_ADMIN_FLAGS,
	},
};

static int ktls_put_result(struct sk_buff *msg, u32 id, u64 cookie,
			   const struct ktls_result *res)
{
	if (nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_ID, id) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_STATUS, res->status) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_RESULT_COOKIE, cookie,
			      KTLS_OFFLOAD_A_RESULT_PAD) ||
	    (res->sni && nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_SNI, res->sni)))
		return -EMSGSIZE;
	if (res->status)
		return res->reason &&
		       nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_REASON, res->reason) ?
		       -EMSGSIZE : 0;
	if (nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_TLS_VERSION, res->tls_version) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_CIPHER, res->cipher) ||
	    (res->alpn &&
	     nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_ALPN, res->alpn)) ||
	    (res->peer_identity &&
	     nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY,
			    res->peer_identity)) ||
	    (res->resumed && nla_put_flag(msg, KTLS_OFFLOAD_A_RESULT_RESUMED)))
		return -EMSGSIZE;
	return 0;
}

static size_t ktls_result_size(const struct ktls_result *res)
{
	return 4 * nla_total_size(sizeof(u32)) + nla_total_size_64bit(sizeof(u64)) +
	       nla_total_size(0) +
	       (res->alpn ? nla_total_size(strlen(res->alpn) + 1) : 0) +
	       (res->peer_identity ? nla_total_size(strlen(res->peer_identity) + 1) : 0) +
	       (res->sni ? nla_total_size(strlen(res->sni) + 1) : 0) +
	       (res->reason ? nla_total_size(strlen(res->reason) + 1) : 0);
}

/**
 * ktls_nl_notify_complete - tell a requester that its request ended
 * @net: the requester's network namespace
 * @portid: the requester's netlink port
 * @id: the request
 * @cookie: the requester's cookie
 * @res: the result
 *
 * The caller has checked that the socket that submitted the request is
 * still the one with @portid.
 *
 * Return: 0 if the message was queued on the requester's socket, else a
 * negative errno (a full receive buffer, a closed socket, no memory).
 */
int ktls_nl_notify_complete(struct net *net, u32 portid, u32 id, u64 cookie,
			    const struct ktls_result *res)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(ktls_result_size(res), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &ktls_genl_family, 0,
			  KTLS_OFFLOAD_CMD_COMPLETE);
	if (!hdr || ktls_put_result(msg, id, cookie, res)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_unicast(net, msg, portid);
}

/**
 * ktls_nl_notify_ready - multicast READY to the namespace's agents
 * @net: the namespace where a request was queued
 *
 * The caller coalesces: one READY until an agent has drained the queue.
 * A READY that a member's full socket drops is reported to it as ENOBUFS.
 *
 * Return: 0, or -ENOMEM if no READY could be made (nobody was told).
 */
int ktls_nl_notify_ready(struct net *net)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(0, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &ktls_genl_family, 0, KTLS_OFFLOAD_CMD_READY);
	if (!hdr) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&ktls_genl_family, net, msg, 0,
				KTLS_MCGRP_AGENTS, GFP_KERNEL);
	return 0;
}

static int ktls_nl_get_version_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(sizeof(KTLS_OFFLOAD_VERSION)) +
			  nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ktls_genl_family, 0,
				KTLS_OFFLOAD_CMD_GET_VERSION);
	if (!hdr ||
	    nla_put_string(msg, KTLS_OFFLOAD_A_VERSION_MODULE, KTLS_OFFLOAD_VERSION) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_VERSION_PROTOCOL,
			KTLS_OFFLOAD_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Replies to a command with one u32 attribute, in @msg (consumed). */
static int ktls_reply_id(struct sk_buff *msg, struct genl_info *info, u8 cmd,
			 int attr, u32 id)
{
	void *hdr = genlmsg_put_reply(msg, info, &ktls_genl_family, 0, cmd);

	if (!hdr || nla_put_u32(msg, attr, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Strings a user's request brings along are charged to the user. */
static char *ktls_nla_strdup(const struct nlattr *nla)
{
	return nla ? nla_strdup(nla, GFP_KERNEL_ACCOUNT) : NULL;
}

static int ktls_nl_submit_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct ktls_submit p = {};
	struct sk_buff *msg;
	u32 id;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_REQUEST_SOCKFD) ||
	    GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_REQUEST_ROLE))
		return -EINVAL;
	p.role = nla_get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_ROLE]);
	if (p.role == KTLS_OFFLOAD_ROLE_CLIENT &&
	    !attrs[KTLS_OFFLOAD_A_REQUEST_PEERNAME]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KTLS_OFFLOAD_A_REQUEST_ROLE],
				    "client role needs a peer name");
		return -EINVAL;
	}

	p.sock = sockfd_lookup(nla_get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_SOCKFD]), &ret);
	if (!p.sock)
		return ret;
	ret = ktls_sock_check_submit(p.sock, genl_info_net(info));
	if (ret)
		goto out;
	if (!ktls_net_has_agent(genl_info_net(info)) ||
	    !genl_has_listeners(&ktls_genl_family, genl_info_net(info),
				KTLS_MCGRP_AGENTS)) {
		ret = -ESRCH;
		goto out;
	}

	p.timeout_ms = attrs[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS] ?
		nla_get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS]) :
		clamp_val(READ_ONCE(ktls_default_timeout_ms), 1, KTLS_TIMEOUT_MAX_MS);
	if (attrs[KTLS_OFFLOAD_A_REQUEST_COOKIE])
		p.cookie = nla_get_u64(attrs[KTLS_OFFLOAD_A_REQUEST_COOKIE]);
	p.profile = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_REQUEST_PROFILE]);
	p.peername = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_REQUEST_PEERNAME]);
	p.alpn = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_REQUEST_ALPN]);
	if ((attrs[KTLS_OFFLOAD_A_REQUEST_PROFILE] && !p.profile) ||
	    (attrs[KTLS_OFFLOAD_A_REQUEST_PEERNAME] && !p.peername) ||
	    (attrs[KTLS_OFFLOAD_A_REQUEST_ALPN] && !p.alpn)) {
		ret = -ENOMEM;
		goto out;
	}

	msg = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	ret = ktls_req_submit(genl_info_net(info), NETLINK_CB(skb).sk,
			      info->snd_portid, &p, &id);
	if (ret) {
		nlmsg_free(msg);
		goto out;
	}
	/* The request lives on its own now; a lost reply only loses the id. */
	return ktls_reply_id(msg, info, KTLS_OFFLOAD_CMD_SUBMIT,
			     KTLS_OFFLOAD_A_REQUEST_ID, id);
out:
	ktls_submit_release(&p);
	return ret;
}

static int ktls_put_str(struct sk_buff *msg, int type, const char *s)
{
	return s ? nla_put_string(msg, type, s) : 0;
}

/*
 * The socket goes into the agent's fd table only once the reply that names
 * it is queued: a reply lost to a full receive buffer must not leave a
 * descriptor the agent never learns of (as net/handshake does it).
 */
static int ktls_nl_accept_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct user_namespace *uns = sk_user_ns(NETLINK_CB(skb).sk);
	struct ktls_submit *p;
	struct ktls_req *req;
	struct sk_buff *msg;
	struct file *file;
	bool last;
	void *hdr;
	int fd, ret;

	req = ktls_req_accept(genl_info_net(info), NETLINK_CB(skb).sk,
			      info->snd_portid, &file, &last);
	if (IS_ERR(req))
		return PTR_ERR(req);
	p = &req->kr_params;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_unaccept;
	}
	ret = -ENOMEM;
	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto err_fd;
	ret = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &ktls_genl_family, 0,
				KTLS_OFFLOAD_CMD_ACCEPT);
	if (!hdr ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_ID, req->kr_id) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_SOCKFD, fd) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_ROLE, p->role) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS,
			ktls_req_time_left_ms(req)) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_PID, pid_vnr(req->kr_pid)) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_UID,
			from_kuid_munged(uns, req->kr_uid)) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_GID,
			from_kgid_munged(uns, req->kr_gid)) ||
	    ktls_put_str(msg, KTLS_OFFLOAD_A_REQUEST_PROFILE, p->profile) ||
	    ktls_put_str(msg, KTLS_OFFLOAD_A_REQUEST_PEERNAME, p->peername) ||
	    ktls_put_str(msg, KTLS_OFFLOAD_A_REQUEST_ALPN, p->alpn) ||
	    (last && nla_put_flag(msg, KTLS_OFFLOAD_A_REQUEST_QUEUE_EMPTY))) {
		nlmsg_free(msg);
		goto err_fd;
	}
	genlmsg_end(msg, hdr);

	ret = genlmsg_reply(msg, info);		/* consumes msg */
	if (ret < 0)
		goto err_fd;
	fd_install(fd, file);
	ktls_req_put(req);
	return 0;

err_fd:
	put_unused_fd(fd);
err_unaccept:
	ktls_req_unaccept(req);
	fput(file);
	ktls_req_put(req);
	return ret;
}

/* TLS 1.3 secrets for KeyUpdates (rekey.c), kept only where they can be used. */
static int ktls_nl_secrets(struct nlattr **attrs, struct ktls_result *res)
{
	struct nlattr *tx = attrs[KTLS_OFFLOAD_A_RESULT_TX_SECRET];
	struct nlattr *rx = attrs[KTLS_OFFLOAD_A_RESULT_RX_SECRET];
	struct ktls_secrets *s;

	if (!tx && !rx)
		return 0;
	if (!tx || !rx || nla_len(tx) != nla_len(rx) ||
	    res->tls_version != TLS_1_3_VERSION)
		return -EINVAL;
	if (!ktls_rekey_supported())
		return 0;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->len = nla_len(tx);
	nla_memcpy(s->tx, tx, sizeof(s->tx));
	nla_memcpy(s->rx, rx, sizeof(s->rx));
	if (attrs[KTLS_OFFLOAD_A_RESULT_KEY_UPDATE_AFTER])
		s->tx_limit = nla_get_u64(attrs[KTLS_OFFLOAD_A_RESULT_KEY_UPDATE_AFTER]);
	res->secrets = s;
	return 0;
}

static int ktls_nl_done_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct ktls_result res = {};
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_RESULT_ID) ||
	    GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_RESULT_STATUS))
		return -EINVAL;
	res.status = nla_get_u32(attrs[KTLS_OFFLOAD_A_RESULT_STATUS]);
	if (!res.status) {
		if (GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_RESULT_TLS_VERSION) ||
		    GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_RESULT_CIPHER))
			return -EINVAL;
		res.tls_version = nla_get_u32(attrs[KTLS_OFFLOAD_A_RESULT_TLS_VERSION]);
		res.cipher = nla_get_u32(attrs[KTLS_OFFLOAD_A_RESULT_CIPHER]);
		res.resumed = nla_get_flag(attrs[KTLS_OFFLOAD_A_RESULT_RESUMED]);
		res.alpn = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_RESULT_ALPN]);
		res.peer_identity =
			ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY]);
		if ((attrs[KTLS_OFFLOAD_A_RESULT_ALPN] && !res.alpn) ||
		    (attrs[KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY] && !res.peer_identity)) {
			ktls_result_release(&res);
			return -ENOMEM;
		}
		ret = ktls_nl_secrets(attrs, &res);
		if (ret) {
			ktls_result_release(&res);
			return ret;
		}
	}
	/* the server name with any status; the reason with a failure only */
	res.sni = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_RESULT_SNI]);
	if (res.status)
		res.reason = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_RESULT_REASON]);
	if ((attrs[KTLS_OFFLOAD_A_RESULT_SNI] && !res.sni) ||
	    (res.status && attrs[KTLS_OFFLOAD_A_RESULT_REASON] && !res.reason)) {
		ktls_result_release(&res);
		return -ENOMEM;
	}
	ret = ktls_req_done(genl_info_net(info), NETLINK_CB(skb).sk,
			    nla_get_u32(attrs[KTLS_OFFLOAD_A_RESULT_ID]), &res);
	ktls_result_release(&res);
	return ret;
}

static int ktls_nl_collect_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ktls_result res = {};
	struct sk_buff *msg;
	u64 cookie = 0;
	void *hdr;
	u32 id;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_RESULT_ID))
		return -EINVAL;
	id = nla_get_u32(info->attrs[KTLS_OFFLOAD_A_RESULT_ID]);
	ret = ktls_req_collect(genl_info_net(info), NETLINK_CB(skb).sk, id, &res,
			       &cookie);
	if (ret)
		return ret;

	ret = -ENOMEM;
	msg = genlmsg_new(ktls_result_size(&res), GFP_KERNEL);
	if (!msg)
		goto out;
	ret = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &ktls_genl_family, 0,
				KTLS_OFFLOAD_CMD_COLLECT);
	if (!hdr || ktls_put_result(msg, id, cookie, &res)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out:
	ktls_result_release(&res);
	return ret;
}

static int ktls_nl_cancel_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_REQUEST_ID))
		return -EINVAL;
	return ktls_req_cancel(genl_info_net(info), NETLINK_CB(skb).sk,
			       nla_get_u32(info->attrs[KTLS_OFFLOAD_A_REQUEST_ID]));
}

/*
 * Dumps: cb->args[0] is where to resume, [1] the pid namespace of whoever
 * asked for the dump and [2] whether that was a CAP_NET_ADMIN holder, both
 * fixed at the start: a dump continues in the context of whoever calls
 * recvmsg() next.  Uids are in the user namespace of the dump's socket.
 */
enum { KTLS_DUMP_POS, KTLS_DUMP_PIDNS, KTLS_DUMP_ADMIN };

static int ktls_dump_start(struct netlink_callback *cb)
{
	cb->args[KTLS_DUMP_PIDNS] =
		(long)get_pid_ns(task_active_pid_ns(current));
	cb->args[KTLS_DUMP_ADMIN] = netlink_capable(cb->skb, CAP_NET_ADMIN);
	return 0;
}

static int ktls_dump_done(struct netlink_callback *cb)
{
	put_pid_ns((struct pid_namespace *)cb->args[KTLS_DUMP_PIDNS]);
	return 0;
}

static struct pid_namespace *ktls_dump_pidns(const struct netlink_callback *cb)
{
	return (struct pid_namespace *)cb->args[KTLS_DUMP_PIDNS];
}

static struct user_namespace *ktls_dump_userns(const struct netlink_callback *cb)
{
	return sk_user_ns(NETLINK_CB(cb->skb).sk);
}

struct ktls_dump_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int ktls_dump_one(struct ktls_req *req, void *arg)
{
	struct ktls_dump_ctx *ctx = arg;
	struct user_namespace *uns = ktls_dump_userns(ctx->cb);
	const struct ktls_submit *p = &req->kr_params;
	void *hdr;

	hdr = genlmsg_put(ctx->skb, NETLINK_CB(ctx->cb->skb).portid,
			  ctx->cb->nlh->nlmsg_seq, &ktls_genl_family, NLM_F_MULTI,
			  KTLS_OFFLOAD_CMD_GET_REQUEST);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(ctx->skb, KTLS_OFFLOAD_A_REQUEST_ID, req->kr_id) ||
	    nla_put_u32(ctx->skb, KTLS_OFFLOAD_A_REQUEST_STATE, req->kr_state) ||
	    nla_put_u32(ctx->skb, KTLS_OFFLOAD_A_REQUEST_ROLE, p->role) ||
	    nla_put_u32(ctx->skb, KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS,
			ktls_req_time_left_ms(req)) ||
	    nla_put_u32(ctx->skb, KTLS_OFFLOAD_A_REQUEST_PID,
			pid_nr_ns(req->kr_pid, ktls_dump_pidns(ctx->cb))) ||
	    nla_put_u32(ctx->skb, KTLS_OFFLOAD_A_REQUEST_UID,
			from_kuid_munged(uns, req->kr_uid)) ||
	    ktls_put_str(ctx->skb, KTLS_OFFLOAD_A_REQUEST_PROFILE, p->profile) ||
	    ktls_put_str(ctx->skb, KTLS_OFFLOAD_A_REQUEST_PEERNAME, p->peername) ||
	    (req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED &&
	     nla_put_u32(ctx->skb, KTLS_OFFLOAD_A_REQUEST_AGENT_PORTID,
			 req->kr_agent_portid))) {
		genlmsg_cancel(ctx->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(ctx->skb, hdr);
	return 0;
}

static int ktls_nl_get_request_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ktls_dump_ctx ctx = { .skb = skb, .cb = cb };
	unsigned long pos = cb->args[KTLS_DUMP_POS];
	int ret;

	ret = ktls_req_for_each(sock_net(skb->sk), &pos, ktls_dump_one, &ctx);
	cb->args[KTLS_DUMP_POS] = pos;
	/* A full message means "come back for more", unless nothing fit. */
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret < 0 ? ret : skb->len;
}

static int ktls_nl_get_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ktls_stats *st;
	struct sk_buff *msg;
	struct nlattr *nest;
	unsigned int live, i;
	size_t size;
	void *hdr;
	int ret = -EMSGSIZE;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ktls_net_stats(genl_info_net(info), st, &live);
	/*
	 * 7 u64 and 2 u32 counters, and a nest per errno seen: up to 133 of
	 * 24 bytes (28 where u64 need a pad), i.e. up to about 3.9 KB, which
	 * is close to GENLMSG_DEFAULT_SIZE: size the message exactly.
	 */
	size = 7 * nla_total_size_64bit(sizeof(u64)) + 2 * nla_total_size(sizeof(u32));
	for (i = 1; i < KTLS_ERRNO_MAX; i++)
		if (st->by_errno[i])
			size += nla_total_size(0) + nla_total_size(sizeof(u32)) +
				nla_total_size_64bit(sizeof(u64));
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg) {
		kfree(st);
		return -ENOMEM;
	}

	hdr = genlmsg_put_reply(msg, info, &ktls_genl_family, 0,
				KTLS_OFFLOAD_CMD_GET_STATS);
	if (!hdr ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_STATS_SUBMITTED, st->submitted,
			      KTLS_OFFLOAD_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_STATS_ACCEPTED, st->accepted,
			      KTLS_OFFLOAD_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_STATS_COMPLETED, st->completed,
			      KTLS_OFFLOAD_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_STATS_FAILED, st->failed,
			      KTLS_OFFLOAD_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_STATS_TIMED_OUT, st->timed_out,
			      KTLS_OFFLOAD_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_STATS_CANCELLED, st->cancelled,
			      KTLS_OFFLOAD_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_STATS_AGENT_LOSSES,
			      st->agent_losses, KTLS_OFFLOAD_A_STATS_PAD) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_STATS_PENDING, live) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_STATS_AGENTS, st->agents))
		goto err;
	for (i = 1; i < KTLS_ERRNO_MAX; i++) {
		if (!st->by_errno[i])
			continue;
		nest = nla_nest_start(msg, KTLS_OFFLOAD_A_STATS_ERRNO);
		if (!nest ||
		    nla_put_u32(msg, KTLS_OFFLOAD_A_ERRNO_COUNT_ERRNO, i) ||
		    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_ERRNO_COUNT_COUNT,
				      st->by_errno[i], KTLS_OFFLOAD_A_ERRNO_COUNT_PAD))
			goto err;
		nla_nest_end(msg, nest);
	}
	genlmsg_end(msg, hdr);
	kfree(st);
	return genlmsg_reply(msg, info);
err:
	nlmsg_free(msg);
	kfree(st);
	return ret;
}

static int ktls_nl_attach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct ktls_listen_params p = {};
	struct socket *sock;
	struct sk_buff *msg;
	u32 id;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_LISTENER_SOCKFD))
		return -EINVAL;
	p.max_inflight = attrs[KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT] ?
		nla_get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT]) :
		clamp_val(READ_ONCE(ktls_listen_max_inflight), 1, 65535);
	p.timeout_ms = attrs[KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS] ?
		nla_get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS]) :
		clamp_val(READ_ONCE(ktls_default_timeout_ms), 1, KTLS_TIMEOUT_MAX_MS);
	p.profile = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_LISTENER_PROFILE]);
	p.alpn = ktls_nla_strdup(attrs[KTLS_OFFLOAD_A_LISTENER_ALPN]);
	if ((attrs[KTLS_OFFLOAD_A_LISTENER_PROFILE] && !p.profile) ||
	    (attrs[KTLS_OFFLOAD_A_LISTENER_ALPN] && !p.alpn)) {
		ret = -ENOMEM;
		goto out;
	}
	msg = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	sock = sockfd_lookup(nla_get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_SOCKFD]), &ret);
	if (!sock) {
		nlmsg_free(msg);
		goto out;
	}
	ret = ktls_listen_attach(genl_info_net(info), sock, &p, &id);
	sockfd_put(sock);
	if (ret) {
		nlmsg_free(msg);
		goto out;
	}
	return ktls_reply_id(msg, info, KTLS_OFFLOAD_CMD_ATTACH,
			     KTLS_OFFLOAD_A_LISTENER_ID, id);
out:
	ktls_listen_params_release(&p);
	return ret;
}

static int ktls_nl_detach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct socket *sock;
	int ret;

	if (attrs[KTLS_OFFLOAD_A_LISTENER_SOCKFD]) {
		sock = sockfd_lookup(nla_get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_SOCKFD]),
				     &ret);
		if (!sock)
			return ret;
		ret = ktls_listen_detach(genl_info_net(info), sock, 0);
		sockfd_put(sock);
		return ret;
	}
	if (GENL_REQ_ATTR_CHECK(info, KTLS_OFFLOAD_A_LISTENER_ID))
		return -EINVAL;
	return ktls_listen_detach(genl_info_net(info), NULL,
				  nla_get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_ID]));
}

/*
 * The profile names which keys the agent uses, and the pid and uid name a
 * process the reader may not otherwise see: administrators only.
 */
static int ktls_put_listener(struct sk_buff *msg, const struct ktls_listener_info *li,
			     struct netlink_callback *cb)
{
	struct user_namespace *uns = ktls_dump_userns(cb);
	const struct ktls_listener_stats *st = &li->stats;
	bool admin = cb->args[KTLS_DUMP_ADMIN];

	if (nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_ID, li->id) ||
	    (admin && nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_PID,
				  pid_nr_ns(li->pid, ktls_dump_pidns(cb)))) ||
	    (admin && nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_UID,
				  from_kuid_munged(uns, li->uid))) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_FAMILY, li->family) ||
	    nla_put(msg, KTLS_OFFLOAD_A_LISTENER_LOCAL_ADDR,
		    li->family == AF_INET6 ? 16 : 4, li->addr) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_LOCAL_PORT, li->port) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_LISTENER_INODE, li->ino,
			      KTLS_OFFLOAD_A_LISTENER_PAD) ||
	    (admin && li->profile[0] &&
	     nla_put_string(msg, KTLS_OFFLOAD_A_LISTENER_PROFILE, li->profile)) ||
	    (li->alpn[0] &&
	     nla_put_string(msg, KTLS_OFFLOAD_A_LISTENER_ALPN, li->alpn)) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT, li->max_inflight) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS, li->timeout_ms) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_INFLIGHT, li->inflight) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_READY, li->nready) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_LISTENER_HANDSHAKES, st->handshakes,
			      KTLS_OFFLOAD_A_LISTENER_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_LISTENER_ESTABLISHED, st->established,
			      KTLS_OFFLOAD_A_LISTENER_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_LISTENER_FAILED, st->failed,
			      KTLS_OFFLOAD_A_LISTENER_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_LISTENER_REFUSED, st->refused,
			      KTLS_OFFLOAD_A_LISTENER_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_LISTENER_DELIVERED, st->delivered,
			      KTLS_OFFLOAD_A_LISTENER_PAD) ||
	    nla_put_u64_64bit(msg, KTLS_OFFLOAD_A_LISTENER_DROPPED, st->dropped,
			      KTLS_OFFLOAD_A_LISTENER_PAD))
		return -EMSGSIZE;
	return 0;
}

static int ktls_nl_get_listener_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ktls_listener_info *li;
	u32 pos = cb->args[KTLS_DUMP_POS];
	void *hdr;
	int ret = 0;

	li = kmalloc(sizeof(*li), GFP_KERNEL);
	if (!li)
		return -ENOMEM;
	for (;;) {
		u32 next = pos;

		if (ktls_listen_info(sock_net(skb->sk), &next, li))
			break;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &ktls_genl_family, NLM_F_MULTI,
				  KTLS_OFFLOAD_CMD_GET_LISTENER);
		ret = hdr ? ktls_put_listener(skb, li, cb) : -EMSGSIZE;
		put_pid(li->pid);
		if (ret) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		pos = next;
	}
	kfree(li);
	cb->args[KTLS_DUMP_POS] = pos;
	/* A full message means "come back for more", unless nothing fit. */
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret < 0 ? ret : skb->len;
}

static const struct genl_ops ktls_genl_ops[] = {
	{
		.cmd	 = KTLS_OFFLOAD_CMD_GET_VERSION,
		.doit	 = ktls_nl_get_version_doit,
		.policy	 = ktls_version_policy,
		.maxattr = KTLS_OFFLOAD_A_VERSION_MAX,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_SUBMIT,
		.doit	 = ktls_nl_submit_doit,
		.policy	 = ktls_request_policy,
		.maxattr = KTLS_OFFLOAD_A_REQUEST_MAX,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_ACCEPT,
		.doit	 = ktls_nl_accept_doit,
		.policy	 = ktls_version_policy,	/* no attributes */
		.maxattr = KTLS_OFFLOAD_A_VERSION_MAX,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_DONE,
		.doit	 = ktls_nl_done_doit,
		.policy	 = ktls_result_policy,
		.maxattr = KTLS_OFFLOAD_A_RESULT_MAX,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_COLLECT,
		.doit	 = ktls_nl_collect_doit,
		.policy	 = ktls_result_policy,
		.maxattr = KTLS_OFFLOAD_A_RESULT_MAX,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_CANCEL,
		.doit	 = ktls_nl_cancel_doit,
		.policy	 = ktls_request_policy,
		.maxattr = KTLS_OFFLOAD_A_REQUEST_MAX,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_GET_REQUEST,
		.start	 = ktls_dump_start,
		.dumpit	 = ktls_nl_get_request_dumpit,
		.done	 = ktls_dump_done,
		.policy	 = ktls_version_policy,	/* no attributes */
		.maxattr = KTLS_OFFLOAD_A_VERSION_MAX,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_GET_STATS,
		.doit	 = ktls_nl_get_stats_doit,
		.policy	 = ktls_version_policy,	/* no attributes */
		.maxattr = KTLS_OFFLOAD_A_VERSION_MAX,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_ATTACH,
		.doit	 = ktls_nl_attach_doit,
		.policy	 = ktls_listener_policy,
		.maxattr = KTLS_OFFLOAD_A_LISTENER_MAX,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_DETACH,
		.doit	 = ktls_nl_detach_doit,
		.policy	 = ktls_listener_policy,
		.maxattr = KTLS_OFFLOAD_A_LISTENER_MAX,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = KTLS_OFFLOAD_CMD_GET_LISTENER,
		.start	 = ktls_dump_start,
		.dumpit	 = ktls_nl_get_listener_dumpit,
		.done	 = ktls_dump_done,
		.policy	 = ktls_version_policy,	/* no attributes */
		.maxattr = KTLS_OFFLOAD_A_VERSION_MAX,
	},
};

static struct genl_family ktls_genl_family __ro_after_init = {
	.name		= KTLS_OFFLOAD_FAMILY_NAME,
	.version	= KTLS_OFFLOAD_FAMILY_VERSION,
	.module		= THIS_MODULE,
	.netnsok	= true,
	/* No handler sleeps on anything but memory; request state has its
	 * own lock.
	 */
	.parallel_ops	= true,
	.ops		= ktls_genl_ops,
	.n_ops		= ARRAY_SIZE(ktls_genl_ops),
	.mcgrps		= ktls_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(ktls_mcgrps),
};

static int ktls_netlink_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC && n->portid)
		ktls_req_portid_gone(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block ktls_netlink_notifier = {
	.notifier_call = ktls_netlink_event,
};

/**
 * ktls_genl_init - register the family and watch for closing netlink sockets
 *
 * Return: 0 on success, or a negative errno.
 */
int __init ktls_genl_init(void)
{
	int ret;

	ret = netlink_register_notifier(&ktls_netlink_notifier);
	if (ret)
		return ret;
	ret = genl_register_family(&ktls_genl_family);
	if (ret)
		netlink_unregister_notifier(&ktls_netlink_notifier);
	return ret;
}

/**
 * ktls_genl_uninit - unregister the family and the socket watch
 *
 * Waits for running handlers; none runs after return.
 */
void ktls_genl_uninit(void)
{
	genl_unregister_family(&ktls_genl_family);
	netlink_unregister_notifier(&ktls_netlink_notifier);
}
