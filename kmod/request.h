/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_REQUEST_H
#define _KTLS_OFFLOAD_REQUEST_H

#include <linux/errno.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "rekey.h"
#include <net/net_namespace.h>
#include <net/sock.h>

#include <linux/ktls_offload.h>

/* Errno values a request can end with (0 to EHWPOISON, the last errno);
 * the per-errno counters and the DONE policy use this.
 */
#define KTLS_ERRNO_MAX	(EHWPOISON + 1)

struct ktls_stats {
	u64 submitted;
	u64 accepted;
	u64 completed;
	u64 failed;
	u64 timed_out;
	u64 cancelled;
	u64 agent_losses;
	u32 agents;		/* filled in by ktls_net_stats() */
	u64 by_errno[KTLS_ERRNO_MAX];
};

struct ktls_result {
	u32 status;		/* 0 or a positive errno */
	u32 tls_version;
	u32 cipher;
	bool resumed;
	char *alpn;		/* kmalloc'd or NULL */
	char *peer_identity;	/* kmalloc'd or NULL */
	char *sni;		/* kmalloc'd or NULL; with any status */
	char *reason;		/* kmalloc'd or NULL; with a failure only */
	struct ktls_secrets *secrets;	/* kmalloc'd or NULL; TLS 1.3 success */
};

/* What SUBMIT asks for; the strings are kmalloc'd and owned by whoever holds it. */
struct ktls_submit {
	struct socket *sock;	/* from sockfd_lookup(), until a request owns it */
	u32 role;
	u32 timeout_ms;
	u64 cookie;
	char *profile;
	char *peername;
	char *alpn;
	struct ktls_lconn *lconn;	/* a listener's connection, or NULL */
	/* With @lconn: on whose behalf (listen.c fills them in; the pid is a
	 * reference, which the request takes over).  Without, the caller.
	 */
	struct pid *owner_pid;
	kuid_t owner_uid;
	kgid_t owner_gid;
};

struct ktls_req {
	struct kref		kr_ref;
	struct ktls_net		*kr_kn;
	struct net		*kr_net;
	u32			kr_id;

	/* protected by kr_kn->kn_lock */
	enum ktls_offload_state	kr_state;
	struct list_head	kr_pending;	/* on kn_pending while PENDING */
	struct hlist_node	kr_sock_node;	/* in kn_socks while live (not lconn) */
	struct hlist_node	kr_req_node;	/* in kn_requesters with kr_req_nlsk */
	struct hlist_node	kr_agent_node;	/* in kn_agent_reqs while ACCEPTED */
	struct file		*kr_file;	/* the socket, until ended */
	struct sock		*kr_req_nlsk;	/* requester's, held; NULL: gone */
	u32			kr_req_portid;
	struct sock		*kr_agent_nlsk;	/* the agent's, held while ACCEPTED */
	u32			kr_agent_portid;
	bool			kr_kept;	/* ended, result kept for COLLECT */
	struct ktls_result	kr_result;
	/* between ending under kn_lock and the work done outside it */
	struct list_head	kr_end_node;	/* on the ender's list */
	struct list_head	kr_ending;	/* on kn_ending (a listener's) */
	const struct ktls_listener *kr_end_listener;	/* compared only */
	bool			kr_end_shutdown;

	/* set at SUBMIT, constant after */
	const struct sock	*kr_sk;		/* the TCP sock: a key, never used */
	struct ktls_submit	kr_params;
	unsigned long		kr_deadline;	/* jiffies */
	struct pid		*kr_pid;
	kuid_t			kr_uid;
	kgid_t			kr_gid;
	bool			kr_uid_counted;	/* against max_pending_per_uid */

	struct delayed_work	kr_timeout;
	struct work_struct	kr_end_work;	/* the shutdown, off the caller */
};

#define KTLS_SOCK_HASH_BITS	7
#define KTLS_PORT_HASH_BITS	6

struct ktls_net {
	/* kn_lock protects the fields up to kn_stats and every request's state */
	struct mutex		kn_lock;
	struct list_head	kn_pending;	/* FIFO of PENDING requests */
	struct xarray		kn_reqs;	/* id -> request, live or kept */
	u32			kn_next_id;
	unsigned int		kn_nr_live;
	bool			kn_ready_armed;	/* the next queued request READYs */
	struct xarray		kn_uid_live;	/* uid -> live requests (value) */
	struct xarray		kn_agents;	/* portid -> agent's nlsk (held) */
	DECLARE_HASHTABLE(kn_socks, KTLS_SOCK_HASH_BITS);	 /* by kr_sk */
	DECLARE_HASHTABLE(kn_requesters, KTLS_PORT_HASH_BITS); /* by portid */
	DECLARE_HASHTABLE(kn_agent_reqs, KTLS_PORT_HASH_BITS); /* by portid */
	struct list_head	kn_ending;	/* listener requests being ended */
	unsigned long		kn_ending_seq;	/* bumped when one is done */
	struct ktls_stats	kn_stats;
	wait_queue_head_t	kn_end_wq;	/* waits for kn_ending_seq */
	atomic_t		kn_timers;	/* timeouts queued or running */
	atomic_t		kn_end_works;	/* kr_end_works queued or running */
	struct list_head	kn_node;	/* on ktls_nets */
};

extern unsigned int ktls_max_pending;
extern unsigned int ktls_max_pending_per_uid;
extern unsigned int ktls_default_timeout_ms;

int ktls_req_submit(struct net *net, struct sock *nlsk, u32 portid,
		    struct ktls_submit *p, u32 *id);
struct ktls_req *ktls_req_accept(struct net *net, struct sock *nlsk, u32 portid,
				 struct file **file, bool *last);
void ktls_req_unaccept(struct ktls_req *req);
int ktls_req_done(struct net *net, struct sock *nlsk, u32 id, struct ktls_result *res);
int ktls_req_cancel(struct net *net, struct sock *nlsk, u32 id);
int ktls_req_collect(struct net *net, struct sock *nlsk, u32 id,
		     struct ktls_result *res, u64 *cookie);
void ktls_req_portid_gone(struct net *net, u32 portid);
struct ktls_listener;
void ktls_req_end_listener(struct net *net, struct ktls_listener *l);
bool ktls_net_has_agent(struct net *net);
void ktls_req_put(struct ktls_req *req);
unsigned int ktls_req_time_left_ms(const struct ktls_req *req);

typedef int (*ktls_req_visit_fn)(struct ktls_req *req, void *arg);
int ktls_req_for_each(struct net *net, unsigned long *pos, ktls_req_visit_fn fn,
		      void *arg);
void ktls_net_stats(struct net *net, struct ktls_stats *st, unsigned int *live);

void ktls_submit_release(struct ktls_submit *p);
void ktls_result_release(struct ktls_result *res);

int ktls_req_init(void);
void ktls_req_shutdown(void);
void ktls_req_uninit(void);

#endif /* _KTLS_OFFLOAD_REQUEST_H */
