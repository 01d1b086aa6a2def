// SPDX-License-Identifier: GPL-2.0
/*
 * Listener mode: accept() on an attached TCP listener returns only
 * connections whose TLS handshake an agent has finished, with kernel TLS
 * installed.
 *
 * ATTACH gives the listening socket a private copy of its proto_ops with
 * accept, poll and release wrapped, and hooks a non-exclusive entry onto
 * the listener's wait queue.  When a connection reaches the accept queue
 * the kernel wakes that queue; the entry schedules the listener's drain
 * work, which accepts from the real queue (the original ops' accept,
 * non-blocking) into a socket and file of the module's own and submits a
 * server-role request, exactly as a SUBMIT would.  Established
 * connections go on the listener's ready list; the wrapped accept() takes
 * one from there and grafts its sock onto the socket the caller's
 * accept() made, with the kTLS proto_ops the socket carries by then; the
 * wrapped poll reports the listener readable only while the ready list is
 * not empty.  A failed handshake is closed by the module.
 *
 * Handshakes in flight plus connections ready are bounded per listener;
 * over the bound the drain stops and new connections wait in the kernel's
 * accept queue (the listen() backlog).
 *
 * DETACH, the listener's close (the wrapped release) and module unload
 * restore the original ops, close the connections the module holds (in
 * flight or ready), and wake blocked accept() calls, which then fail with
 * ECONNABORTED.  A thread already blocked inside the original accept() at
 * ATTACH time is not seen: it may still receive one connection without TLS.
 *
 * The agent must close its copy of a listener connection before it sends
 * DONE: a sock is only moved to the application's socket while the
 * module's reference is the last one (else the connection is closed).
 */

#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/in6.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include <linux/ktls_offload.h>

#include "compat.h"
#include "listen.h"
#include "request.h"

unsigned int ktls_listen_max_inflight = 128;

#define KTLS_WRAP_SLOTS		4
#define KTLS_DRAIN_BATCH	64

/* Wrapped copies of the proto_ops of attached listeners, one per original. */
static struct ktls_wrap {
	const struct proto_ops *orig;
	struct proto_ops ops;
} ktls_wraps[KTLS_WRAP_SLOTS];

static DEFINE_MUTEX(ktls_listen_lock);	/* ktls_wraps, ktls_listeners, ids */
static LIST_HEAD(ktls_listeners);
static DEFINE_HASHTABLE(ktls_listen_hash, 6);	/* by struct sock, RCU */
static u32 ktls_listen_next_id;
static bool ktls_listen_unloading;
static struct workqueue_struct *ktls_listen_wq;
/* Calls inside the wrapped ops; unload waits for none. */
static atomic_t ktls_listen_calls = ATOMIC_INIT(0);

static void ktls_call_enter(void)
{
	atomic_inc(&ktls_listen_calls);
}

static void ktls_call_exit(void)
{
	if (atomic_dec_and_test(&ktls_listen_calls))
		wake_up_var(&ktls_listen_calls);
}

static const struct proto_ops *ktls_unwrap(const struct proto_ops *ops)
{
	int i;

	for (i = 0; i < KTLS_WRAP_SLOTS; i++)
		if (ops == &ktls_wraps[i].ops)
			return READ_ONCE(ktls_wraps[i].orig);
	return ops;
}

static void ktls_listener_free(struct kref *ref)
{
	struct ktls_listener *l = container_of(ref, struct ktls_listener, kl_ref);

	ktls_listen_params_release(&l->kl_params);
	put_pid(l->kl_pid);
	kfree_rcu(l, kl_rcu);
}

static void ktls_listener_put(struct ktls_listener *l)
{
	kref_put(&l->kl_ref, ktls_listener_free);
}

/* The listener attached to @sk, with a reference, or NULL. */
static struct ktls_listener *ktls_listener_lookup(const struct sock *sk)
{
	struct ktls_listener *l, *found = NULL;

