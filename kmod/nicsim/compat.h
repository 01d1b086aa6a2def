/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel-version differences of ktls_nicsim, and only those. */
#ifndef _KTLS_NICSIM_COMPAT_H
#define _KTLS_NICSIM_COMPAT_H

#include <linux/version.h>
#include <linux/skbuff.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/err.h>
#include <net/tls.h>
#include <net/rtnetlink.h>

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

/*
 * rtnl_link_ops.newlink() takes its arguments packed in a struct
 * rtnl_newlink_params since upstream's "rtnetlink: Pack newlink() params
 * into struct" (after 6.12: Debian's 6.12 has the old form, 7.3 the new).
 * kmod/Kbuild finds the struct in the kernel's header and defines
 * KTLS_HAVE_NEWLINK_PARAMS, so no version number has to be guessed.
 */
#ifdef KTLS_HAVE_NEWLINK_PARAMS
#define KTLS_NEWLINK_ARGS	struct net_device *dev, \
				struct rtnl_newlink_params *params, \
				struct netlink_ext_ack *extack
#define KTLS_NEWLINK_SRC_NET	(params->src_net)
#define KTLS_NEWLINK_TB		(params->tb)
#else
#define KTLS_NEWLINK_ARGS	struct net *ktls_src_net, struct net_device *dev, \
				struct nlattr *ktls_tb[], struct nlattr *data[], \
				struct netlink_ext_ack *extack
#define KTLS_NEWLINK_SRC_NET	ktls_src_net
#define KTLS_NEWLINK_TB		ktls_tb
#endif

/*
 * GHASH, for checking tags on receive.  Up to 6.12 it is the crypto API's
 * "ghash" shash; 7.3 has no such algorithm any more, only the library
 * functions of <crypto/gf128hash.h> (upstream's GF(2^128) hash library).
 * kmod/Kbuild defines KTLS_HAVE_GF128HASH when that header exists.
 */
#ifdef KTLS_HAVE_GF128HASH
#include <crypto/gf128hash.h>

struct nicsim_ghash {
	struct ghash_key key;
	struct ghash_ctx ctx;
};

static inline struct nicsim_ghash *nicsim_ghash_alloc(void)
{
	struct nicsim_ghash *g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);

	return g ?: ERR_PTR(-ENOMEM);
}

static inline int nicsim_ghash_setkey(struct nicsim_ghash *g, const u8 *h)
{
	ghash_preparekey(&g->key, h);
	return 0;
}

static inline int nicsim_ghash_init(struct nicsim_ghash *g)
{
	ghash_init(&g->ctx, &g->key);
	return 0;
}

static inline int nicsim_ghash_update(struct nicsim_ghash *g, const u8 *data,
				      unsigned int len)
{
	ghash_update(&g->ctx, data, len);
	return 0;
}

static inline int nicsim_ghash_final(struct nicsim_ghash *g, u8 *out)
{
	ghash_final(&g->ctx, out);
	return 0;
}

static inline void nicsim_ghash_free(struct nicsim_ghash *g)
{
	kfree_sensitive(g);
}
#else
#include <crypto/hash.h>

struct nicsim_ghash {
	struct crypto_shash *tfm;
	struct shash_desc *desc;
};

static inline void nicsim_ghash_free(struct nicsim_ghash *g)
{
	if (!g)
		return;
	kfree_sensitive(g->desc);
	if (!IS_ERR_OR_NULL(g->tfm))
		crypto_free_shash(g->tfm);
	kfree(g);
}

static inline struct nicsim_ghash *nicsim_ghash_alloc(void)
{
	struct nicsim_ghash *g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	int err;

	if (!g)
		return ERR_PTR(-ENOMEM);
	g->tfm = crypto_alloc_shash("ghash", 0, 0);
	if (IS_ERR(g->tfm)) {
		err = PTR_ERR(g->tfm);
		nicsim_ghash_free(g);
		return ERR_PTR(err);
	}
	g->desc = kzalloc(sizeof(*g->desc) + crypto_shash_descsize(g->tfm),
			  GFP_KERNEL_ACCOUNT);
	if (!g->desc) {
		nicsim_ghash_free(g);
		return ERR_PTR(-ENOMEM);
	}
	g->desc->tfm = g->tfm;
	return g;
}

static inline int nicsim_ghash_setkey(struct nicsim_ghash *g, const u8 *h)
{
	return crypto_shash_setkey(g->tfm, h, 16);
}

static inline int nicsim_ghash_init(struct nicsim_ghash *g)
{
	return crypto_shash_init(g->desc);
}

static inline int nicsim_ghash_update(struct nicsim_ghash *g, const u8 *data,
				      unsigned int len)
{
	return crypto_shash_update(g->desc, data, len);
}

static inline int nicsim_ghash_final(struct nicsim_ghash *g, u8 *out)
{
	return crypto_shash_final(g->desc, out);
}
#endif

#endif /* _KTLS_NICSIM_COMPAT_H */
