// SPDX-License-Identifier: GPL-2.0
/*
 * TLS 1.3 KeyUpdate (RFC 8446 4.6.3) on the connections the module hands
 * back, on kernels whose TLS can take new keys (6.14 on): the design and
 * why the secrets live here are in doc/keyupdate.md.
 *
 * With a TLS 1.3 success the agent gives the two application traffic
 * secrets; the module keeps them with the connection (a struct ktls_rk
 * found through sk_user_data, which a kTLS socket does not otherwise use:
 * sockmap refuses a sock that has it) and gives the sock a copy of tls's
 * proto with recvmsg, sendmsg, setsockopt, close and release_cb wrapped.
 *
 * Receive: tls stops after decrypting a record that starts a KeyUpdate
 * (key_update_pending: reads fail with EKEYEXPIRED, poll() says not
 * readable).  The wrapped recvmsg reads the caller's data with no room
 * for control messages, so a non-data record stops the read with EIO
 * before it reaches the caller; the KeyUpdate is then taken off the end
 * of tls's queue of decrypted records (also behind data only peeked at),
 * checked (alerts as ktls_recv() sends them), the next receive key set,
 * and the read goes on.  Any other non-data record goes to a caller that
 * gave room for its type (libktls), as tls would have given it.
 *
 * Send: a KeyUpdate of ours goes out before the next data when the peer
 * asked for one (update_requested), or when the data sent under the
 * current key reaches the limit (the agent's key_update_after, or the
 * cipher's record limit of RFC 8446 5.5 / RFC 9147 4.5.3).  The KeyUpdate
 * record and the switch of the send key happen under the connection's
 * tx_lock, which every send takes, so no data slips in between.
 *
 * Lifetime: the ktls_rk and one module reference live from install until
 * the wrapped close, which tls's close precedes, or until the sock is
 * freed without a close (our sk_destruct: a connection still queued on a
 * listener that stops); rmmod fails with EBUSY
 * while such a connection is open (a call may sleep inside tls's
 * recvmsg or sendmsg under our wrapper, so unload cannot take the hooks
 * off instead).  A setsockopt of TLS_TX or TLS_RX by
 * the owner is refused (EBUSY, as kernels without rekey answer): it would
 * take the keys out of step with the secrets.  Each rekey setsockopt of
 * ours makes tls put its own proto back; the wrapper puts ours back at
 * once (callers of the socket hold its file, so close cannot run then).
 *
 * Not covered: splice_read and read_sock (proto_ops of tls, not of the
 * sock) meet a KeyUpdate as they do without the module, with an error;
 * so does a read by another thread in the moment between tls's
 * setsockopt putting its proto back and ours being put back.
 */

#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "rekey.h"

#ifdef KTLS_HAVE_TLS_REKEY

#include <crypto/sha2.h>
#include <net/strparser.h>
#include <linux/unaligned.h>
#include <net/tls.h>
#include <net/tls_prot.h>

#define KTLS_HS_KEY_UPDATE	24
#define KTLS_ALERT_FATAL	2
#define KTLS_ALERT_UNEXPECTED	10
#define KTLS_ALERT_ILLEGAL	47
#define KTLS_ALERT_DECODE	50
#define KTLS_ALERT_INTERNAL	80
/* KeyUpdates in a row with no data between them before unexpected_message */
#define KTLS_KU_RUN_MAX		16

struct ktls_rk {
	struct proto		prot;		/* tls's, with our hooks */
	struct proto		*tls_prot;
	const struct proto_ops	*graft_ops;	/* listener: for accept()'s socket */
	void			(*orig_destruct)(struct sock *sk);
	struct mutex		tx_lock;	/* sends; our KeyUpdate and its TLS_TX */
	struct mutex		rx_lock;	/* taking a KeyUpdate, for one reader */
	u64			tx_limit;	/* bytes under one send key; 0: none */
	u64			tx_bytes;	/* under tx_lock */
	u64			rec_limit;	/* records under one send key */
	bool			tx_owed;	/* the peer asked for our KeyUpdate */
	atomic_t		ku_run;		/* KeyUpdates since data was read */
	unsigned int		ku_taken;	/* KeyUpdates taken; under rx_lock */
	int			err;		/* a positive errno: the connection failed */
	u16			cipher;
	u8			hash_len, key_len, salt_len, iv_len;
	u8			tx_secret[KTLS_SECRET_MAX];	/* under tx_lock */
	u8			rx_secret[KTLS_SECRET_MAX];	/* under rx_lock */
};

