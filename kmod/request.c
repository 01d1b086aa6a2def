// SPDX-License-Identifier: GPL-2.0
/*
 * Request lifetime.  A request is born at SUBMIT (PENDING), taken by an
 * agent at ACCEPT (ACCEPTED) and ends exactly once (COMPLETED): by DONE,
 * its timeout, CANCEL, the loss of its agent or requester, or shutdown.
 * (One file of about 1,100 lines, over the tree's 600: every state change of
 * a request is here, under kn_lock, so that the rules below can be checked
 * in one place.)
 *
 * Ending has two halves.  Under kn_lock the request becomes COMPLETED,
 * leaves every index and its requester is told (a COMPLETE notification,
 * or the result is kept for COLLECT when that cannot be queued).  Then,
 * with no lock held, the ender cancels the timeout, shuts the socket down
 * if the kernel ended a request an agent was working on, and drops the
 * socket reference (a listener's connection goes to ktls_listen_conn_end()).
 * Nothing that takes a socket lock runs under kn_lock, and no netlink
 * handler, timeout or NETLINK_URELEASE waits for one: the shutdown, which
 * takes the lock of a socket its requester may hold for as long as it
 * likes, runs in a work item of its own (kr_end_work on ktls_end_wq, or
 * ktls_lend_wq for a listener's connection).  A
 * requester that stalls its own socket can wedge neither the broker nor
 * genetlink.
 *
 * Who is who: a requester and an agent are netlink sockets, held by the
 * request, not port ids, which a closing socket frees for anyone to bind
 * before NETLINK_URELEASE says so.  CANCEL and COLLECT must come from the
 * submitting socket, DONE from the accepting one, and COMPLETE is only sent
 * while the submitting socket is alive.  What remains: netlink_release()
 * frees the port id a moment before it marks the socket dead
 * (netlink_remove() before sock_orphan()); a COMPLETE sent in exactly that
 * moment goes to whoever bound the port id in it.
 *
 * References: the namespace's id table holds one while the request is live
 * or its result kept, a queued timeout holds one, an ender holds one
 * between the two halves, and every caller that looks a request up outside
 * kn_lock holds one.
 */

#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <net/netns/generic.h>

#include "listen.h"
#include "netlink.h"
#include "request.h"
#include "sock.h"

unsigned int ktls_max_pending = 4096;
unsigned int ktls_max_pending_per_uid = 1024;
unsigned int ktls_default_timeout_ms = 10000;

static unsigned int ktls_net_id __read_mostly;
static struct workqueue_struct *ktls_wq;	/* timeouts */
static struct workqueue_struct *ktls_end_wq;	/* shutdowns */
/*
 * Shutdowns of listener connections, apart: their sockets are the
 * module's, so only an agent could hold their locks, and requesters who
 * stall theirs on ktls_end_wq must not delay a listener's close() or
 * DETACH, which wait for them (ktls_req_end_listener()).
 */
static struct workqueue_struct *ktls_lend_wq;
static LIST_HEAD(ktls_nets);
static DEFINE_MUTEX(ktls_nets_lock);	/* protects ktls_nets */
static bool ktls_shutting_down;

static struct ktls_net *ktls_net(struct net *net)
{
	return net_generic(net, ktls_net_id);
}

#define ktls_bucket(table, key)	(&(table)[hash_min((key), HASH_BITS(table))])

/**
 * ktls_submit_release - free SUBMIT parameters and drop their references
 * @p: parameters not (or no longer) owned by a request; may be empty
 *
 * Drops the socket reference and the owner pid, frees the strings.
 */
void ktls_submit_release(struct ktls_submit *p)
{
	WARN_ON_ONCE(p->lconn);
	if (p->sock)
		sockfd_put(p->sock);
	p->sock = NULL;
	put_pid(p->owner_pid);
	p->owner_pid = NULL;
	kfree(p->profile);
	kfree(p->peername);
	kfree(p->alpn);
	p->profile = p->peername = p->alpn = NULL;
}

/**
 * ktls_result_release - free a result's strings (the identity is wiped)
 * @res: the result; its pointers are cleared
 */
void ktls_result_release(struct ktls_result *res)
{
	kfree(res->alpn);
	kfree_sensitive(res->peer_identity);
	kfree(res->sni);
	kfree(res->reason);
	kfree_sensitive(res->secrets);
	res->alpn = res->peer_identity = res->sni = res->reason = NULL;
	res->secrets = NULL;
}

static void ktls_req_release(struct kref *ref)
{
	struct ktls_req *req = container_of(ref, struct ktls_req, kr_ref);

	WARN_ON_ONCE(req->kr_file || req->kr_req_nlsk || req->kr_agent_nlsk);
	ktls_submit_release(&req->kr_params);
	ktls_result_release(&req->kr_result);
	put_pid(req->kr_pid);
	kfree(req);
}

/**
 * ktls_req_put - drop a reference taken by a lookup
 * @req: the request
 */
void ktls_req_put(struct ktls_req *req)
{
	kref_put(&req->kr_ref, ktls_req_release);
}

