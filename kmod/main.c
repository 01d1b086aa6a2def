// SPDX-License-Identifier: GPL-2.0
/*
 * ktls_offload: hands TCP sockets to a userspace TLS agent and back, with
 * kernel TLS installed.  Module entry points and parameters only.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/genetlink.h>

#include <linux/ktls_offload.h>
#include <ktls-offload/version.h>

#include "listen.h"
#include "netlink.h"
#include "rekey.h"
#include "request.h"

module_param_named(max_pending, ktls_max_pending, uint, 0644);
MODULE_PARM_DESC(max_pending, "Live requests allowed per network namespace");
module_param_named(max_pending_per_uid, ktls_max_pending_per_uid, uint, 0644);
MODULE_PARM_DESC(max_pending_per_uid, "Live requests allowed per user and namespace");
module_param_named(default_timeout_ms, ktls_default_timeout_ms, uint, 0644);
MODULE_PARM_DESC(default_timeout_ms, "Handshake timeout when SUBMIT gives none");
module_param_named(listen_max_inflight, ktls_listen_max_inflight, uint, 0644);
MODULE_PARM_DESC(listen_max_inflight,
		 "Handshakes in flight plus connections ready, per attached listener, when ATTACH gives no bound");
module_param_named(listen_max_hello, ktls_listen_max_hello, uint, 0644);
MODULE_PARM_DESC(listen_max_hello,
		 "Connections per attached listener waiting for their first byte or for an agent; the oldest is closed when full");
module_param_named(listen_hello_timeout_ms, ktls_listen_hello_timeout_ms, uint, 0644);
MODULE_PARM_DESC(listen_hello_timeout_ms,
		 "How long a listener connection may wait for its first byte");
module_param_named(listen_max_per_net, ktls_listen_max_per_net, uint, 0644);
MODULE_PARM_DESC(listen_max_per_net, "Attached listeners allowed per network namespace");

static int __init ktls_mod_init(void)
{
	int ret;

	ret = ktls_req_init();
	if (ret < 0)
		goto err_req;
	ret = ktls_listen_init();
	if (ret < 0)
		goto err_listen;
	ret = ktls_genl_init();
	if (ret < 0)
		goto err_genl;

	pr_info("version %s loaded\n", KTLS_OFFLOAD_VERSION);
	return 0;

err_genl:
	ktls_listen_shutdown();
	ktls_listen_uninit();
err_listen:
	ktls_req_uninit();
err_req:
	return ret;
}

static void __exit ktls_mod_exit(void)
{
	/* No listener is attached (each holds the module): stop taking
	 * new ones, then end every request before the family goes. */
	ktls_listen_shutdown();
	ktls_req_shutdown();
	ktls_genl_uninit();
	ktls_listen_uninit();
	ktls_req_uninit();
	ktls_rekey_uninit();
	pr_debug("unloaded\n");
}

module_init(ktls_mod_init);
module_exit(ktls_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kernel TLS handoff between TCP sockets and a TLS agent");
MODULE_VERSION(KTLS_OFFLOAD_VERSION);
MODULE_ALIAS_GENL_FAMILY(KTLS_OFFLOAD_FAMILY_NAME);
