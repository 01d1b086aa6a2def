// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/ktls_offload.h>

#include "broker.h"

struct nla_policy ktls_request_policy[KTLS_OFFLOAD_A_REQUEST_MAX + 1] = {
	[KTLS_OFFLOAD_A_REQUEST_ID]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_SOCKFD]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_ROLE]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_PROFILE]      = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_REQUEST_PEERNAME]     = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_REQUEST_ALPN]	      = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS]   = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_PID]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_UID]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_GID]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_STATE]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_AGENT_PORTID] = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_REQUEST_QUEUE_EMPTY]  = { .type = NLA_FLAG },
};

struct nla_policy ktls_result_policy[KTLS_OFFLOAD_A_RESULT_MAX + 1] = {
	[KTLS_OFFLOAD_A_RESULT_ID]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_RESULT_STATUS]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_RESULT_COOKIE]	      = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_RESULT_TLS_VERSION]   = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_RESULT_CIPHER]	      = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_RESULT_ALPN]	      = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY] = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_RESULT_RESUMED]	      = { .type = NLA_FLAG },
	[KTLS_OFFLOAD_A_RESULT_SNI]	      = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_RESULT_REASON]	      = { .type = NLA_STRING },
};

static struct nla_policy stats_policy[KTLS_OFFLOAD_A_STATS_MAX + 1] = {
	[KTLS_OFFLOAD_A_STATS_SUBMITTED]    = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_STATS_ACCEPTED]	    = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_STATS_COMPLETED]    = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_STATS_FAILED]	    = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_STATS_TIMED_OUT]    = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_STATS_CANCELLED]    = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_STATS_AGENT_LOSSES] = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_STATS_PENDING]	    = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_STATS_ERRNO]	    = { .type = NLA_NESTED },
	[KTLS_OFFLOAD_A_STATS_AGENTS]	    = { .type = NLA_U32 },
};

static struct nla_policy errno_policy[KTLS_OFFLOAD_A_ERRNO_COUNT_MAX + 1] = {
	[KTLS_OFFLOAD_A_ERRNO_COUNT_ERRNO] = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_ERRNO_COUNT_COUNT] = { .type = NLA_U64 },
};

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
	dst[0] = '\0';
	if (a)
		nla_strlcpy(dst, a, len);
}

static uint32_t get_u32(const struct nlattr *a)
{
	return a ? nla_get_u32((struct nlattr *)a) : 0;
}

static int put_str(struct nl_msg *msg, int type, const char *s)
{
	return s ? nla_put_string(msg, type, s) : 0;
}

static int parse_id(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	if (!attrs[KTLS_OFFLOAD_A_REQUEST_ID])
		return -EBADMSG;
	*(uint32_t *)arg = nla_get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_ID]);
	return 0;
}

int ktls_request_put(struct nl_msg *msg, const struct ktls_submit_args *a)
{
	if (nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_ROLE, a->role) ||
	    put_str(msg, KTLS_OFFLOAD_A_REQUEST_PROFILE, a->profile) ||
	    put_str(msg, KTLS_OFFLOAD_A_REQUEST_PEERNAME, a->peername) ||
	    put_str(msg, KTLS_OFFLOAD_A_REQUEST_ALPN, a->alpn) ||
	    (a->timeout_ms &&
	     nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS, a->timeout_ms)) ||
	    nla_put_u64(msg, KTLS_OFFLOAD_A_REQUEST_COOKIE, a->cookie))
		return -EMSGSIZE;
	return 0;
}

int ktls_broker_submit(struct ktls_genl *g, const struct ktls_submit_args *a,
		       uint32_t *id)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_SUBMIT, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_SOCKFD, (uint32_t)a->fd) ||
	    ktls_request_put(msg, a) ||
	    (a->flags && nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_FLAGS, a->flags))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_REQUEST_MAX, ktls_request_policy,
			      parse_id, id);
}