/* Drops the reference of a timeout that will not run (or has run). */
static void ktls_req_timer_put(struct ktls_req *req)
{
	struct ktls_net *kn = req->kr_kn;

	ktls_req_put(req);
	if (atomic_dec_and_test(&kn->kn_timers))
		wake_up_var(&kn->kn_timers);
}

/**
 * ktls_req_time_left_ms - milliseconds until the request times out
 * @req: the request
 *
 * Return: 0 once the deadline has passed.
 */
unsigned int ktls_req_time_left_ms(const struct ktls_req *req)
{
	long left = (long)(req->kr_deadline - jiffies);

	return left > 0 ? jiffies_to_msecs(left) : 0;
}

static unsigned long ktls_uid_live(struct ktls_net *kn, kuid_t uid)
{
	void *v = xa_load(&kn->kn_uid_live, from_kuid(&init_user_ns, uid));

	return v ? xa_to_value(v) : 0;
}

static int ktls_uid_get(struct ktls_net *kn, kuid_t uid)
{
	unsigned long idx = from_kuid(&init_user_ns, uid);

	return xa_err(xa_store(&kn->kn_uid_live, idx,
			       xa_mk_value(ktls_uid_live(kn, uid) + 1),
			       GFP_KERNEL_ACCOUNT));
}

static void ktls_uid_put(struct ktls_net *kn, kuid_t uid)
{
	unsigned long idx = from_kuid(&init_user_ns, uid);
	unsigned long n = ktls_uid_live(kn, uid);

	if (WARN_ON_ONCE(!n))
		return;
	if (n == 1)
		xa_erase(&kn->kn_uid_live, idx);
	else	/* the slot exists: nothing to allocate, nothing to fail */
		WARN_ON_ONCE(xa_is_err(xa_store(&kn->kn_uid_live, idx,
						xa_mk_value(n - 1), GFP_ATOMIC)));
}

/* The requester is gone or done with the request.  kn_lock held. */
static void ktls_req_drop_requester(struct ktls_req *req)
{
	if (!req->kr_req_nlsk)
		return;
	hash_del(&req->kr_req_node);
	sock_put(req->kr_req_nlsk);
	req->kr_req_nlsk = NULL;
}

static void ktls_req_drop_agent(struct ktls_req *req)
{
	if (!req->kr_agent_nlsk)
		return;
	hash_del(&req->kr_agent_node);
	sock_put(req->kr_agent_nlsk);
	req->kr_agent_nlsk = NULL;
}

/* Drops a finished request from the id table and the limits.  kn_lock held. */
static void ktls_req_forget(struct ktls_net *kn, struct ktls_req *req)
{
	lockdep_assert_held(&kn->kn_lock);
	if (xa_erase(&kn->kn_reqs, req->kr_id) != req)
		return;
	ktls_req_drop_requester(req);
	kn->kn_nr_live--;
	if (req->kr_uid_counted)
		ktls_uid_put(kn, req->kr_uid);
	ktls_req_put(req);
}

/* Can the requester still be told?  Its socket holds its port id until
 * netlink_release(), which marks it dead just after freeing the id.
 */
static bool ktls_requester_alive(const struct ktls_req *req)
{
	return req->kr_req_nlsk && !sock_flag(req->kr_req_nlsk, SOCK_DEAD);
}

/*
 * The first half of ending a live request with @status: under kn_lock it
 * becomes COMPLETED and its requester is told, or the result is kept for
 * COLLECT when the notification cannot be queued (the requester's socket
 * then reads ENOBUFS).  With @shut the socket is shut down in the second
 * half, ktls_req_end_finish(), for which the request goes on @ended.
 */
static void ktls_req_end(struct ktls_net *kn, struct ktls_req *req, u32 status,
			 bool shut, struct list_head *ended)
{
	struct ktls_lconn *lconn = req->kr_params.lconn;

	lockdep_assert_held(&kn->kn_lock);
	if (WARN_ON_ONCE(req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED))
		return;

	list_del_init(&req->kr_pending);
	if (!lconn)
		hash_del(&req->kr_sock_node);
	ktls_req_drop_agent(req);
	req->kr_result.status = status;
	req->kr_end_shutdown = shut;
	WRITE_ONCE(req->kr_state, KTLS_OFFLOAD_STATE_COMPLETED);

	if (status) {
		kn->kn_stats.failed++;
		if (status < KTLS_ERRNO_MAX)
			kn->kn_stats.by_errno[status]++;
	} else {
		kn->kn_stats.completed++;
	}

	if (lconn) {
		req->kr_end_listener = lconn->lc_listener;
		list_add_tail(&req->kr_ending, &kn->kn_ending);
	}
	kref_get(&req->kr_ref);
	list_add_tail(&req->kr_end_node, ended);

	req->kr_kept = ktls_requester_alive(req) &&
		ktls_nl_notify_complete(req->kr_net, req->kr_req_portid, req->kr_id,
					req->kr_params.cookie, &req->kr_result) < 0;
	if (!req->kr_kept)
		ktls_req_forget(kn, req);
}

