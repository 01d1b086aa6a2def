// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: what the agent and libktls make of the module's
 * netlink messages.  The bytes go through libnl's own receive loop (a
 * replaced recv hook hands them over instead of the socket), into the
 * callbacks of genl.c and the reply parsers of broker.c, for each kind
 * of reply and for unsolicited events.  Both sources are included so
 * that their static parsers are reachable.
 *
 * Input: one selector byte (the reply being waited for), then the
 * datagram as the kernel would deliver it.  Replies carry sequence 1.
 */
#include "../../agent/common/genl.c"
#include "../../agent/common/broker.c"

#define FUZZ_FAMILY 0x1d

static const uint8_t *feed_buf;
static size_t feed_len;

static int fake_recv(struct nl_sock *sk, struct sockaddr_nl *nla, unsigned char **buf,
		     struct ucred **creds)
{
	if (!feed_buf || !feed_len)
		return 0;	/* end of input; libnl frees nothing then */
	*buf = malloc(feed_len);
	if (!*buf)
		return -NLE_NOMEM;
	memcpy(*buf, feed_buf, feed_len);
	memset(nla, 0, sizeof(*nla));
	nla->nl_family = AF_NETLINK;
	if (creds)
		*creds = NULL;
	feed_buf = NULL;
	return (int)feed_len;
}

/*
 * libnl is not built with ASan, so its nla_get_*() reads past a short
 * attribute unseen.  So check what the parsers are handed: every
 * attribute they may read has at least its type's size.
 */
static void audit(struct nlattr **attrs, int maxattr, const struct nla_policy *policy)
{
	static const int need[] = { [NLA_U8] = 1, [NLA_U16] = 2, [NLA_U32] = 4,
				    [NLA_U64] = 8, [NLA_STRING] = 1 };

	for (int i = 1; i <= maxattr; i++) {
		const struct nlattr *a = attrs[i];

		if (!a)
			continue;
		if (!policy || (policy[i].type < sizeof(need) / sizeof(need[0]) &&
				nla_len(a) < need[policy[i].type]))
			abort();
		if (policy[i].type == NLA_STRING &&
		    ((const char *)nla_data(a))[nla_len(a) - 1] != '\0')
			abort();
	}
}

static ktls_genl_reply_fn real_fn;
static int real_maxattr;
static const struct nla_policy *real_policy;

static int audited_fn(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	audit(attrs, real_maxattr, real_policy);
	return real_fn(attrs, nlh, arg);
}

static void on_fuzz_event(int cmd, struct nlattr **attrs, void *arg)
{
	struct ktls_result_msg r;

	audit(attrs, KTLS_OFFLOAD_A_RESULT_MAX, ktls_result_policy);
	/* what libktls does with COMPLETE */
	if (cmd == KTLS_OFFLOAD_CMD_COMPLETE && !ktls_result_parse(attrs, &r) &&
	    (strnlen(r.alpn, sizeof(r.alpn)) == sizeof(r.alpn) ||
	     strnlen(r.peer_identity, sizeof(r.peer_identity)) == sizeof(r.peer_identity)))
		abort();
}

static void on_listed(const struct ktls_request_info *ri, void *arg)
{
	if (strnlen(ri->profile, sizeof(ri->profile)) == sizeof(ri->profile) ||
	    strnlen(ri->peername, sizeof(ri->peername)) == sizeof(ri->peername))
		abort();
	++*(int *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nl_sock *sk;
	struct ktls_genl g = { .family = FUZZ_FAMILY, .event_fn = on_fuzz_event,
			       .event_policy = ktls_result_policy };
	struct call_state st = { .g = &g, .seq = 1 };
	union {
		struct ktls_accepted acc;
		struct ktls_result_msg res;
		struct ktls_stats_msg stats;
		uint32_t id;
	} out;
	struct list_ctx lc;
	int listed = 0;
	struct nl_cb *cb;

	if (size < 1)
		return 0;
	if (!sk) {
		sk = nl_socket_alloc();
		if (!sk)
			abort();
	}
	g.sock = sk;
	memset(&out, 0, sizeof(out));
	switch (data[0] % 6) {
	case 0:
		st.maxattr = KTLS_OFFLOAD_A_REQUEST_MAX;
		st.policy = ktls_request_policy;
		st.fn = parse_accepted;
		st.arg = &out.acc;
		break;
	case 1:
		st.maxattr = KTLS_OFFLOAD_A_RESULT_MAX;
		st.policy = ktls_result_policy;
		st.fn = parse_result;
		st.arg = &out.res;
		break;
	case 2:
		st.maxattr = KTLS_OFFLOAD_A_STATS_MAX;
		st.policy = stats_policy;
		st.fn = parse_stats;
		st.arg = &out.stats;
		break;
	case 3:
		lc.fn = on_listed;
		lc.arg = &listed;
		st.maxattr = KTLS_OFFLOAD_A_REQUEST_MAX;
		st.policy = ktls_request_policy;
		st.fn = parse_request_info;
		st.arg = &lc;
		break;
	case 4:
		st.maxattr = KTLS_OFFLOAD_A_REQUEST_MAX;
		st.policy = ktls_request_policy;
		st.fn = parse_id;
		st.arg = &out.id;
		break;
	default:
		st.seq = 0;	/* events only, as in ktls_genl_read_events() */
		break;
	}
	real_fn = st.fn;
	real_maxattr = st.maxattr;
	real_policy = st.policy;
	if (st.fn)
		st.fn = audited_fn;
	cb = make_cb(&st);
	if (!cb)
		abort();
	nl_cb_overwrite_recv(cb, fake_recv);
	feed_buf = data + 1;
	feed_len = size - 1;
	nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if ((data[0] % 6) == 0 && !st.err && st.done &&
	    (strnlen(out.acc.profile, sizeof(out.acc.profile)) == sizeof(out.acc.profile)))
		abort();
	return 0;
}
