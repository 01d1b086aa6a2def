// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/ktls_nicsim/<dev>/: the knobs
 *   refuse_add           Y: tls_dev_add fails, the kernel stays in software
 *   drop_permille        packets dropped on transmit, per thousand
 *   reorder_permille     packets sent after the next one, per thousand
 *   corrupt_next_record  Y: the next TLS segment sent leaves with its last
 *                        byte flipped (then the knob goes back to N)
 * and the counters (also ethtool -S <dev>).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "nicsim.h"

const char *const nicsim_counter_names[__NICSIM_COUNTER_MAX] = {
	[NICSIM_TX_SEGS_ENCRYPTED]	= "tx_segs_encrypted",
	[NICSIM_TX_ENCRYPT_FAIL]	= "tx_encrypt_fail",
	[NICSIM_TX_DROPPED]		= "tx_dropped",
	[NICSIM_TX_REORDERED]		= "tx_reordered",
	[NICSIM_TX_CORRUPTED]		= "tx_corrupted",
	[NICSIM_RX_SEGS_DECRYPTED]	= "rx_segs_decrypted",
	[NICSIM_RX_SEGS_ENCRYPTED]	= "rx_segs_encrypted",
	[NICSIM_RX_RECORDS_DECRYPTED]	= "rx_records_decrypted",
	[NICSIM_RX_TAG_FAILURES]	= "rx_tag_failures",
	[NICSIM_RX_OUT_OF_SYNC]		= "rx_out_of_sync",
	[NICSIM_RX_RESYNCS]		= "rx_resyncs",
	[NICSIM_TLS_DEV_ADD_TX]		= "tls_dev_add_tx",
	[NICSIM_TLS_DEV_ADD_RX]		= "tls_dev_add_rx",
	[NICSIM_TLS_DEV_ADD_REFUSED]	= "tls_dev_add_refused",
	[NICSIM_TLS_DEV_DEL_TX]		= "tls_dev_del_tx",
	[NICSIM_TLS_DEV_DEL_RX]		= "tls_dev_del_rx",
	[NICSIM_RX_CTX_ACTIVE]		= "rx_ctx_active",
	[NICSIM_TX_CTX_ACTIVE]		= "tx_ctx_active",
};

static struct dentry *nicsim_debugfs_root;

static int nicsim_counters_show(struct seq_file *m, void *v)
{
	struct nicsim_priv *priv = m->private;
	int i;

	for (i = 0; i < __NICSIM_COUNTER_MAX; i++)
		seq_printf(m, "%s %lld\n", nicsim_counter_names[i],
			   (long long)atomic64_read(&priv->counters[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nicsim_counters);

void nicsim_debugfs_add(struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	struct dentry *d;

	/* a name taken in another namespace: the device goes without */
	d = debugfs_create_dir(dev->name, nicsim_debugfs_root);
	if (IS_ERR(d)) {
		priv->debugfs = NULL;
		return;
	}
	priv->debugfs = d;
	debugfs_create_bool("refuse_add", 0600, d, &priv->refuse_add);
	debugfs_create_bool("corrupt_next_record", 0600, d,
			    &priv->corrupt_next_record);
	debugfs_create_u32("drop_permille", 0600, d, &priv->drop_permille);
	debugfs_create_u32("reorder_permille", 0600, d,
			   &priv->reorder_permille);
	debugfs_create_file("counters", 0400, d, priv, &nicsim_counters_fops);
}

void nicsim_debugfs_del(struct net_device *dev)
{
	struct nicsim_priv *priv = netdev_priv(dev);

	debugfs_remove_recursive(priv->debugfs);
	priv->debugfs = NULL;
}

int nicsim_debugfs_init(void)
{
	nicsim_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	return 0;
}

void nicsim_debugfs_exit(void)
{
	debugfs_remove_recursive(nicsim_debugfs_root);
}
