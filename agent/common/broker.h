/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The handoff broker's commands (include/uapi/linux/ktls_offload.h) as C
 * calls, for requesters (libktls, tests) and agents.  Every function
 * returns 0 or the kernel's negative errno; nothing here prints.
 */
#ifndef KTLS_BROKER_H
#define KTLS_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "genl.h"

struct ktls_submit_args {
	int fd;			/* established TCP socket */
	uint32_t role;		/* KTLS_OFFLOAD_ROLE_* */
	const char *profile;	/* NULL: none */
	const char *peername;	/* NULL: none */
	const char *alpn;	/* NULL: none */
	uint32_t timeout_ms;	/* 0: the module's default */
	uint64_t cookie;
	uint32_t flags;		/* reserved: 0 (any bit is EINVAL) */
};

struct ktls_result_msg {
	uint32_t id;
	uint32_t status;	/* 0 or a positive errno */
	uint64_t cookie;
	uint32_t tls_version;
	uint32_t cipher;
	bool resumed;
	char alpn[256];
	char peer_identity[1024];
	char sni[256];		/* any status, if the handshake got that far */
	char reason[256];	/* a failure's, in words */
	/* TLS 1.3 success through the module: for its KeyUpdates */
	uint8_t tx_secret[48], rx_secret[48];
	uint8_t secret_len;	/* 0: none */
	uint64_t key_update_after;
};

struct ktls_accepted {
	uint32_t id;
	int fd;
	uint32_t role;
	uint32_t timeout_ms;	/* left */
	uint32_t pid, uid, gid;
	char profile[64];
	char peername[256];
	char alpn[256];
	bool queue_empty;	/* it was the last pending: READY is re-armed */
};

struct ktls_request_info {
	uint32_t id, state, role, timeout_ms, pid, uid, agent_portid;
	char profile[64];
	char peername[256];
};

struct ktls_stats_msg {
	uint64_t submitted, accepted, completed, failed, timed_out, cancelled,
		 agent_losses;
	uint32_t pending;
	uint32_t agents;	/* registered agent sockets (0 from older modules) */
	uint64_t by_errno[134];
};

int ktls_broker_submit(struct ktls_genl *g, const struct ktls_submit_args *a,
		       uint32_t *id);
/*
 * The result of a request whose COMPLETE was dropped (the socket read
 * ENOBUFS); never waits: -EAGAIN while the request is live, -ENOENT if the
 * kernel does not have it (delivered, collected, or the module went).
 */
int ktls_broker_collect(struct ktls_genl *g, uint32_t id, struct ktls_result_msg *r);
int ktls_broker_cancel(struct ktls_genl *g, uint32_t id);
int ktls_broker_accept(struct ktls_genl *g, struct ktls_accepted *a);
int ktls_broker_done(struct ktls_genl *g, const struct ktls_result_msg *r);
int ktls_broker_stats(struct ktls_genl *g, struct ktls_stats_msg *st);

typedef void (*ktls_request_fn)(const struct ktls_request_info *ri, void *arg);
int ktls_broker_list(struct ktls_genl *g, ktls_request_fn fn, void *arg);

/* Listener mode (CAP_NET_ADMIN for ATTACH and DETACH). */
struct ktls_attach_args {
	const char *profile;		/* NULL: the agent's default */
	const char *alpn;		/* NULL: the profile's */
	unsigned int max_inflight;	/* 0: the module's listen_max_inflight */
	unsigned int timeout_ms;	/* 0: the module's default_timeout_ms */
};

struct ktls_listener_msg {
	uint32_t id, pid, uid, family, port, max_inflight, timeout_ms, inflight, ready;
	uint64_t ino;
	uint8_t addr[16];		/* 4 bytes used for AF_INET */
	char profile[64];		/* "" if none was given */
	char alpn[256];
	uint64_t handshakes, established, failed, refused, delivered, dropped;
};

/* Attaches the listening socket @fd of the caller; *@id: the listener. */
int ktls_broker_attach(struct ktls_genl *g, int fd, const struct ktls_attach_args *a,
		       uint32_t *id);
/* Detaches the listener of socket @fd or, with @fd < 0, listener @id. */
int ktls_broker_detach(struct ktls_genl *g, int fd, uint32_t id);
typedef void (*ktls_listener_fn)(const struct ktls_listener_msg *l, void *arg);
int ktls_broker_listeners(struct ktls_genl *g, ktls_listener_fn fn, void *arg);

/* The attribute policies of the request and result sets (libnl's). */
extern struct nla_policy ktls_request_policy[];
extern struct nla_policy ktls_result_policy[];

/* Appends SUBMIT's attributes but SOCKFD and FLAGS; -EMSGSIZE if full. */
int ktls_request_put(struct nl_msg *msg, const struct ktls_submit_args *a);
/* Appends the attributes of a DONE or COMPLETE but SNI and REASON;
 * -EMSGSIZE if full. */
int ktls_result_put(struct nl_msg *msg, const struct ktls_result_msg *r);
/* Appends SNI and REASON (REASON with a failure only); -EMSGSIZE if full. */
int ktls_result_put_detail(struct nl_msg *msg, const struct ktls_result_msg *r);

/* Fills @r from the attributes of a COMPLETE notification or COLLECT reply. */
int ktls_result_parse(struct nlattr **attrs, struct ktls_result_msg *r);

#endif
