// SPDX-License-Identifier: GPL-2.0
/*
 * Request lifetime.  A request is born at SUBMIT (PENDING), taken by an
 * agent at ACCEPT (ACCEPTED) and ends exactly once (COMPLETED): by DONE,
 * its timeout, CANCEL, the loss of its agent or requester, or shutdown.
 * Ending drops the socket reference at once; the request itself lives on
 * only while a WAIT may still collect its result.
 *
 * References: the namespace's id table holds one while the request is
 * live, a queued timeout holds one, and every caller that looks a request
 * up outside kn_lock holds one.
 */

#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/net.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <net/netns/generic.h>

#include "listen.h"
#include "netlink.h"
#include "request.h"
#include "sock.h"

unsigned int ktls_max_pending = 4096;
unsigned int ktls_max_pending_per_uid = 1024;
unsigned int ktls_default_timeout_ms = 10000;

static unsigned int ktls_net_id __read_mostly;
static struct workqueue_struct *ktls_wq;
static LIST_HEAD(ktls_nets);
static DEFINE_MUTEX(ktls_nets_lock);	/* protects ktls_nets */
static bool ktls_shutting_down;

static struct ktls_net *ktls_net(struct net *net)
{
	return net_generic(net, ktls_net_id);
}

/**
 * ktls_submit_release - free SUBMIT parameters and drop their socket reference
 * @p: parameters not (or no longer) owned by a request; may be empty
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
	res->alpn = res->peer_identity = NULL;
}

static void ktls_req_release(struct kref *ref)
{
	struct ktls_req *req = container_of(ref, struct ktls_req, kr_ref);

	WARN_ON_ONCE(req->kr_file);
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

static void ktls_uid_count(struct ktls_net *kn, kuid_t uid, int delta)
{
	unsigned long idx = from_kuid(&init_user_ns, uid);
	unsigned long n = xa_to_value(xa_load(&kn->kn_uid_live, idx) ?: xa_mk_value(0));

	n += delta;
	if (n)
		xa_store(&kn->kn_uid_live, idx, xa_mk_value(n), GFP_KERNEL);
	else
		xa_erase(&kn->kn_uid_live, idx);
}

static unsigned long ktls_uid_live(struct ktls_net *kn, kuid_t uid)
{
	void *v = xa_load(&kn->kn_uid_live, from_kuid(&init_user_ns, uid));

	return v ? xa_to_value(v) : 0;
}

/* Drops a finished request from the id table and the limits.  kn_lock held. */
static void ktls_req_forget(struct ktls_net *kn, struct ktls_req *req)
{
	lockdep_assert_held(&kn->kn_lock);
	if (xa_erase(&kn->kn_reqs, req->kr_id) != req)
		return;
	kn->kn_nr_live--;
	ktls_uid_count(kn, req->kr_uid, -1);
	ktls_req_put(req);
}

/*
 * Ends a live request with @status.  The requester learns of it by a
 * COMPLETE notification, or the result waits for WAIT: always for a
 * wait-flagged request, and for any whose notification could not be
 * delivered (the requester's socket then reports ENOBUFS).  kn_lock held.
 */
static void ktls_req_finish(struct ktls_net *kn, struct ktls_req *req, u32 status)
{
	struct file *file = req->kr_file;
	struct ktls_lconn *lconn = req->kr_params.lconn;

	lockdep_assert_held(&kn->kn_lock);
	if (WARN_ON_ONCE(req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED))
		return;

	list_del_init(&req->kr_pending);
	req->kr_file = NULL;
	req->kr_params.lconn = NULL;
	req->kr_result.status = status;
	WRITE_ONCE(req->kr_state, KTLS_OFFLOAD_STATE_COMPLETED);

	if (status) {
		kn->kn_stats.failed++;
		if (status < KTLS_ERRNO_MAX)
			kn->kn_stats.by_errno[status]++;
	} else {
		kn->kn_stats.completed++;
	}

	/* The table's reference keeps this from being the last one. */
	if (cancel_delayed_work(&req->kr_timeout))
		ktls_req_put(req);

	if (req->kr_req_portid)
		req->kr_kept = (req->kr_params.flags & KTLS_OFFLOAD_SUBMIT_FLAGS_WAIT) ||
			ktls_nl_notify_complete(req->kr_net, req->kr_req_portid,
						req->kr_id, req->kr_params.cookie,
						&req->kr_result) < 0;
	if (req->kr_kept)
		wake_up_all(&req->kr_wq);
	else
		ktls_req_forget(kn, req);
	if (lconn)
		ktls_listen_conn_end(lconn, file, status);
	else if (file)
		fput(file);
}

