// SPDX-License-Identifier: GPL-2.0
/*
 * ktls_offload: hands TCP sockets to a userspace TLS agent and back, with
 * kernel TLS installed.  Module entry points only.
 */

#include <linux/module.h>
#include <linux/kernel.h>
#include <net/genetlink.h>

#include <linux/ktls_offload.h>
#include <ktls-offload/version.h>

#include "netlink.h"

static int __init ktls_mod_init(void)
{
	int ret;

	ret = ktls_genl_init();
	if (ret < 0)
		goto err_genl;

	pr_info("version %s loaded\n", KTLS_OFFLOAD_VERSION);
	return 0;

err_genl:
	return ret;
}

static void __exit ktls_mod_exit(void)
{
	ktls_genl_uninit();
	pr_debug("unloaded\n");
}

module_init(ktls_mod_init);
module_exit(ktls_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kernel TLS handoff between TCP sockets and a TLS agent");
MODULE_VERSION(KTLS_OFFLOAD_VERSION);
MODULE_ALIAS_GENL_FAMILY(KTLS_OFFLOAD_FAMILY_NAME);