/*
 * Hands the socket of an ended request back (shut down first if asked)
 * and drops the ender's reference.  No lock held.
 */
static void ktls_req_hand_back(struct ktls_net *kn, struct ktls_req *req)
{
	struct ktls_lconn *lconn = req->kr_params.lconn;
	struct file *file = req->kr_file;

	req->kr_file = NULL;
	req->kr_params.lconn = NULL;
	/* An agent may still be at work on it: stop it. */
	if (req->kr_end_shutdown && file)
		kernel_sock_shutdown(sock_from_file(file), SHUT_RDWR);
	/*
	 * If this is the last reference (the requester closed its
	 * descriptor; any failed request is dead to it anyway), the close
	 * must not linger: SO_LINGER on a socket whose peer does not read
	 * would keep this task (an agent's DONE, a worker, delayed_fput)
	 * asleep for as long as the requester chose.  An atomic bit
	 * operation: the socket's lock is not ours to wait for (H4).
	 */
	if (file && !lconn && (req->kr_result.status || file_count(file) == 1))
		clear_bit(SOCK_LINGER, &sock_from_file(file)->sk->sk_flags);
	if (lconn) {
		ktls_listen_conn_end(lconn, file, req->kr_result.status,
				     req->kr_result.secrets);
		req->kr_result.secrets = NULL;
		mutex_lock(&kn->kn_lock);
		list_del(&req->kr_ending);
		kn->kn_ending_seq++;
		mutex_unlock(&kn->kn_lock);
		wake_up_all(&kn->kn_end_wq);
	} else if (file) {
		fput(file);
	}
	ktls_req_put(req);
}

/*
 * Each queued kr_end_work holds a module reference: while a shutdown waits
 * for a socket lock, rmmod refuses (EBUSY) rather than hang.  The module's
 * exit still drains ktls_end_wq, so the return after module_put() is safe.
 */
static void ktls_req_end_work(struct work_struct *work)
{
	struct ktls_req *req = container_of(work, struct ktls_req, kr_end_work);
	struct ktls_net *kn = req->kr_kn;

	ktls_req_hand_back(kn, req);
	if (atomic_dec_and_test(&kn->kn_end_works))
		wake_up_var(&kn->kn_end_works);
	module_put(THIS_MODULE);
}

/*
 * The second half, without kn_lock: cancels the timeouts (but that of
 * @running, whose timeout is the caller) and hands each socket back, or
 * with @defer leaves that to kr_end_work where a socket must be shut down
 * (the caller must not wait for a socket lock).  Consumes @ended.
 */
static void ktls_req_end_finish(struct ktls_net *kn, struct list_head *ended,
				struct ktls_req *running, bool defer)
{
	struct ktls_req *req, *tmp;

	lockdep_assert_not_held(&kn->kn_lock);
	list_for_each_entry_safe(req, tmp, ended, kr_end_node) {
		list_del(&req->kr_end_node);
		if (req != running && cancel_delayed_work_sync(&req->kr_timeout))
			ktls_req_timer_put(req);
		/*
		 * try_module_get(): once rmmod is under way nothing may take
		 * a reference that could keep it waiting; the socket is then
		 * handed back without the shutdown, as at unload.
		 */
		if (defer && req->kr_end_shutdown && req->kr_file) {
			if (try_module_get(THIS_MODULE)) {
				atomic_inc(&kn->kn_end_works);
				queue_work(req->kr_params.lconn ? ktls_lend_wq : ktls_end_wq,
					   &req->kr_end_work);
				continue;
			}
			req->kr_end_shutdown = false;
		}
		ktls_req_hand_back(kn, req);
	}
}

static void ktls_req_timeout(struct work_struct *work)
{
	struct ktls_req *req = container_of(to_delayed_work(work),
					    struct ktls_req, kr_timeout);
	struct ktls_net *kn = req->kr_kn;
	LIST_HEAD(ended);

	mutex_lock(&kn->kn_lock);
	if (req->kr_state != KTLS_OFFLOAD_STATE_COMPLETED) {
		kn->kn_stats.timed_out++;
		ktls_req_end(kn, req, ETIMEDOUT,
			     req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED, &ended);
	}
	mutex_unlock(&kn->kn_lock);
	ktls_req_end_finish(kn, &ended, req, true);
	ktls_req_timer_put(req);
}

static bool ktls_sock_in_use(struct ktls_net *kn, const struct sock *sk)
{
	struct ktls_req *req;

	hlist_for_each_entry(req, ktls_bucket(kn->kn_socks, (unsigned long)sk),
			     kr_sock_node)
		if (req->kr_sk == sk)
			return true;
	return false;
}

