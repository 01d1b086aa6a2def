// SPDX-License-Identifier: GPL-2.0
/*
 * ktls_nicsim devices: a pair like veth, created by
 *   ip link add NAME type ktls_nicsim
 * which also creates the peer NAMEp (iproute2 passes "peer" only to the link
 * types it knows).  Deleting either deletes both; rmmod deletes all; so
 * does dismantling the network namespace either end is in.
 */
#include <linux/module.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/random.h>
#include <linux/tcp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>
#include <net/checksum.h>
#include <net/rtnetlink.h>
#include <net/tls.h>

#include "nicsim.h"
#include "compat.h"

/* how long a packet reorder_permille held back waits for a next one */
#define NICSIM_HOLD_JIFFIES	msecs_to_jiffies(10)

#define NICSIM_FEATURES (NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM | \
			 NETIF_F_HIGHDMA | NETIF_F_GSO_SOFTWARE | \
			 NETIF_F_HW_TLS_TX | NETIF_F_HW_TLS_RX)

/* Flips two bytes at the end of a TLS segment's payload: the record they
 * belong to no longer authenticates.  The TCP checksum is kept right, as a
 * peer sending a bad record would keep it. */
static void nicsim_corrupt(struct nicsim_priv *priv, struct sk_buff *skb,
			   bool *knob)
{
	unsigned int thoff = skb_transport_offset(skb);
	unsigned int off = thoff + tcp_hdrlen(skb);
	__be16 old, new;

	if (skb->len < off + 32 || skb_ensure_writable(skb, skb->len))
		return;
	/* a 16-bit word of the checksum: even from the TCP header */
	off = thoff + ((skb->len - thoff - 2) & ~1U);
	if (skb_copy_bits(skb, off, &old, sizeof(old)))
		return;
	new = old ^ htons(0x5a5a);
	if (skb_store_bits(skb, off, &new, sizeof(new)))
		return;
	inet_proto_csum_replace2(&tcp_hdr(skb)->check, skb, old, new, false);
	WRITE_ONCE(*knob, false);
	nicsim_count(priv, NICSIM_TX_CORRUPTED);
}

/* A segment of a TCP socket of this machine (a userspace TLS peer's) */
static bool nicsim_is_tcp(const struct sk_buff *skb)
{
	return skb->sk && sk_fullsock(skb->sk) &&
	       skb->sk->sk_protocol == IPPROTO_TCP &&
	       skb_transport_header_was_set(skb);
}

static bool nicsim_chance(u32 permille)
{
	return permille && get_random_u32_below(1000) < permille;
}

/* The far end of the wire: the peer receives what dev sent. */
static void nicsim_deliver(struct net_device *dev, struct net_device *peer,
			   struct sk_buff *skb)
{
	struct nicsim_priv *ppriv = netdev_priv(peer);
	unsigned int len = skb->len;

	nicsim_skb_set_decrypted(skb, false);
	if (__dev_forward_skb(peer, skb) != NET_RX_SUCCESS) {
		atomic64_inc(&ppriv->drops);
		return;
	}
	if (peer->features & NETIF_F_HW_TLS_RX)
		nicsim_rx_offload(peer, skb);
	if (netif_rx(skb) == NET_RX_SUCCESS) {
		atomic64_inc(&ppriv->rx_packets);
		atomic64_add(len, &ppriv->rx_bytes);
	} else {
		atomic64_inc(&ppriv->drops);
	}
}

