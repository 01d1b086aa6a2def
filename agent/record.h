/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* libktls's record handling, inside the library and the preload library. */
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

#endif
