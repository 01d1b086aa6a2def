// SPDX-License-Identifier: GPL-2.0
/*
 * Listener mode: accept() on an attached TCP listener returns only
 * connections whose TLS handshake an agent has finished, with kernel TLS
 * installed.
 *
 * One file (about 1,600 lines, over the tree's 600): the listener's hooks,
 * drain, submission, delivery and teardown share the ktls_listener and
 * ktls_lconn internals and one lock order, all static; split, they would
 * become a header of internals that every part could reach into.  Kernel
 * networking keeps a protocol's hooks together the same way (net/tls/tls_sw.c).
 *
 * The hook is a TCP upper layer protocol, "ktls_listen", that ATTACH puts
 * on the listening sock, as tls, espintcp and mptcp interpose on theirs.
 * Nothing of the listener's socket (its proto_ops) is touched.  The ULP
 * gives the sock a copy of its struct proto with accept, close,
 * disconnect, diag_destroy and setsockopt wrapped, and its own
 * sk_data_ready; it has a clone operation, so TCP lets it listen, and
 * every new connection's sock is reset to the plain proto and callbacks
 * as it is created.
 *
 * Why the teardown cannot be bypassed: the kernel itself calls the ULP's
 * release when the sock is destroyed, and our sk_destruct when it is
 * freed; every path that stops a listener (close, shutdown, connect
 * AF_UNSPEC, SOCK_DESTROY) goes through the wrapped proto, which the sock
 * keeps until the release; a second ULP ("tls") cannot be set and
 * IPV6_ADDRFORM refuses a sock whose proto is not tcpv6_prot.
 *
 * References: the ULP holds the module from init to the sock's
 * destruction (tcp_cleanup_ulp puts it); the listener holds one more from
 * init until the sock is freed, because its request socks point at the
 * proto copy.  The clone leaves nothing of ours on a new connection (its
 * proto, sk_prot_creator and callbacks are TCP's), so delivered
 * connections do not hold the module.  Request socks that a reuseport
 * migration moved to another listener may outlive the module: the proto
 * copies are never freed, and unload points their functions back at
 * TCP's.  So rmmod fails with EBUSY while a listener that was ever
 * attached is open, and leaves nothing pointing at freed module memory.
 *
 * The flow: when TCP queues a connection, the listener's data_ready
 * schedules the drain instead of waking the application; the drain takes
 * the connection off the accept queue (keeping its request sock), grafts
 * it onto a socket of the module's, created with the credentials of the
 * listening socket's opener, and keeps it in "hello" until the client
 * sends its first byte, then in "queued" until an agent has room.  Then
 * it is submitted as a server-role request.  When the agent reports
 * success, the connection comes off the module's socket and goes back on
 * the listener's accept queue with its request sock, and the listener's
 * own data_ready wakes accept(), poll(), select() and epoll exactly as
 * for a new connection.  The wrapped accept() serves established entries
 * first and leaves raw ones to the drain; it waits as
 * inet_csk_wait_for_connect() does, so shutdown() wakes it with EINVAL.
 * The connection reaches the application's socket through inet_accept()'s
 * graft, and acceptq.c gives that socket the proto_ops tls set.  Failed
 * handshakes are closed by the module.
 *
 * An accept() that was already asleep in the kernel's own code when the
 * listener was attached takes whatever heads the queue when it wakes: a
 * raw connection (without TLS, once), or an established one, which is
 * safe (the graft fix-up does not depend on our wrapper).
 *
 * Bounds per listener: max_inflight handshakes with an agent plus
 * established connections not yet accepted; listen_max_hello connections
 * waiting for their first byte, each for at most listen_hello_timeout_ms,
 * the oldest evicted when full (an idle remote connection cannot hold a
 * handshake slot); queued connections wait at most the handshake timeout.
 * TCP Fast Open is refused on attached listeners: its children cannot be
 * put back on the queue.
 *
 * DETACH (or the listener's close, shutdown or abort) closes what the
 * module holds, in flight or established; after DETACH the listener
 * serves plain connections again, but keeps the ULP until it is closed.
 */

#include <linux/bpf.h>
#include <linux/file.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/kmemleak.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/inet_connection_sock.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>

#include <linux/ktls_offload.h>

#include "acceptq.h"
#include "compat.h"
#include "listen.h"
#include "request.h"

#define KTLS_LISTEN_ULP		"ktls_listen"
#define KTLS_DRAIN_BATCH	64

unsigned int ktls_listen_max_inflight = 128;
unsigned int ktls_listen_max_hello = 1024;
unsigned int ktls_listen_hello_timeout_ms = 10000;
unsigned int ktls_listen_max_per_net = 1024;

struct ktls_listen_net {
	struct xarray		ln_listeners;	/* id -> attached listener */
	u32			ln_next_id;
	unsigned int		ln_count;	/* under ln_listeners' lock */
};

/* The listener protos, one per address family, built at the first ATTACH. */
struct ktls_lproto {
	struct proto		prot;
	struct proto		*orig;
};

static unsigned int ktls_listen_net_id __read_mostly;
static struct workqueue_struct *ktls_listen_wq;
/*
 * Allocated, and on unload deliberately not freed: request socks copy
 * their listener's proto pointer, and one that a reuseport migration moved
 * to another listener can outlive the module.  Unload points the copies'
 * functions back at TCP's (ktls_listen_uninit()).
 */
static struct ktls_lproto *ktls_lprotos[2];
static DEFINE_MUTEX(ktls_lproto_lock);	/* builds ktls_lprotos */
static DEFINE_MUTEX(ktls_attach_lock);	/* one ULP init at a time */
static struct ktls_listener *ktls_attaching;	/* whose init may succeed */
static struct tcp_ulp_ops ktls_listen_ulp;

static struct ktls_listen_net *ktls_listen_net(struct net *net)
{
	return net_generic(net, ktls_listen_net_id);
}

static int ktls_family_idx(const struct sock *sk)
{
	return sk->sk_family == AF_INET6;
}

/* The proto the listener had; the same for every listener of a family. */
static struct proto *ktls_orig_prot(const struct sock *sk)
{
	return smp_load_acquire(&ktls_lprotos[ktls_family_idx(sk)])->orig;
}

/* The listener state of an attached sock, or NULL. */
static struct ktls_listener *ktls_listener_of(const struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);

	if (READ_ONCE(icsk->icsk_ulp_ops) != &ktls_listen_ulp)
		return NULL;
	return rcu_dereference_raw(icsk->icsk_ulp_data);
}

static void ktls_listener_free_rcu(struct rcu_head *head)
{
	struct ktls_listener *l = container_of(head, struct ktls_listener, kl_rcu);
	bool pinned = l->kl_pinned;

	kfree(l);
	if (pinned)
		module_put(THIS_MODULE);
}

static void ktls_listener_release(struct kref *ref)
{
	struct ktls_listener *l = container_of(ref, struct ktls_listener, kl_ref);

	ktls_listen_params_release(&l->kl_params);
	put_pid(l->kl_pid);
	if (l->kl_cred)
		put_cred(l->kl_cred);
	/* After a grace period: data_ready and the clone run under RCU. */
	call_rcu(&l->kl_rcu, ktls_listener_free_rcu);
}

static void ktls_listener_put(struct ktls_listener *l)
{
	kref_put(&l->kl_ref, ktls_listener_release);
}

/*
 * The listener state of an attached sock, with a reference: a DETACH and
 * re-ATTACH may replace it while the caller sleeps.
 */
static struct ktls_listener *ktls_listener_get(const struct sock *sk)
{
	struct ktls_listener *l;

	rcu_read_lock();
	l = ktls_listener_of(sk);
	if (l && !kref_get_unless_zero(&l->kl_ref))
		l = NULL;
	rcu_read_unlock();
	return l;
}