/**
 * ktls_req_submit - queue a socket for an agent's handshake
 * @net: the requester's network namespace
 * @nlsk: the requester's netlink socket, where the result goes; NULL for a
 *	listener's connection (@p->lconn), whose end goes to the listener
 * @portid: @nlsk's port id (0 with @p->lconn)
 * @p: parameters; on success the request owns them and @p is cleared
 * @id: the new request's id
 *
 * The socket has passed ktls_sock_check_submit(), or is a listener's new
 * connection.  A request on behalf of a listener (@p->lconn) carries
 * @p->owner_pid, _uid and _gid and does not count against the owner's
 * max_pending_per_uid; any other carries the calling task's.  Multicasts
 * READY if no READY is outstanding.  The request ends exactly once; with
 * @p->lconn, ktls_listen_conn_end() is then called exactly once, without
 * locks held.
 *
 * Return: 0, or -ESHUTDOWN (module unloading), -EBUSY (a request for the
 * socket is live), -ENOBUFS (namespace limit), -EAGAIN (per-uid limit),
 * -ENOMEM.
 */
int ktls_req_submit(struct net *net, struct sock *nlsk, u32 portid,
		    struct ktls_submit *p, u32 *id)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	bool ready = false;
	int ret;

	req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	if (!req)
		return -ENOMEM;
	kref_init(&req->kr_ref);
	req->kr_kn = kn;
	req->kr_net = net;
	req->kr_state = KTLS_OFFLOAD_STATE_PENDING;
	INIT_LIST_HEAD(&req->kr_pending);
	INIT_LIST_HEAD(&req->kr_ending);
	INIT_DELAYED_WORK(&req->kr_timeout, ktls_req_timeout);
	INIT_WORK(&req->kr_end_work, ktls_req_end_work);
	req->kr_sk = p->sock->sk;
	if (p->lconn) {
		req->kr_uid = p->owner_uid;
		req->kr_gid = p->owner_gid;
	} else {
		req->kr_uid = current_euid();
		req->kr_gid = current_egid();
		req->kr_uid_counted = true;
	}

	mutex_lock(&kn->kn_lock);
	if (READ_ONCE(ktls_shutting_down))
		ret = -ESHUTDOWN;
	else if (!p->lconn && ktls_sock_in_use(kn, req->kr_sk))
		ret = -EBUSY;
	/* (a listener's connections are bounded per listener instead, so
	 * that local requesters cannot starve attached listeners) */
	else if (!p->lconn && kn->kn_nr_live >= READ_ONCE(ktls_max_pending))
		ret = -ENOBUFS;
	else if (req->kr_uid_counted &&
		 ktls_uid_live(kn, req->kr_uid) >= READ_ONCE(ktls_max_pending_per_uid))
		ret = -EAGAIN;
	else
		ret = xa_alloc_cyclic(&kn->kn_reqs, &req->kr_id, req,
				      XA_LIMIT(1, INT_MAX), &kn->kn_next_id,
				      GFP_KERNEL_ACCOUNT);
	if (ret >= 0 && req->kr_uid_counted) {
		ret = ktls_uid_get(kn, req->kr_uid);
		if (ret)
			xa_erase(&kn->kn_reqs, req->kr_id);
	}
	if (ret < 0)
		goto err_unlock;

	/* The request takes over sockfd_lookup()'s file reference. */
	req->kr_params = *p;
	memset(p, 0, sizeof(*p));
	req->kr_file = req->kr_params.sock->file;
	req->kr_params.sock = NULL;
	if (req->kr_params.lconn) {
		req->kr_pid = req->kr_params.owner_pid;
		req->kr_params.owner_pid = NULL;
	} else {
		req->kr_pid = get_pid(task_tgid(current));
		hash_add(kn->kn_socks, &req->kr_sock_node, (unsigned long)req->kr_sk);
	}
	if (nlsk) {
		sock_hold(nlsk);
		req->kr_req_nlsk = nlsk;
		req->kr_req_portid = portid;
		hash_add(kn->kn_requesters, &req->kr_req_node, portid);
	}
	req->kr_deadline = jiffies + msecs_to_jiffies(req->kr_params.timeout_ms);

	kn->kn_nr_live++;
	kn->kn_stats.submitted++;
	list_add_tail(&req->kr_pending, &kn->kn_pending);
	ready = kn->kn_ready_armed;
	kn->kn_ready_armed = false;
	kref_get(&req->kr_ref);
	atomic_inc(&kn->kn_timers);
	queue_delayed_work(ktls_wq, &req->kr_timeout,
			   msecs_to_jiffies(req->kr_params.timeout_ms));
	*id = req->kr_id;
	mutex_unlock(&kn->kn_lock);

	if (ready && ktls_nl_notify_ready(net)) {
		mutex_lock(&kn->kn_lock);
		kn->kn_ready_armed = true;	/* the next request tries again */
		mutex_unlock(&kn->kn_lock);
	}
	return 0;

err_unlock:
	mutex_unlock(&kn->kn_lock);
	kfree(req);
	return ret;
}

/* Registers @nlsk as an agent of @kn until it closes.  kn_lock held.
 * Return: true if it was not registered before.
 */
static bool ktls_agent_register(struct ktls_net *kn, struct sock *nlsk, u32 portid)
{
	struct sock *old = xa_load(&kn->kn_agents, portid);

	if (old == nlsk)
		return false;
	/* A port id left by a closed socket whose URELEASE is still due. */
	if (xa_is_err(xa_store(&kn->kn_agents, portid, nlsk, GFP_KERNEL_ACCOUNT)))
		return false;
	sock_hold(nlsk);
	if (old)
		sock_put(old);
	return true;
}