static netdev_tx_t nicsim_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	struct sk_buff *held = NULL;
	struct net_device *peer;
	bool tls = false, payload = false;

	rcu_read_lock();
	peer = rcu_dereference(priv->peer);
	if (!peer || !(peer->flags & IFF_UP)) {
		kfree_skb(skb);
		atomic64_inc(&priv->drops);
		goto out;
	}

	/* offloaded to us: the core hands it over in plaintext (a segment
	 * routed out of another device was encrypted by the core already) */
	if (nicsim_skb_tx_offloaded(skb) &&
	    rcu_dereference_bh(tls_get_ctx(skb->sk)->netdev) == dev) {
		/* what the NIC puts on the wire: the fallback finds the
		 * record (and its sequence number) by the TCP sequence, so
		 * retransmissions come out as they went out the first time */
		u64 t0 = ktime_get_ns();

		skb = tls_encrypt_skb(skb);
		atomic64_add(ktime_get_ns() - t0,
			     &priv->counters[NICSIM_TX_ENCRYPT_NS]);
		if (!skb) {
			nicsim_count(priv, NICSIM_TX_ENCRYPT_FAIL);
			atomic64_inc(&priv->drops);
			goto out;
		}
		nicsim_count(priv, NICSIM_TX_SEGS_ENCRYPTED);
		tls = true;
		/* records in it, not a bare ACK or FIN of the connection */
		payload = skb->len > skb_transport_offset(skb) + tcp_hdrlen(skb);
	}

	atomic64_inc(&priv->tx_packets);
	atomic64_add(skb->len, &priv->tx_bytes);
	/* dropped before it is corrupted: a one-shot corruption is not lost
	 * with a dropped packet */
	if (nicsim_chance(READ_ONCE(priv->drop_permille)) ||
	    (payload && atomic_add_unless(&priv->drop_next_encrypted, -1, 0))) {
		nicsim_count(priv, NICSIM_TX_DROPPED);
		kfree_skb(skb);
		goto out;
	}
	if (tls && READ_ONCE(priv->corrupt_next_record))
		nicsim_corrupt(priv, skb, &priv->corrupt_next_record);
	else if (READ_ONCE(priv->corrupt_next_segment) && nicsim_is_tcp(skb))
		nicsim_corrupt(priv, skb, &priv->corrupt_next_segment);

	spin_lock(&priv->lock);
	if (!priv->held && nicsim_chance(READ_ONCE(priv->reorder_permille))) {
		/* on the wire now: the sender's socket, route and conntrack
		 * entry (each pinning its network namespace) let go of it */
		skb_orphan(skb);
		skb_dst_drop(skb);
		nf_reset_ct(skb);
		/* sent after the next packet, or alone a little later */
		priv->held = skb;
		skb = NULL;
		schedule_delayed_work(&priv->flush, NICSIM_HOLD_JIFFIES);
		nicsim_count(priv, NICSIM_TX_REORDERED);
	} else {
		held = priv->held;
		priv->held = NULL;
	}
	spin_unlock(&priv->lock);

	if (skb)
		nicsim_deliver(dev, peer, skb);
	if (held)
		nicsim_deliver(dev, peer, held);
out:
	rcu_read_unlock();
	return NETDEV_TX_OK;
}

/* No packet came after the held one: it goes alone. */
static void nicsim_flush_held(struct work_struct *work)
{
	struct nicsim_priv *priv = container_of(to_delayed_work(work),
						struct nicsim_priv, flush);
	struct net_device *peer;
	struct sk_buff *held;

	/* the context transmit and receive run in */
	local_bh_disable();
	rcu_read_lock();
	spin_lock(&priv->lock);
	held = priv->held;
	priv->held = NULL;
	spin_unlock(&priv->lock);
	peer = rcu_dereference(priv->peer);
	if (held && peer && (peer->flags & IFF_UP)) {
		nicsim_deliver(priv->dev, peer, held);
	} else if (held) {
		kfree_skb(held);
		atomic64_inc(&priv->drops);
	}
	rcu_read_unlock();
	local_bh_enable();
}

/* Device down or going: the held packet is lost, as on a cable pulled. */
static void nicsim_drop_held(struct nicsim_priv *priv)
{
	struct sk_buff *held;

	cancel_delayed_work_sync(&priv->flush);
	spin_lock_bh(&priv->lock);
	held = priv->held;
	priv->held = NULL;
	spin_unlock_bh(&priv->lock);
	kfree_skb(held);
}