int ktls_result_parse(struct nlattr **attrs, struct ktls_result_msg *r)
{
	if (!attrs[KTLS_OFFLOAD_A_RESULT_ID] || !attrs[KTLS_OFFLOAD_A_RESULT_STATUS])
		return -EBADMSG;
	memset(r, 0, sizeof(*r));
	r->id = nla_get_u32(attrs[KTLS_OFFLOAD_A_RESULT_ID]);
	r->status = nla_get_u32(attrs[KTLS_OFFLOAD_A_RESULT_STATUS]);
	if (attrs[KTLS_OFFLOAD_A_RESULT_COOKIE])
		r->cookie = nla_get_u64(attrs[KTLS_OFFLOAD_A_RESULT_COOKIE]);
	r->tls_version = get_u32(attrs[KTLS_OFFLOAD_A_RESULT_TLS_VERSION]);
	r->cipher = get_u32(attrs[KTLS_OFFLOAD_A_RESULT_CIPHER]);
	r->resumed = attrs[KTLS_OFFLOAD_A_RESULT_RESUMED] != NULL;
	copy_str(r->alpn, sizeof(r->alpn), attrs[KTLS_OFFLOAD_A_RESULT_ALPN]);
	copy_str(r->peer_identity, sizeof(r->peer_identity),
		 attrs[KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY]);
	copy_str(r->sni, sizeof(r->sni), attrs[KTLS_OFFLOAD_A_RESULT_SNI]);
	copy_str(r->reason, sizeof(r->reason), attrs[KTLS_OFFLOAD_A_RESULT_REASON]);
	return 0;
}

static int parse_result(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	return ktls_result_parse(attrs, arg);
}

int ktls_broker_collect(struct ktls_genl *g, uint32_t id, struct ktls_result_msg *r)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_COLLECT, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	memset(r, 0, sizeof(*r));
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_RESULT_MAX, ktls_result_policy,
			      parse_result, r);
}

int ktls_broker_cancel(struct ktls_genl *g, uint32_t id)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_CANCEL, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KTLS_OFFLOAD_A_REQUEST_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return ktls_genl_call(g, msg, 0, NULL, NULL, NULL);
}

static int parse_accepted(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	struct ktls_accepted *a = arg;

	if (!attrs[KTLS_OFFLOAD_A_REQUEST_ID] || !attrs[KTLS_OFFLOAD_A_REQUEST_SOCKFD])
		return -EBADMSG;
	a->id = nla_get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_ID]);
	a->fd = (int)nla_get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_SOCKFD]);
	a->role = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_ROLE]);
	a->timeout_ms = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS]);
	a->pid = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_PID]);
	a->uid = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_UID]);
	a->gid = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_GID]);
	copy_str(a->profile, sizeof(a->profile), attrs[KTLS_OFFLOAD_A_REQUEST_PROFILE]);
	copy_str(a->peername, sizeof(a->peername), attrs[KTLS_OFFLOAD_A_REQUEST_PEERNAME]);
	copy_str(a->alpn, sizeof(a->alpn), attrs[KTLS_OFFLOAD_A_REQUEST_ALPN]);
	a->queue_empty = attrs[KTLS_OFFLOAD_A_REQUEST_QUEUE_EMPTY] != NULL;
	return 0;
}

int ktls_broker_accept(struct ktls_genl *g, struct ktls_accepted *a)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_ACCEPT, 0);

	if (!msg)
		return -ENOMEM;
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_REQUEST_MAX, ktls_request_policy,
			      parse_accepted, a);
}

int ktls_result_put(struct nl_msg *msg, const struct ktls_result_msg *r)
{
	int bad;

	bad = nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_ID, r->id) ||
	      nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_STATUS, r->status);
	if (!bad && !r->status)
		bad = nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_TLS_VERSION, r->tls_version) ||
		      nla_put_u32(msg, KTLS_OFFLOAD_A_RESULT_CIPHER, r->cipher) ||
		      (r->alpn[0] &&
		       nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_ALPN, r->alpn)) ||
		      (r->peer_identity[0] &&
		       nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY,
				      r->peer_identity)) ||
		      (r->resumed && nla_put_flag(msg, KTLS_OFFLOAD_A_RESULT_RESUMED));
	return bad ? -EMSGSIZE : 0;
}

