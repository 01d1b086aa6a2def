// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/attr.h>

#include <ktls-offload/version.h>
#include <linux/ktls_offload.h>

#include "genl.h"
#include "ktlsctl.h"

struct module_version {
	char release[64];
	unsigned int protocol;
};

static struct nla_policy version_policy[KTLS_OFFLOAD_A_VERSION_MAX + 1] = {
	[KTLS_OFFLOAD_A_VERSION_MODULE]   = { .type = NLA_STRING },
	[KTLS_OFFLOAD_A_VERSION_PROTOCOL] = { .type = NLA_U32 },
};

static int parse_version(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	struct module_version *v = arg;

	if (!attrs[KTLS_OFFLOAD_A_VERSION_MODULE] ||
	    !attrs[KTLS_OFFLOAD_A_VERSION_PROTOCOL])
		return -EBADMSG;
	nla_strlcpy(v->release, attrs[KTLS_OFFLOAD_A_VERSION_MODULE],
		    sizeof(v->release));
	v->protocol = nla_get_u32(attrs[KTLS_OFFLOAD_A_VERSION_PROTOCOL]);
	return 0;
}

int ktlsctl_version(int argc, char **argv)
{
	struct module_version v = { .release = "" };
	struct ktls_genl g;
	struct nl_msg *msg;
	int ret;

	if (argc > 1) {
		fprintf(stderr, "%s: '%s' takes no arguments\n", ktlsctl_prog, argv[0]);
		return 2;
	}
	printf("ktlsctl %s (protocol %d)\n", KTLS_OFFLOAD_VERSION,
	       KTLS_OFFLOAD_FAMILY_VERSION);

	ret = ktls_genl_open(&g);
	if (ret == -ENOENT) {
		fprintf(stderr, "%s: the ktls_offload module is not loaded "
			"(no generic netlink family \"%s\")\n",
			ktlsctl_prog, KTLS_OFFLOAD_FAMILY_NAME);
		return 1;
	}
	if (ret < 0) {
		fprintf(stderr, "%s: cannot open generic netlink: %s\n",
			ktlsctl_prog, strerror(-ret));
		return 1;
	}

	msg = ktls_genl_msg(&g, KTLS_OFFLOAD_CMD_GET_VERSION, 0);
	ret = msg ? ktls_genl_call(&g, msg, KTLS_OFFLOAD_A_VERSION_MAX,
				   version_policy, parse_version, &v) : -ENOMEM;
	ktls_genl_close(&g);
	if (ret == 0 && !v.release[0])
		ret = -EBADMSG;
	if (ret < 0) {
		fprintf(stderr, "%s: version request failed: %s\n",
			ktlsctl_prog, strerror(-ret));
		return 1;
	}
	printf("module %s (protocol %u)\n", v.release, v.protocol);
	if (v.protocol != KTLS_OFFLOAD_FAMILY_VERSION) {
		fprintf(stderr, "%s: module speaks protocol %u, this tool %d\n",
			ktlsctl_prog, v.protocol, KTLS_OFFLOAD_FAMILY_VERSION);
		return 1;
	}
	return 0;
}
