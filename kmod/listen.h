/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_LISTEN_H
#define _KTLS_OFFLOAD_LISTEN_H

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

struct ktls_listener_stats {
	u64 handshakes;		/* connections handed to an agent */
	u64 established;	/* handshakes that ended with kTLS installed */
	u64 failed;		/* handshakes that failed or timed out */
	u64 refused;		/* connections closed before a handshake (limits) */
	u64 delivered;		/* connections accept() returned */
	u64 dropped;		/* established ones closed undelivered (detach) */
};

/* What ATTACH asks for; the strings are kmalloc'd. */
struct ktls_listen_params {
	char *profile;
	char *alpn;
	u32 max_inflight;
	u32 timeout_ms;
};

struct ktls_listener {
	struct kref		kl_ref;
	struct list_head	kl_node;	/* on ktls_listeners while attached */
	struct hlist_node	kl_hnode;	/* in ktls_listen_hash, by kl_sk */
	struct rcu_head		kl_rcu;
	u32			kl_id;
	struct net		*kl_net;	/* the listener holds it */
	struct socket		*kl_sock;	/* valid while attached */
	struct sock		*kl_sk;
	const struct proto_ops	*kl_orig_ops;
	struct wait_queue_entry	kl_wait;	/* on the listener's wait queue */
	struct work_struct	kl_drain;
	struct mutex		kl_detach_lock;	/* one detach at a time */

	/* set at ATTACH, constant after */
	struct ktls_listen_params kl_params;
	struct pid		*kl_pid;
	kuid_t			kl_uid;
	kgid_t			kl_gid;
	u16			kl_family;
	u16			kl_port;
	union {
		__be32		v4;
		struct in6_addr	v6;
	}			kl_addr;
	unsigned long		kl_ino;

	spinlock_t		kl_lock;	/* protects the rest */
	bool			kl_detached;
	unsigned int		kl_inflight;	/* handshakes with an agent */
	unsigned int		kl_nready;
	struct list_head	kl_ready;	/* ktls_lconn, done, for accept() */
	struct ktls_listener_stats kl_stats;
};

/* One connection of a listener, from its accept queue to accept(). */
struct ktls_lconn {
	struct list_head	lc_node;
	struct ktls_listener	*lc_listener;	/* holds a reference */
	struct file		*lc_file;	/* once established */
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

int ktls_listen_attach(struct net *net, struct socket *sock,
		       struct ktls_listen_params *p, u32 *id);
int ktls_listen_detach(struct net *net, struct socket *sock, u32 id);
int ktls_listen_info(struct net *net, u32 *pos, struct ktls_listener_info *info);
void ktls_listen_kick(struct net *net);
void ktls_listen_conn_end(struct ktls_lconn *lc, struct file *file, u32 status);
void ktls_listen_params_release(struct ktls_listen_params *p);
int ktls_listen_init(void);
void ktls_listen_shutdown(void);
void ktls_listen_uninit(void);

#endif /* _KTLS_OFFLOAD_LISTEN_H */
