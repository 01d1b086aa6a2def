/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_NETLINK_H
#define _KTLS_OFFLOAD_NETLINK_H

#include <net/net_namespace.h>

struct ktls_result;

int ktls_genl_init(void);
void ktls_genl_uninit(void);

int ktls_nl_notify_ready(struct net *net);
int ktls_nl_notify_complete(struct net *net, u32 portid, u32 id, u64 cookie,
			    const struct ktls_result *res);

#endif /* _KTLS_OFFLOAD_NETLINK_H */
