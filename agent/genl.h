/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Client side of the ktls_offload generic netlink family, on libnl-genl.
 * Every function returns 0 or a negative errno; nothing here prints.
 */
#ifndef KTLS_GENL_H
#define KTLS_GENL_H

#include <netlink/attr.h>
#include <netlink/msg.h>

struct ktls_genl {
	struct nl_sock *sock;
	int family;
};

/* The largest maxattr ktls_genl_call() accepts. */
#define KTLS_GENL_MAX_ATTR 63

/* Called once per reply message with its attributes indexed by type. */
typedef int (*ktls_genl_reply_fn)(struct nlattr **attrs, void *arg);

/*
 * Connects and resolves the family.  -ENOENT means the family is not
 * registered in this network namespace: the module is not loaded.
 */
int ktls_genl_open(struct ktls_genl *g);
void ktls_genl_close(struct ktls_genl *g);

/* Starts a request message for @cmd; NULL on allocation failure. */
struct nl_msg *ktls_genl_msg(const struct ktls_genl *g, int cmd, int flags);

/*
 * Sends @msg (and frees it), then reads replies until the kernel's ack.
 * Attributes of each reply are validated against @policy (may be NULL)
 * and passed to @fn.  Returns the kernel's errno from the ack unchanged.
 */
int ktls_genl_call(struct ktls_genl *g, struct nl_msg *msg, int maxattr,
		   struct nla_policy *policy, ktls_genl_reply_fn fn, void *arg);

#endif
