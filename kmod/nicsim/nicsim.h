/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktls_nicsim: pairs of virtual Ethernet devices that behave like a NIC with
 * TLS 1.2 AES-GCM offload (NETIF_F_HW_TLS_TX/RX), for testing kernel TLS
 * device offload without the hardware.
 *
 * "ip link add NAME type ktls_nicsim" creates NAME and its peer NAMEp; what
 * one transmits the other receives (like veth).  Transmitting is putting the
 * packet on the wire: segments of TX-offloaded sockets are encrypted there.
 * Receiving is the NIC's RX engine: segments of RX-offloaded sockets are
 * decrypted in place (AES-CTR carried across segments, GHASH checked at the
 * end of each record) and marked skb->decrypted.  Knobs are in
 * /sys/class/net/<dev>/ktls_nicsim/ (knobs.c), counters in ethtool -S <dev>.
 *
 * Only CAP_NET_ADMIN in the initial user namespace creates devices: they are
 * for tests, and reach device-offload code paths that no unprivileged user
 * reaches without hardware.
 */
#ifndef _KTLS_NICSIM_H
#define _KTLS_NICSIM_H

#include <linux/atomic.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

enum nicsim_counter {
	NICSIM_TX_SEGS_ENCRYPTED,	/* segments encrypted on the wire */
	NICSIM_TX_ENCRYPT_FAIL,		/* segments the fallback could not encrypt */
	NICSIM_TX_DROPPED,		/* dropped by drop_permille or
					 * drop_next_encrypted */
	NICSIM_TX_REORDERED,		/* held back by reorder_permille */
	NICSIM_TX_CORRUPTED,		/* corrupt_next_record done */
	NICSIM_RX_SEGS_DECRYPTED,	/* segments handed up decrypted */
	NICSIM_RX_SEGS_ENCRYPTED,	/* segments of offloaded flows left as is */
	NICSIM_RX_RECORDS_DECRYPTED,	/* records whose tag checked out */
	NICSIM_RX_TAG_FAILURES,		/* records whose tag did not */
	NICSIM_RX_OUT_OF_SYNC,		/* times the RX engine lost the stream */
	NICSIM_RX_RESYNCS,		/* tls_dev_resync calls for RX */
	NICSIM_RX_BAD_CSUM,		/* TCP checksum wrong: left as it came */
	NICSIM_TLS_DEV_ADD_TX,
	NICSIM_TLS_DEV_ADD_RX,
	NICSIM_TLS_DEV_ADD_REFUSED,
	NICSIM_TLS_DEV_DEL_TX,
	NICSIM_TLS_DEV_DEL_RX,
	NICSIM_RX_CTX_ACTIVE,		/* RX contexts alive now */
	NICSIM_TX_CTX_ACTIVE,		/* TX contexts alive now */
	NICSIM_TX_ENCRYPT_NS,		/* time spent encrypting, what a NIC */
	NICSIM_RX_DECRYPT_NS,		/* would take off the host CPU */
	__NICSIM_COUNTER_MAX
};

struct nicsim_priv {
	struct net_device __rcu *peer;
	struct net_device *dev;

	/* knobs (knobs.c) */
	bool refuse_add;
	bool corrupt_next_record;
	bool corrupt_next_segment;
	u32 drop_permille;
	u32 reorder_permille;
	atomic_t drop_next_encrypted;	/* segments it encrypted, to drop */

	spinlock_t lock;		/* protects held and rx_ctxs (writers) */
	struct sk_buff *held;		/* the packet reorder holds back */
	struct delayed_work flush;	/* sends it if no next packet comes */
	struct list_head rx_ctxs;	/* struct nicsim_rx, RCU for readers */

	atomic64_t counters[__NICSIM_COUNTER_MAX];
	atomic64_t tx_packets, tx_bytes, rx_packets, rx_bytes, drops;
};

static inline void nicsim_count(struct nicsim_priv *priv, enum nicsim_counter c)
{
	atomic64_inc(&priv->counters[c]);
}

extern const char *const nicsim_counter_names[__NICSIM_COUNTER_MAX];
extern const struct tlsdev_ops nicsim_tlsdev_ops;
extern const struct attribute_group nicsim_knobs_group;

/* offload.c: the RX engine, run on a packet arriving at dev */
void nicsim_rx_offload(struct net_device *dev, struct sk_buff *skb);

#endif /* _KTLS_NICSIM_H */