static void ktls_req_timeout(struct work_struct *work)
{
	struct ktls_req *req = container_of(to_delayed_work(work),
					    struct ktls_req, kr_timeout);
	struct ktls_net *kn = req->kr_kn;

	mutex_lock(&kn->kn_lock);
	if (req->kr_state != KTLS_OFFLOAD_STATE_COMPLETED) {
		kn->kn_stats.timed_out++;
		ktls_req_finish(kn, req, ETIMEDOUT);
	}
	mutex_unlock(&kn->kn_lock);
	ktls_req_put(req);
}

static bool ktls_sock_in_use(struct ktls_net *kn, const struct socket *sock)
{
	struct ktls_req *req;
	unsigned long idx;

	xa_for_each(&kn->kn_reqs, idx, req)
		if (req->kr_file && req->kr_file == sock->file)
			return true;
	return false;
}

/**
 * ktls_req_submit - queue a socket for an agent's handshake
 * @net: the requester's network namespace
 * @portid: the requester's netlink port, where the result goes; 0 for a
 *	listener's connection (@p->lconn), whose end goes to the listener
 * @p: parameters; on success the request owns them and @p is cleared
 * @id: the new request's id
 *
 * The socket has passed ktls_sock_check_submit(), or is a listener's new
 * connection.  Multicasts READY.
 *
 * Return: 0, or -ESHUTDOWN (module unloading), -EBUSY (a request for the
 * socket is live), -ENOBUFS (namespace limit), -EAGAIN (per-uid limit),
 * -ENOMEM.
 */
int ktls_req_submit(struct net *net, u32 portid, struct ktls_submit *p, u32 *id)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	int ret;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	kref_init(&req->kr_ref);
	req->kr_kn = kn;
	req->kr_net = net;
	req->kr_state = KTLS_OFFLOAD_STATE_PENDING;
	INIT_LIST_HEAD(&req->kr_pending);
	INIT_DELAYED_WORK(&req->kr_timeout, ktls_req_timeout);
	init_waitqueue_head(&req->kr_wq);
	req->kr_req_portid = portid;
	if (p->lconn) {
		/* on behalf of the listening socket's owner */
		req->kr_pid = get_pid(p->owner_pid);
		req->kr_uid = p->owner_uid;
		req->kr_gid = p->owner_gid;
	} else {
		req->kr_pid = get_pid(task_tgid(current));
		req->kr_uid = current_euid();
		req->kr_gid = current_egid();
	}

	mutex_lock(&kn->kn_lock);
	if (READ_ONCE(ktls_shutting_down))
		ret = -ESHUTDOWN;
	else if (!p->lconn && ktls_sock_in_use(kn, p->sock))
		ret = -EBUSY;
	else if (kn->kn_nr_live >= ktls_max_pending)
		ret = -ENOBUFS;
	else if (!p->lconn &&
		 ktls_uid_live(kn, req->kr_uid) >= ktls_max_pending_per_uid)
		ret = -EAGAIN;
	else
		ret = xa_alloc_cyclic(&kn->kn_reqs, &req->kr_id, req,
				      XA_LIMIT(1, INT_MAX), &kn->kn_next_id,
				      GFP_KERNEL);
	if (ret < 0)
		goto err_unlock;

	/* The request takes over sockfd_lookup()'s file reference. */
	req->kr_params = *p;
	memset(p, 0, sizeof(*p));
	req->kr_file = req->kr_params.sock->file;
	req->kr_params.sock = NULL;
	req->kr_deadline = jiffies + msecs_to_jiffies(req->kr_params.timeout_ms);

	kn->kn_nr_live++;
	ktls_uid_count(kn, req->kr_uid, 1);
	kn->kn_stats.submitted++;
	list_add_tail(&req->kr_pending, &kn->kn_pending);
	kref_get(&req->kr_ref);
	queue_delayed_work(ktls_wq, &req->kr_timeout,
			   msecs_to_jiffies(req->kr_params.timeout_ms));
	*id = req->kr_id;
	mutex_unlock(&kn->kn_lock);

	ktls_nl_notify_ready(net);
	return 0;

