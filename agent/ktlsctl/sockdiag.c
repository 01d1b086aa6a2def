// SPDX-License-Identifier: GPL-2.0 OR MIT
/* TCP sockets and their kernel TLS state, from sock_diag. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tls.h>

#include "addr.h"
#include "sockdiag.h"

#define TCPF_LISTEN_BIT (1U << 10)	/* TCP_LISTEN */

struct list {
	struct sockdiag_entry *v;
	int n, cap;
	unsigned int port;
};

static struct nla_policy tls_policy[TLS_INFO_MAX + 1] = {
	[TLS_INFO_VERSION]    = { .type = NLA_U16 },
	[TLS_INFO_CIPHER]     = { .type = NLA_U16 },
	[TLS_INFO_TXCONF]     = { .type = NLA_U16 },
	[TLS_INFO_RXCONF]     = { .type = NLA_U16 },
	[TLS_INFO_ZC_RO_TX]   = { .type = NLA_FLAG },
	[TLS_INFO_RX_NO_PAD]  = { .type = NLA_FLAG },
};

static struct nla_policy ulp_policy[INET_ULP_INFO_MAX + 1] = {
	[INET_ULP_INFO_NAME] = { .type = NLA_STRING },
	[INET_ULP_INFO_TLS]  = { .type = NLA_NESTED },
};

static uint16_t get_u16(struct nlattr *a)
{
	return a ? nla_get_u16(a) : 0;
}

/* The ULP's name and, for tls, its state; unparsable parts are left out. */
static void parse_ulp(struct sockdiag_entry *e, struct nlattr *ulp)
{
	struct nlattr *u[INET_ULP_INFO_MAX + 1], *t[TLS_INFO_MAX + 1];

	if (nla_parse_nested(u, INET_ULP_INFO_MAX, ulp, ulp_policy))
		return;
	if (u[INET_ULP_INFO_NAME])
		nla_strlcpy(e->ulp, u[INET_ULP_INFO_NAME], sizeof(e->ulp));
	if (!u[INET_ULP_INFO_TLS] ||
	    nla_parse_nested(t, TLS_INFO_MAX, u[INET_ULP_INFO_TLS], tls_policy))
		return;
	e->tls_version = get_u16(t[TLS_INFO_VERSION]);
	e->tls_cipher = get_u16(t[TLS_INFO_CIPHER]);
	e->txconf = get_u16(t[TLS_INFO_TXCONF]);
	e->rxconf = get_u16(t[TLS_INFO_RXCONF]);
	e->zc_ro_tx = t[TLS_INFO_ZC_RO_TX] != NULL;
	e->rx_no_pad = t[TLS_INFO_RX_NO_PAD] != NULL;
}

static int add_msg(struct list *l, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	struct nlattr *a[INET_DIAG_MAX + 1];
	struct sockdiag_entry *e;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	if (l->port && ntohs(m->id.idiag_sport) != l->port)
		return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		struct sockdiag_entry *v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->family = m->idiag_family;
	e->state = m->idiag_state;
	memcpy(e->src, m->id.idiag_src, 16);
	memcpy(e->dst, m->id.idiag_dst, 16);
	e->sport = ntohs(m->id.idiag_sport);
	e->dport = ntohs(m->id.idiag_dport);
	e->ino = m->idiag_inode;
	e->uid = m->idiag_uid;
	e->ifindex = m->id.idiag_if;
	if (nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*m), a, INET_DIAG_MAX, NULL))
		return 0;
	if (a[INET_DIAG_MARK] && nla_len(a[INET_DIAG_MARK]) >= 4)
		e->mark = nla_get_u32(a[INET_DIAG_MARK]);
	if (a[INET_DIAG_ULP_INFO])
		parse_ulp(e, a[INET_DIAG_ULP_INFO]);
	return 0;
}

static int dump_family(int fd, int family, enum sockdiag_which which, struct list *l)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = (uint32_t)family,
		},
		.r = {
			.sdiag_family = (uint8_t)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_ext = 1 << (INET_DIAG_INFO - 1),
			.idiag_states = which == SOCKDIAG_LISTEN ? TCPF_LISTEN_BIT :
					~TCPF_LISTEN_BIT,
		},
	};
	struct sockaddr_nl nladdr = { .nl_family = AF_NETLINK };
	static char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nladdr,
		   sizeof(nladdr)) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			int ret;

			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(nlh);

				return err->error ? err->error : -EBADMSG;
			}
			if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			ret = add_msg(l, nlh);
			if (ret < 0)
				return ret;
		}
	}
}

int sockdiag_tcp(enum sockdiag_which which, unsigned int port,
		 struct sockdiag_entry **out)
{
	struct list l = { .port = port };
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	ret = dump_family(fd, AF_INET, which, &l);
	if (!ret)
		ret = dump_family(fd, AF_INET6, which, &l);
	close(fd);
	if (ret < 0) {
		free(l.v);
		return ret;
	}
	*out = l.v;
	return l.n;
}

void sockdiag_format(const struct sockdiag_entry *e, int peer, char *buf, size_t len)
{
	ktls_format_addr(e->family, peer ? e->dst : e->src, peer ? e->dport : e->sport, buf, len);
}

const char *sockdiag_conf_name(uint16_t conf)
{
	switch (conf) {
	case TLS_CONF_BASE:
		return "none";
	case TLS_CONF_SW:
		return "sw";
	case TLS_CONF_HW:
		return "hw";
	case TLS_CONF_HW_RECORD:
		return "hw-record";
	default:
		return "?";
	}
}

const char *sockdiag_error(int err)
{
	if (err == -ENOENT)
		return "the kernel has no sock_diag for TCP (modprobe tcp_diag)";
	return strerror(-err);
}