/* Runs the drain after @delay; a queued drain holds a reference. */
static void ktls_listen_kick_drain(struct ktls_listener *l, unsigned long delay)
{
	kref_get(&l->kl_ref);
	if (delay ? !queue_delayed_work(ktls_listen_wq, &l->kl_drain, delay) :
		    mod_delayed_work(ktls_listen_wq, &l->kl_drain, 0))
		ktls_listener_put(l);
}

/**
 * ktls_listen_params_release - free ATTACH parameters
 * @p: the parameters; the pointers are cleared
 */
void ktls_listen_params_release(struct ktls_listen_params *p)
{
	kfree(p->profile);
	kfree(p->alpn);
	p->profile = p->alpn = NULL;
}

static void ktls_lconn_free(struct ktls_lconn *lc)
{
	ktls_listener_put(lc->lc_listener);
	kfree(lc);
}

static struct socket *ktls_lconn_socket(const struct ktls_lconn *lc)
{
	return sock_from_file(lc->lc_file);
}

/*
 * Closes a connection the module holds and that no request owns: its
 * socket goes (TCP closes the connection), and the accept queue's
 * request sock with it.
 */
static void ktls_lconn_close(struct ktls_lconn *lc)
{
	if (lc->lc_wait.func)
		remove_wait_queue(&ktls_lconn_socket(lc)->wq.wait, &lc->lc_wait);
	fput(lc->lc_file);
	if (lc->lc_req)
		ktls_reqsk_put(lc->lc_req);
	ktls_lconn_free(lc);
}

static void ktls_lconn_close_list(struct list_head *list)
{
	struct ktls_lconn *lc, *tmp;

	list_for_each_entry_safe(lc, tmp, list, lc_node) {
		list_del(&lc->lc_node);
		ktls_lconn_close(lc);
	}
}

/* Moves every connection on @from to @to as DOOMED.  kl_lock held. */
static unsigned int ktls_lconn_doom_all(struct list_head *from, struct list_head *to)
{
	struct ktls_lconn *lc;
	unsigned int n = 0;

	list_for_each_entry(lc, from, lc_node) {
		lc->lc_state = KTLS_LC_DOOMED;
		n++;
	}
	list_splice_tail_init(from, to);
	return n;
}

/*
 * As inet_csk_accept() does with a request taken off the queue: a Fast
 * Open one stays with its child (fastopen_rsk), which frees it; NULL then,
 * else @req.
 */
static struct request_sock *ktls_req_unless_fastopen(struct request_sock_queue *queue,
						     struct request_sock *req)
{
	if (tcp_rsk(req)->tfo_listener) {
		spin_lock_bh(&queue->fastopenq.lock);
		if (tcp_rsk(req)->tfo_listener) {
			req->sk = NULL;
			req = NULL;
		}
		spin_unlock_bh(&queue->fastopenq.lock);
	}
	return req;
}

#ifdef KTLS_NO_INET_CSK_DESTROY_SOCK
/*
 * A connection without a socket, closed as accept() and close() with
 * SO_LINGER 0 would: a reset, and TCP's own close does the rest (the
 * orphan count included).  Process context, the child's lock not held.
 */
static void ktls_child_abort(struct sock *child)
{
	sock_no_linger(child);
	child->sk_prot->close(child, 0);
}
#endif

/*
 * Disposes of a raw connection we took off the accept queue and could not
 * give a socket, exactly as inet_csk_listen_stop() does with the ones
 * left on a closing listener's queue.  @lsk_locked: the caller holds the
 * listener's socket lock (a shutdown()), which then goes on to
 * inet_csk_listen_stop().
 */
static void ktls_listen_forget_child(struct ktls_listener *l,
				     struct request_sock *req,
				     struct sock *child, bool lsk_locked)
{
#ifdef KTLS_NO_INET_CSK_DESTROY_SOCK
	struct request_sock_queue *queue =
		&inet_csk(l->kl_sk)->icsk_accept_queue;

	/*
	 * Taking the child's socket lock under the listener's would nest
	 * two locks of one class: back on the queue instead, where the
	 * kernel's inet_csk_listen_stop(), next in the shutdown(), finds it.
	 */
	if (lsk_locked && ktls_acceptq_add(l->kl_sk, req, child))
		return;
	req = ktls_req_unless_fastopen(queue, req);
	ktls_child_abort(child);
	if (req)
		ktls_reqsk_put(req);
#else
	local_bh_disable();
	bh_lock_sock(child);
	sock_hold(child);
	child->sk_prot->disconnect(child, O_NONBLOCK);
	sock_orphan(child);
	this_cpu_inc(*child->sk_prot->orphan_count);
	if (tcp_rsk(req)->tfo_listener)
		RCU_INIT_POINTER(tcp_sk(child)->fastopen_rsk, NULL);
	inet_csk_destroy_sock(child);
	bh_unlock_sock(child);
	local_bh_enable();
	sock_put(child);
	ktls_reqsk_put(req);
#endif
}

/*
 * Closes a raw connection that accept() took off the queue (so without
 * its request sock): through a socket of its own, as a server would.
 */
static void ktls_listen_close_raw(struct ktls_listener *l, struct sock *child)
{
	struct socket *sock;

	if (sock_create_lite(l->kl_family, SOCK_STREAM, IPPROTO_TCP, &sock)) {
#ifdef KTLS_NO_INET_CSK_DESTROY_SOCK
		ktls_child_abort(child);
#else
		/* as inet_child_forget(), less the request sock we do not have */
		local_bh_disable();
		bh_lock_sock(child);
		sock_hold(child);
		child->sk_prot->disconnect(child, O_NONBLOCK);
		sock_orphan(child);
		this_cpu_inc(*child->sk_prot->orphan_count);
		inet_csk_destroy_sock(child);
		bh_unlock_sock(child);
		local_bh_enable();
		sock_put(child);
#endif
		return;
	}
	sock->ops = l->kl_sock_ops;
	__module_get(sock->ops->owner);
	lock_sock(child);
	sock_graft(child, sock);
	release_sock(child);
	sock_release(sock);
}