err_unlock:
	mutex_unlock(&kn->kn_lock);
	put_pid(req->kr_pid);
	kfree(req);
	return ret;
}

/**
 * ktls_req_accept - hand the oldest pending request to an agent
 * @net: the agent's network namespace
 * @portid: the agent's netlink port; only it may report DONE
 * @file: a new reference on the request's socket file, for the agent
 *
 * Registers @portid as an agent of the namespace, even when nothing is
 * pending, until its socket closes.
 *
 * Return: the request, with a reference the caller drops with
 * ktls_req_put(), or ERR_PTR(-EAGAIN) when nothing is pending.
 */
struct ktls_req *ktls_req_accept(struct net *net, u32 portid, struct file **file)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	bool new_agent = false;

	mutex_lock(&kn->kn_lock);
	if (!xa_load(&kn->kn_agents, portid))
		new_agent = !xa_err(xa_store(&kn->kn_agents, portid, xa_mk_value(1),
					     GFP_KERNEL));
	req = list_first_entry_or_null(&kn->kn_pending, struct ktls_req, kr_pending);
	if (!req) {
		mutex_unlock(&kn->kn_lock);
		/* Listeners keep connections queued while there is no agent. */
		if (new_agent)
			ktls_listen_kick(net);
		return ERR_PTR(-EAGAIN);
	}
	list_del_init(&req->kr_pending);
	req->kr_state = KTLS_OFFLOAD_STATE_ACCEPTED;
	req->kr_agent_portid = portid;
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
 * Does nothing if the request has ended meanwhile.
 */
void ktls_req_unaccept(struct ktls_req *req)
{
	struct ktls_net *kn = req->kr_kn;

	mutex_lock(&kn->kn_lock);
	if (req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED) {
		req->kr_state = KTLS_OFFLOAD_STATE_PENDING;
		req->kr_agent_portid = 0;
		kn->kn_stats.accepted--;
		list_add(&req->kr_pending, &kn->kn_pending);
	}
	mutex_unlock(&kn->kn_lock);
}

/**
 * ktls_req_done - an agent reports the end of a handshake
 * @net: the agent's network namespace
 * @portid: the agent's netlink port
 * @id: the request
 * @res: the result; on return the request owns its strings and @res is cleared
 *
 * Return: 0; -ENOENT for an unknown or ended request; -EPERM if another
 * port accepted it (or nobody did); -EPROTO if status 0 was claimed for a
 * socket without kernel TLS in both directions (the request then fails
 * with EPROTO).
 */
int ktls_req_done(struct net *net, u32 portid, u32 id, struct ktls_result *res)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	u32 status = res->status;
	int ret = 0;

	mutex_lock(&kn->kn_lock);
	req = xa_load(&kn->kn_reqs, id);
	if (!req || req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED) {
		ret = -ENOENT;
		goto out;
	}
	if (req->kr_state != KTLS_OFFLOAD_STATE_ACCEPTED ||
	    req->kr_agent_portid != portid) {
		ret = -EPERM;
		goto out;
	}
	if (!status && !ktls_sock_has_ktls(sock_from_file(req->kr_file))) {
		status = EPROTO;
		ret = -EPROTO;
	}
	if (!status) {
		req->kr_result = *res;
		memset(res, 0, sizeof(*res));
	}
	ktls_req_finish(kn, req, status);