	rcu_read_lock();
	hash_for_each_possible_rcu(ktls_listen_hash, l, kl_hnode, (unsigned long)sk) {
		if (l->kl_sk == sk && kref_get_unless_zero(&l->kl_ref)) {
			found = l;
			break;
		}
	}
	rcu_read_unlock();
	return found;
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

/* Queues the drain unless detached.  kl_lock held. */
static void ktls_listen_queue_drain_locked(struct ktls_listener *l)
{
	if (!l->kl_detached)
		queue_work(ktls_listen_wq, &l->kl_drain);
}

static void ktls_listen_queue_drain(struct ktls_listener *l)
{
	spin_lock_bh(&l->kl_lock);
	ktls_listen_queue_drain_locked(l);
	spin_unlock_bh(&l->kl_lock);
}

/* Wakes accept() and poll() of the listener: a connection is ready. */
static void ktls_listen_wake_app(struct ktls_listener *l)
{
	struct sock *sk = l->kl_sk;
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_sync_poll(&wq->wait, EPOLLIN | EPOLLRDNORM);
	sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	rcu_read_unlock();
}

/*
 * On the listener's wait queue: called (softirq, wait queue lock held)
 * when the kernel wakes the listener's readers, i.e. when a connection
 * reached the accept queue.  Our own wakeup of the application carries
 * exactly EPOLLIN | EPOLLRDNORM and is ignored.
 */
static int ktls_listen_wake(struct wait_queue_entry *wait, unsigned int mode,
			    int sync, void *key)
{
	struct ktls_listener *l = container_of(wait, struct ktls_listener, kl_wait);
	__poll_t events = key_to_poll(key);

	if (key && (!(events & EPOLLIN) || events == (EPOLLIN | EPOLLRDNORM)))
		return 0;
	if (!READ_ONCE(l->kl_detached))
		queue_work(ktls_listen_wq, &l->kl_drain);
	return 0;
}

/* One connection from the real accept queue, without waiting. */
static int ktls_listen_accept_one(struct ktls_listener *l, struct socket **res)
{
	const struct proto_ops *ops = l->kl_orig_ops;
	struct socket *lsock = l->kl_sock;
	struct socket *sock;
	int ret;

	ret = sock_create_lite(l->kl_sk->sk_family, lsock->type,
			       l->kl_sk->sk_protocol, &sock);
	if (ret)
		return ret;
	sock->ops = ops;
	__module_get(ops->owner);
	ret = ktls_orig_accept_nonblock(ops, lsock, sock);
	if (ret < 0) {
		sock_release(sock);
		return ret;
	}
	*res = sock;
	return 0;
}

static void ktls_listen_undo_inflight(struct ktls_listener *l, bool refused)
{
	spin_lock_bh(&l->kl_lock);
	l->kl_inflight--;
	if (refused)
		l->kl_stats.refused++;
	spin_unlock_bh(&l->kl_lock);
}

/* Hands the next connection of the accept queue to the agents: 0, or
 * a negative errno when draining should stop for now. */
static int ktls_listen_submit_one(struct ktls_listener *l)
{
	struct ktls_submit p = {};
	struct ktls_lconn *lc;
	struct socket *sock;
	struct file *file;
	u32 id;
	int ret;

	spin_lock_bh(&l->kl_lock);
	if (l->kl_detached ||
	    l->kl_inflight + l->kl_nready >= l->kl_params.max_inflight) {
		spin_unlock_bh(&l->kl_lock);
		return -EAGAIN;
	}
	l->kl_inflight++;
	spin_unlock_bh(&l->kl_lock);

	ret = ktls_listen_accept_one(l, &sock);
	if (ret) {
		ktls_listen_undo_inflight(l, false);
		return ret;
	}
	lc = kzalloc(sizeof(*lc), GFP_KERNEL);
	if (!lc) {
		sock_release(sock);
		ktls_listen_undo_inflight(l, true);
		return -ENOMEM;
	}
	file = sock_alloc_file(sock, 0, NULL);	/* releases sock on error */
	if (IS_ERR(file)) {
		kfree(lc);
		ktls_listen_undo_inflight(l, true);
		return PTR_ERR(file);
	}
	kref_get(&l->kl_ref);
	lc->lc_listener = l;

	p.sock = sock;			/* its file's only reference */
	p.role = KTLS_OFFLOAD_ROLE_SERVER;
	p.timeout_ms = l->kl_params.timeout_ms;
	p.profile = kstrdup(l->kl_params.profile, GFP_KERNEL);
	p.alpn = kstrdup(l->kl_params.alpn, GFP_KERNEL);
	p.lconn = lc;
	p.owner_pid = get_pid(l->kl_pid);
	p.owner_uid = l->kl_uid;
	p.owner_gid = l->kl_gid;
	if ((l->kl_params.profile && !p.profile) || (l->kl_params.alpn && !p.alpn))
		ret = -ENOMEM;
	else
		ret = ktls_req_submit(l->kl_net, NULL, 0, &p, &id);
	if (ret) {
		/* Closes the connection: it is counted, not silently lost. */
		lc = p.lconn;
		p.lconn = NULL;
		ktls_submit_release(&p);
		ktls_lconn_free(lc);
		ktls_listen_undo_inflight(l, true);
		return ret == -ESHUTDOWN ? ret : 0;
	}
	spin_lock_bh(&l->kl_lock);
	l->kl_stats.handshakes++;
	spin_unlock_bh(&l->kl_lock);
	return 0;
}

static void ktls_listen_drain(struct work_struct *work)
{
	struct ktls_listener *l = container_of(work, struct ktls_listener, kl_drain);
	int i;

	/* Without an agent, connections wait in the accept queue; the
	 * first ACCEPT of an agent kicks every listener. */
	if (!ktls_net_has_agent(l->kl_net))
		return;
	for (i = 0; i < KTLS_DRAIN_BATCH; i++)
		if (ktls_listen_submit_one(l))
			return;
	ktls_listen_queue_drain(l);	/* more may wait; let others run */
}

/**
 * ktls_listen_conn_end - a listener connection's handshake ended
 * @lc: the connection; consumed
 * @file: its socket file, with the request's reference; consumed
 * @status: 0 or a positive errno
 *
 * Called exactly once per connection, without the broker's locks held;
 * ktls_req_end_listener() returns only after it has returned.
 */
void ktls_listen_conn_end(struct ktls_lconn *lc, struct file *file, u32 status)
{
	struct ktls_listener *l = lc->lc_listener;
	bool ready = false;

	spin_lock_bh(&l->kl_lock);
	l->kl_inflight--;
	if (status || file_count(file) != 1) {
		/* failed, or the agent kept a descriptor of it */
		l->kl_stats.failed++;
	} else if (l->kl_detached) {
		l->kl_stats.dropped++;
	} else {
		lc->lc_file = file;
		list_add_tail(&lc->lc_node, &l->kl_ready);
		l->kl_nready++;
		l->kl_stats.established++;
		ready = true;
	}
	ktls_listen_queue_drain_locked(l);
	spin_unlock_bh(&l->kl_lock);

	if (ready) {
		ktls_listen_wake_app(l);
		return;
	}
	fput(file);
	ktls_lconn_free(lc);
}

/* Takes a ready connection, waiting as accept() would. */
static int ktls_listen_take(struct ktls_listener *l, bool nonblock,
			    struct ktls_lconn **res)
{
	struct sock *sk = l->kl_sk;
	long timeo = sock_rcvtimeo(sk, nonblock);
	struct ktls_lconn *lc;
	bool detached;
	DEFINE_WAIT(wait);
	int ret = 0;