static void ktls_rk_destruct(struct sock *sk);

bool ktls_rekey_supported(void)
{
	return true;
}

static struct ktls_rk *ktls_rk_get(struct sock *sk)
{
	struct ktls_rk *rk;

	rcu_read_lock();
	rk = rcu_dereference_sk_user_data(sk);
	rcu_read_unlock();
	return rk;
}

static bool ktls_rk_pending(struct sock *sk)
{
	struct tls_context *ctx = tls_get_ctx(sk);

	return ctx && ctx->rx_conf == TLS_SW &&
	       READ_ONCE(tls_sw_ctx_rx(ctx)->key_update_pending);
}

/* HKDF-Expand-Label(secret, label, "", len) for len <= the hash's size. */
static void ktls_hkdf_label(const struct ktls_rk *rk, const u8 *secret,
			    const char *label, u8 *out, u8 len)
{
	u8 info[2 + 1 + 6 + 16 + 1 + 1];
	u8 t[SHA384_DIGEST_SIZE];
	size_t l = strlen(label), n = 0;

	info[n++] = 0;
	info[n++] = len;
	info[n++] = 6 + l;
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, l);
	n += l;
	info[n++] = 0;		/* empty context */
	info[n++] = 1;		/* HKDF-Expand's counter: one block */
	if (rk->hash_len == SHA384_DIGEST_SIZE)
		hmac_sha384_usingrawkey(secret, rk->hash_len, info, n, t);
	else
		hmac_sha256_usingrawkey(secret, rk->hash_len, info, n, t);
	memcpy(out, t, len);
	memzero_explicit(t, sizeof(t));
}

/* Puts our proto back after tls's setsockopt put its own. */
static void ktls_rk_reinstall(struct sock *sk, struct ktls_rk *rk)
{
	cmpxchg(&sk->sk_prot, rk->tls_prot, &rk->prot);
}

/*
 * Keys reach tls through a page of the calling process: tls copies a
 * kernel sockptr's key with a memcpy that FORTIFY_SOURCE takes for a
 * field-spanning write (a WARNING, a panic with panic_on_warn).  The page
 * is private and anonymous, in the process that owns the socket (which
 * could read the installed key with getsockopt(TLS_TX/TLS_RX) anyway), and
 * is wiped and unmapped at once.  Callers are that process's recvmsg and
 * sendmsg; the page is mapped before anything is sent, so that a failure
 * here (a fatal signal, a memory limit) leaves the connection as it was.
 */
static int ktls_kpage_map(unsigned long *uaddr)
{
	if (!current->mm || (current->flags & PF_KTHREAD))
		return -EOPNOTSUPP;
	*uaddr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, 0);
	return IS_ERR_VALUE(*uaddr) ? (int)*uaddr : 0;
}

static void ktls_kpage_unmap(unsigned long uaddr)
{
	if (clear_user((void __user *)uaddr, PAGE_SIZE))
		pr_debug("rekey: key page not wiped\n");
	vm_munmap(uaddr, PAGE_SIZE);
}

/*
 * Derives the next secret of one direction (RFC 8446 7.2) and installs its
 * key through the page at @uaddr; the secret moves on only if the kernel
 * took the key.
 */