out:
	mutex_unlock(&kn->kn_lock);
	return ret;
}

/**
 * ktls_req_cancel - a requester gives up on a request
 * @net: the requester's network namespace
 * @portid: the requester's netlink port, which must have submitted it
 * @id: the request
 *
 * Return: 0, or -ENOENT if there is no such live request of @portid.
 */
int ktls_req_cancel(struct net *net, u32 portid, u32 id)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	int ret = -ENOENT;

	mutex_lock(&kn->kn_lock);
	req = xa_load(&kn->kn_reqs, id);
	if (req && req->kr_req_portid == portid &&
	    req->kr_state != KTLS_OFFLOAD_STATE_COMPLETED) {
		kn->kn_stats.cancelled++;
		ktls_req_finish(kn, req, ECANCELED);
		ret = 0;
	}
	mutex_unlock(&kn->kn_lock);
	return ret;
}

/**
 * ktls_req_wait - sleep until a wait-flagged request ends, and collect it
 * @net: the requester's network namespace
 * @portid: the requester's netlink port, which must have submitted it
 * @id: the request
 * @res: receives the result (the caller releases it)
 * @cookie: receives the requester's cookie
 *
 * Never sleeps past the request's deadline: the timeout ends it.
 *
 * Return: 0 with the request forgotten, -ENOENT if there is no such wait
 * request of @portid, nor a kept result of its (or another WAIT collected
 * it), -EINTR on a signal.
 */
int ktls_req_wait(struct net *net, u32 portid, u32 id, struct ktls_result *res,
		  u64 *cookie)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	int ret = -ENOENT;

	mutex_lock(&kn->kn_lock);
	req = xa_load(&kn->kn_reqs, id);
	if (!req || req->kr_req_portid != portid ||
	    !((req->kr_params.flags & KTLS_OFFLOAD_SUBMIT_FLAGS_WAIT) || req->kr_kept)) {
		mutex_unlock(&kn->kn_lock);
		return -ENOENT;
	}
	kref_get(&req->kr_ref);
	mutex_unlock(&kn->kn_lock);

	if (wait_event_interruptible(req->kr_wq, READ_ONCE(req->kr_state) ==
				     KTLS_OFFLOAD_STATE_COMPLETED)) {
		ktls_req_put(req);
		return -EINTR;
	}

	mutex_lock(&kn->kn_lock);
	if (xa_load(&kn->kn_reqs, id) == req) {
		*res = req->kr_result;
		memset(&req->kr_result, 0, sizeof(req->kr_result));
		*cookie = req->kr_params.cookie;
		ktls_req_forget(kn, req);
		ret = 0;
	}
	mutex_unlock(&kn->kn_lock);
	ktls_req_put(req);
	return ret;
}

/**
 * ktls_req_portid_gone - a netlink socket of the namespace closed
 * @net: its network namespace
 * @portid: its port id
 *
 * Requests that @portid accepted as an agent fail at once (ECONNABORTED).
 * Requests it submitted lose their requester: pending ones are cancelled,
 * uncollected results forgotten, accepted ones end silently when their
 * agent reports.
 */
