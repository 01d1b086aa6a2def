// SPDX-License-Identifier: GPL-2.0
/* What the broker asks of the sockets it is given. */

#include <linux/net.h>
#include <linux/tcp.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tls.h>

#include "sock.h"

/**
 * ktls_sock_check_submit - may this socket be handed to an agent?
 * @sock: the socket a requester submitted
 * @net: the requester's network namespace
 *
 * Looks without the socket lock, which the requester may hold for as long
 * as it likes (a netlink handler must not wait for it): a snapshot, as
 * good as any, since the state may change the moment after either way.
 *
 * Return: 0 for an established TCP socket of @net over IPv4 or IPv6
 * without a ULP; -EPROTONOSUPPORT if it is not TCP, -EXDEV if it belongs to
 * another network namespace, -EINVAL if it is listening, -ENOTCONN if it
 * is not established, -EBUSY if a ULP is attached.
 */
int ktls_sock_check_submit(struct socket *sock, const struct net *net)
{
	struct sock *sk = sock->sk;
	int state;

	if (!sk || sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return -EPROTONOSUPPORT;
	/* Its namespace's agents, limits and routes are the ones that apply. */
	if (!net_eq(sock_net(sk), net))
		return -EXDEV;

	state = READ_ONCE(sk->sk_state);
	if (state == TCP_LISTEN)
		return -EINVAL;
	if (state != TCP_ESTABLISHED)
		return -ENOTCONN;
	if (READ_ONCE(inet_csk(sk)->icsk_ulp_ops))
		return -EBUSY;
	return 0;
}

/**
 * ktls_sock_tls_info - the kernel TLS a socket runs, as the kernel has it
 * @sk: a TCP sock, referenced by the caller
 * @version: receives TLS_1_2_VERSION or TLS_1_3_VERSION
 * @cipher: receives the TLS_CIPHER_* of both directions
 *
 * Reads the tls context under RCU, as tls_get_info() does for sock_diag,
 * and never takes the socket lock: the requester owns the socket and may
 * hold its lock for as long as it likes, and a netlink handler must not
 * wait for it.  A direction's configuration does not change once set.
 *
 * Return: 0 if the tls ULP is attached and both TX and RX are configured
 * (in software or on the NIC), with the same version and cipher;
 * -EPROTO otherwise.
 */
int ktls_sock_tls_info(struct sock *sk, u16 *version, u16 *cipher)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct tcp_ulp_ops *ulp;
	const struct tls_context *ctx;
	int ret = -EPROTO;

	if (sk->sk_protocol != IPPROTO_TCP)
		return -EPROTO;
	rcu_read_lock();
	ulp = READ_ONCE(icsk->icsk_ulp_ops);
	ctx = rcu_dereference(icsk->icsk_ulp_data);
	if (ulp && ctx && !strcmp(ulp->name, "tls") &&
	    ctx->tx_conf != TLS_BASE && ctx->rx_conf != TLS_BASE) {
		const struct tls_crypto_info *tx = &ctx->crypto_send.info;
		const struct tls_crypto_info *rx = &ctx->crypto_recv.info;

		if (tx->version == rx->version && tx->cipher_type == rx->cipher_type &&
		    tx->version == ctx->prot_info.version &&
		    tx->cipher_type == ctx->prot_info.cipher_type) {
			*version = tx->version;
			*cipher = tx->cipher_type;
			ret = 0;
		}
	}
	rcu_read_unlock();
	return ret;
}