/**
 * ktls_req_accept - hand the oldest pending request to an agent
 * @net: the agent's network namespace
 * @nlsk: the agent's netlink socket; only it may report DONE
 * @portid: @nlsk's port id
 * @file: a new reference on the request's socket file, for the agent
 * @last: set if no other request is pending
 *
 * Registers @nlsk as an agent of the namespace, even when nothing is
 * pending, until it closes.  A call that hands out nothing, or the last
 * pending request (@last), re-arms READY: the next request queued
 * multicasts it, so an agent may stop draining at @last.
 *
 * Return: the request, with a reference the caller drops with
 * ktls_req_put(), or ERR_PTR(-EAGAIN) when nothing is pending.
 */
struct ktls_req *ktls_req_accept(struct net *net, struct sock *nlsk, u32 portid,
				 struct file **file, bool *last)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	bool new_agent;

	mutex_lock(&kn->kn_lock);
	new_agent = ktls_agent_register(kn, nlsk, portid);
	req = list_first_entry_or_null(&kn->kn_pending, struct ktls_req, kr_pending);
	if (!req) {
		kn->kn_ready_armed = true;
		mutex_unlock(&kn->kn_lock);
		/* Listeners keep connections queued while there is no agent. */
		if (new_agent)
			ktls_listen_kick(net);
		return ERR_PTR(-EAGAIN);
	}
	list_del_init(&req->kr_pending);
	*last = list_empty(&kn->kn_pending);
	if (*last)
		kn->kn_ready_armed = true;
	req->kr_state = KTLS_OFFLOAD_STATE_ACCEPTED;
	sock_hold(nlsk);
	req->kr_agent_nlsk = nlsk;
	req->kr_agent_portid = portid;
	hash_add(kn->kn_agent_reqs, &req->kr_agent_node, portid);
	kn->kn_stats.accepted++;
	*file = get_file(req->kr_file);
	kref_get(&req->kr_ref);
	mutex_unlock(&kn->kn_lock);
	if (new_agent)
		ktls_listen_kick(net);
	return req;
}

/**
 * ktls_req_unaccept - put an accepted request back at the queue's head
 * @req: a request from ktls_req_accept() whose handover to the agent failed
 *
 * Does nothing if the request has ended meanwhile.  Re-arms READY.
 */
void ktls_req_unaccept(struct ktls_req *req)
{
	struct ktls_net *kn = req->kr_kn;

	mutex_lock(&kn->kn_lock);
	if (req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED) {
		req->kr_state = KTLS_OFFLOAD_STATE_PENDING;
		ktls_req_drop_agent(req);
		req->kr_agent_portid = 0;
		kn->kn_stats.accepted--;
		list_add(&req->kr_pending, &kn->kn_pending);
	}
	kn->kn_ready_armed = true;
	mutex_unlock(&kn->kn_lock);
}

/* Is @req accepted by @nlsk?  kn_lock held. */
static bool ktls_req_accepted_by(const struct ktls_req *req, const struct sock *nlsk)
{
	return req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED && req->kr_agent_nlsk == nlsk;
}

/**
 * ktls_req_done - an agent reports the end of a handshake
 * @net: the agent's network namespace
 * @nlsk: the agent's netlink socket
 * @id: the request
 * @res: the result; on return the request owns the strings it keeps (all
 *	for a success, the SNI and reason for the agent's own failure), and
 *	@res holds only what the caller still has to release
 *
 * For status 0 the socket must run kernel TLS in both directions with the
 * version and cipher @res claims; the result reports what the kernel has.
 * Never waits for the socket's lock.
 *
 * Return: 0; -ENOENT for an unknown or ended request; -EPERM if another
 * socket accepted it (or nobody did); -EPROTO if status 0 was claimed for a
 * socket without that kernel TLS (the request then fails with EPROTO and
 * its socket is shut down).
 */
