/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_SOCK_H
#define _KTLS_OFFLOAD_SOCK_H

#include <linux/net.h>
#include <net/net_namespace.h>

struct sock;

int ktls_sock_check_submit(struct socket *sock, const struct net *net);
int ktls_sock_tls_info(struct sock *sk, u16 *version, u16 *cipher);

#endif /* _KTLS_OFFLOAD_SOCK_H */