static int ktls_rk_next(struct sock *sk, struct ktls_rk *rk, u8 *secret, int optname,
			unsigned long uaddr)
{
	u8 next[KTLS_SECRET_MAX], key[32], iv[12];
	u8 ci[sizeof(struct tls_crypto_info) + 12 + 32 + 4 + 8] = {};
	struct tls_crypto_info *info = (struct tls_crypto_info *)ci;
	void __user *u = (void __user *)uaddr;
	u8 *p = ci + sizeof(*info);
	int err;

	ktls_hkdf_label(rk, secret, "traffic upd", next, rk->hash_len);
	ktls_hkdf_label(rk, next, "key", key, rk->key_len);
	ktls_hkdf_label(rk, next, "iv", iv, sizeof(iv));
	info->version = TLS_1_3_VERSION;
	info->cipher_type = rk->cipher;
	memcpy(p, iv + rk->salt_len, rk->iv_len);
	p += rk->iv_len;
	memcpy(p, key, rk->key_len);
	p += rk->key_len;
	memcpy(p, iv, rk->salt_len);
	p += rk->salt_len + 8;	/* the record sequence starts at 0 */

	err = copy_to_user(u, ci, p - ci) ? -EFAULT :
	      rk->tls_prot->setsockopt(sk, SOL_TLS, optname, USER_SOCKPTR(u), p - ci);
	ktls_rk_reinstall(sk, rk);
	if (!err)
		memcpy(secret, next, rk->hash_len);
	memzero_explicit(next, sizeof(next));
	memzero_explicit(key, sizeof(key));
	memzero_explicit(iv, sizeof(iv));
	memzero_explicit(ci, sizeof(ci));
	return err;
}

/*
 * One record of @type under the current send key; tx_lock held.  Never a
 * SIGPIPE: the caller may be a reader, or a sender that asked for none.
 */
static int ktls_rk_send(struct sock *sk, struct ktls_rk *rk, u8 type,
			const u8 *buf, size_t len, int flags)
{
	union {
		struct cmsghdr h;
		u8 b[CMSG_SPACE(sizeof(u8))];
	} c = {};
	struct msghdr m = { .msg_flags = flags | MSG_NOSIGNAL };
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };

	m.msg_control = &c;
	m.msg_controllen = sizeof(c);
	c.h.cmsg_level = SOL_TLS;
	c.h.cmsg_type = TLS_SET_RECORD_TYPE;
	c.h.cmsg_len = CMSG_LEN(sizeof(u8));
	*(u8 *)CMSG_DATA(&c.h) = type;
	iov_iter_kvec(&m.msg_iter, ITER_SOURCE, &iov, 1, len);
	return rk->tls_prot->sendmsg(sk, &m, len);
}

/*
 * The connection fails here: a fatal alert if the send side is free (it
 * may not wait behind a blocked send) and open, then every read and send
 * fails with EBADMSG, as tls's own decrypt failures end a connection.
 */
static int ktls_rk_fail(struct sock *sk, struct ktls_rk *rk, u8 desc)
{
	u8 alert[2] = { KTLS_ALERT_FATAL, desc };

	if (!READ_ONCE(rk->err) && !(READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) &&
	    mutex_trylock(&rk->tx_lock)) {
		ktls_rk_send(sk, rk, TLS_RECORD_TYPE_ALERT, alert, sizeof(alert),
			     MSG_DONTWAIT);
		mutex_unlock(&rk->tx_lock);
	}
	WRITE_ONCE(rk->err, EBADMSG);
	WRITE_ONCE(sk->sk_err, EBADMSG);
	sk_error_report(sk);
	return -EBADMSG;
}

/*
 * Takes the KeyUpdate record tls flagged off its queue of decrypted
 * records: always the last one, since tls decrypts nothing after it, with
 * data records the caller has not read (or only peeked at) before it.
 * Under the socket lock with no reader inside tls (tls's own reader lock
 * rule); a reader that is there returns at once while a KeyUpdate is
 * pending.  Copies up to @len bytes of it to @rec.
 *
 * With @intr false (after a read that returned data, when there is no
 * later call to report to) a signal does not end the wait: the reader
 * there leaves at once.
 *
 * Return: the record's length; 0 if no KeyUpdate is pending any more;
 * -ENOENT if one is pending but not there (taken by a read that bypassed
 * us); -ERESTARTSYS.
 */
