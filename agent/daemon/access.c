// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "access.h"

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

static int user_allowed(const struct agent_acl *acl, const struct agent_requester *r)
{
	if (r->uid == 0)
		return 1;	/* root can read the keys anyway */
	for (int i = 0; i < acl->n_uids; i++)
		if (acl->uids[i] == r->uid)
			return 1;
	for (int i = 0; i < acl->n_gids; i++)
		if (acl->gids[i] == r->gid)
			return 1;
	return 0;
}

int agent_access_check(const struct agent_profile *p, const struct agent_requester *r,
		       unsigned int role, int fd, char *why, size_t whylen)
{
	const struct agent_acl *acl = &p->acl;
	int port;

	if (!(acl->roles & role)) {
		snprintf(why, whylen, "profile '%s' is not enabled for the %s role (roles =)",
			 p->name, role == AGENT_ROLE_CLIENT ? "client" : "server");
		return EACCES;
	}
	if (!user_allowed(acl, r)) {
		snprintf(why, whylen, "profile '%s' does not allow uid %u gid %u "
			 "(allow_users, allow_groups)", p->name, (unsigned int)r->uid,
			 (unsigned int)r->gid);
		return EACCES;
	}
	if (role != AGENT_ROLE_SERVER || !acl->n_ports)
		return 0;
	port = local_port(fd);
	for (int i = 0; port > 0 && i < acl->n_ports; i++)
		if (port >= acl->ports[i].lo && port <= acl->ports[i].hi)
			return 0;
	if (port < 0)
		snprintf(why, whylen, "profile '%s': no local port to check (%s)", p->name,
			 strerror(-port));
	else
		snprintf(why, whylen, "profile '%s' may not serve local port %d "
			 "(allow_local_ports)", p->name, port);
	return EACCES;
}

char *agent_escape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	if (!outlen)
		return out;
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char tmp[5];
		size_t k;

		if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '\'' || ch == '"')
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		else
			k = (size_t)snprintf(tmp, sizeof(tmp), "%c", ch);
		if (n + k >= outlen)
			break;
		memcpy(out + n, tmp, k);
		n += k;
	}
	out[n] = '\0';
	return out;
}
