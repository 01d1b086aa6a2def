/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_SOCK_H
#define _KTLS_OFFLOAD_SOCK_H

#include <linux/net.h>

int ktls_sock_check_submit(struct socket *sock);
bool ktls_sock_has_ktls(struct socket *sock);

#endif /* _KTLS_OFFLOAD_SOCK_H */