static int ktls_rk_take(struct sock *sk, u8 *rec, int len, bool intr)
{
	struct tls_sw_context_rx *ctx = tls_sw_ctx_rx(tls_get_ctx(sk));
	long timeo = MAX_SCHEDULE_TIMEOUT;
	struct strp_msg *rxm;
	struct sk_buff *skb;
	int n = 0;

	lock_sock(sk);
	while (READ_ONCE(ctx->reader_present)) {
		DEFINE_WAIT_FUNC(wait, woken_wake_function);

		ctx->reader_contended = 1;
		add_wait_queue(&ctx->wq, &wait);
		sk_wait_event(sk, &timeo, !READ_ONCE(ctx->reader_present), &wait);
		remove_wait_queue(&ctx->wq, &wait);
		if (signal_pending(current)) {
			if (intr) {
				release_sock(sk);
				return -ERESTARTSYS;
			}
			release_sock(sk);
			cond_resched();
			lock_sock(sk);
		}
	}
	if (!READ_ONCE(ctx->key_update_pending)) {
		release_sock(sk);
		return 0;
	}
	n = -ENOENT;
	skb = skb_peek_tail(&ctx->rx_list);
	if (skb && ((struct sk_skb_cb *)skb->cb)->tls.control == TLS_RECORD_TYPE_HANDSHAKE) {
		rxm = strp_msg(skb);
		if (rxm->full_len > 0 &&
		    !skb_copy_bits(skb, rxm->offset, rec, min_t(int, rxm->full_len, len)) &&
		    rec[0] == KTLS_HS_KEY_UPDATE) {
			n = rxm->full_len;
			__skb_unlink(skb, &ctx->rx_list);
			consume_skb(skb);
		}
	}
	release_sock(sk);
	return n;
}

/*
 * A KeyUpdate from the peer: take it, check it (RFC 8446 4.6.3 and 5.1)
 * and install the next receive key.  Anything that leaves it pending
 * without a signal to report fails the connection: tls's poll would
 * otherwise never report the socket readable again.
 */
static int __ktls_rk_rx_update(struct sock *sk, struct ktls_rk *rk, bool intr)
{
	unsigned long uaddr;
	u8 rec[8];
	size_t mlen;
	int n, err;

	if (READ_ONCE(rk->err) || !ktls_rk_pending(sk))
		return 0;	/* failed already, or another reader took it */
	err = ktls_kpage_map(&uaddr);
	if (err)
		return intr && (err == -EINTR || err == -ERESTARTSYS) ? err :
		       ktls_rk_fail(sk, rk, KTLS_ALERT_INTERNAL);
	n = ktls_rk_take(sk, rec, sizeof(rec), intr);
	if (n <= 0) {
		ktls_kpage_unmap(uaddr);
		return n == -ENOENT ? ktls_rk_fail(sk, rk, KTLS_ALERT_INTERNAL) : n;
	}
	WRITE_ONCE(rk->ku_taken, rk->ku_taken + 1);
	/* a message before a key change ends with its record (5.1) */
	if (n < 4) {
		err = ktls_rk_fail(sk, rk, KTLS_ALERT_UNEXPECTED);
		goto out;
	}
	mlen = (size_t)rec[1] << 16 | (size_t)rec[2] << 8 | rec[3];
	if (mlen != 1)
		err = ktls_rk_fail(sk, rk, KTLS_ALERT_DECODE);
	else if (n != 5)
		err = ktls_rk_fail(sk, rk, KTLS_ALERT_UNEXPECTED);
	else if (rec[4] > 1)	/* update_not_requested, update_requested */
		err = ktls_rk_fail(sk, rk, KTLS_ALERT_ILLEGAL);
	else if (atomic_inc_return(&rk->ku_run) > KTLS_KU_RUN_MAX)
		/* KeyUpdates and nothing else: bounded, as warning alerts are */
		err = ktls_rk_fail(sk, rk, KTLS_ALERT_UNEXPECTED);
	else if (ktls_rk_next(sk, rk, rk->rx_secret, TLS_RX, uaddr))
		err = ktls_rk_fail(sk, rk, KTLS_ALERT_INTERNAL);
	else if (rec[4])
		WRITE_ONCE(rk->tx_owed, true);
out:
	ktls_kpage_unmap(uaddr);
	return err;
}

