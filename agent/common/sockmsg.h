/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Messages of ktls-agent's UNIX socket (<ktls-offload/agent-socket.h>):
 * netlink-format messages built and parsed with libnl, sent over
 * SOCK_SEQPACKET with the handed-over socket in SCM_RIGHTS.  Shared by
 * the agent and libktls.  Functions return 0 or a negative errno.
 */
#ifndef KTLS_SOCKMSG_H
#define KTLS_SOCKMSG_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"

/*
 * Sends one message: @cmd, @seq and the attributes of @a (SUBMIT), @r
 * (COMPLETE) or none (CANCEL); @fd >= 0 goes along in SCM_RIGHTS.  Never
 * blocks if @nonblock.  -EPIPE when the other side has gone.
 */
int sockmsg_send_submit(int sock, uint32_t seq, const struct ktls_submit_args *a,
			int fd);
int sockmsg_send_cancel(int sock, uint32_t seq);
/* Sends @len bytes of @buf with descriptor @fd (if >= 0) in SCM_RIGHTS;
 * 0 or -errno (EINTR retried, no SIGPIPE). */
int sockmsg_send_fd(int sock, const void *buf, size_t len, int fd, int flags);

/*
 * Closes a descriptor another process handed over, never waiting: with
 * SO_LINGER on a socket whose peer does not read, the close() that drops
 * the last reference sleeps for the linger time (the sender's choice, up
 * to years), and a sender that closed its own copy makes ours the last.
 * Turns SO_LINGER off first (on the shared socket: set it again after
 * the handoff if the requester wants it).
 */
void sockmsg_close_foreign(int fd);
int sockmsg_send_complete(int sock, uint32_t seq, const struct ktls_result_msg *r,
			  int nonblock);

struct sockmsg_in {
	int cmd;		/* KTLS_OFFLOAD_CMD_* */
	uint32_t seq;
	int fd;			/* the one descriptor received, or -1 */
	int err;		/* positive errno if the message is unusable */
	size_t len;
	unsigned char buf[4096];
};

/*
 * Receives one message into @m (MSG_DONTWAIT if @nonblock).  Returns 1 with
 * @m filled, 0 at end of stream, or a negative errno (-EAGAIN: nothing
 * waiting).  A message that is too long, carries more than one
 * descriptor or anything but descriptors, or is not well-formed, comes
 * back with @m->err set (EMSGSIZE, EBADF, EBADMSG) and no descriptor:
 * extra descriptors are closed here.
 */
int sockmsg_recv(int sock, struct sockmsg_in *m, int nonblock);

/*
 * A SUBMIT's parameters, checked as the module checks them: returns 0 or
 * the positive errno that the request fails with (EINVAL for malformed
 * or unknown attributes, ERANGE for numbers out of range).  The strings
 * of @a point into @m.
 */
int sockmsg_parse_submit(struct sockmsg_in *m, struct ktls_submit_args *a);

/* A COMPLETE's result; -EBADMSG if malformed. */
int sockmsg_parse_complete(struct sockmsg_in *m, struct ktls_result_msg *r);

#endif
