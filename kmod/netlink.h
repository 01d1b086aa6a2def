/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_NETLINK_H
#define _KTLS_OFFLOAD_NETLINK_H

int ktls_genl_init(void);
void ktls_genl_uninit(void);

#endif /* _KTLS_OFFLOAD_NETLINK_H */