/* Wakes the drain when a diverted connection has something to say. */
static int ktls_lconn_wake(struct wait_queue_entry *wait, unsigned int mode,
			   int sync, void *key)
{
	struct ktls_lconn *lc = container_of(wait, struct ktls_lconn, lc_wait);
	struct ktls_listener *l = lc->lc_listener;
	__poll_t events = key_to_poll(key);
	bool moved = false;

	if (key && !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return 0;
	spin_lock(&l->kl_lock);
	if (lc->lc_state == KTLS_LC_HELLO) {
		list_move_tail(&lc->lc_node, &l->kl_queued);
		lc->lc_state = KTLS_LC_QUEUED;
		lc->lc_deadline = jiffies + msecs_to_jiffies(l->kl_params.timeout_ms);
		l->kl_nhello--;
		l->kl_nqueued++;
		moved = true;
	}
	spin_unlock(&l->kl_lock);
	if (moved)
		ktls_listen_kick_drain(l, 0);
	return 0;
}

/* A diverted connection has data, a FIN or an error waiting. */
static bool ktls_child_has_news(const struct sock *child)
{
	return !skb_queue_empty_lockless(&child->sk_receive_queue) ||
	       (READ_ONCE(child->sk_shutdown) & RCV_SHUTDOWN) ||
	       READ_ONCE(child->sk_err);
}

/*
 * Takes one raw connection off the accept queue into the module: a socket
 * and file of its own, made with the credentials of the listening
 * socket's opener and charged to the listener's memory cgroup.  (About
 * 110 lines: each step's failure unwinds the steps before it, in one
 * place.)
 */
static void ktls_listen_divert_one(struct ktls_listener *l, struct request_sock *req)
{
	struct sock *lsk = l->kl_sk;	/* req holds it */
	struct request_sock_queue *queue = &inet_csk(lsk)->icsk_accept_queue;
	struct sock *child = req->sk;
	struct ktls_lconn *lc = NULL, *victim = NULL;
	struct mem_cgroup *old_memcg;
	const struct cred *old_cred;
	struct socket *sock;
	struct file *file;
	bool refused = true;

	sock_hold(lsk);
	old_cred = override_creds(l->kl_cred);
	old_memcg = set_active_memcg(ktls_sk_memcg(lsk));
	if (sock_create_lite(l->kl_family, SOCK_STREAM, IPPROTO_TCP, &sock)) {
		ktls_listen_forget_child(l, req, child, false);
		goto out;
	}
	sock->ops = l->kl_sock_ops;
	__module_get(sock->ops->owner);
	req = ktls_req_unless_fastopen(queue, req);
	lock_sock(child);
	sock_graft(child, sock);
	sock->state = SS_CONNECTED;
	release_sock(child);
	if (!req) {
		/* Fast Open: no way back onto the queue, so no TLS either */
		sock_release(sock);
		goto out;
	}
	file = sock_alloc_file(sock, 0, NULL);	/* releases sock, and child, on error */
	if (IS_ERR(file)) {
		ktls_reqsk_put(req);
		goto out;
	}
	lc = kzalloc(sizeof(*lc), GFP_KERNEL_ACCOUNT);
	if (!lc) {
		fput(file);
		ktls_reqsk_put(req);
		goto out;
	}
	kref_get(&l->kl_ref);
	lc->lc_listener = l;
	lc->lc_req = req;
	lc->lc_sk = child;
	lc->lc_file = file;
	INIT_LIST_HEAD(&lc->lc_node);
	/* ignored by the wakeup until it is on a list (news checked below) */
	lc->lc_state = KTLS_LC_DOOMED;
	init_waitqueue_func_entry(&lc->lc_wait, ktls_lconn_wake);
	add_wait_queue(&sock->wq.wait, &lc->lc_wait);
	refused = false;

	spin_lock_bh(&l->kl_lock);
	if (l->kl_detached || l->kl_stopping) {
		lc->lc_state = KTLS_LC_DOOMED;
		l->kl_stats.refused++;
		victim = lc;
	} else {
		/*
		 * Connections waiting, idle or for an agent, are bounded: the
		 * oldest idle one, else the oldest waiting one, makes room.
		 */
		if (l->kl_nhello + l->kl_nqueued >= READ_ONCE(ktls_listen_max_hello)) {
			if (l->kl_nhello) {
				victim = list_first_entry(&l->kl_hello, struct ktls_lconn,
							  lc_node);
				l->kl_nhello--;
			} else {
				victim = list_first_entry(&l->kl_queued, struct ktls_lconn,
							  lc_node);
				l->kl_nqueued--;
			}
			list_del_init(&victim->lc_node);
			victim->lc_state = KTLS_LC_DOOMED;
			l->kl_stats.refused++;
		}
		if (ktls_child_has_news(child)) {
			lc->lc_state = KTLS_LC_QUEUED;
			lc->lc_deadline = jiffies +
				msecs_to_jiffies(l->kl_params.timeout_ms);
			list_add_tail(&lc->lc_node, &l->kl_queued);
			l->kl_nqueued++;
		} else {
			lc->lc_state = KTLS_LC_HELLO;
			lc->lc_deadline = jiffies +
				msecs_to_jiffies(READ_ONCE(ktls_listen_hello_timeout_ms));
			list_add_tail(&lc->lc_node, &l->kl_hello);
			l->kl_nhello++;
		}
	}
	spin_unlock_bh(&l->kl_lock);
	if (victim)
		ktls_lconn_close(victim);
out:
	set_active_memcg(old_memcg);
	revert_creds(old_cred);
	if (refused) {
		spin_lock_bh(&l->kl_lock);
		l->kl_stats.refused++;
		spin_unlock_bh(&l->kl_lock);
	}
	sock_put(lsk);
}

/* Takes the raw connections off the accept queue.  Return: true if more may wait. */
static bool ktls_listen_divert(struct ktls_listener *l)
{
	struct request_sock *req, *next;
	bool stopped;
	int n = 0;

	mutex_lock(&l->kl_accept_lock);
	spin_lock_bh(&l->kl_lock);
	req = l->kl_raw;
	l->kl_raw = NULL;
	l->kl_raw_tail = &l->kl_raw;
	stopped = l->kl_detached || l->kl_stopping;
	spin_unlock_bh(&l->kl_lock);
	if (!req && !stopped)	/* (those data_ready was not called for) */
		req = ktls_acceptq_unlink(l->kl_sk, false, KTLS_DRAIN_BATCH);
	mutex_unlock(&l->kl_accept_lock);
	for (; req; req = next, n++) {
		next = req->dl_next;
		req->dl_next = NULL;
		/* (a data_ready that raced the stop took these) */
		if (stopped)
			ktls_listen_forget_child(l, req, req->sk, false);
		else
			ktls_listen_divert_one(l, req);
	}
	return !stopped && n >= KTLS_DRAIN_BATCH;
}

/*
 * Moves the connections of @from (in deadline order) whose deadline has
 * passed to @to.  Return: how many.  kl_lock held.
 */
static unsigned int ktls_lconn_doom_expired(struct list_head *from, struct list_head *to)
{
	struct ktls_lconn *lc, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(lc, tmp, from, lc_node) {
		if (time_before(jiffies, lc->lc_deadline))
			break;
		lc->lc_state = KTLS_LC_DOOMED;
		list_move_tail(&lc->lc_node, to);
		n++;
	}
	return n;
}

/* Moves connections past their deadline to @doomed.  kl_lock held. */
static void ktls_listen_expire(struct ktls_listener *l, struct list_head *doomed)
{
	unsigned int n;

	n = ktls_lconn_doom_expired(&l->kl_hello, doomed);
	l->kl_nhello -= n;
	l->kl_stats.refused += n;
	n = ktls_lconn_doom_expired(&l->kl_queued, doomed);
	l->kl_nqueued -= n;
	l->kl_stats.failed += n;
}

/* Hands queued connections to the agents while there is room. */
static void ktls_listen_submit(struct ktls_listener *l)
{
	struct ktls_submit p;
	struct ktls_lconn *lc;
	u32 id;
	int ret;

	for (;;) {
		spin_lock_bh(&l->kl_lock);
		lc = list_first_entry_or_null(&l->kl_queued, struct ktls_lconn, lc_node);
		/* (a queued connection holds the namespace: its sock is of it) */
		if (!lc || l->kl_detached || l->kl_stopping ||
		    l->kl_inflight + l->kl_nready >= l->kl_params.max_inflight ||
		    !ktls_net_has_agent(l->kl_net)) {
			spin_unlock_bh(&l->kl_lock);
			return;
		}
		list_del_init(&lc->lc_node);
		lc->lc_state = KTLS_LC_INFLIGHT;
		l->kl_nqueued--;
		l->kl_inflight++;
		spin_unlock_bh(&l->kl_lock);

		remove_wait_queue(&ktls_lconn_socket(lc)->wq.wait, &lc->lc_wait);
		lc->lc_wait.func = NULL;

		memset(&p, 0, sizeof(p));
		p.sock = ktls_lconn_socket(lc);	/* the request takes lc_file's reference */
		p.role = KTLS_OFFLOAD_ROLE_SERVER;
		p.timeout_ms = l->kl_params.timeout_ms;
		p.owner_pid = get_pid(l->kl_pid);
		p.owner_uid = l->kl_cred->euid;
		p.owner_gid = l->kl_cred->egid;
		p.lconn = lc;
		p.profile = kstrdup(l->kl_params.profile, GFP_KERNEL_ACCOUNT);
		p.alpn = kstrdup(l->kl_params.alpn, GFP_KERNEL_ACCOUNT);
		if ((l->kl_params.profile && !p.profile) || (l->kl_params.alpn && !p.alpn))
			ret = -ENOMEM;
		else
			ret = ktls_req_submit(l->kl_net, NULL, 0, &p, &id);
		if (!ret) {
			bool detached;

			spin_lock_bh(&l->kl_lock);
			l->kl_stats.handshakes++;
			detached = l->kl_detached;
			spin_unlock_bh(&l->kl_lock);
			/*
			 * A final stop that ran since lc left kl_queued saw it
			 * on no list; if its ktls_req_end_listener() scanned
			 * before the request existed, end it here (kn_lock
			 * orders that scan before this read of kl_detached).
			 */
			if (detached)
				ktls_req_cancel(l->kl_net, NULL, id);
			continue;
		}
		/* The connection is closed: it is counted, not silently lost. */
		p.sock = NULL;
		p.lconn = NULL;
		ktls_submit_release(&p);
		spin_lock_bh(&l->kl_lock);
		lc->lc_state = KTLS_LC_DOOMED;
		l->kl_inflight--;
		l->kl_stats.refused++;
		spin_unlock_bh(&l->kl_lock);
		ktls_lconn_close(lc);
	}
}

static void ktls_listen_drain(struct work_struct *work)
{
	struct ktls_listener *l = container_of(to_delayed_work(work),
					       struct ktls_listener, kl_drain);
	unsigned long next = 0;
	struct ktls_lconn *lc;
	LIST_HEAD(doomed);
	bool more;

	more = ktls_listen_divert(l);
	spin_lock_bh(&l->kl_lock);
	ktls_listen_expire(l, &doomed);
	spin_unlock_bh(&l->kl_lock);
	ktls_lconn_close_list(&doomed);
	ktls_listen_submit(l);

	spin_lock_bh(&l->kl_lock);
	lc = list_first_entry_or_null(&l->kl_hello, struct ktls_lconn, lc_node);
	if (lc)
		next = lc->lc_deadline;
	lc = list_first_entry_or_null(&l->kl_queued, struct ktls_lconn, lc_node);
	if (lc && (!next || time_before(lc->lc_deadline, next)))
		next = lc->lc_deadline;
	spin_unlock_bh(&l->kl_lock);
	if (more)
		ktls_listen_kick_drain(l, 0);
	else if (next)
		ktls_listen_kick_drain(l, max_t(long, (long)(next - jiffies), 0) + 1);
	ktls_listener_put(l);
}

/* Takes @child off the module's socket @isock (child's lock held). */
static void ktls_ungraft(struct sock *child, struct socket *isock)
{
	write_lock_bh(&child->sk_callback_lock);
	RCU_INIT_POINTER(child->sk_wq, NULL);
	sk_set_socket(child, NULL);
	isock->sk = NULL;
	write_unlock_bh(&child->sk_callback_lock);
}

/*
 * Closes an established connection that has no socket (off the queue, or
 * never put on it) through the module's socket it came from.
 */
static void ktls_lconn_close_ready(struct ktls_lconn *lc, struct sock *child)
{
	struct socket *isock = ktls_lconn_socket(lc);

	/* (shutdown() holds the listener's lock: a child nests under it) */
	lock_sock_nested(child, SINGLE_DEPTH_NESTING);
	sock_graft(child, isock);	/* the trampoline restores tls's proto */
	release_sock(child);
	ktls_lconn_close(lc);
}

/**
 * ktls_listen_conn_end - a listener connection's handshake ended
 * @lc: the connection; consumed
 * @file: its socket file, with the request's reference; consumed
 * @status: 0 or a positive errno
 * @secrets: TLS 1.3 secrets for KeyUpdates, or NULL; consumed
 *
 * Called exactly once per listener request, without the broker's locks
 * held (ktls_req_end_listener() returns only after it has returned); may
 * sleep.
 * An established connection goes back on the listener's accept queue,
 * without a socket, ready for the graft; any other is closed.
 */
void ktls_listen_conn_end(struct ktls_lconn *lc, struct file *file, u32 status,
			  struct ktls_secrets *secrets)
{
	struct ktls_listener *l = lc->lc_listener;
	struct sock *lsk = l->kl_sk;	/* lc_req holds it */
	struct sock *child = lc->lc_sk;
	struct socket *isock = sock_from_file(file);
	struct ktls_tramp *tramp = NULL;
	bool ready = false, rekey = false, armed;

	lc->lc_file = file;
	sock_hold(lsk);
	/*
	 * A child that a BPF sock_ops program put in a sockmap before the
	 * handshake is not re-queued: when its psock goes, tcp_bpf writes
	 * into the proto under it, which would be the shared trampoline.
	 * (No psock can be added once the agent has put tls on it.)
	 */
	if (!status && file_count(file) == 1 && !READ_ONCE(l->kl_detached) &&
	    !rcu_access_pointer(child->sk_user_data)) {
		/* KeyUpdate hooks do the trampoline's work too (rekey.c) */
		if (secrets && !ktls_rekey_install(child, secrets))
			rekey = true;
		else
			tramp = ktls_graft_get(READ_ONCE(child->sk_prot),
					       READ_ONCE(isock->ops));
	}
	kfree_sensitive(secrets);
	armed = tramp || rekey;
	if (armed) {
		lock_sock(child);
		ktls_ungraft(child, isock);
		if (rekey)
			ktls_rekey_graft_arm(child, READ_ONCE(isock->ops));
		else
			ktls_graft_set(child, tramp);
		release_sock(child);
	}

	spin_lock_bh(&l->kl_lock);
	l->kl_inflight--;
	if (status || file_count(file) != 1) {
		/* failed, or the agent kept a descriptor of it */
		l->kl_stats.failed++;
	} else if (!armed || l->kl_detached || l->kl_stopping) {
		l->kl_stats.dropped++;
	} else if (ktls_acceptq_add(lsk, lc->lc_req, child)) {
		/* the queue owns the request sock now */
		lc->lc_req = NULL;
		lc->lc_state = KTLS_LC_READY;
		list_add_tail(&lc->lc_node, &l->kl_ready);
		l->kl_nready++;
		l->kl_stats.established++;
		ready = true;
	} else {
		l->kl_stats.dropped++;
	}
	if (!ready)
		lc->lc_state = KTLS_LC_DOOMED;
	spin_unlock_bh(&l->kl_lock);

	ktls_listen_kick_drain(l, 0);	/* a slot is free */
	if (ready)
		l->kl_orig_data_ready(lsk);	/* wakes accept() and pollers */
	else if (armed)
		ktls_lconn_close_ready(lc, child);
	else
		ktls_lconn_close(lc);
	sock_put(lsk);
}

/*
 * Bookkeeping for an established connection inet_csk_accept() just took:
 * the module's (empty) socket it came from goes.  The graft that follows
 * gives the new socket its ops (acceptq.c).
 */
static void ktls_listen_delivered(struct ktls_listener *l, struct sock *child)
{
	struct ktls_lconn *lc = NULL, *it;

	spin_lock_bh(&l->kl_lock);
	list_for_each_entry(it, &l->kl_ready, lc_node) {
		if (it->lc_sk == child) {
			lc = it;
			list_del_init(&lc->lc_node);
			lc->lc_state = KTLS_LC_DOOMED;
			break;
		}
	}
	if (l->kl_nready)
		l->kl_nready--;
	l->kl_stats.delivered++;
	spin_unlock_bh(&l->kl_lock);
	ktls_listen_kick_drain(l, 0);	/* a slot is free */
	/* (a DETACH may have taken its record already) */
	if (lc)
		ktls_lconn_close(lc);
}

/* Waits as inet_csk_wait_for_connect() does, for an established entry. */
static int ktls_listen_wait(struct ktls_listener *l, struct sock *sk, long *timeo)
{
	DEFINE_WAIT(wait);

	prepare_to_wait_exclusive(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
	if (!READ_ONCE(l->kl_nready) && !READ_ONCE(l->kl_detached) &&
	    READ_ONCE(sk->sk_state) == TCP_LISTEN && *timeo &&
	    !signal_pending(current))
		*timeo = schedule_timeout(*timeo);
	finish_wait(sk_sleep(sk), &wait);
	if (READ_ONCE(l->kl_nready) || READ_ONCE(l->kl_detached))
		return 0;
	if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return -EINVAL;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	if (!*timeo)
		return -EAGAIN;
	return 0;
}

static struct sock *ktls_listen_accept(struct sock *sk, KTLS_PROT_ACCEPT_ARGS)
{
	struct proto *orig = ktls_orig_prot(sk);
	struct ktls_listener *l = ktls_listener_get(sk);
	struct sock *child;
	unsigned int n;
	long timeo;
	int err;

	if (!l)
		return orig->accept(sk, KTLS_PROT_ACCEPT_PASS);
	timeo = sock_rcvtimeo(sk, KTLS_PROT_ACCEPT_NONBLOCK);
	for (;;) {
		bool raw = false;

		mutex_lock(&l->kl_accept_lock);
		if (READ_ONCE(l->kl_detached)) {
			mutex_unlock(&l->kl_accept_lock);
			ktls_listener_put(l);
			return orig->accept(sk, KTLS_PROT_ACCEPT_PASS);
		}
		spin_lock_bh(&l->kl_lock);
		n = ktls_acceptq_ready_first(sk, &raw);
		l->kl_nready = n;	/* exact: conn_end adds under kl_lock */
		spin_unlock_bh(&l->kl_lock);
		if (n) {
			/* the head is ours until we let go of the lock */
			child = ktls_prot_accept_nonblock(orig, sk, KTLS_PROT_ACCEPT_PASS);
			mutex_unlock(&l->kl_accept_lock);
			if (!child && KTLS_PROT_ACCEPT_GET_ERR == -EAGAIN && timeo) {
				/*
				 * An accept() asleep in the kernel's own code
				 * took the head first: a blocking caller
				 * waits for the next one (F6).
				 */
				KTLS_PROT_ACCEPT_ERR(0);
				continue;
			}
			if (child && !READ_ONCE(inet_csk(child)->icsk_ulp_ops)) {
				/*
				 * An accept() asleep in the kernel's own code
				 * since before the ATTACH took our head: this
				 * one is raw.  Never hand it out as TLS.
				 */
				ktls_listen_close_raw(l, child);
				spin_lock_bh(&l->kl_lock);
				l->kl_stats.refused++;
				spin_unlock_bh(&l->kl_lock);
				continue;
			}
			if (child)
				ktls_listen_delivered(l, child);
			ktls_listener_put(l);
			return child;	/* NULL: not listening any more */
		}
		mutex_unlock(&l->kl_accept_lock);
		if (raw)
			ktls_listen_kick_drain(l, 0);
		err = ktls_listen_wait(l, sk, &timeo);
		if (err) {
			ktls_listener_put(l);
			KTLS_PROT_ACCEPT_ERR(err);
			return NULL;
		}
	}
}

/*
 * Ends what the module holds for a listener: connections waiting, those
 * established but not accepted, handshakes in flight.  @final: for good
 * (DETACH, close, abort); else for a shutdown(), which the application
 * may follow with listen().  @unlocked: the caller does not hold the
 * listener's socket lock (shutdown() does), so the accept lock may be
 * taken.
 */
static void ktls_listener_stop(struct ktls_listener *l, bool final, bool unlocked)
{
	struct request_sock *req, *next, *raw;
	struct ktls_lconn *lc, *tmp;
	struct socket_wq *wq;
	LIST_HEAD(doomed);
	LIST_HEAD(pulled);

	if (unlocked)
		mutex_lock(&l->kl_accept_lock);
	spin_lock_bh(&l->kl_lock);
	if (final)
		l->kl_detached = true;
	else
		l->kl_stopping = true;
	l->kl_nhello -= ktls_lconn_doom_all(&l->kl_hello, &doomed);
	l->kl_nqueued -= ktls_lconn_doom_all(&l->kl_queued, &doomed);
	raw = l->kl_raw;
	l->kl_raw = NULL;
	l->kl_raw_tail = &l->kl_raw;
	spin_unlock_bh(&l->kl_lock);
	for (; raw; raw = next) {
		next = raw->dl_next;
		raw->dl_next = NULL;
		ktls_listen_forget_child(l, raw, raw->sk, !unlocked);
	}

	req = ktls_acceptq_unlink(l->kl_sk, true, INT_MAX);
	spin_lock_bh(&l->kl_lock);
	for (; req; req = next) {
		next = req->dl_next;
		req->dl_next = NULL;
		list_for_each_entry(lc, &l->kl_ready, lc_node)
			if (lc->lc_sk == req->sk)
				break;
		if (WARN_ON_ONCE(list_entry_is_head(lc, &l->kl_ready, lc_node)))
			continue;	/* cannot be: only conn_end queues them */
		list_move_tail(&lc->lc_node, &pulled);
		lc->lc_state = KTLS_LC_DOOMED;
		lc->lc_req = req;	/* ours again */
		if (l->kl_nready)
			l->kl_nready--;
		l->kl_stats.dropped++;
	}
	/* Records of connections an accept() took outside our wrapper. */
	if (final) {
		list_for_each_entry(lc, &l->kl_ready, lc_node)
			lc->lc_state = KTLS_LC_DOOMED;
		list_splice_tail_init(&l->kl_ready, &doomed);
		l->kl_nready = 0;
	}
	spin_unlock_bh(&l->kl_lock);
	if (unlocked)
		mutex_unlock(&l->kl_accept_lock);

	list_for_each_entry_safe(lc, tmp, &pulled, lc_node) {
		list_del(&lc->lc_node);
		ktls_lconn_close_ready(lc, lc->lc_sk);
	}
	ktls_lconn_close_list(&doomed);
	if (!final)
		return;	/* handshakes in flight end on their own */
	ktls_req_end_listener(l->kl_net, l);
	/* accept() and pollers look again: plain connections after DETACH */
	rcu_read_lock();
	wq = rcu_dereference(l->kl_sk->sk_wq);
	if (wq)
		wake_up_interruptible_all(&wq->wait);
	rcu_read_unlock();
}

/* Takes the listener out of its namespace's table.  Return: true if it was in. */
static bool ktls_listen_unpublish(struct ktls_listener *l)
{
	struct ktls_listen_net *ln = ktls_listen_net(l->kl_net);
	bool ok = false;

	xa_lock_bh(&ln->ln_listeners);
	if (l->kl_id && __xa_erase(&ln->ln_listeners, l->kl_id) == l) {
		WRITE_ONCE(l->kl_id, 0);
		ln->ln_count--;
		ok = true;
	}
	xa_unlock_bh(&ln->ln_listeners);
	if (ok)
		ktls_listener_put(l);	/* the table's */
	return ok;
}

static void ktls_listen_close(struct sock *sk, long timeout)
{
	struct ktls_listener *l = ktls_listener_get(sk);

	if (l) {
		ktls_listener_stop(l, true, true);
		ktls_listen_unpublish(l);
		ktls_listener_put(l);
	}
	ktls_orig_prot(sk)->close(sk, timeout);
}

/* Also called by inet_child_forget() on children of the listener. */
static int ktls_listen_disconnect(struct sock *sk, int flags)
{
	struct ktls_listener *l = ktls_listener_of(sk);
	int ret;

	if (!l || sk->sk_state != TCP_LISTEN)
		return ktls_orig_prot(sk)->disconnect(sk, flags);
	/* shutdown() or connect(AF_UNSPEC), with the socket lock held (a
	 * re-ATTACH, which replaces @l, needs it too) */
	ktls_listener_stop(l, false, false);
	ret = ktls_orig_prot(sk)->disconnect(sk, flags);
	spin_lock_bh(&l->kl_lock);
	l->kl_stopping = false;
	spin_unlock_bh(&l->kl_lock);
	return ret;
}

/*
 * listen() again after a shutdown() hashes the listener anew, after
 * __inet_listen_sk() has let the net.ipv4.tcp_fastopen sysctl turn Fast
 * Open back on (fastopen_queue_tune()): turn it off again while attached,
 * since a Fast Open connection cannot go back on the accept queue (N15).
 */
static int ktls_listen_hash(struct sock *sk)
{
	struct ktls_listener *l;

	rcu_read_lock();
	l = ktls_listener_of(sk);
	if (l && !READ_ONCE(l->kl_detached) && sk->sk_state == TCP_LISTEN)
		WRITE_ONCE(inet_csk(sk)->icsk_accept_queue.fastopenq.max_qlen, 0);
	rcu_read_unlock();
	return ktls_orig_prot(sk)->hash(sk);
}

/* SOCK_DESTROY (sock_diag, bpf); request socks of the listener come here too. */
static int ktls_listen_diag_destroy(struct sock *sk, int err)
{
	struct ktls_listener *l;

	if (sk_fullsock(sk) && sk->sk_state == TCP_LISTEN &&
	    (l = ktls_listener_get(sk))) {
		/* a BPF program holds the socket lock and cannot wait */
		if (has_current_bpf_ctx()) {
			ktls_listener_put(l);
			return -EBUSY;
		}
		ktls_listener_stop(l, true, true);
		ktls_listen_unpublish(l);
		ktls_listener_put(l);
	}
	return ktls_orig_prot(sk)->diag_destroy(sk, err);
}

static int ktls_listen_setsockopt(struct sock *sk, int level, int optname,
				  sockptr_t optval, unsigned int optlen)
{
	struct ktls_listener *l;
	bool refuse = false;

	/* Fast Open children bypass the handshake queue. */
	if (level == SOL_TCP && optname == TCP_FASTOPEN) {
		rcu_read_lock();
		l = ktls_listener_of(sk);
		refuse = l && !READ_ONCE(l->kl_detached);
		rcu_read_unlock();
	}
	if (refuse)
		return -EBUSY;
	return ktls_orig_prot(sk)->setsockopt(sk, level, optname, optval, optlen);
}

/* Not the application: only the drain learns of raw connections. */
static void ktls_listen_data_ready(struct sock *sk)
{
	struct ktls_listener *l = rcu_dereference_raw(inet_csk(sk)->icsk_ulp_data);
	struct request_sock *req, *last;

	/* (after shutdown() and connect() it is an ordinary connection) */
	if (READ_ONCE(l->kl_detached) || READ_ONCE(l->kl_stopping) ||
	    READ_ONCE(sk->sk_state) != TCP_LISTEN) {
		l->kl_orig_data_ready(sk);
		return;
	}
	/*
	 * Off the accept queue at once, so that poll() does not report the
	 * listener readable for it (a level-triggered loop would spin).
	 */
	req = ktls_acceptq_unlink(sk, false, INT_MAX);
	if (req) {
		for (last = req; last->dl_next; last = last->dl_next)
			;
		spin_lock_bh(&l->kl_lock);
		*l->kl_raw_tail = req;
		l->kl_raw_tail = &last->dl_next;
		spin_unlock_bh(&l->kl_lock);
	}
	ktls_listen_kick_drain(l, 0);
}

static void ktls_listen_sk_destruct(struct sock *sk)
{
	struct ktls_listener *l = rcu_dereference_raw(inet_csk(sk)->icsk_ulp_data);

	l->kl_orig_destruct(sk);
	ktls_listener_put(l);		/* the sock's */
}

/*
 * Puts @l's callbacks and proto on the listening @sk, socket lock held.
 * @old: the detached listener @sk carried before (re-ATTACH), or NULL.
 */
static void ktls_listen_hook(struct sock *sk, struct ktls_listener *l,
			     struct ktls_listener *old)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	l->kl_orig_prot = sk->sk_prot;
	l->kl_port = inet_sk(sk)->inet_num;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		l->kl_addr.v6 = sk->sk_v6_rcv_saddr;
	else
#endif
		l->kl_addr.v4 = inet_sk(sk)->inet_rcv_saddr;

	kref_get(&l->kl_ref);		/* the sock's, until it is freed */
	__module_get(THIS_MODULE);	/* request socks point at our proto */
	l->kl_pinned = true;
	/* what the clone gives children back, before the ULP is visible */
	write_lock_bh(&sk->sk_callback_lock);
	l->kl_orig_data_ready = sk->sk_data_ready;
	l->kl_orig_destruct = old ? old->kl_orig_destruct : sk->sk_destruct;
	write_unlock_bh(&sk->sk_callback_lock);
	/*
	 * Children are copied from the listener without its lock: one that
	 * sees our callbacks or proto must see the ULP too, so that the clone
	 * resets it (tcp_set_ulp() stores the same pointer again).
	 */
	rcu_assign_pointer(icsk->icsk_ulp_data, l);
	smp_store_release(&icsk->icsk_ulp_ops, &ktls_listen_ulp);
	write_lock_bh(&sk->sk_callback_lock);
	if (!old)
		sk->sk_destruct = ktls_listen_sk_destruct;
	sk->sk_data_ready = ktls_listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(icsk->icsk_accept_queue.fastopenq.max_qlen, 0);
	WRITE_ONCE(sk->sk_prot, &ktls_lprotos[ktls_family_idx(sk)]->prot);
}

/*
 * Gives @sk its own data_ready and proto back (DETACH, destruction); our
 * sk_destruct stays until the sock is freed.
 */
static void ktls_listen_unhook(struct sock *sk, struct ktls_listener *l)
{
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready == ktls_listen_data_ready)
		sk->sk_data_ready = l->kl_orig_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	if (READ_ONCE(sk->sk_prot) == &ktls_lprotos[ktls_family_idx(sk)]->prot)
		WRITE_ONCE(sk->sk_prot, l->kl_orig_prot);
}

