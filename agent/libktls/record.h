/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* libktls's record handling (record.c), inside the library, ktls-serve and the
 * preload library. */
#ifndef KTLS_RECORD_H
#define KTLS_RECORD_H

#include <sys/types.h>

/*
 * What ktls_recv() does when a read of kernel TLS socket @fd failed with
 * @err: sends the fatal alert for it (EBADMSG: bad_record_mac, EMSGSIZE:
 * record_overflow, EINVAL: protocol_version) and returns -1 with errno
 * @err.  Other errors: -1 with errno @err, nothing sent.
 */
ssize_t ktls_read_error(int fd, int err);

/*
 * ktls_recv() for a caller that knows its role (KTLS_ROLE_SERVER or
 * KTLS_ROLE_CLIENT; -1: either): handshake messages only the other role
 * may send are refused with unexpected_message.
 */
ssize_t ktls_recv_role(int fd, void *buf, size_t len, int flags, int role);

#endif
