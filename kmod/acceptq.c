// SPDX-License-Identifier: GPL-2.0
/*
 * The accept queue of an attached listener, and the hand-over of an
 * established connection to the socket accept() makes.
 *
 * An attached listener's accept queue holds two kinds of entries: raw
 * connections the kernel queued and connections whose handshake is done,
 * which listen.c put back.  Neither has a socket; the established ones
 * carry the tls ULP, raw ones no ULP (the listener's clone removed ours).
 * A ULP alone does not make a connection established: the agent puts tls
 * on as a handshake begins, so a child the agent worked on carries it
 * whatever the outcome.  Only ktls_listen_conn_end() puts children back,
 * and only with status 0, which the broker gives only when
 * ktls_sock_tls_info() found TX and RX configured; any other child is
 * closed, never queued.  The
 * kernel's accept() path, tcp_poll() and listen_stop all work on this
 * queue; these helpers let listen.c take entries of one kind off it and
 * put established ones back, under the queue's own lock, exactly as
 * inet_csk_reqsk_queue_add() and reqsk_queue_remove() do.
 *
 * accept() grafts the sock onto a new socket whose proto_ops are the
 * listener's; a kTLS connection needs the ops tls gave the module's
 * socket (splice_read, poll, read_sock go through them).  There is no
 * hook between the graft and the return to userspace except the
 * release_sock() that ends inet_accept(), so while an established
 * connection waits on the queue its proto is a copy of its own (a
 * "trampoline") whose release_cb, once a graft has given it a socket,
 * sets that socket's ops and puts the sock's own proto back.  Whatever
 * accept() takes it (ours, or one that was already asleep in
 * inet_csk_accept() when the listener was attached) and whatever socket
 * listen.c grafts it onto to close it, the fix-up happens.  An attached
 * listener holds the module while such connections wait on its queue.
 */

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/inet_connection_sock.h>
#include <net/tcp_states.h>

#include "acceptq.h"

#define KTLS_TRAMPS	64

struct ktls_tramp {
	struct proto		prot;	/* a copy of *orig but release_cb */
	struct proto		*orig;
	const struct proto_ops	*ops;
};

static struct ktls_tramp *ktls_tramps[KTLS_TRAMPS];
static DEFINE_MUTEX(ktls_tramp_lock);	/* adds to ktls_tramps */

/**
 * ktls_acceptq_is_ready - is this accept queue entry an established one?
 * @req: an entry of an attached listener's accept queue
 *
 * Return: true if its sock carries a ULP (tls), false for a raw
 * connection the kernel queued.
 */
bool ktls_acceptq_is_ready(const struct request_sock *req)
{
	return req->sk && READ_ONCE(inet_csk(req->sk)->icsk_ulp_ops);
}

/**
 * ktls_acceptq_unlink - take entries of one kind off an accept queue
 * @lsk: the listening sock
 * @ready: take established entries (true) or raw ones (false)
 * @max: at most this many
 *
 * Return: the entries, chained through dl_next, or NULL.  The caller owns
 * the queue's reference on each.
 */
struct request_sock *ktls_acceptq_unlink(struct sock *lsk, bool ready, int max)
{
	struct request_sock_queue *queue = &inet_csk(lsk)->icsk_accept_queue;
	struct request_sock *req, *prev = NULL, *next, *head = NULL, **tail = &head;

	spin_lock_bh(&queue->rskq_lock);
	for (req = queue->rskq_accept_head; req && max; req = next) {
		next = req->dl_next;
		if (ktls_acceptq_is_ready(req) != ready) {
			prev = req;
			continue;
		}
		if (prev)
			prev->dl_next = next;
		else
			WRITE_ONCE(queue->rskq_accept_head, next);
		if (queue->rskq_accept_tail == req)
			queue->rskq_accept_tail = prev;
		sk_acceptq_removed(lsk);
		req->dl_next = NULL;
		*tail = req;
		tail = &req->dl_next;
		max--;
	}
	spin_unlock_bh(&queue->rskq_lock);
	return head;
}

/**
 * ktls_acceptq_ready_first - move the first established entry to the head
 * @lsk: the listening sock
 * @raw_seen: set if a raw entry is on the queue
 *
 * The caller holds the listener's accept lock, so that the head stays
 * what this left it until the caller's inet_csk_accept() takes it.
 *
 * Return: how many established entries the queue holds; if any, the
 * first of them is now its head.
 */
unsigned int ktls_acceptq_ready_first(struct sock *lsk, bool *raw_seen)
{
	struct request_sock_queue *queue = &inet_csk(lsk)->icsk_accept_queue;
	struct request_sock *req, *prev = NULL, *first = NULL, *first_prev = NULL;
	unsigned int n = 0;

	spin_lock_bh(&queue->rskq_lock);
	for (req = queue->rskq_accept_head; req; prev = req, req = req->dl_next) {
		if (!ktls_acceptq_is_ready(req)) {
			*raw_seen = true;
			continue;
		}
		if (!n++) {
			first = req;
			first_prev = prev;
		}
	}
	if (first && first_prev) {
		first_prev->dl_next = first->dl_next;
		if (queue->rskq_accept_tail == first)
			queue->rskq_accept_tail = first_prev;
		first->dl_next = queue->rskq_accept_head;
		WRITE_ONCE(queue->rskq_accept_head, first);
	}
	spin_unlock_bh(&queue->rskq_lock);
	return n;
}