int ktls_req_done(struct net *net, struct sock *nlsk, u32 id, struct ktls_result *res)
{
	struct ktls_net *kn = ktls_net(net);
	u16 version = 0, cipher = 0;
	struct ktls_req *req;
	u32 status = res->status;
	LIST_HEAD(ended);
	struct file *file;
	struct sock *sk;
	bool lconn;
	int ret = 0;

	mutex_lock(&kn->kn_lock);
	req = xa_load(&kn->kn_reqs, id);
	if (!req || req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED) {
		mutex_unlock(&kn->kn_lock);
		return -ENOENT;
	}
	if (!ktls_req_accepted_by(req, nlsk)) {
		mutex_unlock(&kn->kn_lock);
		return -EPERM;
	}
	kref_get(&req->kr_ref);
	file = get_file(req->kr_file);
	lconn = req->kr_params.lconn != NULL;
	sk = sock_from_file(file)->sk;
	mutex_unlock(&kn->kn_lock);

	if (!status && (ktls_sock_tls_info(sk, &version, &cipher) ||
			version != res->tls_version || cipher != res->cipher)) {
		status = EPROTO;
		ret = -EPROTO;
	}
	/*
	 * KeyUpdate hooks go on before the requester learns of the success
	 * (a listener's connection gets them as it is queued); our
	 * reference to the file keeps its close away meanwhile.
	 */
	if (!status && res->secrets && !lconn) {
		ktls_rekey_install(sk, res->secrets);
		kfree_sensitive(res->secrets);
		res->secrets = NULL;
	}
	fput(file);

	mutex_lock(&kn->kn_lock);
	if (!ktls_req_accepted_by(req, nlsk)) {
		ret = -ENOENT;		/* ended meanwhile */
	} else {
		if (!status) {
			req->kr_result = *res;
			memset(res, 0, sizeof(*res));
			req->kr_result.tls_version = version;
			req->kr_result.cipher = cipher;
		} else if (status == res->status) {
			/* the agent's own failure: its words go with it */
			req->kr_result.sni = res->sni;
			req->kr_result.reason = res->reason;
			res->sni = res->reason = NULL;
		}
		ktls_req_end(kn, req, status, status == EPROTO, &ended);
	}
	mutex_unlock(&kn->kn_lock);
	ktls_req_end_finish(kn, &ended, NULL, true);
	ktls_req_put(req);
	return ret;
}

/**
 * ktls_req_cancel - a requester gives up on a request
 * @net: the requester's network namespace
 * @nlsk: the requester's netlink socket, which must have submitted it
 * @id: the request
 *
 * A request an agent has accepted is ended and its socket shut down (soon
 * after: in a work item), so that the agent stops; a pending one leaves the
 * socket as it was.
 *
 * Return: 0, or -ENOENT if there is no such live request of @nlsk.
 */
int ktls_req_cancel(struct net *net, struct sock *nlsk, u32 id)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	LIST_HEAD(ended);
	int ret = -ENOENT;

	mutex_lock(&kn->kn_lock);
	req = xa_load(&kn->kn_reqs, id);
	if (req && req->kr_req_nlsk == nlsk &&
	    req->kr_state != KTLS_OFFLOAD_STATE_COMPLETED) {
		kn->kn_stats.cancelled++;
		ktls_req_end(kn, req, ECANCELED,
			     req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED, &ended);
		ret = 0;
	}
	mutex_unlock(&kn->kn_lock);
	ktls_req_end_finish(kn, &ended, NULL, true);
	return ret;
}

/**
 * ktls_req_collect - take the kept result of an ended request, never waiting
 * @net: the requester's network namespace
 * @nlsk: the requester's netlink socket, which must have submitted it
 * @id: the request
 * @res: receives the result (the caller releases it)
 * @cookie: receives the requester's cookie
 *
 * A result is kept when its COMPLETE notification could not be queued.
 *
 * Return: 0 with the request forgotten; -EAGAIN if the request is still
 * live (its COMPLETE will come); -ENOENT if there is no such request of
 * @nlsk, or its result was delivered or collected already.
 */
int ktls_req_collect(struct net *net, struct sock *nlsk, u32 id,
		     struct ktls_result *res, u64 *cookie)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	int ret = -ENOENT;

	mutex_lock(&kn->kn_lock);
	req = xa_load(&kn->kn_reqs, id);
	if (!req || req->kr_req_nlsk != nlsk) {
		ret = -ENOENT;
	} else if (req->kr_state != KTLS_OFFLOAD_STATE_COMPLETED) {
		ret = -EAGAIN;
	} else if (req->kr_kept) {
		*res = req->kr_result;
		memset(&req->kr_result, 0, sizeof(req->kr_result));
		*cookie = req->kr_params.cookie;
		ktls_req_forget(kn, req);
		ret = 0;
	}
	mutex_unlock(&kn->kn_lock);
	return ret;
}

/**
 * ktls_req_portid_gone - a netlink socket of the namespace closed
 * @net: its network namespace
 * @portid: its port id
 *
 * Called from NETLINK_URELEASE, after the socket was marked dead; only
 * requests of dead sockets with @portid are touched (a new socket may hold
 * the port id already).  Requests its socket accepted as an agent fail at
 * once (ECONNABORTED).  Requests it submitted lose their requester: they
 * end (ECANCELED) without a notification, uncollected results are
 * forgotten.  Either way a socket an agent was working on is shut down.
 * Costs a hash bucket walk, and no lock when the port id had no business
 * with the module.
 */
