/* SPDX-License-Identifier: GPL-2.0 */
/* The one place that knows which kernel we build against. */
#ifndef _KTLS_OFFLOAD_COMPAT_H
#define _KTLS_OFFLOAD_COMPAT_H

#include <linux/version.h>
#include <linux/fcntl.h>
#include <linux/net.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <net/request_sock.h>
#include <linux/sched/mm.h>

/*
 * Multicast groups got permission flags in 6.6; Debian's 6.1.192 has them
 * backported.  Where they are missing anyone may join "agents"; that gives
 * nothing but empty READY notifications, since ACCEPT itself needs
 * CAP_NET_ADMIN in the initial user namespace.
 */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define KTLS_MCGRP_ADMIN_FLAGS	GENL_MCAST_CAP_NET_ADMIN
#else
#define KTLS_MCGRP_ADMIN_FLAGS	0
#endif

/* proto.accept (the sock-level accept) takes a struct proto_accept_arg
 * since 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define KTLS_PROT_ACCEPT_ARGS	struct proto_accept_arg *arg
#define KTLS_PROT_ACCEPT_PASS	arg
#define KTLS_PROT_ACCEPT_NONBLOCK (arg->flags & O_NONBLOCK)
#define KTLS_PROT_ACCEPT_ERR(e)	(arg->err = (e))
#define KTLS_PROT_ACCEPT_GET_ERR (arg->err)
static inline struct sock *ktls_prot_accept_nonblock(struct proto *prot,
						     struct sock *sk,
						     struct proto_accept_arg *arg)
{
	struct proto_accept_arg a = *arg;
	struct sock *nsk;

	a.flags |= O_NONBLOCK;
	nsk = prot->accept(sk, &a);
	arg->err = a.err;
	arg->is_empty = a.is_empty;
	return nsk;
}
#else
#define KTLS_PROT_ACCEPT_ARGS	int flags, int *errp, bool kern
#define KTLS_PROT_ACCEPT_PASS	flags, errp, kern
#define KTLS_PROT_ACCEPT_NONBLOCK (flags & O_NONBLOCK)
#define KTLS_PROT_ACCEPT_ERR(e)	(*errp = (e))
#define KTLS_PROT_ACCEPT_GET_ERR (*errp)
static inline struct sock *ktls_prot_accept_nonblock(struct proto *prot,
						     struct sock *sk, int flags,
						     int *err, bool kern)
{
	return prot->accept(sk, flags | O_NONBLOCK, err, kern);
}
#endif

/* The memory cgroup a sock is charged to, for allocations on its behalf. */
static inline struct mem_cgroup *ktls_sk_memcg(const struct sock *sk)
{
#ifdef CONFIG_MEMCG
	return sk->sk_memcg;
#else
	return NULL;
#endif
}

/*
 * Disposing of a connection that never had a socket.  Up to 6.12 the
 * module does it as inet_csk_listen_stop() does (inet_child_forget():
 * sk_prot->disconnect, the orphan count, inet_csk_destroy_sock()) and
 * drops the request sock with reqsk_put().  7.3 exports none of
 * inet_csk_destroy_sock(), __reqsk_free() or the orphan counter, and
 * struct proto has no orphan_count.  kmod/Kbuild finds each on its own:
 * KTLS_NO_INET_CSK_DESTROY_SOCK when the kernel's Module.symvers lacks
 * inet_csk_destroy_sock or struct proto lacks orphan_count, and the module
 * then closes such a connection as accept() and close() with SO_LINGER 0
 * would (listen.c); KTLS_NO_REQSK_FREE when __reqsk_free, inline up to
 * 6.12, is an out-of-line function not exported, and the module then
 * drops a request sock through sock_gen_put(), which frees a
 * TCP_NEW_SYN_RECV one (the only state a request sock has) as reqsk_put()
 * does.
 */
#ifdef KTLS_NO_REQSK_FREE
static inline void ktls_reqsk_put(struct request_sock *req)
{
	sock_gen_put(req_to_sk(req));
}
#else
#define ktls_reqsk_put(req)	reqsk_put(req)
#endif

/*
 * struct proto's recvmsg lost its int *addr_len after 6.14, the first
 * kernel whose TLS takes new keys (rekey.c builds only from there): 7.3
 * has none.  Found by Kbuild in sock.h, not by version.
 */
#ifdef KTLS_PROT_RECVMSG_HAS_ADDR_LEN
#define KTLS_PROT_RECVMSG_ADDR_ARG	, int *addr_len
#define KTLS_PROT_RECVMSG_ADDR		, addr_len
#else
#define KTLS_PROT_RECVMSG_ADDR_ARG
#define KTLS_PROT_RECVMSG_ADDR
#endif

#endif /* _KTLS_OFFLOAD_COMPAT_H */
