/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel-version differences of ktls_nicsim, and only those. */
#ifndef _KTLS_NICSIM_COMPAT_H
#define _KTLS_NICSIM_COMPAT_H

#include <linux/version.h>
#include <linux/skbuff.h>
#include <linux/netdevice.h>
#include <net/tls.h>

/*
 * "Does this skb come from a socket whose TX is offloaded to the device":
 * 6.1 asks it of the socket (tls_is_sk_tx_device_offloaded); 6.4 and later
 * of the skb (tls_is_skb_tx_device_offloaded), which also checks skb->sk.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
static inline bool nicsim_skb_tx_offloaded(const struct sk_buff *skb)
{
	return tls_is_skb_tx_device_offloaded(skb);
}
#else
static inline bool nicsim_skb_tx_offloaded(const struct sk_buff *skb)
{
	return skb->sk && tls_is_sk_tx_device_offloaded(skb->sk);
}
#endif

/*
 * skb->decrypted exists with CONFIG_TLS_DEVICE on 6.1 and with
 * CONFIG_SKB_DECRYPTED (selected by TLS_DEVICE) from 6.10; both Debian
 * kernels have it.
 */
static inline void nicsim_skb_set_decrypted(struct sk_buff *skb, bool on)
{
	skb->decrypted = on;
}

/* Lockless TX became the netdev field lltx in 6.11; NETIF_F_LLTX before. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static inline void nicsim_set_lltx(struct net_device *dev)
{
	dev->lltx = true;
}
#else
static inline void nicsim_set_lltx(struct net_device *dev)
{
	dev->features |= NETIF_F_LLTX;
}
#endif

#endif /* _KTLS_NICSIM_COMPAT_H */
