/* SPDX-License-Identifier: GPL-2.0 */
/* The one place that knows which kernel we build against. */
#ifndef _KTLS_OFFLOAD_COMPAT_H
#define _KTLS_OFFLOAD_COMPAT_H

#include <linux/version.h>
#include <net/genetlink.h>

/* Multicast groups got permission flags in 6.6; before, anyone may join. */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define KTLS_MCGRP_ADMIN_FLAGS	GENL_MCAST_CAP_NET_ADMIN
#else
#define KTLS_MCGRP_ADMIN_FLAGS	0
#endif

#endif /* _KTLS_OFFLOAD_COMPAT_H */
