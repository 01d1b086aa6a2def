// SPDX-License-Identifier: GPL-2.0
/*
 * The knobs, in sysfs beside the device's own attributes, so that they follow
 * the device through renames and network namespaces:
 *   /sys/class/net/<dev>/ktls_nicsim/
 *     refuse_add           1: tls_dev_add fails, the kernel stays in software
 *     drop_permille        packets dropped on transmit, per thousand (0-1000)
 *     reorder_permille     packets sent after the next one, per thousand
 *     drop_next_encrypted  N (0-1000): the next N segments with payload
 *                          (not bare ACKs) the device encrypts are dropped
 *                          after encryption, so that
 *                          a test knows losses happened (the kernel must
 *                          have them encrypted again when TCP retransmits)
 *     corrupt_next_record  1: the next TLS segment sent leaves with a byte of
 *                          its payload flipped (then the knob goes back to 0)
 *     corrupt_next_segment 1: the same for the next TCP segment of at least 32
 *                          bytes of payload, offloaded or not (a userspace
 *                          TLS peer's records)
 * Writing needs CAP_NET_ADMIN over the device's network namespace, as the
 * device's other attributes do.  The counters are ethtool -S <dev>.
 */
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/sysfs.h>
#include <net/net_namespace.h>

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
	[NICSIM_RX_BAD_CSUM]		= "rx_bad_csum",
	[NICSIM_TLS_DEV_ADD_TX]		= "tls_dev_add_tx",
	[NICSIM_TLS_DEV_ADD_RX]		= "tls_dev_add_rx",
	[NICSIM_TLS_DEV_ADD_REFUSED]	= "tls_dev_add_refused",
	[NICSIM_TLS_DEV_DEL_TX]		= "tls_dev_del_tx",
	[NICSIM_TLS_DEV_DEL_RX]		= "tls_dev_del_rx",
	[NICSIM_RX_CTX_ACTIVE]		= "rx_ctx_active",
	[NICSIM_TX_CTX_ACTIVE]		= "tx_ctx_active",
	[NICSIM_TX_ENCRYPT_NS]		= "tx_encrypt_ns",
	[NICSIM_RX_DECRYPT_NS]		= "rx_decrypt_ns",
};

static struct nicsim_priv *nicsim_knob_priv(struct device *d)
{
	return netdev_priv(to_net_dev(d));
}

static int nicsim_knob_may_write(struct device *d)
{
	struct net_device *dev = to_net_dev(d);

	return ns_capable(dev_net(dev)->user_ns, CAP_NET_ADMIN) ? 0 : -EPERM;
}

static ssize_t nicsim_bool_store(struct device *d, const char *buf,
				 size_t len, bool *knob)
{
	bool v;
	int err;

	err = nicsim_knob_may_write(d) ?: kstrtobool(buf, &v);
	if (err)
		return err;
	WRITE_ONCE(*knob, v);
	return len;
}

/* A number from 0 to 1000 written by someone who may */
static int nicsim_knob_u32(struct device *d, const char *buf, u32 *v)
{
	int err = nicsim_knob_may_write(d) ?: kstrtou32(buf, 10, v);

	if (!err && *v > 1000)
		err = -ERANGE;
	return err;
}

static ssize_t nicsim_permille_store(struct device *d, const char *buf,
				     size_t len, u32 *knob)
{
	u32 v;
	int err = nicsim_knob_u32(d, buf, &v);

	if (err)
		return err;
	WRITE_ONCE(*knob, v);
	return len;
}

#define NICSIM_KNOB(name, kind, fmt)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, fmt "\n",				\
			  READ_ONCE(nicsim_knob_priv(d)->name));	\
}									\
static ssize_t name##_store(struct device *d,				\
			    struct device_attribute *attr,		\
			    const char *buf, size_t len)		\
{									\
	return nicsim_##kind##_store(d, buf, len,			\
				     &nicsim_knob_priv(d)->name);	\
}									\
static DEVICE_ATTR_RW(name)

static ssize_t drop_next_encrypted_show(struct device *d,
					struct device_attribute *attr,
					char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  atomic_read(&nicsim_knob_priv(d)->drop_next_encrypted));
}

static ssize_t drop_next_encrypted_store(struct device *d,
					 struct device_attribute *attr,
					 const char *buf, size_t len)
{
	u32 v;
	int err = nicsim_knob_u32(d, buf, &v);

	if (err)
		return err;
	atomic_set(&nicsim_knob_priv(d)->drop_next_encrypted, v);
	return len;
}
static DEVICE_ATTR_RW(drop_next_encrypted);

NICSIM_KNOB(refuse_add, bool, "%d");
NICSIM_KNOB(corrupt_next_record, bool, "%d");
NICSIM_KNOB(corrupt_next_segment, bool, "%d");
NICSIM_KNOB(drop_permille, permille, "%u");
NICSIM_KNOB(reorder_permille, permille, "%u");

static struct attribute *nicsim_knob_attrs[] = {
	&dev_attr_refuse_add.attr,
	&dev_attr_corrupt_next_record.attr,
	&dev_attr_corrupt_next_segment.attr,
	&dev_attr_drop_permille.attr,
	&dev_attr_reorder_permille.attr,
	&dev_attr_drop_next_encrypted.attr,
	NULL
};

const struct attribute_group nicsim_knobs_group = {
	.name	= "ktls_nicsim",
	.attrs	= nicsim_knob_attrs,
};
