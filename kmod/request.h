/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_REQUEST_H
#define _KTLS_OFFLOAD_REQUEST_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>

#include <linux/ktls_offload.h>

/* Errno values a request can end with; the per-errno counters use this. */
#define KTLS_ERRNO_MAX	134

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
};

/* What SUBMIT asks for; the strings are kmalloc'd and owned by whoever holds it. */
struct ktls_submit {
	struct socket *sock;	/* from sockfd_lookup(), until a request owns it */
	u32 role;
	u32 flags;
	u32 timeout_ms;
	u64 cookie;
	char *profile;
	char *peername;
	char *alpn;
	struct ktls_lconn *lconn;	/* a listener's connection, or NULL */
	/* for a listener's connection: on whose behalf (owner_pid referenced) */
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
	struct file		*kr_file;	/* the socket, until COMPLETED */
	u32			kr_agent_portid;
	u32			kr_req_portid;	/* 0 once the requester is gone */
	bool			kr_kept;	/* ended, result kept for WAIT */
	struct ktls_result	kr_result;

	/* set at SUBMIT, constant after */
	struct ktls_submit	kr_params;
	unsigned long		kr_deadline;	/* jiffies */
	struct pid		*kr_pid;
	kuid_t			kr_uid;
	kgid_t			kr_gid;

	struct delayed_work	kr_timeout;
	wait_queue_head_t	kr_wq;		/* WAIT sleeps here */
};

struct ktls_net {
	struct mutex		kn_lock;	/* protects next 7 fields and
						 * every request's state */
	struct list_head	kn_pending;	/* FIFO of PENDING requests */
	struct xarray		kn_reqs;	/* id -> live request */
	u32			kn_next_id;
	unsigned int		kn_nr_live;
	struct xarray		kn_uid_live;	/* uid -> live requests (value) */
	struct xarray		kn_agents;	/* portids that have ACCEPTed */
	struct ktls_stats	kn_stats;
	struct list_head	kn_node;	/* on ktls_nets */
};

extern unsigned int ktls_max_pending;
extern unsigned int ktls_max_pending_per_uid;
extern unsigned int ktls_default_timeout_ms;

int ktls_req_submit(struct net *net, u32 portid, struct ktls_submit *p, u32 *id);
struct ktls_req *ktls_req_accept(struct net *net, u32 portid, struct file **file);
void ktls_req_unaccept(struct ktls_req *req);
int ktls_req_done(struct net *net, u32 portid, u32 id, struct ktls_result *res);
int ktls_req_cancel(struct net *net, u32 portid, u32 id);
int ktls_req_wait(struct net *net, u32 portid, u32 id, struct ktls_result *res,
		  u64 *cookie);
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