static int ktls_listen_ulp_init(struct sock *sk)
{
	struct ktls_listener *l = READ_ONCE(ktls_attaching);
	int idx = ktls_family_idx(sk);

	/* Only ATTACH puts this ULP on a socket, never setsockopt(). */
	if (!l || l->kl_sk != sk)
		return -EPERM;
	if (sk->sk_state != TCP_LISTEN)
		return -EINVAL;
	if (sk->sk_prot != sk->sk_prot_creator ||
	    !ktls_lprotos[idx] || sk->sk_prot != ktls_lprotos[idx]->orig)
		return -EBUSY;
	ktls_listen_hook(sk, l, NULL);
	return 0;
}

/* The sock is being destroyed (after close): its own callbacks back. */
static void ktls_listen_ulp_release(struct sock *sk)
{
	struct ktls_listener *l = rcu_dereference_raw(inet_csk(sk)->icsk_ulp_data);

	spin_lock_bh(&l->kl_lock);
	l->kl_detached = true;
	spin_unlock_bh(&l->kl_lock);
	ktls_listen_unpublish(l);
	ktls_listen_unhook(sk, l);
}

/* A new connection of the listener: a plain TCP sock, no ULP. */
static void ktls_listen_ulp_clone(const struct request_sock *req,
				  struct sock *newsk, const gfp_t priority)
{
	struct inet_connection_sock *icsk = inet_csk(newsk);
	struct ktls_listener *l = rcu_dereference_raw(icsk->icsk_ulp_data);

