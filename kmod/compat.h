/* SPDX-License-Identifier: GPL-2.0 */
/* The one place that knows which kernel we build against. */
#ifndef _KTLS_OFFLOAD_COMPAT_H
#define _KTLS_OFFLOAD_COMPAT_H

#include <linux/version.h>
#include <linux/fcntl.h>
#include <linux/net.h>
#include <net/genetlink.h>
#include <net/sock.h>

/*
 * Multicast groups got permission flags in 6.6; Debian's 6.1.192 has them
 * backported.  Where they are missing anyone may join "agents"; that gives
 * nothing but empty READY notifications, since ACCEPT itself needs
 * CAP_NET_ADMIN in the initial user namespace.
 */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define KTLS_MCGRP_ADMIN_FLAGS	GENL_MCAST_CAP_NET_ADMIN
#else
#define KTLS_MCGRP_ADMIN_FLAGS	0
#endif

/* proto_ops.accept takes a struct proto_accept_arg since 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define KTLS_ACCEPT_ARGS	struct proto_accept_arg *arg
#define KTLS_ACCEPT_PASS	arg
#define KTLS_ACCEPT_NONBLOCK	(arg->flags & O_NONBLOCK)
static inline int ktls_orig_accept_nonblock(const struct proto_ops *ops,
					    struct socket *lsock,
					    struct socket *newsock)
{
	struct proto_accept_arg arg = { .flags = O_NONBLOCK, .kern = true };

	return ops->accept(lsock, newsock, &arg);
}
#else
#define KTLS_ACCEPT_ARGS	int flags, bool kern
#define KTLS_ACCEPT_PASS	flags, kern
#define KTLS_ACCEPT_NONBLOCK	(flags & O_NONBLOCK)
static inline int ktls_orig_accept_nonblock(const struct proto_ops *ops,
					    struct socket *lsock,
					    struct socket *newsock)
{
	return ops->accept(lsock, newsock, O_NONBLOCK, true);
}
#endif

#endif /* _KTLS_OFFLOAD_COMPAT_H */
