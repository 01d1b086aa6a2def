/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Socket, kTLS and namespace helpers of the module's C guest tests
 * (kstress, kmod_hostile).  Functions return 0 or a negative errno unless
 * they say otherwise, and never print.
 */
#ifndef KTLS_TEST_KTEST_H
#define KTLS_TEST_KTEST_H

#include <stddef.h>

/* CLOCK_MONOTONIC in seconds. */
double kt_now(void);

/* errno's name ("EBUSY"); @e may be negative.  "0" for 0. */
const char *kt_errname(int e);

/*
 * A TCP listener on an ephemeral port: 127.0.0.1 for AF_INET, [::] dual
 * stack for AF_INET6.  Its fd, or -1 with errno.
 */
int kt_listener(int family, int backlog);
int kt_port(int fd);


/* SO_RCVTIMEO and SO_SNDTIMEO of @fd, in seconds (0: unchanged). */
void kt_timeouts(int fd, double rcv, double snd);

/* The socket's TCP_ULP name into @ulp, "" if none, "(EXXX)" on error. */
void kt_ulp(int fd, char *ulp, size_t len);

/* kTLS with all-zero keys, TLS 1.3 AES-128-GCM, both directions: what the
 * test agents install, so that the tests' peers can install the same. */
int kt_zero_ktls(int fd);

/* Reads exactly @len bytes within @secs: 0, -ETIMEDOUT, -EPIPE at EOF,
 * or the read's -errno. */
int kt_read_full(int fd, void *buf, size_t len, double secs);

/* Brings up the loopback device of the current network namespace. */
int kt_lo_up(void);

/* As root: becomes uid/gid 65534, then unshares a user and a network
 * namespace mapping itself to 0 there, with loopback up. */
int kt_enter_userns_nobody(void);

/* Whether unprivileged user namespaces are allowed (Debian's sysctl). */
int kt_userns_possible(void);

/* Open descriptors of the calling process. */
int kt_count_fds(void);

#endif