	int i;

	icsk->icsk_ulp_ops = NULL;
	RCU_INIT_POINTER(icsk->icsk_ulp_data, NULL);
	/* (a detached listener has its own proto and data_ready again) */
	for (i = 0; i < ARRAY_SIZE(ktls_lprotos); i++) {
		struct ktls_lproto *lp = smp_load_acquire(&ktls_lprotos[i]);

		if (!lp || newsk->sk_prot != &lp->prot)
			continue;
		WRITE_ONCE(newsk->sk_prot, lp->orig);
		/* the proto it is freed through, too: nothing of ours stays */
		newsk->sk_prot_creator = lp->orig;
	}
	if (newsk->sk_data_ready == ktls_listen_data_ready)
		newsk->sk_data_ready = l->kl_orig_data_ready;
	if (newsk->sk_destruct == ktls_listen_sk_destruct)
		newsk->sk_destruct = l->kl_orig_destruct;
}

static struct tcp_ulp_ops ktls_listen_ulp = {
	.name	 = KTLS_LISTEN_ULP,
	.owner	 = THIS_MODULE,
	.init	 = ktls_listen_ulp_init,
	.release = ktls_listen_ulp_release,
	.clone	 = ktls_listen_ulp_clone,
};

/* Builds the family's listener proto from @sk's on first use. */
static int ktls_lproto_prepare(struct sock *sk)
{
	struct ktls_lproto **lpp = &ktls_lprotos[ktls_family_idx(sk)];
	struct proto *prot = READ_ONCE(sk->sk_prot);
	struct ktls_lproto *lp;
	int ret = 0;

	mutex_lock(&ktls_lproto_lock);
	lp = *lpp;
	if (!lp) {
		if (prot != sk->sk_prot_creator || !prot->accept || !prot->diag_destroy) {
			ret = -EBUSY;
			goto out;
		}
		lp = kmalloc(sizeof(*lp), GFP_KERNEL);
		if (!lp) {
			ret = -ENOMEM;
			goto out;
		}
		lp->prot = *prot;
		lp->prot.accept = ktls_listen_accept;
		lp->prot.close = ktls_listen_close;
		lp->prot.disconnect = ktls_listen_disconnect;
		lp->prot.diag_destroy = ktls_listen_diag_destroy;
		lp->prot.setsockopt = ktls_listen_setsockopt;
		lp->prot.hash = ktls_listen_hash;
		lp->orig = prot;
		smp_store_release(lpp, lp);
	} else if (lp->orig != prot) {
		ret = -EBUSY;	/* sockmap or another layer owns its proto */
	}
out:
	mutex_unlock(&ktls_lproto_lock);
	return ret;
}

