/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Client side of the ktls_offload generic netlink family, on libnl-genl
 * (and of the kernel's handshake family, which ktls-agent also answers).
 * Every function returns 0 or a negative errno; nothing here prints.
 */
#ifndef KTLS_GENL_H
#define KTLS_GENL_H

#include <netlink/attr.h>
#include <netlink/msg.h>

/* The largest maxattr ktls_genl_call() accepts. */
#define KTLS_GENL_MAX_ATTR 63

/*
 * A notification (READY, COMPLETE) that arrived on the socket: @cmd and
 * its attributes, parsed with the result attribute set.
 */
typedef void (*ktls_genl_event_fn)(int cmd, struct nlattr **attrs, void *arg);

struct ktls_genl {
	struct nl_sock *sock;
	int family;
	const char *name;		/* the family's name and version */
	int version;
	ktls_genl_event_fn event_fn;	/* may be NULL: events are dropped */
	void *event_arg;
	/* validates the events' attributes (the RESULT set, up to
	 * KTLS_OFFLOAD_A_RESULT_MAX); without it events are dropped too */
	struct nla_policy *event_policy;
	/* notifications were dropped (ENOBUFS) while a call waited for its
	 * reply; the next ktls_genl_read_events() reports it */
	int dropped;
};

/*
 * Called once per reply message with its attributes indexed by type, and
 * the message itself for attributes that repeat.
 */
typedef int (*ktls_genl_reply_fn)(struct nlattr **attrs, struct nlmsghdr *nlh,
				  void *arg);

/*
 * Connects and resolves the family.  -ENOENT means the family is not
 * registered in this network namespace: the module is not loaded.
 */
int ktls_genl_open(struct ktls_genl *g);
/* The same for another generic netlink family (the kernel's "handshake"). */
int ktls_genl_open_family(struct ktls_genl *g, const char *name, int version);
void ktls_genl_close(struct ktls_genl *g);

/* The socket's fd, to poll for events. */
/* Receive buffer of @bytes (beyond rmem_max if privileged); 0 or -errno. */
int ktls_genl_set_rcvbuf(struct ktls_genl *g, int bytes);

int ktls_genl_fd(const struct ktls_genl *g);

/* Joins a multicast group of the family by name. */
int ktls_genl_join(struct ktls_genl *g, const char *group);

/*
 * A non-blocking socket for the events of family @name: opened, joined to
 * @group, each event parsed with @policy and passed to @fn with @arg by
 * ktls_genl_read_events().  0, or -errno with nothing left open.
 */
int ktls_genl_open_events(struct ktls_genl *g, const char *name, int version,
			  const char *group, ktls_genl_event_fn fn, void *arg,
			  struct nla_policy *policy);

/* Starts a request message for @cmd; NULL on allocation failure. */
struct nl_msg *ktls_genl_msg(const struct ktls_genl *g, int cmd, int flags);

/*
 * Sends @msg (and frees it), then reads replies until the kernel's ack.
 * Attributes of each reply are validated against @policy (may be NULL)
 * and passed to @fn.  Notifications that arrive meanwhile go to the
 * event callback.  Returns the kernel's errno from the ack unchanged, or
 * -ENOBUFS if the socket overflowed and the ack never came (the reply was
 * dropped; the command may or may not have taken effect).
 */
int ktls_genl_call(struct ktls_genl *g, struct nl_msg *msg, int maxattr,
		   struct nla_policy *policy, ktls_genl_reply_fn fn, void *arg);

/*
 * Reads what is waiting on the socket and passes notifications to the
 * event callback.  Blocks until something arrives unless the socket was
 * made non-blocking.  Returns 0, -EAGAIN when nothing was there, -ENOBUFS
 * when notifications were dropped (the receive buffer overflowed), or an
 * errno.
 */
int ktls_genl_read_events(struct ktls_genl *g);

#endif