/* One reader at a time takes a KeyUpdate. */
static int ktls_rk_rx_update(struct sock *sk, struct ktls_rk *rk, bool intr)
{
	int err;

	if (!intr)
		mutex_lock(&rk->rx_lock);
	else if (mutex_lock_interruptible(&rk->rx_lock))
		return -ERESTARTSYS;
	err = __ktls_rk_rx_update(sk, rk, intr);
	mutex_unlock(&rk->rx_lock);
	return err;
}

static int ktls_rk_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			   int flags KTLS_PROT_RECVMSG_ADDR_ARG)
{
	struct ktls_rk *rk = ktls_rk_get(sk);
	size_t ctllen = msg->msg_controllen;
	u8 data = TLS_RECORD_TYPE_DATA;
	unsigned int taken;
	int ret, err;

	if (WARN_ON_ONCE(!rk))
		return -EINVAL;
	if (flags & MSG_ERRQUEUE)
		return rk->tls_prot->recvmsg(sk, msg, len, flags KTLS_PROT_RECVMSG_ADDR);
	for (;;) {
		err = READ_ONCE(rk->err);
		if (err)
			return -err;
		if (ktls_rk_pending(sk)) {
			err = ktls_rk_rx_update(sk, rk, true);
			if (err < 0)
				return err;
			continue;
		}
		taken = READ_ONCE(rk->ku_taken);
		/* no room for a control message: a non-data record stops here */
		msg->msg_controllen = 0;
		ret = rk->tls_prot->recvmsg(sk, msg, len, flags KTLS_PROT_RECVMSG_ADDR);
		msg->msg_controllen = ctllen;
		msg->msg_flags &= ~MSG_CTRUNC;
		if (ret > 0) {
			if (!(flags & MSG_PEEK))
				atomic_set(&rk->ku_run, 0);
			if (ctllen)
				put_cmsg(msg, SOL_TLS, TLS_GET_RECORD_TYPE, sizeof(data), &data);
			/*
			 * At once, even behind data only peeked at: tls's poll
			 * reports nothing readable while a KeyUpdate is pending.
			 * Nothing is left pending here (a failure fails the
			 * connection, which the next call reports).
			 */
			if (ktls_rk_pending(sk))
				ktls_rk_rx_update(sk, rk, false);
			return ret;
		}
		if (ret != -EIO && ret != -EKEYEXPIRED)
			return ret;
		/* a KeyUpdate met here, or taken meanwhile by another reader */
		if (ktls_rk_pending(sk) || READ_ONCE(rk->ku_taken) != taken)
			continue;
		if (ret == -EKEYEXPIRED || !ctllen)
			return ret;
		/*
		 * Another non-data record, for a caller that takes them; not
		 * waiting (another reader may have taken it meanwhile).
		 */
		mutex_lock(&rk->rx_lock);
		if (!ktls_rk_pending(sk) && !READ_ONCE(rk->err))
			ret = rk->tls_prot->recvmsg(sk, msg, len, flags | MSG_DONTWAIT
						    KTLS_PROT_RECVMSG_ADDR);
		mutex_unlock(&rk->rx_lock);
		if (ktls_rk_pending(sk) || READ_ONCE(rk->err) ||
		    (ret == -EAGAIN && !(flags & MSG_DONTWAIT)))
			continue;
		return ret;
	}
}

static bool ktls_rk_tx_due(struct sock *sk, struct ktls_rk *rk)
{
	struct tls_context *ctx = tls_get_ctx(sk);
	u64 recs = 0;

	if (READ_ONCE(rk->tx_owed) || (rk->tx_limit && rk->tx_bytes >= rk->tx_limit))
		return true;
	if (ctx)
		recs = get_unaligned_be64(ctx->tx.rec_seq);
	return recs >= rk->rec_limit;
}

