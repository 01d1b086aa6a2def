/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ktls-agent's authorisation: may this requester have a handshake done
 * with this profile's keys, in this role, on this socket?  Decided before
 * the agent sends or reads a byte of the connection.
 */
#ifndef KTLS_AGENT_ACCESS_H
#define KTLS_AGENT_ACCESS_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* The process that asked, as the kernel reports it (the module's ACCEPT
 * reply, or SO_PEERCRED of its connection to the agent's socket). */
struct agent_requester {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/*
 * Returns 0 when @r may use profile @p in @role (AGENT_ROLE_SERVER or
 * AGENT_ROLE_CLIENT) on socket @fd, else EACCES with the reason in @why.
 * The server role also checks @fd's local port against allow_local_ports.
 */
int agent_access_check(const struct agent_profile *p, const struct agent_requester *r,
		       unsigned int role, int fd, char *why, size_t whylen);

/*
 * Copies @s into @out with control characters, quotes, backslashes and
 * bytes outside printable ASCII escaped (\xHH), for the log: strings a
 * requester or a peer chose cannot forge log lines.  Returns @out.
 */
char *agent_escape(const char *s, char *out, size_t outlen);

#endif
