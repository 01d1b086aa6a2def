/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_LISTEN_H
#define _KTLS_OFFLOAD_LISTEN_H

#include <linux/cred.h>
#include <linux/in6.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/request_sock.h>

struct ktls_listener_stats {
	u64 handshakes;		/* connections handed to an agent */
	u64 established;	/* handshakes that ended with kTLS installed */
	u64 failed;		/* handshakes that failed or timed out */
	u64 refused;		/* connections closed before a handshake (limits, idle) */
	u64 delivered;		/* connections accept() returned */
	u64 dropped;		/* established ones closed undelivered (detach, close) */
};

/* What ATTACH asks for; the strings are kmalloc'd. */
struct ktls_listen_params {
	char *profile;
	char *alpn;
	u32 max_inflight;
	u32 timeout_ms;
};

/*
 * One attached listener.  References: the listening sock holds one from
 * its ULP's init until the sock is freed (sk_destruct), the namespace's
 * table one while attached, every connection of the listener one.  The
 * last put frees it after a grace period and lets the module go.
 */
struct ktls_listener {
	struct kref		kl_ref;
	struct rcu_head		kl_rcu;
	u32			kl_id;		/* 0 once out of the table */
	struct net		*kl_net;	/* the listening sock holds it */
	struct sock		*kl_sk;		/* see ktls_listen_find() */
	bool			kl_pinned;	/* holds a module reference */

	/* what the ULP replaced; set at init, constant after */
	struct proto		*kl_orig_prot;
	void			(*kl_orig_data_ready)(struct sock *sk);
	void			(*kl_orig_destruct)(struct sock *sk);
	const struct proto_ops	*kl_sock_ops;	/* for the module's sockets */

	struct delayed_work	kl_drain;
	/* serialises taking entries off the listener's accept queue */
	struct mutex		kl_accept_lock;

	/* set at ATTACH, constant after */
	struct ktls_listen_params kl_params;
	const struct cred	*kl_cred;	/* the listening socket's opener */
	struct pid		*kl_pid;	/* who attached it */
	u16			kl_family;
	u16			kl_port;
	union {
		__be32		v4;
		struct in6_addr	v6;
	}			kl_addr;
	unsigned long		kl_ino;
	bool			kl_zc;		/* SOCK_SUPPORT_ZC before ATTACH */

	spinlock_t		kl_lock;	/* protects the rest */
	bool			kl_stopping;	/* close, shutdown or abort running */
	bool			kl_detached;	/* for good: DETACH, close, unload */
	unsigned int		kl_nhello;	/* connections waiting for data */
	unsigned int		kl_nqueued;	/* ... for an agent */
	unsigned int		kl_inflight;	/* handshakes with an agent */
	unsigned int		kl_nready;	/* established, in the accept queue */
	struct request_sock	*kl_raw;	/* taken off the queue in softirq, */
	struct request_sock	**kl_raw_tail;	/* for the drain (dl_next chain) */
	struct list_head	kl_hello;
	struct list_head	kl_queued;
	struct list_head	kl_ready;
	struct ktls_listener_stats kl_stats;
};

enum ktls_lconn_state {
	KTLS_LC_HELLO,		/* diverted, no byte from the client yet */
	KTLS_LC_QUEUED,		/* waiting for an agent */
	KTLS_LC_INFLIGHT,	/* a request owns it */
	KTLS_LC_READY,		/* established, back in the accept queue */
	KTLS_LC_DOOMED,		/* being closed */
};

/* One connection of a listener, from its diversion to accept(). */
struct ktls_lconn {
	struct list_head	lc_node;	/* on a kl_ list, per lc_state */
	struct ktls_listener	*lc_listener;	/* holds a reference */
	struct request_sock	*lc_req;	/* its accept queue entry, while
						 * off the queue (NULL in READY) */
	struct sock		*lc_sk;		/* the connection (req->sk) */
	struct file		*lc_file;	/* the module's socket for lc_sk
						 * (empty in READY) */
	struct wait_queue_entry	lc_wait;	/* on lc_file's queue, in HELLO */
	unsigned long		lc_deadline;	/* jiffies, in HELLO and QUEUED */
	enum ktls_lconn_state	lc_state;	/* under kl_lock */
};

struct ktls_listener_info {
	u32 id;
	u16 family;
	u16 port;
	u8 addr[16];
	unsigned long ino;
	struct pid *pid;	/* referenced; the caller puts it */
	kuid_t uid;
	char profile[64];
	char alpn[256];
	u32 max_inflight;
	u32 timeout_ms;
	unsigned int inflight;
	unsigned int nready;
	struct ktls_listener_stats stats;
};

extern unsigned int ktls_listen_max_inflight;
extern unsigned int ktls_listen_max_hello;
extern unsigned int ktls_listen_hello_timeout_ms;
extern unsigned int ktls_listen_max_per_net;

int ktls_listen_attach(struct net *net, struct socket *sock,
		       struct ktls_listen_params *p, u32 *id);
int ktls_listen_detach(struct net *net, struct socket *sock, u32 id);
int ktls_listen_info(struct net *net, u32 *pos, struct ktls_listener_info *info);
void ktls_listen_kick(struct net *net);
struct ktls_secrets;
void ktls_listen_conn_end(struct ktls_lconn *lc, struct file *file, u32 status,
			  struct ktls_secrets *secrets);
void ktls_listen_params_release(struct ktls_listen_params *p);
int ktls_listen_init(void);
void ktls_listen_shutdown(void);
void ktls_listen_uninit(void);

#endif /* _KTLS_OFFLOAD_LISTEN_H */