/* Our KeyUpdate, then the next send key; tx_lock held. */
static int ktls_rk_tx_update(struct sock *sk, struct ktls_rk *rk, int flags)
{
	static const u8 ku[5] = { KTLS_HS_KEY_UPDATE, 0, 0, 1, 0 };
	unsigned long uaddr;
	int n;

	n = ktls_kpage_map(&uaddr);	/* before anything is sent */
	if (n)
		return n;
	n = ktls_rk_send(sk, rk, TLS_RECORD_TYPE_HANDSHAKE, ku, sizeof(ku), flags);
	if (n == -EAGAIN || n == -EINTR || n == -ERESTARTSYS) {
		ktls_kpage_unmap(uaddr);
		return n;
	}
	if (n != sizeof(ku) || ktls_rk_next(sk, rk, rk->tx_secret, TLS_TX, uaddr)) {
		/* the peer has the KeyUpdate, or part of it: no way back */
		ktls_kpage_unmap(uaddr);
		WRITE_ONCE(rk->err, EIO);
		WRITE_ONCE(sk->sk_err, EIO);
		sk_error_report(sk);
		return n < 0 ? n : -EIO;
	}
	ktls_kpage_unmap(uaddr);
	rk->tx_bytes = 0;
	WRITE_ONCE(rk->tx_owed, false);
	return 0;
}

/* A handshake record of the owner's own (a KeyUpdate) would desynchronise us. */
static bool ktls_rk_owner_handshake(struct msghdr *msg)
{
	struct cmsghdr *cmsg;

	if (!msg->msg_controllen || msg->msg_control_is_user)
		return false;
	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return false;
		if (cmsg->cmsg_level == SOL_TLS && cmsg->cmsg_type == TLS_SET_RECORD_TYPE &&
		    cmsg->cmsg_len >= CMSG_LEN(sizeof(u8)) &&
		    *(u8 *)CMSG_DATA(cmsg) == TLS_RECORD_TYPE_HANDSHAKE)
			return true;
	}
	return false;
}

static int ktls_rk_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct ktls_rk *rk = ktls_rk_get(sk);
	int ret;

	if (WARN_ON_ONCE(!rk))
		return -EINVAL;
	if (ktls_rk_owner_handshake(msg))
		return -EBUSY;
	if (mutex_lock_interruptible(&rk->tx_lock))
		return -ERESTARTSYS;
	ret = READ_ONCE(rk->err) ? -READ_ONCE(rk->err) : 0;
	if (!ret && ktls_rk_tx_due(sk, rk))
		ret = ktls_rk_tx_update(sk, rk, msg->msg_flags & MSG_DONTWAIT);
	if (!ret) {
		ret = rk->tls_prot->sendmsg(sk, msg, len);
		if (ret > 0)
			rk->tx_bytes += ret;
	}
	mutex_unlock(&rk->tx_lock);
	return ret;
}

static int ktls_rk_setsockopt(struct sock *sk, int level, int optname,
			      sockptr_t optval, unsigned int optlen)
{
	struct ktls_rk *rk = ktls_rk_get(sk);
	int ret;

	if (WARN_ON_ONCE(!rk))
		return -EINVAL;
	if (level == SOL_TLS && (optname == TLS_TX || optname == TLS_RX))
		return -EBUSY;
	ret = rk->tls_prot->setsockopt(sk, level, optname, optval, optlen);
	ktls_rk_reinstall(sk, rk);
	return ret;
}

static void ktls_rk_free(struct ktls_rk *rk)
{
	mutex_destroy(&rk->tx_lock);
	mutex_destroy(&rk->rx_lock);
	kfree_sensitive(rk);
	/*
	 * The last reference may go here, at once, so that rmmod works as
	 * soon as the last such connection is gone.  What is left of this
	 * function runs inside an RCU read section, which the module's exit
	 * waits for (ktls_rekey_uninit()) before its text can go.
	 */
	rcu_read_lock();
	module_put(THIS_MODULE);
	rcu_read_unlock();
}