/**
 * ktls_acceptq_add - put an established connection back on the queue
 * @lsk: the listening sock
 * @req: the entry the connection came from; the queue takes the reference
 * @child: the connection
 *
 * Unlike inet_csk_reqsk_queue_add() this never disposes of @child: a
 * listener that stopped listening gets nothing, and the caller keeps
 * @req and @child.
 *
 * Return: true if queued.
 */
bool ktls_acceptq_add(struct sock *lsk, struct request_sock *req,
		      struct sock *child)
{
	struct request_sock_queue *queue = &inet_csk(lsk)->icsk_accept_queue;
	bool ok = false;

	spin_lock_bh(&queue->rskq_lock);
	if (READ_ONCE(lsk->sk_state) == TCP_LISTEN) {
		req->sk = child;
		req->dl_next = NULL;
		if (!queue->rskq_accept_head)
			WRITE_ONCE(queue->rskq_accept_head, req);
		else
			queue->rskq_accept_tail->dl_next = req;
		queue->rskq_accept_tail = req;
		sk_acceptq_added(lsk);
		ok = true;
	}
	spin_unlock_bh(&queue->rskq_lock);
	return ok;
}

static void ktls_graft_release_cb(struct sock *sk)
{
	struct ktls_tramp *t = container_of(sk->sk_prot, struct ktls_tramp, prot);
	struct socket *sock = sk->sk_socket;

	/* Only once inet_accept() grafted the sock onto the new socket. */
	if (sock && sock->sk == sk) {
		const struct proto_ops *old = sock->ops;

		if (old->owner != t->ops->owner) {
			__module_get(t->ops->owner);
			module_put(old->owner);
		}
		WRITE_ONCE(sock->ops, t->ops);
		WRITE_ONCE(sk->sk_prot, t->orig);
	}
	if (t->orig->release_cb)
		t->orig->release_cb(sk);
}

static struct ktls_tramp *ktls_tramp_find(struct proto *orig,
					  const struct proto_ops *ops)
{
	struct ktls_tramp *t;
	int i;

	for (i = 0; i < KTLS_TRAMPS; i++) {
		t = READ_ONCE(ktls_tramps[i]);
		if (!t)
			return NULL;
		if (t->orig == orig && t->ops == ops)
			return t;
	}
	return NULL;
}

static struct ktls_tramp *ktls_tramp_get(struct proto *orig,
					 const struct proto_ops *ops)
{
	struct ktls_tramp *t = ktls_tramp_find(orig, ops);
	int i;

	if (t)
		return t;
	mutex_lock(&ktls_tramp_lock);
	for (i = 0; i < KTLS_TRAMPS; i++) {
		t = ktls_tramps[i];
		if (t && t->orig == orig && t->ops == ops)
			break;
		if (t)
			continue;
		t = kmalloc(sizeof(*t), GFP_KERNEL);
		if (t) {
			t->prot = *orig;
			t->prot.release_cb = ktls_graft_release_cb;
			t->orig = orig;
			t->ops = ops;
			/* readers go without the lock */
			smp_store_release(&ktls_tramps[i], t);
		}
		break;
	}
	mutex_unlock(&ktls_tramp_lock);
	return i < KTLS_TRAMPS ? t : NULL;
}

/**
 * ktls_graft_get - the trampoline for a sock of proto @orig whose socket needs @ops
 * @orig: the sock's proto now (tls's, for a kTLS connection)
 * @ops: the proto_ops its socket must carry (those tls gave the module's socket)
 *
 * Return: the trampoline, or NULL on allocation failure.
 */
struct ktls_tramp *ktls_graft_get(struct proto *orig, const struct proto_ops *ops)
{
	return ktls_tramp_get(orig, ops);
}

/**
 * ktls_graft_set - have the next accept() graft give @sk's socket the ops
 * @sk: an established connection that has no socket, about to be
 *	returned by the listener's accept, socket lock held
 * @t: from ktls_graft_get() for @sk's current proto
 */
void ktls_graft_set(struct sock *sk, struct ktls_tramp *t)
{
	WRITE_ONCE(sk->sk_prot, &t->prot);
}

/**
 * ktls_graft_uninit - free the trampolines (module unload; none in use)
 */
void ktls_graft_uninit(void)
{
	int i;

	for (i = 0; i < KTLS_TRAMPS; i++) {
		kfree(ktls_tramps[i]);
		ktls_tramps[i] = NULL;
	}
}