void ktls_req_portid_gone(struct net *net, u32 portid)
{
	struct ktls_net *kn = ktls_net(net);
	struct hlist_head *reqs = ktls_bucket(kn->kn_requesters, portid);
	struct hlist_head *accepted = ktls_bucket(kn->kn_agent_reqs, portid);
	struct ktls_req *req;
	struct hlist_node *tmp;
	struct sock *agent;
	LIST_HEAD(ended);
	bool lost = false;

	if (hlist_empty(reqs) && hlist_empty(accepted) &&
	    !xa_load(&kn->kn_agents, portid))
		return;

	mutex_lock(&kn->kn_lock);
	agent = xa_load(&kn->kn_agents, portid);
	if (agent && sock_flag(agent, SOCK_DEAD)) {
		xa_erase(&kn->kn_agents, portid);
		sock_put(agent);
	}
	hlist_for_each_entry_safe(req, tmp, accepted, kr_agent_node) {
		if (req->kr_agent_portid != portid ||
		    !sock_flag(req->kr_agent_nlsk, SOCK_DEAD))
			continue;
		lost = true;
		ktls_req_end(kn, req, ECONNABORTED, true, &ended);
	}
	hlist_for_each_entry_safe(req, tmp, reqs, kr_req_node) {
		if (req->kr_req_portid != portid ||
		    !sock_flag(req->kr_req_nlsk, SOCK_DEAD))
			continue;
		ktls_req_drop_requester(req);
		if (req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED) {
			ktls_req_forget(kn, req);
		} else {
			kn->kn_stats.cancelled++;
			ktls_req_end(kn, req, ECANCELED,
				     req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED, &ended);
		}
	}
	if (lost)
		kn->kn_stats.agent_losses++;
	mutex_unlock(&kn->kn_lock);
	ktls_req_end_finish(kn, &ended, NULL, true);
}

/* Is a connection of @l between the two halves of its end?  kn_lock held. */
static bool ktls_listener_ending(struct ktls_net *kn, const struct ktls_listener *l)
{
	struct ktls_req *req;

	list_for_each_entry(req, &kn->kn_ending, kr_ending)
		if (req->kr_end_listener == l)
			return true;
	return false;
}

/**
 * ktls_req_end_listener - end the handshakes of a detaching listener
 * @net: its network namespace
 * @l: the listener
 *
 * Every live request whose connection belongs to @l ends with ECANCELED;
 * its socket is shut down, which also ends the agent's handshake on it.
 * Sleeps; takes no lock of @l's and must not be called from
 * ktls_listen_conn_end().
 *
 * Return: once ktls_listen_conn_end() has returned for every request of
 * @l that has ended, whoever ended it.
 */
void ktls_req_end_listener(struct net *net, struct ktls_listener *l)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	unsigned long idx, seq;
	LIST_HEAD(ended);
	bool busy;

	mutex_lock(&kn->kn_lock);
	xa_for_each(&kn->kn_reqs, idx, req) {
		if (req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED ||
		    !req->kr_params.lconn || req->kr_params.lconn->lc_listener != l)
			continue;
		kn->kn_stats.cancelled++;
		ktls_req_end(kn, req, ECANCELED, true, &ended);
	}
	mutex_unlock(&kn->kn_lock);
	ktls_req_end_finish(kn, &ended, NULL, false);

	/* Others (a timeout, kr_end_work) may be between the halves of
	 * ending one.
	 */
	for (;;) {
		mutex_lock(&kn->kn_lock);
		busy = ktls_listener_ending(kn, l);
		seq = kn->kn_ending_seq;
		mutex_unlock(&kn->kn_lock);
		if (!busy)
			break;
		wait_event(kn->kn_end_wq, READ_ONCE(kn->kn_ending_seq) != seq);
	}
}

/**
 * ktls_net_has_agent - is any agent registered in the namespace?
 * @net: the namespace
 *
 * Netlink's own listener bookkeeping is not per namespace, so the module
 * counts agents itself: sockets that have issued ACCEPT and are still open.
 *
 * Return: true if at least one is.
 */
bool ktls_net_has_agent(struct net *net)
{
	return !xa_empty(&ktls_net(net)->kn_agents);
}

/**
 * ktls_req_for_each - visit the namespace's live requests in id order
 * @net: the namespace
 * @pos: the id to start from; on return, where to resume
 * @fn: called under the namespace lock; a negative return stops the walk
 * @arg: passed to @fn
 *
 * Return: 0 when every request was visited, else what @fn returned.
 */
int ktls_req_for_each(struct net *net, unsigned long *pos, ktls_req_visit_fn fn,
		      void *arg)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	unsigned long idx;
	int ret = 0;

	mutex_lock(&kn->kn_lock);
	xa_for_each_start(&kn->kn_reqs, idx, req, *pos) {
		ret = fn(req, arg);
		if (ret < 0)
			break;
		*pos = idx + 1;
	}
	mutex_unlock(&kn->kn_lock);
	return ret;
}

/**
 * ktls_net_stats - a snapshot of the namespace's counters
 * @net: the namespace
 * @st: receives the counters
 * @live: receives the number of live requests
 */
void ktls_net_stats(struct net *net, struct ktls_stats *st, unsigned int *live)
{
	struct ktls_net *kn = ktls_net(net);
	unsigned long idx;
	void *entry;

	mutex_lock(&kn->kn_lock);
	*st = kn->kn_stats;
	*live = kn->kn_nr_live;
	st->agents = 0;
	xa_for_each(&kn->kn_agents, idx, entry)
		st->agents++;
	mutex_unlock(&kn->kn_lock);
}

/*
 * Ends every live request of @kn with @status; with @silent nobody is told
 * and kept results are forgotten too.  Unload must not wait on a socket
 * lock a requester may hold forever, so the sockets are not shut down:
 * the agents lose the module with them.
 */