/*
 * ATTACH of a listener that was detached: it still carries the ULP, which
 * cannot come off a socket.  @l takes the place of the old listener state.
 */
static int ktls_listen_rearm(struct sock *sk, struct ktls_listener *l)
{
	struct ktls_listener *old;
	int ret = 0;

	lock_sock(sk);
	old = ktls_listener_of(sk);
	if (!old || !READ_ONCE(old->kl_detached) ||
	    READ_ONCE(sk->sk_prot) != old->kl_orig_prot)
		ret = -EBUSY;
	else if (sk->sk_state != TCP_LISTEN)
		ret = -EINVAL;
	else
		ktls_listen_hook(sk, l, old);
	if (!ret && sk->sk_socket)
		clear_bit(SOCK_SUPPORT_ZC, &sk->sk_socket->flags);
	release_sock(sk);
	if (!ret)
		ktls_listener_put(old);	/* the sock's, now @l's */
	return ret;
}

/**
 * ktls_listen_attach - put a TCP listener in listener mode
 * @net: the caller's network namespace
 * @sock: a listening TCP socket of @net
 * @p: parameters; on success the listener owns them and @p is cleared
 * @id: the new listener's id
 *
 * Return: 0; -EPROTONOSUPPORT not TCP over IPv4/IPv6; -EINVAL not
 * listening, or another namespace; -EBUSY attached already (or detached
 * and not yet closed), or another layer owns the socket; -ENOSPC the
 * namespace's limit of listeners; -ESHUTDOWN unloading; -ENOMEM.
 */