void ktls_req_portid_gone(struct net *net, u32 portid)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	unsigned long idx;
	bool lost = false;

	mutex_lock(&kn->kn_lock);
	xa_erase(&kn->kn_agents, portid);
	xa_for_each(&kn->kn_reqs, idx, req) {
		if (req->kr_state == KTLS_OFFLOAD_STATE_ACCEPTED &&
		    req->kr_agent_portid == portid) {
			lost = true;
			ktls_req_finish(kn, req, ECONNABORTED);
			continue;
		}
		if (req->kr_req_portid != portid)
			continue;
		req->kr_req_portid = 0;
		if (req->kr_state == KTLS_OFFLOAD_STATE_PENDING) {
			kn->kn_stats.cancelled++;
			ktls_req_finish(kn, req, ECANCELED);
		} else if (req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED) {
			ktls_req_forget(kn, req);
		}
	}
	if (lost)
		kn->kn_stats.agent_losses++;
	mutex_unlock(&kn->kn_lock);
}

/**
 * ktls_req_end_listener - end the handshakes of a detaching listener
 * @net: its network namespace
 * @l: the listener
 *
 * Each connection is shut down, which also ends the agent's handshake on
 * it, and its request ends with ECANCELED.
 */
void ktls_req_end_listener(struct net *net, struct ktls_listener *l)
{
	struct ktls_net *kn = ktls_net(net);
	struct ktls_req *req;
	unsigned long idx;

	mutex_lock(&kn->kn_lock);
	xa_for_each(&kn->kn_reqs, idx, req) {
		if (req->kr_state == KTLS_OFFLOAD_STATE_COMPLETED ||
		    !req->kr_params.lconn || req->kr_params.lconn->lc_listener != l)
			continue;
		kernel_sock_shutdown(sock_from_file(req->kr_file), SHUT_RDWR);
		kn->kn_stats.cancelled++;
		ktls_req_finish(kn, req, ECANCELED);
	}
	mutex_unlock(&kn->kn_lock);
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
	struct ktls_net *kn = ktls_net(net);
	bool ret;

	mutex_lock(&kn->kn_lock);
	ret = !xa_empty(&kn->kn_agents);
	mutex_unlock(&kn->kn_lock);
	return ret;
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

/* Ends every live request of @kn with @status; with @silent nobody is told. */
static void ktls_net_fail_all(struct ktls_net *kn, u32 status, bool silent)
{
	struct ktls_req *req;
	unsigned long idx;

	mutex_lock(&kn->kn_lock);
	xa_for_each(&kn->kn_reqs, idx, req) {
		if (silent)
			req->kr_req_portid = 0;
		if (req->kr_state != KTLS_OFFLOAD_STATE_COMPLETED)
			ktls_req_finish(kn, req, status);
		else if (silent)
			ktls_req_forget(kn, req);
	}
	mutex_unlock(&kn->kn_lock);
}

static int __net_init ktls_net_init(struct net *net)
{
	struct ktls_net *kn = ktls_net(net);

	mutex_init(&kn->kn_lock);
	INIT_LIST_HEAD(&kn->kn_pending);
	xa_init_flags(&kn->kn_reqs, XA_FLAGS_ALLOC1);
	xa_init(&kn->kn_uid_live);
	xa_init(&kn->kn_agents);
	mutex_lock(&ktls_nets_lock);
	list_add(&kn->kn_node, &ktls_nets);
	mutex_unlock(&ktls_nets_lock);
	return 0;
}

static void __net_exit ktls_net_exit(struct net *net)
{
	struct ktls_net *kn = ktls_net(net);

	mutex_lock(&ktls_nets_lock);
	list_del(&kn->kn_node);
	mutex_unlock(&ktls_nets_lock);

	ktls_net_fail_all(kn, ESHUTDOWN, true);
	/* A timeout that was already running may still hold a reference. */
	flush_workqueue(ktls_wq);
	WARN_ON_ONCE(!xa_empty(&kn->kn_reqs));
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
	ret = register_pernet_subsys(&ktls_net_ops);
	if (ret)
		destroy_workqueue(ktls_wq);
	return ret;
}

/**
 * ktls_req_shutdown - refuse new requests and end all live ones (ESHUTDOWN)
 *
 * Requesters are told, and WAITs return, before the family goes away.
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
	destroy_workqueue(ktls_wq);
}