static void ktls_net_fail_all(struct ktls_net *kn, u32 status, bool silent)
{
	struct ktls_req *req;
	unsigned long idx;
	LIST_HEAD(ended);

	mutex_lock(&kn->kn_lock);
	xa_for_each(&kn->kn_reqs, idx, req) {
		if (silent)
			ktls_req_drop_requester(req);
		if (req->kr_state != KTLS_OFFLOAD_STATE_COMPLETED)
			ktls_req_end(kn, req, status, false, &ended);
		else if (silent)
			ktls_req_forget(kn, req);
	}
	mutex_unlock(&kn->kn_lock);
	ktls_req_end_finish(kn, &ended, NULL, false);
}

static int __net_init ktls_net_init(struct net *net)
{
	struct ktls_net *kn = ktls_net(net);

	mutex_init(&kn->kn_lock);
	INIT_LIST_HEAD(&kn->kn_pending);
	xa_init_flags(&kn->kn_reqs, XA_FLAGS_ALLOC1);
	xa_init(&kn->kn_uid_live);
	xa_init(&kn->kn_agents);
	hash_init(kn->kn_socks);
	hash_init(kn->kn_requesters);
	hash_init(kn->kn_agent_reqs);
	INIT_LIST_HEAD(&kn->kn_ending);
	init_waitqueue_head(&kn->kn_end_wq);
	atomic_set(&kn->kn_timers, 0);
	atomic_set(&kn->kn_end_works, 0);
	kn->kn_ready_armed = true;
	mutex_lock(&ktls_nets_lock);
	list_add(&kn->kn_node, &ktls_nets);
	mutex_unlock(&ktls_nets_lock);
	return 0;
}

static void __net_exit ktls_net_exit(struct net *net)
{
	struct ktls_net *kn = ktls_net(net);
	unsigned long idx;
	struct sock *sk;

	mutex_lock(&ktls_nets_lock);
	list_del(&kn->kn_node);
	mutex_unlock(&ktls_nets_lock);

	/* Every netlink socket of the namespace is closed by now; a timeout
	 * that ended its own request may still be finishing it.
	 */
	ktls_net_fail_all(kn, ESHUTDOWN, true);
	wait_var_event(&kn->kn_timers, !atomic_read(&kn->kn_timers));
	wait_var_event(&kn->kn_end_works, !atomic_read(&kn->kn_end_works));
	WARN_ON_ONCE(!xa_empty(&kn->kn_reqs));
	xa_for_each(&kn->kn_agents, idx, sk)
		sock_put(sk);
	xa_destroy(&kn->kn_reqs);
	xa_destroy(&kn->kn_uid_live);
	xa_destroy(&kn->kn_agents);
}

static struct pernet_operations ktls_net_ops = {
	.init	= ktls_net_init,
	.exit	= ktls_net_exit,
	.id	= &ktls_net_id,
	.size	= sizeof(struct ktls_net),
};

/**
 * ktls_req_init - set up request tracking for every network namespace
 *
 * Return: 0 or a negative errno.
 */
int __init ktls_req_init(void)
{
	int ret;

	ktls_wq = alloc_workqueue("ktls_offload", WQ_UNBOUND, 0);
	if (!ktls_wq)
		return -ENOMEM;
	/* apart, so that stalled shutdowns cannot hold up the timeouts */
	ktls_end_wq = alloc_workqueue("ktls_offload_end", WQ_UNBOUND, 0);
	if (!ktls_end_wq) {
		ret = -ENOMEM;
		goto err_end_wq;
	}
	ktls_lend_wq = alloc_workqueue("ktls_offload_lend", WQ_UNBOUND, 0);
	if (!ktls_lend_wq) {
		ret = -ENOMEM;
		goto err_lend_wq;
	}
	ret = register_pernet_subsys(&ktls_net_ops);
	if (ret)
		goto err_pernet;
	return 0;

err_pernet:
	destroy_workqueue(ktls_lend_wq);
err_lend_wq:
	destroy_workqueue(ktls_end_wq);
err_end_wq:
	destroy_workqueue(ktls_wq);
	return ret;
}

/**
 * ktls_req_shutdown - refuse new requests and end all live ones (ESHUTDOWN)
 *
 * Requesters are told before the family goes away; a result that could
 * not be told is lost with the family.
 */
void ktls_req_shutdown(void)
{
	struct ktls_net *kn;

	WRITE_ONCE(ktls_shutting_down, true);
	mutex_lock(&ktls_nets_lock);
	list_for_each_entry(kn, &ktls_nets, kn_node)
		ktls_net_fail_all(kn, ESHUTDOWN, false);
	mutex_unlock(&ktls_nets_lock);
}

/**
 * ktls_req_uninit - free everything; no request survives
 */
void ktls_req_uninit(void)
{
	unregister_pernet_subsys(&ktls_net_ops);
	destroy_workqueue(ktls_lend_wq);
	destroy_workqueue(ktls_end_wq);
	destroy_workqueue(ktls_wq);
}
