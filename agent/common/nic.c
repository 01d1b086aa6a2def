// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "nic.h"

/* IPv4-mapped IPv6 addresses (a dual-stack socket's IPv4 peers) as IPv4 */
static void unmap(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in s4 = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	s4.sin_port = s6->sin6_port;
	memcpy(ss, &s4, sizeof(s4));
}

static const void *addr_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((const struct sockaddr_in *)ss)->sin_addr;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

/* @msg: the whole request, so that its attributes stay inside it */
static void add_attr(void *msg, unsigned short type, const void *data, size_t len)
{
	struct nlmsghdr *n = msg;
	struct rtattr *rta = (struct rtattr *)((char *)msg + NLMSG_ALIGN(n->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* RTM_GETROUTE to @peer from @local for @flow: the output device's index. */
static int route_oif(int family, const void *local, const void *peer,
		     const struct nic_flow *flow)
{
	struct {
		struct nlmsghdr n;
		struct rtmsg r;
		char attrs[128];
	} req = { 0 };
	union {
		struct nlmsghdr n;
		char buf[4096];
	} resp;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t alen = family == AF_INET ? 4 : 16;
	ssize_t got;
	int nl, ret = -ENETUNREACH;

	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.r));
	req.n.nlmsg_type = RTM_GETROUTE;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.n.nlmsg_seq = 1;
	req.r.rtm_family = (unsigned char)family;
	req.r.rtm_dst_len = (unsigned char)(alen * 8);
	add_attr(&req, RTA_DST, peer, alen);
	req.r.rtm_src_len = (unsigned char)(alen * 8);
	add_attr(&req, RTA_SRC, local, alen);
	if (flow) {
		uint8_t proto = IPPROTO_TCP;
		uint16_t port;

		if (flow->oif)
			add_attr(&req, RTA_OIF, &flow->oif, sizeof(flow->oif));
		if (flow->mark)
			add_attr(&req, RTA_MARK, &flow->mark, sizeof(flow->mark));
		if (flow->has_uid)
			add_attr(&req, RTA_UID, &flow->uid, sizeof(flow->uid));
		add_attr(&req, RTA_IP_PROTO, &proto, sizeof(proto));
		port = htons(flow->sport);
		if (port)
			add_attr(&req, RTA_SPORT, &port, sizeof(port));
		port = htons(flow->dport);
		if (port)
			add_attr(&req, RTA_DPORT, &port, sizeof(port));
	}

	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0)
		return -errno;
	if (sendto(nl, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		ret = -errno;
		goto out;
	}
	got = recv(nl, &resp, sizeof(resp), 0);
	if (got < 0) {
		ret = -errno;
		goto out;
	}
	for (struct nlmsghdr *n = &resp.n; NLMSG_OK(n, (unsigned int)got);
	     n = NLMSG_NEXT(n, got)) {
		struct rtattr *rta;
		int rlen;

		if (n->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(n);

			ret = e->error ? e->error : -ENETUNREACH;
			break;
		}
		if (n->nlmsg_type != RTM_NEWROUTE)
			continue;
		rlen = (int)RTM_PAYLOAD(n);
		for (rta = RTM_RTA(NLMSG_DATA(n)); RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen))
			if (rta->rta_type == RTA_OIF && RTA_PAYLOAD(rta) >= sizeof(int))
				memcpy(&ret, RTA_DATA(rta), sizeof(int));
		break;
	}
out:
	close(nl);
	return ret;
}

static int ethtool(int sock, const char *ifname, void *data)
{
	struct ifreq ifr = { 0 };

	strncpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name) - 1);
	ifr.ifr_data = data;
	return ioctl(sock, SIOCETHTOOL, &ifr) ? -errno : 0;
}