int ktls_listen_attach(struct net *net, struct socket *sock,
		       struct ktls_listen_params *p, u32 *id)
{
	char ulp[] = KTLS_LISTEN_ULP;
	struct ktls_listen_net *ln = ktls_listen_net(net);
	const struct tcp_ulp_ops *ulp_ops;
	struct sock *sk = sock->sk;
	struct ktls_listener *l;
	int ret;

	if (!sk || sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return -EPROTONOSUPPORT;
	if (!net_eq(sock_net(sk), net))
		return -EINVAL;
	ulp_ops = READ_ONCE(inet_csk(sk)->icsk_ulp_ops);
	if (ulp_ops && ulp_ops != &ktls_listen_ulp)
		return -EBUSY;
	ret = ktls_lproto_prepare(sk);
	if (ret)
		return ret;

	l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (!l)
		return -ENOMEM;
	kref_init(&l->kl_ref);		/* the table's */
	INIT_DELAYED_WORK(&l->kl_drain, ktls_listen_drain);
	mutex_init(&l->kl_accept_lock);
	spin_lock_init(&l->kl_lock);
	l->kl_raw_tail = &l->kl_raw;
	INIT_LIST_HEAD(&l->kl_hello);
	INIT_LIST_HEAD(&l->kl_queued);
	INIT_LIST_HEAD(&l->kl_ready);
	l->kl_net = net;
	l->kl_sk = sk;
	l->kl_cred = get_cred(sock->file->f_cred);
	l->kl_pid = get_pid(task_tgid(current));
	l->kl_family = sk->sk_family;
	l->kl_sock_ops = sock->ops;
	l->kl_ino = SOCK_INODE(sock)->i_ino;
	/*
	 * Setting a ULP clears SOCK_SUPPORT_ZC, which accept() copies to each
	 * new socket (io_uring's zero-copy send needs it): right for the TLS
	 * sockets accepted while attached, wrong for the plain ones after a
	 * DETACH, which gives it back.
	 */
	l->kl_zc = test_bit(SOCK_SUPPORT_ZC, &sock->flags);

	xa_lock_bh(&ln->ln_listeners);
	if (ln->ln_count >= READ_ONCE(ktls_listen_max_per_net))
		ret = -ENOSPC;
	else
		ln->ln_count++;
	xa_unlock_bh(&ln->ln_listeners);
	if (ret)
		goto err_free;
	/* reserve the id; the listener shows only once attached */
	ret = xa_alloc_cyclic_bh(&ln->ln_listeners, &l->kl_id, NULL,
			      XA_LIMIT(1, INT_MAX), &ln->ln_next_id,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_count;

	/* the drain may run as soon as the ULP is live */
	l->kl_params = *p;
	memset(p, 0, sizeof(*p));
	if (ulp_ops) {
		ret = ktls_listen_rearm(sk, l);
	} else {
		mutex_lock(&ktls_attach_lock);
		WRITE_ONCE(ktls_attaching, l);
		ret = sock->ops->setsockopt(sock, SOL_TCP, TCP_ULP,
					    KERNEL_SOCKPTR(ulp), sizeof(ulp) - 1);
		WRITE_ONCE(ktls_attaching, NULL);
		mutex_unlock(&ktls_attach_lock);
	}
	if (ret) {
		/* EEXIST: another ULP; ENOENT: ours is going away */
		ret = ret == -EEXIST ? -EBUSY : ret == -ENOENT ? -ESHUTDOWN : ret;
		xa_erase_bh(&ln->ln_listeners, l->kl_id);
		goto err_count;
	}
	xa_store_bh(&ln->ln_listeners, l->kl_id, l, GFP_KERNEL);
	*id = l->kl_id;
	ktls_listen_kick_drain(l, 0);	/* connections may be queued already */
	return 0;

err_count:
	xa_lock_bh(&ln->ln_listeners);
	ln->ln_count--;
	xa_unlock_bh(&ln->ln_listeners);
err_free:
	l->kl_id = 0;
	ktls_listener_put(l);
	return ret;
}

/*
 * The attached listener of @net with @sock or, without @sock, @id, with a
 * reference on it and on its sock (*@skp).
 */
static struct ktls_listener *ktls_listen_find(struct net *net, struct socket *sock,
					      u32 id, struct sock **skp)
{
	struct ktls_listen_net *ln = ktls_listen_net(net);
	struct ktls_listener *l;

	if (sock) {
		if (!sock->sk || sock->sk->sk_protocol != IPPROTO_TCP ||
		    (sock->sk->sk_family != AF_INET && sock->sk->sk_family != AF_INET6))
			return NULL;
		id = 0;
		l = ktls_listener_of(sock->sk);
		if (l)
			id = READ_ONCE(l->kl_id);
		if (!id)
			return NULL;
	}
	/* In the table, the listener's sock has not been closed yet. */
	xa_lock_bh(&ln->ln_listeners);
	l = xa_load(&ln->ln_listeners, id);
	if (l && (!sock || l->kl_sk == sock->sk) &&
	    refcount_inc_not_zero(&l->kl_sk->sk_refcnt)) {
		kref_get(&l->kl_ref);
		*skp = l->kl_sk;
	} else {
		l = NULL;
	}
	xa_unlock_bh(&ln->ln_listeners);
	return l;
}

/**
 * ktls_listen_detach - end listener mode on a listener
 * @net: the caller's network namespace
 * @sock: the listening socket, or NULL to go by @id
 * @id: the listener's id (when @sock is NULL)
 *
 * The connections the module holds for it are closed; the listener then
 * serves plain connections.
 *
 * Return: 0, or -ENOENT if no such listener is attached in @net.
 */
int ktls_listen_detach(struct net *net, struct socket *sock, u32 id)
{
	struct ktls_listener *l;
	struct sock *sk;
	int ret = -ENOENT;

	l = ktls_listen_find(net, sock, id, &sk);
	if (!l)
		return -ENOENT;
	if (ktls_listen_unpublish(l)) {
		ktls_listener_stop(l, true, true);
		lock_sock(sk);
		if (ktls_listener_of(sk) == l) {
			ktls_listen_unhook(sk, l);
			if (l->kl_zc && sk->sk_socket)
				set_bit(SOCK_SUPPORT_ZC, &sk->sk_socket->flags);
		}
		release_sock(sk);
		ret = 0;
	}
	sock_put(sk);
	ktls_listener_put(l);
	return ret;
}

/**
 * ktls_listen_info - describe the next attached listener of a namespace
 * @net: the namespace
 * @pos: the lowest id to report; on success, the id after the one reported
 * @info: receives the description; the caller puts @info->pid
 *
 * Return: 0, or -ENOENT when there is no more.
 */
int ktls_listen_info(struct net *net, u32 *pos, struct ktls_listener_info *info)
{
	struct ktls_listen_net *ln = ktls_listen_net(net);
	unsigned long idx = *pos;
	struct ktls_listener *l;

	xa_lock_bh(&ln->ln_listeners);
	l = xa_find(&ln->ln_listeners, &idx, UINT_MAX, XA_PRESENT);
	if (!l) {
		xa_unlock_bh(&ln->ln_listeners);
		return -ENOENT;
	}
	memset(info, 0, sizeof(*info));
	info->id = idx;
	info->family = l->kl_family;
	info->port = l->kl_port;
	memcpy(info->addr, &l->kl_addr, l->kl_family == AF_INET6 ? 16 : 4);
	info->ino = l->kl_ino;
	info->pid = get_pid(l->kl_pid);
	info->uid = l->kl_cred->euid;
	strscpy(info->profile, l->kl_params.profile ?: "", sizeof(info->profile));
	strscpy(info->alpn, l->kl_params.alpn ?: "", sizeof(info->alpn));
	info->max_inflight = l->kl_params.max_inflight;
	info->timeout_ms = l->kl_params.timeout_ms;
	spin_lock_bh(&l->kl_lock);
	info->inflight = l->kl_inflight + l->kl_nqueued;
	info->nready = l->kl_nready;
	info->stats = l->kl_stats;
	spin_unlock_bh(&l->kl_lock);
	xa_unlock_bh(&ln->ln_listeners);
	*pos = idx + 1;
	return 0;
}

/**
 * ktls_listen_kick - an agent appeared in @net: drain its listeners
 * @net: the namespace
 */
void ktls_listen_kick(struct net *net)
{
	struct ktls_listen_net *ln = ktls_listen_net(net);
	struct ktls_listener *l;
	unsigned long idx;

	xa_lock_bh(&ln->ln_listeners);
	xa_for_each(&ln->ln_listeners, idx, l)
		ktls_listen_kick_drain(l, 0);
	xa_unlock_bh(&ln->ln_listeners);
}

static int __net_init ktls_listen_net_init(struct net *net)
{
	struct ktls_listen_net *ln = ktls_listen_net(net);

	/* (a listener turned client by shutdown()+connect() may be
	 * destroyed in softirq, where its release unpublishes it) */
	xa_init_flags(&ln->ln_listeners, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);
	return 0;
}

static void __net_exit ktls_listen_net_exit(struct net *net)
{
	struct ktls_listen_net *ln = ktls_listen_net(net);

	/* Every listener's socket pinned the namespace. */
	WARN_ON_ONCE(!xa_empty(&ln->ln_listeners));
	xa_destroy(&ln->ln_listeners);
}

static struct pernet_operations ktls_listen_net_ops = {
	.init	= ktls_listen_net_init,
	.exit	= ktls_listen_net_exit,
	.id	= &ktls_listen_net_id,
	.size	= sizeof(struct ktls_listen_net),
};

/**
 * ktls_listen_init - set up listener mode
 *
 * Return: 0 or a negative errno.
 */
int __init ktls_listen_init(void)
{
	int ret;

	ktls_listen_wq = alloc_workqueue("ktls_listen", WQ_UNBOUND, 0);
	if (!ktls_listen_wq)
		return -ENOMEM;
	ret = register_pernet_subsys(&ktls_listen_net_ops);
	if (ret)
		goto err_wq;
	ret = tcp_register_ulp(&ktls_listen_ulp);
	if (ret)
		goto err_pernet;
	return 0;

err_pernet:
	unregister_pernet_subsys(&ktls_listen_net_ops);
err_wq:
	destroy_workqueue(ktls_listen_wq);
	return ret;
}

/**
 * ktls_listen_shutdown - stop taking listeners (module unload)
 *
 * Nothing can be attached here: every attached listener, and every
 * connection made through one, holds the module.
 */
void ktls_listen_shutdown(void)
{
	tcp_unregister_ulp(&ktls_listen_ulp);
}

/**
 * ktls_listen_uninit - free what listener mode set up
 */
void ktls_listen_uninit(void)
{
	struct ktls_lproto *lp;
	int i;

	unregister_pernet_subsys(&ktls_listen_net_ops);
	destroy_workqueue(ktls_listen_wq);
	rcu_barrier();		/* ktls_listener_free_rcu() */
	ktls_graft_uninit();
	/* Only request socks can still point at a listener proto: give them
	 * TCP's functions, and leave the memory (see ktls_lprotos). */
	for (i = 0; i < ARRAY_SIZE(ktls_lprotos); i++) {
		lp = ktls_lprotos[i];
		if (!lp)
			continue;
		WRITE_ONCE(lp->prot.accept, lp->orig->accept);
		WRITE_ONCE(lp->prot.close, lp->orig->close);
		WRITE_ONCE(lp->prot.disconnect, lp->orig->disconnect);
		WRITE_ONCE(lp->prot.diag_destroy, lp->orig->diag_destroy);
		WRITE_ONCE(lp->prot.setsockopt, lp->orig->setsockopt);
		WRITE_ONCE(lp->prot.hash, lp->orig->hash);
		kmemleak_not_leak(lp);
		ktls_lprotos[i] = NULL;
	}
}