int ktls_result_put_detail(struct nl_msg *msg, const struct ktls_result_msg *r)
{
	if ((r->sni[0] && nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_SNI, r->sni)) ||
	    (r->status && r->reason[0] &&
	     nla_put_string(msg, KTLS_OFFLOAD_A_RESULT_REASON, r->reason)))
		return -EMSGSIZE;
	return 0;
}

/* The secrets of a TLS 1.3 success, for the module's KeyUpdates. */
static int put_secrets(struct nl_msg *msg, const struct ktls_result_msg *r)
{
	if (r->status || !r->secret_len)
		return 0;
	if (nla_put(msg, KTLS_OFFLOAD_A_RESULT_TX_SECRET, r->secret_len, r->tx_secret) ||
	    nla_put(msg, KTLS_OFFLOAD_A_RESULT_RX_SECRET, r->secret_len, r->rx_secret) ||
	    (r->key_update_after &&
	     nla_put_u64(msg, KTLS_OFFLOAD_A_RESULT_KEY_UPDATE_AFTER, r->key_update_after)))
		return -EMSGSIZE;
	return 0;
}

static int done_call(struct ktls_genl *g, const struct ktls_result_msg *r, bool detail)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_DONE, 0);

	if (!msg)
		return -ENOMEM;
	int ret;

	if (ktls_result_put(msg, r) ||
	    (detail && (ktls_result_put_detail(msg, r) || put_secrets(msg, r)))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nlmsg_get(msg);		/* ktls_genl_call() drops one reference */
	ret = ktls_genl_call(g, msg, 0, NULL, NULL, NULL);
	/* the secrets are in the message's buffer: wiped before it goes */
	explicit_bzero(nlmsg_data(nlmsg_hdr(msg)), nlmsg_hdr(msg)->nlmsg_len - NLMSG_HDRLEN);
	nlmsg_free(msg);
	return ret;
}

int ktls_broker_done(struct ktls_genl *g, const struct ktls_result_msg *r)
{
	int ret = done_call(g, r, true);

	/* A module that does not know SNI, REASON or the secrets refuses
	 * the DONE (strict validation) before it does anything: say it
	 * without. */
	if (ret == -EINVAL && (r->sni[0] || (r->status && r->reason[0]) || r->secret_len))
		ret = done_call(g, r, false);
	return ret;
}

static int parse_stats(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nlattr *tb[KTLS_OFFLOAD_A_ERRNO_COUNT_MAX + 1];
	struct ktls_stats_msg *st = arg;
	struct nlattr *a;
	int rem;

	memset(st, 0, sizeof(*st));
#define U64(f, A) st->f = attrs[A] ? nla_get_u64(attrs[A]) : 0
	U64(submitted, KTLS_OFFLOAD_A_STATS_SUBMITTED);
	U64(accepted, KTLS_OFFLOAD_A_STATS_ACCEPTED);
	U64(completed, KTLS_OFFLOAD_A_STATS_COMPLETED);
	U64(failed, KTLS_OFFLOAD_A_STATS_FAILED);
	U64(timed_out, KTLS_OFFLOAD_A_STATS_TIMED_OUT);
	U64(cancelled, KTLS_OFFLOAD_A_STATS_CANCELLED);
	U64(agent_losses, KTLS_OFFLOAD_A_STATS_AGENT_LOSSES);
#undef U64
	st->pending = get_u32(attrs[KTLS_OFFLOAD_A_STATS_PENDING]);
	st->agents = get_u32(attrs[KTLS_OFFLOAD_A_STATS_AGENTS]);

	/* ERRNO repeats, so walk the message rather than the index. */
	nla_for_each_attr(a, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
		uint32_t e;

		if (nla_type(a) != KTLS_OFFLOAD_A_STATS_ERRNO)
			continue;
		if (nla_parse_nested(tb, KTLS_OFFLOAD_A_ERRNO_COUNT_MAX, a, errno_policy) ||
		    !tb[KTLS_OFFLOAD_A_ERRNO_COUNT_ERRNO] || !tb[KTLS_OFFLOAD_A_ERRNO_COUNT_COUNT])
			return -EBADMSG;
		e = nla_get_u32(tb[KTLS_OFFLOAD_A_ERRNO_COUNT_ERRNO]);
		if (e < sizeof(st->by_errno) / sizeof(st->by_errno[0]))
			st->by_errno[e] = nla_get_u64(tb[KTLS_OFFLOAD_A_ERRNO_COUNT_COUNT]);
	}
	return 0;
}

