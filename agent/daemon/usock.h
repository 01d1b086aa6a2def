/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ktls-agent's UNIX socket (<ktls-offload/agent-socket.h>): creating the
 * listening socket with its owner, group and mode, and the checks the
 * module would make on a handed-over socket.
 */
#ifndef KTLS_AGENT_USOCK_H
#define KTLS_AGENT_USOCK_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Binds a SOCK_SEQPACKET listener at @path (creating its directory, 0755),
 * owned by @uid and @group (NULL or "": @gid) with mode 0660.  Run as root,
 * it refuses a directory that is not root's or that others may write to
 * (-EPERM).  A stale socket file is replaced; a live one (another agent)
 * is EADDRINUSE.  Returns the fd or a negative errno with a message in @err.
 */
int usock_listen(const char *path, const char *group, uid_t uid, gid_t gid,
		 char *err, size_t errlen);

/*
 * 0 if @fd is an established TCP socket without a ULP in the agent's own
 * network namespace (that of @self, a socket of the agent's), else the
 * errno the module's SUBMIT would give (EXDEV: another namespace, whose
 * ports allow_local_ports cannot vouch for).
 */
int usock_check_socket(int fd, int self);

#endif