int nic_tls_features(const char *ifname, bool *tx, bool *rx)
{
	struct ethtool_sset_info *si = NULL;
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_gfeatures *gf = NULL;
	int sock, ret, itx = -1, irx = -1;
	uint32_t n, blocks;

	*tx = *rx = false;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	si = calloc(1, sizeof(*si) + sizeof(uint32_t));
	ret = -ENOMEM;
	if (!si)
		goto out;
	si->cmd = ETHTOOL_GSSET_INFO;
	si->sset_mask = 1ULL << ETH_SS_FEATURES;
	ret = ethtool(sock, ifname, si);
	if (ret)
		goto out;
	n = si->sset_mask ? si->data[0] : 0;
	ret = -EOPNOTSUPP;
	if (!n || n > 4096)
		goto out;
	ret = -ENOMEM;
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	blocks = (n + 31) / 32;
	gf = calloc(1, sizeof(*gf) + blocks * sizeof(gf->features[0]));
	if (!gs || !gf)
		goto out;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = n;
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = blocks;
	ret = ethtool(sock, ifname, gs);
	if (!ret)
		ret = ethtool(sock, ifname, gf);
	if (ret)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const char *s = (const char *)gs->data + (size_t)i * ETH_GSTRING_LEN;

		if (!strncmp(s, "tls-hw-tx-offload", ETH_GSTRING_LEN))
			itx = (int)i;
		else if (!strncmp(s, "tls-hw-rx-offload", ETH_GSTRING_LEN))
			irx = (int)i;
	}
	ret = itx < 0 && irx < 0 ? -EOPNOTSUPP : 0;
	if (itx >= 0)
		*tx = gf->features[itx / 32].active & (1u << (itx % 32));
	if (irx >= 0)
		*rx = gf->features[irx / 32].active & (1u << (irx % 32));
out:
	free(si);
	free(gs);
	free(gf);
	close(sock);
	return ret;
}

int nic_route_addrs(int family, const void *local, const void *peer,
		    const struct nic_flow *flow, struct nic_route *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	ret = route_oif(family, local, peer, flow);
	if (ret <= 0)
		return ret < 0 ? ret : -ENETUNREACH;
	out->ifindex = ret;
	if (!if_indextoname((unsigned int)ret, out->ifname))
		return -errno;
	/* a device without the features at all is an answer too: no offload */
	ret = nic_tls_features(out->ifname, &out->tls_tx, &out->tls_rx);
	return ret == -EOPNOTSUPP ? 0 : ret;
}

/* 1 if socket @fd is of the caller's network namespace, 0 if not, -errno if
 * that cannot be told (SIOCGSKNS needs CAP_NET_ADMIN over the socket's). */
static int same_netns(int fd)
{
	struct stat sock_ns, own_ns;
	int ns = ioctl(fd, SIOCGSKNS), ret = 0;

	if (ns < 0)
		return -errno;
	if (fstat(ns, &sock_ns) || stat("/proc/self/ns/net", &own_ns))
		ret = -errno;
	close(ns);
	if (ret)
		return ret;
	return sock_ns.st_ino == own_ns.st_ino && sock_ns.st_dev == own_ns.st_dev;
}

int nic_route_of(int fd, struct nic_route *out)
{
	struct sockaddr_storage local, peer;
	socklen_t ll = sizeof(local), pl = sizeof(peer), ol;
	struct nic_flow flow = { 0 };
	struct stat st;

	memset(out, 0, sizeof(*out));
	/* routes and devices of another namespace are not ours to look up */
	if (same_netns(fd) == 0)
		return -EXDEV;
	if (getsockname(fd, (struct sockaddr *)&local, &ll) ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl))
		return -errno;
	/* what else picks the socket's route: its bound device (or a
	 * link-local peer's scope), mark, owner and ports */
	ol = sizeof(flow.oif);
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &flow.oif, &ol))
		flow.oif = 0;
	if (!flow.oif && peer.ss_family == AF_INET6)
		flow.oif = (int)((struct sockaddr_in6 *)&peer)->sin6_scope_id;
	ol = sizeof(flow.mark);
	if (getsockopt(fd, SOL_SOCKET, SO_MARK, &flow.mark, &ol))
		flow.mark = 0;
	if (!fstat(fd, &st)) {
		flow.uid = st.st_uid;
		flow.has_uid = true;
	}
	unmap(&local);
	unmap(&peer);
	if (local.ss_family != peer.ss_family)
		return -EAFNOSUPPORT;
	flow.sport = ntohs(((struct sockaddr_in *)&local)->sin_port);
	flow.dport = ntohs(((struct sockaddr_in *)&peer)->sin_port);
	return nic_route_addrs(peer.ss_family, addr_of(&local), addr_of(&peer), &flow, out);
}