int ktls_broker_stats(struct ktls_genl *g, struct ktls_stats_msg *st)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_GET_STATS, 0);

	if (!msg)
		return -ENOMEM;
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_STATS_MAX, stats_policy,
			      parse_stats, st);
}

struct list_ctx {
	ktls_request_fn fn;
	void *arg;
};

static int parse_request_info(struct nlattr **attrs, struct nlmsghdr *nlh,
			      void *arg)
{
	struct list_ctx *ctx = arg;
	struct ktls_request_info ri;

	if (!attrs[KTLS_OFFLOAD_A_REQUEST_ID])
		return -EBADMSG;
	memset(&ri, 0, sizeof(ri));
	ri.id = nla_get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_ID]);
	ri.state = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_STATE]);
	ri.role = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_ROLE]);
	ri.timeout_ms = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS]);
	ri.pid = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_PID]);
	ri.uid = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_UID]);
	ri.agent_portid = get_u32(attrs[KTLS_OFFLOAD_A_REQUEST_AGENT_PORTID]);
	copy_str(ri.profile, sizeof(ri.profile), attrs[KTLS_OFFLOAD_A_REQUEST_PROFILE]);
	copy_str(ri.peername, sizeof(ri.peername), attrs[KTLS_OFFLOAD_A_REQUEST_PEERNAME]);
	ctx->fn(&ri, ctx->arg);
	return 0;
}

int ktls_broker_list(struct ktls_genl *g, ktls_request_fn fn, void *arg)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_GET_REQUEST, NLM_F_DUMP);
	struct list_ctx ctx = { .fn = fn, .arg = arg };

	if (!msg)
		return -ENOMEM;
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_REQUEST_MAX, ktls_request_policy,
			      parse_request_info, &ctx);
}

static struct nla_policy listener_policy[KTLS_OFFLOAD_A_LISTENER_MAX + 1] = {
	[KTLS_OFFLOAD_A_LISTENER_ID]	       = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_PROFILE]      = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_LISTENER_ALPN]	       = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT] = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS]   = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_PID]	       = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_UID]	       = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_FAMILY]       = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_LOCAL_PORT]   = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_INODE]	       = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_LISTENER_INFLIGHT]     = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_READY]	       = { .type = NLA_U32 },
	[KTLS_OFFLOAD_A_LISTENER_HANDSHAKES]   = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_LISTENER_ESTABLISHED]  = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_LISTENER_FAILED]       = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_LISTENER_REFUSED]      = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_LISTENER_DELIVERED]    = { .type = NLA_U64 },
	[KTLS_OFFLOAD_A_LISTENER_DROPPED]      = { .type = NLA_U64 },
};

static uint64_t get_u64(const struct nlattr *a)
{
	return a ? nla_get_u64((struct nlattr *)a) : 0;
}

static int parse_listener_id(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	if (!attrs[KTLS_OFFLOAD_A_LISTENER_ID])
		return -EBADMSG;
	*(uint32_t *)arg = nla_get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_ID]);
	return 0;
}