	for (;;) {
		prepare_to_wait_exclusive(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
		spin_lock_bh(&l->kl_lock);
		lc = list_first_entry_or_null(&l->kl_ready, struct ktls_lconn, lc_node);
		if (lc) {
			list_del(&lc->lc_node);
			l->kl_nready--;
			l->kl_stats.delivered++;
			ktls_listen_queue_drain_locked(l);	/* room again */
		}
		detached = l->kl_detached;
		spin_unlock_bh(&l->kl_lock);
		if (lc)
			break;
		if (detached) {
			ret = -ECONNABORTED;
			break;
		}
		if (!timeo) {
			ret = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			ret = sock_intr_errno(timeo);
			break;
		}
		timeo = schedule_timeout(timeo);
	}
	finish_wait(sk_sleep(sk), &wait);
	*res = lc;
	return ret;
}

/*
 * Moves an established connection's sock from the module's socket to
 * @newsock, the one the caller's accept() made, with the socket ops kTLS
 * gave it.  The module's socket is then released empty.
 */
static void ktls_listen_graft(struct ktls_lconn *lc, struct socket *newsock)
{
	struct file *file = lc->lc_file;
	struct socket *isock = sock_from_file(file);
	struct sock *sk = isock->sk;
	const struct proto_ops *ops = READ_ONCE(isock->ops);
	struct module *old_owner = newsock->ops->owner;

	lock_sock(sk);
	if (ops->owner != old_owner) {
		__module_get(ops->owner);
		module_put(old_owner);
	}
	WRITE_ONCE(newsock->ops, ops);
	isock->sk = NULL;
	sock_graft(sk, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(sk);

	fput(file);
	ktls_lconn_free(lc);
}

static int ktls_listen_accept(struct socket *sock, struct socket *newsock,
			      KTLS_ACCEPT_ARGS)
{
	const struct proto_ops *orig = ktls_unwrap(READ_ONCE(sock->ops));
	struct ktls_listener *l;
	struct ktls_lconn *lc;
	int ret;

	ktls_call_enter();
	l = ktls_listener_lookup(sock->sk);
	if (!l) {
		/* detached meanwhile */
		ret = READ_ONCE(ktls_listen_unloading) ? -ECONNABORTED :
			orig->accept(sock, newsock, KTLS_ACCEPT_PASS);
		goto out;
	}
	ret = ktls_listen_take(l, KTLS_ACCEPT_NONBLOCK, &lc);
	if (!ret)
		ktls_listen_graft(lc, newsock);
	ktls_listener_put(l);
out:
	ktls_call_exit();
	return ret;
}

static __poll_t ktls_listen_poll(struct file *file, struct socket *sock,
				 struct poll_table_struct *wait)
{
	const struct proto_ops *orig = ktls_unwrap(READ_ONCE(sock->ops));
	struct ktls_listener *l;
	__poll_t mask;

	ktls_call_enter();
	mask = orig->poll(file, sock, wait);
	l = ktls_listener_lookup(sock->sk);
	if (l) {
		if (!READ_ONCE(l->kl_detached) &&
		    READ_ONCE(sock->sk->sk_state) == TCP_LISTEN) {
			mask &= ~(EPOLLIN | EPOLLRDNORM);
			if (READ_ONCE(l->kl_nready))
				mask |= EPOLLIN | EPOLLRDNORM;
		}
		ktls_listener_put(l);
	}
	ktls_call_exit();
	return mask;
}

static void ktls_listener_detach(struct ktls_listener *l);

/* Also the release of a socket whose accept() on a listener failed:
 * it never got a sock. */
static int ktls_listen_release(struct socket *sock)
{
	const struct proto_ops *orig = ktls_unwrap(READ_ONCE(sock->ops));
	struct ktls_listener *l;
	int ret;

	ktls_call_enter();
	l = sock->sk ? ktls_listener_lookup(sock->sk) : NULL;
	if (l) {
		ktls_listener_detach(l);
		ktls_listener_put(l);
	}
	ret = orig->release(sock);
	ktls_call_exit();
	return ret;
}

/* The wrapped copy of @orig, made on first use.  ktls_listen_lock held. */
static const struct proto_ops *ktls_wrap_get(const struct proto_ops *orig)
{
	struct ktls_wrap *w;
	int i;

	lockdep_assert_held(&ktls_listen_lock);
	for (i = 0; i < KTLS_WRAP_SLOTS; i++) {
		w = &ktls_wraps[i];
		if (w->orig == orig)
			return &w->ops;
		if (w->orig)
			continue;
		w->ops = *orig;
		w->ops.accept = ktls_listen_accept;
		w->ops.poll = ktls_listen_poll;
		w->ops.release = ktls_listen_release;
		smp_store_release(&w->orig, orig);
		return &w->ops;
	}
	return NULL;
}

/*
 * Ends the attachment: restores the socket, closes what the module holds.
 * The listener stays findable until the end, so that a concurrent release
 * waits here rather than freeing the socket under us.
 */
static void ktls_listener_detach(struct ktls_listener *l)
{
	struct socket *sock = l->kl_sock;
	struct sock *sk = l->kl_sk;
	struct ktls_lconn *lc, *tmp;
	LIST_HEAD(ready);

	mutex_lock(&l->kl_detach_lock);
	spin_lock_bh(&l->kl_lock);
	if (l->kl_detached) {
		spin_unlock_bh(&l->kl_lock);
		mutex_unlock(&l->kl_detach_lock);
		return;
	}
	l->kl_detached = true;
	list_splice_init(&l->kl_ready, &ready);
	l->kl_stats.dropped += l->kl_nready;
	l->kl_nready = 0;
	spin_unlock_bh(&l->kl_lock);

	WRITE_ONCE(sock->ops, l->kl_orig_ops);
	remove_wait_queue(sk_sleep(sk), &l->kl_wait);
	cancel_work_sync(&l->kl_drain);
	ktls_req_end_listener(l->kl_net, l);
	list_for_each_entry_safe(lc, tmp, &ready, lc_node) {
		fput(lc->lc_file);
		ktls_lconn_free(lc);
	}
	/* Blocked accept() calls return; pollers look again, with the
	 * original ops, at the accept queue. */
	wake_up_interruptible_all(sk_sleep(sk));

	mutex_lock(&ktls_listen_lock);
	hash_del_rcu(&l->kl_hnode);
	list_del_init(&l->kl_node);
	mutex_unlock(&ktls_listen_lock);
	mutex_unlock(&l->kl_detach_lock);
	ktls_listener_put(l);		/* the attachment's reference */
}

/**
 * ktls_listen_attach - put a TCP listener in listener mode
 * @net: the caller's network namespace
 * @sock: a listening TCP socket of @net
 * @p: parameters; on success the listener owns them and @p is cleared
 * @id: the new listener's id
 *
 * Return: 0; -EPROTONOSUPPORT not TCP over IPv4/IPv6; -EINVAL not
 * listening, or another namespace; -EBUSY attached already, or its
 * socket ops are not ones we can wrap; -ESHUTDOWN unloading; -ENOMEM.
 */
int ktls_listen_attach(struct net *net, struct socket *sock,
		       struct ktls_listen_params *p, u32 *id)
{
	struct sock *sk = sock->sk;
	const struct proto_ops *wrapped;
	struct ktls_listener *l, *old;
	int ret;

	if (!sk || sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return -EPROTONOSUPPORT;
	if (!net_eq(sock_net(sk), net))
		return -EINVAL;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return -ENOMEM;
	kref_init(&l->kl_ref);
	INIT_LIST_HEAD(&l->kl_node);
	INIT_LIST_HEAD(&l->kl_ready);
	INIT_WORK(&l->kl_drain, ktls_listen_drain);
	init_waitqueue_func_entry(&l->kl_wait, ktls_listen_wake);
	mutex_init(&l->kl_detach_lock);
	spin_lock_init(&l->kl_lock);
	l->kl_net = net;
	l->kl_sock = sock;
	l->kl_sk = sk;
	l->kl_pid = get_pid(task_tgid(current));
	l->kl_uid = current_euid();
	l->kl_gid = current_egid();
	l->kl_family = sk->sk_family;
	l->kl_ino = SOCK_INODE(sock)->i_ino;

	mutex_lock(&ktls_listen_lock);
	lock_sock(sk);
	if (READ_ONCE(ktls_listen_unloading))
		ret = -ESHUTDOWN;
	else if (sk->sk_state != TCP_LISTEN)
		ret = -EINVAL;
	else if ((old = ktls_listener_lookup(sk))) {
		ktls_listener_put(old);
		ret = -EBUSY;
	} else if (!(wrapped = ktls_wrap_get(READ_ONCE(sock->ops))))
		ret = -EBUSY;
	else
		ret = 0;
	if (ret) {
		release_sock(sk);
		mutex_unlock(&ktls_listen_lock);
		put_pid(l->kl_pid);
		kfree(l);
		return ret;
	}
	l->kl_port = inet_sk(sk)->inet_num;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		l->kl_addr.v6 = sk->sk_v6_rcv_saddr;
	else
#endif
		l->kl_addr.v4 = inet_sk(sk)->inet_rcv_saddr;
	l->kl_params = *p;
	memset(p, 0, sizeof(*p));
	l->kl_orig_ops = READ_ONCE(sock->ops);
	l->kl_id = ++ktls_listen_next_id ?: ++ktls_listen_next_id;
	*id = l->kl_id;
	hash_add_rcu(ktls_listen_hash, &l->kl_hnode, (unsigned long)sk);
	list_add_tail(&l->kl_node, &ktls_listeners);
	add_wait_queue(sk_sleep(sk), &l->kl_wait);
	WRITE_ONCE(sock->ops, wrapped);
	release_sock(sk);
	mutex_unlock(&ktls_listen_lock);

	/* Connections may be queued already. */
	ktls_listen_queue_drain(l);
	return 0;
}

/* The attached listener of @net with @sock or, without @sock, @id. */
static struct ktls_listener *ktls_listen_find(struct net *net,
					      struct socket *sock, u32 id)
{
	struct ktls_listener *l;

	if (sock) {
		l = ktls_listener_lookup(sock->sk);
		if (l && !net_eq(l->kl_net, net)) {
			ktls_listener_put(l);
			l = NULL;
		}
		return l;
	}
	mutex_lock(&ktls_listen_lock);
	list_for_each_entry(l, &ktls_listeners, kl_node) {
		if (l->kl_id == id && net_eq(l->kl_net, net)) {
			kref_get(&l->kl_ref);
			mutex_unlock(&ktls_listen_lock);
			return l;
		}
	}
	mutex_unlock(&ktls_listen_lock);
	return NULL;
}

/**
 * ktls_listen_detach - end listener mode on a listener
 * @net: the caller's network namespace
 * @sock: the listening socket, or NULL to go by @id
 * @id: the listener's id (when @sock is NULL)
 *
 * Return: 0, or -ENOENT if no such listener is attached in @net.
 */
int ktls_listen_detach(struct net *net, struct socket *sock, u32 id)
{
	struct ktls_listener *l = ktls_listen_find(net, sock, id);
	bool was_attached;

	if (!l)
		return -ENOENT;
	spin_lock_bh(&l->kl_lock);
	was_attached = !l->kl_detached;
	spin_unlock_bh(&l->kl_lock);
	ktls_listener_detach(l);
	ktls_listener_put(l);
	return was_attached ? 0 : -ENOENT;
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
	struct ktls_listener *l, *best = NULL;

	mutex_lock(&ktls_listen_lock);
	list_for_each_entry(l, &ktls_listeners, kl_node)
		if (net_eq(l->kl_net, net) && l->kl_id >= *pos &&
		    (!best || l->kl_id < best->kl_id))
			best = l;
	if (!best) {
		mutex_unlock(&ktls_listen_lock);
		return -ENOENT;
	}
	l = best;
	memset(info, 0, sizeof(*info));
	info->id = l->kl_id;
	info->family = l->kl_family;
	info->port = l->kl_port;
	memcpy(info->addr, &l->kl_addr, l->kl_family == AF_INET6 ? 16 : 4);
	info->ino = l->kl_ino;
	info->pid = get_pid(l->kl_pid);
	info->uid = l->kl_uid;
	strscpy(info->profile, l->kl_params.profile ?: "", sizeof(info->profile));
	strscpy(info->alpn, l->kl_params.alpn ?: "", sizeof(info->alpn));
	info->max_inflight = l->kl_params.max_inflight;
	info->timeout_ms = l->kl_params.timeout_ms;
	spin_lock_bh(&l->kl_lock);
	info->inflight = l->kl_inflight;
	info->nready = l->kl_nready;
	info->stats = l->kl_stats;
	spin_unlock_bh(&l->kl_lock);
	mutex_unlock(&ktls_listen_lock);
	*pos = info->id + 1;
	return 0;
}

/**
 * ktls_listen_kick - an agent appeared in @net: drain its listeners
 * @net: the namespace
 */
void ktls_listen_kick(struct net *net)
{
	struct ktls_listener *l;

	mutex_lock(&ktls_listen_lock);
	list_for_each_entry(l, &ktls_listeners, kl_node)
		if (net_eq(l->kl_net, net))
			ktls_listen_queue_drain(l);
	mutex_unlock(&ktls_listen_lock);
}

/**
 * ktls_listen_init - set up listener mode
 *
 * Return: 0 or -ENOMEM.
 */
int __init ktls_listen_init(void)
{
	ktls_listen_wq = alloc_workqueue("ktls_listen", WQ_UNBOUND, 0);
	return ktls_listen_wq ? 0 : -ENOMEM;
}

/**
 * ktls_listen_shutdown - detach every listener and wait for the wrapped ops
 *
 * Called at unload, before requests are shut down.  No listener can be
 * attached afterwards.
 */
void ktls_listen_shutdown(void)
{
	struct ktls_listener *l;

	mutex_lock(&ktls_listen_lock);
	WRITE_ONCE(ktls_listen_unloading, true);
	mutex_unlock(&ktls_listen_lock);
	for (;;) {
		mutex_lock(&ktls_listen_lock);
		l = list_first_entry_or_null(&ktls_listeners, struct ktls_listener,
					     kl_node);
		if (l)
			kref_get(&l->kl_ref);
		mutex_unlock(&ktls_listen_lock);
		if (!l)
			break;
		ktls_listener_detach(l);
		ktls_listener_put(l);
	}
	/* A caller that loaded a wrapped op just before the restore is
	 * inside it, or about to be: wait for the count and a grace period. */
	wait_var_event(&ktls_listen_calls, !atomic_read(&ktls_listen_calls));
	synchronize_rcu();
	wait_var_event(&ktls_listen_calls, !atomic_read(&ktls_listen_calls));
}

/**
 * ktls_listen_uninit - free what listener mode set up
 */
void ktls_listen_uninit(void)
{
	destroy_workqueue(ktls_listen_wq);
	rcu_barrier();
}