static void ktls_rk_close(struct sock *sk, long timeout)
{
	struct ktls_rk *rk = ktls_rk_get(sk);
	struct proto *tls_prot;

	if (WARN_ON_ONCE(!rk))
		return;
	tls_prot = rk->tls_prot;
	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sk->sk_prot, tls_prot);
	if (sk->sk_destruct == ktls_rk_destruct)
		sk->sk_destruct = rk->orig_destruct;
	write_unlock_bh(&sk->sk_callback_lock);
	/*
	 * sk_user_data stays until tls's close has stopped its send worker,
	 * whose release_sock() may still call our release_cb.
	 */
	tls_prot->close(sk, timeout);
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	ktls_rk_free(rk);
}

/*
 * A connection freed without a close: one still on an attached
 * listener's accept queue when the listener stops (inet_csk_listen_stop()
 * disconnects and destroys it), or reset there.
 */
static void ktls_rk_destruct(struct sock *sk)
{
	struct ktls_rk *rk = rcu_dereference_protected(sk->sk_user_data, 1);

	rk = (struct ktls_rk *)((uintptr_t)rk & SK_USER_DATA_PTRMASK);
	if (WARN_ON_ONCE(!rk))
		return;
	sk->sk_destruct = rk->orig_destruct;
	RCU_INIT_POINTER(sk->sk_user_data, NULL);
	WRITE_ONCE(sk->sk_prot, sk->sk_prot_creator);
	if (sk->sk_destruct)
		sk->sk_destruct(sk);
	ktls_rk_free(rk);
}

/* A listener's connection: accept()'s socket gets the ops tls set. */
static void ktls_rk_release_cb(struct sock *sk)
{
	struct ktls_rk *rk = ktls_rk_get(sk);
	struct socket *sock = sk->sk_socket;
	const struct proto_ops *ops;

	if (!rk) {	/* not ours any more: what tls's would call */
		if (sk->sk_prot_creator->release_cb)
			sk->sk_prot_creator->release_cb(sk);
		return;
	}
	ops = READ_ONCE(rk->graft_ops);
	if (ops && sock && sock->sk == sk) {
		const struct proto_ops *old = sock->ops;

		if (old != ops) {
			if (old->owner != ops->owner) {
				__module_get(ops->owner);
				module_put(old->owner);
			}
			WRITE_ONCE(sock->ops, ops);
		}
		WRITE_ONCE(rk->graft_ops, NULL);
	}
	if (rk->tls_prot->release_cb)
		rk->tls_prot->release_cb(sk);
}

static int ktls_rk_params(struct ktls_rk *rk, u16 cipher)
{
	rk->cipher = cipher;
	rk->hash_len = SHA256_DIGEST_SIZE;
	rk->salt_len = 4;
	rk->iv_len = 8;
	switch (cipher) {
	case TLS_CIPHER_AES_GCM_128:
		rk->key_len = 16;
		rk->rec_limit = 23726566;	/* 2^24.5 full records, RFC 8446 5.5 */
		return 0;
	case TLS_CIPHER_AES_GCM_256:
		rk->hash_len = SHA384_DIGEST_SIZE;
		rk->key_len = 32;
		rk->rec_limit = 23726566;
		return 0;
	case TLS_CIPHER_AES_CCM_128:
		rk->key_len = 16;
		rk->rec_limit = 11863283;	/* 2^23.5, RFC 9147 4.5.3 */
		return 0;
	case TLS_CIPHER_CHACHA20_POLY1305:
		rk->key_len = 32;
		rk->salt_len = 0;
		rk->iv_len = 12;
		rk->rec_limit = U64_MAX;	/* the sequence wraps first */
		return 0;
	}
	return -EOPNOTSUPP;
}

/**
 * ktls_rekey_install - keep @s with @sk and answer its KeyUpdates
 * @sk: a TCP sock with kernel TLS 1.3 in software both ways, whose file the
 *	caller holds (so no close runs meanwhile)
 * @s: the secrets; wiped here whatever the outcome
 *
 * Takes neither the socket lock nor anything that waits for it.
 *
 * Return: 0, or -EOPNOTSUPP (not TLS 1.3 in software, or an unknown
 * cipher), -EINVAL (secrets of the wrong size), -EBUSY (sk_user_data in
 * use, or the proto changed under us), -ENODEV (module going), -ENOMEM.
 */
