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
 *
 * Return: 0 for an established TCP socket over IPv4 or IPv6 without a ULP;
 * -EPROTONOSUPPORT if it is not TCP, -EINVAL if it is listening,
 * -ENOTCONN if it is not established, -EBUSY if a ULP is attached.
 */
int ktls_sock_check_submit(struct socket *sock)
{
	struct sock *sk = sock->sk;
	int ret = 0;

	if (!sk || sock->type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return -EPROTONOSUPPORT;

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN)
		ret = -EINVAL;
	else if (sk->sk_state != TCP_ESTABLISHED)
		ret = -ENOTCONN;
	else if (inet_csk(sk)->icsk_ulp_ops)
		ret = -EBUSY;
	release_sock(sk);
	return ret;
}

/**
 * ktls_sock_has_ktls - does the socket run kernel TLS in both directions?
 * @sock: a TCP socket
 *
 * Return: true if the tls ULP is attached and both TX and RX are
 * configured (in software or on the NIC).
 */
bool ktls_sock_has_ktls(struct socket *sock)
{
	struct sock *sk = sock->sk;
	const struct tls_context *ctx;
	bool ret = false;

	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return false;
	lock_sock(sk);
	if (inet_csk(sk)->icsk_ulp_ops &&
	    !strcmp(inet_csk(sk)->icsk_ulp_ops->name, "tls")) {
		ctx = tls_get_ctx(sk);
		ret = ctx && ctx->tx_conf != TLS_BASE && ctx->rx_conf != TLS_BASE;
	}
	release_sock(sk);
	return ret;
}