static int nicsim_open(struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(priv->peer);

	if (!peer)
		return -ENOTCONN;
	if (peer->flags & IFF_UP) {
		netif_carrier_on(dev);
		netif_carrier_on(peer);
	}
	return 0;
}

static int nicsim_stop(struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(priv->peer);

	netif_carrier_off(dev);
	if (peer)
		netif_carrier_off(peer);
	nicsim_drop_held(priv);
	return 0;
}

static void nicsim_uninit(struct net_device *dev)
{
	nicsim_drop_held(netdev_priv(dev));
}

static void nicsim_get_stats64(struct net_device *dev,
			       struct rtnl_link_stats64 *s)
{
	struct nicsim_priv *priv = netdev_priv(dev);

	s->tx_packets = atomic64_read(&priv->tx_packets);
	s->tx_bytes = atomic64_read(&priv->tx_bytes);
	s->rx_packets = atomic64_read(&priv->rx_packets);
	s->rx_bytes = atomic64_read(&priv->rx_bytes);
	s->rx_dropped = atomic64_read(&priv->drops);
}

static struct net_device *nicsim_get_iflink_peer(const struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);

	return rcu_dereference(priv->peer);
}

static int nicsim_get_iflink(const struct net_device *dev)
{
	struct net_device *peer;
	int iflink;

	rcu_read_lock();
	peer = nicsim_get_iflink_peer(dev);
	iflink = peer ? peer->ifindex : 0;
	rcu_read_unlock();
	return iflink;
}

static const struct net_device_ops nicsim_netdev_ops = {
	.ndo_uninit		= nicsim_uninit,
	.ndo_open		= nicsim_open,
	.ndo_stop		= nicsim_stop,
	.ndo_start_xmit		= nicsim_xmit,
	.ndo_get_stats64	= nicsim_get_stats64,
	.ndo_get_iflink		= nicsim_get_iflink,
	.ndo_set_mac_address	= eth_mac_addr,
};

static void nicsim_get_drvinfo(struct net_device *dev,
			       struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
}

static int nicsim_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? __NICSIM_COUNTER_MAX : -EOPNOTSUPP;
}

static void nicsim_get_strings(struct net_device *dev, u32 sset, u8 *buf)
{
	int i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < __NICSIM_COUNTER_MAX; i++)
		strscpy(buf + i * ETH_GSTRING_LEN, nicsim_counter_names[i],
			ETH_GSTRING_LEN);
}

static void nicsim_get_ethtool_stats(struct net_device *dev,
				     struct ethtool_stats *stats, u64 *data)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	int i;

	for (i = 0; i < __NICSIM_COUNTER_MAX; i++)
		data[i] = atomic64_read(&priv->counters[i]);
}

static const struct ethtool_ops nicsim_ethtool_ops = {
	.get_drvinfo		= nicsim_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= nicsim_get_sset_count,
	.get_strings		= nicsim_get_strings,
	.get_ethtool_stats	= nicsim_get_ethtool_stats,
};

static void nicsim_setup(struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);

	ether_setup(dev);
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE | IFF_NO_QUEUE;
	dev->netdev_ops = &nicsim_netdev_ops;
	dev->ethtool_ops = &nicsim_ethtool_ops;
	dev->tlsdev_ops = &nicsim_tlsdev_ops;
	dev->features |= NICSIM_FEATURES;
	nicsim_set_lltx(dev);
	dev->hw_features = NICSIM_FEATURES;
	dev->hw_enc_features = NICSIM_FEATURES & ~(NETIF_F_HW_TLS_TX |
						   NETIF_F_HW_TLS_RX);
	dev->needs_free_netdev = true;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;

	/* the knobs, /sys/class/net/<dev>/ktls_nicsim/ */
	dev->sysfs_groups[0] = &nicsim_knobs_group;

	priv->dev = dev;
	spin_lock_init(&priv->lock);
	INIT_DELAYED_WORK(&priv->flush, nicsim_flush_held);
	INIT_LIST_HEAD(&priv->rx_ctxs);
}