int ktls_rekey_install(struct sock *sk, struct ktls_secrets *s)
{
	struct tls_context *ctx;
	struct proto *tls_prot;
	struct ktls_rk *rk;
	int err = -EOPNOTSUPP;

	rk = kzalloc(sizeof(*rk), GFP_KERNEL);
	if (!rk) {
		memzero_explicit(s, sizeof(*s));
		return -ENOMEM;
	}
	rcu_read_lock();
	ctx = tls_get_ctx(sk);
	if (sk->sk_protocol == IPPROTO_TCP && ctx && inet_csk_has_ulp(sk) &&
	    !strcmp(inet_csk(sk)->icsk_ulp_ops->name, "tls") &&
	    ctx->tx_conf == TLS_SW && ctx->rx_conf == TLS_SW &&
	    ctx->prot_info.version == TLS_1_3_VERSION)
		err = ktls_rk_params(rk, ctx->prot_info.cipher_type);
	rcu_read_unlock();
	if (!err && s->len != rk->hash_len)
		err = -EINVAL;
	if (err)
		goto out;
	err = -ENODEV;
	if (!try_module_get(THIS_MODULE))
		goto out;

	tls_prot = READ_ONCE(sk->sk_prot);
	rk->tls_prot = tls_prot;
	rk->prot = *tls_prot;
	rk->prot.recvmsg = ktls_rk_recvmsg;
	rk->prot.sendmsg = ktls_rk_sendmsg;
	rk->prot.setsockopt = ktls_rk_setsockopt;
	rk->prot.close = ktls_rk_close;
	rk->prot.release_cb = ktls_rk_release_cb;
	mutex_init(&rk->tx_lock);
	mutex_init(&rk->rx_lock);
	rk->tx_limit = s->tx_limit;
	memcpy(rk->tx_secret, s->tx, s->len);
	memcpy(rk->rx_secret, s->rx, s->len);

	err = -EBUSY;
	write_lock_bh(&sk->sk_callback_lock);
	if (!rcu_access_pointer(sk->sk_user_data) && tls_prot->close != ktls_rk_close) {
		rcu_assign_sk_user_data(sk, rk);
		if (cmpxchg(&sk->sk_prot, tls_prot, &rk->prot) == tls_prot) {
			rk->orig_destruct = sk->sk_destruct;
			sk->sk_destruct = ktls_rk_destruct;
			err = 0;
		} else {
			rcu_assign_sk_user_data(sk, NULL);
		}
	}
	write_unlock_bh(&sk->sk_callback_lock);
	if (err)
		module_put(THIS_MODULE);
out:
	memzero_explicit(s, sizeof(*s));
	if (err)
		kfree_sensitive(rk);
	return err;
}

/**
 * ktls_rekey_graft_arm - a listener's connection carries KeyUpdate hooks
 * @sk: the connection, off every socket, its lock held
 * @ops: the proto_ops tls set, for the socket accept() will make
 *
 * Return: true if @sk carries them (and then needs no trampoline).
 */
bool ktls_rekey_graft_arm(struct sock *sk, const struct proto_ops *ops)
{
	struct ktls_rk *rk;

	if (READ_ONCE(sk->sk_prot)->close != ktls_rk_close)
		return false;
	rk = ktls_rk_get(sk);
	WRITE_ONCE(rk->graft_ops, ops);
	return true;
}

/* Unload: a close that dropped the last reference has left our code. */
void ktls_rekey_uninit(void)
{
	synchronize_rcu();
}

#else /* !KTLS_HAVE_TLS_REKEY */

bool ktls_rekey_supported(void)
{
	return false;
}

int ktls_rekey_install(struct sock *sk, struct ktls_secrets *s)
{
	memzero_explicit(s, sizeof(*s));
	return -EOPNOTSUPP;
}

bool ktls_rekey_graft_arm(struct sock *sk, const struct proto_ops *ops)
{
	return false;
}

void ktls_rekey_uninit(void)
{
}

#endif /* KTLS_HAVE_TLS_REKEY */
