// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "ktls_offload": policies and command handlers.
 * The protocol itself is documented in include/uapi/linux/ktls_offload.h.
 */

#include <linux/kernel.h>
#include <net/genetlink.h>

#include <linux/ktls_offload.h>
#include <ktls-offload/version.h>

#include "netlink.h"

static struct genl_family ktls_genl_family;

static int ktls_nl_get_version_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(sizeof(KTLS_OFFLOAD_VERSION)) +
			  nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &ktls_genl_family, 0,
				KTLS_OFFLOAD_CMD_GET_VERSION);
	if (!hdr)
		goto err_free;

	if (nla_put_string(msg, KTLS_OFFLOAD_A_VERSION_MODULE,
			   KTLS_OFFLOAD_VERSION) ||
	    nla_put_u32(msg, KTLS_OFFLOAD_A_VERSION_PROTOCOL,
			KTLS_OFFLOAD_FAMILY_VERSION))
		goto err_cancel;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_cancel:
	genlmsg_cancel(msg, hdr);
err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* GET_VERSION takes no attributes; an empty policy makes the core reject any. */
static const struct nla_policy ktls_nl_get_version_policy[KTLS_OFFLOAD_A_VERSION_MAX + 1] = {
};

static const struct genl_ops ktls_genl_ops[] = {
	{
		.cmd	= KTLS_OFFLOAD_CMD_GET_VERSION,
		.doit	= ktls_nl_get_version_doit,
		.policy	= ktls_nl_get_version_policy,
		.maxattr = KTLS_OFFLOAD_A_VERSION_MAX,
	},
};

static struct genl_family ktls_genl_family __ro_after_init = {
	.name		= KTLS_OFFLOAD_FAMILY_NAME,
	.version	= KTLS_OFFLOAD_FAMILY_VERSION,
	.module		= THIS_MODULE,
	.netnsok	= true,
	.ops		= ktls_genl_ops,
	.n_ops		= ARRAY_SIZE(ktls_genl_ops),
};

/**
 * ktls_genl_init - register the ktls_offload generic netlink family
 *
 * Return: 0 on success, or a negative errno from genl_register_family().
 */
int __init ktls_genl_init(void)
{
	return genl_register_family(&ktls_genl_family);
}

/**
 * ktls_genl_uninit - unregister the family; no handler runs after return
 */
void ktls_genl_uninit(void)
{
	genl_unregister_family(&ktls_genl_family);
}