static struct rtnl_link_ops nicsim_link_ops;

static int nicsim_newlink(KTLS_NEWLINK_ARGS)
{
	struct net *src_net = KTLS_NEWLINK_SRC_NET;
	struct nlattr **tb = KTLS_NEWLINK_TB;
	char name[IFNAMSIZ];
	struct net_device *peer;
	int err;

	/*
	 * A test device, for the machine's administrator only: it opens
	 * device-offload code to whoever drives it.  rtnetlink has checked
	 * that the socket's opener has CAP_NET_ADMIN over the namespaces
	 * involved; namespaces owned by the initial user namespace make that
	 * the real thing.  The writer of the message must have it too (an
	 * opener may hand its socket to a privileged writer).
	 */
	if (src_net->user_ns != &init_user_ns ||
	    dev_net(dev)->user_ns != &init_user_ns || !capable(CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack, "ktls_nicsim devices need CAP_NET_ADMIN in the initial user namespace");
		return -EPERM;
	}
	if (!tb[IFLA_IFNAME]) {
		NL_SET_ERR_MSG(extack, "ktls_nicsim needs a name (the peer is NAMEp)");
		return -EINVAL;
	}
	if (snprintf(name, sizeof(name), "%sp", dev->name) >= sizeof(name)) {
		NL_SET_ERR_MSG(extack, "name too long for its peer's NAMEp");
		return -ENAMETOOLONG;
	}
	peer = alloc_netdev(sizeof(struct nicsim_priv), name, NET_NAME_USER,
			    nicsim_setup);
	if (!peer)
		return -ENOMEM;
	dev_net_set(peer, src_net);
	peer->rtnl_link_ops = &nicsim_link_ops;
	eth_hw_addr_random(peer);
	err = register_netdevice(peer);
	if (err) {
		free_netdev(peer);
		return err;
	}
	netif_carrier_off(peer);

	if (!tb[IFLA_ADDRESS])
		eth_hw_addr_random(dev);
	err = register_netdevice(dev);
	if (err) {
		unregister_netdevice(peer);
		return err;
	}
	netif_carrier_off(dev);

	rcu_assign_pointer(((struct nicsim_priv *)netdev_priv(dev))->peer, peer);
	rcu_assign_pointer(((struct nicsim_priv *)netdev_priv(peer))->peer, dev);
	return 0;
}

static void nicsim_dellink(struct net_device *dev, struct list_head *head)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(priv->peer);

	unregister_netdevice_queue(dev, head);
	RCU_INIT_POINTER(priv->peer, NULL);
	if (peer) {
		RCU_INIT_POINTER(((struct nicsim_priv *)netdev_priv(peer))->peer,
				 NULL);
		unregister_netdevice_queue(peer, head);
	}
}

static struct net *nicsim_get_link_net(const struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(priv->peer);

	return peer ? dev_net(peer) : dev_net(dev);
}

static struct rtnl_link_ops nicsim_link_ops = {
	.kind		= "ktls_nicsim",
	.priv_size	= sizeof(struct nicsim_priv),
	.setup		= nicsim_setup,
	.newlink	= nicsim_newlink,
	.dellink	= nicsim_dellink,
	.get_link_net	= nicsim_get_link_net,
};

static int __init nicsim_mod_init(void)
{
	return rtnl_link_register(&nicsim_link_ops);
}

static void __exit nicsim_mod_exit(void)
{
	rtnl_link_unregister(&nicsim_link_ops);
}

module_init(nicsim_mod_init);
module_exit(nicsim_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated NIC with TLS 1.2 AES-GCM offload, for testing kTLS device offload");
/* No MODULE_ALIAS_RTNL_LINK: "ip link add ... type ktls_nicsim" by anyone
 * would load it; the administrator loads it (modprobe/insmod). */
