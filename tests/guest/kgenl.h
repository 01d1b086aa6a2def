/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A small generic netlink client of the ktls_offload family on a raw
 * socket, for the guest tests that must see every errno unchanged, bound
 * every wait, survive the family going away under them (rmmod) and run in
 * forked children and foreign namespaces: no libnl, no allocation.
 * Functions return 0 or a negative errno and never print.
 */
#ifndef KTLS_TEST_KGENL_H
#define KTLS_TEST_KGENL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#define KG_MAX_ATTR 31

struct kg {
	int fd;			/* -1 when closed */
	uint16_t family;	/* 0 until resolved */
	uint32_t agents_grp;	/* multicast group id, 0 if unknown */
	uint32_t seq;
	int timeout_ms;		/* longest wait for one reply message */
	int lost;		/* messages were dropped (ENOBUFS) since the last call */
	int lost_events;	/* ... since kg_read_events last reported it */
	/*
	 * Notifications (@seq 0) that arrive while a call waits for its reply
	 * go to the call's @event or else to this (kg_open clears it): without
	 * it they are dropped, and a requester misses COMPLETEs queued just
	 * before its next call.
	 */
	void (*on_event)(const struct nlattr *const *tb, const struct nlmsghdr *nlh, void *arg);
	void *on_event_arg;
};

struct kg_msg {
	size_t len;
	union {
		struct nlmsghdr nlh;
		char buf[2048];
	};
};

/*
 * Called for each reply message of a call (attributes by type, the last of
 * a repeated type wins; @nlh for walking repeats) and for each
 * notification (@seq 0) that arrives meanwhile if @event is set.
 */
typedef void (*kg_fn)(const struct nlattr *const *tb, const struct nlmsghdr *nlh,
		      void *arg);

/*
 * Opens a socket and resolves the family in the caller's network namespace.
 * -ENOENT: the family is not registered (module not loaded).  A reply that
 * takes longer than @timeout_ms fails the call with -ETIMEDOUT.
 */
int kg_open(struct kg *g, int timeout_ms);
void kg_close(struct kg *g);
int kg_join_agents(struct kg *g);
int kg_set_rcvbuf(struct kg *g, int bytes);

void kg_msg_init(struct kg_msg *m, const struct kg *g, uint8_t cmd, uint16_t flags);
void kg_put_u32(struct kg_msg *m, uint16_t type, uint32_t v);
void kg_put_u64(struct kg_msg *m, uint16_t type, uint64_t v);
void kg_put_str(struct kg_msg *m, uint16_t type, const char *s);

/*
 * Sends @m and reads until its ack (or, for a dump, NLMSG_DONE).  Returns
 * the kernel's errno from the ack; -ETIMEDOUT when no reply came within
 * the socket's timeout; -ENOBUFS when the reply was dropped for a full
 * receive buffer.  @fn gets each reply, @event each notification.
 */
int kg_call(struct kg *g, struct kg_msg *m, kg_fn fn, void *arg, kg_fn event,
	    void *event_arg);

/*
 * Waits up to @ms for notifications and passes each to @event; returns the
 * number seen, -ENOBUFS if some were dropped (here or during a call) since
 * it last said so, or -errno.
 */
int kg_read_events(struct kg *g, int ms, kg_fn event, void *arg);

/* Parses the attributes of a generic netlink message into @tb. */
void kg_parse(const struct nlmsghdr *nlh, const struct nlattr **tb, int max);

uint32_t kg_u32(const struct nlattr *a);
uint64_t kg_u64(const struct nlattr *a);
/* The attribute as a string, "" if absent or not terminated. */
const char *kg_str(const struct nlattr *a);

/* Version 1's SUBMIT flag for WAIT; version 2 refuses it (EINVAL). */
#ifndef KTLS_OFFLOAD_SUBMIT_FLAGS_WAIT
#define KTLS_OFFLOAD_SUBMIT_FLAGS_WAIT 1
#endif

/* The family's commands (include/uapi/linux/ktls_offload.h). */
struct kg_accepted {
	uint32_t id, role, pid, uid;
	int fd;
	char profile[64];
};

int kg_submit(struct kg *g, int fd, const char *profile, uint32_t timeout_ms,
	      uint32_t flags, uint64_t cookie, uint32_t *id);
int kg_accept(struct kg *g, struct kg_accepted *a);
/* DONE: status 0 reports TLS 1.3 AES-128-GCM. */
int kg_done(struct kg *g, uint32_t id, uint32_t status);
int kg_cancel(struct kg *g, uint32_t id);
/* WAIT; *@status: the request's status. */
int kg_wait(struct kg *g, uint32_t id, uint32_t *status);
int kg_attach(struct kg *g, int fd, const char *profile, uint32_t max_inflight,
	      uint32_t timeout_ms, uint32_t *id);
/* DETACH by @fd, or by @id when @fd < 0. */
int kg_detach(struct kg *g, int fd, uint32_t id);
/* Dumps of GET_LISTENER and GET_REQUEST: @fn per listener/request. */
int kg_listeners(struct kg *g, kg_fn fn, void *arg);
int kg_requests(struct kg *g, kg_fn fn, void *arg);
int kg_stats(struct kg *g, kg_fn fn, void *arg);
int kg_version(struct kg *g);

/* A COMPLETE notification's id and status; 0 if @nlh is one. */
int kg_complete(const struct nlmsghdr *nlh, uint32_t *id, uint32_t *status);

/* finit_module()/delete_module() of ktls_offload: 0 or -errno. */
int kg_insmod(const char *path, const char *params);
int kg_rmmod(void);
/* Whether /proc/modules lists ktls_offload. */
int kg_module_loaded(void);

#endif