int ktls_broker_attach(struct ktls_genl *g, int fd, const struct ktls_attach_args *a,
		       uint32_t *id)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_ATTACH, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_SOCKFD, (uint32_t)fd) ||
	    (a->profile && nla_put_string(msg, KTLS_OFFLOAD_A_LISTENER_PROFILE, a->profile)) ||
	    (a->alpn && nla_put_string(msg, KTLS_OFFLOAD_A_LISTENER_ALPN, a->alpn)) ||
	    (a->max_inflight &&
	     nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT, a->max_inflight)) ||
	    (a->timeout_ms &&
	     nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS, a->timeout_ms))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_LISTENER_MAX, listener_policy,
			      parse_listener_id, id);
}

int ktls_broker_detach(struct ktls_genl *g, int fd, uint32_t id)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_DETACH, 0);

	if (!msg)
		return -ENOMEM;
	if (fd >= 0 ? nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_SOCKFD, (uint32_t)fd) :
		      nla_put_u32(msg, KTLS_OFFLOAD_A_LISTENER_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_LISTENER_MAX, listener_policy,
			      NULL, NULL);
}

struct listener_ctx {
	ktls_listener_fn fn;
	void *arg;
};

static int parse_listener(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	struct listener_ctx *ctx = arg;
	struct nlattr *addr = attrs[KTLS_OFFLOAD_A_LISTENER_LOCAL_ADDR];
	struct ktls_listener_msg l;

	(void)nlh;
	if (!attrs[KTLS_OFFLOAD_A_LISTENER_ID])
		return -EBADMSG;
	memset(&l, 0, sizeof(l));
	l.id = nla_get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_ID]);
	l.pid = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_PID]);
	l.uid = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_UID]);
	l.family = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_FAMILY]);
	l.port = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_LOCAL_PORT]);
	l.max_inflight = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT]);
	l.timeout_ms = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS]);
	l.inflight = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_INFLIGHT]);
	l.ready = get_u32(attrs[KTLS_OFFLOAD_A_LISTENER_READY]);
	l.ino = get_u64(attrs[KTLS_OFFLOAD_A_LISTENER_INODE]);
	if (addr && nla_len(addr) <= (int)sizeof(l.addr))
		memcpy(l.addr, nla_data(addr), (size_t)nla_len(addr));
	copy_str(l.profile, sizeof(l.profile), attrs[KTLS_OFFLOAD_A_LISTENER_PROFILE]);
	copy_str(l.alpn, sizeof(l.alpn), attrs[KTLS_OFFLOAD_A_LISTENER_ALPN]);
	l.handshakes = get_u64(attrs[KTLS_OFFLOAD_A_LISTENER_HANDSHAKES]);
	l.established = get_u64(attrs[KTLS_OFFLOAD_A_LISTENER_ESTABLISHED]);
	l.failed = get_u64(attrs[KTLS_OFFLOAD_A_LISTENER_FAILED]);
	l.refused = get_u64(attrs[KTLS_OFFLOAD_A_LISTENER_REFUSED]);
	l.delivered = get_u64(attrs[KTLS_OFFLOAD_A_LISTENER_DELIVERED]);
	l.dropped = get_u64(attrs[KTLS_OFFLOAD_A_LISTENER_DROPPED]);
	ctx->fn(&l, ctx->arg);
	return 0;
}

int ktls_broker_listeners(struct ktls_genl *g, ktls_listener_fn fn, void *arg)
{
	struct nl_msg *msg = ktls_genl_msg(g, KTLS_OFFLOAD_CMD_GET_LISTENER, NLM_F_DUMP);
	struct listener_ctx ctx = { .fn = fn, .arg = arg };

	if (!msg)
		return -ENOMEM;
	return ktls_genl_call(g, msg, KTLS_OFFLOAD_A_LISTENER_MAX, listener_policy,
			      parse_listener, &ctx);
}
